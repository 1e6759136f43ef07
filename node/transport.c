/*
 * ZeroMQ sockets for sync and the feed, with CURVE on every one and a ZAP
 * handler for the bound ones.  libzmq errors are translated to KITH_E*
 * codes here and nowhere else.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <zmq.h>

#include "kcrypto.h"
#include "kith.h"
#include "transport.h"

/* A draft option in libzmq 4.3's header; a stable build refuses it. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN	93
#endif

#define ZAP_ENDPOINT	"inproc://zeromq.zap.01"	/* fixed by RFC 27 */
#define ZAP_FRAMES	7	/* a CURVE request: 6 frames and the key */
#define CONNECT_HOST_MAX	255	/* bytes of a host name (RFC 1035) */

struct transport {
	void *ctx;
	void *zap;		/* REP answering ZAP, once a socket is bound */
	int have_id;
	uint8_t pk[32], sk[32];	/* the CURVE identity */
	tauth_fn *auth;
	void *auth_arg;
};

struct tsock {
	void *z;
	int role;
	zmq_msg_t msg;		/* the last message received */
	int have_msg;
	void *mon;		/* TSOCK_SUB: its handshake events */
	int handshaken;		/* a handshake has succeeded */
	int refused;		/* the last ZAP status that refused it */
	int broken;		/* handshakes cut short since the last success */
};

static long now_ms(void);

struct transport *
transport_new(void)
{
	struct transport *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->ctx = zmq_ctx_new()) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
transport_free(struct transport *t)
{

	if (t == NULL)
		return;
	if (t->zap != NULL)
		zmq_close(t->zap);
	zmq_ctx_term(t->ctx);
	kcrypto_wipe(t->sk, sizeof(t->sk));
	free(t);
}

int
transport_set_identity(struct transport *t, const uint8_t pk[32],
    const uint8_t sk[32])
{

	memcpy(t->pk, pk, sizeof(t->pk));
	memcpy(t->sk, sk, sizeof(t->sk));
	t->have_id = 1;
	return 0;
}

void
transport_set_auth(struct transport *t, tauth_fn *fn, void *arg)
{

	t->auth = fn;
	t->auth_arg = arg;
}

static int
setopt_int(void *z, int opt, int v)
{

	return zmq_setsockopt(z, opt, &v, sizeof(v));
}

/* Start answering ZAP requests for ${t}'s bound sockets, if not yet. */
static int
zap_start(struct transport *t)
{

	if (t->zap != NULL)
		return 0;
	if ((t->zap = zmq_socket(t->ctx, ZMQ_REP)) == NULL)
		return KITH_EIO;
	if (setopt_int(t->zap, ZMQ_LINGER, 0) != 0 ||
	    zmq_bind(t->zap, ZAP_ENDPOINT) != 0) {
		zmq_close(t->zap);
		t->zap = NULL;
		return KITH_EIO;
	}
	return 0;
}

/* Make ${z}, a socket of ${role}, a CURVE server or client. */
static int
set_curve(struct transport *t, void *z, int role, const uint8_t *server_pk)
{
	const char *domain;

	if (role == TSOCK_CONNECT || role == TSOCK_SUB)
		return zmq_setsockopt(z, ZMQ_CURVE_PUBLICKEY, t->pk, 32) ||
		    zmq_setsockopt(z, ZMQ_CURVE_SECRETKEY, t->sk, 32) ||
		    zmq_setsockopt(z, ZMQ_CURVE_SERVERKEY, server_pk, 32);
	domain = role == TSOCK_LISTEN ? TRANSPORT_ZAP_SYNC : TRANSPORT_ZAP_FEED;
	/* Stricter RFC 27 checks where libzmq has them; harmless without. */
	(void)setopt_int(z, ZMQ_ZAP_ENFORCE_DOMAIN, 1);
	return setopt_int(z, ZMQ_CURVE_SERVER, 1) ||
	    zmq_setsockopt(z, ZMQ_CURVE_SECRETKEY, t->sk, 32) ||
	    zmq_setsockopt(z, ZMQ_ZAP_DOMAIN, domain, strlen(domain));
}

/*
 * Monitor ${s}'s handshakes on an inproc PAIR (tsock_refused): those that
 * succeed, those the server's ZAP handler refused, and those cut short
 * (the server hung up: it could not open our HELLO, sealed to a key it
 * does not hold).
 */
static int
watch(struct transport *t, struct tsock *s)
{
	static unsigned long serial;	/* a new name for each: one closed */
	char ep[64];			/* may not be unbound yet */

	snprintf(ep, sizeof(ep), "inproc://kith-monitor-%p-%lu", (void *)s,
	    __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED));
	if (zmq_socket_monitor(s->z, ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
	    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
	    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0 ||
	    (s->mon = zmq_socket(t->ctx, ZMQ_PAIR)) == NULL ||
	    setopt_int(s->mon, ZMQ_LINGER, 0) != 0 ||
	    zmq_connect(s->mon, ep) != 0)
		return KITH_EIO;
	return 0;
}

/* tsock_open, with ${s}'s handshakes watched if ${watched}. */
static struct tsock *
sock_open(struct transport *t, int role, const char *endpoint,
    const uint8_t *server_pk, int watched, int *rc)
{
	static const int types[] = {
		[TSOCK_LISTEN] = ZMQ_ROUTER, [TSOCK_CONNECT] = ZMQ_DEALER,
		[TSOCK_PUB] = ZMQ_XPUB, [TSOCK_SUB] = ZMQ_SUB,
	};
	int64_t max = TRANSPORT_MSG_MAX;
	int bind = role == TSOCK_LISTEN || role == TSOCK_PUB;
	struct tsock *s = NULL;

	/* No plaintext: a socket needs our key, and a client the server's. */
	*rc = KITH_EINVAL;
	if (!t->have_id || (!bind && server_pk == NULL))
		goto out;
	if (bind && (*rc = zap_start(t)) != 0)
		goto out;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		*rc = KITH_ENOMEM;
		goto out;
	}
	s->role = role;
	*rc = KITH_EIO;
	if ((s->z = zmq_socket(t->ctx, types[role])) == NULL)
		goto out;
	if (setopt_int(s->z, ZMQ_LINGER, 0) != 0 ||
	    zmq_setsockopt(s->z, ZMQ_MAXMSGSIZE, &max, sizeof(max)) != 0 ||
	    setopt_int(s->z, ZMQ_SNDHWM, TRANSPORT_SNDHWM) != 0 ||
	    (role == TSOCK_LISTEN &&
	    setopt_int(s->z, ZMQ_RCVHWM, TRANSPORT_RCVHWM) != 0) ||
	    setopt_int(s->z, ZMQ_HANDSHAKE_IVL, TRANSPORT_HANDSHAKE_MS) != 0 ||
	    set_curve(t, s->z, role, server_pk) != 0 ||
	    (role == TSOCK_LISTEN &&
	    setopt_int(s->z, ZMQ_ROUTER_MANDATORY, 1) != 0) ||
	    /* Every subscription, to learn every subscriber's connection. */
	    (role == TSOCK_PUB &&
	    setopt_int(s->z, ZMQ_XPUB_VERBOSE, 1) != 0) ||
	    (!bind && setopt_int(s->z, ZMQ_RECONNECT_IVL_MAX, 2000) != 0) ||
	    /* libzmq takes an IPv6 address only when told to. */
	    (strncmp(endpoint, "tcp://[", 7) == 0 &&
	    setopt_int(s->z, ZMQ_IPV6, 1) != 0))
		goto out;
	/* A subscriber hears nothing else when refused: watch handshakes. */
	if ((role == TSOCK_SUB || watched) && (*rc = watch(t, s)) != 0)
		goto out;
	*rc = KITH_EIO;
	if (bind ? zmq_bind(s->z, endpoint) : zmq_connect(s->z, endpoint)) {
		*rc = errno == EADDRINUSE ? KITH_EEXIST :
		    errno == EINVAL || errno == EPROTONOSUPPORT ||
		    errno == ENODEV || errno == EADDRNOTAVAIL ? KITH_EINVAL :
		    KITH_EIO;
		goto out;
	}
	*rc = 0;
out:
	if (*rc != 0) {
		tsock_close(s);
		s = NULL;
	}
	return s;
}

struct tsock *
tsock_open(struct transport *t, int role, const char *endpoint,
    const uint8_t *server_pk, int *rc)
{

	return sock_open(t, role, endpoint, server_pk, 0, rc);
}

int
tsock_endpoint(struct tsock *s, char *buf, size_t n)
{
	size_t len = n;

	if (zmq_getsockopt(s->z, ZMQ_LAST_ENDPOINT, buf, &len) != 0)
		return KITH_EINVAL;
	return 0;
}

void
tsock_close(struct tsock *s)
{

	if (s == NULL)
		return;
	if (s->have_msg)
		zmq_msg_close(&s->msg);
	if (s->mon != NULL) {
		(void)zmq_socket_monitor(s->z, NULL, 0);
		zmq_close(s->mon);
	}
	if (s->z != NULL)
		zmq_close(s->z);
	free(s);
}

/* Take the handshake events ${s}'s monitor has queued. */
static void
watch_read(struct tsock *s)
{
	zmq_msg_t ev, ep;
	uint16_t id;
	uint32_t value;

	/* Each event: (u16 event, u32 value) in host order, then an address. */
	while (s->mon != NULL) {
		zmq_msg_init(&ev);
		zmq_msg_init(&ep);
		if (zmq_msg_recv(&ev, s->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			zmq_msg_close(&ep);
			break;
		}
		if (zmq_msg_more(&ev))
			(void)zmq_msg_recv(&ep, s->mon, ZMQ_DONTWAIT);
		if (zmq_msg_size(&ev) == 6) {
			memcpy(&id, zmq_msg_data(&ev), 2);
			memcpy(&value, (uint8_t *)zmq_msg_data(&ev) + 2, 4);
			if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
				s->handshaken = 1;
				s->refused = 0;
				s->broken = 0;
			} else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
				s->refused = (int)value;
			} else
				s->broken++;
		}
		zmq_msg_close(&ev);
		zmq_msg_close(&ep);
	}
}

int
tsock_refused(struct tsock *s, int *handshaken)
{

	watch_read(s);
	*handshaken = s->handshaken;
	return s->refused;
}

/*
 * Connect a TCP or Unix socket to ${sa} within ${deadline} (now_ms);
 * return 0, or KITH_ENOLISTEN, KITH_ETIMEDOUT or KITH_EIO.
 */
static int
probe_one(const struct sockaddr *sa, socklen_t len, long deadline)
{
	struct pollfd pfd;
	socklen_t elen = sizeof(int);
	long left;
	int fd, err = 0, rc = KITH_EIO;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return KITH_EIO;
	if (connect(fd, sa, len) == 0)
		rc = 0;
	else if (errno != EINPROGRESS)
		err = errno;
	else {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do {
			left = deadline - now_ms();
			pfd.revents = 0;
		} while (left > 0 && poll(&pfd, 1, (int)left) < 0 &&
		    errno == EINTR);
		if (!(pfd.revents & (POLLOUT | POLLERR | POLLHUP)))
			rc = KITH_ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 &&
		    err == 0)
			rc = 0;
	}
	if (err == ECONNREFUSED || err == ENOENT || err == ENETUNREACH ||
	    err == EHOSTUNREACH)
		rc = KITH_ENOLISTEN;
	close(fd);
	return rc;
}

/*
 * Can a connection to ${endpoint} be made by ${deadline}?  Resolve the
 * host, as libzmq would (IPv6 only for "tcp://[...]"), and try each address
 * it has.
 */
#define REACH_RETRY_MS	50	/* between probes while refused */

static int
probe(const char *endpoint, long deadline)
{
	struct addrinfo hints, *ai = NULL, *a;
	struct sockaddr_un un;
	char host[CONNECT_HOST_MAX + 1];
	const char *h, *colon, *semi;
	size_t n;
	int rc, best = KITH_ENOLISTEN;

	if (strncmp(endpoint, "ipc://", 6) == 0) {
		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		if (strlen(endpoint + 6) >= sizeof(un.sun_path))
			return KITH_EINVAL;
		strcpy(un.sun_path, endpoint + 6);
		return probe_one((struct sockaddr *)&un, sizeof(un), deadline);
	}
	if (strncmp(endpoint, "tcp://", 6) != 0 ||
	    (colon = strrchr(endpoint + 6, ':')) == NULL)
		return KITH_EINVAL;
	/* tcp://SOURCE;HOST:PORT names the host after the ';'. */
	h = endpoint + 6;
	if ((semi = memchr(h, ';', (size_t)(colon - h))) != NULL)
		h = semi + 1;
	n = (size_t)(colon - h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	if (n == 0 || n > CONNECT_HOST_MAX)
		return KITH_EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = h != endpoint + 6 && h[-1] == '[' ? AF_INET6 :
	    AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return KITH_ENOHOST;
	for (a = ai; a != NULL; a = a->ai_next) {
		if ((rc = probe_one(a->ai_addr, a->ai_addrlen, deadline)) == 0) {
			best = 0;
			break;
		}
		/* A timeout says more than a refusal at another address. */
		if (rc != KITH_ENOLISTEN)
			best = rc;
	}
	freeaddrinfo(ai);
	return best;
}

int
transport_reach(struct transport *t, int role, const char *endpoint,
    const uint8_t server_pk[32], long timeout_ms, int *status)
{
	struct tsock *s = NULL;
	zmq_pollitem_t pi;
	long first = now_ms(), deadline = first + timeout_ms, left;
	int rc;

	*status = 0;
	/*
	 * A refused connection is tried again for up to a second: a daemon
	 * started a moment ago (kithd ... & then kith tail) is still
	 * binding.
	 */
	while ((rc = probe(endpoint, deadline)) == KITH_ENOLISTEN &&
	    now_ms() + REACH_RETRY_MS < deadline && now_ms() < first + 1000)
		poll(NULL, 0, REACH_RETRY_MS);
	if (rc != 0)
		goto out;
	if ((s = sock_open(t, role, endpoint, server_pk, 1, &rc)) == NULL)
		goto out;
	/*
	 * A handshake cut short twice with none succeeding: the server could
	 * not open our HELLO (or is no CURVE server).  Once could be chance.
	 */
	rc = 0;
	while ((left = deadline - now_ms()) > 0) {
		pi.socket = s->mon;
		pi.fd = -1;
		pi.events = ZMQ_POLLIN;
		pi.revents = 0;
		if (zmq_poll(&pi, 1, left) < 0 && errno != EINTR)
			break;
		watch_read(s);
		if (s->handshaken)
			break;
		if (s->refused != 0) {
			*status = s->refused;
			rc = KITH_EDENIED;
			break;
		}
		if (s->broken >= 2) {
			rc = KITH_EWRONGKEY;
			break;
		}
	}
out:
	tsock_close(s);
	return rc;
}

int
tsock_subscribe(struct tsock *s, const char *topic)
{

	return zmq_setsockopt(s->z, ZMQ_SUBSCRIBE, topic, strlen(topic)) ?
	    KITH_EIO : 0;
}

static int
send_err(void)
{

	switch (errno) {
	case EAGAIN:
		return KITH_EBUSY;
	case EHOSTUNREACH:
		return KITH_ENOTFOUND;
	}
	return KITH_EIO;
}

int
tsock_send(struct tsock *s, const struct tpeer *to, const void *p, size_t n)
{

	if (to != NULL &&
	    zmq_send(s->z, to->id, to->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		return send_err();
	if (zmq_send(s->z, p, n, ZMQ_DONTWAIT) < 0)
		return send_err();
	return 0;
}

int
tsock_publish(struct tsock *s, const char *topic, const void *p, size_t n)
{

	if (zmq_send(s->z, topic, strlen(topic),
	    ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(s->z, p, n, ZMQ_DONTWAIT) < 0)
		return send_err();
	return 0;
}

/* Receive one part into ${s}->msg; 1 if none waits. */
static int
recv_part(struct tsock *s)
{

	if (s->have_msg)
		zmq_msg_close(&s->msg);
	zmq_msg_init(&s->msg);
	s->have_msg = 1;
	if (zmq_msg_recv(&s->msg, s->z, ZMQ_DONTWAIT) < 0)
		return errno == EAGAIN || errno == EINTR ? 1 : KITH_EIO;
	return 0;
}

/* Discard the rest of a multipart message. */
static void
drain(struct tsock *s)
{

	while (zmq_msg_more(&s->msg) && recv_part(s) == 0)
		;
}

int
tsock_recv(struct tsock *s, struct tpeer *from, const uint8_t **p,
    size_t *n)
{
	const char *user;
	socklen_t alen = sizeof(from->addr);
	size_t want, part;
	int rc;

	/* ROUTER: id, frame.  SUB: topic, frame.  DEALER, XPUB: frame. */
	want = s->role == TSOCK_LISTEN || s->role == TSOCK_SUB ? 2 : 1;
	for (part = 0; part < want; part++) {
		if ((rc = recv_part(s)) != 0)
			return part == 0 ? rc : KITH_EIO;
		if (part == 0 && from != NULL && s->role == TSOCK_LISTEN) {
			from->fd = -1;
			from->user[0] = '\0';
			from->len = zmq_msg_size(&s->msg);
			if (from->len > TRANSPORT_ID_MAX)
				from->len = TRANSPORT_ID_MAX;
			memcpy(from->id, zmq_msg_data(&s->msg), from->len);
		}
		if (part + 1 < want && !zmq_msg_more(&s->msg))
			return KITH_EPROTO;
	}
	if (zmq_msg_more(&s->msg)) {
		drain(s);
		return KITH_EPROTO;
	}
	/*
	 * The routing id is made up locally; the frame came off the wire and
	 * carries the connection's descriptor and what ZAP admitted it as.
	 */
	if (from != NULL && (s->role == TSOCK_LISTEN || s->role == TSOCK_PUB)) {
		if (s->role == TSOCK_PUB)
			from->len = 0;
		from->fd = zmq_msg_get(&s->msg, ZMQ_SRCFD);
		if (from->fd < 0 || getpeername(from->fd,
		    (struct sockaddr *)from->addr, &alen) != 0)
			alen = 0;
		from->addrlen = alen;
		user = zmq_msg_gets(&s->msg, "User-Id");
		snprintf(from->user, sizeof(from->user), "%s",
		    user != NULL ? user : "");
	}
	*p = zmq_msg_data(&s->msg);
	*n = zmq_msg_size(&s->msg);
	return 0;
}

/*
 * Is ${peer}'s descriptor still its connection?  One that has ended may
 * have left its number to another.
 */
static int
same_connection(const struct tpeer *peer)
{
	struct sockaddr_storage now;
	socklen_t len = sizeof(now);

	return peer->fd >= 0 && peer->addrlen > 0 &&
	    getpeername(peer->fd, (struct sockaddr *)&now, &len) == 0 &&
	    len == peer->addrlen && memcmp(&now, peer->addr, len) == 0;
}

void
tsock_drop(struct tsock *s, const struct tpeer *peer)
{

	/*
	 * ROUTER and XPUB sockets cannot close one peer; shutting down the
	 * connection's descriptor makes libzmq see it end and clean up.
	 */
	(void)s;
	if (same_connection(peer))
		shutdown(peer->fd, SHUT_RDWR);
}

int
tsock_taken(const struct tpeer *peer, uint64_t *bytes)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int queued;

	/* Acknowledged by the far end, plus still in our send queue. */
	if (!same_connection(peer) || getsockopt(peer->fd, IPPROTO_TCP,
	    TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_acked) +
	    sizeof(ti.tcpi_bytes_acked) ||
	    ioctl(peer->fd, SIOCOUTQ, &queued) != 0 || queued < 0)
		return KITH_ENOTFOUND;
	*bytes = ti.tcpi_bytes_acked + (uint64_t)queued;
	return 0;
}

/* The ZAP domain ${f} names: the role of the socket it is for, or -1. */
static int
zap_role(zmq_msg_t *f)
{
	size_t n = zmq_msg_size(f);

	if (n == strlen(TRANSPORT_ZAP_SYNC) &&
	    memcmp(zmq_msg_data(f), TRANSPORT_ZAP_SYNC, n) == 0)
		return TSOCK_LISTEN;
	if (n == strlen(TRANSPORT_ZAP_FEED) &&
	    memcmp(zmq_msg_data(f), TRANSPORT_ZAP_FEED, n) == 0)
		return TSOCK_PUB;
	return -1;
}

static int
frame_is(zmq_msg_t *f, const char *s)
{

	return zmq_msg_size(f) == strlen(s) &&
	    memcmp(zmq_msg_data(f), s, strlen(s)) == 0;
}

/*
 * Answer one waiting ZAP request; 1 if none waits.  A CURVE request is
 * version "1.0", request id, domain, address, routing id, "CURVE" and the
 * client's 32-byte key; the reply is version, request id, status code and
 * text, user id and (empty) metadata.
 */
static int
zap_answer(struct transport *t)
{
	zmq_msg_t f[ZAP_FRAMES + 1];	/* the last takes any extra frames */
	char user[TRANSPORT_USER_MAX + 1] = "";
	const char *code = "500", *text = "malformed ZAP request";
	size_t n = 0, i;
	int role, rc = 0;

	for (i = 0; i < ZAP_FRAMES + 1; i++)
		zmq_msg_init(&f[i]);
	/*
	 * A message comes whole: once its first frame is here, all are.  One
	 * cut short is still answered (500), or REP could take no other.
	 */
	do {
		if (zmq_msg_recv(&f[n < ZAP_FRAMES ? n : ZAP_FRAMES], t->zap,
		    ZMQ_DONTWAIT) < 0)
			break;
		n++;
	} while (zmq_msg_more(&f[n <= ZAP_FRAMES ? n - 1 : ZAP_FRAMES]));
	if (n == 0) {
		rc = errno == EAGAIN || errno == EINTR ? 1 : KITH_EIO;
		goto out;
	}
	if (n == ZAP_FRAMES && frame_is(&f[0], "1.0") &&
	    frame_is(&f[5], "CURVE") && zmq_msg_size(&f[6]) == 32 &&
	    (role = zap_role(&f[2])) >= 0) {
		code = "400";
		text = "refused";
		if (t->auth == NULL ||
		    t->auth(t->auth_arg, role, zmq_msg_data(&f[6]), user) == 0) {
			code = "200";
			text = "OK";
		}
		user[TRANSPORT_USER_MAX] = '\0';
		if (code[0] != '2')
			user[0] = '\0';
	}
	/* REP must answer before it can take the next request. */
	if (zmq_send(t->zap, "1.0", 3, ZMQ_SNDMORE) < 0 ||
	    zmq_send(t->zap, n > 1 ? zmq_msg_data(&f[1]) : "",
	    n > 1 ? zmq_msg_size(&f[1]) : 0, ZMQ_SNDMORE) < 0 ||
	    zmq_send(t->zap, code, 3, ZMQ_SNDMORE) < 0 ||
	    zmq_send(t->zap, text, strlen(text), ZMQ_SNDMORE) < 0 ||
	    zmq_send(t->zap, user, strlen(user), ZMQ_SNDMORE) < 0 ||
	    zmq_send(t->zap, "", 0, 0) < 0)
		rc = KITH_EIO;
out:
	for (i = 0; i < ZAP_FRAMES + 1; i++)
		zmq_msg_close(&f[i]);
	return rc;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
transport_poll(struct transport *t, struct tpoll *items, size_t n,
    long timeout_ms)
{
	zmq_pollitem_t *pi;
	long end = now_ms() + timeout_ms, wait = timeout_ms;
	size_t i, np = n;
	int rc;

	if ((pi = calloc(n + 1, sizeof(*pi))) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i < n; i++) {
		pi[i].socket = items[i].sock != NULL ? items[i].sock->z : NULL;
		pi[i].fd = items[i].fd;
		pi[i].events = ZMQ_POLLIN;
		items[i].readable = 0;
	}
	if (t->zap != NULL) {
		pi[np].socket = t->zap;
		pi[np++].events = ZMQ_POLLIN;
	}
	for (;;) {
		for (i = 0; i < np; i++)
			pi[i].revents = 0;
		if ((rc = zmq_poll(pi, (int)np, wait)) < 0) {
			rc = errno == EINTR ? 0 : KITH_EIO;
			break;
		}
		if (np > n && (pi[n].revents & ZMQ_POLLIN))
			while (zap_answer(t) == 0)
				;
		for (rc = 0, i = 0; i < n; i++)
			rc += (items[i].readable =
			    (pi[i].revents & ZMQ_POLLIN) != 0);
		/* Woken by ZAP alone: wait on for the caller's sockets. */
		if (rc > 0 || !(np > n && (pi[n].revents & ZMQ_POLLIN)))
			break;
		if (timeout_ms >= 0 && (wait = end - now_ms()) <= 0)
			break;
	}
	free(pi);
	return rc;
}
