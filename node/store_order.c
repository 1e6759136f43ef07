/*
 * The reconciliation order kept in the store: the fingerprint tree of
 * node/fptree.h in the database "fp", node number -> node bytes.  A write
 * transaction queues the records it adds and takes out, and its commit
 * applies them to the tree in one batch (st_txn_commit), so the tree
 * changes with the records or not at all.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "fptree.h"
#include "store.h"
#include "store_priv.h"

/* One transaction's view of the tree. */
struct fp_txn {
	struct store *st;
	MDB_txn *txn;
};

static int
fp_get(void *arg, uint64_t id, const uint8_t **p, size_t *len)
{
	struct fp_txn *f = arg;
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb }, v;
	int rc;

	st_put_be64(kb, id);
	if ((rc = mdb_get(f->txn, f->st->dbi[DB_FP], &k, &v)) != 0)
		return st_mdb_err(rc);
	*p = v.mv_data;
	*len = v.mv_size;
	return 0;
}

static int
fp_put(void *arg, uint64_t id, const uint8_t *p, size_t len)
{
	struct fp_txn *f = arg;
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb }, v = { len, (void *)p };

	st_put_be64(kb, id);
	return st_mdb_err(mdb_put(f->txn, f->st->dbi[DB_FP], &k, &v, 0));
}

static int
fp_del(void *arg, uint64_t id)
{
	struct fp_txn *f = arg;
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb };

	st_put_be64(kb, id);
	return st_mdb_err(mdb_del(f->txn, f->st->dbi[DB_FP], &k, NULL));
}

static void
fp_io(struct fptree_io *io, struct fp_txn *f, struct store *st, MDB_txn *txn)
{

	f->st = st;
	f->txn = txn;
	io->get = fp_get;
	io->put = fp_put;
	io->del = fp_del;
	io->arg = f;
}

void
st_order_begin(struct store *st, MDB_txn *txn)
{

	st->fp_txn = txn;
	st->fp_add.n = 0;
	st->fp_del.n = 0;
	st->log_first = st->log_last = 0;
}

static int
queue(struct st_items *q, const uint8_t key[KEY_LEN])
{
	struct negentropy_item *v;
	size_t cap;

	if (q->n == q->cap) {
		cap = q->cap ? 2 * q->cap : 1024;
		if ((v = realloc(q->v, cap * sizeof(*v))) == NULL)
			return KITH_ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	q->v[q->n].timestamp = st_get_be64(key);
	memcpy(q->v[q->n++].id, key + 8, KITH_ID_LEN);
	return 0;
}

int
st_order_add(struct store *st, MDB_txn *txn, const uint8_t key[KEY_LEN])
{

	if (st->fp_txn != txn)
		st_order_begin(st, txn);
	return queue(&st->fp_add, key);
}

int
st_order_remove(struct store *st, MDB_txn *txn, const uint8_t key[KEY_LEN])
{
	struct st_items *a = &st->fp_add;
	size_t i;

	if (st->fp_txn != txn)
		st_order_begin(st, txn);
	/* Added in this transaction: then it never was. */
	for (i = 0; i < a->n; )
		if (a->v[i].timestamp == st_get_be64(key) &&
		    memcmp(a->v[i].id, key + 8, KITH_ID_LEN) == 0)
			a->v[i] = a->v[--a->n];
		else
			i++;
	return queue(&st->fp_del, key);
}

int
st_order_flush(struct store *st, MDB_txn *txn)
{
	struct fptree_io io;
	struct fp_txn f;
	int rc = 0;

	if (st->fp_txn != txn)
		return 0;
	fp_io(&io, &f, st, txn);
	if (st->fp_del.n > 0)
		rc = fptree_remove(&io, st->fp_del.v, st->fp_del.n);
	if (rc == 0 && st->fp_add.n > 0)
		rc = fptree_insert(&io, st->fp_add.v, st->fp_add.n);
	st->fp_txn = NULL;
	st->fp_add.n = st->fp_del.n = 0;
	return rc;
}

void
st_order_free(struct store *st)
{

	free(st->fp_add.v);
	free(st->fp_del.v);
	memset(&st->fp_add, 0, sizeof(st->fp_add));
	memset(&st->fp_del, 0, sizeof(st->fp_del));
}

#define BUILD_BATCH	65536	/* keys queued at once by st_order_build */

struct build {
	struct store *st;
	MDB_txn *txn;
	uint64_t n;
};

/* Take every record's key into the tree, a batch at a time. */
static int
build_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct build *b = arg;
	int rc;

	(void)v;
	if ((rc = st_order_add(b->st, b->txn, k->mv_data)) != 0)
		return rc;
	b->n++;
	/* A flush ends the queue; the next add starts another. */
	return b->st->fp_add.n < BUILD_BATCH ? 0 :
	    st_order_flush(b->st, b->txn);
}

int
st_order_build(struct store *st, MDB_txn *txn, uint64_t *n)
{
	struct build b = { st, txn, 0 };
	int rc;

	*n = 0;
	if ((rc = st_mdb_err(mdb_drop(txn, st->dbi[DB_FP], 0))) != 0)
		return rc;
	if ((rc = st_walk_txn(st, txn, DB_REC, KEY_LEN, build_one, &b)) != 0 ||
	    (rc = st_order_flush(st, txn)) != 0)
		return rc;
	*n = b.n;
	return 0;
}

/* The tree and the records, side by side in order. */
struct pair {
	MDB_cursor *cur;
	int more;		/* the cursor stands on a record */
	MDB_val k;
	uint64_t extra;		/* items with no record */
	uint64_t missing;	/* records with no item */
};

static int
pair_next(struct pair *p)
{
	int rc;

	rc = mdb_cursor_get(p->cur, &p->k, NULL, p->more < 0 ? MDB_FIRST :
	    MDB_NEXT);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_mdb_err(rc);
	p->more = rc == 0;
	return 0;
}

static int
pair_one(void *arg, const struct negentropy_item *it)
{
	struct pair *p = arg;
	uint8_t key[KEY_LEN];
	int c, rc;

	st_make_key(key, it->timestamp, it->id);
	for (;;) {
		c = !p->more ? 1 : p->k.mv_size != KEY_LEN ? -1 :
		    memcmp(p->k.mv_data, key, KEY_LEN);
		if (c >= 0)
			break;
		p->missing++;
		if ((rc = pair_next(p)) != 0)
			return rc;
	}
	if (c > 0) {
		p->extra++;
		return 0;
	}
	return pair_next(p);
}

int
st_order_check(struct store *st, MDB_txn *txn, uint64_t *extra,
    uint64_t *missing, int *broken)
{
	struct fptree_io io;
	struct fp_txn f;
	struct pair p;
	uint64_t nodes;
	int rc;

	*extra = *missing = 0;
	*broken = 0;
	memset(&p, 0, sizeof(p));
	p.more = -1;
	fp_io(&io, &f, st, txn);
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_REC],
	    &p.cur))) != 0)
		return rc;
	if ((rc = pair_next(&p)) != 0)
		goto out;
	if ((rc = fptree_check(&io, pair_one, &p, &nodes)) == KITH_ECORRUPT) {
		*broken = 1;
		rc = 0;
		goto out;
	}
	while (rc == 0 && p.more) {
		p.missing++;
		rc = pair_next(&p);
	}
	*extra = p.extra;
	*missing = p.missing;
out:
	mdb_cursor_close(p.cur);
	return rc;
}

int
store_fp_read(struct store *st, store_fp_fn *fn, void *arg)
{
	struct negentropy_source src;
	struct fptree_io io;
	struct fp_txn f;
	MDB_txn *txn;
	int rc;

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	fp_io(&io, &f, st, txn);
	if ((rc = fptree_source(&io, &src)) == 0)
		rc = fn(arg, &src);
	mdb_txn_abort(txn);
	return rc;
}

static int
count_of(void *arg, const struct negentropy_source *src)
{

	*(uint64_t *)arg = src->n;
	return 0;
}

int
store_count(struct store *st, uint64_t *n)
{

	*n = 0;
	return store_fp_read(st, count_of, n);
}
