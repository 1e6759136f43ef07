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

#include "chain.h"
#include "hlc.h"
#include "pagecheck.h"
#include "record.h"
#include "roster.h"
#include "store.h"
#include "store_priv.h"

/* The named databases (store_priv.h), by DB_ index. */
const struct st_db st_dbs[DB_COUNT] = {
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
	[DB_FP] = { "fp", 0 },
	[DB_BLIND] = { "blind", 0 },
};

void
st_put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t
st_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void
st_make_key(uint8_t key[KEY_LEN], uint64_t hlc, const uint8_t *id)
{

	st_put_be64(key, hlc);
	if (id != NULL)
		memcpy(key + 8, id, KITH_ID_LEN);
	else
		memset(key + 8, 0, KITH_ID_LEN);
}

/* Translate an LMDB code, once, at the boundary. */
int
st_mdb_err(int rc)
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
int
st_txn_commit(struct store *st, MDB_txn *txn)
{
	struct statvfs vfs;
	int rc;

	/* The order changes with the records, in the same transaction. */
	if ((rc = st_order_flush(st, txn)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	if (rc == EIO && statvfs(st->path, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < DISK_SLACK)
		rc = ENOSPC;
	return st_mdb_err(rc);
}

int
st_txn_begin(struct store *st, unsigned flags, MDB_txn **txn)
{
	int rc;

	rc = mdb_txn_begin(st->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size and retry. */
		if ((rc = mdb_env_set_mapsize(st->env, 0)) == 0)
			rc = mdb_txn_begin(st->env, NULL, flags, txn);
	}
	if (rc == 0 && !(flags & MDB_RDONLY))
		st_order_begin(st, *txn);
	return st_mdb_err(rc);
}

/* Double the map, up to the cap; KITH_EMAPFULL once the cap is reached. */
int
st_grow(struct store *st)
{
	MDB_envinfo info;
	uint64_t next;

	mdb_env_info(st->env, &info);
	if (info.me_mapsize >= st->max_map)
		return KITH_EMAPFULL;
	next = info.me_mapsize * 2;
	if (next > st->max_map)
		next = st->max_map;
	return st_mdb_err(mdb_env_set_mapsize(st->env, next));
}

int
st_meta_get(struct store *st, MDB_txn *txn, const char *name, MDB_val *v)
{
	MDB_val k = { strlen(name), (void *)name };

	return st_mdb_err(mdb_get(txn, st->dbi[DB_META], &k, v));
}

int
st_meta_put(struct store *st, MDB_txn *txn, const char *name, const void *p,
    size_t n)
{
	MDB_val k = { strlen(name), (void *)name }, v = { n, (void *)p };

	return st_mdb_err(mdb_put(txn, st->dbi[DB_META], &k, &v, 0));
}

/* Load the network id, if the store has one, into the handle. */
static int
load_network(struct store *st, MDB_txn *txn)
{
	MDB_val v;
	int rc;

	if ((rc = st_meta_get(st, txn, "network", &v)) != 0)
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

	if ((rc = st_txn_begin(st, st->rdonly ? MDB_RDONLY : 0, &txn)) != 0)
		return rc;
	for (i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, st_dbs[i].name,
		    st_dbs[i].flags | (st->rdonly ? 0 : MDB_CREATE), &st->dbi[i]);
		/* Opened to read: a store of another schema lacks some. */
		if (rc == MDB_NOTFOUND && st->rdonly) {
			missing = 1;
			continue;
		}
		if (rc != 0) {
			rc = st_mdb_err(rc);
			goto fail;
		}
	}
	st->schema = SCHEMA_VERSION;
	rc = st_meta_get(st, txn, "schema", &v);
	if (rc == KITH_ENOTFOUND && !st->rdonly)
		rc = st_meta_put(st, txn, "schema", &ver, 1);
	else if (rc == 0)
		st->schema = v.mv_size == 1 ? *(uint8_t *)v.mv_data : 0;
	if (rc == 0 && st->schema >= SCHEMA_UPGRADABLE &&
	    st->schema < SCHEMA_VERSION) {
		/*
		 * Only store_upgrade may use it, and it opens the databases
		 * itself: this transaction creates nothing.
		 */
		rc = st->upgrade ? 0 : KITH_EUPGRADE;
		mdb_txn_abort(txn);
		return rc;
	}
	if (rc == 0 && st->schema != SCHEMA_VERSION)
		rc = KITH_EVERSION;
	if (missing && rc == 0)
		rc = KITH_ECORRUPT;
	if (rc != 0)
		goto fail;
	if ((rc = load_network(st, txn)) != 0 && rc != KITH_ENOTFOUND)
		goto fail;
	return st_txn_commit(st, txn);
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
int
st_env_open(struct store *st, uint64_t map)
{
	int rc;

	if ((rc = st_mdb_err(mdb_env_create(&st->env))) != 0 ||
	    (rc = st_mdb_err(mdb_env_set_maxdbs(st->env, DB_COUNT))) != 0 ||
	    (rc = st_mdb_err(mdb_env_set_mapsize(st->env, map))) != 0 ||
	    (rc = st_mdb_err(mdb_env_open(st->env, st->path, st->eflags,
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
	st->log_keep = STORE_LOG_KEEP;
	st->rdonly = (flags & STORE_RDONLY) != 0;
	st->upgrade = (flags & STORE_UPGRADE) != 0;
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
	if ((*rc = use_lock(st)) != 0 || (*rc = st_env_open(st, map)) != 0)
		goto fail;
	return st;
fail:
	store_close(st);
	return NULL;
}

/* Open every database in ${txn}, creating those a format lacks. */
static int
open_all(struct store *st, MDB_txn *txn)
{
	int i, rc;

	for (i = 0; i < DB_COUNT; i++)
		if ((rc = st_mdb_err(mdb_dbi_open(txn, st_dbs[i].name,
		    st_dbs[i].flags | MDB_CREATE, &st->dbi[i]))) != 0)
			return rc;
	return 0;
}

static int
upgrade_txn(struct store *st, int dry_run, uint64_t *records)
{
	uint8_t ver = SCHEMA_VERSION;
	MDB_stat ms;
	MDB_txn *txn;
	int rc;

	if ((rc = st_txn_begin(st, 0, &txn)) != 0)
		return rc;
	if ((rc = open_all(st, txn)) != 0 ||
	    (rc = st_mdb_err(mdb_stat(txn, st->dbi[DB_REC], &ms))) != 0)
		goto fail;
	*records = ms.ms_entries;
	if (dry_run)
		goto fail;	/* nothing to keep */
	/* From 3 the blind index's database is all: open_all made it. */
	if ((st->schema < 3 && (rc = st_order_build(st, txn, records)) != 0) ||
	    (rc = st_meta_put(st, txn, "schema", &ver, 1)) != 0 ||
	    ((rc = load_network(st, txn)) != 0 && rc != KITH_ENOTFOUND))
		goto fail;
	return st_txn_commit(st, txn);
fail:
	mdb_txn_abort(txn);
	return rc;
}

int
store_upgrade(struct store *st, int dry_run, int *from, uint64_t *records)
{
	int rc;

	*from = st->schema;
	*records = 0;
	if (st->schema == SCHEMA_VERSION)
		return store_count(st, records);
	if (st->rdonly || !st->upgrade)
		return KITH_EINVAL;
	/* A process that opened it before would write the old format. */
	if (!dry_run && !store_alone(st))
		return KITH_EBUSY;
	while ((rc = upgrade_txn(st, dry_run, records)) == KITH_EMAPFULL)
		if ((rc = st_grow(st)) != 0)
			break;
	if (rc == 0 && !dry_run)
		st->schema = SCHEMA_VERSION;
	return rc;
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
	return st->shared ? st_mdb_err(mdb_env_set_mapsize(st->env,
	    st->max_map)) : 0;
}

void
store_set_log_keep(struct store *st, uint64_t n)
{

	st->log_keep = n > 0 ? n : 1;
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
	st_order_free(st);
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
		if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
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
void
st_note_damage(struct store *st, const uint8_t key[KEY_LEN])
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
int
st_decode_held(const uint8_t key[KEY_LEN], const MDB_val *sh,
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
	    record_header(rec)->hlc != st_get_be64(key))) {
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

	if ((rc = st_mdb_err(mdb_get(txn, st->dbi[DB_REC], &k, &sh))) != 0)
		return rc;
	brc = mdb_get(txn, st->dbi[DB_BODY], &k, &body);
	if (brc != 0 && brc != MDB_NOTFOUND)
		return st_mdb_err(brc);
	rc = st_decode_held(key, &sh, brc == 0 ? &body : NULL, &rec);
	if (rc == KITH_ENOMEM)
		return rc;
	if (rc != 0) {
		st_note_damage(st, key);
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
int
st_load_key(struct store *st, MDB_txn *txn, const uint8_t key[KEY_LEN],
    struct record **out)
{

	return load_key_as(st, txn, key, out, 0);
}

int
st_load_id(struct store *st, MDB_txn *txn, const uint8_t id[KITH_ID_LEN],
    struct record **out, int strict)
{
	MDB_val k = { KITH_ID_LEN, (void *)id }, v;
	uint8_t key[KEY_LEN];
	int rc;

	if ((rc = st_mdb_err(mdb_get(txn, st->dbi[DB_IDS], &k, &v))) != 0)
		return rc;
	if (v.mv_size != 8)
		return KITH_ECORRUPT;
	st_make_key(key, st_get_be64(v.mv_data), id);
	return load_key_as(st, txn, key, out, strict);
}

/* Load every version of ${entity} within ${txn}, in (hlc, id) order. */
int
st_load_entity(struct store *st, MDB_txn *txn, const uint8_t *entity,
    struct record ***out, size_t *n)
{
	MDB_val k = { KITH_ENTITY_LEN, (void *)entity }, v;
	struct record **recs = NULL, **bigger;
	MDB_cursor *cur;
	size_t cnt = 0, cap = 0;
	size_t dups;
	int rc, op;

	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_ENT], &cur))) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_get(cur, &k, &v, MDB_SET))) != 0)
		goto out;
	if ((rc = st_mdb_err(mdb_cursor_count(cur, &dups))) != 0)
		goto out;
	cap = dups;
	if ((recs = calloc(cap, sizeof(*recs))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	for (op = MDB_FIRST_DUP; ; op = MDB_NEXT_DUP) {
		rc = st_mdb_err(mdb_cursor_get(cur, &k, &v, op));
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
		if ((rc = st_load_key(st, txn, v.mv_data, &recs[cnt])) ==
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

void
st_kind_key(uint8_t key[KINDKEY_LEN], uint64_t kind, const uint8_t *entity)
{

	key[0] = (uint8_t)(kind >> 8);
	key[1] = (uint8_t)kind;
	memcpy(key + 2, entity, KITH_ENTITY_LEN);
}

int
st_put_empty(struct store *st, MDB_txn *txn, int db, const void *key,
    size_t len)
{
	MDB_val k = { len, (void *)key }, empty = { 0, "" };

	return st_mdb_err(mdb_put(txn, st->dbi[db], &k, &empty, 0));
}

/* Delete ${key} from ${db}; absent is fine. */
int
st_del_key(struct store *st, MDB_txn *txn, int db, const void *key, size_t len)
{
	MDB_val k = { len, (void *)key };
	int rc;

	rc = mdb_del(txn, st->dbi[db], &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
}

int
st_has_key(struct store *st, MDB_txn *txn, int db, const void *key, size_t len,
    int *yes)
{
	MDB_val k = { len, (void *)key }, v;
	int rc;

	rc = mdb_get(txn, st->dbi[db], &k, &v);
	*yes = rc == 0;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
}

void
st_expiry_key(uint8_t out[EXPKEY_LEN], uint64_t expiry, const uint8_t *key)
{

	st_put_be64(out, expiry);
	memcpy(out + 8, key, KEY_LEN);
}

/* Is the body of a record with header ${h} expired now? */
int
st_expired_now(const struct record_header *h)
{

	return h->expiry != 0 && h->expiry <= hlc_wall_ms();
}

/*
 * Bodies left the store in ${txn}: LMDB's freed pages, and the gaps in
 * pages still in use, keep their bytes until a scrub (store_scrub) writes
 * the store afresh.  Note since when one is due, if not noted already.
 */
int
st_scrub_mark(struct store *st, MDB_txn *txn)
{
	MDB_val v;
	uint8_t b[8];
	int rc;

	if ((rc = st_meta_get(st, txn, "scrub", &v)) != KITH_ENOTFOUND)
		return rc;
	st_put_be64(b, hlc_wall_ms());
	return st_meta_put(st, txn, "scrub", b, sizeof(b));
}

int
st_chains_at(void *arg, const uint8_t key[KITH_KEY_LEN], uint64_t seq,
    struct chain_link *out, size_t max, size_t *n)
{
	struct st_txn_chains *tc = arg;
	uint8_t sk[SEQKEY_LEN];
	MDB_val k = { SEQKEY_LEN, sk }, v;
	MDB_cursor *cur;
	int rc, op;

	*n = 0;
	memcpy(sk, key, KITH_KEY_LEN);
	st_put_be64(sk + KITH_KEY_LEN, seq);
	if ((rc = mdb_cursor_open(tc->txn, tc->st->dbi[DB_SEQ], &cur)) != 0)
		return st_mdb_err(rc);
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
	return rc == MDB_NOTFOUND ? 0 : rc == KITH_ECORRUPT ? rc : st_mdb_err(rc);
}

int
st_chains_fork(void *arg, const uint8_t key[KITH_KEY_LEN], uint64_t *seq)
{
	struct st_txn_chains *tc = arg;
	MDB_val k = { KITH_KEY_LEN, (void *)key }, v;
	int rc;

	*seq = 0;
	rc = mdb_get(tc->txn, tc->st->dbi[DB_FORKS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return st_mdb_err(rc);
	if (v.mv_size != 8)
		return KITH_ECORRUPT;
	*seq = st_get_be64(v.mv_data);
	return 0;
}

/*
 * Call ${fn} for every entry of database ${db} within ${txn}, in key
 * order.  A key that is not ${klen} bytes (0: any length) is
 * KITH_ECORRUPT.  Return 0, ${fn}'s non-zero result, or a store error.
 */
int
st_walk_txn(struct store *st, MDB_txn *txn, int db, size_t klen, st_walk_fn *fn,
    void *arg)
{
	MDB_val k, v;
	MDB_cursor *cur;
	int rc, op;

	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[db], &cur))) != 0)
		return rc;
	for (op = MDB_FIRST; ; op = MDB_NEXT) {
		if ((rc = st_mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
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

/* As st_walk_txn, in a read transaction of its own, for keys of any length. */
static int
walk(struct store *st, int db, st_walk_fn *fn, void *arg)
{
	MDB_txn *txn;
	int rc;

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = st_walk_txn(st, txn, db, 0, fn, arg);
	mdb_txn_abort(txn);
	return rc;
}

/* The clock kept in the store, so that every process ticks past it. */
uint64_t
st_clock_get(struct store *st, MDB_txn *txn)
{
	MDB_val v;

	if (st_meta_get(st, txn, "hlc", &v) != 0 || v.mv_size != 8)
		return 0;
	return st_get_be64(v.mv_data);
}

int
st_clock_put(struct store *st, MDB_txn *txn, uint64_t t)
{
	uint8_t b[8];

	st_put_be64(b, t);
	return st_meta_put(st, txn, "hlc", b, 8);
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
	return w->fn(w->arg, st_get_be64(k->mv_data),
	    (const uint8_t *)k->mv_data + 8);
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

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_MSHIP], &cm))) !=
	    0 || (rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_AUD],
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
		if ((rc = fn(arg, st_get_be64(next), next + 8)) != 0)
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

	if ((rc = st_mdb_err(mdb_env_info(st->env, &info))) == 0)
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

	st_put_be64(b, p->last_ok_ms);
	st_put_be64(b + 8, p->last_try_ms);
	st_put_be64(b + 16, (uint64_t)(int64_t)p->last_rc);
	st_put_be64(b + 24, p->received);
	st_put_be64(b + 32, p->sent);
	*q++ = PEER_VERSION;
	st_put_be64(q, p->refused);
	st_put_be64(q + 8, p->held);
	memcpy(q + 16, p->key, KITH_KEY_LEN);
	q += 16 + KITH_KEY_LEN;
	st_put_be64(q, p->clock_at);
	st_put_be64(q + 8, (uint64_t)p->offset_ms);
	st_put_be64(q + 16, p->offset_err_ms);
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
	p->last_ok_ms = st_get_be64(b);
	p->last_try_ms = st_get_be64(b + 8);
	p->last_rc = (int)(int64_t)st_get_be64(b + 16);
	p->received = st_get_be64(b + 24);
	p->sent = st_get_be64(b + 32);
	if (v->mv_size == PEER_V1_LEN)
		return 0;
	q++;
	p->refused = st_get_be64(q);
	p->held = st_get_be64(q + 8);
	memcpy(p->key, q + 16, KITH_KEY_LEN);
	q += 16 + KITH_KEY_LEN;
	p->clock_at = st_get_be64(q);
	p->offset_ms = (int64_t)st_get_be64(q + 8);
	p->offset_err_ms = st_get_be64(q + 16);
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
	if ((rc = st_txn_begin(st, 0, &txn)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_put(txn, st->dbi[DB_PEERS], &k, &v, 0))) != 0)
		mdb_txn_abort(txn);
	else
		rc = st_txn_commit(st, txn);
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
	if ((rc = st_walk_txn(st, txn, DB_PEERS, 0, offset_one, o)) == 0) {
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

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = offsets_txn(st, txn, now_ms, offs, n);
	mdb_txn_abort(txn);
	return rc;
}

/*
 * The largest timestamp a merge may move the clock to now (PROTOCOL.md
 * 5): the wall clock, or the network's median clock if that is ahead.
 */
int
st_merge_bound(struct store *st, MDB_txn *txn, uint64_t *bound)
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

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	*out = st_clock_get(st, txn);
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
	if ((rc = st_txn_begin(st, 0, &txn)) != 0)
		return rc;
	*old = st_clock_get(st, txn);
	if (*old <= to)
		rc = 0;
	else if ((rc = st_clock_put(st, txn, to)) == 0)
		return st_txn_commit(st, txn);
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

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = st_load_id(st, txn, id, out, 1);
	mdb_txn_abort(txn);
	return rc;
}

int
store_entity(struct store *st, const uint8_t entity[KITH_ENTITY_LEN],
    struct record ***out, size_t *n)
{
	MDB_txn *txn;
	int rc;

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = st_load_entity(st, txn, entity, out, n);
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

	st_make_key(lo, lo_hlc, lo_id);
	st_make_key(hi, hi_hlc, hi_id);
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_REC], &cur))) != 0)
		goto out;
	for (op = MDB_SET_RANGE; ; op = MDB_NEXT) {
		if ((rc = st_mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
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
	st_put_be64(sk + KITH_KEY_LEN, seq);
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_SEQ], &cur))) != 0)
		goto out;
	for (op = MDB_SET; ; op = MDB_NEXT_DUP) {
		if ((rc = st_mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
			/* Not found at the first key means no such record. */
			if (rc == KITH_ENOTFOUND && op == MDB_NEXT_DUP)
				rc = 0;
			break;
		}
		if (v.mv_size != SEQVAL_LEN) {
			rc = KITH_ECORRUPT;
			break;
		}
		if ((rc = st_load_id(st, txn, v.mv_data, &rec, 1)) == KITH_ECORRUPT)
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

	if (st_txn_begin(st, MDB_RDONLY, &txn) != 0)
		return 0;
	rc = mdb_get(txn, st->dbi[DB_FORKS], &k, &v);
	mdb_txn_abort(txn);
	return rc == 0;
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
	static const uint64_t kinds[5] = { KITH_KIND_REQUEST,
	    KITH_KIND_VOLUNTEER, KITH_KIND_REFERRAL, KITH_KIND_SESSION,
	    KITH_KIND_INSIGHT };
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *txn;
	char data[4200];
	struct stat sb;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if (mdb_stat(txn, st->dbi[DB_REC], &ms) == 0)
		out->records = ms.ms_entries;
	if (mdb_stat(txn, st->dbi[DB_BODY], &ms) == 0)
		out->bodies = ms.ms_entries;
	if (mdb_stat(txn, st->dbi[DB_STATE], &ms) == 0)
		out->entities = ms.ms_entries;
	if (mdb_stat(txn, st->dbi[DB_FORKS], &ms) == 0)
		out->forks = ms.ms_entries;
	out->by_kind[5] = out->entities;
	for (i = 0; i < 5; i++) {
		out->by_kind[i] = count_kind(txn, st->dbi[DB_KIND], kinds[i]);
		out->by_kind[5] -= out->by_kind[i];
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
	rc = st_mdb_err(mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT));
	if (rc == 0 && fsync(fd) != 0)
		rc = KITH_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = KITH_EIO;
	if (rc != 0)
		unlink(path);
	return rc;
}

int
store_is_open(const struct store *st)
{

	return st->env != NULL;
}

int
store_log_last(struct store *st, uint64_t *out)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	*out = 0;
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_LOG], &cur))) == 0) {
		rc = st_mdb_err(mdb_cursor_get(cur, &k, &v, MDB_LAST));
		if (rc == 0 && k.mv_size == 8)
			*out = st_get_be64(k.mv_data);
		else if (rc == 0 || rc == KITH_ENOTFOUND)
			rc = rc == 0 ? KITH_ECORRUPT : 0;
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return rc;
}

int
store_log_read(struct store *st, uint64_t after, size_t max,
    store_log_fn *fn, void *arg, uint64_t *last)
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
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_LOG], &cur))) != 0)
		goto out;
	st_put_be64(from, after + 1);
	k = (MDB_val){ 8, from };
	for (op = MDB_SET_RANGE; n < max; op = MDB_NEXT, n++) {
		if ((rc = st_mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
			if (rc == KITH_ENOTFOUND)
				rc = 0;
			break;
		}
		if (k.mv_size != 8 || v.mv_size != KEY_LEN) {
			rc = KITH_ECORRUPT;
			break;
		}
		if ((rc = fn(arg, st_get_be64(k.mv_data),
		    st_get_be64(v.mv_data), (const uint8_t *)v.mv_data + 8)) != 0)
			break;
		*last = st_get_be64(k.mv_data);
	}
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	return rc;
}

int
store_db_usage(struct store *st, store_db_fn *fn, void *arg)
{
	MDB_stat ms[DB_COUNT];
	MDB_txn *txn;
	size_t i;
	int rc;

	/* Stats first: ${fn} may use the store, with no transaction open. */
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	for (i = 0; i < DB_COUNT && rc == 0; i++)
		rc = st_mdb_err(mdb_stat(txn, st->dbi[i], &ms[i]));
	mdb_txn_abort(txn);
	for (i = 0; i < DB_COUNT && rc == 0; i++)
		rc = fn(arg, st_dbs[i].name, ms[i].ms_entries,
		    (uint64_t)(ms[i].ms_branch_pages + ms[i].ms_leaf_pages +
		    ms[i].ms_overflow_pages) * ms[i].ms_psize);
	return rc;
}
