/*
 * Fuzz the state decoder.  A state that decodes is rebuilt from its
 * accessors with the codec writer; the result must be the input, or the
 * decoder accepted a non-canonical encoding or lost something.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "codec.h"
#include "kith.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encode ${s} from its accessors; return 1 if it gives ${p}[${n}]. */
static int
same_state(const struct state *s, const uint8_t *p, size_t n)
{
	const struct state_field *f;
	struct codec_writer *w;
	const uint8_t *enc;
	size_t i, j, len;
	int same;

	if ((w = codec_writer_new()) == NULL)
		return 1;
	codec_put_array(w, 8);
	codec_put_bin(w, state_entity(s), KITH_ENTITY_LEN);
	codec_put_uint(w, state_kind(s));
	codec_put_uint(w, state_created(s));
	codec_put_bin(w, state_creator(s), KITH_KEY_LEN);
	codec_put_uint(w, state_updated(s));
	codec_put_uint(w, state_nversions(s));
	codec_put_array(w, (uint32_t)state_nheads(s));
	for (i = 0; i < state_nheads(s); i++)
		codec_put_bin(w, state_head(s, i), KITH_ID_LEN);
	codec_put_array(w, (uint32_t)state_nfields(s));
	for (i = 0; i < state_nfields(s); i++) {
		f = state_field(s, i);
		codec_put_array(w, 4);
		codec_put_cstr(w, f->name);
		codec_put_bool(w, f->personal);
		codec_put_value(w, &f->value);
		codec_put_array(w, (uint32_t)f->nalts);
		for (j = 0; j < f->nalts; j++)
			codec_put_value(w, &f->alts[j]);
	}
	if (codec_writer_error(w) != 0) {
		codec_writer_free(w);
		return 1;
	}
	enc = codec_writer_data(w, &len);
	same = len == n && memcmp(enc, p, n) == 0;
	codec_writer_free(w);
	return same;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct state_field *f;
	struct state *s = NULL;
	const uint8_t *enc;
	size_t i, len, conflicts = 0;
	char *str;

	if (state_decode(data, size, &s) != 0)
		return 0;
	enc = state_encoded(s, &len);
	if (len != size || memcmp(enc, data, size) != 0)
		abort();
	if (!same_state(s, data, size))
		abort();
	for (i = 0; i < state_nfields(s); i++) {
		f = state_field(s, i);
		if (!body_name_ok(f->name, strlen(f->name)) ||
		    state_get(s, f->name) != f)
			abort();
		conflicts += f->nalts > 0;
		str = state_str(s, f->name);
		if ((str == NULL) != (f->value.type == CODEC_NIL) &&
		    str != NULL)
			abort();
		free(str);
	}
	if (state_nconflicts(s) != conflicts)
		abort();
	state_free(s);
	return 0;
}
