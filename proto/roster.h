#ifndef ROSTER_H
#define ROSTER_H

/*
 * The roster: who belongs to a network, with what role, and from when to
 * when.  It is computed from the network's charter and its member and
 * revoke records alone, never from arrival order, so every node holding the
 * same records agrees on it (proto/PROTOCOL.md, "Membership"):
 *  - the charter's author is an admin;
 *  - records are taken in version order (hlc, author, id); a member or
 *    revoke record counts only if its author is an admin, not revoked, at
 *    its hlc; the rest are kept as evidence and change nothing;
 *  - a member record admits a key with a role, or changes its role; a
 *    revoke record ends a key's membership at its hlc, for good.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct record;
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
	int role;
	char org[ROSTER_ORG_MAX + 1];
	uint64_t since;			/* hlc of the admitting record */
	uint64_t revoked;		/* hlc of the revocation, or 0 */
	uint8_t by[KITH_KEY_LEN];	/* the admin who admitted it */
};

/**
 * roster_compute(recs, n, out):
 * Compute the roster from ${n} records in any order: the charter (kind 1)
 * and member and revoke records (kinds 2 and 3), with their bodies; other
 * records are ignored.  Store it in ${*out}, which the caller frees.
 * Return 0, KITH_ENOTFOUND if there is no charter, or KITH_ENOMEM.
 */
int roster_compute(struct record *const *recs, size_t n, struct roster **out);

/**
 * roster_check(r, key, hlc):
 * May a record by ${key} stamped ${hlc} be applied?  Return 0 for an
 * admin, member or pcn not revoked by ${hlc}; KITH_ENOTFOUND for a key never
 * admitted (the record waits in quarantine); KITH_EREVOKED if the key was
 * revoked at or before ${hlc}; KITH_EDENIED for an observer (who reads but
 * never writes).
 */
int roster_check(const struct roster *r, const uint8_t key[KITH_KEY_LEN],
    uint64_t hlc);

/**
 * roster_role(r, key, hlc):
 * Return ${key}'s role at ${hlc}: ROLE_NONE if it was not a member then.
 */
int roster_role(const struct roster *r, const uint8_t key[KITH_KEY_LEN],
    uint64_t hlc);

/**
 * roster_find(r, key):
 * Return ${key}'s entry, revoked or not, or NULL; borrowed.
 */
const struct roster_entry *roster_find(const struct roster *r,
    const uint8_t key[KITH_KEY_LEN]);

/**
 * roster_find_x25519(r, pk):
 * Return the entry whose X25519 key is ${pk}, or NULL; borrowed.
 */
const struct roster_entry *roster_find_x25519(const struct roster *r,
    const uint8_t pk[32]);

/**
 * roster_size(r), roster_get(r, i):
 * The entries, in key order; borrowed.
 */
size_t roster_size(const struct roster *r);
const struct roster_entry *roster_get(const struct roster *r, size_t i);

/**
 * roster_changed(a, b, key):
 * Return 1 if ${key}'s entry differs between ${a} and ${b} (either may be
 * NULL: no roster), else 0.
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
 * Write to ${out} the entity id of ${key}'s member records: the first 16
 * bytes of H("kith-member" || 0x00 || key), so every admin's record about
 * one key lands in one entity.
 */
void roster_member_entity(const uint8_t key[KITH_KEY_LEN],
    uint8_t out[KITH_ENTITY_LEN]);

/**
 * roster_free(r):
 * Free ${r}; nothing if NULL.
 */
void roster_free(struct roster *r);

#endif
