#ifndef ROSTER_H
#define ROSTER_H

/*
 * The roster: who belongs to a network, with what role, and how far each
 * key's records are accepted.  It is computed from the network's charter
 * and its member and revoke records alone, read by record kind, never from
 * arrival order or timestamps (proto/PROTOCOL.md 3.7, 3.8):
 *  - the charter's author is an admin;
 *  - a member record admits the key it names, and counts only if it sits in
 *    that key's member entity and its author is an admin with standing at
 *    it; a key's role is fixed by its admissions (the most privileged of
 *    those that count);
 *  - a revoke record names the key's last accepted record; the key's
 *    records past it, or off its chain, lose their standing for good;
 *  - standing is counted along each author's chain (chain.h), so a revoked
 *    admin's backdated admissions count for nothing, and a key that forked
 *    carries no authority from its fork on;
 *  - revocations that void each other (two admins revoking each other,
 *    neither having seen the other's) both take effect.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct chain_src;
struct record;
struct record_header;
struct roster;

enum {
	ROLE_NONE = 0,
	ROLE_ADMIN,
	ROLE_MEMBER,
	ROLE_PCN,
	ROLE_OBSERVER,
};

#define ROSTER_ORG_MAX	128	/* bytes of an organisation's name */

struct roster_entry {
	uint8_t key[KITH_KEY_LEN];	/* ed25519 */
	uint8_t x25519[32];		/* CURVE and sealing key */
	int role;			/* ROLE_NONE: never admitted */
	char org[ROSTER_ORG_MAX + 1];
	uint64_t since;			/* hlc of the admission (shown only) */
	uint8_t by[KITH_KEY_LEN];	/* the admin who admitted it */
	uint64_t revoked;		/* hlc of its revocation (shown), or 0 */
	uint64_t last_seq;		/* revoked: last seq accepted; 0: none */
	uint8_t last_id[KITH_ID_LEN];	/* revoked: that record's id */
	uint64_t fork;			/* its fork point, or 0 */
	size_t ncounted;		/* its member and revoke records that */
	const uint8_t (*counted)[KITH_ID_LEN];	/* count, in id order */
};

/**
 * roster_compute(recs, n, chains, out):
 * Compute the roster from ${n} records in any order: the charter (kind 1)
 * and member and revoke records (kinds 2 and 3), with their bodies; other
 * records are ignored.  ${chains} tells forks and walks along authors'
 * chains (NULL: no chain is known beyond the records' own headers).  Store
 * it in ${*out}, which the caller frees.  Return 0, KITH_ENOTFOUND if
 * there is no charter, KITH_ENOMEM, or the chain source's error.
 */
int roster_compute(struct record *const *recs, size_t n,
    const struct chain_src *chains, struct roster **out);

/**
 * roster_standing(r, h, id):
 * May the record ${id} with header ${h} be applied, as far as its author
 * goes?  Return 0 for an admin, member or pcn with standing at it;
 * KITH_ENOTFOUND for a key never admitted (the record waits in
 * quarantine); KITH_EREVOKED for a record past its author's revocation or
 * off the chain it accepts; KITH_EFORKED for a record at or after its
 * author's fork point; KITH_EDENIED for an observer's (who reads but never
 * writes).
 */
int roster_standing(const struct roster *r, const struct record_header *h,
    const uint8_t id[KITH_ID_LEN]);

/**
 * roster_admin(r, h, id):
 * Return 1 if the author of record ${id} (header ${h}) is an admin with
 * standing at that record, else 0.
 */
int roster_admin(const struct roster *r, const struct record_header *h,
    const uint8_t id[KITH_ID_LEN]);

/**
 * roster_current(r, key):
 * Return ${key}'s role for a record it writes now: its role, or ROLE_NONE
 * if it was never admitted, is revoked or has forked.
 */
int roster_current(const struct roster *r, const uint8_t key[KITH_KEY_LEN]);

/**
 * roster_find(r, key):
 * Return ${key}'s entry, revoked or not, or NULL; borrowed.
 */
const struct roster_entry *roster_find(const struct roster *r,
    const uint8_t key[KITH_KEY_LEN]);

/**
 * roster_find_x25519(r, pk):
 * Return the admitted entry whose X25519 key is ${pk}, or NULL; borrowed.
 */
const struct roster_entry *roster_find_x25519(const struct roster *r,
    const uint8_t pk[32]);

/**
 * roster_find_entity(r, entity):
 * Return the entry whose member entity (roster_member_entity) is ${entity}
 * and which has records that count, or NULL; borrowed.
 */
const struct roster_entry *roster_find_entity(const struct roster *r,
    const uint8_t entity[KITH_ENTITY_LEN]);

/**
 * roster_size(r), roster_get(r, i):
 * The entries, in key order; borrowed.
 */
size_t roster_size(const struct roster *r);
const struct roster_entry *roster_get(const struct roster *r, size_t i);

/**
 * roster_changed(a, b, key):
 * Return 1 if ${key}'s standing differs between ${a} and ${b} (either may
 * be NULL: no roster): its role, revocation, fork point or counted
 * records.  Else 0.
 */
int roster_changed(const struct roster *a, const struct roster *b,
    const uint8_t key[KITH_KEY_LEN]);

/**
 * roster_role_name(role), roster_role_parse(name):
 * Convert between a role and its name ("admin", "member", "pcn",
 * "observer"); parse returns ROLE_NONE for anything else.
 */
const char *roster_role_name(int role);
int roster_role_parse(const char *name);

/**
 * roster_member_entity(key, out):
 * Write to ${out} the entity id of ${key}'s member and revoke records: the
 * first 16 bytes of H("kith-member" || 0x00 || key).  A membership record
 * in any other entity counts for nothing.
 */
void roster_member_entity(const uint8_t key[KITH_KEY_LEN],
    uint8_t out[KITH_ENTITY_LEN]);

/**
 * roster_free(r):
 * Free ${r}; nothing if NULL.
 */
void roster_free(struct roster *r);

#endif
