#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "record.h"

uint64_t
chain_fork_evidence(uint64_t seq, const struct chain_link *self,
    const struct chain_link *same, size_t nsame,
    const struct chain_link *below, size_t nbelow,
    const struct chain_link *above, size_t nabove)
{
	uint64_t at = 0;
	size_t i;

	/* Below first: a fork there is the smaller number. */
	for (i = 0; i < nbelow && seq > 1; i++)
		if (memcmp(below[i].id, self->prev, KITH_ID_LEN) != 0)
			return seq - 1;
	for (i = 0; i < nsame; i++)
		if (memcmp(same[i].id, self->id, KITH_ID_LEN) != 0)
			at = seq;
	for (i = 0; i < nabove; i++)
		if (memcmp(above[i].prev, self->id, KITH_ID_LEN) != 0)
			at = seq;
	return at;
}

int
chain_walk(const struct chain_src *src, const uint8_t key[KITH_KEY_LEN],
    uint64_t last_seq, const uint8_t last_id[KITH_ID_LEN], uint64_t down_to,
    struct chain_walk *out)
{
	struct chain_link l[CHAIN_AT_MAX];
	uint64_t s;
	size_t n, i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (last_seq == 0)
		return 0;
	if (down_to < 1)
		down_to = 1;
	if (down_to > last_seq)
		down_to = last_seq;
	if ((out->ids = malloc((size_t)(last_seq - down_to + 1) *
	    KITH_ID_LEN)) == NULL)
		return KITH_ENOMEM;
	out->hi = last_seq;
	memcpy(out->ids[0], last_id, KITH_ID_LEN);
	/* ids[] fills from the top; it is shifted into place at the end. */
	for (s = last_seq; ; s--) {
		if ((rc = src->at(src->arg, key, s, l, CHAIN_AT_MAX, &n)) != 0)
			break;
		for (i = 0; i < n && i < CHAIN_AT_MAX; i++)
			if (memcmp(l[i].id, out->ids[last_seq - s],
			    KITH_ID_LEN) == 0)
				break;
		if (i == n || i == CHAIN_AT_MAX || s == down_to)
			break;	/* not held, or far enough: its prev unknown */
		memcpy(out->ids[last_seq - s + 1], l[i].prev, KITH_ID_LEN);
	}
	if (rc != 0) {
		chain_walk_free(out);
		return rc;
	}
	out->lo = s;
	/* Reverse, so that ids[s - lo] is the id at s. */
	for (i = 0; i < (size_t)(out->hi - out->lo + 1) / 2; i++) {
		uint8_t t[KITH_ID_LEN];
		size_t j = (size_t)(out->hi - out->lo) - i;

		memcpy(t, out->ids[i], KITH_ID_LEN);
		memcpy(out->ids[i], out->ids[j], KITH_ID_LEN);
		memcpy(out->ids[j], t, KITH_ID_LEN);
	}
	return 0;
}

void
chain_walk_free(struct chain_walk *w)
{

	free(w->ids);
	memset(w, 0, sizeof(*w));
}

/* In memory: every record's (author, seq, link), sorted. */
struct mem_link {
	uint8_t author[KITH_KEY_LEN];
	uint64_t seq;
	struct chain_link l;
};

struct mem_fork {
	uint8_t author[KITH_KEY_LEN];
	uint64_t seq;
};

struct chain_mem {
	struct mem_link *v;
	size_t n;
	struct mem_fork *forks;	/* by author; seq 0 for none */
	size_t nforks;
};

static int
link_cmp(const void *pa, const void *pb)
{
	const struct mem_link *a = pa, *b = pb;
	int c;

	if ((c = memcmp(a->author, b->author, KITH_KEY_LEN)) != 0)
		return c;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return memcmp(a->l.id, b->l.id, KITH_ID_LEN);
}

/* The first index of (${author}, ${seq}) or later. */
static size_t
mem_lower(const struct chain_mem *m, const uint8_t *author, uint64_t seq)
{
	struct mem_link k;
	size_t lo = 0, hi = m->n, mid;

	memcpy(k.author, author, KITH_KEY_LEN);
	k.seq = seq;
	memset(k.l.id, 0, KITH_ID_LEN);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (link_cmp(&m->v[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Copy the links of (${author}, ${seq}) into ${out}; return the count. */
static size_t
mem_at(const struct chain_mem *m, const uint8_t *author, uint64_t seq,
    struct chain_link *out, size_t max)
{
	size_t i, n = 0;

	for (i = mem_lower(m, author, seq); i < m->n &&
	    memcmp(m->v[i].author, author, KITH_KEY_LEN) == 0 &&
	    m->v[i].seq == seq; i++, n++)
		if (n < max)
			out[n] = m->v[i].l;
	return n;
}

static int
src_at(void *arg, const uint8_t key[KITH_KEY_LEN], uint64_t seq,
    struct chain_link *out, size_t max, size_t *n)
{

	*n = mem_at(arg, key, seq, out, max);
	return 0;
}

static int
src_fork(void *arg, const uint8_t key[KITH_KEY_LEN], uint64_t *seq)
{
	const struct chain_mem *m = arg;
	size_t i;

	*seq = 0;
	for (i = 0; i < m->nforks; i++)
		if (memcmp(m->forks[i].author, key, KITH_KEY_LEN) == 0)
			*seq = m->forks[i].seq;
	return 0;
}

/* Fold the fork evidence of link ${i} into its author's fork point. */
static int
mem_evidence(struct chain_mem *m, size_t i)
{
	struct chain_link same[CHAIN_AT_MAX], below[CHAIN_AT_MAX],
	    above[CHAIN_AT_MAX];
	const struct mem_link *x = &m->v[i];
	struct mem_fork *f;
	size_t ns, nb, na, k;
	uint64_t at;

	ns = mem_at(m, x->author, x->seq, same, CHAIN_AT_MAX);
	nb = x->seq > 1 ? mem_at(m, x->author, x->seq - 1, below,
	    CHAIN_AT_MAX) : 0;
	na = mem_at(m, x->author, x->seq + 1, above, CHAIN_AT_MAX);
	at = chain_fork_evidence(x->seq, &x->l, same,
	    ns < CHAIN_AT_MAX ? ns : CHAIN_AT_MAX, below,
	    nb < CHAIN_AT_MAX ? nb : CHAIN_AT_MAX, above,
	    na < CHAIN_AT_MAX ? na : CHAIN_AT_MAX);
	if (at == 0)
		return 0;
	for (k = 0; k < m->nforks; k++)
		if (memcmp(m->forks[k].author, x->author, KITH_KEY_LEN) == 0)
			break;
	if (k == m->nforks) {
		if ((f = realloc(m->forks, (m->nforks + 1) *
		    sizeof(*f))) == NULL)
			return KITH_ENOMEM;
		m->forks = f;
		memcpy(m->forks[k].author, x->author, KITH_KEY_LEN);
		m->forks[k].seq = at;
		m->nforks++;
	} else if (at < m->forks[k].seq)
		m->forks[k].seq = at;
	return 0;
}

struct chain_mem *
chain_mem_new(struct record *const *recs, size_t n)
{
	struct chain_mem *m;
	const struct record_header *h;
	size_t i, k;

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->v = calloc(n ? n : 1, sizeof(*m->v))) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		h = record_header(recs[i]);
		memcpy(m->v[i].author, h->author, KITH_KEY_LEN);
		m->v[i].seq = h->seq;
		memcpy(m->v[i].l.id, record_id(recs[i]), KITH_ID_LEN);
		memcpy(m->v[i].l.prev, h->prev, KITH_ID_LEN);
	}
	qsort(m->v, n, sizeof(*m->v), link_cmp);
	/* The same record twice counts once. */
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || link_cmp(&m->v[k - 1], &m->v[i]) != 0)
			m->v[k++] = m->v[i];
	m->n = k;
	for (i = 0; i < m->n; i++)
		if (mem_evidence(m, i) != 0)
			goto fail;
	return m;
fail:
	chain_mem_free(m);
	return NULL;
}

void
chain_mem_src(struct chain_mem *m, struct chain_src *out)
{

	out->at = src_at;
	out->fork = src_fork;
	out->arg = m;
}

void
chain_mem_free(struct chain_mem *m)
{

	if (m == NULL)
		return;
	free(m->v);
	free(m->forks);
	free(m);
}
