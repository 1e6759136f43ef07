#include <string.h>

#include "kith.h"

const char *
kith_strerror(int rc)
{

	switch (rc) {
	case KITH_OK: return "success";
	case KITH_ENOMEM: return "out of memory";
	case KITH_EINVAL: return "invalid argument";
	case KITH_ETRAILING: return "trailing bytes after object";
	case KITH_ETYPE: return "wrong type or shape";
	case KITH_EVERSION: return "unknown protocol version";
	case KITH_ETOOBIG: return "size limit exceeded";
	case KITH_EBODYHASH: return "body hash mismatch";
	case KITH_EBADSIG: return "bad signature";
	case KITH_ETRUNC: return "truncated input";
	case KITH_ENONCANON: return "non-canonical encoding";
	case KITH_ENETWORK: return "record belongs to another network";
	case KITH_EFUTURE: return "timestamp too far in the future";
	case KITH_ENOTFOUND: return "not found";
	case KITH_EEXIST: return "already exists";
	case KITH_ESTORE: return "store error";
	case KITH_EMAPFULL: return "the store reached its size limit (max_size_mb)";
	case KITH_EIO: return "I/O error";
	case KITH_ECORRUPT: return "corrupt data";
	case KITH_EBODYLEN: return "body length mismatch";
	case KITH_ERANGE: return "value out of range";
	case KITH_ECRYPTO: return "crypto library failure";
	case KITH_EBUSY: return "store is busy";
	case KITH_EPROTO: return "peer broke the sync protocol";
	case KITH_ETIMEDOUT: return "peer did not answer in time";
	case KITH_EPEER: return "peer reported an error";
	case KITH_EREVOKED: return "author's key was revoked before this record";
	case KITH_EDENIED: return "not permitted for this key's role";
	case KITH_ESEALED: return "sealed data this node cannot open";
	case KITH_EGENESIS: return "genesis nonce does not derive the entity id";
	case KITH_ENOGENESIS: return "the entity's first record is not held yet";
	case KITH_EFORKED: return "author reused a sequence number at or before this record";
	case KITH_EFULL: return "the entity holds as many records as it may";
	case KITH_EFIELDS: return "too many fields in one body section";
	case KITH_ELIMIT: return "over a per-member limit of the sync server";
	case KITH_ENOSPC: return "the disk holding the store is full";
	case KITH_EUPGRADE: return "the store is in an older format: run kith upgrade";
	case KITH_ENOHOST: return "the host name does not resolve";
	case KITH_ENOLISTEN: return "nothing listens there";
	case KITH_EWRONGKEY: return "the node there holds another key";
	}
	return "unknown error";
}

static const struct {
	int rc;
	const char *name;
} errnames[] = {
	{ KITH_OK, "ok" }, { KITH_ENOMEM, "ENOMEM" }, { KITH_EINVAL, "EINVAL" },
	{ KITH_ETRAILING, "ETRAILING" }, { KITH_ETYPE, "ETYPE" },
	{ KITH_EVERSION, "EVERSION" }, { KITH_ETOOBIG, "ETOOBIG" },
	{ KITH_EBODYHASH, "EBODYHASH" }, { KITH_EBADSIG, "EBADSIG" },
	{ KITH_ETRUNC, "ETRUNC" }, { KITH_ENONCANON, "ENONCANON" },
	{ KITH_ENETWORK, "ENETWORK" }, { KITH_EFUTURE, "EFUTURE" },
	{ KITH_ENOTFOUND, "ENOTFOUND" }, { KITH_EEXIST, "EEXIST" },
	{ KITH_ESTORE, "ESTORE" }, { KITH_EMAPFULL, "EMAPFULL" },
	{ KITH_EIO, "EIO" }, { KITH_ECORRUPT, "ECORRUPT" },
	{ KITH_EBODYLEN, "EBODYLEN" }, { KITH_ERANGE, "ERANGE" },
	{ KITH_ECRYPTO, "ECRYPTO" }, { KITH_EBUSY, "EBUSY" },
	{ KITH_EPROTO, "EPROTO" }, { KITH_ETIMEDOUT, "ETIMEDOUT" },
	{ KITH_EPEER, "EPEER" },
	{ KITH_EREVOKED, "EREVOKED" },
	{ KITH_EDENIED, "EDENIED" },
	{ KITH_ESEALED, "ESEALED" },
	{ KITH_EGENESIS, "EGENESIS" },
	{ KITH_ENOGENESIS, "ENOGENESIS" },
	{ KITH_EFORKED, "EFORKED" },
	{ KITH_EFULL, "EFULL" },
	{ KITH_EFIELDS, "EFIELDS" },
	{ KITH_ELIMIT, "ELIMIT" },
	{ KITH_ENOSPC, "ENOSPC" }, { KITH_EUPGRADE, "EUPGRADE" },
	{ KITH_ENOHOST, "ENOHOST" }, { KITH_ENOLISTEN, "ENOLISTEN" },
	{ KITH_EWRONGKEY, "EWRONGKEY" },
};

const char *
kith_errname(int rc)
{
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].rc == rc)
			return errnames[i].name;
	return NULL;
}

int
kith_errparse(const char *name, int *rc)
{
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (strcmp(errnames[i].name, name) == 0) {
			*rc = errnames[i].rc;
			return 0;
		}
	return KITH_EINVAL;
}

static const struct {
	uint64_t kind;
	const char *name;
} kinds[] = {
	{ KITH_KIND_CHARTER, "charter" },
	{ KITH_KIND_MEMBER, "member" },
	{ KITH_KIND_REVOKE, "revoke" },
	{ KITH_KIND_REQUEST, "request" },
	{ KITH_KIND_VOLUNTEER, "volunteer" },
	{ KITH_KIND_REFERRAL, "referral" },
	{ KITH_KIND_SESSION, "session" },
	{ KITH_KIND_INSIGHT, "insight" },
	{ KITH_KIND_ERASE, "erase" },
};

const char *
kith_kind_name(uint64_t kind)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == kind)
			return kinds[i].name;
	return NULL;
}

int
kith_kind_parse(const char *name, uint64_t *kind)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kinds[i].name, name) == 0) {
			*kind = kinds[i].kind;
			return 0;
		}
	}
	return KITH_EINVAL;
}

void
kith_hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int
nibble(char c)
{

	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
kith_unhex(uint8_t *out, size_t n, const char *hex)
{
	size_t i;
	int hi, lo;

	if (strlen(hex) != 2 * n)
		return KITH_EINVAL;
	for (i = 0; i < n; i++) {
		if ((hi = nibble(hex[2 * i])) < 0 ||
		    (lo = nibble(hex[2 * i + 1])) < 0)
			return KITH_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
