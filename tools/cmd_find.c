/*
 * kith find: a person by name, phone or NHS number, through the blind
 * index (node/find.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor.h"
#include "body.h"
#include "entity.h"
#include "find.h"
#include "kith.h"
#include "roster.h"
#include "state.h"
#include "store.h"
#include "view.h"

#include "cmd.h"

struct out {
	struct ctx *c;
	struct roster *roster;	/* NULL if it cannot be read */
	struct view *view;	/* --json */
};

/* Print ${n} bytes at ${s}, a control character as '?'. */
static void
put_text(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
}

static void
put_field(const struct state *s, const char *name)
{
	char *v = state_str(s, name);

	if (v == NULL || v[0] == '\0')
		fputs("-", stdout);
	else
		put_text(v, strlen(v));
	free(v);
}

/* The organisation named for key ${key}, else its key's first digits. */
static void
put_org(const struct out *o, const uint8_t *key)
{
	const struct roster_entry *e;
	char hex[2 * KITH_KEY_LEN + 1];

	e = o->roster != NULL ? roster_find(o->roster, key) : NULL;
	if (e != NULL && e->org[0] != '\0')
		put_text(e->org, strlen(e->org));
	else {
		kith_hex(hex, key, KITH_KEY_LEN);
		printf("%.8s", hex);
	}
}

static int
hit(void *arg, const struct state *s, const struct body *opened)
{
	struct out *o = arg;
	const struct body_field *f;
	uint8_t to[KITH_KEY_LEN], from[KITH_KEY_LEN];
	char id[2 * KITH_ENTITY_LEN + 1];
	uint64_t kind = state_kind(s);
	const char *name;

	if (o->view != NULL) {
		struct view_about ab = { opened, 0, NULL, NULL };

		view_about(o->view, &ab);
		return view_entity(o->view, s);
	}
	name = kith_kind_name(kind);
	kith_hex(id, state_entity(s), KITH_ENTITY_LEN);
	printf("%-9s  %.8s  ", name != NULL ? name : "?", id);
	if ((f = body_get(opened, "name")) != NULL && f->v.type == CODEC_STR &&
	    f->v.len > 0)
		put_text(f->v.s, f->v.len);
	else
		fputs("-", stdout);
	fputs("  ", stdout);
	put_field(s, kind == KITH_KIND_VOLUNTEER ? "dbs" : "status");
	fputs("  ", stdout);
	put_field(s, kind == KITH_KIND_VOLUNTEER ? "areas" : kind ==
	    KITH_KIND_REQUEST ? "area" : "category");
	fputs("  ", stdout);
	put_org(o, state_creator(s));
	if (kind == KITH_KIND_REFERRAL &&
	    entity_audience(&o->c->act, state_entity(s), to, from) == 0) {
		fputs(" -> ", stdout);
		put_org(o, to);
	}
	return putchar('\n') == EOF ? KITH_EIO : 0;
}

int
cmd_find(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith [--home DIR] find TEXT [--kind request|volunteer|referral]\n"
	    "           [--limit N] [--json]\n\n"
	    "Find requests, volunteers and referrals by a person's name, phone\n"
	    "or NHS number, among the personal fields this node may open.  TEXT\n"
	    "(quoted if it has spaces) is a phone number in any spacing, with\n"
	    "+44 or 0 in front for a UK one (\"020 7946 0000\" = \"+44 20 7946\n"
	    "0000\"); an NHS number, spaces or not; or words, each of which must\n"
	    "be a whole word of the name (\"kowalska\", \"anna kowalska\"), in any\n"
	    "case and with or without accents (\"lucja\" finds \"Łucja\").\n\n"
	    "Each hit is a line: kind, short id, name, status (a volunteer's DBS\n"
	    "level), area (a referral's category), the organisation that created\n"
	    "it (a referral's, and whom it is addressed to); the most recently\n"
	    "changed first.  The store keeps no name or number in the clear,\n"
	    "only keyed hashes of them (the key derived from the node key):\n"
	    "each hit is opened and compared before it is shown.  From a store\n"
	    "it cannot write, find opens what the index has not taken in yet.\n\n"
	    "  --kind K    only requests, volunteers or referrals\n"
	    "  --limit N   at most N hits\n"
	    "  --json      the hits as a JSON array of entity objects, as\n"
	    "              `kith show ID --json` prints them, personal fields opened\n\n"
	    "Exit codes: 0 something was found, 1 nothing was (as grep), 64 no\n"
	    "TEXT, TEXT shorter than 2 characters or with no letter or digit,\n"
	    "or a bad option; the others as every command's (kith --help).\n";
	static const struct opt spec[] = { { "kind", 1 }, { "limit", 1 },
		{ "json", 0 }, { NULL, 0 } };
	struct out o = { c, NULL, NULL };
	struct args a;
	const char *v;
	uint64_t kind = 0;
	unsigned long long lim;
	size_t limit = 0, n = 0;
	char *end;
	int rc, rdonly;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the name, phone or NHS number to "
		    "find (quoted if it has spaces; see --help)");
	if ((v = arg(spec, &a, "kind")) != NULL &&
	    (kith_kind_parse(v, &kind) != 0 || (kind != KITH_KIND_REQUEST &&
	    kind != KITH_KIND_VOLUNTEER && kind != KITH_KIND_REFERRAL)))
		return fail(c, EX_USAGE, "invalid --kind '%s': expected "
		    "request, volunteer or referral", v);
	if ((v = arg(spec, &a, "limit")) != NULL) {
		lim = strtoull(v, &end, 10);
		if (v[0] < '1' || v[0] > '9' || *end != '\0' || lim > 1000000)
			return fail(c, EX_USAGE, "invalid --limit '%s': expected "
			    "a number from 1", v);
		limit = (size_t)lim;
	}
	/* Read-write to bring the index up to date, if the store may be. */
	rdonly = access(home_path(c, "store"), W_OK) != 0 ||
	    access(home_path(c, "store/data.mdb"), W_OK) != 0;
	if ((rc = open_home(c, 1, rdonly)) != 0)
		return rc;
	(void)store_roster(c->st, &o.roster);
	if (arg(spec, &a, "json") != NULL &&
	    (o.view = view_new(VIEW_JSON, stdout, kind, 1)) == NULL) {
		rc = fail(c, EX_SOFTWARE, "%s", kith_strerror(KITH_ENOMEM));
		goto out;
	}
	rc = find_search(&c->act, a.pos[0], kind, limit, hit, &o, &n);
	if (rc == 0 && o.view != NULL)
		rc = view_finish(o.view);
	if (rc != 0) {
		rc = refused(c, rc);
		goto out;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		rc = fail(c, EX_IOERR, "cannot write the hits");
		goto out;
	}
	rc = n > 0 ? EX_OK : fail(c, EX_BAD, "nothing found for '%s' among "
	    "the personal fields this node may open", a.pos[0]);
out:
	view_free(o.view);
	roster_free(o.roster);
	return rc;
}
