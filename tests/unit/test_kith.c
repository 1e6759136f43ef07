/*
 * proto/kith: error texts, kind names, hex.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "kith.h"
#include "testutil.h"

static void
test_strerror(void **state)
{
	const char *seen[1 - KITH_ELAST];

	(void)state;
	/* Every code has its own text; unknown codes still get one. */
	for (int rc = 0; rc >= KITH_ELAST; rc--) {
		const char *s = kith_strerror(rc);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		for (int k = 0; k < -rc; k++)
			assert_string_not_equal(s, seen[k]);
		seen[-rc] = s;
	}
	assert_non_null(kith_strerror(-999));
	assert_non_null(kith_strerror(5));
}

static void
test_errnames(void **state)
{
	int rc;

	(void)state;
	/* Every code has a name that parses back to it. */
	for (int code = 0; code >= KITH_ELAST; code--) {
		const char *name = kith_errname(code);

		assert_non_null(name);
		assert_int_equal(kith_errparse(name, &rc), 0);
		assert_int_equal(rc, code);
	}
	assert_string_equal(kith_errname(KITH_OK), "ok");
	assert_string_equal(kith_errname(KITH_ETRAILING), "ETRAILING");
	assert_null(kith_errname(-999));
	assert_null(kith_errname(1));
	assert_int_equal(kith_errparse("KITH_ETRAILING", &rc), KITH_EINVAL);
	assert_int_equal(kith_errparse("etrailing", &rc), KITH_EINVAL);
	assert_int_equal(kith_errparse("", &rc), KITH_EINVAL);
}

/*
 * The codes are wire values (an ERROR frame carries one, PROTOCOL.md 6 and
 * 9.2 number them): each keeps its number and name.
 */
static void
test_codes_pinned(void **state)
{
	static const struct {
		int rc, value;
		const char *name;
	} pinned[] = {
		{ KITH_EINVAL, -2, "EINVAL" },
		{ KITH_ETRAILING, -3, "ETRAILING" },
		{ KITH_ETYPE, -4, "ETYPE" },
		{ KITH_EVERSION, -5, "EVERSION" },
		{ KITH_ETOOBIG, -6, "ETOOBIG" },
		{ KITH_EBODYHASH, -7, "EBODYHASH" },
		{ KITH_EBADSIG, -8, "EBADSIG" },
		{ KITH_ETRUNC, -9, "ETRUNC" },
		{ KITH_ENONCANON, -10, "ENONCANON" },
		{ KITH_ENETWORK, -11, "ENETWORK" },
		{ KITH_EFUTURE, -12, "EFUTURE" },
		{ KITH_EBODYLEN, -19, "EBODYLEN" },
		{ KITH_ERANGE, -20, "ERANGE" },
		{ KITH_EPROTO, -23, "EPROTO" },
		{ KITH_EDENIED, -27, "EDENIED" },
		{ KITH_ESEALED, -28, "ESEALED" },
		{ KITH_EGENESIS, -29, "EGENESIS" },
		{ KITH_ENOGENESIS, -30, "ENOGENESIS" },
		{ KITH_EFORKED, -31, "EFORKED" },
		{ KITH_EFULL, -32, "EFULL" },
		{ KITH_EFIELDS, -33, "EFIELDS" },
		{ KITH_ELIMIT, -34, "ELIMIT" },
		{ KITH_ENOSPC, -35, "ENOSPC" },
		{ KITH_EUPGRADE, -36, "EUPGRADE" },
		{ KITH_ENOHOST, -37, "ENOHOST" },
		{ KITH_ENOLISTEN, -38, "ENOLISTEN" },
		{ KITH_EWRONGKEY, -39, "EWRONGKEY" },
	};
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		assert_int_equal(pinned[i].rc, pinned[i].value);
		assert_string_equal(kith_errname(pinned[i].rc),
		    pinned[i].name);
		assert_int_equal(kith_errparse(pinned[i].name, &rc), 0);
		assert_int_equal(rc, pinned[i].value);
		assert_string_not_equal(kith_strerror(pinned[i].rc),
		    "unknown error");
	}
	/* These are the last codes; nothing past them has a name. */
	assert_int_equal(KITH_ELAST, KITH_EWRONGKEY);
	assert_null(kith_errname(KITH_ELAST - 1));
	assert_string_equal(kith_strerror(KITH_ELAST - 1), "unknown error");
	assert_int_equal(kith_errparse("EGENESIS ", &rc), KITH_EINVAL);
}

static void
test_kinds(void **state)
{
	static const struct {
		const char *name;
		uint64_t kind;
	} known[] = {
		{ "charter", KITH_KIND_CHARTER }, { "member", KITH_KIND_MEMBER },
		{ "revoke", KITH_KIND_REVOKE }, { "request", KITH_KIND_REQUEST },
		{ "volunteer", KITH_KIND_VOLUNTEER },
		{ "referral", KITH_KIND_REFERRAL }, { "erase", KITH_KIND_ERASE },
	};
	uint64_t k;

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		assert_string_equal(kith_kind_name(known[i].kind),
		    known[i].name);
		assert_int_equal(kith_kind_parse(known[i].name, &k), 0);
		assert_int_equal(k, known[i].kind);
	}
	/* The roster reads charters, members and revocations, only those. */
	for (k = 0; k <= 40; k++)
		assert_int_equal(KITH_KIND_IS_MEMBERSHIP(k), k >= 1 && k <= 3);
	assert_null(kith_kind_name(0));
	assert_null(kith_kind_name(999));
	assert_int_equal(kith_kind_parse("Request", &k), KITH_EINVAL);
	assert_int_equal(kith_kind_parse("", &k), KITH_EINVAL);
	assert_int_equal(kith_kind_parse("requests", &k), KITH_EINVAL);
}

static void
test_hex(void **state)
{
	const uint8_t in[4] = { 0x00, 0xab, 0x7f, 0xff };
	uint8_t out[4];
	char hex[9];

	(void)state;
	kith_hex(hex, in, 4);
	assert_string_equal(hex, "00ab7fff");
	assert_int_equal(kith_unhex(out, 4, hex), 0);
	assert_memory_equal(out, in, 4);
	assert_int_equal(kith_unhex(out, 4, "00AB7FFF"), 0);
	assert_memory_equal(out, in, 4);
	/* Exactly 2n digits, all hex. */
	assert_int_equal(kith_unhex(out, 4, "00ab7ff"), KITH_EINVAL);
	assert_int_equal(kith_unhex(out, 4, "00ab7fff0"), KITH_EINVAL);
	assert_int_equal(kith_unhex(out, 4, "00ab7fgf"), KITH_EINVAL);
	assert_int_equal(kith_unhex(out, 4, ""), KITH_EINVAL);
	assert_int_equal(kith_unhex(out, 4, "00 b7fff"), KITH_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_errnames),
		cmocka_unit_test(test_codes_pinned),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_hex),
	};

	return tu_run(tests, NULL, NULL);
}
