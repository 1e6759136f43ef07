/*
 * Fuzz the config reader (inih under node/config.c): any bytes must give
 * 0 or KITH_EINVAL with a message naming the file, never a crash; and a
 * config that loads holds values within their bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "kith.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[256] = "";
	FILE *f;
	int rc;

	if (size == 0 || (f = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	config_defaults(&c);
	rc = config_read(f, "fuzz.conf", &c, err, sizeof(err));
	fclose(f);
	if (rc == 0) {
		if (c.max_size_mb < 16 || c.max_size_mb > (1 << 24) ||
		    strlen(c.name) >= sizeof(c.name))
			abort();
	} else if (rc != KITH_EINVAL || strncmp(err, "fuzz.conf:", 10) != 0) {
		abort();
	}
	return 0;
}
