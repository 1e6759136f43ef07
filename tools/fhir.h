#ifndef FHIR_H
#define FHIR_H

/*
 * Referrals as HL7 FHIR R4 (4.0.1) JSON, for a primary care network's
 * integration engine: one ServiceRequest, Task, Consent and Patient per
 * referral, alone (NDJSON, relative references such as "Patient/<id>") or in
 * a collection Bundle (urn:uuid fullUrls, references to them).  Built with
 * jansson; tests/fhir/validate checks the output against the official R4 JSON
 * schema.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json_t;

/*
 * One referral, as plain strings the caller owns.  A string is NULL (or
 * empty) when unknown or sealed, and is then left out of the output; a time
 * is in milliseconds since the Unix epoch (UTC), 0 when unknown.
 */
struct fhir_referral {
	const char *id;		/* entity id, 32 hex digits */
	/* "sent" | "accepted" | "declined" | "completed" */
	const char *status;
	const char *category;	/* e.g. "food", "mental-health", free */
	const char *reason;	/* free text, the reason for referral */
	const char *snomed;	/* SNOMED CT concept id (digits) or NULL */
	const char *consent;	/* "explicit" | "care" | "support-body" */
	const char *consent_by;	/* who recorded the consent */
	uint64_t created_ms, updated_ms;
	/* Referrer org: 64-hex ed25519 key, name; recipient org likewise. */
	const char *from_key, *from_org;
	const char *to_key, *to_org;
	const char *name;	/* patient's full name */
	const char *dob;	/* YYYY-MM-DD */
	const char *phone;
	const char *nhs_number;	/* 10 digits, already validated */
	const char *outcome;	/* completion outcome text, or NULL */
};

/**
 * fhir_check(r, why):
 * Return 0 if ${r} can be written as FHIR, else KITH_EINVAL with ${*why}
 * (if ${why} is not NULL) set to a static text naming the bad field: an id
 * that is not 32 hex digits, an unknown status or consent basis, a date of
 * birth that is not a real YYYY-MM-DD, a malformed key, SNOMED id or NHS
 * number, a time past the year 9999, or text that is not UTF-8 or holds
 * control characters.
 */
int fhir_check(const struct fhir_referral *r, const char **why);

/**
 * fhir_resources(r):
 * Return a new JSON array of ${r}'s resources: ServiceRequest, Task, Consent
 * (left out when ${r}->consent is NULL: FHIR needs a legal basis in it) and
 * Patient, with ids "kith-<id>-sr", "-task", "-consent" and "-pt" and
 * relative references between them.  NULL if fhir_check fails or out of
 * memory.  The caller owns the array (json_decref).
 */
struct json_t *fhir_resources(const struct fhir_referral *r);

/**
 * fhir_bundle(r, n, now_ms):
 * Return a new collection Bundle, stamped ${now_ms}, of the resources of the
 * ${n} referrals at ${r}.  Each entry's fullUrl is a urn:uuid derived from
 * its resource id, and references between entries use those, so the Bundle
 * resolves on its own.  NULL if any referral fails fhir_check, ${now_ms} is
 * past the year 9999, or out of memory.  The caller owns the Bundle
 * (json_decref).
 */
struct json_t *fhir_bundle(const struct fhir_referral *r, size_t n,
    uint64_t now_ms);

/**
 * fhir_write_bundle(f, r, n, now_ms):
 * Write fhir_bundle(${r}, ${n}, ${now_ms}) to ${f}, indented, ending "\n".
 * Return 0, KITH_EINVAL (a referral fails fhir_check, or ${now_ms} is past
 * the year 9999), KITH_ENOMEM or KITH_EIO.
 */
int fhir_write_bundle(FILE *f, const struct fhir_referral *r, size_t n,
    uint64_t now_ms);

/**
 * fhir_write_ndjson(f, r):
 * Write ${r}'s resources to ${f} as NDJSON: one compact resource a line,
 * each ending "\n".  Return 0, KITH_EINVAL, KITH_ENOMEM or KITH_EIO.
 */
int fhir_write_ndjson(FILE *f, const struct fhir_referral *r);

#endif
