/*
 * Records: signing and decoding round-trip, and every decode rule has a
 * header that breaks it and gets its own error code.  Mutated headers are
 * built field by field here (independently of record.c's encoder, which
 * the first test cross-checks) and really signed, so that a decode error
 * is never just a bad signature in disguise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "kcrypto.h"
#include "kith.h"
#include "record.h"
#include "testutil.h"

#define NFIELDS	14	/* items in a version 2 header */

/* The items of a version 2 header, as PROTOCOL.md 3.1 numbers them. */
enum {
	I_VERSION, I_NETWORK, I_AUTHOR, I_SEQ, I_PREV, I_HLC, I_KIND,
	I_ENTITY, I_NONCE, I_PARENTS, I_AUDIENCE, I_BODY_HASH, I_BODY_LEN,
	I_EXPIRY,
};

static const uint8_t domain[] = RECORD_SIG_DOMAIN;	/* with its NUL */

/* How to spoil a header as it is built. */
struct mut {
	int nfields;		/* array length written; 0 means 14 */
	int raw_at;		/* field written as raw bytes; -1 none */
	const uint8_t *raw;
	size_t rawlen;
	size_t siglen;		/* signature bin length; 0 means 64 */
	int sig_raw;		/* signature replaced by raw bytes */
	const uint8_t *sraw;
	size_t sralen;
	const struct kcrypto_key *signer;	/* if not the author */
	int v1;			/* version 1's 12 items, its domain */
};

static const struct mut M0 = { .raw_at = -1 };

static uint8_t body_buf[64];
static size_t body_len;

/* A non-genesis header with every item in use. */
static void
full_header(struct record_header *h, const struct kcrypto_key *key)
{
	unsigned i;

	memset(h, 0, sizeof(*h));
	h->version = KITH_PROTO_VERSION;
	memset(h->network, 0x11, sizeof(h->network));
	memcpy(h->author, kcrypto_key_public(key), KITH_KEY_LEN);
	h->seq = 300;
	memset(h->prev, 0x3c, sizeof(h->prev));
	h->hlc = 0x0190000000000005ULL;
	h->kind = KITH_KIND_REQUEST;
	memset(h->entity, 0xee, sizeof(h->entity));
	h->nparents = 3;
	for (i = 0; i < h->nparents; i++)
		memset(h->parents[i], 0xa0 + i, KITH_ID_LEN);
	h->naudience = 2;
	for (i = 0; i < h->naudience; i++)
		memset(h->audience[i], 0xb0 + i, KITH_KEY_LEN);
	memcpy(body_buf, "\x81\xa1" "f\x81\xa1x\xa1y", 8);
	body_len = 8;
	kcrypto_hash(h->body_hash, body_buf, body_len);
	h->body_len = body_len;
	h->expiry = 1ULL << 40;
}

/*
 * The genesis of an entity of ${kind} by ${key}, the author's first record:
 * its nonce derives its entity, it has no parents, and it never expires.
 */
static void
genesis_header(struct record_header *h, const struct kcrypto_key *key,
    uint64_t kind)
{

	full_header(h, key);
	if (kind == KITH_KIND_CHARTER)
		memset(h->network, 0, sizeof(h->network));
	h->seq = 1;
	memset(h->prev, 0, sizeof(h->prev));
	h->kind = kind;
	h->genesis = 1;
	memset(h->nonce, 0x4e, sizeof(h->nonce));
	record_entity_derive(h->network, kind, h->author, h->nonce, h->entity);
	h->nparents = 0;
	h->naudience = 1;
	h->expiry = 0;
}

static void
put_field(struct codec_writer *w, const struct record_header *h, int i)
{
	unsigned k;

	switch (i) {
	case I_VERSION: codec_put_uint(w, h->version); break;
	case I_NETWORK: codec_put_bin(w, h->network, KITH_NETWORK_LEN); break;
	case I_AUTHOR: codec_put_bin(w, h->author, KITH_KEY_LEN); break;
	case I_SEQ: codec_put_uint(w, h->seq); break;
	case I_PREV: codec_put_bin(w, h->prev, KITH_ID_LEN); break;
	case I_HLC: codec_put_uint(w, h->hlc); break;
	case I_KIND: codec_put_uint(w, h->kind); break;
	case I_ENTITY: codec_put_bin(w, h->entity, KITH_ENTITY_LEN); break;
	case I_NONCE:
		codec_put_bin(w, h->nonce, h->genesis ? KITH_NONCE_LEN : 0);
		break;
	case I_PARENTS:
		codec_put_array(w, h->nparents);
		for (k = 0; k < h->nparents; k++)
			codec_put_bin(w, h->parents[k], KITH_ID_LEN);
		break;
	case I_AUDIENCE:
		codec_put_array(w, h->naudience);
		for (k = 0; k < h->naudience; k++)
			codec_put_bin(w, h->audience[k], KITH_KEY_LEN);
		break;
	case I_BODY_HASH: codec_put_bin(w, h->body_hash, KITH_HASH_LEN); break;
	case I_BODY_LEN: codec_put_uint(w, h->body_len); break;
	case I_EXPIRY: codec_put_uint(w, h->expiry); break;
	default: codec_put_nil(w); break;	/* an extra field */
	}
}

/* Version 1's header: the items of version 2 less prev and nonce. */
static const int v1_items[12] = {
	I_VERSION, I_NETWORK, I_AUTHOR, I_SEQ, I_HLC, I_KIND, I_ENTITY,
	I_PARENTS, I_AUDIENCE, I_BODY_HASH, I_BODY_LEN, I_EXPIRY,
};

/*
 * Build and sign header ${h} spoiled by ${m}, signed by ${key} (or
 * ${m}->signer); return malloc'd signed-header bytes, length in ${*len}.
 */
static uint8_t *
build(const struct record_header *h, const struct kcrypto_key *key,
    const struct mut *m, size_t *len)
{
	static const uint8_t v1domain[] = "kith-record-v1";
	struct codec_writer *w = codec_writer_new();
	uint8_t sig[KITH_SIG_LEN], *big = NULL, *out;
	const uint8_t *hb;
	size_t hlen, siglen;
	int i, nf = m->nfields ? m->nfields : m->v1 ? 12 : NFIELDS;

	assert_non_null(w);
	codec_put_array(w, (uint32_t)nf);
	for (i = 0; i < nf; i++) {
		if (i == m->raw_at)
			codec_put_raw(w, m->raw, m->rawlen);
		else
			put_field(w, h, m->v1 && i < 12 ? v1_items[i] : i);
	}
	hb = codec_writer_data(w, &hlen);
	kcrypto_sign(sig, m->signer ? m->signer : key,
	    m->v1 ? v1domain : domain, m->v1 ? sizeof(v1domain) :
	    sizeof(domain), hb, hlen);
	if (m->sig_raw)
		codec_put_raw(w, m->sraw, m->sralen);
	else {
		siglen = m->siglen ? m->siglen : KITH_SIG_LEN;
		assert_non_null(big = calloc(1, siglen));
		memcpy(big, sig, siglen < sizeof(sig) ? siglen : sizeof(sig));
		codec_put_bin(w, big, siglen);
		free(big);
	}
	assert_int_equal(codec_writer_error(w), 0);
	assert_non_null(out = codec_writer_steal(w, len));
	codec_writer_free(w);
	return out;
}

/* Decode ${sh} with the test body; free the record; return the code. */
static int
decode_rc(const uint8_t *sh, size_t len, const uint8_t *body, size_t blen)
{
	struct record *rec = NULL;
	int rc;

	rc = record_decode(sh, len, body, blen, &rec);
	if (rc == 0) {
		assert_non_null(rec);
		record_free(rec);
	} else
		assert_null(rec);
	return rc;
}

/* Build with ${m}, decode, expect ${want}; record_split agrees. */
static void
expect_mut(const struct record_header *h, const struct mut *m, int want)
{
	struct kcrypto_key *k = tu_key(1);
	uint8_t *sh;
	size_t len, sl;

	sh = build(h, k, m, &len);
	assert_int_equal(decode_rc(sh, len, NULL, 0), want);
	if (want == 0) {
		assert_int_equal(record_split(sh, len, &sl), 0);
		assert_int_equal(sl, len);
	} else
		assert_int_equal(record_split(sh, len, &sl), want);
	free(sh);
	kcrypto_key_free(k);
}

/*
 * A header rule: record_sign refuses ${h} with ${want} and signs nothing,
 * and a receiver decoding ${h}, signed all the same, gets ${want} too.
 */
static void
expect_rule(const struct record_header *h, int want)
{
	struct kcrypto_key *k = tu_key(1);
	struct record *rec = NULL;

	assert_memory_equal(h->author, kcrypto_key_public(k), KITH_KEY_LEN);
	assert_int_equal(record_sign(h, body_buf, body_len, k, &rec), want);
	if (want == 0) {
		assert_int_equal(record_verify(rec), 0);
		record_free(rec);
	} else
		assert_null(rec);
	expect_mut(h, &M0, want);
	kcrypto_key_free(k);
}

static void
assert_header_equal(const struct record_header *a,
    const struct record_header *b)
{
	unsigned i;

	assert_true(a->version == b->version);
	assert_memory_equal(a->network, b->network, KITH_NETWORK_LEN);
	assert_memory_equal(a->author, b->author, KITH_KEY_LEN);
	assert_true(a->seq == b->seq);
	assert_memory_equal(a->prev, b->prev, KITH_ID_LEN);
	assert_true(a->hlc == b->hlc);
	assert_true(a->kind == b->kind);
	assert_memory_equal(a->entity, b->entity, KITH_ENTITY_LEN);
	assert_int_equal(a->genesis, b->genesis);
	if (a->genesis)
		assert_memory_equal(a->nonce, b->nonce, KITH_NONCE_LEN);
	assert_int_equal(a->nparents, b->nparents);
	for (i = 0; i < a->nparents; i++)
		assert_memory_equal(a->parents[i], b->parents[i], KITH_ID_LEN);
	assert_int_equal(a->naudience, b->naudience);
	for (i = 0; i < a->naudience; i++)
		assert_memory_equal(a->audience[i], b->audience[i],
		    KITH_KEY_LEN);
	assert_memory_equal(a->body_hash, b->body_hash, KITH_HASH_LEN);
	assert_true(a->body_len == b->body_len);
	assert_true(a->expiry == b->expiry);
}

static void
test_sign_decode_roundtrip(void **state)
{
	struct kcrypto_key *k = tu_key(1), *k2 = tu_key(2);
	struct record_header h, in;
	struct record *rec, *dec, *bare;
	const uint8_t *sh, *b;
	uint8_t id[32], *mine;
	size_t shlen, blen, mlen, split;

	(void)state;
	full_header(&in, k2);		/* author is overwritten by sign */
	in.version = 77;		/* and so is the version */
	in.body_len = 5;
	memset(in.body_hash, 0, sizeof(in.body_hash));
	assert_int_equal(record_sign(&in, body_buf, body_len, k, &rec), 0);
	full_header(&h, k);
	assert_header_equal(record_header(rec), &h);

	/* Our field-by-field encoder makes the same bytes. */
	sh = record_signed(rec, &shlen);
	mine = build(&h, k, &M0, &mlen);
	assert_int_equal(mlen, shlen);
	assert_memory_equal(mine, sh, shlen);
	free(mine);
	assert_true(shlen <= KITH_SIGNED_MAX);
	assert_memory_equal(record_signature(rec), sh + shlen - 64, 64);
	kcrypto_hash(id, sh, shlen);
	assert_memory_equal(record_id(rec), id, 32);
	assert_int_equal(record_verify(rec), 0);
	/*
	 * The version 2 layout: 14 items (9e), version 2, network and author
	 * (34 bytes each), seq 300 (cd 01 2c), then prev as bin8 of 32; hlc
	 * (9), kind (1) and the entity (18) lead to the nonce, an empty bin
	 * in a record that is no genesis, then the parents' array.
	 */
	assert_int_equal(sh[0], 0x9e);
	assert_int_equal(sh[1], 0x02);
	assert_memory_equal(sh + 70, "\xcd\x01\x2c\xc4\x20", 5);
	assert_memory_equal(sh + 75, h.prev, KITH_ID_LEN);
	assert_memory_equal(sh + 107 + 9 + 1, "\xc4\x10", 2);
	assert_memory_equal(sh + 135, "\xc4\x00\x93", 3);

	/* Decode with the body. */
	assert_int_equal(record_decode(sh, shlen, body_buf, body_len, &dec), 0);
	assert_header_equal(record_header(dec), &h);
	assert_memory_equal(record_id(dec), record_id(rec), 32);
	assert_int_equal(record_verify(dec), 0);
	b = record_body(dec, &blen);
	assert_non_null(b);
	assert_int_equal(blen, body_len);
	assert_memory_equal(b, body_buf, body_len);
	b = record_signed(dec, &blen);
	assert_int_equal(blen, shlen);
	assert_memory_equal(b, sh, shlen);
	assert_true(b != sh);		/* copied */

	/* Without the body: same id, still verifies, no body. */
	assert_int_equal(record_decode(sh, shlen, NULL, 0, &bare), 0);
	assert_memory_equal(record_id(bare), record_id(rec), 32);
	assert_int_equal(record_verify(bare), 0);
	assert_null(record_body(bare, &blen));

	assert_int_equal(record_split(sh, shlen, &split), 0);
	assert_int_equal(split, shlen);

	record_free(rec);
	record_free(dec);
	record_free(bare);
	record_free(NULL);
	kcrypto_key_free(k);
	kcrypto_key_free(k2);
}

/* A genesis carries its nonce, and its entity is the nonce's. */
static void
test_genesis_roundtrip(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h, in;
	struct record *rec, *dec;
	const struct record_header *d;
	const uint8_t *sh;
	uint8_t *mine;
	size_t shlen, mlen, off;

	(void)state;
	genesis_header(&h, k, KITH_KIND_REQUEST);
	in = h;
	in.version = 0;
	assert_int_equal(record_sign(&in, body_buf, body_len, k, &rec), 0);
	assert_header_equal(record_header(rec), &h);
	sh = record_signed(rec, &shlen);
	mine = build(&h, k, &M0, &mlen);
	assert_int_equal(mlen, shlen);
	assert_memory_equal(mine, sh, shlen);
	free(mine);
	/* seq 1 (01), prev 32 zero bytes; the nonce: bin8 of 16 bytes. */
	assert_memory_equal(sh + 70, "\x01\xc4\x20", 3);
	for (off = 73; off < 105; off++)
		assert_int_equal(sh[off], 0);
	off = 105 + 9 + 1;
	assert_memory_equal(sh + off, "\xc4\x10", 2);
	assert_memory_equal(sh + off + 2, h.entity, KITH_ENTITY_LEN);
	off += 2 + KITH_ENTITY_LEN;
	assert_memory_equal(sh + off, "\xc4\x10", 2);
	assert_memory_equal(sh + off + 2, h.nonce, KITH_NONCE_LEN);
	assert_int_equal(sh[off + 2 + KITH_NONCE_LEN], 0x90);	/* parents */

	assert_int_equal(record_decode(sh, shlen, body_buf, body_len, &dec),
	    0);
	d = record_header(dec);
	assert_header_equal(d, &h);
	assert_int_equal(d->genesis, 1);
	assert_memory_equal(d->nonce, h.nonce, KITH_NONCE_LEN);
	assert_int_equal(record_verify(dec), 0);
	record_free(dec);
	record_free(rec);

	/* A charter: the network is zero, and so is the derivation's. */
	genesis_header(&h, k, KITH_KIND_CHARTER);
	expect_rule(&h, 0);
	/* A genesis of a kind this version does not know, with an expiry. */
	genesis_header(&h, k, 0xffff);
	h.expiry = 1;
	h.naudience = KITH_AUDIENCE_MAX;
	expect_rule(&h, 0);
	/* A referral's genesis, addressed to its recipient. */
	genesis_header(&h, k, KITH_KIND_REFERRAL);
	expect_rule(&h, 0);
	/* A genesis need not be its author's first record. */
	genesis_header(&h, k, KITH_KIND_VOLUNTEER);
	h.seq = 9;
	memset(h.prev, 0x99, KITH_ID_LEN);
	expect_rule(&h, 0);
	kcrypto_key_free(k);
}

/* A record that is no genesis: an empty nonce, and zeros in the struct. */
static void
test_no_nonce(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	struct record *rec;
	uint8_t *sh;
	size_t len;

	(void)state;
	full_header(&h, k);
	sh = build(&h, k, &M0, &len);
	assert_int_equal(record_decode(sh, len, NULL, 0, &rec), 0);
	assert_int_equal(record_header(rec)->genesis, 0);
	assert_true(memcmp(record_header(rec)->nonce,
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", KITH_NONCE_LEN) == 0);
	record_free(rec);
	free(sh);
	/* A record of a derived entity need not be the genesis. */
	genesis_header(&h, k, KITH_KIND_REQUEST);
	h.genesis = 0;
	h.seq = 2;
	memset(h.prev, 0x01, KITH_ID_LEN);
	h.nparents = 1;
	expect_rule(&h, 0);
	/* Member, revoke and erase records are never a genesis. */
	full_header(&h, k);
	h.expiry = 0;
	h.kind = KITH_KIND_MEMBER;
	expect_rule(&h, 0);
	h.kind = KITH_KIND_REVOKE;
	expect_rule(&h, 0);
	h.kind = KITH_KIND_ERASE;
	expect_rule(&h, 0);
	/* A record of the author's chain that starts nothing: seq 1, no prev. */
	h.seq = 1;
	memset(h.prev, 0, KITH_ID_LEN);
	expect_rule(&h, 0);
	kcrypto_key_free(k);
}

/*
 * The entity derivation of PROTOCOL.md 3.5, from its definition: the
 * first 16 bytes of H over 97 bytes.
 */
static void
test_entity_derive(void **state)
{
	static const char dom[] = "kith-entity-v2";
	uint8_t net[KITH_NETWORK_LEN], author[KITH_KEY_LEN];
	uint8_t nonce[KITH_NONCE_LEN], in[97], h[32], e[KITH_ENTITY_LEN];
	uint8_t e2[KITH_ENTITY_LEN];

	(void)state;
	assert_int_equal(kcrypto_init(), 0);
	assert_int_equal(sizeof(dom), 15);
	assert_string_equal(RECORD_ENTITY_DOMAIN, dom);
	memset(net, 0x02, sizeof(net));
	memset(author, 0xa7, sizeof(author));
	memset(nonce, 0x03, sizeof(nonce));
	memcpy(in, dom, 15);		/* with its NUL */
	memcpy(in + 15, net, 32);
	in[47] = 0x01;			/* kind 0x0102, big-endian */
	in[48] = 0x02;
	memcpy(in + 49, author, 32);
	memcpy(in + 81, nonce, 16);
	kcrypto_hash(h, in, sizeof(in));
	record_entity_derive(net, 0x0102, author, nonce, e);
	assert_memory_equal(e, h, KITH_ENTITY_LEN);
	/* Every input counts: the kind's byte order, network, author, nonce. */
	record_entity_derive(net, 0x0201, author, nonce, e2);
	assert_memory_not_equal(e, e2, KITH_ENTITY_LEN);
	net[31] ^= 1;
	record_entity_derive(net, 0x0102, author, nonce, e2);
	assert_memory_not_equal(e, e2, KITH_ENTITY_LEN);
	net[31] ^= 1;
	author[0] ^= 1;
	record_entity_derive(net, 0x0102, author, nonce, e2);
	assert_memory_not_equal(e, e2, KITH_ENTITY_LEN);
	author[0] ^= 1;
	nonce[15] ^= 1;
	record_entity_derive(net, 0x0102, author, nonce, e2);
	assert_memory_not_equal(e, e2, KITH_ENTITY_LEN);
	nonce[15] ^= 1;
	record_entity_derive(net, 0x0102, author, nonce, e2);
	assert_memory_equal(e, e2, KITH_ENTITY_LEN);
}

/* An empty body (length 0) and the largest one both round-trip. */
static void
test_body_sizes(void **state)
{
	static const uint8_t ent[KITH_ENTITY_LEN] = { 1 };
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	struct record *rec, *dec;
	uint8_t *big;
	const uint8_t *sh;
	size_t shlen, blen;

	(void)state;
	rec = tu_record(k, NULL, 1, 1, KITH_KIND_MEMBER, ent, NULL, 0,
	    (const uint8_t *)"", 0);
	sh = record_signed(rec, &shlen);
	assert_int_equal(record_decode(sh, shlen, (const uint8_t *)"", 0,
	    &dec), 0);
	assert_non_null(record_body(dec, &blen));
	assert_int_equal(blen, 0);
	assert_int_equal(record_verify(dec), 0);
	record_free(dec);
	/* A one-byte body does not match a zero-length header. */
	assert_int_equal(decode_rc(sh, shlen, (const uint8_t *)"x", 1),
	    KITH_EBODYLEN);
	record_free(rec);

	assert_non_null(big = calloc(1, KITH_BODY_MAX + 1));
	memset(&h, 0, sizeof(h));
	h.seq = 1;
	h.kind = KITH_KIND_REQUEST;
	assert_int_equal(record_sign(&h, big, KITH_BODY_MAX, k, &rec), 0);
	sh = record_signed(rec, &shlen);
	assert_int_equal(decode_rc(sh, shlen, big, KITH_BODY_MAX), 0);
	/* A body over the cap is refused before its length is compared. */
	assert_int_equal(decode_rc(sh, shlen, big, KITH_BODY_MAX + 1),
	    KITH_ETOOBIG);
	record_free(rec);
	rec = NULL;
	assert_int_equal(record_sign(&h, big, KITH_BODY_MAX + 1, k, &rec),
	    KITH_ETOOBIG);
	assert_null(rec);
	free(big);
	kcrypto_key_free(k);
}

/* record_sign refuses headers that break a rule, each with its code. */
static void
test_sign_rules(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	struct record *rec = NULL;

	(void)state;
	full_header(&h, k);
	h.nparents = KITH_PARENTS_MAX;
	h.naudience = KITH_AUDIENCE_MAX;
	h.kind = 0xffff;
	h.seq = UINT64_MAX;
	h.hlc = UINT64_MAX;
	h.expiry = UINT64_MAX;
	assert_int_equal(record_sign(&h, body_buf, body_len, k, &rec), 0);
	assert_int_equal(record_verify(rec), 0);
	{
		const uint8_t *sh;
		size_t len;

		sh = record_signed(rec, &len);
		assert_int_equal(decode_rc(sh, len, NULL, 0), 0);
	}
	record_free(rec);
	rec = NULL;

	full_header(&h, k);
	h.nparents = KITH_PARENTS_MAX + 1;
	assert_int_equal(record_sign(&h, NULL, 0, k, &rec), KITH_ETOOBIG);
	full_header(&h, k);
	h.naudience = KITH_AUDIENCE_MAX + 1;
	assert_int_equal(record_sign(&h, NULL, 0, k, &rec), KITH_ETOOBIG);
	full_header(&h, k);
	h.seq = 0;
	assert_int_equal(record_sign(&h, NULL, 0, k, &rec), KITH_ERANGE);
	full_header(&h, k);
	h.kind = 0;
	assert_int_equal(record_sign(&h, NULL, 0, k, &rec), KITH_ERANGE);
	full_header(&h, k);
	h.kind = 0x10000;
	assert_int_equal(record_sign(&h, NULL, 0, k, &rec), KITH_ERANGE);
	assert_null(rec);
	kcrypto_key_free(k);
}

/* prev is zero exactly at seq 1 (PROTOCOL.md 3.1, 3.8). */
static void
test_rule_prev(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;

	(void)state;
	full_header(&h, k);
	h.seq = 2;
	expect_rule(&h, 0);
	memset(h.prev, 0, KITH_ID_LEN);
	expect_rule(&h, KITH_ERANGE);		/* seq 2, no predecessor */
	h.seq = UINT64_MAX;
	expect_rule(&h, KITH_ERANGE);
	h.prev[31] = 1;				/* one bit is enough */
	expect_rule(&h, 0);
	h.seq = 1;
	expect_rule(&h, KITH_ERANGE);		/* seq 1 names a predecessor */
	h.prev[31] = 0;
	expect_rule(&h, 0);
	h.prev[0] = 0x80;
	expect_rule(&h, KITH_ERANGE);
	/* A genesis follows the same rule. */
	genesis_header(&h, k, KITH_KIND_REQUEST);
	h.prev[7] = 1;
	expect_rule(&h, KITH_ERANGE);
	h.seq = 2;
	expect_rule(&h, 0);
	memset(h.prev, 0, KITH_ID_LEN);
	expect_rule(&h, KITH_ERANGE);
	kcrypto_key_free(k);
}

/* A charter is a genesis, its author's first record, of no network. */
static void
test_rule_charter(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;

	(void)state;
	genesis_header(&h, k, KITH_KIND_CHARTER);
	expect_rule(&h, 0);
	h.genesis = 0;				/* no nonce */
	expect_rule(&h, KITH_ERANGE);
	genesis_header(&h, k, KITH_KIND_CHARTER);
	h.seq = 2;				/* not the first */
	memset(h.prev, 0x77, KITH_ID_LEN);
	expect_rule(&h, KITH_ERANGE);
	/* A network, the entity derived with it: only the network is wrong. */
	genesis_header(&h, k, KITH_KIND_CHARTER);
	h.network[0] = 1;
	record_entity_derive(h.network, h.kind, h.author, h.nonce, h.entity);
	expect_rule(&h, KITH_ERANGE);
	memset(h.network, 0x11, KITH_NETWORK_LEN);
	record_entity_derive(h.network, h.kind, h.author, h.nonce, h.entity);
	expect_rule(&h, KITH_ERANGE);
	/* Any other kind may have a network, with the entity derived from it. */
	h.kind = KITH_KIND_REQUEST;
	record_entity_derive(h.network, h.kind, h.author, h.nonce, h.entity);
	expect_rule(&h, 0);
	kcrypto_key_free(k);
}

/* Member, revoke and erase records never start an entity. */
static void
test_rule_no_nonce(void **state)
{
	static const uint64_t kinds[] = {
		KITH_KIND_MEMBER, KITH_KIND_REVOKE, KITH_KIND_ERASE,
	};
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		/* Derived as it should be: only the kind forbids it. */
		genesis_header(&h, k, kinds[i]);
		expect_rule(&h, KITH_ERANGE);
		h.genesis = 0;
		expect_rule(&h, 0);
	}
	/* The kinds around them may. */
	genesis_header(&h, k, 4);
	expect_rule(&h, 0);
	genesis_header(&h, k, 31);
	expect_rule(&h, 0);
	genesis_header(&h, k, 33);
	expect_rule(&h, 0);
	kcrypto_key_free(k);
}

/* Membership, charters and erasures never expire. */
static void
test_rule_expiry(void **state)
{
	static const uint64_t kinds[] = {
		KITH_KIND_MEMBER, KITH_KIND_REVOKE, KITH_KIND_ERASE,
	};
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		full_header(&h, k);
		h.kind = kinds[i];
		h.expiry = 1;
		expect_rule(&h, KITH_ERANGE);
		h.expiry = UINT64_MAX;
		expect_rule(&h, KITH_ERANGE);
		h.expiry = 0;
		expect_rule(&h, 0);
	}
	genesis_header(&h, k, KITH_KIND_CHARTER);
	h.expiry = 1767225600000ULL;
	expect_rule(&h, KITH_ERANGE);
	/* Requests, volunteers, referrals and unknown kinds may expire. */
	full_header(&h, k);
	h.expiry = 1;
	expect_rule(&h, 0);
	h.kind = KITH_KIND_VOLUNTEER;
	expect_rule(&h, 0);
	h.kind = KITH_KIND_REFERRAL;
	expect_rule(&h, 0);
	h.kind = 4;
	expect_rule(&h, 0);
	kcrypto_key_free(k);
}

/* A genesis follows nothing, and its nonce derives its entity. */
static void
test_rule_genesis(void **state)
{
	struct kcrypto_key *k = tu_key(1), *other = tu_key(2);
	struct record_header h;
	uint8_t nonce[KITH_NONCE_LEN];

	(void)state;
	genesis_header(&h, k, KITH_KIND_REQUEST);
	expect_rule(&h, 0);
	h.nparents = 1;
	expect_rule(&h, KITH_ERANGE);
	h.nparents = KITH_PARENTS_MAX;
	expect_rule(&h, KITH_ERANGE);
	h.genesis = 0;				/* the same, as an update */
	expect_rule(&h, 0);

	/* Any entity byte off. */
	genesis_header(&h, k, KITH_KIND_REQUEST);
	h.entity[0] ^= 1;
	expect_rule(&h, KITH_EGENESIS);
	h.entity[0] ^= 1;
	h.entity[15] ^= 0x80;
	expect_rule(&h, KITH_EGENESIS);
	/* Derived for another kind: a genesis cannot change its kind. */
	genesis_header(&h, k, KITH_KIND_REQUEST);
	record_entity_derive(h.network, KITH_KIND_VOLUNTEER, h.author,
	    h.nonce, h.entity);
	expect_rule(&h, KITH_EGENESIS);
	/* Derived for another author: nor take over another's entity. */
	genesis_header(&h, k, KITH_KIND_REQUEST);
	record_entity_derive(h.network, h.kind, kcrypto_key_public(other),
	    h.nonce, h.entity);
	expect_rule(&h, KITH_EGENESIS);
	/* Derived in another network, or from another nonce. */
	genesis_header(&h, k, KITH_KIND_REQUEST);
	h.network[5] ^= 1;
	expect_rule(&h, KITH_EGENESIS);
	genesis_header(&h, k, KITH_KIND_REQUEST);
	memcpy(nonce, h.nonce, sizeof(nonce));
	nonce[3] ^= 1;
	record_entity_derive(h.network, h.kind, h.author, nonce, h.entity);
	expect_rule(&h, KITH_EGENESIS);
	/* An all-zero nonce is a nonce like any other. */
	genesis_header(&h, k, KITH_KIND_REQUEST);
	memset(h.nonce, 0, sizeof(h.nonce));
	expect_rule(&h, KITH_EGENESIS);
	record_entity_derive(h.network, h.kind, h.author, h.nonce, h.entity);
	expect_rule(&h, 0);
	kcrypto_key_free(k);
	kcrypto_key_free(other);
}

/* The nonce item: an empty bin, or a bin of exactly 16 bytes. */
static void
test_nonce_shape(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	struct mut m = M0;
	uint8_t raw[40];

	(void)state;
	genesis_header(&h, k, KITH_KIND_REQUEST);
	m.raw_at = I_NONCE;
	m.raw = raw;
	raw[0] = 0xc4;
	raw[1] = 16;
	memcpy(raw + 2, h.nonce, 16);
	m.rawlen = 18;
	expect_mut(&h, &m, 0);
	raw[1] = 15;				/* one short */
	m.rawlen = 17;
	expect_mut(&h, &m, KITH_ETYPE);
	raw[1] = 17;				/* one over */
	raw[18] = 0x4e;
	m.rawlen = 19;
	expect_mut(&h, &m, KITH_ETYPE);
	raw[1] = 1;
	m.rawlen = 3;
	expect_mut(&h, &m, KITH_ETYPE);
	raw[1] = 32;				/* an id's length */
	memset(raw + 2, 0x4e, 32);
	m.rawlen = 34;
	expect_mut(&h, &m, KITH_ETYPE);
	/* A str, nil, an empty array where the bin belongs. */
	raw[0] = 0xb0;
	memset(raw + 1, 0x4e, 16);
	m.rawlen = 17;
	expect_mut(&h, &m, KITH_ETYPE);
	m.raw = (const uint8_t *)"\xc0";
	m.rawlen = 1;
	expect_mut(&h, &m, KITH_ETYPE);
	m.raw = (const uint8_t *)"\x90";
	expect_mut(&h, &m, KITH_ETYPE);
	/* A 16-byte nonce as bin16; an empty one as bin16. */
	raw[0] = 0xc5;
	raw[1] = 0;
	raw[2] = 16;
	memcpy(raw + 3, h.nonce, 16);
	m.raw = raw;
	m.rawlen = 19;
	expect_mut(&h, &m, KITH_ENONCANON);
	full_header(&h, k);
	m.rawlen = 3;
	raw[2] = 0;
	expect_mut(&h, &m, KITH_ENONCANON);
	/* The empty bin: no genesis. */
	m.raw = (const uint8_t *)"\xc4\x00";
	m.rawlen = 2;
	expect_mut(&h, &m, 0);
	kcrypto_key_free(k);
}

/* Encode with ${fn}(w, ${arg}) and copy the bytes to ${out}; return the length. */
static size_t
enc(uint8_t *out, size_t cap, void (*fn)(struct codec_writer *, const void *),
    const void *arg)
{
	struct codec_writer *w = codec_writer_new();
	const uint8_t *p;
	size_t len;

	assert_non_null(w);
	fn(w, arg);
	p = codec_writer_data(w, &len);
	assert_true(len <= cap);
	memcpy(out, p, len);
	codec_writer_free(w);
	return len;
}

static void
put_ids(struct codec_writer *w, const void *arg)
{
	unsigned n = *(const unsigned *)arg, i;
	uint8_t id[32];

	codec_put_array(w, n);
	for (i = 0; i < n; i++) {
		memset(id, (int)i, sizeof(id));
		codec_put_bin(w, id, sizeof(id));
	}
}

static void
test_decode_ok_mutants(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	struct mut m = M0;
	uint8_t raw[600];
	unsigned n;

	(void)state;
	full_header(&h, k);
	expect_mut(&h, &M0, 0);
	/* The caps themselves are allowed. */
	n = KITH_PARENTS_MAX;
	m.raw_at = I_PARENTS;
	m.raw = raw;
	m.rawlen = enc(raw, sizeof(raw), put_ids, &n);
	expect_mut(&h, &m, 0);
	n = KITH_AUDIENCE_MAX;
	m.raw_at = I_AUDIENCE;
	m.rawlen = enc(raw, sizeof(raw), put_ids, &n);
	expect_mut(&h, &m, 0);
	h.body_len = KITH_BODY_MAX;
	expect_mut(&h, &M0, 0);
	h.kind = 0xffff;
	expect_mut(&h, &M0, 0);
	kcrypto_key_free(k);
}

/* Each element replaced by nil, in turn: the wrong type. */
static void
test_decode_wrong_type(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	struct mut m = M0;
	uint8_t raw[64], sraw[66];
	int i;

	(void)state;
	full_header(&h, k);
	m.raw = (const uint8_t *)"\xc0";
	m.rawlen = 1;
	for (i = 0; i < NFIELDS; i++) {
		m.raw_at = i;
		expect_mut(&h, &m, KITH_ETYPE);
	}
	/* A str where a bin belongs. */
	raw[0] = 0xd9;
	raw[1] = 32;
	memset(raw + 2, 'a', 32);
	m.raw = raw;
	m.rawlen = 34;
	m.raw_at = I_NETWORK;
	expect_mut(&h, &m, KITH_ETYPE);
	m.raw_at = I_PREV;
	expect_mut(&h, &m, KITH_ETYPE);
	m.raw_at = I_BODY_HASH;
	expect_mut(&h, &m, KITH_ETYPE);
	/* A bin one byte short, or long, where 32 belong. */
	raw[0] = 0xc4;
	raw[1] = 31;
	m.rawlen = 33;
	m.raw_at = 2;
	expect_mut(&h, &m, KITH_ETYPE);
	raw[1] = 33;
	m.rawlen = 35;
	expect_mut(&h, &m, KITH_ETYPE);
	/* A prev one byte short, or long, or the empty bin. */
	m.raw_at = I_PREV;
	expect_mut(&h, &m, KITH_ETYPE);
	raw[1] = 31;
	m.rawlen = 33;
	expect_mut(&h, &m, KITH_ETYPE);
	raw[1] = 0;
	m.rawlen = 2;
	expect_mut(&h, &m, KITH_ETYPE);
	/* An entity of 32 bytes. */
	raw[1] = 32;
	m.rawlen = 34;
	m.raw_at = I_ENTITY;
	expect_mut(&h, &m, KITH_ETYPE);
	/* A negative seq. */
	m.raw = (const uint8_t *)"\xff";
	m.rawlen = 1;
	m.raw_at = 3;
	expect_mut(&h, &m, KITH_ETYPE);
	/* Parents as a map; a parent that is not a bin. */
	m.raw = (const uint8_t *)"\x80";
	m.raw_at = I_PARENTS;
	expect_mut(&h, &m, KITH_ETYPE);
	m.raw = (const uint8_t *)"\x91\x01";
	m.rawlen = 2;
	expect_mut(&h, &m, KITH_ETYPE);

	/* 13 and 15 fields; version 1's 12. */
	m = M0;
	m.nfields = 13;
	expect_mut(&h, &m, KITH_ETYPE);
	m.nfields = 15;
	expect_mut(&h, &m, KITH_ETYPE);
	m.nfields = 12;
	expect_mut(&h, &m, KITH_ETYPE);
	m.nfields = 1;
	expect_mut(&h, &m, KITH_ETYPE);
	/* Version 1's 12 items, stamped version 2: the wrong length. */
	m = M0;
	m.v1 = 1;
	expect_mut(&h, &m, KITH_ETYPE);

	/* The signature: 63 or 65 bytes, a str, nil. */
	m = M0;
	m.siglen = 63;
	expect_mut(&h, &m, KITH_ETYPE);
	m.siglen = 65;
	expect_mut(&h, &m, KITH_ETYPE);
	m.siglen = 0;
	m.sig_raw = 1;
	sraw[0] = 0xd9;
	sraw[1] = 64;
	memset(sraw + 2, 'a', 64);
	m.sraw = sraw;
	m.sralen = 66;
	expect_mut(&h, &m, KITH_ETYPE);
	m.sraw = (const uint8_t *)"\xc0";
	m.sralen = 1;
	expect_mut(&h, &m, KITH_ETYPE);
	kcrypto_key_free(k);
}

/* Not an array at all, or an empty one. */
static void
test_decode_not_array(void **state)
{
	static const uint8_t map[] = { 0x81, 0x01, 0x01 };
	static const uint8_t empty[] = { 0x90 };
	static const uint8_t nil[] = { 0xc0 };

	(void)state;
	assert_int_equal(decode_rc(map, sizeof(map), NULL, 0), KITH_ETYPE);
	assert_int_equal(decode_rc(empty, sizeof(empty), NULL, 0), KITH_ETYPE);
	assert_int_equal(decode_rc(nil, sizeof(nil), NULL, 0), KITH_ETYPE);
	assert_int_equal(decode_rc(nil, 0, NULL, 0), KITH_ETRUNC);
}

static void
test_decode_version(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	struct mut m = M0;

	(void)state;
	full_header(&h, k);
	expect_mut(&h, &M0, 0);
	h.version = 1;
	expect_mut(&h, &M0, KITH_EVERSION);
	h.version = 3;
	expect_mut(&h, &M0, KITH_EVERSION);
	h.version = 0;
	expect_mut(&h, &M0, KITH_EVERSION);
	h.version = 1000;
	expect_mut(&h, &M0, KITH_EVERSION);
	/*
	 * A version 1 record as version 1 wrote it: 12 items, signed under
	 * "kith-record-v1".  Its version is read first: EVERSION, not ETYPE.
	 */
	h.version = 1;
	m.v1 = 1;
	expect_mut(&h, &m, KITH_EVERSION);
	/* The same of a genesis, whose v1 form has no nonce to look at. */
	genesis_header(&h, k, KITH_KIND_CHARTER);
	h.version = 1;
	expect_mut(&h, &m, KITH_EVERSION);
	/* The version is read before the length is checked. */
	m = M0;
	h.version = 3;
	m.nfields = 15;
	expect_mut(&h, &m, KITH_EVERSION);
	m.nfields = 1;
	expect_mut(&h, &m, KITH_EVERSION);
	/* Version 2 with the wrong length is a shape error instead. */
	h.version = 2;
	expect_mut(&h, &m, KITH_ETYPE);
	/* record_sign always writes version 2, whatever it is given. */
	{
		struct record *rec;

		full_header(&h, k);
		h.version = 1;
		assert_int_equal(record_sign(&h, body_buf, body_len, k, &rec),
		    0);
		assert_true(record_header(rec)->version == 2);
		record_free(rec);
	}
	kcrypto_key_free(k);
}

static void
test_decode_range(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;

	(void)state;
	full_header(&h, k);
	h.seq = 0;
	expect_mut(&h, &M0, KITH_ERANGE);
	full_header(&h, k);
	h.kind = 0;
	expect_mut(&h, &M0, KITH_ERANGE);
	h.kind = 0x10000;
	expect_mut(&h, &M0, KITH_ERANGE);
	h.kind = UINT64_MAX;
	expect_mut(&h, &M0, KITH_ERANGE);
	kcrypto_key_free(k);
}

static void
test_decode_toobig(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	struct mut m = M0;
	uint8_t *raw;
	unsigned n;
	size_t i;

	(void)state;
	assert_non_null(raw = malloc(4000));
	full_header(&h, k);
	m.raw = raw;
	n = KITH_PARENTS_MAX + 1;
	m.raw_at = I_PARENTS;
	m.rawlen = enc(raw, 4000, put_ids, &n);
	expect_mut(&h, &m, KITH_ETOOBIG);
	n = KITH_AUDIENCE_MAX + 1;
	m.raw_at = I_AUDIENCE;
	m.rawlen = enc(raw, 4000, put_ids, &n);
	expect_mut(&h, &m, KITH_ETOOBIG);
	/* A count far past the cap, with the ids to back it. */
	n = 20;
	m.raw_at = I_PARENTS;
	m.rawlen = enc(raw, 4000, put_ids, &n);
	expect_mut(&h, &m, KITH_ETOOBIG);
	h.body_len = KITH_BODY_MAX + 1;
	expect_mut(&h, &M0, KITH_ETOOBIG);
	h.body_len = UINT64_MAX;
	expect_mut(&h, &M0, KITH_ETOOBIG);

	/*
	 * A network field of 2000 bytes: the reader stops at the signed-header
	 * cap and calls it too big, not truncated or mistyped.
	 */
	full_header(&h, k);
	raw[0] = 0xc5;
	raw[1] = 2000 >> 8;
	raw[2] = 2000 & 0xff;
	for (i = 0; i < 2000; i++)
		raw[3 + i] = (uint8_t)i;
	m.raw_at = 1;
	m.rawlen = 2003;
	expect_mut(&h, &m, KITH_ETOOBIG);
	/* A signature bin of 2000 bytes likewise. */
	m = M0;
	m.siglen = 2000;
	expect_mut(&h, &m, KITH_ETOOBIG);
	free(raw);
	kcrypto_key_free(k);
}

static void
test_decode_noncanon(void **state)
{
	static const struct {
		int at;
		const char *raw;
		size_t len;
	} cases[] = {
		{ I_VERSION, "\xcc\x02", 2 },
		{ I_SEQ, "\xce\x00\x00\x01\x2c", 5 },		/* 300 */
		{ I_HLC, "\xcf\x00\x00\x00\x00\x00\x00\x00\x05", 9 },
		{ I_KIND, "\xcc\x10", 2 },			/* 16 */
		{ I_NONCE, "\xc5\x00\x00", 3 },		/* empty */
		{ I_NONCE, "\xc6\x00\x00\x00\x00", 5 },
		{ I_BODY_LEN, "\xcc\x08", 2 },			/* 8 */
		{ I_EXPIRY, "\xcf\x00\x00\x00\x00\x00\x00\x00\x00", 9 },
		{ I_PARENTS, "\xdc\x00\x00", 3 },		/* [] */
		{ I_AUDIENCE, "\xdd\x00\x00\x00\x00", 5 },	/* [] */
	};
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	struct mut m = M0;
	uint8_t raw[64];
	size_t i;

	(void)state;
	full_header(&h, k);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m.raw_at = cases[i].at;
		m.raw = (const uint8_t *)cases[i].raw;
		m.rawlen = cases[i].len;
		expect_mut(&h, &m, KITH_ENONCANON);
	}
	/* A network bin written as bin16. */
	raw[0] = 0xc5;
	raw[1] = 0;
	raw[2] = 32;
	memset(raw + 3, 0x11, 32);
	m.raw_at = 1;
	m.raw = raw;
	m.rawlen = 35;
	expect_mut(&h, &m, KITH_ENONCANON);
	/* prev as bin16. */
	memset(raw + 3, 0x3c, 32);
	m.raw_at = I_PREV;
	expect_mut(&h, &m, KITH_ENONCANON);
	/* The header array as array16. */
	{
		uint8_t *sh, *fat;
		size_t len;

		sh = build(&h, k, &M0, &len);
		assert_non_null(fat = malloc(len + 2));
		fat[0] = 0xdc;
		fat[1] = 0;
		fat[2] = NFIELDS;
		memcpy(fat + 3, sh + 1, len - 1);
		assert_int_equal(decode_rc(fat, len + 2, NULL, 0),
		    KITH_ENONCANON);
		/* The signature as bin16. */
		memcpy(fat, sh, len - 66);
		fat[len - 66] = 0xc5;
		fat[len - 65] = 0;
		fat[len - 64] = 64;
		memcpy(fat + len - 63, sh + len - 64, 64);
		assert_int_equal(decode_rc(fat, len + 1, NULL, 0),
		    KITH_ENONCANON);
		free(fat);
		free(sh);
	}
	kcrypto_key_free(k);
}

/* Every proper prefix of a signed header is truncated, never a crash. */
static void
test_decode_truncated(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	uint8_t *sh, *copy;
	size_t len, cut, sl;

	(void)state;
	full_header(&h, k);
	h.nparents = KITH_PARENTS_MAX;
	h.naudience = KITH_AUDIENCE_MAX;
	sh = build(&h, k, &M0, &len);
	for (cut = 0; cut < len; cut++) {
		/* An exact-size copy, so ASan sees any over-read. */
		assert_non_null(copy = malloc(cut ? cut : 1));
		memcpy(copy, sh, cut);
		assert_int_equal(decode_rc(copy, cut, NULL, 0), KITH_ETRUNC);
		assert_int_equal(record_split(copy, cut, &sl), KITH_ETRUNC);
		free(copy);
	}
	assert_int_equal(decode_rc(sh, len, NULL, 0), 0);
	free(sh);
	/* The same of a genesis, which cuts through the nonce. */
	genesis_header(&h, k, KITH_KIND_CHARTER);
	sh = build(&h, k, &M0, &len);
	for (cut = 0; cut < len; cut++) {
		assert_non_null(copy = malloc(cut ? cut : 1));
		memcpy(copy, sh, cut);
		assert_int_equal(decode_rc(copy, cut, NULL, 0), KITH_ETRUNC);
		free(copy);
	}
	assert_int_equal(decode_rc(sh, len, NULL, 0), 0);
	free(sh);
	kcrypto_key_free(k);
}

static void
test_decode_trailing(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	uint8_t *sh, *more;
	size_t len, sl, extra;

	(void)state;
	full_header(&h, k);
	sh = build(&h, k, &M0, &len);
	assert_non_null(more = malloc(len + 2000));
	memcpy(more, sh, len);
	memset(more + len, 0, 2000);
	for (extra = 1; extra <= 2000; extra += extra < 4 ? 1 : 499) {
		assert_int_equal(decode_rc(more, len + extra, NULL, 0),
		    KITH_ETRAILING);
		/* record_split finds the end all the same. */
		sl = 0;
		assert_int_equal(record_split(more, len + extra, &sl), 0);
		assert_int_equal(sl, len);
	}
	/* A byte inside the header array beyond its 14 fields. */
	{
		struct mut m = M0;

		m.nfields = 15;
		expect_mut(&h, &m, KITH_ETYPE);
	}
	free(more);
	free(sh);
	kcrypto_key_free(k);
}

static void
test_decode_body_binding(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	uint8_t *sh, body[64];
	size_t len, i;

	(void)state;
	full_header(&h, k);
	sh = build(&h, k, &M0, &len);
	memcpy(body, body_buf, body_len);
	assert_int_equal(decode_rc(sh, len, body, body_len), 0);
	/* Any flipped byte: the hash. */
	for (i = 0; i < body_len; i++) {
		body[i] ^= 0x20;
		assert_int_equal(decode_rc(sh, len, body, body_len),
		    KITH_EBODYHASH);
		body[i] ^= 0x20;
	}
	/* One byte more or less: the length, checked first. */
	body[body_len] = 0;
	assert_int_equal(decode_rc(sh, len, body, body_len + 1),
	    KITH_EBODYLEN);
	assert_int_equal(decode_rc(sh, len, body, body_len - 1),
	    KITH_EBODYLEN);
	assert_int_equal(decode_rc(sh, len, body, 0), KITH_EBODYLEN);
	/* No body at all is fine. */
	assert_int_equal(decode_rc(sh, len, NULL, 0), 0);
	free(sh);

	/* A header whose hash is not the body's, right length. */
	h.body_hash[0] ^= 1;
	sh = build(&h, k, &M0, &len);
	assert_int_equal(decode_rc(sh, len, body, body_len), KITH_EBODYHASH);
	assert_int_equal(decode_rc(sh, len, NULL, 0), 0);
	free(sh);
	kcrypto_key_free(k);
}

/* Decoding does not check signatures; record_verify does. */
static void
test_forged(void **state)
{
	struct kcrypto_key *a = tu_key(1), *b = tu_key(2);
	struct record_header h;
	struct record *rec;
	struct mut m = M0;
	uint8_t *sh, id[32];
	size_t len, i, off;

	(void)state;
	full_header(&h, a);
	sh = build(&h, a, &M0, &len);
	assert_int_equal(record_decode(sh, len, NULL, 0, &rec), 0);
	assert_int_equal(record_verify(rec), 0);
	memcpy(id, record_id(rec), 32);
	record_free(rec);

	/* Every signature byte flipped, one at a time. */
	for (i = len - 64; i < len; i++) {
		sh[i] ^= 0x04;
		assert_int_equal(record_decode(sh, len, NULL, 0, &rec), 0);
		assert_int_equal(record_verify(rec), KITH_EBADSIG);
		assert_memory_not_equal(record_id(rec), id, 32);
		record_free(rec);
		sh[i] ^= 0x04;
	}
	/*
	 * A flipped byte inside the entity: array, version, network, author,
	 * seq 300 (3 bytes), prev (34), hlc (9), kind 16 (1), then bin8 of 16.
	 */
	off = 1 + 1 + 34 + 34 + 3 + 34 + 9 + 1;
	assert_int_equal(sh[off], 0xc4);
	assert_int_equal(sh[off + 1], 16);
	sh[off + 2 + 5] ^= 0xff;
	assert_int_equal(record_decode(sh, len, NULL, 0, &rec), 0);
	assert_int_equal(record_header(rec)->entity[5], 0xee ^ 0xff);
	assert_int_equal(record_verify(rec), KITH_EBADSIG);
	record_free(rec);
	sh[off + 2 + 5] ^= 0xff;
	/* A flipped byte of prev, 34 bytes back from the hlc: EBADSIG too. */
	off = 1 + 1 + 34 + 34 + 3;
	assert_memory_equal(sh + off, "\xc4\x20", 2);
	sh[off + 2 + 31] ^= 0x01;
	assert_int_equal(record_decode(sh, len, NULL, 0, &rec), 0);
	assert_int_equal(record_header(rec)->prev[31], 0x3c ^ 0x01);
	assert_int_equal(record_verify(rec), KITH_EBADSIG);
	record_free(rec);
	free(sh);

	/*
	 * A genesis's nonce changed in transit no longer derives its entity:
	 * the decoder refuses it before anyone checks a signature.
	 */
	genesis_header(&h, a, KITH_KIND_REQUEST);
	sh = build(&h, a, &M0, &len);
	off = 1 + 1 + 34 + 34 + 1 + 34 + 9 + 1 + 18;
	assert_memory_equal(sh + off, "\xc4\x10", 2);
	assert_memory_equal(sh + off + 2, h.nonce, KITH_NONCE_LEN);
	assert_int_equal(decode_rc(sh, len, NULL, 0), 0);
	sh[off + 2 + 9] ^= 0x10;
	assert_int_equal(decode_rc(sh, len, NULL, 0), KITH_EGENESIS);
	sh[off + 2 + 9] ^= 0x10;
	/* And so is one whose entity changed. */
	sh[off - 1] ^= 0x01;
	assert_int_equal(decode_rc(sh, len, NULL, 0), KITH_EGENESIS);
	free(sh);

	/* Signed by A, author field B. */
	full_header(&h, b);
	m.signer = a;
	sh = build(&h, a, &m, &len);
	assert_int_equal(record_decode(sh, len, NULL, 0, &rec), 0);
	assert_memory_equal(record_header(rec)->author, kcrypto_key_public(b),
	    32);
	assert_int_equal(record_verify(rec), KITH_EBADSIG);
	record_free(rec);
	free(sh);

	/* A's record with the author bytes patched to B. */
	full_header(&h, a);
	sh = build(&h, a, &M0, &len);
	for (off = 0; off + 32 <= len; off++)
		if (memcmp(sh + off, kcrypto_key_public(a), 32) == 0)
			break;
	assert_true(off + 32 <= len);
	memcpy(sh + off, kcrypto_key_public(b), 32);
	assert_int_equal(record_decode(sh, len, NULL, 0, &rec), 0);
	assert_int_equal(record_verify(rec), KITH_EBADSIG);
	record_free(rec);
	free(sh);

	/* Signed without the domain prefix. */
	{
		struct codec_writer *w = codec_writer_new();
		const uint8_t *hb;
		uint8_t sig[64];
		size_t hlen;
		int j;

		assert_non_null(w);
		codec_put_array(w, NFIELDS);
		for (j = 0; j < NFIELDS; j++)
			put_field(w, &h, j);
		hb = codec_writer_data(w, &hlen);
		kcrypto_sign(sig, a, NULL, 0, hb, hlen);
		codec_put_bin(w, sig, 64);
		hb = codec_writer_data(w, &len);
		assert_int_equal(record_decode(hb, len, NULL, 0, &rec), 0);
		assert_int_equal(record_verify(rec), KITH_EBADSIG);
		record_free(rec);
		codec_writer_free(w);
	}
	kcrypto_key_free(a);
	kcrypto_key_free(b);
}

static void
test_verify_batch(void **state)
{
	enum { N = 500 };
	static const uint8_t ent[KITH_ENTITY_LEN] = { 7 };
	struct kcrypto_key *k[3] = { tu_key(1), tu_key(2), tu_key(3) };
	struct record *recs[N], *ok;
	const uint8_t *p;
	int rcs[N], want[N];
	uint8_t *sh;
	size_t i, len, nbad = 0;
	uint64_t seed = 5;

	(void)state;
	for (i = 0; i < N; i++) {
		ok = tu_record(k[i % 3], NULL, i + 1, 1000 + i, KITH_KIND_MEMBER,
		    ent, NULL, 0, (const uint8_t *)&i, sizeof(i));
		sh = malloc(KITH_SIGNED_MAX);
		assert_non_null(sh);
		p = record_signed(ok, &len);
		memcpy(sh, p, len);
		want[i] = 0;
		if (tu_rng(&seed) % 5 == 0) {
			sh[len - 1 - tu_rng(&seed) % 64] ^= 0x40;
			want[i] = KITH_EBADSIG;
			nbad++;
		}
		assert_int_equal(record_decode(sh, len, NULL, 0, &recs[i]), 0);
		free(sh);
		record_free(ok);
		rcs[i] = 12345;
	}
	assert_true(nbad > 50 && nbad < 200);
	/* Some holes, which must be left alone. */
	record_free(recs[17]);
	recs[17] = NULL;
	record_free(recs[N - 1]);
	recs[N - 1] = NULL;
	record_verify_batch(recs, N, rcs);
	for (i = 0; i < N; i++) {
		if (recs[i] == NULL) {
			assert_int_equal(rcs[i], 12345);
			continue;
		}
		assert_int_equal(rcs[i], want[i]);
		assert_int_equal(rcs[i], record_verify(recs[i]));
	}
	/* Small batches run inline; same answers. */
	for (i = 0; i < 10; i++)
		rcs[i] = 12345;
	record_verify_batch(recs, 10, rcs);
	for (i = 0; i < 10; i++)
		assert_int_equal(rcs[i], want[i]);
	record_verify_batch(recs, 0, rcs);
	for (i = 0; i < N; i++)
		record_free(recs[i]);
	for (i = 0; i < 3; i++)
		kcrypto_key_free(k[i]);
}

/* record_verify_each: in index order, holes skipped, early stop. */
struct each {
	const int *want;
	size_t next, stop_at, calls;
};

static int
each_cb(void *arg, size_t i, int rc)
{
	struct each *e = arg;

	assert_true(i >= e->next);
	e->next = i + 1;
	e->calls++;
	assert_int_equal(rc, e->want[i]);
	return i == e->stop_at ? KITH_EIO : 0;
}

static void
test_verify_each(void **state)
{
	enum { N = 300 };
	static const uint8_t ent[KITH_ENTITY_LEN] = { 8 };
	struct kcrypto_key *k = tu_key(4);
	struct record *recs[N], *ok;
	struct each e;
	const uint8_t *p;
	int want[N];
	uint8_t sh[KITH_SIGNED_MAX];
	size_t i, len;

	(void)state;
	for (i = 0; i < N; i++) {
		ok = tu_record(k, NULL, i + 1, 1000 + i, KITH_KIND_MEMBER, ent,
		    NULL, 0, NULL, 0);
		p = record_signed(ok, &len);
		memcpy(sh, p, len);
		want[i] = i % 11 == 3 ? KITH_EBADSIG : 0;
		if (want[i] != 0)
			sh[len - 10] ^= 1;
		assert_int_equal(record_decode(sh, len, NULL, 0, &recs[i]), 0);
		record_free(ok);
	}
	record_free(recs[5]);
	recs[5] = NULL;
	memset(&e, 0, sizeof(e));
	e.want = want;
	e.stop_at = N;
	assert_int_equal(record_verify_each(recs, N, each_cb, &e), 0);
	assert_int_equal(e.calls, N - 1);
	memset(&e, 0, sizeof(e));
	e.want = want;
	e.stop_at = 200;
	assert_int_equal(record_verify_each(recs, N, each_cb, &e), KITH_EIO);
	assert_int_equal(e.calls, 200);		/* 0..200, less the hole */
	for (i = 0; i < N; i++)
		record_free(recs[i]);
	kcrypto_key_free(k);
}

/*
 * record_sign_batch: the records record_sign makes, in order, chained:
 * each after the first names the one before it as its prev.
 */
struct sb {
	const struct record_header *hdrs;
	const uint8_t *const *bodies;
	const size_t *blens;
	const struct kcrypto_key *key;
	size_t next, stop_at;
	uint8_t last[KITH_ID_LEN];	/* the id of record next - 1 */
};

static int
sb_cb(void *arg, size_t i, const struct record *rec)
{
	struct sb *s = arg;
	struct record_header h = s->hdrs[i];
	struct record *one;
	const uint8_t *a, *b;
	size_t la, lb;

	assert_int_equal(i, s->next);
	s->next++;
	if (i > 0)
		memcpy(h.prev, s->last, KITH_ID_LEN);
	assert_memory_equal(record_header(rec)->prev, h.prev, KITH_ID_LEN);
	assert_int_equal(record_sign(&h, s->bodies[i], s->blens[i], s->key,
	    &one), 0);
	a = record_signed(one, &la);
	b = record_signed(rec, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_int_equal(record_verify(rec), 0);
	record_free(one);
	memcpy(s->last, record_id(rec), KITH_ID_LEN);
	return i == s->stop_at ? KITH_EIO : 0;
}

static void
test_sign_batch(void **state)
{
	enum { N = 200 };
	struct kcrypto_key *k = tu_key(5);
	struct record_header *hdrs;
	const uint8_t *bodies[N];
	size_t blens[N], i;
	struct sb s;

	(void)state;
	assert_non_null(hdrs = calloc(N, sizeof(*hdrs)));
	for (i = 0; i < N; i++) {
		hdrs[i].seq = i + 1;
		/* Whatever a caller leaves in prev past the first is replaced. */
		memset(hdrs[i].prev, i == 0 ? 0 : 0xfe, KITH_ID_LEN);
		hdrs[i].hlc = 5000 + i;
		hdrs[i].kind = KITH_KIND_REQUEST;
		hdrs[i].entity[0] = (uint8_t)i;
		bodies[i] = (const uint8_t *)"abcdefgh" + i % 8;
		blens[i] = 8 - i % 8;
	}
	/* The first is a genesis, as kith's first write of an entity is. */
	hdrs[0].genesis = 1;
	memset(hdrs[0].nonce, 0x42, KITH_NONCE_LEN);
	record_entity_derive(hdrs[0].network, hdrs[0].kind,
	    kcrypto_key_public(k), hdrs[0].nonce, hdrs[0].entity);
	memset(&s, 0, sizeof(s));
	s.hdrs = hdrs;
	s.bodies = bodies;
	s.blens = blens;
	s.key = k;
	s.stop_at = N;
	assert_int_equal(record_sign_batch(hdrs, bodies, blens, N, k, sb_cb,
	    &s), 0);
	assert_int_equal(s.next, N);
	/* Small batches are signed on the calling thread; the same chain. */
	s.next = 0;
	assert_int_equal(record_sign_batch(hdrs, bodies, blens, 10, k, sb_cb,
	    &s), 0);
	assert_int_equal(s.next, 10);
	assert_int_equal(record_sign_batch(hdrs, bodies, blens, 0, k, sb_cb,
	    &s), 0);
	/* A batch may start mid-chain: its first prev is the caller's. */
	hdrs[40].genesis = 0;
	memset(hdrs[40].prev, 0x41, KITH_ID_LEN);
	s.next = 0;
	s.hdrs = hdrs + 40;
	s.bodies = bodies + 40;
	s.blens = blens + 40;
	assert_int_equal(record_sign_batch(hdrs + 40, bodies + 40, blens + 40,
	    N - 40, k, sb_cb, &s), 0);
	assert_int_equal(s.next, N - 40);
	s.hdrs = hdrs;
	s.bodies = bodies;
	s.blens = blens;
	/* The callback's error stops the batch. */
	s.next = 0;
	s.stop_at = 150;
	assert_int_equal(record_sign_batch(hdrs, bodies, blens, N, k, sb_cb,
	    &s), KITH_EIO);
	assert_int_equal(s.next, 151);
	/* A header that breaks a rule stops it with that rule's code. */
	hdrs[120].seq = 0;
	s.next = 0;
	s.stop_at = N;
	assert_int_equal(record_sign_batch(hdrs, bodies, blens, N, k, sb_cb,
	    &s), KITH_ERANGE);
	assert_int_equal(s.next, 120);
	/* So does a seq of 1 past the first: the chain names a prev there. */
	hdrs[120].seq = 121;
	hdrs[60].seq = 1;
	s.next = 0;
	assert_int_equal(record_sign_batch(hdrs, bodies, blens, N, k, sb_cb,
	    &s), KITH_ERANGE);
	assert_int_equal(s.next, 60);
	hdrs[60].seq = 61;
	/* And a genesis whose entity is not its nonce's. */
	hdrs[0].entity[0] ^= 1;
	s.next = 0;
	assert_int_equal(record_sign_batch(hdrs, bodies, blens, N, k, sb_cb,
	    &s), KITH_EGENESIS);
	assert_int_equal(s.next, 0);
	free(hdrs);
	kcrypto_key_free(k);
}

/* A record without its body: the same record, as a node holds it. */
static void
test_strip(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	struct record *rec, *bare, *again, *empty;
	const uint8_t *a, *b;
	size_t la, lb;

	(void)state;
	genesis_header(&h, k, KITH_KIND_REQUEST);
	assert_int_equal(record_sign(&h, body_buf, body_len, k, &rec), 0);
	assert_non_null(record_body(rec, &la));
	assert_int_equal(record_strip(rec, &bare), 0);
	assert_true(bare != rec);
	assert_null(record_body(bare, &lb));
	assert_memory_equal(record_id(bare), record_id(rec), KITH_ID_LEN);
	assert_header_equal(record_header(bare), record_header(rec));
	a = record_signed(rec, &la);
	b = record_signed(bare, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_true(a != b);			/* a copy */
	assert_memory_equal(record_signature(bare), record_signature(rec),
	    KITH_SIG_LEN);
	assert_int_equal(record_verify(bare), 0);
	/* The original keeps its body and outlives nothing of the copy. */
	record_free(rec);
	assert_int_equal(record_verify(bare), 0);
	/* Stripping what has no body gives the same again. */
	assert_int_equal(record_strip(bare, &again), 0);
	assert_null(record_body(again, &la));
	assert_memory_equal(record_id(again), record_id(bare), KITH_ID_LEN);
	record_free(again);
	record_free(bare);
	/* An empty body (length 0) is a body; stripped, it is none. */
	full_header(&h, k);
	assert_int_equal(record_sign(&h, (const uint8_t *)"", 0, k, &rec), 0);
	assert_non_null(record_body(rec, &la));
	assert_int_equal(la, 0);
	assert_int_equal(record_strip(rec, &empty), 0);
	assert_null(record_body(empty, &la));
	assert_int_equal(record_verify(empty), 0);
	record_free(empty);
	record_free(rec);
	kcrypto_key_free(k);
}

/* Sign ${h} as a genesis at ${seq} (prev 0x50 unless 1), stamped ${hlc}. */
static struct record *
genesis_at(const struct record_header *base, const struct kcrypto_key *k,
    uint64_t seq, uint64_t hlc, int genesis)
{
	struct record_header h = *base;
	struct record *rec;

	h.seq = seq;
	memset(h.prev, seq == 1 ? 0 : 0x50, KITH_ID_LEN);
	h.hlc = hlc;
	h.genesis = genesis;
	assert_int_equal(record_sign(&h, NULL, 0, k, &rec), 0);
	return rec;
}

/* An entity's genesis: of its records with a nonce, the least (seq, id). */
static void
test_genesis_pick(void **state)
{
	struct kcrypto_key *k = tu_key(1);
	struct record_header h;
	struct record *r[6], *perm[6];
	const struct record *g, *lo;
	size_t i, j;

	(void)state;
	genesis_header(&h, k, KITH_KIND_REQUEST);
	r[0] = genesis_at(&h, k, 5, 100, 0);	/* updates */
	r[1] = genesis_at(&h, k, 1, 1, 0);
	r[2] = genesis_at(&h, k, 4, 50, 1);	/* nonce-carriers */
	r[3] = genesis_at(&h, k, 3, 900, 1);
	r[4] = genesis_at(&h, k, 3, 800, 1);	/* a fork at seq 3 */
	r[5] = genesis_at(&h, k, 7, 2, 1);
	for (i = 0; i < 6; i++)
		assert_memory_equal(record_header(r[i])->entity, h.entity,
		    KITH_ENTITY_LEN);
	/* None with a nonce, or none at all. */
	assert_null(record_genesis(r, 2));
	assert_null(record_genesis(r, 0));
	/* The least seq, whatever the clock says. */
	assert_true(record_genesis(r, 3) == r[2]);
	assert_true(record_genesis(r + 2, 1) == r[2]);
	assert_true(record_genesis(r + 5, 1) == r[5]);
	/* At the same seq, the least id bytewise. */
	lo = memcmp(record_id(r[3]), record_id(r[4]), KITH_ID_LEN) < 0 ?
	    r[3] : r[4];
	assert_true(record_genesis(r + 3, 2) == lo);
	/* In any order: rotations and the reverse. */
	for (i = 0; i < 6; i++) {
		for (j = 0; j < 6; j++)
			perm[j] = r[(i + j) % 6];
		g = record_genesis(perm, 6);
		assert_true(g == lo);
		for (j = 0; j < 6; j++)
			perm[j] = r[(i + 6 - j) % 6];
		assert_true(record_genesis(perm, 6) == lo);
	}
	/* Dropping the winner gives the other side of the fork. */
	for (i = 0, j = 0; i < 6; i++)
		if (r[i] != lo)
			perm[j++] = r[i];
	g = record_genesis(perm, 5);
	assert_true(g == (lo == r[3] ? r[4] : r[3]));
	for (i = 0; i < 6; i++)
		record_free(r[i]);
	kcrypto_key_free(k);
}

static void
test_split(void **state)
{
	static const uint8_t ent[KITH_ENTITY_LEN] = { 9 };
	struct kcrypto_key *k = tu_key(6);
	struct record *r1, *r2;
	const uint8_t *s1, *s2;
	uint8_t *cat;
	size_t l1, l2, sl;

	(void)state;
	r1 = tu_record(k, NULL, 1, 10, KITH_KIND_MEMBER, ent, NULL, 0, NULL, 0);
	r2 = tu_record(k, NULL, 2, 11, KITH_KIND_MEMBER, ent,
	    (const uint8_t (*)[32])record_id(r1), 1, NULL, 0);
	s1 = record_signed(r1, &l1);
	s2 = record_signed(r2, &l2);
	assert_true(l1 != l2);
	assert_non_null(cat = malloc(l1 + l2));
	memcpy(cat, s1, l1);
	memcpy(cat + l1, s2, l2);
	/* Two signed headers back to back split into the two. */
	assert_int_equal(record_split(cat, l1 + l2, &sl), 0);
	assert_int_equal(sl, l1);
	assert_int_equal(record_split(cat + sl, l1 + l2 - sl, &sl), 0);
	assert_int_equal(sl, l2);
	/* Cut short: truncated. */
	assert_int_equal(record_split(cat, l1 - 1, &sl), KITH_ETRUNC);
	/* Garbage in front: a decode error. */
	cat[0] = 0xc1;
	assert_int_equal(record_split(cat, l1 + l2, &sl), KITH_ETYPE);
	free(cat);
	record_free(r1);
	record_free(r2);
	kcrypto_key_free(k);
}

/* The scope of a key: roster records, and records addressed to it. */
static void
test_in_scope(void **state)
{
	static const uint8_t k[KITH_KEY_LEN] = { 1, 2, 3 };
	static const uint8_t other[KITH_KEY_LEN] = { 1, 2, 4 };
	struct record_header h;
	uint64_t kind;

	(void)state;
	memset(&h, 0, sizeof(h));
	for (kind = KITH_KIND_CHARTER; kind <= KITH_KIND_REVOKE; kind++) {
		h.kind = kind;
		assert_int_equal(record_in_scope(&h, k), 1);
	}
	h.kind = KITH_KIND_REFERRAL;
	assert_int_equal(record_in_scope(&h, k), 0);
	h.naudience = 1;
	memcpy(h.audience[0], other, KITH_KEY_LEN);
	assert_int_equal(record_in_scope(&h, k), 0);
	h.naudience = 2;
	memcpy(h.audience[1], k, KITH_KEY_LEN);
	assert_int_equal(record_in_scope(&h, k), 1);
	/* Only the audience's first naudience keys count. */
	h.naudience = 1;
	assert_int_equal(record_in_scope(&h, k), 0);
	h.kind = KITH_KIND_ERASE;
	assert_int_equal(record_in_scope(&h, k), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_decode_roundtrip),
		cmocka_unit_test(test_in_scope),
		cmocka_unit_test(test_body_sizes),
		cmocka_unit_test(test_sign_rules),
		cmocka_unit_test(test_genesis_roundtrip),
		cmocka_unit_test(test_no_nonce),
		cmocka_unit_test(test_entity_derive),
		cmocka_unit_test(test_rule_prev),
		cmocka_unit_test(test_rule_charter),
		cmocka_unit_test(test_rule_no_nonce),
		cmocka_unit_test(test_rule_expiry),
		cmocka_unit_test(test_rule_genesis),
		cmocka_unit_test(test_nonce_shape),
		cmocka_unit_test(test_decode_ok_mutants),
		cmocka_unit_test(test_decode_wrong_type),
		cmocka_unit_test(test_decode_not_array),
		cmocka_unit_test(test_decode_version),
		cmocka_unit_test(test_decode_range),
		cmocka_unit_test(test_decode_toobig),
		cmocka_unit_test(test_decode_noncanon),
		cmocka_unit_test(test_decode_truncated),
		cmocka_unit_test(test_decode_trailing),
		cmocka_unit_test(test_decode_body_binding),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_verify_batch),
		cmocka_unit_test(test_verify_each),
		cmocka_unit_test(test_sign_batch),
		cmocka_unit_test(test_strip),
		cmocka_unit_test(test_genesis_pick),
		cmocka_unit_test(test_split),
	};

	return tu_run(tests, NULL, NULL);
}
