/*
 * kith digest, stats, export, export-records, import-records: what the
 * store holds, out and in.
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

int
cmd_digest(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] digest\n\n"
	    "Print the state digest: a hash of every entity's state.  Two nodes\n"
	    "holding the same records print the same digest.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	char hex[2 * KITH_HASH_LEN + 1];
	uint8_t d[KITH_HASH_LEN];
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_digest(c->st, d)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	kith_hex(hex, d, sizeof(d));
	printf("%s\n", hex);
	return 0;
}

struct status_count {
	size_t n[4];
};

static int
count_status(void *arg, const struct state *s)
{
	struct status_count *sc = arg;
	char *st = state_str(s, "status");
	int r;

	if (st != NULL) {
		r = state_status_rank(KITH_KIND_REQUEST, st, strlen(st));
		sc->n[r < 0 ? 0 : strcmp(st, "cancelled") == 0 ? 3 : r]++;
	}
	free(st);
	return 0;
}

int
cmd_stats(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] stats [--json]\n\n"
	    "Counts of records and entities by kind and request status, and the\n"
	    "store's size in bytes.\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	struct status_count sc = { { 0 } };
	struct store_stats ss;
	struct view *v;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_stats(c->st, &ss)) != 0 ||
	    (rc = store_states(c->st, KITH_KIND_REQUEST, count_status,
	    &sc)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if ((v = view_new(a.val[0] ? VIEW_OBJECT : VIEW_TEXT, stdout, 0,
	    0)) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	view_pair(v, "records", ss.records);
	view_pair(v, "bodies", ss.bodies);
	view_pair(v, "entities", ss.entities);
	view_pair(v, "requests", ss.by_kind[0]);
	view_pair(v, "requests_open", sc.n[0]);
	view_pair(v, "requests_claimed", sc.n[1]);
	view_pair(v, "requests_fulfilled", sc.n[2]);
	view_pair(v, "requests_cancelled", sc.n[3]);
	view_pair(v, "volunteers", ss.by_kind[1]);
	view_pair(v, "referrals", ss.by_kind[2]);
	view_pair(v, "sessions", ss.by_kind[3]);
	view_pair(v, "insights", ss.by_kind[4]);
	view_pair(v, "forks", ss.forks);
	view_pair(v, "store_bytes", ss.file_bytes);
	view_pair(v, "store_used_bytes", ss.used_bytes);
	rc = view_finish(v);
	view_free(v);
	return rc == 0 ? 0 : fail(c, EX_IOERR, "write failed");
}

/* A personal field of ${b} as a new string, or NULL. */
static const char *
opened_str(const struct body *b, const char *name, char **keep)
{
	const struct body_field *f = body_get(b, name);

	if (f == NULL || f->v.type != CODEC_STR ||
	    (*keep = strndup(f->v.s, f->v.len)) == NULL)
		return NULL;
	return *keep;
}

void
fhir_item_free(struct fhir_item *it)
{
	size_t i;

	for (i = 0; i < 3; i++)
		free(it->pub[i]);
	free((char *)it->r.reason);
	free((char *)it->r.snomed);
	free((char *)it->r.consent_by);
	free((char *)it->r.name);
	free((char *)it->r.dob);
	free((char *)it->r.phone);
	free((char *)it->r.nhs_number);
	free((char *)it->r.outcome);
	body_free(it->opened);
}

/*
 * Fill ${it} from referral ${s}: KITH_ESEALED if this node may not read
 * its personal fields (such referrals are not exported), else 0 or an
 * error.
 */
int
fhir_item(struct ctx *c, const struct roster *r, const struct state *s,
    struct fhir_item *it)
{
	uint8_t to[KITH_KEY_LEN], from[KITH_KEY_LEN], rcpt[SEAL_RECIPIENTS_MAX][32];
	const struct roster_entry *e;
	struct actor a;
	char *k;
	size_t n;
	int rc;

	memset(it, 0, sizeof(*it));
	/* tail opens the store anew for each record: act on that one. */
	actor_init(&a, c->st, c->key);
	if ((rc = actor_open(&a, s, &it->opened, rcpt, &n)) != 0)
		return rc == KITH_ENOTFOUND ? KITH_ESEALED : rc;
	if ((rc = entity_audience(&a, state_entity(s), to, from)) != 0)
		return rc;
	kith_hex(it->id, state_entity(s), KITH_ENTITY_LEN);
	kith_hex(it->to, to, KITH_KEY_LEN);
	kith_hex(it->from, from, KITH_KEY_LEN);
	snprintf(it->to_org, sizeof(it->to_org), "%s",
	    (e = roster_find(r, to)) != NULL ? e->org : "");
	snprintf(it->from_org, sizeof(it->from_org), "%s",
	    (e = roster_find(r, from)) != NULL ? e->org : "");
	it->r.id = it->id;
	it->r.to_key = it->to;
	it->r.from_key = it->from;
	it->r.to_org = it->to_org;
	it->r.from_org = it->from_org;
	it->r.status = it->pub[0] = state_str(s, "status");
	it->r.category = it->pub[1] = state_str(s, "category");
	it->r.consent = it->pub[2] = state_str(s, "consent");
	it->r.created_ms = state_created(s) >> 16;
	it->r.updated_ms = state_updated(s) >> 16;
	it->r.reason = opened_str(it->opened, "reason", &k);
	it->r.snomed = opened_str(it->opened, "snomed", &k);
	it->r.consent_by = opened_str(it->opened, "consent_by", &k);
	it->r.name = opened_str(it->opened, "name", &k);
	it->r.dob = opened_str(it->opened, "dob", &k);
	it->r.phone = opened_str(it->opened, "phone", &k);
	it->r.nhs_number = opened_str(it->opened, "nhs_number", &k);
	it->r.outcome = opened_str(it->opened, "outcome", &k);
	return 0;
}

/* kith export --format fhir: the readable referrals, gathered. */
struct fhir_export {
	struct ctx *c;
	struct roster *roster;
	uint64_t since;			/* hlc */
	struct fhir_item *items;
	size_t n, cap, skipped;
};

static int
fhir_one(void *arg, const struct state *s)
{
	struct fhir_export *x = arg;
	struct fhir_item *bigger;
	const char *why;
	int rc;

	if (state_updated(s) < x->since || state_get(s, "erased") != NULL)
		return 0;
	if (x->n == x->cap) {
		if ((bigger = realloc(x->items, (x->cap * 2 + 16) *
		    sizeof(*bigger))) == NULL)
			return KITH_ENOMEM;
		x->items = bigger;
		x->cap = x->cap * 2 + 16;
	}
	if ((rc = fhir_item(x->c, x->roster, s, &x->items[x->n])) == 0 &&
	    fhir_check(&x->items[x->n].r, &why) != 0) {
		fprintf(stderr, "kith: export: referral %s left out: %s\n",
		    x->items[x->n].id, why);
		rc = KITH_ESEALED;
	}
	if (rc == 0) {
		x->n++;
		return 0;
	}
	fhir_item_free(&x->items[x->n]);
	x->skipped += rc == KITH_ESEALED;
	return rc == KITH_ESEALED ? 0 : rc;
}

/* Parse --since: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, as an hlc. */
static int
parse_since(struct ctx *c, const char *v, uint64_t *hlc)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (((end = strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0') && (memset(&tm, 0, sizeof(tm)),
	    (end = strptime(v, "%Y-%m-%d", &tm)) == NULL || *end != '\0'))
		return fail(c, EX_USAGE, "--since '%s': expected YYYY-MM-DD "
		    "or YYYY-MM-DDTHH:MM:SSZ (UTC)", v);
	*hlc = HLC_MAKE((uint64_t)timegm(&tm) * 1000, 0);
	return 0;
}

static int
export_fhir(struct ctx *c, FILE *out, const char *since)
{
	struct fhir_export x;
	size_t i;
	int rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	if (since != NULL && (rc = parse_since(c, since, &x.since)) != 0)
		return rc;
	if ((rc = open_home(c, 1, 1)) != 0)
		return rc;
	if ((rc = store_roster(c->st, &x.roster)) == 0 &&
	    (rc = store_states(c->st, KITH_KIND_REFERRAL, fhir_one, &x)) == 0) {
		struct fhir_referral *refs = calloc(x.n ? x.n : 1,
		    sizeof(*refs));

		if (refs == NULL)
			rc = KITH_ENOMEM;
		for (i = 0; refs != NULL && i < x.n; i++)
			refs[i] = x.items[i].r;
		if (rc == 0 && fhir_write_bundle(out, refs, x.n,
		    hlc_wall_ms()) != 0)
			rc = KITH_EIO;
		free(refs);
	}
	for (i = 0; i < x.n; i++)
		fhir_item_free(&x.items[i]);
	free(x.items);
	roster_free(x.roster);
	if (rc == 0 && x.skipped > 0)
		fprintf(stderr, "kith: export: %zu referral%s this node may not "
		    "read left out\n", x.skipped, x.skipped == 1 ? "" : "s");
	return rc == 0 ? 0 : fail(c, exit_for(rc), "%s", kith_strerror(rc));
}

struct export {
	struct ctx *c;
	struct view *v;
	int personal;
};

/*
 * One entity of the domain (requests, volunteers, referrals: the charter
 * and membership are kith network charter and kith member list), with its
 * personal fields if asked: opened where this node may, else [sealed].
 */
static int
export_one(void *arg, const struct state *s)
{
	struct export *e = arg;
	uint8_t to[KITH_KEY_LEN], from[KITH_KEY_LEN];
	struct body *opened = NULL;
	struct view_about ab;
	char *vname = NULL;
	int rc;

	if (state_kind(s) != KITH_KIND_REQUEST &&
	    state_kind(s) != KITH_KIND_VOLUNTEER &&
	    state_kind(s) != KITH_KIND_REFERRAL)
		return 0;
	if (e->personal)
		about_entity(e->c, s, &ab, &opened, &vname, to);
	else {
		memset(&ab, 0, sizeof(ab));
		if (state_kind(s) == KITH_KIND_REFERRAL &&
		    entity_audience(&e->c->act, state_entity(s), to,
		    from) == 0)
			ab.to = to;
	}
	view_about(e->v, &ab);
	rc = view_entity(e->v, s);
	view_about(e->v, NULL);
	body_free(opened);
	free(vname);
	return rc;
}

/*
 * Where an export goes: --output FILE, else stdout.  A CSV written to a
 * file (--output, or stdout sent to one) starts with a UTF-8 byte order
 * mark unless --no-bom: without one, Excel reads UTF-8 as its own code
 * page and garbles Polish and Pashto.  To a pipe or a terminal, only with
 * --bom.
 */
static int
export_bom(struct ctx *c, const char *fmt, const char *path, int bom,
    int nobom, int *out)
{
	struct stat sb;

	if (bom && nobom)
		return fail(c, EX_USAGE, "give --bom or --no-bom, not both");
	if ((bom || nobom) && strcmp(fmt, "csv") != 0)
		return fail(c, EX_USAGE, "--%s is for --format csv",
		    bom ? "bom" : "no-bom");
	if (path != NULL && path[0] == '\0')
		return fail(c, EX_USAGE, "--output needs a file name");
	*out = bom || (!nobom && strcmp(fmt, "csv") == 0 && (path != NULL ||
	    (fstat(STDOUT_FILENO, &sb) == 0 && S_ISREG(sb.st_mode))));
	return 0;
}

int
cmd_export(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith [--home DIR] export --format ndjson|csv\n"
	    "           [--kind request|volunteer|referral] [--include-personal]\n"
	    "           [--output FILE] [--bom|--no-bom]\n"
	    "       kith [--home DIR] export --format fhir [--since TIME]\n"
	    "           [--output FILE]\n"
	    "\n"
	    "Write requests, volunteers and referrals (only those of --kind if\n"
	    "given) to stdout, or to FILE: ndjson, one JSON object per line,\n"
	    "or CSV (RFC 4180) with a header row.  Personal fields (names,\n"
	    "phone numbers, addresses, notes) are left out unless\n"
	    "--include-personal is given; then those sealed to this node's\n"
	    "organisation are opened, and those sealed to others are marked\n"
	    "[sealed].  Times are UTC (ISO 8601).  A CSV cell that starts with\n"
	    "=, +, -, @, tab or CR gets a ' in front, so that a spreadsheet\n"
	    "shows it as text rather than running it as a formula.  A CSV\n"
	    "written to a file (--output, or stdout redirected to one) starts\n"
	    "with a UTF-8 byte order mark, so that Excel reads its accents and\n"
	    "scripts right; --no-bom leaves it out, --bom puts it in a pipe too.\n\n"
	    "--format fhir writes one HL7 FHIR R4 Bundle (JSON) of the referrals\n"
	    "this node may read, updated since TIME (YYYY-MM-DD or\n"
	    "YYYY-MM-DDTHH:MM:SSZ) if given: for each, a ServiceRequest, a Task\n"
	    "(status and owner), a Consent and the Patient.\n";
	static const struct opt spec[] = { { "format", 1 }, { "kind", 1 },
		{ "include-personal", 0 }, { "since", 1 }, { "output", 1 },
		{ "bom", 0 }, { "no-bom", 0 }, { NULL, 0 } };
	const char *fmt, *kname, *path;
	struct roster *r = NULL;
	uint64_t kind = 0;
	struct export e;
	struct view *v;
	struct args a;
	FILE *f = stdout;
	int rc, bom = 0;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	fmt = arg(spec, &a, "format");
	path = arg(spec, &a, "output");
	if (fmt == NULL || (strcmp(fmt, "ndjson") && strcmp(fmt, "csv") &&
	    strcmp(fmt, "fhir")))
		return fail(c, EX_USAGE, "--format must be ndjson, csv or fhir");
	if ((rc = export_bom(c, fmt, path, arg(spec, &a, "bom") != NULL,
	    arg(spec, &a, "no-bom") != NULL, &bom)) != 0)
		return rc;
	if (strcmp(fmt, "fhir") == 0) {
		if (arg(spec, &a, "kind") != NULL ||
		    arg(spec, &a, "include-personal") != NULL)
			return fail(c, EX_USAGE, "--format fhir takes only "
			    "--since: it exports referrals, with what this "
			    "node may read of them");
	} else if (arg(spec, &a, "since") != NULL)
		return fail(c, EX_USAGE, "--since is for --format fhir");
	if ((kname = arg(spec, &a, "kind")) != NULL &&
	    (kith_kind_parse(kname, &kind) != 0 ||
	    (kind != KITH_KIND_REQUEST && kind != KITH_KIND_VOLUNTEER &&
	    kind != KITH_KIND_REFERRAL)))
		return fail(c, EX_USAGE, "--kind must be request, volunteer or "
		    "referral");
	e.personal = arg(spec, &a, "include-personal") != NULL;
	/* The store first: a missing home leaves no empty file behind. */
	if (strcmp(fmt, "fhir") != 0 &&
	    (rc = open_home(c, e.personal, 1)) != 0)
		return rc;
	if (path != NULL && (f = fopen(path, "w")) == NULL)
		return fail(c, EX_CANTCREAT, "%s: %s", path, strerror(errno));
	if (strcmp(fmt, "fhir") == 0) {
		rc = export_fhir(c, f, arg(spec, &a, "since"));
		if (rc == 0 && path != NULL)
			return close_out(c, f, path);
		if (path != NULL) {
			fclose(f);
			unlink(path);
		}
		return rc;
	}
	if ((v = view_new(fmt[0] == 'c' ? VIEW_CSV : VIEW_NDJSON, f, kind,
	    e.personal)) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	if (bom)
		view_bom(v);
	if (store_roster(c->st, &r) == 0)
		view_roster(v, r);	/* else organisations by key */
	e.c = c;
	e.v = v;
	rc = store_states(c->st, kind, export_one, &e);
	if (rc == 0)
		rc = view_finish(v);
	view_free(v);
	roster_free(r);
out:
	if (path != NULL) {
		if (rc == 0)
			return close_out(c, f, path);
		fclose(f);
		unlink(path);
	}
	return rc == 0 ? 0 : fail(c, exit_for(rc), "%s", kith_strerror(rc));
}

struct export_state {
	FILE *f;
	size_t n;
};

static int
export_record(void *arg, const struct record *rec)
{
	struct export_state *es = arg;

	es->n++;
	return recfile_write(es->f, rec);
}

int
cmd_export_records(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] export-records "
	    "FILE\n\n"
	    "Write every record in the store, signed and with its body, to FILE\n"
	    "(- for stdout) as a records file, for 'kith import-records' on\n"
	    "another node of the same network.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	static const uint8_t top[KITH_ID_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t net[KITH_NETWORK_LEN];
	struct export_state es = { NULL, 0 };
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the file to write (see --help)");
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_network(c->st, net)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if ((es.f = open_out(c, a.pos[0], &rc)) == NULL)
		return rc;
	rc = recfile_write_start(es.f, net);
	if (rc == 0)
		rc = store_range(c->st, 0, NULL, UINT64_MAX, top, export_record,
		    &es);
	if (rc != 0) {
		if (es.f != stdout) {
			fclose(es.f);
			unlink(a.pos[0]);
		}
		return fail(c, exit_for(rc), "export failed: %s",
		    kith_strerror(rc));
	}
	if ((rc = close_out(c, es.f, a.pos[0])) != 0)
		return rc;
	fprintf(stderr, "exported %zu records\n", es.n);
	return 0;
}

static void
report_reject(void *arg, const struct record *rec, int rc)
{
	char hex[2 * KITH_ID_LEN + 1];

	(void)arg;
	kith_hex(hex, record_id(rec), KITH_ID_LEN);
	fprintf(stderr, "kith: rejected record %s: %s\n", hex,
	    kith_strerror(rc));
}

/* Read a whole records file; an exit code after a message on failure. */
static int
read_records(struct ctx *c, const char *path, const uint8_t *net,
    struct record ***out, size_t *count)
{
	static const uint8_t zero[KITH_NETWORK_LEN];
	struct record **recs = NULL, **bigger, *rec;
	const struct record_header *h;
	uint8_t fnet[KITH_NETWORK_LEN];
	char a[17], b[17];
	size_t n = 0, cap = 0;
	int rc, code = 0;
	int *vr = NULL;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return fail(c, errno == ENOENT ? EX_NOINPUT : EX_IOERR,
		    "%s: %s", path, strerror(errno));
	if ((rc = recfile_read_start(f, fnet)) != 0) {
		code = fail(c, EX_DATAERR, "%s: corrupt records file: %s",
		    path, rc == KITH_ETYPE ? "not a kith records file" :
		    kith_strerror(rc));
		goto out;
	}
	if (memcmp(fnet, net, KITH_NETWORK_LEN) != 0) {
		kith_hex(a, fnet, 8);
		kith_hex(b, net, 8);
		code = fail(c, EX_DATAERR, "%s holds records of another "
		    "network (%s..., this node's is %s...)", path, a, b);
		goto out;
	}
	while ((rc = recfile_read(f, &rec)) == 0) {
		h = record_header(rec);
		if (h->kind == KITH_KIND_CHARTER ?
		    memcmp(h->network, zero, sizeof(zero)) != 0 ||
		    memcmp(record_id(rec), net, KITH_NETWORK_LEN) != 0 :
		    memcmp(h->network, net, KITH_NETWORK_LEN) != 0) {
			record_free(rec);
			code = fail(c, EX_DATAERR, "%s: record %zu belongs to "
			    "another network", path, n + 1);
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((bigger = realloc(recs, cap * sizeof(*recs))) ==
			    NULL) {
				record_free(rec);
				code = fail(c, EX_SOFTWARE, "out of memory");
				goto out;
			}
			recs = bigger;
		}
		recs[n++] = rec;
	}
	if (rc != 1) {
		code = fail(c, EX_DATAERR, "%s: corrupt records file: %s in "
		    "record %zu", path, kith_strerror(rc), n + 1);
		goto out;
	}
	/* Refuse the whole file for one forged record: it is not ours. */
	if ((vr = calloc(n ? n : 1, sizeof(*vr))) == NULL) {
		code = fail(c, EX_SOFTWARE, "out of memory");
		goto out;
	}
	record_verify_batch(recs, n, vr);
	for (cap = 0; cap < n; cap++)
		if (vr[cap] != 0) {
			code = fail(c, EX_DATAERR, "%s: corrupt records file: "
			    "%s in record %zu", path, kith_strerror(vr[cap]),
			    cap + 1);
			goto out;
		}
	*out = recs;
	*count = n;
	recs = NULL;	/* transferred */
out:
	free(vr);
	store_records_free(recs, n);
	fclose(f);
	return code;
}

int
cmd_import_records(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] import-records "
	    "FILE\n\n"
	    "Apply a records file written by 'kith export-records' on another\n"
	    "node of the same network.  The whole file is checked first (format,\n"
	    "network, signatures); a corrupt or foreign file changes nothing.\n"
	    "Then its new records are applied in one transaction.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	uint8_t net[KITH_NETWORK_LEN];
	struct store_result res;
	struct record **recs = NULL;
	struct args a;
	size_t n = 0;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the file to read (see --help)");
	if ((rc = open_home(c, 0, 0)) != 0)
		return rc;
	if ((rc = store_network(c->st, net)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if ((rc = read_records(c, a.pos[0], net, &recs, &n)) != 0)
		return rc;
	rc = store_apply(c->st, recs, n, &res, report_reject, NULL);
	store_records_free(recs, n);
	if (rc != 0)
		return fail(c, exit_for(rc), "nothing imported: %s",
		    kith_strerror(rc));
	printf("imported %zu records: %zu added, %zu duplicate, %zu rejected\n",
	    n, res.added, res.duplicate, res.rejected);
	return 0;
}
