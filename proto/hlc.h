#ifndef HLC_H
#define HLC_H

/*
 * The hybrid logical clock.  A timestamp is a uint64: the high 48 bits are
 * Unix milliseconds, the low 16 bits a counter that orders events within one
 * millisecond.  Functions take the wall clock as an argument so that tests
 * can drive them.
 */

#include <stdint.h>

#define HLC_MS(t)	((t) >> 16)
#define HLC_COUNTER(t)	((t) & 0xffff)
#define HLC_MAKE(ms, c)	(((uint64_t)(ms) << 16) | ((c) & 0xffff))

/**
 * hlc_wall_ms():
 * Return the system's real-time clock in Unix milliseconds.
 */
uint64_t hlc_wall_ms(void);

/**
 * hlc_tick(last, wall_ms):
 * Return a timestamp for a local event: greater than ${*last} and not behind
 * ${wall_ms}.  Store it in ${*last}.
 */
uint64_t hlc_tick(uint64_t *last, uint64_t wall_ms);

/**
 * hlc_check(ts, wall_ms):
 * Return 0 if timestamp ${ts} is at most KITH_HLC_FUTURE_MS ahead of
 * ${wall_ms}, else KITH_EFUTURE.
 */
int hlc_check(uint64_t ts, uint64_t wall_ms);

/**
 * hlc_merge(last, ts, wall_ms):
 * Fold a received timestamp ${ts} into the clock ${*last}, so that later
 * local events order after it.  Return 0, or KITH_EFUTURE (leaving ${*last}
 * unchanged) if ${ts} is too far ahead of ${wall_ms}.
 */
int hlc_merge(uint64_t *last, uint64_t ts, uint64_t wall_ms);

/**
 * hlc_format(buf, ts):
 * Write ${ts} as an ISO 8601 UTC time with milliseconds and counter, e.g.
 * "2026-11-23T06:21:51.123Z+2", to ${buf}, which holds 40 bytes.
 */
void hlc_format(char buf[40], uint64_t ts);

#endif
