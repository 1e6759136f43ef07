/*
 * The hold for records stamped too far ahead (node/hold.c): each id held
 * once, taken out when its time comes, bounded, freed whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hlc.h"
#include "hold.h"
#include "kcrypto.h"
#include "kith.h"
#include "record.h"
#include "store.h"
#include "testutil.h"

#define MIN_MS	60000ULL

/* A record of ${key}'s, sequence ${seq}, stamped at ${ms}. */
static struct record *
at(struct kcrypto_key *key, uint64_t seq, uint64_t ms)
{
	uint8_t entity[KITH_ENTITY_LEN];
	size_t blen;
	uint8_t *body = tu_body(&blen, "category", "food", NULL);
	struct record *rec;

	rec = tu_genesis(key, NULL, seq, ms << 16, KITH_KIND_REQUEST,
	    (uint8_t)seq, body, blen, entity);
	free(body);
	return rec;
}

static void
test_hold_and_due(void **state)
{
	struct kcrypto_key *key = tu_key(1);
	uint64_t now = 1800000000000ULL;	/* 2027-01-15 */
	struct record *r[3], *dup, **out = NULL;
	uint8_t id1[KITH_ID_LEN];
	struct hold *h;
	size_t n = 0;

	(void)state;
	assert_non_null(h = hold_new());
	assert_int_equal(hold_has(NULL, id1), 0);
	r[0] = at(key, 1, now + 20 * MIN_MS);	/* due in 10 minutes */
	r[1] = at(key, 2, now + 3 * 60 * MIN_MS);	/* in 3 hours */
	r[2] = at(key, 3, now + 15 * MIN_MS);	/* in 5 minutes */
	memcpy(id1, record_id(r[0]), KITH_ID_LEN);
	dup = at(key, 1, now + 20 * MIN_MS);	/* the same record again */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hold_add(h, &r[i]), 1);
		assert_null(r[i]);		/* taken */
	}
	assert_int_equal(hold_add(h, &dup), 0);	/* held already */
	assert_non_null(dup);
	record_free(dup);
	assert_int_equal(hold_count(h), 3);
	assert_int_equal(hold_has(h, id1), 1);
	/* Now: nothing is within the window. */
	assert_int_equal(hold_due(h, now, &out, &n), 0);
	assert_int_equal(n, 0);
	store_records_free(out, n);
	/* Six minutes on: the one stamped 15 minutes ahead is due. */
	out = NULL;
	assert_int_equal(hold_due(h, now + 6 * MIN_MS, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_true(record_header(out[0])->hlc >> 16 == now + 15 * MIN_MS);
	assert_int_equal(hlc_check(record_header(out[0])->hlc,
	    now + 6 * MIN_MS), 0);
	store_records_free(out, n);
	assert_int_equal(hold_count(h), 2);
	/* Eleven: the next; the three-hour one stays, and goes with h. */
	out = NULL;
	assert_int_equal(hold_due(h, now + 11 * MIN_MS, &out, &n), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(record_id(out[0]), id1, KITH_ID_LEN);
	store_records_free(out, n);
	assert_int_equal(hold_has(h, id1), 0);
	assert_int_equal(hold_count(h), 1);
	hold_free(h);
	hold_free(NULL);
	kcrypto_key_free(key);
}

/* Full: no more than HOLD_IDS_MAX ids; the caller keeps the rest. */
static void
test_hold_full(void **state)
{
	struct kcrypto_key *key = tu_key(2);
	uint64_t now = 1800000000000ULL;
	struct record *rec, **out = NULL;
	struct hold *h;
	size_t i, n = 0;

	(void)state;
	assert_non_null(h = hold_new());
	for (i = 0; i < HOLD_IDS_MAX; i++) {
		rec = at(key, i + 1, now + 20 * MIN_MS + i);
		assert_int_equal(hold_add(h, &rec), 1);
	}
	rec = at(key, HOLD_IDS_MAX + 1, now + 20 * MIN_MS);
	assert_int_equal(hold_add(h, &rec), 0);
	assert_non_null(rec);
	record_free(rec);
	assert_int_equal(hold_count(h), HOLD_IDS_MAX);
	assert_int_equal(hold_due(h, now + 60 * MIN_MS, &out, &n), 0);
	assert_int_equal(n, HOLD_IDS_MAX);
	assert_int_equal(hold_count(h), 0);
	store_records_free(out, n);
	hold_free(h);
	kcrypto_key_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hold_and_due),
		cmocka_unit_test(test_hold_full),
	};

	return tu_run(tests, NULL, NULL);
}
