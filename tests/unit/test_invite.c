/*
 * Invite and reply lines (node/invite.c): what one signs, the other
 * checks; a changed byte, a swapped key or a cut line is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invite.h"
#include "kcrypto.h"
#include "kith.h"
#include "roster.h"
#include "testutil.h"

static const uint8_t charter[] = "KITHRECS and some records";

static char *
make(struct kcrypto_key *admin, const char *org, int role)
{
	struct invite inv;
	char *line = NULL;

	memset(&inv, 0, sizeof(inv));
	snprintf(inv.org, sizeof(inv.org), "%s", org);
	snprintf(inv.peer, sizeof(inv.peer), "KEY@tcp://192.0.2.1:7400");
	inv.role = role;
	inv.expires = 1234567890123ULL;
	inv.charter = (uint8_t *)charter;
	inv.clen = sizeof(charter);
	assert_int_equal(invite_make(&inv, admin, &line), 0);
	return line;
}

static void
test_roundtrip(void **state)
{
	struct kcrypto_key *admin = tu_key(1), *newcomer = tu_key(2);
	struct invite inv, rep;
	char *line, *reply = NULL;

	(void)state;
	line = make(admin, "Feltham Foodbank ł", ROLE_PCN);
	assert_int_equal(strncmp(line, "kith-invite:", 12), 0);
	assert_int_equal(invite_parse(line, &inv), 0);
	assert_string_equal(inv.org, "Feltham Foodbank ł");
	assert_string_equal(inv.peer, "KEY@tcp://192.0.2.1:7400");
	assert_int_equal(inv.role, ROLE_PCN);
	assert_true(inv.expires == 1234567890123ULL);
	assert_memory_equal(inv.by, kcrypto_key_public(admin), KITH_KEY_LEN);
	assert_int_equal(inv.clen, sizeof(charter));
	assert_memory_equal(inv.charter, charter, sizeof(charter));
	/* A reply is not an invite, nor an invite a reply. */
	assert_int_equal(invite_parse_reply(line, &rep), KITH_EINVAL);
	assert_int_equal(invite_reply(&inv, newcomer, &reply), 0);
	assert_int_equal(strncmp(reply, "kith-reply:", 11), 0);
	assert_int_equal(invite_parse(reply, &rep), KITH_EINVAL);
	/* Surrounding blanks and a newline are fine. */
	reply = realloc(reply, strlen(reply) + 4);
	memmove(reply + 2, reply, strlen(reply) + 1);
	memcpy(reply, "  ", 2);
	strcat(reply, "\n");
	assert_int_equal(invite_parse_reply(reply, &rep), 0);
	assert_memory_equal(rep.key, kcrypto_key_public(newcomer),
	    KITH_KEY_LEN);
	assert_string_equal(rep.org, "Feltham Foodbank ł");
	assert_int_equal(rep.role, ROLE_PCN);
	assert_memory_equal(rep.by, kcrypto_key_public(admin), KITH_KEY_LEN);
	invite_clear(&inv);
	free(line);
	free(reply);
	kcrypto_key_free(admin);
	kcrypto_key_free(newcomer);
}

/* Flip each character of ${line} in turn: nothing decodes as it was. */
static void
flip_all(char *line, size_t from, int reply)
{
	struct invite inv;
	size_t i;
	char was;
	int rc;

	for (i = from; line[i] != '\0'; i++) {
		was = line[i];
		line[i] = was == 'A' ? 'B' : 'A';
		rc = reply ? invite_parse_reply(line, &inv) :
		    invite_parse(line, &inv);
		/* The last character may carry bits past the end. */
		if (line[i + 1] != '\0')
			assert_int_not_equal(rc, 0);
		invite_clear(&inv);
		line[i] = was;
	}
}

static void
test_tampered(void **state)
{
	struct kcrypto_key *admin = tu_key(1), *newcomer = tu_key(2);
	struct invite inv;
	char *line, *reply = NULL;
	size_t n;

	(void)state;
	line = make(admin, "Org", ROLE_MEMBER);
	assert_int_equal(invite_parse(line, &inv), 0);
	assert_int_equal(invite_reply(&inv, newcomer, &reply), 0);
	invite_clear(&inv);
	/* Every byte of the grant and signatures is covered. */
	flip_all(line, 12, 0);
	flip_all(reply, 11, 1);
	/* Cut short, or one character longer. */
	n = strlen(reply);
	reply[n - 5] = '\0';
	assert_int_equal(invite_parse_reply(reply, &inv), KITH_EINVAL);
	line[20] = '\0';
	assert_int_equal(invite_parse(line, &inv), KITH_EINVAL);
	assert_int_equal(invite_parse("kith-invite:", &inv), KITH_EINVAL);
	assert_int_equal(invite_parse("hello", &inv), KITH_EINVAL);
	assert_int_equal(invite_parse("kith-invite:!!!!", &inv), KITH_EINVAL);
	free(line);
	free(reply);
	kcrypto_key_free(admin);
	kcrypto_key_free(newcomer);
}

static void
test_bad_make(void **state)
{
	struct kcrypto_key *admin = tu_key(1);
	struct invite inv;
	char *line = NULL;

	(void)state;
	memset(&inv, 0, sizeof(inv));
	inv.role = ROLE_MEMBER;
	inv.charter = (uint8_t *)charter;
	inv.clen = sizeof(charter);
	/* No name. */
	assert_int_equal(invite_make(&inv, admin, &line), KITH_EINVAL);
	assert_null(line);
	snprintf(inv.org, sizeof(inv.org), "Org");
	inv.clen = INVITE_CHARTER_MAX + 1;
	assert_int_equal(invite_make(&inv, admin, &line), KITH_EINVAL);
	kcrypto_key_free(admin);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_bad_make),
	};

	if (kcrypto_init() != 0)
		return 1;
	return tu_run(tests, NULL, NULL);
}
