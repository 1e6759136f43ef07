/*
 * kith insight: what communities said at sessions, and the answers ("you
 * said, we did").
 */

#include <stdio.h>
#include <string.h>

#include "actor.h"
#include "field.h"
#include "insight.h"
#include "kith.h"

#include "cmd.h"

static const struct opt insight_spec[] = {
	{ "session", 1 }, { "service", 1 }, { "theme", 1 }, { "summary", 1 },
	{ "quote", 1 }, { "sentiment", 1 }, { "action", 1 }, { "status", 1 },
	{ "why", 1 }, { "open", 0 }, { "json", 0 }, { NULL, 0 } };

int
cmd_insight(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith insight add --session ID --service TEXT --theme T[,T..]\n"
	    "           --summary TEXT [--quote TEXT] [--sentiment -2..2]\n"
	    "       kith insight respond ID --action TEXT\n"
	    "           --status planned|done|not-possible --why TEXT\n"
	    "       kith insight list [--open] [--theme T] [--json]\n"
	    "       kith insight show ID [--json]\n"
	    "\n"
	    "What people said at a session about a service: themes are tags\n"
	    "(access,waiting-times), the summary is public, the quote sealed\n"
	    "to this organisation (kith share ID --with ORG shares it), the\n"
	    "sentiment from -2 (very negative) to 2 (very positive).  An\n"
	    "insight goes to the PCNs its session is addressed to.  respond is\n"
	    "for a PCN or an admin only (exit 77 for others): what was done or\n"
	    "planned, and why; it reaches the group that raised the insight.\n"
	    "A response moves forward only: planned, then done or\n"
	    "not-possible.  list --open shows those not yet done or\n"
	    "not-possible.  add prints the insight's id; respond the record's.\n";
	static const char *const add_opts[] = { "session", "service", "theme",
		"summary", "quote", "sentiment", NULL };
	static const char *const respond_opts[] = { "action", "status", "why",
		NULL };
	static const char *const list_opts[] = { "open", "theme", "json",
		NULL };
	static const char *const show_opts[] = { "json", NULL };
	uint8_t id[KITH_ENTITY_LEN];
	struct field_in in[MAX_OPTS];
	struct filter flt = { 0 };
	const char *sub;
	char theme[64];
	struct args a;
	size_t n;
	int rc;

	if (argc < 1 || strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0)
		return argc < 1 ? fail(c, EX_USAGE, "which? add, respond, list "
		    "or show (see --help)") : usage(help);
	sub = argv[0];
	if ((rc = parse_args(c, insight_spec, 1, argc - 1, argv + 1, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0) {
		int show = sub[0] == 's';

		if ((rc = only(c, &a, insight_spec,
		    show ? show_opts : list_opts)) != 0)
			return rc;
		if (!show && a.npos != 0)
			return fail(c, EX_USAGE, "list takes no id");
		if ((flt.theme = arg(insight_spec, &a, "theme")) != NULL) {
			if ((rc = filter_value(c, KITH_KIND_INSIGHT, "theme",
			    flt.theme, theme, sizeof(theme))) != 0)
				return rc;
			if (strchr(theme, ',') != NULL)
				return fail(c, EX_USAGE, "--theme: give one "
				    "theme");
			flt.theme = theme;
		}
		flt.open = arg(insight_spec, &a, "open") != NULL;
		return list_or_show(c, KITH_KIND_INSIGHT, show, &a,
		    insight_spec, &flt);
	}
	if (strcmp(sub, "add") == 0) {
		if ((rc = only(c, &a, insight_spec, add_opts)) != 0)
			return rc;
		if (a.npos != 0)
			return fail(c, EX_USAGE, "add takes no id");
		n = fields_given(field_defs(KITH_KIND_INSIGHT), insight_spec,
		    &a, in);
		if ((rc = open_home(c, 1, 0)) != 0)
			return rc;
		return acted(c, insight_add(&c->act, in, n), 1);
	}
	if (strcmp(sub, "respond") != 0)
		return fail(c, EX_USAGE, "unknown subcommand '%s' (see --help)",
		    sub);
	if ((rc = only(c, &a, insight_spec, respond_opts)) != 0)
		return rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the id of the insight");
	n = fields_given(field_defs(KITH_KIND_INSIGHT), insight_spec, &a, in);
	if ((rc = open_home(c, 1, 0)) != 0 ||
	    (rc = find_entity(c, a.pos[0], KITH_KIND_INSIGHT, id, NULL)) != 0)
		return rc;
	return acted(c, insight_respond(&c->act, id, in, n), 0);
}
