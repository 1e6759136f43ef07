#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lmdb.h>

#include "body.h"
#include "chain.h"
#include "hlc.h"
#include "kcrypto.h"
#include "pagecheck.h"
#include "record.h"
#include "roster.h"
#include "state.h"
#include "store.h"

/*
 * Named databases.  Keys are big-endian so that LMDB's byte order is the
 * numeric order:
 *   rec    hlc(8) id(32)  -> signed header    (the reconciliation order)
 *   body   hlc(8) id(32)  -> body             (absent: erased, expired,
 *                                              or not received yet)
 *   ids    id(32)         -> hlc(8)
 *   seq    author(32) seq(8) -> id(32) prev(32)  (dupsort: forks keep both)
 *   ent    entity(16)     -> hlc(8) id(32)    (dupsort, fixed size)
 *   state  entity(16)     -> state encoding
 *   kind   kind(2) entity(16) -> ""
 *   forks  author(32)     -> fork point(8)    (the least seq forked at)
 *   deny   entity(16)     -> ""               (erased entities: no bodies)
 *   mship  hlc(8) id(32)  -> ""               (charter, member and revoke
 *                                              records, by record kind)
 *   aud    key(32) hlc(8) id(32) -> ""        (records addressed to key)
 *   nobody hlc(8) id(32)  -> ""               (bodies wanted from peers)
 *   expiry ms(8) hlc(8) id(32) -> ""          (held bodies that expire)
 *   orphan entity(16)     -> ""               (records but no genesis)
 *   merge  entity(16)     -> merge cache      (large entities: state_add)
 *   peers  endpoint       -> peer record      (sync daemon)
 *   meta   name           -> value
 *   log    counter(8)     -> hlc(8) id(32)    (every insert, in order)
 */
enum { DB_REC, DB_BODY, DB_IDS, DB_SEQ, DB_ENT, DB_STATE, DB_KIND, DB_FORKS,
	DB_DENY, DB_MSHIP, DB_AUD, DB_NOBODY, DB_EXPIRY, DB_ORPHAN, DB_MERGE,
	DB_PEERS, DB_META, DB_LOG, DB_COUNT };

static const struct {
	const char *name;
	unsigned flags;
} dbs[DB_COUNT] = {
	[DB_REC] = { "rec", 0 },
	[DB_BODY] = { "body", 0 },
	[DB_IDS] = { "ids", 0 },
	[DB_SEQ] = { "seq", MDB_DUPSORT | MDB_DUPFIXED },
	[DB_ENT] = { "ent", MDB_DUPSORT | MDB_DUPFIXED },
	[DB_STATE] = { "state", 0 },
	[DB_KIND] = { "kind", 0 },
	[DB_FORKS] = { "forks", 0 },
	[DB_DENY] = { "deny", 0 },
	[DB_MSHIP] = { "mship", 0 },
	[DB_AUD] = { "aud", 0 },
	[DB_NOBODY] = { "nobody", 0 },
	[DB_EXPIRY] = { "expiry", 0 },
	[DB_ORPHAN] = { "orphan", 0 },
	[DB_MERGE] = { "merge", 0 },
	[DB_PEERS] = { "peers", 0 },
	[DB_META] = { "meta", 0 },
	[DB_LOG] = { "log", 0 },
};

#define KEY_LEN		(8 + KITH_ID_LEN)	/* hlc || id */
#define SEQKEY_LEN	(KITH_KEY_LEN + 8)
#define SEQVAL_LEN	(2 * KITH_ID_LEN)	/* id || prev */
#define KINDKEY_LEN	(2 + KITH_ENTITY_LEN)
#define AUDKEY_LEN	(KITH_KEY_LEN + KEY_LEN)
#define EXPKEY_LEN	(8 + KEY_LEN)
/* 2: protocol version 2 records, chains, genesis, membership by kind. */
#define SCHEMA_VERSION	2

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	uint64_t max_map;
	int rdonly;
	int shared;		/* STORE_SHARED: the map is the cap */
	unsigned eflags;	/* the environment's open flags */
	int lockfd;		/* use.lock, held shared while open; -1 */
	int have_network;
	uint8_t network[KITH_NETWORK_LEN];
	/*
	 * The roster as of membership generation ${roster_gen} (meta "rgen").
	 * Only write transactions use it, and LMDB lets one run at a time.
	 */
	struct roster *roster;
	uint64_t roster_gen;
	size_t cache_min;	/* entities this large keep a merge cache */
	/*
	 * Keys of records that reads found damaged, for store_mend; any
	 * thread may read, so a lock guards them.
	 */
	pthread_mutex_t dmg_lock;
	uint8_t (*dmg)[KEY_LEN];
	size_t ndmg;
	char path[4096];
};

#define DAMAGE_MAX	4096	/* damaged records noted between mends */

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
		return KITH_EIO;
	case ENOSPC:
	case EDQUOT:
		return KITH_ENOSPC;
	}
	return KITH_ESTORE;
}

/* Less than this free on the store's disk after a failed write: full. */
#define DISK_SLACK	(1 << 20)

/*
 * Commit ${txn}.  LMDB reports a write cut short by a full disk as EIO,
 * not ENOSPC: when the disk holding the store is (all but) full after
 * one, say so, so the user learns what to do.
 */
static int
txn_commit(struct store *st, MDB_txn *txn)
{
	struct statvfs vfs;
	int rc;

	rc = mdb_txn_commit(txn);
	if (rc == EIO && statvfs(st->path, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < DISK_SLACK)
		rc = ENOSPC;
	return mdb_err(rc);
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
	int i, rc, missing = 0;

	if ((rc = txn_begin(st, st->rdonly ? MDB_RDONLY : 0, &txn)) != 0)
		return rc;
	for (i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, dbs[i].name,
		    dbs[i].flags | (st->rdonly ? 0 : MDB_CREATE), &st->dbi[i]);
		/* Opened to read: a store of another schema lacks some. */
		if (rc == MDB_NOTFOUND && st->rdonly) {
			missing = 1;
			continue;
		}
		if (rc != 0) {
			rc = mdb_err(rc);
			goto fail;
		}
	}
	rc = meta_get(st, txn, "schema", &v);
	if (rc == KITH_ENOTFOUND && !st->rdonly)
		rc = meta_put(st, txn, "schema", &ver, 1);
	else if (rc == 0 && (v.mv_size != 1 ||
	    *(uint8_t *)v.mv_data != SCHEMA_VERSION))
		rc = KITH_EVERSION;
	if (missing && rc != KITH_EVERSION)
		rc = KITH_ECORRUPT;
	if (rc != 0)
		goto fail;
	if ((rc = load_network(st, txn)) != 0 && rc != KITH_ENOTFOUND)
		goto fail;
	return txn_commit(st, txn);
fail:
	mdb_txn_abort(txn);
	return rc;
}

/*
 * Hold the store's use lock shared while the handle is open: a scrub
 * (store_scrub) swaps the data file only while it holds it alone.  A
 * read-only handle on a directory it cannot write goes without.
 */
static int
use_lock(struct store *st)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/use.lock", st->path);
	if ((st->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600)) < 0)
		return st->rdonly ? 0 : KITH_EIO;
	while (flock(st->lockfd, LOCK_SH) != 0)
		if (errno != EINTR)
			return KITH_EIO;
	return 0;
}

/* Open ${st}'s environment with a map of ${map} bytes, and its databases. */
static int
env_open(struct store *st, uint64_t map)
{
	int rc;

	if ((rc = mdb_err(mdb_env_create(&st->env))) != 0 ||
	    (rc = mdb_err(mdb_env_set_maxdbs(st->env, DB_COUNT))) != 0 ||
	    (rc = mdb_err(mdb_env_set_mapsize(st->env, map))) != 0 ||
	    (rc = mdb_err(mdb_env_open(st->env, st->path, st->eflags,
	    0600))) != 0 ||
	    (rc = open_dbs(st)) != 0) {
		if (st->env != NULL)
			mdb_env_close(st->env);
		st->env = NULL;
	}
	return rc;
}

struct store *
store_open(const char *dir, int flags, uint64_t max_map, int *rc)
{
	struct store *st;
	struct pagecheck_stats pcs;
	char data[4200];
	struct stat sb;
	uint64_t map;
	unsigned eflags = MDB_NOTLS;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		*rc = KITH_ENOMEM;
		return NULL;
	}
	snprintf(st->path, sizeof(st->path), "%s", dir);
	st->lockfd = -1;
	st->max_map = max_map ? max_map : STORE_MAP_MAX;
	st->cache_min = STORE_CACHE_MIN;
	st->rdonly = (flags & STORE_RDONLY) != 0;
	st->shared = (flags & STORE_SHARED) != 0;
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	pthread_mutex_init(&st->dmg_lock, NULL);
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
	} else if (sb.st_size > 0 && (*rc = pagecheck_file(data,
	    (flags & STORE_CHECK) ? 0 : PAGECHECK_META, NULL, &pcs)) != 0) {
		/*
		 * LMDB trusts every pointer in the file: a damaged one is a
		 * crash, or worse, reads that spread wrong bytes.  Never map
		 * a file whose structure fails (kith verify names the page).
		 */
		if (*rc != KITH_ENOMEM && *rc != KITH_ENOTFOUND)
			*rc = *rc == KITH_EIO ? KITH_EIO : KITH_ECORRUPT;
		goto fail;
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
	st->eflags = eflags;
	if ((*rc = use_lock(st)) != 0 || (*rc = env_open(st, map)) != 0)
		goto fail;
	return st;
fail:
	store_close(st);
	return NULL;
}

int
store_set_max_map(struct store *st, uint64_t max_map)
{
	MDB_envinfo info;

	st->max_map = max_map ? max_map : STORE_MAP_MAX;
	mdb_env_info(st->env, &info);
	if (info.me_mapsize >= st->max_map)
		return 0;	/* a lower cap stops growth from now on */
	/* A handle that maps its cap at once maps the new one now. */
	return st->shared ? mdb_err(mdb_env_set_mapsize(st->env,
	    st->max_map)) : 0;
}

void
store_set_cache_min(struct store *st, size_t n)
{

	st->cache_min = n;
}

void
store_close(struct store *st)
{

	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->lockfd >= 0)
		close(st->lockfd);
	roster_free(st->roster);
	pthread_mutex_destroy(&st->dmg_lock);
	free(st->dmg);
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

/* Note the record at ${key} as damaged, for store_mend. */
static void
note_damage(struct store *st, const uint8_t key[KEY_LEN])
{
	size_t i;

	pthread_mutex_lock(&st->dmg_lock);
	for (i = 0; i < st->ndmg; i++)
		if (memcmp(st->dmg[i], key, KEY_LEN) == 0)
			break;
	if (i == st->ndmg && st->ndmg < DAMAGE_MAX) {
		if (st->dmg == NULL)
			st->dmg = malloc(DAMAGE_MAX * KEY_LEN);
		if (st->dmg != NULL)
			memcpy(st->dmg[st->ndmg++], key, KEY_LEN);
	}
	pthread_mutex_unlock(&st->dmg_lock);
}

/*
 * Decode the stored header ${sh} and body ${body} (NULL: none) of the
 * record at ${key}, checking them against the key's id and the header's
 * body hash.  Return 0 with the record in ${*out}, STORE_BAD_RECORD (the
 * header does not hash to the key's id, or does not decode),
 * STORE_BAD_BODY (the header is intact and ${*out} holds it alone: the
 * body fails its hash) or KITH_ENOMEM.
 */
static int
decode_held(const uint8_t key[KEY_LEN], const MDB_val *sh,
    const MDB_val *body, struct record **out)
{
	struct record *rec = NULL;
	int rc;

	*out = NULL;
	rc = record_decode(sh->mv_data, sh->mv_size, body ? body->mv_data :
	    NULL, body ? body->mv_size : 0, &rec);
	if (rc == KITH_ENOMEM)
		return rc;
	if (rc != 0 && body != NULL) {
		/* The header alone may be intact. */
		if ((rc = record_decode(sh->mv_data, sh->mv_size, NULL, 0,
		    &rec)) == KITH_ENOMEM)
			return rc;
		if (rc == 0)
			rc = STORE_BAD_BODY;
	}
	if ((rc == 0 || rc == STORE_BAD_BODY) &&
	    (memcmp(record_id(rec), key + 8, KITH_ID_LEN) != 0 ||
	    record_header(rec)->hlc != get_be64(key))) {
		record_free(rec);
		return STORE_BAD_RECORD;
	}
	if (rc != 0 && rc != STORE_BAD_BODY) {
		record_free(rec);
		return STORE_BAD_RECORD;
	}
	*out = rec;
	return rc;
}

/*
 * Read a record by its (hlc, id) key within ${txn}; expired bodies hide.
 * A record whose header fails its id is KITH_ECORRUPT; one whose body
 * fails its hash is KITH_ECORRUPT if ${strict}, else comes without its
 * body (computing state goes on without it).  Either is noted for
 * store_mend.
 */
static int
load_key_as(struct store *st, MDB_txn *txn, const uint8_t key[KEY_LEN],
    struct record **out, int strict)
{
	MDB_val k = { KEY_LEN, (void *)key }, sh, body;
	struct record *rec = NULL;
	uint64_t exp;
	int rc, brc;

	if ((rc = mdb_err(mdb_get(txn, st->dbi[DB_REC], &k, &sh))) != 0)
		return rc;
	brc = mdb_get(txn, st->dbi[DB_BODY], &k, &body);
	if (brc != 0 && brc != MDB_NOTFOUND)
		return mdb_err(brc);
	rc = decode_held(key, &sh, brc == 0 ? &body : NULL, &rec);
	if (rc == KITH_ENOMEM)
		return rc;
	if (rc != 0) {
		note_damage(st, key);
		if (rc == STORE_BAD_RECORD || strict) {
			record_free(rec);
			return KITH_ECORRUPT;
		}
		brc = MDB_NOTFOUND;	/* the header alone */
	}
	/* A body counts as absent from the moment it expires, everywhere. */
	exp = record_header(rec)->expiry;
	if (brc == 0 && exp != 0 && exp <= hlc_wall_ms()) {
		rc = record_strip(rec, out);
		record_free(rec);
		return rc;
	}
	*out = rec;
	return 0;
}

/* As load_key_as, for computing: a damaged body reads as absent. */
static int
load_key(struct store *st, MDB_txn *txn, const uint8_t key[KEY_LEN],
    struct record **out)
{

	return load_key_as(st, txn, key, out, 0);
}

static int
load_id(struct store *st, MDB_txn *txn, const uint8_t id[KITH_ID_LEN],
    struct record **out, int strict)
{
	MDB_val k = { KITH_ID_LEN, (void *)id }, v;
	uint8_t key[KEY_LEN];
	int rc;

	if ((rc = mdb_err(mdb_get(txn, st->dbi[DB_IDS], &k, &v))) != 0)
		return rc;
	if (v.mv_size != 8)
		return KITH_ECORRUPT;
	make_key(key, get_be64(v.mv_data), id);
	return load_key_as(st, txn, key, out, strict);
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
		if ((rc = load_key(st, txn, v.mv_data, &recs[cnt])) ==
		    KITH_ECORRUPT)
			continue;	/* noted; its state waits for a good copy */
		if (rc != 0)
			goto out;
		cnt++;
	}
	rc = cnt == 0 ? KITH_ENOTFOUND : 0;
	if (rc != 0)
		goto out;
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

static int
put_empty(struct store *st, MDB_txn *txn, int db, const void *key,
    size_t len)
{
	MDB_val k = { len, (void *)key }, empty = { 0, "" };

	return mdb_err(mdb_put(txn, st->dbi[db], &k, &empty, 0));
}

/* Delete ${key} from ${db}; absent is fine. */
static int
del_key(struct store *st, MDB_txn *txn, int db, const void *key, size_t len)
{
	MDB_val k = { len, (void *)key };
	int rc;

	rc = mdb_del(txn, st->dbi[db], &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
}

static int
has_key(struct store *st, MDB_txn *txn, int db, const void *key, size_t len,
    int *yes)
{
	MDB_val k = { len, (void *)key }, v;
	int rc;

	rc = mdb_get(txn, st->dbi[db], &k, &v);
	*yes = rc == 0;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
}

static void
expiry_key(uint8_t out[EXPKEY_LEN], uint64_t expiry, const uint8_t *key)
{

	put_be64(out, expiry);
	memcpy(out + 8, key, KEY_LEN);
}

/* Is the body of a record with header ${h} expired now? */
static int
expired_now(const struct record_header *h)
{

	return h->expiry != 0 && h->expiry <= hlc_wall_ms();
}

/* Drop ${entity}'s state and its kind index entry, if it has them. */
static int
drop_state(struct store *st, MDB_txn *txn, const uint8_t *entity)
{
	struct state *old;
	uint8_t kk[KINDKEY_LEN];
	MDB_val k = { KITH_ENTITY_LEN, (void *)entity }, v;
	int rc;

	if ((rc = del_key(st, txn, DB_MERGE, entity, KITH_ENTITY_LEN)) != 0)
		return rc;
	if ((rc = mdb_get(txn, st->dbi[DB_STATE], &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mdb_err(rc);
	if (state_decode(v.mv_data, v.mv_size, &old) == 0) {
		kind_key(kk, state_kind(old), entity);
		state_free(old);
		if ((rc = del_key(st, txn, DB_KIND, kk, KINDKEY_LEN)) != 0)
			return rc;
	}
	return mdb_err(mdb_del(txn, st->dbi[DB_STATE], &k, NULL));
}

/*
 * Bodies left the store in ${txn}: LMDB's freed pages, and the gaps in
 * pages still in use, keep their bytes until a scrub (store_scrub) writes
 * the store afresh.  Note since when one is due, if not noted already.
 */
static int
scrub_mark(struct store *st, MDB_txn *txn)
{
	MDB_val v;
	uint8_t b[8];
	int rc;

	if ((rc = meta_get(st, txn, "scrub", &v)) != KITH_ENOTFOUND)
		return rc;
	put_be64(b, hlc_wall_ms());
	return meta_put(st, txn, "scrub", b, sizeof(b));
}

/*
 * The bodies ${recs} hold or lack follow the entity's erasure: an erased
 * entity keeps its signed headers but no bodies except the erase records'
 * own, and takes none from now on (the deny-set); one that is not erased
 * wants every body it lacks that has not expired, from its peers.
 */
static int
follow_erasure(struct store *st, MDB_txn *txn, struct record *const *recs,
    size_t n, int erased)
{
	const struct record_header *h;
	const uint8_t *entity = record_header(recs[0])->entity;
	uint8_t key[KEY_LEN], ek[EXPKEY_LEN];
	size_t i, blen;
	int rc, denied;

	if ((rc = has_key(st, txn, DB_DENY, entity, KITH_ENTITY_LEN,
	    &denied)) != 0)
		return rc;
	if (!erased && !denied)
		return 0;
	if (erased && !denied &&
	    ((rc = put_empty(st, txn, DB_DENY, entity, KITH_ENTITY_LEN)) != 0 ||
	    (rc = scrub_mark(st, txn)) != 0))
		return rc;
	if (!erased && (rc = del_key(st, txn, DB_DENY, entity,
	    KITH_ENTITY_LEN)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		h = record_header(recs[i]);
		make_key(key, h->hlc, record_id(recs[i]));
		if (h->kind == KITH_KIND_ERASE)
			continue;
		if (!erased) {
			/* No longer erased: what it lacks is wanted again. */
			if (record_body(recs[i], &blen) == NULL &&
			    !expired_now(h))
				rc = put_empty(st, txn, DB_NOBODY, key,
				    KEY_LEN);
			continue;
		}
		expiry_key(ek, h->expiry, key);
		if ((rc = del_key(st, txn, DB_BODY, key, KEY_LEN)) == 0 &&
		    (rc = del_key(st, txn, DB_NOBODY, key, KEY_LEN)) == 0 &&
		    h->expiry != 0)
			rc = del_key(st, txn, DB_EXPIRY, ek, EXPKEY_LEN);
	}
	return rc;
}

/* Put ${entity}'s state ${s}, and its merge cache if there is one. */
static int
write_state(struct store *st, MDB_txn *txn, const uint8_t *entity,
    const struct state *s, const uint8_t *cache, size_t clen)
{
	MDB_val k = { KITH_ENTITY_LEN, (void *)entity }, v;
	size_t len;
	int rc;

	v.mv_data = (void *)state_encoded(s, &len);
	v.mv_size = len;
	if ((rc = mdb_err(mdb_put(txn, st->dbi[DB_STATE], &k, &v, 0))) != 0)
		return rc;
	if (cache == NULL)
		return del_key(st, txn, DB_MERGE, entity, KITH_ENTITY_LEN);
	v = (MDB_val){ clen, (void *)cache };
	return mdb_err(mdb_put(txn, st->dbi[DB_MERGE], &k, &v, 0));
}

/* Store the state computed from ${recs}, all of one entity's records. */
static int
put_state(struct store *st, MDB_txn *txn, const struct roster *roster,
    struct record *const *recs, size_t n)
{
	struct state *s = NULL, *old;
	const uint8_t *entity = record_header(recs[0])->entity;
	uint8_t kk[KINDKEY_LEN], *cache = NULL;
	MDB_val k = { KITH_ENTITY_LEN, (void *)entity };
	MDB_val v, kkv = { KINDKEY_LEN, kk };
	size_t clen = 0;
	int rc, need_kind = 0;

	/* Only large entities keep a merge cache: small ones cost little. */
	rc = state_compute_cached(recs, n, roster, &s, n >= st->cache_min ?
	    &cache : NULL, &clen);
	if (rc == KITH_ENOGENESIS || rc == KITH_ENOTFOUND) {
		/*
		 * Nothing applies: the entity waits, unseen, for its genesis
		 * (listed as an orphan) or for its creator's standing.
		 */
		int orphan = 0;

		/* Membership records that count for nothing are evidence. */
		for (size_t i = 0; i < n && rc == KITH_ENOGENESIS; i++)
			orphan |= !KITH_KIND_IS_MEMBERSHIP(
			    record_header(recs[i])->kind);
		if ((rc = drop_state(st, txn, entity)) != 0)
			return rc;
		return orphan ? put_empty(st, txn, DB_ORPHAN, entity,
		    KITH_ENTITY_LEN) : del_key(st, txn, DB_ORPHAN, entity,
		    KITH_ENTITY_LEN);
	}
	if (rc != 0)
		return rc;
	if ((rc = del_key(st, txn, DB_ORPHAN, entity, KITH_ENTITY_LEN)) != 0 ||
	    (rc = follow_erasure(st, txn, recs, n,
	    state_get(s, "erased") != NULL)) != 0)
		goto out;
	/*
	 * The kind comes from the genesis and never changes, but an entity
	 * has one kind entry, so if it is there, it is not written again
	 * (which would dirty its page).
	 */
	kind_key(kk, state_kind(s), entity);
	if ((rc = mdb_get(txn, st->dbi[DB_KIND], &kkv, &v)) == MDB_NOTFOUND) {
		if (mdb_get(txn, st->dbi[DB_STATE], &k, &v) == 0 &&
		    state_decode(v.mv_data, v.mv_size, &old) == 0) {
			kind_key(kk, state_kind(old), entity);
			rc = del_key(st, txn, DB_KIND, kk, KINDKEY_LEN);
			state_free(old);
			if (rc != 0)
				goto out;
			kind_key(kk, state_kind(s), entity);
		}
		need_kind = 1;
	} else if (rc != 0) {
		rc = mdb_err(rc);
		goto out;
	}
	if ((rc = write_state(st, txn, entity, s, cache, clen)) == 0 &&
	    need_kind)
		rc = put_empty(st, txn, DB_KIND, kk, KINDKEY_LEN);
out:
	free(cache);
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
	else if (rc == KITH_ENOTFOUND && (rc = drop_state(st, txn,
	    entity)) == 0)
		/* None left intact: no state until good copies come. */
		rc = del_key(st, txn, DB_ORPHAN, entity, KITH_ENTITY_LEN);
	store_records_free(recs, n);
	return rc;
}

/*
 * Take ${rec}, just inserted, into its entity's state: through the
 * entity's merge cache, at the cost of what it changes, when state_add
 * can; else by computing the entity afresh.
 */
static int
update_state(struct store *st, MDB_txn *txn, const struct roster *roster,
    const struct record *rec)
{
	const uint8_t *entity = record_header(rec)->entity;
	MDB_val k = { KITH_ENTITY_LEN, (void *)entity }, v;
	struct state *s = NULL;
	uint8_t *cache = NULL;
	size_t clen = 0;
	int rc;

	if ((rc = mdb_get(txn, st->dbi[DB_MERGE], &k, &v)) == MDB_NOTFOUND)
		return recompute(st, txn, roster, entity);
	if (rc != 0)
		return mdb_err(rc);
	rc = state_add(v.mv_data, v.mv_size, rec, roster, &s, &cache, &clen);
	if (rc == 0)
		rc = write_state(st, txn, entity, s, cache, clen);
	else if (rc == 1)
		rc = 0;		/* nothing moved */
	else if (rc == 2)
		rc = recompute(st, txn, roster, entity);
	free(cache);
	state_free(s);
	return rc;
}

/*
 * A chain source over the seq and forks databases, within one
 * transaction (chain.h).
 */
struct txn_chains {
	struct store *st;
	MDB_txn *txn;
};

static int
chains_at(void *arg, const uint8_t key[KITH_KEY_LEN], uint64_t seq,
    struct chain_link *out, size_t max, size_t *n)
{
	struct txn_chains *tc = arg;
	uint8_t sk[SEQKEY_LEN];
	MDB_val k = { SEQKEY_LEN, sk }, v;
	MDB_cursor *cur;
	int rc, op;

	*n = 0;
	memcpy(sk, key, KITH_KEY_LEN);
	put_be64(sk + KITH_KEY_LEN, seq);
	if ((rc = mdb_cursor_open(tc->txn, tc->st->dbi[DB_SEQ], &cur)) != 0)
		return mdb_err(rc);
	for (op = MDB_SET; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT_DUP) {
		if (v.mv_size != SEQVAL_LEN) {
			rc = KITH_ECORRUPT;
			break;
		}
		if (*n < max) {
			memcpy(out[*n].id, v.mv_data, KITH_ID_LEN);
			memcpy(out[*n].prev, (uint8_t *)v.mv_data + KITH_ID_LEN,
			    KITH_ID_LEN);
		}
		(*n)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc == KITH_ECORRUPT ? rc : mdb_err(rc);
}

static int
chains_fork(void *arg, const uint8_t key[KITH_KEY_LEN], uint64_t *seq)
{
	struct txn_chains *tc = arg;
	MDB_val k = { KITH_KEY_LEN, (void *)key }, v;
	int rc;

	*seq = 0;
	rc = mdb_get(tc->txn, tc->st->dbi[DB_FORKS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mdb_err(rc);
	if (v.mv_size != 8)
		return KITH_ECORRUPT;
	*seq = get_be64(v.mv_data);
	return 0;
}

/* Called by walk for each key and value; non-zero stops. */
typedef int walk_fn(void *arg, const MDB_val *k, const MDB_val *v);

/*
 * Call ${fn} for every entry of database ${db} within ${txn}, in key
 * order.  A key that is not ${klen} bytes (0: any length) is
 * KITH_ECORRUPT.  Return 0, ${fn}'s non-zero result, or a store error.
 */
static int
walk_txn(struct store *st, MDB_txn *txn, int db, size_t klen, walk_fn *fn,
    void *arg)
{
	MDB_val k, v;
	MDB_cursor *cur;
	int rc, op;

	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[db], &cur))) != 0)
		return rc;
	for (op = MDB_FIRST; ; op = MDB_NEXT) {
		if ((rc = mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
			if (rc == KITH_ENOTFOUND)
				rc = 0;
			break;
		}
		if (klen != 0 && k.mv_size != klen) {
			rc = KITH_ECORRUPT;
			break;
		}
		if ((rc = fn(arg, &k, &v)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc;
}

/* As walk_txn, in a read transaction of its own, for keys of any length. */
static int
walk(struct store *st, int db, walk_fn *fn, void *arg)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = walk_txn(st, txn, db, 0, fn, arg);
	mdb_txn_abort(txn);
	return rc;
}

/* Records read by key into a growing array (roster_load). */
struct loaded {
	struct store *st;
	MDB_txn *txn;
	struct record **recs;
	size_t n, cap;
};

static int
load_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct loaded *l = arg;
	struct record **bigger;
	int rc;

	(void)v;
	if (l->n == l->cap) {
		if ((bigger = realloc(l->recs, (l->cap * 2 + 16) *
		    sizeof(*l->recs))) == NULL)
			return KITH_ENOMEM;
		l->recs = bigger;
		l->cap = l->cap * 2 + 16;
	}
	if ((rc = load_key(l->st, l->txn, k->mv_data, &l->recs[l->n])) ==
	    KITH_ECORRUPT)
		return 0;	/* noted for store_mend */
	if (rc != 0)
		return rc;
	l->n++;
	return 0;
}

/* Compute the roster afresh, within ${txn}, from records read by kind. */
static int
roster_load(struct store *st, MDB_txn *txn, struct roster **out)
{
	struct txn_chains tc = { st, txn };
	struct chain_src src = { chains_at, chains_fork, &tc };
	struct loaded l = { st, txn, NULL, 0, 0 };
	int rc;

	if ((rc = walk_txn(st, txn, DB_MSHIP, KEY_LEN, load_one, &l)) == 0)
		rc = roster_compute(l.recs, l.n, &src, out);
	store_records_free(l.recs, l.n);
	return rc;
}

/* The membership generation: it moves whenever the roster may have. */
static uint64_t
roster_gen(struct store *st, MDB_txn *txn)
{
	MDB_val v;

	if (meta_get(st, txn, "rgen", &v) != 0 || v.mv_size != 8)
		return 0;
	return get_be64(v.mv_data);
}

static int
roster_gen_bump(struct store *st, MDB_txn *txn)
{
	uint8_t b[8];

	put_be64(b, roster_gen(st, txn) + 1);
	return meta_put(st, txn, "rgen", b, 8);
}

/*
 * The roster for a write transaction, borrowed: the handle's cached one
 * while no transaction of any process has moved the generation since.
 */
static int
roster_cached(struct store *st, MDB_txn *txn, const struct roster **out)
{
	struct roster *r;
	uint64_t gen = roster_gen(st, txn);
	int rc;

	if (st->roster == NULL || st->roster_gen != gen) {
		if ((rc = roster_load(st, txn, &r)) != 0)
			return rc;
		roster_free(st->roster);
		st->roster = r;
		st->roster_gen = gen;
	}
	*out = st->roster;
	return 0;
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

/* Append ${entity} to the list ${*ents} of ${*n}. */
static int
ents_add(uint8_t (**ents)[KITH_ENTITY_LEN], size_t *n, size_t *cap,
    const uint8_t *entity)
{
	uint8_t (*bigger)[KITH_ENTITY_LEN];

	if (*n == *cap) {
		if ((bigger = realloc(*ents, (*cap * 2 + 16) *
		    KITH_ENTITY_LEN)) == NULL)
			return KITH_ENOMEM;
		*ents = bigger;
		*cap = *cap * 2 + 16;
	}
	memcpy((*ents)[(*n)++], entity, KITH_ENTITY_LEN);
	return 0;
}

/*
 * Recompute every entity that ${author} has a record in, and its member
 * entity, whose state is its roster entry.
 */
static int
recompute_author(struct store *st, MDB_txn *txn, const struct roster *roster,
    const uint8_t *author)
{
	uint8_t sk[SEQKEY_LEN] = { 0 }, key[KEY_LEN];
	uint8_t (*ents)[KITH_ENTITY_LEN] = NULL, ment[KITH_ENTITY_LEN];
	struct record *rec = NULL;
	MDB_val k = { SEQKEY_LEN, sk }, v, hv, rk = { KEY_LEN, key };
	MDB_cursor *cur;
	size_t n = 0, cap = 0;
	int rc, op;

	memcpy(sk, author, KITH_KEY_LEN);
	roster_member_entity(author, ment);
	if ((rc = ents_add(&ents, &n, &cap, ment)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_SEQ], &cur))) != 0) {
		free(ents);
		return rc;
	}
	for (op = MDB_SET_RANGE; ; op = MDB_NEXT) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0) {
			rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
			break;
		}
		if (k.mv_size != SEQKEY_LEN ||
		    memcmp(k.mv_data, author, KITH_KEY_LEN) != 0)
			break;
		if (v.mv_size != SEQVAL_LEN) {
			rc = KITH_ECORRUPT;
			break;
		}
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
		rc = ents_add(&ents, &n, &cap, record_header(rec)->entity);
		record_free(rec);
		rec = NULL;
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == 0)
		rc = recompute_each(st, txn, roster, ents, n);
	free(ents);
	return rc;
}

/*
 * Membership records, or an author's fork point, changed within ${txn}:
 * move the generation on, compute the roster again and, for each key
 * whose standing moved, recompute the entities it wrote in, so records
 * wait or apply exactly as the new roster says.  ${*roster} becomes the
 * new roster (the handle's cached one, borrowed).
 */
static int
roster_refresh(struct store *st, MDB_txn *txn, const struct roster **roster)
{
	struct roster *old = st->roster;
	const struct roster *nr, *sides[2];
	size_t s, i;
	int rc;

	st->roster = NULL;	/* the old one is ours to compare, then free */
	if ((rc = roster_gen_bump(st, txn)) != 0 ||
	    (rc = roster_cached(st, txn, &nr)) != 0) {
		roster_free(old);
		return rc;
	}
	sides[0] = old;
	sides[1] = nr;
	for (s = 0; s < 2 && rc == 0; s++) {
		if (sides[s] == NULL)
			continue;
		for (i = 0; i < roster_size(sides[s]) && rc == 0; i++) {
			const uint8_t *key = roster_get(sides[s], i)->key;

			/* Keys in both are visited once, from the new side. */
			if (s == 0 && roster_find(nr, key) != NULL)
				continue;
			if (roster_changed(old, nr, key))
				rc = recompute_author(st, txn, nr, key);
		}
	}
	roster_free(old);
	*roster = nr;
	return rc;
}

/* Read the links of ${author} at ${seq} (chains_at within ${txn}). */
static int
links_at(struct store *st, MDB_txn *txn, const uint8_t *author, uint64_t seq,
    struct chain_link *out, size_t *n)
{
	struct txn_chains tc = { st, txn };

	*n = 0;
	if (seq == 0)
		return 0;
	if (chains_at(&tc, author, seq, out, CHAIN_AT_MAX, n) != 0)
		return KITH_ECORRUPT;
	if (*n > CHAIN_AT_MAX)
		*n = CHAIN_AT_MAX;
	return 0;
}

/*
 * Fold the fork evidence of a new record (${h}, ${id}) into its author's
 * fork point; set ${*moved} if the point moved (the roster then changes).
 * Call before the record is in the seq database.
 */
static int
note_forks(struct store *st, MDB_txn *txn, const struct record_header *h,
    const uint8_t *id, int *forked, int *moved)
{
	struct chain_link self, same[CHAIN_AT_MAX], below[CHAIN_AT_MAX],
	    above[CHAIN_AT_MAX];
	struct txn_chains tc = { st, txn };
	uint64_t at, cur;
	uint8_t b[8];
	MDB_val k = { KITH_KEY_LEN, (void *)h->author }, v = { 8, b };
	size_t ns, nb, na;
	int rc;

	memcpy(self.id, id, KITH_ID_LEN);
	memcpy(self.prev, h->prev, KITH_ID_LEN);
	if ((rc = links_at(st, txn, h->author, h->seq, same, &ns)) != 0 ||
	    (rc = links_at(st, txn, h->author, h->seq - 1, below, &nb)) != 0 ||
	    (rc = links_at(st, txn, h->author, h->seq + 1, above, &na)) != 0)
		return rc;
	*forked = ns > 0;
	*moved = 0;
	if ((at = chain_fork_evidence(h->seq, &self, same, ns, below, nb,
	    above, na)) == 0)
		return 0;
	if ((rc = chains_fork(&tc, h->author, &cur)) != 0)
		return rc;
	if (cur != 0 && cur <= at)
		return 0;
	put_be64(b, at);
	*moved = 1;
	return mdb_err(mdb_put(txn, st->dbi[DB_FORKS], &k, &v, 0));
}

/* What insert found out. */
struct insert {
	int forked;		/* it reuses a sequence number */
	int fork_moved;		/* its author's fork point moved */
	int body;		/* a body came for a record held without one */
	int replaced;		/* it replaced a damaged held copy */
};

/*
 * Is the copy held at ${key} of ${rec} (whose id is held) damaged where
 * ${rec} can mend it?  Set ${*header} if the stored signed header is
 * missing or does not hash to the id, ${*body} if ${rec} carries a body
 * and the stored one fails its hash.
 */
static int
held_damage(struct store *st, MDB_txn *txn, const struct record *rec,
    const uint8_t key[KEY_LEN], int *header, int *body)
{
	const struct record_header *h = record_header(rec);
	MDB_val k = { KEY_LEN, (void *)key }, v;
	uint8_t hash[KITH_HASH_LEN];
	size_t blen;
	int rc;

	*header = *body = 0;
	if ((rc = mdb_get(txn, st->dbi[DB_REC], &k, &v)) == MDB_NOTFOUND) {
		*header = 1;
		return 0;
	}
	if (rc != 0)
		return mdb_err(rc);
	kcrypto_hash(hash, v.mv_data, v.mv_size);
	*header = memcmp(hash, record_id(rec), KITH_HASH_LEN) != 0;
	if (record_body(rec, &blen) == NULL)
		return 0;
	if ((rc = mdb_get(txn, st->dbi[DB_BODY], &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mdb_err(rc);
	kcrypto_hash(hash, v.mv_data, v.mv_size);
	*body = v.mv_size != h->body_len ||
	    memcmp(hash, h->body_hash, KITH_HASH_LEN) != 0;
	return 0;
}

/*
 * The held copy of ${rec} at ${key} is damaged: put ${rec}'s bytes in
 * its place.  The indexes were built from the good header, which these
 * bytes are.  Sets ${in}->replaced, and ${in}->body if a body changed.
 */
static int
replace_damaged(struct store *st, MDB_txn *txn, const struct record *rec,
    const uint8_t key[KEY_LEN], struct insert *in)
{
	MDB_val k = { KEY_LEN, (void *)key }, v;
	const uint8_t *p;
	size_t len;
	int rc, header, body;

	if ((rc = held_damage(st, txn, rec, key, &header, &body)) != 0)
		return rc;
	if (header) {
		p = record_signed(rec, &len);
		v = (MDB_val){ len, (void *)p };
		if ((rc = mdb_err(mdb_put(txn, st->dbi[DB_REC], &k, &v,
		    0))) != 0)
			return rc;
		in->replaced = 1;
	}
	if (body) {
		p = record_body(rec, &len);
		v = (MDB_val){ len, (void *)p };
		if ((rc = mdb_err(mdb_put(txn, st->dbi[DB_BODY], &k, &v,
		    0))) != 0)
			return rc;
		in->replaced = in->body = 1;
	}
	return 0;
}

/*
 * Give a record held without its body the body ${rec} carries, if the
 * entity still wants it (not erased, not expired).  Sets ${in}->body.
 */
static int
fill_body(struct store *st, MDB_txn *txn, const struct record *rec,
    const uint8_t key[KEY_LEN], struct insert *in)
{
	const struct record_header *h = record_header(rec);
	uint8_t ek[EXPKEY_LEN];
	MDB_val k = { KEY_LEN, (void *)key }, v;
	const uint8_t *body;
	size_t blen;
	int rc, wanted;

	if ((body = record_body(rec, &blen)) == NULL || expired_now(h) ||
	    (rc = has_key(st, txn, DB_NOBODY, key, KEY_LEN, &wanted)) != 0 ||
	    !wanted)
		return 0;
	v = (MDB_val){ blen, (void *)body };
	if ((rc = mdb_err(mdb_put(txn, st->dbi[DB_BODY], &k, &v, 0))) != 0 ||
	    (rc = del_key(st, txn, DB_NOBODY, key, KEY_LEN)) != 0)
		return rc;
	expiry_key(ek, h->expiry, key);
	if (h->expiry != 0 &&
	    (rc = put_empty(st, txn, DB_EXPIRY, ek, EXPKEY_LEN)) != 0)
		return rc;
	in->body = 1;
	return 0;
}

/*
 * Insert one record within ${txn}.  Return 0, KITH_EEXIST if its id is held
 * already (filling in its body if it was held without one and is wanted),
 * or a store error.
 */
static int index_record(struct store *, MDB_txn *, const struct record *,
    const uint8_t [KEY_LEN], int, struct insert *);

static int
insert(struct store *st, MDB_txn *txn, const struct record *rec,
    struct insert *in)
{
	const struct record_header *h = record_header(rec);
	const uint8_t *id = record_id(rec), *sh;
	uint8_t key[KEY_LEN], hlcb[8];
	MDB_val k, v;
	size_t shlen;
	int rc;

	memset(in, 0, sizeof(*in));
	put_be64(hlcb, h->hlc);
	make_key(key, h->hlc, id);
	k = (MDB_val){ KITH_ID_LEN, (void *)id };
	v = (MDB_val){ 8, hlcb };
	if ((rc = mdb_put(txn, st->dbi[DB_IDS], &k, &v, MDB_NOOVERWRITE)) != 0) {
		if (rc != MDB_KEYEXIST)
			return mdb_err(rc);
		/* Held: mend a damaged copy; fill in a wanted body. */
		if ((rc = replace_damaged(st, txn, rec, key, in)) != 0 ||
		    (rc = fill_body(st, txn, rec, key, in)) != 0)
			return rc;
		return KITH_EEXIST;
	}
	sh = record_signed(rec, &shlen);
	k = (MDB_val){ KEY_LEN, key };
	v = (MDB_val){ shlen, (void *)sh };
	if ((rc = mdb_put(txn, st->dbi[DB_REC], &k, &v, MDB_APPEND)) ==
	    MDB_KEYEXIST)
		/* Not the last key: an ordinary insert. */
		rc = mdb_put(txn, st->dbi[DB_REC], &k, &v, 0);
	if (rc != 0)
		return mdb_err(rc);
	return index_record(st, txn, rec, key, 0, in);
}

/*
 * Index ${rec}, whose signed header is stored at ${key} (and whose body,
 * if it carries one and ${stored}, is stored already): its body or the
 * want of one, entity versions, the author's chain, membership, audience
 * and the change log.
 */
static int
index_record(struct store *st, MDB_txn *txn, const struct record *rec,
    const uint8_t key[KEY_LEN], int stored, struct insert *in)
{
	const struct record_header *h = record_header(rec);
	const uint8_t *id = record_id(rec), *body;
	uint8_t sk[SEQKEY_LEN], sv[SEQVAL_LEN];
	uint8_t ak[AUDKEY_LEN], ek[EXPKEY_LEN], cnt[8];
	MDB_cursor *cur;
	MDB_val k = { KEY_LEN, (void *)(uintptr_t)key }, v;
	size_t blen;
	unsigned i, j;
	int rc, denied;

	if ((rc = has_key(st, txn, DB_DENY, h->entity, KITH_ENTITY_LEN,
	    &denied)) != 0)
		return rc;
	/* An erased entity takes no bodies but an erase record's. */
	denied = denied && h->kind != KITH_KIND_ERASE;
	body = record_body(rec, &blen);
	if (body != NULL && stored) {
		expiry_key(ek, h->expiry, key);
		if (h->expiry != 0 && (rc = put_empty(st, txn, DB_EXPIRY, ek,
		    EXPKEY_LEN)) != 0)
			return rc;
	} else if (body != NULL && !denied && !expired_now(h)) {
		v = (MDB_val){ blen, (void *)body };
		if ((rc = mdb_err(mdb_put(txn, st->dbi[DB_BODY], &k, &v,
		    0))) != 0)
			return rc;
		expiry_key(ek, h->expiry, key);
		if (h->expiry != 0 && (rc = put_empty(st, txn, DB_EXPIRY, ek,
		    EXPKEY_LEN)) != 0)
			return rc;
	} else if (body == NULL && !denied && !expired_now(h) &&
	    (rc = put_empty(st, txn, DB_NOBODY, key, KEY_LEN)) != 0)
		return rc;
	/* Entity versions. */
	k = (MDB_val){ KITH_ENTITY_LEN, (void *)h->entity };
	v = (MDB_val){ KEY_LEN, (void *)(uintptr_t)key };
	if ((rc = mdb_put(txn, st->dbi[DB_ENT], &k, &v, 0)) != 0)
		return mdb_err(rc);
	/* The author's chain: forks are noted before the record joins it. */
	if ((rc = note_forks(st, txn, h, id, &in->forked,
	    &in->fork_moved)) != 0)
		return rc;
	memcpy(sk, h->author, KITH_KEY_LEN);
	put_be64(sk + KITH_KEY_LEN, h->seq);
	memcpy(sv, id, KITH_ID_LEN);
	memcpy(sv + KITH_ID_LEN, h->prev, KITH_ID_LEN);
	k = (MDB_val){ SEQKEY_LEN, sk };
	v = (MDB_val){ SEQVAL_LEN, sv };
	if ((rc = mdb_put(txn, st->dbi[DB_SEQ], &k, &v, 0)) != 0)
		return mdb_err(rc);
	/* Membership by record kind; a scope by audience. */
	if (KITH_KIND_IS_MEMBERSHIP(h->kind) &&
	    (rc = put_empty(st, txn, DB_MSHIP, key, KEY_LEN)) != 0)
		return rc;
	for (i = 0; i < h->naudience; i++) {
		for (j = 0; j < i; j++)
			if (memcmp(h->audience[j], h->audience[i],
			    KITH_KEY_LEN) == 0)
				break;
		if (j < i)
			continue;
		memcpy(ak, h->audience[i], KITH_KEY_LEN);
		memcpy(ak + KITH_KEY_LEN, key, KEY_LEN);
		if ((rc = put_empty(st, txn, DB_AUD, ak, AUDKEY_LEN)) != 0)
			return rc;
	}
	/*
	 * The change log: the next counter, in this transaction.  Writers are
	 * serialised, so counters follow commit order and a reader's snapshot
	 * holds every entry up to its last (store_log_read).
	 */
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_LOG], &cur)) != 0)
		return mdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_err(rc);
	put_be64(cnt, (rc == 0 && k.mv_size == 8 ? get_be64(k.mv_data) : 0) +
	    1);
	k = (MDB_val){ 8, cnt };
	v = (MDB_val){ KEY_LEN, (void *)(uintptr_t)key };
	if ((rc = mdb_put(txn, st->dbi[DB_LOG], &k, &v, MDB_APPEND)) != 0)
		return mdb_err(rc);
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
 * May ${rec} join its entity now?  An entity holds at most KITH_ENTITY_MAX
 * records, and its state at most KITH_ENTITY_FIELDS fields; past half of
 * either it takes more only from its creator or an admin, so that no
 * other member can fill it up or make every later record of it costly.
 * The stored state may lack records of the batch in hand that write at
 * most ${unsettled} fields: they count as that many new names, and the
 * caller settles the state and asks again when that makes the answer no.
 * Set ${*fields} to the number of fields ${rec}'s body writes.  Return 0,
 * KITH_EFULL or KITH_EFIELDS.
 */
static int
room_for(struct store *st, MDB_txn *txn, const struct roster *roster,
    const struct record *rec, size_t unsettled, size_t *fields)
{
	const struct record_header *h = record_header(rec);
	MDB_val k = { KITH_ENTITY_LEN, (void *)h->entity }, v;
	struct state *s = NULL;
	struct body *b = NULL;
	MDB_cursor *cur;
	const uint8_t *p;
	size_t count = 0, names = 0, i, len;
	int rc, privileged = 0, over;

	if ((rc = mdb_cursor_open(txn, st->dbi[DB_ENT], &cur)) != 0)
		return mdb_err(rc);
	if (mdb_cursor_get(cur, &k, &v, MDB_SET) == 0)
		(void)mdb_cursor_count(cur, &count);
	mdb_cursor_close(cur);
	if (mdb_get(txn, st->dbi[DB_STATE], &k, &v) == 0 &&
	    state_decode(v.mv_data, v.mv_size, &s) == 0) {
		names = state_nfields(s);
		privileged = memcmp(state_creator(s), h->author,
		    KITH_KEY_LEN) == 0;
	}
	names += unsettled;
	/* The fields it would add. */
	*fields = 0;
	if ((p = record_body(rec, &len)) != NULL &&
	    body_decode(p, len, &b) == 0) {
		*fields = body_nfields(b);
		for (i = 0; i < body_nfields(b); i++)
			names += s == NULL ||
			    state_get(s, body_field(b, i)->name) == NULL;
	}
	body_free(b);
	state_free(s);
	rc = count >= KITH_ENTITY_MAX / 2 ? KITH_EFULL :
	    names > KITH_ENTITY_FIELDS / 2 ? KITH_EFIELDS : 0;
	over = count >= KITH_ENTITY_MAX || names > KITH_ENTITY_FIELDS;
	if (rc == 0 || over)
		return rc;
	if (!privileged && roster != NULL)
		privileged = roster_admin(roster, h, record_id(rec));
	return privileged ? 0 : rc;
}

/* Is record ${id} held (in any form)? */
static int
held(struct store *st, MDB_txn *txn, const uint8_t *id)
{
	int yes;

	return has_key(st, txn, DB_IDS, id, KITH_ID_LEN, &yes) == 0 && yes;
}

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
static int merge_bound(struct store *, MDB_txn *, uint64_t *);

struct apply {
	struct store *st;
	MDB_txn *txn;
	struct record *const *pending;
	int *rcs;
	size_t *first;		/* each record's first record of its entity */
	unsigned char *last;	/* no later pending record of its entity */
	unsigned char *dirty;	/* by first: a record of the entity was added */
	unsigned char *whole;	/* by first: more than one, or a body came */
	size_t *added;		/* by first: the record added, if only one */
	size_t *unsettled;	/* by first: fields the dirty records write */
	uint64_t clock;
	uint64_t wall, bound;	/* the clock's merge bound (merge_bound) */
	struct store_result *res;
	const struct roster *roster;	/* the handle's, borrowed */
	size_t nmship;		/* records [0, nmship) are membership records */
	int members;		/* membership records, or a fork point, moved */
};

/*
 * Bring the state of the entity whose first pending record is ${f} up to
 * date with what the batch added to it: one new record, what it changes;
 * more, or a body, the entity afresh.
 */
static int
settle(struct apply *a, size_t f)
{
	const struct record *rec = a->pending[a->added[f]];

	if (!a->dirty[f])
		return 0;
	a->dirty[f] = 0;
	a->unsettled[f] = 0;
	if (a->whole[f]) {
		a->whole[f] = 0;
		return recompute(a->st, a->txn, a->roster,
		    record_header(rec)->entity);
	}
	return update_state(a->st, a->txn, a->roster, rec);
}

/*
 * Insert pending record ${i} if its signature verified (${rc} is 0).  Its
 * room is judged on the state its entity has with the batch's earlier
 * records in it, as if they had come in batches of their own: so that
 * where a batch ends changes nothing.  The state is settled for that only
 * when those records could make the difference, near an entity's limits.
 */
static int
apply_one(void *arg, size_t i, int rc)
{
	struct apply *a = arg;
	const struct record *rec = a->pending[i];
	const struct record_header *h = record_header(rec);
	size_t f = a->first[i], fields = 0;
	struct insert in;
	int rrc;

	/* The batch's other records see the roster its membership makes. */
	if (i >= a->nmship && a->members) {
		a->members = 0;
		if ((rrc = roster_refresh(a->st, a->txn, &a->roster)) != 0)
			return rrc;
	}
	if (rc == 0 && !held(a->st, a->txn, record_id(rec)) &&
	    (rc = room_for(a->st, a->txn, a->roster, rec,
	    a->unsettled[f], &fields)) != 0 && a->dirty[f]) {
		if ((rrc = settle(a, f)) != 0)
			return rrc;
		rc = room_for(a->st, a->txn, a->roster, rec, 0, &fields);
	}
	if ((a->rcs[i] = rc) == 0) {
		rc = insert(a->st, a->txn, rec, &in);
		if (rc == KITH_EEXIST) {
			a->rcs[i] = KITH_EEXIST;
			a->res->duplicate += !in.replaced;
			a->res->replaced += in.replaced;
			a->res->bodies += in.body && !in.replaced;
		} else if (rc != 0) {
			return rc;
		} else {
			a->res->added++;
			a->res->forks += in.forked;
			/* Checked on the way in: it is not EFUTURE now. */
			(void)hlc_merge(&a->clock, h->hlc, a->wall, a->bound);
		}
		if (rc == 0 || in.body) {
			a->whole[f] |= a->dirty[f] || in.body;
			a->dirty[f] = 1;
			a->added[f] = i;
			a->unsettled[f] += fields;
			a->members |= KITH_KIND_IS_MEMBERSHIP(h->kind) ||
			    in.fork_moved;
		}
	}
	return a->last[i] ? settle(a, f) : 0;
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
    size_t nmship, const int *verified, int *rcs, struct store_result *res)
{
	struct apply a = { st, NULL, pending, rcs, NULL, NULL, NULL, NULL, NULL,
	    NULL, 0, 0, 0, res, NULL, nmship, 0 };
	const struct record_header *h;
	size_t *prev = NULL, i;
	int rc = KITH_ENOMEM;

	if ((prev = malloc((n ? n : 1) * sizeof(*prev))) == NULL ||
	    (a.first = malloc((n ? n : 1) * sizeof(*a.first))) == NULL ||
	    (a.last = malloc(n ? n : 1)) == NULL ||
	    (a.dirty = calloc(n ? n : 1, 1)) == NULL ||
	    (a.whole = calloc(n ? n : 1, 1)) == NULL ||
	    (a.added = calloc(n ? n : 1, sizeof(*a.added))) == NULL ||
	    (a.unsettled = calloc(n ? n : 1, sizeof(*a.unsettled))) == NULL ||
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
	a.wall = hlc_wall_ms();
	if ((rc = merge_bound(st, a.txn, &a.bound)) != 0 ||
	    (rc = roster_cached(st, a.txn, &a.roster)) != 0) {
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
	for (i = 0; rc == 0 && i < n; i++) {
		if (pending[i] == NULL || rcs[i] != 0)
			continue;
		h = record_header(pending[i]);
		res->held += !KITH_KIND_IS_MEMBERSHIP(h->kind) &&
		    roster_standing(a.roster, h, record_id(pending[i])) != 0;
	}
	if (rc != 0 || (rc = clock_put(st, a.txn, a.clock)) != 0)
		mdb_txn_abort(a.txn);
	else
		rc = txn_commit(st, a.txn);
	if (rc != 0) {
		/* What this transaction computed never happened. */
		roster_free(st->roster);
		st->roster = NULL;
	}
out:
	free(prev);
	free(a.first);
	free(a.last);
	free(a.dirty);
	free(a.whole);
	free(a.added);
	free(a.unsettled);
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
	uint8_t key[KEY_LEN];
	size_t i, k2, blen;
	int rc, wanted;

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
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		/*
		 * Held; unless it came with a body this store wants, or the
		 * held copy is damaged (then it is a replacement).
		 */
		wanted = 0;
		if (v.mv_size == 8) {
			int hdr = 0, bod = 0;

			make_key(key, get_be64(v.mv_data), record_id(recs[i]));
			if (record_body(recs[i], &blen) != NULL &&
			    (rc = has_key(st, txn, DB_NOBODY, key, KEY_LEN,
			    &wanted)) != 0)
				break;
			if (!wanted && (rc = held_damage(st, txn, recs[i], key,
			    &hdr, &bod)) != 0)
				break;
			wanted |= hdr || bod;
		}
		if (!wanted)
			rcs[i] = KITH_EEXIST;
	}
	mdb_txn_abort(txn);
	return rc;
}

/*
 * A body, if present, must decode, so no junk spreads and the caps hold;
 * and it may not carry personal fields in the clear (version 1's "p").
 */
static int
body_ok(const struct record *rec)
{
	struct body *b;
	const uint8_t *p;
	size_t len, i;
	int rc;

	if ((p = record_body(rec, &len)) == NULL)
		return 0;
	if ((rc = body_decode(p, len, &b)) != 0)
		return rc;
	for (i = 0; i < body_nfields(b) && rc == 0; i++)
		if (body_field(b, i)->personal)
			rc = KITH_EINVAL;
	body_free(b);
	return rc;
}

/*
 * store_apply and store_apply_verified: ${verified_in} NULL for the former.
 * If ${outcome} is not NULL, it gets each record's outcome (it may be
 * ${verified_in}).
 *
 * Membership records go first: an erasure or an edit in the same batch as
 * the revocation that takes its author's standing away is judged by the
 * roster with that revocation, and never applies for a moment (an erasure
 * that did would drop bodies that only other nodes could bring back).
 */
static int
apply(struct store *st, struct record *const *in, size_t n,
    const int *verified_in, int *outcome, struct store_result *res,
    store_reject_fn *reject, void *arg)
{
	struct record **recs = NULL, **pending = NULL;
	uint8_t net[KITH_NETWORK_LEN];
	uint64_t wall = hlc_wall_ms();
	size_t *pos = NULL, nmship = 0, i, k;
	int *rcs = NULL, *verified = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	if (n == 0)
		return 0;
	if (st->rdonly)
		return KITH_EINVAL;
	if ((rc = store_network(st, net)) != 0)
		return rc == KITH_ENOTFOUND ? KITH_ENETWORK : rc;
	if ((rcs = calloc(n, sizeof(*rcs))) == NULL ||
	    (pending = calloc(n, sizeof(*pending))) == NULL ||
	    (recs = calloc(n, sizeof(*recs))) == NULL ||
	    (pos = calloc(n, sizeof(*pos))) == NULL ||
	    (verified_in != NULL &&
	    (verified = calloc(n, sizeof(*verified))) == NULL)) {
		rc = KITH_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (KITH_KIND_IS_MEMBERSHIP(record_header(in[i])->kind))
			pos[nmship++] = i;
	for (i = 0, k = nmship; i < n; i++)
		if (!KITH_KIND_IS_MEMBERSHIP(record_header(in[i])->kind))
			pos[k++] = i;
	for (i = 0; i < n; i++) {
		recs[i] = in[pos[i]];
		if (verified != NULL)
			verified[i] = verified_in[pos[i]];
	}
	/* Cheap checks first. */
	for (i = 0; i < n; i++) {
		if (verified != NULL && verified[i] == KITH_EEXIST)
			rcs[i] = KITH_EEXIST;
		else if (!network_ok(st, recs[i]))
			rcs[i] = KITH_ENETWORK;
		else if (hlc_check(record_header(recs[i])->hlc, wall) != 0)
			rcs[i] = KITH_EFUTURE;
		else
			rcs[i] = body_ok(recs[i]);
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
		rc = apply_txn(st, pending, n, nmship, verified, rcs, res);
	} while (rc == KITH_EMAPFULL && (rc = grow(st)) == 0);
	if (rc != 0) {
		memset(res, 0, sizeof(*res));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (outcome != NULL)
			outcome[pos[i]] = rcs[i];
		if (rcs[i] == 0 || rcs[i] == KITH_EEXIST)
			continue;
		res->rejected++;
		if (reject != NULL)
			reject(arg, recs[i], rcs[i]);
	}
out:
	free(rcs);
	free(pending);
	free(recs);
	free(pos);
	free(verified);
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

	return apply(st, recs, n, rcs, rcs, res, NULL, NULL);
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

/*
 * A scope from its indexes: the membership records and the records
 * addressed to ${key}, merged in (hlc, id) order, never a walk of every
 * header.
 */
int
store_scope(struct store *st, const uint8_t key[KITH_KEY_LEN],
    store_order_fn *fn, void *arg)
{
	MDB_cursor *cm = NULL, *ca = NULL;
	MDB_val km, ka, v;
	uint8_t ak[AUDKEY_LEN];
	const uint8_t *next;
	MDB_txn *txn;
	int rc, hm, ha, c;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_MSHIP], &cm))) !=
	    0 || (rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_AUD],
	    &ca))) != 0)
		goto out;
	memcpy(ak, key, KITH_KEY_LEN);
	memset(ak + KITH_KEY_LEN, 0, KEY_LEN);
	ka = (MDB_val){ AUDKEY_LEN, ak };
	hm = mdb_cursor_get(cm, &km, &v, MDB_FIRST) == 0;
	ha = mdb_cursor_get(ca, &ka, &v, MDB_SET_RANGE) == 0;
	for (;;) {
		if (ha && (ka.mv_size != AUDKEY_LEN ||
		    memcmp(ka.mv_data, key, KITH_KEY_LEN) != 0))
			ha = 0;
		if (hm && km.mv_size != KEY_LEN) {
			rc = KITH_ECORRUPT;
			break;
		}
		if (!hm && !ha)
			break;
		c = !ha ? -1 : !hm ? 1 : memcmp(km.mv_data,
		    (uint8_t *)ka.mv_data + KITH_KEY_LEN, KEY_LEN);
		next = c <= 0 ? km.mv_data :
		    (uint8_t *)ka.mv_data + KITH_KEY_LEN;
		if ((rc = fn(arg, get_be64(next), next + 8)) != 0)
			break;
		/* A membership record addressed to the key comes once. */
		if (c <= 0)
			hm = mdb_cursor_get(cm, &km, &v, MDB_NEXT) == 0;
		if (c >= 0)
			ha = mdb_cursor_get(ca, &ka, &v, MDB_NEXT) == 0;
	}
out:
	mdb_cursor_close(cm);
	mdb_cursor_close(ca);
	mdb_txn_abort(txn);
	return rc;
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

/*
 * A peer's value: version 1 was the five u64s alone (PEER_V1_LEN bytes).
 * From version 2 a version byte follows them, then the fields below;
 * later versions only append, so a reader takes the fields it knows.
 */
#define PEER_V1_LEN	(5 * 8)
#define PEER_VERSION	2
#define PEER_LEN	(PEER_V1_LEN + 1 + 8 + 8 + KITH_KEY_LEN + 8 + 8 + 8 + 1)

static void
peer_encode(uint8_t b[PEER_LEN], const struct store_peer *p)
{
	uint8_t *q = b + PEER_V1_LEN;

	put_be64(b, p->last_ok_ms);
	put_be64(b + 8, p->last_try_ms);
	put_be64(b + 16, (uint64_t)(int64_t)p->last_rc);
	put_be64(b + 24, p->received);
	put_be64(b + 32, p->sent);
	*q++ = PEER_VERSION;
	put_be64(q, p->refused);
	put_be64(q + 8, p->held);
	memcpy(q + 16, p->key, KITH_KEY_LEN);
	q += 16 + KITH_KEY_LEN;
	put_be64(q, p->clock_at);
	put_be64(q + 8, (uint64_t)p->offset_ms);
	put_be64(q + 16, p->offset_err_ms);
	q[24] = p->oneway != 0;
}

static int
peer_decode(const MDB_val *v, struct store_peer *p)
{
	const uint8_t *b = v->mv_data, *q = b + PEER_V1_LEN;

	memset(p, 0, sizeof(*p));
	if (v->mv_size != PEER_V1_LEN && (v->mv_size < PEER_LEN ||
	    b[PEER_V1_LEN] < PEER_VERSION))
		return KITH_ECORRUPT;
	p->last_ok_ms = get_be64(b);
	p->last_try_ms = get_be64(b + 8);
	p->last_rc = (int)(int64_t)get_be64(b + 16);
	p->received = get_be64(b + 24);
	p->sent = get_be64(b + 32);
	if (v->mv_size == PEER_V1_LEN)
		return 0;
	q++;
	p->refused = get_be64(q);
	p->held = get_be64(q + 8);
	memcpy(p->key, q + 16, KITH_KEY_LEN);
	q += 16 + KITH_KEY_LEN;
	p->clock_at = get_be64(q);
	p->offset_ms = (int64_t)get_be64(q + 8);
	p->offset_err_ms = get_be64(q + 16);
	p->oneway = q[24] & 1;
	return 0;
}

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
	peer_encode(buf, p);
	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_put(txn, st->dbi[DB_PEERS], &k, &v, 0))) != 0)
		mdb_txn_abort(txn);
	else
		rc = txn_commit(st, txn);
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
	int rc;

	if (k->mv_size == 0 || k->mv_size > STORE_ENDPOINT_MAX)
		return KITH_ECORRUPT;
	if ((rc = peer_decode(v, &p)) != 0)
		return rc;
	memcpy(ep, k->mv_data, k->mv_size);
	ep[k->mv_size] = '\0';
	return w->fn(w->arg, ep, &p);
}

int
store_peers(struct store *st, store_peer_fn *fn, void *arg)
{
	struct peer_walk w = { fn, arg };

	return walk(st, DB_PEERS, peer_one, &w);
}

/* Recent offsets, the latest per node key (store_offsets). */
struct offsets {
	uint64_t now;
	struct store_peer p[STORE_OFFSETS_MAX];
	size_t n;
};

static int
offset_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	static const uint8_t zero[KITH_KEY_LEN];
	struct offsets *o = arg;
	struct store_peer p;
	size_t i;

	(void)k;
	if (peer_decode(v, &p) != 0 || p.clock_at == 0 ||
	    memcmp(p.key, zero, KITH_KEY_LEN) == 0 || p.clock_at > o->now ||
	    o->now - p.clock_at > (uint64_t)HLC_RECENT_MS)
		return 0;	/* unreadable, unmeasured or stale: not counted */
	for (i = 0; i < o->n; i++)
		if (memcmp(o->p[i].key, p.key, KITH_KEY_LEN) == 0)
			break;
	if (i == o->n) {
		if (o->n == STORE_OFFSETS_MAX)
			return 0;
		o->n++;
	} else if (o->p[i].clock_at >= p.clock_at) {
		return 0;
	}
	o->p[i] = p;
	return 0;
}

static int
offsets_txn(struct store *st, MDB_txn *txn, uint64_t now,
    int64_t offs[STORE_OFFSETS_MAX], size_t *n)
{
	struct offsets *o;
	size_t i;
	int rc;

	*n = 0;
	if ((o = malloc(sizeof(*o))) == NULL)
		return KITH_ENOMEM;
	o->now = now;
	o->n = 0;
	if ((rc = walk_txn(st, txn, DB_PEERS, 0, offset_one, o)) == 0) {
		for (i = 0; i < o->n; i++)
			offs[i] = o->p[i].offset_ms;
		*n = o->n;
	}
	free(o);
	return rc;
}

int
store_offsets(struct store *st, uint64_t now_ms,
    int64_t offs[STORE_OFFSETS_MAX], size_t *n)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = offsets_txn(st, txn, now_ms, offs, n);
	mdb_txn_abort(txn);
	return rc;
}

/*
 * The largest timestamp a merge may move the clock to now (PROTOCOL.md
 * 5): the wall clock, or the network's median clock if that is ahead.
 */
static int
merge_bound(struct store *st, MDB_txn *txn, uint64_t *bound)
{
	int64_t *offs;
	uint64_t wall = hlc_wall_ms();
	size_t n;
	int rc;

	if ((offs = malloc(STORE_OFFSETS_MAX * sizeof(*offs))) == NULL)
		return KITH_ENOMEM;
	if ((rc = offsets_txn(st, txn, wall, offs, &n)) == 0)
		*bound = hlc_bound(wall, hlc_median(offs, n, 1));
	free(offs);
	return rc;
}

int
store_clock(struct store *st, uint64_t *out)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	*out = clock_get(st, txn);
	mdb_txn_abort(txn);
	return 0;
}

int
store_clock_lower(struct store *st, uint64_t to, uint64_t *old)
{
	MDB_txn *txn;
	int rc;

	if (st->rdonly)
		return KITH_EINVAL;
	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return rc;
	*old = clock_get(st, txn);
	if (*old <= to)
		rc = 0;
	else if ((rc = clock_put(st, txn, to)) == 0)
		return mdb_err(mdb_txn_commit(txn));
	mdb_txn_abort(txn);
	return rc;
}

/*
 * The author's last record held: its sequence number (0 if none) and id.
 * If the author forked at its last number, the least id is taken.
 */
static int
last_link(struct store *st, MDB_txn *txn, const uint8_t *author,
    uint64_t *seq, uint8_t id[KITH_ID_LEN])
{
	uint8_t sk[SEQKEY_LEN];
	MDB_val k = { SEQKEY_LEN, sk }, v;
	MDB_cursor *cur;
	int rc;

	memcpy(sk, author, KITH_KEY_LEN);
	memset(sk + KITH_KEY_LEN, 0xff, 8);
	*seq = 0;
	memset(id, 0, KITH_ID_LEN);
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_SEQ], &cur)) != 0)
		return mdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 || rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV_NODUP :
		    MDB_LAST);
	if (rc == 0 && k.mv_size == SEQKEY_LEN &&
	    memcmp(k.mv_data, author, KITH_KEY_LEN) == 0 &&
	    (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST_DUP)) == 0 &&
	    v.mv_size == SEQVAL_LEN) {
		*seq = get_be64((uint8_t *)k.mv_data + KITH_KEY_LEN);
		memcpy(id, v.mv_data, KITH_ID_LEN);
	}
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
	const struct roster *roster;	/* the handle's, borrowed */
	int members;			/* membership, or a fork point, moved */
};

static int
wave_insert(void *arg, size_t i, const struct record *rec)
{
	struct wave *w = arg;
	const struct record_header *h = record_header(rec);
	struct insert in;
	size_t fields;
	int rc;

	/*
	 * A genesis starts a new entity, whose only record is the one in
	 * hand, so its state needs no reading back.
	 */
	if ((rc = room_for(w->st, w->txn, w->roster, rec, 0, &fields)) != 0 ||
	    (rc = insert(w->st, w->txn, rec, &in)) != 0 ||
	    (rc = h->genesis ? put_state(w->st, w->txn, w->roster,
	    (struct record *const *)&rec, 1) : update_state(w->st, w->txn,
	    w->roster, rec)) != 0)
		return rc;
	w->members |= KITH_KIND_IS_MEMBERSHIP(h->kind) || in.fork_moved;
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
 * step, so a worker thread signs while this thread inserts, in waves: a
 * wave ends before a draft whose entity an earlier draft of the wave
 * changes, since its parents are that draft's id.  Each record names the
 * one before it in the author's chain.
 */
static int
write_txn(struct store *st, const struct kcrypto_key *key,
    struct store_draft *d, size_t n)
{
	const uint8_t *author = kcrypto_key_public(key);
	struct record_header *h = NULL;
	const uint8_t **bodies = NULL;
	size_t *blens = NULL, *prev = NULL;
	struct wave w = { st, NULL, NULL, NULL, 0 };
	uint8_t last[KITH_ID_LEN];
	uint64_t clock, seq, wall = hlc_wall_ms();
	size_t i, end;
	int rc = KITH_ENOMEM;

	if ((h = calloc(n, sizeof(*h))) == NULL ||
	    (bodies = calloc(n, sizeof(*bodies))) == NULL ||
	    (blens = calloc(n, sizeof(*blens))) == NULL ||
	    (prev = calloc(n, sizeof(*prev))) == NULL ||
	    (rc = entity_repeats(draft_entity, d, n, prev)) != 0 ||
	    (rc = txn_begin(st, 0, &w.txn)) != 0)
		goto out;
	clock = clock_get(st, w.txn);
	if ((rc = last_link(st, w.txn, author, &seq, last)) != 0 ||
	    (rc = roster_cached(st, w.txn, &w.roster)) != 0)
		goto out;
	for (i = 0; i < n; i = end) {
		for (end = i; end < n && (prev[end] == n || prev[end] < i);
		    end++) {
			memcpy(h[end].network, st->network, KITH_NETWORK_LEN);
			h[end].seq = ++seq;
			h[end].hlc = hlc_tick(&clock, wall);
			h[end].kind = d[end].kind;
			h[end].expiry = d[end].expiry;
			h[end].naudience = d[end].naudience;
			memcpy(h[end].audience, d[end].audience,
			    sizeof(h[end].audience));
			memcpy(h[end].entity, d[end].entity, KITH_ENTITY_LEN);
			bodies[end] = d[end].body;
			blens[end] = d[end].blen;
			if (d[end].nonce != NULL) {
				h[end].genesis = 1;
				memcpy(h[end].nonce, d[end].nonce,
				    KITH_NONCE_LEN);
			} else if ((rc = heads_of(st, w.txn, &h[end])) != 0)
				goto out;
		}
		/* The wave's first names the last record signed before it. */
		if (i > 0)
			memcpy(last, d[i - 1].id, KITH_ID_LEN);
		memcpy(h[i].prev, last, KITH_ID_LEN);
		w.d = d + i;
		if ((rc = record_sign_batch(h + i, bodies + i, blens + i,
		    end - i, key, wave_insert, &w)) != 0)
			goto out;
	}
	if ((w.members && (rc = roster_refresh(st, w.txn, &w.roster)) != 0) ||
	    (rc = clock_put(st, w.txn, clock)) != 0)
		goto out;
	rc = txn_commit(st, w.txn);
	w.txn = NULL;	/* committed or freed by the commit */
out:
	if (w.txn != NULL)
		mdb_txn_abort(w.txn);
	if (rc != 0) {
		/* What this transaction computed never happened. */
		roster_free(st->roster);
		st->roster = NULL;
	}
	free(h);
	free(bodies);
	free(blens);
	free(prev);
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
	/* Its own chain may go on past this copy: no fork by a restore. */
	if (store_restoring(st))
		return KITH_EBUSY;
	while ((rc = write_txn(st, key, drafts, n)) == KITH_EMAPFULL)
		if ((rc = grow(st)) != 0)
			break;
	return rc;
}

int
store_author_last(struct store *st, const uint8_t author[KITH_KEY_LEN],
    uint64_t *seq, uint8_t id[KITH_ID_LEN])
{
	struct txn_chains tc;
	struct chain_link l[CHAIN_AT_MAX];
	uint64_t fork;
	MDB_txn *txn;
	size_t n;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	tc.st = st;
	tc.txn = txn;
	if ((rc = chains_fork(&tc, author, &fork)) == 0 &&
	    (rc = last_link(st, txn, author, seq, id)) == 0 && fork != 0) {
		/* Forked: the last record before the fork is the one known. */
		*seq = fork - 1;
		memset(id, 0, KITH_ID_LEN);
		if (*seq > 0 && (rc = links_at(st, txn, author, *seq, l,
		    &n)) == 0 && n > 0)
			memcpy(id, l[0].id, KITH_ID_LEN);
		if (*seq > 0 && n == 0)
			*seq = 0;
	}
	mdb_txn_abort(txn);
	return rc;
}

int
store_init_network(struct store *st, const struct record *charter)
{
	static const uint8_t zero[KITH_NETWORK_LEN];
	const struct record_header *h = record_header(charter);
	const uint8_t *id = record_id(charter);
	struct insert in;
	MDB_txn *txn;
	MDB_val v;
	size_t blen;
	int rc;

	/*
	 * Its body may be missing (kith restore read only the header of a
	 * damaged store): it is then wanted from peers like any other.
	 */
	(void)record_body(charter, &blen);
	if (h->kind != KITH_KIND_CHARTER ||
	    memcmp(h->network, zero, sizeof(zero)) != 0 ||
	    record_verify(charter) != 0)
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
		    (rc = insert(st, txn, charter, &in)) != 0 ||
		    (rc = roster_gen_bump(st, txn)) != 0 ||
		    (rc = recompute(st, txn, NULL, h->entity)) != 0 ||
		    (rc = clock_put(st, txn, h->hlc)) != 0)
			goto fail;
		if ((rc = txn_commit(st, txn)) == 0)
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
	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return rc;
	/* The expiry index is in time order: take its front, up to now. */
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_EXPIRY], &cur))) != 0)
		goto out;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
		if (k.mv_size != EXPKEY_LEN) {
			rc = KITH_ECORRUPT;
			goto out;
		}
		if (get_be64(k.mv_data) > now_ms)
			break;
		memcpy(key, (uint8_t *)k.mv_data + 8, KEY_LEN);
		if ((rc = mdb_err(mdb_cursor_del(cur, 0))) != 0 ||
		    (rc = del_key(st, txn, DB_BODY, key, KEY_LEN)) != 0)
			goto out;
		if ((rc = load_key(st, txn, key, &rec)) == KITH_ECORRUPT)
			continue;	/* noted for store_mend */
		if (rc != 0)
			goto out;
		rc = ents_add(&ents, &n, &cap, record_header(rec)->entity);
		record_free(rec);
		if (rc != 0)
			goto out;
	}
	rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
	mdb_cursor_close(cur);
	cur = NULL;
	if (rc != 0 || n == 0 ||
	    (rc = roster_cached(st, txn, &roster)) != 0 ||
	    (rc = recompute_each(st, txn, roster, ents, n)) != 0 ||
	    (rc = scrub_mark(st, txn)) != 0)
		goto out;
	rc = txn_commit(st, txn);
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
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_EXPIRY],
	    &cur))) == 0) {
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
		    k.mv_size == EXPKEY_LEN)
			*ms = get_be64(k.mv_data);
		rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
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

/* store_quarantine's walks. */
struct held_walk {
	struct store *st;
	MDB_txn *txn;
	const struct roster *roster;
	store_held_fn *fn;
	void *arg;
};

/* A record by author, held if the author is not a member in good standing. */
static int
held_by_author(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct held_walk *hw = arg;
	const struct roster_entry *e;
	struct record *rec;
	int rc, why;

	if (v->mv_size != SEQVAL_LEN)
		return KITH_ECORRUPT;
	e = roster_find(hw->roster, k->mv_data);
	if (e != NULL && e->role != ROLE_NONE &&
	    e->role != ROLE_OBSERVER && e->revoked == 0 && e->fork == 0)
		return 0;
	if ((rc = load_id(hw->st, hw->txn, v->mv_data, &rec, 0)) ==
	    KITH_ECORRUPT)
		return 0;	/* store_mend takes it out */
	if (rc != 0)
		return rc;
	why = KITH_KIND_IS_MEMBERSHIP(record_header(rec)->kind) ? 0 :
	    roster_standing(hw->roster, record_header(rec), record_id(rec));
	rc = why != 0 ? hw->fn(hw->arg, rec, why) : 0;
	record_free(rec);
	return rc;
}

/* An entity no genesis has come for: its records wait on it. */
static int
held_orphans(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct held_walk *hw = arg;
	struct record **recs = NULL;
	size_t n = 0, i;
	int rc;

	(void)v;
	if ((rc = load_entity(hw->st, hw->txn, k->mv_data, &recs, &n)) != 0)
		return rc;
	/* The rest wait on their authors too, and are listed so. */
	for (i = 0; i < n && rc == 0; i++)
		if (!KITH_KIND_IS_MEMBERSHIP(record_header(recs[i])->kind) &&
		    roster_standing(hw->roster, record_header(recs[i]),
		    record_id(recs[i])) == 0)
			rc = hw->fn(hw->arg, recs[i], KITH_ENOGENESIS);
	store_records_free(recs, n);
	return rc;
}

int
store_quarantine(struct store *st, store_held_fn *fn, void *arg)
{
	struct roster *roster = NULL;
	struct held_walk hw = { st, NULL, NULL, fn, arg };
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &hw.txn)) != 0)
		return rc;
	/* Every record, by author; a member in good standing has none held. */
	if ((rc = roster_load(st, hw.txn, &roster)) == 0) {
		hw.roster = roster;
		rc = walk_txn(st, hw.txn, DB_SEQ, SEQKEY_LEN, held_by_author,
		    &hw);
	}
	if (rc == 0)
		rc = walk_txn(st, hw.txn, DB_ORPHAN, KITH_ENTITY_LEN,
		    held_orphans, &hw);
	roster_free(roster);
	mdb_txn_abort(hw.txn);
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
	rc = load_id(st, txn, id, out, 1);
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
		if ((rc = load_key_as(st, txn, k.mv_data, &rec, 1)) ==
		    KITH_ECORRUPT) {
			rc = 0;
			continue;	/* noted for store_mend; never sent */
		}
		if (rc != 0)
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
		if (v.mv_size != SEQVAL_LEN) {
			rc = KITH_ECORRUPT;
			break;
		}
		if ((rc = load_id(st, txn, v.mv_data, &rec, 1)) == KITH_ECORRUPT)
			continue;	/* damaged: noted, and never shown */
		if (rc != 0)
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
store_missing(struct store *st, store_order_fn *fn, void *arg)
{

	return walk(st, DB_NOBODY, order_one, &(struct order_walk){ fn, arg });
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

/*
 * Entities whose stored state still counts a body that has expired since
 * the last purge (the expiry index's front, up to now): usually none.
 * Reads show them as they are now, computed in memory, so that every
 * node's state agrees from the moment a body expires, whenever it purges.
 */
struct stale {
	uint8_t (*e)[KITH_ENTITY_LEN];
	size_t n, cap;
	struct roster *roster;		/* loaded when first needed */
};

/* An expiry index entry: its entity is stale if the body has expired. */
struct stale_walk {
	struct store *st;
	MDB_txn *txn;
	struct stale *sl;
	uint64_t now;
};

static int
stale_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct stale_walk *w = arg;
	struct record *rec;
	int rc;

	(void)v;
	if (get_be64(k->mv_data) > w->now)
		return 1;	/* the rest expire later */
	if ((rc = load_key(w->st, w->txn, (uint8_t *)k->mv_data + 8,
	    &rec)) == KITH_ECORRUPT)
		return 0;	/* noted for store_mend */
	if (rc != 0)
		return rc;
	rc = ents_add(&w->sl->e, &w->sl->n, &w->sl->cap,
	    record_header(rec)->entity);
	record_free(rec);
	return rc;
}

static int
stale_load(struct store *st, MDB_txn *txn, struct stale *sl)
{
	struct stale_walk w = { st, txn, sl, hlc_wall_ms() };
	int rc;

	memset(sl, 0, sizeof(*sl));
	if ((rc = walk_txn(st, txn, DB_EXPIRY, EXPKEY_LEN, stale_one,
	    &w)) == 1)
		rc = 0;
	if (sl->n > 0)
		qsort(sl->e, sl->n, KITH_ENTITY_LEN, entity_cmp);
	return rc;
}

static void
stale_free(struct stale *sl)
{

	free(sl->e);
	roster_free(sl->roster);
}

/*
 * ${entity}'s state as of now into ${*out}: the stored encoding ${stored},
 * or, if a body of it expired since the last purge, computed afresh.
 */
static int
state_now(struct store *st, MDB_txn *txn, struct stale *sl,
    const uint8_t *entity, const MDB_val *stored, struct state **out)
{
	struct record **recs = NULL;
	size_t n = 0;
	int rc;

	if (sl->n == 0 || bsearch(entity, sl->e, sl->n, KITH_ENTITY_LEN,
	    entity_cmp) == NULL) {
		rc = state_decode(stored->mv_data, stored->mv_size, out);
		return rc == 0 || rc == KITH_ENOMEM ? rc : KITH_ECORRUPT;
	}
	if ((sl->roster == NULL &&
	    (rc = roster_load(st, txn, &sl->roster)) != 0) ||
	    (rc = load_entity(st, txn, entity, &recs, &n)) != 0)
		return rc;
	rc = state_compute(recs, n, sl->roster, out);
	store_records_free(recs, n);
	return rc == KITH_ENOMEM || rc == 0 ? rc : KITH_ECORRUPT;
}

int
store_state(struct store *st, const uint8_t entity[KITH_ENTITY_LEN],
    struct state **out)
{
	MDB_val k = { KITH_ENTITY_LEN, (void *)entity }, v;
	struct stale sl;
	MDB_txn *txn;
	int rc;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = stale_load(st, txn, &sl)) == 0 &&
	    (rc = mdb_err(mdb_get(txn, st->dbi[DB_STATE], &k, &v))) == 0)
		rc = state_now(st, txn, &sl, entity, &v, out);
	stale_free(&sl);
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

/*
 * Call ${fn} with the state as of now of each entity of ${kind} (0: all),
 * in entity-id order, in one read transaction.
 */
static int
states_now(struct store *st, uint64_t kind,
    int (*fn)(void *, const struct state *), void *arg)
{
	uint8_t kk[KINDKEY_LEN];
	MDB_val k, v, sk;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	struct stale sl;
	struct state *s;
	int rc, op;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = stale_load(st, txn, &sl)) != 0 ||
	    (rc = mdb_err(mdb_cursor_open(txn,
	    st->dbi[kind ? DB_KIND : DB_STATE], &cur))) != 0)
		goto out;
	kind_key(kk, kind, (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
	k = (MDB_val){ KINDKEY_LEN, kk };
	for (op = kind ? MDB_SET_RANGE : MDB_FIRST; ; op = MDB_NEXT) {
		if ((rc = mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
			if (rc == KITH_ENOTFOUND)
				rc = 0;
			break;
		}
		sk = k;
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
		if (sk.mv_size != KITH_ENTITY_LEN) {
			rc = KITH_ECORRUPT;
			break;
		}
		if ((rc = state_now(st, txn, &sl, sk.mv_data, &v, &s)) != 0)
			break;
		rc = fn(arg, s);
		state_free(s);
		if (rc != 0)
			break;
	}
out:
	mdb_cursor_close(cur);
	stale_free(&sl);
	mdb_txn_abort(txn);
	return rc;
}

int
store_states(struct store *st, uint64_t kind, store_state_fn *fn, void *arg)
{

	return states_now(st, kind, fn, arg);
}

static int
digest_one(void *arg, const struct state *s)
{
	const uint8_t *p;
	size_t len;

	p = state_encoded(s, &len);
	kcrypto_hash_update(arg, p, len);
	return 0;
}

int
store_digest(struct store *st, uint8_t out[KITH_HASH_LEN])
{
	struct kcrypto_hash hs;
	int rc;

	kcrypto_hash_init(&hs);
	if ((rc = states_now(st, 0, digest_one, &hs)) == 0)
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

int
store_scrub_due(struct store *st, uint64_t *since_ms)
{
	MDB_txn *txn;
	MDB_val v;
	int rc;

	*since_ms = 0;
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = meta_get(st, txn, "scrub", &v);
	if (rc == 0 && v.mv_size == 8)
		*since_ms = get_be64(v.mv_data);
	mdb_txn_abort(txn);
	return rc == KITH_ENOTFOUND ? 0 : rc;
}

int
store_scrub_request(struct store *st)
{
	MDB_txn *txn;
	uint8_t b[8];
	int rc;

	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return rc;
	put_be64(b, 1);		/* due since long ago: at once */
	if ((rc = meta_put(st, txn, "scrub", b, sizeof(b))) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return txn_commit(st, txn);
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

	if ((rc = txn_begin(st, MDB_RDONLY, &rtxn)) != 0)
		return rc;
	for (i = 0; i < DB_COUNT && rc == 0; i++) {
		dup = (dbs[i].flags & MDB_DUPSORT) != 0;
		if ((rc = mdb_err(mdb_cursor_open(rtxn, st->dbi[i], &cur))) != 0)
			break;
		for (op = MDB_FIRST; rc == 0; op = MDB_NEXT) {
			if (wtxn == NULL &&
			    ((rc = mdb_err(mdb_txn_begin(to, NULL, 0,
			    &wtxn))) != 0 ||
			    (rc = mdb_err(mdb_dbi_open(wtxn, dbs[i].name,
			    dbs[i].flags | MDB_CREATE, &dbi))) != 0))
				break;
			if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0) {
				rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
				break;
			}
			if (i == DB_META && k.mv_size == 5 &&
			    memcmp(k.mv_data, "scrub", 5) == 0)
				continue;
			if ((rc = mdb_err(mdb_put(wtxn, dbi, &k, &v, dup ?
			    MDB_APPENDDUP : MDB_APPEND))) != 0)
				break;
			if (++n % SCRUB_BATCH == 0) {
				rc = mdb_err(mdb_txn_commit(wtxn));
				wtxn = NULL;
			}
		}
		mdb_cursor_close(cur);
		if (rc == 0 && wtxn != NULL) {
			rc = mdb_err(mdb_txn_commit(wtxn));
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
store_is_open(const struct store *st)
{

	return st->env != NULL;
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
	if ((rc = mdb_err(mdb_env_create(&env))) != 0 ||
	    (rc = mdb_err(mdb_env_set_maxdbs(env, DB_COUNT))) != 0 ||
	    (rc = mdb_err(mdb_env_set_mapsize(env, info.me_mapsize))) != 0 ||
	    (rc = mdb_err(mdb_env_open(env, tmp, MDB_NOTLS | MDB_NOSYNC,
	    0600))) != 0 ||
	    (rc = scrub_copy(st, env)) != 0 ||
	    (rc = mdb_err(mdb_env_sync(env, 1))) != 0)
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
		(void)env_open(st, info.me_mapsize);
		goto out;
	}
	if ((rc = env_open(st, info.me_mapsize)) != 0)
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

int
store_log_last(struct store *st, uint64_t *out)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	*out = 0;
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_LOG], &cur))) == 0) {
		rc = mdb_err(mdb_cursor_get(cur, &k, &v, MDB_LAST));
		if (rc == 0 && k.mv_size == 8)
			*out = get_be64(k.mv_data);
		else if (rc == 0 || rc == KITH_ENOTFOUND)
			rc = rc == 0 ? KITH_ECORRUPT : 0;
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return rc;
}

int
store_log_read(struct store *st, uint64_t after, size_t max,
    store_order_fn *fn, void *arg, uint64_t *last)
{
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, v;
	uint8_t from[8];
	size_t n = 0;
	int rc, op;

	*last = after;
	if (after == UINT64_MAX)
		return 0;
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_LOG], &cur))) != 0)
		goto out;
	put_be64(from, after + 1);
	k = (MDB_val){ 8, from };
	for (op = MDB_SET_RANGE; n < max; op = MDB_NEXT, n++) {
		if ((rc = mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
			if (rc == KITH_ENOTFOUND)
				rc = 0;
			break;
		}
		if (k.mv_size != 8 || v.mv_size != KEY_LEN) {
			rc = KITH_ECORRUPT;
			break;
		}
		if ((rc = fn(arg, get_be64(v.mv_data),
		    (const uint8_t *)v.mv_data + 8)) != 0)
			break;
		*last = get_be64(k.mv_data);
	}
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
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
	return has_key(c->st, c->txn, db, key, len, yes);
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
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
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
		return mdb_err(rc);
	if (rc != 0 || v.mv_size != 8 || memcmp(v.mv_data, key, 8) != 0)
		found(c, STORE_BAD_INDEX, id, "the id index lacks it");
	memcpy(sk, h->author, KITH_KEY_LEN);
	put_be64(sk + KITH_KEY_LEN, h->seq);
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
	    (rc = has_key(c->st, c->txn, DB_DENY, h->entity, KITH_ENTITY_LEN,
	    &denied)) != 0)
		return rc;
	denied = denied && h->kind != KITH_KIND_ERASE;
	if (has_body && yes)
		found(c, STORE_BAD_INDEX, id, "it is held with its body but "
		    "listed as wanting it");
	else if (!has_body && !yes && !denied && !expired_now(h) &&
	    h->body_len > 0)
		found(c, STORE_BAD_INDEX, id, "it lacks its body but is not "
		    "listed as wanting it");
	if (has_body && h->expiry != 0) {
		expiry_key(ek, h->expiry, key);
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
		return mdb_err(brc);
	c->out->bodies += brc == 0;
	rc = decode_held(k->mv_data, v, brc == 0 ? &body : NULL, &rec);
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
	if (k->mv_size == len && (rc = has_key(c->st, c->txn, DB_REC, key,
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
		make_key(key, get_be64(v->mv_data), k->mv_data);
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
	if (v->mv_size == SEQVAL_LEN && (rc = has_key(c->st, c->txn, DB_IDS,
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
			return mdb_err(rc);
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
		if ((rc = decode_held(v.mv_data, &sh, brc == 0 ? &body : NULL,
		    &rec)) == KITH_ENOMEM)
			return rc;
		record_free(rec);
		if (rc != 0 || (brc != 0 && brc != MDB_NOTFOUND))
			*intact = 0;
	}
	return rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
}

/* Each entity's stored state against what its records compute. */
static int
check_states(struct checker *c)
{
	struct roster *roster = NULL;
	struct record **recs = NULL;
	struct state *s = NULL;
	struct stale sl;
	MDB_cursor *cur = NULL;
	MDB_val k, v, sv;
	uint8_t entity[KITH_ENTITY_LEN], kk[KINDKEY_LEN];
	const uint8_t *enc;
	size_t n = 0, len;
	int rc, op, intact, yes;

	memset(&sl, 0, sizeof(sl));
	if ((rc = roster_load(c->st, c->txn, &roster)) != 0 ||
	    (rc = stale_load(c->st, c->txn, &sl)) != 0 ||
	    (rc = mdb_err(mdb_cursor_open(c->txn, c->st->dbi[DB_ENT],
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
		    KITH_ENTITY_LEN, entity_cmp) != NULL)) {
			c->out->unjudged += !intact;
			continue;
		}
		if ((rc = load_entity(c->st, c->txn, entity, &recs, &n)) != 0)
			goto out;
		rc = state_compute(recs, n, roster, &s);
		store_records_free(recs, n);
		recs = NULL;
		k = (MDB_val){ KITH_ENTITY_LEN, entity };
		if ((op = mdb_get(c->txn, c->st->dbi[DB_STATE], &k, &sv)) != 0 &&
		    op != MDB_NOTFOUND) {
			rc = mdb_err(op);
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
			kind_key(kk, state_kind(s), entity);
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
	rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
out:
	state_free(s);
	mdb_cursor_close(cur);
	stale_free(&sl);
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
	if (k->mv_size == KITH_ENTITY_LEN && (rc = has_key(c->st, c->txn,
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

int
store_check(struct store *st, store_check_fn *fn, void *arg,
    struct store_check *out)
{
	struct checker c = { st, NULL, fn, arg, out, NULL, NULL };
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = txn_begin(st, MDB_RDONLY, &c.txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(c.txn, st->dbi[DB_SEQ],
	    &c.seq))) != 0 ||
	    (rc = mdb_err(mdb_cursor_open(c.txn, st->dbi[DB_ENT],
	    &c.ent))) != 0)
		goto out;
	if ((rc = walk_txn(st, c.txn, DB_REC, 0, check_record, &c)) != 0 ||
	    (rc = walk_txn(st, c.txn, DB_BODY, 0, dangling_body, &c)) != 0 ||
	    (rc = walk_txn(st, c.txn, DB_IDS, 0, dangling_ids, &c)) != 0 ||
	    (rc = walk_txn(st, c.txn, DB_SEQ, 0, dangling_seq, &c)) != 0 ||
	    (rc = walk_txn(st, c.txn, DB_ENT, 0, dangling_val, &c)) != 0 ||
	    (rc = walk_txn(st, c.txn, DB_LOG, 0, dangling_val, &c)) != 0 ||
	    (rc = walk_txn(st, c.txn, DB_MSHIP, 0, dangling_key, &c)) != 0 ||
	    (rc = walk_txn(st, c.txn, DB_NOBODY, 0, dangling_key, &c)) != 0 ||
	    (rc = walk_txn(st, c.txn, DB_AUD, 0, dangling_suffix, &c)) != 0 ||
	    (rc = walk_txn(st, c.txn, DB_EXPIRY, 0, dangling_suffix,
	    &c)) != 0 ||
	    (rc = walk_txn(st, c.txn, DB_KIND, 0, dangling_kind, &c)) != 0 ||
	    (rc = check_states(&c)) != 0)
		goto out;
	rc = walk_txn(st, c.txn, DB_STATE, 0, state_orphaned, &c);
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

	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[db], &cur))) != 0)
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
		return mdb_err(rc);
	for (i = 0, rc = 0; i < nd && rc == 0; i++) {
		k = (MDB_val){ d[i].klen, d[i].k };
		v = (MDB_val){ d[i].vlen, d[i].v };
		if ((rc = mdb_del(txn, st->dbi[db], &k, &v)) == MDB_NOTFOUND)
			rc = 0;
		rc = mdb_err(rc);
		if (rc == 0 && db == DB_ENT && d[i].klen == KITH_ENTITY_LEN)
			rc = ents_add(ents, n, cap, d[i].k);
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

	if ((rc = has_key(st, txn, DB_MSHIP, key, KEY_LEN, mship)) != 0 ||
	    (rc = del_key(st, txn, DB_REC, key, KEY_LEN)) != 0 ||
	    (rc = del_key(st, txn, DB_BODY, key, KEY_LEN)) != 0 ||
	    (rc = del_key(st, txn, DB_NOBODY, key, KEY_LEN)) != 0 ||
	    (rc = del_key(st, txn, DB_MSHIP, key, KEY_LEN)) != 0)
		return rc;
	if ((rc = mdb_get(txn, st->dbi[DB_IDS], &k, &v)) == 0 &&
	    v.mv_size == 8 && memcmp(v.mv_data, key, 8) == 0)
		rc = mdb_del(txn, st->dbi[DB_IDS], &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_err(rc);
	/* The chain entry holds the id, then the previous id. */
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_SEQ], &cur))) != 0)
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
		return mdb_err(rc);
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

	expiry_key(ek, h->expiry, key);
	if ((rc = del_key(st, txn, DB_BODY, key, KEY_LEN)) != 0 ||
	    (rc = del_key(st, txn, DB_EXPIRY, ek, EXPKEY_LEN)) != 0 ||
	    (rc = has_key(st, txn, DB_DENY, h->entity, KITH_ENTITY_LEN,
	    &denied)) != 0)
		return rc;
	if ((denied && h->kind != KITH_KIND_ERASE) || expired_now(h))
		return 0;
	return put_empty(st, txn, DB_NOBODY, key, KEY_LEN);
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
	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return rc;
	if ((rc = roster_cached(st, txn, &roster)) != 0)
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
			rc = mdb_err(rc != 0 ? rc : brc);
			break;
		}
		rc = decode_held(keys[i], &sh, brc == 0 ? &body : NULL, &rec);
		memcpy(done[*ndone].id, keys[i] + 8, KITH_ID_LEN);
		if (rc == STORE_BAD_BODY) {
			done[(*ndone)++].kind = STORE_BAD_BODY;
			if ((rc = drop_body(st, txn, record_header(rec),
			    keys[i])) == 0)
				rc = ents_add(&ents, &n, &cap,
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
		rc = roster_refresh(st, txn, &roster);
	if (rc == 0)
		rc = recompute_each(st, txn, roster, ents, n);
	if (rc == 0) {
		rc = mdb_err(mdb_txn_commit(txn));
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
		if ((rc = grow(st)) != 0)
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
		note_damage(st, keys[i]);
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
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_REC], &cur))) != 0)
		goto out;
	for (i = 0, op = MDB_SET_RANGE; ; i++, op = MDB_NEXT) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0) {
			rc = rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
			break;
		}
		if (k.mv_size != KEY_LEN)
			continue;
		if (i == max) {
			memcpy(next, k.mv_data, KEY_LEN);
			break;
		}
		brc = mdb_get(txn, st->dbi[DB_BODY], &k, &body);
		rc = decode_held(k.mv_data, &v, brc == 0 ? &body : NULL, &rec);
		record_free(rec);
		if (rc == KITH_ENOMEM)
			break;
		if (rc != 0) {
			note_damage(st, k.mv_data);
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
	DB_MERGE, DB_LOG };

static int
rebuild_txn(struct store *st, store_check_fn *fn, void *arg,
    struct store_rebuilt *out)
{
	uint8_t (*bad)[KEY_LEN] = NULL, (*bigger)[KEY_LEN];
	uint8_t (*ents)[KITH_ENTITY_LEN] = NULL;
	const struct roster *roster;
	struct record *rec = NULL;
	struct insert in;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, v, body, ik, iv;
	size_t nbad = 0, capbad = 0, n = 0, cap = 0, i;
	int rc, brc, op;

	memset(out, 0, sizeof(*out));
	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return rc;
	for (i = 0; i < sizeof(derived) / sizeof(derived[0]) && rc == 0; i++)
		rc = mdb_err(mdb_drop(txn, st->dbi[derived[i]], 0));
	if (rc != 0 ||
	    (rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_REC], &cur))) != 0)
		goto out;
	for (op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT) {
		brc = k.mv_size == KEY_LEN ? mdb_get(txn, st->dbi[DB_BODY], &k,
		    &body) : MDB_NOTFOUND;
		rc = k.mv_size != KEY_LEN ? STORE_BAD_RECORD :
		    decode_held(k.mv_data, &v, brc == 0 ? &body : NULL, &rec);
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
			if ((rc = del_key(st, txn, DB_BODY, k.mv_data,
			    KEY_LEN)) != 0)
				goto out;
		}
		ik = (MDB_val){ KITH_ID_LEN, (void *)record_id(rec) };
		iv = (MDB_val){ 8, k.mv_data };
		memset(&in, 0, sizeof(in));
		if ((rc = mdb_err(mdb_put(txn, st->dbi[DB_IDS], &ik, &iv,
		    0))) != 0 ||
		    (rc = index_record(st, txn, rec, k.mv_data, 1, &in)) != 0)
			goto out;
		record_free(rec);
		rec = NULL;
		out->records++;
	}
	if (rc != MDB_NOTFOUND) {
		rc = mdb_err(rc);
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
		if ((rc = del_key(st, txn, DB_REC, bad[i], KEY_LEN)) == 0)
			rc = del_key(st, txn, DB_BODY, bad[i], KEY_LEN);
	}
	/* The roster afresh, then every entity's state from its records. */
	roster_free(st->roster);
	st->roster = NULL;
	if (rc != 0 || (rc = roster_gen_bump(st, txn)) != 0 ||
	    (rc = roster_cached(st, txn, &roster)) != 0 ||
	    (rc = mdb_err(mdb_cursor_open(txn, st->dbi[DB_ENT], &cur))) != 0)
		goto out;
	for (op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT_NODUP)
		if (k.mv_size == KITH_ENTITY_LEN &&
		    (rc = ents_add(&ents, &n, &cap, k.mv_data)) != 0)
			goto out;
	mdb_cursor_close(cur);
	cur = NULL;
	if (rc != MDB_NOTFOUND) {
		rc = mdb_err(rc);
		goto out;
	}
	out->entities = n;
	if ((rc = recompute_each(st, txn, roster, ents, n)) != 0)
		goto out;
	rc = mdb_err(mdb_txn_commit(txn));
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
		if ((rc = grow(st)) != 0)
			break;
	return rc;
}

int
store_restoring(struct store *st)
{
	MDB_txn *txn;
	MDB_val v;
	int rc;

	if (txn_begin(st, MDB_RDONLY, &txn) != 0)
		return 0;
	rc = meta_get(st, txn, "restoring", &v) == 0 && v.mv_size == 1 &&
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

	if ((rc = txn_begin(st, 0, &txn)) != 0)
		return rc;
	if ((rc = meta_put(st, txn, "restoring", &b, 1)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_err(mdb_txn_commit(txn));
}

int
store_db_usage(struct store *st, store_db_fn *fn, void *arg)
{
	MDB_stat ms[DB_COUNT];
	MDB_txn *txn;
	size_t i;
	int rc;

	/* Stats first: ${fn} may use the store, with no transaction open. */
	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	for (i = 0; i < DB_COUNT && rc == 0; i++)
		rc = mdb_err(mdb_stat(txn, st->dbi[i], &ms[i]));
	mdb_txn_abort(txn);
	for (i = 0; i < DB_COUNT && rc == 0; i++)
		rc = fn(arg, dbs[i].name, ms[i].ms_entries,
		    (uint64_t)(ms[i].ms_branch_pages + ms[i].ms_leaf_pages +
		    ms[i].ms_overflow_pages) * ms[i].ms_psize);
	return rc;
}
