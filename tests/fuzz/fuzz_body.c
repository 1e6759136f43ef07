/*
 * Fuzz the body decoder.  body_decode accepts only what body_encode
 * produces, so a body that decodes must re-encode to the same bytes, a
 * sealed section ("s") included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "codec.h"
#include "kith.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct body_field *f;
	struct body *b = NULL;
	uint8_t *enc = NULL;
	size_t i, n, len;
	int rc;

	if ((rc = body_decode(data, size, &b)) != 0)
		return 0;
	n = body_nfields(b);
	if (n > 2 * KITH_FIELDS_MAX)
		abort();
	for (i = 0; i < n; i++) {
		f = body_field(b, i);
		if (f == NULL || !body_name_ok(f->name, strlen(f->name)) ||
		    body_get(b, f->name) != f)
			abort();
		if (f->v.type == CODEC_STR && (f->v.len > KITH_VALUE_MAX ||
		    !codec_utf8_valid(f->v.s, f->v.len)))
			abort();
		/* Personal fields sort last, each section by name. */
		if (i > 0 && (body_field(b, i - 1)->personal > f->personal ||
		    (body_field(b, i - 1)->personal == f->personal &&
		    strcmp(body_field(b, i - 1)->name, f->name) >= 0)))
			abort();
	}
	if (body_field(b, n) != NULL)
		abort();
	/* A sealed section excludes clear personal fields. */
	if (body_sealed(b, &len) != NULL && n > 0 &&
	    body_field(b, n - 1)->personal)
		abort();
	if ((rc = body_encode(b, &enc, &len)) == 0 &&
	    (len != size || memcmp(enc, data, size) != 0))
		abort();
	if (rc != 0 && rc != KITH_ENOMEM)
		abort();
	free(enc);
	body_free(b);
	return 0;
}
