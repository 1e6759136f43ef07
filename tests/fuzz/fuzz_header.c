/*
 * Fuzz the signed-header decoder: record_split and record_decode must agree,
 * never crash, and accept only bytes that re-encode to themselves and keep
 * the header rules of PROTOCOL.md 3.1 (prev, nonce, genesis).  Whatever
 * follows a split header is tried as the body, which exercises the body
 * length and hash checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "kcrypto.h"
#include "kith.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Re-encode ${h} as record.c does; return 1 if it gives ${p}[${n}]. */
static int
same_header(const struct record_header *h, const uint8_t *p, size_t n)
{
	struct codec_writer *w;
	const uint8_t *enc;
	size_t len;
	unsigned i;
	int same;

	if ((w = codec_writer_new()) == NULL)
		return 1;	/* out of memory proves nothing */
	codec_put_array(w, 14);
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
	codec_put_uint(w, h->expiry);
	if (codec_writer_error(w) != 0) {
		codec_writer_free(w);
		return 1;
	}
	enc = codec_writer_data(w, &len);
	same = len == n && memcmp(enc, p, n) == 0;
	codec_writer_free(w);
	return same;
}

static int
is_zero(const uint8_t *p, size_t n)
{

	while (n > 0)
		if (p[--n] != 0)
			return 0;
	return 1;
}

/* Abort unless ${h} keeps the header rules of PROTOCOL.md 3.1. */
static void
check_rules(const struct record_header *h)
{
	uint8_t ent[KITH_ENTITY_LEN];

	if (h->version != KITH_PROTO_VERSION || h->seq == 0 ||
	    h->kind == 0 || h->kind > 0xffff ||
	    h->nparents > KITH_PARENTS_MAX ||
	    h->naudience > KITH_AUDIENCE_MAX || h->body_len > KITH_BODY_MAX)
		abort();
	if (is_zero(h->prev, sizeof(h->prev)) != (h->seq == 1))
		abort();
	if (h->kind == KITH_KIND_CHARTER && (!h->genesis || h->seq != 1 ||
	    !is_zero(h->network, sizeof(h->network))))
		abort();
	if ((KITH_KIND_IS_MEMBERSHIP(h->kind) || h->kind == KITH_KIND_ERASE) &&
	    h->expiry != 0)
		abort();
	if (!h->genesis) {
		if (!is_zero(h->nonce, sizeof(h->nonce)))
			abort();
		return;
	}
	if (h->kind == KITH_KIND_MEMBER || h->kind == KITH_KIND_REVOKE ||
	    h->kind == KITH_KIND_ERASE || h->nparents != 0)
		abort();
	record_entity_derive(h->network, h->kind, h->author, h->nonce, ent);
	if (memcmp(ent, h->entity, sizeof(ent)) != 0)
		abort();
}

/* 1 if ${rc} is an error record_decode documents for a signed header. */
static int
decode_error(int rc)
{

	switch (rc) {
	case KITH_ETRUNC: case KITH_ETRAILING: case KITH_ETYPE:
	case KITH_EVERSION: case KITH_ETOOBIG: case KITH_ENONCANON:
	case KITH_ERANGE: case KITH_EGENESIS: case KITH_ENOMEM:
		return 1;
	}
	return 0;
}

/* Check a record that decoded from ${data}[${size}]. */
static void
check(struct record *rec, const uint8_t *data, size_t size,
    const uint8_t *body, size_t blen)
{
	const struct record_header *h = record_header(rec);
	const uint8_t *sh, *b;
	uint8_t id[KITH_ID_LEN];
	size_t len, bl;
	int rc;

	sh = record_signed(rec, &len);
	if (len != size || memcmp(sh, data, size) != 0)
		abort();
	/* A signed header ends in c4 40 and the 64-byte signature. */
	if (size < KITH_SIG_LEN + 2 || sh[size - KITH_SIG_LEN - 2] != 0xc4 ||
	    sh[size - KITH_SIG_LEN - 1] != KITH_SIG_LEN ||
	    record_signature(rec) != sh + size - KITH_SIG_LEN)
		abort();
	if (!same_header(h, data, size - KITH_SIG_LEN - 2))
		abort();
	check_rules(h);
	kcrypto_hash(id, data, size);
	if (memcmp(id, record_id(rec), sizeof(id)) != 0)
		abort();
	b = record_body(rec, &bl);
	if ((body == NULL) != (b == NULL) ||
	    (b != NULL && (bl != blen || memcmp(b, body, blen) != 0)))
		abort();
	rc = record_verify(rec);
	if (rc != 0 && rc != KITH_EBADSIG)
		abort();
	/* One record is its entity's genesis exactly if it has a nonce. */
	if ((record_genesis(&rec, 1) == rec) != (h->genesis != 0))
		abort();
	/* Without its body, the same record. */
	{
		struct record *bare = NULL;

		if (record_strip(rec, &bare) != 0)
			return;		/* out of memory proves nothing */
		sh = record_signed(bare, &len);
		if (len != size || memcmp(sh, data, size) != 0 ||
		    record_body(bare, &bl) != NULL ||
		    memcmp(record_id(bare), record_id(rec), KITH_ID_LEN) != 0)
			abort();
		record_free(bare);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct record *rec = NULL;
	size_t shlen = 0;
	int src, rc;

	if (!init) {
		if (kcrypto_init() != 0)
			abort();
		init = 1;
	}
	src = record_split(data, size, &shlen);
	if (src == 0 && (shlen > size || shlen > KITH_SIGNED_MAX))
		abort();
	rc = record_decode(data, size, NULL, 0, &rec);
	if (rc != 0 && (!decode_error(rc) || rec != NULL))
		abort();
	/* Both parse the same way; only trailing bytes tell them apart. */
	if (src != 0 && rc != src)
		abort();
	if (src == 0 && rc != (shlen == size ? 0 : KITH_ETRAILING))
		abort();
	if (rc == 0) {
		check(rec, data, size, NULL, 0);
		record_free(rec);
		rec = NULL;
	}
	/* Whatever follows a split header is its body. */
	if (src == 0) {
		rc = record_decode(data, shlen, data + shlen, size - shlen,
		    &rec);
		if (rc == 0) {
			check(rec, data, shlen, data + shlen, size - shlen);
			record_free(rec);
		} else if (rc != KITH_EBODYLEN && rc != KITH_EBODYHASH &&
		    rc != KITH_ETOOBIG)
			abort();
	}
	return 0;
}
