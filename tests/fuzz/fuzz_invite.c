/*
 * Fuzz the invite and reply decoders (node/invite.c).  The first byte
 * picks what the rest is: 0 the bytes of an invite, 1 those of a reply
 * (each base64url-encoded behind its prefix, as a line carries them), and
 * anything else a line of text as typed.  A line that decodes has a
 * non-empty name without NUL, a known role, bounded strings and, for an
 * invite, a charter within its cap; it never decodes as both.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "invite.h"
#include "kcrypto.h"
#include "kith.h"
#include "roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct invite *inv)
{

	if (inv->org[0] == '\0' || strlen(inv->org) > INVITE_ORG_MAX ||
	    strlen(inv->peer) > INVITE_PEER_MAX ||
	    (inv->role != ROLE_ADMIN && inv->role != ROLE_MEMBER &&
	    inv->role != ROLE_PCN && inv->role != ROLE_OBSERVER) ||
	    inv->clen > INVITE_CHARTER_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct invite inv, rep;
	char *text;
	int a, b;

	if (!init) {
		if (kcrypto_init() != 0)
			abort();
		init = 1;
	}
	if (size < 1 || size > INVITE_CHARTER_MAX)
		return 0;
	if ((text = malloc(16 + kcrypto_base64_len(size))) == NULL)
		return 0;
	if (data[0] == 0 || data[0] == 1) {
		strcpy(text, data[0] == 0 ? "kith-invite:" : "kith-reply:");
		kcrypto_base64(text + strlen(text), kcrypto_base64_len(size - 1),
		    data + 1, size - 1);
	} else {
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
	}
	a = invite_parse(text, &inv);
	b = invite_parse_reply(text, &rep);
	if (a == 0)
		check(&inv);
	if (b == 0)
		check(&rep);
	if (a == 0 && b == 0)
		abort();
	invite_clear(&inv);
	invite_clear(&rep);
	free(text);
	return 0;
}
