/*
 * Judging a node's clocks (PROTOCOL.md 5): the rules the kith command
 * shows, in one place.
 */
#include <stdio.h>
#include <string.h>

#include "clocks.h"
#include "hlc.h"
#include "kith.h"
#include "store.h"

int
clocks_view(struct store *st, uint64_t wall_ms, struct clocks_view *out)
{
	int64_t offs[STORE_OFFSETS_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	out->wall_ms = wall_ms;
	if ((rc = store_clock(st, &out->store_hlc)) != 0 ||
	    (rc = store_offsets(st, wall_ms, offs, &out->npeers)) != 0)
		return rc;
	out->store_ahead_ms = (int64_t)HLC_MS(out->store_hlc) -
	    (int64_t)wall_ms;
	out->median_ms = hlc_median(offs, out->npeers, 0);
	return 0;
}

static uint64_t
mag(int64_t v)
{

	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

int
clocks_judge_system(const struct clocks_view *v, char *what, size_t wsize,
    char *fix, size_t fsize)
{
	char off[24];
	/* This node's clock against the peers': the opposite sign. */
	int64_t mine = -v->median_ms;

	fix[0] = '\0';
	if (v->npeers == 0) {
		snprintf(what, wsize, "no peer's clock measured in the last "
		    "day (kithd measures it at each sync)");
		return CLOCKS_OK;
	}
	hlc_format_offset(off, mine);
	if (mag(mine) <= HLC_WARN_MS) {
		snprintf(what, wsize, "the system clock is within %s of its "
		    "peers' (median of %zu)", off + 1, v->npeers);
		return CLOCKS_OK;
	}
	snprintf(what, wsize, "the system clock is %s %s its peers' (median "
	    "of %zu)%s", off + 1, mine > 0 ? "ahead of" : "behind",
	    v->npeers, mag(mine) <= KITH_HLC_FUTURE_MS ? "" : mine > 0 ?
	    ": peers hold every record this node writes until their clocks "
	    "reach its stamp" : ": this node holds its peers' new records "
	    "until its clock reaches their stamps");
	snprintf(fix, fsize, "set the system clock right: turn on automatic "
	    "time (timedatectl set-ntp true, or the clock settings), then run "
	    "kith doctor again%s", v->npeers == 1 ? "; with one peer only, "
	    "check that peer's clock too" : "");
	return mag(mine) <= KITH_HLC_FUTURE_MS ? CLOCKS_WARN : CLOCKS_FAIL;
}

int
clocks_judge_store(const struct clocks_view *v, char *what, size_t wsize,
    char *fix, size_t fsize)
{
	char off[24], at[40];

	fix[0] = '\0';
	hlc_format(at, v->store_hlc);
	if (v->store_ahead_ms <= HLC_WARN_MS) {
		snprintf(what, wsize, "the store's clock (%s) is not ahead of "
		    "the system clock", at);
		return CLOCKS_OK;
	}
	hlc_format_offset(off, v->store_ahead_ms);
	snprintf(what, wsize, "the store's clock (%s) is %s ahead of the "
	    "system clock: this node stamps its records that far ahead%s", at,
	    off + 1, v->store_ahead_ms <= KITH_HLC_FUTURE_MS ? "" :
	    ", and its peers hold them until their clocks reach the stamp");
	snprintf(fix, fsize, "once the system clock is right (kith clock "
	    "shows it against the peers'), run kith clock reset%s",
	    v->store_ahead_ms <= KITH_HLC_FUTURE_MS ? ", or wait: the system "
	    "clock catches up" : "");
	return v->store_ahead_ms <= KITH_HLC_FUTURE_MS ? CLOCKS_WARN :
	    CLOCKS_FAIL;
}

int
clocks_write_warning(const struct clocks_view *v, uint64_t stamped,
    char *out, size_t size)
{
	char off[24];
	/* The stamp against the peers' clocks, or the system's. */
	int64_t ahead = (int64_t)HLC_MS(stamped) - (int64_t)v->wall_ms -
	    v->median_ms;

	if (ahead <= HLC_WARN_MS)
		return 0;
	hlc_format_offset(off, ahead);
	snprintf(out, size, "this change is stamped %s ahead of %s; %s; run "
	    "kith doctor", off + 1, v->npeers > 0 ? "its peers' clocks" :
	    "the system clock", ahead > KITH_HLC_FUTURE_MS ? "peers will hold "
	    "it, unapplied, until their clocks reach its stamp" : "it will "
	    "win over edits made elsewhere in the meantime");
	return 1;
}

int
clocks_reset(struct store *st, uint64_t wall_ms, uint64_t *old, char *why,
    size_t size)
{
	struct clocks_view v;
	char fix[256];
	int rc;

	if ((rc = clocks_view(st, wall_ms, &v)) != 0)
		return rc;
	if (clocks_judge_system(&v, why, size, fix, sizeof(fix)) !=
	    CLOCKS_OK)
		return KITH_EDENIED;
	return store_clock_lower(st, HLC_MAKE(wall_ms, 0), old);
}
