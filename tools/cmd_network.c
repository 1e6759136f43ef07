/*
 * kith init, id, network, member, quarantine: a node, its network and
 * the network's members.
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
#include "invite.h"
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
 * Create the home directory (mode 0700) and any missing parents, as
 * mkdir -p does: the default ~/.local/share/kith often has no parent yet.
 */
static int
mkdir_home(const char *path)
{
	char buf[4096], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/*
 * Apply the membership records that follow the charter in the charter file
 * ${path} (kith network charter writes them), so a joining node knows the
 * network's members from the start.  Other records are left for sync.
 */
static int
join_members(struct ctx *c, const char *path)
{
	struct record *recs[256], *r;
	struct store_result res;
	uint8_t net[KITH_NETWORK_LEN];
	size_t n = 0, i;
	FILE *f;
	int rc;

	if ((f = fopen(path, "rb")) == NULL)
		return fail(c, EX_IOERR, "%s: %s", path, strerror(errno));
	rc = recfile_read_start(f, net);
	while (rc == 0 && (rc = recfile_read(f, &r)) == 0) {
		if (record_header(r)->kind == KITH_KIND_CHARTER ||
		    (record_header(r)->kind != KITH_KIND_MEMBER &&
		    record_header(r)->kind != KITH_KIND_REVOKE) ||
		    n == sizeof(recs) / sizeof(recs[0]))
			record_free(r);
		else
			recs[n++] = r;
	}
	fclose(f);
	rc = rc == 1 ? store_apply(c->st, recs, n, &res, NULL, NULL) : rc;
	for (i = 0; i < n; i++)
		record_free(recs[i]);
	return rc == 0 ? 0 : fail(c, EX_DATAERR, "%s: %s", path,
	    kith_strerror(rc));
}

int
cmd_init(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith [--home DIR] init --name ORG [--network-name NAME]\n"
	    "       kith [--home DIR] init --join CHARTER-FILE --name ORG\n"
	    "\n"
	    "Create a node in the home: its ed25519 key (mode 0600), its store\n"
	    "and kith.conf.  Without --join, also start a new one-node network\n"
	    "with this node as its admin.  With --join, become part of the\n"
	    "network whose charter file (from 'kith network charter') is given;\n"
	    "no record of this node's own is written.  Refuses a home that\n"
	    "already has a node.\n";
	static const struct opt spec[] = { { "name", 1 }, { "network-name", 1 },
		{ "join", 1 }, { NULL, 0 } };
	const char *name, *join, *netname;
	struct record *charter = NULL;
	struct record_header h;
	struct body *b = NULL;
	struct args a;
	struct stat sb;
	char hex[2 * KITH_ID_LEN + 1], label[300];
	uint8_t net[KITH_NETWORK_LEN], *enc = NULL;
	uint64_t clock = 0;
	size_t len;
	enum { MADE_HOME = 1, MADE_KEY = 2, MADE_CONF = 4, MADE_STORE = 8 };
	char err[512];
	int rc, made = MADE_HOME;
	FILE *f;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	name = arg(spec, &a, "name");
	join = arg(spec, &a, "join");
	netname = arg(spec, &a, "network-name");
	if (name == NULL)
		return fail(c, EX_USAGE, "--name ORG is required");
	if (!field_text_ok(name) || strlen(name) > 200 || !config_name_ok(name))
		return fail(c, EX_USAGE, "invalid --name: expected up to 200 "
		    "characters of text, with no blanks at either end and no "
		    "';' after a blank");
	if (join != NULL && netname != NULL)
		return fail(c, EX_USAGE, "--network-name cannot be used with "
		    "--join: the charter names the network");
	if (netname != NULL && (!field_text_ok(netname) || strlen(netname) > 200))
		return fail(c, EX_USAGE, "invalid --network-name");
	if (stat(home_path(c, "key"), &sb) == 0 ||
	    stat(home_path(c, "store/data.mdb"), &sb) == 0)
		return fail(c, EX_CANTCREAT, "%s already has a kith node; "
		    "nothing was changed", c->home);
	/* Check the charter before creating anything. */
	if (join != NULL) {
		if ((f = fopen(join, "rb")) == NULL)
			return fail(c, errno == ENOENT ? EX_NOINPUT : EX_IOERR,
			    "%s: %s", join, strerror(errno));
		rc = recfile_read_start(f, net);
		if (rc == 0 && (rc = recfile_read(f, &charter)) == 1)
			rc = KITH_ETRUNC;
		fclose(f);
		if (rc != 0)
			return fail(c, EX_DATAERR, "%s: not a charter file: %s",
			    join, kith_strerror(rc));
		if (record_header(charter)->kind != KITH_KIND_CHARTER ||
		    memcmp(record_id(charter), net, KITH_NETWORK_LEN) != 0 ||
		    record_verify(charter) != 0) {
			record_free(charter);
			return fail(c, EX_DATAERR, "%s: not a valid charter",
			    join);
		}
	}
	if (stat(c->home, &sb) == 0)
		made &= ~MADE_HOME;	/* the user's directory: never removed */
	if (mkdir_home(c->home) != 0) {
		rc = fail(c, EX_CANTCREAT, "cannot create %s: %s", c->home,
		    strerror(errno));
		goto out;
	}
	if ((c->key = kcrypto_key_generate()) == NULL ||
	    (rc = kcrypto_key_save(c->key, home_path(c, "key"))) != 0) {
		rc = fail(c, EX_CANTCREAT, "cannot write %s", c->path);
		goto out;
	}
	made |= MADE_KEY;
	/* A kith.conf placed in the home beforehand is kept, if it is valid. */
	rc = config_write_default(home_path(c, "kith.conf"), name);
	if (rc == 0) {
		made |= MADE_CONF;
	} else if (rc == KITH_EEXIST) {
		config_defaults(&c->cfg);
		if (config_load(c->path, &c->cfg, err, sizeof(err)) != 0) {
			rc = fail(c, EX_CONFIG, "%s", err);
			goto out;
		}
	} else {
		rc = fail(c, EX_CANTCREAT, "cannot write %s: %s", c->path,
		    kith_strerror(rc));
		goto out;
	}
	if ((c->st = store_open(home_path(c, "store"), STORE_CREATE, 0,
	    &rc)) == NULL) {
		rc = fail(c, EX_CANTCREAT, "cannot create the store: %s",
		    kith_strerror(rc));
		goto out;
	}
	made |= MADE_STORE;
	if (charter == NULL) {
		/* A new network whose only admin is this node. */
		snprintf(label, sizeof(label), "%s network", name);
		if ((b = body_new()) == NULL ||
		    body_set_str(b, "name", 0, netname ? netname : label) != 0 ||
		    body_set_str(b, "org", 0, name) != 0 ||
		    body_encode(b, &enc, &len) != 0) {
			rc = fail(c, EX_SOFTWARE, "out of memory");
			goto out;
		}
		/* The charter's entity, like any genesis's, is derived. */
		memset(&h, 0, sizeof(h));
		h.seq = 1;
		h.hlc = hlc_tick(&clock, hlc_wall_ms());
		h.kind = KITH_KIND_CHARTER;
		h.genesis = 1;
		kcrypto_random(h.nonce, sizeof(h.nonce));
		record_entity_derive(h.network, h.kind, kcrypto_key_public(
		    c->key), h.nonce, h.entity);
		if ((rc = record_sign(&h, enc, len, c->key, &charter)) != 0) {
			rc = fail(c, EX_SOFTWARE, "%s", kith_strerror(rc));
			goto out;
		}
	}
	if ((rc = store_init_network(c->st, charter)) != 0) {
		rc = fail(c, exit_for(rc), "cannot start the network: %s",
		    kith_strerror(rc));
		goto out;
	}
	if (join != NULL && (rc = join_members(c, join)) != 0)
		goto out;
	printf("home: %s\n", c->home);
	kith_hex(hex, kcrypto_key_public(c->key), KITH_KEY_LEN);
	printf("node: %s\n", hex);
	kith_hex(hex, record_id(charter), KITH_ID_LEN);
	printf("network: %s\n", hex);
	rc = 0;
out:
	if (rc != 0) {
		/* Leave nothing half made behind, and nothing else touched. */
		store_close(c->st);
		c->st = NULL;
		if (made & MADE_STORE) {
			unlink(home_path(c, "store/data.mdb"));
			unlink(home_path(c, "store/lock.mdb"));
			rmdir(home_path(c, "store"));
		}
		if (made & MADE_CONF)
			unlink(home_path(c, "kith.conf"));
		if (made & MADE_KEY)
			unlink(home_path(c, "key"));
		if (made & MADE_HOME)
			rmdir(c->home);	/* only if empty */
	}
	record_free(charter);
	body_free(b);
	free(enc);
	return rc;
}

int
cmd_id(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] id\n\n"
	    "Print this node's public key (64 hex digits), for an admin to add.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	char hex[2 * KITH_KEY_LEN + 1];
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 1, 1)) != 0)
		return rc;
	kith_hex(hex, kcrypto_key_public(c->key), KITH_KEY_LEN);
	printf("%s\n", hex);
	return 0;
}

int
cmd_network(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] network charter "
	    "> FILE\n\n"
	    "Write the network's charter record, and the member and revoke\n"
	    "records that say who belongs to it, as a records file, to stdout.\n"
	    "Another organisation joins with: kith init --join FILE --name ORG\n";
	static const struct opt spec[] = { { NULL, 0 } };
	struct args a;
	FILE *f;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1 || strcmp(a.pos[0], "charter") != 0)
		return fail(c, EX_USAGE, "expected 'network charter' "
		    "(see --help)");
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((f = open_out(c, "-", &rc)) == NULL)
		return rc;
	if ((rc = member_charter(&c->act, f)) != 0) {
		fclose(f);
		return fail(c, rc == KITH_EIO ? EX_IOERR : exit_for(rc), "%s",
		    c->act.why);
	}
	return close_out(c, f, "-");
}

int
cmd_member(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] member add KEY "
	    "--org NAME --role ROLE\n"
	    "       kith [--home DIR] member admit REPLY\n"
	    "       kith [--home DIR] member revoke KEY\n"
	    "       kith [--home DIR] member list [--json]\n\n"
	    "Admit a node's key to the network with a role, revoke it, or list\n"
	    "the members.  KEY is what `kith id` prints on that node.  Roles:\n"
	    "  admin     admits and revokes keys, may erase any entity\n"
	    "  member    writes requests, volunteers and referrals\n"
	    "  pcn       a primary care network: receives the referrals\n"
	    "            addressed to it and answers them\n"
	    "  observer  reads the public feed; its writes are never applied\n"
	    "Only an admin may add or revoke.  Adding a member again with a\n"
	    "more privileged role raises it; roles never go down but by\n"
	    "revocation.  A revocation names the last record of the key\n"
	    "that this node holds: that record and those before it keep\n"
	    "applying, whatever their timestamps, and nothing the key signs\n"
	    "afterwards ever applies; sync with its node first if you can.  A\n"
	    "revoked key cannot be admitted again (admit the node's new key\n"
	    "instead).  Records a key wrote before it was admitted apply once\n"
	    "it is.  The last admin cannot be revoked.  An organisation's name\n"
	    "is its own: no two members in good standing share one.\n"
	    "admit takes the reply line a newcomer's kith join printed to an\n"
	    "invite this node wrote (kith invite), and admits its key with the\n"
	    "name and role of the invite: no key copied by hand.\n";
	static const struct opt spec[] = { { "org", 1 }, { "role", 1 },
		{ "json", 0 }, { NULL, 0 } };
	struct roster *r = NULL;
	struct view *v = NULL;
	uint8_t key[KITH_KEY_LEN];
	const char *sub, *org, *role;
	struct args a;
	size_t i;
	int rc;

	if ((rc = parse_args(c, spec, 2, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	sub = a.npos > 0 ? a.pos[0] : "";
	org = arg(spec, &a, "org");
	role = arg(spec, &a, "role");
	if (strcmp(sub, "list") == 0) {
		if (a.npos != 1 || org != NULL || role != NULL)
			return fail(c, EX_USAGE, "list takes only --json");
		if ((rc = open_home(c, 0, 1)) != 0)
			return rc;
		if ((rc = store_roster(c->st, &r)) != 0)
			return fail(c, exit_for(rc), "%s", kith_strerror(rc));
		if ((v = view_new(arg(spec, &a, "json") ? VIEW_JSON :
		    VIEW_TEXT, stdout, 0, 0)) == NULL)
			rc = KITH_ENOMEM;
		for (i = 0; rc == 0 && i < roster_size(r); i++)
			if (roster_get(r, i)->role != ROLE_NONE ||
			    roster_get(r, i)->revoked != 0)
				rc = view_member(v, roster_get(r, i));
		if (rc == 0)
			rc = view_finish(v);
		view_free(v);
		roster_free(r);
		return rc == 0 ? 0 : fail(c, exit_for(rc), "%s",
		    kith_strerror(rc));
	}
	if (strcmp(sub, "admit") == 0) {
		if (a.npos != 2 || org != NULL || role != NULL ||
		    arg(spec, &a, "json") != NULL)
			return fail(c, EX_USAGE, "admit takes the reply line "
			    "only (see --help)");
		if ((rc = open_home(c, 1, 0)) != 0)
			return rc;
		return acted(c, member_admit(&c->act, a.pos[1]), 0);
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "revoke") != 0)
		return fail(c, EX_USAGE, "expected add, admit, revoke or list "
		    "(see --help)");
	if (a.npos != 2)
		return fail(c, EX_USAGE, "%s needs the node's key (see --help)",
		    sub);
	if (arg(spec, &a, "json") != NULL)
		return fail(c, EX_USAGE, "--json is for list");
	if (strcmp(sub, "add") == 0 && (org == NULL || role == NULL))
		return fail(c, EX_USAGE, "add needs --org NAME and --role ROLE");
	if (strcmp(sub, "revoke") == 0 && (org != NULL || role != NULL))
		return fail(c, EX_USAGE, "revoke takes only the key");
	if ((rc = member_parse_key(&c->act, a.pos[1], key)) != 0)
		return refused(c, rc);
	if ((rc = open_home(c, 1, 0)) != 0)
		return rc;
	return acted(c, strcmp(sub, "add") == 0 ?
	    member_add(&c->act, key, org, role) :
	    member_revoke(&c->act, key), 0);
}

static int
held_one(void *arg, const struct record *rec, int why)
{

	return view_held(arg, rec, why);
}

int
cmd_quarantine(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] quarantine "
	    "[--json]\n\n"
	    "Records this node holds but does not apply, and why: written by\n"
	    "keys that are not members (yet), past what their author's\n"
	    "revocation accepts, at or after a fork of their author's chain,\n"
	    "by observers, or into an entity whose first record has not\n"
	    "arrived.  A non-member's records apply as soon as an admin admits\n"
	    "its key, and an entity's as soon as its first record arrives.\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	struct view *v;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((v = view_new(a.val[0] ? VIEW_JSON : VIEW_TEXT, stdout, 0,
	    0)) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	if ((rc = store_quarantine(c->st, held_one, v)) == 0)
		rc = view_finish(v);
	view_free(v);
	return rc == 0 ? 0 : fail(c, exit_for(rc), "%s", kith_strerror(rc));
}

int
cmd_invite(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] invite --org NAME "
	    "[--role ROLE] [--peer KEY@ENDPOINT]\n"
	    "           [--days N]\n\n"
	    "Invite an organisation to the network (admins only).  Prints one\n"
	    "line, kith-invite:..., to send it (by email, a chat, a USB\n"
	    "stick); on its laptop it runs\n"
	    "  kith join 'kith-invite:...'\n"
	    "which makes its node and prints a reply line, kith-reply:..., to\n"
	    "send back; here\n"
	    "  kith member admit 'kith-reply:...'\n"
	    "admits it with the name and role this invite gave.  No key is\n"
	    "copied by hand, and neither line can change the name or role.\n"
	    "The invite carries the network's charter and members and the\n"
	    "address its node syncs with: --peer, else this node's key at its\n"
	    "listen address (kith.conf [sync] listen).  It holds no secret,\n"
	    "but any node with it may ask to join: it expires after --days\n"
	    "(default 7) and admits one organisation.  ROLE: member (the\n"
	    "default), pcn, observer or admin.\n";
	static const struct opt spec[] = { { "org", 1 }, { "role", 1 },
		{ "peer", 1 }, { "days", 1 }, { NULL, 0 } };
	char peer[INVITE_PEER_MAX + 1], hex[2 * KITH_KEY_LEN + 1], *line = NULL;
	uint8_t key[KITH_KEY_LEN];
	const char *org, *v;
	char ep[CONFIG_ENDPOINT_MAX + 1], *end;
	long days = 7;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((org = arg(spec, &a, "org")) == NULL)
		return fail(c, EX_USAGE, "--org NAME: the name of the "
		    "organisation invited");
	if ((v = arg(spec, &a, "days")) != NULL &&
	    ((days = strtol(v, &end, 10)) < 1 || days > 90 || *end != '\0' ||
	    end == v))
		return fail(c, EX_USAGE, "--days: a whole number from 1 to 90");
	if ((v = arg(spec, &a, "peer")) != NULL &&
	    (rc = peer_arg(c, v, key, ep)) != 0)
		return rc;
	if ((rc = open_home(c, 1, 1)) != 0)
		return rc;
	if (v != NULL)
		snprintf(peer, sizeof(peer), "%s", v);
	else if (c->cfg.listen[0] != '\0') {
		kith_hex(hex, kcrypto_key_public(c->key), KITH_KEY_LEN);
		snprintf(peer, sizeof(peer), "%s@%s", hex, c->cfg.listen);
	} else
		peer[0] = '\0';
	rc = member_invite(&c->act, org, arg(spec, &a, "role") ?
	    arg(spec, &a, "role") : "member", peer, (int)days, &line);
	if (rc != 0)
		return refused(c, rc);
	printf("%s\n", line);
	if (strstr(peer, "@tcp://127.") != NULL)
		fprintf(stderr, "kith: note: the invite says to sync with %s, "
		    "which only this machine can reach; give --peer "
		    "KEY@tcp://ADDRESS:PORT with an address the newcomer can "
		    "reach\n", peer);
	free(line);
	return 0;
}

/*
 * Add "peer = ${peer}" to the [sync] section of the home's kith.conf, so
 * that kithd syncs with the node that invited this one.
 */
static int
add_peer(struct ctx *c, const char *peer)
{
	char tmp[4300], line[1024];
	FILE *in, *out;
	int done = 0, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s/kith.conf.new", c->home);
	if ((in = fopen(home_path(c, "kith.conf"), "r")) == NULL)
		return KITH_EIO;
	if ((out = fopen(tmp, "w")) == NULL) {
		fclose(in);
		return KITH_EIO;
	}
	while (fgets(line, sizeof(line), in) != NULL) {
		fputs(line, out);
		if (!done && strncmp(line, "[sync]", 6) == 0) {
			fprintf(out, "# The node that invited this one.\n"
			    "peer = %s\n", peer);
			done = 1;
		}
	}
	if (!done)
		fprintf(out, "[sync]\npeer = %s\n", peer);
	if (ferror(in) || fclose(out) != 0)
		rc = KITH_EIO;
	fclose(in);
	if (rc == 0 && rename(tmp, c->path) != 0)
		rc = KITH_EIO;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

int
cmd_join(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] join INVITE\n\n"
	    "Make this node, in a new home, a member of the network that\n"
	    "INVITE (the line kith invite printed on an admin's node, or a file\n"
	    "holding it) invites it to, under the name the invite gives.  It\n"
	    "prints the node's details and a reply line, kith-reply:..., to\n"
	    "send back to the admin, who runs kith member admit with it.\n"
	    "Until then this node may write, but no other node applies its\n"
	    "changes.  kith.conf gets the inviting node as its peer.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	char tmp[] = "/tmp/kith-invite.XXXXXX", *line = NULL, buf[8192];
	char *text = NULL;
	struct invite inv;
	struct args a;
	size_t len = 0;
	FILE *f;
	int rc, fd;

	memset(&inv, 0, sizeof(inv));
	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the invite line (see --help)");
	text = (char *)a.pos[0];
	if (strncmp(text, "kith-invite:", 12) != 0) {
		/* A file holding the line. */
		if ((f = fopen(a.pos[0], "r")) == NULL)
			return fail(c, EX_USAGE, "'%.40s' is neither an invite "
			    "line (kith-invite:...) nor a file", a.pos[0]);
		text = NULL;
		while ((rc = (int)fread(buf, 1, sizeof(buf), f)) > 0 &&
		    len < INVITE_TEXT_MAX) {
			char *more = realloc(text, len + (size_t)rc + 1);

			if (more == NULL)
				break;
			text = more;
			memcpy(text + len, buf, (size_t)rc);
			len += (size_t)rc;
			text[len] = '\0';
		}
		fclose(f);
		if (text == NULL)
			return fail(c, EX_DATAERR, "%s holds no invite",
			    a.pos[0]);
	}
	rc = invite_parse(text, &inv);
	if (text != a.pos[0])
		free(text);
	if (rc != 0) {
		rc = fail(c, EX_DATAERR, "that is not a whole invite%s: ask "
		    "for it again, in one line", rc == KITH_EBADSIG ? " (its "
		    "signature does not verify)" : "");
		goto out;
	}
	if (inv.expires < hlc_wall_ms()) {
		rc = fail(c, EX_DATAERR, "the invite has expired: ask the "
		    "admin for a new one (kith invite)");
		goto out;
	}
	/* init --join from the charter the invite carries. */
	if ((fd = mkstemp(tmp)) < 0 || write(fd, inv.charter, inv.clen) !=
	    (ssize_t)inv.clen || close(fd) != 0) {
		rc = fail(c, EX_CANTCREAT, "cannot write %s: %s", tmp,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	{
		char *init_argv[] = { "--join", tmp, "--name", inv.org, NULL };

		c->cmd = "join";
		rc = cmd_init(c, 4, init_argv);
	}
	unlink(tmp);
	if (rc != 0)
		goto out;
	if (inv.peer[0] != '\0' && add_peer(c, inv.peer) != 0)
		fprintf(stderr, "kith: join: could not add the peer to %s; "
		    "add it by hand: peer = %s\n", home_path(c, "kith.conf"),
		    inv.peer);
	if ((rc = invite_reply(&inv, c->key, &line)) != 0) {
		rc = fail(c, EX_SOFTWARE, "%s", kith_strerror(rc));
		goto out;
	}
	printf("invited as: %s (%s)\n", inv.org, roster_role_name(inv.role));
	if (inv.peer[0] != '\0')
		printf("peer: %s\n", inv.peer);
	printf("\nSend this line back to the admin, who runs kith member "
	    "admit with it:\n%s\n", line);
out:
	free(line);
	invite_clear(&inv);
	return rc;
}
