#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "fhir.h"
#include "kcrypto.h"
#include "kith.h"

/* The four resources of a referral, in output order. */
enum { SR, TASK, CONSENT, PT, NRES };
static const char *const rtype[NRES] = {
	"ServiceRequest", "Task", "Consent", "Patient"
};
static const char *const rsuffix[NRES] = { "sr", "task", "consent", "pt" };

#define ORG_KEY_SYSTEM	"urn:kith:org-key"
#define REFERRAL_SYSTEM	"urn:kith:referral"
#define NHS_SYSTEM	"https://fhir.nhs.uk/Id/nhs-number"
#define SNOMED_SYSTEM	"http://snomed.info/sct"
#define SCOPE_SYSTEM	"http://terminology.hl7.org/CodeSystem/consentscope"
#define LOINC_SYSTEM	"http://loinc.org"

/* 9999-12-31T23:59:59.999Z: FHIR's years have four digits. */
#define MS_MAX		UINT64_C(253402300799999)

/* Referral status: ServiceRequest.status, Task.status. */
static const struct {
	const char *kith, *sr, *task;
} statuses[] = {
	{ "sent", "active", "requested" },
	{ "accepted", "active", "accepted" },
	{ "declined", "revoked", "rejected" },
	{ "completed", "completed", "completed" },
};

/* The legal basis for processing, as Consent.policyRule text. */
static const struct {
	const char *kith, *rule;
} bases[] = {
	{ "explicit", "UK GDPR Article 9(2)(a) explicit consent" },
	{ "care", "UK GDPR Article 9(2)(h) health or social care" },
	{ "support-body", "DPA 2018 Schedule 1 paragraph 16 (support for "
	    "individuals with a particular disability or medical condition)" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Ids and reference targets of one referral's resources. */
struct names {
	char id[NRES][48];	/* "kith-<entity>-sr" */
	char ref[NRES][64];	/* "ServiceRequest/<id>", or the urn:uuid */
	char url[NRES][48];	/* "urn:uuid:..." (Bundle fullUrl) */
	char entity[2 * KITH_ENTITY_LEN + 1];	/* lower-case hex */
};

static int
present(const char *s)
{

	return s != NULL && s[0] != '\0';
}

static int
digits(const char *s, size_t min, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (s[n] < '0' || s[n] > '9')
			return 0;
	return n >= min && n <= max;
}

/* A real calendar date, YYYY-MM-DD, year 0001 to 9999. */
static int
is_date(const char *s)
{
	static const int mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[5]) || !isdigit((unsigned char)s[6]) ||
	    !isdigit((unsigned char)s[8]) || !isdigit((unsigned char)s[9]))
		return 0;
	y = atoi(s);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 &&
	    !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	return 1;
}

/*
 * Decode one UTF-8 sequence at ${s}; return its length and the code point in
 * ${*cp}, or 0 if it is malformed (overlong, a surrogate, past U+10FFFF).
 */
static size_t
utf8(const unsigned char *s, unsigned long *cp)
{
	size_t n, i;
	unsigned long c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Whitespace other than ' ', '\t', '\r', '\n' that the R4 schema's string
 * pattern ^[ \r\n\t\S]+$ refuses (\s in ECMAScript and Python): Unicode
 * spaces a user may paste in, which tidy() turns into plain spaces.
 */
static int
uspace(unsigned long c)
{

	return c == 0x85 || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	    c == 0x202f || c == 0x205f || c == 0x3000 || c == 0xfeff;
}

/* Text FHIR can carry: UTF-8, at most KITH_VALUE_MAX bytes, no controls. */
static int
is_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long c;
	size_t n;

	if (strlen(s) > KITH_VALUE_MAX)
		return 0;
	while (*p != '\0') {
		if ((n = utf8(p, &c)) == 0)
			return 0;
		if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
			return 0;
		if (c >= 0x7f && c < 0xa0 && c != 0x85)
			return 0;
		p += n;
	}
	return 1;
}

/*
 * Copy text ${s} (passed by is_text) to ${buf} with Unicode spaces made plain
 * spaces and no whitespace at either end; return the length.  The R4 string
 * pattern allows only ' ', \t, \r and \n besides non-space characters.
 */
static size_t
tidy(char buf[KITH_VALUE_MAX + 1], const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long c;
	size_t n, len = 0, end = 0;

	while (*p != '\0') {
		n = utf8(p, &c);
		if (uspace(c) || c == ' ' || c == '\t' || c == '\r' ||
		    c == '\n') {
			if (len > 0)
				buf[len++] = uspace(c) ? ' ' : (char)c;
		} else {
			memcpy(buf + len, p, n);
			len += n;
			end = len;
		}
		p += n;
	}
	buf[end] = '\0';
	return end;
}

/* Whether text ${s} has anything but whitespace in it. */
static int
has(const char *s)
{
	char buf[KITH_VALUE_MAX + 1];

	return present(s) && tidy(buf, s) > 0;
}

#define TEXT_BAD ": not UTF-8, over 4096 bytes, or has control characters"

int
fhir_check(const struct fhir_referral *r, const char **why)
{
	const struct {
		const char *s, *bad;
	} texts[] = {
		{ r->category, "category" TEXT_BAD },
		{ r->reason, "reason" TEXT_BAD },
		{ r->consent_by, "consent_by" TEXT_BAD },
		{ r->from_org, "from_org" TEXT_BAD },
		{ r->to_org, "to_org" TEXT_BAD },
		{ r->name, "name" TEXT_BAD },
		{ r->phone, "phone" TEXT_BAD },
		{ r->outcome, "outcome" TEXT_BAD },
	};
	uint8_t entity[KITH_ENTITY_LEN], key[KITH_KEY_LEN];
	const char *bad = NULL;
	size_t i;

	if (!present(r->id) || kith_unhex(entity, sizeof(entity), r->id) != 0)
		bad = "id: not 32 hex digits";
	for (i = 0; i < NELEM(statuses); i++)
		if (present(r->status) &&
		    strcmp(r->status, statuses[i].kith) == 0)
			break;
	if (bad == NULL && i == NELEM(statuses))
		bad = "status: not sent, accepted, declined or completed";
	for (i = 0; i < NELEM(bases); i++)
		if (present(r->consent) &&
		    strcmp(r->consent, bases[i].kith) == 0)
			break;
	if (bad == NULL && present(r->consent) && i == NELEM(bases))
		bad = "consent: not explicit, care or support-body";
	if (bad == NULL && present(r->snomed) &&
	    (!digits(r->snomed, 6, 18) || r->snomed[0] == '0'))
		bad = "snomed: not a SNOMED CT id (6 to 18 digits)";
	if (bad == NULL && present(r->nhs_number) &&
	    !digits(r->nhs_number, 10, 10))
		bad = "nhs_number: not 10 digits";
	if (bad == NULL && present(r->dob) && !is_date(r->dob))
		bad = "dob: not a date YYYY-MM-DD";
	if (bad == NULL && present(r->from_key) &&
	    kith_unhex(key, sizeof(key), r->from_key) != 0)
		bad = "from_key: not 64 hex digits";
	if (bad == NULL && present(r->to_key) &&
	    kith_unhex(key, sizeof(key), r->to_key) != 0)
		bad = "to_key: not 64 hex digits";
	if (bad == NULL && (r->created_ms > MS_MAX || r->updated_ms > MS_MAX))
		bad = "created_ms/updated_ms: after the year 9999";
	for (i = 0; bad == NULL && i < NELEM(texts); i++)
		if (present(texts[i].s) && !is_text(texts[i].s))
			bad = texts[i].bad;
	if (why != NULL)
		*why = bad;
	return bad == NULL ? 0 : KITH_EINVAL;
}

/* ${r}'s resource ids, and what references point at: ids or urn:uuids. */
static void
names(struct names *nm, const struct fhir_referral *r, int in_bundle)
{
	uint8_t entity[KITH_ENTITY_LEN], h[KITH_HASH_LEN];
	int i;

	(void)kith_unhex(entity, sizeof(entity), r->id);	/* checked */
	kith_hex(nm->entity, entity, sizeof(entity));
	for (i = 0; i < NRES; i++) {
		snprintf(nm->id[i], sizeof(nm->id[i]), "kith-%s-%s",
		    nm->entity, rsuffix[i]);
		/* A UUIDv8 (RFC 9562) from the id's hash: stable, unique. */
		kcrypto_hash(h, (const uint8_t *)nm->id[i], strlen(nm->id[i]));
		h[6] = (uint8_t)((h[6] & 0x0f) | 0x80);
		h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
		snprintf(nm->url[i], sizeof(nm->url[i]), "urn:uuid:"
		    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		    "%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4],
		    h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13],
		    h[14], h[15]);
		if (in_bundle)
			snprintf(nm->ref[i], sizeof(nm->ref[i]), "%s",
			    nm->url[i]);
		else
			snprintf(nm->ref[i], sizeof(nm->ref[i]), "%s/%s",
			    rtype[i], nm->id[i]);
	}
}

/* Set ${o}[${k}] to ${v}, taking ${v}; set ${*bad} if either is NULL. */
static void
put(json_t *o, const char *k, json_t *v, int *bad)
{

	if (json_object_set_new(o, k, v) != 0)
		*bad = 1;
}

/* A new array holding ${v} (taken), or NULL. */
static json_t *
one(json_t *v)
{
	json_t *a = json_array();

	if (json_array_append_new(a, v) != 0) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

/* Tidied text ${s}, which has() passed. */
static json_t *
jtext(const char *s)
{
	char buf[KITH_VALUE_MAX + 1];
	size_t n = tidy(buf, s);

	return json_stringn(buf, n);
}

/* A FHIR instant / dateTime: 2024-05-01T09:30:00.250Z. */
static json_t *
jtime(uint64_t ms)
{
	char buf[80];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return NULL;
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
	return json_string(buf);
}

/* A CodeableConcept of text only. */
static json_t *
concept(const char *s)
{

	return json_pack("{s:o}", "text", jtext(s));
}

/* A Reference to resource ${i} of this referral. */
static json_t *
ref(const struct names *nm, int i)
{

	return json_pack("{s:s}", "reference", nm->ref[i]);
}

/* A logical Reference to an organisation by its key (lower-cased) and name. */
static json_t *
org(const char *key, const char *name)
{
	json_t *o = json_pack("{s:s}", "type", "Organization");
	uint8_t pk[KITH_KEY_LEN];
	char hex[2 * KITH_KEY_LEN + 1];
	int bad = 0;

	if (present(key)) {
		(void)kith_unhex(pk, sizeof(pk), key);	/* checked */
		kith_hex(hex, pk, sizeof(pk));
		put(o, "identifier", json_pack("{s:s,s:s}", "system",
		    ORG_KEY_SYSTEM, "value", hex), &bad);
	}
	if (has(name))
		put(o, "display", jtext(name), &bad);
	if (bad) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static json_t *
service_request(const struct fhir_referral *r, const struct names *nm,
    const char *status, int *bad)
{
	json_t *o, *code;

	o = json_pack("{s:s,s:s,s:[{s:s,s:s}],s:s,s:s}",
	    "resourceType", rtype[SR], "id", nm->id[SR],
	    "identifier", "system", REFERRAL_SYSTEM, "value", nm->entity,
	    "status", status, "intent", "order");
	if (has(r->category))
		put(o, "category", one(concept(r->category)), bad);
	if (present(r->snomed)) {
		code = json_pack("{s:[{s:s,s:s}]}", "coding",
		    "system", SNOMED_SYSTEM, "code", r->snomed);
		if (has(r->category))
			put(code, "text", jtext(r->category), bad);
		put(o, "code", code, bad);
	} else if (has(r->category))
		put(o, "code", concept(r->category), bad);
	put(o, "subject", ref(nm, PT), bad);
	if (r->created_ms != 0)
		put(o, "authoredOn", jtime(r->created_ms), bad);
	if (present(r->from_key) || has(r->from_org))
		put(o, "requester", org(r->from_key, r->from_org), bad);
	if (present(r->to_key) || has(r->to_org))
		put(o, "performer", one(org(r->to_key, r->to_org)), bad);
	if (has(r->reason))
		put(o, "reasonCode", one(concept(r->reason)), bad);
	if (present(r->consent))
		put(o, "supportingInfo", one(ref(nm, CONSENT)), bad);
	return o;
}

static json_t *
task(const struct fhir_referral *r, const struct names *nm,
    const char *status, int *bad)
{
	json_t *o;

	o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}",
	    "resourceType", rtype[TASK], "id", nm->id[TASK],
	    "status", status, "intent", "order",
	    "focus", ref(nm, SR), "for", ref(nm, PT));
	if (r->created_ms != 0)
		put(o, "authoredOn", jtime(r->created_ms), bad);
	if (r->updated_ms != 0)
		put(o, "lastModified", jtime(r->updated_ms), bad);
	if (present(r->from_key) || has(r->from_org))
		put(o, "requester", org(r->from_key, r->from_org), bad);
	if (present(r->to_key) || has(r->to_org))
		put(o, "owner", org(r->to_key, r->to_org), bad);
	if (strcmp(r->status, "completed") == 0 && has(r->outcome))
		put(o, "output", one(json_pack("{s:{s:s},s:o}",
		    "type", "text", "outcome",
		    "valueString", jtext(r->outcome))), bad);
	return o;
}

static json_t *
consent(const struct fhir_referral *r, const struct names *nm,
    const char *rule, int *bad)
{
	json_t *o;

	o = json_pack("{s:s,s:s,s:s,s:{s:[{s:s,s:s,s:s}]},"
	    "s:[{s:[{s:s,s:s,s:s}]}],s:o}",
	    "resourceType", rtype[CONSENT], "id", nm->id[CONSENT],
	    "status", "active",
	    "scope", "coding", "system", SCOPE_SYSTEM,
	    "code", "patient-privacy", "display", "Privacy Consent",
	    "category", "coding", "system", LOINC_SYSTEM,
	    "code", "59284-0", "display", "Patient Consent",
	    "patient", ref(nm, PT));
	if (r->created_ms != 0)
		put(o, "dateTime", jtime(r->created_ms), bad);
	if (has(r->consent_by))
		put(o, "performer", one(json_pack("{s:o}", "display",
		    jtext(r->consent_by))), bad);
	if (present(r->from_key) || has(r->from_org))
		put(o, "organization", one(org(r->from_key, r->from_org)), bad);
	put(o, "policyRule", json_pack("{s:s}", "text", rule), bad);
	return o;
}

static json_t *
patient(const struct fhir_referral *r, const struct names *nm, int *bad)
{
	char buf[KITH_VALUE_MAX + 1];
	json_t *o, *name;
	char *sp;

	o = json_pack("{s:s,s:s}", "resourceType", rtype[PT], "id", nm->id[PT]);
	if (present(r->nhs_number))
		put(o, "identifier", one(json_pack("{s:s,s:s}", "system",
		    NHS_SYSTEM, "value", r->nhs_number)), bad);
	if (has(r->name)) {
		/* Family name after the last space, given names before it. */
		tidy(buf, r->name);
		name = json_pack("{s:s}", "text", buf);
		if ((sp = strrchr(buf, ' ')) != NULL) {
			put(name, "family", json_string(sp + 1), bad);
			while (sp > buf && isspace((unsigned char)sp[-1]))
				sp--;
			*sp = '\0';
			put(name, "given", one(json_string(buf)), bad);
		}
		put(o, "name", one(name), bad);
	}
	if (has(r->phone))
		put(o, "telecom", one(json_pack("{s:s,s:o}", "system", "phone",
		    "value", jtext(r->phone))), bad);
	if (present(r->dob))
		put(o, "birthDate", json_string(r->dob), bad);
	return o;
}

/*
 * Make ${r}'s resources in ${res}, referring as ${nm} says; ${res}[CONSENT]
 * is NULL without a consent basis.  Return 0, or KITH_ENOMEM (and the caller
 * still drops what is in ${res}).
 */
static int
build(json_t *res[NRES], const struct fhir_referral *r,
    const struct names *nm)
{
	size_t si, bi = 0;
	int bad = 0;

	for (si = 0; si < NELEM(statuses); si++)
		if (strcmp(r->status, statuses[si].kith) == 0)
			break;
	res[SR] = service_request(r, nm, statuses[si].sr, &bad);
	res[TASK] = task(r, nm, statuses[si].task, &bad);
	res[CONSENT] = NULL;
	if (present(r->consent)) {
		for (bi = 0; bi < NELEM(bases); bi++)
			if (strcmp(r->consent, bases[bi].kith) == 0)
				break;
		res[CONSENT] = consent(r, nm, bases[bi].rule, &bad);
		if (res[CONSENT] == NULL)
			bad = 1;
	}
	res[PT] = patient(r, nm, &bad);
	if (res[SR] == NULL || res[TASK] == NULL || res[PT] == NULL)
		bad = 1;
	return bad ? KITH_ENOMEM : 0;
}

json_t *
fhir_resources(const struct fhir_referral *r)
{
	struct names nm;
	json_t *res[NRES] = { NULL }, *a = NULL;
	int bad = 0, i;

	if (fhir_check(r, NULL) != 0)
		goto out;
	names(&nm, r, 0);
	if ((a = json_array()) == NULL || build(res, r, &nm) != 0)
		bad = 1;
	for (i = 0; i < NRES; i++) {
		if (bad)
			json_decref(res[i]);
		else if (res[i] != NULL &&
		    json_array_append_new(a, res[i]) != 0)
			bad = 1;
	}
	if (bad) {
		json_decref(a);
		a = NULL;
	}
out:
	return a;
}

json_t *
fhir_bundle(const struct fhir_referral *r, size_t n, uint64_t now_ms)
{
	struct names nm;
	json_t *res[NRES], *b = NULL, *entries = NULL;
	size_t k;
	int bad = 0, i;

	for (k = 0; k < n; k++)
		if (fhir_check(&r[k], NULL) != 0)
			goto out;
	if (now_ms > MS_MAX)
		goto out;
	b = json_pack("{s:s,s:s,s:o}", "resourceType", "Bundle",
	    "type", "collection", "timestamp", jtime(now_ms));
	if (b == NULL || (entries = json_array()) == NULL)
		bad = 1;
	for (k = 0; k < n && !bad; k++) {
		names(&nm, &r[k], 1);
		if (build(res, &r[k], &nm) != 0)
			bad = 1;
		for (i = 0; i < NRES; i++) {
			if (bad)
				json_decref(res[i]);
			else if (res[i] != NULL && json_array_append_new(
			    entries, json_pack("{s:s,s:o}", "fullUrl",
			    nm.url[i], "resource", res[i])) != 0)
				bad = 1;
		}
	}
	/* FHIR allows no empty arrays: no referrals, no "entry". */
	if (!bad && json_array_size(entries) > 0) {
		put(b, "entry", entries, &bad);
		entries = NULL;	/* transferred */
	}
	if (bad) {
		json_decref(b);
		b = NULL;
	}
out:
	json_decref(entries);
	return b;
}

int
fhir_write_bundle(FILE *f, const struct fhir_referral *r, size_t n,
    uint64_t now_ms)
{
	json_t *b = NULL;
	size_t i;
	int rc = KITH_EINVAL;

	for (i = 0; i < n; i++)
		if (fhir_check(&r[i], NULL) != 0)
			goto out;
	if (now_ms > MS_MAX)
		goto out;
	rc = KITH_ENOMEM;
	if ((b = fhir_bundle(r, n, now_ms)) == NULL)
		goto out;
	rc = 0;
	if (json_dumpf(b, f, JSON_INDENT(2)) != 0 || fputc('\n', f) == EOF ||
	    fflush(f) != 0)
		rc = KITH_EIO;
out:
	json_decref(b);
	return rc;
}

int
fhir_write_ndjson(FILE *f, const struct fhir_referral *r)
{
	json_t *a = NULL, *res;
	size_t i;
	int rc;

	if ((rc = fhir_check(r, NULL)) != 0)
		goto out;
	rc = KITH_ENOMEM;
	if ((a = fhir_resources(r)) == NULL)
		goto out;
	rc = 0;
	json_array_foreach(a, i, res)
		if (json_dumpf(res, f, JSON_COMPACT) != 0 ||
		    fputc('\n', f) == EOF)
			rc = KITH_EIO;
	if (rc == 0 && fflush(f) != 0)
		rc = KITH_EIO;
out:
	json_decref(a);
	return rc;
}
