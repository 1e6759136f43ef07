/*
 * kith show, share, erase, history, conflicts, resolve: acts on any
 * entity; and the list and show shared by requests and volunteers.
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
#include "insight.h"
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

/*
 * What a list or show tells of ${s} beyond its state, into ${ab}: its
 * personal fields opened (${*opened}, the caller frees it), the
 * organisation a referral is addressed to (in ${to}), a claimed
 * request's volunteer's name (${*vname}, the caller frees it).
 */
void
about_entity(struct ctx *c, const struct state *s, struct view_about *ab,
    struct body **opened, char **vname, uint8_t to[KITH_KEY_LEN])
{
	uint8_t rcpt[SEAL_RECIPIENTS_MAX][32], from[KITH_KEY_LEN];
	uint8_t vid[KITH_ENTITY_LEN];
	const struct body_field *f;
	struct body *vb = NULL;
	struct state *vs = NULL;
	char *hex;
	size_t n;
	int rc;

	memset(ab, 0, sizeof(*ab));
	*opened = NULL;
	*vname = NULL;
	rc = actor_open(&c->act, s, opened, rcpt, &n);
	ab->opened = *opened;
	ab->sealed = rc == KITH_ESEALED;
	if (state_kind(s) == KITH_KIND_REFERRAL &&
	    entity_audience(&c->act, state_entity(s), to, from) == 0)
		ab->to = to;
	/* A claimed request: its volunteer's name, where this node may. */
	if ((hex = state_str(s, "volunteer")) != NULL &&
	    kith_unhex(vid, KITH_ENTITY_LEN, hex) == 0 &&
	    store_state(c->st, vid, &vs) == 0 &&
	    actor_open(&c->act, vs, &vb, rcpt, &n) == 0 &&
	    (f = body_get(vb, "name")) != NULL && f->v.type == CODEC_STR)
		*vname = strndup(f->v.s, f->v.len);
	ab->volunteer = *vname;
	free(hex);
	state_free(vs);
	body_free(vb);
}

/* Does list field ${name} of ${s} (comma-separated) contain ${item}? */
static int
list_has(const struct state *s, const char *name, const char *item)
{
	char *v = state_str(s, name), *tok, *save = NULL;
	int found = 0;

	for (tok = v ? strtok_r(v, ",", &save) : NULL; tok && !found;
	    tok = strtok_r(NULL, ",", &save))
		found = strcmp(tok, item) == 0;
	free(v);
	return found;
}

static int
field_is(const struct state *s, const char *name, const char *want)
{
	char *v;
	int eq;

	if (want == NULL)
		return 1;
	v = state_str(s, name);
	eq = v != NULL && strcmp(v, want) == 0;
	free(v);
	return eq;
}

/* How a list is ordered (--sort). */
enum list_sort {
	SORT_URGENCY,		/* most urgent (3) first, then oldest first */
	SORT_AGE,		/* oldest first */
	SORT_AREA,		/* by area, then as urgency */
	SORT_STATUS,		/* by stage (open first), then as urgency */
};

/* An entity kept for a list, with what it is sorted by. */
struct list_item {
	struct state *s;	/* a copy, owned */
	int64_t urgency;
	int status;
	uint64_t created;
	char *area;		/* owned, or NULL */
};

struct listing {
	struct ctx *c;
	struct filter *f;
	struct list_item *items;
	size_t n, cap;
};

static int
list_one(void *arg, const struct state *s)
{
	struct listing *l = arg;
	struct filter *f = l->f;
	uint8_t to[KITH_KEY_LEN], from[KITH_KEY_LEN];
	const struct state_field *sf;
	struct list_item *it, *bigger;
	const uint8_t *p;
	size_t len;
	char *st;
	int rc;

	if (!field_is(s, "status", f->status) ||
	    !field_is(s, "area", f->area) ||
	    !field_is(s, "category", f->category) ||
	    (f->areas != NULL && !list_has(s, "areas", f->areas)) ||
	    (f->theme != NULL && !list_has(s, "themes", f->theme)) ||
	    (f->open && !insight_open(s)))
		return 0;
	if (f->to_me || f->from_me) {
		if (entity_audience(&l->c->act, state_entity(s), to, from) != 0 ||
		    memcmp(f->to_me ? to : from,
		    kcrypto_key_public(l->c->key), KITH_KEY_LEN) != 0)
			return 0;
	}
	if (l->n == l->cap) {
		if ((bigger = realloc(l->items, (l->cap * 2 + 64) *
		    sizeof(*bigger))) == NULL)
			return KITH_ENOMEM;
		l->items = bigger;
		l->cap = l->cap * 2 + 64;
	}
	it = &l->items[l->n];
	memset(it, 0, sizeof(*it));
	/* ${s} is borrowed for the call: keep a copy. */
	p = state_encoded(s, &len);
	if ((rc = state_decode(p, len, &it->s)) != 0)
		return rc;
	l->n++;
	it->urgency = (sf = state_get(s, "urgency")) != NULL &&
	    sf->value.type == CODEC_INT ? sf->value.i : 0;
	it->created = state_created(s);
	it->area = state_str(s, state_kind(s) == KITH_KIND_VOLUNTEER ?
	    "areas" : "area");
	it->status = 0;
	if ((st = state_str(s, "status")) != NULL) {
		/* Cancelled shares a stage with fulfilled: after it. */
		it->status = 2 * state_status_rank(state_kind(s), st,
		    strlen(st)) + (strcmp(st, "cancelled") == 0);
		free(st);
	}
	return 0;
}

static int
cmp_num(uint64_t a, uint64_t b)
{

	return a < b ? -1 : a > b;
}

static int
list_cmp(const void *pa, const void *pb, void *arg)
{
	const struct list_item *a = pa, *b = pb;
	enum list_sort sort = *(const enum list_sort *)arg;
	int d = 0;

	if (sort == SORT_AREA)
		d = a->area == NULL || b->area == NULL ?
		    (a->area == NULL) - (b->area == NULL) :
		    strcmp(a->area, b->area);
	else if (sort == SORT_STATUS)
		d = a->status - b->status;
	if (d == 0 && sort != SORT_AGE)
		d = cmp_num((uint64_t)b->urgency, (uint64_t)a->urgency);
	if (d == 0)
		d = cmp_num(a->created, b->created);
	if (d == 0)
		d = memcmp(state_entity(a->s), state_entity(b->s),
		    KITH_ENTITY_LEN);
	return d;
}

/*
 * --sort and --limit of a list of ${kind}: into ${sort} and ${limit} (0:
 * every one).  EX_USAGE after a message.
 */
static int
list_order(struct ctx *c, uint64_t kind, const char *s, const char *n,
    enum list_sort *sort, size_t *limit)
{
	static const char *const names[] = { "urgency", "age", "area",
		"status" };
	const char *ok = kind == KITH_KIND_REQUEST ? "urgency, age, area or "
	    "status" : kind == KITH_KIND_VOLUNTEER ? "age or area" :
	    "age or status";
	unsigned long long v;
	char *end;
	int k;

	*sort = kind == KITH_KIND_REQUEST ? SORT_URGENCY : SORT_AGE;
	*limit = 0;
	if (s != NULL) {
		for (k = 0; k < 4 && strcmp(s, names[k]) != 0; k++)
			;
		if (k == 4 || strstr(ok, names[k]) == NULL)
			return fail(c, EX_USAGE, "invalid --sort '%s': "
			    "expected %s", s, ok);
		*sort = (enum list_sort)k;
	}
	if (n != NULL) {
		errno = 0;
		v = strtoull(n, &end, 10);
		if (!isdigit((unsigned char)n[0]) || *end != '\0' ||
		    errno != 0 || v == 0 || v > SIZE_MAX)
			return fail(c, EX_USAGE, "invalid --limit '%s': "
			    "expected a number of 1 or more", n);
		*limit = (size_t)v;
	}
	return 0;
}

/* Show the first ${limit} (0: all) of ${l}'s items through ${v}. */
static int
list_show(struct ctx *c, struct listing *l, struct view *v, size_t limit)
{
	uint8_t to[KITH_KEY_LEN];
	struct view_about ab;
	struct body *opened;
	char *vname;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < l->n && (limit == 0 || i < limit); i++) {
		about_entity(c, l->items[i].s, &ab, &opened, &vname, to);
		view_about(v, &ab);
		rc = view_entity(v, l->items[i].s);
		view_about(v, NULL);
		body_free(opened);
		free(vname);
	}
	return rc;
}

/*
 * Show entity ${idarg} (of ${kind}, or any if 0): its state, and the
 * personal fields of its sealed section if this node may open it, else
 * [sealed].
 */
static int
show_entity(struct ctx *c, const char *idarg, uint64_t kind, int json)
{
	uint8_t id[KITH_ENTITY_LEN], to[KITH_KEY_LEN];
	struct body *opened = NULL;
	struct roster *r = NULL;
	struct state *s = NULL;
	struct view_about ab;
	struct view *v = NULL;
	char *vname = NULL;
	int rc;

	if (idarg == NULL)
		return fail(c, EX_USAGE, "give one id (see --help)");
	if ((rc = open_home(c, 1, 1)) != 0 ||
	    (rc = find_entity(c, idarg, kind, id, &s)) != 0)
		return rc;
	about_entity(c, s, &ab, &opened, &vname, to);
	if (store_roster(c->st, &r) != 0)
		r = NULL;	/* organisations by key */
	if ((v = view_new(json ? VIEW_OBJECT : VIEW_DETAIL, stdout,
	    state_kind(s), 1)) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	view_roster(v, r);
	view_about(v, &ab);
	if ((rc = view_entity(v, s)) == 0)
		rc = view_finish(v);
out:
	view_free(v);
	roster_free(r);
	body_free(opened);
	free(vname);
	state_free(s);
	return rc == 0 ? 0 : fail(c, exit_for(rc), "%s", kith_strerror(rc));
}

int
cmd_erase(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] erase ID --reason "
	    "TEXT\n\n"
	    "Erase an entity: every node that receives the signed erase record\n"
	    "drops the bodies (public and sealed fields, and their keys) of\n"
	    "all its records, now and whenever they arrive again, and keeps\n"
	    "only the headers, so the entity never comes back.  kith history\n"
	    "ID still shows that it existed and who erased it, and when.\n"
	    "Only the organisation that created the entity, or an admin, may\n"
	    "erase it.  The reason must not contain personal data.\n";
	static const struct opt spec[] = { { "reason", 1 }, { NULL, 0 } };
	uint8_t id[KITH_ENTITY_LEN];
	const char *reason;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1 || (reason = a.val[0]) == NULL)
		return fail(c, EX_USAGE, "give an id and --reason TEXT");
	if ((rc = open_home(c, 1, 0)) != 0 ||
	    (rc = find_entity(c, a.pos[0], 0, id, NULL)) != 0)
		return rc;
	return acted(c, entity_erase(&c->act, id, reason), 0);
}

int
cmd_show(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] show ID [--json]\n\n"
	    "Show any entity: its public fields, and its personal fields if\n"
	    "they are sealed to this node's organisation; else [sealed].\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	return show_entity(c, a.npos == 1 ? a.pos[0] : NULL, 0,
	    a.val[0] != NULL);
}

int
cmd_share(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] share ID --with ORG\n\n"
	    "Entitle one more organisation (its name or key; see kith member\n"
	    "list) to an entity's personal fields, and seal them to it, so\n"
	    "that it can read them, now and after every later change.  Only\n"
	    "an organisation entitled to them (the entity's creator, a\n"
	    "referral's recipient, or one they shared with) may share.\n";
	static const struct opt spec[] = { { "with", 1 }, { NULL, 0 } };
	uint8_t id[KITH_ENTITY_LEN], with[KITH_KEY_LEN];
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1 || a.val[0] == NULL)
		return fail(c, EX_USAGE, "give an id and --with ORG");
	if ((rc = open_home(c, 1, 0)) != 0 ||
	    (rc = find_entity(c, a.pos[0], 0, id, NULL)) != 0 ||
	    (rc = find_org(c, "with", a.val[0], with)) != 0)
		return rc;
	return acted(c, entity_share(&c->act, id, with), 0);
}

/*
 * `list` and `show` for requests and volunteers, and `list` for
 * referrals: sorted (--sort, default by urgency for requests, else by
 * age) and cut (--limit), with the names this node may read.
 */
int
list_or_show(struct ctx *c, uint64_t kind, int show, const struct args *a,
    const struct opt *spec, struct filter *f)
{
	int json = arg(spec, a, "json") != NULL, rc;
	struct listing l = { c, f, NULL, 0, 0 };
	struct roster *r = NULL;
	enum list_sort sort;
	struct view *v = NULL;
	size_t limit, i;

	if (show)
		return show_entity(c, a->npos == 1 ? a->pos[0] : NULL, kind,
		    json);
	if ((rc = list_order(c, kind, arg(spec, a, "sort"), arg(spec, a,
	    "limit"), &sort, &limit)) != 0)
		return rc;
	if ((rc = open_home(c, 1, 1)) != 0)
		return rc;
	if (store_roster(c->st, &r) != 0)
		r = NULL;	/* organisations by key */
	if ((v = view_new(json ? VIEW_JSON : VIEW_TEXT, stdout, kind,
	    1)) == NULL)
		rc = KITH_ENOMEM;
	else if ((rc = store_states(c->st, kind, list_one, &l)) == 0) {
		if (l.n > 0)	/* none: no array to sort */
			qsort_r(l.items, l.n, sizeof(*l.items), list_cmp,
			    &sort);
		view_roster(v, r);
		if ((rc = list_show(c, &l, v, limit)) == 0)
			rc = view_finish(v);
	}
	for (i = 0; i < l.n; i++) {
		state_free(l.items[i].s);
		free(l.items[i].area);
	}
	free(l.items);
	view_free(v);
	roster_free(r);
	return rc == 0 ? 0 : fail(c, exit_for(rc), "%s", kith_strerror(rc));
}

int
cmd_history(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] history ID "
	    "[--json]\n\n"
	    "Every version of an entity, oldest first: time, author, sequence\n"
	    "number, record id and the fields it set.\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	uint8_t id[KITH_ENTITY_LEN];
	struct record **recs = NULL;
	struct roster *r = NULL;
	struct view *v = NULL;
	struct args a;
	size_t n = 0, i;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give one id (see --help)");
	if ((rc = open_home(c, 0, 1)) != 0 ||
	    (rc = find_entity(c, a.pos[0], 0, id, NULL)) != 0)
		return rc;
	if (store_roster(c->st, &r) != 0)
		r = NULL;	/* authors by key */
	if ((rc = store_entity(c->st, id, &recs, &n)) == 0) {
		if ((v = view_new(a.val[0] ? VIEW_JSON : VIEW_TEXT, stdout, 0,
		    1)) == NULL)
			rc = KITH_ENOMEM;
		else
			view_roster(v, r);
		for (i = 0; rc == 0 && i < n; i++)
			rc = view_version(v, recs[i]);
		if (rc == 0)
			rc = view_finish(v);
	}
	view_free(v);
	roster_free(r);
	store_records_free(recs, n);
	return rc == 0 ? 0 : fail(c, exit_for(rc), "%s", kith_strerror(rc));
}

static int
conflict_one(void *arg, const struct state *s)
{

	return view_conflicts(arg, s);
}

int
cmd_conflicts(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] conflicts "
	    "[--json]\n\n"
	    "List every field that concurrent edits left with competing values,\n"
	    "the displayed winner first.  Settle one with 'kith resolve'.\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	struct view *v;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((v = view_new(a.val[0] ? VIEW_JSON : VIEW_TEXT, stdout, 0,
	    1)) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	rc = store_states(c->st, 0, conflict_one, v);
	if (rc == 0)
		rc = view_finish(v);
	view_free(v);
	return rc == 0 ? 0 : fail(c, exit_for(rc), "%s", kith_strerror(rc));
}

int
cmd_resolve(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith [--home DIR] resolve ID --FIELD VALUE [--FIELD VALUE..]\n"
	    "\n"
	    "Settle conflicting fields of an entity: writes a version whose\n"
	    "parents are all of the entity's current versions, setting each\n"
	    "FIELD (an option of 'request update' or 'volunteer update', or\n"
	    "--status for a request).  Prints the new record's id.\n";
	static const struct opt any_spec[] = {
		{ "category", 1 }, { "area", 1 }, { "urgency", 1 },
		{ "needed-by", 1 }, { "lang", 1 }, { "access-needs", 1 },
		{ "name", 1 }, { "phone", 1 }, { "address", 1 }, { "notes", 1 },
		{ "volunteer", 1 }, { "status", 1 }, { "skills", 1 },
		{ "availability", 1 }, { "dbs", 1 }, { "dbs-checked", 1 },
		{ "active", 1 }, { NULL, 0 } };
	struct field_in in[MAX_OPTS];
	uint8_t id[KITH_ENTITY_LEN];
	struct args a;
	size_t n = 0;
	int rc, k;

	if ((rc = parse_args(c, any_spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the id (see --help)");
	for (k = 0; any_spec[k].name != NULL; k++)
		if (a.val[k] != NULL) {
			in[n].opt = any_spec[k].name;
			in[n++].value = a.val[k];
		}
	if ((rc = open_home(c, 1, 0)) != 0 ||
	    (rc = find_entity(c, a.pos[0], 0, id, NULL)) != 0)
		return rc;
	return acted(c, entity_resolve(&c->act, id, in, n), 0);
}
