/*
 * kith volunteer: volunteers.
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

static const struct opt volunteer_spec[] = {
	{ "name", 1 }, { "area", 1 }, { "skills", 1 }, { "lang", 1 },
	{ "availability", 1 }, { "dbs", 1 }, { "dbs-checked", 1 },
	{ "active", 1 }, { "json", 0 }, { "sort", 1 }, { "limit", 1 },
	{ NULL, 0 } };

int
cmd_volunteer(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith volunteer add --name TEXT --area DISTRICT[,DISTRICT..]\n"
	    "           [--skills a,b] [--lang pl,ps] [--availability TEXT]\n"
	    "           [--dbs none|basic|standard|enhanced --dbs-checked YYYY-MM-DD]\n"
	    "       kith volunteer update ID [any option of add] [--active yes|no]\n"
	    "       kith volunteer list [--area DISTRICT] [--json] [--sort age|area]\n"
	    "           [--limit N]\n"
	    "       kith volunteer show ID [--json]\n"
	    "\n"
	    "The name is a personal field (up to 200 bytes).  Areas are UK\n"
	    "postcode districts (a full postcode is cut to its district);\n"
	    "languages ISO 639 codes.  A DBS check other than none needs the\n"
	    "date it was checked, not in the future.  --active no marks a\n"
	    "volunteer who has stopped (yes again when they are back); update\n"
	    "--FIELD \"\" clears a field (not name or area).  add prints the new\n"
	    "volunteer's id; update prints the new record's id.  list shows the\n"
	    "oldest first, or by --sort area; --limit N shows the first N.\n";
	static const char *const add_opts[] = { "name", "area", "skills",
		"lang", "availability", "dbs", "dbs-checked", "active", NULL };
	static const char *const list_opts[] = { "area", "json", "sort",
		"limit", NULL };
	static const char *const show_opts[] = { "json", NULL };
	uint8_t id[KITH_ENTITY_LEN];
	struct field_in in[MAX_OPTS];
	struct filter flt = { 0 };
	const char *sub;
	char norm[8];
	struct args a;
	size_t n;
	int rc, add;

	if (argc < 1 || strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0)
		return argc < 1 ? fail(c, EX_USAGE, "which? add, update, list "
		    "or show (see --help)") : usage(help);
	sub = argv[0];
	if ((rc = parse_args(c, volunteer_spec, 1, argc - 1, argv + 1, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0) {
		int show = sub[0] == 's';

		if ((rc = only(c, &a, volunteer_spec,
		    show ? show_opts : list_opts)) != 0)
			return rc;
		if ((flt.areas = arg(volunteer_spec, &a, "area")) != NULL) {
			if ((rc = filter_value(c, KITH_KIND_REQUEST, "area",
			    flt.areas, norm, sizeof(norm))) != 0)
				return rc;
			flt.areas = norm;
		}
		if (!show && a.npos != 0)
			return fail(c, EX_USAGE, "list takes no id");
		return list_or_show(c, KITH_KIND_VOLUNTEER, show, &a,
		    volunteer_spec, &flt);
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "update") != 0)
		return fail(c, EX_USAGE, "unknown subcommand '%s' (see --help)",
		    sub);
	add = sub[0] == 'a';
	if ((rc = only(c, &a, volunteer_spec, add_opts)) != 0)
		return rc;
	if (add && a.npos != 0)
		return fail(c, EX_USAGE, "add takes no id");
	if (!add && a.npos != 1)
		return fail(c, EX_USAGE, "give the id of the volunteer");
	n = fields_given(field_defs(KITH_KIND_VOLUNTEER), volunteer_spec, &a,
	    in);
	if ((rc = open_home(c, 1, 0)) != 0)
		return rc;
	if (add)
		return acted(c, volunteer_add(&c->act, in, n), 1);
	if ((rc = find_entity(c, a.pos[0], KITH_KIND_VOLUNTEER, id, NULL)) != 0)
		return rc;
	return acted(c, volunteer_update(&c->act, id, in, n), 0);
}
