#ifndef REPORT_H
#define REPORT_H

/*
 * The participation report (README "Community voice"): the standard
 * measures of outreach, requests, referrals, insights and volunteers over
 * the records this node holds, optionally broken down by community, area,
 * group or month, with small numbers suppressed.  The `kith` command and,
 * later, kithd's desk format the same report; suppression is decided here,
 * so no caller can show a number the rules hide.
 */

#include <stddef.h>
#include <stdint.h>

struct report;
struct store;

/* Counts below this are shown as "<5". */
#define REPORT_MIN	5

/* A report's breakdown. */
enum report_by {
	REPORT_BY_NONE = 0,
	REPORT_BY_COMMUNITY,
	REPORT_BY_AREA,
	REPORT_BY_GROUP,
	REPORT_BY_MONTH,
};

/* The measures, in the order they are printed. */
enum report_measure {
	REPORT_GROUPS = 0,	/* distinct session groups met */
	REPORT_REACHED,		/* sum of sessions' reached */
	REPORT_IN_DEPTH,	/* sum of sessions' in_depth */
	REPORT_SESSIONS,
	REPORT_REQUESTS,	/* raised */
	REPORT_CLAIMED,		/* status claimed or fulfilled */
	REPORT_FULFILLED,
	REPORT_REFERRALS,	/* sent */
	REPORT_ACCEPTED,	/* status accepted or completed */
	REPORT_COMPLETED,
	REPORT_DECLINED,
	REPORT_OUTCOMES,	/* completed + declined */
	REPORT_INSIGHTS,	/* raised */
	REPORT_RESPONDED,	/* with a status */
	REPORT_OPEN30,		/* open, raised more than 30 days before the end */
	REPORT_VOLUNTEERS,	/* active */
	REPORT_NMEASURES
};

/* The medians, in milliseconds. */
enum report_median {
	REPORT_TO_CLAIM = 0,
	REPORT_TO_FULFIL,
	REPORT_NMEDIANS
};

/**
 * report_by_parse(s, by):
 * Set ${*by} from ${s} (community, area, group or month).  Return 0 or
 * KITH_EINVAL.
 */
int report_by_parse(const char *s, enum report_by *by);

/**
 * report_measure_name(m):
 * Return the name of measure ${m} ("people_reached"), for keys and headers.
 */
const char *report_measure_name(enum report_measure m);

/**
 * report_build(st, from, to, by, now_ms, out):
 * Count the records ${st} holds from day ${from} to day ${to} (YYYY-MM-DD,
 * inclusive, UTC; NULL for no bound), broken down by ${by}: a session by
 * its date, anything else by its genesis time; volunteers active now and
 * created by ${to}.  "Open after 30 days" is measured at the end of ${to},
 * or at ${now_ms}.  Store the report in ${*out}, which the caller frees
 * with report_free.  Return 0, KITH_EINVAL (a bad date, or ${from} after
 * ${to}), KITH_ENOMEM or a store error.
 */
int report_build(struct store *st, const char *from, const char *to,
    enum report_by by, uint64_t now_ms, struct report **out);

/**
 * report_free(r):
 * Free ${r}; nothing if NULL.
 */
void report_free(struct report *r);

/**
 * report_total(r, m, v):
 * Set ${*v} to measure ${m} over the whole report.  Return 1 if it is to
 * be shown as "<5", else 0.
 */
int report_total(const struct report *r, enum report_measure m, uint64_t *v);

/**
 * report_median(r, which, ms):
 * Set ${*ms} to the median time ${which} (to claim or to fulfil) over the
 * requests that got there.  Return 0, or KITH_ENOTFOUND if none did.
 */
int report_median(const struct report *r, enum report_median which,
    uint64_t *ms);

/**
 * report_broken(r, m):
 * Return 1 if measure ${m} is broken down by the report's key, else 0
 * (referrals have no community, area or group; volunteers are broken down
 * by language instead).
 */
int report_broken(const struct report *r, enum report_measure m);

/**
 * report_nrows(r), report_row(r, i):
 * The breakdown's rows in key order; report_row returns row ${i}'s key
 * (borrowed from ${r}).
 */
size_t report_nrows(const struct report *r);
const char *report_row(const struct report *r, size_t i);

/**
 * report_cell(r, i, m, v):
 * Set ${*v} to measure ${m} in row ${i}.  Return 1 if it is to be shown as
 * "<5", else 0.
 */
int report_cell(const struct report *r, size_t i, enum report_measure m,
    uint64_t *v);

/**
 * report_nlangs(r), report_lang(r, i, v, hidden):
 * Active volunteers by language: the ${i}th language code (borrowed),
 * with ${*v} volunteers who speak it and ${*hidden} 1 if it is shown "<5".
 */
size_t report_nlangs(const struct report *r);
const char *report_lang(const struct report *r, size_t i, uint64_t *v,
    int *hidden);

/**
 * report_suppress(cells, nrows, ncols, row_totals, col_totals, hidden):
 * Decide which of the ${nrows} x ${ncols} counts ${cells} (row-major) are
 * hidden, setting ${hidden}[i] to 1 or 0.  Primary: every count below
 * REPORT_MIN.  Secondary: while a row (or column) whose total is shown
 * has exactly one hidden cell, hide its smallest shown cell too, so the
 * hidden value cannot be worked out by subtraction.  ${row_totals} (and
 * ${col_totals}) are the totals printed beside each row (column), or NULL
 * if none is; a total below REPORT_MIN is itself hidden, so reveals
 * nothing.  A line of one cell is its own total: show one or the other.
 */
void report_suppress(const uint64_t *cells, size_t nrows, size_t ncols,
    const uint64_t *row_totals, const uint64_t *col_totals,
    unsigned char *hidden);

#endif /* !REPORT_H */
