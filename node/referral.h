#ifndef REFERRAL_H
#define REFERRAL_H

/*
 * Referrals: a person referred to another member organisation, on a
 * lawful basis for sharing health data, and the recipient's answers:
 * sent, then accepted or declined; accepted, then completed.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct actor;
struct field_in;

/**
 * referral_send(a, to, in, n):
 * Refer a person to the member organisation ${to} (its name or key; see
 * member_find) with
 * the ${n} values ${in}: category, reason, consent (explicit, care or
 * support-body) and consent-recorded-by are required.  Nothing is written
 * without them.  ${a}->entity gets its id.
 */
int referral_send(struct actor *a, const char *to,
    const struct field_in *in, size_t n);

/**
 * referral_move(a, id, status, outcome):
 * As its recipient, move referral ${id} to ${status} ("accepted",
 * "declined", "completed"), forward only; completed needs ${outcome},
 * declined its reason (both personal fields), accepted NULL.
 */
int referral_move(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const char *status, const char *outcome);

#endif /* !REFERRAL_H */
