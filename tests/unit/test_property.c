/*
 * The merge property: any store holding the same set of records has the
 * same state digest, whatever order and batches the records came in.
 *
 * Each seed makes a random record set over three authors and four
 * entities: concurrent edits of the same fields, status changes (valid and
 * invalid, forward and backward), forks (an author reusing a sequence
 * number), clock ties, records of another kind in an entity, and records
 * whose body was not carried.  Each set is applied to fresh stores in many
 * random orders and batch sizes; every digest must equal the first.
 *
 * KITH_PROPERTY_SEEDS and KITH_PROPERTY_ORDERS scale the run (defaults 50
 * and 25: 1,250 orders).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "hlc.h"
#include "kcrypto.h"
#include "kith.h"
#include "record.h"
#include "state.h"
#include "store.h"
#include "testutil.h"

#define NAUTHORS	3
#define NENTITIES	4
#define NRECORDS	28

static const char *const statuses[] = { "open", "claimed", "fulfilled",
    "cancelled", "reopened" };
static const char *const fields[] = { "urgency", "area", "notes", "status" };

struct world {
	struct kcrypto_key *admin, *authors[NAUTHORS];
	struct record *charter;
	uint8_t net[KITH_NETWORK_LEN];
	char dir[256];
	/* Over all seeds: did the sets exercise what they claim to? */
	size_t conflicts, forks, bodiless, orders;
};

static unsigned
env_count(const char *name, unsigned def)
{
	const char *s = getenv(name);
	unsigned long v;

	if (s == NULL || (v = strtoul(s, NULL, 10)) == 0)
		return def;
	return (unsigned)v;
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct store *st;

	assert_non_null(w);
	w->admin = tu_key(1);
	for (int i = 0; i < NAUTHORS; i++)
		w->authors[i] = tu_key((uint8_t)(10 + i));
	tu_tmpdir(w->dir, sizeof(w->dir));
	/* Make the network once; every store then starts from its charter. */
	st = tu_store(w->dir, w->admin, w->net);
	assert_int_equal(store_charter(st, &w->charter), 0);
	store_close(st);
	tu_rmrf(w->dir);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	record_free(w->charter);
	kcrypto_key_free(w->admin);
	for (int i = 0; i < NAUTHORS; i++)
		kcrypto_key_free(w->authors[i]);
	free(w);
	return 0;
}

/* One random record set. */
static size_t
make_set(struct world *w, uint64_t seed, struct record **recs)
{
	uint64_t rng = seed, seq[NAUTHORS] = { 0 }, t;
	uint8_t ents[NENTITIES][KITH_ENTITY_LEN];
	size_t n = 0, i;

	t = HLC_MAKE(hlc_wall_ms() - 86400000ULL, 0);
	for (i = 0; i < NENTITIES; i++) {
		memset(ents[i], 0, KITH_ENTITY_LEN);
		ents[i][0] = (uint8_t)(0x40 + i);
		ents[i][1] = (uint8_t)seed;
	}
	while (n < NRECORDS) {
		unsigned a = (unsigned)(tu_rng(&rng) % NAUTHORS);
		unsigned e = (unsigned)(tu_rng(&rng) % NENTITIES);
		uint8_t parents[KITH_PARENTS_MAX][32];
		unsigned np = 0, nf, k;
		uint64_t kind = KITH_KIND_REQUEST, s;
		struct body *b = body_new();
		uint8_t *enc;
		size_t blen;
		const struct record_header *h;

		/* Parents: up to three earlier records of the entity. */
		for (i = 0; i < n && np < 3; i++) {
			h = record_header(recs[i]);
			if (memcmp(h->entity, ents[e], KITH_ENTITY_LEN) == 0 &&
			    tu_rng(&rng) % 3 == 0)
				memcpy(parents[np++], record_id(recs[i]), 32);
		}
		/* Now and then a record of another kind in the entity. */
		if (tu_rng(&rng) % 16 == 0)
			kind = KITH_KIND_VOLUNTEER;
		/* Clocks: ties between authors happen. */
		t += tu_rng(&rng) % 3;
		/* Forks: now and then an author reuses its last number. */
		s = seq[a] > 0 && tu_rng(&rng) % 10 == 0 ? seq[a] : ++seq[a];
		nf = 1 + (unsigned)(tu_rng(&rng) % 2);
		assert_non_null(b);
		for (k = 0; k < nf; k++) {
			const char *f = fields[tu_rng(&rng) % 4];
			char v[16];

			if (strcmp(f, "status") == 0)
				snprintf(v, sizeof(v), "%s",
				    statuses[tu_rng(&rng) % 5]);
			else
				snprintf(v, sizeof(v), "v%u",
				    (unsigned)(tu_rng(&rng) % 3));
			if (body_get(b, f) != NULL)
				continue;
			if (strcmp(f, "notes") == 0)
				assert_int_equal(body_set_str(b, f, 1, v), 0);
			else if (strcmp(f, "urgency") == 0)
				assert_int_equal(body_set_int(b, f, 0,
				    v[1] - '0' + 1), 0);
			else
				assert_int_equal(body_set_str(b, f, 0, v), 0);
		}
		assert_int_equal(body_encode(b, &enc, &blen), 0);
		body_free(b);
		recs[n] = tu_record(w->authors[a], w->net, s, t, kind, ents[e],
		    (const uint8_t (*)[32])parents, np, enc, blen);
		free(enc);
		/* Now and then the body is not carried (erased, not sent). */
		if (tu_rng(&rng) % 12 == 0) {
			struct record *bare;
			const uint8_t *sh;
			size_t shlen;

			sh = record_signed(recs[n], &shlen);
			assert_int_equal(record_decode(sh, shlen, NULL, 0,
			    &bare), 0);
			record_free(recs[n]);
			recs[n] = bare;
			w->bodiless++;
		}
		n++;
	}
	return n;
}

/* Apply ${recs} in the order ${ord}, in random batches; return digest. */
static void
digest_of(struct world *w, struct record **recs, const size_t *ord,
    size_t n, uint64_t *rng, uint8_t out[32], size_t *forks)
{
	struct record *batch[NRECORDS + 1];
	struct store_result res;
	struct store *st;
	size_t i = 0, k, m, dup;
	int rc;

	tu_tmpdir(w->dir, sizeof(w->dir));
	st = store_open(w->dir, STORE_CREATE | STORE_NOSYNC, 0, &rc);
	assert_non_null(st);
	assert_int_equal(store_init_network(st, w->charter), 0);
	*forks = 0;
	while (i < n) {
		m = 1 + (size_t)(tu_rng(rng) % 8);
		if (m > n - i)
			m = n - i;
		for (k = 0; k < m; k++)
			batch[k] = recs[ord[i + k]];
		dup = 0;
		/* Now and then a record already held comes again, anywhere. */
		if (i > 0 && tu_rng(rng) % 3 == 0) {
			k = (size_t)(tu_rng(rng) % (m + 1));
			batch[m] = batch[k];
			batch[k] = recs[ord[tu_rng(rng) % i]];
			dup = 1;
		}
		assert_int_equal(store_apply(st, batch, m + dup, &res, NULL,
		    NULL), 0);
		assert_int_equal(res.rejected, 0);
		assert_int_equal(res.added, m);
		assert_int_equal(res.duplicate, dup);
		*forks += res.forks;
		i += m;
	}
	assert_int_equal(store_digest(st, out), 0);
	store_close(st);
	tu_rmrf(w->dir);
}

static int
count_conflicts(void *arg, const struct state *s)
{
	*(size_t *)arg += state_nconflicts(s);
	return 0;
}

static void
test_digest_order_independent(void **state)
{
	struct world *w = *state;
	unsigned seeds = env_count("KITH_PROPERTY_SEEDS", 50);
	unsigned orders = env_count("KITH_PROPERTY_ORDERS", 25);
	struct record *recs[NRECORDS];
	size_t ord[NRECORDS], n, i, j, tmp, forks, forks0;
	uint8_t ref[32], d[32];

	for (uint64_t seed = 1; seed <= seeds; seed++) {
		uint64_t rng = seed * 7919;

		n = make_set(w, seed, recs);
		for (i = 0; i < n; i++)
			ord[i] = i;
		/* The reference: every record in one batch, in order. */
		{
			struct store_result res;
			struct store *st;
			int rc;

			tu_tmpdir(w->dir, sizeof(w->dir));
			st = store_open(w->dir, STORE_CREATE | STORE_NOSYNC, 0,
			    &rc);
			assert_non_null(st);
			assert_int_equal(store_init_network(st, w->charter),
			    0);
			assert_int_equal(store_apply(st, recs, n, &res, NULL,
			    NULL), 0);
			assert_int_equal(res.added, n);
			forks0 = res.forks;
			assert_int_equal(store_digest(st, ref), 0);
			assert_int_equal(store_states(st, KITH_KIND_REQUEST,
			    count_conflicts, &w->conflicts), 0);
			store_close(st);
			tu_rmrf(w->dir);
		}
		w->forks += forks0;
		for (unsigned o = 0; o < orders; o++) {
			/* Fisher-Yates shuffle. */
			for (i = n - 1; i > 0; i--) {
				j = (size_t)(tu_rng(&rng) % (i + 1));
				tmp = ord[i];
				ord[i] = ord[j];
				ord[j] = tmp;
			}
			digest_of(w, recs, ord, n, &rng, d, &forks);
			if (memcmp(d, ref, 32) != 0)
				fail_msg("seed %llu order %u: digest differs",
				    (unsigned long long)seed, o);
			/* A fork is found whichever record came first. */
			assert_int_equal(forks, forks0);
			w->orders++;
		}
		for (i = 0; i < n; i++)
			record_free(recs[i]);
	}
	printf("property: %u seeds, %zu orders, %zu conflicts, %zu forks, "
	    "%zu records without body: digests equal\n", seeds, w->orders,
	    w->conflicts, w->forks, w->bodiless);
	/* The sets must have exercised what the test claims. */
	assert_true(w->orders >= (size_t)seeds * orders);
	assert_true(w->conflicts > 0);
	assert_true(w->forks > 0);
	assert_true(w->bodiless > 0);
}

/* The same property one level down, without the store, over more orders. */
static void
test_state_order_independent(void **state)
{
	struct world *w = *state;
	struct record *recs[NRECORDS], *ent[NRECORDS];
	struct state *s;
	uint8_t *ref;
	const uint8_t *p;
	size_t n, i, j, k, m, len, reflen;
	uint64_t rng = 4242;

	for (uint64_t seed = 100; seed < 120; seed++) {
		n = make_set(w, seed, recs);
		/* The first entity's records. */
		for (i = 0, m = 0; i < n; i++)
			if (memcmp(record_header(recs[i])->entity,
			    record_header(recs[0])->entity,
			    KITH_ENTITY_LEN) == 0)
				ent[m++] = recs[i];
		assert_int_equal(state_compute(ent, m, &s), 0);
		p = state_encoded(s, &reflen);
		ref = malloc(reflen);
		memcpy(ref, p, reflen);
		state_free(s);
		for (k = 0; k < 200; k++) {
			for (i = m - 1; i > 0; i--) {
				struct record *t;

				j = (size_t)(tu_rng(&rng) % (i + 1));
				t = ent[i];
				ent[i] = ent[j];
				ent[j] = t;
			}
			assert_int_equal(state_compute(ent, m, &s), 0);
			p = state_encoded(s, &len);
			assert_int_equal(len, reflen);
			assert_memory_equal(p, ref, len);
			state_free(s);
		}
		free(ref);
		for (i = 0; i < n; i++)
			record_free(recs[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_order_independent),
		cmocka_unit_test(test_state_order_independent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
