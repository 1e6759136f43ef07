#ifndef BODY_H
#define BODY_H

/*
 * A record body: a canonical msgpack map with up to two sections, "f" for
 * coarse fields anyone may read and then either "s", the personal fields
 * (names, contact details, notes) sealed to organisations (seal.h), or, in
 * records written before sealing, "p", the personal fields in the clear.
 * "f" and "p" map a field name to a string, an integer or nil (nil clears
 * the field).  A body in memory holds the sealed section as its encoded
 * bytes, or its personal fields opened, never both.
 */

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "kith.h"

struct body;

struct body_field {
	char name[KITH_NAME_MAX + 1];
	int personal;			/* 1 if a personal field */
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
 * ${personal}.  Return 0; KITH_EINVAL for a bad name, a string that is not
 * UTF-8, a name already used in the other section, or a personal field
 * while ${b} holds a sealed section; KITH_ETOOBIG for a long value;
 * KITH_EFIELDS for a field past KITH_FIELDS_MAX in its section; or
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
 * frees.  Rejects anything body_encode would not produce.  A sealed
 * section is checked as seal_decode does and kept sealed.  Return 0,
 * KITH_ETOOBIG, KITH_EFIELDS (a section of more than KITH_FIELDS_MAX
 * fields), KITH_ETRUNC, KITH_ETRAILING, KITH_ETYPE, KITH_ENONCANON,
 * KITH_EINVAL (a bad field name, a bad sealed section, or "p" and "s"
 * together) or KITH_ENOMEM.
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
 * body_set_sealed(b, p, n):
 * Give ${b} a copy of the ${n}-byte sealed section at ${p}, replacing any it
 * had.  Return 0, an error of seal_decode if ${p} is not a sealed section,
 * KITH_EINVAL if ${b} has personal fields, or KITH_ENOMEM.
 */
int body_set_sealed(struct body *b, const uint8_t *p, size_t n);

/**
 * body_sealed(b, n):
 * Return ${b}'s encoded sealed section and set ${*n} to its length, or
 * NULL (and 0) if it has none; borrowed until ${b} changes or is freed.
 */
const uint8_t *body_sealed(const struct body *b, size_t *n);

/**
 * body_seal(b, entity, recipients, n):
 * Move every personal field of ${b}, a body of the record of entity
 * ${entity}, into a new sealed section for the ${n} organisation keys
 * ${recipients} (seal_encrypt).  Return 0, doing nothing if ${b} has no
 * personal fields; or an error of seal_encrypt, leaving ${b} unchanged.
 */
int body_seal(struct body *b, const uint8_t entity[KITH_ENTITY_LEN],
    const uint8_t (*recipients)[32], size_t n);

/**
 * body_unseal(b, entity, pk, sk):
 * Open ${b}'s sealed section with the X25519 pair ${pk}, ${sk} and put its
 * fields back into ${b} as personal fields.  Return 0, doing nothing if
 * ${b} has no sealed section; KITH_ENOMEM; or KITH_ESEALED, leaving ${b}
 * unchanged, if seal_open fails or an opened name is also a field of "f".
 */
int body_unseal(struct body *b, const uint8_t entity[KITH_ENTITY_LEN],
    const uint8_t pk[32], const uint8_t sk[32]);

/**
 * body_nfields(b), body_field(b, i):
 * The fields of ${b}, personal fields last, each part sorted by name; the
 * returned field is borrowed until ${b} changes or is freed.  The fields of
 * a sealed section are not among them until body_unseal.
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
 * Free ${b}; nothing if NULL.  The strings of personal fields (those
 * body_unseal opened, or set as personal) are wiped before they are freed.
 */
void body_free(struct body *b);

#endif
