#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "body.h"
#include "hlc.h"
#include "kcrypto.h"
#include "kith.h"
#include "record.h"
#include "roster.h"
#include "store.h"
#include "testutil.h"

void
tu_tmpdir(char *buf, size_t len)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(buf, len, "%s/kith-test-XXXXXX", base);
	assert_non_null(mkdtemp(buf));
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tu_rmrf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct kcrypto_key *
tu_key(uint8_t n)
{
	uint8_t seed[32];
	struct kcrypto_key *k;

	assert_int_equal(kcrypto_init(), 0);
	memset(seed, n, sizeof(seed));
	k = kcrypto_key_from_seed(seed);
	assert_non_null(k);
	return k;
}

uint8_t *
tu_body(size_t *len, ...)
{
	struct body *b = body_new();
	const char *name, *val;
	uint8_t *out = NULL;
	va_list ap;

	assert_non_null(b);
	va_start(ap, len);
	while ((name = va_arg(ap, const char *)) != NULL) {
		val = va_arg(ap, const char *);
		if (name[0] == '*')
			assert_int_equal(body_set_str(b, name + 1, 1, val), 0);
		else
			assert_int_equal(body_set_str(b, name, 0, val), 0);
	}
	va_end(ap);
	assert_int_equal(body_encode(b, &out, len), 0);
	body_free(b);
	return out;
}

const uint8_t *tu_audience;
uint64_t tu_expiry;
const uint8_t *tu_nonce;

/* Every record tu_record signed, by (author, seq): the last one's id. */
#define CHAIN_SLOTS	(1 << 16)
static struct {
	uint8_t author[KITH_KEY_LEN];
	uint64_t seq;
	uint8_t id[KITH_ID_LEN];
} chain[CHAIN_SLOTS];

static size_t
chain_slot(const uint8_t *author, uint64_t seq)
{
	size_t i = (size_t)((author[0] | author[1] << 8) * 131 + seq * 7919) %
	    CHAIN_SLOTS, n;

	for (n = 0; n < CHAIN_SLOTS; n++, i = (i + 1) % CHAIN_SLOTS)
		if (chain[i].seq == 0 || (chain[i].seq == seq &&
		    memcmp(chain[i].author, author, KITH_KEY_LEN) == 0))
			return i;
	fail_msg("testutil: chain table full");
	return 0;
}

void
tu_entity(const uint8_t *network, uint64_t kind, const struct kcrypto_key *key,
    const uint8_t *nonce, uint8_t out[16])
{
	static const uint8_t zero[KITH_NETWORK_LEN];

	record_entity_derive(network != NULL ? network : zero, kind,
	    kcrypto_key_public(key), nonce, out);
}

struct record *
tu_genesis(const struct kcrypto_key *key, const uint8_t *network,
    uint64_t seq, uint64_t hlc, uint64_t kind, uint8_t nonce_byte,
    const uint8_t *body, size_t blen, uint8_t entity[16])
{
	uint8_t nonce[KITH_NONCE_LEN];
	struct record *r;

	memset(nonce, nonce_byte, sizeof(nonce));
	tu_nonce = nonce;
	r = tu_record(key, network, seq, hlc, kind, NULL, NULL, 0, body, blen);
	tu_nonce = NULL;
	memcpy(entity, record_header(r)->entity, KITH_ENTITY_LEN);
	return r;
}

uint8_t *
tu_revoke_body(size_t *len, const struct kcrypto_key *who,
    const struct record *last)
{
	char hex[2 * KITH_KEY_LEN + 1], lhex[2 * KITH_ID_LEN + 1];
	struct body *b;
	uint8_t *enc;

	kith_hex(hex, kcrypto_key_public(who), KITH_KEY_LEN);
	assert_non_null(b = body_new());
	assert_int_equal(body_set_str(b, "key", 0, hex), 0);
	if (last != NULL) {
		kith_hex(lhex, record_id(last), KITH_ID_LEN);
		assert_int_equal(body_set_str(b, "last", 0, lhex), 0);
		assert_int_equal(body_set_int(b, "last_seq", 0,
		    (int64_t)record_header(last)->seq), 0);
	}
	assert_int_equal(body_encode(b, &enc, len), 0);
	body_free(b);
	return enc;
}

struct record *
tu_chain(const struct kcrypto_key *key, const uint8_t *network,
    struct record *const *recs, size_t i, uint64_t hlc, uint64_t kind,
    uint8_t nonce_byte, const uint8_t *body, size_t blen, uint8_t entity[16])
{

	if (i == 0)
		return tu_genesis(key, network, 1, hlc, kind, nonce_byte, body,
		    blen, entity);
	return tu_record(key, network, (uint64_t)i + 1, hlc, kind, entity,
	    (const uint8_t (*)[32])record_id(recs[i - 1]), 1, body, blen);
}

void
tu_admit(struct store *st, const struct kcrypto_key *admin,
    const struct kcrypto_key *who, const char *role)
{
	struct store_draft d;
	char hex[2 * KITH_KEY_LEN + 1];
	uint8_t *b;
	size_t len;

	memset(&d, 0, sizeof(d));
	kith_hex(hex, kcrypto_key_public(who), KITH_KEY_LEN);
	b = tu_body(&len, "key", hex, "org", "Test org", "role", role, NULL);
	d.kind = KITH_KIND_MEMBER;
	roster_member_entity(kcrypto_key_public(who), d.entity);
	d.body = b;
	d.blen = len;
	assert_int_equal(store_write(st, admin, &d, 1), 0);
	free(b);
}

struct record *
tu_record(const struct kcrypto_key *key, const uint8_t *network, uint64_t seq,
    uint64_t hlc, uint64_t kind, const uint8_t *entity,
    const uint8_t (*parents)[32], unsigned nparents, const uint8_t *body,
    size_t blen)
{
	struct record_header h;
	struct record *rec = NULL;

	memset(&h, 0, sizeof(h));
	if (network != NULL)
		memcpy(h.network, network, KITH_NETWORK_LEN);
	h.seq = seq;
	if (seq > 1) {
		size_t i = chain_slot(kcrypto_key_public(key), seq - 1);

		if (chain[i].seq != 0)
			memcpy(h.prev, chain[i].id, KITH_ID_LEN);
		else
			memset(h.prev, 0x5a, KITH_ID_LEN);
	}
	h.hlc = hlc;
	h.kind = kind;
	if (tu_nonce != NULL) {
		h.genesis = 1;
		memcpy(h.nonce, tu_nonce, KITH_NONCE_LEN);
		record_entity_derive(h.network, kind, kcrypto_key_public(key),
		    h.nonce, h.entity);
	} else
		memcpy(h.entity, entity, KITH_ENTITY_LEN);
	h.nparents = nparents;
	if (nparents > 0)
		memcpy(h.parents, parents, (size_t)nparents * KITH_ID_LEN);
	h.expiry = tu_expiry;
	if (tu_audience != NULL) {
		h.naudience = 1;
		memcpy(h.audience[0], tu_audience, KITH_KEY_LEN);
	}
	assert_int_equal(record_sign(&h, body, blen, key, &rec), 0);
	{
		size_t i = chain_slot(kcrypto_key_public(key), seq);

		memcpy(chain[i].author, kcrypto_key_public(key), KITH_KEY_LEN);
		chain[i].seq = seq;
		memcpy(chain[i].id, record_id(rec), KITH_ID_LEN);
	}
	return rec;
}

struct store *
tu_store(const char *dir, const struct kcrypto_key *key, uint8_t *network)
{
	uint8_t ent[KITH_ENTITY_LEN];
	struct store *st;
	struct record *ch;
	uint8_t *b;
	size_t blen;
	int rc;

	st = store_open(dir, STORE_CREATE | STORE_NOSYNC, 0, &rc);
	assert_non_null(st);
	b = tu_body(&blen, "name", "test network", "org", "test org", NULL);
	ch = tu_genesis(key, NULL, 1, HLC_MAKE(hlc_wall_ms() - 60000, 0),
	    KITH_KIND_CHARTER, 0xc0, b, blen, ent);
	assert_int_equal(store_init_network(st, ch), 0);
	memcpy(network, record_id(ch), KITH_NETWORK_LEN);
	record_free(ch);
	free(b);
	return st;
}

uint64_t
tu_rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The group fixtures tu_run_group runs, and what became of them. */
static int (*group_setup)(void **);
static int (*group_teardown)(void **);
static int group_setup_failed, group_teardown_failed;

/* Until the real setup returns 0, count it failed: a failed assert in it
 * jumps out of this function and never comes back here. */
static int
run_group_setup(void **state)
{

	group_setup_failed = 1;
	if (group_setup(state) != 0)
		return -1;
	group_setup_failed = 0;
	return 0;
}

/* cmocka 1.1 prints a failing group teardown but does not count it. */
static int
run_group_teardown(void **state)
{

	group_teardown_failed = 1;
	if (group_teardown(state) != 0)
		return -1;
	group_teardown_failed = 0;
	return 0;
}

int
tu_run_group(const struct CMUnitTest *tests, size_t n,
    int (*setup)(void **), int (*teardown)(void **))
{
	const char *name = program_invocation_short_name;
	size_t passed, failed;
	int rc;

	group_setup = setup;
	group_teardown = teardown;
	group_setup_failed = group_teardown_failed = 0;
	rc = _cmocka_run_group_tests(name, tests, n,
	    setup != NULL ? run_group_setup : NULL,
	    teardown != NULL ? run_group_teardown : NULL);
	if (group_setup_failed) {
		/* No test ran. */
		passed = 0;
		failed = n;
	} else {
		/* rc counts the tests that failed or met an error. */
		failed = rc < 0 ? n : (size_t)rc > n ? n : (size_t)rc;
		passed = n - failed;
	}
	failed += (size_t)group_teardown_failed;
	printf("%s: %zu passed, %zu failed\n", name, passed, failed);
	fflush(stdout);
	return failed != 0;
}
