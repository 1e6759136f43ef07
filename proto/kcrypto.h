#ifndef KCRYPTO_H
#define KCRYPTO_H

/*
 * The one module that uses libsodium: hashing, ed25519 identities,
 * signatures, randomness, and the AEAD and sealed boxes that seal personal
 * fields.
 */

#include <stddef.h>
#include <stdint.h>

/* XChaCha20-Poly1305-IETF: key, nonce and tag sizes. */
#define KCRYPTO_AEAD_KEYLEN	32
#define KCRYPTO_AEAD_NONCELEN	24
#define KCRYPTO_AEAD_TAGLEN	16

/* A sealed box adds an ephemeral X25519 key and a tag: 32 + 16 bytes. */
#define KCRYPTO_BOX_SEALLEN	48

/* An ed25519 identity; its secret half lives in sodium_malloc memory. */
struct kcrypto_key;

/* Incremental BLAKE2b-256 state; opaque storage sized for libsodium's. */
struct kcrypto_hash {
	_Alignas(64) unsigned char opaque[384];
};

/**
 * kcrypto_init():
 * Initialise libsodium.  Return 0, or KITH_ECRYPTO.  Safe to call repeatedly
 * and from several threads.
 */
int kcrypto_init(void);

/**
 * kcrypto_hash(out, in, n):
 * Write the BLAKE2b-256 digest of ${n} bytes at ${in} to ${out}[32].
 */
void kcrypto_hash(uint8_t out[32], const uint8_t *in, size_t n);

/**
 * kcrypto_sha256(out, in, n):
 * Write the SHA-256 digest of ${n} bytes at ${in} to ${out}[32].  For
 * protocols that fix SHA-256 (Negentropy fingerprints); kith's own hashes
 * use kcrypto_hash.
 */
void kcrypto_sha256(uint8_t out[32], const uint8_t *in, size_t n);

/**
 * kcrypto_hash_init(h), kcrypto_hash_update(h, in, n), kcrypto_hash_final(h, out):
 * Incremental BLAKE2b-256 over a sequence of byte runs.
 */
void kcrypto_hash_init(struct kcrypto_hash *h);
void kcrypto_hash_update(struct kcrypto_hash *h, const uint8_t *in, size_t n);
void kcrypto_hash_final(struct kcrypto_hash *h, uint8_t out[32]);

/**
 * kcrypto_random(out, n):
 * Fill ${out} with ${n} random bytes.
 */
void kcrypto_random(uint8_t *out, size_t n);

/**
 * kcrypto_key_generate():
 * Return a new random ed25519 identity, or NULL if out of memory.
 */
struct kcrypto_key *kcrypto_key_generate(void);

/**
 * kcrypto_key_from_seed(seed):
 * Return the ed25519 identity derived from the 32-byte ${seed}, or NULL.
 */
struct kcrypto_key *kcrypto_key_from_seed(const uint8_t seed[32]);

/**
 * kcrypto_key_save(key, path):
 * Write ${key}'s seed to a new file ${path} created with mode 0600.  Return 0,
 * KITH_EEXIST if ${path} exists, or KITH_EIO.
 */
int kcrypto_key_save(const struct kcrypto_key *key, const char *path);

/**
 * kcrypto_key_load(path, rc):
 * Return the identity whose seed is stored in ${path}, or NULL with ${*rc}
 * set to KITH_ENOTFOUND, KITH_EIO, KITH_ECORRUPT (wrong size) or KITH_ENOMEM.
 */
struct kcrypto_key *kcrypto_key_load(const char *path, int *rc);

/**
 * kcrypto_key_public(key):
 * Return ${key}'s 32-byte public key; borrowed, valid while ${key} lives.
 */
const uint8_t *kcrypto_key_public(const struct kcrypto_key *key);

/**
 * kcrypto_key_x25519(key, pk, sk):
 * Write the X25519 key pair derived from ${key}'s ed25519 identity to
 * ${pk}[32] and ${sk}[32].  The pair serves both as the node's ZeroMQ CURVE
 * key and as its organisation's sealing key.  The caller wipes ${sk}
 * (kcrypto_wipe) when done.  Return 0, or KITH_ECRYPTO.
 */
int kcrypto_key_x25519(const struct kcrypto_key *key, uint8_t pk[32],
    uint8_t sk[32]);

/**
 * kcrypto_x25519_public(ed_pk, out):
 * Write to ${out}[32] the X25519 public key derived from the ed25519 public
 * key ${ed_pk} (the public half kcrypto_key_x25519 gives).  Return 0, or
 * KITH_ECRYPTO if ${ed_pk} is not a valid ed25519 point.
 */
int kcrypto_x25519_public(const uint8_t ed_pk[32], uint8_t out[32]);

/**
 * kcrypto_ed25519_from_x25519(x_pk, out):
 * Write to ${out} the ed25519 public keys whose X25519 key
 * (kcrypto_x25519_public) is ${x_pk}, and return how many: 2 (they differ
 * in the sign bit alone; the map is two to one), or 0 if ${x_pk} is the
 * X25519 key of no usable ed25519 key.  A CURVE peer proves only its
 * X25519 key: these are the ed25519 keys it may hold.
 */
size_t kcrypto_ed25519_from_x25519(const uint8_t x_pk[32],
    uint8_t out[2][32]);

/**
 * kcrypto_wipe(p, n):
 * Zero ${n} bytes at ${p} in a way the compiler keeps.
 */
void kcrypto_wipe(void *p, size_t n);

/* Bytes of a blind-index hash (kcrypto_blind). */
#define KCRYPTO_BLIND_LEN	16

struct kcrypto_blind;

/**
 * kcrypto_blind_new(key):
 * Return the blind-index key of the node identity ${key}: a key of its own
 * for keyed hashes, derived from ${key}'s seed with libsodium's KDF
 * (crypto_kdf, context "kithfind", subkey 1), so that it reveals nothing
 * of the identity and no other use of the seed reveals it.  It lives in
 * guarded memory; free it with kcrypto_blind_free.  NULL if out of memory.
 */
struct kcrypto_blind *kcrypto_blind_new(const struct kcrypto_key *key);

/**
 * kcrypto_blind(b, out, in, n):
 * Write to ${out}[KCRYPTO_BLIND_LEN] the keyed BLAKE2b hash under ${b} of
 * ${n} bytes at ${in}: equal inputs give equal hashes under one key, and
 * without the key a hash tells nothing of its input.
 */
void kcrypto_blind(const struct kcrypto_blind *b,
    uint8_t out[KCRYPTO_BLIND_LEN], const uint8_t *in, size_t n);

/**
 * kcrypto_blind_free(b):
 * Wipe and free ${b}.  Does nothing if ${b} is NULL.
 */
void kcrypto_blind_free(struct kcrypto_blind *b);

/**
 * kcrypto_base64_len(n):
 * The bytes kcrypto_base64 writes for ${n} bytes, its NUL included.
 */
size_t kcrypto_base64_len(size_t n);

/**
 * kcrypto_base64(out, outlen, in, n):
 * Write ${n} bytes at ${in} to ${out} as base64url without padding,
 * NUL-terminated; ${outlen} must be at least kcrypto_base64_len(${n}).
 */
void kcrypto_base64(char *out, size_t outlen, const uint8_t *in, size_t n);

/**
 * kcrypto_unbase64(out, outlen, in, n, len):
 * Decode the ${n} characters at ${in} (base64url, no padding) into
 * ${out}, at most ${outlen} bytes, their number to ${*len}.  Return 0 or
 * KITH_EINVAL.
 */
int kcrypto_unbase64(uint8_t *out, size_t outlen, const char *in, size_t n,
    size_t *len);

/**
 * kcrypto_key_free(key):
 * Wipe and free ${key}.  Does nothing if ${key} is NULL.
 */
void kcrypto_key_free(struct kcrypto_key *key);

/**
 * kcrypto_sign(sig, key, prefix, plen, msg, mlen):
 * Write to ${sig}[64] the ed25519 signature by ${key} of the message formed
 * by ${plen} bytes at ${prefix} followed by ${mlen} bytes at ${msg}.
 */
void kcrypto_sign(uint8_t sig[64], const struct kcrypto_key *key,
    const uint8_t *prefix, size_t plen, const uint8_t *msg, size_t mlen);

/**
 * kcrypto_verify(sig, pk, prefix, plen, msg, mlen):
 * Return 0 if ${sig} is ${pk}'s signature of ${prefix} || ${msg}, else
 * KITH_EBADSIG.
 */
int kcrypto_verify(const uint8_t sig[64], const uint8_t pk[32],
    const uint8_t *prefix, size_t plen, const uint8_t *msg, size_t mlen);

/**
 * kcrypto_verify_raw(sig, msg, mlen, pk):
 * Verify a detached signature of a contiguous message; 0 or KITH_EBADSIG.
 * The benchmark's raw-limit figure comes from this call.
 */
int kcrypto_verify_raw(const uint8_t sig[64], const uint8_t *msg, size_t mlen,
    const uint8_t pk[32]);

/**
 * kcrypto_sign_raw(sig, msg, mlen, key):
 * Sign a contiguous message; the benchmark's raw-limit sign figure.
 */
void kcrypto_sign_raw(uint8_t sig[64], const uint8_t *msg, size_t mlen,
    const struct kcrypto_key *key);

/**
 * kcrypto_aead_encrypt(out, in, n, ad, adlen, nonce, key):
 * Encrypt ${n} bytes at ${in} with XChaCha20-Poly1305-IETF under the
 * 32-byte ${key} and 24-byte ${nonce}, authenticating ${adlen} bytes of
 * additional data at ${ad} too.  Write ${n} + KCRYPTO_AEAD_TAGLEN bytes of
 * ciphertext to ${out}.  Return 0, or KITH_ECRYPTO.
 */
int kcrypto_aead_encrypt(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t *ad, size_t adlen, const uint8_t nonce[24],
    const uint8_t key[32]);

/**
 * kcrypto_aead_decrypt(out, in, n, ad, adlen, nonce, key):
 * Check and decrypt the ${n}-byte ciphertext at ${in} that
 * kcrypto_aead_encrypt made with ${ad}, ${nonce} and ${key}, writing
 * ${n} - KCRYPTO_AEAD_TAGLEN bytes to ${out}.  Return 0, or KITH_ESEALED if
 * ${n} is shorter than a tag or anything fails to authenticate; then
 * ${out} holds nothing of the plaintext.
 */
int kcrypto_aead_decrypt(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t *ad, size_t adlen, const uint8_t nonce[24],
    const uint8_t key[32]);

/**
 * kcrypto_box_seal(out, in, n, pk):
 * Seal ${n} bytes at ${in} to the X25519 public key ${pk} (libsodium's
 * crypto_box_seal: anonymous sender), writing ${n} + KCRYPTO_BOX_SEALLEN
 * bytes to ${out}.  Return 0, or KITH_ECRYPTO if ${pk} is unusable (a
 * low-order point).
 */
int kcrypto_box_seal(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t pk[32]);

/**
 * kcrypto_box_seal_open(out, in, n, pk, sk):
 * Open the ${n}-byte sealed box at ${in} with the X25519 pair ${pk}, ${sk},
 * writing ${n} - KCRYPTO_BOX_SEALLEN bytes to ${out}.  Return 0, or
 * KITH_ESEALED if ${n} is too short or the box was not sealed to ${pk} or
 * was altered.
 */
int kcrypto_box_seal_open(uint8_t *out, const uint8_t *in, size_t n,
    const uint8_t pk[32], const uint8_t sk[32]);

#endif
