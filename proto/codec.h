#ifndef CODEC_H
#define CODEC_H

/*
 * The one module that knows msgpack.  Writing goes through msgpack-c's
 * packer, which always emits the shortest form.  Reading is a strict cursor
 * that accepts exactly that canonical subset: every length and integer in its
 * shortest form, no floats, no extension types.  (msgpack-c's unpacker is not
 * used for reading because it allocates by the counts an array or map header
 * declares before checking them against the input: five hostile bytes would
 * ask it for 96 GB.)
 */

#include <stddef.h>
#include <stdint.h>

struct codec_writer;

/* A read cursor over borrowed bytes; its fields are private to codec.c. */
struct codec_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* A scalar field value: what a body field or a state field holds. */
enum codec_vtype {
	CODEC_NIL = 0,
	CODEC_INT = 1,
	CODEC_STR = 2,
};
struct codec_value {
	enum codec_vtype type;
	int64_t i;		/* CODEC_INT */
	const char *s;		/* CODEC_STR: not NUL-terminated, borrowed */
	size_t len;		/* CODEC_STR */
};

/**
 * codec_writer_new():
 * Return an empty writer, or NULL if out of memory.
 */
struct codec_writer *codec_writer_new(void);

/**
 * codec_writer_free(w):
 * Free ${w}; nothing if NULL.
 */
void codec_writer_free(struct codec_writer *w);

/**
 * codec_writer_reset(w):
 * Forget what ${w} holds, keeping its buffer.
 */
void codec_writer_reset(struct codec_writer *w);

/**
 * codec_writer_data(w, len):
 * Return the bytes written so far and set ${*len}; borrowed, valid until the
 * next write, reset or free.
 */
const uint8_t *codec_writer_data(const struct codec_writer *w, size_t *len);

/**
 * codec_writer_steal(w, len):
 * Return the bytes written so far as a malloc'ed buffer the caller frees,
 * and leave ${w} empty.  NULL if ${w} is empty or out of memory.
 */
uint8_t *codec_writer_steal(struct codec_writer *w, size_t *len);

/*
 * Writers: each returns 0 or KITH_ENOMEM.  A writer that failed once keeps
 * failing, so a sequence of writes may be checked once, at the end, with
 * codec_writer_error().
 */
int codec_put_array(struct codec_writer *w, uint32_t n);
int codec_put_map(struct codec_writer *w, uint32_t n);
int codec_put_uint(struct codec_writer *w, uint64_t v);
int codec_put_int(struct codec_writer *w, int64_t v);
int codec_put_bin(struct codec_writer *w, const void *p, size_t n);
int codec_put_str(struct codec_writer *w, const void *p, size_t n);
int codec_put_cstr(struct codec_writer *w, const char *s);
int codec_put_nil(struct codec_writer *w);
int codec_put_bool(struct codec_writer *w, int v);
int codec_put_value(struct codec_writer *w, const struct codec_value *v);
int codec_put_raw(struct codec_writer *w, const void *p, size_t n);
int codec_writer_error(const struct codec_writer *w);

/**
 * codec_reader_init(r, p, len):
 * Point ${r} at ${len} borrowed bytes at ${p}.
 */
void codec_reader_init(struct codec_reader *r, const uint8_t *p, size_t len);

/*
 * Readers: each consumes one item and returns 0, KITH_ETRUNC if the input ends
 * inside it, KITH_ETYPE if it is another type, or KITH_ENONCANON if it is not
 * in shortest form.  On failure the cursor does not move.
 *
 * codec_read_array and codec_read_map read only the header and set ${*n};
 * they fail with KITH_ETRUNC if fewer bytes remain than ${*n} items need.
 * codec_read_str also fails with KITH_ETYPE on invalid UTF-8.
 * Pointers returned are borrowed from the reader's input.
 */
int codec_read_array(struct codec_reader *r, uint32_t *n);
int codec_read_map(struct codec_reader *r, uint32_t *n);
int codec_read_uint(struct codec_reader *r, uint64_t *v);
int codec_read_int(struct codec_reader *r, int64_t *v);
int codec_read_bin(struct codec_reader *r, const uint8_t **p, size_t *n);
int codec_read_str(struct codec_reader *r, const char **p, size_t *n);
int codec_read_nil(struct codec_reader *r);
int codec_read_bool(struct codec_reader *r, int *v);
int codec_read_value(struct codec_reader *r, struct codec_value *v);

/**
 * codec_read_fixed(r, out, n):
 * Read a bin of exactly ${n} bytes into ${out}; KITH_ETYPE if another length.
 */
int codec_read_fixed(struct codec_reader *r, uint8_t *out, size_t n);

/**
 * codec_reader_left(r):
 * Return how many bytes remain unread.
 */
size_t codec_reader_left(const struct codec_reader *r);

/**
 * codec_utf8_valid(p, n):
 * Return 1 if the ${n} bytes at ${p} are well-formed UTF-8 (RFC 3629), the
 * rule every msgpack str in kith must meet; else 0.
 */
int codec_utf8_valid(const void *p, size_t n);

/**
 * codec_value_cmp(a, b):
 * Order two values: by type, then integer or bytes.  0 means equal.
 */
int codec_value_cmp(const struct codec_value *a, const struct codec_value *b);

#endif
