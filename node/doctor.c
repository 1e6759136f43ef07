/*
 * The node's health checks.  Each is a function below and one line in
 * checks[]; doctor_run runs them in that order.
 */
#include <stdio.h>
#include <string.h>

#include "clocks.h"
#include "doctor.h"
#include "kith.h"
#include "store.h"

/* A check that could not look: say why, as a failure. */
static void
cannot(struct doctor_result *out, const char *what, int rc)
{

	out->level = DOCTOR_FAIL;
	snprintf(out->what, sizeof(out->what), "cannot read %s: %s", what,
	    kith_strerror(rc));
	snprintf(out->fix, sizeof(out->fix), "run kith verify");
}

/* The system clock against the peers' (PROTOCOL.md 5). */
static void
check_clock(const struct doctor_ctx *ctx, struct doctor_result *out)
{
	struct clocks_view v;
	int rc;

	if ((rc = clocks_view(ctx->st, ctx->wall_ms, &v)) != 0) {
		cannot(out, "the peers' clocks", rc);
		return;
	}
	out->level = clocks_judge_system(&v, out->what, sizeof(out->what),
	    out->fix, sizeof(out->fix));
}

/* The store's clock against the system clock. */
static void
check_store_clock(const struct doctor_ctx *ctx, struct doctor_result *out)
{
	struct clocks_view v;
	int rc;

	if ((rc = clocks_view(ctx->st, ctx->wall_ms, &v)) != 0) {
		cannot(out, "the store's clock", rc);
		return;
	}
	out->level = clocks_judge_store(&v, out->what, sizeof(out->what),
	    out->fix, sizeof(out->fix));
}

/* Records the peers refused, or that wait here, at the last syncs. */
struct refusals {
	uint64_t refused, held;
	size_t by, from;
};

static int
refusal_one(void *arg, const char *ep, const struct store_peer *p)
{
	struct refusals *r = arg;

	(void)ep;
	r->refused += p->refused;
	r->held += p->held;
	r->by += p->refused > 0;
	r->from += p->held > 0;
	return 0;
}

static void
check_peers(const struct doctor_ctx *ctx, struct doctor_result *out)
{
	struct refusals r = { 0, 0, 0, 0 };
	int rc;

	if ((rc = store_peers(ctx->st, refusal_one, &r)) != 0) {
		cannot(out, "the peer table", rc);
		return;
	}
	out->level = r.refused > 0 || r.held > 0 ? DOCTOR_WARN : DOCTOR_OK;
	if (out->level == DOCTOR_OK)
		snprintf(out->what, sizeof(out->what), "no peer refused this "
		    "node's records at the last sync, and none of theirs wait "
		    "here");
	else
		snprintf(out->what, sizeof(out->what), "at the last sync %llu "
		    "records were refused by %zu peers, and %llu from %zu "
		    "peers wait here, stamped too far ahead",
		    (unsigned long long)r.refused, r.by,
		    (unsigned long long)r.held, r.from);
	if (out->level != DOCTOR_OK)
		snprintf(out->fix, sizeof(out->fix), "see kith peers for "
		    "which, and the clock checks above; records refused for "
		    "their stamp are taken once the clocks agree");
}

static const struct {
	const char *name;
	doctor_check_fn *fn;
} checks[] = {
	{ "clock", check_clock },
	{ "store clock", check_store_clock },
	{ "peers", check_peers },
};

int
doctor_run(const struct doctor_ctx *ctx, doctor_report_fn *fn, void *arg)
{
	struct doctor_result r;
	size_t i;
	int worst = DOCTOR_OK;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		memset(&r, 0, sizeof(r));
		checks[i].fn(ctx, &r);
		if (r.level > worst)
			worst = r.level;
		fn(arg, checks[i].name, &r);
	}
	return worst;
}

const char *
doctor_level_name(int level)
{

	return level == DOCTOR_OK ? "ok" : level == DOCTOR_WARN ? "warn" :
	    "fail";
}
