/*
 * The node's health checks.  Each is a function below and one line in
 * checks[]; doctor_run runs them in that order.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "clocks.h"
#include "doctor.h"
#include "kith.h"
#include "roster.h"
#include "store.h"
#include "sync.h"

/* A check that could not look: say why, as a failure. */
static void
cannot(struct doctor_result *out, const char *what, int rc)
{

	out->level = DOCTOR_FAIL;
	snprintf(out->what, sizeof(out->what), "cannot read %s: %s", what,
	    kith_strerror(rc));
	snprintf(out->fix, sizeof(out->fix), "run kith verify");
}

/* A clocks verdict: ${judge} on the view of the clocks now (of ${what}). */
static void
clock_verdict(const struct doctor_ctx *ctx, struct doctor_result *out,
    const char *what,
    int (*judge)(const struct clocks_view *, char *, size_t, char *, size_t))
{
	struct clocks_view v;
	int rc;

	if ((rc = clocks_view(ctx->st, ctx->wall_ms, &v)) != 0) {
		cannot(out, what, rc);
		return;
	}
	out->level = judge(&v, out->what, sizeof(out->what), out->fix,
	    sizeof(out->fix));
}

/* The system clock against the peers' (PROTOCOL.md 5). */
static void
check_clock(const struct doctor_ctx *ctx, struct doctor_result *out)
{

	clock_verdict(ctx, out, "the peers' clocks", clocks_judge_system);
}

/* The store's clock against the system clock. */
static void
check_store_clock(const struct doctor_ctx *ctx, struct doctor_result *out)
{

	clock_verdict(ctx, out, "the store's clock", clocks_judge_store);
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

/* Below this free on the home's disk: a warning; below DISK_FULL: full. */
#define DISK_LOW	(256ULL << 20)
#define DISK_FULL	(16ULL << 20)

/* The disk that holds the home: a full one stops every commit. */
static void
check_disk(const struct doctor_ctx *ctx, struct doctor_result *out)
{
	struct statvfs vfs;
	uint64_t free_b;

	if (statvfs(ctx->home, &vfs) != 0) {
		cannot(out, "the disk's free space", KITH_EIO);
		return;
	}
	free_b = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	out->level = free_b < DISK_FULL ? DOCTOR_FAIL : free_b < DISK_LOW ?
	    DOCTOR_WARN : DOCTOR_OK;
	snprintf(out->what, sizeof(out->what), "%llu MiB free on the disk "
	    "that holds %s%s", (unsigned long long)(free_b >> 20), ctx->home,
	    out->level == DOCTOR_FAIL ? ": the disk is full, and records "
	    "from peers and kith commands cannot be stored" : "");
	if (out->level != DOCTOR_OK)
		snprintf(out->fix, sizeof(out->fix), "free space on that "
		    "disk; kithd catches up by itself within one interval, "
		    "with no restart");
}

/* The store against [store] max_size_mb: at the limit, commits fail. */
static void
check_store_size(const struct doctor_ctx *ctx, struct doctor_result *out)
{
	struct store_stats ss;
	uint64_t pct;
	int rc;

	if ((rc = store_stats(ctx->st, &ss)) != 0) {
		cannot(out, "the store's size", rc);
		return;
	}
	pct = ctx->max_bytes ? ss.used_bytes * 100 / ctx->max_bytes : 0;
	out->level = pct >= 98 ? DOCTOR_FAIL : pct >= 90 ? DOCTOR_WARN :
	    DOCTOR_OK;
	snprintf(out->what, sizeof(out->what), "the store uses %llu MiB of "
	    "its %llu MiB limit (%llu%%)%s",
	    (unsigned long long)(ss.used_bytes >> 20),
	    (unsigned long long)(ctx->max_bytes >> 20),
	    (unsigned long long)pct, out->level == DOCTOR_FAIL ? ": it is "
	    "full, and new records cannot be stored" : "");
	if (out->level != DOCTOR_OK)
		snprintf(out->fix, sizeof(out->fix), "raise [store] "
		    "max_size_mb in kith.conf and send kithd SIGHUP (no "
		    "restart needed)");
}

/* The last session with each peer: did this node's own store fail it? */
struct store_errors {
	int rc;
	size_t n;
	char ep[96];
};

static int
store_error_one(void *arg, const char *ep, const struct store_peer *p)
{
	struct store_errors *e = arg;

	if (!sync_own_fault(p->last_rc))
		return 0;
	if (e->n++ == 0) {
		e->rc = p->last_rc;
		snprintf(e->ep, sizeof(e->ep), "%s", ep);
	}
	return 0;
}

static void
check_store_errors(const struct doctor_ctx *ctx, struct doctor_result *out)
{
	struct store_errors e = { 0, 0, "" };
	int rc;

	if ((rc = store_peers(ctx->st, store_error_one, &e)) != 0) {
		cannot(out, "the peer table", rc);
		return;
	}
	out->level = e.n > 0 ? DOCTOR_FAIL : DOCTOR_OK;
	if (e.n == 0) {
		snprintf(out->what, sizeof(out->what), "no sync ended on a "
		    "failure of this node's store");
		return;
	}
	snprintf(out->what, sizeof(out->what), "the last sync with %zu "
	    "peers (%s%s) ended because this node's store failed: %s", e.n,
	    e.ep, e.n > 1 ? ", ..." : "", kith_strerror(e.rc));
	snprintf(out->fix, sizeof(out->fix), "%s", e.rc == KITH_ENOSPC ?
	    "free space on the disk that holds the home" :
	    e.rc == KITH_EMAPFULL ? "raise [store] max_size_mb in kith.conf "
	    "and send kithd SIGHUP" : "run kith verify; see kithd's log");
}

/* Erased bytes still on disk, waiting for a scrub (store_scrub). */
static void
check_scrub(const struct doctor_ctx *ctx, struct doctor_result *out)
{
	uint64_t since;
	int rc;

	if ((rc = store_scrub_due(ctx->st, &since)) != 0) {
		cannot(out, "the scrub mark", rc);
		return;
	}
	if (since == 0) {
		out->level = DOCTOR_OK;
		snprintf(out->what, sizeof(out->what), "no erased data waits "
		    "to be scrubbed from the disk");
		return;
	}
	out->level = ctx->wall_ms > since + ctx->scrub_after_ms +
	    24 * 3600 * 1000ULL ? DOCTOR_WARN : DOCTOR_OK;
	snprintf(out->what, sizeof(out->what), "erased data waits to be "
	    "scrubbed from the disk, since %llu min ago%s",
	    (unsigned long long)((ctx->wall_ms > since ? ctx->wall_ms -
	    since : 0) / 60000), out->level == DOCTOR_WARN ? ", past its "
	    "time: is kithd running, or is a kith command holding the store "
	    "open?" : "; kithd scrubs it by itself");
	if (out->level != DOCTOR_OK)
		snprintf(out->fix, sizeof(out->fix), "run kith scrub");
}

/* The node key: readable, and by its owner only. */
static void
check_key(const struct doctor_ctx *ctx, struct doctor_result *out)
{
	char path[4200];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/key", ctx->home);
	if (ctx->node_key == NULL) {
		out->level = DOCTOR_FAIL;
		snprintf(out->what, sizeof(out->what), "the node key %.300s "
		    "cannot be read: %s", path, kith_strerror(ctx->key_rc));
		snprintf(out->fix, sizeof(out->fix), "restore it from its "
		    "backup; without it this node cannot sign or sync");
	} else if (stat(path, &sb) == 0 && (sb.st_mode & 077) != 0) {
		out->level = DOCTOR_WARN;
		snprintf(out->what, sizeof(out->what), "the node key %.300s may "
		    "be read by others (mode %03o)", path,
		    (unsigned)(sb.st_mode & 0777));
		snprintf(out->fix, sizeof(out->fix), "chmod 600 %.300s", path);
	} else
		snprintf(out->what, sizeof(out->what), "the node key is "
		    "readable by its owner only");
}

/* This node's standing in the network's roster. */
static void
check_standing(const struct doctor_ctx *ctx, struct doctor_result *out)
{
	const struct roster_entry *e;
	struct roster *r = NULL;
	char hex[2 * KITH_KEY_LEN + 1];
	int rc;

	if (ctx->node_key == NULL) {
		out->level = DOCTOR_FAIL;
		snprintf(out->what, sizeof(out->what), "unknown: the node key "
		    "cannot be read");
		return;
	}
	if ((rc = store_roster(ctx->st, &r)) != 0) {
		cannot(out, "the roster", rc);
		return;
	}
	kith_hex(hex, ctx->node_key, KITH_KEY_LEN);
	e = roster_find(r, ctx->node_key);
	if (e == NULL || (e->role == ROLE_NONE && e->revoked == 0)) {
		out->level = DOCTOR_WARN;
		snprintf(out->what, sizeof(out->what), "this node is not a "
		    "member yet: peers refuse it, and its changes wait");
		snprintf(out->fix, sizeof(out->fix), "send the admin the reply "
		    "line kith join printed, or ask for: kith member add %s "
		    "--org ORG --role member", hex);
	} else if (e->revoked != 0) {
		out->level = DOCTOR_FAIL;
		snprintf(out->what, sizeof(out->what), "this node's key is "
		    "revoked: no node syncs with it or applies its changes");
		snprintf(out->fix, sizeof(out->fix), "make a new key (kith init "
		    "in a new home) and ask an admin to admit it");
	} else if (e->fork != 0) {
		out->level = DOCTOR_FAIL;
		snprintf(out->what, sizeof(out->what), "this node's key signed "
		    "two records with sequence number %llu: nothing it signs "
		    "from there on applies", (unsigned long long)e->fork);
		snprintf(out->fix, sizeof(out->fix), "ask an admin to revoke "
		    "this key and admit a new one");
	} else
		snprintf(out->what, sizeof(out->what), "a member as %s, role "
		    "%s", e->org, roster_role_name(e->role));
	roster_free(r);
}

/* kithd on this home. */
static void
check_daemon(const struct doctor_ctx *ctx, struct doctor_result *out)
{

	if (ctx->daemon_pid > 0) {
		snprintf(out->what, sizeof(out->what), "kithd runs (pid %ld)",
		    ctx->daemon_pid);
		return;
	}
	out->level = DOCTOR_WARN;
	snprintf(out->what, sizeof(out->what), "kithd is not running: this "
	    "node syncs only when kith sync is run");
	snprintf(out->fix, sizeof(out->fix), "start it: systemctl start "
	    "kithd, or kithd --home %.300s", ctx->home);
}

static const struct {
	const char *name;
	doctor_check_fn *fn;
} checks[] = {
	{ "key", check_key },
	{ "standing", check_standing },
	{ "daemon", check_daemon },
	{ "clock", check_clock },
	{ "store clock", check_store_clock },
	{ "peers", check_peers },
	{ "disk", check_disk },
	{ "store size", check_store_size },
	{ "store errors", check_store_errors },
	{ "scrub", check_scrub },
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
