#include <string.h>

#include "record.h"
#include "recfile.h"

static int
put_u32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	return fwrite(b, 1, 4, f) == 4 ? 0 : KITH_EIO;
}

int
recfile_write_start(FILE *f, const uint8_t network[KITH_NETWORK_LEN])
{
	uint8_t ver = RECFILE_VERSION;

	if (fwrite(RECFILE_MAGIC, 1, 8, f) != 8 || fwrite(&ver, 1, 1, f) != 1 ||
	    fwrite(network, 1, KITH_NETWORK_LEN, f) != KITH_NETWORK_LEN)
		return KITH_EIO;
	return 0;
}

int
recfile_write(FILE *f, const struct record *rec)
{
	const uint8_t *sh, *body;
	size_t shlen, blen;

	sh = record_signed(rec, &shlen);
	body = record_body(rec, &blen);
	if (put_u32(f, (uint32_t)shlen) != 0 ||
	    fwrite(sh, 1, shlen, f) != shlen ||
	    put_u32(f, body ? (uint32_t)blen : RECFILE_NOBODY) != 0 ||
	    (body != NULL && fwrite(body, 1, blen, f) != blen))
		return KITH_EIO;
	return 0;
}

/* Read exactly ${n} bytes: 0, 1 if the file ends before any, or an error. */
static int
get(FILE *f, void *p, size_t n)
{
	size_t got = fread(p, 1, n, f);

	if (got == n)
		return 0;
	if (ferror(f))
		return KITH_EIO;
	return got == 0 ? 1 : KITH_ETRUNC;
}

static int
get_u32(FILE *f, uint32_t *v)
{
	uint8_t b[4];
	int rc;

	if ((rc = get(f, b, 4)) != 0)
		return rc;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	return 0;
}

int
recfile_read_start(FILE *f, uint8_t network[KITH_NETWORK_LEN])
{
	uint8_t head[9];
	int rc;

	if ((rc = get(f, head, sizeof(head))) != 0)
		return rc == 1 ? KITH_ETRUNC : rc;
	if (memcmp(head, RECFILE_MAGIC, 8) != 0)
		return KITH_ETYPE;
	if (head[8] != RECFILE_VERSION)
		return KITH_EVERSION;
	if ((rc = get(f, network, KITH_NETWORK_LEN)) != 0)
		return rc == 1 ? KITH_ETRUNC : rc;
	return 0;
}

int
recfile_read(FILE *f, struct record **out)
{
	uint8_t sh[KITH_SIGNED_MAX], body[KITH_BODY_MAX];
	uint32_t shlen, blen;
	int rc;

	if ((rc = get_u32(f, &shlen)) != 0)
		return rc;	/* 1: a clean end of file */
	if (shlen > KITH_SIGNED_MAX)
		return KITH_ETOOBIG;
	if ((rc = get(f, sh, shlen)) != 0 || (rc = get_u32(f, &blen)) != 0)
		return rc == 1 ? KITH_ETRUNC : rc;
	if (blen != RECFILE_NOBODY && blen > KITH_BODY_MAX)
		return KITH_ETOOBIG;
	if (blen != RECFILE_NOBODY && (rc = get(f, body, blen)) != 0)
		return rc == 1 ? KITH_ETRUNC : rc;
	return record_decode(sh, shlen, blen == RECFILE_NOBODY ? NULL : body,
	    blen == RECFILE_NOBODY ? 0 : blen, out);
}
