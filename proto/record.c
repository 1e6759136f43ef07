#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "kcrypto.h"
#include "record.h"

/* The header array's length: the number of fields in version 2. */
#define HEADER_FIELDS	14

struct record {
	struct record_header hdr;
	uint8_t id[KITH_ID_LEN];
	uint8_t *sh;		/* signed header: header || bin(signature) */
	size_t shlen;
	size_t hlen;		/* the header part of sh */
	uint8_t *body;		/* NULL if absent */
	size_t blen;
};

static const uint8_t domain[] = RECORD_SIG_DOMAIN;	/* with its NUL */
static const uint8_t zero[KITH_ID_LEN];

void
record_entity_derive(const uint8_t network[KITH_NETWORK_LEN], uint64_t kind,
    const uint8_t author[KITH_KEY_LEN], const uint8_t nonce[KITH_NONCE_LEN],
    uint8_t out[KITH_ENTITY_LEN])
{
	static const char edomain[] = RECORD_ENTITY_DOMAIN;
	uint8_t buf[sizeof(edomain) + KITH_NETWORK_LEN + 2 + KITH_KEY_LEN +
	    KITH_NONCE_LEN], h[KITH_HASH_LEN], *p = buf;

	/* sizeof(edomain) counts the NUL, which is part of the input. */
	memcpy(p, edomain, sizeof(edomain));
	p += sizeof(edomain);
	memcpy(p, network, KITH_NETWORK_LEN);
	p += KITH_NETWORK_LEN;
	*p++ = (uint8_t)(kind >> 8);
	*p++ = (uint8_t)kind;
	memcpy(p, author, KITH_KEY_LEN);
	p += KITH_KEY_LEN;
	memcpy(p, nonce, KITH_NONCE_LEN);
	kcrypto_hash(h, buf, sizeof(buf));
	memcpy(out, h, KITH_ENTITY_LEN);
}

/* Kinds that never start an entity: they live in others' (or a key's). */
static int
never_genesis(uint64_t kind)
{

	return kind == KITH_KIND_MEMBER || kind == KITH_KIND_REVOKE ||
	    kind == KITH_KIND_ERASE;
}

/* Check rules that both building and decoding enforce. */
static int
header_check(const struct record_header *h)
{
	uint8_t ent[KITH_ENTITY_LEN];
	int first = memcmp(h->prev, zero, KITH_ID_LEN) == 0;

	if (h->version != KITH_PROTO_VERSION)
		return KITH_EVERSION;
	if (h->nparents > KITH_PARENTS_MAX || h->naudience > KITH_AUDIENCE_MAX ||
	    h->body_len > KITH_BODY_MAX)
		return KITH_ETOOBIG;
	/* Sequence numbers start at 1; the kind is a small positive number. */
	if (h->seq == 0 || h->kind == 0 || h->kind > 0xffff)
		return KITH_ERANGE;
	/* The author's first record names no predecessor; every other does. */
	if (first != (h->seq == 1))
		return KITH_ERANGE;
	/*
	 * A charter starts its network and its author's chain; membership,
	 * charters and erasures never expire; a genesis follows nothing.
	 */
	if (h->kind == KITH_KIND_CHARTER && (!h->genesis || h->seq != 1 ||
	    memcmp(h->network, zero, KITH_NETWORK_LEN) != 0))
		return KITH_ERANGE;
	if ((KITH_KIND_IS_MEMBERSHIP(h->kind) || h->kind == KITH_KIND_ERASE) &&
	    h->expiry != 0)
		return KITH_ERANGE;
	if (h->genesis && (never_genesis(h->kind) || h->nparents > 0))
		return KITH_ERANGE;
	if (h->genesis) {
		record_entity_derive(h->network, h->kind, h->author, h->nonce,
		    ent);
		if (memcmp(ent, h->entity, KITH_ENTITY_LEN) != 0)
			return KITH_EGENESIS;
	}
	return 0;
}

static int
header_encode(struct codec_writer *w, const struct record_header *h)
{
	unsigned i;

	codec_put_array(w, HEADER_FIELDS);
	codec_put_uint(w, h->version);
	codec_put_bin(w, h->network, sizeof(h->network));
	codec_put_bin(w, h->author, sizeof(h->author));
	codec_put_uint(w, h->seq);
	codec_put_bin(w, h->prev, sizeof(h->prev));
	codec_put_uint(w, h->hlc);
	codec_put_uint(w, h->kind);
	codec_put_bin(w, h->entity, sizeof(h->entity));
	codec_put_bin(w, h->nonce, h->genesis ? sizeof(h->nonce) : 0);
	codec_put_array(w, h->nparents);
	for (i = 0; i < h->nparents; i++)
		codec_put_bin(w, h->parents[i], KITH_ID_LEN);
	codec_put_array(w, h->naudience);
	for (i = 0; i < h->naudience; i++)
		codec_put_bin(w, h->audience[i], KITH_KEY_LEN);
	codec_put_bin(w, h->body_hash, sizeof(h->body_hash));
	codec_put_uint(w, h->body_len);
	return codec_put_uint(w, h->expiry);
}

/* Read a list of fixed-size byte strings, at most ${max} of them. */
static int
read_list(struct codec_reader *r, uint8_t (*out)[32], unsigned *n,
    unsigned max)
{
	uint32_t count, i;
	int rc;

	if ((rc = codec_read_array(r, &count)) != 0)
		return rc;
	if (count > max)
		return KITH_ETOOBIG;
	for (i = 0; i < count; i++)
		if ((rc = codec_read_fixed(r, out[i], 32)) != 0)
			return rc;
	*n = count;
	return 0;
}

/* Read the nonce: an empty bin, or KITH_NONCE_LEN bytes in a genesis. */
static int
read_nonce(struct codec_reader *r, struct record_header *h)
{
	const uint8_t *p;
	size_t n;
	int rc;

	if ((rc = codec_read_bin(r, &p, &n)) != 0)
		return rc;
	if (n != 0 && n != KITH_NONCE_LEN)
		return KITH_ETYPE;
	h->genesis = n != 0;
	memcpy(h->nonce, n != 0 ? p : zero, KITH_NONCE_LEN);
	return 0;
}

/* Parse the header array at the front of ${r}. */
static int
header_decode(struct codec_reader *r, struct record_header *h)
{
	uint32_t n;
	int rc;

	if ((rc = codec_read_array(r, &n)) != 0)
		return rc;
	if (n == 0)
		return KITH_ETYPE;
	/* Version first, so that a future layout gets the right error. */
	if ((rc = codec_read_uint(r, &h->version)) != 0)
		return rc;
	if (h->version != KITH_PROTO_VERSION)
		return KITH_EVERSION;
	if (n != HEADER_FIELDS)
		return KITH_ETYPE;
	if ((rc = codec_read_fixed(r, h->network, sizeof(h->network))) != 0 ||
	    (rc = codec_read_fixed(r, h->author, sizeof(h->author))) != 0 ||
	    (rc = codec_read_uint(r, &h->seq)) != 0 ||
	    (rc = codec_read_fixed(r, h->prev, sizeof(h->prev))) != 0 ||
	    (rc = codec_read_uint(r, &h->hlc)) != 0 ||
	    (rc = codec_read_uint(r, &h->kind)) != 0 ||
	    (rc = codec_read_fixed(r, h->entity, sizeof(h->entity))) != 0 ||
	    (rc = read_nonce(r, h)) != 0 ||
	    (rc = read_list(r, h->parents, &h->nparents,
	    KITH_PARENTS_MAX)) != 0 ||
	    (rc = read_list(r, h->audience, &h->naudience,
	    KITH_AUDIENCE_MAX)) != 0 ||
	    (rc = codec_read_fixed(r, h->body_hash,
	    sizeof(h->body_hash))) != 0 ||
	    (rc = codec_read_uint(r, &h->body_len)) != 0 ||
	    (rc = codec_read_uint(r, &h->expiry)) != 0)
		return rc;
	return header_check(h);
}

/* Parse a signed header; set the header's and the whole's lengths. */
static int
signed_decode(const uint8_t *p, size_t len, struct record_header *h,
    size_t *hlen, size_t *shlen, const uint8_t **sig)
{
	struct codec_reader r;
	size_t n;
	int rc;

	codec_reader_init(&r, p, len > KITH_SIGNED_MAX ? KITH_SIGNED_MAX : len);
	if ((rc = header_decode(&r, h)) != 0) {
		/* Running into the cap means the header is too long. */
		if (rc == KITH_ETRUNC && len > KITH_SIGNED_MAX)
			rc = KITH_ETOOBIG;
		return rc;
	}
	*hlen = r.off;
	if (*hlen > KITH_HEADER_MAX)
		return KITH_ETOOBIG;
	if ((rc = codec_read_bin(&r, sig, &n)) != 0)
		return rc == KITH_ETRUNC && len > KITH_SIGNED_MAX ?
		    KITH_ETOOBIG : rc;
	if (n != KITH_SIG_LEN)
		return KITH_ETYPE;
	*shlen = r.off;
	return 0;
}

/* Check that ${body} matches the header's length and hash. */
static int
body_check(const struct record_header *h, const uint8_t *body, size_t blen)
{
	uint8_t hash[KITH_HASH_LEN];

	if (blen > KITH_BODY_MAX)
		return KITH_ETOOBIG;
	if (blen != h->body_len)
		return KITH_EBODYLEN;
	kcrypto_hash(hash, body, blen);
	if (memcmp(hash, h->body_hash, sizeof(hash)) != 0)
		return KITH_EBODYHASH;
	return 0;
}

/* Allocate a record holding copies of the signed header and body. */
static struct record *
record_new(const struct record_header *h, const uint8_t *sh, size_t shlen,
    size_t hlen, const uint8_t *body, size_t blen)
{
	struct record *rec;

	if ((rec = calloc(1, sizeof(*rec))) == NULL)
		return NULL;
	rec->hdr = *h;
	rec->shlen = shlen;
	rec->hlen = hlen;
	if ((rec->sh = malloc(shlen)) == NULL)
		goto fail;
	memcpy(rec->sh, sh, shlen);
	if (body != NULL) {
		/* malloc(0) may return NULL; ask for one byte at least. */
		if ((rec->body = malloc(blen ? blen : 1)) == NULL)
			goto fail;
		memcpy(rec->body, body, blen);
		rec->blen = blen;
	}
	kcrypto_hash(rec->id, sh, shlen);
	return rec;
fail:
	record_free(rec);
	return NULL;
}

int
record_sign(const struct record_header *hdr, const uint8_t *body,
    size_t blen, const struct kcrypto_key *key, struct record **out)
{
	struct codec_writer *w = NULL;
	struct record_header h = *hdr;
	uint8_t sig[KITH_SIG_LEN];
	const uint8_t *hb;
	size_t hlen, shlen;
	int rc;

	h.version = KITH_PROTO_VERSION;
	memcpy(h.author, kcrypto_key_public(key), KITH_KEY_LEN);
	h.body_len = blen;
	kcrypto_hash(h.body_hash, body, blen);
	if ((rc = header_check(&h)) != 0)
		goto out;
	if ((w = codec_writer_new()) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	if ((rc = header_encode(w, &h)) != 0)
		goto out;
	hb = codec_writer_data(w, &hlen);
	if (hlen > KITH_HEADER_MAX) {
		rc = KITH_ETOOBIG;
		goto out;
	}
	kcrypto_sign(sig, key, domain, sizeof(domain), hb, hlen);
	if ((rc = codec_put_bin(w, sig, sizeof(sig))) != 0)
		goto out;
	hb = codec_writer_data(w, &shlen);
	if ((*out = record_new(&h, hb, shlen, hlen, body, blen)) == NULL)
		rc = KITH_ENOMEM;
out:
	codec_writer_free(w);
	return rc;
}

int
record_split(const uint8_t *p, size_t len, size_t *shlen)
{
	struct record_header h;
	const uint8_t *sig;
	size_t hlen;

	return signed_decode(p, len, &h, &hlen, shlen, &sig);
}

int
record_decode(const uint8_t *sh, size_t shlen, const uint8_t *body,
    size_t blen, struct record **out)
{
	struct record_header h;
	const uint8_t *sig;
	size_t hlen, used;
	int rc;

	if ((rc = signed_decode(sh, shlen, &h, &hlen, &used, &sig)) != 0)
		return rc;
	if (used != shlen)
		return KITH_ETRAILING;
	if (body != NULL && (rc = body_check(&h, body, blen)) != 0)
		return rc;
	if ((*out = record_new(&h, sh, shlen, hlen, body, blen)) == NULL)
		return KITH_ENOMEM;
	return 0;
}

int
record_verify(const struct record *rec)
{

	return kcrypto_verify(rec->sh + rec->shlen - KITH_SIG_LEN,
	    rec->hdr.author, domain, sizeof(domain), rec->sh, rec->hlen);
}

/* Below this many records a thread costs more than it saves. */
#define BATCH_PER_THREAD	64
#define BATCH_THREADS_MAX	16

/*
 * A pipeline over [0, n): worker threads run work(ctx, i) in index order,
 * while the calling thread hands each result, in order, to consume(ctx, i,
 * rc).  So the caller's work (LMDB inserts) overlaps with the workers'
 * (signing, verifying).
 */
struct pipeline {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	int (*work)(void *, size_t);
	void *ctx;
	int *rcs;
	unsigned char *done;	/* under lock */
	size_t n, next;		/* next index to claim, under lock */
	int stop, waiting;	/* under lock */
};

/* Indexes a worker claims at once: fewer lock round trips and wake-ups. */
#define PIPELINE_CHUNK	32

static void *
pipeline_worker(void *arg)
{
	struct pipeline *p = arg;
	size_t i, first, end;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		if (p->stop || p->next == p->n) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		first = p->next;
		end = first + PIPELINE_CHUNK < p->n ? first + PIPELINE_CHUNK :
		    p->n;
		p->next = end;
		pthread_mutex_unlock(&p->lock);
		/* Each worker writes only its own claimed entries of rcs. */
		for (i = first; i < end; i++)
			p->rcs[i] = p->work(p->ctx, i);
		pthread_mutex_lock(&p->lock);
		for (i = first; i < end; i++)
			p->done[i] = 1;
		if (p->waiting)
			pthread_cond_broadcast(&p->ready);
		pthread_mutex_unlock(&p->lock);
	}
}

/*
 * Run the pipeline on up to ${threads} workers (0: one per online CPU);
 * stop at the first non-zero result of ${consume} and return it (or
 * KITH_ENOMEM).  With too little work for threads, or none to be had,
 * everything runs on the calling thread.  One worker takes the indexes
 * strictly in order.
 */
static int
pipeline_run(size_t n, size_t threads, int (*work)(void *, size_t),
    int (*consume)(void *, size_t, int), void *ctx)
{
	struct pipeline p = { .work = work, .ctx = ctx, .n = n };
	pthread_t tid[BATCH_THREADS_MAX];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i, nt = 0, want, ready = 0;
	int rc = KITH_ENOMEM;

	want = threads != 0 ? threads : cpus > 0 ? (size_t)cpus : 1;
	if (want > BATCH_THREADS_MAX)
		want = BATCH_THREADS_MAX;
	if (want > n / BATCH_PER_THREAD)
		want = n / BATCH_PER_THREAD;
	if ((p.rcs = calloc(n ? n : 1, sizeof(*p.rcs))) == NULL ||
	    (p.done = calloc(n ? n : 1, 1)) == NULL)
		goto out;
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.ready, NULL);
	for (nt = 0; nt < want; nt++)
		if (pthread_create(&tid[nt], NULL, pipeline_worker, &p) != 0)
			break;
	rc = 0;
	for (i = 0; i < n && rc == 0; i++) {
		if (nt == 0) {
			p.rcs[i] = work(ctx, i);
		} else if (i >= ready) {
			/* Wait for i, then take every finished index after. */
			pthread_mutex_lock(&p.lock);
			p.waiting = 1;
			while (!p.done[i])
				pthread_cond_wait(&p.ready, &p.lock);
			p.waiting = 0;
			for (ready = i + 1; ready < n && p.done[ready]; ready++)
				;
			pthread_mutex_unlock(&p.lock);
		}
		rc = consume(ctx, i, p.rcs[i]);
	}
	pthread_mutex_lock(&p.lock);
	p.stop = 1;
	pthread_mutex_unlock(&p.lock);
	while (nt > 0)
		pthread_join(tid[--nt], NULL);
	pthread_cond_destroy(&p.ready);
	pthread_mutex_destroy(&p.lock);
out:
	free(p.rcs);
	free(p.done);
	return rc;
}

struct verify_job {
	struct record *const *recs;
	int *rcs;
	record_verified_fn *fn;
	void *arg;
};

static int
verify_work(void *ctx, size_t i)
{
	struct verify_job *j = ctx;

	return j->recs[i] != NULL ? record_verify(j->recs[i]) : 0;
}

static int
verify_store(void *ctx, size_t i, int rc)
{
	struct verify_job *j = ctx;

	if (j->recs[i] != NULL)
		j->rcs[i] = rc;
	return 0;
}

static int
verify_consume(void *ctx, size_t i, int rc)
{
	struct verify_job *j = ctx;

	return j->recs[i] != NULL ? j->fn(j->arg, i, rc) : 0;
}

void
record_verify_batch(struct record *const *recs, size_t n, int *rcs)
{
	struct verify_job j = { recs, rcs, NULL, NULL };

	/* Only allocation can fail; then check on this thread. */
	if (pipeline_run(n, 0, verify_work, verify_store, &j) != 0)
		for (size_t i = 0; i < n; i++)
			if (recs[i] != NULL)
				rcs[i] = record_verify(recs[i]);
}

int
record_verify_each(struct record *const *recs, size_t n,
    record_verified_fn *fn, void *arg)
{
	struct verify_job j = { recs, NULL, fn, arg };

	return pipeline_run(n, 0, verify_work, verify_consume, &j);
}

struct sign_job {
	const struct record_header *hdrs;
	const uint8_t *const *bodies;
	const size_t *blens;
	const struct kcrypto_key *key;
	struct record **recs;
	uint8_t (*ids)[KITH_ID_LEN];	/* each record's id, kept for the next */
	record_signed_fn *fn;
	void *arg;
};

/* Sign record i, naming record i - 1 (signed just before) as its prev. */
static int
sign_work(void *ctx, size_t i)
{
	struct sign_job *j = ctx;
	struct record_header h = j->hdrs[i];
	int rc;

	if (i > 0)
		memcpy(h.prev, j->ids[i - 1], KITH_ID_LEN);
	if ((rc = record_sign(&h, j->bodies[i], j->blens[i], j->key,
	    &j->recs[i])) == 0)
		memcpy(j->ids[i], j->recs[i]->id, KITH_ID_LEN);
	return rc;
}

static int
sign_consume(void *ctx, size_t i, int rc)
{
	struct sign_job *j = ctx;

	if (rc == 0)
		rc = j->fn(j->arg, i, j->recs[i]);
	record_free(j->recs[i]);
	j->recs[i] = NULL;
	return rc;
}

int
record_sign_batch(const struct record_header *hdrs,
    const uint8_t *const *bodies, const size_t *blens, size_t n,
    const struct kcrypto_key *key, record_signed_fn *fn, void *arg)
{
	struct sign_job j = { hdrs, bodies, blens, key, NULL, NULL, fn, arg };
	size_t i;
	int rc = KITH_ENOMEM;

	if ((j.recs = calloc(n ? n : 1, sizeof(*j.recs))) == NULL ||
	    (j.ids = calloc(n ? n : 1, KITH_ID_LEN)) == NULL)
		goto out;
	/* A chain: one worker signs in order while this thread stores. */
	rc = pipeline_run(n, 1, sign_work, sign_consume, &j);
	/* Records signed past a failure were never consumed. */
	for (i = 0; i < n; i++)
		record_free(j.recs[i]);
out:
	free(j.recs);
	free(j.ids);
	return rc;
}

const struct record_header *
record_header(const struct record *rec)
{

	return &rec->hdr;
}

const uint8_t *
record_id(const struct record *rec)
{

	return rec->id;
}

const uint8_t *
record_signed(const struct record *rec, size_t *len)
{

	*len = rec->shlen;
	return rec->sh;
}

const uint8_t *
record_signature(const struct record *rec)
{

	return rec->sh + rec->shlen - KITH_SIG_LEN;
}

const uint8_t *
record_body(const struct record *rec, size_t *len)
{

	*len = rec->blen;
	return rec->body;
}

int
record_strip(const struct record *rec, struct record **out)
{

	if ((*out = record_new(&rec->hdr, rec->sh, rec->shlen, rec->hlen,
	    NULL, 0)) == NULL)
		return KITH_ENOMEM;
	return 0;
}

const struct record *
record_genesis(struct record *const *recs, size_t n)
{
	const struct record *g = NULL;
	const struct record_header *h;
	size_t i;

	for (i = 0; i < n; i++) {
		h = record_header(recs[i]);
		if (!h->genesis)
			continue;
		if (g == NULL || h->seq < g->hdr.seq || (h->seq == g->hdr.seq &&
		    memcmp(recs[i]->id, g->id, KITH_ID_LEN) < 0))
			g = recs[i];
	}
	return g;
}

int
record_version_cmp(const struct record *a, const struct record *b)
{
	const struct record_header *ha = record_header(a);
	const struct record_header *hb = record_header(b);
	int c;

	if (ha->hlc != hb->hlc)
		return ha->hlc < hb->hlc ? -1 : 1;
	if ((c = memcmp(ha->author, hb->author, KITH_KEY_LEN)) != 0)
		return c;
	return memcmp(record_id(a), record_id(b), KITH_ID_LEN);
}

void
record_free(struct record *rec)
{

	if (rec == NULL)
		return;
	free(rec->sh);
	free(rec->body);
	free(rec);
}

int
record_in_scope(const struct record_header *hdr,
    const uint8_t key[KITH_KEY_LEN])
{
	unsigned i;

	/* A PCN needs the roster to check every other record it holds. */
	if (hdr->kind == KITH_KIND_CHARTER || hdr->kind == KITH_KIND_MEMBER ||
	    hdr->kind == KITH_KIND_REVOKE)
		return 1;
	for (i = 0; i < hdr->naudience && i < KITH_AUDIENCE_MAX; i++)
		if (memcmp(hdr->audience[i], key, KITH_KEY_LEN) == 0)
			return 1;
	return 0;
}
