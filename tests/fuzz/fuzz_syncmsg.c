/*
 * Fuzz the sync frame parsers: the input is one frame, as a peer would
 * send it.  Whatever parses is built again with the syncmsg_put_* calls
 * and must give back the input bytes (every accepted encoding is the
 * canonical one), and each parser keeps its documented limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "kith.h"
#include "record.h"
#include "syncmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless ${b} holds exactly the ${n} bytes at ${p}. */
static void
same_bytes(const struct syncmsg_buf *b, const uint8_t *p, size_t n)
{

	if (b->err != 0)
		return;		/* out of memory proves nothing */
	if (b->len != n || memcmp(b->p, p, n) != 0)
		abort();
}

static void
check_hello(const struct syncmsg *m, const uint8_t *frame,
    struct syncmsg_buf *b)
{
	static const uint8_t zero[KITH_KEY_LEN];
	struct syncmsg_hello h;
	size_t fixed, nlen, i;
	int welcome = m->type == SYNCMSG_WELCOME;
	int rc;

	rc = syncmsg_hello_parse(m, &h);
	if (rc != 0) {
		if (rc != KITH_ETRUNC && rc != KITH_ETRAILING &&
		    rc != KITH_ETOOBIG && rc != KITH_EINVAL)
			abort();
		return;
	}
	fixed = KITH_NETWORK_LEN + (welcome ? 8 + 8 : 1 + KITH_KEY_LEN + 8 + 2);
	if (memchr(h.name, '\0', sizeof(h.name)) == NULL)
		abort();
	nlen = strlen(h.name);
	if (nlen > SYNCMSG_NAME_MAX || m->len != fixed + 1 + nlen ||
	    m->payload[fixed] != nlen)
		abort();
	for (i = 0; i < nlen; i++)
		if ((uint8_t)h.name[i] < 0x20 || h.name[i] == 0x7f)
			abort();
	if (!codec_utf8_valid(h.name, nlen))
		abort();
	/* A WELCOME has no flags, key or port; a HELLO no count. */
	if (welcome ? h.flags != 0 || h.port != 0 ||
	    memcmp(h.key, zero, KITH_KEY_LEN) != 0 :
	    h.records != 0 || memcmp(h.key, m->payload + KITH_NETWORK_LEN + 1,
	    KITH_KEY_LEN) != 0)
		abort();
	syncmsg_begin(b, m->type, m->reqid);
	syncmsg_put_hello(b, &h, welcome);
	same_bytes(b, frame, SYNCMSG_HDR_LEN + m->len);
}

static void
check_pull(const struct syncmsg *m, const uint8_t *frame,
    struct syncmsg_buf *b)
{
	struct syncmsg_bound lo, hi;
	int rc;

	rc = syncmsg_pull_parse(m, &lo, &hi);
	if (m->len < 80 ? rc != KITH_ETRUNC : m->len > 80 ?
	    rc != KITH_ETRAILING : rc != 0 && rc != KITH_ERANGE)
		abort();
	if (rc != 0)
		return;
	if (syncmsg_bound_cmp(&lo, &hi) >= 0 ||
	    syncmsg_bound_cmp(&hi, &lo) <= 0)
		abort();
	syncmsg_begin(b, m->type, m->reqid);
	syncmsg_put_bound(b, &lo);
	syncmsg_put_bound(b, &hi);
	same_bytes(b, frame, SYNCMSG_HDR_LEN + m->len);
}

static void
check_get(const struct syncmsg *m)
{
	const uint8_t *ids = NULL;
	size_t n = 0;
	int rc;

	rc = syncmsg_get_parse(m, &ids, &n);
	if (rc != 0) {
		if (rc != KITH_ETRUNC && rc != KITH_ETOOBIG)
			abort();
		if (rc == KITH_ETRUNC && m->len != 0 &&
		    m->len % KITH_ID_LEN == 0)
			abort();
		return;
	}
	if (ids != m->payload || n == 0 || n > SYNCMSG_GET_MAX ||
	    n * KITH_ID_LEN != m->len)
		abort();
}

static void
check_pushed(const struct syncmsg *m, const uint8_t *frame,
    struct syncmsg_buf *b)
{
	uint32_t a, d, r;
	int rc;

	rc = syncmsg_pushed_parse(m, &a, &d, &r);
	if (m->len < 12 ? rc != KITH_ETRUNC : m->len > 12 ?
	    rc != KITH_ETRAILING : rc != 0)
		abort();
	if (rc != 0)
		return;
	syncmsg_begin(b, m->type, m->reqid);
	syncmsg_put_u32(b, a);
	syncmsg_put_u32(b, d);
	syncmsg_put_u32(b, r);
	same_bytes(b, frame, SYNCMSG_HDR_LEN + m->len);
}

static void
check_error(const struct syncmsg *m, const uint8_t *frame,
    struct syncmsg_buf *b)
{
	char text[SYNCMSG_TEXT_MAX + 1], small[8];
	size_t n, i;
	int code, code2, clean = 1, rc;

	rc = syncmsg_error_parse(m, &code, text, sizeof(text));
	if (rc != 0) {
		if (rc != KITH_ETRUNC && rc != KITH_ETOOBIG)
			abort();
		if ((rc == KITH_ETRUNC) != (m->len < 2))
			abort();
		return;
	}
	/* Always an error we know: unknown codes read as KITH_EPEER. */
	if (code >= 0 || code < KITH_ELAST)
		abort();
	if (memchr(text, '\0', sizeof(text)) == NULL)
		abort();
	n = strlen(text);
	if (n != m->len - 2)
		abort();
	for (i = 0; i < n; i++) {
		uint8_t c = m->payload[2 + i];

		if (c < 0x20 || c >= 0x7f) {
			clean = 0;
			if (text[i] != '?')
				abort();
		} else if ((uint8_t)text[i] != c) {
			abort();
		}
	}
	/* A short buffer gets a NUL-terminated prefix of the same text. */
	if (syncmsg_error_parse(m, &code2, small, sizeof(small)) != 0 ||
	    code2 != code || memchr(small, '\0', sizeof(small)) == NULL ||
	    strncmp(small, text, sizeof(small) - 1) != 0)
		abort();
	if (syncmsg_error_parse(m, &code2, NULL, 0) != 0 || code2 != code)
		abort();
	/* Printable ASCII text with a known code is sent back as it came. */
	if (clean && code == -(int)(m->payload[0] << 8 | m->payload[1])) {
		syncmsg_begin(b, m->type, m->reqid);
		syncmsg_put_error(b, code, text);
		same_bytes(b, frame, SYNCMSG_HDR_LEN + m->len);
	}
}

/* A record_decode error, or one of syncmsg_records_next's own. */
static int
entry_error(int rc)
{

	switch (rc) {
	case KITH_ETRUNC: case KITH_ETOOBIG: case KITH_ETRAILING:
	case KITH_ETYPE: case KITH_EVERSION: case KITH_ENONCANON:
	case KITH_ERANGE: case KITH_EGENESIS: case KITH_EBODYLEN:
	case KITH_EBODYHASH: case KITH_ENOMEM:
		return 1;
	}
	return 0;
}

static void
check_records(const struct syncmsg *m, const uint8_t *frame,
    struct syncmsg_buf *b)
{
	struct syncmsg_records it;
	struct record *rec;
	size_t before;
	int rc;

	rc = syncmsg_records_start(m, &it);
	if (rc != 0) {
		if (m->type != SYNCMSG_RECORDS ||
		    (rc != KITH_ETRUNC && rc != KITH_ETYPE))
			abort();
		return;
	}
	if (m->type == SYNCMSG_PUSH ? it.flags != 0 || it.off != 0 :
	    it.flags & ~(SYNCMSG_MORE | SYNCMSG_RESUME))
		abort();
	/* Rebuild the frame up to the entries, then entry by entry. */
	syncmsg_begin(b, m->type, m->reqid);
	if (m->type == SYNCMSG_RECORDS) {
		syncmsg_put(b, &it.flags, 1);
		if (it.flags & SYNCMSG_RESUME)
			syncmsg_put_bound(b, &it.resume);
	}
	same_bytes(b, frame, SYNCMSG_HDR_LEN + it.off);
	for (;;) {
		if (it.off > it.len)
			abort();
		before = it.off;
		rc = syncmsg_records_next(&it, &rec);
		if (rc != 0) {
			if (rec != NULL)
				abort();
			if (rc == 1 ? before != it.len : !entry_error(rc))
				abort();
			break;
		}
		if (rec == NULL || it.off <= before ||
		    syncmsg_entry_len(rec) != it.off - before)
			abort();
		syncmsg_put_record(b, rec);
		record_free(rec);
		same_bytes(b, frame, SYNCMSG_HDR_LEN + it.off);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct syncmsg_buf b = { NULL, 0, 0, 0 };
	struct syncmsg m;
	int rc;

	rc = syncmsg_parse(data, size, &m);
	if (rc != 0) {
		if (size < SYNCMSG_HDR_LEN ? rc != KITH_ETRUNC :
		    size > SYNCMSG_FRAME_MAX ? rc != KITH_ETOOBIG :
		    data[0] != SYNCMSG_VERSION ? rc != KITH_EVERSION :
		    rc != KITH_ETYPE)
			abort();
		return 0;
	}
	if (size < SYNCMSG_HDR_LEN || data[0] != SYNCMSG_VERSION ||
	    m.type != data[1] || m.payload != data + SYNCMSG_HDR_LEN ||
	    m.len != size - SYNCMSG_HDR_LEN ||
	    m.reqid != ((uint32_t)data[2] << 24 | (uint32_t)data[3] << 16 |
	    (uint32_t)data[4] << 8 | data[5]))
		abort();
	switch (m.type) {
	case SYNCMSG_HELLO:
	case SYNCMSG_WELCOME:
		check_hello(&m, data, &b);
		break;
	case SYNCMSG_PULL:
		check_pull(&m, data, &b);
		break;
	case SYNCMSG_GET:
		check_get(&m);
		break;
	case SYNCMSG_PUSHED:
		check_pushed(&m, data, &b);
		break;
	case SYNCMSG_ERROR:
		check_error(&m, data, &b);
		break;
	case SYNCMSG_RECORDS:
	case SYNCMSG_PUSH:
		check_records(&m, data, &b);
		break;
	default:
		/* RECON, RECON_REPLY and BYE have no parser here. */
		break;
	}
	syncmsg_buf_free(&b);
	return 0;
}
