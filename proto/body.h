#ifndef BODY_H
#define BODY_H

/*
 * A record body: a canonical msgpack map with up to two sections, "f" for
 * coarse fields anyone may read and "p" for personal fields (names, contact
 * details, notes) that a later protocol revision seals.  Each section maps a
 * field name to a string, an integer or nil (nil clears the field).
 */

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "kith.h"

struct body;

struct body_field {
	char name[KITH_NAME_MAX + 1];
	int personal;			/* 1 if in the "p" section */
	struct codec_value v;		/* strings owned by the body */
};

/**
 * body_new():
 * Return an empty body, or NULL if out of memory.
 */
struct body *body_new(void);

/**
 * body_set(b, name, personal, v):
 * Set field ${name} of ${b} to a copy of ${v}, in the personal section if
 * ${personal}.  Return 0, KITH_EINVAL for a bad name, a string that is not
 * UTF-8, or a name already used in the other section, KITH_ETOOBIG for a long value or too many fields, or
 * KITH_ENOMEM.
 */
int body_set(struct body *b, const char *name, int personal,
    const struct codec_value *v);

/**
 * body_set_str(b, name, personal, s):
 * body_set with the NUL-terminated string ${s}.
 */
int body_set_str(struct body *b, const char *name, int personal,
    const char *s);

/**
 * body_set_int(b, name, personal, i):
 * body_set with the integer ${i}.
 */
int body_set_int(struct body *b, const char *name, int personal, int64_t i);

/**
 * body_encode(b, out, len):
 * Encode ${b} canonically into a new buffer ${*out} (the caller frees it) of
 * ${*len} bytes.  Return 0 or KITH_ENOMEM.
 */
int body_encode(const struct body *b, uint8_t **out, size_t *len);

/**
 * body_decode(p, n, out):
 * Parse the ${n}-byte body at ${p} into a new body ${*out}, which the caller
 * frees.  Rejects anything body_encode would not produce.  Return 0,
 * KITH_ETOOBIG, KITH_ETRUNC, KITH_ETRAILING, KITH_ETYPE, KITH_ENONCANON,
 * KITH_EINVAL (bad field name) or KITH_ENOMEM.
 */
int body_decode(const uint8_t *p, size_t n, struct body **out);

/**
 * body_section_check(p, n):
 * Return 0 if the ${n} bytes at ${p} are exactly one canonical section map,
 * what "p" holds and what a sealed section encrypts: 1 to KITH_FIELDS_MAX
 * fields, names ascending.  Else the code body_decode would give for that
 * section (KITH_ETRAILING for bytes after it), or KITH_ENOMEM.
 */
int body_section_check(const uint8_t *p, size_t n);

/**
 * body_nfields(b), body_field(b, i):
 * The fields of ${b}, personal section last, each sorted by name; the
 * returned field is borrowed until ${b} changes or is freed.
 */
size_t body_nfields(const struct body *b);
const struct body_field *body_field(const struct body *b, size_t i);

/**
 * body_get(b, name):
 * Return ${b}'s field called ${name}, or NULL; borrowed.
 */
const struct body_field *body_get(const struct body *b, const char *name);

/**
 * body_name_ok(name, len):
 * Return 1 if ${len} bytes at ${name} form a valid field name: 1 to
 * KITH_NAME_MAX of [a-z0-9_].
 */
int body_name_ok(const char *name, size_t len);

/**
 * body_free(b):
 * Free ${b}; nothing if NULL.
 */
void body_free(struct body *b);

#endif
