/*
 * The hybrid logical clock, driven by a fake wall clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "hlc.h"
#include "kith.h"
#include "testutil.h"

#define T0	1767225600000ULL	/* 2026-01-01T00:00:00.000Z */

static void
test_make_split(void **state)
{
	uint64_t t = HLC_MAKE(T0, 7);

	(void)state;
	assert_true(HLC_MS(t) == T0);
	assert_int_equal(HLC_COUNTER(t), 7);
	/* The counter is 16 bits: a larger one does not leak into ms. */
	t = HLC_MAKE(T0, 0x12345);
	assert_true(HLC_MS(t) == T0);
	assert_int_equal(HLC_COUNTER(t), 0x2345);
	/* Order is by ms first, then counter. */
	assert_true(HLC_MAKE(T0, 0xffff) < HLC_MAKE(T0 + 1, 0));
}

static void
test_tick_basic(void **state)
{
	uint64_t last = 0, t;

	(void)state;
	t = hlc_tick(&last, T0);
	assert_true(t == HLC_MAKE(T0, 0));
	assert_true(last == t);
	/* Same millisecond: the counter counts. */
	assert_true(hlc_tick(&last, T0) == HLC_MAKE(T0, 1));
	assert_true(hlc_tick(&last, T0) == HLC_MAKE(T0, 2));
	/* Wall clock moves on: counter resets. */
	assert_true(hlc_tick(&last, T0 + 5) == HLC_MAKE(T0 + 5, 0));
	assert_true(last == HLC_MAKE(T0 + 5, 0));
}

static void
test_tick_backwards(void **state)
{
	uint64_t last = 0, t;

	(void)state;
	hlc_tick(&last, T0);
	/* The wall clock jumps back a minute: still ahead of the last. */
	t = hlc_tick(&last, T0 - 60000);
	assert_true(t == HLC_MAKE(T0, 1));
	t = hlc_tick(&last, T0 - 60000);
	assert_true(t == HLC_MAKE(T0, 2));
	/* Back to real time, below last still: counting continues. */
	t = hlc_tick(&last, T0);
	assert_true(t == HLC_MAKE(T0, 3));
	t = hlc_tick(&last, T0 + 1);
	assert_true(t == HLC_MAKE(T0 + 1, 0));
}

/* A full counter carries into the millisecond field. */
static void
test_tick_carry(void **state)
{
	uint64_t last = HLC_MAKE(T0, 0xfffe), t;

	(void)state;
	t = hlc_tick(&last, T0);
	assert_true(t == HLC_MAKE(T0, 0xffff));
	t = hlc_tick(&last, T0);
	assert_true(t == HLC_MAKE(T0 + 1, 0));
	t = hlc_tick(&last, T0);
	assert_true(t == HLC_MAKE(T0 + 1, 1));
}

/* Whatever the wall clock does, ticks strictly increase, never behind it. */
static void
test_tick_random_walk(void **state)
{
	uint64_t last = 0, prev = 0, t, wall = T0, seed = 99, r;
	int i;

	(void)state;
	for (i = 0; i < 100000; i++) {
		r = tu_rng(&seed);
		switch (r % 4) {
		case 0:
			wall -= r >> 60;		/* back a little */
			break;
		case 1:
			wall += (r >> 32) % 3;		/* forward */
			break;
		case 2:
			if ((r >> 8) % 1000 == 0)
				wall -= 3600000;	/* back an hour */
			break;
		default:
			break;
		}
		t = hlc_tick(&last, wall);
		assert_true(t > prev);
		assert_true(t >= HLC_MAKE(wall, 0));
		assert_true(last == t);
		prev = t;
	}
}

static void
test_merge(void **state)
{
	uint64_t last, t;

	(void)state;
	/* Remote ahead (within the limit): later local events follow it. */
	last = HLC_MAKE(T0, 3);
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0 + 5000, 9), T0), 0);
	assert_true(last == HLC_MAKE(T0 + 5000, 9));
	t = hlc_tick(&last, T0);
	assert_true(t == HLC_MAKE(T0 + 5000, 10));

	/* Remote behind: nothing changes. */
	last = HLC_MAKE(T0, 3);
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0 - 5000, 9), T0), 0);
	assert_true(last == HLC_MAKE(T0, 3));
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0, 2), T0), 0);
	assert_true(last == HLC_MAKE(T0, 3));
	/* Equal: nothing changes, and the next tick is still greater. */
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0, 3), T0), 0);
	assert_true(last == HLC_MAKE(T0, 3));
	assert_true(hlc_tick(&last, T0) == HLC_MAKE(T0, 4));
	/* Same millisecond, larger counter. */
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0, 40), T0), 0);
	assert_true(last == HLC_MAKE(T0, 40));

	/* Exactly at the limit: accepted. */
	last = HLC_MAKE(T0, 0);
	t = HLC_MAKE(T0 + KITH_HLC_FUTURE_MS, 0xffff);
	assert_int_equal(hlc_merge(&last, t, T0), 0);
	assert_true(last == t);

	/* Past it: refused, clock untouched. */
	last = HLC_MAKE(T0, 0);
	assert_int_equal(hlc_merge(&last,
	    HLC_MAKE(T0 + KITH_HLC_FUTURE_MS + 1, 0), T0), KITH_EFUTURE);
	assert_true(last == HLC_MAKE(T0, 0));
	assert_int_equal(hlc_merge(&last, UINT64_MAX, T0), KITH_EFUTURE);
	assert_true(last == HLC_MAKE(T0, 0));
}

static void
test_check(void **state)
{

	(void)state;
	assert_int_equal(KITH_HLC_FUTURE_MS, 600000);
	assert_int_equal(hlc_check(HLC_MAKE(T0, 0), T0), 0);
	assert_int_equal(hlc_check(HLC_MAKE(T0 + 1, 0), T0), 0);
	assert_int_equal(hlc_check(HLC_MAKE(T0 - 86400000, 0), T0), 0);
	assert_int_equal(hlc_check(0, T0), 0);
	assert_int_equal(hlc_check(HLC_MAKE(T0 + 599999, 0xffff), T0), 0);
	assert_int_equal(hlc_check(HLC_MAKE(T0 + 600000, 0), T0), 0);
	assert_int_equal(hlc_check(HLC_MAKE(T0 + 600000, 0xffff), T0), 0);
	assert_int_equal(hlc_check(HLC_MAKE(T0 + 600001, 0), T0),
	    KITH_EFUTURE);
	assert_int_equal(hlc_check(HLC_MAKE(T0 + 3600000, 0), T0),
	    KITH_EFUTURE);
	assert_int_equal(hlc_check(UINT64_MAX, T0), KITH_EFUTURE);
	/* The limit moves with the wall clock. */
	assert_int_equal(hlc_check(HLC_MAKE(T0 + 600001, 0), T0 + 1), 0);
}

static void
test_format(void **state)
{
	static const struct {
		uint64_t ts;
		const char *want;
	} cases[] = {
		{ HLC_MAKE(0, 0), "1970-01-01T00:00:00.000Z" },
		{ HLC_MAKE(T0, 0), "2026-01-01T00:00:00.000Z" },
		{ HLC_MAKE(T0, 3), "2026-01-01T00:00:00.000Z+3" },
		{ HLC_MAKE(1795414911123ULL, 2), "2026-11-23T06:21:51.123Z+2" },
		{ HLC_MAKE(T0 + 7, 0), "2026-01-01T00:00:00.007Z" },
		{ HLC_MAKE(T0 - 1, 65535), "2025-12-31T23:59:59.999Z+65535" },
		{ HLC_MAKE(4102444799999ULL, 0), "2099-12-31T23:59:59.999Z" },
	};
	char buf[40];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 'X', sizeof(buf));
		hlc_format(buf, cases[i].ts);
		assert_string_equal(buf, cases[i].want);
	}
	/* The largest timestamp still fits the buffer. */
	memset(buf, 'X', sizeof(buf));
	hlc_format(buf, UINT64_MAX);
	assert_non_null(memchr(buf, '\0', sizeof(buf)));
	assert_true(strlen(buf) > 0);
}

static void
test_wall(void **state)
{
	uint64_t a, b;
	time_t now;

	(void)state;
	now = time(NULL);
	a = hlc_wall_ms();
	b = hlc_wall_ms();
	assert_true(b >= a || a - b < 1000);	/* NTP may step, but not far */
	assert_true(a / 1000 + 2 >= (uint64_t)now);
	assert_true(a / 1000 <= (uint64_t)now + 2);
	assert_true(a > T0 - 365ULL * 86400000);	/* a sane clock */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make_split),
		cmocka_unit_test(test_tick_basic),
		cmocka_unit_test(test_tick_backwards),
		cmocka_unit_test(test_tick_carry),
		cmocka_unit_test(test_tick_random_walk),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_wall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
