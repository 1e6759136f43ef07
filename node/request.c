/*
 * Help requests.
 */

#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "body.h"
#include "entity.h"
#include "field.h"
#include "request.h"
#include "state.h"
#include "store.h"
#include "codec.h"

int
request_add(struct actor *a, const struct field_in *in, size_t n)
{
	struct body *b;
	int rc;

	if (field_value(in, n, "category") == NULL ||
	    field_value(in, n, "area") == NULL)
		return actor_fail(a, KITH_EINVAL, "--category and --area are "
		    "required");
	if ((b = body_new()) == NULL)
		return actor_fail(a, KITH_ENOMEM, "out of memory");
	if ((rc = field_set_all(b, field_defs(KITH_KIND_REQUEST), in, n, 0,
	    a->why, sizeof(a->why))) == 0) {
		if (field_value(in, n, "urgency") == NULL)
			rc = body_set_int(b, "urgency", 0, 2);
		if (rc == 0)
			rc = body_set_str(b, "status", 0, "open");
		if (rc != 0)
			rc = actor_fail(a, rc, "%s", kith_strerror(rc));
	}
	if (rc == 0)
		rc = actor_create(a, KITH_KIND_REQUEST, NULL, b);
	body_free(b);
	return rc;
}

int
request_update(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const struct field_in *in, size_t n)
{
	struct body *b;
	int rc;

	if (n == 0)
		return actor_fail(a, KITH_EINVAL, "nothing to update: give at "
		    "least one field option");
	if ((b = body_new()) == NULL)
		return actor_fail(a, KITH_ENOMEM, "out of memory");
	if ((rc = field_set_all(b, field_defs(KITH_KIND_REQUEST), in, n, 1,
	    a->why, sizeof(a->why))) == 0)
		rc = actor_write(a, KITH_KIND_REQUEST, id, NULL, NULL, b);
	body_free(b);
	return rc;
}

/* Request ${id}'s state and current round into ${*s} and ${*round}. */
static int
load(struct actor *a, const uint8_t id[KITH_ENTITY_LEN], struct state **s,
    int64_t *round)
{
	char *r;
	int rc;

	if ((rc = store_state(a->st, id, s)) != 0)
		return actor_fail(a, rc, "%s", kith_strerror(rc));
	r = state_str(*s, "round");
	*round = r != NULL ? strtoll(r, NULL, 10) : 0;
	free(r);
	return 0;
}

/*
 * Write ${id}'s ${status} in ${round}, with the claim's ${volunteer} (an
 * entity id, "" to clear it, or NULL).
 */
static int
write_status(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const char *status, int64_t round, const char *volunteer)
{
	static const struct codec_value nil = { .type = CODEC_NIL };
	struct body *b;
	int rc;

	if ((b = body_new()) == NULL)
		return actor_fail(a, KITH_ENOMEM, "out of memory");
	rc = body_set_str(b, "status", 0, status);
	if (rc == 0 && round > 0)
		rc = body_set_int(b, "round", 0, round);
	if (rc == 0 && volunteer != NULL)
		rc = *volunteer == '\0' ? body_set(b, "volunteer", 0, &nil) :
		    body_set_str(b, "volunteer", 0, volunteer);
	if (rc != 0)
		rc = actor_fail(a, rc, "%s", kith_strerror(rc));
	else
		rc = actor_write(a, KITH_KIND_REQUEST, id, NULL, NULL, b);
	body_free(b);
	return rc;
}

int
request_move(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const char *status, const char *volunteer)
{
	uint8_t vid[KITH_ENTITY_LEN];
	char vhex[2 * KITH_ENTITY_LEN + 1], ihex[2 * KITH_ENTITY_LEN + 1];
	struct state *s = NULL;
	char *cur = NULL;
	int64_t round;
	int rc, from_rank, to_rank;

	to_rank = state_status_rank(KITH_KIND_REQUEST, status, strlen(status));
	if (to_rank < 1)
		return actor_fail(a, KITH_EINVAL, "a request moves to claimed, "
		    "fulfilled or cancelled");
	if ((rc = load(a, id, &s, &round)) != 0)
		return rc;
	cur = state_str(s, "status");
	from_rank = cur ? state_status_rank(KITH_KIND_REQUEST, cur,
	    strlen(cur)) : 0;
	if (from_rank >= 2 || from_rank > to_rank) {
		kith_hex(ihex, id, KITH_ENTITY_LEN);
		rc = actor_fail(a, KITH_EINVAL, "request %s is %s; its status "
		    "only moves forward (open, claimed, fulfilled or "
		    "cancelled): reopen it first", ihex, cur);
		goto out;
	}
	if (volunteer != NULL) {
		if ((rc = entity_find(a, volunteer, KITH_KIND_VOLUNTEER, vid,
		    NULL)) != 0)
			goto out;
		kith_hex(vhex, vid, KITH_ENTITY_LEN);
	}
	rc = write_status(a, id, status, round, volunteer != NULL ? vhex :
	    NULL);
out:
	free(cur);
	state_free(s);
	return rc;
}

int
request_reopen(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    int unclaim)
{
	char ihex[2 * KITH_ENTITY_LEN + 1];
	struct state *s = NULL;
	char *cur = NULL;
	int64_t round;
	int rc, rank;

	if ((rc = load(a, id, &s, &round)) != 0)
		return rc;
	cur = state_str(s, "status");
	rank = cur ? state_status_rank(KITH_KIND_REQUEST, cur, strlen(cur)) : 0;
	kith_hex(ihex, id, KITH_ENTITY_LEN);
	if (unclaim ? rank != 1 : rank != 2)
		rc = actor_fail(a, KITH_EINVAL, "request %s is %s; %s", ihex,
		    cur != NULL ? cur : "without a status", unclaim ?
		    "only a claimed request can be unclaimed" : "only a "
		    "fulfilled or cancelled request can be reopened (unclaim "
		    "a claimed one)");
	else if (round >= STATE_ROUND_MAX)
		rc = actor_fail(a, KITH_ERANGE, "request %s has been reopened "
		    "as often as it may be", ihex);
	else
		rc = write_status(a, id, "open", round + 1, "");
	free(cur);
	state_free(s);
	return rc;
}
