#ifndef STATE_H
#define STATE_H

/*
 * Entity state: what the records of one entity add up to.  The computation
 * depends only on the set of records, never on their arrival order, so every
 * node holding the same records computes byte-identical state.  The rules
 * (proto/PROTOCOL.md, "Merge") are:
 *  - a field's candidate writes are the records that set it; for "status"
 *    of a request or referral only the writes of the furthest workflow stage;
 *  - a write is superseded when a record that lists it among its ancestors
 *    writes the same field; the rest are the field's heads;
 *  - the value is the head with the greatest (hlc, author, id);
 *  - other heads with other values are kept as a visible conflict.
 */

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "kith.h"

struct record;
struct roster;
struct state;

struct state_field {
	const char *name;		/* NUL-terminated */
	int personal;
	struct codec_value value;	/* the winning value */
	size_t nalts;			/* conflicting values, sorted */
	const struct codec_value *alts;
};

/**
 * state_compute(recs, n, roster, out):
 * Compute the state of the entity whose ${n} > 0 records, with bodies where
 * held, are ${recs}, in any order.  If ${roster} is not NULL, records it
 * does not admit (roster_check) are left out entirely, except charter,
 * member and revoke records (the roster weighs those itself).  Records whose kind
 * differs from the earliest record's are ignored, as are bodies that fail
 * to decode.  A referral's status moves only by its creator ("sent") and
 * its recipient (the rest).  An erase record from an author of one of the
 * entity's starting records (those with no parents) or from an admin
 * leaves the entity only the field "erased" = 1.  Store the state in
 * ${*out}, which the caller frees.  Return 0, KITH_ENOTFOUND if no record
 * is admitted, KITH_EINVAL if the records are of more than one entity, or
 * KITH_ENOMEM.
 */
int state_compute(struct record *const *recs, size_t n,
    const struct roster *roster, struct state **out);

/**
 * state_may_erase(recs, n, roster, author, hlc):
 * Return 1 if an erase record by ${author} stamped ${hlc} erases the entity
 * whose admitted records are the ${n} at ${recs}: ${author} wrote one of
 * its starting records (no parents, not an erase record), or is an admin
 * at ${hlc} in ${roster} (if not NULL).  Else 0.
 */
int state_may_erase(struct record *const *recs, size_t n,
    const struct roster *roster, const uint8_t author[KITH_KEY_LEN],
    uint64_t hlc);

/**
 * state_encoded(s, len):
 * Return ${s}'s canonical encoding; borrowed, valid while ${s} lives.
 */
const uint8_t *state_encoded(const struct state *s, size_t *len);

/**
 * state_decode(p, n, out):
 * Parse a state encoding (as stored) into ${*out}; the bytes are copied.
 * Return 0, a decode error, or KITH_ENOMEM.
 */
int state_decode(const uint8_t *p, size_t n, struct state **out);

/* Accessors; pointers are borrowed, valid while the state lives. */
const uint8_t *state_entity(const struct state *s);
uint64_t state_kind(const struct state *s);
uint64_t state_created(const struct state *s);	/* earliest hlc */
const uint8_t *state_creator(const struct state *s);
uint64_t state_updated(const struct state *s);	/* latest hlc */
uint64_t state_nversions(const struct state *s);
size_t state_nheads(const struct state *s);
const uint8_t *state_head(const struct state *s, size_t i);
size_t state_nfields(const struct state *s);
const struct state_field *state_field(const struct state *s, size_t i);
const struct state_field *state_get(const struct state *s, const char *name);

/**
 * state_str(s, name):
 * Return field ${name} as a new NUL-terminated string (integers in decimal),
 * or NULL if it is absent, nil or memory ran out.  The caller frees it.
 */
char *state_str(const struct state *s, const char *name);

/**
 * state_nconflicts(s):
 * Return how many fields of ${s} hold a conflict.
 */
size_t state_nconflicts(const struct state *s);

/**
 * state_status_rank(kind, status, len):
 * Return the workflow stage of ${status} (${len} bytes) for records of
 * ${kind}: 0 for the first stage upwards, or -1 if ${kind} has no such
 * status.  Kinds without a workflow return -1 for everything.
 */
int state_status_rank(uint64_t kind, const char *status, size_t len);

/**
 * state_free(s):
 * Free ${s}; nothing if NULL.
 */
void state_free(struct state *s);

#endif
