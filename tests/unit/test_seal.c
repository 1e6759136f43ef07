/*
 * Sealed personal fields: what seal_encrypt writes opens for each
 * recipient and nobody else, any change to it fails to open, and the
 * decoder refuses every encoding seal_encrypt would not write.  Real
 * crypto throughout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "codec.h"
#include "kcrypto.h"
#include "kith.h"
#include "seal.h"
#include "testutil.h"

#define NORGS	20
#define WRAP_ENC	(1 + 2 + SEAL_RECIPIENT_LEN + 2 + SEAL_WRAP_LEN)

/* Organisations' X25519 pairs, from fixed ed25519 seeds. */
static uint8_t org_pk[NORGS][32], org_sk[NORGS][32];

static const uint8_t entity[KITH_ENTITY_LEN] = {
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

/* {"name": "Ana Álvarez", "notes": "ring twice", "phone": "07700 900123"} */
static uint8_t plain[64];
static size_t plainlen;

static int
setup(void **state)
{
	struct codec_writer *w;
	struct kcrypto_key *k;
	const uint8_t *p;
	int i;

	(void)state;
	for (i = 0; i < NORGS; i++) {
		k = tu_key((uint8_t)(0x40 + i));
		if (kcrypto_key_x25519(k, org_pk[i], org_sk[i]) != 0)
			return -1;
		kcrypto_key_free(k);
	}
	if ((w = codec_writer_new()) == NULL)
		return -1;
	codec_put_map(w, 3);
	codec_put_cstr(w, "name");
	codec_put_cstr(w, "Ana \xc3\x81lvarez");
	codec_put_cstr(w, "notes");
	codec_put_cstr(w, "ring twice");
	codec_put_cstr(w, "phone");
	codec_put_cstr(w, "07700 900123");
	p = codec_writer_data(w, &plainlen);
	memcpy(plain, p, plainlen);
	codec_writer_free(w);
	return 0;
}

/* Seal ${plain} to orgs ${idx}[0..n); return the encoding. */
static uint8_t *
seal_to(const int *idx, size_t n, size_t *len)
{
	uint8_t (*keys)[32];
	uint8_t *out = NULL;
	size_t i;

	assert_non_null(keys = malloc((n ? n : 1) * sizeof(*keys)));
	for (i = 0; i < n; i++)
		memcpy(keys[i], org_pk[idx[i]], 32);
	assert_int_equal(seal_encrypt(plain, plainlen, entity,
	    (const uint8_t (*)[32])keys, n, &out, len), 0);
	free(keys);
	return out;
}

/*
 * Decode ${n} bytes and open them as org ${o} for entity ${ent}; check a
 * success gives back ${plain}; return the first failing code.
 */
static int
open_as(const uint8_t *p, size_t n, const uint8_t *ent, int o)
{
	struct seal *s = NULL;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	int rc;

	if ((rc = seal_decode(p, n, &s)) != 0) {
		assert_null(s);
		return rc;
	}
	rc = seal_open(s, ent, org_pk[o], org_sk[o], &pt, &ptlen);
	if (rc == 0) {
		assert_int_equal(ptlen, plainlen);
		assert_memory_equal(pt, plain, plainlen);
		free(pt);
	} else
		assert_null(pt);
	seal_free(s);
	return rc;
}

/* Decode only; free what decodes. */
static int
dec(const uint8_t *p, size_t n)
{
	struct seal *s = NULL;
	int rc;

	rc = seal_decode(p, n, &s);
	if (rc == 0)
		assert_non_null(s);
	else
		assert_null(s);
	seal_free(s);
	return rc;
}

static void
test_roundtrip_one(void **state)
{
	static const int one[] = { 3 };
	struct seal *s = NULL;
	uint8_t *p, *q;
	size_t len, len2, ct = plainlen + SEAL_TAG_LEN;

	(void)state;
	p = seal_to(one, 1, &len);
	/* fixarray 3, bin8 nonce, bin8 ciphertext, fixarray 1 of a wrap. */
	assert_int_equal(len, 1 + 2 + 24 + 2 + ct + 1 + WRAP_ENC);
	assert_memory_equal(p, "\x93\xc4\x18", 3);
	assert_int_equal(p[27], 0xc4);
	assert_int_equal(p[28], ct);
	assert_memory_equal(p + 29 + ct, "\x91\x92\xc4\x20", 4);
	assert_memory_equal(p + 33 + ct, org_pk[3], 32);
	assert_memory_equal(p + 65 + ct, "\xc4\x50", 2);
	assert_int_equal(seal_decode(p, len, &s), 0);
	assert_int_equal(seal_nrecipients(s), 1);
	assert_memory_equal(seal_recipient(s, 0), org_pk[3], 32);
	assert_null(seal_recipient(s, 1));
	seal_free(s);
	assert_int_equal(open_as(p, len, entity, 3), 0);

	/* A fresh content key and nonce each time. */
	q = seal_to(one, 1, &len2);
	assert_int_equal(len2, len);
	assert_memory_not_equal(p + 3, q + 3, 24);
	assert_memory_not_equal(p + 29, q + 29, ct);
	assert_int_equal(open_as(q, len2, entity, 3), 0);
	free(p);
	free(q);
	seal_free(NULL);
}

static void
test_roundtrip_sixteen(void **state)
{
	int idx[SEAL_RECIPIENTS_MAX], i;
	struct seal *s = NULL;
	uint8_t *p;
	size_t len;

	(void)state;
	/* Given in descending order of org; written ascending by key. */
	for (i = 0; i < SEAL_RECIPIENTS_MAX; i++)
		idx[i] = SEAL_RECIPIENTS_MAX - 1 - i;
	p = seal_to(idx, SEAL_RECIPIENTS_MAX, &len);
	assert_int_equal(len, 1 + 26 + 2 + plainlen + 16 + 3 +
	    SEAL_RECIPIENTS_MAX * WRAP_ENC);
	/* Sixteen wraps need an array16. */
	assert_memory_equal(p + 29 + plainlen + 16, "\xdc\x00\x10", 3);
	assert_int_equal(seal_decode(p, len, &s), 0);
	assert_int_equal(seal_nrecipients(s), SEAL_RECIPIENTS_MAX);
	for (i = 1; i < SEAL_RECIPIENTS_MAX; i++)
		assert_true(memcmp(seal_recipient(s, (size_t)i - 1),
		    seal_recipient(s, (size_t)i), 32) < 0);
	seal_free(s);
	for (i = 0; i < SEAL_RECIPIENTS_MAX; i++)
		assert_int_equal(open_as(p, len, entity, i), 0);
	/* The orgs it was not sealed to. */
	for (i = SEAL_RECIPIENTS_MAX; i < NORGS; i++)
		assert_int_equal(open_as(p, len, entity, i), KITH_ESEALED);
	free(p);
}

static void
test_not_recipient(void **state)
{
	static const int two[] = { 0, 1 };
	struct seal *s = NULL;
	uint8_t *p, *pt = NULL;
	size_t len, ptlen;

	(void)state;
	p = seal_to(two, 2, &len);
	assert_int_equal(open_as(p, len, entity, 2), KITH_ESEALED);
	assert_int_equal(seal_decode(p, len, &s), 0);
	/* A recipient's public key with another secret key. */
	assert_int_equal(seal_open(s, entity, org_pk[0], org_sk[1], &pt,
	    &ptlen), KITH_ESEALED);
	assert_int_equal(seal_open(s, entity, org_pk[0], org_sk[2], &pt,
	    &ptlen), KITH_ESEALED);
	assert_null(pt);
	seal_free(s);
	free(p);
}

/* Offset of wrap ${i} of ${n} in a seal of ${len} bytes with a fixarray. */
static size_t
wrap_at(size_t len, size_t n, size_t i)
{

	return len - (n - i) * WRAP_ENC;
}

static void
test_relabelled(void **state)
{
	static const int two[] = { 4, 5 }, one[] = { 4 };
	uint8_t *p, tmp[SEAL_WRAP_LEN];
	size_t len, a, b;

	(void)state;
	/* Swap the sealed keys of two wraps: each now holds the other's. */
	p = seal_to(two, 2, &len);
	a = wrap_at(len, 2, 0) + 1 + 34 + 2;
	b = wrap_at(len, 2, 1) + 1 + 34 + 2;
	memcpy(tmp, p + a, SEAL_WRAP_LEN);
	memcpy(p + a, p + b, SEAL_WRAP_LEN);
	memcpy(p + b, tmp, SEAL_WRAP_LEN);
	assert_int_equal(dec(p, len), 0);
	assert_int_equal(open_as(p, len, entity, 4), KITH_ESEALED);
	assert_int_equal(open_as(p, len, entity, 5), KITH_ESEALED);
	free(p);

	/* A lone wrap for org 4 relabelled as org 5's. */
	p = seal_to(one, 1, &len);
	a = wrap_at(len, 1, 0) + 3;
	memcpy(p + a, org_pk[5], 32);
	assert_int_equal(open_as(p, len, entity, 5), KITH_ESEALED);
	assert_int_equal(open_as(p, len, entity, 4), KITH_ESEALED);
	free(p);
}

static void
test_tampered(void **state)
{
	static const int two[] = { 6, 7 };
	uint8_t *p, other[KITH_ENTITY_LEN];
	size_t len, bit, w, at, ct = plainlen + SEAL_TAG_LEN;
	int owner;

	(void)state;
	p = seal_to(two, 2, &len);
	assert_int_equal(open_as(p, len, entity, 6), 0);
	/* Every bit of the ciphertext and tag. */
	for (bit = 0; bit < 8 * ct; bit++) {
		p[29 + bit / 8] ^= (uint8_t)(1 << (bit % 8));
		assert_int_equal(open_as(p, len, entity, 6), KITH_ESEALED);
		p[29 + bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	/* Every bit of the nonce. */
	for (bit = 0; bit < 8 * SEAL_NONCE_LEN; bit++) {
		p[3 + bit / 8] ^= (uint8_t)(1 << (bit % 8));
		assert_int_equal(open_as(p, len, entity, 7), KITH_ESEALED);
		p[3 + bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	/* Every bit of each sealed key, opened by its owner. */
	for (w = 0; w < 2; w++) {
		at = wrap_at(len, 2, w) + 37;
		owner = memcmp(p + at - 34, org_pk[6], 32) == 0 ? 6 : 7;
		for (bit = 0; bit < 8 * SEAL_WRAP_LEN; bit++) {
			p[at + bit / 8] ^= (uint8_t)(1 << (bit % 8));
			assert_int_equal(open_as(p, len, entity, owner),
			    KITH_ESEALED);
			/* The other wrap is untouched and still opens. */
			if (bit % 97 == 0)
				assert_int_equal(open_as(p, len, entity,
				    13 - owner), 0);
			p[at + bit / 8] ^= (uint8_t)(1 << (bit % 8));
		}
	}
	/* The same seal moved to a record of another entity. */
	memcpy(other, entity, sizeof(other));
	other[15] ^= 1;
	assert_int_equal(open_as(p, len, other, 6), KITH_ESEALED);
	assert_int_equal(open_as(p, len, other, 7), KITH_ESEALED);
	assert_int_equal(open_as(p, len, entity, 7), 0);
	free(p);
}

static void
test_recipient_count(void **state)
{
	uint8_t keys[NORGS][32], *p = NULL, low[1][32];
	struct seal *s = NULL;
	size_t len, i;

	(void)state;
	for (i = 0; i < NORGS; i++)
		memcpy(keys[i], org_pk[i], 32);
	assert_int_equal(seal_encrypt(plain, plainlen, entity,
	    (const uint8_t (*)[32])keys, SEAL_RECIPIENTS_MAX + 1, &p, &len),
	    KITH_ETOOBIG);
	assert_int_equal(seal_encrypt(plain, plainlen, entity,
	    (const uint8_t (*)[32])keys, NORGS, &p, &len), KITH_ETOOBIG);
	assert_int_equal(seal_encrypt(plain, plainlen, entity,
	    (const uint8_t (*)[32])keys, 0, &p, &len), KITH_ERANGE);
	assert_null(p);

	/* Repeats count once: 17 keys, 16 of them distinct. */
	memcpy(keys[16], keys[2], 32);
	assert_int_equal(seal_encrypt(plain, plainlen, entity,
	    (const uint8_t (*)[32])keys, SEAL_RECIPIENTS_MAX + 1, &p, &len),
	    0);
	assert_int_equal(seal_decode(p, len, &s), 0);
	assert_int_equal(seal_nrecipients(s), SEAL_RECIPIENTS_MAX);
	seal_free(s);
	free(p);

	/* A, B, A, A: two wraps. */
	memcpy(keys[0], org_pk[9], 32);
	memcpy(keys[1], org_pk[8], 32);
	memcpy(keys[2], org_pk[9], 32);
	memcpy(keys[3], org_pk[9], 32);
	assert_int_equal(seal_encrypt(plain, plainlen, entity,
	    (const uint8_t (*)[32])keys, 4, &p, &len), 0);
	assert_int_equal(len, 1 + 26 + 2 + plainlen + 16 + 1 + 2 * WRAP_ENC);
	assert_int_equal(seal_decode(p, len, &s), 0);
	assert_int_equal(seal_nrecipients(s), 2);
	seal_free(s);
	assert_int_equal(open_as(p, len, entity, 8), 0);
	assert_int_equal(open_as(p, len, entity, 9), 0);
	free(p);
	p = NULL;

	/* A low-order point is no key to seal to. */
	memset(low, 0, sizeof(low));
	assert_int_equal(seal_encrypt(plain, plainlen, entity,
	    (const uint8_t (*)[32])low, 1, &p, &len), KITH_ECRYPTO);
	assert_null(p);
}

/* seal_encrypt takes only a canonical personal section. */
static void
test_encrypt_plaintext(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		int rc;
	} bad[] = {
		{ "", 0, KITH_EINVAL },
		{ "\x80", 1, KITH_EINVAL },			/* empty */
		{ "\x81\xa1" "a\xc0\xc0", 5, KITH_EINVAL },	/* trailing */
		{ "\x82\xa1" "b\xc0\xa1" "a\xc0", 7, KITH_EINVAL },
		{ "\x81\xa1" "A\xc0", 4, KITH_EINVAL },	/* bad name */
		{ "\x91\xc0", 2, KITH_EINVAL },
		{ "\x81\xa1" "a\xc3", 4, KITH_EINVAL },	/* bool */
	};
	const uint8_t (*keys)[32] = (const uint8_t (*)[32])org_pk;
	uint8_t *p = NULL, *big;
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(seal_encrypt((const uint8_t *)bad[i].bytes,
		    bad[i].len, entity, keys, 1, &p, &len), bad[i].rc);
	assert_null(p);
	/* Just over the cap, refused before it is looked at. */
	assert_non_null(big = calloc(1, SEAL_PLAIN_MAX + 1));
	assert_int_equal(seal_encrypt(big, SEAL_PLAIN_MAX + 1, entity, keys,
	    1, &p, &len), KITH_ETOOBIG);
	free(big);
	/* The smallest section, one nil field. */
	assert_int_equal(seal_encrypt((const uint8_t *)"\x81\xa1" "a\xc0", 4,
	    entity, keys, 1, &p, &len), 0);
	assert_int_equal(dec(p, len), 0);
	free(p);
}

/*
 * Write a seal by hand, from the format alone: ${pt} encrypted for
 * ${entity} under a random content key, the first ${keylen} bytes of which
 * are sealed to org 0.  For what seal_encrypt never writes.
 */
static uint8_t *
forge(const uint8_t *pt, size_t ptlen, size_t keylen, size_t *len)
{
	struct codec_writer *w = codec_writer_new();
	uint8_t key[32], nonce[24], ad[29], *ct, *wrap;
	uint8_t *out;

	assert_non_null(w);
	kcrypto_random(key, sizeof(key));
	kcrypto_random(nonce, sizeof(nonce));
	memcpy(ad, "kith-seal-v1", 13);	/* with its NUL */
	memcpy(ad + 13, entity, 16);
	assert_non_null(ct = malloc(ptlen + 16));
	assert_int_equal(kcrypto_aead_encrypt(ct, pt, ptlen, ad, sizeof(ad),
	    nonce, key), 0);
	assert_non_null(wrap = malloc(keylen + KCRYPTO_BOX_SEALLEN));
	assert_int_equal(kcrypto_box_seal(wrap, key, keylen, org_pk[0]), 0);
	codec_put_array(w, 3);
	codec_put_bin(w, nonce, sizeof(nonce));
	codec_put_bin(w, ct, ptlen + 16);
	codec_put_array(w, 1);
	codec_put_array(w, 2);
	codec_put_bin(w, org_pk[0], 32);
	codec_put_bin(w, wrap, keylen + KCRYPTO_BOX_SEALLEN);
	assert_non_null(out = codec_writer_steal(w, len));
	codec_writer_free(w);
	free(ct);
	free(wrap);
	return out;
}

/* Authentic ciphertext of something that is no personal section. */
static void
test_open_garbage(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
	} bad[] = {
		{ "", 0 },
		{ "\x80", 1 },
		{ "\x81\xa1" "a\xc0\xc0", 5 },
		{ "\x82\xa1" "b\xc0\xa1" "a\xc0", 7 },
		{ "\x82\xa1" "a\xc0\xa1" "a\xc0", 7 },
		{ "\x81\xa1" "a\xcc\x01", 5 },
		{ "\x81\xa1" "a\xa2\xc3\x28", 6 },
		{ "\xa4" "name", 5 },
	};
	uint8_t *p;
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = forge((const uint8_t *)bad[i].bytes, bad[i].len, 32, &len);
		assert_int_equal(dec(p, len), 0);
		assert_int_equal(open_as(p, len, entity, 0), KITH_ESEALED);
		free(p);
	}
	/* The forger itself is right: the real plaintext opens. */
	p = forge(plain, plainlen, 32, &len);
	assert_int_equal(open_as(p, len, entity, 0), 0);
	free(p);
	/* A wrapped key of 31 bytes is a wrap of the wrong size. */
	p = forge(plain, plainlen, 31, &len);
	assert_int_equal(dec(p, len), KITH_EINVAL);
	free(p);
}

/* Build a seal shape with ${n} wraps whose recipients are 32 bytes of i+1. */
static uint8_t *
shape(size_t noncelen, size_t ctlen, size_t n, size_t reclen, size_t wraplen,
    size_t *len)
{
	struct codec_writer *w = codec_writer_new();
	uint8_t *buf, *out;
	size_t i, max = ctlen > 256 ? ctlen : 256;

	assert_non_null(w);
	assert_non_null(buf = calloc(1, max));
	codec_put_array(w, 3);
	codec_put_bin(w, buf, noncelen);
	codec_put_bin(w, buf, ctlen);
	codec_put_array(w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		memset(buf, (int)(i + 1), reclen);
		codec_put_array(w, 2);
		codec_put_bin(w, buf, reclen);
		codec_put_bin(w, buf, wraplen);
	}
	assert_non_null(out = codec_writer_steal(w, len));
	codec_writer_free(w);
	free(buf);
	return out;
}

#define SHAPE(rc, ...) do {						\
	size_t len_;							\
	uint8_t *p_ = shape(__VA_ARGS__, &len_);			\
									\
	assert_int_equal(dec(p_, len_), (rc));				\
	free(p_);							\
} while (0)

#define DEC(rc, ...) do {						\
	static const uint8_t in_[] = { __VA_ARGS__ };			\
	assert_int_equal(dec(in_, sizeof(in_)), (rc));			\
} while (0)

static void
test_decode_sizes(void **state)
{

	(void)state;
	SHAPE(0, 24, 16, 1, 32, 80);
	SHAPE(0, 24, SEAL_CIPHER_MAX, 16, 32, 80);
	SHAPE(KITH_EINVAL, 23, 16, 1, 32, 80);
	SHAPE(KITH_EINVAL, 25, 16, 1, 32, 80);
	SHAPE(KITH_EINVAL, 0, 16, 1, 32, 80);
	SHAPE(KITH_EINVAL, 24, 15, 1, 32, 80);
	SHAPE(KITH_EINVAL, 24, 0, 1, 32, 80);
	SHAPE(KITH_EINVAL, 24, SEAL_CIPHER_MAX + 1, 1, 32, 80);
	SHAPE(KITH_EINVAL, 24, 16, 0, 32, 80);
	SHAPE(KITH_ETOOBIG, 24, 16, 17, 32, 80);
	SHAPE(KITH_EINVAL, 24, 16, 1, 31, 80);
	SHAPE(KITH_EINVAL, 24, 16, 1, 33, 80);
	SHAPE(KITH_EINVAL, 24, 16, 1, 32, 79);
	SHAPE(KITH_EINVAL, 24, 16, 1, 32, 81);
	SHAPE(KITH_EINVAL, 24, 16, 2, 32, 0);
	/* The whole seal over its longest form, before anything is parsed. */
	{
		size_t len;
		uint8_t *p = shape(24, SEAL_CIPHER_MAX, 16, 32, 80, &len);

		assert_int_equal(len, SEAL_ENCODED_MAX);
		assert_int_equal(dec(p, len), 0);
		free(p);
		assert_non_null(p = calloc(1, SEAL_ENCODED_MAX + 1));
		p[0] = 0x93;
		assert_int_equal(dec(p, SEAL_ENCODED_MAX + 1), KITH_ETOOBIG);
		free(p);
	}
}

/* Wraps must ascend strictly by recipient. */
static void
test_decode_order(void **state)
{
	uint8_t *p;
	size_t len, a, b;
	uint8_t tmp[WRAP_ENC];

	(void)state;
	p = shape(24, 16, 3, 32, 80, &len);
	assert_int_equal(dec(p, len), 0);
	/* Swap wraps 1 and 2. */
	a = wrap_at(len, 3, 1);
	b = wrap_at(len, 3, 2);
	memcpy(tmp, p + a, WRAP_ENC);
	memcpy(p + a, p + b, WRAP_ENC);
	memcpy(p + b, tmp, WRAP_ENC);
	assert_int_equal(dec(p, len), KITH_EINVAL);
	/* A duplicate: wrap 2 names wrap 1's recipient. */
	memcpy(p + a, p + b, WRAP_ENC);
	assert_int_equal(dec(p, len), KITH_EINVAL);
	/* Recipients differing only in their last byte, both ways. */
	memcpy(p + a, tmp, WRAP_ENC);
	memcpy(p + b + 3, p + a + 3, 32);
	p[b + 3 + 31]++;
	assert_int_equal(dec(p, len), 0);
	p[b + 3 + 31] -= 2;
	assert_int_equal(dec(p, len), KITH_EINVAL);
	free(p);
}

static void
test_decode_types(void **state)
{
	uint8_t *p;
	size_t len;

	(void)state;
	DEC(KITH_ETRUNC);
	DEC(KITH_ETYPE, 0x80);
	DEC(KITH_ETYPE, 0xc0);
	DEC(KITH_ETYPE, 0x92, 0xc0, 0xc0);
	DEC(KITH_ETYPE, 0x94, 0xc0, 0xc0, 0xc0, 0xc0);
	DEC(KITH_ETYPE, 0x90);
	/* A nonce as a str, a ciphertext as an array, wraps as a map. */
	p = shape(24, 16, 1, 32, 80, &len);
	p[1] = 0xd9;
	assert_int_equal(dec(p, len), KITH_ETYPE);
	p[1] = 0xc4;
	p[27] = 0xdc;
	assert_int_equal(dec(p, len), KITH_ETYPE);
	p[27] = 0xc4;
	p[45] = 0x81;
	assert_int_equal(dec(p, len), KITH_ETYPE);
	p[45] = 0x91;
	/* A wrap of 1 or 3 items, or not an array. */
	p[46] = 0x91;
	assert_int_equal(dec(p, len), KITH_ETYPE);
	p[46] = 0x93;
	assert_int_equal(dec(p, len), KITH_ETYPE);
	p[46] = 0xc0;
	assert_int_equal(dec(p, len), KITH_ETYPE);
	p[46] = 0x92;
	/* A recipient as a str. */
	p[47] = 0xd9;
	assert_int_equal(dec(p, len), KITH_ETYPE);
	p[47] = 0xc4;
	assert_int_equal(dec(p, len), 0);
	free(p);
}

static void
test_decode_noncanon(void **state)
{
	struct codec_writer *w = codec_writer_new();
	uint8_t zero[80] = { 0 }, *p;
	const uint8_t *q;
	size_t len;

	(void)state;
	assert_non_null(w);
	/* array16 for the outer array. */
	codec_put_raw(w, "\xdc\x00\x03", 3);
	codec_put_bin(w, zero, 24);
	codec_put_bin(w, zero, 16);
	codec_put_raw(w, "\x91\x92", 2);
	codec_put_bin(w, zero, 32);
	codec_put_bin(w, zero, 80);
	q = codec_writer_data(w, &len);
	assert_int_equal(dec(q, len), KITH_ENONCANON);
	/* bin16 for the nonce. */
	codec_writer_reset(w);
	codec_put_raw(w, "\x93\xc5\x00\x18", 4);
	codec_put_raw(w, zero, 24);
	codec_put_bin(w, zero, 16);
	codec_put_raw(w, "\x91\x92", 2);
	codec_put_bin(w, zero, 32);
	codec_put_bin(w, zero, 80);
	q = codec_writer_data(w, &len);
	assert_int_equal(dec(q, len), KITH_ENONCANON);
	/* array16 for one wrap, and for a wrap's pair. */
	codec_writer_reset(w);
	codec_put_array(w, 3);
	codec_put_bin(w, zero, 24);
	codec_put_bin(w, zero, 16);
	codec_put_raw(w, "\xdc\x00\x01\x92", 4);
	codec_put_bin(w, zero, 32);
	codec_put_bin(w, zero, 80);
	q = codec_writer_data(w, &len);
	assert_int_equal(dec(q, len), KITH_ENONCANON);
	codec_writer_reset(w);
	codec_put_array(w, 3);
	codec_put_bin(w, zero, 24);
	codec_put_bin(w, zero, 16);
	codec_put_raw(w, "\x91\xdc\x00\x02", 4);
	codec_put_bin(w, zero, 32);
	codec_put_bin(w, zero, 80);
	q = codec_writer_data(w, &len);
	assert_int_equal(dec(q, len), KITH_ENONCANON);
	/* bin32 for a sealed key. */
	codec_writer_reset(w);
	codec_put_array(w, 3);
	codec_put_bin(w, zero, 24);
	codec_put_bin(w, zero, 16);
	codec_put_raw(w, "\x91\x92", 2);
	codec_put_bin(w, zero, 32);
	codec_put_raw(w, "\xc6\x00\x00\x00\x50", 5);
	codec_put_raw(w, zero, 80);
	q = codec_writer_data(w, &len);
	assert_int_equal(dec(q, len), KITH_ENONCANON);
	codec_writer_free(w);

	/* Bytes after the seal. */
	p = shape(24, 16, 1, 32, 80, &len);
	assert_non_null(p = realloc(p, len + 1));
	p[len] = 0xc0;
	assert_int_equal(dec(p, len + 1), KITH_ETRAILING);
	free(p);
}

/* Every prefix of a seal is truncated; counts the bytes cannot back too. */
static void
test_decode_truncated(void **state)
{
	static const int three[] = { 0, 1, 2 };
	uint8_t *p, *copy;
	size_t len, cut;

	(void)state;
	p = seal_to(three, 3, &len);
	for (cut = 0; cut < len; cut++) {
		assert_non_null(copy = malloc(cut ? cut : 1));
		memcpy(copy, p, cut);
		assert_int_equal(dec(copy, cut), KITH_ETRUNC);
		free(copy);
	}
	assert_int_equal(open_as(p, len, entity, 1), 0);
	free(p);
	DEC(KITH_ETRUNC, 0xdd, 0xff, 0xff, 0xff, 0xff);
	DEC(KITH_ETRUNC, 0x93, 0xc6, 0xff, 0xff, 0xff, 0xff, 0, 0);
	DEC(KITH_ETRUNC, 0x93, 0xc4, 24);
}

/* Random damage to a valid seal: an error or a seal, never a crash. */
static void
test_decode_mutations(void **state)
{
	static const int two[] = { 0, 1 };
	uint64_t rng = 0x5ea1;
	struct seal *s;
	uint8_t *p, *q, *pt;
	size_t len, qlen, ptlen, i, k;
	int rc;

	(void)state;
	p = seal_to(two, 2, &len);
	assert_non_null(q = calloc(1, len + 8));
	for (i = 0; i < 20000; i++) {
		memcpy(q, p, len);
		qlen = len;
		for (k = 0; k < 1 + tu_rng(&rng) % 3; k++)
			q[tu_rng(&rng) % len] = (uint8_t)tu_rng(&rng);
		if (tu_rng(&rng) % 4 == 0)
			qlen = tu_rng(&rng) % (len + 8);
		s = NULL;
		if ((rc = seal_decode(q, qlen, &s)) != 0) {
			assert_true(rc < 0 && rc >= KITH_ELAST);
			assert_null(s);
			continue;
		}
		pt = NULL;
		rc = seal_open(s, entity, org_pk[0], org_sk[0], &pt, &ptlen);
		if (rc == 0) {
			/* Only an untouched ciphertext and wrap open. */
			assert_int_equal(ptlen, plainlen);
			assert_memory_equal(pt, plain, plainlen);
			free(pt);
		} else
			assert_int_equal(rc, KITH_ESEALED);
		seal_free(s);
	}
	free(q);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_one),
		cmocka_unit_test(test_roundtrip_sixteen),
		cmocka_unit_test(test_not_recipient),
		cmocka_unit_test(test_relabelled),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_recipient_count),
		cmocka_unit_test(test_encrypt_plaintext),
		cmocka_unit_test(test_open_garbage),
		cmocka_unit_test(test_decode_sizes),
		cmocka_unit_test(test_decode_order),
		cmocka_unit_test(test_decode_types),
		cmocka_unit_test(test_decode_noncanon),
		cmocka_unit_test(test_decode_truncated),
		cmocka_unit_test(test_decode_mutations),
	};

	return tu_run(tests, setup, NULL);
}
