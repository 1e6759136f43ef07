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
 */

#include <stddef.h>
#include <stdint.h>

struct transport;
struct tsock;

#define TRANSPORT_MSG_MAX	((4 << 20) + 64)	/* bytes in one inbound frame */
#define TRANSPORT_ID_MAX	255			/* routing id bytes */
#define TRANSPORT_SNDHWM	256			/* frames queued per peer */

/* Socket roles. */
enum {
	TSOCK_LISTEN,	/* ROUTER, bound: serves sync sessions */
	TSOCK_CONNECT,	/* DEALER, connected: one session with a peer */
	TSOCK_PUB,	/* PUB, bound: the live feed */
	TSOCK_SUB,	/* SUB, connected: a feed subscriber */
};

/* Who a message on a TSOCK_LISTEN socket came from. */
struct tpeer {
	uint8_t id[TRANSPORT_ID_MAX];
	size_t len;
	int fd;		/* the connection's descriptor, or -1 if unknown */
};

/* One entry of transport_poll: a socket, or (sock NULL) a descriptor. */
struct tpoll {
	struct tsock *sock;
	int fd;
	int readable;	/* out */
};

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
 * tsock_open(t, role, endpoint, rc):
 * Open a socket of ${role} on ${endpoint}: bound for TSOCK_LISTEN and
 * TSOCK_PUB, connected (in the background, retried) for the others.
 * The caller checks the endpoint's form (config_endpoint_ok).
 * Return it, or NULL with ${*rc} set to KITH_EINVAL (bad endpoint),
 * KITH_EEXIST (address in use) or KITH_EIO.
 */
struct tsock *tsock_open(struct transport *t, int role, const char *endpoint,
    int *rc);

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
 * (borrowed until the next tsock_recv on ${s}) and, on a TSOCK_LISTEN
 * socket, ${*from} to its sender.  Return 0, 1 if nothing waits,
 * KITH_EPROTO if the message had the wrong number of frames (it is
 * discarded; ${*from} is still set), or KITH_EIO.
 */
int tsock_recv(struct tsock *s, struct tpeer *from, const uint8_t **p,
    size_t *n);

/**
 * tsock_drop(s, peer):
 * Cut the connection ${peer}'s messages arrive on (TSOCK_LISTEN).  The
 * peer may connect again.
 */
void tsock_drop(struct tsock *s, const struct tpeer *peer);

/**
 * transport_poll(items, n, timeout_ms):
 * Wait up to ${timeout_ms} (-1: no limit) until one of ${items} is
 * readable; set each .readable.  Return the number readable, or KITH_EIO
 * (EINTR counts as 0 readable, so a signal ends the wait).
 */
int transport_poll(struct tpoll *items, size_t n, long timeout_ms);

#endif
