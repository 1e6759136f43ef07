/*
 * The range fingerprint tree: see fptree.h for the node format.  Writes
 * take a sorted batch down the tree at once, so a node is rewritten once
 * per batch however many of its items change.  A node that overflows is
 * cut into as few nodes as hold it: evenly, or, when the batch only added
 * past its last item (records arrive in clock order), packed full from the
 * left, so a store filled in order has full nodes.  Nodes that empty are
 * dropped; others may stay underfull, as counts make positions exact
 * anyway.
 */
#include <stdlib.h>
#include <string.h>

#include "fptree.h"
#include "kith.h"

#define HDR_LEN		16
#define NODE_HDR	4
#define KEY_LEN		(8 + NEGENTROPY_ID_LEN)
#define ENTRY_LEN	(KEY_LEN + 8 + 8 + NEGENTROPY_SUM_LEN)
#define LEAF		1
#define INNER		2
#define NODE_MAX	(NODE_HDR + FPTREE_INNER_MAX * ENTRY_LEN)

/* An inner entry, decoded. */
struct ent {
	uint8_t key[KEY_LEN];
	uint64_t child;
	uint64_t count;
	uint8_t sum[NEGENTROPY_SUM_LEN];
};

struct entvec {
	struct ent *v;
	size_t n, cap;
};

/* A node as read: ${p} is borrowed from the io. */
struct node {
	int kind;
	size_t n;
	const uint8_t *p;	/* the first item or entry */
};

/* A write in progress. */
struct tree {
	const struct fptree_io *io;
	uint64_t root, next;
};

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
item_key(uint8_t key[KEY_LEN], uint64_t ts, const uint8_t *id)
{

	put_be64(key, ts);
	memcpy(key + 8, id, NEGENTROPY_ID_LEN);
}

static void
key_item(struct negentropy_item *it, const uint8_t *key)
{

	it->timestamp = get_be64(key);
	memcpy(it->id, key + 8, NEGENTROPY_ID_LEN);
}

static void
ent_decode(struct ent *e, const uint8_t *p)
{

	memcpy(e->key, p, KEY_LEN);
	e->child = get_be64(p + KEY_LEN);
	e->count = get_be64(p + KEY_LEN + 8);
	memcpy(e->sum, p + KEY_LEN + 16, NEGENTROPY_SUM_LEN);
}

static void
ent_encode(uint8_t *p, const struct ent *e)
{

	memcpy(p, e->key, KEY_LEN);
	put_be64(p + KEY_LEN, e->child);
	put_be64(p + KEY_LEN + 8, e->count);
	memcpy(p + KEY_LEN + 16, e->sum, NEGENTROPY_SUM_LEN);
}

static int
entvec_push(struct entvec *ev, const struct ent *e)
{
	struct ent *nv;
	size_t cap;

	if (ev->n == ev->cap) {
		cap = ev->cap ? 2 * ev->cap : 64;
		if ((nv = realloc(ev->v, cap * sizeof(*nv))) == NULL)
			return KITH_ENOMEM;
		ev->v = nv;
		ev->cap = cap;
	}
	ev->v[ev->n++] = *e;
	return 0;
}

static int
header_get(const struct fptree_io *io, uint64_t *root, uint64_t *next)
{
	const uint8_t *p;
	size_t len;
	int rc;

	*root = 0;
	*next = 1;
	if ((rc = io->get(io->arg, 0, &p, &len)) == KITH_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (len != HDR_LEN)
		return KITH_ECORRUPT;
	*root = get_be64(p);
	*next = get_be64(p + 8);
	if (*next == 0 || *root >= *next)
		return KITH_ECORRUPT;
	return 0;
}

static int
header_put(const struct tree *t)
{
	uint8_t h[HDR_LEN];

	put_be64(h, t->root);
	put_be64(h + 8, t->next);
	return t->io->put(t->io->arg, 0, h, sizeof(h));
}

/* Read node ${id} into ${nd}, checking its shape. */
static int
node_get(const struct fptree_io *io, uint64_t id, int depth, struct node *nd)
{
	const uint8_t *p;
	size_t len, max, esz;
	int rc;

	if (depth >= FPTREE_DEPTH_MAX || id == 0)
		return KITH_ECORRUPT;
	if ((rc = io->get(io->arg, id, &p, &len)) != 0)
		return rc == KITH_ENOTFOUND ? KITH_ECORRUPT : rc;
	if (len < NODE_HDR || p[1] != 0)
		return KITH_ECORRUPT;
	nd->kind = p[0];
	nd->n = (size_t)p[2] << 8 | p[3];
	nd->p = p + NODE_HDR;
	if (nd->kind == LEAF) {
		max = FPTREE_LEAF_MAX;
		esz = KEY_LEN;
	} else if (nd->kind == INNER) {
		max = FPTREE_INNER_MAX;
		esz = ENTRY_LEN;
	} else
		return KITH_ECORRUPT;
	if (nd->n == 0 || nd->n > max || len != NODE_HDR + nd->n * esz)
		return KITH_ECORRUPT;
	return 0;
}

/* The items under inner entry or leaf ${nd}. */
static int
node_count(const struct node *nd, uint64_t *n)
{
	uint64_t c = 0, x;
	size_t i;

	if (nd->kind == LEAF) {
		*n = nd->n;
		return 0;
	}
	for (i = 0; i < nd->n; i++) {
		x = get_be64(nd->p + i * ENTRY_LEN + KEY_LEN + 8);
		if (x > UINT64_MAX - c)
			return KITH_ECORRUPT;
		c += x;
	}
	*n = c;
	return 0;
}

/* Set ${*root} and the count ${*n} of the tree's items. */
static int
root_count(const struct fptree_io *io, uint64_t *root, uint64_t *n)
{
	uint64_t next;
	struct node nd;
	int rc;

	*n = 0;
	if ((rc = header_get(io, root, &next)) != 0 || *root == 0)
		return rc;
	if ((rc = node_get(io, *root, 0, &nd)) != 0)
		return rc;
	return node_count(&nd, n);
}

int
fptree_count(const struct fptree_io *io, uint64_t *n)
{
	uint64_t root;

	return root_count(io, &root, n);
}

/* Set ${*root}; KITH_ERANGE unless [lo, hi) is a range of the items. */
static int
range_root(const struct fptree_io *io, uint64_t lo, uint64_t hi,
    uint64_t *root)
{
	uint64_t n;
	int rc;

	if ((rc = root_count(io, root, &n)) != 0)
		return rc;
	return lo > hi || hi > n ? KITH_ERANGE : 0;
}

/* Write the sum of the first ${i} items to ${sum}. */
static int
prefix(const struct fptree_io *io, uint64_t root, uint64_t i,
    uint8_t sum[NEGENTROPY_SUM_LEN])
{
	struct node nd;
	uint64_t c;
	uint64_t id = root;
	size_t j;
	int depth, rc;

	memset(sum, 0, NEGENTROPY_SUM_LEN);
	for (depth = 0; i > 0; depth++) {
		if ((rc = node_get(io, id, depth, &nd)) != 0)
			return rc;
		if (nd.kind == LEAF) {
			if (i > nd.n)
				return KITH_ECORRUPT;
			for (j = 0; j < i; j++)
				negentropy_sum_add(sum, nd.p + j * KEY_LEN + 8);
			return 0;
		}
		for (j = 0; j < nd.n; j++) {
			c = get_be64(nd.p + j * ENTRY_LEN + KEY_LEN + 8);
			if (i < c)
				break;
			negentropy_sum_add(sum, nd.p + j * ENTRY_LEN +
			    KEY_LEN + 16);
			if ((i -= c) == 0)
				return 0;
		}
		if (j == nd.n)
			return KITH_ECORRUPT;	/* fewer items than counted */
		id = get_be64(nd.p + j * ENTRY_LEN + KEY_LEN);
	}
	return 0;
}

int
fptree_sum(const struct fptree_io *io, uint64_t lo, uint64_t hi,
    uint8_t out[NEGENTROPY_SUM_LEN])
{
	uint8_t below[NEGENTROPY_SUM_LEN];
	uint64_t root;
	int rc;

	if ((rc = range_root(io, lo, hi, &root)) != 0 ||
	    (rc = prefix(io, root, hi, out)) != 0 ||
	    (rc = prefix(io, root, lo, below)) != 0)
		return rc;
	negentropy_sum_sub(out, below);
	return 0;
}

/* Copy items [lo, hi) of the subtree at ${id} to ${out}. */
static int
collect(const struct fptree_io *io, uint64_t id, int depth, uint64_t lo,
    uint64_t hi, struct negentropy_item *out)
{
	struct node nd;
	uint64_t off = 0, c, a, b;
	size_t j;
	int rc;

	if ((rc = node_get(io, id, depth, &nd)) != 0)
		return rc;
	if (nd.kind == LEAF) {
		if (hi > nd.n)
			return KITH_ECORRUPT;
		for (; lo < hi; lo++)
			key_item(out++, nd.p + lo * KEY_LEN);
		return 0;
	}
	for (j = 0; j < nd.n && off < hi; j++, off += c) {
		c = get_be64(nd.p + j * ENTRY_LEN + KEY_LEN + 8);
		if (c > UINT64_MAX - off)
			return KITH_ECORRUPT;
		if (off + c <= lo)
			continue;
		a = lo > off ? lo : off;
		b = hi < off + c ? hi : off + c;
		if ((rc = collect(io, get_be64(nd.p + j * ENTRY_LEN + KEY_LEN),
		    depth + 1, a - off, b - off, out + (a - lo))) != 0)
			return rc;
	}
	return off < hi ? KITH_ECORRUPT : 0;
}

int
fptree_items(const struct fptree_io *io, uint64_t lo, uint64_t hi,
    struct negentropy_item *out)
{
	uint64_t root;
	int rc;

	if ((rc = range_root(io, lo, hi, &root)) != 0 || lo == hi)
		return rc;
	return collect(io, root, 0, lo, hi, out);
}

int
fptree_lower_bound(const struct fptree_io *io, uint64_t ts,
    const uint8_t id[NEGENTROPY_ID_LEN], uint64_t *at)
{
	uint8_t key[KEY_LEN];
	uint64_t root, next, node, pos = 0;
	struct node nd;
	size_t j, lo, hi, mid;
	int depth, rc;

	*at = 0;
	if ((rc = header_get(io, &root, &next)) != 0 || root == 0)
		return rc;
	item_key(key, ts, id);
	node = root;
	for (depth = 0; ; depth++) {
		if ((rc = node_get(io, node, depth, &nd)) != 0)
			return rc;
		if (nd.kind == LEAF)
			break;
		/* The last child whose least item is not above the key. */
		for (j = 1; j < nd.n; j++)
			if (memcmp(nd.p + j * ENTRY_LEN, key, KEY_LEN) > 0)
				break;
		j--;
		for (lo = 0; lo < j; lo++)
			pos += get_be64(nd.p + lo * ENTRY_LEN + KEY_LEN + 8);
		node = get_be64(nd.p + j * ENTRY_LEN + KEY_LEN);
	}
	lo = 0;
	hi = nd.n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (memcmp(nd.p + mid * KEY_LEN, key, KEY_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = pos + lo;
	return 0;
}

/*
 * Writing.
 */

/*
 * Write the ${n} elements at ${v} (keys for a leaf, struct ent for an
 * inner node) as node ${id}.
 */
static int
node_put(const struct tree *t, uint64_t id, int kind, const void *v,
    size_t n)
{
	size_t esz = kind == LEAF ? KEY_LEN : ENTRY_LEN;
	uint8_t buf[NODE_MAX];
	const struct ent *e = v;
	size_t i;

	buf[0] = (uint8_t)kind;
	buf[1] = 0;
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	if (kind == LEAF)
		memcpy(buf + NODE_HDR, v, n * esz);
	else
		for (i = 0; i < n; i++)
			ent_encode(buf + NODE_HDR + i * ENTRY_LEN, &e[i]);
	return t->io->put(t->io->arg, id, buf, NODE_HDR + n * esz);
}

/* The entry that points at a node holding the ${n} elements at ${v}. */
static void
entry_of(struct ent *e, uint64_t id, int kind, const void *v, size_t n)
{
	const uint8_t (*items)[KEY_LEN] = v;
	const struct ent *ents = v;
	size_t i;

	e->child = id;
	e->count = 0;
	memset(e->sum, 0, sizeof(e->sum));
	if (kind == LEAF) {
		memcpy(e->key, items[0], KEY_LEN);
		e->count = n;
		for (i = 0; i < n; i++)
			negentropy_sum_add(e->sum, items[i] + 8);
		return;
	}
	memcpy(e->key, ents[0].key, KEY_LEN);
	for (i = 0; i < n; i++) {
		e->count += ents[i].count;
		negentropy_sum_add(e->sum, ents[i].sum);
	}
}

/*
 * Store the ${n} elements at ${v} as node ${id} and as many new nodes as
 * they need, and add an entry for each to ${out}.  ${packed}: fill each
 * node full, for a batch that only added at the end.
 */
static int
emit(struct tree *t, uint64_t id, int kind, const void *v, size_t n,
    int packed, struct entvec *out)
{
	size_t esz = kind == LEAF ? KEY_LEN : sizeof(struct ent);
	size_t max = kind == LEAF ? FPTREE_LEAF_MAX : FPTREE_INNER_MAX;
	size_t chunks = (n + max - 1) / max, per, extra, sz, i;
	const uint8_t *p = v;
	struct ent e;
	int rc;

	per = n / chunks;
	extra = n % chunks;
	for (i = 0; i < chunks; i++) {
		sz = packed ? (n < max ? n : max) : per + (i < extra);
		if (i > 0)
			id = t->next++;
		if ((rc = node_put(t, id, kind, p, sz)) != 0)
			return rc;
		entry_of(&e, id, kind, p, sz);
		if ((rc = entvec_push(out, &e)) != 0)
			return rc;
		p += sz * esz;
		n -= sz;
	}
	return 0;
}

/* Merge ${k} sorted keys into the leaf's ${n}; ${del}: take them out. */
static size_t
merge_leaf(uint8_t (*dst)[KEY_LEN], const uint8_t *have, size_t n,
    const uint8_t (*keys)[KEY_LEN], size_t k, int del)
{
	size_t i = 0, j = 0, m = 0;
	int c;

	while (i < n || j < k) {
		if (i == n)
			c = 1;
		else if (j == k)
			c = -1;
		else
			c = memcmp(have + i * KEY_LEN, keys[j], KEY_LEN);
		if (c < 0) {
			memcpy(dst[m++], have + i++ * KEY_LEN, KEY_LEN);
		} else if (c == 0) {
			if (!del)
				memcpy(dst[m++], keys[j], KEY_LEN);
			i++;
			j++;
		} else {
			if (!del)
				memcpy(dst[m++], keys[j], KEY_LEN);
			j++;
		}
	}
	return m;
}

/*
 * Add (or with ${del}, remove) the ${k} sorted keys at ${keys} in the
 * subtree at node ${id}, and add the entries that now stand for it to
 * ${out}: none if it emptied, several if it split.
 */
static int
change(struct tree *t, uint64_t id, int depth, const uint8_t (*keys)[KEY_LEN],
    size_t k, int del, struct entvec *out)
{
	struct entvec ev = { NULL, 0, 0 };
	uint8_t (*merged)[KEY_LEN] = NULL;
	struct ent *ents = NULL;
	struct node nd;
	size_t j, i, end, m, n;
	int packed, rc;

	if ((rc = node_get(t->io, id, depth, &nd)) != 0)
		goto out;
	n = nd.n;
	if (nd.kind == LEAF) {
		if ((merged = malloc((n + (del ? 0 : k)) * KEY_LEN)) == NULL) {
			rc = KITH_ENOMEM;
			goto out;
		}
		packed = !del && memcmp(keys[0], nd.p + (n - 1) * KEY_LEN,
		    KEY_LEN) > 0;
		/* ${nd} is borrowed only until the first write. */
		m = merge_leaf(merged, nd.p, n, keys, k, del);
		if (m == 0)
			rc = t->io->del(t->io->arg, id);
		else
			rc = emit(t, id, LEAF, merged, m, packed, out);
		goto out;
	}
	if ((ents = malloc(n * sizeof(*ents))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	for (j = 0; j < n; j++)
		ent_decode(&ents[j], nd.p + j * ENTRY_LEN);
	packed = !del;
	for (i = 0, j = 0; j < n; j++) {
		/* Child j takes the keys below child j + 1's least. */
		for (end = i; end < k && (j + 1 == n ||
		    memcmp(keys[end], ents[j + 1].key, KEY_LEN) < 0); end++)
			;
		if (end == i) {
			rc = entvec_push(&ev, &ents[j]);
		} else {
			if (j + 1 < n)
				packed = 0;
			rc = change(t, ents[j].child, depth + 1, keys + i,
			    end - i, del, &ev);
		}
		if (rc != 0)
			goto out;
		i = end;
	}
	if (ev.n == 0)
		rc = t->io->del(t->io->arg, id);
	else
		rc = emit(t, id, INNER, ev.v, ev.n, packed, out);
out:
	free(ents);
	free(merged);
	free(ev.v);
	return rc;
}

static int
cmp_key(const void *a, const void *b)
{

	return memcmp(a, b, KEY_LEN);
}

/* Sort ${n} items as keys into ${*keys}, without repeats; set ${*k}. */
static int
sorted_keys(const struct negentropy_item *items, size_t n,
    uint8_t (**keys)[KEY_LEN], size_t *k)
{
	size_t i, m;

	*k = 0;
	if ((*keys = malloc((n ? n : 1) * KEY_LEN)) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i < n; i++)
		item_key((*keys)[i], items[i].timestamp, items[i].id);
	qsort(*keys, n, KEY_LEN, cmp_key);
	for (i = 0, m = 0; i < n; i++)
		if (m == 0 || memcmp((*keys)[i], (*keys)[m - 1], KEY_LEN) != 0)
			memmove((*keys)[m++], (*keys)[i], KEY_LEN);
	*k = m;
	return 0;
}

static int
update(const struct fptree_io *io, struct negentropy_item *items, size_t n,
    int del)
{
	struct tree t = { io, 0, 1 };
	struct entvec ev = { NULL, 0, 0 }, up = { NULL, 0, 0 }, tmp;
	uint8_t (*keys)[KEY_LEN] = NULL;
	struct node nd;
	size_t k;
	uint64_t old;
	int rc;

	if ((rc = header_get(io, &t.root, &t.next)) != 0 ||
	    (rc = sorted_keys(items, n, &keys, &k)) != 0 || k == 0)
		goto out;
	if (t.root != 0)
		rc = change(&t, t.root, 0, (const uint8_t (*)[KEY_LEN])keys, k,
		    del, &ev);
	else if (!del)
		rc = emit(&t, t.next++, LEAF, keys, k, 1, &ev);
	if (rc != 0)
		goto out;
	/* Grow: a level above while the top split. */
	while (ev.n > 1) {
		up.n = 0;
		if ((rc = emit(&t, t.next++, INNER, ev.v, ev.n, 1, &up)) != 0)
			goto out;
		tmp = ev;
		ev = up;
		up = tmp;
	}
	t.root = ev.n == 1 ? ev.v[0].child : 0;
	/* Shrink: an inner root of one child is that child. */
	while (t.root != 0) {
		if ((rc = node_get(io, t.root, 0, &nd)) != 0)
			goto out;
		if (nd.kind == LEAF || nd.n > 1)
			break;
		old = t.root;
		t.root = get_be64(nd.p + KEY_LEN);
		if ((rc = io->del(io->arg, old)) != 0)
			goto out;
	}
	rc = header_put(&t);
out:
	free(up.v);
	free(ev.v);
	free(keys);
	return rc;
}

int
fptree_insert(const struct fptree_io *io, struct negentropy_item *items,
    size_t n)
{

	return update(io, items, n, 0);
}

int
fptree_remove(const struct fptree_io *io, struct negentropy_item *items,
    size_t n)
{

	return update(io, items, n, 1);
}

/*
 * The tree as a Negentropy source.
 */

static int
src_items(void *arg, size_t lo, size_t hi, struct negentropy_item *out)
{

	return fptree_items(arg, lo, hi, out);
}

static int
src_sum(void *arg, size_t lo, size_t hi, uint8_t out[NEGENTROPY_SUM_LEN])
{

	return fptree_sum(arg, lo, hi, out);
}

static int
src_lower_bound(void *arg, uint64_t ts, const uint8_t id[NEGENTROPY_ID_LEN],
    size_t *at)
{
	uint64_t a;
	int rc;

	if ((rc = fptree_lower_bound(arg, ts, id, &a)) == 0)
		*at = (size_t)a;
	return rc;
}

int
fptree_source(const struct fptree_io *io, struct negentropy_source *src)
{
	uint64_t n;
	int rc;

	if ((rc = fptree_count(io, &n)) != 0)
		return rc;
	if (n > SIZE_MAX)
		return KITH_ERANGE;
	src->n = (size_t)n;
	src->items = src_items;
	src->sum = src_sum;
	src->lower_bound = src_lower_bound;
	src->arg = (void *)(uintptr_t)io;
	return 0;
}

/*
 * Checking.
 */

struct checker {
	const struct fptree_io *io;
	fptree_item_fn *fn;
	void *arg;
	uint64_t nodes;
	int have_last;
	uint8_t last[KEY_LEN];
};

/* Check the subtree at ${id}; set ${*e} to the entry it should have. */
static int
check_node(struct checker *c, uint64_t id, int depth, struct ent *e)
{
	struct negentropy_item it;
	struct node nd;
	struct ent want, got;
	const uint8_t *p;
	size_t j, len;
	int rc;

	if ((rc = node_get(c->io, id, depth, &nd)) != 0)
		return rc;
	c->nodes++;
	e->child = id;
	e->count = 0;
	memset(e->sum, 0, sizeof(e->sum));
	if (nd.kind == LEAF) {
		/* Copied: ${fn} may read the store. */
		uint8_t keys[FPTREE_LEAF_MAX][KEY_LEN];

		memcpy(keys, nd.p, nd.n * KEY_LEN);
		memcpy(e->key, keys[0], KEY_LEN);
		e->count = nd.n;
		for (j = 0; j < nd.n; j++) {
			if (c->have_last && memcmp(c->last, keys[j],
			    KEY_LEN) >= 0)
				return KITH_ECORRUPT;
			memcpy(c->last, keys[j], KEY_LEN);
			c->have_last = 1;
			negentropy_sum_add(e->sum, keys[j] + 8);
			key_item(&it, keys[j]);
			if (it.timestamp == UINT64_MAX)
				return KITH_ECORRUPT;
			if (c->fn != NULL && (rc = c->fn(c->arg, &it)) != 0)
				return rc;
		}
		return 0;
	}
	for (j = 0; j < nd.n; j++) {
		/* Read again: the walk below may move what ${nd} borrowed. */
		if ((rc = c->io->get(c->io->arg, id, &p, &len)) != 0)
			return rc;
		ent_decode(&want, p + NODE_HDR + j * ENTRY_LEN);
		if ((rc = check_node(c, want.child, depth + 1, &got)) != 0)
			return rc;
		if (memcmp(want.key, got.key, KEY_LEN) != 0 ||
		    want.count != got.count ||
		    memcmp(want.sum, got.sum, NEGENTROPY_SUM_LEN) != 0)
			return KITH_ECORRUPT;
		if (j == 0)
			memcpy(e->key, got.key, KEY_LEN);
		if (got.count > UINT64_MAX - e->count)
			return KITH_ECORRUPT;
		e->count += got.count;
		negentropy_sum_add(e->sum, got.sum);
	}
	return 0;
}

int
fptree_check(const struct fptree_io *io, fptree_item_fn *fn, void *arg,
    uint64_t *nodes)
{
	struct checker c;
	uint64_t root, next;
	const uint8_t *p;
	struct ent e;
	size_t len;
	int rc;

	memset(&c, 0, sizeof(c));
	c.io = io;
	c.fn = fn;
	c.arg = arg;
	*nodes = 0;

	if ((rc = header_get(io, &root, &next)) != 0)
		return rc;
	c.nodes = io->get(io->arg, 0, &p, &len) == 0;
	if (root != 0)
		rc = check_node(&c, root, 0, &e);
	*nodes = c.nodes;
	return rc;
}
