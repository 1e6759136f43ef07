/*
 * Field tables and checks: the session and insight kinds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "body.h"
#include "codec.h"
#include "field.h"
#include "kith.h"
#include "testutil.h"

/* Does ${opt} of ${kind} take ${in}?  Its normal form to ${out}. */
static int
takes(uint64_t kind, const char *opt, const char *in, char *out)
{
	const struct field_def *f = field_find(field_defs(kind), opt);
	char buf[KITH_VALUE_MAX + 1];

	assert_non_null(f);
	return field_norm(f, in, out != NULL ? out : buf,
	    KITH_VALUE_MAX + 1) == 0;
}

static void
test_session_table(void **state)
{
	const struct field_def *d = field_defs(KITH_KIND_SESSION);
	char out[KITH_VALUE_MAX + 1], tomorrow[16];
	time_t t = time(NULL) + 2 * 86400;
	struct tm tm;
	size_t personal = 0;

	(void)state;
	assert_non_null(d);
	/* Nothing names a person; only the notes are sealed. */
	for (; d->opt != NULL; d++)
		if (d->flags & FIELD_PERSONAL) {
			assert_string_equal(d->name, "notes");
			personal++;
		}
	assert_int_equal(personal, 1);
	assert_true(takes(KITH_KIND_SESSION, "date", "2026-01-31", NULL));
	gmtime_r(&t, &tm);
	strftime(tomorrow, sizeof(tomorrow), "%Y-%m-%d", &tm);
	assert_false(takes(KITH_KIND_SESSION, "date", tomorrow, NULL));
	assert_false(takes(KITH_KIND_SESSION, "date", "2026-02-30", NULL));
	assert_true(takes(KITH_KIND_SESSION, "area", "tw3 3eb", out));
	assert_string_equal(out, "TW3");
	assert_false(takes(KITH_KIND_SESSION, "area", "3TW", NULL));
	assert_true(takes(KITH_KIND_SESSION, "lang", "POL,ps,syl", out));
	assert_string_equal(out, "pl,ps,syl");
	assert_false(takes(KITH_KIND_SESSION, "lang", "pl,xx", NULL));
	assert_true(takes(KITH_KIND_SESSION, "reached", "0", NULL));
	assert_true(takes(KITH_KIND_SESSION, "reached", "1000000", NULL));
	assert_false(takes(KITH_KIND_SESSION, "reached", "1000001", NULL));
	assert_false(takes(KITH_KIND_SESSION, "reached", "-1", NULL));
	assert_false(takes(KITH_KIND_SESSION, "in-depth", "1e3", NULL));
	assert_false(takes(KITH_KIND_SESSION, "in-depth", "", NULL));
	assert_true(takes(KITH_KIND_SESSION, "format", "Focus-Group", out));
	assert_string_equal(out, "focus-group");
	assert_false(takes(KITH_KIND_SESSION, "format", "party", NULL));
	assert_true(takes(KITH_KIND_SESSION, "lead",
	    "0123456789ABCDEF0123456789abcdef", out));
	assert_string_equal(out, "0123456789abcdef0123456789abcdef");
	assert_false(takes(KITH_KIND_SESSION, "lead", "0123", NULL));
}

static void
test_insight_table(void **state)
{
	const struct field_def *d = field_defs(KITH_KIND_INSIGHT);
	char out[KITH_VALUE_MAX + 1];
	size_t answer = 0;

	(void)state;
	assert_non_null(d);
	for (; d->opt != NULL; d++) {
		answer += (d->flags & FIELD_ANSWER) != 0;
		/* Only the quote is sealed. */
		assert_true(!(d->flags & FIELD_PERSONAL) ||
		    strcmp(d->name, "quote") == 0);
	}
	assert_int_equal(answer, 3);	/* action, status, why */
	assert_true(takes(KITH_KIND_INSIGHT, "sentiment", "-2", NULL));
	assert_true(takes(KITH_KIND_INSIGHT, "sentiment", "+2", NULL));
	assert_false(takes(KITH_KIND_INSIGHT, "sentiment", "3", NULL));
	assert_false(takes(KITH_KIND_INSIGHT, "sentiment", "-", NULL));
	assert_true(takes(KITH_KIND_INSIGHT, "theme", "Access,waiting-times",
	    out));
	assert_string_equal(out, "access,waiting-times");
	assert_false(takes(KITH_KIND_INSIGHT, "theme", "a b", NULL));
	assert_true(takes(KITH_KIND_INSIGHT, "status", "Not-Possible", out));
	assert_string_equal(out, "not-possible");
	assert_false(takes(KITH_KIND_INSIGHT, "status", "open", NULL));
}

/* Counts and sentiment go into a body as integers. */
static void
test_integers(void **state)
{
	const struct field_def *d = field_defs(KITH_KIND_SESSION);
	const struct body_field *bf;
	struct body *b;
	char why[256];

	(void)state;
	assert_non_null(b = body_new());
	assert_int_equal(field_set(b, field_find(d, "reached"), "040", 0, why,
	    sizeof(why)), 0);
	assert_non_null(bf = body_get(b, "reached"));
	assert_int_equal(bf->v.type, CODEC_INT);
	assert_int_equal(bf->v.i, 40);
	assert_int_equal(field_set(b, field_find(field_defs(KITH_KIND_INSIGHT),
	    "sentiment"), "-1", 0, why, sizeof(why)), 0);
	assert_non_null(bf = body_get(b, "sentiment"));
	assert_int_equal(bf->v.i, -1);
	assert_int_equal(field_set(b, field_find(d, "in-depth"), "many", 0,
	    why, sizeof(why)), KITH_EINVAL);
	assert_non_null(strstr(why, "--in-depth"));
	body_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_table),
		cmocka_unit_test(test_insight_table),
		cmocka_unit_test(test_integers),
	};

	return tu_run(tests, NULL, NULL);
}
