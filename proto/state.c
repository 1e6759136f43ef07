#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "codec.h"
#include "record.h"
#include "roster.h"
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
	int applied;			/* same kind as the entity */
	int may_move;			/* may set the workflow status */
	size_t *parents;		/* indexes of parents present */
	size_t nparents;
	int seen;			/* DFS mark */
	int head;			/* not a parent of any record */
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
};

static int
has_workflow(uint64_t kind)
{

	return kind == KITH_KIND_REQUEST || kind == KITH_KIND_REFERRAL;
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
name_cmp(const void *pa, const void *pb)
{

	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

static int
value_cmp(const void *pa, const void *pb)
{

	return codec_value_cmp(pa, pb);
}

/* The field's candidate writes: writers, or for status the furthest stage. */
static int
candidate(const struct ver *v, uint64_t kind, const char *name, int maxrank)
{
	const struct body_field *f;

	if (!v->applied || v->body == NULL ||
	    (f = body_get(v->body, name)) == NULL)
		return 0;
	if (!has_workflow(kind) || strcmp(name, "status") != 0)
		return 1;
	return v->may_move && f->v.type == CODEC_STR &&
	    state_status_rank(kind, f->v.s, f->v.len) == maxrank;
}

/*
 * Mark every ancestor of the candidates; a candidate so marked is superseded.
 * ${stack} holds n entries.
 */
static void
mark_ancestors(struct ver *v, size_t n, uint64_t kind, const char *name,
    int maxrank, size_t *stack)
{
	size_t i, k, top = 0, cur;

	for (i = 0; i < n; i++)
		v[i].seen = 0;
	for (i = 0; i < n; i++) {
		if (!candidate(&v[i], kind, name, maxrank))
			continue;
		for (k = 0; k < v[i].nparents; k++) {
			if (v[v[i].parents[k]].seen)
				continue;
			v[v[i].parents[k]].seen = 1;
			stack[top++] = v[i].parents[k];
		}
		while (top > 0) {
			cur = stack[--top];
			for (k = 0; k < v[cur].nparents; k++) {
				if (v[v[cur].parents[k]].seen)
					continue;
				v[v[cur].parents[k]].seen = 1;
				stack[top++] = v[cur].parents[k];
			}
		}
	}
}

/* Append one field's entry to the encoding. */
static int
merge_field(struct codec_writer *w, struct ver *v, size_t n, uint64_t kind,
    const char *name, size_t *stack, struct codec_value *alts)
{
	const struct body_field *f;
	const struct body_field *win = NULL;
	size_t i, nalts = 0, k;
	int maxrank = -1, r;

	if (has_workflow(kind) && strcmp(name, "status") == 0) {
		for (i = 0; i < n; i++) {
			if (!v[i].applied || !v[i].may_move ||
			    v[i].body == NULL ||
			    (f = body_get(v[i].body, name)) == NULL ||
			    f->v.type != CODEC_STR)
				continue;
			r = state_status_rank(kind, f->v.s, f->v.len);
			if (r > maxrank)
				maxrank = r;
		}
		if (maxrank < 0)
			return 0;	/* no valid status at all */
	}
	mark_ancestors(v, n, kind, name, maxrank, stack);
	/* Versions are sorted, so the last head is the winner. */
	for (i = n; i-- > 0;) {
		if (v[i].seen || !candidate(&v[i], kind, name, maxrank))
			continue;
		f = body_get(v[i].body, name);
		if (win == NULL)
			win = f;
		else if (codec_value_cmp(&f->v, &win->v) != 0)
			alts[nalts++] = f->v;
	}
	if (win == NULL)
		return 0;
	qsort(alts, nalts, sizeof(alts[0]), value_cmp);
	codec_put_array(w, 4);
	codec_put_cstr(w, name);
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

/* Collect the sorted, distinct field names of applied versions. */
static const char **
field_names(const struct ver *v, size_t n, size_t *count)
{
	const char **names;
	size_t i, k, total = 0, out;

	for (i = 0; i < n; i++)
		if (v[i].applied && v[i].body != NULL)
			total += body_nfields(v[i].body);
	if ((names = malloc((total ? total : 1) * sizeof(*names))) == NULL)
		return NULL;
	for (i = 0, total = 0; i < n; i++) {
		if (!v[i].applied || v[i].body == NULL)
			continue;
		for (k = 0; k < body_nfields(v[i].body); k++)
			names[total++] = body_field(v[i].body, k)->name;
	}
	qsort(names, total, sizeof(*names), name_cmp);
	for (i = 0, out = 0; i < total; i++)
		if (out == 0 || strcmp(names[out - 1], names[i]) != 0)
			names[out++] = names[i];
	*count = out;
	return names;
}

/* Resolve parent ids to indexes and mark entity heads. */
static int
link_parents(struct ver *v, size_t n)
{
	struct idx *ix, key, *hit;
	size_t i, k;

	if ((ix = malloc(n * sizeof(*ix))) == NULL)
		return KITH_ENOMEM;
	for (i = 0; i < n; i++) {
		ix[i].id = v[i].id;
		ix[i].i = i;
		v[i].head = 1;
	}
	qsort(ix, n, sizeof(*ix), idx_cmp);
	for (i = 0; i < n; i++) {
		v[i].nparents = 0;
		if ((v[i].parents = malloc(KITH_PARENTS_MAX *
		    sizeof(size_t))) == NULL) {
			free(ix);
			return KITH_ENOMEM;
		}
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

	if ((hx = malloc(n * sizeof(*hx))) == NULL)
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

/*
 * Write the merged fields.  A field with no valid write is left out, so the
 * entries go to a scratch writer first and the count is known before them.
 */
static int
put_fields(struct codec_writer *w, struct ver *v, size_t n)
{
	struct codec_writer *fw = NULL;
	struct codec_value *alts = NULL;
	const char **names = NULL;
	size_t *stack = NULL;
	const uint8_t *fp;
	size_t i, nnames, nfields = 0, flen;
	int rc = KITH_ENOMEM;

	if ((names = field_names(v, n, &nnames)) == NULL ||
	    (stack = malloc(n * sizeof(*stack))) == NULL ||
	    (alts = malloc(n * sizeof(*alts))) == NULL ||
	    (fw = codec_writer_new()) == NULL)
		goto out;
	for (i = 0; i < nnames; i++)
		nfields += merge_field(fw, v, n, v[0].h->kind, names[i], stack,
		    alts);
	if ((rc = codec_writer_error(fw)) != 0)
		goto out;
	codec_put_array(w, (uint32_t)nfields);
	fp = codec_writer_data(fw, &flen);
	rc = codec_put_raw(w, fp, flen);
out:
	codec_writer_free(fw);
	free(names);
	free(stack);
	free(alts);
	return rc;
}

/*
 * May version ${x} set the referral status it writes?  "sent" only by the
 * referral's creator; the later stages only by its recipient, the first
 * audience key of the creating record.  Other kinds have no such rule.
 */
static int
may_move(const struct ver *x, const struct ver *first)
{
	const struct body_field *f;
	int rank;

	if (first->h->kind != KITH_KIND_REFERRAL || x->body == NULL ||
	    (f = body_get(x->body, "status")) == NULL ||
	    f->v.type != CODEC_STR)
		return 1;
	rank = state_status_rank(KITH_KIND_REFERRAL, f->v.s, f->v.len);
	if (rank == 0)
		return memcmp(x->h->author, first->h->author,
		    KITH_KEY_LEN) == 0;
	return first->h->naudience > 0 && memcmp(x->h->author,
	    first->h->audience[0], KITH_KEY_LEN) == 0;
}

int
state_may_erase(struct record *const *recs, size_t n,
    const struct roster *roster, const uint8_t author[KITH_KEY_LEN],
    uint64_t hlc)
{
	const struct record_header *h;
	size_t i;

	if (roster != NULL && roster_role(roster, author, hlc) == ROLE_ADMIN)
		return 1;
	for (i = 0; i < n; i++) {
		h = record_header(recs[i]);
		if (h->kind != KITH_KIND_ERASE && h->nparents == 0 &&
		    memcmp(h->author, author, KITH_KEY_LEN) == 0)
			return 1;
	}
	return 0;
}

/*
 * Is the entity, whose admitted records are ${adm} in version order,
 * erased?  By an erase record (of another kind than the entity) that
 * state_may_erase allows.  Holding more records never takes an erasure
 * back, except a revocation that reaches a node after an erasure it undoes.
 */
static int
erased(struct record *const *adm, size_t n, const struct roster *roster)
{
	const struct record_header *h;
	size_t i;

	if (record_header(adm[0])->kind == KITH_KIND_ERASE)
		return 0;
	for (i = 1; i < n; i++) {
		h = record_header(adm[i]);
		if (h->kind == KITH_KIND_ERASE &&
		    state_may_erase(adm, n, roster, h->author, h->hlc))
			return 1;
	}
	return 0;
}

int
state_compute(struct record *const *recs, size_t n,
    const struct roster *roster, struct state **out)
{
	struct codec_writer *w = NULL;
	struct ver *v = NULL;
	struct record **adm = NULL;
	const struct record_header *h;
	const uint8_t *p, *body;
	size_t i, m, len, blen;
	int rc = KITH_ENOMEM, gone;

	if (n == 0)
		return KITH_EINVAL;
	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (adm = malloc(n * sizeof(*adm))) == NULL)
		goto out;
	for (i = 0, m = 0; i < n; i++) {
		h = record_header(recs[i]);
		if (memcmp(h->entity, record_header(recs[0])->entity,
		    KITH_ENTITY_LEN) != 0) {
			rc = KITH_EINVAL;
			goto out;
		}
		/*
		 * Records the roster does not admit are not applied at all,
		 * except membership's own, which the roster judges itself.
		 */
		if (roster != NULL && h->kind > KITH_KIND_REVOKE &&
		    roster_check(roster, h->author, h->hlc) != 0)
			continue;
		v[m].rec = recs[i];
		v[m].h = h;
		v[m].id = record_id(recs[i]);
		m++;
	}
	if ((n = m) == 0) {
		rc = KITH_ENOTFOUND;
		goto out;
	}
	qsort(v, n, sizeof(*v), ver_cmp);
	for (i = 0; i < n; i++)
		adm[i] = (struct record *)v[i].rec;
	gone = erased(adm, n, roster);
	for (i = 0; i < n; i++) {
		v[i].applied = v[i].h->kind == v[0].h->kind && !gone;
		body = record_body(v[i].rec, &blen);
		/* An undecodable body contributes no fields. */
		if (v[i].applied && body != NULL &&
		    body_decode(body, blen, &v[i].body) != 0)
			v[i].body = NULL;
		/*
		 * A sealed section is one value to the merge, named by the
		 * record that holds it: the public field "sealed".
		 */
		if (v[i].body != NULL && body_sealed(v[i].body, &blen) != NULL) {
			char hex[2 * KITH_ID_LEN + 1];

			kith_hex(hex, v[i].id, KITH_ID_LEN);
			(void)body_set_str(v[i].body, "sealed", 0, hex);
		}
	}
	for (i = 0; i < n; i++)
		v[i].may_move = may_move(&v[i], &v[0]);
	if ((rc = link_parents(v, n)) != 0)
		goto out;
	if ((w = codec_writer_new()) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	codec_put_array(w, 8);
	codec_put_bin(w, v[0].h->entity, KITH_ENTITY_LEN);
	codec_put_uint(w, v[0].h->kind);
	codec_put_uint(w, v[0].h->hlc);
	codec_put_bin(w, v[0].h->author, KITH_KEY_LEN);
	codec_put_uint(w, v[n - 1].h->hlc);
	codec_put_uint(w, n);
	if ((rc = put_heads(w, v, n)) != 0)
		goto out;
	if (gone) {
		/* An erased entity keeps one field, saying so. */
		codec_put_array(w, 1);
		codec_put_array(w, 4);
		codec_put_cstr(w, "erased");
		codec_put_bool(w, 0);
		codec_put_uint(w, 1);
		codec_put_array(w, 0);
	} else if ((rc = put_fields(w, v, n)) != 0)
		goto out;
	p = codec_writer_data(w, &len);
	rc = state_decode(p, len, out);
out:
	if (v != NULL)
		for (i = 0; i < n; i++) {
			body_free(v[i].body);
			free(v[i].parents);
		}
	free(v);
	free(adm);
	codec_writer_free(w);
	return rc;
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
