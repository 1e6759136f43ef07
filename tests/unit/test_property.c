/*
 * The merge property: any store holding the same set of records has the
 * same state digest, whatever order and batches the records came in.
 *
 * Each seed makes a random record set of 20 to 40 records over three or
 * four authors and three to five entities: sequential edits (parents are
 * the entity's heads), concurrent edits (parents are one branch, a stale
 * record or none), merges whose parents cover several heads, status
 * changes (valid and invalid, forward and backward), forks (an author
 * reusing a sequence number), clock ties and skewed clocks, records of
 * another kind in an entity (which can change the entity's kind when its
 * clock is earliest), and records whose body was not carried.  Membership
 * too: an admin admits a second admin, who admits a member; one author is
 * admitted only after its records, or never (its records wait in
 * quarantine, a non-admin's forged admission notwithstanding); one author
 * is revoked halfway (its later records are never applied); a non-admin
 * forges a revocation; and an entity is erased by its creator, an admin,
 * or (to no effect) someone else.
 *
 * Each set is applied to fresh stores in many random orders and random
 * batch sizes (1..n, with repeats of records already held); the digest,
 * the per-kind listings and the counts must equal the first store's, and
 * the digest must equal one computed from proto's state_compute alone.
 * One level down, state_compute is run over many more permutations.
 *
 * KITH_PROPERTY_SEEDS and KITH_PROPERTY_ORDERS scale the run (defaults 50
 * and 25: 1,250 store orders).
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
#include "roster.h"
#include "state.h"
#include "store.h"
#include "testutil.h"

#define MAXAUTHORS	4
#define MAXENTITIES	5
#define MAXRECORDS	56

static const char *const statuses[] = { "open", "claimed", "fulfilled",
    "cancelled", "reopened" };
static const char *const fields[] = { "urgency", "area", "notes", "status" };

struct world {
	struct kcrypto_key *admin, *authors[MAXAUTHORS];
	struct record *charter;
	uint8_t net[KITH_NETWORK_LEN];
	char dir[256];
	/* Over all seeds: did the sets exercise what they claim to? */
	size_t conflicts, forks, bodiless, merges, mixed, orders;
	size_t records, stateorders, held, erased;
};

/* What a store holds, beyond its digest, that must not depend on order. */
struct summary {
	uint8_t digest[KITH_HASH_LEN];
	uint8_t listing[4][KITH_HASH_LEN];	/* per-kind entity lists */
	size_t count[4];
	struct store_stats ss;
};

static const uint64_t listed_kinds[4] = { KITH_KIND_REQUEST,
    KITH_KIND_VOLUNTEER, KITH_KIND_REFERRAL, 0 };

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
	for (int i = 0; i < MAXAUTHORS; i++)
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
	for (int i = 0; i < MAXAUTHORS; i++)
		kcrypto_key_free(w->authors[i]);
	free(w);
	return 0;
}

/* A random body of one or two fields. */
static void
make_body(uint64_t *rng, uint8_t **enc, size_t *blen)
{
	struct body *b = body_new();
	unsigned nf = 1 + (unsigned)(tu_rng(rng) % 2), k;

	assert_non_null(b);
	for (k = 0; k < nf; k++) {
		const char *f = fields[tu_rng(rng) % 4];
		char v[16];

		if (strcmp(f, "status") == 0)
			snprintf(v, sizeof(v), "%s", statuses[tu_rng(rng) % 5]);
		else
			snprintf(v, sizeof(v), "v%u",
			    (unsigned)(tu_rng(rng) % 3));
		if (body_get(b, f) != NULL)
			continue;
		if (strcmp(f, "notes") == 0)
			assert_int_equal(body_set_str(b, f, 1, v), 0);
		else if (strcmp(f, "urgency") == 0)
			assert_int_equal(body_set_int(b, f, 0, v[1] - '0' + 1),
			    0);
		else
			assert_int_equal(body_set_str(b, f, 0, v), 0);
	}
	assert_int_equal(body_encode(b, enc, blen), 0);
	body_free(b);
}

/* A member (${role} not NULL) or revoke record about ${who}, by ${by}. */
static struct record *
member_record(struct world *w, const struct kcrypto_key *by, uint64_t seq,
    uint64_t hlc, const struct kcrypto_key *who, const char *role)
{
	uint8_t ent[KITH_ENTITY_LEN], *b;
	char hex[2 * KITH_KEY_LEN + 1];
	struct record *r;
	size_t len;

	kith_hex(hex, kcrypto_key_public(who), KITH_KEY_LEN);
	if (role != NULL) {
		roster_member_entity(kcrypto_key_public(who), ent);
		b = tu_body(&len, "key", hex, "org", "org", "role", role, NULL);
	} else {
		memset(ent, 0x77, sizeof(ent));
		ent[1] = (uint8_t)hlc;
		b = tu_body(&len, "key", hex, NULL);
	}
	r = tu_record(by, w->net, seq, hlc, role != NULL ? KITH_KIND_MEMBER :
	    KITH_KIND_REVOKE, ent, NULL, 0, b, len);
	free(b);
	return r;
}

/*
 * One random record set in ${recs}; return its size.  Heads are tracked
 * while the set grows, so that parents can be chosen to make sequential
 * edits, concurrent edits and merges on purpose.
 */
static size_t
make_set(struct world *w, uint64_t seed, struct record **recs)
{
	uint64_t rng = seed * 0x9e3779b97f4a7c15ULL, seq[MAXAUTHORS] = { 0 };
	uint64_t t, hlc, t0, aseq = 100;
	uint8_t ents[MAXENTITIES][KITH_ENTITY_LEN];
	unsigned ofent[MAXRECORDS], ishead[MAXRECORDS];
	unsigned nauthors = 3 + (unsigned)(tu_rng(&rng) % 2);
	unsigned nent = 3 + (unsigned)(tu_rng(&rng) % 3);
	size_t nrec = 26 + (size_t)(tu_rng(&rng) % 21), n, i;
	struct kcrypto_key **a = w->authors;

	t = t0 = HLC_MAKE(hlc_wall_ms() - 86400000ULL, 0);
	/* Membership first: an admin admits an admin, who admits a member. */
	n = 0;
	recs[n++] = member_record(w, w->admin, ++aseq, t0, a[0], "admin");
	recs[n++] = member_record(w, a[0], ++seq[0], t0 + 1, a[1], "member");
	if (seed % 3 == 0)
		/* Forged: a member is no admin; a[2] is never admitted. */
		recs[n++] = member_record(w, a[1], ++seq[1], t0 + 2, a[2],
		    "member");
	if (nauthors == 4)
		recs[n++] = member_record(w, w->admin, ++aseq, t0 + 2, a[3],
		    "pcn");
	if (seed % 5 == 0)
		/* Forged: a member cannot revoke an admin. */
		recs[n++] = member_record(w, a[1], ++seq[1], t0 + 3, a[0],
		    NULL);
	for (i = 0; i < n; i++) {
		ofent[i] = MAXENTITIES;		/* in no entity of the set */
		ishead[i] = 0;
	}
	nrec += n;
	for (i = 0; i < nent; i++) {
		memset(ents[i], 0, KITH_ENTITY_LEN);
		ents[i][0] = (uint8_t)(0x40 + i);
		ents[i][1] = (uint8_t)seed;
		ents[i][2] = (uint8_t)(seed >> 8);
	}
	for (; n < nrec; n++) {
		unsigned au = (unsigned)(tu_rng(&rng) % nauthors);
		unsigned e = (unsigned)(tu_rng(&rng) % nent);
		uint8_t parents[KITH_PARENTS_MAX][32];
		size_t cand[MAXRECORDS], nc = 0, nh = 0;
		unsigned np = 0, mode;
		uint64_t kind = KITH_KIND_REQUEST, s;
		uint8_t *enc;
		size_t blen;

		/* The last record merges an entity with several heads. */
		if (n == nrec - 1) {
			size_t heads[MAXENTITIES] = { 0 };

			for (i = 0; i < n; i++)
				if (ofent[i] < MAXENTITIES)	/* membership: none */
					heads[ofent[i]] += ishead[i];
			for (i = 0; i < nent; i++)
				if (heads[i] > heads[e])
					e = (unsigned)i;
		}
		for (i = 0; i < n; i++)
			if (ofent[i] == e) {
				cand[nc++] = i;
				nh += ishead[i];
			}
		mode = (unsigned)(tu_rng(&rng) % 20);
		if (n == nrec - 1)
			mode = 0;
		if (nc == 0) {
			/* A new entity. */
		} else if (mode < 8) {
			/* Sequential, or a merge if there are several heads. */
			for (i = 0; i < nc && np < KITH_PARENTS_MAX; i++)
				if (ishead[cand[i]])
					memcpy(parents[np++],
					    record_id(recs[cand[i]]), 32);
			if (np > 1)
				w->merges++;
		} else if (mode < 13) {
			/* One branch only: concurrent with the others. */
			size_t pick = (size_t)(tu_rng(&rng) % nh), k = 0;

			for (i = 0; i < nc; i++)
				if (ishead[cand[i]] && k++ == pick)
					memcpy(parents[np++],
					    record_id(recs[cand[i]]), 32);
		} else if (mode < 18) {
			/* A stale view: one or two earlier records. */
			unsigned want = 1 + (unsigned)(tu_rng(&rng) % 2);

			while (np < want) {
				i = cand[tu_rng(&rng) % nc];
				if (np == 1 && memcmp(parents[0],
				    record_id(recs[i]), 32) == 0)
					break;
				memcpy(parents[np++], record_id(recs[i]), 32);
			}
		}
		/* else no parents: concurrent with everything. */
		for (unsigned k = 0; k < np; k++)
			for (i = 0; i < n; i++)
				if (memcmp(parents[k], record_id(recs[i]),
				    32) == 0)
					ishead[i] = 0;
		/* Now and then a record of another kind in the entity. */
		if (tu_rng(&rng) % 14 == 0)
			kind = KITH_KIND_VOLUNTEER;
		/* Clocks: ties happen, and now and then one runs behind. */
		t += tu_rng(&rng) % 3;
		hlc = t;
		if (tu_rng(&rng) % 8 == 0)
			hlc = t - tu_rng(&rng) % 40;
		/* Forks: now and then, and always once, a number reused. */
		if (n == nrec / 2)
			while (seq[au] == 0)
				au = (au + 1) % nauthors;
		if (seq[au] > 0 && (tu_rng(&rng) % 10 == 0 || n == nrec / 2))
			s = seq[au];
		else
			s = ++seq[au];
		make_body(&rng, &enc, &blen);
		/* Now and then an erase record instead, by anyone. */
		if (n > nrec - 4 && nc > 0 && tu_rng(&rng) % 3 == 0) {
			/*
			 * Not by a[3], whose revocation may arrive after its
			 * erasure (PROTOCOL.md: the one order that matters).
			 */
			if (au == 3)
				au = 1;
			free(enc);
			enc = tu_body(&blen, "reason", "asked", NULL);
			kind = KITH_KIND_ERASE;
		}
		recs[n] = tu_record(a[au], w->net, s, hlc, kind,
		    ents[e], (const uint8_t (*)[32])parents, np, enc, blen);
		free(enc);
		/* A fork that came out identical is no fork: draw again. */
		for (i = 0; i < n; i++)
			if (memcmp(record_id(recs[i]), record_id(recs[n]),
			    KITH_ID_LEN) == 0)
				break;
		if (i < n) {
			record_free(recs[n]);
			n--;
			continue;
		}
		ofent[n] = e;
		ishead[n] = 1;
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
	}
	/* a[3] may be revoked halfway; a[2] admitted at the very end. */
	if (nauthors == 4 && seed % 2 == 0)
		recs[n++] = member_record(w, a[0], ++seq[0],
		    t0 + (t - t0) / 2, a[3], NULL);
	if (seed % 3 != 0)
		recs[n++] = member_record(w, w->admin, ++aseq, t + 1, a[2],
		    "member");
	w->records += n;
	return n;
}

static int
ent_cmp(const void *pa, const void *pb)
{
	const struct record *const *a = pa, *const *b = pb;

	return memcmp(record_header(*a)->entity, record_header(*b)->entity,
	    KITH_ENTITY_LEN);
}

/*
 * The digest a store must show for ${recs} plus the charter, from proto's
 * state_compute alone: each entity's state encoding in entity-id order.
 * Counts entities whose records are of more than one kind.
 */
static void
oracle_digest(struct world *w, struct record **recs, size_t n,
    uint8_t out[KITH_HASH_LEN])
{
	struct record *all[MAXRECORDS + 1];
	struct kcrypto_hash hs;
	struct roster *roster;
	struct state *s;
	const uint8_t *p;
	size_t i, j, len;
	int rc;

	memcpy(all, recs, n * sizeof(*all));
	all[n] = w->charter;
	assert_int_equal(roster_compute(all, n + 1, &roster), 0);
	qsort(all, n + 1, sizeof(*all), ent_cmp);
	kcrypto_hash_init(&hs);
	for (i = 0; i <= n; i = j) {
		size_t nvol = 0;

		for (j = i; j <= n && ent_cmp(&all[i], &all[j]) == 0; j++)
			nvol += record_header(all[j])->kind ==
			    KITH_KIND_VOLUNTEER;
		rc = state_compute(all + i, j - i, roster, &s);
		if (rc == KITH_ENOTFOUND)
			continue;	/* nothing admitted: no state */
		assert_int_equal(rc, 0);
		/* The kind a later, earlier-clocked record can change. */
		if (nvol > 0 && nvol < j - i)
			w->mixed++;
		w->erased += state_get(s, "erased") != NULL;
		p = state_encoded(s, &len);
		kcrypto_hash_update(&hs, p, len);
		state_free(s);
	}
	roster_free(roster);
	kcrypto_hash_final(&hs, out);
}

struct listing {
	struct kcrypto_hash hs;
	size_t n;
	uint64_t kind;
};

static int
list_state(void *arg, const struct state *s)
{
	struct listing *l = arg;

	/* Every entity listed under a kind is of that kind. */
	if (l->kind != 0 && state_kind(s) != l->kind)
		return -1;
	kcrypto_hash_update(&l->hs, state_entity(s), KITH_ENTITY_LEN);
	l->n++;
	return 0;
}

static void
summarise(struct store *st, struct summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	assert_int_equal(store_digest(st, sum->digest), 0);
	for (int k = 0; k < 4; k++) {
		struct listing l;

		kcrypto_hash_init(&l.hs);
		l.n = 0;
		l.kind = listed_kinds[k];
		assert_int_equal(store_states(st, l.kind, list_state, &l), 0);
		kcrypto_hash_final(&l.hs, sum->listing[k]);
		sum->count[k] = l.n;
	}
	assert_int_equal(store_stats(st, &sum->ss), 0);
}

static void
compare(const struct summary *a, const struct summary *b, uint64_t seed,
    unsigned o)
{
	if (memcmp(a->digest, b->digest, KITH_HASH_LEN) != 0)
		fail_msg("seed %llu order %u: digest differs",
		    (unsigned long long)seed, o);
	for (int k = 0; k < 4; k++)
		if (a->count[k] != b->count[k] ||
		    memcmp(a->listing[k], b->listing[k], KITH_HASH_LEN) != 0)
			fail_msg("seed %llu order %u: kind %llu listing "
			    "differs (%zu, %zu entities)",
			    (unsigned long long)seed, o,
			    (unsigned long long)listed_kinds[k], a->count[k],
			    b->count[k]);
	assert_int_equal(a->ss.records, b->ss.records);
	assert_int_equal(a->ss.bodies, b->ss.bodies);
	assert_int_equal(a->ss.entities, b->ss.entities);
	assert_int_equal(a->ss.forks, b->ss.forks);
	for (int k = 0; k < 4; k++)
		assert_int_equal(a->ss.by_kind[k], b->ss.by_kind[k]);
	/* The kind index agrees with the states themselves. */
	assert_int_equal(a->ss.by_kind[0], a->count[0]);
	assert_int_equal(a->ss.by_kind[1], a->count[1]);
	assert_int_equal(a->ss.by_kind[2], a->count[2]);
	assert_int_equal(a->ss.entities, a->count[3]);
}

static struct store *
fresh_store(struct world *w)
{
	struct store *st;
	int rc;

	tu_tmpdir(w->dir, sizeof(w->dir));
	st = store_open(w->dir, STORE_CREATE | STORE_NOSYNC, 0, &rc);
	assert_non_null(st);
	assert_int_equal(store_init_network(st, w->charter), 0);
	return st;
}

/* Apply ${recs} in the order ${ord}, in random batches; summarise. */
static void
apply_order(struct world *w, struct record **recs, const size_t *ord,
    size_t n, uint64_t *rng, struct summary *sum, size_t *forks)
{
	struct record *batch[MAXRECORDS + 1];
	struct store_result res;
	struct store *st = fresh_store(w);
	size_t i = 0, k, m, dup, cap;

	*forks = 0;
	/* Some orders come in small batches, some in large ones. */
	cap = tu_rng(rng) % 2 ? 8 : n;
	while (i < n) {
		m = 1 + (size_t)(tu_rng(rng) % cap);
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
	summarise(st, sum);
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
shuffle(size_t *ord, size_t n, uint64_t *rng)
{
	size_t i, j, tmp;

	for (i = n - 1; i > 0; i--) {
		j = (size_t)(tu_rng(rng) % (i + 1));
		tmp = ord[i];
		ord[i] = ord[j];
		ord[j] = tmp;
	}
}

static void
test_digest_order_independent(void **state)
{
	struct world *w = *state;
	unsigned seeds = env_count("KITH_PROPERTY_SEEDS", 50);
	unsigned orders = env_count("KITH_PROPERTY_ORDERS", 25);
	struct record *recs[MAXRECORDS];
	struct summary ref, sum;
	size_t ord[MAXRECORDS], n, i, forks, forks0;
	uint8_t oracle[KITH_HASH_LEN];

	for (uint64_t seed = 1; seed <= seeds; seed++) {
		uint64_t rng = seed * 7919;

		n = make_set(w, seed, recs);
		for (i = 0; i < n; i++)
			ord[i] = i;
		/* The reference: every record in one batch, in order. */
		{
			struct store_result res;
			struct store *st = fresh_store(w);

			assert_int_equal(store_apply(st, recs, n, &res, NULL,
			    NULL), 0);
			assert_int_equal(res.added, n);
			forks0 = res.forks;
			w->held += res.held;
			summarise(st, &ref);
			assert_int_equal(store_states(st, KITH_KIND_REQUEST,
			    count_conflicts, &w->conflicts), 0);
			store_close(st);
			tu_rmrf(w->dir);
		}
		compare(&ref, &ref, seed, 0);
		assert_true(forks0 > 0);
		assert_int_equal(ref.ss.records, n + 1);
		/* The store agrees with proto's merge on its own. */
		oracle_digest(w, recs, n, oracle);
		if (memcmp(oracle, ref.digest, KITH_HASH_LEN) != 0)
			fail_msg("seed %llu: store digest differs from "
			    "state_compute's", (unsigned long long)seed);
		w->forks += forks0;
		for (unsigned o = 0; o < orders; o++) {
			shuffle(ord, n, &rng);
			apply_order(w, recs, ord, n, &rng, &sum, &forks);
			compare(&ref, &sum, seed, o + 1);
			/* A fork is found whichever record came first. */
			assert_int_equal(forks, forks0);
			w->orders++;
		}
		for (i = 0; i < n; i++)
			record_free(recs[i]);
	}
	printf("property: %u seeds, %zu records, %zu store orders; %zu "
	    "conflicts, %zu forks, %zu merges, %zu mixed-kind entities, "
	    "%zu records without body, %zu held by the roster, %zu erased "
	    "entities: digests equal\n", seeds, w->records, w->orders,
	    w->conflicts, w->forks, w->merges, w->mixed, w->bodiless, w->held,
	    w->erased);
	/* The sets must have exercised what the test claims. */
	assert_true(w->orders >= (size_t)seeds * orders);
	assert_true(w->conflicts > 0);
	assert_true(w->forks >= seeds);
	assert_true(w->merges > 0);
	assert_true(w->bodiless > 0);
	if (seeds >= 20) {
		assert_true(w->mixed > 0);
		assert_true(w->held > 0);
		assert_true(w->erased > 0);
	}
}

/*
 * The same property one level down, without the store, over more orders:
 * every entity's state_compute over permuted arrays of its records.
 */
static void
test_state_order_independent(void **state)
{
	struct world *w = *state;
	unsigned perms = 10 * env_count("KITH_PROPERTY_ORDERS", 25);
	struct record *recs[MAXRECORDS], *ent[MAXRECORDS];
	struct state *s;
	uint8_t *ref;
	const uint8_t *p;
	size_t n, i, m, len, reflen, total = 0;
	uint64_t rng = 4242;

	for (uint64_t seed = 1000; seed < 1020; seed++) {
		n = make_set(w, seed, recs);
		qsort(recs, n, sizeof(*recs), ent_cmp);
		for (size_t first = 0; first < n; first += m) {
			for (m = 0; first + m < n && ent_cmp(&recs[first],
			    &recs[first + m]) == 0; m++)
				ent[m] = recs[first + m];
			assert_int_equal(state_compute(ent, m, NULL, &s), 0);
			p = state_encoded(s, &reflen);
			ref = malloc(reflen);
			assert_non_null(ref);
			memcpy(ref, p, reflen);
			state_free(s);
			for (unsigned k = 0; k < perms && m > 1; k++) {
				for (i = m - 1; i > 0; i--) {
					size_t j = (size_t)(tu_rng(&rng) %
					    (i + 1));
					struct record *t = ent[i];

					ent[i] = ent[j];
					ent[j] = t;
				}
				assert_int_equal(state_compute(ent, m, NULL, &s), 0);
				p = state_encoded(s, &len);
				if (len != reflen ||
				    memcmp(p, ref, len) != 0)
					fail_msg("seed %llu: state differs",
					    (unsigned long long)seed);
				state_free(s);
				total++;
			}
			free(ref);
		}
		for (i = 0; i < n; i++)
			record_free(recs[i]);
	}
	printf("property: %zu state_compute permutations equal\n", total);
	assert_true(total >= 1000);
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
