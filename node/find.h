#ifndef FIND_H
#define FIND_H

/*
 * find: the blind index.  A person is found by name, phone or NHS number
 * among the personal fields this node may open, without those fields
 * ever being kept in the clear: the store holds keyed hashes
 * (kcrypto_blind, a key derived from the node key) of each name word and
 * number, and each hit is checked against the entity's current sealed
 * section, opened, before it is given.
 *
 * Folding, so that a name is found however it is typed: a name is cut
 * into words at spaces, hyphens and other punctuation (an apostrophe
 * joins: O'Brien is "obrien"); ASCII letters are lower-cased; Latin-1 and
 * Latin Extended-A letters lose case and accents (Ł/ł to l, Ą/ą to a,
 * Ş/ş to s, ß to ss, Æ to ae, Œ to oe), and so do Romanian Ș/ș and Ț/ț
 * (Latin Extended-B); Cyrillic capitals are lower-cased; combining accents
 * (U+0300-U+036F) are dropped.  Every other letter (Arabic script for
 * Pashto, say) is kept as it is, unfolded.  A phone number keeps its
 * digits only; a UK number written +44 or 0044 is written 0 (and "(0)"
 * after +44 is dropped); another country's keeps its +.  An NHS number is
 * its 10 digits.
 */

#include <stddef.h>
#include <stdint.h>

struct actor;
struct body;
struct state;

#define FIND_TOKEN_MAX	64	/* bytes of a folded name word, at most */
#define FIND_TOKENS_MAX	16	/* words of a name indexed, at most */
#define FIND_QUERY_MIN	2	/* characters of a query, at least */
#define FIND_PHONE_MAX	16	/* "+" and up to 15 digits (E.164) */

/**
 * find_name_words(name, len, out, max):
 * Cut the ${len} bytes of UTF-8 at ${name} into folded words (above), at
 * most ${max} of them, into ${out}; a word longer than FIND_TOKEN_MAX is
 * cut at a character's end.  Return how many.
 */
size_t find_name_words(const char *name, size_t len,
    char (*out)[FIND_TOKEN_MAX + 1], size_t max);

/**
 * find_phone(in, len, out):
 * Write the normal form of the phone number in the ${len} bytes at ${in}
 * to ${out} (FIND_PHONE_MAX + 1 bytes).  Return 0, or KITH_EINVAL if it is
 * not a phone number: digits with spaces, hyphens, dots, slashes or
 * brackets, a + in front, 6 to 15 digits.
 */
int find_phone(const char *in, size_t len, char out[FIND_PHONE_MAX + 1]);

/**
 * find_nhs(in, len, out):
 * Write the 10 digits of the NHS number in the ${len} bytes at ${in}
 * (spaces and hyphens allowed between them) to ${out}.  Return 0, or
 * KITH_EINVAL.  The check digit is not checked: field.c did, on entry.
 */
int find_nhs(const char *in, size_t len, char out[11]);

/**
 * find_update(a, n):
 * Bring the store's blind index up to date with what it holds, as ${a}'s
 * node (which must hold its key) can open: from the change log since the
 * index's mark, the entities noted dirty, or, if it was never built or
 * the log no longer reaches back, every request, volunteer and referral.
 * ${*n} gets the entities looked at.  Return 0, KITH_EINVAL on a
 * read-only store, or another error with ${a}->why.
 */
int find_update(struct actor *a, size_t *n);

/*
 * A hit: entity ${s}, whose personal fields ${opened} matched; both
 * borrowed for the call.  Non-zero stops.
 */
typedef int find_hit_fn(void *arg, const struct state *s,
    const struct body *opened);

/**
 * find_search(a, text, kind, limit, fn, arg, n):
 * Find the requests, volunteers and referrals (only those of ${kind}, if
 * not 0) whose personal fields, as ${a}'s node opens them, match ${text}:
 * a phone number (any spacing, +44 or 0), an NHS number, or words each of
 * which is a word of the name.  Call ${fn} for each, the most recently
 * changed first, at most ${limit} (0: all); ${*n} gets the number given.
 * The index is brought up to date first if the store is writable; from a
 * read-only store, what the index has not taken in yet is opened and
 * compared directly.  Erased entities and those this node cannot open
 * are never given.  Return 0 (even with no hit), KITH_EINVAL with
 * ${a}->why for a query too short or of no words, ${fn}'s non-zero
 * result, or an error.
 */
int find_search(struct actor *a, const char *text, uint64_t kind,
    size_t limit, find_hit_fn *fn, void *arg, size_t *n);

#endif /* !FIND_H */
