/*
 * Acts on any entity: find, share, erase, resolve.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "body.h"
#include "entity.h"
#include "field.h"
#include "kcrypto.h"
#include "record.h"
#include "roster.h"
#include "seal.h"
#include "state.h"
#include "store.h"

int
entity_find(struct actor *a, const char *hex, uint64_t kind,
    uint8_t id[KITH_ENTITY_LEN], struct state **s)
{
	uint8_t prefix[KITH_ENTITY_LEN] = { 0 };
	struct state *tmp = NULL;
	size_t i, n = strlen(hex);
	int rc;

	if (n < 6 || n > 2 * KITH_ENTITY_LEN)
		return actor_fail(a, KITH_EINVAL, "'%s' is not an id: give 32 "
		    "hex digits, or at least the first 6", hex);
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)hex[i]))
			return actor_fail(a, KITH_EINVAL, "'%s' is not an id: "
			    "it must be hex digits", hex);
		prefix[i / 2] |= (uint8_t)((i % 2 ? 1 : 16) *
		    (isdigit((unsigned char)hex[i]) ? hex[i] - '0' :
		    tolower((unsigned char)hex[i]) - 'a' + 10));
	}
	rc = store_find_entity(a->st, prefix, n, id);
	if (rc == KITH_EEXIST)
		return actor_fail(a, KITH_EINVAL, "id prefix '%s' matches more "
		    "than one entity; give more digits", hex);
	if (rc == 0)
		rc = store_state(a->st, id, &tmp);
	if (rc == KITH_ENOTFOUND ||
	    (rc == 0 && kind != 0 && state_kind(tmp) != kind)) {
		state_free(tmp);
		return actor_fail(a, KITH_ENOTFOUND, "no %s with id %s",
		    kind ? kith_kind_name(kind) : "entity", hex);
	}
	if (rc != 0)
		return actor_fail(a, rc, "%s", kith_strerror(rc));
	if (s != NULL)
		*s = tmp;
	else
		state_free(tmp);
	return 0;
}

int
entity_audience(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    uint8_t to[KITH_KEY_LEN], uint8_t from[KITH_KEY_LEN])
{
	struct record **recs = NULL;
	const struct record *g;
	size_t n = 0;
	int rc;

	if ((rc = store_entity(a->st, id, &recs, &n)) != 0)
		return rc;
	g = record_genesis(recs, n);
	rc = g == NULL || record_header(g)->naudience == 0 ? KITH_ENOTFOUND :
	    0;
	if (rc == 0) {
		memcpy(to, record_header(g)->audience[0], KITH_KEY_LEN);
		memcpy(from, record_header(g)->author, KITH_KEY_LEN);
	}
	store_records_free(recs, n);
	return rc;
}

/* The organisation an entity's records are addressed to, or NULL. */
static const uint8_t *
addressed_to(struct actor *a, const struct state *s, uint8_t to[KITH_KEY_LEN])
{
	uint8_t from[KITH_KEY_LEN];

	return state_kind(s) == KITH_KIND_REFERRAL &&
	    entity_audience(a, state_entity(s), to, from) == 0 ? to : NULL;
}

int
entity_share(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const uint8_t with[KITH_KEY_LEN])
{
	uint8_t rcpt[SEAL_RECIPIENTS_MAX][32];
	char hex[2 * KITH_KEY_LEN + 1], *readers = NULL;
	const struct body_field *f;
	struct body *opened = NULL, *b = NULL;
	struct state *s = NULL;
	size_t n, i;
	int rc;

	if ((rc = store_state(a->st, id, &s)) != 0) {
		rc = actor_fail(a, rc, "%s", kith_strerror(rc));
		goto out;
	}
	kith_hex(hex, with, KITH_KEY_LEN);
	if ((readers = state_str(s, "readers")) != NULL &&
	    strstr(readers, hex) != NULL) {
		rc = actor_fail(a, KITH_EEXIST, "that organisation may read "
		    "them already");
		goto out;
	}
	if ((rc = actor_open(a, s, &opened, rcpt, &n)) != 0) {
		rc = actor_fail(a, rc == KITH_ESEALED ? KITH_EDENIED : rc,
		    "%s", rc == KITH_ENOTFOUND ? "it has no personal fields "
		    "to share" : rc == KITH_ESEALED ? "this node may not read "
		    "its personal fields, so it cannot share them" :
		    kith_strerror(rc));
		goto out;
	}
	if ((b = body_new()) == NULL) {
		rc = actor_fail(a, KITH_ENOMEM, "out of memory");
		goto out;
	}
	/* The share itself is public: it names whom it entitles. */
	rc = body_set_str(b, "share", 0, hex);
	for (i = 0; rc == 0 && i < body_nfields(opened); i++)
		if ((f = body_field(opened, i))->personal)
			rc = body_set(b, f->name, 1, &f->v);
	if (rc != 0) {
		rc = actor_fail(a, rc, "%s", kith_strerror(rc));
		goto out;
	}
	if ((rc = actor_seal(a, b, id, NULL, with)) != 0)
		goto out;
	rc = actor_write(a, state_kind(s), id, NULL, NULL, b);
out:
	free(readers);
	body_free(opened);
	body_free(b);
	state_free(s);
	return rc;
}

int
entity_erase(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const char *reason)
{
	uint8_t to[KITH_KEY_LEN];
	struct roster *r = NULL;
	struct state *s = NULL;
	struct body *b = NULL;
	int rc, may = 0;

	if (!field_text_ok(reason) || strlen(reason) > 500)
		return actor_fail(a, KITH_EINVAL, "--reason: up to 500 "
		    "characters of text");
	if ((rc = store_state(a->st, id, &s)) != 0)
		return actor_fail(a, rc, "%s", kith_strerror(rc));
	/* The merge's own rule. */
	if ((rc = store_roster(a->st, &r)) == 0)
		may = state_may_erase(s, r, kcrypto_key_public(a->key));
	roster_free(r);
	if (rc != 0)
		rc = actor_fail(a, rc, "%s", kith_strerror(rc));
	else if (state_get(s, "erased") != NULL)
		rc = actor_fail(a, KITH_EEXIST, "it is already erased");
	else if (!may)
		rc = actor_fail(a, KITH_EDENIED, "only the organisation that "
		    "created it, or an admin, may erase it");
	else if ((b = body_new()) == NULL ||
	    body_set_str(b, "reason", 0, reason) != 0)
		rc = actor_fail(a, KITH_ENOMEM, "out of memory");
	else
		/* A referral's erasure is addressed like its other records. */
		rc = actor_write(a, KITH_KIND_ERASE, id, NULL,
		    addressed_to(a, s, to), b);
	body_free(b);
	state_free(s);
	return rc;
}

int
entity_resolve(struct actor *a, const uint8_t id[KITH_ENTITY_LEN],
    const struct field_in *in, size_t n)
{
	const struct field_def *defs;
	const struct state_field *sf;
	uint8_t vid[KITH_ENTITY_LEN];
	char vhex[2 * KITH_ENTITY_LEN + 1];
	struct state *s = NULL;
	struct body *b = NULL;
	const char *status, *volunteer;
	size_t i, conflicted = 0;
	int rc;

	if ((rc = store_state(a->st, id, &s)) != 0)
		return actor_fail(a, rc, "%s", kith_strerror(rc));
	if (state_kind(s) != KITH_KIND_REQUEST &&
	    state_kind(s) != KITH_KIND_VOLUNTEER) {
		rc = actor_fail(a, KITH_EINVAL, "it has no editable fields");
		goto out;
	}
	defs = field_defs(state_kind(s));
	if ((b = body_new()) == NULL) {
		rc = actor_fail(a, KITH_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (state_kind(s) == KITH_KIND_REQUEST &&
		    (strcmp(in[i].opt, "status") == 0 ||
		    strcmp(in[i].opt, "volunteer") == 0))
			continue;
		if (field_find(defs, in[i].opt) == NULL) {
			rc = actor_fail(a, KITH_EINVAL, "--%s is not a field "
			    "of a %s", in[i].opt,
			    kith_kind_name(state_kind(s)));
			goto out;
		}
		if ((rc = field_set(b, field_find(defs, in[i].opt),
		    in[i].value, 1, a->why, sizeof(a->why))) != 0)
			goto out;
	}
	if ((status = field_value(in, n, "status")) != NULL &&
	    state_kind(s) == KITH_KIND_REQUEST) {
		if (state_status_rank(KITH_KIND_REQUEST, status,
		    strlen(status)) < 0) {
			rc = actor_fail(a, KITH_EINVAL, "invalid --status '%s': "
			    "expected open, claimed, fulfilled or cancelled",
			    status);
			goto out;
		}
		body_set_str(b, "status", 0, status);
	}
	if ((volunteer = field_value(in, n, "volunteer")) != NULL &&
	    state_kind(s) == KITH_KIND_REQUEST) {
		if ((rc = entity_find(a, volunteer, KITH_KIND_VOLUNTEER, vid,
		    NULL)) != 0)
			goto out;
		kith_hex(vhex, vid, KITH_ENTITY_LEN);
		body_set_str(b, "volunteer", 0, vhex);
	}
	if (body_nfields(b) == 0) {
		rc = actor_fail(a, KITH_EINVAL, "give the value to keep for "
		    "each conflicting field, e.g. --area TW3");
		goto out;
	}
	for (i = 0; i < body_nfields(b); i++) {
		sf = state_get(s, body_field(b, i)->name);
		conflicted += sf != NULL && sf->nalts > 0;
	}
	if (conflicted == 0) {
		rc = actor_fail(a, KITH_EINVAL, "it has no conflict on the "
		    "fields given (see 'kith conflicts'); use update to "
		    "change them");
		goto out;
	}
	rc = actor_write(a, state_kind(s), id, NULL, NULL, b);
out:
	state_free(s);
	body_free(b);
	return rc;
}
