/*
 * node/report: small-number suppression.  Every count below 5 is hidden
 * (primary); a row or column whose total is shown never has exactly one
 * hidden cell, so none can be worked out by subtraction (secondary); and
 * counts of 5 and more are left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "testutil.h"

/*
 * Check that no line of a grid with a shown total has one hidden cell.  A
 * line of one cell is its own total: a caller shows the cell, not both.
 */
static void
assert_safe(const uint64_t *cells, size_t nr, size_t nc,
    const uint64_t *rt, const uint64_t *ct, const unsigned char *hid)
{
	size_t i, j, n;

	for (i = 0; i < nr * nc; i++)
		if (cells[i] < 5)
			assert_int_equal(hid[i], 1);
	for (i = 0; rt != NULL && i < nr; i++) {
		for (n = 0, j = 0; j < nc; j++)
			n += hid[i * nc + j];
		if (rt[i] >= 5 && nc > 1)
			assert_int_not_equal(n, 1);
	}
	for (j = 0; ct != NULL && j < nc; j++) {
		for (n = 0, i = 0; i < nr; i++)
			n += hid[i * nc + j];
		if (ct[j] >= 5 && nr > 1)
			assert_int_not_equal(n, 1);
	}
}

/* Below 5, zero included, is hidden; with no total, nothing more is. */
static void
test_primary(void **state)
{
	const uint64_t cells[] = { 3, 7, 0, 12, 4, 5 };
	const unsigned char want[] = { 1, 0, 1, 0, 1, 0 };
	unsigned char hid[6];

	(void)state;
	report_suppress(cells, 1, 6, NULL, NULL, hid);
	assert_memory_equal(hid, want, sizeof(want));
}

/* Nothing is hidden when every count is 5 or more, totals or not. */
static void
test_none_at_five(void **state)
{
	const uint64_t cells[] = { 5, 6, 100, 9 };
	const uint64_t rt[] = { 11, 109 }, ct[] = { 105, 15 };
	unsigned char hid[4];

	(void)state;
	report_suppress(cells, 2, 2, rt, ct, hid);
	assert_memory_equal(hid, ((unsigned char[]){ 0, 0, 0, 0 }), 4);
}

/*
 * A column of 4 and 50 under a shown total of 54: hiding the 4 alone
 * gives it away (54 - 50), so the 50 goes too.
 */
static void
test_derivable(void **state)
{
	const uint64_t cells[] = { 4, 50 }, ct[] = { 54 };
	unsigned char hid[2];

	(void)state;
	report_suppress(cells, 2, 1, NULL, NULL, hid);
	assert_memory_equal(hid, ((unsigned char[]){ 1, 0 }), 2);
	report_suppress(cells, 2, 1, NULL, ct, hid);
	assert_memory_equal(hid, ((unsigned char[]){ 1, 1 }), 2);
}

/* In a column, the next smallest cell is hidden, not any other. */
static void
test_secondary_column(void **state)
{
	const uint64_t cells[] = { 3, 10, 8, 30 }, ct[] = { 51 };
	unsigned char hid[4];

	(void)state;
	report_suppress(cells, 4, 1, NULL, ct, hid);
	assert_memory_equal(hid, ((unsigned char[]){ 1, 0, 1, 0 }), 4);
	assert_safe(cells, 4, 1, NULL, ct, hid);
}

/* In a row likewise; two hidden already is enough. */
static void
test_secondary_row(void **state)
{
	const uint64_t cells[] = { 2, 9, 6, 20, 1, 3, 40, 7 };
	const uint64_t rt[] = { 37, 51 };
	unsigned char hid[8];

	(void)state;
	report_suppress(cells, 2, 4, rt, NULL, hid);
	assert_memory_equal(hid, ((unsigned char[]){ 1, 0, 1, 0,
	    1, 1, 0, 0 }), 8);
	assert_safe(cells, 2, 4, rt, NULL, hid);
}

/*
 * Rows and columns together: hiding for a row makes a column give a cell
 * away, and so on until no line does.
 */
static void
test_cascade(void **state)
{
	const uint64_t cells[] = { 3, 10, 8, 20 };
	const uint64_t rt[] = { 13, 28 }, ct[] = { 11, 30 };
	unsigned char hid[4];

	(void)state;
	report_suppress(cells, 2, 2, rt, ct, hid);
	assert_memory_equal(hid, ((unsigned char[]){ 1, 1, 1, 1 }), 4);
	assert_safe(cells, 2, 2, rt, ct, hid);
}

/* A total below 5 is hidden itself, so it gives nothing away. */
static void
test_hidden_total(void **state)
{
	const uint64_t cells[] = { 0, 7 }, ct[] = { 3 };
	unsigned char hid[2];

	(void)state;
	report_suppress(cells, 2, 1, NULL, ct, hid);
	assert_memory_equal(hid, ((unsigned char[]){ 1, 0 }), 2);
}

/* Random grids with their sums as totals: always safe. */
static void
test_random(void **state)
{
	uint64_t cells[6 * 5], rt[6], ct[5], seed = 16;
	unsigned char hid[6 * 5];
	size_t i, j, nr, nc, iter;

	(void)state;
	for (iter = 0; iter < 2000; iter++) {
		nr = 1 + tu_rng(&seed) % 6;
		nc = 1 + tu_rng(&seed) % 5;
		memset(rt, 0, sizeof(rt));
		memset(ct, 0, sizeof(ct));
		for (i = 0; i < nr; i++)
			for (j = 0; j < nc; j++) {
				cells[i * nc + j] = tu_rng(&seed) % 3 ? 5 +
				    tu_rng(&seed) % 40 : tu_rng(&seed) % 5;
				rt[i] += cells[i * nc + j];
				ct[j] += cells[i * nc + j];
			}
		report_suppress(cells, nr, nc, rt, ct, hid);
		assert_safe(cells, nr, nc, rt, ct, hid);
		report_suppress(cells, nr, nc, NULL, ct, hid);
		assert_safe(cells, nr, nc, NULL, ct, hid);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primary),
		cmocka_unit_test(test_none_at_five),
		cmocka_unit_test(test_derivable),
		cmocka_unit_test(test_secondary_column),
		cmocka_unit_test(test_secondary_row),
		cmocka_unit_test(test_cascade),
		cmocka_unit_test(test_hidden_total),
		cmocka_unit_test(test_random),
	};

	return tu_run(tests, NULL, NULL);
}
