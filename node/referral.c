/*
 * Referrals.
 */

#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "body.h"
#include "entity.h"
#include "field.h"
#include "kcrypto.h"
#include "member.h"
#include "referral.h"
#include "state.h"
#include "store.h"

/* Consent bases a referral may rest on, with the law behind each. */
static const char *const consents[] = { "explicit", "care", "support-body",
	NULL };

static int
is_consent(const char *s)
{
	size_t i;

	for (i = 0; consents[i] != NULL; i++)
		if (strcmp(s, consents[i]) == 0)
			return 1;
	return 0;
}

int
referral_send(struct actor *a, const char *to, const struct field_in *in,
    size_t n)
{
	uint8_t key[KITH_KEY_LEN];
	const char *v;
	struct body *b;
	int rc;

	if ((v = field_value(in, n, "consent")) == NULL)
		return actor_fail(a, KITH_EINVAL, "no consent basis: give "
		    "--consent explicit|care|support-body and "
		    "--consent-recorded-by NAME; nothing was written");
	if (!is_consent(v))
		return actor_fail(a, KITH_EINVAL, "--consent: one of explicit, "
		    "care, support-body");
	if (field_value(in, n, "consent-recorded-by") == NULL)
		return actor_fail(a, KITH_EINVAL, "--consent-recorded-by NAME: "
		    "who recorded the consent basis; nothing was written");
	if (to == NULL || field_value(in, n, "category") == NULL ||
	    field_value(in, n, "reason") == NULL)
		return actor_fail(a, KITH_EINVAL, "send needs --to, --category "
		    "and --reason");
	if ((b = body_new()) == NULL)
		return actor_fail(a, KITH_ENOMEM, "out of memory");
	if ((rc = field_set_all(b, field_defs(KITH_KIND_REFERRAL), in, n, 0,
	    a->why, sizeof(a->why))) == 0 &&
	    (rc = body_set_str(b, "status", 0, "sent")) != 0)
		rc = actor_fail(a, rc, "%s", kith_strerror(rc));
	if (rc == 0 && (rc = member_find(a, to, key)) == 0)
		rc = actor_create(a, KITH_KIND_REFERRAL, key, b);
	body_free(b);
	return rc;
}

int
referral_move(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const char *status, const char *outcome)
{
	uint8_t rcpt[KITH_KEY_LEN], from[KITH_KEY_LEN];
	char hex[2 * KITH_ENTITY_LEN + 1];
	struct state *s = NULL;
	struct body *b = NULL;
	char *cur = NULL;
	int rc, complete = strcmp(status, "completed") == 0;

	kith_hex(hex, id, KITH_ENTITY_LEN);
	if (!complete && strcmp(status, "accepted") != 0 &&
	    strcmp(status, "declined") != 0)
		return actor_fail(a, KITH_EINVAL, "a referral moves to "
		    "accepted, declined or completed");
	if (complete && (outcome == NULL || !field_text_ok(outcome)))
		return actor_fail(a, KITH_EINVAL, "complete needs --outcome "
		    "TEXT");
	if (strcmp(status, "declined") == 0 &&
	    (outcome == NULL || !field_text_ok(outcome)))
		return actor_fail(a, KITH_EINVAL, "decline needs --reason TEXT: "
		    "the referrer reads it (sealed to the two organisations) "
		    "to know what to do next");
	if (strcmp(status, "accepted") == 0 && outcome != NULL)
		return actor_fail(a, KITH_EINVAL, "accept takes no text");
	if ((rc = store_state(a->st, id, &s)) != 0)
		return actor_fail(a, rc, "%s", kith_strerror(rc));
	if ((rc = entity_audience(a, id, rcpt, from)) != 0) {
		rc = actor_fail(a, rc, "referral %s has no recipient", hex);
		goto out;
	}
	if (memcmp(rcpt, kcrypto_key_public(a->key), KITH_KEY_LEN) != 0) {
		rc = actor_fail(a, KITH_EDENIED, "only the organisation the "
		    "referral is addressed to can %s it", complete ?
		    "complete" : strcmp(status, "accepted") == 0 ? "accept" :
		    "decline");
		goto out;
	}
	cur = state_str(s, "status");
	if (cur == NULL || (complete ? strcmp(cur, "accepted") != 0 :
	    strcmp(cur, "sent") != 0)) {
		rc = actor_fail(a, KITH_EINVAL, "referral %s is %s; it moves "
		    "sent -> accepted or declined, then accepted -> completed",
		    hex, cur != NULL ? cur : "without a status");
		goto out;
	}
	if ((b = body_new()) == NULL ||
	    body_set_str(b, "status", 0, status) != 0 ||
	    (outcome != NULL && body_set_str(b, complete ? "outcome" :
	    "decline_reason", 1, outcome) != 0)) {
		rc = actor_fail(a, KITH_ENOMEM, "out of memory");
		goto out;
	}
	rc = actor_write(a, KITH_KIND_REFERRAL, id, NULL, rcpt, b);
out:
	free(cur);
	body_free(b);
	state_free(s);
	return rc;
}
