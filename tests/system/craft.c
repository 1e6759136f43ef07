/*
 * kith-craft: the attacks of tests/system/trust, as a member's node whose
 * owner bypassed the kith command's own checks would make them.  Each
 * writes one record, validly signed with the home's key, into the home's
 * store, and prints its record id:
 *
 *   kith-craft HOME revoke KEY          a revocation, by a key that is no admin
 *   kith-craft HOME move ENTITY STATUS  a referral status, by a non-recipient
 *   kith-craft HOME erase ENTITY        an erasure, by neither author nor admin
 *   kith-craft HOME tamper ENTITY       a sealed section with a flipped
 *                                       ciphertext byte
 *   kith-craft HOME misfile ENTITY KEY  a sealed section labelled for KEY's
 *                                       organisation but wrapped for another
 *   kith-craft HOME expired AREA        a request whose retention ended a
 *                                       second ago (the command refuses a
 *                                       date in the past)
 *
 * Not installed; built for the system tests only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "hlc.h"
#include "kcrypto.h"
#include "kith.h"
#include "roster.h"
#include "seal.h"
#include "store.h"

static void
die(const char *what, int rc)
{

	fprintf(stderr, "kith-craft: %s: %s\n", what, kith_strerror(rc));
	exit(1);
}

/* A sealed section, sealed to ${to}, with its recipient label ${label}. */
static uint8_t *
sealed(const uint8_t *entity, const uint8_t to[32], const uint8_t label[32],
    int flip, size_t *len)
{
	struct body *p = body_new();
	uint8_t *plain, *blob, *hit;
	size_t plen;
	int rc;

	if (p == NULL || (rc = body_set_str(p, "notes", 0, "crafted")) != 0)
		die("body", KITH_ENOMEM);
	/* The plaintext is a personal section: one map of fields. */
	if ((rc = body_encode(p, &plain, &plen)) != 0)
		die("encode", rc);
	body_free(p);
	/* body_encode wraps fields in {"f": {...}}: keep the inner map. */
	if ((rc = seal_encrypt(plain + 3, plen - 3, entity,
	    (const uint8_t (*)[32])to, 1, &blob, len)) != 0)
		die("seal", rc);
	free(plain);
	if (label != NULL) {
		for (hit = blob; hit + 32 <= blob + *len; hit++)
			if (memcmp(hit, to, 32) == 0)
				break;
		if (hit + 32 > blob + *len)
			die("relabel", KITH_ENOTFOUND);
		memcpy(hit, label, 32);
	}
	/* [nonce: c4 18 +24, ciphertext: c4 LEN ...]: a ciphertext byte. */
	if (flip)
		blob[1 + 2 + 24 + 2 + 3] ^= 0x01;
	return blob;
}

int
main(int argc, char **argv)
{
	struct store_draft d;
	struct kcrypto_key *key, *other;
	struct store *st;
	struct body *b;
	char path[4200], hex[2 * KITH_ID_LEN + 1];
	uint8_t *enc, *blob = NULL, pk[32], sk[32], x[32];
	size_t len, blen;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: kith-craft HOME revoke|move|erase|"
		    "tamper|misfile ARG...\n");
		return 64;
	}
	if (kcrypto_init() != 0)
		die("libsodium", KITH_ECRYPTO);
	snprintf(path, sizeof(path), "%s/key", argv[1]);
	if ((key = kcrypto_key_load(path, &rc)) == NULL)
		die(path, rc);
	snprintf(path, sizeof(path), "%s/store", argv[1]);
	if ((st = store_open(path, 0, 0, &rc)) == NULL)
		die(path, rc);
	memset(&d, 0, sizeof(d));
	if ((b = body_new()) == NULL)
		die("body", KITH_ENOMEM);
	if (strcmp(argv[2], "expired") == 0) {
		d.kind = KITH_KIND_REQUEST;
		kcrypto_random(d.entity, sizeof(d.entity));
		d.expiry = hlc_wall_ms() - 1000;
		rc = body_set_str(b, "area", 0, argv[3]);
		kith_hex(hex, d.entity, KITH_ENTITY_LEN);
		fprintf(stderr, "%s\n", hex);
	} else if (strcmp(argv[2], "revoke") == 0) {
		d.kind = KITH_KIND_REVOKE;
		kcrypto_random(d.entity, sizeof(d.entity));
		rc = body_set_str(b, "key", 0, argv[3]);
	} else if (strlen(argv[3]) != 32 ||
	    kith_unhex(d.entity, KITH_ENTITY_LEN, argv[3]) != 0) {
		die("ENTITY: 32 hex digits", KITH_EINVAL);
	} else if (strcmp(argv[2], "move") == 0 && argc == 5) {
		d.kind = KITH_KIND_REFERRAL;
		rc = body_set_str(b, "status", 0, argv[4]);
	} else if (strcmp(argv[2], "erase") == 0) {
		d.kind = KITH_KIND_ERASE;
		rc = body_set_str(b, "reason", 0, "crafted");
	} else if (strcmp(argv[2], "tamper") == 0 ||
	    (strcmp(argv[2], "misfile") == 0 && argc == 5)) {
		d.kind = (uint64_t)strtoull(getenv("KIND") ? getenv("KIND") :
		    "16", NULL, 10);
		if ((rc = kcrypto_key_x25519(key, pk, sk)) != 0)
			die("x25519", rc);
		if (argv[2][0] == 't') {
			blob = sealed(d.entity, pk, NULL, 1, &blen);
		} else {
			/* Labelled for KEY's organisation, sealed to a stranger. */
			if (kith_unhex(x, 32, argv[4]) != 0 ||
			    kcrypto_x25519_public(x, x) != 0 ||
			    (other = kcrypto_key_generate()) == NULL)
				die("KEY", KITH_EINVAL);
			if ((rc = kcrypto_key_x25519(other, pk, sk)) != 0)
				die("x25519", rc);
			blob = sealed(d.entity, pk, x, 0, &blen);
			kcrypto_key_free(other);
		}
		kcrypto_wipe(sk, sizeof(sk));
		rc = body_set_sealed(b, blob, blen);
	} else {
		die(argv[2], KITH_EINVAL);
	}
	if (rc != 0 || (rc = body_encode(b, &enc, &len)) != 0)
		die("body", rc);
	d.body = enc;
	d.blen = len;
	if ((rc = store_write(st, key, &d, 1)) != 0)
		die("write", rc);
	kith_hex(hex, d.id, KITH_ID_LEN);
	printf("%s\n", hex);
	free(enc);
	free(blob);
	body_free(b);
	store_close(st);
	kcrypto_key_free(key);
	return 0;
}
