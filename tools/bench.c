/*
 * kith-bench: the figures `make bench` prints, one JSON object a line:
 *   {"name":..., "value":..., "unit":..., "limit":..., "ratio":...}
 * Each figure is set against a raw library rate measured in the same run, so
 * the ratios mean something on a shared, noisy machine (DESIGN.md,
 * Performance frame).
 *
 * usage: kith-bench [--records N] [--dir DIR] [--keep] [--no-sync]
 *   --records N  records in the large ingest run (default 1000000)
 *   --dir DIR    where to put the benchmark stores (default $TMPDIR or /tmp);
 *                use a real disk: commits are durable, as in a node.
 *   --keep       leave the stores there, for mdb_stat, and print where
 *   --no-sync    skip the sync benchmarks (they start kithd from the
 *                directory kith-bench is in)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "body.h"
#include "hlc.h"
#include "ingest.h"
#include "kcrypto.h"
#include "kith.h"
#include "negentropy.h"
#include "order.h"
#include "recfile.h"
#include "record.h"
#include "roster.h"
#include "store.h"
#include "sync.h"
#include "syncmsg.h"
#include "transport.h"

#define NAUTHORS	4
#define VERSIONS	4	/* records per entity in the ingest run */
#define WRITE_BATCH	10000	/* records per store_write call */
#define RAW_MSG_LEN	220	/* about a signed header's size */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
emit(const char *name, double value, const char *unit, double limit)
{
	json_t *o;
	char *s;

	o = json_pack("{s:s, s:f, s:s, s:f, s:f}", "name", name, "value",
	    value, "unit", unit, "limit", limit, "ratio",
	    limit > 0 ? value / limit : 0.0);
	if (o == NULL || (s = json_dumps(o, JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(6))) == NULL) {
		fprintf(stderr, "kith-bench: out of memory\n");
		exit(70);
	}
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "kith-bench: %s: %s\n", what, kith_strerror(rc));
	exit(70);
}

/* Raw single-core rates: the limits the figures are set against. */
static double
raw_sign_rate(const struct kcrypto_key *key)
{
	uint8_t msg[RAW_MSG_LEN], sig[64];
	double t0 = now_s(), t;
	size_t n = 0;

	memset(msg, 0x5a, sizeof(msg));
	do {
		for (int i = 0; i < 1000; i++) {
			msg[0] = (uint8_t)n++;
			kcrypto_sign_raw(sig, msg, sizeof(msg), key);
		}
	} while ((t = now_s() - t0) < 1.0);
	return (double)n / t;
}

static double
raw_verify_rate(const struct kcrypto_key *key)
{
	uint8_t msg[RAW_MSG_LEN], sig[64];
	const uint8_t *pk = kcrypto_key_public(key);
	double t0, t;
	size_t n = 0;

	memset(msg, 0x5a, sizeof(msg));
	kcrypto_sign_raw(sig, msg, sizeof(msg), key);
	t0 = now_s();
	do {
		for (int i = 0; i < 500; i++, n++)
			if (kcrypto_verify_raw(sig, msg, sizeof(msg), pk) != 0)
				die("raw verify", KITH_EBADSIG);
	} while ((t = now_s() - t0) < 1.0);
	return (double)n / t;
}

/* A distinct, never-zero entity id from ${i}. */
static void
randombytes_like(uint8_t *out, size_t n, uint64_t i)
{

	memset(out, 0, n);
	memcpy(out, &i, sizeof(i));
	out[n - 1] = 0xb7;
}

/*
 * Make ${d} the genesis of a new entity of ${d}->kind by ${author} in
 * ${network}: its nonce (into ${nonce}, from ${i}) and its derived id.
 */
static void
genesis(struct store_draft *d, const uint8_t *network, const uint8_t *author,
    uint8_t nonce[KITH_NONCE_LEN], uint64_t i)
{

	randombytes_like(nonce, KITH_NONCE_LEN, i);
	record_entity_derive(network, d->kind, author, nonce, d->entity);
	d->nonce = nonce;
}

/*
 * A request body of typical size.  Its two would-be personal fields are
 * public: a personal section is sealed (PROTOCOL.md 4.1), and a body with
 * one in the clear is refused; sealing is not what these figures measure.
 */
static uint8_t *
request_body(uint64_t i, int version, size_t *len)
{
	static const char *status[VERSIONS] = { "open", "open", "claimed",
	    "fulfilled" };
	struct body *b;
	uint8_t *out = NULL;
	char phone[32];
	int rc = KITH_ENOMEM;

	if ((b = body_new()) == NULL)
		die("body", rc);
	if (version == 0) {
		snprintf(phone, sizeof(phone), "07700 %06llu",
		    (unsigned long long)(i % 1000000));
		rc = body_set_str(b, "area", 0, "TW3") |
		    body_set_str(b, "category", 0, "food") |
		    body_set_int(b, "urgency", 0, 2) |
		    body_set_str(b, "ref", 0, "A. Person") |
		    body_set_str(b, "line", 0, phone);
	} else if (version == 1) {
		rc = body_set_int(b, "urgency", 0, 3);
	} else {
		rc = 0;
	}
	rc |= body_set_str(b, "status", 0, status[version]);
	if (rc != 0 || (rc = body_encode(b, &out, len)) != 0)
		die("body", rc == 0 ? KITH_ENOMEM : rc);
	body_free(b);
	return out;
}

/* Admit ${who} to ${st}'s network, signed by the admin ${admin}. */
static void
admit(struct store *st, const struct kcrypto_key *admin,
    const uint8_t *who)
{
	struct store_draft d;
	struct body *b;
	char hex[2 * KITH_KEY_LEN + 1];
	uint8_t *enc;
	size_t len;
	int rc;

	memset(&d, 0, sizeof(d));
	kith_hex(hex, who, KITH_KEY_LEN);
	if ((b = body_new()) == NULL ||
	    body_set_str(b, "key", 0, hex) != 0 ||
	    body_set_str(b, "org", 0, "Bench") != 0 ||
	    body_set_str(b, "role", 0, "member") != 0 ||
	    body_encode(b, &enc, &len) != 0)
		die("member", KITH_ENOMEM);
	d.kind = KITH_KIND_MEMBER;
	roster_member_entity(who, d.entity);
	d.body = enc;
	d.blen = len;
	if ((rc = store_write(st, admin, &d, 1)) != 0)
		die("member", rc);
	free(enc);
	body_free(b);
}

/*
 * A new store whose network ${admin} started, with the ${n} keys
 * ${members} admitted, so that their records apply as a real network's.
 */
static struct store *
bench_store(const char *dir, const struct kcrypto_key *admin,
    struct kcrypto_key *const *members, size_t n)
{
	struct record_header h;
	struct record *ch = NULL;
	struct store *st;
	uint8_t *b;
	size_t blen;
	int rc;

	if ((st = store_open(dir, STORE_CREATE | STORE_SHARED, 0, &rc)) == NULL)
		die(dir, rc);
	b = request_body(0, 3, &blen);
	memset(&h, 0, sizeof(h));
	h.seq = 1;
	h.hlc = HLC_MAKE(hlc_wall_ms() - 2 * 86400000ULL, 0);
	h.kind = KITH_KIND_CHARTER;
	h.genesis = 1;
	memset(h.nonce, 0xc0, sizeof(h.nonce));
	record_entity_derive(h.network, h.kind, kcrypto_key_public(admin),
	    h.nonce, h.entity);
	if ((rc = record_sign(&h, b, blen, admin, &ch)) != 0 ||
	    (rc = store_init_network(st, ch)) != 0)
		die("charter", rc);
	record_free(ch);
	free(b);
	for (size_t i = 0; i < n; i++)
		if (members[i] != admin)
			admit(st, admin, kcrypto_key_public(members[i]));
	return st;
}

/* Peak private (anonymous) memory, sampled while the ingest runs. */
struct sampler {
	pthread_t thread;
	volatile int stop;
	long peak_kb;
};

static long
rss_anon_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void *
sample(void *arg)
{
	struct sampler *s = arg;
	struct timespec tick = { 0, 5 * 1000 * 1000 };
	long kb;

	while (!s->stop) {
		if ((kb = rss_anon_kb()) > s->peak_kb)
			s->peak_kb = kb;
		nanosleep(&tick, NULL);
	}
	return NULL;
}

/*
 * The merge's cost as an entity grows: one author writes MERGE_VERSIONS
 * records into one request, one durable store_write each, each setting
 * two of 64 field names.  Return the mean ms per record over the first
 * MERGE_WINDOW records in ${first}, and over the MERGE_WINDOW before
 * ${mid} and before the last in ${at_mid} and ${at_end}: a merge that
 * costs what a record changes keeps the three close, one that costs the
 * entity's history times its names does not.
 */
#define MERGE_VERSIONS	4000
#define MERGE_WINDOW	100

static void
bench_merge(const char *dir, const struct kcrypto_key *key, size_t mid,
    double *first, double *at_mid, double *at_end)
{
	struct store_draft d;
	struct store *st;
	struct body *b;
	uint8_t net[KITH_NETWORK_LEN], nonce[KITH_NONCE_LEN], *enc;
	char name[16];
	double t0, dt, sum = 0;
	size_t i, len;
	int rc;

	st = bench_store(dir, key, NULL, 0);
	if ((rc = store_network(st, net)) != 0)
		die("network", rc);
	*first = *at_mid = *at_end = 0;
	memset(&d, 0, sizeof(d));
	d.kind = KITH_KIND_REQUEST;
	genesis(&d, net, kcrypto_key_public(key), nonce, 7);
	for (i = 0; i < MERGE_VERSIONS; i++) {
		snprintf(name, sizeof(name), "f%02zu", i % 64);
		if ((b = body_new()) == NULL ||
		    body_set_str(b, i == 0 ? "area" : name, 0, "TW3") != 0 ||
		    body_set_int(b, "urgency", 0, 1 + i % 3) != 0 ||
		    body_encode(b, &enc, &len) != 0)
			die("body", KITH_ENOMEM);
		body_free(b);
		d.body = enc;
		d.blen = len;
		t0 = now_s();
		if ((rc = store_write(st, key, &d, 1)) != 0)
			die("merge write", rc);
		dt = (now_s() - t0) * 1000.0;
		free(enc);
		d.nonce = NULL;		/* the genesis was the first */
		sum += dt;
		if (i + 1 == MERGE_WINDOW)
			*first = sum / MERGE_WINDOW;
		if (i + 1 == mid - MERGE_WINDOW || i + 1 ==
		    MERGE_VERSIONS - MERGE_WINDOW)
			sum = 0;
		if (i + 1 == mid)
			*at_mid = sum / MERGE_WINDOW;
		if (i + 1 == MERGE_VERSIONS)
			*at_end = sum / MERGE_WINDOW;
		if (i + 1 == MERGE_WINDOW)
			sum = 0;
	}
	store_close(st);
}

/* Create + sign + store, batched, through store_write. */
static double
bench_write(const char *dir, const struct kcrypto_key *key, size_t n)
{
	struct store_draft *d;
	struct store *st;
	uint8_t **bodies, (*nonces)[KITH_NONCE_LEN];
	uint8_t net[KITH_NETWORK_LEN];
	double t0, t;
	size_t i, j;
	int rc;

	st = bench_store(dir, key, NULL, 0);
	if ((rc = store_network(st, net)) != 0)
		die("network", rc);
	if ((d = calloc(WRITE_BATCH, sizeof(*d))) == NULL ||
	    (bodies = calloc(WRITE_BATCH, sizeof(*bodies))) == NULL ||
	    (nonces = calloc(WRITE_BATCH, KITH_NONCE_LEN)) == NULL)
		die("write", KITH_ENOMEM);
	t = 0;
	for (i = 0; i < n; i += WRITE_BATCH) {
		for (j = 0; j < WRITE_BATCH; j++) {
			d[j].kind = KITH_KIND_REQUEST;
			genesis(&d[j], net, kcrypto_key_public(key), nonces[j],
			    i + j);
			bodies[j] = request_body(i + j, 0, &d[j].blen);
			d[j].body = bodies[j];
		}
		t0 = now_s();
		if ((rc = store_write(st, key, d, WRITE_BATCH)) != 0)
			die("store_write", rc);
		t += now_s() - t0;
		for (j = 0; j < WRITE_BATCH; j++)
			free(bodies[j]);
	}
	free(bodies);
	free(nonces);
	free(d);
	store_close(st);
	return (double)(n / WRITE_BATCH * WRITE_BATCH) / t;
}

/*
 * The ingest run.  First, untimed, ${n} records by ${NAUTHORS} authors,
 * ${VERSIONS} per entity (create, edit, claim, fulfil), are written to a
 * records file, as a peer or an import would deliver them.  Then, timed,
 * the node's ingest pipeline (node/ingest.c) takes them as from a peer:
 * this thread decodes, one thread checks a batch's signatures on every
 * core while another commits the batch before it in one durable
 * transaction.
 */
struct ingest_run {
	double record_bytes;	/* signed header + body, on average */
	double rate;		/* records/s, file to committed store */
	double bytes_per_record;
	long peak_kb;
	size_t records;
};

static void
make_records(struct store *st, const char *path, const uint8_t *network,
    struct kcrypto_key *const *keys, size_t n)
{
	struct record_header h;
	struct record *rec;
	uint64_t seq[NAUTHORS] = { 0 }, hlc;
	uint8_t last[KITH_ID_LEN] = { 0 }, *b;
	uint8_t prev[NAUTHORS][KITH_ID_LEN] = { { 0 } };
	size_t k, blen;
	FILE *f;
	int rc;

	/* Each author's chain goes on from its records in the store. */
	for (k = 0; k < NAUTHORS; k++)
		if ((rc = store_author_last(st, kcrypto_key_public(keys[k]),
		    &seq[k], prev[k])) != 0)
			die("chain", rc);
	if ((f = fopen(path, "wb")) == NULL ||
	    recfile_write_start(f, network) != 0)
		die(path, KITH_EIO);
	memset(&h, 0, sizeof(h));
	memcpy(h.network, network, KITH_NETWORK_LEN);
	hlc = HLC_MAKE(hlc_wall_ms() - 86400000ULL, 0);
	for (k = 0; k < n; k++) {
		uint64_t ent = k / VERSIONS;
		int a = (int)(ent % NAUTHORS), v = (int)(k % VERSIONS);

		/* Each author's records chain; an entity's first is its genesis. */
		h.seq = ++seq[a];
		memcpy(h.prev, prev[a], KITH_ID_LEN);
		h.hlc = hlc++;
		h.kind = KITH_KIND_REQUEST;
		h.genesis = v == 0;
		if (v == 0) {
			randombytes_like(h.nonce, sizeof(h.nonce), ent);
			record_entity_derive(network, h.kind,
			    kcrypto_key_public(keys[a]), h.nonce, h.entity);
		}
		h.nparents = v == 0 ? 0 : 1;
		memcpy(h.parents[0], last, KITH_ID_LEN);
		b = request_body(ent, v, &blen);
		if ((rc = record_sign(&h, b, blen, keys[a], &rec)) != 0)
			die("sign", rc);
		free(b);
		memcpy(last, record_id(rec), KITH_ID_LEN);
		memcpy(prev[a], record_id(rec), KITH_ID_LEN);
		if (recfile_write(f, rec) != 0)
			die(path, KITH_EIO);
		record_free(rec);
	}
	if (fclose(f) != 0)
		die(path, KITH_EIO);
}

static void
ingest(const char *dir, struct kcrypto_key *const *keys, size_t n,
    struct ingest_run *out)
{
	struct store_result res;
	struct store_stats ss;
	struct sampler smp = { 0 };
	struct ingest *ig;
	struct record *rec;
	struct store *st;
	uint8_t net[KITH_NETWORK_LEN], hdr[8 + 1 + KITH_NETWORK_LEN];
	char path[4300];
	double t0;
	FILE *f;
	int rc;

	st = bench_store(dir, keys[0], keys, NAUTHORS);
	if ((rc = store_network(st, net)) != 0)
		die("network", rc);
	snprintf(path, sizeof(path), "%s.kith", dir);
	make_records(st, path, net, keys, n);
	{
		struct stat sb;

		/* Less the file header and each entry's two u32 lengths. */
		if (stat(path, &sb) != 0)
			die(path, KITH_EIO);
		out->record_bytes = ((double)sb.st_size - 41.0) / (double)n -
		    8.0;
	}
	if ((f = fopen(path, "rb")) == NULL ||
	    recfile_read_start(f, hdr) != 0)
		die(path, KITH_EIO);
	smp.peak_kb = rss_anon_kb();
	t0 = now_s();
	if (pthread_create(&smp.thread, NULL, sample, &smp) != 0 ||
	    (ig = ingest_new(st, 0)) == NULL)
		die("threads", KITH_ENOMEM);
	while ((rc = recfile_read(f, &rec)) == 0)
		if ((rc = ingest_add(ig, rec)) != 0)
			die("ingest", rc);
	if (rc != 1)
		die("records file", rc);
	if ((rc = ingest_flush(ig)) != 0)
		die("ingest", rc);
	ingest_totals(ig, &res);
	if (res.added != n)
		die("records rejected", KITH_EINVAL);
	out->rate = (double)res.added / (now_s() - t0);
	ingest_free(ig);
	smp.stop = 1;
	pthread_join(smp.thread, NULL);
	fclose(f);
	unlink(path);
	if ((rc = store_stats(st, &ss)) != 0)
		die("stats", rc);
	out->records = ss.records;
	out->bytes_per_record = (double)ss.used_bytes / (double)ss.records;
	out->peak_kb = smp.peak_kb;
	store_close(st);
}

/*
 * Sync benchmarks: real kithd processes on loopback, and this process as a
 * `kith sync` client.
 */

struct daemon_proc {
	pid_t pid;
	char log[4300];
	char ep[64], feed[64];
	uint8_t pk[KITH_KEY_LEN];		/* its node key */
	char peer[2 * KITH_KEY_LEN + 1 + 64];	/* KEY@ep, for --peer */
};

static int port_base;

static int
port_open(int port)
{
	struct sockaddr_in sa;
	int fd, ok;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * The key every benchmark node and client uses: the networks' admin, so
 * that each node's ZAP handler admits the others (they start from the
 * charter alone).  Set by main.
 */
static const struct kcrypto_key *node_key;

/* Write ${home}'s node key to ${pk}, giving it node_key if it has none. */
static void
home_key(const char *home, uint8_t pk[KITH_KEY_LEN])
{
	struct kcrypto_key *key;
	char path[4400];
	int rc;

	snprintf(path, sizeof(path), "%s/key", home);
	if ((key = kcrypto_key_load(path, &rc)) == NULL) {
		if (rc != KITH_ENOTFOUND ||
		    (rc = kcrypto_key_save(node_key, path)) != 0 ||
		    (key = kcrypto_key_load(path, &rc)) == NULL)
			die(path, rc);
	}
	memcpy(pk, kcrypto_key_public(key), KITH_KEY_LEN);
	kcrypto_key_free(key);
}

/* node_key as the CURVE identity of this process's side of ${t}. */
static void
client_identity(struct transport *t)
{
	uint8_t pk[32], sk[32];

	if (kcrypto_key_x25519(node_key, pk, sk) != 0)
		die("client key", KITH_ECRYPTO);
	(void)transport_set_identity(t, pk, sk);
	kcrypto_wipe(sk, sizeof(sk));
}

/* Start kithd on ${home} as node ${idx}, with ${peer} (KEY@ep, or NULL). */
static void
daemon_start(struct daemon_proc *d, const char *kithd, const char *home,
    int idx, const char *peer)
{
	char hex[2 * KITH_KEY_LEN + 1];
	int port = port_base + 2 * idx;
	double t0 = now_s();
	int fd;

	snprintf(d->ep, sizeof(d->ep), "tcp://127.0.0.1:%d", port);
	snprintf(d->feed, sizeof(d->feed), "tcp://127.0.0.1:%d", port + 1);
	home_key(home, d->pk);
	kith_hex(hex, d->pk, KITH_KEY_LEN);
	snprintf(d->peer, sizeof(d->peer), "%s@%s", hex, d->ep);
	snprintf(d->log, sizeof(d->log), "%s.log", home);
	if ((d->pid = fork()) < 0)
		die("fork", KITH_EIO);
	if (d->pid == 0) {
		if ((fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644)) >= 0)
			dup2(fd, 2);
		if (peer != NULL)
			execl(kithd, kithd, "--home", home, "--listen", d->ep,
			    "--feed", d->feed, "--peer", peer, (char *)NULL);
		else
			execl(kithd, kithd, "--home", home, "--listen", d->ep,
			    "--feed", d->feed, (char *)NULL);
		_exit(127);
	}
	while (!port_open(port)) {
		if (now_s() - t0 > 60 || waitpid(d->pid, NULL, WNOHANG) != 0)
			die("kithd did not start", KITH_EIO);
		nap_ms(10);
	}
}

static void
daemon_stop(struct daemon_proc *d)
{
	int status;

	kill(d->pid, SIGTERM);
	waitpid(d->pid, &status, 0);
}

/* The last number after "${key}=" in the last line of ${log} with ${tag}. */
static int
log_value(const char *log, const char *tag, const char *key, double *v)
{
	char line[2048], pat[64];
	const char *at;
	int found = 0;
	FILE *f;

	if ((f = fopen(log, "r")) == NULL)
		return 0;
	snprintf(pat, sizeof(pat), " %s=", key);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, tag) != NULL &&
		    (at = strstr(line, pat)) != NULL) {
			*v = strtod(at + strlen(pat), NULL);
			found = 1;
		}
	fclose(f);
	return found;
}

static long
proc_rss_anon_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static size_t
store_count(const char *dir)
{
	struct store_stats ss;
	struct store *st;
	int rc;

	if ((st = store_open(dir, STORE_RDONLY, 0, &rc)) == NULL)
		return 0;
	if (store_stats(st, &ss) != 0)
		ss.records = 0;
	store_close(st);
	return ss.records;
}

/* A new home whose store is in the network of the store at ${from}. */
static void
home_like(const char *home, const char *from)
{
	struct record *ch;
	struct store *a, *b;
	char dir[4300];
	int rc;

	mkdir(home, 0700);
	if ((a = store_open(from, STORE_RDONLY, 0, &rc)) == NULL ||
	    (rc = store_charter(a, &ch)) != 0)
		die(from, rc);
	store_close(a);
	snprintf(dir, sizeof(dir), "%s/store", home);
	if ((b = store_open(dir, STORE_CREATE, 0, &rc)) == NULL ||
	    (rc = store_init_network(b, ch)) != 0)
		die(dir, rc);
	store_close(b);
	record_free(ch);
}

/* Full sync: kithd B, empty, with kithd A as its peer. */
static void
full_sync(const char *kithd, const char *top, const char *a_home,
    size_t n, const struct ingest_run *ig, double verify, int big)
{
	struct daemon_proc a, b;
	char b_home[4300], b_store[4400], a_store[4400], name[64];
	double t0, secs, bin = 0, bout = 0, rts = 0;
	size_t have, want;
	long kb, peak = 0;

	snprintf(a_store, sizeof(a_store), "%s/store", a_home);
	snprintf(b_home, sizeof(b_home), "%s/b%zu", top, n);
	snprintf(b_store, sizeof(b_store), "%s/store", b_home);
	home_like(b_home, a_store);
	want = store_count(a_store);
	daemon_start(&a, kithd, a_home, 0, NULL);
	t0 = now_s();
	daemon_start(&b, kithd, b_home, 1, a.peer);
	/* Cheap polls only: the log's end line, and B's memory. */
	do {
		nap_ms(20);
		if ((kb = proc_rss_anon_kb(b.pid)) > peak)
			peak = kb;
		if (now_s() - t0 > 1800)
			die("full sync did not finish", KITH_ETIMEDOUT);
	} while (!log_value(b.log, "role=client", "bytes_in", &bin));
	secs = now_s() - t0;
	if ((have = store_count(b_store)) != want)
		die("full sync incomplete", KITH_EINVAL);
	log_value(b.log, "role=client", "bytes_out", &bout);
	log_value(b.log, "role=client", "round_trips", &rts);
	daemon_stop(&b);
	daemon_stop(&a);
	snprintf(name, sizeof(name), "full_sync_%zuk_records_per_s", n / 1000);
	emit(name, (double)(want - 1) / secs, "records/s", 2 * verify);
	snprintf(name, sizeof(name), "full_sync_%zuk_wire_bytes_per_record",
	    n / 1000);
	emit(name, (bin + bout) / (double)(want - 1), "bytes",
	    1.15 * ig->record_bytes);
	if (big)
		emit("full_sync_daemon_peak_private_memory",
		    (double)peak / 1024.0, "MiB", 64);
	fprintf(stderr, "kith-bench: full sync of %zu records: %.1f s, %.0f "
	    "round trips, stored record %.0f B\n", want - 1, secs, rts,
	    ig->record_bytes);
}

/* Write ${k} new records to the store at ${dir} (its owner may run). */
static void
write_new(const char *dir, const struct kcrypto_key *key, size_t k,
    int flags)
{
	struct store_draft d;
	struct store *st;
	uint8_t *b, net[KITH_NETWORK_LEN], nonce[KITH_NONCE_LEN];
	size_t blen, i;
	int rc;

	if ((st = store_open(dir, flags, 0, &rc)) == NULL ||
	    (rc = store_network(st, net)) != 0)
		die(dir, rc);
	for (i = 0; i < k; i++) {
		memset(&d, 0, sizeof(d));
		d.kind = KITH_KIND_REQUEST;
		genesis(&d, net, kcrypto_key_public(key), nonce, i);
		b = request_body(i, 0, &blen);
		d.body = b;
		d.blen = blen;
		if ((rc = store_write(st, key, &d, 1)) != 0)
			die("write", rc);
		free(b);
	}
	store_close(st);
}

/* One `kith sync` session from the store at ${dir} to node ${d}. */
static struct sync_stats
client_sync(const char *dir, const struct daemon_proc *d, double *cpu_ms)
{
	struct sync_stats out;
	struct sync_node nd;
	struct sync_client *sc;
	struct tpoll items[2];
	struct timespec c0, c1;
	int rc;

	memset(&nd, 0, sizeof(nd));
	memcpy(nd.key, kcrypto_key_public(node_key), KITH_KEY_LEN);
	if ((nd.st = store_open(dir, STORE_SHARED, 0, &rc)) == NULL)
		die(dir, rc);
	if ((rc = store_network(nd.st, nd.network)) != 0 ||
	    (nd.t = transport_new()) == NULL ||
	    (nd.order = order_new()) == NULL ||
	    (rc = order_refresh(nd.order, nd.st, NULL, NULL)) != 0)
		die("client", rc ? rc : KITH_ENOMEM);
	client_identity(nd.t);
	/* This thread's CPU: the reconciliation runs here, ingest does not. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	if ((sc = sync_client_new(&nd, d->ep, d->pk, &rc)) == NULL)
		die("sync", rc);
	do {
		sync_client_poll(sc, items);
		transport_poll(nd.t, items, 2, 100);
		rc = sync_client_step(sc, sync_now_ms());
	} while (rc == 0);
	if (rc < 0)
		die("sync", rc);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	*cpu_ms = (double)(c1.tv_sec - c0.tv_sec) * 1000.0 +
	    (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
	out = *sync_client_stats(sc);
	sync_client_free(sc);
	order_free(nd.order);
	transport_free(nd.t);
	store_close(nd.st);
	return out;
}

/* CPU the server spends answering ${client}'s first message. */
static double
server_recon_cpu_ms(const char *dir)
{
	const struct negentropy_item *items;
	struct negentropy *cl, *sv;
	struct order *o;
	struct store *st;
	struct timespec t0, t1;
	uint8_t *m1, *m2;
	size_t n, l1, l2;
	int rc;

	if ((st = store_open(dir, STORE_RDONLY, 0, &rc)) == NULL ||
	    (o = order_new()) == NULL ||
	    (rc = order_refresh(o, st, NULL, NULL)) != 0)
		die(dir, rc);
	items = order_items(o, &n);
	if ((cl = negentropy_new(items, n, 0)) == NULL ||
	    negentropy_initiate(cl, &m1, &l1) != 0)
		die("negentropy", KITH_ENOMEM);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	if ((sv = negentropy_new(items, n, SYNCMSG_RECORDS_MAX)) == NULL ||
	    negentropy_reconcile(sv, m1, l1, &m2, &l2) != 0)
		die("negentropy", KITH_ENOMEM);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	if (l2 != 1)
		die("identical sets did not match", KITH_EINVAL);
	negentropy_free(cl);
	negentropy_free(sv);
	free(m1);
	free(m2);
	order_free(o);
	store_close(st);
	return (double)(t1.tv_sec - t0.tv_sec) * 1000.0 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

/* Delta and identical syncs against kithd A, from the copy at ${b_home}. */
static void
delta_sync(const char *kithd, const char *a_home, const char *b_home,
    struct kcrypto_key *const *keys, const struct ingest_run *ig)
{
	struct daemon_proc a;
	struct sync_stats s;
	char a_store[4400], b_store[4400];
	double cpu, gained, t0;

	snprintf(a_store, sizeof(a_store), "%s/store", a_home);
	snprintf(b_store, sizeof(b_store), "%s/store", b_home);
	daemon_start(&a, kithd, a_home, 0, NULL);
	write_new(a_store, keys[1], 100, 0);
	write_new(b_store, keys[2], 100, 0);
	/* Let A notice its new records before the session starts. */
	t0 = now_s();
	while (!log_value(a.log, "store gained", "records", &gained) &&
	    now_s() - t0 < 60)
		nap_ms(10);
	s = client_sync(b_store, &a, &cpu);
	emit("delta_sync_seconds", (double)(s.end_ms - s.start_ms) / 1000.0,
	    "s", 0.09);
	emit("delta_sync_round_trips", (double)s.round_trips, "round trips",
	    3);
	emit("delta_sync_bytes", (double)(s.bytes_in + s.bytes_out), "bytes",
	    1.2 * 200 * ig->record_bytes + 16384);
	s = client_sync(b_store, &a, &cpu);
	emit("identical_sync_round_trips", (double)s.round_trips,
	    "round trips", 1);
	emit("identical_sync_bytes", (double)(s.bytes_in + s.bytes_out),
	    "bytes", 2048);
	emit("identical_sync_client_cpu_ms", cpu, "ms", 10);
	emit("identical_recon_server_cpu_ms", server_recon_cpu_ms(b_store),
	    "ms", 10);
	daemon_stop(&a);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Write ${count} records into the store at ${dir} (as another process,
 * the kith command, would), one every ${every} seconds (0: each as soon
 * as the last is committed), and time each until it shows on the feed of
 * ${d}.  Return the sorted latencies in ms, ${*got} of them.
 */
static double *
feed_times(const struct daemon_proc *d, const char *dir,
    const struct kcrypto_key *key, size_t count, double every, size_t *got)
{
	struct transport *t;
	struct tsock *sub;
	struct store *st;
	struct tpoll item;
	struct store_draft dr;
	struct syncmsg m = { SYNCMSG_PUSH, 0, NULL, 0 };
	struct syncmsg_records it;
	struct record *rec;
	uint8_t (*ids)[KITH_ID_LEN];
	double *sent, *lat, next, t0;
	size_t written = 0, i;
	uint8_t *body, server_pk[32], net[KITH_NETWORK_LEN];
	uint8_t nonce[KITH_NONCE_LEN];
	size_t blen;
	int rc;

	if ((t = transport_new()) == NULL ||
	    kcrypto_x25519_public(d->pk, server_pk) != 0)
		die("subscribe", KITH_ENOMEM);
	client_identity(t);
	if ((sub = tsock_open(t, TSOCK_SUB, d->feed, server_pk, &rc)) == NULL ||
	    tsock_subscribe(sub, "request") != 0)
		die("subscribe", KITH_EIO);
	if ((st = store_open(dir, 0, 0, &rc)) == NULL ||
	    (rc = store_network(st, net)) != 0)
		die(dir, rc);
	ids = calloc(count, sizeof(*ids));
	sent = calloc(count, sizeof(*sent));
	lat = calloc(count, sizeof(*lat));
	if (ids == NULL || sent == NULL || lat == NULL)
		die("feed", KITH_ENOMEM);
	nap_ms(500);	/* the subscription reaches the node */
	*got = 0;
	t0 = next = now_s();
	while (*got < count && now_s() - t0 < 120) {
		if (written < count && now_s() >= next) {
			memset(&dr, 0, sizeof(dr));
			dr.kind = KITH_KIND_REQUEST;
			genesis(&dr, net, kcrypto_key_public(key), nonce,
			    written + 1000000);
			body = request_body(written, 0, &blen);
			dr.body = body;
			dr.blen = blen;
			if ((rc = store_write(st, key, &dr, 1)) != 0)
				die("write", rc);
			free(body);
			sent[written] = now_s();
			memcpy(ids[written++], dr.id, KITH_ID_LEN);
			next = every > 0 ? next + every : now_s();
		}
		item.sock = sub;
		item.fd = -1;
		transport_poll(t, &item, 1, written < count ? 0 : 2);
		while (tsock_recv(sub, NULL, &m.payload, &m.len) == 0) {
			if (syncmsg_records_start(&m, &it) != 0 ||
			    syncmsg_records_next(&it, &rec) != 0)
				continue;
			for (i = 0; i < written; i++)
				if (memcmp(ids[i], record_id(rec),
				    KITH_ID_LEN) == 0 && lat[i] == 0) {
					lat[i] = (now_s() - sent[i]) * 1000.0;
					(*got)++;
				}
			record_free(rec);
		}
	}
	store_close(st);
	tsock_close(sub);
	transport_free(t);
	for (i = 0, *got = 0; i < count; i++)
		if (lat[i] > 0)
			lat[(*got)++] = lat[i];
	qsort(lat, *got, sizeof(*lat), cmp_double);
	free(ids);
	free(sent);
	return lat;
}

/* p50, p99 and how many within 1 s, of ${count} writes. */
static void
emit_times(const char *name, const double *lat, size_t got, size_t count)
{
	char n[96];
	size_t i, fast = 0;

	for (i = 0; i < got; i++)
		fast += lat[i] <= 1000.0;
	if (got > 0) {
		snprintf(n, sizeof(n), "%s_p50_ms", name);
		emit(n, lat[got / 2], "ms", 0);
		snprintf(n, sizeof(n), "%s_p99_ms", name);
		emit(n, lat[got * 99 / 100], "ms", 0);
	}
	snprintf(n, sizeof(n), "%s_within_1s", name);
	emit(n, (double)fast, "writes", (double)count);
}

/*
 * Feed latency: written on A at 100/s, seen on B's feed (A and B peer);
 * then 1,000 writes in a row into B's store, each timed to B's own feed:
 * how soon kithd takes in another process's write.
 */
static void
feed_latency(const char *kithd, const char *top, const char *a_store,
    const struct kcrypto_key *key, size_t count)
{
	struct daemon_proc a, b;
	char a_home[4300], b_home[4300], dir[4400];
	double *lat;
	size_t got;

	snprintf(a_home, sizeof(a_home), "%s/fa", top);
	snprintf(b_home, sizeof(b_home), "%s/fb", top);
	home_like(a_home, a_store);
	home_like(b_home, a_store);
	port_base += 4;
	daemon_start(&b, kithd, b_home, 1, NULL);
	daemon_start(&a, kithd, a_home, 0, b.peer);
	snprintf(dir, sizeof(dir), "%s/store", a_home);
	lat = feed_times(&b, dir, key, count, 0.01, &got);
	emit_times("feed_latency", lat, got, count);
	fprintf(stderr, "kith-bench: feed latency over %zu of %zu records "
	    "(written on A at 100/s, seen on B's feed)\n", got, count);
	free(lat);
	daemon_stop(&a);
	snprintf(dir, sizeof(dir), "%s/store", b_home);
	lat = feed_times(&b, dir, key, count, 0, &got);
	emit_times("local_write_to_feed", lat, got, count);
	fprintf(stderr, "kith-bench: %zu of %zu writes in a row into B's "
	    "store seen on B's feed\n", got, count);
	free(lat);
	daemon_stop(&b);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(int argc, char **argv)
{
	struct kcrypto_key *keys[NAUTHORS];
	const char *base = getenv("TMPDIR");
	char top[4096], dir[4200];
	size_t n = 1000000;
	int keep = 0, no_sync = 0;
	char kithd[4096], *slash;
	struct ingest_run ig;
	double sign, verify, write, m_first, m_mid, m_end;
	uint8_t seed[32];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
			n = strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			base = argv[++i];
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep = 1;
		} else if (strcmp(argv[i], "--no-sync") == 0) {
			no_sync = 1;
		} else {
			fprintf(stderr, "usage: kith-bench [--records N] "
			    "[--dir DIR] [--keep] [--no-sync]\n");
			return strcmp(argv[i], "--help") == 0 ? 0 : 64;
		}
	}
	if (n < INGEST_BATCH) {
		fprintf(stderr, "kith-bench: --records must be at least %d\n",
		    INGEST_BATCH);
		return 64;
	}
	if (kcrypto_init() != 0)
		die("libsodium", KITH_ECRYPTO);
	for (int i = 0; i < NAUTHORS; i++) {
		memset(seed, 0x10 + i, sizeof(seed));
		if ((keys[i] = kcrypto_key_from_seed(seed)) == NULL)
			die("key", KITH_ENOMEM);
	}
	snprintf(top, sizeof(top), "%s/kith-bench-XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(top) == NULL) {
		fprintf(stderr, "kith-bench: %s: %s\n", top, strerror(errno));
		return 73;
	}

	node_key = keys[0];
	sign = raw_sign_rate(keys[0]);
	verify = raw_verify_rate(keys[0]);
	emit("raw_sign_1core", sign, "ops/s", sign);
	emit("raw_verify_1core", verify, "ops/s", verify);

	/* The ingest first, so its memory figure starts from a clean heap. */
	snprintf(dir, sizeof(dir), "%s/a", top);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/a/store", top);
	ingest(dir, keys, n, &ig);
	snprintf(dir, sizeof(dir), "%s/write", top);
	write = bench_write(dir, keys[0], 100000);
	emit("create_sign_store_batched", write, "records/s", sign);
	snprintf(dir, sizeof(dir), "%s/merge", top);
	bench_merge(dir, keys[0], 1000, &m_first, &m_mid, &m_end);
	emit("merge_write_first_100_versions_ms", m_first, "ms", m_first);
	emit("merge_write_at_1000_versions_ms", m_mid, "ms", m_first);
	emit("merge_write_at_4000_versions_ms", m_end, "ms", m_first);
	emit("apply_verify_store_2cores", ig.rate, "records/s", verify);
	emit("store_bytes_per_record", ig.bytes_per_record, "bytes", 600);
	emit("ingest_peak_private_memory", (double)ig.peak_kb / 1024.0, "MiB",
	    64);
	fprintf(stderr, "kith-bench: ingest of %zu records (%d per entity, "
	    "%d authors, batches of %d)\n", ig.records, VERSIONS, NAUTHORS,
	    INGEST_BATCH);

	if (!no_sync) {
		char a_home[4300], b_home[4300];
		struct ingest_run small;

		snprintf(kithd, sizeof(kithd), "%s", argv[0]);
		if ((slash = strrchr(kithd, '/')) != NULL)
			strcpy(slash + 1, "kithd");
		else
			strcpy(kithd, "./kithd");
		port_base = 30000 + (int)(getpid() % 2000) * 8;
		snprintf(a_home, sizeof(a_home), "%s/a", top);
		full_sync(kithd, top, a_home, n, &ig, verify, 1);
		snprintf(b_home, sizeof(b_home), "%s/b%zu", top, n);
		delta_sync(kithd, a_home, b_home, keys, &ig);
		if (n > 100000) {
			snprintf(a_home, sizeof(a_home), "%s/s", top);
			mkdir(a_home, 0700);
			snprintf(dir, sizeof(dir), "%s/s/store", top);
			ingest(dir, keys, 100000, &small);
			full_sync(kithd, top, a_home, 100000, &small, verify, 0);
		}
		snprintf(dir, sizeof(dir), "%s/a/store", top);
		feed_latency(kithd, top, dir, keys[3], 1000);
	}

	if (keep)
		fprintf(stderr, "kith-bench: stores kept in %s\n", top);
	else
		nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < NAUTHORS; i++)
		kcrypto_key_free(keys[i]);
	return 0;
}
