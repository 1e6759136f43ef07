#ifndef CMD_H
#define CMD_H

/*
 * What the files of the kith command share (tools/cmd.c): the context of a
 * run, option parsing, messages and exit codes.  Not a library: only the
 * kith command includes it.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "actor.h"
#include "config.h"
#include "fhir.h"
#include "kith.h"
#include "roster.h"

struct field_def;
struct field_in;
struct body;
struct kcrypto_key;
struct state;
struct store;
struct transport;
struct view;
struct view_about;

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
	struct actor act;	/* the node acting: domain calls (actor.h) */
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

/* What a list keeps; referrals: addressed to, or sent by, this node. */
struct filter {
	const char *status, *area, *category, *areas;
	const char *theme;	/* insights: one of its themes */
	int to_me, from_me;
	int open;		/* insights: not answered done or not-possible */
};

/* A referral this node can read, as strings for tools/fhir.c. */
struct fhir_item {
	struct fhir_referral r;
	char id[2 * KITH_ENTITY_LEN + 1];
	char from[2 * KITH_KEY_LEN + 1], to[2 * KITH_KEY_LEN + 1];
	char from_org[ROSTER_ORG_MAX + 1], to_org[ROSTER_ORG_MAX + 1];
	char *pub[3];			/* status, category, consent */
	struct body *opened;		/* owns the personal strings */
};

/* cmd.c */
int fail(const struct ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int exit_for(int rc);
int parse_args(const struct ctx *c, const struct opt *spec, int maxpos, int argc,
    char **argv, struct args *a);
const char *arg(const struct opt *spec, const struct args *a, const char *name);
int one_of(const char *s, const char *const *set);
size_t fields_given(const struct field_def *defs, const struct opt *spec,
    const struct args *a, struct field_in *in);
int filter_value(const struct ctx *c, uint64_t kind, const char *opt,
    const char *v, char *out, size_t outlen);
const char *home_path(struct ctx *c, const char *leaf);
int open_home(struct ctx *c, int need_key, int rdonly);
int refused(struct ctx *c, int rc);
int acted(struct ctx *c, int rc, int entity);
int find_entity(struct ctx *c, const char *hex, uint64_t kind,
    uint8_t id[KITH_ENTITY_LEN], struct state **s);
int find_org(struct ctx *c, const char *opt, const char *what,
    uint8_t key[KITH_KEY_LEN]);
int retain_until(struct ctx *c, const char *date, uint64_t *expiry);
int usage(const char *text);
FILE *open_out(struct ctx *c, const char *path, int *rc);
int close_out(struct ctx *c, FILE *f, const char *path);
int only(struct ctx *c, const struct args *a, const struct opt *spec,
    const char *const *allowed);
void when(char *out, size_t size, uint64_t ms);
const char *plural(size_t n, const char *one, const char *many);

/* cmd_network.c */
int cmd_init(struct ctx *c, int argc, char **argv);
int cmd_id(struct ctx *c, int argc, char **argv);
int cmd_network(struct ctx *c, int argc, char **argv);
int cmd_member(struct ctx *c, int argc, char **argv);
int cmd_invite(struct ctx *c, int argc, char **argv);
int cmd_join(struct ctx *c, int argc, char **argv);
int cmd_quarantine(struct ctx *c, int argc, char **argv);

/* cmd_entity.c */
int cmd_erase(struct ctx *c, int argc, char **argv);
int cmd_show(struct ctx *c, int argc, char **argv);
int cmd_share(struct ctx *c, int argc, char **argv);
int list_or_show(struct ctx *c, uint64_t kind, int show, const struct args *a,
    const struct opt *spec, struct filter *f);
void about_entity(struct ctx *c, const struct state *s,
    struct view_about *ab, struct body **opened, char **vname,
    uint8_t to[KITH_KEY_LEN]);
int cmd_history(struct ctx *c, int argc, char **argv);
int cmd_conflicts(struct ctx *c, int argc, char **argv);
int cmd_resolve(struct ctx *c, int argc, char **argv);

/* cmd_find.c */
int cmd_find(struct ctx *c, int argc, char **argv);

/* cmd_request.c */
int cmd_request(struct ctx *c, int argc, char **argv);

/* cmd_volunteer.c */
int cmd_volunteer(struct ctx *c, int argc, char **argv);

/* cmd_session.c */
int cmd_session(struct ctx *c, int argc, char **argv);
/* cmd_insight.c */
int cmd_insight(struct ctx *c, int argc, char **argv);

/* cmd_report.c */
int cmd_report(struct ctx *c, int argc, char **argv);
/* cmd_referral.c */
int cmd_referral(struct ctx *c, int argc, char **argv);

/* cmd_export.c */
int cmd_digest(struct ctx *c, int argc, char **argv);
int cmd_stats(struct ctx *c, int argc, char **argv);
void fhir_item_free(struct fhir_item *it);
int fhir_item(struct ctx *c, const struct roster *r, const struct state *s,
    struct fhir_item *it);
int cmd_export(struct ctx *c, int argc, char **argv);
int cmd_export_records(struct ctx *c, int argc, char **argv);
int cmd_import_records(struct ctx *c, int argc, char **argv);

/* cmd_store.c */
int cmd_scrub(struct ctx *c, int argc, char **argv);
int cmd_upgrade(struct ctx *c, int argc, char **argv);
int cmd_compact(struct ctx *c, int argc, char **argv);
int cmd_verify(struct ctx *c, int argc, char **argv);
int cmd_repair(struct ctx *c, int argc, char **argv);
int cmd_restore(struct ctx *c, int argc, char **argv);

/* cmd_sync.c */
long daemon_pid(struct ctx *c);
int peer_arg(struct ctx *c, const char *s, uint8_t key[KITH_KEY_LEN],
    char ep[CONFIG_ENDPOINT_MAX + 1]);
int cmd_sync(struct ctx *c, int argc, char **argv);
int cmd_tail(struct ctx *c, int argc, char **argv);
int cmd_peers(struct ctx *c, int argc, char **argv);
int cmd_status(struct ctx *c, int argc, char **argv);
int cmd_doctor(struct ctx *c, int argc, char **argv);
int cmd_clock(struct ctx *c, int argc, char **argv);

#endif 