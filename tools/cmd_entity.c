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

static int
list_one(void *arg, const struct state *s)
{
	struct filter *f = arg;

	if (!field_is(s, "status", f->status) ||
	    !field_is(s, "area", f->area) ||
	    !field_is(s, "category", f->category) ||
	    (f->areas != NULL && !list_has(s, "areas", f->areas)))
		return 0;
	return view_entity(f->view, s);
}

/*
 * Show entity ${idarg} (of ${kind}, or any if 0): its state, and the
 * personal fields of its sealed section if this node may open it, else
 * [sealed].
 */
static int
show_entity(struct ctx *c, const char *idarg, uint64_t kind, int json)
{
	uint8_t id[KITH_ENTITY_LEN], rcpt[SEAL_RECIPIENTS_MAX][32];
	struct body *opened = NULL;
	struct state *s = NULL;
	struct view *v;
	size_t n;
	int rc;

	if (idarg == NULL)
		return fail(c, EX_USAGE, "give one id (see --help)");
	if ((rc = open_home(c, 1, 1)) != 0 ||
	    (rc = find_entity(c, idarg, kind, id, &s)) != 0)
		return rc;
	rc = actor_open(&c->act, s, &opened, rcpt, &n);
	if ((v = view_new(json ? VIEW_OBJECT : VIEW_DETAIL, stdout,
	    state_kind(s), 1)) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	view_opened(v, opened, rc == KITH_ESEALED);
	if ((rc = view_entity(v, s)) == 0)
		rc = view_finish(v);
out:
	view_free(v);
	body_free(opened);
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

/* `list` and `show` for requests and volunteers. */
int
list_or_show(struct ctx *c, uint64_t kind, int show, const struct args *a,
    const struct opt *spec, struct filter *f)
{
	int json = arg(spec, a, "json") != NULL, rc;

	if (show)
		return show_entity(c, a->npos == 1 ? a->pos[0] : NULL, kind,
		    json);
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	f->view = view_new(json ? VIEW_JSON : VIEW_TEXT, stdout, kind, 1);
	if (f->view == NULL)
		rc = KITH_ENOMEM;
	else
		rc = store_states(c->st, kind, list_one, f);
	if (rc == 0 && f->view != NULL)
		rc = view_finish(f->view);
	view_free(f->view);
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
	if ((rc = store_entity(c->st, id, &recs, &n)) == 0) {
		if ((v = view_new(a.val[0] ? VIEW_JSON : VIEW_TEXT, stdout, 0,
		    1)) == NULL)
			rc = KITH_ENOMEM;
		for (i = 0; rc == 0 && i < n; i++)
			rc = view_version(v, recs[i]);
		if (rc == 0)
			rc = view_finish(v);
	}
	view_free(v);
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
		{ NULL, 0 } };
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
