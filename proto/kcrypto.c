#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "kcrypto.h"
#include "kith.h"

_Static_assert(sizeof(struct kcrypto_hash) >= sizeof(crypto_generichash_state),
    "kcrypto_hash storage too small");
_Static_assert(KCRYPTO_AEAD_KEYLEN ==
    crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "AEAD key size");
_Static_assert(KCRYPTO_AEAD_NONCELEN ==
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "AEAD nonce size");
_Static_assert(KCRYPTO_AEAD_TAGLEN ==
    crypto_aead_xchacha20poly1305_ietf_ABYTES, "AEAD tag size");
_Static_assert(KCRYPTO_BOX_SEALLEN == crypto_box_SEALBYTES,
    "sealed box overhead");

/* Secret material stays in guarded sodium_malloc memory. */
struct kcrypto_key {
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char seed[crypto_sign_SEEDBYTES];
};

/* A blind-index key, in guarded memory too. */
struct kcrypto_blind {
	unsigned char k[crypto_generichash_KEYBYTES];
};

_Static_assert(KCRYPTO_BLIND_LEN >= crypto_generichash_BYTES_MIN,
    "blind hash size");
_Static_assert(crypto_sign_SEEDBYTES == crypto_kdf_KEYBYTES,
    "a seed is a KDF master key");

/* Messages up to this size are signed from a stack copy, not the heap. */
#define STACK_MSG	1024

int
kcrypto_init(void)
{

	return sodium_init() < 0 ? KITH_ECRYPTO : 0;
}

void
kcrypto_hash(uint8_t out[32], const uint8_t *in, size_t n)
{

	crypto_generichash(out, 32, in, n, NULL, 0);
}

void
kcrypto_sha256(uint8_t out[32], const uint8_t *in, size_t n)
{

	crypto_hash_sha256(out, in, n);
}

void
kcrypto_hash_init(struct kcrypto_hash *h)
{

	crypto_generichash_init((crypto_generichash_state *)h->opaque, NULL, 0,
	    32);
}

void
kcrypto_hash_update(struct kcrypto_hash *h, const uint8_t *in, size_t n)
{

	crypto_generichash_update((crypto_generichash_state *)h->opaque, in, n);
}

void
kcrypto_hash_final(struct kcrypto_hash *h, uint8_t out[32])
{

	crypto_generichash_final((crypto_generichash_state *)h->opaque, out, 32);
	sodium_memzero(h, sizeof(*h));
}

void
kcrypto_random(uint8_t *out, size_t n)
{

	randombytes_buf(out, n);
}

struct kcrypto_key *
kcrypto_key_from_seed(const uint8_t seed[32])
{
	struct kcrypto_key *key;

	if ((key = sodium_malloc(sizeof(*key))) == NULL)
		return NULL;
	memcpy(key->seed, seed, sizeof(key->seed));
	crypto_sign_seed_keypair(key->pk, key->sk, key->seed);
	return key;
}

struct kcrypto_key *
kcrypto_key_generate(void)
{
	struct kcrypto_key *key;
	unsigned char seed[crypto_sign_SEEDBYTES];

	randombytes_buf(seed, sizeof(seed));
	key = kcrypto_key_from_seed(seed);
	sodium_memzero(seed, sizeof(seed));
	return key;
}

int
kcrypto_key_save(const struct kcrypto_key *key, const char *path)
{
	int fd, rc;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return errno == EEXIST ? KITH_EEXIST : KITH_EIO;
	rc = 0;
	if (write(fd, key->seed, sizeof(key->seed)) != sizeof(key->seed) ||
	    fsync(fd) != 0)
		rc = KITH_EIO;
	if (close(fd) != 0)
		rc = KITH_EIO;
	if (rc != 0)
		unlink(path);
	return rc;
}

struct kcrypto_key *
kcrypto_key_load(const char *path, int *rc)
{
	struct kcrypto_key *key = NULL;
	unsigned char seed[crypto_sign_SEEDBYTES + 1];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*rc = errno == ENOENT ? KITH_ENOTFOUND : KITH_EIO;
		return NULL;
	}
	/* Read one byte more than a seed, to notice a file that is too long. */
	n = read(fd, seed, sizeof(seed));
	close(fd);
	if (n < 0)
		*rc = KITH_EIO;
	else if (n != crypto_sign_SEEDBYTES)
		*rc = KITH_ECORRUPT;
	else if ((key = kcrypto_key_from_seed(seed)) == NULL)
		*rc = KITH_ENOMEM;
	else
		*rc = 0;
	sodium_memzero(seed, sizeof(seed));
	return key;
}

const uint8_t *
kcrypto_key_public(const struct kcrypto_key *key)
{

	return key->pk;
}

void
kcrypto_key_free(struct kcrypto_key *key)
{

	/* sodium_free wipes the memory before releasing it. */
	if (key != NULL)
		sodium_free(key);
}

/*
 * ed25519 needs the whole message in one buffer.  Small messages are joined
 * on the stack; large ones on the heap.  Returns NULL if out of memory.
 */
static unsigned char *
join(unsigned char *stack, const uint8_t *prefix, size_t plen,
    const uint8_t *msg, size_t mlen)
{
	static const uint8_t none[1];
	unsigned char *buf = stack;

	if (plen + mlen > STACK_MSG && (buf = malloc(plen + mlen)) == NULL)
		return NULL;
	/* Either part may be (NULL, 0), but memcpy must never see a NULL. */
	memcpy(buf, prefix != NULL ? prefix : none, plen);
	memcpy(buf + plen, msg != NULL ? msg : none, mlen);
	return buf;
}

void
kcrypto_sign(uint8_t sig[64], const struct kcrypto_key *key,
    const uint8_t *prefix, size_t plen, const uint8_t *msg, size_t mlen)
{
	unsigned char stack[STACK_MSG];
	unsigned char *buf;

	if ((buf = join(stack, prefix, plen, msg, mlen)) == NULL) {
		/* Leave a signature that can never verify. */
		memset(sig, 0, 64);
		return;
	}
	crypto_sign_detached(sig, NULL, buf, plen + mlen, key->sk);
	if (buf != stack)
		free(buf);
}

int
kcrypto_verify(const uint8_t sig[64], const uint8_t pk[32],
    const uint8_t *prefix, size_t plen, const uint8_t *msg, size_t mlen)
{
	unsigned char stack[STACK_MSG];
	unsigned char *buf;
	int rc;

	if ((buf = join(stack, prefix, plen, msg, mlen)) == NULL)
		return KITH_ENOMEM;
	rc = crypto_sign_verify_detached(sig, buf, plen + mlen, pk) == 0 ?
	    0 : KITH_EBADSIG;
	if (buf != stack)
		free(buf);
	return rc;
}

int
kcrypto_verify_raw(const uint8_t sig[64], const uint8_t *msg, size_t mlen,
    const uint8_t pk[32])
{

	return crypto_sign_verify_detached(sig, msg, mlen, pk) == 0 ?
	    0 : KITH_EBADSIG;
}

void
kcrypto_sign_raw(uint8_t sig[64], const uint8_t *msg, size_t mlen,
    const struct kcrypto_key *key)
{

	crypto_sign_detached(sig, NULL, msg, mlen, key->sk);
}

int
kcrypto_key_x25519(const struct kcrypto_key *key, uint8_t pk[32],
    uint8_t sk[32])
{

	if (crypto_sign_ed25519_pk_to_curve25519(pk, key->pk) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(sk, key->sk) != 0)
		return KITH_ECRYPTO;
	return 0;
}

int
kcrypto_x25519_public(const uint8_t ed_pk[32], uint8_t out[32])
{

	return crypto_sign_ed25519_pk_to_curve25519(out, ed_pk) == 0 ? 0 :
	    KITH_ECRYPTO;
}

/*
 * Arithmetic modulo p = 2^255 - 19, just enough to map an X25519 key back
 * to ed25519: four 64-bit limbs, little-endian, kept below 2^256 and
 * reduced to [0, p) only when stored.  2^256 = 38 (mod p).  Nothing here
 * is secret, so nothing needs constant time; and what it computes is
 * checked with libsodium before it is used.
 */
typedef uint64_t fe[4];

/* Add ${c} * 38 to ${r}, folding carries out of 2^256 back in. */
static void
fe_fold(fe r, uint64_t c)
{
	unsigned __int128 t;
	int i;

	while (c != 0) {
		t = (unsigned __int128)c * 38;
		for (i = 0; i < 4; i++) {
			t += r[i];
			r[i] = (uint64_t)t;
			t >>= 64;
		}
		c = (uint64_t)t;
	}
}

static void
fe_add(fe r, const fe a, const fe b)
{
	unsigned __int128 t = 0;
	int i;

	for (i = 0; i < 4; i++) {
		t += (unsigned __int128)a[i] + b[i];
		r[i] = (uint64_t)t;
		t >>= 64;
	}
	fe_fold(r, (uint64_t)t);
}

/* ${r} = ${a} - ${small}, for a small constant. */
static void
fe_sub_small(fe r, const fe a, uint64_t small)
{
	uint64_t borrow = small, v;
	int i;

	memcpy(r, a, sizeof(fe));
	/* A borrow out of 2^256 took 2^256 = 38 too many away. */
	while (borrow != 0) {
		for (i = 0; i < 4 && borrow != 0; i++) {
			v = r[i];
			r[i] = v - borrow;
			borrow = r[i] > v;
		}
		borrow = borrow ? 38 : 0;
	}
}

static void
fe_mul(fe r, const fe a, const fe b)
{
	uint64_t w[8] = { 0 };
	unsigned __int128 t;
	int i, j;

	for (i = 0; i < 4; i++) {
		t = 0;
		for (j = 0; j < 4; j++) {
			t += (unsigned __int128)a[i] * b[j] + w[i + j];
			w[i + j] = (uint64_t)t;
			t >>= 64;
		}
		w[i + 4] = (uint64_t)t;
	}
	t = 0;
	for (i = 0; i < 4; i++) {
		t += (unsigned __int128)w[i + 4] * 38 + w[i];
		r[i] = (uint64_t)t;
		t >>= 64;
	}
	fe_fold(r, (uint64_t)t);
}

/* ${r} = ${a}^(p - 2) = 1 / ${a}; 0 if ${a} is 0. */
static void
fe_invert(fe r, const fe a)
{
	static const fe e = { 0xffffffffffffffebULL, ~0ULL, ~0ULL,
	    0x7fffffffffffffffULL };
	fe x = { 1, 0, 0, 0 };
	int bit;

	for (bit = 254; bit >= 0; bit--) {
		fe_mul(x, x, x);
		if ((e[bit / 64] >> (bit % 64)) & 1)
			fe_mul(x, x, a);
	}
	memcpy(r, x, sizeof(fe));
}

/* Reduce ${a} to [0, p) and write it little-endian. */
static void
fe_store(uint8_t out[32], const fe a)
{
	unsigned __int128 t;
	uint64_t top;
	fe r;
	int i, k;

	memcpy(r, a, sizeof(fe));
	for (k = 0; k < 2; k++) {	/* 2^255 = 19 (mod p): below 2^255 + 19 */
		top = r[3] >> 63;
		r[3] &= 0x7fffffffffffffffULL;
		t = (unsigned __int128)top * 19;
		for (i = 0; i < 4; i++) {
			t += r[i];
			r[i] = (uint64_t)t;
			t >>= 64;
		}
	}
	if (r[3] == 0x7fffffffffffffffULL && r[2] == ~0ULL && r[1] == ~0ULL &&
	    r[0] >= 0xffffffffffffffedULL) {
		r[0] -= 0xffffffffffffffedULL;
		r[1] = r[2] = r[3] = 0;
	}
	for (i = 0; i < 32; i++)
		out[i] = (uint8_t)(r[i / 8] >> (8 * (i % 8)));
}

size_t
kcrypto_ed25519_from_x25519(const uint8_t x_pk[32], uint8_t out[2][32])
{
	static const fe one = { 1, 0, 0, 0 };
	uint8_t cand[32], back[32];
	fe u, num, den;
	size_t n = 0;
	int i, sign;

	/* The Montgomery u of an X25519 key; its top bit is not part of it. */
	memset(u, 0, sizeof(u));
	for (i = 0; i < 32; i++)
		u[i / 8] |= (uint64_t)(i == 31 ? x_pk[i] & 0x7f : x_pk[i]) <<
		    (8 * (i % 8));
	/* The Edwards y = (u - 1) / (u + 1); x's sign is lost: two keys. */
	fe_sub_small(num, u, 1);
	fe_add(den, u, one);
	fe_invert(den, den);
	fe_mul(num, num, den);
	fe_store(cand, num);
	for (sign = 0; sign < 2; sign++) {
		cand[31] = (uint8_t)((cand[31] & 0x7f) | (sign << 7));
		if (crypto_sign_ed25519_pk_to_curve25519(back, cand) == 0 &&
		    memcmp(back, x_pk, 32) == 0)
			memcpy(out[n++], cand, 32);
	}
	return n;
}

void
kcrypto_wipe(void *p, size_t n)
{

	sodium_memzero(p, n);
}

int
kcrypto_aead_encrypt(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t *ad, size_t adlen, const uint8_t nonce[24],
    const uint8_t key[32])
{

	return crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, in, n, ad,
	    adlen, NULL, nonce, key) == 0 ? 0 : KITH_ECRYPTO;
}

int
kcrypto_aead_decrypt(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t *ad, size_t adlen, const uint8_t nonce[24],
    const uint8_t key[32])
{

	if (n < KCRYPTO_AEAD_TAGLEN)
		return KITH_ESEALED;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, in,
	    n, ad, adlen, nonce, key) == 0 ? 0 : KITH_ESEALED;
}

int
kcrypto_box_seal(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t pk[32])
{

	return crypto_box_seal(out, in, n, pk) == 0 ? 0 : KITH_ECRYPTO;
}

int
kcrypto_box_seal_open(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t pk[32], const uint8_t sk[32])
{

	if (n < KCRYPTO_BOX_SEALLEN)
		return KITH_ESEALED;
	return crypto_box_seal_open(out, in, n, pk, sk) == 0 ? 0 :
	    KITH_ESEALED;
}

/*
 * A subkey of the seed, not the seed itself: the seed also makes the
 * signing and sealing keys, and a hash keyed by it directly would tie
 * the index to them.
 */
struct kcrypto_blind *
kcrypto_blind_new(const struct kcrypto_key *key)
{
	struct kcrypto_blind *b;

	if ((b = sodium_malloc(sizeof(*b))) == NULL)
		return NULL;
	if (crypto_kdf_derive_from_key(b->k, sizeof(b->k), 1, "kithfind",
	    key->seed) != 0) {
		kcrypto_blind_free(b);
		return NULL;
	}
	return b;
}

void
kcrypto_blind(const struct kcrypto_blind *b, uint8_t out[KCRYPTO_BLIND_LEN],
    const uint8_t *in, size_t n)
{

	crypto_generichash(out, KCRYPTO_BLIND_LEN, in, n, b->k, sizeof(b->k));
}

void
kcrypto_blind_free(struct kcrypto_blind *b)
{

	if (b == NULL)
		return;
	sodium_memzero(b, sizeof(*b));
	sodium_free(b);
}

size_t
kcrypto_base64_len(size_t n)
{

	return sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void
kcrypto_base64(char *out, size_t outlen, const uint8_t *in, size_t n)
{

	sodium_bin2base64(out, outlen, in, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
kcrypto_unbase64(uint8_t *out, size_t outlen, const char *in, size_t n,
    size_t *len)
{
	const char *end;

	if (sodium_base642bin(out, outlen, in, n, NULL, len, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || end != in + n)
		return KITH_EINVAL;
	return 0;
}
