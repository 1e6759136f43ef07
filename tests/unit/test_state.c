/*
 * Entity state: last-writer-wins with visible conflicts, superseded by
 * ancestry; forward-only workflow status; kind, creator and recipient from
 * the genesis alone; sealed sections by entitlement; and the same bytes
 * whatever the order the records come in.  Each rule has a test of what a
 * hostile member, choosing every header field, would try against it.
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
#include "hlc.h"
#include "kcrypto.h"
#include "kith.h"
#include "record.h"
#include "seal.h"
#include "state.h"
#include "testutil.h"

static const uint8_t ENT2[KITH_ENTITY_LEN] = { 0xe2, 0x02 };

/* The entity the last genesis (g) started: mk writes into it. */
static uint8_t ENT[KITH_ENTITY_LEN];
static uint8_t nonce_byte;

static struct kcrypto_key *ka, *kb, *kc;
static uint64_t seq;

#define T(ms)	HLC_MAKE(1767225600000ULL + (ms), 0)

static int
setup(void **state)
{

	(void)state;
	ka = tu_key(1);
	kb = tu_key(2);
	kc = tu_key(3);
	return 0;
}

static int
teardown(void **state)
{

	(void)state;
	kcrypto_key_free(ka);
	kcrypto_key_free(kb);
	kcrypto_key_free(kc);
	return 0;
}

/*
 * A record of ${kind} by ${k} at ${hlc}, with parents ${p1} and ${p2} (either
 * may be NULL), and a body of NULL-terminated name/value pairs (a value
 * NULL is nil; "#N" is the integer N).
 */
static struct record *
vmk(int genesis, const struct kcrypto_key *k, uint64_t hlc, uint64_t kind,
    const struct record *p1, const struct record *p2, va_list ap)
{
	static const struct codec_value nil = { .type = CODEC_NIL };
	uint8_t parents[2][32], *body, nonce[KITH_NONCE_LEN];
	const char *name, *val;
	struct record *rec;
	struct body *b;
	size_t blen;
	unsigned np = 0;

	if (p1 != NULL)
		memcpy(parents[np++], record_id(p1), 32);
	if (p2 != NULL)
		memcpy(parents[np++], record_id(p2), 32);
	/* Built here rather than with tu_body so that a NULL value is nil. */
	assert_non_null(b = body_new());
	while ((name = va_arg(ap, const char *)) != NULL) {
		val = va_arg(ap, const char *);
		if (val == NULL)
			assert_int_equal(body_set(b, name, 0, &nil), 0);
		else if (val[0] == '#')	/* "#N": the integer N */
			assert_int_equal(body_set_int(b, name, 0,
			    strtoll(val + 1, NULL, 10)), 0);
		else
			assert_int_equal(body_set_str(b, name, 0, val), 0);
	}
	assert_int_equal(body_encode(b, &body, &blen), 0);
	body_free(b);
	if (genesis) {
		memset(nonce, ++nonce_byte, sizeof(nonce));
		tu_nonce = nonce;
	}
	rec = tu_record(k, NULL, ++seq, hlc, kind, ENT,
	    (const uint8_t (*)[32])parents, np, body, blen);
	tu_nonce = NULL;
	if (genesis)
		memcpy(ENT, record_header(rec)->entity, KITH_ENTITY_LEN);
	free(body);
	return rec;
}

/* A record of the current entity (see g). */
static struct record *
mk(const struct kcrypto_key *k, uint64_t hlc, uint64_t kind,
    const struct record *p1, const struct record *p2, ...)
{
	struct record *rec;
	va_list ap;

	va_start(ap, p2);
	rec = vmk(0, k, hlc, kind, p1, p2, ap);
	va_end(ap);
	return rec;
}

/*
 * The genesis of a new entity of ${kind} by ${k}, which becomes the
 * current entity, with a body of NULL-terminated name/value pairs.
 */
static struct record *
g(const struct kcrypto_key *k, uint64_t hlc, uint64_t kind, ...)
{
	struct record *rec;
	va_list ap;

	va_start(ap, kind);
	rec = vmk(1, k, hlc, kind, NULL, NULL, ap);
	va_end(ap);
	return rec;
}

static struct state *
compute(struct record *const *recs, size_t n)
{
	struct state *s = NULL;
	int rc = state_compute(recs, n, NULL, &s);

	if (rc != 0)
		fail_msg("state_compute: %s", kith_strerror(rc));
	assert_non_null(s);
	return s;
}

static void
assert_field(const struct state *s, const char *name, const char *want)
{
	char *got = state_str(s, name);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* Does field ${name} hold the alternative string ${alt}? */
static int
has_alt(const struct state *s, const char *name, const char *alt)
{
	const struct state_field *f = state_get(s, name);
	size_t i;

	assert_non_null(f);
	for (i = 0; i < f->nalts; i++)
		if (f->alts[i].type == CODEC_STR &&
		    f->alts[i].len == strlen(alt) &&
		    memcmp(f->alts[i].s, alt, f->alts[i].len) == 0)
			return 1;
	return 0;
}

static int
is_head(const struct state *s, const struct record *r)
{
	size_t i;

	for (i = 0; i < state_nheads(s); i++)
		if (memcmp(state_head(s, i), record_id(r), 32) == 0)
			return 1;
	return 0;
}

static void
free_all(struct record **r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		record_free(r[i]);
}

static void
test_single(void **state)
{
	struct record *r[1];
	struct state *s;
	const struct state_field *f;
	char hex[2 * KITH_KEY_LEN + 1];

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_VOLUNTEER, "title", "soup", NULL);
	s = compute(r, 1);
	assert_memory_equal(state_entity(s), ENT, KITH_ENTITY_LEN);
	assert_true(state_kind(s) == KITH_KIND_VOLUNTEER);
	assert_true(state_created(s) == T(100));
	assert_true(state_updated(s) == T(100));
	assert_memory_equal(state_creator(s), kcrypto_key_public(ka), 32);
	assert_true(state_nversions(s) == 1);
	assert_int_equal(state_nheads(s), 1);
	assert_memory_equal(state_head(s, 0), record_id(r[0]), 32);
	assert_null(state_head(s, 1));
	/* Sorted by name; the merge adds who may read personal fields. */
	assert_int_equal(state_nfields(s), 2);
	f = state_field(s, 0);
	assert_string_equal(f->name, "readers");
	assert_int_equal(f->personal, 0);
	kith_hex(hex, kcrypto_key_public(ka), KITH_KEY_LEN);
	assert_field(s, "readers", hex);
	f = state_field(s, 1);
	assert_string_equal(f->name, "title");
	assert_int_equal(f->personal, 0);
	assert_int_equal(f->nalts, 0);
	assert_null(state_field(s, 2));
	assert_field(s, "title", "soup");
	assert_null(state_get(s, "absent"));
	assert_field(s, "absent", NULL);
	assert_int_equal(state_nconflicts(s), 0);
	state_free(s);
	state_free(NULL);
	free_all(r, 1);
}

static void
test_bad_input(void **state)
{
	struct record *r[2] = { NULL, NULL };
	struct state *s = NULL;

	(void)state;
	assert_int_equal(state_compute(r, 0, NULL, &s), KITH_EINVAL);
	assert_null(s);
	r[0] = g(ka, T(1), KITH_KIND_VOLUNTEER, "a", "x", NULL);
	r[1] = tu_record(ka, NULL, 99, T(2), KITH_KIND_VOLUNTEER, ENT2, NULL,
	    0, NULL, 0);
	assert_int_equal(state_compute(r, 2, NULL, &s), KITH_EINVAL);
	assert_null(s);
	free_all(r, 2);
}

/*
 * No genesis, no state: records that come before their entity's first
 * wait, whatever they say; the genesis makes them apply.
 */
static void
test_genesis_first(void **state)
{
	struct record *r[3];
	struct state *s = NULL;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_REQUEST, "status", "open", NULL);
	r[1] = mk(kb, T(200), KITH_KIND_REQUEST, r[0], NULL,
	    "area", "TW3", NULL);
	/* Another kind, stamped before everything: only evidence. */
	r[2] = mk(kc, 1, KITH_KIND_VOLUNTEER, NULL, NULL, "area", "E1", NULL);
	assert_int_equal(state_compute(r + 1, 2, NULL, &s), KITH_ENOGENESIS);
	assert_null(s);
	s = compute(r, 3);
	assert_true(state_kind(s) == KITH_KIND_REQUEST);
	assert_memory_equal(state_creator(s), kcrypto_key_public(ka), 32);
	assert_true(state_created(s) == T(100));
	assert_field(s, "area", "TW3");
	assert_field(s, "status", "open");
	assert_true(state_nversions(s) == 2);
	state_free(s);
	free_all(r, 3);
}

/*
 * A kind hijack: a member writes a record of another kind, stamped hlc=1,
 * into someone's entity.  It is evidence; nothing about the entity moves.
 */
static void
test_kind_hijack(void **state)
{
	struct record *r[3];
	struct state *s, *ref;
	const uint8_t *p, *q;
	size_t len, rlen;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_VOLUNTEER, "title", "a", NULL);
	r[1] = mk(ka, T(200), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "b", NULL);
	ref = compute(r, 2);
	r[2] = mk(kc, 1, KITH_KIND_REFERRAL, NULL, NULL, "title", "evil", NULL);
	s = compute(r, 3);
	p = state_encoded(ref, &rlen);
	q = state_encoded(s, &len);
	assert_int_equal(len, rlen);
	assert_memory_equal(p, q, len);
	assert_true(state_kind(s) == KITH_KIND_VOLUNTEER);
	state_free(s);
	state_free(ref);
	free_all(r, 3);
}

/* Two records carrying a nonce: the genesis is the least (seq, id). */
static void
test_two_geneses(void **state)
{
	struct record *r[2];
	struct state *s, *t;
	uint8_t nonce[KITH_NONCE_LEN];
	uint8_t *b;
	size_t blen;

	(void)state;
	memset(nonce, 0x77, sizeof(nonce));
	tu_nonce = nonce;
	b = tu_body(&blen, "title", "first", NULL);
	tu_audience = kcrypto_key_public(kb);
	r[0] = tu_record(ka, NULL, 7, T(500), KITH_KIND_REFERRAL, NULL, NULL,
	    0, b, blen);
	free(b);
	b = tu_body(&blen, "title", "second", NULL);
	tu_audience = kcrypto_key_public(kc);
	r[1] = tu_record(ka, NULL, 8, T(100), KITH_KIND_REFERRAL, NULL, NULL,
	    0, b, blen);
	free(b);
	tu_audience = NULL;
	tu_nonce = NULL;
	assert_memory_equal(record_header(r[0])->entity,
	    record_header(r[1])->entity, KITH_ENTITY_LEN);
	s = compute(r, 2);
	/* Seq 7 is the genesis: its stamp, its recipient's records apply. */
	assert_true(state_created(s) == T(500));
	assert_true(state_nversions(s) == 1);
	assert_field(s, "title", "first");
	t = compute(r + 1, 1);
	assert_true(state_created(t) == T(100));
	state_free(s);
	state_free(t);
	free_all(r, 2);
}

static void
test_sequential(void **state)
{
	struct record *r[3];
	struct state *s;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_VOLUNTEER, "title", "a", "zone", "n",
	    NULL);
	r[1] = mk(kb, T(200), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "b", NULL);
	s = compute(r, 2);
	assert_field(s, "title", "b");
	assert_field(s, "zone", "n");		/* untouched fields stay */
	assert_int_equal(state_nconflicts(s), 0);
	assert_int_equal(state_nheads(s), 1);
	assert_true(is_head(s, r[1]));
	assert_true(state_updated(s) == T(200));
	assert_true(state_created(s) == T(100));
	assert_memory_equal(state_creator(s), kcrypto_key_public(ka), 32);
	state_free(s);

	/* Ancestry beats the clock: a child with an earlier hlc still wins. */
	r[2] = mk(kc, T(150), KITH_KIND_VOLUNTEER, r[1], NULL,
	    "title", "c", NULL);
	s = compute(r, 3);
	assert_field(s, "title", "c");
	assert_int_equal(state_nconflicts(s), 0);
	assert_true(state_updated(s) == T(200));
	state_free(s);
	free_all(r, 3);
}

/* A later write of nil keeps the field, valued nil. */
static void
test_nil_clears(void **state)
{
	struct record *r[2];
	struct state *s;
	const struct state_field *f;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_VOLUNTEER, "title", "a", NULL);
	r[1] = mk(ka, T(200), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", NULL, NULL);
	s = compute(r, 2);
	assert_non_null(f = state_get(s, "title"));
	assert_int_equal(f->value.type, CODEC_NIL);
	assert_field(s, "title", NULL);
	state_free(s);
	free_all(r, 2);
}

static void
test_conflict(void **state)
{
	struct record *r[5];
	struct state *s;
	const struct state_field *f;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_VOLUNTEER, "title", "base", NULL);
	r[1] = mk(ka, T(200), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "x", NULL);
	r[2] = mk(kb, T(300), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "y", NULL);
	s = compute(r, 3);
	/* The higher hlc wins; the other value stays visible. */
	assert_field(s, "title", "y");
	assert_int_equal(state_nconflicts(s), 1);
	f = state_get(s, "title");
	assert_int_equal(f->nalts, 1);
	assert_true(has_alt(s, "title", "x"));
	assert_false(has_alt(s, "title", "base"));	/* superseded */
	assert_int_equal(state_nheads(s), 2);
	assert_true(is_head(s, r[1]) && is_head(s, r[2]));
	assert_false(is_head(s, r[0]));
	state_free(s);

	/* A child of one head only: the conflict stays. */
	r[3] = mk(kc, T(400), KITH_KIND_VOLUNTEER, r[1], NULL,
	    "title", "z", NULL);
	s = compute(r, 4);
	assert_field(s, "title", "z");
	assert_int_equal(state_nconflicts(s), 1);
	assert_true(has_alt(s, "title", "y"));
	assert_false(has_alt(s, "title", "x"));
	state_free(s);
	record_free(r[3]);

	/* A child of both that writes the field resolves it. */
	r[3] = mk(kc, T(400), KITH_KIND_VOLUNTEER, r[1], r[2],
	    "title", "z", NULL);
	s = compute(r, 4);
	assert_field(s, "title", "z");
	assert_int_equal(state_nconflicts(s), 0);
	assert_int_equal(state_get(s, "title")->nalts, 0);
	assert_int_equal(state_nheads(s), 1);
	assert_true(is_head(s, r[3]));
	state_free(s);
	record_free(r[3]);

	/* Even choosing the losing value, at an earlier hlc. */
	r[3] = mk(kc, T(250), KITH_KIND_VOLUNTEER, r[1], r[2],
	    "title", "x", NULL);
	s = compute(r, 4);
	assert_field(s, "title", "x");
	assert_int_equal(state_nconflicts(s), 0);
	state_free(s);
	record_free(r[3]);

	/*
	 * A child of both that writes another field does not: superseding is
	 * per field.
	 */
	r[3] = mk(kc, T(400), KITH_KIND_VOLUNTEER, r[1], r[2],
	    "note", "hi", NULL);
	s = compute(r, 4);
	assert_field(s, "title", "y");
	assert_int_equal(state_nconflicts(s), 1);
	assert_int_equal(state_nheads(s), 1);
	state_free(s);

	/* A grandchild through a non-writer still supersedes. */
	r[4] = mk(ka, T(500), KITH_KIND_VOLUNTEER, r[3], NULL,
	    "title", "w", NULL);
	s = compute(r, 5);
	assert_field(s, "title", "w");
	assert_field(s, "note", "hi");
	assert_int_equal(state_nconflicts(s), 0);
	state_free(s);
	free_all(r, 5);
}

/* Equal hlc: the greater author key wins; the creator is the genesis's. */
static void
test_conflict_tiebreak(void **state)
{
	struct record *r[3];
	struct state *s;
	int a_wins;

	(void)state;
	a_wins = memcmp(kcrypto_key_public(ka), kcrypto_key_public(kb), 32) >
	    0;
	r[0] = g(kc, T(50), KITH_KIND_VOLUNTEER, NULL);
	r[1] = mk(ka, T(100), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "by_a", NULL);
	r[2] = mk(kb, T(100), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "by_b", NULL);
	s = compute(r, 3);
	assert_field(s, "title", a_wins ? "by_a" : "by_b");
	assert_true(has_alt(s, "title", a_wins ? "by_b" : "by_a"));
	assert_memory_equal(state_creator(s), kcrypto_key_public(kc), 32);
	state_free(s);
	free_all(r, 3);
}

static void
test_concurrent_same_value(void **state)
{
	struct record *r[4];
	struct state *s;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_VOLUNTEER, "title", "a", NULL);
	r[1] = mk(ka, T(200), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "same", NULL);
	r[2] = mk(kb, T(300), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "same", NULL);
	s = compute(r, 3);
	assert_field(s, "title", "same");
	assert_int_equal(state_nconflicts(s), 0);
	assert_int_equal(state_nheads(s), 2);
	state_free(s);
	/* Three heads, the winner's value twice: one alternative. */
	r[3] = mk(kc, T(50), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "other", NULL);
	s = compute(r, 4);
	assert_field(s, "title", "same");
	assert_int_equal(state_get(s, "title")->nalts, 1);
	assert_true(has_alt(s, "title", "other"));
	state_free(s);
	free_all(r, 4);
}

static void
test_status_forward_only(void **state)
{
	struct record *r[4];
	struct state *s;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_REQUEST, "status", "open", "title",
	    "help", NULL);
	r[1] = mk(kb, T(200), KITH_KIND_REQUEST, r[0], NULL,
	    "status", "claimed", NULL);
	r[2] = mk(ka, T(300), KITH_KIND_REQUEST, r[1], NULL,
	    "status", "open", NULL);
	s = compute(r, 3);
	assert_field(s, "status", "claimed");
	assert_int_equal(state_nconflicts(s), 0);
	state_free(s);
	/* Unknown stages are ignored, whatever their hlc. */
	r[3] = mk(ka, T(400), KITH_KIND_REQUEST, r[2], NULL,
	    "status", "bogus", NULL);
	s = compute(r, 4);
	assert_field(s, "status", "claimed");
	state_free(s);
	record_free(r[3]);
	/* A further stage moves it on. */
	r[3] = mk(kb, T(400), KITH_KIND_REQUEST, r[2], NULL,
	    "status", "fulfilled", NULL);
	s = compute(r, 4);
	assert_field(s, "status", "fulfilled");
	state_free(s);
	free_all(r, 4);

	/* The same moves in a kind with no workflow: last writer wins. */
	r[0] = g(ka, T(100), KITH_KIND_VOLUNTEER, "status", "open", NULL);
	r[1] = mk(kb, T(200), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "status", "claimed", NULL);
	r[2] = mk(ka, T(300), KITH_KIND_VOLUNTEER, r[1], NULL,
	    "status", "open", NULL);
	s = compute(r, 3);
	assert_field(s, "status", "open");
	state_free(s);
	free_all(r, 3);

	/* Referrals: sent < accepted/declined < completed. */
	tu_audience = kcrypto_key_public(kb);
	r[0] = g(ka, T(100), KITH_KIND_REFERRAL, "status", "sent", NULL);
	r[1] = mk(kb, T(200), KITH_KIND_REFERRAL, r[0], NULL,
	    "status", "completed", NULL);
	r[2] = mk(ka, T(300), KITH_KIND_REFERRAL, r[1], NULL,
	    "status", "sent", NULL);
	s = compute(r, 3);
	assert_field(s, "status", "completed");
	state_free(s);
	free_all(r, 3);
	tu_audience = NULL;

	/* A request with no valid status at all has no status field. */
	r[0] = g(ka, T(100), KITH_KIND_REQUEST, "status", "nonsense", "title",
	    "t", NULL);
	s = compute(r, 1);
	assert_null(state_get(s, "status"));
	assert_field(s, "title", "t");
	state_free(s);
	free_all(r, 1);
}

/*
 * A referral belongs to its creator and its recipient, the genesis's
 * first audience key: only the recipient moves it past "sent", only the
 * creator sends it, and a third party's records, or records addressed to
 * anyone else, are evidence, however stamped.
 */
/*
 * A request reopened starts a new round: open again, whatever the clocks
 * say, then forward again within that round.  A round that is no integer
 * in range does not count.
 */
static void
test_status_rounds(void **state)
{
	struct record *r[6];
	struct state *s;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_REQUEST, "status", "open", NULL);
	r[1] = mk(kb, T(200), KITH_KIND_REQUEST, r[0], NULL,
	    "status", "fulfilled", NULL);
	/* Reopened, stamped before the fulfilment: it still wins. */
	r[2] = mk(ka, T(150), KITH_KIND_REQUEST, r[1], NULL,
	    "status", "open", "round", "#1", NULL);
	s = compute(r, 3);
	assert_field(s, "status", "open");
	state_free(s);
	/* A claim of round 0 made meanwhile does not close it again. */
	r[3] = mk(kb, T(300), KITH_KIND_REQUEST, r[0], NULL,
	    "status", "claimed", NULL);
	s = compute(r, 4);
	assert_field(s, "status", "open");
	state_free(s);
	/* A claim in round 1 moves it on. */
	r[4] = mk(kb, T(400), KITH_KIND_REQUEST, r[2], r[3],
	    "status", "claimed", "round", "#1", NULL);
	s = compute(r, 5);
	assert_field(s, "status", "claimed");
	state_free(s);
	/* Bad rounds: a string, a negative, past the cap. */
	r[5] = mk(ka, T(500), KITH_KIND_REQUEST, r[4], NULL,
	    "status", "open", "round", "2", NULL);
	s = compute(r, 6);
	assert_field(s, "status", "claimed");
	state_free(s);
	record_free(r[5]);
	r[5] = mk(ka, T(500), KITH_KIND_REQUEST, r[4], NULL,
	    "status", "open", "round", "#-2", NULL);
	s = compute(r, 6);
	assert_field(s, "status", "claimed");
	state_free(s);
	record_free(r[5]);
	r[5] = mk(ka, T(500), KITH_KIND_REQUEST, r[4], NULL,
	    "status", "open", "round", "#1000001", NULL);
	s = compute(r, 6);
	assert_field(s, "status", "claimed");
	state_free(s);
	record_free(r[5]);
	r[5] = mk(ka, T(500), KITH_KIND_REQUEST, r[4], NULL,
	    "status", "open", "round", "#2", NULL);
	s = compute(r, 6);
	assert_field(s, "status", "open");
	state_free(s);
	free_all(r, 6);
	/* A referral has no rounds: a round does not move it back. */
	r[0] = g(ka, T(100), KITH_KIND_REFERRAL, "status", "sent", NULL);
	r[1] = mk(ka, T(200), KITH_KIND_REFERRAL, r[0], NULL,
	    "status", "sent", "round", "#5", NULL);
	s = compute(r, 2);
	assert_field(s, "status", "sent");
	state_free(s);
	free_all(r, 2);
}

static void
test_referral_authority(void **state)
{
	struct record *r[6];
	struct state *s;

	(void)state;
	tu_audience = kcrypto_key_public(kb);
	/* The creator cannot accept its own referral. */
	r[0] = g(ka, T(100), KITH_KIND_REFERRAL, "status", "sent", "category",
	    "food", NULL);
	r[1] = mk(ka, T(200), KITH_KIND_REFERRAL, r[0], NULL,
	    "status", "accepted", NULL);
	/* Nor can a third party, however late its clock. */
	r[2] = mk(kc, T(900), KITH_KIND_REFERRAL, r[1], NULL,
	    "status", "declined", "category", "advice", NULL);
	s = compute(r, 3);
	assert_field(s, "status", "sent");
	assert_field(s, "category", "food");
	assert_int_equal(state_nversions(s), 2);	/* r[2] is evidence */
	state_free(s);
	/* The recipient can; then a third party's completion is ignored. */
	r[3] = mk(kb, T(300), KITH_KIND_REFERRAL, r[1], NULL,
	    "status", "accepted", NULL);
	r[4] = mk(kc, T(950), KITH_KIND_REFERRAL, r[3], NULL,
	    "status", "completed", NULL);
	/*
	 * A member's backdated record addressed to itself makes it no
	 * recipient: the genesis decides.
	 */
	tu_audience = kcrypto_key_public(kc);
	r[5] = mk(kc, 1, KITH_KIND_REFERRAL, NULL, NULL,
	    "status", "declined", NULL);
	tu_audience = kcrypto_key_public(kb);
	s = compute(r, 6);
	assert_field(s, "status", "accepted");
	state_free(s);
	free_all(r, 6);
	/* A recipient's "sent" on a referral it did not create is ignored. */
	r[0] = g(ka, T(100), KITH_KIND_REFERRAL, "category", "food", NULL);
	r[1] = mk(kb, T(200), KITH_KIND_REFERRAL, r[0], NULL,
	    "status", "sent", NULL);
	s = compute(r, 2);
	assert_null(state_get(s, "status"));
	state_free(s);
	free_all(r, 2);
	/* The creator's own record addressed elsewhere does not apply. */
	r[0] = g(ka, T(100), KITH_KIND_REFERRAL, "status", "sent", NULL);
	tu_audience = kcrypto_key_public(kc);
	r[1] = mk(ka, T(200), KITH_KIND_REFERRAL, r[0], NULL,
	    "category", "advice", NULL);
	tu_audience = kcrypto_key_public(kb);
	s = compute(r, 2);
	assert_null(state_get(s, "category"));
	assert_int_equal(state_nversions(s), 1);
	state_free(s);
	free_all(r, 2);
	tu_audience = NULL;
}

static void
test_status_rank(void **state)
{

	(void)state;
	assert_int_equal(state_status_rank(KITH_KIND_REQUEST, "open", 4), 0);
	assert_int_equal(state_status_rank(KITH_KIND_REQUEST, "claimed", 7),
	    1);
	assert_int_equal(state_status_rank(KITH_KIND_REQUEST, "fulfilled", 9),
	    2);
	assert_int_equal(state_status_rank(KITH_KIND_REQUEST, "cancelled", 9),
	    2);
	assert_int_equal(state_status_rank(KITH_KIND_REQUEST, "sent", 4), -1);
	assert_int_equal(state_status_rank(KITH_KIND_REQUEST, "ope", 3), -1);
	assert_int_equal(state_status_rank(KITH_KIND_REQUEST, "openx", 5), -1);
	assert_int_equal(state_status_rank(KITH_KIND_REQUEST, "Open", 4), -1);
	assert_int_equal(state_status_rank(KITH_KIND_REFERRAL, "declined", 8),
	    1);
	assert_int_equal(state_status_rank(KITH_KIND_VOLUNTEER, "open", 4),
	    -1);
}

static void
test_fulfilled_vs_cancelled(void **state)
{
	struct record *r[4];
	struct state *s;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_REQUEST, "status", "open", NULL);
	r[1] = mk(ka, T(200), KITH_KIND_REQUEST, r[0], NULL,
	    "status", "fulfilled", NULL);
	r[2] = mk(kb, T(300), KITH_KIND_REQUEST, r[0], NULL,
	    "status", "cancelled", NULL);
	s = compute(r, 3);
	/* Same rank, concurrent: a visible conflict, hlc picks the value. */
	assert_field(s, "status", "cancelled");
	assert_true(has_alt(s, "status", "fulfilled"));
	assert_int_equal(state_nconflicts(s), 1);
	state_free(s);
	/* A later claimed cannot resolve it: lower rank. */
	r[3] = mk(kc, T(400), KITH_KIND_REQUEST, r[1], r[2],
	    "status", "claimed", NULL);
	s = compute(r, 4);
	assert_field(s, "status", "cancelled");
	assert_int_equal(state_nconflicts(s), 1);
	state_free(s);
	record_free(r[3]);
	/* A same-rank child of both does. */
	r[3] = mk(kc, T(400), KITH_KIND_REQUEST, r[1], r[2],
	    "status", "fulfilled", NULL);
	s = compute(r, 4);
	assert_field(s, "status", "fulfilled");
	assert_int_equal(state_nconflicts(s), 0);
	state_free(s);
	free_all(r, 4);
}

/*
 * Records of another kind are evidence; undecodable bodies, bodies with
 * personal fields in the clear, and absent bodies contribute no fields.
 */
static void
test_ignored(void **state)
{
	struct record *r[5], *tmp;
	struct state *s;
	const uint8_t *sh;
	uint8_t *b;
	size_t len;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_VOLUNTEER, "title", "a", NULL);
	r[1] = mk(ka, T(200), KITH_KIND_REQUEST, r[0], NULL,
	    "title", "other_kind", NULL);
	r[2] = tu_record(ka, NULL, 500, T(300), KITH_KIND_VOLUNTEER, ENT,
	    (const uint8_t (*)[32])record_id(r[0]), 1,
	    (const uint8_t *)"\xc1", 1);
	/* A header whose body was erased. */
	tmp = mk(ka, T(400), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "erased", NULL);
	sh = record_signed(tmp, &len);
	assert_int_equal(record_decode(sh, len, NULL, 0, &r[3]), 0);
	record_free(tmp);
	/* Clear personal fields (version 1's "p"): no version 2 writer's. */
	b = tu_body(&len, "title", "clear", "*name", "Ann", NULL);
	r[4] = tu_record(kb, NULL, 600, T(500), KITH_KIND_VOLUNTEER, ENT,
	    (const uint8_t (*)[32])record_id(r[0]), 1, b, len);
	free(b);
	s = compute(r, 5);
	assert_true(state_kind(s) == KITH_KIND_VOLUNTEER);
	assert_field(s, "title", "a");
	assert_null(state_get(s, "name"));
	assert_int_equal(state_nfields(s), 2);	/* readers, title */
	assert_true(state_nversions(s) == 4);	/* not the other kind's */
	assert_true(state_updated(s) == T(500));
	assert_int_equal(state_nheads(s), 3);
	state_free(s);
	free_all(r, 5);
}

/*
 * Erasure with no roster (no admins): only the creator's erase record
 * counts.  A member that wrote a parentless record into the entity is no
 * creator, and a backdated erase placed first blocks nothing.
 */
static void
test_erase(void **state)
{
	struct record *r[5];
	struct state *s;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_REQUEST, "status", "open", NULL);
	r[1] = mk(kb, T(50), KITH_KIND_REQUEST, NULL, NULL,
	    "area", "TW3", NULL);
	r[2] = mk(kb, T(300), KITH_KIND_ERASE, NULL, NULL, "reason", "x",
	    NULL);
	s = compute(r, 3);
	assert_null(state_get(s, "erased"));
	assert_field(s, "status", "open");
	state_free(s);
	/* A backdated erase by the creator, then the real one: erased. */
	r[3] = mk(ka, 1, KITH_KIND_ERASE, NULL, NULL, "reason", "early",
	    NULL);
	r[4] = mk(ka, T(400), KITH_KIND_ERASE, r[0], NULL, "reason", "asked",
	    NULL);
	s = compute(r, 5);
	assert_non_null(state_get(s, "erased"));
	assert_int_equal(state_nfields(s), 1);
	assert_true(state_kind(s) == KITH_KIND_REQUEST);
	state_free(s);
	/* The may-erase rule kith uses agrees. */
	s = compute(r, 1);
	assert_true(state_may_erase(s, NULL, kcrypto_key_public(ka)));
	assert_false(state_may_erase(s, NULL, kcrypto_key_public(kb)));
	state_free(s);
	free_all(r, 5);
}

/* A body of public pairs and personal fields sealed to ${n} keys. */
static uint8_t *
sealed_body(const uint8_t *entity, struct kcrypto_key *const *to, size_t n,
    const char *share, const char *phone, size_t *len)
{
	uint8_t rcpt[4][32], sk[32], *out;
	struct body *b;
	char hex[2 * KITH_KEY_LEN + 1];
	size_t i;

	assert_non_null(b = body_new());
	if (share != NULL)
		assert_int_equal(body_set_str(b, "share", 0, share), 0);
	assert_int_equal(body_set_str(b, "phone", 1, phone), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(kcrypto_key_x25519(to[i], rcpt[i], sk), 0);
		kcrypto_wipe(sk, sizeof(sk));
	}
	assert_int_equal(body_seal(b, entity, (const uint8_t (*)[32])rcpt, n),
	    0);
	assert_int_equal(body_encode(b, &out, len), 0);
	body_free(b);
	(void)hex;
	return out;
}

/* A record of the current entity with a sealed section. */
static struct record *
mk_sealed(const struct kcrypto_key *by, uint64_t hlc,
    const struct record *parent, struct kcrypto_key *const *to, size_t n,
    const char *share, const char *phone)
{
	struct record *r;
	uint8_t *b;
	size_t len;

	b = sealed_body(ENT, to, n, share, phone, &len);
	r = tu_record(by, NULL, ++seq, hlc, KITH_KIND_REQUEST, ENT,
	    (const uint8_t (*)[32])record_id(parent), 1, b, len);
	free(b);
	return r;
}

/* The record id the state names as the current sealed section. */
static int
sealed_is(const struct state *s, const struct record *r)
{
	char hex[2 * KITH_ID_LEN + 1], *got = state_str(s, "sealed");
	int yes;

	kith_hex(hex, record_id(r), KITH_ID_LEN);
	yes = got != NULL && strcmp(got, hex) == 0;
	free(got);
	return yes;
}

/*
 * Who a sealed section is sealed to comes from entitlement: the creator,
 * and whom a reader shares with.  A member that is not a reader, or a
 * reader sealing to a stranger, never makes the section current, so the
 * owner's next edit never re-seals to them.
 */
static void
test_entitlement(void **state)
{
	struct kcrypto_key *owner_and_c[2] = { ka, kc }, *owner[1] = { ka };
	struct kcrypto_key *owner_and_b[2] = { ka, kb };
	struct record *r[5];
	struct state *s;
	char hb[2 * KITH_KEY_LEN + 1], *readers;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_REQUEST, "status", "open", NULL);
	r[1] = mk_sealed(ka, T(200), r[0], owner, 1, NULL, "0001");
	s = compute(r, 2);
	assert_true(sealed_is(s, r[1]));
	state_free(s);
	/* A non-reader seals to {owner, itself}, the head as its parent. */
	r[2] = mk_sealed(kc, T(300), r[1], owner_and_c, 2, NULL, "0666");
	s = compute(r, 3);
	assert_true(sealed_is(s, r[1]));
	assert_int_equal(state_nconflicts(s), 0);
	state_free(s);
	/* A reader (the owner) sealing to a stranger: not applied either. */
	r[3] = mk_sealed(ka, T(400), r[2], owner_and_c, 2, NULL, "0002");
	s = compute(r, 4);
	assert_true(sealed_is(s, r[1]));
	state_free(s);
	/* The owner shares with b: b is a reader, the section applies. */
	kith_hex(hb, kcrypto_key_public(kb), KITH_KEY_LEN);
	r[4] = mk_sealed(ka, T(500), r[3], owner_and_b, 2, hb, "0003");
	s = compute(r, 5);
	assert_true(sealed_is(s, r[4]));
	readers = state_str(s, "readers");
	assert_non_null(readers);
	assert_non_null(strstr(readers, hb));
	assert_int_equal(strlen(readers), 2 * (2 * KITH_KEY_LEN) + 1);
	free(readers);
	assert_null(state_get(s, "share"));
	state_free(s);
	free_all(r, 5);
	/* A share by a non-reader entitles no one. */
	r[0] = g(ka, T(100), KITH_KIND_REQUEST, "status", "open", NULL);
	kith_hex(hb, kcrypto_key_public(kc), KITH_KEY_LEN);
	r[1] = mk_sealed(kb, T(200), r[0], owner_and_c, 2, hb, "0666");
	s = compute(r, 2);
	readers = state_str(s, "readers");
	assert_null(strstr(readers, hb));
	free(readers);
	assert_null(state_get(s, "sealed"));
	state_free(s);
	free_all(r, 2);
}

/*
 * What a field costs is its writes, not the history times the field
 * names: a thousand records with 64 names each, in one entity.  The
 * timing is make bench's; here, that the merge is right.
 */
static void
test_many_names(void **state)
{
	enum { N = 1000 };
	struct record **r;
	struct body *b;
	struct state *s;
	uint8_t *enc;
	char name[16], val[16];
	size_t i, k, len;

	(void)state;
	assert_non_null(r = calloc(N, sizeof(*r)));
	r[0] = g(ka, T(0), KITH_KIND_VOLUNTEER, NULL);
	for (i = 1; i < N; i++) {
		assert_non_null(b = body_new());
		for (k = 0; k < KITH_FIELDS_MAX; k++) {
			snprintf(name, sizeof(name), "f%zu", (i * 64 + k) %
			    5000);
			snprintf(val, sizeof(val), "v%zu", i);
			assert_int_equal(body_set_str(b, name, 0, val), 0);
		}
		assert_int_equal(body_encode(b, &enc, &len), 0);
		body_free(b);
		r[i] = tu_record(kb, NULL, ++seq, T(i), KITH_KIND_VOLUNTEER,
		    ENT, (const uint8_t (*)[32])record_id(r[i - 1]), 1, enc,
		    len);
		free(enc);
	}
	s = compute(r, N);
	assert_true(state_nversions(s) == N);
	assert_int_equal(state_nconflicts(s), 0);
	/* Each name's last writer wins: f0 was last written by record 937. */
	assert_field(s, "f0", "v937");
	state_free(s);
	free_all(r, N);
	free(r);
}

/*
 * The incremental merge agrees with the whole: records taken one at a time
 * through state_add give the bytes state_compute gives over all of them,
 * whatever their parents; a record that is no new tip, or that shares or
 * moves a status, falls back to the whole merge; evidence changes nothing.
 */
static void
test_incremental(void **state)
{
	enum { N = 60 };
	struct record *r[N + 2];
	struct state *whole, *inc;
	uint8_t *cache = NULL, *nc;
	const uint8_t *p, *q;
	size_t clen = 0, ncl, n, len, qlen, fast = 0, slow = 0;
	uint64_t rng = 77;
	int rc;

	(void)state;
	r[0] = g(ka, T(0), KITH_KIND_REQUEST, "status", "open", NULL);
	assert_int_equal(state_compute_cached(r, 1, NULL, &whole, &cache,
	    &clen), 0);
	assert_non_null(cache);
	state_free(whole);
	for (n = 1; n < N; n++) {
		const struct record *p1 = r[tu_rng(&rng) % n];
		const struct record *p2 = tu_rng(&rng) % 3 ? NULL :
		    r[tu_rng(&rng) % n];
		char v[8];

		snprintf(v, sizeof(v), "v%zu", n);
		switch (tu_rng(&rng) % 6) {
		case 0:
			r[n] = mk(kb, T(n), KITH_KIND_REQUEST, p1, p2,
			    "status", "claimed", NULL);
			break;
		case 1:	/* backdated, and concurrent */
			r[n] = mk(kc, T(n) - 50, KITH_KIND_REQUEST, p1, NULL,
			    "area", v, NULL);
			break;
		case 2:	/* evidence: another kind */
			r[n] = mk(kc, T(n), KITH_KIND_VOLUNTEER, p1, NULL,
			    "area", v, NULL);
			break;
		default:
			r[n] = mk(n % 2 ? ka : kb, T(n), KITH_KIND_REQUEST, p1,
			    p2, "area", v, "notes", v, NULL);
			break;
		}
		rc = state_add(cache, clen, r[n], NULL, &inc, &nc, &ncl);
		assert_int_equal(state_compute_cached(r, n + 1, NULL, &whole,
		    NULL, NULL), 0);
		p = state_encoded(whole, &len);
		if (rc == 0) {
			q = state_encoded(inc, &qlen);
			assert_int_equal(qlen, len);
			assert_memory_equal(p, q, len);
			state_free(inc);
			free(cache);
			cache = nc;
			clen = ncl;
			fast++;
		} else {
			assert_true(rc == 1 || rc == 2);
			if (rc == 1)
				assert_int_equal(record_header(r[n])->kind,
				    KITH_KIND_VOLUNTEER);
			free(cache);
			state_free(whole);
			assert_int_equal(state_compute_cached(r, n + 1, NULL,
			    &whole, &cache, &clen), 0);
			slow++;
		}
		state_free(whole);
	}
	assert_true(fast > N / 3);
	assert_true(slow > 0);
	/* A child before its parent: the parent is no tip when it comes. */
	r[N] = mk(ka, T(N + 1), KITH_KIND_REQUEST, r[N - 1], NULL,
	    "area", "P", NULL);
	r[N + 1] = mk(ka, T(N + 2), KITH_KIND_REQUEST, r[N], NULL,
	    "area", "C", NULL);
	assert_int_equal(state_add(cache, clen, r[N + 1], NULL, &inc, &nc,
	    &ncl), 0);
	state_free(inc);
	free(cache);
	cache = NULL;
	assert_int_equal(state_add(nc, ncl, r[N], NULL, &inc, &cache, &clen),
	    2);
	assert_null(cache);
	free(nc);
	/* A cache that does not parse: the whole merge. */
	assert_int_equal(state_add((const uint8_t *)"\x91", 1, r[N], NULL,
	    &inc, &nc, &ncl), 2);
	free_all(r, N + 2);
}

/* Encode ${s}, decode it, and check the copy says the same. */
static void
check_decode_roundtrip(const struct state *s)
{
	struct state *d = NULL;
	const uint8_t *p, *q;
	size_t len, len2, i, k;

	p = state_encoded(s, &len);
	assert_int_equal(state_decode(p, len, &d), 0);
	q = state_encoded(d, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(q, p, len);
	assert_true(q != p);
	assert_memory_equal(state_entity(d), state_entity(s), 16);
	assert_true(state_kind(d) == state_kind(s));
	assert_true(state_created(d) == state_created(s));
	assert_true(state_updated(d) == state_updated(s));
	assert_true(state_nversions(d) == state_nversions(s));
	assert_memory_equal(state_creator(d), state_creator(s), 32);
	assert_int_equal(state_nheads(d), state_nheads(s));
	for (i = 0; i < state_nheads(s); i++)
		assert_memory_equal(state_head(d, i), state_head(s, i), 32);
	assert_int_equal(state_nfields(d), state_nfields(s));
	for (i = 0; i < state_nfields(s); i++) {
		const struct state_field *a = state_field(s, i);
		const struct state_field *b = state_field(d, i);

		assert_string_equal(a->name, b->name);
		assert_int_equal(a->personal, b->personal);
		assert_int_equal(codec_value_cmp(&a->value, &b->value), 0);
		assert_int_equal(a->nalts, b->nalts);
		for (k = 0; k < a->nalts; k++)
			assert_int_equal(codec_value_cmp(&a->alts[k],
			    &b->alts[k]), 0);
	}
	assert_int_equal(state_nconflicts(d), state_nconflicts(s));
	state_free(d);
}

/* Heap's algorithm over ${n} <= 8 indexes. */
static int
next_perm(size_t *a, size_t *c, size_t n, size_t *i)
{
	size_t t;

	while (*i < n) {
		if (c[*i] < *i) {
			if (*i % 2 == 0) {
				t = a[0]; a[0] = a[*i]; a[*i] = t;
			} else {
				t = a[c[*i]]; a[c[*i]] = a[*i]; a[*i] = t;
			}
			c[*i]++;
			*i = 0;
			return 1;
		}
		c[*i] = 0;
		(*i)++;
	}
	return 0;
}

static void
test_permutations(void **state)
{
	enum { N = 5 };
	struct record *r[N], *perm[N];
	struct state *s, *ref;
	const uint8_t *p, *q;
	size_t a[N], c[N], i, len, rlen, count = 0;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_REQUEST,
	    "status", "open", "title", "t0", "zone", "z0", NULL);
	r[1] = mk(ka, T(200), KITH_KIND_REQUEST, r[0], NULL,
	    "title", "t1", "status", "claimed", NULL);
	r[2] = mk(kb, T(200), KITH_KIND_REQUEST, r[0], NULL,
	    "title", "t2", "zone", "z2", NULL);
	r[3] = mk(kc, T(300), KITH_KIND_REQUEST, r[1], NULL,
	    "zone", "z3", "status", "open", NULL);
	r[4] = mk(kb, T(250), KITH_KIND_REQUEST, r[2], NULL,
	    "title", "t4", "note", "n4", NULL);
	ref = compute(r, N);
	p = state_encoded(ref, &rlen);
	/* The set is interesting: it has conflicts and several heads. */
	assert_true(state_nconflicts(ref) >= 2);
	assert_int_equal(state_nheads(ref), 2);
	assert_field(ref, "status", "claimed");
	assert_field(ref, "title", "t4");
	assert_true(has_alt(ref, "title", "t1"));
	assert_field(ref, "zone", "z3");
	assert_true(has_alt(ref, "zone", "z2"));
	for (i = 0; i < N; i++) {
		a[i] = i;
		c[i] = 0;
	}
	i = 0;
	do {
		size_t k;

		for (k = 0; k < N; k++)
			perm[k] = r[a[k]];
		s = compute(perm, N);
		q = state_encoded(s, &len);
		assert_int_equal(len, rlen);
		assert_memory_equal(q, p, len);
		state_free(s);
		count++;
	} while (next_perm(a, c, N, &i));
	assert_int_equal(count, 120);
	check_decode_roundtrip(ref);
	/* A different set gives different bytes. */
	s = compute(r, N - 1);
	q = state_encoded(s, &len);
	assert_false(len == rlen && memcmp(p, q, len) == 0);
	state_free(s);
	state_free(ref);
	free_all(r, N);
}

static void
test_decode_negative(void **state)
{
	struct record *r[3];
	struct state *s, *d;
	const uint8_t *p;
	uint8_t *copy;
	size_t len, cut;

	(void)state;
	r[0] = g(ka, T(100), KITH_KIND_VOLUNTEER, "title", "a", NULL);
	r[1] = mk(ka, T(200), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "x", "count", "3", NULL);
	r[2] = mk(kb, T(300), KITH_KIND_VOLUNTEER, r[0], NULL,
	    "title", "y", NULL);
	s = compute(r, 3);
	check_decode_roundtrip(s);
	p = state_encoded(s, &len);
	assert_non_null(copy = malloc(len + 1));
	for (cut = 0; cut < len; cut++) {
		memcpy(copy, p, cut);
		d = NULL;
		assert_int_equal(state_decode(copy, cut, &d), KITH_ETRUNC);
		assert_null(d);
	}
	memcpy(copy, p, len);
	copy[len] = 0xc0;
	d = NULL;
	assert_int_equal(state_decode(copy, len + 1, &d), KITH_ETRAILING);
	assert_null(d);
	/* Seven items instead of eight. */
	assert_int_equal(copy[0], 0x98);
	copy[0] = 0x97;
	assert_int_equal(state_decode(copy, len, &d), KITH_ETYPE);
	copy[0] = 0x98;
	/* The entity id as a 16-byte str. */
	copy[1] = 0xb0;
	assert_int_equal(state_decode(copy, len, &d), KITH_ETYPE);
	free(copy);
	state_free(s);
	free_all(r, 3);
}

/* Hand-built encodings that break one rule each. */
static void
put_prefix(struct codec_writer *w, uint32_t nheads)
{
	uint8_t id[32];
	uint32_t i;

	memset(id, 0x42, sizeof(id));
	codec_put_array(w, 8);
	codec_put_bin(w, ENT, 16);
	codec_put_uint(w, KITH_KIND_VOLUNTEER);
	codec_put_uint(w, 5);
	codec_put_bin(w, id, 32);
	codec_put_uint(w, 6);
	codec_put_uint(w, 1);
	codec_put_array(w, nheads);
	for (i = 0; i < nheads; i++)
		codec_put_bin(w, id, 32);
}

static void
put_entry(struct codec_writer *w, const char *name, int n)
{

	codec_put_array(w, (uint32_t)n);
	codec_put_cstr(w, name);
	codec_put_bool(w, 0);
	codec_put_cstr(w, "v");
	if (n > 3) {
		codec_put_array(w, 1);
		codec_put_cstr(w, "alt");
	}
}

static int
decode_w(struct codec_writer *w)
{
	struct state *d = NULL;
	const uint8_t *p;
	size_t len;
	int rc;

	p = codec_writer_data(w, &len);
	rc = state_decode(p, len, &d);
	if (rc == 0) {
		assert_non_null(d);
		assert_int_equal(state_nconflicts(d), state_nfields(d));
	}
	state_free(d);
	codec_writer_reset(w);
	return rc;
}

static void
test_decode_handmade(void **state)
{
	struct codec_writer *w = codec_writer_new();
	uint8_t id32[32];

	(void)state;
	assert_non_null(w);
	memset(id32, 0, sizeof(id32));
	/* Well formed. */
	put_prefix(w, 1);
	codec_put_array(w, 2);
	put_entry(w, "a", 4);
	put_entry(w, "b", 4);
	assert_int_equal(decode_w(w), 0);
	/* Names out of order, or twice. */
	put_prefix(w, 1);
	codec_put_array(w, 2);
	put_entry(w, "b", 4);
	put_entry(w, "a", 4);
	assert_int_equal(decode_w(w), KITH_ENONCANON);
	put_prefix(w, 1);
	codec_put_array(w, 2);
	put_entry(w, "a", 4);
	put_entry(w, "a", 4);
	assert_int_equal(decode_w(w), KITH_ENONCANON);
	/* A bad name; an entry of three items. */
	put_prefix(w, 1);
	codec_put_array(w, 1);
	put_entry(w, "A", 4);
	assert_int_equal(decode_w(w), KITH_ETYPE);
	put_prefix(w, 1);
	codec_put_array(w, 1);
	put_entry(w, "a", 3);
	assert_int_equal(decode_w(w), KITH_ETYPE);
	/* A head of 31 bytes; a creator of 31 bytes. */
	put_prefix(w, 0);
	codec_writer_reset(w);
	codec_put_array(w, 8);
	codec_put_bin(w, ENT, 16);
	codec_put_uint(w, 1);
	codec_put_uint(w, 5);
	codec_put_bin(w, id32, 32);
	codec_put_uint(w, 6);
	codec_put_uint(w, 1);
	codec_put_array(w, 1);
	codec_put_bin(w, id32, 31);
	codec_put_array(w, 0);
	assert_int_equal(decode_w(w), KITH_ETYPE);
	codec_put_array(w, 8);
	codec_put_bin(w, ENT, 16);
	codec_put_uint(w, 1);
	codec_put_uint(w, 5);
	codec_put_bin(w, id32, 31);
	codec_put_uint(w, 6);
	codec_put_uint(w, 1);
	codec_put_array(w, 0);
	codec_put_array(w, 0);
	assert_int_equal(decode_w(w), KITH_ETYPE);
	/* The same, right: decodes. */
	codec_put_array(w, 8);
	codec_put_bin(w, ENT, 16);
	codec_put_uint(w, 1);
	codec_put_uint(w, 5);
	codec_put_bin(w, id32, 32);
	codec_put_uint(w, 6);
	codec_put_uint(w, 1);
	codec_put_array(w, 1);
	codec_put_bin(w, id32, 32);
	codec_put_array(w, 0);
	assert_int_equal(decode_w(w), 0);
	/* More alternatives declared than bytes to hold them. */
	put_prefix(w, 0);
	codec_put_array(w, 1);
	codec_put_array(w, 4);
	codec_put_cstr(w, "a");
	codec_put_bool(w, 0);
	codec_put_nil(w);
	codec_put_raw(w, "\xdd\x7f\xff\xff\xff", 5);
	assert_int_equal(decode_w(w), KITH_ETRUNC);
	codec_writer_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_genesis_first),
		cmocka_unit_test(test_kind_hijack),
		cmocka_unit_test(test_two_geneses),
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_nil_clears),
		cmocka_unit_test(test_conflict),
		cmocka_unit_test(test_conflict_tiebreak),
		cmocka_unit_test(test_concurrent_same_value),
		cmocka_unit_test(test_status_forward_only),
		cmocka_unit_test(test_status_rounds),
		cmocka_unit_test(test_referral_authority),
		cmocka_unit_test(test_status_rank),
		cmocka_unit_test(test_fulfilled_vs_cancelled),
		cmocka_unit_test(test_ignored),
		cmocka_unit_test(test_erase),
		cmocka_unit_test(test_entitlement),
		cmocka_unit_test(test_many_names),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_permutations),
		cmocka_unit_test(test_decode_negative),
		cmocka_unit_test(test_decode_handmade),
	};

	return tu_run(tests, setup, teardown);
}
