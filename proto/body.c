#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "codec.h"
#include "kcrypto.h"
#include "seal.h"

/*
 * A body holds personal fields in the clear or a sealed section, never
 * both: body_set refuses a personal field while ${sealed} is set, and
 * body_set_sealed refuses while there are personal fields.
 */
struct body {
	struct body_field f[2 * KITH_FIELDS_MAX];
	size_t n;
	uint8_t *sealed;	/* the encoded "s" value, or NULL */
	size_t slen;
};

/* Section keys in canonical order: "f" < "p" < "s". */
static const char section[3] = { 'f', 'p', 's' };
#define SEALED	2

struct body *
body_new(void)
{

	return calloc(1, sizeof(struct body));
}

int
body_name_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > KITH_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return 0;
	return 1;
}

/* Fields sort by section, then by name bytes. */
static int
field_cmp(const struct body_field *a, int personal, const char *name)
{

	if (a->personal != personal)
		return a->personal < personal ? -1 : 1;
	return strcmp(a->name, name);
}

static size_t
count_section(const struct body *b, int personal)
{
	size_t i, n = 0;

	for (i = 0; i < b->n; i++)
		n += b->f[i].personal == personal;
	return n;
}

int
body_set(struct body *b, const char *name, int personal,
    const struct codec_value *v)
{
	struct body_field *f;
	char *copy = NULL;
	size_t i;
	int c;

	personal = personal != 0;
	if (!body_name_ok(name, strlen(name)))
		return KITH_EINVAL;
	if (personal && b->sealed != NULL)
		return KITH_EINVAL;
	if (v->type == CODEC_STR && v->len > KITH_VALUE_MAX)
		return KITH_ETOOBIG;
	if (v->type == CODEC_STR && !codec_utf8_valid(v->s, v->len))
		return KITH_EINVAL;
	for (i = 0; i < b->n; i++)
		if (strcmp(b->f[i].name, name) == 0 &&
		    b->f[i].personal != personal)
			return KITH_EINVAL;
	if (v->type == CODEC_STR) {
		if ((copy = malloc(v->len + 1)) == NULL)
			return KITH_ENOMEM;
		memcpy(copy, v->s, v->len);
		copy[v->len] = '\0';
	}
	/* Find the insertion point, or the field to replace. */
	for (i = 0; i < b->n && (c = field_cmp(&b->f[i], personal, name)) < 0;
	    i++)
		;
	if (i < b->n && field_cmp(&b->f[i], personal, name) == 0) {
		f = &b->f[i];
		if (f->v.type == CODEC_STR) {
			if (f->personal)
				kcrypto_wipe((char *)f->v.s, f->v.len);
			free((char *)f->v.s);
		}
	} else {
		if (count_section(b, personal) >= KITH_FIELDS_MAX) {
			free(copy);
			return KITH_EFIELDS;
		}
		memmove(&b->f[i + 1], &b->f[i], (b->n - i) * sizeof(b->f[0]));
		b->n++;
		f = &b->f[i];
		memset(f, 0, sizeof(*f));
		strcpy(f->name, name);
		f->personal = personal;
	}
	f->v = *v;
	if (copy != NULL)
		f->v.s = copy;
	return 0;
}

int
body_set_str(struct body *b, const char *name, int personal, const char *s)
{
	struct codec_value v = { .type = CODEC_STR, .s = s, .len = strlen(s) };

	return body_set(b, name, personal, &v);
}

int
body_set_int(struct body *b, const char *name, int personal, int64_t i)
{
	struct codec_value v = { .type = CODEC_INT, .i = i };

	return body_set(b, name, personal, &v);
}

/* Write the map of ${b}'s fields of one section, which has ${n} > 0. */
static void
put_section(struct codec_writer *w, const struct body *b, int personal,
    size_t n)
{
	size_t i;

	codec_put_map(w, (uint32_t)n);
	for (i = 0; i < b->n; i++) {
		if (b->f[i].personal != personal)
			continue;
		codec_put_cstr(w, b->f[i].name);
		codec_put_value(w, &b->f[i].v);
	}
}

int
body_encode(const struct body *b, uint8_t **out, size_t *len)
{
	struct codec_writer *w;
	size_t n[2];
	int s, rc;

	if ((w = codec_writer_new()) == NULL)
		return KITH_ENOMEM;
	n[0] = count_section(b, 0);
	n[1] = count_section(b, 1);
	codec_put_map(w, (n[0] > 0) + (n[1] > 0) + (b->sealed != NULL));
	for (s = 0; s < 2; s++) {
		if (n[s] == 0)
			continue;
		codec_put_str(w, &section[s], 1);
		put_section(w, b, s, n[s]);
	}
	if (b->sealed != NULL) {
		codec_put_str(w, &section[SEALED], 1);
		codec_put_raw(w, b->sealed, b->slen);
	}
	if ((rc = codec_writer_error(w)) == 0 &&
	    (*out = codec_writer_steal(w, len)) == NULL)
		rc = KITH_ENOMEM;
	codec_writer_free(w);
	return rc;
}

/* Read one section's map into ${b}; names must ascend strictly. */
static int
decode_section(struct codec_reader *r, struct body *b, int personal)
{
	char prev[KITH_NAME_MAX + 1] = "";
	struct codec_value v;
	const char *name;
	char buf[KITH_NAME_MAX + 1];
	uint32_t n, i;
	size_t len;
	int rc;

	if ((rc = codec_read_map(r, &n)) != 0)
		return rc;
	if (n == 0)
		return KITH_ENONCANON;	/* empty sections are left out */
	if (n > KITH_FIELDS_MAX)
		return KITH_EFIELDS;
	for (i = 0; i < n; i++) {
		if ((rc = codec_read_str(r, &name, &len)) != 0)
			return rc;
		if (!body_name_ok(name, len))
			return KITH_EINVAL;
		memcpy(buf, name, len);
		buf[len] = '\0';
		if (i > 0 && strcmp(prev, buf) >= 0)
			return KITH_ENONCANON;
		strcpy(prev, buf);
		if ((rc = codec_read_value(r, &v)) != 0)
			return rc;
		if (v.type == CODEC_STR && v.len > KITH_VALUE_MAX)
			return KITH_ETOOBIG;
		if ((rc = body_set(b, buf, personal, &v)) != 0)
			return rc == KITH_EINVAL ? KITH_ETYPE : rc;
	}
	return 0;
}

/*
 * Read the sealed section at ${r}, a reader over the ${n} bytes at ${p},
 * into ${b}, keeping its bytes as they are.
 */
static int
decode_sealed(struct codec_reader *r, const uint8_t *p, size_t n,
    struct body *b)
{
	struct seal *s = NULL;
	size_t start = n - codec_reader_left(r);
	int rc;

	if ((rc = seal_read(r, &s)) != 0)
		return rc;
	seal_free(s);
	b->slen = n - codec_reader_left(r) - start;
	if ((b->sealed = malloc(b->slen)) == NULL)
		return KITH_ENOMEM;
	memcpy(b->sealed, p + start, b->slen);
	return 0;
}

int
body_decode(const uint8_t *p, size_t n, struct body **out)
{
	struct codec_reader r;
	struct body *b = NULL;
	const char *key, *k;
	uint32_t nsec = 0, i;
	size_t klen;
	int s, last = -1, both = 0, rc;

	if (n > KITH_BODY_MAX)
		return KITH_ETOOBIG;
	if ((b = body_new()) == NULL)
		return KITH_ENOMEM;
	codec_reader_init(&r, p, n);
	if ((rc = codec_read_map(&r, &nsec)) != 0)
		goto out;
	if (nsec > 3) {
		rc = KITH_ETYPE;
		goto out;
	}
	for (i = 0; i < nsec; i++) {
		if ((rc = codec_read_str(&r, &key, &klen)) != 0)
			goto out;
		if (klen != 1 ||
		    (k = memchr(section, key[0], sizeof(section))) == NULL) {
			rc = KITH_ETYPE;
			goto out;
		}
		s = (int)(k - section);
		if (s <= last) {
			rc = KITH_ENONCANON;
			goto out;
		}
		/* Sealed and clear personal fields exclude each other. */
		if (s == SEALED && last == 1) {
			both = 1;
			rc = KITH_EINVAL;
			goto out;
		}
		last = s;
		if ((rc = s == SEALED ? decode_sealed(&r, p, n, b) :
		    decode_section(&r, b, s)) != 0)
			goto out;
	}
	if (codec_reader_left(&r) != 0) {
		rc = KITH_ETRAILING;
		goto out;
	}
	*out = b;
	b = NULL;	/* transferred */
out:
	/*
	 * Before "s", a map of three sections was a type error, whatever it
	 * held; it still is, unless it is "p" and "s" together.
	 */
	if (rc != 0 && nsec == 3 && !both)
		rc = KITH_ETYPE;
	body_free(b);
	return rc;
}

/*
 * Wipe and free the strings of fields ${from} to the end, and drop those
 * fields: they may be personal.
 */
static void
drop_fields(struct body *b, size_t from)
{
	size_t i;

	for (i = from; i < b->n; i++)
		if (b->f[i].v.type == CODEC_STR) {
			kcrypto_wipe((char *)b->f[i].v.s, b->f[i].v.len);
			free((char *)b->f[i].v.s);
		}
	b->n = from;
}

int
body_section_check(const uint8_t *p, size_t n)
{
	struct codec_reader r;
	struct body *b;
	int rc;

	if ((b = body_new()) == NULL)
		return KITH_ENOMEM;
	codec_reader_init(&r, p, n);
	if ((rc = decode_section(&r, b, 1)) == 0 &&
	    codec_reader_left(&r) != 0)
		rc = KITH_ETRAILING;
	drop_fields(b, 0);
	body_free(b);
	return rc;
}

const uint8_t *
body_sealed(const struct body *b, size_t *n)
{

	*n = b->slen;
	return b->sealed;
}

int
body_set_sealed(struct body *b, const uint8_t *p, size_t n)
{
	struct seal *s = NULL;
	uint8_t *copy;
	int rc;

	if (count_section(b, 1) > 0)
		return KITH_EINVAL;
	if ((rc = seal_decode(p, n, &s)) != 0)
		return rc;
	seal_free(s);
	if ((copy = malloc(n)) == NULL)
		return KITH_ENOMEM;
	memcpy(copy, p, n);
	free(b->sealed);
	b->sealed = copy;
	b->slen = n;
	return 0;
}

int
body_seal(struct body *b, const uint8_t entity[KITH_ENTITY_LEN],
    const uint8_t (*recipients)[32], size_t n)
{
	struct codec_writer *w;
	uint8_t *plain = NULL, *sealed;
	size_t np, plen = 0, slen;
	int rc;

	if ((np = count_section(b, 1)) == 0)
		return 0;
	if ((w = codec_writer_new()) == NULL)
		return KITH_ENOMEM;
	put_section(w, b, 1, np);
	if ((rc = codec_writer_error(w)) != 0)
		goto out;
	if ((plain = codec_writer_steal(w, &plen)) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	if ((rc = seal_encrypt(plain, plen, entity, recipients, n, &sealed,
	    &slen)) != 0)
		goto out;
	/* Personal fields sort last. */
	drop_fields(b, b->n - np);
	b->sealed = sealed;
	b->slen = slen;
out:
	if (plain != NULL) {
		kcrypto_wipe(plain, plen);
		free(plain);
	}
	codec_writer_free(w);
	return rc;
}

int
body_unseal(struct body *b, const uint8_t entity[KITH_ENTITY_LEN],
    const uint8_t pk[32], const uint8_t sk[32])
{
	struct codec_reader r;
	struct seal *s = NULL;
	struct body *opened = NULL;
	uint8_t *plain = NULL;
	size_t plen = 0, i;
	int rc;

	if (b->sealed == NULL)
		return 0;
	if ((rc = seal_decode(b->sealed, b->slen, &s)) != 0 ||
	    (rc = seal_open(s, entity, pk, sk, &plain, &plen)) != 0)
		goto out;
	if ((opened = body_new()) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	codec_reader_init(&r, plain, plen);
	if ((rc = decode_section(&r, opened, 1)) != 0)
		goto out;
	/* A name in both sections: the writer broke the rules. */
	for (i = 0; i < opened->n; i++)
		if (body_get(b, opened->f[i].name) != NULL) {
			rc = KITH_ESEALED;
			goto out;
		}
	/* ${b} has no personal fields, so the opened ones go last, in order. */
	memcpy(&b->f[b->n], opened->f, opened->n * sizeof(b->f[0]));
	b->n += opened->n;
	opened->n = 0;	/* the strings are ${b}'s now */
	free(b->sealed);
	b->sealed = NULL;
	b->slen = 0;
out:
	if (rc != 0 && rc != KITH_ENOMEM)
		rc = KITH_ESEALED;
	if (opened != NULL)
		drop_fields(opened, 0);
	body_free(opened);
	if (plain != NULL) {
		kcrypto_wipe(plain, plen);
		free(plain);
	}
	seal_free(s);
	return rc;
}

size_t
body_nfields(const struct body *b)
{

	return b->n;
}

const struct body_field *
body_field(const struct body *b, size_t i)
{

	return i < b->n ? &b->f[i] : NULL;
}

const struct body_field *
body_get(const struct body *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->f[i].name, name) == 0)
			return &b->f[i];
	return NULL;
}

void
body_free(struct body *b)
{
	size_t i;

	if (b == NULL)
		return;
	/* Personal strings (what body_unseal opened) are wiped first. */
	for (i = 0; i < b->n; i++)
		if (b->f[i].v.type == CODEC_STR) {
			if (b->f[i].personal)
				kcrypto_wipe((char *)b->f[i].v.s,
				    b->f[i].v.len);
			free((char *)b->f[i].v.s);
		}
	free(b->sealed);
	free(b);
}
