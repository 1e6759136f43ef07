#ifndef STORE_PRIV_H
#define STORE_PRIV_H

/*
 * The store's insides, shared by its files and by nothing else: store.h
 * is the interface, and this header is not installed.
 *   store.c         the handle, transactions, the named databases, records
 *                   read by key and their indexes, peers, the clock
 *   store_state.c   materialised state, the merge cache, the roster
 *   store_insert.c  records in: insert and index, apply, write
 *   store_maint.c   purge, verify, scrub, check, mend, patrol, rebuild
 * Their shared functions are st_*; store_* is the public API.  LMDB is
 * used in these files alone (and read by pagecheck.c, which knows its
 * format).
 */

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "kith.h"
#include "negentropy.h"

struct chain_link;
struct record;
struct record_header;
struct roster;

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
 *   fp     node(8)        -> node             (the reconciliation order's
 *                                              fingerprint tree: fptree.h)
 *   blind  'h' hash(16) entity(16) -> ""      (the blind index, store.h:
 *          'e' entity(16) -> hash(16)...       an entity's hashes,
 *          'd' entity(16) -> txn id(8)         to index again,
 *          'm'            -> gen(8) at(8)      how far it has come)
 */
enum { DB_REC, DB_BODY, DB_IDS, DB_SEQ, DB_ENT, DB_STATE, DB_KIND, DB_FORKS,
	DB_DENY, DB_MSHIP, DB_AUD, DB_NOBODY, DB_EXPIRY, DB_ORPHAN, DB_MERGE,
	DB_PEERS, DB_META, DB_LOG, DB_FP, DB_BLIND, DB_COUNT };

/* A named database: its name and open flags. */
struct st_db {
	const char *name;
	unsigned flags;
};

extern const struct st_db st_dbs[DB_COUNT];

#define KEY_LEN		(8 + KITH_ID_LEN)	/* hlc || id */
#define SEQKEY_LEN	(KITH_KEY_LEN + 8)
#define SEQVAL_LEN	(2 * KITH_ID_LEN)	/* id || prev */
#define KINDKEY_LEN	(2 + KITH_ENTITY_LEN)
#define AUDKEY_LEN	(KITH_KEY_LEN + KEY_LEN)
#define EXPKEY_LEN	(8 + KEY_LEN)
/*
 * 2: protocol version 2 records, chains, genesis, membership by kind.
 * 3: the fingerprint tree (fp).
 * 4: the blind index (blind).
 * A format 2 or 3 store is upgraded in place (store_upgrade); an older
 * or newer one is refused.
 */
#define SCHEMA_VERSION	STORE_FORMAT
#define SCHEMA_UPGRADABLE	2	/* the oldest format store_upgrade takes */

/* Items queued for the fingerprint tree. */
struct st_items {
	struct negentropy_item *v;
	size_t n, cap;
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	uint64_t max_map;
	int rdonly;
	int upgrade;		/* STORE_UPGRADE: an older format may open */
	int schema;		/* the format found (SCHEMA_VERSION...) */
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
	uint64_t log_keep;	/* change-log entries kept */
	/*
	 * Keys of records that reads found damaged, for store_mend; any
	 * thread may read, so a lock guards them.
	 */
	pthread_mutex_t dmg_lock;
	uint8_t (*dmg)[KEY_LEN];
	size_t ndmg;
	/*
	 * What the write transaction ${fp_txn} changes in the order, applied
	 * to the tree when it commits (st_order_flush), and the change-log
	 * counters it used.
	 */
	MDB_txn *fp_txn;
	struct st_items fp_add, fp_del;
	uint64_t log_first, log_last;
	char path[4096];
};

#define DAMAGE_MAX	4096	/* damaged records noted between mends */

/*
 * A chain source over the seq and forks databases, within one
 * transaction (chain.h).
 */
struct st_txn_chains {
	struct store *st;
	MDB_txn *txn;
};

/* Called by st_walk_txn for each key and value; non-zero stops. */
typedef int st_walk_fn(void *arg, const MDB_val *k, const MDB_val *v);

/* What insert (store_insert.c) found out. */
struct st_insert {
	int forked;		/* it reuses a sequence number */
	int fork_moved;		/* its author's fork point moved */
	int body;		/* a body came for a record held without one */
	int replaced;		/* it replaced a damaged held copy */
};

/*
 * Entities whose stored state still counts a body that has expired since
 * the last purge (the expiry index's front, up to now): usually none.
 * Reads show them as they are now, computed in memory, so that every
 * node's state agrees from the moment a body expires, whenever it purges.
 */
struct st_stale {
	uint8_t (*e)[KITH_ENTITY_LEN];
	size_t n, cap;
	struct roster *roster;		/* loaded when first needed */
};

/* store.c */
void st_put_be64(uint8_t *p, uint64_t v);
uint64_t st_get_be64(const uint8_t *p);
void st_make_key(uint8_t key[KEY_LEN], uint64_t hlc, const uint8_t *id);
int st_mdb_err(int rc);
int st_txn_commit(struct store *st, MDB_txn *txn);
int st_txn_begin(struct store *st, unsigned flags, MDB_txn **txn);
int st_grow(struct store *st);
int st_meta_get(struct store *st, MDB_txn *txn, const char *name, MDB_val *v);
int st_meta_put(struct store *st, MDB_txn *txn, const char *name, const void *p,
    size_t n);
int st_env_open(struct store *st, uint64_t map);
void st_note_damage(struct store *st, const uint8_t key[KEY_LEN]);
int st_decode_held(const uint8_t key[KEY_LEN], const MDB_val *sh,
    const MDB_val *body, struct record **out);
int st_load_key(struct store *st, MDB_txn *txn, const uint8_t key[KEY_LEN],
    struct record **out);
int st_load_id(struct store *st, MDB_txn *txn, const uint8_t id[KITH_ID_LEN],
    struct record **out, int strict);
int st_load_entity(struct store *st, MDB_txn *txn, const uint8_t *entity,
    struct record ***out, size_t *n);
void st_kind_key(uint8_t key[KINDKEY_LEN], uint64_t kind,
    const uint8_t *entity);
int st_put_empty(struct store *st, MDB_txn *txn, int db, const void *key,
    size_t len);
int st_del_key(struct store *st, MDB_txn *txn, int db, const void *key,
    size_t len);
int st_has_key(struct store *st, MDB_txn *txn, int db, const void *key,
    size_t len, int *yes);
void st_expiry_key(uint8_t out[EXPKEY_LEN], uint64_t expiry,
    const uint8_t *key);
int st_expired_now(const struct record_header *h);
int st_scrub_mark(struct store *st, MDB_txn *txn);
int st_chains_at(void *arg, const uint8_t key[KITH_KEY_LEN], uint64_t seq,
    struct chain_link *out, size_t max, size_t *n);
int st_chains_fork(void *arg, const uint8_t key[KITH_KEY_LEN], uint64_t *seq);
int st_walk_txn(struct store *st, MDB_txn *txn, int db, size_t klen,
    st_walk_fn *fn, void *arg);
uint64_t st_clock_get(struct store *st, MDB_txn *txn);
int st_clock_put(struct store *st, MDB_txn *txn, uint64_t t);
int st_merge_bound(struct store *st, MDB_txn *txn, uint64_t *bound);

/* store_state.c */
int st_put_state(struct store *st, MDB_txn *txn, const struct roster *roster,
    struct record *const *recs, size_t n);
int st_recompute(struct store *st, MDB_txn *txn, const struct roster *roster,
    const uint8_t *entity);
int st_update_state(struct store *st, MDB_txn *txn, const struct roster *roster,
    const struct record *rec);
int st_roster_load(struct store *st, MDB_txn *txn, struct roster **out);
int st_roster_gen_bump(struct store *st, MDB_txn *txn);
int st_roster_cached(struct store *st, MDB_txn *txn, const struct roster **out);
int st_entity_cmp(const void *a, const void *b);
int st_recompute_each(struct store *st, MDB_txn *txn,
    const struct roster *roster, uint8_t (*ents)[KITH_ENTITY_LEN], size_t n);
int st_ents_add(uint8_t (**ents)[KITH_ENTITY_LEN], size_t *n, size_t *cap,
    const uint8_t *entity);
int st_roster_refresh(struct store *st, MDB_txn *txn,
    const struct roster **roster);
int st_stale_load(struct store *st, MDB_txn *txn, struct st_stale *sl);
void st_stale_free(struct st_stale *sl);

/* store_insert.c */
int st_index_record(struct store *st, MDB_txn *txn, const struct record *rec,
    const uint8_t key[KEY_LEN], int stored, struct st_insert *in);

/* store_blind.c */
int st_blind_forget(struct store *st, MDB_txn *txn, const uint8_t *entity);
int st_blind_dirty(struct store *st, MDB_txn *txn, const uint8_t *entity);
int st_blind_dirty_each(struct store *st, MDB_txn *txn,
    uint8_t (*ents)[KITH_ENTITY_LEN], size_t n);
int st_blind_check(struct store *st, MDB_txn *txn, uint64_t *bad);

/* store_order.c */
void st_order_begin(struct store *st, MDB_txn *txn);
int st_order_add(struct store *st, MDB_txn *txn, const uint8_t key[KEY_LEN]);
int st_order_remove(struct store *st, MDB_txn *txn,
    const uint8_t key[KEY_LEN]);
int st_order_flush(struct store *st, MDB_txn *txn);
void st_order_free(struct store *st);
int st_order_build(struct store *st, MDB_txn *txn, uint64_t *n);
int st_order_check(struct store *st, MDB_txn *txn, uint64_t *extra,
    uint64_t *missing, int *broken);

#endif
