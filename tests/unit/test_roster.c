/*
 * The roster: admission by admins with standing, standing counted along
 * each author's chain (never in time), revocations that name the last
 * record accepted, forks, and revocations that void each other.  Every
 * case is also run over many orders of its records: the roster depends on
 * the set alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "chain.h"
#include "hlc.h"
#include "kcrypto.h"
#include "kith.h"
#include "record.h"
#include "roster.h"
#include "state.h"
#include "testutil.h"

#define T(ms)	HLC_MAKE(1767225600000ULL + (ms), 0)
#define MAXR	32

static struct kcrypto_key *kc, *ka, *kb, *km, *kx;	/* charter, ... */
static uint8_t net[KITH_NETWORK_LEN];

/* A record set under test, and the seq each key signs next. */
struct set {
	struct record *r[MAXR];
	size_t n;
};

static uint64_t next_seq[256];

static int
setup(void **state)
{

	(void)state;
	kc = tu_key(1);
	ka = tu_key(2);
	kb = tu_key(3);
	km = tu_key(4);
	kx = tu_key(5);
	memset(net, 0x42, sizeof(net));
	return 0;
}

static int
teardown(void **state)
{

	(void)state;
	kcrypto_key_free(kc);
	kcrypto_key_free(ka);
	kcrypto_key_free(kb);
	kcrypto_key_free(km);
	kcrypto_key_free(kx);
	return 0;
}

static uint64_t
seq_of(const struct kcrypto_key *k)
{

	return ++next_seq[kcrypto_key_public(k)[0]];
}

static struct record *
add(struct set *s, struct record *r)
{

	assert_true(s->n < MAXR);
	s->r[s->n++] = r;
	return r;
}

static void
set_free(struct set *s)
{

	for (size_t i = 0; i < s->n; i++)
		record_free(s->r[i]);
	s->n = 0;
	memset(next_seq, 0, sizeof(next_seq));
}

/* A new set that starts with ${kc}'s charter. */
static void
start(struct set *s)
{
	uint8_t ent[KITH_ENTITY_LEN], *b;
	size_t len;

	memset(s, 0, sizeof(*s));
	memset(next_seq, 0, sizeof(next_seq));
	b = tu_body(&len, "name", "net", "org", "Charter org", NULL);
	add(s, tu_genesis(kc, NULL, seq_of(kc), T(0), KITH_KIND_CHARTER, 0x11,
	    b, len, ent));
	free(b);
}

/* A member record by ${by} about ${who}, in ${entity} (NULL: who's). */
static struct record *
member(struct set *s, const struct kcrypto_key *by, uint64_t hlc,
    const struct kcrypto_key *who, const char *role, const uint8_t *entity)
{
	uint8_t ent[KITH_ENTITY_LEN], *b;
	char hex[2 * KITH_KEY_LEN + 1];
	struct record *r;
	size_t len;

	kith_hex(hex, kcrypto_key_public(who), KITH_KEY_LEN);
	roster_member_entity(kcrypto_key_public(who), ent);
	b = tu_body(&len, "key", hex, "org", role, "role", role, NULL);
	r = tu_record(by, net, seq_of(by), hlc, KITH_KIND_MEMBER,
	    entity != NULL ? entity : ent, NULL, 0, b, len);
	free(b);
	return add(s, r);
}

/* A revoke record by ${by} about ${who}, naming ${last} (NULL: none). */
static struct record *
revoke(struct set *s, const struct kcrypto_key *by, uint64_t hlc,
    const struct kcrypto_key *who, const struct record *last)
{
	uint8_t ent[KITH_ENTITY_LEN], *enc;
	struct record *r;
	size_t len;

	roster_member_entity(kcrypto_key_public(who), ent);
	enc = tu_revoke_body(&len, who, last);
	r = tu_record(by, net, seq_of(by), hlc, KITH_KIND_REVOKE, ent, NULL,
	    0, enc, len);
	free(enc);
	return add(s, r);
}

/* A data record by ${by}: what standing is asked about. */
static struct record *
data(struct set *s, const struct kcrypto_key *by, uint64_t hlc)
{
	uint8_t ent[KITH_ENTITY_LEN] = { 0xd0 }, *b;
	struct record *r;
	size_t len;

	b = tu_body(&len, "area", "TW3", NULL);
	r = tu_record(by, net, seq_of(by), hlc, KITH_KIND_REQUEST, ent, NULL,
	    0, b, len);
	free(b);
	return add(s, r);
}

/* The same key signing a second record at an earlier number: a fork. */
static struct record *
fork_at(struct set *s, const struct kcrypto_key *by, uint64_t at,
    uint64_t hlc)
{
	uint8_t ent[KITH_ENTITY_LEN] = { 0xd1 }, *b;
	struct record *r;
	size_t len;

	b = tu_body(&len, "area", "E1", NULL);
	r = tu_record(by, net, at, hlc, KITH_KIND_REQUEST, ent, NULL, 0, b,
	    len);
	free(b);
	return add(s, r);
}

static struct roster *
compute(const struct set *s)
{
	struct chain_mem *m;
	struct chain_src src;
	struct roster *r = NULL;

	assert_non_null(m = chain_mem_new(s->r, s->n));
	chain_mem_src(m, &src);
	assert_int_equal(roster_compute(s->r, s->n, &src, &r), 0);
	chain_mem_free(m);
	return r;
}

static int
standing(const struct roster *r, const struct record *rec)
{

	return roster_standing(r, record_header(rec), record_id(rec));
}

/* Same roster: every key's role, revocation and fork point. */
static void
assert_same(const struct roster *a, const struct roster *b)
{

	assert_int_equal(roster_size(a), roster_size(b));
	for (size_t i = 0; i < roster_size(a); i++)
		assert_false(roster_changed(a, b, roster_get(a, i)->key));
}

/* The roster of ${s} is the same in many orders of its records. */
static void
check_orders(struct set *s)
{
	struct record *keep[MAXR];
	struct roster *ref = compute(s), *r;
	uint64_t rng = 99;

	memcpy(keep, s->r, s->n * sizeof(*keep));
	for (int o = 0; o < 40; o++) {
		for (size_t i = s->n - 1; i > 0; i--) {
			size_t j = (size_t)(tu_rng(&rng) % (i + 1));
			struct record *t = s->r[i];

			s->r[i] = s->r[j];
			s->r[j] = t;
		}
		r = compute(s);
		assert_same(ref, r);
		roster_free(r);
	}
	memcpy(s->r, keep, s->n * sizeof(*keep));
	roster_free(ref);
}

static void
test_admission(void **state)
{
	struct set s;
	struct roster *r;
	const struct roster_entry *e;
	uint8_t ent[KITH_ENTITY_LEN];
	struct record *before;

	(void)state;
	start(&s);
	/* Written before admission: applies once admitted. */
	before = data(&s, km, T(1));
	member(&s, kc, T(10), ka, "admin", NULL);
	member(&s, ka, T(20), km, "member", NULL);
	/* A member's admission counts for nothing. */
	member(&s, km, T(30), kx, "admin", NULL);
	/* An admin's, filed in another key's entity, neither. */
	roster_member_entity(kcrypto_key_public(ka), ent);
	member(&s, kc, T(40), kb, "member", ent);
	r = compute(&s);
	assert_int_equal(roster_current(r, kcrypto_key_public(kc)),
	    ROLE_ADMIN);
	assert_int_equal(roster_current(r, kcrypto_key_public(ka)),
	    ROLE_ADMIN);
	assert_int_equal(roster_current(r, kcrypto_key_public(km)),
	    ROLE_MEMBER);
	assert_int_equal(roster_current(r, kcrypto_key_public(kx)), ROLE_NONE);
	assert_int_equal(roster_current(r, kcrypto_key_public(kb)), ROLE_NONE);
	assert_int_equal(standing(r, before), 0);
	assert_int_equal(standing(r, data(&s, kx, T(50))), KITH_ENOTFOUND);
	e = roster_find(r, kcrypto_key_public(ka));
	assert_non_null(e);
	assert_string_equal(e->org, "admin");
	assert_memory_equal(e->by, kcrypto_key_public(kc), KITH_KEY_LEN);
	assert_true(e->since == T(10));
	assert_int_equal(e->ncounted, 1);
	e = roster_find(r, kcrypto_key_public(kc));
	assert_string_equal(e->org, "Charter org");
	/* The member entity's state is the entry. */
	roster_member_entity(kcrypto_key_public(km), ent);
	assert_ptr_equal(roster_find_entity(r, ent),
	    roster_find(r, kcrypto_key_public(km)));
	assert_ptr_equal(roster_find_x25519(r,
	    roster_find(r, kcrypto_key_public(km))->x25519),
	    roster_find(r, kcrypto_key_public(km)));
	roster_free(r);
	check_orders(&s);
	set_free(&s);
}

/* Roles only rise; an observer reads but its writes have no standing. */
static void
test_roles(void **state)
{
	struct set s;
	struct roster *r;

	(void)state;
	start(&s);
	member(&s, kc, T(10), km, "observer", NULL);
	member(&s, kc, T(20), kb, "member", NULL);
	member(&s, kc, T(30), kb, "observer", NULL);
	r = compute(&s);
	assert_int_equal(standing(r, data(&s, km, T(40))), KITH_EDENIED);
	assert_int_equal(roster_current(r, kcrypto_key_public(kb)),
	    ROLE_MEMBER);
	roster_free(r);
	member(&s, kc, T(50), km, "member", NULL);
	r = compute(&s);
	assert_int_equal(standing(r, s.r[s.n - 2]), 0);
	roster_free(r);
	check_orders(&s);
	set_free(&s);
}

/*
 * A revocation names the last record accepted: before it stands, after it
 * does not, whatever the stamps: a revoked key backdating a record to
 * before its revocation gains nothing.
 */
static void
test_revocation_by_sequence(void **state)
{
	struct set s;
	struct roster *r;
	struct record *d1, *d2, *late, *backdated;
	const struct roster_entry *e;

	(void)state;
	start(&s);
	member(&s, kc, T(10), km, "member", NULL);
	d1 = data(&s, km, T(20));
	d2 = data(&s, km, T(30));
	revoke(&s, kc, T(40), km, d2);
	late = data(&s, km, T(50));
	backdated = data(&s, km, 1);
	r = compute(&s);
	assert_int_equal(standing(r, d1), 0);
	assert_int_equal(standing(r, d2), 0);
	assert_int_equal(standing(r, late), KITH_EREVOKED);
	assert_int_equal(standing(r, backdated), KITH_EREVOKED);
	e = roster_find(r, kcrypto_key_public(km));
	assert_true(e->revoked != 0);
	assert_true(e->last_seq == record_header(d2)->seq);
	assert_int_equal(roster_current(r, kcrypto_key_public(km)), ROLE_NONE);
	roster_free(r);
	check_orders(&s);
	set_free(&s);
	/* A revocation naming none: nothing of the key stands. */
	start(&s);
	member(&s, kc, T(10), km, "member", NULL);
	d1 = data(&s, km, T(20));
	revoke(&s, kc, T(40), km, NULL);
	r = compute(&s);
	assert_int_equal(standing(r, d1), KITH_EREVOKED);
	roster_free(r);
	set_free(&s);
}

/*
 * Attack 3: a revoked admin signs an admission stamped inside its old
 * admin window.  It is past its last accepted record: it counts for
 * nothing, and the key it admitted can admit no one.
 */
static void
test_revoked_admin_backdates(void **state)
{
	struct set s;
	struct roster *r;
	struct record *last;

	(void)state;
	start(&s);
	member(&s, kc, T(10), ka, "admin", NULL);
	last = data(&s, ka, T(20));
	revoke(&s, kc, T(100), ka, last);
	member(&s, ka, T(15), kx, "admin", NULL);	/* backdated */
	member(&s, kx, T(16), km, "admin", NULL);
	r = compute(&s);
	assert_int_equal(roster_current(r, kcrypto_key_public(kx)), ROLE_NONE);
	assert_int_equal(roster_current(r, kcrypto_key_public(km)), ROLE_NONE);
	assert_int_equal(standing(r, data(&s, kx, T(200))), KITH_ENOTFOUND);
	roster_free(r);
	check_orders(&s);
	set_free(&s);
}

/*
 * Attack 2: a revoked key writes, backdated, its own admission (and a
 * member relays it).  It is no admin, and a revocation is for good.
 */
static void
test_revoked_readmits_itself(void **state)
{
	struct set s;
	struct roster *r;

	(void)state;
	start(&s);
	member(&s, kc, T(10), km, "member", NULL);
	revoke(&s, kc, T(100), km, NULL);
	member(&s, km, 1, km, "admin", NULL);
	r = compute(&s);
	assert_int_equal(roster_current(r, kcrypto_key_public(km)), ROLE_NONE);
	assert_int_equal(standing(r, data(&s, km, T(5))), KITH_EREVOKED);
	roster_free(r);
	check_orders(&s);
	set_free(&s);
}

/*
 * A fork: from its fork point a key's records have no standing, until a
 * revocation names the branch to keep; the walk back from it tells which.
 */
static void
test_fork(void **state)
{
	struct set s;
	struct roster *r;
	struct record *d1, *d2, *d3, *other, *d4;

	(void)state;
	start(&s);
	member(&s, kc, T(10), km, "member", NULL);
	d1 = data(&s, km, T(20));	/* seq 1 */
	d2 = data(&s, km, T(30));	/* seq 2 */
	d3 = data(&s, km, T(40));	/* seq 3 */
	other = fork_at(&s, km, 2, T(35));
	r = compute(&s);
	assert_int_equal(roster_find(r, kcrypto_key_public(km))->fork, 2);
	assert_int_equal(standing(r, d1), 0);
	assert_int_equal(standing(r, d2), KITH_EFORKED);
	assert_int_equal(standing(r, other), KITH_EFORKED);
	assert_int_equal(standing(r, d3), KITH_EFORKED);
	assert_int_equal(roster_current(r, kcrypto_key_public(km)), ROLE_NONE);
	roster_free(r);
	/* Settled: the branch through d3 stands, the other does not. */
	d4 = data(&s, km, T(50));	/* seq 4, after the revocation */
	revoke(&s, kc, T(60), km, d3);
	r = compute(&s);
	assert_int_equal(standing(r, d1), 0);
	assert_int_equal(standing(r, d2), 0);
	assert_int_equal(standing(r, d3), 0);
	assert_int_equal(standing(r, other), KITH_EREVOKED);
	assert_int_equal(standing(r, d4), KITH_EREVOKED);
	roster_free(r);
	check_orders(&s);
	set_free(&s);
}

/*
 * Two admins revoke each other, neither having seen the other's: both
 * revocations take effect, and neither admin keeps authority past what
 * the other accepted.  So does a revoked admin that retaliates.
 */
static void
test_mutual_revocation(void **state)
{
	struct set s;
	struct roster *r;
	struct record *la, *lb;

	(void)state;
	start(&s);
	member(&s, kc, T(10), ka, "admin", NULL);
	member(&s, kc, T(11), kb, "admin", NULL);
	la = data(&s, ka, T(20));
	lb = data(&s, kb, T(21));
	revoke(&s, ka, T(30), kb, lb);
	revoke(&s, kb, T(31), ka, la);
	member(&s, ka, T(40), kx, "member", NULL);	/* past a's last */
	r = compute(&s);
	assert_true(roster_find(r, kcrypto_key_public(ka))->revoked != 0);
	assert_true(roster_find(r, kcrypto_key_public(kb))->revoked != 0);
	assert_int_equal(roster_current(r, kcrypto_key_public(kx)), ROLE_NONE);
	assert_int_equal(standing(r, la), 0);
	assert_int_equal(roster_current(r, kcrypto_key_public(kc)),
	    ROLE_ADMIN);
	roster_free(r);
	check_orders(&s);
	set_free(&s);
	/* A chain of them: c revokes a; a's revocation of b is past a's last. */
	start(&s);
	member(&s, kc, T(10), ka, "admin", NULL);
	member(&s, kc, T(11), kb, "member", NULL);
	la = data(&s, ka, T(20));
	revoke(&s, kc, T(30), ka, la);
	revoke(&s, ka, 1, kb, NULL);
	r = compute(&s);
	assert_true(roster_find(r, kcrypto_key_public(kb))->revoked == 0);
	assert_int_equal(roster_current(r, kcrypto_key_public(kb)),
	    ROLE_MEMBER);
	roster_free(r);
	check_orders(&s);
	set_free(&s);
}

/* No charter: no roster. */
static void
test_no_charter(void **state)
{
	struct set s;
	struct roster *r = NULL;

	(void)state;
	memset(&s, 0, sizeof(s));
	member(&s, kc, T(10), ka, "admin", NULL);
	assert_int_equal(roster_compute(s.r, s.n, NULL, &r), KITH_ENOTFOUND);
	assert_null(r);
	set_free(&s);
}

static void
test_role_names(void **state)
{
	uint8_t e1[KITH_ENTITY_LEN], e2[KITH_ENTITY_LEN];

	(void)state;
	assert_int_equal(roster_role_parse("admin"), ROLE_ADMIN);
	assert_int_equal(roster_role_parse("pcn"), ROLE_PCN);
	assert_int_equal(roster_role_parse("Admin"), ROLE_NONE);
	assert_int_equal(roster_role_parse(""), ROLE_NONE);
	assert_string_equal(roster_role_name(ROLE_OBSERVER), "observer");
	assert_string_equal(roster_role_name(ROLE_NONE), "none");
	assert_string_equal(roster_role_name(99), "none");
	roster_member_entity(kcrypto_key_public(ka), e1);
	roster_member_entity(kcrypto_key_public(kb), e2);
	assert_memory_not_equal(e1, e2, KITH_ENTITY_LEN);
}

/* A member entity's state is its roster entry, over its counted records. */
static void
test_member_state(void **state)
{
	struct set s;
	struct roster *r;
	struct state *st = NULL;
	struct record *mine[4];
	char *v;

	(void)state;
	start(&s);
	mine[0] = member(&s, kc, T(10), km, "member", NULL);
	mine[1] = member(&s, kx, T(11), km, "admin", NULL);	/* forged */
	mine[2] = revoke(&s, kc, T(20), km, NULL);
	r = compute(&s);
	assert_int_equal(state_compute(mine, 3, r, &st), 0);
	assert_true(state_kind(st) == KITH_KIND_MEMBER);
	assert_true(state_nversions(st) == 2);
	assert_non_null(v = state_str(st, "role"));
	assert_string_equal(v, "member");
	free(v);
	assert_non_null(v = state_str(st, "revoked"));
	assert_string_equal(v, "1");
	free(v);
	assert_non_null(v = state_str(st, "last_seq"));
	assert_string_equal(v, "0");
	free(v);
	state_free(st);
	roster_free(r);
	set_free(&s);
}

/*
 * An insight's response (status, action, why) counts only from a PCN or
 * an admin: a member's own "done" is ignored, whatever its clock; and the
 * response moves forward only.
 */
static void
test_insight_response(void **state)
{
	uint8_t ent[KITH_ENTITY_LEN], *b;
	struct record *e[6];
	struct roster *r;
	struct state *st;
	struct set s;
	size_t len, n = 0;

	(void)state;
	start(&s);
	member(&s, kc, T(10), km, "member", NULL);
	member(&s, kc, T(11), kx, "pcn", NULL);
	b = tu_body(&len, "service", "GP", "summary", "hard to book", NULL);
	e[n++] = add(&s, tu_genesis(km, net, seq_of(km), T(20),
	    KITH_KIND_INSIGHT, 0x21, b, len, ent));
	free(b);
	/* The member answers its own insight, stamped late: no effect. */
	b = tu_body(&len, "action", "nothing", "status", "done", "why", "x",
	    NULL);
	e[n++] = add(&s, tu_record(km, net, seq_of(km), T(900),
	    KITH_KIND_INSIGHT, ent, NULL, 0, b, len));
	free(b);
	r = compute(&s);
	assert_int_equal(state_compute(e, n, r, &st), 0);
	assert_null(state_get(st, "status"));
	assert_null(state_get(st, "action"));
	assert_non_null(state_get(st, "summary"));
	state_free(st);
	roster_free(r);
	/* The PCN plans; the admin says done; a later "planned" moves back
	 * nothing. */
	b = tu_body(&len, "action", "booking line", "status", "planned", "why",
	    "funded", NULL);
	e[n++] = add(&s, tu_record(kx, net, seq_of(kx), T(40),
	    KITH_KIND_INSIGHT, ent, NULL, 0, b, len));
	free(b);
	r = compute(&s);
	assert_int_equal(state_compute(e, n, r, &st), 0);
	assert_non_null(state_get(st, "status"));
	assert_true(strncmp(state_get(st, "status")->value.s, "planned", 7) == 0);
	assert_true(strncmp(state_get(st, "action")->value.s, "booking line",
	    12) == 0);
	state_free(st);
	roster_free(r);
	b = tu_body(&len, "status", "done", NULL);
	e[n++] = add(&s, tu_record(kc, net, seq_of(kc), T(50),
	    KITH_KIND_INSIGHT, ent, NULL, 0, b, len));
	free(b);
	b = tu_body(&len, "status", "planned", NULL);
	e[n++] = add(&s, tu_record(kx, net, seq_of(kx), T(60),
	    KITH_KIND_INSIGHT, ent, NULL, 0, b, len));
	free(b);
	r = compute(&s);
	assert_int_equal(state_compute(e, n, r, &st), 0);
	assert_int_equal(state_get(st, "status")->value.len, 4);
	assert_true(memcmp(state_get(st, "status")->value.s, "done", 4) == 0);
	state_free(st);
	roster_free(r);
	set_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admission),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_revocation_by_sequence),
		cmocka_unit_test(test_revoked_admin_backdates),
		cmocka_unit_test(test_revoked_readmits_itself),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_mutual_revocation),
		cmocka_unit_test(test_no_charter),
		cmocka_unit_test(test_role_names),
		cmocka_unit_test(test_member_state),
		cmocka_unit_test(test_insight_response),
	};

	return tu_run(tests, setup, teardown);
}
