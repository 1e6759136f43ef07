#ifndef HLC_H
#define HLC_H

/*
 * The hybrid logical clock.  A timestamp is a uint64: the high 48 bits are
 * Unix milliseconds, the low 16 bits a counter that orders events within one
 * millisecond.  Functions take the wall clock as an argument so that tests
 * can drive them.
 */

#include <stddef.h>
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

/*
 * Clock offsets (PROTOCOL.md 5, "Clock offsets").  An offset is a peer's
 * wall clock minus this node's, in signed milliseconds: positive when the
 * peer's clock is ahead.
 */
#define HLC_MERGE_MARGIN_MS	1000		/* slack over the merge bound */
#define HLC_WARN_MS		60000		/* an offset worth a warning */
#define HLC_RECENT_MS		(24 * 3600 * 1000LL) /* offsets still counted */

/**
 * hlc_median(offsets, n, self):
 * Return the median of the ${n} clock offsets ${offsets} and, if ${self},
 * of this node's own offset 0 besides.  With two middle values, the point
 * between them nearest to 0 is taken (0 if they lie either side of it),
 * so no clock is judged wrong by half the votes.
 * 0 if there are none.  ${offsets} is left unchanged.
 */
int64_t hlc_median(const int64_t *offsets, size_t n, int self);

/**
 * hlc_bound(wall_ms, median_ms):
 * Return the largest timestamp a merge may move the clock to, with the
 * wall clock at ${wall_ms} and the median offset of this node and its peers
 * (hlc_median with self) ${median_ms}: the millisecond
 * max(wall, wall + median) + HLC_MERGE_MARGIN_MS, counter 0.
 */
uint64_t hlc_bound(uint64_t wall_ms, int64_t median_ms);

/**
 * hlc_merge(last, ts, wall_ms, bound):
 * Fold a received timestamp ${ts} into the clock ${*last}, so that later
 * local events order after it, but never past ${bound} (hlc_bound): the
 * clock becomes max(${*last}, min(${ts}, ${bound})).  Return 0, or
 * KITH_EFUTURE (leaving ${*last} unchanged) if ${ts} is too far ahead of
 * ${wall_ms} to be accepted at all.
 */
int hlc_merge(uint64_t *last, uint64_t ts, uint64_t wall_ms, uint64_t bound);

/**
 * hlc_offset_rt(peer_ms, sent_ms, rtt_ms, err):
 * Return a peer's clock offset measured over a round trip: it read its
 * clock as ${peer_ms} between this node sending a request at ${sent_ms}
 * (wall clock) and receiving the answer ${rtt_ms} later (a monotonic
 * clock).  Set ${*err} to the most the estimate can be wrong by.
 */
int64_t hlc_offset_rt(uint64_t peer_ms, uint64_t sent_ms, uint64_t rtt_ms,
    uint64_t *err);

/**
 * hlc_offset_oneway(peer_ms, recv_ms):
 * Return a peer's clock offset from one message alone: the peer read its
 * clock as ${peer_ms} before sending it, and it arrived at ${recv_ms}.  The
 * true offset is the result plus the message's transit, which this node
 * cannot see: the result is a lower bound.
 */
int64_t hlc_offset_oneway(uint64_t peer_ms, uint64_t recv_ms);

/**
 * hlc_format_offset(buf, ms):
 * Write the signed duration ${ms} for people to ${buf}, which holds 24
 * bytes, rounded to its last digit: "+0.4s", "-5m12s", "+3h00m".
 */
void hlc_format_offset(char buf[24], int64_t ms);

/**
 * hlc_format(buf, ts):
 * Write ${ts} as an ISO 8601 UTC time with milliseconds and counter, e.g.
 * "2026-11-23T06:21:51.123Z+2", to ${buf}, which holds 40 bytes.
 */
void hlc_format(char buf[40], uint64_t ts);

#endif
