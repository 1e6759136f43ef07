/*
 * kithd: the sync daemon.  It serves sync sessions on its listen endpoint,
 * publishes every new record on its feed, and reconciles with each
 * configured peer on start, whenever the store gains records, and every
 * interval, backing off from peers it cannot reach.  It also offers new
 * records at once to the nodes that call it (PROTOCOL.md 9.7).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "kcrypto.h"
#include "hlc.h"
#include "hold.h"
#include "ingest.h"
#include "kith.h"
#include "log.h"
#include "negentropy.h"
#include "record.h"
#include "roster.h"
#include "store.h"
#include "sync.h"
#include "transport.h"

#define EX_OK		0
#define EX_USAGE	64
#define EX_SOFTWARE	70
#define EX_IOERR	74
#define EX_TEMPFAIL	75
#define EX_CONFIG	78

#define TICK_MS		50		/* longest wait in the loop */
#define DRAIN_MS	2		/* ... while requests wait on replies */
#define PURGE_MS	1000		/* how often to look for expired bodies */
#define SCRUB_CHECK_MS	5000		/* ... for a scrub due */
#define SCRUB_RETRY_MS	600000		/* after a failed scrub (disk full?) */
#define CHECK_MS	50		/* how often to look for others' writes */
#define LOG_BATCH	4096		/* change-log entries taken per look */
#define PATROL_MS	1000		/* how often to read a slice for damage */
#define PATROL_BATCH	2000		/* records read a slice */
#define HOLD_MS		1000		/* how often to look at held records */
#define CLOCKS_MAX	64		/* peers whose clock warnings it tracks */
#define CLOCK_SAVE_MS	600000		/* a one-way offset saved this often */
#define CLOCK_CALM_MS	30000		/* an offset back within this: calm */
#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	60000
/*
 * Callers: nodes that opened sessions to this one, naming a sync port in
 * their HELLO, whose keys no peer line lists.  At most CALLERS_MAX are
 * remembered, the one heard from least recently forgotten first, and
 * none longer than CALLER_INTERVALS intervals (at least CALLER_MIN_MS:
 * its interval may be longer than ours) after its last HELLO.
 */
#define CALLERS_MAX	64
#define CALLER_INTERVALS	3
#define CALLER_MIN_MS	300000
#define CALLER_ROW	"caller "	/* its row in the store's peers */

struct peer {
	char ep[CONFIG_ENDPOINT_MAX + 1];
	uint8_t key[KITH_KEY_LEN];	/* its node key */
	struct sync_client *c;
	uint64_t next_ms;	/* next periodic round */
	uint64_t retry_ms;	/* not before this, after a failure */
	uint64_t backoff_ms;
	int dirty;		/* the store gained records since the last round */
	int revoked;		/* its key is revoked: no sessions with it */
	int caller;		/* a caller, not a peer line: pushes only */
	uint64_t heard_ms;	/* a caller's last HELLO */
	char row[CONFIG_ENDPOINT_MAX + sizeof(CALLER_ROW)];	/* in peers */
	struct store_peer last;	/* as kith peers shows it */
};

struct daemon {
	char home[4096];
	char conf[4200];
	int flag_peers;		/* --peer given: the config's list is ignored */
	int lockfd;		/* HOME/kithd.pid, locked while it runs */
	int flag_level;		/* --log-level given: log_level is ignored */
	char log_path[4200 + CONFIG_PATH_MAX];	/* log_file, resolved; "" */
	struct config cfg;
	struct store *st;
	struct transport *t;
	struct tsock *listen, *feed;
	struct sync_server *srv;
	struct sync_node nd;
	struct peer peers[CONFIG_PEERS_MAX];
	size_t npeers;
	struct peer callers[CALLERS_MAX];
	size_t ncallers;
	uint8_t key[KITH_KEY_LEN];	/* this node's ed25519 key */
	uint64_t log;		/* the store's change-log counter taken in */
	int behind;		/* the log had more than one look takes */
	struct negentropy_item fresh[LOG_BATCH];	/* check_store's */
	size_t nfresh;
	uint64_t check_ms;
	uint64_t purge_ms;	/* when bodies past their expiry last went */
	uint64_t scrub_ms;	/* when a scrub was last looked for */
	uint64_t scrub_retry_ms;	/* after a failed one, not before */
	uint64_t forget_ms;	/* when callers were last looked over */
	uint64_t patrol_ms;	/* when the last slice was read for damage */
	uint8_t patrol_at[8 + KITH_ID_LEN];	/* where the next slice starts */
	/* The roster as of the last membership record taken in. */
	struct roster *roster;
	int recheck;		/* it changed: enforce() has work */
	/* The feed's subscribers, as their subscriptions name them. */
	struct tpeer *subs;
	size_t nsubs, capsubs;
	/* Records stamped too far ahead, held for their time. */
	struct hold *hold;
	uint64_t hold_ms;
	/* Peers' clocks as sessions measure them (PROTOCOL.md 5). */
	struct clockseen {
		uint8_t key[KITH_KEY_LEN];
		int warned;		/* its offset is past HLC_WARN_MS */
		uint64_t saved_ms;	/* a one-way offset last stored */
		int pending;		/* ... taken, not yet stored (clocks_save) */
		int64_t offset_ms;
		uint64_t err_ms, at_ms;
	} clocks[CLOCKS_MAX];
	size_t nclocks, nextclock;
};

static volatile sig_atomic_t stopping, reloading;

static void
on_signal(int sig)
{

	if (sig == SIGHUP)
		reloading = 1;
	else
		stopping = 1;
}

static const char usage_text[] =
"usage: kithd [--home DIR] [--listen ENDPOINT] [--feed ENDPOINT]\n"
"             [--peer KEY@ENDPOINT]... [--log-level LEVEL]\n"
"\n"
"Run a kith node's sync daemon on the store in the home (--home DIR, else\n"
"$KITH_HOME, else ~/.local/share/kith; create it first with kith init).\n"
"It reads HOME/kith.conf ([sync] listen, feed, peer, interval,\n"
"pcn_interval); the flags override it, and --peer, repeated, replaces\n"
"the config's peers.  A node whose key has the role pcn reconciles\n"
"every pcn_interval seconds (default 2): it gets no live feed.\n"
"\n"
"  --listen tcp://HOST:PORT   serve sync sessions here\n"
"  --feed tcp://HOST:PORT     publish every new record here (ZeroMQ PUB,\n"
"                             topics by kind: request, volunteer, ...)\n"
"  --peer KEY@tcp://HOST:PORT reconcile with this node; KEY is its node\n"
"                             key, which `kith id` prints there\n"
"  --log-level LEVEL          debug, info, warn or error: overrides\n"
"                             [node] log_level\n"
"\n"
"Every connection is encrypted and authenticated with ZeroMQ CURVE: the\n"
"node's key is HOME/key (kith init makes it), and a peer must prove the\n"
"key its KEY@ names.\n"
"\n"
"It logs one line per event to stderr, or appends them to [node]\n"
"log_file; at level info a sync session that moved no record is not\n"
"logged.  SIGTERM or SIGINT: finish the current write and exit.  SIGHUP:\n"
"open the log file afresh (after logrotate moved it), and reload the peer\n"
"list, [node] log_level, [store] max_size_mb and scrub_after from\n"
"kith.conf.  A failed commit (disk\n"
"full, max_size_mb reached) ends the session that carried it and is\n"
"logged as a store error; nothing of it is believed, and the node catches\n"
"up within one interval once there is room.  [store] scrub_after seconds\n"
"after an erase it rewrites the store so the erased bytes leave the disk.\n"
"Before it maps the store it checks every page of the file (kith verify\n"
"--pages lists them); a damaged file is refused.  While it runs it reads\n"
"a slice of records each second against their hashes, and a damaged\n"
"record or body it finds, or meets while serving, is never sent: it is\n"
"logged once and good copies are fetched from the peers.\n"
"Exit codes: 0 stopped cleanly, 64 bad command line, 74 store error or\n"
"a damaged store (kith restore), 75 another kithd runs on this home, or\n"
"a restore has not caught up, 78 bad config, missing store or node\n"
"key, or an endpoint that cannot be bound.\n";

static int
fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kithd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* "FILE:LINE: [sync] KEY" or "--KEY", naming where a value came from. */
static void
origin(const struct daemon *d, int line, const char *key, char *out,
    size_t size)
{

	if (line > 0)
		snprintf(out, size, "%s:%d: [sync] %s", d->conf, line, key);
	else
		snprintf(out, size, "--%s", key);
}

static int
find_last(void *arg, const char *ep, const struct store_peer *sp)
{
	struct peer *p = arg;

	if (strcmp(ep, p->row) != 0)
		return 0;
	p->last = *sp;
	return 1;
}

/* Listed peers, then callers: the ${i}th of npeers + ncallers. */
static struct peer *
peer_at(struct daemon *d, size_t i)
{

	return i < d->npeers ? &d->peers[i] : &d->callers[i - d->npeers];
}

/* Return 1 if a peer line names the node key ${key}. */
static int
listed(const struct daemon *d, const uint8_t key[KITH_KEY_LEN])
{
	size_t i;

	for (i = 0; i < d->npeers; i++)
		if (memcmp(d->peers[i].key, key, KITH_KEY_LEN) == 0)
			return 1;
	return 0;
}

/* Forget the ${i}th caller, ending its session, for the reason ${why}. */
static void
forget_caller(struct daemon *d, size_t i, const char *why)
{
	struct peer *p = &d->callers[i];

	log_info("caller forgotten peer=%s: %s%s", p->ep, why,
	    p->c != NULL ? "; its session closed" : "");
	sync_client_free(p->c);	/* commits what arrived */
	d->callers[i] = d->callers[--d->ncallers];
}

static void
set_peers(struct daemon *d, const struct config *cfg)
{
	struct peer old[CONFIG_PEERS_MAX];
	size_t nold = d->npeers, i, k;

	memcpy(old, d->peers, sizeof(old));
	d->npeers = 0;
	for (i = 0; i < cfg->npeers; i++) {
		struct peer *p = &d->peers[d->npeers];

		for (k = 0; k < d->npeers; k++)
			if (strcmp(d->peers[k].ep, cfg->peers[i]) == 0)
				break;
		if (k < d->npeers)
			continue;	/* listed twice */
		memset(p, 0, sizeof(*p));
		snprintf(p->ep, sizeof(p->ep), "%s", cfg->peers[i]);
		snprintf(p->row, sizeof(p->row), "%s", cfg->peers[i]);
		memcpy(p->key, cfg->peer_keys[i], sizeof(p->key));
		p->dirty = 1;
		(void)store_peers(d->st, find_last, p);
		/* A peer kept across a reload keeps its session. */
		for (k = 0; k < nold; k++)
			if (old[k].c != NULL && strcmp(old[k].ep, p->ep) == 0 &&
			    memcmp(old[k].key, p->key, sizeof(p->key)) == 0) {
				*p = old[k];
				old[k].c = NULL;
			}
		d->npeers++;
	}
	for (k = 0; k < nold; k++)
		sync_client_free(old[k].c);
	/* A caller now listed is a peer: its line says where it listens. */
	for (k = d->ncallers; k-- > 0; )
		if (listed(d, d->callers[k].key))
			forget_caller(d, k, "now a peer line");
}

/*
 * End the client sessions, to peers and callers (what they committed
 * stays), and start them again at once: LMDB resizes or swaps the map
 * only while no transaction of the process is open.
 */
static void
end_sessions(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->npeers + d->ncallers; i++) {
		sync_client_free(peer_at(d, i)->c);
		peer_at(d, i)->c = NULL;
		peer_at(d, i)->dirty = 1;
		peer_at(d, i)->retry_ms = 0;
	}
}

/*
 * A new [store] max_size_mb: a session's ingest threads hold transactions,
 * and LMDB resizes a map only while none is open, so the sessions end
 * first (what they committed stays) and start again at once.
 */
static void
set_max_size(struct daemon *d, uint64_t mb)
{
	int rc;

	if (mb == d->cfg.max_size_mb)
		return;
	end_sessions(d);
	if ((rc = store_set_max_map(d->st, mb << 20)) != 0) {
		log_warn("reload: cannot set max_size_mb=%llu: %s",
		    (unsigned long long)mb, kith_strerror(rc));
		return;
	}
	d->cfg.max_size_mb = mb;
	log_info("reload max_size_mb=%llu", (unsigned long long)mb);
}

static int write_pidfile(struct daemon *);

static void
reload(struct daemon *d)
{
	struct config cfg;
	char err[600];
	int rc;

	/* First, so what follows lands in the new file. */
	if (d->log_path[0] != '\0' && log_reopen() != 0)
		log_error("cannot open the log file %s again: %s; logging on "
		    "to the file it had open", d->log_path, strerror(errno));
	config_defaults(&cfg);
	rc = config_load(d->conf, &cfg, err, sizeof(err));
	if (rc != 0 && rc != KITH_ENOTFOUND) {
		log_warn("reload failed, peers unchanged: %s", err);
		return;
	}
	if (!d->flag_level && cfg.log_level != d->cfg.log_level) {
		log_set_level(cfg.log_level);
		d->cfg.log_level = cfg.log_level;
		log_info("reload log_level=%s", log_level_name(cfg.log_level));
	}
	set_max_size(d, cfg.max_size_mb);
	d->cfg.scrub_after_s = cfg.scrub_after_s;
	if (d->flag_peers) {
		log_info("reload: peers come from --peer; unchanged");
		return;
	}
	set_peers(d, &cfg);
	memcpy(d->cfg.peers, cfg.peers, sizeof(cfg.peers));
	memcpy(d->cfg.peer_keys, cfg.peer_keys, sizeof(cfg.peer_keys));
	d->cfg.npeers = cfg.npeers;
	if (write_pidfile(d) != 0)
		log_warn("reload: cannot write kithd.pid: kith peers shows "
		    "the peers before it");
	log_info("reload peers=%zu", d->npeers);
}

/*
 * Any new records: every peer and caller but their source (a node key,
 * NULL for a local write) is due a round.  A peer is known by its key, not its
 * endpoint: records that came in on a session it opened to this node
 * are not offered straight back to it either.
 */
static void
on_changed(void *arg, const uint8_t *source)
{
	struct daemon *d = arg;
	size_t i;

	for (i = 0; i < d->npeers + d->ncallers; i++)
		if (source == NULL ||
		    memcmp(peer_at(d, i)->key, source, KITH_KEY_LEN) != 0)
			peer_at(d, i)->dirty = 1;
}

/* A change-log entry: keep it unless a session published it. */
static int
log_one(void *arg, uint64_t counter, uint64_t hlc,
    const uint8_t id[KITH_ID_LEN])
{
	struct daemon *d = arg;
	uint64_t gap;

	/*
	 * The store keeps the newest STORE_LOG_KEEP entries only: entries
	 * missing before the first of a look (the follower has taken none
	 * of it yet) went unread.
	 */
	if (d->nd.log_seen == d->log && counter > d->log + 1) {
		gap = counter - d->log - 1;
		log_warn_every("log gap", "%llu records committed since the "
		    "last look were not read in time to go on the feed (the "
		    "store keeps the newest %d); subscribers get them by "
		    "reconciling", (unsigned long long)gap, STORE_LOG_KEEP);
	}
	if (sync_node_follow(&d->nd, counter))
		return 0;	/* a peer's, published by its session */
	d->fresh[d->nfresh].timestamp = hlc;
	memcpy(d->fresh[d->nfresh++].id, id, KITH_ID_LEN);
	return 0;
}

/*
 * Records committed since the last look that no session published:
 * written by another process (the kith command), or a session's batch
 * not collected yet (sync_node_added then leaves it to this).  Publish
 * them.  The store's change log is read from the last counter taken, each
 * look from one snapshot, so no commit is missed whatever its timing.
 * Unless ${force}, at most every CHECK_MS.
 */
static void
check_store(struct daemon *d, uint64_t now, int force)
{
	struct record *rec;
	uint64_t last;
	size_t i;
	int rc;

	if (!force && !d->behind && now - d->check_ms < CHECK_MS)
		return;
	d->check_ms = now;
	d->nfresh = 0;
	if ((rc = store_log_read(d->st, d->log, LOG_BATCH, log_one, d,
	    &last)) != 0) {
		log_warn("cannot read the store's change log: %s",
		    kith_strerror(rc));
		return;
	}
	d->behind = last - d->log == LOG_BATCH;
	for (i = 0; i < d->nfresh; i++)
		if (store_get(d->st, d->fresh[i].id, &rec) == 0) {
			sync_node_publish(&d->nd, rec);
			record_free(rec);
		}
	d->log = last;
	if (d->nfresh > 0) {
		log_info("store gained records=%zu (change log)", d->nfresh);
		on_changed(d, NULL);
	}
}

/*
 * Drop bodies past their retention date, looking each second: reads count
 * them absent from the moment they expire, and this takes them off disk.
 */
static void
purge_due(struct daemon *d, uint64_t now)
{
	uint64_t next;
	size_t n;
	int rc;

	if (d->purge_ms != 0 && now - d->purge_ms < PURGE_MS)
		return;
	d->purge_ms = now;
	if (store_next_expiry(d->st, &next) != 0 || next == 0 ||
	    next > hlc_wall_ms())
		return;
	if ((rc = store_purge(d->st, hlc_wall_ms(), &n)) != 0)
		log_warn("cannot purge expired bodies: %s", kith_strerror(rc));
	else if (n > 0)
		log_info("purged %zu bodies past their retention date", n);
}

/*
 * Scrub the store (store_scrub) once [store] scrub_after has passed since
 * a body left it: the client sessions' ingest threads hold transactions,
 * so they end first.  A kith command with the store open makes it wait.
 */
static int
scrub_due(struct daemon *d, uint64_t now)
{
	uint64_t since, before, after;
	int rc;

	if (now - d->scrub_ms < SCRUB_CHECK_MS || now < d->scrub_retry_ms)
		return 0;
	d->scrub_ms = now;
	if (store_scrub_due(d->st, &since) != 0 || since == 0 ||
	    hlc_wall_ms() < since + d->cfg.scrub_after_s * 1000)
		return 0;
	/* Sessions end only for a scrub that will not have to wait. */
	rc = KITH_EBUSY;
	if (store_alone(d->st)) {
		end_sessions(d);
		rc = store_scrub(d->st, &before, &after);
	}
	if (rc == KITH_EBUSY) {
		log_warn_every("scrub busy", "scrub waits: another process "
		    "(a kith command?) has the store open; trying again");
		return 0;
	}
	if (rc != 0) {
		/* A copy of the store needs room: not again for a while. */
		d->scrub_retry_ms = now + SCRUB_RETRY_MS;
		log_warn("scrub failed: %s; trying again in %d min",
		    kith_strerror(rc), SCRUB_RETRY_MS / 60000);
		/* The swap may have left no store open: stop, keep the file. */
		return store_is_open(d->st) ? 0 : EX_IOERR;
	}
	log_info("scrubbed the store: erased data gone from disk, data file "
	    "%llu bytes before, %llu after", (unsigned long long)before,
	    (unsigned long long)after);
	return 0;
}

/*
 * Read the next slice of records against their hashes, so that damage
 * no peer asks for is found too, and contain what is found: its good
 * copies come from the peers (sync_node_mend).  A pass over a million
 * records takes about eight minutes, at a few milliseconds a second.
 */
static void
patrol_due(struct daemon *d, uint64_t now)
{
	uint8_t next[8 + KITH_ID_LEN];
	size_t n;
	int rc;

	if (d->patrol_ms != 0 && now - d->patrol_ms < PATROL_MS)
		return;
	d->patrol_ms = now;
	if ((rc = store_patrol(d->st, d->patrol_at, PATROL_BATCH, next,
	    &n)) != 0) {
		log_warn("cannot read the store for damage: %s",
		    kith_strerror(rc));
		return;
	}
	memcpy(d->patrol_at, next, sizeof(next));
	if (n > 0)
		sync_node_mend(&d->nd);
}

static void take_roster(struct daemon *);

/*
 * Bring kithd's roster up to date with the store, writes of other
 * processes included (publishing those): before ZAP admits a connection,
 * before the feed's subscriptions are read, and (nd.refresh) before a
 * HELLO is answered, so each is judged by the roster ZAP saw.
 */
static void
on_refresh(void *arg)
{

	check_store(arg, sync_now_ms(), 1);
	take_roster(arg);
}

/*
 * Milliseconds to the next round with a peer after a good one.  A PCN has
 * no feed to hear of new referrals on, so it asks often instead: its rounds
 * are scoped, and cost the server one pass over the store's headers.
 */
static uint64_t
round_interval_ms(struct daemon *d)
{
	const struct roster_entry *e;
	uint64_t s = d->cfg.interval_s;

	if ((e = roster_find(d->roster, d->key)) != NULL &&
	    e->role == ROLE_PCN && e->revoked == 0 && d->cfg.pcn_interval_s < s)
		s = d->cfg.pcn_interval_s;
	return s * 1000;
}

/* What the user can do about the store error ${rc}, as a clause. */
static const char *
store_fix(int rc)
{

	switch (rc) {
	case KITH_ENOSPC:
		return " (free space on the disk that holds the home; the node "
		    "catches up by itself)";
	case KITH_EMAPFULL:
		return " (raise [store] max_size_mb in kith.conf and send kithd "
		    "SIGHUP)";
	}
	return "";
}

static void
session_done(struct daemon *d, struct peer *p, int rc, uint64_t now)
{
	const struct sync_stats *s = sync_client_stats(p->c);
	struct store_peer sp;
	char key[96];
	double secs = (double)(s->end_ms - s->start_ms) / 1000.0;

	memset(&sp, 0, sizeof(sp));
	sp.last_try_ms = (uint64_t)time(NULL) * 1000 -
	    (s->end_ms - s->start_ms);
	sp.last_rc = rc == 1 ? 0 : rc;
	sp.received = s->added;
	sp.sent = s->peer_added;
	sp.refused = s->peer_rejected + s->withheld;
	/* Once per change, not per session: the same records come up again. */
	if (sp.refused > 0 && sp.refused != p->last.refused)
		log_warn("sync refused peer=%s records=%llu: the peer did not "
		    "take them (withheld=%llu: stamped too far ahead of its "
		    "clock; the rest its log explains)", p->ep,
		    (unsigned long long)sp.refused,
		    (unsigned long long)s->withheld);
	sp.held = s->held;
	memcpy(sp.key, p->key, KITH_KEY_LEN);
	if (sync_client_clock(p->c, &sp.offset_ms, &sp.offset_err_ms) == 0)
		sp.clock_at = hlc_wall_ms();
	else if (memcmp(p->last.key, p->key, KITH_KEY_LEN) == 0) {
		/* Not measured this time: the last measurement stands. */
		sp.clock_at = p->last.clock_at;
		sp.offset_ms = p->last.offset_ms;
		sp.offset_err_ms = p->last.offset_err_ms;
	}
	if (rc == 1) {
		/* Only at debug when nothing moved: a PCN's every 2 s. */
		log_at(s->received == 0 && s->sent == 0 ? LOG_DEBUG : LOG_INFO,
		    "sync end peer=%s role=client%s received=%llu "
		    "added=%llu rejected=%llu sent=%llu bytes_in=%llu "
		    "bytes_out=%llu round_trips=%llu seconds=%.3f", p->ep,
		    p->caller ? " caller=1" : "",
		    (unsigned long long)s->received,
		    (unsigned long long)s->added,
		    (unsigned long long)s->rejected,
		    (unsigned long long)s->peer_added,
		    (unsigned long long)s->bytes_in,
		    (unsigned long long)s->bytes_out,
		    (unsigned long long)s->round_trips, secs);
		sp.last_ok_ms = (uint64_t)time(NULL) * 1000;
		p->backoff_ms = 0;
		p->retry_ms = 0;
		/* A caller has rounds of its own: this one only pushes. */
		p->next_ms = p->caller ? UINT64_MAX : now + round_interval_ms(d);
	} else if (p->caller && !sync_own_fault(rc)) {
		/*
		 * Its HELLO named the port, and a hostile member may name any:
		 * one failed try an interval, whatever it sends.  It catches
		 * up at its own next round anyway.  (This node's own store
		 * failing is handled below, as with a peer.)
		 */
		p->backoff_ms = d->cfg.interval_s * 1000;
		if (p->backoff_ms < BACKOFF_MAX_MS &&
		    sync_client_refused(p->c) != 0)
			p->backoff_ms = BACKOFF_MAX_MS;
		p->retry_ms = now + p->backoff_ms;
		p->next_ms = UINT64_MAX;
		p->dirty = 1;
		log_warn("peer error peer=%s caller=1: %s%s%s; retry in %llus",
		    p->ep, sync_client_refused(p->c) != 0 ?
		    "refused this node" : kith_strerror(rc),
		    *sync_client_error(p->c) ? ": " : "",
		    sync_client_error(p->c),
		    (unsigned long long)(p->backoff_ms / 1000));
	} else {
		p->backoff_ms = p->backoff_ms == 0 ? BACKOFF_MIN_MS :
		    p->backoff_ms * 2;
		if (p->backoff_ms > BACKOFF_MAX_MS)
			p->backoff_ms = BACKOFF_MAX_MS;
		p->retry_ms = p->next_ms = now + p->backoff_ms;
		p->dirty = 1;
		/* Refused: this node's key is not welcome there for now. */
		if (sync_client_refused(p->c) != 0) {
			p->backoff_ms = BACKOFF_MAX_MS;
			p->retry_ms = p->next_ms = now + p->backoff_ms;
		}
		if (sync_own_fault(rc)) {
			/*
			 * This node's store failed, not the peer: try again
			 * at least once an interval, so the node catches up
			 * within one once space returns.
			 */
			if (p->backoff_ms > round_interval_ms(d))
				p->backoff_ms = round_interval_ms(d);
			p->retry_ms = p->next_ms = now + p->backoff_ms;
			snprintf(key, sizeof(key), "store %.60s %d", p->ep,
			    rc);
			log_warn_every(key, "store error: %s%s; the session "
			    "with peer=%s ended, not by its fault, and what "
			    "it carried was not kept; retry in %llus",
			    kith_strerror(rc),
			    store_fix(rc), p->ep,
			    (unsigned long long)(p->backoff_ms / 1000));
		} else {
			snprintf(key, sizeof(key), "peer %.60s %d %d", p->ep,
			    rc, sync_client_refused(p->c));
			log_warn_every(key, "peer error peer=%s: %s%s%s; "
			    "retry in %llus", p->ep,
			    sync_client_refused(p->c) != 0 ?
			    "refused this node" : kith_strerror(rc),
			    *sync_client_error(p->c) ? ": " : "",
			    sync_client_error(p->c),
			    (unsigned long long)(p->backoff_ms / 1000));
		}
	}
	if (rc != 1)
		sp.last_ok_ms = p->last.last_ok_ms;	/* the last success stays */
	/*
	 * A caller gets a row once a session with it went well: a port that
	 * never answered is not worth one (nor may a member fill the table
	 * with ports).
	 */
	if (!p->caller || sp.last_ok_ms != 0)
		(void)store_peer_put(d->st, p->row, &sp);
	p->last = sp;
	sync_client_free(p->c);
	p->c = NULL;
}

/*
 * A peer's clock offset, as a session measured it: warn once when it
 * passes HLC_WARN_MS (and again only after it came back within
 * CLOCK_CALM_MS).  An offset measured over the round trip is stored with
 * the session (session_done); a one-way one (the peer connected here) is
 * stored under "key:HEX" at most every CLOCK_SAVE_MS, unless this node
 * also connects to that peer and measures it better.  It is stored by
 * clocks_save, not here: this runs as a HELLO is answered, and a durable
 * commit here would hold up the session's first round trip.
 */
static void
on_clock(void *arg, const uint8_t key[KITH_KEY_LEN], const char *endpoint,
    int64_t offset, uint64_t err)
{
	struct daemon *d = arg;
	struct clockseen *cs;
	char hex[2 * KITH_KEY_LEN + 1], off[24];
	uint64_t now = sync_now_ms(), mag = offset < 0 ? (uint64_t)-offset :
	    (uint64_t)offset;
	size_t i;

	for (i = 0; i < d->nclocks; i++)
		if (memcmp(d->clocks[i].key, key, KITH_KEY_LEN) == 0)
			break;
	if (i == d->nclocks) {
		if (d->nclocks < CLOCKS_MAX)
			d->nclocks++;
		else
			i = d->nextclock++ % CLOCKS_MAX;	/* the oldest */
		memset(&d->clocks[i], 0, sizeof(d->clocks[i]));
		memcpy(d->clocks[i].key, key, KITH_KEY_LEN);
	}
	cs = &d->clocks[i];
	kith_hex(hex, key, KITH_KEY_LEN);
	hlc_format_offset(off, offset);
	if (!cs->warned && mag > HLC_WARN_MS) {
		cs->warned = 1;
		log_warn("clock peer=%s key=%.16s offset=%s%s: its clock and "
		    "this node's differ by more than %d s; one of them is "
		    "wrong (kith clock shows every peer's)",
		    endpoint != NULL ? endpoint : "-", hex, off,
		    endpoint != NULL ? "" : " (one way)", HLC_WARN_MS / 1000);
	} else if (cs->warned && mag <= CLOCK_CALM_MS) {
		cs->warned = 0;
		log_info("clock peer=%s key=%.16s offset=%s: agrees again",
		    endpoint != NULL ? endpoint : "-", hex, off);
	}
	if (endpoint != NULL)
		return;		/* stored with the session's outcome */
	for (i = 0; i < d->npeers; i++)
		if (memcmp(d->peers[i].key, key, KITH_KEY_LEN) == 0)
			return;	/* measured over its round trip instead */
	if (cs->saved_ms != 0 && now - cs->saved_ms < CLOCK_SAVE_MS)
		return;
	cs->saved_ms = now;
	cs->pending = 1;
	cs->offset_ms = offset;
	cs->err_ms = err;
	cs->at_ms = hlc_wall_ms();
}

/*
 * Store the one-way clock offsets on_clock took: when the loop wakes with
 * no request to answer (${busy} 0), or at the end (${busy} 0 too).
 */
static void
clocks_save(struct daemon *d, int busy)
{
	struct clockseen *cs;
	struct store_peer sp;
	char hex[2 * KITH_KEY_LEN + 1], name[8 + 2 * KITH_KEY_LEN];
	size_t i;
	int rc;

	for (i = 0; i < d->nclocks && !busy; i++) {
		cs = &d->clocks[i];
		if (!cs->pending)
			continue;
		cs->pending = 0;
		kith_hex(hex, cs->key, KITH_KEY_LEN);
		memset(&sp, 0, sizeof(sp));
		memcpy(sp.key, cs->key, KITH_KEY_LEN);
		sp.clock_at = cs->at_ms;
		sp.offset_ms = cs->offset_ms;
		sp.offset_err_ms = cs->err_ms;
		sp.oneway = 1;
		snprintf(name, sizeof(name), "%s%s", STORE_PEER_KEYED, hex);
		if ((rc = store_peer_put(d->st, name, &sp)) != 0)
			log_warn("cannot store a peer's clock: %s",
			    kith_strerror(rc));
	}
}

/*
 * Apply the held records whose time has come, looking each HOLD_MS: one
 * transaction for all of them, checked as any other record from a peer.
 */
static void
hold_due_apply(struct daemon *d, uint64_t now)
{
	struct store_result res;
	struct record **recs = NULL, **todo = NULL;
	size_t n = 0;
	int *rcs = NULL, rc;

	if (now - d->hold_ms < HOLD_MS || hold_count(d->hold) == 0)
		return;
	d->hold_ms = now;
	if ((rc = hold_due(d->hold, hlc_wall_ms(), &recs, &n)) != 0 || n == 0)
		goto out;
	rc = KITH_ENOMEM;
	if ((rcs = calloc(n, sizeof(*rcs))) == NULL ||
	    (todo = calloc(n, sizeof(*todo))) == NULL ||
	    (rc = ingest_check(d->st, recs, n, rcs, todo)) != 0 ||
	    (rc = store_apply_verified(d->st, recs, n, rcs, &res)) != 0) {
		log_warn("cannot apply held records: %s", kith_strerror(rc));
		goto out;
	}
	sync_node_added(&d->nd, recs, rcs, n, &res);
	log_info("held records due=%zu added=%zu duplicate=%zu rejected=%zu",
	    n, res.added, res.duplicate, res.rejected);
	if (res.added > 0)
		on_changed(d, NULL);
out:
	free(rcs);
	free(todo);
	store_records_free(recs, n);
}

static void
start_due(struct daemon *d, uint64_t now)
{
	char key[96];
	size_t i;
	int rc;

	for (i = 0; i < d->npeers + d->ncallers; i++) {
		struct peer *p = peer_at(d, i);

		if (p->c != NULL || p->revoked || now < p->retry_ms ||
		    !(p->dirty || now >= p->next_ms))
			continue;
		p->dirty = 0;
		log_debug("sync start peer=%s role=client%s", p->ep,
		    p->caller ? " caller=1" : "");
		if ((p->c = sync_client_new(&d->nd, p->ep, p->key, &rc)) ==
		    NULL) {
			p->backoff_ms = BACKOFF_MAX_MS;
			if (p->caller &&
			    p->backoff_ms < d->cfg.interval_s * 1000)
				p->backoff_ms = d->cfg.interval_s * 1000;
			p->retry_ms = p->next_ms = now + p->backoff_ms;
			if (p->caller)
				p->next_ms = UINT64_MAX;
			p->dirty = 1;
			snprintf(key, sizeof(key), "peer %.60s %d", p->ep, rc);
			log_warn_every(key, "peer error peer=%s: %s; retry in "
			    "%llus", p->ep, kith_strerror(rc),
			    (unsigned long long)(p->backoff_ms / 1000));
		}
	}
}

/* Parse the command line into ${d}; an exit code, or -1 to go on. */
static int
parse_args(struct daemon *d, int argc, char **argv, struct config *flags)
{
	const char *home = NULL, *v;
	int i, rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			return EX_OK;
		}
		if (strcmp(a, "--version") == 0) {
			printf("kithd %d (protocol version %d)\n", 1,
			    KITH_PROTO_VERSION);
			return EX_OK;
		}
		if (strcmp(a, "--home") != 0 && strcmp(a, "--listen") != 0 &&
		    strcmp(a, "--feed") != 0 && strcmp(a, "--peer") != 0 &&
		    strcmp(a, "--log-level") != 0)
			return fail(EX_USAGE, "unknown option %s (see kithd "
			    "--help)", a);
		if (i + 1 >= argc)
			return fail(EX_USAGE, "%s needs a value", a);
		v = argv[++i];
		if (strcmp(a, "--home") == 0) {
			home = v;
			continue;
		}
		if (strcmp(a, "--log-level") == 0) {
			if ((flags->log_level = log_level_parse(v)) < 0)
				return fail(EX_USAGE, "--log-level %s: give "
				    "debug, info, warn or error", v);
			d->flag_level = 1;
			continue;
		}
		if (strcmp(a, "--peer") == 0) {
			if (flags->npeers == CONFIG_PEERS_MAX)
				return fail(EX_USAGE, "too many --peer (at "
				    "most %d)", CONFIG_PEERS_MAX);
			if ((rc = config_peer_parse(v,
			    flags->peer_keys[flags->npeers],
			    flags->peers[flags->npeers],
			    sizeof(flags->peers[0]))) != 0)
				return fail(EX_USAGE, "--peer %s: %s", v,
				    config_peer_strerror(rc));
			flags->npeers++;
			continue;
		}
		if (!config_endpoint_ok(v, 1))
			return fail(EX_USAGE, "%s %s: not an endpoint "
			    "(tcp://HOST:PORT or ipc://PATH)", a, v);
		if (strcmp(a, "--listen") == 0)
			snprintf(flags->listen, sizeof(flags->listen), "%s", v);
		else
			snprintf(flags->feed, sizeof(flags->feed), "%s", v);
	}
	if ((rc = config_home(home, d->home, sizeof(d->home))) != 0)
		return fail(EX_USAGE, rc == KITH_ENOTFOUND ? "no home: give "
		    "--home DIR or set KITH_HOME" : "invalid --home");
	return -1;
}

/*
 * The roster entry of the CURVE key ${x}: that of either ed25519 key that
 * maps to it (a revoked one first), or NULL.  ${ed} gets those keys.
 */
static const struct roster_entry *
entry_of(const struct roster *r, const uint8_t x[32], uint8_t ed[2][32],
    size_t *ned)
{
	const struct roster_entry *e = NULL, *f;
	size_t i;

	*ned = kcrypto_ed25519_from_x25519(x, ed);
	for (i = 0; i < *ned; i++)
		if ((f = roster_find(r, ed[i])) != NULL &&
		    (e == NULL || f->revoked != 0))
			e = f;
	return e;
}

/*
 * May roster entry ${e} (NULL: a key not in the roster) use the socket of
 * ${role}?  Return 0, or the refusal's code with ${why}.
 */
static int
verdict(struct daemon *d, const struct roster_entry *e, int role, char *why,
    size_t size)
{
	char ban[SYNC_WHY_MAX + 1];
	unsigned left;

	if (e == NULL || e->role == ROLE_NONE) {
		snprintf(why, size, "not a member");
		return KITH_ENOTFOUND;
	}
	if (e->revoked != 0) {
		snprintf(why, size, "revoked");
		return KITH_EREVOKED;
	}
	if (role == TSOCK_PUB ? e->role == ROLE_PCN : e->role == ROLE_OBSERVER) {
		snprintf(why, size, "role %s", roster_role_name(e->role));
		return KITH_EDENIED;
	}
	if (role == TSOCK_LISTEN && d->srv != NULL &&
	    (left = sync_server_banned(d->srv, e->key, sync_now_ms(), ban,
	    sizeof(ban))) > 0) {
		snprintf(why, size, "banned for %u s: %s", left, ban);
		return KITH_EDENIED;
	}
	return 0;
}

/* A connection refused: one line a minute per key, socket and reason. */
static void
refused_log(const char *key, const char *sock, const char *why)
{
	char lkey[96];

	snprintf(lkey, sizeof(lkey), "refused %.8s %.64s %.16s", sock, key,
	    why);
	log_warn_every(lkey, "refused connection key=%s socket=%s reason=%s",
	    key, sock, why);
}

/*
 * ZAP: admit a CURVE client by the roster's word on its key.  The sync
 * socket takes admins, members and PCNs (a PCN's sessions are scoped to
 * what is addressed to it); the feed takes admins, members and observers.
 * A PCN gets no feed: PUB/SUB cannot filter per subscriber, and the feed
 * carries other organisations' records.  An admitted client is named by
 * its ed25519 key in hex, which the sync server reads back as tpeer.user.
 *
 * A refused client of the sync socket is admitted all the same, under a
 * user id that marks it refused (sync_refusal): the server answers its
 * first message with an ERROR saying why and cuts it, and logs it under
 * the ed25519 key its HELLO names.  The feed has no messages to answer:
 * a refused subscriber gets ZAP status 400 (its client sees that code),
 * and the log names the two ed25519 keys its CURVE key stands for, unless
 * the roster knows which.  The roster is kithd's own, brought up to date
 * with the store's change log first (a membership record anywhere
 * refreshes it), so a revocation takes effect at the next connection
 * (kithd cuts the open ones, see enforce), and no connection pays for
 * computing one.
 */
static int
admit(void *arg, int role, const uint8_t client_pk[32],
    char user[TRANSPORT_USER_MAX + 1])
{
	struct daemon *d = arg;
	const struct roster_entry *e = NULL;
	const struct roster *r;
	const char *sock = role == TSOCK_PUB ? "feed" : "sync";
	char hex[2 * (2 * KITH_KEY_LEN) + 2], why[SYNC_WHY_MAX + 40];
	uint8_t ed[2][32];
	size_t ned;
	int code;

	user[0] = '\0';
	on_refresh(d);
	if ((r = d->roster) == NULL) {
		log_warn("refused connection socket=%s: cannot read the "
		    "roster", sock);
		return -1;
	}
	e = entry_of(r, client_pk, ed, &ned);
	code = verdict(d, e, role, why, sizeof(why));
	if (e != NULL)
		kith_hex(hex, e->key, KITH_KEY_LEN);
	/*
	 * A key with all its sessions open gets no more connections: once let
	 * in, a connection's frames are read ahead before any could be
	 * refused.  (One that raced in is told, sync.c's too_many.)
	 */
	if (code == 0 && role == TSOCK_LISTEN && d->srv != NULL &&
	    sync_server_sessions(d->srv, e->key) >= SYNC_SESSIONS_PER_KEY) {
		snprintf(why, sizeof(why), "%d sessions open",
		    SYNC_SESSIONS_PER_KEY);
		refused_log(hex, sock, why);
		return -1;
	}
	if (code == 0)
		snprintf(user, TRANSPORT_USER_MAX + 1, "%s", hex);
	else if (role == TSOCK_LISTEN)
		sync_refusal(user, TRANSPORT_USER_MAX + 1, code,
		    e != NULL ? e->key : client_pk, e == NULL, why);
	if (code == 0 || role == TSOCK_LISTEN)
		return 0;
	if (e == NULL && ned == 2) {
		kith_hex(hex, ed[0], KITH_KEY_LEN);
		hex[2 * KITH_KEY_LEN] = '|';
		kith_hex(hex + 2 * KITH_KEY_LEN + 1, ed[1], KITH_KEY_LEN);
	} else if (e == NULL) {
		snprintf(hex, sizeof(hex), "x25519:");
		kith_hex(hex + 7, client_pk, 32);
	}
	refused_log(hex, sock, why);
	return -1;
}

/* nd.allowed: the cached roster's word on a sync client's key. */
static int
may_sync(void *arg, const uint8_t key[KITH_KEY_LEN], char *why, size_t size)
{
	struct daemon *d = arg;

	return verdict(d, roster_find(d->roster, key), TSOCK_LISTEN, why,
	    size);
}

/*
 * nd.caller: a node that called this one listens at ${ep}.  Remember it
 * to offer it new records at once, unless a peer line names its key
 * (that line says where it listens) or the roster does not let it sync.
 * A caller is known by its key: one that moves keeps its place, and its
 * wait after a failed try, so a member that names a new port at each
 * HELLO still costs one failed try an interval.
 */
static void
on_caller(void *arg, const uint8_t key[KITH_KEY_LEN], const char *ep)
{
	struct daemon *d = arg;
	struct peer *p;
	char why[SYNC_WHY_MAX + 40], hex[2 * KITH_KEY_LEN + 1];
	uint64_t now = sync_now_ms();
	size_t i, old;

	/*
	 * A listed peer that calls is up again: its backoff ends, so a node
	 * back from a crash or a stop is caught up with at once, not after
	 * the minute its failures had grown the wait to.
	 */
	for (i = 0; i < d->npeers; i++) {
		p = &d->peers[i];
		if (memcmp(p->key, key, KITH_KEY_LEN) != 0 || p->c != NULL ||
		    p->revoked || p->retry_ms <= now)
			continue;
		p->retry_ms = p->backoff_ms = 0;
		p->dirty = 1;
	}
	if (memcmp(key, d->key, KITH_KEY_LEN) == 0 || listed(d, key) ||
	    may_sync(d, key, why, sizeof(why)) != 0 ||
	    strlen(ep) > CONFIG_ENDPOINT_MAX)
		return;
	for (i = 0; i < d->ncallers; i++)
		if (memcmp(d->callers[i].key, key, KITH_KEY_LEN) == 0)
			break;
	if (i == d->ncallers && d->ncallers == CALLERS_MAX) {
		/* Full: the one heard from least recently makes room. */
		for (old = 0, i = 1; i < d->ncallers; i++)
			if (d->callers[i].heard_ms < d->callers[old].heard_ms)
				old = i;
		forget_caller(d, old, "the longest unheard of "
		    "64 callers");
		i = d->ncallers;
	}
	p = &d->callers[i];
	if (i == d->ncallers) {
		memset(p, 0, sizeof(*p));
		memcpy(p->key, key, KITH_KEY_LEN);
		p->caller = 1;
		p->next_ms = UINT64_MAX;	/* its own rounds suffice */
		d->ncallers++;
	} else if (strcmp(p->ep, ep) == 0) {
		p->heard_ms = now;
		return;
	}
	snprintf(p->ep, sizeof(p->ep), "%s", ep);
	snprintf(p->row, sizeof(p->row), "%s%s", CALLER_ROW, ep);
	memset(&p->last, 0, sizeof(p->last));
	(void)store_peers(d->st, find_last, p);
	p->heard_ms = now;
	kith_hex(hex, key, KITH_KEY_LEN);
	log_info("caller heard peer=%s key=%s", ep, hex);
}

/*
 * Forget callers not heard from for CALLER_INTERVALS intervals, and those
 * the roster no longer lets sync (revoked, or a role that may not).
 */
static void
forget_callers(struct daemon *d, uint64_t now)
{
	char why[SYNC_WHY_MAX + 40];
	uint64_t quiet = CALLER_INTERVALS * d->cfg.interval_s * 1000;
	size_t i;

	if (quiet < CALLER_MIN_MS)
		quiet = CALLER_MIN_MS;
	for (i = d->ncallers; i-- > 0; )
		if (may_sync(d, d->callers[i].key, why, sizeof(why)) != 0)
			forget_caller(d, i, why);
		else if (d->callers[i].c == NULL &&
		    /* Not now - heard_ms: a HELLO read after now was taken. */
		    now > d->callers[i].heard_ms + quiet)
			forget_caller(d, i, "not heard from for 3 intervals");
}

/*
 * A feed subscription from ${from}: keep its connection, by descriptor,
 * to cut it if its key loses the right to the feed; cut it now if it has
 * (a revocation taken in after ZAP let it in).
 */
static void
on_subscription(struct daemon *d, const struct tpeer *from)
{
	struct tpeer *ns;
	uint8_t key[KITH_KEY_LEN];
	char why[SYNC_WHY_MAX + 40];
	size_t i;

	for (i = 0; i < d->nsubs && d->subs[i].fd != from->fd; i++)
		;
	if (i == d->nsubs) {
		if (d->nsubs == d->capsubs) {
			size_t cap = d->capsubs ? 2 * d->capsubs : 16;

			if ((ns = realloc(d->subs, cap * sizeof(*ns))) == NULL)
				return;
			d->subs = ns;
			d->capsubs = cap;
		}
		d->nsubs++;
	}
	d->subs[i] = *from;	/* a descriptor reused: the new connection */
	if (kith_unhex(key, KITH_KEY_LEN, from->user) != 0 ||
	    verdict(d, roster_find(d->roster, key), TSOCK_PUB, why,
	    sizeof(why)) != 0) {
		log_warn("feed closed subscriber=%s: %s", from->user, why);
		tsock_drop(d->feed, from);
	}
}

/* Read the feed's subscriptions (XPUB queues them until read). */
static void
read_feed(struct daemon *d)
{
	struct tpeer from;
	const uint8_t *p;
	size_t n, count;

	on_refresh(d);
	for (count = 0; count < 256; count++) {
		if (tsock_recv(d->feed, &from, &p, &n) != 0)
			break;
		if (n > 0 && p[0] == 1)
			on_subscription(d, &from);
	}
}

/* If a membership record went in, take the roster again. */
static void
take_roster(struct daemon *d)
{
	struct roster *r = NULL;
	int rc;

	if (!d->nd.members)
		return;
	d->nd.members = 0;
	if ((rc = store_roster(d->st, &r)) != 0) {
		log_warn("cannot read the roster: %s", kith_strerror(rc));
		d->nd.members = 1;	/* try again */
		return;
	}
	roster_free(d->roster);
	d->roster = r;
	d->nd.roster = r;
	d->recheck = 1;
}

/*
 * A membership record went in: take the roster again, and end what it no
 * longer allows: sync sessions of a key revoked (or of a role that may not
 * sync), feed subscriptions likewise, and this node's sessions with a
 * peer whose key is revoked (no new ones start with it).
 */
static void
enforce(struct daemon *d)
{
	const struct roster_entry *e;
	const struct roster *r;
	uint8_t key[KITH_KEY_LEN];
	char why[SYNC_WHY_MAX + 40];
	size_t i;

	take_roster(d);
	if (!d->recheck)
		return;
	d->recheck = 0;
	r = d->roster;
	if (d->srv != NULL)
		sync_server_recheck(d->srv);
	for (i = 0; i < d->nsubs; i++)
		if (kith_unhex(key, KITH_KEY_LEN, d->subs[i].user) == 0 &&
		    verdict(d, roster_find(r, key), TSOCK_PUB, why,
		    sizeof(why)) != 0) {
			log_warn("feed closed subscriber=%s: %s",
			    d->subs[i].user, why);
			tsock_drop(d->feed, &d->subs[i]);
			d->subs[i--] = d->subs[--d->nsubs];
		}
	forget_callers(d, sync_now_ms());
	for (i = 0; i < d->npeers; i++) {
		struct peer *p = &d->peers[i];

		e = roster_find(r, p->key);
		if (p->revoked == (e != NULL && e->revoked != 0))
			continue;
		if (!(p->revoked = !p->revoked))
			continue;
		log_warn("peer revoked peer=%s: no more sessions with it%s",
		    p->ep, p->c != NULL ? "; its session closed" : "");
		sync_client_free(p->c);	/* commits what arrived */
		p->c = NULL;
	}
}

static int
run(struct daemon *d)
{
	struct tpoll items[2 + 2 * (CONFIG_PEERS_MAX + CALLERS_MAX)];
	uint64_t now;
	size_t n, i;
	int rc;

	while (!stopping) {
		if (reloading) {
			reloading = 0;
			reload(d);
		}
		enforce(d);
		now = sync_now_ms();
		start_due(d, now);
		n = 0;
		items[n].sock = d->listen;	/* NULL: polls nothing */
		items[n++].fd = -1;
		items[n].sock = d->feed;
		items[n++].fd = -1;
		for (i = 0; i < d->npeers + d->ncallers; i++) {
			if (peer_at(d, i)->c == NULL)
				continue;
			n += sync_client_poll(peer_at(d, i)->c, items + n);
		}
		if ((rc = transport_poll(d->t, items, n, d->behind ? 0 :
		    d->srv != NULL && sync_server_waiting(d->srv) ? DRAIN_MS :
		    TICK_MS)) < 0) {
			log_warn("poll failed: %s", kith_strerror(rc));
			return EX_SOFTWARE;
		}
		now = sync_now_ms();
		if (d->srv != NULL && items[0].readable)
			sync_server_read(d->srv, now);
		if (d->feed != NULL && items[1].readable)
			read_feed(d);
		for (i = 0; i < d->npeers + d->ncallers; i++) {
			struct peer *p = peer_at(d, i);

			if (p->c == NULL)
				continue;
			if ((rc = sync_client_step(p->c, now)) != 0)
				session_done(d, p, rc, now);
		}
		if (now - d->forget_ms >= PURGE_MS) {
			d->forget_ms = now;
			forget_callers(d, now);
		}
		if (d->srv != NULL)
			sync_server_expire(d->srv, now);
		check_store(d, now, 0);
		purge_due(d, now);
		if ((rc = scrub_due(d, now)) != 0)
			return rc;
		patrol_due(d, now);
		hold_due_apply(d, now);
		clocks_save(d, items[0].readable);
		log_tick();
	}
	clocks_save(d, 0);
	return EX_OK;
}

/* The port of a tcp:// listen endpoint, which HELLOs name; else 0. */
static uint16_t
listen_port(const char *ep)
{
	const char *colon = strrchr(ep, ':');

	if (strncmp(ep, "tcp://", 6) != 0 || colon == NULL)
		return 0;
	return (uint16_t)strtoul(colon + 1, NULL, 10);
}

/* The node key's X25519 pair becomes the transport's CURVE identity. */
static int
set_identity(struct daemon *d)
{
	struct kcrypto_key *key;
	char path[4200];
	uint8_t pk[32], sk[32];
	int rc, code = -1;

	snprintf(path, sizeof(path), "%s/key", d->home);
	if ((key = kcrypto_key_load(path, &rc)) == NULL)
		return fail(rc == KITH_ENOTFOUND ? EX_CONFIG : EX_IOERR,
		    "cannot read the node key %s: %s%s", path,
		    kith_strerror(rc), rc == KITH_ENOTFOUND ? "; kith init "
		    "creates it" : "");
	if ((rc = kcrypto_key_x25519(key, pk, sk)) != 0)
		code = fail(EX_SOFTWARE, "cannot derive the CURVE key: %s",
		    kith_strerror(rc));
	else
		(void)transport_set_identity(d->t, pk, sk);
	memcpy(d->key, kcrypto_key_public(key), KITH_KEY_LEN);
	transport_set_auth(d->t, admit, d);
	kcrypto_wipe(sk, sizeof(sk));
	kcrypto_key_free(key);
	return code;
}

/* Bind one endpoint; an exit code naming where it came from on failure. */
static int
bind_one(struct daemon *d, int role, const char *ep, int line,
    const char *key, struct tsock **out)
{
	char where[4400];
	int rc;

	if (ep[0] == '\0')
		return -1;
	if ((*out = tsock_open(d->t, role, ep, NULL, &rc)) != NULL)
		return -1;
	origin(d, line, key, where, sizeof(where));
	return fail(EX_CONFIG, "%s: cannot bind %s: %s", where, ep,
	    rc == KITH_EEXIST ? "address already in use" :
	    rc == KITH_EINVAL ? "not a usable address" : kith_strerror(rc));
}

/*
 * HOME/kithd.pid, for kith status and kith peers: the pid, the endpoints
 * in use, where the peers come from ("peers --peer" or "peers
 * kith.conf"), then the endpoint of each peer, a line each.  Return 0 or
 * -1.
 */
static int
write_pidfile(struct daemon *d)
{
	char buf[64 + (CONFIG_PEERS_MAX + 2) * (CONFIG_ENDPOINT_MAX + 2)];
	size_t i;
	int n;

	n = snprintf(buf, sizeof(buf), "%ld\n%s\n%s\npeers %s\n",
	    (long)getpid(), d->cfg.listen, d->cfg.feed, d->flag_peers ?
	    "--peer" : "kith.conf");
	for (i = 0; i < d->cfg.npeers && n > 0 && (size_t)n < sizeof(buf);
	    i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\n",
		    d->cfg.peers[i]);
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    ftruncate(d->lockfd, 0) != 0 ||
	    pwrite(d->lockfd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

static int
lock_home(struct daemon *d, int *fd)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/kithd.pid", d->home);
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return fail(EX_IOERR, "cannot open %s: %s", path,
		    strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
		return fail(EX_TEMPFAIL, "another kithd is running on %s",
		    d->home);
	d->lockfd = *fd;
	if (write_pidfile(d) != 0)
		return fail(EX_IOERR, "cannot write %s", path);
	return -1;
}

/*
 * No core dumps: the daemon's memory holds the node's secret key and the
 * personal data it opens.  RLIMIT_CORE 0 stops the file; not dumpable
 * also keeps other processes of the user from reading the memory through
 * /proc or ptrace, and stops a core_pattern pipe, which ignores the limit.
 */
static int
no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return fail(EX_SOFTWARE, "cannot disable core dumps: %s",
		    strerror(errno));
	return -1;
}

/*
 * Frames of up to 4 MiB come and go on libzmq's I/O thread and ours.
 * glibc raises its mmap threshold to the size of each large block freed,
 * after which such frames come from arenas that keep their peak for good;
 * a fixed threshold keeps every large frame in a mapping of its own, given
 * back to the system when freed, so the daemon's size follows what it
 * holds (README, Performance: the siege).
 */
#define MMAP_THRESHOLD	(128 << 10)

int
main(int argc, char **argv)
{
	static struct daemon d;
	struct config flags;
	struct sigaction sa;
	char err[600], path[4200];
	uint64_t records = 0;
	size_t n;
	int rc, code, lockfd = -1;

	memset(&flags, 0, sizeof(flags));
	(void)mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	if ((code = parse_args(&d, argc, argv, &flags)) >= 0 ||
	    (code = no_core_dumps()) >= 0)
		return code;
	if (kcrypto_init() != 0)
		return fail(EX_SOFTWARE, "cannot initialise libsodium");
	snprintf(d.conf, sizeof(d.conf), "%s/kith.conf", d.home);
	config_defaults(&d.cfg);
	rc = config_load(d.conf, &d.cfg, err, sizeof(err));
	if (rc != 0 && rc != KITH_ENOTFOUND)
		return fail(EX_CONFIG, "%s", err);
	if (d.flag_level)
		d.cfg.log_level = flags.log_level;
	if (d.cfg.log_file[0] != '\0')
		snprintf(d.log_path, sizeof(d.log_path), "%s%s%s",
		    d.cfg.log_file[0] == '/' ? "" : d.home,
		    d.cfg.log_file[0] == '/' ? "" : "/", d.cfg.log_file);
	if (flags.listen[0]) {
		strcpy(d.cfg.listen, flags.listen);
		d.cfg.listen_line = 0;
	}
	if (flags.feed[0]) {
		strcpy(d.cfg.feed, flags.feed);
		d.cfg.feed_line = 0;
	}
	if (flags.npeers > 0) {
		d.flag_peers = 1;
		memcpy(d.cfg.peers, flags.peers, sizeof(flags.peers));
		memcpy(d.cfg.peer_keys, flags.peer_keys,
		    sizeof(flags.peer_keys));
		d.cfg.npeers = flags.npeers;
	}
	snprintf(path, sizeof(path), "%s/store", d.home);
	/* Every page is checked before LMDB follows a pointer of the file. */
	d.st = store_open(path, STORE_SHARED | STORE_CHECK,
	    d.cfg.max_size_mb << 20, &rc);
	if (d.st == NULL && rc == KITH_ENOTFOUND)
		return fail(EX_CONFIG, "%s: no kith store in %s; create one "
		    "with: kith --home %s init --name ORG", d.conf, d.home,
		    d.home);
	if (d.st == NULL && rc == KITH_EUPGRADE)
		return fail(EX_CONFIG, "the store in %s is in the format of an "
		    "older kith: stop here and run kith --home %s upgrade", d.home,
		    d.home);
	if (d.st == NULL && rc == KITH_EVERSION)
		return fail(EX_CONFIG, "the store in %s was written by another "
		    "version of kith; this kithd reads protocol %d stores "
		    "only: start again with kith init in a new home", d.home,
		    KITH_PROTO_VERSION);
	if (d.st == NULL && rc == KITH_ECORRUPT)
		return fail(EX_IOERR, "the store in %s is damaged in its file "
		    "structure; kithd will not start on it.  See where with: "
		    "kith --home %s verify.  Then rebuild this node from its "
		    "peers with: kith --home %s restore", d.home, d.home, d.home);
	if (d.st == NULL)
		return fail(EX_IOERR, "cannot open the store in %s: %s",
		    d.home, kith_strerror(rc));
	if (store_restoring(d.st)) {
		store_close(d.st);
		return fail(EX_TEMPFAIL, "a restore of %s from its peers has "
		    "not caught up; until it has, this node takes no writes.  "
		    "Finish it with: kith --home %s restore", d.home, d.home);
	}
	if ((rc = store_network(d.st, d.nd.network)) != 0) {
		code = fail(EX_CONFIG, "the store in %s belongs to no network; "
		    "run kith init", d.home);
		goto out;
	}
	if ((code = lock_home(&d, &lockfd)) >= 0)
		goto out;

	/* Signals only set flags; the loop wakes at least every TICK_MS. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((d.t = transport_new()) == NULL) {
		code = fail(EX_SOFTWARE, "out of memory");
		goto out;
	}
	if ((code = set_identity(&d)) >= 0)
		goto out;
	if ((code = bind_one(&d, TSOCK_LISTEN, d.cfg.listen, d.cfg.listen_line,
	    "listen", &d.listen)) >= 0 ||
	    (code = bind_one(&d, TSOCK_PUB, d.cfg.feed, d.cfg.feed_line,
	    "feed", &d.feed)) >= 0)
		goto out;
	if ((rc = store_log_last(d.st, &d.log)) != 0 ||
	    (rc = store_count(d.st, &records)) != 0) {
		code = fail(EX_IOERR, "cannot read the store: %s",
		    kith_strerror(rc));
		goto out;
	}
	d.nd.st = d.st;
	d.nd.log_seen = d.log;
	d.nd.t = d.t;
	d.nd.feed = d.feed;
	d.nd.changed = on_changed;
	d.nd.caller = on_caller;
	d.nd.refresh = on_refresh;
	d.nd.allowed = may_sync;
	d.nd.clock = on_clock;
	d.nd.arg = &d;
	if ((d.hold = d.nd.hold = hold_new()) == NULL) {
		code = fail(EX_SOFTWARE, "out of memory");
		goto out;
	}
	d.nd.members = 1;	/* take the roster before anything */
	memcpy(d.nd.key, d.key, KITH_KEY_LEN);
	snprintf(d.nd.name, sizeof(d.nd.name), "%.64s", d.cfg.name);
	d.nd.port = listen_port(d.cfg.listen);
	if (d.listen != NULL &&
	    (d.srv = sync_server_new(&d.nd, d.listen)) == NULL) {
		code = fail(EX_SOFTWARE, "out of memory");
		goto out;
	}
	set_peers(&d, &d.cfg);
	log_set_level(d.cfg.log_level);
	if (d.log_path[0] != '\0' && log_set_file(d.log_path) != 0) {
		code = fail(EX_CONFIG, "%s: [node] log_file %s: cannot open it "
		    "to append: %s", d.conf, d.log_path, strerror(errno));
		goto out;
	}
	log_open("kithd");
	log_info("start home=%s listen=%s feed=%s peers=%zu records=%llu "
	    "pid=%ld dumpable=%d", d.home, d.cfg.listen[0] ? d.cfg.listen : "-",
	    d.cfg.feed[0] ? d.cfg.feed : "-", d.npeers,
	    (unsigned long long)records, (long)getpid(),
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	code = run(&d);
	log_info("stop rejected=%llu dropped=%llu",
	    (unsigned long long)d.nd.rejected,
	    (unsigned long long)d.nd.dropped);
out:
	for (n = 0; n < d.npeers + d.ncallers; n++)
		sync_client_free(peer_at(&d, n)->c);	/* commits what arrived */
	sync_server_free(d.srv);
	tsock_close(d.listen);
	tsock_close(d.feed);
	transport_free(d.t);
	sync_node_free(&d.nd);
	roster_free(d.roster);
	hold_free(d.hold);
	free(d.subs);
	store_close(d.st);
	if (lockfd >= 0)
		close(lockfd);
	return code;
}
