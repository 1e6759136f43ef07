#ifndef CONFIG_H
#define CONFIG_H

/*
 * The node's INI configuration, read with inih: the one module that uses it.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define CONFIG_PEERS_MAX	32	/* [sync] peer lines */
#define CONFIG_ENDPOINT_MAX	256	/* bytes of an endpoint */
#define CONFIG_PATH_MAX		1024	/* bytes of a path */

struct config {
	char name[256];		/* [node] name */
	int log_level;		/* [node] log_level: LOG_DEBUG.. (log.h) */
	char log_file[CONFIG_PATH_MAX];	/* [node] log_file; "" for stderr */
	uint64_t max_size_mb;	/* [store] max_size_mb */
	uint64_t scrub_after_s;	/* [store] scrub_after: seconds */
	char listen[CONFIG_ENDPOINT_MAX + 1];	/* [sync] listen; "" for none */
	char feed[CONFIG_ENDPOINT_MAX + 1];	/* [sync] feed; "" for none */
	/* [sync] peer = KEY@ENDPOINT: each one's endpoint and node key. */
	char peers[CONFIG_PEERS_MAX][CONFIG_ENDPOINT_MAX + 1];
	uint8_t peer_keys[CONFIG_PEERS_MAX][32];	/* ed25519 public keys */
	size_t npeers;
	uint64_t interval_s;	/* [sync] interval: seconds between rounds */
	uint64_t pcn_interval_s;	/* [sync] pcn_interval: the same, on a PCN */
	/* The line each came from (0: a default or a flag), for messages. */
	int listen_line, feed_line, peer_line[CONFIG_PEERS_MAX];
};

/* The default configuration file's text (configs/kith.conf), built in. */
extern const char config_default[];

/**
 * config_defaults(c):
 * Fill ${c} with the defaults: the built-in kith.conf's values
 * (config_default), as a node with no kith.conf of its own runs.
 */
void config_defaults(struct config *c);

/**
 * config_read(f, path, c, err, errlen):
 * Read a config from the open stream ${f} over the values already in ${c};
 * ${path} names it in messages.  Returns as config_load does (KITH_EIO if
 * reading fails).
 */
int config_read(FILE *f, const char *path, struct config *c, char *err,
    size_t errlen);

/**
 * config_load(path, c, err, errlen):
 * Read ${path} over the values already in ${c}.  Return 0, or
 * KITH_ENOTFOUND / KITH_EIO if it cannot be read, or KITH_EINVAL with
 * "PATH:LINE: problem" in ${err} for an unknown section or key, or a bad
 * value.
 */
int config_load(const char *path, struct config *c, char *err, size_t errlen);

/**
 * config_name_ok(name):
 * Return 1 if ${name} survives a trip through the INI file as [node] name
 * (inih strips outer blanks and cuts at " ;"), else 0.
 */
int config_name_ok(const char *name);

/**
 * config_home(flag, out, size):
 * Write a node's home to ${out} (${size} bytes): ${flag} (a --home value)
 * if not NULL, else $KITH_HOME, else ~/.local/share/kith.  Return 0,
 * KITH_ENOTFOUND if there is no flag, KITH_HOME or HOME, or KITH_EINVAL if
 * the home is empty or too long.
 */
int config_home(const char *flag, char *out, size_t size);

/**
 * config_endpoint_ok(ep, bind):
 * Return 1 if ${ep} is an endpoint kith accepts: tcp://HOST:PORT with a
 * port of 1-65535 (HOST may be * if ${bind}), or ipc://PATH; else 0.
 */
int config_endpoint_ok(const char *ep, int bind);

/**
 * config_peer_parse(s, key, endpoint, n):
 * Parse the peer ${s}, written KEY@ENDPOINT: KEY is the peer node's
 * ed25519 public key as 64 hex digits (what `kith id` prints on it), and
 * ENDPOINT one config_endpoint_ok(, 0) accepts.  Write the key to
 * ${key}[32] and the endpoint to ${endpoint} (${n} bytes).  Return 0,
 * KITH_ENOTFOUND if ${s} is an endpoint with no key, KITH_ECRYPTO if KEY
 * is not a valid ed25519 key, or KITH_EINVAL for anything else (or an
 * endpoint longer than ${n} - 1 bytes).  config_peer_strerror says why.
 */
int config_peer_parse(const char *s, uint8_t key[32], char *endpoint,
    size_t n);

/**
 * config_peer_strerror(rc):
 * Return a static text saying what is wrong with a peer config_peer_parse
 * refused with ${rc}, for messages to users.
 */
const char *config_peer_strerror(int rc);

/**
 * config_write_default(path, name):
 * Create ${path} (which must not exist) from the built-in default text, with
 * "name =" in [node] set to ${name}.  Return 0, KITH_EINVAL if
 * !config_name_ok(${name}), KITH_EEXIST or KITH_EIO.
 */
int config_write_default(const char *path, const char *name);

#endif
