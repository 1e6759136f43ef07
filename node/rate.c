#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rate.h"

/*
 * Tokens are counted in 1/60000ths, so that a bucket refilling at
 * per_min tokens a minute gains exactly per_min of them each millisecond.
 */
#define UNIT	60000ULL
#define PROBE	8	/* slots a key may sit in, from its hash */

struct bucket {
	uint8_t key[32];
	uint64_t tokens;	/* in UNITs */
	uint64_t last_ms;	/* when it was last filled up to now */
	int used;
};

struct rate {
	struct bucket *b;
	size_t mask;
	uint64_t per_min, full;
};

struct rate *
rate_new(size_t cap, uint32_t per_min, uint32_t burst)
{
	struct rate *r;
	size_t n = PROBE;

	if (burst == 0 || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	while (n < cap)
		n *= 2;
	if ((r->b = calloc(n, sizeof(*r->b))) == NULL) {
		free(r);
		return NULL;
	}
	r->mask = n - 1;
	r->per_min = per_min;
	r->full = burst * UNIT;
	return r;
}

void
rate_free(struct rate *r)
{

	if (r == NULL)
		return;
	free(r->b);
	free(r);
}

/* The bucket of ${key}: its own, a free one, or the stalest it may evict. */
static struct bucket *
bucket_of(struct rate *r, const uint8_t key[32], uint64_t now_ms)
{
	struct bucket *b, *stale = NULL;
	size_t h, i;

	/* Keys are ed25519 public keys: their bytes are hash enough. */
	memcpy(&h, key, sizeof(h));
	for (i = 0; i < PROBE; i++) {
		b = &r->b[(h + i) & r->mask];
		if (b->used && memcmp(b->key, key, 32) == 0)
			return b;
		if (stale == NULL || !b->used ||
		    (stale->used && b->last_ms < stale->last_ms))
			stale = b;
	}
	memcpy(stale->key, key, 32);
	stale->used = 1;
	stale->tokens = r->full;
	stale->last_ms = now_ms;
	return stale;
}

int
rate_take(struct rate *r, const uint8_t key[32], uint32_t cost,
    uint64_t now_ms)
{
	struct bucket *b = bucket_of(r, key, now_ms);
	uint64_t want = cost * UNIT;

	if (now_ms > b->last_ms) {
		uint64_t gain = (now_ms - b->last_ms) * r->per_min;

		b->tokens = gain >= r->full - b->tokens ? r->full :
		    b->tokens + gain;
		b->last_ms = now_ms;
	}
	if (b->tokens < want)
		return 0;
	b->tokens -= want;
	return 1;
}
