/*
 * kith-craft: the hostile member of the system tests.
 *
 * The kith command checks what it writes: only a creator or an admin
 * erases, only a referral's recipient answers it, personal fields are
 * sealed to the entity's readers, and every record takes the author's next
 * sequence number, the id of its previous record and a fresh timestamp.  A
 * member who signs records with its own key outside the command is held to
 * none of that: only the merge on each node that receives its records is.
 * kith-craft is that member.  It writes one record (or --count N of them)
 * with every header field the attacker chooses, signs it with the home's
 * key, and puts it into the home's store through store_apply, the ingest a
 * record from a peer goes through.  So the store holds it exactly as a
 * hostile node would, and the next `kith sync` pushes it like any other.
 *
 *	kith-craft HOME [OPTION...]	write; print the new record's id
 *	kith-craft HOME format N	set the store's format number to N; 2
 *					also drops the fingerprint tree: the
 *					store as an older kith wrote it
 *	kith-craft HOME inspect ID	print a held record's header and who
 *					its sealed section is sealed to
 *
 * The options are in usage[] below (kith-craft --help prints them).
 * Examples, as tests/system/trust and tests/system/attacks use it:
 *
 *	# a revocation of the admin, by a member
 *	kith-craft $H --kind revoke --entity member:$ADMIN --set key=$ADMIN
 *	# a record of another kind, stamped 1, addressed to its author, in
 *	# the charter's entity
 *	kith-craft $H --kind request --entity charter --hlc 1 \
 *	    --parents none --audience self --set area=N1
 *	# a personal section sealed to the owner and the attacker
 *	kith-craft $H --entity $R --personal notes=x --seal-to $OWNER,self
 *	# 250 records of 64 distinct field names each, in one new entity
 *	kith-craft $H --entity new --count 250 --wide 64
 *	# the same drawn from 240 names: as wide as an entity may grow
 *	kith-craft $H --entity new --count 250 --wide 64 --wide-pool 240
 *
 * It builds against protocol 1 (commit a69ef3c, whose header has no prev
 * and no nonce) as well as protocol 2, so the attack tests can run against
 * the code before protocol 2; see the KITH_PROTO_VERSION blocks.
 *
 * Test tooling: built by `make build/kith-craft`, never installed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "body.h"
#include "hlc.h"
#include "kcrypto.h"
#include "kith.h"
#include "record.h"
#include "roster.h"
#include "seal.h"
#include "state.h"
#include "store.h"

static const char usage[] =
"usage: kith-craft HOME [OPTION...]\n"
"       kith-craft HOME inspect ID\n"
"       kith-craft HOME format N\n"
"\n"
"Write a record signed with HOME's key into HOME's store (store_apply, as\n"
"if a peer had sent it) and print its id.  Header:\n"
"  --kind K          request (default), volunteer, referral, member, revoke,\n"
"                    erase, charter, or a number 1..65535\n"
"  --entity E        required: 32 hex digits; new (a genesis: a fresh\n"
"                    nonce and the id derived from it; protocol 1: a random\n"
"                    id); charter (the charter's entity); member:KEY (KEY's\n"
"                    member entity); revoke:KEY (the entity of a held\n"
"                    revoke record about KEY)\n"
"  --nonce HEX       with --entity new: this nonce (32 hex digits)\n"
"  --hlc T           N (that raw timestamp, e.g. 1), ms:MS (MS milliseconds\n"
"                    since the epoch, counter 0), now, now-D or now+D with D\n"
"                    a number and ms, s, m, h or d (default: now)\n"
"  --seq N           default: one more than the key's last record held\n"
"  --prev ID|zero    default: the id of the key's record at seq - 1\n"
"  --parents P       none, heads (the entity's heads now; the default but\n"
"                    for a genesis), or ID,ID,...\n"
"  --audience K,...  organisation keys, in that order (self: HOME's key)\n"
"  --expiry T        ms since the epoch, or now+D (default 0: never)\n"
"Body (public fields unless said):\n"
"  --set NAME=VALUE  a string field; for member and revoke records the\n"
"                    fields key, org, role, last are strings\n"
"  --int NAME=N      an integer field (e.g. last_seq, urgency)\n"
"  --nil NAME        a nil field (clears it)\n"
"  --share KEY       the field share, naming KEY\n"
"  --personal NAME=VALUE  a personal field, sealed (needs --seal-to or\n"
"                    --misfile)\n"
"  --seal-to K,...   seal the personal fields to these organisations\n"
"  --misfile KEY     seal them to a stranger, wrap labelled as KEY's\n"
"  --tamper          flip one byte of the sealed ciphertext\n"
"  --wide N          N more fields, named uniquely for each record\n"
"  --wide-pool P     ... named from a pool of P names instead, in turn\n"
"Batch and output:\n"
"  --count N         write N records in one batch, each in the same entity\n"
"                    (the first is the genesis with --entity new), each\n"
"                    following the one before (seq, prev, parents, hlc + 1)\n"
"  --print-entity    print the entity id instead of the record id\n"
"Keys are 64 hex digits, as `kith id` prints, or self.\n";

#define FIELDS_MAX	(2 * KITH_FIELDS_MAX)	/* options given, at most */
#define KEYS_MAX	16

struct field {
	const char *name;
	int type;		/* 's' string, 'i' integer, 'n' nil */
	int personal;
	const char *value;	/* borrowed from argv */
};

struct opts {
	uint64_t kind;
	const char *entity, *nonce, *hlc, *seq, *prev, *parents, *expiry;
	const char *audience, *seal_to, *misfile;
	struct field fields[FIELDS_MAX];
	size_t nfields;
	unsigned wide, wide_pool, count;
	int tamper, print_entity;
};

static void
die(const char *what, int rc)
{

	fprintf(stderr, "kith-craft: %s: %s\n", what, kith_strerror(rc));
	exit(1);
}

static void
bad(const char *what, const char *arg)
{

	fprintf(stderr, "kith-craft: %s: '%s' (see --help)\n", what, arg);
	exit(64);
}

/* An unsigned decimal number, all of ${s}. */
static uint64_t
number(const char *what, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0)
		bad(what, s);
	return v;
}

/*
 * A time: "now", "now+D" or "now-D" (D a number with unit ms, s, m, h or
 * d; ms if none) as milliseconds since the epoch, with ${*rel} set to 1;
 * anything else is left to the caller (${*rel} 0).
 */
static uint64_t
when(const char *what, const char *s, int *rel)
{
	static const struct { const char *u; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "", 1 },
	};
	uint64_t now = hlc_wall_ms(), d;
	char *end;
	size_t i;

	*rel = strncmp(s, "now", 3) == 0;
	if (!*rel)
		return 0;
	if (s[3] == '\0')
		return now;
	if ((s[3] != '+' && s[3] != '-') || s[4] < '0' || s[4] > '9')
		bad(what, s);
	d = strtoull(s + 4, &end, 10);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].u) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		bad(what, s);
	d *= units[i].ms;
	if (s[3] == '-')
		return d > now ? 0 : now - d;
	return now + d;
}

/* A key: 64 hex digits, or "self" for ${key}'s public key. */
static void
parse_key(const char *s, size_t len, const struct kcrypto_key *key,
    uint8_t out[KITH_KEY_LEN])
{
	char buf[2 * KITH_KEY_LEN + 1];

	if (len == 4 && strncmp(s, "self", 4) == 0) {
		memcpy(out, kcrypto_key_public(key), KITH_KEY_LEN);
		return;
	}
	if (len != 2 * KITH_KEY_LEN)
		bad("not a key (64 hex digits or self)", s);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (kith_unhex(out, KITH_KEY_LEN, buf) != 0)
		bad("not a key (64 hex digits or self)", s);
}

/* A comma-separated list of at most ${max} keys (or ids) into ${out}. */
static unsigned
parse_keys(const char *s, const struct kcrypto_key *key,
    uint8_t (*out)[KITH_KEY_LEN], unsigned max)
{
	const char *p = s, *comma;
	unsigned n = 0;

	for (;;) {
		comma = strchr(p, ',');
		if (n == max)
			bad("too many keys or ids", s);
		parse_key(p, comma ? (size_t)(comma - p) : strlen(p), key,
		    out[n++]);
		if (comma == NULL)
			return n;
		p = comma + 1;
	}
}

/* The key's last record held (by sequence number), or seq 0. */
struct last {
	uint64_t seq;
	uint8_t id[KITH_ID_LEN];
	int found;
};

static int
take_id(void *arg, const struct record *rec)
{
	struct last *l = arg;

	/* Of a fork, the first by id: give --prev to choose. */
	if (!l->found)
		memcpy(l->id, record_id(rec), KITH_ID_LEN);
	l->found = 1;
	return 0;
}

/* ${author}'s record at ${seq} into ${id}; 0, or KITH_ENOTFOUND. */
static int
record_at(struct store *st, const uint8_t *author, uint64_t seq,
    uint8_t id[KITH_ID_LEN])
{
	struct last l = { 0, { 0 }, 0 };
	int rc;

	if ((rc = store_by_author(st, author, seq, take_id, &l)) != 0)
		return rc;
	memcpy(id, l.id, KITH_ID_LEN);
	return l.found ? 0 : KITH_ENOTFOUND;
}

/* The highest sequence number ${author} has a record at, counting up. */
static uint64_t
last_seq(struct store *st, const uint8_t *author)
{
	uint8_t id[KITH_ID_LEN];
	uint64_t s = 0;
	int rc;

	while ((rc = record_at(st, author, s + 1, id)) == 0)
		s++;
	if (rc != KITH_ENOTFOUND)
		die("reading the key's chain", rc);
	return s;
}

/* Finds the entity of a held revoke record whose field key is ${key}. */
struct revoke_find {
	const char *key;
	uint8_t entity[KITH_ENTITY_LEN];
	int found;
};

static int
find_revoke(void *arg, const struct record *rec)
{
	struct revoke_find *f = arg;
	const struct record_header *h = record_header(rec);
	const struct body_field *k;
	const uint8_t *p;
	struct body *b;
	size_t n;

	if (h->kind != KITH_KIND_REVOKE ||
	    (p = record_body(rec, &n)) == NULL || body_decode(p, n, &b) != 0)
		return 0;
	if ((k = body_get(b, "key")) != NULL && k->v.type == CODEC_STR &&
	    k->v.len == strlen(f->key) && memcmp(k->v.s, f->key,
	    k->v.len) == 0) {
		memcpy(f->entity, h->entity, KITH_ENTITY_LEN);
		f->found = 1;
	}
	body_free(b);
	return f->found;
}

/*
 * Resolve --entity ${spec} into ${entity}; set ${*genesis} and ${nonce}
 * when it names a new entity (whose genesis this record is).
 */
static void
resolve_entity(struct store *st, const struct kcrypto_key *key,
    const uint8_t *net, uint64_t kind, const char *spec, const char *nonce_hex,
    uint8_t entity[KITH_ENTITY_LEN], int *genesis, uint8_t *nonce)
{
	struct record *charter;
	struct revoke_find f;
	uint8_t k[KITH_KEY_LEN];
	int rc;

	*genesis = 0;
	if (strcmp(spec, "new") == 0) {
		*genesis = 1;
		if (nonce_hex == NULL)
			kcrypto_random(nonce, 16);
		else if (strlen(nonce_hex) != 32 ||
		    kith_unhex(nonce, 16, nonce_hex) != 0)
			bad("--nonce: 32 hex digits", nonce_hex);
#if KITH_PROTO_VERSION >= 2
		record_entity_derive(net, kind, kcrypto_key_public(key), nonce,
		    entity);
#else
		/* Protocol 1: an entity id is random, its first record anything. */
		(void)net;
		(void)kind;
		memcpy(entity, nonce, KITH_ENTITY_LEN);
#endif
	} else if (strcmp(spec, "charter") == 0) {
		if ((rc = store_charter(st, &charter)) != 0)
			die("charter", rc);
		memcpy(entity, record_header(charter)->entity,
		    KITH_ENTITY_LEN);
		record_free(charter);
	} else if (strncmp(spec, "member:", 7) == 0) {
		parse_key(spec + 7, strlen(spec + 7), key, k);
		roster_member_entity(k, entity);
	} else if (strncmp(spec, "revoke:", 7) == 0) {
		memset(&f, 0, sizeof(f));
		f.key = spec + 7;
		if ((rc = store_range(st, 0, NULL, UINT64_MAX, NULL,
		    find_revoke, &f)) < 0)
			die("reading the store", rc);
		if (!f.found)
			bad("no revoke record held about", spec + 7);
		memcpy(entity, f.entity, KITH_ENTITY_LEN);
	} else if (strlen(spec) != 2 * KITH_ENTITY_LEN ||
	    kith_unhex(entity, KITH_ENTITY_LEN, spec) != 0) {
		bad("--entity", spec);
	}
	if (nonce_hex != NULL && !*genesis)
		bad("--nonce goes with --entity new", nonce_hex);
}

/* The entity's heads now, into ${parents}; none if it has no state. */
static unsigned
heads(struct store *st, const uint8_t entity[KITH_ENTITY_LEN],
    uint8_t (*parents)[KITH_ID_LEN])
{
	struct state *s;
	unsigned i, n;
	int rc;

	if ((rc = store_state(st, entity, &s)) == KITH_ENOTFOUND)
		return 0;
	if (rc != 0)
		die("entity state", rc);
	n = (unsigned)state_nheads(s);
	if (n > KITH_PARENTS_MAX)
		n = KITH_PARENTS_MAX;
	for (i = 0; i < n; i++)
		memcpy(parents[i], state_head(s, i), KITH_ID_LEN);
	state_free(s);
	return n;
}

/*
 * The body of record ${i} of the batch: the fields given, ${o->wide} more
 * named after ${tag} and ${i}, the personal ones sealed as asked.  Return
 * it encoded in ${*out} (the caller frees it).
 */
static void
make_body(const struct opts *o, const struct kcrypto_key *key,
    const uint8_t entity[KITH_ENTITY_LEN], const char *tag, unsigned i,
    uint8_t **out, size_t *len)
{
	uint8_t rcpt[KEYS_MAX][KITH_KEY_LEN], label[32], pk[32] = { 0 }, sk[32];
	char name[KITH_NAME_MAX + 1];
	struct kcrypto_key *stranger = NULL;
	struct codec_value nil;
	struct body *b;
	uint8_t *blob, *hit;
	const uint8_t *sealed;
	size_t j, n = 0, npersonal = 0, slen;
	int rc = 0;

	if ((b = body_new()) == NULL)
		die("body", KITH_ENOMEM);
	memset(&nil, 0, sizeof(nil));
	nil.type = CODEC_NIL;
	for (j = 0; rc == 0 && j < o->nfields; j++) {
		const struct field *f = &o->fields[j];

		npersonal += f->personal;
		if (f->type == 'i')
			rc = body_set_int(b, f->name, 0,
			    strtoll(f->value, NULL, 10));
		else if (f->type == 'n')
			rc = body_set(b, f->name, 0, &nil);
		else
			rc = body_set_str(b, f->name, f->personal, f->value);
		if (rc != 0)
			die(f->name, rc);
	}
	for (j = 0; j < o->wide; j++) {
		if (o->wide_pool > 0)
			snprintf(name, sizeof(name), "w%.4s_%zu", tag,
			    (i * o->wide + j) % o->wide_pool);
		else
			snprintf(name, sizeof(name), "w%.4s_%u_%zu", tag, i, j);
		if ((rc = body_set_str(b, name, 0, "v")) != 0)
			die(name, rc);
	}
	if (npersonal > 0) {
		if (o->misfile != NULL) {
			/* Sealed to a stranger, its wrap labelled for KEY. */
			parse_key(o->misfile, strlen(o->misfile), key, label);
			if (kcrypto_x25519_public(label, label) != 0 ||
			    (stranger = kcrypto_key_generate()) == NULL ||
			    kcrypto_key_x25519(stranger, pk, sk) != 0)
				die("--misfile", KITH_EINVAL);
			kcrypto_wipe(sk, sizeof(sk));
			memcpy(rcpt[0], pk, 32);
			n = 1;
			kcrypto_key_free(stranger);
		} else if (o->seal_to != NULL) {
			n = parse_keys(o->seal_to, key, rcpt, KEYS_MAX);
			for (j = 0; j < n; j++)
				if (kcrypto_x25519_public(rcpt[j], rcpt[j]) != 0)
					bad("--seal-to: not a usable key",
					    o->seal_to);
		} else {
			bad("personal fields need --seal-to or --misfile",
			    o->fields[0].name);
		}
		if ((rc = body_seal(b, entity, (const uint8_t (*)[32])rcpt,
		    n)) != 0)
			die("seal", rc);
	}
	if ((o->tamper || o->misfile != NULL) &&
	    (sealed = body_sealed(b, &slen)) != NULL) {
		if ((blob = malloc(slen)) == NULL)
			die("seal", KITH_ENOMEM);
		memcpy(blob, sealed, slen);
		if (o->misfile != NULL) {
			for (hit = blob; hit + 32 <= blob + slen; hit++)
				if (memcmp(hit, pk, 32) == 0)
					break;
			if (hit + 32 > blob + slen)
				die("relabel", KITH_ENOTFOUND);
			memcpy(hit, label, 32);
		}
		/* [nonce: c4 18 +24, ciphertext: c4|c5 LEN ...]: its 4th byte. */
		if (o->tamper)
			blob[1 + 2 + 24 + 2 + 3] ^= 0x01;
		if ((rc = body_set_sealed(b, blob, slen)) != 0)
			die("re-sealed section", rc);
		free(blob);
	} else if (o->tamper) {
		bad("--tamper needs a sealed section", "--personal");
	}
	if ((rc = body_encode(b, out, len)) != 0)
		die("body", rc);
	body_free(b);
}

/* Print a held record's header, and its seal's recipients by roster key. */
static int
inspect(struct store *st, const char *hexid)
{
	const struct roster_entry *e;
	const struct record_header *h;
	struct roster *r = NULL;
	struct record *rec;
	struct seal *s;
	struct body *b;
	uint8_t id[KITH_ID_LEN];
	char hex[2 * KITH_ID_LEN + 1], t[40];
	const uint8_t *p, *sealed;
	size_t i, n;
	int rc;

	if (strlen(hexid) != 2 * KITH_ID_LEN ||
	    kith_unhex(id, KITH_ID_LEN, hexid) != 0)
		bad("ID: 64 hex digits", hexid);
	if ((rc = store_get(st, id, &rec)) != 0)
		die(hexid, rc);
	h = record_header(rec);
	printf("id %s\n", hexid);
	kith_hex(hex, h->author, KITH_KEY_LEN);
	printf("author %s\nseq %" PRIu64 "\n", hex, h->seq);
#if KITH_PROTO_VERSION >= 2
	kith_hex(hex, h->prev, KITH_ID_LEN);
	printf("prev %s\n", hex);
	if (h->genesis) {
		kith_hex(hex, h->nonce, KITH_NONCE_LEN);
		printf("nonce %s\n", hex);
	}
#endif
	hlc_format(t, h->hlc);
	printf("hlc %" PRIu64 " %s\nkind %" PRIu64 "\n", h->hlc, t, h->kind);
	kith_hex(hex, h->entity, KITH_ENTITY_LEN);
	printf("entity %s\n", hex);
	for (i = 0; i < h->nparents; i++) {
		kith_hex(hex, h->parents[i], KITH_ID_LEN);
		printf("parent %s\n", hex);
	}
	for (i = 0; i < h->naudience; i++) {
		kith_hex(hex, h->audience[i], KITH_KEY_LEN);
		printf("audience %s\n", hex);
	}
	printf("expiry %" PRIu64 "\n", h->expiry);
	if ((p = record_body(rec, &n)) == NULL) {
		printf("body none\n");
	} else if (body_decode(p, n, &b) == 0) {
		if ((sealed = body_sealed(b, &n)) != NULL &&
		    seal_decode(sealed, n, &s) == 0) {
			/* Name each recipient by the member key it belongs to. */
			(void)store_roster(st, &r);
			for (i = 0; i < seal_nrecipients(s); i++) {
				e = r ? roster_find_x25519(r,
				    seal_recipient(s, i)) : NULL;
				kith_hex(hex, e ? e->key : seal_recipient(s, i),
				    32);
				printf("sealed-to %s%s\n", e ? "" : "x25519:",
				    hex);
			}
			seal_free(s);
			roster_free(r);
		}
		body_free(b);
	}
	record_free(rec);
	return 0;
}

/* Add field ${arg} ("NAME=VALUE", or "NAME" for nil) to ${o}. */
static void
add_field(struct opts *o, const char *opt, char *arg, int type, int personal)
{
	char *eq = strchr(arg, '=');

	if (o->nfields == FIELDS_MAX)
		bad("too many fields", arg);
	if ((type == 'n') != (eq == NULL))
		bad(opt, arg);
	if (eq != NULL)
		*eq = '\0';
	o->fields[o->nfields].name = arg;
	o->fields[o->nfields].type = type;
	o->fields[o->nfields].personal = personal;
	o->fields[o->nfields].value = eq ? eq + 1 : NULL;
	o->nfields++;
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static char share[2][2 * KITH_KEY_LEN + 7];
	int i, nshare = 0;

	memset(o, 0, sizeof(*o));
	o->kind = KITH_KIND_REQUEST;
	o->count = 1;
	for (i = 0; i < argc; i++) {
		const char *opt = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int flag = strcmp(opt, "--tamper") == 0 ||
		    strcmp(opt, "--print-entity") == 0;

		if (!flag && v == NULL)
			bad("option needs a value", opt);
		if (!flag)
			i++;
		if (strcmp(opt, "--kind") == 0) {
			if (kith_kind_parse(v, &o->kind) != 0)
				o->kind = number("--kind", v);
		} else if (strcmp(opt, "--entity") == 0)
			o->entity = v;
		else if (strcmp(opt, "--nonce") == 0)
			o->nonce = v;
		else if (strcmp(opt, "--hlc") == 0)
			o->hlc = v;
		else if (strcmp(opt, "--seq") == 0)
			o->seq = v;
		else if (strcmp(opt, "--prev") == 0)
			o->prev = v;
		else if (strcmp(opt, "--parents") == 0)
			o->parents = v;
		else if (strcmp(opt, "--audience") == 0)
			o->audience = v;
		else if (strcmp(opt, "--expiry") == 0)
			o->expiry = v;
		else if (strcmp(opt, "--set") == 0)
			add_field(o, opt, argv[i], 's', 0);
		else if (strcmp(opt, "--int") == 0)
			add_field(o, opt, argv[i], 'i', 0);
		else if (strcmp(opt, "--nil") == 0)
			add_field(o, opt, argv[i], 'n', 0);
		else if (strcmp(opt, "--personal") == 0)
			add_field(o, opt, argv[i], 's', 1);
		else if (strcmp(opt, "--share") == 0) {
			if (nshare == 2)
				bad("--share: at most twice", v);
			snprintf(share[nshare], sizeof(share[0]), "share=%s", v);
			add_field(o, opt, share[nshare++], 's', 0);
		} else if (strcmp(opt, "--seal-to") == 0)
			o->seal_to = v;
		else if (strcmp(opt, "--misfile") == 0)
			o->misfile = v;
		else if (strcmp(opt, "--wide") == 0)
			o->wide = (unsigned)number("--wide", v);
		else if (strcmp(opt, "--wide-pool") == 0)
			o->wide_pool = (unsigned)number("--wide-pool", v);
		else if (strcmp(opt, "--count") == 0)
			o->count = (unsigned)number("--count", v);
		else if (strcmp(opt, "--tamper") == 0)
			o->tamper = 1;
		else if (strcmp(opt, "--print-entity") == 0)
			o->print_entity = 1;
		else
			bad("unknown option", opt);
	}
	if (o->entity == NULL)
		bad("--entity is required", "");
	if (o->count < 1 || o->count > 100000)
		bad("--count", "1..100000");
}

/* Report a record store_apply refused. */
static void
rejected(void *arg, const struct record *rec, int rc)
{
	char hex[2 * KITH_ID_LEN + 1];

	(void)arg;
	kith_hex(hex, record_id(rec), KITH_ID_LEN);
	fprintf(stderr, "kith-craft: %s refused by the store: %s\n", hex,
	    kith_strerror(rc));
}

/*
 * The store of ${home} as a kith of format ${fmt} would have left it:
 * that number, for 2 no fingerprint tree, and below 4 no blind index.  LMDB straight, as only a
 * test may: the store itself refuses to write an old format.
 */
static int
set_format(const char *home, const char *fmt)
{
	char path[4200];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t f;
	MDB_val k = { 6, "schema" }, v = { 1, &f };
	int rc;

	f = (uint8_t)number("format", fmt);
	snprintf(path, sizeof(path), "%s/store", home);
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 64)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, STORE_MAP_INITIAL)) != 0 ||
	    (rc = mdb_env_open(env, path, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		fprintf(stderr, "kith-craft: %s: %s\n", path, mdb_strerror(rc));
		return 1;
	}
	if (f == 2 && (rc = mdb_dbi_open(txn, "fp", 0, &dbi)) == 0)
		rc = mdb_drop(txn, dbi, 1);
	if ((rc == 0 || rc == MDB_NOTFOUND) && f < 4 &&
	    (rc = mdb_dbi_open(txn, "blind", 0, &dbi)) == 0)
		rc = mdb_drop(txn, dbi, 1);
	if ((rc == 0 || rc == MDB_NOTFOUND) &&
	    (rc = mdb_dbi_open(txn, "meta", 0, &dbi)) == 0 &&
	    (rc = mdb_put(txn, dbi, &k, &v, 0)) == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	mdb_env_close(env);
	if (rc != 0) {
		fprintf(stderr, "kith-craft: %s: %s\n", path, mdb_strerror(rc));
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct record_header h;
	struct store_result res;
	struct kcrypto_key *key;
	struct record **recs;
	struct store *st;
	struct opts o;
	uint8_t net[KITH_NETWORK_LEN], entity[KITH_ENTITY_LEN];
	uint8_t nonce[16], prev[KITH_ID_LEN];
	uint8_t parents[KITH_PARENTS_MAX][KITH_ID_LEN];
	char path[4200], hex[2 * KITH_ID_LEN + 1], tag[9];
	uint64_t seq, hlc, expiry = 0;
	unsigned i, nparents = 0;
	int rc, rel, genesis, looking;
	uint8_t *body;
	size_t blen;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 64 : 0;
	}
	if (argc == 4 && strcmp(argv[2], "format") == 0)
		return set_format(argv[1], argv[3]);
	if (kcrypto_init() != 0)
		die("libsodium", KITH_ECRYPTO);
	snprintf(path, sizeof(path), "%s/key", argv[1]);
	if ((key = kcrypto_key_load(path, &rc)) == NULL)
		die(path, rc);
	snprintf(path, sizeof(path), "%s/store", argv[1]);
	looking = argc == 4 && strcmp(argv[2], "inspect") == 0;
	if ((st = store_open(path, looking ? STORE_RDONLY : 0, 0, &rc)) ==
	    NULL || (rc = store_network(st, net)) != 0)
		die(path, rc);
	if (looking) {
		rc = inspect(st, argv[3]);
		store_close(st);
		kcrypto_key_free(key);
		return rc;
	}
	parse_opts(argc - 2, argv + 2, &o);
	resolve_entity(st, key, net, o.kind, o.entity, o.nonce, entity,
	    &genesis, nonce);

	/* The chain: the key's next sequence number and its previous record. */
	seq = o.seq ? number("--seq", o.seq) : last_seq(st,
	    kcrypto_key_public(key)) + 1;
	if (seq < 1)
		bad("--seq", o.seq);
	memset(prev, 0, sizeof(prev));
	if (o.prev != NULL && strcmp(o.prev, "zero") != 0) {
		if (strlen(o.prev) != 2 * KITH_ID_LEN ||
		    kith_unhex(prev, KITH_ID_LEN, o.prev) != 0)
			bad("--prev", o.prev);
	} else if (o.prev == NULL && seq > 1) {
		if ((rc = record_at(st, kcrypto_key_public(key), seq - 1,
		    prev)) != 0)
			die("no record at seq - 1 (give --prev)", rc);
	}
#if KITH_PROTO_VERSION < 2
	if (o.prev != NULL)
		bad("protocol 1 has no prev", o.prev);
#endif

	/* Time: a raw timestamp, ms:MS, or relative to now. */
	hlc = HLC_MAKE(hlc_wall_ms(), 0);
	if (o.hlc != NULL) {
		hlc = HLC_MAKE(when("--hlc", o.hlc, &rel), 0);
		if (!rel)
			hlc = strncmp(o.hlc, "ms:", 3) == 0 ?
			    HLC_MAKE(number("--hlc", o.hlc + 3), 0) :
			    number("--hlc", o.hlc);
	}
	if (o.expiry != NULL) {
		expiry = when("--expiry", o.expiry, &rel);
		if (!rel)
			expiry = number("--expiry", o.expiry);
	}

	/* Parents: none, the heads now, or the ids given. */
	if (o.parents == NULL ? !genesis : strcmp(o.parents, "heads") == 0)
		nparents = heads(st, entity, parents);
	else if (o.parents != NULL && strcmp(o.parents, "none") != 0)
		nparents = parse_keys(o.parents, key, parents,
		    KITH_PARENTS_MAX);

	memset(&h, 0, sizeof(h));
	if (o.kind != KITH_KIND_CHARTER)
		memcpy(h.network, net, KITH_NETWORK_LEN);
	h.kind = o.kind;
	h.expiry = expiry;
	memcpy(h.entity, entity, KITH_ENTITY_LEN);
	if (o.audience != NULL)
		h.naudience = parse_keys(o.audience, key, h.audience,
		    KITH_AUDIENCE_MAX);
	kcrypto_random((uint8_t *)hex, 4);
	for (i = 0; i < 4; i++)
		snprintf(tag + 2 * i, 3, "%02x", (uint8_t)hex[i]);
	if ((recs = calloc(o.count, sizeof(*recs))) == NULL)
		die("records", KITH_ENOMEM);
	for (i = 0; i < o.count; i++) {
		h.seq = seq + i;
		h.hlc = hlc + i;
		h.nparents = nparents;
		memcpy(h.parents, parents, sizeof(parents));
#if KITH_PROTO_VERSION >= 2
		memcpy(h.prev, prev, KITH_ID_LEN);
		h.genesis = genesis && i == 0;
		if (h.genesis)
			memcpy(h.nonce, nonce, KITH_NONCE_LEN);
		else
			memset(h.nonce, 0, KITH_NONCE_LEN);
#endif
		make_body(&o, key, entity, tag, i, &body, &blen);
		if ((rc = record_sign(&h, body, blen, key, &recs[i])) != 0)
			die("sign", rc);
		free(body);
		/* The next record of a batch follows this one. */
		memcpy(prev, record_id(recs[i]), KITH_ID_LEN);
		if (o.parents == NULL || strcmp(o.parents, "none") != 0) {
			memcpy(parents[0], prev, KITH_ID_LEN);
			nparents = 1;
		}
	}
	if ((rc = store_apply(st, recs, o.count, &res, rejected, NULL)) != 0)
		die("store", rc);
	if (res.added + res.duplicate != o.count)
		die("not every record was stored", KITH_EINVAL);
	if (o.print_entity)
		kith_hex(hex, entity, KITH_ENTITY_LEN);
	else
		kith_hex(hex, record_id(recs[o.count - 1]), KITH_ID_LEN);
	printf("%s\n", hex);
	for (i = 0; i < o.count; i++)
		record_free(recs[i]);
	free(recs);
	store_close(st);
	kcrypto_key_free(key);
	return 0;
}
