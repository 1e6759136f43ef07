/*
 * find: the folding of names and numbers, and the blind index kept up to
 * date and searched through the domain calls a node makes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "actor.h"
#include "body.h"
#include "entity.h"
#include "field.h"
#include "find.h"
#include "kcrypto.h"
#include "kith.h"
#include "request.h"
#include "state.h"
#include "store.h"
#include "testutil.h"

/* The words of ${name}, joined by "|". */
static const char *
words(const char *name)
{
	static char out[1024];
	char w[FIND_TOKENS_MAX][FIND_TOKEN_MAX + 1];
	size_t n, i;

	n = find_name_words(name, strlen(name), w, FIND_TOKENS_MAX);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(out, "|");
		strcat(out, w[i]);
	}
	return out;
}

static void
test_words(void **state)
{

	(void)state;
	assert_string_equal(words("Ann Smith"), "ann|smith");
	assert_string_equal(words("  ANN\tsmith  "), "ann|smith");
	/* Polish: ł/Ł, ą/Ą, ę, ś, ż, ó, ń, ć. */
	assert_string_equal(words("Łucja Wąsowska-Żółć"),
	    "lucja|wasowska|zolc");
	assert_string_equal(words("ŁUCJA WĄSOWSKA"), "lucja|wasowska");
	assert_string_equal(words("Grzegorz Brzęczyszczykiewicz"),
	    "grzegorz|brzeczyszczykiewicz");
	assert_string_equal(words("Mikołaj Ślusarczyk"), "mikolaj|slusarczyk");
	/* Romanian: comma below (Ș ș Ț ț) and cedilla (Ş ş Ţ ţ) alike. */
	assert_string_equal(words("Ștefan Țurcanu"), "stefan|turcanu");
	assert_string_equal(words("Ştefan Ţurcanu"), "stefan|turcanu");
	assert_string_equal(words("Ioana Bălănescu-Dumitrașcu"),
	    "ioana|balanescu|dumitrascu");
	assert_string_equal(words("Îndrăgită Râmnicu"), "indragita|ramnicu");
	/* Somali: ASCII, an apostrophe (straight or curly) joins. */
	assert_string_equal(words("Cabdiraxmaan Xuseen Maxamed"),
	    "cabdiraxmaan|xuseen|maxamed");
	assert_string_equal(words("Faadumo Ka'ab"), "faadumo|kaab");
	assert_string_equal(words("FAADUMO KA\xe2\x80\x99" "AB"), "faadumo|kaab");
	/* Latin-1 letters; a decomposed accent is dropped. */
	assert_string_equal(words("Zoë Müller-Lüdenscheidt"),
	    "zoe|muller|ludenscheidt");
	assert_string_equal(words("Zoe\xcc\x88 O'Brien"), "zoe|obrien");
	assert_string_equal(words("Straße Æsir Œuvre Søren"),
	    "strasse|aesir|oeuvre|soren");
	/* Cyrillic capitals lower-cased; Arabic script (Pashto) kept. */
	assert_string_equal(words("ОЛЬГА Шевченко"), "ольга|шевченко");
	assert_string_equal(words("احمد ولي"), "احمد|ولي");
	/* Punctuation and no-break spaces separate; nothing is no word. */
	assert_string_equal(words("Ann\xc2\xa0" "Smith, Jr."), "ann|smith|jr");
	assert_string_equal(words(" -.,; "), "");
	assert_string_equal(words(""), "");
	/* A bad UTF-8 byte is kept as it is, not a crash. */
	assert_string_equal(words("a\xff" "b c"), "a\xff" "b|c");
}

static void
test_words_bounds(void **state)
{
	char w[FIND_TOKENS_MAX][FIND_TOKEN_MAX + 1], name[400];
	size_t n;

	(void)state;
	/* A long word is cut at FIND_TOKEN_MAX, at a character's end. */
	memset(name, 'a', 100);
	name[100] = '\0';
	n = find_name_words(name, strlen(name), w, FIND_TOKENS_MAX);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(w[0]), FIND_TOKEN_MAX);
	memset(name, 0, sizeof(name));
	for (n = 0; n < 40; n++)
		strcat(name, "\xc5\x81");	/* Ł: 2 bytes, folds to 1 */
	strcat(name, "\xd0\x96\xd0\x96");	/* Ж: stays 2 bytes */
	for (n = 0; n < 30; n++)
		strcat(name, "\xd0\x96");
	n = find_name_words(name, strlen(name), w, FIND_TOKENS_MAX);
	assert_int_equal(n, 1);
	assert_true(strlen(w[0]) <= FIND_TOKEN_MAX);
	assert_int_equal(strlen(w[0]) % 2, 0);	/* 40 l, then whole Ж */
	/* At most the words asked for. */
	strcpy(name, "a b c d e f g h i j k l m n o p q r s");
	assert_int_equal(find_name_words(name, strlen(name), w, 3), 3);
	assert_string_equal(w[2], "c");
	assert_int_equal(find_name_words(name, strlen(name), w,
	    FIND_TOKENS_MAX), FIND_TOKENS_MAX);
}

static const char *
phone(const char *in)
{
	static char out[FIND_PHONE_MAX + 1];

	return find_phone(in, strlen(in), out) == 0 ? out : "(none)";
}

static void
test_phone(void **state)
{

	(void)state;
	/* A UK number however it is written. */
	assert_string_equal(phone("020 7946 0000"), "02079460000");
	assert_string_equal(phone("+44 20 7946 0000"), "02079460000");
	assert_string_equal(phone("02079460000"), "02079460000");
	assert_string_equal(phone("+44 (0)20 7946 0000"), "02079460000");
	assert_string_equal(phone("0044 20 7946 0000"), "02079460000");
	assert_string_equal(phone("+442079460000"), "02079460000");
	assert_string_equal(phone("(020) 7946-0000"), "02079460000");
	assert_string_equal(phone("07700 900123"), "07700900123");
	assert_string_equal(phone("+44 7700 900123"), "07700900123");
	/* Another country's keeps its code. */
	assert_string_equal(phone("+48 22 123 45 67"), "+48221234567");
	assert_string_equal(phone("0048 22 123 45 67"), "+48221234567");
	assert_string_equal(phone("+252 61 234 5678"), "+252612345678");
	/* Not phone numbers. */
	assert_string_equal(phone("Ann"), "(none)");
	assert_string_equal(phone("020 7946 0000 ext 2"), "(none)");
	assert_string_equal(phone("12345"), "(none)");
	assert_string_equal(phone("1234567890123456"), "(none)");
	assert_string_equal(phone("20+44"), "(none)");
	assert_string_equal(phone(""), "(none)");
}

static void
test_nhs(void **state)
{
	char out[11];

	(void)state;
	assert_int_equal(find_nhs("9434765919", 10, out), 0);
	assert_string_equal(out, "9434765919");
	assert_int_equal(find_nhs("943 476 5919", 12, out), 0);
	assert_string_equal(out, "9434765919");
	assert_int_equal(find_nhs("943-476-5919", 12, out), 0);
	assert_string_equal(out, "9434765919");
	assert_int_equal(find_nhs("943 476 591", 11, out), KITH_EINVAL);
	assert_int_equal(find_nhs("94347659190", 11, out), KITH_EINVAL);
	assert_int_equal(find_nhs("943 476 591x", 12, out), KITH_EINVAL);
}

/* A node with a store of its own network, and a second organisation. */
struct fx {
	char dir[256], dir2[256];
	struct kcrypto_key *key, *other;
	struct store *st;
	struct actor act;
	uint8_t net[KITH_NETWORK_LEN];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tu_tmpdir(f->dir, sizeof(f->dir));
	f->key = tu_key(1);
	f->other = tu_key(2);
	f->st = tu_store(f->dir, f->key, f->net);
	actor_init(&f->act, f->st, f->key);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	tu_rmrf(f->dir);
	kcrypto_key_free(f->key);
	kcrypto_key_free(f->other);
	free(f);
	return 0;
}

/* Add a request with ${name} and ${tel}; its id into ${id}. */
static void
add(struct fx *f, const char *name, const char *tel,
    uint8_t id[KITH_ENTITY_LEN])
{
	struct field_in in[4] = { { "category", "food" }, { "area", "TW3" },
		{ "name", name }, { "phone", tel } };

	assert_int_equal(request_add(&f->act, in, tel != NULL ? 4 : 3), 0);
	memcpy(id, f->act.entity, KITH_ENTITY_LEN);
}

struct got {
	size_t n;
	uint8_t id[8][KITH_ENTITY_LEN];
};

static int
got_one(void *arg, const struct state *s, const struct body *opened)
{
	struct got *g = arg;

	assert_non_null(opened);
	if (g->n < 8)
		memcpy(g->id[g->n], state_entity(s), KITH_ENTITY_LEN);
	g->n++;
	return 0;
}

static size_t
find(struct fx *f, const char *text, struct got *g)
{
	size_t n;

	memset(g, 0, sizeof(*g));
	assert_int_equal(find_search(&f->act, text, 0, 0, got_one, g, &n), 0);
	assert_int_equal(n, g->n);
	return n;
}

/*
 * Through the domain: names and numbers are found whatever their form;
 * a renamed entity by its new name only; an erased one never; the index
 * never holds a name in the clear; a read-only store finds the same.
 */
static void
test_search(void **state)
{
	struct fx *f = *state;
	struct field_in rn = { "name", "Anna Nowak" };
	uint8_t r1[KITH_ENTITY_LEN], r2[KITH_ENTITY_LEN], r3[KITH_ENTITY_LEN];
	struct store *ro;
	struct actor ra;
	struct got g;
	size_t n;
	int rc;

	add(f, "Łucja Wąsowska", "020 7946 0000", r1);
	add(f, "Ann Smith", "+44 7700 900123", r2);
	add(f, "Ann Wąsowska", NULL, r3);
	assert_int_equal(find(f, "wasowska", &g), 2);
	assert_int_equal(find(f, "ŁUCJA", &g), 1);
	assert_memory_equal(g.id[0], r1, KITH_ENTITY_LEN);
	assert_int_equal(find(f, "ann wąsowska", &g), 1);
	assert_memory_equal(g.id[0], r3, KITH_ENTITY_LEN);
	assert_int_equal(find(f, "+44 20 7946 0000", &g), 1);
	assert_memory_equal(g.id[0], r1, KITH_ENTITY_LEN);
	assert_int_equal(find(f, "07700900123", &g), 1);
	assert_memory_equal(g.id[0], r2, KITH_ENTITY_LEN);
	assert_int_equal(find(f, "Smyth", &g), 0);
	assert_int_equal(find(f, "wasow", &g), 0);	/* whole words */
	/* Too short, or nothing to find. */
	assert_int_equal(find_search(&f->act, "a", 0, 0, got_one, &g, &n),
	    KITH_EINVAL);
	assert_int_equal(find_search(&f->act, "--", 0, 0, got_one, &g, &n),
	    KITH_EINVAL);
	/* Renamed: the new name finds it, the old one no longer does. */
	assert_int_equal(request_update(&f->act, r2, &rn, 1), 0);
	assert_int_equal(find(f, "smith", &g), 0);
	assert_int_equal(find(f, "nowak", &g), 1);
	assert_memory_equal(g.id[0], r2, KITH_ENTITY_LEN);
	/* Erased: never found, and out of the index at once. */
	assert_int_equal(entity_erase(&f->act, r1, "asked"), 0);
	assert_int_equal(find(f, "lucja", &g), 0);
	assert_int_equal(find(f, "wasowska", &g), 1);
	assert_int_equal(find(f, "02079460000", &g), 0);
	/* A read-only handle finds the same, index or not. */
	assert_non_null(ro = store_open(f->dir, STORE_RDONLY, 0, &rc));
	actor_init(&ra, ro, f->key);
	assert_int_equal(find_update(&ra, &n), KITH_EINVAL);
	memset(&g, 0, sizeof(g));
	assert_int_equal(find_search(&ra, "nowak", 0, 0, got_one, &g, &n), 0);
	assert_int_equal(n, 1);
	store_close(ro);
	/* Another node's key opens nothing here, so finds nothing. */
	actor_init(&ra, f->st, f->other);
	memset(&g, 0, sizeof(g));
	assert_int_equal(find_search(&ra, "nowak", 0, 0, got_one, &g, &n), 0);
	assert_int_equal(n, 0);
	/* A kind given: only that kind. */
	assert_int_equal(find_search(&f->act, "nowak", KITH_KIND_VOLUNTEER, 0,
	    got_one, &g, &n), 0);
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_words_bounds),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_nhs),
		cmocka_unit_test_setup_teardown(test_search, setup, teardown),
	};

	if (kcrypto_init() != 0)
		return 1;
	return tu_run(tests, NULL, NULL);
}
