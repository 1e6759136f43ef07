/*
 * A main() for the fuzz harnesses when they are built without libFuzzer:
 * `fuzz_NAME DIR` runs LLVMFuzzerTestOneInput once on each regular file in
 * DIR, in name order, as SQLite's fuzzcheck replays its corpus, in a child
 * process, so that a crash, an abort() or a sanitizer's report fails that
 * input, by name, and the inputs after it still run.  A sanitizer's leak
 * check at the child's exit that fails is one more failure.  An empty or
 * missing corpus fails too, so that a replay which tested nothing does not
 * pass.  The last line is "fuzz_NAME: N passed, M failed", one check an
 * input; the exit status is 0 only if nothing failed.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/*
 * Run the harness on ${names}[${from}..${n}-1] in ${dir}, in a child
 * process, and wait for it.  Before each input the child writes its index
 * to ${*at}, and ${n} once the last has returned.  Return 0 if the child
 * exited 0, else print how it ended and return -1; ${*at} then says which
 * input it was on (${n}: its exit failed, a sanitizer's leak check, say).
 */
static int
replay_from(const char *prog, const char *dir, char *const *names,
    size_t from, size_t n, volatile size_t *at)
{
	char path[4096];
	uint8_t *buf;
	size_t i, len = 0;
	pid_t pid;
	int status;

	*at = from;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "%s: cannot fork\n", prog);
		return -1;
	}
	if (pid == 0) {
		for (i = from; i < n; i++) {
			*at = i;
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			if ((buf = slurp(path, &len)) == NULL) {
				fprintf(stderr, "%s: %s: cannot read\n", prog,
				    path);
				_exit(2);
			}
			LLVMFuzzerTestOneInput(buf, len);
			free(buf);
		}
		*at = n;
		/* exit, not _exit: a sanitizer's leak check runs at exit. */
		exit(0);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: cannot wait for the child\n",
			    prog);
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "%s: %s%s: failed (%s %d)\n", prog,
	    *at < n ? names[*at] : "at exit",
	    *at < n ? "" : " after the last input",
	    WIFSIGNALED(status) ? "signal" : "exit",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return -1;
}

int
main(int argc, char **argv)
{
	const char *prog, *dir;
	struct dirent *de;
	struct stat st;
	char **names = NULL, **grown, path[4096];
	size_t i, n = 0, cap = 0, passed = 0, failed = 0;
	volatile size_t *at;
	DIR *d;

	prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", prog);
		return 1;
	}
	dir = argv[1];
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "%s: %s: cannot open corpus directory\n",
		    prog, dir);
		failed = 1;
		goto report;
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
				goto nomem;
			names = grown;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto nomem;
		n++;
	}
	/* Closed before any child starts, which would report it leaked. */
	closedir(d);
	d = NULL;
	if (n == 0) {
		fprintf(stderr, "%s: %s: empty corpus\n", prog, dir);
		failed = 1;
		goto out;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	/*
	 * All inputs in one child, as fast as in this process; when the
	 * child dies on an input, that input failed and a new child goes on
	 * from the next one.
	 */
	if ((at = mmap(NULL, sizeof(*at), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		fprintf(stderr, "%s: cannot map a shared page\n", prog);
		failed = 1;
		goto out;
	}
	for (i = 0; i < n; i = *at + 1) {
		if (replay_from(prog, dir, names, i, n, at) == 0) {
			passed += n - i;
			break;
		}
		passed += *at - i;
		failed++;
	}
	munmap((void *)at, sizeof(*at));
	goto out;
nomem:
	fprintf(stderr, "%s: %s: out of memory listing the corpus\n", prog,
	    dir);
	failed = 1;
out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
report:
	printf("%s: %zu passed, %zu failed\n", prog, passed, failed);
	return failed != 0;
}
