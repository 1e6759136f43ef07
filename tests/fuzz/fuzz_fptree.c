/*
 * Fuzz the fingerprint tree (node/fptree.c).  Its nodes come from disk,
 * so any bytes must read as a tree or as KITH_ECORRUPT:
 *   mode 0: the input is nodes, each id(1) len(2) bytes, node 0 the
 *           header; every read and a write are tried on them.
 *   mode 1: the input is items, hlc(8) id(32) each, put in and taken out
 *           in batches; the tree must then check clean and hold what the
 *           batches left (a property test of the writes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fptree.h"
#include "kith.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IDS	256

struct mem {
	uint8_t *p[IDS];
	size_t len[IDS];
	int full;	/* ids past IDS were asked for */
};

static int
mem_get(void *arg, uint64_t id, const uint8_t **p, size_t *len)
{
	struct mem *m = arg;

	if (id >= IDS || m->p[id] == NULL)
		return KITH_ENOTFOUND;
	*p = m->p[id];
	*len = m->len[id];
	return 0;
}

static int
mem_put(void *arg, uint64_t id, const uint8_t *p, size_t len)
{
	struct mem *m = arg;
	uint8_t *q;

	if (id >= IDS) {
		m->full = 1;
		return KITH_ENOSPC;
	}
	if ((q = malloc(len ? len : 1)) == NULL)
		return KITH_ENOMEM;
	memcpy(q, p, len);
	free(m->p[id]);
	m->p[id] = q;
	m->len[id] = len;
	return 0;
}

static int
mem_del(void *arg, uint64_t id)
{
	struct mem *m = arg;

	if (id >= IDS || m->p[id] == NULL)
		return KITH_ENOTFOUND;
	free(m->p[id]);
	m->p[id] = NULL;
	return 0;
}

static void
raw(struct mem *m, const struct fptree_io *io, const uint8_t *d, size_t n)
{
	struct negentropy_item out[64], it;
	uint8_t sum[NEGENTROPY_SUM_LEN];
	uint64_t count, nodes, at, k;
	size_t len;

	while (n >= 3) {
		len = (size_t)d[1] << 8 | d[2];
		if (len > n - 3)
			len = n - 3;
		(void)mem_put(m, d[0], d + 3, len);
		d += 3 + len;
		n -= 3 + len;
	}
	(void)fptree_check(io, NULL, NULL, &nodes);
	if (fptree_count(io, &count) == 0) {
		k = count < 64 ? count : 64;
		(void)fptree_items(io, 0, k, out);
		(void)fptree_items(io, count - k, count, out);
		(void)fptree_sum(io, 0, count, sum);
		(void)fptree_sum(io, k / 2, k, sum);
	}
	memset(&it, 0, sizeof(it));
	(void)fptree_lower_bound(io, 0, it.id, &at);
	it.timestamp = 77;
	(void)fptree_lower_bound(io, it.timestamp, it.id, &at);
	(void)fptree_insert(io, &it, 1);
	(void)fptree_remove(io, &it, 1);
}

static void
build(const struct fptree_io *io, struct mem *m, const uint8_t *d, size_t n)
{
	struct negentropy_item items[40], again[40];
	uint64_t nodes;
	size_t k, i, j;
	int rc;

	while (n >= 40) {
		for (k = 0; k < 40 && n >= 40; k++, d += 40, n -= 40) {
			items[k].timestamp = 0;
			for (i = 0; i < 8; i++)
				items[k].timestamp = items[k].timestamp << 8 |
				    d[i];
			if (items[k].timestamp == UINT64_MAX)
				items[k].timestamp--;
			memcpy(items[k].id, d + 8, 32);
		}
		memcpy(again, items, sizeof(items));
		if ((rc = fptree_insert(io, items, k)) != 0) {
			if (rc == KITH_ENOSPC && m->full)
				return;		/* the harness's own bound */
			abort();
		}
		for (i = 0, j = 0; i < k; i += 3)
			again[j++] = again[i];
		if ((rc = fptree_remove(io, again, j)) != 0) {
			if (rc == KITH_ENOSPC && m->full)
				return;
			abort();
		}
	}
	if (fptree_check(io, NULL, NULL, &nodes) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m;
	struct fptree_io io = { mem_get, mem_put, mem_del, &m };
	size_t i;

	if (size == 0)
		return 0;
	memset(&m, 0, sizeof(m));
	if (data[0] == 1)
		build(&io, &m, data + 1, size - 1);
	else
		raw(&m, &io, data + 1, size - 1);
	for (i = 0; i < IDS; i++)
		free(m.p[i]);
	return 0;
}
