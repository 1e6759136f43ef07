/*
 * Fuzz the records-file reader over an in-memory file.  Every entry that
 * reads back is written out again with recfile_write; up to where reading
 * stopped, the output must be the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith.h"
#include "recfile.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Enough to walk any input the fuzzer sends, and bounded all the same. */
#define ENTRIES_MAX	4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t network[KITH_NETWORK_LEN];
	struct record *rec;
	FILE *in, *out = NULL;
	char *obuf = NULL;
	size_t olen = 0, good = 0;
	long pos;
	int rc, n = 0;

	/* fmemopen of zero bytes is not portable; the reader sees EOF. */
	if (size == 0)
		return 0;
	if ((in = fmemopen((void *)(uintptr_t)data, size, "rb")) == NULL)
		return 0;
	if ((rc = recfile_read_start(in, network)) != 0) {
		if (rc != KITH_ETRUNC && rc != KITH_ETYPE &&
		    rc != KITH_EVERSION && rc != KITH_EIO)
			abort();
		goto out;
	}
	if ((out = open_memstream(&obuf, &olen)) == NULL)
		goto out;
	if (recfile_write_start(out, network) != 0)
		abort();
	good = (size_t)ftell(in);
	while (n++ < ENTRIES_MAX && (rc = recfile_read(in, &rec)) == 0) {
		if (recfile_write(out, rec) != 0)
			abort();
		record_free(rec);
		if ((pos = ftell(in)) < 0)
			abort();
		good = (size_t)pos;
	}
	if (rc > 0 && rc != 1)
		abort();
	if (fflush(out) != 0)
		goto out;
	if (olen != good || memcmp(obuf, data, good) != 0)
		abort();
	if (rc == 1 && good != size)
		abort();
out:
	if (out != NULL)
		fclose(out);
	free(obuf);
	fclose(in);
	return 0;
}
