/*
 * kith referral: referrals between organisations.
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
cmd_referral(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] referral send "
	    "--to ORG --category C --reason TEXT\n"
	    "           --consent explicit|care|support-body "
	    "--consent-recorded-by NAME\n"
	    "           [--snomed CODE] [--name N] [--dob YYYY-MM-DD] "
	    "[--phone P] [--nhs-number N]\n"
	    "           [--retain-until YYYY-MM-DD]\n"
	    "       kith [--home DIR] referral accept ID\n"
	    "       kith [--home DIR] referral decline ID --reason TEXT\n"
	    "       kith [--home DIR] referral complete ID --outcome TEXT\n"
	    "       kith [--home DIR] referral list --to-me|--from-me "
	    "[--status S] [--json]\n"
	    "           [--sort age|status] [--limit N]\n\n"
	    "Refer a person to another member organisation (ORG: its name or\n"
	    "key, see kith member list), and answer referrals sent to you.\n"
	    "A referral needs a lawful basis for sharing health data:\n"
	    "  explicit      the person's explicit consent (UK GDPR Art. 9(2)(a))\n"
	    "  care          health or social care (UK GDPR Art. 9(2)(h))\n"
	    "  support-body  a not-for-profit support body (DPA 2018 Sch. 1\n"
	    "                para. 16)\n"
	    "and the name of who recorded it.  Without both, nothing is written.\n"
	    "Statuses: sent -> accepted | declined; accepted -> completed,\n"
	    "with an outcome; a decline gives its reason, which the referrer\n"
	    "reads (sealed, like the outcome).  Only the recipient moves a\n"
	    "referral past sent; anyone else's change is kept as evidence and\n"
	    "never applied.\n"
	    "An NHS number is checked with its modulus-11 check digit.\n"
	    "list shows the oldest first, or by --sort status (sent first);\n"
	    "--limit N shows the first N.\n";
	static const struct opt spec[] = { { "to", 1 }, { "category", 1 },
		{ "reason", 1 }, { "consent", 1 }, { "consent-recorded-by", 1 },
		{ "snomed", 1 }, { "name", 1 }, { "dob", 1 }, { "phone", 1 },
		{ "nhs-number", 1 }, { "outcome", 1 }, { "to-me", 0 },
		{ "from-me", 0 }, { "status", 1 }, { "json", 0 },
		{ "retain-until", 1 }, { "sort", 1 }, { "limit", 1 },
		{ NULL, 0 } };
	static const char *const send_opts[] = { "to", "category", "reason",
		"consent", "consent-recorded-by", "snomed", "name", "dob",
		"phone", "nhs-number", "retain-until", NULL };
	static const char *const accept_opts[] = { NULL };
	static const char *const decline_opts[] = { "reason", NULL };
	static const char *const complete_opts[] = { "outcome", NULL };
	static const char *const list_opts[] = { "to-me", "from-me", "status",
		"json", "sort", "limit", NULL };
	const char *sub, *const *allowed, *v;
	uint8_t id[KITH_ENTITY_LEN];
	struct field_in in[MAX_OPTS];
	struct filter f = { 0 };
	uint64_t expiry;
	struct args a;
	size_t n;
	int rc, k;

	if ((rc = parse_args(c, spec, 2, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	sub = a.npos > 0 ? a.pos[0] : "";
	if (strcmp(sub, "send") == 0)
		allowed = send_opts;
	else if (strcmp(sub, "accept") == 0)
		allowed = accept_opts;
	else if (strcmp(sub, "decline") == 0)
		allowed = decline_opts;
	else if (strcmp(sub, "complete") == 0)
		allowed = complete_opts;
	else if (strcmp(sub, "list") == 0)
		allowed = list_opts;
	else
		return fail(c, EX_USAGE, "expected send, accept, decline, "
		    "complete or list (see --help)");
	for (k = 0; spec[k].name != NULL; k++)
		if (a.val[k] != NULL && !one_of(spec[k].name, allowed))
			return fail(c, EX_USAGE, "--%s does not apply to "
			    "referral %s", spec[k].name, sub);
	if (strcmp(sub, "list") == 0) {
		if (a.npos != 1 || (arg(spec, &a, "to-me") == NULL) ==
		    (arg(spec, &a, "from-me") == NULL))
			return fail(c, EX_USAGE, "list needs one of --to-me or "
			    "--from-me");
		if ((v = arg(spec, &a, "status")) != NULL &&
		    state_status_rank(KITH_KIND_REFERRAL, v, strlen(v)) < 0)
			return fail(c, EX_USAGE, "--status: one of sent, "
			    "accepted, declined, completed");
		f.to_me = arg(spec, &a, "to-me") != NULL;
		f.from_me = !f.to_me;
		f.status = v;
		return list_or_show(c, KITH_KIND_REFERRAL, 0, &a, spec, &f);
	}
	if (strcmp(sub, "send") != 0) {
		if (a.npos != 2)
			return fail(c, EX_USAGE, "%s needs the referral's id",
			    sub);
		if ((rc = open_home(c, 1, 0)) != 0 ||
		    (rc = find_entity(c, a.pos[1], KITH_KIND_REFERRAL, id,
		    NULL)) != 0)
			return rc;
		return acted(c, referral_move(&c->act, id,
		    strcmp(sub, "accept") == 0 ? "accepted" :
		    strcmp(sub, "decline") == 0 ? "declined" : "completed",
		    arg(spec, &a, strcmp(sub, "decline") == 0 ? "reason" :
		    "outcome")), 0);
	}
	if (a.npos != 1)
		return fail(c, EX_USAGE, "send takes options only");
	if ((rc = retain_until(c, arg(spec, &a, "retain-until"),
	    &expiry)) != 0)
		return rc;
	n = fields_given(field_defs(KITH_KIND_REFERRAL), spec, &a, in);
	if ((rc = open_home(c, 1, 0)) != 0)
		return rc;
	c->act.expiry = expiry;
	return acted(c, referral_send(&c->act, arg(spec, &a, "to"), in, n), 1);
}
