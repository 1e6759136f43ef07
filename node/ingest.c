/*
 * The ingest pipeline: filling (caller) -> verifying -> committing -> done.
 * Each hand-off holds at most one batch, so at most three batches of
 * records are in memory besides those waiting in the done list.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "kith.h"
#include "record.h"
#include "store.h"

struct ingest {
	struct store *st;
	int keep;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t verifier, committer;
	int started;			/* threads running: from the first batch */
	int stop;
	struct ingest_batch *filling;	/* the caller's */
	struct ingest_batch *to_verify;	/* hand-off slots */
	struct ingest_batch *to_commit;
	size_t busy;			/* batches handed on, not yet done */
	struct ingest_batch **done;	/* committed, for ingest_done */
	size_t ndone, capdone;
	struct store_result totals;
	int err;			/* first store error */
	int pipe[2];
	struct record **todo;		/* the verifier's: records to check */
};

static struct ingest_batch *
batch_new(void)
{
	struct ingest_batch *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->recs = calloc(INGEST_BATCH, sizeof(*b->recs))) == NULL ||
	    (b->rcs = calloc(INGEST_BATCH, sizeof(*b->rcs))) == NULL) {
		ingest_batch_free(b);
		return NULL;
	}
	return b;
}

void
ingest_batch_free(struct ingest_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	if (b->recs != NULL)
		for (i = 0; i < b->n; i++)
			record_free(b->recs[i]);
	free(b->recs);
	free(b->rcs);
	free(b);
}

int
ingest_check(struct store *st, struct record *const *recs, size_t n,
    int *rcs, struct record **todo)
{
	size_t i;
	int rc;

	/* Duplicates first: a held record costs no signature check. */
	memset(rcs, 0, n * sizeof(*rcs));
	if ((rc = store_dedup(st, recs, n, rcs)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		todo[i] = rcs[i] == 0 ? recs[i] : NULL;
	record_verify_batch(todo, n, rcs);
	return 0;
}

static void *
verifier(void *arg)
{
	struct ingest *ig = arg;
	struct ingest_batch *b;
	struct record **todo = ig->todo;

	pthread_mutex_lock(&ig->lock);
	for (;;) {
		while (ig->to_verify == NULL && !ig->stop)
			pthread_cond_wait(&ig->cond, &ig->lock);
		if ((b = ig->to_verify) == NULL)
			break;
		ig->to_verify = NULL;
		pthread_cond_broadcast(&ig->cond);
		pthread_mutex_unlock(&ig->lock);

		b->rc = ingest_check(ig->st, b->recs, b->n, b->rcs, todo);

		pthread_mutex_lock(&ig->lock);
		while (ig->to_commit != NULL)
			pthread_cond_wait(&ig->cond, &ig->lock);
		ig->to_commit = b;
		pthread_cond_broadcast(&ig->cond);
	}
	pthread_mutex_unlock(&ig->lock);
	return NULL;
}

static void
finish(struct ingest *ig, struct ingest_batch *b)
{
	struct ingest_batch **nd;
	size_t i;
	char c = 0;

	ig->totals.added += b->res.added;
	ig->totals.duplicate += b->res.duplicate;
	ig->totals.rejected += b->res.rejected;
	ig->totals.forks += b->res.forks;
	if (b->rc != 0 && ig->err == 0)
		ig->err = b->rc;
	if (!ig->keep || b->n == 0)
		goto drop;
	if (ig->ndone == ig->capdone) {
		size_t cap = ig->capdone ? 2 * ig->capdone : 8;

		if ((nd = realloc(ig->done, cap * sizeof(*nd))) == NULL) {
			if (ig->err == 0)
				ig->err = KITH_ENOMEM;
			goto drop;
		}
		ig->done = nd;
		ig->capdone = cap;
	}
	ig->done[ig->ndone++] = b;
	if (ig->ndone == 1)
		(void)!write(ig->pipe[1], &c, 1);
	return;
drop:
	for (i = 0; i < b->n; i++)
		record_free(b->recs[i]);
	b->n = 0;
	ingest_batch_free(b);
}

static void *
committer(void *arg)
{
	struct ingest *ig = arg;
	struct ingest_batch *b;

	pthread_mutex_lock(&ig->lock);
	for (;;) {
		while (ig->to_commit == NULL && !(ig->stop &&
		    ig->to_verify == NULL && ig->busy == 0))
			pthread_cond_wait(&ig->cond, &ig->lock);
		if ((b = ig->to_commit) == NULL)
			break;
		ig->to_commit = NULL;
		pthread_cond_broadcast(&ig->cond);
		pthread_mutex_unlock(&ig->lock);

		if (b->rc == 0)
			b->rc = store_apply_verified(ig->st, b->recs, b->n,
			    b->rcs, &b->res);

		pthread_mutex_lock(&ig->lock);
		finish(ig, b);
		ig->busy--;
		pthread_cond_broadcast(&ig->cond);
	}
	pthread_mutex_unlock(&ig->lock);
	return NULL;
}

struct ingest *
ingest_new(struct store *st, int keep)
{
	struct ingest *ig;

	if ((ig = calloc(1, sizeof(*ig))) == NULL)
		return NULL;
	ig->st = st;
	ig->keep = keep;
	ig->pipe[0] = ig->pipe[1] = -1;
	pthread_mutex_init(&ig->lock, NULL);
	pthread_cond_init(&ig->cond, NULL);
	if (pipe2(ig->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		ingest_free(ig);
		return NULL;
	}
	return ig;
}

/*
 * Start the threads, if they are not running; called with the lock held.
 * They start with the first batch, not with the pipeline: most sync
 * sessions (identical sets, a few records pushed) take none in, and two
 * threads cost a session's start more than its reconciliation does.
 */
static int
start(struct ingest *ig)
{

	if (ig->started)
		return 0;
	if (ig->todo == NULL &&
	    (ig->todo = malloc(INGEST_BATCH * sizeof(*ig->todo))) == NULL)
		return KITH_ENOMEM;
	if (pthread_create(&ig->verifier, NULL, verifier, ig) != 0)
		return KITH_ENOMEM;
	if (pthread_create(&ig->committer, NULL, committer, ig) != 0) {
		ig->stop = 1;
		pthread_cond_broadcast(&ig->cond);
		pthread_mutex_unlock(&ig->lock);
		pthread_join(ig->verifier, NULL);
		pthread_mutex_lock(&ig->lock);
		ig->stop = 0;
		return KITH_ENOMEM;
	}
	ig->started = 1;
	return 0;
}

/*
 * Hand the filling batch on; called with the lock held.  If the threads
 * cannot start, the batch stays where it is and the error is kept.
 */
static void
hand_on(struct ingest *ig)
{
	int rc;

	if ((rc = start(ig)) != 0) {
		if (ig->err == 0)
			ig->err = rc;
		return;
	}
	while (ig->to_verify != NULL)
		pthread_cond_wait(&ig->cond, &ig->lock);
	ig->to_verify = ig->filling;
	ig->filling = NULL;
	ig->busy++;
	pthread_cond_broadcast(&ig->cond);
}

int
ingest_add(struct ingest *ig, struct record *rec)
{
	int rc;

	if (ig->filling == NULL && (ig->filling = batch_new()) == NULL) {
		record_free(rec);
		return KITH_ENOMEM;
	}
	if (ig->filling->n == INGEST_BATCH) {
		/* Still full: the threads could not start (hand_on). */
		record_free(rec);
		pthread_mutex_lock(&ig->lock);
		rc = ig->err;
		pthread_mutex_unlock(&ig->lock);
		return rc;
	}
	ig->filling->recs[ig->filling->n++] = rec;
	pthread_mutex_lock(&ig->lock);
	if (ig->filling->n == INGEST_BATCH)
		hand_on(ig);
	rc = ig->err;
	pthread_mutex_unlock(&ig->lock);
	return rc;
}

int
ingest_send(struct ingest *ig)
{
	int rc;

	pthread_mutex_lock(&ig->lock);
	if (ig->filling != NULL && ig->filling->n > 0)
		hand_on(ig);
	rc = ig->err;
	pthread_mutex_unlock(&ig->lock);
	return rc;
}

int
ingest_flush(struct ingest *ig)
{
	int rc;

	pthread_mutex_lock(&ig->lock);
	if (ig->filling != NULL && ig->filling->n > 0)
		hand_on(ig);
	while (ig->busy > 0)
		pthread_cond_wait(&ig->cond, &ig->lock);
	rc = ig->err;
	pthread_mutex_unlock(&ig->lock);
	return rc;
}

int
ingest_idle(struct ingest *ig)
{
	int idle;

	pthread_mutex_lock(&ig->lock);
	idle = (ig->filling == NULL || ig->filling->n == 0) &&
	    ig->busy == 0 && ig->ndone == 0;
	pthread_mutex_unlock(&ig->lock);
	return idle;
}

int
ingest_fd(const struct ingest *ig)
{

	return ig->pipe[0];
}

struct ingest_batch *
ingest_done(struct ingest *ig)
{
	struct ingest_batch *b = NULL;
	char c[64];

	pthread_mutex_lock(&ig->lock);
	if (ig->ndone > 0) {
		b = ig->done[0];
		memmove(ig->done, ig->done + 1,
		    --ig->ndone * sizeof(*ig->done));
	}
	if (ig->ndone == 0)
		while (read(ig->pipe[0], c, sizeof(c)) > 0)
			;
	pthread_mutex_unlock(&ig->lock);
	return b;
}

void
ingest_totals(struct ingest *ig, struct store_result *res)
{

	pthread_mutex_lock(&ig->lock);
	*res = ig->totals;
	pthread_mutex_unlock(&ig->lock);
}

void
ingest_free(struct ingest *ig)
{
	size_t i;

	if (ig == NULL)
		return;
	(void)ingest_flush(ig);
	if (ig->started) {
		pthread_mutex_lock(&ig->lock);
		ig->stop = 1;
		pthread_cond_broadcast(&ig->cond);
		pthread_mutex_unlock(&ig->lock);
		pthread_join(ig->verifier, NULL);
		pthread_join(ig->committer, NULL);
	}
	ingest_batch_free(ig->filling);
	for (i = 0; i < ig->ndone; i++)
		ingest_batch_free(ig->done[i]);
	free(ig->done);
	free(ig->todo);
	if (ig->pipe[0] >= 0)
		close(ig->pipe[0]);
	if (ig->pipe[1] >= 0)
		close(ig->pipe[1]);
	pthread_cond_destroy(&ig->cond);
	pthread_mutex_destroy(&ig->lock);
	free(ig);
}
