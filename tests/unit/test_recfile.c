/*
 * Records files: what export-records writes and import-records reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "kcrypto.h"
#include "kith.h"
#include "recfile.h"
#include "record.h"
#include "testutil.h"

static const uint8_t NET[KITH_NETWORK_LEN] = { 0x4e, 0x45, 0x54 };

/* The nonce byte of the genesis the files start with. */
#define NONCE	0xe0

/*
 * A file of three records of one author's chain: the genesis of a request,
 * then two updates of it, the first of them without its body.
 */
static uint8_t *
make_file(size_t *len, struct record **recs)
{
	struct kcrypto_key *k = tu_key(7);
	uint8_t *b, *buf = NULL, ent[KITH_ENTITY_LEN];
	size_t blen;
	FILE *f;

	for (int i = 0; i < 3; i++) {
		b = tu_body(&blen, "category", i == 2 ? "advice" : "food",
		    NULL);
		recs[i] = tu_chain(k, NET, recs, (size_t)i,
		    HLC_MAKE(1767225600000ULL + (uint64_t)i, 0),
		    KITH_KIND_REQUEST, NONCE, b, blen, ent);
		free(b);
	}
	/* They chain: each names the one before as its prev. */
	for (int i = 1; i < 3; i++)
		assert_memory_equal(record_header(recs[i])->prev,
		    record_id(recs[i - 1]), KITH_ID_LEN);
	{
		const uint8_t *sh;
		size_t shlen;
		struct record *bare;

		sh = record_signed(recs[1], &shlen);
		assert_int_equal(record_decode(sh, shlen, NULL, 0, &bare), 0);
		record_free(recs[1]);
		recs[1] = bare;
	}
	assert_non_null(f = open_memstream((char **)&buf, len));
	assert_int_equal(recfile_write_start(f, NET), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(recfile_write(f, recs[i]), 0);
	fclose(f);
	kcrypto_key_free(k);
	return buf;
}

/* Read a whole file image; return the first error or 1 at a clean end. */
static int
read_all(const uint8_t *p, size_t len, struct record **got, size_t *n)
{
	uint8_t net[KITH_NETWORK_LEN];
	struct record *rec;
	FILE *f;
	int rc;

	*n = 0;
	assert_non_null(f = fmemopen((void *)p, len, "rb"));
	if ((rc = recfile_read_start(f, net)) == 0) {
		assert_memory_equal(net, NET, sizeof(net));
		while ((rc = recfile_read(f, &rec)) == 0) {
			if (got != NULL && *n < 3)
				got[*n] = rec;
			else
				record_free(rec);
			(*n)++;
		}
	}
	fclose(f);
	return rc;
}

static void
test_round_trip(void **state)
{
	struct record *recs[3], *got[3];
	const uint8_t *a, *b;
	uint8_t *file;
	size_t len, n, la, lb;

	(void)state;
	file = make_file(&len, recs);
	assert_int_equal(read_all(file, len, got, &n), 1);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		a = record_signed(recs[i], &la);
		b = record_signed(got[i], &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		a = record_body(recs[i], &la);
		b = record_body(got[i], &lb);
		if (i == 1) {
			assert_null(b);
		} else {
			assert_non_null(b);
			assert_int_equal(la, lb);
			assert_memory_equal(a, b, la);
		}
		record_free(recs[i]);
		record_free(got[i]);
	}
	free(file);
}

static void
test_bad_start(void **state)
{
	struct record *recs[3];
	uint8_t *file, *copy;
	size_t len, n;

	(void)state;
	file = make_file(&len, recs);
	copy = malloc(len);
	/* Another magic. */
	memcpy(copy, file, len);
	copy[0] = 'X';
	assert_int_equal(read_all(copy, len, NULL, &n), KITH_ETYPE);
	/* Another format version. */
	memcpy(copy, file, len);
	copy[8] = 2;
	assert_int_equal(read_all(copy, len, NULL, &n), KITH_EVERSION);
	/* Empty, and cut inside the file header. */
	assert_int_equal(read_all(copy, 0, NULL, &n), KITH_ETRUNC);
	assert_int_equal(read_all(file, 20, NULL, &n), KITH_ETRUNC);
	for (int i = 0; i < 3; i++)
		record_free(recs[i]);
	free(copy);
	free(file);
}

static void
test_truncated_everywhere(void **state)
{
	struct record *recs[3];
	uint8_t *file;
	size_t len, cut, n, ends = 0;
	int rc;

	(void)state;
	file = make_file(&len, recs);
	/*
	 * Cut at every length: an error, or a clean end exactly at an entry
	 * boundary (and then fewer records).  Never a crash.
	 */
	for (cut = 0; cut < len; cut++) {
		rc = read_all(file, cut, NULL, &n);
		if (rc == 1) {
			ends++;
			assert_true(n < 3);
		} else {
			assert_true(rc == KITH_ETRUNC);
		}
	}
	/* The header end plus two entry boundaries. */
	assert_int_equal(ends, 3);
	for (int i = 0; i < 3; i++)
		record_free(recs[i]);
	free(file);
}

static void
test_bad_lengths(void **state)
{
	struct record *recs[3];
	uint8_t *file, *copy;
	size_t len, n, off = 8 + 1 + KITH_NETWORK_LEN, shlen;

	(void)state;
	file = make_file(&len, recs);
	copy = malloc(len + 1);
	/* A header length over the cap: refused before reading it. */
	memcpy(copy, file, len);
	memset(copy + off, 0xff, 4);
	assert_int_equal(read_all(copy, len, NULL, &n), KITH_ETOOBIG);
	/* A body length over the cap. */
	memcpy(copy, file, len);
	record_signed(recs[0], &shlen);
	copy[off + 4 + shlen] = 0x7f;
	assert_int_equal(read_all(copy, len, NULL, &n), KITH_ETOOBIG);
	/* A header length one short: the header no longer parses. */
	memcpy(copy, file, len);
	copy[off + 3]--;
	assert_true(read_all(copy, len, NULL, &n) < 0);
	/* A changed body byte: the hash no longer matches. */
	memcpy(copy, file, len);
	copy[off + 4 + shlen + 4 + 3] ^= 1;
	assert_int_equal(read_all(copy, len, NULL, &n), KITH_EBODYHASH);
	/* One trailing byte: a truncated next entry. */
	memcpy(copy, file, len);
	copy[len] = 0;
	assert_int_equal(read_all(copy, len + 1, NULL, &n), KITH_ETRUNC);
	/* The largest body length that is not "no body". */
	memcpy(copy, file, len);
	memset(copy + off + 4 + shlen, 0xff, 4);
	copy[off + 4 + shlen + 3] = 0xfe;
	assert_int_equal(read_all(copy, len, NULL, &n), KITH_ETOOBIG);
	/* A header length exactly at the cap, with too little behind it. */
	memcpy(copy, file, len);
	copy[off] = 0;
	copy[off + 1] = 0;
	copy[off + 2] = (uint8_t)(KITH_SIGNED_MAX >> 8);
	copy[off + 3] = (uint8_t)KITH_SIGNED_MAX;
	assert_true(shlen < KITH_SIGNED_MAX);
	assert_int_equal(read_all(copy, off + 4 + shlen, NULL, &n),
	    KITH_ETRUNC);
	/* An empty signed header: a decode error, not a record. */
	memcpy(copy, file, len);
	memset(copy + off, 0, 4);
	assert_true(read_all(copy, len, NULL, &n) < 0);
	for (int i = 0; i < 3; i++)
		record_free(recs[i]);
	free(copy);
	free(file);
}

/* Garbage after the last entry is an error, never a record or an end. */
static void
test_trailing_garbage(void **state)
{
	static const char *const junk[] = {
		"\0\0\0\0",			/* an empty header, then EOF */
		"\0\0\0\0\0\0\0\0",		/* an empty header and body */
		"garbage!",			/* a huge header length */
		("\0\0\0\x10" "0123456789abcdef\xff\xff\xff\xff"),
	};
	static const size_t jlen[] = { 4, 8, 8, 24 };
	struct record *recs[3];
	uint8_t *file, *copy;
	size_t len, n;
	int rc;

	(void)state;
	file = make_file(&len, recs);
	copy = malloc(len + 32);
	for (size_t j = 0; j < sizeof(jlen) / sizeof(jlen[0]); j++) {
		memcpy(copy, file, len);
		memcpy(copy + len, junk[j], jlen[j]);
		rc = read_all(copy, len + jlen[j], NULL, &n);
		assert_true(rc < 0);
		/* The good entries before it were read. */
		assert_int_equal(n, 3);
	}
	/* A header with no entries is an empty file, not an error. */
	assert_int_equal(read_all(file, 8 + 1 + KITH_NETWORK_LEN, NULL, &n),
	    1);
	assert_int_equal(n, 0);
	for (int i = 0; i < 3; i++)
		record_free(recs[i]);
	free(copy);
	free(file);
}

/* Find ${n} bytes of ${c} in ${p}[${len}], led by bin8 of ${n}. */
static size_t
find_run(const uint8_t *p, size_t len, uint8_t c, size_t n)
{
	size_t i, k;

	for (i = 0; i + 2 + n <= len; i++) {
		if (p[i] != 0xc4 || p[i + 1] != n)
			continue;
		for (k = 0; k < n && p[i + 2 + k] == c; k++)
			;
		if (k == n)
			return i;
	}
	fail_msg("no run of %zu bytes %02x", n, c);
	return 0;
}

/*
 * An entry is decoded as PROTOCOL.md 6 says, header rules included: the
 * reader stops at a genesis whose nonce was changed, or at a record of
 * another version, with the decoder's error.
 */
static void
test_header_rules(void **state)
{
	struct record *recs[3], *got[3];
	uint8_t *file, *copy;
	size_t len, n, off = 8 + 1 + KITH_NETWORK_LEN + 4, shlen, blen, at;

	(void)state;
	file = make_file(&len, recs);
	assert_true(record_header(recs[0])->genesis);
	record_signed(recs[0], &shlen);
	at = off + find_run(file + off, shlen, NONCE, KITH_NONCE_LEN);
	copy = malloc(len);
	memcpy(copy, file, len);
	assert_int_equal(read_all(copy, len, got, &n), 1);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++)
		record_free(got[i]);
	/* The nonce: the entity is no longer derived. */
	copy[at + 2 + 5] ^= 0x01;
	assert_int_equal(read_all(copy, len, NULL, &n), KITH_EGENESIS);
	assert_int_equal(n, 0);
	/* A nonce of 15 bytes, the last one read as the parents' array. */
	memcpy(copy, file, len);
	copy[at + 1] = 15;
	assert_true(read_all(copy, len, NULL, &n) < 0);
	assert_int_equal(n, 0);
	/* Version 1. */
	memcpy(copy, file, len);
	assert_int_equal(copy[off], 0x9e);
	copy[off + 1] = 0x01;
	assert_int_equal(read_all(copy, len, NULL, &n), KITH_EVERSION);
	/* The second entry's prev zeroed: seq 2 must name its predecessor. */
	memcpy(copy, file, len);
	assert_non_null(record_body(recs[0], &blen));
	at = off + shlen + 4 + blen + 4;	/* entry 1's signed header */
	/* Array, version, network, author; then seq 2 and prev. */
	assert_memory_equal(copy + at + 70, "\x02\xc4\x20", 3);
	assert_memory_equal(copy + at + 73, record_id(recs[0]), KITH_ID_LEN);
	memset(copy + at + 73, 0, KITH_ID_LEN);
	assert_int_equal(read_all(copy, len, got, &n), KITH_ERANGE);
	assert_int_equal(n, 1);
	record_free(got[0]);
	for (int i = 0; i < 3; i++)
		record_free(recs[i]);
	free(copy);
	free(file);
}

/* A stream that cannot be written or read: KITH_EIO. */
static void
test_io_errors(void **state)
{
	struct record *recs[3], *rec = NULL;
	uint8_t *file, net[KITH_NETWORK_LEN];
	size_t len;
	FILE *f;

	(void)state;
	file = make_file(&len, recs);
	if ((f = fopen("/dev/full", "w")) != NULL) {
		setvbuf(f, NULL, _IONBF, 0);
		assert_int_equal(recfile_write_start(f, NET), KITH_EIO);
		assert_int_equal(recfile_write(f, recs[0]), KITH_EIO);
		fclose(f);
	}
	assert_non_null(f = fopen("/dev/null", "w"));
	assert_int_equal(recfile_read_start(f, net), KITH_EIO);
	assert_int_equal(recfile_read(f, &rec), KITH_EIO);
	assert_null(rec);
	fclose(f);
	for (int i = 0; i < 3; i++)
		record_free(recs[i]);
	free(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_start),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_io_errors),
	};

	return tu_run(tests, NULL, NULL);
}
