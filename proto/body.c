#include <stdlib.h>
#include <string.h>

#include "body.h"

struct body {
	struct body_field f[2 * KITH_FIELDS_MAX];
	size_t n;
};

/* Section keys: "f" sorts before "p", as canonical order requires. */
static const char section[2] = { 'f', 'p' };

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
		if (f->v.type == CODEC_STR)
			free((char *)f->v.s);
	} else {
		if (count_section(b, personal) >= KITH_FIELDS_MAX) {
			free(copy);
			return KITH_ETOOBIG;
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

int
body_encode(const struct body *b, uint8_t **out, size_t *len)
{
	struct codec_writer *w;
	size_t i, n[2];
	int s, rc;

	if ((w = codec_writer_new()) == NULL)
		return KITH_ENOMEM;
	n[0] = count_section(b, 0);
	n[1] = count_section(b, 1);
	codec_put_map(w, (n[0] > 0) + (n[1] > 0));
	for (s = 0; s < 2; s++) {
		if (n[s] == 0)
			continue;
		codec_put_str(w, &section[s], 1);
		codec_put_map(w, (uint32_t)n[s]);
		for (i = 0; i < b->n; i++) {
			if (b->f[i].personal != s)
				continue;
			codec_put_cstr(w, b->f[i].name);
			codec_put_value(w, &b->f[i].v);
		}
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
		return KITH_ETOOBIG;
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

int
body_decode(const uint8_t *p, size_t n, struct body **out)
{
	struct codec_reader r;
	struct body *b = NULL;
	const char *key;
	uint32_t nsec, i;
	size_t klen;
	int s, last = -1, rc;

	if (n > KITH_BODY_MAX)
		return KITH_ETOOBIG;
	if ((b = body_new()) == NULL)
		return KITH_ENOMEM;
	codec_reader_init(&r, p, n);
	if ((rc = codec_read_map(&r, &nsec)) != 0)
		goto out;
	if (nsec > 2) {
		rc = KITH_ETYPE;
		goto out;
	}
	for (i = 0; i < nsec; i++) {
		if ((rc = codec_read_str(&r, &key, &klen)) != 0)
			goto out;
		if (klen != 1 || (key[0] != section[0] && key[0] != section[1])) {
			rc = KITH_ETYPE;
			goto out;
		}
		s = key[0] == section[1];
		if (s <= last) {
			rc = KITH_ENONCANON;
			goto out;
		}
		last = s;
		if ((rc = decode_section(&r, b, s)) != 0)
			goto out;
	}
	if (codec_reader_left(&r) != 0) {
		rc = KITH_ETRAILING;
		goto out;
	}
	*out = b;
	b = NULL;	/* transferred */
out:
	body_free(b);
	return rc;
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
	body_free(b);
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
	for (i = 0; i < b->n; i++)
		if (b->f[i].v.type == CODEC_STR)
			free((char *)b->f[i].v.s);
	free(b);
}
