/*
 * The participation report: one pass over the states of each kind the
 * report counts, in entity order, keeping only counts, the breakdown's
 * keys, each session's key (so an insight lands in its session's row) and
 * one time per claimed request (for the medians).  A request's times to
 * claim and fulfil, and the time an insight was closed (only when --to
 * asks about the past), come from the entity's records: the hlc of the
 * first held record whose body sets the status.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "body.h"
#include "field.h"
#include "hlc.h"
#include "insight.h"
#include "kith.h"
#include "record.h"
#include "report.h"
#include "state.h"
#include "store.h"

#define DAY_MS		(86400ULL * 1000)
#define OPEN_DAYS	30

/* Elements of the sorted arrays below start with their key. */
struct row {
	char *key;
	uint64_t v[REPORT_NMEASURES];
	unsigned char hidden[REPORT_NMEASURES];
};

struct lang {
	char *key;
	uint64_t n;
	unsigned char hidden;
};

struct sorted {
	void *base;
	size_t n, cap, size;
};

struct session_key {
	uint8_t entity[KITH_ENTITY_LEN];
	char *key;		/* owned; NULL for "(none)" */
};

struct times {
	uint64_t *ms;
	size_t n, cap;
};

struct report {
	enum report_by by;
	char from[11], to[11];		/* "" if unbounded */
	uint64_t open_before_ms;	/* created before this: open 30 days */
	uint64_t end_ms;		/* the end of ${to}, or now */
	int bounded;			/* ${to} was given */
	uint64_t total[REPORT_NMEASURES];
	unsigned char hidden[REPORT_NMEASURES];
	struct sorted rows;		/* struct row */
	struct sorted groups;		/* char *: every group met */
	struct sorted row_groups;	/* char *: "row\037group" */
	struct sorted langs;		/* struct lang */
	struct session_key *sessions;	/* in entity order */
	size_t nsessions, capsessions;
	struct times median[REPORT_NMEDIANS];
	struct store *st;		/* while building */
	int rc;
};

static const char *const measure_names[REPORT_NMEASURES] = {
	"groups_met", "people_reached", "in_depth_conversations", "sessions",
	"requests_raised", "requests_claimed", "requests_fulfilled",
	"referrals_sent", "referrals_accepted", "referrals_completed",
	"referrals_declined", "referral_outcomes", "insights_raised",
	"insights_responded", "insights_open_30_days", "volunteers_active",
};

static const char *const by_names[] = { "community", "area", "group",
	"month", NULL };

int
report_by_parse(const char *s, enum report_by *by)
{
	size_t i;

	for (i = 0; by_names[i] != NULL; i++)
		if (strcmp(s, by_names[i]) == 0) {
			*by = (enum report_by)(i + 1);
			return 0;
		}
	return KITH_EINVAL;
}

const char *
report_measure_name(enum report_measure m)
{

	return m < REPORT_NMEASURES ? measure_names[m] : "";
}

/* Binary search ${s} for ${key}: 1 and its place if held, else 0 and where. */
static int
sorted_find(const struct sorted *s, const char *key, size_t *at)
{
	size_t lo = 0, hi = s->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(key, *(char *const *)((const char *)s->base +
		    mid * s->size));
		if (c == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*at = lo;
	return 0;
}

/*
 * Find ${key} in ${s}, adding a zeroed element with a copy of it if absent.
 * Set ${*el} to the element and ${*added}; return 0 or KITH_ENOMEM.
 */
static int
sorted_get(struct sorted *s, const char *key, void **el, int *added)
{
	size_t at, ncap;
	char *p, *k;
	void *nb;

	if ((*added = !sorted_find(s, key, &at)) != 0) {
		if (s->n == s->cap) {
			ncap = s->cap ? s->cap * 2 : 16;
			if ((nb = realloc(s->base, ncap * s->size)) == NULL)
				return KITH_ENOMEM;
			s->base = nb;
			s->cap = ncap;
		}
		if ((k = strdup(key)) == NULL)
			return KITH_ENOMEM;
		p = (char *)s->base + at * s->size;
		memmove(p + s->size, p, (s->n - at) * s->size);
		memset(p, 0, s->size);
		memcpy(p, &k, sizeof(k));
		s->n++;
	}
	*el = (char *)s->base + at * s->size;
	return 0;
}

static void
sorted_free(struct sorted *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(*(char **)((char *)s->base + i * s->size));
	free(s->base);
}

static int
times_add(struct times *t, uint64_t ms)
{
	uint64_t *nm;
	size_t ncap;

	if (t->n == t->cap) {
		ncap = t->cap ? t->cap * 2 : 64;
		if ((nm = realloc(t->ms, ncap * sizeof(*nm))) == NULL)
			return KITH_ENOMEM;
		t->ms = nm;
		t->cap = ncap;
	}
	t->ms[t->n++] = ms;
	return 0;
}

static void
day_of(uint64_t ms, char out[11])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 11, "%Y-%m-%d",
	    &tm) != 10)
		strcpy(out, "0000-00-00");
}

static int
in_range(const struct report *r, const char *day)
{

	return (r->from[0] == '\0' || strcmp(day, r->from) >= 0) &&
	    (r->to[0] == '\0' || strcmp(day, r->to) <= 0);
}

/* ${s}'s field ${name} as an integer in 0..1,000,000, else -1. */
static int64_t
count_of(const struct state *s, const char *name)
{
	const struct state_field *f = state_get(s, name);

	if (f == NULL || f->value.type != CODEC_INT || f->value.i < 0 ||
	    f->value.i > 1000000)
		return -1;
	return f->value.i;
}

/* 1 if ${s}'s status is one of the NULL-terminated ${set}. */
static int
status_in(const struct state *s, const char *const *set)
{
	const struct state_field *f = state_get(s, "status");
	size_t i;

	if (f == NULL || f->value.type != CODEC_STR)
		return 0;
	for (i = 0; set[i] != NULL; i++)
		if (strlen(set[i]) == f->value.len &&
		    memcmp(set[i], f->value.s, f->value.len) == 0)
			return 1;
	return 0;
}

/*
 * The row for key ${key} (a field's value; NULL or empty is "(none)"), or
 * NULL with r->rc set.
 */
static struct row *
row_of(struct report *r, const char *key)
{
	void *el;
	int added;

	if (key == NULL || key[0] == '\0')
		key = "(none)";
	if ((r->rc = sorted_get(&r->rows, key, &el, &added)) != 0)
		return NULL;
	return el;
}

/* The row a record created at ${created} falls in by month. */
static struct row *
month_row(struct report *r, uint64_t created)
{
	char day[11];

	day_of(HLC_MS(created), day);
	day[7] = '\0';
	return row_of(r, day);
}

static void
add(struct report *r, struct row *row, enum report_measure m, uint64_t v)
{

	r->total[m] += v;
	if (row != NULL)
		row->v[m] += v;
}

/*
 * The hlc of the first held record of ${entity} whose body sets "status"
 * to each of ${set} (NULL-terminated; at most 4), into ${hlc} (0 if none).
 */
static int
first_set(struct store *st, const uint8_t *entity, const char *const *set,
    uint64_t *hlc)
{
	const struct body_field *f;
	struct record **recs = NULL;
	struct body *b;
	const uint8_t *p;
	size_t n = 0, i, j, len;
	int rc;

	for (j = 0; set[j] != NULL; j++)
		hlc[j] = 0;
	if ((rc = store_entity(st, entity, &recs, &n)) != 0)
		return rc == KITH_ENOTFOUND ? 0 : rc;
	for (i = 0; i < n; i++) {
		if ((p = record_body(recs[i], &len)) == NULL ||
		    body_decode(p, len, &b) != 0)
			continue;
		if ((f = body_get(b, "status")) != NULL &&
		    f->v.type == CODEC_STR)
			for (j = 0; set[j] != NULL; j++)
				if (hlc[j] == 0 && strlen(set[j]) ==
				    f->v.len && memcmp(set[j], f->v.s,
				    f->v.len) == 0)
					hlc[j] = record_header(recs[i])->hlc;
		body_free(b);
	}
	store_records_free(recs, n);
	return 0;
}

static int
session_one(void *arg, const struct state *s)
{
	struct report *r = arg;
	struct session_key *sk;
	struct row *row = NULL;
	char *date = NULL, *group = NULL, *key = NULL, *rg = NULL;
	int64_t reached, in_depth;
	size_t ncap;
	void *el;
	int added;

	if (state_get(s, "erased") != NULL)
		return 0;
	if ((date = state_str(s, "date")) == NULL ||
	    !field_date_ok(date))
		goto out;		/* a session without a day counts nowhere */
	group = state_str(s, "group");
	switch (r->by) {
	case REPORT_BY_COMMUNITY:
		key = state_str(s, "community");
		break;
	case REPORT_BY_AREA:
		key = state_str(s, "area");
		break;
	case REPORT_BY_GROUP:
		key = group != NULL ? strdup(group) : NULL;
		break;
	case REPORT_BY_MONTH:
		if ((key = strdup(date)) != NULL)
			key[7] = '\0';
		break;
	default:
		break;
	}
	if (r->by != REPORT_BY_NONE) {
		/* Remember the session's key, for its insights. */
		if (r->nsessions == r->capsessions) {
			ncap = r->capsessions ? r->capsessions * 2 : 64;
			if ((el = realloc(r->sessions, ncap *
			    sizeof(*r->sessions))) == NULL) {
				r->rc = KITH_ENOMEM;
				goto out;
			}
			r->sessions = el;
			r->capsessions = ncap;
		}
		sk = &r->sessions[r->nsessions++];
		memcpy(sk->entity, state_entity(s), KITH_ENTITY_LEN);
		sk->key = NULL;
		if (key != NULL && (sk->key = strdup(key)) == NULL) {
			r->rc = KITH_ENOMEM;
			goto out;
		}
	}
	if (!in_range(r, date))
		goto out;
	if (r->by != REPORT_BY_NONE && (row = row_of(r, key)) == NULL)
		goto out;
	add(r, row, REPORT_SESSIONS, 1);
	if ((reached = count_of(s, "reached")) >= 0)
		add(r, row, REPORT_REACHED, (uint64_t)reached);
	if ((in_depth = count_of(s, "in_depth")) >= 0)
		add(r, row, REPORT_IN_DEPTH, (uint64_t)in_depth);
	if (group == NULL || group[0] == '\0')
		goto out;
	if ((r->rc = sorted_get(&r->groups, group, &el, &added)) != 0)
		goto out;
	r->total[REPORT_GROUPS] += added;
	if (row != NULL) {
		if ((rg = malloc(strlen(row->key) + strlen(group) + 2)) ==
		    NULL) {
			r->rc = KITH_ENOMEM;
			goto out;
		}
		strcpy(rg, row->key);
		strcat(rg, "\037");
		strcat(rg, group);
		if ((r->rc = sorted_get(&r->row_groups, rg, &el,
		    &added)) != 0)
			goto out;
		row->v[REPORT_GROUPS] += added;
	}
out:
	free(rg);
	free(key);
	free(group);
	free(date);
	return r->rc;
}

/* The row an insight falls in: its session's, by month its own. */
static struct row *
insight_row(struct report *r, const struct state *s)
{
	char *sid;
	uint8_t id[KITH_ENTITY_LEN];
	size_t lo = 0, hi = r->nsessions, mid, i;
	unsigned x;
	int c;

	if (r->by == REPORT_BY_MONTH)
		return month_row(r, state_created(s));
	if ((sid = state_str(s, "session")) == NULL ||
	    strlen(sid) != 2 * KITH_ENTITY_LEN) {
		free(sid);
		return row_of(r, NULL);
	}
	for (i = 0; i < KITH_ENTITY_LEN; i++) {
		if (sscanf(sid + 2 * i, "%2x", &x) != 1)
			break;
		id[i] = (uint8_t)x;
	}
	free(sid);
	if (i < KITH_ENTITY_LEN)
		return row_of(r, NULL);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = memcmp(id, r->sessions[mid].entity,
		    KITH_ENTITY_LEN)) == 0)
			return row_of(r, r->sessions[mid].key);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return row_of(r, NULL);	/* its session is not held */
}

static int
insight_one(void *arg, const struct state *s)
{
	static const char *const closing[] = { "done", "not-possible", NULL };
	struct report *r = arg;
	struct row *row = NULL;
	uint64_t created = state_created(s), hlc[2];
	char day[11];
	int open;

	if (state_get(s, "erased") != NULL)
		return 0;
	day_of(HLC_MS(created), day);
	if (!in_range(r, day))
		return 0;
	if (r->by != REPORT_BY_NONE && (row = insight_row(r, s)) == NULL)
		return r->rc;
	add(r, row, REPORT_INSIGHTS, 1);
	if (state_get(s, "status") != NULL)
		add(r, row, REPORT_RESPONDED, 1);
	if (HLC_MS(created) >= r->open_before_ms)
		return 0;
	open = insight_open(s);
	if (!open && r->bounded) {
		/* Closed now; was it still open at the end of --to? */
		if ((r->rc = first_set(r->st, state_entity(s), closing,
		    hlc)) != 0)
			return r->rc;
		open = (hlc[0] == 0 || HLC_MS(hlc[0]) >= r->end_ms) &&
		    (hlc[1] == 0 || HLC_MS(hlc[1]) >= r->end_ms);
	}
	if (open)
		add(r, row, REPORT_OPEN30, 1);
	return 0;
}

static int
request_one(void *arg, const struct state *s)
{
	static const char *const claimed[] = { "claimed", "fulfilled", NULL };
	static const char *const fulfilled[] = { "fulfilled", NULL };
	struct report *r = arg;
	struct row *row = NULL;
	uint64_t created = state_created(s), hlc[2], claim;
	char day[11], *area;

	if (state_get(s, "erased") != NULL)
		return 0;
	day_of(HLC_MS(created), day);
	if (!in_range(r, day))
		return 0;
	if (r->by == REPORT_BY_MONTH)
		row = month_row(r, created);
	else if (r->by == REPORT_BY_AREA) {
		area = state_str(s, "area");
		row = row_of(r, area);
		free(area);
	}
	if (r->rc != 0)
		return r->rc;
	add(r, row, REPORT_REQUESTS, 1);
	if (!status_in(s, claimed))
		return 0;
	add(r, row, REPORT_CLAIMED, 1);
	if (status_in(s, fulfilled))
		add(r, row, REPORT_FULFILLED, 1);
	if ((r->rc = first_set(r->st, state_entity(s), claimed, hlc)) != 0)
		return r->rc;
	/* A request fulfilled straight from open was claimed then. */
	claim = hlc[0] != 0 && (hlc[1] == 0 || hlc[0] < hlc[1]) ? hlc[0] :
	    hlc[1];
	if (claim != 0 && HLC_MS(claim) >= HLC_MS(created) &&
	    (r->rc = times_add(&r->median[REPORT_TO_CLAIM], HLC_MS(claim) -
	    HLC_MS(created))) != 0)
		return r->rc;
	if (status_in(s, fulfilled) && hlc[1] != 0 &&
	    HLC_MS(hlc[1]) >= HLC_MS(created))
		r->rc = times_add(&r->median[REPORT_TO_FULFIL],
		    HLC_MS(hlc[1]) - HLC_MS(created));
	return r->rc;
}

static int
referral_one(void *arg, const struct state *s)
{
	static const char *const accepted[] = { "accepted", "completed",
		NULL };
	static const char *const completed[] = { "completed", NULL };
	static const char *const declined[] = { "declined", NULL };
	struct report *r = arg;
	struct row *row = NULL;
	uint64_t created = state_created(s);
	char day[11];

	if (state_get(s, "erased") != NULL)
		return 0;
	day_of(HLC_MS(created), day);
	if (!in_range(r, day))
		return 0;
	if (r->by == REPORT_BY_MONTH && (row = month_row(r, created)) == NULL)
		return r->rc;
	add(r, row, REPORT_REFERRALS, 1);
	if (status_in(s, accepted))
		add(r, row, REPORT_ACCEPTED, 1);
	if (status_in(s, completed)) {
		add(r, row, REPORT_COMPLETED, 1);
		add(r, NULL, REPORT_OUTCOMES, 1);
	}
	if (status_in(s, declined)) {
		add(r, row, REPORT_DECLINED, 1);
		add(r, NULL, REPORT_OUTCOMES, 1);
	}
	return 0;
}

static int
volunteer_one(void *arg, const struct state *s)
{
	struct report *r = arg;
	struct lang *l;
	char *active, *langs, *tok, *save;
	int added;
	void *el;

	if (state_get(s, "erased") != NULL ||
	    HLC_MS(state_created(s)) >= r->end_ms)
		return 0;
	if ((active = state_str(s, "active")) != NULL &&
	    strcmp(active, "no") == 0) {
		free(active);
		return 0;
	}
	free(active);
	add(r, NULL, REPORT_VOLUNTEERS, 1);
	if ((langs = state_str(s, "languages")) == NULL)
		return 0;
	for (tok = strtok_r(langs, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((r->rc = sorted_get(&r->langs, tok, &el, &added)) != 0)
			break;
		l = el;
		l->n++;
	}
	free(langs);
	return r->rc;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void
report_suppress(const uint64_t *cells, size_t nrows, size_t ncols,
    const uint64_t *row_totals, const uint64_t *col_totals,
    unsigned char *hidden)
{
	size_t i, j, k, nhid, best, len, stride;
	int changed, pass;

	for (i = 0; i < nrows * ncols; i++)
		hidden[i] = cells[i] < REPORT_MIN;
	/* Secondary suppression until no line gives a cell away. */
	do {
		changed = 0;
		for (pass = 0; pass < 2; pass++) {
			const uint64_t *tot = pass == 0 ? row_totals :
			    col_totals;
			size_t nlines = pass == 0 ? nrows : ncols;

			if (tot == NULL)
				continue;
			len = pass == 0 ? ncols : nrows;
			stride = pass == 0 ? 1 : ncols;
			for (i = 0; i < nlines; i++) {
				size_t first = pass == 0 ? i * ncols : i;

				if (tot[i] < REPORT_MIN)
					continue;
				nhid = 0;
				best = SIZE_MAX;
				for (j = 0; j < len; j++) {
					k = first + j * stride;
					if (hidden[k])
						nhid++;
					else if (best == SIZE_MAX ||
					    cells[k] < cells[best])
						best = k;
				}
				if (nhid == 1 && best != SIZE_MAX) {
					hidden[best] = 1;
					changed = 1;
				}
			}
		}
	} while (changed);
}

/* Decide what the report hides. */
static int
suppress(struct report *r)
{
	enum report_measure cols[REPORT_NMEASURES];
	uint64_t *cells = NULL, *tot = NULL, ctot[REPORT_NMEASURES];
	unsigned char *hid = NULL;
	struct row *rows = r->rows.base;
	struct lang *langs = r->langs.base;
	size_t nc = 0, i, j, n;
	int m;

	for (m = 0; m < REPORT_NMEASURES; m++) {
		r->hidden[m] = r->total[m] < REPORT_MIN;
		if (report_broken(r, m)) {
			ctot[nc] = r->total[m];
			cols[nc++] = m;
		}
	}
	n = r->rows.n > r->langs.n ? r->rows.n : r->langs.n;
	if ((cells = calloc(n * (nc ? nc : 1) + 1, sizeof(*cells))) == NULL ||
	    (tot = calloc(1, sizeof(*tot))) == NULL ||
	    (hid = calloc(n * (nc ? nc : 1) + 1, 1)) == NULL) {
		free(cells);
		free(tot);
		return KITH_ENOMEM;
	}
	for (i = 0; i < r->rows.n; i++)
		for (j = 0; j < nc; j++)
			cells[i * nc + j] = rows[i].v[cols[j]];
	report_suppress(cells, r->rows.n, nc, NULL, ctot, hid);
	for (i = 0; i < r->rows.n; i++)
		for (j = 0; j < nc; j++)
			rows[i].hidden[cols[j]] = hid[i * nc + j];
	/* Volunteers by language: one column; its total is shown. */
	for (i = 0; i < r->langs.n; i++)
		cells[i] = langs[i].n;
	tot[0] = r->total[REPORT_VOLUNTEERS];
	report_suppress(cells, r->langs.n, 1, NULL, tot, hid);
	for (i = 0; i < r->langs.n; i++)
		langs[i].hidden = hid[i];
	free(cells);
	free(tot);
	free(hid);
	return 0;
}

/* ${day} (valid YYYY-MM-DD) at midnight UTC, in ms since the epoch. */
static uint64_t
day_ms(const char *day)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(day) - 1900;
	tm.tm_mon = atoi(day + 5) - 1;
	tm.tm_mday = atoi(day + 8);
	return (uint64_t)timegm(&tm) * 1000;
}

int
report_build(struct store *st, const char *from, const char *to,
    enum report_by by, uint64_t now_ms, struct report **out)
{
	struct report *r;
	size_t i;
	int rc;

	*out = NULL;
	if ((from != NULL && !field_date_ok(from)) ||
	    (to != NULL && !field_date_ok(to)) ||
	    (from != NULL && to != NULL && strcmp(from, to) > 0))
		return KITH_EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return KITH_ENOMEM;
	r->by = by;
	r->st = st;
	r->rows.size = sizeof(struct row);
	r->groups.size = r->row_groups.size = sizeof(char *);
	r->langs.size = sizeof(struct lang);
	if (from != NULL)
		strcpy(r->from, from);
	if (to != NULL) {
		strcpy(r->to, to);
		r->bounded = 1;
		r->end_ms = day_ms(to) + DAY_MS;
	} else
		r->end_ms = now_ms;
	r->open_before_ms = r->end_ms > OPEN_DAYS * DAY_MS ?
	    r->end_ms - OPEN_DAYS * DAY_MS : 0;
	/* Sessions first: their keys place insights. */
	if ((rc = store_states(st, KITH_KIND_SESSION, session_one, r)) != 0 ||
	    (rc = store_states(st, KITH_KIND_INSIGHT, insight_one, r)) != 0 ||
	    (rc = store_states(st, KITH_KIND_REQUEST, request_one, r)) != 0 ||
	    (rc = store_states(st, KITH_KIND_REFERRAL, referral_one,
	    r)) != 0 ||
	    (rc = store_states(st, KITH_KIND_VOLUNTEER, volunteer_one,
	    r)) != 0)
		goto out;
	for (i = 0; i < REPORT_NMEDIANS; i++)
		if (r->median[i].n > 0)	/* none: no array to sort */
			qsort(r->median[i].ms, r->median[i].n,
			    sizeof(uint64_t), cmp_u64);
	if ((rc = suppress(r)) != 0)
		goto out;
	r->st = NULL;
	*out = r;
	r = NULL;	/* transferred */
out:
	report_free(r);
	return rc;
}

void
report_free(struct report *r)
{
	size_t i;

	if (r == NULL)
		return;
	sorted_free(&r->rows);
	sorted_free(&r->groups);
	sorted_free(&r->row_groups);
	sorted_free(&r->langs);
	for (i = 0; i < r->nsessions; i++)
		free(r->sessions[i].key);
	free(r->sessions);
	for (i = 0; i < REPORT_NMEDIANS; i++)
		free(r->median[i].ms);
	free(r);
}

int
report_total(const struct report *r, enum report_measure m, uint64_t *v)
{

	*v = r->total[m];
	return r->hidden[m];
}

int
report_median(const struct report *r, enum report_median which,
    uint64_t *ms)
{
	const struct times *t = &r->median[which];

	if (t->n == 0)
		return KITH_ENOTFOUND;
	*ms = t->n % 2 ? t->ms[t->n / 2] :
	    (t->ms[t->n / 2 - 1] + t->ms[t->n / 2]) / 2;
	return 0;
}

int
report_broken(const struct report *r, enum report_measure m)
{

	switch (r->by) {
	case REPORT_BY_NONE:
		return 0;
	case REPORT_BY_MONTH:
		return m != REPORT_OUTCOMES && m != REPORT_VOLUNTEERS;
	case REPORT_BY_AREA:
		if (m >= REPORT_REQUESTS && m <= REPORT_FULFILLED)
			return 1;
		/* FALLTHROUGH */
	default:
		return m <= REPORT_SESSIONS || (m >= REPORT_INSIGHTS &&
		    m <= REPORT_OPEN30);
	}
}

size_t
report_nrows(const struct report *r)
{

	return r->rows.n;
}

const char *
report_row(const struct report *r, size_t i)
{

	return ((const struct row *)r->rows.base)[i].key;
}

int
report_cell(const struct report *r, size_t i, enum report_measure m,
    uint64_t *v)
{
	const struct row *row = &((const struct row *)r->rows.base)[i];

	*v = row->v[m];
	return row->hidden[m];
}

size_t
report_nlangs(const struct report *r)
{

	return r->langs.n;
}

const char *
report_lang(const struct report *r, size_t i, uint64_t *v, int *hidden)
{
	const struct lang *l = &((const struct lang *)r->langs.base)[i];

	*v = l->n;
	*hidden = l->hidden;
	return l->key;
}
