#ifndef SESSION_H
#define SESSION_H

/*
 * Outreach and engagement sessions: a stall, a meeting, a focus group
 * held with a community (field.h's session table).  A session names no
 * person: its counts, languages and district are public, its notes
 * sealed, and its lead, if any, is a volunteer's entity id.  A session
 * is addressed to the network's PCNs, so their scoped feeds carry it.
 */

#include <stddef.h>

struct actor;
struct field_in;

/**
 * session_add(a, to, in, n):
 * Record a session with the ${n} values ${in}: group, date, area,
 * community, lang, reached and in-depth are required, and in-depth is at
 * most reached.  It is addressed to the PCNs named in ${to} (organisation
 * names or keys, comma-separated, at most KITH_AUDIENCE_MAX), or, if
 * ${to} is NULL, to every PCN of the network (refused if more than
 * KITH_AUDIENCE_MAX).  ${a}->entity gets its id.
 */
int session_add(struct actor *a, const char *to, const struct field_in *in,
    size_t n);

#endif /* !SESSION_H */
