/*
 * Fuzz the raw reader of LMDB's file format: any bytes, taken as a data
 * file, are checked (every page, then the roots alone) and their entries
 * handed out, and nothing reads outside them.  Each entry handed out must
 * lie inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kith.h"
#include "pagecheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
	const uint8_t *p;
	size_t len;
};

static int
inside(const struct span *s, const uint8_t *p, size_t len)
{

	return p >= s->p && len <= s->len && (size_t)(p - s->p) <= s->len -
	    len;
}

static int
entry(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
    size_t vlen)
{
	const struct span *s = arg;

	if (!inside(s, key, klen) || !inside(s, val, vlen))
		abort();
	return 0;
}

static void
page(void *arg, uint64_t pgno, const char *db, const char *kind, unsigned n)
{

	(void)arg;
	(void)pgno;
	(void)n;
	if (db == NULL || kind == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const dbs[] = { "rec", "body", "peers", "ent" };
	struct span s = { data, size };
	struct pagecheck_cb cb = { NULL, page, NULL, entry, &s };
	struct pagecheck_stats st;
	struct pagecheck *pc;
	int rc;

	if ((pc = pagecheck_mem(data, size)) == NULL)
		return 0;
	cb.entry_db = dbs[size % 4];
	rc = pagecheck_run(pc, 0, &cb, &st);
	if (rc != 0 && rc != KITH_ECORRUPT && rc != KITH_ENOMEM)
		abort();
	if ((rc == 0) != (st.problems == 0) && rc != KITH_ENOMEM)
		abort();
	rc = pagecheck_run(pc, PAGECHECK_META, &cb, &st);
	if (rc != 0 && rc != KITH_ECORRUPT && rc != KITH_ENOMEM)
		abort();
	pagecheck_close(pc);
	return 0;
}
