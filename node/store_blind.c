/*
 * The blind index kept in the store (store.h, "blind"): keyed hashes of
 * personal fields, by hash and by entity, the entities to index again,
 * and how far the index has come.  The store never sees a name or a key:
 * node/find.c computes the hashes and brings the index up to date.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "store.h"
#include "store_priv.h"

/* Key tags within the database. */
#define TAG_HASH	'h'	/* hash(16) entity(16) -> "" */
#define TAG_ENT		'e'	/* entity(16) -> hash(16)... */
#define TAG_DIRTY	'd'	/* entity(16) -> txn id(8) */
#define TAG_MARK	'm'	/* -> gen(8) at(8) */

#define HKEY_LEN	(1 + STORE_BLIND_LEN + KITH_ENTITY_LEN)
#define EKEY_LEN	(1 + KITH_ENTITY_LEN)
#define MARK_LEN	16

/* An entity holds at most this many hashes (names have few words). */
#define ENT_HASHES_MAX	64

static int
get_mark(struct store *st, MDB_txn *txn, struct store_blind_mark *m)
{
	MDB_val k = { 1, "m" }, v;
	int rc;

	memset(m, 0, sizeof(*m));
	m->snap = mdb_txn_id(txn);
	if ((rc = mdb_get(txn, st->dbi[DB_BLIND], &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return st_mdb_err(rc);
	if (v.mv_size != MARK_LEN)
		return KITH_ECORRUPT;
	m->valid = 1;
	m->gen = st_get_be64(v.mv_data);
	m->at = st_get_be64((uint8_t *)v.mv_data + 8);
	return 0;
}

/* Delete ${entity}'s entries by hash and its list of hashes. */
static int
drop_entity(struct store *st, MDB_txn *txn, const uint8_t *entity)
{
	uint8_t ek[EKEY_LEN], hk[HKEY_LEN], old[ENT_HASHES_MAX][STORE_BLIND_LEN];
	MDB_val k = { EKEY_LEN, ek }, v;
	size_t i, n;
	int rc;

	ek[0] = TAG_ENT;
	memcpy(ek + 1, entity, KITH_ENTITY_LEN);
	if ((rc = mdb_get(txn, st->dbi[DB_BLIND], &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return st_mdb_err(rc);
	if (v.mv_size % STORE_BLIND_LEN != 0 ||
	    v.mv_size / STORE_BLIND_LEN > ENT_HASHES_MAX)
		return KITH_ECORRUPT;
	/* Copied out: the value's page may move as entries go. */
	n = v.mv_size / STORE_BLIND_LEN;
	memcpy(old, v.mv_data, v.mv_size);
	hk[0] = TAG_HASH;
	memcpy(hk + 1 + STORE_BLIND_LEN, entity, KITH_ENTITY_LEN);
	for (i = 0, rc = 0; i < n && rc == 0; i++) {
		memcpy(hk + 1, old[i], STORE_BLIND_LEN);
		rc = st_del_key(st, txn, DB_BLIND, hk, HKEY_LEN);
	}
	return rc == 0 ? st_del_key(st, txn, DB_BLIND, ek, EKEY_LEN) : rc;
}

/* Give ${e}'s entity its hashes, unless it has none or is erased. */
static int
put_entity(struct store *st, MDB_txn *txn, const struct store_blind_ent *e)
{
	uint8_t ek[EKEY_LEN], hk[HKEY_LEN];
	MDB_val k = { EKEY_LEN, ek }, v;
	size_t i;
	int rc, denied;

	if ((rc = drop_entity(st, txn, e->entity)) != 0 ||
	    (rc = st_has_key(st, txn, DB_DENY, e->entity, KITH_ENTITY_LEN,
	    &denied)) != 0)
		return rc;
	if (e->n == 0 || denied)
		return 0;
	if (e->n > ENT_HASHES_MAX)
		return KITH_EINVAL;
	ek[0] = TAG_ENT;
	memcpy(ek + 1, e->entity, KITH_ENTITY_LEN);
	v = (MDB_val){ e->n * STORE_BLIND_LEN, (void *)e->hash };
	if ((rc = st_mdb_err(mdb_put(txn, st->dbi[DB_BLIND], &k, &v, 0))) != 0)
		return rc;
	hk[0] = TAG_HASH;
	memcpy(hk + 1 + STORE_BLIND_LEN, e->entity, KITH_ENTITY_LEN);
	for (i = 0; i < e->n && rc == 0; i++) {
		memcpy(hk + 1, e->hash[i], STORE_BLIND_LEN);
		rc = st_put_empty(st, txn, DB_BLIND, hk, HKEY_LEN);
	}
	return rc;
}

/*
 * Delete the entries tagged ${tag}; of the dirty ones only those noted
 * at or before transaction ${snap}: a later note is for a change the
 * caller has not seen.  (After mdb_cursor_del, MDB_NEXT gives the entry
 * that followed the one deleted.)
 */
static int
drop_tagged(struct store *st, MDB_txn *txn, uint8_t tag, uint64_t snap)
{
	MDB_cursor *cur;
	MDB_val k = { 1, &tag }, v;
	int rc, op;

	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_BLIND], &cur))) != 0)
		return rc;
	for (op = MDB_SET_RANGE; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT) {
		if (k.mv_size < 1 || *(uint8_t *)k.mv_data != tag)
			break;
		if (tag == TAG_DIRTY && v.mv_size == 8 &&
		    st_get_be64(v.mv_data) > snap)
			continue;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
}

/* Call ${fn} for each entity whose key is ${prefix} followed by it. */
static int
each_under(struct store *st, MDB_txn *txn, const uint8_t *prefix, size_t plen,
    size_t i, store_blind_fn *fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k = { plen, (void *)prefix }, v;
	int rc, op;

	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_BLIND], &cur))) != 0)
		return rc;
	for (op = MDB_SET_RANGE; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (k.mv_size != plen + KITH_ENTITY_LEN)
			continue;	/* store_check names it */
		if ((rc = fn(arg, i, (const uint8_t *)k.mv_data + plen)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	else if (rc > 0)
		rc = st_mdb_err(rc);
	return rc;
}

int
store_blind_read(struct store *st, const uint8_t (*hash)[STORE_BLIND_LEN],
    size_t nh, struct store_blind_mark *m, store_blind_fn *fn, void *arg)
{
	uint8_t prefix[1 + STORE_BLIND_LEN], tag = TAG_DIRTY;
	MDB_txn *txn;
	size_t i;
	int rc;

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = get_mark(st, txn, m)) != 0)
		goto out;
	prefix[0] = TAG_HASH;
	for (i = 0; i < nh && rc == 0; i++) {
		memcpy(prefix + 1, hash[i], STORE_BLIND_LEN);
		rc = each_under(st, txn, prefix, sizeof(prefix), i, fn, arg);
	}
	if (rc == 0)
		rc = each_under(st, txn, &tag, 1, nh, fn, arg);
out:
	mdb_txn_abort(txn);
	return rc;
}

static int
update_txn(struct store *st, const struct store_blind_mark *seen, uint64_t at,
    int afresh, const struct store_blind_ent *e, size_t n)
{
	struct store_blind_mark now;
	uint8_t mark[MARK_LEN];
	MDB_val k = { 1, "m" }, v = { MARK_LEN, mark };
	MDB_txn *txn;
	size_t i;
	int rc;

	if ((rc = st_txn_begin(st, 0, &txn)) != 0)
		return rc;
	if ((rc = get_mark(st, txn, &now)) != 0)
		goto fail;
	/* Another process's update came between: its view may be newer. */
	if (now.valid != seen->valid || now.gen != seen->gen) {
		rc = KITH_EBUSY;
		goto fail;
	}
	if (afresh && ((rc = drop_tagged(st, txn, TAG_HASH, 0)) != 0 ||
	    (rc = drop_tagged(st, txn, TAG_ENT, 0)) != 0))
		goto fail;
	for (i = 0; i < n && rc == 0; i++)
		rc = put_entity(st, txn, &e[i]);
	if (rc != 0 || (rc = drop_tagged(st, txn, TAG_DIRTY, seen->snap)) != 0)
		goto fail;
	st_put_be64(mark, now.gen + 1);
	st_put_be64(mark + 8, at);
	if ((rc = st_mdb_err(mdb_put(txn, st->dbi[DB_BLIND], &k, &v, 0))) != 0)
		goto fail;
	return st_txn_commit(st, txn);
fail:
	mdb_txn_abort(txn);
	return rc;
}

int
store_blind_update(struct store *st, const struct store_blind_mark *seen,
    uint64_t at, int afresh, const struct store_blind_ent *e, size_t n)
{
	int rc;

	if (st->rdonly)
		return KITH_EINVAL;
	while ((rc = update_txn(st, seen, at, afresh, e, n)) == KITH_EMAPFULL)
		if ((rc = st_grow(st)) != 0)
			break;
	return rc;
}

int
store_rdonly(const struct store *st)
{

	return st->rdonly;
}

/* An erased entity leaves the index in the transaction that erases it. */
int
st_blind_forget(struct store *st, MDB_txn *txn, const uint8_t *entity)
{
	uint8_t dk[EKEY_LEN];

	dk[0] = TAG_DIRTY;
	memcpy(dk + 1, entity, KITH_ENTITY_LEN);
	int rc;

	if ((rc = drop_entity(st, txn, entity)) != 0)
		return rc;
	return st_del_key(st, txn, DB_BLIND, dk, EKEY_LEN);
}

/*
 * ${entity}'s state changed without a change-log entry naming it: note
 * it, with this transaction's id, to be indexed again.
 */
int
st_blind_dirty(struct store *st, MDB_txn *txn, const uint8_t *entity)
{
	uint8_t dk[EKEY_LEN], id[8];
	MDB_val k = { EKEY_LEN, dk }, v = { 8, id };

	dk[0] = TAG_DIRTY;
	memcpy(dk + 1, entity, KITH_ENTITY_LEN);
	st_put_be64(id, mdb_txn_id(txn));
	return st_mdb_err(mdb_put(txn, st->dbi[DB_BLIND], &k, &v, 0));
}

int
st_blind_dirty_each(struct store *st, MDB_txn *txn,
    uint8_t (*ents)[KITH_ENTITY_LEN], size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = st_blind_dirty(st, txn, ents[i]);
	return rc;
}

/* Does ${entity}'s list of hashes hold ${hash}? */
static int
ent_has(struct store *st, MDB_txn *txn, const uint8_t *entity,
    const uint8_t *hash, int *yes)
{
	uint8_t ek[EKEY_LEN];
	MDB_val k = { EKEY_LEN, ek }, v;
	size_t i;
	int rc;

	*yes = 0;
	ek[0] = TAG_ENT;
	memcpy(ek + 1, entity, KITH_ENTITY_LEN);
	if ((rc = mdb_get(txn, st->dbi[DB_BLIND], &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return st_mdb_err(rc);
	for (i = 0; i + STORE_BLIND_LEN <= v.mv_size; i += STORE_BLIND_LEN)
		if (memcmp((uint8_t *)v.mv_data + i, hash, STORE_BLIND_LEN) == 0)
			*yes = 1;
	return 0;
}

/*
 * Every entry has its counterpart (a hash its entity's list, a list's
 * hash its entry), names an entity the store has a state for and has not
 * erased, and is of its tag's size: set ${*bad} to the entries that fail.
 */
int
st_blind_check(struct store *st, MDB_txn *txn, uint64_t *bad)
{
	uint8_t hk[HKEY_LEN];
	const uint8_t *p, *entity;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t i;
	int rc, op, yes, ok;

	*bad = 0;
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_BLIND], &cur))) != 0)
		return rc;
	for (op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT) {
		p = k.mv_data;
		ok = 1;
		entity = NULL;
		if (k.mv_size == HKEY_LEN && p[0] == TAG_HASH) {
			entity = p + 1 + STORE_BLIND_LEN;
			if ((rc = ent_has(st, txn, entity, p + 1, &yes)) != 0)
				break;
			ok = yes && v.mv_size == 0;
		} else if (k.mv_size == EKEY_LEN && p[0] == TAG_ENT) {
			entity = p + 1;
			ok = v.mv_size > 0 && v.mv_size % STORE_BLIND_LEN == 0 &&
			    v.mv_size / STORE_BLIND_LEN <= ENT_HASHES_MAX;
			hk[0] = TAG_HASH;
			memcpy(hk + 1 + STORE_BLIND_LEN, entity, KITH_ENTITY_LEN);
			for (i = 0; ok && i < v.mv_size; i += STORE_BLIND_LEN) {
				memcpy(hk + 1, (uint8_t *)v.mv_data + i,
				    STORE_BLIND_LEN);
				if ((rc = st_has_key(st, txn, DB_BLIND, hk,
				    HKEY_LEN, &yes)) != 0)
					goto out;
				ok = yes;
			}
		} else if (k.mv_size == EKEY_LEN && p[0] == TAG_DIRTY)
			ok = v.mv_size == 8;
		else
			ok = k.mv_size == 1 && p[0] == TAG_MARK &&
			    v.mv_size == MARK_LEN;
		if (ok && entity != NULL) {
			if ((rc = st_has_key(st, txn, DB_DENY, entity,
			    KITH_ENTITY_LEN, &yes)) != 0)
				break;
			ok = !yes;
			if (ok && (rc = st_has_key(st, txn, DB_STATE, entity,
			    KITH_ENTITY_LEN, &yes)) != 0)
				break;
			ok = ok && yes;
		}
		*bad += !ok;
	}
out:
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
}
