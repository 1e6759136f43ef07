/*
 * Members: admission and revocation, as an admin does them.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actor.h"
#include "body.h"
#include "field.h"
#include "hlc.h"
#include "invite.h"
#include "kcrypto.h"
#include "member.h"
#include "recfile.h"
#include "record.h"
#include "roster.h"
#include "state.h"
#include "store.h"

int
member_parse_key(struct actor *a, const char *hex, uint8_t key[KITH_KEY_LEN])
{
	uint8_t x[32];

	if (strlen(hex) != 2 * KITH_KEY_LEN ||
	    kith_unhex(key, KITH_KEY_LEN, hex) != 0 ||
	    kcrypto_x25519_public(key, x) != 0)
		return actor_fail(a, KITH_EINVAL, "'%s' is not a node key (64 "
		    "hex digits, as `kith id` prints)", hex);
	return 0;
}

int
member_find(struct actor *a, const char *what, uint8_t key[KITH_KEY_LEN])
{
	const struct roster_entry *e, *hit = NULL;
	struct roster *r = NULL;
	size_t i;
	int rc;

	if ((rc = store_roster(a->st, &r)) != 0)
		return actor_fail(a, rc, "no roster: %s", kith_strerror(rc));
	for (i = 0; i < roster_size(r); i++) {
		e = roster_get(r, i);
		if (e->role == ROLE_NONE || e->revoked != 0)
			continue;
		if (strcmp(e->org, what) == 0 || (strlen(what) == 64 &&
		    kith_unhex(key, KITH_KEY_LEN, what) == 0 &&
		    memcmp(key, e->key, KITH_KEY_LEN) == 0)) {
			if (hit != NULL) {
				roster_free(r);
				return actor_fail(a, KITH_EINVAL, "'%s': more "
				    "than one member has that name; give its "
				    "key (kith member list)", what);
			}
			hit = e;
		}
	}
	if (hit == NULL || hit->role == ROLE_OBSERVER)
		rc = actor_fail(a, KITH_ENOTFOUND, "'%s': no member "
		    "organisation by that name or key (kith member list)",
		    what);
	else
		memcpy(key, hit->key, KITH_KEY_LEN);
	roster_free(r);
	return rc;
}

/* This node must be an admin now; load the roster into ${*r}. */
static int
need_admin(struct actor *a, struct roster **r)
{
	int rc, role;

	if ((rc = store_roster(a->st, r)) != 0)
		return actor_fail(a, rc, "no roster: %s", kith_strerror(rc));
	role = roster_current(*r, kcrypto_key_public(a->key));
	if (role == ROLE_ADMIN)
		return 0;
	roster_free(*r);
	*r = NULL;
	return actor_fail(a, KITH_EDENIED, "only an admin can change "
	    "membership; this node is %s", role == ROLE_NONE ? "not a member" :
	    roster_role_name(role));
}

/* Admins in good standing other than ${key}. */
static size_t
other_admins(const struct roster *r, const uint8_t key[KITH_KEY_LEN])
{
	size_t i, n = 0;

	for (i = 0; i < roster_size(r); i++)
		n += roster_current(r, roster_get(r, i)->key) == ROLE_ADMIN &&
		    memcmp(roster_get(r, i)->key, key, KITH_KEY_LEN) != 0;
	return n;
}

/*
 * The member in good standing other than ${key} named ${org} (any case),
 * or NULL.  A revoked member's name is free again: its organisation's new
 * key takes it.
 */
static const struct roster_entry *
named(const struct roster *r, const char *org, const uint8_t key[KITH_KEY_LEN])
{
	const struct roster_entry *e;
	size_t i;

	for (i = 0; i < roster_size(r); i++) {
		e = roster_get(r, i);
		if (e->role != ROLE_NONE && e->revoked == 0 &&
		    strcasecmp(e->org, org) == 0 &&
		    memcmp(e->key, key, KITH_KEY_LEN) != 0)
			return e;
	}
	return NULL;
}

/* Write the member or revoke record ${b} in ${key}'s member entity. */
static int
write_member(struct actor *a, uint64_t kind, const uint8_t key[KITH_KEY_LEN],
    struct body *b)
{
	uint8_t ent[KITH_ENTITY_LEN];

	roster_member_entity(key, ent);
	return actor_write(a, kind, ent, NULL, NULL, b);
}

int
member_add(struct actor *a, const uint8_t key[KITH_KEY_LEN], const char *org,
    const char *role)
{
	const struct roster_entry *e;
	struct roster *r = NULL;
	struct body *b = NULL;
	char hex[2 * KITH_KEY_LEN + 1];
	int rc;

	if (org[0] == '\0' || strlen(org) > ROSTER_ORG_MAX ||
	    !field_text_ok(org))
		return actor_fail(a, KITH_EINVAL, "--org: 1 to %d printable "
		    "characters", ROSTER_ORG_MAX);
	if (roster_role_parse(role) == ROLE_NONE)
		return actor_fail(a, KITH_EINVAL, "--role: one of admin, "
		    "member, pcn, observer");
	if ((rc = need_admin(a, &r)) != 0)
		return rc;
	e = roster_find(r, key);
	if (e != NULL && e->revoked != 0)
		rc = actor_fail(a, KITH_EEXIST, "that key was revoked; it "
		    "cannot be admitted or revoked again");
	else if (e != NULL && e->role != ROLE_NONE &&
	    roster_role_parse(role) >= e->role)
		rc = actor_fail(a, KITH_EEXIST, "that key is a member already, "
		    "with role %s; roles only rise (admin, member, pcn, "
		    "observer): to lower one, revoke the key and admit a new "
		    "one (kith init on that node, with a new home, makes one)",
		    roster_role_name(e->role));
	else if ((e = named(r, org, key)) != NULL)
		rc = actor_fail(a, KITH_EEXIST, "another member is named '%s' "
		    "already (kith member list): give each organisation a name "
		    "of its own, so --to and --with can find it", org);
	roster_free(r);
	if (rc != 0)
		return rc;
	kith_hex(hex, key, KITH_KEY_LEN);
	if ((b = body_new()) == NULL)
		return actor_fail(a, KITH_ENOMEM, "out of memory");
	if ((rc = body_set_str(b, "key", 0, hex)) == 0 &&
	    (rc = body_set_str(b, "org", 0, org)) == 0)
		rc = body_set_str(b, "role", 0, role);
	if (rc != 0)
		rc = actor_fail(a, rc, "%s", kith_strerror(rc));
	else
		rc = write_member(a, KITH_KIND_MEMBER, key, b);
	body_free(b);
	return rc;
}

int
member_revoke(struct actor *a, const uint8_t key[KITH_KEY_LEN])
{
	const struct roster_entry *e;
	struct roster *r = NULL;
	struct body *b = NULL;
	uint8_t last[KITH_ID_LEN];
	char hex[2 * KITH_ID_LEN + 1];
	uint64_t last_seq = 0;
	int rc;

	if ((rc = need_admin(a, &r)) != 0)
		return rc;
	e = roster_find(r, key);
	if (e != NULL && e->revoked != 0)
		rc = actor_fail(a, KITH_EEXIST, "that key was revoked; it "
		    "cannot be admitted or revoked again");
	else if (e == NULL || e->role == ROLE_NONE)
		rc = actor_fail(a, KITH_ENOTFOUND, "that key is not a member");
	else if (other_admins(r, key) == 0)
		rc = actor_fail(a, KITH_EDENIED, "that is the network's last "
		    "admin in good standing: admit another admin first, or "
		    "the network would have none for good");
	roster_free(r);
	if (rc != 0)
		return rc;
	/*
	 * A revocation names the last record of the key that the network
	 * accepts: its last one this node holds (before a fork, if it
	 * forked).  Sync with its node first, so nothing it wrote is lost.
	 */
	if ((rc = store_author_last(a->st, key, &last_seq, last)) != 0)
		return actor_fail(a, rc, "%s", kith_strerror(rc));
	if ((b = body_new()) == NULL)
		return actor_fail(a, KITH_ENOMEM, "out of memory");
	kith_hex(hex, key, KITH_KEY_LEN);
	rc = body_set_str(b, "key", 0, hex);
	kith_hex(hex, last, KITH_ID_LEN);
	if (rc == 0 && last_seq > 0 &&
	    (rc = body_set_str(b, "last", 0, hex)) == 0)
		rc = body_set_int(b, "last_seq", 0, (int64_t)last_seq);
	if (rc != 0)
		rc = actor_fail(a, rc, "%s", kith_strerror(rc));
	else
		rc = write_member(a, KITH_KIND_REVOKE, key, b);
	body_free(b);
	return rc;
}

/* Entity ids gathered from store_states. */
struct ids {
	size_t n, cap;
	uint8_t (*id)[KITH_ENTITY_LEN];
};

static int
collect_entity(void *arg, const struct state *s)
{
	struct ids *ids = arg;
	uint8_t (*bigger)[KITH_ENTITY_LEN];

	if (ids->n == ids->cap) {
		if ((bigger = realloc(ids->id, (ids->cap * 2 + 16) *
		    sizeof(*bigger))) == NULL)
			return KITH_ENOMEM;
		ids->id = bigger;
		ids->cap = ids->cap * 2 + 16;
	}
	memcpy(ids->id[ids->n++], state_entity(s), KITH_ENTITY_LEN);
	return 0;
}

/* Append every record of every entity of ${kind} to the records file. */
static int
write_kind(struct actor *a, FILE *f, uint64_t kind)
{
	struct ids ids = { 0, 0, NULL };
	struct record **recs;
	size_t i, k, n;
	int rc;

	if ((rc = store_states(a->st, kind, collect_entity, &ids)) != 0)
		goto out;
	for (i = 0; rc == 0 && i < ids.n; i++) {
		if ((rc = store_entity(a->st, ids.id[i], &recs, &n)) != 0)
			break;
		for (k = 0; rc == 0 && k < n; k++)
			if (recfile_write(f, recs[k]) != 0)
				rc = KITH_EIO;
		store_records_free(recs, n);
	}
out:
	free(ids.id);
	return rc;
}

int
member_charter(struct actor *a, FILE *f)
{
	struct record *charter = NULL;
	uint8_t net[KITH_NETWORK_LEN];
	int rc;

	if ((rc = store_network(a->st, net)) != 0 ||
	    (rc = store_charter(a->st, &charter)) != 0)
		return actor_fail(a, rc, "no charter: %s", kith_strerror(rc));
	if (recfile_write_start(f, net) != 0 || recfile_write(f, charter) != 0)
		rc = KITH_EIO;
	if (rc == 0)
		rc = write_kind(a, f, KITH_KIND_MEMBER);
	if (rc == 0)
		rc = write_kind(a, f, KITH_KIND_REVOKE);
	record_free(charter);
	return rc == 0 ? 0 : actor_fail(a, rc, "cannot write the charter: %s",
	    kith_strerror(rc));
}

int
member_invite(struct actor *a, const char *org, const char *role,
    const char *peer, int days, char **out)
{
	struct invite inv;
	struct roster *r = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	*out = NULL;
	memset(&inv, 0, sizeof(inv));
	if (org[0] == '\0' || strlen(org) > ROSTER_ORG_MAX ||
	    !field_text_ok(org))
		return actor_fail(a, KITH_EINVAL, "--org: 1 to %d printable "
		    "characters", ROSTER_ORG_MAX);
	if ((inv.role = roster_role_parse(role)) == ROLE_NONE)
		return actor_fail(a, KITH_EINVAL, "--role: one of admin, "
		    "member, pcn, observer");
	if (days < 1 || days > 90)
		return actor_fail(a, KITH_EINVAL, "--days: 1 to 90");
	if (strlen(peer) > INVITE_PEER_MAX)
		return actor_fail(a, KITH_EINVAL, "--peer is too long");
	if ((rc = need_admin(a, &r)) != 0)
		return rc;
	if (named(r, org, kcrypto_key_public(a->key)) != NULL)
		rc = actor_fail(a, KITH_EEXIST, "another member is named '%s' "
		    "already (kith member list)", org);
	roster_free(r);
	if (rc != 0)
		return rc;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return actor_fail(a, KITH_ENOMEM, "out of memory");
	rc = member_charter(a, f);
	if (fclose(f) != 0 && rc == 0)
		rc = actor_fail(a, KITH_ENOMEM, "out of memory");
	if (rc != 0)
		goto out;
	snprintf(inv.org, sizeof(inv.org), "%s", org);
	snprintf(inv.peer, sizeof(inv.peer), "%s", peer);
	inv.expires = hlc_wall_ms() + (uint64_t)days * 86400000;
	inv.charter = (uint8_t *)buf;
	inv.clen = len;
	if ((rc = invite_make(&inv, a->key, out)) != 0)
		rc = actor_fail(a, rc, "cannot make the invite: %s",
		    kith_strerror(rc));
out:
	free(buf);
	return rc;
}

int
member_admit(struct actor *a, const char *reply)
{
	struct invite inv;
	int rc;

	if ((rc = invite_parse_reply(reply, &inv)) != 0)
		return actor_fail(a, rc == KITH_EBADSIG ? KITH_EINVAL : rc,
		    "that is not a reply to an invite%s (it starts "
		    "kith-reply: and is one line)", rc == KITH_EBADSIG ?
		    ": its signatures do not verify" : "");
	if (memcmp(inv.by, kcrypto_key_public(a->key), KITH_KEY_LEN) != 0)
		return actor_fail(a, KITH_EDENIED, "that reply answers an invite "
		    "another node wrote: run kith member admit on that node");
	if (inv.expires < hlc_wall_ms())
		return actor_fail(a, KITH_EINVAL, "the invite it answers has "
		    "expired: write a new one with kith invite");
	return member_add(a, inv.key, inv.org, roster_role_name(inv.role));
}
