/*
 * kith: the command-line tool.  It works directly on the node's store, with
 * or without a daemon running, which is what offline-first means.
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

#include "body.h"
#include "clocks.h"
#include "config.h"
#include "doctor.h"
#include "fhir.h"
#include "hlc.h"
#include "kcrypto.h"
#include "kith.h"
#include "pagecheck.h"
#include "recfile.h"
#include "record.h"
#include "roster.h"
#include "seal.h"
#include "state.h"
#include "store.h"
#include "sync.h"
#include "syncmsg.h"
#include "transport.h"
#include "view.h"

/* Exit codes, from sysexits(3); see README.md. */
#define EX_OK		0
#define EX_BAD		1	/* verify found damage */
#define EX_USAGE	64
#define EX_DATAERR	65
#define EX_NOINPUT	66
#define EX_SOFTWARE	70
#define EX_CANTCREAT	73
#define EX_IOERR	74
#define EX_TEMPFAIL	75	/* try again: kithd was asked to do it */
#define EX_UNAVAILABLE	69
#define EX_PROTOCOL	76
#define EX_TEMPFAIL	75
#define EX_NOPERM	77
#define EX_CONFIG	78

#define HELP		(-1)	/* parse_args: --help was given */
#define MAX_OPTS	24
#define MAX_POS		2

struct ctx {
	char home[4096];
	char path[4200];	/* scratch for paths under home */
	const char *cmd;	/* "request add", for messages */
	struct config cfg;
	struct store *st;
	struct kcrypto_key *key;
	uint64_t expiry;	/* --retain-until for the next write, or 0 */
};

/* A command-line option: its name without "--", and whether it takes a value. */
struct opt {
	const char *name;
	int arg;
};

struct args {
	const char *val[MAX_OPTS];	/* by index into the spec; NULL if unset */
	const char *pos[MAX_POS];
	int npos;
};

static int
fail(const struct ctx *c, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kith: %s%s", c->cmd ? c->cmd : "", c->cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* Map a library error to an exit code. */
static int
exit_for(int rc)
{

	switch (rc) {
	case KITH_ENOTFOUND:
		return EX_NOINPUT;
	case KITH_EINVAL:
	case KITH_ERANGE:
	case KITH_ETOOBIG:
		return EX_USAGE;
	case KITH_ENOMEM:
		return EX_SOFTWARE;
	case KITH_ETIMEDOUT:
		return EX_UNAVAILABLE;
	case KITH_EPROTO:
	case KITH_EPEER:
	case KITH_ENETWORK:
		return EX_PROTOCOL;
	case KITH_EDENIED:
		return EX_NOPERM;
	}
	return EX_IOERR;
}

/*
 * Parse ${argv} against ${spec} (NULL-terminated): "--name value",
 * "--name=value", flags, and up to ${maxpos} positional arguments.
 * Return 0, HELP, or EX_USAGE after a message.
 */
static int
parse_args(const struct ctx *c, const struct opt *spec, int maxpos, int argc,
    char **argv, struct args *a)
{
	const char *name, *eq;
	size_t len;
	int i, k;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return HELP;
		if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0') {
			if (a->npos >= maxpos)
				return fail(c, EX_USAGE, "unexpected argument "
				    "'%s' (see --help)", argv[i]);
			a->pos[a->npos++] = argv[i];
			continue;
		}
		name = argv[i] + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		for (k = 0; spec[k].name != NULL; k++)
			if (strlen(spec[k].name) == len &&
			    strncmp(spec[k].name, name, len) == 0)
				break;
		if (spec[k].name == NULL)
			return fail(c, EX_USAGE, "unknown option --%.*s "
			    "(see --help)", (int)len, name);
		if (!spec[k].arg) {
			if (eq != NULL)
				return fail(c, EX_USAGE, "--%s takes no value",
				    spec[k].name);
			a->val[k] = "";
		} else if (eq != NULL)
			a->val[k] = eq + 1;
		else if (i + 1 < argc)
			a->val[k] = argv[++i];
		else
			return fail(c, EX_USAGE, "--%s needs a value",
			    spec[k].name);
	}
	return 0;
}

/* The value of option ${name} in ${a}, parsed against ${spec}, or NULL. */
static const char *
arg(const struct opt *spec, const struct args *a, const char *name)
{
	int k;

	for (k = 0; spec[k].name != NULL; k++)
		if (strcmp(spec[k].name, name) == 0)
			return a->val[k];
	return NULL;
}

/* ---- Validation of user input. ---- */

static const char *const categories[] = { "food", "prescription", "check-in",
	"befriending", "transport", "advice", "other", NULL };
static const char *const dbs_levels[] = { "none", "basic", "standard",
	"enhanced", NULL };
static const char *const request_statuses[] = { "open", "claimed",
	"fulfilled", "cancelled", NULL };

static int
one_of(const char *s, const char *const *set)
{

	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/* A UK postcode district: A9, A99, A9A, AA9, AA99, AA9A (upper-cased). */
static int
district_ok(const char *s, size_t n, char *out)
{
	size_t i, letters = 0;

	if (n < 2 || n > 4)
		return 0;
	for (i = 0; i < n; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[n] = '\0';
	while (letters < n && isupper((unsigned char)out[letters]))
		letters++;
	if (letters < 1 || letters > 2 || letters == n ||
	    !isdigit((unsigned char)out[letters]))
		return 0;
	for (i = letters + 1; i < n; i++) {
		/* The last character may be a digit or (A9A, AA9A) a letter. */
		if (i != n - 1 || !isalnum((unsigned char)out[i]))
			return 0;
		if (i == letters + 1 && isdigit((unsigned char)out[i]))
			continue;
		if (i == letters + 1 && isupper((unsigned char)out[i]))
			continue;
		return 0;
	}
	return 1;
}

static int
date_ok(const char *s)
{
	static const int days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, m, d, n = 0;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
	    n != 10 || s[4] != '-' || s[7] != '-' || !isdigit((unsigned char)s[5]) ||
	    !isdigit((unsigned char)s[8]))
		return 0;
	if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return 0;
	/* 29 February only in leap years. */
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	return 1;
}

/* A comma-separated list whose items each pass ${item}; normalised. */
static int
list_ok(const char *s, char *out, size_t outlen,
    int (*item)(const char *, size_t, char *))
{
	char buf[64];
	const char *p = s, *comma;
	size_t n, used = 0;

	if (*s == '\0')
		return 0;
	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n >= sizeof(buf) || !item(p, n, buf) ||
		    used + strlen(buf) + 2 > outlen)
			return 0;
		used += (size_t)snprintf(out + used, outlen - used, "%s%s",
		    used ? "," : "", buf);
		if (comma == NULL)
			return 1;
		p = comma + 1;
	}
}

/* A language code: 2 or 3 letters (ISO 639), lower-cased. */
static int
lang_ok(const char *s, size_t n, char *out)
{
	size_t i;

	if (n < 2 || n > 3)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalpha((unsigned char)s[i]))
			return 0;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[n] = '\0';
	return 1;
}

/* A skill tag: [a-z0-9-], lower-cased. */
static int
skill_ok(const char *s, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[n] = '\0';
	return n > 0;
}

/* Free text: non-empty UTF-8 without control characters, within the cap. */
static int
text_ok(const char *s)
{
	const unsigned char *p;

	if (*s == '\0' || strlen(s) > KITH_VALUE_MAX ||
	    !codec_utf8_valid(s, strlen(s)))
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int
phone_ok(const char *s)
{
	size_t digits = 0;

	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			digits++;
		else if (!strchr(" +-()", *s))
			return 0;
	}
	return digits >= 6 && digits <= 15;
}

/* How an option becomes a field. */
enum check { C_TEXT, C_CATEGORY, C_DISTRICT, C_DISTRICTS, C_URGENCY, C_DATE,
	C_LANGS, C_SKILLS, C_DBS, C_PHONE };

struct fdef {
	const char *opt;	/* option name */
	const char *field;	/* body field */
	int personal;
	enum check check;
	const char *hint;	/* what a valid value looks like */
};

static const struct fdef request_fields[] = {
	{ "category", "category", 0, C_CATEGORY, "one of food, prescription, "
	    "check-in, befriending, transport, advice, other" },
	{ "area", "area", 0, C_DISTRICT, "a UK postcode district such as TW3, "
	    "N17 or SW1A" },
	{ "urgency", "urgency", 0, C_URGENCY, "1, 2 or 3" },
	{ "needed-by", "needed_by", 0, C_DATE, "a date as YYYY-MM-DD" },
	{ "lang", "languages", 0, C_LANGS, "language codes such as pl,ps" },
	{ "access-needs", "access_needs", 0, C_TEXT, "text" },
	{ "name", "name", 1, C_TEXT, "text" },
	{ "phone", "phone", 1, C_PHONE, "a phone number" },
	{ "address", "address", 1, C_TEXT, "text" },
	{ "notes", "notes", 1, C_TEXT, "text" },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct fdef volunteer_fields[] = {
	{ "name", "name", 1, C_TEXT, "text" },
	{ "area", "areas", 0, C_DISTRICTS, "UK postcode districts such as "
	    "TW3,N17" },
	{ "skills", "skills", 0, C_SKILLS, "tags such as driving,cooking" },
	{ "lang", "languages", 0, C_LANGS, "language codes such as pl,ps" },
	{ "availability", "availability", 0, C_TEXT, "text" },
	{ "dbs", "dbs", 0, C_DBS, "one of none, basic, standard, enhanced" },
	{ "dbs-checked", "dbs_checked", 0, C_DATE, "a date as YYYY-MM-DD" },
	{ NULL, NULL, 0, 0, NULL },
};

static int
district_item(const char *s, size_t n, char *out)
{

	return district_ok(s, n, out);
}

/* Check ${in} for field ${f} and set it in ${b}; EX_USAGE after a message. */
static int
set_field(const struct ctx *c, struct body *b, const struct fdef *f,
    const char *in)
{
	char norm[KITH_VALUE_MAX + 1];
	int ok, rc;

	switch (f->check) {
	case C_CATEGORY:
		ok = one_of(in, categories);
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	case C_DBS:
		ok = one_of(in, dbs_levels);
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	case C_DISTRICT:
		ok = district_ok(in, strlen(in), norm);
		break;
	case C_DISTRICTS:
		ok = list_ok(in, norm, sizeof(norm), district_item);
		break;
	case C_LANGS:
		ok = list_ok(in, norm, sizeof(norm), lang_ok);
		break;
	case C_SKILLS:
		ok = list_ok(in, norm, sizeof(norm), skill_ok);
		break;
	case C_URGENCY:
		ok = strlen(in) == 1 && in[0] >= '1' && in[0] <= '3';
		if (ok)
			return body_set_int(b, f->field, 0, in[0] - '0') == 0 ?
			    0 : fail(c, EX_SOFTWARE, "out of memory");
		break;
	case C_DATE:
		ok = date_ok(in);
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	case C_PHONE:
		ok = phone_ok(in);
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	case C_TEXT:
	default:
		ok = text_ok(in);
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	}
	if (!ok)
		return fail(c, EX_USAGE, "invalid --%s '%s': expected %s",
		    f->opt, in, f->hint);
	if ((rc = body_set_str(b, f->field, f->personal, norm)) != 0)
		return fail(c, exit_for(rc), "--%s: %s", f->opt,
		    kith_strerror(rc));
	return 0;
}

/*
 * Set every field option present in ${a} (parsed against ${spec}) on ${b}.
 * ${*nset} counts them.
 */
static int
set_fields(const struct ctx *c, struct body *b, const struct fdef *defs,
    const struct opt *spec, const struct args *a, int *nset)
{
	const char *v;
	int rc;

	*nset = 0;
	for (; defs->opt != NULL; defs++) {
		if ((v = arg(spec, a, defs->opt)) == NULL)
			continue;
		if ((rc = set_field(c, b, defs, v)) != 0)
			return rc;
		(*nset)++;
	}
	return 0;
}

/* ---- The home and the store. ---- */

static const char *
home_path(struct ctx *c, const char *leaf)
{

	snprintf(c->path, sizeof(c->path), "%s/%s", c->home, leaf);
	return c->path;
}

/*
 * Open the store (and the key, if ${need_key}); an exit code on failure.
 * ${rdonly}: 0 read-write, 1 read-only, 2 read-write from several threads,
 * 3 read-write in an older format (kith upgrade).
 */
static int
open_home(struct ctx *c, int need_key, int rdonly)
{
	char err[512];
	int rc;

	config_defaults(&c->cfg);
	rc = config_load(home_path(c, "kith.conf"), &c->cfg, err, sizeof(err));
	if (rc == KITH_EINVAL)
		return fail(c, EX_CONFIG, "%s", err);
	/* A home without kith.conf runs on the built-in defaults. */
	c->st = store_open(home_path(c, "store"), rdonly == 1 ? STORE_RDONLY :
	    rdonly == 2 ? STORE_SHARED : rdonly == 3 ? STORE_UPGRADE : 0,
	    c->cfg.max_size_mb << 20, &rc);
	if (c->st == NULL) {
		if (rc == KITH_ENOTFOUND)
			return fail(c, EX_NOINPUT, "no kith store in %s; "
			    "create one with: kith --home %s init --name ORG",
			    c->home, c->home);
		if (rc == KITH_EVERSION)
			return fail(c, EX_DATAERR, "the store in %s was "
			    "written by another version of kith; this one "
			    "reads protocol %d stores only, and records of "
			    "protocol 1 cannot be carried over: start again "
			    "with kith init in a new home", c->home,
			    KITH_PROTO_VERSION);
		if (rc == KITH_EUPGRADE)
			return fail(c, EX_DATAERR, "the store in %s is in the "
			    "format of an older kith; bring it to this one's "
			    "with: kith --home %s upgrade (see what it would do "
			    "first with --dry-run)", c->home, c->home);
		if (rc == KITH_ECORRUPT)
			return fail(c, EX_IOERR, "the store in %s is damaged "
			    "(corrupt data) and was not opened: see where with "
			    "kith --home %s verify", c->home, c->home);
		return fail(c, exit_for(rc), "cannot open the store in %s: %s",
		    c->home, kith_strerror(rc));
	}
	if (need_key &&
	    (c->key = kcrypto_key_load(home_path(c, "key"), &rc)) == NULL)
		return fail(c, rc == KITH_ENOTFOUND ? EX_NOINPUT : EX_IOERR,
		    "cannot read the node key %s: %s", c->path,
		    kith_strerror(rc));
	return 0;
}

/*
 * Resolve an id argument (32 hex digits or a unique prefix of at least 6) to
 * an entity of ${kind} (0: any), and load its state into ${*s} if not NULL.
 */
static int
find_entity(struct ctx *c, const char *hex, uint64_t kind,
    uint8_t id[KITH_ENTITY_LEN], struct state **s)
{
	uint8_t prefix[KITH_ENTITY_LEN] = { 0 };
	struct state *tmp = NULL;
	size_t i, n = strlen(hex);
	int rc;

	if (n < 6 || n > 2 * KITH_ENTITY_LEN)
		return fail(c, EX_USAGE, "'%s' is not an id: give 32 hex "
		    "digits, or at least the first 6", hex);
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)hex[i]))
			return fail(c, EX_USAGE, "'%s' is not an id: it must "
			    "be hex digits", hex);
		prefix[i / 2] |= (uint8_t)((i % 2 ? 1 : 16) *
		    (isdigit((unsigned char)hex[i]) ? hex[i] - '0' :
		    tolower((unsigned char)hex[i]) - 'a' + 10));
	}
	rc = store_find_entity(c->st, prefix, n, id);
	if (rc == KITH_EEXIST)
		return fail(c, EX_USAGE, "id prefix '%s' matches more than one "
		    "entity; give more digits", hex);
	if (rc == 0)
		rc = store_state(c->st, id, &tmp);
	if (rc == KITH_ENOTFOUND ||
	    (rc == 0 && kind != 0 && state_kind(tmp) != kind)) {
		state_free(tmp);
		return fail(c, EX_NOINPUT, "no %s with id %s",
		    kind ? kith_kind_name(kind) : "entity", hex);
	}
	if (rc != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if (s != NULL)
		*s = tmp;
	else
		state_free(tmp);
	return 0;
}

/* Sign and store ${b} as a change to ${entity}; print the id wanted. */
/*
 * A node whose key is not a member yet stores its changes, but no node
 * applies them until an admin admits the key: say so, and how.
 */
static void
warn_if_held(struct ctx *c)
{
	const struct roster_entry *e;
	struct roster *r = NULL;
	const uint8_t *me = kcrypto_key_public(c->key);
	char hex[2 * KITH_KEY_LEN + 1];
	int role;

	if (store_roster(c->st, &r) != 0)
		return;
	role = roster_current(r, me);
	e = roster_find(r, me);
	kith_hex(hex, me, KITH_KEY_LEN);
	if (role != ROLE_NONE && role != ROLE_OBSERVER)
		;	/* it applies */
	else if (e == NULL || (e->role == ROLE_NONE && e->revoked == 0))
		fprintf(stderr, "kith: note: this node's key is not a member "
		    "of the network yet; the change is held in quarantine "
		    "until an admin runs:\n  kith member add %s --org ORG "
		    "--role member\n", hex);
	else if (e->revoked != 0)
		fprintf(stderr, "kith: note: this node's key is revoked; no "
		    "node will apply the change\n");
	else if (e->fork != 0)
		fprintf(stderr, "kith: note: this node's key has signed two "
		    "records with sequence number %llu (was the key copied, "
		    "or the store restored from a backup?); no node applies "
		    "its records from there on, until an admin revokes it "
		    "naming the last record to keep\n",
		    (unsigned long long)e->fork);
	else
		fprintf(stderr, "kith: note: this node's key is an "
		    "observer's; no node will apply the change\n");
	roster_free(r);
}

/*
 * A change stamped well ahead of the peers' clocks (or, with none
 * measured, of the system clock): peers hold it, or it wins over edits
 * made meanwhile.  Say so; the change is stored all the same.
 */
static void
warn_if_ahead(struct ctx *c, uint64_t stamped)
{
	struct clocks_view v;
	char text[512];

	if (clocks_view(c->st, hlc_wall_ms(), &v) == 0 &&
	    clocks_write_warning(&v, stamped, text, sizeof(text)))
		fprintf(stderr, "kith: warning: %s\n", text);
}

/*
 * Open ${entity}'s current sealed section (the record its state's "sealed"
 * field names) with this node's key: ${*out} gets a body holding the
 * personal fields, and ${rcpt}/${*n} the section's recipients.  Return 0,
 * KITH_ENOTFOUND if there is none (or its body was erased), KITH_ESEALED if
 * this node may not read it, or another error.
 */
static int
open_current(struct ctx *c, const struct state *s, struct body **out,
    uint8_t (*rcpt)[32], size_t *n)
{
	uint8_t id[KITH_ID_LEN], pk[32], sk[32];
	const uint8_t *p, *sp;
	struct record *rec = NULL;
	struct seal *seal = NULL;
	char *hex = state_str(s, "sealed");
	size_t len, i;
	int rc;

	*out = NULL;
	*n = 0;
	if (hex == NULL || kith_unhex(id, KITH_ID_LEN, hex) != 0) {
		free(hex);
		return KITH_ENOTFOUND;
	}
	free(hex);
	if ((rc = store_get(c->st, id, &rec)) != 0)
		return rc;
	if ((p = record_body(rec, &len)) == NULL) {
		record_free(rec);
		return KITH_ENOTFOUND;
	}
	if ((rc = body_decode(p, len, out)) == 0 &&
	    (sp = body_sealed(*out, &len)) != NULL &&
	    (rc = seal_decode(sp, len, &seal)) == 0) {
		for (i = 0; i < seal_nrecipients(seal) && i < SEAL_RECIPIENTS_MAX;
		    i++)
			memcpy(rcpt[i], seal_recipient(seal, i), 32);
		*n = i;
		if ((rc = kcrypto_key_x25519(c->key, pk, sk)) == 0)
			rc = body_unseal(*out, state_entity(s), pk, sk);
		kcrypto_wipe(sk, sizeof(sk));
	}
	seal_free(seal);
	record_free(rec);
	if (rc != 0) {
		body_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Add ${pk} to the ${*n} recipients ${rcpt} unless it is there. */
static void
add_rcpt(uint8_t (*rcpt)[32], size_t *n, const uint8_t pk[32])
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (memcmp(rcpt[i], pk, 32) == 0)
			return;
	if (*n < SEAL_RECIPIENTS_MAX)
		memcpy(rcpt[(*n)++], pk, 32);
}

/*
 * Add to ${rcpt} the sealing keys of the organisations named, by their
 * ed25519 keys in hex, in the comma-separated list ${keys} (state field
 * "readers"); return 1 if ${me} is among them.
 */
static int
add_readers(uint8_t (*rcpt)[32], size_t *n, const char *keys,
    const uint8_t *me)
{
	char hex[2 * KITH_KEY_LEN + 1];
	uint8_t key[KITH_KEY_LEN], x[32];
	const char *p = keys;
	int mine = 0;

	while (p != NULL && strlen(p) >= 2 * KITH_KEY_LEN) {
		memcpy(hex, p, 2 * KITH_KEY_LEN);
		hex[2 * KITH_KEY_LEN] = '\0';
		if (kith_unhex(key, KITH_KEY_LEN, hex) == 0 &&
		    kcrypto_x25519_public(key, x) == 0) {
			add_rcpt(rcpt, n, x);
			mine |= memcmp(key, me, KITH_KEY_LEN) == 0;
		}
		p = strchr(p, ',');
		p = p != NULL ? p + 1 : NULL;
	}
	return mine;
}

/*
 * Seal ${b}'s personal fields, if it has any, for the organisations
 * entitled to the entity's personal data: its readers (its creator, a
 * referral's recipient, and whom they shared with, as its state says), or,
 * for a new entity, this node and ${to} (a referral's recipient, or NULL);
 * and ${with} (kith share, or NULL); ed25519 keys.  Never for whoever
 * sealed the section before: entitlement, not the last writer, decides.
 * Personal fields of the current section that ${b} does not set are
 * carried over, since a sealed section replaces the one before it whole.
 */
static int
seal_for(struct ctx *c, struct body *b, const uint8_t *entity,
    const uint8_t *to, const uint8_t *with)
{
	uint8_t rcpt[SEAL_RECIPIENTS_MAX][32], old[SEAL_RECIPIENTS_MAX][32];
	uint8_t x[32], sk[32];
	const struct body_field *f;
	struct body *cur = NULL;
	struct state *s = NULL;
	char *readers = NULL;
	size_t n = 0, nold = 0, i;
	int rc = 0, personal = 0;

	for (i = 0; i < body_nfields(b); i++)
		personal |= body_field(b, i)->personal;
	if (!personal && with == NULL)
		return 0;
	if (store_state(c->st, entity, &s) == 0) {
		readers = state_str(s, "readers");
		if (!add_readers(rcpt, &n, readers, kcrypto_key_public(c->key))) {
			rc = fail(c, EX_NOPERM, "cannot change the personal "
			    "fields: only the organisations entitled to them "
			    "(its creator, a referral's recipient, and those "
			    "they share with) may");
			goto out;
		}
		if ((rc = open_current(c, s, &cur, old, &nold)) != 0 &&
		    rc != KITH_ENOTFOUND) {
			rc = fail(c, rc == KITH_ESEALED ? EX_NOPERM :
			    exit_for(rc), "cannot change the personal fields: "
			    "%s", rc == KITH_ESEALED ? "they are sealed to "
			    "other organisations" : kith_strerror(rc));
			goto out;
		}
		rc = 0;
	} else {
		if ((rc = kcrypto_key_x25519(c->key, x, sk)) == 0)
			add_rcpt(rcpt, &n, x);
		kcrypto_wipe(sk, sizeof(sk));
		if (rc == 0 && to != NULL &&
		    (rc = kcrypto_x25519_public(to, x)) == 0)
			add_rcpt(rcpt, &n, x);
	}
	for (i = 0; rc == 0 && cur != NULL && i < body_nfields(cur); i++) {
		f = body_field(cur, i);
		if (f->personal && body_get(b, f->name) == NULL)
			rc = body_set(b, f->name, 1, &f->v);
	}
	if (rc == 0 && with != NULL &&
	    (rc = kcrypto_x25519_public(with, x)) == 0)
		add_rcpt(rcpt, &n, x);
	if (rc == 0)
		rc = body_seal(b, entity, (const uint8_t (*)[32])rcpt, n);
	if (rc != 0)
		rc = fail(c, exit_for(rc), "cannot seal the personal fields: "
		    "%s", kith_strerror(rc));
out:
	body_free(cur);
	state_free(s);
	free(readers);
	return rc;
}

/*
 * A new entity of ${kind} started by this node: a random nonce in
 * ${nonce} and the id derived from it, its network and this node's key.
 */
static int
new_entity(struct ctx *c, uint64_t kind, uint8_t entity[KITH_ENTITY_LEN],
    uint8_t nonce[KITH_NONCE_LEN])
{
	uint8_t net[KITH_NETWORK_LEN];
	int rc;

	if ((rc = store_network(c->st, net)) != 0)
		return fail(c, exit_for(rc), "no network: %s",
		    kith_strerror(rc));
	kcrypto_random(nonce, KITH_NONCE_LEN);
	record_entity_derive(net, kind, kcrypto_key_public(c->key), nonce,
	    entity);
	return 0;
}

/*
 * Sign and store a record of ${kind} in ${entity} with body ${b}, the
 * entity's genesis if ${nonce} is not NULL, addressed to the organisation
 * ${to} if not NULL; print its entity id if ${print_entity}, else its
 * record id.
 */
static int
write_to(struct ctx *c, uint64_t kind, const uint8_t *entity,
    const uint8_t *nonce, const uint8_t *to, struct body *b,
    int print_entity)
{
	struct store_draft d;
	char hex[2 * KITH_ID_LEN + 1];
	uint8_t *enc = NULL;
	size_t len;
	int rc;

	memset(&d, 0, sizeof(d));
	if ((rc = seal_for(c, b, entity, to, NULL)) != 0)
		return rc;
	if ((rc = body_encode(b, &enc, &len)) != 0)
		return fail(c, EX_SOFTWARE, "%s", kith_strerror(rc));
	if (to != NULL) {
		d.naudience = 1;
		memcpy(d.audience[0], to, KITH_KEY_LEN);
	}
	d.expiry = c->expiry;
	d.kind = kind;
	memcpy(d.entity, entity, KITH_ENTITY_LEN);
	d.nonce = nonce;
	d.body = enc;
	d.blen = len;
	rc = store_write(c->st, c->key, &d, 1);
	free(enc);
	if (rc == KITH_EBUSY && store_restoring(c->st))
		return fail(c, EX_TEMPFAIL, "this node is being restored from "
		    "its peers and takes no changes of its own until it has "
		    "caught up (else its key would sign records that fork its "
		    "own history): run kith --home %s restore, then try again",
		    c->home);
	if (rc == KITH_ETOOBIG)
		return fail(c, EX_USAGE, "the change is too large (the limit "
		    "is %d bytes)", KITH_BODY_MAX);
	if (rc == KITH_EFULL)
		return fail(c, EX_NOPERM, "that entity holds as many records "
		    "as others than its creator and admins may add (%d)",
		    KITH_ENTITY_MAX / 2);
	if (rc != 0)
		return fail(c, exit_for(rc), "cannot store the change: %s",
		    kith_strerror(rc));
	warn_if_held(c);
	warn_if_ahead(c, d.hlc);
	if (print_entity)
		kith_hex(hex, entity, KITH_ENTITY_LEN);
	else
		kith_hex(hex, d.id, KITH_ID_LEN);
	printf("%s\n", hex);
	return 0;
}

static int
write_body(struct ctx *c, uint64_t kind, const uint8_t *entity,
    struct body *b, int print_entity)
{

	return write_to(c, kind, entity, NULL, NULL, b, print_entity);
}

/* Start a new entity of ${kind} with body ${b}; print its id. */
static int
write_new(struct ctx *c, uint64_t kind, const uint8_t *to, struct body *b)
{
	uint8_t entity[KITH_ENTITY_LEN], nonce[KITH_NONCE_LEN];
	int rc;

	if ((rc = new_entity(c, kind, entity, nonce)) != 0)
		return rc;
	return write_to(c, kind, entity, nonce, to, b, 1);
}

/* ---- Commands. ---- */

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
"  member ...        add, revoke, list the network's member keys (admins)\n"
"  quarantine        records held back: their authors are not members\n"
"  request ...       add, update, claim, fulfil, cancel, list, show requests\n"
"  volunteer ...     add, update, list, show volunteers\n"
"  referral ...      send referrals to another organisation; answer them\n"
"  show ID           any entity, with the personal fields this node may read\n"
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
"1 verify found damage, 64 bad command line, 65 bad input data,\n"
"66 no such store/id/file, 69 peer unreachable, 73 cannot create,\n"
"74 store or I/O error (a full disk or store too), 75 try again: kithd\n"
"runs, was asked to do it, or a restore has not caught up, 76 peer broke\n"
"the protocol, 77 not permitted for this node's role, 78 bad config.\n"
"kith doctor: 0 all ok, 1 a warning, 2 a failure.\n";

static int
usage(const char *text)
{

	fputs(text, stdout);
	return EX_OK;
}

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

/* Entity ids gathered from store_states. */
struct ids {
	size_t n, cap;
	uint8_t (*id)[KITH_ENTITY_LEN];
};

static int
collect_entity(void *arg, const struct state *s)
{
	struct ids *ids = arg;
	uint8_t (*bigger)[KITH_ENTITY_LEN];

	if (ids->n == ids->cap) {
		if ((bigger = realloc(ids->id, (ids->cap * 2 + 16) *
		    sizeof(*bigger))) == NULL)
			return KITH_ENOMEM;
		ids->id = bigger;
		ids->cap = ids->cap * 2 + 16;
	}
	memcpy(ids->id[ids->n++], state_entity(s), KITH_ENTITY_LEN);
	return 0;
}

/* Append every record of every entity of ${kind} to the records file. */
static int
write_kind(struct ctx *c, FILE *f, uint64_t kind)
{
	struct ids ids = { 0, 0, NULL };
	struct record **recs;
	size_t i, k, n;
	int rc;

	if ((rc = store_states(c->st, kind, collect_entity, &ids)) != 0)
		goto out;
	for (i = 0; rc == 0 && i < ids.n; i++) {
		if ((rc = store_entity(c->st, ids.id[i], &recs, &n)) != 0)
			break;
		for (k = 0; rc == 0 && k < n; k++)
			if (recfile_write(f, recs[k]) != 0)
				rc = KITH_EIO;
		store_records_free(recs, n);
	}
out:
	free(ids.id);
	return rc;
}

static int
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
	if (!text_ok(name) || strlen(name) > 200 || !config_name_ok(name))
		return fail(c, EX_USAGE, "invalid --name: expected up to 200 "
		    "characters of text, with no blanks at either end and no "
		    "';' after a blank");
	if (join != NULL && netname != NULL)
		return fail(c, EX_USAGE, "--network-name cannot be used with "
		    "--join: the charter names the network");
	if (netname != NULL && (!text_ok(netname) || strlen(netname) > 200))
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

static int
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

/* Open ${path} for writing records: "-" is stdout, but not a terminal. */
static FILE *
open_out(struct ctx *c, const char *path, int *rc)
{
	FILE *f;

	if (strcmp(path, "-") == 0) {
		if (isatty(STDOUT_FILENO)) {
			*rc = fail(c, EX_USAGE, "records are binary; redirect "
			    "them to a file");
			return NULL;
		}
		return stdout;
	}
	if ((f = fopen(path, "wb")) == NULL)
		*rc = fail(c, EX_CANTCREAT, "%s: %s", path, strerror(errno));
	return f;
}

static int
close_out(struct ctx *c, FILE *f, const char *path)
{
	int bad;

	bad = fflush(f) != 0 || ferror(f) || (f != stdout &&
	    fsync(fileno(f)) != 0);
	if (f != stdout && fclose(f) != 0)
		bad = 1;
	if (bad) {
		if (f != stdout)
			unlink(path);
		return fail(c, EX_IOERR, "%s: write failed", path);
	}
	return 0;
}

static int
cmd_network(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] network charter "
	    "> FILE\n\n"
	    "Write the network's charter record, and the member and revoke\n"
	    "records that say who belongs to it, as a records file, to stdout.\n"
	    "Another organisation joins with: kith init --join FILE --name ORG\n";
	static const struct opt spec[] = { { NULL, 0 } };
	struct record *charter = NULL;
	uint8_t net[KITH_NETWORK_LEN];
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
	if ((rc = store_network(c->st, net)) != 0 ||
	    (rc = store_charter(c->st, &charter)) != 0)
		return fail(c, exit_for(rc), "no charter: %s",
		    kith_strerror(rc));
	if ((f = open_out(c, "-", &rc)) != NULL) {
		if (recfile_write_start(f, net) != 0 ||
		    recfile_write(f, charter) != 0 ||
		    (rc = write_kind(c, f, KITH_KIND_MEMBER)) != 0 ||
		    (rc = write_kind(c, f, KITH_KIND_REVOKE)) != 0)
			rc = fail(c, EX_IOERR, "write failed: %s",
			    kith_strerror(rc ? rc : KITH_EIO));
		else
			rc = close_out(c, f, "-");
	}
	record_free(charter);
	return rc;
}

/* Parse a 64-hex-digit ed25519 public key that can be used as one. */
static int
parse_key(struct ctx *c, const char *hex, uint8_t key[KITH_KEY_LEN])
{
	uint8_t x[32];

	if (strlen(hex) != 2 * KITH_KEY_LEN ||
	    kith_unhex(key, KITH_KEY_LEN, hex) != 0 ||
	    kcrypto_x25519_public(key, x) != 0)
		return fail(c, EX_USAGE, "'%s' is not a node key (64 hex "
		    "digits, as `kith id` prints)", hex);
	return 0;
}

/* This node must be an admin now; load the roster into ${*r}. */
static int
need_admin(struct ctx *c, struct roster **r)
{
	int rc, role;

	if ((rc = store_roster(c->st, r)) != 0)
		return fail(c, exit_for(rc), "no roster: %s",
		    kith_strerror(rc));
	role = roster_current(*r, kcrypto_key_public(c->key));
	if (role == ROLE_ADMIN)
		return 0;
	roster_free(*r);
	*r = NULL;
	return fail(c, EX_NOPERM, "only an admin can change membership; "
	    "this node is %s", role == ROLE_NONE ? "not a member" :
	    roster_role_name(role));
}

static int
cmd_member(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] member add KEY "
	    "--org NAME --role ROLE\n"
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
	    "it is.  The last admin cannot be revoked.\n";
	static const struct opt spec[] = { { "org", 1 }, { "role", 1 },
		{ "json", 0 }, { NULL, 0 } };
	const struct roster_entry *e;
	struct roster *r = NULL;
	struct body *b = NULL;
	struct view *v = NULL;
	uint8_t key[KITH_KEY_LEN], ent[KITH_ENTITY_LEN], last[KITH_ID_LEN];
	char hex[2 * KITH_ID_LEN + 1];
	const char *sub, *org, *role;
	uint64_t last_seq = 0;
	struct args a;
	size_t i, admins;
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
	if (strcmp(sub, "add") != 0 && strcmp(sub, "revoke") != 0)
		return fail(c, EX_USAGE, "expected add, revoke or list "
		    "(see --help)");
	if (a.npos != 2)
		return fail(c, EX_USAGE, "%s needs the node's key (see --help)",
		    sub);
	if (arg(spec, &a, "json") != NULL)
		return fail(c, EX_USAGE, "--json is for list");
	if ((rc = parse_key(c, a.pos[1], key)) != 0)
		return rc;
	if (strcmp(sub, "add") == 0) {
		if (org == NULL || role == NULL)
			return fail(c, EX_USAGE, "add needs --org NAME and "
			    "--role ROLE");
		if (org[0] == '\0' || strlen(org) > ROSTER_ORG_MAX ||
		    !text_ok(org))
			return fail(c, EX_USAGE, "--org: 1 to %d printable "
			    "characters", ROSTER_ORG_MAX);
		if (roster_role_parse(role) == ROLE_NONE)
			return fail(c, EX_USAGE, "--role: one of admin, member, "
			    "pcn, observer");
	} else if (org != NULL || role != NULL)
		return fail(c, EX_USAGE, "revoke takes only the key");
	if ((rc = open_home(c, 1, 0)) != 0 || (rc = need_admin(c, &r)) != 0)
		return rc;
	e = roster_find(r, key);
	for (i = 0, admins = 0; i < roster_size(r); i++)
		admins += roster_current(r, roster_get(r, i)->key) ==
		    ROLE_ADMIN && memcmp(roster_get(r, i)->key, key,
		    KITH_KEY_LEN) != 0;
	if (e != NULL && e->revoked != 0)
		rc = fail(c, EX_DATAERR, "that key was revoked; it cannot be "
		    "admitted or revoked again");
	else if (strcmp(sub, "add") == 0 && e != NULL &&
	    e->role != ROLE_NONE && roster_role_parse(role) >= e->role)
		rc = fail(c, EX_DATAERR, "that key is a member already, with "
		    "role %s; roles only rise (admin, member, pcn, observer): "
		    "to lower one, revoke the key and admit a new one (kith "
		    "init on that node, with a new home, makes one)",
		    roster_role_name(e->role));
	else if (strcmp(sub, "revoke") == 0 && (e == NULL ||
	    e->role == ROLE_NONE))
		rc = fail(c, EX_NOINPUT, "that key is not a member");
	else if (strcmp(sub, "revoke") == 0 && admins == 0)
		rc = fail(c, EX_NOPERM, "that is the network's last admin in "
		    "good standing: admit another admin first, or the network "
		    "would have none for good");
	roster_free(r);
	if (rc != 0)
		return rc;
	/*
	 * A revocation names the last record of the key that the network
	 * accepts: its last one this node holds (before a fork, if it
	 * forked).  Sync with its node first, so nothing it wrote is lost.
	 */
	if (strcmp(sub, "revoke") == 0 &&
	    (rc = store_author_last(c->st, key, &last_seq, last)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if ((b = body_new()) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	kith_hex(hex, last, KITH_ID_LEN);
	if ((rc = body_set_str(b, "key", 0, a.pos[1])) == 0 && org != NULL)
		rc = body_set_str(b, "org", 0, org);
	if (rc == 0 && role != NULL)
		rc = body_set_str(b, "role", 0, role);
	if (rc == 0 && last_seq > 0 &&
	    (rc = body_set_str(b, "last", 0, hex)) == 0)
		rc = body_set_int(b, "last_seq", 0, (int64_t)last_seq);
	roster_member_entity(key, ent);
	if (rc != 0)
		rc = fail(c, exit_for(rc), "%s", kith_strerror(rc));
	else
		rc = write_body(c, strcmp(sub, "add") == 0 ? KITH_KIND_MEMBER :
		    KITH_KIND_REVOKE, ent, b, 0);
	body_free(b);
	return rc;
}

static int
held_one(void *arg, const struct record *rec, int why)
{

	return view_held(arg, rec, why);
}

static int
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

/*
 * Is ${s} a valid NHS number: 10 digits (spaces allowed between groups)
 * whose last is the modulus-11 check digit of the first nine?  The digits
 * go to ${out}[11].
 */
static int
nhs_number_ok(const char *s, char out[11])
{
	size_t n = 0;
	int sum = 0, check;

	for (; *s != '\0'; s++) {
		if (*s == ' ')
			continue;
		if (*s < '0' || *s > '9' || n == 10)
			return 0;
		out[n++] = *s;
	}
	out[n] = '\0';
	if (n != 10)
		return 0;
	for (n = 0; n < 9; n++)
		sum += (out[n] - '0') * (int)(10 - n);
	check = 11 - sum % 11;
	if (check == 11)
		check = 0;
	return check != 10 && check == out[9] - '0';
}

/*
 * --retain-until YYYY-MM-DD: the personal data may be kept to the end of
 * that day (UTC), after which every node's daemon drops the bodies.
 */
static int
retain_until(struct ctx *c, const char *date)
{
	struct tm tm;

	if (date == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (!date_ok(date) || strptime(date, "%Y-%m-%d", &tm) == NULL)
		return fail(c, EX_USAGE, "invalid --retain-until '%s': "
		    "expected a date as YYYY-MM-DD", date);
	c->expiry = ((uint64_t)timegm(&tm) + 86400) * 1000;
	if (c->expiry <= hlc_wall_ms())
		return fail(c, EX_USAGE, "--retain-until %s is in the past",
		    date);
	return 0;
}

/* Consent bases a referral may rest on, with the law behind each. */
static const char *const consents[] = { "explicit", "care", "support-body",
	NULL };

/*
 * The organisation ${what} names: a member key (64 hex digits) or an
 * organisation name in the roster, which must be unique.
 */
static int
find_org(struct ctx *c, const char *what, uint8_t key[KITH_KEY_LEN])
{
	const struct roster_entry *e, *hit = NULL;
	struct roster *r = NULL;
	size_t i;
	int rc;

	if ((rc = store_roster(c->st, &r)) != 0)
		return fail(c, exit_for(rc), "no roster: %s",
		    kith_strerror(rc));
	for (i = 0; i < roster_size(r); i++) {
		e = roster_get(r, i);
		if (e->role == ROLE_NONE || e->revoked != 0)
			continue;
		if (strcmp(e->org, what) == 0 || (strlen(what) == 64 &&
		    kith_unhex(key, KITH_KEY_LEN, what) == 0 &&
		    memcmp(key, e->key, KITH_KEY_LEN) == 0)) {
			if (hit != NULL) {
				roster_free(r);
				return fail(c, EX_USAGE, "--to '%s': more than "
				    "one member has that name; give its key "
				    "(kith member list)", what);
			}
			hit = e;
		}
	}
	if (hit == NULL || hit->role == ROLE_OBSERVER)
		rc = fail(c, EX_NOINPUT, "--to '%s': no member organisation "
		    "by that name or key (kith member list)", what);
	else
		memcpy(key, hit->key, KITH_KEY_LEN);
	roster_free(r);
	return rc;
}

static const struct fdef referral_fields[] = {
	{ "category", "category", 0, C_TEXT, "text such as mental-health" },
	{ "consent", "consent", 0, C_TEXT, "explicit, care or support-body" },
	{ "reason", "reason", 1, C_TEXT, "text" },
	{ "snomed", "snomed", 1, C_TEXT, "a SNOMED CT concept id" },
	{ "consent-recorded-by", "consent_by", 1, C_TEXT, "text" },
	{ "name", "name", 1, C_TEXT, "text" },
	{ "dob", "dob", 1, C_DATE, "a date as YYYY-MM-DD" },
	{ "phone", "phone", 1, C_PHONE, "a phone number" },
	{ "nhs-number", "nhs_number", 1, C_TEXT, "10 digits" },
	{ NULL, NULL, 0, 0, NULL },
};

/* The referral's recipient and creator, from its genesis record. */
static int
referral_parties(struct ctx *c, const uint8_t *id, uint8_t to[KITH_KEY_LEN],
    uint8_t from[KITH_KEY_LEN])
{
	struct record **recs = NULL;
	const struct record *g;
	size_t n = 0;
	int rc;

	if ((rc = store_entity(c->st, id, &recs, &n)) != 0)
		return rc;
	g = record_genesis(recs, n);
	rc = g == NULL || record_header(g)->naudience == 0 ? KITH_ENOTFOUND :
	    0;
	if (rc == 0) {
		memcpy(to, record_header(g)->audience[0], KITH_KEY_LEN);
		memcpy(from, record_header(g)->author, KITH_KEY_LEN);
	}
	store_records_free(recs, n);
	return rc;
}

/* accept, decline or complete: only the recipient, only forward. */
static int
referral_move(struct ctx *c, const char *idarg, const char *to,
    const char *outcome)
{
	uint8_t id[KITH_ENTITY_LEN], rcpt[KITH_KEY_LEN], from[KITH_KEY_LEN];
	struct state *s = NULL;
	struct body *b = NULL;
	char *cur = NULL;
	int rc;

	if ((rc = find_entity(c, idarg, KITH_KIND_REFERRAL, id, &s)) != 0)
		return rc;
	if ((rc = referral_parties(c, id, rcpt, from)) != 0) {
		rc = fail(c, exit_for(rc), "referral %s has no recipient",
		    idarg);
		goto out;
	}
	if (memcmp(rcpt, kcrypto_key_public(c->key), KITH_KEY_LEN) != 0) {
		rc = fail(c, EX_NOPERM, "only the organisation the referral "
		    "is addressed to can %s it", strcmp(to, "accepted") == 0 ?
		    "accept" : strcmp(to, "declined") == 0 ? "decline" :
		    "complete");
		goto out;
	}
	cur = state_str(s, "status");
	if (cur == NULL || (strcmp(to, "completed") == 0 ?
	    strcmp(cur, "accepted") != 0 : strcmp(cur, "sent") != 0)) {
		rc = fail(c, EX_USAGE, "referral %s is %s; it moves sent -> "
		    "accepted or declined, then accepted -> completed", idarg,
		    cur != NULL ? cur : "without a status");
		goto out;
	}
	if ((b = body_new()) == NULL ||
	    body_set_str(b, "status", 0, to) != 0 ||
	    (outcome != NULL && body_set_str(b, "outcome", 1, outcome) != 0)) {
		rc = fail(c, EX_SOFTWARE, "out of memory");
		goto out;
	}
	rc = write_to(c, KITH_KIND_REFERRAL, id, NULL, rcpt, b, 0);
out:
	free(cur);
	body_free(b);
	state_free(s);
	return rc;
}

/* kith referral list: the filter and the view. */
struct rfilter {
	struct ctx *c;
	struct view *view;
	int to_me;
	const char *status;
};

static int
referral_one(void *arg, const struct state *s)
{
	struct rfilter *f = arg;
	uint8_t to[KITH_KEY_LEN], from[KITH_KEY_LEN];
	const uint8_t *me = kcrypto_key_public(f->c->key);
	char *st;
	int keep;

	if (referral_parties(f->c, state_entity(s), to, from) != 0)
		return 0;
	if (memcmp(f->to_me ? to : from, me, KITH_KEY_LEN) != 0)
		return 0;
	if (f->status != NULL) {
		st = state_str(s, "status");
		keep = st != NULL && strcmp(st, f->status) == 0;
		free(st);
		if (!keep)
			return 0;
	}
	return view_entity(f->view, s);
}

static int
cmd_referral(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] referral send "
	    "--to ORG --category C --reason TEXT\n"
	    "           --consent explicit|care|support-body "
	    "--consent-recorded-by NAME\n"
	    "           [--snomed CODE] [--name N] [--dob YYYY-MM-DD] "
	    "[--phone P] [--nhs-number N]\n"
	    "           [--retain-until YYYY-MM-DD]\n"
	    "       kith [--home DIR] referral accept|decline ID\n"
	    "       kith [--home DIR] referral complete ID --outcome TEXT\n"
	    "       kith [--home DIR] referral list --to-me|--from-me "
	    "[--status S] [--json]\n\n"
	    "Refer a person to another member organisation (ORG: its name or\n"
	    "key, see kith member list), and answer referrals sent to you.\n"
	    "A referral needs a lawful basis for sharing health data:\n"
	    "  explicit      the person's explicit consent (UK GDPR Art. 9(2)(a))\n"
	    "  care          health or social care (UK GDPR Art. 9(2)(h))\n"
	    "  support-body  a not-for-profit support body (DPA 2018 Sch. 1\n"
	    "                para. 16)\n"
	    "and the name of who recorded it.  Without both, nothing is written.\n"
	    "Statuses: sent -> accepted | declined; accepted -> completed,\n"
	    "with an outcome.  Only the recipient moves a referral past sent;\n"
	    "anyone else's change is kept as evidence and never applied.\n"
	    "An NHS number is checked with its modulus-11 check digit.\n";
	static const struct opt spec[] = { { "to", 1 }, { "category", 1 },
		{ "reason", 1 }, { "consent", 1 }, { "consent-recorded-by", 1 },
		{ "snomed", 1 }, { "name", 1 }, { "dob", 1 }, { "phone", 1 },
		{ "nhs-number", 1 }, { "outcome", 1 }, { "to-me", 0 },
		{ "from-me", 0 }, { "status", 1 }, { "json", 0 },
		{ "retain-until", 1 }, { NULL, 0 } };
	static const char *const send_opts[] = { "to", "category", "reason",
		"consent", "consent-recorded-by", "snomed", "name", "dob",
		"phone", "nhs-number", "retain-until", NULL };
	static const char *const move_opts[] = { NULL };
	static const char *const complete_opts[] = { "outcome", NULL };
	static const char *const list_opts[] = { "to-me", "from-me", "status",
		"json", NULL };
	const char *sub, *const *allowed, *v;
	uint8_t to[KITH_KEY_LEN];
	char nhs[11];
	struct rfilter f;
	struct body *b = NULL;
	struct args a;
	int rc, nset, k;

	if ((rc = parse_args(c, spec, 2, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	sub = a.npos > 0 ? a.pos[0] : "";
	if (strcmp(sub, "send") == 0)
		allowed = send_opts;
	else if (strcmp(sub, "accept") == 0 || strcmp(sub, "decline") == 0)
		allowed = move_opts;
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
		if ((rc = open_home(c, 1, 1)) != 0)
			return rc;
		f.c = c;
		f.to_me = arg(spec, &a, "to-me") != NULL;
		f.status = v;
		if ((f.view = view_new(arg(spec, &a, "json") ? VIEW_JSON :
		    VIEW_TEXT, stdout, KITH_KIND_REFERRAL, 0)) == NULL)
			return fail(c, EX_SOFTWARE, "out of memory");
		if ((rc = store_states(c->st, KITH_KIND_REFERRAL,
		    referral_one, &f)) == 0)
			rc = view_finish(f.view);
		view_free(f.view);
		return rc == 0 ? 0 : fail(c, exit_for(rc), "%s",
		    kith_strerror(rc));
	}
	if (strcmp(sub, "send") != 0) {
		if (a.npos != 2)
			return fail(c, EX_USAGE, "%s needs the referral's id",
			    sub);
		if (strcmp(sub, "complete") == 0 &&
		    ((v = arg(spec, &a, "outcome")) == NULL || !text_ok(v)))
			return fail(c, EX_USAGE, "complete needs --outcome TEXT");
		if ((rc = open_home(c, 1, 0)) != 0)
			return rc;
		return referral_move(c, a.pos[1], strcmp(sub, "accept") == 0 ?
		    "accepted" : strcmp(sub, "decline") == 0 ? "declined" :
		    "completed", arg(spec, &a, "outcome"));
	}
	/* send: refuse before anything is written. */
	if (a.npos != 1)
		return fail(c, EX_USAGE, "send takes options only");
	if ((v = arg(spec, &a, "consent")) == NULL)
		return fail(c, EX_USAGE, "no consent basis: give --consent "
		    "explicit|care|support-body and --consent-recorded-by NAME; "
		    "nothing was written");
	if (!one_of(v, consents))
		return fail(c, EX_USAGE, "--consent: one of explicit, care, "
		    "support-body");
	if (arg(spec, &a, "consent-recorded-by") == NULL)
		return fail(c, EX_USAGE, "--consent-recorded-by NAME: who "
		    "recorded the consent basis; nothing was written");
	if (arg(spec, &a, "to") == NULL || arg(spec, &a, "category") == NULL ||
	    arg(spec, &a, "reason") == NULL)
		return fail(c, EX_USAGE, "send needs --to, --category and "
		    "--reason");
	if ((v = arg(spec, &a, "nhs-number")) != NULL && !nhs_number_ok(v, nhs))
		return fail(c, EX_USAGE, "--nhs-number '%s': not a valid NHS "
		    "number (10 digits with a modulus-11 check digit)", v);
	if ((v = arg(spec, &a, "snomed")) != NULL &&
	    (strlen(v) < 6 || strlen(v) > 18 || strspn(v, "0123456789") !=
	    strlen(v)))
		return fail(c, EX_USAGE, "--snomed '%s': a SNOMED CT concept "
		    "id is 6 to 18 digits", v);
	if ((rc = retain_until(c, arg(spec, &a, "retain-until"))) != 0)
		return rc;
	if ((rc = open_home(c, 1, 0)) != 0 ||
	    (rc = find_org(c, arg(spec, &a, "to"), to)) != 0)
		return rc;
	if ((b = body_new()) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	if ((rc = set_fields(c, b, referral_fields, spec, &a, &nset)) == 0) {
		if (arg(spec, &a, "nhs-number") != NULL)
			body_set_str(b, "nhs_number", 1, nhs);
		if (body_set_str(b, "status", 0, "sent") != 0)
			rc = fail(c, EX_SOFTWARE, "out of memory");
	}
	if (rc == 0)
		rc = write_new(c, KITH_KIND_REFERRAL, to, b);
	body_free(b);
	return rc;
}

/* Write a status change after checking it moves the workflow forward. */
static int
request_status(struct ctx *c, const char *idarg, const char *to,
    const char *volunteer)
{
	uint8_t id[KITH_ENTITY_LEN], vid[KITH_ENTITY_LEN];
	char vhex[2 * KITH_ENTITY_LEN + 1];
	struct state *s = NULL;
	struct body *b = NULL;
	char *cur = NULL;
	int rc, from_rank, to_rank;

	if ((rc = find_entity(c, idarg, KITH_KIND_REQUEST, id, &s)) != 0)
		return rc;
	cur = state_str(s, "status");
	from_rank = cur ? state_status_rank(KITH_KIND_REQUEST, cur,
	    strlen(cur)) : 0;
	to_rank = state_status_rank(KITH_KIND_REQUEST, to, strlen(to));
	if (from_rank >= 2 || (from_rank > to_rank)) {
		rc = fail(c, EX_USAGE, "request %s is %s; its status only "
		    "moves forward (open, claimed, fulfilled or cancelled)",
		    idarg, cur);
		goto out;
	}
	if ((b = body_new()) == NULL) {
		rc = fail(c, EX_SOFTWARE, "out of memory");
		goto out;
	}
	body_set_str(b, "status", 0, to);
	if (volunteer != NULL) {
		if ((rc = find_entity(c, volunteer, KITH_KIND_VOLUNTEER, vid,
		    NULL)) != 0)
			goto out;
		kith_hex(vhex, vid, KITH_ENTITY_LEN);
		body_set_str(b, "volunteer", 0, vhex);
	}
	rc = write_body(c, KITH_KIND_REQUEST, id, b, 0);
out:
	free(cur);
	body_free(b);
	state_free(s);
	return rc;
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

struct filter {
	struct view *view;
	const char *status, *area, *category, *areas;
};

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
	rc = open_current(c, s, &opened, rcpt, &n);
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

static int
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
	uint8_t id[KITH_ENTITY_LEN], to[KITH_KEY_LEN], from[KITH_KEY_LEN];
	struct roster *r = NULL;
	struct state *s = NULL;
	struct body *b = NULL;
	const char *reason;
	struct args a;
	int rc, may = 0;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1 || (reason = a.val[0]) == NULL)
		return fail(c, EX_USAGE, "give an id and --reason TEXT");
	if (!text_ok(reason) || strlen(reason) > 500)
		return fail(c, EX_USAGE, "--reason: up to 500 characters of "
		    "text");
	if ((rc = open_home(c, 1, 0)) != 0 ||
	    (rc = find_entity(c, a.pos[0], 0, id, &s)) != 0)
		return rc;
	/* The merge's own rule. */
	if ((rc = store_roster(c->st, &r)) == 0)
		may = state_may_erase(s, r, kcrypto_key_public(c->key));
	roster_free(r);
	if (rc != 0)
		rc = fail(c, exit_for(rc), "%s", kith_strerror(rc));
	else if (state_get(s, "erased") != NULL)
		rc = fail(c, EX_DATAERR, "%s is already erased", a.pos[0]);
	else if (!may)
		rc = fail(c, EX_NOPERM, "only the organisation that created "
		    "it, or an admin, may erase it");
	else if ((b = body_new()) == NULL ||
	    body_set_str(b, "reason", 0, reason) != 0)
		rc = fail(c, EX_SOFTWARE, "out of memory");
	else
		/* A referral's erasure is addressed like its other records. */
		rc = write_to(c, KITH_KIND_ERASE, id, NULL,
		    state_kind(s) == KITH_KIND_REFERRAL &&
		    referral_parties(c, id, to, from) == 0 ? to : NULL, b, 0);
	body_free(b);
	state_free(s);
	return rc;
}

static int
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

static int
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
	uint8_t rcpt[SEAL_RECIPIENTS_MAX][32];
	char hex[2 * KITH_KEY_LEN + 1], *readers = NULL;
	const struct body_field *f;
	struct body *opened = NULL, *b = NULL;
	struct state *s = NULL;
	struct args a;
	size_t n, i;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1 || a.val[0] == NULL)
		return fail(c, EX_USAGE, "give an id and --with ORG");
	if ((rc = open_home(c, 1, 0)) != 0 ||
	    (rc = find_entity(c, a.pos[0], 0, id, &s)) != 0 ||
	    (rc = find_org(c, a.val[0], with)) != 0)
		goto out;
	kith_hex(hex, with, KITH_KEY_LEN);
	if ((readers = state_str(s, "readers")) != NULL &&
	    strstr(readers, hex) != NULL) {
		rc = fail(c, EX_DATAERR, "%s may read them already", a.val[0]);
		goto out;
	}
	if ((rc = open_current(c, s, &opened, rcpt, &n)) != 0) {
		rc = fail(c, rc == KITH_ESEALED ? EX_NOPERM : exit_for(rc),
		    "%s", rc == KITH_ENOTFOUND ? "it has no personal fields "
		    "to share" : rc == KITH_ESEALED ? "this node may not read "
		    "its personal fields, so it cannot share them" :
		    kith_strerror(rc));
		goto out;
	}
	if ((b = body_new()) == NULL) {
		rc = fail(c, EX_SOFTWARE, "out of memory");
		goto out;
	}
	/* The share itself is public: it names whom it entitles. */
	rc = body_set_str(b, "share", 0, hex);
	for (i = 0; rc == 0 && i < body_nfields(opened); i++)
		if ((f = body_field(opened, i))->personal)
			rc = body_set(b, f->name, 1, &f->v);
	if (rc != 0 || (rc = seal_for(c, b, id, NULL, with)) != 0)
		goto out;
	rc = write_body(c, state_kind(s), id, b, 0);
out:
	free(readers);
	body_free(opened);
	body_free(b);
	state_free(s);
	return rc;
}

/* `list` and `show` for requests and volunteers. */
static int
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

/* The options of request add and update: every field, plus list filters. */
static const struct opt request_spec[] = {
	{ "category", 1 }, { "area", 1 }, { "urgency", 1 }, { "needed-by", 1 },
	{ "lang", 1 }, { "access-needs", 1 }, { "name", 1 }, { "phone", 1 },
	{ "address", 1 }, { "notes", 1 }, { "volunteer", 1 }, { "status", 1 },
	{ "json", 0 }, { "retain-until", 1 }, { NULL, 0 } };

/* Only the options a subcommand allows may be given. */
static int
only(struct ctx *c, const struct args *a, const struct opt *spec,
    const char *const *allowed)
{
	const char *const *p;
	int k;

	for (k = 0; spec[k].name != NULL; k++) {
		if (a->val[k] == NULL)
			continue;
		for (p = allowed; *p != NULL && strcmp(*p, spec[k].name); p++)
			;
		if (*p == NULL)
			return fail(c, EX_USAGE, "unknown option --%s (see "
			    "--help)", spec[k].name);
	}
	return 0;
}

static int
cmd_request(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith request add --category C --area DISTRICT [--urgency 1-3]\n"
	    "           [--needed-by YYYY-MM-DD] [--lang pl,ps] [--access-needs TEXT]\n"
	    "           [--name TEXT] [--phone TEXT] [--address TEXT] [--notes TEXT]\n"
	    "       kith request update ID [any option of add]\n"
	    "       kith request claim ID [--volunteer VID]\n"
	    "       kith request fulfil ID\n"
	    "       kith request cancel ID\n"
	    "       kith request list [--status S] [--area A] [--category C] [--json]\n"
	    "       kith request show ID [--json]\n"
	    "\n"
	    "Categories: food, prescription, check-in, befriending, transport,\n"
	    "advice, other.  The area is a UK postcode district (TW3, N17, SW1A).\n"
	    "Name, phone, address and notes are personal fields.  Status moves\n"
	    "only forward: open, claimed, then fulfilled or cancelled.  add\n"
	    "prints the new request's id; the others that write print the new\n"
	    "record's id.  An ID may be shortened to a unique prefix of 6+ hex\n"
	    "digits.\n";
	static const char *const add_opts[] = { "category", "area", "urgency",
		"needed-by", "lang", "access-needs", "name", "phone", "address",
		"notes", "retain-until", NULL };
	static const char *const claim_opts[] = { "volunteer", NULL };
	static const char *const none[] = { NULL };
	static const char *const list_opts[] = { "status", "area", "category",
		"json", NULL };
	static const char *const show_opts[] = { "json", NULL };
	char norm[8];
	uint8_t id[KITH_ENTITY_LEN];
	struct filter flt = { 0 };
	struct body *b = NULL;
	const char *sub;
	struct args a;
	int rc, nset;

	if (argc < 1 || strcmp(argv[0], "--help") == 0)
		return argc < 1 ? fail(c, EX_USAGE, "which? add, update, "
		    "claim, fulfil, cancel, list or show (see --help)") :
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
		flt.category = arg(request_spec, &a, "category");
		flt.area = arg(request_spec, &a, "area");
		if (flt.status && !one_of(flt.status, request_statuses))
			return fail(c, EX_USAGE, "invalid --status '%s': "
			    "expected open, claimed, fulfilled or cancelled",
			    flt.status);
		if (flt.category && !one_of(flt.category, categories))
			return fail(c, EX_USAGE, "invalid --category '%s'",
			    flt.category);
		if (flt.area) {
			if (!district_ok(flt.area, strlen(flt.area), norm))
				return fail(c, EX_USAGE, "invalid --area '%s': "
				    "expected a postcode district", flt.area);
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
		if (add && (arg(request_spec, &a, "category") == NULL ||
		    arg(request_spec, &a, "area") == NULL))
			return fail(c, EX_USAGE, "--category and --area are "
			    "required");
		if ((rc = retain_until(c, arg(request_spec, &a,
		    "retain-until"))) != 0)
			return rc;
		if ((b = body_new()) == NULL)
			return fail(c, EX_SOFTWARE, "out of memory");
		if ((rc = set_fields(c, b, request_fields, request_spec, &a,
		    &nset)) != 0)
			goto out;
		if (!add && nset == 0) {
			rc = fail(c, EX_USAGE, "nothing to update: give at least "
			    "one field option");
			goto out;
		}
		if (add && arg(request_spec, &a, "urgency") == NULL)
			body_set_int(b, "urgency", 0, 2);
		if (add)
			body_set_str(b, "status", 0, "open");
		if ((rc = open_home(c, 1, 0)) != 0)
			goto out;
		if (add)
			rc = write_new(c, KITH_KIND_REQUEST, NULL, b);
		else if ((rc = find_entity(c, a.pos[0], KITH_KIND_REQUEST, id,
		    NULL)) == 0)
			rc = write_body(c, KITH_KIND_REQUEST, id, b, 0);
		goto out;
	}
	if (strcmp(sub, "claim") == 0 || strcmp(sub, "fulfil") == 0 ||
	    strcmp(sub, "cancel") == 0) {
		if ((rc = only(c, &a, request_spec,
		    sub[1] == 'l' ? claim_opts : none)) != 0)
			return rc;
		if (a.npos != 1)
			return fail(c, EX_USAGE, "give the id of the request");
		if ((rc = open_home(c, 1, 0)) != 0)
			return rc;
		return request_status(c, a.pos[0], sub[1] == 'l' ? "claimed" :
		    sub[1] == 'u' ? "fulfilled" : "cancelled",
		    arg(request_spec, &a, "volunteer"));
	}
	return fail(c, EX_USAGE, "unknown subcommand '%s' (see --help)", sub);
out:
	body_free(b);
	return rc;
}

static const struct opt volunteer_spec[] = {
	{ "name", 1 }, { "area", 1 }, { "skills", 1 }, { "lang", 1 },
	{ "availability", 1 }, { "dbs", 1 }, { "dbs-checked", 1 },
	{ "json", 0 }, { NULL, 0 } };

static int
cmd_volunteer(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith volunteer add --name TEXT --area DISTRICT[,DISTRICT..]\n"
	    "           [--skills a,b] [--lang pl,ps] [--availability TEXT]\n"
	    "           [--dbs none|basic|standard|enhanced --dbs-checked YYYY-MM-DD]\n"
	    "       kith volunteer update ID [any option of add]\n"
	    "       kith volunteer list [--area DISTRICT] [--json]\n"
	    "       kith volunteer show ID [--json]\n"
	    "\n"
	    "The name is a personal field.  A DBS check other than none needs the\n"
	    "date it was checked.  add prints the new volunteer's id; update\n"
	    "prints the new record's id.\n";
	static const char *const add_opts[] = { "name", "area", "skills",
		"lang", "availability", "dbs", "dbs-checked", NULL };
	static const char *const list_opts[] = { "area", "json", NULL };
	static const char *const show_opts[] = { "json", NULL };
	uint8_t id[KITH_ENTITY_LEN];
	struct filter flt = { 0 };
	struct state *s = NULL;
	struct body *b = NULL;
	const char *sub, *dbs, *checked;
	char norm[8];
	struct args a;
	int rc, nset, add;

	if (argc < 1 || strcmp(argv[0], "--help") == 0)
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
			if (!district_ok(flt.areas, strlen(flt.areas), norm))
				return fail(c, EX_USAGE, "invalid --area '%s': "
				    "expected a postcode district", flt.areas);
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
	if (add && (arg(volunteer_spec, &a, "name") == NULL ||
	    arg(volunteer_spec, &a, "area") == NULL))
		return fail(c, EX_USAGE, "--name and --area are required");
	if ((b = body_new()) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	if ((rc = set_fields(c, b, volunteer_fields, volunteer_spec, &a,
	    &nset)) != 0)
		goto out;
	if (!add && nset == 0) {
		rc = fail(c, EX_USAGE, "nothing to update: give at least one "
		    "field option");
		goto out;
	}
	if ((rc = open_home(c, 1, 0)) != 0)
		goto out;
	if (!add && (rc = find_entity(c, a.pos[0], KITH_KIND_VOLUNTEER, id,
	    &s)) != 0)
		goto out;
	/* A DBS check needs its date, given now or already on record. */
	dbs = arg(volunteer_spec, &a, "dbs");
	checked = arg(volunteer_spec, &a, "dbs-checked");
	if (dbs != NULL && strcmp(dbs, "none") != 0 && checked == NULL &&
	    (s == NULL || state_get(s, "dbs_checked") == NULL)) {
		rc = fail(c, EX_USAGE, "--dbs %s needs --dbs-checked "
		    "YYYY-MM-DD", dbs);
		goto out;
	}
	if (checked != NULL && dbs == NULL &&
	    (s == NULL || state_get(s, "dbs") == NULL)) {
		rc = fail(c, EX_USAGE, "--dbs-checked needs --dbs");
		goto out;
	}
	rc = add ? write_new(c, KITH_KIND_VOLUNTEER, NULL, b) :
	    write_body(c, KITH_KIND_VOLUNTEER, id, b, 0);
out:
	state_free(s);
	body_free(b);
	return rc;
}

static int
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

static int
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

static int
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
		{ "volunteer", 1 }, { "status", 1 }, { "json", 0 },
		{ "skills", 1 }, { "availability", 1 }, { "dbs", 1 },
		{ "dbs-checked", 1 }, { NULL, 0 } };
	const struct fdef *defs;
	const struct opt *spec;
	const struct state_field *sf;
	uint8_t id[KITH_ENTITY_LEN];
	struct state *s = NULL;
	struct body *b = NULL;
	const char *status;
	struct args a;
	int rc, nset, conflicted = 0, k;

	/*
	 * Parse once, against the options of every kind, to find the id; the
	 * kind decides which fields apply.  (Parsing against one kind first
	 * printed a spurious "unknown option" for the other kind's fields.)
	 */
	if ((rc = parse_args(c, any_spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the id (see --help)");
	if ((rc = open_home(c, 1, 0)) != 0 ||
	    (rc = find_entity(c, a.pos[0], 0, id, &s)) != 0)
		return rc;
	if (state_kind(s) == KITH_KIND_VOLUNTEER) {
		defs = volunteer_fields;
		spec = volunteer_spec;
	} else if (state_kind(s) == KITH_KIND_REQUEST) {
		defs = request_fields;
		spec = request_spec;
	} else {
		rc = fail(c, EX_USAGE, "%s has no editable fields", a.pos[0]);
		goto out;
	}
	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		goto out;
	if ((b = body_new()) == NULL) {
		rc = fail(c, EX_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = set_fields(c, b, defs, spec, &a, &nset)) != 0)
		goto out;
	status = spec == request_spec ? arg(spec, &a, "status") : NULL;
	if (status != NULL) {
		if (!one_of(status, request_statuses)) {
			rc = fail(c, EX_USAGE, "invalid --status '%s'", status);
			goto out;
		}
		body_set_str(b, "status", 0, status);
		nset++;
	}
	if (nset == 0) {
		rc = fail(c, EX_USAGE, "give the value to keep for each "
		    "conflicting field, e.g. --area TW3");
		goto out;
	}
	for (k = 0; k < (int)body_nfields(b); k++) {
		sf = state_get(s, body_field(b, (size_t)k)->name);
		conflicted += sf != NULL && sf->nalts > 0;
	}
	if (conflicted == 0) {
		rc = fail(c, EX_USAGE, "%s has no conflict on the fields given "
		    "(see 'kith conflicts'); use update to change them",
		    a.pos[0]);
		goto out;
	}
	rc = write_body(c, state_kind(s), id, b, 0);
out:
	state_free(s);
	body_free(b);
	return rc;
}

static int
cmd_digest(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] digest\n\n"
	    "Print the state digest: a hash of every entity's state.  Two nodes\n"
	    "holding the same records print the same digest.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	char hex[2 * KITH_HASH_LEN + 1];
	uint8_t d[KITH_HASH_LEN];
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_digest(c->st, d)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	kith_hex(hex, d, sizeof(d));
	printf("%s\n", hex);
	return 0;
}

struct status_count {
	size_t n[4];
};

static int
count_status(void *arg, const struct state *s)
{
	struct status_count *sc = arg;
	char *st = state_str(s, "status");
	int r;

	if (st != NULL) {
		r = state_status_rank(KITH_KIND_REQUEST, st, strlen(st));
		sc->n[r < 0 ? 0 : strcmp(st, "cancelled") == 0 ? 3 : r]++;
	}
	free(st);
	return 0;
}

static int
cmd_stats(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] stats [--json]\n\n"
	    "Counts of records and entities by kind and request status, and the\n"
	    "store's size in bytes.\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	struct status_count sc = { { 0 } };
	struct store_stats ss;
	struct view *v;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_stats(c->st, &ss)) != 0 ||
	    (rc = store_states(c->st, KITH_KIND_REQUEST, count_status,
	    &sc)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if ((v = view_new(a.val[0] ? VIEW_OBJECT : VIEW_TEXT, stdout, 0,
	    0)) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	view_pair(v, "records", ss.records);
	view_pair(v, "bodies", ss.bodies);
	view_pair(v, "entities", ss.entities);
	view_pair(v, "requests", ss.by_kind[0]);
	view_pair(v, "requests_open", sc.n[0]);
	view_pair(v, "requests_claimed", sc.n[1]);
	view_pair(v, "requests_fulfilled", sc.n[2]);
	view_pair(v, "requests_cancelled", sc.n[3]);
	view_pair(v, "volunteers", ss.by_kind[1]);
	view_pair(v, "referrals", ss.by_kind[2]);
	view_pair(v, "forks", ss.forks);
	view_pair(v, "store_bytes", ss.file_bytes);
	view_pair(v, "store_used_bytes", ss.used_bytes);
	rc = view_finish(v);
	view_free(v);
	return rc == 0 ? 0 : fail(c, EX_IOERR, "write failed");
}

/* A referral this node can read, as strings for tools/fhir.c. */
struct fhir_item {
	struct fhir_referral r;
	char id[2 * KITH_ENTITY_LEN + 1];
	char from[2 * KITH_KEY_LEN + 1], to[2 * KITH_KEY_LEN + 1];
	char from_org[ROSTER_ORG_MAX + 1], to_org[ROSTER_ORG_MAX + 1];
	char *pub[3];			/* status, category, consent */
	struct body *opened;		/* owns the personal strings */
};

/* A personal field of ${b} as a new string, or NULL. */
static const char *
opened_str(const struct body *b, const char *name, char **keep)
{
	const struct body_field *f = body_get(b, name);

	if (f == NULL || f->v.type != CODEC_STR ||
	    (*keep = strndup(f->v.s, f->v.len)) == NULL)
		return NULL;
	return *keep;
}

static void
fhir_item_free(struct fhir_item *it)
{
	size_t i;

	for (i = 0; i < 3; i++)
		free(it->pub[i]);
	free((char *)it->r.reason);
	free((char *)it->r.snomed);
	free((char *)it->r.consent_by);
	free((char *)it->r.name);
	free((char *)it->r.dob);
	free((char *)it->r.phone);
	free((char *)it->r.nhs_number);
	free((char *)it->r.outcome);
	body_free(it->opened);
}

/*
 * Fill ${it} from referral ${s}: KITH_ESEALED if this node may not read
 * its personal fields (such referrals are not exported), else 0 or an
 * error.
 */
static int
fhir_item(struct ctx *c, const struct roster *r, const struct state *s,
    struct fhir_item *it)
{
	uint8_t to[KITH_KEY_LEN], from[KITH_KEY_LEN], rcpt[SEAL_RECIPIENTS_MAX][32];
	const struct roster_entry *e;
	char *k;
	size_t n;
	int rc;

	memset(it, 0, sizeof(*it));
	if ((rc = open_current(c, s, &it->opened, rcpt, &n)) != 0)
		return rc == KITH_ENOTFOUND ? KITH_ESEALED : rc;
	if ((rc = referral_parties(c, state_entity(s), to, from)) != 0)
		return rc;
	kith_hex(it->id, state_entity(s), KITH_ENTITY_LEN);
	kith_hex(it->to, to, KITH_KEY_LEN);
	kith_hex(it->from, from, KITH_KEY_LEN);
	snprintf(it->to_org, sizeof(it->to_org), "%s",
	    (e = roster_find(r, to)) != NULL ? e->org : "");
	snprintf(it->from_org, sizeof(it->from_org), "%s",
	    (e = roster_find(r, from)) != NULL ? e->org : "");
	it->r.id = it->id;
	it->r.to_key = it->to;
	it->r.from_key = it->from;
	it->r.to_org = it->to_org;
	it->r.from_org = it->from_org;
	it->r.status = it->pub[0] = state_str(s, "status");
	it->r.category = it->pub[1] = state_str(s, "category");
	it->r.consent = it->pub[2] = state_str(s, "consent");
	it->r.created_ms = state_created(s) >> 16;
	it->r.updated_ms = state_updated(s) >> 16;
	it->r.reason = opened_str(it->opened, "reason", &k);
	it->r.snomed = opened_str(it->opened, "snomed", &k);
	it->r.consent_by = opened_str(it->opened, "consent_by", &k);
	it->r.name = opened_str(it->opened, "name", &k);
	it->r.dob = opened_str(it->opened, "dob", &k);
	it->r.phone = opened_str(it->opened, "phone", &k);
	it->r.nhs_number = opened_str(it->opened, "nhs_number", &k);
	it->r.outcome = opened_str(it->opened, "outcome", &k);
	return 0;
}

/* kith export --format fhir: the readable referrals, gathered. */
struct fhir_export {
	struct ctx *c;
	struct roster *roster;
	uint64_t since;			/* hlc */
	struct fhir_item *items;
	size_t n, cap, skipped;
};

static int
fhir_one(void *arg, const struct state *s)
{
	struct fhir_export *x = arg;
	struct fhir_item *bigger;
	const char *why;
	int rc;

	if (state_updated(s) < x->since || state_get(s, "erased") != NULL)
		return 0;
	if (x->n == x->cap) {
		if ((bigger = realloc(x->items, (x->cap * 2 + 16) *
		    sizeof(*bigger))) == NULL)
			return KITH_ENOMEM;
		x->items = bigger;
		x->cap = x->cap * 2 + 16;
	}
	if ((rc = fhir_item(x->c, x->roster, s, &x->items[x->n])) == 0 &&
	    fhir_check(&x->items[x->n].r, &why) != 0) {
		fprintf(stderr, "kith: export: referral %s left out: %s\n",
		    x->items[x->n].id, why);
		rc = KITH_ESEALED;
	}
	if (rc == 0) {
		x->n++;
		return 0;
	}
	fhir_item_free(&x->items[x->n]);
	x->skipped += rc == KITH_ESEALED;
	return rc == KITH_ESEALED ? 0 : rc;
}

/* Parse --since: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, as an hlc. */
static int
parse_since(struct ctx *c, const char *v, uint64_t *hlc)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (((end = strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0') && (memset(&tm, 0, sizeof(tm)),
	    (end = strptime(v, "%Y-%m-%d", &tm)) == NULL || *end != '\0'))
		return fail(c, EX_USAGE, "--since '%s': expected YYYY-MM-DD "
		    "or YYYY-MM-DDTHH:MM:SSZ (UTC)", v);
	*hlc = HLC_MAKE((uint64_t)timegm(&tm) * 1000, 0);
	return 0;
}

static int
export_fhir(struct ctx *c, const char *since)
{
	struct fhir_export x;
	size_t i;
	int rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	if (since != NULL && (rc = parse_since(c, since, &x.since)) != 0)
		return rc;
	if ((rc = open_home(c, 1, 1)) != 0)
		return rc;
	if ((rc = store_roster(c->st, &x.roster)) == 0 &&
	    (rc = store_states(c->st, KITH_KIND_REFERRAL, fhir_one, &x)) == 0) {
		struct fhir_referral *refs = calloc(x.n ? x.n : 1,
		    sizeof(*refs));

		if (refs == NULL)
			rc = KITH_ENOMEM;
		for (i = 0; refs != NULL && i < x.n; i++)
			refs[i] = x.items[i].r;
		if (rc == 0 && fhir_write_bundle(stdout, refs, x.n,
		    hlc_wall_ms()) != 0)
			rc = KITH_EIO;
		free(refs);
	}
	for (i = 0; i < x.n; i++)
		fhir_item_free(&x.items[i]);
	free(x.items);
	roster_free(x.roster);
	if (rc == 0 && x.skipped > 0)
		fprintf(stderr, "kith: export: %zu referral%s this node may not "
		    "read left out\n", x.skipped, x.skipped == 1 ? "" : "s");
	return rc == 0 ? 0 : fail(c, exit_for(rc), "%s", kith_strerror(rc));
}

struct export {
	struct ctx *c;
	struct view *v;
	int personal;
};

/* One entity, with its sealed personal fields if asked and readable. */
static int
export_one(void *arg, const struct state *s)
{
	struct export *e = arg;
	uint8_t rcpt[SEAL_RECIPIENTS_MAX][32];
	struct body *opened = NULL;
	size_t n;
	int rc = 0;

	if (e->personal)
		rc = open_current(e->c, s, &opened, rcpt, &n);
	view_opened(e->v, opened, rc == KITH_ESEALED);
	rc = view_entity(e->v, s);
	view_opened(e->v, NULL, 0);
	body_free(opened);
	return rc;
}

static int
cmd_export(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith [--home DIR] export --format ndjson|csv\n"
	    "           [--kind request|volunteer] [--include-personal]\n"
	    "       kith [--home DIR] export --format fhir [--since TIME]\n"
	    "\n"
	    "Write entities to stdout: ndjson, one JSON object per line, or CSV\n"
	    "(RFC 4180) with a header row.  Personal fields (names, phone\n"
	    "numbers, addresses, notes) are left out unless --include-personal\n"
	    "is given; then those sealed to this node's organisation are\n"
	    "opened, and the others marked sealed.  A CSV cell that starts with\n"
	    "=, +, -, @, tab or CR gets a ' in front, so that a spreadsheet\n"
	    "shows it as text rather than running it as a formula.\n\n"
	    "--format fhir writes one HL7 FHIR R4 Bundle (JSON) of the referrals\n"
	    "this node may read, updated since TIME (YYYY-MM-DD or\n"
	    "YYYY-MM-DDTHH:MM:SSZ) if given: for each, a ServiceRequest, a Task\n"
	    "(status and owner), a Consent and the Patient.\n";
	static const struct opt spec[] = { { "format", 1 }, { "kind", 1 },
		{ "include-personal", 0 }, { "since", 1 }, { NULL, 0 } };
	const char *fmt, *kname;
	uint64_t kind = 0;
	struct export e;
	struct view *v;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	fmt = arg(spec, &a, "format");
	if (fmt != NULL && strcmp(fmt, "fhir") == 0) {
		if (arg(spec, &a, "kind") != NULL ||
		    arg(spec, &a, "include-personal") != NULL)
			return fail(c, EX_USAGE, "--format fhir takes only "
			    "--since: it exports referrals, with what this "
			    "node may read of them");
		return export_fhir(c, arg(spec, &a, "since"));
	}
	if (arg(spec, &a, "since") != NULL)
		return fail(c, EX_USAGE, "--since is for --format fhir");
	if (fmt == NULL || (strcmp(fmt, "ndjson") && strcmp(fmt, "csv")))
		return fail(c, EX_USAGE, "--format must be ndjson, csv or fhir");
	if ((kname = arg(spec, &a, "kind")) != NULL &&
	    (kith_kind_parse(kname, &kind) != 0 ||
	    (kind != KITH_KIND_REQUEST && kind != KITH_KIND_VOLUNTEER &&
	    kind != KITH_KIND_REFERRAL)))
		return fail(c, EX_USAGE, "--kind must be request, volunteer or "
		    "referral");
	e.personal = arg(spec, &a, "include-personal") != NULL;
	if ((rc = open_home(c, e.personal, 1)) != 0)
		return rc;
	if ((v = view_new(fmt[0] == 'c' ? VIEW_CSV : VIEW_NDJSON, stdout, kind,
	    e.personal)) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	e.c = c;
	e.v = v;
	rc = store_states(c->st, kind, export_one, &e);
	if (rc == 0)
		rc = view_finish(v);
	view_free(v);
	return rc == 0 ? 0 : fail(c, exit_for(rc), "%s", kith_strerror(rc));
}

struct export_state {
	FILE *f;
	size_t n;
};

static int
export_record(void *arg, const struct record *rec)
{
	struct export_state *es = arg;

	es->n++;
	return recfile_write(es->f, rec);
}

static int
cmd_export_records(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] export-records "
	    "FILE\n\n"
	    "Write every record in the store, signed and with its body, to FILE\n"
	    "(- for stdout) as a records file, for 'kith import-records' on\n"
	    "another node of the same network.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	static const uint8_t top[KITH_ID_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t net[KITH_NETWORK_LEN];
	struct export_state es = { NULL, 0 };
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the file to write (see --help)");
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_network(c->st, net)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if ((es.f = open_out(c, a.pos[0], &rc)) == NULL)
		return rc;
	rc = recfile_write_start(es.f, net);
	if (rc == 0)
		rc = store_range(c->st, 0, NULL, UINT64_MAX, top, export_record,
		    &es);
	if (rc != 0) {
		if (es.f != stdout) {
			fclose(es.f);
			unlink(a.pos[0]);
		}
		return fail(c, exit_for(rc), "export failed: %s",
		    kith_strerror(rc));
	}
	if ((rc = close_out(c, es.f, a.pos[0])) != 0)
		return rc;
	fprintf(stderr, "exported %zu records\n", es.n);
	return 0;
}

static void
report_reject(void *arg, const struct record *rec, int rc)
{
	char hex[2 * KITH_ID_LEN + 1];

	(void)arg;
	kith_hex(hex, record_id(rec), KITH_ID_LEN);
	fprintf(stderr, "kith: rejected record %s: %s\n", hex,
	    kith_strerror(rc));
}

/* Read a whole records file; an exit code after a message on failure. */
static int
read_records(struct ctx *c, const char *path, const uint8_t *net,
    struct record ***out, size_t *count)
{
	static const uint8_t zero[KITH_NETWORK_LEN];
	struct record **recs = NULL, **bigger, *rec;
	const struct record_header *h;
	uint8_t fnet[KITH_NETWORK_LEN];
	char a[17], b[17];
	size_t n = 0, cap = 0;
	int rc, code = 0;
	int *vr = NULL;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return fail(c, errno == ENOENT ? EX_NOINPUT : EX_IOERR,
		    "%s: %s", path, strerror(errno));
	if ((rc = recfile_read_start(f, fnet)) != 0) {
		code = fail(c, EX_DATAERR, "%s: corrupt records file: %s",
		    path, rc == KITH_ETYPE ? "not a kith records file" :
		    kith_strerror(rc));
		goto out;
	}
	if (memcmp(fnet, net, KITH_NETWORK_LEN) != 0) {
		kith_hex(a, fnet, 8);
		kith_hex(b, net, 8);
		code = fail(c, EX_DATAERR, "%s holds records of another "
		    "network (%s..., this node's is %s...)", path, a, b);
		goto out;
	}
	while ((rc = recfile_read(f, &rec)) == 0) {
		h = record_header(rec);
		if (h->kind == KITH_KIND_CHARTER ?
		    memcmp(h->network, zero, sizeof(zero)) != 0 ||
		    memcmp(record_id(rec), net, KITH_NETWORK_LEN) != 0 :
		    memcmp(h->network, net, KITH_NETWORK_LEN) != 0) {
			record_free(rec);
			code = fail(c, EX_DATAERR, "%s: record %zu belongs to "
			    "another network", path, n + 1);
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((bigger = realloc(recs, cap * sizeof(*recs))) ==
			    NULL) {
				record_free(rec);
				code = fail(c, EX_SOFTWARE, "out of memory");
				goto out;
			}
			recs = bigger;
		}
		recs[n++] = rec;
	}
	if (rc != 1) {
		code = fail(c, EX_DATAERR, "%s: corrupt records file: %s in "
		    "record %zu", path, kith_strerror(rc), n + 1);
		goto out;
	}
	/* Refuse the whole file for one forged record: it is not ours. */
	if ((vr = calloc(n ? n : 1, sizeof(*vr))) == NULL) {
		code = fail(c, EX_SOFTWARE, "out of memory");
		goto out;
	}
	record_verify_batch(recs, n, vr);
	for (cap = 0; cap < n; cap++)
		if (vr[cap] != 0) {
			code = fail(c, EX_DATAERR, "%s: corrupt records file: "
			    "%s in record %zu", path, kith_strerror(vr[cap]),
			    cap + 1);
			goto out;
		}
	*out = recs;
	*count = n;
	recs = NULL;	/* transferred */
out:
	free(vr);
	store_records_free(recs, n);
	fclose(f);
	return code;
}

static int
cmd_import_records(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] import-records "
	    "FILE\n\n"
	    "Apply a records file written by 'kith export-records' on another\n"
	    "node of the same network.  The whole file is checked first (format,\n"
	    "network, signatures); a corrupt or foreign file changes nothing.\n"
	    "Then its new records are applied in one transaction.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	uint8_t net[KITH_NETWORK_LEN];
	struct store_result res;
	struct record **recs = NULL;
	struct args a;
	size_t n = 0;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the file to read (see --help)");
	if ((rc = open_home(c, 0, 0)) != 0)
		return rc;
	if ((rc = store_network(c->st, net)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if ((rc = read_records(c, a.pos[0], net, &recs, &n)) != 0)
		return rc;
	rc = store_apply(c->st, recs, n, &res, report_reject, NULL);
	store_records_free(recs, n);
	if (rc != 0)
		return fail(c, exit_for(rc), "nothing imported: %s",
		    kith_strerror(rc));
	printf("imported %zu records: %zu added, %zu duplicate, %zu rejected\n",
	    n, res.added, res.duplicate, res.rejected);
	return 0;
}

static int
cmd_scrub(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] scrub\n\n"
	    "Write the store afresh, so that no byte of an erased body (or of\n"
	    "a body past its retention date) is left in its files: LMDB keeps\n"
	    "the old bytes of freed pages until they are reused.  The copy is\n"
	    "swapped in with one rename; nothing held is lost.  kithd does this\n"
	    "by itself [store] scrub_after seconds (default 3600) after a body\n"
	    "first leaves the store.  If kithd (or another kith command) has\n"
	    "the store open, this asks kithd to scrub at its next look, within\n"
	    "a few seconds, and exits 75; run it again to check.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	uint64_t before, after;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 0)) != 0)
		return rc;
	rc = store_scrub(c->st, &before, &after);
	if (rc == KITH_EBUSY) {
		if ((rc = store_scrub_request(c->st)) != 0)
			return fail(c, exit_for(rc), "scrub failed: %s",
			    kith_strerror(rc));
		return fail(c, EX_TEMPFAIL, "the store is open in another "
		    "process (kithd?): asked kithd to scrub it within a few "
		    "seconds; its log says when it has");
	}
	if (rc != 0)
		return fail(c, exit_for(rc), "scrub failed: %s",
		    kith_strerror(rc));
	printf("scrubbed: data file %llu bytes before, %llu after\n",
	    (unsigned long long)before, (unsigned long long)after);
	return 0;
}

static int
cmd_upgrade(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] upgrade "
	    "[--dry-run]\n\n"
	    "Bring a store written by an older kith to this one's format, in\n"
	    "place and in one transaction: nothing changes unless all of it\n"
	    "does.  Format 2 to 3 builds the reconciliation fingerprint tree\n"
	    "from the records (about a second per million).  Stop kithd first:\n"
	    "while another process has the store open this exits 75.  Until a\n"
	    "store is upgraded, every other command and kithd refuse it.\n\n"
	    "  --dry-run   say what would change, and change nothing\n";
	static const struct opt spec[] = { { "dry-run", 0 }, { NULL, 0 } };
	uint64_t records;
	struct args a;
	int from, dry, rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	dry = a.val[0] != NULL;
	if ((rc = open_home(c, 0, 3)) != 0)
		return rc;
	rc = store_upgrade(c->st, dry, &from, &records);
	if (rc == KITH_EBUSY)
		return fail(c, EX_TEMPFAIL, "the store is open in another "
		    "process (kithd?): stop it, then run kith upgrade again");
	if (rc != 0)
		return fail(c, exit_for(rc), "upgrade failed, nothing "
		    "changed: %s", kith_strerror(rc));
	if (from == STORE_FORMAT)
		printf("the store is in this kith's format (%d): nothing to "
		    "do; %llu records\n", from, (unsigned long long)records);
	else
		printf("%s format %d to %d: the fingerprint tree of %llu "
		    "records%s\n", dry ? "would upgrade" : "upgraded", from,
		    STORE_FORMAT, (unsigned long long)records,
		    dry ? " (nothing changed)" : "");
	return 0;
}

static int
cmd_compact(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] compact FILE\n\n"
	    "Write a compacted copy of the store's data file to FILE (which must\n"
	    "not exist).  To use it, stop the daemon and replace\n"
	    "HOME/store/data.mdb with it.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	struct args a;
	struct stat sb;
	int rc;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the file to write (see --help)");
	if (stat(a.pos[0], &sb) == 0)
		return fail(c, EX_CANTCREAT, "%s exists", a.pos[0]);
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_compact(c->st, a.pos[0])) != 0)
		return fail(c, exit_for(rc), "compact failed: %s",
		    kith_strerror(rc));
	return 0;
}

/* ---- Sync commands. ---- */

static void
progress(const struct sync_stats *st, uint64_t now, int final)
{
	double secs = (double)(now - st->start_ms) / 1000.0;

	fprintf(stderr, "\r%llu records in, %llu out, %.1f MiB, %.0f records/s%s",
	    (unsigned long long)st->received, (unsigned long long)st->sent,
	    (double)(st->bytes_in + st->bytes_out) / 1048576.0,
	    secs > 0 ? (double)st->received / secs : 0.0,
	    final ? "\n" : "   ");
}

/*
 * Make ${key}'s X25519 pair ${t}'s CURVE identity; an exit code on
 * failure, else 0.
 */
static int
set_identity(struct ctx *c, struct transport *t, const struct kcrypto_key *key)
{
	uint8_t pk[32], sk[32];
	int rc;

	if ((rc = kcrypto_key_x25519(key, pk, sk)) == 0)
		rc = transport_set_identity(t, pk, sk);
	kcrypto_wipe(sk, sizeof(sk));
	return rc == 0 ? 0 : fail(c, EX_SOFTWARE, "cannot derive the CURVE "
	    "key: %s", kith_strerror(rc));
}

/* Parse the peer ${s} (KEY@ENDPOINT); an exit code on failure, else 0. */
static int
peer_arg(struct ctx *c, const char *s, uint8_t key[KITH_KEY_LEN],
    char ep[CONFIG_ENDPOINT_MAX + 1])
{
	int rc;

	if ((rc = config_peer_parse(s, key, ep, CONFIG_ENDPOINT_MAX + 1)) != 0)
		return fail(c, EX_USAGE, "'%s': %s", s,
		    config_peer_strerror(rc));
	return 0;
}

static int
cmd_sync(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] sync "
	    "KEY@ENDPOINT\n\n"
	    "Reconcile with the node at ENDPOINT (tcp://HOST:PORT, its kithd\n"
	    "listen endpoint) now, both ways: afterwards both hold the union of\n"
	    "their records.  KEY is that node's key (64 hex digits: `kith id`\n"
	    "prints it there); the session is encrypted with ZeroMQ CURVE and\n"
	    "only that node can answer it.  Works with or without a local\n"
	    "kithd.  On a terminal it shows progress; it always ends with one\n"
	    "summary line.  It warns when the peer's clock differs from this\n"
	    "node's by more than a minute, and when records wait for their\n"
	    "time on either side.  Exit code 65 if records were rejected here\n"
	    "or refused by the peer (kith doctor tells why).\n";
	static const struct opt spec[] = { { NULL, 0 } };
	const struct sync_stats *st;
	struct sync_node nd;
	struct sync_client *sc = NULL;
	struct tpoll items[2];
	struct args a;
	uint64_t now, shown = 0, err;
	int64_t offset;
	uint8_t key[KITH_KEY_LEN];
	char ep[CONFIG_ENDPOINT_MAX + 1], off[24];
	int rc, tty = isatty(2);

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the peer as KEY@ENDPOINT (see "
		    "kith sync --help)");
	if ((rc = peer_arg(c, a.pos[0], key, ep)) != 0 ||
	    (rc = open_home(c, 1, 2)) != 0)
		return rc;
	memset(&nd, 0, sizeof(nd));
	nd.st = c->st;
	memcpy(nd.key, kcrypto_key_public(c->key), KITH_KEY_LEN);
	snprintf(nd.name, sizeof(nd.name), "%.64s", c->cfg.name);
	if ((rc = store_network(c->st, nd.network)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if ((nd.t = transport_new()) == NULL) {
		rc = fail(c, EX_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = set_identity(c, nd.t, c->key)) != 0)
		goto out;
	if ((sc = sync_client_new(&nd, ep, key, &rc)) == NULL) {
		rc = fail(c, exit_for(rc), "cannot sync with %s: %s", ep,
		    kith_strerror(rc));
		goto out;
	}
	do {
		sync_client_poll(sc, items);
		if ((rc = transport_poll(nd.t, items, 2, 100)) < 0)
			break;
		now = sync_now_ms();
		rc = sync_client_step(sc, now);
		if (tty && now - shown >= 200) {
			progress(sync_client_stats(sc), now, 0);
			shown = now;
		}
	} while (rc == 0);
	st = sync_client_stats(sc);
	if (tty && shown != 0)
		progress(st, st->end_ms, 1);
	if (rc < 0 && sync_client_refused(sc) != 0) {
		rc = fail(c, EX_NOPERM, "%s refused this node: %s (%s)", ep,
		    sync_client_error(sc),
		    kith_errname(sync_client_refused(sc)));
		goto out;
	}
	if (rc < 0) {
		/* A wrong key looks like silence: CURVE shows nothing else. */
		rc = fail(c, exit_for(rc), "sync with %s failed: %s%s%s%s", ep,
		    kith_strerror(rc),
		    *sync_client_error(sc) ? ": " : "", sync_client_error(sc),
		    rc == KITH_ETIMEDOUT && st->bytes_in == 0 ? " (unreachable, "
		    "or the key before @ is not that node's: `kith id` there "
		    "prints it; or this node's key has all its sync sessions "
		    "open there)" : "");
		goto out;
	}
	printf("received %llu records (%llu new, %llu rejected), sent %llu "
	    "(%llu new to the peer), %llu bytes, %llu round trips, %.3f s\n",
	    (unsigned long long)st->received, (unsigned long long)st->added,
	    (unsigned long long)st->rejected, (unsigned long long)st->sent,
	    (unsigned long long)st->peer_added,
	    (unsigned long long)(st->bytes_in + st->bytes_out),
	    (unsigned long long)st->round_trips,
	    (double)(st->end_ms - st->start_ms) / 1000.0);
	rc = st->rejected > 0 ? EX_DATAERR : 0;
	if (sync_client_clock(sc, &offset, &err) == 0 &&
	    (offset > HLC_WARN_MS || offset < -HLC_WARN_MS)) {
		hlc_format_offset(off, offset);
		fprintf(stderr, "kith: sync: warning: %s's clock is %s %s this "
		    "node's; one of them is wrong (kith doctor)\n", ep, off + 1,
		    offset > 0 ? "ahead of" : "behind");
	}
	if (st->held > 0)
		fprintf(stderr, "kith: sync: %llu records from %s are stamped "
		    "more than %d minutes ahead of this node's clock: not "
		    "applied until their time comes (kith doctor)\n",
		    (unsigned long long)st->held, ep,
		    KITH_HLC_FUTURE_MS / 60000);
	if (st->withheld > 0)
		fprintf(stderr, "kith: sync: %llu of this node's records were "
		    "not sent: stamped more than %d minutes ahead of %s's "
		    "clock, it would not take them; run kith doctor\n",
		    (unsigned long long)st->withheld, KITH_HLC_FUTURE_MS / 60000,
		    ep);
	if (st->peer_rejected > 0)
		fprintf(stderr, "kith: sync: %s did not take %llu of this "
		    "node's records (stamped too far ahead of its clock, or "
		    "invalid there); run kith doctor\n", ep,
		    (unsigned long long)st->peer_rejected);
	if (st->peer_rejected > 0 || st->withheld > 0)
		rc = EX_DATAERR;
out:
	sync_client_free(sc);
	transport_free(nd.t);
	return rc;
}

static volatile sig_atomic_t tail_stop;

static void
on_tail_signal(int sig)
{

	(void)sig;
	tail_stop = 1;
}

/*
 * Print referral ${rec}'s entity, as this home's store now holds it, as
 * FHIR NDJSON.  Return 0 if printed, else non-zero (a note on stderr).
 */
static int
tail_fhir(struct ctx *c, const struct record *rec)
{
	struct roster *r = NULL;
	struct state *s = NULL;
	struct fhir_item it;
	const char *why = "";
	int rc;

	memset(&it, 0, sizeof(it));
	/* Open only while it reads, so kithd may scrub between records. */
	if (c->st == NULL && (c->st = store_open(home_path(c, "store"),
	    STORE_RDONLY, 0, &rc)) == NULL)
		why = "cannot open this node's store";
	else if ((rc = store_state(c->st, record_header(rec)->entity,
	    &s)) != 0)
		why = "not in this node's store (yet)";
	else if ((rc = store_roster(c->st, &r)) != 0 ||
	    (rc = fhir_item(c, r, s, &it)) != 0)
		why = rc == KITH_ESEALED ? "sealed to other organisations" :
		    kith_strerror(rc);
	else if ((rc = fhir_check(&it.r, &why)) == 0 &&
	    (rc = fhir_write_ndjson(stdout, &it.r)) == 0)
		fflush(stdout);
	if (rc != 0) {
		char hex[2 * KITH_ENTITY_LEN + 1];

		kith_hex(hex, record_header(rec)->entity, KITH_ENTITY_LEN);
		fprintf(stderr, "kith: tail: referral %s skipped: %s\n", hex,
		    why);
	}
	fhir_item_free(&it);
	roster_free(r);
	state_free(s);
	store_close(c->st);
	c->st = NULL;
	return rc;
}

/*
 * Why a node's feed likely refused ${key}, from this home's roster: the
 * node's own may differ (it may not hold the record yet), so "likely".
 */
static void
likely_refusal(struct ctx *c, const uint8_t key[KITH_KEY_LEN], char *out,
    size_t size)
{
	const struct roster_entry *e;
	struct roster *r = NULL;
	int rc;

	if (c->st == NULL)
		c->st = store_open(home_path(c, "store"), STORE_RDONLY, 0, &rc);
	if (c->st == NULL || store_roster(c->st, &r) != 0)
		snprintf(out, size, "this home has no store to tell why");
	else if ((e = roster_find(r, key)) == NULL || e->role == ROLE_NONE)
		snprintf(out, size, "likely: this node's key is not a member, "
		    "as this home's roster has it");
	else if (e->revoked != 0)
		snprintf(out, size, "likely: this node's key is revoked, as "
		    "this home's roster has it");
	else if (e->role == ROLE_PCN)
		snprintf(out, size, "likely: role pcn may not read a feed");
	else
		snprintf(out, size, "this home's roster admits the key: the "
		    "node may not hold that record yet, or may know of a "
		    "revocation this home does not");
	roster_free(r);
}

static int
cmd_tail(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith tail KEY@ENDPOINT [--kind KIND] "
	    "[--json] [--count N]\n"
	    "       kith tail KEY@ENDPOINT --kind referral --format fhir "
	    "[--count N]\n\n"
	    "Subscribe to a node's live feed (its kithd feed endpoint; KEY is\n"
	    "that node's key, which `kith id` prints there) and print\n"
	    "each record as it is published: a line of text, or with --json one\n"
	    "JSON object per line.  --kind takes request, volunteer, referral,\n"
	    "member, charter or erase.  Personal fields are not shown.  Runs\n"
	    "until interrupted, or until N records with --count.  A subscriber\n"
	    "that was away misses records: kith sync catches up.\n\n"
	    "--format fhir (with --kind referral) prints, for each referral\n"
	    "record published, the referral's current FHIR R4 resources\n"
	    "(ServiceRequest, Task, Consent, Patient) as NDJSON, one resource\n"
	    "per line, from this home's store, for a PCN's integration engine:\n"
	    "tail the feed of the node's own kithd.  Referrals this node may\n"
	    "not read are skipped.\n\n"
	    "If the node refuses this node's key (not a member, revoked, a\n"
	    "PCN), tail stops with exit code 77 and the likely reason, from\n"
	    "this home's roster; it says so if no connection succeeds within\n"
	    "10 seconds, and keeps trying.\n";
	static const struct opt spec[] = { { "kind", 1 }, { "json", 0 },
	    { "count", 1 }, { "format", 1 }, { NULL, 0 } };
	struct syncmsg m = { SYNCMSG_PUSH, 0, NULL, 0 };
	struct syncmsg_records it;
	struct transport *t = NULL;
	struct tsock *sub = NULL;
	struct kcrypto_key *key = NULL;
	struct record *rec;
	struct view *v = NULL;
	struct tpoll item;
	struct sigaction sa;
	struct args a;
	const char *topic = "";
	unsigned long long want = 0, seen = 0;
	uint64_t kind, start;
	uint8_t node_pk[KITH_KEY_LEN], server_pk[32];
	char ep[CONFIG_ENDPOINT_MAX + 1], *end, why[160];
	int rc, fhir = 0, status, ok = 0, warned = 0;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.val[3] != NULL) {
		if (strcmp(a.val[3], "fhir") != 0 || a.val[1] != NULL ||
		    a.val[0] == NULL || strcmp(a.val[0], "referral") != 0)
			return fail(c, EX_USAGE, "--format: only fhir, with "
			    "--kind referral and without --json");
		/*
		 * Resources are built from this home's store, opened for
		 * each record (tail_fhir): held open for hours, it would keep
		 * kithd from scrubbing erased data off the disk.
		 */
		if ((rc = open_home(c, 1, 1)) != 0)
			return rc;
		store_close(c->st);
		c->st = NULL;
		fhir = 1;
	}
	if (a.npos != 1)
		return fail(c, EX_USAGE, "give the feed as KEY@ENDPOINT (see "
		    "kith tail --help)");
	if ((rc = peer_arg(c, a.pos[0], node_pk, ep)) != 0)
		return rc;
	/* config_peer_parse has checked that the key converts. */
	(void)kcrypto_x25519_public(node_pk, server_pk);
	if (a.val[0] != NULL) {
		if (kith_kind_parse(a.val[0], &kind) != 0)
			return fail(c, EX_USAGE, "--kind: unknown kind '%s'",
			    a.val[0]);
		topic = kith_kind_name(kind);
	}
	if (a.val[2] != NULL) {
		errno = 0;
		want = strtoull(a.val[2], &end, 10);
		if (errno != 0 || *end != '\0' || want == 0 ||
		    a.val[2][0] == '-')
			return fail(c, EX_USAGE, "--count must be a positive "
			    "number");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tail_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The node's own key if the home has one: a reader need not. */
	if ((key = kcrypto_key_load(home_path(c, "key"), &rc)) == NULL &&
	    rc == KITH_ENOTFOUND)
		key = kcrypto_key_generate();
	if (key == NULL) {
		rc = fail(c, exit_for(rc), "cannot read the node key %s: %s",
		    c->path, kith_strerror(rc));
		goto out;
	}
	if ((t = transport_new()) == NULL ||
	    (v = view_new(a.val[1] ? VIEW_NDJSON : VIEW_TEXT, stdout, 0,
	    0)) == NULL) {
		rc = fail(c, EX_SOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = set_identity(c, t, key)) != 0)
		goto out;
	if ((sub = tsock_open(t, TSOCK_SUB, ep, server_pk, &rc)) == NULL ||
	    (rc = tsock_subscribe(sub, topic)) != 0) {
		rc = fail(c, exit_for(rc), "cannot subscribe to %s: %s", ep,
		    kith_strerror(rc));
		goto out;
	}
	rc = 0;
	start = sync_now_ms();
	while (!tail_stop && (want == 0 || seen < want)) {
		if ((status = tsock_refused(sub, &ok)) != 0) {
			likely_refusal(c, kcrypto_key_public(key), why,
			    sizeof(why));
			rc = fail(c, EX_NOPERM, "%s refused this node's key "
			    "(ZAP status %d): %s", ep, status, why);
			break;
		}
		if (!ok && !warned && sync_now_ms() - start > 10000) {
			warned = 1;
			fprintf(stderr, "kith: tail: no answer from %s yet "
			    "(unreachable, or the key before @ is not that "
			    "node's: `kith id` there prints it); still "
			    "trying\n", ep);
		}
		item.sock = sub;
		item.fd = -1;
		if (transport_poll(t, &item, 1, 200) <= 0 || !item.readable)
			continue;
		while ((rc = tsock_recv(sub, NULL, &m.payload, &m.len)) != 1) {
			/* A malformed message is skipped, never fatal. */
			if (rc != 0 || syncmsg_records_start(&m, &it) != 0 ||
			    syncmsg_records_next(&it, &rec) != 0)
				continue;
			if (record_verify(rec) != 0) {
				fprintf(stderr, "kith: tail: skipped a record "
				    "with a bad signature\n");
			} else if (fhir) {
				seen += tail_fhir(c, rec) == 0;
			} else {
				if (!a.val[1])
					printf("%-9s ", kith_kind_name(
					    record_header(rec)->kind) ?
					    kith_kind_name(
					    record_header(rec)->kind) : "other");
				(void)view_version(v, rec);
				fflush(stdout);
				seen++;
			}
			record_free(rec);
			if (want != 0 && seen >= want)
				break;
		}
		rc = 0;
	}
out:
	view_free(v);
	tsock_close(sub);
	transport_free(t);
	kcrypto_key_free(key);
	return rc;
}

struct peers_out {
	struct view *v;
	size_t n;
};

struct peer_find {
	const char *ep;
	int found;
};

static int
find_peer(void *arg, const char *ep, const struct store_peer *p)
{
	struct peer_find *pf = arg;

	(void)p;
	if (strcmp(ep, pf->ep) == 0)
		pf->found = 1;
	return pf->found;
}

static void
when(char *out, size_t size, uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0) {
		snprintf(out, size, "never");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
show_peer(void *arg, const char *ep, const struct store_peer *p)
{
	struct peers_out *po = arg;
	char ok[32], tried[32];

	char clock[160], off[24], err[24], hex[2 * KITH_KEY_LEN + 1];

	clock[0] = '\0';
	if (p->clock_at != 0) {
		hlc_format_offset(off, p->offset_ms);
		hlc_format_offset(err, (int64_t)p->offset_err_ms);
		when(tried, sizeof(tried), p->clock_at);
		snprintf(clock, sizeof(clock), "  clock %s%s%s%s (%s)", off,
		    p->oneway ? " one way" : " +/-", p->oneway ? "" : err + 1,
		    p->offset_ms > HLC_WARN_MS || p->offset_ms < -HLC_WARN_MS ?
		    " OFF" : "", tried);
	}
	if (strncmp(ep, STORE_PEER_KEYED, strlen(STORE_PEER_KEYED)) == 0) {
		/* A node that connected here: its clock only. */
		kith_hex(hex, p->key, KITH_KEY_LEN);
		printf("key %.16s... (connected to this node)%s\n", hex, clock);
		po->n++;
		return 0;
	}
	when(ok, sizeof(ok), p->last_ok_ms);
	when(tried, sizeof(tried), p->last_try_ms);
	/* kithd's row for a caller it pushed to (PROTOCOL.md 9.7). */
	if (strncmp(ep, "caller ", 7) == 0)
		printf("%s (caller)", ep + 7);
	else
		printf("%s", ep);
	printf("  last sync %s  last attempt %s (%s)  it gave %llu, "
	    "took %llu", ok, tried,
	    p->last_rc == 0 ? "ok" : kith_strerror(p->last_rc),
	    (unsigned long long)p->received, (unsigned long long)p->sent);
	if (p->refused > 0)
		printf(", REFUSED %llu of ours", (unsigned long long)p->refused);
	if (p->held > 0)
		printf(", %llu of its held here (stamped too far ahead)",
		    (unsigned long long)p->held);
	printf("%s\n", clock);
	po->n++;
	return 0;
}

static int
cmd_peers(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] peers\n\n"
	    "List the peers in kith.conf ([sync] peer) and those kithd has\n"
	    "synced with: when the last sync succeeded, the last attempt and\n"
	    "its outcome, and how far behind each side was then (records the\n"
	    "peer gave us, and records we gave it), the records it refused\n"
	    "and those of its that wait here for their time, and its clock:\n"
	    "its offset from this node's (+: ahead), measured over the last\n"
	    "session's round trip (+/- the error) or one way when it connected\n"
	    "here, OFF past a minute.  Nodes that only connect here are listed\n"
	    "by key, with their clock.  A (caller) is a node that syncs with\n"
	    "this one, which kithd offered new records to at the port its\n"
	    "HELLO named; it is shown once that went well.\n";
	static const struct opt spec[] = { { NULL, 0 } };
	struct peers_out po = { NULL, 0 };
	struct args a;
	size_t i;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_peers(c->st, show_peer, &po)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	for (i = 0; i < c->cfg.npeers; i++) {
		struct peer_find pf = { c->cfg.peers[i], 0 };

		(void)store_peers(c->st, find_peer, &pf);
		if (!pf.found) {
			printf("%s  never synced\n", c->cfg.peers[i]);
			po.n++;
		}
	}
	if (po.n == 0)
		printf("no peers: add [sync] peer = KEY@tcp://HOST:PORT lines "
		    "to %s (KEY: `kith id` on that node)\n",
		    home_path(c, "kith.conf"));
	return 0;
}
/*
 * The pid of the kithd holding the home's lock, or 0 if none runs; then
 * the endpoints it uses (which its flags may have set) replace the
 * config's in ${c}.
 */
static long
daemon_pid(struct ctx *c)
{
	char buf[32 + 2 * (CONFIG_ENDPOINT_MAX + 2)], *listen, *feed, *end;
	ssize_t n;
	long pid = 0;
	int fd;

	if ((fd = open(home_path(c, "kithd.pid"), O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK &&
	    (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		pid = strtol(buf, NULL, 10);
		if (pid <= 0)
			pid = -1;
		if ((listen = strchr(buf, '\n')) != NULL &&
		    (feed = strchr(++listen, '\n')) != NULL &&
		    (end = strchr(++feed, '\n')) != NULL) {
			feed[-1] = *end = '\0';
			snprintf(c->cfg.listen, sizeof(c->cfg.listen), "%s",
			    listen);
			snprintf(c->cfg.feed, sizeof(c->cfg.feed), "%s", feed);
		}
	}
	close(fd);
	return pid;
}

static void status_clock(struct view *, const char *, int, const char *,
    const char *);

static int
cmd_status(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] status [--json]\n\n"
	    "Whether kithd is running on this home (and its pid), its\n"
	    "endpoints (those in use if it runs, else kith.conf's), the\n"
	    "store's record and entity counts, the state digest, and whether\n"
	    "its clocks are right: the system clock against its peers' (clock)\n"
	    "and the store's clock against the system clock (store_clock),\n"
	    "each ok, warn or fail with what it found; a warning also goes to\n"
	    "stderr, with what to do.  kith doctor checks more.\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	struct store_stats ss;
	struct clocks_view cv;
	uint8_t d[KITH_HASH_LEN];
	char hex[2 * KITH_HASH_LEN + 1], pidtext[48];
	char what[DOCTOR_TEXT_MAX], fix[DOCTOR_TEXT_MAX];
	struct view *v;
	struct args a;
	long pid;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_stats(c->st, &ss)) != 0 ||
	    (rc = store_digest(c->st, d)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	kith_hex(hex, d, sizeof(d));
	pid = daemon_pid(c);
	snprintf(pidtext, sizeof(pidtext), "running (pid %ld)", pid);
	if ((v = view_new(a.val[0] ? VIEW_OBJECT : VIEW_TEXT, stdout, 0,
	    0)) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	view_text(v, "daemon", pid > 0 ? pidtext : pid < 0 ? "running" :
	    "not running");
	view_text(v, "listen", c->cfg.listen[0] ? c->cfg.listen : "-");
	view_text(v, "feed", c->cfg.feed[0] ? c->cfg.feed : "-");
	view_pair(v, "records", ss.records);
	view_pair(v, "entities", ss.entities);
	view_text(v, "digest", hex);
	if ((rc = clocks_view(c->st, hlc_wall_ms(), &cv)) != 0) {
		view_free(v);
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	}
	status_clock(v, "clock", clocks_judge_system(&cv, what, sizeof(what),
	    fix, sizeof(fix)), what, fix);
	status_clock(v, "store_clock", clocks_judge_store(&cv, what,
	    sizeof(what), fix, sizeof(fix)), what, fix);
	rc = view_finish(v);
	view_free(v);
	return rc == 0 ? 0 : fail(c, EX_IOERR, "write failed");
}

/* A clock's verdict in kith status, and on stderr if it is not ok. */
static void
status_clock(struct view *v, const char *key, int level, const char *what,
    const char *fix)
{
	char line[1100];

	snprintf(line, sizeof(line), "%s: %s", doctor_level_name(level), what);
	view_text(v, key, line);
	if (level != CLOCKS_OK)
		fprintf(stderr, "kith: warning: %s\n  do: %s\n", what, fix);
}

static int
doctor_line(void *arg, const char *name, const struct doctor_result *r)
{

	return view_check(arg, name, doctor_level_name(r->level), r->what,
	    r->fix);
}

static void
doctor_report(void *arg, const char *name, const struct doctor_result *r)
{

	(void)doctor_line(arg, name, r);
}

/* Exit codes of kith doctor. */
#define EX_DOCTOR_WARN	1
#define EX_DOCTOR_FAIL	2

static int
cmd_doctor(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] doctor [--json]\n\n"
	    "Check this node's health, without changing anything: one line per\n"
	    "check, ok, warn or fail, with what it found and, below a check that\n"
	    "is not ok, what to do.  The checks:\n"
	    "  clock        the system clock against the peers' (the median of\n"
	    "               their offsets that kithd measured in the last day):\n"
	    "               warn past a minute, fail past 10 minutes (then\n"
	    "               records wait, unapplied, on one side)\n"
	    "  store clock  the store's clock against the system clock: ahead,\n"
	    "               this node stamps its records ahead (kith clock)\n"
	    "  peers        records the peers refused, or that wait here, at\n"
	    "               the last sync (kith peers says which)\n"
	    "  disk         free space on the home's disk: warn under 256 MiB,\n"
	    "               fail under 16 MiB (commits then fail)\n"
	    "  store size   the store against [store] max_size_mb: warn from\n"
	    "               90%, fail from 98%\n"
	    "  store errors a last sync that ended on this node's own store\n"
	    "               failing (a full disk or store): fail\n"
	    "  scrub        erased data waiting to leave the disk: warn a day\n"
	    "               past [store] scrub_after\n"
	    "--json prints a JSON array of {check, level, what, fix}.\n"
	    "Exit codes: 0 every check ok, 1 a warning (and no failure),\n"
	    "2 a failure; as other commands for a store that cannot be read.\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	struct doctor_ctx dc;
	struct view *v;
	struct args a;
	int rc, worst;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((v = view_new(a.val[0] ? VIEW_JSON : VIEW_TEXT, stdout, 0,
	    0)) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	dc.st = c->st;
	dc.home = c->home;
	dc.wall_ms = hlc_wall_ms();
	dc.max_bytes = c->cfg.max_size_mb << 20;
	dc.scrub_after_ms = c->cfg.scrub_after_s * 1000;
	worst = doctor_run(&dc, doctor_report, v);
	rc = view_finish(v);
	view_free(v);
	if (rc != 0)
		return fail(c, EX_IOERR, "write failed");
	return worst == DOCTOR_OK ? EX_OK : worst == DOCTOR_WARN ?
	    EX_DOCTOR_WARN : EX_DOCTOR_FAIL;
}

static int
clock_peer(void *arg, const char *ep, const struct store_peer *p)
{
	struct view *v = arg;
	char line[600], off[24], err[24], at[32];

	if (p->clock_at == 0)
		return 0;
	hlc_format_offset(off, p->offset_ms);
	hlc_format_offset(err, (int64_t)p->offset_err_ms);
	when(at, sizeof(at), p->clock_at);
	snprintf(line, sizeof(line), "%s%s%s, measured %s%s", off,
	    p->oneway ? " (one way: at least)" : " +/-", p->oneway ? "" :
	    err + 1, at, p->clock_at > hlc_wall_ms() ? " (in this clock's "
	    "future: not counted)" : "");
	view_text(v, ep, line);
	return 0;
}

static int
cmd_clock(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] clock [--json]\n"
	    "       kith [--home DIR] clock reset\n\n"
	    "Show this node's clocks: the system clock, the store's clock (the\n"
	    "last timestamp the store issued or accepted; a record written now\n"
	    "is stamped after it), how far the store's clock is ahead of the\n"
	    "system clock, and each peer's clock offset from this node's (+: the\n"
	    "peer is ahead) as kithd last measured it, with their median\n"
	    "(--json: the figures and verdicts, without the peer lines).\n\n"
	    "reset: after the system clock was wrong (ahead) and has been set\n"
	    "right, the store's clock stays where the wrong clock left it, and\n"
	    "every record this node writes is stamped that far ahead; peers\n"
	    "hold such records until their clocks reach the stamp.  reset sets\n"
	    "the store's clock back to the system clock, so new records are\n"
	    "stamped right.  It refuses while the system clock disagrees with\n"
	    "the peers' by more than a minute (set the system clock right\n"
	    "first).  What it means: records already written keep their stamps\n"
	    "(they are signed) and are taken by peers when their time comes;\n"
	    "a record written after the reset may carry an earlier stamp than\n"
	    "one this node wrote or saw before it.  Nothing is lost: an edit\n"
	    "supersedes every record it has seen, whatever the stamps, and an\n"
	    "edit made elsewhere meanwhile shows as a conflict (kith conflicts).\n"
	    "But kith history lists the records by stamp, and an export with\n"
	    "--since, which filters by stamp, can miss such a record: export\n"
	    "again from before the reset.  It works with kithd running.\n";
	static const struct opt spec[] = { { "json", 0 }, { NULL, 0 } };
	struct clocks_view cv;
	struct view *v;
	struct args a;
	char what[DOCTOR_TEXT_MAX], fix[DOCTOR_TEXT_MAX], buf[40], off[24];
	uint64_t old;
	int rc, level;

	if ((rc = parse_args(c, spec, 1, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	if (a.npos == 1 && strcmp(a.pos[0], "reset") != 0)
		return fail(c, EX_USAGE, "unknown clock command '%s' (see kith "
		    "clock --help)", a.pos[0]);
	if (a.npos == 1) {
		if ((rc = open_home(c, 0, 0)) != 0)
			return rc;
		rc = clocks_reset(c->st, hlc_wall_ms(), &old, what,
		    sizeof(what));
		if (rc == KITH_EDENIED)
			return fail(c, EX_NOPERM, "not reset: %s; set the "
			    "system clock right first (kith doctor)", what);
		if (rc != 0)
			return fail(c, exit_for(rc), "%s", kith_strerror(rc));
		hlc_format(buf, old);
		if (HLC_MS(old) <= hlc_wall_ms()) {
			printf("the store's clock (%s) is not ahead of the "
			    "system clock: nothing to do\n", buf);
			return 0;
		}
		hlc_format_offset(off, (int64_t)(HLC_MS(old) - hlc_wall_ms()));
		printf("the store's clock was %s, %s ahead of the system clock; "
		    "it is now the system clock.  Records written from now on "
		    "are stamped by the system clock; those written before "
		    "keep their stamps, and peers take them when their time "
		    "comes.\n", buf, off + 1);
		return 0;
	}
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = clocks_view(c->st, hlc_wall_ms(), &cv)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	if ((v = view_new(a.val[0] ? VIEW_OBJECT : VIEW_TEXT, stdout, 0,
	    0)) == NULL)
		return fail(c, EX_SOFTWARE, "out of memory");
	hlc_format(buf, HLC_MAKE(cv.wall_ms, 0));
	view_text(v, "system", buf);
	hlc_format(buf, cv.store_hlc);
	view_text(v, "store", buf);
	view_int(v, "store_ahead_ms", cv.store_ahead_ms);
	view_pair(v, "peers_measured", cv.npeers);
	view_int(v, "median_offset_ms", cv.median_ms);
	level = clocks_judge_system(&cv, what, sizeof(what), fix, sizeof(fix));
	status_clock(v, "clock", level, what, fix);
	level = clocks_judge_store(&cv, what, sizeof(what), fix, sizeof(fix));
	status_clock(v, "store_clock", level, what, fix);
	if (!a.val[0])
		(void)store_peers(c->st, clock_peer, v);
	rc = view_finish(v);
	view_free(v);
	return rc == 0 ? 0 : fail(c, EX_IOERR, "write failed");
}

/* ---- Damage: verify, repair, restore. ---- */

static const char *const bad_kinds[] = { "", "bad record", "bad body",
	"bad index entry", "bad state of entity" };

struct verify_out {
	int pages;		/* --pages: list every page */
};

static void
report_page(void *arg, uint64_t pgno, const char *db, const char *kind,
    unsigned n)
{
	struct verify_out *vo = arg;

	if (vo->pages)
		printf("page %llu %s %s %u\n", (unsigned long long)pgno,
		    *db ? db : "-", kind, n);
}

static void
report_page_bad(void *arg, uint64_t pgno, const char *db, const char *what)
{

	(void)arg;
	printf("damaged page %llu%s%s: %s\n", (unsigned long long)pgno,
	    *db ? " of database " : "", db, what);
}

static void
report_check(void *arg, int kind, const uint8_t id[KITH_ID_LEN],
    const char *what)
{
	char hex[2 * KITH_ID_LEN + 1];

	(void)arg;
	kith_hex(hex, id, kind == STORE_BAD_STATE ? KITH_ENTITY_LEN :
	    KITH_ID_LEN);
	printf("%s %s: %s\n", bad_kinds[kind], hex, what);
}

static const char *
plural(size_t n, const char *one, const char *many)
{

	return n == 1 ? one : many;
}

/*
 * Check the structure of the home's data file, page by page, without
 * LMDB; list pages if ${vo}.  Return 0, EX_BAD after saying what to do,
 * or another exit code.
 */
static int
check_structure(struct ctx *c, struct verify_out *vo, int quiet)
{
	struct pagecheck_cb cb = { quiet ? NULL : report_page_bad,
	    vo != NULL ? report_page : NULL, NULL, NULL, vo };
	struct pagecheck_stats ps;
	int rc;

	rc = pagecheck_file(home_path(c, "store/data.mdb"), 0, &cb, &ps);
	if (rc == KITH_ENOTFOUND)
		return fail(c, EX_NOINPUT, "no kith store in %s", c->home);
	if (rc == KITH_ECORRUPT) {
		if (!quiet)
			printf("the store's file is damaged in its structure: "
			    "%llu %s (listed above); no record was read through "
			    "it.\nwhat to do: stop kithd, then run: kith --home "
			    "%s restore\n(it moves the damaged store aside, "
			    "keeps every record it can still read, and fetches "
			    "the rest from this node's peers)\n",
			    (unsigned long long)ps.problems,
			    plural(ps.problems, "problem", "problems"), c->home);
		return EX_BAD;
	}
	if (rc != 0)
		return fail(c, exit_for(rc), "cannot read %s: %s", c->path,
		    kith_strerror(rc));
	if (vo != NULL && vo->pages && !quiet)
		printf("structure: %llu pages checked, ok\n",
		    (unsigned long long)ps.pages);
	return 0;
}

static int
cmd_verify(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] verify [--pages]"
	    "\n\n"
	    "Check the store, reading only.  First the structure of its data\n"
	    "file, page by page, with kith's own reader (LMDB is not let near a\n"
	    "damaged file); then every record (its id, signature and body hash),\n"
	    "every index entry, both ways, and every entity's state against the\n"
	    "state its records compute.  It names each problem, prints one\n"
	    "summary line of counts, and says which command to run next:\n"
	    "  damaged records or bodies   kithd fetches good copies from its\n"
	    "                              peers on its own; or: kith repair\n"
	    "  damaged indexes or states   kith repair\n"
	    "  damaged file structure      kith restore\n"
	    "\n"
	    "  --pages   also list every page reached: number, database, kind\n"
	    "            (meta, branch, leaf, leaf2, overflow) and keys\n"
	    "\n"
	    "Exit 0 if all is good, 1 if anything is damaged, 74 if the store\n"
	    "cannot be read.\n";
	static const struct opt spec[] = { { "pages", 0 }, { NULL, 0 } };
	struct verify_out vo;
	struct store_check sc;
	size_t bad;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	vo.pages = a.val[0] != NULL;
	if ((rc = check_structure(c, &vo, 0)) != 0)
		return rc;
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = store_check(c->st, report_check, NULL, &sc)) != 0)
		return fail(c, exit_for(rc), "the store could not be read: %s",
		    kith_strerror(rc));
	bad = sc.bad_records + sc.bad_bodies + sc.bad_index + sc.bad_states;
	printf("verified %zu records, %zu bodies, %zu index entries, %zu "
	    "states: %zu bad records, %zu bad bodies, %zu bad index entries, "
	    "%zu bad states%s\n", sc.records, sc.bodies, sc.index, sc.states,
	    sc.bad_records, sc.bad_bodies, sc.bad_index, sc.bad_states,
	    bad == 0 ? ": ok" : "");
	if (sc.unjudged > 0)
		printf("the state of %zu %s was not compared: %s damaged "
		    "records\n", sc.unjudged, plural(sc.unjudged, "entity",
		    "entities"), plural(sc.unjudged, "it has", "they have"));
	if (bad == 0)
		return EX_OK;
	if (sc.bad_index + sc.bad_states > 0)
		printf("what to do: stop kithd, then run: kith --home %s repair"
		    "\n(it rebuilds the indexes and the state from the records, "
		    "and fetches good copies of damaged records from peers)\n",
		    c->home);
	else
		printf("what to do: nothing if kithd runs with peers: it "
		    "replaces damaged records and bodies from them on its own.  "
		    "To do it now: stop kithd, then run: kith --home %s repair\n",
		    c->home);
	return EX_BAD;
}

/*
 * Reconcile with the peer ${key} at ${ep} to the end, as kith sync does,
 * quietly; ${*st} gets the session's figures.  Return 0 or an error code,
 * with the peer's message in ${err}.
 */
static int
sync_quiet(struct ctx *c, const uint8_t key[KITH_KEY_LEN], const char *ep,
    struct sync_stats *out, char *err, size_t errlen)
{
	struct sync_node nd;
	struct sync_client *sc = NULL;
	struct tpoll items[2];
	uint8_t pk[32], sk[32];
	int rc;

	memset(&nd, 0, sizeof(nd));
	memset(out, 0, sizeof(*out));
	*err = '\0';
	nd.st = c->st;
	memcpy(nd.key, kcrypto_key_public(c->key), KITH_KEY_LEN);
	snprintf(nd.name, sizeof(nd.name), "%.64s", c->cfg.name);
	if ((rc = store_network(c->st, nd.network)) != 0)
		return rc;
	if ((nd.t = transport_new()) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	if ((rc = kcrypto_key_x25519(c->key, pk, sk)) == 0)
		rc = transport_set_identity(nd.t, pk, sk);
	kcrypto_wipe(sk, sizeof(sk));
	if (rc != 0 || (sc = sync_client_new(&nd, ep, key, &rc)) == NULL)
		goto out;
	do {
		sync_client_poll(sc, items);
		if ((rc = transport_poll(nd.t, items, 2, 100)) < 0)
			break;
		rc = sync_client_step(sc, sync_now_ms());
	} while (rc == 0);
	*out = *sync_client_stats(sc);
	snprintf(err, errlen, "%s", sync_client_error(sc));
	rc = rc == 1 ? 0 : rc;
out:
	sync_client_free(sc);
	transport_free(nd.t);
	return rc;
}

/*
 * The peers to fetch from: --peer KEY@ENDPOINT if given, else the
 * config's.  Sync with each; return how many answered to the end, and
 * add up what came in ${*added}.
 */
static size_t
sync_peers(struct ctx *c, const char *one, size_t *tried, uint64_t *added)
{
	uint8_t key[KITH_KEY_LEN];
	char ep[CONFIG_ENDPOINT_MAX + 1], err[256];
	struct sync_stats ss;
	size_t i, n, ok = 0;
	int rc;

	n = one != NULL ? 1 : c->cfg.npeers;
	*tried = n;
	*added = 0;
	for (i = 0; i < n; i++) {
		if (one != NULL) {
			if (config_peer_parse(one, key, ep, sizeof(ep)) != 0)
				continue;
		} else {
			memcpy(key, c->cfg.peer_keys[i], KITH_KEY_LEN);
			snprintf(ep, sizeof(ep), "%s", c->cfg.peers[i]);
		}
		rc = sync_quiet(c, key, ep, &ss, err, sizeof(err));
		*added += ss.added;
		if (rc == 0) {
			ok++;
			printf("peer %s: %llu records received, %llu new\n", ep,
			    (unsigned long long)ss.received,
			    (unsigned long long)ss.added);
		} else
			printf("peer %s: %s%s%s\n", ep, kith_strerror(rc),
			    *err ? ": " : "", err);
	}
	return ok;
}

static long daemon_pid(struct ctx *);

/* Ids that a repair found damaged, to see afterwards which came back. */
struct damaged {
	uint8_t (*id)[KITH_ID_LEN];
	int *kind;
	size_t n, cap;
};

static void
note_repaired(void *arg, int kind, const uint8_t id[KITH_ID_LEN],
    const char *what)
{
	struct damaged *d = arg;
	uint8_t (*bid)[KITH_ID_LEN];
	int *bk;

	report_check(NULL, kind, id, what);
	if (d->n == d->cap) {
		if ((bid = realloc(d->id, (d->cap * 2 + 16) * KITH_ID_LEN)) ==
		    NULL)
			return;
		d->id = bid;
		if ((bk = realloc(d->kind, (d->cap * 2 + 16) * sizeof(int))) ==
		    NULL)
			return;
		d->kind = bk;
		d->cap = d->cap * 2 + 16;
	}
	memcpy(d->id[d->n], id, KITH_ID_LEN);
	d->kind[d->n++] = kind;
}

/* How many of ${d}'s records are held whole again (with their bodies). */
static size_t
count_back(struct ctx *c, const struct damaged *d)
{
	struct record *rec;
	size_t i, back = 0, len;

	for (i = 0; i < d->n; i++) {
		if (store_get(c->st, d->id[i], &rec) != 0)
			continue;
		back += d->kind[i] != STORE_BAD_BODY ||
		    record_body(rec, &len) != NULL;
		record_free(rec);
	}
	return back;
}

static int
cmd_repair(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] repair "
	    "[--peer KEY@ENDPOINT]\n\n"
	    "Repair a store whose file structure is sound (kith verify says\n"
	    "which): remove records whose header fails its id or signature and\n"
	    "drop bodies that fail their hash, rebuild every index and every\n"
	    "entity's state from the records, then fetch good copies from the\n"
	    "peer given, else from every peer in kith.conf, as kith sync does.\n"
	    "It reports what it replaced.  Stop kithd first.  A store whose\n"
	    "structure is damaged cannot be repaired in place: use kith restore.\n"
	    "\n"
	    "Exit 0 when the store is whole again, 69 if some damaged records\n"
	    "could not be fetched yet (run it again when a peer is reachable),\n"
	    "1 if the structure is damaged, 75 if kithd runs.\n";
	static const struct opt spec[] = { { "peer", 1 }, { NULL, 0 } };
	struct damaged d = { NULL, NULL, 0, 0 };
	struct store_rebuilt rb;
	struct store_check sc;
	const char *peer;
	uint64_t added;
	size_t ok, tried, back;
	struct args a;
	int rc;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	peer = arg(spec, &a, "peer");
	if (peer != NULL && (rc = peer_arg(c, peer, (uint8_t[KITH_KEY_LEN]){ 0 },
	    (char[CONFIG_ENDPOINT_MAX + 1]){ 0 })) != 0)
		return rc;
	if (daemon_pid(c) != 0)
		return fail(c, EX_TEMPFAIL, "kithd runs on %s: stop it first (it "
		    "replaces damaged records from its peers on its own)",
		    c->home);
	if ((rc = check_structure(c, NULL, 0)) != 0)
		return rc;
	if ((rc = open_home(c, 1, 2)) != 0)
		return rc;
	if ((rc = store_rebuild(c->st, note_repaired, &d, &rb)) != 0) {
		rc = fail(c, exit_for(rc), "nothing was changed: %s",
		    kith_strerror(rc));
		goto out;
	}
	printf("rebuilt the indexes of %zu records and the state of %zu "
	    "entities; removed %zu damaged records, dropped %zu damaged "
	    "bodies\n", rb.records, rb.entities, rb.bad_records, rb.bad_bodies);
	ok = sync_peers(c, peer, &tried, &added);
	back = count_back(c, &d);
	if ((rc = store_check(c->st, NULL, NULL, &sc)) != 0) {
		rc = fail(c, exit_for(rc), "%s", kith_strerror(rc));
		goto out;
	}
	printf("replaced %zu of %zu damaged records and bodies with good "
	    "copies from %zu of %zu peers\n", back, d.n, ok, tried);
	if (back < d.n) {
		printf("what to do: run kith --home %s repair again when a peer "
		    "is reachable (kithd also fetches them once it runs)\n",
		    c->home);
		rc = EX_UNAVAILABLE;
	} else if (sc.bad_records + sc.bad_bodies + sc.bad_index +
	    sc.bad_states > 0) {
		printf("still damaged after the repair: run kith verify\n");
		rc = EX_BAD;
	} else
		rc = 0;
out:
	free(d.id);
	free(d.kind);
	return rc;
}

/* Records read from a damaged file, and the bodies beside them. */
struct salvage {
	struct body_ref {
		uint8_t key[8 + KITH_ID_LEN];
		const uint8_t *p;
		size_t len;
	} *bodies;
	size_t nbodies, capbodies;
	struct record **recs;
	size_t n, cap;
	size_t bad;
};

static int
salvage_body(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
    size_t vlen)
{
	struct salvage *s = arg;
	struct body_ref *bigger;

	if (klen != 8 + KITH_ID_LEN)
		return 0;
	if (s->nbodies == s->capbodies) {
		if ((bigger = realloc(s->bodies, (s->capbodies * 2 + 256) *
		    sizeof(*bigger))) == NULL)
			return KITH_ENOMEM;
		s->bodies = bigger;
		s->capbodies = s->capbodies * 2 + 256;
	}
	memcpy(s->bodies[s->nbodies].key, key, klen);
	s->bodies[s->nbodies].p = val;
	s->bodies[s->nbodies++].len = vlen;
	return 0;
}

static int
body_ref_cmp(const void *a, const void *b)
{

	return memcmp(a, ((const struct body_ref *)b)->key, 8 + KITH_ID_LEN);
}

static int
salvage_rec(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
    size_t vlen)
{
	struct salvage *s = arg;
	struct body_ref *b;
	struct record *rec = NULL, **bigger;

	if (klen != 8 + KITH_ID_LEN) {
		s->bad++;
		return 0;
	}
	/* Bodies were gathered in key order: a binary search finds one. */
	b = bsearch(key, s->bodies, s->nbodies, sizeof(*s->bodies),
	    body_ref_cmp);
	if ((b == NULL || record_decode(val, vlen, b->p, b->len, &rec) != 0) &&
	    record_decode(val, vlen, NULL, 0, &rec) != 0) {
		s->bad++;
		return 0;
	}
	if (memcmp(record_id(rec), key + 8, KITH_ID_LEN) != 0) {
		record_free(rec);
		s->bad++;
		return 0;
	}
	if (s->n == s->cap) {
		if ((bigger = realloc(s->recs, (s->cap * 2 + 256) *
		    sizeof(*bigger))) == NULL) {
			record_free(rec);
			return KITH_ENOMEM;
		}
		s->recs = bigger;
		s->cap = s->cap * 2 + 256;
	}
	s->recs[s->n++] = rec;
	return 0;
}

/*
 * Read what records of the data file at ${path} can still be read, with
 * kith's own reader, past any damage, and apply them to the fresh store:
 * the charter first (or the one in ${charter_file}).  Nothing is believed
 * that fails its id or signature.
 */
static int
salvage_into(struct ctx *c, const char *path, const char *charter_file,
    size_t *kept, size_t *lost)
{
	struct pagecheck_cb cb = { NULL, NULL, "body", salvage_body, NULL };
	struct pagecheck_stats ps;
	struct salvage s;
	struct pagecheck *pc;
	struct record *charter = NULL;
	struct store_result res;
	uint8_t net[KITH_NETWORK_LEN];
	size_t i, k;
	FILE *f;
	int rc;

	memset(&s, 0, sizeof(s));
	*kept = *lost = 0;
	cb.arg = &s;
	if ((pc = pagecheck_open(path, &rc)) != NULL) {
		rc = pagecheck_run(pc, 0, &cb, &ps);
		cb.entry_db = "rec";
		cb.entry = salvage_rec;
		if (rc == 0 || rc == KITH_ECORRUPT)
			rc = pagecheck_run(pc, 0, &cb, &ps);
		if (rc == KITH_ECORRUPT)
			rc = 0;
	}
	for (i = 0; rc == 0 && i < s.n; i++)
		if (record_header(s.recs[i])->kind == KITH_KIND_CHARTER &&
		    record_verify(s.recs[i]) == 0)
			charter = s.recs[i];
	if (charter == NULL && charter_file != NULL) {
		if ((f = fopen(charter_file, "rb")) == NULL) {
			rc = fail(c, EX_NOINPUT, "%s: %s", charter_file,
			    strerror(errno));
			goto out;
		}
		if ((rc = recfile_read_start(f, net)) == 0 &&
		    (rc = recfile_read(f, &charter)) == 1)
			rc = KITH_ETRUNC;
		fclose(f);
		if (rc != 0) {
			rc = fail(c, EX_DATAERR, "%s: not a charter file: %s",
			    charter_file, kith_strerror(rc));
			goto out;
		}
	}
	if (charter == NULL) {
		rc = fail(c, EX_DATAERR, "the network's charter could not be "
		    "read from the damaged store: on a peer node run\n  kith "
		    "network charter > charter\nand give it here with "
		    "--charter charter");
		goto out;
	}
	if ((rc = store_init_network(c->st, charter)) != 0 &&
	    rc != KITH_EEXIST) {
		rc = fail(c, exit_for(rc), "cannot start the store: %s",
		    kith_strerror(rc));
		goto out;
	}
	/* The rest in batches; signatures are checked, duplicates skipped. */
	for (i = 0, rc = 0; i < s.n && rc == 0; i += k) {
		k = s.n - i < 1000 ? s.n - i : 1000;
		if ((rc = store_apply(c->st, s.recs + i, k, &res, NULL,
		    NULL)) == 0) {
			*kept += res.added + res.duplicate;
			*lost += res.rejected;
		}
	}
	*lost += s.bad;
	if (rc != 0)
		rc = fail(c, exit_for(rc), "cannot store what was salvaged: %s",
		    kith_strerror(rc));
out:
	if (charter != NULL) {
		for (i = 0; i < s.n && s.recs[i] != charter; i++)
			;
		if (i == s.n)
			record_free(charter);
	}
	store_records_free(s.recs, s.n);
	free(s.bodies);
	pagecheck_close(pc);
	return rc;
}

static int
cmd_restore(struct ctx *c, int argc, char **argv)
{
	static const char help[] = "usage: kith [--home DIR] restore "
	    "[--peer KEY@ENDPOINT] [--charter FILE]\n\n"
	    "Rebuild this node from its peers, with its own key, when its store\n"
	    "is too damaged to repair in place (kith verify says so).  Stop kithd\n"
	    "first.  It\n"
	    "  1. moves HOME/store aside to HOME/store.damaged-TIME (it never\n"
	    "     deletes it),\n"
	    "  2. makes a fresh store that takes no writes of this node's own\n"
	    "     (kith request add and the like are refused, and kithd will not\n"
	    "     start) until the restore has caught up,\n"
	    "  3. keeps every record it can still read from the damaged file\n"
	    "     (each checked against its id, signature and body hash),\n"
	    "  4. fetches everything else from the peer given with --peer, else\n"
	    "     from every peer in kith.conf,\n"
	    "  5. once every one of those peers has answered to the end, lets\n"
	    "     the node write again: its own records go on from the last\n"
	    "     one any of them holds, so no other node sees a fork.\n"
	    "If a peer cannot be reached, run kith restore again: it goes on\n"
	    "with the fresh store.  --charter FILE gives the network's charter\n"
	    "(kith network charter on a peer writes it) when the damaged file\n"
	    "no longer holds a readable one.\n"
	    "\n"
	    "Exit 0 when caught up, 69 if a peer did not answer (writes stay\n"
	    "refused), 66 if the node's key is missing, 75 if kithd runs.\n";
	static const struct opt spec[] = { { "peer", 1 }, { "charter", 1 },
		{ NULL, 0 } };
	const char *peer, *charter;
	char store_dir[4300], aside[4400] = "", data[4500];
	struct args a;
	struct stat sb;
	size_t ok, tried, kept = 0, lost = 0;
	uint64_t added;
	int rc, resume = 0;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	peer = arg(spec, &a, "peer");
	charter = arg(spec, &a, "charter");
	if (peer != NULL && (rc = peer_arg(c, peer, (uint8_t[KITH_KEY_LEN]){ 0 },
	    (char[CONFIG_ENDPOINT_MAX + 1]){ 0 })) != 0)
		return rc;
	if (daemon_pid(c) != 0)
		return fail(c, EX_TEMPFAIL, "kithd runs on %s: stop it first",
		    c->home);
	config_defaults(&c->cfg);
	if (config_load(home_path(c, "kith.conf"), &c->cfg, data,
	    sizeof(data)) == KITH_EINVAL)
		return fail(c, EX_CONFIG, "%s", data);
	if (peer == NULL && c->cfg.npeers == 0)
		return fail(c, EX_USAGE, "no peers to restore from: give "
		    "--peer KEY@ENDPOINT, or list them in kith.conf");
	if ((c->key = kcrypto_key_load(home_path(c, "key"), &rc)) == NULL)
		return fail(c, rc == KITH_ENOTFOUND ? EX_NOINPUT : EX_IOERR,
		    "cannot read the node key %s: %s (restore rebuilds a node "
		    "with its own key)", c->path, kith_strerror(rc));
	snprintf(store_dir, sizeof(store_dir), "%s", home_path(c, "store"));
	/* A restore begun before, not caught up yet: go on with it. */
	if ((c->st = store_open(store_dir, STORE_SHARED, 0, &rc)) != NULL &&
	    store_restoring(c->st))
		resume = 1;
	else {
		store_close(c->st);
		c->st = NULL;
	}
	if (!resume && stat(store_dir, &sb) == 0) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		snprintf(aside, sizeof(aside), "%s.damaged-%04d%02d%02dT%02d%02d"
		    "%02dZ", store_dir, tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (stat(aside, &sb) == 0 || rename(store_dir, aside) != 0)
			return fail(c, EX_CANTCREAT, "cannot move %s aside to "
			    "%s: %s", store_dir, aside, stat(aside, &sb) == 0 ?
			    "it exists" : strerror(errno));
		printf("moved the damaged store aside to %s\n", aside);
	}
	if (!resume) {
		if ((c->st = store_open(store_dir, STORE_CREATE | STORE_SHARED,
		    c->cfg.max_size_mb << 20, &rc)) == NULL)
			return fail(c, EX_CANTCREAT, "cannot create a fresh "
			    "store: %s", kith_strerror(rc));
		/* Before anything else: no write of ours until caught up. */
		if ((rc = store_set_restoring(c->st, 1)) != 0)
			return fail(c, exit_for(rc), "%s", kith_strerror(rc));
		snprintf(data, sizeof(data), "%s/data.mdb", aside);
		if ((*aside == '\0' || stat(data, &sb) != 0) &&
		    charter == NULL)
			return fail(c, EX_NOINPUT, "no damaged store to read "
			    "the network from: give --charter FILE");
		if ((rc = salvage_into(c, data, charter, &kept,
		    &lost)) != 0)
			return rc;
		printf("kept %zu records read from the damaged store; %zu "
		    "could not be read\n", kept, lost);
	} else
		printf("going on with the restore begun before\n");
	ok = sync_peers(c, peer, &tried, &added);
	if (ok < tried) {
		printf("not caught up: %zu of %zu peers answered; this node "
		    "takes no writes of its own until it has.  Run kith --home "
		    "%s restore again when they can be reached.\n", ok, tried,
		    c->home);
		return EX_UNAVAILABLE;
	}
	if ((rc = store_set_restoring(c->st, 0)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	printf("restored: %llu records fetched from %zu %s; this node writes "
	    "again, and kithd may start\n", (unsigned long long)added, ok,
	    plural(ok, "peer", "peers"));
	return 0;
}

static const struct command {
	const char *name;
	int (*fn)(struct ctx *, int, char **);
} commands[] = {
	{ "init", cmd_init },
	{ "id", cmd_id },
	{ "network", cmd_network },
	{ "member", cmd_member },
	{ "quarantine", cmd_quarantine },
	{ "request", cmd_request },
	{ "volunteer", cmd_volunteer },
	{ "referral", cmd_referral },
	{ "show", cmd_show },
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
	    strcmp(argv[ai], "volunteer") == 0) && argv[ai + 1][0] != '-')
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
