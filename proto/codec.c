#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "codec.h"
#include "kith.h"

struct codec_writer {
	msgpack_sbuffer buf;
	msgpack_packer pk;
	int error;
};

struct codec_writer *
codec_writer_new(void)
{
	struct codec_writer *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	msgpack_sbuffer_init(&w->buf);
	msgpack_packer_init(&w->pk, &w->buf, msgpack_sbuffer_write);
	return w;
}

void
codec_writer_free(struct codec_writer *w)
{

	if (w == NULL)
		return;
	msgpack_sbuffer_destroy(&w->buf);
	free(w);
}

void
codec_writer_reset(struct codec_writer *w)
{

	w->buf.size = 0;
	w->error = 0;
}

const uint8_t *
codec_writer_data(const struct codec_writer *w, size_t *len)
{

	*len = w->buf.size;
	return (const uint8_t *)w->buf.data;
}

uint8_t *
codec_writer_steal(struct codec_writer *w, size_t *len)
{
	uint8_t *p;

	if (w->error != 0 || w->buf.size == 0)
		return NULL;
	*len = w->buf.size;
	p = (uint8_t *)msgpack_sbuffer_release(&w->buf);
	return p;
}

/* Record the first failure; msgpack-c returns non-zero on allocation failure. */
static int
check(struct codec_writer *w, int mrc)
{

	if (mrc != 0 && w->error == 0)
		w->error = KITH_ENOMEM;
	return w->error;
}

int
codec_put_array(struct codec_writer *w, uint32_t n)
{

	return check(w, msgpack_pack_array(&w->pk, n));
}

int
codec_put_map(struct codec_writer *w, uint32_t n)
{

	return check(w, msgpack_pack_map(&w->pk, n));
}

int
codec_put_uint(struct codec_writer *w, uint64_t v)
{

	return check(w, msgpack_pack_uint64(&w->pk, v));
}

int
codec_put_int(struct codec_writer *w, int64_t v)
{

	return check(w, msgpack_pack_int64(&w->pk, v));
}

int
codec_put_bin(struct codec_writer *w, const void *p, size_t n)
{

	if (check(w, msgpack_pack_bin(&w->pk, n)) != 0)
		return w->error;
	return check(w, msgpack_pack_bin_body(&w->pk, p, n));
}

int
codec_put_str(struct codec_writer *w, const void *p, size_t n)
{

	if (check(w, msgpack_pack_str(&w->pk, n)) != 0)
		return w->error;
	return check(w, msgpack_pack_str_body(&w->pk, p, n));
}

int
codec_put_cstr(struct codec_writer *w, const char *s)
{

	return codec_put_str(w, s, strlen(s));
}

int
codec_put_nil(struct codec_writer *w)
{

	return check(w, msgpack_pack_nil(&w->pk));
}

int
codec_put_bool(struct codec_writer *w, int v)
{

	return check(w, v ? msgpack_pack_true(&w->pk) :
	    msgpack_pack_false(&w->pk));
}

int
codec_put_value(struct codec_writer *w, const struct codec_value *v)
{

	switch (v->type) {
	case CODEC_INT:
		return codec_put_int(w, v->i);
	case CODEC_STR:
		return codec_put_str(w, v->s, v->len);
	case CODEC_NIL:
		break;
	}
	return codec_put_nil(w);
}

int
codec_put_raw(struct codec_writer *w, const void *p, size_t n)
{

	return check(w, msgpack_sbuffer_write(&w->buf, p, n));
}

int
codec_writer_error(const struct codec_writer *w)
{

	return w->error;
}

void
codec_reader_init(struct codec_reader *r, const uint8_t *p, size_t len)
{

	r->p = p;
	r->len = len;
	r->off = 0;
}

size_t
codec_reader_left(const struct codec_reader *r)
{

	return r->len - r->off;
}

/* Big-endian unsigned integer of ${n} bytes at ${p}. */
static uint64_t
be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

/*
 * Read a length-prefixed item header: a fix form (${fixmask}/${fixbits} with
 * ${fixmax} as the largest fix value), or one of the forms whose type bytes
 * are in ${forms} (for 8-, 16- and 32-bit lengths; 0 where the form does not
 * exist).  Sets ${*n} and advances past the header only.
 */
static int
read_len(struct codec_reader *r, uint8_t fixmask, uint8_t fixbits,
    uint32_t fixmax, const uint8_t forms[3], uint32_t *n)
{
	static const size_t width[3] = { 1, 2, 4 };
	uint64_t v;
	uint8_t b;
	size_t i;

	if (r->off >= r->len)
		return KITH_ETRUNC;
	b = r->p[r->off];
	if (fixmask != 0 && (b & fixmask) == fixbits) {
		*n = b & (uint8_t)~fixmask;
		r->off++;
		return 0;
	}
	for (i = 0; i < 3; i++) {
		if (forms[i] == 0 || b != forms[i])
			continue;
		if (r->len - r->off < 1 + width[i])
			return KITH_ETRUNC;
		v = be(r->p + r->off + 1, width[i]);
		/* Shortest form: the value must not fit a smaller one. */
		if ((i == 0 && v <= fixmax && fixmask != 0) ||
		    (i > 0 && v < (1ULL << (8 * width[i - 1])) &&
		    (forms[i - 1] != 0 || v <= fixmax)))
			return KITH_ENONCANON;
		*n = (uint32_t)v;
		r->off += 1 + width[i];
		return 0;
	}
	return KITH_ETYPE;
}

/* Read a container header and check ${n} items could fit in what remains. */
static int
read_container(struct codec_reader *r, uint8_t fixbits, const uint8_t forms[3],
    uint32_t per_item, uint32_t *n)
{
	size_t start = r->off;
	int rc;

	if ((rc = read_len(r, 0xf0, fixbits, 15, forms, n)) != 0)
		return rc;
	if ((uint64_t)*n * per_item > r->len - r->off) {
		r->off = start;
		return KITH_ETRUNC;
	}
	return 0;
}

int
codec_read_array(struct codec_reader *r, uint32_t *n)
{
	static const uint8_t forms[3] = { 0, 0xdc, 0xdd };

	return read_container(r, 0x90, forms, 1, n);
}

int
codec_read_map(struct codec_reader *r, uint32_t *n)
{
	static const uint8_t forms[3] = { 0, 0xde, 0xdf };

	return read_container(r, 0x80, forms, 2, n);
}

int
codec_read_uint(struct codec_reader *r, uint64_t *v)
{
	static const size_t width[4] = { 1, 2, 4, 8 };
	uint64_t x;
	uint8_t b;
	size_t i;

	if (r->off >= r->len)
		return KITH_ETRUNC;
	b = r->p[r->off];
	if (b <= 0x7f) {
		*v = b;
		r->off++;
		return 0;
	}
	if (b < 0xcc || b > 0xcf)
		return KITH_ETYPE;
	i = b - 0xcc;
	if (r->len - r->off < 1 + width[i])
		return KITH_ETRUNC;
	x = be(r->p + r->off + 1, width[i]);
	if ((i == 0 && x <= 0x7f) ||
	    (i > 0 && x < (1ULL << (8 * width[i - 1]))))
		return KITH_ENONCANON;
	*v = x;
	r->off += 1 + width[i];
	return 0;
}

int
codec_read_int(struct codec_reader *r, int64_t *v)
{
	static const size_t width[4] = { 1, 2, 4, 8 };
	uint64_t u;
	int64_t x;
	uint8_t b;
	size_t i;
	int rc;

	if (r->off >= r->len)
		return KITH_ETRUNC;
	b = r->p[r->off];
	if (b >= 0xe0) {
		*v = (int8_t)b;
		r->off++;
		return 0;
	}
	if (b >= 0xd0 && b <= 0xd3) {
		i = b - 0xd0;
		if (r->len - r->off < 1 + width[i])
			return KITH_ETRUNC;
		u = be(r->p + r->off + 1, width[i]);
		/* Sign-extend from the form's width. */
		if (width[i] < 8 && (u >> (8 * width[i] - 1)) != 0)
			u |= ~0ULL << (8 * width[i]);
		x = (int64_t)u;
		/*
		 * msgpack-c writes non-negative integers as uint forms, and a
		 * negative one in the narrowest int form that holds it.
		 */
		if (x >= 0 || x >= -32 ||
		    (i > 0 && x >= -(1LL << (8 * width[i - 1] - 1))))
			return KITH_ENONCANON;
		*v = x;
		r->off += 1 + width[i];
		return 0;
	}
	if ((rc = codec_read_uint(r, &u)) != 0)
		return rc;
	if (u > INT64_MAX) {
		r->off -= 9;
		return KITH_ERANGE;
	}
	*v = (int64_t)u;
	return 0;
}

/* Read the ${n} payload bytes that follow a header just read. */
static int
read_payload(struct codec_reader *r, size_t start, uint32_t n,
    const uint8_t **p)
{

	if (r->len - r->off < n) {
		r->off = start;
		return KITH_ETRUNC;
	}
	*p = r->p + r->off;
	r->off += n;
	return 0;
}

int
codec_read_bin(struct codec_reader *r, const uint8_t **p, size_t *n)
{
	static const uint8_t forms[3] = { 0xc4, 0xc5, 0xc6 };
	size_t start = r->off;
	uint32_t len;
	int rc;

	if ((rc = read_len(r, 0, 0, 0, forms, &len)) != 0)
		return rc;
	if ((rc = read_payload(r, start, len, p)) != 0)
		return rc;
	*n = len;
	return 0;
}

int
codec_utf8_valid(const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t i = 0, k, need;
	uint32_t c;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1;
			c = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2;
			c = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3;
			c = s[i] & 0x07;
		} else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((need == 1 && c < 0x80) || (need == 2 && c < 0x800) ||
		    (need == 3 && c < 0x10000) || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

int
codec_read_str(struct codec_reader *r, const char **p, size_t *n)
{
	static const uint8_t forms[3] = { 0xd9, 0xda, 0xdb };
	size_t start = r->off;
	const uint8_t *s;
	uint32_t len;
	int rc;

	if ((rc = read_len(r, 0xe0, 0xa0, 31, forms, &len)) != 0)
		return rc;
	if ((rc = read_payload(r, start, len, &s)) != 0)
		return rc;
	if (!codec_utf8_valid(s, len)) {
		r->off = start;
		return KITH_ETYPE;
	}
	*p = (const char *)s;
	*n = len;
	return 0;
}

int
codec_read_nil(struct codec_reader *r)
{

	if (r->off >= r->len)
		return KITH_ETRUNC;
	if (r->p[r->off] != 0xc0)
		return KITH_ETYPE;
	r->off++;
	return 0;
}

int
codec_read_bool(struct codec_reader *r, int *v)
{

	if (r->off >= r->len)
		return KITH_ETRUNC;
	if (r->p[r->off] != 0xc2 && r->p[r->off] != 0xc3)
		return KITH_ETYPE;
	*v = r->p[r->off] == 0xc3;
	r->off++;
	return 0;
}

int
codec_read_value(struct codec_reader *r, struct codec_value *v)
{
	uint8_t b;
	int rc;

	if (r->off >= r->len)
		return KITH_ETRUNC;
	b = r->p[r->off];
	if (b == 0xc0) {
		r->off++;
		v->type = CODEC_NIL;
		return 0;
	}
	if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb)) {
		v->type = CODEC_STR;
		return codec_read_str(r, &v->s, &v->len);
	}
	if ((rc = codec_read_int(r, &v->i)) == 0)
		v->type = CODEC_INT;
	return rc;
}

int
codec_read_fixed(struct codec_reader *r, uint8_t *out, size_t n)
{
	size_t start = r->off, len;
	const uint8_t *p;
	int rc;

	if ((rc = codec_read_bin(r, &p, &len)) != 0)
		return rc;
	if (len != n) {
		r->off = start;
		return KITH_ETYPE;
	}
	memcpy(out, p, n);
	return 0;
}

int
codec_value_cmp(const struct codec_value *a, const struct codec_value *b)
{
	size_t n;
	int c;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	switch (a->type) {
	case CODEC_INT:
		return a->i < b->i ? -1 : a->i > b->i;
	case CODEC_STR:
		n = a->len < b->len ? a->len : b->len;
		if ((c = memcmp(a->s, b->s, n)) != 0)
			return c;
		return a->len < b->len ? -1 : a->len > b->len;
	case CODEC_NIL:
		break;
	}
	return 0;
}
