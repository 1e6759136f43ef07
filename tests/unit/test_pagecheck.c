/*
 * node/pagecheck: a store's data file as LMDB writes it passes; each kind
 * of damage to it is found and named, never a crash; the entries of a
 * database can be read past damage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kith.h"
#include "pagecheck.h"
#include "store.h"
#include "testutil.h"

#define PS	4096
#define NPEERS	400

struct fixture {
	uint8_t *file;
	size_t len;
	uint64_t branch, leaf;	/* a branch and a leaf page of "peers" */
};

struct seen {
	char what[256];
	size_t problems, entries;
	struct fixture *f;
};

static void
on_bad(void *arg, uint64_t pgno, const char *db, const char *what)
{
	struct seen *s = arg;

	(void)pgno;
	(void)db;
	if (s->problems++ == 0)
		snprintf(s->what, sizeof(s->what), "%s", what);
}

static void
on_page(void *arg, uint64_t pgno, const char *db, const char *kind,
    unsigned n)
{
	struct seen *s = arg;

	(void)n;
	if (s->f == NULL || strcmp(db, "peers") != 0)
		return;
	if (strcmp(kind, "branch") == 0 && s->f->branch == 0)
		s->f->branch = pgno;
	if (strcmp(kind, "leaf") == 0)
		s->f->leaf = pgno;
}

static int
on_entry(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
    size_t vlen)
{
	struct seen *s = arg;

	(void)key;
	(void)val;
	assert_true(klen > 0 && vlen >= 40);	/* a store_peer value */
	s->entries++;
	return 0;
}

/* Run the checker on ${len} bytes at ${p}; ${s} gets what it said. */
static int
check(const uint8_t *p, size_t len, struct seen *s)
{
	struct pagecheck_cb cb = { on_bad, on_page, "peers", on_entry, s };
	struct pagecheck_stats st;
	struct pagecheck *pc;
	int rc;

	assert_non_null(pc = pagecheck_mem(p, len));
	rc = pagecheck_run(pc, 0, &cb, &st);
	pagecheck_close(pc);
	assert_int_equal(st.problems, s->problems);
	return rc;
}

/* A real store whose "peers" database spans a branch and leaf pages. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_peer p = { .last_ok_ms = 1, .last_try_ms = 2,
	    .received = 3, .sent = 4 };
	struct seen s = { "", 0, 0, f };
	char dir[256], path[300], ep[300];
	struct store *st;
	FILE *fp;
	int i, rc;

	tu_tmpdir(dir, sizeof(dir));
	assert_non_null(st = store_open(dir, STORE_CREATE | STORE_NOSYNC, 0,
	    &rc));
	for (i = 0; i < NPEERS; i++) {
		snprintf(ep, sizeof(ep), "tcp://peer-%04d.example.org:%d/%0*d",
		    i, 1000 + i, 60, i);
		assert_int_equal(store_peer_put(st, ep, &p), 0);
	}
	store_close(st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_non_null(fp = fopen(path, "rb"));
	fseek(fp, 0, SEEK_END);
	f->len = (size_t)ftell(fp);
	rewind(fp);
	assert_non_null(f->file = malloc(f->len));
	assert_int_equal(fread(f->file, 1, f->len, fp), f->len);
	fclose(fp);
	tu_rmrf(dir);
	assert_int_equal(check(f->file, f->len, &s), 0);
	assert_int_equal(s.entries, NPEERS);
	assert_true(f->branch >= 2 && f->leaf >= 2);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->file);
	free(f);
	return 0;
}

/* A copy of the file to damage. */
static uint8_t *
copy(const struct fixture *f)
{
	uint8_t *p = malloc(f->len);

	assert_non_null(p);
	memcpy(p, f->file, f->len);
	return p;
}

static void
put16(uint8_t *p, uint16_t v)
{

	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t
get16(const uint8_t *p)
{

	return (uint16_t)(p[0] | p[1] << 8);
}

/* Damage ${f}'s copy with ${damage}; expect ${want} in the first report. */
static void
expect_damage(const struct fixture *f, void (*damage)(const struct fixture *,
    uint8_t *), const char *want)
{
	struct seen s = { "", 0, 0, NULL };
	uint8_t *p = copy(f);

	damage(f, p);
	assert_int_equal(check(p, f->len, &s), KITH_ECORRUPT);
	assert_true(s.problems > 0);
	if (strstr(s.what, want) == NULL)
		fail_msg("expected '%s', got '%s'", want, s.what);
	free(p);
}

static void
d_pgno(const struct fixture *f, uint8_t *p)
{

	p[f->leaf * PS] ^= 0x01;	/* the page number's low byte */
}

static void
d_bounds(const struct fixture *f, uint8_t *p)
{
	uint8_t *pg = p + f->leaf * PS;

	put16(pg + 12, (uint16_t)(get16(pg + 14) + 2));	/* lower > upper */
}

static void
d_upper(const struct fixture *f, uint8_t *p)
{

	put16(p + f->leaf * PS + 14, 0xfff0);		/* past the page */
}

static void
d_node_offset(const struct fixture *f, uint8_t *p)
{
	uint8_t *pg = p + f->leaf * PS;

	put16(pg + 16, (uint16_t)(get16(pg + 12) - 2));	/* below upper */
}

static void
d_key_size(const struct fixture *f, uint8_t *p)
{
	uint8_t *pg = p + f->leaf * PS;

	put16(pg + get16(pg + 16) + 6, 0xffff);
}

static void
d_key_order(const struct fixture *f, uint8_t *p)
{
	uint8_t *pg = p + f->leaf * PS, t[2];

	memcpy(t, pg + 16, 2);
	memcpy(pg + 16, pg + 18, 2);
	memcpy(pg + 18, t, 2);
}

static void
d_child(const struct fixture *f, uint8_t *p)
{
	uint8_t *pg = p + f->branch * PS;

	put16(pg + get16(pg + 18) + 4, 0x7fff);		/* pgno's top bits */
}

static void
d_twice(const struct fixture *f, uint8_t *p)
{
	uint8_t *pg = p + f->branch * PS;
	uint8_t *n0 = pg + get16(pg + 16), *n1 = pg + get16(pg + 18);

	memcpy(n1, n0, 6);	/* child 1 is child 0 again */
}

static void
d_flags(const struct fixture *f, uint8_t *p)
{

	put16(p + f->leaf * PS + 10, 0x80);
}

static void
d_overflow(const struct fixture *f, uint8_t *p)
{
	uint8_t *pg = p + f->leaf * PS, *node = pg + get16(pg + 16);

	put16(node + 4, 0x01);	/* its value is now an overflow page number */
	memset(node + 8 + get16(node + 6), 0x41, 8);
}

static void
d_meta_magic(const struct fixture *f, uint8_t *p)
{

	(void)f;
	p[16] ^= 0xff;
	p[PS + 16] ^= 0xff;
}

static void
d_meta_last(const struct fixture *f, uint8_t *p)
{
	int i;

	(void)f;
	for (i = 0; i < 2; i++)
		memset(p + i * PS + 16 + 24 + 96, 0x7f, 8);
}

static void
test_damage(void **state)
{
	struct fixture *f = *state;

	expect_damage(f, d_pgno, "says it is page");
	expect_damage(f, d_bounds, "free-space bounds");
	expect_damage(f, d_upper, "free-space bounds");
	expect_damage(f, d_node_offset, "outside the page's nodes");
	expect_damage(f, d_key_size, "outside the page's nodes");
	expect_damage(f, d_key_order, "not above the key before");
	expect_damage(f, d_child, "outside the file");
	expect_damage(f, d_twice, "");
	expect_damage(f, d_flags, "flags");
	expect_damage(f, d_overflow, "overflow");
	expect_damage(f, d_meta_magic, "magic");
	expect_damage(f, d_meta_last, "last page");
}

/* One meta page damaged: reported, and the other one's trees walked. */
static void
test_one_meta(void **state)
{
	struct fixture *f = *state;
	struct seen s = { "", 0, 0, NULL };
	uint8_t *p = copy(f);

	p[16] ^= 0xff;
	assert_int_equal(check(p, f->len, &s), KITH_ECORRUPT);
	assert_non_null(strstr(s.what, "meta page 0"));
	free(p);
}

/*
 * Short and empty files, and every page-sized prefix: a prefix that cuts
 * off a page some tree reaches is damage; one that cuts off only pages
 * no tree reaches (free ones, or past the last LMDB wrote) is not, since
 * LMDB never reads them.  Never a crash, and never anything else.
 */
static void
test_truncated(void **state)
{
	struct fixture *f = *state;
	struct seen s = { "", 0, 0, NULL };
	size_t len, damaged = 0;
	int rc;

	assert_int_equal(check(f->file, 0, &s), KITH_ECORRUPT);
	for (len = PS; len < f->len; len += PS) {
		memset(&s, 0, sizeof(s));
		rc = check(f->file, len, &s);
		assert_true(rc == 0 || rc == KITH_ECORRUPT);
		if (len <= 2 * PS)
			assert_int_equal(rc, KITH_ECORRUPT);
		damaged += rc == KITH_ECORRUPT;
	}
	/* Most prefixes cut a tree: the fixture's trees fill the file. */
	assert_true(damaged * 2 > f->len / PS);
}

/* Entries past a damaged leaf: the rest are read, the damage counted. */
static void
test_salvage(void **state)
{
	struct fixture *f = *state;
	struct seen s = { "", 0, 0, NULL };
	uint8_t *p = copy(f);

	d_upper(f, p);
	assert_int_equal(check(p, f->len, &s), KITH_ECORRUPT);
	assert_true(s.entries > 0 && s.entries < NPEERS);
	free(p);
}

/* A callback's non-zero result stops the walk and comes back. */
static int
stop_at_ten(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
    size_t vlen)
{
	size_t *n = arg;

	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	return ++*n == 10 ? 7 : 0;
}

static void
test_stop(void **state)
{
	struct fixture *f = *state;
	struct pagecheck_cb cb = { NULL, NULL, "peers", stop_at_ten, NULL };
	struct pagecheck_stats st;
	struct pagecheck *pc;
	size_t n = 0;

	cb.arg = &n;
	assert_non_null(pc = pagecheck_mem(f->file, f->len));
	assert_int_equal(pagecheck_run(pc, 0, &cb, &st), 7);
	assert_int_equal(n, 10);
	/* The roots alone: no entries, no problems. */
	n = 0;
	assert_int_equal(pagecheck_run(pc, PAGECHECK_META, &cb, &st), 0);
	pagecheck_close(pc);
}

/* A store whose file is damaged is not opened; verify-style: named. */
static void
test_store_refuses(void **state)
{
	struct fixture *f = *state;
	char dir[256], path[300];
	struct store *st;
	uint8_t *p = copy(f);
	FILE *fp;
	int rc;

	d_child(f, p);
	tu_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_non_null(fp = fopen(path, "wb"));
	assert_int_equal(fwrite(p, 1, f->len, fp), f->len);
	fclose(fp);
	assert_null(st = store_open(dir, STORE_CHECK, 0, &rc));
	assert_int_equal(rc, KITH_ECORRUPT);
	assert_int_equal(pagecheck_file(path, 0, NULL, &(struct
	    pagecheck_stats){ 0 }), KITH_ECORRUPT);
	tu_rmrf(dir);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_one_meta),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_salvage),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_store_refuses),
	};

	return tu_run(tests, setup, teardown);
}
