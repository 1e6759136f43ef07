/*
 * The store's materialised state: each entity's state computed from its
 * records (and the merge cache that keeps large entities cheap), the
 * bodies an erasure lets it hold, the roster and its refresh when
 * membership moves, and the reads of state and of what the roster holds.
 */

#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "hlc.h"
#include "kcrypto.h"
#include "record.h"
#include "roster.h"
#include "state.h"
#include "store.h"
#include "store_priv.h"

/* Drop ${entity}'s state and its kind index entry, if it has them. */
static int
drop_state(struct store *st, MDB_txn *txn, const uint8_t *entity)
{
	struct state *old;
	uint8_t kk[KINDKEY_LEN];
	MDB_val k = { KITH_ENTITY_LEN, (void *)entity }, v;
	int rc;

	if ((rc = st_del_key(st, txn, DB_MERGE, entity, KITH_ENTITY_LEN)) != 0)
		return rc;
	if ((rc = mdb_get(txn, st->dbi[DB_STATE], &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return st_mdb_err(rc);
	if (state_decode(v.mv_data, v.mv_size, &old) == 0) {
		st_kind_key(kk, state_kind(old), entity);
		state_free(old);
		if ((rc = st_del_key(st, txn, DB_KIND, kk, KINDKEY_LEN)) != 0)
			return rc;
	}
	return st_mdb_err(mdb_del(txn, st->dbi[DB_STATE], &k, NULL));
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

	if ((rc = st_has_key(st, txn, DB_DENY, entity, KITH_ENTITY_LEN,
	    &denied)) != 0)
		return rc;
	if (!erased && !denied)
		return 0;
	if (erased && !denied &&
	    ((rc = st_put_empty(st, txn, DB_DENY, entity, KITH_ENTITY_LEN)) != 0 ||
	    (rc = st_scrub_mark(st, txn)) != 0 ||
	    (rc = st_blind_forget(st, txn, entity)) != 0))
		return rc;
	if (!erased && (rc = st_del_key(st, txn, DB_DENY, entity,
	    KITH_ENTITY_LEN)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		h = record_header(recs[i]);
		st_make_key(key, h->hlc, record_id(recs[i]));
		if (h->kind == KITH_KIND_ERASE)
			continue;
		if (!erased) {
			/* No longer erased: what it lacks is wanted again. */
			if (record_body(recs[i], &blen) == NULL &&
			    !st_expired_now(h))
				rc = st_put_empty(st, txn, DB_NOBODY, key,
				    KEY_LEN);
			continue;
		}
		st_expiry_key(ek, h->expiry, key);
		if ((rc = st_del_key(st, txn, DB_BODY, key, KEY_LEN)) == 0 &&
		    (rc = st_del_key(st, txn, DB_NOBODY, key, KEY_LEN)) == 0 &&
		    h->expiry != 0)
			rc = st_del_key(st, txn, DB_EXPIRY, ek, EXPKEY_LEN);
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
	if ((rc = st_mdb_err(mdb_put(txn, st->dbi[DB_STATE], &k, &v, 0))) != 0)
		return rc;
	if (cache == NULL)
		return st_del_key(st, txn, DB_MERGE, entity, KITH_ENTITY_LEN);
	v = (MDB_val){ clen, (void *)cache };
	return st_mdb_err(mdb_put(txn, st->dbi[DB_MERGE], &k, &v, 0));
}

/* Store the state computed from ${recs}, all of one entity's records. */
int
st_put_state(struct store *st, MDB_txn *txn, const struct roster *roster,
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
		return orphan ? st_put_empty(st, txn, DB_ORPHAN, entity,
		    KITH_ENTITY_LEN) : st_del_key(st, txn, DB_ORPHAN, entity,
		    KITH_ENTITY_LEN);
	}
	if (rc != 0)
		return rc;
	if ((rc = st_del_key(st, txn, DB_ORPHAN, entity, KITH_ENTITY_LEN)) != 0 ||
	    (rc = follow_erasure(st, txn, recs, n,
	    state_get(s, "erased") != NULL)) != 0)
		goto out;
	/*
	 * The kind comes from the genesis and never changes, but an entity
	 * has one kind entry, so if it is there, it is not written again
	 * (which would dirty its page).
	 */
	st_kind_key(kk, state_kind(s), entity);
	if ((rc = mdb_get(txn, st->dbi[DB_KIND], &kkv, &v)) == MDB_NOTFOUND) {
		if (mdb_get(txn, st->dbi[DB_STATE], &k, &v) == 0 &&
		    state_decode(v.mv_data, v.mv_size, &old) == 0) {
			st_kind_key(kk, state_kind(old), entity);
			rc = st_del_key(st, txn, DB_KIND, kk, KINDKEY_LEN);
			state_free(old);
			if (rc != 0)
				goto out;
			st_kind_key(kk, state_kind(s), entity);
		}
		need_kind = 1;
	} else if (rc != 0) {
		rc = st_mdb_err(rc);
		goto out;
	}
	if ((rc = write_state(st, txn, entity, s, cache, clen)) == 0 &&
	    need_kind)
		rc = st_put_empty(st, txn, DB_KIND, kk, KINDKEY_LEN);
out:
	free(cache);
	state_free(s);
	return rc;
}

/* Recompute ${entity}'s state from all its stored records. */
int
st_recompute(struct store *st, MDB_txn *txn, const struct roster *roster,
    const uint8_t *entity)
{
	struct record **recs = NULL;
	size_t n = 0;
	int rc;

	if ((rc = st_load_entity(st, txn, entity, &recs, &n)) == 0)
		rc = st_put_state(st, txn, roster, recs, n);
	else if (rc == KITH_ENOTFOUND && (rc = drop_state(st, txn,
	    entity)) == 0)
		/* None left intact: no state until good copies come. */
		rc = st_del_key(st, txn, DB_ORPHAN, entity, KITH_ENTITY_LEN);
	store_records_free(recs, n);
	return rc;
}

/*
 * Take ${rec}, just inserted, into its entity's state: through the
 * entity's merge cache, at the cost of what it changes, when state_add
 * can; else by computing the entity afresh.
 */
int
st_update_state(struct store *st, MDB_txn *txn, const struct roster *roster,
    const struct record *rec)
{
	const uint8_t *entity = record_header(rec)->entity;
	MDB_val k = { KITH_ENTITY_LEN, (void *)entity }, v;
	struct state *s = NULL;
	uint8_t *cache = NULL;
	size_t clen = 0;
	int rc;

	if ((rc = mdb_get(txn, st->dbi[DB_MERGE], &k, &v)) == MDB_NOTFOUND)
		return st_recompute(st, txn, roster, entity);
	if (rc != 0)
		return st_mdb_err(rc);
	rc = state_add(v.mv_data, v.mv_size, rec, roster, &s, &cache, &clen);
	if (rc == 0)
		rc = write_state(st, txn, entity, s, cache, clen);
	else if (rc == 1)
		rc = 0;		/* nothing moved */
	else if (rc == 2)
		rc = st_recompute(st, txn, roster, entity);
	free(cache);
	state_free(s);
	return rc;
}

/* Records read by key into a growing array (st_roster_load). */
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
	if ((rc = st_load_key(l->st, l->txn, k->mv_data, &l->recs[l->n])) ==
	    KITH_ECORRUPT)
		return 0;	/* noted for store_mend */
	if (rc != 0)
		return rc;
	l->n++;
	return 0;
}

/* Compute the roster afresh, within ${txn}, from records read by kind. */
int
st_roster_load(struct store *st, MDB_txn *txn, struct roster **out)
{
	struct st_txn_chains tc = { st, txn };
	struct chain_src src = { st_chains_at, st_chains_fork, &tc };
	struct loaded l = { st, txn, NULL, 0, 0 };
	int rc;

	if ((rc = st_walk_txn(st, txn, DB_MSHIP, KEY_LEN, load_one, &l)) == 0)
		rc = roster_compute(l.recs, l.n, &src, out);
	store_records_free(l.recs, l.n);
	return rc;
}

/* The membership generation: it moves whenever the roster may have. */
static uint64_t
roster_gen(struct store *st, MDB_txn *txn)
{
	MDB_val v;

	if (st_meta_get(st, txn, "rgen", &v) != 0 || v.mv_size != 8)
		return 0;
	return st_get_be64(v.mv_data);
}

int
st_roster_gen_bump(struct store *st, MDB_txn *txn)
{
	uint8_t b[8];

	st_put_be64(b, roster_gen(st, txn) + 1);
	return st_meta_put(st, txn, "rgen", b, 8);
}

/*
 * The roster for a write transaction, borrowed: the handle's cached one
 * while no transaction of any process has moved the generation since.
 */
int
st_roster_cached(struct store *st, MDB_txn *txn, const struct roster **out)
{
	struct roster *r;
	uint64_t gen = roster_gen(st, txn);
	int rc;

	if (st->roster == NULL || st->roster_gen != gen) {
		if ((rc = st_roster_load(st, txn, &r)) != 0)
			return rc;
		roster_free(st->roster);
		st->roster = r;
		st->roster_gen = gen;
	}
	*out = st->roster;
	return 0;
}

int
st_entity_cmp(const void *a, const void *b)
{

	return memcmp(a, b, KITH_ENTITY_LEN);
}

/* Recompute each distinct entity of the ${n} at ${ents} (sorted here). */
int
st_recompute_each(struct store *st, MDB_txn *txn, const struct roster *roster,
    uint8_t (*ents)[KITH_ENTITY_LEN], size_t n)
{
	size_t i;
	int rc = 0;

	if (n > 0)
		qsort(ents, n, KITH_ENTITY_LEN, st_entity_cmp);
	for (i = 0; rc == 0 && i < n; i++)
		if (i == 0 || memcmp(ents[i], ents[i - 1], KITH_ENTITY_LEN) != 0)
			rc = st_recompute(st, txn, roster, ents[i]);
	return rc;
}

/* Append ${entity} to the list ${*ents} of ${*n}. */
int
st_ents_add(uint8_t (**ents)[KITH_ENTITY_LEN], size_t *n, size_t *cap,
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
	if ((rc = st_ents_add(&ents, &n, &cap, ment)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_SEQ], &cur))) != 0) {
		free(ents);
		return rc;
	}
	for (op = MDB_SET_RANGE; ; op = MDB_NEXT) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0) {
			rc = rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
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
		if ((rc = st_mdb_err(mdb_get(txn, st->dbi[DB_IDS], &hv,
		    &hv))) != 0 || hv.mv_size != 8 ||
		    (st_make_key(key, st_get_be64(hv.mv_data), v.mv_data),
		    rc = st_mdb_err(mdb_get(txn, st->dbi[DB_REC], &rk, &hv))) != 0)
			break;
		if ((rc = record_decode(hv.mv_data, hv.mv_size, NULL, 0,
		    &rec)) != 0) {
			rc = rc == KITH_ENOMEM ? rc : KITH_ECORRUPT;
			break;
		}
		rc = st_ents_add(&ents, &n, &cap, record_header(rec)->entity);
		record_free(rec);
		rec = NULL;
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	/* Its standing changed, not the entities: the log names none. */
	if (rc == 0 && (rc = st_recompute_each(st, txn, roster, ents, n)) == 0)
		rc = st_blind_dirty_each(st, txn, ents, n);
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
int
st_roster_refresh(struct store *st, MDB_txn *txn, const struct roster **roster)
{
	struct roster *old = st->roster;
	const struct roster *nr, *sides[2];
	size_t s, i;
	int rc;

	st->roster = NULL;	/* the old one is ours to compare, then free */
	if ((rc = st_roster_gen_bump(st, txn)) != 0 ||
	    (rc = st_roster_cached(st, txn, &nr)) != 0) {
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

int
store_roster(struct store *st, struct roster **out)
{
	MDB_txn *txn;
	int rc;

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = st_roster_load(st, txn, out);
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
	if ((rc = st_load_id(hw->st, hw->txn, v->mv_data, &rec, 0)) ==
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
	if ((rc = st_load_entity(hw->st, hw->txn, k->mv_data, &recs, &n)) != 0)
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

	if ((rc = st_txn_begin(st, MDB_RDONLY, &hw.txn)) != 0)
		return rc;
	/* Every record, by author; a member in good standing has none held. */
	if ((rc = st_roster_load(st, hw.txn, &roster)) == 0) {
		hw.roster = roster;
		rc = st_walk_txn(st, hw.txn, DB_SEQ, SEQKEY_LEN, held_by_author,
		    &hw);
	}
	if (rc == 0)
		rc = st_walk_txn(st, hw.txn, DB_ORPHAN, KITH_ENTITY_LEN,
		    held_orphans, &hw);
	roster_free(roster);
	mdb_txn_abort(hw.txn);
	return rc;
}

/* An expiry index entry: its entity is stale if the body has expired. */
struct stale_walk {
	struct store *st;
	MDB_txn *txn;
	struct st_stale *sl;
	uint64_t now;
};

static int
stale_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct stale_walk *w = arg;
	struct record *rec;
	int rc;

	(void)v;
	if (st_get_be64(k->mv_data) > w->now)
		return 1;	/* the rest expire later */
	if ((rc = st_load_key(w->st, w->txn, (uint8_t *)k->mv_data + 8,
	    &rec)) == KITH_ECORRUPT)
		return 0;	/* noted for store_mend */
	if (rc != 0)
		return rc;
	rc = st_ents_add(&w->sl->e, &w->sl->n, &w->sl->cap,
	    record_header(rec)->entity);
	record_free(rec);
	return rc;
}

int
st_stale_load(struct store *st, MDB_txn *txn, struct st_stale *sl)
{
	struct stale_walk w = { st, txn, sl, hlc_wall_ms() };
	int rc;

	memset(sl, 0, sizeof(*sl));
	if ((rc = st_walk_txn(st, txn, DB_EXPIRY, EXPKEY_LEN, stale_one,
	    &w)) == 1)
		rc = 0;
	if (sl->n > 0)
		qsort(sl->e, sl->n, KITH_ENTITY_LEN, st_entity_cmp);
	return rc;
}

void
st_stale_free(struct st_stale *sl)
{

	free(sl->e);
	roster_free(sl->roster);
}

/*
 * ${entity}'s state as of now into ${*out}: the stored encoding ${stored},
 * or, if a body of it expired since the last purge, computed afresh.
 */
static int
state_now(struct store *st, MDB_txn *txn, struct st_stale *sl,
    const uint8_t *entity, const MDB_val *stored, struct state **out)
{
	struct record **recs = NULL;
	size_t n = 0;
	int rc;

	if (sl->n == 0 || bsearch(entity, sl->e, sl->n, KITH_ENTITY_LEN,
	    st_entity_cmp) == NULL) {
		rc = state_decode(stored->mv_data, stored->mv_size, out);
		return rc == 0 || rc == KITH_ENOMEM ? rc : KITH_ECORRUPT;
	}
	if ((sl->roster == NULL &&
	    (rc = st_roster_load(st, txn, &sl->roster)) != 0) ||
	    (rc = st_load_entity(st, txn, entity, &recs, &n)) != 0)
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
	struct st_stale sl;
	MDB_txn *txn;
	int rc;

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = st_stale_load(st, txn, &sl)) == 0 &&
	    (rc = st_mdb_err(mdb_get(txn, st->dbi[DB_STATE], &k, &v))) == 0)
		rc = state_now(st, txn, &sl, entity, &v, out);
	st_stale_free(&sl);
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
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = st_mdb_err(mdb_cursor_open(txn, st->dbi[DB_STATE], &cur))) != 0)
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
	rc = rc != 0 && rc != MDB_NOTFOUND ? st_mdb_err(rc) :
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
	struct st_stale sl;
	struct state *s;
	int rc, op;

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = st_stale_load(st, txn, &sl)) != 0 ||
	    (rc = st_mdb_err(mdb_cursor_open(txn,
	    st->dbi[kind ? DB_KIND : DB_STATE], &cur))) != 0)
		goto out;
	st_kind_key(kk, kind, (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
	k = (MDB_val){ KINDKEY_LEN, kk };
	for (op = kind ? MDB_SET_RANGE : MDB_FIRST; ; op = MDB_NEXT) {
		if ((rc = st_mdb_err(mdb_cursor_get(cur, &k, &v, op))) != 0) {
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
			if ((rc = st_mdb_err(mdb_get(txn, st->dbi[DB_STATE], &sk,
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
	st_stale_free(&sl);
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
