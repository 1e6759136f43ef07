/*
 * Negentropy protocol V1: range-based set reconciliation.  The algorithm
 * follows the reference implementation (hoytech/negentropy, cpp/): a range
 * whose fingerprints differ is split into 16 buckets, or sent as an IdList
 * when it holds fewer than 32 items.  Every incoming message is validated
 * in full before any of it is acted on.
 */
#include <stdlib.h>
#include <string.h>

#include "kcrypto.h"
#include "kith.h"
#include "negentropy.h"

#define MODE_SKIP	0
#define MODE_FP		1
#define MODE_IDLIST	2

#define BUCKETS		16	/* a differing range splits into this many */
#define IDLIST_BELOW	(2 * BUCKETS)	/* smaller ranges go as IdLists */
#define FRAME_SLACK	200	/* room kept for the closing fingerprint */
/* Most items an IdList (with a Skip and a bound before it) fits in ${l}. */
#define IDLIST_FIT(l)	(((l) - FRAME_SLACK - 100) / NEGENTROPY_ID_LEN)
/* Most bytes of one range in a bulk client's first message. */
#define BULK_RANGE_MAX	(NEGENTROPY_VARINT_MAX + 1 + NEGENTROPY_ID_LEN + 1 + \
			    NEGENTROPY_FP_LEN)

/* A growable array of bounds, in pairs: pull ranges [lo, hi). */
struct pullvec {
	struct negentropy_item *v;
	size_t n, cap;
};

struct negentropy {
	struct negentropy_source src;	/* the set, or the array below */
	const struct negentropy_item *items;	/* NULL: read through src */
	size_t n;
	size_t limit;
	size_t idlist_below;	/* smaller ranges go as IdLists */
	int bulk;		/* client: pull ranges we hold nothing in */
	int initiated;		/* 1 once negentropy_initiate ran: a client */
	int used;		/* 1 once any message was made or processed */
	struct pullvec pulls;	/* bulk ranges found, not yet taken */
};

/* A growable output buffer; the first failure sticks in ${err}. */
struct buf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

/* A growable array of ids. */
struct idvec {
	uint8_t (*v)[NEGENTROPY_ID_LEN];
	size_t n, cap;
};

/* A range bound: timestamp and an id prefix, zero-padded to 32 bytes. */
struct bound {
	uint64_t ts;
	size_t idlen;
	uint8_t id[NEGENTROPY_ID_LEN];
};

/* One decoded range; ${fp} and ${ids} point into the message. */
struct range {
	struct bound b;
	uint64_t mode;
	const uint8_t *fp;
	const uint8_t *ids;
	size_t nids;
};

/* Reading state over one message. */
struct reader {
	const uint8_t *p;
	size_t len, off;
	uint64_t last_ts;
	struct bound prev;
	int at_inf;	/* ranges read that end at infinity */
};

/*
 * The fingerprint of the empty set: the first 16 bytes of SHA-256 over 32
 * zero bytes and varint(0).  A range after the one to infinity covers no
 * items, so this is the only fingerprint it can carry.
 */
static const uint8_t empty_fp[NEGENTROPY_FP_LEN] = {
	0x7f, 0x9c, 0x9e, 0x31, 0xac, 0x82, 0x56, 0xca,
	0x2f, 0x25, 0x85, 0x83, 0xdf, 0x26, 0x2d, 0xbc,
};

static void
buf_put(struct buf *b, const void *p, size_t n)
{
	size_t cap;
	uint8_t *np;

	if (b->err != 0 || n == 0)
		return;
	if (n > b->cap - b->len) {
		cap = b->cap ? b->cap : 256;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2) {
				b->err = KITH_ENOMEM;
				return;
			}
			cap *= 2;
		}
		if ((np = realloc(b->p, cap)) == NULL) {
			b->err = KITH_ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[NEGENTROPY_VARINT_MAX];

	buf_put(b, tmp, negentropy_varint_encode(v, tmp));
}

static int
idvec_push(struct idvec *iv, const uint8_t *id)
{
	size_t cap;
	void *np;

	if (iv->n == iv->cap) {
		cap = iv->cap ? 2 * iv->cap : 16;
		if (cap > SIZE_MAX / NEGENTROPY_ID_LEN ||
		    (np = realloc(iv->v, cap * NEGENTROPY_ID_LEN)) == NULL)
			return KITH_ENOMEM;
		iv->v = np;
		iv->cap = cap;
	}
	memcpy(iv->v[iv->n++], id, NEGENTROPY_ID_LEN);
	return 0;
}

/* Record the bulk range [${lo}, ${hi}) as bounds. */
static int
pull_push(struct pullvec *pv, const struct bound *lo, const struct bound *hi)
{
	const struct bound *b[2] = { lo, hi };
	size_t cap, i;
	void *np;

	if (pv->n + 2 > pv->cap) {
		cap = pv->cap ? 2 * pv->cap : 16;
		if ((np = realloc(pv->v, cap * sizeof(*pv->v))) == NULL)
			return KITH_ENOMEM;
		pv->v = np;
		pv->cap = cap;
	}
	for (i = 0; i < 2; i++) {
		pv->v[pv->n].timestamp = b[i]->ts;
		memcpy(pv->v[pv->n].id, b[i]->id, NEGENTROPY_ID_LEN);
		pv->n++;
	}
	return 0;
}

size_t
negentropy_varint_encode(uint64_t v, uint8_t *out)
{
	uint8_t tmp[NEGENTROPY_VARINT_MAX];
	size_t n = 0, i;

	do {
		tmp[n++] = v & 0x7f;
		v >>= 7;
	} while (v != 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i] | (i + 1 < n ? 0x80 : 0);
	return n;
}

int
negentropy_varint_decode(const uint8_t *in, size_t len, uint64_t *v,
    size_t *used)
{
	uint64_t r = 0;
	size_t i;
	int rc;

	for (i = 0; ; i++) {
		if (i == len) {
			rc = KITH_ETRUNC;
			goto out;
		}
		if (i == 0 && in[0] == 0x80) {
			rc = KITH_ENONCANON;
			goto out;
		}
		if (r >> 57 != 0) {
			rc = KITH_ERANGE;
			goto out;
		}
		r = (r << 7) | (in[i] & 0x7f);
		if ((in[i] & 0x80) == 0)
			break;
	}
	*v = r;
	*used = i + 1;
	rc = 0;
out:
	return rc;
}

/*
 * Write the sum of the ${n} ids at ${items} to ${sum}: as
 * negentropy_sum_add would, in 64-bit limbs, for whole arrays.
 */
static void
sum_items(uint8_t sum[NEGENTROPY_SUM_LEN], const struct negentropy_item *items,
    size_t n)
{
	uint64_t acc[4] = { 0, 0, 0, 0 };
	uint64_t x, s, c, c2;
	size_t i;
	int k, j;

	for (i = 0; i < n; i++) {
		c = 0;
		for (k = 0; k < 4; k++) {
			x = 0;
			for (j = 7; j >= 0; j--)
				x = (x << 8) | items[i].id[8 * k + j];
			s = acc[k] + x;
			c2 = s < x;
			acc[k] = s + c;
			c = c2 | (acc[k] < s);
		}
	}
	for (k = 0; k < 4; k++)
		for (j = 0; j < 8; j++)
			sum[8 * k + j] = (uint8_t)(acc[k] >> (8 * j));
}

void
negentropy_sum_add(uint8_t acc[NEGENTROPY_SUM_LEN],
    const uint8_t x[NEGENTROPY_SUM_LEN])
{
	unsigned c = 0;
	int i;

	for (i = 0; i < NEGENTROPY_SUM_LEN; i++) {
		c += (unsigned)acc[i] + x[i];
		acc[i] = (uint8_t)c;
		c >>= 8;
	}
}

void
negentropy_sum_sub(uint8_t acc[NEGENTROPY_SUM_LEN],
    const uint8_t x[NEGENTROPY_SUM_LEN])
{
	unsigned b = 0, d;
	int i;

	for (i = 0; i < NEGENTROPY_SUM_LEN; i++) {
		d = (unsigned)acc[i] - x[i] - b;
		acc[i] = (uint8_t)d;
		b = (d >> 8) & 1;
	}
}

void
negentropy_fingerprint_sum(const uint8_t sum[NEGENTROPY_SUM_LEN], uint64_t n,
    uint8_t *out)
{
	uint8_t in[NEGENTROPY_SUM_LEN + NEGENTROPY_VARINT_MAX], h[32];
	size_t len;

	memcpy(in, sum, NEGENTROPY_SUM_LEN);
	len = NEGENTROPY_SUM_LEN + negentropy_varint_encode(n,
	    in + NEGENTROPY_SUM_LEN);
	kcrypto_sha256(h, in, len);
	memcpy(out, h, NEGENTROPY_FP_LEN);
}

void
negentropy_fingerprint(const struct negentropy_item *items, size_t n,
    uint8_t *out)
{
	uint8_t sum[NEGENTROPY_SUM_LEN];

	sum_items(sum, items, n);
	negentropy_fingerprint_sum(sum, n, out);
}

/* Compare item ${it} with bound ${b}, both as (timestamp, 32-byte id). */
static int
cmp_item_bound(const struct negentropy_item *it, const struct bound *b)
{

	if (it->timestamp != b->ts)
		return it->timestamp < b->ts ? -1 : 1;
	return memcmp(it->id, b->id, NEGENTROPY_ID_LEN);
}

static int
cmp_bound(const struct bound *a, const struct bound *b)
{

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return memcmp(a->id, b->id, NEGENTROPY_ID_LEN);
}

/*
 * The set as the engine reads it: through ${ng}'s source, or straight from
 * its array.
 */

/*
 * Set ${*v} to items [lo, hi): borrowed from the array, or read from the
 * source into ${*owned}, which the caller frees (NULL if borrowed).
 */
static int
get_items(const struct negentropy *ng, size_t lo, size_t hi,
    const struct negentropy_item **v, struct negentropy_item **owned)
{
	int rc;

	*owned = NULL;
	if (ng->items != NULL || hi == lo) {
		*v = ng->items != NULL ? ng->items + lo : NULL;
		return 0;
	}
	if ((*owned = malloc((hi - lo) * sizeof(**owned))) == NULL)
		return KITH_ENOMEM;
	if ((rc = ng->src.items(ng->src.arg, lo, hi, *owned)) != 0) {
		free(*owned);
		*owned = NULL;
		return rc;
	}
	*v = *owned;
	return 0;
}

/* Write the fingerprint of items [lo, hi) to ${fp}. */
static int
range_fingerprint(const struct negentropy *ng, size_t lo, size_t hi,
    uint8_t *fp)
{
	uint8_t sum[NEGENTROPY_SUM_LEN] = { 0 };
	int rc;

	if (ng->items != NULL)
		sum_items(sum, ng->items + lo, hi - lo);
	else if (hi > lo && (rc = ng->src.sum(ng->src.arg, lo, hi, sum)) != 0)
		return rc;
	negentropy_fingerprint_sum(sum, hi - lo, fp);
	return 0;
}

/* Set ${*at} to the first index in [lo, hi) whose item is >= ${b}, else ${hi}. */
static int
lower_bound(const struct negentropy *ng, size_t lo, size_t hi,
    const struct bound *b, size_t *at)
{
	size_t mid;
	int rc;

	if (ng->items == NULL) {
		if ((rc = ng->src.lower_bound(ng->src.arg, b->ts, b->id,
		    &mid)) != 0)
			return rc;
		*at = mid < lo ? lo : mid > hi ? hi : mid;
		return 0;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cmp_item_bound(&ng->items[mid], b) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

static int
rd_varint(struct reader *r, uint64_t *v)
{
	size_t used;
	int rc;

	if ((rc = negentropy_varint_decode(r->p + r->off, r->len - r->off, v,
	    &used)) == 0)
		r->off += used;
	return rc;
}

/* Read the next range of ${r} into ${rg}, checking it against the last. */
static int
rd_range(struct reader *r, struct range *rg)
{
	uint64_t v, len;
	int rc;

	memset(rg, 0, sizeof(*rg));
	if (r->at_inf > 1) {
		rc = KITH_ENONCANON;
		goto out;
	}
	if ((rc = rd_varint(r, &v)) != 0)
		goto out;
	if (v == 0)
		rg->b.ts = UINT64_MAX;
	else if (v - 1 >= UINT64_MAX - r->last_ts) {
		rc = KITH_ERANGE;
		goto out;
	} else
		rg->b.ts = r->last_ts + (v - 1);
	r->last_ts = rg->b.ts;
	if ((rc = rd_varint(r, &len)) != 0)
		goto out;
	if (len > NEGENTROPY_ID_LEN) {
		rc = KITH_ERANGE;
		goto out;
	}
	if (len > r->len - r->off) {
		rc = KITH_ETRUNC;
		goto out;
	}
	rg->b.idlen = len;
	memcpy(rg->b.id, r->p + r->off, len);
	r->off += len;
	/* After infinity only the close checked below may follow. */
	if (r->at_inf ? rg->b.ts != UINT64_MAX :
	    cmp_bound(&rg->b, &r->prev) <= 0) {
		rc = KITH_ENONCANON;
		goto out;
	}
	if ((rc = rd_varint(r, &rg->mode)) != 0)
		goto out;
	switch (rg->mode) {
	case MODE_SKIP:
		break;
	case MODE_FP:
		if (r->len - r->off < NEGENTROPY_FP_LEN) {
			rc = KITH_ETRUNC;
			goto out;
		}
		rg->fp = r->p + r->off;
		r->off += NEGENTROPY_FP_LEN;
		break;
	case MODE_IDLIST:
		if ((rc = rd_varint(r, &v)) != 0)
			goto out;
		if (v > (r->len - r->off) / NEGENTROPY_ID_LEN) {
			rc = KITH_ETRUNC;
			goto out;
		}
		rg->ids = r->p + r->off;
		rg->nids = v;
		r->off += v * NEGENTROPY_ID_LEN;
		break;
	default:
		rc = KITH_ETYPE;
		goto out;
	}
	/*
	 * A second range to infinity is the frame-limit close that the
	 * reference (and kith) append when an IdList reply reached
	 * infinity but filled the frame: a Fingerprint of the empty set.
	 * It covers nothing; anything else there is malformed.
	 */
	if (r->at_inf && (rg->mode != MODE_FP ||
	    memcmp(rg->fp, empty_fp, NEGENTROPY_FP_LEN) != 0)) {
		rc = KITH_ENONCANON;
		goto out;
	}
	r->prev = rg->b;
	if (rg->b.ts == UINT64_MAX)
		r->at_inf++;
	rc = 0;
out:
	return rc;
}

/* Start reading ${msg}: check and skip the version byte. */
static int
rd_start(struct reader *r, const uint8_t *msg, size_t len)
{

	memset(r, 0, sizeof(*r));
	r->p = msg;
	r->len = len;
	if (len == 0)
		return KITH_ETRUNC;
	if (msg[0] != NEGENTROPY_VERSION)
		return KITH_EVERSION;
	r->off = 1;
	return 0;
}

int
negentropy_message_check(const uint8_t *msg, size_t len, size_t *nranges)
{
	struct reader r;
	struct range rg;
	size_t n = 0;
	int rc;

	if ((rc = rd_start(&r, msg, len)) != 0)
		goto out;
	while (r.off < r.len) {
		if ((rc = rd_range(&r, &rg)) != 0)
			goto out;
		n++;
	}
	if (nranges != NULL)
		*nranges = n;
	rc = 0;
out:
	return rc;
}

/* Encode bound ${b} to ${o}, timestamps as deltas from ${*last}. */
static void
put_bound(struct buf *o, uint64_t *last, const struct bound *b)
{

	if (b->ts == UINT64_MAX) {
		buf_varint(o, 0);
		*last = UINT64_MAX;
	} else {
		buf_varint(o, b->ts - *last + 1);
		*last = b->ts;
	}
	buf_varint(o, b->idlen);
	buf_put(o, b->id, b->idlen);
}

static void
bound_inf(struct bound *b)
{

	memset(b, 0, sizeof(*b));
	b->ts = UINT64_MAX;
}

/* The shortest bound above ${prev} that does not exceed ${curr}. */
static void
minimal_bound(struct bound *b, const struct negentropy_item *prev,
    const struct negentropy_item *curr)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	b->ts = curr->timestamp;
	if (curr->timestamp != prev->timestamp)
		return;
	for (i = 0; i < NEGENTROPY_ID_LEN && curr->id[i] == prev->id[i]; i++)
		;
	b->idlen = i < NEGENTROPY_ID_LEN ? i + 1 : NEGENTROPY_ID_LEN;
	memcpy(b->id, curr->id, b->idlen);
}

/* An item's place in a range, for sorting the range by id. */
struct idref {
	const uint8_t *id;
	size_t i;
};

static int
cmp_idref(const void *a, const void *b)
{
	const struct idref *x = a, *y = b;
	int c;

	if ((c = memcmp(x->id, y->id, NEGENTROPY_ID_LEN)) != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * Set ${*rep} to NULL if no two of the ${n} items at ${items} share an id,
 * else to a malloc'd array (the caller's to free) in which ${*rep}[i] is 1
 * when an earlier item has item i's id.  Items are unique by (timestamp,
 * id) only, so one id may sit at two timestamps; an IdList is a set of ids
 * and names each once.  Return 0 or KITH_ENOMEM.
 */
static int
repeats(const struct negentropy_item *items, size_t n, uint8_t **rep)
{
	struct idref *v = NULL;
	size_t i;
	int rc;

	*rep = NULL;
	if (n < 2) {
		rc = 0;
		goto out;
	}
	if ((v = malloc(n * sizeof(*v))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		v[i].id = items[i].id;
		v[i].i = i;
	}
	qsort(v, n, sizeof(*v), cmp_idref);
	for (i = 1; i < n; i++) {
		if (memcmp(v[i].id, v[i - 1].id, NEGENTROPY_ID_LEN) != 0)
			continue;
		if (*rep == NULL && (*rep = calloc(n, 1)) == NULL) {
			rc = KITH_ENOMEM;
			goto out;
		}
		(*rep)[v[i].i] = 1;
	}
	rc = 0;
out:
	free(v);
	return rc;
}

/*
 * How many buckets a differing range of ${n} items splits into: the
 * reference's 16, except under a policy of IdLists larger than the
 * reference's (negentropy_set_policy), when the buckets are small enough
 * to come back as IdLists if they differ.  Then about sqrt(3n/2): for a
 * difference in one place that balances the fingerprints sent, about 21
 * bytes a bucket, against the ids of the differing bucket's IdList, 32
 * bytes an item.  (At 256, a range of 4,000 splits into 78 buckets of 51,
 * not 16 of 250.)
 */
static size_t
buckets(const struct negentropy *ng, size_t n)
{
	size_t nb = BUCKETS;

	if (ng->idlist_below <= IDLIST_BELOW || n / BUCKETS >= ng->idlist_below)
		return BUCKETS;
	while (nb * nb < 3 * n / 2)
		nb++;
	return nb;
}

/* Describe items [lo, hi) up to ${ub}: an IdList, or buckets' fingerprints. */
static void
split_range(const struct negentropy *ng, struct buf *o, uint64_t *last,
    size_t lo, size_t hi, const struct bound *ub)
{
	uint8_t fp[NEGENTROPY_FP_LEN];
	const struct negentropy_item *v;
	struct negentropy_item *owned = NULL;
	uint8_t *rep = NULL;
	struct bound nb;
	size_t n = hi - lo, nbuckets, per, extra, cur, sz, i;
	int rc;

	if (n < ng->idlist_below) {
		if ((rc = get_items(ng, lo, hi, &v, &owned)) != 0 ||
		    (rc = repeats(v, n, &rep)) != 0)
			goto out;
		for (i = 0; rep != NULL && i < hi - lo; i++)
			n -= rep[i];
		put_bound(o, last, ub);
		buf_varint(o, MODE_IDLIST);
		buf_varint(o, n);
		for (i = 0; i < hi - lo; i++)
			if (rep == NULL || !rep[i])
				buf_put(o, v[i].id, NEGENTROPY_ID_LEN);
		rc = 0;
		goto out;
	}
	nbuckets = buckets(ng, n);
	per = n / nbuckets;
	extra = n % nbuckets;
	cur = lo;
	for (i = 0; i < nbuckets; i++) {
		sz = per + (i < extra ? 1 : 0);
		if ((rc = range_fingerprint(ng, cur, cur + sz, fp)) != 0)
			goto out;
		cur += sz;
		if (cur == hi) {
			nb = *ub;
		} else {
			if ((rc = get_items(ng, cur - 1, cur + 1, &v,
			    &owned)) != 0)
				goto out;
			minimal_bound(&nb, &v[0], &v[1]);
			free(owned);
			owned = NULL;
		}
		put_bound(o, last, &nb);
		buf_varint(o, MODE_FP);
		buf_put(o, fp, NEGENTROPY_FP_LEN);
	}
	rc = 0;
out:
	if (rc != 0)
		o->err = rc;
	free(rep);
	free(owned);
}

static int
over_limit(const struct negentropy *ng, size_t n)
{

	return ng->limit != 0 && n > ng->limit - FRAME_SLACK;
}

static int
cmp_id(const void *a, const void *b)
{

	return memcmp(a, b, NEGENTROPY_ID_LEN);
}

/*
 * Client: compare our items [lo, hi) with the server's IdList in ${rg}.
 * Their list is read as a set, as the reference does: an id repeated in it
 * is one id, needed only if we hold it nowhere in the range.  Each id is
 * reported at most once, whichever side repeats it.
 */
static int
diff_idlist(const struct negentropy *ng, size_t lo, size_t hi,
    const struct range *rg, struct idvec *have, struct idvec *need)
{
	uint8_t (*theirs)[NEGENTROPY_ID_LEN] = NULL;
	uint8_t *seen = NULL, *rep = NULL;
	uint8_t (*hit)[NEGENTROPY_ID_LEN];
	const struct negentropy_item *v;
	struct negentropy_item *owned = NULL;
	size_t i, k, n = rg->nids;
	int rc;

	if (n > 0) {
		if ((theirs = malloc(n * NEGENTROPY_ID_LEN)) == NULL ||
		    (seen = calloc(n, 1)) == NULL) {
			rc = KITH_ENOMEM;
			goto out;
		}
		memcpy(theirs, rg->ids, n * NEGENTROPY_ID_LEN);
		qsort(theirs, n, NEGENTROPY_ID_LEN, cmp_id);
		/* Drop repeats, so a search finds the one copy. */
		for (i = 1, k = 1; i < n; i++)
			if (memcmp(theirs[i], theirs[k - 1],
			    NEGENTROPY_ID_LEN) != 0)
				memmove(theirs[k++], theirs[i],
				    NEGENTROPY_ID_LEN);
		n = k;
	}
	if ((rc = get_items(ng, lo, hi, &v, &owned)) != 0 ||
	    (rc = repeats(v, hi - lo, &rep)) != 0)
		goto out;
	for (i = 0; i < hi - lo; i++) {
		hit = n > 0 ? bsearch(v[i].id, theirs, n,
		    NEGENTROPY_ID_LEN, cmp_id) : NULL;
		if (hit != NULL)
			seen[hit - theirs] = 1;
		else if ((rep == NULL || !rep[i]) &&
		    (rc = idvec_push(have, v[i].id)) != 0)
			goto out;
	}
	for (i = 0; i < n; i++)
		if (!seen[i] && (rc = idvec_push(need, theirs[i])) != 0)
			goto out;
	rc = 0;
out:
	free(owned);
	free(rep);
	free(seen);
	free(theirs);
	return rc;
}

/*
 * Answer message ${in}.  ${have} and ${need} are NULL on the server.  The
 * ranges are processed as in the reference; when the frame limit nears,
 * the rest of the space is closed with one fingerprint to infinity.
 */
static int
reconcile_aux(struct negentropy *ng, const uint8_t *in, size_t inlen,
    struct buf *full, struct idvec *have, struct idvec *need)
{
	uint8_t fp[NEGENTROPY_FP_LEN];
	uint8_t *rep = NULL;
	const struct negentropy_item *v;
	struct negentropy_item *owned = NULL;
	struct buf o = { NULL, 0, 0, 0 };
	struct bound prevb, endb, inf;
	struct reader r;
	struct range rg;
	uint64_t last_out = 0;
	size_t prev_idx = 0, lo, hi, emitted = 0, i, nresp;
	int skip = 0, client = have != NULL, rc;
	uint8_t ver = NEGENTROPY_VERSION;

	if ((rc = negentropy_message_check(in, inlen, NULL)) != 0)
		goto out;
	if ((rc = rd_start(&r, in, inlen)) != 0)
		goto out;
	memset(&prevb, 0, sizeof(prevb));
	bound_inf(&inf);
	buf_put(full, &ver, 1);
	while (r.off < r.len) {
		o.len = 0;
		if ((rc = rd_range(&r, &rg)) != 0)
			goto out;
		lo = prev_idx;
		if ((rc = lower_bound(ng, prev_idx, ng->n, &rg.b, &hi)) != 0)
			goto out;
		if (rg.mode == MODE_SKIP) {
			skip = 1;
		} else if (rg.mode == MODE_FP) {
			if ((rc = range_fingerprint(ng, lo, hi, fp)) != 0)
				goto out;
			if (memcmp(fp, rg.fp, NEGENTROPY_FP_LEN) == 0) {
				skip = 1;
			} else if (client && ng->bulk && hi == lo) {
				/* We hold nothing here: pull it whole. */
				if ((rc = pull_push(&ng->pulls, &prevb,
				    &rg.b)) != 0)
					goto out;
				skip = 1;
			} else {
				if (skip) {
					skip = 0;
					put_bound(&o, &last_out, &prevb);
					buf_varint(&o, MODE_SKIP);
				}
				split_range(ng, &o, &last_out, lo, hi, &rg.b);
			}
		} else if (client) {
			if ((rc = diff_idlist(ng, lo, hi, &rg, have, need)) != 0)
				goto out;
			skip = 1;
		} else {
			/* Server: answer with all our ids in the range. */
			if (skip) {
				skip = 0;
				put_bound(&o, &last_out, &prevb);
				buf_varint(&o, MODE_SKIP);
			}
			if ((rc = get_items(ng, lo, hi, &v, &owned)) != 0 ||
			    (rc = repeats(v, hi - lo, &rep)) != 0)
				goto out;
			endb = rg.b;
			nresp = 0;
			for (i = lo; i < hi; i++) {
				if (rep != NULL && rep[i - lo])
					continue;
				/*
				 * As the reference: the pending Skip in ${o}
				 * is not counted; FRAME_SLACK holds it.
				 */
				if (over_limit(ng, full->len +
				    nresp * NEGENTROPY_ID_LEN)) {
					memset(&endb, 0, sizeof(endb));
					endb.ts = v[i - lo].timestamp;
					endb.idlen = NEGENTROPY_ID_LEN;
					memcpy(endb.id, v[i - lo].id,
					    NEGENTROPY_ID_LEN);
					hi = i;
					break;
				}
				nresp++;
			}
			put_bound(&o, &last_out, &endb);
			buf_varint(&o, MODE_IDLIST);
			buf_varint(&o, nresp);
			for (i = lo; i < hi; i++)
				if (rep == NULL || !rep[i - lo])
					buf_put(&o, v[i - lo].id,
					    NEGENTROPY_ID_LEN);
			free(rep);
			rep = NULL;
			free(owned);
			owned = NULL;
			buf_put(full, o.p, o.len);
			o.len = 0;
			emitted = hi;
		}
		if ((rc = o.err) != 0 || (rc = full->err) != 0)
			goto out;
		if (over_limit(ng, full->len + o.len)) {
			/*
			 * Close everything after the last bound sent with
			 * one fingerprint.  Like the reference, it covers our
			 * items from the end of this range only, so it differs
			 * from the peer's, which also covers this range, and
			 * the peer looks again.  That fails only if the peer
			 * holds nothing here (it sent the empty set's
			 * fingerprint, as a kith bulk client does): then the
			 * two could match and the rest be skipped, so we
			 * cover all we hold after the last bound sent.
			 */
			if (rg.mode == MODE_FP && memcmp(rg.fp, empty_fp,
			    NEGENTROPY_FP_LEN) == 0)
				hi = emitted;
			if ((rc = range_fingerprint(ng, hi, ng->n, fp)) != 0)
				goto out;
			put_bound(full, &last_out, &inf);
			buf_varint(full, MODE_FP);
			buf_put(full, fp, NEGENTROPY_FP_LEN);
			break;
		}
		if (o.len > 0) {
			buf_put(full, o.p, o.len);
			emitted = hi;
		}
		prev_idx = hi;
		prevb = rg.b;
	}
	rc = full->err;
out:
	free(owned);
	free(rep);
	free(o.p);
	return rc;
}

/*
 * What an empty set given as NULL points at: the engine takes ranges of
 * the array as (items + lo, n), and NULL + 0 is undefined in C.
 */
static const struct negentropy_item no_items[1];

static int
sorted(const struct negentropy_item *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (items[i].timestamp == UINT64_MAX)
			return 0;
		if (i > 0 && (items[i - 1].timestamp > items[i].timestamp ||
		    (items[i - 1].timestamp == items[i].timestamp &&
		    memcmp(items[i - 1].id, items[i].id,
		    NEGENTROPY_ID_LEN) >= 0)))
			return 0;
	}
	return 1;
}

static struct negentropy *
ng_new(size_t frame_size_limit)
{
	struct negentropy *ng;

	if (frame_size_limit != 0 && frame_size_limit < NEGENTROPY_FRAME_MIN)
		return NULL;
	if ((ng = calloc(1, sizeof(*ng))) == NULL)
		return NULL;
	ng->limit = frame_size_limit;
	ng->idlist_below = IDLIST_BELOW;
	return ng;
}

struct negentropy *
negentropy_new(const struct negentropy_item *items, size_t n,
    size_t frame_size_limit)
{
	struct negentropy *ng;

	if ((ng = ng_new(frame_size_limit)) != NULL &&
	    negentropy_set_items(ng, items, n) != 0) {
		negentropy_free(ng);
		ng = NULL;
	}
	return ng;
}

struct negentropy *
negentropy_new_source(const struct negentropy_source *src,
    size_t frame_size_limit)
{
	struct negentropy *ng;

	if ((ng = ng_new(frame_size_limit)) != NULL)
		negentropy_set_source(ng, src);
	return ng;
}

int
negentropy_set_items(struct negentropy *ng,
    const struct negentropy_item *items, size_t n)
{

	if ((n > 0 && items == NULL) || !sorted(items, n))
		return KITH_EINVAL;
	ng->items = items != NULL ? items : no_items;
	ng->n = n;
	return 0;
}

void
negentropy_set_source(struct negentropy *ng,
    const struct negentropy_source *src)
{

	ng->src = *src;
	ng->items = NULL;
	ng->n = src->n;
}

void
negentropy_set_policy(struct negentropy *ng, size_t idlist_below, int bulk)
{

	ng->idlist_below = idlist_below > 0 ? idlist_below : IDLIST_BELOW;
	/*
	 * An IdList must fit in an empty frame, or the range it describes
	 * would be dropped for the closing fingerprint in every round and
	 * the session never end.  (The reference's 32 fits any limit.)
	 */
	if (ng->limit != 0 && ng->idlist_below > IDLIST_FIT(ng->limit))
		ng->idlist_below = IDLIST_FIT(ng->limit);
	ng->bulk = bulk;
}

int
negentropy_take_pulls(struct negentropy *ng, struct negentropy_item **out,
    size_t *n)
{

	*out = ng->pulls.v;
	*n = ng->pulls.n / 2;
	memset(&ng->pulls, 0, sizeof(ng->pulls));
	return 0;
}

int
negentropy_initiate(struct negentropy *ng, uint8_t **msg, size_t *len)
{
	struct buf o = { NULL, 0, 0, 0 };
	struct bound inf;
	uint64_t last = 0;
	uint8_t ver = NEGENTROPY_VERSION;
	int rc;

	*msg = NULL;
	*len = 0;
	if (ng->used) {
		rc = KITH_EINVAL;
		goto out;
	}
	struct bound zero;

	bound_inf(&inf);
	memset(&zero, 0, sizeof(zero));
	buf_put(&o, &ver, 1);
	ng->initiated = 1;
	if (ng->n == 0 && ng->bulk) {
		/* Nothing to describe: pull everything, send no range. */
		if (pull_push(&ng->pulls, &zero, &inf) != 0)
			o.err = KITH_ENOMEM;
	} else if (ng->bulk && ng->n < ng->idlist_below && (ng->limit == 0 ||
	    (ng->n + 1) * BULK_RANGE_MAX < ng->limit - FRAME_SLACK)) {
		/*
		 * A bulk client with few items (as many as fit in a frame)
		 * fingerprints each alone, and
		 * the empty space after the last: the server's many items
		 * there come back as fingerprints the client then pulls,
		 * where an IdList would have cost 32 bytes per item twice.
		 */
		const struct negentropy_item *v;
		struct negentropy_item *owned;
		struct bound ub;
		uint8_t fp[NEGENTROPY_FP_LEN];
		size_t i;

		if ((rc = get_items(ng, 0, ng->n, &v, &owned)) != 0)
			o.err = rc;
		for (i = 0; o.err == 0 && i < ng->n; i++) {
			if (i + 1 < ng->n) {
				minimal_bound(&ub, &v[i], &v[i + 1]);
			} else {
				memset(&ub, 0, sizeof(ub));
				ub.ts = v[i].timestamp + 1;
			}
			negentropy_fingerprint(v + i, 1, fp);
			put_bound(&o, &last, &ub);
			buf_varint(&o, MODE_FP);
			buf_put(&o, fp, NEGENTROPY_FP_LEN);
		}
		free(owned);
		if (o.err == 0 && ub.ts != UINT64_MAX) {
			/* (else the last range ended it) */
			negentropy_fingerprint(NULL, 0, fp);
			put_bound(&o, &last, &inf);
			buf_varint(&o, MODE_FP);
			buf_put(&o, fp, NEGENTROPY_FP_LEN);
		}
	} else {
		split_range(ng, &o, &last, 0, ng->n, &inf);
	}
	if ((rc = o.err) != 0) {
		ng->initiated = 0;
		goto out;
	}
	ng->used = 1;
	*msg = o.p;
	*len = o.len;
	o.p = NULL;	/* transferred */
out:
	free(o.p);
	return rc;
}

int
negentropy_reconcile(struct negentropy *ng, const uint8_t *in,
    size_t inlen, uint8_t **out, size_t *outlen)
{
	struct buf full = { NULL, 0, 0, 0 };
	int rc;

	*out = NULL;
	*outlen = 0;
	if (ng->initiated) {
		rc = KITH_EINVAL;
		goto out;
	}
	ng->used = 1;
	if ((rc = reconcile_aux(ng, in, inlen, &full, NULL, NULL)) != 0)
		goto out;
	*out = full.p;
	*outlen = full.len;
	full.p = NULL;	/* transferred */
out:
	free(full.p);
	return rc;
}

int
negentropy_reconcile_client(struct negentropy *ng, const uint8_t *in,
    size_t inlen, uint8_t **out, size_t *outlen,
    uint8_t (**have)[NEGENTROPY_ID_LEN], size_t *nhave,
    uint8_t (**need)[NEGENTROPY_ID_LEN], size_t *nneed)
{
	struct buf full = { NULL, 0, 0, 0 };
	struct idvec h = { NULL, 0, 0 }, nd = { NULL, 0, 0 };
	int rc;

	*out = NULL;
	*outlen = 0;
	*have = *need = NULL;
	*nhave = *nneed = 0;
	if (!ng->initiated) {
		rc = KITH_EINVAL;
		goto out;
	}
	if ((rc = reconcile_aux(ng, in, inlen, &full, &h, &nd)) != 0)
		goto out;
	if (full.len > 1) {
		*out = full.p;
		*outlen = full.len;
		full.p = NULL;	/* transferred */
	}
	*have = h.v;
	*nhave = h.n;
	h.v = NULL;	/* transferred */
	*need = nd.v;
	*nneed = nd.n;
	nd.v = NULL;	/* transferred */
out:
	free(nd.v);
	free(h.v);
	free(full.p);
	return rc;
}

void
negentropy_free(struct negentropy *ng)
{

	if (ng == NULL)
		return;
	free(ng->pulls.v);
	free(ng);
}
