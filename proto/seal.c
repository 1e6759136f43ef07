#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "codec.h"
#include "kcrypto.h"
#include "seal.h"

_Static_assert(SEAL_NONCE_LEN == KCRYPTO_AEAD_NONCELEN, "nonce size");
_Static_assert(SEAL_TAG_LEN == KCRYPTO_AEAD_TAGLEN, "tag size");
_Static_assert(SEAL_WRAP_LEN == KCRYPTO_AEAD_KEYLEN + KCRYPTO_BOX_SEALLEN,
    "wrap size");
_Static_assert(sizeof(SEAL_AD_DOMAIN) == SEAL_AD_DOMAIN_LEN, "domain size");

#define AD_LEN	(SEAL_AD_DOMAIN_LEN + KITH_ENTITY_LEN)

struct seal {
	uint8_t nonce[SEAL_NONCE_LEN];
	uint8_t *ct;
	size_t ctlen;
	size_t n;
	uint8_t recipient[SEAL_RECIPIENTS_MAX][SEAL_RECIPIENT_LEN];
	uint8_t wrap[SEAL_RECIPIENTS_MAX][SEAL_WRAP_LEN];
};

/* The additional data binds a ciphertext to its record's entity. */
static void
make_ad(uint8_t ad[AD_LEN], const uint8_t entity[KITH_ENTITY_LEN])
{

	memcpy(ad, SEAL_AD_DOMAIN, SEAL_AD_DOMAIN_LEN);
	memcpy(ad + SEAL_AD_DOMAIN_LEN, entity, KITH_ENTITY_LEN);
}

static int
key_cmp(const void *a, const void *b)
{

	return memcmp(a, b, SEAL_RECIPIENT_LEN);
}

int
seal_encrypt(const uint8_t *plain, size_t plen,
    const uint8_t entity[KITH_ENTITY_LEN], const uint8_t (*recipients)[32],
    size_t n, uint8_t **out, size_t *outlen)
{
	struct codec_writer *w = NULL;
	uint8_t (*keys)[SEAL_RECIPIENT_LEN] = NULL;
	uint8_t key[KCRYPTO_AEAD_KEYLEN], nonce[SEAL_NONCE_LEN], ad[AD_LEN];
	uint8_t wrap[SEAL_WRAP_LEN], *ct = NULL;
	size_t i, m;
	int rc;

	if (n == 0)
		return KITH_ERANGE;
	if (plen > SEAL_PLAIN_MAX)
		return KITH_ETOOBIG;
	if ((rc = body_section_check(plain, plen)) != 0)
		return rc == KITH_ENOMEM ? rc : KITH_EINVAL;
	if ((keys = malloc(n * sizeof(*keys))) == NULL)
		return KITH_ENOMEM;
	memcpy(keys, recipients, n * sizeof(*keys));
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = m = 1; i < n; i++)
		if (memcmp(keys[i], keys[m - 1], sizeof(keys[i])) != 0)
			memcpy(keys[m++], keys[i], sizeof(keys[i]));
	if (m > SEAL_RECIPIENTS_MAX) {
		rc = KITH_ETOOBIG;
		goto out;
	}
	if ((ct = malloc(plen + SEAL_TAG_LEN)) == NULL ||
	    (w = codec_writer_new()) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	kcrypto_random(key, sizeof(key));
	kcrypto_random(nonce, sizeof(nonce));
	make_ad(ad, entity);
	if ((rc = kcrypto_aead_encrypt(ct, plain, plen, ad, sizeof(ad), nonce,
	    key)) != 0)
		goto out;
	codec_put_array(w, 3);
	codec_put_bin(w, nonce, sizeof(nonce));
	codec_put_bin(w, ct, plen + SEAL_TAG_LEN);
	codec_put_array(w, (uint32_t)m);
	for (i = 0; i < m; i++) {
		if ((rc = kcrypto_box_seal(wrap, key, sizeof(key), keys[i])) !=
		    0)
			goto out;
		codec_put_array(w, 2);
		codec_put_bin(w, keys[i], sizeof(keys[i]));
		codec_put_bin(w, wrap, sizeof(wrap));
	}
	if ((rc = codec_writer_error(w)) == 0 &&
	    (*out = codec_writer_steal(w, outlen)) == NULL)
		rc = KITH_ENOMEM;
out:
	kcrypto_wipe(key, sizeof(key));
	codec_writer_free(w);
	free(ct);
	free(keys);
	return rc;
}

/* Read a bin of exactly ${len} bytes into ${out}; KITH_EINVAL if another. */
static int
read_exact(struct codec_reader *r, uint8_t *out, size_t len)
{
	const uint8_t *p;
	size_t n;
	int rc;

	if ((rc = codec_read_bin(r, &p, &n)) != 0)
		return rc;
	if (n != len)
		return KITH_EINVAL;
	memcpy(out, p, n);
	return 0;
}

int
seal_read(struct codec_reader *r, struct seal **out)
{
	struct codec_reader start = *r;
	struct seal *s = NULL;
	const uint8_t *ct;
	uint32_t n, k, i;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return KITH_ENOMEM;
	if ((rc = codec_read_array(r, &n)) != 0)
		goto out;
	if (n != 3) {
		rc = KITH_ETYPE;
		goto out;
	}
	if ((rc = read_exact(r, s->nonce, sizeof(s->nonce))) != 0 ||
	    (rc = codec_read_bin(r, &ct, &s->ctlen)) != 0)
		goto out;
	if (s->ctlen < SEAL_TAG_LEN || s->ctlen > SEAL_CIPHER_MAX) {
		rc = KITH_EINVAL;
		goto out;
	}
	if ((rc = codec_read_array(r, &n)) != 0)
		goto out;
	if (n == 0 || n > SEAL_RECIPIENTS_MAX) {
		rc = n == 0 ? KITH_EINVAL : KITH_ETOOBIG;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rc = codec_read_array(r, &k)) != 0)
			goto out;
		if (k != 2) {
			rc = KITH_ETYPE;
			goto out;
		}
		if ((rc = read_exact(r, s->recipient[i],
		    SEAL_RECIPIENT_LEN)) != 0 ||
		    (rc = read_exact(r, s->wrap[i], SEAL_WRAP_LEN)) != 0)
			goto out;
		/* Strictly ascending, so each recipient has one wrap. */
		if (i > 0 && memcmp(s->recipient[i - 1], s->recipient[i],
		    SEAL_RECIPIENT_LEN) >= 0) {
			rc = KITH_EINVAL;
			goto out;
		}
	}
	s->n = n;
	if ((s->ct = malloc(s->ctlen)) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	memcpy(s->ct, ct, s->ctlen);
	*out = s;
	s = NULL;	/* transferred */
	rc = 0;
out:
	if (rc != 0)
		*r = start;
	seal_free(s);
	return rc;
}

int
seal_decode(const uint8_t *p, size_t n, struct seal **out)
{
	struct codec_reader r;
	struct seal *s = NULL;
	int rc;

	if (n > SEAL_ENCODED_MAX)
		return KITH_ETOOBIG;
	codec_reader_init(&r, p, n);
	if ((rc = seal_read(&r, &s)) != 0)
		return rc;
	if (codec_reader_left(&r) != 0) {
		seal_free(s);
		return KITH_ETRAILING;
	}
	*out = s;
	return 0;
}

size_t
seal_nrecipients(const struct seal *s)
{

	return s->n;
}

const uint8_t *
seal_recipient(const struct seal *s, size_t i)
{

	return i < s->n ? s->recipient[i] : NULL;
}

int
seal_open(const struct seal *s, const uint8_t entity[KITH_ENTITY_LEN],
    const uint8_t pk[32], const uint8_t sk[32], uint8_t **plain,
    size_t *plen)
{
	uint8_t key[KCRYPTO_AEAD_KEYLEN], ad[AD_LEN], *pt = NULL;
	size_t i, n = s->ctlen - SEAL_TAG_LEN;
	int rc;

	for (i = 0; i < s->n; i++)
		if (memcmp(s->recipient[i], pk, SEAL_RECIPIENT_LEN) == 0)
			break;
	if (i == s->n)
		return KITH_ESEALED;
	if ((rc = kcrypto_box_seal_open(key, s->wrap[i], SEAL_WRAP_LEN, pk,
	    sk)) != 0)
		goto out;
	/* One spare byte: the personal section is never empty, but be safe. */
	if ((pt = malloc(n + 1)) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	make_ad(ad, entity);
	if ((rc = kcrypto_aead_decrypt(pt, s->ct, s->ctlen, ad, sizeof(ad),
	    s->nonce, key)) != 0)
		goto out;
	/* Authentic bytes can still be garbage if the writer was broken. */
	if ((rc = body_section_check(pt, n)) != 0) {
		rc = rc == KITH_ENOMEM ? rc : KITH_ESEALED;
		goto out;
	}
	*plain = pt;
	*plen = n;
	pt = NULL;	/* transferred */
out:
	kcrypto_wipe(key, sizeof(key));
	if (pt != NULL) {
		kcrypto_wipe(pt, n);
		free(pt);
	}
	return rc;
}

void
seal_free(struct seal *s)
{

	if (s == NULL)
		return;
	free(s->ct);
	free(s);
}
