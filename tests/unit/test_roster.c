/*
 * The roster: membership from the charter, member and revoke records, in
 * version order, with authority checked at each record's time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kcrypto.h"
#include "kith.h"
#include "record.h"
#include "roster.h"
#include "testutil.h"

static uint64_t seq;

/* A charter by ${k} at ${hlc}. */
static struct record *
charter(const struct kcrypto_key *k, uint64_t hlc)
{
	uint8_t ent[KITH_ENTITY_LEN] = { 1 }, *b;
	struct record *r;
	size_t len;

	b = tu_body(&len, "name", "Net", "org", "Founders", NULL);
	r = tu_record(k, NULL, ++seq, hlc, KITH_KIND_CHARTER, ent, NULL, 0, b,
	    len);
	free(b);
	return r;
}

/* A member record (role not NULL) or a revoke record about ${who}. */
static struct record *
about(const struct kcrypto_key *by, uint64_t hlc,
    const struct kcrypto_key *who, const char *role)
{
	uint8_t ent[KITH_ENTITY_LEN] = { 2 }, *b;
	char hex[65];
	struct record *r;
	size_t len;

	kith_hex(hex, kcrypto_key_public(who), KITH_KEY_LEN);
	if (role != NULL) {
		roster_member_entity(kcrypto_key_public(who), ent);
		b = tu_body(&len, "key", hex, "org", "Org", "role", role, NULL);
	} else
		b = tu_body(&len, "key", hex, NULL);
	r = tu_record(by, NULL, ++seq, hlc, role != NULL ? KITH_KIND_MEMBER :
	    KITH_KIND_REVOKE, ent, NULL, 0, b, len);
	free(b);
	return r;
}

static void
test_rules(void **state)
{
	struct kcrypto_key *adm = tu_key(1), *a = tu_key(2), *b = tu_key(3);
	struct kcrypto_key *c = tu_key(4), *o = tu_key(5);
	const struct roster_entry *e;
	struct record *r[9];
	struct roster *ro;
	uint8_t x[32];

	(void)state;
	r[0] = charter(adm, 10);
	r[1] = about(adm, 20, a, "admin");
	r[2] = about(a, 30, b, "member");	/* an admin admitted by an admin */
	r[3] = about(b, 40, c, "member");	/* forged: b is no admin */
	r[4] = about(b, 50, a, NULL);		/* forged revocation */
	r[5] = about(adm, 60, o, "observer");
	r[6] = about(a, 70, b, NULL);		/* b revoked at 70 */
	r[7] = about(adm, 80, b, "member");	/* for good: no re-admission */
	r[8] = about(a, 15, c, "member");	/* before a was an admin */
	/* Any order in: the same roster. */
	assert_int_equal(roster_compute(r, 9, &ro), 0);
	assert_int_equal(roster_check(ro, kcrypto_key_public(adm), 5), 0);
	assert_int_equal(roster_check(ro, kcrypto_key_public(a), 1000), 0);
	assert_int_equal(roster_role(ro, kcrypto_key_public(a), 1000),
	    ROLE_ADMIN);
	assert_int_equal(roster_check(ro, kcrypto_key_public(b), 69), 0);
	assert_int_equal(roster_check(ro, kcrypto_key_public(b), 70),
	    KITH_EREVOKED);
	assert_int_equal(roster_check(ro, kcrypto_key_public(c), 100),
	    KITH_ENOTFOUND);
	assert_int_equal(roster_check(ro, kcrypto_key_public(o), 100),
	    KITH_EDENIED);
	assert_non_null(e = roster_find(ro, kcrypto_key_public(b)));
	assert_int_equal(e->revoked, 70);
	assert_memory_equal(e->by, kcrypto_key_public(a), 32);
	assert_int_equal(kcrypto_x25519_public(kcrypto_key_public(o), x), 0);
	assert_ptr_equal(roster_find_x25519(ro, x),
	    roster_find(ro, kcrypto_key_public(o)));
	assert_int_equal(roster_size(ro), 4);	/* c never admitted */
	roster_free(ro);
	/* Reversed input, same answers; no charter, no roster. */
	for (int i = 0; i < 4; i++) {
		struct record *t = r[i];

		r[i] = r[8 - i];
		r[8 - i] = t;
	}
	assert_int_equal(roster_compute(r, 9, &ro), 0);
	assert_int_equal(roster_check(ro, kcrypto_key_public(b), 70),
	    KITH_EREVOKED);
	assert_int_equal(roster_check(ro, kcrypto_key_public(c), 100),
	    KITH_ENOTFOUND);
	roster_free(ro);
	assert_int_equal(roster_compute(r, 8, &ro), KITH_ENOTFOUND);
	for (int i = 0; i < 9; i++)
		record_free(r[i]);
	kcrypto_key_free(adm);
	kcrypto_key_free(a);
	kcrypto_key_free(b);
	kcrypto_key_free(c);
	kcrypto_key_free(o);
}

static void
test_names(void **state)
{

	(void)state;
	assert_int_equal(roster_role_parse("pcn"), ROLE_PCN);
	assert_int_equal(roster_role_parse("root"), ROLE_NONE);
	assert_string_equal(roster_role_name(ROLE_OBSERVER), "observer");
	assert_string_equal(roster_role_name(42), "none");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_names),
	};

	assert_int_equal(kcrypto_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
