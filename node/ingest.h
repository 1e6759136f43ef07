#ifndef INGEST_H
#define INGEST_H

/*
 * The ingest pipeline: how records from elsewhere (a peer, a file) enter
 * the store, in DESIGN.md's order.  The caller adds decoded records; they
 * are gathered into batches.  A verifier thread drops the ones already held
 * (before any signature is checked) and checks the rest's signatures on
 * every core, while a committer thread applies the batch before it in one
 * durable LMDB transaction.  Committed batches come back to the caller,
 * with each record's outcome, through ingest_done.
 */

#include <stddef.h>

#include "store.h"

struct record;
struct ingest;

/*
 * Records per transaction.  LMDB mallocs a write transaction's dirty
 * pages (no MDB_WRITEMAP) and keeps them for reuse, so the largest
 * commit sets a daemon's memory; in a large store nearly every record
 * dirties its own leaf in the randomly keyed indexes.  At 300,000
 * records a full sync's receiver peaked at 64 MiB with 4,000 a batch and
 * 33 MiB with 1,000, at the same rate.
 */
#define INGEST_BATCH	1000

/* A committed batch. */
struct ingest_batch {
	struct record **recs;	/* NULL if the pipeline does not keep them */
	int *rcs;		/* each record's outcome (store_apply_verified) */
	size_t n;
	struct store_result res;
	int rc;			/* 0, or the store error; nothing committed */
};

/**
 * ingest_check(st, recs, n, rcs, todo):
 * The checks before a commit, for a caller that commits at once: set
 * ${rcs}[i] to KITH_EEXIST for each record held already (or repeated),
 * else to its signature check's result, checked on every core.  ${todo}
 * is scratch for ${n} pointers.  Return 0 or a store error.  Pass ${rcs}
 * to store_apply_verified.
 */
int ingest_check(struct store *st, struct record *const *recs, size_t n,
    int *rcs, struct record **todo);

/**
 * ingest_new(st, keep):
 * Start a pipeline into ${st}, which must be opened with STORE_SHARED and
 * outlive the pipeline.  If ${keep}, committed batches keep their records
 * for ingest_done; else only the counts are kept (ingest_totals).  The
 * threads start when the first batch is handed on.  Return NULL if out of
 * memory.
 */
struct ingest *ingest_new(struct store *st, int keep);

/**
 * ingest_add(ig, rec):
 * Hand ${rec} (ownership passes) to the pipeline.  Blocks while the
 * pipeline is full.  Return 0, or the first store error seen (KITH_ENOMEM
 * if the threads cannot start).
 */
int ingest_add(struct ingest *ig, struct record *rec);

/**
 * ingest_send(ig):
 * Send the partial batch on to be checked and committed now, without
 * waiting for it: for a caller that expects no more records for a while.
 * Blocks only while the verifier has a batch waiting.  Return 0, or the
 * first store error seen.
 */
int ingest_send(struct ingest *ig);

/**
 * ingest_flush(ig):
 * Send the partial batch on and wait until everything added is committed.
 * Return 0, or the first store error seen.
 */
int ingest_flush(struct ingest *ig);

/**
 * ingest_idle(ig):
 * Return 1 if every record added has been committed and collected.
 */
int ingest_idle(struct ingest *ig);

/**
 * ingest_fd(ig):
 * Return a file descriptor that polls readable while a committed batch
 * waits for ingest_done (if the pipeline keeps them).
 */
int ingest_fd(const struct ingest *ig);

/**
 * ingest_done(ig):
 * Return the oldest committed batch not yet returned, or NULL; the caller
 * frees it with ingest_batch_free.
 */
struct ingest_batch *ingest_done(struct ingest *ig);

/**
 * ingest_totals(ig, res):
 * Set ${*res} to the sums over every batch committed so far.
 */
void ingest_totals(struct ingest *ig, struct store_result *res);

/**
 * ingest_batch_free(b):
 * Free ${b} and its records; nothing if NULL.
 */
void ingest_batch_free(struct ingest_batch *b);

/**
 * ingest_free(ig):
 * Flush, stop the threads, and free ${ig} with any batches not collected.
 */
void ingest_free(struct ingest *ig);

#endif
