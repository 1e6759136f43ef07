/*
 * The Negentropy V1 module: varints, fingerprints against an independent
 * computation, full client/server reconciliation of random sets (with and
 * without a frame size limit), and the strict message decoder.
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
#include "negentropy.h"
#include "testutil.h"

#define MAX_ROUNDS	400

static int
setup(void **state)
{

	(void)state;
	return kcrypto_init();
}

static int
cmp_item(const void *a, const void *b)
{
	const struct negentropy_item *x = a, *y = b;

	if (x->timestamp != y->timestamp)
		return x->timestamp < y->timestamp ? -1 : 1;
	return memcmp(x->id, y->id, 32);
}

static int
cmp_id(const void *a, const void *b)
{

	return memcmp(a, b, 32);
}

/* Fill ${it} with ${n} random items, timestamps in [base, base+span). */
static void
rand_items(struct negentropy_item *it, size_t n, uint64_t *rng,
    uint64_t base, uint64_t span)
{
	uint64_t x;
	size_t i, j;

	for (i = 0; i < n; i++) {
		it[i].timestamp = base + tu_rng(rng) % span;
		for (j = 0; j < 32; j += 8) {
			x = tu_rng(rng);
			memcpy(it[i].id + j, &x, 8);
		}
	}
}

static void
test_varint(void **state)
{
	static const uint64_t vals[] = { 0, 1, 127, 128, 255, 300, 16383,
	    16384, 1ULL << 32, (1ULL << 63) - 1, 1ULL << 63, UINT64_MAX };
	uint8_t buf[NEGENTROPY_VARINT_MAX], big[16];
	uint64_t v, rng = 1;
	size_t i, n, used;

	(void)state;
	n = negentropy_varint_encode(0, buf);
	assert_int_equal(n, 1);
	assert_int_equal(buf[0], 0);
	n = negentropy_varint_encode(300, buf);
	assert_int_equal(n, 2);
	assert_int_equal(buf[0], 0x82);
	assert_int_equal(buf[1], 0x2c);
	n = negentropy_varint_encode(UINT64_MAX, buf);
	assert_int_equal(n, 10);
	assert_int_equal(buf[0], 0x81);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]) + 1000; i++) {
		v = i < sizeof(vals) / sizeof(vals[0]) ? vals[i] :
		    tu_rng(&rng) >> (tu_rng(&rng) % 64);
		n = negentropy_varint_encode(v, buf);
		assert_in_range(n, 1, NEGENTROPY_VARINT_MAX);
		assert_int_equal(negentropy_varint_decode(buf, n, &v, &used), 0);
		assert_int_equal(used, n);
		assert_true(v == (i < sizeof(vals) / sizeof(vals[0]) ? vals[i] :
		    v));
		/* Every proper prefix is truncated. */
		while (n-- > 0)
			assert_int_equal(negentropy_varint_decode(buf, n, &v,
			    &used), KITH_ETRUNC);
	}

	/* Negatives. */
	assert_int_equal(negentropy_varint_decode(buf, 0, &v, &used),
	    KITH_ETRUNC);
	big[0] = 0x81;
	assert_int_equal(negentropy_varint_decode(big, 1, &v, &used),
	    KITH_ETRUNC);
	big[0] = 0x80;
	big[1] = 0x01;
	assert_int_equal(negentropy_varint_decode(big, 2, &v, &used),
	    KITH_ENONCANON);
	/* 2^64: one past the largest value. */
	big[0] = 0x82;
	memset(big + 1, 0x80, 8);
	big[9] = 0x00;
	assert_int_equal(negentropy_varint_decode(big, 10, &v, &used),
	    KITH_ERANGE);
	/* Eleven digits. */
	memset(big, 0xff, 10);
	big[10] = 0x7f;
	assert_int_equal(negentropy_varint_decode(big, 11, &v, &used),
	    KITH_ERANGE);
}

/* Independent fingerprint: bytewise little-endian add, then SHA-256. */
static void
slow_fp(const struct negentropy_item *it, size_t n, uint8_t out[16])
{
	uint8_t acc[32 + NEGENTROPY_VARINT_MAX], h[32];
	unsigned carry, s;
	size_t i, j, len;
	uint64_t c;

	memset(acc, 0, sizeof(acc));
	for (i = 0; i < n; i++) {
		carry = 0;
		for (j = 0; j < 32; j++) {
			s = acc[j] + it[i].id[j] + carry;
			acc[j] = s & 0xff;
			carry = s >> 8;
		}
	}
	/* Hand-written varint, independent of the module's encoder. */
	len = 0;
	for (c = n; c >= 128; c >>= 7)
		len++;
	for (i = 0, c = n; i <= len; i++, c >>= 7)
		acc[32 + len - i] = (c & 0x7f) | (i > 0 ? 0x80 : 0);
	kcrypto_sha256(h, acc, 32 + len + 1);
	memcpy(out, h, 16);
}

static void
test_fingerprint(void **state)
{
	struct negentropy_item it[300];
	uint8_t want[16], got[16], h[32], zero[33];
	uint64_t rng = 7;
	size_t n;

	(void)state;
	/* The empty range: SHA-256 of 32 zero bytes and varint 0. */
	memset(zero, 0, sizeof(zero));
	kcrypto_sha256(h, zero, 33);
	negentropy_fingerprint(NULL, 0, got);
	assert_memory_equal(got, h, 16);

	/* Ids of all 0xff bytes carry through every limb. */
	memset(it, 0, sizeof(it));
	memset(it[0].id, 0xff, 32);
	memset(it[1].id, 0xff, 32);
	it[2].id[0] = 1;
	it[2].id[31] = 0x80;
	slow_fp(it, 3, want);
	negentropy_fingerprint(it, 3, got);
	assert_memory_equal(got, want, 16);

	rand_items(it, 300, &rng, 0, 1000);
	for (n = 0; n <= 300; n += 37) {
		slow_fp(it, n, want);
		negentropy_fingerprint(it, n, got);
		assert_memory_equal(got, want, 16);
	}
	slow_fp(it, 300, want);
	negentropy_fingerprint(it, 300, got);
	assert_memory_equal(got, want, 16);
}

struct syncres {
	uint8_t (*have)[32];
	size_t nhave;
	uint8_t (*need)[32];
	size_t nneed;
	unsigned rounds;
	size_t maxmsg;
	struct negentropy_item *pulls;	/* bulk ranges: [2i, 2i+1) */
	size_t npulls;
};

static void
append_ids(uint8_t (**dst)[32], size_t *n, uint8_t (*src)[32], size_t ns)
{

	if (ns == 0)
		return;
	*dst = realloc(*dst, (*n + ns) * 32);
	assert_non_null(*dst);
	memcpy(*dst + *n, src, ns * 32);
	*n += ns;
}

/* Move the pull ranges ${ng} found to the end of ${res}'s. */
static void
take_pulls(struct negentropy *ng, struct syncres *res)
{
	struct negentropy_item *p;
	size_t n;

	assert_int_equal(negentropy_take_pulls(ng, &p, &n), 0);
	if (n == 0) {
		assert_null(p);
		return;
	}
	res->pulls = realloc(res->pulls, 2 * (res->npulls + n) *
	    sizeof(*p));
	assert_non_null(res->pulls);
	memcpy(res->pulls + 2 * res->npulls, p, 2 * n * sizeof(*p));
	res->npulls += n;
	free(p);
}

/*
 * Reconcile ${c} (client) with ${s} (server) in process, both sides
 * sending IdLists below ${idlist_below} (0: the default) and the client
 * pulling whole ranges if ${bulk}.
 */
static void
run_sync_policy(const struct negentropy_item *c, size_t nc,
    const struct negentropy_item *s, size_t ns, size_t limit,
    size_t idlist_below, int bulk, struct syncres *res)
{
	struct negentropy *cl, *sv;
	uint8_t *msg = NULL, *reply = NULL;
	uint8_t (*h)[32], (*nd)[32];
	size_t len, rlen, nh, nn;

	memset(res, 0, sizeof(*res));
	cl = negentropy_new(c, nc, limit);
	sv = negentropy_new(s, ns, limit);
	assert_non_null(cl);
	assert_non_null(sv);
	negentropy_set_policy(cl, idlist_below, bulk);
	negentropy_set_policy(sv, idlist_below, 0);
	assert_int_equal(negentropy_initiate(cl, &msg, &len), 0);
	take_pulls(cl, res);
	for (;;) {
		assert_true(res->rounds < MAX_ROUNDS);
		if (len > res->maxmsg)
			res->maxmsg = len;
		assert_int_equal(negentropy_message_check(msg, len, NULL), 0);
		assert_int_equal(negentropy_reconcile(sv, msg, len, &reply,
		    &rlen), 0);
		free(msg);
		msg = NULL;
		res->rounds++;
		if (rlen > res->maxmsg)
			res->maxmsg = rlen;
		assert_int_equal(negentropy_reconcile_client(cl, reply, rlen,
		    &msg, &len, &h, &nh, &nd, &nn), 0);
		free(reply);
		reply = NULL;
		append_ids(&res->have, &res->nhave, h, nh);
		append_ids(&res->need, &res->nneed, nd, nn);
		free(h);
		free(nd);
		take_pulls(cl, res);
		if (msg == NULL) {
			assert_int_equal(len, 0);
			break;
		}
	}
	negentropy_free(cl);
	negentropy_free(sv);
}

/* Sort the ${n} ids at ${v} and drop repeats; return how many are left. */
static size_t
uniq_ids(uint8_t (*v)[32], size_t n)
{
	size_t i, k;

	if (n == 0)
		return 0;
	qsort(v, n, 32, cmp_id);
	for (i = 1, k = 1; i < n; i++)
		if (memcmp(v[i], v[k - 1], 32) != 0)
			memmove(v[k++], v[i], 32);
	return k;
}

/* Assert the ${n} ids in ${got} are exactly the ${nw} items of ${want}. */
static void
assert_same_ids(uint8_t (*got)[32], size_t n,
    const struct negentropy_item *want, size_t nw)
{
	uint8_t (*w)[32] = NULL;
	size_t i;

	assert_int_equal(n, nw);
	if (n == 0)
		return;
	w = malloc(nw * 32);
	assert_non_null(w);
	for (i = 0; i < nw; i++)
		memcpy(w[i], want[i].id, 32);
	qsort(w, nw, 32, cmp_id);
	qsort(got, n, 32, cmp_id);
	assert_memory_equal(got, w, n * 32);
	free(w);
}

/*
 * Build ${common} shared items plus ${conly} only on the client and
 * ${sonly} only on the server, reconcile them, and check have/need.
 * Return the number of round trips.
 */
static unsigned
sync_case_policy(uint64_t seed, size_t common, size_t conly, size_t sonly,
    size_t limit, size_t idlist_below)
{
	struct negentropy_item *all, *c, *s;
	struct syncres res;
	size_t total = common + conly + sonly, nc = 0, ns = 0, i;
	uint64_t rng = seed;
	unsigned rounds;

	all = malloc((total + 1) * sizeof(*all));
	c = malloc((total + 1) * sizeof(*c));
	s = malloc((total + 1) * sizeof(*s));
	assert_non_null(all);
	assert_non_null(c);
	assert_non_null(s);
	/* Few distinct timestamps, so id-prefix bounds get exercised. */
	rand_items(all, total, &rng, 1000, total / 8 + 1);
	for (i = 0; i < total; i++) {
		if (i < common + conly)
			c[nc++] = all[i];
		if (i < common || i >= common + conly)
			s[ns++] = all[i];
	}
	qsort(c, nc, sizeof(*c), cmp_item);
	qsort(s, ns, sizeof(*s), cmp_item);
	run_sync_policy(c, nc, s, ns, limit, idlist_below, 0, &res);
	assert_int_equal(res.npulls, 0);
	if (limit != 0) {
		/* V1 may report an id again after a frame-limit close. */
		res.nhave = uniq_ids(res.have, res.nhave);
		res.nneed = uniq_ids(res.need, res.nneed);
	}
	assert_same_ids(res.have, res.nhave, all + common, conly);
	assert_same_ids(res.need, res.nneed, all + common + conly, sonly);
	if (limit != 0)
		assert_true(res.maxmsg <= limit);
	rounds = res.rounds;
	free(res.have);
	free(res.need);
	free(all);
	free(c);
	free(s);
	return rounds;
}

static unsigned
sync_case(uint64_t seed, size_t common, size_t conly, size_t sonly,
    size_t limit)
{

	return sync_case_policy(seed, common, conly, sonly, limit, 0);
}

static void
test_sync_identical(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, 10000 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		assert_int_equal(sync_case(100 + i, sizes[i], 0, 0, 0), 1);
}

static void
test_sync_identical_reply_is_empty(void **state)
{
	struct negentropy_item it[100];
	struct negentropy *cl, *sv;
	uint8_t *msg, *reply, *out;
	uint8_t (*h)[32], (*nd)[32];
	size_t len, rlen, olen, nh, nn;
	uint64_t rng = 3;

	(void)state;
	rand_items(it, 100, &rng, 0, 1ULL << 40);
	qsort(it, 100, sizeof(it[0]), cmp_item);
	cl = negentropy_new(it, 100, 0);
	sv = negentropy_new(it, 100, 0);
	assert_int_equal(negentropy_initiate(cl, &msg, &len), 0);
	assert_int_equal(negentropy_reconcile(sv, msg, len, &reply, &rlen), 0);
	assert_int_equal(rlen, 1);
	assert_int_equal(reply[0], NEGENTROPY_VERSION);
	assert_int_equal(negentropy_reconcile_client(cl, reply, rlen, &out,
	    &olen, &h, &nh, &nd, &nn), 0);
	assert_null(out);
	assert_int_equal(nh + nn, 0);
	/* Roles are fixed. */
	assert_int_equal(negentropy_reconcile(cl, reply, rlen, &out, &olen),
	    KITH_EINVAL);
	assert_int_equal(negentropy_reconcile_client(sv, reply, rlen, &out,
	    &olen, &h, &nh, &nd, &nn), KITH_EINVAL);
	assert_int_equal(negentropy_initiate(sv, &out, &olen), KITH_EINVAL);
	free(msg);
	free(reply);
	negentropy_free(cl);
	negentropy_free(sv);
}

static void
test_sync_differences(void **state)
{
	static const size_t sizes[] = { 1, 100, 10000 };
	static const size_t diffs[] = { 1, 10, 1000 };
	size_t i, j;
	unsigned r;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < sizeof(diffs) / sizeof(diffs[0]); j++) {
			/* Split the difference between both sides. */
			r = sync_case(1000 * i + j, sizes[i], diffs[j] / 2,
			    diffs[j] - diffs[j] / 2, 0);
			assert_in_range(r, 1, MAX_ROUNDS);
			r = sync_case(2000 * i + j, sizes[i], diffs[j], 0, 0);
			assert_in_range(r, 1, MAX_ROUNDS);
			r = sync_case(3000 * i + j, sizes[i], 0, diffs[j], 0);
			assert_in_range(r, 1, MAX_ROUNDS);
			if (getenv("NEG_VERBOSE") != NULL)
				printf("size %zu diff %zu: %u rounds\n",
				    sizes[i], diffs[j], r);
		}
	/* One side empty. */
	assert_int_equal(sync_case(5, 0, 10000, 0, 0), 1);
	assert_int_equal(sync_case(6, 0, 0, 10000, 0), 1);
	assert_int_equal(sync_case(7, 0, 100, 0, 0), 1);
}

static void
test_sync_frame_limit(void **state)
{
	unsigned r;

	(void)state;
	static const size_t cases[][3] = {
		{ 10000, 500, 500 }, { 0, 0, 10000 }, { 0, 10000, 0 },
		{ 10000, 0, 0 }, { 3000, 3000, 3000 }, { 10000, 1, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = sync_case(11 + i, cases[i][0], cases[i][1], cases[i][2],
		    4096);
		assert_in_range(r, 1, MAX_ROUNDS);
		if (cases[i][1] + cases[i][2] == 0)
			assert_int_equal(r, 1);
		if (getenv("NEG_VERBOSE") != NULL)
			printf("limit 4096, common %zu client-only %zu "
			    "server-only %zu: %u rounds\n", cases[i][0],
			    cases[i][1], cases[i][2], r);
	}
}

static void
test_new_rejects(void **state)
{
	struct negentropy_item it[2];

	(void)state;
	memset(it, 0, sizeof(it));
	it[0].timestamp = 5;
	it[1].timestamp = 4;
	assert_null(negentropy_new(it, 2, 0));		/* unsorted */
	it[1].timestamp = 5;
	assert_null(negentropy_new(it, 2, 0));		/* duplicate */
	it[1].id[31] = 1;
	assert_null(negentropy_new(it, 2, 4095));	/* limit too small */
	it[1].timestamp = UINT64_MAX;
	assert_null(negentropy_new(it, 2, 0));		/* reserved */
	it[1].timestamp = 5;
	negentropy_free(negentropy_new(it, 2, 4096));
	negentropy_free(NULL);
}

/* Run ${msg} through the checker and a fresh server; both give ${want}. */
static void
expect_bad(const uint8_t *msg, size_t len, int want)
{
	struct negentropy_item it[1];
	struct negentropy *sv;
	uint8_t *out = (uint8_t *)"x";
	size_t olen = 1;

	memset(it, 0, sizeof(it));
	it[0].timestamp = 10;
	assert_int_equal(negentropy_message_check(msg, len, NULL), want);
	sv = negentropy_new(it, 1, 0);
	assert_non_null(sv);
	assert_int_equal(negentropy_reconcile(sv, msg, len, &out, &olen),
	    want);
	assert_null(out);
	assert_int_equal(olen, 0);
	negentropy_free(sv);
}

static void
test_malformed(void **state)
{
	uint8_t m[128];
	size_t n;

	(void)state;
	memset(m, 0, sizeof(m));
	expect_bad(m, 0, KITH_ETRUNC);
	m[0] = 0x62;
	expect_bad(m, 1, KITH_EVERSION);
	m[0] = 0x60;
	expect_bad(m, 1, KITH_EVERSION);

	/* A lone version byte is a valid (empty) message. */
	m[0] = NEGENTROPY_VERSION;
	assert_int_equal(negentropy_message_check(m, 1, &n), 0);
	assert_int_equal(n, 0);

	/* Truncated: a bound with no mode. */
	m[1] = 0x00;
	m[2] = 0x00;
	expect_bad(m, 3, KITH_ETRUNC);
	/* Bad mode. */
	m[3] = 0x03;
	expect_bad(m, 4, KITH_ETYPE);
	/* Fingerprint cut short. */
	m[3] = 0x01;
	memset(m + 4, 0, 16);
	assert_int_equal(negentropy_message_check(m, 20, &n), 0);
	assert_int_equal(n, 1);
	expect_bad(m, 19, KITH_ETRUNC);
	/* Varint too long in the timestamp. */
	memset(m + 1, 0xff, 10);
	m[11] = 0x00;
	expect_bad(m, 12, KITH_ERANGE);
	/* Non-minimal varint. */
	m[1] = 0x80;
	m[2] = 0x05;
	expect_bad(m, 12, KITH_ENONCANON);
	/* Id prefix over 32 bytes. */
	m[1] = 0x02;
	m[2] = 33;
	memset(m + 3, 1, 40);
	expect_bad(m, 40, KITH_ERANGE);
	/* Id prefix longer than the rest. */
	m[2] = 10;
	expect_bad(m, 8, KITH_ETRUNC);
	/* IdList claiming more ids than the bytes can hold. */
	m[1] = 0x00;
	m[2] = 0x00;
	m[3] = 0x02;
	m[4] = 0x03;
	memset(m + 5, 7, 64);
	expect_bad(m, 5 + 64, KITH_ETRUNC);
	m[4] = 0x81;			/* 2^63-ish count, 10 digits */
	memset(m + 5, 0xff, 8);
	m[13] = 0x7f;
	expect_bad(m, 14, KITH_ETRUNC);
	m[4] = 0x02;
	assert_int_equal(negentropy_message_check(m, 5 + 64, NULL), 0);

	/* Bounds not ascending: timestamp 5 then 5 (delta 0). */
	m[1] = 0x06; m[2] = 0x00; m[3] = 0x00;
	m[4] = 0x01; m[5] = 0x00; m[6] = 0x00;
	expect_bad(m, 7, KITH_ENONCANON);
	/* Equal timestamp but longer, larger prefix: ascending. */
	m[4] = 0x01; m[5] = 0x01; m[6] = 0x09; m[7] = 0x00;
	assert_int_equal(negentropy_message_check(m, 8, &n), 0);
	assert_int_equal(n, 2);
	/* Equal timestamp, prefix of zeros equals the previous bound. */
	m[6] = 0x00;
	expect_bad(m, 8, KITH_ENONCANON);
	/* First bound equal to the implicit lower bound (0, zeros). */
	m[1] = 0x01; m[2] = 0x00; m[3] = 0x00;
	expect_bad(m, 4, KITH_ENONCANON);
	/* A range after the infinity bound. */
	m[1] = 0x00; m[2] = 0x00; m[3] = 0x00;
	m[4] = 0x00; m[5] = 0x00; m[6] = 0x00;
	expect_bad(m, 7, KITH_ENONCANON);
	/* A timestamp that reaches the reserved maximum. */
	m[1] = 0x06; m[2] = 0x00; m[3] = 0x00;	/* timestamp 5, Skip */
	m[4] = 0x81;				/* 5 + UINT64_MAX - 1 */
	memset(m + 5, 0xff, 8);
	m[13] = 0x7f;
	m[14] = 0x00; m[15] = 0x00;
	expect_bad(m, 16, KITH_ERANGE);
	m[13] = 0x7b;				/* 5 + UINT64_MAX - 5 */
	expect_bad(m, 16, KITH_ERANGE);
	m[13] = 0x7a;				/* UINT64_MAX - 1: allowed */
	assert_int_equal(negentropy_message_check(m, 16, NULL), 0);
}

/* Every prefix of a valid message is handled without a crash. */
static void
truncate_all(const uint8_t *msg, size_t len,
    const struct negentropy_item *it, size_t n, int client)
{
	struct negentropy *ng;
	uint8_t *out, *init;
	uint8_t (*h)[32], (*nd)[32];
	size_t i, olen, ilen, nh, nn;
	int rc;

	for (i = 0; i <= len; i++) {
		ng = negentropy_new(it, n, 0);
		assert_non_null(ng);
		if (client) {
			assert_int_equal(negentropy_initiate(ng, &init, &ilen),
			    0);
			free(init);
			rc = negentropy_reconcile_client(ng, msg, i, &out,
			    &olen, &h, &nh, &nd, &nn);
			free(h);
			free(nd);
		} else
			rc = negentropy_reconcile(ng, msg, i, &out, &olen);
		assert_int_equal(rc, negentropy_message_check(msg, i, NULL));
		if (rc != 0)
			assert_null(out);
		free(out);
		negentropy_free(ng);
	}
}

static void
test_truncation(void **state)
{
	struct negentropy_item a[200], b[200];
	struct negentropy *cl, *sv;
	uint8_t *msg, *reply;
	size_t len, rlen;
	uint64_t rng = 99;

	(void)state;
	rand_items(a, 200, &rng, 0, 50);
	qsort(a, 200, sizeof(a[0]), cmp_item);
	memcpy(b, a, sizeof(a));
	b[17].id[3] ^= 1;
	b[150].id[0] ^= 0x80;
	qsort(b, 200, sizeof(b[0]), cmp_item);
	cl = negentropy_new(a, 200, 0);
	sv = negentropy_new(b, 200, 0);
	assert_int_equal(negentropy_initiate(cl, &msg, &len), 0);
	assert_int_equal(negentropy_reconcile(sv, msg, len, &reply, &rlen), 0);
	assert_true(rlen > 1);
	truncate_all(msg, len, b, 200, 0);
	truncate_all(reply, rlen, a, 200, 1);
	free(msg);
	free(reply);
	negentropy_free(cl);
	negentropy_free(sv);
}

/* Item ${i} of vector seed ${seed}: see tests/vectors/negentropy.txt. */
static void
vec_item(struct negentropy_item *it, unsigned seed, uint64_t span, size_t i)
{
	char name[64];
	int n;

	n = snprintf(name, sizeof(name), "%u:%zu", seed, i);
	kcrypto_sha256(it->id, (const uint8_t *)name, (size_t)n);
	it->timestamp = 1000 + ((uint64_t)it->id[0] << 24 |
	    (uint64_t)it->id[1] << 16 | (uint64_t)it->id[2] << 8 |
	    it->id[3]) % span;
}

static struct negentropy_item *
vec_set(unsigned seed, uint64_t span, size_t from, size_t to)
{
	struct negentropy_item *it;
	size_t i;

	it = malloc((to - from + 1) * sizeof(*it));
	assert_non_null(it);
	for (i = from; i < to; i++)
		vec_item(&it[i - from], seed, span, i);
	qsort(it, to - from, sizeof(*it), cmp_item);
	return it;
}

static uint8_t *
vec_unhex(const char *hex, size_t *len)
{
	uint8_t *p;

	*len = strlen(hex) / 2;
	p = malloc(*len + 1);
	assert_non_null(p);
	assert_int_equal(kith_unhex(p, *len, hex), 0);
	return p;
}

/*
 * Rewrite the valid message ${m} with every bound's id prefix stripped of
 * trailing zero bytes; the meaning is unchanged (omitted bytes are zero).
 * The JS port pads decoded bounds to 32 bytes where the C++ reference
 * keeps the sender's length, so replies are compared in this form.
 */
static uint8_t *
normalize(const uint8_t *m, size_t len, size_t *olen)
{
	uint8_t *o;
	uint64_t v, plen, mode;
	size_t off = 1, n = 1, used, start;

	assert_int_equal(negentropy_message_check(m, len, NULL), 0);
	o = malloc(len);
	assert_non_null(o);
	o[0] = m[0];
	while (off < len) {
		/* The timestamp is copied; the prefix loses trailing zeros. */
		assert_int_equal(negentropy_varint_decode(m + off, len - off,
		    &v, &used), 0);
		memcpy(o + n, m + off, used);
		n += used;
		off += used;
		assert_int_equal(negentropy_varint_decode(m + off, len - off,
		    &plen, &used), 0);
		off += used;
		for (v = plen; v > 0 && m[off + v - 1] == 0; v--)
			;
		n += negentropy_varint_encode(v, o + n);
		memcpy(o + n, m + off, v);
		n += v;
		off += plen;
		/* Mode and payload are copied. */
		start = off;
		assert_int_equal(negentropy_varint_decode(m + off, len - off,
		    &mode, &used), 0);
		off += used;
		if (mode == 1)
			off += 16;
		else if (mode == 2) {
			assert_int_equal(negentropy_varint_decode(m + off,
			    len - off, &v, &used), 0);
			off += used + 32 * v;
		}
		memcpy(o + n, m + start, off - start);
		n += off - start;
	}
	*olen = n;
	return o;
}

/* Assert ${a} and ${b} are the same message up to prefix padding. */
static void
assert_same_msg(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint8_t *na, *nb;
	size_t nalen, nblen;

	na = normalize(a, alen, &nalen);
	nb = normalize(b, blen, &nblen);
	assert_int_equal(nalen, nblen);
	assert_memory_equal(na, nb, nalen);
	free(na);
	free(nb);
}

/*
 * Interop with @nostr-dev-kit/sync: our initial message must equal theirs
 * byte for byte; our server's reply, and our client's answer to their
 * server's reply and to ours, must equal theirs up to bound padding.
 */
static void
test_vectors(void **state)
{
	const char *path = getenv("NEGENTROPY_VECTORS");
	char *line = NULL, *tok[9], *save;
	size_t cap = 0, n, len = 0, ilen, rlen, olen, mlen, nh, nn, cases = 0;
	struct negentropy_item *c, *s;
	struct negentropy *cl, *sv, *cl2;
	uint8_t *init, *reply, *next, *msg, *mine, *out, *o2;
	uint8_t (*h)[32], (*nd)[32];
	unsigned seed, span, c0, c1, s0, s1;
	FILE *fp;

	(void)state;
	if (path == NULL)
		path = "tests/vectors/negentropy.txt";
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (getline(&line, &cap, fp) > 0) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (n = 0, save = NULL; n < 9; n++)
			assert_non_null(tok[n] = strtok_r(n ? NULL : line, " ",
			    &save));
		assert_int_equal(sscanf(tok[0], "%u", &seed) +
		    sscanf(tok[1], "%u", &span) + sscanf(tok[2], "%u", &c0) +
		    sscanf(tok[3], "%u", &c1) + sscanf(tok[4], "%u", &s0) +
		    sscanf(tok[5], "%u", &s1), 6);
		c = vec_set(seed, span, c0, c1);
		s = vec_set(seed, span, s0, s1);
		init = vec_unhex(tok[6], &ilen);
		reply = vec_unhex(tok[7], &rlen);
		next = strcmp(tok[8], "-") == 0 ? NULL : vec_unhex(tok[8], &len);

		cl = negentropy_new(c, c1 - c0, 0);
		sv = negentropy_new(s, s1 - s0, 0);
		assert_int_equal(negentropy_initiate(cl, &msg, &mlen), 0);
		assert_int_equal(mlen, ilen);
		assert_memory_equal(msg, init, ilen);

		/* Their reply, our client. */
		assert_int_equal(negentropy_reconcile_client(cl, reply, rlen,
		    &out, &olen, &h, &nh, &nd, &nn), 0);
		if (next == NULL)
			assert_null(out);
		else
			assert_same_msg(out, olen, next, len);
		free(out);
		free(h);
		free(nd);

		/* Our reply, our (fresh) client: the same next message. */
		assert_int_equal(negentropy_reconcile(sv, init, ilen, &mine,
		    &olen), 0);
		assert_same_msg(mine, olen, reply, rlen);
		cl2 = negentropy_new(c, c1 - c0, 0);
		assert_int_equal(negentropy_initiate(cl2, &o2, &mlen), 0);
		free(o2);
		assert_int_equal(negentropy_reconcile_client(cl2, mine, olen,
		    &out, &olen, &h, &nh, &nd, &nn), 0);
		if (next == NULL)
			assert_null(out);
		else
			assert_same_msg(out, olen, next, len);
		free(out);
		free(h);
		free(nd);
		free(mine);
		negentropy_free(cl2);

		negentropy_free(cl);
		negentropy_free(sv);
		free(msg);
		free(init);
		free(reply);
		free(next);
		free(c);
		free(s);
		cases++;
	}
	free(line);
	fclose(fp);
	assert_true(cases >= 10);
}

/* Walk valid ${msg}: put up to ${max} range modes in ${modes}; count them. */
static size_t
msg_modes(const uint8_t *msg, size_t len, uint64_t *modes, size_t max)
{
	uint64_t v, mode;
	size_t off = 1, n = 0, used;

	assert_int_equal(negentropy_message_check(msg, len, NULL), 0);
	while (off < len) {
		/* Timestamp, then the id prefix. */
		assert_int_equal(negentropy_varint_decode(msg + off, len - off,
		    &v, &used), 0);
		off += used;
		assert_int_equal(negentropy_varint_decode(msg + off, len - off,
		    &v, &used), 0);
		off += used + v;
		assert_int_equal(negentropy_varint_decode(msg + off, len - off,
		    &mode, &used), 0);
		off += used;
		if (mode == 1) {
			off += NEGENTROPY_FP_LEN;
		} else if (mode == 2) {
			assert_int_equal(negentropy_varint_decode(msg + off,
			    len - off, &v, &used), 0);
			off += used + v * NEGENTROPY_ID_LEN;
		}
		if (n < max)
			modes[n] = mode;
		n++;
	}
	assert_int_equal(off, len);
	return n;
}

/* The first message of a new client over ${it}[${n}] with a policy. */
static uint8_t *
first_msg_limit(const struct negentropy_item *it, size_t n,
    size_t idlist_below, int bulk, size_t limit, size_t *len)
{
	struct negentropy *ng;
	uint8_t *msg;

	assert_non_null(ng = negentropy_new(it, n, limit));
	negentropy_set_policy(ng, idlist_below, bulk);
	assert_int_equal(negentropy_initiate(ng, &msg, len), 0);
	negentropy_free(ng);
	return msg;
}

static uint8_t *
first_msg(const struct negentropy_item *it, size_t n, size_t idlist_below,
    int bulk, size_t *len)
{

	return first_msg_limit(it, n, idlist_below, bulk, 0, len);
}

/* A bulk client that holds nothing sends no range and pulls everything. */
static void
test_bulk_empty(void **state)
{
	static const uint8_t zero[NEGENTROPY_ID_LEN];
	static const uint8_t empty_idlist[] = { NEGENTROPY_VERSION, 0, 0, 2, 0 };
	struct negentropy_item it[10], *p;
	struct negentropy *cl, *sv;
	uint8_t *msg, *reply, *out;
	uint8_t (*h)[32], (*nd)[32];
	size_t len, rlen, olen, nh, nn, n;
	uint64_t rng = 21;

	(void)state;
	rand_items(it, 10, &rng, 0, 1000);
	qsort(it, 10, sizeof(it[0]), cmp_item);
	assert_non_null(cl = negentropy_new(NULL, 0, 0));
	negentropy_set_policy(cl, 0, 1);
	assert_int_equal(negentropy_initiate(cl, &msg, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(msg[0], NEGENTROPY_VERSION);
	assert_int_equal(negentropy_take_pulls(cl, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_true(p[0].timestamp == 0);
	assert_memory_equal(p[0].id, zero, sizeof(zero));
	assert_true(p[1].timestamp == UINT64_MAX);
	assert_memory_equal(p[1].id, zero, sizeof(zero));
	free(p);
	/* Taken once. */
	assert_int_equal(negentropy_take_pulls(cl, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_null(p);
	/* The server has nothing to say to that; the client is done. */
	assert_non_null(sv = negentropy_new(it, 10, 0));
	assert_int_equal(negentropy_reconcile(sv, msg, len, &reply, &rlen), 0);
	assert_int_equal(rlen, 1);
	assert_int_equal(negentropy_reconcile_client(cl, reply, rlen, &out,
	    &olen, &h, &nh, &nd, &nn), 0);
	assert_null(out);
	assert_int_equal(nh + nn, 0);
	assert_int_equal(negentropy_take_pulls(cl, &p, &n), 0);
	assert_int_equal(n, 0);
	free(msg);
	free(reply);
	negentropy_free(cl);
	negentropy_free(sv);

	/* Without bulk: an empty IdList to infinity, and no pulls. */
	assert_non_null(cl = negentropy_new(NULL, 0, 0));
	assert_int_equal(negentropy_initiate(cl, &msg, &len), 0);
	assert_int_equal(len, sizeof(empty_idlist));
	assert_memory_equal(msg, empty_idlist, len);
	assert_int_equal(negentropy_take_pulls(cl, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_null(p);
	free(msg);
	negentropy_free(cl);
}

/* Is ${it} inside one of ${res}'s pull ranges? */
static int
in_pulls(const struct negentropy_item *it, const struct syncres *res)
{
	size_t i;

	for (i = 0; i < res->npulls; i++)
		if (cmp_item(&res->pulls[2 * i], it) <= 0 &&
		    cmp_item(it, &res->pulls[2 * i + 1]) < 0)
			return 1;
	return 0;
}

/*
 * Reconcile a client holding ${c}[${nc}] with a server holding all of
 * ${all}[${n}] (a superset), the client in bulk mode if ${bulk}.  Every
 * item the client lacks must come as a need or in a pull range, no pull
 * range may hold a client item, and every need must be a missing item.
 * Return the number of ranges pulled.
 */
static size_t
bulk_case_policy(const struct negentropy_item *c, size_t nc,
    const struct negentropy_item *all, size_t n, int bulk, size_t limit,
    size_t idlist_below)
{
	uint8_t (*cids)[32], (*miss)[32];
	struct syncres res;
	size_t i, nmiss = 0, pulled = 0, npulls;

	run_sync_policy(c, nc, all, n, limit, idlist_below, bulk, &res);
	assert_int_equal(res.nhave, 0);
	assert_non_null(cids = malloc((nc + 1) * 32));
	assert_non_null(miss = malloc((n + 1) * 32));
	for (i = 0; i < nc; i++)
		memcpy(cids[i], c[i].id, 32);
	qsort(cids, nc, 32, cmp_id);
	if (res.nneed > 0)
		qsort(res.need, res.nneed, 32, cmp_id);
	for (i = 0; i < res.npulls; i++)
		assert_true(cmp_item(&res.pulls[2 * i],
		    &res.pulls[2 * i + 1]) < 0);
	for (i = 0; i < nc; i++)
		assert_false(in_pulls(&c[i], &res));
	for (i = 0; i < n; i++) {
		if (bsearch(all[i].id, cids, nc, 32, cmp_id) != NULL)
			continue;
		memcpy(miss[nmiss++], all[i].id, 32);
		if (in_pulls(&all[i], &res))
			pulled++;
		else
			assert_true(res.nneed > 0 && bsearch(all[i].id,
			    res.need, res.nneed, 32, cmp_id) != NULL);
	}
	assert_int_equal(nmiss, n - nc);
	qsort(miss, nmiss, 32, cmp_id);
	for (i = 0; i < res.nneed; i++)
		assert_non_null(bsearch(res.need[i], miss, nmiss, 32,
		    cmp_id));
	if (getenv("NEG_VERBOSE") != NULL)
		printf("bulk %d: %zu missing, %zu needed, %zu pulled in %zu "
		    "ranges, %u rounds\n", bulk, nmiss, res.nneed, pulled,
		    res.npulls, res.rounds);
	npulls = res.npulls;
	if (!bulk)
		assert_same_ids(res.need, res.nneed, all + nc, n - nc);
	free(cids);
	free(miss);
	free(res.have);
	free(res.need);
	free(res.pulls);
	return npulls;
}

static size_t
bulk_case(const struct negentropy_item *c, size_t nc,
    const struct negentropy_item *all, size_t n, int bulk)
{

	return bulk_case_policy(c, nc, all, n, bulk, 0, 0);
}

/* A bulk client missing the newer half pulls most of it as ranges. */
static void
test_bulk_half(void **state)
{
	struct negentropy_item *all, *odd;
	size_t n = 5000, i;
	uint64_t rng = 55;

	(void)state;
	assert_non_null(all = malloc(n * sizeof(*all)));
	assert_non_null(odd = malloc(n * sizeof(*odd)));
	rand_items(all, n, &rng, 1000, n / 8 + 1);
	qsort(all, n, sizeof(*all), cmp_item);
	assert_true(bulk_case(all, n / 2, all, n, 1) > 0);
	/* Every other item missing: few empty ranges, so mostly needs. */
	for (i = 0; i < n / 2; i++)
		odd[i] = all[2 * i];
	bulk_case(odd, n / 2, all, n, 1);
	/* A client holding everything pulls nothing. */
	assert_int_equal(bulk_case(all, n, all, n, 1), 0);
	free(odd);
	free(all);
}

/*
 * A bulk client holding a few items (a new node: just the charter)
 * fingerprints each alone and the space after: the server's thousands of
 * items come back as ranges to pull, never as ids.
 */
static void
test_bulk_few(void **state)
{
	struct negentropy_item *all, few[3];
	struct syncres res;
	size_t n = 5000, i, pulled = 0;
	uint64_t rng = 77;

	(void)state;
	assert_non_null(all = malloc(n * sizeof(*all)));
	rand_items(all, n, &rng, 1000, n / 8 + 1);
	qsort(all, n, sizeof(*all), cmp_item);
	/* The oldest item only, then three spread out. */
	assert_true(bulk_case(all, 1, all, n, 1) > 0);
	run_sync_policy(all, 1, all, n, 0, 256, 1, &res);
	for (i = 1; i < n; i++)
		pulled += in_pulls(&all[i], &res);
	/* Only items sharing the held item's timestamp come as ids. */
	assert_true(res.nneed < 16);
	assert_int_equal(pulled + res.nneed, n - 1);
	free(res.have);
	free(res.need);
	free(res.pulls);
	few[0] = all[10];
	few[1] = all[2500];
	few[2] = all[4999];
	assert_true(bulk_case(few, 3, all, n, 1) > 0);
	free(all);
}

/* Without bulk, the same sets: every missing id comes as a need. */
static void
test_nobulk_half(void **state)
{
	struct negentropy_item *all;
	size_t n = 5000;
	uint64_t rng = 55;

	(void)state;
	assert_non_null(all = malloc(n * sizeof(*all)));
	rand_items(all, n, &rng, 1000, n / 8 + 1);
	qsort(all, n, sizeof(*all), cmp_item);
	assert_int_equal(bulk_case(all, n / 2, all, n, 0), 0);
	free(all);
}

static void
test_set_items(void **state)
{
	struct negentropy_item a[50], b[80], bad[80];
	struct negentropy *ng;
	uint8_t *msg, *want;
	size_t len, wlen;
	uint64_t rng = 77;

	(void)state;
	rand_items(a, 50, &rng, 0, 100);
	qsort(a, 50, sizeof(a[0]), cmp_item);
	rand_items(b, 80, &rng, 0, 100);
	qsort(b, 80, sizeof(b[0]), cmp_item);
	assert_non_null(ng = negentropy_new(a, 50, 0));
	/* Unsorted, a duplicate, the reserved timestamp, no array. */
	memcpy(bad, b, sizeof(b));
	bad[10] = b[11];
	bad[11] = b[10];
	assert_int_equal(negentropy_set_items(ng, bad, 80), KITH_EINVAL);
	bad[11] = b[10];
	assert_int_equal(negentropy_set_items(ng, bad, 80), KITH_EINVAL);
	memcpy(bad, b, sizeof(b));
	bad[79].timestamp = UINT64_MAX;
	assert_int_equal(negentropy_set_items(ng, bad, 80), KITH_EINVAL);
	assert_int_equal(negentropy_set_items(ng, NULL, 3), KITH_EINVAL);
	/* Refused calls left the old set in place. */
	assert_int_equal(negentropy_initiate(ng, &msg, &len), 0);
	want = first_msg(a, 50, 0, 0, &wlen);
	assert_int_equal(len, wlen);
	assert_memory_equal(msg, want, len);
	free(msg);
	free(want);
	negentropy_free(ng);

	/* A sorted array replaces the set. */
	assert_non_null(ng = negentropy_new(a, 50, 0));
	assert_int_equal(negentropy_set_items(ng, b, 80), 0);
	assert_int_equal(negentropy_initiate(ng, &msg, &len), 0);
	want = first_msg(b, 80, 0, 0, &wlen);
	assert_int_equal(len, wlen);
	assert_memory_equal(msg, want, len);
	free(msg);
	free(want);
	negentropy_free(ng);
	/* So does the empty set. */
	assert_non_null(ng = negentropy_new(a, 50, 0));
	assert_int_equal(negentropy_set_items(ng, NULL, 0), 0);
	assert_int_equal(negentropy_initiate(ng, &msg, &len), 0);
	want = first_msg(NULL, 0, 0, 0, &wlen);
	assert_int_equal(len, wlen);
	assert_memory_equal(msg, want, len);
	free(msg);
	free(want);
	negentropy_free(ng);
}

static void
test_idlist_policy(void **state)
{
	static const size_t below[] = { 0, 32, 200, 201, 256 };
	struct negentropy_item it[200], *big;
	struct negentropy *ng;
	uint64_t modes[16], rng = 88;
	uint8_t *msg;
	size_t len, n, i, j;
	struct syncres res;

	(void)state;
	rand_items(it, 200, &rng, 0, 1ULL << 40);
	qsort(it, 200, sizeof(it[0]), cmp_item);
	/* Ranges of fewer items than the threshold go as one IdList. */
	for (i = 0; i < sizeof(below) / sizeof(below[0]); i++) {
		msg = first_msg(it, 200, below[i], 0, &len);
		n = msg_modes(msg, len, modes, 16);
		if (below[i] > 200) {
			assert_int_equal(n, 1);
			assert_int_equal(modes[0], 2);
			/* Infinity, no prefix, IdList, varint 200, ids. */
			assert_int_equal(len, 6 + 200 * NEGENTROPY_ID_LEN);
			assert_int_equal(msg[1], 0);
			assert_int_equal(msg[2], 0);
			assert_int_equal(msg[3], 2);
			assert_int_equal(msg[4], 0x81);
			assert_int_equal(msg[5], 0x48);
			for (j = 0; j < 200; j++)
				assert_memory_equal(msg + 6 + 32 * j, it[j].id,
				    32);
		} else {
			/*
			 * Over the reference's 32, a range whose buckets
			 * would come back as IdLists splits finer: 200 items
			 * into 18 (the least n with n * n >= 3 * 200 / 2).
			 */
			assert_int_equal(n, below[i] > 32 ? 18 : 16);
			for (j = 0; j < 16; j++)
				assert_int_equal(modes[j], 1);
		}
		free(msg);
	}
	/* 4,000 items at 256 split into 78 buckets; at the reference's, 16. */
	assert_non_null(big = malloc(4000 * sizeof(*big)));
	rand_items(big, 4000, &rng, 0, 1ULL << 40);
	qsort(big, 4000, sizeof(big[0]), cmp_item);
	msg = first_msg(big, 4000, 256, 0, &len);
	assert_int_equal(msg_modes(msg, len, modes, 16), 78);
	free(msg);
	msg = first_msg(big, 4000, 0, 0, &len);
	assert_int_equal(msg_modes(msg, len, modes, 16), 16);
	free(msg);
	/* 4,096 and more: its buckets are not IdLists yet, so 16. */
	msg = first_msg(big, 4000, 250, 0, &len);
	assert_int_equal(msg_modes(msg, len, modes, 16), 16);
	free(msg);
	/* The finer split settles a difference as the 16 would. */
	run_sync_policy(big, 3900, big, 4000, 0, 256, 0, &res);
	assert_int_equal(res.nhave, 0);
	assert_same_ids(res.need, res.nneed, big + 3900, 100);
	free(res.have);
	free(res.need);
	free(big);
	/* Zero restores the default after another threshold. */
	assert_non_null(ng = negentropy_new(it, 200, 0));
	negentropy_set_policy(ng, 256, 0);
	negentropy_set_policy(ng, 0, 0);
	assert_int_equal(negentropy_initiate(ng, &msg, &len), 0);
	assert_int_equal(msg_modes(msg, len, modes, 16), 16);
	free(msg);
	negentropy_free(ng);
	/* Both sides at 256: one round trip settles a difference. */
	run_sync_policy(it, 150, it, 200, 0, 256, 0, &res);
	assert_int_equal(res.rounds, 1);
	assert_int_equal(res.nhave, 0);
	assert_same_ids(res.need, res.nneed, it + 150, 50);
	free(res.have);
	free(res.need);
}

/* The fingerprint of the empty set, as V1 computes it. */
static const uint8_t empty_fp[16] = {
	0x7f, 0x9c, 0x9e, 0x31, 0xac, 0x82, 0x56, 0xca,
	0x2f, 0x25, 0x85, 0x83, 0xdf, 0x26, 0x2d, 0xbc,
};

/* Parse the 64 hex digits at ${hex} into ${id}. */
static void
mv_unhex_id(uint8_t id[32], const char *hex)
{
	char buf[65];

	memcpy(buf, hex, 64);
	buf[64] = '\0';
	assert_int_equal(kith_unhex(id, 32, buf), 0);
}

/* Parse "-" or "TS:HEXID,..." into a sorted item array. */
static struct negentropy_item *
mv_items(const char *spec, size_t *n)
{
	struct negentropy_item *it;
	const char *p;
	char *end;
	size_t cap = 1;

	for (p = spec; *p != '\0'; p++)
		cap += *p == ',';
	it = calloc(cap, sizeof(*it));
	assert_non_null(it);
	*n = 0;
	if (strcmp(spec, "-") == 0)
		return it;
	for (p = spec; ; p = end + 1 + 64 + 1) {
		it[*n].timestamp = strtoull(p, &end, 10);
		assert_int_equal(*end, ':');
		mv_unhex_id(it[*n].id, end + 1);
		(*n)++;
		if (end[1 + 64] != ',')
			break;
	}
	qsort(it, *n, sizeof(*it), cmp_item);
	return it;
}

/* Assert the ${n} ids at ${got} are the "-" or "HEX,HEX" list ${want}. */
static void
mv_ids(uint8_t (*got)[32], size_t n, const char *want)
{
	uint8_t (*w)[32];
	size_t nw = 0, i;

	if (strcmp(want, "-") == 0) {
		assert_int_equal(n, 0);
		return;
	}
	w = malloc((strlen(want) / 65 + 1) * 32);
	assert_non_null(w);
	for (i = 0; ; i += 65) {
		mv_unhex_id(w[nw++], want + i);
		if (want[i + 64] != ',')
			break;
	}
	assert_int_equal(n, nw);
	qsort(w, nw, 32, cmp_id);
	qsort(got, n, 32, cmp_id);
	assert_memory_equal(got, w, n * 32);
	free(w);
}

/*
 * tests/vectors/negentropy-messages.txt: single messages with the
 * outcome each role must give (see that file).
 */
static void
test_message_vectors(void **state)
{
	const char *path = getenv("NEGENTROPY_MSG_VECTORS");
	char *line = NULL, *tok[8], *save;
	size_t cap = 0, k, n, mlen, rlen, olen, nh, nn, cases = 0, bad = 0;
	struct negentropy_item *it;
	struct negentropy *ng;
	uint8_t *msg, *reply, *out, *init;
	uint8_t (*h)[32], (*nd)[32];
	char *role, *at;
	size_t limit;
	int want, rc;
	FILE *fp;

	(void)state;
	if (path == NULL)
		path = "tests/vectors/negentropy-messages.txt";
	assert_non_null(fp = fopen(path, "r"));
	while (getline(&line, &cap, fp) > 0) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (k = 0, save = NULL; k < 8; k++)
			assert_non_null(tok[k] = strtok_r(k ? NULL : line, " ",
			    &save));
		assert_int_equal(kith_errparse(tok[4], &want), 0);
		it = mv_items(tok[2], &n);
		msg = vec_unhex(tok[3], &mlen);
		reply = strcmp(tok[5], "-") == 0 ? NULL :
		    vec_unhex(tok[5], &rlen);
		assert_int_equal(negentropy_message_check(msg, mlen, NULL),
		    want);
		role = tok[1];
		limit = 0;
		if ((at = strchr(role, '@')) != NULL) {
			*at = '\0';
			limit = strtoull(at + 1, NULL, 10);
		}
		assert_non_null(ng = negentropy_new(it, n, limit));
		if (strcmp(role, "client") == 0) {
			assert_int_equal(negentropy_initiate(ng, &init, &olen),
			    0);
			free(init);
			rc = negentropy_reconcile_client(ng, msg, mlen, &out,
			    &olen, &h, &nh, &nd, &nn);
			assert_int_equal(rc, want);
			if (rc == 0) {
				mv_ids(nd, nn, tok[6]);
				mv_ids(h, nh, tok[7]);
			}
			free(h);
			free(nd);
		} else {
			assert_string_equal(role, "server");
			rc = negentropy_reconcile(ng, msg, mlen, &out, &olen);
			assert_int_equal(rc, want);
		}
		if (reply == NULL)
			assert_null(out);
		else {
			assert_int_equal(olen, rlen);
			assert_memory_equal(out, reply, rlen);
		}
		bad += want != 0;
		cases++;
		free(out);
		free(reply);
		free(msg);
		free(it);
		negentropy_free(ng);
	}
	free(line);
	fclose(fp);
	assert_true(cases >= 8);
	assert_true(bad >= cases / 3);
}

/* Split valid ${msg} into its ranges' bound timestamps and modes. */
static size_t
msg_bounds(const uint8_t *msg, size_t len, uint64_t *ts, uint64_t *modes,
    size_t max)
{
	uint64_t v, plen, last = 0;
	size_t off = 1, n = 0, used;

	while (off < len) {
		assert_true(n < max);
		assert_int_equal(negentropy_varint_decode(msg + off, len - off,
		    &v, &used), 0);
		off += used;
		last = ts[n] = v == 0 ? UINT64_MAX : last + v - 1;
		assert_int_equal(negentropy_varint_decode(msg + off, len - off,
		    &plen, &used), 0);
		off += used + plen;
		assert_int_equal(negentropy_varint_decode(msg + off, len - off,
		    &modes[n], &used), 0);
		off += used;
		if (modes[n] == 1)
			off += 16;
		else if (modes[n] == 2) {
			assert_int_equal(negentropy_varint_decode(msg + off,
			    len - off, &v, &used), 0);
			off += used + 32 * v;
		}
		n++;
	}
	return n;
}

/*
 * A server whose IdList answer to infinity fills the frame closes with a
 * Fingerprint of the empty set, also to infinity (the reference does the
 * same): with kithd's 1 MiB limit, 32,762 items against none.  The client
 * must take it; anything else after infinity stays malformed.
 */
static void
test_double_infinity(void **state)
{
	static const size_t sizes[] = { 32761, 32762, 32763 };
	const size_t limit = 1048576;
	struct negentropy_item *s;
	struct negentropy *cl, *sv;
	struct syncres res;
	uint8_t fp[16], *msg, *reply, *out;
	uint8_t (*h)[32], (*nd)[32];
	uint64_t ts[4], modes[4], rng = 32762;
	size_t i, len, rlen, olen, nh, nn, nr;

	(void)state;
	negentropy_fingerprint(NULL, 0, fp);
	assert_memory_equal(fp, empty_fp, 16);
	s = malloc(32763 * sizeof(*s));
	assert_non_null(s);
	rand_items(s, 32763, &rng, 1000, 1ULL << 40);
	qsort(s, 32763, sizeof(*s), cmp_item);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cl = negentropy_new(NULL, 0, limit);
		sv = negentropy_new(s, sizes[i], limit);
		assert_int_equal(negentropy_initiate(cl, &msg, &len), 0);
		assert_int_equal(negentropy_reconcile(sv, msg, len, &reply,
		    &rlen), 0);
		assert_true(rlen <= limit);
		assert_int_equal(negentropy_message_check(reply, rlen, &nr), 0);
		nr = msg_bounds(reply, rlen, ts, modes, 4);
		if (sizes[i] == 32762) {
			/* IdList to infinity, then the closing fingerprint. */
			assert_int_equal(nr, 2);
			assert_true(ts[0] == UINT64_MAX && modes[0] == 2);
			assert_true(ts[1] == UINT64_MAX && modes[1] == 1);
			assert_memory_equal(reply + rlen - 16, empty_fp, 16);
		}
		assert_int_equal(negentropy_reconcile_client(cl, reply, rlen,
		    &out, &olen, &h, &nh, &nd, &nn), 0);
		if (sizes[i] <= 32762) {
			/* Every id came in the one reply. */
			assert_null(out);
			assert_same_ids(nd, nn, s, sizes[i]);
		} else
			assert_non_null(out);
		if (sizes[i] == 32762) {
			/* Negative: the close as a Skip, or another fp. */
			reply[rlen - 17] = 0;
			assert_int_equal(negentropy_message_check(reply,
			    rlen - 16, NULL), KITH_ENONCANON);
			reply[rlen - 17] = 1;
			reply[rlen - 1] ^= 1;
			negentropy_free(cl);
			free(out);
			free(h);
			free(nd);
			cl = negentropy_new(NULL, 0, limit);
			free(msg);
			assert_int_equal(negentropy_initiate(cl, &msg, &len),
			    0);
			assert_int_equal(negentropy_reconcile_client(cl, reply,
			    rlen, &out, &olen, &h, &nh, &nd, &nn),
			    KITH_ENONCANON);
			assert_null(out);
		}
		free(out);
		free(h);
		free(nd);
		free(msg);
		free(reply);
		negentropy_free(cl);
		negentropy_free(sv);
		/* The whole session, at the reference's and kithd's policy. */
		run_sync_policy(NULL, 0, s, sizes[i], limit, 0, 0, &res);
		assert_same_ids(res.need, res.nneed, s, sizes[i]);
		assert_int_equal(res.nhave, 0);
		free(res.need);
		free(res.have);
		run_sync_policy(NULL, 0, s, sizes[i], limit, 256, 0, &res);
		assert_same_ids(res.need, res.nneed, s, sizes[i]);
		free(res.need);
		free(res.have);
	}
	free(s);
}

/*
 * A server's IdList that repeats ids, in any order, against a client:
 * each id the client lacks is needed once, each it holds is not needed,
 * and what the client holds outside the list is had once.
 */
static void
test_repeated_ids(void **state)
{
	struct negentropy_item c[40], extra[5], s[4];
	struct negentropy *ng;
	uint8_t msg[4 + 200 * 32], *out, *init;
	uint8_t (*h)[32], (*nd)[32], (*list)[32];
	uint8_t inlist[40];
	uint64_t rng = 7, seed, modes[4];
	size_t i, j, k, n, len, olen, nh, nn, nhave_want;
	struct negentropy_item *want_have;

	(void)state;
	list = malloc(200 * 32);
	want_have = malloc(40 * sizeof(*want_have));
	assert_non_null(list);
	assert_non_null(want_have);
	for (seed = 0; seed < 200; seed++) {
		rand_items(c, 40, &rng, 1000, 10);
		qsort(c, 40, sizeof(c[0]), cmp_item);
		rand_items(extra, 5, &rng, 1000, 10);
		/* Each id goes in 0 to 3 times, then the list is shuffled. */
		n = 0;
		memset(inlist, 0, sizeof(inlist));
		for (i = 0; i < 45; i++) {
			k = tu_rng(&rng) % 4;
			for (j = 0; j < k; j++)
				memcpy(list[n++], i < 40 ? c[i].id :
				    extra[i - 40].id, 32);
			if (i < 40)
				inlist[i] = k > 0;
			else if (k == 0)	/* every extra id is listed */
				memcpy(list[n++], extra[i - 40].id, 32);
		}
		for (i = n; i > 1; i--) {
			j = tu_rng(&rng) % i;
			memcpy(msg, list[i - 1], 32);
			memcpy(list[i - 1], list[j], 32);
			memcpy(list[j], msg, 32);
		}
		len = 0;
		msg[len++] = 0x61;
		msg[len++] = 0;		/* infinity */
		msg[len++] = 0;
		msg[len++] = 2;		/* IdList */
		len += negentropy_varint_encode(n, msg + len);
		memcpy(msg + len, list, n * 32);
		len += n * 32;
		for (i = 0, nhave_want = 0; i < 40; i++)
			if (!inlist[i])
				want_have[nhave_want++] = c[i];
		assert_non_null(ng = negentropy_new(c, 40, 0));
		assert_int_equal(negentropy_initiate(ng, &init, &olen), 0);
		free(init);
		assert_int_equal(negentropy_reconcile_client(ng, msg, len,
		    &out, &olen, &h, &nh, &nd, &nn), 0);
		assert_null(out);
		assert_same_ids(nd, nn, extra, 5);
		assert_same_ids(h, nh, want_have, nhave_want);
		free(h);
		free(nd);
		negentropy_free(ng);
	}
	free(want_have);
	free(list);

	/*
	 * One id at three timestamps (items are unique by timestamp and id):
	 * the IdLists kith sends name it once, as client and as server.
	 */
	memset(s, 0, sizeof(s));
	for (i = 0; i < 3; i++) {
		s[i].timestamp = 1000 + i;
		memset(s[i].id, 0xaa, 32);
	}
	s[3].timestamp = 1001;
	memset(s[3].id, 0xbb, 32);
	qsort(s, 4, sizeof(s[0]), cmp_item);
	assert_non_null(ng = negentropy_new(s, 4, 0));
	assert_int_equal(negentropy_initiate(ng, &out, &olen), 0);
	assert_int_equal(msg_modes(out, olen, modes, 4), 1);
	assert_int_equal(modes[0], 2);
	assert_int_equal(olen, 5 + 2 * 32);
	assert_int_equal(out[4], 2);
	assert_memory_equal(out + 5, s[0].id, 32);
	assert_memory_equal(out + 5 + 32, s[2].id, 32);
	free(out);
	negentropy_free(ng);
	/* As a server, with a frame limit: still once. */
	assert_non_null(ng = negentropy_new(s, 4, 4096));
	assert_int_equal(negentropy_reconcile(ng, (const uint8_t *)
	    "\x61\x00\x00\x02\x00", 5, &out, &olen), 0);
	assert_int_equal(olen, 5 + 2 * 32);
	assert_int_equal(out[4], 2);
	free(out);
	negentropy_free(ng);
}

/*
 * The frame-limit close after a range the peer holds nothing in.  A bulk
 * client with ${k} items describes each alone and then the empty space
 * after them (fingerprint of the empty set).  The server holds one more
 * item in each of those ranges (an IdList each) and 300 in the empty
 * space, and the frame fills exactly there.  Had the server fingerprinted
 * its items from the end of that range only, as the reference does, its
 * close would carry the empty set's fingerprint too, the client would
 * skip it, and the 300 would be lost to the session; for some k below
 * the frame fills at that range.
 */
static void
test_close_after_empty(void **state)
{
	struct negentropy_item c[80], all[80 * 2 + 300];
	uint64_t rng = 5;
	size_t k, i, n;

	(void)state;
	for (k = 40; k <= 70; k++) {
		rand_items(c, k, &rng, 0, 1);
		rand_items(all, 2 * k + 300, &rng, 0, 1);
		for (i = 0, n = 0; i < k; i++) {
			c[i].timestamp = 1000 + 10 * i;
			all[n] = c[i];
			all[n++].timestamp = 1000 + 10 * i;
			all[n++].timestamp = 1000 + 10 * i;
		}
		for (i = 0; i < 300; i++)
			all[n++].timestamp = 5000 + i;
		qsort(all, n, sizeof(all[0]), cmp_item);
		bulk_case_policy(c, k, all, n, 1, NEGENTROPY_FRAME_MIN, 256);
	}
}

/*
 * kith's larger IdList threshold under a small frame limit: an IdList of
 * 255 ids does not fit in 4096 bytes, so the threshold is capped, or a
 * session would drop that range for the closing fingerprint forever.
 */
static void
test_policy_under_limit(void **state)
{
	struct negentropy_item it[255], *all;
	struct syncres res;
	uint64_t modes[16], rng = 4096;
	uint8_t *msg;
	size_t len, i;

	(void)state;
	rand_items(it, 255, &rng, 0, 1ULL << 40);
	qsort(it, 255, sizeof(it[0]), cmp_item);
	/* 200 items: one IdList without a limit, fingerprints under 4096. */
	msg = first_msg(it, 200, 256, 0, &len);
	assert_int_equal(msg_modes(msg, len, modes, 16), 1);
	free(msg);
	msg = first_msg_limit(it, 200, 256, 0, 4096, &len);
	/* Capped at 118, still over 32: split finer (test_idlist_policy). */
	assert_int_equal(msg_modes(msg, len, modes, 16), 18);
	assert_true(len <= 4096);
	free(msg);
	/* 100 items still go as one IdList under 4096. */
	msg = first_msg_limit(it, 100, 256, 0, 4096, &len);
	assert_int_equal(msg_modes(msg, len, modes, 16), 1);
	free(msg);
	/* A bulk client's first message stays in the frame too. */
	msg = first_msg_limit(it, 255, 256, 1, 4096, &len);
	assert_true(len <= 4096);
	free(msg);
	msg = first_msg_limit(it, 20, 256, 1, 4096, &len);
	assert_int_equal(msg_modes(msg, len, modes, 16), 21);
	free(msg);
	/* Whole sessions at 256 under 4096 end, and within the frame. */
	for (i = 0; i < 4; i++)
		assert_in_range(sync_case_policy(40 + i, 3000, 700, 700, 4096,
		    256), 1, MAX_ROUNDS);
	/* And a bulk client of 255 items against 3000 more. */
	all = malloc(3255 * sizeof(*all));
	assert_non_null(all);
	memcpy(all, it, sizeof(it));
	rand_items(all + 255, 3000, &rng, 0, 1ULL << 40);
	qsort(all, 3255, sizeof(*all), cmp_item);
	run_sync_policy(it, 255, all, 3255, 4096, 256, 1, &res);
	assert_true(res.maxmsg <= 4096);
	free(res.have);
	free(res.need);
	free(res.pulls);
	free(all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_sync_identical),
		cmocka_unit_test(test_sync_identical_reply_is_empty),
		cmocka_unit_test(test_sync_differences),
		cmocka_unit_test(test_sync_frame_limit),
		cmocka_unit_test(test_new_rejects),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_bulk_empty),
		cmocka_unit_test(test_bulk_half),
		cmocka_unit_test(test_bulk_few),
		cmocka_unit_test(test_nobulk_half),
		cmocka_unit_test(test_set_items),
		cmocka_unit_test(test_idlist_policy),
		cmocka_unit_test(test_message_vectors),
		cmocka_unit_test(test_double_infinity),
		cmocka_unit_test(test_repeated_ids),
		cmocka_unit_test(test_close_after_empty),
		cmocka_unit_test(test_policy_under_limit),
	};

	return tu_run(tests, setup, NULL);
}
