#ifndef MEMBER_H
#define MEMBER_H

/*
 * Members: the organisations of the network, by key and name, and the
 * rules an admin follows to admit and revoke them.
 */

#include <stdint.h>
#include <stdio.h>

#include "kith.h"

struct actor;

/**
 * member_parse_key(a, hex, key):
 * Parse ${hex}, a node key as `kith id` prints it, into ${key}.  Return 0
 * or KITH_EINVAL.
 */
int member_parse_key(struct actor *a, const char *hex,
    uint8_t key[KITH_KEY_LEN]);

/**
 * member_find(a, what, key):
 * The member organisation ${what} names, by its key (64 hex digits) or its
 * name in the roster, into ${key}.  Return 0; KITH_ENOTFOUND if no member
 * that may be written to has that name or key; KITH_EINVAL if the name is
 * not unique.
 */
int member_find(struct actor *a, const char *what, uint8_t key[KITH_KEY_LEN]);

/**
 * member_add(a, key, org, role):
 * As an admin, admit ${key} as organisation ${org} with role ${role}
 * ("admin", "member", "pcn", "observer").
 */
int member_add(struct actor *a, const uint8_t key[KITH_KEY_LEN],
    const char *org, const char *role);

/**
 * member_revoke(a, key):
 * As an admin, revoke ${key}, naming its last record this node holds.
 */
int member_revoke(struct actor *a, const uint8_t key[KITH_KEY_LEN]);

/**
 * member_charter(a, f):
 * Write the network's charter and its member and revoke records, as a
 * records file, to ${f}: what a joining node starts from.
 */
int member_charter(struct actor *a, FILE *f);

/**
 * member_invite(a, org, role, peer, days, out):
 * As an admin, invite the organisation ${org} with ${role} to the network:
 * the invite line (invite.h) to ${*out}, which the caller frees, valid for
 * ${days} days; ${peer} is the KEY@ENDPOINT the newcomer syncs with (or
 * "").  Nothing is written to the store.
 */
int member_invite(struct actor *a, const char *org, const char *role,
    const char *peer, int days, char **out);

/**
 * member_admit(a, reply):
 * As the admin who wrote the invite, admit the key of ${reply} (a reply
 * line) with the name and role the invite gave.
 */
int member_admit(struct actor *a, const char *reply);

#endif /* !MEMBER_H */
