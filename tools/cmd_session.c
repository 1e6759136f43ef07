/*
 * kith session: outreach sessions held with communities.
 */

#include <stdio.h>
#include <string.h>

#include "actor.h"
#include "field.h"
#include "kith.h"
#include "session.h"

#include "cmd.h"

static const struct opt session_spec[] = {
	{ "group", 1 }, { "date", 1 }, { "area", 1 }, { "community", 1 },
	{ "lang", 1 }, { "reached", 1 }, { "in-depth", 1 }, { "format", 1 },
	{ "notes", 1 }, { "lead", 1 }, { "to", 1 }, { "json", 0 },
	{ NULL, 0 } };

int
cmd_session(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith session add --group ORG --date YYYY-MM-DD --area DISTRICT\n"
	    "           --community TEXT --lang CODES --reached N --in-depth N\n"
	    "           [--format stall|meeting|focus-group|event|one-to-one]\n"
	    "           [--notes TEXT] [--lead VOLUNTEER-ID] [--to PCN[,PCN..]]\n"
	    "       kith session list [--json]\n"
	    "       kith session show ID [--json]\n"
	    "\n"
	    "An outreach or engagement session held with a community: the\n"
	    "group met, the day (not in the future), the postcode district,\n"
	    "the community (in its own words), the languages used (ISO 639),\n"
	    "how many people were reached and how many in-depth conversations\n"
	    "were held (0 to 1000000, in-depth at most reached).  A session\n"
	    "names no person: the notes are sealed to this organisation, and\n"
	    "the lead is a volunteer (a community health champion) by id.  It\n"
	    "is addressed to every PCN of the network (at most 4), or to those\n"
	    "--to names, so that their nodes hold it.  add prints its id.\n";
	static const char *const add_opts[] = { "group", "date", "area",
		"community", "lang", "reached", "in-depth", "format", "notes",
		"lead", "to", NULL };
	static const char *const list_opts[] = { "json", NULL };
	struct field_in in[MAX_OPTS];
	struct filter flt = { 0 };
	const char *sub;
	struct args a;
	size_t n;
	int rc;

	if (argc < 1 || strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0)
		return argc < 1 ? fail(c, EX_USAGE, "which? add, list or show "
		    "(see --help)") : usage(help);
	sub = argv[0];
	if ((rc = parse_args(c, session_spec, 1, argc - 1, argv + 1, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0) {
		if ((rc = only(c, &a, session_spec, list_opts)) != 0)
			return rc;
		if (sub[0] == 'l' && a.npos != 0)
			return fail(c, EX_USAGE, "list takes no id");
		return list_or_show(c, KITH_KIND_SESSION, sub[0] == 's', &a,
		    session_spec, &flt);
	}
	if (strcmp(sub, "add") != 0)
		return fail(c, EX_USAGE, "unknown subcommand '%s' (see --help)",
		    sub);
	if ((rc = only(c, &a, session_spec, add_opts)) != 0)
		return rc;
	if (a.npos != 0)
		return fail(c, EX_USAGE, "add takes no id");
	n = fields_given(field_defs(KITH_KIND_SESSION), session_spec, &a, in);
	if ((rc = open_home(c, 1, 0)) != 0)
		return rc;
	return acted(c, session_add(&c->act, arg(session_spec, &a, "to"), in,
	    n), 1);
}
