#include <stdlib.h>
#include <string.h>

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
	json_t *acc;		/* VIEW_JSON array, or the view_pair object */
	const struct body *opened;	/* the next entity's unsealed fields */
	int sealed;		/* the next entity has fields we cannot open */
};

/* CSV columns: the kinds each applies to (0 = every kind). */
static const struct column {
	const char *name;
	uint64_t kind;
	int personal;
} columns[] = {
	{ "status", KITH_KIND_REQUEST, 0 },
	{ "category", KITH_KIND_REQUEST, 0 },
	{ "area", KITH_KIND_REQUEST, 0 },
	{ "urgency", KITH_KIND_REQUEST, 0 },
	{ "needed_by", KITH_KIND_REQUEST, 0 },
	{ "languages", 0, 0 },
	{ "access_needs", KITH_KIND_REQUEST, 0 },
	{ "volunteer", KITH_KIND_REQUEST, 0 },
	{ "areas", KITH_KIND_VOLUNTEER, 0 },
	{ "skills", KITH_KIND_VOLUNTEER, 0 },
	{ "availability", KITH_KIND_VOLUNTEER, 0 },
	{ "dbs", KITH_KIND_VOLUNTEER, 0 },
	{ "dbs_checked", KITH_KIND_VOLUNTEER, 0 },
	{ "name", 0, 1 },
	{ "phone", KITH_KIND_REQUEST, 1 },
	{ "address", KITH_KIND_REQUEST, 1 },
	{ "notes", KITH_KIND_REQUEST, 1 },
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

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
	for (i = 0; v->personal && v->opened != NULL &&
	    i < body_nfields(v->opened); i++) {
		const struct body_field *bf = body_field(v->opened, i);

		if (bf->personal)
			json_object_set_new(personal, bf->name,
			    jvalue(&bf->v));
	}
	if (v->sealed)
		json_object_set_new(o, "sealed", json_string("[sealed]"));
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

static int
column_shown(const struct view *v, const struct column *c)
{

	return (c->kind == 0 || v->kind == 0 || c->kind == v->kind) &&
	    (!c->personal || v->personal);
}

static int
csv_row(struct view *v, const struct state *s)
{
	const struct state_field *f;
	char buf[64];
	size_t i;

	if (v->rows++ == 0) {
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
		if (!column_shown(v, &columns[i]))
			continue;
		fputc(',', v->out);
		if (columns[i].personal && v->opened != NULL) {
			const struct body_field *bf;

			if ((bf = body_get(v->opened, columns[i].name)) != NULL &&
			    bf->v.type == CODEC_STR)
				csv_cell(v->out, bf->v.s, bf->v.len);
			continue;
		}
		f = state_get(s, columns[i].name);
		if (f == NULL || f->personal != columns[i].personal)
			continue;
		if (f->value.type == CODEC_STR)
			csv_cell(v->out, f->value.s, f->value.len);
		else if (f->value.type == CODEC_INT)
			fprintf(v->out, "%lld", (long long)f->value.i);
	}
	return fputs("\r\n", v->out) == EOF ? KITH_EIO : 0;
}

/* Print a field's value by name in a list line, or "-". */
static void
tfield(FILE *out, const struct state *s, const char *name)
{
	const struct state_field *f = state_get(s, name);

	if (f == NULL)
		fputs("-", out);
	else
		tvalue(out, &f->value);
}

static int
text_line(struct view *v, const struct state *s)
{
	char id[2 * KITH_ENTITY_LEN + 1];

	kith_hex(id, state_entity(s), KITH_ENTITY_LEN);
	fputs(id, v->out);
	switch (state_kind(s)) {
	case KITH_KIND_REQUEST:
		fputs("  ", v->out);
		tfield(v->out, s, "status");
		fputs("  ", v->out);
		tfield(v->out, s, "category");
		fputs("  ", v->out);
		tfield(v->out, s, "area");
		fputs("  u", v->out);
		tfield(v->out, s, "urgency");
		break;
	case KITH_KIND_REFERRAL:
		fputs("  ", v->out);
		tfield(v->out, s, "status");
		fputs("  ", v->out);
		tfield(v->out, s, "category");
		fputs("  consent=", v->out);
		tfield(v->out, s, "consent");
		break;
	case KITH_KIND_VOLUNTEER:
		fputs("  ", v->out);
		tfield(v->out, s, "areas");
		fputs("  ", v->out);
		tfield(v->out, s, "skills");
		break;
	default:
		fprintf(v->out, "  %s", kind_name(state_kind(s)));
	}
	if (state_nconflicts(s) > 0)
		fputs("  [conflict]", v->out);
	return fputc('\n', v->out) == EOF ? KITH_EIO : 0;
}

static int
detail(struct view *v, const struct state *s)
{
	const struct state_field *f;
	char id[2 * KITH_KEY_LEN + 1], t1[40], t2[40];
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
		else
			tvalue(v->out, &f->value);
		for (k = 0; k < f->nalts && (!f->personal || v->personal);
		    k++) {
			fputs(" | ", v->out);
			tvalue(v->out, &f->alts[k]);
		}
		fprintf(v->out, "%s%s\n", f->nalts ? "  [conflict]" : "",
		    f->personal ? "  (personal)" : "");
	}
	for (i = 0; v->opened != NULL && i < body_nfields(v->opened); i++) {
		const struct body_field *bf = body_field(v->opened, i);

		if (!bf->personal || bf->v.type == CODEC_NIL)
			continue;
		fprintf(v->out, "  %-13s ", bf->name);
		if (v->personal)
			tvalue(v->out, &bf->v);
		else
			fputs("[hidden]", v->out);
		fputs("  (personal)\n", v->out);
	}
	if (v->sealed)
		fputs("  personal      [sealed]: this node may not read it\n",
		    v->out);
	kith_hex(id, state_creator(s), 8);
	hlc_format(t1, state_created(s));
	hlc_format(t2, state_updated(s));
	fprintf(v->out, "  created %s by %s; updated %s; %llu version%s\n",
	    t1, id, t2, (unsigned long long)state_nversions(s),
	    state_nversions(s) == 1 ? "" : "s");
	return ferror(v->out) ? KITH_EIO : 0;
}

void
view_opened(struct view *v, const struct body *b, int sealed)
{

	v->opened = b;
	v->sealed = sealed;
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
	char hex[2 * KITH_ID_LEN + 1], t[40];
	size_t blen, i;

	if ((bp = record_body(rec, &blen)) != NULL &&
	    body_decode(bp, blen, &b) != 0)
		b = NULL;
	if (v->fmt == VIEW_TEXT) {
		hlc_format(t, h->hlc);
		fprintf(v->out, "%s  ", t);
		kith_hex(hex, h->author, 8);
		fprintf(v->out, "%s  seq %llu  ", hex,
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
