/*
 * The codec: every writer's output reads back through the strict reader, and
 * the reader refuses truncated, mistyped, non-shortest and non-UTF-8 input
 * without moving its cursor.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "kith.h"
#include "testutil.h"

/* A reader over ${len} bytes; asserts nothing. */
static struct codec_reader
rd(const uint8_t *p, size_t len)
{
	struct codec_reader r;

	codec_reader_init(&r, p, len);
	return r;
}

/* Copy what ${w} holds into ${buf}; return its length. */
static size_t
take(struct codec_writer *w, uint8_t *buf, size_t cap)
{
	const uint8_t *p;
	size_t len;

	assert_int_equal(codec_writer_error(w), 0);
	p = codec_writer_data(w, &len);
	assert_true(len <= cap);
	memcpy(buf, p, len);
	codec_writer_reset(w);
	return len;
}

/* Every proper prefix of an encoding is ETRUNC and leaves the cursor. */
typedef int read_fn(struct codec_reader *);

static int
rd_uint(struct codec_reader *r)
{
	uint64_t v;

	return codec_read_uint(r, &v);
}

static int
rd_int(struct codec_reader *r)
{
	int64_t v;

	return codec_read_int(r, &v);
}

static int
rd_str(struct codec_reader *r)
{
	const char *p;
	size_t n;

	return codec_read_str(r, &p, &n);
}

static int
rd_bin(struct codec_reader *r)
{
	const uint8_t *p;
	size_t n;

	return codec_read_bin(r, &p, &n);
}

static int
rd_array(struct codec_reader *r)
{
	uint32_t n;

	return codec_read_array(r, &n);
}

static int
rd_map(struct codec_reader *r)
{
	uint32_t n;

	return codec_read_map(r, &n);
}

static int
rd_nil(struct codec_reader *r)
{

	return codec_read_nil(r);
}

static int
rd_bool(struct codec_reader *r)
{
	int v;

	return codec_read_bool(r, &v);
}

static int
rd_value(struct codec_reader *r)
{
	struct codec_value v;

	return codec_read_value(r, &v);
}

static void
check_prefixes(read_fn *fn, const uint8_t *p, size_t len)
{
	struct codec_reader r;
	size_t k;

	for (k = 0; k < len; k++) {
		r = rd(p, k);
		assert_int_equal(fn(&r), KITH_ETRUNC);
		assert_int_equal(r.off, 0);
	}
	r = rd(p, len);
	assert_int_equal(fn(&r), 0);
	assert_int_equal(codec_reader_left(&r), 0);
}

/* ${fn} on exactly ${len} bytes fails with ${want}, cursor unmoved. */
static void
check_fail(read_fn *fn, const uint8_t *p, size_t len, int want)
{
	struct codec_reader r = rd(p, len);

	assert_int_equal(fn(&r), want);
	assert_int_equal(r.off, 0);
}

static void
test_uint_roundtrip(void **state)
{
	static const struct {
		uint64_t v;
		size_t len;
		uint8_t first;
	} cases[] = {
		{ 0, 1, 0x00 }, { 1, 1, 0x01 }, { 127, 1, 0x7f },
		{ 128, 2, 0xcc }, { 255, 2, 0xcc }, { 256, 3, 0xcd },
		{ 65535, 3, 0xcd }, { 65536, 5, 0xce },
		{ 0xffffffffULL, 5, 0xce }, { 0x100000000ULL, 9, 0xcf },
		{ UINT64_MAX, 9, 0xcf },
	};
	struct codec_writer *w = codec_writer_new();
	struct codec_reader r;
	uint8_t buf[16];
	uint64_t v;
	size_t i, len;

	(void)state;
	assert_non_null(w);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(codec_put_uint(w, cases[i].v), 0);
		len = take(w, buf, sizeof(buf));
		assert_int_equal(len, cases[i].len);
		assert_int_equal(buf[0], cases[i].first);
		r = rd(buf, len);
		v = 12345;
		assert_int_equal(codec_read_uint(&r, &v), 0);
		assert_true(v == cases[i].v);
		assert_int_equal(codec_reader_left(&r), 0);
		check_prefixes(rd_uint, buf, len);
		/* The same bytes are a valid int too, when they fit. */
		if (cases[i].v <= INT64_MAX) {
			int64_t x;

			r = rd(buf, len);
			assert_int_equal(codec_read_int(&r, &x), 0);
			assert_true((uint64_t)x == cases[i].v);
		}
	}
	codec_writer_free(w);
}

static void
test_int_roundtrip(void **state)
{
	static const struct {
		int64_t v;
		size_t len;
		uint8_t first;
	} cases[] = {
		{ 0, 1, 0x00 }, { 5, 1, 0x05 }, { 127, 1, 0x7f },
		{ 128, 2, 0xcc }, { -1, 1, 0xff }, { -32, 1, 0xe0 },
		{ -33, 2, 0xd0 }, { -128, 2, 0xd0 }, { -129, 3, 0xd1 },
		{ -32768, 3, 0xd1 }, { -32769, 5, 0xd2 },
		{ INT32_MIN, 5, 0xd2 }, { (int64_t)INT32_MIN - 1, 9, 0xd3 },
		{ INT64_MIN, 9, 0xd3 }, { INT64_MAX, 9, 0xcf },
	};
	struct codec_writer *w = codec_writer_new();
	struct codec_reader r;
	uint8_t buf[16];
	int64_t v;
	size_t i, len;

	(void)state;
	assert_non_null(w);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(codec_put_int(w, cases[i].v), 0);
		len = take(w, buf, sizeof(buf));
		assert_int_equal(len, cases[i].len);
		assert_int_equal(buf[0], cases[i].first);
		r = rd(buf, len);
		v = 12345;
		assert_int_equal(codec_read_int(&r, &v), 0);
		assert_true(v == cases[i].v);
		assert_int_equal(codec_reader_left(&r), 0);
		check_prefixes(rd_int, buf, len);
		/* A negative int is not a uint. */
		if (cases[i].v < 0)
			check_fail(rd_uint, buf, len, KITH_ETYPE);
	}
	codec_writer_free(w);
}

/* A uint above INT64_MAX is out of range for an int, cursor unmoved. */
static void
test_int_range(void **state)
{
	static const uint8_t big[] = { 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0 };
	struct codec_reader r = rd(big, sizeof(big));
	int64_t v = 7;
	uint64_t u;

	(void)state;
	assert_int_equal(codec_read_int(&r, &v), KITH_ERANGE);
	assert_int_equal(r.off, 0);
	assert_true(v == 7);
	assert_int_equal(codec_read_uint(&r, &u), 0);
	assert_true(u == 0x8000000000000000ULL);
}

static void
test_str_bin_roundtrip(void **state)
{
	static const struct {
		size_t n;
		size_t hdr;
		uint8_t sfirst, bfirst;
	} cases[] = {
		{ 0, 1, 0xa0, 0xc4 }, { 1, 1, 0xa1, 0xc4 },
		{ 31, 1, 0xbf, 0xc4 }, { 32, 2, 0xd9, 0xc4 },
		{ 255, 2, 0xd9, 0xc4 }, { 256, 3, 0xda, 0xc5 },
		{ 65535, 3, 0xda, 0xc5 }, { 65536, 5, 0xdb, 0xc6 },
	};
	struct codec_writer *w = codec_writer_new();
	struct codec_reader r;
	const uint8_t *data, *bp;
	const char *sp;
	char *src;
	size_t i, len, n, hdr;

	(void)state;
	assert_non_null(w);
	assert_non_null(src = malloc(65536));
	for (i = 0; i < 65536; i++)
		src[i] = (char)('a' + i % 26);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = cases[i].n;
		/* bin8 covers 0..255 (there is no fix bin form). */
		hdr = cases[i].bfirst == 0xc4 ? 2 : cases[i].bfirst == 0xc5 ?
		    3 : 5;

		assert_int_equal(codec_put_str(w, src, n), 0);
		data = codec_writer_data(w, &len);
		assert_int_equal(len, cases[i].hdr + n);
		assert_int_equal(data[0], cases[i].sfirst);
		r = rd(data, len);
		assert_int_equal(codec_read_str(&r, &sp, &n), 0);
		assert_int_equal(n, cases[i].n);
		assert_memory_equal(sp, src, n);
		assert_int_equal(codec_reader_left(&r), 0);
		/* A str is not a bin. */
		check_fail(rd_bin, data, len, KITH_ETYPE);
		if (n < 300)
			check_prefixes(rd_str, data, len);
		else {
			check_fail(rd_str, data, len - 1, KITH_ETRUNC);
			check_fail(rd_str, data, cases[i].hdr - 1,
			    KITH_ETRUNC);
		}
		codec_writer_reset(w);

		n = cases[i].n;
		assert_int_equal(codec_put_bin(w, src, n), 0);
		data = codec_writer_data(w, &len);
		assert_int_equal(len, hdr + n);
		assert_int_equal(data[0], cases[i].bfirst);
		r = rd(data, len);
		assert_int_equal(codec_read_bin(&r, &bp, &n), 0);
		assert_int_equal(n, cases[i].n);
		assert_memory_equal(bp, src, n);
		check_fail(rd_str, data, len, KITH_ETYPE);
		check_fail(rd_value, data, len, KITH_ETYPE);
		if (n < 300)
			check_prefixes(rd_bin, data, len);
		else
			check_fail(rd_bin, data, len - 1, KITH_ETRUNC);
		codec_writer_reset(w);
	}
	assert_int_equal(codec_put_cstr(w, "héllo"), 0);
	data = codec_writer_data(w, &len);
	r = rd(data, len);
	assert_int_equal(codec_read_str(&r, &sp, &n), 0);
	assert_int_equal(n, strlen("héllo"));
	assert_memory_equal(sp, "héllo", n);
	free(src);
	codec_writer_free(w);
}

/*
 * Container headers: the count is read, and the reader insists the input
 * holds at least one byte per array item (two per map entry).
 */
static void
test_container_roundtrip(void **state)
{
	static const struct {
		uint32_t n;
		size_t hdr;
		uint8_t afirst, mfirst;
	} cases[] = {
		{ 0, 1, 0x90, 0x80 }, { 15, 1, 0x9f, 0x8f },
		{ 16, 3, 0xdc, 0xde }, { 65535, 3, 0xdc, 0xde },
		{ 65536, 5, 0xdd, 0xdf },
	};
	struct codec_writer *w = codec_writer_new();
	struct codec_reader r;
	uint8_t *buf;
	uint8_t hb[8];
	uint32_t n;
	size_t i, hl, cap = 5 + 2 * 65536;

	(void)state;
	assert_non_null(w);
	assert_non_null(buf = calloc(1, cap));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(codec_put_array(w, cases[i].n), 0);
		hl = take(w, hb, sizeof(hb));
		assert_int_equal(hl, cases[i].hdr);
		assert_int_equal(hb[0], cases[i].afirst);
		memcpy(buf, hb, hl);
		/* Exactly n items' worth of bytes: fine. */
		r = rd(buf, hl + cases[i].n);
		assert_int_equal(codec_read_array(&r, &n), 0);
		assert_int_equal(n, cases[i].n);
		assert_int_equal(r.off, hl);
		/* One byte short of n items: ETRUNC, cursor unmoved. */
		if (cases[i].n > 0)
			check_fail(rd_array, buf, hl + cases[i].n - 1,
			    KITH_ETRUNC);
		check_fail(rd_map, buf, hl + cases[i].n, KITH_ETYPE);

		assert_int_equal(codec_put_map(w, cases[i].n), 0);
		hl = take(w, hb, sizeof(hb));
		assert_int_equal(hl, cases[i].hdr);
		assert_int_equal(hb[0], cases[i].mfirst);
		memcpy(buf, hb, hl);
		r = rd(buf, hl + 2 * (size_t)cases[i].n);
		assert_int_equal(codec_read_map(&r, &n), 0);
		assert_int_equal(n, cases[i].n);
		if (cases[i].n > 0)
			check_fail(rd_map, buf, hl + 2 * cases[i].n - 1,
			    KITH_ETRUNC);
		check_fail(rd_array, buf, hl + 2 * cases[i].n, KITH_ETYPE);
	}
	free(buf);
	codec_writer_free(w);
}

static void
test_nil_bool_value(void **state)
{
	struct codec_writer *w = codec_writer_new();
	struct codec_reader r;
	struct codec_value v, in[4] = {
		{ .type = CODEC_NIL },
		{ .type = CODEC_INT, .i = -300 },
		{ .type = CODEC_STR, .s = "abc", .len = 3 },
		{ .type = CODEC_INT, .i = 1ULL << 40 },
	};
	const uint8_t *data;
	size_t len, i;
	int b;

	(void)state;
	assert_non_null(w);
	codec_put_nil(w);
	codec_put_bool(w, 1);
	codec_put_bool(w, 0);
	for (i = 0; i < 4; i++)
		codec_put_value(w, &in[i]);
	assert_int_equal(codec_writer_error(w), 0);
	data = codec_writer_data(w, &len);
	r = rd(data, len);
	assert_int_equal(codec_read_bool(&r, &b), KITH_ETYPE);
	assert_int_equal(codec_read_nil(&r), 0);
	assert_int_equal(codec_read_nil(&r), KITH_ETYPE);
	assert_int_equal(codec_read_value(&r, &v), KITH_ETYPE);	/* bool */
	assert_int_equal(codec_read_bool(&r, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(codec_read_bool(&r, &b), 0);
	assert_int_equal(b, 0);
	for (i = 0; i < 4; i++) {
		memset(&v, 0xa5, sizeof(v));
		assert_int_equal(codec_read_value(&r, &v), 0);
		assert_int_equal(codec_value_cmp(&v, &in[i]), 0);
		assert_int_equal(v.type, in[i].type);
	}
	assert_int_equal(codec_reader_left(&r), 0);
	r = rd(data, 0);
	assert_int_equal(codec_read_nil(&r), KITH_ETRUNC);
	assert_int_equal(codec_read_bool(&r, &b), KITH_ETRUNC);
	assert_int_equal(codec_read_value(&r, &v), KITH_ETRUNC);
	codec_writer_free(w);
}

/* Floats, extension types and containers are not values. */
static void
test_value_wrong_type(void **state)
{
	static const uint8_t f32[] = { 0xca, 0, 0, 0, 0 };
	static const uint8_t f64[] = { 0xcb, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t ext[] = { 0xd4, 0x01, 0x00 };
	static const uint8_t arr[] = { 0x91, 0x01 };
	static const uint8_t map[] = { 0x81, 0x01, 0x01 };
	static const uint8_t bin[] = { 0xc4, 0x01, 0x41 };

	(void)state;
	check_fail(rd_value, f32, sizeof(f32), KITH_ETYPE);
	check_fail(rd_value, f64, sizeof(f64), KITH_ETYPE);
	check_fail(rd_value, ext, sizeof(ext), KITH_ETYPE);
	check_fail(rd_value, arr, sizeof(arr), KITH_ETYPE);
	check_fail(rd_value, map, sizeof(map), KITH_ETYPE);
	check_fail(rd_value, bin, sizeof(bin), KITH_ETYPE);
	check_fail(rd_uint, f64, sizeof(f64), KITH_ETYPE);
	check_fail(rd_int, f32, sizeof(f32), KITH_ETYPE);
	check_fail(rd_str, arr, sizeof(arr), KITH_ETYPE);
	check_fail(rd_array, map, sizeof(map), KITH_ETYPE);
	check_fail(rd_map, arr, sizeof(arr), KITH_ETYPE);
	check_fail(rd_nil, bin, sizeof(bin), KITH_ETYPE);
	check_fail(rd_bool, bin, sizeof(bin), KITH_ETYPE);
	check_fail(rd_bin, ext, sizeof(ext), KITH_ETYPE);
}

static void
test_fixed(void **state)
{
	static const uint8_t b4[] = { 0xc4, 0x04, 1, 2, 3, 4 };
	struct codec_reader r;
	uint8_t out[8];

	(void)state;
	memset(out, 0, sizeof(out));
	r = rd(b4, sizeof(b4));
	assert_int_equal(codec_read_fixed(&r, out, 5), KITH_ETYPE);
	assert_int_equal(r.off, 0);
	assert_int_equal(codec_read_fixed(&r, out, 3), KITH_ETYPE);
	assert_int_equal(r.off, 0);
	assert_int_equal(codec_read_fixed(&r, out, 4), 0);
	assert_memory_equal(out, b4 + 2, 4);
	r = rd(b4, sizeof(b4) - 1);
	assert_int_equal(codec_read_fixed(&r, out, 4), KITH_ETRUNC);
	assert_int_equal(r.off, 0);
}

/* Each is a well-formed item in a longer form than needed. */
static void
test_noncanon(void **state)
{
	static const struct {
		read_fn *fn;
		uint8_t b[12];
		size_t len;
	} bad[] = {
		{ rd_uint, { 0xcc, 0x05 }, 2 },
		{ rd_uint, { 0xcc, 0x7f }, 2 },
		{ rd_uint, { 0xcd, 0x00, 0xff }, 3 },
		{ rd_uint, { 0xce, 0x00, 0x00, 0xff, 0xff }, 5 },
		{ rd_uint, { 0xcf, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff }, 9 },
		{ rd_int, { 0xcc, 0x05 }, 2 },
		{ rd_int, { 0xd0, 0xff }, 2 },		/* -1 */
		{ rd_int, { 0xd0, 0xe0 }, 2 },		/* -32 */
		{ rd_int, { 0xd0, 0x05 }, 2 },		/* positive */
		{ rd_int, { 0xd1, 0xff, 0x80 }, 3 },	/* -128 */
		{ rd_int, { 0xd1, 0x00, 0x05 }, 3 },
		{ rd_int, { 0xd2, 0xff, 0xff, 0x80, 0x00 }, 5 },
		{ rd_int, { 0xd3, 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0 }, 9 },
		{ rd_int, { 0xd3, 0, 0, 0, 0, 0, 0, 0, 1 }, 9 },
		{ rd_value, { 0xd0, 0xff }, 2 },
		{ rd_value, { 0xcd, 0x00, 0x01 }, 3 },
		{ rd_str, { 0xd9, 0x01, 'a' }, 3 },
		{ rd_str, { 0xd9, 0x1f }, 2 + 31 },
		{ rd_str, { 0xda, 0x00, 0x01, 'a' }, 4 },
		{ rd_str, { 0xda, 0x00, 0xff }, 3 + 255 },
		{ rd_str, { 0xdb, 0x00, 0x00, 0x00, 0x01, 'a' }, 6 },
		{ rd_value, { 0xd9, 0x01, 'a' }, 3 },
		{ rd_bin, { 0xc5, 0x00, 0x01, 'a' }, 4 },
		{ rd_bin, { 0xc5, 0x00, 0xff }, 3 + 255 },
		{ rd_bin, { 0xc6, 0x00, 0x00, 0x01, 0x00 }, 5 + 256 },
		{ rd_array, { 0xdc, 0x00, 0x01, 0x01 }, 4 },
		{ rd_array, { 0xdc, 0x00, 0x0f }, 3 + 15 },
		{ rd_array, { 0xdd, 0x00, 0x00, 0x00, 0x10 }, 5 + 16 },
		{ rd_array, { 0xdd, 0x00, 0x00, 0xff, 0xff }, 5 + 65535 },
		{ rd_map, { 0xde, 0x00, 0x01, 0x01, 0x01 }, 5 },
		{ rd_map, { 0xdf, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01 }, 7 },
	};
	struct codec_reader r;
	uint8_t *buf;
	uint32_t n;
	size_t i;

	(void)state;
	assert_non_null(buf = malloc(5 + 2 * 65536));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Pad with 'a': valid UTF-8 and a valid positive fixint. */
		memset(buf, 'a', 5 + 2 * 65536);
		if (bad[i].len <= sizeof(bad[i].b))
			memcpy(buf, bad[i].b, bad[i].len);
		else {
			/* Only the header is given; the rest is padding. */
			size_t h = 1 + (bad[i].b[0] == 0xd9 ? 1 :
			    bad[i].b[0] == 0xda || bad[i].b[0] == 0xc5 ||
			    bad[i].b[0] == 0xdc || bad[i].b[0] == 0xde ? 2 : 4);
			memcpy(buf, bad[i].b, h);
		}
		check_fail(bad[i].fn, buf, bad[i].len, KITH_ENONCANON);
	}
	/* The shortest forms at each boundary are accepted. */
	memset(buf, 'a', 5 + 2 * 65536);
	memcpy(buf, "\xdc\x00\x10", 3);
	r = rd(buf, 3 + 16);
	assert_int_equal(codec_read_array(&r, &n), 0);
	assert_int_equal(n, 16);
	memcpy(buf, "\xdd\x00\x01\x00\x00", 5);
	r = rd(buf, 5 + 65536);
	assert_int_equal(codec_read_array(&r, &n), 0);
	assert_int_equal(n, 65536);
	memcpy(buf, "\xd9\x20", 2);
	check_prefixes(rd_str, buf, 2 + 32);
	memcpy(buf, "\xc4\x00", 2);
	check_prefixes(rd_bin, buf, 2);
	memcpy(buf, "\xd0\xdf", 2);		/* -33 */
	check_prefixes(rd_int, buf, 2);
	free(buf);
}

static void
test_utf8(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		int ok;
	} cases[] = {
		{ "", 0, 1 },
		{ "plain ascii", 11, 1 },
		{ "\xc3\xa9", 2, 1 },			/* é */
		{ "\xe2\x82\xac", 3, 1 },		/* € */
		{ "\xf0\x9d\x84\x9e", 4, 1 },		/* U+1D11E */
		{ "\xf4\x8f\xbf\xbf", 4, 1 },		/* U+10FFFF */
		{ "\xed\x9f\xbf", 3, 1 },		/* U+D7FF */
		{ "\xee\x80\x80", 3, 1 },		/* U+E000 */
		{ "a\0b", 3, 1 },			/* NUL is UTF-8 */
		{ "\x80", 1, 0 },			/* lone continuation */
		{ "\xbf", 1, 0 },
		{ "\xc0\x80", 2, 0 },			/* overlong NUL */
		{ "\xc1\xbf", 2, 0 },			/* overlong */
		{ "\xe0\x80\x80", 3, 0 },		/* overlong */
		{ "\xe0\x9f\xbf", 3, 0 },		/* overlong U+07FF */
		{ "\xf0\x8f\xbf\xbf", 4, 0 },		/* overlong U+FFFF */
		{ "\xed\xa0\x80", 3, 0 },		/* surrogate D800 */
		{ "\xed\xbf\xbf", 3, 0 },		/* surrogate DFFF */
		{ "\xf4\x90\x80\x80", 4, 0 },		/* U+110000 */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xf8\x88\x80\x80\x80", 5, 0 },	/* 5-byte form */
		{ "\xfe", 1, 0 },
		{ "\xff", 1, 0 },
		{ "\xe2\x82", 2, 0 },			/* cut short */
		{ "a\xc3", 2, 0 },
		{ "\xf0\x9d\x84", 3, 0 },
		{ "\xc3\x28", 2, 0 },			/* bad continuation */
		{ "\xe2\x28\xa1", 3, 0 },
	};
	struct codec_writer *w = codec_writer_new();
	const uint8_t *data;
	struct codec_reader r;
	struct codec_value v;
	const char *p;
	size_t i, len, n;

	(void)state;
	assert_non_null(w);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(codec_utf8_valid(cases[i].s, cases[i].n),
		    cases[i].ok);
		codec_writer_reset(w);
		assert_int_equal(codec_put_str(w, cases[i].s, cases[i].n), 0);
		data = codec_writer_data(w, &len);
		r = rd(data, len);
		if (cases[i].ok) {
			assert_int_equal(codec_read_str(&r, &p, &n), 0);
			assert_int_equal(n, cases[i].n);
			r = rd(data, len);
			assert_int_equal(codec_read_value(&r, &v), 0);
			assert_int_equal(v.type, CODEC_STR);
		} else {
			check_fail(rd_str, data, len, KITH_ETYPE);
			check_fail(rd_value, data, len, KITH_ETYPE);
		}
	}
	codec_writer_free(w);
}

/*
 * Five bytes that declare four billion items: refused as truncated, before
 * anything is sized by the count.
 */
static void
test_huge_counts(void **state)
{
	static const uint8_t arr32[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t map32[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t arr16[] = { 0xdc, 0xff, 0xff, 0x01, 0x02 };
	static const uint8_t map16[] = { 0xde, 0x00, 0x10, 0x01, 0x02 };
	static const uint8_t str32[] = { 0xdb, 0xff, 0xff, 0xff, 0xff, 'a' };
	static const uint8_t bin32[] = { 0xc6, 0x80, 0x00, 0x00, 0x00, 'a' };
	static const uint8_t fix[] = { 0x9f, 0x01 };
	static const uint8_t fixmap[] = { 0x81, 0x01 };

	(void)state;
	check_fail(rd_array, arr32, sizeof(arr32), KITH_ETRUNC);
	check_fail(rd_map, map32, sizeof(map32), KITH_ETRUNC);
	check_fail(rd_array, arr16, sizeof(arr16), KITH_ETRUNC);
	check_fail(rd_map, map16, sizeof(map16), KITH_ETRUNC);
	check_fail(rd_str, str32, sizeof(str32), KITH_ETRUNC);
	check_fail(rd_bin, bin32, sizeof(bin32), KITH_ETRUNC);
	check_fail(rd_value, str32, sizeof(str32), KITH_ETRUNC);
	check_fail(rd_array, fix, sizeof(fix), KITH_ETRUNC);
	check_fail(rd_map, fixmap, sizeof(fixmap), KITH_ETRUNC);
}

static void
test_value_cmp(void **state)
{
	/* In ascending order. */
	const struct codec_value v[] = {
		{ .type = CODEC_NIL },
		{ .type = CODEC_INT, .i = INT64_MIN },
		{ .type = CODEC_INT, .i = -1 },
		{ .type = CODEC_INT, .i = 0 },
		{ .type = CODEC_INT, .i = 1 },
		{ .type = CODEC_INT, .i = INT64_MAX },
		{ .type = CODEC_STR, .s = "", .len = 0 },
		{ .type = CODEC_STR, .s = "\x01", .len = 1 },
		{ .type = CODEC_STR, .s = "a", .len = 1 },
		{ .type = CODEC_STR, .s = "a\0", .len = 2 },
		{ .type = CODEC_STR, .s = "ab", .len = 2 },
		{ .type = CODEC_STR, .s = "b", .len = 1 },
		{ .type = CODEC_STR, .s = "\xc3\xa9", .len = 2 },
	};
	const size_t n = sizeof(v) / sizeof(v[0]);
	struct codec_value a, b;
	size_t i, j;
	int c;

	(void)state;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			c = codec_value_cmp(&v[i], &v[j]);
			if (i < j)
				assert_true(c < 0);
			else if (i > j)
				assert_true(c > 0);
			else
				assert_int_equal(c, 0);
		}
	/* Equal content in different buffers; stale fields are ignored. */
	a = (struct codec_value){ .type = CODEC_STR, .s = "xyz", .len = 2 };
	b = (struct codec_value){ .type = CODEC_STR, .s = "xyq", .len = 2 };
	assert_int_equal(codec_value_cmp(&a, &b), 0);
	a = (struct codec_value){ .type = CODEC_NIL, .i = 5 };
	b = (struct codec_value){ .type = CODEC_NIL, .i = 6 };
	assert_int_equal(codec_value_cmp(&a, &b), 0);
	a = (struct codec_value){ .type = CODEC_INT, .i = 5, .len = 9 };
	b = (struct codec_value){ .type = CODEC_INT, .i = 5, .len = 1 };
	assert_int_equal(codec_value_cmp(&a, &b), 0);
}

static void
test_writer_steal(void **state)
{
	struct codec_writer *w = codec_writer_new();
	uint8_t *p;
	size_t len = 99;

	(void)state;
	assert_non_null(w);
	assert_null(codec_writer_steal(w, &len));	/* empty */
	codec_put_array(w, 2);
	codec_put_uint(w, 1);
	codec_put_cstr(w, "x");
	assert_non_null(p = codec_writer_steal(w, &len));
	assert_int_equal(len, 4);
	assert_memory_equal(p, "\x92\x01\xa1x", 4);
	free(p);
	/* Emptied, and usable again. */
	codec_writer_data(w, &len);
	assert_int_equal(len, 0);
	assert_int_equal(codec_put_raw(w, "\xc0", 1), 0);
	assert_non_null(p = codec_writer_steal(w, &len));
	assert_int_equal(len, 1);
	assert_int_equal(p[0], 0xc0);
	free(p);
	codec_writer_free(w);
	codec_writer_free(NULL);
}

/* Random values of every kind, written in sequence, read back in order. */
static void
test_random_sequence(void **state)
{
	struct codec_writer *w = codec_writer_new();
	struct codec_reader r;
	struct codec_value vals[500], got;
	char strs[500][40];
	uint64_t seed = 42, x;
	const uint8_t *data;
	size_t i, len;
	int k;

	(void)state;
	assert_non_null(w);
	for (i = 0; i < 500; i++) {
		x = (seed += 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
		x ^= x >> 29;
		switch (x % 3) {
		case 0:
			vals[i].type = CODEC_NIL;
			break;
		case 1:
			vals[i].type = CODEC_INT;
			vals[i].i = (int64_t)((x >> (x % 64)) >> 1);
			if (x & 4)
				vals[i].i = -vals[i].i;
			break;
		default:
			vals[i].type = CODEC_STR;
			vals[i].len = (x >> 8) % 40;
			for (k = 0; k < (int)vals[i].len; k++)
				strs[i][k] = (char)('A' + (x >> k) % 26);
			vals[i].s = strs[i];
			break;
		}
		assert_int_equal(codec_put_value(w, &vals[i]), 0);
	}
	data = codec_writer_data(w, &len);
	r = rd(data, len);
	for (i = 0; i < 500; i++) {
		assert_int_equal(codec_read_value(&r, &got), 0);
		assert_int_equal(codec_value_cmp(&got, &vals[i]), 0);
	}
	assert_int_equal(codec_reader_left(&r), 0);
	assert_int_equal(codec_read_value(&r, &got), KITH_ETRUNC);
	codec_writer_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint_roundtrip),
		cmocka_unit_test(test_int_roundtrip),
		cmocka_unit_test(test_int_range),
		cmocka_unit_test(test_str_bin_roundtrip),
		cmocka_unit_test(test_container_roundtrip),
		cmocka_unit_test(test_nil_bool_value),
		cmocka_unit_test(test_value_wrong_type),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_noncanon),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_huge_counts),
		cmocka_unit_test(test_value_cmp),
		cmocka_unit_test(test_writer_steal),
		cmocka_unit_test(test_random_sequence),
	};

	return tu_run(tests, NULL, NULL);
}
