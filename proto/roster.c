#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "kcrypto.h"
#include "record.h"
#include "roster.h"

struct roster {
	struct roster_entry *e;
	size_t n, cap;
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

/* The entry for ${key}, or NULL; the array is unsorted while building. */
static struct roster_entry *
lookup(const struct roster *r, const uint8_t *key)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (memcmp(r->e[i].key, key, KITH_KEY_LEN) == 0)
			return &r->e[i];
	return NULL;
}

/* The entry for ${key}, added (role none) if absent; NULL if no memory. */
static struct roster_entry *
entry(struct roster *r, const uint8_t *key)
{
	struct roster_entry *e, *bigger;

	if ((e = lookup(r, key)) != NULL)
		return e;
	if (r->n == r->cap) {
		if ((bigger = realloc(r->e, (r->cap * 2 + 8) *
		    sizeof(*bigger))) == NULL)
			return NULL;
		r->e = bigger;
		r->cap = r->cap * 2 + 8;
	}
	e = &r->e[r->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, KITH_KEY_LEN);
	return e;
}

static int
admin_at(const struct roster *r, const uint8_t *key, uint64_t hlc)
{

	return roster_role(r, key, hlc) == ROLE_ADMIN;
}

/* Copy body field ${name}, a string of 1..${max} bytes, into ${out}. */
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

/* Apply one charter, member or revoke record, in version order. */
static int
apply(struct roster *r, const struct record *rec)
{
	const struct record_header *h = record_header(rec);
	struct roster_entry *e;
	struct body *b = NULL;
	const uint8_t *p;
	char hex[2 * KITH_KEY_LEN + 1], org[ROSTER_ORG_MAX + 1], role[16];
	uint8_t key[KITH_KEY_LEN], x[32];
	size_t len;
	int rc = 0, ro;

	if ((p = record_body(rec, &len)) == NULL ||
	    body_decode(p, len, &b) != 0)
		return 0;	/* nothing to apply */
	if (h->kind == KITH_KIND_CHARTER) {
		if (body_str(b, "org", org, ROSTER_ORG_MAX) != 0)
			strcpy(org, "");
		memcpy(key, h->author, KITH_KEY_LEN);
		ro = ROLE_ADMIN;
	} else {
		if (!admin_at(r, h->author, h->hlc) ||
		    body_str(b, "key", hex, sizeof(hex) - 1) != 0 ||
		    kith_unhex(key, KITH_KEY_LEN, hex) != 0)
			goto out;
		if (h->kind == KITH_KIND_REVOKE) {
			if ((e = entry(r, key)) == NULL)
				rc = KITH_ENOMEM;
			else if (e->revoked == 0)
				e->revoked = h->hlc;
			goto out;
		}
		if (body_str(b, "org", org, ROSTER_ORG_MAX) != 0 ||
		    body_str(b, "role", role, sizeof(role) - 1) != 0 ||
		    (ro = roster_role_parse(role)) == ROLE_NONE)
			goto out;
	}
	if (kcrypto_x25519_public(key, x) != 0)
		goto out;	/* not a usable key */
	if ((e = entry(r, key)) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	if (e->revoked != 0)
		goto out;	/* revocation is for good */
	if (e->role == ROLE_NONE) {
		e->since = h->hlc;
		memcpy(e->by, h->author, KITH_KEY_LEN);
	}
	e->role = ro;
	memcpy(e->x25519, x, sizeof(x));
	strcpy(e->org, org);
out:
	body_free(b);
	return rc;
}

/* Version order: (hlc, author, id). */
static int
rec_cmp(const void *pa, const void *pb)
{

	return record_version_cmp(*(const struct record *const *)pa,
	    *(const struct record *const *)pb);
}

static int
entry_cmp(const void *pa, const void *pb)
{
	const struct roster_entry *a = pa, *b = pb;

	return memcmp(a->key, b->key, KITH_KEY_LEN);
}

int
roster_compute(struct record *const *recs, size_t n, struct roster **out)
{
	const struct record **sorted = NULL;
	struct roster *r;
	size_t i, k = 0, charter = n;
	uint64_t kind;
	int rc = KITH_ENOMEM;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (sorted = malloc((n ? n : 1) * sizeof(*sorted))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		kind = record_header(recs[i])->kind;
		if (kind == KITH_KIND_CHARTER && charter == n)
			charter = i;
		else if (kind == KITH_KIND_MEMBER || kind == KITH_KIND_REVOKE)
			sorted[k++] = recs[i];
	}
	if (charter == n) {
		rc = KITH_ENOTFOUND;
		goto out;
	}
	/* The charter comes first, whatever its timestamp. */
	if ((rc = apply(r, recs[charter])) != 0)
		goto out;
	qsort(sorted, k, sizeof(*sorted), rec_cmp);
	for (i = 0; i < k; i++)
		if ((rc = apply(r, sorted[i])) != 0)
			goto out;
	qsort(r->e, r->n, sizeof(*r->e), entry_cmp);
	*out = r;
	r = NULL;
out:
	free(sorted);
	roster_free(r);
	return rc;
}

const struct roster_entry *
roster_find(const struct roster *r, const uint8_t key[KITH_KEY_LEN])
{
	struct roster_entry k;

	memcpy(k.key, key, KITH_KEY_LEN);
	return r->n == 0 ? NULL :
	    bsearch(&k, r->e, r->n, sizeof(*r->e), entry_cmp);
}

const struct roster_entry *
roster_find_x25519(const struct roster *r, const uint8_t pk[32])
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->e[i].role != ROLE_NONE &&
		    memcmp(r->e[i].x25519, pk, 32) == 0)
			return &r->e[i];
	return NULL;
}

int
roster_role(const struct roster *r, const uint8_t key[KITH_KEY_LEN],
    uint64_t hlc)
{
	/* While computing, the array is not yet sorted: search it all. */
	const struct roster_entry *e = lookup(r, key);

	if (e == NULL || (e->revoked != 0 && hlc >= e->revoked))
		return ROLE_NONE;
	return e->role;
}

int
roster_check(const struct roster *r, const uint8_t key[KITH_KEY_LEN],
    uint64_t hlc)
{
	const struct roster_entry *e = roster_find(r, key);

	if (e == NULL || (e->role == ROLE_NONE && e->revoked == 0))
		return KITH_ENOTFOUND;
	if (e->revoked != 0 && (hlc >= e->revoked || e->role == ROLE_NONE))
		return KITH_EREVOKED;
	if (e->role == ROLE_OBSERVER)
		return KITH_EDENIED;
	return 0;
}

size_t
roster_size(const struct roster *r)
{

	return r->n;
}

const struct roster_entry *
roster_get(const struct roster *r, size_t i)
{

	return &r->e[i];
}

int
roster_changed(const struct roster *a, const struct roster *b,
    const uint8_t key[KITH_KEY_LEN])
{
	const struct roster_entry *ea = a != NULL ? roster_find(a, key) : NULL;
	const struct roster_entry *eb = b != NULL ? roster_find(b, key) : NULL;

	if (ea == NULL || eb == NULL)
		return ea != eb;
	return ea->role != eb->role || ea->revoked != eb->revoked;
}

void
roster_free(struct roster *r)
{

	if (r == NULL)
		return;
	free(r->e);
	free(r);
}
