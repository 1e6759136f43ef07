/*
 * node/fptree: the fingerprint tree holds exactly the items put in and not
 * taken out, in order; its sums, items and bounds match a sorted array's;
 * Negentropy over it reconciles as over an array; and damaged nodes are
 * KITH_ECORRUPT, never a crash or a hang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fptree.h"
#include "kith.h"
#include "testutil.h"

/* Nodes in memory, by number. */
struct mem {
	uint8_t **p;
	size_t *len;
	size_t cap;
	size_t live;
};

static int
mem_get(void *arg, uint64_t id, const uint8_t **p, size_t *len)
{
	struct mem *m = arg;

	if (id >= m->cap || m->p[id] == NULL)
		return KITH_ENOTFOUND;
	*p = m->p[id];
	*len = m->len[id];
	return 0;
}

static int
mem_put(void *arg, uint64_t id, const uint8_t *p, size_t len)
{
	struct mem *m = arg;
	size_t cap;

	if (id >= m->cap) {
		cap = id * 2 + 16;
		assert_non_null(m->p = realloc(m->p, cap * sizeof(*m->p)));
		assert_non_null(m->len = realloc(m->len, cap * sizeof(*m->len)));
		memset(m->p + m->cap, 0, (cap - m->cap) * sizeof(*m->p));
		m->cap = cap;
	}
	if (m->p[id] == NULL)
		m->live++;
	free(m->p[id]);
	assert_non_null(m->p[id] = malloc(len));
	memcpy(m->p[id], p, len);
	m->len[id] = len;
	return 0;
}

static int
mem_del(void *arg, uint64_t id)
{
	struct mem *m = arg;

	assert_true(id < m->cap && m->p[id] != NULL);
	free(m->p[id]);
	m->p[id] = NULL;
	m->live--;
	return 0;
}

static void
mem_free(struct mem *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->p[i]);
	free(m->p);
	free(m->len);
}

static uint64_t
next_rand(uint64_t *x)
{

	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
rand_item(struct negentropy_item *it, uint64_t *x)
{
	size_t i;

	it->timestamp = next_rand(x) % 5000;	/* repeats: ties on id */
	for (i = 0; i < sizeof(it->id); i++)
		it->id[i] = (uint8_t)next_rand(x);
}

static int
item_cmp(const void *pa, const void *pb)
{
	const struct negentropy_item *a = pa, *b = pb;

	if (a->timestamp != b->timestamp)
		return a->timestamp < b->timestamp ? -1 : 1;
	return memcmp(a->id, b->id, sizeof(a->id));
}

/* Sort ${v} and drop repeats; return the new length. */
static size_t
uniq(struct negentropy_item *v, size_t n)
{
	size_t i, m;

	qsort(v, n, sizeof(*v), item_cmp);
	for (i = 0, m = 0; i < n; i++)
		if (m == 0 || item_cmp(&v[i], &v[m - 1]) != 0)
			v[m++] = v[i];
	return m;
}

/* The tree in ${io} holds exactly the ${n} sorted items at ${want}. */
static void
same_as(const struct fptree_io *io, const struct negentropy_item *want,
    size_t n, uint64_t *x)
{
	uint8_t fa[NEGENTROPY_FP_LEN], fb[NEGENTROPY_FP_LEN];
	uint8_t sum[NEGENTROPY_SUM_LEN];
	struct negentropy_item *got, probe;
	struct mem *m = io->arg;
	uint64_t count, nodes, at;
	size_t i, lo, hi, want_at;

	assert_int_equal(fptree_count(io, &count), 0);
	assert_int_equal(count, n);
	assert_int_equal(fptree_check(io, NULL, NULL, &nodes), 0);
	assert_int_equal(nodes, m->live);	/* no node left unreached */
	assert_non_null(got = malloc((n ? n : 1) * sizeof(*got)));
	assert_int_equal(fptree_items(io, 0, n, got), 0);
	assert_memory_equal(got, want, n * sizeof(*got));
	for (i = 0; i < 50 && n > 0; i++) {
		lo = next_rand(x) % (n + 1);
		hi = lo + next_rand(x) % (n - lo + 1);
		assert_int_equal(fptree_sum(io, lo, hi, sum), 0);
		negentropy_fingerprint_sum(sum, hi - lo, fa);
		negentropy_fingerprint(want + lo, hi - lo, fb);
		assert_memory_equal(fa, fb, sizeof(fa));
		if (hi > lo) {
			assert_int_equal(fptree_items(io, lo, hi, got), 0);
			assert_memory_equal(got, want + lo,
			    (hi - lo) * sizeof(*got));
		}
		/* A bound held, and one not held. */
		probe = want[lo < n ? lo : n - 1];
		if (i % 2)
			probe.id[31] ^= 1;
		for (want_at = 0; want_at < n &&
		    item_cmp(&want[want_at], &probe) < 0; want_at++)
			;
		assert_int_equal(fptree_lower_bound(io, probe.timestamp,
		    probe.id, &at), 0);
		assert_int_equal(at, want_at);
	}
	assert_int_equal(fptree_items(io, 0, n + 1, got), KITH_ERANGE);
	assert_int_equal(fptree_sum(io, 1, 0, sum), KITH_ERANGE);
	free(got);
}

/* Random batches in and out match a sorted array after every batch. */
static void
test_random(void **state)
{
	struct mem m = { NULL, NULL, 0, 0 };
	struct fptree_io io = { mem_get, mem_put, mem_del, &m };
	struct negentropy_item *all, batch[700];
	uint64_t x = 88172645463325252ULL;
	size_t n = 0, cap = 200000, k, i, j, round;

	(void)state;
	assert_non_null(all = malloc(cap * sizeof(*all)));
	same_as(&io, all, 0, &x);
	for (round = 0; round < 120; round++) {
		k = next_rand(&x) % 700;
		if (round % 4 == 3 && n > 0) {
			/* Out: some held, some not, some twice. */
			for (i = 0; i < k; i++) {
				if (i % 3 == 0)
					rand_item(&batch[i], &x);
				else
					batch[i] = all[next_rand(&x) % n];
			}
			assert_int_equal(fptree_remove(&io, batch, k), 0);
			k = uniq(batch, k);
			for (i = 0, j = 0; i < n; i++)
				if (bsearch(&all[i], batch, k, sizeof(*batch),
				    item_cmp) == NULL)
					all[j++] = all[i];
			n = j;
		} else {
			/* In: new ones, repeats, and some held already. */
			for (i = 0; i < k; i++) {
				if (i % 5 == 4 && n > 0)
					batch[i] = all[next_rand(&x) % n];
				else if (i % 7 == 6 && i > 0)
					batch[i] = batch[i - 1];
				else
					rand_item(&batch[i], &x);
			}
			memcpy(all + n, batch, k * sizeof(*batch));
			assert_int_equal(fptree_insert(&io, batch, k), 0);
			n = uniq(all, n + k);
		}
		same_as(&io, all, n, &x);
	}
	/* Everything out leaves only the header. */
	memcpy(batch, all, 0);
	for (i = 0; i < n; i += 700) {
		k = n - i < 700 ? n - i : 700;
		memcpy(batch, all + i, k * sizeof(*batch));
		assert_int_equal(fptree_remove(&io, batch, k), 0);
	}
	same_as(&io, all, 0, &x);
	assert_int_equal(m.live, 1);
	free(all);
	mem_free(&m);
}

/* Items added in order fill leaves full: one node per 100 items, near. */
static void
test_packed(void **state)
{
	struct mem m = { NULL, NULL, 0, 0 };
	struct fptree_io io = { mem_get, mem_put, mem_del, &m };
	struct negentropy_item batch[250];
	uint64_t nodes, count;
	size_t round, i;

	(void)state;
	for (round = 0; round < 400; round++) {
		for (i = 0; i < 250; i++) {
			memset(&batch[i], 0, sizeof(batch[i]));
			batch[i].timestamp = round * 250 + i + 1;
			batch[i].id[0] = (uint8_t)i;
		}
		assert_int_equal(fptree_insert(&io, batch, 250), 0);
	}
	assert_int_equal(fptree_count(&io, &count), 0);
	assert_int_equal(count, 100000);
	assert_int_equal(fptree_check(&io, NULL, NULL, &nodes), 0);
	/* 1,000 full leaves, 22 inner nodes, a root and the header. */
	assert_true(nodes <= 1000 + 1000 / (FPTREE_INNER_MAX - 1) + 3);
	mem_free(&m);
}

/* Reconcile ${a} (an array) with ${b} (a tree); return the ids found. */
static void
reconcile(const struct negentropy_item *a, size_t na,
    const struct fptree_io *io, size_t *nhave, size_t *nneed, int tree_client)
{
	struct negentropy_source src;
	struct negentropy *cl, *sv;
	uint8_t (*have)[NEGENTROPY_ID_LEN], (*need)[NEGENTROPY_ID_LEN];
	uint8_t *msg, *rep;
	size_t len, rlen, h, n, rounds = 0;

	assert_int_equal(fptree_source(io, &src), 0);
	if (tree_client) {
		assert_non_null(cl = negentropy_new_source(&src, 0));
		assert_non_null(sv = negentropy_new(a, na, 0));
	} else {
		assert_non_null(cl = negentropy_new(a, na, 0));
		assert_non_null(sv = negentropy_new_source(&src, 0));
	}
	*nhave = *nneed = 0;
	assert_int_equal(negentropy_initiate(cl, &msg, &len), 0);
	while (msg != NULL) {
		assert_true(++rounds < 20);
		assert_int_equal(negentropy_reconcile(sv, msg, len, &rep,
		    &rlen), 0);
		free(msg);
		assert_int_equal(negentropy_reconcile_client(cl, rep, rlen,
		    &msg, &len, &have, &h, &need, &n), 0);
		free(rep);
		*nhave += h;
		*nneed += n;
		free(have);
		free(need);
	}
	negentropy_free(cl);
	negentropy_free(sv);
}

static void
test_negentropy(void **state)
{
	struct mem m = { NULL, NULL, 0, 0 };
	struct fptree_io io = { mem_get, mem_put, mem_del, &m };
	struct negentropy_item *a, *b;
	uint64_t x = 2463534242ULL;
	size_t n = 20000, i, h, nd;

	(void)state;
	assert_non_null(a = malloc(n * sizeof(*a)));
	assert_non_null(b = malloc(n * sizeof(*b)));
	for (i = 0; i < n; i++)
		rand_item(&a[i], &x);
	n = uniq(a, n);
	memcpy(b, a, n * sizeof(*a));
	assert_int_equal(fptree_insert(&io, b, n), 0);
	/* Identical: nothing either way. */
	reconcile(a, n, &io, &h, &nd, 0);
	assert_int_equal(h + nd, 0);
	/* The tree lacks 30 and holds 20 the array lacks. */
	for (i = 0; i < 30; i++)
		b[i] = a[(i * 613) % n];
	assert_int_equal(fptree_remove(&io, b, 30), 0);
	for (i = 0; i < 20; i++)
		rand_item(&b[i], &x);
	assert_int_equal(fptree_insert(&io, b, 20), 0);
	reconcile(a, n, &io, &h, &nd, 0);	/* the array asks */
	assert_int_equal(h, 30);
	assert_int_equal(nd, 20);
	reconcile(a, n, &io, &h, &nd, 1);	/* the tree asks */
	assert_int_equal(h, 20);
	assert_int_equal(nd, 30);
	free(a);
	free(b);
	mem_free(&m);
}

/* Add ${d} to the big-endian u64 at ${p}. */
static void
bump(uint8_t *p, int64_t d)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	v += (uint64_t)d;
	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Damage found, not followed: counts, sums, shapes, cycles, headers. */
static void
test_damage(void **state)
{
	struct mem m = { NULL, NULL, 0, 0 };
	struct fptree_io io = { mem_get, mem_put, mem_del, &m };
	struct negentropy_item batch[2000], out[2001];
	uint8_t save[16];
	uint64_t x = 77, nodes, root, at;
	size_t i, leaf = 0;

	(void)state;
	for (i = 0; i < 2000; i++)
		rand_item(&batch[i], &x);
	assert_int_equal(fptree_insert(&io, batch, 2000), 0);
	assert_int_equal(fptree_check(&io, NULL, NULL, &nodes), 0);
	root = 0;
	for (i = 0; i < 8; i++)
		root = root << 8 | m.p[0][i];
	assert_int_equal(m.p[root][0], 2);	/* an inner root */
	for (i = 1; i < m.cap && leaf == 0; i++)
		if (m.p[i] != NULL && m.p[i][0] == 1)
			leaf = i;
	/* A sum off by one: check finds it; reads still run. */
	m.p[root][4 + 40 + 16] ^= 1;
	assert_int_equal(fptree_check(&io, NULL, NULL, &nodes), KITH_ECORRUPT);
	m.p[root][4 + 40 + 16] ^= 1;
	/*
	 * A count too large: reads past a leaf's end are damage.  (A sum
	 * over whole entries believes them: a wrong fingerprint costs a
	 * round trip, and verify finds it.)
	 */
	bump(m.p[root] + 4 + 48, 1);
	assert_int_equal(fptree_items(&io, 0, 2001, out), KITH_ECORRUPT);
	assert_int_equal(fptree_check(&io, NULL, NULL, &nodes), KITH_ECORRUPT);
	bump(m.p[root] + 4 + 48, -1);
	/* A child that is the root: a cycle, cut by the depth bound. */
	memcpy(save, m.p[root] + 4 + 40, 8);
	for (i = 0; i < 8; i++)
		m.p[root][4 + 40 + i] = (uint8_t)(root >> (56 - 8 * i));
	assert_int_equal(fptree_check(&io, NULL, NULL, &nodes), KITH_ECORRUPT);
	assert_int_equal(fptree_items(&io, 0, 10, out), KITH_ECORRUPT);
	assert_int_equal(fptree_lower_bound(&io, 0, batch[0].id, &at),
	    KITH_ECORRUPT);
	batch[0].timestamp = 0;	/* below all: into the first child */
	assert_int_equal(fptree_insert(&io, batch, 1), KITH_ECORRUPT);
	memcpy(m.p[root] + 4 + 40, save, 8);
	/* A leaf of the wrong length, of an unknown kind, and missing. */
	m.len[leaf]--;
	assert_int_equal(fptree_check(&io, NULL, NULL, &nodes), KITH_ECORRUPT);
	m.len[leaf]++;
	m.p[leaf][0] = 9;
	assert_int_equal(fptree_check(&io, NULL, NULL, &nodes), KITH_ECORRUPT);
	m.p[leaf][0] = 1;
	assert_int_equal(fptree_check(&io, NULL, NULL, &nodes), 0);
	free(m.p[leaf]);
	m.p[leaf] = NULL;
	assert_int_equal(fptree_check(&io, NULL, NULL, &nodes), KITH_ECORRUPT);
	/* A header naming a root past its own next number. */
	m.len[0] = 15;
	assert_int_equal(fptree_count(&io, &nodes), KITH_ECORRUPT);
	m.len[0] = 16;
	m.p[0][15] = 0;
	m.p[0][14] = 0;
	assert_int_equal(fptree_count(&io, &nodes), KITH_ECORRUPT);
	m.live--;
	mem_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_packed),
		cmocka_unit_test(test_negentropy),
		cmocka_unit_test(test_damage),
	};

	return tu_run(tests, NULL, NULL);
}
