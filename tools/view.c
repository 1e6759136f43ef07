#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "body.h"
#include "codec.h"
#include "hlc.h"
#include "kith.h"
#include "record.h"
#include "roster.h"
#include "state.h"
#include "view.h"

struct view {
	enum view_format fmt;
	FILE *out;
	uint64_t kind;
	int personal;
	int rows;		/* CSV rows written, header included */
	int bom;		/* CSV: a UTF-8 byte order mark first */
	json_t *acc;		/* VIEW_JSON array, or the view_pair object */
	struct view_about about;	/* the next entity's */
	const struct roster *roster;	/* names organisations, or NULL */
	uint64_t now_ms;	/* ages are counted to this */
};

/* The kinds a CSV column applies to. */
#define C_REQ	1
#define C_VOL	2
#define C_REF	4
#define C_ALL	(C_REQ | C_VOL | C_REF)

/* Where a column's value comes from. */
enum column_src {
	COL_FIELD,		/* the state's (or opened section's) field */
	COL_FROM,		/* the creator's organisation */
	COL_TO,			/* the organisation it is addressed to */
};

/*
 * CSV columns, after id[,kind],created,updated.  In an export of one
 * request or volunteer kind, a new column goes after those that were there
 * before, so that a spreadsheet that refers to one by its place keeps
 * working.
 */
static const struct column {
	const char *name;
	int kinds;
	int personal;
	enum column_src src;
} columns[] = {
	{ "status", C_REQ | C_REF, 0, COL_FIELD },
	{ "category", C_REQ | C_REF, 0, COL_FIELD },
	{ "area", C_REQ, 0, COL_FIELD },
	{ "urgency", C_REQ, 0, COL_FIELD },
	{ "needed_by", C_REQ, 0, COL_FIELD },
	{ "languages", C_REQ | C_VOL, 0, COL_FIELD },
	{ "access_needs", C_REQ, 0, COL_FIELD },
	{ "volunteer", C_REQ, 0, COL_FIELD },
	{ "areas", C_VOL, 0, COL_FIELD },
	{ "skills", C_VOL, 0, COL_FIELD },
	{ "availability", C_VOL, 0, COL_FIELD },
	{ "dbs", C_VOL, 0, COL_FIELD },
	{ "dbs_checked", C_VOL, 0, COL_FIELD },
	{ "from_org", C_REF, 0, COL_FROM },
	{ "to_org", C_REF, 0, COL_TO },
	{ "consent", C_REF, 0, COL_FIELD },
	{ "name", C_ALL, 1, COL_FIELD },
	{ "phone", C_REQ | C_REF, 1, COL_FIELD },
	{ "address", C_REQ, 1, COL_FIELD },
	{ "notes", C_REQ, 1, COL_FIELD },
	{ "consent_by", C_REF, 1, COL_FIELD },
	{ "reason", C_REF, 1, COL_FIELD },
	{ "snomed", C_REF, 1, COL_FIELD },
	{ "dob", C_REF, 1, COL_FIELD },
	{ "nhs_number", C_REF, 1, COL_FIELD },
	{ "outcome", C_REF, 1, COL_FIELD },
	{ "created_by", C_REQ | C_VOL, 0, COL_FROM },
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

static int
kind_bit(uint64_t kind)
{

	switch (kind) {
	case KITH_KIND_REQUEST:
		return C_REQ;
	case KITH_KIND_VOLUNTEER:
		return C_VOL;
	case KITH_KIND_REFERRAL:
		return C_REF;
	}
	return 0;
}

struct view *
view_new(enum view_format fmt, FILE *out, uint64_t kind, int personal)
{
	struct view *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->fmt = fmt;
	v->out = out;
	v->kind = kind;
	v->personal = personal;
	v->now_ms = hlc_wall_ms();
	return v;
}

void
view_free(struct view *v)
{

	if (v == NULL)
		return;
	json_decref(v->acc);
	free(v);
}

static json_t *
jvalue(const struct codec_value *cv)
{

	switch (cv->type) {
	case CODEC_INT:
		return json_integer(cv->i);
	case CODEC_STR:
		return json_stringn(cv->s, cv->len);
	case CODEC_NIL:
		break;
	}
	return json_null();
}

static json_t *
jhex(const uint8_t *p, size_t n)
{
	char buf[2 * KITH_KEY_LEN + 1];

	kith_hex(buf, p, n);
	return json_string(buf);
}

static json_t *
jtime(uint64_t hlc)
{
	char buf[40];

	hlc_format(buf, hlc);
	return json_string(buf);
}

/*
 * Print a value as text: integers in decimal, strings as they are except
 * control characters, shown as \xNN: a peer's record must not be able to
 * send escape sequences to a coordinator's terminal.
 */
static void
tvalue(FILE *out, const struct codec_value *cv)
{
	size_t i;
	unsigned char ch;

	if (cv->type == CODEC_STR) {
		for (i = 0; i < cv->len; i++) {
			ch = (unsigned char)cv->s[i];
			if (ch < 0x20 || ch == 0x7f)
				fprintf(out, "\\x%02x", ch);
			else
				fputc(ch, out);
		}
	} else if (cv->type == CODEC_INT)
		fprintf(out, "%lld", (long long)cv->i);
	else
		fputs("-", out);
}

/*
 * As tvalue, but a newline goes on at the value column of a detail view
 * (16 blanks in), so that several lines of notes read as lines.
 */
static void
tlines(FILE *out, const struct codec_value *cv)
{
	struct codec_value line = *cv;
	const char *nl;

	while (cv->type == CODEC_STR && line.len > 0 &&
	    (nl = memchr(line.s, '\n', line.len)) != NULL) {
		line.len = (size_t)(nl - line.s);
		tvalue(out, &line);
		fputs("\n                ", out);
		line.len = cv->len - (size_t)(nl + 1 - cv->s);
		line.s = nl + 1;
	}
	tvalue(out, &line);
}

/* As tvalue, for a NUL-terminated string. */
static void
tstr(FILE *out, const char *s)
{
	struct codec_value cv;

	memset(&cv, 0, sizeof(cv));
	cv.type = CODEC_STR;
	cv.s = s;
	cv.len = strlen(s);
	tvalue(out, &cv);
}

static const char *
kind_name(uint64_t kind)
{
	const char *n = kith_kind_name(kind);

	return n != NULL ? n : "unknown";
}

/* The entity object of tests/cli/CONTRACT.md. */
static json_t *
entity_json(const struct view *v, const struct state *s)
{
	json_t *o, *fields, *personal, *conflicts, *vals;
	const struct state_field *f;
	char org[ROSTER_ORG_MAX + 32];
	size_t i, k;

	o = json_object();
	fields = json_object();
	personal = json_object();
	conflicts = json_object();
	json_object_set_new(o, "id", jhex(state_entity(s), KITH_ENTITY_LEN));
	json_object_set_new(o, "kind", json_string(kind_name(state_kind(s))));
	json_object_set_new(o, "created", jtime(state_created(s)));
	json_object_set_new(o, "updated", jtime(state_updated(s)));
	json_object_set_new(o, "creator", jhex(state_creator(s), KITH_KEY_LEN));
	json_object_set_new(o, "versions",
	    json_integer((json_int_t)state_nversions(s)));
	for (i = 0; i < state_nfields(s); i++) {
		f = state_field(s, i);
		if (f->personal && !v->personal)
			continue;
		json_object_set_new(f->personal ? personal : fields, f->name,
		    jvalue(&f->value));
		if (f->nalts == 0)
			continue;
		vals = json_array();
		json_array_append_new(vals, jvalue(&f->value));
		for (k = 0; k < f->nalts; k++)
			json_array_append_new(vals, jvalue(&f->alts[k]));
		json_object_set_new(conflicts, f->name, vals);
	}
	for (i = 0; v->personal && v->about.opened != NULL &&
	    i < body_nfields(v->about.opened); i++) {
		const struct body_field *bf = body_field(v->about.opened, i);

		if (bf->personal)
			json_object_set_new(personal, bf->name,
			    jvalue(&bf->v));
	}
	if (v->about.sealed)
		json_object_set_new(o, "sealed", json_string("[sealed]"));
	/* Added to the contract's object: names for people. */
	view_org(v->roster, state_creator(s), org, sizeof(org));
	json_object_set_new(o, "creator_org", json_string(org));
	if (v->about.to != NULL) {
		json_object_set_new(o, "to", jhex(v->about.to, KITH_KEY_LEN));
		view_org(v->roster, v->about.to, org, sizeof(org));
		json_object_set_new(o, "to_org", json_string(org));
	}
	if (v->about.volunteer != NULL)
		json_object_set_new(o, "volunteer_name",
		    json_string(v->about.volunteer));
	json_object_set_new(o, "fields", fields);
	json_object_set_new(o, "personal", personal);
	json_object_set_new(o, "conflicts", conflicts);
	return o;
}

/* Emit a JSON item according to the view's format; takes ${o}. */
static int
emit(struct view *v, json_t *o)
{
	int rc = 0;

	if (o == NULL)
		return KITH_ENOMEM;
	if (v->fmt == VIEW_JSON) {
		if (v->acc == NULL && (v->acc = json_array()) == NULL) {
			json_decref(o);
			return KITH_ENOMEM;
		}
		return json_array_append_new(v->acc, o) == 0 ? 0 : KITH_ENOMEM;
	}
	if (json_dumpf(o, v->out, v->fmt == VIEW_OBJECT ? JSON_INDENT(2) :
	    JSON_COMPACT) != 0 || fputc('\n', v->out) == EOF)
		rc = KITH_EIO;
	json_decref(o);
	return rc;
}

/*
 * One CSV cell, RFC 4180 quoted if it must be.  A text that starts with
 * =, +, -, @, tab or CR is a formula to a spreadsheet, which would run it
 * (=HYPERLINK(...) in a field another organisation wrote): it gets a
 * single quote in front, which spreadsheets show as text (OWASP's advice
 * on CSV injection).
 */
static void
csv_cell(FILE *out, const char *s, size_t n)
{
	int formula = n > 0 && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
	size_t i;

	/* ${s} is not NUL-terminated: it points into the state's bytes. */
	for (i = 0; i < n && strchr(",\"\r\n", s[i]) == NULL; i++)
		;
	if (i == n) {
		if (formula)
			fputc('\'', out);
		fwrite(s, 1, n, out);
		return;
	}
	fputc('"', out);
	if (formula)
		fputc('\'', out);
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', out);
		fputc(s[i], out);
	}
	fputc('"', out);
}

void
view_csv_cell(FILE *out, const char *s, size_t n)
{

	csv_cell(out, s, n);
}

/* The kinds the view shows: one, or every kind of the domain. */
static int
view_kinds(const struct view *v)
{

	return v->kind == 0 ? C_ALL : kind_bit(v->kind);
}

static int
column_shown(const struct view *v, const struct column *c)
{

	return (c->kinds & view_kinds(v)) != 0 && (!c->personal || v->personal);
}

void
view_org(const struct roster *r, const uint8_t *key, char *out, size_t size)
{
	const struct roster_entry *e, *o;
	char hex[2 * KITH_KEY_LEN + 1];
	size_t i, n;

	kith_hex(hex, key, KITH_KEY_LEN);
	if (r == NULL || (e = roster_find(r, key)) == NULL ||
	    e->org[0] == '\0') {
		snprintf(out, size, "%.16s", hex);
		return;
	}
	n = roster_size(r);
	for (i = 0; i < n; i++) {
		o = roster_get(r, i);
		if (o != e && strcmp(o->org, e->org) == 0)
			break;
	}
	if (i < n)
		snprintf(out, size, "%s (%.8s)", e->org, hex);
	else
		snprintf(out, size, "%s", e->org);
	/* A name comes from another node's record: no terminal controls. */
	for (; *out != '\0'; out++)
		if ((unsigned char)*out < 0x20 || *out == 0x7f)
			*out = '?';
}

void
view_time(char *out, size_t size, uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0 || localtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%Y-%m-%d %H:%M %Z", &tm) == 0)
		snprintf(out, size, "%s", ms == 0 ? "never" : "-");
}

/* How long ago ${hlc} was, as of ${now_ms}: "5m", "3h", "12d". */
static void
age(char *out, size_t size, uint64_t now_ms, uint64_t hlc)
{
	uint64_t ms = HLC_MS(hlc), m;

	m = now_ms > ms ? (now_ms - ms) / 60000 : 0;
	if (m < 60)
		snprintf(out, size, "%llum", (unsigned long long)m);
	else if (m < 24 * 60)
		snprintf(out, size, "%lluh", (unsigned long long)(m / 60));
	else
		snprintf(out, size, "%llud", (unsigned long long)(m / 1440));
}

/* The text of a personal field of the next entity, or NULL. */
static const struct codec_value *
opened_value(const struct view *v, const char *name)
{
	const struct body_field *bf;

	if (v->about.opened == NULL ||
	    (bf = body_get(v->about.opened, name)) == NULL ||
	    !bf->personal || bf->v.type == CODEC_NIL)
		return NULL;
	return &bf->v;
}

static void
csv_value(FILE *out, const struct codec_value *cv)
{

	if (cv->type == CODEC_STR)
		csv_cell(out, cv->s, cv->len);
	else if (cv->type == CODEC_INT)
		fprintf(out, "%lld", (long long)cv->i);
}

static int
csv_row(struct view *v, const struct state *s)
{
	const struct codec_value *cv;
	const struct state_field *f;
	const struct column *col;
	char buf[ROSTER_ORG_MAX + 32];
	size_t i;

	if (v->rows++ == 0) {
		if (v->bom)
			fputs("\xef\xbb\xbf", v->out);
		fputs(v->kind == 0 ? "id,kind,created,updated" :
		    "id,created,updated", v->out);
		for (i = 0; i < NCOLUMNS; i++)
			if (column_shown(v, &columns[i]))
				fprintf(v->out, ",%s", columns[i].name);
		fputs("\r\n", v->out);
	}
	kith_hex(buf, state_entity(s), KITH_ENTITY_LEN);
	fputs(buf, v->out);
	if (v->kind == 0)
		fprintf(v->out, ",%s", kind_name(state_kind(s)));
	hlc_format(buf, state_created(s));
	fprintf(v->out, ",%s", buf);
	hlc_format(buf, state_updated(s));
	fprintf(v->out, ",%s", buf);
	for (i = 0; i < NCOLUMNS; i++) {
		col = &columns[i];
		if (!column_shown(v, col))
			continue;
		fputc(',', v->out);
		if ((col->kinds & kind_bit(state_kind(s))) == 0)
			continue;
		if (col->src != COL_FIELD) {
			if (col->src == COL_TO && v->about.to == NULL)
				continue;
			view_org(v->roster, col->src == COL_TO ? v->about.to :
			    state_creator(s), buf, sizeof(buf));
			csv_cell(v->out, buf, strlen(buf));
			continue;
		}
		if (col->personal && (cv = opened_value(v, col->name)) != NULL) {
			csv_value(v->out, cv);
			continue;
		}
		if (col->personal && v->about.sealed) {
			fputs("[sealed]", v->out);
			continue;
		}
		f = state_get(s, col->name);
		if (f != NULL && f->personal == col->personal)
			csv_value(v->out, &f->value);
	}
	return fputs("\r\n", v->out) == EOF ? KITH_EIO : 0;
}

/* Print a field's value by name in a list line, or "-". */
static void
tfield(FILE *out, const struct state *s, const char *name)
{
	const struct state_field *f = state_get(s, name);

	if (f == NULL || f->value.type == CODEC_NIL)
		fputs("-", out);
	else
		tvalue(out, &f->value);
}

/* As tfield, padded with spaces to ${width} bytes. */
static void
tfield_pad(FILE *out, const struct state *s, const char *name, int width)
{
	const struct state_field *f = state_get(s, name);
	int n = 1;

	if (f == NULL || f->value.type == CODEC_NIL)
		fputs("-", out);
	else if (f->value.type == CODEC_STR) {
		tvalue(out, &f->value);
		n = (int)f->value.len;
	} else
		n = fprintf(out, "%lld", (long long)f->value.i);
	for (; n < width; n++)
		fputc(' ', out);
}

/* The person's name: opened, [sealed], or "-". */
static void
tname(const struct view *v)
{
	const struct codec_value *cv = opened_value(v, "name");

	if (cv != NULL)
		tvalue(v->out, cv);
	else
		fputs(v->about.sealed ? "[sealed]" : "-", v->out);
}

/*
 * One line of a list (tests/cli/CONTRACT.md):
 *   request    ID  uN  STATUS  CATEGORY  AREA  AGE  LANGUAGES  NAME  ORG
 *              [volunteer NAME|SHORT-ID]
 *   volunteer  ID  AREAS  SKILLS  LANGUAGES  AGE  NAME  ORG
 *   referral   ID  STATUS  CATEGORY  consent=C  AGE  NAME  ORG -> ORG
 *   session    ID  DATE  AREA  FORMAT  reached=N  in-depth=N  LANGUAGES
 *              GROUP  ORG
 *   insight    ID  STATUS  AGE  sentiment=N  THEMES  SERVICE  ORG
 *              (STATUS "open" until a PCN or an admin responds)
 * the fixed-width columns padded, so that a list reads as a table.
 */
static int
text_line(struct view *v, const struct state *s)
{
	char id[2 * KITH_ENTITY_LEN + 1], buf[ROSTER_ORG_MAX + 32], *vol;

	kith_hex(id, state_entity(s), KITH_ENTITY_LEN);
	fputs(id, v->out);
	age(buf, sizeof(buf), v->now_ms, state_created(s));
	switch (state_kind(s)) {
	case KITH_KIND_REQUEST:
		fputs("  u", v->out);
		tfield(v->out, s, "urgency");
		fputs("  ", v->out);
		tfield_pad(v->out, s, "status", 9);
		fputs("  ", v->out);
		tfield_pad(v->out, s, "category", 12);
		fputs("  ", v->out);
		tfield_pad(v->out, s, "area", 4);
		fprintf(v->out, "  %4s  ", buf);
		tfield(v->out, s, "languages");
		fputs("  ", v->out);
		tname(v);
		view_org(v->roster, state_creator(s), buf, sizeof(buf));
		fprintf(v->out, "  %s", buf);
		if ((vol = state_str(s, "volunteer")) != NULL) {
			fputs("  volunteer ", v->out);
			if (v->about.volunteer != NULL)
				tstr(v->out, v->about.volunteer);
			else
				fprintf(v->out, "%.8s", vol);
			free(vol);
		}
		break;
	case KITH_KIND_REFERRAL:
		fputs("  ", v->out);
		tfield_pad(v->out, s, "status", 9);
		fputs("  ", v->out);
		tfield(v->out, s, "category");
		fputs("  consent=", v->out);
		tfield(v->out, s, "consent");
		fprintf(v->out, "  %s  ", buf);
		tname(v);
		view_org(v->roster, state_creator(s), buf, sizeof(buf));
		fprintf(v->out, "  %s -> ", buf);
		if (v->about.to != NULL) {
			view_org(v->roster, v->about.to, buf, sizeof(buf));
			fputs(buf, v->out);
		} else
			fputs("-", v->out);
		break;
	case KITH_KIND_VOLUNTEER:
		fputs("  ", v->out);
		tfield(v->out, s, "areas");
		fputs("  ", v->out);
		tfield(v->out, s, "skills");
		fputs("  ", v->out);
		tfield(v->out, s, "languages");
		fprintf(v->out, "  %s  ", buf);
		tname(v);
		view_org(v->roster, state_creator(s), buf, sizeof(buf));
		fprintf(v->out, "  %s", buf);
		break;
	case KITH_KIND_SESSION:
		fputs("  ", v->out);
		tfield(v->out, s, "date");
		fputs("  ", v->out);
		tfield_pad(v->out, s, "area", 4);
		fputs("  ", v->out);
		tfield_pad(v->out, s, "format", 11);
		fputs("  reached=", v->out);
		tfield(v->out, s, "reached");
		fputs("  in-depth=", v->out);
		tfield(v->out, s, "in_depth");
		fputs("  ", v->out);
		tfield(v->out, s, "languages");
		fputs("  ", v->out);
		tfield(v->out, s, "group");
		view_org(v->roster, state_creator(s), buf, sizeof(buf));
		fprintf(v->out, "  %s", buf);
		break;
	case KITH_KIND_INSIGHT:
		fputs("  ", v->out);
		if (state_get(s, "status") != NULL)
			tfield_pad(v->out, s, "status", 12);
		else
			fprintf(v->out, "%-12s", "open");
		fprintf(v->out, "  %4s  sentiment=", buf);
		tfield(v->out, s, "sentiment");
		fputs("  ", v->out);
		tfield(v->out, s, "themes");
		fputs("  ", v->out);
		tfield(v->out, s, "service");
		view_org(v->roster, state_creator(s), buf, sizeof(buf));
		fprintf(v->out, "  %s", buf);
		break;
	default:
		fprintf(v->out, "  %s", kind_name(state_kind(s)));
	}
	if (state_nconflicts(s) > 0)
		fputs("  [conflict]", v->out);
	return fputc('\n', v->out) == EOF ? KITH_EIO : 0;
}

/* The "readers" field (keys, comma-separated) as organisations. */
static void
treaders(struct view *v, const struct codec_value *cv)
{
	char hex[2 * KITH_KEY_LEN + 1], org[ROSTER_ORG_MAX + 32];
	uint8_t key[KITH_KEY_LEN];
	size_t i, n;

	const char *comma;

	/* ${cv}->s is not NUL-terminated: it points into the state. */
	for (i = 0; i < cv->len; i += n + 1) {
		comma = memchr(cv->s + i, ',', cv->len - i);
		n = comma != NULL ? (size_t)(comma - (cv->s + i)) : cv->len - i;
		snprintf(hex, sizeof(hex), "%.*s", (int)n, cv->s + i);
		if (i > 0)
			fputs(", ", v->out);
		if (n == 2 * KITH_KEY_LEN &&
		    kith_unhex(key, KITH_KEY_LEN, hex) == 0) {
			view_org(v->roster, key, org, sizeof(org));
			fputs(org, v->out);
		} else
			tstr(v->out, hex);
	}
}

static int
detail(struct view *v, const struct state *s)
{
	const struct state_field *f;
	char id[2 * KITH_KEY_LEN + 1], t1[40], t2[40];
	char org[ROSTER_ORG_MAX + 32];
	size_t i, k;

	kith_hex(id, state_entity(s), KITH_ENTITY_LEN);
	fprintf(v->out, "%s %s\n", kind_name(state_kind(s)), id);
	for (i = 0; i < state_nfields(s); i++) {
		f = state_field(s, i);
		if (f->value.type == CODEC_NIL)
			continue;
		fprintf(v->out, "  %-13s ", f->name);
		if (f->personal && !v->personal)
			fputs("[hidden]", v->out);
		else if (strcmp(f->name, "readers") == 0 &&
		    f->value.type == CODEC_STR)
			treaders(v, &f->value);
		else
			tlines(v->out, &f->value);
		for (k = 0; k < f->nalts && (!f->personal || v->personal);
		    k++) {
			fputs(" | ", v->out);
			tvalue(v->out, &f->alts[k]);
		}
		if (strcmp(f->name, "volunteer") == 0 &&
		    v->about.volunteer != NULL) {
			fputs(" (", v->out);
			tstr(v->out, v->about.volunteer);
			fputc(')', v->out);
		}
		fprintf(v->out, "%s%s\n", f->nalts ? "  [conflict]" : "",
		    f->personal ? "  (personal)" : "");
	}
	if (v->about.to != NULL) {
		view_org(v->roster, v->about.to, org, sizeof(org));
		fprintf(v->out, "  %-13s %s\n", "to", org);
	}
	for (i = 0; v->about.opened != NULL &&
	    i < body_nfields(v->about.opened); i++) {
		const struct body_field *bf = body_field(v->about.opened, i);

		if (!bf->personal || bf->v.type == CODEC_NIL)
			continue;
		fprintf(v->out, "  %-13s ", bf->name);
		if (v->personal)
			tlines(v->out, &bf->v);
		else
			fputs("[hidden]", v->out);
		fputs("  (personal)\n", v->out);
	}
	if (v->about.sealed)
		fputs("  personal      [sealed]: this node may not read it\n",
		    v->out);
	view_org(v->roster, state_creator(s), org, sizeof(org));
	view_time(t1, sizeof(t1), HLC_MS(state_created(s)));
	view_time(t2, sizeof(t2), HLC_MS(state_updated(s)));
	fprintf(v->out, "  created %s by %s; updated %s; %llu version%s\n",
	    t1, org, t2, (unsigned long long)state_nversions(s),
	    state_nversions(s) == 1 ? "" : "s");
	return ferror(v->out) ? KITH_EIO : 0;
}

void
view_about(struct view *v, const struct view_about *about)
{
	static const struct view_about none;

	v->about = about != NULL ? *about : none;
}

void
view_roster(struct view *v, const struct roster *r)
{

	v->roster = r;
}

void
view_bom(struct view *v)
{

	v->bom = 1;
}

int
view_entity(struct view *v, const struct state *s)
{

	switch (v->fmt) {
	case VIEW_TEXT:
		return text_line(v, s);
	case VIEW_DETAIL:
		return detail(v, s);
	case VIEW_CSV:
		return csv_row(v, s);
	case VIEW_JSON:
	case VIEW_OBJECT:
	case VIEW_NDJSON:
		break;
	}
	return emit(v, entity_json(v, s));
}

int
view_member(struct view *v, const struct roster_entry *e)
{
	char hex[2 * KITH_KEY_LEN + 1], t[40];
	json_t *o;

	kith_hex(hex, e->key, KITH_KEY_LEN);
	if (v->fmt == VIEW_TEXT) {
		hlc_format(t, e->revoked != 0 ? e->revoked : e->since);
		return fprintf(v->out, "%s  %-8s  %s  %s %s\n", hex,
		    roster_role_name(e->role), e->org[0] ? e->org : "-",
		    e->revoked != 0 ? "revoked" : "since", t) < 0 ? KITH_EIO :
		    0;
	}
	o = json_object();
	json_object_set_new(o, "key", json_string(hex));
	json_object_set_new(o, "org", json_string(e->org));
	json_object_set_new(o, "role", json_string(roster_role_name(e->role)));
	json_object_set_new(o, "since", e->since ? jtime(e->since) :
	    json_null());
	json_object_set_new(o, "revoked", e->revoked ? jtime(e->revoked) :
	    json_null());
	json_object_set_new(o, "last_seq", e->revoked ? json_integer(
	    (json_int_t)e->last_seq) : json_null());
	json_object_set_new(o, "forked_at", e->fork ? json_integer(
	    (json_int_t)e->fork) : json_null());
	kith_hex(hex, e->by, KITH_KEY_LEN);
	json_object_set_new(o, "admitted_by", e->since ? json_string(hex) :
	    json_null());
	return emit(v, o);
}

int
view_held(struct view *v, const struct record *rec, int why)
{
	const struct record_header *h = record_header(rec);
	const char *reason = why == KITH_EREVOKED ? "revoked" :
	    why == KITH_EDENIED ? "observer" : why == KITH_EFORKED ?
	    "forked" : why == KITH_ENOGENESIS ? "awaiting its entity's "
	    "first record" : "not a member";
	char hex[2 * KITH_ID_LEN + 1], t[40];
	json_t *o;

	if (v->fmt == VIEW_TEXT) {
		hlc_format(t, h->hlc);
		kith_hex(hex, record_id(rec), KITH_ID_LEN);
		fprintf(v->out, "%s  %s  %-9s  ", t, hex, kind_name(h->kind));
		kith_hex(hex, h->author, KITH_KEY_LEN);
		return fprintf(v->out, "author %s  (%s)\n", hex, reason) < 0 ?
		    KITH_EIO : 0;
	}
	o = json_object();
	json_object_set_new(o, "id", jhex(record_id(rec), KITH_ID_LEN));
	json_object_set_new(o, "author", jhex(h->author, KITH_KEY_LEN));
	json_object_set_new(o, "kind", json_string(kind_name(h->kind)));
	json_object_set_new(o, "time", jtime(h->hlc));
	json_object_set_new(o, "reason", json_string(reason));
	return emit(v, o);
}

int
view_version(struct view *v, const struct record *rec)
{
	const struct record_header *h = record_header(rec);
	const struct body_field *f;
	struct body *b = NULL;
	const uint8_t *bp;
	json_t *o, *fields, *personal, *parents;
	char hex[2 * KITH_ID_LEN + 1], t[40], org[ROSTER_ORG_MAX + 32];
	size_t blen, i;

	if ((bp = record_body(rec, &blen)) != NULL &&
	    body_decode(bp, blen, &b) != 0)
		b = NULL;
	if (v->fmt == VIEW_TEXT) {
		view_time(t, sizeof(t), HLC_MS(h->hlc));
		view_org(v->roster, h->author, org, sizeof(org));
		fprintf(v->out, "%s  %s  seq %llu  ", t, org,
		    (unsigned long long)h->seq);
		kith_hex(hex, record_id(rec), 8);
		fprintf(v->out, "%s ", hex);
		if (bp == NULL)
			fputs(" [body erased]", v->out);
		else if (b != NULL && body_sealed(b, &blen) != NULL)
			fputs(" [sealed]", v->out);
		for (i = 0; b != NULL && i < body_nfields(b); i++) {
			f = body_field(b, i);
			fprintf(v->out, " %s=", f->name);
			if (f->personal && !v->personal)
				fputs("[hidden]", v->out);
			else
				tvalue(v->out, &f->v);
		}
		body_free(b);
		return fputc('\n', v->out) == EOF ? KITH_EIO : 0;
	}
	o = json_object();
	fields = json_object();
	personal = json_object();
	parents = json_array();
	json_object_set_new(o, "id", jhex(record_id(rec), KITH_ID_LEN));
	json_object_set_new(o, "author", jhex(h->author, KITH_KEY_LEN));
	view_org(v->roster, h->author, org, sizeof(org));
	json_object_set_new(o, "author_org", json_string(org));
	json_object_set_new(o, "seq", json_integer((json_int_t)h->seq));
	json_object_set_new(o, "time", jtime(h->hlc));
	/* As a string: JSON numbers lose precision past 2^53. */
	snprintf(hex, sizeof(hex), "%llu", (unsigned long long)h->hlc);
	json_object_set_new(o, "hlc", json_string(hex));
	json_object_set_new(o, "kind", json_string(kind_name(h->kind)));
	for (i = 0; i < h->nparents; i++)
		json_array_append_new(parents, jhex(h->parents[i], KITH_ID_LEN));
	json_object_set_new(o, "parents", parents);
	for (i = 0; b != NULL && i < body_nfields(b); i++) {
		f = body_field(b, i);
		if (f->personal && !v->personal)
			continue;
		json_object_set_new(f->personal ? personal : fields, f->name,
		    jvalue(&f->v));
	}
	json_object_set_new(o, "fields", fields);
	json_object_set_new(o, "personal", personal);
	json_object_set_new(o, "sealed", json_boolean(b != NULL &&
	    body_sealed(b, &blen) != NULL));
	json_object_set_new(o, "erased", json_boolean(bp == NULL));
	body_free(b);
	return emit(v, o);
}

int
view_conflicts(struct view *v, const struct state *s)
{
	const struct state_field *f;
	char id[2 * KITH_ENTITY_LEN + 1];
	json_t *o, *vals;
	size_t i, k;
	int rc;

	kith_hex(id, state_entity(s), KITH_ENTITY_LEN);
	for (i = 0; i < state_nfields(s); i++) {
		f = state_field(s, i);
		if (f->nalts == 0)
			continue;
		if (v->fmt == VIEW_TEXT) {
			fprintf(v->out, "%s  %s  %s: ", id,
			    kind_name(state_kind(s)), f->name);
			tvalue(v->out, &f->value);
			for (k = 0; k < f->nalts; k++) {
				fputs(" | ", v->out);
				tvalue(v->out, &f->alts[k]);
			}
			fputc('\n', v->out);
			continue;
		}
		o = json_object();
		vals = json_array();
		json_object_set_new(o, "id", json_string(id));
		json_object_set_new(o, "kind",
		    json_string(kind_name(state_kind(s))));
		json_object_set_new(o, "field", json_string(f->name));
		json_array_append_new(vals, jvalue(&f->value));
		for (k = 0; k < f->nalts; k++)
			json_array_append_new(vals, jvalue(&f->alts[k]));
		json_object_set_new(o, "values", vals);
		if ((rc = emit(v, o)) != 0)
			return rc;
	}
	return ferror(v->out) ? KITH_EIO : 0;
}

/* Set ${key} to ${val} (taken, even on failure) in ${v}'s JSON object. */
static int
acc_set(struct view *v, const char *key, json_t *val)
{

	if (v->acc == NULL && (v->acc = json_object()) == NULL) {
		json_decref(val);
		return KITH_ENOMEM;
	}
	return json_object_set_new(v->acc, key, val) == 0 ? 0 : KITH_ENOMEM;
}

int
view_pair(struct view *v, const char *key, uint64_t n)
{

	if (v->fmt == VIEW_TEXT) {
		fprintf(v->out, "%s: %llu\n", key, (unsigned long long)n);
		return 0;
	}
	return acc_set(v, key, json_integer((json_int_t)n));
}

int
view_text(struct view *v, const char *key, const char *val)
{

	if (v->fmt == VIEW_TEXT) {
		fprintf(v->out, "%s: %s\n", key, val);
		return 0;
	}
	return acc_set(v, key, json_string(val));
}

int
view_int(struct view *v, const char *key, int64_t n)
{

	if (v->fmt == VIEW_TEXT) {
		fprintf(v->out, "%s: %lld\n", key, (long long)n);
		return 0;
	}
	return acc_set(v, key, json_integer((json_int_t)n));
}

int
view_check(struct view *v, const char *name, const char *level,
    const char *what, const char *fix)
{
	json_t *o;

	if (v->fmt == VIEW_TEXT) {
		fprintf(v->out, "%-5s %s: %s\n", level, name, what);
		if (fix[0] != '\0')
			fprintf(v->out, "      do: %s\n", fix);
		return 0;
	}
	if (v->acc == NULL && (v->acc = json_array()) == NULL)
		return KITH_ENOMEM;
	if ((o = json_pack("{s:s, s:s, s:s, s:s}", "check", name, "level",
	    level, "what", what, "fix", fix)) == NULL)
		return KITH_ENOMEM;
	return json_array_append_new(v->acc, o) == 0 ? 0 : KITH_ENOMEM;
}

int
view_finish(struct view *v)
{

	if (v->fmt == VIEW_JSON && v->acc == NULL)
		v->acc = json_array();	/* nothing to show: [] */
	if (v->acc != NULL && (v->fmt == VIEW_JSON || v->fmt == VIEW_OBJECT)) {
		if (json_dumpf(v->acc, v->out, JSON_INDENT(2)) != 0 ||
		    fputc('\n', v->out) == EOF)
			return KITH_EIO;
	}
	return fflush(v->out) == 0 && !ferror(v->out) ? 0 : KITH_EIO;
}
