/*
 * A reader of LMDB's data file format, written from the format's
 * description, for checking a file before LMDB touches it.  Layout
 * (LMDB 0.9, 64-bit, host byte order; every number below is little-endian
 * here, and the build refuses other hosts):
 *
 *   page header (16 bytes): pgno(8) pad(2) flags(2) lower(2) upper(2);
 *     an overflow page has pages(4) where lower and upper are.
 *   branch and leaf pages: lower - 16 bytes of 2-byte node offsets after
 *     the header, nodes from upper to the end of the page.
 *   node (8 bytes + key + data): lo(2) hi(2) flags(2) ksize(2).  On a
 *     leaf, lo | hi << 16 is the data size; on a branch, lo | hi << 16 |
 *     flags << 32 is the child's page number.
 *   leaf2 pages (sorted duplicates of a fixed size): keys packed after the
 *     header; lower counts them as if each had an offset.
 *   meta pages 0 and 1: after the header, magic(4) version(4) address(8)
 *     mapsize(8), two database records (the free-page tree, whose pad is
 *     the page size, and the main tree), last_pgno(8), txnid(8).
 *   database record (48 bytes): pad(4) flags(2) depth(2) branch_pages(8)
 *     leaf_pages(8) overflow_pages(8) entries(8) root(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kith.h"
#include "pagecheck.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "pagecheck reads the file layout of 64-bit little-endian hosts"
#endif
_Static_assert(sizeof(size_t) == 8, "pagecheck needs a 64-bit size_t");

#define HDR		16	/* page header */
#define NODE		8	/* node header */
#define DBREC		48	/* a database record */
#define META_MAGIC	0xBEEFC0DEu
#define META_VERSION	1
#define NO_PAGE		UINT64_MAX	/* an empty tree's root */
#define DEPTH_MAX	32	/* LMDB's cursor stack */
#define LOOSE_MAX	131072	/* pages one transaction dirties at most */
#define REPORT_MAX	64	/* problems passed to the callback per run */

/* Page flags. */
#define P_BRANCH	0x01
#define P_LEAF		0x02
#define P_OVERFLOW	0x04
#define P_META		0x08
#define P_DIRTY		0x10
#define P_LEAF2		0x20
#define P_SUBP		0x40

/* Node flags. */
#define F_BIGDATA	0x01
#define F_SUBDATA	0x02
#define F_DUPDATA	0x04

/* Database flags (as lmdb.h numbers them; stored in the record). */
#define DB_REVERSEKEY	0x02
#define DB_DUPSORT	0x04
#define DB_INTEGERKEY	0x08
#define DB_DUPFIXED	0x10
#define DB_INTEGERDUP	0x20
#define DB_REVERSEDUP	0x40

struct pagecheck {
	const uint8_t *base;
	size_t len;
	int mapped;
};

struct dbrec {
	uint32_t pad;
	uint16_t flags, depth;
	uint64_t branch, leaf, overflow, entries, root;
};

struct meta {
	uint32_t magic, version, psize;
	struct dbrec free, main;
	uint64_t last, txnid;
	int ok;
};

enum cmp { CMP_MEMN, CMP_INT, CMP_NONE };

/* The tree being walked. */
struct tree {
	char name[64];
	struct dbrec db;
	enum cmp kcmp;		/* its keys' order */
	enum cmp dcmp;		/* its duplicates' order (dupsort trees) */
	int main;		/* the main tree: its leaves name databases */
	int dup;		/* a tree of one key's duplicates */
	int emit;		/* hand its entries to cb->entry */
	uint64_t entries;
	uint64_t problems;	/* found within it */
};

struct run {
	const uint8_t *base;
	size_t len;
	unsigned psize;
	uint64_t npages;	/* whole pages in the file */
	uint64_t last;		/* the meta's last page */
	uint8_t *seen;		/* one bit a page */
	int flags;
	const struct pagecheck_cb *cb;
	struct pagecheck_stats *st;
	int stop;		/* cb->entry's non-zero result */
};

static uint16_t
u16(const uint8_t *p)
{

	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
u32(const uint8_t *p)
{

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
u64(const uint8_t *p)
{

	return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32;
}

static void
db_parse(const uint8_t *p, struct dbrec *d)
{

	d->pad = u32(p);
	d->flags = u16(p + 4);
	d->depth = u16(p + 6);
	d->branch = u64(p + 8);
	d->leaf = u64(p + 16);
	d->overflow = u64(p + 24);
	d->entries = u64(p + 32);
	d->root = u64(p + 40);
}

static void
problem(struct run *r, uint64_t pgno, const char *db, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
problem(struct run *r, uint64_t pgno, const char *db, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	if (r->st->problems++ >= REPORT_MAX || r->cb == NULL ||
	    r->cb->bad == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	r->cb->bad(r->cb->arg, pgno, db, what);
}

static void
listed(struct run *r, uint64_t pgno, const char *db, const char *kind,
    unsigned n)
{

	r->st->pages++;
	if (r->cb != NULL && r->cb->page != NULL)
		r->cb->page(r->cb->arg, pgno, db, kind, n);
}

/* LMDB's default order: bytes, then the shorter first. */
static int
cmp_memn(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	return c != 0 ? c : alen < blen ? -1 : alen > blen;
}

/* A native unsigned integer key (the free-page tree's transaction ids). */
static int
cmp_int(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint64_t x, y;

	if (alen != 8 || blen != 8)
		return cmp_memn(a, alen, b, blen);
	x = u64(a);
	y = u64(b);
	return x < y ? -1 : x > y;
}

static int
cmp_by(enum cmp how, const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen)
{

	return how == CMP_INT ? cmp_int(a, alen, b, blen) :
	    cmp_memn(a, alen, b, blen);
}

/* A key range a page's keys must fall in: [lo, hi); NULL is open. */
struct range {
	const uint8_t *lo, *hi;
	size_t lolen, hilen;
};

/*
 * Check that ${key} follows ${*prev} (if any) and lies in ${rg}; a problem
 * naming key ${i} otherwise.  ${*prev} becomes ${key}.
 */
static void
key_order(struct run *r, struct tree *t, enum cmp how, uint64_t pgno,
    const struct range *rg, unsigned i, const uint8_t *key, size_t klen,
    const uint8_t **prev, size_t *plen)
{

	if (how == CMP_NONE)
		return;
	if (*prev != NULL && cmp_by(how, *prev, *plen, key, klen) >= 0) {
		problem(r, pgno, t->name, "key %u is not above the key before "
		    "it", i);
		t->problems++;
	} else if ((rg->lo != NULL && cmp_by(how, key, klen, rg->lo,
	    rg->lolen) < 0) || (rg->hi != NULL && cmp_by(how, key, klen,
	    rg->hi, rg->hilen) >= 0)) {
		problem(r, pgno, t->name, "key %u is outside the range its "
		    "parent gives the page", i);
		t->problems++;
	}
	*prev = key;
	*plen = klen;
}

/* Mark page ${pgno} seen; 0 if it was not, else a problem. */
static int
mark(struct run *r, struct tree *t, uint64_t pgno, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		if (r->seen[(pgno + i) >> 3] & (1u << ((pgno + i) & 7))) {
			problem(r, pgno + i, t->name, "page is reached twice");
			t->problems++;
			return -1;
		}
		r->seen[(pgno + i) >> 3] |= (uint8_t)(1u << ((pgno + i) & 7));
	}
	return 0;
}

/* Is ${pgno} a page a tree may point to? */
static int
pgno_ok(const struct run *r, uint64_t pgno)
{

	return pgno >= 2 && pgno <= r->last && pgno < r->npages;
}

/*
 * The ${dsize}-byte value kept on the overflow run that starts at
 * ${pgno}: a pointer into the file, or NULL after a problem.
 */
static const uint8_t *
overflow(struct run *r, struct tree *t, uint64_t from, uint64_t pgno,
    uint64_t dsize)
{
	const uint8_t *p;
	uint64_t n, need = (HDR - 1 + dsize) / r->psize + 1;

	if (!pgno_ok(r, pgno)) {
		problem(r, from, t->name, "overflow page number %llu is "
		    "outside the file's %llu pages", (unsigned long long)pgno,
		    (unsigned long long)r->last + 1);
		t->problems++;
		return NULL;
	}
	p = r->base + pgno * r->psize;
	n = u32(p + 12);
	if (u64(p) != pgno || (u16(p + 10) & ~P_DIRTY) != P_OVERFLOW ||
	    n < need || n > r->last - pgno + 1 || pgno + n > r->npages) {
		problem(r, pgno, t->name, "overflow page is damaged (number "
		    "%llu, flags %#x, %llu pages for %llu bytes)",
		    (unsigned long long)u64(p), u16(p + 10),
		    (unsigned long long)n, (unsigned long long)dsize);
		t->problems++;
		return NULL;
	}
	if (mark(r, t, pgno, n) != 0)
		return NULL;
	listed(r, pgno, t->name, "overflow", (unsigned)n);
	return p + HDR;
}

static void walk(struct run *, struct tree *, uint64_t, unsigned,
    const struct range *);

/* Walk the tree whose record is at ${rec} (a named database, or a key's
 * duplicates when ${parent} is a dupsort tree), found on page ${from}. */
static void
subtree(struct run *r, struct tree *parent, uint64_t from, const uint8_t *key,
    size_t klen, const uint8_t *rec)
{
	struct range all = { NULL, NULL, 0, 0 };
	struct tree t;

	memset(&t, 0, sizeof(t));
	db_parse(rec, &t.db);
	if (parent->main) {
		snprintf(t.name, sizeof(t.name), "%.*s", (int)klen,
		    (const char *)key);
		t.kcmp = t.db.flags & (DB_REVERSEKEY | DB_INTEGERKEY) ?
		    CMP_NONE : CMP_MEMN;
		t.dcmp = t.db.flags & (DB_REVERSEDUP | DB_INTEGERDUP) ?
		    CMP_NONE : CMP_MEMN;
		t.emit = r->cb != NULL && r->cb->entry_db != NULL &&
		    strcmp(r->cb->entry_db, t.name) == 0;
	} else {
		snprintf(t.name, sizeof(t.name), "%s", parent->name);
		t.kcmp = parent->dcmp;
		t.dcmp = CMP_NONE;
		t.dup = 1;
		t.db.flags |= parent->db.flags & DB_DUPFIXED;
	}
	if (t.db.depth > DEPTH_MAX || (t.db.root == NO_PAGE) !=
	    (t.db.depth == 0) || (t.db.root != NO_PAGE &&
	    !pgno_ok(r, t.db.root))) {
		problem(r, from, t.name, "database record is damaged (root "
		    "%llu, depth %u)", (unsigned long long)t.db.root,
		    t.db.depth);
		parent->problems++;
		return;
	}
	if (t.db.root != NO_PAGE)
		walk(r, &t, t.db.root, 1, &all);
	if (!(r->flags & PAGECHECK_META) && t.problems == 0 &&
	    t.entries != t.db.entries) {
		problem(r, t.db.root, t.name, "the tree holds %llu entries, "
		    "its record says %llu", (unsigned long long)t.entries,
		    (unsigned long long)t.db.entries);
		t.problems++;
	}
	parent->problems += t.problems;
	parent->entries += t.dup ? t.entries : 0;
}

/*
 * A sub-page of duplicates: the ${size} bytes at ${p}, inside a leaf node
 * of page ${pgno}.
 */
static void
subpage(struct run *r, struct tree *t, uint64_t pgno, const uint8_t *p,
    size_t size)
{
	const uint8_t *prev = NULL, *k;
	struct range all = { NULL, NULL, 0, 0 };
	size_t plen = 0, ks;
	unsigned flags, lower, upper, n, i, off;

	if (size < HDR) {
		problem(r, pgno, t->name, "a sub-page of %zu bytes", size);
		t->problems++;
		return;
	}
	flags = u16(p + 10) & ~P_DIRTY;
	lower = u16(p + 12);
	upper = u16(p + 14);
	if ((flags & ~P_LEAF2) != (P_LEAF | P_SUBP) || lower < HDR ||
	    lower > upper || upper > size || (lower - HDR) % 2 != 0) {
		problem(r, pgno, t->name, "a sub-page's header is damaged "
		    "(flags %#x, lower %u, upper %u, size %zu)", flags, lower,
		    upper, size);
		t->problems++;
		return;
	}
	n = (lower - HDR) / 2;
	if (flags & P_LEAF2) {
		ks = u16(p + 8);
		if (ks == 0 || HDR + (size_t)n * ks > size) {
			problem(r, pgno, t->name, "a sub-page's %u keys of "
			    "%zu bytes overrun it", n, ks);
			t->problems++;
			return;
		}
		for (i = 0; i < n; i++)
			key_order(r, t, t->dcmp, pgno, &all, i,
			    p + HDR + (size_t)i * ks, ks, &prev, &plen);
		t->entries += n;
		return;
	}
	for (i = 0; i < n; i++) {
		off = u16(p + HDR + 2 * i);
		if (off < upper || off + NODE > size ||
		    off + NODE + u16(p + off + 6) > size) {
			problem(r, pgno, t->name, "a sub-page's node %u at "
			    "offset %u overruns it", i, off);
			t->problems++;
			return;
		}
		k = p + off + NODE;
		key_order(r, t, t->dcmp, pgno, &all, i, k, u16(p + off + 6),
		    &prev, &plen);
	}
	t->entries += n;
}

/* One leaf node of page ${pgno}, at ${node}, ${room} bytes to the end. */
static void
leaf_node(struct run *r, struct tree *t, uint64_t pgno, const uint8_t *node,
    size_t room, unsigned i)
{
	unsigned flags = u16(node + 4), ks = u16(node + 6);
	uint64_t ds = u16(node) | (uint64_t)u16(node + 2) << 16;
	const uint8_t *key = node + NODE, *val = key + ks;

	if (flags & ~(F_BIGDATA | F_SUBDATA | F_DUPDATA) ||
	    ((flags & F_BIGDATA) && (flags & (F_SUBDATA | F_DUPDATA)))) {
		problem(r, pgno, t->name, "node %u has flags %#x", i, flags);
		t->problems++;
		return;
	}
	if ((flags & F_BIGDATA) ? NODE + ks + 8 > room : NODE + ks + ds > room) {
		problem(r, pgno, t->name, "node %u's key and data (%u + %llu "
		    "bytes) overrun the page", i, ks, (unsigned long long)ds);
		t->problems++;
		return;
	}
	if (flags & F_BIGDATA) {
		if (r->flags & PAGECHECK_META)
			return;
		if ((val = overflow(r, t, pgno, u64(val), ds)) == NULL)
			return;
	}
	if ((flags & F_SUBDATA) && !t->main && !(flags & F_DUPDATA)) {
		problem(r, pgno, t->name, "node %u names a database outside "
		    "the main tree", i);
		t->problems++;
		return;
	}
	if (flags & F_SUBDATA) {
		if (ds != DBREC) {
			problem(r, pgno, t->name, "node %u holds a database "
			    "record of %llu bytes", i, (unsigned long long)ds);
			t->problems++;
			return;
		}
		subtree(r, t, pgno, key, ks, val);
		t->entries += t->main;
		return;
	}
	if (flags & F_DUPDATA) {
		if (!(t->db.flags & DB_DUPSORT)) {
			problem(r, pgno, t->name, "node %u has duplicates in a "
			    "tree that takes none", i);
			t->problems++;
			return;
		}
		if (!(r->flags & PAGECHECK_META))
			subpage(r, t, pgno, val, (size_t)ds);
		return;
	}
	t->entries++;
	if (t->emit && r->stop == 0 && r->cb->entry != NULL)
		r->stop = r->cb->entry(r->cb->arg, key, ks, val, (size_t)ds);
}

/*
 * Check page ${pgno}, at ${level} of tree ${t} (the root is level 1), whose
 * keys must lie in ${rg}, and walk what it points to.
 */
static void
walk(struct run *r, struct tree *t, uint64_t pgno, unsigned level,
    const struct range *rg)
{
	const uint8_t *p = r->base + pgno * r->psize, *prev = NULL, *node, *key;
	struct range sub;
	size_t plen = 0, ks;
	unsigned flags, lower, upper, n, i, off, want;
	uint64_t child;
	int leaf;

	if (r->stop != 0)
		return;
	if (!pgno_ok(r, pgno)) {
		problem(r, pgno, t->name, "page number %llu is outside the "
		    "file's %llu pages", (unsigned long long)pgno,
		    (unsigned long long)r->last + 1);
		t->problems++;
		return;
	}
	if (mark(r, t, pgno, 1) != 0)
		return;
	flags = u16(p + 10) & ~P_DIRTY;
	lower = u16(p + 12);
	upper = u16(p + 14);
	leaf = level == t->db.depth;
	want = leaf ? P_LEAF : P_BRANCH;
	if (u64(p) != pgno) {
		problem(r, pgno, t->name, "the page says it is page %llu",
		    (unsigned long long)u64(p));
		t->problems++;
		return;
	}
	if (level > t->db.depth || (flags & ~P_LEAF2) != want ||
	    ((flags & P_LEAF2) && !(t->dup && (t->db.flags & DB_DUPFIXED)))) {
		problem(r, pgno, t->name, "flags %#x where a %s page belongs "
		    "(level %u of %u)", flags, leaf ? "leaf" : "branch", level,
		    t->db.depth);
		t->problems++;
		return;
	}
	if (lower < HDR || lower > upper || upper > r->psize ||
	    (lower - HDR) % 2 != 0) {
		problem(r, pgno, t->name, "free-space bounds are damaged "
		    "(lower %u, upper %u)", lower, upper);
		t->problems++;
		return;
	}
	n = (lower - HDR) / 2;
	if (flags & P_LEAF2) {
		ks = t->db.pad;
		listed(r, pgno, t->name, "leaf2", n);
		if (ks == 0 || HDR + (size_t)n * ks > r->psize) {
			problem(r, pgno, t->name, "%u keys of %zu bytes overrun "
			    "the page", n, ks);
			t->problems++;
			return;
		}
		for (i = 0; i < n && !(r->flags & PAGECHECK_META); i++)
			key_order(r, t, t->kcmp, pgno, rg, i,
			    p + HDR + (size_t)i * ks, ks, &prev, &plen);
		t->entries += n;
		return;
	}
	listed(r, pgno, t->name, leaf ? "leaf" : "branch", n);
	if (!leaf && n == 0) {
		problem(r, pgno, t->name, "a branch page with no children");
		t->problems++;
		return;
	}
	/* Every node inside the page, above the free space. */
	for (i = 0; i < n; i++) {
		off = u16(p + HDR + 2 * i);
		if (off < upper || off % 2 != 0 || off + NODE > r->psize ||
		    off + NODE + u16(p + off + 6) > r->psize) {
			problem(r, pgno, t->name, "node %u at offset %u is "
			    "outside the page's nodes (%u..%u)", i, off, upper,
			    r->psize);
			t->problems++;
			return;
		}
	}
	/* Checking roots only: the main tree's leaf leads to them. */
	if ((r->flags & PAGECHECK_META) && !t->main)
		return;
	for (i = 0; i < n && r->stop == 0; i++) {
		node = p + u16(p + HDR + 2 * i);
		key = node + NODE;
		ks = u16(node + 6);
		/* A branch's first key is never compared. */
		if (leaf || i > 0)
			key_order(r, t, t->kcmp, pgno, rg, i, key, ks, &prev,
			    &plen);
		if (leaf) {
			leaf_node(r, t, pgno, node, r->psize -
			    (size_t)(node - p), i);
			continue;
		}
		child = u16(node) | (uint64_t)u16(node + 2) << 16 |
		    (uint64_t)u16(node + 4) << 32;
		sub = *rg;
		if (i > 0) {
			sub.lo = key;
			sub.lolen = ks;
		}
		if (i + 1 < n) {
			node = p + u16(p + HDR + 2 * (i + 1));
			sub.hi = node + NODE;
			sub.hilen = u16(node + 6);
		}
		if (t->kcmp == CMP_NONE)
			sub.lo = sub.hi = NULL;
		walk(r, t, child, level + 1, &sub);
	}
}

/* Read and check meta page ${i}. */
static void
meta_read(struct run *r, unsigned i, struct meta *m)
{
	const uint8_t *p = r->base + (size_t)i * r->psize, *d = p + HDR;

	memset(m, 0, sizeof(*m));
	if ((size_t)(i + 1) * r->psize > r->len) {
		problem(r, i, "", "the file ends before meta page %u", i);
		return;
	}
	m->magic = u32(d);
	m->version = u32(d + 4);
	db_parse(d + 24, &m->free);
	db_parse(d + 24 + DBREC, &m->main);
	m->psize = m->free.pad;
	m->last = u64(d + 24 + 2 * DBREC);
	m->txnid = u64(d + 24 + 2 * DBREC + 8);
	if (u64(p) != i || (u16(p + 10) & ~P_DIRTY) != P_META) {
		problem(r, i, "", "meta page %u is damaged (it says page "
		    "%llu, flags %#x)", i, (unsigned long long)u64(p),
		    u16(p + 10));
		return;
	}
	if (m->magic != META_MAGIC || m->version != META_VERSION) {
		problem(r, i, "", "meta page %u has magic %#x, version %u: "
		    "not an LMDB data file of this format", i, m->magic,
		    m->version);
		return;
	}
	if (m->psize != r->psize) {
		problem(r, i, "", "meta page %u says pages are %u bytes, not "
		    "%u", i, m->psize, r->psize);
		return;
	}
	/*
	 * The last page may lie past the file's end: LMDB does not write a
	 * page it took and freed again in one transaction, which dirties at
	 * most LOOSE_MAX pages.  A page a tree reaches must be in the file
	 * (pgno_ok).
	 */
	if (m->last < 1 || m->last >= r->npages + LOOSE_MAX) {
		problem(r, i, "", "meta page %u's last page %llu is outside "
		    "the file's %llu pages", i, (unsigned long long)m->last,
		    (unsigned long long)r->npages);
		return;
	}
	if ((m->free.root != NO_PAGE && (m->free.root < 2 ||
	    m->free.root > m->last)) || (m->main.root != NO_PAGE &&
	    (m->main.root < 2 || m->main.root > m->last)) ||
	    m->free.depth > DEPTH_MAX || m->main.depth > DEPTH_MAX) {
		problem(r, i, "", "meta page %u's roots are damaged (free "
		    "%llu, main %llu)", i, (unsigned long long)m->free.root,
		    (unsigned long long)m->main.root);
		return;
	}
	m->ok = 1;
}

/* The page size: meta page 0's, else the system's if meta page 1 agrees. */
static unsigned
page_size(const uint8_t *base, size_t len)
{
	long sys = sysconf(_SC_PAGESIZE);
	unsigned ps;

	if (len >= HDR + 24 + 4) {
		ps = u32(base + HDR + 24);
		if (ps >= 512 && ps <= 65536 && (ps & (ps - 1)) == 0)
			return ps;
	}
	return sys > 0 ? (unsigned)sys : 4096;
}

struct pagecheck *
pagecheck_mem(const uint8_t *p, size_t len)
{
	struct pagecheck *pc;

	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return NULL;
	pc->base = p;
	pc->len = len;
	return pc;
}

struct pagecheck *
pagecheck_open(const char *path, int *rc)
{
	struct pagecheck *pc;
	struct stat sb;
	void *m;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*rc = errno == ENOENT ? KITH_ENOTFOUND : KITH_EIO;
		return NULL;
	}
	if (fstat(fd, &sb) != 0) {
		close(fd);
		*rc = KITH_EIO;
		return NULL;
	}
	m = NULL;
	if (sb.st_size > 0 && (m = mmap(NULL, (size_t)sb.st_size, PROT_READ,
	    MAP_SHARED, fd, 0)) == MAP_FAILED) {
		close(fd);
		*rc = KITH_EIO;
		return NULL;
	}
	close(fd);
	if ((pc = pagecheck_mem(m, (size_t)sb.st_size)) == NULL) {
		if (m != NULL)
			munmap(m, (size_t)sb.st_size);
		*rc = KITH_ENOMEM;
		return NULL;
	}
	pc->mapped = m != NULL;
	return pc;
}

void
pagecheck_close(struct pagecheck *pc)
{

	if (pc == NULL)
		return;
	if (pc->mapped)
		munmap((void *)(uintptr_t)pc->base, pc->len);
	free(pc);
}

int
pagecheck_run(struct pagecheck *pc, int flags, const struct pagecheck_cb *cb,
    struct pagecheck_stats *st)
{
	struct run r;
	struct meta m[2], *cur;
	struct tree t;
	struct range all = { NULL, NULL, 0, 0 };
	unsigned i;

	memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	r.base = pc->base;
	r.len = pc->len;
	r.flags = flags;
	r.cb = cb;
	r.st = st;
	r.psize = page_size(pc->base, pc->len);
	r.npages = pc->len / r.psize;
	st->psize = r.psize;
	if (pc->len < 2 * (size_t)r.psize) {
		problem(&r, 0, "", "the file holds %zu bytes: fewer than its "
		    "two meta pages", pc->len);
		return KITH_ECORRUPT;
	}
	for (i = 0; i < 2; i++) {
		meta_read(&r, i, &m[i]);
		if (m[i].ok)
			listed(&r, i, "", "meta", 0);
	}
	if (!m[0].ok && !m[1].ok)
		return KITH_ECORRUPT;
	/* LMDB reads the meta of the newer transaction. */
	cur = !m[1].ok ? &m[0] : !m[0].ok ? &m[1] :
	    m[1].txnid > m[0].txnid ? &m[1] : &m[0];
	r.last = cur->last;
	st->last_pgno = cur->last;
	st->txnid = cur->txnid;
	if ((r.seen = calloc((size_t)((r.last < r.npages ? r.last :
	    r.npages) / 8 + 1), 1)) == NULL)
		return KITH_ENOMEM;
	r.seen[0] |= 3;		/* the meta pages */
	for (i = 0; i < 2; i++) {
		memset(&t, 0, sizeof(t));
		t.db = i == 0 ? cur->free : cur->main;
		snprintf(t.name, sizeof(t.name), "%s", i == 0 ? "(free)" :
		    "(main)");
		t.kcmp = i == 0 ? CMP_INT : CMP_MEMN;
		t.main = i == 1;
		if ((t.db.root == NO_PAGE) != (t.db.depth == 0)) {
			problem(&r, cur == &m[0] ? 0 : 1, t.name, "the meta "
			    "page's record of the tree is damaged");
			continue;
		}
		if (t.db.root != NO_PAGE)
			walk(&r, &t, t.db.root, 1, &all);
		if (!(flags & PAGECHECK_META) && t.problems == 0 &&
		    t.entries != t.db.entries)
			problem(&r, t.db.root, t.name, "the tree holds %llu "
			    "entries, its record says %llu",
			    (unsigned long long)t.entries,
			    (unsigned long long)t.db.entries);
	}
	free(r.seen);
	if (r.stop != 0)
		return r.stop;
	return st->problems > 0 ? KITH_ECORRUPT : 0;
}

/* The newest meta page's transaction id in ${path}, or 0. */
static uint64_t
newest_txnid(const char *path)
{
	uint8_t buf[HDR + 24 + 2 * DBREC + 16];
	uint64_t best = 0, id;
	unsigned ps = 4096, i;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	for (i = 0; i < 2; i++) {
		if (pread(fd, buf, sizeof(buf), (off_t)i * ps) !=
		    (ssize_t)sizeof(buf))
			break;
		if (i == 0)
			ps = page_size(buf, sizeof(buf));
		id = u64(buf + HDR + 24 + 2 * DBREC + 8);
		if (u32(buf + HDR) == META_MAGIC && id > best)
			best = id;
	}
	close(fd);
	return best;
}

int
pagecheck_file(const char *path, int flags, const struct pagecheck_cb *cb,
    struct pagecheck_stats *st)
{
	struct pagecheck *pc;
	uint64_t before;
	int rc = 0, tries;

	/*
	 * Our reader holds no LMDB reader slot, so a writer two commits on
	 * may reuse pages under the walk: problems found while the newest
	 * meta moved are looked for again.  (Reports of such a run come
	 * twice; real damage stays put.)
	 */
	for (tries = 0; tries < 3; tries++) {
		before = newest_txnid(path);
		if ((pc = pagecheck_open(path, &rc)) == NULL)
			return rc;
		rc = pagecheck_run(pc, flags, cb, st);
		pagecheck_close(pc);
		if (rc != KITH_ECORRUPT || newest_txnid(path) == before)
			break;
	}
	return rc;
}
