/*
 * The command layer's common parts: options, the home, messages and
 * exit codes, and the calls into the domain modules (node/actor.h).
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
int
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
	case KITH_ENOHOST:
	case KITH_ENOLISTEN:
	case KITH_EWRONGKEY:
		return EX_UNAVAILABLE;
	case KITH_EPROTO:
	case KITH_EPEER:
	case KITH_ENETWORK:
		return EX_PROTOCOL;
	case KITH_EDENIED:
	case KITH_ESEALED:
	case KITH_EFULL:
		return EX_NOPERM;
	case KITH_EEXIST:
		return EX_DATAERR;
	case KITH_EBUSY:
		return EX_TEMPFAIL;
	}
	return EX_IOERR;
}

/*
 * Parse ${argv} against ${spec} (NULL-terminated): "--name value",
 * "--name=value", flags, and up to ${maxpos} positional arguments.
 * Return 0, HELP, or EX_USAGE after a message.
 */
int
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
		/* A global option after the command: say where it goes. */
		if (spec[k].name == NULL && len == 4 &&
		    strncmp(name, "home", 4) == 0)
			return fail(c, EX_USAGE, "--home goes before the "
			    "command: kith --home %s %s%s", eq != NULL ?
			    eq + 1 : i + 1 < argc ? argv[i + 1] : "DIR",
			    c->cmd != NULL ? c->cmd : "COMMAND",
			    argc > 2 || (argc == 2 && eq != NULL) ? " ..." :
			    "");
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
const char *
arg(const struct opt *spec, const struct args *a, const char *name)
{
	int k;

	for (k = 0; spec[k].name != NULL; k++)
		if (strcmp(spec[k].name, name) == 0)
			return a->val[k];
	return NULL;
}

int
one_of(const char *s, const char *const *set)
{

	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/*
 * The field options of ${defs} given in ${a} (parsed against ${spec})
 * into ${in} (room for MAX_OPTS); return how many.
 */
size_t
fields_given(const struct field_def *defs, const struct opt *spec,
    const struct args *a, struct field_in *in)
{
	const char *v;
	size_t n = 0;

	for (; defs->opt != NULL && n < MAX_OPTS; defs++)
		if ((v = arg(spec, a, defs->opt)) != NULL) {
			in[n].opt = defs->opt;
			in[n++].value = v;
		}
	return n;
}

/*
 * A list filter: ${v} checked and normalised as field ${opt} of ${kind}
 * into ${out}; EX_USAGE after a message.
 */
int
filter_value(const struct ctx *c, uint64_t kind, const char *opt,
    const char *v, char *out, size_t outlen)
{
	const struct field_def *f = field_find(field_defs(kind), opt);

	if (field_norm(f, v, out, outlen) != 0)
		return fail(c, EX_USAGE, "invalid --%s '%s': expected %s", opt,
		    v, f->hint);
	return 0;
}

const char *
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
int
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
	actor_init(&c->act, c->st, c->key);
	return 0;
}

/* A domain call's refusal (${c}->act.why): its exit code after a message. */
int
refused(struct ctx *c, int rc)
{

	return fail(c, exit_for(rc), "%s", c->act.why[0] != '\0' ?
	    c->act.why : kith_strerror(rc));
}

/*
 * After a domain call that writes: its refusal, or its notes on stderr and
 * the id written on stdout (the entity's if ${entity}, else the record's).
 */
int
acted(struct ctx *c, int rc, int entity)
{
	char hex[2 * KITH_ID_LEN + 1];
	const char *p, *nl;

	if (rc != 0)
		return refused(c, rc);
	/* Each note a line "kith: ..."; indented lines go on as they are. */
	for (p = c->act.note; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		fprintf(stderr, "%s%.*s\n", *p == ' ' ? "" : "kith: ",
		    (int)(nl - p), p);
	}
	if (entity)
		kith_hex(hex, c->act.entity, KITH_ENTITY_LEN);
	else
		kith_hex(hex, c->act.id, KITH_ID_LEN);
	printf("%s\n", hex);
	return 0;
}

/*
 * Resolve an id argument (32 hex digits or a unique prefix of at least 6) to
 * an entity of ${kind} (0: any), and load its state into ${*s} if not NULL.
 */
int
find_entity(struct ctx *c, const char *hex, uint64_t kind,
    uint8_t id[KITH_ENTITY_LEN], struct state **s)
{
	int rc;

	return (rc = entity_find(&c->act, hex, kind, id, s)) != 0 ?
	    refused(c, rc) : 0;
}

/* The member organisation named by option --${opt} ${what}. */
int
find_org(struct ctx *c, const char *opt, const char *what,
    uint8_t key[KITH_KEY_LEN])
{
	int rc;

	if ((rc = member_find(&c->act, what, key)) != 0)
		return fail(c, exit_for(rc), "--%s %s", opt, c->act.why);
	return 0;
}

/*
 * --retain-until YYYY-MM-DD: the personal data may be kept to the end of
 * that day (UTC), after which every node's daemon drops the bodies.
 */
int
retain_until(struct ctx *c, const char *date, uint64_t *expiry)
{

	*expiry = 0;
	if (date == NULL)
		return 0;
	if (field_until(date, hlc_wall_ms(), expiry) != 0)
		return fail(c, EX_USAGE, "invalid --retain-until '%s': "
		    "expected a date as YYYY-MM-DD, after today", date);
	return 0;
}

int
usage(const char *text)
{

	fputs(text, stdout);
	return EX_OK;
}

/* Open ${path} for writing records: "-" is stdout, but not a terminal. */
FILE *
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

int
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

/* Only the options a subcommand allows may be given. */
int
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

/* ${ms} as local time with the zone, or "never" for 0 (view_time). */
void
when(char *out, size_t size, uint64_t ms)
{

	view_time(out, size, ms);
}

const char *
plural(size_t n, const char *one, const char *many)
{

	return n == 1 ? one : many;
}
