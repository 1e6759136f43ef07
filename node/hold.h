#ifndef HOLD_H
#define HOLD_H

/*
 * Records held for their time (PROTOCOL.md 5, "Records from the future"):
 * a record stamped more than the window ahead of this node's clock is not
 * applied (KITH_EFUTURE), but kept here, so that sessions do not fetch it
 * and refuse it again and again, and applied once its stamp is within the
 * window.  Bounded: HOLD_IDS_MAX records, whose bytes past HOLD_BYTES_MAX
 * are not kept (only the id: such a record is fetched again when due).
 * Memory only; a restarted node fetches them again, once.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct hold;
struct record;

#define HOLD_IDS_MAX	4096
#define HOLD_BYTES_MAX	(8U << 20)

/**
 * hold_new():
 * Return an empty hold, or NULL if out of memory.
 */
struct hold *hold_new(void);

/**
 * hold_add(h, rec):
 * Hold ${*rec}, which must be too far ahead to apply: ${h} takes it and sets
 * ${*rec} to NULL, unless its id is held already or ${h} is full (then
 * ${*rec} is left to the caller).  Return 1 if it is newly held, else 0.
 */
int hold_add(struct hold *h, struct record **rec);

/**
 * hold_has(h, id):
 * Return 1 if the record ${id} is held, else 0.  ${h} may be NULL.
 */
int hold_has(const struct hold *h, const uint8_t id[KITH_ID_LEN]);

/**
 * hold_due(h, wall_ms, out, n):
 * Take out of ${h} every record whose stamp is now within the window of
 * the wall clock ${wall_ms} (hlc_check), and return those whose bytes were
 * kept in a new array ${*out} of ${*n}, which the caller frees with
 * store_records_free; the others are forgotten, to be fetched again.
 * Return 0 or KITH_ENOMEM.
 */
int hold_due(struct hold *h, uint64_t wall_ms, struct record ***out,
    size_t *n);

/**
 * hold_count(h):
 * Return how many records ${h} holds.
 */
size_t hold_count(const struct hold *h);

/**
 * hold_free(h):
 * Free ${h} and the records it holds; nothing if NULL.
 */
void hold_free(struct hold *h);

#endif
