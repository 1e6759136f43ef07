#ifndef STORE_H
#define STORE_H

/*
 * The node's LMDB store: the one module that uses LMDB.  One environment per
 * node holds the signed headers (clustered in reconciliation order), bodies,
 * an id index, the per-author sequence index, entity versions, materialised
 * entity state with a by-kind index, forks, the deny-set, peers and metadata.
 *
 * Several processes may open one store at once (the `kith` command beside a
 * running daemon); LMDB serialises their writers.  Every call runs in its own
 * transaction; a write call returns only after its transaction is durably
 * committed.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct kcrypto_key;
struct negentropy_source;
struct record;
struct roster;
struct state;
struct store;

/* Open flags. */
#define STORE_CREATE	0x1	/* create the directory and files if absent */
#define STORE_RDONLY	0x2	/* no writes through this handle */
#define STORE_NOSYNC	0x4	/* tests and benchmarks only: commits skip fsync */
#define STORE_SHARED	0x8	/* used from several threads: map the cap at once */
#define STORE_CHECK	0x10	/* check every page's structure before opening */
#define STORE_UPGRADE	0x20	/* open an older format, for store_upgrade only */

#define STORE_FORMAT	4	/* the on-disk format this code writes */

#define STORE_ENDPOINT_MAX	256	/* bytes of a peer endpoint */

/* Entities of this many records keep a merge cache (state_add). */
#define STORE_CACHE_MIN		32

/*
 * The change log keeps the newest this many entries: enough for kithd's
 * follower, which reads thousands a look, to keep up with any writer, and
 * the rest of a million-record log (59 bytes a record) is not kept.
 */
#define STORE_LOG_KEEP		131072

/* Size defaults; the map grows in steps up to the maximum. */
#define STORE_MAP_INITIAL	(64ULL << 20)
#define STORE_MAP_MAX		(64ULL << 30)

/* The outcome of a batch apply. */
struct store_result {
	size_t added;		/* new records committed */
	size_t duplicate;	/* already held (or denied), skipped */
	size_t rejected;	/* failed a check; not stored */
	size_t forks;		/* new records that fork an author's sequence */
	size_t held;		/* new records the roster does not admit yet */
	size_t bodies;		/* of the duplicates, bodies filled in */
	size_t replaced;	/* of the duplicates, damaged held copies
				   replaced by the good copy that came */
	uint64_t log_first;	/* the change-log counters the commit used: */
	uint64_t log_last;	/* [first, last], 0 and 0 if it added none */
};

/* Called once for each rejected record with the reason. */
typedef void store_reject_fn(void *arg, const struct record *rec, int rc);

/* A local change to sign and store; see store_write. */
struct store_draft {
	uint64_t kind;
	uint8_t entity[KITH_ENTITY_LEN];
	/*
	 * A new entity's genesis carries the nonce its id was derived from
	 * (record_entity_derive); NULL for every other record.  Borrowed.
	 */
	const uint8_t *nonce;
	const uint8_t *body;		/* borrowed */
	size_t blen;
	uint64_t expiry;
	unsigned naudience;		/* organisations it is addressed to */
	uint8_t audience[KITH_AUDIENCE_MAX][KITH_KEY_LEN];
	uint8_t id[KITH_ID_LEN];	/* out: the new record's id */
	uint64_t hlc;			/* out: its timestamp */
};

/* Counts for `kith stats`. */
struct store_stats {
	size_t records;
	size_t bodies;
	size_t entities;
	size_t forks;		/* authors with at least one fork */
	/* requests, volunteers, referrals, sessions, insights, other */
	size_t by_kind[6];
	uint64_t file_bytes;	/* size of the data file on disk */
	uint64_t used_bytes;	/* pages in use */
	uint64_t map_bytes;	/* current map size */
};

/**
 * store_open(dir, flags, max_map, rc):
 * Open the store in directory ${dir}, creating it if ${flags} has
 * STORE_CREATE.  ${max_map} caps the map size in bytes (0 for
 * STORE_MAP_MAX).  Before LMDB maps the data file, its structure is
 * checked (node/pagecheck.h): every page if ${flags} has STORE_CHECK,
 * else the meta pages and each database's root.  Return the store, or
 * NULL with ${*rc} set to KITH_ENOTFOUND (no store there), KITH_ECORRUPT
 * (the file's structure is damaged: it was not opened), KITH_EIO or
 * KITH_ESTORE.
 */
struct store *store_open(const char *dir, int flags, uint64_t max_map,
    int *rc);

/**
 * store_set_max_map(st, max_map):
 * Cap the map at ${max_map} bytes from now on (0 for STORE_MAP_MAX).  A
 * STORE_SHARED handle maps a higher cap at once, so no transaction of the
 * process may be open (LMDB's rule): stop the threads that use it first.
 * A cap below the current map stops its growth.  Return 0 or a store
 * error.
 */
int store_set_max_map(struct store *st, uint64_t max_map);

/**
 * store_set_log_keep(st, n):
 * Keep the newest ${n} change-log entries from now on (STORE_LOG_KEEP by
 * default; tests set a few).
 */
void store_set_log_keep(struct store *st, uint64_t n);

/**
 * store_set_cache_min(st, n):
 * Keep a merge cache for entities of ${n} records or more from now on
 * (STORE_CACHE_MIN by default): tests set 1, so that every entity takes
 * the incremental path.
 */
void store_set_cache_min(struct store *st, size_t n);

/**
 * store_close(st):
 * Close ${st}; nothing if NULL.
 */
void store_close(struct store *st);

/**
 * store_network(st, out):
 * Copy the store's network id to ${out}[32]; KITH_ENOTFOUND if none is set.
 */
int store_network(struct store *st, uint8_t out[KITH_NETWORK_LEN]);

/**
 * store_init_network(st, charter):
 * Make the store part of the network that ${charter} starts (its network id
 * is the charter's record id) and apply the charter, with its body or
 * without (then the body is wanted from peers).  Return 0, KITH_EEXIST
 * if the store already belongs to a network, KITH_EINVAL if ${charter} is
 * not a valid charter, or a store error.
 */
int store_init_network(struct store *st, const struct record *charter);

/**
 * store_purge(st, now_ms, purged):
 * Drop the body of every record whose header's expiry (ms since the epoch)
 * is at or before ${now_ms}, and recompute the entities they belong to, in
 * one transaction; ${*purged} gets the number of bodies dropped.  Headers
 * stay, so the records are still reconciled and never sent again with
 * bodies.  Reads count an expired body as absent from its expiry on,
 * purged or not.  Return 0 or a store error.
 */
int store_purge(struct store *st, uint64_t now_ms, size_t *purged);

/**
 * store_next_expiry(st, ms):
 * Set ${*ms} to the earliest expiry (ms since the epoch) of a body held,
 * or 0 if none expires.
 */
int store_next_expiry(struct store *st, uint64_t *ms);

/**
 * store_roster(st, out):
 * Compute the network's roster (proto/roster.h) from the records held, into
 * ${*out}, which the caller frees.  Return 0, KITH_ENOTFOUND if the store
 * has no network yet, or a store error.
 */
int store_roster(struct store *st, struct roster **out);

/* Called by store_quarantine with a held record and why it is held. */
typedef int store_held_fn(void *arg, const struct record *rec, int why);

/**
 * store_quarantine(st, fn, arg):
 * Call ${fn}(${arg}, rec, why) for each record held but not applied for
 * want of standing, by author then sequence, then for each record of an
 * entity whose genesis is not held: why is KITH_ENOTFOUND (the author is
 * not a member yet), KITH_EREVOKED (past the author's revocation, or off
 * the chain it accepts), KITH_EFORKED (at or after the author's fork
 * point), KITH_EDENIED (an observer's) or KITH_ENOGENESIS (its entity's
 * genesis has not arrived).  Stop at ${fn}'s first non-zero result and
 * return it; else return 0 or a store error.
 */
int store_quarantine(struct store *st, store_held_fn *fn, void *arg);

/**
 * store_charter(st, out):
 * Return the network's charter record, with body, in ${*out}.
 */
int store_charter(struct store *st, struct record **out);

/**
 * store_apply(st, recs, n, res, reject, arg):
 * Check ${n} records and commit the new, valid ones in one write
 * transaction.  Cheap checks come first (network id, timestamp not too far
 * ahead), then deduplication by id, then signatures, checked in parallel
 * threads.  Records held already are counted as duplicates; failures are
 * counted as rejected and reported to ${reject} (if not NULL) with ${arg}.
 * Fills ${*res}.  Return 0 if the transaction committed (even if records
 * were rejected), or a store error (nothing was committed).
 */
int store_apply(struct store *st, struct record *const *recs, size_t n,
    struct store_result *res, store_reject_fn *reject, void *arg);

/**
 * store_dedup(st, recs, n, rcs):
 * Set ${rcs}[i] to KITH_EEXIST for each record held already, or repeated
 * earlier in ${recs}, among those whose ${rcs}[i] is 0.  Return 0 or a
 * store error.  No signature is checked.
 */
int store_dedup(struct store *st, struct record *const *recs, size_t n,
    int *rcs);

/**
 * store_apply_verified(st, recs, n, rcs, res):
 * As store_apply, for records whose signatures the caller has checked
 * already: on entry ${rcs}[i] is record_verify's result for ${recs}[i]
 * (from record_verify_batch, typically run on the next batch while this
 * one commits), or KITH_EEXIST for a record store_dedup found.  Every other
 * check is the store's own.  On return ${rcs}[i] is the record's outcome:
 * 0 (added), KITH_EEXIST (duplicate) or why it was rejected.
 */
int store_apply_verified(struct store *st, struct record *const *recs,
    size_t n, int *rcs, struct store_result *res);

/* Called for each held record, in (hlc, id) order; non-zero stops. */
typedef int store_order_fn(void *arg, uint64_t hlc,
    const uint8_t id[KITH_ID_LEN]);

/* Called with the reconciliation order as a Negentropy set. */
typedef int store_fp_fn(void *arg, const struct negentropy_source *src);

/**
 * store_fp_read(st, fn, arg):
 * Call ${fn}(${arg}, src) with the (hlc, id) of every held record, in
 * reconciliation order, as a Negentropy source read from one snapshot of
 * the store's fingerprint tree (node/fptree.h): any range's fingerprint
 * costs O(log n), and nothing is loaded.  ${src} is valid only during the
 * call.  Return ${fn}'s result, KITH_ECORRUPT if the tree is damaged, or
 * a store error.
 */
int store_fp_read(struct store *st, store_fp_fn *fn, void *arg);

/**
 * store_count(st, n):
 * Set ${*n} to the number of records held.  Return 0 or an error.
 */
int store_count(struct store *st, uint64_t *n);

/**
 * store_scope(st, key, fn, arg):
 * Call ${fn} with the (hlc, id) of every held record in the scope of the
 * organisation key ${key} (record_in_scope), in reconciliation order, in
 * one read transaction.  Return 0, ${fn}'s non-zero result, or a store
 * error.  It reads two indexes (membership records, records by audience
 * key), so it costs the scope's size, not the store's.
 */
int store_scope(struct store *st, const uint8_t key[KITH_KEY_LEN],
    store_order_fn *fn, void *arg);

/**
 * store_missing(st, fn, arg):
 * Call ${fn} with the (hlc, id) of every record held without the body its
 * node wants (not erased, not expired), in reconciliation order: what a
 * sync session asks peers for again.  Return 0, ${fn}'s non-zero result,
 * or a store error.
 */
int store_missing(struct store *st, store_order_fn *fn, void *arg);

/**
 * store_txnid(st, out):
 * Set ${*out} to the id of the store's last committed write transaction,
 * by any process: when it moves, the store changed.
 */
int store_txnid(struct store *st, uint64_t *out);

/*
 * What the daemon remembers of a peer.  A peer that connected to this node
 * (the server side of a session) is remembered under the endpoint
 * "key:" and its node key in hex, with its clock only.
 */
struct store_peer {
	uint64_t last_ok_ms;	/* end of the last successful sync; 0: never */
	uint64_t last_try_ms;	/* start of the last attempt */
	int last_rc;		/* its outcome: 0 or a KITH_E* code */
	uint64_t received;	/* records it gave us in the last sync */
	uint64_t sent;		/* records we gave it in the last sync */
	uint64_t refused;	/* records it refused of those we offered */
	uint64_t held;		/* records it gave us stamped too far ahead */
	/*
	 * Its clock (PROTOCOL.md 5, "Clock offsets"), measured at the last
	 * HELLO or WELCOME: its wall clock minus ours, the most that can be
	 * wrong by, and whether it was measured one way only (it connected
	 * to us).  clock_at is this node's wall clock then; 0: never.
	 */
	uint8_t key[KITH_KEY_LEN];	/* its node key; all zero: unknown */
	uint64_t clock_at;
	int64_t offset_ms;
	uint64_t offset_err_ms;
	int oneway;
};

/* The endpoint under which the peer with node key ${key} is remembered. */
#define STORE_PEER_KEYED	"key:"

/**
 * store_peer_put(st, endpoint, p):
 * Record ${*p} for the peer at ${endpoint}.  Return 0, KITH_EINVAL (empty
 * or over STORE_ENDPOINT_MAX bytes) or a store error.
 */
int store_peer_put(struct store *st, const char *endpoint,
    const struct store_peer *p);

/* Called for each remembered peer; both arguments borrowed for the call. */
typedef int store_peer_fn(void *arg, const char *endpoint,
    const struct store_peer *p);

/**
 * store_peers(st, fn, arg):
 * Call ${fn} for each remembered peer in endpoint order.
 */
int store_peers(struct store *st, store_peer_fn *fn, void *arg);

/* Peers whose clock offsets store_offsets takes. */
#define STORE_OFFSETS_MAX	256

/**
 * store_offsets(st, now_ms, offs, n):
 * Set ${offs}[0..*n) to the recent clock offsets of the peers remembered
 * (PROTOCOL.md 5): one per node key, its latest, measured at most
 * HLC_RECENT_MS before ${now_ms} and not after it (a measurement "in the
 * future" was taken before this node's clock was set back).  ${offs}
 * holds STORE_OFFSETS_MAX.  Return 0 or a store error.
 */
int store_offsets(struct store *st, uint64_t now_ms,
    int64_t offs[STORE_OFFSETS_MAX], size_t *n);

/**
 * store_clock(st, out):
 * Set ${*out} to the store's clock: the last timestamp it issued or
 * accepted into its clock (PROTOCOL.md 5), 0 if none.
 */
int store_clock(struct store *st, uint64_t *out);

/**
 * store_clock_lower(st, to, old):
 * Set the store's clock to ${to} if it is ahead of it; ${*old} gets the
 * clock before.  Return 0 or a store error.  Whether to is the caller's
 * decision (PROTOCOL.md 5, "Setting the store's clock back").
 */
int store_clock_lower(struct store *st, uint64_t to, uint64_t *old);

/**
 * store_write(st, key, drafts, n):
 * Sign and commit ${n} local changes in one write transaction.  Each gets
 * the author's next sequence number, the id of the author's previous
 * record, a fresh clock tick and, unless it is a genesis, as parents the
 * current heads of its entity; ${drafts}[i].id and .hlc are filled in.
 * Return 0, a record-building error (KITH_ETOOBIG, KITH_EGENESIS...),
 * KITH_EBUSY while a restore has not caught up (store_restoring),
 * KITH_EFULL if an entity takes no more records from this author,
 * KITH_ENETWORK if the store has no network yet, or a store error; nothing
 * is committed on error.
 */
int store_write(struct store *st, const struct kcrypto_key *key,
    struct store_draft *drafts, size_t n);

/**
 * store_get(st, id, out):
 * Return the record ${id}, with its body if held, in ${*out} (the caller
 * frees it).  KITH_ENOTFOUND if it is not held, KITH_ECORRUPT if its
 * stored header or body fails its hash (the damage is noted for
 * store_mend).
 */
int store_get(struct store *st, const uint8_t id[KITH_ID_LEN],
    struct record **out);

/**
 * store_entity(st, entity, out, n):
 * Return all held records of ${entity}, with bodies, in (hlc, id) order, in
 * a new array ${*out} of ${*n}; free it with store_records_free.
 * KITH_ENOTFOUND if none are held.
 */
int store_entity(struct store *st, const uint8_t entity[KITH_ENTITY_LEN],
    struct record ***out, size_t *n);

/**
 * store_records_free(recs, n):
 * Free an array returned by store_entity.
 */
void store_records_free(struct record **recs, size_t n);

/* Iteration callback: ${rec} is borrowed for the call; non-zero stops. */
typedef int store_record_fn(void *arg, const struct record *rec);

/**
 * store_range(st, lo_hlc, lo_id, hi_hlc, hi_id, fn, arg):
 * Call ${fn} for each record whose (hlc, id) is at least (${lo_hlc},
 * ${lo_id}) and below (${hi_hlc}, ${hi_id}), in that order.  A NULL id
 * means all zero bytes.  A record whose stored header or body fails its
 * hash is skipped, and noted for store_mend: no caller ever sees damaged
 * bytes.  Return 0, ${fn}'s non-zero result, or an error.
 */
int store_range(struct store *st, uint64_t lo_hlc, const uint8_t *lo_id,
    uint64_t hi_hlc, const uint8_t *hi_id, store_record_fn *fn, void *arg);

/**
 * store_by_author(st, author, seq, fn, arg):
 * Call ${fn} for each record of ${author} with sequence number ${seq}: one,
 * or several if the author forked.  KITH_ENOTFOUND if there is none.
 */
int store_by_author(struct store *st, const uint8_t author[KITH_KEY_LEN],
    uint64_t seq, store_record_fn *fn, void *arg);

/**
 * store_author_last(st, author, seq, id):
 * Set ${*seq} and ${id} to ${author}'s last record held, before its fork
 * point if it forked: what a revocation names as the last record accepted.
 * ${*seq} is 0 if there is none.  Return 0 or a store error.
 */
int store_author_last(struct store *st, const uint8_t author[KITH_KEY_LEN],
    uint64_t *seq, uint8_t id[KITH_ID_LEN]);

/**
 * store_author_forked(st, author):
 * Return 1 if ${author} has ever reused a sequence number, else 0.
 */
int store_author_forked(struct store *st, const uint8_t author[KITH_KEY_LEN]);

/**
 * store_state(st, entity, out):
 * Return the materialised state of ${entity} in ${*out}, which the caller
 * frees.  KITH_ENOTFOUND if the entity is unknown.
 */
int store_state(struct store *st, const uint8_t entity[KITH_ENTITY_LEN],
    struct state **out);

/**
 * store_find_entity(st, prefix, nibbles, out):
 * Find the entity whose id starts with the ${nibbles} hex digits held in
 * ${prefix} (high nibble first; ${prefix} holds (${nibbles}+1)/2 bytes) and
 * copy its id to ${out}.  Return 0, KITH_ENOTFOUND, or KITH_EEXIST if more
 * than one entity matches.
 */
int store_find_entity(struct store *st, const uint8_t *prefix, size_t nibbles,
    uint8_t out[KITH_ENTITY_LEN]);

/* State iteration callback: ${s} is borrowed; non-zero stops. */
typedef int store_state_fn(void *arg, const struct state *s);

/**
 * store_states(st, kind, fn, arg):
 * Call ${fn} for each entity of ${kind} (0 for every kind) in entity-id
 * order.  Return 0, ${fn}'s non-zero result, or an error.
 */
int store_states(struct store *st, uint64_t kind, store_state_fn *fn,
    void *arg);

/**
 * store_digest(st, out):
 * Write to ${out}[32] the BLAKE2b-256 of every entity's state encoding,
 * concatenated in entity-id order.
 */
int store_digest(struct store *st, uint8_t out[KITH_HASH_LEN]);

/* Verification callback: record ${id} failed with ${rc}. */
typedef void store_bad_fn(void *arg, const uint8_t id[KITH_ID_LEN], int rc);

/**
 * store_verify(st, bad, arg, checked, nbad):
 * Re-check every stored record: its id, signature and body hash, and that
 * the indexes agree.  Call ${bad} for each failure; set ${*checked} and
 * ${*nbad}.  Return 0 if the scan ran (whatever it found), or an error.
 */
int store_verify(struct store *st, store_bad_fn *bad, void *arg,
    size_t *checked, size_t *nbad);

/* What store_check and store_mend found wrong. */
#define STORE_BAD_RECORD	1	/* a header fails its id or signature */
#define STORE_BAD_BODY		2	/* a body fails its header's hash */
#define STORE_BAD_INDEX		3	/* an index entry missing or dangling */
#define STORE_BAD_STATE		4	/* a state differs from its records' */

/*
 * Called for each problem: ${id} is the record's id (STORE_BAD_RECORD,
 * _BODY, and index entries of a record), or an entity id in its first 16
 * bytes (STORE_BAD_STATE); ${what} says which check failed.  Borrowed.
 */
typedef void store_check_fn(void *arg, int kind,
    const uint8_t id[KITH_ID_LEN], const char *what);

/* Counts of a store_check. */
struct store_check {
	size_t records, bodies, index, states;	/* checked */
	size_t bad_records, bad_bodies, bad_index, bad_states;
	size_t unjudged;	/* states not compared: their records are bad */
};

/**
 * store_check(st, fn, arg, out):
 * Check every record (id, signature, body hash), every index entry in
 * both directions, and every entity's materialised state against the
 * state its intact records compute, in one read transaction; call ${fn}
 * for each problem and fill ${*out}.  An entity with a damaged record or
 * body is not judged (counted in unjudged): its state is recomputed once
 * the good copy is back.  Return 0 if the check ran, whatever it found,
 * or a store error.
 */
int store_check(struct store *st, store_check_fn *fn, void *arg,
    struct store_check *out);

/**
 * store_mend(st, fn, arg, n):
 * Contain the damage that reads since the last call found (a record
 * whose header no longer hashes to its id, or a body to its header's
 * hash; store_get and store_range report such a record as KITH_ECORRUPT
 * and note it): drop a damaged body, so that store_missing lists it and
 * a sync session fetches it again; take a damaged record out of every
 * index, so that reconciliation fetches it again; recompute the entities
 * concerned.  One write transaction.  Call ${fn} with STORE_BAD_BODY or
 * STORE_BAD_RECORD for each, and set ${*n} to their number.  Return 0 or
 * a store error (the damage stays noted).
 */
int store_mend(struct store *st, store_check_fn *fn, void *arg, size_t *n);

/**
 * store_patrol(st, from, max, next, n):
 * Read up to ${max} records from the reconciliation-order key ${from}
 * (KITH_ID_LEN + 8 bytes, all zero to begin), checking each against its
 * hashes, so that damage nobody asks for is found too (and noted for
 * store_mend).  ${next} gets the key to go on from, all zero after the
 * last record; ${*n} the damaged ones found.  Return 0 or a store error.
 */
int store_patrol(struct store *st, const uint8_t from[8 + KITH_ID_LEN],
    size_t max, uint8_t next[8 + KITH_ID_LEN], size_t *n);

/* What store_rebuild did. */
struct store_rebuilt {
	size_t records;		/* intact records kept */
	size_t bad_records;	/* taken out: peers will bring them again */
	size_t bad_bodies;	/* dropped: wanted from peers again */
	size_t entities;	/* states recomputed */
};

/**
 * store_rebuild(st, fn, arg, out):
 * Rebuild every index and every entity's state from the stored records,
 * in one write transaction: records that fail their id or signature are
 * removed, bodies that fail their hash are dropped (and wanted again), and
 * ${fn} is called for each.  The change log starts again.  Fill ${*out}.
 * Return 0 or a store error (nothing changed).
 */
int store_rebuild(struct store *st, store_check_fn *fn, void *arg,
    struct store_rebuilt *out);

/**
 * store_restoring(st):
 * Return 1 if the store is being rebuilt from peers (store_set_restoring)
 * and has not caught up: store_write then refuses with KITH_EBUSY.
 */
int store_restoring(struct store *st);

/**
 * store_set_restoring(st, on):
 * Mark the store as being restored from peers (${on} 1), or as caught up
 * (0).  Return 0 or a store error.
 */
int store_set_restoring(struct store *st, int on);

/**
 * store_stats(st, out):
 * Fill ${*out}.
 */
int store_stats(struct store *st, struct store_stats *out);

/**
 * store_upgrade(st, dry_run, from, records):
 * Bring the store ${st}, opened with STORE_UPGRADE, to this kith's
 * format in one write transaction: from format 2, build the
 * reconciliation fingerprint tree of its ${*records} records; from 2 or
 * 3, make the blind index's database, empty (the first process that
 * holds the node key builds it).  Set
 * ${*from} to the format found (the current one: nothing to do).  With
 * ${dry_run}, count and change nothing.  Return 0, KITH_EBUSY if another
 * process has the store open, or a store error; on error nothing changed.
 */
int store_upgrade(struct store *st, int dry_run, int *from,
    uint64_t *records);

/*
 * The blind index (node/find.h): keyed hashes of the personal fields this
 * node can open, each naming the entity it came from.  The store keeps
 * them and cannot compute them (it holds no key); whoever holds the node
 * key brings the index up to date from the change log (store_log_read).
 * The store takes an erased entity out of it at once, and notes an entity
 * whose state changed without a change-log entry (a body filled in or
 * dropped, a member's standing changed) as dirty, to be indexed again.
 */
#define STORE_BLIND_LEN		16	/* bytes of a hash */

/* How far the index has come. */
struct store_blind_mark {
	int valid;		/* 0: never built, or dropped: build it afresh */
	uint64_t gen;		/* moves on with every store_blind_update */
	uint64_t at;		/* change-log counter indexed up to */
	uint64_t snap;		/* the snapshot read (for store_blind_update) */
};

/* An entity's hashes for store_blind_update; all borrowed. */
struct store_blind_ent {
	const uint8_t *entity;				/* KITH_ENTITY_LEN */
	const uint8_t (*hash)[STORE_BLIND_LEN];
	size_t n;		/* 0: the entity leaves the index */
};

/*
 * A store_blind_read callback: entity ${entity} (borrowed) has hash number
 * ${i} of those asked for, or, for ${i} equal to their number, is dirty.
 * Non-zero stops.
 */
typedef int store_blind_fn(void *arg, size_t i,
    const uint8_t entity[KITH_ENTITY_LEN]);

/**
 * store_blind_read(st, hash, nh, m, fn, arg):
 * From one read transaction: fill ${*m}, call ${fn} for each entity
 * indexed under each of the ${nh} hashes ${hash}, then for each dirty
 * entity.  Return 0, ${fn}'s non-zero result, or a store error.
 */
int store_blind_read(struct store *st, const uint8_t (*hash)[STORE_BLIND_LEN],
    size_t nh, struct store_blind_mark *m, store_blind_fn *fn, void *arg);

/**
 * store_blind_update(st, seen, at, afresh, e, n):
 * In one write transaction, if the index is still as ${seen} (from
 * store_blind_read) found it: give each of the ${n} entities ${e} its
 * hashes (replacing those it had; none for an erased entity, whatever
 * ${e} says), first dropping every entry if ${afresh}; forget the dirty
 * entities ${seen} saw; and mark the index as built up to change-log
 * counter ${at}.  Return 0, KITH_EBUSY if another process moved the
 * index on since (read again and retry), KITH_EINVAL on a read-only
 * handle, or a store error (nothing changed).
 */
int store_blind_update(struct store *st, const struct store_blind_mark *seen,
    uint64_t at, int afresh, const struct store_blind_ent *e, size_t n);

/**
 * store_rdonly(st):
 * Return 1 if ${st} was opened read-only, else 0.
 */
int store_rdonly(const struct store *st);

/**
 * store_compact(st, path):
 * Write a compacted copy of the store's data file to ${path}, which must
 * not exist (KITH_EEXIST).  On failure nothing is left at ${path}.
 */
int store_compact(struct store *st, const char *path);

/**
 * store_scrub_due(st, since_ms):
 * Set ${*since_ms} to when bodies first left the store (erased, or past
 * their retention date) since its last scrub, in ms since the epoch; 0 if
 * none have.  Return 0 or a store error.
 */
int store_scrub_due(struct store *st, uint64_t *since_ms);

/**
 * store_scrub_request(st):
 * Mark a scrub due at once: the daemon that holds the store runs it at its
 * next look.  Return 0 or a store error.
 */
int store_scrub_request(struct store *st);

/**
 * store_alone(st):
 * Return 1 if ${st} is, for now, the store's one handle in any process (a
 * scrub would not wait), else 0.  It looks without waiting.
 */
int store_alone(struct store *st);

/**
 * store_is_open(st):
 * Return 1 if ${st} has its store open; 0 after a scrub that could not
 * reopen it (close it and stop).
 */
int store_is_open(const struct store *st);

/**
 * store_scrub(st, before, after):
 * Write the store afresh, entry by entry, so no byte of a body that left
 * it (in LMDB's freed pages or in the unused part of a page still in use)
 * remains in its files, and swap the copy in with one rename.  Runs only
 * while ${st} is the store's one handle in any process (every handle holds
 * the store's use lock shared; this takes it alone, without waiting), and
 * no transaction of this process is open: KITH_EBUSY if another handle is
 * open.  ${*before} and ${*after} get the data file's sizes.  On any
 * failure the store is as it was.  Return 0, KITH_EBUSY, KITH_EINVAL (a
 * read-only handle) or a store error; see store_is_open after an error.
 */
int store_scrub(struct store *st, uint64_t *before, uint64_t *after);

/**
 * store_log_last(st, out):
 * Set ${*out} to the counter of the store's change log: every record
 * inserted, by any process, takes the next counter in the transaction that
 * stores it.  0 if no record has been inserted since the log began (a
 * store from before it holds records with no entry).  Return 0 or a store
 * error.
 */
int store_log_last(struct store *st, uint64_t *out);

/**
 * store_log_read(st, after, max, fn, arg, last):
 * Call ${fn} with the counter, hlc and id of each record whose change-log
 * counter is above ${after}, in counter order, at most ${max} of them, all
 * from one read transaction: what one call gives, and every call after it
 * from
 * ${*last}, misses no commit, as long as the reader keeps within the
 * newest STORE_LOG_KEEP entries (older ones are gone: counters then skip
 * ahead).  Set ${*last} to the counter of the last record given
 * (${after} if none).  Return 0, ${fn}'s non-zero result, or
 * a store error.
 */
typedef int store_log_fn(void *arg, uint64_t counter, uint64_t hlc,
    const uint8_t id[KITH_ID_LEN]);
int store_log_read(struct store *st, uint64_t after, size_t max,
    store_log_fn *fn, void *arg, uint64_t *last);

/*
 * A store_db_usage callback: one named database, ${entries} entries in
 * ${bytes} of pages (branch, leaf and overflow, times the page size).
 * ${name} is borrowed for the call.  Non-zero stops the walk.
 */
typedef int store_db_fn(void *arg, const char *name, size_t entries,
    uint64_t bytes);

/**
 * store_db_usage(st, fn, arg):
 * Call ${fn} once for each of the store's named databases, in a fixed
 * order, with what it holds as of one read transaction: where a store's
 * bytes per record go.  Pages LMDB keeps free, its own catalogue and its
 * meta pages are in none.  Return 0, ${fn}'s non-zero result, or a store
 * error.
 */
int store_db_usage(struct store *st, store_db_fn *fn, void *arg);

#endif
