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
	if ((rc = field_set_all(b, field_defs(KITH_KIND_REQUEST), in, n,
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
	if ((rc = field_set_all(b, field_defs(KITH_KIND_REQUEST), in, n,
	    a->why, sizeof(a->why))) == 0)
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
	struct body *b = NULL;
	char *cur = NULL;
	int rc, from_rank, to_rank;

	to_rank = state_status_rank(KITH_KIND_REQUEST, status, strlen(status));
	if (to_rank < 1)
		return actor_fail(a, KITH_EINVAL, "a request moves to claimed, "
		    "fulfilled or cancelled");
	if ((rc = store_state(a->st, id, &s)) != 0)
		return actor_fail(a, rc, "%s", kith_strerror(rc));
	cur = state_str(s, "status");
	from_rank = cur ? state_status_rank(KITH_KIND_REQUEST, cur,
	    strlen(cur)) : 0;
	if (from_rank >= 2 || from_rank > to_rank) {
		kith_hex(ihex, id, KITH_ENTITY_LEN);
		rc = actor_fail(a, KITH_EINVAL, "request %s is %s; its status "
		    "only moves forward (open, claimed, fulfilled or "
		    "cancelled)", ihex, cur);
		goto out;
	}
	if ((b = body_new()) == NULL ||
	    body_set_str(b, "status", 0, status) != 0) {
		rc = actor_fail(a, KITH_ENOMEM, "out of memory");
		goto out;
	}
	if (volunteer != NULL) {
		if ((rc = entity_find(a, volunteer, KITH_KIND_VOLUNTEER, vid,
		    NULL)) != 0)
			goto out;
		kith_hex(vhex, vid, KITH_ENTITY_LEN);
		if (body_set_str(b, "volunteer", 0, vhex) != 0) {
			rc = actor_fail(a, KITH_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = actor_write(a, KITH_KIND_REQUEST, id, NULL, NULL, b);
out:
	free(cur);
	body_free(b);
	state_free(s);
	return rc;
}
