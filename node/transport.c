/*
 * ZeroMQ sockets for sync and the feed.  libzmq errors are translated to
 * KITH_E* codes here and nowhere else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zmq.h>

#include "kith.h"
#include "transport.h"

struct transport {
	void *ctx;
};

struct tsock {
	void *z;
	int role;
	zmq_msg_t msg;		/* the last message received */
	int have_msg;
};

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
	zmq_ctx_term(t->ctx);
	free(t);
}

static int
setopt_int(void *z, int opt, int v)
{

	return zmq_setsockopt(z, opt, &v, sizeof(v));
}

struct tsock *
tsock_open(struct transport *t, int role, const char *endpoint, int *rc)
{
	static const int types[] = {
		[TSOCK_LISTEN] = ZMQ_ROUTER, [TSOCK_CONNECT] = ZMQ_DEALER,
		[TSOCK_PUB] = ZMQ_PUB, [TSOCK_SUB] = ZMQ_SUB,
	};
	int64_t max = TRANSPORT_MSG_MAX;
	int bind = role == TSOCK_LISTEN || role == TSOCK_PUB;
	struct tsock *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		*rc = KITH_ENOMEM;
		return NULL;
	}
	s->role = role;
	*rc = KITH_EIO;
	if ((s->z = zmq_socket(t->ctx, types[role])) == NULL)
		goto fail;
	if (setopt_int(s->z, ZMQ_LINGER, 0) != 0 ||
	    zmq_setsockopt(s->z, ZMQ_MAXMSGSIZE, &max, sizeof(max)) != 0 ||
	    setopt_int(s->z, ZMQ_SNDHWM, TRANSPORT_SNDHWM) != 0 ||
	    (role == TSOCK_LISTEN &&
	    setopt_int(s->z, ZMQ_ROUTER_MANDATORY, 1) != 0) ||
	    (role != TSOCK_LISTEN && role != TSOCK_PUB &&
	    setopt_int(s->z, ZMQ_RECONNECT_IVL_MAX, 2000) != 0))
		goto fail;
	if (bind ? zmq_bind(s->z, endpoint) : zmq_connect(s->z, endpoint)) {
		*rc = errno == EADDRINUSE ? KITH_EEXIST :
		    errno == EINVAL || errno == EPROTONOSUPPORT ||
		    errno == ENODEV || errno == EADDRNOTAVAIL ? KITH_EINVAL :
		    KITH_EIO;
		goto fail;
	}
	*rc = 0;
	return s;
fail:
	tsock_close(s);
	return NULL;
}

void
tsock_close(struct tsock *s)
{

	if (s == NULL)
		return;
	if (s->have_msg)
		zmq_msg_close(&s->msg);
	if (s->z != NULL)
		zmq_close(s->z);
	free(s);
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
	size_t want, part;
	int rc;

	/* ROUTER: id, frame.  SUB: topic, frame.  DEALER: frame. */
	want = s->role == TSOCK_CONNECT ? 1 : 2;
	for (part = 0; part < want; part++) {
		if ((rc = recv_part(s)) != 0)
			return part == 0 ? rc : KITH_EIO;
		if (part == 0 && from != NULL && s->role == TSOCK_LISTEN) {
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
	/* The routing id is made up locally; the frame came off the wire. */
	if (from != NULL && s->role == TSOCK_LISTEN)
		from->fd = zmq_msg_get(&s->msg, ZMQ_SRCFD);
	*p = zmq_msg_data(&s->msg);
	*n = zmq_msg_size(&s->msg);
	return 0;
}

void
tsock_drop(struct tsock *s, const struct tpeer *peer)
{

	/*
	 * ROUTER sockets cannot close one peer; shutting down the
	 * connection's descriptor makes libzmq see it end and clean up.
	 */
	(void)s;
	if (peer->fd >= 0)
		shutdown(peer->fd, SHUT_RDWR);
}

int
transport_poll(struct tpoll *items, size_t n, long timeout_ms)
{
	zmq_pollitem_t *pi;
	size_t i;
	int rc;

	if ((pi = calloc(n ? n : 1, sizeof(*pi))) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i < n; i++) {
		pi[i].socket = items[i].sock != NULL ? items[i].sock->z : NULL;
		pi[i].fd = items[i].fd;
		pi[i].events = ZMQ_POLLIN;
		pi[i].revents = 0;
	}
	if ((rc = zmq_poll(pi, (int)n, timeout_ms)) < 0)
		rc = errno == EINTR ? 0 : KITH_EIO;
	for (i = 0; i < n; i++)
		items[i].readable = (pi[i].revents & ZMQ_POLLIN) != 0;
	free(pi);
	return rc;
}
