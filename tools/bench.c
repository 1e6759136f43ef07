/*
 * kith-bench: the figures `make bench` prints, one JSON object a line:
 *   {"name":..., "value":..., "unit":..., "limit":..., "ratio":...}
 * Each figure is set against a raw library rate measured in the same run, so
 * the ratios mean something on a shared, noisy machine (DESIGN.md,
 * Performance frame).
 *
 * usage: kith-bench [--records N] [--dir DIR]
 *   --records N  records in the large ingest run (default 1000000)
 *   --dir DIR    where to put the benchmark stores (default $TMPDIR or /tmp);
 *                use a real disk: commits are durable, as in a node.
 *   --keep       leave the stores there, for mdb_stat, and print where
 */
#include <errno.h>
#include <ftw.h>
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
#include "recfile.h"
#include "record.h"
#include "store.h"

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

/* A request body of typical size, with public and personal fields. */
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
		    body_set_str(b, "name", 1, "A. Person") |
		    body_set_str(b, "phone", 1, phone);
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

static struct store *
bench_store(const char *dir, const struct kcrypto_key *admin)
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
	memset(h.entity, 0xc0, sizeof(h.entity));
	if ((rc = record_sign(&h, b, blen, admin, &ch)) != 0 ||
	    (rc = store_init_network(st, ch)) != 0)
		die("charter", rc);
	record_free(ch);
	free(b);
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

/* Create + sign + store, batched, through store_write. */
static double
bench_write(const char *dir, const struct kcrypto_key *key, size_t n)
{
	struct store_draft *d;
	struct store *st;
	uint8_t **bodies;
	double t0, t;
	size_t i, j;
	int rc;

	st = bench_store(dir, key);
	if ((d = calloc(WRITE_BATCH, sizeof(*d))) == NULL ||
	    (bodies = calloc(WRITE_BATCH, sizeof(*bodies))) == NULL)
		die("write", KITH_ENOMEM);
	t = 0;
	for (i = 0; i < n; i += WRITE_BATCH) {
		for (j = 0; j < WRITE_BATCH; j++) {
			d[j].kind = KITH_KIND_REQUEST;
			kcrypto_random(d[j].entity, KITH_ENTITY_LEN);
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
	double rate;		/* records/s, file to committed store */
	double bytes_per_record;
	long peak_kb;
	size_t records;
};

static void
make_records(const char *path, const uint8_t *network,
    struct kcrypto_key *const *keys, size_t n)
{
	struct record_header h;
	struct record *rec;
	uint64_t seq[NAUTHORS] = { 0 }, hlc;
	uint8_t last[KITH_ID_LEN] = { 0 }, *b;
	size_t k, blen;
	FILE *f;
	int rc;

	if ((f = fopen(path, "wb")) == NULL ||
	    recfile_write_start(f, network) != 0)
		die(path, KITH_EIO);
	memset(&h, 0, sizeof(h));
	memcpy(h.network, network, KITH_NETWORK_LEN);
	hlc = HLC_MAKE(hlc_wall_ms() - 86400000ULL, 0);
	for (k = 0; k < n; k++) {
		uint64_t ent = k / VERSIONS;
		int a = (int)(ent % NAUTHORS), v = (int)(k % VERSIONS);

		h.seq = ++seq[a];
		h.hlc = hlc++;
		h.kind = KITH_KIND_REQUEST;
		memset(h.entity, 0, sizeof(h.entity));
		memcpy(h.entity, &ent, sizeof(ent));
		h.entity[15] = 0xe1;	/* never a zero id */
		h.nparents = v == 0 ? 0 : 1;
		memcpy(h.parents[0], last, KITH_ID_LEN);
		b = request_body(ent, v, &blen);
		if ((rc = record_sign(&h, b, blen, keys[a], &rec)) != 0)
			die("sign", rc);
		free(b);
		memcpy(last, record_id(rec), KITH_ID_LEN);
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

	st = bench_store(dir, keys[0]);
	if ((rc = store_network(st, net)) != 0)
		die("network", rc);
	snprintf(path, sizeof(path), "%s.kith", dir);
	make_records(path, net, keys, n);
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
	int keep = 0;
	struct ingest_run ig;
	double sign, verify, write;
	uint8_t seed[32];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
			n = strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			base = argv[++i];
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep = 1;
		} else {
			fprintf(stderr, "usage: kith-bench [--records N] "
			    "[--dir DIR] [--keep]\n");
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

	sign = raw_sign_rate(keys[0]);
	verify = raw_verify_rate(keys[0]);
	emit("raw_sign_1core", sign, "ops/s", sign);
	emit("raw_verify_1core", verify, "ops/s", verify);

	/* The ingest first, so its memory figure starts from a clean heap. */
	snprintf(dir, sizeof(dir), "%s/ingest", top);
	ingest(dir, keys, n, &ig);
	snprintf(dir, sizeof(dir), "%s/write", top);
	write = bench_write(dir, keys[0], 100000);
	emit("create_sign_store_batched", write, "records/s", sign);
	emit("apply_verify_store_2cores", ig.rate, "records/s", verify);
	emit("store_bytes_per_record", ig.bytes_per_record, "bytes", 600);
	emit("ingest_peak_private_memory", (double)ig.peak_kb / 1024.0, "MiB",
	    64);
	fprintf(stderr, "kith-bench: ingest of %zu records (%d per entity, "
	    "%d authors, batches of %d)\n", ig.records, VERSIONS, NAUTHORS,
	    INGEST_BATCH);

	if (keep)
		fprintf(stderr, "kith-bench: stores kept in %s\n", top);
	else
		nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < NAUTHORS; i++)
		kcrypto_key_free(keys[i]);
	return 0;
}
