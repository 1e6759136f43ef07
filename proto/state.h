#ifndef STATE_H
#define STATE_H

/*
 * Entity state: what the records of one entity add up to.  The computation
 * depends only on the set of records, never on their arrival order, so every
 * node holding the same records computes byte-identical state.  Authority
 * comes from structure no author can rewrite, never from a timestamp
 * (proto/PROTOCOL.md 7.1):
 *  - the entity's genesis record fixes its kind, its creator and, for a
 *    referral, its recipient; records of another kind are evidence only;
 *  - a record applies only if its author has standing (roster.h), and in a
 *    referral only from its creator or recipient;
 *  - a field's candidate writes are the records that set it; for "status"
 *    of a request or referral only the writes of the furthest stage;
 *  - a write is superseded when a record that lists it among its ancestors
 *    writes the same field; the value is the unsuperseded write with the
 *    greatest (hlc, author, id), other values stay as a visible conflict;
 *  - personal fields are sealed to the entity's readers (its creator, a
 *    referral's recipient, and whom readers share with), and a sealed
 *    section by anyone else, or to anyone else, never applies;
 *  - an erase record by the creator or an admin erases the entity.
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
 * held, are ${recs}, in any order, by the rules above; with ${roster} NULL
 * every author has standing and no one is an admin.  A key's member entity
 * (no genesis) takes its state from ${roster}'s entry for the key.  Store
 * the state in ${*out}, which the caller frees.  Return 0;
 * KITH_ENOGENESIS if no genesis is held (and it is no member entity);
 * KITH_ENOTFOUND if the genesis's author has no standing, or no member or
 * revoke record of a member entity counts; KITH_EINVAL if the records are
 * of more than one entity; or KITH_ENOMEM.
 */
int state_compute(struct record *const *recs, size_t n,
    const struct roster *roster, struct state **out);

/**
 * state_compute_cached(recs, n, roster, out, cache, clen):
 * state_compute, and, if ${cache} is not NULL, the entity's merge cache
 * in a new buffer ${*cache} (the caller frees it) of ${*clen} bytes, or
 * NULL and 0 if there is none to keep (an erased entity, a member entity).
 * A merge cache is a node's own summary of the merge, never sent and no
 * part of the digest: what state_add needs to take one more record
 * without reading the others.
 */
int state_compute_cached(struct record *const *recs, size_t n,
    const struct roster *roster, struct state **out, uint8_t **cache,
    size_t *clen);

/**
 * state_add(cache, clen, rec, roster, out, ncache, nclen):
 * Add ${rec} to the entity whose merge cache is the ${clen} bytes at
 * ${cache}.  If ${rec} is a data record that applies, carries no nonce,
 * and no applied record names it as a parent (a new tip), and it writes
 * no "share" or "status", compute the entity's new state into ${*out} and
 * its new cache into ${*ncache} (the caller frees both) of ${*nclen}
 * bytes, as state_compute_cached would over all the records, at the cost
 * of the headers and of the fields ${rec} writes; return 0.  Return 1 if
 * ${rec} changes nothing (it does not apply, or is held already); 2 if
 * the entity must be computed whole (another kind of record, or a cache
 * that does not parse); or KITH_ENOMEM.
 */
int state_add(const uint8_t *cache, size_t clen, const struct record *rec,
    const struct roster *roster, struct state **out, uint8_t **ncache,
    size_t *nclen);

/**
 * state_may_erase(s, roster, author):
 * Would an erase record that ${author} writes now erase the entity whose
 * state is ${s}?  Return 1 if ${author} is its creator (and a member with
 * standing, when ${roster} is not NULL) or an admin in good standing in
 * ${roster}; 0 otherwise, and always for charters and member entities.
 */
int state_may_erase(const struct state *s, const struct roster *roster,
    const uint8_t author[KITH_KEY_LEN]);

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
uint64_t state_created(const struct state *s);	/* the genesis's hlc */
const uint8_t *state_creator(const struct state *s);
uint64_t state_updated(const struct state *s);	/* latest applied hlc */
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

/* The highest round a request's status may be in (PROTOCOL.md 7). */
#define STATE_ROUND_MAX	1000000

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
