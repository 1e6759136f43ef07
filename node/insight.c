/*
 * Insights and their responses.
 */

#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "body.h"
#include "entity.h"
#include "field.h"
#include "insight.h"
#include "kcrypto.h"
#include "roster.h"
#include "state.h"
#include "store.h"

int
insight_add(struct actor *a, const struct field_in *in, size_t n)
{
	static const char *const required[] = { "session", "service",
		"theme", "summary", NULL };
	uint8_t aud[KITH_AUDIENCE_MAX][KITH_KEY_LEN], sid[KITH_ENTITY_LEN];
	char shex[2 * KITH_ENTITY_LEN + 1];
	const struct field_def *f;
	struct body *b = NULL;
	size_t naud, i;
	int rc;

	for (i = 0; required[i] != NULL; i++)
		if (field_value(in, n, required[i]) == NULL)
			return actor_fail(a, KITH_EINVAL, "--session, --service, "
			    "--theme and --summary are required");
	for (i = 0; i < n; i++)
		if ((f = field_find(field_defs(KITH_KIND_INSIGHT),
		    in[i].opt)) != NULL && (f->flags & FIELD_ANSWER))
			return actor_fail(a, KITH_EINVAL, "--%s is part of a "
			    "response: kith insight respond", in[i].opt);
	if ((rc = entity_find(a, field_value(in, n, "session"),
	    KITH_KIND_SESSION, sid, NULL)) != 0)
		return rc;
	if ((b = body_new()) == NULL)
		return actor_fail(a, KITH_ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		if (strcmp(in[i].opt, "session") != 0 && (rc = field_set_all(b,
		    field_defs(KITH_KIND_INSIGHT), &in[i], 1, 0, a->why,
		    sizeof(a->why))) != 0)
			goto out;
	kith_hex(shex, sid, KITH_ENTITY_LEN);
	if ((rc = body_set_str(b, "session", 0, shex)) != 0) {
		rc = actor_fail(a, rc, "%s", kith_strerror(rc));
		goto out;
	}
	/* The PCNs that hold the session hold what was said at it. */
	naud = actor_audience(a, sid, aud);
	rc = actor_create_to(a, KITH_KIND_INSIGHT,
	    (const uint8_t (*)[KITH_KEY_LEN])aud, naud, b);
out:
	body_free(b);
	return rc;
}

/* Is ${key} among the ${n} keys ${aud}? */
static int
addressed(const uint8_t (*aud)[KITH_KEY_LEN], size_t n, const uint8_t *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(aud[i], key, KITH_KEY_LEN) == 0)
			return 1;
	return 0;
}

int
insight_respond(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const struct field_in *in, size_t n)
{
	uint8_t aud[KITH_AUDIENCE_MAX][KITH_KEY_LEN];
	const uint8_t *me = kcrypto_key_public(a->key);
	const struct field_def *defs = field_defs(KITH_KIND_INSIGHT), *f;
	const char *status = field_value(in, n, "status");
	struct roster *r = NULL;
	struct state *s = NULL;
	struct body *b = NULL;
	char *cur = NULL;
	size_t naud, i;
	int rc, role;

	if (field_value(in, n, "action") == NULL || status == NULL ||
	    field_value(in, n, "why") == NULL)
		return actor_fail(a, KITH_EINVAL, "--action, --status and --why "
		    "are required");
	if ((rc = store_roster(a->st, &r)) != 0)
		return actor_fail(a, rc, "no roster: %s", kith_strerror(rc));
	role = roster_current(r, me);
	roster_free(r);
	/* The merge applies a response from a PCN or an admin only. */
	if (role != ROLE_PCN && role != ROLE_ADMIN)
		return actor_fail(a, KITH_EDENIED, "only a PCN or an admin "
		    "responds to an insight; this node is %s, so nothing was "
		    "written", role == ROLE_NONE ? "not a member" :
		    roster_role_name(role));
	naud = actor_audience(a, id, aud);
	if (role == ROLE_PCN && !addressed((const uint8_t (*)[KITH_KEY_LEN])
	    aud, naud, me))
		return actor_fail(a, KITH_EDENIED, "this insight is not "
		    "addressed to this PCN, so its response would never reach "
		    "the groups that raised it; nothing was written");
	if ((rc = store_state(a->st, id, &s)) != 0)
		return actor_fail(a, rc, "%s", kith_strerror(rc));
	if ((b = body_new()) == NULL) {
		rc = actor_fail(a, KITH_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((f = field_find(defs, in[i].opt)) == NULL ||
		    !(f->flags & FIELD_ANSWER)) {
			rc = actor_fail(a, KITH_EINVAL, "--%s is not part of a "
			    "response", in[i].opt);
			goto out;
		}
		if ((rc = field_set(b, f, in[i].value, 0, a->why,
		    sizeof(a->why))) != 0)
			goto out;
	}
	if (!insight_open(s) && strcmp(status, "planned") == 0) {
		cur = state_str(s, "status");
		rc = actor_fail(a, KITH_EINVAL, "the insight's response is "
		    "already %s; a response only moves forward (planned, then "
		    "done or not-possible)", cur != NULL ? cur : "closed");
		goto out;
	}
	rc = actor_write(a, KITH_KIND_INSIGHT, id, NULL, NULL, b);
out:
	free(cur);
	body_free(b);
	state_free(s);
	return rc;
}

int
insight_open(const struct state *s)
{
	char *st = state_str(s, "status");
	int open;

	/* An erased insight asks nothing of anyone. */
	open = state_get(s, "erased") == NULL && (st == NULL ||
	    state_status_rank(KITH_KIND_INSIGHT, st, strlen(st)) < 1);
	free(st);
	return open;
}
