/*
 * kith scrub, upgrade, compact, verify, repair, restore: the store's
 * upkeep and recovery.
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
#include "find.h"
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

int
cmd_scrub(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] scrub\n\n"
	    "Write the store afresh, so that no byte of an erased body (or of\n"
	    "a body past its retention date) is left in its files: LMDB keeps\n"
	    "the old bytes of freed pages until they are reused.  The copy is\n"
	    "swapped in with one rename; nothing held is lost.  kithd does this\n"
	    "by itself [store] scrub_after seconds (default 3600) after a body\n"
	    "first leaves the store.  If kithd (or another kith command) has\n"
	    "the store open, this asks kithd to scrub at its next look, within\n"
	    "a few seconds, and exits 75; run it again to check.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	uint64_t before, after;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 0)) != 0)
		return rc;
	rc = store_scrub(c->st, &before, &after);
	if (rc == KITH_EBUSY) {
		if ((rc = store_scrub_request(c->st)) != 0)
			return fail(c, exit_for(rc), "scrub failed: %s",
			    kith_strerror(rc));
		return fail(c, EX_TEMPFAIL, "the store is open in another "
		    "process (kithd?): asked kithd to scrub it within a few "
		    "seconds; its log says when it has");
	}
	if (rc != 0)
		return fail(c, exit_for(rc), "scrub failed: %s",
		    kith_strerror(rc));
	printf("scrubbed: data file %llu bytes before, %llu after\n",
	    (unsigned long long)before, (unsigned long long)after);
	return 0;
}

int
cmd_upgrade(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] upgrade "
	    "[--dry-run]\n\n"
	    "Bring a store written by an older kith to this one's format, in\n"
	    "place and in one transaction: nothing changes unless all of it\n"
	    "does.  Format 2 to 3 builds the reconciliation fingerprint tree\n"
	    "from the records (about a second per million); 3 to 4 adds the\n"
	    "blind index of kith find, empty: the first command or kithd that\n"
	    "holds the node key builds it.  Stop kithd first:\n"
	    "while another process has the store open this exits 75.  Until a\n"
	    "store is upgraded, every other command and kithd refuse it.\n\n"
	    "  --dry-run   say what would change, and change nothing\n";
	static const struct opt spec[] = { { "dry-run", 0 }, { NULL, 0 } };
	uint64_t records;
	struct args a;
	int from, dry, rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	dry = a.val[0] != NULL;
	if ((rc = open_home(c, 0, 3)) != 0)
		return rc;
	rc = store_upgrade(c->st, dry, &from, &records);
	if (rc == KITH_EBUSY)
		return fail(c, EX_TEMPFAIL, "the store is open in another "
		    "process (kithd?): stop it, then run kith upgrade again");
	if (rc != 0)
		return fail(c, exit_for(rc), "upgrade failed, nothing "
		    "changed: %s", kith_strerror(rc));
	if (from == STORE_FORMAT)
		printf("the store is in this kith's format (%d): nothing to "
		    "do; %llu records\n", from, (unsigned long long)records);
	else
		printf("%s format %d to %d: %s%llu records, and an empty "
		    "blind index (kith find builds it)%s\n", dry ?
		    "would upgrade" : "upgraded", from, STORE_FORMAT, from < 3 ?
		    "the fingerprint tree of " : "", (unsigned long long)records,
		    dry ? " (nothing changed)" : "");
	return 0;
}

int
cmd_compact(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] compact FILE\n\n"
	    "Write a compacted copy of the store's data file to FILE (which must\n"
	    "not exist).  To use it, stop the daemon and replace\n"
	    "HOME/store/data.mdb with it.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	struct args a;
	struct stat sb;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the file to write (see --help)");
	if (stat(a.pos[0], &sb) == 0)
		return fail(c, EX_CANTCREAT, "%s exists", a.pos[0]);
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_compact(c->st, a.pos[0])) != 0)
		return fail(c, exit_for(rc), "compact failed: %s",
		    kith_strerror(rc));
	return 0;
}

static const char *const bad_kinds[] = { "", "bad record", "bad body",
	"bad index entry", "bad state of entity" };

struct verify_out {
	int pages;		/* --pages: list every page */
};

static void
report_page(void *arg, uint64_t pgno, const char *db, const char *kind,
    unsigned n)
{
	struct verify_out *vo = arg;

	if (vo->pages)
		printf("page %llu %s %s %u\n", (unsigned long long)pgno,
		    *db ? db : "-", kind, n);
}

static void
report_page_bad(void *arg, uint64_t pgno, const char *db, const char *what)
{

	(void)arg;
	printf("damaged page %llu%s%s: %s\n", (unsigned long long)pgno,
	    *db ? " of database " : "", db, what);
}

static void
report_check(void *arg, int kind, const uint8_t id[KITH_ID_LEN],
    const char *what)
{
	char hex[2 * KITH_ID_LEN + 1];

	(void)arg;
	kith_hex(hex, id, kind == STORE_BAD_STATE ? KITH_ENTITY_LEN :
	    KITH_ID_LEN);
	printf("%s %s: %s\n", bad_kinds[kind], hex, what);
}

/*
 * Check the structure of the home's data file, page by page, without
 * LMDB; list pages if ${vo}.  Return 0, EX_BAD after saying what to do,
 * or another exit code.
 */
static int
check_structure(struct ctx *c, struct verify_out *vo, int quiet)
{
	struct pagecheck_cb cb = { quiet ? NULL : report_page_bad,
	    vo != NULL ? report_page : NULL, NULL, NULL, vo };
	struct pagecheck_stats ps;
	int rc;

	rc = pagecheck_file(home_path(c, "store/data.mdb"), 0, &cb, &ps);
	if (rc == KITH_ENOTFOUND)
		return fail(c, EX_NOINPUT, "no kith store in %s", c->home);
	if (rc == KITH_ECORRUPT) {
		if (!quiet)
			printf("the store's file is damaged in its structure: "
			    "%llu %s (listed above); no record was read through "
			    "it.\nwhat to do: stop kithd, then run: kith --home "
			    "%s restore\n(it moves the damaged store aside, "
			    "keeps every record it can still read, and fetches "
			    "the rest from this node's peers)\n",
			    (unsigned long long)ps.problems,
			    plural(ps.problems, "problem", "problems"), c->home);
		return EX_BAD;
	}
	if (rc != 0)
		return fail(c, exit_for(rc), "cannot read %s: %s", c->path,
		    kith_strerror(rc));
	if (vo != NULL && vo->pages && !quiet)
		printf("structure: %llu pages checked, ok\n",
		    (unsigned long long)ps.pages);
	return 0;
}

int
cmd_verify(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] verify [--pages]"
	    "\n\n"
	    "Check the store, reading only.  First the structure of its data\n"
	    "file, page by page, with kith's own reader (LMDB is not let near a\n"
	    "damaged file); then every record (its id, signature and body hash),\n"
	    "every index entry, both ways, and every entity's state against the\n"
	    "state its records compute.  It names each problem, prints one\n"
	    "summary line of counts, and says which command to run next:\n"
	    "  damaged records or bodies   kithd fetches good copies from its\n"
	    "                              peers on its own; or: kith repair\n"
	    "  damaged indexes or states   kith repair\n"
	    "  damaged file structure      kith restore\n"
	    "\n"
	    "  --pages   also list every page reached: number, database, kind\n"
	    "            (meta, branch, leaf, leaf2, overflow) and keys\n"
	    "\n"
	    "Exit 0 if all is good, 1 if anything is damaged, 74 if the store\n"
	    "cannot be read.\n";
	static const struct opt spec[] = { { "pages", 0 }, { NULL, 0 } };
	struct verify_out vo;
	struct store_check sc;
	size_t bad;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	vo.pages = a.val[0] != NULL;
	if ((rc = check_structure(c, &vo, 0)) != 0)
		return rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_check(c->st, report_check, NULL, &sc)) != 0)
		return fail(c, exit_for(rc), "the store could not be read: %s",
		    kith_strerror(rc));
	bad = sc.bad_records + sc.bad_bodies + sc.bad_index + sc.bad_states;
	printf("verified %zu records, %zu bodies, %zu index entries, %zu "
	    "states: %zu bad records, %zu bad bodies, %zu bad index entries, "
	    "%zu bad states%s\n", sc.records, sc.bodies, sc.index, sc.states,
	    sc.bad_records, sc.bad_bodies, sc.bad_index, sc.bad_states,
	    bad == 0 ? ": ok" : "");
	if (sc.unjudged > 0)
		printf("the state of %zu %s was not compared: %s damaged "
		    "records\n", sc.unjudged, plural(sc.unjudged, "entity",
		    "entities"), plural(sc.unjudged, "it has", "they have"));
	if (bad == 0)
		return EX_OK;
	if (sc.bad_index + sc.bad_states > 0)
		printf("what to do: stop kithd, then run: kith --home %s repair"
		    "\n(it rebuilds the indexes and the state from the records, "
		    "and fetches good copies of damaged records from peers)\n",
		    c->home);
	else
		printf("what to do: nothing if kithd runs with peers: it "
		    "replaces damaged records and bodies from them on its own.  "
		    "To do it now: stop kithd, then run: kith --home %s repair\n",
		    c->home);
	return EX_BAD;
}

/*
 * Reconcile with the peer ${key} at ${ep} to the end, as kith sync does,
 * quietly; ${*st} gets the session's figures.  Return 0 or an error code,
 * with the peer's message in ${err}.
 */
static int
sync_quiet(struct ctx *c, const uint8_t key[KITH_KEY_LEN], const char *ep,
    struct sync_stats *out, char *err, size_t errlen)
{
	struct sync_node nd;
	struct sync_client *sc = NULL;
	struct tpoll items[2];
	uint8_t pk[32], sk[32];
	int rc;

	memset(&nd, 0, sizeof(nd));
	memset(out, 0, sizeof(*out));
	*err = '\0';
	nd.st = c->st;
	memcpy(nd.key, kcrypto_key_public(c->key), KITH_KEY_LEN);
	snprintf(nd.name, sizeof(nd.name), "%.64s", c->cfg.name);
	if ((rc = store_network(c->st, nd.network)) != 0)
		return rc;
	if ((nd.t = transport_new()) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	if ((rc = kcrypto_key_x25519(c->key, pk, sk)) == 0)
		rc = transport_set_identity(nd.t, pk, sk);
	kcrypto_wipe(sk, sizeof(sk));
	if (rc != 0 || (sc = sync_client_new(&nd, ep, key, &rc)) == NULL)
		goto out;
	do {
		sync_client_poll(sc, items);
		if ((rc = transport_poll(nd.t, items, 2, 100)) < 0)
			break;
		rc = sync_client_step(sc, sync_now_ms());
	} while (rc == 0);
	*out = *sync_client_stats(sc);
	snprintf(err, errlen, "%s", sync_client_error(sc));
	rc = rc == 1 ? 0 : rc;
out:
	sync_client_free(sc);
	transport_free(nd.t);
	return rc;
}

/*
 * The peers to fetch from: --peer KEY@ENDPOINT if given, else the
 * config's.  Sync with each; return how many answered to the end, and
 * add up what came in ${*added}.
 */
static size_t
sync_peers(struct ctx *c, const char *one, size_t *tried, uint64_t *added)
{
	uint8_t key[KITH_KEY_LEN];
	char ep[CONFIG_ENDPOINT_MAX + 1], err[256];
	struct sync_stats ss;
	size_t i, n, ok = 0;
	int rc;

	n = one != NULL ? 1 : c->cfg.npeers;
	*tried = n;
	*added = 0;
	for (i = 0; i < n; i++) {
		if (one != NULL) {
			if (config_peer_parse(one, key, ep, sizeof(ep)) != 0)
				continue;
		} else {
			memcpy(key, c->cfg.peer_keys[i], KITH_KEY_LEN);
			snprintf(ep, sizeof(ep), "%s", c->cfg.peers[i]);
		}
		rc = sync_quiet(c, key, ep, &ss, err, sizeof(err));
		*added += ss.added;
		if (rc == 0) {
			ok++;
			printf("peer %s: %llu records received, %llu new\n", ep,
			    (unsigned long long)ss.received,
			    (unsigned long long)ss.added);
		} else
			printf("peer %s: %s%s%s\n", ep, kith_strerror(rc),
			    *err ? ": " : "", err);
	}
	return ok;
}

/* Ids that a repair found damaged, to see afterwards which came back. */
struct damaged {
	uint8_t (*id)[KITH_ID_LEN];
	int *kind;
	size_t n, cap;
};

static void
note_repaired(void *arg, int kind, const uint8_t id[KITH_ID_LEN],
    const char *what)
{
	struct damaged *d = arg;
	uint8_t (*bid)[KITH_ID_LEN];
	int *bk;

	report_check(NULL, kind, id, what);
	if (d->n == d->cap) {
		if ((bid = realloc(d->id, (d->cap * 2 + 16) * KITH_ID_LEN)) ==
		    NULL)
			return;
		d->id = bid;
		if ((bk = realloc(d->kind, (d->cap * 2 + 16) * sizeof(int))) ==
		    NULL)
			return;
		d->kind = bk;
		d->cap = d->cap * 2 + 16;
	}
	memcpy(d->id[d->n], id, KITH_ID_LEN);
	d->kind[d->n++] = kind;
}

/* How many of ${d}'s records are held whole again (with their bodies). */
static size_t
count_back(struct ctx *c, const struct damaged *d)
{
	struct record *rec;
	size_t i, back = 0, len;

	for (i = 0; i < d->n; i++) {
		if (store_get(c->st, d->id[i], &rec) != 0)
			continue;
		back += d->kind[i] != STORE_BAD_BODY ||
		    record_body(rec, &len) != NULL;
		record_free(rec);
	}
	return back;
}

int
cmd_repair(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] repair "
	    "[--peer KEY@ENDPOINT]\n\n"
	    "Repair a store whose file structure is sound (kith verify says\n"
	    "which): remove records whose header fails its id or signature and\n"
	    "drop bodies that fail their hash, rebuild every index and every\n"
	    "entity's state from the records, then fetch good copies from the\n"
	    "peer given, else from every peer in kith.conf, as kith sync does.\n"
	    "It reports what it replaced.  Stop kithd first.  A store whose\n"
	    "structure is damaged cannot be repaired in place: use kith restore.\n"
	    "\n"
	    "Exit 0 when the store is whole again, 69 if some damaged records\n"
	    "could not be fetched yet (run it again when a peer is reachable),\n"
	    "1 if the structure is damaged, 75 if kithd runs.\n";
	static const struct opt spec[] = { { "peer", 1 }, { NULL, 0 } };
	struct damaged d = { NULL, NULL, 0, 0 };
	struct store_rebuilt rb;
	struct store_check sc;
	const char *peer;
	uint64_t added;
	size_t ok, tried, back, looked;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	peer = arg(spec, &a, "peer");
	if (peer != NULL && (rc = peer_arg(c, peer, (uint8_t[KITH_KEY_LEN]){ 0 },
	    (char[CONFIG_ENDPOINT_MAX + 1]){ 0 })) != 0)
		return rc;
	if (daemon_pid(c) != 0)
		return fail(c, EX_TEMPFAIL, "kithd runs on %s: stop it first (it "
		    "replaces damaged records from its peers on its own)",
		    c->home);
	if ((rc = check_structure(c, NULL, 0)) != 0)
		return rc;
	if ((rc = open_home(c, 1, 2)) != 0)
		return rc;
	if ((rc = store_rebuild(c->st, note_repaired, &d, &rb)) != 0) {
		rc = fail(c, exit_for(rc), "nothing was changed: %s",
		    kith_strerror(rc));
		goto out;
	}
	printf("rebuilt the indexes of %zu records and the state of %zu "
	    "entities; removed %zu damaged records, dropped %zu damaged "
	    "bodies\n", rb.records, rb.entities, rb.bad_records, rb.bad_bodies);
	ok = sync_peers(c, peer, &tried, &added);
	back = count_back(c, &d);
	/* The rebuild dropped the blind index: build it with the key now. */
	if (find_update(&c->act, &looked) != 0)
		fprintf(stderr, "kith: %s: warning: %s; kith find builds it "
		    "later\n", c->cmd, c->act.why);
	if ((rc = store_check(c->st, NULL, NULL, &sc)) != 0) {
		rc = fail(c, exit_for(rc), "%s", kith_strerror(rc));
		goto out;
	}
	printf("replaced %zu of %zu damaged records and bodies with good "
	    "copies from %zu of %zu peers\n", back, d.n, ok, tried);
	if (back < d.n) {
		printf("what to do: run kith --home %s repair again when a peer "
		    "is reachable (kithd also fetches them once it runs)\n",
		    c->home);
		rc = EX_UNAVAILABLE;
	} else if (sc.bad_records + sc.bad_bodies + sc.bad_index +
	    sc.bad_states > 0) {
		printf("still damaged after the repair: run kith verify\n");
		rc = EX_BAD;
	} else
		rc = 0;
out:
	free(d.id);
	free(d.kind);
	return rc;
}

/* Records read from a damaged file, and the bodies beside them. */
struct salvage {
	struct body_ref {
		uint8_t key[8 + KITH_ID_LEN];
		const uint8_t *p;
		size_t len;
	} *bodies;
	size_t nbodies, capbodies;
	struct record **recs;
	size_t n, cap;
	size_t bad;
};

static int
salvage_body(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
    size_t vlen)
{
	struct salvage *s = arg;
	struct body_ref *bigger;

	if (klen != 8 + KITH_ID_LEN)
		return 0;
	if (s->nbodies == s->capbodies) {
		if ((bigger = realloc(s->bodies, (s->capbodies * 2 + 256) *
		    sizeof(*bigger))) == NULL)
			return KITH_ENOMEM;
		s->bodies = bigger;
		s->capbodies = s->capbodies * 2 + 256;
	}
	memcpy(s->bodies[s->nbodies].key, key, klen);
	s->bodies[s->nbodies].p = val;
	s->bodies[s->nbodies++].len = vlen;
	return 0;
}

static int
body_ref_cmp(const void *a, const void *b)
{

	return memcmp(a, ((const struct body_ref *)b)->key, 8 + KITH_ID_LEN);
}

static int
salvage_rec(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
    size_t vlen)
{
	struct salvage *s = arg;
	struct body_ref *b;
	struct record *rec = NULL, **bigger;

	if (klen != 8 + KITH_ID_LEN) {
		s->bad++;
		return 0;
	}
	/* Bodies were gathered in key order: a binary search finds one. */
	b = bsearch(key, s->bodies, s->nbodies, sizeof(*s->bodies),
	    body_ref_cmp);
	if ((b == NULL || record_decode(val, vlen, b->p, b->len, &rec) != 0) &&
	    record_decode(val, vlen, NULL, 0, &rec) != 0) {
		s->bad++;
		return 0;
	}
	if (memcmp(record_id(rec), key + 8, KITH_ID_LEN) != 0) {
		record_free(rec);
		s->bad++;
		return 0;
	}
	if (s->n == s->cap) {
		if ((bigger = realloc(s->recs, (s->cap * 2 + 256) *
		    sizeof(*bigger))) == NULL) {
			record_free(rec);
			return KITH_ENOMEM;
		}
		s->recs = bigger;
		s->cap = s->cap * 2 + 256;
	}
	s->recs[s->n++] = rec;
	return 0;
}

/*
 * Read what records of the data file at ${path} can still be read, with
 * kith's own reader, past any damage, and apply them to the fresh store:
 * the charter first (or the one in ${charter_file}).  Nothing is believed
 * that fails its id or signature.
 */
static int
salvage_into(struct ctx *c, const char *path, const char *charter_file,
    size_t *kept, size_t *lost)
{
	struct pagecheck_cb cb = { NULL, NULL, "body", salvage_body, NULL };
	struct pagecheck_stats ps;
	struct salvage s;
	struct pagecheck *pc;
	struct record *charter = NULL;
	struct store_result res;
	uint8_t net[KITH_NETWORK_LEN];
	size_t i, k;
	FILE *f;
	int rc;

	memset(&s, 0, sizeof(s));
	*kept = *lost = 0;
	cb.arg = &s;
	if ((pc = pagecheck_open(path, &rc)) != NULL) {
		rc = pagecheck_run(pc, 0, &cb, &ps);
		cb.entry_db = "rec";
		cb.entry = salvage_rec;
		if (rc == 0 || rc == KITH_ECORRUPT)
			rc = pagecheck_run(pc, 0, &cb, &ps);
		if (rc == KITH_ECORRUPT)
			rc = 0;
	}
	for (i = 0; rc == 0 && i < s.n; i++)
		if (record_header(s.recs[i])->kind == KITH_KIND_CHARTER &&
		    record_verify(s.recs[i]) == 0)
			charter = s.recs[i];
	if (charter == NULL && charter_file != NULL) {
		if ((f = fopen(charter_file, "rb")) == NULL) {
			rc = fail(c, EX_NOINPUT, "%s: %s", charter_file,
			    strerror(errno));
			goto out;
		}
		if ((rc = recfile_read_start(f, net)) == 0 &&
		    (rc = recfile_read(f, &charter)) == 1)
			rc = KITH_ETRUNC;
		fclose(f);
		if (rc != 0) {
			rc = fail(c, EX_DATAERR, "%s: not a charter file: %s",
			    charter_file, kith_strerror(rc));
			goto out;
		}
	}
	if (charter == NULL) {
		rc = fail(c, EX_DATAERR, "the network's charter could not be "
		    "read from the damaged store: on a peer node run\n  kith "
		    "network charter > charter\nand give it here with "
		    "--charter charter");
		goto out;
	}
	if ((rc = store_init_network(c->st, charter)) != 0 &&
	    rc != KITH_EEXIST) {
		rc = fail(c, exit_for(rc), "cannot start the store: %s",
		    kith_strerror(rc));
		goto out;
	}
	/* The rest in batches; signatures are checked, duplicates skipped. */
	for (i = 0, rc = 0; i < s.n && rc == 0; i += k) {
		k = s.n - i < 1000 ? s.n - i : 1000;
		if ((rc = store_apply(c->st, s.recs + i, k, &res, NULL,
		    NULL)) == 0) {
			*kept += res.added + res.duplicate;
			*lost += res.rejected;
		}
	}
	*lost += s.bad;
	if (rc != 0)
		rc = fail(c, exit_for(rc), "cannot store what was salvaged: %s",
		    kith_strerror(rc));
out:
	if (charter != NULL) {
		for (i = 0; i < s.n && s.recs[i] != charter; i++)
			;
		if (i == s.n)
			record_free(charter);
	}
	store_records_free(s.recs, s.n);
	free(s.bodies);
	pagecheck_close(pc);
	return rc;
}

int
cmd_restore(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] restore "
	    "[--peer KEY@ENDPOINT] [--charter FILE]\n\n"
	    "Rebuild this node from its peers, with its own key, when its store\n"
	    "is too damaged to repair in place (kith verify says so).  Stop kithd\n"
	    "first.  It\n"
	    "  1. moves HOME/store aside to HOME/store.damaged-TIME (it never\n"
	    "     deletes it),\n"
	    "  2. makes a fresh store that takes no writes of this node's own\n"
	    "     (kith request add and the like are refused, and kithd will not\n"
	    "     start) until the restore has caught up,\n"
	    "  3. keeps every record it can still read from the damaged file\n"
	    "     (each checked against its id, signature and body hash),\n"
	    "  4. fetches everything else from the peer given with --peer, else\n"
	    "     from every peer in kith.conf,\n"
	    "  5. once every one of those peers has answered to the end, lets\n"
	    "     the node write again: its own records go on from the last\n"
	    "     one any of them holds, so no other node sees a fork.\n"
	    "If a peer cannot be reached, run kith restore again: it goes on\n"
	    "with the fresh store.  --charter FILE gives the network's charter\n"
	    "(kith network charter on a peer writes it) when the damaged file\n"
	    "no longer holds a readable one.\n"
	    "\n"
	    "Exit 0 when caught up, 69 if a peer did not answer (writes stay\n"
	    "refused), 66 if the node's key is missing, 75 if kithd runs.\n";
	static const struct opt spec[] = { { "peer", 1 }, { "charter", 1 },
		{ NULL, 0 } };
	const char *peer, *charter;
	char store_dir[4300], aside[4400] = "", data[4500];
	struct args a;
	struct stat sb;
	size_t ok, tried, kept = 0, lost = 0;
	uint64_t added;
	int rc, resume = 0;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	peer = arg(spec, &a, "peer");
	charter = arg(spec, &a, "charter");
	if (peer != NULL && (rc = peer_arg(c, peer, (uint8_t[KITH_KEY_LEN]){ 0 },
	    (char[CONFIG_ENDPOINT_MAX + 1]){ 0 })) != 0)
		return rc;
	if (daemon_pid(c) != 0)
		return fail(c, EX_TEMPFAIL, "kithd runs on %s: stop it first",
		    c->home);
	config_defaults(&c->cfg);
	if (config_load(home_path(c, "kith.conf"), &c->cfg, data,
	    sizeof(data)) == KITH_EINVAL)
		return fail(c, EX_CONFIG, "%s", data);
	if (peer == NULL && c->cfg.npeers == 0)
		return fail(c, EX_USAGE, "no peers to restore from: give "
		    "--peer KEY@ENDPOINT, or list them in kith.conf");
	if ((c->key = kcrypto_key_load(home_path(c, "key"), &rc)) == NULL)
		return fail(c, rc == KITH_ENOTFOUND ? EX_NOINPUT : EX_IOERR,
		    "cannot read the node key %s: %s (restore rebuilds a node "
		    "with its own key)", c->path, kith_strerror(rc));
	snprintf(store_dir, sizeof(store_dir), "%s", home_path(c, "store"));
	/* A restore begun before, not caught up yet: go on with it. */
	if ((c->st = store_open(store_dir, STORE_SHARED, 0, &rc)) != NULL &&
	    store_restoring(c->st))
		resume = 1;
	else {
		store_close(c->st);
		c->st = NULL;
	}
	if (!resume && stat(store_dir, &sb) == 0) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		snprintf(aside, sizeof(aside), "%s.damaged-%04d%02d%02dT%02d%02d"
		    "%02dZ", store_dir, tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (stat(aside, &sb) == 0 || rename(store_dir, aside) != 0)
			return fail(c, EX_CANTCREAT, "cannot move %s aside to "
			    "%s: %s", store_dir, aside, stat(aside, &sb) == 0 ?
			    "it exists" : strerror(errno));
		printf("moved the damaged store aside to %s\n", aside);
	}
	if (!resume) {
		if ((c->st = store_open(store_dir, STORE_CREATE | STORE_SHARED,
		    c->cfg.max_size_mb << 20, &rc)) == NULL)
			return fail(c, EX_CANTCREAT, "cannot create a fresh "
			    "store: %s", kith_strerror(rc));
		/* Before anything else: no write of ours until caught up. */
		if ((rc = store_set_restoring(c->st, 1)) != 0)
			return fail(c, exit_for(rc), "%s", kith_strerror(rc));
		snprintf(data, sizeof(data), "%s/data.mdb", aside);
		if ((*aside == '\0' || stat(data, &sb) != 0) &&
		    charter == NULL)
			return fail(c, EX_NOINPUT, "no damaged store to read "
			    "the network from: give --charter FILE");
		if ((rc = salvage_into(c, data, charter, &kept,
		    &lost)) != 0)
			return rc;
		printf("kept %zu records read from the damaged store; %zu "
		    "could not be read\n", kept, lost);
	} else
		printf("going on with the restore begun before\n");
	ok = sync_peers(c, peer, &tried, &added);
	if (ok < tried) {
		printf("not caught up: %zu of %zu peers answered; this node "
		    "takes no writes of its own until it has.  Run kith --home "
		    "%s restore again when they can be reached.\n", ok, tried,
		    c->home);
		return EX_UNAVAILABLE;
	}
	if ((rc = store_set_restoring(c->st, 0)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	printf("restored: %llu records fetched from %zu %s; this node writes "
	    "again, and kithd may start\n", (unsigned long long)added, ok,
	    plural(ok, "peer", "peers"));
	return 0;
}
