/*
 * Known-answer vectors: decode and verify every record of
 * tests/vectors/records.txt (or $KITH_VECTORS) and check the outcome, the
 * id and the author exactly, and that the seed signs a valid record's
 * header to the very signature it carries (Ed25519 is deterministic).  The
 * format is in tests/vectors/README.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcrypto.h"
#include "kith.h"
#include "record.h"
#include "testutil.h"

/* Fewer than this means the file was cut short or is the wrong one. */
#define VECTORS_MIN	60
#define LINE_MAX_LEN	8192


/* One vector as read from the file. */
struct vec {
	char name[128];
	int line;		/* where its block starts */
	uint8_t seed[32];
	int has_seed;
	uint8_t *header;	/* NULL until the header line */
	size_t hlen;
	uint8_t *body;		/* NULL: "-" */
	size_t blen;
	int has_body;
	int expect;
	int has_expect;
	uint8_t id[32], author[32];
	int has_id, has_author;
};

static const char *
code_name(int rc)
{
	const char *name = kith_errname(rc);

	return name != NULL ? name : "unknown";
}

/* Parse a hex string of any even length into a new buffer. */
static uint8_t *
unhex_alloc(const char *hex, size_t *n, const char *path, int line)
{
	size_t len = strlen(hex);
	uint8_t *p;

	if (len % 2 != 0)
		fail_msg("%s:%d: odd hex length", path, line);
	p = malloc(len / 2 + 1);
	assert_non_null(p);
	if (len > 0 && kith_unhex(p, len / 2, hex) != 0)
		fail_msg("%s:%d: bad hex", path, line);
	*n = len / 2;
	return p;
}

static void
unhex32(uint8_t out[32], const char *hex, const char *path, int line)
{

	if (strlen(hex) != 64 || kith_unhex(out, 32, hex) != 0)
		fail_msg("%s:%d: want 64 hex digits", path, line);
}

/* Check that a block has what its expectation needs. */
static void
vec_complete(const struct vec *v, const char *path)
{

	if (!v->has_seed || v->header == NULL || !v->has_body ||
	    !v->has_expect)
		fail_msg("%s:%d: vector %s lacks seed, header, body or expect",
		    path, v->line, v->name);
	if (v->expect == 0 && (!v->has_id || !v->has_author))
		fail_msg("%s:%d: ok vector %s lacks id or author", path,
		    v->line, v->name);
}

/* Read every vector of ${path}; return how many, in ${*out}. */
static size_t
vec_load(const char *path, struct vec **out)
{
	char buf[LINE_MAX_LEN], *key, *val, *nl;
	struct vec *v = NULL, *cur = NULL;
	size_t n = 0, cap = 0, len;
	int line = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		fail_msg("%s: cannot open (set KITH_VECTORS?)", path);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		line++;
		if ((nl = strchr(buf, '\n')) == NULL && !feof(f))
			fail_msg("%s:%d: line too long", path, line);
		if (nl != NULL)
			*nl = '\0';
		/* Trailing blanks (and a CR) are not part of a value. */
		for (len = strlen(buf); len > 0 && (buf[len - 1] == ' ' ||
		    buf[len - 1] == '\t' || buf[len - 1] == '\r'); len--)
			buf[len - 1] = '\0';
		if (buf[0] == '\0' || buf[0] == '#')
			continue;
		key = buf;
		if ((val = strchr(buf, ':')) == NULL)
			fail_msg("%s:%d: want \"key: value\"", path, line);
		*val++ = '\0';
		while (*val == ' ' || *val == '\t')
			val++;
		if (strcmp(key, "name") == 0) {
			if (cur != NULL)
				vec_complete(cur, path);
			if (n == cap) {
				cap = cap ? 2 * cap : 32;
				v = realloc(v, cap * sizeof(*v));
				assert_non_null(v);
			}
			cur = &v[n++];
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->name, sizeof(cur->name), "%s", val);
			cur->line = line;
			continue;
		}
		if (cur == NULL)
			fail_msg("%s:%d: %s before the first name", path, line,
			    key);
		if (strcmp(key, "seed") == 0) {
			unhex32(cur->seed, val, path, line);
			cur->has_seed = 1;
		} else if (strcmp(key, "header") == 0) {
			free(cur->header);
			cur->header = unhex_alloc(val, &cur->hlen, path, line);
		} else if (strcmp(key, "body") == 0) {
			if (strcmp(val, "-") != 0)
				cur->body = unhex_alloc(val, &cur->blen, path,
				    line);
			cur->has_body = 1;
		} else if (strcmp(key, "expect") == 0) {
			if (kith_errparse(val, &cur->expect) != 0)
				fail_msg("%s:%d: unknown outcome %s", path,
				    line, val);
			cur->has_expect = 1;
		} else if (strcmp(key, "id") == 0) {
			unhex32(cur->id, val, path, line);
			cur->has_id = 1;
		} else if (strcmp(key, "author") == 0) {
			unhex32(cur->author, val, path, line);
			cur->has_author = 1;
		} else
			fail_msg("%s:%d: unknown key %s", path, line, key);
	}
	fclose(f);
	if (cur != NULL)
		vec_complete(cur, path);
	*out = v;
	return n;
}

/* Run one vector as a receiver would: decode, check the body, verify. */
static void
vec_check(const struct vec *v)
{
	static const uint8_t domain[] = RECORD_SIG_DOMAIN;
	const struct record_header *h;
	struct kcrypto_key *key;
	struct record *rec = NULL;
	const uint8_t *p;
	uint8_t id[32], sig[KITH_SIG_LEN], ent[KITH_ENTITY_LEN];
	size_t len;
	int rc;

	rc = record_decode(v->header, v->hlen, v->body, v->blen, &rec);
	if (rc == 0) {
		rc = record_verify(rec);
		/* The id does not depend on the signature being good. */
		kcrypto_hash(id, v->header, v->hlen);
		assert_memory_equal(record_id(rec), id, 32);
	}
	if (rc != v->expect)
		fail_msg("vector %s (line %d): expected %s, got %s (%s)",
		    v->name, v->line, code_name(v->expect), code_name(rc),
		    kith_strerror(rc));
	if (v->expect == 0) {
		if (memcmp(record_id(rec), v->id, 32) != 0)
			fail_msg("vector %s: record id differs", v->name);
		if (memcmp(record_header(rec)->author, v->author, 32) != 0)
			fail_msg("vector %s: author differs", v->name);
		key = kcrypto_key_from_seed(v->seed);
		assert_non_null(key);
		if (memcmp(kcrypto_key_public(key), v->author, 32) != 0)
			fail_msg("vector %s: seed does not give the author",
			    v->name);
		/* The seed signs the header to the signature it carries. */
		p = record_signed(rec, &len);
		kcrypto_sign(sig, key, domain, sizeof(domain), p,
		    len - 2 - KITH_SIG_LEN);
		if (memcmp(sig, record_signature(rec), KITH_SIG_LEN) != 0)
			fail_msg("vector %s: the seed signs otherwise", v->name);
		kcrypto_key_free(key);
		/* A genesis's nonce derives its entity, by the decoder's word. */
		h = record_header(rec);
		if (h->genesis) {
			record_entity_derive(h->network, h->kind, h->author,
			    h->nonce, ent);
			assert_memory_equal(ent, h->entity, KITH_ENTITY_LEN);
		}
		assert_int_equal(len, v->hlen);
		assert_memory_equal(p, v->header, len);
		p = record_body(rec, &len);
		assert_true((p == NULL) == (v->body == NULL));
		if (p != NULL) {
			assert_int_equal(len, v->blen);
			assert_memory_equal(p, v->body, len);
		}
	}
	record_free(rec);
}

/* 1 if ok vector ${v} is a genesis (carries a nonce). */
static int
genesis_of(const struct vec *v)
{
	struct record *rec;
	int g;

	assert_int_equal(record_decode(v->header, v->hlen, NULL, 0, &rec), 0);
	g = record_header(rec)->genesis;
	record_free(rec);
	return g;
}

static void
test_vectors(void **state)
{
	static const int rules[] = {
		KITH_ETRUNC, KITH_ETYPE, KITH_EVERSION, KITH_ENONCANON,
		KITH_ETOOBIG, KITH_ERANGE, KITH_EGENESIS, KITH_ETRAILING,
		KITH_EBODYLEN, KITH_EBODYHASH, KITH_EBADSIG,
	};
	const char *path = getenv("KITH_VECTORS");
	struct vec *v = NULL;
	size_t i, j, n, nok = 0, ngenesis = 0;

	(void)state;
	assert_int_equal(kcrypto_init(), 0);
	if (path == NULL || path[0] == '\0')
		path = "tests/vectors/records.txt";
	n = vec_load(path, &v);
	if (n < VECTORS_MIN)
		fail_msg("%s: %zu vectors, want at least %d", path, n,
		    VECTORS_MIN);
	for (i = 0; i < n; i++) {
		vec_check(&v[i]);
		nok += v[i].expect == 0;
	}
	/* Both outcomes must be exercised, or the file proves little. */
	assert_true(nok > 0 && nok < n);
	/* And every rule a receiver checks on a record alone. */
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		for (j = 0; j < n && v[j].expect != rules[i]; j++)
			;
		if (j == n)
			fail_msg("%s: no vector expects %s", path,
			    code_name(rules[i]));
	}
	/* Valid vectors include a genesis and a record that is none. */
	for (j = 0; j < n; j++)
		if (v[j].expect == 0)
			ngenesis += genesis_of(&v[j]);
	assert_true(ngenesis > 0 && ngenesis < nok);
	print_message("%zu vectors (%zu valid) from %s\n", n, nok, path);
	for (i = 0; i < n; i++) {
		free(v[i].header);
		free(v[i].body);
	}
	free(v);
}

/*
 * Find in ${f} the line that starts with ${label} and return the rest, with
 * no line end, in ${buf}; fail if there is none.
 */
static const char *
doc_value(FILE *f, const char *label, char *buf, size_t size)
{
	size_t n = strlen(label);
	char *nl;

	rewind(f);
	while (fgets(buf, (int)size, f) != NULL)
		if (strncmp(buf, label, n) == 0) {
			if ((nl = strchr(buf, '\n')) != NULL)
				*nl = '\0';
			return buf + n;
		}
	fail_msg("PROTOCOL.md: no line \"%s\"", label);
	return NULL;
}

static void
hex_equal(const char *hex, const uint8_t *p, size_t n, const char *what)
{
	char *want;

	assert_non_null(want = malloc(2 * n + 1));
	kith_hex(want, p, n);
	if (strcmp(hex, want) != 0)
		fail_msg("PROTOCOL.md 10: %s is not valid-request's", what);
	free(want);
}

/*
 * The worked example of PROTOCOL.md 10 is the first vector: its signed
 * header, entity, id and body, so the document cannot drift from the
 * bytes (tools/mkvectors --example prints the section).
 */
static void
test_worked_example(void **state)
{
	const char *path = getenv("KITH_PROTOCOL");
	const struct record_header *h;
	struct record *rec;
	struct vec *v = NULL;
	char *line;
	size_t i, n;
	FILE *f;

	(void)state;
	assert_int_equal(kcrypto_init(), 0);
	if (path == NULL || path[0] == '\0')
		path = "proto/PROTOCOL.md";
	n = vec_load("tests/vectors/records.txt", &v);
	assert_true(n > 0);
	assert_string_equal(v[0].name, "valid-request");
	assert_int_equal(record_decode(v[0].header, v[0].hlen, v[0].body,
	    v[0].blen, &rec), 0);
	h = record_header(rec);
	assert_true(h->genesis && h->seq == 1);
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("%s: cannot open (set KITH_PROTOCOL?)", path);
	assert_non_null(line = malloc(LINE_MAX_LEN));
	hex_equal(doc_value(f, "signed header: ", line, LINE_MAX_LEN),
	    v[0].header, v[0].hlen, "the signed header");
	hex_equal(doc_value(f, "record id:     ", line, LINE_MAX_LEN),
	    record_id(rec), KITH_ID_LEN, "the record id");
	hex_equal(doc_value(f, "entity:        ", line, LINE_MAX_LEN),
	    h->entity, KITH_ENTITY_LEN, "the entity");
	hex_equal(doc_value(f, "body: ", line, LINE_MAX_LEN), v[0].body,
	    v[0].blen, "the body");
	free(line);
	fclose(f);
	record_free(rec);
	for (i = 0; i < n; i++) {
		free(v[i].header);
		free(v[i].body);
	}
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_worked_example),
	};

	return tu_run(tests, NULL, NULL);
}
