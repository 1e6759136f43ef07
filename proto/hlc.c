#include <stdio.h>
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

int
hlc_merge(uint64_t *last, uint64_t ts, uint64_t wall_ms)
{

	if (hlc_check(ts, wall_ms) != 0)
		return KITH_EFUTURE;
	if (ts > *last)
		*last = ts;
	return 0;
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
