/*
 * The store's upkeep: expired bodies purged, every record verified, the
 * file scrubbed of freed bytes, and damage found (store_check,
 * store_patrol), contained (store_mend) and rebuilt around
 * (store_rebuild); the restore flag.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"
#include "roster.h"
#include "state.h"
#include "store.h"
#include "store_priv.h"

int
store_purge(struct store *st, uint64_t now_ms, size_t *purged)
{
	uint8_t (*ents)[KITH_ENTITY_LEN] = NULL, key[KEY_LEN];
	const struct roster *roster;
	struct record *rec;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, v;
	size_t n = 0, cap = 0;
	int rc;

	*purged = 0;
	if (st->rdonly)
		return KITH_EINVAL;
	if ((rc = st_txn_begin(st, 0, &txn)) != 0)
		return rc;
	/* The expiry index is in time order: take its front, up to now. */
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_EXPIRY], &cur))) != 0)
		goto out;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
		if (k.mv_size != EXPKEY_LEN) {
			rc = KITH_ECORRUPT;
			goto out;
		}
		if (st_get_be64(k.mv_data) > now_ms)
			break;
		memcpy(key, (uint8_t *)k.mv_data + 8, KEY_LEN);
		if ((rc = st_mdb_err(mdb_cursor_del(cur, 0))) != 0 ||
		    (rc = st_del_key(st, txn, DB_BODY, key, KEY_LEN)) != 0)
			goto out;
		if ((rc = st_load_key(st, txn, key, &rec)) == KITH_ECORRUPT)
			continue;	/* noted for store_mend */
		if (rc != 0)
			goto out;
		rc = st_ents_add(&ents, &n, &cap, record_header(rec)->entity);
		record_free(rec);
		if (rc != 0)
			goto out;
	}
	rc = rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
	mdb_cursor_close(cur);
	cur = NULL;
	if (rc != 0 || n == 0 ||
	    (rc = st_roster_cached(st, txn, &roster)) != 0 ||
	    (rc = st_recompute_each(st, txn, roster, ents, n)) != 0 ||
	    (rc = st_blind_dirty_each(st, txn, ents, n)) != 0 ||
	    (rc = st_scrub_mark(st, txn)) != 0)
		goto out;
	rc = st_txn_commit(st, txn);
	txn = NULL;	/* committed or freed by the commit */
	if (rc == 0)
		*purged = n;
out:
	mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(ents);
	return rc;
}

int
store_next_expiry(struct store *st, uint64_t *ms)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	*ms = 0;
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_EXPIRY],
	    &cur))) == 0) {
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
		    k.mv_size == EXPKEY_LEN)
			*ms = st_get_be64(k.mv_data);
		rc = rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return rc;
}

/* Check one stored record against its key and indexes. */
static int
verify_one(struct store *st, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
	MDB_val ik, iv, body;
	struct record *rec;
	const uint8_t *kid = (const uint8_t *)k->mv_data + 8;
	int rc, brc;

	brc = mdb_get(txn, st->dbi[DB_BODY], (MDB_val *)k, &body);
	if (brc != 0 && brc != MDB_NOTFOUND)
		return st_mdb_err(brc);
	rc = record_decode(v->mv_data, v->mv_size, brc == 0 ? body.mv_data :
	    NULL, brc == 0 ? body.mv_size : 0, &rec);
	if (rc != 0)
		return rc;
	if (memcmp(record_id(rec), kid, KITH_ID_LEN) != 0 ||
	    record_header(rec)->hlc != st_get_be64(k->mv_data))
		rc = KITH_ECORRUPT;
	else
		rc = record_verify(rec);
	record_free(rec);
	if (rc != 0)
		return rc;
	ik = (MDB_val){ KITH_ID_LEN, (void *)kid };
	if (mdb_get(txn, st->dbi[DB_IDS], &ik, &iv) != 0 || iv.mv_size != 8 ||
	    memcmp(iv.mv_data, k->mv_data, 8) != 0)
		return KITH_ECORRUPT;
	return 0;
}

int
store_verify(struct store *st, store_bad_fn *bad, void *arg, size_t *checked,
    size_t *nbad)
{
	static const uint8_t unknown[KITH_ID_LEN];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, vrc, op;

	*checked = *nbad = 0;
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_REC], &cur))) != 0)
		goto out;
	for (op = MDB_FIRST; ; op = MDB_NEXT) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0)
			break;
		(*checked)++;
		vrc = k.mv_size == KEY_LEN ? verify_one(st, txn, &k, &v) :
		    KITH_ECORRUPT;
		if (vrc != 0) {
			(*nbad)++;
			bad(arg, k.mv_size == KEY_LEN ?
			    (const uint8_t *)k.mv_data + 8 : unknown, vrc);
		}
	}
	rc = rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
	/* Every body must belong to a record. */
	mdb_cursor_close(cur);
	if (rc == 0 &&
	    (rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_BODY], &cur))) == 0) {
		for (op = MDB_FIRST; ; op = MDB_NEXT) {
			MDB_val sv;

			if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0)
				break;
			if (mdb_get(txn, st->dbi[DB_REC], &k, &sv) != 0) {
				(*nbad)++;
				bad(arg, k.mv_size == KEY_LEN ?
				    (const uint8_t *)k.mv_data + 8 : unknown,
				    KITH_ECORRUPT);
			}
		}
		rc = rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
		mdb_cursor_close(cur);
	}
out:
	mdb_txn_abort(txn);
	return rc;
}

int
store_scrub_due(struct store *st, uint64_t *since_ms)
{
	MDB_txn *txn;
	MDB_val v;
	int rc;

	*since_ms = 0;
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = st_meta_get(st, txn, "scrub", &v);
	if (rc == 0 && v.mv_size == 8)
		*since_ms = st_get_be64(v.mv_data);
	mdb_txn_abort(txn);
	return rc == KITH_ENOTFOUND ? 0 : rc;
}

int
store_scrub_request(struct store *st)
{
	MDB_txn *txn;
	uint8_t b[8];
	int rc;

	if ((rc = st_txn_begin(st, 0, &txn)) != 0)
		return rc;
	st_put_be64(b, 1);		/* due since long ago: at once */
	if ((rc = st_meta_put(st, txn, "scrub", b, sizeof(b))) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return st_txn_commit(st, txn);
}

/* Entries copied per write transaction of a scrub: bounds its memory. */
#define SCRUB_BATCH	20000

/*
 * Copy every database of ${st} into the empty environment ${to}, entry by
 * entry in key order (MDB_APPEND), so each page is written afresh and
 * holds only live bytes; the scrub mark is left out.
 */
static int
scrub_copy(struct store *st, MDB_env *to)
{
	MDB_txn *rtxn = NULL, *wtxn = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	size_t n = 0;
	int i, op, rc, dup;

	if ((rc = st_txn_begin(st, MDB_RDONLY, &rtxn)) != 0)
		return rc;
	for (i = 0; i < DB_COUNT && rc == 0; i++) {
		dup = (st_dbs[i].flags & MDB_DUPSORT) != 0;
		if ((rc = st_mdb_err(mdb_cursor_open(rtxn, st->dbi[i], &cur))) != 0)
			break;
		for (op = MDB_FIRST; rc == 0; op = MDB_NEXT) {
			if (wtxn == NULL &&
			    ((rc = st_mdb_err(mdb_txn_begin(to, NULL, 0,
			    &wtxn))) != 0 ||
			    (rc = st_mdb_err(mdb_dbi_open(wtxn, st_dbs[i].name,
			    st_dbs[i].flags | MDB_CREATE, &dbi))) != 0))
				break;
			if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0) {
				rc = rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
				break;
			}
			if (i == DB_META && k.mv_size == 5 &&
			    memcmp(k.mv_data, "scrub", 5) == 0)
				continue;
			if ((rc = st_mdb_err(mdb_put(wtxn, dbi, &k, &v, dup ?
			    MDB_APPENDDUP : MDB_APPEND))) != 0)
				break;
			if (++n % SCRUB_BATCH == 0) {
				rc = st_mdb_err(mdb_txn_commit(wtxn));
				wtxn = NULL;
			}
		}
		mdb_cursor_close(cur);
		if (rc == 0 && wtxn != NULL) {
			rc = st_mdb_err(mdb_txn_commit(wtxn));
			wtxn = NULL;
		}
	}
	if (wtxn != NULL)
		mdb_txn_abort(wtxn);
	mdb_txn_abort(rtxn);
	return rc;
}

/*
 * Take the use lock alone, without waiting: 1 if taken, else 0 with it
 * held shared again (a failed upgrade may have dropped it).
 */
static int
use_lock_alone(struct store *st)
{

	if (st->rdonly || st->lockfd < 0)
		return 0;
	if (flock(st->lockfd, LOCK_EX | LOCK_NB) == 0)
		return 1;
	(void)flock(st->lockfd, LOCK_SH);
	return 0;
}

int
store_alone(struct store *st)
{

	if (!use_lock_alone(st))
		return 0;
	(void)flock(st->lockfd, LOCK_SH);
	return 1;
}

/* Remove a scrub's copy, and its directory ${tmp}, if they are there. */
static void
scrub_tmp_remove(const char *tmp)
{
	char p[4300];

	snprintf(p, sizeof(p), "%s/data.mdb", tmp);
	(void)unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", tmp);
	(void)unlink(p);
	(void)rmdir(tmp);
}

int
store_scrub(struct store *st, uint64_t *before, uint64_t *after)
{
	char tmp[4200], from[4300], to[4300];
	MDB_envinfo info;
	MDB_env *env = NULL;
	struct stat sb;
	int rc;

	*before = *after = 0;
	if (st->rdonly || st->lockfd < 0)
		return KITH_EINVAL;
	/* Alone, or not now: a command or session has the store open. */
	if (!use_lock_alone(st))
		return KITH_EBUSY;
	snprintf(tmp, sizeof(tmp), "%s/scrub.tmp", st->path);
	snprintf(from, sizeof(from), "%s/data.mdb", tmp);
	snprintf(to, sizeof(to), "%s/data.mdb", st->path);
	if (stat(to, &sb) == 0)
		*before = (uint64_t)sb.st_size;
	/* A scrub that died half-way left its copy: start it again. */
	scrub_tmp_remove(tmp);
	mdb_env_info(st->env, &info);
	rc = KITH_EIO;
	if (mkdir(tmp, 0700) != 0)
		goto out;
	if ((rc = st_mdb_err(mdb_env_create(&env))) != 0 ||
	    (rc = st_mdb_err(mdb_env_set_maxdbs(env, DB_COUNT))) != 0 ||
	    (rc = st_mdb_err(mdb_env_set_mapsize(env, info.me_mapsize))) != 0 ||
	    (rc = st_mdb_err(mdb_env_open(env, tmp, MDB_NOTLS | MDB_NOSYNC,
	    0600))) != 0 ||
	    (rc = scrub_copy(st, env)) != 0 ||
	    (rc = st_mdb_err(mdb_env_sync(env, 1))) != 0)
		goto out;
	mdb_env_close(env);
	env = NULL;
	/*
	 * The copy is whole and on disk: put it in the old file's place in
	 * one rename, with no environment open on either, then reopen.
	 */
	mdb_env_close(st->env);
	st->env = NULL;
	if (rename(from, to) != 0) {
		rc = KITH_EIO;
		(void)st_env_open(st, info.me_mapsize);
		goto out;
	}
	if ((rc = st_env_open(st, info.me_mapsize)) != 0)
		goto out;
	if (stat(to, &sb) == 0)
		*after = (uint64_t)sb.st_size;
out:
	if (env != NULL)
		mdb_env_close(env);
	scrub_tmp_remove(tmp);
	(void)flock(st->lockfd, LOCK_SH);
	return rc;
}

/*
 * Damage: finding it (store_check, store_patrol), containing it
 * (store_mend) and rebuilding around it (store_rebuild).
 */

/* One store_check in progress, in one read transaction. */
struct checker {
	struct store *st;
	MDB_txn *txn;
	store_check_fn *fn;
	void *arg;
	struct store_check *out;
	MDB_cursor *seq, *ent;
};

static void
found(struct checker *c, int kind, const uint8_t *id, const char *what)
{
	static const uint8_t none[KITH_ID_LEN];

	switch (kind) {
	case STORE_BAD_RECORD: c->out->bad_records++; break;
	case STORE_BAD_BODY: c->out->bad_bodies++; break;
	case STORE_BAD_INDEX: c->out->bad_index++; break;
	default: c->out->bad_states++; break;
	}
	if (c->fn != NULL)
		c->fn(c->arg, kind, id != NULL ? id : none, what);
}

/* Does ${db} hold ${key}?  Counts one index entry checked. */
static int
index_has(struct checker *c, int db, const void *key, size_t len, int *yes)
{

	c->out->index++;
	return st_has_key(c->st, c->txn, db, key, len, yes);
}

/* Does dupsort ${cur} hold exactly (${key}, ${val})? */
static int
index_has_both(struct checker *c, MDB_cursor *cur, const void *key,
    size_t klen, const void *val, size_t vlen, int *yes)
{
	MDB_val k = { klen, (void *)(uintptr_t)key };
	MDB_val v = { vlen, (void *)(uintptr_t)val };
	int rc;

	c->out->index++;
	rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH);
	*yes = rc == 0;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
}

/* The index entries an intact record ${rec} at ${key} must have. */
static int
check_indexes(struct checker *c, const struct record *rec,
    const uint8_t key[KEY_LEN], int has_body)
{
	const struct record_header *h = record_header(rec);
	const uint8_t *id = record_id(rec);
	uint8_t sk[SEQKEY_LEN], sv[SEQVAL_LEN], ak[AUDKEY_LEN], ek[EXPKEY_LEN];
	MDB_val k = { KITH_ID_LEN, (void *)(uintptr_t)id }, v;
	unsigned i, j;
	int rc, yes, denied;

	c->out->index++;
	if ((rc = mdb_get(c->txn, c->st->dbi[DB_IDS], &k, &v)) != 0 &&
	    rc != MDB_NOTFOUND)
		return st_mdb_err(rc);
	if (rc != 0 || v.mv_size != 8 || memcmp(v.mv_data, key, 8) != 0)
		found(c, STORE_BAD_INDEX, id, "the id index lacks it");
	memcpy(sk, h->author, KITH_KEY_LEN);
	st_put_be64(sk + KITH_KEY_LEN, h->seq);
	memcpy(sv, id, KITH_ID_LEN);
	memcpy(sv + KITH_ID_LEN, h->prev, KITH_ID_LEN);
	if ((rc = index_has_both(c, c->seq, sk, SEQKEY_LEN, sv, SEQVAL_LEN,
	    &yes)) != 0)
		return rc;
	if (!yes)
		found(c, STORE_BAD_INDEX, id, "the author's chain lacks it");
	if ((rc = index_has_both(c, c->ent, h->entity, KITH_ENTITY_LEN, key,
	    KEY_LEN, &yes)) != 0)
		return rc;
	if (!yes)
		found(c, STORE_BAD_INDEX, id, "its entity's versions lack it");
	if (KITH_KIND_IS_MEMBERSHIP(h->kind)) {
		if ((rc = index_has(c, DB_MSHIP, key, KEY_LEN, &yes)) != 0)
			return rc;
		if (!yes)
			found(c, STORE_BAD_INDEX, id, "the membership index "
			    "lacks it");
	}
	for (i = 0; i < h->naudience; i++) {
		for (j = 0; j < i; j++)
			if (memcmp(h->audience[j], h->audience[i],
			    KITH_KEY_LEN) == 0)
				break;
		if (j < i)
			continue;
		memcpy(ak, h->audience[i], KITH_KEY_LEN);
		memcpy(ak + KITH_KEY_LEN, key, KEY_LEN);
		if ((rc = index_has(c, DB_AUD, ak, AUDKEY_LEN, &yes)) != 0)
			return rc;
		if (!yes)
			found(c, STORE_BAD_INDEX, id, "the audience index "
			    "lacks it");
	}
	if ((rc = index_has(c, DB_NOBODY, key, KEY_LEN, &yes)) != 0 ||
	    (rc = st_has_key(c->st, c->txn, DB_DENY, h->entity, KITH_ENTITY_LEN,
	    &denied)) != 0)
		return rc;
	denied = denied && h->kind != KITH_KIND_ERASE;
	if (has_body && yes)
		found(c, STORE_BAD_INDEX, id, "it is held with its body but "
		    "listed as wanting it");
	else if (!has_body && !yes && !denied && !st_expired_now(h) &&
	    h->body_len > 0)
		found(c, STORE_BAD_INDEX, id, "it lacks its body but is not "
		    "listed as wanting it");
	if (has_body && h->expiry != 0) {
		st_expiry_key(ek, h->expiry, key);
		if ((rc = index_has(c, DB_EXPIRY, ek, EXPKEY_LEN, &yes)) != 0)
			return rc;
		if (!yes)
			found(c, STORE_BAD_INDEX, id, "the expiry index lacks "
			    "it");
	}
	return 0;
}

/* A stored record: its header, signature, body, and index entries. */
static int
check_record(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct checker *c = arg;
	struct record *rec = NULL;
	MDB_val body;
	int rc, brc;

	c->out->records++;
	if (k->mv_size != KEY_LEN) {
		found(c, STORE_BAD_INDEX, NULL, "a record key of the wrong "
		    "size");
		return 0;
	}
	brc = mdb_get(c->txn, c->st->dbi[DB_BODY], (MDB_val *)k, &body);
	if (brc != 0 && brc != MDB_NOTFOUND)
		return st_mdb_err(brc);
	c->out->bodies += brc == 0;
	rc = st_decode_held(k->mv_data, v, brc == 0 ? &body : NULL, &rec);
	if (rc == KITH_ENOMEM)
		return rc;
	if (rc == STORE_BAD_RECORD) {
		found(c, STORE_BAD_RECORD, (const uint8_t *)k->mv_data + 8,
		    "its stored header does not hash to its id");
		return 0;
	}
	if (record_verify(rec) != 0) {
		found(c, STORE_BAD_RECORD, record_id(rec), "its signature does "
		    "not verify");
		record_free(rec);
		return 0;
	}
	if (rc == STORE_BAD_BODY)
		found(c, STORE_BAD_BODY, record_id(rec), "its stored body does "
		    "not match the header's hash");
	/* A damaged body is still held: its indexes are a held body's. */
	rc = check_indexes(c, rec, k->mv_data, brc == 0);
	record_free(rec);
	return rc;
}

/* Is the record at ${key} held, and is its key ${len} bytes? */
static int
points_home(struct checker *c, const MDB_val *k, size_t len,
    const uint8_t *key, const char *what)
{
	int rc, yes = 0;

	c->out->index++;
	if (k->mv_size == len && (rc = st_has_key(c->st, c->txn, DB_REC, key,
	    KEY_LEN, &yes)) != 0)
		return rc;
	if (!yes)
		found(c, STORE_BAD_INDEX, k->mv_size == len ? key + 8 : NULL,
		    what);
	return 0;
}

static int
dangling_ids(void *arg, const MDB_val *k, const MDB_val *v)
{
	uint8_t key[KEY_LEN];
	int ok = k->mv_size == KITH_ID_LEN && v->mv_size == 8;

	if (ok)
		st_make_key(key, st_get_be64(v->mv_data), k->mv_data);
	return points_home(arg, ok ? k : &(MDB_val){ 0, NULL }, KITH_ID_LEN,
	    key, "an id index entry names no record");
}

static int
dangling_key(void *arg, const MDB_val *k, const MDB_val *v)
{

	(void)v;
	return points_home(arg, k, KEY_LEN, k->mv_data, "an index entry "
	    "(membership, wanted bodies) names no record");
}

static int
dangling_suffix(void *arg, const MDB_val *k, const MDB_val *v)
{

	(void)v;
	if (k->mv_size < KEY_LEN)
		return points_home(arg, k, KEY_LEN + 1, NULL, "a short index "
		    "key");
	return points_home(arg, k, k->mv_size, (const uint8_t *)k->mv_data +
	    k->mv_size - KEY_LEN, "an index entry (audience, expiry) names "
	    "no record");
}

static int
dangling_val(void *arg, const MDB_val *k, const MDB_val *v)
{

	(void)k;
	return points_home(arg, v, KEY_LEN, v->mv_data, "an index entry "
	    "(entity versions, change log) names no record");
}

static int
dangling_seq(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct checker *c = arg;
	int rc, yes = 0;

	(void)k;
	c->out->index++;
	if (v->mv_size == SEQVAL_LEN && (rc = st_has_key(c->st, c->txn, DB_IDS,
	    v->mv_data, KITH_ID_LEN, &yes)) != 0)
		return rc;
	if (!yes)
		found(c, STORE_BAD_INDEX, v->mv_size == SEQVAL_LEN ?
		    v->mv_data : NULL, "an author's chain names no record");
	return 0;
}

/* Does the by-kind key ${kk} name ${kind}? */
static int
kind_key_matches(const uint8_t *kk, uint64_t kind)
{

	return kk[0] == (uint8_t)(kind >> 8) && kk[1] == (uint8_t)kind;
}

static int
dangling_kind(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct checker *c = arg;
	MDB_val sv;
	struct state *s;
	int rc, ok = 0;

	(void)v;
	c->out->index++;
	if (k->mv_size == KINDKEY_LEN) {
		MDB_val ek = { KITH_ENTITY_LEN, (uint8_t *)k->mv_data + 2 };

		if ((rc = mdb_get(c->txn, c->st->dbi[DB_STATE], &ek, &sv)) ==
		    0 && state_decode(sv.mv_data, sv.mv_size, &s) == 0) {
			ok = kind_key_matches(k->mv_data, state_kind(s));
			state_free(s);
		} else if (rc != 0 && rc != MDB_NOTFOUND)
			return st_mdb_err(rc);
	}
	if (!ok) {
		uint8_t id[KITH_ID_LEN] = { 0 };

		if (k->mv_size == KINDKEY_LEN)
			memcpy(id, (uint8_t *)k->mv_data + 2, KITH_ENTITY_LEN);
		found(c, STORE_BAD_INDEX, id, "a by-kind entry names no "
		    "entity of that kind");
	}
	return 0;
}

static int
dangling_body(void *arg, const MDB_val *k, const MDB_val *v)
{

	(void)v;
	return points_home(arg, k, KEY_LEN, k->mv_data, "a body belongs to "
	    "no record");
}

/* Are all the records of ${entity} intact (not judged if not)? */
static int
entity_intact(struct checker *c, const uint8_t *entity, int *intact)
{
	MDB_val k = { KITH_ENTITY_LEN, (void *)(uintptr_t)entity }, v, sh,
	    body;
	struct record *rec;
	int rc, brc, op;

	*intact = 1;
	for (op = MDB_SET; (rc = mdb_cursor_get(c->ent, &k, &v, op)) == 0;
	    op = MDB_NEXT_DUP) {
		if (v.mv_size != KEY_LEN ||
		    mdb_get(c->txn, c->st->dbi[DB_REC], &v, &sh) != 0) {
			*intact = 0;
			continue;
		}
		brc = mdb_get(c->txn, c->st->dbi[DB_BODY], &v, &body);
		if ((rc = st_decode_held(v.mv_data, &sh, brc == 0 ? &body : NULL,
		    &rec)) == KITH_ENOMEM)
			return rc;
		record_free(rec);
		if (rc != 0 || (brc != 0 && brc != MDB_NOTFOUND))
			*intact = 0;
	}
	return rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
}

/* Each entity's stored state against what its records compute. */
static int
check_states(struct checker *c)
{
	struct roster *roster = NULL;
	struct record **recs = NULL;
	struct state *s = NULL;
	struct st_stale sl;
	MDB_cursor *cur = NULL;
	MDB_val k, v, sv;
	uint8_t entity[KITH_ENTITY_LEN], kk[KINDKEY_LEN];
	const uint8_t *enc;
	size_t n = 0, len;
	int rc, op, intact, yes;

	memset(&sl, 0, sizeof(sl));
	if ((rc = st_roster_load(c->st, c->txn, &roster)) != 0 ||
	    (rc = st_stale_load(c->st, c->txn, &sl)) != 0 ||
	    (rc = st_mdb_err(mdb_cursor_open(c->txn, c->st->dbi[DB_ENT],
	    &cur))) != 0)
		goto out;
	for (op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT_NODUP) {
		if (k.mv_size != KITH_ENTITY_LEN)
			continue;	/* the record pass reports it */
		memcpy(entity, k.mv_data, KITH_ENTITY_LEN);
		c->out->states++;
		if ((rc = entity_intact(c, entity, &intact)) != 0)
			goto out;
		if (!intact || (sl.n > 0 && bsearch(entity, sl.e, sl.n,
		    KITH_ENTITY_LEN, st_entity_cmp) != NULL)) {
			c->out->unjudged += !intact;
			continue;
		}
		if ((rc = st_load_entity(c->st, c->txn, entity, &recs, &n)) != 0)
			goto out;
		rc = state_compute(recs, n, roster, &s);
		store_records_free(recs, n);
		recs = NULL;
		k = (MDB_val){ KITH_ENTITY_LEN, entity };
		if ((op = mdb_get(c->txn, c->st->dbi[DB_STATE], &k, &sv)) != 0 &&
		    op != MDB_NOTFOUND) {
			rc = st_mdb_err(op);
			goto out;
		}
		if (rc == KITH_ENOGENESIS || rc == KITH_ENOTFOUND) {
			if (op == 0)
				found(c, STORE_BAD_STATE, entity, "a state is "
				    "stored, but its records apply none");
		} else if (rc != 0) {
			goto out;
		} else if (op != 0) {
			found(c, STORE_BAD_STATE, entity, "its state is "
			    "missing");
		} else {
			enc = state_encoded(s, &len);
			if (len != sv.mv_size || memcmp(enc, sv.mv_data,
			    len) != 0)
				found(c, STORE_BAD_STATE, entity, "its stored "
				    "state differs from the one its records "
				    "compute");
			st_kind_key(kk, state_kind(s), entity);
			if ((rc = index_has(c, DB_KIND, kk, KINDKEY_LEN,
			    &yes)) != 0)
				goto out;
			if (!yes)
				found(c, STORE_BAD_INDEX, entity, "the by-kind "
				    "index lacks its entity");
		}
		rc = 0;
		state_free(s);
		s = NULL;
		op = MDB_NEXT_NODUP;
	}
	rc = rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
out:
	state_free(s);
	mdb_cursor_close(cur);
	st_stale_free(&sl);
	roster_free(roster);
	return rc;
}

static int
state_orphaned(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct checker *c = arg;
	uint8_t id[KITH_ID_LEN] = { 0 };
	int rc, yes = 0;

	(void)v;
	if (k->mv_size == KITH_ENTITY_LEN && (rc = st_has_key(c->st, c->txn,
	    DB_ENT, k->mv_data, KITH_ENTITY_LEN, &yes)) != 0)
		return rc;
	if (!yes) {
		if (k->mv_size == KITH_ENTITY_LEN)
			memcpy(id, k->mv_data, KITH_ENTITY_LEN);
		found(c, STORE_BAD_STATE, id, "a state is stored for an "
		    "entity with no records");
	}
	return 0;
}

/*
 * The blind index's entries agree with each other and name live
 * entities.  Without the node key nothing more can be checked: a wrong
 * hash only costs a find a candidate, which it opens and compares.
 */
static int
check_blind(struct checker *c)
{
	uint64_t bad;
	char what[128];
	int rc;

	if ((rc = st_blind_check(c->st, c->txn, &bad)) != 0)
		return rc;
	if (bad > 0) {
		snprintf(what, sizeof(what), "%llu entries of the blind index "
		    "disagree with each other or name no live entity",
		    (unsigned long long)bad);
		found(c, STORE_BAD_INDEX, NULL, what);
	}
	return 0;
}

/* The fingerprint tree holds every record's key, and nothing else. */
static int
check_order(struct checker *c)
{
	uint64_t extra, missing;
	char what[96];
	int broken, rc;

	if ((rc = st_order_check(c->st, c->txn, &extra, &missing,
	    &broken)) != 0)
		return rc;
	if (broken)
		found(c, STORE_BAD_INDEX, NULL, "the reconciliation order's "
		    "fingerprint tree is damaged");
	if (extra > 0) {
		snprintf(what, sizeof(what), "the fingerprint tree names %llu "
		    "records the store does not hold", (unsigned long long)extra);
		found(c, STORE_BAD_INDEX, NULL, what);
	}
	if (missing > 0) {
		snprintf(what, sizeof(what), "%llu records are missing from the "
		    "fingerprint tree", (unsigned long long)missing);
		found(c, STORE_BAD_INDEX, NULL, what);
	}
	return 0;
}

int
store_check(struct store *st, store_check_fn *fn, void *arg,
    struct store_check *out)
{
	struct checker c = { st, NULL, fn, arg, out, NULL, NULL };
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = st_txn_begin(st, MDB_RDONLY, &c.txn)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_open(c.txn, st->dbi[DB_SEQ],
	    &c.seq))) != 0 ||
	    (rc = st_mdb_err(mdb_cursor_open(c.txn, st->dbi[DB_ENT],
	    &c.ent))) != 0)
		goto out;
	if ((rc = st_walk_txn(st, c.txn, DB_REC, 0, check_record, &c)) != 0 ||
	    (rc = st_walk_txn(st, c.txn, DB_BODY, 0, dangling_body, &c)) != 0 ||
	    (rc = st_walk_txn(st, c.txn, DB_IDS, 0, dangling_ids, &c)) != 0 ||
	    (rc = st_walk_txn(st, c.txn, DB_SEQ, 0, dangling_seq, &c)) != 0 ||
	    (rc = st_walk_txn(st, c.txn, DB_ENT, 0, dangling_val, &c)) != 0 ||
	    (rc = st_walk_txn(st, c.txn, DB_LOG, 0, dangling_val, &c)) != 0 ||
	    (rc = st_walk_txn(st, c.txn, DB_MSHIP, 0, dangling_key, &c)) != 0 ||
	    (rc = st_walk_txn(st, c.txn, DB_NOBODY, 0, dangling_key, &c)) != 0 ||
	    (rc = st_walk_txn(st, c.txn, DB_AUD, 0, dangling_suffix, &c)) != 0 ||
	    (rc = st_walk_txn(st, c.txn, DB_EXPIRY, 0, dangling_suffix,
	    &c)) != 0 ||
	    (rc = st_walk_txn(st, c.txn, DB_KIND, 0, dangling_kind, &c)) != 0 ||
	    (rc = check_states(&c)) != 0 ||
	    (rc = st_walk_txn(st, c.txn, DB_STATE, 0, state_orphaned,
	    &c)) != 0)
		goto out;
	if ((rc = check_order(&c)) == 0)
		rc = check_blind(&c);
out:
	mdb_cursor_close(c.seq);
	mdb_cursor_close(c.ent);
	mdb_txn_abort(c.txn);
	return rc;
}

/* An index entry to delete once the cursor that found it is closed. */
struct doomed {
	uint8_t k[AUDKEY_LEN], v[SEQVAL_LEN];
	size_t klen, vlen;
};

/*
 * Delete from ${db} every entry that names the record at ${key}: its
 * value is the key (${by_val}), or its key ends with it.  Entities of the
 * entries deleted from the entity versions go to ${ents}.
 */
static int
unindex(struct store *st, MDB_txn *txn, int db, const uint8_t key[KEY_LEN],
    int by_val, uint8_t (**ents)[KITH_ENTITY_LEN], size_t *n, size_t *cap)
{
	struct doomed d[KITH_AUDIENCE_MAX + 1];
	MDB_cursor *cur;
	MDB_val k, v;
	size_t nd = 0, i;
	int rc, op;

	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[db], &cur))) != 0)
		return rc;
	for (op = MDB_FIRST; nd < sizeof(d) / sizeof(d[0]) &&
	    (rc = mdb_cursor_get(cur, &k, &v, op)) == 0; op = MDB_NEXT) {
		const MDB_val *m = by_val ? &v : &k;

		if (m->mv_size < KEY_LEN || memcmp((uint8_t *)m->mv_data +
		    m->mv_size - KEY_LEN, key, KEY_LEN) != 0 ||
		    (by_val && m->mv_size != KEY_LEN) ||
		    k.mv_size > sizeof(d[0].k) || v.mv_size > sizeof(d[0].v))
			continue;
		memcpy(d[nd].k, k.mv_data, k.mv_size);
		memcpy(d[nd].v, v.mv_data, v.mv_size);
		d[nd].klen = k.mv_size;
		d[nd++].vlen = v.mv_size;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_mdb_err(rc);
	for (i = 0, rc = 0; i < nd && rc == 0; i++) {
		k = (MDB_val){ d[i].klen, d[i].k };
		v = (MDB_val){ d[i].vlen, d[i].v };
		if ((rc = mdb_del(txn, st->dbi[db], &k, &v)) == MDB_NOTFOUND)
			rc = 0;
		rc = st_mdb_err(rc);
		if (rc == 0 && db == DB_ENT && d[i].klen == KITH_ENTITY_LEN)
			rc = st_ents_add(ents, n, cap, d[i].k);
	}
	return rc;
}

/*
 * Take the record at ${key}, whose header is damaged, out of every index,
 * so that reconciliation no longer counts it held; its entity goes to
 * ${ents}.  Its header cannot be trusted, so the indexes are searched
 * for its key and id.  Set ${*mship} if it was a membership record.
 */
static int
purge_record(struct store *st, MDB_txn *txn, const uint8_t key[KEY_LEN],
    uint8_t (**ents)[KITH_ENTITY_LEN], size_t *n, size_t *cap, int *mship)
{
	MDB_val k = { KITH_ID_LEN, (void *)(uintptr_t)(key + 8) }, v;
	MDB_cursor *cur;
	int rc, op;

	if ((rc = st_has_key(st, txn, DB_MSHIP, key, KEY_LEN, mship)) != 0 ||
	    (rc = st_order_remove(st, txn, key)) != 0 ||
	    (rc = st_del_key(st, txn, DB_REC, key, KEY_LEN)) != 0 ||
	    (rc = st_del_key(st, txn, DB_BODY, key, KEY_LEN)) != 0 ||
	    (rc = st_del_key(st, txn, DB_NOBODY, key, KEY_LEN)) != 0 ||
	    (rc = st_del_key(st, txn, DB_MSHIP, key, KEY_LEN)) != 0)
		return rc;
	if ((rc = mdb_get(txn, st->dbi[DB_IDS], &k, &v)) == 0 &&
	    v.mv_size == 8 && memcmp(v.mv_data, key, 8) == 0)
		rc = mdb_del(txn, st->dbi[DB_IDS], &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_mdb_err(rc);
	/* The chain entry holds the id, then the previous id. */
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_SEQ], &cur))) != 0)
		return rc;
	for (op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT) {
		if (v.mv_size == SEQVAL_LEN &&
		    memcmp(v.mv_data, key + 8, KITH_ID_LEN) == 0) {
			rc = mdb_cursor_del(cur, 0);
			break;
		}
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_mdb_err(rc);
	if ((rc = unindex(st, txn, DB_ENT, key, 1, ents, n, cap)) != 0 ||
	    (rc = unindex(st, txn, DB_LOG, key, 1, ents, n, cap)) != 0 ||
	    (rc = unindex(st, txn, DB_AUD, key, 0, ents, n, cap)) != 0)
		return rc;
	return unindex(st, txn, DB_EXPIRY, key, 0, ents, n, cap);
}

/*
 * The body at ${key} fails the hash of its intact header ${h}: drop it,
 * and want it from peers again.
 */
static int
drop_body(struct store *st, MDB_txn *txn, const struct record_header *h,
    const uint8_t key[KEY_LEN])
{
	uint8_t ek[EXPKEY_LEN];
	int rc, denied;

	st_expiry_key(ek, h->expiry, key);
	if ((rc = st_del_key(st, txn, DB_BODY, key, KEY_LEN)) != 0 ||
	    (rc = st_del_key(st, txn, DB_EXPIRY, ek, EXPKEY_LEN)) != 0 ||
	    (rc = st_has_key(st, txn, DB_DENY, h->entity, KITH_ENTITY_LEN,
	    &denied)) != 0)
		return rc;
	if ((denied && h->kind != KITH_KIND_ERASE) || st_expired_now(h))
		return 0;
	return st_put_empty(st, txn, DB_NOBODY, key, KEY_LEN);
}

/* What one mend did to one record, reported after the commit. */
struct mended {
	uint8_t id[KITH_ID_LEN];
	int kind;
};

static int
mend_txn(struct store *st, uint8_t (*keys)[KEY_LEN], size_t nkeys,
    struct mended *done, size_t *ndone)
{
	uint8_t (*ents)[KITH_ENTITY_LEN] = NULL;
	const struct roster *roster;
	struct record *rec;
	MDB_txn *txn;
	MDB_val k, sh, body;
	size_t n = 0, cap = 0, i;
	int rc, brc, mship, members = 0;

	*ndone = 0;
	if ((rc = st_txn_begin(st, 0, &txn)) != 0)
		return rc;
	if ((rc = st_roster_cached(st, txn, &roster)) != 0)
		goto out;
	for (i = 0; i < nkeys && rc == 0; i++) {
		k = (MDB_val){ KEY_LEN, keys[i] };
		if ((rc = mdb_get(txn, st->dbi[DB_REC], &k, &sh)) ==
		    MDB_NOTFOUND) {
			rc = 0;
			continue;	/* mended already */
		}
		if (rc != 0 || ((brc = mdb_get(txn, st->dbi[DB_BODY], &k,
		    &body)) != 0 && brc != MDB_NOTFOUND)) {
			rc = st_mdb_err(rc != 0 ? rc : brc);
			break;
		}
		rc = st_decode_held(keys[i], &sh, brc == 0 ? &body : NULL, &rec);
		memcpy(done[*ndone].id, keys[i] + 8, KITH_ID_LEN);
		if (rc == STORE_BAD_BODY) {
			done[(*ndone)++].kind = STORE_BAD_BODY;
			if ((rc = drop_body(st, txn, record_header(rec),
			    keys[i])) == 0)
				rc = st_ents_add(&ents, &n, &cap,
				    record_header(rec)->entity);
		} else if (rc == STORE_BAD_RECORD) {
			done[(*ndone)++].kind = STORE_BAD_RECORD;
			rc = purge_record(st, txn, keys[i], &ents, &n, &cap,
			    &mship);
			members |= mship;
		}
		record_free(rec);
	}
	if (rc == 0 && members)
		rc = st_roster_refresh(st, txn, &roster);
	if (rc == 0 && (rc = st_recompute_each(st, txn, roster, ents,
	    n)) == 0)
		rc = st_blind_dirty_each(st, txn, ents, n);
	if (rc == 0) {
		rc = st_txn_commit(st, txn);
		txn = NULL;	/* committed or freed by the commit */
	}
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != 0) {
		roster_free(st->roster);
		st->roster = NULL;
		*ndone = 0;
	}
	free(ents);
	return rc;
}

int
store_mend(struct store *st, store_check_fn *fn, void *arg, size_t *n)
{
	uint8_t (*keys)[KEY_LEN] = NULL;
	struct mended *done = NULL;
	size_t nkeys, ndone = 0, i;
	int rc = 0;

	*n = 0;
	pthread_mutex_lock(&st->dmg_lock);
	keys = st->dmg;
	nkeys = st->ndmg;
	st->dmg = NULL;
	st->ndmg = 0;
	pthread_mutex_unlock(&st->dmg_lock);
	if (nkeys == 0)
		goto out;
	if (st->rdonly) {
		rc = KITH_EINVAL;
		goto requeue;
	}
	if ((done = calloc(nkeys, sizeof(*done))) == NULL) {
		rc = KITH_ENOMEM;
		goto requeue;
	}
	while ((rc = mend_txn(st, keys, nkeys, done, &ndone)) ==
	    KITH_EMAPFULL)
		if ((rc = st_grow(st)) != 0)
			break;
	if (rc != 0)
		goto requeue;
	for (i = 0; i < ndone; i++)
		if (fn != NULL)
			fn(arg, done[i].kind, done[i].id, done[i].kind ==
			    STORE_BAD_BODY ? "its body failed its hash: dropped, "
			    "and asked of peers again" : "its header failed its "
			    "id: taken out of every index, to be fetched again");
	*n = ndone;
	goto out;
requeue:
	for (i = 0; i < nkeys; i++)
		st_note_damage(st, keys[i]);
out:
	free(done);
	free(keys);
	return rc;
}

int
store_patrol(struct store *st, const uint8_t from[KEY_LEN], size_t max,
    uint8_t next[KEY_LEN], size_t *n)
{
	struct record *rec;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k = { KEY_LEN, (void *)(uintptr_t)from }, v, body;
	size_t i;
	int rc, brc, op;

	*n = 0;
	memset(next, 0, KEY_LEN);
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_REC], &cur))) != 0)
		goto out;
	for (i = 0, op = MDB_SET_RANGE; ; i++, op = MDB_NEXT) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0) {
			rc = rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
			break;
		}
		if (k.mv_size != KEY_LEN)
			continue;
		if (i == max) {
			memcpy(next, k.mv_data, KEY_LEN);
			break;
		}
		brc = mdb_get(txn, st->dbi[DB_BODY], &k, &body);
		rc = st_decode_held(k.mv_data, &v, brc == 0 ? &body : NULL, &rec);
		record_free(rec);
		if (rc == KITH_ENOMEM)
			break;
		if (rc != 0) {
			st_note_damage(st, k.mv_data);
			(*n)++;
		}
		rc = 0;
	}
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	return rc;
}

/* The databases computed from the records, which store_rebuild remakes. */
static const int derived[] = { DB_IDS, DB_SEQ, DB_ENT, DB_STATE, DB_KIND,
	DB_FORKS, DB_DENY, DB_MSHIP, DB_AUD, DB_NOBODY, DB_EXPIRY, DB_ORPHAN,
	DB_MERGE, DB_LOG, DB_FP, DB_BLIND };

static int
rebuild_txn(struct store *st, store_check_fn *fn, void *arg,
    struct store_rebuilt *out)
{
	uint8_t (*bad)[KEY_LEN] = NULL, (*bigger)[KEY_LEN];
	uint8_t (*ents)[KITH_ENTITY_LEN] = NULL;
	const struct roster *roster;
	struct record *rec = NULL;
	struct st_insert in;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, v, body, ik, iv;
	size_t nbad = 0, capbad = 0, n = 0, cap = 0, i;
	int rc, brc, op;

	memset(out, 0, sizeof(*out));
	if ((rc = st_txn_begin(st, 0, &txn)) != 0)
		return rc;
	for (i = 0; i < sizeof(derived) / sizeof(derived[0]) && rc == 0; i++)
		rc = st_mdb_err(mdb_drop(txn, st->dbi[derived[i]], 0));
	if (rc != 0 ||
	    (rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_REC], &cur))) != 0)
		goto out;
	for (op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT) {
		brc = k.mv_size == KEY_LEN ? mdb_get(txn, st->dbi[DB_BODY], &k,
		    &body) : MDB_NOTFOUND;
		rc = k.mv_size != KEY_LEN ? STORE_BAD_RECORD :
		    st_decode_held(k.mv_data, &v, brc == 0 ? &body : NULL, &rec);
		if (rc == KITH_ENOMEM)
			goto out;
		if (rc != STORE_BAD_RECORD && record_verify(rec) != 0)
			rc = STORE_BAD_RECORD;
		if (rc == STORE_BAD_RECORD) {
			/* Taken out after the walk; peers bring it again. */
			record_free(rec);
			rec = NULL;
			if (k.mv_size != KEY_LEN)
				continue;
			if (nbad == capbad) {
				if ((bigger = realloc(bad, (capbad * 2 + 16) *
				    KEY_LEN)) == NULL) {
					rc = KITH_ENOMEM;
					goto out;
				}
				bad = bigger;
				capbad = capbad * 2 + 16;
			}
			memcpy(bad[nbad++], k.mv_data, KEY_LEN);
			continue;
		}
		if (rc == STORE_BAD_BODY) {
			out->bad_bodies++;
			if (fn != NULL)
				fn(arg, STORE_BAD_BODY, record_id(rec), "its "
				    "body failed its hash: dropped, to be "
				    "fetched again");
			if ((rc = st_del_key(st, txn, DB_BODY, k.mv_data,
			    KEY_LEN)) != 0)
				goto out;
		}
		ik = (MDB_val){ KITH_ID_LEN, (void *)record_id(rec) };
		iv = (MDB_val){ 8, k.mv_data };
		memset(&in, 0, sizeof(in));
		if ((rc = st_mdb_err(mdb_put(txn, st->dbi[DB_IDS], &ik, &iv,
		    0))) != 0 ||
		    (rc = st_index_record(st, txn, rec, k.mv_data, 1, &in)) != 0)
			goto out;
		record_free(rec);
		rec = NULL;
		out->records++;
	}
	if (rc != MDB_NOTFOUND) {
		rc = st_mdb_err(rc);
		goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	for (i = 0, rc = 0; i < nbad && rc == 0; i++) {
		out->bad_records++;
		if (fn != NULL)
			fn(arg, STORE_BAD_RECORD, bad[i] + 8, "its header "
			    "failed its id or signature: removed, to be fetched "
			    "again");
		if ((rc = st_del_key(st, txn, DB_REC, bad[i], KEY_LEN)) == 0)
			rc = st_del_key(st, txn, DB_BODY, bad[i], KEY_LEN);
	}
	/* The roster afresh, then every entity's state from its records. */
	roster_free(st->roster);
	st->roster = NULL;
	if (rc != 0 || (rc = st_roster_gen_bump(st, txn)) != 0 ||
	    (rc = st_roster_cached(st, txn, &roster)) != 0 ||
	    (rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_ENT], &cur))) != 0)
		goto out;
	for (op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT_NODUP)
		if (k.mv_size == KITH_ENTITY_LEN &&
		    (rc = st_ents_add(&ents, &n, &cap, k.mv_data)) != 0)
			goto out;
	mdb_cursor_close(cur);
	cur = NULL;
	if (rc != MDB_NOTFOUND) {
		rc = st_mdb_err(rc);
		goto out;
	}
	out->entities = n;
	if ((rc = st_recompute_each(st, txn, roster, ents, n)) != 0)
		goto out;
	rc = st_txn_commit(st, txn);
	txn = NULL;	/* committed or freed by the commit */
out:
	record_free(rec);
	mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != 0) {
		roster_free(st->roster);
		st->roster = NULL;
	}
	free(bad);
	free(ents);
	return rc;
}

int
store_rebuild(struct store *st, store_check_fn *fn, void *arg,
    struct store_rebuilt *out)
{
	int rc;

	if (st->rdonly)
		return KITH_EINVAL;
	/* Reports come again on a retry; a grow is rare. */
	while ((rc = rebuild_txn(st, fn, arg, out)) == KITH_EMAPFULL)
		if ((rc = st_grow(st)) != 0)
			break;
	return rc;
}

int
store_restoring(struct store *st)
{
	MDB_txn *txn;
	MDB_val v;
	int rc;

	if (st_txn_begin(st, MDB_RDONLY, &txn) != 0)
		return 0;
	rc = st_meta_get(st, txn, "restoring", &v) == 0 && v.mv_size == 1 &&
	    *(uint8_t *)v.mv_data == 1;
	mdb_txn_abort(txn);
	return rc;
}

int
store_set_restoring(struct store *st, int on)
{
	uint8_t b = on ? 1 : 0;
	MDB_txn *txn;
	int rc;

	if ((rc = st_txn_begin(st, 0, &txn)) != 0)
		return rc;
	if ((rc = st_meta_put(st, txn, "restoring", &b, 1)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return st_txn_commit(st, txn);
}
