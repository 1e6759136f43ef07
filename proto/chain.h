#ifndef CHAIN_H
#define CHAIN_H

/*
 * An author's chain.  Every record names its author's previous record
 * (header item prev) and counts its sequence number from 1, so one key's
 * records form a hash chain, as a Hypercore or Secure Scuttlebutt log does.
 * Standing is counted along it, never in time (PROTOCOL.md 3.8):
 *  - a key that signs two different records at one sequence number has
 *    forked there, and from its fork point on its records carry no
 *    authority;
 *  - a revocation names the last record of the key that the network
 *    accepts, and only that record and its predecessors keep standing.
 *
 * A chain source answers these questions from wherever records are kept:
 * the store, or (chain_mem) an array of records in memory.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct record;
struct chain_mem;

/* One record of a chain: its id and the id it names as its predecessor. */
struct chain_link {
	uint8_t id[KITH_ID_LEN];
	uint8_t prev[KITH_ID_LEN];
};

/* Links read at one sequence number; more than one is a fork already. */
#define CHAIN_AT_MAX	4

struct chain_src {
	/*
	 * ${key}'s records held at sequence ${seq}: up to ${max} links into
	 * ${out}, in id order; ${*n} gets how many there are.  Return 0 or an
	 * error.
	 */
	int (*at)(void *arg, const uint8_t key[KITH_KEY_LEN], uint64_t seq,
	    struct chain_link *out, size_t max, size_t *n);
	/* ${key}'s fork point (chain_fork_evidence over all it holds), or 0. */
	int (*fork)(void *arg, const uint8_t key[KITH_KEY_LEN], uint64_t *seq);
	void *arg;
};

/**
 * chain_fork_evidence(seq, self, same, nsame, below, nbelow, above, nabove):
 * The fork rule.  For a record at sequence ${seq} whose id and prev are
 * ${self}, held beside the same author's other records at ${seq}
 * (${same}), at ${seq} - 1 (${below}) and at ${seq} + 1 (${above}), return
 * the smallest sequence number at which they show a fork, or 0 for none.
 * There is a fork at s if the author has two different records at s, or a
 * record at s + 1 that names as prev something other than a record it has
 * at s.  Entries of ${same} equal to ${self} are ignored.
 */
uint64_t chain_fork_evidence(uint64_t seq, const struct chain_link *self,
    const struct chain_link *same, size_t nsame,
    const struct chain_link *below, size_t nbelow,
    const struct chain_link *above, size_t nabove);

/* What a walk back from a revocation's last record found. */
struct chain_walk {
	uint64_t lo, hi;		/* ids known for seq lo..hi */
	uint8_t (*ids)[KITH_ID_LEN];	/* ids[s - lo]; NULL if hi == 0 */
};

/**
 * chain_walk(src, key, last_seq, last_id, down_to, out):
 * Follow ${key}'s chain back from its record ${last_id} at ${last_seq}
 * through the prev ids of the records held, down to sequence ${down_to}
 * (at least 1) or the first record not held, whose id is then known but
 * not its prev.  Fill ${*out} (free it with chain_walk_free).  Return 0,
 * KITH_ENOMEM or the source's error.
 */
int chain_walk(const struct chain_src *src, const uint8_t key[KITH_KEY_LEN],
    uint64_t last_seq, const uint8_t last_id[KITH_ID_LEN], uint64_t down_to,
    struct chain_walk *out);

/**
 * chain_walk_free(w):
 * Free what ${w} holds; its fields are zero afterwards.
 */
void chain_walk_free(struct chain_walk *w);

/**
 * chain_mem_new(recs, n):
 * Index the chains of the ${n} records ${recs} (borrowed only for the
 * call) in memory.  Return it, or NULL if out of memory.
 */
struct chain_mem *chain_mem_new(struct record *const *recs, size_t n);

/**
 * chain_mem_src(m, out):
 * Set ${*out} to a source answering from ${m}, valid while ${m} lives.
 */
void chain_mem_src(struct chain_mem *m, struct chain_src *out);

/**
 * chain_mem_free(m):
 * Free ${m}; nothing if NULL.
 */
void chain_mem_free(struct chain_mem *m);

#endif
