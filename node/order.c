/*
 * A sorted array of (hlc, id): 40 bytes per record.  New records mostly
 * carry fresh timestamps, so they land at or near the end.
 */
#include <stdlib.h>
#include <string.h>

#include "kith.h"
#include "order.h"
#include "store.h"

struct order {
	struct negentropy_item *v;
	size_t n, cap;
};

struct order *
order_new(void)
{

	return calloc(1, sizeof(struct order));
}

void
order_free(struct order *o)
{

	if (o == NULL)
		return;
	free(o->v);
	free(o);
}

static int
item_cmp(const struct negentropy_item *a, uint64_t hlc, const uint8_t *id)
{

	if (a->timestamp != hlc)
		return a->timestamp < hlc ? -1 : 1;
	return memcmp(a->id, id, KITH_ID_LEN);
}

static int
reserve(struct order *o, size_t more)
{
	struct negentropy_item *nv;
	size_t cap;

	if (o->n + more <= o->cap)
		return 0;
	cap = o->cap ? o->cap : 1024;
	while (cap < o->n + more)
		cap += cap / 2 + 16;
	if ((nv = realloc(o->v, cap * sizeof(*nv))) == NULL)
		return KITH_ENOMEM;
	o->v = nv;
	o->cap = cap;
	return 0;
}

static int
qcmp(const void *pa, const void *pb)
{
	const struct negentropy_item *b = pb;

	return item_cmp(pa, b->timestamp, b->id);
}

/* Index of the first item not below (${hlc}, ${id}). */
static size_t
lower(const struct order *o, uint64_t hlc, const uint8_t *id)
{
	size_t lo = 0, hi = o->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (item_cmp(&o->v[mid], hlc, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
order_merge(struct order *o, struct negentropy_item *items, size_t k)
{
	size_t i, m = 0, p;
	size_t w;

	if (k == 0)
		return 0;
	/* Sort the newcomers; drop repeats and items held already. */
	qsort(items, k, sizeof(*items), qcmp);
	for (i = 0; i < k; i++) {
		if (m > 0 && qcmp(&items[m - 1], &items[i]) == 0)
			continue;
		p = lower(o, items[i].timestamp, items[i].id);
		if (p < o->n && qcmp(&o->v[p], &items[i]) == 0)
			continue;
		items[m++] = items[i];
	}
	if (m == 0)
		return 0;
	if (reserve(o, m) != 0)
		return KITH_ENOMEM;
	/* One pass from the back: each held item moves at most once. */
	i = o->n;
	w = o->n + m;
	o->n = w;
	while (m > 0) {
		if (i > 0 && qcmp(&o->v[i - 1], &items[m - 1]) > 0)
			o->v[--w] = o->v[--i];
		else
			o->v[--w] = items[--m];
	}
	return 0;
}

/* The scan's walk: items of the store not at ${pos} are new. */
struct refresh {
	struct order *o;
	size_t pos;
	struct negentropy_item *fresh;
	size_t nfresh, cap;
};

static int
scan_one(void *arg, uint64_t hlc, const uint8_t id[KITH_ID_LEN])
{
	struct refresh *r = arg;
	struct negentropy_item *nf;
	int c = 1;

	while (r->pos < r->o->n &&
	    (c = item_cmp(&r->o->v[r->pos], hlc, id)) < 0)
		r->pos++;	/* held here, not in the store: left alone */
	if (r->pos < r->o->n && c == 0) {
		r->pos++;
		return 0;
	}
	if (r->nfresh == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		if ((nf = realloc(r->fresh, r->cap * sizeof(*nf))) == NULL)
			return KITH_ENOMEM;
		r->fresh = nf;
	}
	r->fresh[r->nfresh].timestamp = hlc;
	memcpy(r->fresh[r->nfresh].id, id, KITH_ID_LEN);
	r->nfresh++;
	return 0;
}

int
order_refresh(struct order *o, struct store *st, order_new_fn *fn,
    void *arg)
{
	struct refresh r = { o, 0, NULL, 0, 0 };
	size_t i;
	int rc;

	if ((rc = store_order_scan(st, scan_one, &r)) != 0)
		goto out;
	if (o->n == 0 && r.nfresh > 0) {
		/* First load: the scan's items are the order. */
		o->v = r.fresh;
		o->n = o->cap = r.nfresh;
		r.fresh = NULL;
		if (fn != NULL)
			for (i = 0; i < o->n && rc == 0; i++)
				rc = fn(arg, &o->v[i]);
		goto out;
	}
	if (fn != NULL)
		for (i = 0; i < r.nfresh && rc == 0; i++)
			rc = fn(arg, &r.fresh[i]);
	if (rc == 0)
		rc = order_merge(o, r.fresh, r.nfresh);
out:
	free(r.fresh);
	return rc;
}

int
order_has(const struct order *o, uint64_t hlc, const uint8_t *id)
{
	size_t p = lower(o, hlc, id);

	return p < o->n && item_cmp(&o->v[p], hlc, id) == 0;
}

int
order_drop(struct order *o, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (memcmp(o->v[i].id, id, KITH_ID_LEN) == 0) {
			memmove(o->v + i, o->v + i + 1, (o->n - i - 1) *
			    sizeof(*o->v));
			o->n--;
			return 1;
		}
	return 0;
}

const struct negentropy_item *
order_items(const struct order *o, size_t *n)
{

	*n = o->n;
	return o->v;
}
