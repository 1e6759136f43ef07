/*
 * Record bodies: the canonical map of "f" and "p" or "s" sections
 * round-trips, personal fields seal and unseal, and the decoder refuses
 * everything body_encode would not write.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "codec.h"
#include "kcrypto.h"
#include "kith.h"
#include "seal.h"
#include "testutil.h"

/* Decode ${n} bytes, free the body, return the code. */
static int
dec(const void *p, size_t n)
{
	struct body *b = NULL;
	int rc;

	rc = body_decode(p, n, &b);
	if (rc == 0)
		assert_non_null(b);
	else
		assert_null(b);
	body_free(b);
	return rc;
}

#define DEC(rc, ...) do {						\
	static const uint8_t in_[] = { __VA_ARGS__ };			\
	assert_int_equal(dec(in_, sizeof(in_)), (rc));			\
} while (0)

static void
test_roundtrip(void **state)
{
	struct body *b = body_new(), *d = NULL;
	const struct body_field *f;
	struct codec_value nil = { .type = CODEC_NIL };
	uint8_t *out, *again;
	size_t len, len2, i;

	(void)state;
	assert_non_null(b);
	/* Set out of order; the body keeps them sorted. */
	assert_int_equal(body_set_str(b, "zone", 0, "north"), 0);
	assert_int_equal(body_set_int(b, "count", 0, -42), 0);
	assert_int_equal(body_set(b, "cleared", 0, &nil), 0);
	assert_int_equal(body_set_str(b, "phone", 1, "+44 1234"), 0);
	assert_int_equal(body_set_str(b, "name", 1, "Zoë"), 0);
	assert_int_equal(body_set_int(b, "age", 1, 1LL << 40), 0);
	assert_int_equal(body_set_str(b, "empty", 0, ""), 0);
	assert_int_equal(body_nfields(b), 7);
	assert_int_equal(body_encode(b, &out, &len), 0);

	assert_int_equal(body_decode(out, len, &d), 0);
	assert_int_equal(body_nfields(d), 7);
	{
		static const char *order[] = { "cleared", "count", "empty",
		    "zone", "age", "name", "phone" };

		for (i = 0; i < 7; i++) {
			f = body_field(d, i);
			assert_non_null(f);
			assert_string_equal(f->name, order[i]);
			assert_int_equal(f->personal, i >= 4);
			assert_int_equal(codec_value_cmp(&f->v,
			    &body_field(b, i)->v), 0);
		}
	}
	assert_null(body_field(d, 7));
	f = body_get(d, "count");
	assert_int_equal(f->v.type, CODEC_INT);
	assert_true(f->v.i == -42);
	f = body_get(d, "name");
	assert_int_equal(f->v.type, CODEC_STR);
	assert_int_equal(f->v.len, strlen("Zoë"));
	assert_memory_equal(f->v.s, "Zoë", f->v.len);
	assert_int_equal(body_get(d, "cleared")->v.type, CODEC_NIL);
	assert_int_equal(body_get(d, "empty")->v.len, 0);
	assert_null(body_get(d, "nothere"));
	/* Re-encoding gives the same bytes. */
	assert_int_equal(body_encode(d, &again, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(again, out, len);
	free(again);
	free(out);
	body_free(d);
	body_free(b);
	body_free(NULL);
}

/* The exact bytes of a small body; and each section alone. */
static void
test_encoding_bytes(void **state)
{
	struct body *b = body_new();
	uint8_t *out;
	size_t len;

	(void)state;
	assert_non_null(b);
	assert_int_equal(body_encode(b, &out, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(out[0], 0x80);
	assert_int_equal(dec(out, len), 0);
	free(out);

	assert_int_equal(body_set_str(b, "b", 1, "x"), 0);
	assert_int_equal(body_encode(b, &out, &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(out, "\x81\xa1p\x81\xa1" "b\xa1x", 8);
	free(out);

	assert_int_equal(body_set_int(b, "a", 0, 1), 0);
	assert_int_equal(body_encode(b, &out, &len), 0);
	assert_int_equal(len, 14);
	assert_memory_equal(out, "\x82\xa1" "f\x81\xa1" "a\x01"
	    "\xa1p\x81\xa1" "b\xa1x", 14);
	free(out);
	body_free(b);

	/* tu_body agrees. */
	out = tu_body(&len, "a", "y", "*b", "x", NULL);
	assert_int_equal(len, 15);
	assert_memory_equal(out, "\x82\xa1" "f\x81\xa1" "a\xa1y"
	    "\xa1p\x81\xa1" "b\xa1x", 15);
	free(out);
}

static void
test_set_rules(void **state)
{
	struct body *b = body_new();
	struct codec_value v;
	char name[64], *big;
	int i;

	(void)state;
	assert_non_null(b);
	/* Names: [a-z0-9_], 1..32 bytes. */
	assert_int_equal(body_set_str(b, "", 0, "x"), KITH_EINVAL);
	assert_int_equal(body_set_str(b, "Name", 0, "x"), KITH_EINVAL);
	assert_int_equal(body_set_str(b, "a-b", 0, "x"), KITH_EINVAL);
	assert_int_equal(body_set_str(b, "a b", 0, "x"), KITH_EINVAL);
	assert_int_equal(body_set_str(b, "caf\xc3\xa9", 0, "x"), KITH_EINVAL);
	memset(name, 'a', sizeof(name));
	name[33] = '\0';
	assert_int_equal(body_set_str(b, name, 0, "x"), KITH_EINVAL);
	name[32] = '\0';
	assert_int_equal(body_set_str(b, name, 0, "x"), 0);
	assert_int_equal(body_set_str(b, "a_0_9", 0, "x"), 0);
	/* Values: UTF-8, at most KITH_VALUE_MAX bytes. */
	assert_int_equal(body_set_str(b, "s", 0, "\xff"), KITH_EINVAL);
	assert_int_equal(body_set_str(b, "s", 0, "\xc0\x80"), KITH_EINVAL);
	assert_int_equal(body_set_str(b, "s", 0, "ab\xed\xa0\x80"),
	    KITH_EINVAL);
	assert_null(body_get(b, "s"));
	assert_non_null(big = malloc(KITH_VALUE_MAX + 2));
	memset(big, 'v', KITH_VALUE_MAX + 1);
	big[KITH_VALUE_MAX + 1] = '\0';
	assert_int_equal(body_set_str(b, "s", 0, big), KITH_ETOOBIG);
	big[KITH_VALUE_MAX] = '\0';
	assert_int_equal(body_set_str(b, "s", 0, big), 0);
	free(big);
	assert_int_equal(body_get(b, "s")->v.len, KITH_VALUE_MAX);
	/* A value that holds a NUL is still UTF-8, and kept whole. */
	v = (struct codec_value){ .type = CODEC_STR, .s = "a\0b", .len = 3 };
	assert_int_equal(body_set(b, "nul", 0, &v), 0);
	assert_int_equal(body_get(b, "nul")->v.len, 3);
	/* Replacing a value keeps one field. */
	assert_int_equal(body_set_str(b, "r", 0, "one"), 0);
	i = (int)body_nfields(b);
	assert_int_equal(body_set_int(b, "r", 0, 2), 0);
	assert_int_equal((int)body_nfields(b), i);
	assert_int_equal(body_get(b, "r")->v.type, CODEC_INT);
	/* A name lives in one section only. */
	assert_int_equal(body_set_str(b, "r", 1, "p"), KITH_EINVAL);
	assert_int_equal(body_get(b, "r")->personal, 0);
	body_free(b);

	/* At most KITH_FIELDS_MAX per section. */
	assert_non_null(b = body_new());
	for (i = 0; i < KITH_FIELDS_MAX; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		assert_int_equal(body_set_int(b, name, 0, i), 0);
	}
	assert_int_equal(body_set_int(b, "one_more", 0, 1), KITH_EFIELDS);
	/* Replacing one is fine; so is the other section. */
	assert_int_equal(body_set_int(b, "f000", 0, 99), 0);
	assert_int_equal(body_set_int(b, "one_more", 1, 1), 0);
	{
		uint8_t *out;
		size_t len;

		assert_int_equal(body_encode(b, &out, &len), 0);
		assert_int_equal(dec(out, len), 0);
		free(out);
	}
	body_free(b);
}

static void
test_name_ok(void **state)
{

	(void)state;
	assert_int_equal(body_name_ok("a", 1), 1);
	assert_int_equal(body_name_ok("abc_123", 7), 1);
	assert_int_equal(body_name_ok("abc", 0), 0);
	assert_int_equal(body_name_ok("a\0b", 3), 0);
	assert_int_equal(body_name_ok("aB", 2), 0);
	assert_int_equal(body_name_ok("a.b", 3), 0);
	assert_int_equal(body_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 32),
	    1);
	assert_int_equal(body_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 33),
	    0);
}

/* Well-formed bodies written by hand decode. */
static void
test_decode_ok(void **state)
{

	(void)state;
	DEC(0, 0x80);
	DEC(0, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0x01);
	DEC(0, 0x81, 0xa1, 'p', 0x81, 0xa1, 'a', 0xc0);
	DEC(0, 0x81, 0xa1, 'f', 0x82, 0xa1, 'a', 0xff, 0xa2, 'a', 'a', 0xa0);
	DEC(0, 0x82, 0xa1, 'f', 0x81, 0xa1, 'a', 0x01,
	    0xa1, 'p', 0x81, 0xa1, 'b', 0x02);
	/* "a" < "a_" < "b": bytewise. */
	DEC(0, 0x81, 0xa1, 'f', 0x83, 0xa1, 'a', 0x01, 0xa2, 'a', '_', 0x01,
	    0xa1, 'b', 0x01);
	DEC(0, 0x81, 0xa1, 'f', 0x82, 0xa1, '9', 0x01, 0xa1, '_', 0x01);
}

static void
test_decode_order(void **state)
{

	(void)state;
	/* Unsorted names. */
	DEC(KITH_ENONCANON, 0x81, 0xa1, 'f', 0x82, 0xa1, 'b', 0x01,
	    0xa1, 'a', 0x01);
	DEC(KITH_ENONCANON, 0x81, 0xa1, 'p', 0x82, 0xa2, 'a', 'a', 0x01,
	    0xa1, 'a', 0x01);
	/* Duplicate names. */
	DEC(KITH_ENONCANON, 0x81, 0xa1, 'f', 0x82, 0xa1, 'a', 0x01,
	    0xa1, 'a', 0x02);
	DEC(KITH_ENONCANON, 0x81, 0xa1, 'f', 0x82, 0xa1, 'a', 0x01,
	    0xa1, 'a', 0x01);
	/* Sections out of order, or twice. */
	DEC(KITH_ENONCANON, 0x82, 0xa1, 'p', 0x81, 0xa1, 'a', 0x01,
	    0xa1, 'f', 0x81, 0xa1, 'b', 0x01);
	DEC(KITH_ENONCANON, 0x82, 0xa1, 'f', 0x81, 0xa1, 'a', 0x01,
	    0xa1, 'f', 0x81, 0xa1, 'b', 0x01);
	/* Empty sections are left out, not written empty. */
	DEC(KITH_ENONCANON, 0x81, 0xa1, 'f', 0x80);
	DEC(KITH_ENONCANON, 0x81, 0xa1, 'p', 0x80);
	DEC(KITH_ENONCANON, 0x82, 0xa1, 'f', 0x81, 0xa1, 'a', 0x01,
	    0xa1, 'p', 0x80);
	/* A name in both sections. */
	DEC(KITH_ETYPE, 0x82, 0xa1, 'f', 0x81, 0xa1, 'a', 0x01,
	    0xa1, 'p', 0x81, 0xa1, 'a', 0x02);
	/* Non-shortest forms. */
	DEC(KITH_ENONCANON, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0xcc, 0x01);
	DEC(KITH_ENONCANON, 0x81, 0xa1, 'f', 0x81, 0xd9, 0x01, 'a', 0x01);
	DEC(KITH_ENONCANON, 0xde, 0x00, 0x01, 0xa1, 'f', 0x81, 0xa1, 'a', 0x01);
	DEC(KITH_ENONCANON, 0x81, 0xa1, 'f', 0xde, 0x00, 0x01, 0xa1, 'a', 0x01);
}

static void
test_decode_names(void **state)
{

	(void)state;
	DEC(KITH_EINVAL, 0x81, 0xa1, 'f', 0x81, 0xa1, 'A', 0x01);
	DEC(KITH_EINVAL, 0x81, 0xa1, 'f', 0x81, 0xa4, 'N', 'a', 'm', 'e',
	    0x01);
	DEC(KITH_EINVAL, 0x81, 0xa1, 'f', 0x81, 0xa0, 0x01);
	DEC(KITH_EINVAL, 0x81, 0xa1, 'p', 0x81, 0xa3, 'a', '-', 'b', 0x01);
	DEC(KITH_EINVAL, 0x81, 0xa1, 'f', 0x81, 0xa3, 'a', 0x00, 'b', 0x01);
	/* 33 bytes. */
	DEC(KITH_EINVAL, 0x81, 0xa1, 'f', 0x81, 0xd9, 33,
	    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
	    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
	    'a', 'a', 'a', 'a', 'a', 'a', 'a', 0x01);
	/* 32 bytes is fine. */
	DEC(0, 0x81, 0xa1, 'f', 0x81, 0xd9, 32,
	    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
	    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
	    'a', 'a', 'a', 'a', 'a', 'a', 0x01);
	/* A name that is not a str; a name that is not UTF-8. */
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0x01, 0x01);
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0xc4, 0x01, 'a', 0x01);
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0xa1, 0xff, 0x01);
}

static void
test_decode_types(void **state)
{

	(void)state;
	/* Not a map. */
	DEC(KITH_ETYPE, 0x90);
	DEC(KITH_ETYPE, 0xc0);
	DEC(KITH_ETYPE, 0xa1, 'f');
	/* Unknown top-level keys. */
	DEC(KITH_ETYPE, 0x81, 0xa1, 'x', 0x81, 0xa1, 'a', 0x01);
	DEC(KITH_ETYPE, 0x81, 0xa1, 'F', 0x81, 0xa1, 'a', 0x01);
	DEC(KITH_ETYPE, 0x81, 0xa2, 'f', 'f', 0x81, 0xa1, 'a', 0x01);
	DEC(KITH_ETYPE, 0x81, 0xa0, 0x81, 0xa1, 'a', 0x01);
	DEC(KITH_ETYPE, 0x81, 0x01, 0x81, 0xa1, 'a', 0x01);
	DEC(KITH_ETYPE, 0x82, 0xa1, 'f', 0x81, 0xa1, 'a', 0x01,
	    0xa1, 'q', 0x81, 0xa1, 'b', 0x01);
	/* Three sections. */
	DEC(KITH_ETYPE, 0x83, 0xa1, 'f', 0x81, 0xa1, 'a', 0x01,
	    0xa1, 'p', 0x81, 0xa1, 'b', 0x01, 0xa1, 'q', 0x81, 0xa1, 'c', 0x01);
	/* A section that is not a map. */
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x91, 0x01);
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0xc0);
	/* Values: no bin, bool, float, container or ext. */
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0xc4, 0x01, 'x');
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0xc3);
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0xca, 0, 0, 0, 0);
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0x91, 0x01);
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0x80, 0x00);
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0xd4, 0x01, 0x01);
	/* Strings that are not UTF-8. */
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0xa1, 0xff);
	DEC(KITH_ETYPE, 0x81, 0xa1, 'p', 0x81, 0xa1, 'a', 0xa2, 0xc0, 0x80);
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0xa3, 0xed, 0xa0,
	    0x80);
	DEC(KITH_ETYPE, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0xa2, 'x', 0xe2);
	/* Integers out of range. */
	DEC(KITH_ERANGE, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a',
	    0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0);
}

static void
test_decode_trailing(void **state)
{

	(void)state;
	DEC(KITH_ETRAILING, 0x80, 0x00);
	DEC(KITH_ETRAILING, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0x01, 0xc0);
	DEC(KITH_ETRAILING, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a', 0x01, 0x80);
}

/* Every prefix of a valid body is truncated; never a crash. */
static void
test_decode_truncated(void **state)
{
	uint8_t *p, *copy;
	size_t len, cut;

	(void)state;
	p = tu_body(&len, "alpha", "one", "beta", "two", "*name", "Zoë",
	    "*phone", "123", NULL);
	for (cut = 0; cut < len; cut++) {
		assert_non_null(copy = malloc(cut ? cut : 1));
		memcpy(copy, p, cut);
		assert_int_equal(dec(copy, cut), KITH_ETRUNC);
		free(copy);
	}
	assert_int_equal(dec(p, len), 0);
	free(p);
	/* Counts that the bytes cannot back. */
	DEC(KITH_ETRUNC, 0xdf, 0xff, 0xff, 0xff, 0xff);
	DEC(KITH_ETRUNC, 0x81, 0xa1, 'f', 0xdf, 0xff, 0xff, 0xff, 0xff, 0, 0);
	DEC(KITH_ETRUNC, 0x81, 0xa1, 'f', 0x81, 0xa1, 'a',
	    0xdb, 0xff, 0xff, 0xff, 0xff, 'x');
}

static void
test_decode_caps(void **state)
{
	struct codec_writer *w = codec_writer_new();
	const uint8_t *p;
	uint8_t *big;
	char name[8];
	size_t len;
	int i;

	(void)state;
	assert_non_null(w);
	/* 65 fields in one section. */
	codec_put_map(w, 1);
	codec_put_cstr(w, "f");
	codec_put_map(w, KITH_FIELDS_MAX + 1);
	for (i = 0; i <= KITH_FIELDS_MAX; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		codec_put_cstr(w, name);
		codec_put_uint(w, (uint64_t)i);
	}
	p = codec_writer_data(w, &len);
	assert_int_equal(dec(p, len), KITH_EFIELDS);
	/* 64 is fine. */
	codec_writer_reset(w);
	codec_put_map(w, 1);
	codec_put_cstr(w, "f");
	codec_put_map(w, KITH_FIELDS_MAX);
	for (i = 0; i < KITH_FIELDS_MAX; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		codec_put_cstr(w, name);
		codec_put_uint(w, (uint64_t)i);
	}
	p = codec_writer_data(w, &len);
	assert_int_equal(dec(p, len), 0);
	/* 65 personal fields, and a sealed plaintext of 65: EFIELDS too. */
	codec_writer_reset(w);
	codec_put_map(w, KITH_FIELDS_MAX + 1);
	for (i = 0; i <= KITH_FIELDS_MAX; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		codec_put_cstr(w, name);
		codec_put_uint(w, (uint64_t)i);
	}
	p = codec_writer_data(w, &len);
	assert_int_equal(body_section_check(p, len), KITH_EFIELDS);
	codec_writer_reset(w);
	codec_put_map(w, 1);
	codec_put_cstr(w, "p");
	codec_put_map(w, KITH_FIELDS_MAX + 1);
	for (i = 0; i <= KITH_FIELDS_MAX; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		codec_put_cstr(w, name);
		codec_put_uint(w, (uint64_t)i);
	}
	p = codec_writer_data(w, &len);
	assert_int_equal(dec(p, len), KITH_EFIELDS);

	/* A value of KITH_VALUE_MAX + 1 bytes, and of exactly the cap. */
	assert_non_null(big = malloc(KITH_BODY_MAX + 2));
	memset(big, 'v', KITH_BODY_MAX + 2);
	codec_writer_reset(w);
	codec_put_map(w, 1);
	codec_put_cstr(w, "f");
	codec_put_map(w, 1);
	codec_put_cstr(w, "a");
	codec_put_str(w, big, KITH_VALUE_MAX + 1);
	p = codec_writer_data(w, &len);
	assert_int_equal(dec(p, len), KITH_ETOOBIG);
	codec_writer_reset(w);
	codec_put_map(w, 1);
	codec_put_cstr(w, "f");
	codec_put_map(w, 1);
	codec_put_cstr(w, "a");
	codec_put_str(w, big, KITH_VALUE_MAX);
	p = codec_writer_data(w, &len);
	assert_int_equal(dec(p, len), 0);

	/* The whole body over KITH_BODY_MAX, before anything is parsed. */
	big[0] = 0x80;
	assert_int_equal(dec(big, KITH_BODY_MAX + 1), KITH_ETOOBIG);
	assert_int_equal(dec(big, 1), 0);
	free(big);
	codec_writer_free(w);
}

/* X25519 pairs of three organisations, A, B and C. */
static uint8_t org_pk[3][32], org_sk[3][32];

static const uint8_t entity[KITH_ENTITY_LEN] = {
	0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
	0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
};

static void
org_keys(void)
{
	struct kcrypto_key *k;
	int i;

	for (i = 0; i < 3; i++) {
		k = tu_key((uint8_t)(0xa0 + i));
		assert_int_equal(kcrypto_key_x25519(k, org_pk[i], org_sk[i]), 0);
		kcrypto_key_free(k);
	}
}

/* Encode ${b}; the caller frees the bytes. */
static uint8_t *
enc(const struct body *b, size_t *len)
{
	uint8_t *out = NULL;

	assert_int_equal(body_encode(b, &out, len), 0);
	return out;
}

/* A request body with public and personal fields. */
static struct body *
request_body(void)
{
	struct body *b = body_new();

	assert_non_null(b);
	assert_int_equal(body_set_str(b, "area", 0, "E1"), 0);
	assert_int_equal(body_set_str(b, "status", 0, "open"), 0);
	assert_int_equal(body_set_str(b, "name", 1, "Ana \xc3\x81lvarez"), 0);
	assert_int_equal(body_set_str(b, "phone", 1, "07700 900123"), 0);
	assert_int_equal(body_set_int(b, "floor", 1, -1), 0);
	return b;
}

static void
test_seal_roundtrip(void **state)
{
	struct body *b, *d = NULL;
	const uint8_t *s, *s2;
	uint8_t *clear, *sealed, *again, other[KITH_ENTITY_LEN];
	size_t clen, slen, len, len2, n, n2;

	(void)state;
	org_keys();
	b = request_body();
	clear = enc(b, &clen);
	assert_null(body_sealed(b, &n));
	assert_int_equal(n, 0);
	assert_int_equal(body_seal(b, entity, (const uint8_t (*)[32])org_pk,
	    2), 0);
	/* Only the public fields are left in the clear. */
	assert_int_equal(body_nfields(b), 2);
	assert_null(body_get(b, "name"));
	assert_non_null(s = body_sealed(b, &n));
	assert_int_equal(body_set_str(b, "name", 1, "x"), KITH_EINVAL);
	assert_null(body_get(b, "name"));

	/* {"f": {...}, "s": <the sealed section>}, "s" last. */
	sealed = enc(b, &slen);
	assert_int_equal(sealed[0], 0x82);
	assert_memory_equal(sealed + 1, "\xa1" "f", 2);
	assert_true(slen > n + 2);
	assert_memory_equal(sealed + slen - n - 2, "\xa1" "s", 2);
	assert_memory_equal(sealed + slen - n, s, n);
	assert_null(memmem(sealed, slen, "07700", 5));

	/* Decodes to the same sealed bytes and re-encodes the same. */
	assert_int_equal(body_decode(sealed, slen, &d), 0);
	assert_non_null(s2 = body_sealed(d, &n2));
	assert_int_equal(n2, n);
	assert_memory_equal(s2, s, n);
	assert_int_equal(body_nfields(d), 2);
	again = enc(d, &len);
	assert_int_equal(len, slen);
	assert_memory_equal(again, sealed, slen);
	free(again);

	/* C is not a recipient; another entity's record does not open. */
	assert_int_equal(body_unseal(d, entity, org_pk[2], org_sk[2]),
	    KITH_ESEALED);
	memcpy(other, entity, sizeof(other));
	other[0] ^= 0x80;
	assert_int_equal(body_unseal(d, other, org_pk[0], org_sk[0]),
	    KITH_ESEALED);
	assert_int_equal(body_unseal(d, entity, org_pk[0], org_sk[1]),
	    KITH_ESEALED);
	again = enc(d, &len);
	assert_int_equal(len, slen);
	assert_memory_equal(again, sealed, slen);
	free(again);

	/* B opens it: the body is the clear one again. */
	assert_int_equal(body_unseal(d, entity, org_pk[1], org_sk[1]), 0);
	assert_null(body_sealed(d, &n2));
	assert_int_equal(body_nfields(d), 5);
	assert_int_equal(body_get(d, "floor")->v.i, -1);
	assert_int_equal(body_get(d, "name")->personal, 1);
	again = enc(d, &len);
	assert_int_equal(len, clen);
	assert_memory_equal(again, clear, clen);
	free(again);
	/* Nothing left to open. */
	assert_int_equal(body_unseal(d, entity, org_pk[1], org_sk[1]), 0);
	assert_int_equal(body_nfields(d), 5);
	body_free(d);
	d = NULL;

	/* A decodes it too. */
	assert_int_equal(body_decode(sealed, slen, &d), 0);
	assert_int_equal(body_unseal(d, entity, org_pk[0], org_sk[0]), 0);
	again = enc(d, &len2);
	assert_int_equal(len2, clen);
	assert_memory_equal(again, clear, clen);
	free(again);
	body_free(d);

	free(sealed);
	free(clear);
	body_free(b);
}

static void
test_seal_rules(void **state)
{
	struct body *b, *x;
	const uint8_t *s;
	uint8_t *before, *after;
	size_t n, blen, alen;

	(void)state;
	org_keys();
	/* No personal fields: nothing to seal. */
	assert_non_null(b = body_new());
	assert_int_equal(body_set_str(b, "area", 0, "E1"), 0);
	assert_int_equal(body_seal(b, entity, (const uint8_t (*)[32])org_pk,
	    1), 0);
	assert_null(body_sealed(b, &n));
	before = enc(b, &blen);
	assert_memory_equal(before, "\x81\xa1" "f", 3);
	free(before);
	body_free(b);

	/* A refused seal leaves the body as it was. */
	b = request_body();
	before = enc(b, &blen);
	assert_int_equal(body_seal(b, entity, (const uint8_t (*)[32])org_pk,
	    0), KITH_ERANGE);
	after = enc(b, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(after);

	/* body_set_sealed: a valid seal, and only without personal fields. */
	assert_non_null(x = request_body());
	assert_int_equal(body_seal(x, entity, (const uint8_t (*)[32])org_pk,
	    3), 0);
	assert_non_null(s = body_sealed(x, &n));
	assert_int_equal(body_set_sealed(b, s, n), KITH_EINVAL);
	assert_null(body_sealed(b, &alen));
	body_free(b);
	assert_non_null(b = body_new());
	assert_int_equal(body_set_sealed(b, s, n - 1), KITH_ETRUNC);
	assert_int_equal(body_set_sealed(b, (const uint8_t *)"\xc0", 1),
	    KITH_ETYPE);
	assert_null(body_sealed(b, &alen));
	assert_int_equal(body_set_str(b, "area", 0, "E1"), 0);
	assert_int_equal(body_set_sealed(b, s, n), 0);
	assert_int_equal(body_set_str(b, "status", 0, "open"), 0);
	assert_int_equal(body_set_str(b, "notes", 1, "x"), KITH_EINVAL);
	after = enc(b, &alen);
	assert_memory_equal(after, before, 1);	/* two sections */
	free(after);
	free(before);
	assert_int_equal(body_unseal(b, entity, org_pk[2], org_sk[2]), 0);
	assert_int_equal(body_nfields(b), 5);
	body_free(b);

	/*
	 * A sealed name that is also a public field: the writer broke the
	 * rules, and the body stays sealed.
	 */
	assert_non_null(b = body_new());
	assert_int_equal(body_set_str(b, "name", 0, "public"), 0);
	assert_int_equal(body_set_sealed(b, s, n), 0);
	before = enc(b, &blen);
	assert_int_equal(body_unseal(b, entity, org_pk[0], org_sk[0]),
	    KITH_ESEALED);
	after = enc(b, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(after);
	free(before);
	body_free(b);
	body_free(x);
}

/* Hand-written bodies with an "s" section. */
static void
test_decode_sealed(void **state)
{
	struct codec_writer *w = codec_writer_new();
	struct body *x, *d = NULL;
	const uint8_t *s, *p;
	uint8_t *copy;
	size_t n, len, cut;

	(void)state;
	org_keys();
	assert_non_null(w);
	assert_non_null(x = request_body());
	assert_int_equal(body_seal(x, entity, (const uint8_t (*)[32])org_pk,
	    1), 0);
	assert_non_null(s = body_sealed(x, &n));

#define BODY(...) do {							\
	codec_writer_reset(w);						\
	__VA_ARGS__;							\
	p = codec_writer_data(w, &len);					\
} while (0)
#define F	(codec_put_cstr(w, "f"), codec_put_map(w, 1),		\
		    codec_put_cstr(w, "a"), codec_put_uint(w, 1))
#define P	(codec_put_cstr(w, "p"), codec_put_map(w, 1),		\
		    codec_put_cstr(w, "b"), codec_put_uint(w, 2))
#define S	(codec_put_cstr(w, "s"), codec_put_raw(w, s, n))

	BODY(codec_put_map(w, 1), S);
	assert_int_equal(dec(p, len), 0);
	BODY(codec_put_map(w, 2), F, S);
	assert_int_equal(body_decode(p, len, &d), 0);
	assert_int_equal(body_nfields(d), 1);
	assert_int_equal(body_unseal(d, entity, org_pk[0], org_sk[0]), 0);
	assert_int_equal(body_nfields(d), 4);
	body_free(d);
	/* Every prefix is truncated. */
	for (cut = 0; cut < len; cut++) {
		assert_non_null(copy = malloc(cut ? cut : 1));
		memcpy(copy, p, cut);
		assert_int_equal(dec(copy, cut), KITH_ETRUNC);
		free(copy);
	}
	/* "p" and "s" together, with or without "f". */
	BODY(codec_put_map(w, 2), P, S);
	assert_int_equal(dec(p, len), KITH_EINVAL);
	BODY(codec_put_map(w, 3), F, P, S);
	assert_int_equal(dec(p, len), KITH_EINVAL);
	/* Out of order, or twice. */
	BODY(codec_put_map(w, 2), S, F);
	assert_int_equal(dec(p, len), KITH_ENONCANON);
	BODY(codec_put_map(w, 2), S, P);
	assert_int_equal(dec(p, len), KITH_ENONCANON);
	BODY(codec_put_map(w, 2), S, S);
	assert_int_equal(dec(p, len), KITH_ENONCANON);
	/* Three sections that are not "f", "p", "s" stay a type error. */
	BODY(codec_put_map(w, 3), F, S, S);
	assert_int_equal(dec(p, len), KITH_ETYPE);
	BODY(codec_put_map(w, 3), codec_put_cstr(w, "f"), codec_put_map(w, 0),
	    P, S);
	assert_int_equal(dec(p, len), KITH_ETYPE);
	BODY(codec_put_map(w, 4), F, P, S, S);
	assert_int_equal(dec(p, len), KITH_ETYPE);
	/* Bytes after it. */
	BODY(codec_put_map(w, 2), F, S, codec_put_nil(w));
	assert_int_equal(dec(p, len), KITH_ETRAILING);
	/* A sealed section that is not one. */
	BODY(codec_put_map(w, 1), codec_put_cstr(w, "s"), codec_put_nil(w));
	assert_int_equal(dec(p, len), KITH_ETYPE);
	BODY(codec_put_map(w, 1), codec_put_cstr(w, "s"), codec_put_map(w, 0));
	assert_int_equal(dec(p, len), KITH_ETYPE);
	BODY(codec_put_map(w, 2), F, codec_put_cstr(w, "s"),
	    codec_put_raw(w, s, n - 1));
	assert_int_equal(dec(p, len), KITH_ETRUNC);
	assert_non_null(copy = malloc(n));
	memcpy(copy, s, n);
	copy[2] = 23;	/* the nonce's length */
	BODY(codec_put_map(w, 1), codec_put_cstr(w, "s"),
	    codec_put_raw(w, copy, n - 1));
	assert_int_equal(dec(p, len), KITH_EINVAL);
	free(copy);

#undef BODY
#undef F
#undef P
#undef S
	body_free(x);
	codec_writer_free(w);
}

/*
 * This test is linked with -Wl,--wrap=free (Makefile): every free() of
 * libkith's goes through here, and the one of the watched pointer records
 * whether its bytes were all zero, that is, wiped.
 */
void __real_free(void *p);
void __wrap_free(void *p);

static const void *watched;
static size_t watched_len;
static int watched_wiped = -1;	/* -1: not freed yet */

void
__wrap_free(void *p)
{
	const unsigned char *c = p;
	size_t i;

	if (p != NULL && p == watched) {
		for (i = 0; i < watched_len && c[i] == 0; i++)
			;
		watched_wiped = i == watched_len;
		watched = NULL;
	}
	__real_free(p);
}

static void
watch(const struct body *b, const char *name)
{
	const struct body_field *f = body_get(b, name);

	assert_non_null(f);
	assert_int_equal(f->v.type, CODEC_STR);
	watched = f->v.s;
	watched_len = f->v.len;
	watched_wiped = -1;
}

/* body_free wipes the personal strings it frees, opened ones included. */
static void
test_free_wipes(void **state)
{
	struct body *b, *d = NULL;
	uint8_t *sealed;
	size_t slen;

	(void)state;
	org_keys();
	assert_non_null(b = body_new());
	assert_int_equal(body_set_str(b, "area", 0, "E1"), 0);
	assert_int_equal(body_set_str(b, "name", 1, "Ann Secret"), 0);
	watch(b, "name");
	body_free(b);
	assert_int_equal(watched_wiped, 1);

	/* A public string is freed as it is: the wrapper does tell. */
	assert_non_null(b = body_new());
	assert_int_equal(body_set_str(b, "area", 0, "E1"), 0);
	watch(b, "area");
	body_free(b);
	assert_int_equal(watched_wiped, 0);

	/* A personal value replaced is wiped too. */
	assert_non_null(b = body_new());
	assert_int_equal(body_set_str(b, "name", 1, "Ann Secret"), 0);
	watch(b, "name");
	assert_int_equal(body_set_str(b, "name", 1, "Bo"), 0);
	assert_int_equal(watched_wiped, 1);

	/* What body_unseal opened. */
	assert_int_equal(body_seal(b, entity, (const uint8_t (*)[32])org_pk,
	    1), 0);
	sealed = enc(b, &slen);
	body_free(b);
	assert_int_equal(body_decode(sealed, slen, &d), 0);
	assert_int_equal(body_unseal(d, entity, org_pk[0], org_sk[0]), 0);
	watch(d, "name");
	body_free(d);
	assert_int_equal(watched_wiped, 1);
	free(sealed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_encoding_bytes),
		cmocka_unit_test(test_set_rules),
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_decode_ok),
		cmocka_unit_test(test_decode_order),
		cmocka_unit_test(test_decode_names),
		cmocka_unit_test(test_decode_types),
		cmocka_unit_test(test_decode_trailing),
		cmocka_unit_test(test_decode_truncated),
		cmocka_unit_test(test_decode_caps),
		cmocka_unit_test(test_seal_roundtrip),
		cmocka_unit_test(test_seal_rules),
		cmocka_unit_test(test_decode_sealed),
		cmocka_unit_test(test_free_wipes),
	};

	return tu_run(tests, NULL, NULL);
}
