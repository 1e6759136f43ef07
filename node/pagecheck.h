#ifndef PAGECHECK_H
#define PAGECHECK_H

/*
 * A raw reader of LMDB's on-disk format (0.9.x, 64-bit little-endian), our
 * own, that never calls LMDB: it checks a data file's structure before LMDB
 * maps it and follows its pointers, so that a damaged page is a message,
 * not a crash.  It reads the two meta pages, then walks every tree from the
 * newer one: the free-page tree, the main tree and each named database in
 * it, and the sub-trees and sub-pages of sorted duplicates.  For each page
 * it checks that the page number stored in it is its position, its flags,
 * its free-space bounds (mp_lower/mp_upper), every node's offset and sizes,
 * the order of its keys and that they fall within the range its parent
 * gives them, child and overflow page numbers, that no page is reached
 * twice, the depth of each leaf, and each tree's entry count.
 *
 * It can also hand the caller every entry of one named database it can
 * reach (pagecheck_run's ${entry}), skipping what is damaged: kith restore
 * salvages records that way from a file LMDB cannot be trusted to read.
 */

#include <stddef.h>
#include <stdint.h>

struct pagecheck;

/* Called for each problem: page ${pgno} of database ${db} ("" if none). */
typedef void pagecheck_bad_fn(void *arg, uint64_t pgno, const char *db,
    const char *what);

/* Called for each page reached: ${kind} is "meta", "branch", "leaf",
 * "leaf2" or "overflow"; ${n} its keys (pages, for an overflow run). */
typedef void pagecheck_page_fn(void *arg, uint64_t pgno, const char *db,
    const char *kind, unsigned n);

/* Called for each entry of the named database asked for; the bytes are
 * borrowed from the mapping and valid until pagecheck_close.  A non-zero
 * result stops the run, which returns it. */
typedef int pagecheck_entry_fn(void *arg, const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen);

struct pagecheck_cb {
	pagecheck_bad_fn *bad;		/* NULL: problems are only counted */
	pagecheck_page_fn *page;	/* NULL: no listing */
	const char *entry_db;		/* whose entries go to ${entry} */
	pagecheck_entry_fn *entry;
	void *arg;
};

struct pagecheck_stats {
	uint64_t problems;
	uint64_t pages;		/* pages reached, meta pages included */
	uint64_t last_pgno;	/* of the meta used */
	uint64_t txnid;		/* of the meta used */
	unsigned psize;
};

/* pagecheck_run flags. */
#define PAGECHECK_META	0x1	/* the meta pages and each tree's root only */

/**
 * pagecheck_open(path, rc):
 * Map the LMDB data file ${path} read-only.  Return the handle, or NULL
 * with ${*rc} set to KITH_ENOTFOUND, KITH_EIO or KITH_ENOMEM.
 */
struct pagecheck *pagecheck_open(const char *path, int *rc);

/**
 * pagecheck_mem(p, len):
 * A handle on the ${len} bytes at ${p}, borrowed until pagecheck_close
 * (tests and the fuzz harness).  NULL if out of memory.
 */
struct pagecheck *pagecheck_mem(const uint8_t *p, size_t len);

/**
 * pagecheck_close(pc):
 * Unmap and free ${pc}; nothing if NULL.
 */
void pagecheck_close(struct pagecheck *pc);

/**
 * pagecheck_run(pc, flags, cb, st):
 * Check the structure of ${pc}'s file (only the metas and roots if
 * ${flags} has PAGECHECK_META), calling ${cb}'s functions as it goes, and
 * fill ${*st}.  Return 0 if no problem was found, KITH_ECORRUPT if some
 * were, or ${cb}->entry's non-zero result.
 */
int pagecheck_run(struct pagecheck *pc, int flags,
    const struct pagecheck_cb *cb, struct pagecheck_stats *st);

/**
 * pagecheck_file(path, flags, cb, st):
 * Open, run and close, as above, for a file another process may be
 * writing: a run that finds problems while the file's newest meta page
 * moves on is run again (up to three times), so that pages a writer
 * reused under the walk are not taken for damage.  Return 0,
 * KITH_ECORRUPT, or pagecheck_open's error.
 */
int pagecheck_file(const char *path, int flags,
    const struct pagecheck_cb *cb, struct pagecheck_stats *st);

#endif
