/*
 * Referrals as FHIR R4 JSON (tools/fhir.c): the mapping of each field and
 * status, what is left out when unknown, the Bundle's references, and bad
 * input refused.  The Bundle and NDJSON written here go to $KITH_FHIR_OUT,
 * where `make fhir-check` validates them against the official R4 schema.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fhir.h"
#include "kcrypto.h"
#include "kith.h"
#include "testutil.h"

#define ID1	"0123456789abcdef0123456789ABCDEF"
#define ID1_LC	"0123456789abcdef0123456789abcdef"
#define ID2	"fedcba98765432100123456789abcdef"
#define KEY_A \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_B \
	"b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
#define KEY_B_UC \
	"B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCECF"
/* 2024-05-01T09:30:00.250Z, a day later, two days later. */
#define T_CREATED	UINT64_C(1714555800250)
#define T_UPDATED	UINT64_C(1714642200000)
#define T_NOW		UINT64_C(1714728600000)

/* Every field set. */
static const struct fhir_referral full = {
	.id = ID1,
	.status = "sent",
	.category = "mental-health",
	.reason = "Low mood since bereavement;\nasked for a talking therapy.",
	.snomed = "1082621000000106",
	.consent = "explicit",
	.consent_by = "Sam Okafor",
	.created_ms = T_CREATED,
	.updated_ms = T_UPDATED,
	.from_key = KEY_A,
	.from_org = "Leith Mutual Aid",
	.to_key = KEY_B,
	.to_org = "North Leith PCN",
	.name = "Mary Ann  O'Neill",
	.dob = "1948-02-29",
	.phone = "+44 131 496 0000",
	.nhs_number = "9434765919",
	.outcome = NULL,
};

/* Only what a referral cannot be without. */
static const struct fhir_referral minimal = {
	.id = ID2,
	.status = "accepted",
};

/* A fresh copy of ${r} with the status ${status}. */
static struct fhir_referral
with_status(const struct fhir_referral *r, const char *status)
{
	struct fhir_referral c = *r;

	c.status = status;
	return c;
}

/*
 * The value at ${path} in ${o}: keys and array indexes separated by dots
 * ("code.coding.0.system"); NULL if there is none.  Borrowed.
 */
static json_t *
at(json_t *o, const char *path)
{
	char buf[256], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p != NULL && o != NULL;
	    p = strtok_r(NULL, ".", &save)) {
		if (json_is_array(o))
			o = json_array_get(o, strtoul(p, NULL, 10));
		else
			o = json_object_get(o, p);
	}
	return o;
}

static const char *
str(json_t *o, const char *path)
{

	return json_string_value(at(o, path));
}

/* The resource of ${type} in array ${a}, or NULL.  Borrowed. */
static json_t *
find(json_t *a, const char *type)
{
	json_t *res;
	size_t i;

	json_array_foreach(a, i, res)
		if (strcmp(str(res, "resourceType"), type) == 0)
			return res;
	return NULL;
}

/* FHIR JSON has no null, no "", no {} and no []. */
static void
assert_no_empties(json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	assert_false(json_is_null(v));
	if (json_is_string(v))
		assert_true(json_string_length(v) > 0);
	if (json_is_object(v)) {
		assert_true(json_object_size(v) > 0);
		json_object_foreach(v, k, e)
			assert_no_empties(e);
	}
	if (json_is_array(v)) {
		assert_true(json_array_size(v) > 0);
		json_array_foreach(v, i, e)
			assert_no_empties(e);
	}
}

static int
setup(void **state)
{

	(void)state;
	return kcrypto_init();
}

static void
test_full(void **state)
{
	json_t *a, *sr, *task, *cons, *pt;

	(void)state;
	assert_non_null(a = fhir_resources(&full));
	assert_int_equal(json_array_size(a), 4);
	assert_no_empties(a);
	assert_string_equal(str(a, "0.resourceType"), "ServiceRequest");
	assert_string_equal(str(a, "3.resourceType"), "Patient");
	sr = find(a, "ServiceRequest");
	task = find(a, "Task");
	cons = find(a, "Consent");
	pt = find(a, "Patient");

	/* Ids from the entity id, lower-cased; relative references. */
	assert_string_equal(str(sr, "id"), "kith-" ID1_LC "-sr");
	assert_string_equal(str(task, "id"), "kith-" ID1_LC "-task");
	assert_string_equal(str(cons, "id"), "kith-" ID1_LC "-consent");
	assert_string_equal(str(pt, "id"), "kith-" ID1_LC "-pt");
	assert_string_equal(str(sr, "identifier.0.system"),
	    "urn:kith:referral");
	assert_string_equal(str(sr, "identifier.0.value"), ID1_LC);

	assert_string_equal(str(sr, "status"), "active");
	assert_string_equal(str(sr, "intent"), "order");
	assert_string_equal(str(sr, "category.0.text"), "mental-health");
	assert_string_equal(str(sr, "code.coding.0.system"),
	    "http://snomed.info/sct");
	assert_string_equal(str(sr, "code.coding.0.code"), "1082621000000106");
	assert_string_equal(str(sr, "code.text"), "mental-health");
	assert_string_equal(str(sr, "reasonCode.0.text"), full.reason);
	assert_string_equal(str(sr, "subject.reference"),
	    "Patient/kith-" ID1_LC "-pt");
	assert_string_equal(str(sr, "authoredOn"), "2024-05-01T09:30:00.250Z");
	assert_string_equal(str(sr, "requester.type"), "Organization");
	assert_string_equal(str(sr, "requester.identifier.system"),
	    "urn:kith:org-key");
	assert_string_equal(str(sr, "requester.identifier.value"), KEY_A);
	assert_string_equal(str(sr, "requester.display"), "Leith Mutual Aid");
	assert_string_equal(str(sr, "performer.0.identifier.value"), KEY_B);
	assert_string_equal(str(sr, "performer.0.display"), "North Leith PCN");
	assert_string_equal(str(sr, "supportingInfo.0.reference"),
	    "Consent/kith-" ID1_LC "-consent");

	assert_string_equal(str(task, "status"), "requested");
	assert_string_equal(str(task, "intent"), "order");
	assert_string_equal(str(task, "focus.reference"),
	    "ServiceRequest/kith-" ID1_LC "-sr");
	assert_string_equal(str(task, "for.reference"),
	    "Patient/kith-" ID1_LC "-pt");
	assert_string_equal(str(task, "owner.identifier.value"), KEY_B);
	assert_string_equal(str(task, "owner.display"), "North Leith PCN");
	assert_string_equal(str(task, "requester.identifier.value"), KEY_A);
	assert_string_equal(str(task, "authoredOn"),
	    "2024-05-01T09:30:00.250Z");
	assert_string_equal(str(task, "lastModified"),
	    "2024-05-02T09:30:00.000Z");
	assert_null(at(task, "output"));

	assert_string_equal(str(cons, "status"), "active");
	assert_string_equal(str(cons, "scope.coding.0.system"),
	    "http://terminology.hl7.org/CodeSystem/consentscope");
	assert_string_equal(str(cons, "scope.coding.0.code"),
	    "patient-privacy");
	assert_string_equal(str(cons, "category.0.coding.0.system"),
	    "http://loinc.org");
	assert_string_equal(str(cons, "category.0.coding.0.code"), "59284-0");
	assert_string_equal(str(cons, "patient.reference"),
	    "Patient/kith-" ID1_LC "-pt");
	assert_string_equal(str(cons, "dateTime"), "2024-05-01T09:30:00.250Z");
	assert_string_equal(str(cons, "performer.0.display"), "Sam Okafor");
	assert_string_equal(str(cons, "organization.0.display"),
	    "Leith Mutual Aid");
	assert_string_equal(str(cons, "policyRule.text"),
	    "UK GDPR Article 9(2)(a) explicit consent");

	assert_string_equal(str(pt, "identifier.0.system"),
	    "https://fhir.nhs.uk/Id/nhs-number");
	assert_string_equal(str(pt, "identifier.0.value"), "9434765919");
	assert_string_equal(str(pt, "name.0.text"), "Mary Ann  O'Neill");
	assert_string_equal(str(pt, "name.0.family"), "O'Neill");
	assert_string_equal(str(pt, "name.0.given.0"), "Mary Ann");
	assert_null(at(pt, "name.0.given.1"));
	assert_string_equal(str(pt, "birthDate"), "1948-02-29");
	assert_string_equal(str(pt, "telecom.0.system"), "phone");
	assert_string_equal(str(pt, "telecom.0.value"), "+44 131 496 0000");
	json_decref(a);
}

static void
test_minimal(void **state)
{
	json_t *a, *sr, *task, *pt;

	(void)state;
	assert_non_null(a = fhir_resources(&minimal));
	/* No consent basis, no Consent: FHIR's needs a policy. */
	assert_int_equal(json_array_size(a), 3);
	assert_null(find(a, "Consent"));
	assert_no_empties(a);
	sr = find(a, "ServiceRequest");
	task = find(a, "Task");
	pt = find(a, "Patient");
	assert_int_equal(json_object_size(sr), 6);
	assert_string_equal(str(sr, "subject.reference"),
	    "Patient/kith-" ID2 "-pt");
	assert_null(at(sr, "code"));
	assert_null(at(sr, "supportingInfo"));
	assert_null(at(sr, "authoredOn"));
	assert_null(at(sr, "requester"));
	assert_int_equal(json_object_size(task), 6);
	assert_string_equal(str(task, "status"), "accepted");
	assert_null(at(task, "owner"));
	assert_null(at(task, "lastModified"));
	assert_int_equal(json_object_size(pt), 2);
	json_decref(a);
}

/*
 * "" and whitespace are unknown; Unicode spaces become plain ones; keys are
 * written in lower case.
 */
static void
test_blank(void **state)
{
	struct fhir_referral r = minimal;
	json_t *a, *sr, *pt;

	(void)state;
	r.category = "";
	r.reason = " \t\n ";
	r.snomed = "";
	r.consent = "";
	r.nhs_number = "";
	r.dob = "";
	r.from_key = "";
	r.from_org = "\xc2\xa0";	/* U+00A0 only */
	r.to_key = KEY_B_UC;
	r.to_org = "  Granton\xe2\x80\xafPCN ";	/* U+202F inside */
	r.name = "Cher";
	r.phone = "\xe3\x80\x80";	/* U+3000 */
	assert_non_null(a = fhir_resources(&r));
	assert_int_equal(json_array_size(a), 3);
	assert_no_empties(a);
	sr = find(a, "ServiceRequest");
	pt = find(a, "Patient");
	assert_null(at(sr, "category"));
	assert_null(at(sr, "reasonCode"));
	assert_null(at(sr, "requester"));
	assert_string_equal(str(sr, "performer.0.identifier.value"), KEY_B);
	assert_string_equal(str(sr, "performer.0.display"), "Granton PCN");
	/* One name: no guess at family and given. */
	assert_string_equal(str(pt, "name.0.text"), "Cher");
	assert_null(at(pt, "name.0.family"));
	assert_null(at(pt, "name.0.given"));
	assert_null(at(pt, "telecom"));
	assert_null(at(pt, "identifier"));
	assert_null(at(pt, "birthDate"));
	json_decref(a);
}

static void
test_statuses(void **state)
{
	static const struct {
		const char *kith, *sr, *task;
	} map[] = {
		{ "sent", "active", "requested" },
		{ "accepted", "active", "accepted" },
		{ "declined", "revoked", "rejected" },
		{ "completed", "completed", "completed" },
	};
	struct fhir_referral r;
	json_t *a, *task;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		r = with_status(&full, map[i].kith);
		r.outcome = "Seen by the social prescriber; joined a "
		    "walking group.";
		assert_non_null(a = fhir_resources(&r));
		assert_string_equal(str(find(a, "ServiceRequest"), "status"),
		    map[i].sr);
		task = find(a, "Task");
		assert_string_equal(str(task, "status"), map[i].task);
		/* The outcome is a completed task's output, and only then. */
		if (strcmp(map[i].kith, "completed") == 0) {
			assert_string_equal(str(task, "output.0.type.text"),
			    "outcome");
			assert_string_equal(str(task, "output.0.valueString"),
			    r.outcome);
		} else
			assert_null(at(task, "output"));
		json_decref(a);
	}
	/* Completed without an outcome: no output. */
	r = with_status(&full, "completed");
	assert_non_null(a = fhir_resources(&r));
	assert_null(at(find(a, "Task"), "output"));
	json_decref(a);
}

static void
test_consent_bases(void **state)
{
	static const struct {
		const char *kith, *rule;
	} map[] = {
		{ "explicit", "UK GDPR Article 9(2)(a) explicit consent" },
		{ "care", "UK GDPR Article 9(2)(h) health or social care" },
		{ "support-body", "DPA 2018 Schedule 1 paragraph 16 (support "
		    "for individuals with a particular disability or medical "
		    "condition)" },
	};
	struct fhir_referral r = full;
	json_t *a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		r.consent = map[i].kith;
		assert_non_null(a = fhir_resources(&r));
		assert_string_equal(str(find(a, "Consent"), "policyRule.text"),
		    map[i].rule);
		json_decref(a);
	}
	/* Without SNOMED, the code is the category as text. */
	r.snomed = NULL;
	assert_non_null(a = fhir_resources(&r));
	assert_null(at(find(a, "ServiceRequest"), "code.coding"));
	assert_string_equal(str(find(a, "ServiceRequest"), "code.text"),
	    "mental-health");
	json_decref(a);
}

/* Bad input is refused with the field named, and nothing is written. */
static void
test_bad_input(void **state)
{
	static const struct {
		const char *field, *value, *why;
	} bad[] = {
		{ "id", NULL, "id:" },
		{ "id", "0123456789abcdef", "id:" },
		{ "id", "0123456789abcdef0123456789abcdeg", "id:" },
		{ "id", "0123456789abcdef0123456789abcdef0", "id:" },
		{ "status", NULL, "status:" },
		{ "status", "pending", "status:" },
		{ "status", "Sent", "status:" },
		{ "consent", "maybe", "consent:" },
		{ "snomed", "12345", "snomed:" },
		{ "snomed", "0123456", "snomed:" },
		{ "snomed", "123456x", "snomed:" },
		{ "nhs_number", "943476591", "nhs_number:" },
		{ "nhs_number", "943 476 5919", "nhs_number:" },
		{ "dob", "2020-13-45", "dob:" },
		{ "dob", "2021-02-29", "dob:" },
		{ "dob", "0000-01-01", "dob:" },
		{ "dob", "1948-2-29", "dob:" },
		{ "dob", "1948-02-29T00:00", "dob:" },
		{ "from_key", "aa", "from_key:" },
		{ "to_key", KEY_A "00", "to_key:" },
		{ "reason", "tab\tok but bell \a is not", "reason:" },
		{ "name", "bad \xff utf-8", "name:" },
		{ "name", "overlong \xc0\xaf", "name:" },
		{ "outcome", "surrogate \xed\xa0\x80", "outcome:" },
		{ "phone", "c1 control \xc2\x9b", "phone:" },
	};
	struct fhir_referral r;
	const char *why;
	FILE *f;
	size_t i;

	(void)state;
	assert_int_equal(fhir_check(&full, &why), 0);
	assert_null(why);
	assert_non_null(f = fopen("/dev/null", "w"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = full;
		if (strcmp(bad[i].field, "id") == 0)
			r.id = bad[i].value;
		else if (strcmp(bad[i].field, "status") == 0)
			r.status = bad[i].value;
		else if (strcmp(bad[i].field, "consent") == 0)
			r.consent = bad[i].value;
		else if (strcmp(bad[i].field, "snomed") == 0)
			r.snomed = bad[i].value;
		else if (strcmp(bad[i].field, "nhs_number") == 0)
			r.nhs_number = bad[i].value;
		else if (strcmp(bad[i].field, "dob") == 0)
			r.dob = bad[i].value;
		else if (strcmp(bad[i].field, "from_key") == 0)
			r.from_key = bad[i].value;
		else if (strcmp(bad[i].field, "to_key") == 0)
			r.to_key = bad[i].value;
		else if (strcmp(bad[i].field, "reason") == 0)
			r.reason = bad[i].value;
		else if (strcmp(bad[i].field, "name") == 0)
			r.name = bad[i].value;
		else if (strcmp(bad[i].field, "outcome") == 0)
			r.outcome = bad[i].value;
		else if (strcmp(bad[i].field, "phone") == 0)
			r.phone = bad[i].value;
		else
			fail_msg("no field %s", bad[i].field);
		why = NULL;
		assert_int_equal(fhir_check(&r, &why), KITH_EINVAL);
		assert_non_null(why);
		if (strncmp(why, bad[i].why, strlen(bad[i].why)) != 0)
			fail_msg("%s=%s: %s", bad[i].field,
			    bad[i].value ? bad[i].value : "NULL", why);
		assert_null(fhir_resources(&r));
		assert_null(fhir_bundle(&r, 1, T_NOW));
		assert_int_equal(fhir_write_ndjson(f, &r), KITH_EINVAL);
		assert_int_equal(fhir_write_bundle(f, &r, 1, T_NOW),
		    KITH_EINVAL);
	}
	/* Times: FHIR's years have four digits. */
	r = full;
	r.updated_ms = UINT64_C(253402300800000);	/* 10000-01-01 */
	assert_int_equal(fhir_check(&r, &why), KITH_EINVAL);
	assert_non_null(strstr(why, "9999"));
	r.updated_ms = UINT64_C(253402300799999);
	assert_int_equal(fhir_check(&r, NULL), 0);
	assert_null(fhir_bundle(&full, 1, UINT64_C(253402300800000)));
	fclose(f);
}

/* The referrals written for fhir-check: every status, many shapes. */
static struct fhir_referral samples[8];

static size_t
make_samples(void)
{
	size_t n = 0;

	samples[n++] = full;
	samples[n] = with_status(&full, "completed");
	samples[n].id = "00000000000000000000000000000001";
	samples[n].consent = "care";
	samples[n++].outcome = "Registered with the practice; food bank "
	    "vouchers issued.\nFollow-up in 4 weeks.";
	samples[n] = with_status(&full, "declined");
	samples[n].id = "00000000000000000000000000000002";
	samples[n].consent = "support-body";
	samples[n].snomed = NULL;
	samples[n++].nhs_number = NULL;
	samples[n++] = minimal;
	samples[n] = minimal;
	samples[n].id = "00000000000000000000000000000003";
	samples[n].status = "sent";
	samples[n].consent = "explicit";
	samples[n].category = "food";
	samples[n].to_key = KEY_B;
	samples[n++].name = "Ola\xc2\xa0Nordmann";	/* U+00A0 */
	return n;
}

/* Whether ${url} is the fullUrl of an entry of Bundle ${b}. */
static int
in_bundle(json_t *b, const char *url)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(b, "entry"), i, e)
		if (strcmp(str(e, "fullUrl"), url) == 0)
			return 1;
	return 0;
}

/* Every "reference" under ${v} resolves inside Bundle ${b}. */
static int
check_refs(json_t *b, json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;
	int n = 0;

	if (json_is_object(v))
		json_object_foreach(v, k, e) {
			if (strcmp(k, "reference") == 0) {
				assert_true(in_bundle(b, json_string_value(e)));
				n++;
			} else
				n += check_refs(b, e);
		}
	if (json_is_array(v))
		json_array_foreach(v, i, e)
			n += check_refs(b, e);
	return n;
}

static void
test_bundle(void **state)
{
	size_t n = make_samples(), i, j;
	json_t *b, *b2, *entries;
	const char *u;
	char *s1, *s2;

	(void)state;
	assert_non_null(b = fhir_bundle(samples, n, T_NOW));
	assert_no_empties(b);
	assert_string_equal(str(b, "resourceType"), "Bundle");
	assert_string_equal(str(b, "type"), "collection");
	assert_string_equal(str(b, "timestamp"), "2024-05-03T09:30:00.000Z");
	entries = json_object_get(b, "entry");
	/* Four resources a referral, three without a consent basis. */
	assert_int_equal(json_array_size(entries), 4 * n - 1);
	json_array_foreach(entries, i, b2) {
		u = str(b2, "fullUrl");
		assert_int_equal(strlen(u), strlen("urn:uuid:") + 36);
		assert_memory_equal(u, "urn:uuid:", 9);
		assert_int_equal(u[9 + 14], '8');	/* UUIDv8 */
		assert_non_null(strchr("89ab", u[9 + 19]));
		for (j = 0; j < i; j++)
			assert_string_not_equal(u,
			    str(json_array_get(entries, j), "fullUrl"));
	}
	/* Each reference points at an entry's urn:uuid: five a referral,
	 * three for the one without a Consent. */
	assert_int_equal(check_refs(b, b), 5 * n - 2);
	/* The same referrals give the same Bundle. */
	assert_non_null(b2 = fhir_bundle(samples, n, T_NOW));
	s1 = json_dumps(b, JSON_COMPACT);
	s2 = json_dumps(b2, JSON_COMPACT);
	assert_string_equal(s1, s2);
	free(s1);
	free(s2);
	json_decref(b2);
	json_decref(b);
	/* No referrals: a Bundle with no "entry" (FHIR has no empty arrays). */
	assert_non_null(b = fhir_bundle(NULL, 0, T_NOW));
	assert_null(json_object_get(b, "entry"));
	json_decref(b);
}

/* Write the Bundle and NDJSON, then read them back. */
static void
test_write(void **state)
{
	const char *out = getenv("KITH_FHIR_OUT");
	char dir[256], path[512], line[65536];
	size_t n = make_samples(), i, lines = 0;
	json_error_t err;
	json_t *v;
	FILE *f;

	(void)state;
	if (out != NULL && out[0] != '\0')
		snprintf(dir, sizeof(dir), "%s", out);
	else
		tu_tmpdir(dir, sizeof(dir));

	snprintf(path, sizeof(path), "%s/bundle.json", dir);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fhir_write_bundle(f, samples, n, T_NOW), 0);
	assert_int_equal(fclose(f), 0);
	v = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (v == NULL)
		fail_msg("%s:%d: %s", path, err.line, err.text);
	assert_int_equal(json_array_size(json_object_get(v, "entry")),
	    4 * n - 1);
	json_decref(v);

	snprintf(path, sizeof(path), "%s/referrals.ndjson", dir);
	assert_non_null(f = fopen(path, "w"));
	for (i = 0; i < n; i++)
		assert_int_equal(fhir_write_ndjson(f, &samples[i]), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		assert_int_equal(line[strlen(line) - 1], '\n');
		v = json_loads(line, JSON_REJECT_DUPLICATES, &err);
		if (v == NULL)
			fail_msg("%s:%zu: %s", path, lines + 1, err.text);
		assert_non_null(str(v, "resourceType"));
		json_decref(v);
		lines++;
	}
	fclose(f);
	assert_int_equal(lines, 4 * n - 1);

	/* A stream that cannot be written is KITH_EIO. */
	if ((f = fopen("/dev/full", "w")) != NULL) {
		assert_int_equal(fhir_write_ndjson(f, &full), KITH_EIO);
		assert_int_equal(fhir_write_bundle(f, &full, 1, T_NOW),
		    KITH_EIO);
		fclose(f);
	}
	if (out == NULL || out[0] == '\0')
		tu_rmrf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_blank),
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_consent_bases),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_bundle),
		cmocka_unit_test(test_write),
	};

	return tu_run(tests, setup, NULL);
}
