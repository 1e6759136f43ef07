#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "kcrypto.h"
#include "kith.h"
#include "log.h"

struct load {
	struct config *c;
	const char *path;
	char *err;
	size_t errlen;
	int failed;
	FILE *f;
	int line;	/* the line inih is handling */
	int toolong;	/* the first line longer than inih's buffer */
};

static int number(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

void
config_defaults(struct config *c)
{

	char err[256];
	FILE *f;

	memset(c, 0, sizeof(*c));
	c->max_size_mb = 65536;
	c->scrub_after_s = 3600;
	c->interval_s = 30;
	c->pcn_interval_s = 2;
	c->log_level = LOG_INFO;
	/* Then the built-in file's values, so every reader sees the same. */
	if ((f = fmemopen((void *)config_default, strlen(config_default),
	    "r")) != NULL) {
		(void)config_read(f, "built-in kith.conf", c, err, sizeof(err));
		fclose(f);
	}
}

int
config_home(const char *flag, char *out, size_t size)
{
	const char *env;

	if (flag == NULL && (env = getenv("KITH_HOME")) != NULL && *env)
		flag = env;
	if (flag == NULL) {
		if ((env = getenv("HOME")) == NULL || *env == '\0')
			return KITH_ENOTFOUND;
		if ((size_t)snprintf(out, size, "%s/.local/share/kith", env) >=
		    size)
			return KITH_EINVAL;
		return 0;
	}
	/* Room is kept for the files under the home. */
	if (*flag == '\0' || strlen(flag) + 64 >= size)
		return KITH_EINVAL;
	snprintf(out, size, "%s", flag);
	return 0;
}

int
config_endpoint_ok(const char *ep, int bind)
{
	const char *host, *colon, *p;
	uint64_t port;

	if (strlen(ep) > CONFIG_ENDPOINT_MAX)
		return 0;
	if (strncmp(ep, "ipc://", 6) == 0)
		return ep[6] != '\0' && strlen(ep) < 100;
	if (strncmp(ep, "tcp://", 6) != 0)
		return 0;
	host = ep + 6;
	if ((colon = strrchr(host, ':')) == NULL || colon == host)
		return 0;
	if (!bind && colon - host == 1 && host[0] == '*')
		return 0;
	for (p = host; p < colon; p++)
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == 0x7f)
			return 0;
	return number(colon + 1, 1, 65535, &port) == 0;
}

int
config_peer_parse(const char *s, uint8_t key[32], char *endpoint, size_t n)
{
	const char *at = strchr(s, '@');
	char hex[2 * 32 + 1];
	uint8_t x[32];

	if (at == NULL || (size_t)(at - s) != 2 * 32)
		return strncmp(s, "tcp://", 6) == 0 ||
		    strncmp(s, "ipc://", 6) == 0 ? KITH_ENOTFOUND : KITH_EINVAL;
	memcpy(hex, s, 2 * 32);
	hex[2 * 32] = '\0';
	if (kith_unhex(key, 32, hex) != 0 || !config_endpoint_ok(at + 1, 0) ||
	    strlen(at + 1) >= n)
		return KITH_EINVAL;
	/* The CURVE key is derived from it: refuse one that has none. */
	if (kcrypto_x25519_public(key, x) != 0)
		return KITH_ECRYPTO;
	strcpy(endpoint, at + 1);
	return 0;
}

const char *
config_peer_strerror(int rc)
{

	switch (rc) {
	case KITH_ENOTFOUND:
		return "peer needs the node key: KEY@tcp://HOST:PORT; "
		    "`kith id` on that node prints it";
	case KITH_ECRYPTO:
		return "KEY in KEY@ENDPOINT is not a node key; `kith id` on "
		    "that node prints it";
	}
	return "not a peer (KEY@tcp://HOST:PORT or KEY@ipc://PATH, with KEY "
	    "the node's 64 hex digit key)";
}

/* Set endpoint ${dst} from ${value}; a problem or NULL. */
static const char *
endpoint(char *dst, const char *value, int bind)
{

	if (value[0] != '\0' && !config_endpoint_ok(value, bind))
		return "not an endpoint (tcp://HOST:PORT or ipc://PATH)";
	strcpy(dst, value);
	return NULL;
}

/* Parse a whole decimal number in [lo, hi]. */
static int
number(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/*
 * inih's reader: fgets that counts lines, as Debian's inih passes none.  A
 * line longer than inih's buffer would come back in pieces (and wrong line
 * numbers); the rest of it is skipped and the line reported instead.
 */
static char *
reader(char *buf, int size, void *arg)
{
	struct load *l = arg;
	size_t len;
	char *s;
	int ch;

	if ((s = fgets(buf, size, l->f)) == NULL)
		return NULL;
	l->line++;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] != '\n' && !feof(l->f)) {
		while ((ch = fgetc(l->f)) != EOF && ch != '\n')
			;
		if (l->toolong == 0)
			l->toolong = l->line;
	}
	return s;
}

static int
on_entry(void *arg, const char *section, const char *key, const char *value)
{
	struct load *l = arg;
	int line = l->line;
	const char *problem = NULL;
	int rc;

	if (strcmp(section, "node") == 0 && strcmp(key, "name") == 0) {
		if (strlen(value) >= sizeof(l->c->name))
			problem = "name is too long";
		else
			strcpy(l->c->name, value);
	} else if (strcmp(section, "node") == 0 &&
	    strcmp(key, "log_level") == 0) {
		if ((rc = log_level_parse(value)) < 0)
			problem = "log_level must be debug, info, warn or error";
		else
			l->c->log_level = rc;
	} else if (strcmp(section, "node") == 0 &&
	    strcmp(key, "log_file") == 0) {
		if (strlen(value) >= sizeof(l->c->log_file))
			problem = "log_file is too long";
		else
			strcpy(l->c->log_file, value);
	} else if (strcmp(section, "store") == 0 &&
	    strcmp(key, "max_size_mb") == 0) {
		if (number(value, 16, 1 << 24, &l->c->max_size_mb) != 0)
			problem = "max_size_mb must be a number from 16 to "
			    "16777216";
	} else if (strcmp(section, "store") == 0 &&
	    strcmp(key, "scrub_after") == 0) {
		if (number(value, 0, 86400, &l->c->scrub_after_s) != 0)
			problem = "scrub_after must be a number of seconds "
			    "from 0 to 86400";
	} else if (strcmp(section, "sync") == 0 && strcmp(key, "listen") == 0) {
		if ((problem = endpoint(l->c->listen, value, 1)) == NULL)
			l->c->listen_line = line;
	} else if (strcmp(section, "sync") == 0 && strcmp(key, "feed") == 0) {
		if ((problem = endpoint(l->c->feed, value, 1)) == NULL)
			l->c->feed_line = line;
	} else if (strcmp(section, "sync") == 0 && strcmp(key, "peer") == 0) {
		if (l->c->npeers == CONFIG_PEERS_MAX)
			problem = "too many peers (at most 32)";
		else if (value[0] == '\0')
			problem = "empty peer";
		else if ((rc = config_peer_parse(value,
		    l->c->peer_keys[l->c->npeers], l->c->peers[l->c->npeers],
		    sizeof(l->c->peers[0]))) != 0)
			problem = config_peer_strerror(rc);
		else
			l->c->peer_line[l->c->npeers++] = line;
	} else if (strcmp(section, "sync") == 0 &&
	    strcmp(key, "interval") == 0) {
		if (number(value, 1, 86400, &l->c->interval_s) != 0)
			problem = "interval must be a number of seconds from 1 "
			    "to 86400";
	} else if (strcmp(section, "sync") == 0 &&
	    strcmp(key, "pcn_interval") == 0) {
		if (number(value, 1, 86400, &l->c->pcn_interval_s) != 0)
			problem = "pcn_interval must be a number of seconds "
			    "from 1 to 86400";
	} else
		problem = "unknown section or key";
	if (problem != NULL && !l->failed) {
		snprintf(l->err, l->errlen, "%s:%d: [%s] %s: %s", l->path,
		    line, section, key, problem);
		l->failed = 1;
	}
	return problem == NULL;
}

int
config_read(FILE *f, const char *path, struct config *c, char *err,
    size_t errlen)
{
	struct load l = { c, path, err, errlen, 0, f, 0, 0 };
	int rc;

	rc = ini_parse_stream(reader, &l, on_entry, &l);
	/* inih takes a read error for the end: a directory would load. */
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return KITH_EIO;
	}
	if (l.toolong != 0 && (l.toolong <= rc || rc == 0)) {
		snprintf(err, errlen, "%s:%d: line too long", path, l.toolong);
		return KITH_EINVAL;
	}
	if (rc == 0)
		return 0;
	if (!l.failed)
		snprintf(err, errlen, "%s:%d: syntax error", path, rc);
	return KITH_EINVAL;
}

int
config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	FILE *f;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? KITH_ENOTFOUND : KITH_EIO;
	}
	rc = config_read(f, path, c, err, errlen);
	fclose(f);
	return rc;
}

int
config_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= sizeof(((struct config *)0)->name) ||
	    isspace((unsigned char)name[0]) ||
	    isspace((unsigned char)name[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || (name[i] == ';' &&
		    isspace((unsigned char)name[i - 1])))
			return 0;
	return 1;
}

int
config_write_default(const char *path, const char *name)
{
	const char *at = strstr(config_default, "\nname =\n");
	size_t head;
	FILE *f;
	int fd, rc = 0;

	if (!config_name_ok(name))
		return KITH_EINVAL;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		return errno == EEXIST ? KITH_EEXIST : KITH_EIO;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return KITH_EIO;
	}
	if (at == NULL)
		fputs(config_default, f);
	else {
		head = (size_t)(at - config_default);
		fwrite(config_default, 1, head, f);
		fprintf(f, "\nname = %s\n", name);
		fputs(at + strlen("\nname =\n"), f);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = KITH_EIO;
	if (fclose(f) != 0)
		rc = KITH_EIO;
	return rc;
}
