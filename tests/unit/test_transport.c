/*
 * The transport over real sockets on 127.0.0.1: CURVE on every socket, and
 * ZAP admitting or refusing clients by key.  Every wait has a deadline;
 * the negative cases wait a bounded time for something that must not
 * happen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kcrypto.h"
#include "kith.h"
#include "testutil.h"
#include "transport.h"

#define DEADLINE_MS	5000	/* for what must happen */
#define QUIET_MS	1000	/* for what must not */
#define EP_MAX		128

/* One node's CURVE key pair, derived as a node's is. */
struct pair {
	uint8_t pk[32], sk[32];
};

/* What the auth function was asked, and whom it refuses. */
struct auth_log {
	int calls;
	int role;			/* of the last call */
	uint8_t pk[32];			/* of the last call */
	int saw_refused;		/* the refused key asked */
	int refused_role;
	uint8_t refuse[32];		/* this key is refused */
	const char *user;		/* what an admitted one is called */
};

static void
pair_of(uint8_t n, struct pair *p)
{
	struct kcrypto_key *key = tu_key(n);

	assert_int_equal(kcrypto_key_x25519(key, p->pk, p->sk), 0);
	kcrypto_key_free(key);
}

static struct transport *
node(const struct pair *p)
{
	struct transport *t = transport_new();

	assert_non_null(t);
	assert_int_equal(transport_set_identity(t, p->pk, p->sk), 0);
	return t;
}

static int
auth(void *arg, int role, const uint8_t client_pk[32],
    char user[TRANSPORT_USER_MAX + 1])
{
	struct auth_log *log = arg;

	log->calls++;
	log->role = role;
	memcpy(log->pk, client_pk, 32);
	if (memcmp(client_pk, log->refuse, 32) == 0) {
		log->saw_refused = 1;
		log->refused_role = role;
		return -1;
	}
	snprintf(user, TRANSPORT_USER_MAX + 1, "%s", log->user);
	return 0;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Poll ${s} (of any transport) while ${serve} answers its ZAP requests,
 * until ${s} is readable (1) or ${ms} have passed (0).
 */
static int
readable_within(struct transport *serve, struct tsock *s, long ms)
{
	struct tpoll it;
	long end = now_ms() + ms;

	do {
		it.sock = s;
		it.fd = -1;
		if (transport_poll(serve, &it, 1, 20) > 0 && it.readable)
			return 1;
	} while (now_ms() < end);
	return 0;
}

static struct tsock *
bound(struct transport *t, int role, char ep[EP_MAX])
{
	struct tsock *s;
	int rc;

	s = tsock_open(t, role, "tcp://127.0.0.1:*", NULL, &rc);
	assert_non_null(s);
	assert_int_equal(rc, 0);
	assert_int_equal(tsock_endpoint(s, ep, EP_MAX), 0);
	assert_int_equal(strncmp(ep, "tcp://127.0.0.1:", 16), 0);
	return s;
}

static struct tsock *
connected(struct transport *t, int role, const char *ep,
    const uint8_t server_pk[32])
{
	struct tsock *s;
	int rc;

	s = tsock_open(t, role, ep, server_pk, &rc);
	assert_non_null(s);
	assert_int_equal(rc, 0);
	return s;
}

/* (a) The right server key: a frame each way, and the user id ZAP gave. */
static void
test_admitted(void **state)
{
	struct pair sp, cp, other;
	struct auth_log log = { .user = "alice" };
	struct transport *ts, *tc;
	struct tsock *l, *d;
	struct tpeer from;
	const uint8_t *p;
	char ep[EP_MAX];
	size_t n;

	(void)state;
	pair_of(1, &sp);
	pair_of(2, &cp);
	pair_of(3, &other);
	memcpy(log.refuse, other.pk, 32);
	ts = node(&sp);
	tc = node(&cp);
	transport_set_auth(ts, auth, &log);
	l = bound(ts, TSOCK_LISTEN, ep);
	d = connected(tc, TSOCK_CONNECT, ep, sp.pk);

	assert_int_equal(tsock_send(d, NULL, "ping", 4), 0);
	assert_true(readable_within(ts, l, DEADLINE_MS));
	assert_int_equal(tsock_recv(l, &from, &p, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(p, "ping", 4);
	assert_string_equal(from.user, "alice");
	assert_true(from.fd >= 0);
	assert_true(log.calls >= 1);
	assert_int_equal(log.role, TSOCK_LISTEN);
	assert_memory_equal(log.pk, cp.pk, 32);

	assert_int_equal(tsock_send(l, &from, "pong", 4), 0);
	assert_true(readable_within(ts, d, DEADLINE_MS));
	assert_int_equal(tsock_recv(d, NULL, &p, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(p, "pong", 4);
	assert_int_equal(tsock_recv(d, NULL, &p, &n), 1);

	tsock_close(d);
	tsock_close(l);
	transport_free(tc);
	transport_free(ts);
}

/* With no auth function every client that knows the key is in, as "". */
static void
test_no_auth(void **state)
{
	struct pair sp, cp;
	struct transport *ts, *tc;
	struct tsock *l, *d;
	struct tpeer from;
	const uint8_t *p;
	char ep[EP_MAX];
	size_t n;

	(void)state;
	pair_of(1, &sp);
	pair_of(2, &cp);
	ts = node(&sp);
	tc = node(&cp);
	l = bound(ts, TSOCK_LISTEN, ep);
	d = connected(tc, TSOCK_CONNECT, ep, sp.pk);
	memset(from.user, 'x', sizeof(from.user));
	assert_int_equal(tsock_send(d, NULL, "hi", 2), 0);
	assert_true(readable_within(ts, l, DEADLINE_MS));
	assert_int_equal(tsock_recv(l, &from, &p, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(from.user, "");
	tsock_close(d);
	tsock_close(l);
	transport_free(tc);
	transport_free(ts);
}

/* (b) A client the auth function refuses gets nothing through. */
static void
test_refused(void **state)
{
	struct pair sp, cp;
	struct auth_log log = { .user = "nobody" };
	struct transport *ts, *tc;
	struct tsock *l, *d;
	char ep[EP_MAX];
	long end;

	(void)state;
	pair_of(1, &sp);
	pair_of(2, &cp);
	memcpy(log.refuse, cp.pk, 32);
	ts = node(&sp);
	tc = node(&cp);
	transport_set_auth(ts, auth, &log);
	l = bound(ts, TSOCK_LISTEN, ep);
	d = connected(tc, TSOCK_CONNECT, ep, sp.pk);
	assert_int_equal(tsock_send(d, NULL, "ping", 4), 0);

	/* Until ZAP has been asked, and a while after: no message. */
	end = now_ms() + DEADLINE_MS;
	while (!log.saw_refused && now_ms() < end)
		assert_false(readable_within(ts, l, 20));
	assert_true(log.saw_refused);
	assert_int_equal(log.refused_role, TSOCK_LISTEN);
	assert_memory_equal(log.pk, cp.pk, 32);
	assert_false(readable_within(ts, l, QUIET_MS));

	tsock_close(d);
	tsock_close(l);
	transport_free(tc);
	transport_free(ts);
}

/* (c) A client with the wrong server key never gets a message through. */
static void
test_wrong_server_key(void **state)
{
	struct pair sp, cp, wrong;
	struct auth_log log = { .user = "alice" };
	struct transport *ts, *tc;
	struct tsock *l, *d;
	char ep[EP_MAX];

	(void)state;
	pair_of(1, &sp);
	pair_of(2, &cp);
	pair_of(4, &wrong);
	ts = node(&sp);
	tc = node(&cp);
	transport_set_auth(ts, auth, &log);
	l = bound(ts, TSOCK_LISTEN, ep);
	d = connected(tc, TSOCK_CONNECT, ep, wrong.pk);
	assert_int_equal(tsock_send(d, NULL, "ping", 4), 0);
	assert_false(readable_within(ts, l, QUIET_MS));
	/* The handshake fails before the server knows who is asking. */
	assert_int_equal(log.calls, 0);
	tsock_close(d);
	tsock_close(l);
	transport_free(tc);
	transport_free(ts);
}

/* (d) The feed: an admitted subscriber hears it, a refused one does not. */
static void
test_feed(void **state)
{
	struct pair sp, yes, no;
	struct auth_log log = { .user = "reader" };
	struct transport *ts, *ty, *tn;
	struct tsock *pub, *sy, *sn;
	struct tpoll it[2];
	const uint8_t *p;
	char ep[EP_MAX];
	size_t n;
	long end;
	int got = 0, refused, ok;

	(void)state;
	pair_of(1, &sp);
	pair_of(5, &yes);
	pair_of(6, &no);
	memcpy(log.refuse, no.pk, 32);
	ts = node(&sp);
	ty = node(&yes);
	tn = node(&no);
	transport_set_auth(ts, auth, &log);
	pub = bound(ts, TSOCK_PUB, ep);
	sy = connected(ty, TSOCK_SUB, ep, sp.pk);
	sn = connected(tn, TSOCK_SUB, ep, sp.pk);
	assert_int_equal(tsock_subscribe(sy, ""), 0);
	assert_int_equal(tsock_subscribe(sn, ""), 0);

	/* A subscription takes a moment to arrive: publish until heard. */
	end = now_ms() + DEADLINE_MS;
	while ((!got || !log.saw_refused) && now_ms() < end) {
		assert_int_equal(tsock_publish(pub, "request", "news", 4), 0);
		it[0].sock = sy;
		it[1].sock = sn;
		it[0].fd = it[1].fd = -1;
		if (transport_poll(ts, it, 2, 20) > 0) {
			assert_false(it[1].readable);
			if (it[0].readable) {
				assert_int_equal(tsock_recv(sy, NULL, &p, &n),
				    0);
				assert_int_equal(n, 4);
				assert_memory_equal(p, "news", 4);
				got = 1;
			}
		}
	}
	assert_true(got);
	assert_true(log.saw_refused);
	assert_int_equal(log.refused_role, TSOCK_PUB);
	/* More news: the refused one still hears none of it. */
	end = now_ms() + QUIET_MS;
	while (now_ms() < end) {
		assert_int_equal(tsock_publish(pub, "request", "more", 4), 0);
		assert_false(readable_within(ts, sn, 20));
	}
	assert_int_equal(tsock_recv(sn, NULL, &p, &n), 1);
	/* The refused one is told the ZAP status; the other, no refusal. */
	end = now_ms() + DEADLINE_MS;
	while ((refused = tsock_refused(sn, &ok)) == 0 && now_ms() < end)
		(void)readable_within(ts, sn, 20);
	assert_int_equal(refused, 400);
	assert_int_equal(ok, 0);
	assert_int_equal(tsock_refused(sy, &ok), 0);
	assert_int_equal(ok, 1);

	tsock_close(sn);
	tsock_close(sy);
	tsock_close(pub);
	transport_free(tn);
	transport_free(ty);
	transport_free(ts);
}

/* (e) No identity, no socket; and a client needs the server's key. */
/* A server's ZAP answered on its own thread while the test blocks. */
struct server {
	struct transport *t;
	volatile int stop;
};

static void *
serve(void *arg)
{
	struct server *sv = arg;

	while (!sv->stop)
		(void)transport_poll(sv->t, NULL, 0, 20);
	return NULL;
}

/*
 * (f) transport_reach tells apart, within its time, a host that does not
 * resolve, a port or path nothing listens on, a server with another key,
 * a ZAP refusal with its status, and a node that answers.
 */
static void
test_reach(void **state)
{
	struct pair sp, cp, wrong;
	struct auth_log log = { .user = "alice" };
	struct server sv;
	struct transport *tc;
	struct tsock *l, *pub;
	pthread_t th;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	char ep[EP_MAX], fep[EP_MAX], closed[EP_MAX];
	long t0;
	int status, fd;

	(void)state;
	pair_of(1, &sp);
	pair_of(2, &cp);
	pair_of(4, &wrong);
	sv.t = node(&sp);
	sv.stop = 0;
	tc = node(&cp);
	transport_set_auth(sv.t, auth, &log);
	/*
	 * A port bound but not listening: nothing answers there, and nothing
	 * else can take it meanwhile.  (A ZeroMQ socket closes in the
	 * background: its port may still answer for a moment.)
	 */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	snprintf(closed, sizeof(closed), "tcp://127.0.0.1:%u",
	    ntohs(sin.sin_port));
	l = bound(sv.t, TSOCK_LISTEN, ep);
	pub = bound(sv.t, TSOCK_PUB, fep);

	t0 = now_ms();
	assert_int_equal(transport_reach(tc, TSOCK_CONNECT,
	    "tcp://nosuchhost.invalid:7400", sp.pk, DEADLINE_MS, &status),
	    KITH_ENOHOST);
	assert_int_equal(transport_reach(tc, TSOCK_CONNECT, closed, sp.pk,
	    DEADLINE_MS, &status), KITH_ENOLISTEN);
	assert_int_equal(transport_reach(tc, TSOCK_SUB,
	    "ipc:///nonexistent/kith-feed", sp.pk, DEADLINE_MS, &status),
	    KITH_ENOLISTEN);
	/* No ZAP is asked: the handshake fails before. */
	assert_int_equal(transport_reach(tc, TSOCK_CONNECT, ep, wrong.pk,
	    DEADLINE_MS, &status), KITH_EWRONGKEY);
	assert_int_equal(transport_reach(tc, TSOCK_SUB, fep, wrong.pk,
	    DEADLINE_MS, &status), KITH_EWRONGKEY);
	assert_int_equal(log.calls, 0);
	assert_true(now_ms() - t0 < DEADLINE_MS);

	assert_int_equal(pthread_create(&th, NULL, serve, &sv), 0);
	assert_int_equal(transport_reach(tc, TSOCK_CONNECT, ep, sp.pk,
	    DEADLINE_MS, &status), 0);
	assert_int_equal(transport_reach(tc, TSOCK_SUB, fep, sp.pk,
	    DEADLINE_MS, &status), 0);
	assert_int_equal(log.calls, 2);
	memcpy(log.refuse, cp.pk, 32);
	assert_int_equal(transport_reach(tc, TSOCK_SUB, fep, sp.pk,
	    DEADLINE_MS, &status), KITH_EDENIED);
	assert_int_equal(status, 400);
	assert_true(log.saw_refused);
	sv.stop = 1;
	pthread_join(th, NULL);

	close(fd);
	tsock_close(pub);
	tsock_close(l);
	transport_free(tc);
	transport_free(sv.t);
}

static void
test_no_identity(void **state)
{
	struct pair sp;
	struct transport *t;
	struct tsock *s;
	int rc;

	(void)state;
	pair_of(1, &sp);
	assert_non_null(t = transport_new());
	s = tsock_open(t, TSOCK_LISTEN, "tcp://127.0.0.1:*", NULL, &rc);
	assert_null(s);
	assert_int_equal(rc, KITH_EINVAL);
	s = tsock_open(t, TSOCK_PUB, "tcp://127.0.0.1:*", NULL, &rc);
	assert_null(s);
	assert_int_equal(rc, KITH_EINVAL);
	s = tsock_open(t, TSOCK_CONNECT, "tcp://127.0.0.1:9", sp.pk, &rc);
	assert_null(s);
	assert_int_equal(rc, KITH_EINVAL);
	s = tsock_open(t, TSOCK_SUB, "tcp://127.0.0.1:9", sp.pk, &rc);
	assert_null(s);
	assert_int_equal(rc, KITH_EINVAL);
	assert_int_equal(transport_set_identity(t, sp.pk, sp.sk), 0);
	s = tsock_open(t, TSOCK_CONNECT, "tcp://127.0.0.1:9", NULL, &rc);
	assert_null(s);
	assert_int_equal(rc, KITH_EINVAL);
	s = tsock_open(t, TSOCK_SUB, "tcp://127.0.0.1:9", NULL, &rc);
	assert_null(s);
	assert_int_equal(rc, KITH_EINVAL);
	/* With both, the same call works. */
	s = tsock_open(t, TSOCK_CONNECT, "tcp://127.0.0.1:9", sp.pk, &rc);
	assert_non_null(s);
	tsock_close(s);
	transport_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admitted),
		cmocka_unit_test(test_no_auth),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_wrong_server_key),
		cmocka_unit_test(test_feed),
		cmocka_unit_test(test_reach),
		cmocka_unit_test(test_no_identity),
	};

	assert_int_equal(kcrypto_init(), 0);
	return tu_run(tests, NULL, NULL);
}
