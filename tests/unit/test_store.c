/*
 * The LMDB store: batch apply, dedup, rejection, forks, lookups, local
 * writes, digest, verification, concurrent handles and a full map.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "body.h"
#include "codec.h"
#include "hlc.h"
#include "kcrypto.h"
#include "kith.h"
#include "negentropy.h"
#include "record.h"
#include "roster.h"
#include "state.h"
#include "store.h"
#include "testutil.h"

/*
 * Three entities per test.  The first record req writes into one with no
 * parents is its genesis, and the entity's id becomes the one derived.
 */
static uint8_t E1[KITH_ENTITY_LEN], E2[KITH_ENTITY_LEN], E3[KITH_ENTITY_LEN];
static uint8_t *const ents[3] = { E1, E2, E3 };
static int born[3];

static void
reset_entities(void)
{

	for (int i = 0; i < 3; i++) {
		memset(ents[i], 0x11 * (i + 1), KITH_ENTITY_LEN);
		born[i] = 0;
	}
}

struct fixture {
	char dir[256];
	struct kcrypto_key *admin, *a, *b;
	uint8_t net[KITH_NETWORK_LEN];
	struct store *st;
	uint64_t t0;		/* a base clock an hour ago */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tu_tmpdir(f->dir, sizeof(f->dir));
	f->admin = tu_key(1);
	f->a = tu_key(2);
	f->b = tu_key(3);
	f->st = tu_store(f->dir, f->admin, f->net);
	/* a and b are members: two records, two entities, beside the charter. */
	tu_admit(f->st, f->admin, f->a, "member");
	tu_admit(f->st, f->admin, f->b, "member");
	f->t0 = HLC_MAKE(hlc_wall_ms() - 3600000, 0);
	reset_entities();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	tu_rmrf(f->dir);
	kcrypto_key_free(f->admin);
	kcrypto_key_free(f->a);
	kcrypto_key_free(f->b);
	free(f);
	return 0;
}

/* A request record with one public field. */
static struct record *
req(struct fixture *f, const struct kcrypto_key *k, uint64_t seq,
    uint64_t dt, const uint8_t *ent, const uint8_t (*parents)[32],
    unsigned np, const char *field, const char *value)
{
	uint8_t *b, nonce[KITH_NONCE_LEN];
	struct record *r;
	size_t blen;
	int i;

	for (i = 0; i < 3 && ent != ents[i]; i++)
		;
	b = tu_body(&blen, field, value, NULL);
	if (i < 3 && !born[i] && np == 0) {
		memset(nonce, 0x30 + i, sizeof(nonce));
		tu_nonce = nonce;
	}
	r = tu_record(k, f->net, seq, f->t0 + dt, KITH_KIND_REQUEST, ent,
	    parents, np, b, blen);
	if (tu_nonce != NULL) {
		memcpy(ents[i], record_header(r)->entity, KITH_ENTITY_LEN);
		born[i] = 1;
		tu_nonce = NULL;
	}
	free(b);
	return r;
}

static void
free_all(struct record **r, size_t n)
{

	for (size_t i = 0; i < n; i++)
		record_free(r[i]);
}

/* Rejections seen by the reject callback. */
struct rejects {
	int rc[16];
	size_t n;
};

static void
on_reject(void *arg, const struct record *rec, int rc)
{
	struct rejects *r = arg;

	(void)rec;
	if (r->n < 16)
		r->rc[r->n++] = rc;
}

static void
test_open_missing(void **state)
{
	char dir[300];
	int rc = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "/nonexistent-kith-%d/store", getpid());
	assert_null(store_open(dir, 0, 0, &rc));
	assert_int_equal(rc, KITH_ENOTFOUND);
}

static void
test_apply_and_dedup(void **state)
{
	struct fixture *f = *state;
	struct record *r[3], *got;
	struct store_result res;
	const uint8_t *p1, *p2;
	size_t l1, l2;

	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	r[1] = req(f, f->a, 2, 2, E2, NULL, 0, "category", "advice");
	r[2] = req(f, f->b, 1, 3, E3, NULL, 0, "category", "other");
	assert_int_equal(store_apply(f->st, r, 3, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 3);
	assert_int_equal(res.duplicate, 0);
	assert_int_equal(res.rejected, 0);
	/* Again: every record is a duplicate, nothing is added. */
	assert_int_equal(store_apply(f->st, r, 3, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 0);
	assert_int_equal(res.duplicate, 3);
	/* A batch holding the same record twice adds it once. */
	{
		struct record *twice[2];

		twice[0] = req(f, f->b, 2, 4, E3, NULL, 0, "area", "TW3");
		twice[1] = twice[0];
		assert_int_equal(store_apply(f->st, twice, 2, &res, NULL,
		    NULL), 0);
		assert_int_equal(res.added, 1);
		assert_int_equal(res.duplicate, 1);
		record_free(twice[0]);
	}
	/* Lookup by id gives back the exact bytes and body. */
	assert_int_equal(store_get(f->st, record_id(r[1]), &got), 0);
	p1 = record_signed(r[1], &l1);
	p2 = record_signed(got, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(p1, p2, l1);
	p1 = record_body(r[1], &l1);
	p2 = record_body(got, &l2);
	assert_non_null(p2);
	assert_int_equal(l1, l2);
	assert_memory_equal(p1, p2, l1);
	record_free(got);
	/* An empty batch commits nothing. */
	assert_int_equal(store_apply(f->st, r, 0, &res, NULL, NULL), 0);
	assert_int_equal(res.added + res.duplicate + res.rejected, 0);
	/* A record whose body was not carried is kept as a bare header. */
	{
		struct record *full, *bare;

		full = req(f, f->b, 3, 5, E2, NULL, 0, "area", "N17");
		p1 = record_signed(full, &l1);
		assert_int_equal(record_decode(p1, l1, NULL, 0, &bare), 0);
		assert_int_equal(store_apply(f->st, &bare, 1, &res, NULL,
		    NULL), 0);
		assert_int_equal(res.added, 1);
		assert_int_equal(store_get(f->st, record_id(full), &got), 0);
		assert_null(record_body(got, &l2));
		p2 = record_signed(got, &l2);
		assert_int_equal(l1, l2);
		assert_memory_equal(p1, p2, l1);
		record_free(got);
		/* The same id with its body is still the same record. */
		assert_int_equal(store_apply(f->st, &full, 1, &res, NULL,
		    NULL), 0);
		assert_int_equal(res.added, 0);
		assert_int_equal(res.duplicate, 1);
		record_free(bare);
		record_free(full);
	}
	/* An unknown id is not found. */
	{
		uint8_t id[KITH_ID_LEN];

		memset(id, 0x5a, sizeof(id));
		assert_int_equal(store_get(f->st, id, &got), KITH_ENOTFOUND);
	}
	free_all(r, 3);
}

static void
test_apply_rejects(void **state)
{
	struct fixture *f = *state;
	struct record *r[5], *forged;
	struct store_result res;
	struct rejects rj = { { 0 }, 0 };
	uint8_t other[KITH_NETWORK_LEN], *sh;
	const uint8_t *p, *body;
	size_t len, blen;
	int seen[3] = { 0, 0, 0 };

	memset(other, 0x77, sizeof(other));
	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	/* A forged signature: one byte of the signature flipped. */
	forged = req(f, f->a, 2, 2, E1, NULL, 0, "urgency", "3");
	p = record_signed(forged, &len);
	body = record_body(forged, &blen);
	sh = malloc(len);
	memcpy(sh, p, len);
	sh[len - 5] ^= 0x01;
	assert_int_equal(record_decode(sh, len, body, blen, &r[1]), 0);
	free(sh);
	/* A tampered body cannot even be made into a record. */
	{
		uint8_t *tb = malloc(blen);
		struct record *bad = NULL;

		memcpy(tb, body, blen);
		tb[blen - 1] ^= 0x01;
		p = record_signed(forged, &len);
		assert_int_equal(record_decode(p, len, tb, blen, &bad),
		    KITH_EBODYHASH);
		assert_null(bad);
		free(tb);
	}
	record_free(forged);
	/* Another network's record. */
	{
		uint8_t *b;

		b = tu_body(&blen, "category", "food", NULL);
		r[2] = tu_record(f->b, other, 1, f->t0 + 3, KITH_KIND_REQUEST,
		    E2, NULL, 0, b, blen);
		free(b);
	}
	/* A timestamp 20 minutes ahead of this clock. */
	{
		uint8_t *b;

		b = tu_body(&blen, "category", "food", NULL);
		r[3] = tu_record(f->b, f->net, 2,
		    HLC_MAKE(hlc_wall_ms() + 20 * 60000, 0),
		    KITH_KIND_REQUEST, E3, NULL, 0, b, blen);
		free(b);
	}
	r[4] = req(f, f->b, 3, 5, E3, NULL, 0, "category", "advice");
	assert_int_equal(store_apply(f->st, r, 5, &res, on_reject, &rj), 0);
	assert_int_equal(res.added, 2);
	assert_int_equal(res.rejected, 3);
	assert_int_equal(rj.n, 3);
	for (size_t i = 0; i < rj.n; i++) {
		seen[0] |= rj.rc[i] == KITH_EBADSIG;
		seen[1] |= rj.rc[i] == KITH_ENETWORK;
		seen[2] |= rj.rc[i] == KITH_EFUTURE;
	}
	assert_true(seen[0] && seen[1] && seen[2]);
	/* None of the rejected is held. */
	for (size_t i = 1; i < 4; i++) {
		struct record *got;

		assert_int_equal(store_get(f->st, record_id(r[i]), &got),
		    KITH_ENOTFOUND);
	}
	free_all(r, 5);
}

/*
 * Records checked by the caller: its results decide the signatures, the
 * store still does every other check, and duplicates are still skipped.
 */
static void
test_apply_verified(void **state)
{
	struct fixture *f = *state;
	struct record *r[4], *got;
	struct store_result res;
	uint8_t other[KITH_NETWORK_LEN];
	int verified[4] = { 0, KITH_EBADSIG, 0, 0 };

	memset(other, 0x77, sizeof(other));
	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	r[1] = req(f, f->a, 2, 2, E2, NULL, 0, "category", "advice");
	{
		uint8_t *b;
		size_t blen;

		b = tu_body(&blen, "category", "food", NULL);
		/* Another network: refused whatever the caller says. */
		r[2] = tu_record(f->b, other, 1, f->t0 + 3, KITH_KIND_REQUEST,
		    E3, NULL, 0, b, blen);
		free(b);
	}
	r[3] = req(f, f->b, 2, 4, E3, NULL, 0, "category", "other");
	assert_int_equal(store_apply_verified(f->st, r, 4, verified, &res), 0);
	assert_int_equal(res.added, 2);
	assert_int_equal(res.rejected, 2);
	/* Each record's outcome comes back in place of its verify result. */
	assert_int_equal(verified[0], 0);
	assert_int_equal(verified[1], KITH_EBADSIG);
	assert_int_equal(verified[2], KITH_ENETWORK);
	assert_int_equal(verified[3], 0);
	assert_int_equal(store_get(f->st, record_id(r[0]), &got), 0);
	record_free(got);
	assert_int_equal(store_get(f->st, record_id(r[1]), &got),
	    KITH_ENOTFOUND);
	assert_int_equal(store_get(f->st, record_id(r[2]), &got),
	    KITH_ENOTFOUND);
	/* Again: held records are duplicates before any result is read. */
	verified[0] = KITH_EBADSIG;
	assert_int_equal(store_apply_verified(f->st, r, 1, verified, &res), 0);
	assert_int_equal(res.duplicate, 1);
	assert_int_equal(verified[0], KITH_EEXIST);
	assert_int_equal(res.rejected, 0);
	free_all(r, 4);
}

static int
count_rec(void *arg, const struct record *rec)
{
	(void)rec;
	(*(size_t *)arg)++;
	return 0;
}

static void
test_fork(void **state)
{
	struct fixture *f = *state;
	struct record *r[3], *got;
	struct store_result res;
	struct store_stats ss;
	size_t n = 0;

	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	r[1] = req(f, f->a, 2, 2, E1, NULL, 0, "urgency", "1");
	assert_int_equal(store_apply(f->st, r, 2, &res, NULL, NULL), 0);
	assert_int_equal(res.forks, 0);
	assert_int_equal(store_author_forked(f->st, kcrypto_key_public(f->a)),
	    0);
	/* Same author and sequence number, different content: a fork. */
	r[2] = req(f, f->a, 2, 3, E2, NULL, 0, "urgency", "3");
	assert_int_equal(store_apply(f->st, &r[2], 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(res.forks, 1);
	/* Both are kept. */
	assert_int_equal(store_get(f->st, record_id(r[1]), &got), 0);
	record_free(got);
	assert_int_equal(store_get(f->st, record_id(r[2]), &got), 0);
	record_free(got);
	assert_int_equal(store_by_author(f->st, kcrypto_key_public(f->a), 2,
	    count_rec, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_author_forked(f->st, kcrypto_key_public(f->a)),
	    1);
	assert_int_equal(store_author_forked(f->st, kcrypto_key_public(f->b)),
	    0);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.forks, 1);
	/* The fork again is a duplicate, not a second fork. */
	assert_int_equal(store_apply(f->st, &r[2], 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 0);
	assert_int_equal(res.duplicate, 1);
	assert_int_equal(res.forks, 0);
	/* A third record under the same number: both authors still count 1. */
	{
		struct record *third = req(f, f->a, 2, 4, E3, NULL, 0,
		    "urgency", "2");

		assert_int_equal(store_apply(f->st, &third, 1, &res, NULL,
		    NULL), 0);
		assert_int_equal(res.forks, 1);
		n = 0;
		assert_int_equal(store_by_author(f->st,
		    kcrypto_key_public(f->a), 2, count_rec, &n), 0);
		assert_int_equal(n, 3);
		assert_int_equal(store_stats(f->st, &ss), 0);
		assert_int_equal(ss.forks, 1);
		record_free(third);
	}
	/* No record under an unused sequence number. */
	n = 0;
	assert_int_equal(store_by_author(f->st, kcrypto_key_public(f->a), 9,
	    count_rec, &n), KITH_ENOTFOUND);
	assert_int_equal(n, 0);
	free_all(r, 3);
}

/* Collect record ids seen by store_range. */
struct seen {
	uint8_t id[16][KITH_ID_LEN];
	size_t n;
};

static int
collect(void *arg, const struct record *rec)
{
	struct seen *s = arg;

	if (s->n < 16)
		memcpy(s->id[s->n++], record_id(rec), KITH_ID_LEN);
	return 0;
}

static int
collect_one(void *arg, const struct record *rec)
{

	collect(arg, rec);
	return 7;
}

static void
test_lookups(void **state)
{
	struct fixture *f = *state;
	struct record *r[4], **ver;
	struct store_result res;
	struct seen s = { .n = 0 };
	uint8_t parent[1][32];
	size_t n;

	r[0] = req(f, f->a, 1, 10, E1, NULL, 0, "category", "food");
	memcpy(parent[0], record_id(r[0]), 32);
	r[1] = req(f, f->a, 2, 20, E1, parent, 1, "urgency", "1");
	r[2] = req(f, f->b, 1, 30, E2, NULL, 0, "category", "advice");
	r[3] = req(f, f->b, 2, 40, E1, parent, 1, "area", "N17");
	/* Applied out of order. */
	assert_int_equal(store_apply(f->st, (struct record *[]){ r[3], r[1],
	    r[2], r[0] }, 4, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 4);
	/* By entity: versions in (hlc, id) order. */
	assert_int_equal(store_entity(f->st, E1, &ver, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(record_id(ver[0]), record_id(r[0]), 32);
	assert_memory_equal(record_id(ver[1]), record_id(r[1]), 32);
	assert_memory_equal(record_id(ver[2]), record_id(r[3]), 32);
	store_records_free(ver, n);
	{
		uint8_t none[KITH_ENTITY_LEN];

		memset(none, 0xee, sizeof(none));
		assert_int_equal(store_entity(f->st, none, &ver, &n),
		    KITH_ENOTFOUND);
	}
	/* By range: [lo, hi) in (hlc, id) order; lo inclusive, hi not. */
	assert_int_equal(store_range(f->st, f->t0 + 20, NULL, f->t0 + 40, NULL,
	    collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_memory_equal(s.id[0], record_id(r[1]), 32);
	assert_memory_equal(s.id[1], record_id(r[2]), 32);
	s.n = 0;
	assert_int_equal(store_range(f->st, f->t0 + 21, NULL, f->t0 + 41, NULL,
	    collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_memory_equal(s.id[0], record_id(r[2]), 32);
	assert_memory_equal(s.id[1], record_id(r[3]), 32);
	/* The exact key as an upper bound excludes that record. */
	s.n = 0;
	assert_int_equal(store_range(f->st, f->t0 + 10, record_id(r[0]),
	    f->t0 + 10, record_id(r[0]), collect, &s), 0);
	assert_int_equal(s.n, 0);
	/* The exact key as a lower bound includes that record. */
	s.n = 0;
	assert_int_equal(store_range(f->st, f->t0 + 20, record_id(r[1]),
	    f->t0 + 40, NULL, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_memory_equal(s.id[0], record_id(r[1]), 32);
	assert_memory_equal(s.id[1], record_id(r[2]), 32);
	/* Everything, and an upper bound below the lower: nothing. */
	s.n = 0;
	assert_int_equal(store_range(f->st, 0, NULL, UINT64_MAX, NULL,
	    collect, &s), 0);
	assert_int_equal(s.n, 5 + 2);	/* with the charter, members */
	s.n = 0;
	assert_int_equal(store_range(f->st, f->t0 + 40, NULL, f->t0 + 20,
	    NULL, collect, &s), 0);
	assert_int_equal(s.n, 0);
	/* A non-zero result from the callback stops the walk. */
	s.n = 0;
	assert_int_equal(store_range(f->st, 0, NULL, UINT64_MAX, NULL,
	    collect_one, &s), 7);
	assert_int_equal(s.n, 1);
	/* By author and sequence. */
	s.n = 0;
	assert_int_equal(store_by_author(f->st, kcrypto_key_public(f->b), 2,
	    collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.id[0], record_id(r[3]), 32);
	free_all(r, 4);
}

static void
test_state_merge(void **state)
{
	struct fixture *f = *state;
	struct record *r[4];
	struct store_result res;
	struct state *s;
	const struct state_field *sf;
	uint8_t p0[1][32], heads[2][32];

	r[0] = req(f, f->a, 1, 10, E1, NULL, 0, "urgency", "1");
	memcpy(p0[0], record_id(r[0]), 32);
	/* Two concurrent edits of one field: a visible conflict. */
	r[1] = req(f, f->a, 2, 20, E1, p0, 1, "urgency", "2");
	r[2] = req(f, f->b, 1, 30, E1, p0, 1, "urgency", "3");
	assert_int_equal(store_apply(f->st, r, 3, &res, NULL, NULL), 0);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_int_equal(state_nconflicts(s), 1);
	sf = state_get(s, "urgency");
	assert_non_null(sf);
	/* The later (hlc, author) write shows; the other stays visible. */
	assert_int_equal(sf->value.len, 1);
	assert_memory_equal(sf->value.s, "3", 1);
	assert_int_equal(sf->nalts, 1);
	assert_memory_equal(sf->alts[0].s, "2", 1);
	assert_int_equal(state_nheads(s), 2);
	state_free(s);
	/* A write whose parents cover both heads resolves it. */
	memcpy(heads[0], record_id(r[1]), 32);
	memcpy(heads[1], record_id(r[2]), 32);
	r[3] = req(f, f->a, 3, 40, E1, heads, 2, "urgency", "2");
	assert_int_equal(store_apply(f->st, &r[3], 1, &res, NULL, NULL), 0);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_int_equal(state_nconflicts(s), 0);
	assert_int_equal(state_nheads(s), 1);
	sf = state_get(s, "urgency");
	assert_memory_equal(sf->value.s, "2", 1);
	state_free(s);
	{
		uint8_t none[KITH_ENTITY_LEN] = { 0xab };

		assert_int_equal(store_state(f->st, none, &s), KITH_ENOTFOUND);
	}
	free_all(r, 4);
}

static int
count_state(void *arg, const struct state *s)
{
	(void)s;
	(*(size_t *)arg)++;
	return 0;
}

/*
 * An entity's kind is its genesis's.  A record of another kind stamped
 * earlier, arriving later, is evidence: the entity stays listed where it
 * was, and its state does not move.
 */
static void
test_kind_changes(void **state)
{
	struct fixture *f = *state;
	struct record *r[2];
	struct store_result res;
	struct store_stats ss;
	struct state *s;
	size_t nreq = 0, nvol = 0;
	uint8_t *b, before[KITH_HASH_LEN], after[KITH_HASH_LEN];
	size_t blen;

	r[0] = req(f, f->a, 1, 20, E1, NULL, 0, "category", "food");
	b = tu_body(&blen, "name", "Vol", NULL);
	r[1] = tu_record(f->b, f->net, 1, 1, KITH_KIND_VOLUNTEER, E1,
	    NULL, 0, b, blen);
	free(b);
	assert_int_equal(store_apply(f->st, &r[0], 1, &res, NULL, NULL), 0);
	assert_int_equal(store_states(f->st, KITH_KIND_REQUEST, count_state,
	    &nreq), 0);
	assert_int_equal(nreq, 1);
	assert_int_equal(store_digest(f->st, before), 0);
	assert_int_equal(store_apply(f->st, &r[1], 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(store_digest(f->st, after), 0);
	assert_memory_equal(before, after, KITH_HASH_LEN);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_int_equal(state_kind(s), KITH_KIND_REQUEST);
	assert_int_equal(state_nversions(s), 1);
	state_free(s);
	nreq = 0;
	assert_int_equal(store_states(f->st, KITH_KIND_REQUEST, count_state,
	    &nreq), 0);
	assert_int_equal(store_states(f->st, KITH_KIND_VOLUNTEER, count_state,
	    &nvol), 0);
	assert_int_equal(nreq, 1);
	assert_int_equal(nvol, 0);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.entities, 2 + 2);	/* with charter, members */
	assert_int_equal(ss.by_kind[0], 1);
	assert_int_equal(ss.by_kind[1], 0);
	assert_int_equal(ss.by_kind[5], 1 + 2);
	free_all(r, 2);
}

static void
test_write(void **state)
{
	struct fixture *f = *state;
	struct store_draft d[3];
	struct record *got;
	struct state *s;
	uint8_t *b[3], nonce[KITH_NONCE_LEN], nonce2[KITH_NONCE_LEN];
	uint8_t prev[KITH_ID_LEN];
	size_t i;

	memset(d, 0, sizeof(d));
	memset(nonce, 0x61, sizeof(nonce));
	memset(nonce2, 0x62, sizeof(nonce2));
	tu_entity(f->net, KITH_KIND_REQUEST, f->a, nonce, E1);
	tu_entity(f->net, KITH_KIND_REQUEST, f->a, nonce2, E2);
	for (i = 0; i < 3; i++) {
		d[i].kind = KITH_KIND_REQUEST;
		memcpy(d[i].entity, i == 1 ? E2 : E1, KITH_ENTITY_LEN);
	}
	/* Two new entities: their first records carry their nonces. */
	d[0].nonce = nonce;
	d[1].nonce = nonce2;
	b[0] = tu_body(&d[0].blen, "category", "food", "status", "open", NULL);
	b[1] = tu_body(&d[1].blen, "category", "advice", NULL);
	b[2] = tu_body(&d[2].blen, "status", "claimed", NULL);
	for (i = 0; i < 3; i++)
		d[i].body = b[i];
	assert_int_equal(store_write(f->st, f->a, d, 3), 0);
	/*
	 * Sequence numbers from 1, each naming the one before, clocks
	 * increasing, parents = heads.
	 */
	for (i = 0; i < 3; i++) {
		const struct record_header *h;

		assert_int_equal(store_get(f->st, d[i].id, &got), 0);
		h = record_header(got);
		assert_int_equal(h->seq, i + 1);
		assert_int_equal(h->genesis, i < 2);
		if (i == 0)
			memset(prev, 0, sizeof(prev));
		else
			memcpy(prev, d[i - 1].id, KITH_ID_LEN);
		assert_memory_equal(h->prev, prev, KITH_ID_LEN);
		assert_int_equal(h->hlc, d[i].hlc);
		if (i > 0)
			assert_true(d[i].hlc > d[i - 1].hlc);
		if (i == 2) {
			assert_int_equal(h->nparents, 1);
			assert_memory_equal(h->parents[0], d[0].id, 32);
		} else {
			assert_int_equal(h->nparents, 0);
		}
		assert_int_equal(record_verify(got), 0);
		record_free(got);
	}
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_memory_equal(state_get(s, "status")->value.s, "claimed", 7);
	assert_memory_equal(state_get(s, "category")->value.s, "food", 4);
	assert_int_equal(state_nversions(s), 2);
	state_free(s);
	/* The next write continues the sequence and the chain. */
	d[0].body = b[1];
	d[0].blen = d[1].blen;
	d[0].nonce = NULL;
	assert_int_equal(store_write(f->st, f->a, d, 1), 0);
	assert_int_equal(store_get(f->st, d[0].id, &got), 0);
	assert_int_equal(record_header(got)->seq, 4);
	assert_memory_equal(record_header(got)->prev, d[2].id, KITH_ID_LEN);
	record_free(got);
	/* A genesis whose nonce does not derive its entity is refused. */
	d[0].nonce = nonce2;
	assert_int_equal(store_write(f->st, f->a, d, 1), KITH_EGENESIS);
	/* A store with no network refuses to write. */
	{
		char dir[256];
		struct store *st;
		int rc;

		tu_tmpdir(dir, sizeof(dir));
		st = store_open(dir, STORE_CREATE | STORE_NOSYNC, 0, &rc);
		assert_non_null(st);
		assert_int_equal(store_write(st, f->a, d, 1), KITH_ENETWORK);
		store_close(st);
		tu_rmrf(dir);
	}
	for (i = 0; i < 3; i++)
		free(b[i]);
}

/*
 * A local write after records arrived from elsewhere: the author's other
 * device's numbers are skipped, the clock ticks past every stored record,
 * and the parents cover every head, which resolves a conflict.
 */
static int
stop_at_once(void *arg, uint64_t hlc, const uint8_t id[KITH_ID_LEN])
{

	(void)arg;
	(void)hlc;
	(void)id;
	return 5;
}

struct scoped {
	uint64_t hlc[16];
	size_t n;
};

static int
on_scope(void *arg, uint64_t hlc, const uint8_t id[KITH_ID_LEN])
{
	struct scoped *sc = arg;

	(void)id;
	if (sc->n < 16)
		sc->hlc[sc->n++] = hlc;
	return 0;
}

/* A PCN's scope: the roster's records and what is addressed to it. */
static void
test_scope(void **state)
{
	struct fixture *f = *state;
	const uint8_t *ka = kcrypto_key_public(f->a);
	const uint8_t *kb = kcrypto_key_public(f->b);
	static const uint8_t nobody[KITH_KEY_LEN] = { 7 };
	struct store_draft d[3];
	struct scoped sc;
	uint8_t *b;
	size_t i;

	memset(d, 0, sizeof(d));
	b = tu_body(&d[0].blen, "category", "food", NULL);
	for (i = 0; i < 3; i++) {
		d[i].kind = KITH_KIND_REQUEST;
		memcpy(d[i].entity, i == 0 ? E1 : i == 1 ? E2 : E3,
		    KITH_ENTITY_LEN);
		d[i].body = b;
		d[i].blen = d[0].blen;
	}
	/* d0 to nobody, d1 to b, d2 to a then b: b's in any position. */
	d[1].naudience = 1;
	memcpy(d[1].audience[0], kb, KITH_KEY_LEN);
	d[2].naudience = 2;
	memcpy(d[2].audience[0], ka, KITH_KEY_LEN);
	memcpy(d[2].audience[1], kb, KITH_KEY_LEN);
	assert_int_equal(store_write(f->st, f->a, d, 3), 0);
	free(b);
	/* The charter and two member records are in every scope. */
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(store_scope(f->st, kb, on_scope, &sc), 0);
	assert_int_equal(sc.n, 3 + 2);
	for (i = 1; i < sc.n; i++)
		assert_true(sc.hlc[i] >= sc.hlc[i - 1]);
	assert_int_equal(sc.hlc[3], d[1].hlc);
	assert_int_equal(sc.hlc[4], d[2].hlc);
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(store_scope(f->st, ka, on_scope, &sc), 0);
	assert_int_equal(sc.n, 3 + 1);
	assert_int_equal(sc.hlc[3], d[2].hlc);
	/* A key nothing is addressed to: the roster's records only. */
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(store_scope(f->st, nobody, on_scope, &sc), 0);
	assert_int_equal(sc.n, 3);
	/* A non-zero result stops the walk and is returned. */
	assert_int_equal(store_scope(f->st, kb, stop_at_once, NULL), 5);
}

static int
value_is(const struct codec_value *v, const char *want)
{

	return v->type == CODEC_STR && v->len == strlen(want) &&
	    memcmp(v->s, want, v->len) == 0;
}

/* Write "urgency" = ${value} into ${ent} from ${k}; its id to ${id}. */
static uint64_t
write_urgency(struct fixture *f, const struct kcrypto_key *k,
    const uint8_t *ent, const char *value, uint8_t id[KITH_ID_LEN])
{
	struct store_draft d;
	uint8_t *b;

	memset(&d, 0, sizeof(d));
	d.kind = KITH_KIND_REQUEST;
	memcpy(d.entity, ent, KITH_ENTITY_LEN);
	b = tu_body(&d.blen, "urgency", value, NULL);
	d.body = b;
	assert_int_equal(store_write(f->st, k, &d, 1), 0);
	free(b);
	if (id != NULL)
		memcpy(id, d.id, KITH_ID_LEN);
	return d.hlc;
}

/*
 * The merge bound (PROTOCOL.md 5) and last-writer-wins: a record eight
 * minutes ahead is accepted but does not pull the clock with it; this
 * node's edit made before seeing it is a visible conflict (never lost),
 * and its edit made after seeing it wins, though stamped earlier.
 */
static void
test_clock_bound_lww(void **state)
{
	struct fixture *f = *state;
	struct record *r[2];
	struct store_result res;
	struct state *s;
	const struct state_field *fd;
	uint8_t p0[1][32], mine[KITH_ID_LEN], last[KITH_ID_LEN], *b;
	uint64_t now = hlc_wall_ms(), ahead = HLC_MAKE(now + 8 * 60000, 0);
	uint64_t clock, t;
	size_t blen;

	r[0] = req(f, f->b, 1, 10, E1, NULL, 0, "urgency", "1");
	memcpy(p0[0], record_id(r[0]), 32);
	assert_int_equal(store_apply(f->st, r, 1, &res, NULL, NULL), 0);
	/* This node (a) edits the field... */
	t = write_urgency(f, f->a, E1, "2", mine);
	assert_true(HLC_MS(t) <= hlc_wall_ms());
	/* ...while b, 8 minutes fast, edits it too, not having seen a's. */
	b = tu_body(&blen, "urgency", "3", NULL);
	r[1] = tu_record(f->b, f->net, 2, ahead, KITH_KIND_REQUEST, E1, p0, 1,
	    b, blen);
	free(b);
	assert_int_equal(store_apply(f->st, r + 1, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	/* Accepted, but the store's clock did not follow it. */
	assert_int_equal(store_clock(f->st, &clock), 0);
	assert_true(clock < ahead);
	assert_true(HLC_MS(clock) <= hlc_wall_ms() + HLC_MERGE_MARGIN_MS);
	/* Concurrent: the later stamp wins, and a's value stays visible. */
	assert_int_equal(store_state(f->st, E1, &s), 0);
	fd = state_get(s, "urgency");
	assert_true(value_is(&fd->value, "3"));
	assert_int_equal(fd->nalts, 1);
	assert_true(value_is(&fd->alts[0], "2"));
	state_free(s);
	/* a edits again, having seen both: stamped before b's, it wins. */
	t = write_urgency(f, f->a, E1, "4", last);
	assert_true(t < ahead);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	fd = state_get(s, "urgency");
	assert_true(value_is(&fd->value, "4"));
	assert_int_equal(fd->nalts, 0);
	assert_int_equal(state_nheads(s), 1);
	assert_memory_equal(state_head(s, 0), last, 32);
	state_free(s);
	free_all(r, 2);
}

/*
 * Peers' clocks: the versioned peer record keeps them; store_offsets takes
 * one recent offset per node key; and the merge bound follows their median
 * when most of the network runs ahead of this node.
 */
static void
test_peer_clocks(void **state)
{
	struct fixture *f = *state;
	struct store_peer p, q;
	struct store_result res;
	struct record *r[1];
	int64_t offs[STORE_OFFSETS_MAX];
	uint64_t now = hlc_wall_ms(), clock, old;
	uint8_t *b;
	size_t n, blen;

	memset(&p, 0, sizeof(p));
	p.last_ok_ms = now;
	p.last_rc = KITH_ETIMEDOUT;
	p.received = 3;
	p.sent = 4;
	p.refused = 5;
	p.held = 6;
	memset(p.key, 0xaa, KITH_KEY_LEN);
	p.clock_at = now - 1000;
	p.offset_ms = 5 * 60000;
	p.offset_err_ms = 12;
	assert_int_equal(store_peer_put(f->st, "tcp://127.0.0.1:1", &p), 0);
	/* The same node, measured one way earlier: the latest counts. */
	q = p;
	q.clock_at = now - 5000;
	q.offset_ms = -7;
	q.oneway = 1;
	assert_int_equal(store_peer_put(f->st, "key:aa", &q), 0);
	/* Another node, a little later than this node's clock. */
	memset(q.key, 0xbb, KITH_KEY_LEN);
	q.offset_ms = 5 * 60000 + 300;
	assert_int_equal(store_peer_put(f->st, "tcp://127.0.0.1:2", &q), 0);
	/* Not counted: no key, stale, measured in this node's future. */
	memset(q.key, 0, KITH_KEY_LEN);
	q.offset_ms = -3 * 3600000;
	assert_int_equal(store_peer_put(f->st, "tcp://127.0.0.1:3", &q), 0);
	memset(q.key, 0xcc, KITH_KEY_LEN);
	q.clock_at = now - HLC_RECENT_MS - 1000;
	assert_int_equal(store_peer_put(f->st, "tcp://127.0.0.1:4", &q), 0);
	memset(q.key, 0xdd, KITH_KEY_LEN);
	q.clock_at = now + 3 * 3600000;
	assert_int_equal(store_peer_put(f->st, "tcp://127.0.0.1:5", &q), 0);
	q.clock_at = 0;
	memset(q.key, 0xee, KITH_KEY_LEN);
	assert_int_equal(store_peer_put(f->st, "tcp://127.0.0.1:6", &q), 0);

	assert_int_equal(store_offsets(f->st, now, offs, &n), 0);
	assert_int_equal(n, 2);
	assert_true((offs[0] == 5 * 60000 && offs[1] == 5 * 60000 + 300) ||
	    (offs[1] == 5 * 60000 && offs[0] == 5 * 60000 + 300));

	/* Most clocks run 5 minutes ahead: a record there moves the clock. */
	b = tu_body(&blen, "urgency", "1", NULL);
	tu_nonce = (const uint8_t *)"0123456789abcdef";
	r[0] = tu_record(f->b, f->net, 1, HLC_MAKE(now + 5 * 60000, 0),
	    KITH_KIND_REQUEST, E1, NULL, 0, b, blen);
	tu_nonce = NULL;
	free(b);
	assert_int_equal(store_apply(f->st, r, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(store_clock(f->st, &clock), 0);
	assert_true(clock == HLC_MAKE(now + 5 * 60000, 0));
	record_free(r[0]);

	/* Lowering: down, never up. */
	assert_int_equal(store_clock_lower(f->st, HLC_MAKE(now, 0), &old), 0);
	assert_true(old == clock);
	assert_int_equal(store_clock(f->st, &clock), 0);
	assert_true(clock == HLC_MAKE(now, 0));
	assert_int_equal(store_clock_lower(f->st, HLC_MAKE(now + 9, 0), &old),
	    0);
	assert_int_equal(store_clock(f->st, &clock), 0);
	assert_true(clock == HLC_MAKE(now, 0));
}

/* Read back the peer at ${ep}. */
struct peer_get {
	const char *ep;
	struct store_peer p;
	int found;
};

static int
peer_get_one(void *arg, const char *ep, const struct store_peer *p)
{
	struct peer_get *g = arg;

	if (strcmp(ep, g->ep) == 0) {
		g->p = *p;
		g->found = 1;
	}
	return 0;
}

/*
 * The peer record's encoding: version 2 round-trips every field; a
 * version 1 value (five u64s, written by an older kith) still reads, with
 * no clock; a value of neither shape is corruption.
 */
static void
test_peer_versions(void **state)
{
	struct fixture *f = *state;
	struct peer_get g = { "tcp://127.0.0.1:9", { 0 }, 0 };
	struct store_peer p;
	uint8_t v1[41];		/* a version 1 value, and one byte more */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	int i;

	memset(&p, 0, sizeof(p));
	p.last_ok_ms = 1;
	p.last_try_ms = 2;
	p.last_rc = KITH_EFUTURE;
	p.received = 3;
	p.sent = 4;
	p.refused = 5;
	p.held = 6;
	memset(p.key, 0x42, KITH_KEY_LEN);
	p.clock_at = 7;
	p.offset_ms = -3 * 3600000LL;
	p.offset_err_ms = 8;
	p.oneway = 1;
	assert_int_equal(store_peer_put(f->st, g.ep, &p), 0);
	assert_int_equal(store_peers(f->st, peer_get_one, &g), 0);
	assert_true(g.found);
	assert_memory_equal(&g.p, &p, sizeof(p));

	/* An older kith's value, planted beside it. */
	store_close(f->st);
	f->st = NULL;
	for (i = 0; i < 40; i++)
		v1[i] = (uint8_t)(i % 8 == 7 ? i / 8 + 1 : 0);
	v1[40] = 0;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_set_mapsize(env, STORE_MAP_INITIAL), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "peers", 0, &dbi), 0);
	k = (MDB_val){ 17, "tcp://127.0.0.1:1" };
	v = (MDB_val){ 40, v1 };
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	f->st = store_open(f->dir, 0, 0, &i);
	assert_non_null(f->st);
	g.ep = "tcp://127.0.0.1:1";
	g.found = 0;
	assert_int_equal(store_peers(f->st, peer_get_one, &g), 0);
	assert_true(g.found);
	assert_true(g.p.last_ok_ms == 1 && g.p.last_try_ms == 2 &&
	    g.p.last_rc == 3 && g.p.received == 4 && g.p.sent == 5);
	assert_true(g.p.clock_at == 0 && g.p.refused == 0 && g.p.held == 0);

	/* Neither shape: corrupt. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_set_mapsize(env, STORE_MAP_INITIAL), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "peers", 0, &dbi), 0);
	v = (MDB_val){ 41, v1 };
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	f->st = store_open(f->dir, 0, 0, &i);
	assert_non_null(f->st);
	assert_int_equal(store_peers(f->st, peer_get_one, &g), KITH_ECORRUPT);
}

static void
test_write_after_apply(void **state)
{
	struct fixture *f = *state;
	struct record *r[3], *got;
	struct store_result res;
	struct store_draft d;
	struct state *s;
	const struct record_header *h;
	uint8_t p0[1][32], *b;
	uint64_t ahead = HLC_MAKE(hlc_wall_ms() + 5 * 60000, 0);
	size_t blen;

	r[0] = req(f, f->a, 1, 10, E1, NULL, 0, "urgency", "1");
	memcpy(p0[0], record_id(r[0]), 32);
	r[1] = req(f, f->a, 2, 20, E1, p0, 1, "urgency", "2");
	/*
	 * Five minutes ahead: accepted, but with no peer measured the clock
	 * stays near the wall clock (PROTOCOL.md 5); the later write still
	 * supersedes it, through its parents.
	 */
	b = tu_body(&blen, "urgency", "3", NULL);
	r[2] = tu_record(f->b, f->net, 1, ahead, KITH_KIND_REQUEST, E1, p0, 1,
	    b, blen);
	free(b);
	assert_int_equal(store_apply(f->st, r, 3, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 3);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_int_equal(state_nconflicts(s), 1);
	assert_int_equal(state_nheads(s), 2);
	state_free(s);
	memset(&d, 0, sizeof(d));
	d.kind = KITH_KIND_REQUEST;
	memcpy(d.entity, E1, KITH_ENTITY_LEN);
	b = tu_body(&d.blen, "urgency", "2", NULL);
	d.body = b;
	assert_int_equal(store_write(f->st, f->a, &d, 1), 0);
	free(b);
	assert_int_equal(store_get(f->st, d.id, &got), 0);
	h = record_header(got);
	assert_int_equal(h->seq, 3);
	assert_true(h->hlc < ahead);
	assert_true(HLC_MS(h->hlc) <= hlc_wall_ms() + HLC_MERGE_MARGIN_MS);
	assert_int_equal(h->nparents, 2);
	assert_true((memcmp(h->parents[0], record_id(r[1]), 32) == 0 &&
	    memcmp(h->parents[1], record_id(r[2]), 32) == 0) ||
	    (memcmp(h->parents[0], record_id(r[2]), 32) == 0 &&
	    memcmp(h->parents[1], record_id(r[1]), 32) == 0));
	record_free(got);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_int_equal(state_nconflicts(s), 0);
	assert_int_equal(state_nheads(s), 1);
	assert_memory_equal(state_head(s, 0), d.id, 32);
	assert_int_equal(state_get(s, "urgency")->nalts, 0);
	assert_true(value_is(&state_get(s, "urgency")->value, "2"));
	state_free(s);
	free_all(r, 3);
}

static void
test_find_entity(void **state)
{
	struct fixture *f = *state;
	uint8_t e_a[KITH_ENTITY_LEN], e_b[KITH_ENTITY_LEN], nonce[16];
	struct record *r[2];
	struct store_result res;
	uint8_t out[KITH_ENTITY_LEN], pre[KITH_ENTITY_LEN];
	uint8_t *b;
	size_t blen;
	unsigned i;

	/* Two entities whose ids share their first two hex digits only. */
	b = tu_body(&blen, "category", "food", NULL);
	memset(nonce, 0, sizeof(nonce));
	tu_nonce = nonce;
	r[0] = tu_record(f->a, f->net, 1, f->t0 + 1, KITH_KIND_REQUEST, NULL,
	    NULL, 0, b, blen);
	memcpy(e_a, record_header(r[0])->entity, KITH_ENTITY_LEN);
	for (i = 1; ; i++) {
		memcpy(nonce, &i, sizeof(i));
		tu_entity(f->net, KITH_KIND_REQUEST, f->a, nonce, e_b);
		if (e_b[0] == e_a[0] && (e_b[1] >> 4) != (e_a[1] >> 4))
			break;
	}
	r[1] = tu_record(f->a, f->net, 2, f->t0 + 2, KITH_KIND_REQUEST, NULL,
	    NULL, 0, b, blen);
	tu_nonce = NULL;
	free(b);
	assert_memory_equal(record_header(r[1])->entity, e_b, KITH_ENTITY_LEN);
	assert_int_equal(store_apply(f->st, r, 2, &res, NULL, NULL), 0);
	/* A unique prefix of an odd number of hex digits. */
	memcpy(pre, e_b, sizeof(pre));
	assert_int_equal(store_find_entity(f->st, pre, 7, out), 0);
	assert_memory_equal(out, e_b, KITH_ENTITY_LEN);
	assert_int_equal(store_find_entity(f->st, pre, 32, out), 0);
	assert_memory_equal(out, e_b, KITH_ENTITY_LEN);
	/* Shared by both: ambiguous. */
	assert_int_equal(store_find_entity(f->st, pre, 2, out), KITH_EEXIST);
	/* Matching nothing. */
	pre[0] ^= 0xff;
	pre[1] ^= 0xff;
	pre[2] ^= 0xff;
	assert_int_equal(store_find_entity(f->st, pre, 6, out),
	    KITH_ENOTFOUND);
	free_all(r, 2);
}

/* A second store in the same network, for digest comparisons. */
static int
copy_one(void *arg, const struct record *rec)
{
	struct store_result res;

	return store_apply(arg, (struct record *const *)&rec, 1, &res, NULL,
	    NULL);
}

static struct store *
twin(struct fixture *f, char *dir, size_t len)
{
	struct record *ch = NULL;
	struct store *st;
	int rc;

	tu_tmpdir(dir, len);
	st = store_open(dir, STORE_CREATE | STORE_NOSYNC, 0, &rc);
	assert_non_null(st);
	assert_int_equal(store_charter(f->st, &ch), 0);
	assert_int_equal(store_init_network(st, ch), 0);
	/* A store belongs to one network only. */
	assert_int_equal(store_init_network(st, ch), KITH_EEXIST);
	record_free(ch);
	/* The same members, so both stores apply the same records. */
	assert_int_equal(store_range(f->st, 0, NULL, UINT64_MAX, NULL,
	    copy_one, st), 0);
	return st;
}

static void
test_digest(void **state)
{
	struct fixture *f = *state;
	struct record *r[4];
	struct store_result res;
	struct store *st2;
	char dir[256];
	uint8_t d1[32], d2[32], d0[32], p[1][32];

	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	memcpy(p[0], record_id(r[0]), 32);
	r[1] = req(f, f->a, 2, 2, E1, p, 1, "urgency", "1");
	r[2] = req(f, f->b, 1, 3, E1, p, 1, "urgency", "2");
	r[3] = req(f, f->b, 2, 4, E2, NULL, 0, "category", "advice");
	st2 = twin(f, dir, sizeof(dir));
	assert_int_equal(store_digest(f->st, d0), 0);
	assert_int_equal(store_digest(st2, d2), 0);
	assert_memory_equal(d0, d2, 32);
	/* One store in one batch, the other one record at a time, reversed. */
	assert_int_equal(store_apply(f->st, r, 4, &res, NULL, NULL), 0);
	for (size_t i = 4; i-- > 0;)
		assert_int_equal(store_apply(st2, &r[i], 1, &res, NULL, NULL),
		    0);
	assert_int_equal(store_digest(f->st, d1), 0);
	assert_int_equal(store_digest(st2, d2), 0);
	assert_memory_equal(d1, d2, 32);
	assert_memory_not_equal(d0, d1, 32);
	/* One more record on one side: the digests differ. */
	{
		struct record *extra = req(f, f->b, 3, 5, E2, NULL, 0, "area",
		    "N17");

		assert_int_equal(store_apply(st2, &extra, 1, &res, NULL, NULL),
		    0);
		assert_int_equal(store_digest(st2, d2), 0);
		assert_memory_not_equal(d1, d2, 32);
		record_free(extra);
	}
	store_close(st2);
	tu_rmrf(dir);
	free_all(r, 4);
}

struct bad {
	uint8_t id[KITH_ID_LEN];
	int rc;
	size_t n;
};

static void
on_bad(void *arg, const uint8_t id[KITH_ID_LEN], int rc)
{
	struct bad *b = arg;

	memcpy(b->id, id, KITH_ID_LEN);
	b->rc = rc;
	b->n++;
}

/* Flip one byte of the stored copy of ${rec}'s signature on disk. */
static void
corrupt(const char *dir, const struct record *rec)
{
	char path[300];
	const uint8_t *sig = record_signature(rec);
	uint8_t *data, *hit;
	size_t len;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_non_null(fp = fopen(path, "r+b"));
	fseek(fp, 0, SEEK_END);
	len = (size_t)ftell(fp);
	rewind(fp);
	data = malloc(len);
	assert_int_equal(fread(data, 1, len, fp), len);
	hit = memmem(data, len, sig, KITH_SIG_LEN);
	assert_non_null(hit);
	fseek(fp, (long)(hit - data) + 7, SEEK_SET);
	fputc(hit[7] ^ 0x40, fp);
	fclose(fp);
	free(data);
}

static void
test_verify(void **state)
{
	struct fixture *f = *state;
	struct record *r[3];
	struct store_result res;
	struct bad b = { .n = 0 };
	size_t checked, nbad;
	int rc;

	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	r[1] = req(f, f->a, 2, 2, E2, NULL, 0, "category", "advice");
	r[2] = req(f, f->b, 1, 3, E3, NULL, 0, "category", "other");
	assert_int_equal(store_apply(f->st, r, 3, &res, NULL, NULL), 0);
	assert_int_equal(store_verify(f->st, on_bad, &b, &checked, &nbad), 0);
	assert_int_equal(checked, 4 + 2);	/* with charter, members */
	assert_int_equal(nbad, 0);
	assert_int_equal(b.n, 0);
	/* Change one byte on disk: verify names that record. */
	store_close(f->st);
	corrupt(f->dir, r[1]);
	f->st = store_open(f->dir, STORE_NOSYNC, 0, &rc);
	assert_non_null(f->st);
	assert_int_equal(store_verify(f->st, on_bad, &b, &checked, &nbad), 0);
	assert_int_equal(checked, 4 + 2);
	assert_int_equal(nbad, 1);
	assert_int_equal(b.n, 1);
	assert_memory_equal(b.id, record_id(r[1]), KITH_ID_LEN);
	/* The signature is part of the id, so the id check fails first. */
	assert_int_equal(b.rc, KITH_ECORRUPT);
	free_all(r, 3);
}

/* A changed body byte on disk: verify reports the body's hash. */
static void
test_verify_body(void **state)
{
	struct fixture *f = *state;
	struct record *r[2];
	struct store_result res;
	struct bad b = { .n = 0 };
	size_t checked, nbad;
	char path[300];
	uint8_t *data, *hit;
	size_t len;
	FILE *fp;
	int rc;

	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "notes", "marker-aaaa");
	r[1] = req(f, f->a, 2, 2, E2, NULL, 0, "notes", "marker-bbbb");
	assert_int_equal(store_apply(f->st, r, 2, &res, NULL, NULL), 0);
	store_close(f->st);
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_non_null(fp = fopen(path, "r+b"));
	fseek(fp, 0, SEEK_END);
	len = (size_t)ftell(fp);
	rewind(fp);
	data = malloc(len);
	assert_int_equal(fread(data, 1, len, fp), len);
	/* Every copy: the entity's state holds the value too. */
	hit = memmem(data, len, "marker-bbbb", 11);
	assert_non_null(hit);
	for (; hit != NULL; hit = memmem(hit + 11, len - (size_t)(hit + 11 -
	    data), "marker-bbbb", 11)) {
		fseek(fp, (long)(hit - data) + 7, SEEK_SET);
		fputc('X', fp);
	}
	fclose(fp);
	free(data);
	f->st = store_open(f->dir, STORE_NOSYNC, 0, &rc);
	assert_non_null(f->st);
	assert_int_equal(store_verify(f->st, on_bad, &b, &checked, &nbad), 0);
	assert_int_equal(checked, 3 + 2);
	assert_int_equal(nbad, 1);
	assert_memory_equal(b.id, record_id(r[1]), KITH_ID_LEN);
	assert_int_equal(b.rc, KITH_EBODYHASH);
	free_all(r, 2);
}

/*
 * A scrub writes the store afresh: everything held stays, the mark goes,
 * and it waits (EBUSY) while another handle has the store open.
 */
static void
test_scrub(void **state)
{
	struct fixture *f = *state;
	struct record *r[3];
	struct store_result res;
	struct store *other;
	uint8_t before[KITH_HASH_LEN], after[KITH_HASH_LEN];
	uint64_t since, b0, b1;
	struct stat sb;
	char path[300];
	int rc;

	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	r[1] = req(f, f->a, 2, 2, E2, NULL, 0, "category", "advice");
	r[2] = req(f, f->b, 1, 3, E3, NULL, 0, "category", "other");
	assert_int_equal(store_apply(f->st, r, 3, &res, NULL, NULL), 0);
	assert_int_equal(store_digest(f->st, before), 0);
	assert_int_equal(store_scrub_due(f->st, &since), 0);
	assert_true(since == 0);
	assert_int_equal(store_scrub_request(f->st), 0);
	assert_int_equal(store_scrub_due(f->st, &since), 0);
	assert_true(since != 0);
	/* Another handle open: not now, and the store is as it was. */
	other = store_open(f->dir, STORE_NOSYNC, 0, &rc);
	assert_non_null(other);
	assert_int_equal(store_scrub(f->st, &b0, &b1), KITH_EBUSY);
	assert_true(store_is_open(f->st));
	store_close(other);
	assert_int_equal(store_scrub(f->st, &b0, &b1), 0);
	assert_true(b0 > 0 && b1 > 0);
	assert_true(store_is_open(f->st));
	assert_int_equal(store_digest(f->st, after), 0);
	assert_memory_equal(before, after, KITH_HASH_LEN);
	assert_int_equal(store_scrub_due(f->st, &since), 0);
	assert_true(since == 0);
	snprintf(path, sizeof(path), "%s/scrub.tmp", f->dir);
	assert_int_not_equal(stat(path, &sb), 0);
	/* Still a working store: it takes records and finds them. */
	free_all(r, 3);
	r[0] = req(f, f->a, 3, 4, E1, NULL, 0, "category", "other");
	assert_int_equal(store_apply(f->st, r, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	free_all(r, 1);
	/* A read-only handle may not scrub. */
	other = store_open(f->dir, STORE_RDONLY, 0, &rc);
	assert_non_null(other);
	assert_int_equal(store_scrub(other, &b0, &b1), KITH_EINVAL);
	store_close(other);
}

/*
 * Two processes writing one store at once, as the CLI beside a running
 * daemon: every write of each lands, in one unbroken sequence per author.
 */
#define NWRITES	200

static void
test_two_processes(void **state)
{
	struct fixture *f = *state;
	struct kcrypto_key *keys[2] = { f->a, f->b };
	uint8_t four[4][KITH_ENTITY_LEN];
	struct store_stats ss;
	size_t n;
	pid_t pid;
	int status;

	/* Both write the same four entities, which the admin started. */
	for (int e = 0; e < 4; e++) {
		struct store_draft g;
		uint8_t nonce[KITH_NONCE_LEN];

		memset(&g, 0, sizeof(g));
		memset(nonce, 0x70 + e, sizeof(nonce));
		g.kind = KITH_KIND_REQUEST;
		g.nonce = nonce;
		tu_entity(f->net, g.kind, f->admin, nonce, four[e]);
		memcpy(g.entity, four[e], KITH_ENTITY_LEN);
		g.body = (const uint8_t *)"\x80";
		g.blen = 1;
		assert_int_equal(store_write(f->st, f->admin, &g, 1), 0);
	}
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	for (int side = 0; side < 2; side++) {
		struct store *st;
		struct store_draft d;
		uint8_t *b;
		size_t blen;
		int rc, ok;

		if ((pid == 0) != (side == 1))
			continue;
		/* Each process opens its own handle, after the fork. */
		st = store_open(f->dir, STORE_NOSYNC, 0, &rc);
		ok = st != NULL;
		b = tu_body(&blen, "status", "open", NULL);
		for (int i = 0; ok && i < NWRITES; i++) {
			memset(&d, 0, sizeof(d));
			d.kind = KITH_KIND_REQUEST;
			memcpy(d.entity, four[i % 4], KITH_ENTITY_LEN);
			d.body = b;
			d.blen = blen;
			ok = store_write(st, keys[side], &d, 1) == 0;
		}
		free(b);
		store_close(st);
		if (pid == 0)
			_exit(ok ? 0 : 1);
		assert_true(ok);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.records, 2 * NWRITES + 1 + 2 + 4);
	assert_int_equal(ss.forks, 0);
	assert_int_equal(ss.entities, 5 + 2);
	for (int side = 0; side < 2; side++) {
		n = 0;
		assert_int_equal(store_by_author(f->st,
		    kcrypto_key_public(keys[side]), NWRITES, count_rec, &n),
		    0);
		assert_int_equal(n, 1);
		assert_int_equal(store_by_author(f->st,
		    kcrypto_key_public(keys[side]), NWRITES + 1, count_rec, &n),
		    KITH_ENOTFOUND);
	}
	/* Each shared entity ends with one head: every write saw the last. */
	for (int e = 0; e < 4; e++) {
		struct state *s;

		assert_int_equal(store_state(f->st, four[e], &s), 0);
		assert_int_equal(state_nversions(s), NWRITES / 2 + 1);
		assert_int_equal(state_nheads(s), 1);
		state_free(s);
	}
}

/* The change log's entries, as store_log_read gives them. */
struct logged {
	struct negentropy_item v[256];
	size_t n;
	int stop_at;	/* return an error at this entry, or -1 */
	uint64_t counter;	/* the last entry's */
};

static int
log_one(void *arg, uint64_t counter, uint64_t hlc,
    const uint8_t id[KITH_ID_LEN])
{
	struct logged *l = arg;

	if ((int)l->n == l->stop_at)
		return KITH_ENOMEM;
	assert_true(l->n < 256);
	/* Counters rise, one a record. */
	assert_true(l->n == 0 || counter == l->counter + 1);
	l->counter = counter;
	l->v[l->n].timestamp = hlc;
	memcpy(l->v[l->n++].id, id, KITH_ID_LEN);
	return 0;
}

/* Read the log after ${after} into ${l}; return the last counter. */
static uint64_t
log_after(struct store *st, uint64_t after, size_t max, struct logged *l)
{
	uint64_t last;

	l->n = 0;
	l->stop_at = -1;
	assert_int_equal(store_log_read(st, after, max, log_one, l, &last), 0);
	return last;
}

static void
test_change_log(void **state)
{
	struct fixture *f = *state;
	struct record *r[2], *got;
	struct store_result res;
	struct logged l;
	uint64_t last;

	/* The charter and the two admissions, in the order stored. */
	assert_int_equal(store_log_last(f->st, &last), 0);
	assert_int_equal(last, 3);
	assert_int_equal(log_after(f->st, 0, 100, &l), 3);
	assert_int_equal(l.n, 3);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(store_get(f->st, l.v[i].id, &got), 0);
		assert_int_equal(record_header(got)->hlc, l.v[i].timestamp);
		record_free(got);
	}
	/* A batch, then the same batch again: only new records log. */
	r[0] = req(f, f->a, 1, 20, E1, NULL, 0, "area", "N1");
	r[1] = req(f, f->a, 2, 10, E2, NULL, 0, "area", "N2");
	assert_int_equal(store_apply(f->st, r, 2, &res, NULL, NULL), 0);
	/* The commit says which counters it used, for kithd's feed. */
	assert_int_equal(res.log_first, 4);
	assert_int_equal(res.log_last, 5);
	assert_int_equal(store_apply(f->st, r, 2, &res, NULL, NULL), 0);
	assert_int_equal(res.duplicate, 2);
	assert_int_equal(res.log_first, 0);
	assert_int_equal(res.log_last, 0);
	assert_int_equal(log_after(f->st, 3, 100, &l), 5);
	assert_int_equal(l.n, 2);
	/* Insertion order, not (hlc, id) order. */
	assert_memory_equal(l.v[0].id, record_id(r[0]), KITH_ID_LEN);
	assert_memory_equal(l.v[1].id, record_id(r[1]), KITH_ID_LEN);
	/* At most max at a time; reading on from the last misses nothing. */
	assert_int_equal(log_after(f->st, 0, 2, &l), 2);
	assert_int_equal(l.n, 2);
	assert_int_equal(log_after(f->st, 2, 2, &l), 4);
	assert_int_equal(log_after(f->st, 4, 2, &l), 5);
	assert_int_equal(l.n, 1);
	assert_int_equal(log_after(f->st, 5, 2, &l), 5);
	assert_int_equal(l.n, 0);
	assert_int_equal(log_after(f->st, UINT64_MAX, 2, &l), UINT64_MAX);
	assert_int_equal(l.n, 0);
	/* A callback's error stops the read; ${*last} stays before it. */
	l.n = 0;
	l.stop_at = 1;
	assert_int_equal(store_log_read(f->st, 0, 100, log_one, &l, &last),
	    KITH_ENOMEM);
	assert_int_equal(last, 1);
	free_all(r, 2);
	/* Only the newest entries are kept: a reader far behind skips on. */
	store_set_log_keep(f->st, 2);
	r[0] = req(f, f->b, 1, 40, E3, NULL, 0, "area", "N3");
	assert_int_equal(store_apply(f->st, r, 1, &res, NULL, NULL), 0);
	assert_int_equal(log_after(f->st, 0, 100, &l), 6);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.counter, 6);
	assert_memory_equal(l.v[1].id, record_id(r[0]), KITH_ID_LEN);
	assert_int_equal(store_log_last(f->st, &last), 0);
	assert_int_equal(last, 6);
	record_free(r[0]);
}

/* What store_fp_read gave: the count and every item. */
struct fp_seen {
	size_t n;
	struct negentropy_item v[64];
};

static int
fp_take(void *arg, const struct negentropy_source *src)
{
	struct fp_seen *fs = arg;

	fs->n = src->n;
	assert_true(src->n <= 64);
	return src->n > 0 ? src->items(src->arg, 0, src->n, fs->v) : 0;
}

/* The order in the store holds every record, sorted, and nothing else. */
static void
same_order(struct store *st, size_t want)
{
	struct fp_seen fs;
	struct record *got;
	uint64_t n;
	size_t i;

	assert_int_equal(store_count(st, &n), 0);
	assert_int_equal(n, want);
	assert_int_equal(store_fp_read(st, fp_take, &fs), 0);
	assert_int_equal(fs.n, want);
	for (i = 0; i < fs.n; i++) {
		assert_int_equal(store_get(st, fs.v[i].id, &got), 0);
		assert_int_equal(record_header(got)->hlc, fs.v[i].timestamp);
		record_free(got);
		assert_true(i == 0 || fs.v[i - 1].timestamp < fs.v[i].timestamp ||
		    (fs.v[i - 1].timestamp == fs.v[i].timestamp &&
		    memcmp(fs.v[i - 1].id, fs.v[i].id, KITH_ID_LEN) < 0));
	}
}

/*
 * Set the store at ${dir} to format ${fmt}; drop the fingerprint tree.
 * Below format 4 there is no blind index either.
 */
static void
set_format(const char *dir, uint8_t fmt, int drop_tree)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 6, "schema" }, v = { 1, &fmt };

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_set_mapsize(env, STORE_MAP_INITIAL), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	if (drop_tree) {
		assert_int_equal(mdb_dbi_open(txn, "fp", 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	}
	if (fmt < 4 && mdb_dbi_open(txn, "blind", 0, &dbi) == 0)
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/*
 * The order is kept in the store's transactions; a store of format 2 is
 * refused until store_upgrade builds its tree, and a dry run changes
 * nothing.
 */
static void
test_order_upgrade(void **state)
{
	struct fixture *f = *state;
	struct record *r[3];
	struct store_result res;
	struct store_check chk;
	struct store_rebuilt rb;
	uint64_t records;
	int rc, from;

	same_order(f->st, 3);
	r[0] = req(f, f->a, 1, 30, E1, NULL, 0, "area", "N1");
	r[1] = req(f, f->a, 2, 10, E2, NULL, 0, "area", "N2");
	r[2] = req(f, f->b, 1, 20, E3, NULL, 0, "area", "N3");
	assert_int_equal(store_apply(f->st, r, 3, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 3);
	same_order(f->st, 6);
	assert_int_equal(store_upgrade(f->st, 0, &from, &records), 0);
	assert_int_equal(from, STORE_FORMAT);	/* current: nothing to do */
	assert_int_equal(records, 6);
	store_close(f->st);

	/* A format 2 store: refused, read-write and read-only alike. */
	set_format(f->dir, 2, 1);
	assert_null(f->st = store_open(f->dir, 0, 0, &rc));
	assert_int_equal(rc, KITH_EUPGRADE);
	assert_null(f->st = store_open(f->dir, STORE_RDONLY, 0, &rc));
	assert_int_equal(rc, KITH_EUPGRADE);
	/* A dry run counts and keeps nothing. */
	assert_non_null(f->st = store_open(f->dir, STORE_UPGRADE, 0, &rc));
	assert_int_equal(store_upgrade(f->st, 1, &from, &records), 0);
	assert_int_equal(from, 2);
	assert_int_equal(records, 6);
	store_close(f->st);
	assert_null(f->st = store_open(f->dir, 0, 0, &rc));
	assert_int_equal(rc, KITH_EUPGRADE);
	/* The upgrade builds the tree; the store then opens as any other. */
	assert_non_null(f->st = store_open(f->dir, STORE_UPGRADE, 0, &rc));
	assert_int_equal(store_upgrade(f->st, 0, &from, &records), 0);
	assert_int_equal(from, 2);
	assert_int_equal(records, 6);
	same_order(f->st, 6);
	store_close(f->st);
	assert_non_null(f->st = store_open(f->dir, 0, 0, &rc));
	same_order(f->st, 6);
	assert_int_equal(store_check(f->st, NULL, NULL, &chk), 0);
	assert_int_equal(chk.bad_index, 0);
	store_close(f->st);

	/* A newer format is refused, never misread; so is 1. */
	set_format(f->dir, STORE_FORMAT + 1, 0);
	assert_null(f->st = store_open(f->dir, STORE_UPGRADE, 0, &rc));
	assert_int_equal(rc, KITH_EVERSION);
	set_format(f->dir, 1, 0);
	assert_null(f->st = store_open(f->dir, STORE_UPGRADE, 0, &rc));
	assert_int_equal(rc, KITH_EVERSION);

	/* Format 3 (no blind index): refused; the upgrade makes it empty. */
	set_format(f->dir, 3, 0);
	assert_null(f->st = store_open(f->dir, STORE_RDONLY, 0, &rc));
	assert_int_equal(rc, KITH_EUPGRADE);
	assert_non_null(f->st = store_open(f->dir, STORE_UPGRADE, 0, &rc));
	assert_int_equal(store_upgrade(f->st, 0, &from, &records), 0);
	assert_int_equal(from, 3);
	store_close(f->st);
	assert_non_null(f->st = store_open(f->dir, STORE_RDONLY, 0, &rc));
	assert_int_equal(store_check(f->st, NULL, NULL, &chk), 0);
	assert_int_equal(chk.bad_index, 0);
	store_close(f->st);
	set_format(f->dir, STORE_FORMAT, 0);

	/* A tree that lost its records' keys: check finds it, rebuild mends. */
	set_format(f->dir, STORE_FORMAT, 1);
	assert_non_null(f->st = store_open(f->dir, 0, 0, &rc));
	assert_int_equal(store_check(f->st, NULL, NULL, &chk), 0);
	assert_int_equal(chk.bad_index, 1);
	assert_int_equal(store_count(f->st, &records), 0);
	assert_int_equal(records, 0);
	assert_int_equal(store_rebuild(f->st, NULL, NULL, &rb), 0);
	same_order(f->st, 6);
	assert_int_equal(store_check(f->st, NULL, NULL, &chk), 0);
	assert_int_equal(chk.bad_index, 0);
	free_all(r, 3);
}

/*
 * Another process writes while this one follows the log: every record
 * arrives exactly once, whatever the timing of the commits.
 */
static void
test_change_log_two_processes(void **state)
{
	struct fixture *f = *state;
	struct logged l;
	uint64_t after, last;
	size_t seen = 0, i, k;
	pid_t pid;
	int status, done = 0;
	struct negentropy_item all[NWRITES];

	assert_int_equal(store_log_last(f->st, &after), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_draft d;
		struct store *st;
		uint8_t *b;
		size_t blen;
		int rc, ok;

		st = store_open(f->dir, 0, 0, &rc);
		ok = st != NULL;
		b = tu_body(&blen, "status", "open", NULL);
		for (int j = 0; ok && j < NWRITES; j++) {
			memset(&d, 0, sizeof(d));
			d.kind = KITH_KIND_REQUEST;
			d.entity[0] = 0x71;
			d.entity[2] = (uint8_t)j;
			d.body = b;
			d.blen = blen;
			ok = store_write(st, f->a, &d, 1) == 0;
		}
		free(b);
		store_close(st);
		_exit(ok ? 0 : 1);
	}
	while (seen < NWRITES) {
		if (!done && waitpid(pid, &status, WNOHANG) == pid)
			done = 1;
		last = log_after(f->st, after, 7, &l);
		assert_int_equal(last, after + l.n);
		for (i = 0; i < l.n; i++) {
			for (k = 0; k < seen; k++)
				assert_memory_not_equal(all[k].id, l.v[i].id,
				    KITH_ID_LEN);
			assert_true(seen < NWRITES);
			all[seen++] = l.v[i];
		}
		after = last;
		if (done && l.n == 0)
			break;
	}
	if (!done)
		assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(seen, NWRITES);
	assert_int_equal(log_after(f->st, after, 100, &l), after);
}

static void
test_two_handles(void **state)
{
	struct fixture *f = *state;
	struct record *r[1], *got;
	struct store_result res;
	struct store *ro, *rw;
	int rc;

	/* A reader and a second writer beside the first handle. */
	ro = store_open(f->dir, STORE_RDONLY, 0, &rc);
	assert_non_null(ro);
	rw = store_open(f->dir, STORE_NOSYNC, 0, &rc);
	assert_non_null(rw);
	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	assert_int_equal(store_apply(rw, r, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(store_get(ro, record_id(r[0]), &got), 0);
	record_free(got);
	assert_int_equal(store_get(f->st, record_id(r[0]), &got), 0);
	record_free(got);
	/* The read-only handle refuses writes. */
	assert_int_equal(store_apply(ro, r, 1, &res, NULL, NULL), KITH_EINVAL);
	/* Local writes through either handle continue one sequence. */
	{
		struct store_draft d[2];
		const struct record_header *h;
		uint8_t *b;

		memset(d, 0, sizeof(d));
		b = tu_body(&d[0].blen, "status", "claimed", NULL);
		for (int i = 0; i < 2; i++) {
			d[i].kind = KITH_KIND_REQUEST;
			memcpy(d[i].entity, E1, KITH_ENTITY_LEN);
			d[i].body = b;
			d[i].blen = d[0].blen;
		}
		assert_int_equal(store_write(f->st, f->b, &d[0], 1), 0);
		assert_int_equal(store_write(rw, f->b, &d[1], 1), 0);
		assert_true(d[1].hlc > d[0].hlc);
		assert_int_equal(store_get(ro, d[1].id, &got), 0);
		h = record_header(got);
		assert_int_equal(h->seq, 2);
		assert_int_equal(h->nparents, 1);
		assert_memory_equal(h->parents[0], d[0].id, 32);
		record_free(got);
		assert_int_equal(store_get(f->st, d[1].id, &got), 0);
		record_free(got);
		assert_int_equal(store_author_forked(ro, kcrypto_key_public(
		    f->b)), 0);
		free(b);
	}
	store_close(ro);
	store_close(rw);
	record_free(r[0]);
}

/*
 * A store past its initial map size: batches that hit the end of the map
 * are retried in a grown map with nothing lost, and a handle opened before
 * the growth still reads.
 */
static void
test_map_grows(void **state)
{
	struct fixture *f = *state;
	struct record *r[100], *got;
	struct store_result res;
	struct store_stats ss;
	struct store *other;
	char big[4000];
	uint8_t ent[KITH_ENTITY_LEN], first[KITH_ID_LEN], last[KITH_ID_LEN];
	uint64_t seq = 1;
	size_t checked, nbad, total = 0;
	int rc, i, round;

	other = store_open(f->dir, STORE_NOSYNC, 0, &rc);
	assert_non_null(other);
	memset(big, 'g', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (round = 0; round < 400; round++) {
		for (i = 0; i < 100; i++, seq++) {
			memset(ent, 0x6e, sizeof(ent));
			memcpy(ent, &seq, sizeof(seq));
			r[i] = req(f, f->a, seq, seq, ent, NULL, 0, "notes",
			    big);
		}
		assert_int_equal(store_apply(f->st, r, 100, &res, NULL, NULL),
		    0);
		assert_int_equal(res.added, 100);
		assert_int_equal(res.duplicate, 0);
		total += res.added;
		if (round == 0)
			memcpy(first, record_id(r[0]), KITH_ID_LEN);
		memcpy(last, record_id(r[99]), KITH_ID_LEN);
		for (i = 0; i < 100; i++)
			record_free(r[i]);
		assert_int_equal(store_stats(f->st, &ss), 0);
		if (ss.map_bytes > STORE_MAP_INITIAL)
			break;
	}
	assert_true(ss.map_bytes > STORE_MAP_INITIAL);
	assert_int_equal(ss.records, total + 1 + 2);
	/* The other handle adopts the larger map and sees everything. */
	assert_int_equal(store_get(other, first, &got), 0);
	record_free(got);
	assert_int_equal(store_get(other, last, &got), 0);
	record_free(got);
	assert_int_equal(store_verify(other, on_bad, &(struct bad){ .n = 0 },
	    &checked, &nbad), 0);
	assert_int_equal(checked, total + 1 + 2);
	assert_int_equal(nbad, 0);
	store_close(other);
}

static void
test_map_full(void **state)
{
	struct fixture *f = *state;
	struct record *r[20], *got, *first = NULL;
	struct store_result res;
	struct store *st;
	char dir[256], big[1000];
	uint8_t ent[KITH_ENTITY_LEN], net[KITH_NETWORK_LEN];
	uint64_t seq = 1;
	int rc = 0, i, rounds = 0;

	/* A store whose map may not grow past 1 MiB. */
	tu_tmpdir(dir, sizeof(dir));
	st = store_open(dir, STORE_CREATE | STORE_NOSYNC, 1 << 20, &rc);
	assert_non_null(st);
	store_close(st);
	(void)net;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		struct record *ch;

		st = store_open(dir, STORE_NOSYNC, 1 << 20, &rc);
		assert_non_null(st);
		assert_int_equal(store_charter(f->st, &ch), 0);
		assert_int_equal(store_init_network(st, ch), 0);
		record_free(ch);
	}
	while (rounds++ < 1000) {
		for (i = 0; i < 20; i++) {
			memset(ent, 0, sizeof(ent));
			memcpy(ent, &seq, sizeof(seq));
			r[i] = req(f, f->a, seq, seq, ent, NULL, 0, "notes",
			    big);
			seq++;
		}
		rc = store_apply(st, r, 20, &res, NULL, NULL);
		if (rc == 0 && first == NULL)
			first = r[0], r[0] = NULL;
		free_all(r, 20);
		if (rc != 0)
			break;
	}
	/* The map fills with a clear error, and what was stored stays. */
	assert_int_equal(rc, KITH_EMAPFULL);
	assert_int_equal(res.added, 0);
	assert_non_null(first);
	assert_int_equal(store_get(st, record_id(first), &got), 0);
	record_free(got);
	/* Nothing of the failed batch was committed. */
	{
		size_t checked, nbad;
		struct store_stats ss;
		struct bad b = { .n = 0 };

		assert_int_equal(store_stats(st, &ss), 0);
		assert_int_equal(ss.records, (size_t)(rounds - 1) * 20 + 1);
		assert_true(ss.map_bytes <= 1 << 20);
		assert_int_equal(store_verify(st, on_bad, &b, &checked, &nbad),
		    0);
		assert_int_equal(checked, ss.records);
		assert_int_equal(nbad, 0);
	}
	/* A small record may still fit; a reopened store reads the rest. */
	store_close(st);
	st = store_open(dir, STORE_NOSYNC, 1 << 20, &rc);
	assert_non_null(st);
	assert_int_equal(store_get(st, record_id(first), &got), 0);
	record_free(got);
	record_free(first);
	store_close(st);
	tu_rmrf(dir);
}

static void
test_stats_compact(void **state)
{
	struct fixture *f = *state;
	struct record *r[3];
	struct store_result res;
	struct store_stats ss;
	struct store *st;
	char path[400], dir[300];
	size_t checked, nbad;
	int rc;

	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	r[1] = req(f, f->a, 2, 2, E2, NULL, 0, "category", "advice");
	{
		uint8_t *b;
		size_t blen;

		uint8_t nonce[KITH_NONCE_LEN];

		b = tu_body(&blen, "name", "Vol", NULL);
		memset(nonce, 0x33, sizeof(nonce));
		tu_nonce = nonce;
		r[2] = tu_record(f->b, f->net, 1, f->t0 + 3,
		    KITH_KIND_VOLUNTEER, E3, NULL, 0, b, blen);
		tu_nonce = NULL;
		free(b);
	}
	assert_int_equal(store_apply(f->st, r, 3, &res, NULL, NULL), 0);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.records, 4 + 2);
	assert_int_equal(ss.bodies, 4 + 2);
	assert_int_equal(ss.entities, 4 + 2);
	assert_int_equal(ss.by_kind[0], 2);	/* requests */
	assert_int_equal(ss.by_kind[1], 1);	/* volunteers */
	assert_int_equal(ss.by_kind[2], 0);	/* referrals */
	assert_int_equal(ss.by_kind[5], 1 + 2);	/* charter, members */
	assert_true(ss.used_bytes > 0 && ss.used_bytes <= ss.map_bytes);
	/* A compacted copy opens and verifies. */
	snprintf(dir, sizeof(dir), "%s/copy", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(store_compact(f->st, path), 0);
	{
		struct stat a, b;
		char orig[400];

		snprintf(orig, sizeof(orig), "%s/data.mdb", f->dir);
		assert_int_equal(stat(orig, &a), 0);
		assert_int_equal(stat(path, &b), 0);
		assert_true(b.st_size > 0);
		assert_true(b.st_size <= a.st_size);
		assert_true((uint64_t)b.st_size <= ss.used_bytes + 4096 * 4);
	}
	st = store_open(dir, STORE_RDONLY, 0, &rc);
	assert_non_null(st);
	assert_int_equal(store_verify(st, on_bad, &(struct bad){ .n = 0 },
	    &checked, &nbad), 0);
	assert_int_equal(checked, 4 + 2);
	assert_int_equal(nbad, 0);
	store_close(st);
	/* Compacting onto an existing file is refused. */
	assert_int_not_equal(store_compact(f->st, path), 0);
	free_all(r, 3);
}

/* Records store_quarantine lists. */
struct held {
	size_t n;
	int why[8];
};

static int
on_held(void *arg, const struct record *rec, int why)
{
	struct held *h = arg;

	(void)rec;
	if (h->n < 8)
		h->why[h->n] = why;
	h->n++;
	return 0;
}

/*
 * A non-member's records are stored but not applied until an admin admits
 * the key; a revoked key's records from the revocation on never apply.
 */
static void
test_quarantine(void **state)
{
	struct fixture *f = *state;
	struct kcrypto_key *c = tu_key(9);
	struct record *r[4], *rv;
	struct store_result res;
	struct held h = { 0 };
	struct state *s;
	struct body *bb;
	char hex[2 * KITH_KEY_LEN + 1], lhex[2 * KITH_ID_LEN + 1];
	uint8_t *b, ent[KITH_ENTITY_LEN], orphan[KITH_ENTITY_LEN];
	uint64_t now;
	size_t len;

	r[0] = req(f, c, 1, 1, E1, NULL, 0, "category", "food");
	assert_int_equal(store_apply(f->st, r, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(res.held, 1);
	assert_int_equal(store_state(f->st, E1, &s), KITH_ENOTFOUND);
	assert_int_equal(store_quarantine(f->st, on_held, &h), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.why[0], KITH_ENOTFOUND);
	/* A member's (not an admin's) admission changes nothing. */
	tu_admit(f->st, f->a, c, "member");
	assert_int_equal(store_state(f->st, E1, &s), KITH_ENOTFOUND);
	/* An admin's applies what waited. */
	tu_admit(f->st, f->admin, c, "member");
	assert_int_equal(store_state(f->st, E1, &s), 0);
	state_free(s);
	h.n = 0;
	assert_int_equal(store_quarantine(f->st, on_held, &h), 0);
	assert_int_equal(h.n, 0);
	/*
	 * Revoked naming its first record as the last accepted: its later
	 * records are held however they are stamped, earlier or later.
	 */
	now = HLC_MAKE(hlc_wall_ms(), 0);
	kith_hex(hex, kcrypto_key_public(c), KITH_KEY_LEN);
	kith_hex(lhex, record_id(r[0]), KITH_ID_LEN);
	roster_member_entity(kcrypto_key_public(c), ent);
	assert_non_null(bb = body_new());
	assert_int_equal(body_set_str(bb, "key", 0, hex), 0);
	assert_int_equal(body_set_str(bb, "last", 0, lhex), 0);
	assert_int_equal(body_set_int(bb, "last_seq", 0, 1), 0);
	assert_int_equal(body_encode(bb, &b, &len), 0);
	body_free(bb);
	rv = tu_record(f->admin, f->net, 50, now + HLC_MAKE(1000, 0),
	    KITH_KIND_REVOKE, ent, NULL, 0, b, len);
	free(b);
	r[1] = req(f, c, 2, now + HLC_MAKE(2000, 0) - f->t0, E2, NULL, 0,
	    "category", "advice");
	r[2] = req(f, c, 3, 1, E3, NULL, 0, "category", "other");
	assert_int_equal(store_apply(f->st, &r[1], 2, &res, NULL, NULL), 0);
	assert_int_equal(store_state(f->st, E2, &s), 0);	/* not yet */
	state_free(s);
	assert_int_equal(store_apply(f->st, &rv, 1, &res, NULL, NULL), 0);
	assert_int_equal(store_state(f->st, E2, &s), KITH_ENOTFOUND);
	assert_int_equal(store_state(f->st, E3, &s), KITH_ENOTFOUND);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	state_free(s);
	h.n = 0;
	assert_int_equal(store_quarantine(f->st, on_held, &h), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.why[0], KITH_EREVOKED);
	assert_int_equal(h.why[1], KITH_EREVOKED);
	/* A record whose entity's genesis has not come is listed so. */
	memset(orphan, 0x99, sizeof(orphan));
	r[3] = req(f, f->a, 9, 9, orphan, NULL, 0, "category", "food");
	assert_int_equal(store_apply(f->st, &r[3], 1, &res, NULL, NULL), 0);
	assert_int_equal(store_state(f->st, orphan, &s), KITH_ENOTFOUND);
	h.n = 0;
	assert_int_equal(store_quarantine(f->st, on_held, &h), 0);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.why[2], KITH_ENOGENESIS);
	record_free(rv);
	free_all(r, 4);
	kcrypto_key_free(c);
}

/*
 * An erase record from the entity's author drops the bodies and keeps them
 * out; one from a member who neither started the entity nor is an admin is
 * kept as evidence and changes nothing.
 */
static void
test_erase(void **state)
{
	struct fixture *f = *state;
	struct record *r[4];
	struct store_result res;
	struct store_stats ss0, ss;
	struct state *s;
	uint8_t p[1][32], *b;
	size_t len;

	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	memcpy(p[0], record_id(r[0]), 32);
	b = tu_body(&len, "reason", "asked", NULL);
	r[1] = tu_record(f->b, f->net, 1, f->t0 + 2, KITH_KIND_ERASE, E1, p, 1,
	    b, len);
	r[2] = tu_record(f->a, f->net, 2, f->t0 + 3, KITH_KIND_ERASE, E1, p, 1,
	    b, len);
	free(b);
	r[3] = req(f, f->a, 3, 4, E1, p, 1, "urgency", "2");
	assert_int_equal(store_apply(f->st, r, 2, &res, NULL, NULL), 0);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_null(state_get(s, "erased"));
	state_free(s);
	assert_int_equal(store_stats(f->st, &ss0), 0);
	assert_int_equal(store_apply(f->st, &r[2], 1, &res, NULL, NULL), 0);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_non_null(state_get(s, "erased"));
	assert_null(state_get(s, "category"));
	state_free(s);
	/* The request's body is gone; both erase records keep theirs. */
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.bodies, ss0.bodies + 1 - 1);
	/* A later record of the entity is stored without its body. */
	assert_int_equal(store_apply(f->st, &r[3], 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.records, ss0.records + 2);
	assert_int_equal(ss.bodies, ss0.bodies);
	free_all(r, 4);
}

/*
 * Bodies count as absent from the moment they expire, purged or not, so
 * every node's state agrees then; the purge drops them, headers stay.
 */
static int
count_missing(void *arg, uint64_t hlc, const uint8_t id[KITH_ID_LEN])
{

	(void)hlc;
	(void)id;
	(*(size_t *)arg)++;
	return 0;
}

static void
test_purge(void **state)
{
	struct fixture *f = *state;
	struct record *r[3];
	struct store_result res;
	struct store_stats ss0, ss;
	struct state *s;
	uint8_t d1[KITH_HASH_LEN], d2[KITH_HASH_LEN];
	uint64_t expiry = hlc_wall_ms() + 300, next;
	size_t purged, missing = 0;

	tu_expiry = expiry;
	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	tu_expiry = hlc_wall_ms() + 3600000;
	r[1] = req(f, f->a, 2, 2, E2, NULL, 0, "category", "advice");
	/* Expired before it arrives: stored without its body. */
	tu_expiry = hlc_wall_ms() - 1000;
	r[2] = req(f, f->a, 3, 3, E3, NULL, 0, "category", "other");
	tu_expiry = 0;
	assert_int_equal(store_apply(f->st, r, 3, &res, NULL, NULL), 0);
	assert_int_equal(store_next_expiry(f->st, &next), 0);
	assert_true(next == expiry);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_non_null(state_get(s, "category"));
	state_free(s);
	assert_int_equal(store_state(f->st, E3, &s), 0);
	assert_null(state_get(s, "category"));
	state_free(s);
	/* An expired body is not wanted from peers either. */
	assert_int_equal(store_missing(f->st, count_missing, &missing), 0);
	assert_int_equal(missing, 0);
	assert_int_equal(store_stats(f->st, &ss0), 0);
	while (hlc_wall_ms() <= expiry)
		;	/* the expiry is a moment, not an event to wait for */
	/* Expired, not purged yet: reads and the digest see it gone. */
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_null(state_get(s, "category"));
	state_free(s);
	assert_int_equal(store_digest(f->st, d1), 0);
	assert_int_equal(store_purge(f->st, hlc_wall_ms(), &purged), 0);
	assert_int_equal(purged, 1);
	assert_int_equal(store_digest(f->st, d2), 0);
	assert_memory_equal(d1, d2, KITH_HASH_LEN);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_int_equal(ss.bodies, ss0.bodies - 1);
	assert_int_equal(ss.records, ss0.records);
	assert_int_equal(store_state(f->st, E2, &s), 0);
	assert_non_null(state_get(s, "category"));
	state_free(s);
	/* Again: nothing left to purge. */
	assert_int_equal(store_purge(f->st, hlc_wall_ms(), &purged), 0);
	assert_int_equal(purged, 0);
	free_all(r, 3);
}

/*
 * A header that arrives without its body wants the body: the copy that
 * comes with it later (a duplicate id) fills it in and applies, and the
 * store no longer lists it as missing.
 */
static void
test_body_later(void **state)
{
	struct fixture *f = *state;
	struct record *full, *bare;
	struct store_result res;
	struct state *s;
	const uint8_t *sh;
	size_t len, missing = 0;

	full = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	sh = record_signed(full, &len);
	assert_int_equal(record_decode(sh, len, NULL, 0, &bare), 0);
	assert_int_equal(store_apply(f->st, &bare, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_null(state_get(s, "category"));
	state_free(s);
	assert_int_equal(store_missing(f->st, count_missing, &missing), 0);
	assert_int_equal(missing, 1);
	/* The bare copy again changes nothing; the full one fills it in. */
	assert_int_equal(store_apply(f->st, &bare, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.duplicate, 1);
	assert_int_equal(res.bodies, 0);
	assert_int_equal(store_apply(f->st, &full, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.duplicate, 1);
	assert_int_equal(res.bodies, 1);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_non_null(state_get(s, "category"));
	state_free(s);
	missing = 0;
	assert_int_equal(store_missing(f->st, count_missing, &missing), 0);
	assert_int_equal(missing, 0);
	assert_int_equal(store_apply(f->st, &full, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.bodies, 0);
	record_free(full);
	record_free(bare);
}

/*
 * An entity takes at most KITH_ENTITY_MAX records, and past half of that
 * only from its creator or an admin: a member cannot fill someone's
 * entity up.  Bodies of records past the cap, and clear personal fields,
 * are refused at ingest with their own errors.
 */
static void
test_entity_full(void **state)
{
	struct fixture *f = *state;
	struct record **r, *x;
	struct store_result res;
	struct rejects rj = { { 0 }, 0 };
	uint8_t p[1][32], *b;
	size_t i, n = KITH_ENTITY_MAX / 2, len;

	assert_non_null(r = calloc(n, sizeof(*r)));
	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	memcpy(p[0], record_id(r[0]), 32);
	for (i = 1; i < n; i++)
		r[i] = req(f, f->b, i, 1 + i, E1, p, 1, "urgency", "2");
	assert_int_equal(store_apply(f->st, r, n, &res, NULL, NULL), 0);
	assert_int_equal(res.added, n);
	/* Half full: the member is refused, the creator and an admin not. */
	x = req(f, f->b, n, 1 + n, E1, p, 1, "urgency", "3");
	assert_int_equal(store_apply(f->st, &x, 1, &res, on_reject, &rj), 0);
	assert_int_equal(res.rejected, 1);
	assert_int_equal(rj.rc[0], KITH_EFULL);
	record_free(x);
	x = req(f, f->a, 2, 2 + n, E1, p, 1, "urgency", "1");
	assert_int_equal(store_apply(f->st, &x, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	record_free(x);
	x = req(f, f->admin, 50, 3 + n, E1, p, 1, "urgency", "1");
	assert_int_equal(store_apply(f->st, &x, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	record_free(x);
	for (i = 0; i < n; i++)
		record_free(r[i]);
	free(r);
	/* Personal fields in the clear; a section of too many fields. */
	b = tu_body(&len, "category", "food", "*name", "Ann", NULL);
	x = tu_record(f->a, f->net, 3, f->t0 + 9, KITH_KIND_REQUEST, E1, p, 1,
	    b, len);
	free(b);
	rj.n = 0;
	assert_int_equal(store_apply(f->st, &x, 1, &res, on_reject, &rj), 0);
	assert_int_equal(rj.rc[0], KITH_EINVAL);
	record_free(x);
	{
		struct body *bb = body_new();
		char name[8];

		assert_non_null(bb);
		for (i = 0; i < KITH_FIELDS_MAX; i++) {
			snprintf(name, sizeof(name), "f%zu", i);
			assert_int_equal(body_set_str(bb, name, 0, "v"), 0);
		}
		assert_int_equal(body_set_str(bb, "one_more", 0, "v"),
		    KITH_EFIELDS);
		body_free(bb);
	}
}

/*
 * The same in one batch: each record's room is judged with the batch's
 * earlier records of its entity in the state, so the creator's record
 * past half is taken and a member's refused, as in batches of their own.
 */
static void
test_entity_full_one_batch(void **state)
{
	struct fixture *f = *state;
	struct record **r;
	struct store_result res;
	struct rejects rj = { { 0 }, 0 };
	uint8_t p[1][32];
	size_t i, n = KITH_ENTITY_MAX / 2;

	assert_non_null(r = calloc(n + 2, sizeof(*r)));
	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	memcpy(p[0], record_id(r[0]), 32);
	for (i = 1; i < n; i++)
		r[i] = req(f, f->b, i, 1 + i, E1, p, 1, "urgency", "2");
	r[n] = req(f, f->b, n, 1 + n, E1, p, 1, "urgency", "3");
	r[n + 1] = req(f, f->a, 2, 2 + n, E1, p, 1, "urgency", "1");
	assert_int_equal(store_apply(f->st, r, n + 2, &res, on_reject, &rj),
	    0);
	assert_int_equal(res.added, n + 1);
	assert_int_equal(res.rejected, 1);
	assert_int_equal(rj.rc[0], KITH_EFULL);
	for (i = 0; i < n + 2; i++)
		record_free(r[i]);
	free(r);
}

/*
 * An admin erases; a revocation that names a last record before the erase
 * takes the erasure back on every node, whatever order they got the two
 * in, and the bodies are wanted from peers again.
 */
/* Collects what store_blind_read gives: entities by hash number. */
struct blind_got {
	size_t n, dirty;
	uint8_t ent[8][KITH_ENTITY_LEN];
	size_t i[8];
};

static int
blind_got(void *arg, size_t i, const uint8_t entity[KITH_ENTITY_LEN])
{
	struct blind_got *g = arg;

	if (i > 0) {
		g->dirty++;	/* one hash asked for: dirty entities */
		return 0;
	}
	if (g->n < 8) {
		memcpy(g->ent[g->n], entity, KITH_ENTITY_LEN);
		g->i[g->n++] = i;
	}
	return 0;
}

/* How many entities hash ${h} names now; ${m} gets the mark. */
static size_t
blind_count(struct store *st, const uint8_t h[STORE_BLIND_LEN],
    struct store_blind_mark *m)
{
	struct blind_got g = { 0 };
	struct store_blind_mark mm;
	const uint8_t (*hh)[STORE_BLIND_LEN] =
	    (const uint8_t (*)[STORE_BLIND_LEN])h;

	assert_int_equal(store_blind_read(st, hh, 1, m ? m : &mm, blind_got,
	    &g), 0);
	return g.n;
}

/*
 * The blind index: entries by hash, replaced whole per entity; an update
 * from a stale view is refused; an erasure takes the entity out at once;
 * verify checks it; a rebuild drops it, to be built afresh.
 */
static void
test_blind(void **state)
{
	struct fixture *f = *state;
	struct record *r[3];
	struct store_result res;
	struct store_blind_mark m, old;
	struct store_blind_ent e[2];
	struct store_check chk;
	struct store_rebuilt rb;
	uint8_t h[3][STORE_BLIND_LEN], p[1][32], *b;
	uint64_t last;
	size_t len;

	memset(h, 0, sizeof(h));
	h[0][0] = 1;
	h[1][0] = 2;
	h[2][0] = 3;
	assert_int_equal(blind_count(f->st, h[0], &m), 0);
	assert_int_equal(m.valid, 0);	/* never built */
	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	r[1] = req(f, f->b, 1, 2, E2, NULL, 0, "category", "other");
	assert_int_equal(store_apply(f->st, r, 2, &res, NULL, NULL), 0);
	assert_int_equal(store_log_last(f->st, &last), 0);
	e[0] = (struct store_blind_ent){ E1,
	    (const uint8_t (*)[STORE_BLIND_LEN])h, 2 };
	e[1] = (struct store_blind_ent){ E2,
	    (const uint8_t (*)[STORE_BLIND_LEN])h[1], 1 };
	assert_int_equal(store_blind_update(f->st, &m, last, 1, e, 2), 0);
	assert_int_equal(blind_count(f->st, h[0], &m), 1);
	assert_int_equal(blind_count(f->st, h[1], &m), 2);
	assert_true(m.valid);
	assert_int_equal(m.at, last);
	/* A view from before that update may not write over it. */
	old = m;
	old.gen--;
	assert_int_equal(store_blind_update(f->st, &old, last, 0, e, 1),
	    KITH_EBUSY);
	/* E1 renamed: its old hashes go. */
	e[0].hash = (const uint8_t (*)[STORE_BLIND_LEN])h[2];
	e[0].n = 1;
	assert_int_equal(store_blind_update(f->st, &m, last, 0, e, 1), 0);
	assert_int_equal(blind_count(f->st, h[0], NULL), 0);
	assert_int_equal(blind_count(f->st, h[1], NULL), 1);
	assert_int_equal(blind_count(f->st, h[2], NULL), 1);
	assert_int_equal(store_check(f->st, NULL, NULL, &chk), 0);
	assert_int_equal(chk.bad_index, 0);
	/* Its creator erases E1: out of the index in the same commit. */
	memcpy(p[0], record_id(r[0]), 32);
	b = tu_body(&len, "reason", "asked", NULL);
	r[2] = tu_record(f->a, f->net, 2, f->t0 + 3, KITH_KIND_ERASE, E1, p, 1,
	    b, len);
	free(b);
	assert_int_equal(store_apply(f->st, &r[2], 1, &res, NULL, NULL), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(blind_count(f->st, h[2], &m), 0);
	/* Nor can an update from a view before the erasure put it back. */
	assert_int_equal(store_blind_update(f->st, &m, last, 0, e, 1), 0);
	assert_int_equal(blind_count(f->st, h[2], &m), 0);
	assert_int_equal(store_check(f->st, NULL, NULL, &chk), 0);
	assert_int_equal(chk.bad_index, 0);
	/* A rebuild drops the index; the next key holder builds it. */
	assert_int_equal(store_rebuild(f->st, NULL, NULL, &rb), 0);
	assert_int_equal(blind_count(f->st, h[1], &m), 0);
	assert_int_equal(m.valid, 0);
	free_all(r, 3);
}

static void
test_erase_undone(void **state)
{
	struct fixture *f = *state;
	struct record *r[2], *last, *rv;
	struct store_result res;
	struct state *s;
	struct body *bb;
	char hex[2 * KITH_KEY_LEN + 1], lhex[2 * KITH_ID_LEN + 1];
	uint8_t p[1][32], *b, ent[KITH_ENTITY_LEN];
	size_t len, missing = 0;

	tu_admit(f->st, f->admin, f->b, "admin");	/* raised to admin */
	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	memcpy(p[0], record_id(r[0]), 32);
	last = req(f, f->b, 1, 2, E2, NULL, 0, "category", "other");
	b = tu_body(&len, "reason", "asked", NULL);
	r[1] = tu_record(f->b, f->net, 2, f->t0 + 3, KITH_KIND_ERASE, E1, p, 1,
	    b, len);
	free(b);
	kith_hex(hex, kcrypto_key_public(f->b), KITH_KEY_LEN);
	kith_hex(lhex, record_id(last), KITH_ID_LEN);
	roster_member_entity(kcrypto_key_public(f->b), ent);
	assert_non_null(bb = body_new());
	assert_int_equal(body_set_str(bb, "key", 0, hex), 0);
	assert_int_equal(body_set_str(bb, "last", 0, lhex), 0);
	assert_int_equal(body_set_int(bb, "last_seq", 0, 1), 0);
	assert_int_equal(body_encode(bb, &b, &len), 0);
	body_free(bb);
	rv = tu_record(f->admin, f->net, 60, f->t0 + 1, KITH_KIND_REVOKE, ent,
	    NULL, 0, b, len);
	free(b);
	assert_int_equal(store_apply(f->st, r, 2, &res, NULL, NULL), 0);
	assert_int_equal(store_apply(f->st, &last, 1, &res, NULL, NULL), 0);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_non_null(state_get(s, "erased"));
	state_free(s);
	/* The revocation: b's erase is past its last accepted record. */
	assert_int_equal(store_apply(f->st, &rv, 1, &res, NULL, NULL), 0);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_null(state_get(s, "erased"));
	assert_null(state_get(s, "category"));	/* its body went */
	state_free(s);
	assert_int_equal(store_missing(f->st, count_missing, &missing), 0);
	assert_int_equal(missing, 1);
	/* From a peer that kept it, the body comes back. */
	assert_int_equal(store_apply(f->st, r, 1, &res, NULL, NULL), 0);
	assert_int_equal(res.bodies, 1);
	assert_int_equal(store_state(f->st, E1, &s), 0);
	assert_non_null(state_get(s, "category"));
	state_free(s);
	record_free(last);
	record_free(rv);
	free_all(r, 2);
}

/* store_db_usage: what each named database holds, and a walk cut short. */
struct usage {
	size_t calls, rec, body, stop_at;
	uint64_t bytes;
};

static int
on_db(void *arg, const char *name, size_t entries, uint64_t bytes)
{
	struct usage *u = arg;

	u->calls++;
	u->bytes += bytes;
	if (strcmp(name, "rec") == 0)
		u->rec = entries;
	if (strcmp(name, "body") == 0)
		u->body = entries;
	return u->calls == u->stop_at ? 7 : 0;
}

static void
test_db_usage(void **state)
{
	struct fixture *f = *state;
	struct record *r[2];
	struct store_result res;
	struct store_stats ss;
	struct usage u;

	r[0] = req(f, f->a, 1, 1, E1, NULL, 0, "category", "food");
	r[1] = req(f, f->a, 2, 2, E2, NULL, 0, "category", "advice");
	assert_int_equal(store_apply(f->st, r, 2, &res, NULL, NULL), 0);
	memset(&u, 0, sizeof(u));
	assert_int_equal(store_db_usage(f->st, on_db, &u), 0);
	assert_true(u.calls > 2);
	assert_int_equal(u.rec, 3 + 2);		/* charter, members, requests */
	assert_int_equal(u.body, 3 + 2);
	assert_int_equal(store_stats(f->st, &ss), 0);
	assert_true(u.bytes > 0 && u.bytes < ss.used_bytes);
	/* The callback's non-zero ends the walk and is returned. */
	memset(&u, 0, sizeof(u));
	u.stop_at = 2;
	assert_int_equal(store_db_usage(f->st, on_db, &u), 7);
	assert_int_equal(u.calls, 2);
	free_all(r, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test_setup_teardown(test_apply_and_dedup, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apply_rejects, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apply_verified, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_merge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kind_changes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_bound_lww, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_peer_clocks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_peer_versions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_after_apply, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_find_entity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_body, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_processes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order_upgrade, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_change_log, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_change_log_two_processes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_handles, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_map_grows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_map_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_quarantine, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_later, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_entity_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_entity_full_one_batch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_blind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_undone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scrub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_compact, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_db_usage, setup, teardown),
	};

	return tu_run(tests, NULL, NULL);
}
