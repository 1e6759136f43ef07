#ifndef ENTITY_H
#define ENTITY_H

/*
 * Acts on any entity, whatever its kind: finding it by a shortened id,
 * sharing its personal fields, erasing it, settling its conflicts.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct actor;
struct field_in;
struct state;

/**
 * entity_find(a, hex, kind, id, s):
 * Resolve ${hex} (32 hex digits, or a unique prefix of at least 6) to an
 * entity of ${kind} (0: any) in ${id}, and load its state into ${*s} if
 * ${s} is not NULL (the caller frees it).  Return 0; KITH_EINVAL for
 * something that is no id or a prefix matching several; KITH_ENOTFOUND.
 */
int entity_find(struct actor *a, const char *hex, uint64_t kind,
    uint8_t id[KITH_ENTITY_LEN], struct state **s);

/**
 * entity_audience(a, id, to, from):
 * The organisation entity ${id} is addressed to (its genesis's audience:
 * a referral's recipient) into ${to}, and its creator into ${from}.
 * Return 0, or KITH_ENOTFOUND if it is addressed to none.  Sets no why.
 */
int entity_audience(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    uint8_t to[KITH_KEY_LEN], uint8_t from[KITH_KEY_LEN]);

/**
 * entity_share(a, id, with):
 * Entitle the organisation ${with} to entity ${id}'s personal fields, and
 * seal them to it.  Only an organisation entitled to them may.
 */
int entity_share(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const uint8_t with[KITH_KEY_LEN]);

/**
 * entity_erase(a, id, reason):
 * Erase entity ${id} on every node, for ${reason} (no personal data).
 * Only its creator or an admin may.
 */
int entity_erase(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const char *reason);

/**
 * entity_resolve(a, id, in, n):
 * Settle entity ${id}'s conflicting fields with the ${n} values ${in}
 * (fields of its kind, and "status" for a request): a version whose
 * parents are all its current versions.  At least one field given must
 * be in conflict.
 */
int entity_resolve(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const struct field_in *in, size_t n);

#endif /* !ENTITY_H */
