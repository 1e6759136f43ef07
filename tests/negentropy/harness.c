/*
 * kith's Negentropy harness: speaks the line protocol of the reference's
 * test harnesses (hoytech/negentropy test/cpp/harness.cpp) on stdin and
 * stdout, so the reference's test.pl and fuzz.pl, and our own conformance
 * driver, can drive proto/negentropy.c against any other implementation.
 *
 * In:  item,TIMESTAMP,HEXID   add an item (before seal)
 *      seal                   sort the items, make the reconciliation state
 *      initiate               become the client; print its first message
 *      msg,HEX                a message from the peer
 * Out: msg,HEX                the next message to send
 *      have,HEXID / need,HEXID  (client) ids found in this round
 *      done                   (client) reconciliation is complete
 *
 * Environment: FRAMESIZELIMIT (bytes, 0 = none), as the reference's;
 * KITH_IDLIST_BELOW (kith's policy, negentropy_set_policy; unset = the
 * reference's 32, kithd uses 256).  Any error is fatal: the harness prints
 * it to stderr and exits 1, as the reference's throws.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcrypto.h"
#include "kith.h"
#include "negentropy.h"

struct harness {
	struct negentropy_item *items;
	size_t n, cap;
	struct negentropy *ng;
	size_t limit;
	size_t idlist_below;
	int client;
};

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kith harness: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* Decode the hex string ${s} into a malloc'd buffer. */
static uint8_t *
unhex(const char *s, size_t *outlen)
{
	size_t len = strlen(s);
	uint8_t *b;

	if (len % 2 != 0)
		die("odd hex length %zu", len);
	if ((b = malloc(len / 2 + 1)) == NULL)
		die("out of memory");
	if (kith_unhex(b, len / 2, s) != 0)
		die("bad hex");
	*outlen = len / 2;
	return b;
}

static void
put_hex(const char *tag, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	fputs(tag, stdout);
	fputc(',', stdout);
	for (i = 0; i < n; i++) {
		fputc(digits[p[i] >> 4], stdout);
		fputc(digits[p[i] & 15], stdout);
	}
	fputc('\n', stdout);
}

static int
cmp_item(const void *a, const void *b)
{
	const struct negentropy_item *x = a, *y = b;

	if (x->timestamp != y->timestamp)
		return x->timestamp < y->timestamp ? -1 : 1;
	return memcmp(x->id, y->id, NEGENTROPY_ID_LEN);
}

static void
add_item(struct harness *h, const char *args)
{
	const char *comma;
	char *end;
	uint8_t *id;
	uint64_t ts;
	size_t idlen;

	if (h->ng != NULL)
		die("item after seal");
	errno = 0;
	ts = strtoull(args, &end, 10);
	if (errno != 0 || end == args || *end != ',')
		die("bad item line");
	comma = end;
	id = unhex(comma + 1, &idlen);
	if (idlen != NEGENTROPY_ID_LEN)
		die("id of %zu bytes", idlen);
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 1024;
		if ((h->items = realloc(h->items, h->cap *
		    sizeof(*h->items))) == NULL)
			die("out of memory");
	}
	h->items[h->n].timestamp = ts;
	memcpy(h->items[h->n].id, id, NEGENTROPY_ID_LEN);
	h->n++;
	free(id);
}

static void
seal(struct harness *h)
{
	size_t i;

	if (h->ng != NULL)
		die("already sealed");
	if (h->n > 0)
		qsort(h->items, h->n, sizeof(*h->items), cmp_item);
	for (i = 1; i < h->n; i++)
		if (cmp_item(&h->items[i - 1], &h->items[i]) == 0)
			die("duplicate item inserted");
	if ((h->ng = negentropy_new(h->items, h->n, h->limit)) == NULL)
		die("negentropy_new failed (unsorted items or bad limit)");
	if (h->idlist_below != 0)
		negentropy_set_policy(h->ng, h->idlist_below, 0);
}

static void
send_msg(const struct harness *h, const uint8_t *m, size_t len)
{

	if (h->limit != 0 && len > h->limit)
		die("frameSizeLimit exceeded: %zu > %zu", len, h->limit);
	put_hex("msg", m, len);
}

static void
initiate(struct harness *h)
{
	uint8_t *m;
	size_t len;
	int rc;

	if (h->ng == NULL)
		die("initiate before seal");
	if ((rc = negentropy_initiate(h->ng, &m, &len)) != 0)
		die("initiate: %s", kith_strerror(rc));
	h->client = 1;
	send_msg(h, m, len);
	free(m);
}

static void
message(struct harness *h, const char *hex)
{
	uint8_t *in, *out = NULL;
	uint8_t (*have)[NEGENTROPY_ID_LEN], (*need)[NEGENTROPY_ID_LEN];
	size_t inlen, outlen, nhave, nneed, i;
	int rc;

	if (h->ng == NULL)
		die("msg before seal");
	in = unhex(hex, &inlen);
	if (h->client) {
		rc = negentropy_reconcile_client(h->ng, in, inlen, &out,
		    &outlen, &have, &nhave, &need, &nneed);
		if (rc != 0)
			die("client: %s", kith_strerror(rc));
		for (i = 0; i < nhave; i++)
			put_hex("have", have[i], NEGENTROPY_ID_LEN);
		for (i = 0; i < nneed; i++)
			put_hex("need", need[i], NEGENTROPY_ID_LEN);
		free(have);
		free(need);
		if (out == NULL)
			puts("done");
		else
			send_msg(h, out, outlen);
	} else {
		rc = negentropy_reconcile(h->ng, in, inlen, &out, &outlen);
		if (rc == KITH_EVERSION && inlen > 0 && in[0] >= 0x60 &&
		    in[0] <= 0x6f) {
			/* V1's upgrade rule: name the version we speak. */
			uint8_t v = NEGENTROPY_VERSION;

			send_msg(h, &v, 1);
		} else if (rc != 0)
			die("server: %s", kith_strerror(rc));
		else
			send_msg(h, out, outlen);
	}
	fflush(stdout);
	free(out);
	free(in);
}

int
main(void)
{
	struct harness h;
	const char *e;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	memset(&h, 0, sizeof(h));
	if (kcrypto_init() != 0)
		die("crypto init failed");
	if ((e = getenv("FRAMESIZELIMIT")) != NULL)
		h.limit = strtoull(e, NULL, 10);
	if ((e = getenv("KITH_IDLIST_BELOW")) != NULL)
		h.idlist_below = strtoull(e, NULL, 10);
	while ((len = getline(&line, &cap, stdin)) != -1) {
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (strncmp(line, "item,", 5) == 0)
			add_item(&h, line + 5);
		else if (strcmp(line, "seal") == 0)
			seal(&h);
		else if (strcmp(line, "initiate") == 0)
			initiate(&h);
		else if (strcmp(line, "msg") == 0)
			message(&h, "");
		else if (strncmp(line, "msg,", 4) == 0)
			message(&h, line + 4);
		else
			die("unknown cmd: %s", line);
		fflush(stdout);
	}
	free(line);
	negentropy_free(h.ng);
	free(h.items);
	return 0;
}
