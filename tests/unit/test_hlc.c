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
	uint64_t last, t, wide = HLC_MAKE(T0 + 2 * KITH_HLC_FUTURE_MS, 0);

	(void)state;
	/* Remote ahead (within the limit): later local events follow it. */
	last = HLC_MAKE(T0, 3);
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0 + 5000, 9), T0, wide), 0);
	assert_true(last == HLC_MAKE(T0 + 5000, 9));
	t = hlc_tick(&last, T0);
	assert_true(t == HLC_MAKE(T0 + 5000, 10));

	/* Remote behind: nothing changes. */
	last = HLC_MAKE(T0, 3);
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0 - 5000, 9), T0, wide), 0);
	assert_true(last == HLC_MAKE(T0, 3));
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0, 2), T0, wide), 0);
	assert_true(last == HLC_MAKE(T0, 3));
	/* Equal: nothing changes, and the next tick is still greater. */
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0, 3), T0, wide), 0);
	assert_true(last == HLC_MAKE(T0, 3));
	assert_true(hlc_tick(&last, T0) == HLC_MAKE(T0, 4));
	/* Same millisecond, larger counter. */
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0, 40), T0, wide), 0);
	assert_true(last == HLC_MAKE(T0, 40));

	/* Exactly at the limit: accepted. */
	last = HLC_MAKE(T0, 0);
	t = HLC_MAKE(T0 + KITH_HLC_FUTURE_MS, 0xffff);
	assert_int_equal(hlc_merge(&last, t, T0, wide), 0);
	assert_true(last == t);

	/* Past it: refused, clock untouched. */
	last = HLC_MAKE(T0, 0);
	assert_int_equal(hlc_merge(&last,
	    HLC_MAKE(T0 + KITH_HLC_FUTURE_MS + 1, 0), T0, wide), KITH_EFUTURE);
	assert_true(last == HLC_MAKE(T0, 0));
	assert_int_equal(hlc_merge(&last, UINT64_MAX, T0, wide), KITH_EFUTURE);
	assert_true(last == HLC_MAKE(T0, 0));
}

/*
 * The bound: a record 8 minutes ahead is accepted, but moves the clock
 * only as far as the network's median clock allows (PROTOCOL.md 5).
 */
static void
test_merge_bounded(void **state)
{
	uint64_t last, t, b;

	(void)state;
	/* No peer measured: the wall clock and the margin. */
	b = hlc_bound(T0, 0);
	assert_true(b == HLC_MAKE(T0 + HLC_MERGE_MARGIN_MS, 0));
	last = HLC_MAKE(T0, 0);
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0 + 8 * 60000, 0), T0, b),
	    0);
	assert_true(last == b);
	/* The next local stamp is near the wall clock, not 8 minutes on. */
	t = hlc_tick(&last, T0 + 5);
	assert_true(HLC_MS(t) <= T0 + HLC_MERGE_MARGIN_MS);

	/* Peers that run behind never lower the bound below the wall. */
	assert_true(hlc_bound(T0, -5 * 60000) == b);
	/* Peers that run ahead (this node is slow) raise it. */
	b = hlc_bound(T0, 5 * 60000);
	assert_true(b == HLC_MAKE(T0 + 5 * 60000 + HLC_MERGE_MARGIN_MS, 0));
	last = HLC_MAKE(T0, 0);
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0 + 5 * 60000, 7), T0, b),
	    0);
	assert_true(last == HLC_MAKE(T0 + 5 * 60000, 7));

	/* A clock already past the bound is never moved back by a merge. */
	last = HLC_MAKE(T0 + 3600000, 0);
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0 + 60000, 0), T0,
	    hlc_bound(T0, 0)), 0);
	assert_true(last == HLC_MAKE(T0 + 3600000, 0));
	/* A stamp past the window is still refused, bound or not. */
	assert_int_equal(hlc_merge(&last, HLC_MAKE(T0 + 3 * 3600000, 0), T0,
	    UINT64_MAX), KITH_EFUTURE);
	assert_true(last == HLC_MAKE(T0 + 3600000, 0));
}

static void
test_median(void **state)
{
	static const int64_t none[1] = { 0 };
	int64_t v[5];

	(void)state;
	assert_true(hlc_median(none, 0, 0) == 0);
	assert_true(hlc_median(none, 0, 1) == 0);
	/* One peer: its offset, unless this node counts itself. */
	v[0] = -3 * 3600000;
	assert_true(hlc_median(v, 1, 0) == -3 * 3600000);
	assert_true(hlc_median(v, 1, 1) == 0);
	/* One fast peer and one slow: this node's own clock is the middle. */
	v[0] = 8 * 60000;
	v[1] = -5 * 60000;
	assert_true(hlc_median(v, 2, 1) == 0);
	/* Two middles either side of 0: 0, so half the votes judge nothing. */
	assert_true(hlc_median(v, 2, 0) == 0);
	v[0] = 4000;
	v[1] = -3000;
	assert_true(hlc_median(v, 2, 0) == 0);
	/* Two middles the same side: the nearer one. */
	v[0] = -3 * 3600000;
	v[1] = -5 * 60000;
	assert_true(hlc_median(v, 2, 0) == -5 * 60000);
	v[0] = 7000;
	v[1] = 3 * 3600000;
	assert_true(hlc_median(v, 2, 0) == 7000);
	/* Most peers ahead: this node is slow, and the median says so. */
	v[0] = 5 * 60000;
	v[1] = 5 * 60000 + 200;
	v[2] = 13 * 60000;
	assert_true(hlc_median(v, 3, 1) == 5 * 60000);
	assert_true(hlc_median(v, 3, 0) == 5 * 60000 + 200);
	/* The input is not reordered. */
	assert_true(v[0] == 5 * 60000 && v[2] == 13 * 60000);
	/* Order does not matter. */
	v[0] = 13 * 60000;
	v[2] = 5 * 60000;
	assert_true(hlc_median(v, 3, 1) == 5 * 60000);
}

static void
test_offsets(void **state)
{
	uint64_t err;

	(void)state;
	/* The peer read its clock mid-way through a 40 ms round trip. */
	assert_true(hlc_offset_rt(T0 + 20 + 3600000, T0, 40, &err) == 3600000);
	assert_true(err == 21);
	assert_true(hlc_offset_rt(T0 - 300000 + 20, T0, 40, &err) == -300000);
	/* No round trip at all: still an error of a millisecond. */
	assert_true(hlc_offset_rt(T0, T0, 0, &err) == 0);
	assert_true(err == 1);
	/* One way: a lower bound; the transit is not seen. */
	assert_true(hlc_offset_oneway(T0 + 480000, T0 + 30) == 479970);
	assert_true(hlc_offset_oneway(T0, T0 + 300000) == -300000);
}

static void
test_format_offset(void **state)
{
	char b[24];

	(void)state;
	hlc_format_offset(b, 0);
	assert_string_equal(b, "+0.0s");
	hlc_format_offset(b, 400);
	assert_string_equal(b, "+0.4s");
	hlc_format_offset(b, -59949);
	assert_string_equal(b, "-59.9s");
	/* Rounded to the unit shown. */
	hlc_format_offset(b, -59999);
	assert_string_equal(b, "-1m00s");
	hlc_format_offset(b, -(3 * 3600000 - 15));
	assert_string_equal(b, "-3h00m");
	hlc_format_offset(b, 8 * 60000 - 300);
	assert_string_equal(b, "+8m00s");
	hlc_format_offset(b, -(5 * 60000 + 12000));
	assert_string_equal(b, "-5m12s");
	hlc_format_offset(b, 3 * 3600000 + 60000);
	assert_string_equal(b, "+3h01m");
	hlc_format_offset(b, INT64_MIN);
	assert_true(b[0] == '-' && strlen(b) < 24);
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
		cmocka_unit_test(test_merge_bounded),
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_format_offset),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_wall),
	};

	return tu_run(tests, NULL, NULL);
}
