/*
 * The crypto module: BLAKE2b-256, ed25519 and XChaCha20-Poly1305 against
 * known answers, the prefix-joined signing used by records, key files, and
 * the sealed boxes that wrap content keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcrypto.h"
#include "kith.h"
#include "testutil.h"

static void
unhex(uint8_t *out, size_t n, const char *hex)
{

	assert_int_equal(kith_unhex(out, n, hex), 0);
}

/* Write ${n} bytes to a new file ${path}. */
static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (n > 0)
		assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{

	(void)state;
	return kcrypto_init();
}

static void
test_hash_known(void **state)
{
	uint8_t want[32], got[32];
	struct kcrypto_hash h;

	(void)state;
	unhex(want, 32, "0e5751c026e543b2e8ab2eb06099daa1"
	    "d1e5df47778f7787faab45cdf12fe3a8");
	kcrypto_hash(got, NULL, 0);
	assert_memory_equal(got, want, 32);
	kcrypto_hash(got, (const uint8_t *)"", 0);
	assert_memory_equal(got, want, 32);
	kcrypto_hash_init(&h);
	kcrypto_hash_final(&h, got);
	assert_memory_equal(got, want, 32);
	/* One byte changes it. */
	kcrypto_hash(got, (const uint8_t *)"\0", 1);
	assert_memory_not_equal(got, want, 32);
}

static void
test_hash_incremental(void **state)
{
	uint8_t data[3000], one[32], inc[32];
	struct kcrypto_hash h;
	uint64_t seed = 7;
	size_t i, cut, cut2;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)tu_rng(&seed);
	kcrypto_hash(one, data, sizeof(data));
	for (cut = 0; cut <= sizeof(data); cut += 97) {
		cut2 = cut + (sizeof(data) - cut) / 3;
		kcrypto_hash_init(&h);
		kcrypto_hash_update(&h, data, cut);
		kcrypto_hash_update(&h, data + cut, 0);
		kcrypto_hash_update(&h, data + cut, cut2 - cut);
		kcrypto_hash_update(&h, data + cut2, sizeof(data) - cut2);
		kcrypto_hash_final(&h, inc);
		assert_memory_equal(inc, one, 32);
	}
	/* Byte by byte. */
	kcrypto_hash_init(&h);
	for (i = 0; i < sizeof(data); i++)
		kcrypto_hash_update(&h, data + i, 1);
	kcrypto_hash_final(&h, inc);
	assert_memory_equal(inc, one, 32);
	/* A missing byte gives another digest. */
	kcrypto_hash_init(&h);
	kcrypto_hash_update(&h, data, sizeof(data) - 1);
	kcrypto_hash_final(&h, inc);
	assert_memory_not_equal(inc, one, 32);
}

/* RFC 8032, section 7.1, TEST 1: the empty message. */
static void
test_ed25519_known(void **state)
{
	uint8_t seed[32], pk[32], sig[64], got[64];
	struct kcrypto_key *k;

	(void)state;
	unhex(seed, 32, "9d61b19deffd5a60ba844af492ec2cc4"
	    "4449c5697b326919703bac031cae7f60");
	unhex(pk, 32, "d75a980182b10ab7d54bfed3c964073a"
	    "0ee172f3daa62325af021a68f707511a");
	unhex(sig, 64, "e5564300c360ac729086e2cc806e828a"
	    "84877f1eb8e5d974d873e06522490155"
	    "5fb8821590a33bacc61e39701cf9b46b"
	    "d25bf5f0595bbe24655141438e7a100b");
	assert_non_null(k = kcrypto_key_from_seed(seed));
	assert_memory_equal(kcrypto_key_public(k), pk, 32);
	kcrypto_sign_raw(got, (const uint8_t *)"", 0, k);
	assert_memory_equal(got, sig, 64);
	kcrypto_sign(got, k, NULL, 0, NULL, 0);
	assert_memory_equal(got, sig, 64);
	assert_int_equal(kcrypto_verify_raw(sig, (const uint8_t *)"", 0, pk),
	    0);
	sig[63] ^= 0x01;
	assert_int_equal(kcrypto_verify_raw(sig, (const uint8_t *)"", 0, pk),
	    KITH_EBADSIG);
	kcrypto_key_free(k);
}

static void
test_key_from_seed(void **state)
{
	struct kcrypto_key *a = tu_key(1), *b = tu_key(1), *c = tu_key(2);
	struct kcrypto_key *g1, *g2;
	uint8_t sa[64], sb[64];

	(void)state;
	assert_memory_equal(kcrypto_key_public(a), kcrypto_key_public(b), 32);
	assert_memory_not_equal(kcrypto_key_public(a), kcrypto_key_public(c),
	    32);
	/* ed25519 is deterministic: same key, same message, same signature. */
	kcrypto_sign(sa, a, (const uint8_t *)"p", 1, (const uint8_t *)"m", 1);
	kcrypto_sign(sb, b, (const uint8_t *)"p", 1, (const uint8_t *)"m", 1);
	assert_memory_equal(sa, sb, 64);
	kcrypto_sign(sb, c, (const uint8_t *)"p", 1, (const uint8_t *)"m", 1);
	assert_memory_not_equal(sa, sb, 64);
	/* Generated keys differ from each other. */
	assert_non_null(g1 = kcrypto_key_generate());
	assert_non_null(g2 = kcrypto_key_generate());
	assert_memory_not_equal(kcrypto_key_public(g1),
	    kcrypto_key_public(g2), 32);
	kcrypto_key_free(g1);
	kcrypto_key_free(g2);
	kcrypto_key_free(a);
	kcrypto_key_free(b);
	kcrypto_key_free(c);
	kcrypto_key_free(NULL);
}

/* Sign and verify one (prefix, message), then every single-bit forgery. */
static void
check_sign_verify(size_t plen, size_t mlen)
{
	struct kcrypto_key *k = tu_key(3), *other = tu_key(4);
	const uint8_t *pk = kcrypto_key_public(k);
	uint8_t *prefix, *msg, *joined, sig[64], raw[64];
	uint64_t seed = plen * 1000 + mlen;
	size_t i;

	assert_non_null(prefix = malloc(plen + 1));
	assert_non_null(msg = malloc(mlen + 1));
	assert_non_null(joined = malloc(plen + mlen + 1));
	for (i = 0; i < plen; i++)
		prefix[i] = (uint8_t)tu_rng(&seed);
	for (i = 0; i < mlen; i++)
		msg[i] = (uint8_t)tu_rng(&seed);
	memcpy(joined, prefix, plen);
	memcpy(joined + plen, msg, mlen);

	kcrypto_sign(sig, k, prefix, plen, msg, mlen);
	assert_int_equal(kcrypto_verify(sig, pk, prefix, plen, msg, mlen), 0);
	/* The signed message is prefix || msg, however it is split. */
	assert_int_equal(kcrypto_verify_raw(sig, joined, plen + mlen, pk), 0);
	assert_int_equal(kcrypto_verify(sig, pk, NULL, 0, joined,
	    plen + mlen), 0);
	kcrypto_sign_raw(raw, joined, plen + mlen, k);
	assert_memory_equal(raw, sig, 64);

	/* Wrong key. */
	assert_int_equal(kcrypto_verify(sig, kcrypto_key_public(other),
	    prefix, plen, msg, mlen), KITH_EBADSIG);
	/* Flipped signature bits. */
	for (i = 0; i < 64; i += 7) {
		sig[i] ^= 0x10;
		assert_int_equal(kcrypto_verify(sig, pk, prefix, plen, msg,
		    mlen), KITH_EBADSIG);
		sig[i] ^= 0x10;
	}
	/* Flipped message and prefix bytes. */
	if (mlen > 0) {
		msg[mlen / 2] ^= 0x01;
		assert_int_equal(kcrypto_verify(sig, pk, prefix, plen, msg,
		    mlen), KITH_EBADSIG);
		msg[mlen / 2] ^= 0x01;
		/* One byte shorter. */
		assert_int_equal(kcrypto_verify(sig, pk, prefix, plen, msg,
		    mlen - 1), KITH_EBADSIG);
	}
	if (plen > 0) {
		prefix[plen - 1] ^= 0x80;
		assert_int_equal(kcrypto_verify(sig, pk, prefix, plen, msg,
		    mlen), KITH_EBADSIG);
		prefix[plen - 1] ^= 0x80;
		/* Without the prefix. */
		assert_int_equal(kcrypto_verify(sig, pk, NULL, 0, msg, mlen),
		    KITH_EBADSIG);
	}
	/* A byte moved from the prefix to the message still verifies... */
	if (plen > 0)
		assert_int_equal(kcrypto_verify(sig, pk, prefix, plen - 1,
		    joined + plen - 1, mlen + 1), 0);
	/* ...and an appended byte does not. */
	joined[plen + mlen] = 0;
	assert_int_equal(kcrypto_verify(sig, pk, prefix, plen, joined + plen,
	    mlen + 1), KITH_EBADSIG);
	/* Still intact after all that. */
	assert_int_equal(kcrypto_verify(sig, pk, prefix, plen, msg, mlen), 0);
	free(prefix);
	free(msg);
	free(joined);
	kcrypto_key_free(k);
	kcrypto_key_free(other);
}

static void
test_sign_verify(void **state)
{

	(void)state;
	check_sign_verify(15, 200);		/* the record case, on the stack */
	check_sign_verify(0, 1);
	check_sign_verify(1, 0);
	check_sign_verify(0, 0);
	check_sign_verify(15, 1009);		/* exactly the stack buffer */
	check_sign_verify(15, 1010);		/* one over: the heap */
	check_sign_verify(2000, 70000);
}

static void
test_key_file(void **state)
{
	char dir[256], path[300];
	struct kcrypto_key *k = tu_key(9), *l;
	uint8_t seed[32], buf[64];
	struct stat st;
	FILE *f;
	int rc;

	(void)state;
	tu_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/id.key", dir);
	assert_int_equal(kcrypto_key_save(k, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 32);
	/* The file holds the seed. */
	memset(seed, 9, sizeof(seed));
	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fread(buf, 1, sizeof(buf), f), 32);
	fclose(f);
	assert_memory_equal(buf, seed, 32);

	rc = 12345;
	assert_non_null(l = kcrypto_key_load(path, &rc));
	assert_int_equal(rc, 0);
	assert_memory_equal(kcrypto_key_public(l), kcrypto_key_public(k), 32);
	kcrypto_key_free(l);

	/* An existing file is never overwritten. */
	kcrypto_key_free(k);
	k = tu_key(10);
	assert_int_equal(kcrypto_key_save(k, path), KITH_EEXIST);
	assert_non_null(l = kcrypto_key_load(path, &rc));
	assert_memory_not_equal(kcrypto_key_public(l), kcrypto_key_public(k),
	    32);
	kcrypto_key_free(l);
	/* Nor is a directory. */
	assert_int_equal(kcrypto_key_save(k, dir), KITH_EEXIST);
	/* A directory that does not exist. */
	snprintf(path, sizeof(path), "%s/no/such/id.key", dir);
	assert_int_equal(kcrypto_key_save(k, path), KITH_EIO);
	kcrypto_key_free(k);
	tu_rmrf(dir);
}

static void
test_key_load_bad(void **state)
{
	char dir[256], path[300];
	uint8_t junk[33];
	int rc;

	(void)state;
	memset(junk, 0x55, sizeof(junk));
	tu_tmpdir(dir, sizeof(dir));

	snprintf(path, sizeof(path), "%s/missing", dir);
	rc = 0;
	assert_null(kcrypto_key_load(path, &rc));
	assert_int_equal(rc, KITH_ENOTFOUND);

	snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, junk, 0);
	rc = 0;
	assert_null(kcrypto_key_load(path, &rc));
	assert_int_equal(rc, KITH_ECORRUPT);

	snprintf(path, sizeof(path), "%s/short", dir);
	write_file(path, junk, 31);
	rc = 0;
	assert_null(kcrypto_key_load(path, &rc));
	assert_int_equal(rc, KITH_ECORRUPT);

	snprintf(path, sizeof(path), "%s/long", dir);
	write_file(path, junk, 33);
	rc = 0;
	assert_null(kcrypto_key_load(path, &rc));
	assert_int_equal(rc, KITH_ECORRUPT);

	/* A directory opens but does not read. */
	rc = 0;
	assert_null(kcrypto_key_load(dir, &rc));
	assert_int_equal(rc, KITH_EIO);

	/* Exactly 32 bytes of anything is a key. */
	snprintf(path, sizeof(path), "%s/ok", dir);
	write_file(path, junk, 32);
	{
		struct kcrypto_key *k, *l;

		rc = 1;
		assert_non_null(k = kcrypto_key_load(path, &rc));
		assert_int_equal(rc, 0);
		assert_non_null(l = kcrypto_key_from_seed(junk));
		assert_memory_equal(kcrypto_key_public(k),
		    kcrypto_key_public(l), 32);
		kcrypto_key_free(k);
		kcrypto_key_free(l);
	}
	tu_rmrf(dir);
}

static void
test_random(void **state)
{
	uint8_t a[32], b[32], z[32];

	(void)state;
	memset(z, 0, sizeof(z));
	kcrypto_random(a, sizeof(a));
	kcrypto_random(b, sizeof(b));
	assert_memory_not_equal(a, b, 32);
	assert_memory_not_equal(a, z, 32);
}

/* The X25519 pair derived from an identity agrees with its public half. */
static void
test_x25519(void **state)
{
	struct kcrypto_key *a = kcrypto_key_generate(), *b = kcrypto_key_generate();
	uint8_t pk[32], sk[32], pub[32], pkb[32], skb[32], zero[32] = { 0 };

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(kcrypto_key_x25519(a, pk, sk), 0);
	assert_int_equal(kcrypto_x25519_public(kcrypto_key_public(a), pub), 0);
	assert_memory_equal(pk, pub, 32);
	assert_int_equal(kcrypto_key_x25519(b, pkb, skb), 0);
	assert_memory_not_equal(pk, pkb, 32);
	/* A public key that is no curve point is refused. */
	memset(pub, 0xff, sizeof(pub));
	pub[31] = 0x7f;
	assert_int_equal(kcrypto_x25519_public(pub, pkb), KITH_ECRYPTO);
	kcrypto_wipe(sk, sizeof(sk));
	assert_memory_equal(sk, zero, 32);
	kcrypto_key_free(a);
	kcrypto_key_free(b);
}

/* X25519 back to ed25519: the two keys with the same CURVE key. */
static void
test_ed25519_from_x25519(void **state)
{
	uint8_t x[32], back[32], ed[2][32], bad[32];
	struct kcrypto_key *k;
	const uint8_t *pk;
	int i, found;

	(void)state;
	for (i = 0; i < 64; i++) {
		k = tu_key((uint8_t)(0x40 + i));
		pk = kcrypto_key_public(k);
		assert_int_equal(kcrypto_x25519_public(pk, x), 0);
		assert_int_equal(kcrypto_ed25519_from_x25519(x, ed), 2);
		found = memcmp(ed[0], pk, 32) == 0 ? 0 :
		    memcmp(ed[1], pk, 32) == 0 ? 1 : -1;
		assert_true(found >= 0);
		/* The other is the same but for the sign bit; it maps to x. */
		assert_memory_equal(ed[!found], pk, 31);
		assert_int_equal(ed[!found][31], pk[31] ^ 0x80);
		assert_int_equal(kcrypto_x25519_public(ed[!found], back), 0);
		assert_memory_equal(back, x, 32);
		kcrypto_key_free(k);
	}
	/* u = 0, 1 and p - 1: no usable ed25519 key (small order, or y's
	 * denominator 0); nor, here, a u whose y puts no point on the curve. */
	memset(bad, 0, sizeof(bad));
	assert_int_equal(kcrypto_ed25519_from_x25519(bad, ed), 0);
	bad[0] = 1;
	assert_int_equal(kcrypto_ed25519_from_x25519(bad, ed), 0);
	memset(bad, 0xff, sizeof(bad));
	bad[0] = 0xec;
	bad[31] = 0x7f;
	assert_int_equal(kcrypto_ed25519_from_x25519(bad, ed), 0);
	for (i = 2, found = 0; i < 40; i++) {
		memset(bad, 0, sizeof(bad));
		bad[0] = (uint8_t)i;
		found += kcrypto_ed25519_from_x25519(bad, ed) == 0;
	}
	assert_true(found > 0);
}

/*
 * XChaCha20-Poly1305-IETF, the test vector of draft-irtf-cfrg-xchacha-03
 * §A.3.1; then every single-bit change to what is authenticated fails.
 */
static void
test_aead_known(void **state)
{
	static const char pt[] = "Ladies and Gentlemen of the class of '99: "
	    "If I could offer you only one tip for the future, sunscreen "
	    "would be it.";
	static const char ct_hex[] =
	    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
	    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
	    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
	    "21f9664c97637da9768812f615c68b13b52e"
	    "c0875924c1c7987947deafd8780acf49";
	const size_t n = sizeof(pt) - 1;
	uint8_t key[32], nonce[24], ad[12], want[sizeof(pt) - 1 + 16];
	uint8_t got[sizeof(want)], back[sizeof(pt)];
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	for (i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(0x40 + i);
	unhex(ad, sizeof(ad), "50515253c0c1c2c3c4c5c6c7");
	unhex(want, sizeof(want), ct_hex);
	assert_int_equal(kcrypto_aead_encrypt(got, (const uint8_t *)pt, n, ad,
	    sizeof(ad), nonce, key), 0);
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(kcrypto_aead_decrypt(back, got, sizeof(got), ad,
	    sizeof(ad), nonce, key), 0);
	assert_memory_equal(back, pt, n);

	for (i = 0; i < 8 * sizeof(got); i += 7) {
		got[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_int_equal(kcrypto_aead_decrypt(back, got, sizeof(got),
		    ad, sizeof(ad), nonce, key), KITH_ESEALED);
		got[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	ad[0] ^= 1;
	assert_int_equal(kcrypto_aead_decrypt(back, got, sizeof(got), ad,
	    sizeof(ad), nonce, key), KITH_ESEALED);
	ad[0] ^= 1;
	nonce[23] ^= 0x80;
	assert_int_equal(kcrypto_aead_decrypt(back, got, sizeof(got), ad,
	    sizeof(ad), nonce, key), KITH_ESEALED);
	nonce[23] ^= 0x80;
	key[5] ^= 2;
	assert_int_equal(kcrypto_aead_decrypt(back, got, sizeof(got), ad,
	    sizeof(ad), nonce, key), KITH_ESEALED);
	key[5] ^= 2;
	/* Without its additional data, or cut short, nothing opens. */
	assert_int_equal(kcrypto_aead_decrypt(back, got, sizeof(got), NULL, 0,
	    nonce, key), KITH_ESEALED);
	assert_int_equal(kcrypto_aead_decrypt(back, got, sizeof(got) - 1, ad,
	    sizeof(ad), nonce, key), KITH_ESEALED);
	assert_int_equal(kcrypto_aead_decrypt(back, got, 15, ad, sizeof(ad),
	    nonce, key), KITH_ESEALED);
	/* The empty message is a bare tag. */
	assert_int_equal(kcrypto_aead_encrypt(got, NULL, 0, ad, sizeof(ad),
	    nonce, key), 0);
	assert_int_equal(kcrypto_aead_decrypt(back, got, 16, ad, sizeof(ad),
	    nonce, key), 0);
}

/* A sealed box opens only with the recipient's pair, and only unaltered. */
static void
test_box_seal(void **state)
{
	struct kcrypto_key *a = kcrypto_key_generate(), *b = kcrypto_key_generate();
	uint8_t pka[32], ska[32], pkb[32], skb[32], msg[32], back[32];
	uint8_t box[32 + KCRYPTO_BOX_SEALLEN], box2[sizeof(box)], low[32];
	size_t i;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(kcrypto_key_x25519(a, pka, ska), 0);
	assert_int_equal(kcrypto_key_x25519(b, pkb, skb), 0);
	kcrypto_random(msg, sizeof(msg));
	assert_int_equal(kcrypto_box_seal(box, msg, sizeof(msg), pka), 0);
	assert_int_equal(kcrypto_box_seal_open(back, box, sizeof(box), pka,
	    ska), 0);
	assert_memory_equal(back, msg, sizeof(msg));
	/* Each seal takes a fresh ephemeral key. */
	assert_int_equal(kcrypto_box_seal(box2, msg, sizeof(msg), pka), 0);
	assert_memory_not_equal(box, box2, sizeof(box));
	/* Another pair, or a pair whose halves do not match, fails. */
	assert_int_equal(kcrypto_box_seal_open(back, box, sizeof(box), pkb,
	    skb), KITH_ESEALED);
	assert_int_equal(kcrypto_box_seal_open(back, box, sizeof(box), pkb,
	    ska), KITH_ESEALED);
	assert_int_equal(kcrypto_box_seal_open(back, box, sizeof(box), pka,
	    skb), KITH_ESEALED);
	for (i = 0; i < 8 * sizeof(box); i += 5) {
		box[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_int_equal(kcrypto_box_seal_open(back, box, sizeof(box),
		    pka, ska), KITH_ESEALED);
		box[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	assert_int_equal(kcrypto_box_seal_open(back, box, KCRYPTO_BOX_SEALLEN - 1,
	    pka, ska), KITH_ESEALED);
	assert_int_equal(kcrypto_box_seal_open(back, box, sizeof(box) - 1,
	    pka, ska), KITH_ESEALED);
	/* A low-order point cannot be sealed to. */
	memset(low, 0, sizeof(low));
	assert_int_equal(kcrypto_box_seal(box, msg, sizeof(msg), low),
	    KITH_ECRYPTO);
	kcrypto_wipe(ska, sizeof(ska));
	kcrypto_wipe(skb, sizeof(skb));
	kcrypto_key_free(a);
	kcrypto_key_free(b);
}

/*
 * The blind-index hash: BLAKE2b-128 keyed by crypto_kdf's subkey 1 of the
 * seed in context "kithfind".  The expected value was computed apart, with
 * Python's hashlib (blake2b with key, salt = subkey id, person = context).
 * Another key gives another hash; the seed's own hash is no key for it.
 */
static void
test_blind(void **state)
{
	uint8_t seed[32], seed2[32], out[KCRYPTO_BLIND_LEN], out2[KCRYPTO_BLIND_LEN];
	uint8_t want[KCRYPTO_BLIND_LEN];
	struct kcrypto_key *k, *k2;
	struct kcrypto_blind *b, *b2;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(seed); i++) {
		seed[i] = (uint8_t)i;
		seed2[i] = (uint8_t)(i + 1);
	}
	assert_non_null(k = kcrypto_key_from_seed(seed));
	assert_non_null(k2 = kcrypto_key_from_seed(seed2));
	assert_non_null(b = kcrypto_blind_new(k));
	assert_non_null(b2 = kcrypto_blind_new(k2));
	kcrypto_blind(b, out, (const uint8_t *)"nkowalska", 9);
	unhex(want, sizeof(want), "4d2b9f1dd9f537de17a24690970c16a0");
	assert_memory_equal(out, want, sizeof(want));
	/* Deterministic under one key; another input, another hash. */
	kcrypto_blind(b, out2, (const uint8_t *)"nkowalska", 9);
	assert_memory_equal(out, out2, sizeof(out));
	kcrypto_blind(b, out2, (const uint8_t *)"nkowalski", 9);
	assert_memory_not_equal(out, out2, sizeof(out));
	/* Another node's key: another hash of the same name. */
	kcrypto_blind(b2, out2, (const uint8_t *)"nkowalska", 9);
	assert_memory_not_equal(out, out2, sizeof(out));
	kcrypto_blind_free(b);
	kcrypto_blind_free(b2);
	kcrypto_blind_free(NULL);
	kcrypto_key_free(k);
	kcrypto_key_free(k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_known),
		cmocka_unit_test(test_hash_incremental),
		cmocka_unit_test(test_ed25519_known),
		cmocka_unit_test(test_key_from_seed),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_key_load_bad),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_x25519),
		cmocka_unit_test(test_ed25519_from_x25519),
		cmocka_unit_test(test_aead_known),
		cmocka_unit_test(test_box_seal),
		cmocka_unit_test(test_blind),
	};

	return tu_run(tests, setup, NULL);
}
