#ifndef CLOCKS_H
#define CLOCKS_H

/*
 * What a node's clocks say, for people (PROTOCOL.md 5): its system clock
 * against its peers' (the median of their recent offsets, which kithd
 * measures at each HELLO and WELCOME), and its store's clock against its
 * system clock.  The kith command's status, doctor, clock and write
 * commands all judge through here, so they say the same thing.
 */

#include <stddef.h>
#include <stdint.h>

struct store;

/* Verdicts, in rising order of concern. */
#define CLOCKS_OK	0
#define CLOCKS_WARN	1
#define CLOCKS_FAIL	2

struct clocks_view {
	uint64_t wall_ms;	/* the system clock */
	uint64_t store_hlc;	/* the store's clock (its last timestamp) */
	int64_t store_ahead_ms;	/* the store's clock less the system's */
	size_t npeers;		/* peers with a recent offset */
	int64_t median_ms;	/* their median offset (hlc_median); 0: none */
};

/**
 * clocks_view(st, wall_ms, out):
 * Fill ${*out} from ${st} with the system clock at ${wall_ms}.  Return 0
 * or a store error.
 */
int clocks_view(struct store *st, uint64_t wall_ms, struct clocks_view *out);

/**
 * clocks_judge_system(v, what, wsize, fix, fsize):
 * Judge the system clock against the peers' in ${v}: return CLOCKS_OK,
 * CLOCKS_WARN (off by more than HLC_WARN_MS) or CLOCKS_FAIL (by more than
 * the 10-minute window: records wait on one side), with a sentence about
 * it in ${what} and what to do in ${fix} ("" if nothing).
 */
int clocks_judge_system(const struct clocks_view *v, char *what,
    size_t wsize, char *fix, size_t fsize);

/**
 * clocks_judge_store(v, what, wsize, fix, fsize):
 * Judge the store's clock against the system clock in ${v}, as
 * clocks_judge_system: ahead by more than HLC_WARN_MS is CLOCKS_WARN,
 * by more than the window CLOCKS_FAIL.
 */
int clocks_judge_store(const struct clocks_view *v, char *what,
    size_t wsize, char *fix, size_t fsize);

/**
 * clocks_write_warning(v, stamped, out, size):
 * After this node stamped a record ${stamped}: if the stamp is more than
 * HLC_WARN_MS ahead of the peers' clocks (the median, or the system clock
 * with no peer measured), write a warning for its writer to ${out} and
 * return 1; else return 0.
 */
int clocks_write_warning(const struct clocks_view *v, uint64_t stamped,
    char *out, size_t size);

/**
 * clocks_reset(st, wall_ms, old, why, size):
 * Lower the store's clock to the system clock ${wall_ms}
 * (PROTOCOL.md 5, "Setting the store's clock back"), if the system clock
 * agrees with the peers' within HLC_WARN_MS.  ${*old} gets the clock
 * before.  Return 0 (done, or nothing to do: the store's clock was not
 * ahead), KITH_EDENIED with ${why} if the system clock is off, or a store
 * error.
 */
int clocks_reset(struct store *st, uint64_t wall_ms, uint64_t *old,
    char *why, size_t size);

#endif
