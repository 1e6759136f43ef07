/*
 * Fuzz the Negentropy message decoder and engine: the input is a message
 * to a server and, separately, a reply to a client, each over a small
 * fixed item set, with and without a frame size limit.  Whatever the
 * engine accepts must agree with negentropy_message_check, and whatever it
 * sends must itself be a valid message within the frame limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kith.h"
#include "negentropy.h"

#define NITEMS	80

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct negentropy_item items[NITEMS];
static int ready;

/* A fixed sorted set with repeated timestamps, so prefix bounds occur. */
static void
make_items(void)
{
	uint64_t s = 1;
	size_t i, j;

	for (i = 0; i < NITEMS; i++) {
		items[i].timestamp = 1000 + i / 3;
		for (j = 0; j < NEGENTROPY_ID_LEN; j++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			items[i].id[j] = (uint8_t)(s >> 56);
		}
		/* Keep ids ascending within a timestamp. */
		items[i].id[0] = (uint8_t)(i % 3 * 80);
	}
	ready = 1;
}

static void
check_out(const uint8_t *out, size_t len, size_t limit)
{

	if (out == NULL)
		return;
	if (negentropy_message_check(out, len, NULL) != 0)
		abort();
	if (limit != 0 && len > limit)
		abort();
}

static void
run(const uint8_t *data, size_t size, size_t limit)
{
	struct negentropy *sv, *cl;
	uint8_t *out = NULL, *init = NULL;
	uint8_t (*have)[NEGENTROPY_ID_LEN] = NULL, (*need)[NEGENTROPY_ID_LEN] = NULL;
	size_t len = 0, ilen, nhave, nneed, i, j;
	int want, rc;

	want = negentropy_message_check(data, size, NULL);
	if ((sv = negentropy_new(items, NITEMS, limit)) == NULL)
		abort();
	rc = negentropy_reconcile(sv, data, size, &out, &len);
	if (rc != want && rc != KITH_ENOMEM)
		abort();
	if (rc != 0 && out != NULL)
		abort();
	check_out(out, len, limit);
	free(out);
	out = NULL;
	negentropy_free(sv);

	if ((cl = negentropy_new(items, NITEMS, limit)) == NULL)
		abort();
	if (negentropy_initiate(cl, &init, &ilen) != 0)
		abort();
	free(init);
	rc = negentropy_reconcile_client(cl, data, size, &out, &len, &have,
	    &nhave, &need, &nneed);
	if (rc != want && rc != KITH_ENOMEM)
		abort();
	if (rc != 0 && (out != NULL || have != NULL || need != NULL))
		abort();
	/* A client never reports more than it or the server can hold. */
	if (nhave > NITEMS || nneed > size / NEGENTROPY_ID_LEN)
		abort();
	/*
	 * Nor needs an id it holds, however the server repeats it, when the
	 * IdList covers the whole space (a first range to infinity; the ids
	 * of a smaller range may be held elsewhere, at another timestamp).
	 */
	for (i = 0; size >= 4 && memcmp(data, "\x61\x00\x00\x02", 4) == 0 &&
	    i < nneed; i++)
		for (j = 0; j < NITEMS; j++)
			if (memcmp(need[i], items[j].id,
			    NEGENTROPY_ID_LEN) == 0)
				abort();
	check_out(out, len, limit);
	free(out);
	free(have);
	free(need);
	negentropy_free(cl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{

	if (!ready)
		make_items();
	run(data, size, 0);
	run(data, size, NEGENTROPY_FRAME_MIN);
	return 0;
}
