#ifndef FIELD_H
#define FIELD_H

/*
 * The fields an entity's records may set, one table per kind, and how a
 * value a person typed (in the `kith` command, a web form, a spreadsheet
 * cell) is checked and normalised before it is signed.  Every caller goes
 * through field_set, so a value means the same wherever it came from.
 */

#include <stddef.h>
#include <stdint.h>

struct body;

/* How a value is checked. */
enum field_check { FIELD_TEXT, FIELD_CATEGORY, FIELD_DISTRICT,
	FIELD_DISTRICTS, FIELD_URGENCY, FIELD_DATE, FIELD_PAST, FIELD_LANGS,
	FIELD_SKILLS, FIELD_DBS, FIELD_PHONE, FIELD_NHS, FIELD_SNOMED,
	FIELD_YESNO, FIELD_COUNT, FIELD_FORMAT, FIELD_SENTIMENT, FIELD_ID,
	FIELD_RESPONSE };

/* Flags of a field. */
#define FIELD_PERSONAL	1	/* sealed to the entitled */
#define FIELD_REQUIRED	2	/* given when the entity starts; never cleared */
#define FIELD_ANSWER	4	/* an insight's response: a PCN's or an admin's */

/* The most a count of people (FIELD_COUNT) may be. */
#define FIELD_COUNT_MAX	1000000

struct field_def {
	const char *opt;	/* its name where people type it: "needed-by" */
	const char *name;	/* its name in a body: "needed_by" */
	int flags;		/* FIELD_PERSONAL, FIELD_REQUIRED */
	enum field_check check;
	size_t max;		/* FIELD_TEXT: the most bytes it holds */
	const char *hint;	/* what a valid value looks like */
};

/* The most bytes of a text field, newlines included. */
#define FIELD_TEXT_MAX	4000

/* A value given for the field named ${opt} (field_def.opt). */
struct field_in {
	const char *opt;
	const char *value;
};

/**
 * field_defs(kind):
 * Return the table of ${kind}'s fields (request, volunteer, referral,
 * session, insight),
 * ended by an entry whose opt is NULL; or NULL for any other kind.
 */
const struct field_def *field_defs(uint64_t kind);

/**
 * field_find(defs, opt):
 * Return the entry of ${defs} named ${opt}, or NULL.
 */
const struct field_def *field_find(const struct field_def *defs,
    const char *opt);

/**
 * field_norm(f, in, out, outlen):
 * Check ${in} as a value of ${f} and write its normal form (a district
 * upper-cased, languages lower-cased) to ${out}.  Return 0, or
 * KITH_EINVAL if it is not one (${f}->hint says what is).
 */
int field_norm(const struct field_def *f, const char *in, char *out,
    size_t outlen);

/**
 * field_set(b, f, in, clear, why, whylen):
 * Check ${in} as a value of ${f} and set it in ${b}.  An empty ${in}
 * clears the field if ${clear} and the field is not required.  Return 0,
 * or an error with a sentence for ${why} that names the option and, for
 * free text, never repeats the value.
 */
int field_set(struct body *b, const struct field_def *f, const char *in,
    int clear, char *why, size_t whylen);

/**
 * field_set_all(b, defs, in, n, clear, why, whylen):
 * field_set each of the ${n} values ${in}, which must all name fields of
 * ${defs}.  Return 0, or an error with a sentence for ${why}.
 */
int field_set_all(struct body *b, const struct field_def *defs,
    const struct field_in *in, size_t n, int clear, char *why,
    size_t whylen);

/**
 * field_value(in, n, opt):
 * Return the value given for ${opt} among the ${n} values ${in}, or NULL.
 */
const char *field_value(const struct field_in *in, size_t n, const char *opt);

/**
 * field_date_ok(s):
 * Return 1 if ${s} is a calendar date as YYYY-MM-DD, else 0.
 */
int field_date_ok(const char *s);

/**
 * field_text_ok(s):
 * Return 1 if ${s} is one line of text: UTF-8, not blank, no control
 * characters, at most FIELD_TEXT_MAX bytes; else 0.
 */
int field_text_ok(const char *s);

/**
 * field_until(date, now, ms):
 * The end of day ${date} (YYYY-MM-DD, UTC) in ms into ${*ms}: how long
 * personal data may be kept.  Return 0, or KITH_EINVAL if ${date} is no
 * date or that moment is not after ${now} (ms).
 */
int field_until(const char *date, uint64_t now, uint64_t *ms);

#endif /* !FIELD_H */
