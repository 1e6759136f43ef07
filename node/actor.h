#ifndef ACTOR_H
#define ACTOR_H

/*
 * The node acting with its own key on its own store: the one place where a
 * change is sealed to the organisations entitled to it, signed and stored.
 * The domain modules (request, volunteer, referral, member, entity) decide
 * what a change may be; they all write it through actor_write.  A call
 * that refuses leaves a sentence for a person in ${a}->why.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct body;
struct kcrypto_key;
struct state;
struct store;

#define ACTOR_WHY_MAX	600

struct actor {
	struct store *st;		/* borrowed; open read-write to write */
	struct kcrypto_key *key;	/* borrowed: this node's key */
	uint64_t expiry;		/* personal data kept until (ms), or 0 */
	/* Out, after a write: */
	uint8_t entity[KITH_ENTITY_LEN];	/* the entity written */
	uint8_t id[KITH_ID_LEN];		/* the record written */
	uint64_t hlc;				/* its timestamp */
	char note[ACTOR_WHY_MAX];	/* something to tell, or "" */
	/* Out, after a refusal: */
	char why[ACTOR_WHY_MAX];
};

/**
 * actor_init(a, st, key):
 * Make ${a} the node with key ${key} (may be NULL to read only) acting
 * on ${st}; both borrowed.
 */
void actor_init(struct actor *a, struct store *st, struct kcrypto_key *key);

/**
 * actor_fail(a, rc, fmt, ...):
 * Set ${a}->why from ${fmt} and return ${rc}.
 */
int actor_fail(struct actor *a, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * actor_open(a, s, out, rcpt, n):
 * Open the current sealed section of entity ${s} (the record its state's
 * "sealed" field names) with this node's key: ${*out} gets a body holding
 * the personal fields (the caller frees it), and ${rcpt}/${*n} (room for
 * SEAL_RECIPIENTS_MAX) the section's recipients.  Return 0,
 * KITH_ENOTFOUND if there is none (or its body was erased), KITH_ESEALED
 * if this node may not read it, or another error.  Sets no why.
 */
int actor_open(struct actor *a, const struct state *s, struct body **out,
    uint8_t (*rcpt)[32], size_t *n);

/**
 * actor_seal(a, b, entity, to, with):
 * Seal ${b}'s personal fields, if it has any, for the organisations
 * entitled to entity ${entity}'s personal data: its readers (its creator,
 * a referral's recipient, and whom they shared with, as its state says),
 * or, for a new entity, this node and ${to} (a referral's recipient, or
 * NULL); and ${with} (a share, or NULL); ed25519 keys.  Personal fields of
 * the current section that ${b} does not set are carried over.
 */
int actor_seal(struct actor *a, struct body *b, const uint8_t *entity,
    const uint8_t *to, const uint8_t *with);

/**
 * actor_write(a, kind, entity, nonce, to, b):
 * Seal (actor_seal), sign and store a record of ${kind} in ${entity} with
 * body ${b}: the entity's genesis if ${nonce} is not NULL, addressed to
 * the organisation ${to} if not NULL.  Any record (an erasure too) in a
 * session or insight entity, given no ${to}, carries its genesis's
 * audience.  Sets ${a}'s entity, id, hlc and note.
 */
int actor_write(struct actor *a, uint64_t kind, const uint8_t *entity,
    const uint8_t *nonce, const uint8_t *to, struct body *b);

/**
 * actor_create(a, kind, to, b):
 * Start a new entity of ${kind} with body ${b} (actor_write of a genesis
 * with a random nonce).
 */
int actor_create(struct actor *a, uint64_t kind, const uint8_t *to,
    struct body *b);

/**
 * actor_audience(a, entity, aud):
 * The organisations the genesis of ${entity} is addressed to, into
 * ${aud} (room for KITH_AUDIENCE_MAX ed25519 keys); return how many (0
 * if none, or the entity is not held).
 */
size_t actor_audience(struct actor *a, const uint8_t *entity,
    uint8_t (*aud)[KITH_KEY_LEN]);

/**
 * actor_create_to(a, kind, aud, naud, b):
 * Start a new entity of ${kind} with body ${b}, addressed to the ${naud}
 * (at most KITH_AUDIENCE_MAX) organisations ${aud} (ed25519 keys), which
 * it routes to and does not entitle: its personal fields are sealed to
 * this node alone.
 */
int actor_create_to(struct actor *a, uint64_t kind,
    const uint8_t (*aud)[KITH_KEY_LEN], size_t naud, struct body *b);

#endif /* !ACTOR_H */
