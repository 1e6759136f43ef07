/*
 * Sync sessions: the client's state machine and the server's answers.
 * Every frame from a peer is parsed strictly; a peer that breaks the
 * protocol gets an ERROR, is cut off and counted, and the node goes on.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "ingest.h"
#include "kcrypto.h"
#include "hlc.h"
#include "hold.h"
#include "kith.h"
#include "log.h"
#include "negentropy.h"
#include "rate.h"
#include "record.h"
#include "roster.h"
#include "store.h"
#include "sync.h"
#include "syncmsg.h"
#include "transport.h"

#define WINDOW		4	/* requests a client keeps in flight */
#define PUBLISHED_MAX	1024	/* commits noted for the log follower to skip */
#define INFLIGHT_MAX	(3 * WINDOW)

uint64_t
sync_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
short_id(char out[17], const uint8_t *id)
{

	kith_hex(out, id, 8);
}

/* A membership record (charter, member, revoke) may change the roster. */
static void
note_members(struct sync_node *nd, const struct record *rec)
{

	if (record_header(rec)->kind <= KITH_KIND_REVOKE)
		nd->members = 1;
}

void
sync_node_publish(struct sync_node *nd, const struct record *rec)
{
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	const char *topic;
	char other[32];

	note_members(nd, rec);
	if (nd->feed == NULL)
		return;
	if ((topic = kith_kind_name(record_header(rec)->kind)) == NULL) {
		snprintf(other, sizeof(other), "kind-%llu",
		    (unsigned long long)record_header(rec)->kind);
		topic = other;
	}
	syncmsg_put_record(&b, rec);
	if (b.err == 0)
		(void)tsock_publish(nd->feed, topic, b.p, b.len);
	syncmsg_buf_free(&b);
}

void
sync_node_added(struct sync_node *nd, struct record *const *recs,
    const int *rcs, size_t n, const struct store_result *res)
{
	struct sync_logrange *r;
	size_t i, at;
	int publish;

	/*
	 * The follower takes a transaction's entries in order, perhaps in
	 * two looks: publish only if it has taken none of them.
	 */
	publish = nd->feed != NULL && res->log_first != 0 &&
	    res->log_first > nd->log_seen && nd->npublished < PUBLISHED_MAX;
	if (publish) {
		if ((r = realloc(nd->published, (nd->npublished + 1) *
		    sizeof(*r))) == NULL)
			publish = 0;
		else
			nd->published = r;
	}
	if (publish) {
		/* Sessions commit in parallel: keep the ranges in order. */
		for (at = nd->npublished; at > 0 &&
		    nd->published[at - 1].lo > res->log_first; at--)
			;
		memmove(&nd->published[at + 1], &nd->published[at],
		    (nd->npublished - at) * sizeof(*nd->published));
		nd->published[at].lo = res->log_first;
		nd->published[at].hi = res->log_last;
		nd->npublished++;
	}
	for (i = 0; i < n; i++) {
		if (rcs[i] != 0)
			continue;
		if (publish)
			sync_node_publish(nd, recs[i]);
		else
			note_members(nd, recs[i]);
	}
}

int
sync_node_follow(struct sync_node *nd, uint64_t counter)
{
	size_t drop;
	int seen;

	nd->log_seen = counter;
	for (drop = 0; drop < nd->npublished &&
	    nd->published[drop].hi < counter; drop++)
		;
	if (drop > 0) {
		memmove(nd->published, nd->published + drop,
		    (nd->npublished - drop) * sizeof(*nd->published));
		nd->npublished -= drop;
	}
	seen = nd->npublished > 0 && nd->published[0].lo <= counter;
	return seen;
}

void
sync_node_free(struct sync_node *nd)
{

	free(nd->published);
	nd->published = NULL;
	nd->npublished = 0;
}

int
sync_own_fault(int rc)
{

	return rc == KITH_ENOSPC || rc == KITH_EMAPFULL || rc == KITH_EIO ||
	    rc == KITH_ESTORE || rc == KITH_ENOMEM || rc == KITH_EBUSY ||
	    rc == KITH_ECORRUPT;
}

/*
 * A record from ${who} refused for ${rc}: one line a minute for each peer
 * (${peer}: its endpoint or key) and reason, with a count of the rest.
 */
static void
log_reject(const char *who, const char *peer, const struct record *rec,
    int rc)
{
	char id[17], key[96];

	short_id(id, record_id(rec));
	snprintf(key, sizeof(key), "reject %.80s %d", peer, rc);
	log_warn_every(key, "reject peer=%s record=%s: %s", who, id,
	    kith_strerror(rc));
}

static void
log_mended(void *arg, int kind, const uint8_t id[KITH_ID_LEN],
    const char *what)
{
	char hex[17];

	(void)arg;
	short_id(hex, id);
	log_warn("damaged %s record=%s: %s", kind == STORE_BAD_BODY ? "body" :
	    "record", hex, what);
}

void
sync_node_mend(struct sync_node *nd)
{
	size_t n;
	int rc;

	if ((rc = store_mend(nd->st, log_mended, NULL, &n)) != 0)
		log_warn("cannot contain damaged records: %s",
		    kith_strerror(rc));
	else if (n > 0 && nd->changed != NULL)
		nd->changed(nd->arg, NULL);
}

/*
 * Client.
 */

/* A request awaiting its last reply frame. */
/*
 * A PCN's scope (PROTOCOL.md 9.8): the (hlc, id) of the records in it,
 * in order, taken from the store once per session.
 */
struct scope {
	struct negentropy_item *v;
	size_t n, cap;
};

static int
scope_add(void *arg, uint64_t hlc, const uint8_t id[KITH_ID_LEN])
{
	struct scope *sc = arg;
	struct negentropy_item *ni;
	size_t cap;

	if (sc->n == sc->cap) {
		cap = sc->cap ? 2 * sc->cap : 256;
		if ((ni = realloc(sc->v, cap * sizeof(*ni))) == NULL)
			return KITH_ENOMEM;
		sc->v = ni;
		sc->cap = cap;
	}
	sc->v[sc->n].timestamp = hlc;
	memcpy(sc->v[sc->n++].id, id, KITH_ID_LEN);
	return 0;
}

/*
 * Set ${*r} to the roster sessions judge by: the owner's if it keeps one
 * (computing one costs), else the store's, computed into ${*loaded}, which
 * the caller frees with roster_free.
 */
static int
roster_of(struct sync_node *nd, const struct roster **r,
    struct roster **loaded)
{
	int rc;

	*loaded = NULL;
	if ((*r = nd->roster) != NULL)
		return 0;
	if ((rc = store_roster(nd->st, loaded)) != 0)
		return rc;
	*r = *loaded;
	return 0;
}

/*
 * Is ${key} a PCN's, not revoked, in roster ${r}?  Then set ${*scoped} and
 * take its scope into ${sc}.
 */
static int
scope_take(struct sync_node *nd, const struct roster *r,
    const uint8_t key[KITH_KEY_LEN], struct scope *sc, int *scoped)
{
	const struct roster_entry *e;
	int rc = 0;

	*scoped = 0;
	sc->n = 0;
	if ((e = roster_find(r, key)) != NULL && e->role == ROLE_PCN &&
	    e->revoked == 0) {
		*scoped = 1;
		rc = store_scope(nd->st, key, scope_add, sc);
	}
	return rc;
}

struct inflight {
	uint32_t reqid;
	uint8_t type;
	struct syncmsg_bound hi;	/* PULL: the range's end */
};

struct sync_client {
	struct sync_node *nd;
	char peer[CONFIG_ENDPOINT_MAX + 1];
	uint8_t key[KITH_KEY_LEN];	/* the peer's node key */
	/*
	 * A session with a PCN reconciles the PCN's scope only, from this
	 * side too: it offers, and so pushes, nothing else.
	 */
	int scoped;
	struct scope scope;
	struct tsock *sock;
	struct ingest *ig;
	struct negentropy *ng;
	int damaged;		/* a record to push failed its hashes */
	struct syncmsg_buf out;
	uint32_t next_reqid;
	struct inflight fly[INFLIGHT_MAX];
	size_t nfly;
	int turn_open;		/* requests sent since the last reply */
	int welcomed, neg_done, failed;
	uint8_t (*need)[KITH_ID_LEN];	/* ids to GET */
	size_t nneed, needpos;
	uint8_t (*have)[KITH_ID_LEN];	/* ids to PUSH */
	size_t nhave, havepos;
	struct syncmsg_bound *pulls;	/* ranges to PULL, in pairs */
	size_t npulls, pullpos, cappulls;
	uint64_t last_ms;
	struct sync_stats stats;
	char error[SYNCMSG_TEXT_MAX + 1];
	int refused;		/* the code of an ERROR answering the HELLO */
	/* The peer's clock (PROTOCOL.md 5): the HELLO's round trip. */
	uint64_t hello_wall, hello_mono;
	int64_t offset_ms;
	uint64_t offset_err;
	int clocked;
	/* Records held for their time this session: how many, how far. */
	uint64_t held_new, held_max;
};

static struct inflight *
fly_find(struct sync_client *c, uint32_t reqid)
{
	size_t i;

	for (i = 0; i < c->nfly; i++)
		if (c->fly[i].reqid == reqid)
			return &c->fly[i];
	return NULL;
}

static void
fly_done(struct sync_client *c, struct inflight *f)
{

	*f = c->fly[--c->nfly];
}

/* Send the frame in c->out as a request of ${type}. */
static int
request(struct sync_client *c, uint8_t type, const struct syncmsg_bound *hi)
{
	int rc;

	if (c->out.err != 0)
		return c->out.err;
	if ((rc = tsock_send(c->sock, NULL, c->out.p, c->out.len)) != 0)
		return rc;
	c->stats.bytes_out += c->out.len;
	if (type == SYNCMSG_BYE)
		return 0;	/* no reply: not a round trip */
	if (!c->turn_open) {
		c->turn_open = 1;
		c->stats.round_trips++;
	}
	c->fly[c->nfly].reqid = c->next_reqid;
	c->fly[c->nfly].type = type;
	if (hi != NULL)
		c->fly[c->nfly].hi = *hi;
	c->nfly++;
	c->next_reqid++;
	return 0;
}

static size_t
fly_count(const struct sync_client *c, uint8_t type)
{
	size_t i, n = 0;

	for (i = 0; i < c->nfly; i++)
		n += c->fly[i].type == type;
	return n;
}

static int
queue_pull(struct sync_client *c, const struct syncmsg_bound *lo,
    const struct syncmsg_bound *hi)
{
	struct syncmsg_bound *np;
	size_t cap;

	if (c->npulls + 2 > c->cappulls) {
		cap = c->cappulls ? 2 * c->cappulls : 16;
		if ((np = realloc(c->pulls, cap * sizeof(*np))) == NULL)
			return KITH_ENOMEM;
		c->pulls = np;
		c->cappulls = cap;
	}
	c->pulls[c->npulls++] = *lo;
	c->pulls[c->npulls++] = *hi;
	return 0;
}

/* Append ids to a queue, taking ${ids} (malloc'd) over when it is empty. */
static int
queue_ids(uint8_t (**q)[KITH_ID_LEN], size_t *n, size_t *pos,
    uint8_t (*ids)[KITH_ID_LEN], size_t nids)
{
	uint8_t (*nq)[KITH_ID_LEN];

	if (nids == 0) {
		free(ids);
		return 0;
	}
	if (*pos == *n) {
		free(*q);
		*q = ids;
		*n = nids;
		*pos = 0;
		return 0;
	}
	if ((nq = realloc(*q, (*n + nids) * KITH_ID_LEN)) == NULL) {
		free(ids);
		return KITH_ENOMEM;
	}
	memcpy(nq + *n, ids, nids * KITH_ID_LEN);
	free(ids);
	*q = nq;
	*n += nids;
	return 0;
}

/*
 * Would the peer refuse a record stamped ${hlc} as too far ahead of its
 * clock, even if its clock is as far ahead as the measured offset allows?
 * Then it is not pushed now: the peer would only hold it (PROTOCOL.md 5).
 * A later session pushes it once the peer's clock is near its stamp.
 */
static int
beyond_peer(const struct sync_client *c, uint64_t hlc)
{
	int64_t peer_now;

	if (!c->clocked)
		return 0;
	peer_now = (int64_t)hlc_wall_ms() + c->offset_ms +
	    (int64_t)c->offset_err;
	return peer_now > 0 && hlc_check(hlc, (uint64_t)peer_now) != 0;
}

/* Issue queued GETs, PULLs and PUSHes, as the window allows. */
static int
pump(struct sync_client *c)
{
	struct record *rec;
	size_t k;
	int rc;

	while (c->needpos < c->nneed && c->nfly < INFLIGHT_MAX &&
	    fly_count(c, SYNCMSG_GET) < WINDOW) {
		k = c->nneed - c->needpos;
		if (k > SYNCMSG_GET_MAX)
			k = SYNCMSG_GET_MAX;
		syncmsg_begin(&c->out, SYNCMSG_GET, c->next_reqid);
		syncmsg_put(&c->out, c->need[c->needpos], k * KITH_ID_LEN);
		if ((rc = request(c, SYNCMSG_GET, NULL)) != 0)
			return rc;
		c->needpos += k;
	}
	while (c->pullpos < c->npulls && c->nfly < INFLIGHT_MAX &&
	    fly_count(c, SYNCMSG_PULL) < WINDOW) {
		syncmsg_begin(&c->out, SYNCMSG_PULL, c->next_reqid);
		syncmsg_put_bound(&c->out, &c->pulls[c->pullpos]);
		syncmsg_put_bound(&c->out, &c->pulls[c->pullpos + 1]);
		if ((rc = request(c, SYNCMSG_PULL,
		    &c->pulls[c->pullpos + 1])) != 0)
			return rc;
		c->pullpos += 2;
	}
	while (c->havepos < c->nhave && c->nfly < INFLIGHT_MAX &&
	    fly_count(c, SYNCMSG_PUSH) < WINDOW) {
		syncmsg_begin(&c->out, SYNCMSG_PUSH, c->next_reqid);
		while (c->havepos < c->nhave &&
		    c->out.len < SYNCMSG_RECORDS_MAX) {
			rc = store_get(c->nd->st, c->have[c->havepos], &rec);
			c->havepos++;
			if (rc == KITH_ECORRUPT)
				c->damaged = 1;	/* never sent; sync_node_mend below */
			if (rc == KITH_ENOTFOUND || rc == KITH_ECORRUPT)
				continue;
			if (rc != 0)
				return rc;
			if (beyond_peer(c, record_header(rec)->hlc)) {
				c->stats.withheld++;
				record_free(rec);
				continue;
			}
			syncmsg_put_record(&c->out, rec);
			record_free(rec);
			c->stats.sent++;
		}
		if (c->out.len > SYNCMSG_HDR_LEN &&
		    (rc = request(c, SYNCMSG_PUSH, NULL)) != 0)
			return rc;
	}
	if (c->damaged) {
		c->damaged = 0;
		sync_node_mend(c->nd);
	}
	return 0;
}

/*
 * Drop from ${ids} those held for their time (they came before, stamped
 * too far ahead): not fetched again until due.  Return how many are left.
 */
static size_t
unheld(const struct hold *h, uint8_t (*ids)[KITH_ID_LEN], size_t n)
{
	size_t i, k = 0;

	if (h == NULL)
		return n;
	for (i = 0; i < n; i++)
		if (!hold_has(h, ids[i]))
			memmove(ids[k++], ids[i], KITH_ID_LEN);
	return k;
}

/* Is ${rc} Negentropy's finding that a message breaks the protocol? */
static int
bad_message(int rc)
{

	return rc == KITH_ETRUNC || rc == KITH_EVERSION || rc == KITH_ETYPE ||
	    rc == KITH_ERANGE || rc == KITH_ENONCANON;
}

/* One step of a client's Negentropy: its input, its outputs. */
struct step {
	struct sync_client *c;
	const uint8_t *in;	/* the server's reply; NULL: begin */
	size_t inlen;
	uint8_t *msg;
	size_t len;
	uint8_t (*have)[NEGENTROPY_ID_LEN], (*need)[NEGENTROPY_ID_LEN];
	size_t nhave, nneed;
};

/*
 * Take a step over the set ${src}: the store's order, read in one
 * snapshot (or NULL: the scope's array).
 */
static int
step_over(void *arg, const struct negentropy_source *src)
{
	struct step *s = arg;
	struct sync_client *c = s->c;
	int rc;

	if (s->in == NULL) {
		c->ng = src != NULL ?
		    negentropy_new_source(src, SYNCMSG_RECORDS_MAX) :
		    negentropy_new(c->scope.v, c->scope.n, SYNCMSG_RECORDS_MAX);
		if (c->ng == NULL)
			return KITH_ENOMEM;
		negentropy_set_policy(c->ng, SYNC_IDLIST_BELOW, 1);
		return negentropy_initiate(c->ng, &s->msg, &s->len);
	}
	if (src != NULL)
		negentropy_set_source(c->ng, src);
	else if ((rc = negentropy_set_items(c->ng, c->scope.v,
	    c->scope.n)) != 0)
		return rc;
	rc = negentropy_reconcile_client(c->ng, s->in, s->inlen, &s->msg,
	    &s->len, &s->have, &s->nhave, &s->need, &s->nneed);
	return bad_message(rc) ? KITH_EPROTO : rc;
}

/* Send the next Negentropy message, or note that reconciliation is done. */
static int
reconcile(struct sync_client *c, const uint8_t *in, size_t inlen)
{
	struct step s = { c, in, inlen, NULL, 0, NULL, NULL, 0, 0 };
	uint8_t (*have)[NEGENTROPY_ID_LEN] = NULL, (*need)[NEGENTROPY_ID_LEN] = NULL;
	struct negentropy_item *pulls = NULL;
	struct syncmsg_bound lo, hi;
	uint8_t *msg = NULL;
	size_t len, nhave, nneed, npulls = 0, i;
	int rc;

	rc = c->scoped ? step_over(&s, NULL) :
	    store_fp_read(c->nd->st, step_over, &s);
	msg = s.msg;
	len = s.len;
	have = s.have;
	nhave = s.nhave;
	need = s.need;
	nneed = s.nneed;
	if (rc != 0)
		goto out;
	nneed = unheld(c->nd->hold, need, nneed);
	if ((rc = queue_ids(&c->have, &c->nhave, &c->havepos, have,
	    nhave)) != 0 ||
	    (rc = queue_ids(&c->need, &c->nneed, &c->needpos, need,
	    nneed)) != 0)
		goto out;
	have = need = NULL;	/* transferred */
	negentropy_take_pulls(c->ng, &pulls, &npulls);
	for (i = 0; i < npulls && rc == 0; i++) {
		lo.hlc = pulls[2 * i].timestamp;
		memcpy(lo.id, pulls[2 * i].id, KITH_ID_LEN);
		hi.hlc = pulls[2 * i + 1].timestamp;
		memcpy(hi.id, pulls[2 * i + 1].id, KITH_ID_LEN);
		rc = queue_pull(c, &lo, &hi);
	}
	if (rc != 0)
		goto out;
	if (msg == NULL || (in == NULL && len <= 1)) {
		c->neg_done = 1;
	} else {
		syncmsg_begin(&c->out, SYNCMSG_RECON, c->next_reqid);
		syncmsg_put(&c->out, msg, len);
		rc = request(c, SYNCMSG_RECON, NULL);
	}
out:
	free(pulls);
	free(have);
	free(need);
	free(msg);
	return rc;
}

/* Is (hlc, id) in the scope ${sc}, in (hlc, id) order? */
static int
scope_has(const struct scope *sc, uint64_t hlc, const uint8_t *id)
{
	size_t lo = 0, hi = sc->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = sc->v[mid].timestamp < hlc ? -1 : sc->v[mid].timestamp > hlc;
		if (c == 0)
			c = memcmp(sc->v[mid].id, id, KITH_ID_LEN);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The bodies a session asks for: held ids, in the scopes that apply. */
struct wanted {
	const struct scope *in[2];	/* NULL: no limit */
	uint8_t (*ids)[KITH_ID_LEN];
	size_t n;
};

static int
want_one(void *arg, uint64_t hlc, const uint8_t id[KITH_ID_LEN])
{
	struct wanted *w = arg;
	int i;

	for (i = 0; i < 2; i++)
		if (w->in[i] != NULL && !scope_has(w->in[i], hlc, id))
			return 0;
	memcpy(w->ids[w->n++], id, KITH_ID_LEN);
	return w->n == SYNCMSG_GET_MAX;
}

/*
 * Queue a GET of the records this store holds without the bodies it wants
 * (store_missing): a RECORDS entry of a held record that carries the body
 * fills it in (store_dedup lets it through).  A peer without the body
 * skips the id or sends the header alone, which changes nothing.  At most
 * SYNCMSG_GET_MAX ids a session, the oldest first; only those in the
 * server's scope if the server is a PCN (it holds no others), and in this
 * node's own if this node is one (the server refuses a GET beyond it),
 * by roster ${r}.
 */
static int
want_bodies(struct sync_client *c, const struct roster *r)
{
	struct wanted w = { { NULL, NULL }, NULL, 0 };
	struct scope self = { NULL, 0, 0 };
	int self_scoped, rc;

	if ((w.ids = malloc(SYNCMSG_GET_MAX * KITH_ID_LEN)) == NULL)
		return KITH_ENOMEM;
	if ((rc = scope_take(c->nd, r, c->nd->key, &self,
	    &self_scoped)) != 0)
		goto out;
	w.in[0] = c->scoped ? &c->scope : NULL;
	w.in[1] = self_scoped ? &self : NULL;
	if ((rc = store_missing(c->nd->st, want_one, &w)) == 1)
		rc = 0;
	if (rc == 0 && w.n > 0) {
		log_info("sync bodies peer=%s asked=%zu", c->peer, w.n);
		rc = queue_ids(&c->need, &c->nneed, &c->needpos, w.ids, w.n);
		w.ids = NULL;	/* queue_ids took it */
	}
out:
	free(self.v);
	free(w.ids);
	return rc;
}

struct sync_client *
sync_client_new(struct sync_node *nd, const char *endpoint,
    const uint8_t node_pk[32], int *rc)
{
	struct syncmsg_hello h;
	struct sync_client *c;
	const struct roster *r;
	struct roster *loaded = NULL;
	uint8_t server_pk[32];

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		*rc = KITH_ENOMEM;
		return NULL;
	}
	c->nd = nd;
	snprintf(c->peer, sizeof(c->peer), "%s", endpoint);
	memcpy(c->key, node_pk, KITH_KEY_LEN);
	c->next_reqid = 1;
	c->stats.start_ms = c->last_ms = sync_now_ms();
	if (kcrypto_x25519_public(node_pk, server_pk) != 0) {
		*rc = KITH_EINVAL;
		goto fail;
	}
	/* One roster for both scopes: the peer's and this node's. */
	if ((*rc = roster_of(nd, &r, &loaded)) != 0 ||
	    (*rc = scope_take(nd, r, node_pk, &c->scope, &c->scoped)) != 0)
		goto fail;
	if (c->scoped)
		log_debug("sync scope peer=%s role=client records=%zu", c->peer,
		    c->scope.n);
	if ((*rc = want_bodies(c, r)) != 0)
		goto fail;
	roster_free(loaded);
	loaded = NULL;
	if ((c->sock = tsock_open(nd->t, TSOCK_CONNECT, endpoint, server_pk,
	    rc)) == NULL)
		goto fail;
	if ((c->ig = ingest_new(nd->st, 1)) == NULL) {
		*rc = KITH_ENOMEM;
		goto fail;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.network, nd->network, KITH_NETWORK_LEN);
	memcpy(h.key, nd->key, KITH_KEY_LEN);
	h.flags = SYNCMSG_HELLO_BULK;
	h.clock_ms = c->hello_wall = hlc_wall_ms();
	h.port = nd->port;
	snprintf(h.name, sizeof(h.name), "%s", nd->name);
	syncmsg_begin(&c->out, SYNCMSG_HELLO, c->next_reqid);
	syncmsg_put_hello(&c->out, &h, 0);
	/* The first Negentropy message goes with the HELLO: one round trip. */
	c->hello_mono = sync_now_ms();
	if ((*rc = request(c, SYNCMSG_HELLO, NULL)) != 0 ||
	    (*rc = reconcile(c, NULL, 0)) != 0 ||
	    (*rc = pump(c)) != 0)
		goto fail;
	return c;
fail:
	roster_free(loaded);
	sync_client_free(c);
	return NULL;
}

size_t
sync_client_poll(struct sync_client *c, struct tpoll *items)
{

	items[0].sock = c->sock;
	items[0].fd = -1;
	items[1].sock = NULL;
	items[1].fd = ingest_fd(c->ig);
	return 2;
}

/*
 * A record that came stamped too far ahead: hold it for its time (the
 * batch's copy is taken), and count it for the session's one log line.
 * Not a rejection: the peer may be right and this node's clock slow.
 */
static void
held(struct sync_client *c, struct record **rec)
{
	uint64_t hlc = record_header(*rec)->hlc;

	c->stats.held++;
	if (c->nd->hold == NULL || hold_add(c->nd->hold, rec)) {
		c->held_new++;
		if (hlc > c->held_max)
			c->held_max = hlc;
	}
}

/* The session's one line about records held for their time. */
static void
log_held(const char *who, uint64_t n, uint64_t max)
{
	char ahead[24];

	if (n == 0)
		return;
	hlc_format_offset(ahead, (int64_t)(HLC_MS(max) - hlc_wall_ms()));
	log_warn("sync held peer=%s records=%llu: stamped more than %d "
	    "minutes ahead of this node's clock (up to %s); applied when "
	    "their time comes", who, (unsigned long long)n,
	    KITH_HLC_FUTURE_MS / 60000, ahead);
}

/* Take in committed batches: publish what was added, log what was not. */
static void
collect(struct sync_client *c)
{
	struct ingest_batch *b;
	size_t i;

	while ((b = ingest_done(c->ig)) != NULL) {
		if (b->rc != 0) {
			/*
			 * Nothing of it was committed, so nothing of it is
			 * believed: not in the order, not on the feed.  The
			 * session ends with the store's reason; the next one
			 * asks for these records again.
			 */
			if (c->failed == 0)
				c->failed = b->rc;
			ingest_batch_free(b);
			continue;
		}
		sync_node_added(c->nd, b->recs, b->rcs, b->n, &b->res);
		for (i = 0; i < b->n; i++) {
			if (b->rcs[i] == 0) {
				c->stats.added++;
			} else if (b->rcs[i] == KITH_EFUTURE) {
				held(c, &b->recs[i]);
			} else if (b->rcs[i] != KITH_EEXIST) {
				c->stats.rejected++;
				c->nd->rejected++;
				log_reject(c->peer, c->peer, b->recs[i],
				    b->rcs[i]);
			}
		}
		if (b->res.added > 0 && c->nd->changed != NULL)
			c->nd->changed(c->nd->arg, c->key);
		ingest_batch_free(b);
	}
}

static int
on_records(struct sync_client *c, const struct syncmsg *m,
    struct inflight *f)
{
	struct syncmsg_records it;
	struct record *rec;
	int rc;

	if ((rc = syncmsg_records_start(m, &it)) != 0)
		return KITH_EPROTO;
	while ((rc = syncmsg_records_next(&it, &rec)) == 0) {
		c->stats.received++;
		if ((rc = ingest_add(c->ig, rec)) != 0)
			return rc;
	}
	if (rc != 1)
		return KITH_EPROTO;
	if (it.flags & SYNCMSG_MORE)
		return 0;
	if (f->type == SYNCMSG_PULL && (it.flags & SYNCMSG_RESUME)) {
		/* The server stopped at its frame budget: go on from there. */
		if (syncmsg_bound_cmp(&it.resume, &f->hi) >= 0)
			return KITH_EPROTO;
		if ((rc = queue_pull(c, &it.resume, &f->hi)) != 0)
			return rc;
	}
	fly_done(c, f);
	return 0;
}

static int
on_reply(struct sync_client *c, const uint8_t *p, size_t n)
{
	struct syncmsg_hello h;
	struct syncmsg m;
	struct inflight *f;
	uint32_t added, dup, rej;
	int code;

	c->stats.bytes_in += n;
	c->turn_open = 0;
	if (syncmsg_parse(p, n, &m) != 0)
		return KITH_EPROTO;
	/* Request id 0: the server ends the session (its key revoked...). */
	f = fly_find(c, m.reqid);
	if (m.type == SYNCMSG_ERROR && (f != NULL || m.reqid == 0)) {
		if (syncmsg_error_parse(&m, &code, c->error,
		    sizeof(c->error)) != 0)
			return KITH_EPROTO;
		if ((f == NULL || f->type == SYNCMSG_HELLO) &&
		    (code == KITH_ENOTFOUND || code == KITH_EREVOKED ||
		    code == KITH_EDENIED))
			c->refused = code;
		return KITH_EPEER;
	}
	if (f == NULL)
		return KITH_EPROTO;
	switch (f->type) {
	case SYNCMSG_HELLO:
		if (m.type != SYNCMSG_WELCOME ||
		    syncmsg_hello_parse(&m, &h) != 0)
			return KITH_EPROTO;
		if (memcmp(h.network, c->nd->network, KITH_NETWORK_LEN) != 0)
			return KITH_ENETWORK;
		c->welcomed = 1;
		c->stats.peer_records = h.records;
		if (h.clock_ms != 0) {
			c->offset_ms = hlc_offset_rt(h.clock_ms, c->hello_wall,
			    sync_now_ms() - c->hello_mono, &c->offset_err);
			c->clocked = 1;
			if (c->nd->clock != NULL)
				c->nd->clock(c->nd->arg, c->key, c->peer,
				    c->offset_ms, c->offset_err);
		}
		fly_done(c, f);
		return 0;
	case SYNCMSG_RECON:
		if (m.type != SYNCMSG_RECON_REPLY)
			return KITH_EPROTO;
		fly_done(c, f);
		return reconcile(c, m.payload, m.len);
	case SYNCMSG_GET:
	case SYNCMSG_PULL:
		if (m.type != SYNCMSG_RECORDS)
			return KITH_EPROTO;
		return on_records(c, &m, f);
	case SYNCMSG_PUSH:
		if (m.type != SYNCMSG_PUSHED ||
		    syncmsg_pushed_parse(&m, &added, &dup, &rej) != 0)
			return KITH_EPROTO;
		c->stats.peer_added += added;
		c->stats.peer_rejected += rej;
		fly_done(c, f);
		return 0;
	}
	return KITH_EPROTO;
}

int
sync_client_step(struct sync_client *c, uint64_t now_ms)
{
	const uint8_t *p;
	size_t n;
	int rc = 0, got = 0;

	if (c->failed)
		return c->failed;
	collect(c);
	rc = c->failed;		/* a batch failed to commit */
	while (rc == 0 && (rc = tsock_recv(c->sock, NULL, &p, &n)) == 0) {
		got = 1;
		rc = on_reply(c, p, n);
	}
	if (rc == 1)
		rc = 0;
	if (rc == 0)
		rc = pump(c);
	/*
	 * Every record asked for is here: commit them now, while the peer
	 * takes this node's PUSHes, not after its PUSHED.
	 */
	if (rc == 0 && c->neg_done && c->needpos == c->nneed &&
	    c->pullpos == c->npulls && fly_count(c, SYNCMSG_GET) == 0 &&
	    fly_count(c, SYNCMSG_PULL) == 0)
		rc = ingest_send(c->ig);
	if (got)
		c->last_ms = now_ms;
	else if (rc == 0 && c->nfly > 0 && now_ms - c->last_ms > SYNC_REPLY_MS)
		rc = KITH_ETIMEDOUT;
	if (rc == 0 && c->neg_done && c->nfly == 0 &&
	    c->needpos == c->nneed && c->havepos == c->nhave &&
	    c->pullpos == c->npulls) {
		/* Everything asked for is here: commit it, then say goodbye. */
		rc = ingest_flush(c->ig);
		collect(c);
		if (rc == 0) {
			syncmsg_begin(&c->out, SYNCMSG_BYE, c->next_reqid);
			(void)request(c, SYNCMSG_BYE, NULL);
			c->stats.end_ms = sync_now_ms();
			rc = 1;
		}
	}
	if (rc < 0) {
		/* So the server forgets the session now, not when it idles. */
		if (c->welcomed) {
			syncmsg_begin(&c->out, SYNCMSG_BYE, c->next_reqid);
			(void)request(c, SYNCMSG_BYE, NULL);
		}
		c->stats.end_ms = sync_now_ms();
		c->failed = rc;
	}
	return rc;
}

int
sync_client_idle(struct sync_client *c)
{

	return ingest_idle(c->ig);
}

int
sync_client_clock(const struct sync_client *c, int64_t *offset_ms,
    uint64_t *err_ms)
{

	if (!c->clocked)
		return KITH_ENOTFOUND;
	*offset_ms = c->offset_ms;
	*err_ms = c->offset_err;
	return 0;
}

const struct sync_stats *
sync_client_stats(const struct sync_client *c)
{

	return &c->stats;
}

const char *
sync_client_error(const struct sync_client *c)
{

	return c->error;
}

int
sync_client_refused(const struct sync_client *c)
{

	return c->refused;
}

void
sync_client_free(struct sync_client *c)
{

	if (c == NULL)
		return;
	if (c->ig != NULL) {
		(void)ingest_flush(c->ig);
		collect(c);
		ingest_free(c->ig);
	}
	log_held(c->peer, c->held_new, c->held_max);
	tsock_close(c->sock);
	negentropy_free(c->ng);
	syncmsg_buf_free(&c->out);
	free(c->scope.v);
	free(c->need);
	free(c->have);
	free(c->pulls);
	free(c);
}

/*
 * Server.
 */

struct session {
	struct tpeer peer;
	char who[160];		/* name@address, for the log */
	int welcomed;
	/*
	 * A PCN's session reconciles its scope only (PROTOCOL.md 9.8): the
	 * (hlc, id) of the records in it, taken once at the HELLO.
	 */
	int scoped;
	int keyed;			/* ZAP named the client: key is set */
	uint8_t key[KITH_KEY_LEN];	/* its ed25519 key (a PCN's: its scope) */
	char keyhex[2 * KITH_KEY_LEN + 1];	/* the key for logs; "" */
	struct scope scope;
	uint64_t start_ms, last_ms;
	uint64_t sent, received, added, rejected, bytes_in, bytes_out;
	uint64_t held_new, held_max;	/* PUSHed too far ahead: held */
	/*
	 * Replies in memory: what went to libzmq (wire_out, framing counted)
	 * less what the kernel took since the session began (tsock_taken
	 * less taken0).  Unmeasured (not TCP): not bounded here.
	 */
	int measured;
	uint64_t wire_out, taken0, taken, progress_ms;
	/* Requests waiting for that to drain, oldest first. */
	struct waiting {
		uint8_t *p;
		size_t n;
		size_t pos;	/* a GET's next id */
	} q[SYNC_QUEUE_MAX];
	size_t nq, qbytes;
};

/*
 * A peer cut off: its ERROR gets CUT_DELAY_MS to leave before the
 * connection is shut, and whatever it had already queued is discarded
 * unread for SYNC_BAN_MS instead of opening new sessions.  A member's key
 * is banned too, for SYNC_BAN_MS: ZAP refuses it (sync_server_banned), so
 * a new connection does not escape the ban.
 */
#define BANNED_MAX	64
#define CUT_DELAY_MS	200
#define RATE_KEYS	1024	/* keys each rate table tells apart */
#define PAUSED		2	/* a GET stopped for its replies to drain */
#define GONE		3	/* a reply found its peer gone */

struct banned {
	struct tpeer peer;
	uint64_t cut_at, until;
	int cut;
};

struct keyban {
	uint8_t key[KITH_KEY_LEN];
	uint64_t until;
	char why[SYNC_WHY_MAX + 1];
};

struct sync_server {
	struct sync_node *nd;
	struct tsock *sock;
	struct session *s;
	size_t n, cap;
	struct rate *hellos;	/* per member key */
	struct rate *authors;	/* PUSHed records, per author */
	struct syncmsg_buf out;
	struct banned ban[BANNED_MAX];
	size_t nban, nextban;
	struct keyban keyban[BANNED_MAX];
	size_t nextkeyban;
	uint64_t now;
};

struct sync_server *
sync_server_new(struct sync_node *nd, struct tsock *sock)
{
	struct sync_server *srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->nd = nd;
	srv->sock = sock;
	if ((srv->hellos = rate_new(RATE_KEYS, SYNC_HELLO_PER_MIN,
	    SYNC_HELLO_BURST)) == NULL || (srv->authors = rate_new(RATE_KEYS,
	    SYNC_AUTHOR_PER_MIN, SYNC_AUTHOR_PER_MIN)) == NULL) {
		sync_server_free(srv);
		return NULL;
	}
	return srv;
}

/* Forget ${ss}'s waiting requests. */
static void
queue_clear(struct session *ss)
{

	while (ss->nq > 0)
		free(ss->q[--ss->nq].p);
	ss->qbytes = 0;
}

void
sync_server_free(struct sync_server *srv)
{

	size_t i;

	if (srv == NULL)
		return;
	for (i = 0; i < srv->n; i++) {
		free(srv->s[i].scope.v);
		queue_clear(&srv->s[i]);
	}
	rate_free(srv->hellos);
	rate_free(srv->authors);
	syncmsg_buf_free(&srv->out);
	free(srv->s);
	free(srv);
}

static void
peer_address(const struct tpeer *peer, char *out, size_t size)
{
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (peer->addrlen > 0 && peer->addrlen <= sizeof(ss)) {
		memcpy(&ss, peer->addr, peer->addrlen);
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &in6->sin6_addr, host,
			    sizeof(host));
			port = ntohs(in6->sin6_port);
		}
	}
	snprintf(out, size, "%s:%u", host, port);
}

/*
 * Write to ${out} (${size} bytes) the endpoint where ${peer}'s node
 * listens if it listens on ${port} at the address its connection came
 * from: tcp://A.B.C.D:PORT, or tcp://[IPV6]:PORT (a link-local one with
 * its scope, an IPv4-mapped one as IPv4).  Return 0, or -1 if the
 * connection's address is not known or not an IP one.
 */
static int
peer_endpoint(const struct tpeer *peer, uint16_t port, char *out,
    size_t size)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	char host[INET6_ADDRSTRLEN];

	if (peer->addrlen == 0 || peer->addrlen > sizeof(ss))
		return -1;
	memcpy(&ss, peer->addr, peer->addrlen);
	if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, host,
		    sizeof(host));
		snprintf(out, size, "tcp://%s:%u", host, (unsigned)port);
	} else if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		if (in6->sin6_scope_id != 0)
			snprintf(out, size, "tcp://[%s%%%u]:%u", host,
			    (unsigned)in6->sin6_scope_id, (unsigned)port);
		else
			snprintf(out, size, "tcp://[%s]:%u", host,
			    (unsigned)port);
	} else if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, size, "tcp://%s:%u", host, (unsigned)port);
	} else {
		return -1;
	}
	return 0;
}

/* ${peer}'s session, begun now (${*fresh} set) if it had none. */
static struct session *
session_get(struct sync_server *srv, const struct tpeer *peer, uint64_t now,
    int *fresh)
{
	struct session *ns;
	size_t i;

	*fresh = 0;
	for (i = 0; i < srv->n; i++)
		if (srv->s[i].peer.len == peer->len &&
		    memcmp(srv->s[i].peer.id, peer->id, peer->len) == 0)
			return &srv->s[i];
	if (srv->n == srv->cap) {
		size_t cap = srv->cap ? 2 * srv->cap : 8;

		if ((ns = realloc(srv->s, cap * sizeof(*ns))) == NULL)
			return NULL;
		srv->s = ns;
		srv->cap = cap;
	}
	ns = &srv->s[srv->n++];
	memset(ns, 0, sizeof(*ns));
	ns->peer = *peer;
	ns->keyed = kith_unhex(ns->key, KITH_KEY_LEN, peer->user) == 0;
	if (ns->keyed)
		kith_hex(ns->keyhex, ns->key, KITH_KEY_LEN);
	ns->start_ms = now;
	peer_address(peer, ns->who, sizeof(ns->who));
	/* Only the handshake went out before its first message. */
	ns->measured = tsock_taken(peer, &ns->taken0) == 0;
	ns->taken = ns->taken0;
	ns->progress_ms = now;
	*fresh = 1;
	return ns;
}

/* Bytes of replies to ${ss} still in memory; notes any progress. */
static uint64_t
backlog(struct session *ss, uint64_t now)
{
	uint64_t taken, gone;

	if (!ss->measured || tsock_taken(&ss->peer, &taken) != 0)
		return 0;
	if (taken > ss->taken) {
		ss->taken = taken;
		ss->progress_ms = now;
	}
	gone = ss->taken - ss->taken0;
	return ss->wire_out > gone ? ss->wire_out - gone : 0;
}

static void
session_end(struct sync_server *srv, struct session *ss, const char *why)
{
	double secs = (double)(sync_now_ms() - ss->start_ms) / 1000.0;

	/* An empty session that ended well is routine: a PCN's, every 2 s. */
	if (ss->welcomed || ss->received > 0)
		log_at(why == NULL && ss->received == 0 && ss->sent == 0 ?
		    LOG_DEBUG : LOG_INFO,
		    "sync end peer=%s role=server received=%llu added=%llu "
		    "rejected=%llu sent=%llu bytes_in=%llu bytes_out=%llu "
		    "seconds=%.3f%s%s", ss->who,
		    (unsigned long long)ss->received,
		    (unsigned long long)ss->added,
		    (unsigned long long)ss->rejected,
		    (unsigned long long)ss->sent,
		    (unsigned long long)ss->bytes_in,
		    (unsigned long long)ss->bytes_out, secs,
		    why != NULL ? " end=" : "", why != NULL ? why : "");
	log_held(ss->who, ss->held_new, ss->held_max);
	free(ss->scope.v);
	queue_clear(ss);
	*ss = srv->s[--srv->n];
}

/* Shut the connection of banned peer ${b}, once. */
static void
cut(struct sync_server *srv, struct banned *b)
{

	if (!b->cut)
		tsock_drop(srv->sock, &b->peer);
	b->cut = 1;
}

/*
 * Answer ${reqid} from ${peer} with an ERROR of ${code} and ${why}, then
 * cut its connection once the ERROR has had CUT_DELAY_MS to leave; until
 * then, and for SYNC_BAN_MS, what it sent is discarded unread.
 */
static void
refuse(struct sync_server *srv, const struct tpeer *peer, uint32_t reqid,
    int code, const char *why)
{
	struct banned *b;

	syncmsg_begin(&srv->out, SYNCMSG_ERROR, reqid);
	syncmsg_put_error(&srv->out, code, why);
	if (srv->out.err == 0)
		(void)tsock_send(srv->sock, peer, srv->out.p, srv->out.len);
	b = &srv->ban[srv->nextban];
	srv->nextban = (srv->nextban + 1) % BANNED_MAX;
	if (srv->nban < BANNED_MAX)
		srv->nban++;
	cut(srv, b);	/* an older entry's cut comes due early */
	b->peer = *peer;
	b->cut_at = srv->now + CUT_DELAY_MS;
	b->until = srv->now + SYNC_BAN_MS;
	b->cut = 0;
}

/*
 * Answer with an ERROR, cut the peer off and forget its session; a
 * member's key is banned, and its other sessions are cut too.
 */
static void
drop(struct sync_server *srv, struct session *ss, uint32_t reqid, int code,
    const char *why)
{
	struct keyban *kb;
	uint8_t key[KITH_KEY_LEN];
	int keyed = ss->keyed;
	size_t i;

	refuse(srv, &ss->peer, reqid, code, why);
	log_warn("peer error peer=%s: %s (%s); dropped%s", ss->who, why,
	    kith_strerror(code), keyed ? ", its key banned" : "");
	srv->nd->dropped++;
	memcpy(key, ss->key, sizeof(key));
	session_end(srv, ss, "dropped");
	if (!keyed)
		return;
	kb = &srv->keyban[srv->nextkeyban];
	srv->nextkeyban = (srv->nextkeyban + 1) % BANNED_MAX;
	memcpy(kb->key, key, sizeof(kb->key));
	kb->until = srv->now + SYNC_BAN_MS;
	snprintf(kb->why, sizeof(kb->why), "%s", why);
	for (i = srv->n; i-- > 0; )
		if (srv->s[i].keyed && memcmp(srv->s[i].key, key,
		    sizeof(key)) == 0) {
			refuse(srv, &srv->s[i].peer, 0, KITH_EDENIED,
			    "its key is banned");
			session_end(srv, &srv->s[i], "key banned");
		}
}

unsigned
sync_server_banned(const struct sync_server *srv,
    const uint8_t key[KITH_KEY_LEN], uint64_t now_ms, char *why,
    size_t size)
{
	const struct keyban *kb;
	size_t i;

	for (i = 0; i < BANNED_MAX; i++) {
		kb = &srv->keyban[i];
		if (kb->until > now_ms && memcmp(kb->key, key,
		    KITH_KEY_LEN) == 0) {
			snprintf(why, size, "%s", kb->why);
			return (unsigned)((kb->until - now_ms + 999) / 1000);
		}
	}
	return 0;
}

void
sync_refusal(char *user, size_t size, int code, const uint8_t key[32],
    int x25519, const char *why)
{
	char hex[65];

	kith_hex(hex, key, 32);
	snprintf(user, size, "!%d:%s%s:%.*s", -code, x25519 ? "x" : "", hex,
	    SYNC_WHY_MAX, why);
}

/*
 * A client ZAP admitted only to be refused (sync_refusal): parse its user
 * id, log the refusal with the ed25519 key its HELLO names if that key
 * maps to its X25519 one, answer its first message and cut it.  Nothing
 * else of what it sends is read.
 */
static void
refused(struct sync_server *srv, const struct tpeer *from, const uint8_t *p,
    size_t n, int rrc)
{
	struct syncmsg_hello h;
	struct syncmsg m;
	uint8_t key[32], x[32];
	const char *u = from->user + 1, *colon;
	char hex[65], lkey[96], *end;
	uint32_t reqid = 0;
	long code;
	int x25519;

	code = strtol(u, &end, 10);
	if (*end != ':' || code <= 0 || code > -KITH_ELAST)
		code = -KITH_EDENIED;
	u = end + 1;
	if ((x25519 = *u == 'x'))
		u++;
	colon = strchr(u, ':');
	memset(hex, 0, sizeof(hex));
	if (colon != NULL && colon - u == 64)
		memcpy(hex, u, 64);
	if (kith_unhex(key, 32, hex) != 0)
		memset(key, 0, sizeof(key));
	if (rrc == 0 && syncmsg_parse(p, n, &m) == 0) {
		reqid = m.reqid;
		if (m.type == SYNCMSG_HELLO && x25519 &&
		    syncmsg_hello_parse(&m, &h) == 0 &&
		    kcrypto_x25519_public(h.key, x) == 0 &&
		    memcmp(x, key, 32) == 0) {
			memcpy(key, h.key, 32);
			x25519 = 0;
		}
	}
	kith_hex(hex, key, 32);
	snprintf(lkey, sizeof(lkey), "refused sync %.64s %.16s", hex,
	    colon != NULL ? colon + 1 : "?");
	log_warn_every(lkey, "refused connection key=%s%s socket=sync "
	    "reason=%s", x25519 ? "x25519:" : "", hex, colon != NULL ?
	    colon + 1 : "?");
	refuse(srv, from, reqid, (int)-code, colon != NULL ? colon + 1 :
	    "refused");
}

static int
is_banned(struct sync_server *srv, const struct tpeer *peer)
{
	size_t i;

	for (i = 0; i < srv->nban; i++)
		if (srv->ban[i].until > srv->now &&
		    srv->ban[i].peer.len == peer->len &&
		    memcmp(srv->ban[i].peer.id, peer->id, peer->len) == 0)
			return 1;
	return 0;
}

static int
reply(struct sync_server *srv, struct session *ss)
{
	int rc;

	if ((rc = srv->out.err) != 0 ||
	    (rc = tsock_send(srv->sock, &ss->peer, srv->out.p,
	    srv->out.len)) != 0)
		return rc == KITH_ENOTFOUND ? GONE : rc;
	ss->bytes_out += srv->out.len;
	ss->wire_out += srv->out.len + TRANSPORT_FRAME_COST;
	return 0;
}

/*
 * Is the session's peer a PCN (ZAP named it by its key, tpeer.user)?  Then
 * take its scope from the store.  Other sessions see everything.
 */
static int
scope_session(struct sync_server *srv, struct session *ss)
{
	const struct roster *r;
	struct roster *loaded;
	int rc;

	ss->scoped = 0;
	ss->scope.n = 0;
	if (!ss->keyed)
		return 0;	/* no key from ZAP: not a member's session */
	if ((rc = roster_of(srv->nd, &r, &loaded)) == 0)
		rc = scope_take(srv->nd, r, ss->key, &ss->scope, &ss->scoped);
	roster_free(loaded);
	return rc;
}

/*
 * End ${ss}, which may sync no more (its key was revoked...), telling it
 * why; unlike a drop, no ban follows.
 */
static void
closed(struct sync_server *srv, struct session *ss, uint32_t reqid, int code,
    const char *why)
{
	char hex[2 * KITH_KEY_LEN + 1];

	kith_hex(hex, ss->key, KITH_KEY_LEN);
	log_warn("sync closed peer=%s key=%s: %s", ss->who, hex, why);
	refuse(srv, &ss->peer, reqid, code, why);
	session_end(srv, ss, "closed");
}

void
sync_server_recheck(struct sync_server *srv)
{
	char why[SYNC_WHY_MAX + 1];
	size_t i;
	int code;

	if (srv->nd->allowed == NULL)
		return;
	srv->now = sync_now_ms();
	for (i = srv->n; i-- > 0; )
		if (srv->s[i].keyed && (code = srv->nd->allowed(srv->nd->arg,
		    srv->s[i].key, why, sizeof(why))) != 0)
			closed(srv, &srv->s[i], 0, code, why);
}

/* Return 1 if the session was closed (and is gone). */
static int
on_hello(struct sync_server *srv, struct session *ss, const struct syncmsg *m)
{
	struct syncmsg_hello h;
	char why[SYNC_WHY_MAX + 1], ep[80];
	size_t n;
	int rc;

	if ((rc = syncmsg_hello_parse(m, &h)) != 0)
		return rc;
	if (memcmp(h.network, srv->nd->network, KITH_NETWORK_LEN) != 0)
		return KITH_ENETWORK;
	/* The key it names is the one its CURVE key proved (ZAP's). */
	if (ss->keyed && memcmp(h.key, ss->key, KITH_KEY_LEN) != 0)
		return KITH_EPROTO;
	if (ss->keyed && !rate_take(srv->hellos, ss->key, 1, srv->now)) {
		closed(srv, ss, m->reqid, KITH_ELIMIT, "too many HELLOs from "
		    "its key; try again in a minute");
		return 1;
	}
	if (srv->nd->refresh != NULL)
		srv->nd->refresh(srv->nd->arg);
	/* Revoked since ZAP let it in? */
	if (ss->keyed && srv->nd->allowed != NULL && (rc = srv->nd->allowed(
	    srv->nd->arg, ss->key, why, sizeof(why))) != 0) {
		closed(srv, ss, m->reqid, rc, why);
		return 1;
	}
	if (!ss->welcomed) {
		char addr[64];

		snprintf(addr, sizeof(addr), "%.63s", ss->who);
		snprintf(ss->who, sizeof(ss->who), "%.64s@%.63s",
		    h.name[0] ? h.name : "-", addr);
		log_debug("sync start peer=%s role=server", ss->who);
	}
	if ((rc = scope_session(srv, ss)) != 0)
		return rc;
	if (ss->scoped)
		log_debug("sync scope peer=%s role=pcn records=%zu", ss->who,
		    ss->scope.n);
	ss->welcomed = 1;
	/* A node that listens may be offered new records at once (9.7). */
	if (ss->keyed && h.port != 0 && srv->nd->caller != NULL &&
	    peer_endpoint(&ss->peer, h.port, ep, sizeof(ep)) == 0)
		srv->nd->caller(srv->nd->arg, ss->key, ep);
	/* One way only: the HELLO's transit is not seen (PROTOCOL.md 5). */
	if (h.clock_ms != 0 && ss->keyed && srv->nd->clock != NULL)
		srv->nd->clock(srv->nd->arg, ss->key, NULL,
		    hlc_offset_oneway(h.clock_ms, hlc_wall_ms()), 0);
	memcpy(h.network, srv->nd->network, KITH_NETWORK_LEN);
	if ((rc = store_count(srv->nd->st, &n)) != 0)
		return rc;
	h.records = ss->scoped ? ss->scope.n : n;
	h.clock_ms = hlc_wall_ms();
	snprintf(h.name, sizeof(h.name), "%s", srv->nd->name);
	syncmsg_begin(&srv->out, SYNCMSG_WELCOME, m->reqid);
	syncmsg_put_hello(&srv->out, &h, 1);
	return reply(srv, ss);
}

/* A server's answer to one RECON over a set. */
struct answer {
	struct session *ss;
	const struct syncmsg *m;
	uint8_t *msg;
	size_t len;
};

/* Answer over the set ${src}, as step_over. */
static int
answer_over(void *arg, const struct negentropy_source *src)
{
	struct answer *a = arg;
	struct negentropy *ng;
	int rc;

	ng = src != NULL ? negentropy_new_source(src, SYNCMSG_RECORDS_MAX) :
	    negentropy_new(a->ss->scope.v, a->ss->scope.n, SYNCMSG_RECORDS_MAX);
	if (ng == NULL)
		return KITH_ENOMEM;
	negentropy_set_policy(ng, SYNC_IDLIST_BELOW, 0);
	rc = negentropy_reconcile(ng, a->m->payload, a->m->len, &a->msg,
	    &a->len);
	negentropy_free(ng);
	return rc;
}

static int
on_recon(struct sync_server *srv, struct session *ss, const struct syncmsg *m)
{
	struct answer a = { ss, m, NULL, 0 };
	int rc;

	rc = ss->scoped ? answer_over(&a, NULL) :
	    store_fp_read(srv->nd->st, answer_over, &a);
	if (rc != 0)
		return rc;
	syncmsg_begin(&srv->out, SYNCMSG_RECON_REPLY, m->reqid);
	syncmsg_put(&srv->out, a.msg, a.len);
	free(a.msg);
	return reply(srv, ss);
}

/* Records for a GET or PULL reply, sent in frames of about RECORDS_MAX. */
struct filler {
	struct sync_server *srv;
	struct session *ss;
	uint32_t reqid;
	int pull;		/* a PULL stops at one frame, with RESUME */
	const uint8_t *scope;	/* a PCN's key: send only its scope */
	int rc;
	struct syncmsg_bound resume;
	int resumed;
	int paused;		/* a GET waits for its replies to drain */
};

static int
fill_one(void *arg, const struct record *rec)
{
	struct filler *fl = arg;
	struct syncmsg_buf *b = &fl->srv->out;

	if (fl->scope != NULL && !record_in_scope(record_header(rec), fl->scope))
		return 0;	/* a range holds others' records: left out */
	if (syncmsg_records_len(b) > 0 && syncmsg_records_len(b) +
	    syncmsg_entry_len(rec) > SYNCMSG_RECORDS_MAX) {
		if (fl->pull) {
			fl->resume.hlc = record_header(rec)->hlc;
			memcpy(fl->resume.id, record_id(rec), KITH_ID_LEN);
			fl->resumed = 1;
			return 1;
		}
		/*
		 * A GET's reply goes on in another frame, unless too much is
		 * unread: then from this record once it drains.
		 */
		syncmsg_records_finish(b, SYNCMSG_MORE, NULL);
		if ((fl->rc = reply(fl->srv, fl->ss)) != 0)
			return 1;
		syncmsg_records_begin(b, fl->reqid);
		if (backlog(fl->ss, fl->srv->now) > SYNC_BACKLOG_MAX) {
			fl->paused = 1;
			return 1;
		}
	}
	syncmsg_put_record(b, rec);
	fl->ss->sent++;
	return 0;
}

/*
 * Answer a GET from its ${*pos}th id on; return PAUSED, with ${*pos} the
 * id to go on from, if the session's replies must drain first.
 */
static int
on_get(struct sync_server *srv, struct session *ss, const struct syncmsg *m,
    size_t *pos)
{
	struct filler fl = { srv, ss, m->reqid, 0, NULL, 0, { 0, { 0 } }, 0,
	    0 };
	const uint8_t *ids;
	struct record *rec;
	size_t n, i;
	int rc, damaged = 0;

	if ((rc = syncmsg_get_parse(m, &ids, &n)) != 0)
		return rc;
	syncmsg_records_begin(&srv->out, m->reqid);
	for (i = *pos; i < n && fl.rc == 0 && !fl.paused; i++) {
		if ((rc = store_get(srv->nd->st, ids + i * KITH_ID_LEN,
		    &rec)) == KITH_ENOTFOUND)
			continue;	/* erased, or never held: skipped */
		if (rc == KITH_ECORRUPT) {
			damaged = 1;	/* never served; sync_node_mend below */
			continue;
		}
		if (rc != 0)
			return rc;
		if (ss->scoped && !record_in_scope(record_header(rec),
		    ss->key)) {
			/* Asked by id for another organisation's record. */
			ss->rejected++;
			srv->nd->rejected++;
			log_reject(ss->who, ss->keyhex, rec, KITH_EDENIED);
			record_free(rec);
			return KITH_EDENIED;
		}
		(void)fill_one(&fl, rec);
		record_free(rec);
	}
	if (damaged)
		sync_node_mend(srv->nd);
	if (fl.rc != 0)
		return fl.rc;
	if (fl.paused) {
		*pos = i - 1;	/* the record that did not go */
		return PAUSED;
	}
	syncmsg_records_finish(&srv->out, 0, NULL);
	return reply(srv, ss);
}

static int
on_pull(struct sync_server *srv, struct session *ss, const struct syncmsg *m)
{
	struct filler fl = { srv, ss, m->reqid, 1, NULL, 0, { 0, { 0 } }, 0,
	    0 };
	struct syncmsg_bound lo, hi;
	int rc;

	if ((rc = syncmsg_pull_parse(m, &lo, &hi)) != 0)
		return rc;
	if (ss->scoped)
		fl.scope = ss->key;
	syncmsg_records_begin(&srv->out, m->reqid);
	/* It skips damaged records, and notes them for mend_damage. */
	rc = store_range(srv->nd->st, lo.hlc, lo.id, hi.hlc, hi.id, fill_one,
	    &fl);
	sync_node_mend(srv->nd);
	if (rc < 0)
		return rc;
	syncmsg_records_finish(&srv->out, fl.resumed ? SYNCMSG_RESUME : 0,
	    &fl.resume);
	return reply(srv, ss);
}

static int
on_push(struct sync_server *srv, struct session *ss, const struct syncmsg *m)
{
	struct syncmsg_records it;
	struct store_result res;
	struct record **recs = NULL, *rec, **nr, **todo = NULL, **in = NULL;
	size_t n = 0, cap = 0, i, k, nin = 0, nout = 0, nlater = 0;
	size_t nfuture = 0;
	uint64_t hlc;
	int *rcs = NULL, rc;

	if ((rc = syncmsg_records_start(m, &it)) != 0)
		return rc;
	while ((rc = syncmsg_records_next(&it, &rec)) == 0) {
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			if ((nr = realloc(recs, cap * sizeof(*nr))) == NULL) {
				record_free(rec);
				rc = KITH_ENOMEM;
				goto out;
			}
			recs = nr;
		}
		recs[n++] = rec;
	}
	if (rc != 1)
		goto out;	/* a malformed entry: the whole frame is refused */
	ss->received += n;
	/* A PCN may write only into its scope; the rest is refused unread. */
	if ((in = calloc(n ? n : 1, sizeof(*in))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		/*
		 * Too far ahead: held for its time, before any signature
		 * is checked; not the sender's fault, so no count towards a
		 * drop.  PUSHED counts it as rejected: not taken yet.
		 */
		hlc = record_header(recs[i])->hlc;
		if (hlc_check(hlc, hlc_wall_ms()) != 0) {
			nfuture++;
			if (srv->nd->hold == NULL ||
			    (!hold_has(srv->nd->hold, record_id(recs[i])) &&
			    hold_add(srv->nd->hold, &recs[i]))) {
				ss->held_new++;
				if (hlc > ss->held_max)
					ss->held_max = hlc;
			}
			continue;
		}
		if (!ss->scoped || record_in_scope(record_header(recs[i]),
		    ss->key)) {
			in[nin++] = recs[i];
			continue;
		}
		nout++;
		ss->rejected++;
		srv->nd->rejected++;
		log_reject(ss->who, ss->keyhex, recs[i], KITH_EDENIED);
	}
	if ((rcs = calloc(n ? n : 1, sizeof(*rcs))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	/* DESIGN.md's order: duplicates, then signatures, then one commit. */
	if ((todo = calloc(n ? n : 1, sizeof(*todo))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	if ((rc = ingest_check(srv->nd->st, in, nin, rcs, todo)) != 0)
		goto out;
	/*
	 * An author's new records beyond its rate wait for a later session,
	 * counted nowhere in PUSHED.  Only signed ones count against it, one
	 * and one more per 4 KiB of body each.
	 */
	for (i = 0, k = 0; i < nin; i++) {
		const struct record_header *h = record_header(in[i]);

		if (rcs[i] == 0 && !rate_take(srv->authors, h->author,
		    1 + (uint32_t)(h->body_len / SYNC_AUTHOR_BODY_UNIT),
		    srv->now)) {
			nlater++;
			continue;
		}
		in[k] = in[i];
		rcs[k++] = rcs[i];
	}
	nin = k;
	if (nlater > 0) {
		char key[96];

		snprintf(key, sizeof(key), "deferred %s", ss->keyhex);
		log_warn_every(key, "sync deferred peer=%s records=%zu: "
		    "authors past %d records a minute", ss->who, nlater,
		    SYNC_AUTHOR_PER_MIN);
	}
	if ((rc = store_apply_verified(srv->nd->st, in, nin, rcs, &res)) != 0)
		goto out;
	sync_node_added(srv->nd, in, rcs, nin, &res);
	for (i = 0; i < nin; i++) {
		if (rcs[i] == 0) {
			ss->added++;
		} else if (rcs[i] != KITH_EEXIST) {
			ss->rejected++;
			srv->nd->rejected++;
			log_reject(ss->who, ss->keyhex, in[i], rcs[i]);
		}
	}
	res.rejected += nout + nfuture;
	if (res.added > 0 && srv->nd->changed != NULL)
		srv->nd->changed(srv->nd->arg, ss->keyed ? ss->key : NULL);
	syncmsg_begin(&srv->out, SYNCMSG_PUSHED, m->reqid);
	syncmsg_put_u32(&srv->out, (uint32_t)res.added);
	syncmsg_put_u32(&srv->out, (uint32_t)res.duplicate);
	syncmsg_put_u32(&srv->out, (uint32_t)res.rejected);
	rc = reply(srv, ss);
out:
	for (i = 0; i < n; i++)
		record_free(recs[i]);
	free(recs);
	free(in);
	free(rcs);
	free(todo);
	return rc;
}

/*
 * Answer the request ${m} of ${ss}, a GET from its ${*pos}th id.  Return
 * 0, PAUSED (a GET waits, ${*pos} set), 1 if the session was ended, or an
 * error, with ${*why} what to tell the peer.
 */
static int
answer(struct sync_server *srv, struct session *ss, const struct syncmsg *m,
    size_t *pos, const char **why)
{
	int rc;

	switch (m->type) {
	case SYNCMSG_HELLO:
		*why = "bad HELLO";
		return on_hello(srv, ss, m);	/* 1: it may sync no more */
	case SYNCMSG_RECON:
		*why = "bad reconciliation message";
		return on_recon(srv, ss, m);
	case SYNCMSG_GET:
		*why = "bad GET";
		if ((rc = on_get(srv, ss, m, pos)) == KITH_EDENIED)
			*why = "GET of a record outside its scope";
		return rc;
	case SYNCMSG_PULL:
		*why = "bad PULL";
		return on_pull(srv, ss, m);
	case SYNCMSG_PUSH:
		*why = "bad PUSH";
		return on_push(srv, ss, m);
	case SYNCMSG_BYE:
		session_end(srv, ss, NULL);
		return 1;
	default:
		*why = "a reply where a request belongs";
		return KITH_EPROTO;
	}
}

/*
 * Return 1 if ${ss} ended: its peer left before a reply (GONE: no fault
 * of its own), or it was dropped for ${rc} or its rejects.
 */
static int
judge(struct sync_server *srv, struct session *ss, uint32_t reqid, int rc,
    const char *why)
{

	if (rc == GONE) {
		session_end(srv, ss, "gone");
		return 1;
	}
	if (sync_own_fault(rc)) {
		/* This node's store failed: tell the peer, blame nobody. */
		char text[SYNC_WHY_MAX + 1], key[96];

		snprintf(text, sizeof(text), "the serving node's store "
		    "failed: %s", kith_strerror(rc));
		snprintf(key, sizeof(key), "store %s %d", ss->keyhex, rc);
		log_warn_every(key, "store error: %s; the session with "
		    "peer=%s ends, not by its fault", kith_strerror(rc),
		    ss->who);
		refuse(srv, &ss->peer, reqid, rc, text);
		session_end(srv, ss, "store error");
		return 1;
	}
	if (rc == 0 && ss->rejected > SYNC_REJECT_MAX) {
		why = "too many rejected records";
		rc = KITH_EPROTO;
	}
	if (rc == 0)
		return 0;
	drop(srv, ss, reqid, rc, why);
	return 1;
}

/*
 * Keep ${m} until ${ss}'s replies drain, a GET from its ${pos}th id.
 * Return 0, or 1 if the session was dropped: it asked too much unread.
 */
static int
wait_for_drain(struct sync_server *srv, struct session *ss,
    const struct syncmsg *m, const uint8_t *p, size_t n, size_t pos)
{
	struct waiting *w;

	if (ss->nq == SYNC_QUEUE_MAX || n > SYNC_QUEUE_BYTES - ss->qbytes) {
		drop(srv, ss, m->reqid, KITH_ELIMIT,
		    "too many requests with replies unread");
		return 1;
	}
	w = &ss->q[ss->nq];
	if ((w->p = malloc(n)) == NULL) {
		drop(srv, ss, m->reqid, KITH_ENOMEM, "out of memory");
		return 1;
	}
	memcpy(w->p, p, n);
	w->n = n;
	w->pos = pos;
	ss->nq++;
	ss->qbytes += n;
	return 0;
}

/*
 * Answer ${ss}'s waiting requests while its replies drain.  Return 1 if
 * the session was ended.
 */
static int
drain(struct sync_server *srv, struct session *ss)
{
	struct waiting *w;
	struct syncmsg m;
	const char *why = "bad frame";
	int rc;

	while (ss->nq > 0 && backlog(ss, srv->now) <= SYNC_BACKLOG_MAX) {
		w = &ss->q[0];
		m.reqid = 0;
		if ((rc = syncmsg_parse(w->p, w->n, &m)) == 0 &&
		    (rc = answer(srv, ss, &m, &w->pos, &why)) == PAUSED)
			return 0;
		if (rc == 1 || judge(srv, ss, m.reqid, rc, why))
			return 1;
		free(w->p);
		ss->qbytes -= w->n;
		memmove(&ss->q[0], &ss->q[1], --ss->nq * sizeof(ss->q[0]));
	}
	return 0;
}

size_t
sync_server_sessions(const struct sync_server *srv,
    const uint8_t key[KITH_KEY_LEN])
{
	size_t i, open = 0;

	for (i = 0; i < srv->n; i++)
		open += srv->s[i].keyed && memcmp(srv->s[i].key, key,
		    KITH_KEY_LEN) == 0;
	return open;
}

/*
 * Refuse a session of a key that has SYNC_SESSIONS_PER_KEY others open
 * (connections ZAP let in before those began); 1 if so.
 */
static int
too_many(struct sync_server *srv, struct session *ss, uint32_t reqid)
{
	char hex[2 * KITH_KEY_LEN + 1];
	size_t open;

	if (!ss->keyed || (open = sync_server_sessions(srv, ss->key)) <=
	    SYNC_SESSIONS_PER_KEY)
		return 0;
	kith_hex(hex, ss->key, KITH_KEY_LEN);
	log_warn("sync refused peer=%s key=%s: %zu sessions open", ss->who,
	    hex, open - 1);
	refuse(srv, &ss->peer, reqid, KITH_ELIMIT,
	    "too many sessions open with its key");
	session_end(srv, ss, "refused");
	return 1;
}

/* Handle one message; the session may be gone afterwards. */
static void
serve(struct sync_server *srv, const struct tpeer *from, const uint8_t *p,
    size_t n, int rrc, uint64_t now)
{
	struct session *ss;
	struct syncmsg m;
	const char *why = NULL;
	size_t pos = 0;
	int rc, fresh;

	if (is_banned(srv, from))
		return;	/* queued before the drop: discarded unread */
	if (from->user[0] == '!') {
		refused(srv, from, p, n, rrc);
		return;
	}
	if ((ss = session_get(srv, from, now, &fresh)) == NULL)
		return;
	ss->last_ms = now;
	if (rrc != 0) {
		drop(srv, ss, 0, KITH_EPROTO, "message of several frames");
		return;
	}
	ss->bytes_in += n;
	if ((rc = syncmsg_parse(p, n, &m)) != 0) {
		drop(srv, ss, 0, rc, "bad frame");
		return;
	}
	if (fresh && too_many(srv, ss, m.reqid))
		return;
	/*
	 * A request before any HELLO is what an honest client's socket sends
	 * when this node restarted mid-session (ZeroMQ reconnects and delivers
	 * what was queued): tell it and cut it, without a ban; a BYE ends it.
	 */
	if (m.type != SYNCMSG_HELLO && !ss->welcomed) {
		if (m.type == SYNCMSG_BYE)
			session_end(srv, ss, "bye before hello");
		else
			closed(srv, ss, m.reqid, KITH_EPROTO, "no session: "
			    "send HELLO first");
		return;
	}
	/* Requests with big replies wait their turn behind unread ones. */
	if ((m.type == SYNCMSG_RECON || m.type == SYNCMSG_GET ||
	    m.type == SYNCMSG_PULL) && (ss->nq > 0 ||
	    backlog(ss, now) > SYNC_BACKLOG_MAX)) {
		(void)wait_for_drain(srv, ss, &m, p, n, 0);
		return;
	}
	if ((rc = answer(srv, ss, &m, &pos, &why)) == PAUSED)
		(void)wait_for_drain(srv, ss, &m, p, n, pos);
	else if (rc != 1)
		(void)judge(srv, ss, m.reqid, rc, why);
}

void
sync_server_read(struct sync_server *srv, uint64_t now_ms)
{
	struct tpeer from;
	const uint8_t *p;
	size_t n, count;
	int rc;

	srv->now = now_ms;
	/* A bounded number per call, so clients and timers take turns. */
	for (count = 0; count < 64; count++) {
		from.fd = -1;
		from.len = 0;
		if ((rc = tsock_recv(srv->sock, &from, &p, &n)) == 1 ||
		    rc == KITH_EIO)
			break;
		serve(srv, &from, p, n, rc, now_ms);
	}
}

int
sync_server_waiting(const struct sync_server *srv)
{
	size_t i;

	for (i = 0; i < srv->n; i++)
		if (srv->s[i].nq > 0)
			return 1;
	return 0;
}

void
sync_server_expire(struct sync_server *srv, uint64_t now_ms)
{
	struct session *ss;
	size_t i;

	srv->now = now_ms;
	for (i = srv->n; i-- > 0; ) {
		ss = &srv->s[i];
		if (ss->nq == 0 || drain(srv, ss) || ss->nq == 0)
			continue;	/* nothing waits, or it ended */
		if (now_ms - ss->progress_ms > SYNC_STALL_MS)
			closed(srv, ss, 0, KITH_ELIMIT, "its replies go unread");
	}
	for (i = srv->n; i-- > 0; )
		if (now_ms - srv->s[i].last_ms > SYNC_IDLE_MS)
			session_end(srv, &srv->s[i], "idle");
	for (i = 0; i < srv->nban; i++)
		if (!srv->ban[i].cut && now_ms >= srv->ban[i].cut_at)
			cut(srv, &srv->ban[i]);
}
