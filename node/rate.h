#ifndef RATE_H
#define RATE_H

/*
 * Rate limits keyed by a 32-byte key (a member's ed25519 key): a token
 * bucket per key that holds at most ${burst} tokens and refills at
 * ${per_min} a minute.  The table is fixed in size; when it is full the
 * key looked at longest ago makes way, and its next look starts from a
 * full bucket.  With keys that are members of one network the table
 * outgrows them rarely, and nobody gains more than one burst from it.
 */

#include <stddef.h>
#include <stdint.h>

struct rate;

/**
 * rate_new(cap, per_min, burst):
 * Return a table of ${cap} keys (rounded up to a power of two) whose
 * buckets hold ${burst} tokens and refill at ${per_min} tokens a minute,
 * or NULL if out of memory or ${burst} is 0.
 */
struct rate *rate_new(size_t cap, uint32_t per_min, uint32_t burst);

/**
 * rate_free(r):
 * Free ${r}.  Nothing if NULL.
 */
void rate_free(struct rate *r);

/**
 * rate_take(r, key, cost, now_ms):
 * Take ${cost} tokens from ${key}'s bucket at time ${now_ms} (a monotonic
 * clock).  Return 1 if they were there (and are taken), 0 if not (nothing
 * is taken).
 */
int rate_take(struct rate *r, const uint8_t key[32], uint32_t cost,
    uint64_t now_ms);

#endif
