#ifndef INSIGHT_H
#define INSIGHT_H

/*
 * Insights: what people said at a session about a service (field.h's
 * insight table), and the response a PCN or a commissioner gives ("you
 * said, we did").  An insight carries its session's audience (the PCNs),
 * and so does every later record of it: a PCN's response reaches the
 * groups that raised the insight through the PCN's scoped feed.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct actor;
struct field_in;
struct state;

/**
 * insight_add(a, in, n):
 * Record an insight with the ${n} values ${in}: session (an id or a
 * unique prefix of one), service, theme and summary are required; quote
 * (sealed to this organisation) and sentiment are not.  ${a}->entity gets
 * its id.
 */
int insight_add(struct actor *a, const struct field_in *in, size_t n);

/**
 * insight_respond(a, id, in, n):
 * Answer insight ${id} with action, status (planned, done, not-possible)
 * and why.  Only a PCN the insight is addressed to, or an admin, may
 * (KITH_EDENIED before anything is signed); a response never moves back
 * from done or not-possible to planned.
 */
int insight_respond(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const struct field_in *in, size_t n);

/**
 * insight_open(s):
 * Return 1 if insight ${s} has no response that closes it (status done
 * or not-possible) and is not erased, else 0.
 */
int insight_open(const struct state *s);

#endif /* !INSIGHT_H */
