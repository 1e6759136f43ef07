/*
 * node/rate: a bucket gives its burst and no more, refills at its rate,
 * keeps keys apart, and a full table makes way for new keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rate.h"
#include "testutil.h"

static void
key_of(uint8_t key[32], unsigned i)
{

	memset(key, 0, 32);
	memcpy(key, &i, sizeof(i));
	key[31] = (uint8_t)i;
}

/* The burst is taken, the next token is refused, and nothing is taken. */
static void
test_burst(void **state)
{
	struct rate *r;
	uint8_t k[32];
	int i;

	(void)state;
	key_of(k, 1);
	assert_non_null(r = rate_new(16, 60, 10));
	for (i = 0; i < 10; i++)
		assert_int_equal(rate_take(r, k, 1, 1000), 1);
	assert_int_equal(rate_take(r, k, 1, 1000), 0);
	/* A cost larger than what is left takes nothing. */
	assert_int_equal(rate_take(r, k, 2, 2000), 0);
	assert_int_equal(rate_take(r, k, 1, 2000), 1);
	assert_int_equal(rate_take(r, k, 1, 2000), 0);
	rate_free(r);
}

/* 60 a minute: one more each second, never beyond the burst. */
static void
test_refill(void **state)
{
	struct rate *r;
	uint8_t k[32];
	int i;

	(void)state;
	key_of(k, 2);
	assert_non_null(r = rate_new(16, 60, 5));
	for (i = 0; i < 5; i++)
		assert_int_equal(rate_take(r, k, 1, 0), 1);
	assert_int_equal(rate_take(r, k, 1, 999), 0);
	assert_int_equal(rate_take(r, k, 1, 1000), 1);
	assert_int_equal(rate_take(r, k, 1, 1000), 0);
	/* An hour idle fills it to the burst, not to 3600. */
	for (i = 0; i < 5; i++)
		assert_int_equal(rate_take(r, k, 1, 3601000), 1);
	assert_int_equal(rate_take(r, k, 1, 3601000), 0);
	/* A clock that seems to go back gives nothing. */
	assert_int_equal(rate_take(r, k, 1, 5000), 0);
	rate_free(r);
}

/* One key's use leaves another's bucket full. */
static void
test_keys_apart(void **state)
{
	struct rate *r;
	uint8_t a[32], b[32];

	(void)state;
	key_of(a, 3);
	key_of(b, 4);
	assert_non_null(r = rate_new(16, 1, 2));
	assert_int_equal(rate_take(r, a, 2, 0), 1);
	assert_int_equal(rate_take(r, a, 1, 0), 0);
	assert_int_equal(rate_take(r, b, 2, 0), 1);
	assert_int_equal(rate_take(r, b, 1, 0), 0);
	rate_free(r);
}

/*
 * Far more keys than slots: each new key gets a bucket; a key that made
 * way starts full again, and one kept holds its count.
 */
static void
test_full_table(void **state)
{
	struct rate *r;
	uint8_t k[32];
	unsigned i;

	(void)state;
	assert_non_null(r = rate_new(8, 1, 1));
	for (i = 0; i < 1000; i++) {
		key_of(k, i);
		assert_int_equal(rate_take(r, k, 1, i), 1);
		assert_int_equal(rate_take(r, k, 1, i), 0);
	}
	key_of(k, 999);		/* the newest is kept, empty */
	assert_int_equal(rate_take(r, k, 1, 1000), 0);
	key_of(k, 0);		/* the first made way long ago */
	assert_int_equal(rate_take(r, k, 1, 1000), 1);
	rate_free(r);
	assert_null(rate_new(8, 1, 0));
	rate_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_refill),
		cmocka_unit_test(test_keys_apart),
		cmocka_unit_test(test_full_table),
	};

	return tu_run(tests, NULL, NULL);
}
