/*
 * find: the blind index.  Words and numbers are folded (find.h), hashed
 * with the node's blind-index key, and kept by the store (store.h,
 * store_blind_*), which never sees them in the clear.  A hash only says
 * where to look: every candidate is opened and compared before it is
 * given, so a stale or colliding entry costs a look, never a wrong hit.
 */

#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "body.h"
#include "find.h"
#include "kcrypto.h"
#include "kith.h"
#include "record.h"
#include "seal.h"
#include "state.h"
#include "store.h"

/* Hashes of one entity: its name's words, its phone, its NHS number. */
#define ENT_HASHES	(FIND_TOKENS_MAX + 2)

/* Change-log entries taken into the index per update transaction. */
#define LOG_STEP	4096

/* Updates refused because another process moved the index, retried. */
#define RETRIES		8

/* Domain tags of a hash's input: what kind of value it is. */
#define TAG_NAME	'n'
#define TAG_PHONE	'p'
#define TAG_NHS		'h'

/*
 * Decode one UTF-8 character at ${p} (${n} bytes left) into ${*cp}: its
 * length, or 1 and ${*cp} = (uint32_t)-1 for a byte that starts none.
 */
static size_t
utf8(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else
		goto bad;
	if (len > n)
		goto bad;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			goto bad;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*cp = c;
	return len;
bad:
	*cp = (uint32_t)-1;
	return 1;
}

/*
 * Base letters of U+00C0..U+00FF and U+0100..U+017F, by code point: a
 * space separates words; 'A' is "ae", 'T' "th", 'S' "ss", 'I' "ij", 'O'
 * "oe".
 */
static const char latin1[64 + 1] =
    "aaaaaaAceeeeiiiidnooooo ouuuuyTS"
    "aaaaaaAceeeeiiiidnooooo ouuuuyTy";
static const char latin_a[128 + 1] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiIIjjkkk"
    "llllllllllnnnnnnnnnooooooOOrrrrrrssssssssttttttuuuuuuuuuuuu"
    "wwyyyzzzzzzs";

enum { FOLD_SEP, FOLD_JOIN, FOLD_TEXT, FOLD_RAW };

/*
 * How code point ${cp} goes into a word: FOLD_SEP ends it, FOLD_JOIN adds
 * nothing, FOLD_TEXT adds the NUL-terminated ${out}, FOLD_RAW adds the
 * character's own bytes.
 */
static int
fold(uint32_t cp, char out[5])
{
	char c = 0;

	out[0] = out[1] = out[2] = '\0';
	if (cp == (uint32_t)-1)
		return FOLD_RAW;
	if (cp < 0x80) {
		if (cp >= 'A' && cp <= 'Z')
			c = (char)(cp - 'A' + 'a');
		else if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
			c = (char)cp;
		else
			return cp == '\'' ? FOLD_JOIN : FOLD_SEP;
	} else if (cp < 0xc0)
		return FOLD_SEP;	/* NBSP, quotes, signs */
	else if (cp < 0x100)
		c = latin1[cp - 0xc0];
	else if (cp < 0x180)
		c = latin_a[cp - 0x100];
	else if (cp == 0x218 || cp == 0x219)
		c = 's';		/* Romanian S with comma below */
	else if (cp == 0x21a || cp == 0x21b)
		c = 't';		/* Romanian T with comma below */
	else if (cp == 0x2bc || cp == 0x2018 || cp == 0x2019)
		return FOLD_JOIN;	/* apostrophes */
	else if (cp >= 0x300 && cp <= 0x36f)
		return FOLD_JOIN;	/* combining accents */
	else if ((cp >= 0x2000 && cp <= 0x206f) || cp == 0x3000 ||
	    cp == 0xfeff)
		return FOLD_SEP;	/* spaces, dashes, punctuation */
	else if (cp >= 0x400 && cp <= 0x42f) {
		/* Cyrillic capitals: their small letters, as UTF-8. */
		cp += cp < 0x410 ? 0x50 : 0x20;
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return FOLD_TEXT;
	} else
		return FOLD_RAW;
	switch (c) {
	case ' ': return FOLD_SEP;
	case 'A': memcpy(out, "ae", 2); break;
	case 'T': memcpy(out, "th", 2); break;
	case 'S': memcpy(out, "ss", 2); break;
	case 'I': memcpy(out, "ij", 2); break;
	case 'O': memcpy(out, "oe", 2); break;
	default: out[0] = c; break;
	}
	return FOLD_TEXT;
}

size_t
find_name_words(const char *name, size_t len, char (*out)[FIND_TOKEN_MAX + 1],
    size_t max)
{
	const unsigned char *p = (const unsigned char *)name;
	char f[5];
	const char *add;
	size_t i = 0, n = 0, w = 0, clen, alen;
	uint32_t cp;
	int how;

	while (i <= len && n < max) {
		if (i == len) {
			how = FOLD_SEP;
			clen = 1;
		} else {
			clen = utf8(p + i, len - i, &cp);
			how = fold(cp, f);
		}
		if (how == FOLD_SEP) {
			if (w > 0) {
				out[n++][w] = '\0';
				w = 0;
			}
			i += clen;
			continue;
		}
		add = how == FOLD_RAW ? (const char *)p + i : f;
		alen = how == FOLD_RAW ? clen : how == FOLD_TEXT ? strlen(f) : 0;
		/* A word too long is cut at a character's end. */
		if (w + alen <= FIND_TOKEN_MAX) {
			memcpy(out[n] + w, add, alen);
			w += alen;
		}
		i += clen;
	}
	return n;
}

int
find_phone(const char *in, size_t len, char out[FIND_PHONE_MAX + 1])
{
	char d[64];
	size_t i, n = 0, skip = 0;
	int plus = 0, seen = 0;

	for (i = 0; i < len; i++) {
		if (in[i] >= '0' && in[i] <= '9') {
			if (n == sizeof(d) - 1)
				return KITH_EINVAL;
			d[n++] = in[i];
			seen = 1;
		} else if (in[i] == '+' && !seen && !plus)
			plus = seen = 1;
		else if (strchr(" -./()\t", in[i]) == NULL)
			return KITH_EINVAL;
	}
	d[n] = '\0';
	if (!plus && n > 2 && d[0] == '0' && d[1] == '0') {
		plus = 1;	/* 0044...: the international prefix */
		skip = 2;
	}
	if (plus && n - skip > 2 && d[skip] == '4' && d[skip + 1] == '4') {
		/* UK: +44 20 is 020; +44 (0)20 too. */
		skip += 2;
		if (d[skip] == '0')
			skip++;
		d[--skip] = '0';
		plus = 0;
	}
	n -= skip;
	if (n < 6 || n > 15)
		return KITH_EINVAL;
	out[0] = '+';
	memcpy(out + plus, d + skip, n);
	out[plus + n] = '\0';
	return 0;
}

int
find_nhs(const char *in, size_t len, char out[11])
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (in[i] >= '0' && in[i] <= '9') {
			if (n == 10)
				return KITH_EINVAL;
			out[n++] = in[i];
		} else if (in[i] != ' ' && in[i] != '-')
			return KITH_EINVAL;
	}
	out[n] = '\0';
	return n == 10 ? 0 : KITH_EINVAL;
}

/* The blind hash of value ${s} (${len} bytes) tagged ${tag}. */
static void
blind(const struct kcrypto_blind *b, uint8_t out[STORE_BLIND_LEN], char tag,
    const char *s, size_t len)
{
	uint8_t in[1 + FIND_TOKEN_MAX];

	in[0] = (uint8_t)tag;
	memcpy(in + 1, s, len);
	kcrypto_blind(b, out, in, 1 + len);
	kcrypto_wipe(in, sizeof(in));
}

/* The string field ${name} of body ${b}, or NULL. */
static const char *
body_text(const struct body *b, const char *name, size_t *len)
{
	const struct body_field *f = body_get(b, name);

	if (f == NULL || f->v.type != CODEC_STR)
		return NULL;
	*len = f->v.len;
	return f->v.s;
}

/* An entity and the hashes of its personal fields. */
struct ent {
	uint8_t e[KITH_ENTITY_LEN];
	uint8_t h[ENT_HASHES][STORE_BLIND_LEN];
	size_t n;
	int skip;		/* not of a kind the index holds */
};

/* Add ${h} to ${x}'s hashes unless it is there. */
static void
add_hash(struct ent *x, const uint8_t h[STORE_BLIND_LEN])
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (memcmp(x->h[i], h, STORE_BLIND_LEN) == 0)
			return;
	if (x->n < ENT_HASHES)
		memcpy(x->h[x->n++], h, STORE_BLIND_LEN);
}

static int
indexed_kind(uint64_t kind)
{

	return kind == KITH_KIND_REQUEST || kind == KITH_KIND_VOLUNTEER ||
	    kind == KITH_KIND_REFERRAL;
}

/*
 * The hashes of ${x}'s entity as it is now: none if it is gone, erased,
 * or sealed to others; skip it if it is of no kind the index holds.
 */
static int
hash_entity(struct actor *a, const struct kcrypto_blind *b, struct ent *x)
{
	char w[FIND_TOKENS_MAX][FIND_TOKEN_MAX + 1], num[FIND_PHONE_MAX + 1];
	uint8_t rcpt[SEAL_RECIPIENTS_MAX][32], h[STORE_BLIND_LEN];
	struct body *opened = NULL;
	struct state *s = NULL;
	const char *v;
	size_t nw, i, len, nr;
	int rc;

	x->n = 0;
	x->skip = 0;
	if ((rc = store_state(a->st, x->e, &s)) == KITH_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (!indexed_kind(state_kind(s)))
		x->skip = 1;
	else if (state_get(s, "erased") == NULL &&
	    actor_open(a, s, &opened, rcpt, &nr) == 0) {
		if ((v = body_text(opened, "name", &len)) != NULL) {
			nw = find_name_words(v, len, w, FIND_TOKENS_MAX);
			for (i = 0; i < nw; i++) {
				blind(b, h, TAG_NAME, w[i], strlen(w[i]));
				add_hash(x, h);
			}
			kcrypto_wipe(w, sizeof(w));
		}
		if ((v = body_text(opened, "phone", &len)) != NULL &&
		    find_phone(v, len, num) == 0) {
			blind(b, h, TAG_PHONE, num, strlen(num));
			add_hash(x, h);
		}
		if ((v = body_text(opened, "nhs_number", &len)) != NULL &&
		    find_nhs(v, len, num) == 0) {
			blind(b, h, TAG_NHS, num, 10);
			add_hash(x, h);
		}
		kcrypto_wipe(num, sizeof(num));
	}
	body_free(opened);
	state_free(s);
	return 0;
}

/* A growing list of entity ids. */
struct ids {
	uint8_t (*v)[KITH_ENTITY_LEN];
	size_t n, cap;
};

static int
ids_add(struct ids *l, const uint8_t *e)
{
	uint8_t (*bigger)[KITH_ENTITY_LEN];

	if (l->n == l->cap) {
		if ((bigger = realloc(l->v, (l->cap * 2 + 64) *
		    KITH_ENTITY_LEN)) == NULL)
			return KITH_ENOMEM;
		l->v = bigger;
		l->cap = l->cap * 2 + 64;
	}
	memcpy(l->v[l->n++], e, KITH_ENTITY_LEN);
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{

	return memcmp(a, b, KITH_ENTITY_LEN);
}

/* Sort ${l} and drop repeats. */
static void
ids_unique(struct ids *l)
{
	size_t i, k = 0;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, KITH_ENTITY_LEN, id_cmp);
	for (i = 1; i < l->n; i++)
		if (memcmp(l->v[i], l->v[k], KITH_ENTITY_LEN) != 0)
			memcpy(l->v[++k], l->v[i], KITH_ENTITY_LEN);
	l->n = k + 1;
}

/* store_blind_read's dirty entities (and hits, for find_search). */
static int
dirty_one(void *arg, size_t i, const uint8_t entity[KITH_ENTITY_LEN])
{

	(void)i;
	return ids_add(arg, entity);
}

/* Entities named by the change log after a counter. */
struct logscan {
	struct store *st;
	struct ids *ids;
	uint64_t after;
	int gap;		/* entries after ${after} are gone */
	int first;
};

static int
log_one(void *arg, uint64_t counter, uint64_t hlc,
    const uint8_t id[KITH_ID_LEN])
{
	struct logscan *l = arg;
	struct record *rec;
	int rc;

	(void)hlc;
	if (l->first && counter != l->after + 1) {
		l->gap = 1;
		return 1;
	}
	l->first = 0;
	if ((rc = store_get(l->st, id, &rec)) != 0)
		return rc == KITH_ENOTFOUND || rc == KITH_ECORRUPT ? 0 : rc;
	rc = ids_add(l->ids, record_header(rec)->entity);
	record_free(rec);
	return rc;
}

/*
 * Add to ${ids} the entities of the change log's entries after ${*at}, at
 * most ${max} (0: all); ${*at} moves to the last one taken, ${*more} says
 * whether entries remain and ${*gap} whether some after ${*at} are gone.
 */
static int
log_entities(struct store *st, uint64_t *at, size_t max, struct ids *ids,
    int *more, int *gap)
{
	struct logscan l = { st, ids, *at, 0, 1 };
	uint64_t last, end;
	int rc;

	*more = *gap = 0;
	if ((rc = store_log_last(st, &end)) != 0)
		return rc;
	while (*at < end) {
		l.after = *at;
		l.first = 1;
		rc = store_log_read(st, *at, max ? max : LOG_STEP, log_one, &l,
		    &last);
		if (l.gap) {
			*gap = 1;
			return 0;
		}
		if (rc != 0)
			return rc;
		if (last == *at) {
			/* Counters above but no entry: they are gone. */
			*gap = 1;
			return 0;
		}
		*at = last;
		if (max != 0) {
			*more = last < end;
			break;
		}
	}
	return 0;
}

/* Every entity of the kinds the index holds. */
static int
all_one(void *arg, const struct state *s)
{

	return ids_add(arg, state_entity(s));
}

static int
all_entities(struct store *st, struct ids *ids)
{
	static const uint64_t kinds[] = { KITH_KIND_REQUEST,
		KITH_KIND_VOLUNTEER, KITH_KIND_REFERRAL };
	size_t i;
	int rc = 0;

	for (i = 0; i < 3 && rc == 0; i++)
		rc = store_states(st, kinds[i], all_one, ids);
	return rc;
}

/*
 * One update: read the mark, take the log's next step (or everything),
 * hash what it names, and write.  ${*more}: the log has more to take.
 */
static int
update_once(struct actor *a, const struct kcrypto_blind *b, size_t *n,
    int *more)
{
	struct store_blind_mark m;
	struct store_blind_ent *be = NULL;
	struct ent *x = NULL;
	struct ids ids = { NULL, 0, 0 };
	uint64_t at;
	size_t i, k;
	int rc, gap = 0, afresh;

	*more = 0;
	if ((rc = store_blind_read(a->st, NULL, 0, &m, dirty_one, &ids)) != 0)
		goto out;
	afresh = !m.valid;
	at = m.at;
	if (!afresh && (rc = log_entities(a->st, &at, LOG_STEP, &ids, more,
	    &gap)) != 0)
		goto out;
	if (afresh || gap) {
		/* The position first: what comes after it is taken next. */
		afresh = 1;
		*more = 0;
		ids.n = 0;
		if ((rc = store_log_last(a->st, &at)) != 0 ||
		    (rc = all_entities(a->st, &ids)) != 0)
			goto out;
	}
	ids_unique(&ids);
	/* Nothing new: no commit (a query would otherwise cost one). */
	if (!afresh && ids.n == 0 && at == m.at)
		goto out;
	if (ids.n > 0 && ((x = calloc(ids.n, sizeof(*x))) == NULL ||
	    (be = calloc(ids.n, sizeof(*be))) == NULL)) {
		rc = KITH_ENOMEM;
		goto out;
	}
	for (i = k = 0; i < ids.n; i++) {
		memcpy(x[i].e, ids.v[i], KITH_ENTITY_LEN);
		if ((rc = hash_entity(a, b, &x[i])) != 0)
			goto out;
		if (x[i].skip)
			continue;
		be[k].entity = x[i].e;
		be[k].hash = (const uint8_t (*)[STORE_BLIND_LEN])x[i].h;
		be[k++].n = x[i].n;
	}
	rc = store_blind_update(a->st, &m, at, afresh, be, k);
	*n += ids.n;
out:
	if (x != NULL)
		kcrypto_wipe(x, ids.n * sizeof(*x));
	free(x);
	free(be);
	free(ids.v);
	return rc;
}

int
find_update(struct actor *a, size_t *n)
{
	struct kcrypto_blind *b;
	int rc = 0, tries = 0, more = 1;

	*n = 0;
	if (store_rdonly(a->st))
		return KITH_EINVAL;
	if (a->key == NULL || (b = kcrypto_blind_new(a->key)) == NULL)
		return actor_fail(a, KITH_ENOMEM, "no node key to index with");
	while (more) {
		rc = update_once(a, b, n, &more);
		if (rc == KITH_EBUSY && ++tries < RETRIES) {
			more = 1;	/* another process moved it: again */
			continue;
		}
		if (rc != 0)
			break;
	}
	kcrypto_blind_free(b);
	if (rc != 0)
		actor_fail(a, rc, "cannot bring the blind index up to date: "
		    "%s", kith_strerror(rc));
	return rc;
}

/* What a query asks for. */
struct query {
	char w[FIND_TOKENS_MAX][FIND_TOKEN_MAX + 1];
	size_t nw;
	char phone[FIND_PHONE_MAX + 1], nhs[11];
	int has_phone, has_nhs;
	uint8_t h[FIND_TOKENS_MAX][STORE_BLIND_LEN];
	size_t nh;
};

/* A candidate from the index: the query's hashes it has, as bits. */
struct cand {
	uint8_t e[KITH_ENTITY_LEN];
	uint32_t bits;
};

struct cands {
	struct cand *v;
	size_t n, cap;
	size_t nh;		/* hashes asked for; i == nh: dirty */
	struct ids extra;	/* dirty, or named by the log since */
};

static int
cand_one(void *arg, size_t i, const uint8_t entity[KITH_ENTITY_LEN])
{
	struct cands *c = arg;
	struct cand *bigger;

	if (i >= c->nh)
		return ids_add(&c->extra, entity);
	if (c->n == c->cap) {
		if ((bigger = realloc(c->v, (c->cap * 2 + 64) *
		    sizeof(*bigger))) == NULL)
			return KITH_ENOMEM;
		c->v = bigger;
		c->cap = c->cap * 2 + 64;
	}
	memcpy(c->v[c->n].e, entity, KITH_ENTITY_LEN);
	c->v[c->n++].bits = (uint32_t)1 << i;
	return 0;
}

static int
cand_cmp(const void *a, const void *b)
{

	return memcmp(((const struct cand *)a)->e, ((const struct cand *)b)->e,
	    KITH_ENTITY_LEN);
}

/* Does ${opened} match ${q}? */
static int
matches(const struct query *q, const struct body *opened)
{
	char w[FIND_TOKENS_MAX][FIND_TOKEN_MAX + 1], num[FIND_PHONE_MAX + 1];
	const char *v;
	size_t len, nw, i, k;
	int ok = 0;

	if (q->nw > 0) {
		if ((v = body_text(opened, "name", &len)) == NULL)
			return 0;
		nw = find_name_words(v, len, w, FIND_TOKENS_MAX);
		for (i = 0, ok = 1; ok && i < q->nw; i++) {
			for (k = 0; k < nw && strcmp(w[k], q->w[i]) != 0; k++)
				;
			ok = k < nw;
		}
		kcrypto_wipe(w, sizeof(w));
		return ok;
	}
	if (q->has_phone && (v = body_text(opened, "phone", &len)) != NULL &&
	    find_phone(v, len, num) == 0 && strcmp(num, q->phone) == 0)
		ok = 1;
	if (q->has_nhs && (v = body_text(opened, "nhs_number", &len)) != NULL &&
	    find_nhs(v, len, num) == 0 && strcmp(num, q->nhs) == 0)
		ok = 1;
	kcrypto_wipe(num, sizeof(num));
	return ok;
}

/* A hit held until all are known, to be given newest first. */
struct hit {
	struct state *s;
	struct body *opened;
};

static int
hit_cmp(const void *a, const void *b)
{
	uint64_t x = state_updated(((const struct hit *)a)->s);
	uint64_t y = state_updated(((const struct hit *)b)->s);

	return x < y ? 1 : x > y ? -1 : memcmp(state_entity(
	    ((const struct hit *)a)->s), state_entity(
	    ((const struct hit *)b)->s), KITH_ENTITY_LEN);
}

/* Parse ${text} into ${q}, and hash it: KITH_EINVAL with a why. */
static int
parse(struct actor *a, const char *text, struct query *q)
{
	struct kcrypto_blind *b;
	size_t len = strlen(text), chars = 0, i;
	uint32_t cp;

	memset(q, 0, sizeof(*q));
	for (i = 0; i < len; chars++)
		i += utf8((const unsigned char *)text + i, len - i, &cp);
	q->has_phone = find_phone(text, len, q->phone) == 0;
	q->has_nhs = find_nhs(text, len, q->nhs) == 0;
	if (!q->has_phone && !q->has_nhs)
		q->nw = find_name_words(text, len, q->w, FIND_TOKENS_MAX);
	if (chars < FIND_QUERY_MIN || (q->nw == 0 && !q->has_phone &&
	    !q->has_nhs))
		return actor_fail(a, KITH_EINVAL, "give a name, a phone number "
		    "or an NHS number to find, at least %d characters with a "
		    "letter or digit", FIND_QUERY_MIN);
	if (a->key == NULL || (b = kcrypto_blind_new(a->key)) == NULL)
		return actor_fail(a, KITH_ENOMEM, "no node key to find with");
	for (i = 0; i < q->nw; i++)
		blind(b, q->h[q->nh++], TAG_NAME, q->w[i], strlen(q->w[i]));
	if (q->has_phone)
		blind(b, q->h[q->nh++], TAG_PHONE, q->phone, strlen(q->phone));
	if (q->has_nhs)
		blind(b, q->h[q->nh++], TAG_NHS, q->nhs, 10);
	kcrypto_blind_free(b);
	return 0;
}

/*
 * The entities to open: those the index names under every word (or under
 * either number), the dirty ones, and those the change log names since the
 * index's mark; or every entity if the index cannot say.
 */
static int
candidates(struct actor *a, const struct query *q, struct ids *out)
{
	struct store_blind_mark m;
	struct cands c = { NULL, 0, 0, q->nh, { NULL, 0, 0 } };
	uint32_t all, bits;
	uint64_t at;
	size_t i, k;
	int rc, more, gap = 0;

	all = q->nw > 0 ? ((uint32_t)1 << q->nw) - 1 : ~(uint32_t)0;
	if ((rc = store_blind_read(a->st, (const uint8_t (*)[STORE_BLIND_LEN])
	    q->h, q->nh, &m, cand_one, &c)) != 0)
		goto out;
	at = m.at;
	if (m.valid && (rc = log_entities(a->st, &at, 0, &c.extra, &more,
	    &gap)) != 0)
		goto out;
	if (!m.valid || gap) {
		rc = all_entities(a->st, out);
		goto out;
	}
	if (c.n > 0)
		qsort(c.v, c.n, sizeof(*c.v), cand_cmp);
	for (i = 0; i < c.n; i = k) {
		for (bits = 0, k = i; k < c.n && memcmp(c.v[k].e, c.v[i].e,
		    KITH_ENTITY_LEN) == 0; k++)
			bits |= c.v[k].bits;
		/* Words: every one; numbers: either. */
		if ((q->nw > 0 ? (bits & all) == all : bits != 0) &&
		    (rc = ids_add(out, c.v[i].e)) != 0)
			goto out;
	}
	for (i = 0; i < c.extra.n && rc == 0; i++)
		rc = ids_add(out, c.extra.v[i]);
out:
	free(c.v);
	free(c.extra.v);
	return rc;
}

int
find_search(struct actor *a, const char *text, uint64_t kind, size_t limit,
    find_hit_fn *fn, void *arg, size_t *n)
{
	uint8_t rcpt[SEAL_RECIPIENTS_MAX][32];
	struct query q;
	struct ids ids = { NULL, 0, 0 };
	struct hit *hits = NULL;
	struct body *opened;
	struct state *s;
	size_t i, nhits = 0, nr, looked;
	int rc;

	*n = 0;
	if ((rc = parse(a, text, &q)) != 0)
		return rc;
	/*
	 * Best effort: what the index has not taken in is opened below all
	 * the same, so a read-only store or a busy one still finds all.
	 */
	if (!store_rdonly(a->st))
		(void)find_update(a, &looked);
	a->why[0] = '\0';
	if ((rc = candidates(a, &q, &ids)) != 0)
		goto out;
	ids_unique(&ids);
	if (ids.n > 0 && (hits = calloc(ids.n, sizeof(*hits))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	for (i = 0; i < ids.n; i++) {
		if ((rc = store_state(a->st, ids.v[i], &s)) == KITH_ENOTFOUND)
			continue;
		if (rc != 0)
			goto out;
		opened = NULL;
		if (!indexed_kind(state_kind(s)) ||
		    (kind != 0 && state_kind(s) != kind) ||
		    state_get(s, "erased") != NULL ||
		    actor_open(a, s, &opened, rcpt, &nr) != 0 ||
		    !matches(&q, opened)) {
			body_free(opened);
			state_free(s);
			continue;
		}
		hits[nhits].s = s;
		hits[nhits++].opened = opened;
	}
	rc = 0;
	if (nhits > 0)
		qsort(hits, nhits, sizeof(*hits), hit_cmp);
	for (i = 0; i < nhits && (limit == 0 || i < limit) && rc == 0; i++)
		if ((rc = fn(arg, hits[i].s, hits[i].opened)) == 0)
			(*n)++;
out:
	for (i = 0; i < nhits; i++) {
		state_free(hits[i].s);
		body_free(hits[i].opened);
	}
	free(hits);
	free(ids.v);
	kcrypto_wipe(&q, sizeof(q));
	return rc;
}
