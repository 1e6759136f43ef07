/*
 * Sync frames: the header, then each payload parser with what its builder
 * writes (round trip) beside what a peer could send instead (truncated at
 * every length, a trailing byte, an oversized or malformed field).  Record
 * entries carry real signed records, so a decode error is never a badly
 * built test record in disguise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "kcrypto.h"
#include "kith.h"
#include "record.h"
#include "syncmsg.h"
#include "testutil.h"

static const uint8_t NET[KITH_NETWORK_LEN] = { 0x4e, 0x45, 0x54, 0x31 };

/* The nonce byte of the genesis the record frames start with. */
#define NONCE	0xe1

#define NREC	4

/* A HELLO payload up to the name: network, flags, key, clock, port. */
#define HELLO_FIXED	(KITH_NETWORK_LEN + 1 + KITH_KEY_LEN + 8 + 2)
/* A WELCOME payload up to the name: network, record count, clock. */
#define WELCOME_FIXED	(KITH_NETWORK_LEN + 8 + 8)

/* A parsed view of ${len} payload bytes at ${p}, as syncmsg_parse makes. */
static struct syncmsg
view(uint8_t type, const uint8_t *p, size_t len)
{
	struct syncmsg m;

	m.type = type;
	m.reqid = 0;
	m.payload = p;
	m.len = len;
	return m;
}

/* Parse the frame built in ${b}; it must be whole and of ${type}. */
static struct syncmsg
parse_built(const struct syncmsg_buf *b, uint8_t type)
{
	struct syncmsg m;

	assert_int_equal(b->err, 0);
	assert_int_equal(syncmsg_parse(b->p, b->len, &m), 0);
	assert_int_equal(m.type, type);
	assert_ptr_equal(m.payload, b->p + SYNCMSG_HDR_LEN);
	assert_int_equal(m.len, b->len - SYNCMSG_HDR_LEN);
	return m;
}

/* A copy of ${n} bytes in a buffer of exactly that size, for ASan. */
static uint8_t *
dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	assert_non_null(c);
	memcpy(c, p, n);
	return c;
}

/*
 * Four records of one author's chain: the genesis of a request with a
 * body, then updates of it without one (as after an erasure), with a body
 * longer than the frame buffer's first allocation, and with an empty body.
 */
static void
make_records(struct record **recs)
{
	struct kcrypto_key *k = tu_key(9);
	char big[1001];
	const uint8_t *sh;
	struct record *bare;
	uint8_t *b, ent[KITH_ENTITY_LEN];
	size_t blen, shlen;

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < NREC; i++) {
		b = tu_body(&blen, "category", "food", "note",
		    i == 2 ? big : "bread", NULL);
		recs[i] = tu_chain(k, NET, recs, (size_t)i,
		    HLC_MAKE(1767225600000ULL + (uint64_t)i, 0),
		    KITH_KIND_REQUEST, NONCE, b, i == 3 ? 0 : blen, ent);
		free(b);
	}
	sh = record_signed(recs[1], &shlen);
	assert_int_equal(record_decode(sh, shlen, NULL, 0, &bare), 0);
	record_free(recs[1]);
	recs[1] = bare;
	kcrypto_key_free(k);
}

static void
free_records(struct record **recs)
{

	for (int i = 0; i < NREC; i++)
		record_free(recs[i]);
}

/* Same signed bytes, same id, same body (or both without). */
static void
assert_same_record(const struct record *a, const struct record *b)
{
	const uint8_t *pa, *pb;
	size_t la, lb;

	assert_memory_equal(record_id(a), record_id(b), KITH_ID_LEN);
	pa = record_signed(a, &la);
	pb = record_signed(b, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(pa, pb, la);
	pa = record_body(a, &la);
	pb = record_body(b, &lb);
	if (pa == NULL) {
		assert_null(pb);
	} else {
		assert_non_null(pb);
		assert_int_equal(la, lb);
		if (la > 0)
			assert_memory_equal(pa, pb, la);
	}
}

/*
 * Build a PUSH frame of ${recs} (if ${flags} is negative), else a RECORDS
 * frame with ${flags} and ${resume}.  Set ${ends}[0] to the payload offset
 * of the first entry and ${ends}[i+1] to the end of entry i.
 */
static void
build_entries(struct syncmsg_buf *b, int flags,
    const struct syncmsg_bound *resume, struct record **recs, size_t *ends)
{
	uint8_t f = (uint8_t)flags;
	size_t before;

	syncmsg_begin(b, flags < 0 ? SYNCMSG_PUSH : SYNCMSG_RECORDS, 77);
	if (flags >= 0) {
		syncmsg_put(b, &f, 1);
		if (flags & SYNCMSG_RESUME)
			syncmsg_put_bound(b, resume);
	}
	ends[0] = b->len - SYNCMSG_HDR_LEN;
	for (int i = 0; i < NREC; i++) {
		before = b->len;
		syncmsg_put_record(b, recs[i]);
		assert_int_equal(b->len - before, syncmsg_entry_len(recs[i]));
		ends[i + 1] = b->len - SYNCMSG_HDR_LEN;
	}
	assert_int_equal(b->err, 0);
}

/*
 * Iterate over ${m}, checking each record against ${recs} in order; set
 * ${*n} to the records read and return the final result.
 */
static int
read_entries(const struct syncmsg *m, struct record **recs, size_t *n)
{
	struct syncmsg_records it;
	struct record *rec;
	int rc;

	*n = 0;
	if ((rc = syncmsg_records_start(m, &it)) != 0)
		return rc;
	while ((rc = syncmsg_records_next(&it, &rec)) == 0) {
		assert_true(*n < NREC);
		assert_same_record(rec, recs[*n]);
		record_free(rec);
		(*n)++;
	}
	assert_null(rec);
	assert_true(it.off <= it.len);
	return rc;
}

static void
test_parse_header(void **state)
{
	static const uint8_t known[] = { SYNCMSG_HELLO, SYNCMSG_RECON,
	    SYNCMSG_GET, SYNCMSG_PULL, SYNCMSG_PUSH, SYNCMSG_BYE,
	    SYNCMSG_WELCOME, SYNCMSG_RECON_REPLY, SYNCMSG_RECORDS,
	    SYNCMSG_PUSHED, SYNCMSG_ERROR };
	uint8_t f[8] = { SYNCMSG_VERSION, SYNCMSG_GET, 0x12, 0x34, 0x56, 0x78,
	    0xaa, 0xbb };
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	struct syncmsg m;
	uint8_t *big;
	size_t len;
	int want;

	(void)state;
	/* The request id is big-endian. */
	assert_int_equal(syncmsg_parse(f, sizeof(f), &m), 0);
	assert_int_equal(m.type, SYNCMSG_GET);
	assert_int_equal(m.reqid, 0x12345678);
	assert_ptr_equal(m.payload, f + SYNCMSG_HDR_LEN);
	assert_int_equal(m.len, 2);
	/* A header alone is a frame with an empty payload. */
	assert_int_equal(syncmsg_parse(f, SYNCMSG_HDR_LEN, &m), 0);
	assert_int_equal(m.len, 0);
	/* The builder writes the same bytes, and ids of every width. */
	syncmsg_begin(&b, SYNCMSG_GET, 0x12345678);
	assert_int_equal(b.len, SYNCMSG_HDR_LEN);
	assert_memory_equal(b.p, f, SYNCMSG_HDR_LEN);
	syncmsg_begin(&b, SYNCMSG_PUSHED, 0xfedcba98);
	m = parse_built(&b, SYNCMSG_PUSHED);
	assert_int_equal(m.reqid, 0xfedcba98);
	assert_int_equal(b.p[2], 0xfe);
	assert_int_equal(b.p[5], 0x98);
	syncmsg_begin(&b, SYNCMSG_BYE, 0);
	assert_int_equal(parse_built(&b, SYNCMSG_BYE).reqid, 0);

	/* Shorter than a header. */
	for (len = 0; len < SYNCMSG_HDR_LEN; len++)
		assert_int_equal(syncmsg_parse(f, len, &m), KITH_ETRUNC);
	/* Another version, checked before the type. */
	f[0] = 0;
	assert_int_equal(syncmsg_parse(f, sizeof(f), &m), KITH_EVERSION);
	f[0] = SYNCMSG_VERSION + 1;
	assert_int_equal(syncmsg_parse(f, sizeof(f), &m), KITH_EVERSION);
	f[1] = 0x42;
	assert_int_equal(syncmsg_parse(f, sizeof(f), &m), KITH_EVERSION);
	f[0] = SYNCMSG_VERSION;
	/* Exactly the eleven types are known. */
	for (unsigned t = 0; t < 256; t++) {
		want = KITH_ETYPE;
		for (size_t i = 0; i < sizeof(known); i++)
			if (known[i] == t)
				want = 0;
		f[1] = (uint8_t)t;
		assert_int_equal(syncmsg_parse(f, sizeof(f), &m), want);
	}

	/* The frame cap, and one byte over it. */
	assert_non_null(big = calloc(1, SYNCMSG_FRAME_MAX + 1));
	big[0] = SYNCMSG_VERSION;
	big[1] = SYNCMSG_RECORDS;
	assert_int_equal(syncmsg_parse(big, SYNCMSG_FRAME_MAX, &m), 0);
	assert_int_equal(m.len, SYNCMSG_FRAME_MAX - SYNCMSG_HDR_LEN);
	assert_int_equal(syncmsg_parse(big, SYNCMSG_FRAME_MAX + 1, &m),
	    KITH_ETOOBIG);
	free(big);
	syncmsg_buf_free(&b);
}

/* The frame buffer: growth, a sticky failure, reset and free. */
static void
test_buf(void **state)
{
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	uint8_t chunk[100];
	uint8_t *keep;

	(void)state;
	syncmsg_begin(&b, SYNCMSG_GET, 1);
	for (int i = 0; i < 50; i++) {
		memset(chunk, i, sizeof(chunk));
		syncmsg_put(&b, chunk, sizeof(chunk));
	}
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, SYNCMSG_HDR_LEN + 5000);
	assert_true(b.cap >= b.len);
	assert_int_equal(b.p[SYNCMSG_HDR_LEN + 4999], 49);
	/* Nothing is appended after a failure, until the next frame. */
	b.err = KITH_ENOMEM;
	syncmsg_put(&b, chunk, 1);
	syncmsg_put_u32(&b, 1);
	assert_int_equal(b.len, SYNCMSG_HDR_LEN + 5000);
	keep = b.p;
	syncmsg_begin(&b, SYNCMSG_BYE, 2);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, SYNCMSG_HDR_LEN);
	assert_ptr_equal(b.p, keep);
	syncmsg_buf_reset(&b);
	assert_int_equal(b.len, 0);
	syncmsg_buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.cap, 0);
	syncmsg_buf_free(&b);
}

/* Build a HELLO or WELCOME of ${h} in ${b} and parse it back into ${out}. */
static int
hello_trip(struct syncmsg_buf *b, const struct syncmsg_hello *h, int welcome,
    struct syncmsg_hello *out)
{
	uint8_t type = welcome ? SYNCMSG_WELCOME : SYNCMSG_HELLO;
	struct syncmsg m;

	syncmsg_begin(b, type, 5);
	syncmsg_put_hello(b, h, welcome);
	m = parse_built(b, type);
	assert_int_equal(m.len, (welcome ? WELCOME_FIXED : HELLO_FIXED) + 1 +
	    strlen(h->name));
	return syncmsg_hello_parse(&m, out);
}

static void
test_hello_round_trip(void **state)
{
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	struct syncmsg_hello h, got;
	size_t len;

	(void)state;
	memset(&h, 0, sizeof(h));
	memcpy(h.network, NET, sizeof(h.network));
	h.flags = SYNCMSG_HELLO_BULK;
	for (size_t i = 0; i < KITH_KEY_LEN; i++)
		h.key[i] = (uint8_t)(0xa0 + i);
	h.records = 0x0102030405060708ULL;
	h.clock_ms = 0x0000019a1b2c3d4eULL;
	h.port = 7100;
	strcpy(h.name, "pantry-n\xc3\xb8rd \xf0\x9f\x8d\x9e");	/* UTF-8 */

	/* HELLO carries the flags and the key, not the count. */
	assert_int_equal(hello_trip(&b, &h, 0, &got), 0);
	assert_memory_equal(got.network, NET, sizeof(got.network));
	assert_int_equal(got.flags, SYNCMSG_HELLO_BULK);
	assert_memory_equal(got.key, h.key, KITH_KEY_LEN);
	assert_true(got.records == 0);
	assert_true(got.clock_ms == h.clock_ms);
	assert_int_equal(got.port, 7100);
	assert_string_equal(got.name, h.name);
	/* Byte for byte: network, flags, key, clock, port, name length, name. */
	assert_memory_equal(b.p + SYNCMSG_HDR_LEN, NET, KITH_NETWORK_LEN);
	assert_int_equal(b.p[SYNCMSG_HDR_LEN + KITH_NETWORK_LEN], 0x01);
	assert_memory_equal(b.p + SYNCMSG_HDR_LEN + KITH_NETWORK_LEN + 1,
	    h.key, KITH_KEY_LEN);
	assert_memory_equal(b.p + SYNCMSG_HDR_LEN + KITH_NETWORK_LEN + 1 +
	    KITH_KEY_LEN, "\x00\x00\x01\x9a\x1b\x2c\x3d\x4e\x1b\xbc", 10);
	assert_int_equal(b.p[SYNCMSG_HDR_LEN + HELLO_FIXED], strlen(h.name));
	assert_memory_equal(b.p + SYNCMSG_HDR_LEN + HELLO_FIXED + 1, h.name,
	    strlen(h.name));
	/* WELCOME carries the count (big-endian), not the flags or a key. */
	assert_int_equal(hello_trip(&b, &h, 1, &got), 0);
	assert_memory_equal(got.network, NET, sizeof(got.network));
	assert_int_equal(got.flags, 0);
	for (size_t i = 0; i < KITH_KEY_LEN; i++)
		assert_int_equal(got.key[i], 0);
	assert_true(got.records == 0x0102030405060708ULL);
	assert_true(got.clock_ms == h.clock_ms);
	assert_int_equal(got.port, 0);
	assert_int_equal(b.p[SYNCMSG_HDR_LEN + KITH_NETWORK_LEN], 0x01);
	assert_int_equal(b.p[SYNCMSG_HDR_LEN + KITH_NETWORK_LEN + 7], 0x08);
	assert_int_equal(b.p[SYNCMSG_HDR_LEN + WELCOME_FIXED - 1], 0x4e);
	assert_string_equal(got.name, h.name);
	/* The empty name, and the longest. */
	h.name[0] = '\0';
	assert_int_equal(hello_trip(&b, &h, 0, &got), 0);
	assert_string_equal(got.name, "");
	memset(h.name, 'n', SYNCMSG_NAME_MAX);
	h.name[SYNCMSG_NAME_MAX] = '\0';
	assert_int_equal(hello_trip(&b, &h, 1, &got), 0);
	assert_int_equal(strlen(got.name), SYNCMSG_NAME_MAX);
	assert_string_equal(got.name, h.name);

	/* Cut at every length, header included: never a HELLO. */
	for (int welcome = 0; welcome < 2; welcome++) {
		strcpy(h.name, "node-7");
		assert_int_equal(hello_trip(&b, &h, welcome, &got), 0);
		for (len = 0; len < b.len; len++) {
			struct syncmsg m;
			uint8_t *c = dup_exact(b.p, len);
			int rc = syncmsg_parse(c, len, &m);

			if (len < SYNCMSG_HDR_LEN) {
				assert_int_equal(rc, KITH_ETRUNC);
			} else {
				assert_int_equal(rc, 0);
				assert_int_equal(syncmsg_hello_parse(&m, &got),
				    KITH_ETRUNC);
				assert_string_equal(got.name, "");
			}
			free(c);
		}
		/* One byte too many. */
		syncmsg_put(&b, "x", 1);
		{
			struct syncmsg m = parse_built(&b, welcome ?
			    SYNCMSG_WELCOME : SYNCMSG_HELLO);

			assert_int_equal(syncmsg_hello_parse(&m, &got),
			    KITH_ETRAILING);
		}
	}
	syncmsg_buf_free(&b);
}

/* Parse a HELLO whose name is the ${n} bytes at ${name}. */
static int
hello_name(const char *name, size_t n)
{
	struct syncmsg_hello got;
	struct syncmsg m;
	uint8_t p[HELLO_FIXED + 1 + 256];
	int rc;

	memset(p, 0, sizeof(p));
	memcpy(p, NET, KITH_NETWORK_LEN);
	p[HELLO_FIXED] = (uint8_t)n;
	memcpy(p + HELLO_FIXED + 1, name, n);
	m = view(SYNCMSG_HELLO, p, HELLO_FIXED + 1 + n);
	rc = syncmsg_hello_parse(&m, &got);
	if (rc == 0) {
		assert_int_equal(strlen(got.name), n);
		assert_memory_equal(got.name, name, n);
	} else {
		assert_string_equal(got.name, "");
	}
	return rc;
}

static void
test_hello_bad_name(void **state)
{
	static const char *const bad[] = {
		"a\x01", "\x1f", "tab\there", "line\n", "del\x7f", "esc\x1b[0m",
		"\xff", "\xfe\xff", "cut\xc3", "\xc0\xaf", "\xe0\x80\xaf",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "\xf8\x88\x80\x80\x80",
	};
	struct syncmsg_hello got;
	struct syncmsg m;
	char name[256];
	uint8_t p[WELCOME_FIXED + 1 + 65];

	(void)state;
	/* Printable ASCII and UTF-8 up to four bytes. */
	assert_int_equal(hello_name(" ~", 2), 0);
	assert_int_equal(hello_name("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	    9), 0);
	assert_int_equal(hello_name("\xf4\x8f\xbf\xbf", 4), 0);
	/* Control characters (NUL included) and invalid UTF-8. */
	assert_int_equal(hello_name("a\0b", 3), KITH_EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hello_name(bad[i], strlen(bad[i])),
		    KITH_EINVAL);
	/* 64 bytes is the cap; 65 is over it, present or not. */
	memset(name, 'n', sizeof(name));
	assert_int_equal(hello_name(name, SYNCMSG_NAME_MAX), 0);
	assert_int_equal(hello_name(name, SYNCMSG_NAME_MAX + 1), KITH_ETOOBIG);
	assert_int_equal(hello_name(name, 255), KITH_ETOOBIG);
	memset(p, 'n', sizeof(p));
	p[HELLO_FIXED] = SYNCMSG_NAME_MAX + 1;
	m = view(SYNCMSG_HELLO, p, HELLO_FIXED + 1);
	assert_int_equal(syncmsg_hello_parse(&m, &got), KITH_ETOOBIG);
	/* In a WELCOME too. */
	memset(p, 'n', sizeof(p));
	p[WELCOME_FIXED] = SYNCMSG_NAME_MAX + 1;
	m = view(SYNCMSG_WELCOME, p, WELCOME_FIXED + 1 + 65);
	assert_int_equal(syncmsg_hello_parse(&m, &got), KITH_ETOOBIG);
	p[WELCOME_FIXED] = 3;
	p[WELCOME_FIXED + 2] = '\n';
	m = view(SYNCMSG_WELCOME, p, WELCOME_FIXED + 1 + 3);
	assert_int_equal(syncmsg_hello_parse(&m, &got), KITH_EINVAL);
	p[WELCOME_FIXED + 2] = 'n';
	assert_int_equal(syncmsg_hello_parse(&m, &got), 0);
	assert_string_equal(got.name, "nnn");
}

static void
test_pull(void **state)
{
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	struct syncmsg_bound lo, hi, glo, ghi;
	struct syncmsg m;
	uint8_t p[2 * 40 + 1];

	(void)state;
	memset(&lo, 0, sizeof(lo));
	memset(&hi, 0, sizeof(hi));
	lo.hlc = 0x0102030405060708ULL;
	memset(lo.id, 0xaa, sizeof(lo.id));
	hi.hlc = lo.hlc + 1;
	memset(hi.id, 0x11, sizeof(hi.id));	/* the hlc decides first */
	syncmsg_begin(&b, SYNCMSG_PULL, 9);
	syncmsg_put_bound(&b, &lo);
	syncmsg_put_bound(&b, &hi);
	m = parse_built(&b, SYNCMSG_PULL);
	assert_int_equal(m.len, 80);
	assert_int_equal(m.payload[0], 0x01);
	assert_int_equal(m.payload[7], 0x08);
	assert_int_equal(syncmsg_pull_parse(&m, &glo, &ghi), 0);
	assert_true(glo.hlc == lo.hlc);
	assert_true(ghi.hlc == hi.hlc);
	assert_memory_equal(glo.id, lo.id, KITH_ID_LEN);
	assert_memory_equal(ghi.id, hi.id, KITH_ID_LEN);
	assert_true(syncmsg_bound_cmp(&lo, &hi) < 0);
	assert_true(syncmsg_bound_cmp(&hi, &lo) > 0);
	assert_int_equal(syncmsg_bound_cmp(&lo, &lo), 0);

	/* The whole space: zero to all ones. */
	memset(p, 0, sizeof(p));
	memset(p + 40, 0xff, 40);
	m = view(SYNCMSG_PULL, p, 80);
	assert_int_equal(syncmsg_pull_parse(&m, &glo, &ghi), 0);
	assert_true(ghi.hlc == UINT64_MAX);
	/* Same hlc: the id decides, by one bit in its last byte. */
	memset(p, 0, sizeof(p));
	p[40 + 39] = 1;
	assert_int_equal(syncmsg_pull_parse(&m, &glo, &ghi), 0);
	/* An empty range, and an upside-down one. */
	p[40 + 39] = 0;
	assert_int_equal(syncmsg_pull_parse(&m, &glo, &ghi), KITH_ERANGE);
	p[39] = 1;
	assert_int_equal(syncmsg_pull_parse(&m, &glo, &ghi), KITH_ERANGE);
	p[39] = 0;
	p[7] = 1;
	p[40 + 39] = 0xff;
	assert_int_equal(syncmsg_pull_parse(&m, &glo, &ghi), KITH_ERANGE);
	/* Wrong lengths. */
	for (size_t len = 0; len < 80; len++) {
		m = view(SYNCMSG_PULL, b.p + SYNCMSG_HDR_LEN, len);
		assert_int_equal(syncmsg_pull_parse(&m, &glo, &ghi),
		    KITH_ETRUNC);
	}
	syncmsg_put(&b, "", 1);
	m = parse_built(&b, SYNCMSG_PULL);
	assert_int_equal(syncmsg_pull_parse(&m, &glo, &ghi), KITH_ETRAILING);
	syncmsg_buf_free(&b);
}

static void
test_get(void **state)
{
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	uint8_t id[KITH_ID_LEN];
	const uint8_t *ids;
	struct syncmsg m;
	size_t n, i;

	(void)state;
	syncmsg_begin(&b, SYNCMSG_GET, 3);
	for (i = 0; i < SYNCMSG_GET_MAX; i++) {
		memset(id, 0, sizeof(id));
		id[0] = (uint8_t)(i >> 8);
		id[1] = (uint8_t)i;
		syncmsg_put(&b, id, sizeof(id));
		if (i == 0) {
			/* One id. */
			m = parse_built(&b, SYNCMSG_GET);
			assert_int_equal(syncmsg_get_parse(&m, &ids, &n), 0);
			assert_int_equal(n, 1);
			assert_ptr_equal(ids, m.payload);
		}
	}
	/* The most one GET may ask for. */
	m = parse_built(&b, SYNCMSG_GET);
	assert_int_equal(syncmsg_get_parse(&m, &ids, &n), 0);
	assert_int_equal(n, SYNCMSG_GET_MAX);
	assert_int_equal(n * KITH_ID_LEN, m.len);
	assert_int_equal(ids[(n - 1) * KITH_ID_LEN], 0x0f);
	assert_int_equal(ids[(n - 1) * KITH_ID_LEN + 1], 0xff);
	/* No ids, a part of one, and a whole id plus a part. */
	n = 12345;
	ids = NULL;
	m = view(SYNCMSG_GET, b.p + SYNCMSG_HDR_LEN, 0);
	assert_int_equal(syncmsg_get_parse(&m, &ids, &n), KITH_ETRUNC);
	for (i = 1; i < 2 * KITH_ID_LEN; i++) {
		if (i == KITH_ID_LEN)
			continue;
		m = view(SYNCMSG_GET, b.p + SYNCMSG_HDR_LEN, i);
		assert_int_equal(syncmsg_get_parse(&m, &ids, &n),
		    KITH_ETRUNC);
	}
	m = view(SYNCMSG_GET, b.p + SYNCMSG_HDR_LEN, b.len -
	    SYNCMSG_HDR_LEN - 1);
	assert_int_equal(syncmsg_get_parse(&m, &ids, &n), KITH_ETRUNC);
	/* The outputs are untouched on failure. */
	assert_null(ids);
	assert_int_equal(n, 12345);
	/* One id over the cap. */
	syncmsg_put(&b, id, sizeof(id));
	m = parse_built(&b, SYNCMSG_GET);
	assert_int_equal(syncmsg_get_parse(&m, &ids, &n), KITH_ETOOBIG);
	syncmsg_put(&b, id, 1);
	m = parse_built(&b, SYNCMSG_GET);
	assert_int_equal(syncmsg_get_parse(&m, &ids, &n), KITH_ETRUNC);
	syncmsg_buf_free(&b);
}

static void
test_pushed(void **state)
{
	static const uint8_t want[12] = { 0, 0, 0, 7, 0xde, 0xad, 0xbe, 0xef,
	    0xff, 0xff, 0xff, 0xff };
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	uint32_t a, d, r;
	struct syncmsg m;

	(void)state;
	syncmsg_begin(&b, SYNCMSG_PUSHED, 11);
	syncmsg_put_u32(&b, 7);
	syncmsg_put_u32(&b, 0xdeadbeef);
	syncmsg_put_u32(&b, UINT32_MAX);
	m = parse_built(&b, SYNCMSG_PUSHED);
	assert_int_equal(m.len, 12);
	assert_memory_equal(m.payload, want, 12);
	assert_int_equal(syncmsg_pushed_parse(&m, &a, &d, &r), 0);
	assert_int_equal(a, 7);
	assert_int_equal(d, 0xdeadbeef);
	assert_int_equal(r, UINT32_MAX);
	for (size_t len = 0; len < 12; len++) {
		m = view(SYNCMSG_PUSHED, want, len);
		assert_int_equal(syncmsg_pushed_parse(&m, &a, &d, &r),
		    KITH_ETRUNC);
	}
	syncmsg_put(&b, "", 1);
	m = parse_built(&b, SYNCMSG_PUSHED);
	assert_int_equal(syncmsg_pushed_parse(&m, &a, &d, &r),
	    KITH_ETRAILING);
	syncmsg_buf_free(&b);
}

/* Build an ERROR of ${code}, ${text} and parse it into ${out}[${size}]. */
static int
error_trip(struct syncmsg_buf *b, int ecode, const char *text, int *code,
    char *out, size_t size)
{
	struct syncmsg m;

	syncmsg_begin(b, SYNCMSG_ERROR, 13);
	syncmsg_put_error(b, ecode, text);
	m = parse_built(b, SYNCMSG_ERROR);
	return syncmsg_error_parse(&m, code, out, size);
}

static void
test_error(void **state)
{
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	char text[SYNCMSG_TEXT_MAX + 1], longtext[400], small[5];
	uint8_t p[2 + SYNCMSG_TEXT_MAX + 1];
	struct syncmsg m;
	int code;

	(void)state;
	/* A negative code goes on the wire as its magnitude and comes back. */
	assert_int_equal(error_trip(&b, KITH_ENOTFOUND, "no such record",
	    &code, text, sizeof(text)), 0);
	assert_int_equal(code, KITH_ENOTFOUND);
	assert_int_equal(b.p[SYNCMSG_HDR_LEN], 0);
	assert_int_equal(b.p[SYNCMSG_HDR_LEN + 1], 13);
	assert_string_equal(text, "no such record");
	assert_int_equal(error_trip(&b, KITH_ELAST, "", &code, text,
	    sizeof(text)), 0);
	assert_int_equal(code, KITH_ELAST);
	assert_string_equal(text, "");
	/* Text over the cap is cut to it. */
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	assert_int_equal(error_trip(&b, KITH_EPROTO, longtext, &code, text,
	    sizeof(text)), 0);
	assert_int_equal(b.len, SYNCMSG_HDR_LEN + 2 + SYNCMSG_TEXT_MAX);
	assert_int_equal(strlen(text), SYNCMSG_TEXT_MAX);
	/* Bytes outside printable ASCII become '?'. */
	assert_int_equal(error_trip(&b, KITH_EPROTO,
	    "a\tb\x01" "c\x7f" "d\x1b[2J\r\n caf\xc3\xa9", &code, text,
	    sizeof(text)), 0);
	assert_string_equal(text, "a?b?c?d?[2J?? caf??");
	/* A code that is not a kith error still reads as an error. */
	memcpy(p, "\x00\x00" "x", 3);
	m = view(SYNCMSG_ERROR, p, 3);
	assert_int_equal(syncmsg_error_parse(&m, &code, text, sizeof(text)),
	    0);
	assert_int_equal(code, KITH_EPEER);
	memcpy(p, "\xff\xff" "x", 3);
	m = view(SYNCMSG_ERROR, p, 3);
	assert_int_equal(syncmsg_error_parse(&m, &code, text, sizeof(text)),
	    0);
	assert_int_equal(code, KITH_EPEER);
	/* A NUL on the wire does not end the text early. */
	memcpy(p, "\x00\x05" "a\0b", 5);
	m = view(SYNCMSG_ERROR, p, 5);
	assert_int_equal(syncmsg_error_parse(&m, &code, text, sizeof(text)),
	    0);
	assert_int_equal(code, KITH_EVERSION);
	assert_string_equal(text, "a?b");
	/* A small buffer gets a NUL-terminated prefix; none gets nothing. */
	assert_int_equal(error_trip(&b, KITH_EIO, "abcdefgh", &code, small,
	    sizeof(small)), 0);
	assert_string_equal(small, "abcd");
	memcpy(small, "keep", 5);
	code = 0;
	assert_int_equal(error_trip(&b, KITH_EIO, "abcdefgh", &code, small, 0),
	    0);
	assert_int_equal(code, KITH_EIO);
	assert_string_equal(small, "keep");

	/* No room for the code. */
	m = view(SYNCMSG_ERROR, p, 0);
	assert_int_equal(syncmsg_error_parse(&m, &code, text, sizeof(text)),
	    KITH_ETRUNC);
	m = view(SYNCMSG_ERROR, p, 1);
	assert_int_equal(syncmsg_error_parse(&m, &code, text, sizeof(text)),
	    KITH_ETRUNC);
	/* A peer's text one byte over the cap. */
	memset(p, 'y', sizeof(p));
	m = view(SYNCMSG_ERROR, p, 2 + SYNCMSG_TEXT_MAX + 1);
	assert_int_equal(syncmsg_error_parse(&m, &code, text, sizeof(text)),
	    KITH_ETOOBIG);
	m = view(SYNCMSG_ERROR, p, 2 + SYNCMSG_TEXT_MAX);
	assert_int_equal(syncmsg_error_parse(&m, &code, text, sizeof(text)),
	    0);
	assert_int_equal(strlen(text), SYNCMSG_TEXT_MAX);
	syncmsg_buf_free(&b);
}

static void
test_records_round_trip(void **state)
{
	static const int flagsets[] = { -1, 0, SYNCMSG_MORE, SYNCMSG_RESUME,
	    SYNCMSG_MORE | SYNCMSG_RESUME };
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	struct syncmsg_records it;
	struct syncmsg_bound resume;
	struct record *recs[NREC], *rec;
	struct syncmsg m;
	size_t ends[NREC + 1], n;
	uint8_t f;

	(void)state;
	make_records(recs);
	memset(&resume, 0, sizeof(resume));
	resume.hlc = HLC_MAKE(1767225600002ULL, 3);
	memset(resume.id, 0x5a, sizeof(resume.id));
	for (size_t i = 0; i < sizeof(flagsets) / sizeof(flagsets[0]); i++) {
		build_entries(&b, flagsets[i], &resume, recs, ends);
		m = parse_built(&b, flagsets[i] < 0 ? SYNCMSG_PUSH :
		    SYNCMSG_RECORDS);
		assert_int_equal(read_entries(&m, recs, &n), 1);
		assert_int_equal(n, NREC);
		assert_int_equal(syncmsg_records_start(&m, &it), 0);
		assert_int_equal(it.flags, flagsets[i] < 0 ? 0 : flagsets[i]);
		assert_int_equal(it.off, ends[0]);
		if (flagsets[i] >= 0 && (flagsets[i] & SYNCMSG_RESUME)) {
			assert_true(it.resume.hlc == resume.hlc);
			assert_memory_equal(it.resume.id, resume.id,
			    KITH_ID_LEN);
		}
		/* The end stays the end. */
		while (syncmsg_records_next(&it, &rec) == 0)
			record_free(rec);
		assert_int_equal(syncmsg_records_next(&it, &rec), 1);
		assert_null(rec);
	}
	/* The signature is not checked here, but it is the author's. */
	build_entries(&b, -1, NULL, recs, ends);
	m = parse_built(&b, SYNCMSG_PUSH);
	assert_int_equal(syncmsg_records_start(&m, &it), 0);
	while (syncmsg_records_next(&it, &rec) == 0) {
		assert_int_equal(record_verify(rec), 0);
		record_free(rec);
	}

	/* No entries: an empty PUSH, a RECORDS of only flags. */
	syncmsg_begin(&b, SYNCMSG_PUSH, 1);
	m = parse_built(&b, SYNCMSG_PUSH);
	assert_int_equal(read_entries(&m, recs, &n), 1);
	assert_int_equal(n, 0);
	syncmsg_begin(&b, SYNCMSG_RECORDS, 1);
	f = 0;
	syncmsg_put(&b, &f, 1);
	m = parse_built(&b, SYNCMSG_RECORDS);
	assert_int_equal(read_entries(&m, recs, &n), 1);
	assert_int_equal(n, 0);
	/* A RECORDS without its flags byte. */
	syncmsg_begin(&b, SYNCMSG_RECORDS, 1);
	m = parse_built(&b, SYNCMSG_RECORDS);
	assert_int_equal(syncmsg_records_start(&m, &it), KITH_ETRUNC);
	syncmsg_buf_free(&b);
	free_records(recs);
}

static void
test_records_flags(void **state)
{
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	struct syncmsg_records it;
	struct syncmsg_bound resume;
	struct record *recs[NREC];
	struct syncmsg m;
	size_t ends[NREC + 1], n;
	uint8_t *c;

	(void)state;
	make_records(recs);
	memset(&resume, 0x33, sizeof(resume));
	/* Every flag byte: the two known bits, in any mix, and no other. */
	for (unsigned f = 0; f < 256; f++) {
		build_entries(&b, (int)f, &resume, recs, ends);
		m = parse_built(&b, SYNCMSG_RECORDS);
		if (f & ~(unsigned)(SYNCMSG_MORE | SYNCMSG_RESUME)) {
			assert_int_equal(syncmsg_records_start(&m, &it),
			    KITH_ETYPE);
		} else {
			assert_int_equal(read_entries(&m, recs, &n), 1);
			assert_int_equal(n, NREC);
		}
	}
	/* A RESUME bound cut short. */
	build_entries(&b, SYNCMSG_RESUME, &resume, recs, ends);
	for (size_t len = 0; len < 1 + 40; len++) {
		c = dup_exact(b.p + SYNCMSG_HDR_LEN, len);
		m = view(SYNCMSG_RECORDS, c, len);
		assert_int_equal(syncmsg_records_start(&m, &it), KITH_ETRUNC);
		free(c);
	}
	/* A PUSH has no flags: its first byte is an entry's. */
	build_entries(&b, SYNCMSG_MORE, &resume, recs, ends);
	m = parse_built(&b, SYNCMSG_RECORDS);
	m.type = SYNCMSG_PUSH;
	assert_true(read_entries(&m, recs, &n) < 0);
	assert_int_equal(n, 0);
	syncmsg_buf_free(&b);
	free_records(recs);
}

/* Entries cut at every byte: a clean end only between entries. */
static void
test_records_truncated(void **state)
{
	static const int flagsets[] = { -1, SYNCMSG_MORE | SYNCMSG_RESUME };
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	struct syncmsg_bound resume;
	struct record *recs[NREC];
	struct syncmsg m;
	size_t ends[NREC + 1], len, n, done, clean;
	uint8_t *c;
	int rc;

	(void)state;
	make_records(recs);
	memset(&resume, 0x44, sizeof(resume));
	for (size_t k = 0; k < 2; k++) {
		build_entries(&b, flagsets[k], &resume, recs, ends);
		clean = 0;
		for (len = 0; len <= ends[NREC]; len++) {
			c = dup_exact(b.p + SYNCMSG_HDR_LEN, len);
			m = view(flagsets[k] < 0 ? SYNCMSG_PUSH :
			    SYNCMSG_RECORDS, c, len);
			rc = read_entries(&m, recs, &n);
			/* The whole entries before the cut, and no more. */
			for (done = 0; done < NREC && ends[done + 1] <= len;
			    done++)
				;
			if (len < ends[0]) {
				assert_int_equal(rc, KITH_ETRUNC);
				assert_int_equal(n, 0);
			} else if (len == ends[done]) {
				assert_int_equal(rc, 1);
				assert_int_equal(n, done);
				clean++;
			} else {
				assert_int_equal(rc, KITH_ETRUNC);
				assert_int_equal(n, done);
			}
			free(c);
		}
		assert_int_equal(clean, NREC + 1);
	}
	syncmsg_buf_free(&b);
	free_records(recs);
}

/* Put ${v} big-endian in the two bytes at ${p}. */
static void
be16(uint8_t *p, unsigned v)
{

	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
test_records_bad_lengths(void **state)
{
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	struct syncmsg_records it;
	struct record *recs[NREC], *rec;
	struct syncmsg m;
	size_t ends[NREC + 1], len, n, shlen, blen, bl;
	uint8_t *c;

	(void)state;
	make_records(recs);
	build_entries(&b, -1, NULL, recs, ends);
	len = ends[NREC];
	record_signed(recs[0], &shlen);
	record_body(recs[0], &blen);
	bl = 2 + shlen;			/* offset of entry 0's body length */
	assert_non_null(c = malloc(len + 8));
	m = view(SYNCMSG_PUSH, c, len);

	/* The copy reads back whole. */
	memcpy(c, b.p + SYNCMSG_HDR_LEN, len);
	assert_int_equal(read_entries(&m, recs, &n), 1);
	assert_int_equal(n, NREC);
	/* A signed-header length over the cap, checked before reading. */
	be16(c, KITH_SIGNED_MAX + 1);
	assert_int_equal(read_entries(&m, recs, &n), KITH_ETOOBIG);
	be16(c, 0xffff);
	assert_int_equal(read_entries(&m, recs, &n), KITH_ETOOBIG);
	/* At the cap, with fewer bytes behind it than that. */
	be16(c, KITH_SIGNED_MAX);
	m.len = KITH_SIGNED_MAX + 1;
	assert_true(len > m.len);
	assert_int_equal(read_entries(&m, recs, &n), KITH_ETRUNC);
	m.len = len;
	/* One byte short or long: the header no longer parses. */
	be16(c, (unsigned)shlen - 1);
	assert_true(read_entries(&m, recs, &n) < 0);
	be16(c, (unsigned)shlen + 1);
	assert_true(read_entries(&m, recs, &n) < 0);
	/* Empty: a decode error, not a record. */
	be16(c, 0);
	assert_true(read_entries(&m, recs, &n) < 0);
	assert_int_equal(n, 0);
	be16(c, (unsigned)shlen);

	/* A body length over the cap, up to the largest that is not "none". */
	be16(c + bl, KITH_BODY_MAX + 1);
	assert_int_equal(read_entries(&m, recs, &n), KITH_ETOOBIG);
	be16(c + bl, SYNCMSG_NOBODY - 1);
	assert_int_equal(read_entries(&m, recs, &n), KITH_ETOOBIG);
	/* At the cap, with fewer bytes behind it. */
	be16(c + bl, KITH_BODY_MAX);
	assert_true(len - bl - 2 < KITH_BODY_MAX);
	assert_int_equal(read_entries(&m, recs, &n), KITH_ETRUNC);
	/* Lengths that disagree with the header's. */
	be16(c + bl, 0);
	assert_int_equal(read_entries(&m, recs, &n), KITH_EBODYLEN);
	be16(c + bl, (unsigned)blen - 1);
	assert_int_equal(read_entries(&m, recs, &n), KITH_EBODYLEN);
	assert_int_equal(n, 0);
	/* "No body" while its bytes follow: they are read as an entry. */
	be16(c + bl, SYNCMSG_NOBODY);
	assert_true(syncmsg_records_start(&m, &it) == 0);
	assert_int_equal(syncmsg_records_next(&it, &rec), 0);
	assert_null(record_body(rec, &n));
	assert_memory_equal(record_id(rec), record_id(recs[0]), KITH_ID_LEN);
	record_free(rec);
	assert_true(syncmsg_records_next(&it, &rec) < 0);
	assert_null(rec);
	be16(c + bl, (unsigned)blen);

	/* A flipped body byte: the hash no longer matches. */
	c[bl + 2 + blen / 2] ^= 0x01;
	assert_int_equal(read_entries(&m, recs, &n), KITH_EBODYHASH);
	assert_int_equal(n, 0);
	c[bl + 2 + blen / 2] ^= 0x01;
	/* A flipped signature byte decodes (to another id) but won't verify. */
	c[2 + shlen - 1] ^= 0x01;
	assert_int_equal(syncmsg_records_start(&m, &it), 0);
	assert_int_equal(syncmsg_records_next(&it, &rec), 0);
	assert_memory_not_equal(record_id(rec), record_id(recs[0]),
	    KITH_ID_LEN);
	assert_int_equal(record_verify(rec), KITH_EBADSIG);
	record_free(rec);
	c[2 + shlen - 1] ^= 0x01;

	/*
	 * The header rules hold in a frame as anywhere: a genesis whose nonce
	 * changed on the way, and a second record whose prev was zeroed.
	 * seq 1 is one byte, prev 34, the hlc 9, kind 16 one, the entity 18.
	 */
	{
		size_t at = 2 + 70 + 1 + 34 + 9 + 1 + 18;

		assert_memory_equal(c + at, "\xc4\x10\xe1\xe1", 4);
		c[at + 2 + 15] ^= 0x80;
		assert_int_equal(read_entries(&m, recs, &n), KITH_EGENESIS);
		assert_int_equal(n, 0);
		c[at + 2 + 15] ^= 0x80;
		/* Entry 1 starts at ends[1]: its seq 2, then its prev. */
		at = ends[1] + 2 + 70;
		assert_memory_equal(c + at, "\x02\xc4\x20", 3);
		assert_memory_equal(c + at + 3, record_id(recs[0]),
		    KITH_ID_LEN);
		memset(c + at + 3, 0, KITH_ID_LEN);
		assert_int_equal(read_entries(&m, recs, &n), KITH_ERANGE);
		assert_int_equal(n, 1);
		memcpy(c + at + 3, record_id(recs[0]), KITH_ID_LEN);
		assert_int_equal(read_entries(&m, recs, &n), 1);
		/* Version 1's record: the version is read first. */
		c[2 + 1] = 0x01;
		assert_int_equal(read_entries(&m, recs, &n), KITH_EVERSION);
		c[2 + 1] = 0x02;
	}

	/* Garbage after the last entry is an error, never a record. */
	memset(c + len, 0, 8);
	for (size_t extra = 1; extra <= 8; extra++) {
		m.len = len + extra;
		assert_true(read_entries(&m, recs, &n) < 0);
		assert_int_equal(n, NREC);
	}
	m.len = len + 1;
	assert_int_equal(read_entries(&m, recs, &n), KITH_ETRUNC);
	free(c);
	syncmsg_buf_free(&b);
	free_records(recs);
}

/* An entry's size as syncmsg_entry_len tells it and as it is written. */
static void
test_entry_len(void **state)
{
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	struct record *recs[NREC];
	size_t before, shlen, blen, total = 0;

	(void)state;
	make_records(recs);
	syncmsg_begin(&b, SYNCMSG_PUSH, 0);
	for (int i = 0; i < NREC; i++) {
		record_signed(recs[i], &shlen);
		record_body(recs[i], &blen);
		before = b.len;
		syncmsg_put_record(&b, recs[i]);
		assert_int_equal(b.len - before, syncmsg_entry_len(recs[i]));
		assert_int_equal(syncmsg_entry_len(recs[i]), 4 + shlen + blen);
		total += syncmsg_entry_len(recs[i]);
		/* Without a body, the length says so. */
		if (record_body(recs[i], &blen) == NULL) {
			assert_int_equal(b.p[before + 2 + shlen], 0xff);
			assert_int_equal(b.p[before + 2 + shlen + 1], 0xff);
		}
	}
	assert_int_equal(b.len, SYNCMSG_HDR_LEN + total);
	/* The empty body is a body of length zero, not "none". */
	record_body(recs[3], &blen);
	assert_int_equal(blen, 0);
	assert_int_equal(b.p[b.len - 2], 0);
	assert_int_equal(b.p[b.len - 1], 0);
	syncmsg_buf_free(&b);
	free_records(recs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_header),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_hello_round_trip),
		cmocka_unit_test(test_hello_bad_name),
		cmocka_unit_test(test_pull),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_pushed),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_records_round_trip),
		cmocka_unit_test(test_records_flags),
		cmocka_unit_test(test_records_truncated),
		cmocka_unit_test(test_records_bad_lengths),
		cmocka_unit_test(test_entry_len),
	};

	return tu_run(tests, NULL, NULL);
}
