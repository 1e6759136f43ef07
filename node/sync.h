#ifndef SYNC_H
#define SYNC_H

/*
 * Sync sessions (PROTOCOL.md section 9).  A client session reconciles the
 * local store with one peer's, both ways, over a TSOCK_CONNECT socket: a
 * HELLO, Negentropy rounds, then GETs for what it lacks, PULLs for whole
 * ranges it holds nothing in, and PUSHes of what the peer lacks.  The
 * server answers any number of clients on the node's TSOCK_LISTEN socket.
 * Both run on the caller's thread, driven by transport_poll.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct hold;
struct record;
struct roster;
struct store;
struct store_result;
struct tpoll;
struct transport;
struct tsock;
struct sync_client;
struct sync_server;

#define SYNC_IDLIST_BELOW	256	/* Negentropy ranges sent as IdLists */
#define SYNC_REPLY_MS		10000	/* a peer's longest silence mid-session */
#define SYNC_IDLE_MS		60000	/* a served session's longest silence */
#define SYNC_REJECT_MAX		100	/* rejected records before a peer is dropped */
#define SYNC_BAN_MS		60000	/* a dropped peer's key is refused this long */
#define SYNC_WHY_MAX		100	/* bytes of a refusal's reason */

/*
 * What one member may cost a server (PROTOCOL.md 9.9).  Requests wait
 * while more than SYNC_BACKLOG_MAX bytes of replies to their session sit
 * in memory unread; a session whose waiting requests pass the queue's
 * bounds is dropped, and one whose replies make no progress for
 * SYNC_STALL_MS is closed.
 */
#define SYNC_SESSIONS_PER_KEY	4	/* open sessions per member key */
#define SYNC_QUEUE_MAX		16	/* requests waiting per session */
#define SYNC_QUEUE_BYTES	(2U << 20)	/* their bytes */
#define SYNC_BACKLOG_MAX	(256U << 10)	/* reply bytes unread before waiting */
#define SYNC_STALL_MS		30000	/* waiting with no reply leaving */
#define SYNC_HELLO_PER_MIN	3000	/* HELLOs per member key, a minute */
#define SYNC_HELLO_BURST	100
#define SYNC_AUTHOR_PER_MIN	12000	/* PUSHed records per author, a minute */
#define SYNC_AUTHOR_BODY_UNIT	4096	/* ... a record counts 1 more per this */

/* What the sessions of one node share. */
struct sync_node {
	struct store *st;		/* opened with STORE_SHARED */
	/*
	 * The network's roster as the owner keeps it current, borrowed, or
	 * NULL: sessions then compute it from the store when they need it.
	 */
	const struct roster *roster;
	struct transport *t;
	struct tsock *feed;		/* the live feed, or NULL */
	uint8_t network[KITH_NETWORK_LEN];
	uint8_t key[KITH_KEY_LEN];	/* this node's ed25519 key, for HELLOs */
	char name[65];			/* this node's name for HELLOs */
	uint16_t port;			/* its sync port for HELLOs; 0: none */
	/*
	 * Called once per batch of records added from a peer, or NULL.
	 * ${source} is the peer's ed25519 node key, whichever side opened
	 * the session (so a node can offer the records to every peer but
	 * the one they came from), or NULL if it is not known.
	 */
	void (*changed)(void *arg, const uint8_t *source);
	/*
	 * Called when a server welcomes a client whose HELLO names a sync
	 * port (PROTOCOL.md 9.2), or NULL: ${key} is the client's ed25519
	 * key, as ZAP proved it and allowed said yes, and ${endpoint}
	 * tcp://ADDRESS:PORT (an IPv6 address in brackets), ADDRESS the one
	 * its connection came from.  Both are borrowed for the call.
	 */
	void (*caller)(void *arg, const uint8_t key[KITH_KEY_LEN],
	    const char *endpoint);
	/*
	 * Called before a server answers a HELLO, or NULL: bring what
	 * allowed asks up to date with the roster ZAP admitted the client
	 * by, and publish writes by other processes.
	 */
	void (*refresh)(void *arg);
	/*
	 * May the client whose ed25519 key is ${key} hold a sync session?
	 * Return 0, or why not: a code (KITH_EREVOKED...) and ${why}.  Asked
	 * at each HELLO and by sync_server_recheck; NULL: always.
	 */
	int (*allowed)(void *arg, const uint8_t key[KITH_KEY_LEN], char *why,
	    size_t size);
	/*
	 * Called with a peer's clock offset (PROTOCOL.md 5) as a session
	 * measures it, or NULL: the peer's node key, the endpoint this node
	 * connected to (NULL: the peer connected here, and the offset is a
	 * one-way lower bound), the offset in ms (positive: the peer's clock
	 * is ahead) and the most it can be wrong by (0: unknown, one way).
	 */
	void (*clock)(void *arg, const uint8_t key[KITH_KEY_LEN],
	    const char *endpoint, int64_t offset_ms, uint64_t err_ms);
	void *arg;
	/*
	 * Records stamped too far ahead, held for their time (node/hold.h),
	 * or NULL: then each session forgets them.  Sessions do not fetch a
	 * held record again; the owner applies them when due.
	 */
	struct hold *hold;
	/*
	 * Each record goes on the feed once.  The owner's change-log
	 * follower publishes what other processes commit (sync_node_follow);
	 * ${log_seen} is the last counter it has taken.  A session publishes
	 * its own commits at once, when the follower has not reached them,
	 * and notes their counters in ${published} for the follower to skip.
	 */
	uint64_t log_seen;
	struct sync_logrange {
		uint64_t lo, hi;
	} *published;
	size_t npublished;
	int members;			/* set when a membership record goes in */
	uint64_t rejected;		/* records refused, all sessions */
	uint64_t dropped;		/* peers cut off for misbehaving */
};

/**
 * sync_node_mend(nd):
 * Reads for sending (a GET, a PULL, a client's PUSH) skip a record whose
 * stored header or body fails its hash, and the store notes it; so does
 * store_patrol.  Contain what was noted (store_mend, which takes a
 * removed record out of the reconciliation order), log each record once,
 * and call ${nd}->changed so that rounds with the peers start and fetch
 * good copies.
 */
void sync_node_mend(struct sync_node *nd);

/* A client session's figures. */
struct sync_stats {
	uint64_t received;	/* records that came in */
	uint64_t added;		/* of those, new and valid: committed */
	uint64_t rejected;	/* of those, refused */
	uint64_t sent;		/* records sent */
	uint64_t peer_added;	/* of those, new to the peer */
	uint64_t bytes_in, bytes_out;
	uint64_t round_trips;
	uint64_t peer_records;	/* the peer's count at the start */
	uint64_t held;		/* records that came in too far ahead: held */
	uint64_t peer_rejected;	/* of those sent, refused (or held) by the peer */
	uint64_t withheld;	/* not sent: too far ahead of the peer's clock */
	uint64_t start_ms, end_ms;
};

/**
 * sync_node_added(nd, recs, rcs, n, res):
 * Record that the records ${recs}[i] whose ${rcs}[i] is 0 were just
 * committed by the transaction ${res} describes: publish them on the feed
 * unless the change-log follower has reached that transaction's entries
 * (then it publishes them), and set ${nd}->members if one is a
 * membership record.
 */
void sync_node_added(struct sync_node *nd, struct record *const *recs,
    const int *rcs, size_t n, const struct store_result *res);

/**
 * sync_node_follow(nd, counter):
 * The owner's change-log follower reached entry ${counter}: return 1 if a
 * session published its record already, else 0 (the follower publishes
 * it).
 */
int sync_node_follow(struct sync_node *nd, uint64_t counter);

/**
 * sync_node_free(nd):
 * Free what ${nd}'s sessions kept in it (not the fields its owner set).
 */
void sync_node_free(struct sync_node *nd);

/**
 * sync_node_publish(nd, rec):
 * Publish ${rec} on the feed, if there is one, under its kind's topic;
 * set ${nd}->members if it is a membership record (charter, member,
 * revoke): the roster may have changed.
 */
void sync_node_publish(struct sync_node *nd, const struct record *rec);

/**
 * sync_client_new(nd, endpoint, node_pk, rc):
 * Start a session with the node at ${endpoint} whose ed25519 node key is
 * ${node_pk}[32] (it proves it over CURVE): connect and send the opening
 * requests.  ${nd}->t needs its identity set.  Return it, or NULL with
 * ${*rc} set (KITH_EINVAL if ${node_pk} is not a valid key).
 */
struct sync_client *sync_client_new(struct sync_node *nd,
    const char *endpoint, const uint8_t node_pk[32], int *rc);

/**
 * sync_client_poll(c, items):
 * Fill ${items}[0..1] with what ${c} waits on; return 2.
 */
size_t sync_client_poll(struct sync_client *c, struct tpoll *items);

/**
 * sync_client_step(c, now_ms):
 * Handle whatever of ${c}'s is ready.  Return 0 while the session goes on,
 * 1 once it has ended well (both sides hold the union), or an error
 * (KITH_ETIMEDOUT, KITH_EPROTO, KITH_EPEER, a store error); then only
 * sync_client_stats and sync_client_free may be called.
 */
int sync_client_step(struct sync_client *c, uint64_t now_ms);

/**
 * sync_client_idle(c):
 * Return 1 if every record ${c} received is committed and accounted for
 * (none is in the store but unknown to the node's order).
 */
int sync_client_idle(struct sync_client *c);

/**
 * sync_client_clock(c, offset_ms, err_ms):
 * If the peer's WELCOME has come, set ${*offset_ms} to its clock offset
 * (its wall clock minus this node's, measured over the HELLO's round
 * trip) and ${*err_ms} to the most that can be wrong by, and return 0;
 * else return KITH_ENOTFOUND.
 */
int sync_client_clock(const struct sync_client *c, int64_t *offset_ms,
    uint64_t *err_ms);

/**
 * sync_client_stats(c):
 * Return ${c}'s figures so far; borrowed.
 */
const struct sync_stats *sync_client_stats(const struct sync_client *c);

/**
 * sync_client_error(c):
 * Return the text of an ERROR the peer sent, or "".
 */
const char *sync_client_error(const struct sync_client *c);

/**
 * sync_client_refused(c):
 * If the peer refused this node (an ERROR answering the HELLO with
 * KITH_ENOTFOUND: not a member, KITH_EREVOKED, or KITH_EDENIED: the role
 * may not sync, or the key is banned), return that code; sync_client_error
 * has the peer's words.  Else 0.
 */
int sync_client_refused(const struct sync_client *c);

/**
 * sync_client_free(c):
 * End and free ${c}; nothing if NULL.
 */
void sync_client_free(struct sync_client *c);

/**
 * sync_server_new(nd, sock):
 * Return a server answering on the TSOCK_LISTEN ${sock}, or NULL.
 */
struct sync_server *sync_server_new(struct sync_node *nd, struct tsock *sock);

/**
 * sync_server_read(srv, now_ms):
 * Answer every message waiting on the server's socket.
 */
void sync_server_read(struct sync_server *srv, uint64_t now_ms);

/**
 * sync_server_waiting(srv):
 * Return 1 if a session's requests wait for its replies to drain: call
 * sync_server_expire again within a few milliseconds.
 */
int sync_server_waiting(const struct sync_server *srv);

/**
 * sync_server_expire(srv, now_ms):
 * Answer waiting requests whose session's replies have drained, close
 * sessions stalled for SYNC_STALL_MS, and forget those silent for
 * SYNC_IDLE_MS.
 */
void sync_server_expire(struct sync_server *srv, uint64_t now_ms);

/**
 * sync_server_sessions(srv, key):
 * Return how many sessions the member key ${key} has open on ${srv}.
 */
size_t sync_server_sessions(const struct sync_server *srv,
    const uint8_t key[KITH_KEY_LEN]);

/**
 * sync_refusal(user, size, code, key, x25519, why):
 * Write to ${user} (${size} bytes) the ZAP user id that admits a client to the sync socket
 * only to be refused (PROTOCOL.md 9.1): its first message is answered with
 * an ERROR of ${code} (KITH_ENOTFOUND, KITH_EREVOKED or KITH_EDENIED) and
 * the text ${why} (at most SYNC_WHY_MAX bytes kept), and its connection is
 * cut.  ${key} is the client's ed25519 key, or with ${x25519} its X25519
 * (CURVE) key, when its ed25519 key is not known: then the key its HELLO
 * names, if it maps to that X25519 key, is the one logged.
 */
void sync_refusal(char *user, size_t size, int code, const uint8_t key[32],
    int x25519, const char *why);

/**
 * sync_server_banned(srv, key, now_ms, why, size):
 * If ${key} is banned (its session was dropped for misbehaving less than
 * SYNC_BAN_MS ago), copy the reason to ${why} (${size} bytes) and return
 * the seconds left, at least 1; else return 0.
 */
unsigned sync_server_banned(const struct sync_server *srv,
    const uint8_t key[KITH_KEY_LEN], uint64_t now_ms, char *why,
    size_t size);

/**
 * sync_server_recheck(srv):
 * Ask ${srv}'s node (allowed) again about the key of every session: answer
 * each that may no longer sync with an ERROR saying why, log it, cut its
 * connection and forget it.  No ban follows: it did nothing wrong.
 */
void sync_server_recheck(struct sync_server *srv);

/**
 * sync_server_free(srv):
 * Free ${srv}; nothing if NULL.
 */
void sync_server_free(struct sync_server *srv);

/**
 * sync_own_fault(rc):
 * Return 1 if ${rc} is this node's own failure (its disk or store full,
 * an I/O or store error, damage found in its store, out of memory),
 * which no peer caused and for which no peer is blamed; else 0.
 */
int sync_own_fault(int rc);

/**
 * sync_now_ms():
 * Return a monotonic clock in milliseconds.
 */
uint64_t sync_now_ms(void);

#endif
