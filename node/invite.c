/*
 * Invitations: the invite and reply lines (invite.h).
 */

#include <stdlib.h>
#include <string.h>

#include "invite.h"
#include "kcrypto.h"
#include "roster.h"

#define GRANT_MAX	(16 + 8 + 1 + 1 + INVITE_ORG_MAX + 2 + \
			    INVITE_PEER_MAX + KITH_KEY_LEN + 32)

static const char invite_prefix[] = "kith-invite:";
static const char reply_prefix[] = "kith-reply:";
static const uint8_t sig_context[] = "kith invite v1";
static const uint8_t reply_context[] = "kith reply v1";

static void
put_be(uint8_t *p, uint64_t v, int n)
{

	while (n-- > 0) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

/* ${inv}'s grant into ${g} (GRANT_MAX bytes); return its length. */
static size_t
grant(const struct invite *inv, uint8_t *g)
{
	size_t olen = strlen(inv->org), plen = strlen(inv->peer), n = 0;

	memcpy(g, inv->nonce, 16);
	put_be(g + 16, inv->expires, 8);
	g[24] = (uint8_t)inv->role;
	g[25] = (uint8_t)olen;
	memcpy(g + 26, inv->org, olen);
	n = 26 + olen;
	put_be(g + n, plen, 2);
	memcpy(g + n + 2, inv->peer, plen);
	n += 2 + plen;
	memcpy(g + n, inv->by, KITH_KEY_LEN);
	memcpy(g + n + KITH_KEY_LEN, inv->chash, 32);
	return n + KITH_KEY_LEN + 32;
}

/*
 * Decode a grant from the ${n} bytes at ${p} into ${inv}; return its
 * length, or 0 if it is not one.
 */
static size_t
grant_parse(const uint8_t *p, size_t n, struct invite *inv)
{
	size_t olen, plen, i;

	if (n < 26)
		return 0;
	memcpy(inv->nonce, p, 16);
	inv->expires = get_be(p + 16, 8);
	inv->role = p[24];
	olen = p[25];
	if (olen == 0 || olen > INVITE_ORG_MAX || n < 26 + olen + 2)
		return 0;
	memcpy(inv->org, p + 26, olen);
	inv->org[olen] = '\0';
	plen = get_be(p + 26 + olen, 2);
	if (plen > INVITE_PEER_MAX || n < 28 + olen + plen + KITH_KEY_LEN + 32)
		return 0;
	memcpy(inv->peer, p + 28 + olen, plen);
	inv->peer[plen] = '\0';
	/* No NUL inside the strings: they are C strings from here on. */
	for (i = 0; i < olen; i++)
		if (inv->org[i] == '\0')
			return 0;
	for (i = 0; i < plen; i++)
		if (inv->peer[i] == '\0')
			return 0;
	if (inv->role != ROLE_ADMIN && inv->role != ROLE_MEMBER &&
	    inv->role != ROLE_PCN && inv->role != ROLE_OBSERVER)
		return 0;
	memcpy(inv->by, p + 28 + olen + plen, KITH_KEY_LEN);
	memcpy(inv->chash, p + 28 + olen + plen + KITH_KEY_LEN, 32);
	return 28 + olen + plen + KITH_KEY_LEN + 32;
}

/* "PREFIX" then ${n} bytes at ${p} in base64url, into ${*out}. */
static int
encode(const char *prefix, const uint8_t *p, size_t n, char **out)
{
	size_t plen = strlen(prefix), cap = plen + kcrypto_base64_len(n);

	if ((*out = malloc(cap)) == NULL)
		return KITH_ENOMEM;
	memcpy(*out, prefix, plen);
	kcrypto_base64(*out + plen, cap - plen, p, n);
	return 0;
}

/*
 * The bytes of line ${text} after ${prefix} and ${magic}, decoded into
 * ${*out} (the caller frees it) and ${*n}; KITH_EINVAL if it is none.
 */
static int
decode(const char *text, const char *prefix, const char *magic,
    uint8_t **out, size_t *n)
{
	size_t plen = strlen(prefix), tlen;
	int rc;

	*out = NULL;
	while (*text == ' ' || *text == '\t')
		text++;
	tlen = strcspn(text, " \t\r\n");
	if (tlen < plen || strncmp(text, prefix, plen) != 0 ||
	    tlen > INVITE_TEXT_MAX)
		return KITH_EINVAL;
	if ((*out = malloc(tlen)) == NULL)
		return KITH_ENOMEM;
	if ((rc = kcrypto_unbase64(*out, tlen, text + plen, tlen - plen,
	    n)) != 0 || *n < 5 || memcmp(*out, magic, 4) != 0 ||
	    (*out)[4] != 1) {
		free(*out);
		*out = NULL;
		return rc == KITH_ENOMEM ? rc : KITH_EINVAL;
	}
	return 0;
}

int
invite_make(struct invite *inv, const struct kcrypto_key *admin, char **out)
{
	uint8_t *buf;
	size_t n, g;
	int rc;

	*out = NULL;
	if (strlen(inv->org) == 0 || strlen(inv->org) > INVITE_ORG_MAX ||
	    strlen(inv->peer) > INVITE_PEER_MAX ||
	    inv->clen > INVITE_CHARTER_MAX)
		return KITH_EINVAL;
	kcrypto_random(inv->nonce, sizeof(inv->nonce));
	memcpy(inv->by, kcrypto_key_public(admin), KITH_KEY_LEN);
	kcrypto_hash(inv->chash, inv->charter, inv->clen);
	if ((buf = malloc(5 + GRANT_MAX + 64 + 4 + inv->clen)) == NULL)
		return KITH_ENOMEM;
	memcpy(buf, "KINV\1", 5);
	g = grant(inv, buf + 5);
	kcrypto_sign(inv->sig, admin, sig_context, sizeof(sig_context) - 1,
	    buf + 5, g);
	memcpy(buf + 5 + g, inv->sig, 64);
	n = 5 + g + 64;
	put_be(buf + n, inv->clen, 4);
	memcpy(buf + n + 4, inv->charter, inv->clen);
	rc = encode(invite_prefix, buf, n + 4 + inv->clen, out);
	free(buf);
	return rc;
}

int
invite_parse(const char *text, struct invite *inv)
{
	uint8_t *buf, h[32];
	size_t n, g, clen;
	int rc;

	memset(inv, 0, sizeof(*inv));
	if ((rc = decode(text, invite_prefix, "KINV", &buf, &n)) != 0)
		return rc;
	rc = KITH_EINVAL;
	if ((g = grant_parse(buf + 5, n - 5, inv)) == 0 ||
	    n < 5 + g + 64 + 4)
		goto out;
	memcpy(inv->sig, buf + 5 + g, 64);
	clen = get_be(buf + 5 + g + 64, 4);
	if (clen == 0 || clen > INVITE_CHARTER_MAX ||
	    n != 5 + g + 64 + 4 + clen)
		goto out;
	if ((rc = kcrypto_verify(inv->sig, inv->by, sig_context,
	    sizeof(sig_context) - 1, buf + 5, g)) != 0)
		goto out;
	kcrypto_hash(h, buf + 5 + g + 68, clen);
	if (memcmp(h, inv->chash, 32) != 0) {
		rc = KITH_EBADSIG;
		goto out;
	}
	if ((inv->charter = malloc(clen)) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	memcpy(inv->charter, buf + 5 + g + 68, clen);
	inv->clen = clen;
	rc = 0;
out:
	free(buf);
	return rc;
}

int
invite_reply(const struct invite *inv, const struct kcrypto_key *me,
    char **out)
{
	uint8_t buf[5 + GRANT_MAX + 64 + KITH_KEY_LEN + 64];
	size_t g;

	memcpy(buf, "KREP\1", 5);
	g = grant(inv, buf + 5);
	memcpy(buf + 5 + g, inv->sig, 64);
	memcpy(buf + 5 + g + 64, kcrypto_key_public(me), KITH_KEY_LEN);
	kcrypto_sign(buf + 5 + g + 64 + KITH_KEY_LEN, me, reply_context,
	    sizeof(reply_context) - 1, buf + 5, g + 64 + KITH_KEY_LEN);
	return encode(reply_prefix, buf, 5 + g + 64 + KITH_KEY_LEN + 64, out);
}

int
invite_parse_reply(const char *text, struct invite *inv)
{
	uint8_t *buf;
	size_t n, g;
	int rc;

	memset(inv, 0, sizeof(*inv));
	if ((rc = decode(text, reply_prefix, "KREP", &buf, &n)) != 0)
		return rc;
	rc = KITH_EINVAL;
	if ((g = grant_parse(buf + 5, n - 5, inv)) == 0 ||
	    n != 5 + g + 64 + KITH_KEY_LEN + 64)
		goto out;
	memcpy(inv->sig, buf + 5 + g, 64);
	memcpy(inv->key, buf + 5 + g + 64, KITH_KEY_LEN);
	if ((rc = kcrypto_verify(inv->sig, inv->by, sig_context,
	    sizeof(sig_context) - 1, buf + 5, g)) == 0)
		rc = kcrypto_verify(buf + 5 + g + 64 + KITH_KEY_LEN, inv->key,
		    reply_context, sizeof(reply_context) - 1, buf + 5,
		    g + 64 + KITH_KEY_LEN);
out:
	free(buf);
	return rc;
}

void
invite_clear(struct invite *inv)
{

	free(inv->charter);
	inv->charter = NULL;
	inv->clen = 0;
}
