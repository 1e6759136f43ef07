/*
 * The INI config: the built-in default, values, and every kind of mistake
 * reported as FILE:LINE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "kcrypto.h"
#include "kith.h"
#include "log.h"
#include "testutil.h"

struct fixture {
	char dir[256];
	char path[300];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tu_tmpdir(f->dir, sizeof(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/kith.conf", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	tu_rmrf(f->dir);
	free(f);
	return 0;
}

static void
put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int
load(struct fixture *f, const char *text, struct config *c, char *err)
{
	put(f->path, text);
	config_defaults(c);
	err[0] = '\0';
	return config_load(f->path, c, err, 256);
}

static void
test_default(void **state)
{
	struct fixture *f = *state;
	struct config c;
	char err[256];

	/* The built-in text is itself a valid config. */
	assert_int_equal(load(f, config_default, &c, err), 0);
	assert_string_equal(c.name, "");
	assert_int_equal(c.max_size_mb, 65536);
	/* The defaults are that text's values, with no file read. */
	config_defaults(&c);
	assert_string_equal(c.listen, "tcp://127.0.0.1:7400");
	assert_string_equal(c.feed, "tcp://127.0.0.1:7401");
	assert_int_equal(c.npeers, 0);
	assert_int_equal(c.interval_s, 30);
	assert_int_equal(c.pcn_interval_s, 2);
	/* A PCN's interval has the same bounds as interval. */
	assert_int_equal(load(f, "[sync]\npcn_interval = 5\n", &c, err), 0);
	assert_int_equal(c.pcn_interval_s, 5);
	assert_int_equal(load(f, "[sync]\npcn_interval = 0\n", &c, err),
	    KITH_EINVAL);
	assert_non_null(strstr(err, "pcn_interval must be"));
}

static void
test_values(void **state)
{
	struct fixture *f = *state;
	struct config c;
	char err[256];

	assert_int_equal(load(f, "# comment\n[node]\nname = Feltham Foodbank\n"
	    "[store]\nmax_size_mb = 1024\n", &c, err), 0);
	assert_string_equal(c.name, "Feltham Foodbank");
	assert_int_equal(c.max_size_mb, 1024);
	/* The bounds themselves, with spaces around the value. */
	assert_int_equal(load(f, "[store]\nmax_size_mb =   16  \n", &c, err),
	    0);
	assert_int_equal(c.max_size_mb, 16);
	assert_int_equal(load(f, "[store]\nmax_size_mb=16777216\n", &c, err),
	    0);
	assert_int_equal(c.max_size_mb, 16777216);
	/* A file read over values already there changes only its own. */
	assert_int_equal(load(f, "[store]\nmax_size_mb = 32\n", &c, err), 0);
	put(f->path, "[node]\nname = Hounslow\n");
	assert_int_equal(config_load(f->path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "Hounslow");
	assert_int_equal(c.max_size_mb, 32);
	/* An empty file, and one of comments only, change nothing. */
	assert_int_equal(load(f, "", &c, err), 0);
	assert_int_equal(c.max_size_mb, 65536);
	assert_int_equal(load(f, "; a comment\n# another\n\n", &c, err), 0);
	assert_string_equal(c.name, "");
}

/* [node] log_level and log_file: each level, and the mistakes. */
static void
test_log(void **state)
{
	static const char *const levels[] = { "debug", "info", "warn",
	    "error" };
	static const char *const bad[] = { "", "INFO", "verbose", "1",
	    "info2", "warning" };
	struct fixture *f = *state;
	struct config c;
	char err[256], text[2200], path[CONFIG_PATH_MAX + 1];

	/* The defaults: info, to stderr. */
	config_defaults(&c);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_string_equal(c.log_file, "");
	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "[node]\nlog_level = %s\n",
		    levels[i]);
		assert_int_equal(load(f, text, &c, err), 0);
		assert_int_equal(c.log_level, LOG_DEBUG + i);
		assert_int_equal(log_level_parse(levels[i]), LOG_DEBUG + i);
		assert_string_equal(log_level_name(LOG_DEBUG + i), levels[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[node]\nlog_level = %s\n",
		    bad[i]);
		assert_int_equal(load(f, text, &c, err), KITH_EINVAL);
		assert_non_null(strstr(err, "kith.conf:2: [node] log_level: "
		    "log_level must be debug, info, warn or error"));
		assert_int_equal(log_level_parse(bad[i]), -1);
	}
	assert_int_equal(load(f, "[node]\nlog_file = /var/log/kith/kithd.log\n",
	    &c, err), 0);
	assert_string_equal(c.log_file, "/var/log/kith/kithd.log");
	assert_int_equal(load(f, "[node]\nlog_file = kithd.log\nlog_file =\n",
	    &c, err), 0);
	assert_string_equal(c.log_file, "");
	/* A long path; one too long for a line (or the field) is refused. */
	memset(path, 'p', 150);
	path[150] = '\0';
	snprintf(text, sizeof(text), "[node]\nlog_file = /%s\n", path);
	assert_int_equal(load(f, text, &c, err), 0);
	assert_int_equal(strlen(c.log_file), 151);
	memset(path, 'p', CONFIG_PATH_MAX);
	path[CONFIG_PATH_MAX] = '\0';
	snprintf(text, sizeof(text), "[node]\nlog_file = %s\n", path);
	assert_int_equal(load(f, text, &c, err), KITH_EINVAL);
	assert_true(strstr(err, "log_file is too long") != NULL ||
	    strstr(err, "line too long") != NULL);
	/* In another section they are unknown keys. */
	assert_int_equal(load(f, "[sync]\nlog_level = info\n", &c, err),
	    KITH_EINVAL);
	assert_non_null(strstr(err, "unknown section or key"));
}

static void
test_write_default(void **state)
{
	struct fixture *f = *state;
	struct config c;
	char err[256];

	assert_int_equal(config_write_default(f->path, "St Mary's Aid"), 0);
	config_defaults(&c);
	assert_int_equal(config_load(f->path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "St Mary's Aid");
	/* It never overwrites. */
	assert_int_equal(config_write_default(f->path, "Other"), KITH_EEXIST);
	config_defaults(&c);
	assert_int_equal(config_load(f->path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "St Mary's Aid");
}

/* Names written into the file must read back the same. */
static void
test_names(void **state)
{
	static const char *const good[] = { "St Mary's Aid", "A;B",
	    "Caf\xc3\xa9 & Co #1", "x" };
	static const char *const bad[] = { "", " Lead", "Trail ", "A ;B",
	    "A\t;B", "tab\there" };
	struct fixture *f = *state;
	struct config c;
	char err[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(config_name_ok(good[i]));
		remove(f->path);
		assert_int_equal(config_write_default(f->path, good[i]), 0);
		config_defaults(&c);
		assert_int_equal(config_load(f->path, &c, err, sizeof(err)),
		    0);
		assert_string_equal(c.name, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(config_name_ok(bad[i]));
		remove(f->path);
		assert_int_equal(config_write_default(f->path, bad[i]),
		    KITH_EINVAL);
	}
}

static void
test_mistakes(void **state)
{
	static const struct {
		const char *text;
		const char *where;	/* expected ":LINE:" */
		const char *what;	/* expected in the message */
	} bad[] = {
		{ "[node]\nname = x\nnmae = y\n", ":3:", "nmae" },
		{ "[nodes]\nname = x\n", ":2:", "unknown" },
		{ "[store]\nmax_size_mb = 0\n", ":2:", "max_size_mb" },
		{ "[store]\nmax_size_mb = -5\n", ":2:", "max_size_mb" },
		{ "[store]\nmax_size_mb = lots\n", ":2:", "max_size_mb" },
		{ "[store]\nmax_size_mb = 12x\n", ":2:", "max_size_mb" },
		{ "[store]\nmax_size_mb = 99999999999999999999\n", ":2:",
		    "max_size_mb" },
		{ "[store]\n\n\nmax_size_mb = 16777217\n", ":4:",
		    "max_size_mb" },
		{ "[node]\nthis line has no equals sign\n", ":2:", "syntax" },
		{ "[store]\nmax_size_mb = 15\n", ":2:", "max_size_mb" },
		{ "[store]\nmax_size_mb = +64\n", ":2:", "max_size_mb" },
		{ "[store]\nmax_size_mb = 0x40\n", ":2:", "max_size_mb" },
		{ "[store]\nmax_size_mb = 64 MB\n", ":2:", "max_size_mb" },
		{ "[store]\nmax_size_mb =\n", ":2:", "max_size_mb" },
		{ "[store]\nmax_size_mb = 18446744073709551616\n", ":2:",
		    "max_size_mb" },
		{ "name = outside any section\n", ":1:", "unknown" },
		{ "[store]\nname = x\n", ":2:", "unknown" },
		{ "[node]\nname = a\n[store]\nmax_size_mb = 64\nextra = 1\n",
		    ":5:", "extra" },
		/* The first mistake is the one reported. */
		{ "[node]\n\nbad1 = 1\nbad2 = 2\n", ":3:", "bad1" },
	};
	struct fixture *f = *state;
	struct config c;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(f, bad[i].text, &c, err), KITH_EINVAL);
		if (strstr(err, f->path) == NULL ||
		    strstr(err, bad[i].where) == NULL ||
		    strstr(err, bad[i].what) == NULL)
			fail_msg("case %zu: message '%s'", i, err);
	}
	/* A name longer than the field holds. */
	{
		char text[600] = "[node]\nname = ";

		memset(text + strlen(text), 'n', 300);
		strcat(text, "\n");
		assert_int_equal(load(f, text, &c, err), KITH_EINVAL);
		assert_non_null(strstr(err, ":2:"));
	}
	/* A line longer than the parser's buffer, even a comment. */
	{
		char text[3000] = "[node]\nname = x\n# ";

		memset(text + strlen(text), 'c', 2000);
		strcat(text, "\nname = y\n");
		assert_int_equal(load(f, text, &c, err), KITH_EINVAL);
		if (strstr(err, ":3:") == NULL || strstr(err, "long") == NULL)
			fail_msg("long line: message '%s'", err);
	}
	/* A long line does not shift the line numbers after it. */
	{
		char text[3000] = "[node]\n# ";

		memset(text + strlen(text), 'c', 2000);
		strcat(text, "\n\nbogus = 1\n");
		assert_int_equal(load(f, text, &c, err), KITH_EINVAL);
		assert_non_null(strstr(err, f->path));
	}
}

/* Peers are KEY@ENDPOINT: a node key from `kith id`, then an endpoint. */
static void
test_peers(void **state)
{
	struct fixture *f = *state;
	struct kcrypto_key *k1 = tu_key(1), *k2 = tu_key(2);
	struct config c;
	uint8_t key[32];
	char h1[65], h2[65], s[600], ep[CONFIG_ENDPOINT_MAX + 1], err[256];
	static const char *const bad[] = {
		"%s@tcp://*:7400",		/* no wildcard to connect to */
		"%s@example.org:7400",		/* not an endpoint */
		"%s@tcp://127.0.0.1:70000",
		"%s@",
		"%s",
		"%s tcp://127.0.0.1:7400",
		"@tcp://127.0.0.1:7400",
		"0%s@tcp://127.0.0.1:7400",	/* 65 digits */
		"",
	};

	kith_hex(h1, kcrypto_key_public(k1), 32);
	kith_hex(h2, kcrypto_key_public(k2), 32);
	snprintf(s, sizeof(s), "%s@tcp://127.0.0.1:7400", h1);
	assert_int_equal(config_peer_parse(s, key, ep, sizeof(ep)), 0);
	assert_string_equal(ep, "tcp://127.0.0.1:7400");
	assert_memory_equal(key, kcrypto_key_public(k1), 32);
	/* Only the first @ ends the key. */
	snprintf(s, sizeof(s), "%s@ipc:///tmp/a@b", h2);
	assert_int_equal(config_peer_parse(s, key, ep, sizeof(ep)), 0);
	assert_string_equal(ep, "ipc:///tmp/a@b");
	assert_memory_equal(key, kcrypto_key_public(k2), 32);
	/* An endpoint that does not fit the caller's buffer. */
	snprintf(s, sizeof(s), "%s@tcp://127.0.0.1:7400", h1);
	assert_int_equal(config_peer_parse(s, key, ep, 20), KITH_EINVAL);

	/* No key: said so, with where to find it. */
	assert_int_equal(config_peer_parse("tcp://127.0.0.1:7400", key, ep,
	    sizeof(ep)), KITH_ENOTFOUND);
	assert_int_equal(config_peer_parse("ipc:///tmp/x", key, ep,
	    sizeof(ep)), KITH_ENOTFOUND);
	assert_non_null(strstr(config_peer_strerror(KITH_ENOTFOUND),
	    "kith id"));
	assert_non_null(strstr(config_peer_strerror(KITH_ENOTFOUND),
	    "KEY@tcp://"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(s, sizeof(s), bad[i], h1);
		if (config_peer_parse(s, key, ep, sizeof(ep)) != KITH_EINVAL)
			fail_msg("case %zu '%s' was not refused", i, s);
	}
	/* Hex digits that are no ed25519 key: no CURVE key comes of it. */
	memset(s, '0', 64);
	strcpy(s + 64, "@tcp://127.0.0.1:7400");
	assert_int_equal(config_peer_parse(s, key, ep, sizeof(ep)),
	    KITH_ECRYPTO);
	memset(s, 'f', 64);
	assert_int_equal(config_peer_parse(s, key, ep, sizeof(ep)),
	    KITH_ECRYPTO);
	assert_non_null(strstr(config_peer_strerror(KITH_ECRYPTO), "kith id"));

	/* In kith.conf: each line's endpoint, key and line number. */
	snprintf(s, sizeof(s), "[sync]\npeer = %s@tcp://127.0.0.1:7400\n"
	    "peer = %s@tcp://192.0.2.10:7500\n", h1, h2);
	assert_int_equal(load(f, s, &c, err), 0);
	assert_int_equal(c.npeers, 2);
	assert_string_equal(c.peers[0], "tcp://127.0.0.1:7400");
	assert_string_equal(c.peers[1], "tcp://192.0.2.10:7500");
	assert_memory_equal(c.peer_keys[0], kcrypto_key_public(k1), 32);
	assert_memory_equal(c.peer_keys[1], kcrypto_key_public(k2), 32);
	assert_int_equal(c.peer_line[0], 2);
	assert_int_equal(c.peer_line[1], 3);
	/* A peer without its key is a mistake on its line. */
	assert_int_equal(load(f, "[sync]\n\npeer = tcp://127.0.0.1:7400\n",
	    &c, err), KITH_EINVAL);
	if (strstr(err, ":3:") == NULL || strstr(err, "kith id") == NULL)
		fail_msg("bare peer: message '%s'", err);
	snprintf(s, sizeof(s), "[sync]\npeer = %s@tcp://*:7400\n", h1);
	assert_int_equal(load(f, s, &c, err), KITH_EINVAL);
	assert_non_null(strstr(err, ":2:"));
	kcrypto_key_free(k1);
	kcrypto_key_free(k2);
}

static void
test_missing(void **state)
{
	struct fixture *f = *state;
	struct config c;
	char err[256], path[400];

	snprintf(path, sizeof(path), "%s/none.conf", f->dir);
	config_defaults(&c);
	assert_int_equal(config_load(path, &c, err, sizeof(err)),
	    KITH_ENOTFOUND);
	assert_non_null(strstr(err, path));
	/* A path that is not a readable file. */
	config_defaults(&c);
	assert_int_equal(config_load(f->dir, &c, err, sizeof(err)), KITH_EIO);
	assert_non_null(strstr(err, f->dir));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_default, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mistakes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
	};

	assert_int_equal(kcrypto_init(), 0);
	return tu_run(tests, NULL, NULL);
}
