#ifndef VIEW_H
#define VIEW_H

/*
 * How the `kith` command shows entities, versions and conflicts: as text,
 * JSON, NDJSON or CSV.  It uses jansson (as tools/fhir.c does for FHIR), so
 * that --json output is always valid JSON.
 */

#include <stdint.h>
#include <stdio.h>

struct body;
struct record;
struct roster;
struct roster_entry;
struct state;
struct view;

enum view_format {
	VIEW_TEXT,		/* one line per item */
	VIEW_DETAIL,		/* several lines per item (show) */
	VIEW_JSON,		/* one JSON array, written by view_finish */
	VIEW_OBJECT,		/* one pretty JSON object per item (show) */
	VIEW_NDJSON,		/* one JSON object per line */
	VIEW_CSV,		/* RFC 4180, header row first */
};

/**
 * view_new(fmt, out, kind, personal):
 * Return a view that writes to ${out} in ${fmt}; ${kind} (0 for any) picks
 * the CSV columns; personal fields are shown only if ${personal}.  NULL if
 * out of memory.
 */
struct view *view_new(enum view_format fmt, FILE *out, uint64_t kind,
    int personal);

/**
 * view_entity(v, s):
 * Show entity state ${s}.  Return 0 or KITH_ENOMEM / KITH_EIO.
 */
int view_entity(struct view *v, const struct state *s);

/* What the command found out about the next entity, beyond its state. */
struct view_about {
	const struct body *opened;	/* personal fields opened, or NULL */
	int sealed;		/* it has personal fields this node may not read */
	const uint8_t *to;	/* the organisation it is addressed to, or NULL */
	const char *volunteer;	/* the claimed volunteer's name, or NULL */
};

/**
 * view_about(v, about):
 * For the entities shown next: what ${about} says (borrowed, and what it
 * points to, until the next view_about; NULL for nothing).  Opened
 * personal fields are shown, and [sealed] where the entity has a sealed
 * section this node cannot open.
 */
void view_about(struct view *v, const struct view_about *about);

/**
 * view_roster(v, r):
 * Name organisations from roster ${r} (borrowed until view_free or the
 * next call; NULL: by key) where a key would be shown.
 */
void view_roster(struct view *v, const struct roster *r);

/**
 * view_bom(v):
 * Start CSV output with a UTF-8 byte order mark (for spreadsheets).
 */
void view_bom(struct view *v);

/**
 * view_csv_cell(out, s, n):
 * Write the ${n} bytes ${s} to ${out} as one CSV cell: quoted if it must
 * be, and a leading ' if a spreadsheet would take it for a formula.
 */
void view_csv_cell(FILE *out, const char *s, size_t n);

/**
 * view_org(r, key, out, size):
 * Name the organisation with node key ${key} into ${out}: its name in
 * roster ${r}, with its key's first 8 hex digits in brackets if another
 * member has the same name; its key's first 16 hex digits if ${r} is NULL
 * or does not hold it.
 */
void view_org(const struct roster *r, const uint8_t *key, char *out,
    size_t size);

/**
 * view_time(out, size, ms):
 * ${ms} (wall clock, ms since 1970) as local time with the zone, as TZ
 * says: "2026-12-02 17:05 GMT"; "never" for 0.
 */
void view_time(char *out, size_t size, uint64_t ms);

/**
 * view_version(v, rec):
 * Show one version (record) of an entity, for `kith history`.
 */
int view_version(struct view *v, const struct record *rec);

/**
 * view_member(v, e):
 * Show one roster entry (proto/roster.h), for `kith member list`.
 */
int view_member(struct view *v, const struct roster_entry *e);

/**
 * view_held(v, rec, why):
 * Show a record the roster holds back and why (store_quarantine's ${why}),
 * for `kith quarantine`.
 */
int view_held(struct view *v, const struct record *rec, int why);

/**
 * view_conflicts(v, s):
 * Show each conflicting field of ${s}; nothing if it has none.
 */
int view_conflicts(struct view *v, const struct state *s);

/**
 * view_pair(v, key, n):
 * Add "key: n" (text) or "key": n (a JSON object built across calls), for
 * `kith stats`.
 */
int view_pair(struct view *v, const char *key, uint64_t n);

/**
 * view_text(v, key, val):
 * As view_pair, for the string ${val} (printable UTF-8).
 */
int view_text(struct view *v, const char *key, const char *val);

/**
 * view_int(v, key, n):
 * As view_pair, for a signed ${n}.
 */
int view_int(struct view *v, const char *key, int64_t n);

/**
 * view_check(v, name, level, what, fix):
 * One health check's result: VIEW_TEXT prints "LEVEL  NAME: WHAT" and,
 * if ${fix} is not "", "       do: FIX" below; VIEW_JSON adds an object
 * {"check", "level", "what", "fix"} to the array.
 */
int view_check(struct view *v, const char *name, const char *level,
    const char *what, const char *fix);

/**
 * view_finish(v):
 * Write anything held back (a JSON array or object).  Return 0 or KITH_EIO.
 */
int view_finish(struct view *v);

/**
 * view_free(v):
 * Free ${v}; nothing if NULL.
 */
void view_free(struct view *v);

#endif
