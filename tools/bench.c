/*
 * kith-bench: the figures `make bench` prints, one JSON object a line:
 *   {"name":..., "value":..., "unit":..., "limit":..., "ratio":...}
 * Each figure is set against a raw library rate measured in the same run, so
 * the ratios mean something on a shared, noisy machine (DESIGN.md,
 * Performance frame).
 *
 * usage: kith-bench [--records N] [--dir DIR] [--keep] [--no-sync]
 *                   [--only-siege] [--only-hops] [--only-net] [--seed N]
 *                   [--only-sync] [--again TOP]
 *   --records N  records in the large ingest run (default 1000000); with
 *                --only-siege, in the siege's node (default 20000)
 *   --dir DIR    where to put the benchmark stores (default $TMPDIR or /tmp);
 *                use a real disk: commits are durable, as in a node.
 *   --keep       leave the stores there, for mdb_stat, and print where
 *   --no-sync    skip the sync benchmarks (they start kithd from the
 *                directory kith-bench is in)
 *   --only-siege the raw rates and the siege (bench_siege) alone
 *   --only-hops  how fast a write crosses a network (bench_hops) alone
 *   --only-net   the raw rates and the network scale run (bench_net)
 *   --seed N     the network scale run's graph (default NET_SEED)
 *   --only-sync  the raw rates, the ingest of N records, then at N alone
 *                the full sync, the identical sets and the delta sync
 *   --again TOP  the raw rates, the identical sets and the delta sync
 *                again on the stores an `--only-sync --keep` run left in
 *                TOP (give the same --records); each run adds 100
 *                records a side to the set in common
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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
#include <zmq.h>

#include "body.h"
#include "hlc.h"
#include "ingest.h"
#include "kcrypto.h"
#include "kith.h"
#include "negentropy.h"
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

/*
 * The processes this one started (kithd nodes, the siege): a run that
 * fails part way stops them too, so none is left behind.
 */
#define CHILDREN_MAX	64
static pid_t children[CHILDREN_MAX];
static size_t nchildren;
static const char *scratch;	/* the run's stores, named if it fails */

/*
 * Stop the child ${pid} (SIGTERM), wait for it, and forget it.  Return its
 * wait status.
 */
static int
child_stop(pid_t pid)
{
	int status = 0;

	for (size_t i = 0; i < nchildren; i++)
		if (children[i] == pid)
			children[i] = children[--nchildren];
	(void)kill(pid, SIGTERM);
	(void)waitpid(pid, &status, 0);
	return status;
}

/* Stop every child still running, then exit with ${status}. */
static void
quit(int status)
{

	while (nchildren > 0)
		(void)child_stop(children[nchildren - 1]);
	if (status != 0 && scratch != NULL)
		fprintf(stderr, "kith-bench: stores and logs kept in %s\n",
		    scratch);
	exit(status);
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "kith-bench: %s: %s\n", what, kith_strerror(rc));
	quit(70);
}

/*
 * fork(), keeping the books: the parent notes the child as one to stop;
 * the child owns none of the parent's children, and gets SIGTERM if the
 * parent dies first (killed outright, with no chance to stop it).  Return
 * what fork() does.
 */
static pid_t
spawn(void)
{
	pid_t parent = getpid(), pid;

	if ((pid = fork()) < 0)
		die("fork", KITH_EIO);
	if (pid == 0) {
		nchildren = 0;
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
		    getppid() != parent)
			_exit(70);
		return 0;
	}
	assert(nchildren < CHILDREN_MAX);
	children[nchildren++] = pid;
	return pid;
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
	    JSON_REAL_PRECISION(6))) == NULL)
		die("emit", KITH_ENOMEM);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
}

/* A figure's name at a size: "${pre}_${n / 1000}k_${post}" in ${buf}. */
static const char *
sized(char *buf, size_t len, const char *pre, size_t n, const char *post)
{

	snprintf(buf, len, "%s_%zuk_%s", pre, n / 1000, post);
	return buf;
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
 * Make ${h}, its network and kind set, the genesis of a new entity by
 * ${author}, its nonce from ${i}.
 */
static void
genesis_header(struct record_header *h, const uint8_t *author, uint64_t i)
{

	h->genesis = 1;
	randombytes_like(h->nonce, KITH_NONCE_LEN, i);
	record_entity_derive(h->network, h->kind, author, h->nonce, h->entity);
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

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Process ${pid}'s private (anonymous) resident memory in KiB, or -1. */
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

/* The CPU process ${pid} has used, user and system, in seconds; 0 if gone. */
static double
proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* Past the command's name, which may hold anything: fields 14, 15. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	    &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * The peak private memory of a process, sampled on a thread of its own.
 * A run that sets ${cap_kb} has a safety valve, so that a figure that
 * shows a leak does not take the machine down with it: once the peak
 * passes ${cap_kb}, ${cap_pid} (what feeds the process) gets SIGTERM and
 * ${capped} is 1; past twice that, the process itself gets SIGKILL and
 * ${capped} is 2.
 */
struct sampler {
	pthread_t thread;
	pid_t pid;
	long tick_ms;
	long cap_kb;
	pid_t cap_pid;
	volatile int stop, capped;
	long peak_kb;
};

static void *
sample(void *arg)
{
	struct sampler *s = arg;
	long kb;

	while (!s->stop) {
		if ((kb = proc_rss_anon_kb(s->pid)) > s->peak_kb)
			s->peak_kb = kb;
		if (s->cap_kb > 0 && s->peak_kb > s->cap_kb && s->capped == 0) {
			s->capped = 1;
			(void)kill(s->cap_pid, SIGTERM);
		}
		if (s->cap_kb > 0 && s->peak_kb > 2 * s->cap_kb &&
		    s->capped == 1) {
			s->capped = 2;
			(void)kill(s->pid, SIGKILL);
		}
		nap_ms(s->tick_ms);
	}
	return NULL;
}

/* Sample process ${pid} every ${tick_ms} into ${s} until sampler_stop. */
static void
sampler_start(struct sampler *s, pid_t pid, long tick_ms)
{

	s->pid = pid;
	s->tick_ms = tick_ms;
	s->stop = 0;
	s->peak_kb = proc_rss_anon_kb(pid);
	if (pthread_create(&s->thread, NULL, sample, s) != 0)
		die("sampler", KITH_ENOMEM);
}

/* Stop ${s}'s thread; return the peak it saw, in KiB. */
static long
sampler_stop(struct sampler *s)
{

	s->stop = 1;
	pthread_join(s->thread, NULL);
	return s->peak_kb;
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
	/*
	 * After everything the store holds, as in a network, where records
	 * come after the admissions of their authors (and then append to the
	 * store's (hlc, id)-keyed databases).
	 */
	if ((rc = store_clock(st, &hlc)) != 0)
		die("clock", rc);
	hlc++;
	for (k = 0; k < n; k++) {
		uint64_t ent = k / VERSIONS;
		int a = (int)(ent % NAUTHORS), v = (int)(k % VERSIONS);

		/* Each author's records chain; an entity's first is its genesis. */
		h.seq = ++seq[a];
		memcpy(h.prev, prev[a], KITH_ID_LEN);
		h.hlc = hlc++;
		h.kind = KITH_KIND_REQUEST;
		h.genesis = 0;
		if (v == 0)
			genesis_header(&h, kcrypto_key_public(keys[a]), ent);
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
	sampler_start(&smp, getpid(), 5);
	t0 = now_s();
	if ((ig = ingest_new(st, 0)) == NULL)
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
	out->peak_kb = sampler_stop(&smp);
	fclose(f);
	unlink(path);
	if ((rc = store_stats(st, &ss)) != 0)
		die("stats", rc);
	out->records = ss.records;
	out->bytes_per_record = (double)ss.used_bytes / (double)ss.records;
	store_close(st);
}

/* One named database's share of a store (store_usage). */
struct db_share {
	size_t n;		/* the store's records */
	uint64_t bytes;		/* all the databases' pages so far */
	char name[64];		/* "store_<size>k_db" */
	int json;		/* emit a figure for each database, too */
	double total;		/* the store's bytes per record */
};

static int
db_share(void *arg, const char *db, size_t entries, uint64_t bytes)
{
	struct db_share *ds = arg;
	double per = (double)bytes / (double)ds->n;
	char name[128];

	ds->bytes += bytes;
	if (entries == 0)
		return 0;
	fprintf(stderr, "kith-bench:   %-8s %9.2f entries %8.1f B\n", db,
	    (double)entries / (double)ds->n, per);
	if (ds->json) {
		snprintf(name, sizeof(name), "%s_%s_bytes_per_record",
		    ds->name, db);
		emit(name, per, "bytes", ds->total);
	}
	return 0;
}

/*
 * The store at ${dir}, ${ig}'s ingest run: its bytes per record, and (on
 * stderr; with ${json}, as figures too, each set against the whole) each
 * database's entries and pages per record.  What no database holds is
 * LMDB's: free pages, its catalogue and meta pages.
 */
static void
store_usage(const char *dir, const struct ingest_run *ig, int json)
{
	struct db_share ds;
	struct store *st;
	char name[128];
	int rc;

	memset(&ds, 0, sizeof(ds));
	ds.n = ig->records;
	ds.json = json;
	ds.total = ig->bytes_per_record;
	sized(ds.name, sizeof(ds.name), "store", ig->records, "db");
	emit(sized(name, sizeof(name), "store", ig->records,
	    "bytes_per_record"), ig->bytes_per_record, "bytes", 600);
	fprintf(stderr, "kith-bench: store of %zu records, %.1f B a record; "
	    "per record, by database:\n", ig->records, ig->bytes_per_record);
	if ((st = store_open(dir, STORE_RDONLY, 0, &rc)) == NULL ||
	    (rc = store_db_usage(st, db_share, &ds)) != 0)
		die(dir, rc);
	store_close(st);
	fprintf(stderr, "kith-bench:   %-8s %9s %8.1f B\n", "(lmdb)", "",
	    ig->bytes_per_record - (double)ds.bytes / (double)ds.n);
	if (json) {
		snprintf(name, sizeof(name), "%s_lmdb_bytes_per_record",
		    ds.name);
		emit(name, ig->bytes_per_record - (double)ds.bytes /
		    (double)ds.n, "bytes", ds.total);
	}
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

/*
 * Start kithd on ${home} as node ${idx}, with the ${npeers} peers
 * ${peers} (KEY@ep each).
 */
static void
daemon_start_peers(struct daemon_proc *d, const char *kithd,
    const char *home, int idx, const char *const *peers, size_t npeers)
{
	char hex[2 * KITH_KEY_LEN + 1];
	const char *argv[10 + 2 * 4];
	int port = port_base + 2 * idx;
	double t0 = now_s();
	size_t i, n = 0;
	int fd;

	snprintf(d->ep, sizeof(d->ep), "tcp://127.0.0.1:%d", port);
	snprintf(d->feed, sizeof(d->feed), "tcp://127.0.0.1:%d", port + 1);
	home_key(home, d->pk);
	kith_hex(hex, d->pk, KITH_KEY_LEN);
	snprintf(d->peer, sizeof(d->peer), "%s@%s", hex, d->ep);
	snprintf(d->log, sizeof(d->log), "%s.log", home);
	assert(npeers <= 4);
	argv[n++] = kithd;
	argv[n++] = "--home";
	argv[n++] = home;
	argv[n++] = "--listen";
	argv[n++] = d->ep;
	argv[n++] = "--feed";
	argv[n++] = d->feed;
	/* The figures are read from every session's lines: debug. */
	argv[n++] = "--log-level";
	argv[n++] = "debug";
	for (i = 0; i < npeers; i++) {
		argv[n++] = "--peer";
		argv[n++] = peers[i];
	}
	argv[n] = NULL;
	if ((d->pid = spawn()) == 0) {
		if ((fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644)) >= 0)
			dup2(fd, 2);
		execv(kithd, (char *const *)argv);
		_exit(127);
	}
	while (!port_open(port)) {
		if (now_s() - t0 > 60 || waitpid(d->pid, NULL, WNOHANG) != 0)
			die("kithd did not start", KITH_EIO);
		nap_ms(10);
	}
}

/* Start kithd on ${home} as node ${idx}, with ${peer} (KEY@ep, or NULL). */
static void
daemon_start(struct daemon_proc *d, const char *kithd, const char *home,
    int idx, const char *peer)
{

	daemon_start_peers(d, kithd, home, idx, &peer, peer != NULL);
}

static void
daemon_stop(struct daemon_proc *d)
{

	(void)child_stop(d->pid);
}

/* Set ${*v} to the number after " ${key}=" in ${line}; 0 if none. */
static int
line_value(const char *line, const char *key, double *v)
{
	char pat[64];
	const char *at;

	snprintf(pat, sizeof(pat), " %s=", key);
	if ((at = strstr(line, pat)) == NULL)
		return 0;
	*v = strtod(at + strlen(pat), NULL);
	return 1;
}

/*
 * The number after "${key}=" in the first line of ${log} with ${tag}: a
 * daemon's first session, not the short round that follows it.
 */
static int
log_value(const char *log, const char *tag, const char *key, double *v)
{
	char line[2048];
	int found = 0;
	FILE *f;

	if ((f = fopen(log, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, tag) != NULL && line_value(line, key, v))
			found = 1;
	fclose(f);
	return found;
}

static size_t
records_in(const char *dir)
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

/*
 * Full sync: kithd B, empty, at ${b_home}, with kithd A at ${a_home}, its
 * ${n} records ingested as ${ig} says, as its peer.  The rate is set
 * against both cores' raw verify (${verify} is one core's), and B's peak
 * private memory is sampled.
 */
static void
full_sync(const char *kithd, const char *a_home, const char *b_home,
    size_t n, const struct ingest_run *ig, double verify)
{
	struct daemon_proc a, b;
	char b_store[4400], a_store[4400], name[96];
	double t0, secs, bin = 0, bout = 0, rts = 0;
	size_t have, want;
	long kb, peak = 0;

	snprintf(a_store, sizeof(a_store), "%s/store", a_home);
	snprintf(b_store, sizeof(b_store), "%s/store", b_home);
	home_like(b_home, a_store);
	want = records_in(a_store);
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
	if ((have = records_in(b_store)) != want)
		die("full sync incomplete", KITH_EINVAL);
	log_value(b.log, "role=client", "bytes_out", &bout);
	log_value(b.log, "role=client", "round_trips", &rts);
	daemon_stop(&b);
	daemon_stop(&a);
	emit(sized(name, sizeof(name), "full_sync", n, "records_per_s"),
	    (double)(want - 1) / secs, "records/s", 2 * verify);
	emit(sized(name, sizeof(name), "full_sync", n,
	    "wire_bytes_per_record"), (bin + bout) / (double)(want - 1),
	    "bytes", 1.15 * ig->record_bytes);
	emit(sized(name, sizeof(name), "full_sync", n,
	    "daemon_peak_private_memory"), (double)peak / 1024.0, "MiB", 64);
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

/*
 * One `kith sync` session from the store at ${dir} to node ${d}, given up
 * (KITH_ETIMEDOUT) at ${deadline} (now_s(); 0: none).  Return 0 with its
 * figures in ${*out} and this thread's CPU in ${*cpu_ms}, or the session's
 * error.
 */
static int
client_sync(const char *dir, const struct daemon_proc *d, double deadline,
    struct sync_stats *out, double *cpu_ms)
{
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
	    (nd.t = transport_new()) == NULL)
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
		if (rc == 0 && deadline > 0 && now_s() > deadline)
			rc = KITH_ETIMEDOUT;
	} while (rc == 0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	*cpu_ms = (double)(c1.tv_sec - c0.tv_sec) * 1000.0 +
	    (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
	*out = *sync_client_stats(sc);
	sync_client_free(sc);
	transport_free(nd.t);
	store_close(nd.st);
	return rc < 0 ? rc : 0;
}

/* One side of Negentropy over a store's order, for server_recon_cpu_ms. */
struct recon_side {
	const uint8_t *in;	/* the client's message; NULL: make it */
	size_t inlen;
	uint8_t *out;
	size_t outlen;
};

static int
recon_side(void *arg, const struct negentropy_source *src)
{
	struct recon_side *r = arg;
	struct negentropy *ng;
	int rc;

	if ((ng = negentropy_new_source(src, SYNCMSG_RECORDS_MAX)) == NULL)
		return KITH_ENOMEM;
	rc = r->in == NULL ? negentropy_initiate(ng, &r->out, &r->outlen) :
	    negentropy_reconcile(ng, r->in, r->inlen, &r->out, &r->outlen);
	negentropy_free(ng);
	return rc;
}

/*
 * CPU the server spends answering a client's first message, from a cold
 * session: a read transaction on the store, its fingerprint tree, the
 * reply.
 */
static double
server_recon_cpu_ms(const char *dir)
{
	struct recon_side cl = { NULL, 0, NULL, 0 }, sv = { NULL, 0, NULL, 0 };
	struct store *st;
	struct timespec t0, t1;
	int rc;

	if ((st = store_open(dir, STORE_RDONLY, 0, &rc)) == NULL)
		die(dir, rc);
	if ((rc = store_fp_read(st, recon_side, &cl)) != 0)
		die("negentropy", rc);
	sv.in = cl.out;
	sv.inlen = cl.outlen;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	if ((rc = store_fp_read(st, recon_side, &sv)) != 0)
		die("negentropy", rc);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	if (sv.outlen != 1)
		die("identical sets did not match", KITH_EINVAL);
	free(cl.out);
	free(sv.out);
	store_close(st);
	return (double)(t1.tv_sec - t0.tv_sec) * 1000.0 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

/*
 * A delta sync against kithd A, from the copy at ${b_home}: 100 new
 * records on each side.
 */
static void
delta_sync(const char *kithd, const char *a_home, const char *b_home,
    struct kcrypto_key *const *keys, const struct ingest_run *ig)
{
	struct daemon_proc a;
	struct sync_stats s;
	char a_store[4400], b_store[4400];
	double cpu, gained, t0;
	int rc;

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
	if ((rc = client_sync(b_store, &a, 0, &s, &cpu)) != 0)
		die("delta sync", rc);
	emit("delta_sync_seconds", (double)(s.end_ms - s.start_ms) / 1000.0,
	    "s", 0.09);
	emit("delta_sync_round_trips", (double)s.round_trips, "round trips",
	    3);
	emit("delta_sync_bytes", (double)(s.bytes_in + s.bytes_out), "bytes",
	    1.2 * 200 * ig->record_bytes + 16384);
	daemon_stop(&a);
}

/*
 * Identical sets of ${n} records: a `kith sync` session from the copy at
 * ${b_home} to kithd A at ${a_home}, which holds the same, and the CPU the
 * server spends answering the first message.
 */
static void
identical_sync(const char *kithd, const char *a_home, const char *b_home,
    size_t n)
{
	struct daemon_proc a;
	struct sync_stats s;
	char b_store[4400], name[96];
	double cpu;
	int rc;

	snprintf(b_store, sizeof(b_store), "%s/store", b_home);
	daemon_start(&a, kithd, a_home, 0, NULL);
	if ((rc = client_sync(b_store, &a, 0, &s, &cpu)) != 0)
		die("identical sync", rc);
	emit(sized(name, sizeof(name), "identical_sync", n, "round_trips"),
	    (double)s.round_trips, "round trips", 1);
	emit(sized(name, sizeof(name), "identical_sync", n, "bytes"),
	    (double)(s.bytes_in + s.bytes_out), "bytes", 2048);
	emit(sized(name, sizeof(name), "identical_sync", n, "client_cpu_ms"),
	    cpu, "ms", 10);
	emit(sized(name, sizeof(name), "identical_recon", n, "server_cpu_ms"),
	    server_recon_cpu_ms(b_store), "ms", 10);
	daemon_stop(&a);
}

/*
 * The scale curve at ${n} records, held by A at ${a_home} (ingested as
 * ${ig} says): a full sync to an empty B at ${b_home}, then the two as
 * identical sets.
 */
static void
scale_point(const char *kithd, const char *a_home, const char *b_home,
    size_t n, const struct ingest_run *ig, double verify)
{

	full_sync(kithd, a_home, b_home, n, ig, verify);
	identical_sync(kithd, a_home, b_home, n);
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

/*
 * Hops (PROTOCOL.md 9.7): how long a write takes to reach every node of a
 * network, whichever way its peer lines point.  Every node has a key of
 * its own (a record is not offered back to the key it came from) and an
 * interval of 600 s, so only pushes move the records in time.  Two
 * networks: a chain of HOPS_CHAIN nodes, each listing its successor,
 * written to at its head (along the lines: the first hop is the single
 * hop every other figure is set against) and at its end (against them);
 * and HOPS_GRAPH nodes in a random sparse connected graph, each listing
 * one or two others.  A figure's limit is the single hop's median times
 * the hops the write must make.  The single hop includes what every write
 * pays once: its node's kithd noticing it in the store's change log
 * (looked at every 50 ms); each further hop is a push alone.
 */
#define HOPS_CHAIN	5
#define HOPS_GRAPH	20
#define HOPS_WRITES	5	/* writes at each place */
#define HOPS_WAIT_S	30	/* a write that takes longer fails the run */
#define NET_NODES	50	/* the network scale run's (bench_net), and */
#define NET_LISTS	3	/* ... the most nodes one node lists */
#define NET_BATCH	50	/* ... records a commit */

/* A network of nodes with keys of their own, and what they list. */
struct hops_net {
	size_t n;
	unsigned interval_s;			/* each node's [sync] interval */
	struct daemon_proc d[NET_NODES];
	struct store *st[NET_NODES];		/* each node's, read-only */
	struct kcrypto_key *key[NET_NODES];
	char home[NET_NODES][4300];
	size_t lists[NET_NODES][NET_LISTS], nlists[NET_NODES];
	uint64_t seq;				/* records written so far */
	int port_base;				/* the run's, meanwhile */
	const char *name;			/* for its homes and messages */
};

/* Copy the file ${from} to ${to}. */
static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t r;
	int in, out;

	if ((in = open(from, O_RDONLY)) < 0 ||
	    (out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		die(from, KITH_EIO);
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)r) != r)
			die(to, KITH_EIO);
	close(in);
	close(out);
}

/* Return 1 if ${log} has a line holding ${a} and ${b}. */
static int
log_has(const char *log, const char *a, const char *b)
{
	char line[2048];
	int found = 0;
	FILE *f;

	if ((f = fopen(log, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, a) != NULL && strstr(line, b) != NULL;
	fclose(f);
	return found;
}

/*
 * Start the ${h}->n nodes of ${h} (their lists and interval set) on copies
 * of one store holding a charter and every node's membership, and wait
 * until each has ended a round with every node it lists: then every
 * listed node knows its callers.  Until hops_stop, nodes have ports of
 * their own, 2 * NET_NODES of them below the ephemeral range (32768 on).
 */
static void
hops_start(struct hops_net *h, const char *kithd, const char *top,
    const char *name)
{
	char dir[4400], from[4500], to[4500], conf[4400], end[128];
	const char *peers[NET_LISTS];
	struct store *st;
	uint8_t seed[32];
	size_t i, k;
	double t0;
	FILE *f;
	int rc;

	assert(h->n <= NET_NODES);
	h->name = name;
	h->port_base = port_base;
	/* A range no other process (another run, a test) listens in. */
	for (k = 0; k < 120; k++) {
		port_base = 20000 + (int)((getpid() + k) % 120) * 2 * NET_NODES;
		for (i = 0; i < 2 * h->n && !port_open(port_base + (int)i); i++)
			;
		if (i == 2 * h->n)
			break;
	}
	if (k == 120)
		die("hops: no free ports", KITH_EIO);
	for (i = 0; i < h->n; i++) {
		memset(seed, 0x40 + (int)i, sizeof(seed));
		if ((h->key[i] = kcrypto_key_from_seed(seed)) == NULL)
			die("key", KITH_ENOMEM);
	}
	snprintf(dir, sizeof(dir), "%s/%s-template", top, name);
	st = bench_store(dir, node_key, h->key, h->n);
	store_close(st);
	for (i = 0; i < h->n; i++) {
		snprintf(h->home[i], sizeof(h->home[i]), "%s/%s%zu", top, name,
		    i);
		snprintf(to, sizeof(to), "%s/store", h->home[i]);
		if (mkdir(h->home[i], 0700) != 0 || mkdir(to, 0700) != 0)
			die(h->home[i], KITH_EIO);
		snprintf(from, sizeof(from), "%s/data.mdb", dir);
		snprintf(to, sizeof(to), "%s/store/data.mdb", h->home[i]);
		copy_file(from, to);
		snprintf(to, sizeof(to), "%s/key", h->home[i]);
		if ((rc = kcrypto_key_save(h->key[i], to)) != 0)
			die(to, rc);
		snprintf(conf, sizeof(conf), "%s/kith.conf", h->home[i]);
		if ((f = fopen(conf, "w")) == NULL)
			die(conf, KITH_EIO);
		fprintf(f, "[sync]\ninterval = %u\n", h->interval_s);
		fclose(f);
	}
	/* Lists mostly point up: started from the top, fewer tries fail. */
	for (i = h->n; i-- > 0; ) {
		for (k = 0; k < h->nlists[i]; k++) {
			size_t j = h->lists[i][k];
			char hex[2 * KITH_KEY_LEN + 1];

			kith_hex(hex, kcrypto_key_public(h->key[j]),
			    KITH_KEY_LEN);
			snprintf(h->d[j].peer, sizeof(h->d[j].peer),
			    "%s@tcp://127.0.0.1:%d", hex,
			    port_base + 2 * (int)j);
			peers[k] = h->d[j].peer;
		}
		daemon_start_peers(&h->d[i], kithd, h->home[i], (int)i,
		    peers, h->nlists[i]);
	}
	for (i = 0, t0 = now_s(); i < h->n; i++)
		for (k = 0; k < h->nlists[i]; k++) {
			snprintf(end, sizeof(end), "sync end peer=%s role=client ",
			    h->d[h->lists[i][k]].ep);
			while (!log_has(h->d[i].log, end, "")) {
				if (now_s() - t0 > HOPS_WAIT_S)
					die("hops: first rounds", KITH_ETIMEDOUT);
				nap_ms(10);
			}
		}
	for (i = 0; i < h->n; i++) {
		snprintf(dir, sizeof(dir), "%s/store", h->home[i]);
		if ((h->st[i] = store_open(dir, STORE_RDONLY, 0, &rc)) == NULL)
			die(dir, rc);
	}
}

static void
hops_stop(struct hops_net *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		store_close(h->st[i]);
		daemon_stop(&h->d[i]);
		kcrypto_key_free(h->key[i]);
	}
	port_base = h->port_base;
}

/*
 * Write ${k} (at most NET_BATCH) new requests on node ${w} of ${h} in one
 * durable commit, as the kith command would, in its store beside its
 * kithd.  Set ${id} to the last one's id.  Return when the commit ended.
 */
static double
hops_put(struct hops_net *h, size_t w, size_t k, uint8_t id[KITH_ID_LEN])
{
	struct store_draft d[NET_BATCH];
	struct store *st;
	uint8_t nonce[NET_BATCH][KITH_NONCE_LEN], *body[NET_BATCH];
	uint8_t net[KITH_NETWORK_LEN];
	char dir[4400];
	double t;
	size_t i;
	int rc;

	assert(k >= 1 && k <= NET_BATCH);
	snprintf(dir, sizeof(dir), "%s/store", h->home[w]);
	if ((st = store_open(dir, 0, 0, &rc)) == NULL ||
	    (rc = store_network(st, net)) != 0)
		die(dir, rc);
	memset(d, 0, sizeof(d));
	for (i = 0; i < k; i++) {
		d[i].kind = KITH_KIND_REQUEST;
		genesis(&d[i], net, kcrypto_key_public(h->key[w]), nonce[i],
		    2000000 + h->seq++);
		body[i] = request_body(h->seq, 0, &d[i].blen);
		d[i].body = body[i];
	}
	if ((rc = store_write(st, h->key[w], d, k)) != 0)
		die("write", rc);
	t = now_s();
	store_close(st);
	for (i = 0; i < k; i++)
		free(body[i]);
	memcpy(id, d[k - 1].id, KITH_ID_LEN);
	return t;
}

/*
 * Write one request on node ${w} of ${h} and time it to each node:
 * ${ms}[i] is when node i held it, in milliseconds after the commit.
 * Return the time to the last.
 */
static double
hops_write(struct hops_net *h, size_t w, double *ms)
{
	struct record *rec;
	uint8_t id[KITH_ID_LEN];
	size_t i, left = h->n, got;
	double t0, last = 0;

	t0 = hops_put(h, w, 1, id);
	for (i = 0; i < h->n; i++)
		ms[i] = -1;
	while (left > 0) {
		for (i = 0, got = 0; i < h->n; i++) {
			if (ms[i] >= 0)
				continue;
			if (store_get(h->st[i], id, &rec) != 0)
				continue;
			record_free(rec);
			ms[i] = (now_s() - t0) * 1000.0;
			last = ms[i];
			got++;
		}
		left -= got;
		if (left > 0 && now_s() - t0 > HOPS_WAIT_S)
			die("hops: a write did not reach every node",
			    KITH_ETIMEDOUT);
		if (left > 0)
			nap_ms(1);
	}
	return last;
}

/* Whether node ${i} or node ${j} of ${h} lists the other. */
static int
hops_linked(const struct hops_net *h, size_t i, size_t j)
{
	size_t k;

	for (k = 0; k < h->nlists[i]; k++)
		if (h->lists[i][k] == j)
			return 1;
	for (k = 0; k < h->nlists[j]; k++)
		if (h->lists[j][k] == i)
			return 1;
	return 0;
}

/* The hops from ${w} to the farthest node of ${h}, lines taken both ways. */
static size_t
hops_far(const struct hops_net *h, size_t w)
{
	size_t dist[NET_NODES], q[NET_NODES], qh = 0, qt = 0, i, far = 0;

	for (i = 0; i < h->n; i++)
		dist[i] = SIZE_MAX;
	dist[w] = 0;
	q[qt++] = w;
	while (qh < qt) {
		size_t u = q[qh++];

		for (i = 0; i < h->n; i++) {
			if (dist[i] == SIZE_MAX && hops_linked(h, u, i)) {
				dist[i] = dist[u] + 1;
				q[qt++] = i;
				if (dist[i] > far)
					far = dist[i];
			}
		}
	}
	for (i = 0; i < h->n; i++)
		if (dist[i] == SIZE_MAX)
			die("hops: the graph is not connected", KITH_EINVAL);
	return far;
}

/* p50 and max of ${v}[0..n), sorted in place; limits ${lim50}, ${limmax}. */
static void
emit_spread(const char *name, double *v, size_t n, double lim50,
    double limmax)
{
	char nm[96];

	qsort(v, n, sizeof(*v), cmp_double);
	snprintf(nm, sizeof(nm), "%s_p50_ms", name);
	emit(nm, v[n / 2], "ms", lim50);
	snprintf(nm, sizeof(nm), "%s_max_ms", name);
	emit(nm, v[n - 1], "ms", limmax);
}

/*
 * HOPS_WRITES writes on node ${w} of ${h}, one after another: ${all}[k] is
 * the k-th's time to every node, and ${first}[k] (unless NULL) its time
 * to the first node ${w} lists.
 */
static void
hops_from(struct hops_net *h, size_t w, double *all, double *first)
{
	double ms[NET_NODES];
	size_t k;

	for (k = 0; k < HOPS_WRITES; k++) {
		all[k] = hops_write(h, w, ms);
		if (first != NULL)
			first[k] = ms[h->lists[w][0]];
	}
}

/*
 * One write on each of HOPS_WRITES nodes spread over ${h}, each timed to
 * every node: emit ${name}'s p50 and max, each set against the single hop
 * ${hop50} times the hops to the farthest node.
 */
static void
hops_spread(struct hops_net *h, const char *name, double hop50)
{
	double ms[NET_NODES], all[HOPS_WRITES], lim[HOPS_WRITES], lmax = 0;
	size_t w, at, far;

	for (w = 0; w < HOPS_WRITES; w++) {
		at = w * (h->n - 1) / (HOPS_WRITES - 1);
		far = hops_far(h, at);
		all[w] = hops_write(h, at, ms);
		lim[w] = (double)far * hop50;
		if (lim[w] > lmax)
			lmax = lim[w];
		fprintf(stderr, "kith-bench: hops: written on %s node %zu, %zu "
		    "hops from the farthest: all %zu held it after %.0f ms\n",
		    h->name, at, far, h->n, all[w]);
	}
	qsort(lim, HOPS_WRITES, sizeof(*lim), cmp_double);
	emit_spread(name, all, HOPS_WRITES, lim[HOPS_WRITES / 2], lmax);
}

static void
bench_hops(const char *kithd, const char *top)
{
	static struct hops_net h;
	double hop[HOPS_WRITES], along[HOPS_WRITES], against[HOPS_WRITES];
	double hop50;
	size_t i, k;
	unsigned r = 12;	/* the same graph every run */

	/* The chain: node i lists node i + 1. */
	memset(&h, 0, sizeof(h));
	h.n = HOPS_CHAIN;
	h.interval_s = 600;
	for (i = 0; i + 1 < h.n; i++) {
		h.lists[i][0] = i + 1;
		h.nlists[i] = 1;
	}
	hops_start(&h, kithd, top, "chain");
	hops_from(&h, 0, along, hop);
	hops_from(&h, h.n - 1, against, NULL);
	hops_stop(&h);
	qsort(hop, HOPS_WRITES, sizeof(*hop), cmp_double);
	hop50 = hop[HOPS_WRITES / 2];
	emit_spread("hops_single_hop", hop, HOPS_WRITES, 0, 0);
	emit_spread("hops_chain5_along_lines_all", along, HOPS_WRITES,
	    (HOPS_CHAIN - 1) * hop50, (HOPS_CHAIN - 1) * hop50);
	emit_spread("hops_chain5_against_lines_all", against, HOPS_WRITES,
	    (HOPS_CHAIN - 1) * hop50, (HOPS_CHAIN - 1) * hop50);

	/*
	 * The graph: node i lists one node after it (so all are connected),
	 * and every other node a second one anywhere.
	 */
	memset(&h, 0, sizeof(h));
	h.n = HOPS_GRAPH;
	h.interval_s = 600;
	for (i = 0; i + 1 < h.n; i++) {
		h.lists[i][h.nlists[i]++] = i + 1 +
		    (size_t)rand_r(&r) % (h.n - 1 - i);
		if (i % 2 == 0) {
			k = (size_t)rand_r(&r) % h.n;
			if (k != i && k != h.lists[i][0])
				h.lists[i][h.nlists[i]++] = k;
		}
	}
	h.lists[i][h.nlists[i]++] = (size_t)rand_r(&r) % i;
	hops_start(&h, kithd, top, "graph");
	hops_spread(&h, "hops_graph20_all", hop50);
	hops_stop(&h);
	fprintf(stderr, "kith-bench: hops: a single hop %.1f ms (median); a "
	    "write reached all %d chain nodes in %.0f ms against the peer "
	    "lines, %.0f ms along them (medians of %d); intervals 600 s\n",
	    hop50, HOPS_CHAIN, against[HOPS_WRITES / 2],
	    along[HOPS_WRITES / 2], HOPS_WRITES);
}

/*
 * Network scale (--only-net runs it alone): NET_NODES kithd, each with a
 * key of its own, in a random sparse connected graph drawn from a seed
 * (--seed; each node lists 1 to NET_LISTS others), with rounds every
 * NET_INTERVAL_S.  First a single hop and one write's way to every node,
 * as bench_hops times them.  Then every node writes NET_RECORDS requests,
 * NET_BATCH a commit, a batch on each node in turn, while the network
 * runs; the figures are how long until every node holds every record, and
 * what the sessions moved to get them there.
 */
#define NET_RECORDS	200	/* each node writes */
#define NET_INTERVAL_S	10
#define NET_WAIT_S	600	/* not all converged by then fails the run */
#define NET_SETTLE_S	60	/* sessions still open after this are left out */
#define NET_SEED	1	/* the graph, unless --seed */

/*
 * Draw ${h}'s lists from ${seed}: node i lists 1 to NET_LISTS others,
 * never one that lists it, the first of them after i, so that every node
 * reaches the last one: the graph is connected.
 */
static void
net_graph(struct hops_net *h, unsigned seed)
{
	unsigned r = seed;
	size_t i, j, want, tries;

	for (i = 0; i < h->n; i++) {
		want = 1 + (size_t)rand_r(&r) % NET_LISTS;
		if (i + 1 < h->n)
			h->lists[i][h->nlists[i]++] = i + 1 +
			    (size_t)rand_r(&r) % (h->n - 1 - i);
		for (tries = 0; h->nlists[i] < want && tries < 8 * h->n;
		    tries++) {
			j = (size_t)rand_r(&r) % h->n;
			if (j != i && !hops_linked(h, i, j))
				h->lists[i][h->nlists[i]++] = j;
		}
		if (h->nlists[i] == 0)
			die("net: a node lists no other", KITH_EINVAL);
	}
}

/*
 * One node's client sessions so far, from its log, by the node they were
 * with (its index, from the port): each session is logged once, by the
 * side that started it, so these count every byte once.
 */
struct net_log {
	size_t started[NET_NODES];
	size_t ended[NET_NODES];	/* "sync end", or a failure */
	double bytes;			/* frames both ways, of those ended */
	size_t sessions;		/* ended well */
};

static void
net_log_read(const struct hops_net *h, size_t i, struct net_log *nl)
{
	static const char at[] = "peer=tcp://127.0.0.1:";
	char line[2048];
	const char *p;
	double in, out;
	long j;
	FILE *f;

	memset(nl, 0, sizeof(*nl));
	if ((f = fopen(h->d[i].log, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((p = strstr(line, at)) == NULL)
			continue;
		j = (strtol(p + strlen(at), NULL, 10) - port_base) / 2;
		if (j < 0 || (size_t)j >= h->n)
			continue;
		if (strstr(line, "sync start") != NULL &&
		    strstr(line, "role=client") != NULL) {
			nl->started[j]++;
		} else if (strstr(line, "sync end") != NULL &&
		    strstr(line, "role=client") != NULL) {
			nl->ended[j]++;
			if (line_value(line, "bytes_in", &in) &&
			    line_value(line, "bytes_out", &out)) {
				nl->bytes += in + out;
				nl->sessions++;
			}
		} else if (strstr(line, "peer error") != NULL &&
		    strstr(line, "retry in") != NULL) {
			/* The client's failures; not one repeated in a row. */
			nl->ended[j]++;
		}
	}
	fclose(f);
}

/*
 * Wait until every client session ${h}'s nodes had started has ended
 * (kithd logs a session's bytes at its end), or NET_SETTLE_S passed.  Set
 * ${*sessions} to the sessions that ended well; ${*open} to those of the
 * started ones still open.  Return the frame bytes of those that ended.
 */
static double
net_settle(const struct hops_net *h, size_t *sessions, size_t *open)
{
	static struct net_log then[NET_NODES], now;
	double bytes, t0 = now_s();
	size_t i, j;

	for (i = 0; i < h->n; i++)
		net_log_read(h, i, &then[i]);
	for (;;) {
		bytes = 0;
		*sessions = *open = 0;
		for (i = 0; i < h->n; i++) {
			net_log_read(h, i, &now);
			bytes += now.bytes;
			*sessions += now.sessions;
			/* A node has one session at a time with each other. */
			for (j = 0; j < h->n; j++)
				if (now.ended[j] < then[i].started[j])
					*open += then[i].started[j] -
					    now.ended[j];
		}
		if (*open == 0 || now_s() - t0 > NET_SETTLE_S)
			return bytes;
		nap_ms(100);
	}
}

/* The largest private memory among ${h}'s kithd, if above ${*peak_kb}. */
static void
net_memory(const struct hops_net *h, long *peak_kb)
{
	long kb;

	for (size_t i = 0; i < h->n; i++)
		if ((kb = proc_rss_anon_kb(h->d[i].pid)) > *peak_kb)
			*peak_kb = kb;
}

/* The CPU ${h}'s kithd have used, in seconds. */
static double
net_cpu(const struct hops_net *h)
{
	double s = 0;

	for (size_t i = 0; i < h->n; i++)
		s += proc_cpu_s(h->d[i].pid);
	return s;
}

static void
bench_net(const char *kithd, const char *top, unsigned seed, double verify)
{
	static struct hops_net h;
	double hop[HOPS_WRITES], all[HOPS_WRITES], hop50;
	double t0, t_last = 0, t_end, b0, b1, rec_bytes, cpu0, cpu1;
	uint64_t base[NET_NODES], last;
	uint8_t id[KITH_ID_LEN];
	struct record *rec;
	const uint8_t *body;
	size_t i, k, far, diam = 0, lines = 0, total, held, s0, s1, open;
	size_t len, blen;
	long peak_kb = 0;
	char name[64];
	int rc;

	memset(&h, 0, sizeof(h));
	h.n = NET_NODES;
	h.interval_s = NET_INTERVAL_S;
	net_graph(&h, seed);
	for (i = 0; i < h.n; i++) {
		lines += h.nlists[i];
		if ((far = hops_far(&h, i)) > diam)
			diam = far;
	}
	fprintf(stderr, "kith-bench: net: %d nodes, seed %u: %zu peer lines, "
	    "%zu hops across, interval %d s\n", NET_NODES, seed, lines, diam,
	    NET_INTERVAL_S);
	hops_start(&h, kithd, top, "net");

	/* One write at a time, as bench_hops; the single hop along a line. */
	hops_from(&h, 0, all, hop);
	qsort(hop, HOPS_WRITES, sizeof(*hop), cmp_double);
	hop50 = hop[HOPS_WRITES / 2];
	snprintf(name, sizeof(name), "net%d_single_hop", NET_NODES);
	emit_spread(name, hop, HOPS_WRITES, 0, 0);
	snprintf(name, sizeof(name), "net%d_one_write_all", NET_NODES);
	hops_spread(&h, name, hop50);

	/* Every node writes, round after round, while the network runs. */
	b0 = net_settle(&h, &s0, &open);
	for (i = 0; i < h.n; i++)
		if ((rc = store_log_last(h.st[i], &base[i])) != 0)
			die("net: change log", rc);
	total = h.n * NET_RECORDS;
	cpu0 = net_cpu(&h);
	t0 = now_s();
	for (k = 0; k < NET_RECORDS; k += NET_BATCH) {
		for (i = 0; i < h.n; i++)
			t_last = hops_put(&h, i, NET_BATCH, id);
		net_memory(&h, &peak_kb);
	}
	/* Each node's change log counts each record it takes in, once. */
	for (k = 0; ; k++) {
		for (i = 0, held = 0; i < h.n; i++)
			if ((rc = store_log_last(h.st[i], &last)) != 0)
				die("net: change log", rc);
			else
				held += last - base[i] >= total;
		if (held == h.n)
			break;
		if (now_s() - t0 > NET_WAIT_S)
			die("net: not every node holds every record",
			    KITH_ETIMEDOUT);
		if (k % 25 == 0)
			net_memory(&h, &peak_kb);
		nap_ms(20);
	}
	t_end = now_s();
	net_memory(&h, &peak_kb);
	b1 = net_settle(&h, &s1, &open);
	cpu1 = net_cpu(&h);
	if ((rc = store_get(h.st[0], id, &rec)) != 0)
		die("net: a record", rc);
	(void)record_signed(rec, &len);
	body = record_body(rec, &blen);
	rec_bytes = (double)len + (body != NULL ? (double)blen : 0);
	record_free(rec);
	hops_stop(&h);

	/*
	 * Every node checks the signature of every record it did not write:
	 * on this machine's two cores, that is the network's floor.
	 */
	snprintf(name, sizeof(name), "net%d_converge_s", NET_NODES);
	emit(name, t_end - t0, "s", (double)((h.n - 1) * total) /
	    (2 * verify));
	snprintf(name, sizeof(name), "net%d_converge_after_last_write_s",
	    NET_NODES);
	emit(name, t_end - t_last, "s", (double)diam * hop50 / 1000.0);
	snprintf(name, sizeof(name), "net%d_bytes_per_record_per_node",
	    NET_NODES);
	emit(name, (b1 - b0) / (double)((h.n - 1) * total), "bytes",
	    1.15 * rec_bytes);
	/* A node's CPU against its own part of that floor: one core's. */
	snprintf(name, sizeof(name), "net%d_kithd_cpu_per_node_s", NET_NODES);
	emit(name, (cpu1 - cpu0) / (double)h.n, "s",
	    (double)(total - NET_RECORDS) / verify);
	snprintf(name, sizeof(name), "net%d_kithd_peak_private_memory",
	    NET_NODES);
	emit(name, (double)peak_kb / 1024.0, "MiB", 64);
	fprintf(stderr, "kith-bench: net: %zu records (%d a node, %d a "
	    "commit) written in %.1f s; every node held every one %.1f s "
	    "after the first, %.1f s after the last; %zu sessions moved "
	    "%.1f MB, %.0f B a record a node (a record is %.0f B); kithd CPU "
	    "%.1f s in all, %.1f ms a session (both sides)%s\n",
	    total, NET_RECORDS, NET_BATCH, t_last - t0, t_end - t0,
	    t_end - t_last, s1 - s0, (b1 - b0) / 1e6,
	    (b1 - b0) / (double)((h.n - 1) * total), rec_bytes, cpu1 - cpu0,
	    s1 > s0 ? (cpu1 - cpu0) * 1000.0 / (double)(s1 - s0) : 0.0,
	    open > 0 ? "; some sessions never ended, left out" : "");
}

/*
 * The siege: SIEGE_CONNS hostile connections against one kithd, A, while
 * an honest home syncs everything from it.  The honest sync must still
 * finish, and A's private memory stay within SIEGE_LIMIT_MIB of its idle
 * size.
 *
 * The attackers are members (A admits four hostile keys), so ZAP lets
 * them in and only the sync server's own limits stand in their way.  Each
 * key drives SIEGE_PER_KEY connections of one behaviour (RAID_*).  They
 * speak raw libzmq, not transport.c: they must misbehave below its API (a
 * receive queue of one frame in a 4 KiB socket buffer, requests kithd's
 * client never sends), so this is the one place outside the transport
 * module that uses ZeroMQ.
 */
#define SIEGE_RECORDS	20000	/* A's records (--only-siege: --records) */
#define SIEGE_KEYS	4	/* hostile keys, one per behaviour */
#define SIEGE_PER_KEY	25	/* connections per hostile key */
#define SIEGE_CONNS	(SIEGE_KEYS * SIEGE_PER_KEY)
#define SIEGE_RCVBUF	4096	/* a connection's kernel receive buffer */
#define SIEGE_SNDHWM	10000	/* frames a connection queues unsent */
#define SIEGE_BURST	256	/* frames a connection queues a turn */
#define SIEGE_WINDOW	4	/* a reader's requests unanswered, as kithd's */
#define SIEGE_STALL_S	5.0	/* a reader that hears nothing starts over */
#define SIEGE_NICE	10	/* the attackers' share of a busy CPU: small */
#define SIEGE_RAMP_MS	2000	/* the siege's head start */
#define SIEGE_TICK_MS	50	/* A's memory is sampled this often */
#define SIEGE_LIMIT_MIB	64	/* A's memory over its idle size, at most */
#define SIEGE_CAP_MIB	1024	/* past this the siege is called off */
#define SIEGE_SYNC_S	120	/* the honest sync under siege, at most */

/*
 * What the connections of each hostile key do (the value is the key's
 * index).  The flooders never read; the readers keep SIEGE_WINDOW
 * requests unanswered, as kithd's client does.
 */
enum {
	RAID_PULL,	/* HELLO, then whole-range PULLs, as fast as taken */
	RAID_HELLO,	/* HELLO after HELLO, as fast as taken */
	RAID_SLOW,	/* HELLO, then whole-range PULLs; reads one a second */
	RAID_PUSH,	/* PUSHes of ~1 MiB of valid ~16 KiB records */
};

/* One hostile connection. */
struct raider {
	void *z;		/* its DEALER */
	int kind;		/* RAID_* */
	uint32_t reqid;		/* the next request's id */
	int hello;		/* its HELLO is queued on this connection */
	unsigned waiting;	/* RAID_SLOW, RAID_PUSH: requests unanswered */
	double heard;		/* when it last heard, or began to wait */
	double next_read;	/* RAID_SLOW: when it reads again */
};

struct siege {
	struct raider r[SIEGE_CONNS];
	struct syncmsg_hello hello[SIEGE_KEYS];	/* each key's HELLO */
	struct syncmsg_buf out;			/* the frame being built */
	/* RAID_PUSH's author: one chain, dealt out across its connections. */
	const struct kcrypto_key *author;
	struct record_header h;			/* its last record's */
	uint8_t *body;
	size_t blen;
};

/* The siege's process cannot go on: say why and end it (not its parent). */
static void
siege_fail(const char *what)
{

	fprintf(stderr, "kith-bench: siege: %s failed\n", what);
	_exit(70);
}

/*
 * A request body as large as a body may be (KITH_BODY_MAX): public
 * padding fields of up to KITH_VALUE_MAX bytes.  The caller frees it.
 */
static uint8_t *
big_body(size_t *len)
{
	static char pad[KITH_VALUE_MAX + 1];
	struct body *b;
	uint8_t *out;
	char name[16];
	/* Each field costs its value and up to 16 bytes; the map, 64. */
	size_t room = KITH_BODY_MAX - 64, k;
	int rc;

	if ((b = body_new()) == NULL)
		siege_fail("body");
	rc = body_set_str(b, "category", 0, "other");
	for (int i = 0; room > 16; i++) {
		k = room - 16 < KITH_VALUE_MAX ? room - 16 : KITH_VALUE_MAX;
		memset(pad, 'x', k);
		pad[k] = '\0';
		snprintf(name, sizeof(name), "pad%d", i);
		rc |= body_set_str(b, name, 0, pad);
		room -= k + 16;
	}
	if (rc != 0 || body_encode(b, &out, len) != 0 || *len > KITH_BODY_MAX)
		siege_fail("body");
	body_free(b);
	return out;
}

/* Build in ${s}->out a PUSH of the author's next ~SYNCMSG_RECORDS_MAX. */
static void
push_frame(struct siege *s, uint32_t reqid)
{
	struct record *rec;
	uint64_t wall;

	syncmsg_begin(&s->out, SYNCMSG_PUSH, reqid);
	while (s->out.len < SYNCMSG_RECORDS_MAX) {
		/* Each a new entity's genesis, so none ever fills. */
		s->h.seq++;
		wall = HLC_MAKE(hlc_wall_ms(), 0);
		s->h.hlc = wall > s->h.hlc ? wall : s->h.hlc + 1;
		genesis_header(&s->h, kcrypto_key_public(s->author), s->h.seq);
		if (record_sign(&s->h, s->body, s->blen, s->author, &rec) != 0)
			siege_fail("record_sign");
		syncmsg_put_record(&s->out, rec);
		memcpy(s->h.prev, record_id(rec), KITH_ID_LEN);
		record_free(rec);
	}
}

/* Build in ${s}->out the next request of ${r}. */
static void
raider_frame(struct siege *s, const struct raider *r)
{
	static const struct syncmsg_bound start = { 0, { 0 } },
	    infinity = { UINT64_MAX, { 0 } };

	if (!r->hello || r->kind == RAID_HELLO) {
		syncmsg_begin(&s->out, SYNCMSG_HELLO, r->reqid);
		syncmsg_put_hello(&s->out, &s->hello[r->kind], 0);
	} else if (r->kind == RAID_PUSH) {
		push_frame(s, r->reqid);
	} else {
		syncmsg_begin(&s->out, SYNCMSG_PULL, r->reqid);
		syncmsg_put_bound(&s->out, &start);
		syncmsg_put_bound(&s->out, &infinity);
	}
	if (s->out.err != 0)
		siege_fail("frame");
}

/*
 * Queue ${r}'s next requests, a turn's worth: a flooder's until its queue
 * is full, a reader's until SIEGE_WINDOW are unanswered.  (A PUSH that
 * does not fit is lost, and leaves a gap in the chain, not a fork.)
 */
static void
raider_write(struct siege *s, struct raider *r, double now)
{
	int reader = r->kind == RAID_SLOW || r->kind == RAID_PUSH, hello;

	for (int k = 0; k < SIEGE_BURST; k++) {
		if (r->hello && reader && r->waiting >= SIEGE_WINDOW)
			break;
		hello = !r->hello || r->kind == RAID_HELLO;
		raider_frame(s, r);
		if (zmq_send(r->z, s->out.p, s->out.len, ZMQ_DONTWAIT) < 0)
			break;
		r->reqid++;
		if (hello)
			r->hello = 1;
		else if (reader && r->waiting++ == 0)
			r->heard = now;
	}
}

/* Take one reply off ${r}'s socket, if one waits. */
static void
raider_read(struct raider *r, double now)
{
	struct syncmsg m;
	zmq_msg_t msg;
	int type;

	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, r->z, ZMQ_DONTWAIT) >= 0) {
		r->heard = now;
		r->next_read = now + 1.0;
		type = syncmsg_parse(zmq_msg_data(&msg), zmq_msg_size(&msg),
		    &m) == 0 ? m.type : 0;
		if (type == SYNCMSG_ERROR) {
			/* Refused, or cut: start over on libzmq's reconnect. */
			r->hello = 0;
			r->waiting = 0;
		} else if (type != 0 && type != SYNCMSG_WELCOME &&
		    r->waiting > 0) {
			r->waiting--;
		}
	}
	zmq_msg_close(&msg);
}

/* What ${r} waits for at ${now}: ZMQ_POLLIN, ZMQ_POLLOUT or both. */
static short
raider_events(const struct raider *r, double now)
{

	switch (r->kind) {
	case RAID_PULL:
	case RAID_HELLO:
		return ZMQ_POLLOUT;
	case RAID_SLOW:
		return (now >= r->next_read ? ZMQ_POLLIN : 0) |
		    (!r->hello || r->waiting < SIEGE_WINDOW ? ZMQ_POLLOUT : 0);
	default:
		return ZMQ_POLLIN |
		    (!r->hello || r->waiting < SIEGE_WINDOW ? ZMQ_POLLOUT : 0);
	}
}

/* A DEALER to ${ep}, whose CURVE key is ${server_pk}, as ${key}. */
static void *
raider_open(void *ctx, const char *ep, const uint8_t server_pk[32],
    const struct kcrypto_key *key)
{
	int one = 1, zero = 0, rcvbuf = SIEGE_RCVBUF, sndhwm = SIEGE_SNDHWM;
	uint8_t pk[32], sk[32];
	void *z;
	int bad;

	if ((z = zmq_socket(ctx, ZMQ_DEALER)) == NULL ||
	    kcrypto_key_x25519(key, pk, sk) != 0)
		siege_fail("socket");
	/* A receive queue of one frame: one that does not read, does not. */
	bad = zmq_setsockopt(z, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(z, ZMQ_RCVHWM, &one, sizeof(one)) != 0 ||
	    zmq_setsockopt(z, ZMQ_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0 ||
	    zmq_setsockopt(z, ZMQ_SNDHWM, &sndhwm, sizeof(sndhwm)) != 0 ||
	    zmq_setsockopt(z, ZMQ_CURVE_SERVERKEY, server_pk, 32) != 0 ||
	    zmq_setsockopt(z, ZMQ_CURVE_PUBLICKEY, pk, 32) != 0 ||
	    zmq_setsockopt(z, ZMQ_CURVE_SECRETKEY, sk, 32) != 0 ||
	    zmq_connect(z, ep) != 0;
	kcrypto_wipe(sk, sizeof(sk));
	if (bad)
		siege_fail("socket");
	return z;
}

/*
 * The siege's own process: SIEGE_CONNS connections to node ${d} as the
 * SIEGE_KEYS hostile ${keys} of network ${network}, until SIGTERM.  Never
 * returns.  Reconnecting after a cut is left to libzmq.
 */
static void
siege_run(const struct daemon_proc *d, struct kcrypto_key *const *keys,
    const uint8_t *network)
{
	static struct siege s;
	zmq_pollitem_t items[SIEGE_CONNS];
	uint8_t server_pk[32];
	struct raider *r;
	double now;
	void *ctx;

	/*
	 * Attackers would run elsewhere; here they take a small share of a
	 * busy CPU, so that the honest sync's time measures kithd, not two
	 * cores shared three ways.
	 */
	if (setpriority(PRIO_PROCESS, 0, SIEGE_NICE) != 0)
		siege_fail("setpriority");
	if ((ctx = zmq_ctx_new()) == NULL ||
	    kcrypto_x25519_public(d->pk, server_pk) != 0)
		siege_fail("context");
	for (int k = 0; k < SIEGE_KEYS; k++) {
		memcpy(s.hello[k].network, network, KITH_NETWORK_LEN);
		memcpy(s.hello[k].key, kcrypto_key_public(keys[k]),
		    KITH_KEY_LEN);
		snprintf(s.hello[k].name, sizeof(s.hello[k].name), "siege%d",
		    k);
	}
	s.author = keys[RAID_PUSH];
	memcpy(s.h.network, network, KITH_NETWORK_LEN);
	s.h.kind = KITH_KIND_REQUEST;
	s.body = big_body(&s.blen);
	memset(items, 0, sizeof(items));
	for (int i = 0; i < SIEGE_CONNS; i++) {
		r = &s.r[i];
		r->kind = i / SIEGE_PER_KEY;
		r->reqid = 1;
		r->z = raider_open(ctx, d->ep, server_pk, keys[r->kind]);
		items[i].socket = r->z;
	}
	for (;;) {
		now = now_s();
		for (int i = 0; i < SIEGE_CONNS; i++)
			items[i].events = raider_events(&s.r[i], now);
		if (zmq_poll(items, SIEGE_CONNS, 100) < 0)
			continue;	/* EINTR */
		now = now_s();
		for (int i = 0; i < SIEGE_CONNS; i++) {
			r = &s.r[i];
			if (items[i].revents & ZMQ_POLLIN)
				raider_read(r, now);
			/* Answers lost with a cut connection never come. */
			if (r->waiting > 0 && now - r->heard > SIEGE_STALL_S) {
				r->hello = 0;
				r->waiting = 0;
			}
			if (items[i].revents & ZMQ_POLLOUT)
				raider_write(&s, r, now);
		}
	}
}

static int
count_one(void *arg, const struct record *rec)
{

	(void)rec;
	(*(size_t *)arg)++;
	return 0;
}

/* Records in the store at ${dir} whose hlc is below ${hlc}. */
static size_t
store_count_before(const char *dir, uint64_t hlc)
{
	struct store *st;
	size_t k = 0;
	int rc;

	if ((st = store_open(dir, STORE_RDONLY, 0, &rc)) == NULL)
		return 0;
	if (store_range(st, 0, NULL, hlc, NULL, count_one, &k) != 0)
		k = 0;
	store_close(st);
	return k;
}

/*
 * Lines of ${log} that hold ${word}, but for the "sync end" summaries
 * (they repeat what another line logged).
 */
static size_t
log_count(const char *log, const char *word)
{
	char line[2048];
	size_t k = 0;
	FILE *f;

	if ((f = fopen(log, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		k += strstr(line, word) != NULL && strstr(line, "sync end") ==
		    NULL;
	fclose(f);
	return k;
}

/*
 * The siege (see SIEGE_*), with A's store ${n} records by the honest
 * ${keys}.  Return 0, or 1 if the honest sync failed or came up short
 * under siege, or the siege itself failed (said on stderr).
 */
static int
bench_siege(const char *kithd, const char *top,
    struct kcrypto_key *const *keys, size_t n)
{
	struct kcrypto_key *hostile[SIEGE_KEYS];
	struct sampler smp = { 0 };
	struct daemon_proc a;
	struct ingest_run run;
	struct sync_stats s0, s1;
	struct store *st;
	char a_home[4300], b_home[4300], c_home[4300];
	char a_store[4400], b_store[4400], c_store[4400];
	uint8_t seed[32], net[KITH_NETWORK_LEN];
	uint64_t from;
	size_t want, held, took;
	double t0, t1, cpu, ended, v;
	long idle_kb, peak_kb;
	pid_t siege;
	int rc, status, alone;

	/* A: the honest authors' records, and the hostile keys admitted. */
	snprintf(a_home, sizeof(a_home), "%s/siege", top);
	snprintf(a_store, sizeof(a_store), "%s/store", a_home);
	mkdir(a_home, 0700);
	ingest(a_store, keys, n, &run);
	if ((st = store_open(a_store, 0, 0, &rc)) == NULL ||
	    (rc = store_network(st, net)) != 0)
		die(a_store, rc);
	for (int k = 0; k < SIEGE_KEYS; k++) {
		memset(seed, 0x20 + k, sizeof(seed));
		if ((hostile[k] = kcrypto_key_from_seed(seed)) == NULL)
			die("key", KITH_ENOMEM);
		admit(st, keys[0], kcrypto_key_public(hostile[k]));
	}
	store_close(st);
	snprintf(b_home, sizeof(b_home), "%s/siege-b", top);
	snprintf(b_store, sizeof(b_store), "%s/store", b_home);
	snprintf(c_home, sizeof(c_home), "%s/siege-c", top);
	snprintf(c_store, sizeof(c_store), "%s/store", c_home);
	home_like(b_home, a_store);
	home_like(c_home, a_store);
	port_base += 4;
	daemon_start(&a, kithd, a_home, 0, NULL);

	/* Without the siege: honest B, empty, syncs everything from A. */
	t0 = now_s();
	if ((rc = client_sync(b_store, &a, 0, &s0, &cpu)) != 0)
		die("siege: honest sync without the siege", rc);
	t0 = now_s() - t0;
	if (records_in(b_store) != records_in(a_store))
		die("siege: honest sync without the siege incomplete",
		    KITH_EINVAL);
	/* A at rest: B's session ended there too. */
	for (ended = now_s() + 10; now_s() < ended &&
	    !log_value(a.log, "sync end", "received", &v); )
		nap_ms(10);
	idle_kb = proc_rss_anon_kb(a.pid);
	fprintf(stderr, "kith-bench: siege: honest B synced %llu records in "
	    "%.2f s; kithd A idles at %.1f MiB; %d hostile connections "
	    "begin\n", (unsigned long long)s0.received, t0, idle_kb / 1024.0,
	    SIEGE_CONNS);

	/* The siege, in a process of its own: its memory is not this one's. */
	from = HLC_MAKE(hlc_wall_ms(), 0);	/* A's own records are older */
	if ((siege = spawn()) == 0)
		siege_run(&a, hostile, net);
	smp.cap_kb = idle_kb + SIEGE_CAP_MIB * 1024L;
	smp.cap_pid = siege;
	sampler_start(&smp, a.pid, SIEGE_TICK_MS);
	nap_ms(SIEGE_RAMP_MS);
	/* Under it: honest C, empty, syncs everything from A. */
	t1 = now_s();
	rc = client_sync(c_store, &a, t1 + SIEGE_SYNC_S, &s1, &cpu);
	t1 = now_s() - t1;
	peak_kb = sampler_stop(&smp);
	status = child_stop(siege);
	/* SIGTERM, ours or the cap's, ends it; anything else is a failure. */
	alone = !WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM;
	daemon_stop(&a);

	want = store_count_before(a_store, from);
	held = store_count_before(c_store, from);
	took = records_in(a_store) - records_in(b_store);
	fprintf(stderr, "kith-bench: siege: kithd A logged %zu dropped, %zu "
	    "refused, %zu closed, %zu sessions started; it took in %zu siege "
	    "records, honest C %llu records in %.1f s (%.1f s without the "
	    "siege)\n", log_count(a.log, "dropped"),
	    log_count(a.log, "refused"), log_count(a.log, "closed"),
	    log_count(a.log, "sync start"), took,
	    (unsigned long long)s1.received, t1, t0);
	if (smp.capped > 0)
		fprintf(stderr, "kith-bench: siege: called off when kithd A "
		    "passed %d MiB over idle%s\n", SIEGE_CAP_MIB,
		    smp.capped > 1 ? "; kithd A killed when it went on past "
		    "twice that" : "");
	if (rc == 0 && held == want)
		emit("siege_honest_sync_s", t1, "s", t0);
	emit("siege_kithd_memory_over_idle", (double)(peak_kb - idle_kb) /
	    1024.0, "MiB", SIEGE_LIMIT_MIB);
	for (int k = 0; k < SIEGE_KEYS; k++)
		kcrypto_key_free(hostile[k]);
	if (alone)
		fprintf(stderr, "kith-bench: FAIL: the siege's process ended "
		    "before it was stopped (status %d)\n", status);
	if (rc != 0)
		fprintf(stderr, "kith-bench: FAIL: honest C's sync under siege "
		    "failed: %s\n", kith_strerror(rc));
	else if (held != want)
		fprintf(stderr, "kith-bench: FAIL: under siege, honest C "
		    "synced %zu of the %zu records A held\n", held, want);
	return alone || rc != 0 || held != want;
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
	char top[4096], dir[4400];
	size_t n = 0;
	int keep = 0, no_sync = 0, only_siege = 0, only_hops = 0;
	int only_net = 0, only_sync = 0;
	const char *again = NULL;
	unsigned net_seed = NET_SEED;
	int n_given = 0, failed = 0;
	char kithd[4096], *slash;
	struct ingest_run ig;
	double sign, verify, write, m_first, m_mid, m_end;
	uint8_t seed[32];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
			n = strtoul(argv[++i], NULL, 10);
			n_given = 1;
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			base = argv[++i];
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep = 1;
		} else if (strcmp(argv[i], "--no-sync") == 0) {
			no_sync = 1;
		} else if (strcmp(argv[i], "--only-siege") == 0) {
			only_siege = 1;
		} else if (strcmp(argv[i], "--only-hops") == 0) {
			only_hops = 1;
		} else if (strcmp(argv[i], "--only-net") == 0) {
			only_net = 1;
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			net_seed = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--only-sync") == 0) {
			only_sync = 1;
		} else if (strcmp(argv[i], "--again") == 0 && i + 1 < argc) {
			again = argv[++i];
		} else {
			fprintf(stderr, "usage: kith-bench [--records N] "
			    "[--dir DIR] [--keep] [--no-sync] "
			    "[--only-siege] [--only-hops] [--only-net] "
			    "[--seed N] [--only-sync] [--again TOP]\n");
			return strcmp(argv[i], "--help") == 0 ? 0 : 64;
		}
	}
	if (!n_given)
		n = only_siege ? SIEGE_RECORDS : 1000000;
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
	scratch = top;

	node_key = keys[0];
	snprintf(kithd, sizeof(kithd), "%s", argv[0]);
	if ((slash = strrchr(kithd, '/')) != NULL)
		strcpy(slash + 1, "kithd");
	else
		strcpy(kithd, "./kithd");
	/*
	 * Below the net run's ports (20000 up) and below Linux's ephemeral
	 * range (32768 up): the client ends of the net run's thousands of
	 * connections took a port a later daemon was to listen on.
	 */
	port_base = 10000 + (int)(getpid() % 800) * 12;
	if (only_hops) {
		bench_hops(kithd, top);
		goto done;
	}
	sign = raw_sign_rate(keys[0]);
	verify = raw_verify_rate(keys[0]);
	emit("raw_sign_1core", sign, "ops/s", sign);
	emit("raw_verify_1core", verify, "ops/s", verify);
	if (only_net) {
		bench_net(kithd, top, net_seed, verify);
		goto done;
	}
	if (again != NULL) {
		char a_home[4300], b_home[4300];
		FILE *f;

		snprintf(dir, sizeof(dir), "%s/record_bytes", again);
		if ((f = fopen(dir, "r")) == NULL ||
		    fscanf(f, "%lf", &ig.record_bytes) != 1)
			die(dir, KITH_ENOTFOUND);
		fclose(f);
		snprintf(a_home, sizeof(a_home), "%s/a", again);
		snprintf(b_home, sizeof(b_home), "%s/b%zu", again, n);
		identical_sync(kithd, a_home, b_home, n);
		delta_sync(kithd, a_home, b_home, keys, &ig);
		goto done;
	}
	if (only_sync) {
		char a_home[4300], b_home[4300];
		FILE *f;

		snprintf(a_home, sizeof(a_home), "%s/a", top);
		mkdir(a_home, 0700);
		snprintf(dir, sizeof(dir), "%s/store", a_home);
		ingest(dir, keys, n, &ig);
		snprintf(dir, sizeof(dir), "%s/record_bytes", top);
		if ((f = fopen(dir, "w")) != NULL) {
			fprintf(f, "%.3f\n", ig.record_bytes);
			fclose(f);
		}
		snprintf(b_home, sizeof(b_home), "%s/b%zu", top, n);
		scale_point(kithd, a_home, b_home, n, &ig, verify);
		delta_sync(kithd, a_home, b_home, keys, &ig);
		goto done;
	}

	/* The ingest first, so its memory figure starts from a clean heap. */
	if (!only_siege) {
		snprintf(dir, sizeof(dir), "%s/a", top);
		mkdir(dir, 0700);
		snprintf(dir, sizeof(dir), "%s/a/store", top);
		ingest(dir, keys, n, &ig);
		snprintf(dir, sizeof(dir), "%s/write", top);
		write = bench_write(dir, keys[0], 100000);
		emit("create_sign_store_batched", write, "records/s", sign);
		snprintf(dir, sizeof(dir), "%s/merge", top);
		bench_merge(dir, keys[0], 1000, &m_first, &m_mid, &m_end);
		emit("merge_write_first_100_versions_ms", m_first, "ms",
		    m_first);
		emit("merge_write_at_1000_versions_ms", m_mid, "ms", m_first);
		emit("merge_write_at_4000_versions_ms", m_end, "ms", m_first);
		emit("apply_verify_store_2cores", ig.rate, "records/s", verify);
		snprintf(dir, sizeof(dir), "%s/a/store", top);
		store_usage(dir, &ig, 1);
		emit("ingest_peak_private_memory", (double)ig.peak_kb / 1024.0,
		    "MiB", 64);
		fprintf(stderr, "kith-bench: ingest of %zu records (%d per "
		    "entity, %d authors, batches of %d)\n", ig.records,
		    VERSIONS, NAUTHORS, INGEST_BATCH);
	}

	if (!no_sync || only_siege) {
		static const size_t curve[] = { 10000, 100000 };
		char a_home[4300], b_home[4300];
		struct ingest_run small;

		if (!only_siege) {
			/* The scale curve: 10k and 100k below n, then n. */
			for (size_t i = 0; i < 2 && curve[i] < n; i++) {
				snprintf(a_home, sizeof(a_home), "%s/s%zu", top,
				    curve[i]);
				mkdir(a_home, 0700);
				snprintf(dir, sizeof(dir), "%s/store", a_home);
				ingest(dir, keys, curve[i], &small);
				store_usage(dir, &small, 0);
				snprintf(b_home, sizeof(b_home), "%s/b%zu", top,
				    curve[i]);
				scale_point(kithd, a_home, b_home, curve[i],
				    &small, verify);
			}
			snprintf(a_home, sizeof(a_home), "%s/a", top);
			snprintf(b_home, sizeof(b_home), "%s/b%zu", top, n);
			scale_point(kithd, a_home, b_home, n, &ig, verify);
			delta_sync(kithd, a_home, b_home, keys, &ig);
			snprintf(dir, sizeof(dir), "%s/a/store", top);
			feed_latency(kithd, top, dir, keys[3], 1000);
			bench_hops(kithd, top);
			bench_net(kithd, top, net_seed, verify);
		}
		failed = bench_siege(kithd, top, keys, only_siege ? n :
		    SIEGE_RECORDS);
	}

done:
	if (keep)
		fprintf(stderr, "kith-bench: stores kept in %s\n", top);
	else
		nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < NAUTHORS; i++)
		kcrypto_key_free(keys[i]);
	return failed;
}
