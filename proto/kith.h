#ifndef KITH_H
#define KITH_H

/*
 * Shared constants and error codes of the kith protocol.  Everything here is
 * normative: proto/PROTOCOL.md names the same values.
 */

#include <stddef.h>
#include <stdint.h>

#define KITH_PROTO_VERSION	2

/* Fixed widths on the wire. */
#define KITH_ID_LEN		32	/* record id: BLAKE2b-256 */
#define KITH_KEY_LEN		32	/* ed25519 public key */
#define KITH_SIG_LEN		64	/* ed25519 signature */
#define KITH_NETWORK_LEN	32	/* network id = charter record id */
#define KITH_HASH_LEN		32	/* BLAKE2b-256 */
#define KITH_ENTITY_LEN		16	/* entity id, derived from its genesis */
#define KITH_NONCE_LEN		16	/* a genesis record's nonce */

/* Size caps.  A peer that exceeds one is sending garbage. */
#define KITH_HEADER_MAX		768	/* encoded header, without signature */
#define KITH_SIGNED_MAX		(KITH_HEADER_MAX + 2 + KITH_SIG_LEN)
#define KITH_BODY_MAX		16384	/* encoded body */
#define KITH_PARENTS_MAX	8
#define KITH_AUDIENCE_MAX	4
#define KITH_FIELDS_MAX		64	/* fields in one body section */
#define KITH_NAME_MAX		32	/* field name bytes */
#define KITH_VALUE_MAX		4096	/* string value bytes */
/*
 * Records one entity may hold.  Past half of it, only the entity's creator
 * and admins may add more, so no other member can fill an entity up.
 */
#define KITH_ENTITY_MAX		4096
#define KITH_ENTITY_FIELDS	256	/* fields in one entity's state */

/* The hybrid logical clock: 48 bits of milliseconds, 16 bits of counter. */
#define KITH_HLC_FUTURE_MS	(10 * 60 * 1000)

/* Record kinds. */
enum kith_kind {
	KITH_KIND_CHARTER = 1,
	KITH_KIND_MEMBER = 2,
	KITH_KIND_REVOKE = 3,
	KITH_KIND_REQUEST = 16,
	KITH_KIND_VOLUNTEER = 17,
	KITH_KIND_REFERRAL = 18,
	KITH_KIND_SESSION = 19,
	KITH_KIND_INSIGHT = 20,
	KITH_KIND_ERASE = 32,
};

/* Membership kinds (charter, member, revoke): the roster reads these. */
#define KITH_KIND_IS_MEMBERSHIP(k)	((k) >= KITH_KIND_CHARTER && \
	(k) <= KITH_KIND_REVOKE)

/* Error codes: 0 is success, every failure is one of these. */
enum {
	KITH_OK = 0,
	KITH_ENOMEM = -1,	/* out of memory */
	KITH_EINVAL = -2,	/* bad argument or user input */
	KITH_ETRAILING = -3,	/* bytes after the end of an object */
	KITH_ETYPE = -4,	/* wrong msgpack type or shape */
	KITH_EVERSION = -5,	/* unknown protocol version */
	KITH_ETOOBIG = -6,	/* a size cap was exceeded */
	KITH_EBODYHASH = -7,	/* body does not match the header's hash */
	KITH_EBADSIG = -8,	/* signature does not verify */
	KITH_ETRUNC = -9,	/* input ends inside an object */
	KITH_ENONCANON = -10,	/* not the shortest encoding, or keys unsorted */
	KITH_ENETWORK = -11,	/* record of another network */
	KITH_EFUTURE = -12,	/* timestamp too far ahead of the local clock */
	KITH_ENOTFOUND = -13,	/* no such record, entity or file */
	KITH_EEXIST = -14,	/* already exists */
	KITH_ESTORE = -15,	/* the store failed */
	KITH_EMAPFULL = -16,	/* the store reached its size limit */
	KITH_EIO = -17,		/* an operating-system I/O call failed */
	KITH_ECORRUPT = -18,	/* stored bytes fail their check */
	KITH_EBODYLEN = -19,	/* body length differs from the header's */
	KITH_ERANGE = -20,	/* a value is outside its allowed range */
	KITH_ECRYPTO = -21,	/* the crypto library failed */
	KITH_EBUSY = -22,	/* the store is locked by another writer */
	KITH_EPROTO = -23,	/* a peer broke the sync protocol */
	KITH_ETIMEDOUT = -24,	/* a peer did not answer in time */
	KITH_EPEER = -25,	/* a peer reported an error */
	KITH_EREVOKED = -26,	/* past what the author's revocation accepts */
	KITH_EDENIED = -27,	/* the key's role does not allow this */
	KITH_ESEALED = -28,	/* sealed data this key cannot open */
	KITH_EGENESIS = -29,	/* a genesis whose nonce does not derive its entity */
	KITH_ENOGENESIS = -30,	/* the entity's genesis record is not held */
	KITH_EFORKED = -31,	/* the author reused a sequence number before this */
	KITH_EFULL = -32,	/* the entity holds as many records as it may */
	KITH_EFIELDS = -33,	/* a body section has more than KITH_FIELDS_MAX */
	KITH_ELIMIT = -34,	/* a member passed a sync server's bound */
	KITH_ENOSPC = -35,	/* the disk holding the store is full */
	KITH_EUPGRADE = -36,	/* the store is in an older format: upgrade it */
	KITH_ENOHOST = -37,	/* an endpoint's host name does not resolve */
	KITH_ENOLISTEN = -38,	/* nothing listens at an endpoint */
	KITH_EWRONGKEY = -39,	/* the node at an endpoint holds another key */
	KITH_ELAST = KITH_EWRONGKEY	/* the lowest code */
};

/**
 * kith_strerror(rc):
 * Return a static, human-readable description of error code ${rc}.
 */
const char *kith_strerror(int rc);

/**
 * kith_errname(rc):
 * Return the symbolic name of code ${rc} without its KITH_ prefix
 * ("ETRAILING"), or "ok" for 0: the names tests/vectors uses.  NULL if
 * ${rc} is not a code.
 */
const char *kith_errname(int rc);

/**
 * kith_errparse(name, rc):
 * Set ${*rc} to the code kith_errname calls ${name}; return 0, or
 * KITH_EINVAL.
 */
int kith_errparse(const char *name, int *rc);

/**
 * kith_kind_name(kind):
 * Return the lower-case name of record ${kind} ("request", ...), or NULL if
 * the kind is unknown.
 */
const char *kith_kind_name(uint64_t kind);

/**
 * kith_kind_parse(name, kind):
 * Set ${*kind} to the kind named ${name}; return 0, or KITH_EINVAL.
 */
int kith_kind_parse(const char *name, uint64_t *kind);

/**
 * kith_hex(out, in, n):
 * Write ${n} bytes of ${in} as 2*${n} lower-case hex digits and a NUL to
 * ${out}, which must hold 2*${n}+1 bytes.
 */
void kith_hex(char *out, const uint8_t *in, size_t n);

/**
 * kith_unhex(out, n, hex):
 * Parse exactly 2*${n} hex digits of ${hex} into ${out}; return 0, or
 * KITH_EINVAL if ${hex} is not that.
 */
int kith_unhex(uint8_t *out, size_t n, const char *hex);

#endif
