/*
 * kith request: help requests.
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

/* The options of request add and update: every field, plus list filters. */
static const struct opt request_spec[] = {
	{ "category", 1 }, { "area", 1 }, { "urgency", 1 }, { "needed-by", 1 },
	{ "lang", 1 }, { "access-needs", 1 }, { "name", 1 }, { "phone", 1 },
	{ "address", 1 }, { "notes", 1 }, { "volunteer", 1 }, { "status", 1 },
	{ "json", 0 }, { "retain-until", 1 }, { "sort", 1 }, { "limit", 1 },
	{ NULL, 0 } };

int
cmd_request(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith request add --category C --area DISTRICT [--urgency 1-3]\n"
	    "           [--needed-by YYYY-MM-DD] [--lang pl,ps] [--access-needs TEXT]\n"
	    "           [--name TEXT] [--phone TEXT] [--address TEXT] [--notes TEXT]\n"
	    "           [--retain-until YYYY-MM-DD]\n"
	    "       kith request update ID [any option of add]\n"
	    "       kith request claim ID [--volunteer VID]\n"
	    "       kith request fulfil ID\n"
	    "       kith request cancel ID\n"
	    "       kith request unclaim ID\n"
	    "       kith request reopen ID\n"
	    "       kith request list [--status S] [--area A] [--category C] [--json]\n"
	    "           [--sort urgency|age|area|status] [--limit N]\n"
	    "       kith request show ID [--json]\n"
	    "\n"
	    "Categories: food, prescription, check-in, befriending, transport,\n"
	    "advice, other (any case).  The area is a UK postcode district (TW3,\n"
	    "N17, SW1A); a full postcode is cut to its district.\n"
	    "Urgency: 1 low, 2 normal (the default), 3 high.  Languages are\n"
	    "ISO 639 codes.  Name, phone, address and notes are personal\n"
	    "fields, sealed to the organisations entitled to them; free text\n"
	    "may hold newlines, up to 200 bytes for a name, 500 for an address\n"
	    "or access needs and 4000 for notes.  update --FIELD \"\" clears a field (not category or\n"
	    "area).  Status moves forward: open, claimed, then fulfilled or\n"
	    "cancelled; unclaim takes a claimed request back to open, and reopen\n"
	    "a fulfilled or cancelled one, as new records that history shows.\n"
	    "add prints the new request's id; the others that write print the\n"
	    "new record's id.  An ID may be shortened to a unique prefix of 6+\n"
	    "hex digits.  list shows the most urgent first (3 .. 1), then the\n"
	    "oldest first; or by --sort: age (oldest first), area or status\n"
	    "(open first), then as urgency.  --limit N shows the first N.\n";
	static const char *const add_opts[] = { "category", "area", "urgency",
		"needed-by", "lang", "access-needs", "name", "phone", "address",
		"notes", "retain-until", NULL };
	static const char *const claim_opts[] = { "volunteer", NULL };
	static const char *const none[] = { NULL };
	static const char *const list_opts[] = { "status", "area", "category",
		"json", "sort", "limit", NULL };
	static const char *const show_opts[] = { "json", NULL };
	char norm[8], cat[32];
	uint8_t id[KITH_ENTITY_LEN];
	struct field_in in[MAX_OPTS];
	struct filter flt = { 0 };
	uint64_t expiry;
	const char *sub;
	struct args a;
	size_t n;
	int rc;

	if (argc < 1 || strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0)
		return argc < 1 ? fail(c, EX_USAGE, "which? add, update, "
		    "claim, fulfil, cancel, unclaim, reopen, list or show (see "
		    "--help)") :
		    usage(help);
	sub = argv[0];
	if ((rc = parse_args(c, request_spec, 1, argc - 1, argv + 1, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0) {
		int show = sub[0] == 's';

		if ((rc = only(c, &a, request_spec,
		    show ? show_opts : list_opts)) != 0)
			return rc;
		flt.status = arg(request_spec, &a, "status");
		if (flt.status != NULL && state_status_rank(KITH_KIND_REQUEST,
		    flt.status, strlen(flt.status)) < 0)
			return fail(c, EX_USAGE, "invalid --status '%s': "
			    "expected open, claimed, fulfilled or cancelled",
			    flt.status);
		if ((flt.category = arg(request_spec, &a, "category")) != NULL) {
			if ((rc = filter_value(c, KITH_KIND_REQUEST, "category",
			    flt.category, cat, sizeof(cat))) != 0)
				return rc;
			flt.category = cat;
		}
		if ((flt.area = arg(request_spec, &a, "area")) != NULL) {
			if ((rc = filter_value(c, KITH_KIND_REQUEST, "area",
			    flt.area, norm, sizeof(norm))) != 0)
				return rc;
			flt.area = norm;
		}
		if (!show && a.npos != 0)
			return fail(c, EX_USAGE, "list takes no id");
		return list_or_show(c, KITH_KIND_REQUEST, show, &a,
		    request_spec, &flt);
	}
	if (strcmp(sub, "add") == 0 || strcmp(sub, "update") == 0) {
		int add = sub[0] == 'a';

		if ((rc = only(c, &a, request_spec, add_opts)) != 0)
			return rc;
		if (add && a.npos != 0)
			return fail(c, EX_USAGE, "add takes no id");
		if (!add && a.npos != 1)
			return fail(c, EX_USAGE, "give the id of the request");
		if ((rc = retain_until(c, arg(request_spec, &a,
		    "retain-until"), &expiry)) != 0)
			return rc;
		n = fields_given(field_defs(KITH_KIND_REQUEST), request_spec,
		    &a, in);
		if ((rc = open_home(c, 1, 0)) != 0)
			return rc;
		c->act.expiry = expiry;
		if (add)
			return acted(c, request_add(&c->act, in, n), 1);
		if ((rc = find_entity(c, a.pos[0], KITH_KIND_REQUEST, id,
		    NULL)) != 0)
			return rc;
		return acted(c, request_update(&c->act, id, in, n), 0);
	}
	if (strcmp(sub, "claim") == 0 || strcmp(sub, "fulfil") == 0 ||
	    strcmp(sub, "cancel") == 0) {
		if ((rc = only(c, &a, request_spec,
		    sub[1] == 'l' ? claim_opts : none)) != 0)
			return rc;
		if (a.npos != 1)
			return fail(c, EX_USAGE, "give the id of the request");
		if ((rc = open_home(c, 1, 0)) != 0 ||
		    (rc = find_entity(c, a.pos[0], KITH_KIND_REQUEST, id,
		    NULL)) != 0)
			return rc;
		return acted(c, request_move(&c->act, id, sub[1] == 'l' ?
		    "claimed" : sub[1] == 'u' ? "fulfilled" : "cancelled",
		    arg(request_spec, &a, "volunteer")), 0);
	}
	if (strcmp(sub, "unclaim") == 0 || strcmp(sub, "reopen") == 0) {
		if ((rc = only(c, &a, request_spec, none)) != 0)
			return rc;
		if (a.npos != 1)
			return fail(c, EX_USAGE, "give the id of the request");
		if ((rc = open_home(c, 1, 0)) != 0 ||
		    (rc = find_entity(c, a.pos[0], KITH_KIND_REQUEST, id,
		    NULL)) != 0)
			return rc;
		return acted(c, request_reopen(&c->act, id, sub[0] == 'u'), 0);
	}
	return fail(c, EX_USAGE, "unknown subcommand '%s' (see --help)", sub);
}
