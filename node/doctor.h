#ifndef DOCTOR_H
#define DOCTOR_H

/*
 * A node's health check, for someone with no IT staff: a list of checks,
 * each with a verdict (ok, warn, fail), a sentence about what it found and
 * what to do.  `kith doctor` prints them.
 *
 * To add a check: write a doctor_check_fn in doctor.c and add one line to
 * its table of checks.
 */

#include <stddef.h>
#include <stdint.h>

struct store;

#define DOCTOR_OK	0
#define DOCTOR_WARN	1
#define DOCTOR_FAIL	2

#define DOCTOR_TEXT_MAX	512

/* What a check looks at. */
struct doctor_ctx {
	struct store *st;	/* the node's store, open to read */
	const char *home;	/* the node's home directory */
	uint64_t wall_ms;	/* the system clock, once for every check */
	uint64_t max_bytes;	/* [store] max_size_mb, in bytes */
	uint64_t scrub_after_ms;	/* [store] scrub_after, in ms */
	const uint8_t *node_key;	/* the node's public key; NULL if its
					   key file cannot be read */
	int key_rc;			/* then why (a KITH_E* code) */
	long daemon_pid;		/* kithd running on the home, or 0 */
};

/* What a check found. */
struct doctor_result {
	int level;				/* DOCTOR_OK, _WARN, _FAIL */
	char what[DOCTOR_TEXT_MAX];		/* what it found */
	char fix[DOCTOR_TEXT_MAX];		/* what to do; "" if nothing */
};

/* A check: fill ${*out}; a check that cannot look says so as a fail. */
typedef void doctor_check_fn(const struct doctor_ctx *ctx,
    struct doctor_result *out);

/* Called once per check, in order, with its name and result (borrowed). */
typedef void doctor_report_fn(void *arg, const char *name,
    const struct doctor_result *r);

/**
 * doctor_run(ctx, fn, arg):
 * Run every check on ${ctx}, calling ${fn}(${arg}, name, result) for each.
 * Return the worst level found.
 */
int doctor_run(const struct doctor_ctx *ctx, doctor_report_fn *fn,
    void *arg);

/**
 * doctor_level_name(level):
 * Return "ok", "warn" or "fail".
 */
const char *doctor_level_name(int level);

#endif
