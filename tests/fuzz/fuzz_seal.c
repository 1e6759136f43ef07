/*
 * Fuzz the sealed-section decoder and seal_open.  A seal that decodes has
 * 1..16 recipients in strictly ascending order, and is a valid "s" section
 * of a body that re-encodes to the same bytes.  It is then opened with a
 * fixed organisation key (the seeds in corpus/seal/ that decode are sealed
 * to it, for the entity below): opening either fails with KITH_ESEALED or
 * gives back a canonical personal section.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "codec.h"
#include "kcrypto.h"
#include "kith.h"
#include "seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The organisation key is the X25519 pair of ed25519 seed 32 x 0x5e. */
#define FUZZ_SEED	0x5e
static const uint8_t entity[KITH_ENTITY_LEN] = "fuzz-seal-entity";
static uint8_t pk[32], sk[32];

static void
init(void)
{
	static int done;
	struct kcrypto_key *k;
	uint8_t seed[32];

	if (done)
		return;
	memset(seed, FUZZ_SEED, sizeof(seed));
	if (kcrypto_init() != 0 || (k = kcrypto_key_from_seed(seed)) == NULL ||
	    kcrypto_key_x25519(k, pk, sk) != 0)
		abort();
	kcrypto_key_free(k);
	done = 1;
}

/* {"s": data} must be a body that decodes and re-encodes to itself. */
static void
check_body(const uint8_t *data, size_t size)
{
	struct body *b = NULL;
	const uint8_t *s;
	uint8_t *in, *out = NULL;
	size_t n, len;
	int rc;

	if (size + 3 > KITH_BODY_MAX)
		return;
	if ((in = malloc(size + 3)) == NULL)
		return;
	memcpy(in, "\x81\xa1s", 3);
	memcpy(in + 3, data, size);
	if ((rc = body_decode(in, size + 3, &b)) != 0) {
		if (rc != KITH_ENOMEM)
			abort();
		free(in);
		return;
	}
	if ((s = body_sealed(b, &n)) == NULL || n != size ||
	    memcmp(s, data, size) != 0 || body_nfields(b) != 0)
		abort();
	if ((rc = body_encode(b, &out, &len)) == 0 &&
	    (len != size + 3 || memcmp(out, in, len) != 0))
		abort();
	free(out);
	free(in);
	body_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seal *s = NULL;
	uint8_t *plain = NULL;
	size_t i, n, plen;
	int rc;

	init();
	if ((rc = seal_decode(data, size, &s)) != 0) {
		if (s != NULL || rc >= 0 || rc < KITH_ELAST)
			abort();
		return 0;
	}
	n = seal_nrecipients(s);
	if (n == 0 || n > SEAL_RECIPIENTS_MAX || seal_recipient(s, n) != NULL)
		abort();
	for (i = 1; i < n; i++)
		if (memcmp(seal_recipient(s, i - 1), seal_recipient(s, i),
		    32) >= 0)
			abort();
	check_body(data, size);
	rc = seal_open(s, entity, pk, sk, &plain, &plen);
	if (rc == 0) {
		if (plen > SEAL_PLAIN_MAX || body_section_check(plain, plen) != 0)
			abort();
		free(plain);
	} else if (rc != KITH_ESEALED && rc != KITH_ENOMEM)
		abort();
	seal_free(s);
	return 0;
}
