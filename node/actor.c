/*
 * The node acting with its own key: seal, sign, store.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "body.h"
#include "clocks.h"
#include "hlc.h"
#include "kcrypto.h"
#include "record.h"
#include "roster.h"
#include "seal.h"
#include "state.h"
#include "store.h"

void
actor_init(struct actor *a, struct store *st, struct kcrypto_key *key)
{

	memset(a, 0, sizeof(*a));
	a->st = st;
	a->key = key;
}

int
actor_fail(struct actor *a, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	return rc;
}

int
actor_open(struct actor *a, const struct state *s, struct body **out,
    uint8_t (*rcpt)[32], size_t *n)
{
	uint8_t id[KITH_ID_LEN], pk[32], sk[32];
	const uint8_t *p, *sp;
	struct record *rec = NULL;
	struct seal *seal = NULL;
	char *hex = state_str(s, "sealed");
	size_t len, i;
	int rc;

	*out = NULL;
	*n = 0;
	if (hex == NULL || kith_unhex(id, KITH_ID_LEN, hex) != 0) {
		free(hex);
		return KITH_ENOTFOUND;
	}
	free(hex);
	if ((rc = store_get(a->st, id, &rec)) != 0)
		return rc;
	if ((p = record_body(rec, &len)) == NULL) {
		record_free(rec);
		return KITH_ENOTFOUND;
	}
	if ((rc = body_decode(p, len, out)) == 0 &&
	    (sp = body_sealed(*out, &len)) != NULL &&
	    (rc = seal_decode(sp, len, &seal)) == 0) {
		for (i = 0; i < seal_nrecipients(seal) && i < SEAL_RECIPIENTS_MAX;
		    i++)
			memcpy(rcpt[i], seal_recipient(seal, i), 32);
		*n = i;
		if ((rc = kcrypto_key_x25519(a->key, pk, sk)) == 0)
			rc = body_unseal(*out, state_entity(s), pk, sk);
		kcrypto_wipe(sk, sizeof(sk));
	}
	seal_free(seal);
	record_free(rec);
	if (rc != 0) {
		body_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Add ${pk} to the ${*n} recipients ${rcpt} unless it is there. */
static void
add_rcpt(uint8_t (*rcpt)[32], size_t *n, const uint8_t pk[32])
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (memcmp(rcpt[i], pk, 32) == 0)
			return;
	if (*n < SEAL_RECIPIENTS_MAX)
		memcpy(rcpt[(*n)++], pk, 32);
}

/*
 * Add to ${rcpt} the sealing keys of the organisations named, by their
 * ed25519 keys in hex, in the comma-separated list ${keys} (state field
 * "readers"); return 1 if ${me} is among them.
 */
static int
add_readers(uint8_t (*rcpt)[32], size_t *n, const char *keys,
    const uint8_t *me)
{
	char hex[2 * KITH_KEY_LEN + 1];
	uint8_t key[KITH_KEY_LEN], x[32];
	const char *p = keys;
	int mine = 0;

	while (p != NULL && strlen(p) >= 2 * KITH_KEY_LEN) {
		memcpy(hex, p, 2 * KITH_KEY_LEN);
		hex[2 * KITH_KEY_LEN] = '\0';
		if (kith_unhex(key, KITH_KEY_LEN, hex) == 0 &&
		    kcrypto_x25519_public(key, x) == 0) {
			add_rcpt(rcpt, n, x);
			mine |= memcmp(key, me, KITH_KEY_LEN) == 0;
		}
		p = strchr(p, ',');
		p = p != NULL ? p + 1 : NULL;
	}
	return mine;
}

/*
 * Never sealed for whoever sealed the section before: entitlement, not
 * the last writer, decides.  A sealed section replaces the one before it
 * whole, so the personal fields ${b} does not set are carried over.
 */
int
actor_seal(struct actor *a, struct body *b, const uint8_t *entity,
    const uint8_t *to, const uint8_t *with)
{
	uint8_t rcpt[SEAL_RECIPIENTS_MAX][32], old[SEAL_RECIPIENTS_MAX][32];
	uint8_t x[32], sk[32];
	const struct body_field *f;
	struct body *cur = NULL;
	struct state *s = NULL;
	char *readers = NULL;
	size_t n = 0, nold = 0, i;
	int rc = 0, personal = 0;

	for (i = 0; i < body_nfields(b); i++)
		personal |= body_field(b, i)->personal;
	if (!personal && with == NULL)
		return 0;
	if (store_state(a->st, entity, &s) == 0) {
		readers = state_str(s, "readers");
		if (!add_readers(rcpt, &n, readers, kcrypto_key_public(a->key))) {
			rc = actor_fail(a, KITH_EDENIED, "cannot change the "
			    "personal fields: only the organisations entitled "
			    "to them (its creator, a referral's recipient, and "
			    "those they share with) may");
			goto out;
		}
		if ((rc = actor_open(a, s, &cur, old, &nold)) != 0 &&
		    rc != KITH_ENOTFOUND) {
			rc = actor_fail(a, rc == KITH_ESEALED ? KITH_EDENIED :
			    rc, "cannot change the personal fields: %s",
			    rc == KITH_ESEALED ? "they are sealed to other "
			    "organisations" : kith_strerror(rc));
			goto out;
		}
		rc = 0;
	} else {
		if ((rc = kcrypto_key_x25519(a->key, x, sk)) == 0)
			add_rcpt(rcpt, &n, x);
		kcrypto_wipe(sk, sizeof(sk));
		if (rc == 0 && to != NULL &&
		    (rc = kcrypto_x25519_public(to, x)) == 0)
			add_rcpt(rcpt, &n, x);
	}
	for (i = 0; rc == 0 && cur != NULL && i < body_nfields(cur); i++) {
		f = body_field(cur, i);
		if (f->personal && body_get(b, f->name) == NULL)
			rc = body_set(b, f->name, 1, &f->v);
	}
	if (rc == 0 && with != NULL &&
	    (rc = kcrypto_x25519_public(with, x)) == 0)
		add_rcpt(rcpt, &n, x);
	if (rc == 0)
		rc = body_seal(b, entity, (const uint8_t (*)[32])rcpt, n);
	if (rc != 0)
		actor_fail(a, rc, "cannot seal the personal fields: %s",
		    kith_strerror(rc));
out:
	body_free(cur);
	state_free(s);
	free(readers);
	return rc;
}

/*
 * Would the network apply a record of ${kind} by this node addressed to
 * ${to}?  Refuse what it would not, before anything is signed: a revoked
 * key's, a forked key's or an observer's, and a PCN's that would never
 * leave it (its peers take from it only what is addressed to it).  A key
 * not admitted yet writes: its records apply once an admin admits it, and
 * ${a}->note says so.
 */
static int
may_write(struct actor *a, uint64_t kind, const uint8_t (*aud)[KITH_KEY_LEN],
    size_t naud)
{
	const struct roster_entry *e;
	struct roster *r = NULL;
	const uint8_t *me = kcrypto_key_public(a->key);
	char hex[2 * KITH_KEY_LEN + 1];
	size_t i;
	int rc, mine = 0;

	for (i = 0; i < naud; i++)
		mine |= memcmp(aud[i], me, KITH_KEY_LEN) == 0;
	if ((rc = store_roster(a->st, &r)) != 0)
		return actor_fail(a, rc, "no roster: %s", kith_strerror(rc));
	e = roster_find(r, me);
	kith_hex(hex, me, KITH_KEY_LEN);
	if (e == NULL || (e->role == ROLE_NONE && e->revoked == 0))
		snprintf(a->note, sizeof(a->note), "note: this node's key is "
		    "not a member of the network yet; the change is held in "
		    "quarantine until an admin runs:\n  kith member add %s "
		    "--org ORG --role member", hex);
	else if (e->revoked != 0)
		rc = actor_fail(a, KITH_EDENIED, "this node's key is revoked: "
		    "no node would apply the change, so it was not written "
		    "(an admin can admit a new key: kith init in a new home "
		    "makes one)");
	else if (e->fork != 0)
		rc = actor_fail(a, KITH_EDENIED, "this node's key has signed "
		    "two records with sequence number %llu (was the key "
		    "copied, or the store restored from a backup?): no node "
		    "applies its records from there on, so the change was not "
		    "written; an admin revokes the key, naming the last "
		    "record to keep, and admits a new one",
		    (unsigned long long)e->fork);
	else if (e->role == ROLE_OBSERVER)
		rc = actor_fail(a, KITH_EDENIED, "this node is an observer: "
		    "it reads, and no node applies its changes, so nothing was "
		    "written");
	else if (e->role == ROLE_PCN && kind != KITH_KIND_MEMBER &&
	    kind != KITH_KIND_REVOKE && !mine)
		rc = actor_fail(a, KITH_EDENIED, "this node is a PCN's: its "
		    "peers take from it only the records addressed to it, so "
		    "a %s it wrote would never leave it; nothing was written "
		    "(a member organisation writes requests, volunteers, "
		    "referrals and sessions)", kith_kind_name(kind));
	roster_free(r);
	return rc;
}

/*
 * A change stamped well ahead of the peers' clocks (or, with none
 * measured, of the system clock): peers hold it, or it wins over edits
 * made meanwhile.  Say so; the change is stored all the same.
 */
static void
note_ahead(struct actor *a, uint64_t stamped)
{
	struct clocks_view v;
	char text[512];
	size_t used = strlen(a->note);

	if (clocks_view(a->st, hlc_wall_ms(), &v) == 0 &&
	    clocks_write_warning(&v, stamped, text, sizeof(text)))
		snprintf(a->note + used, sizeof(a->note) - used, "%swarning: %s",
		    used ? "\n" : "", text);
}

/*
 * The audience every record of a session or insight ${entity} carries,
 * an erasure included: its genesis's (the PCNs it was addressed to), so
 * that a record written later (a response, a share, a change) reaches the
 * same PCNs.  None for other kinds, or a new entity.
 */
static size_t
genesis_audience(struct actor *a, const uint8_t *entity,
    uint8_t (*aud)[KITH_KEY_LEN])
{
	struct state *s = NULL;
	uint64_t kind;

	if (store_state(a->st, entity, &s) != 0)
		return 0;
	kind = state_kind(s);
	state_free(s);
	return kind == KITH_KIND_SESSION || kind == KITH_KIND_INSIGHT ?
	    actor_audience(a, entity, aud) : 0;
}

size_t
actor_audience(struct actor *a, const uint8_t *entity,
    uint8_t (*aud)[KITH_KEY_LEN])
{
	struct record **recs = NULL;
	const struct record *g;
	size_t n = 0, naud = 0;

	if (store_entity(a->st, entity, &recs, &n) != 0)
		return 0;
	if ((g = record_genesis(recs, n)) != NULL) {
		naud = record_header(g)->naudience;
		memcpy(aud, record_header(g)->audience, naud * KITH_KEY_LEN);
	}
	store_records_free(recs, n);
	return naud;
}

/* actor_write, addressed to ${aud}; sealed for a new entity to ${to}. */
static int
write_to(struct actor *a, uint64_t kind, const uint8_t *entity,
    const uint8_t *nonce, const uint8_t *to,
    const uint8_t (*aud)[KITH_KEY_LEN], size_t naud, struct body *b)
{
	struct store_draft d;
	uint8_t *enc = NULL;
	size_t len;
	int rc;

	memset(&d, 0, sizeof(d));
	a->note[0] = '\0';
	if (naud > KITH_AUDIENCE_MAX)
		return actor_fail(a, KITH_EINVAL, "a record is addressed to at "
		    "most %d organisations", KITH_AUDIENCE_MAX);
	if ((rc = may_write(a, kind, aud, naud)) != 0 ||
	    (rc = actor_seal(a, b, entity, to, NULL)) != 0)
		return rc;
	if ((rc = body_encode(b, &enc, &len)) != 0)
		return actor_fail(a, rc, "%s", kith_strerror(rc));
	d.naudience = (unsigned)naud;
	memcpy(d.audience, aud, naud * KITH_KEY_LEN);
	d.expiry = a->expiry;
	d.kind = kind;
	memcpy(d.entity, entity, KITH_ENTITY_LEN);
	d.nonce = nonce;
	d.body = enc;
	d.blen = len;
	rc = store_write(a->st, a->key, &d, 1);
	free(enc);
	if (rc == KITH_EBUSY && store_restoring(a->st))
		return actor_fail(a, rc, "this node is being restored from "
		    "its peers and takes no changes of its own until it has "
		    "caught up (else its key would sign records that fork its "
		    "own history): finish the restore (kith restore), then "
		    "try again");
	if (rc == KITH_ETOOBIG)
		return actor_fail(a, rc, "the change is too large (the limit "
		    "is %d bytes)", KITH_BODY_MAX);
	if (rc == KITH_EFULL)
		return actor_fail(a, rc, "that entity holds as many records "
		    "as others than its creator and admins may add (%d)",
		    KITH_ENTITY_MAX / 2);
	if (rc != 0)
		return actor_fail(a, rc, "cannot store the change: %s",
		    kith_strerror(rc));
	memcpy(a->entity, entity, KITH_ENTITY_LEN);
	memcpy(a->id, d.id, KITH_ID_LEN);
	a->hlc = d.hlc;
	note_ahead(a, d.hlc);
	return 0;
}

int
actor_write(struct actor *a, uint64_t kind, const uint8_t *entity,
    const uint8_t *nonce, const uint8_t *to, struct body *b)
{
	uint8_t aud[KITH_AUDIENCE_MAX][KITH_KEY_LEN];
	size_t naud = 0;

	if (to != NULL)
		memcpy(aud[naud++], to, KITH_KEY_LEN);
	else if (nonce == NULL)
		naud = genesis_audience(a, entity, aud);
	return write_to(a, kind, entity, nonce, to,
	    (const uint8_t (*)[KITH_KEY_LEN])aud, naud, b);
}

/*
 * A new entity of ${kind} started by this node: a random ${nonce} and the
 * id derived from it, its network and this node's key, into ${entity}.
 */
static int
new_entity(struct actor *a, uint64_t kind, uint8_t entity[KITH_ENTITY_LEN],
    uint8_t nonce[KITH_NONCE_LEN])
{
	uint8_t net[KITH_NETWORK_LEN];
	int rc;

	if ((rc = store_network(a->st, net)) != 0)
		return actor_fail(a, rc, "no network: %s", kith_strerror(rc));
	kcrypto_random(nonce, KITH_NONCE_LEN);
	record_entity_derive(net, kind, kcrypto_key_public(a->key), nonce,
	    entity);
	return 0;
}

int
actor_create_to(struct actor *a, uint64_t kind,
    const uint8_t (*aud)[KITH_KEY_LEN], size_t naud, struct body *b)
{
	uint8_t entity[KITH_ENTITY_LEN], nonce[KITH_NONCE_LEN];
	int rc;

	if ((rc = new_entity(a, kind, entity, nonce)) != 0)
		return rc;
	return write_to(a, kind, entity, nonce, NULL, aud, naud, b);
}

int
actor_create(struct actor *a, uint64_t kind, const uint8_t *to,
    struct body *b)
{
	uint8_t entity[KITH_ENTITY_LEN], nonce[KITH_NONCE_LEN];
	int rc;

	if ((rc = new_entity(a, kind, entity, nonce)) != 0)
		return rc;
	return actor_write(a, kind, entity, nonce, to, b);
}
