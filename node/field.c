/*
 * Fields: one table per kind, one check per field.
 */

#include <ctype.h>
#include <stdio.h>
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

static const struct field_def request_fields[] = {
	{ "category", "category", 0, FIELD_CATEGORY, "one of food, "
	    "prescription, check-in, befriending, transport, advice, other" },
	{ "area", "area", 0, FIELD_DISTRICT, "a UK postcode district such as "
	    "TW3, N17 or SW1A" },
	{ "urgency", "urgency", 0, FIELD_URGENCY, "1, 2 or 3" },
	{ "needed-by", "needed_by", 0, FIELD_DATE, "a date as YYYY-MM-DD" },
	{ "lang", "languages", 0, FIELD_LANGS, "language codes such as pl,ps" },
	{ "access-needs", "access_needs", 0, FIELD_TEXT, "text" },
	{ "name", "name", 1, FIELD_TEXT, "text" },
	{ "phone", "phone", 1, FIELD_PHONE, "a phone number" },
	{ "address", "address", 1, FIELD_TEXT, "text" },
	{ "notes", "notes", 1, FIELD_TEXT, "text" },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct field_def volunteer_fields[] = {
	{ "name", "name", 1, FIELD_TEXT, "text" },
	{ "area", "areas", 0, FIELD_DISTRICTS, "UK postcode districts such "
	    "as TW3,N17" },
	{ "skills", "skills", 0, FIELD_SKILLS, "tags such as driving,cooking" },
	{ "lang", "languages", 0, FIELD_LANGS, "language codes such as pl,ps" },
	{ "availability", "availability", 0, FIELD_TEXT, "text" },
	{ "dbs", "dbs", 0, FIELD_DBS, "one of none, basic, standard, enhanced" },
	{ "dbs-checked", "dbs_checked", 0, FIELD_DATE, "a date as YYYY-MM-DD" },
	{ NULL, NULL, 0, 0, NULL },
};

static const struct field_def referral_fields[] = {
	{ "category", "category", 0, FIELD_TEXT, "text such as mental-health" },
	{ "consent", "consent", 0, FIELD_TEXT, "explicit, care or "
	    "support-body" },
	{ "reason", "reason", 1, FIELD_TEXT, "text" },
	{ "snomed", "snomed", 1, FIELD_SNOMED, "a SNOMED CT concept id: 6 to "
	    "18 digits" },
	{ "consent-recorded-by", "consent_by", 1, FIELD_TEXT, "text" },
	{ "name", "name", 1, FIELD_TEXT, "text" },
	{ "dob", "dob", 1, FIELD_DATE, "a date as YYYY-MM-DD" },
	{ "phone", "phone", 1, FIELD_PHONE, "a phone number" },
	{ "nhs-number", "nhs_number", 1, FIELD_NHS, "an NHS number: 10 digits "
	    "with a modulus-11 check digit" },
	{ NULL, NULL, 0, 0, NULL },
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

int
field_date_ok(const char *s)
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

int
field_text_ok(const char *s)
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

int
field_norm(const struct field_def *f, const char *in, char *out,
    size_t outlen)
{
	char norm[KITH_VALUE_MAX + 1];
	int ok;

	switch (f->check) {
	case FIELD_CATEGORY:
		ok = one_of(in, categories);
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	case FIELD_DBS:
		ok = one_of(in, dbs_levels);
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	case FIELD_DISTRICT:
		ok = district_ok(in, strlen(in), norm);
		break;
	case FIELD_DISTRICTS:
		ok = list_ok(in, norm, sizeof(norm), district_ok);
		break;
	case FIELD_LANGS:
		ok = list_ok(in, norm, sizeof(norm), lang_ok);
		break;
	case FIELD_SKILLS:
		ok = list_ok(in, norm, sizeof(norm), skill_ok);
		break;
	case FIELD_URGENCY:
		ok = strlen(in) == 1 && in[0] >= '1' && in[0] <= '3';
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	case FIELD_DATE:
		ok = field_date_ok(in);
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	case FIELD_PHONE:
		ok = phone_ok(in);
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	case FIELD_NHS:
		ok = nhs_ok(in, norm);
		break;
	case FIELD_SNOMED:
		ok = strlen(in) >= 6 && strlen(in) <= 18 &&
		    strspn(in, "0123456789") == strlen(in);
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	case FIELD_TEXT:
	default:
		ok = field_text_ok(in);
		snprintf(norm, sizeof(norm), "%s", in);
		break;
	}
	if (!ok || strlen(norm) >= outlen)
		return KITH_EINVAL;
	memcpy(out, norm, strlen(norm) + 1);
	return 0;
}

int
field_set(struct body *b, const struct field_def *f, const char *in,
    char *why, size_t whylen)
{
	char norm[KITH_VALUE_MAX + 1];
	int rc;

	if ((rc = field_norm(f, in, norm, sizeof(norm))) != 0) {
		snprintf(why, whylen, "invalid --%s '%s': expected %s", f->opt,
		    in, f->hint);
		return rc;
	}
	if (f->check == FIELD_URGENCY)
		rc = body_set_int(b, f->name, f->personal, norm[0] - '0');
	else
		rc = body_set_str(b, f->name, f->personal, norm);
	if (rc != 0)
		snprintf(why, whylen, "--%s: %s", f->opt, kith_strerror(rc));
	return rc;
}

int
field_set_all(struct body *b, const struct field_def *defs,
    const struct field_in *in, size_t n, char *why, size_t whylen)
{
	const struct field_def *f;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if ((f = field_find(defs, in[i].opt)) == NULL) {
			snprintf(why, whylen, "unknown field --%s", in[i].opt);
			return KITH_EINVAL;
		}
		if ((rc = field_set(b, f, in[i].value, why, whylen)) != 0)
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
