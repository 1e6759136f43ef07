/*
 * Sync message frames: building and strict parsing.  Every length is
 * checked against the bytes present before it is used.
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "kith.h"
#include "record.h"
#include "syncmsg.h"

#define BOUND_LEN	(8 + KITH_ID_LEN)

static uint64_t
get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

static void
put_be(uint8_t *p, uint64_t v, size_t n)
{

	while (n-- > 0) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static int
type_known(uint8_t t)
{

	switch (t) {
	case SYNCMSG_HELLO: case SYNCMSG_RECON: case SYNCMSG_GET:
	case SYNCMSG_PULL: case SYNCMSG_PUSH: case SYNCMSG_BYE:
	case SYNCMSG_WELCOME: case SYNCMSG_RECON_REPLY: case SYNCMSG_RECORDS:
	case SYNCMSG_PUSHED: case SYNCMSG_ERROR:
		return 1;
	}
	return 0;
}

int
syncmsg_parse(const uint8_t *frame, size_t len, struct syncmsg *out)
{

	if (len < SYNCMSG_HDR_LEN)
		return KITH_ETRUNC;
	if (len > SYNCMSG_FRAME_MAX)
		return KITH_ETOOBIG;
	if (frame[0] != SYNCMSG_VERSION)
		return KITH_EVERSION;
	if (!type_known(frame[1]))
		return KITH_ETYPE;
	out->type = frame[1];
	out->reqid = (uint32_t)get_be(frame + 2, 4);
	out->payload = frame + SYNCMSG_HDR_LEN;
	out->len = len - SYNCMSG_HDR_LEN;
	return 0;
}

/* A node name: UTF-8 with no control characters (C0, DEL or C1). */
static int
name_ok(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0))
			return 0;
	return codec_utf8_valid(p, n);
}

int
syncmsg_hello_parse(const struct syncmsg *m, struct syncmsg_hello *out)
{
	const uint8_t *p = m->payload;
	size_t fixed, nlen;

	memset(out, 0, sizeof(*out));
	/*
	 * HELLO: network, flags, key, clock, port; WELCOME: network, record
	 * count, clock.
	 */
	fixed = KITH_NETWORK_LEN + (m->type == SYNCMSG_WELCOME ? 8 + 8 :
	    1 + KITH_KEY_LEN + 8 + 2);
	if (m->len < fixed + 1)
		return KITH_ETRUNC;
	memcpy(out->network, p, KITH_NETWORK_LEN);
	if (m->type == SYNCMSG_WELCOME) {
		out->records = get_be(p + KITH_NETWORK_LEN, 8);
		out->clock_ms = get_be(p + KITH_NETWORK_LEN + 8, 8);
	} else {
		out->flags = p[KITH_NETWORK_LEN];
		memcpy(out->key, p + KITH_NETWORK_LEN + 1, KITH_KEY_LEN);
		out->clock_ms = get_be(p + KITH_NETWORK_LEN + 1 +
		    KITH_KEY_LEN, 8);
		out->port = (uint16_t)get_be(p + KITH_NETWORK_LEN + 1 +
		    KITH_KEY_LEN + 8, 2);
	}
	nlen = p[fixed];
	if (nlen > SYNCMSG_NAME_MAX)
		return KITH_ETOOBIG;
	if (m->len < fixed + 1 + nlen)
		return KITH_ETRUNC;
	if (m->len > fixed + 1 + nlen)
		return KITH_ETRAILING;
	if (!name_ok(p + fixed + 1, nlen))
		return KITH_EINVAL;
	memcpy(out->name, p + fixed + 1, nlen);
	return 0;
}

static void
get_bound(const uint8_t *p, struct syncmsg_bound *b)
{

	b->hlc = get_be(p, 8);
	memcpy(b->id, p + 8, KITH_ID_LEN);
}

int
syncmsg_bound_cmp(const struct syncmsg_bound *a,
    const struct syncmsg_bound *b)
{

	if (a->hlc != b->hlc)
		return a->hlc < b->hlc ? -1 : 1;
	return memcmp(a->id, b->id, KITH_ID_LEN);
}

int
syncmsg_pull_parse(const struct syncmsg *m, struct syncmsg_bound *lo,
    struct syncmsg_bound *hi)
{

	if (m->len < 2 * BOUND_LEN)
		return KITH_ETRUNC;
	if (m->len > 2 * BOUND_LEN)
		return KITH_ETRAILING;
	get_bound(m->payload, lo);
	get_bound(m->payload + BOUND_LEN, hi);
	return syncmsg_bound_cmp(lo, hi) < 0 ? 0 : KITH_ERANGE;
}

int
syncmsg_get_parse(const struct syncmsg *m, const uint8_t **ids, size_t *n)
{

	if (m->len == 0 || m->len % KITH_ID_LEN != 0)
		return KITH_ETRUNC;
	if (m->len / KITH_ID_LEN > SYNCMSG_GET_MAX)
		return KITH_ETOOBIG;
	*ids = m->payload;
	*n = m->len / KITH_ID_LEN;
	return 0;
}

int
syncmsg_pushed_parse(const struct syncmsg *m, uint32_t *added,
    uint32_t *duplicate, uint32_t *rejected)
{

	if (m->len < 12)
		return KITH_ETRUNC;
	if (m->len > 12)
		return KITH_ETRAILING;
	*added = (uint32_t)get_be(m->payload, 4);
	*duplicate = (uint32_t)get_be(m->payload + 4, 4);
	*rejected = (uint32_t)get_be(m->payload + 8, 4);
	return 0;
}

int
syncmsg_error_parse(const struct syncmsg *m, int *code, char *text,
    size_t size)
{
	size_t n, i;

	if (m->len < 2)
		return KITH_ETRUNC;
	n = m->len - 2;
	if (n > SYNCMSG_TEXT_MAX)
		return KITH_ETOOBIG;
	*code = -(int)get_be(m->payload, 2);
	if (*code >= 0 || *code < KITH_ELAST)
		*code = KITH_EPEER;	/* not a code we know: still an error */
	if (size == 0)
		return 0;
	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n; i++) {
		uint8_t c = m->payload[2 + i];

		/* ASCII only: a peer's bytes never reach a terminal raw. */
		text[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	text[n] = '\0';
	return 0;
}

int
syncmsg_records_start(const struct syncmsg *m, struct syncmsg_records *it)
{

	memset(it, 0, sizeof(*it));
	it->p = m->payload;
	it->len = m->len;
	if (m->type != SYNCMSG_RECORDS)
		return 0;
	if (it->len < 1)
		return KITH_ETRUNC;
	it->flags = it->p[0];
	it->off = 1;
	if (it->flags & ~(SYNCMSG_MORE | SYNCMSG_RESUME))
		return KITH_ETYPE;
	if (it->flags & SYNCMSG_RESUME) {
		if (it->len < 1 + BOUND_LEN)
			return KITH_ETRUNC;
		get_bound(it->p + 1, &it->resume);
		it->off += BOUND_LEN;
	}
	return 0;
}

int
syncmsg_records_next(struct syncmsg_records *it, struct record **out)
{
	const uint8_t *sh, *body = NULL;
	size_t shlen, blen;

	*out = NULL;
	if (it->off == it->len)
		return 1;
	if (it->len - it->off < 2)
		return KITH_ETRUNC;
	shlen = (size_t)get_be(it->p + it->off, 2);
	it->off += 2;
	if (shlen > KITH_SIGNED_MAX)
		return KITH_ETOOBIG;
	if (it->len - it->off < shlen + 2)
		return KITH_ETRUNC;
	sh = it->p + it->off;
	it->off += shlen;
	blen = (size_t)get_be(it->p + it->off, 2);
	it->off += 2;
	if (blen != SYNCMSG_NOBODY) {
		if (blen > KITH_BODY_MAX)
			return KITH_ETOOBIG;
		if (it->len - it->off < blen)
			return KITH_ETRUNC;
		body = it->p + it->off;
		it->off += blen;
	} else {
		blen = 0;
	}
	return record_decode(sh, shlen, body, blen, out);
}

void
syncmsg_put(struct syncmsg_buf *b, const void *p, size_t n)
{
	uint8_t *np;
	size_t cap;

	if (b->err != 0 || n == 0)
		return;
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->err = KITH_ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
syncmsg_begin(struct syncmsg_buf *b, uint8_t type, uint32_t reqid)
{
	uint8_t h[SYNCMSG_HDR_LEN] = { SYNCMSG_VERSION, type };

	put_be(h + 2, reqid, 4);
	syncmsg_buf_reset(b);
	syncmsg_put(b, h, sizeof(h));
}

void
syncmsg_put_u32(struct syncmsg_buf *b, uint32_t v)
{
	uint8_t p[4];

	put_be(p, v, 4);
	syncmsg_put(b, p, 4);
}

void
syncmsg_put_hello(struct syncmsg_buf *b, const struct syncmsg_hello *hello,
    int welcome)
{
	uint8_t n[8];
	size_t nlen = strlen(hello->name);

	if (nlen > SYNCMSG_NAME_MAX)
		nlen = SYNCMSG_NAME_MAX;
	syncmsg_put(b, hello->network, KITH_NETWORK_LEN);
	if (welcome) {
		put_be(n, hello->records, 8);
		syncmsg_put(b, n, 8);
	} else {
		syncmsg_put(b, &hello->flags, 1);
		syncmsg_put(b, hello->key, KITH_KEY_LEN);
	}
	put_be(n, hello->clock_ms, 8);
	syncmsg_put(b, n, 8);
	if (!welcome) {
		put_be(n, hello->port, 2);
		syncmsg_put(b, n, 2);
	}
	n[0] = (uint8_t)nlen;
	syncmsg_put(b, n, 1);
	syncmsg_put(b, hello->name, nlen);
}

void
syncmsg_put_bound(struct syncmsg_buf *b, const struct syncmsg_bound *bound)
{
	uint8_t p[8];

	put_be(p, bound->hlc, 8);
	syncmsg_put(b, p, 8);
	syncmsg_put(b, bound->id, KITH_ID_LEN);
}

void
syncmsg_put_error(struct syncmsg_buf *b, int code, const char *text)
{
	uint8_t p[2];
	size_t n = strlen(text);

	put_be(p, (uint64_t)-code, 2);
	syncmsg_put(b, p, 2);
	syncmsg_put(b, text, n > SYNCMSG_TEXT_MAX ? SYNCMSG_TEXT_MAX : n);
}

size_t
syncmsg_entry_len(const struct record *rec)
{
	size_t shlen, blen = 0;

	(void)record_signed(rec, &shlen);
	(void)record_body(rec, &blen);
	return 4 + shlen + blen;
}

void
syncmsg_put_record(struct syncmsg_buf *b, const struct record *rec)
{
	const uint8_t *sh, *body;
	uint8_t p[2];
	size_t shlen, blen = 0;

	sh = record_signed(rec, &shlen);
	body = record_body(rec, &blen);
	put_be(p, shlen, 2);
	syncmsg_put(b, p, 2);
	syncmsg_put(b, sh, shlen);
	put_be(p, body != NULL ? blen : SYNCMSG_NOBODY, 2);
	syncmsg_put(b, p, 2);
	if (body != NULL)
		syncmsg_put(b, body, blen);
}

void
syncmsg_buf_reset(struct syncmsg_buf *b)
{

	b->len = 0;
	b->err = 0;
}

void
syncmsg_buf_free(struct syncmsg_buf *b)
{

	free(b->p);
	memset(b, 0, sizeof(*b));
}

#define RECORDS_AT	(SYNCMSG_HDR_LEN + 1 + BOUND_LEN)	/* first entry */

void
syncmsg_records_begin(struct syncmsg_buf *b, uint32_t reqid)
{
	uint8_t room[1 + BOUND_LEN] = { 0 };

	syncmsg_begin(b, SYNCMSG_RECORDS, reqid);
	syncmsg_put(b, room, sizeof(room));
}

size_t
syncmsg_records_len(const struct syncmsg_buf *b)
{

	return b->len > RECORDS_AT ? b->len - RECORDS_AT : 0;
}

void
syncmsg_records_finish(struct syncmsg_buf *b, uint8_t flags,
    const struct syncmsg_bound *resume)
{

	if (b->err != 0 || b->len < RECORDS_AT)
		return;
	b->p[SYNCMSG_HDR_LEN] = flags;
	if (flags & SYNCMSG_RESUME) {
		put_be(b->p + SYNCMSG_HDR_LEN + 1, resume->hlc, 8);
		memcpy(b->p + SYNCMSG_HDR_LEN + 1 + 8, resume->id,
		    KITH_ID_LEN);
	} else {
		memmove(b->p + SYNCMSG_HDR_LEN + 1, b->p + RECORDS_AT,
		    b->len - RECORDS_AT);
		b->len -= BOUND_LEN;
	}
}
