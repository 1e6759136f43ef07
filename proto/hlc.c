#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hlc.h"
#include "kith.h"

uint64_t
hlc_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
hlc_tick(uint64_t *last, uint64_t wall_ms)
{
	uint64_t t;

	if (wall_ms > HLC_MS(*last))
		t = HLC_MAKE(wall_ms, 0);
	else
		/*
		 * The wall clock is behind (or equal): count up.  A full
		 * counter carries into the millisecond field, borrowing from
		 * the future, which keeps the clock strictly monotonic.
		 */
		t = *last + 1;
	*last = t;
	return t;
}

int
hlc_check(uint64_t ts, uint64_t wall_ms)
{

	return HLC_MS(ts) > wall_ms + KITH_HLC_FUTURE_MS ? KITH_EFUTURE : 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int64_t
hlc_median(const int64_t *offsets, size_t n, int self)
{
	int64_t *v, lo, hi, m;
	size_t k = n + (self != 0);

	if (k == 0)
		return 0;
	if ((v = malloc(k * sizeof(*v))) == NULL)
		return 0;	/* no view of the peers: this node's own */
	if (n > 0)
		memcpy(v, offsets, n * sizeof(*v));
	if (self)
		v[n] = 0;
	qsort(v, k, sizeof(*v), cmp_i64);
	lo = v[(k - 1) / 2];
	hi = v[k / 2];
	/* Between two middle values, the point nearest to 0. */
	m = lo > 0 ? lo : hi < 0 ? hi : 0;
	free(v);
	return m;
}

uint64_t
hlc_bound(uint64_t wall_ms, int64_t median_ms)
{
	uint64_t ms = wall_ms;

	if (median_ms > 0)
		ms += (uint64_t)median_ms;
	return HLC_MAKE(ms + HLC_MERGE_MARGIN_MS, 0);
}

int
hlc_merge(uint64_t *last, uint64_t ts, uint64_t wall_ms, uint64_t bound)
{

	if (hlc_check(ts, wall_ms) != 0)
		return KITH_EFUTURE;
	if (ts > bound)
		ts = bound;
	if (ts > *last)
		*last = ts;
	return 0;
}

int64_t
hlc_offset_rt(uint64_t peer_ms, uint64_t sent_ms, uint64_t rtt_ms,
    uint64_t *err)
{

	/* The peer read its clock somewhere in the round trip: the middle. */
	*err = rtt_ms / 2 + 1;
	return (int64_t)peer_ms - (int64_t)(sent_ms + rtt_ms / 2);
}

int64_t
hlc_offset_oneway(uint64_t peer_ms, uint64_t recv_ms)
{

	return (int64_t)peer_ms - (int64_t)recv_ms;
}

void
hlc_format_offset(char buf[24], int64_t ms)
{
	char sign = ms < 0 ? '-' : '+';
	uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;

	/* Rounded to the unit shown: 2h59m59.9s is 3h00m. */
	if (a < 60000 - 50)
		a = (a + 50) / 100 * 100;
	else if (a < 3600000 - 500)
		a = (a + 500) / 1000 * 1000;
	else
		a = (a + 30000) / 60000 * 60000;
	if (a < 60000)
		snprintf(buf, 24, "%c%llu.%llus", sign,
		    (unsigned long long)(a / 1000),
		    (unsigned long long)(a % 1000 / 100));
	else if (a < 3600000)
		snprintf(buf, 24, "%c%llum%02llus", sign,
		    (unsigned long long)(a / 60000),
		    (unsigned long long)(a % 60000 / 1000));
	else
		snprintf(buf, 24, "%c%lluh%02llum", sign,
		    (unsigned long long)(a / 3600000),
		    (unsigned long long)(a % 3600000 / 60000));
}

void
hlc_format(char buf[40], uint64_t ts)
{
	time_t secs = (time_t)(HLC_MS(ts) / 1000);
	struct tm tm;
	size_t n;

	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(buf, 40, "@%llu", (unsigned long long)ts);
		return;
	}
	n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 40 - n, ".%03uZ", (unsigned)(HLC_MS(ts) % 1000));
	if (HLC_COUNTER(ts) != 0) {
		n += 5;
		snprintf(buf + n, 40 - n, "+%u", (unsigned)HLC_COUNTER(ts));
	}
}
