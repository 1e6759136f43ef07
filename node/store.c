#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "hlc.h"
#include "kcrypto.h"
#include "record.h"
#include "roster.h"
#include "state.h"
#include "store.h"

/*
 * Named databases.  Keys are big-endian so that LMDB's byte order is the
 * numeric order:
 *   rec    hlc(8) id(32)  -> signed header    (the reconciliation order)
 *   body   hlc(8) id(32)  -> body             (absent once erased)
 *   ids    id(32)         -> hlc(8)
 *   seq    author(32) seq(8) -> id(32)        (dupsort: forks keep both)
 *   ent    entity(16)     -> hlc(8) id(32)    (dupsort, fixed size)
 *   state  entity(16)     -> state encoding
 *   kind   kind(2) entity(16) -> ""
 *   forks  author(32)     -> count(8)
 *   deny   entity(16)     -> ""               (erased entities: no bodies)
 *   peers  endpoint       -> peer record      (sync daemon)
 *   meta   name           -> value
 */
enum { DB_REC, DB_BODY, DB_IDS, DB_SEQ, DB_ENT, DB_STATE, DB_KIND, DB_FORKS,
	DB_DENY, DB_PEERS, DB_META, DB_COUNT };

static const struct {
	const char *name;
	unsigned flags;
} dbs[DB_COUNT] = {
	[DB_REC] = { "rec", 0 },
	[DB_BODY] = { "body", 0 },
	[DB_IDS] = { "ids", 0 },
	[DB_SEQ] = { "seq", MDB_DUPSORT },
	[DB_ENT] = { "ent", MDB_DUPSORT | MDB_DUPFIXED },
	[DB_STATE] = { "state", 0 },
	[DB_KIND] = { "kind", 0 },
	[DB_FORKS] = { "forks", 0 },
	[DB_DENY] = { "deny", 0 },
	[DB_PEERS] = { "peers", 0 },
	[DB_META] = { "meta", 0 },
};

#define KEY_LEN		(8 + KITH_ID_LEN)	/* hlc || id */
#define SEQKEY_LEN	(KITH_KEY_LEN + 8)
#define KINDKEY_LEN	(2 + KITH_ENTITY_LEN)
#define SCHEMA_VERSION	1

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	uint64_t max_map;
	int rdonly;
	int have_network;
	uint8_t network[KITH_NETWORK_LEN];
	char path[4096];
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
make_key(uint8_t key[KEY_LEN], uint64_t hlc, const uint8_t *id)
{

	put_be64(key, hlc);
	if (id != NULL)
		memcpy(key + 8, id, KITH_ID_LEN);
	else
		memset(key + 8, 0, KITH_ID_LEN);
}

/* Translate an LMDB code, once, at the boundary. */
static int
mdb_err(int rc)
{

	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return KITH_ENOTFOUND;
	case MDB_KEYEXIST:
		return KITH_EEXIST;
	case MDB_MAP_FULL:
		return KITH_EMAPFULL;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return KITH_ECORRUPT;
	case ENOMEM:
		return KITH_ENOMEM;
	case EIO:
	case ENOSPC:
		return KITH_EIO;
	}
	return KITH_ESTORE;
}

static int
txn_begin(struct store *st, unsigned flags, MDB_txn **txn)
{
	int rc;

	rc = mdb_txn_begin(st->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size and retry. */
		if ((rc = mdb_env_set_mapsize(st->env, 0)) == 0)
			rc = mdb_txn_begin(st->env, NULL, flags, txn);
	}
	return mdb_err(rc);
}

/* Double the map, up to the cap; KITH_EMAPFULL once the cap is reached. */
static int
grow(struct store *st)
{
	MDB_envinfo info;
	uint64_t next;

	mdb_env_info(st->env, &info);
	if (info.me_mapsize >= st->max_map)
		return KITH_EMAPFULL;
	next = info.me_mapsize * 2;
	if (next > st->max_map)
		next = st->max_map;
	return mdb_err(mdb_env_set_mapsize(st->env, next));
}

static int
meta_get(struct store *st, MDB_txn *txn, const char *name, MDB_val *v)
{
	MDB_val k = { strlen(name), (void *)name };

	return mdb_err(mdb_get(txn, st->dbi[DB_META], &k, v));
}

static int
meta_put(struct store *st, MDB_txn *txn, const char *name, const void *p,
    size_t n)
{
	MDB_val k = { strlen(name), (void *)name }, v = { n, (void *)p };

	return mdb_err(mdb_put(txn, st->dbi[DB_META], &k, &v, 0));
}

/* Load the network id, if the store has one, into the handle. */
static int
load_network(struct store *st, MDB_txn *txn)
{
	MDB_val v;
	int rc;

	if ((rc = meta_get(st, txn, "network", &v)) != 0)
		return rc;
	if (v.mv_size != KITH_NETWORK_LEN)
		return KITH_ECORRUPT;
	memcpy(st->network, v.mv_data, KITH_NETWORK_LEN);
	st->have_network = 1;
	return 0;
}

static int
open_dbs(struct store *st)
{
	MDB_txn *txn;
	uint8_t ver = SCHEMA_VERSION;
	MDB_val v;
	int i, rc;

	if ((rc = txn_begin(st, st->rdonly ? MDB_RDONLY : 0, &txn)) != 0)
		return rc;
	for (i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, dbs[i].name,
		    dbs[i].flags | (st->rdonly ? 0 : MDB_CREATE), &st->dbi[i]);
		if (rc != 0) {
			rc = rc == MDB_NOTFOUND ? KITH_ECORRUPT : mdb_err(rc);
			goto fail;
		}
	}
	rc = meta_get(st, txn, "schema", &v);
	if (rc == KITH_ENOTFOUND && !st->rdonly)
		rc = meta_put(st, txn, "schema", &ver, 1);
	else if (rc == 0 && (v.mv_size != 1 ||
	    *(uint8_t *)v.mv_data != SCHEMA_VERSION))
		rc = KITH_EVERSION;
	if (rc != 0)
		goto fail;
	if ((rc = load_network(st, txn)) != 0 && rc != KITH_ENOTFOUND)
		goto fail;
	return mdb_err(mdb_txn_commit(txn));
fail:
	mdb_txn_abort(txn);
	return rc;
}

struct store *
store_open(const char *dir, int flags, uint64_t max_map, int *rc)
{
	struct store *st;
	char data[4200];
	struct stat sb;
	uint64_t map;
	unsigned eflags = MDB_NOTLS;
	int mrc;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		*rc = KITH_ENOMEM;
		return NULL;
	}
	snprintf(st->path, sizeof(st->path), "%s", dir);
	st->max_map = max_map ? max_map : STORE_MAP_MAX;
	st->rdonly = (flags & STORE_RDONLY) != 0;
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	if (stat(data, &sb) != 0) {
		if (!(flags & STORE_CREATE)) {
			*rc = KITH_ENOTFOUND;
			goto fail;
		}
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			*rc = KITH_EIO;
			goto fail;
		}
		sb.st_size = 0;
	}
	/*
	 * Room for what is there; the map grows when it fills.  A handle
	 * shared by threads maps its cap at once: LMDB may only resize a map
	 * while no transaction of the process is open.
	 */
	map = (flags & STORE_SHARED) ? st->max_map : STORE_MAP_INITIAL;
	while (map < (uint64_t)sb.st_size && map < st->max_map)
		map *= 2;
	if (map > st->max_map)
		map = st->max_map;
	/*
	 * No MDB_WRITEMAP: measured, it makes commits slower (page faults on
	 * new pages, TLB flushes in msync); a write transaction's dirty pages
	 * are malloc'd instead, so callers keep batches to a few thousand.
	 */
	if (st->rdonly)
		eflags |= MDB_RDONLY;
	if (flags & STORE_NOSYNC)
		eflags |= MDB_NOSYNC;
	if ((mrc = mdb_env_create(&st->env)) != 0 ||
	    (mrc = mdb_env_set_maxdbs(st->env, DB_COUNT)) != 0 ||
	    (mrc = mdb_env_set_mapsize(st->env, map)) != 0 ||
	    (mrc = mdb_env_open(st->env, dir, eflags, 0600)) != 0) {
		*rc = mdb_err(mrc);
		goto fail;
	}
	if ((*rc = open_dbs(st)) != 0)
		goto fail;
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{

	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st);
}

int
store_network(struct store *st, uint8_t out[KITH_NETWORK_LEN])
{
	MDB_txn *txn;
	int rc;

	if (!st->have_network) {
		/* Another process may have set it since we opened. */
		if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
			return rc;
		rc = load_network(st, txn);
		mdb_txn_abort(txn);
		if (rc != 0)
			return rc;
	}
	memcpy(out, st->network, KITH_NETWORK_LEN);
	return 0;
}

/* Read a record by its (hlc, id) key within ${txn}. */
static int
load_key(struct store *st, MDB_txn *txn, const uint8_t key[KEY_LEN],
    struct record **out)
{
	MDB_val k = { KEY_LEN, (void *)key }, sh, body;
	int rc, brc;

	if ((rc = mdb_err(mdb_get(txn, st->dbi[DB_REC], &k, &sh))) != 0)
		return rc;
	brc = mdb_get(txn, st->dbi[DB_BODY], &k, &body);
	if (brc != 0 && brc != MDB_NOTFOUND)
		return mdb_err(brc);
	rc = record_decode(sh.mv_data, sh.mv_size,
	    brc == 0 ? body.mv_data : NULL, brc == 0 ? body.mv_size : 0, out);
	return rc == KITH_ENOMEM ? rc : rc != 0 ? KITH_ECORRUPT : 0;
}

static int
load_id(struct store *st, MDB_txn *txn, const uint8_t id[KITH_ID_LEN],
    struct record **out)
{
	MDB_val k = { KITH_ID_LEN, (void *)id }, v;
	uint8_t key[KEY_LEN];
	int rc;

	if ((rc = mdb_err(mdb_get(txn, st->dbi[DB_IDS], &k, &v))) != 0)
		return rc;
	if (v.mv_size != 8)
		return KITH_ECORRUPT;
	make_key(key, get_be64(v.mv_data), id);
	return load_key(st, txn, key, out);
}

/* Load every version of ${entity} within ${txn}, in (hlc, id) order. */
static int
load_entity(struct store *st, MDB_txn *txn, const uint8_t *entity,
    struct record ***out, size_t *n)
{
	MDB_val k = { KITH_ENTITY_LEN, (void *)entity }, v;
	struct record **recs = NULL, **bigger;
	MDB_cursor *cur;
	size_t cnt = 0, cap = 0;
	size_t dups;
	int rc, op;

	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_ENT], &cur))) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_get(cur, &k, &v, MDB_SET))) != 0)
		goto out;
	if ((rc = mdb_err(mdb_cursor_count(cur, &dups))) != 0)
		goto out;
	cap = dups;
	if ((recs = calloc(cap, sizeof(*recs))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	for (op = MDB_FIRST_DUP; ; op = MDB_NEXT_DUP) {
		rc = mdb_err(mdb_cursor_get(cur, &k, &v, op));
		if (rc == KITH_ENOTFOUND)
			break;
		if (rc != 0)
			goto out;
		if (v.mv_size != KEY_LEN) {
			rc = KITH_ECORRUPT;
			goto out;
		}
		if (cnt == cap) {
			/* Another writer cannot add within our transaction. */
			if ((bigger = realloc(recs, (cap + 1) * 2 *
			    sizeof(*recs))) == NULL) {
				rc = KITH_ENOMEM;
				goto out;
			}
			recs = bigger;
			cap = (cap + 1) * 2;
		}
		if ((rc = load_key(st, txn, v.mv_data, &recs[cnt])) != 0)
			goto out;
		cnt++;
	}
	rc = 0;
	*out = recs;
	*n = cnt;
	recs = NULL;	/* transferred */
out:
	store_records_free(recs, cnt);
	mdb_cursor_close(cur);
	return rc;
}

void
store_records_free(struct record **recs, size_t n)
{
	size_t i;

	if (recs == NULL)
		return;
	for (i = 0; i < n; i++)
		record_free(recs[i]);
	free(recs);
}

static void
kind_key(uint8_t key[KINDKEY_LEN], uint64_t kind, const uint8_t *entity)
{

	key[0] = (uint8_t)(kind >> 8);
	key[1] = (uint8_t)kind;
	memcpy(key + 2, entity, KITH_ENTITY_LEN);
}

/* Drop ${entity}'s state and its kind index entry, if it has them. */
static int
drop_state(struct store *st, MDB_txn *txn, const uint8_t *entity)
{
	struct state *old;
	uint8_t kk[KINDKEY_LEN];
	MDB_val k = { KITH_ENTITY_LEN, (void *)entity }, v;
	MDB_val kkv = { KINDKEY_LEN, kk };
	int rc;

	if ((rc = mdb_get(txn, st->dbi[DB_STATE], &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mdb_err(rc);
	if (state_decode(v.mv_data, v.mv_size, &old) == 0) {
		kind_key(kk, state_kind(old), entity);
		state_free(old);
		if ((rc = mdb_del(txn, st->dbi[DB_KIND], &kkv, NULL)) != 0 &&
		    rc != MDB_NOTFOUND)
			return mdb_err(rc);
	}
	return mdb_err(mdb_del(txn, st->dbi[DB_STATE], &k, NULL));
}

/*
 * An erased entity keeps its signed headers but no bodies, except the
 * erase records' own: drop them, and deny the entity bodies from now on.
 */
static int
erase_bodies(struct store *st, MDB_txn *txn, struct record *const *recs,
    size_t n)
{
	const struct record_header *h;
	uint8_t key[KEY_LEN];
	MDB_val k = { KITH_ENTITY_LEN, (void *)record_header(recs[0])->entity };
	MDB_val empty = { 0, "" };
	size_t i, blen;
	int rc;

	if ((rc = mdb_put(txn, st->dbi[DB_DENY], &k, &empty, 0)) != 0)
		return mdb_err(rc);
	for (i = 0; i < n; i++) {
		h = record_header(recs[i]);
		if (h->kind == KITH_KIND_ERASE ||
		    record_body(recs[i], &blen) == NULL)
			continue;
		make_key(key, h->hlc, record_id(recs[i]));
		k = (MDB_val){ KEY_LEN, key };
		if ((rc = mdb_del(txn, st->dbi[DB_BODY], &k, NULL)) != 0 &&
		    rc != MDB_NOTFOUND)
			return mdb_err(rc);
	}
	return 0;
}

/* Store the state computed from ${recs}, all of one entity's records. */
static int
put_state(struct store *st, MDB_txn *txn, const struct roster *roster,
    struct record *const *recs, size_t n)
{
	struct state *s = NULL, *old;
	const uint8_t *enc;
	uint8_t kk[KINDKEY_LEN];
	MDB_val k = { KITH_ENTITY_LEN, (void *)record_header(recs[0])->entity };
	MDB_val v, empty = { 0, "" }, kkv = { KINDKEY_LEN, kk };
	size_t len;
	int rc, need_kind = 0;

	if ((rc = state_compute(recs, n, roster, &s)) == KITH_ENOTFOUND)
		/* No record the roster admits: the entity waits, unseen. */
		return drop_state(st, txn, k.mv_data);
	if (rc != 0)
		return rc;
	if (state_get(s, "erased") != NULL &&
	    (rc = erase_bodies(st, txn, recs, n)) != 0)
		goto out;
	/*
	 * The kind is the earliest record's, so a late-arriving earlier
	 * record of another kind moves the entity: drop its old index entry.
	 * An entity has one entry, so if the new one is there, all is well,
	 * and it is not written again (which would dirty its page).
	 */
	kind_key(kk, state_kind(s), k.mv_data);
	if ((rc = mdb_get(txn, st->dbi[DB_KIND], &kkv, &v)) == MDB_NOTFOUND) {
		if (mdb_get(txn, st->dbi[DB_STATE], &k, &v) == 0 &&
		    state_decode(v.mv_data, v.mv_size, &old) == 0) {
			kind_key(kk, state_kind(old), k.mv_data);
			rc = mdb_del(txn, st->dbi[DB_KIND], &kkv, NULL);
			state_free(old);
			if (rc != 0 && rc != MDB_NOTFOUND) {
				rc = mdb_err(rc);
				goto out;
			}
			kind_key(kk, state_kind(s), k.mv_data);
		}
		need_kind = 1;
	} else if (rc != 0) {
		rc = mdb_err(rc);
		goto out;
	}
	enc = state_encoded(s, &len);
	v.mv_size = len;
	v.mv_data = (void *)enc;
	if ((rc = mdb_err(mdb_put(txn, st->dbi[DB_STATE], &k, &v, 0))) != 0)
		goto out;
	if (need_kind)
		rc = mdb_err(mdb_put(txn, st->dbi[DB_KIND], &kkv, &empty, 0));
out:
	state_free(s);
	return rc;
}

/* Recompute ${entity}'s state from all its stored records. */
static int
recompute(struct store *st, MDB_txn *txn, const struct roster *roster,
    const uint8_t *entity)
{
	struct record **recs = NULL;
	size_t n = 0;
	int rc;

	if ((rc = load_entity(st, txn, entity, &recs, &n)) == 0)
		rc = put_state(st, txn, roster, recs, n);
	store_records_free(recs, n);
	return rc;
}

/* Append the records of every entity of ${kind} to ${*recs}. */
static int
load_kind(struct store *st, MDB_txn *txn, uint64_t kind,
    struct record ***recs, size_t *n, size_t *cap)
{
	struct record **one = NULL, **bigger;
	uint8_t kk[KINDKEY_LEN] = { 0 };
	MDB_val k = { KINDKEY_LEN, kk }, v;
	MDB_cursor *cur;
	size_t m = 0;
	int rc, op;

	kind_key(kk, kind, kk + 2);
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_KIND], &cur))) != 0)
		return rc;
	for (op = MDB_SET_RANGE; ; op = MDB_NEXT) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0) {
			rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
			break;
		}
		if (k.mv_size != KINDKEY_LEN || memcmp(k.mv_data, kk, 2) != 0)
			break;
		if ((rc = load_entity(st, txn, (uint8_t *)k.mv_data + 2,
		    &one, &m)) != 0)
			break;
		if (*n + m > *cap) {
			if ((bigger = realloc(*recs, (*n + m) * 2 *
			    sizeof(*bigger))) == NULL) {
				store_records_free(one, m);
				rc = KITH_ENOMEM;
				break;
			}
			*recs = bigger;
			*cap = (*n + m) * 2;
		}
		memcpy(*recs + *n, one, m * sizeof(*one));
		*n += m;
		free(one);
	}
	mdb_cursor_close(cur);
	return rc;
}

/* Compute the roster from the charter and the membership records. */
static int
roster_load(struct store *st, MDB_txn *txn, struct roster **out)
{
	struct record **recs = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if ((rc = load_kind(st, txn, KITH_KIND_CHARTER, &recs, &n, &cap)) == 0 &&
	    (rc = load_kind(st, txn, KITH_KIND_MEMBER, &recs, &n, &cap)) == 0 &&
	    (rc = load_kind(st, txn, KITH_KIND_REVOKE, &recs, &n, &cap)) == 0)
		rc = roster_compute(recs, n, out);
	store_records_free(recs, n);
	return rc;
}

static int
entity_cmp(const void *a, const void *b)
{

	return memcmp(a, b, KITH_ENTITY_LEN);
}

/* Recompute each distinct entity of the ${n} at ${ents} (sorted here). */
static int
recompute_each(struct store *st, MDB_txn *txn, const struct roster *roster,
    uint8_t (*ents)[KITH_ENTITY_LEN], size_t n)
{
	size_t i;
	int rc = 0;

	if (n > 0)
		qsort(ents, n, KITH_ENTITY_LEN, entity_cmp);
	for (i = 0; rc == 0 && i < n; i++)
		if (i == 0 || memcmp(ents[i], ents[i - 1], KITH_ENTITY_LEN) != 0)
			rc = recompute(st, txn, roster, ents[i]);
	return rc;
}

/* Recompute every entity that ${author} has a record in. */
static int
recompute_author(struct store *st, MDB_txn *txn, const struct roster *roster,
    const uint8_t *author)
{
	uint8_t sk[SEQKEY_LEN] = { 0 }, key[KEY_LEN];
	uint8_t (*ents)[KITH_ENTITY_LEN] = NULL, (*bigger)[KITH_ENTITY_LEN];
	struct record *rec = NULL;
	MDB_val k = { SEQKEY_LEN, sk }, v, hv, rk = { KEY_LEN, key };
	MDB_cursor *cur;
	size_t n = 0, cap = 0;
	int rc, op;

	memcpy(sk, author, KITH_KEY_LEN);
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_SEQ], &cur))) != 0)
		return rc;
	for (op = MDB_SET_RANGE; ; op = MDB_NEXT) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0) {
			rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
			break;
		}
		if (k.mv_size != SEQKEY_LEN ||
		    memcmp(k.mv_data, author, KITH_KEY_LEN) != 0)
			break;
		hv = (MDB_val){ KITH_ID_LEN, v.mv_data };
		if ((rc = mdb_err(mdb_get(txn, st->dbi[DB_IDS], &hv,
		    &hv))) != 0 || hv.mv_size != 8 ||
		    (make_key(key, get_be64(hv.mv_data), v.mv_data),
		    rc = mdb_err(mdb_get(txn, st->dbi[DB_REC], &rk, &hv))) != 0)
			break;
		if ((rc = record_decode(hv.mv_data, hv.mv_size, NULL, 0,
		    &rec)) != 0) {
			rc = rc == KITH_ENOMEM ? rc : KITH_ECORRUPT;
			break;
		}
		if (n == cap) {
			if ((bigger = realloc(ents, (cap * 2 + 16) *
			    sizeof(*ents))) == NULL) {
				rc = KITH_ENOMEM;
				break;
			}
			ents = bigger;
			cap = cap * 2 + 16;
		}
		memcpy(ents[n++], record_header(rec)->entity, KITH_ENTITY_LEN);
		record_free(rec);
		rec = NULL;
	}
	record_free(rec);
	mdb_cursor_close(cur);
	if (rc == 0)
		rc = recompute_each(st, txn, roster, ents, n);
	free(ents);
	return rc;
}

/*
 * Membership records changed within ${txn}: compute the roster again and,
 * for each key whose standing moved, recompute the entities it wrote in,
 * so records wait in quarantine or apply exactly as the new roster says.
 * ${*roster} becomes the new roster.
 */
static int
roster_refresh(struct store *st, MDB_txn *txn, struct roster **roster)
{
	struct roster *nr = NULL, *old = *roster;
	const struct roster *sides[2];
	size_t s, i;
	int rc;

	if ((rc = roster_load(st, txn, &nr)) != 0)
		return rc;
	sides[0] = old;
	sides[1] = nr;
	for (s = 0; s < 2 && rc == 0; s++) {
		if (sides[s] == NULL)
			continue;
		for (i = 0; i < roster_size(sides[s]) && rc == 0; i++) {
			const uint8_t *key = roster_get(sides[s], i)->key;

			/* Keys in both are visited once, from the new side. */
			if (s == 0 && nr != NULL && roster_find(nr, key) != NULL)
				continue;
			if (roster_changed(old, nr, key))
				rc = recompute_author(st, txn, nr, key);
		}
	}
	roster_free(old);
	*roster = nr;
	return rc;
}

/*
 * Insert one record within ${txn}.  Return 0, KITH_EEXIST if its id is held
 * already, or a store error.  Sets ${*forked} if it reuses a sequence number.
 */
static int
insert(struct store *st, MDB_txn *txn, const struct record *rec, int *forked)
{
	const struct record_header *h = record_header(rec);
	const uint8_t *id = record_id(rec), *sh, *body;
	uint8_t key[KEY_LEN], hlcb[8], sk[SEQKEY_LEN], cnt[8];
	MDB_val k, v;
	MDB_cursor *cur = NULL;
	size_t shlen, blen;
	int rc;

	*forked = 0;
	put_be64(hlcb, h->hlc);
	k = (MDB_val){ KITH_ID_LEN, (void *)id };
	v = (MDB_val){ 8, hlcb };
	if ((rc = mdb_put(txn, st->dbi[DB_IDS], &k, &v, MDB_NOOVERWRITE)) != 0)
		return mdb_err(rc);
	make_key(key, h->hlc, id);
	sh = record_signed(rec, &shlen);
	k = (MDB_val){ KEY_LEN, key };
	v = (MDB_val){ shlen, (void *)sh };
	if ((rc = mdb_put(txn, st->dbi[DB_REC], &k, &v, MDB_APPEND)) ==
	    MDB_KEYEXIST)
		/* Not the last key: an ordinary insert. */
		rc = mdb_put(txn, st->dbi[DB_REC], &k, &v, 0);
	if (rc != 0)
		return mdb_err(rc);
	k = (MDB_val){ KITH_ENTITY_LEN, (void *)h->entity };
	if ((rc = mdb_get(txn, st->dbi[DB_DENY], &k, &v)) != 0 &&
	    rc != MDB_NOTFOUND)
		return mdb_err(rc);
	/* An erased entity takes no bodies but an erase record's. */
	if ((body = record_body(rec, &blen)) != NULL &&
	    (rc == MDB_NOTFOUND || h->kind == KITH_KIND_ERASE)) {
		k = (MDB_val){ KEY_LEN, key };
		v = (MDB_val){ blen, (void *)body };
		if ((rc = mdb_put(txn, st->dbi[DB_BODY], &k, &v, 0)) != 0)
			return mdb_err(rc);
	}
	/* Entity versions. */
	k = (MDB_val){ KITH_ENTITY_LEN, (void *)h->entity };
	v = (MDB_val){ KEY_LEN, key };
	if ((rc = mdb_put(txn, st->dbi[DB_ENT], &k, &v, 0)) != 0)
		return mdb_err(rc);
	/* Sequence index; an existing entry under the key means a fork. */
	memcpy(sk, h->author, KITH_KEY_LEN);
	put_be64(sk + KITH_KEY_LEN, h->seq);
	k = (MDB_val){ SEQKEY_LEN, sk };
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_SEQ], &cur)) != 0)
		return mdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
	mdb_cursor_close(cur);
	if (rc == 0)
		*forked = 1;
	else if (rc != MDB_NOTFOUND)
		return mdb_err(rc);
	v = (MDB_val){ KITH_ID_LEN, (void *)id };
	if ((rc = mdb_put(txn, st->dbi[DB_SEQ], &k, &v, 0)) != 0)
		return mdb_err(rc);
	if (*forked) {
		k = (MDB_val){ KITH_KEY_LEN, (void *)h->author };
		rc = mdb_get(txn, st->dbi[DB_FORKS], &k, &v);
		put_be64(cnt, (rc == 0 && v.mv_size == 8 ?
		    get_be64(v.mv_data) : 0) + 1);
		v = (MDB_val){ 8, cnt };
		if ((rc = mdb_put(txn, st->dbi[DB_FORKS], &k, &v, 0)) != 0)
			return mdb_err(rc);
	}
	return 0;
}

/* The clock kept in the store, so that every process ticks past it. */
static uint64_t
clock_get(struct store *st, MDB_txn *txn)
{
	MDB_val v;

	if (meta_get(st, txn, "hlc", &v) != 0 || v.mv_size != 8)
		return 0;
	return get_be64(v.mv_data);
}

static int
clock_put(struct store *st, MDB_txn *txn, uint64_t t)
{
	uint8_t b[8];

	put_be64(b, t);
	return meta_put(st, txn, "hlc", b, 8);
}

/* Is ${h} addressed to this store's network? */
static int
network_ok(const struct store *st, const struct record *rec)
{
	static const uint8_t zero[KITH_NETWORK_LEN];
	const struct record_header *h = record_header(rec);

	if (h->kind == KITH_KIND_CHARTER)
		return memcmp(h->network, zero, sizeof(zero)) == 0 &&
		    memcmp(record_id(rec), st->network, KITH_NETWORK_LEN) == 0;
	return memcmp(h->network, st->network, KITH_NETWORK_LEN) == 0;
}

/*
 * The write half of store_apply: insert each record whose ${rcs} entry is
 * 0, then recompute the entities touched.  ${rcs} entries become
 * KITH_EEXIST for records another writer stored first.
 */
/* An entity and its position in a batch, sorted to find repeats. */
struct entity_ix {
	const uint8_t *entity;
	size_t i;
};

static int
entity_ix_cmp(const void *pa, const void *pb)
{
	const struct entity_ix *a = pa, *b = pb;
	int c = memcmp(a->entity, b->entity, KITH_ENTITY_LEN);

	return c != 0 ? c : (a->i < b->i ? -1 : a->i > b->i);
}

/*
 * For a batch of ${n} items whose entities are ${entity}(${ctx}, i) (NULL
 * for items to leave out), set ${prev}[i] to the index of the last earlier
 * item with the same entity, or to ${n} if there is none.
 */
static int
entity_repeats(const uint8_t *(*entity)(const void *, size_t),
    const void *ctx, size_t n, size_t *prev)
{
	struct entity_ix *ix;
	size_t i, k = 0;

	if ((ix = malloc((n ? n : 1) * sizeof(*ix))) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i < n; i++) {
		prev[i] = n;
		if ((ix[k].entity = entity(ctx, i)) != NULL)
			ix[k++].i = i;
	}
	qsort(ix, k, sizeof(*ix), entity_ix_cmp);
	for (i = 1; i < k; i++)
		if (memcmp(ix[i].entity, ix[i - 1].entity,
		    KITH_ENTITY_LEN) == 0)
			prev[ix[i].i] = ix[i - 1].i;
	free(ix);
	return 0;
}

/* One store_apply transaction in progress. */
struct apply {
	struct store *st;
	MDB_txn *txn;
	struct record *const *pending;
	int *rcs;
	size_t *first;		/* each record's first record of its entity */
	unsigned char *last;	/* no later pending record of its entity */
	unsigned char *dirty;	/* by first: a record of the entity was added */
	uint64_t clock;
	struct store_result *res;
	struct roster *roster;
	int members;		/* a membership record was added */
};

/*
 * Insert pending record ${i} if its signature verified (${rc} is 0); after
 * the batch's last record of an entity, recompute the entity's state.
 */
static int
apply_one(void *arg, size_t i, int rc)
{
	struct apply *a = arg;
	const struct record_header *h = record_header(a->pending[i]);
	int forked;

	if ((a->rcs[i] = rc) == 0) {
		rc = insert(a->st, a->txn, a->pending[i], &forked);
		if (rc == KITH_EEXIST) {
			a->rcs[i] = KITH_EEXIST;
			a->res->duplicate++;
		} else if (rc != 0) {
			return rc;
		} else {
			a->res->added++;
			a->res->forks += forked;
			a->dirty[a->first[i]] = 1;
			a->members |= h->kind <= KITH_KIND_REVOKE;
			if (h->hlc > a->clock)
				a->clock = h->hlc;
		}
	}
	if (a->last[i] && a->dirty[a->first[i]])
		return recompute(a->st, a->txn, a->roster, h->entity);
	return 0;
}

static const uint8_t *
pending_entity(const void *ctx, size_t i)
{
	struct record *const *pending = ctx;

	return pending[i] != NULL ? record_header(pending[i])->entity : NULL;
}

/*
 * Apply in one transaction the non-NULL records of ${pending}, which have
 * passed every check but the signature.  If ${verified} is NULL, worker
 * threads check signatures while this thread inserts; else ${verified}[i]
 * is the caller's result for record i.  Each touched entity is recomputed
 * once.  Each record's outcome goes to ${rcs}.
 */
static int
apply_txn(struct store *st, struct record *const *pending, size_t n,
    const int *verified, int *rcs, struct store_result *res)
{
	struct apply a = { st, NULL, pending, rcs, NULL, NULL, NULL, 0, res,
	    NULL, 0 };
	size_t *prev = NULL, i;
	int rc = KITH_ENOMEM;

	if ((prev = malloc((n ? n : 1) * sizeof(*prev))) == NULL ||
	    (a.first = malloc((n ? n : 1) * sizeof(*a.first))) == NULL ||
	    (a.last = malloc(n ? n : 1)) == NULL ||
	    (a.dirty = calloc(n ? n : 1, 1)) == NULL ||
	    (rc = entity_repeats(pending_entity, pending, n, prev)) != 0)
		goto out;
	memset(a.last, 1, n);
	for (i = 0; i < n; i++) {
		a.first[i] = prev[i] == n ? i : a.first[prev[i]];
		if (prev[i] != n)
			a.last[prev[i]] = 0;
	}
	if ((rc = txn_begin(st, 0, &a.txn)) != 0)
		goto out;
	a.clock = clock_get(st, a.txn);
	if ((rc = roster_load(st, a.txn, &a.roster)) != 0) {
		mdb_txn_abort(a.txn);
		goto out;
	}
	if (verified == NULL)
		rc = record_verify_each(pending, n, apply_one, &a);
	else
		for (i = 0, rc = 0; i < n && rc == 0; i++)
			if (pending[i] != NULL)
				rc = apply_one(&a, i, verified[i]);
	if (rc == 0 && a.members)
		rc = roster_refresh(st, a.txn, &a.roster);
	/* Count what the roster holds back: stored, not applied. */
	for (i = 0; rc == 0 && i < n; i++)
		if (pending[i] != NULL && rcs[i] == 0 &&
		    record_header(pending[i])->kind > KITH_KIND_REVOKE &&
		    roster_check(a.roster, record_header(pending[i])->author,
		    record_header(pending[i])->hlc) != 0)
			res->held++;
	if (rc != 0 || (rc = clock_put(st, a.txn, a.clock)) != 0)
		mdb_txn_abort(a.txn);
	else
		rc = mdb_err(mdb_txn_commit(a.txn));
out:
	free(prev);
	free(a.first);
	free(a.last);
	free(a.dirty);
	roster_free(a.roster);
	return rc;
}

static int
cmp_recid(const void *a, const void *b)
{
	const struct record *const *ra = a, *const *rb = b;

	return memcmp(record_id(*ra), record_id(*rb), KITH_ID_LEN);
}

int
store_dedup(struct store *st, struct record *const *recs, size_t n, int *rcs)
{
	struct record **sorted;
	MDB_txn *txn;
	MDB_val k, v;
	size_t i, k2;
	int rc;

	if ((sorted = malloc((n ? n : 1) * sizeof(*sorted))) == NULL)
		return KITH_ENOMEM;
	memcpy(sorted, recs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_recid);
	for (i = 1; i < n; i++) {
		if (memcmp(record_id(sorted[i]), record_id(sorted[i - 1]),
		    KITH_ID_LEN) != 0)
			continue;
		/* Keep the first of the batch; mark the later copies. */
		for (k2 = 0; k2 < n; k2++)
			if (recs[k2] == sorted[i] && rcs[k2] == 0) {
				rcs[k2] = KITH_EEXIST;
				break;
			}
	}
	free(sorted);
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (rcs[i] != 0)
			continue;
		k = (MDB_val){ KITH_ID_LEN, (void *)record_id(recs[i]) };
		rc = mdb_get(txn, st->dbi[DB_IDS], &k, &v);
		if (rc == 0)
			rcs[i] = KITH_EEXIST;
		else if (rc == MDB_NOTFOUND)
			rc = 0;
		else
			break;
	}
	mdb_txn_abort(txn);
	return mdb_err(rc);
}

/*
 * store_apply and store_apply_verified: ${verified} NULL for the former.
 * If ${outcome} is not NULL, it gets each record's outcome.
 */
static int
apply(struct store *st, struct record *const *recs, size_t n,
    const int *verified, int *outcome, struct store_result *res,
    store_reject_fn *reject, void *arg)
{
	struct record **pending = NULL;
	uint8_t net[KITH_NETWORK_LEN];
	uint64_t wall = hlc_wall_ms();
	int *rcs = NULL;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	if (n == 0)
		return 0;
	if (st->rdonly)
		return KITH_EINVAL;
	if ((rc = store_network(st, net)) != 0)
		return rc == KITH_ENOTFOUND ? KITH_ENETWORK : rc;
	if ((rcs = calloc(n, sizeof(*rcs))) == NULL ||
	    (pending = calloc(n, sizeof(*pending))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	/* Cheap checks first. */
	for (i = 0; i < n; i++) {
		if (!network_ok(st, recs[i]))
			rcs[i] = KITH_ENETWORK;
		else if (hlc_check(record_header(recs[i])->hlc, wall) != 0)
			rcs[i] = KITH_EFUTURE;
	}
	/* Then duplicates, before any signature is checked. */
	if ((rc = store_dedup(st, recs, n, rcs)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		pending[i] = rcs[i] == 0 ? recs[i] : NULL;
	/*
	 * Signatures are checked as the transaction inserts.  If the map
	 * fills, grow it and run the whole transaction again: a failed one
	 * may have stopped before some signatures were checked.
	 */
	do {
		memset(res, 0, sizeof(*res));
		for (i = 0; i < n; i++) {
			if (pending[i] != NULL)
				rcs[i] = 0;
			res->duplicate += rcs[i] == KITH_EEXIST;
		}
		rc = apply_txn(st, pending, n, verified, rcs, res);
	} while (rc == KITH_EMAPFULL && (rc = grow(st)) == 0);
	if (rc != 0) {
		memset(res, 0, sizeof(*res));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (outcome != NULL)
			outcome[i] = rcs[i];
		if (rcs[i] == 0 || rcs[i] == KITH_EEXIST)
			continue;
		res->rejected++;
		if (reject != NULL)
			reject(arg, recs[i], rcs[i]);
	}
out:
	free(rcs);
	free(pending);
	return rc;
}

int
store_apply(struct store *st, struct record *const *recs, size_t n,
    struct store_result *res, store_reject_fn *reject, void *arg)
{

	return apply(st, recs, n, NULL, NULL, res, reject, arg);
}

int
store_apply_verified(struct store *st, struct record *const *recs, size_t n,
    int *rcs, struct store_result *res)
{
	int *verified;
	int rc;

	if ((verified = malloc((n ? n : 1) * sizeof(*verified))) == NULL)
		return KITH_ENOMEM;
	memcpy(verified, rcs, n * sizeof(*verified));
	rc = apply(st, recs, n, verified, rcs, res, NULL, NULL);
	free(verified);
	return rc;
}

/* Called by walk for each key and value; non-zero stops. */
typedef int walk_fn(void *arg, const MDB_val *k, const MDB_val *v);

/* Call ${fn} for every entry of database ${db}, in one read transaction. */
static int
walk(struct store *st, int db, walk_fn *fn, void *arg)
{
	MDB_val k, v;
	MDB_cursor *cur;
	MDB_txn *txn;
	int rc, op;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[db], &cur))) != 0)
		goto out;
	for (op = MDB_FIRST; ; op = MDB_NEXT) {
		if ((rc = mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
			if (rc == KITH_ENOTFOUND)
				rc = 0;
			break;
		}
		if ((rc = fn(arg, &k, &v)) != 0)
			break;
	}
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	return rc;
}

struct order_walk {
	store_order_fn *fn;
	void *arg;
};

static int
order_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct order_walk *w = arg;

	(void)v;
	if (k->mv_size != KEY_LEN)
		return KITH_ECORRUPT;
	return w->fn(w->arg, get_be64(k->mv_data),
	    (const uint8_t *)k->mv_data + 8);
}

int
store_order_scan(struct store *st, store_order_fn *fn, void *arg)
{
	struct order_walk w = { fn, arg };

	return walk(st, DB_REC, order_one, &w);
}

struct scope_walk {
	const uint8_t *key;
	store_order_fn *fn;
	void *arg;
};

/*
 * No index: every header is decoded to read its kind and audience.  An
 * index "aud" audience(32) hlc(8) id(32) -> "" would make this O(scope),
 * at the price of one more write per addressed record.
 */
static int
scope_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct scope_walk *w = arg;
	struct record *rec;
	int rc;

	if (k->mv_size != KEY_LEN)
		return KITH_ECORRUPT;
	if ((rc = record_decode(v->mv_data, v->mv_size, NULL, 0, &rec)) != 0)
		return rc == KITH_ENOMEM ? rc : KITH_ECORRUPT;
	rc = 0;
	if (record_in_scope(record_header(rec), w->key))
		rc = w->fn(w->arg, get_be64(k->mv_data),
		    (const uint8_t *)k->mv_data + 8);
	record_free(rec);
	return rc;
}

int
store_scope(struct store *st, const uint8_t key[KITH_KEY_LEN],
    store_order_fn *fn, void *arg)
{
	struct scope_walk w = { key, fn, arg };

	return walk(st, DB_REC, scope_one, &w);
}

int
store_txnid(struct store *st, uint64_t *out)
{
	MDB_envinfo info;
	int rc;

	if ((rc = mdb_err(mdb_env_info(st->env, &info))) == 0)
		*out = info.me_last_txnid;
	return rc;
}

#define PEER_LEN	(5 * 8)

int
store_peer_put(struct store *st, const char *endpoint,
    const struct store_peer *p)
{
	uint8_t buf[PEER_LEN];
	MDB_val k = { strlen(endpoint), (void *)endpoint }, v = { PEER_LEN, buf };
	MDB_txn *txn;
	int rc;

	if (k.mv_size == 0 || k.mv_size > STORE_ENDPOINT_MAX)
		return KITH_EINVAL;
	put_be64(buf, p->last_ok_ms);
	put_be64(buf + 8, p->last_try_ms);
	put_be64(buf + 16, (uint64_t)(int64_t)p->last_rc);
	put_be64(buf + 24, p->received);
	put_be64(buf + 32, p->sent);
	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_put(txn, st->dbi[DB_PEERS], &k, &v, 0))) != 0)
		mdb_txn_abort(txn);
	else
		rc = mdb_err(mdb_txn_commit(txn));
	return rc;
}

struct peer_walk {
	store_peer_fn *fn;
	void *arg;
};

static int
peer_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct peer_walk *w = arg;
	char ep[STORE_ENDPOINT_MAX + 1];
	struct store_peer p;
	const uint8_t *b = v->mv_data;

	if (k->mv_size == 0 || k->mv_size > STORE_ENDPOINT_MAX ||
	    v->mv_size != PEER_LEN)
		return KITH_ECORRUPT;
	memcpy(ep, k->mv_data, k->mv_size);
	ep[k->mv_size] = '\0';
	p.last_ok_ms = get_be64(b);
	p.last_try_ms = get_be64(b + 8);
	p.last_rc = (int)(int64_t)get_be64(b + 16);
	p.received = get_be64(b + 24);
	p.sent = get_be64(b + 32);
	return w->fn(w->arg, ep, &p);
}

int
store_peers(struct store *st, store_peer_fn *fn, void *arg)
{
	struct peer_walk w = { fn, arg };

	return walk(st, DB_PEERS, peer_one, &w);
}

/* The author's highest sequence number held, or 0. */
static int
last_seq(struct store *st, MDB_txn *txn, const uint8_t *author,
    uint64_t *seq)
{
	uint8_t sk[SEQKEY_LEN];
	MDB_val k = { SEQKEY_LEN, sk }, v;
	MDB_cursor *cur;
	int rc;

	memcpy(sk, author, KITH_KEY_LEN);
	memset(sk + KITH_KEY_LEN, 0xff, 8);
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_SEQ], &cur)) != 0)
		return mdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 || rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV_NODUP :
		    MDB_LAST);
	*seq = 0;
	if (rc == 0 && k.mv_size == SEQKEY_LEN &&
	    memcmp(k.mv_data, author, KITH_KEY_LEN) == 0)
		*seq = get_be64((uint8_t *)k.mv_data + KITH_KEY_LEN);
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
}

/* Fill ${h}'s parents with the entity's current heads. */
static int
heads_of(struct store *st, MDB_txn *txn, struct record_header *h)
{
	MDB_val k = { KITH_ENTITY_LEN, h->entity }, v;
	struct state *s;
	size_t i;
	int rc;

	h->nparents = 0;
	rc = mdb_get(txn, st->dbi[DB_STATE], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mdb_err(rc);
	if ((rc = state_decode(v.mv_data, v.mv_size, &s)) != 0)
		return rc == KITH_ENOMEM ? rc : KITH_ECORRUPT;
	/* More heads than a record can name is rare; name the first ones. */
	for (i = 0; i < state_nheads(s) && i < KITH_PARENTS_MAX; i++)
		memcpy(h->parents[h->nparents++], state_head(s, i),
		    KITH_ID_LEN);
	state_free(s);
	return 0;
}

/* One wave of store_write: records arrive signed, in draft order. */
struct wave {
	struct store *st;
	MDB_txn *txn;
	struct store_draft *d;		/* the wave's first draft */
	struct roster *roster;
};

static int
wave_insert(void *arg, size_t i, const struct record *rec)
{
	struct wave *w = arg;
	const struct record_header *h = record_header(rec);
	int rc, forked;

	/*
	 * No parents means no state yet: a new entity, whose only record is
	 * the one in hand, so its state needs no reading back.
	 */
	if ((rc = insert(w->st, w->txn, rec, &forked)) != 0 ||
	    (rc = h->nparents == 0 ?
	    put_state(w->st, w->txn, w->roster, (struct record *const *)&rec,
	    1) : recompute(w->st, w->txn, w->roster, h->entity)) != 0)
		return rc;
	memcpy(w->d[i].id, record_id(rec), KITH_ID_LEN);
	w->d[i].hlc = h->hlc;
	return 0;
}

static const uint8_t *
draft_entity(const void *ctx, size_t i)
{

	return ((const struct store_draft *)ctx)[i].entity;
}

/*
 * Sign and insert ${n} drafts in one transaction.  Signing is the costly
 * step, so worker threads sign while this thread inserts, in waves: a wave
 * ends before a draft whose entity an earlier draft of the wave changes,
 * since its parents are that draft's id.
 */
static int
write_txn(struct store *st, const struct kcrypto_key *key,
    struct store_draft *d, size_t n)
{
	const uint8_t *author = kcrypto_key_public(key);
	struct record_header *h = NULL;
	const uint8_t **bodies = NULL;
	size_t *blens = NULL, *prev = NULL;
	struct wave w = { st, NULL, NULL, NULL };
	uint64_t clock, seq, wall = hlc_wall_ms();
	size_t i, end;
	int rc = KITH_ENOMEM, members = 0;

	if ((h = calloc(n, sizeof(*h))) == NULL ||
	    (bodies = calloc(n, sizeof(*bodies))) == NULL ||
	    (blens = calloc(n, sizeof(*blens))) == NULL ||
	    (prev = calloc(n, sizeof(*prev))) == NULL ||
	    (rc = entity_repeats(draft_entity, d, n, prev)) != 0 ||
	    (rc = txn_begin(st, 0, &w.txn)) != 0)
		goto out;
	clock = clock_get(st, w.txn);
	if ((rc = last_seq(st, w.txn, author, &seq)) != 0 ||
	    (rc = roster_load(st, w.txn, &w.roster)) != 0)
		goto out;
	for (i = 0; i < n; i = end) {
		for (end = i; end < n && (prev[end] == n || prev[end] < i);
		    end++) {
			memcpy(h[end].network, st->network, KITH_NETWORK_LEN);
			h[end].seq = ++seq;
			h[end].hlc = hlc_tick(&clock, wall);
			h[end].kind = d[end].kind;
			members |= d[end].kind <= KITH_KIND_REVOKE;
			h[end].expiry = d[end].expiry;
			h[end].naudience = d[end].naudience;
			memcpy(h[end].audience, d[end].audience,
			    sizeof(h[end].audience));
			memcpy(h[end].entity, d[end].entity, KITH_ENTITY_LEN);
			bodies[end] = d[end].body;
			blens[end] = d[end].blen;
			if ((rc = heads_of(st, w.txn, &h[end])) != 0)
				goto out;
		}
		w.d = d + i;
		if ((rc = record_sign_batch(h + i, bodies + i, blens + i,
		    end - i, key, wave_insert, &w)) != 0)
			goto out;
	}
	if ((members && (rc = roster_refresh(st, w.txn, &w.roster)) != 0) ||
	    (rc = clock_put(st, w.txn, clock)) != 0)
		goto out;
	rc = mdb_err(mdb_txn_commit(w.txn));
	w.txn = NULL;	/* committed or freed by the commit */
out:
	if (w.txn != NULL)
		mdb_txn_abort(w.txn);
	free(h);
	free(bodies);
	free(blens);
	free(prev);
	roster_free(w.roster);
	return rc;
}

int
store_write(struct store *st, const struct kcrypto_key *key,
    struct store_draft *drafts, size_t n)
{
	uint8_t net[KITH_NETWORK_LEN];
	int rc;

	if (st->rdonly)
		return KITH_EINVAL;
	if ((rc = store_network(st, net)) != 0)
		return rc == KITH_ENOTFOUND ? KITH_ENETWORK : rc;
	while ((rc = write_txn(st, key, drafts, n)) == KITH_EMAPFULL)
		if ((rc = grow(st)) != 0)
			break;
	return rc;
}

int
store_init_network(struct store *st, const struct record *charter)
{
	static const uint8_t zero[KITH_NETWORK_LEN];
	const struct record_header *h = record_header(charter);
	const uint8_t *id = record_id(charter);
	MDB_txn *txn;
	MDB_val v;
	size_t blen;
	int rc, forked;

	if (h->kind != KITH_KIND_CHARTER ||
	    memcmp(h->network, zero, sizeof(zero)) != 0 ||
	    record_body(charter, &blen) == NULL || record_verify(charter) != 0)
		return KITH_EINVAL;
	for (;;) {
		if ((rc = txn_begin(st, 0, &txn)) != 0)
			return rc;
		if ((rc = meta_get(st, txn, "network", &v)) == 0) {
			rc = KITH_EEXIST;
			goto fail;
		}
		if (rc != KITH_ENOTFOUND ||
		    (rc = meta_put(st, txn, "network", id, KITH_ID_LEN)) != 0 ||
		    (rc = insert(st, txn, charter, &forked)) != 0 ||
		    (rc = recompute(st, txn, NULL, h->entity)) != 0 ||
		    (rc = clock_put(st, txn, h->hlc)) != 0)
			goto fail;
		if ((rc = mdb_err(mdb_txn_commit(txn))) == 0)
			break;
		if (rc != KITH_EMAPFULL || (rc = grow(st)) != 0)
			return rc;
	}
	memcpy(st->network, id, KITH_NETWORK_LEN);
	st->have_network = 1;
	return 0;
fail:
	mdb_txn_abort(txn);
	return rc;
}

/* Bodies found past their expiry by store_purge. */
struct expired {
	uint8_t (*key)[KEY_LEN];
	uint8_t (*ent)[KITH_ENTITY_LEN];
	size_t n, cap;
};

static int
expired_add(struct expired *x, const uint8_t *key, const uint8_t *entity)
{
	void *k, *e;

	if (x->n == x->cap) {
		if ((k = realloc(x->key, (x->cap * 2 + 64) * KEY_LEN)) == NULL)
			return KITH_ENOMEM;
		x->key = k;
		if ((e = realloc(x->ent, (x->cap * 2 + 64) *
		    KITH_ENTITY_LEN)) == NULL)
			return KITH_ENOMEM;
		x->ent = e;
		x->cap = x->cap * 2 + 64;
	}
	memcpy(x->key[x->n], key, KEY_LEN);
	memcpy(x->ent[x->n++], entity, KITH_ENTITY_LEN);
	return 0;
}

/* Find, within ${txn}, every body whose header's expiry is before ${now}. */
static int
find_expired(struct store *st, MDB_txn *txn, uint64_t now,
    struct expired *x)
{
	struct record *rec;
	MDB_cursor *cur;
	MDB_val k, v, sh;
	int rc, op;

	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_BODY], &cur))) != 0)
		return rc;
	for (op = MDB_FIRST; ; op = MDB_NEXT) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0) {
			rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
			break;
		}
		if ((rc = mdb_err(mdb_get(txn, st->dbi[DB_REC], &k, &sh))) != 0)
			break;
		if ((rc = record_decode(sh.mv_data, sh.mv_size, NULL, 0,
		    &rec)) != 0) {
			rc = rc == KITH_ENOMEM ? rc : KITH_ECORRUPT;
			break;
		}
		if (record_header(rec)->expiry != 0 &&
		    record_header(rec)->expiry < now)
			rc = expired_add(x, k.mv_data,
			    record_header(rec)->entity);
		record_free(rec);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc;
}

int
store_purge(struct store *st, uint64_t now_ms, size_t *purged)
{
	struct expired x = { NULL, NULL, 0, 0 };
	struct roster *roster = NULL;
	MDB_txn *txn;
	MDB_val k;
	size_t i;
	int rc;

	*purged = 0;
	if (st->rdonly)
		return KITH_EINVAL;
	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return rc;
	if ((rc = find_expired(st, txn, now_ms, &x)) != 0 || x.n == 0 ||
	    (rc = roster_load(st, txn, &roster)) != 0)
		goto out;
	for (i = 0; i < x.n && rc == 0; i++) {
		k = (MDB_val){ KEY_LEN, x.key[i] };
		rc = mdb_err(mdb_del(txn, st->dbi[DB_BODY], &k, NULL));
	}
	if (rc == 0)
		rc = recompute_each(st, txn, roster, x.ent, x.n);
	if (rc == 0) {
		rc = mdb_err(mdb_txn_commit(txn));
		txn = NULL;	/* committed or freed by the commit */
		if (rc == 0)
			*purged = x.n;
	}
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	roster_free(roster);
	free(x.key);
	free(x.ent);
	return rc;
}

int
store_roster(struct store *st, struct roster **out)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = roster_load(st, txn, out);
	mdb_txn_abort(txn);
	return rc;
}

int
store_quarantine(struct store *st, store_held_fn *fn, void *arg)
{
	struct roster *roster = NULL;
	struct record *rec;
	MDB_val k, v;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	int rc, op, why;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = roster_load(st, txn, &roster)) != 0 ||
	    (rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_SEQ], &cur))) != 0)
		goto out;
	/* Every record, by author; a member in good standing has none held. */
	for (op = MDB_FIRST; ; op = MDB_NEXT) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0) {
			rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
			break;
		}
		if (k.mv_size != SEQKEY_LEN || v.mv_size != KITH_ID_LEN) {
			rc = KITH_ECORRUPT;
			break;
		}
		if (roster_check(roster, k.mv_data, 0) == 0 &&
		    roster_find(roster, k.mv_data)->revoked == 0)
			continue;
		if ((rc = load_id(st, txn, v.mv_data, &rec)) != 0)
			break;
		why = record_header(rec)->kind <= KITH_KIND_REVOKE ? 0 :
		    roster_check(roster, record_header(rec)->author,
		    record_header(rec)->hlc);
		rc = why != 0 ? fn(arg, rec, why) : 0;
		record_free(rec);
		if (rc != 0)
			break;
	}
out:
	mdb_cursor_close(cur);
	roster_free(roster);
	mdb_txn_abort(txn);
	return rc;
}

int
store_charter(struct store *st, struct record **out)
{
	uint8_t net[KITH_NETWORK_LEN];
	int rc;

	if ((rc = store_network(st, net)) != 0)
		return rc;
	return store_get(st, net, out);
}

int
store_get(struct store *st, const uint8_t id[KITH_ID_LEN], struct record **out)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = load_id(st, txn, id, out);
	mdb_txn_abort(txn);
	return rc;
}

int
store_entity(struct store *st, const uint8_t entity[KITH_ENTITY_LEN],
    struct record ***out, size_t *n)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = load_entity(st, txn, entity, out, n);
	mdb_txn_abort(txn);
	return rc;
}

int
store_range(struct store *st, uint64_t lo_hlc, const uint8_t *lo_id,
    uint64_t hi_hlc, const uint8_t *hi_id, store_record_fn *fn, void *arg)
{
	uint8_t lo[KEY_LEN], hi[KEY_LEN];
	MDB_val k = { KEY_LEN, lo }, v;
	MDB_cursor *cur;
	MDB_txn *txn;
	struct record *rec;
	int rc, op;

	make_key(lo, lo_hlc, lo_id);
	make_key(hi, hi_hlc, hi_id);
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_REC], &cur))) != 0)
		goto out;
	for (op = MDB_SET_RANGE; ; op = MDB_NEXT) {
		if ((rc = mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
			if (rc == KITH_ENOTFOUND)
				rc = 0;
			break;
		}
		if (k.mv_size != KEY_LEN) {
			rc = KITH_ECORRUPT;
			break;
		}
		if (memcmp(k.mv_data, hi, KEY_LEN) >= 0)
			break;
		if ((rc = load_key(st, txn, k.mv_data, &rec)) != 0)
			break;
		rc = fn(arg, rec);
		record_free(rec);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	return rc;
}

int
store_by_author(struct store *st, const uint8_t author[KITH_KEY_LEN],
    uint64_t seq, store_record_fn *fn, void *arg)
{
	uint8_t sk[SEQKEY_LEN];
	MDB_val k = { SEQKEY_LEN, sk }, v;
	MDB_cursor *cur;
	MDB_txn *txn;
	struct record *rec;
	int rc, op;

	memcpy(sk, author, KITH_KEY_LEN);
	put_be64(sk + KITH_KEY_LEN, seq);
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_SEQ], &cur))) != 0)
		goto out;
	for (op = MDB_SET; ; op = MDB_NEXT_DUP) {
		if ((rc = mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
			/* Not found at the first key means no such record. */
			if (rc == KITH_ENOTFOUND && op == MDB_NEXT_DUP)
				rc = 0;
			break;
		}
		if (v.mv_size != KITH_ID_LEN) {
			rc = KITH_ECORRUPT;
			break;
		}
		if ((rc = load_id(st, txn, v.mv_data, &rec)) != 0)
			break;
		rc = fn(arg, rec);
		record_free(rec);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	return rc;
}

int
store_author_forked(struct store *st, const uint8_t author[KITH_KEY_LEN])
{
	MDB_val k = { KITH_KEY_LEN, (void *)author }, v;
	MDB_txn *txn;
	int rc;

	if (txn_begin(st, MDB_RDONLY, &txn) != 0)
		return 0;
	rc = mdb_get(txn, st->dbi[DB_FORKS], &k, &v);
	mdb_txn_abort(txn);
	return rc == 0;
}

int
store_state(struct store *st, const uint8_t entity[KITH_ENTITY_LEN],
    struct state **out)
{
	MDB_val k = { KITH_ENTITY_LEN, (void *)entity }, v;
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_get(txn, st->dbi[DB_STATE], &k, &v))) == 0) {
		rc = state_decode(v.mv_data, v.mv_size, out);
		if (rc != 0 && rc != KITH_ENOMEM)
			rc = KITH_ECORRUPT;
	}
	mdb_txn_abort(txn);
	return rc;
}

/* Does ${id} start with the ${nibbles} hex digits in ${prefix}? */
static int
prefix_match(const uint8_t *id, const uint8_t *prefix, size_t nibbles)
{

	if (memcmp(id, prefix, nibbles / 2) != 0)
		return 0;
	return nibbles % 2 == 0 ||
	    (id[nibbles / 2] >> 4) == (prefix[nibbles / 2] >> 4);
}

int
store_find_entity(struct store *st, const uint8_t *prefix, size_t nibbles,
    uint8_t out[KITH_ENTITY_LEN])
{
	uint8_t start[KITH_ENTITY_LEN] = { 0 };
	MDB_val k = { KITH_ENTITY_LEN, start }, v;
	MDB_cursor *cur;
	MDB_txn *txn;
	size_t found = 0;
	int rc, op;

	if (nibbles == 0 || nibbles > 2 * KITH_ENTITY_LEN)
		return KITH_EINVAL;
	memcpy(start, prefix, (nibbles + 1) / 2);
	if (nibbles % 2)
		start[nibbles / 2] &= 0xf0;
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_STATE], &cur))) != 0)
		goto out;
	for (op = MDB_SET_RANGE; found < 2; op = MDB_NEXT) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0)
			break;
		if (k.mv_size != KITH_ENTITY_LEN ||
		    !prefix_match(k.mv_data, prefix, nibbles))
			break;
		if (found++ == 0)
			memcpy(out, k.mv_data, KITH_ENTITY_LEN);
	}
	mdb_cursor_close(cur);
	rc = rc != 0 && rc != MDB_NOTFOUND ? mdb_err(rc) :
	    found == 0 ? KITH_ENOTFOUND : found > 1 ? KITH_EEXIST : 0;
out:
	mdb_txn_abort(txn);
	return rc;
}

int
store_states(struct store *st, uint64_t kind, store_state_fn *fn, void *arg)
{
	uint8_t kk[KINDKEY_LEN];
	MDB_val k, v, sk;
	MDB_cursor *cur;
	MDB_txn *txn;
	struct state *s;
	int rc, op;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = mdb_err(mdb_cursor_open(txn,
	    st->dbi[kind ? DB_KIND : DB_STATE], &cur));
	if (rc != 0)
		goto out;
	kind_key(kk, kind, (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
	k = (MDB_val){ KINDKEY_LEN, kk };
	for (op = kind ? MDB_SET_RANGE : MDB_FIRST; ; op = MDB_NEXT) {
		if ((rc = mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
			if (rc == KITH_ENOTFOUND)
				rc = 0;
			break;
		}
		if (kind != 0) {
			if (k.mv_size != KINDKEY_LEN ||
			    memcmp(k.mv_data, kk, 2) != 0)
				break;
			sk = (MDB_val){ KITH_ENTITY_LEN,
			    (uint8_t *)k.mv_data + 2 };
			if ((rc = mdb_err(mdb_get(txn, st->dbi[DB_STATE], &sk,
			    &v))) != 0)
				break;
		}
		if ((rc = state_decode(v.mv_data, v.mv_size, &s)) != 0) {
			rc = rc == KITH_ENOMEM ? rc : KITH_ECORRUPT;
			break;
		}
		rc = fn(arg, s);
		state_free(s);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	return rc;
}

static int
digest_one(void *arg, const MDB_val *k, const MDB_val *v)
{

	(void)k;
	kcrypto_hash_update(arg, v->mv_data, v->mv_size);
	return 0;
}

int
store_digest(struct store *st, uint8_t out[KITH_HASH_LEN])
{
	struct kcrypto_hash hs;
	int rc;

	kcrypto_hash_init(&hs);
	if ((rc = walk(st, DB_STATE, digest_one, &hs)) == 0)
		kcrypto_hash_final(&hs, out);
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
		return mdb_err(brc);
	rc = record_decode(v->mv_data, v->mv_size, brc == 0 ? body.mv_data :
	    NULL, brc == 0 ? body.mv_size : 0, &rec);
	if (rc != 0)
		return rc;
	if (memcmp(record_id(rec), kid, KITH_ID_LEN) != 0 ||
	    record_header(rec)->hlc != get_be64(k->mv_data))
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
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_REC], &cur))) != 0)
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
	rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
	/* Every body must belong to a record. */
	mdb_cursor_close(cur);
	if (rc == 0 &&
	    (rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_BODY], &cur))) == 0) {
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
		rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
		mdb_cursor_close(cur);
	}
out:
	mdb_txn_abort(txn);
	return rc;
}

static size_t
count_kind(MDB_txn *txn, MDB_dbi dbi, uint64_t kind)
{
	uint8_t kk[KINDKEY_LEN];
	MDB_val k = { KINDKEY_LEN, kk }, v;
	MDB_cursor *cur;
	size_t n = 0;
	int op;

	memset(kk, 0, sizeof(kk));
	kk[0] = (uint8_t)(kind >> 8);
	kk[1] = (uint8_t)kind;
	if (mdb_cursor_open(txn, dbi, &cur) != 0)
		return 0;
	for (op = MDB_SET_RANGE; mdb_cursor_get(cur, &k, &v, op) == 0;
	    op = MDB_NEXT) {
		if (k.mv_size != KINDKEY_LEN || memcmp(k.mv_data, kk, 2) != 0)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	return n;
}

int
store_stats(struct store *st, struct store_stats *out)
{
	static const uint64_t kinds[3] = { KITH_KIND_REQUEST,
	    KITH_KIND_VOLUNTEER, KITH_KIND_REFERRAL };
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *txn;
	char data[4200];
	struct stat sb;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if (mdb_stat(txn, st->dbi[DB_REC], &ms) == 0)
		out->records = ms.ms_entries;
	if (mdb_stat(txn, st->dbi[DB_BODY], &ms) == 0)
		out->bodies = ms.ms_entries;
	if (mdb_stat(txn, st->dbi[DB_STATE], &ms) == 0)
		out->entities = ms.ms_entries;
	if (mdb_stat(txn, st->dbi[DB_FORKS], &ms) == 0)
		out->forks = ms.ms_entries;
	out->by_kind[3] = out->entities;
	for (i = 0; i < 3; i++) {
		out->by_kind[i] = count_kind(txn, st->dbi[DB_KIND], kinds[i]);
		out->by_kind[3] -= out->by_kind[i];
	}
	mdb_txn_abort(txn);
	mdb_env_info(st->env, &info);
	mdb_env_stat(st->env, &ms);
	out->map_bytes = info.me_mapsize;
	out->used_bytes = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	snprintf(data, sizeof(data), "%s/data.mdb", st->path);
	/* Blocks allocated, which is what the store costs on disk. */
	if (stat(data, &sb) == 0)
		out->file_bytes = (uint64_t)sb.st_blocks * 512;
	return 0;
}

int
store_compact(struct store *st, const char *path)
{
	int fd, rc;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
		return errno == EEXIST ? KITH_EEXIST : KITH_EIO;
	rc = mdb_err(mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT));
	if (rc == 0 && fsync(fd) != 0)
		rc = KITH_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = KITH_EIO;
	if (rc != 0)
		unlink(path);
	return rc;
}
