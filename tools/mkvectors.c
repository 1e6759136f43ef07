/*
 * mkvectors: write kith's known-answer record vectors, deterministically.
 *
 *   mkvectors [FILE]         write the vectors (default tests/vectors/records.txt)
 *   mkvectors --example      print the worked example of proto/PROTOCOL.md 10,
 *                            its header annotated item by item
 *   mkvectors --corpus DIR   write fuzz seeds to
 *                            DIR/{header,body,state,recfile,syncmsg}
 *
 * Keys come from fixed seeds and clocks are fixed, so every run writes the
 * same bytes.  Each vector is checked against this implementation before it
 * is written: a vector the library disagrees with is an error, not output.
 * `make vectors` builds it and writes both the vectors and the seeds.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "codec.h"
#include "kcrypto.h"
#include "kith.h"
#include "recfile.h"
#include "record.h"
#include "roster.h"
#include "state.h"
#include "syncmsg.h"

#define HLC_2026	(1767225600000ULL << 16)	/* 2026-01-01T00:00Z */

static const uint8_t domain[] = RECORD_SIG_DOMAIN;	/* with its NUL */
static const uint8_t v1domain[] = "kith-record-v1";	/* version 1's */

static const char *
errname(int rc)
{
	const char *name = kith_errname(rc);

	return name != NULL ? name : "?";
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mkvectors: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* A growable byte string. */
struct buf {
	uint8_t *p;
	size_t len;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{

	if ((b->p = realloc(b->p, b->len + n + 1)) == NULL)
		die("out of memory");
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_addw(struct buf *b, struct codec_writer *w)
{
	const uint8_t *p;
	size_t n;

	if (codec_writer_error(w) != 0)
		die("codec writer failed");
	p = codec_writer_data(w, &n);
	buf_add(b, p, n);
	codec_writer_reset(w);
}

static struct kcrypto_key *
key_seed(uint8_t n, uint8_t seed[32])
{
	struct kcrypto_key *k;

	memset(seed, n, 32);
	if ((k = kcrypto_key_from_seed(seed)) == NULL)
		die("key from seed failed");
	return k;
}

/*
 * Header defects: each breaks exactly one rule, so that the vector checks
 * that rule alone.  Defects of the struct's values (version, seq, prev,
 * kind, nonce, entity, body_len...) are set in the struct; these are the
 * ones of the encoding.
 */
enum defect {
	D_NONE,
	D_SEQ_STR,		/* seq as the str "1" */
	D_SEQ_NONCANON,		/* seq 1 as cc 01 */
	D_SEQ_FLOAT,		/* seq as a float64 */
	D_SEQ_NEGATIVE,		/* seq as negative fixint -1 */
	D_ARRAY16,		/* the header array length as dc 00 0e */
	D_FIELDS_13,		/* 13 items: expiry left out */
	D_FIELDS_15,		/* 15 items: an extra 0 */
	D_V1,			/* version 1's 12 items: no prev, no nonce */
	D_NETWORK_31,		/* network bin of 31 bytes */
	D_NETWORK_BIN16,	/* network as bin16 (c5 00 20) */
	D_NETWORK_STR,		/* network as a str of 32 bytes */
	D_PREV_31,		/* prev bin of 31 bytes */
	D_NONCE_15,		/* nonce bin of 15 bytes */
	D_NONCE_17,		/* nonce bin of 17 bytes */
	D_NONCE_NIL,		/* nonce as nil */
	D_NONCE_BIN16,		/* nonce as bin16 (c5 00 10) */
	D_PARENTS_9,		/* 9 parents */
	D_AUDIENCE_5,		/* 5 audience keys */
	D_PARENTS_MAP,		/* parents as an empty map */
};

/* What --example prints: offsets of each item as it is written. */
static FILE *ann;
static size_t ann_base;

static void
annotate(struct codec_writer *w, size_t from, size_t payload,
    const char *fmt, ...)
{
	const uint8_t *p;
	char what[160];
	size_t n, i, pre;
	va_list ap;

	if (ann == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	p = codec_writer_data(w, &n);
	pre = n - from - payload;
	fprintf(ann, "%4zu  ", ann_base + from);
	for (i = 0; i < pre; i++)
		fprintf(ann, "%02x ", p[from + i]);
	fprintf(ann, "%*s %s\n", (int)(pre > 9 ? 0 : 3 * (9 - pre)), "",
	    what);
	if (payload > 0) {
		fprintf(ann, "%4zu  ", ann_base + from + pre);
		for (i = 0; i < payload; i++)
			fprintf(ann, "%02x", p[from + pre + i]);
		fprintf(ann, "\n");
	}
}

static size_t
wlen(struct codec_writer *w)
{
	size_t n;

	codec_writer_data(w, &n);
	return n;
}

static int
all_zero(const uint8_t *p, size_t n)
{

	while (n > 0)
		if (p[--n] != 0)
			return 0;
	return 1;
}

/* Encode ${h} as record.c does, with defect ${d}; append to ${out}. */
static void
header_bytes(const struct record_header *h, enum defect d, struct buf *out)
{
	static const uint8_t one[32] = { 0 };
	struct codec_writer *w;
	unsigned i, nfields = 14;
	size_t o;
	int v1 = d == D_V1;

	if ((w = codec_writer_new()) == NULL)
		die("out of memory");
	if (d == D_FIELDS_13)
		nfields = 13;
	if (d == D_FIELDS_15)
		nfields = 15;
	if (v1)
		nfields = 12;
	o = wlen(w);
	if (d == D_ARRAY16)
		codec_put_raw(w, "\xdc\x00\x0e", 3);
	else
		codec_put_array(w, nfields);
	annotate(w, o, 0, "array of 14 items: the header");
	o = wlen(w);
	codec_put_uint(w, h->version);
	annotate(w, o, 0, "[0] version = %llu", (unsigned long long)h->version);
	o = wlen(w);
	if (d == D_NETWORK_31)
		codec_put_bin(w, h->network, 31);
	else if (d == D_NETWORK_BIN16) {
		codec_put_raw(w, "\xc5\x00\x20", 3);
		codec_put_raw(w, h->network, 32);
	} else if (d == D_NETWORK_STR)
		codec_put_str(w, h->network, 32);
	else
		codec_put_bin(w, h->network, 32);
	annotate(w, o, 32, "[1] network: bin8, 32 bytes (the network id)");
	o = wlen(w);
	codec_put_bin(w, h->author, 32);
	annotate(w, o, 32, "[2] author: bin8, 32 bytes (ed25519 public key)");
	o = wlen(w);
	switch (d) {
	case D_SEQ_STR:
		codec_put_str(w, "1", 1);
		break;
	case D_SEQ_NONCANON:
		codec_put_raw(w, "\xcc", 1);
		codec_put_raw(w, (uint8_t[]){ (uint8_t)h->seq }, 1);
		break;
	case D_SEQ_FLOAT:
		codec_put_raw(w, "\xcb\x3f\xf0\0\0\0\0\0\0", 9);
		break;
	case D_SEQ_NEGATIVE:
		codec_put_raw(w, "\xff", 1);
		break;
	default:
		codec_put_uint(w, h->seq);
	}
	annotate(w, o, 0, "[3] seq = %llu", (unsigned long long)h->seq);
	if (!v1) {
		o = wlen(w);
		codec_put_bin(w, h->prev, d == D_PREV_31 ? 31 : 32);
		annotate(w, o, 32, "[4] prev: bin8, 32 bytes (%s)",
		    all_zero(h->prev, 32) ? "all zero: seq is 1" :
		    "the author's record at seq - 1");
	}
	o = wlen(w);
	codec_put_uint(w, h->hlc);
	annotate(w, o, 0, "[5] hlc = %llu = (%llu << 16) | %llu: uint64",
	    (unsigned long long)h->hlc, (unsigned long long)(h->hlc >> 16),
	    (unsigned long long)(h->hlc & 0xffff));
	o = wlen(w);
	codec_put_uint(w, h->kind);
	annotate(w, o, 0, "[6] kind = %llu (%s)", (unsigned long long)h->kind,
	    kith_kind_name(h->kind) ? kith_kind_name(h->kind) : "?");
	o = wlen(w);
	codec_put_bin(w, h->entity, 16);
	annotate(w, o, 16, "[7] entity: bin8, 16 bytes%s",
	    h->genesis ? " (derived from the nonce, 3.5)" : "");
	if (!v1) {
		o = wlen(w);
		switch (d) {
		case D_NONCE_15:
			codec_put_bin(w, h->nonce, 15);
			break;
		case D_NONCE_17:
			codec_put_raw(w, "\xc4\x11", 2);
			codec_put_raw(w, h->nonce, 16);
			codec_put_raw(w, "\x00", 1);
			break;
		case D_NONCE_NIL:
			codec_put_nil(w);
			break;
		case D_NONCE_BIN16:
			codec_put_raw(w, "\xc5\x00\x10", 3);
			codec_put_raw(w, h->nonce, 16);
			break;
		default:
			codec_put_bin(w, h->nonce, h->genesis ? 16 : 0);
		}
		annotate(w, o, h->genesis ? 16 : 0, "[8] nonce: %s",
		    h->genesis ? "bin8, 16 bytes (a genesis)" :
		    "bin8, empty (not a genesis)");
	}
	o = wlen(w);
	if (d == D_PARENTS_MAP)
		codec_put_map(w, 0);
	else if (d == D_PARENTS_9) {
		codec_put_array(w, 9);
		for (i = 0; i < 9; i++)
			codec_put_bin(w, h->parents[i % KITH_PARENTS_MAX], 32);
	} else {
		codec_put_array(w, h->nparents);
		for (i = 0; i < h->nparents; i++)
			codec_put_bin(w, h->parents[i], 32);
	}
	annotate(w, o, 0, "[9] parents: array of %u", h->nparents);
	o = wlen(w);
	if (d == D_AUDIENCE_5) {
		codec_put_array(w, 5);
		for (i = 0; i < 5; i++)
			codec_put_bin(w, i < h->naudience ? h->audience[i] :
			    one, 32);
	} else {
		codec_put_array(w, h->naudience);
		for (i = 0; i < h->naudience; i++)
			codec_put_bin(w, h->audience[i], 32);
	}
	annotate(w, o, 0, "[10] audience: array of %u", h->naudience);
	o = wlen(w);
	codec_put_bin(w, h->body_hash, 32);
	annotate(w, o, 32, "[11] body_hash: bin8, 32 bytes = BLAKE2b-256(body)");
	o = wlen(w);
	codec_put_uint(w, h->body_len);
	annotate(w, o, 0, "[12] body_len = %llu",
	    (unsigned long long)h->body_len);
	if (d != D_FIELDS_13) {
		o = wlen(w);
		codec_put_uint(w, h->expiry);
		annotate(w, o, 0, "[13] expiry = %llu%s",
		    (unsigned long long)h->expiry, h->expiry ? "" : " (never)");
	}
	if (d == D_FIELDS_15)
		codec_put_uint(w, 0);
	buf_addw(out, w);
	codec_writer_free(w);
}

/* Signature defects. */
enum sigdefect {
	S_NONE,
	S_FLIP,		/* one bit of the signature flipped */
	S_NODOMAIN,	/* signed without the domain prefix */
	S_OTHERKEY,	/* signed by another key than the author */
	S_HIGH_S,	/* S replaced by S + L: the same point, not canonical */
	S_SHORT,	/* a 63-byte bin */
	S_V1DOMAIN,	/* signed under version 1's "kith-record-v1" */
};

/* Append bin8(sig) over the header in ${sh} to it. */
static void
sign_into(struct buf *sh, const struct kcrypto_key *key,
    const struct kcrypto_key *other, enum sigdefect d)
{
	/* The order of the ed25519 group, little-endian. */
	static const uint8_t L[32] = {
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
		0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
	};
	uint8_t sig[KITH_SIG_LEN];
	unsigned c, i;

	if (d == S_NODOMAIN)
		kcrypto_sign(sig, key, NULL, 0, sh->p, sh->len);
	else if (d == S_V1DOMAIN)
		kcrypto_sign(sig, key, v1domain, sizeof(v1domain), sh->p,
		    sh->len);
	else
		kcrypto_sign(sig, d == S_OTHERKEY ? other : key, domain,
		    sizeof(domain), sh->p, sh->len);
	if (d == S_FLIP)
		sig[17] ^= 0x04;
	if (d == S_HIGH_S)
		for (i = 0, c = 0; i < 32; i++) {
			c += sig[32 + i] + L[i];
			sig[32 + i] = (uint8_t)c;
			c >>= 8;
		}
	if (d == S_SHORT) {
		buf_add(sh, "\xc4\x3f", 2);
		buf_add(sh, sig, 63);
	} else {
		buf_add(sh, "\xc4\x40", 2);
		buf_add(sh, sig, sizeof(sig));
	}
}

/* One vector as written. */
struct vector {
	const char *name;
	const char *comment;
	uint8_t seed[32];
	struct buf sh;
	const uint8_t *body;	/* NULL: none */
	size_t blen;
	int expect;
};

/* Decode and verify as a receiver would; return the outcome. */
static int
outcome(const struct vector *v, uint8_t id[32], uint8_t author[32])
{
	struct record *rec = NULL;
	int rc;

	if ((rc = record_decode(v->sh.p, v->sh.len, v->body, v->blen,
	    &rec)) != 0)
		return rc;
	rc = record_verify(rec);
	memcpy(id, record_id(rec), 32);
	memcpy(author, record_header(rec)->author, 32);
	record_free(rec);
	return rc;
}

static void
put_hex(FILE *f, const char *label, const uint8_t *p, size_t n)
{
	size_t i;

	fprintf(f, "%s: ", label);
	if (p == NULL)
		fputc('-', f);
	for (i = 0; p != NULL && i < n; i++)
		fprintf(f, "%02x", p[i]);
	fputc('\n', f);
}

static void
vector_write(FILE *f, const struct vector *v)
{
	uint8_t id[32], author[32], hid[32];
	int rc;

	rc = outcome(v, id, author);
	if (rc != v->expect)
		die("vector %s: expected %s, the library says %s", v->name,
		    errname(v->expect), errname(rc));
	if (rc == 0) {
		/* The id is the hash of the signed header, independently. */
		kcrypto_hash(hid, v->sh.p, v->sh.len);
		if (memcmp(hid, id, 32) != 0)
			die("vector %s: id mismatch", v->name);
	}
	fprintf(f, "\n# %s\n", v->comment);
	fprintf(f, "name: %s\n", v->name);
	put_hex(f, "seed", v->seed, 32);
	put_hex(f, "header", v->sh.p, v->sh.len);
	put_hex(f, "body", v->body, v->blen);
	fprintf(f, "expect: %s\n", errname(v->expect));
	if (rc == 0) {
		put_hex(f, "id", id, 32);
		put_hex(f, "author", author, 32);
	}
}

/* Encode a body from NULL-terminated (name, value) string pairs. */
static uint8_t *
mkbody(size_t *len, ...)
{
	struct body *b;
	const char *name, *val;
	uint8_t *out;
	va_list ap;

	if ((b = body_new()) == NULL)
		die("out of memory");
	va_start(ap, len);
	while ((name = va_arg(ap, const char *)) != NULL) {
		val = va_arg(ap, const char *);
		if (body_set_str(b, name[0] == '*' ? name + 1 : name,
		    name[0] == '*', val) != 0)
			die("body_set_str %s", name);
	}
	va_end(ap);
	if (body_encode(b, &out, len) != 0)
		die("body_encode");
	body_free(b);
	return out;
}

/* The worked example's body. */
static uint8_t *
example_body(size_t *len)
{
	struct body *b;
	uint8_t *out;

	if ((b = body_new()) == NULL)
		die("out of memory");
	if (body_set_str(b, "area", 0, "TW3") != 0 ||
	    body_set_str(b, "category", 0, "food") != 0 ||
	    body_set_str(b, "status", 0, "open") != 0 ||
	    body_set_int(b, "urgency", 0, 2) != 0 ||
	    body_encode(b, &out, len) != 0)
		die("example body");
	body_free(b);
	return out;
}

/*
 * The worked example's header, before signing: the genesis of a request,
 * its author's first record, so prev is zero and the nonce derives the
 * entity.
 */
static void
example_header(struct record_header *h, const struct kcrypto_key *key,
    const uint8_t *body, size_t blen)
{

	memset(h, 0, sizeof(*h));
	h->version = KITH_PROTO_VERSION;
	memset(h->network, 0x02, sizeof(h->network));
	memcpy(h->author, kcrypto_key_public(key), 32);
	h->seq = 1;
	h->hlc = HLC_2026;
	h->kind = KITH_KIND_REQUEST;
	h->genesis = 1;
	memset(h->nonce, 0x03, sizeof(h->nonce));
	record_entity_derive(h->network, h->kind, h->author, h->nonce,
	    h->entity);
	kcrypto_hash(h->body_hash, body, blen);
	h->body_len = blen;
}

/* Make ${h} the genesis of its kind with ${nonce_byte}: derive the entity. */
static void
make_genesis(struct record_header *h, uint8_t nonce_byte)
{

	h->genesis = 1;
	memset(h->nonce, nonce_byte, sizeof(h->nonce));
	record_entity_derive(h->network, h->kind, h->author, h->nonce,
	    h->entity);
}

/* Set ${h}'s body hash and length from ${body}. */
static void
set_body(struct record_header *h, const uint8_t *body, size_t blen)
{

	kcrypto_hash(h->body_hash, body, blen);
	h->body_len = blen;
}

/* The vectors, in file order; the body buffers live to the end. */
#define NVEC_MAX	128
static struct vector vec[NVEC_MAX];
static size_t nvec;

static struct vector *
add(const char *name, const char *comment, int expect)
{
	struct vector *v;

	if (nvec == NVEC_MAX)
		die("too many vectors");
	v = &vec[nvec++];
	memset(v, 0, sizeof(*v));
	v->name = name;
	v->comment = comment;
	v->expect = expect;
	return v;
}

/* Add a vector: header ${h} with defects ${d} and ${sd}, by ${key}. */
static struct vector *
addh(const char *name, const char *comment, int expect,
    const struct record_header *h, enum defect d, enum sigdefect sd,
    const struct kcrypto_key *key, const uint8_t seed[32],
    const uint8_t *body, size_t blen)
{
	static struct kcrypto_key *other;
	static uint8_t oseed[32];
	struct vector *v = add(name, comment, expect);

	if (other == NULL)
		other = key_seed(0x09, oseed);
	memcpy(v->seed, seed, 32);
	header_bytes(h, d, &v->sh);
	sign_into(&v->sh, key, other, sd);
	v->body = body;
	v->blen = blen;
	return v;
}

/* The record id of vector ${v}: the hash of its signed header. */
static void
vec_id(const struct vector *v, uint8_t id[32])
{

	kcrypto_hash(id, v->sh.p, v->sh.len);
}

/* The id version 1's worked example had: its bytes are reproduced. */
#define V1_EXAMPLE_ID \
	"65807e890890d354226fe99ff07143fda30afee185d9632a1a57491539195eb8"

static void
build_vectors(void)
{
	struct kcrypto_key *k1, *k4, *k5;
	static uint8_t empty = 0x80;	/* outlives this call */
	uint8_t s1[32], s4[32], s5[32], *eb, id[32], want[32];
	uint8_t *ex, *ab, *cb, *ub, *mb, *rb, *bad;
	size_t exlen, ablen, cblen, ublen, mblen, rblen;
	char hex[2 * KITH_KEY_LEN + 1];
	struct record_header h, ch, ph, mh;
	struct vector *v;
	unsigned i;

	k1 = key_seed(0x01, s1);
	k4 = key_seed(0x04, s4);
	k5 = key_seed(0x05, s5);
	ex = example_body(&exlen);
	example_header(&h, k1, ex, exlen);

	/* Valid records. */
	addh("valid-request", "the worked example of proto/PROTOCOL.md: the "
	    "genesis of a request, its author's first record (seq 1, prev "
	    "zero), entity derived from its nonce", 0, &h, D_NONE, S_NONE,
	    k1, s1, ex, exlen);
	addh("valid-request-no-body", "the same record with its body not "
	    "carried (erased or not sent): the header alone verifies", 0,
	    &h, D_NONE, S_NONE, k1, s1, NULL, 0);

	/* Its author's next record: an update naming it as prev and parent. */
	ub = mkbody(&ublen, "status", "claimed", NULL);
	ph = h;
	ph.seq = 2;
	vec_id(&vec[0], ph.prev);
	ph.hlc = HLC_2026 + (30000ULL << 16);
	ph.genesis = 0;
	memset(ph.nonce, 0, sizeof(ph.nonce));
	ph.nparents = 1;
	vec_id(&vec[0], ph.parents[0]);
	set_body(&ph, ub, ublen);
	addh("valid-request-update", "the author's next record (seq 2): an "
	    "update of the example's entity, empty nonce, prev and parent "
	    "the example's id", 0, &ph, D_NONE, S_NONE, k1, s1, ub, ublen);

	cb = mkbody(&cblen, "name", "Tower Hamlets Mutual Aid", "org",
	    "Example Food Bank", NULL);
	memset(&ch, 0, sizeof(ch));
	ch.version = KITH_PROTO_VERSION;
	memcpy(ch.author, kcrypto_key_public(k4), 32);
	ch.seq = 1;
	ch.hlc = HLC_2026;
	ch.kind = KITH_KIND_CHARTER;
	make_genesis(&ch, 0x0c);
	set_body(&ch, cb, cblen);
	addh("valid-charter", "a charter: kind 1, a genesis at seq 1, network "
	    "32 zero bytes (in the derivation too)", 0, &ch, D_NONE, S_NONE,
	    k4, s4, cb, cblen);

	/* The charter's author admits key 01: a member record, seq 2. */
	kith_hex(hex, kcrypto_key_public(k1), KITH_KEY_LEN);
	mb = mkbody(&mblen, "key", hex, "org", "Example Food Bank", "role",
	    "member", NULL);
	mh = ch;
	vec_id(&vec[3], mh.network);
	mh.seq = 2;
	vec_id(&vec[3], mh.prev);
	mh.hlc = HLC_2026 + (1000ULL << 16);
	mh.kind = KITH_KIND_MEMBER;
	mh.genesis = 0;
	memset(mh.nonce, 0, sizeof(mh.nonce));
	roster_member_entity(kcrypto_key_public(k1), mh.entity);
	set_body(&mh, mb, mblen);
	addh("valid-member", "the charter's author admits key 01 (seq 2, "
	    "prev the charter): network the charter's id, entity the key's "
	    "member entity, no nonce", 0, &mh, D_NONE, S_NONE, k4, s4, mb,
	    mblen);

	ab = mkbody(&ablen, "area", "E1", "category", "shopping", "notes",
	    "ring twice; \xe2\x9c\x93 \xc3\x81lvarez fine after 6pm", "status",
	    "open", NULL);
	ph = h;
	memcpy(ph.author, kcrypto_key_public(k5), 32);
	ph.seq = 7;
	memset(ph.prev, 0x77, 32);
	ph.hlc = HLC_2026 + (5000ULL << 16) + 3;
	ph.genesis = 0;
	memset(ph.nonce, 0, sizeof(ph.nonce));
	memset(ph.entity, 0x0e, 16);
	ph.naudience = 2;
	memset(ph.audience[0], 0x21, 32);
	memset(ph.audience[1], 0x22, 32);
	ph.expiry = 1767225600000ULL + 90ULL * 86400000ULL;
	set_body(&ph, ab, ablen);
	addh("valid-request-audience", "a request update with UTF-8 values, "
	    "two audience keys and an expiry, by key 05 at seq 7", 0, &ph,
	    D_NONE, S_NONE, k5, s5, ab, ablen);

	/* Key 05's next record starts a referral, addressed to 0x21... */
	rb = mkbody(&rblen, "category", "advice", "consent", "explicit",
	    "status", "sent", NULL);
	ph.seq = 8;
	vec_id(&vec[nvec - 1], ph.prev);
	ph.hlc += 1ULL << 16;
	ph.kind = KITH_KIND_REFERRAL;
	ph.naudience = 1;
	make_genesis(&ph, 0x18);
	set_body(&ph, rb, rblen);
	addh("valid-referral-genesis", "the genesis of a referral at seq 8 "
	    "(prev key 05's record at 7), addressed to its recipient, with an "
	    "expiry", 0, &ph, D_NONE, S_NONE, k5, s5, rb, rblen);

	/* An update with two parents; its body, the empty map, not sent. */
	ph = h;
	ph.seq = 3;
	vec_id(&vec[2], ph.prev);
	ph.hlc = HLC_2026 + (60000ULL << 16);
	ph.genesis = 0;
	memset(ph.nonce, 0, sizeof(ph.nonce));
	ph.nparents = 2;
	memset(ph.parents[0], 0xa1, 32);
	memset(ph.parents[1], 0xb2, 32);
	set_body(&ph, &empty, 1);
	addh("valid-two-parents-no-body", "a record with two parents whose "
	    "body (the empty map 80) is not carried", 0, &ph, D_NONE, S_NONE,
	    k1, s1, NULL, 0);
	addh("valid-empty-body", "the same record with its empty-map body",
	    0, &ph, D_NONE, S_NONE, k1, s1, &empty, 1);

	ph = h;
	ph.seq = 0xffffffffffffffffULL;
	memset(ph.prev, 0xff, 32);
	ph.hlc = 0xffffffffffffffffULL;
	ph.kind = 0xffff;
	ph.genesis = 0;
	memset(ph.nonce, 0, sizeof(ph.nonce));
	ph.expiry = 0xffffffffffffffffULL;
	ph.nparents = KITH_PARENTS_MAX;
	for (i = 0; i < KITH_PARENTS_MAX; i++)
		memset(ph.parents[i], 0x40 + i, 32);
	ph.naudience = KITH_AUDIENCE_MAX;
	for (i = 0; i < KITH_AUDIENCE_MAX; i++)
		memset(ph.audience[i], 0x50 + i, 32);
	set_body(&ph, &empty, 1);
	addh("valid-limits", "every cap at its limit: 8 parents, 4 audience "
	    "keys, the largest seq, hlc and expiry, kind 65535", 0, &ph,
	    D_NONE, S_NONE, k1, s1, NULL, 0);
	ph.nparents = 0;
	make_genesis(&ph, 0xff);
	addh("valid-genesis-limits", "a genesis of kind 65535 (unknown to "
	    "this version) at the largest seq, with 4 audience keys and the "
	    "largest hlc and expiry", 0, &ph, D_NONE, S_NONE, k1, s1, NULL, 0);

	/* Framing. */
	v = addh("trailing-byte", "a valid signed header followed by one "
	    "byte", KITH_ETRAILING, &h, D_NONE, S_NONE, k1, s1, ex, exlen);
	buf_add(&v->sh, "\x00", 1);
	v = addh("truncated-signature", "the signed header without its last "
	    "byte", KITH_ETRUNC, &h, D_NONE, S_NONE, k1, s1, ex, exlen);
	v->sh.len--;
	v = addh("truncated-header", "the first 40 bytes: the input ends "
	    "inside the author key", KITH_ETRUNC, &h, D_NONE, S_NONE, k1, s1,
	    ex, exlen);
	v->sh.len = 40;
	v = addh("truncated-nonce", "the example cut 8 bytes into its nonce",
	    KITH_ETRUNC, &h, D_NONE, S_NONE, k1, s1, ex, exlen);
	v->sh.len = 1 + 1 + 34 + 34 + 1 + 34 + 9 + 1 + 18 + 2 + 8;
	v = addh("empty", "no bytes at all", KITH_ETRUNC, &h, D_NONE, S_NONE,
	    k1, s1, NULL, 0);
	v->sh.len = 0;

	/* Types and shape. */
	addh("seq-is-string", "the str \"1\" (a1 31) where the seq uint goes",
	    KITH_ETYPE, &h, D_SEQ_STR, S_NONE, k1, s1, ex, exlen);
	addh("seq-is-float", "a float64 1.0 where the seq uint goes",
	    KITH_ETYPE, &h, D_SEQ_FLOAT, S_NONE, k1, s1, ex, exlen);
	addh("seq-is-negative", "negative fixint -1 (ff) where the seq uint "
	    "goes", KITH_ETYPE, &h, D_SEQ_NEGATIVE, S_NONE, k1, s1, ex, exlen);
	addh("thirteen-fields", "a header array of 13 items (no expiry)",
	    KITH_ETYPE, &h, D_FIELDS_13, S_NONE, k1, s1, ex, exlen);
	addh("fifteen-fields", "a header array of 15 items (an extra 0)",
	    KITH_ETYPE, &h, D_FIELDS_15, S_NONE, k1, s1, ex, exlen);
	addh("twelve-fields", "version 2 in version 1's layout: 12 items, no "
	    "prev and no nonce", KITH_ETYPE, &h, D_V1, S_NONE, k1, s1, ex,
	    exlen);
	addh("network-31-bytes", "a network bin of 31 bytes", KITH_ETYPE, &h,
	    D_NETWORK_31, S_NONE, k1, s1, ex, exlen);
	addh("network-is-string", "the network id as a 32-byte str",
	    KITH_ETYPE, &h, D_NETWORK_STR, S_NONE, k1, s1, ex, exlen);
	addh("prev-31-bytes", "a prev bin of 31 bytes", KITH_ETYPE, &h,
	    D_PREV_31, S_NONE, k1, s1, ex, exlen);
	addh("nonce-15-bytes", "a nonce bin of 15 bytes: neither empty nor "
	    "16", KITH_ETYPE, &h, D_NONCE_15, S_NONE, k1, s1, ex, exlen);
	addh("nonce-17-bytes", "a nonce bin of 17 bytes (the nonce and a "
	    "zero)", KITH_ETYPE, &h, D_NONCE_17, S_NONE, k1, s1, ex, exlen);
	addh("nonce-is-nil", "nil where the nonce bin goes (an empty nonce "
	    "is c4 00)", KITH_ETYPE, &h, D_NONCE_NIL, S_NONE, k1, s1, ex,
	    exlen);
	addh("parents-is-map", "an empty map where the parents array goes",
	    KITH_ETYPE, &h, D_PARENTS_MAP, S_NONE, k1, s1, ex, exlen);
	addh("signature-63-bytes", "the signature as a 63-byte bin (c4 3f)",
	    KITH_ETYPE, &h, D_NONE, S_SHORT, k1, s1, ex, exlen);

	/* Versions. */
	ph = h;
	ph.version = 1;
	ph.genesis = 0;
	memset(ph.entity, 0x03, 16);
	v = addh("version-1", "version 1's worked example as version 1 wrote "
	    "it: 12 items, signed under \"kith-record-v1\"", KITH_EVERSION,
	    &ph, D_V1, S_V1DOMAIN, k1, s1, ex, exlen);
	vec_id(v, id);
	if (kith_unhex(want, 32, V1_EXAMPLE_ID) != 0 ||
	    memcmp(id, want, 32) != 0)
		die("version-1 is not version 1's worked example");
	ph = h;
	ph.version = 1;
	addh("version-1-new-layout", "the example stamped version 1 in "
	    "version 2's layout", KITH_EVERSION, &ph, D_NONE, S_NONE, k1, s1,
	    ex, exlen);
	ph.version = 3;
	addh("version-3", "header version 3", KITH_EVERSION, &ph, D_NONE,
	    S_NONE, k1, s1, ex, exlen);
	ph.version = 0;
	addh("version-0", "header version 0", KITH_EVERSION, &ph, D_NONE,
	    S_NONE, k1, s1, ex, exlen);

	/* Caps. */
	ph = h;
	ph.genesis = 0;
	ph.seq = 2;
	memset(ph.prev, 0x61, 32);
	ph.nparents = KITH_PARENTS_MAX;
	for (i = 0; i < KITH_PARENTS_MAX; i++)
		memset(ph.parents[i], 0x60 + i, 32);
	addh("nine-parents", "an update with 9 parents, one over the cap of "
	    "8", KITH_ETOOBIG, &ph, D_PARENTS_9, S_NONE, k1, s1, ex, exlen);
	addh("five-audience", "5 audience keys, one over the cap of 4",
	    KITH_ETOOBIG, &h, D_AUDIENCE_5, S_NONE, k1, s1, ex, exlen);
	ph = h;
	ph.body_len = KITH_BODY_MAX + 1;
	addh("body-len-over-cap", "body_len 16385, one over the cap (no body "
	    "sent)", KITH_ETOOBIG, &ph, D_NONE, S_NONE, k1, s1, NULL, 0);

	/* Ranges: seq and kind. */
	ph = h;
	ph.seq = 0;
	addh("seq-zero", "seq 0: sequence numbers start at 1", KITH_ERANGE,
	    &ph, D_NONE, S_NONE, k1, s1, ex, exlen);
	ph = h;
	ph.kind = 0;
	make_genesis(&ph, 0x03);
	addh("kind-zero", "kind 0 (the entity derived with it)", KITH_ERANGE,
	    &ph, D_NONE, S_NONE, k1, s1, ex, exlen);
	ph.kind = 0x10000;
	ph.genesis = 0;
	memset(ph.nonce, 0, 16);
	addh("kind-65536", "kind 65536, one over the range (an update: no "
	    "nonce)", KITH_ERANGE, &ph, D_NONE, S_NONE, k1, s1, ex, exlen);

	/* Ranges: the author's chain. */
	ph = h;
	ph.seq = 2;
	ph.genesis = 0;
	memset(ph.nonce, 0, 16);
	ph.nparents = 1;
	vec_id(&vec[0], ph.parents[0]);
	addh("prev-zero-at-seq-2", "an update at seq 2 whose prev is 32 zero "
	    "bytes", KITH_ERANGE, &ph, D_NONE, S_NONE, k1, s1, ex, exlen);
	ph = h;
	ph.prev[31] = 0x01;
	addh("prev-set-at-seq-1", "the example (seq 1) with prev 00..01: a "
	    "first record names no predecessor", KITH_ERANGE, &ph, D_NONE,
	    S_NONE, k1, s1, ex, exlen);

	/* Ranges: charters. */
	ph = ch;
	ph.genesis = 0;
	memset(ph.nonce, 0, 16);
	addh("charter-without-nonce", "the charter with an empty nonce: a "
	    "charter is always a genesis", KITH_ERANGE, &ph, D_NONE, S_NONE,
	    k4, s4, cb, cblen);
	ph = ch;
	ph.seq = 2;
	memset(ph.prev, 0x0c, 32);
	addh("charter-at-seq-2", "a charter at seq 2 (prev set): a charter is "
	    "its author's first record", KITH_ERANGE, &ph, D_NONE, S_NONE, k4,
	    s4, cb, cblen);
	ph = ch;
	memset(ph.network, 0x02, 32);
	make_genesis(&ph, 0x0c);
	addh("charter-with-network", "a charter with network 32x02 (its "
	    "entity derived with it): a charter's network is zero",
	    KITH_ERANGE, &ph, D_NONE, S_NONE, k4, s4, cb, cblen);
	ph = ch;
	ph.expiry = 1767225600000ULL + 365ULL * 86400000ULL;
	addh("charter-with-expiry", "a charter with an expiry: charters never "
	    "expire", KITH_ERANGE, &ph, D_NONE, S_NONE, k4, s4, cb, cblen);

	/* Ranges: kinds that never start an entity or expire. */
	ph = mh;
	make_genesis(&ph, 0x02);
	addh("member-with-nonce", "a member record carrying a nonce that "
	    "derives its entity: membership starts no entity", KITH_ERANGE,
	    &ph, D_NONE, S_NONE, k4, s4, mb, mblen);
	ph.kind = KITH_KIND_REVOKE;
	make_genesis(&ph, 0x03);
	addh("revoke-with-nonce", "a revoke record carrying a nonce that "
	    "derives its entity", KITH_ERANGE, &ph, D_NONE, S_NONE, k4, s4,
	    mb, mblen);
	ph = h;
	ph.seq = 2;
	vec_id(&vec[0], ph.prev);
	ph.kind = KITH_KIND_ERASE;
	make_genesis(&ph, 0x20);
	addh("erase-with-nonce", "an erase record carrying a nonce that "
	    "derives its entity: an erasure starts no entity", KITH_ERANGE,
	    &ph, D_NONE, S_NONE, k1, s1, ex, exlen);
	ph = mh;
	ph.expiry = 1;
	addh("member-with-expiry", "a member record with expiry 1: membership "
	    "never expires", KITH_ERANGE, &ph, D_NONE, S_NONE, k4, s4, mb,
	    mblen);
	ph.kind = KITH_KIND_REVOKE;
	addh("revoke-with-expiry", "a revoke record with expiry 1",
	    KITH_ERANGE, &ph, D_NONE, S_NONE, k4, s4, mb, mblen);
	ph = h;
	ph.seq = 2;
	vec_id(&vec[0], ph.prev);
	ph.kind = KITH_KIND_ERASE;
	ph.genesis = 0;
	memset(ph.nonce, 0, 16);
	ph.expiry = 1767225600000ULL + 86400000ULL;
	addh("erase-with-expiry", "an erase record of the example's entity "
	    "with an expiry: erasures never expire", KITH_ERANGE, &ph, D_NONE,
	    S_NONE, k1, s1, ex, exlen);

	/* Geneses. */
	ph = h;
	ph.nparents = 1;
	memset(ph.parents[0], 0xa1, 32);
	addh("genesis-with-parent", "the example with one parent: a genesis "
	    "follows nothing", KITH_ERANGE, &ph, D_NONE, S_NONE, k1, s1, ex,
	    exlen);
	ph = h;
	ph.entity[15] ^= 0x01;
	addh("genesis-entity-not-derived", "the example with the last entity "
	    "byte changed: the nonce does not derive it", KITH_EGENESIS, &ph,
	    D_NONE, S_NONE, k1, s1, ex, exlen);
	ph = h;
	record_entity_derive(ph.network, KITH_KIND_VOLUNTEER, ph.author,
	    ph.nonce, ph.entity);
	addh("genesis-entity-other-kind", "a request whose entity is derived "
	    "for a volunteer (kind 17): the kind is the genesis's",
	    KITH_EGENESIS, &ph, D_NONE, S_NONE, k1, s1, ex, exlen);
	ph = h;
	record_entity_derive(ph.network, ph.kind, kcrypto_key_public(k5),
	    ph.nonce, ph.entity);
	addh("genesis-entity-other-author", "the example signed by key 01 with "
	    "the entity key 05 would derive: the creator is the genesis's "
	    "author", KITH_EGENESIS, &ph, D_NONE, S_NONE, k1, s1, ex, exlen);
	ph = ch;
	memset(ph.entity, 0x0c, 16);
	addh("genesis-entity-zero-nonce", "a charter with entity 16x0c, not "
	    "derived from its nonce", KITH_EGENESIS, &ph, D_NONE, S_NONE, k4,
	    s4, cb, cblen);

	/* Canonical form. */
	addh("seq-noncanonical", "seq 1 as uint8 (cc 01) instead of fixint "
	    "01", KITH_ENONCANON, &h, D_SEQ_NONCANON, S_NONE, k1, s1, ex,
	    exlen);
	addh("array16-header", "the header array length as array16 "
	    "(dc 00 0e) instead of fixarray 9e", KITH_ENONCANON, &h, D_ARRAY16,
	    S_NONE, k1, s1, ex, exlen);
	addh("network-bin16", "the network id as bin16 (c5 00 20) instead of "
	    "bin8", KITH_ENONCANON, &h, D_NETWORK_BIN16, S_NONE, k1, s1, ex,
	    exlen);
	addh("nonce-bin16", "the nonce as bin16 (c5 00 10) instead of bin8",
	    KITH_ENONCANON, &h, D_NONCE_BIN16, S_NONE, k1, s1, ex, exlen);

	/* The body binding. */
	bad = malloc(exlen);
	memcpy(bad, ex, exlen);
	bad[exlen - 1] ^= 0x01;		/* urgency 2 -> 3 */
	addh("body-hash-mismatch", "the example header with a body of the "
	    "right length and one changed byte", KITH_EBODYHASH, &h, D_NONE,
	    S_NONE, k1, s1, bad, exlen);
	eb = malloc(exlen + 1);
	memcpy(eb, ex, exlen);
	eb[exlen] = 0xc0;
	addh("body-len-mismatch", "the example header with its body and one "
	    "more byte", KITH_EBODYLEN, &h, D_NONE, S_NONE, k1, s1, eb,
	    exlen + 1);
	addh("body-short", "the example header with its body less its last "
	    "byte", KITH_EBODYLEN, &h, D_NONE, S_NONE, k1, s1, ex, exlen - 1);

	/* Signatures. */
	addh("bad-signature", "the example with one bit of the signature "
	    "flipped", KITH_EBADSIG, &h, D_NONE, S_FLIP, k1, s1, ex, exlen);
	addh("signature-no-domain", "signed over the header alone, without "
	    "the \"kith-record-v2\\0\" prefix", KITH_EBADSIG, &h, D_NONE,
	    S_NODOMAIN, k1, s1, ex, exlen);
	addh("signature-v1-domain", "signed under version 1's prefix "
	    "\"kith-record-v1\\0\"", KITH_EBADSIG, &h, D_NONE, S_V1DOMAIN, k1,
	    s1, ex, exlen);
	addh("signature-other-key", "signed by the key of seed 32x09, not by "
	    "the author", KITH_EBADSIG, &h, D_NONE, S_OTHERKEY, k1, s1, ex,
	    exlen);
	addh("signature-high-s", "the valid signature with S replaced by "
	    "S + L (not canonical; MUST be rejected)", KITH_EBADSIG, &h,
	    D_NONE, S_HIGH_S, k1, s1, ex, exlen);
	v = add("signature-prev-changed", "valid-request-update with one bit "
	    "of prev flipped after signing: prev is signed", KITH_EBADSIG);
	memcpy(v->seed, s1, 32);
	buf_add(&v->sh, vec[2].sh.p, vec[2].sh.len);
	v->sh.p[1 + 1 + 34 + 34 + 1 + 2 + 31] ^= 0x01;
	v->body = ub;
	v->blen = ublen;

	kcrypto_key_free(k1);
	kcrypto_key_free(k4);
	kcrypto_key_free(k5);
}

static void
write_vectors(const char *path)
{
	FILE *f;
	size_t i;

	if ((f = fopen(path, "w")) == NULL)
		die("%s: cannot create", path);
	fprintf(f, "# kith known-answer record vectors, written by "
	    "tools/mkvectors.c.\n"
	    "# Format and checking procedure: tests/vectors/README.md.\n");
	for (i = 0; i < nvec; i++)
		vector_write(f, &vec[i]);
	if (fclose(f) != 0)
		die("%s: write failed", path);
	fprintf(stderr, "mkvectors: %zu vectors written to %s\n", nvec, path);
}

/* Annotate the msgpack body ${p}[${n}] item by item. */
static void
annotate_body(const uint8_t *p, size_t n)
{
	struct codec_reader r;
	struct codec_value val;
	const char *s;
	uint32_t nsec, nf, i, j;
	size_t len, o, k;

	codec_reader_init(&r, p, n);
#define AT	(n - codec_reader_left(&r))
#define SHOW(from, what, ...) do {					\
	printf("%4zu  ", (size_t)(from));				\
	for (k = (from); k < AT; k++)					\
		printf("%02x ", p[k]);					\
	printf("%*s " what "\n", AT - (from) > 9 ? 0 :			\
	    (int)(3 * (9 - (AT - (from)))), "", __VA_ARGS__);		\
} while (0)
	o = AT;
	if (codec_read_map(&r, &nsec) != 0)
		die("example body");
	SHOW(o, "map of %u section(s)", nsec);
	for (i = 0; i < nsec; i++) {
		o = AT;
		codec_read_str(&r, &s, &len);
		SHOW(o, "key \"%.*s\" (%s section)", (int)len, s,
		    s[0] == 'f' ? "public" : "personal");
		o = AT;
		codec_read_map(&r, &nf);
		SHOW(o, "map of %u field(s)", nf);
		for (j = 0; j < nf; j++) {
			o = AT;
			codec_read_str(&r, &s, &len);
			SHOW(o, "name \"%.*s\"", (int)len, s);
			o = AT;
			codec_read_value(&r, &val);
			if (val.type == CODEC_STR)
				SHOW(o, "value \"%.*s\"", (int)val.len, val.s);
			else if (val.type == CODEC_INT)
				SHOW(o, "value %lld", (long long)val.i);
			else
				SHOW(o, "value %s", "nil");
		}
	}
#undef SHOW
#undef AT
}

static void
hexline(const char *label, const uint8_t *p, size_t n)
{
	size_t i;

	printf("%s", label);
	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* Print ${n} bytes at ${p} as an annotated line of the derivation input. */
static void
derive_line(size_t off, const uint8_t *p, size_t n, const char *what)
{
	size_t i;

	printf("%4zu  ", off);
	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n      %s\n", what);
}

static void
print_example(void)
{
	static const char edomain[] = RECORD_ENTITY_DOMAIN;
	struct kcrypto_key *key;
	struct record_header h;
	struct record *rec;
	struct buf hb = { 0 }, sh = { 0 }, din = { 0 };
	const uint8_t *sb;
	uint8_t seed[32], *body, kind[2], hash[32];
	size_t blen, shlen, i;

	key = key_seed(0x01, seed);
	body = example_body(&blen);
	example_header(&h, key, body, blen);
	/* The library signs it; the annotation must describe those bytes. */
	if (record_sign(&h, body, blen, key, &rec) != 0)
		die("record_sign");
	sb = record_signed(rec, &shlen);
	header_bytes(&h, D_NONE, &hb);
	if (hb.len + 2 + KITH_SIG_LEN != shlen ||
	    memcmp(hb.p, sb, hb.len) != 0)
		die("the example header differs from record_sign's");
	buf_add(&sh, hb.p, hb.len);
	sign_into(&sh, key, NULL, S_NONE);
	if (sh.len != shlen || memcmp(sh.p, sb, shlen) != 0)
		die("the example signature differs from record_sign's");

	/* The derivation, written out here from 3.5, checked against record.c. */
	kind[0] = (uint8_t)(h.kind >> 8);
	kind[1] = (uint8_t)h.kind;
	buf_add(&din, edomain, sizeof(edomain));
	buf_add(&din, h.network, 32);
	buf_add(&din, kind, 2);
	buf_add(&din, h.author, 32);
	buf_add(&din, h.nonce, 16);
	if (din.len != 97)
		die("derivation input of %zu bytes", din.len);
	kcrypto_hash(hash, din.p, din.len);
	if (memcmp(hash, h.entity, KITH_ENTITY_LEN) != 0)
		die("the example entity differs from record_entity_derive's");

	printf("Worked example: the genesis of a request.  Author seed 32x01, "
	    "network 32x02,\nseq 1 (its author's first record, so prev is 32 "
	    "zero bytes),\nhlc 1767225600000 << 16 (2026-01-01T00:00:00.000Z), "
	    "kind 16 (request),\nnonce 16x03, no parents, no audience, expiry "
	    "0.\n\n");
	printf("Entity derivation (3.5): 97 bytes of input; offset, bytes, "
	    "meaning:\n\n");
	derive_line(0, din.p, 15, "\"kith-entity-v2\" and a zero byte");
	derive_line(15, din.p + 15, 32, "network");
	derive_line(47, din.p + 47, 2, "kind 16 as 2 bytes big-endian");
	derive_line(49, din.p + 49, 32, "author");
	derive_line(81, din.p + 81, 16, "nonce");
	printf("\n");
	hexline("H(input):      ", hash, 32);
	hexline("entity:        ", hash, KITH_ENTITY_LEN);
	printf("\nHeader (%zu bytes); offset, bytes, meaning:\n\n", hb.len);
	ann = stdout;
	ann_base = 0;
	hb.len = 0;
	header_bytes(&h, D_NONE, &hb);
	ann = NULL;
	printf("%4zu  c4 40                       signature: bin8, 64 bytes\n",
	    hb.len);
	printf("%4zu  ", hb.len + 2);
	for (i = 0; i < KITH_SIG_LEN; i++)
		printf("%02x", sb[hb.len + 2 + i]);
	printf("\n\nSigned message: 6b6974682d7265636f72642d763200 "
	    "(\"kith-record-v2\" NUL) || header[0..%zu)\n\n", hb.len);
	hexline("header:        ", sb, hb.len);
	hexline("signed header: ", sb, shlen);
	hexline("author:        ", h.author, 32);
	hexline("body_hash:     ", h.body_hash, 32);
	hexline("record id:     ", record_id(rec), 32);
	printf("\nBody (%zu bytes):\n\n", blen);
	annotate_body(body, blen);
	printf("\n");
	hexline("body: ", body, blen);
	record_free(rec);
	free(body);
	free(hb.p);
	free(sh.p);
	free(din.p);
	kcrypto_key_free(key);
}

/* Fuzz seeds. */

static void
seed_file(const char *dir, const char *sub, const char *name,
    const void *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	mkdir(path, 0777);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(p, 1, n, f) != n || fclose(f) != 0)
		die("%s: cannot write", path);
}

/*
 * Sign the record at ${seq} of ${key}'s chain for the state, recfile and
 * syncmsg seeds: prev is ${prev}'s id (NULL: zeros, at seq 1).  A genesis
 * (${nonce} not 0) derives its entity; any other record names ${entity}.
 */
static struct record *
seed_record(const struct kcrypto_key *key, uint64_t seq,
    const struct record *prev, uint64_t ms, uint64_t kind, uint8_t nonce,
    const uint8_t *entity, struct record *const *parents, unsigned np,
    const uint8_t *body, size_t blen)
{
	struct record_header h;
	struct record *rec;
	unsigned i;
	int rc;

	memset(&h, 0, sizeof(h));
	if (kind != KITH_KIND_CHARTER)
		memset(h.network, 0x02, 32);
	memcpy(h.author, kcrypto_key_public(key), 32);
	h.seq = seq;
	if (prev != NULL)
		memcpy(h.prev, record_id(prev), 32);
	h.hlc = (1767225600000ULL + ms) << 16;
	h.kind = kind;
	if (nonce != 0)
		make_genesis(&h, nonce);
	else
		memcpy(h.entity, entity, 16);
	h.nparents = np;
	for (i = 0; i < np; i++)
		memcpy(h.parents[i], record_id(parents[i]), 32);
	if ((rc = record_sign(&h, body, blen, key, &rec)) != 0)
		die("seed record_sign: %s", errname(rc));
	return rec;
}

/* Append one syncmsg entry of raw bytes: ${sh}, and ${body} unless NULL. */
static void
raw_entry(struct syncmsg_buf *b, const uint8_t *sh, size_t shlen,
    const uint8_t *body, size_t blen)
{
	uint8_t len[2];

	len[0] = (uint8_t)(shlen >> 8);
	len[1] = (uint8_t)shlen;
	syncmsg_put(b, len, 2);
	syncmsg_put(b, sh, shlen);
	if (body == NULL)
		syncmsg_put(b, "\xff\xff", 2);
	else {
		len[0] = (uint8_t)(blen >> 8);
		len[1] = (uint8_t)blen;
		syncmsg_put(b, len, 2);
		syncmsg_put(b, body, blen);
	}
}

static void
seed_frame(const char *dir, const char *name, struct syncmsg_buf *b)
{

	if (b->err != 0)
		die("syncmsg frame %s", name);
	seed_file(dir, "syncmsg", name, b->p, b->len);
	syncmsg_buf_reset(b);
}

/* The vector named ${name}. */
static const struct vector *
vec_named(const char *name)
{
	size_t i;

	for (i = 0; i < nvec; i++)
		if (strcmp(vec[i].name, name) == 0)
			return &vec[i];
	die("no vector %s", name);
	return NULL;
}

static void
seed_state(const char *dir, const char *name, struct record *const *recs,
    size_t n)
{
	struct state *s;
	const uint8_t *p;
	char alt[64];
	uint8_t *q;
	size_t len;

	if (state_compute(recs, n, NULL, &s) != 0)
		die("state_compute");
	p = state_encoded(s, &len);
	seed_file(dir, "state", name, p, len);
	/* And two broken copies: one byte short, one byte over. */
	q = malloc(len + 1);
	memcpy(q, p, len);
	q[len] = 0xc0;
	snprintf(alt, sizeof(alt), "%s-short", name);
	seed_file(dir, "state", alt, q, len - 1);
	snprintf(alt, sizeof(alt), "%s-trailing", name);
	seed_file(dir, "state", alt, q, len + 1);
	free(q);
	state_free(s);
}

static void
write_corpus(const char *dir)
{
	static const struct {
		const char *name;
		const char *hex;
	} bodies[] = {
		{ "empty-map", "80" },
		{ "nil-field", "81a16681a178c0" },
		{ "neg-int", "81a16681a178d0c0" },
		{ "int64", "81a16681a178d38000000000000000" },
		{ "uint64-over", "81a16681a178cfffffffffffffffff" },
		{ "unsorted", "81a16682a162c0a161c0" },
		{ "duplicate", "81a16682a161c0a161c0" },
		{ "empty-section", "81a16680" },
		{ "p-before-f", "82a17081a161c0a16681a162c0" },
		{ "same-name-both", "82a16681a161c0a17081a161c0" },
		{ "bad-name", "81a16681a141c0" },
		{ "empty-name", "81a16681a0c0" },
		{ "unknown-section", "81a17881a161c0" },
		{ "three-sections", "83a16681a161c0a17081a162c0a17181a163c0" },
		{ "noncanon-int", "81a16681a161cc05" },
		{ "noncanon-str8", "81a16681a161d90161" },
		{ "noncanon-map16", "de0001a16681a161c0" },
		{ "bad-utf8", "81a16681a161a2c328" },
		{ "overlong-utf8", "81a16681a161a2c0af" },
		{ "surrogate-utf8", "81a16681a161a3eda080" },
		{ "float", "81a16681a161ca3f800000" },
		{ "bool", "81a16681a161c3" },
		{ "bin", "81a16681a161c40161" },
		{ "array", "81a16681a16190" },
		{ "trailing", "81a16681a161c0c0" },
		{ "truncated", "81a16681a161a5616263" },
		{ "map32-huge", "dfffffffff" },
	};
	struct kcrypto_key *ka, *kb;
	struct record *r[6];
	const uint8_t *ent;
	struct state *st;
	FILE *f;
	char *fb = NULL, name[64];
	uint8_t seed[32], raw[64], *b[4], *big;
	size_t bl[4], fl = 0, i, n;
	struct body *body;

	mkdir(dir, 0777);
	/* header/: every vector, and the valid ones with their bodies. */
	for (i = 0; i < nvec; i++) {
		seed_file(dir, "header", vec[i].name, vec[i].sh.p,
		    vec[i].sh.len);
		if (vec[i].body != NULL && vec[i].expect == 0) {
			struct buf whole = { 0 };

			buf_add(&whole, vec[i].sh.p, vec[i].sh.len);
			buf_add(&whole, vec[i].body, vec[i].blen);
			snprintf(name, sizeof(name), "%s+body", vec[i].name);
			seed_file(dir, "header", name, whole.p, whole.len);
			free(whole.p);
		}
	}

	/* body/: what body_encode makes, and what it never does. */
	for (i = 0; i < nvec; i++)
		if (vec[i].body != NULL && vec[i].expect == 0) {
			snprintf(name, sizeof(name), "%s", vec[i].name);
			seed_file(dir, "body", name, vec[i].body,
			    vec[i].blen);
		}
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		n = strlen(bodies[i].hex) / 2;
		if (kith_unhex(raw, n, bodies[i].hex) != 0)
			die("bad hex %s", bodies[i].name);
		seed_file(dir, "body", bodies[i].name, raw, n);
	}
	if ((body = body_new()) == NULL)
		die("out of memory");
	for (i = 0; i < KITH_FIELDS_MAX; i++) {
		snprintf(name, sizeof(name), "f%02zu", i);
		body_set_int(body, name, 0, (int64_t)i * 1000003 - 30000);
		snprintf(name, sizeof(name), "p%02zu", i);
		body_set_str(body, name, 1, "x");
	}
	body_encode(body, &big, &n);
	seed_file(dir, "body", "full-sections", big, n);
	free(big);
	body_free(body);

	/*
	 * state/: states computed from small record sets of one entity,
	 * which A's genesis starts: A updates it, B forks from the genesis,
	 * B merges, B adds a record of another kind (evidence only), and A
	 * an update whose body is not held.
	 */
	ka = key_seed(0x0a, seed);
	kb = key_seed(0x0b, seed);
	b[0] = mkbody(&bl[0], "area", "E1", "category", "food", "status",
	    "open", NULL);
	b[1] = mkbody(&bl[1], "status", "claimed", "area", "E2", NULL);
	b[2] = mkbody(&bl[2], "status", "fulfilled", "area", "E3", NULL);
	b[3] = mkbody(&bl[3], "area", "E9", NULL);
	r[0] = seed_record(ka, 1, NULL, 0, KITH_KIND_REQUEST, 0x0e, NULL, NULL,
	    0, b[0], bl[0]);
	ent = record_header(r[0])->entity;
	r[1] = seed_record(ka, 2, r[0], 10, KITH_KIND_REQUEST, 0, ent, &r[0],
	    1, b[1], bl[1]);
	r[2] = seed_record(kb, 1, NULL, 10, KITH_KIND_REQUEST, 0, ent, &r[0],
	    1, b[2], bl[2]);
	r[3] = seed_record(kb, 2, r[2], 20, KITH_KIND_REQUEST, 0, ent, &r[1],
	    2, b[3], bl[3]);
	r[4] = seed_record(kb, 3, r[3], 30, KITH_KIND_VOLUNTEER, 0, ent, NULL,
	    0, b[3], bl[3]);
	r[5] = seed_record(ka, 3, r[1], 40, KITH_KIND_REQUEST, 0, ent, &r[1],
	    1, NULL, 0);
	seed_state(dir, "one", r, 1);
	seed_state(dir, "fork", r, 3);
	seed_state(dir, "merged", r, 4);
	seed_state(dir, "mixed-kinds", r, 6);
	if (state_compute(r, 3, NULL, &st) == 0) {
		const uint8_t *p = state_encoded(st, &n);

		big = malloc(n);
		memcpy(big, p, n);
		big[0] = 0x97;		/* 7 items */
		seed_file(dir, "state", "seven-items", big, n);
		free(big);
		state_free(st);
	}
	/* Without its genesis an entity has no state at all. */
	if (state_compute(r + 1, 5, NULL, &st) != KITH_ENOGENESIS)
		die("state without a genesis");
	seed_file(dir, "state", "empty", "", 0);

	/* recfile/: files of those records. */
	if ((f = open_memstream(&fb, &fl)) == NULL)
		die("open_memstream");
	recfile_write_start(f, record_header(r[0])->network);
	for (i = 0; i < 6; i++)
		recfile_write(f, r[i]);
	fclose(f);
	seed_file(dir, "recfile", "six", fb, fl);
	/* fuzz_state computes the state of a records file's records. */
	seed_file(dir, "state", "records-six", fb, fl);
	seed_file(dir, "recfile", "header-only", fb, 8 + 1 + 32);
	seed_file(dir, "recfile", "short-header", fb, 20);
	seed_file(dir, "recfile", "cut-entry", fb, fl - 7);
	seed_file(dir, "recfile", "cut-length", fb, 8 + 1 + 32 + 2);
	/* Cut inside the genesis's nonce: header length 4, then 140 bytes. */
	seed_file(dir, "recfile", "cut-nonce", fb, 8 + 1 + 32 + 4 + 140);
	fb[8] = 2;
	seed_file(dir, "recfile", "version-2", fb, fl);
	fb[8] = 1;
	fb[0] = 'X';
	seed_file(dir, "recfile", "bad-magic", fb, fl);
	fb[0] = 'K';
	memcpy(fb + 41, "\x00\x00\x04\x00", 4);
	seed_file(dir, "recfile", "header-too-long", fb, fl);
	free(fb);
	fb = NULL;
	/* Files whose first entry is a rejected vector: one rule each. */
	{
		static const char *const bad[] = {
			"version-1", "genesis-entity-not-derived",
			"prev-zero-at-seq-2", "nonce-15-bytes",
		};
		const struct vector *bv;
		uint8_t len4[4];
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			bv = vec_named(bad[k]);
			if ((f = open_memstream(&fb, &fl)) == NULL)
				die("open_memstream");
			recfile_write_start(f, record_header(r[0])->network);
			len4[0] = len4[1] = 0;
			len4[2] = (uint8_t)(bv->sh.len >> 8);
			len4[3] = (uint8_t)bv->sh.len;
			fwrite(len4, 1, 4, f);
			fwrite(bv->sh.p, 1, bv->sh.len, f);
			fwrite("\xff\xff\xff\xff", 1, 4, f);
			recfile_write(f, r[1]);
			fclose(f);
			seed_file(dir, "recfile", bad[k], fb, fl);
			free(fb);
			fb = NULL;
		}
	}

	/* The same entity without its genesis; a fork and its merge alone. */
	{
		static const struct {
			const char *name;
			size_t from, n;
		} sets[] = {
			{ "records-no-genesis", 1, 5 },
			{ "records-fork", 0, 3 },
			{ "records-one", 0, 1 },
		};
		size_t k;

		for (k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
			if ((f = open_memstream(&fb, &fl)) == NULL)
				die("open_memstream");
			recfile_write_start(f, record_header(r[0])->network);
			for (i = sets[k].from; i < sets[k].from + sets[k].n;
			    i++)
				recfile_write(f, r[i]);
			fclose(f);
			seed_file(dir, "state", sets[k].name, fb, fl);
			free(fb);
			fb = NULL;
		}
	}

	/*
	 * The same records with the roster they need: key 0c charters the
	 * network and admits A as a member and B as an observer, whose
	 * records then have no standing.
	 */
	{
		struct kcrypto_key *kc = key_seed(0x0c, seed);
		struct record *m[3];
		uint8_t *mbody, ment[KITH_ENTITY_LEN];
		char hex[2 * KITH_KEY_LEN + 1];
		size_t mlen, k;

		mbody = mkbody(&mlen, "name", "Seed network", "org", "Org C",
		    NULL);
		m[0] = seed_record(kc, 1, NULL, 0, KITH_KIND_CHARTER, 0xc1,
		    NULL, NULL, 0, mbody, mlen);
		free(mbody);
		for (k = 1; k < 3; k++) {
			kith_hex(hex, kcrypto_key_public(k == 1 ? ka : kb),
			    KITH_KEY_LEN);
			mbody = mkbody(&mlen, "key", hex, "org", k == 1 ?
			    "Org A" : "Org B", "role", k == 1 ? "member" :
			    "observer", NULL);
			roster_member_entity(kcrypto_key_public(k == 1 ? ka :
			    kb), ment);
			m[k] = seed_record(kc, k + 1, m[k - 1], 1 + k,
			    KITH_KIND_MEMBER, 0, ment, NULL, 0, mbody, mlen);
			free(mbody);
		}
		if ((f = open_memstream(&fb, &fl)) == NULL)
			die("open_memstream");
		recfile_write_start(f, record_header(r[0])->network);
		for (k = 0; k < 3; k++)
			recfile_write(f, m[k]);
		for (i = 0; i < 6; i++)
			recfile_write(f, r[i]);
		fclose(f);
		seed_file(dir, "state", "records-roster", fb, fl);
		free(fb);
		fb = NULL;
		for (k = 0; k < 3; k++)
			record_free(m[k]);
		kcrypto_key_free(kc);
	}

	/*
	 * syncmsg/: frames that carry records (PUSH and RECORDS), with and
	 * without bodies, and with an entry each decode rule rejects.
	 */
	{
		static const char *const bad[] = {
			"version-1", "genesis-entity-not-derived",
			"genesis-with-parent", "prev-set-at-seq-1",
			"nonce-17-bytes", "charter-without-nonce",
			"body-hash-mismatch",
		};
		struct syncmsg_buf sb = { NULL, 0, 0, 0 };
		struct syncmsg_bound resume;
		const struct vector *bv;
		char fname[80];
		size_t k;

		syncmsg_begin(&sb, SYNCMSG_PUSH, 7);
		for (i = 0; i < 6; i++)
			syncmsg_put_record(&sb, r[i]);
		seed_frame(dir, "push-six", &sb);
		syncmsg_records_begin(&sb, 8);
		for (i = 0; i < 3; i++)
			syncmsg_put_record(&sb, r[i]);
		syncmsg_records_finish(&sb, SYNCMSG_MORE, NULL);
		seed_frame(dir, "records-more", &sb);
		resume.hlc = record_header(r[3])->hlc;
		memcpy(resume.id, record_id(r[3]), KITH_ID_LEN);
		syncmsg_records_begin(&sb, 9);
		for (i = 3; i < 6; i++)
			syncmsg_put_record(&sb, r[i]);
		syncmsg_records_finish(&sb, SYNCMSG_RESUME, &resume);
		seed_frame(dir, "records-resume", &sb);
		syncmsg_begin(&sb, SYNCMSG_PUSH, 10);
		for (k = 0; k < nvec; k++)
			if (vec[k].expect == 0)
				raw_entry(&sb, vec[k].sh.p, vec[k].sh.len,
				    vec[k].body, vec[k].blen);
		seed_frame(dir, "push-valid-vectors", &sb);
		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			bv = vec_named(bad[k]);
			syncmsg_begin(&sb, SYNCMSG_PUSH, 11);
			syncmsg_put_record(&sb, r[0]);
			raw_entry(&sb, bv->sh.p, bv->sh.len, bv->body,
			    bv->blen);
			snprintf(fname, sizeof(fname), "push-%s", bad[k]);
			seed_frame(dir, fname, &sb);
		}
		syncmsg_buf_free(&sb);
	}

	for (i = 0; i < 6; i++)
		record_free(r[i]);
	for (i = 0; i < 4; i++)
		free(b[i]);
	kcrypto_key_free(ka);
	kcrypto_key_free(kb);
	fprintf(stderr, "mkvectors: seeds written under %s\n", dir);
}

int
main(int argc, char **argv)
{

	if (kcrypto_init() != 0)
		die("kcrypto_init");
	if (argc == 2 && strcmp(argv[1], "--example") == 0) {
		print_example();
		return 0;
	}
	build_vectors();
	if (argc == 3 && strcmp(argv[1], "--corpus") == 0) {
		write_corpus(argv[2]);
		return 0;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: mkvectors [FILE] | --example | "
		    "--corpus DIR\n");
		return 1;
	}
	write_vectors(argc == 2 ? argv[1] : "tests/vectors/records.txt");
	return 0;
}
