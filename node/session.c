/*
 * Outreach sessions.
 */

#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "body.h"
#include "entity.h"
#include "field.h"
#include "kcrypto.h"
#include "member.h"
#include "roster.h"
#include "session.h"
#include "store.h"

/*
 * The PCNs a session is addressed to: those named in ${to}, or every PCN
 * of the roster; into ${aud}, ${*naud} of them.
 */
static int
pcns(struct actor *a, const char *to, uint8_t (*aud)[KITH_KEY_LEN],
    size_t *naud)
{
	const struct roster_entry *e;
	struct roster *r = NULL;
	char *list, *tok, *save = NULL;
	size_t i;
	int rc = 0;

	*naud = 0;
	if ((rc = store_roster(a->st, &r)) != 0)
		return actor_fail(a, rc, "no roster: %s", kith_strerror(rc));
	if (to != NULL) {
		if ((list = strdup(to)) == NULL) {
			rc = actor_fail(a, KITH_ENOMEM, "out of memory");
			goto out;
		}
		for (tok = strtok_r(list, ",", &save); tok != NULL && rc == 0;
		    tok = strtok_r(NULL, ",", &save)) {
			if (*naud == KITH_AUDIENCE_MAX)
				rc = actor_fail(a, KITH_EINVAL, "--to names at "
				    "most %d PCNs", KITH_AUDIENCE_MAX);
			else if ((rc = member_find(a, tok, aud[*naud])) == 0 &&
			    roster_current(r, aud[*naud]) != ROLE_PCN)
				rc = actor_fail(a, KITH_EINVAL, "--to '%s' is "
				    "not a PCN (kith member list)", tok);
			else if (rc == 0)
				++*naud;
		}
		free(list);
		goto out;
	}
	for (i = 0; i < roster_size(r); i++) {
		e = roster_get(r, i);
		if (e->role != ROLE_PCN || e->revoked != 0)
			continue;
		if (*naud == KITH_AUDIENCE_MAX) {
			rc = actor_fail(a, KITH_EINVAL, "the network has more "
			    "than %d PCNs: name those the session is for with "
			    "--to PCN[,PCN..]", KITH_AUDIENCE_MAX);
			goto out;
		}
		memcpy(aud[(*naud)++], e->key, KITH_KEY_LEN);
	}
out:
	roster_free(r);
	return rc;
}

/* A count given in ${in} for ${opt}, or -1. */
static long
count(const struct field_in *in, size_t n, const char *opt)
{
	const char *v = field_value(in, n, opt);
	char *end;
	long c;

	if (v == NULL)
		return -1;
	c = strtol(v, &end, 10);
	return *end == '\0' && end != v ? c : -1;
}

int
session_add(struct actor *a, const char *to, const struct field_in *in,
    size_t n)
{
	static const char *const required[] = { "group", "date", "area",
		"community", "lang", "reached", "in-depth", NULL };
	uint8_t aud[KITH_AUDIENCE_MAX][KITH_KEY_LEN], vid[KITH_ENTITY_LEN];
	char vhex[2 * KITH_ENTITY_LEN + 1];
	const char *lead = field_value(in, n, "lead");
	struct body *b = NULL;
	size_t naud = 0, i;
	long reached, deep;
	int rc;

	for (i = 0; required[i] != NULL; i++)
		if (field_value(in, n, required[i]) == NULL)
			return actor_fail(a, KITH_EINVAL, "--group, --date, "
			    "--area, --community, --lang, --reached and "
			    "--in-depth are required");
	if ((b = body_new()) == NULL)
		return actor_fail(a, KITH_ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		if (strcmp(in[i].opt, "lead") != 0 && (rc = field_set_all(b,
		    field_defs(KITH_KIND_SESSION), &in[i], 1, 0, a->why,
		    sizeof(a->why))) != 0)
			goto out;
	/* Both are valid counts now. */
	reached = count(in, n, "reached");
	deep = count(in, n, "in-depth");
	if (deep > reached) {
		rc = actor_fail(a, KITH_EINVAL, "--in-depth (%ld) is more than "
		    "--reached (%ld): an in-depth conversation is with someone "
		    "reached", deep, reached);
		goto out;
	}
	/* The lead is a volunteer, a community health champion, by id. */
	if (lead != NULL) {
		if ((rc = entity_find(a, lead, KITH_KIND_VOLUNTEER, vid,
		    NULL)) != 0)
			goto out;
		kith_hex(vhex, vid, KITH_ENTITY_LEN);
		if ((rc = body_set_str(b, "lead", 0, vhex)) != 0) {
			rc = actor_fail(a, rc, "%s", kith_strerror(rc));
			goto out;
		}
	}
	if ((rc = pcns(a, to, aud, &naud)) == 0)
		rc = actor_create_to(a, KITH_KIND_SESSION,
		    (const uint8_t (*)[KITH_KEY_LEN])aud, naud, b);
out:
	body_free(b);
	return rc;
}
