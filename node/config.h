#ifndef CONFIG_H
#define CONFIG_H

/*
 * The node's INI configuration, read with inih: the one module that uses it.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

struct config {
	char name[256];		/* [node] name */
	uint64_t max_size_mb;	/* [store] max_size_mb */
};

/* The default configuration file's text (configs/kith.conf), built in. */
extern const char config_default[];

/**
 * config_defaults(c):
 * Fill ${c} with the built-in defaults.
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
 * config_write_default(path, name):
 * Create ${path} (which must not exist) from the built-in default text, with
 * "name =" in [node] set to ${name}.  Return 0, KITH_EINVAL if
 * !config_name_ok(${name}), KITH_EEXIST or KITH_EIO.
 */
int config_write_default(const char *path, const char *name);

#endif
