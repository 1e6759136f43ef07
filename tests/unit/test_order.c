/*
 * node/order: the in-memory reconciliation order stays sorted, holds each
 * item once, and matches the store after a refresh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "order.h"

static uint64_t
next_rand(uint64_t *x)
{

	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
rand_item(struct negentropy_item *it, uint64_t *x)
{
	size_t i;

	it->timestamp = next_rand(x) % 1000;	/* repeats: ties on id */
	for (i = 0; i < sizeof(it->id); i++)
		it->id[i] = (uint8_t)next_rand(x);
}

static int
item_cmp(const void *pa, const void *pb)
{
	const struct negentropy_item *a = pa, *b = pb;

	if (a->timestamp != b->timestamp)
		return a->timestamp < b->timestamp ? -1 : 1;
	return memcmp(a->id, b->id, sizeof(a->id));
}

/* Random batches, with repeats, merge to the sorted set of all of them. */
static void
test_merge(void **state)
{
	struct negentropy_item *all, batch[300];
	const struct negentropy_item *got;
	struct order *o;
	uint64_t x = 88172645463325252ULL;
	size_t n = 0, cap = 20000, k, i, m, round;

	(void)state;
	assert_non_null(o = order_new());
	assert_non_null(all = malloc(cap * sizeof(*all)));
	for (round = 0; round < 40; round++) {
		k = next_rand(&x) % 299;
		for (i = 0; i < k; i++) {
			/* A third are repeats of items already merged. */
			if (n > 0 && next_rand(&x) % 3 == 0)
				batch[i] = all[next_rand(&x) % n];
			else {
				rand_item(&batch[i], &x);
				all[n++] = batch[i];
			}
		}
		/* And one repeat inside the batch. */
		if (k > 0) {
			batch[k] = batch[0];
			k++;
		}
		assert_int_equal(order_merge(o, batch, k), 0);
	}
	qsort(all, n, sizeof(*all), item_cmp);
	for (i = 1, m = n ? 1 : 0; i < n; i++)
		if (item_cmp(&all[i], &all[m - 1]) != 0)
			all[m++] = all[i];
	got = order_items(o, &k);
	assert_int_equal(k, m);
	assert_memory_equal(got, all, m * sizeof(*all));
	/* Merging nothing, or only what is held, changes nothing. */
	assert_int_equal(order_merge(o, batch, 0), 0);
	memcpy(batch, got, 10 * sizeof(*batch));
	assert_int_equal(order_merge(o, batch, 10), 0);
	(void)order_items(o, &k);
	assert_int_equal(k, m);
	free(all);
	order_free(o);
	order_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
