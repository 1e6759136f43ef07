/*
 * Fields: one table per kind, one check per field.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "body.h"
#include "codec.h"
#include "field.h"
#include "kith.h"

static const char *const categories[] = { "food", "prescription", "check-in",
	"befriending", "transport", "advice", "other", NULL };
static const char *const dbs_levels[] = { "none", "basic", "standard",
	"enhanced", NULL };
static const char *const yesno[] = { "yes", "no", NULL };
static const char *const formats[] = { "stall", "meeting", "focus-group",
	"event", "one-to-one", NULL };
static const char *const responses[] = { "planned", "done", "not-possible",
	NULL };

#define P	FIELD_PERSONAL
#define R	FIELD_REQUIRED

static const struct field_def request_fields[] = {
	{ "category", "category", R, FIELD_CATEGORY, 0, "one of food, "
	    "prescription, check-in, befriending, transport, advice, other" },
	{ "area", "area", R, FIELD_DISTRICT, 0, "a UK postcode district such "
	    "as TW3, N17 or SW1A, or a full postcode" },
	{ "urgency", "urgency", 0, FIELD_URGENCY, 0, "1 (low), 2 or 3 "
	    "(high)" },
	{ "needed-by", "needed_by", 0, FIELD_DATE, 0, "a date as YYYY-MM-DD" },
	{ "lang", "languages", 0, FIELD_LANGS, 0, "ISO 639 language codes "
	    "such as pl,ps" },
	{ "access-needs", "access_needs", 0, FIELD_TEXT, 500, NULL },
	{ "name", "name", P, FIELD_TEXT, 200, NULL },
	{ "phone", "phone", P, FIELD_PHONE, 0, "a phone number: 6 to 15 "
	    "digits, with spaces, +, -, ( or )" },
	{ "address", "address", P, FIELD_TEXT, 500, NULL },
	{ "notes", "notes", P, FIELD_TEXT, FIELD_TEXT_MAX, NULL },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static const struct field_def volunteer_fields[] = {
	{ "name", "name", P | R, FIELD_TEXT, 200, NULL },
	{ "area", "areas", R, FIELD_DISTRICTS, 0, "UK postcode districts such "
	    "as TW3,N17" },
	{ "skills", "skills", 0, FIELD_SKILLS, 0, "tags of letters, digits "
	    "and - such as driving,cooking" },
	{ "lang", "languages", 0, FIELD_LANGS, 0, "ISO 639 language codes "
	    "such as pl,ps" },
	{ "availability", "availability", 0, FIELD_TEXT, 500, NULL },
	{ "dbs", "dbs", 0, FIELD_DBS, 0, "one of none, basic, standard, "
	    "enhanced" },
	{ "dbs-checked", "dbs_checked", 0, FIELD_PAST, 0, "a date as "
	    "YYYY-MM-DD, not in the future" },
	{ "active", "active", 0, FIELD_YESNO, 0, "yes or no" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static const struct field_def referral_fields[] = {
	{ "category", "category", R, FIELD_TEXT, 100, NULL },
	{ "consent", "consent", R, FIELD_TEXT, 100, NULL },
	{ "reason", "reason", P | R, FIELD_TEXT, FIELD_TEXT_MAX, NULL },
	{ "snomed", "snomed", P, FIELD_SNOMED, 0, "a SNOMED CT concept id: 6 "
	    "to 18 digits" },
	{ "consent-recorded-by", "consent_by", P | R, FIELD_TEXT, 200, NULL },
	{ "name", "name", P, FIELD_TEXT, 200, NULL },
	{ "dob", "dob", P, FIELD_PAST, 0, "a date as YYYY-MM-DD, not in the "
	    "future" },
	{ "phone", "phone", P, FIELD_PHONE, 0, "a phone number: 6 to 15 "
	    "digits, with spaces, +, -, ( or )" },
	{ "nhs-number", "nhs_number", P, FIELD_NHS, 0, "an NHS number: 10 "
	    "digits with a modulus-11 check digit" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/*
 * An outreach or engagement session: who was met, where, in which
 * languages, how many.  No field names a person; the notes are sealed.
 */
static const struct field_def session_fields[] = {
	{ "group", "group", R, FIELD_TEXT, 200, NULL },
	{ "date", "date", R, FIELD_PAST, 0, "a date as YYYY-MM-DD, not in the "
	    "future" },
	{ "area", "area", R, FIELD_DISTRICT, 0, "a UK postcode district such "
	    "as TW3, N17 or SW1A, or a full postcode" },
	{ "community", "community", R, FIELD_TEXT, 200, NULL },
	{ "lang", "languages", R, FIELD_LANGS, 0, "ISO 639 language codes "
	    "such as pl,ps" },
	{ "reached", "reached", R, FIELD_COUNT, 0, "a number of people from 0 "
	    "to 1000000" },
	{ "in-depth", "in_depth", R, FIELD_COUNT, 0, "a number of "
	    "conversations from 0 to 1000000" },
	{ "format", "format", 0, FIELD_FORMAT, 0, "one of stall, meeting, "
	    "focus-group, event, one-to-one" },
	{ "lead", "lead", 0, FIELD_ID, 0, "a volunteer's id: 32 hex digits" },
	{ "notes", "notes", P, FIELD_TEXT, FIELD_TEXT_MAX, NULL },
	{ NULL, NULL, 0, 0, 0, NULL },
};

#define A	FIELD_ANSWER

/*
 * What people said at a session, about a service; and the answer a PCN
 * or a commissioner gives to it.  The quote is sealed.
 */
static const struct field_def insight_fields[] = {
	{ "session", "session", R, FIELD_ID, 0, "a session's id: 32 hex "
	    "digits" },
	{ "service", "service", R, FIELD_TEXT, 200, NULL },
	{ "theme", "themes", R, FIELD_SKILLS, 0, "tags of letters, digits and "
	    "- such as access,waiting-times" },
	{ "summary", "summary", R, FIELD_TEXT, 2000, NULL },
	{ "quote", "quote", P, FIELD_TEXT, 2000, NULL },
	{ "sentiment", "sentiment", 0, FIELD_SENTIMENT, 0, "a whole number "
	    "from -2 (very negative) to 2 (very positive)" },
	{ "action", "action", A | R, FIELD_TEXT, 2000, NULL },
	{ "status", "status", A | R, FIELD_RESPONSE, 0, "one of planned, done, "
	    "not-possible" },
	{ "why", "why", A | R, FIELD_TEXT, 2000, NULL },
	{ NULL, NULL, 0, 0, 0, NULL },
};

#undef A
#undef P
#undef R

/*
 * ISO 639-1 codes, and ISO 639-3 codes of languages spoken in UK
 * communities that have no two-letter code (Dari, Pashto's and Kurdish's
 * varieties, Sylheti, Chittagonian, Cantonese, Mandarin, Hakka, Min Nan,
 * Punjabi (Western), Saraiki, Bhojpuri, Romani, Kabyle, Tamazight, British
 * Sign Language).
 */
static const char *const languages[] = {
	"aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az",
	"ba", "be", "bg", "bh", "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce",
	"ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee",
	"el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr",
	"fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr",
	"ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "io", "is",
	"it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn",
	"ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
	"lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms",
	"mt", "my", "na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv",
	"ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl", "ps", "pt", "qu",
	"rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
	"sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta",
	"te", "tg", "th", "ti", "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw",
	"ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi",
	"yo", "za", "zh", "zu",
	"bfi", "bho", "ckb", "cmn", "ctg", "hak", "kab", "kmr", "nan", "pbu",
	"pnb", "prs", "pst", "rmy", "rom", "sdh", "skr", "syl", "tzm", "yue",
	NULL };

/* Three-letter codes (ISO 639-2) of languages with a two-letter one. */
static const char *const three_to_two[][2] = {
	{ "alb", "sq" }, { "amh", "am" }, { "ara", "ar" }, { "ben", "bn" },
	{ "bul", "bg" }, { "ces", "cs" }, { "chi", "zh" }, { "cze", "cs" },
	{ "deu", "de" }, { "eng", "en" }, { "fas", "fa" }, { "fra", "fr" },
	{ "fre", "fr" }, { "ger", "de" }, { "guj", "gu" }, { "hin", "hi" },
	{ "hun", "hu" }, { "ibo", "ig" }, { "ita", "it" }, { "kur", "ku" },
	{ "lav", "lv" }, { "lit", "lt" }, { "pan", "pa" }, { "per", "fa" },
	{ "pol", "pl" }, { "por", "pt" }, { "pus", "ps" }, { "ron", "ro" },
	{ "rum", "ro" }, { "rus", "ru" }, { "slk", "sk" }, { "slo", "sk" },
	{ "som", "so" }, { "spa", "es" }, { "sqi", "sq" }, { "swa", "sw" },
	{ "tam", "ta" }, { "tgl", "tl" }, { "tir", "ti" }, { "tur", "tr" },
	{ "twi", "tw" }, { "ukr", "uk" }, { "urd", "ur" }, { "vie", "vi" },
	{ "yor", "yo" }, { "zho", "zh" },
};

const struct field_def *
field_defs(uint64_t kind)
{

	switch (kind) {
	case KITH_KIND_REQUEST:
		return request_fields;
	case KITH_KIND_VOLUNTEER:
		return volunteer_fields;
	case KITH_KIND_REFERRAL:
		return referral_fields;
	case KITH_KIND_SESSION:
		return session_fields;
	case KITH_KIND_INSIGHT:
		return insight_fields;
	}
	return NULL;
}

const struct field_def *
field_find(const struct field_def *defs, const char *opt)
{

	for (; defs != NULL && defs->opt != NULL; defs++)
		if (strcmp(defs->opt, opt) == 0)
			return defs;
	return NULL;
}

const char *
field_value(const struct field_in *in, size_t n, const char *opt)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(in[i].opt, opt) == 0)
			return in[i].value;
	return NULL;
}

/*
 * Copy ${s} (${n} bytes) lower-cased into ${out} (room for ${n} + 1) and
 * return its index in ${set}, or -1.
 */
static int
lower_in(const char *s, size_t n, char *out, const char *const *set)
{
	size_t i;
	int k;

	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
	for (k = 0; set[k] != NULL; k++)
		if (strcmp(out, set[k]) == 0)
			return k;
	return -1;
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

/* A postcode's inward code: a digit and two letters. */
static int
inward_ok(const char *s)
{

	return isdigit((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
	    isalpha((unsigned char)s[2]);
}

/*
 * A district, or a full postcode cut to its district: "TW3", "tw3 3eb"
 * and "TW33EB" are all TW3.  Only the district is kept: the full postcode
 * with a name is personal data.
 */
static int
area_ok(const char *s, size_t n, char *out)
{
	const char *sp = memchr(s, ' ', n);

	if (sp != NULL)		/* one space, between the two halves */
		return s + n - sp == 4 && inward_ok(sp + 1) &&
		    district_ok(s, (size_t)(sp - s), out);
	if (n >= 5 && n <= 7 && inward_ok(s + n - 3))
		return district_ok(s, n - 3, out);
	return district_ok(s, n, out);
}

static int
date_parts(const char *s, int *y, int *m, int *d)
{
	static const int days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int n = 0;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", y, m, d, &n) != 3 ||
	    n != 10 || s[4] != '-' || s[7] != '-' || !isdigit((unsigned char)s[5]) ||
	    !isdigit((unsigned char)s[8]))
		return 0;
	if (*y < 1900 || *y > 2200 || *m < 1 || *m > 12 || *d < 1 ||
	    *d > days[*m - 1])
		return 0;
	/* 29 February only in leap years. */
	return !(*m == 2 && *d == 29 &&
	    !(*y % 4 == 0 && (*y % 100 != 0 || *y % 400 == 0)));
}

int
field_date_ok(const char *s)
{
	int y, m, d;

	return date_parts(s, &y, &m, &d);
}

/* A date no later than today (UTC). */
static int
past_ok(const char *s)
{
	char today[16];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	return field_date_ok(s) && strcmp(s, today) <= 0;
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

/* A language code (ISO 639), lower-cased; a three-letter one made two. */
static int
lang_ok(const char *s, size_t n, char *out)
{
	size_t i;

	if (n < 2 || n > 3)
		return 0;
	if (lower_in(s, n, out, languages) >= 0)
		return 1;
	for (i = 0; i < sizeof(three_to_two) / sizeof(three_to_two[0]); i++)
		if (strcmp(out, three_to_two[i][0]) == 0) {
			memcpy(out, three_to_two[i][1], 3);
			return 1;
		}
	return 0;
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

/*
 * Free text into ${out} (room for ${max} + 1): UTF-8, blanks trimmed at
 * both ends, CR LF made LF, newlines allowed if ${lines}, no other
 * control character.  Return NULL, or what is wrong with it.
 */
static const char *
text_norm(const char *s, size_t max, int lines, char *out)
{
	const unsigned char *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (!codec_utf8_valid(s, strlen(s)))
		return "is not UTF-8 text";
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if ((*p < 0x20 && !(lines && *p == '\n')) || *p == 0x7f)
			return lines ? "holds a control character (only "
			    "newlines are allowed)" : "holds a control "
			    "character or a newline";
		if (n == max)
			return "is too long";
		out[n++] = (char)*p;
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\n'))
		n--;
	out[n] = '\0';
	return n == 0 ? "is blank" : NULL;
}

int
field_text_ok(const char *s)
{
	char out[FIELD_TEXT_MAX + 1];

	return text_norm(s, FIELD_TEXT_MAX, 0, out) == NULL &&
	    strcmp(out, s) == 0;
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

/*
 * An NHS number: 10 digits (spaces allowed between groups) whose last is
 * the modulus-11 check digit of the first nine; the digits go to ${out}.
 */
static int
nhs_ok(const char *s, char out[11])
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
 * A whole number from ${lo} to ${hi}, in decimal with an optional sign;
 * into ${*v}.
 */
static int
int_ok(const char *s, long lo, long hi, int64_t *v)
{
	const char *p = s + (*s == '-' || *s == '+');
	long n = 0;

	if (*p == '\0' || strlen(p) > 7 || strspn(p, "0123456789") !=
	    strlen(p))
		return 0;
	for (; *p != '\0'; p++)
		n = n * 10 + (*p - '0');
	if (*s == '-')
		n = -n;
	*v = n;
	return n >= lo && n <= hi;
}

/* A whole entity id: 32 hex digits, lower-cased. */
static int
id_ok(const char *s, size_t n, char *out)
{
	size_t i;

	if (n != 2 * KITH_ENTITY_LEN)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return 0;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[n] = '\0';
	return 1;
}

/*
 * Check ${in} as a value of ${f}; its normal form to ${out} (room for
 * KITH_VALUE_MAX + 1).  Return 0, or KITH_EINVAL with the reason in
 * ${why}.
 */
static int
check(const struct field_def *f, const char *in, char *out, char *why,
    size_t whylen)
{
	const char *bad;
	size_t n = strlen(in);
	int64_t num = 0;
	int ok;

	if (n > KITH_VALUE_MAX && f->check != FIELD_TEXT) {
		snprintf(why, whylen, "invalid --%s: expected %s", f->opt,
		    f->hint);
		return KITH_EINVAL;
	}
	switch (f->check) {
	case FIELD_TEXT:
		if ((bad = text_norm(in, f->max, 1, out)) == NULL)
			return 0;
		if (strcmp(bad, "is too long") == 0)
			snprintf(why, whylen, "--%s is too long: at most %zu "
			    "bytes (this is %zu)", f->opt, f->max, n);
		else
			snprintf(why, whylen, "--%s %s", f->opt, bad);
		return KITH_EINVAL;
	case FIELD_CATEGORY:
		ok = lower_in(in, n, out, categories) >= 0;
		break;
	case FIELD_DBS:
		ok = lower_in(in, n, out, dbs_levels) >= 0;
		break;
	case FIELD_YESNO:
		ok = lower_in(in, n, out, yesno) >= 0;
		break;
	case FIELD_FORMAT:
		ok = lower_in(in, n, out, formats) >= 0;
		break;
	case FIELD_RESPONSE:
		ok = lower_in(in, n, out, responses) >= 0;
		break;
	case FIELD_COUNT:
		ok = int_ok(in, 0, FIELD_COUNT_MAX, &num);
		snprintf(out, KITH_VALUE_MAX + 1, "%lld", (long long)num);
		break;
	case FIELD_SENTIMENT:
		ok = int_ok(in, -2, 2, &num);
		snprintf(out, KITH_VALUE_MAX + 1, "%lld", (long long)num);
		break;
	case FIELD_ID:
		ok = id_ok(in, n, out);
		break;
	case FIELD_DISTRICT:
		ok = area_ok(in, n, out);
		break;
	case FIELD_DISTRICTS:
		ok = list_ok(in, out, KITH_VALUE_MAX + 1, area_ok);
		break;
	case FIELD_LANGS:
		ok = list_ok(in, out, KITH_VALUE_MAX + 1, lang_ok);
		break;
	case FIELD_SKILLS:
		ok = list_ok(in, out, KITH_VALUE_MAX + 1, skill_ok);
		break;
	case FIELD_URGENCY:
		ok = n == 1 && in[0] >= '1' && in[0] <= '3';
		memcpy(out, in, n + 1);
		break;
	case FIELD_DATE:
		ok = field_date_ok(in);
		memcpy(out, in, n + 1);
		break;
	case FIELD_PAST:
		ok = past_ok(in);
		memcpy(out, in, n + 1);
		break;
	case FIELD_PHONE:
		ok = phone_ok(in);
		memcpy(out, in, n + 1);
		break;
	case FIELD_NHS:
		ok = nhs_ok(in, out);
		break;
	case FIELD_SNOMED:
	default:
		ok = n >= 6 && n <= 18 && strspn(in, "0123456789") == n;
		memcpy(out, in, n + 1);
		break;
	}
	if (ok)
		return 0;
	/* A short structured value is worth repeating; long input is not. */
	if (n <= 40 && field_text_ok(in))
		snprintf(why, whylen, "invalid --%s '%s': expected %s", f->opt,
		    in, f->hint);
	else
		snprintf(why, whylen, "invalid --%s: expected %s", f->opt,
		    f->hint);
	return KITH_EINVAL;
}

int
field_norm(const struct field_def *f, const char *in, char *out,
    size_t outlen)
{
	char norm[KITH_VALUE_MAX + 1], why[256];

	if (check(f, in, norm, why, sizeof(why)) != 0 ||
	    strlen(norm) >= outlen)
		return KITH_EINVAL;
	memcpy(out, norm, strlen(norm) + 1);
	return 0;
}

int
field_set(struct body *b, const struct field_def *f, const char *in,
    int clear, char *why, size_t whylen)
{
	static const struct codec_value nil = { .type = CODEC_NIL };
	char norm[KITH_VALUE_MAX + 1];
	int personal = (f->flags & FIELD_PERSONAL) != 0;
	int rc;

	if (*in == '\0' && clear && !(f->flags & FIELD_REQUIRED))
		rc = body_set(b, f->name, personal, &nil);
	else if (*in == '\0') {
		snprintf(why, whylen, "--%s is empty%s", f->opt,
		    clear ? ": it cannot be cleared" : "");
		return KITH_EINVAL;
	} else if ((rc = check(f, in, norm, why, whylen)) != 0)
		return rc;
	else if (f->check == FIELD_URGENCY)
		rc = body_set_int(b, f->name, personal, norm[0] - '0');
	else if (f->check == FIELD_COUNT || f->check == FIELD_SENTIMENT)
		rc = body_set_int(b, f->name, personal, strtoll(norm, NULL,
		    10));
	else
		rc = body_set_str(b, f->name, personal, norm);
	if (rc != 0)
		snprintf(why, whylen, "--%s: %s", f->opt, kith_strerror(rc));
	return rc;
}

int
field_set_all(struct body *b, const struct field_def *defs,
    const struct field_in *in, size_t n, int clear, char *why, size_t whylen)
{
	const struct field_def *f;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if ((f = field_find(defs, in[i].opt)) == NULL) {
			snprintf(why, whylen, "unknown field --%s", in[i].opt);
			return KITH_EINVAL;
		}
		if ((rc = field_set(b, f, in[i].value, clear, why,
		    whylen)) != 0)
			return rc;
	}
	return 0;
}

int
field_until(const char *date, uint64_t now, uint64_t *ms)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!field_date_ok(date) || strptime(date, "%Y-%m-%d", &tm) == NULL)
		return KITH_EINVAL;
	*ms = ((uint64_t)timegm(&tm) + 86400) * 1000;
	return *ms > now ? 0 : KITH_EINVAL;
}
