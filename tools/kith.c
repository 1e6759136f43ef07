/*
 * kith: the command-line tool.  It works directly on the node's store, with
 * or without a daemon running, which is what offline-first means.  Each
 * command parses its arguments, calls one domain function, and prints;
 * the commands live in cmd_*.c, one file a noun.
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

static const char usage_main[] =
"usage: kith [--home DIR] COMMAND [ARGS]\n"
"\n"
"kith keeps a community organisation's help requests and volunteers in a\n"
"signed local store that works with no network and no daemon.\n"
"\n"
"The home is --home DIR, else $KITH_HOME, else ~/.local/share/kith.\n"
"\n"
"commands:\n"
"  init              create a node: key, store, config, network charter\n"
"  id                print this node's public key\n"
"  network charter   write the network's charter (a records file) to stdout\n"
"  invite --org NAME  invite an organisation: one line for kith join\n"
"  join INVITE       make this node a member with an invite line\n"
"  member ...        add, admit, revoke, list the network's members (admins)\n"
"  quarantine        records held back: their authors are not members\n"
"  request ...       add, update, claim, fulfil, cancel, list, show requests\n"
"  volunteer ...     add, update, list, show volunteers\n"
"  referral ...      send referrals to another organisation; answer them\n"
"  session ...       add, list, show outreach sessions held with communities\n"
"  insight ...       add, respond to, list what communities said\n"
"  report            the participation report: reach, requests, referrals,\n"
"                    insights, volunteers; small numbers suppressed\n"
"  show ID           any entity, with the personal fields this node may read\n"
"  find TEXT         requests, volunteers, referrals by name, phone, NHS no.\n"
"  share ID --with ORG  seal an entity's personal fields to one more org\n"
"  erase ID --reason T  erase an entity's data on every node, for good\n"
"  history ID        every version of an entity\n"
"  conflicts         entities with unresolved concurrent edits\n"
"  resolve ID        settle a conflict: --FIELD VALUE ...\n"
"  verify            check the store: file structure, records, indexes, state\n"
"  repair            rebuild indexes and state; fetch damaged records again\n"
"  restore           rebuild a badly damaged node from its peers, same key\n"
"  digest            print the state digest\n"
"  stats             counts by kind and status, store size\n"
"  export            entities as ndjson or csv\n"
"  export-records    write raw signed records to a file\n"
"  import-records    apply a records file from another store\n"
"  compact           write a compacted copy of the store\n"
"  scrub             rewrite the store so erased data is gone from disk\n"
"  upgrade           bring a store of an older kith to this one's format\n"
"  sync KEY@ENDPOINT reconcile with a node now, both ways\n"
"  tail KEY@ENDPOINT print records as a node's feed publishes them\n"
"  peers             the daemon's peers and how their last sync went\n"
"  status            whether kithd runs, store counts, digest, clocks\n"
"  doctor            check this node's health: clocks, peers; what to do\n"
"  clock [reset]     the system, store and peers' clocks; set the store's\n"
"                    clock back after the system clock was ahead\n"
"\n"
"Run 'kith COMMAND --help' for a command's options.  Exit codes: 0 ok,\n"
"1 verify found damage or find found nothing, 64 bad command line,\n"
"65 bad input data, 66 no such store/id/file, 69 peer unreachable,\n"
"73 cannot create, 74 store or I/O error (a full disk or store too),\n"
"75 try again: kithd runs, was asked to do it, or a restore has not\n"
"caught up, 76 peer broke the protocol, 77 not permitted for this\n"
"node's role, 78 bad config.\n"
"kith doctor: 0 all ok, 1 a warning, 2 a failure.\n";

static const struct command {
	const char *name;
	int (*fn)(struct ctx *, int, char **);
} commands[] = {
	{ "init", cmd_init },
	{ "id", cmd_id },
	{ "network", cmd_network },
	{ "invite", cmd_invite },
	{ "join", cmd_join },
	{ "member", cmd_member },
	{ "quarantine", cmd_quarantine },
	{ "request", cmd_request },
	{ "volunteer", cmd_volunteer },
	{ "referral", cmd_referral },
	{ "session", cmd_session },
	{ "insight", cmd_insight },
	{ "report", cmd_report },
	{ "show", cmd_show },
	{ "find", cmd_find },
	{ "erase", cmd_erase },
	{ "share", cmd_share },
	{ "history", cmd_history },
	{ "conflicts", cmd_conflicts },
	{ "resolve", cmd_resolve },
	{ "verify", cmd_verify },
	{ "repair", cmd_repair },
	{ "restore", cmd_restore },
	{ "digest", cmd_digest },
	{ "stats", cmd_stats },
	{ "export", cmd_export },
	{ "export-records", cmd_export_records },
	{ "import-records", cmd_import_records },
	{ "compact", cmd_compact },
	{ "scrub", cmd_scrub },
	{ "upgrade", cmd_upgrade },
	{ "sync", cmd_sync },
	{ "tail", cmd_tail },
	{ "peers", cmd_peers },
	{ "status", cmd_status },
	{ "doctor", cmd_doctor },
	{ "clock", cmd_clock },
};

int
main(int argc, char **argv)
{
	struct ctx c;
	const char *home = NULL;
	char cmdname[64];
	size_t i;
	int ai = 1, rc;

	memset(&c, 0, sizeof(c));
	if (kcrypto_init() != 0) {
		fprintf(stderr, "kith: cannot initialise libsodium\n");
		return EX_SOFTWARE;
	}
	while (ai < argc && strncmp(argv[ai], "--", 2) == 0) {
		if (strcmp(argv[ai], "--help") == 0)
			return usage(usage_main);
		if (strcmp(argv[ai], "--version") == 0) {
			printf("kith %d (protocol version %d)\n", 1,
			    KITH_PROTO_VERSION);
			return EX_OK;
		}
		if (strcmp(argv[ai], "--home") == 0 && ai + 1 < argc)
			home = argv[ai += 1];
		else if (strncmp(argv[ai], "--home=", 7) == 0)
			home = argv[ai] + 7;
		else
			return fail(&c, EX_USAGE, "unknown option %s (see "
			    "kith --help)", argv[ai]);
		ai++;
	}
	if (ai >= argc)
		return fail(&c, EX_USAGE, "no command (see kith --help)");
	if ((rc = config_home(home, c.home, sizeof(c.home))) != 0)
		return fail(&c, EX_USAGE, rc == KITH_ENOTFOUND ? "no home: give "
		    "--home DIR or set KITH_HOME" : "invalid --home");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, argv[ai]) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		return fail(&c, EX_USAGE, "unknown command '%s' (see kith "
		    "--help)", argv[ai]);
	/* Name the subcommand in messages: "request add". */
	if (ai + 1 < argc && (strcmp(argv[ai], "request") == 0 ||
	    strcmp(argv[ai], "volunteer") == 0 ||
	    strcmp(argv[ai], "session") == 0 ||
	    strcmp(argv[ai], "insight") == 0) && argv[ai + 1][0] != '-')
		snprintf(cmdname, sizeof(cmdname), "%s %s", argv[ai],
		    argv[ai + 1]);
	else
		snprintf(cmdname, sizeof(cmdname), "%s", argv[ai]);
	c.cmd = cmdname;
	rc = commands[i].fn(&c, argc - ai - 1, argv + ai + 1);
	store_close(c.st);
	kcrypto_key_free(c.key);
	return rc;
}
