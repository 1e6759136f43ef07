#ifndef TESTUTIL_H
#define TESTUTIL_H
/*
 * Helpers shared by the unit tests: throwaway directories, keys from fixed
 * seeds, and records built field by field.  cmocka is included by each
 * test file (it needs <stdarg.h>, <stddef.h>, <setjmp.h> first).
 */
#include <stddef.h>
#include <stdint.h>

struct kcrypto_key;
struct record;
struct store;

/**
 * tu_tmpdir(buf, len):
 * Create a new empty directory (under /dev/shm when it exists, so LMDB
 * tests do not wear a disk) and write its path to ${buf}.  Aborts the test
 * on failure.
 */
void tu_tmpdir(char *buf, size_t len);

/**
 * tu_rmrf(path):
 * Remove ${path} and everything under it.
 */
void tu_rmrf(const char *path);

/**
 * tu_key(n):
 * Return the key whose seed is 32 bytes of value ${n}; the caller frees it
 * with kcrypto_key_free.
 */
struct kcrypto_key *tu_key(uint8_t n);

/**
 * tu_body(kv...):
 * Encode a body from NULL-terminated pairs of name and string value; a
 * name starting with '*' is personal.  Returns malloc'd bytes, length in
 * ${*len}.
 */
uint8_t *tu_body(size_t *len, ...);

/**
 * tu_admit(st, admin, who, role):
 * Write to ${st}, signed by ${admin}, a member record admitting ${who} with
 * ${role} ("admin", "member", "pcn", "observer").  Aborts on failure.
 */
void tu_admit(struct store *st, const struct kcrypto_key *admin,
    const struct kcrypto_key *who, const char *role);

/* If not NULL, tu_record addresses each record to this one 32-byte key. */
extern const uint8_t *tu_audience;

/* tu_record stamps this expiry (ms since the epoch; 0 for none). */
extern uint64_t tu_expiry;

/*
 * If not NULL, tu_record makes a genesis carrying this 16-byte nonce, and
 * ignores the entity it is given: the id is derived (tu_entity tells it).
 */
extern const uint8_t *tu_nonce;

/**
 * tu_entity(network, kind, key, nonce, out):
 * Write to ${out} the id of the entity whose genesis of ${kind} by ${key}
 * in ${network} (NULL: zeros) carries ${nonce}.
 */
void tu_entity(const uint8_t *network, uint64_t kind,
    const struct kcrypto_key *key, const uint8_t *nonce, uint8_t out[16]);

/**
 * tu_genesis(key, network, seq, hlc, kind, nonce_byte, body, blen, entity):
 * Sign the genesis of a new entity, whose nonce is 16 bytes of
 * ${nonce_byte}, and write its entity id to ${entity}.
 */
struct record *tu_genesis(const struct kcrypto_key *key,
    const uint8_t *network, uint64_t seq, uint64_t hlc, uint64_t kind,
    uint8_t nonce_byte, const uint8_t *body, size_t blen, uint8_t entity[16]);

/**
 * tu_record(key, network, seq, hlc, kind, entity, parents, nparents,
 *     body, blen):
 * Sign a record with the given header fields; ${parents} holds ${nparents}
 * 32-byte ids.  Its prev is the id of the last record tu_record signed for
 * the same key at ${seq} - 1 (or, if there is none, 32 bytes of 0x5a), so
 * records made in sequence order form a chain.  Aborts the test on
 * failure.
 */
struct record *tu_record(const struct kcrypto_key *key, const uint8_t *network,
    uint64_t seq, uint64_t hlc, uint64_t kind, const uint8_t *entity,
    const uint8_t (*parents)[32], unsigned nparents, const uint8_t *body,
    size_t blen);

/**
 * tu_revoke_body(len, who, last):
 * The encoded body of a revoke record about ${who} naming ${last} (its id
 * and seq) as the last record the network accepts, or none if NULL; the
 * caller frees it.  Its ${*len} bytes.
 */
uint8_t *tu_revoke_body(size_t *len, const struct kcrypto_key *who,
    const struct record *last);

/**
 * tu_chain(key, network, recs, i, hlc, kind, nonce_byte, body, blen,
 *     entity):
 * Sign record ${i} (from 0) of a new entity of ${kind} written by ${key}
 * alone, ${recs}[0..i-1] being the ones before it: at 0 its genesis (as
 * tu_genesis, its id written to ${entity}), after that sequence number
 * ${i} + 1 with the record before it as its one parent.
 */
struct record *tu_chain(const struct kcrypto_key *key,
    const uint8_t *network, struct record *const *recs, size_t i,
    uint64_t hlc, uint64_t kind, uint8_t nonce_byte, const uint8_t *body,
    size_t blen, uint8_t entity[16]);

/**
 * tu_store(dir, key, network):
 * Create a store in ${dir} (no fsync) with a new network chartered by
 * ${key}; copy the network id to ${network}[32].
 */
struct store *tu_store(const char *dir, const struct kcrypto_key *key,
    uint8_t *network);

/**
 * tu_rng(state):
 * A small deterministic PRNG (splitmix64) so failures replay by seed.
 */
uint64_t tu_rng(uint64_t *state);


struct CMUnitTest;

/**
 * tu_run(tests, setup, teardown):
 * Run the cmocka group ${tests} with the group fixtures ${setup} and
 * ${teardown} (either may be NULL), then print the line every test suite
 * ends with, "NAME: N passed, M failed", NAME being the program's name and
 * M the tests that failed (a group fixture that fails is one more; when
 * the group setup fails, no test runs and every one counts as failed).
 * Returns the exit status for main(): 0 if nothing failed, else 1.
 */
#define tu_run(tests, setup, teardown)					\
	tu_run_group((tests), sizeof(tests) / sizeof((tests)[0]),	\
	    (setup), (teardown))
int tu_run_group(const struct CMUnitTest *tests, size_t n,
    int (*setup)(void **), int (*teardown)(void **));

#endif
