#ifndef VOLUNTEER_H
#define VOLUNTEER_H

/*
 * Volunteers: what one holds (field.h's volunteer table); a DBS check
 * other than none goes with the date it was checked.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct actor;
struct field_in;

/**
 * volunteer_add(a, in, n):
 * Register a volunteer with the ${n} values ${in}; name and area are
 * required.  ${a}->entity gets its id.
 */
int volunteer_add(struct actor *a, const struct field_in *in, size_t n);

/**
 * volunteer_update(a, id, in, n):
 * Change fields of volunteer ${id}: at least one value.
 */
int volunteer_update(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const struct field_in *in, size_t n);

#endif /* !VOLUNTEER_H */
