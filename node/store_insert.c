/*
 * Records into the store: inserted and indexed, applied in batches from
 * peers (store_apply) or signed and written by this node (store_write),
 * each under the roster and the limits an entity has.
 */

#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "chain.h"
#include "hlc.h"
#include "kcrypto.h"
#include "record.h"
#include "roster.h"
#include "state.h"
#include "store.h"
#include "store_priv.h"

/* Read the links of ${author} at ${seq} (st_chains_at within ${txn}). */
static int
links_at(struct store *st, MDB_txn *txn, const uint8_t *author, uint64_t seq,
    struct chain_link *out, size_t *n)
{
	struct st_txn_chains tc = { st, txn };

	*n = 0;
	if (seq == 0)
		return 0;
	if (st_chains_at(&tc, author, seq, out, CHAIN_AT_MAX, n) != 0)
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
	struct st_txn_chains tc = { st, txn };
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
	if ((rc = st_chains_fork(&tc, h->author, &cur)) != 0)
		return rc;
	if (cur != 0 && cur <= at)
		return 0;
	st_put_be64(b, at);
	*moved = 1;
	return st_mdb_err(mdb_put(txn, st->dbi[DB_FORKS], &k, &v, 0));
}

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
		return st_mdb_err(rc);
	kcrypto_hash(hash, v.mv_data, v.mv_size);
	*header = memcmp(hash, record_id(rec), KITH_HASH_LEN) != 0;
	if (record_body(rec, &blen) == NULL)
		return 0;
	if ((rc = mdb_get(txn, st->dbi[DB_BODY], &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return st_mdb_err(rc);
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
    const uint8_t key[KEY_LEN], struct st_insert *in)
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
		if ((rc = st_mdb_err(mdb_put(txn, st->dbi[DB_REC], &k, &v,
		    0))) != 0)
			return rc;
		in->replaced = 1;
	}
	if (body) {
		p = record_body(rec, &len);
		v = (MDB_val){ len, (void *)p };
		if ((rc = st_mdb_err(mdb_put(txn, st->dbi[DB_BODY], &k, &v,
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
    const uint8_t key[KEY_LEN], struct st_insert *in)
{
	const struct record_header *h = record_header(rec);
	uint8_t ek[EXPKEY_LEN];
	MDB_val k = { KEY_LEN, (void *)key }, v;
	const uint8_t *body;
	size_t blen;
	int rc, wanted;

	if ((body = record_body(rec, &blen)) == NULL || st_expired_now(h) ||
	    (rc = st_has_key(st, txn, DB_NOBODY, key, KEY_LEN, &wanted)) != 0 ||
	    !wanted)
		return 0;
	v = (MDB_val){ blen, (void *)body };
	if ((rc = st_mdb_err(mdb_put(txn, st->dbi[DB_BODY], &k, &v, 0))) != 0 ||
	    (rc = st_del_key(st, txn, DB_NOBODY, key, KEY_LEN)) != 0)
		return rc;
	st_expiry_key(ek, h->expiry, key);
	if (h->expiry != 0 &&
	    (rc = st_put_empty(st, txn, DB_EXPIRY, ek, EXPKEY_LEN)) != 0)
		return rc;
	in->body = 1;
	/* The record is in the log already; its sealed fields were not. */
	return st_blind_dirty(st, txn, h->entity);
}

/*
 * Insert one record within ${txn}.  Return 0, KITH_EEXIST if its id is held
 * already (filling in its body if it was held without one and is wanted),
 * or a store error.
 */
/*
 * Put a (hlc, id)-keyed entry: appended when it is the last key, as
 * records arriving in clock order are, which fills pages; LMDB splits a
 * page it inserts into in half.
 */
static int
put_in_order(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
	int rc;

	if ((rc = mdb_put(txn, dbi, k, v, MDB_APPEND)) == MDB_KEYEXIST)
		rc = mdb_put(txn, dbi, k, v, 0);	/* not the last key */
	return st_mdb_err(rc);
}

static int
insert(struct store *st, MDB_txn *txn, const struct record *rec,
    struct st_insert *in)
{
	const struct record_header *h = record_header(rec);
	const uint8_t *id = record_id(rec), *sh;
	uint8_t key[KEY_LEN], hlcb[8];
	MDB_val k, v;
	size_t shlen;
	int rc;

	memset(in, 0, sizeof(*in));
	st_put_be64(hlcb, h->hlc);
	st_make_key(key, h->hlc, id);
	k = (MDB_val){ KITH_ID_LEN, (void *)id };
	v = (MDB_val){ 8, hlcb };
	if ((rc = mdb_put(txn, st->dbi[DB_IDS], &k, &v, MDB_NOOVERWRITE)) != 0) {
		if (rc != MDB_KEYEXIST)
			return st_mdb_err(rc);
		/* Held: mend a damaged copy; fill in a wanted body. */
		if ((rc = replace_damaged(st, txn, rec, key, in)) != 0 ||
		    (rc = fill_body(st, txn, rec, key, in)) != 0)
			return rc;
		return KITH_EEXIST;
	}
	sh = record_signed(rec, &shlen);
	k = (MDB_val){ KEY_LEN, key };
	v = (MDB_val){ shlen, (void *)sh };
	if ((rc = put_in_order(txn, st->dbi[DB_REC], &k, &v)) != 0)
		return rc;
	return st_index_record(st, txn, rec, key, 0, in);
}

/*
 * Index ${rec}, whose signed header is stored at ${key} (and whose body,
 * if it carries one and ${stored}, is stored already): its body or the
 * want of one, entity versions, the author's chain, membership, audience
 * and the change log.
 */
int
st_index_record(struct store *st, MDB_txn *txn, const struct record *rec,
    const uint8_t key[KEY_LEN], int stored, struct st_insert *in)
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

	if ((rc = st_has_key(st, txn, DB_DENY, h->entity, KITH_ENTITY_LEN,
	    &denied)) != 0)
		return rc;
	/* An erased entity takes no bodies but an erase record's. */
	denied = denied && h->kind != KITH_KIND_ERASE;
	body = record_body(rec, &blen);
	if (body != NULL && stored) {
		st_expiry_key(ek, h->expiry, key);
		if (h->expiry != 0 && (rc = st_put_empty(st, txn, DB_EXPIRY, ek,
		    EXPKEY_LEN)) != 0)
			return rc;
	} else if (body != NULL && !denied && !st_expired_now(h)) {
		v = (MDB_val){ blen, (void *)body };
		if ((rc = put_in_order(txn, st->dbi[DB_BODY], &k, &v)) != 0)
			return rc;
		st_expiry_key(ek, h->expiry, key);
		if (h->expiry != 0 && (rc = st_put_empty(st, txn, DB_EXPIRY, ek,
		    EXPKEY_LEN)) != 0)
			return rc;
	} else if (body == NULL && !denied && !st_expired_now(h) &&
	    (rc = st_put_empty(st, txn, DB_NOBODY, key, KEY_LEN)) != 0)
		return rc;
	/* Entity versions. */
	k = (MDB_val){ KITH_ENTITY_LEN, (void *)h->entity };
	v = (MDB_val){ KEY_LEN, (void *)(uintptr_t)key };
	if ((rc = mdb_put(txn, st->dbi[DB_ENT], &k, &v, 0)) != 0)
		return st_mdb_err(rc);
	/* The author's chain: forks are noted before the record joins it. */
	if ((rc = note_forks(st, txn, h, id, &in->forked,
	    &in->fork_moved)) != 0)
		return rc;
	memcpy(sk, h->author, KITH_KEY_LEN);
	st_put_be64(sk + KITH_KEY_LEN, h->seq);
	memcpy(sv, id, KITH_ID_LEN);
	memcpy(sv + KITH_ID_LEN, h->prev, KITH_ID_LEN);
	k = (MDB_val){ SEQKEY_LEN, sk };
	v = (MDB_val){ SEQVAL_LEN, sv };
	if ((rc = mdb_put(txn, st->dbi[DB_SEQ], &k, &v, 0)) != 0)
		return st_mdb_err(rc);
	/* Membership by record kind; a scope by audience. */
	if (KITH_KIND_IS_MEMBERSHIP(h->kind) &&
	    (rc = st_put_empty(st, txn, DB_MSHIP, key, KEY_LEN)) != 0)
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
		if ((rc = st_put_empty(st, txn, DB_AUD, ak, AUDKEY_LEN)) != 0)
			return rc;
	}
	/*
	 * The change log: the next counter, in this transaction.  Writers are
	 * serialised, so counters follow commit order and a reader's snapshot
	 * holds every entry up to its last (store_log_read).
	 */
	if ((rc = mdb_cursor_open(txn, st->dbi[DB_LOG], &cur)) != 0)
		return st_mdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_mdb_err(rc);
	st_put_be64(cnt, (rc == 0 && k.mv_size == 8 ? st_get_be64(k.mv_data) : 0) +
	    1);
	k = (MDB_val){ 8, cnt };
	v = (MDB_val){ KEY_LEN, (void *)(uintptr_t)key };
	if ((rc = mdb_put(txn, st->dbi[DB_LOG], &k, &v, MDB_APPEND)) != 0)
		return st_mdb_err(rc);
	st->log_last = st_get_be64(cnt);
	/* Entries past what is kept go: one for one, once kept full. */
	if (st->log_last > st->log_keep) {
		if ((rc = mdb_cursor_open(txn, st->dbi[DB_LOG], &cur)) != 0)
			return st_mdb_err(rc);
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
		    k.mv_size == 8 &&
		    st_get_be64(k.mv_data) <= st->log_last - st->log_keep)
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				break;
		mdb_cursor_close(cur);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return st_mdb_err(rc);
	}
	if (st->log_first == 0)
		st->log_first = st->log_last;
	return st_order_add(st, txn, key);
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
		return st_mdb_err(rc);
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

	return st_has_key(st, txn, DB_IDS, id, KITH_ID_LEN, &yes) == 0 && yes;
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
	uint64_t wall, bound;	/* the clock's merge bound (st_merge_bound) */
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
		return st_recompute(a->st, a->txn, a->roster,
		    record_header(rec)->entity);
	}
	return st_update_state(a->st, a->txn, a->roster, rec);
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
	struct st_insert in;
	int rrc;

	/* The batch's other records see the roster its membership makes. */
	if (i >= a->nmship && a->members) {
		a->members = 0;
		if ((rrc = st_roster_refresh(a->st, a->txn, &a->roster)) != 0)
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
	if ((rc = st_txn_begin(st, 0, &a.txn)) != 0)
		goto out;
	a.clock = st_clock_get(st, a.txn);
	a.wall = hlc_wall_ms();
	if ((rc = st_merge_bound(st, a.txn, &a.bound)) != 0 ||
	    (rc = st_roster_cached(st, a.txn, &a.roster)) != 0) {
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
		rc = st_roster_refresh(st, a.txn, &a.roster);
	/* Count what the roster holds back: stored, not applied. */
	for (i = 0; rc == 0 && i < n; i++) {
		if (pending[i] == NULL || rcs[i] != 0)
			continue;
		h = record_header(pending[i]);
		res->held += !KITH_KIND_IS_MEMBERSHIP(h->kind) &&
		    roster_standing(a.roster, h, record_id(pending[i])) != 0;
	}
	if (rc != 0 || (rc = st_clock_put(st, a.txn, a.clock)) != 0) {
		mdb_txn_abort(a.txn);
	} else {
		/* Read while the writer's lock is held: the commit frees it. */
		res->log_first = st->log_first;
		res->log_last = st->log_last;
		rc = st_txn_commit(st, a.txn);
	}
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
	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
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

			st_make_key(key, st_get_be64(v.mv_data), record_id(recs[i]));
			if (record_body(recs[i], &blen) != NULL &&
			    (rc = st_has_key(st, txn, DB_NOBODY, key, KEY_LEN,
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
	} while (rc == KITH_EMAPFULL && (rc = st_grow(st)) == 0);
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
		return st_mdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 || rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV_NODUP :
		    MDB_LAST);
	if (rc == 0 && k.mv_size == SEQKEY_LEN &&
	    memcmp(k.mv_data, author, KITH_KEY_LEN) == 0 &&
	    (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST_DUP)) == 0 &&
	    v.mv_size == SEQVAL_LEN) {
		*seq = st_get_be64((uint8_t *)k.mv_data + KITH_KEY_LEN);
		memcpy(id, v.mv_data, KITH_ID_LEN);
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_mdb_err(rc);
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
		return st_mdb_err(rc);
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
	struct st_insert in;
	size_t fields;
	int rc;

	/*
	 * A genesis starts a new entity, whose only record is the one in
	 * hand, so its state needs no reading back.
	 */
	if ((rc = room_for(w->st, w->txn, w->roster, rec, 0, &fields)) != 0 ||
	    (rc = insert(w->st, w->txn, rec, &in)) != 0 ||
	    (rc = h->genesis ? st_put_state(w->st, w->txn, w->roster,
	    (struct record *const *)&rec, 1) : st_update_state(w->st, w->txn,
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
	    (rc = st_txn_begin(st, 0, &w.txn)) != 0)
		goto out;
	clock = st_clock_get(st, w.txn);
	if ((rc = last_link(st, w.txn, author, &seq, last)) != 0 ||
	    (rc = st_roster_cached(st, w.txn, &w.roster)) != 0)
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
	if ((w.members && (rc = st_roster_refresh(st, w.txn, &w.roster)) != 0) ||
	    (rc = st_clock_put(st, w.txn, clock)) != 0)
		goto out;
	rc = st_txn_commit(st, w.txn);
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
		if ((rc = st_grow(st)) != 0)
			break;
	return rc;
}

int
store_author_last(struct store *st, const uint8_t author[KITH_KEY_LEN],
    uint64_t *seq, uint8_t id[KITH_ID_LEN])
{
	struct st_txn_chains tc;
	struct chain_link l[CHAIN_AT_MAX];
	uint64_t fork;
	MDB_txn *txn;
	size_t n;
	int rc;

	if ((rc = st_txn_begin(st, MDB_RDONLY, &txn)) != 0)
		return rc;
	tc.st = st;
	tc.txn = txn;
	if ((rc = st_chains_fork(&tc, author, &fork)) == 0 &&
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
	struct st_insert in;
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
		if ((rc = st_txn_begin(st, 0, &txn)) != 0)
			return rc;
		if ((rc = st_meta_get(st, txn, "network", &v)) == 0) {
			rc = KITH_EEXIST;
			goto fail;
		}
		if (rc != KITH_ENOTFOUND ||
		    (rc = st_meta_put(st, txn, "network", id, KITH_ID_LEN)) != 0 ||
		    (rc = insert(st, txn, charter, &in)) != 0 ||
		    (rc = st_roster_gen_bump(st, txn)) != 0 ||
		    (rc = st_recompute(st, txn, NULL, h->entity)) != 0 ||
		    (rc = st_clock_put(st, txn, h->hlc)) != 0)
			goto fail;
		if ((rc = st_txn_commit(st, txn)) == 0)
			break;
		if (rc != KITH_EMAPFULL || (rc = st_grow(st)) != 0)
			return rc;
	}
	memcpy(st->network, id, KITH_NETWORK_LEN);
	st->have_network = 1;
	return 0;
fail:
	mdb_txn_abort(txn);
	return rc;
}
