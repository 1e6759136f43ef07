#ifndef TRANSPORT_H
#define TRANSPORT_H

/*
 * The transport: the one module that uses ZeroMQ.  A node listens with a
 * ROUTER socket for sync sessions and publishes its live feed on a PUB
 * socket; a peer starting a session connects a DEALER; a feed subscriber
 * connects a SUB.  Messages are single frames (sync) or topic + frame
 * (feed).  Every socket caps inbound messages at TRANSPORT_MSG_MAX: libzmq
 * drops a connection that sends a larger one.  Nothing here blocks except
 * transport_poll.
 *
 * Every socket speaks CURVE (ZeroMQ RFC 26) with the transport's X25519
 * key pair: bound sockets as servers, connecting ones as clients that must
 * know the server's public key.  A client's key is checked through ZAP
 * (RFC 27), answered by transport_poll on the caller's thread: the bound
 * sockets use the ZAP domains TRANSPORT_ZAP_SYNC and TRANSPORT_ZAP_FEED.
 */

#include <stddef.h>
#include <stdint.h>

struct transport;
struct tsock;

#define TRANSPORT_MSG_MAX	((4 << 20) + 64)	/* bytes in one inbound frame */
#define TRANSPORT_ID_MAX	255			/* routing id bytes */
#define TRANSPORT_SNDHWM	256			/* frames queued per peer */
#define TRANSPORT_RCVHWM	2			/* frames read ahead per peer */
#define TRANSPORT_FRAME_COST	48			/* wire bytes a frame adds */
#define TRANSPORT_USER_MAX	192			/* bytes of a ZAP user id */
#define TRANSPORT_HANDSHAKE_MS	10000			/* longest CURVE handshake */
#define TRANSPORT_ZAP_SYNC	"kith-sync"		/* ZAP domain: TSOCK_LISTEN */
#define TRANSPORT_ZAP_FEED	"kith-feed"		/* ZAP domain: TSOCK_PUB */

/* Socket roles. */
enum {
	TSOCK_LISTEN,	/* ROUTER, bound: serves sync sessions */
	TSOCK_CONNECT,	/* DEALER, connected: one session with a peer */
	TSOCK_PUB,	/* XPUB, bound: the live feed; its subscriptions are read */
	TSOCK_SUB,	/* SUB, connected: a feed subscriber */
};

/* Who a message on a TSOCK_LISTEN or TSOCK_PUB socket came from. */
struct tpeer {
	uint8_t id[TRANSPORT_ID_MAX];
	size_t len;
	int fd;		/* the connection's descriptor, or -1 if unknown */
	unsigned char addr[128];	/* its far end (a sockaddr), when read */
	size_t addrlen;			/* 0 if unknown */
	char user[TRANSPORT_USER_MAX + 1];	/* what tauth_fn admitted it as */
};

/* One entry of transport_poll: a socket, or (sock NULL) a descriptor. */
struct tpoll {
	struct tsock *sock;
	int fd;
	int readable;	/* out */
};

/*
 * A ZAP check: admit the CURVE client whose public key is ${client_pk} to
 * the bound socket of ${role} (TSOCK_LISTEN or TSOCK_PUB)?  Return 0 to
 * admit it, with ${user} set to a NUL-terminated name of at most
 * TRANSPORT_USER_MAX bytes (tpeer.user on its messages), or non-zero to
 * refuse it.
 */
typedef int tauth_fn(void *arg, int role, const uint8_t client_pk[32],
    char user[TRANSPORT_USER_MAX + 1]);

/**
 * transport_new():
 * Return a transport (a ZeroMQ context), or NULL.
 */
struct transport *transport_new(void);

/**
 * transport_free(t):
 * Free ${t}; its sockets must be closed first.  Nothing if NULL.
 */
void transport_free(struct transport *t);

/**
 * transport_set_identity(t, pk, sk):
 * Give ${t} the X25519 key pair ${pk}, ${sk} (kcrypto_key_x25519): every
 * socket opened afterwards uses it for CURVE.  ${t} keeps a copy, wiped by
 * transport_free; the caller may wipe its own at once.  Return 0.
 */
int transport_set_identity(struct transport *t, const uint8_t pk[32],
    const uint8_t sk[32]);

/**
 * transport_set_auth(t, fn, arg):
 * Check each CURVE client of ${t}'s bound sockets with ${fn}(${arg}, ...)
 * from now on.  With no ${fn} (NULL, the default) every client that knows
 * the server's key is admitted, with user "".
 */
void transport_set_auth(struct transport *t, tauth_fn *fn, void *arg);

/**
 * tsock_open(t, role, endpoint, server_pk, rc):
 * Open a socket of ${role} on ${endpoint}: bound for TSOCK_LISTEN and
 * TSOCK_PUB, connected (in the background, retried) for the others, which
 * only talk to a server whose X25519 public key is ${server_pk}[32] (NULL
 * for bound roles).  The caller checks the endpoint's form
 * (config_endpoint_ok).  Return it, or NULL with ${*rc} set to KITH_EINVAL
 * (bad endpoint, no identity set on ${t}, or no ${server_pk} for a
 * connecting role), KITH_EEXIST (address in use) or KITH_EIO.
 */
struct tsock *tsock_open(struct transport *t, int role, const char *endpoint,
    const uint8_t *server_pk, int *rc);

/**
 * tsock_endpoint(s, buf, n):
 * Write the endpoint ${s} was last bound or connected to, with the port
 * the system chose for "tcp://HOST:*", to ${buf} (${n} bytes).  Return 0,
 * or KITH_EINVAL if it does not fit.
 */
int tsock_endpoint(struct tsock *s, char *buf, size_t n);

/**
 * tsock_close(s):
 * Close ${s} at once, dropping unsent messages.  Nothing if NULL.
 */
void tsock_close(struct tsock *s);

/**
 * tsock_subscribe(s, topic):
 * Subscribe the TSOCK_SUB ${s} to topics starting with ${topic} ("" for
 * all).  Return 0 or KITH_EIO.
 */
int tsock_subscribe(struct tsock *s, const char *topic);

/**
 * tsock_send(s, to, p, n):
 * Queue the ${n}-byte frame ${p}: to the peer ${to} on a TSOCK_LISTEN
 * socket (NULL otherwise).  Return 0, KITH_EBUSY if the peer's queue is
 * full, KITH_ENOTFOUND if the peer is gone, or KITH_EIO.
 */
int tsock_send(struct tsock *s, const struct tpeer *to, const void *p,
    size_t n);

/**
 * tsock_publish(s, topic, p, n):
 * Publish the ${n}-byte frame ${p} under ${topic} on the TSOCK_PUB ${s}.
 * Subscribers too slow to keep up lose messages (they reconcile later).
 */
int tsock_publish(struct tsock *s, const char *topic, const void *p,
    size_t n);

/**
 * tsock_recv(s, from, p, n):
 * Take the next message, if one waits: set ${*p}, ${*n} to its frame
 * (borrowed until the next tsock_recv on ${s}) and, on a TSOCK_LISTEN or
 * TSOCK_PUB socket, ${*from} to its sender (with the user id ZAP gave it,
 * and its connection).  On a TSOCK_PUB socket the messages are the
 * subscribers' subscriptions (a byte 1 or 0, then the topic): every one,
 * whoever else holds the topic.  A TSOCK_PUB socket must be read, or its
 * subscriptions pile up.  Return 0, 1 if nothing waits, KITH_EPROTO if the
 * message had the wrong number of frames (it is discarded; ${*from} is
 * still set), or KITH_EIO.
 */
int tsock_recv(struct tsock *s, struct tpeer *from, const uint8_t **p,
    size_t *n);

/**
 * tsock_refused(s, handshaken):
 * For a TSOCK_SUB ${s}: if the server's ZAP handler refused its last CURVE
 * handshake, return the ZAP status code it gave (300 for a temporary
 * refusal, 400, or 500), else 0; set ${*handshaken} to 1 if a handshake
 * has ever succeeded, else 0.  A SUB hears of a refusal no other way.
 */
int tsock_refused(struct tsock *s, int *handshaken);

/**
 * transport_reach(t, role, endpoint, server_pk, timeout_ms, status):
 * Find out, within about ${timeout_ms}, whether a socket of ${role}
 * (TSOCK_CONNECT or TSOCK_SUB) on ${t} could talk with ${endpoint}: resolve
 * its host, connect over TCP (or to the ipc:// path) and close, then make
 * a CURVE handshake with the server key ${server_pk}[32] on a socket of
 * ${role} that sends nothing, and close it.  (The server's ZAP handler
 * sees the handshake, as for any connection.)  Return 0 if the handshake
 * succeeded or nothing was learnt in time, KITH_ENOHOST if the host does
 * not resolve, KITH_ENOLISTEN if nothing listens there (still after a
 * second of trying again, as a daemon just started binds), KITH_ETIMEDOUT if
 * the connection was neither made nor refused in time, KITH_EWRONGKEY if
 * the server cut the handshakes short (it holds another key, or is not a
 * kith node), or KITH_EDENIED with ${*status} the ZAP status code (300,
 * 400, 500) if the server's ZAP handler refused ${t}'s key.  Also
 * KITH_EINVAL or KITH_EIO.
 */
int transport_reach(struct transport *t, int role, const char *endpoint,
    const uint8_t server_pk[32], long timeout_ms, int *status);

/**
 * tsock_drop(s, peer):
 * Cut the connection ${peer}'s messages arrive on (TSOCK_LISTEN or
 * TSOCK_PUB), if it is still the one it was: a connection that has ended
 * may have left its descriptor number to another, which is not touched.
 * The peer may connect again (and face ZAP again).
 */
void tsock_drop(struct tsock *s, const struct tpeer *peer);

/**
 * tsock_taken(peer, bytes):
 * Set ${*bytes} to how many bytes of the TCP connection ${peer}'s messages
 * arrive on the kernel has taken from libzmq so far (handed on and
 * acknowledged, or in its send queue), counting the handshake's and each
 * frame's TRANSPORT_FRAME_COST (at most) of CURVE and framing.  What a
 * node queued for the peer beyond that still sits in memory.  Return 0,
 * or KITH_ENOTFOUND if the connection is gone or is not TCP.
 */
int tsock_taken(const struct tpeer *peer, uint64_t *bytes);

/**
 * transport_poll(t, items, n, timeout_ms):
 * Wait up to ${timeout_ms} (-1: no limit) until one of ${items} is
 * readable; set each .readable.  Meanwhile answer the ZAP requests of
 * ${t}'s bound sockets: a node that polls no socket of its own still
 * admits clients.  Return the number of ${items} readable, or KITH_EIO
 * (EINTR counts as 0 readable, so a signal ends the wait).
 */
int transport_poll(struct transport *t, struct tpoll *items, size_t n,
    long timeout_ms);

#endif
