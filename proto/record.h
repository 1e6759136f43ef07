#ifndef RECORD_H
#define RECORD_H

/*
 * A record: a signed header plus an optional body.  The signed header is the
 * canonical msgpack header array followed by the signature as a 64-byte bin;
 * the record id is the BLAKE2b-256 of those signed-header bytes.  The body is
 * bound to the header by its hash and length, so it can be erased while the
 * header still verifies.  See proto/PROTOCOL.md.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct kcrypto_key;
struct record;

/* The decoded header: plain data, copied out of the wire bytes. */
struct record_header {
	uint64_t version;
	uint8_t network[KITH_NETWORK_LEN];
	uint8_t author[KITH_KEY_LEN];
	uint64_t seq;
	uint8_t prev[KITH_ID_LEN];	/* the author's record seq - 1; 0s at 1 */
	uint64_t hlc;
	uint64_t kind;
	uint8_t entity[KITH_ENTITY_LEN];
	int genesis;			/* carries a nonce: the entity's first */
	uint8_t nonce[KITH_NONCE_LEN];
	unsigned nparents;
	uint8_t parents[KITH_PARENTS_MAX][KITH_ID_LEN];
	unsigned naudience;
	uint8_t audience[KITH_AUDIENCE_MAX][KITH_KEY_LEN];
	uint8_t body_hash[KITH_HASH_LEN];
	uint64_t body_len;
	uint64_t expiry;
};

/* Domain separation: the signature covers this string, a NUL, the header. */
#define RECORD_SIG_DOMAIN	"kith-record-v2"

/* Entity ids of genesis records hash this string, a NUL, then the inputs. */
#define RECORD_ENTITY_DOMAIN	"kith-entity-v2"

/**
 * record_entity_derive(network, kind, author, nonce, out):
 * Write to ${out} the id of the entity whose genesis record, of ${kind},
 * signed by ${author} in ${network} (32 zero bytes for a charter), carries
 * ${nonce}: the first 16 bytes of H("kith-entity-v2" || 0x00 || network ||
 * kind as 2 bytes big-endian || author || nonce).  Every node recognises a
 * genesis, and so an entity's kind and creator, from its header alone.
 */
void record_entity_derive(const uint8_t network[KITH_NETWORK_LEN],
    uint64_t kind, const uint8_t author[KITH_KEY_LEN],
    const uint8_t nonce[KITH_NONCE_LEN], uint8_t out[KITH_ENTITY_LEN]);

/**
 * record_sign(hdr, body, blen, key, out):
 * Build a record from ${hdr} (whose version, author, body_hash and body_len
 * are overwritten: version with KITH_PROTO_VERSION, author with ${key}'s
 * public key, the others from ${body}) and the ${blen}-byte body at ${body},
 * sign it with ${key}, and store the new record in ${*out}, which the caller
 * frees.  The body is copied.  Return 0, KITH_ERANGE, KITH_ETOOBIG or
 * KITH_EGENESIS if the header breaks a rule, or KITH_ENOMEM.
 */
int record_sign(const struct record_header *hdr, const uint8_t *body,
    size_t blen, const struct kcrypto_key *key, struct record **out);

/**
 * record_decode(sh, shlen, body, blen, out):
 * Parse ${shlen} signed-header bytes at ${sh}, and the body at ${body} if it
 * is not NULL, into a new record in ${*out} (the caller frees it).  Checks
 * shape, caps and canonical form, and that the body's length and hash match
 * the header, and the header rules of a version 2 record (a genesis's nonce
 * derives its entity, prev is zero exactly at seq 1, kinds that may not
 * start an entity or expire do not); does not check the signature.  Both
 * inputs are copied.  Return 0, or one of KITH_ETRUNC, KITH_ETRAILING,
 * KITH_ETYPE, KITH_EVERSION, KITH_ETOOBIG, KITH_ENONCANON, KITH_ERANGE,
 * KITH_EGENESIS, KITH_EBODYLEN, KITH_EBODYHASH, KITH_ENOMEM.
 */
int record_decode(const uint8_t *sh, size_t shlen, const uint8_t *body,
    size_t blen, struct record **out);

/**
 * record_split(p, len, shlen):
 * Find the end of the signed header that starts at ${p}: set ${*shlen} to its
 * length and return 0, or return a decode error.  Used to read a signed
 * header followed by other bytes.
 */
int record_split(const uint8_t *p, size_t len, size_t *shlen);

/**
 * record_verify(rec):
 * Return 0 if ${rec}'s signature verifies under its author key, else
 * KITH_EBADSIG.  The body binding was checked by record_decode.
 */
int record_verify(const struct record *rec);

/**
 * record_verify_batch(recs, n, rcs):
 * Set ${rcs}[i] to record_verify(${recs}[i]) for each i < ${n}, using one
 * thread per online CPU when the batch is large enough to gain from it.
 * Entries of ${recs} that are NULL are skipped (their ${rcs} untouched).
 */
void record_verify_batch(struct record *const *recs, size_t n, int *rcs);

/* Called by record_verify_each with a record's index and result. */
typedef int record_verified_fn(void *arg, size_t i, int rc);

/**
 * record_verify_each(recs, n, fn, arg):
 * Verify the non-NULL entries of ${recs} on worker threads, and meanwhile,
 * on the calling thread, call ${fn}(${arg}, i, rc) for each of them in
 * index order as its result (0 or KITH_EBADSIG) is known.  Stop at the
 * first non-zero result of ${fn} and return it; else return 0 (or
 * KITH_ENOMEM if nothing could start).
 */
int record_verify_each(struct record *const *recs, size_t n,
    record_verified_fn *fn, void *arg);

/* Called by record_sign_batch with each record, borrowed for the call. */
typedef int record_signed_fn(void *arg, size_t i, const struct record *rec);

/**
 * record_sign_batch(hdrs, bodies, blens, n, key, fn, arg):
 * Build and sign ${n} consecutive records of one author's chain as
 * record_sign does, record i from ${hdrs}[i] and the ${blens}[i]-byte body
 * ${bodies}[i]; for i > 0 the prev of ${hdrs}[i] is replaced with the id of
 * record i - 1, which is why they are signed in order, on one worker
 * thread when the batch is large enough.  Meanwhile, on the calling
 * thread, call ${fn}(${arg}, i, record) for i = 0, 1, ... in order, as each
 * record is ready; the record is freed when ${fn} returns.  Stop at the
 * first failure.  Return 0, the first signing error, or ${fn}'s first
 * non-zero result.
 */
int record_sign_batch(const struct record_header *hdrs,
    const uint8_t *const *bodies, const size_t *blens, size_t n,
    const struct kcrypto_key *key, record_signed_fn *fn, void *arg);

/**
 * record_header(rec):
 * Return ${rec}'s decoded header; borrowed, valid while ${rec} lives.
 */
const struct record_header *record_header(const struct record *rec);

/**
 * record_id(rec):
 * Return ${rec}'s 32-byte id; borrowed.
 */
const uint8_t *record_id(const struct record *rec);

/**
 * record_signed(rec, len):
 * Return ${rec}'s signed-header bytes, exactly as signed or received, and set
 * ${*len}; borrowed.
 */
const uint8_t *record_signed(const struct record *rec, size_t *len);

/**
 * record_signature(rec):
 * Return ${rec}'s 64-byte signature; borrowed.
 */
const uint8_t *record_signature(const struct record *rec);

/**
 * record_body(rec, len):
 * Return ${rec}'s body and set ${*len}, or NULL if the record carries no body
 * (it was erased, or not sent); borrowed.
 */
const uint8_t *record_body(const struct record *rec, size_t *len);

/**
 * record_in_scope(hdr, key):
 * Return 1 if the record whose header is ${hdr} is in the scope of the
 * organisation key ${key} (PROTOCOL.md 9.8, "Scoped reconciliation"): a
 * charter, member or revoke record, or a record whose audience names
 * ${key}.  Else return 0.
 */
int record_in_scope(const struct record_header *hdr,
    const uint8_t key[KITH_KEY_LEN]);

/**
 * record_strip(rec, out):
 * Return in ${*out} a copy of ${rec} without its body (the caller frees it):
 * what a node holds of a record whose body it does not have.  Return 0 or
 * KITH_ENOMEM.
 */
int record_strip(const struct record *rec, struct record **out);

/**
 * record_genesis(recs, n):
 * Return the genesis of an entity whose records are the ${n} at ${recs}:
 * of those that carry a nonce, the one with the least (seq, id); NULL if
 * none does.  Borrowed from ${recs}.
 */
const struct record *record_genesis(struct record *const *recs, size_t n);

/**
 * record_version_cmp(a, b):
 * Compare ${a} and ${b} in version order: (hlc, author bytewise, id
 * bytewise), ascending, as the merge and the roster take records.
 */
int record_version_cmp(const struct record *a, const struct record *b);

/**
 * record_free(rec):
 * Free ${rec}; nothing if NULL.
 */
void record_free(struct record *rec);

#endif
