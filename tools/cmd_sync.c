/*
 * kith sync, tail, peers, status, doctor, clock: the node among its
 * peers.
 */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actor.h"
#include "body.h"
#include "clocks.h"
#include "config.h"
#include "doctor.h"
#include "entity.h"
#include "field.h"
#include "fhir.h"
#include "hlc.h"
#include "kcrypto.h"
#include "kith.h"
#include "member.h"
#include "pagecheck.h"
#include "recfile.h"
#include "referral.h"
#include "record.h"
#include "request.h"
#include "roster.h"
#include "seal.h"
#include "state.h"
#include "store.h"
#include "sync.h"
#include "syncmsg.h"
#include "transport.h"
#include "view.h"
#include "volunteer.h"

#include "cmd.h"

static void
progress(const struct sync_stats *st, uint64_t now, int final)
{
	double secs = (double)(now - st->start_ms) / 1000.0;

	fprintf(stderr, "\r%llu records in, %llu out, %.1f MiB, %.0f records/s%s",
	    (unsigned long long)st->received, (unsigned long long)st->sent,
	    (double)(st->bytes_in + st->bytes_out) / 1048576.0,
	    secs > 0 ? (double)st->received / secs : 0.0,
	    final ? "\n" : "   ");
}

/*
 * Make ${key}'s X25519 pair ${t}'s CURVE identity; an exit code on
 * failure, else 0.
 */
static int
set_identity(struct ctx *c, struct transport *t, const struct kcrypto_key *key)
{
	uint8_t pk[32], sk[32];
	int rc;

	if ((rc = kcrypto_key_x25519(key, pk, sk)) == 0)
		rc = transport_set_identity(t, pk, sk);
	kcrypto_wipe(sk, sizeof(sk));
	return rc == 0 ? 0 : fail(c, EX_SOFTWARE, "cannot derive the CURVE "
	    "key: %s", kith_strerror(rc));
}

/* How long to find out why a node cannot be reached, before a session. */
#define REACH_MS	3000

/*
 * Before a session or subscription of ${role} with the node ${key} at
 * ${ep}: fail at once, with an exit code after a message, if its host does
 * not resolve, nothing listens there, no connection is made within
 * REACH_MS, or the node there holds another key.  Return 0 to go on (also
 * when nothing was learnt in time: the session then says what it finds),
 * or KITH_EDENIED with ${*status} set if the node's ZAP handler refused
 * this node's key (the caller says why).
 */
static int
reach(struct ctx *c, struct transport *t, int role, const char *ep,
    const uint8_t key[KITH_KEY_LEN], int *status)
{
	const char *where = ep + 6, *colon = strrchr(where, ':');
	uint8_t server_pk[32];
	char hex[2 * KITH_KEY_LEN + 1];
	int rc, hostlen;

	/* config_peer_parse has checked that the key converts. */
	(void)kcrypto_x25519_public(key, server_pk);
	hostlen = strncmp(ep, "tcp://", 6) == 0 && colon != NULL ?
	    (int)(colon - where) : (int)strlen(where);
	kith_hex(hex, key, KITH_KEY_LEN);
	switch ((rc = transport_reach(t, role, ep, server_pk, REACH_MS,
	    status))) {
	case 0:
	case KITH_EDENIED:
		return rc;
	case KITH_ENOHOST:
		return fail(c, EX_UNAVAILABLE, "cannot resolve %.*s: no such "
		    "host, or no name server answers (check the host in %s)",
		    hostlen, where, ep);
	case KITH_ENOLISTEN:
		return fail(c, EX_UNAVAILABLE, "nothing listens on %s: is "
		    "kithd running there, %s that endpoint?", where,
		    role == TSOCK_SUB ? "with its feed on" : "listening on");
	case KITH_ETIMEDOUT:
		return fail(c, EX_UNAVAILABLE, "no connection to %s within "
		    "%d s: the host is down or unreachable, or a firewall "
		    "drops the connection", where, REACH_MS / 1000);
	case KITH_EWRONGKEY:
		return fail(c, EX_UNAVAILABLE, "the node at %s is not %s "
		    "(check the key: kith id on that node prints it)", ep,
		    hex);
	}
	return fail(c, exit_for(rc), "cannot reach %s: %s", ep,
	    kith_strerror(rc));
}

/*
 * What to do about a refusal for ${why} (a KITH_E* code, as a node gave
 * it), as a sentence after "; ", for this node's key ${key}.
 */
static void
refusal_fix(struct ctx *c, int why, const uint8_t key[KITH_KEY_LEN],
    char *out, size_t size)
{
	struct config cfg;
	char hex[2 * KITH_KEY_LEN + 1], err[512];
	const char *org = c->cfg.name;

	/* kith tail reads no config of its own: the name is in kith.conf. */
	if (*org == '\0') {
		config_defaults(&cfg);
		if (config_load(home_path(c, "kith.conf"), &cfg, err,
		    sizeof(err)) == 0 && cfg.name[0] != '\0')
			snprintf(c->cfg.name, sizeof(c->cfg.name), "%s",
			    cfg.name);
	}
	if (*org == '\0')
		org = "ORG";
	kith_hex(hex, key, KITH_KEY_LEN);
	switch (why) {
	case KITH_ENOTFOUND:
		snprintf(out, size, "; ask an admin to run: kith member add %s "
		    "--org \"%s\" --role member", hex, org);
		break;
	case KITH_EREVOKED:
		snprintf(out, size, "; a revoked key stays revoked: make a new "
		    "home with kith init and ask an admin to add its key");
		break;
	default:
		out[0] = '\0';
	}
}

/* Parse the peer ${s} (KEY@ENDPOINT); an exit code on failure, else 0. */
int
peer_arg(struct ctx *c, const char *s, uint8_t key[KITH_KEY_LEN],
    char ep[CONFIG_ENDPOINT_MAX + 1])
{
	int rc;

	if ((rc = config_peer_parse(s, key, ep, CONFIG_ENDPOINT_MAX + 1)) != 0)
		return fail(c, EX_USAGE, "'%s': %s", s,
		    config_peer_strerror(rc));
	return 0;
}

int
cmd_sync(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] sync "
	    "KEY@ENDPOINT\n\n"
	    "Reconcile with the node at ENDPOINT (tcp://HOST:PORT, its kithd\n"
	    "listen endpoint) now, both ways: afterwards both hold the union of\n"
	    "their records.  KEY is that node's key (64 hex digits: `kith id`\n"
	    "prints it there); the session is encrypted with ZeroMQ CURVE and\n"
	    "only that node can answer it.  Works with or without a local\n"
	    "kithd.  On a terminal it shows progress; it always ends with one\n"
	    "summary line.  It warns when the peer's clock differs from this\n"
	    "node's by more than a minute, and when records wait for their\n"
	    "time on either side.  Exit code 65 if records were rejected here\n"
	    "or refused by the peer (kith doctor tells why).\n\n"
	    "Within 3 s it fails with exit code 69 if the host does not\n"
	    "resolve, nothing listens at ENDPOINT, no connection is made, or\n"
	    "the node there holds another key than KEY, saying which; with 77\n"
	    "if the node refuses this node's key (not a member, revoked, a role\n"
	    "that may not sync), saying why and what to ask an admin.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	const struct sync_stats *st;
	struct sync_node nd;
	struct sync_client *sc = NULL;
	struct tpoll items[2];
	struct args a;
	uint64_t now, shown = 0, err;
	int64_t offset;
	uint8_t key[KITH_KEY_LEN];
	char ep[CONFIG_ENDPOINT_MAX + 1], off[24], fix[400];
	int rc, tty = isatty(2), status;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the peer as KEY@ENDPOINT (see "
		    "kith sync --help)");
	if ((rc = peer_arg(c, a.pos[0], key, ep)) != 0 ||
	    (rc = open_home(c, 1, 2)) != 0)
		return rc;
	memset(&nd, 0, sizeof(nd));
	nd.st = c->st;
	memcpy(nd.key, kcrypto_key_public(c->key), KITH_KEY_LEN);
	snprintf(nd.name, sizeof(nd.name), "%.64s", c->cfg.name);
	if ((rc = store_network(c->st, nd.network)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if ((nd.t = transport_new()) == NULL) {
		rc = fail(c, EX_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = set_identity(c, nd.t, c->key)) != 0)
		goto out;
	/* The sync socket admits all at ZAP but a key with all its sessions. */
	if ((rc = reach(c, nd.t, TSOCK_CONNECT, ep, key, &status)) ==
	    KITH_EDENIED)
		rc = fail(c, EX_TEMPFAIL, "%s refused this node's connection "
		    "(ZAP status %d): its key has all its sync sessions open "
		    "there; try again in a minute", ep, status);
	if (rc != 0)
		goto out;
	if ((sc = sync_client_new(&nd, ep, key, &rc)) == NULL) {
		rc = fail(c, exit_for(rc), "cannot sync with %s: %s", ep,
		    kith_strerror(rc));
		goto out;
	}
	do {
		sync_client_poll(sc, items);
		if ((rc = transport_poll(nd.t, items, 2, 100)) < 0)
			break;
		now = sync_now_ms();
		rc = sync_client_step(sc, now);
		if (tty && now - shown >= 200) {
			progress(sync_client_stats(sc), now, 0);
			shown = now;
		}
	} while (rc == 0);
	st = sync_client_stats(sc);
	if (tty && shown != 0)
		progress(st, st->end_ms, 1);
	if (rc < 0 && sync_client_refused(sc) != 0) {
		refusal_fix(c, sync_client_refused(sc),
		    kcrypto_key_public(c->key), fix, sizeof(fix));
		rc = fail(c, EX_NOPERM, "%s refused this node: %s (%s)%s", ep,
		    sync_client_error(sc),
		    kith_errname(sync_client_refused(sc)), fix);
		goto out;
	}
	if (rc < 0) {
		/* A wrong key looks like silence: CURVE shows nothing else. */
		rc = fail(c, exit_for(rc), "sync with %s failed: %s%s%s%s", ep,
		    kith_strerror(rc),
		    *sync_client_error(sc) ? ": " : "", sync_client_error(sc),
		    rc == KITH_ETIMEDOUT && st->bytes_in == 0 ? " (unreachable, "
		    "or the key before @ is not that node's: `kith id` there "
		    "prints it; or this node's key has all its sync sessions "
		    "open there)" : "");
		goto out;
	}
	printf("received %llu records (%llu new, %llu rejected), sent %llu "
	    "(%llu new to the peer), %llu bytes, %llu round trips, %.3f s\n",
	    (unsigned long long)st->received, (unsigned long long)st->added,
	    (unsigned long long)st->rejected, (unsigned long long)st->sent,
	    (unsigned long long)st->peer_added,
	    (unsigned long long)(st->bytes_in + st->bytes_out),
	    (unsigned long long)st->round_trips,
	    (double)(st->end_ms - st->start_ms) / 1000.0);
	rc = st->rejected > 0 ? EX_DATAERR : 0;
	if (sync_client_clock(sc, &offset, &err) == 0 &&
	    (offset > HLC_WARN_MS || offset < -HLC_WARN_MS)) {
		hlc_format_offset(off, offset);
		fprintf(stderr, "kith: sync: warning: %s's clock is %s %s this "
		    "node's; one of them is wrong (kith doctor)\n", ep, off + 1,
		    offset > 0 ? "ahead of" : "behind");
	}
	if (st->held > 0)
		fprintf(stderr, "kith: sync: %llu records from %s are stamped "
		    "more than %d minutes ahead of this node's clock: not "
		    "applied until their time comes (kith doctor)\n",
		    (unsigned long long)st->held, ep,
		    KITH_HLC_FUTURE_MS / 60000);
	if (st->withheld > 0)
		fprintf(stderr, "kith: sync: %llu of this node's records were "
		    "not sent: stamped more than %d minutes ahead of %s's "
		    "clock, it would not take them; run kith doctor\n",
		    (unsigned long long)st->withheld, KITH_HLC_FUTURE_MS / 60000,
		    ep);
	if (st->peer_rejected > 0)
		fprintf(stderr, "kith: sync: %s did not take %llu of this "
		    "node's records (stamped too far ahead of its clock, or "
		    "invalid there); run kith doctor\n", ep,
		    (unsigned long long)st->peer_rejected);
	if (st->peer_rejected > 0 || st->withheld > 0)
		rc = EX_DATAERR;
out:
	sync_client_free(sc);
	transport_free(nd.t);
	return rc;
}

static volatile sig_atomic_t tail_stop;

static void
on_tail_signal(int sig)
{

	(void)sig;
	tail_stop = 1;
}

/*
 * Print referral ${rec}'s entity, as this home's store now holds it, as
 * FHIR NDJSON.  Return 0 if printed, else non-zero (a note on stderr).
 */
static int
tail_fhir(struct ctx *c, const struct record *rec)
{
	struct roster *r = NULL;
	struct state *s = NULL;
	struct fhir_item it;
	const char *why = "";
	int rc;

	memset(&it, 0, sizeof(it));
	/* Open only while it reads, so kithd may scrub between records. */
	if (c->st == NULL && (c->st = store_open(home_path(c, "store"),
	    STORE_RDONLY, 0, &rc)) == NULL)
		why = "cannot open this node's store";
	else if ((rc = store_state(c->st, record_header(rec)->entity,
	    &s)) != 0)
		why = "not in this node's store (yet)";
	else if ((rc = store_roster(c->st, &r)) != 0 ||
	    (rc = fhir_item(c, r, s, &it)) != 0)
		why = rc == KITH_ESEALED ? "sealed to other organisations" :
		    kith_strerror(rc);
	else if ((rc = fhir_check(&it.r, &why)) == 0 &&
	    (rc = fhir_write_ndjson(stdout, &it.r)) == 0)
		fflush(stdout);
	if (rc != 0) {
		char hex[2 * KITH_ENTITY_LEN + 1];

		kith_hex(hex, record_header(rec)->entity, KITH_ENTITY_LEN);
		fprintf(stderr, "kith: tail: referral %s skipped: %s\n", hex,
		    why);
	}
	fhir_item_free(&it);
	roster_free(r);
	state_free(s);
	store_close(c->st);
	c->st = NULL;
	return rc;
}

/*
 * Why a node's feed likely refused ${key}, from this home's roster: the
 * node's own may differ (it may not hold the record yet), so "likely".
 */
static void
likely_refusal(struct ctx *c, const uint8_t key[KITH_KEY_LEN], char *out,
    size_t size)
{
	const struct roster_entry *e;
	struct roster *r = NULL;
	char fix[400];
	int rc;

	if (c->st == NULL)
		c->st = store_open(home_path(c, "store"), STORE_RDONLY, 0, &rc);
	if (c->st == NULL || store_roster(c->st, &r) != 0)
		snprintf(out, size, "this home has no store to tell why");
	else if ((e = roster_find(r, key)) == NULL || e->role == ROLE_NONE) {
		refusal_fix(c, KITH_ENOTFOUND, key, fix, sizeof(fix));
		snprintf(out, size, "likely: this node's key is not a member, "
		    "as this home's roster has it%s", fix);
	}
	else if (e->revoked != 0)
		snprintf(out, size, "likely: this node's key is revoked, as "
		    "this home's roster has it");
	else if (e->role == ROLE_PCN)
		snprintf(out, size, "likely: role pcn may not read a feed");
	else
		snprintf(out, size, "this home's roster admits the key: the "
		    "node may not hold that record yet, or may know of a "
		    "revocation this home does not");
	roster_free(r);
}

/*
 * This home's roster, to name the authors of what tail prints, or NULL if
 * the home has no store.  The store is not kept open: tail runs for
 * hours, and kithd could not scrub erased data off the disk meanwhile.
 */
static struct roster *
tail_roster(struct ctx *c)
{
	struct roster *r = NULL;
	struct store *st;
	int rc;

	if ((st = store_open(home_path(c, "store"), STORE_RDONLY, 0,
	    &rc)) == NULL)
		return NULL;
	if (store_roster(st, &r) != 0)
		r = NULL;
	store_close(st);
	return r;
}

/* The feed at ${ep} refused ${key} with ZAP ${status}: say so, and why. */
static int
tail_refused(struct ctx *c, const char *ep, int status,
    const uint8_t key[KITH_KEY_LEN])
{
	char why[800];

	likely_refusal(c, key, why, sizeof(why));
	return fail(c, EX_NOPERM, "%s refused this node's key (ZAP status "
	    "%d): %s", ep, status, why);
}

int
cmd_tail(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith tail KEY@ENDPOINT [--kind KIND] "
	    "[--json] [--count N]\n"
	    "       kith tail KEY@ENDPOINT --kind referral --format fhir "
	    "[--count N]\n\n"
	    "Subscribe to a node's live feed (its kithd feed endpoint; KEY is\n"
	    "that node's key, which `kith id` prints there) and print\n"
	    "each record as it is published: a line of text, or with --json one\n"
	    "JSON object per line.  --kind takes request, volunteer, referral,\n"
	    "member, charter or erase.  Personal fields are not shown.  Runs\n"
	    "until interrupted, or until N records with --count.  A subscriber\n"
	    "that was away misses records: kith sync catches up.\n\n"
	    "--format fhir (with --kind referral) prints, for each referral\n"
	    "record published, the referral's current FHIR R4 resources\n"
	    "(ServiceRequest, Task, Consent, Patient) as NDJSON, one resource\n"
	    "per line, from this home's store, for a PCN's integration engine:\n"
	    "tail the feed of the node's own kithd.  Referrals this node may\n"
	    "not read are skipped.\n\n"
	    "If the node refuses this node's key (not a member, revoked, a\n"
	    "PCN), tail stops with exit code 77 and the likely reason, from\n"
	    "this home's roster.  It fails at once with exit code 69 if the\n"
	    "host does not resolve, nothing listens at ENDPOINT, or the node\n"
	    "there holds another key than KEY.  Once subscribed, it says so if\n"
	    "no connection succeeds within 10 seconds, and keeps trying.\n";
	static const struct opt spec[] = { { "kind", 1 }, { "json", 0 },
	    { "count", 1 }, { "format", 1 }, { NULL, 0 } };
	struct syncmsg m = { SYNCMSG_PUSH, 0, NULL, 0 };
	struct syncmsg_records it;
	struct transport *t = NULL;
	struct tsock *sub = NULL;
	struct kcrypto_key *key = NULL;
	struct record *rec;
	struct view *v = NULL;
	struct roster *r = NULL;
	struct tpoll item;
	struct sigaction sa;
	struct args a;
	const char *topic = "";
	unsigned long long want = 0, seen = 0;
	uint64_t kind, start, named = 0;
	uint8_t node_pk[KITH_KEY_LEN], server_pk[32];
	char ep[CONFIG_ENDPOINT_MAX + 1], *end;
	int rc, fhir = 0, status, ok = 0, warned = 0;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.val[3] != NULL) {
		if (strcmp(a.val[3], "fhir") != 0 || a.val[1] != NULL ||
		    a.val[0] == NULL || strcmp(a.val[0], "referral") != 0)
			return fail(c, EX_USAGE, "--format: only fhir, with "
			    "--kind referral and without --json");
		/*
		 * Resources are built from this home's store, opened for
		 * each record (tail_fhir): held open for hours, it would keep
		 * kithd from scrubbing erased data off the disk.
		 */
		if ((rc = open_home(c, 1, 1)) != 0)
			return rc;
		store_close(c->st);
		c->st = NULL;
		fhir = 1;
	}
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the feed as KEY@ENDPOINT (see "
		    "kith tail --help)");
	if ((rc = peer_arg(c, a.pos[0], node_pk, ep)) != 0)
		return rc;
	/* config_peer_parse has checked that the key converts. */
	(void)kcrypto_x25519_public(node_pk, server_pk);
	if (a.val[0] != NULL) {
		if (kith_kind_parse(a.val[0], &kind) != 0)
			return fail(c, EX_USAGE, "--kind: unknown kind '%s'",
			    a.val[0]);
		topic = kith_kind_name(kind);
	}
	if (a.val[2] != NULL) {
		errno = 0;
		want = strtoull(a.val[2], &end, 10);
		if (errno != 0 || *end != '\0' || want == 0 ||
		    a.val[2][0] == '-')
			return fail(c, EX_USAGE, "--count must be a positive "
			    "number");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tail_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The node's own key if the home has one: a reader need not. */
	if ((key = kcrypto_key_load(home_path(c, "key"), &rc)) == NULL &&
	    rc == KITH_ENOTFOUND)
		key = kcrypto_key_generate();
	if (key == NULL) {
		rc = fail(c, exit_for(rc), "cannot read the node key %s: %s",
		    c->path, kith_strerror(rc));
		goto out;
	}
	if ((t = transport_new()) == NULL ||
	    (v = view_new(a.val[1] ? VIEW_NDJSON : VIEW_TEXT, stdout, 0,
	    0)) == NULL) {
		rc = fail(c, EX_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = set_identity(c, t, key)) != 0)
		goto out;
	if ((rc = reach(c, t, TSOCK_SUB, ep, node_pk, &status)) ==
	    KITH_EDENIED) {
		rc = tail_refused(c, ep, status, kcrypto_key_public(key));
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((sub = tsock_open(t, TSOCK_SUB, ep, server_pk, &rc)) == NULL ||
	    (rc = tsock_subscribe(sub, topic)) != 0) {
		rc = fail(c, exit_for(rc), "cannot subscribe to %s: %s", ep,
		    kith_strerror(rc));
		goto out;
	}
	rc = 0;
	start = sync_now_ms();
	while (!tail_stop && (want == 0 || seen < want)) {
		if ((status = tsock_refused(sub, &ok)) != 0) {
			rc = tail_refused(c, ep, status,
			    kcrypto_key_public(key));
			break;
		}
		if (!ok && !warned && sync_now_ms() - start > 10000) {
			warned = 1;
			fprintf(stderr, "kith: tail: no answer from %s yet "
			    "(unreachable, or the key before @ is not that "
			    "node's: `kith id` there prints it); still "
			    "trying\n", ep);
		}
		item.sock = sub;
		item.fd = -1;
		if (transport_poll(t, &item, 1, 200) <= 0 || !item.readable)
			continue;
		while ((rc = tsock_recv(sub, NULL, &m.payload, &m.len)) != 1) {
			/* A malformed message is skipped, never fatal. */
			if (rc != 0 || syncmsg_records_start(&m, &it) != 0 ||
			    syncmsg_records_next(&it, &rec) != 0)
				continue;
			if (record_verify(rec) != 0) {
				fprintf(stderr, "kith: tail: skipped a record "
				    "with a bad signature\n");
			} else if (fhir) {
				seen += tail_fhir(c, rec) == 0;
			} else {
				/* A new member: read the roster again. */
				if ((r == NULL || roster_find(r,
				    record_header(rec)->author) == NULL) &&
				    sync_now_ms() - named > 10000) {
					roster_free(r);
					r = tail_roster(c);
					view_roster(v, r);
					named = sync_now_ms();
				}
				if (!a.val[1])
					printf("%-9s ", kith_kind_name(
					    record_header(rec)->kind) ?
					    kith_kind_name(
					    record_header(rec)->kind) : "other");
				(void)view_version(v, rec);
				fflush(stdout);
				seen++;
			}
			record_free(rec);
			if (want != 0 && seen >= want)
				break;
		}
		rc = 0;
	}
out:
	view_free(v);
	roster_free(r);
	tsock_close(sub);
	transport_free(t);
	kcrypto_key_free(key);
	return rc;
}

struct peers_out {
	struct view *v;
	size_t n;
	struct roster *roster;	/* names a node that connected here */
};

struct peer_find {
	const char *ep;
	int found;
};

static int
find_peer(void *arg, const char *ep, const struct store_peer *p)
{
	struct peer_find *pf = arg;

	(void)p;
	if (strcmp(ep, pf->ep) == 0)
		pf->found = 1;
	return pf->found;
}

static int
show_peer(void *arg, const char *ep, const struct store_peer *p)
{
	struct peers_out *po = arg;
	char ok[40], tried[40];

	char clock[160], off[24], err[24], hex[2 * KITH_KEY_LEN + 1];
	char org[ROSTER_ORG_MAX + 32];

	clock[0] = '\0';
	if (p->clock_at != 0) {
		hlc_format_offset(off, p->offset_ms);
		hlc_format_offset(err, (int64_t)p->offset_err_ms);
		when(tried, sizeof(tried), p->clock_at);
		snprintf(clock, sizeof(clock), "  clock %s%s%s%s (%s)", off,
		    p->oneway ? " one way" : " +/-", p->oneway ? "" : err + 1,
		    p->offset_ms > HLC_WARN_MS || p->offset_ms < -HLC_WARN_MS ?
		    " OFF" : "", tried);
	}
	if (strncmp(ep, STORE_PEER_KEYED, strlen(STORE_PEER_KEYED)) == 0) {
		/* A node that connected here: its clock only. */
		kith_hex(hex, p->key, KITH_KEY_LEN);
		if (po->roster != NULL && roster_find(po->roster, p->key)) {
			view_org(po->roster, p->key, org, sizeof(org));
			printf("%s (key %.16s..., connected to this node)%s\n",
			    org, hex, clock);
		} else
			printf("key %.16s... (connected to this node)%s\n",
			    hex, clock);
		po->n++;
		return 0;
	}
	when(ok, sizeof(ok), p->last_ok_ms);
	when(tried, sizeof(tried), p->last_try_ms);
	/* kithd's row for a caller it pushed to (PROTOCOL.md 9.7). */
	if (strncmp(ep, "caller ", 7) == 0)
		printf("%s (caller)", ep + 7);
	else
		printf("%s", ep);
	printf("  last sync %s  last attempt %s (%s)  it gave %llu, "
	    "took %llu", ok, tried,
	    p->last_rc == 0 ? "ok" : kith_strerror(p->last_rc),
	    (unsigned long long)p->received, (unsigned long long)p->sent);
	if (p->refused > 0)
		printf(", REFUSED %llu of ours", (unsigned long long)p->refused);
	if (p->held > 0)
		printf(", %llu of its held here (stamped too far ahead)",
		    (unsigned long long)p->held);
	printf("%s\n", clock);
	po->n++;
	return 0;
}

/* The peers a running kithd syncs with, as HOME/kithd.pid lists them. */
struct daemon_peers {
	long pid;		/* 0: no kithd runs (then nothing below) */
	int flag;		/* they come from its --peer, not kith.conf */
	int listed;		/* the file lists them (a kithd of this kith) */
	char ep[CONFIG_PEERS_MAX][CONFIG_ENDPOINT_MAX + 1];
	size_t n;
};

static void
daemon_peers(struct ctx *c, struct daemon_peers *dp)
{
	char buf[64 + (CONFIG_PEERS_MAX + 2) * (CONFIG_ENDPOINT_MAX + 2)];
	char *line, *save = NULL;
	ssize_t n;
	int fd, k;

	memset(dp, 0, sizeof(*dp));
	if ((fd = open(home_path(c, "kithd.pid"), O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK &&
	    (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		dp->pid = strtol(buf, NULL, 10);
		/* pid, listen, feed (either may be empty), "peers FROM". */
		for (k = 0, line = buf; k < 3 && line != NULL; k++)
			if ((line = strchr(line, '\n')) != NULL)
				line++;
		if (line != NULL && strncmp(line, "peers ", 6) == 0) {
			dp->listed = 1;
			dp->flag = strncmp(line + 6, "--peer\n", 7) == 0;
			line = strtok_r(strchr(line, '\n'), "\n", &save);
			for (; line != NULL && dp->n < CONFIG_PEERS_MAX;
			    line = strtok_r(NULL, "\n", &save))
				snprintf(dp->ep[dp->n++], sizeof(dp->ep[0]),
				    "%s", line);
		}
	}
	close(fd);
}

/* Has kithd a row in the store for the peer at ${ep}? */
static int
peer_known(struct ctx *c, const char *ep)
{
	struct peer_find pf = { ep, 0 };

	(void)store_peers(c->st, find_peer, &pf);
	return pf.found;
}

int
cmd_peers(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] peers\n\n"
	    "List the peers this node syncs with: those of the running kithd\n"
	    "(its --peer flags, which replace kith.conf's, or kith.conf's\n"
	    "[sync] peer lines as it read them), else kith.conf's; and every\n"
	    "one kithd has synced with: when the last sync succeeded, the last\n"
	    "attempt and its outcome, and how far behind each side was then\n"
	    "(records the peer gave us, and records we gave it), the records it\n"
	    "refused and those of its that wait here for their time, and its\n"
	    "clock: its offset from this node's (+: ahead), measured over the\n"
	    "last session's round trip (+/- the error) or one way when it\n"
	    "connected here, OFF past a minute.  A peer kithd has not synced\n"
	    "with yet says so, and where it comes from.  Nodes that only\n"
	    "connect here are listed by organisation (or key), with their\n"
	    "clock.  A (caller) is a node that syncs with this one, which kithd\n"
	    "offered new records to at the port its HELLO named; it is shown\n"
	    "once that went well.  Times are local.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	struct peers_out po = { NULL, 0, NULL };
	struct daemon_peers dp;
	struct args a;
	size_t i, k;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if (store_roster(c->st, &po.roster) != 0)
		po.roster = NULL;
	daemon_peers(c, &dp);
	rc = store_peers(c->st, show_peer, &po);
	roster_free(po.roster);
	if (rc != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	for (i = 0; i < dp.n; i++)
		if (!peer_known(c, dp.ep[i])) {
			printf("%s  not synced yet (kithd, pid %ld, syncs with "
			    "it: %s)\n", dp.ep[i], dp.pid, dp.flag ?
			    "its --peer" : "kith.conf");
			po.n++;
		}
	for (i = 0; i < c->cfg.npeers; i++) {
		for (k = 0; k < dp.n && strcmp(dp.ep[k], c->cfg.peers[i]); k++)
			;
		if (k < dp.n || peer_known(c, c->cfg.peers[i]))
			continue;
		if (dp.listed && dp.flag)
			printf("%s  in kith.conf, not used: kithd (pid %ld) "
			    "runs with --peer\n", c->cfg.peers[i], dp.pid);
		else
			printf("%s  never synced\n", c->cfg.peers[i]);
		po.n++;
	}
	if (po.n == 0 && dp.pid != 0 && dp.listed)
		printf("no peers: kithd (pid %ld) runs with none; give it "
		    "--peer KEY@tcp://HOST:PORT, or add [sync] peer = "
		    "KEY@tcp://HOST:PORT lines to %s and send it SIGHUP (KEY: "
		    "`kith id` on that node)\n", dp.pid,
		    home_path(c, "kith.conf"));
	else if (po.n == 0)
		printf("no peers: add [sync] peer = KEY@tcp://HOST:PORT lines "
		    "to %s (KEY: `kith id` on that node), or start kithd with "
		    "--peer KEY@tcp://HOST:PORT\n", home_path(c, "kith.conf"));
	return 0;
}

/*
 * The pid of the kithd holding the home's lock, or 0 if none runs; then
 * the endpoints it uses (which its flags may have set) replace the
 * config's in ${c}.
 */
long
daemon_pid(struct ctx *c)
{
	char buf[32 + 2 * (CONFIG_ENDPOINT_MAX + 2)], *listen, *feed, *end;
	ssize_t n;
	long pid = 0;
	int fd;

	if ((fd = open(home_path(c, "kithd.pid"), O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK &&
	    (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		pid = strtol(buf, NULL, 10);
		if (pid <= 0)
			pid = -1;
		if ((listen = strchr(buf, '\n')) != NULL &&
		    (feed = strchr(++listen, '\n')) != NULL &&
		    (end = strchr(++feed, '\n')) != NULL) {
			feed[-1] = *end = '\0';
			snprintf(c->cfg.listen, sizeof(c->cfg.listen), "%s",
			    listen);
			snprintf(c->cfg.feed, sizeof(c->cfg.feed), "%s", feed);
		}
	}
	close(fd);
	return pid;
}

static void status_clock(struct view *, const char *, int, const char *,
    const char *);

int
cmd_status(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] status [--json]\n\n"
	    "Whether kithd is running on this home (and its pid), its\n"
	    "endpoints (those in use if it runs, else kith.conf's), the\n"
	    "store's record and entity counts, the state digest, and whether\n"
	    "its clocks are right: the system clock against its peers' (clock)\n"
	    "and the store's clock against the system clock (store_clock),\n"
	    "each ok, warn or fail with what it found; a warning also goes to\n"
	    "stderr, with what to do.  kith doctor checks more.\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	struct store_stats ss;
	struct clocks_view cv;
	uint8_t d[KITH_HASH_LEN];
	char hex[2 * KITH_HASH_LEN + 1], pidtext[48];
	char what[DOCTOR_TEXT_MAX], fix[DOCTOR_TEXT_MAX];
	struct view *v;
	struct args a;
	long pid;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_stats(c->st, &ss)) != 0 ||
	    (rc = store_digest(c->st, d)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	kith_hex(hex, d, sizeof(d));
	pid = daemon_pid(c);
	snprintf(pidtext, sizeof(pidtext), "running (pid %ld)", pid);
	if ((v = view_new(a.val[0] ? VIEW_OBJECT : VIEW_TEXT, stdout, 0,
	    0)) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	view_text(v, "daemon", pid > 0 ? pidtext : pid < 0 ? "running" :
	    "not running");
	view_text(v, "listen", c->cfg.listen[0] ? c->cfg.listen : "-");
	view_text(v, "feed", c->cfg.feed[0] ? c->cfg.feed : "-");
	view_pair(v, "records", ss.records);
	view_pair(v, "entities", ss.entities);
	view_text(v, "digest", hex);
	if ((rc = clocks_view(c->st, hlc_wall_ms(), &cv)) != 0) {
		view_free(v);
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	}
	status_clock(v, "clock", clocks_judge_system(&cv, what, sizeof(what),
	    fix, sizeof(fix)), what, fix);
	status_clock(v, "store_clock", clocks_judge_store(&cv, what,
	    sizeof(what), fix, sizeof(fix)), what, fix);
	rc = view_finish(v);
	view_free(v);
	return rc == 0 ? 0 : fail(c, EX_IOERR, "write failed");
}

/* A clock's verdict in kith status, and on stderr if it is not ok. */
static void
status_clock(struct view *v, const char *key, int level, const char *what,
    const char *fix)
{
	char line[1100];

	snprintf(line, sizeof(line), "%s: %s", doctor_level_name(level), what);
	view_text(v, key, line);
	if (level != CLOCKS_OK)
		fprintf(stderr, "kith: warning: %s\n  do: %s\n", what, fix);
}

static int
doctor_line(void *arg, const char *name, const struct doctor_result *r)
{

	return view_check(arg, name, doctor_level_name(r->level), r->what,
	    r->fix);
}

static void
doctor_report(void *arg, const char *name, const struct doctor_result *r)
{

	(void)doctor_line(arg, name, r);
}

/* Exit codes of kith doctor. */
#define EX_DOCTOR_WARN	1
#define EX_DOCTOR_FAIL	2

int
cmd_doctor(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] doctor [--json]\n\n"
	    "Check this node's health, without changing anything: one line per\n"
	    "check, ok, warn or fail, with what it found and, below a check that\n"
	    "is not ok, what to do.  The checks:\n"
	    "  key          the node key: readable, and by its owner only\n"
	    "  standing     this node in the roster: a member (ok), not yet\n"
	    "               (warn), revoked or forked (fail)\n"
	    "  daemon       kithd running on this home (warn if not)\n"
	    "  clock        the system clock against the peers' (the median of\n"
	    "               their offsets that kithd measured in the last day):\n"
	    "               warn past a minute, fail past 10 minutes (then\n"
	    "               records wait, unapplied, on one side)\n"
	    "  store clock  the store's clock against the system clock: ahead,\n"
	    "               this node stamps its records ahead (kith clock)\n"
	    "  peers        records the peers refused, or that wait here, at\n"
	    "               the last sync (kith peers says which)\n"
	    "  disk         free space on the home's disk: warn under 256 MiB,\n"
	    "               fail under 16 MiB (commits then fail)\n"
	    "  store size   the store against [store] max_size_mb: warn from\n"
	    "               90%, fail from 98%\n"
	    "  store errors a last sync that ended on this node's own store\n"
	    "               failing (a full disk or store): fail\n"
	    "  scrub        erased data waiting to leave the disk: warn a day\n"
	    "               past [store] scrub_after\n"
	    "--json prints a JSON array of {check, level, what, fix}.\n"
	    "Exit codes: 0 every check ok, 1 a warning (and no failure),\n"
	    "2 a failure; as other commands for a store that cannot be read.\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	struct doctor_ctx dc;
	struct view *v;
	struct args a;
	int rc, worst;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((v = view_new(a.val[0] ? VIEW_JSON : VIEW_TEXT, stdout, 0,
	    0)) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	dc.st = c->st;
	dc.home = c->home;
	dc.wall_ms = hlc_wall_ms();
	dc.max_bytes = c->cfg.max_size_mb << 20;
	dc.scrub_after_ms = c->cfg.scrub_after_s * 1000;
	if ((c->key = kcrypto_key_load(home_path(c, "key"), &dc.key_rc)) !=
	    NULL)
		dc.node_key = kcrypto_key_public(c->key);
	else
		dc.node_key = NULL;
	dc.daemon_pid = daemon_pid(c);
	worst = doctor_run(&dc, doctor_report, v);
	rc = view_finish(v);
	view_free(v);
	if (rc != 0)
		return fail(c, EX_IOERR, "write failed");
	return worst == DOCTOR_OK ? EX_OK : worst == DOCTOR_WARN ?
	    EX_DOCTOR_WARN : EX_DOCTOR_FAIL;
}

static int
clock_peer(void *arg, const char *ep, const struct store_peer *p)
{
	struct view *v = arg;
	char line[600], off[24], err[24], at[32];
	struct tm tm;
	time_t t;

	if (p->clock_at == 0)
		return 0;
	hlc_format_offset(off, p->offset_ms);
	hlc_format_offset(err, (int64_t)p->offset_err_ms);
	/* UTC, as the clocks compared: --json keeps ISO 8601 UTC. */
	t = (time_t)(p->clock_at / 1000);
	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(line, sizeof(line), "%s%s%s, measured %s%s", off,
	    p->oneway ? " (one way: at least)" : " +/-", p->oneway ? "" :
	    err + 1, at, p->clock_at > hlc_wall_ms() ? " (in this clock's "
	    "future: not counted)" : "");
	view_text(v, ep, line);
	return 0;
}

int
cmd_clock(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] clock [--json]\n"
	    "       kith [--home DIR] clock reset\n\n"
	    "Show this node's clocks: the system clock, the store's clock (the\n"
	    "last timestamp the store issued or accepted; a record written now\n"
	    "is stamped after it), how far the store's clock is ahead of the\n"
	    "system clock, and each peer's clock offset from this node's (+: the\n"
	    "peer is ahead) as kithd last measured it, with their median\n"
	    "(--json: the figures and verdicts, without the peer lines).\n\n"
	    "reset: after the system clock was wrong (ahead) and has been set\n"
	    "right, the store's clock stays where the wrong clock left it, and\n"
	    "every record this node writes is stamped that far ahead; peers\n"
	    "hold such records until their clocks reach the stamp.  reset sets\n"
	    "the store's clock back to the system clock, so new records are\n"
	    "stamped right.  It refuses while the system clock disagrees with\n"
	    "the peers' by more than a minute (set the system clock right\n"
	    "first).  What it means: records already written keep their stamps\n"
	    "(they are signed) and are taken by peers when their time comes;\n"
	    "a record written after the reset may carry an earlier stamp than\n"
	    "one this node wrote or saw before it.  Nothing is lost: an edit\n"
	    "supersedes every record it has seen, whatever the stamps, and an\n"
	    "edit made elsewhere meanwhile shows as a conflict (kith conflicts).\n"
	    "But kith history lists the records by stamp, and an export with\n"
	    "--since, which filters by stamp, can miss such a record: export\n"
	    "again from before the reset.  It works with kithd running.\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	struct clocks_view cv;
	struct view *v;
	struct args a;
	char what[DOCTOR_TEXT_MAX], fix[DOCTOR_TEXT_MAX], buf[40], off[24];
	uint64_t old;
	int rc, level;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos == 1 && strcmp(a.pos[0], "reset") != 0)
		return fail(c, EX_USAGE, "unknown clock command '%s' (see kith "
		    "clock --help)", a.pos[0]);
	if (a.npos == 1) {
		if ((rc = open_home(c, 0, 0)) != 0)
			return rc;
		rc = clocks_reset(c->st, hlc_wall_ms(), &old, what,
		    sizeof(what));
		if (rc == KITH_EDENIED)
			return fail(c, EX_NOPERM, "not reset: %s; set the "
			    "system clock right first (kith doctor)", what);
		if (rc != 0)
			return fail(c, exit_for(rc), "%s", kith_strerror(rc));
		hlc_format(buf, old);
		if (HLC_MS(old) <= hlc_wall_ms()) {
			printf("the store's clock (%s) is not ahead of the "
			    "system clock: nothing to do\n", buf);
			return 0;
		}
		hlc_format_offset(off, (int64_t)(HLC_MS(old) - hlc_wall_ms()));
		printf("the store's clock was %s, %s ahead of the system clock; "
		    "it is now the system clock.  Records written from now on "
		    "are stamped by the system clock; those written before "
		    "keep their stamps, and peers take them when their time "
		    "comes.\n", buf, off + 1);
		return 0;
	}
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = clocks_view(c->st, hlc_wall_ms(), &cv)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if ((v = view_new(a.val[0] ? VIEW_OBJECT : VIEW_TEXT, stdout, 0,
	    0)) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	hlc_format(buf, HLC_MAKE(cv.wall_ms, 0));
	view_text(v, "system", buf);
	hlc_format(buf, cv.store_hlc);
	view_text(v, "store", buf);
	view_int(v, "store_ahead_ms", cv.store_ahead_ms);
	view_pair(v, "peers_measured", cv.npeers);
	view_int(v, "median_offset_ms", cv.median_ms);
	level = clocks_judge_system(&cv, what, sizeof(what), fix, sizeof(fix));
	status_clock(v, "clock", level, what, fix);
	level = clocks_judge_store(&cv, what, sizeof(what), fix, sizeof(fix));
	status_clock(v, "store_clock", level, what, fix);
	if (!a.val[0])
		(void)store_peers(c->st, clock_peer, v);
	rc = view_finish(v);
	view_free(v);
	return rc == 0 ? 0 : fail(c, EX_IOERR, "write failed");
}
