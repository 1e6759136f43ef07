/*
 * kith report: the participation report (node/report.h) as a table, CSV,
 * JSON or a self-contained HTML page.  The counting and the suppression
 * are the domain's; this file only formats, and prints a hidden count as
 * "<5" and nothing else (no bar of its length, no value in a title).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "hlc.h"
#include "kith.h"
#include "report.h"
#include "store.h"
#include "view.h"

#include "cmd.h"

enum fmt { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_HTML };

static const char *const labels[REPORT_NMEASURES] = {
	"groups met", "people reached", "in-depth conversations", "sessions",
	"requests raised", "requests claimed", "requests fulfilled",
	"referrals sent", "referrals accepted", "referrals completed",
	"referrals declined", "referral outcomes", "insights raised",
	"insights responded to", "insights open after 30 days",
	"volunteers active",
};

/* ${v} as text, or "<5" if ${hidden}, into ${buf}. */
static const char *
shown(char buf[24], uint64_t v, int hidden)
{

	if (hidden)
		return "<5";
	snprintf(buf, 24, "%llu", (unsigned long long)v);
	return buf;
}

/* A median as "3d 4h", "2h 05m", "12m" or "40s"; "-" if none. */
static const char *
duration(char buf[32], const struct report *r, enum report_median which)
{
	uint64_t ms, s;

	if (report_median(r, which, &ms) != 0)
		return "-";
	s = ms / 1000;
	if (s >= 86400)
		snprintf(buf, 32, "%llud %lluh", (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, 32, "%lluh %02llum", (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, 32, "%llum", (unsigned long long)(s / 60));
	else
		snprintf(buf, 32, "%llus", (unsigned long long)s);
	return buf;
}

static void
json_str(FILE *f, const char *s)
{

	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* A count in JSON: a number, or the string "<5". */
static void
json_count(FILE *f, uint64_t v, int hidden)
{

	if (hidden)
		fputs("\"<5\"", f);
	else
		fprintf(f, "%llu", (unsigned long long)v);
}

static void
html_str(FILE *f, const char *s)
{

	for (; *s != '\0'; s++)
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
}

static void
print_table(FILE *f, const struct report *r, const char *period)
{
	char buf[24], d[32];
	size_t i, w = 8, nr = report_nrows(r);
	uint64_t v;
	int m, h;

	fprintf(f, "participation report: %s\n\n", period);
	for (i = 0; i < nr; i++)
		if (strlen(report_row(r, i)) > w)
			w = strlen(report_row(r, i));
	fprintf(f, "%-28s %8s", "", "total");
	for (i = 0; i < nr; i++)
		fprintf(f, "  %-*s", (int)w, report_row(r, i));
	fputc('\n', f);
	for (m = 0; m < REPORT_NMEASURES; m++) {
		h = report_total(r, m, &v);
		fprintf(f, "%-28s %8s", labels[m], shown(buf, v, h));
		for (i = 0; report_broken(r, m) && i < nr; i++) {
			h = report_cell(r, i, m, &v);
			fprintf(f, "  %-*s", (int)w, shown(buf, v, h));
		}
		fputc('\n', f);
		if (m == REPORT_FULFILLED) {
			fprintf(f, "%-28s %8s\n", "median time to claim",
			    duration(d, r, REPORT_TO_CLAIM));
			fprintf(f, "%-28s %8s\n", "median time to fulfil",
			    duration(d, r, REPORT_TO_FULFIL));
		}
	}
	if (report_nlangs(r) > 0)
		fprintf(f, "\nactive volunteers by language:\n");
	for (i = 0; i < report_nlangs(r); i++) {
		const char *l = report_lang(r, i, &v, &h);

		fprintf(f, "  %-26s %8s\n", l, shown(buf, v, h));
	}
}

static void
csv_line(FILE *f, const char *by, const char *key, const char *measure,
    const char *value)
{

	view_csv_cell(f, by, strlen(by));
	fputc(',', f);
	view_csv_cell(f, key, strlen(key));
	fprintf(f, ",%s,%s\r\n", measure, value);
}

static void
print_csv(FILE *f, const struct report *r, const char *by)
{
	char buf[24];
	size_t i;
	uint64_t v, ms;
	int m, h;

	fputs("breakdown,key,measure,value\r\n", f);
	for (m = 0; m < REPORT_NMEASURES; m++) {
		h = report_total(r, m, &v);
		csv_line(f, "total", "", report_measure_name(m),
		    shown(buf, v, h));
	}
	for (i = 0; i < REPORT_NMEDIANS; i++) {
		if (report_median(r, i, &ms) != 0)
			continue;
		snprintf(buf, sizeof(buf), "%llu",
		    (unsigned long long)(ms / 1000));
		csv_line(f, "total", "", i == REPORT_TO_CLAIM ?
		    "median_seconds_to_claim" : "median_seconds_to_fulfil",
		    buf);
	}
	for (i = 0; by != NULL && i < report_nrows(r); i++)
		for (m = 0; m < REPORT_NMEASURES; m++) {
			if (!report_broken(r, m))
				continue;
			h = report_cell(r, i, m, &v);
			csv_line(f, by, report_row(r, i),
			    report_measure_name(m), shown(buf, v, h));
		}
	for (i = 0; i < report_nlangs(r); i++) {
		const char *l = report_lang(r, i, &v, &h);

		csv_line(f, "language", l, "volunteers_active",
		    shown(buf, v, h));
	}
}

static void
print_json(FILE *f, const struct report *r, const char *from,
    const char *to, const char *by)
{
	size_t i;
	uint64_t v, ms;
	int m, h;

	fputs("{\"from\":", f);
	if (from != NULL)
		json_str(f, from);
	else
		fputs("null", f);
	fputs(",\"to\":", f);
	if (to != NULL)
		json_str(f, to);
	else
		fputs("null", f);
	fputs(",\"by\":", f);
	if (by != NULL)
		json_str(f, by);
	else
		fputs("null", f);
	fputs(",\"totals\":{", f);
	for (m = 0; m < REPORT_NMEASURES; m++) {
		h = report_total(r, m, &v);
		fprintf(f, "%s\"%s\":", m ? "," : "", report_measure_name(m));
		json_count(f, v, h);
	}
	for (i = 0; i < REPORT_NMEDIANS; i++) {
		fprintf(f, ",\"%s\":", i == REPORT_TO_CLAIM ?
		    "median_seconds_to_claim" : "median_seconds_to_fulfil");
		if (report_median(r, i, &ms) == 0)
			fprintf(f, "%llu", (unsigned long long)(ms / 1000));
		else
			fputs("null", f);
	}
	fputs("},\"rows\":[", f);
	for (i = 0; by != NULL && i < report_nrows(r); i++) {
		fputs(i ? ",{\"key\":" : "{\"key\":", f);
		json_str(f, report_row(r, i));
		for (m = 0; m < REPORT_NMEASURES; m++) {
			if (!report_broken(r, m))
				continue;
			h = report_cell(r, i, m, &v);
			fprintf(f, ",\"%s\":", report_measure_name(m));
			json_count(f, v, h);
		}
		fputc('}', f);
	}
	fputs("],\"volunteers_by_language\":{", f);
	for (i = 0; i < report_nlangs(r); i++) {
		const char *l = report_lang(r, i, &v, &h);

		if (i)
			fputc(',', f);
		json_str(f, l);
		fputc(':', f);
		json_count(f, v, h);
	}
	fputs("}}\n", f);
}

/*
 * One horizontal bar chart of ${n} labelled values.  A hidden value gets
 * no bar, only "<5": a bar's length would give it away.
 */
static void
svg_chart(FILE *f, const char *title, size_t n, const char *const *keys,
    const uint64_t *vals, const int *hid)
{
	const unsigned lw = 180, bw = 360, rh = 22;
	uint64_t max = 0;
	char buf[24];
	size_t i;

	for (i = 0; i < n; i++)
		if (!hid[i] && vals[i] > max)
			max = vals[i];
	fputs("<figure><figcaption>", f);
	html_str(f, title);
	fprintf(f, "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%u\" height=\"%zu\" role=\"img\">\n", lw + bw + 60,
	    n * rh + 4);
	for (i = 0; i < n; i++) {
		unsigned y = (unsigned)i * rh + 2, len = 0;

		if (!hid[i] && max > 0)
			len = (unsigned)(vals[i] * bw / max);
		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"end\">",
		    lw - 6, y + 15);
		html_str(f, keys[i]);
		fputs("</text>", f);
		if (len > 0)
			fprintf(f, "<rect x=\"%u\" y=\"%u\" width=\"%u\" "
			    "height=\"%u\" fill=\"#2a6f97\"/>", lw, y + 2, len,
			    rh - 6);
		fprintf(f, "<text x=\"%u\" y=\"%u\">", lw + len + 4, y + 15);
		html_str(f, shown(buf, vals[i], hid[i]));
		fputs("</text>\n", f);
	}
	fputs("</svg></figure>\n", f);
}

static int
print_html(FILE *f, const struct report *r, const char *period,
    const char *by)
{
	const char **keys = NULL;
	uint64_t *vals = NULL, v;
	int *hid = NULL, m, h, rc = 0;
	size_t i, n = report_nrows(r) > report_nlangs(r) ? report_nrows(r) :
	    report_nlangs(r);
	char buf[24], d[32], d2[32], title[160];

	if ((keys = calloc(n + 1, sizeof(*keys))) == NULL ||
	    (vals = calloc(n + 1, sizeof(*vals))) == NULL ||
	    (hid = calloc(n + 1, sizeof(*hid))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>kith participation report</title>\n<style>body{font-family:"
	    "sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
	    "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
	    "td:first-child{text-align:left}svg text{font-size:13px}"
	    "figcaption{font-weight:bold;margin:1em 0 .3em}</style></head>\n"
	    "<body><h1>Participation report</h1>\n<p>", f);
	html_str(f, period);
	fputs(". Counts below 5 are shown as &lt;5, and so is one more where "
	    "the total would give a hidden count away.</p>\n<table><tr><th>"
	    "measure</th><th>total</th></tr>\n", f);
	for (m = 0; m < REPORT_NMEASURES; m++) {
		h = report_total(r, m, &v);
		fprintf(f, "<tr><td>%s</td><td>", labels[m]);
		html_str(f, shown(buf, v, h));
		fputs("</td></tr>\n", f);
		if (m == REPORT_FULFILLED)
			fprintf(f, "<tr><td>median time to claim</td><td>%s"
			    "</td></tr>\n<tr><td>median time to fulfil</td>"
			    "<td>%s</td></tr>\n", duration(d, r,
			    REPORT_TO_CLAIM), duration(d2, r,
			    REPORT_TO_FULFIL));
	}
	fputs("</table>\n", f);
	for (m = 0; by != NULL && m < REPORT_NMEASURES; m++) {
		if (!report_broken(r, m))
			continue;
		for (i = 0; i < report_nrows(r); i++) {
			keys[i] = report_row(r, i);
			hid[i] = report_cell(r, i, m, &vals[i]);
		}
		snprintf(title, sizeof(title), "%s by %s", labels[m], by);
		svg_chart(f, title, report_nrows(r), keys, vals, hid);
	}
	for (i = 0; i < report_nlangs(r); i++)
		keys[i] = report_lang(r, i, &vals[i], &hid[i]);
	if (report_nlangs(r) > 0)
		svg_chart(f, "active volunteers by language", report_nlangs(r),
		    keys, vals, hid);
	fputs("</body></html>\n", f);
out:
	free(keys);
	free(vals);
	free(hid);
	return rc;
}

int
cmd_report(struct ctx *c, int argc, char **argv)
{
	static const char help[] =
	    "usage: kith report [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
	    "           [--by community|area|group|month]\n"
	    "           [--format table|csv|json|html]\n"
	    "\n"
	    "The participation report over the records this node holds: groups\n"
	    "met, people reached, in-depth conversations and sessions; requests\n"
	    "raised, claimed and fulfilled, with the median times to claim and\n"
	    "to fulfil; referrals sent, accepted, completed and declined;\n"
	    "insights raised, responded to and open after 30 days; active\n"
	    "volunteers by language.  --from and --to bound the days (UTC,\n"
	    "inclusive): a session's date, anything else's creation.  --by\n"
	    "breaks the measures down.  Any count below 5 is shown as <5, and\n"
	    "so is the next smallest of a breakdown where the total would give\n"
	    "a hidden count away.  --format html writes a page with charts.\n";
	static const struct opt spec[] = { { "from", 1 }, { "to", 1 },
		{ "by", 1 }, { "format", 1 }, { NULL, 0 } };
	static const char *const formats[] = { "table", "csv", "json", "html",
		NULL };
	enum report_by by = REPORT_BY_NONE;
	struct report *r = NULL;
	const char *from, *to, *bys, *fs;
	char period[64];
	enum fmt fmt = FMT_TABLE;
	struct args a;
	int rc, i;

	if ((rc = parse_args(c, spec, 0, argc, argv, &a)) != 0)
		return rc == HELP ? usage(help) : rc;
	from = arg(spec, &a, "from");
	to = arg(spec, &a, "to");
	bys = arg(spec, &a, "by");
	fs = arg(spec, &a, "format");
	if (bys != NULL && report_by_parse(bys, &by) != 0)
		return fail(c, EX_USAGE, "--by: one of community, area, group, "
		    "month");
	if (fs != NULL) {
		for (i = 0; formats[i] != NULL; i++)
			if (strcmp(fs, formats[i]) == 0)
				break;
		if (formats[i] == NULL)
			return fail(c, EX_USAGE, "--format: one of table, csv, "
			    "json, html");
		fmt = (enum fmt)i;
	}
	if ((from != NULL && !field_date_ok(from)) ||
	    (to != NULL && !field_date_ok(to)))
		return fail(c, EX_USAGE, "--%s: a date as YYYY-MM-DD",
		    from != NULL && !field_date_ok(from) ? "from" : "to");
	if (from != NULL && to != NULL && strcmp(from, to) > 0)
		return fail(c, EX_USAGE, "--from is after --to");
	if ((rc = open_home(c, 0, 1)) != 0)
		return rc;
	if ((rc = report_build(c->st, from, to, by, hlc_wall_ms(), &r)) != 0)
		return fail(c, exit_for(rc), "%s", kith_strerror(rc));
	snprintf(period, sizeof(period), "%s to %s", from != NULL ? from :
	    "the first record", to != NULL ? to : "now");
	switch (fmt) {
	case FMT_TABLE:
		print_table(stdout, r, period);
		break;
	case FMT_CSV:
		print_csv(stdout, r, bys);
		break;
	case FMT_JSON:
		print_json(stdout, r, from, to, bys);
		break;
	case FMT_HTML:
		rc = print_html(stdout, r, period, bys);
		break;
	}
	report_free(r);
	if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
		rc = KITH_EIO;
	return rc == 0 ? 0 : fail(c, exit_for(rc), "%s", kith_strerror(rc));
}
