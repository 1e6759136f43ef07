#ifndef INVITE_H
#define INVITE_H

/*
 * Invitations: how an organisation joins a network without anyone copying
 * a key by hand.  An admin's node writes an invite (one line of text): the
 * network's charter and members, the organisation's name and role, the
 * admin node's KEY@ENDPOINT, a random nonce and an expiry, signed by the
 * admin.  The newcomer's node joins with it and answers with a reply (one
 * line): the invite's signed grant and the newcomer's key, signed by that
 * key.  The admin's node admits the key with the name and role it signed
 * itself, so neither can be changed on the way.  Both lines are bytes in
 * base64url (no padding) after a prefix:
 *   "kith-invite:" "KINV" 1 grant sig(64) charterlen(4) charter
 *   "kith-reply:"  "KREP" 1 grant sig(64) key(32) keysig(64)
 *   grant = nonce(16) expires(8) role(1) orglen(1) org peerlen(2) peer by(32)
 *           chash(32)
 * with integers big-endian; sig is the admin's (key ${by}) signature of
 * "kith invite v1" || grant, keysig the newcomer's of "kith reply v1" ||
 * grant || sig || key; chash is the BLAKE2b-256 hash (kcrypto_hash) of the
 * invite's charter, so the signature covers every byte of the invite.
 */

#include <stddef.h>
#include <stdint.h>

#include "kith.h"

struct kcrypto_key;

#define INVITE_ORG_MAX		128	/* ROSTER_ORG_MAX */
#define INVITE_PEER_MAX		330	/* KEY@ENDPOINT: 64 + 1 + 256 */
#define INVITE_CHARTER_MAX	(1 << 20)	/* bytes of the records file */
#define INVITE_TEXT_MAX		(4 * INVITE_CHARTER_MAX / 3 + 1024)

struct invite {
	uint8_t nonce[16];
	uint64_t expires;		/* ms since the epoch */
	int role;			/* ROLE_* */
	char org[INVITE_ORG_MAX + 1];
	char peer[INVITE_PEER_MAX + 1];	/* KEY@ENDPOINT, or "" */
	uint8_t by[KITH_KEY_LEN];	/* the admin who signed it */
	uint8_t chash[32];		/* its charter's hash */
	uint8_t sig[64];
	uint8_t *charter;		/* an invite's records file; owned */
	size_t clen;
	uint8_t key[KITH_KEY_LEN];	/* a reply's newcomer */
};

/**
 * invite_make(inv, admin, out):
 * Fill ${inv}'s nonce and by, sign it with ${admin}, and write the invite
 * line (NUL-terminated) to ${*out}, which the caller frees.  ${inv}'s
 * expires, role, org, peer and charter are the caller's.
 */
int invite_make(struct invite *inv, const struct kcrypto_key *admin,
    char **out);

/**
 * invite_parse(text, inv):
 * Decode the invite line ${text} into ${inv} (free its charter with
 * invite_clear) and check the admin's signature.  Return 0, KITH_EINVAL
 * for something that is no invite, or KITH_EBADSIG.
 */
int invite_parse(const char *text, struct invite *inv);

/**
 * invite_reply(inv, me, out):
 * Write the reply line to invite ${inv} by the newcomer ${me} to ${*out},
 * which the caller frees.
 */
int invite_reply(const struct invite *inv, const struct kcrypto_key *me,
    char **out);

/**
 * invite_parse_reply(text, inv):
 * Decode the reply line ${text} into ${inv} and check both signatures.
 * Return 0, KITH_EINVAL, or KITH_EBADSIG.
 */
int invite_parse_reply(const char *text, struct invite *inv);

/**
 * invite_clear(inv):
 * Free what ${inv} owns.
 */
void invite_clear(struct invite *inv);

#endif /* !INVITE_H */
