#ifndef FPTREE_H
#define FPTREE_H

/*
 * The range fingerprint tree (DESIGN.md, Sync): the reconciliation order,
 * the (hlc, id) of every record held, kept as a B+ tree whose inner
 * entries carry their subtree's item count and id sum.  A range's
 * fingerprint, the items of a range and the index of a bound each cost a
 * descent or two, O(log n), and nothing is held in memory between calls.
 *
 * Nodes are byte strings numbered by a u64 that an fptree_io reads and
 * writes: the store keeps them in an LMDB database and changes them in
 * the write transaction that changes the records.  Node 0 is the header.
 * The format (all integers big-endian unless said):
 *   header  root(8) next(8)          root 0: the tree is empty
 *   leaf    1 0 count(2) item*count  item: hlc(8) id(32), ascending
 *   inner   2 0 count(2) entry*count entry: key(40) child(8) count(8)
 *                                     sum(32, little-endian), where key is
 *                                     the child's least item
 * Node bytes come from disk, so each is checked as it is read: a node
 * that breaks the format is KITH_ECORRUPT, never a crash.
 */

#include <stddef.h>
#include <stdint.h>

#include "negentropy.h"

#define FPTREE_LEAF_MAX		100	/* items a leaf holds: 4,004 bytes */
#define FPTREE_INNER_MAX	46	/* entries an inner node holds: 4,052 */
#define FPTREE_DEPTH_MAX	12	/* deeper is damage: 46^11 >> 2^64 */

/*
 * Node storage.  get sets ${*p} and ${*len} to node ${id}'s bytes,
 * borrowed until the next put or del, or returns KITH_ENOTFOUND.
 */
struct fptree_io {
	int (*get)(void *arg, uint64_t id, const uint8_t **p, size_t *len);
	int (*put)(void *arg, uint64_t id, const uint8_t *p, size_t len);
	int (*del)(void *arg, uint64_t id);
	void *arg;
};

/**
 * fptree_count(io, n):
 * Set ${*n} to the number of items in the tree.  Return 0 or an error.
 */
int fptree_count(const struct fptree_io *io, uint64_t *n);

/**
 * fptree_insert(io, items, n):
 * Add the ${n} items at ${items} (any order; items held already and
 * repeats are skipped).  ${items} is sorted in place.  Each node on the
 * way to an item is rewritten once per call, so add in batches.  Return 0,
 * KITH_ENOMEM, or an error of ${io} (then the tree may be half changed:
 * abandon the transaction).
 */
int fptree_insert(const struct fptree_io *io, struct negentropy_item *items,
    size_t n);

/**
 * fptree_remove(io, items, n):
 * Remove the ${n} items at ${items} (any order; items not held are
 * skipped); ${items} is sorted in place.  Return as fptree_insert.
 */
int fptree_remove(const struct fptree_io *io, struct negentropy_item *items,
    size_t n);

/**
 * fptree_items(io, lo, hi, out):
 * Copy items [${lo}, ${hi}) to ${out}.  Return 0, KITH_ERANGE if ${hi}
 * is past the end, or an error.
 */
int fptree_items(const struct fptree_io *io, uint64_t lo, uint64_t hi,
    struct negentropy_item *out);

/**
 * fptree_sum(io, lo, hi, out):
 * Write the sum of the ids of items [${lo}, ${hi}) (as Negentropy sums
 * them) to ${out}.  Return 0, KITH_ERANGE, or an error.
 */
int fptree_sum(const struct fptree_io *io, uint64_t lo, uint64_t hi,
    uint8_t out[NEGENTROPY_SUM_LEN]);

/**
 * fptree_lower_bound(io, ts, id, at):
 * Set ${*at} to the index of the first item not below (${ts}, ${id}), or
 * the count.  Return 0 or an error.
 */
int fptree_lower_bound(const struct fptree_io *io, uint64_t ts,
    const uint8_t id[NEGENTROPY_ID_LEN], uint64_t *at);

/**
 * fptree_source(io, src):
 * Fill ${src} to read the tree through ${io}, which must stay valid (and
 * the tree unchanged) while ${src} is used.  Return 0 or an error.
 */
int fptree_source(const struct fptree_io *io, struct negentropy_source *src);

typedef int fptree_item_fn(void *arg, const struct negentropy_item *it);

/**
 * fptree_check(io, fn, arg, nodes):
 * Read the whole tree, check every node against the format and every
 * inner entry's key, count and sum against its child, and call ${fn}
 * (if not NULL) for each item in order; stop at its first nonzero return
 * and return that.  Set ${*nodes} to the nodes reached, the header
 * included.  Return 0, KITH_ECORRUPT, or an error.
 */
int fptree_check(const struct fptree_io *io, fptree_item_fn *fn, void *arg,
    uint64_t *nodes);

#endif
