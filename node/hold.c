/*
 * Records held for their time: a sorted array by id, small by design.
 */
#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "hold.h"
#include "kith.h"
#include "record.h"

struct held {
	uint8_t id[KITH_ID_LEN];
	uint64_t hlc;
	struct record *rec;	/* NULL: its bytes were not kept */
	size_t bytes;
};

struct hold {
	struct held *v;		/* by id */
	size_t n;
	size_t bytes;
};

struct hold *
hold_new(void)
{
	struct hold *h;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->v = calloc(HOLD_IDS_MAX, sizeof(*h->v))) == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

/* The index of ${id} in ${h}, or where it would go; ${*found} says which. */
static size_t
find(const struct hold *h, const uint8_t *id, int *found)
{
	size_t lo = 0, hi = h->n, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = memcmp(h->v[mid].id, id, KITH_ID_LEN)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
hold_add(struct hold *h, struct record **rec)
{
	struct held *e;
	size_t i, len, blen = 0;
	int found;

	i = find(h, record_id(*rec), &found);
	if (found || h->n == HOLD_IDS_MAX)
		return 0;
	memmove(&h->v[i + 1], &h->v[i], (h->n - i) * sizeof(*h->v));
	h->n++;
	e = &h->v[i];
	memcpy(e->id, record_id(*rec), KITH_ID_LEN);
	e->hlc = record_header(*rec)->hlc;
	(void)record_signed(*rec, &len);
	(void)record_body(*rec, &blen);
	e->bytes = len + blen;
	e->rec = NULL;
	if (h->bytes + e->bytes <= HOLD_BYTES_MAX) {
		e->rec = *rec;
		*rec = NULL;	/* taken */
		h->bytes += e->bytes;
	}
	return 1;
}

int
hold_has(const struct hold *h, const uint8_t id[KITH_ID_LEN])
{
	int found;

	if (h == NULL)
		return 0;
	(void)find(h, id, &found);
	return found;
}

int
hold_due(struct hold *h, uint64_t wall_ms, struct record ***out, size_t *n)
{
	struct record **v = NULL;
	size_t i, k = 0, due = 0;

	*out = NULL;
	*n = 0;
	for (i = 0; i < h->n; i++)
		due += hlc_check(h->v[i].hlc, wall_ms) == 0 && h->v[i].rec;
	if (due > 0 && (v = calloc(due, sizeof(*v))) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i < h->n; i++) {
		struct held *e = &h->v[i];

		if (hlc_check(e->hlc, wall_ms) != 0) {
			h->v[k++] = *e;
			continue;
		}
		if (e->rec != NULL) {
			v[(*n)++] = e->rec;
			h->bytes -= e->bytes;
		}
	}
	h->n = k;
	if (*n > 0)
		*out = v;
	return 0;
}

size_t
hold_count(const struct hold *h)
{

	return h != NULL ? h->n : 0;
}

void
hold_free(struct hold *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		record_free(h->v[i].rec);
	free(h->v);
	free(h);
}
