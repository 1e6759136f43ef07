/*
 * Fuzz the state, both ways.  An input that is a records file (it starts
 * with the magic "KITHRECS") is a set of records: the roster they make is
 * computed along the chains they hold, and the state of each entity from
 * its records there, without a roster and with that one; neither may
 * depend on the records' order, and a state must decode back as it was
 * encoded.  Any other input is a state encoding: a state that decodes is
 * rebuilt from its accessors with the codec writer; the result must be the
 * input, or the decoder accepted a non-canonical encoding or lost
 * something.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "chain.h"
#include "codec.h"
#include "kith.h"
#include "recfile.h"
#include "record.h"
#include "roster.h"
#include "state.h"

/* Records one input may hold: enough for forks, merges and evidence. */
#define RECS_MAX	64

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

/* Check a decoded state ${s} of the ${size} bytes at ${data}. */
static void
check_state(const struct state *s, const uint8_t *data, size_t size)
{
	const struct state_field *f;
	const uint8_t *enc;
	size_t i, len, conflicts = 0;
	char *str;

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
}

/*
 * Compute the state of the entity whose ${n} records are ${recs}, with
 * ${roster} (NULL: every author has standing), and check it.
 */
static void
check_compute(struct record **recs, size_t n, const struct roster *roster)
{
	const struct record_header *gh;
	const struct record *g;
	struct record *rev[RECS_MAX];
	struct state *s = NULL, *s2 = NULL, *back = NULL;
	const uint8_t *p, *q;
	size_t i, len, len2;
	int rc;

	g = record_genesis(recs, n);
	rc = state_compute(recs, n, roster, &s);
	if (rc == KITH_ENOMEM)
		return;
	/* With no roster, a held genesis is all an entity needs. */
	if (roster == NULL && rc != (g == NULL ? KITH_ENOGENESIS : 0))
		abort();
	if (rc != 0 && rc != KITH_ENOGENESIS && rc != KITH_ENOTFOUND)
		abort();
	if (g != NULL && rc == KITH_ENOGENESIS)
		abort();
	if (rc != 0)
		return;
	if (memcmp(state_entity(s), record_header(recs[0])->entity,
	    KITH_ENTITY_LEN) != 0 || state_nversions(s) > n)
		abort();
	if (g != NULL) {
		/* Kind, creator and creation come from the genesis alone. */
		gh = record_header(g);
		if (state_kind(s) != gh->kind || state_created(s) != gh->hlc ||
		    memcmp(state_creator(s), gh->author, KITH_KEY_LEN) != 0 ||
		    state_nversions(s) == 0)
			abort();
	}
	/* The same records in the reverse order: the same bytes. */
	for (i = 0; i < n; i++)
		rev[i] = recs[n - 1 - i];
	if ((rc = state_compute(rev, n, roster, &s2)) == KITH_ENOMEM)
		goto out;
	p = state_encoded(s, &len);
	q = state_encoded(s2, &len2);
	if (rc != 0 || len != len2 || memcmp(p, q, len) != 0)
		abort();
	/* What was encoded decodes to itself. */
	if ((rc = state_decode(p, len, &back)) == KITH_ENOMEM)
		goto out;
	if (rc != 0)
		abort();
	check_state(back, p, len);
out:
	state_free(s);
	state_free(s2);
	state_free(back);
}

/*
 * Compute the roster of the ${n} records ${recs} along the chains ${src}
 * holds, in the given order and reversed, and check that both agree.
 * Return it, or NULL if there is none (no charter, or out of memory).
 */
static struct roster *
roster_both_ways(struct record **recs, size_t n, const struct chain_src *src)
{
	struct record *rev[RECS_MAX];
	struct roster *r = NULL, *r2 = NULL;
	const struct roster_entry *re;
	size_t i;
	int rc, rc2;

	rc = roster_compute(recs, n, src, &r);
	if (rc != 0 && rc != KITH_ENOTFOUND && rc != KITH_ENOMEM)
		abort();
	for (i = 0; i < n; i++)
		rev[i] = recs[n - 1 - i];
	rc2 = roster_compute(rev, n, src, &r2);
	if (rc == KITH_ENOMEM || rc2 == KITH_ENOMEM)
		goto out;
	if (rc2 != rc)
		abort();
	if (rc != 0)
		goto out;
	if (roster_size(r) != roster_size(r2))
		abort();
	for (i = 0; i < roster_size(r); i++) {
		re = roster_get(r, i);
		if (roster_changed(r, r2, re->key))
			abort();
	}
out:
	roster_free(r2);
	if (rc != 0) {
		roster_free(r);
		r = NULL;
	}
	return r;
}

/*
 * Read the records of the records file ${data}[${size}]; compute the
 * state of each entity they hold, without a roster, and with the roster
 * they make if they hold a charter.
 */
static void
from_records(const uint8_t *data, size_t size)
{
	uint8_t network[KITH_NETWORK_LEN];
	struct record *recs[RECS_MAX], *one[RECS_MAX];
	struct roster *roster = NULL;
	struct chain_mem *cm = NULL;
	struct chain_src src;
	const uint8_t *e;
	size_t i, j, k, m, n = 0;
	FILE *in;

	if ((in = fmemopen((void *)(uintptr_t)data, size, "rb")) == NULL)
		return;
	if (recfile_read_start(in, network) == 0)
		while (n < RECS_MAX && recfile_read(in, &recs[n]) == 0)
			n++;
	fclose(in);
	if (n > 0 && (cm = chain_mem_new(recs, n)) != NULL) {
		chain_mem_src(cm, &src);
		roster = roster_both_ways(recs, n, &src);
	}
	for (i = 0; i < n; i++) {
		e = record_header(recs[i])->entity;
		/* Each entity once, at its first record. */
		for (k = 0; k < i && memcmp(record_header(recs[k])->entity, e,
		    KITH_ENTITY_LEN) != 0; k++)
			;
		if (k < i)
			continue;
		for (j = i, m = 0; j < n; j++)
			if (memcmp(record_header(recs[j])->entity, e,
			    KITH_ENTITY_LEN) == 0)
				one[m++] = recs[j];
		check_compute(one, m, NULL);
		if (roster != NULL)
			check_compute(one, m, roster);
	}
	roster_free(roster);
	chain_mem_free(cm);
	for (i = 0; i < n; i++)
		record_free(recs[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state *s = NULL;

	if (size >= 8 && memcmp(data, "KITHRECS", 8) == 0) {
		from_records(data, size);
		return 0;
	}
	if (state_decode(data, size, &s) != 0)
		return 0;
	check_state(s, data, size);
	state_free(s);
	return 0;
}
