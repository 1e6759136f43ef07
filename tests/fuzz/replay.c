/*
 * A main() for the fuzz harnesses when they are built without libFuzzer:
 * `fuzz_NAME DIR` runs LLVMFuzzerTestOneInput once on each regular file in
 * DIR, in name order, as SQLite's fuzzcheck replays its corpus.  A crash or
 * an abort() in the harness is the failure; an empty or missing corpus is
 * one too, so that a replay which tested nothing does not pass.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
name_cmp(const void *a, const void *b)
{

	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read all of ${path} into a new buffer; NULL on failure. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f;
	uint8_t *buf = NULL;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	/* One spare byte so that an empty file still gets a buffer. */
	if ((buf = malloc((size_t)n + 1)) == NULL)
		goto out;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	const char *prog, *dir;
	struct dirent *de;
	struct stat st;
	char **names = NULL, **grown, path[4096];
	size_t i, n = 0, cap = 0, len;
	uint8_t *buf;
	DIR *d;
	int rc = 1;

	prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", prog);
		return 1;
	}
	dir = argv[1];
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "%s: %s: cannot open corpus directory\n",
		    prog, dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((grown = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				goto out;
			names = grown;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto out;
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "%s: %s: empty corpus\n", prog, dir);
		goto out;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((buf = slurp(path, &len)) == NULL) {
			fprintf(stderr, "%s: %s: cannot read\n", prog, path);
			goto out;
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
	}
	printf("%s: %zu inputs replayed\n", prog, n);
	rc = 0;
out:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
