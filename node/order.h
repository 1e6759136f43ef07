#ifndef ORDER_H
#define ORDER_H

/*
 * The reconciliation order in memory: the (hlc, id) of every record the
 * store holds, sorted, as Negentropy's item array.  Loaded from the store
 * once, then kept current as records are added, so each reconciliation
 * message costs no store scan.
 */

#include <stddef.h>
#include <stdint.h>

#include "negentropy.h"

struct order;
struct store;

/* Called for each item order_refresh found new. */
typedef int order_new_fn(void *arg, const struct negentropy_item *it);

/**
 * order_new():
 * Return an empty order, or NULL if out of memory.
 */
struct order *order_new(void);

/**
 * order_free(o):
 * Free ${o}; nothing if NULL.
 */
void order_free(struct order *o);

/**
 * order_refresh(o, st, fn, arg):
 * Bring ${o} up to date with ${st} by one keys-only scan: add every held
 * record it lacks, calling ${fn} (if not NULL) for each, in order.  Return
 * 0, KITH_ENOMEM or a store error.
 */
int order_refresh(struct order *o, struct store *st, order_new_fn *fn,
    void *arg);

/**
 * order_merge(o, items, k):
 * Insert the ${k} items at ${items} (any order; repeats and items held
 * already are skipped) in one pass over the order.  ${items} is sorted
 * and reused as scratch.  Return 0 or KITH_ENOMEM.
 */
int order_merge(struct order *o, struct negentropy_item *items, size_t k);

/**
 * order_drop(o, id):
 * Remove the item whose id is ${id}, if ${o} holds it: a record the store
 * took out because its stored copy was damaged (store_mend).  It looks
 * at every item, which is fine for a rare event.  Return 1 if removed.
 */
int order_drop(struct order *o, const uint8_t *id);

/**
 * order_has(o, hlc, id):
 * Return 1 if ${o} holds the item (${hlc}, ${id}), else 0.
 */
int order_has(const struct order *o, uint64_t hlc, const uint8_t *id);

/**
 * order_items(o, n):
 * Return the sorted items and set ${*n}; borrowed until ${o} next changes.
 */
const struct negentropy_item *order_items(const struct order *o, size_t *n);

#endif
