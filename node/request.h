#ifndef REQUEST_H
#define REQUEST_H

/*
 * Help requests: what one holds (field.h's request table) and how its
 * status moves: open, claimed, then fulfilled or cancelled; unclaimed or
 * reopened, it starts again from open.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct actor;
struct field_in;

/**
 * request_add(a, in, n):
 * Start a request with the ${n} values ${in}; category and area are
 * required, urgency defaults to 2, the status is open.  ${a}->entity gets
 * its id.
 */
int request_add(struct actor *a, const struct field_in *in, size_t n);

/**
 * request_update(a, id, in, n):
 * Change fields of request ${id}: at least one value.
 */
int request_update(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const struct field_in *in, size_t n);

/**
 * request_move(a, id, status, volunteer):
 * Move request ${id} to ${status} ("claimed", "fulfilled", "cancelled"),
 * forward only; a claim may name the volunteer (an id or unique prefix),
 * else NULL.
 */
int request_move(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const char *status, const char *volunteer);

/**
 * request_reopen(a, id, unclaim):
 * Open request ${id} again, in a new round (PROTOCOL.md 7.1), with no
 * volunteer: if ${unclaim}, a claimed one; else a fulfilled or cancelled
 * one.  History keeps every earlier move.
 */
int request_reopen(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    int unclaim);

#endif /* !REQUEST_H */
