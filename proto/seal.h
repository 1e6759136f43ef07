#ifndef SEAL_H
#define SEAL_H

/*
 * Sealed personal fields (PROTOCOL.md §4.1): the value of a body's "s" key,
 *
 *	[nonce: bin 24, ciphertext: bin, wraps: [[recipient: bin 32,
 *	    sealed_key: bin 80], ...]]
 *
 * The ciphertext is the canonical personal section (the map "p" would hold)
 * encrypted with XChaCha20-Poly1305-IETF under a random content key, with
 * "kith-seal-v1" 0x00 and the record's entity id as additional data.  Each
 * wrap seals that content key to one organisation's X25519 key.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct codec_reader;
struct seal;

#define SEAL_NONCE_LEN		24
#define SEAL_TAG_LEN		16
#define SEAL_RECIPIENT_LEN	32	/* an organisation's X25519 key */
#define SEAL_WRAP_LEN		80	/* crypto_box_seal of a 32-byte key */
#define SEAL_RECIPIENTS_MAX	16
#define SEAL_PLAIN_MAX		16384	/* encoded personal section */
#define SEAL_CIPHER_MAX		(SEAL_PLAIN_MAX + SEAL_TAG_LEN)

/* The additional data starts with these 13 bytes (the string and its NUL). */
#define SEAL_AD_DOMAIN		"kith-seal-v1"
#define SEAL_AD_DOMAIN_LEN	13

/*
 * The longest encoding: fixarray, bin8 nonce, bin16 ciphertext, array16 of
 * 16 wraps of 1 + (2 + 32) + (2 + 80) bytes.
 */
#define SEAL_ENCODED_MAX	(1 + (2 + SEAL_NONCE_LEN) + \
	(3 + SEAL_CIPHER_MAX) + 3 + SEAL_RECIPIENTS_MAX * \
	(1 + 2 + SEAL_RECIPIENT_LEN + 2 + SEAL_WRAP_LEN))

/**
 * seal_encrypt(plain, plen, entity, recipients, n, out, outlen):
 * Seal the ${plen}-byte canonical personal section at ${plain} for the
 * record of entity ${entity}, to the ${n} X25519 keys ${recipients} (in any
 * order; repeats count once).  Write the encoded sealed section to a new
 * buffer ${*out} (the caller frees it) of ${*outlen} bytes.  Return 0;
 * KITH_ERANGE if ${n} is 0; KITH_ETOOBIG for more than SEAL_RECIPIENTS_MAX
 * distinct recipients or ${plen} over SEAL_PLAIN_MAX; KITH_EINVAL if
 * ${plain} is not a canonical personal section (body_section_check);
 * KITH_ECRYPTO if a recipient is not a usable X25519 key; or KITH_ENOMEM.
 */
int seal_encrypt(const uint8_t *plain, size_t plen,
    const uint8_t entity[KITH_ENTITY_LEN], const uint8_t (*recipients)[32],
    size_t n, uint8_t **out, size_t *outlen);

/**
 * seal_decode(p, n, out):
 * Parse the ${n}-byte sealed section at ${p} strictly into a new seal
 * ${*out}, which the caller frees with seal_free; it copies what it needs
 * from ${p}.  Return 0; KITH_ETRUNC, KITH_ETYPE, KITH_ENONCANON or
 * KITH_ETRAILING for bad msgpack; KITH_ETOOBIG for more than
 * SEAL_RECIPIENTS_MAX wraps or ${n} over SEAL_ENCODED_MAX; KITH_EINVAL for
 * no wraps, wraps not in strictly ascending order of recipient, or a nonce,
 * ciphertext, recipient or sealed key of the wrong size; or KITH_ENOMEM.
 */
int seal_decode(const uint8_t *p, size_t n, struct seal **out);

/**
 * seal_read(r, out):
 * seal_decode for the sealed section at ${r}'s cursor, which it moves past
 * the section on success and leaves in place on failure; bytes after the
 * section are the caller's.  For decoders of a structure that holds one.
 */
int seal_read(struct codec_reader *r, struct seal **out);

/**
 * seal_nrecipients(s), seal_recipient(s, i):
 * The number of recipients of ${s}, and the ${i}th recipient's 32-byte key
 * in ascending order (NULL if ${i} is out of range); borrowed until ${s}
 * is freed.
 */
size_t seal_nrecipients(const struct seal *s);
const uint8_t *seal_recipient(const struct seal *s, size_t i);

/**
 * seal_open(s, entity, pk, sk, plain, plen):
 * Open ${s}, sealed for the record of entity ${entity}, with the X25519
 * pair ${pk}, ${sk}.  Write the personal section to a new buffer ${*plain}
 * (the caller wipes and frees it) of ${*plen} bytes.  Return 0, KITH_ENOMEM,
 * or KITH_ESEALED if ${pk} is not a recipient, its wrap does not open with
 * ${sk}, the ciphertext does not authenticate (altered, or of another
 * entity), or it holds anything but a canonical personal section.
 */
int seal_open(const struct seal *s, const uint8_t entity[KITH_ENTITY_LEN],
    const uint8_t pk[32], const uint8_t sk[32], uint8_t **plain,
    size_t *plen);

/**
 * seal_free(s):
 * Free ${s}; nothing if NULL.
 */
void seal_free(struct seal *s);

#endif
