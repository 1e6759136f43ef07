#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "chain.h"
#include "kcrypto.h"
#include "record.h"
#include "roster.h"

#define NONE	((size_t)-1)

/* A member or revoke record that says something the roster can weigh. */
struct item {
	const struct record_header *h;
	const uint8_t *id;
	uint8_t key[KITH_KEY_LEN];	/* the key it is about */
	int role;			/* member: the role it admits with */
	char org[ROSTER_ORG_MAX + 1];
	uint64_t last_seq;		/* revoke: last accepted (0: none) */
	uint8_t last_id[KITH_ID_LEN];
	struct chain_walk walk;		/* revoke: back from last, to a fork */
	size_t subject, author;		/* slots, or NONE for the author */
};

/* An entry and what the computation keeps beside it. */
struct slot {
	struct roster_entry pub;
	size_t rev;			/* the revocation that counts, or NONE */
	size_t chosen;			/* the admission that counts, or NONE */
	uint8_t (*ids)[KITH_ID_LEN];	/* pub.counted's storage */
	struct chain_walk walk;		/* a copy of rev's, owned here */
};

struct roster {
	struct slot *s;
	size_t n, cap;
};

/* One evaluation's scratch: which items count, and each slot's lot. */
struct eval {
	struct item *it;
	size_t nit;
	struct slot *s;
	size_t ns, charter;		/* the charter's author's slot */
	unsigned char *grant;		/* per item: an admission that counts */
	int *role;			/* per slot */
	size_t *chosen, *rev;		/* per slot: item, or NONE */
};

static const char *const role_names[] = {
	[ROLE_ADMIN] = "admin",
	[ROLE_MEMBER] = "member",
	[ROLE_PCN] = "pcn",
	[ROLE_OBSERVER] = "observer",
};

const char *
roster_role_name(int role)
{

	if (role <= ROLE_NONE || role > ROLE_OBSERVER)
		return "none";
	return role_names[role];
}

int
roster_role_parse(const char *name)
{
	int i;

	for (i = ROLE_ADMIN; i <= ROLE_OBSERVER; i++)
		if (strcmp(name, role_names[i]) == 0)
			return i;
	return ROLE_NONE;
}

void
roster_member_entity(const uint8_t key[KITH_KEY_LEN],
    uint8_t out[KITH_ENTITY_LEN])
{
	static const char domain[] = "kith-member";
	uint8_t buf[sizeof(domain) + KITH_KEY_LEN], h[KITH_HASH_LEN];

	/* sizeof(domain) counts the NUL, which is part of the input. */
	memcpy(buf, domain, sizeof(domain));
	memcpy(buf + sizeof(domain), key, KITH_KEY_LEN);
	kcrypto_hash(h, buf, sizeof(buf));
	memcpy(out, h, KITH_ENTITY_LEN);
}

/* The slot for ${key}, added if ${add} and absent; NONE if not there. */
static size_t
slot_of(struct roster *r, const uint8_t *key, int add)
{
	struct slot *bigger;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (memcmp(r->s[i].pub.key, key, KITH_KEY_LEN) == 0)
			return i;
	if (!add)
		return NONE;
	if (r->n == r->cap) {
		if ((bigger = realloc(r->s, (r->cap * 2 + 8) *
		    sizeof(*bigger))) == NULL)
			return NONE;
		r->s = bigger;
		r->cap = r->cap * 2 + 8;
	}
	memset(&r->s[r->n], 0, sizeof(r->s[r->n]));
	memcpy(r->s[r->n].pub.key, key, KITH_KEY_LEN);
	r->s[r->n].rev = r->s[r->n].chosen = NONE;
	return r->n++;
}

/* Copy public text field ${name}, of 1..${max} bytes, into ${out}. */
static int
body_str(const struct body *b, const char *name, char *out, size_t max)
{
	const struct body_field *f = body_get(b, name);

	if (f == NULL || f->personal || f->v.type != CODEC_STR ||
	    f->v.len == 0 || f->v.len > max)
		return -1;
	memcpy(out, f->v.s, f->v.len);
	out[f->v.len] = '\0';
	return 0;
}

/* A key field: 64 hex digits naming a usable Ed25519 point. */
static int
body_key(const struct body *b, const char *name, uint8_t key[KITH_KEY_LEN])
{
	char hex[2 * KITH_KEY_LEN + 1];
	uint8_t x[32];

	return body_str(b, name, hex, sizeof(hex) - 1) != 0 ||
	    kith_unhex(key, KITH_KEY_LEN, hex) != 0 ||
	    kcrypto_x25519_public(key, x) != 0 ? -1 : 0;
}

/*
 * Read member or revoke record ${rec} into ${it}; return 1 if it says
 * something the roster can weigh, else 0 (it is evidence, nothing more).
 */
static int
parse_item(const struct record *rec, struct item *it)
{
	const struct record_header *h = record_header(rec);
	const struct body_field *f;
	struct body *b = NULL;
	uint8_t ent[KITH_ENTITY_LEN];
	const uint8_t *p;
	char role[16], hex[2 * KITH_ID_LEN + 1];
	size_t len;
	int ok = 0;

	memset(it, 0, sizeof(*it));
	it->h = h;
	it->id = record_id(rec);
	if ((p = record_body(rec, &len)) == NULL ||
	    body_decode(p, len, &b) != 0 || body_key(b, "key", it->key) != 0)
		goto out;
	/* A record about a key counts only in that key's own entity. */
	roster_member_entity(it->key, ent);
	if (memcmp(ent, h->entity, KITH_ENTITY_LEN) != 0)
		goto out;
	if (h->kind == KITH_KIND_MEMBER) {
		ok = body_str(b, "org", it->org, ROSTER_ORG_MAX) == 0 &&
		    body_str(b, "role", role, sizeof(role) - 1) == 0 &&
		    (it->role = roster_role_parse(role)) != ROLE_NONE;
		goto out;
	}
	/* A revocation names the last record accepted, or none at all. */
	f = body_get(b, "last_seq");
	if (body_get(b, "last") == NULL && f == NULL) {
		ok = 1;
		goto out;
	}
	ok = f != NULL && !f->personal && f->v.type == CODEC_INT &&
	    f->v.i >= 1 && body_str(b, "last", hex, sizeof(hex) - 1) == 0 &&
	    kith_unhex(it->last_id, KITH_ID_LEN, hex) == 0;
	if (ok)
		it->last_seq = (uint64_t)f->v.i;
out:
	body_free(b);
	return ok;
}

/*
 * Has record ${id} at ${seq}, by the key in slot ${k}, standing, with the
 * revocations of ${rev} (per slot: an item, or NONE) in force?  The
 * question of roster_standing, without the role.
 */
static int
chain_standing(const struct slot *k, const struct item *rv, uint64_t seq,
    const uint8_t *id)
{
	uint64_t f = k->pub.fork;

	if (rv == NULL)
		return f != 0 && seq >= f ? KITH_EFORKED : 0;
	if (seq > rv->last_seq)
		return KITH_EREVOKED;
	/* No fork: every record up to last is on its chain, but last's own. */
	if (f == 0)
		return seq == rv->last_seq &&
		    memcmp(id, rv->last_id, KITH_ID_LEN) != 0 ? KITH_EREVOKED : 0;
	if (seq < f)
		return 0;
	/* Past the fork, the walk back from last tells the branch. */
	if (rv->walk.hi != 0 && seq >= rv->walk.lo)
		return memcmp(id, rv->walk.ids[seq - rv->walk.lo],
		    KITH_ID_LEN) == 0 ? 0 : KITH_EREVOKED;
	return KITH_EFORKED;
}

/* Standing of item ${i}'s own record, for its author, in ${e}. */
static int
item_standing(const struct eval *e, size_t i)
{
	const struct item *it = &e->it[i];
	size_t a = it->author;

	if (a == NONE || e->role[a] != ROLE_ADMIN)
		return KITH_EDENIED;
	return chain_standing(&e->s[a], e->rev[a] != NONE ?
	    &e->it[e->rev[a]] : NULL, it->h->seq, it->id);
}

/* Does admission ${a} rank before ${b}: more privilege, then bytes? */
static int
better(const struct item *a, const struct item *b)
{
	int c;

	if (a->role != b->role)
		return a->role < b->role;
	if ((c = memcmp(a->h->author, b->h->author, KITH_KEY_LEN)) != 0)
		return c < 0;
	return memcmp(a->id, b->id, KITH_ID_LEN) < 0;
}

/* Does revocation ${a} accept less than ${b}? */
static int
stricter(const struct item *a, const struct item *b)
{

	if (a->last_seq != b->last_seq)
		return a->last_seq < b->last_seq;
	return memcmp(a->last_id, b->last_id, KITH_ID_LEN) < 0;
}

/*
 * One evaluation: with the revocations ${in} (per item) in force, count
 * the admissions, from the charter's author outward, that their authors'
 * standing allows; then set ${out} (per item) to the revocations whose
 * authors are admins with standing at them.  More revocations in force
 * never make more count, so alternating evaluations close in on an
 * answer (the well-founded model of these rules).
 */
static void
evaluate(struct eval *e, const unsigned char *in, unsigned char *out)
{
	size_t i, k;
	int changed;

	for (k = 0; k < e->ns; k++) {
		e->role[k] = ROLE_NONE;
		e->chosen[k] = e->rev[k] = NONE;
	}
	e->role[e->charter] = ROLE_ADMIN;
	for (i = 0; i < e->nit; i++) {
		e->grant[i] = 0;
		k = e->it[i].subject;
		if (e->it[i].h->kind == KITH_KIND_REVOKE && in[i] &&
		    (e->rev[k] == NONE || stricter(&e->it[i],
		    &e->it[e->rev[k]])))
			e->rev[k] = i;
	}
	do {
		changed = 0;
		for (i = 0; i < e->nit; i++) {
			if (e->grant[i] ||
			    e->it[i].h->kind != KITH_KIND_MEMBER ||
			    item_standing(e, i) != 0)
				continue;
			e->grant[i] = 1;
			changed = 1;
			k = e->it[i].subject;
			if (k == e->charter)
				continue;	/* the charter admitted it */
			if (e->chosen[k] == NONE ||
			    better(&e->it[i], &e->it[e->chosen[k]])) {
				e->chosen[k] = i;
				e->role[k] = e->it[i].role;
			}
		}
	} while (changed);
	for (i = 0; i < e->nit; i++)
		out[i] = e->it[i].h->kind == KITH_KIND_REVOKE &&
		    item_standing(e, i) == 0;
}

/* Fill each slot's public entry from the final evaluation. */
static int
settle(struct roster *r, struct eval *e, const unsigned char *counted,
    const struct record *charter, const char *charter_org)
{
	struct slot *s;
	const struct item *it;
	size_t i, k, n;

	for (k = 0; k < r->n; k++) {
		s = &r->s[k];
		s->pub.role = e->role[k];
		s->chosen = e->chosen[k];
		s->rev = e->rev[k];
		if (k == e->charter) {
			snprintf(s->pub.org, sizeof(s->pub.org), "%s",
			    charter_org);
			s->pub.since = record_header(charter)->hlc;
			memcpy(s->pub.by, s->pub.key, KITH_KEY_LEN);
		} else if (s->chosen != NONE) {
			it = &e->it[s->chosen];
			memcpy(s->pub.org, it->org, sizeof(s->pub.org));
			s->pub.since = it->h->hlc;
			memcpy(s->pub.by, it->h->author, KITH_KEY_LEN);
		}
		if (s->rev != NONE) {
			it = &e->it[s->rev];
			s->pub.revoked = it->h->hlc;
			s->pub.last_seq = it->last_seq;
			memcpy(s->pub.last_id, it->last_id, KITH_ID_LEN);
			/* The slot keeps its own copy: items go. */
			if (it->walk.hi != 0) {
				n = (size_t)(it->walk.hi - it->walk.lo + 1);
				if ((s->walk.ids = malloc(n *
				    KITH_ID_LEN)) == NULL)
					return KITH_ENOMEM;
				memcpy(s->walk.ids, it->walk.ids,
				    n * KITH_ID_LEN);
				s->walk.lo = it->walk.lo;
				s->walk.hi = it->walk.hi;
			}
		}
		(void)kcrypto_x25519_public(s->pub.key, s->pub.x25519);
	}
	/* Each key's records that count, for its member entity's state. */
	for (i = 0; i < e->nit; i++) {
		if (!(e->it[i].h->kind == KITH_KIND_MEMBER ? e->grant[i] :
		    counted[i]))
			continue;
		s = &r->s[e->it[i].subject];
		if ((s->ids = realloc(s->ids, (s->pub.ncounted + 1) *
		    KITH_ID_LEN)) == NULL)
			return KITH_ENOMEM;
		memcpy(s->ids[s->pub.ncounted++], e->it[i].id, KITH_ID_LEN);
	}
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{

	return memcmp(a, b, KITH_ID_LEN);
}

static int
slot_cmp(const void *pa, const void *pb)
{
	const struct slot *a = pa, *b = pb;

	return memcmp(a->pub.key, b->pub.key, KITH_KEY_LEN);
}

/* The charter: the kind 1 record with the smallest id; NULL if none. */
static const struct record *
find_charter(struct record *const *recs, size_t n)
{
	const struct record *c = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (record_header(recs[i])->kind == KITH_KIND_CHARTER &&
		    (c == NULL || memcmp(record_id(recs[i]), record_id(c),
		    KITH_ID_LEN) < 0))
			c = recs[i];
	return c;
}

/* Read the items, give every key a slot, and walk back from revocations. */
static int
gather(struct roster *r, struct eval *e, struct record *const *recs,
    size_t n, const struct chain_src *chains)
{
	struct item *it;
	size_t i, k;
	uint64_t f;
	int rc;

	if ((e->it = calloc(n ? n : 1, sizeof(*e->it))) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i < n; i++) {
		uint64_t kind = record_header(recs[i])->kind;

		if ((kind == KITH_KIND_MEMBER || kind == KITH_KIND_REVOKE) &&
		    parse_item(recs[i], &e->it[e->nit]))
			e->nit++;
	}
	for (i = 0; i < e->nit; i++)
		if ((e->it[i].subject = slot_of(r, e->it[i].key, 1)) == NONE)
			return KITH_ENOMEM;
	/* Authors that are no slot's key were never admitted: no standing. */
	for (i = 0; i < e->nit; i++)
		e->it[i].author = slot_of(r, e->it[i].h->author, 0);
	for (k = 0; k < r->n && chains != NULL; k++)
		if ((rc = chains->fork(chains->arg, r->s[k].pub.key,
		    &r->s[k].pub.fork)) != 0)
			return rc;
	for (i = 0; i < e->nit; i++) {
		it = &e->it[i];
		f = r->s[it->subject].pub.fork;
		if (it->h->kind != KITH_KIND_REVOKE || it->last_seq == 0 ||
		    f == 0 || f > it->last_seq || chains == NULL)
			continue;
		if ((rc = chain_walk(chains, it->key, it->last_seq, it->last_id,
		    f, &it->walk)) != 0)
			return rc;
	}
	return 0;
}

int
roster_compute(struct record *const *recs, size_t n,
    const struct chain_src *chains, struct roster **out)
{
	const struct record *charter;
	struct roster *r = NULL;
	struct body *cb = NULL;
	struct eval e;
	unsigned char *t = NULL, *p = NULL, *t2 = NULL;
	char org[ROSTER_ORG_MAX + 1] = "";
	const uint8_t *bp;
	size_t i, k, len;
	int rc = KITH_ENOMEM;

	memset(&e, 0, sizeof(e));
	if ((charter = find_charter(recs, n)) == NULL)
		return KITH_ENOTFOUND;
	if ((bp = record_body(charter, &len)) != NULL &&
	    body_decode(bp, len, &cb) == 0 &&
	    body_str(cb, "org", org, ROSTER_ORG_MAX) != 0)
		org[0] = '\0';
	body_free(cb);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto out;
	if ((e.charter = slot_of(r, record_header(charter)->author, 1)) ==
	    NONE || (rc = gather(r, &e, recs, n, chains)) != 0)
		goto out;
	rc = KITH_ENOMEM;
	e.s = r->s;
	e.ns = r->n;
	if ((e.grant = calloc(e.nit + 1, 1)) == NULL ||
	    (e.role = calloc(e.ns, sizeof(*e.role))) == NULL ||
	    (e.chosen = calloc(e.ns, sizeof(*e.chosen))) == NULL ||
	    (e.rev = calloc(e.ns, sizeof(*e.rev))) == NULL ||
	    (t = calloc(e.nit + 1, 1)) == NULL ||
	    (p = calloc(e.nit + 1, 1)) == NULL ||
	    (t2 = calloc(e.nit + 1, 1)) == NULL)
		goto out;
	/*
	 * The revocations certainly in force (t) grow from none; those that
	 * may be (p) are what t leaves standing.  Once t stops growing, the
	 * ones only possibly in force are revocations that void each other:
	 * all of p is put in force, so that neither side of such a pair
	 * keeps authority.
	 */
	for (;;) {
		evaluate(&e, t, p);
		evaluate(&e, p, t2);
		if (memcmp(t, t2, e.nit + 1) == 0)
			break;
		memcpy(t, t2, e.nit + 1);
	}
	evaluate(&e, p, t2);
	if ((rc = settle(r, &e, p, charter, org)) != 0)
		goto out;
	for (k = 0; k < r->n; k++) {
		/* A key with no counted records has no array to sort. */
		if (r->s[k].pub.ncounted > 1)
			qsort(r->s[k].ids, r->s[k].pub.ncounted, KITH_ID_LEN,
			    id_cmp);
		r->s[k].pub.counted = (const uint8_t (*)[KITH_ID_LEN])
		    r->s[k].ids;
	}
	qsort(r->s, r->n, sizeof(*r->s), slot_cmp);
	*out = r;
	r = NULL;	/* transferred */
	rc = 0;
out:
	for (i = 0; i < e.nit; i++)
		chain_walk_free(&e.it[i].walk);
	free(e.it);
	free(e.grant);
	free(e.role);
	free(e.chosen);
	free(e.rev);
	free(t);
	free(p);
	free(t2);
	roster_free(r);
	return rc;
}

/* The slot of ${key}, or NULL; the roster is sorted once computed. */
static const struct slot *
find(const struct roster *r, const uint8_t *key)
{
	struct slot k;

	if (r->n == 0)
		return NULL;
	memcpy(k.pub.key, key, KITH_KEY_LEN);
	return bsearch(&k, r->s, r->n, sizeof(*r->s), slot_cmp);
}

/* Standing along ${s}'s chain with its final revocation, if any. */
static int
slot_standing(const struct slot *s, uint64_t seq, const uint8_t *id)
{
	struct item rv;

	if (s->pub.revoked == 0)
		return chain_standing(s, NULL, seq, id);
	memset(&rv, 0, sizeof(rv));
	rv.last_seq = s->pub.last_seq;
	memcpy(rv.last_id, s->pub.last_id, KITH_ID_LEN);
	rv.walk = s->walk;
	return chain_standing(s, &rv, seq, id);
}

int
roster_standing(const struct roster *r, const struct record_header *h,
    const uint8_t id[KITH_ID_LEN])
{
	const struct slot *s = find(r, h->author);
	int rc;

	if (s == NULL)
		return KITH_ENOTFOUND;
	if (s->pub.role == ROLE_NONE)
		return s->pub.revoked != 0 ? KITH_EREVOKED : KITH_ENOTFOUND;
	if ((rc = slot_standing(s, h->seq, id)) != 0)
		return rc;
	return s->pub.role == ROLE_OBSERVER ? KITH_EDENIED : 0;
}

int
roster_admin(const struct roster *r, const struct record_header *h,
    const uint8_t id[KITH_ID_LEN])
{
	const struct slot *s = find(r, h->author);

	return s != NULL && s->pub.role == ROLE_ADMIN &&
	    slot_standing(s, h->seq, id) == 0;
}

int
roster_current(const struct roster *r, const uint8_t key[KITH_KEY_LEN])
{
	const struct slot *s = find(r, key);

	if (s == NULL || s->pub.revoked != 0 || s->pub.fork != 0)
		return ROLE_NONE;
	return s->pub.role;
}

const struct roster_entry *
roster_find(const struct roster *r, const uint8_t key[KITH_KEY_LEN])
{
	const struct slot *s = find(r, key);

	return s != NULL ? &s->pub : NULL;
}

const struct roster_entry *
roster_find_x25519(const struct roster *r, const uint8_t pk[32])
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->s[i].pub.role != ROLE_NONE &&
		    memcmp(r->s[i].pub.x25519, pk, 32) == 0)
			return &r->s[i].pub;
	return NULL;
}

const struct roster_entry *
roster_find_entity(const struct roster *r,
    const uint8_t entity[KITH_ENTITY_LEN])
{
	uint8_t ent[KITH_ENTITY_LEN];
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->s[i].pub.ncounted == 0)
			continue;
		roster_member_entity(r->s[i].pub.key, ent);
		if (memcmp(ent, entity, KITH_ENTITY_LEN) == 0)
			return &r->s[i].pub;
	}
	return NULL;
}

size_t
roster_size(const struct roster *r)
{

	return r->n;
}

const struct roster_entry *
roster_get(const struct roster *r, size_t i)
{

	return &r->s[i].pub;
}

int
roster_changed(const struct roster *a, const struct roster *b,
    const uint8_t key[KITH_KEY_LEN])
{
	const struct roster_entry *ea = a != NULL ? roster_find(a, key) : NULL;
	const struct roster_entry *eb = b != NULL ? roster_find(b, key) : NULL;

	if (ea == NULL || eb == NULL)
		return ea != eb;
	return ea->role != eb->role || ea->revoked != eb->revoked ||
	    ea->last_seq != eb->last_seq || ea->fork != eb->fork ||
	    memcmp(ea->last_id, eb->last_id, KITH_ID_LEN) != 0 ||
	    ea->ncounted != eb->ncounted || (ea->ncounted > 0 &&
	    memcmp(ea->counted, eb->counted, ea->ncounted *
	    KITH_ID_LEN) != 0);
}

void
roster_free(struct roster *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->s[i].ids);
		chain_walk_free(&r->s[i].walk);
	}
	free(r->s);
	free(r);
}
