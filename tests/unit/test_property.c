/*
 * The merge property: any store holding the same set of records has the
 * same state digest, whatever order and batches the records came in; and
 * no hostile record gains authority.
 *
 * Each seed makes a random record set over an admin, four members and two
 * hostile keys, each author's records chained: entities started by their
 * genesis; sequential edits (parents are the entity's heads), concurrent
 * edits (one branch, a stale view, or no parents at all), merges, status
 * changes forward and backward, a referral with its recipient's answers,
 * clock ties and skewed clocks, records whose body was not carried.
 * Membership: the admin admits a second admin, who admits a member; one
 * member is admitted only after its records; one is revoked halfway,
 * naming its last record then.  And hostile records, as a member choosing
 * every header field would write them: stamps backdated to hlc 1, records
 * of another kind in others' entities, erasures by neither creator nor
 * admin (placed first in time, too), referral answers by a third party,
 * admissions and revocations forged by a non-admin, records by a key never
 * admitted, records by the revoked key past its last (backdated into its
 * good time), and a fork by a member (a sequence number signed twice).
 *
 * Each set is applied to fresh stores in many random orders and random
 * batch sizes (1..n, with repeats of records already held); the digest,
 * the per-kind listings and the counts must equal the first store's, and
 * the digest must equal one computed from proto's roster_compute and
 * state_compute alone.  Stores keep a merge cache for every entity, so
 * records that come one at a time take the incremental path (state_add),
 * which must agree with the whole merge.  The inert hostile records (those
 * the rules say carry no authority) are then taken out: the digest must
 * not change.
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
#include "chain.h"
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
#define MAXRECORDS	96

static const char *const statuses[] = { "open", "claimed", "fulfilled",
    "cancelled", "reopened" };
static const char *const fields[] = { "urgency", "area", "notes", "status" };

struct world {
	struct kcrypto_key *admin, *authors[MAXAUTHORS];
	struct kcrypto_key *hostile, *stranger;	/* a member, a non-member */
	struct record *charter;
	uint8_t net[KITH_NETWORK_LEN];
	char dir[256];
	/* Over all seeds: did the sets exercise what they claim to? */
	size_t conflicts, forks, bodiless, merges, hijacks, orders;
	size_t records, stateorders, held, erased, inert;
};

/* A record set, and which of its records the rules say are inert. */
struct set {
	struct record *r[MAXRECORDS];
	unsigned char inert[MAXRECORDS];
	size_t n;
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
	w->hostile = tu_key(30);
	w->stranger = tu_key(31);
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
	kcrypto_key_free(w->hostile);
	kcrypto_key_free(w->stranger);
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
		if (strcmp(f, "urgency") == 0)
			assert_int_equal(body_set_int(b, f, 0, v[1] - '0' + 1),
			    0);
		else
			assert_int_equal(body_set_str(b, f, 0, v), 0);
	}
	assert_int_equal(body_encode(b, enc, blen), 0);
	body_free(b);
}

static struct record *
push(struct set *s, struct record *r, int inert)
{

	assert_true(s->n < MAXRECORDS);
	s->inert[s->n] = (unsigned char)inert;
	s->r[s->n++] = r;
	return r;
}

/*
 * A member record (${role} not NULL) or revoke record (naming ${last},
 * or none) about ${who}, by ${by}, in who's member entity.
 */
static struct record *
member_record(struct world *w, const struct kcrypto_key *by, uint64_t seq,
    uint64_t hlc, const struct kcrypto_key *who, const char *role,
    const struct record *last)
{
	uint8_t ent[KITH_ENTITY_LEN], *b;
	char hex[2 * KITH_KEY_LEN + 1];
	struct record *r;
	size_t len;

	kith_hex(hex, kcrypto_key_public(who), KITH_KEY_LEN);
	roster_member_entity(kcrypto_key_public(who), ent);
	b = role != NULL ? tu_body(&len, "key", hex, "org", "org", "role",
	    role, NULL) : tu_revoke_body(&len, who, last);
	r = tu_record(by, w->net, seq, hlc, role != NULL ? KITH_KIND_MEMBER :
	    KITH_KIND_REVOKE, ent, NULL, 0, b, len);
	free(b);
	return r;
}

/* The growing set's bookkeeping: entities, heads, each author's seq. */
struct gen {
	uint64_t rng, t, t0;
	uint8_t ents[MAXENTITIES][KITH_ENTITY_LEN];
	uint64_t kinds[MAXENTITIES];
	const struct kcrypto_key *creator[MAXENTITIES];
	unsigned nent;
	unsigned ofent[MAXRECORDS], ishead[MAXRECORDS];
	struct kcrypto_key *keys[MAXAUTHORS + 3];	/* authors, h, s, admin */
	uint64_t seq[MAXAUTHORS + 3];
};

/* Parents for a new record of entity ${e}, by ${mode}; return how many. */
static unsigned
pick_parents(struct gen *g, struct set *s, unsigned e, unsigned mode,
    uint8_t (*parents)[32], struct world *w)
{
	size_t cand[MAXRECORDS], nc = 0, nh = 0, i;
	unsigned np = 0;

	for (i = 0; i < s->n; i++)
		if (g->ofent[i] == e && !s->inert[i]) {
			cand[nc++] = i;
			nh += g->ishead[i];
		}
	if (nc == 0 || mode >= 18)
		return 0;	/* no parents: concurrent with everything */
	if (mode < 8) {
		/* Sequential, or a merge if there are several heads. */
		for (i = 0; i < nc && np < KITH_PARENTS_MAX; i++)
			if (g->ishead[cand[i]])
				memcpy(parents[np++], record_id(s->r[cand[i]]),
				    32);
		if (np > 1)
			w->merges++;
	} else if (mode < 13 && nh > 0) {
		/* One branch only: concurrent with the others. */
		size_t pick = (size_t)(tu_rng(&g->rng) % nh), k = 0;

		for (i = 0; i < nc; i++)
			if (g->ishead[cand[i]] && k++ == pick)
				memcpy(parents[np++], record_id(s->r[cand[i]]),
				    32);
	} else {
		/* A stale view: one or two earlier records. */
		unsigned want = 1 + (unsigned)(tu_rng(&g->rng) % 2);

		while (np < want) {
			i = cand[tu_rng(&g->rng) % nc];
			if (np == 1 && memcmp(parents[0], record_id(s->r[i]),
			    32) == 0)
				break;
			memcpy(parents[np++], record_id(s->r[i]), 32);
		}
	}
	return np;
}

/* Append record ${r} of entity ${e}, updating the heads. */
static void
place(struct gen *g, struct set *s, struct record *r, unsigned e, int inert)
{
	const struct record_header *h = record_header(r);
	size_t i;

	if (!inert)
		for (unsigned k = 0; k < h->nparents; k++)
			for (i = 0; i < s->n; i++)
				if (memcmp(h->parents[k], record_id(s->r[i]),
				    32) == 0)
					g->ishead[i] = 0;
	g->ofent[s->n] = e;
	g->ishead[s->n] = !inert;
	push(s, r, inert);
}

/* A record by key ${a} (an index into g->keys) of ${kind} in ${e}. */
static struct record *
gen_record(struct gen *g, struct world *w, unsigned a, uint64_t kind,
    unsigned e, const uint8_t (*parents)[32], unsigned np, uint64_t hlc,
    const uint8_t *body, size_t blen, uint64_t seq)
{

	(void)w;
	tu_audience = g->kinds[e] == KITH_KIND_REFERRAL ?
	    kcrypto_key_public(w->authors[1]) : NULL;
	return tu_record(g->keys[a], w->net, seq, hlc, kind, g->ents[e],
	    parents, np, body, blen);
}

/*
 * One random record set in ${s}.  Heads are tracked while the set grows,
 * so that parents can be chosen to make sequential edits, concurrent
 * edits and merges on purpose.
 */
static void
make_set(struct world *w, uint64_t seed, struct set *s)
{
	struct gen g;
	struct kcrypto_key **a = w->authors;
	struct record *r, *last3 = NULL;
	enum { H = MAXAUTHORS, S = MAXAUTHORS + 1, ADM = MAXAUTHORS + 2 };
	size_t nrec, i;
	unsigned e, hfork = 0;
	uint64_t hseq = 0;		/* the hostile's last record that applies */
	int revoked3 = 0;

	memset(&g, 0, sizeof(g));
	memset(s, 0, sizeof(*s));
	g.rng = seed * 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < MAXAUTHORS; i++)
		g.keys[i] = a[i];
	g.keys[H] = w->hostile;
	g.keys[S] = w->stranger;
	g.keys[ADM] = w->admin;
	g.seq[ADM] = 1;		/* the charter */
	g.t = g.t0 = HLC_MAKE(hlc_wall_ms() - 86400000ULL, 0);
	for (i = 0; i < MAXRECORDS; i++)
		g.ofent[i] = MAXENTITIES;
	/* Membership: an admin admits an admin, who admits the members. */
	push(s, member_record(w, w->admin, ++g.seq[ADM], g.t0, a[0], "admin",
	    NULL), 0);
	push(s, member_record(w, a[0], ++g.seq[0], g.t0 + 1, a[1], "member",
	    NULL), 0);
	push(s, member_record(w, a[0], ++g.seq[0], g.t0 + 2, w->hostile,
	    "member", NULL), 0);
	push(s, member_record(w, w->admin, ++g.seq[ADM], g.t0 + 2, a[3],
	    "member", NULL), 0);
	/* Forged by a member: an admission, and a revocation of an admin. */
	push(s, member_record(w, w->hostile, ++g.seq[H], 1, w->stranger,
	    "admin", NULL), 1);
	push(s, member_record(w, w->hostile, ++g.seq[H], 1, a[0], NULL, NULL),
	    1);
	/* The entities, each from its genesis by one of the members. */
	g.nent = 3 + (unsigned)(tu_rng(&g.rng) % 3);
	for (e = 0; e < g.nent; e++) {
		unsigned au = (unsigned)(tu_rng(&g.rng) % 3);
		uint8_t nonce[KITH_NONCE_LEN], *b;
		size_t blen;

		g.kinds[e] = e == 0 ? KITH_KIND_REFERRAL : e == 1 ?
		    KITH_KIND_VOLUNTEER : KITH_KIND_REQUEST;
		if (e == 0)
			au = 0;		/* a[0] refers to a[1] */
		memset(nonce, (int)(e + 1), sizeof(nonce));
		memcpy(nonce, &seed, sizeof(seed));
		tu_nonce = nonce;
		make_body(&g.rng, &b, &blen);
		g.t += 1;
		r = gen_record(&g, w, au, g.kinds[e], e, NULL, 0, g.t, b, blen,
		    ++g.seq[au]);
		tu_nonce = NULL;
		free(b);
		memcpy(g.ents[e], record_header(r)->entity, KITH_ENTITY_LEN);
		g.creator[e] = g.keys[au];
		place(&g, s, r, e, 0);
	}
	nrec = s->n + 26 + (size_t)(tu_rng(&g.rng) % 21);
	while (s->n < nrec) {
		unsigned au = (unsigned)(tu_rng(&g.rng) % MAXAUTHORS);
		unsigned mode = (unsigned)(tu_rng(&g.rng) % 20), np;
		uint8_t parents[KITH_PARENTS_MAX][32], *b;
		uint64_t hlc, seq;
		size_t blen;
		int inert = 0;

		e = (unsigned)(tu_rng(&g.rng) % g.nent);
		/* The referral: its parties alone write it. */
		if (g.kinds[e] == KITH_KIND_REFERRAL && au > 1)
			au = au % 2;
		np = pick_parents(&g, s, e, s->n == nrec - 1 ? 0 : mode,
		    parents, w);
		/* Clocks: ties happen, and now and then one runs behind. */
		g.t += tu_rng(&g.rng) % 3;
		hlc = g.t;
		if (tu_rng(&g.rng) % 8 == 0)
			hlc = g.t - tu_rng(&g.rng) % 40;
		/* a[3] revoked halfway, naming its last record then. */
		if (!revoked3 && s->n >= nrec / 2 && last3 != NULL &&
		    seed % 2 == 0) {
			push(s, member_record(w, a[0], ++g.seq[0], g.t, a[3],
			    NULL, last3), 0);
			revoked3 = 1;
			continue;
		}
		/* Past a[3]'s revocation: inert, even backdated. */
		inert = au == 3 && revoked3;
		if (inert)
			hlc = g.t0 + 5;
		seq = ++g.seq[au];
		make_body(&g.rng, &b, &blen);
		r = gen_record(&g, w, au, g.kinds[e], e,
		    (const uint8_t (*)[32])parents, np, hlc, b, blen, seq);
		free(b);
		/* Now and then the body is not carried (erased, not sent). */
		if (tu_rng(&g.rng) % 12 == 0) {
			struct record *bare;
			const uint8_t *sh;
			size_t shlen;

			sh = record_signed(r, &shlen);
			assert_int_equal(record_decode(sh, shlen, NULL, 0,
			    &bare), 0);
			record_free(r);
			r = bare;
			w->bodiless++;
		}
		if (au == 3 && !revoked3)
			last3 = r;
		place(&g, s, r, e, inert);
		/* And hostile records, now and then. */
		switch (tu_rng(&g.rng) % 9) {
		case 0: {	/* another kind, backdated, in someone's entity */
			uint8_t *hb;
			size_t hl;

			make_body(&g.rng, &hb, &hl);
			r = gen_record(&g, w, H, g.kinds[e] ==
			    KITH_KIND_VOLUNTEER ? KITH_KIND_REQUEST :
			    KITH_KIND_VOLUNTEER, e, NULL, 0, 1, hb, hl,
			    ++g.seq[H]);
			free(hb);
			place(&g, s, r, e, 1);
			w->hijacks++;
			break;
		}
		case 1:		/* an erasure by neither creator nor admin */
			if (g.creator[e] == w->hostile)
				break;
			b = tu_body(&blen, "reason", "mine now", NULL);
			r = gen_record(&g, w, H, KITH_KIND_ERASE, e, NULL, 0,
			    tu_rng(&g.rng) % 2 ? 1 : g.t, b, blen,
			    ++g.seq[H]);
			free(b);
			place(&g, s, r, e, 1);
			break;
		case 2:		/* a referral answered by a third party */
			if (g.kinds[e] != KITH_KIND_REFERRAL)
				break;
			b = tu_body(&blen, "status", "declined", NULL);
			r = gen_record(&g, w, 2, KITH_KIND_REFERRAL, e, NULL, 0,
			    1, b, blen, ++g.seq[2]);
			free(b);
			place(&g, s, r, e, 1);
			break;
		case 3:		/* a key never admitted */
			make_body(&g.rng, &b, &blen);
			r = gen_record(&g, w, S, g.kinds[e], e,
			    (const uint8_t (*)[32])parents, np, 1, b, blen,
			    ++g.seq[S]);
			free(b);
			place(&g, s, r, e, 1);
			break;
		case 4:		/* the hostile member edits: that applies */
			if (g.kinds[e] == KITH_KIND_REFERRAL)
				break;
			make_body(&g.rng, &b, &blen);
			r = gen_record(&g, w, H, g.kinds[e], e, NULL, 0, 1, b,
			    blen, hseq = ++g.seq[H]);
			free(b);
			place(&g, s, r, e, 0);
			hfork = e;
			break;
		}
	}
	/*
	 * A fork: the hostile member signs a number of one of its edits again
	 * (not of an inert record, whose absence would then change what the
	 * fork's evidence is).
	 */
	{
		uint8_t *b;
		size_t blen;

		if (hseq == 0) {
			hfork = g.nent - 1;
			b = tu_body(&blen, "area", "hers", NULL);
			r = gen_record(&g, w, H, g.kinds[hfork], hfork, NULL,
			    0, g.t, b, blen, hseq = ++g.seq[H]);
			free(b);
			place(&g, s, r, hfork, 0);
		}
		b = tu_body(&blen, "area", "forked", NULL);
		r = gen_record(&g, w, H, g.kinds[hfork], hfork, NULL, 0, g.t, b,
		    blen, hseq);
		free(b);
		/* Identical by chance is no fork. */
		for (i = 0; i < s->n && memcmp(record_id(s->r[i]),
		    record_id(r), KITH_ID_LEN) != 0; i++)
			;
		if (i < s->n)
			record_free(r);
		else
			place(&g, s, r, hfork, 0);
	}
	/* Erasures: by an entity's creator, by an admin. */
	if (seed % 2 == 1) {
		uint8_t *b;
		size_t blen;
		unsigned ce;

		for (ce = 0; ce < MAXAUTHORS && g.keys[ce] != g.creator[1];
		    ce++)
			;
		b = tu_body(&blen, "reason", "asked", NULL);
		place(&g, s, gen_record(&g, w, ce, KITH_KIND_ERASE, 1, NULL, 0,
		    g.t0 + 3, b, blen, ++g.seq[ce]), 1, 0);
		if (seed % 3 == 0)
			place(&g, s, gen_record(&g, w, 0, KITH_KIND_ERASE,
			    g.nent - 1, NULL, 0, g.t, b, blen, ++g.seq[0]),
			    g.nent - 1, 0);
		free(b);
	}
	/* a[2] admitted at the very end, after its records. */
	push(s, member_record(w, w->admin, ++g.seq[ADM], g.t + 1, a[2],
	    "member", NULL), 0);
	tu_audience = NULL;
	w->records += s->n;
	for (i = 0; i < s->n; i++)
		w->inert += s->inert[i];
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
	struct chain_mem *chains;
	struct chain_src src;
	struct state *s;
	const uint8_t *p;
	size_t i, j, len;
	int rc;

	memcpy(all, recs, n * sizeof(*all));
	all[n] = w->charter;
	assert_non_null(chains = chain_mem_new(all, n + 1));
	chain_mem_src(chains, &src);
	assert_int_equal(roster_compute(all, n + 1, &src, &roster), 0);
	qsort(all, n + 1, sizeof(*all), ent_cmp);
	kcrypto_hash_init(&hs);
	for (i = 0; i <= n; i = j) {
		for (j = i; j <= n && ent_cmp(&all[i], &all[j]) == 0; j++)
			;
		rc = state_compute(all + i, j - i, roster, &s);
		if (rc == KITH_ENOTFOUND || rc == KITH_ENOGENESIS)
			continue;	/* nothing applies: no state */
		assert_int_equal(rc, 0);
		w->erased += state_get(s, "erased") != NULL;
		p = state_encoded(s, &len);
		kcrypto_hash_update(&hs, p, len);
		state_free(s);
	}
	roster_free(roster);
	chain_mem_free(chains);
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
	for (int k = 0; k < 6; k++)
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
	/* Every entity keeps a merge cache: one record at a time, every
	 * order takes the incremental path, and must agree with the whole. */
	store_set_cache_min(st, 1);
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
	struct set set;
	struct record *live[MAXRECORDS];
	struct summary ref, sum;
	size_t ord[MAXRECORDS], n, i, nlive, forks, forks0;
	uint8_t oracle[KITH_HASH_LEN], bare[KITH_HASH_LEN];

	for (uint64_t seed = 1; seed <= seeds; seed++) {
		uint64_t rng = seed * 7919;

		make_set(w, seed, &set);
		n = set.n;
		for (i = 0; i < n; i++)
			ord[i] = i;
		/* The reference: every record in one batch, in order. */
		{
			struct store_result res;
			struct store *st = fresh_store(w);

			assert_int_equal(store_apply(st, set.r, n, &res, NULL,
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
		assert_true(ref.ss.forks > 0);
		assert_int_equal(ref.ss.records, n + 1);
		/* The store agrees with proto's merge on its own. */
		oracle_digest(w, set.r, n, oracle);
		if (memcmp(oracle, ref.digest, KITH_HASH_LEN) != 0)
			fail_msg("seed %llu: store digest differs from "
			    "state_compute's", (unsigned long long)seed);
		/* No hostile record the rules call inert changes anything. */
		for (i = 0, nlive = 0; i < n; i++)
			if (!set.inert[i])
				live[nlive++] = set.r[i];
		oracle_digest(w, live, nlive, bare);
		if (memcmp(oracle, bare, KITH_HASH_LEN) != 0)
			fail_msg("seed %llu: an inert hostile record changed "
			    "the state", (unsigned long long)seed);
		w->forks += forks0;
		for (unsigned o = 0; o < orders; o++) {
			shuffle(ord, n, &rng);
			apply_order(w, set.r, ord, n, &rng, &sum, &forks);
			compare(&ref, &sum, seed, o + 1);
			/* A fork is found whichever record came first. */
			assert_int_equal(forks, forks0);
			w->orders++;
		}
		for (i = 0; i < n; i++)
			record_free(set.r[i]);
	}
	printf("property: %u seeds, %zu records (%zu hostile and inert), "
	    "%zu store orders; %zu conflicts, %zu forks, %zu merges, %zu "
	    "kind hijacks, %zu records without body, %zu held by the roster, "
	    "%zu erased entities: digests equal\n", seeds, w->records,
	    w->inert, w->orders, w->conflicts, w->forks, w->merges,
	    w->hijacks, w->bodiless, w->held, w->erased);
	/* The sets must have exercised what the test claims. */
	assert_true(w->orders >= (size_t)seeds * orders);
	assert_true(w->conflicts > 0);
	assert_true(w->forks >= seeds);
	assert_true(w->merges > 0);
	assert_true(w->bodiless > 0);
	assert_true(w->inert > 0);
	if (seeds >= 20) {
		assert_true(w->hijacks > 0);
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
	struct record *all[MAXRECORDS + 1], *ent[MAXRECORDS + 1];
	struct chain_mem *chains;
	struct chain_src src;
	struct roster *roster;
	struct set set;
	struct state *s;
	uint8_t *ref;
	const uint8_t *p;
	size_t n, i, m, len, reflen, total = 0;
	uint64_t rng = 4242;
	int rc, rc0;

	for (uint64_t seed = 1000; seed < 1020; seed++) {
		make_set(w, seed, &set);
		n = set.n;
		memcpy(all, set.r, n * sizeof(*all));
		all[n++] = w->charter;
		assert_non_null(chains = chain_mem_new(all, n));
		chain_mem_src(chains, &src);
		assert_int_equal(roster_compute(all, n, &src, &roster), 0);
		qsort(all, n, sizeof(*all), ent_cmp);
		for (size_t first = 0; first < n; first += m) {
			for (m = 0; first + m < n && ent_cmp(&all[first],
			    &all[first + m]) == 0; m++)
				ent[m] = all[first + m];
			rc0 = state_compute(ent, m, roster, &s);
			ref = NULL;
			reflen = 0;
			if (rc0 == 0) {
				p = state_encoded(s, &reflen);
				assert_non_null(ref = malloc(reflen));
				memcpy(ref, p, reflen);
				state_free(s);
			}
			for (unsigned k = 0; k < perms && m > 1; k++) {
				for (i = m - 1; i > 0; i--) {
					size_t j = (size_t)(tu_rng(&rng) %
					    (i + 1));
					struct record *t = ent[i];

					ent[i] = ent[j];
					ent[j] = t;
				}
				rc = state_compute(ent, m, roster, &s);
				assert_int_equal(rc, rc0);
				if (rc == 0) {
					p = state_encoded(s, &len);
					if (len != reflen ||
					    memcmp(p, ref, len) != 0)
						fail_msg("seed %llu: state "
						    "differs",
						    (unsigned long long)seed);
					state_free(s);
				}
				total++;
			}
			free(ref);
		}
		roster_free(roster);
		chain_mem_free(chains);
		for (i = 0; i < set.n; i++)
			record_free(set.r[i]);
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

	return tu_run(tests, setup, teardown);
}
