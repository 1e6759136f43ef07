#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "codec.h"
#include "kcrypto.h"
#include "record.h"
#include "roster.h"
#include "seal.h"
#include "state.h"

struct state {
	uint8_t *buf;			/* the canonical encoding */
	size_t len;
	uint8_t entity[KITH_ENTITY_LEN];
	uint64_t kind, created, updated, nversions;
	uint8_t creator[KITH_KEY_LEN];
	size_t nheads;
	const uint8_t **heads;		/* into buf */
	size_t nfields;
	struct state_field *fields;
	char **names;			/* owned; nnames slots */
	size_t nnames;
	struct codec_value *altv;	/* every field's alts, back to back */
};

/* One record during a computation. */
struct ver {
	const struct record *rec;
	const struct record_header *h;
	const uint8_t *id;
	struct body *body;		/* NULL if absent or undecodable */
	int data;			/* a record of the entity's kind */
	int may_move;			/* may set the workflow status */
	int sealed_ok;			/* its sealed section applies */
	size_t parents[KITH_PARENTS_MAX];	/* indexes of parents present */
	size_t nparents;
	int head;			/* not a parent of any record */
};

/* What the computation knows of the entity beyond its records. */
struct entity {
	const struct record_header *genesis;
	uint64_t kind;
	const uint8_t *creator;
	const uint8_t *recipient;	/* a referral's, or NULL */
	uint8_t (*readers)[KITH_KEY_LEN];	/* entitled to personal data */
	size_t nreaders;
};

/* Workflow stages; every other value of "status" is not applied. */
static const struct {
	uint64_t kind;
	const char *status;
	int rank;
} stages[] = {
	{ KITH_KIND_REQUEST, "open", 0 },
	{ KITH_KIND_REQUEST, "claimed", 1 },
	{ KITH_KIND_REQUEST, "fulfilled", 2 },
	{ KITH_KIND_REQUEST, "cancelled", 2 },
	{ KITH_KIND_REFERRAL, "sent", 0 },
	{ KITH_KIND_REFERRAL, "accepted", 1 },
	{ KITH_KIND_REFERRAL, "declined", 1 },
	{ KITH_KIND_REFERRAL, "completed", 2 },
	{ KITH_KIND_INSIGHT, "planned", 0 },
	{ KITH_KIND_INSIGHT, "done", 1 },
	{ KITH_KIND_INSIGHT, "not-possible", 1 },
};

/*
 * An insight's response: the fields only a PCN or an admin answers with
 * ("you said, we did").  Its "status" is the response's stage.
 */
static int
response_field(uint64_t kind, const char *name)
{

	return kind == KITH_KIND_INSIGHT && (strcmp(name, "status") == 0 ||
	    strcmp(name, "action") == 0 || strcmp(name, "why") == 0);
}

/*
 * Public field names the merge gives its own meaning: "sealed" names the
 * record holding the current sealed section, "share" entitles another
 * organisation, "readers" lists the entitled.  A body's own values of
 * them are never merged as they are.
 */
static int
reserved(const char *name)
{

	return strcmp(name, "sealed") == 0 || strcmp(name, "share") == 0 ||
	    strcmp(name, "readers") == 0;
}

static int
has_workflow(uint64_t kind)
{

	return kind == KITH_KIND_REQUEST || kind == KITH_KIND_REFERRAL ||
	    kind == KITH_KIND_INSIGHT;
}

int
state_status_rank(uint64_t kind, const char *status, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		if (stages[i].kind == kind &&
		    strlen(stages[i].status) == len &&
		    memcmp(stages[i].status, status, len) == 0)
			return stages[i].rank;
	return -1;
}

/* Total order of versions: (hlc, author, id). */
static int
ver_cmp(const void *pa, const void *pb)
{
	const struct ver *a = pa, *b = pb;

	return record_version_cmp(a->rec, b->rec);
}

/* Sorted (id, index) pairs, to resolve parent ids. */
struct idx {
	const uint8_t *id;
	size_t i;
};

static int
idx_cmp(const void *pa, const void *pb)
{
	const struct idx *a = pa, *b = pb;

	return memcmp(a->id, b->id, KITH_ID_LEN);
}

static int
value_cmp(const void *pa, const void *pb)
{

	return codec_value_cmp(pa, pb);
}

static int
key_cmp(const void *a, const void *b)
{

	return memcmp(a, b, KITH_KEY_LEN);
}

static int
id_cmp(const void *a, const void *b)
{

	return memcmp(a, b, KITH_ID_LEN);
}

/* Ancestor sets: one bit per version, a row of ${words} per version. */
struct reach {
	uint64_t *bits;
	size_t words;
};

#define BIT_SET(row, i)	((row)[(i) / 64] |= (uint64_t)1 << ((i) % 64))
#define BIT_GET(row, i)	(((row)[(i) / 64] >> ((i) % 64)) & 1)

/*
 * Compute every version's ancestors (through parent links, transitively)
 * once, parents before children: afterwards whether a write supersedes
 * another is one bit, so a field costs its writes, not the history.
 */
static int
reach_build(struct reach *r, const struct ver *v, size_t n)
{
	size_t *stack = NULL, *next = NULL, top, i, k, cur;
	unsigned char *state = NULL;	/* 0 new, 1 open, 2 done */
	uint64_t *row;
	int rc = KITH_ENOMEM;

	r->words = (n + 63) / 64;
	if ((r->bits = calloc(n > 0 ? n * r->words : 1,
	    sizeof(uint64_t))) == NULL ||
	    (stack = malloc(n * sizeof(*stack))) == NULL ||
	    (next = calloc(n, sizeof(*next))) == NULL ||
	    (state = calloc(n, 1)) == NULL)
		goto out;
	/* Depth first over parents; a version is done once they all are. */
	for (i = 0; i < n; i++) {
		if (state[i] != 0)
			continue;
		top = 0;
		stack[top++] = i;
		state[i] = 1;
		while (top > 0) {
			cur = stack[top - 1];
			if (next[cur] < v[cur].nparents) {
				k = v[cur].parents[next[cur]++];
				/* Ids are hashes: a cycle cannot be made. */
				if (state[k] == 0) {
					state[k] = 1;
					stack[top++] = k;
				}
				continue;
			}
			row = r->bits + cur * r->words;
			for (k = 0; k < v[cur].nparents; k++) {
				const uint64_t *pr = r->bits +
				    v[cur].parents[k] * r->words;

				for (size_t w = 0; w < r->words; w++)
					row[w] |= pr[w];
				BIT_SET(row, v[cur].parents[k]);
			}
			state[cur] = 2;
			top--;
		}
	}
	rc = 0;
out:
	free(stack);
	free(next);
	free(state);
	return rc;
}

/*
 * The merge cache: a node's own summary of a large entity's merge (never
 * sent, never part of the digest), so that one more record costs what it
 * changes.  A msgpack array:
 *
 *	[1, kind, created, creator: bin 32, recipient: bin 0 or 32,
 *	 readers: [bin 32...],
 *	 versions: [[id: bin 32, hlc, author: bin 32, links: [version...],
 *	     unresolved: [bin 32...]]...],
 *	 fields: [[name, personal, [[version, value]...]]...]]
 *
 * versions are the applied records in version order, each with its parent
 * links (as version indexes) and the parent ids it names that are no
 * applied record (yet); fields are in name order, each with its
 * unsuperseded candidates in version order.
 */
#define CACHE_FORMAT	1

struct cver {
	const uint8_t *id, *author;
	uint64_t hlc;
	size_t link[KITH_PARENTS_MAX];	/* parents applied, as indexes */
	unsigned nl;
	const uint8_t *upid[KITH_PARENTS_MAX];	/* parents not applied */
	unsigned nu;
};

struct ccand {
	size_t v;
	struct codec_value val;
};

struct cfield {
	char name[KITH_NAME_MAX + 1];
	int personal;
	struct ccand *c;
	size_t n;
};

struct cimage {
	uint64_t kind, created;
	const uint8_t *creator, *recipient;
	uint8_t readers[SEAL_RECIPIENTS_MAX][KITH_KEY_LEN];
	size_t nreaders;
	struct cver *v;
	size_t nv;
	struct cfield *f;
	size_t nf;
};

static void
cimage_free(struct cimage *m)
{
	size_t i;

	for (i = 0; i < m->nf; i++)
		free(m->f[i].c);
	free(m->f);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* One field write: a data version's field, for the merge of that field. */
struct write {
	const char *name;
	size_t v;			/* the version, in version order */
	const struct body_field *f;
};

static int
write_cmp(const void *pa, const void *pb)
{
	const struct write *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	return c != 0 ? c : (a->v < b->v ? -1 : a->v > b->v);
}

/*
 * The order of status write ${w}: its round, then its stage's rank; -1 if
 * it names no stage, has a bad round, or its version may not move the
 * status.  A request's round is the integer "round" its record sets beside
 * the status (0 if none): reopening a request starts a new round, so its
 * status moves back to open and then forward again.
 */
static int64_t
status_key(const struct write *w, const struct ver *v, uint64_t kind)
{
	const struct body_field *r;
	int64_t round = 0;
	int rank;

	if (!v[w->v].may_move || w->f->v.type != CODEC_STR ||
	    (rank = state_status_rank(kind, w->f->v.s, w->f->v.len)) < 0)
		return -1;
	if (kind == KITH_KIND_REQUEST &&
	    (r = body_get(v[w->v].body, "round")) != NULL && !r->personal) {
		if (r->v.type != CODEC_INT || r->v.i < 0 ||
		    r->v.i > STATE_ROUND_MAX)
			return -1;
		round = r->v.i;
	}
	return round * 4 + rank;
}

/*
 * Is write ${w} a candidate of its field?  "sealed" only where the sealed
 * section applies; "status" of a workflow only of the order ${maxkey}
 * (status_key).
 */
static int
candidate(const struct write *w, const struct ver *v, uint64_t kind,
    int64_t maxkey)
{

	if (strcmp(w->name, "sealed") == 0)
		return v[w->v].sealed_ok;
	if (response_field(kind, w->name) && !v[w->v].may_move)
		return 0;
	if (!has_workflow(kind) || strcmp(w->name, "status") != 0)
		return 1;
	return status_key(w, v, kind) == maxkey;
}

/*
 * Append the entry of the field whose ${n} writes, in version order, are
 * ${ws}; return 1 if it has one.  It costs its writes, each with one row
 * of ancestor bits, never the entity's whole history.
 */
static int
merge_field(struct codec_writer *w, const struct ver *v, uint64_t kind,
    const struct write *ws, size_t n, const struct reach *r, uint64_t *below,
    struct codec_value *alts, struct cimage *m)
{
	const struct body_field *win = NULL;
	struct cfield *cf = NULL;
	size_t i, nalts = 0, k;
	int64_t maxkey = -1, key;

	if (has_workflow(kind) && strcmp(ws[0].name, "status") == 0) {
		for (i = 0; i < n; i++)
			if ((key = status_key(&ws[i], v, kind)) > maxkey)
				maxkey = key;
		if (maxkey < 0)
			return 0;	/* no valid status at all */
	}
	/* Every ancestor of a candidate; a candidate among them is superseded. */
	memset(below, 0, r->words * sizeof(*below));
	for (i = 0; i < n; i++) {
		if (!candidate(&ws[i], v, kind, maxkey))
			continue;
		for (k = 0; k < r->words; k++)
			below[k] |= r->bits[ws[i].v * r->words + k];
	}
	/* Versions are sorted, so the last unsuperseded one is the winner. */
	for (i = n; i-- > 0;) {
		if (BIT_GET(below, ws[i].v) ||
		    !candidate(&ws[i], v, kind, maxkey))
			continue;
		if (win == NULL)
			win = ws[i].f;
		else if (codec_value_cmp(&ws[i].f->v, &win->v) != 0)
			alts[nalts++] = ws[i].f->v;
	}
	if (win == NULL)
		return 0;
	/* The merge cache keeps the unsuperseded writes, in version order. */
	if (m != NULL && (cf = &m->f[m->nf], cf->c = malloc(n *
	    sizeof(*cf->c))) == NULL)
		return KITH_ENOMEM;
	for (i = 0; cf != NULL && i < n; i++)
		if (!BIT_GET(below, ws[i].v) &&
		    candidate(&ws[i], v, kind, maxkey)) {
			cf->c[cf->n].v = ws[i].v;
			cf->c[cf->n++].val = ws[i].f->v;
		}
	if (cf != NULL) {
		snprintf(cf->name, sizeof(cf->name), "%s", ws[0].name);
		cf->personal = win->personal;
		m->nf++;
	}
	qsort(alts, nalts, sizeof(alts[0]), value_cmp);
	codec_put_array(w, 4);
	codec_put_cstr(w, ws[0].name);
	codec_put_bool(w, win->personal);
	codec_put_value(w, &win->v);
	/* Count, then write, the distinct alternatives. */
	for (i = 0, k = 0; i < nalts; i++)
		k += i == 0 || codec_value_cmp(&alts[i], &alts[i - 1]) != 0;
	codec_put_array(w, (uint32_t)k);
	for (i = 0; i < nalts; i++)
		if (i == 0 || codec_value_cmp(&alts[i], &alts[i - 1]) != 0)
			codec_put_value(w, &alts[i]);
	return 1;
}

/*
 * Every field write of the data versions, sorted by (name, version): each
 * field's writes side by side, in version order.  Reserved names are left
 * out, but "sealed", which merges like any field.
 */
static struct write *
collect_writes(const struct ver *v, size_t n, size_t *count)
{
	struct write *ws;
	const struct body_field *f;
	size_t i, k, total = 0;

	for (i = 0; i < n; i++)
		if (v[i].data && v[i].body != NULL)
			total += body_nfields(v[i].body);
	if ((ws = malloc((total ? total : 1) * sizeof(*ws))) == NULL)
		return NULL;
	for (i = 0, total = 0; i < n; i++) {
		if (!v[i].data || v[i].body == NULL)
			continue;
		for (k = 0; k < body_nfields(v[i].body); k++) {
			f = body_field(v[i].body, k);
			if (reserved(f->name) && strcmp(f->name, "sealed") != 0)
				continue;
			ws[total].name = f->name;
			ws[total].v = i;
			ws[total++].f = f;
		}
	}
	qsort(ws, total, sizeof(*ws), write_cmp);
	*count = total;
	return ws;
}

/* Resolve parent ids to indexes and mark entity heads. */
static int
link_parents(struct ver *v, size_t n)
{
	struct idx *ix, key, *hit;
	size_t i, k;

	if ((ix = malloc((n ? n : 1) * sizeof(*ix))) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i < n; i++) {
		ix[i].id = v[i].id;
		ix[i].i = i;
		v[i].head = 1;
	}
	qsort(ix, n, sizeof(*ix), idx_cmp);
	for (i = 0; i < n; i++) {
		v[i].nparents = 0;
		for (k = 0; k < v[i].h->nparents; k++) {
			key.id = v[i].h->parents[k];
			hit = bsearch(&key, ix, n, sizeof(*ix), idx_cmp);
			if (hit == NULL || hit->i == i)
				continue;
			v[i].parents[v[i].nparents++] = hit->i;
			v[hit->i].head = 0;
		}
	}
	free(ix);
	return 0;
}

/* Write the entity heads, in id order. */
static int
put_heads(struct codec_writer *w, const struct ver *v, size_t n)
{
	struct idx *hx;
	size_t i, k = 0;

	if ((hx = malloc((n ? n : 1) * sizeof(*hx))) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i < n; i++)
		if (v[i].head)
			hx[k++].id = v[i].id;
	qsort(hx, k, sizeof(*hx), idx_cmp);
	codec_put_array(w, (uint32_t)k);
	for (i = 0; i < k; i++)
		codec_put_bin(w, hx[i].id, KITH_ID_LEN);
	free(hx);
	return codec_writer_error(w);
}

/* The readers as one public field: their keys in hex, by commas. */
static int
put_readers(struct codec_writer *w, const struct entity *e)
{
	char *s;
	size_t i;
	int rc;

	if ((s = malloc(e->nreaders * (2 * KITH_KEY_LEN + 1) + 1)) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i < e->nreaders; i++) {
		kith_hex(s + i * (2 * KITH_KEY_LEN + 1), e->readers[i],
		    KITH_KEY_LEN);
		s[i * (2 * KITH_KEY_LEN + 1) + 2 * KITH_KEY_LEN] =
		    i + 1 < e->nreaders ? ',' : '\0';
	}
	codec_put_array(w, 4);
	codec_put_cstr(w, "readers");
	codec_put_bool(w, 0);
	rc = codec_put_str(w, s, strlen(s));
	codec_put_array(w, 0);
	free(s);
	return rc;
}

/* Version order over images: (hlc, author, id). */
static int
cver_cmp(const struct cver *a, const struct cver *b)
{
	int c;

	if (a->hlc != b->hlc)
		return a->hlc < b->hlc ? -1 : 1;
	if ((c = memcmp(a->author, b->author, KITH_KEY_LEN)) != 0)
		return c;
	return memcmp(a->id, b->id, KITH_ID_LEN);
}

static int
read_key32(struct codec_reader *r, const uint8_t **out)
{
	size_t n;
	int rc;

	if ((rc = codec_read_bin(r, out, &n)) != 0)
		return rc;
	return n == 32 ? 0 : KITH_ETYPE;
}

/* Parse a cache; anything amiss is an error, and the caller recomputes. */
static int
cimage_decode(const uint8_t *p, size_t len, struct cimage *m)
{
	struct codec_reader r;
	const uint8_t *b;
	const char *name;
	uint32_t n, k, j, np;
	uint64_t fmt, vi;
	size_t bl;
	int rc;

	memset(m, 0, sizeof(*m));
	codec_reader_init(&r, p, len);
	if ((rc = codec_read_array(&r, &n)) != 0 || n != 8 ||
	    (rc = codec_read_uint(&r, &fmt)) != 0 || fmt != CACHE_FORMAT ||
	    (rc = codec_read_uint(&r, &m->kind)) != 0 ||
	    (rc = codec_read_uint(&r, &m->created)) != 0 ||
	    (rc = read_key32(&r, &m->creator)) != 0 ||
	    (rc = codec_read_bin(&r, &m->recipient, &bl)) != 0 ||
	    (bl != 0 && bl != 32) || (rc = codec_read_array(&r, &n)) != 0 ||
	    n > SEAL_RECIPIENTS_MAX)
		goto bad;
	if (bl == 0)
		m->recipient = NULL;
	for (k = 0; k < n; k++) {
		if ((rc = read_key32(&r, &b)) != 0)
			goto bad;
		memcpy(m->readers[m->nreaders++], b, KITH_KEY_LEN);
	}
	if ((rc = codec_read_array(&r, &n)) != 0 || n > len / 4 ||
	    (m->v = calloc(n + 1, sizeof(*m->v))) == NULL)
		goto bad;
	for (k = 0; k < n; k++, m->nv++) {
		struct cver *cv = &m->v[k];

		if ((rc = codec_read_array(&r, &j)) != 0 || j != 5 ||
		    (rc = read_key32(&r, &cv->id)) != 0 ||
		    (rc = codec_read_uint(&r, &cv->hlc)) != 0 ||
		    (rc = read_key32(&r, &cv->author)) != 0 ||
		    (rc = codec_read_array(&r, &np)) != 0 ||
		    np > KITH_PARENTS_MAX)
			goto bad;
		for (cv->nl = 0; cv->nl < np; cv->nl++)
			if ((rc = codec_read_uint(&r, &vi)) != 0 || vi >= n)
				goto bad;
			else
				cv->link[cv->nl] = (size_t)vi;
		if ((rc = codec_read_array(&r, &np)) != 0 ||
		    np > KITH_PARENTS_MAX - cv->nl)
			goto bad;
		for (cv->nu = 0; cv->nu < np; cv->nu++)
			if ((rc = read_key32(&r, &cv->upid[cv->nu])) != 0)
				goto bad;
	}
	if ((rc = codec_read_array(&r, &n)) != 0 || n > len / 4 ||
	    (m->f = calloc(n + 1, sizeof(*m->f))) == NULL)
		goto bad;
	for (k = 0; k < n; k++, m->nf++) {
		struct cfield *cf = &m->f[k];

		if ((rc = codec_read_array(&r, &j)) != 0 || j != 3 ||
		    (rc = codec_read_str(&r, &name, &bl)) != 0 ||
		    !body_name_ok(name, bl) ||
		    (rc = codec_read_bool(&r, &cf->personal)) != 0 ||
		    (rc = codec_read_array(&r, &np)) != 0 || np == 0 ||
		    np > m->nv || (cf->c = calloc(np, sizeof(*cf->c))) == NULL)
			goto bad;
		memcpy(cf->name, name, bl);
		cf->name[bl] = '\0';
		for (cf->n = 0; cf->n < np; cf->n++)
			if ((rc = codec_read_array(&r, &j)) != 0 || j != 2 ||
			    (rc = codec_read_uint(&r, &vi)) != 0 ||
			    vi >= m->nv ||
			    (rc = codec_read_value(&r,
			    &cf->c[cf->n].val)) != 0 ||
			    (cf->c[cf->n].v = (size_t)vi, 0))
				goto bad;
	}
	if (codec_reader_left(&r) != 0)
		goto bad;
	return 0;
bad:
	cimage_free(m);
	return KITH_ECORRUPT;
}

/* Write ${m} as a cache. */
static void
cimage_encode(struct codec_writer *w, const struct cimage *m)
{
	size_t i, k;

	codec_put_array(w, 8);
	codec_put_uint(w, CACHE_FORMAT);
	codec_put_uint(w, m->kind);
	codec_put_uint(w, m->created);
	codec_put_bin(w, m->creator, KITH_KEY_LEN);
	codec_put_bin(w, m->recipient, m->recipient != NULL ? KITH_KEY_LEN :
	    0);
	codec_put_array(w, (uint32_t)m->nreaders);
	for (i = 0; i < m->nreaders; i++)
		codec_put_bin(w, m->readers[i], KITH_KEY_LEN);
	codec_put_array(w, (uint32_t)m->nv);
	for (i = 0; i < m->nv; i++) {
		codec_put_array(w, 5);
		codec_put_bin(w, m->v[i].id, KITH_ID_LEN);
		codec_put_uint(w, m->v[i].hlc);
		codec_put_bin(w, m->v[i].author, KITH_KEY_LEN);
		codec_put_array(w, m->v[i].nl);
		for (k = 0; k < m->v[i].nl; k++)
			codec_put_uint(w, m->v[i].link[k]);
		codec_put_array(w, m->v[i].nu);
		for (k = 0; k < m->v[i].nu; k++)
			codec_put_bin(w, m->v[i].upid[k], KITH_ID_LEN);
	}
	codec_put_array(w, (uint32_t)m->nf);
	for (i = 0; i < m->nf; i++) {
		codec_put_array(w, 3);
		codec_put_cstr(w, m->f[i].name);
		codec_put_bool(w, m->f[i].personal);
		codec_put_array(w, (uint32_t)m->f[i].n);
		for (k = 0; k < m->f[i].n; k++) {
			codec_put_array(w, 2);
			codec_put_uint(w, m->f[i].c[k].v);
			codec_put_value(w, &m->f[i].c[k].val);
		}
	}
}

/* A field entry from its unsuperseded candidates: the last one wins. */
static int
put_cfield(struct codec_writer *w, const struct cfield *f)
{
	struct codec_value *alts;
	const struct codec_value *win = &f->c[f->n - 1].val;
	size_t i, k, nalts = 0;

	if ((alts = malloc(f->n * sizeof(*alts))) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i + 1 < f->n; i++)
		if (codec_value_cmp(&f->c[i].val, win) != 0)
			alts[nalts++] = f->c[i].val;
	qsort(alts, nalts, sizeof(*alts), value_cmp);
	codec_put_array(w, 4);
	codec_put_cstr(w, f->name);
	codec_put_bool(w, f->personal);
	codec_put_value(w, win);
	for (i = 0, k = 0; i < nalts; i++)
		k += i == 0 || codec_value_cmp(&alts[i], &alts[i - 1]) != 0;
	codec_put_array(w, (uint32_t)k);
	for (i = 0; i < nalts; i++)
		if (i == 0 || codec_value_cmp(&alts[i], &alts[i - 1]) != 0)
			codec_put_value(w, &alts[i]);
	free(alts);
	return 0;
}

/* The state of entity ${entity} as the image ${m} says: 7.2's encoding. */
static int
cimage_state(struct codec_writer *w, const uint8_t *entity,
    const struct cimage *m)
{
	struct entity e;
	struct idx *hx;
	unsigned char *linked;
	size_t i, k, nh = 0;
	int rc = KITH_ENOMEM, readers = 0;

	if ((linked = calloc(m->nv, 1)) == NULL ||
	    (hx = malloc(m->nv * sizeof(*hx))) == NULL) {
		free(linked);
		return rc;
	}
	for (i = 0; i < m->nv; i++)
		for (k = 0; k < m->v[i].nl; k++)
			linked[m->v[i].link[k]] = 1;
	for (i = 0; i < m->nv; i++)
		if (!linked[i])
			hx[nh++].id = m->v[i].id;
	qsort(hx, nh, sizeof(*hx), idx_cmp);
	codec_put_array(w, 8);
	codec_put_bin(w, entity, KITH_ENTITY_LEN);
	codec_put_uint(w, m->kind);
	codec_put_uint(w, m->created);
	codec_put_bin(w, m->creator, KITH_KEY_LEN);
	codec_put_uint(w, m->v[m->nv - 1].hlc);
	codec_put_uint(w, m->nv);
	codec_put_array(w, (uint32_t)nh);
	for (i = 0; i < nh; i++)
		codec_put_bin(w, hx[i].id, KITH_ID_LEN);
	memset(&e, 0, sizeof(e));
	e.readers = (uint8_t (*)[KITH_KEY_LEN])m->readers;
	e.nreaders = m->nreaders;
	codec_put_array(w, (uint32_t)m->nf + 1);
	rc = 0;
	for (i = 0; i <= m->nf && rc == 0; i++) {
		if (!readers && (i == m->nf ||
		    strcmp(m->f[i].name, "readers") > 0)) {
			rc = put_readers(w, &e);
			readers = 1;
		}
		if (i < m->nf && rc == 0)
			rc = put_cfield(w, &m->f[i]);
	}
	free(linked);
	free(hx);
	return rc != 0 ? rc : codec_writer_error(w);
}

/*
 * Write the merged fields.  A field with no valid write is left out, so the
 * entries go to a scratch writer first and the count is known before them.
 * "readers" joins them in name order.
 */
static int
put_fields(struct codec_writer *w, struct ver *v, size_t n,
    const struct entity *e, struct cimage *m)
{
	struct codec_writer *fw = NULL;
	struct codec_value *alts = NULL;
	struct reach r = { NULL, 0 };
	struct write *ws = NULL;
	uint64_t *below = NULL;
	const uint8_t *fp;
	size_t i, j, nws, nfields = 0, flen;
	int rc = KITH_ENOMEM, readers = 0;

	if ((ws = collect_writes(v, n, &nws)) == NULL ||
	    (rc = reach_build(&r, v, n)) != 0 ||
	    (rc = KITH_ENOMEM,
	    (below = calloc(r.words ? r.words : 1, sizeof(*below))) == NULL) ||
	    (alts = malloc((n ? n : 1) * sizeof(*alts))) == NULL ||
	    (fw = codec_writer_new()) == NULL ||
	    (m != NULL && (m->f = calloc(nws + 1, sizeof(*m->f))) == NULL))
		goto out;
	for (i = 0; i <= nws; i = j) {
		if (!readers && (i == nws || strcmp(ws[i].name,
		    "readers") > 0)) {
			if ((rc = put_readers(fw, e)) != 0)
				goto out;
			readers = 1;
			nfields++;
		}
		if (i == nws)
			break;
		for (j = i + 1; j < nws && strcmp(ws[j].name, ws[i].name) ==
		    0; j++)
			;
		if ((rc = merge_field(fw, v, e->kind, ws + i, j - i, &r,
		    below, alts, m)) < 0)
			goto out;
		nfields += (size_t)rc;
	}
	if ((rc = codec_writer_error(fw)) != 0)
		goto out;
	codec_put_array(w, (uint32_t)nfields);
	fp = codec_writer_data(fw, &flen);
	rc = codec_put_raw(w, fp, flen);
out:
	codec_writer_free(fw);
	free(ws);
	free(r.bits);
	free(below);
	free(alts);
	return rc;
}

/*
 * May version ${x} set the workflow status it writes?  In a referral,
 * "sent" only by the referral's creator, the later stages only by its
 * recipient.  In an insight, the response (status, action, why) only by
 * a PCN or an admin: roles only rise, and standing at ${x} is already
 * checked.  Other kinds have no such rule.
 */
static int
may_move(const struct ver *x, const struct entity *e,
    const struct roster *roster)
{
	const struct roster_entry *re;
	const struct body_field *f;
	int rank;

	if (e->kind == KITH_KIND_INSIGHT)
		return roster == NULL ||
		    ((re = roster_find(roster, x->h->author)) != NULL &&
		    (re->role == ROLE_ADMIN || re->role == ROLE_PCN));
	if (e->kind != KITH_KIND_REFERRAL || x->body == NULL ||
	    (f = body_get(x->body, "status")) == NULL ||
	    f->v.type != CODEC_STR)
		return 1;
	rank = state_status_rank(KITH_KIND_REFERRAL, f->v.s, f->v.len);
	if (rank == 0)
		return memcmp(x->h->author, e->creator, KITH_KEY_LEN) == 0;
	return e->recipient != NULL && memcmp(x->h->author, e->recipient,
	    KITH_KEY_LEN) == 0;
}

static int
is_reader(const struct entity *e, const uint8_t *key)
{
	size_t i;

	for (i = 0; i < e->nreaders; i++)
		if (memcmp(e->readers[i], key, KITH_KEY_LEN) == 0)
			return 1;
	return 0;
}

/* Add ${key} to the readers; 1 if it is new, 0 if known or full. */
static int
add_reader(struct entity *e, const uint8_t *key)
{

	if (is_reader(e, key) || e->nreaders == SEAL_RECIPIENTS_MAX)
		return 0;
	memcpy(e->readers[e->nreaders++], key, KITH_KEY_LEN);
	return 1;
}

/*
 * Who may read the entity's personal fields: its creator, a referral's
 * recipient, and every organisation a reader shares them with (a data
 * record by a reader whose public field "share" names a key), taken in
 * version order until no more are added.  Then a sealed section applies
 * only if its author is a reader and it is sealed to readers alone.
 */
static void
entitle(struct entity *e, struct ver *v, size_t n)
{
	const struct body_field *f;
	uint8_t key[KITH_KEY_LEN], x[32];
	uint8_t rx[SEAL_RECIPIENTS_MAX][32];
	struct seal *seal;
	const uint8_t *p;
	size_t i, k, m, len, converted = 0;
	int more;

	add_reader(e, e->creator);
	if (e->recipient != NULL)
		add_reader(e, e->recipient);
	do {
		more = 0;
		for (i = 0; i < n; i++)
			if (v[i].data && v[i].body != NULL &&
			    is_reader(e, v[i].h->author) &&
			    (f = body_get(v[i].body, "share")) != NULL &&
			    !f->personal && f->v.type == CODEC_STR &&
			    kith_unhex(key, KITH_KEY_LEN, f->v.s) == 0 &&
			    kcrypto_x25519_public(key, x) == 0)
				more |= add_reader(e, key);
	} while (more);
	qsort(e->readers, e->nreaders, KITH_KEY_LEN, key_cmp);
	for (i = 0; i < n; i++) {
		if (!v[i].data || v[i].body == NULL ||
		    (p = body_sealed(v[i].body, &len)) == NULL ||
		    !is_reader(e, v[i].h->author) ||
		    seal_decode(p, len, &seal) != 0)
			continue;
		/*
		 * The readers' X25519 keys only once a sealed section needs
		 * them: a conversion costs about a signature check, and most
		 * entities have nothing sealed.
		 */
		for (; converted < e->nreaders; converted++)
			(void)kcrypto_x25519_public(e->readers[converted],
			    rx[converted]);
		for (m = 0; m < seal_nrecipients(seal); m++) {
			for (k = 0; k < e->nreaders; k++)
				if (memcmp(seal_recipient(seal, m), rx[k],
				    32) == 0)
					break;
			if (k == e->nreaders)
				break;
		}
		v[i].sealed_ok = m == seal_nrecipients(seal);
		seal_free(seal);
	}
}

/*
 * Does record ${h} (id ${id}) of an entity with genesis ${g} apply?  A data
 * record (of the entity's kind) does if its author has standing and, in a
 * referral, is its creator or recipient and addresses the recipient; an
 * erase record does if its author is the entity's creator with standing,
 * or an admin with standing.  Everything else is kept as evidence.
 */
static int
applies(const struct record *rec, const struct record *g,
    const struct entity *e, const struct roster *roster, int *data)
{
	const struct record_header *h = record_header(rec);
	const uint8_t *id = record_id(rec);
	int creator = memcmp(h->author, e->creator, KITH_KEY_LEN) == 0;

	*data = 0;
	if (rec == g) {
		*data = 1;
		return 1;
	}
	if (h->kind == KITH_KIND_ERASE)
		return e->kind != KITH_KIND_CHARTER &&
		    ((creator && (roster == NULL ||
		    roster_standing(roster, h, id) == 0)) ||
		    (roster != NULL && roster_admin(roster, h, id)));
	/* A charter is its entity's only record; one genesis counts. */
	if (h->kind != e->kind || h->genesis || e->kind == KITH_KIND_CHARTER)
		return 0;
	if (roster != NULL && roster_standing(roster, h, id) != 0)
		return 0;
	if (e->kind == KITH_KIND_REFERRAL &&
	    (!(creator || (e->recipient != NULL && memcmp(h->author,
	    e->recipient, KITH_KEY_LEN) == 0)) || (e->recipient != NULL &&
	    (h->naudience == 0 || memcmp(h->audience[0], e->recipient,
	    KITH_KEY_LEN) != 0))))
		return 0;
	*data = 1;
	return 1;
}

/* Start the encoding: the 8-item array up to the fields. */
static int
put_head(struct codec_writer *w, const uint8_t *entity, uint64_t kind,
    uint64_t created, const uint8_t *creator, const struct ver *v, size_t n)
{

	codec_put_array(w, 8);
	codec_put_bin(w, entity, KITH_ENTITY_LEN);
	codec_put_uint(w, kind);
	codec_put_uint(w, created);
	codec_put_bin(w, creator, KITH_KEY_LEN);
	codec_put_uint(w, v[n - 1].h->hlc);
	codec_put_uint(w, n);
	return put_heads(w, v, n);
}

/* A text field entry with no alternatives. */
static void
put_text(struct codec_writer *w, const char *name, const char *value)
{

	codec_put_array(w, 4);
	codec_put_cstr(w, name);
	codec_put_bool(w, 0);
	codec_put_cstr(w, value);
	codec_put_array(w, 0);
}

/* An integer field entry with no alternatives. */
static void
put_int(struct codec_writer *w, const char *name, uint64_t value)
{

	codec_put_array(w, 4);
	codec_put_cstr(w, name);
	codec_put_bool(w, 0);
	codec_put_uint(w, value);
	codec_put_array(w, 0);
}

/*
 * A key's member entity: no genesis; its state is the roster's entry for
 * the key, over the member and revoke records about it that count.
 */
static int
member_state(struct codec_writer *w, struct ver *v, size_t n,
    const uint8_t *entity, const struct roster_entry *re)
{
	char hex[2 * KITH_KEY_LEN + 1];
	size_t i, m = 0;
	int rc;

	for (i = 0; i < n; i++)
		if (bsearch(v[i].id, re->counted, re->ncounted, KITH_ID_LEN,
		    id_cmp) != NULL)
			v[m++] = v[i];
	if (m == 0)
		return KITH_ENOTFOUND;
	qsort(v, m, sizeof(*v), ver_cmp);
	if ((rc = link_parents(v, m)) != 0 ||
	    (rc = put_head(w, entity, KITH_KIND_MEMBER, v[0].h->hlc,
	    v[0].h->author, v, m)) != 0)
		return rc;
	kith_hex(hex, re->key, KITH_KEY_LEN);
	/* Names in bytewise order. */
	codec_put_array(w, 3 + (re->fork != 0) + 2 * (re->revoked != 0));
	if (re->fork != 0)
		put_int(w, "fork", re->fork);
	put_text(w, "key", hex);
	if (re->revoked != 0)
		put_int(w, "last_seq", re->last_seq);
	put_text(w, "org", re->org);
	if (re->revoked != 0)
		put_int(w, "revoked", 1);
	put_text(w, "role", roster_role_name(re->role));
	return codec_writer_error(w);
}

/* The index of field ${name} in ${m}, or where it would go; set ${*found}. */
static size_t
cimage_field(const struct cimage *m, const char *name, int *found)
{
	size_t lo = 0, hi = m->nf, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(m->f[mid].name, name)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Record ${rec}, at version ${p} of ${m} (already inserted), writes field
 * ${name} with ${val}: its candidates that ${rec} descends from are
 * superseded, and it joins the rest, in version order.
 */
static int
cimage_write(struct cimage *m, size_t p, const unsigned char *anc,
    const char *name, int personal, const struct codec_value *val)
{
	struct cfield *f, *bigger;
	struct ccand *c;
	size_t at, i, k;
	int found;

	at = cimage_field(m, name, &found);
	if (!found) {
		if ((bigger = realloc(m->f, (m->nf + 1) * sizeof(*bigger))) ==
		    NULL)
			return KITH_ENOMEM;
		m->f = bigger;
		memmove(&m->f[at + 1], &m->f[at], (m->nf - at) *
		    sizeof(*m->f));
		memset(&m->f[at], 0, sizeof(m->f[at]));
		snprintf(m->f[at].name, sizeof(m->f[at].name), "%s", name);
		m->nf++;
	}
	f = &m->f[at];
	if ((c = malloc((f->n + 1) * sizeof(*c))) == NULL)
		return KITH_ENOMEM;
	for (i = 0, k = 0; i < f->n; i++) {
		if (!found || anc[f->c[i].v])
			continue;
		c[k++] = f->c[i];
	}
	/* Insert the new write in version order. */
	for (i = k; i > 0 && c[i - 1].v > p; i--)
		c[i] = c[i - 1];
	c[i].v = p;
	c[i].val = *val;
	free(f->c);
	f->c = c;
	f->n = k + 1;
	f->personal = personal;
	return 0;
}

int
state_add(const uint8_t *cache, size_t clen, const struct record *rec,
    const struct roster *roster, struct state **out, uint8_t **ncache,
    size_t *nclen)
{
	const struct record_header *h = record_header(rec);
	const uint8_t *id = record_id(rec), *body, *sp;
	const struct body_field *f;
	struct codec_writer *w = NULL, *cw = NULL;
	struct cimage m;
	struct entity e;
	struct ver x;
	struct cver nv;
	struct seal *seal = NULL;
	unsigned char *anc = NULL;
	size_t *stack = NULL, top, p, i, j, k, blen, len;
	char hex[2 * KITH_ID_LEN + 1];
	int rc, data;

	*out = NULL;
	*ncache = NULL;
	*nclen = 0;
	if (h->genesis || h->kind == KITH_KIND_ERASE ||
	    cimage_decode(cache, clen, &m) != 0)
		return 2;	/* a new genesis, an erasure: the whole merge */
	memset(&e, 0, sizeof(e));
	memset(&x, 0, sizeof(x));
	e.kind = m.kind;
	e.creator = m.creator;
	e.recipient = m.recipient;
	e.readers = m.readers;
	e.nreaders = m.nreaders;
	x.rec = rec;
	x.h = h;
	x.id = id;
	rc = 1;
	if (!applies(rec, NULL, &e, roster, &data))
		goto out;	/* evidence: nothing moves */
	/* Only a new tip: nothing applied may name it as a parent. */
	rc = 2;
	for (i = 0; i < m.nv; i++) {
		if (memcmp(m.v[i].id, id, KITH_ID_LEN) == 0) {
			rc = 1;
			goto out;
		}
		for (k = 0; k < m.v[i].nu; k++)
			if (memcmp(m.v[i].upid[k], id, KITH_ID_LEN) == 0)
				goto out;
	}
	if ((body = record_body(rec, &blen)) != NULL &&
	    body_decode(body, blen, &x.body) == 0 &&
	    body_nfields(x.body) > 0 && body_field(x.body,
	    body_nfields(x.body) - 1)->personal) {
		body_free(x.body);
		x.body = NULL;
	}
	/*
	 * Entitlement, workflow moves and an insight's response (which
	 * depends on its author's role) go through the whole merge.
	 */
	if (e.kind == KITH_KIND_INSIGHT || (x.body != NULL &&
	    (body_get(x.body, "share") != NULL ||
	    body_get(x.body, "status") != NULL)))
		goto out;
	if (x.body != NULL && (sp = body_sealed(x.body, &len)) != NULL &&
	    is_reader(&e, h->author) && seal_decode(sp, len, &seal) == 0) {
		uint8_t rx[32];

		x.sealed_ok = 1;
		for (i = 0; i < seal_nrecipients(seal) && x.sealed_ok; i++) {
			for (k = 0; k < e.nreaders; k++)
				if (kcrypto_x25519_public(e.readers[k], rx) ==
				    0 && memcmp(seal_recipient(seal, i), rx,
				    32) == 0)
					break;
			x.sealed_ok = k < e.nreaders;
		}
	}
	/* Into version order; later versions move up by one. */
	rc = KITH_ENOMEM;
	memset(&nv, 0, sizeof(nv));
	nv.id = id;
	nv.author = h->author;
	nv.hlc = h->hlc;
	/* Its parents, looked for from the newest: usually the last ones. */
	for (k = 0; k < h->nparents; k++) {
		for (i = m.nv; i > 0 && memcmp(m.v[i - 1].id, h->parents[k],
		    KITH_ID_LEN) != 0; i--)
			;
		if (i > 0) {
			for (j = 0; j < nv.nl && nv.link[j] != i - 1; j++)
				;
			if (j == nv.nl)
				nv.link[nv.nl++] = i - 1;
		} else
			nv.upid[nv.nu++] = h->parents[k];
	}
	for (p = m.nv; p > 0 && cver_cmp(&m.v[p - 1], &nv) > 0; p--)
		;
	for (k = 0; k < nv.nl; k++)
		nv.link[k] += nv.link[k] >= p;
	{
		struct cver *bigger = realloc(m.v, (m.nv + 1) *
		    sizeof(*bigger));

		if (bigger == NULL)
			goto out;
		m.v = bigger;
	}
	memmove(&m.v[p + 1], &m.v[p], (m.nv - p) * sizeof(*m.v));
	for (i = 0; i < m.nv + 1; i++)
		for (k = 0; i != p && k < m.v[i].nl; k++)
			m.v[i].link[k] += m.v[i].link[k] >= p;
	m.v[p] = nv;
	m.nv++;
	for (i = 0; i < m.nf; i++)
		for (k = 0; k < m.f[i].n; k++)
			m.f[i].c[k].v += m.f[i].c[k].v >= p;
	if ((anc = calloc(m.nv, 1)) == NULL ||
	    (stack = malloc(m.nv * sizeof(*stack))) == NULL)
		goto out;
	/* Its ancestors, through the links. */
	top = 0;
	for (k = 0; k < m.v[p].nl; k++)
		if (!anc[m.v[p].link[k]]) {
			anc[m.v[p].link[k]] = 1;
			stack[top++] = m.v[p].link[k];
		}
	while (top > 0) {
		i = stack[--top];
		for (k = 0; k < m.v[i].nl; k++)
			if (!anc[m.v[i].link[k]]) {
				anc[m.v[i].link[k]] = 1;
				stack[top++] = m.v[i].link[k];
			}
	}
	if (x.sealed_ok) {
		kith_hex(hex, id, KITH_ID_LEN);
		if (body_set_str(x.body, "sealed", 0, hex) != 0)
			goto out;
	}
	for (i = 0; x.body != NULL && i < body_nfields(x.body); i++) {
		f = body_field(x.body, i);
		if (reserved(f->name) && !(x.sealed_ok &&
		    strcmp(f->name, "sealed") == 0))
			continue;
		if ((rc = cimage_write(&m, p, anc, f->name, f->personal,
		    &f->v)) != 0)
			goto out;
	}
	rc = KITH_ENOMEM;
	if ((w = codec_writer_new()) == NULL ||
	    (cw = codec_writer_new()) == NULL ||
	    (rc = cimage_state(w, h->entity, &m)) != 0)
		goto out;
	cimage_encode(cw, &m);
	if ((rc = codec_writer_error(cw)) != 0)
		goto out;
	body = codec_writer_data(w, &len);
	if ((rc = state_decode(body, len, out)) != 0)
		goto out;
	body = codec_writer_data(cw, &len);
	if ((*ncache = malloc(len)) == NULL) {
		state_free(*out);
		*out = NULL;
		rc = KITH_ENOMEM;
		goto out;
	}
	memcpy(*ncache, body, len);
	*nclen = len;
	rc = 0;
out:
	seal_free(seal);
	body_free(x.body);
	free(anc);
	free(stack);
	codec_writer_free(w);
	codec_writer_free(cw);
	cimage_free(&m);
	return rc;
}

/* Is ${id} among the versions at the ${n} indexes ${links}? */
static int
linked_to(const struct ver *v, const size_t *links, size_t n,
    const uint8_t *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(v[links[i]].id, id, KITH_ID_LEN) == 0)
			return 1;
	return 0;
}

/*
 * Fill ${c}'s versions and entity facts from the computation's ${v} and
 * ${e} (its fields come from put_fields); strings stay borrowed.
 */
static int
cimage_from(struct cimage *c, const struct ver *v, size_t n,
    const struct entity *e)
{
	size_t i;
	unsigned k;

	c->kind = e->kind;
	c->created = e->genesis->hlc;
	c->creator = e->creator;
	c->recipient = e->recipient;
	memcpy(c->readers, e->readers, e->nreaders * KITH_KEY_LEN);
	c->nreaders = e->nreaders;
	if ((c->v = calloc(n ? n : 1, sizeof(*c->v))) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i < n; i++) {
		c->v[i].id = v[i].id;
		c->v[i].author = v[i].h->author;
		c->v[i].hlc = v[i].h->hlc;
		for (k = 0; k < v[i].nparents; k++)
			c->v[i].link[c->v[i].nl++] = v[i].parents[k];
		/* The parents named but not applied: a later one's may be. */
		for (k = 0; k < v[i].h->nparents; k++)
			if (!linked_to(v, v[i].parents, v[i].nparents,
			    v[i].h->parents[k]))
				c->v[i].upid[c->v[i].nu++] =
				    v[i].h->parents[k];
	}
	c->nv = n;
	return 0;
}

int
state_compute(struct record *const *recs, size_t n,
    const struct roster *roster, struct state **out)
{

	return state_compute_cached(recs, n, roster, out, NULL, NULL);
}

int
state_compute_cached(struct record *const *recs, size_t n,
    const struct roster *roster, struct state **out, uint8_t **cache,
    size_t *clen)
{
	uint8_t readers[SEAL_RECIPIENTS_MAX][KITH_KEY_LEN];
	const struct roster_entry *re;
	struct codec_writer *w = NULL, *cw = NULL;
	struct cimage cm, *want = NULL;
	struct entity e;
	struct ver *v = NULL;
	const struct record *g;
	const uint8_t *p, *body, *entity;
	char hex[2 * KITH_ID_LEN + 1];
	size_t i, m, len, blen;
	int rc = KITH_ENOMEM, gone = 0, data;

	memset(&cm, 0, sizeof(cm));
	if (cache != NULL) {
		*cache = NULL;
		*clen = 0;
	}
	if (n == 0)
		return KITH_EINVAL;
	entity = record_header(recs[0])->entity;
	for (i = 0; i < n; i++)
		if (memcmp(record_header(recs[i])->entity, entity,
		    KITH_ENTITY_LEN) != 0)
			return KITH_EINVAL;
	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (w = codec_writer_new()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		v[i].rec = recs[i];
		v[i].h = record_header(recs[i]);
		v[i].id = record_id(recs[i]);
	}
	memset(&e, 0, sizeof(e));
	e.readers = readers;
	if ((g = record_genesis(recs, n)) == NULL) {
		/* Membership records live in their key's entity. */
		if (roster == NULL ||
		    (re = roster_find_entity(roster, entity)) == NULL) {
			rc = KITH_ENOGENESIS;
			goto out;
		}
		if ((rc = member_state(w, v, n, entity, re)) == 0)
			goto done;
		goto out;
	}
	e.genesis = record_header(g);
	e.kind = e.genesis->kind;
	e.creator = e.genesis->author;
	if (e.kind == KITH_KIND_REFERRAL && e.genesis->naudience > 0)
		e.recipient = e.genesis->audience[0];
	/* An entity waits, unseen, until its creator's genesis applies. */
	if (roster != NULL && roster_standing(roster, e.genesis,
	    record_id(g)) != 0) {
		rc = KITH_ENOTFOUND;
		goto out;
	}
	for (i = 0, m = 0; i < n; i++) {
		if (!applies(v[i].rec, g, &e, roster, &data))
			continue;
		v[i].data = data;
		gone |= !data;
		v[m++] = v[i];
	}
	n = m;
	qsort(v, n, sizeof(*v), ver_cmp);
	for (i = 0; i < n && !gone; i++) {
		body = record_body(v[i].rec, &blen);
		/*
		 * An undecodable body contributes no fields, and nor does one
		 * with personal fields in the clear, which no version 2
		 * writer makes.
		 */
		if (v[i].data && body != NULL &&
		    body_decode(body, blen, &v[i].body) != 0)
			v[i].body = NULL;
		if (v[i].body != NULL && body_nfields(v[i].body) > 0 &&
		    body_field(v[i].body, body_nfields(v[i].body) - 1)->
		    personal) {
			body_free(v[i].body);
			v[i].body = NULL;
		}
	}
	if (!gone) {
		entitle(&e, v, n);
		for (i = 0; i < n; i++) {
			v[i].may_move = may_move(&v[i], &e, roster);
			/*
			 * An applied sealed section is one value to the merge,
			 * named by the record that holds it: "sealed".
			 */
			if (v[i].sealed_ok) {
				kith_hex(hex, v[i].id, KITH_ID_LEN);
				(void)body_set_str(v[i].body, "sealed", 0, hex);
			}
		}
	}
	if ((rc = link_parents(v, n)) != 0 ||
	    (rc = put_head(w, entity, e.kind, e.genesis->hlc, e.creator, v,
	    n)) != 0)
		goto out;
	if (!gone && cache != NULL) {
		want = &cm;
		if ((rc = cimage_from(want, v, n, &e)) != 0)
			goto out;
	}
	if (gone) {
		/* An erased entity keeps one field, saying so. */
		codec_put_array(w, 1);
		put_int(w, "erased", 1);
	} else if ((rc = put_fields(w, v, n, &e, want)) != 0)
		goto out;
	if (want != NULL) {
		if ((cw = codec_writer_new()) == NULL) {
			rc = KITH_ENOMEM;
			goto out;
		}
		cimage_encode(cw, want);
		if ((rc = codec_writer_error(cw)) != 0)
			goto out;
		p = codec_writer_data(cw, &len);
		if ((*cache = malloc(len)) == NULL) {
			rc = KITH_ENOMEM;
			goto out;
		}
		memcpy(*cache, p, len);
		*clen = len;
	}
done:
	if ((rc = codec_writer_error(w)) != 0)
		goto out;
	p = codec_writer_data(w, &len);
	rc = state_decode(p, len, out);
out:
	if (rc != 0 && cache != NULL) {
		free(*cache);
		*cache = NULL;
		*clen = 0;
	}
	if (v != NULL)
		for (i = 0; i < n; i++)
			body_free(v[i].body);
	free(v);
	cimage_free(&cm);
	codec_writer_free(w);
	codec_writer_free(cw);
	return rc;
}

int
state_may_erase(const struct state *s, const struct roster *roster,
    const uint8_t author[KITH_KEY_LEN])
{
	int role = roster != NULL ? roster_current(roster, author) : ROLE_NONE;

	if (state_kind(s) == KITH_KIND_MEMBER ||
	    state_kind(s) == KITH_KIND_CHARTER)
		return 0;	/* revocation is how membership ends */
	if (memcmp(state_creator(s), author, KITH_KEY_LEN) == 0)
		return roster == NULL || (role != ROLE_NONE &&
		    role != ROLE_OBSERVER);
	return role == ROLE_ADMIN;
}

const uint8_t *
state_encoded(const struct state *s, size_t *len)
{

	*len = s->len;
	return s->buf;
}

/* Read one field entry; its alternatives go to ${altv} from ${*nalt}. */
static int
decode_field(struct codec_reader *r, struct state_field *f, char **name,
    struct codec_value *altv, size_t *nalt, size_t maxalt)
{
	const char *p;
	size_t len;
	uint32_t n, i;
	int rc;

	if ((rc = codec_read_array(r, &n)) != 0)
		return rc;
	if (n != 4)
		return KITH_ETYPE;
	if ((rc = codec_read_str(r, &p, &len)) != 0)
		return rc;
	if (!body_name_ok(p, len))
		return KITH_ETYPE;
	if ((*name = malloc(len + 1)) == NULL)
		return KITH_ENOMEM;
	memcpy(*name, p, len);
	(*name)[len] = '\0';
	f->name = *name;
	if ((rc = codec_read_bool(r, &f->personal)) != 0 ||
	    (rc = codec_read_value(r, &f->value)) != 0 ||
	    (rc = codec_read_array(r, &n)) != 0)
		return rc;
	if (n > maxalt - *nalt)
		return KITH_ETOOBIG;
	f->alts = altv + *nalt;
	f->nalts = n;
	for (i = 0; i < n; i++)
		if ((rc = codec_read_value(r, &altv[(*nalt)++])) != 0)
			return rc;
	return 0;
}

int
state_decode(const uint8_t *p, size_t n, struct state **out)
{
	struct codec_reader r;
	struct state *s;
	const uint8_t *id;
	size_t i, len, nalt = 0;
	uint32_t cnt;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return KITH_ENOMEM;
	rc = KITH_ENOMEM;
	if ((s->buf = malloc(n ? n : 1)) == NULL)
		goto out;
	memcpy(s->buf, p, n);
	s->len = n;
	codec_reader_init(&r, s->buf, n);
	if ((rc = codec_read_array(&r, &cnt)) != 0)
		goto out;
	if (cnt != 8) {
		rc = KITH_ETYPE;
		goto out;
	}
	if ((rc = codec_read_fixed(&r, s->entity, KITH_ENTITY_LEN)) != 0 ||
	    (rc = codec_read_uint(&r, &s->kind)) != 0 ||
	    (rc = codec_read_uint(&r, &s->created)) != 0 ||
	    (rc = codec_read_fixed(&r, s->creator, KITH_KEY_LEN)) != 0 ||
	    (rc = codec_read_uint(&r, &s->updated)) != 0 ||
	    (rc = codec_read_uint(&r, &s->nversions)) != 0 ||
	    (rc = codec_read_array(&r, &cnt)) != 0)
		goto out;
	if ((s->heads = calloc(cnt ? cnt : 1, sizeof(*s->heads))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		if ((rc = codec_read_bin(&r, &id, &len)) != 0)
			goto out;
		if (len != KITH_ID_LEN) {
			rc = KITH_ETYPE;
			goto out;
		}
		s->heads[s->nheads++] = id;
	}
	if ((rc = codec_read_array(&r, &cnt)) != 0)
		goto out;
	/* Every value takes at least one byte, which bounds the allocations. */
	if ((s->fields = calloc(cnt ? cnt : 1, sizeof(*s->fields))) == NULL ||
	    (s->names = calloc(cnt ? cnt : 1, sizeof(*s->names))) == NULL ||
	    (s->altv = calloc(n, sizeof(*s->altv))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	s->nnames = cnt;
	for (i = 0; i < cnt; i++) {
		if ((rc = decode_field(&r, &s->fields[i], &s->names[i],
		    s->altv, &nalt, n)) != 0)
			goto out;
		s->nfields++;
		if (i > 0 && strcmp(s->names[i - 1], s->names[i]) >= 0) {
			rc = KITH_ENONCANON;
			goto out;
		}
	}
	rc = codec_reader_left(&r) != 0 ? KITH_ETRAILING : 0;
out:
	if (rc == 0) {
		*out = s;
		s = NULL;	/* transferred */
	}
	state_free(s);
	return rc;
}

const uint8_t *state_entity(const struct state *s) { return s->entity; }
uint64_t state_kind(const struct state *s) { return s->kind; }
uint64_t state_created(const struct state *s) { return s->created; }
const uint8_t *state_creator(const struct state *s) { return s->creator; }
uint64_t state_updated(const struct state *s) { return s->updated; }
uint64_t state_nversions(const struct state *s) { return s->nversions; }
size_t state_nheads(const struct state *s) { return s->nheads; }
size_t state_nfields(const struct state *s) { return s->nfields; }

const uint8_t *
state_head(const struct state *s, size_t i)
{

	return i < s->nheads ? s->heads[i] : NULL;
}

const struct state_field *
state_field(const struct state *s, size_t i)
{

	return i < s->nfields ? &s->fields[i] : NULL;
}

const struct state_field *
state_get(const struct state *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i].name, name) == 0)
			return &s->fields[i];
	return NULL;
}

char *
state_str(const struct state *s, const char *name)
{
	const struct state_field *f;
	char *out = NULL;

	if ((f = state_get(s, name)) == NULL)
		return NULL;
	switch (f->value.type) {
	case CODEC_STR:
		if ((out = malloc(f->value.len + 1)) != NULL) {
			memcpy(out, f->value.s, f->value.len);
			out[f->value.len] = '\0';
		}
		break;
	case CODEC_INT:
		if ((out = malloc(24)) != NULL)
			snprintf(out, 24, "%lld", (long long)f->value.i);
		break;
	case CODEC_NIL:
		break;
	}
	return out;
}

size_t
state_nconflicts(const struct state *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nfields; i++)
		n += s->fields[i].nalts > 0;
	return n;
}

void
state_free(struct state *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	free(s->fields);
	free(s->altv);
	free(s->heads);
	free(s->buf);
	free(s);
}
