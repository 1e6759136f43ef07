#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kith.h"
#include "log.h"

static const char *prog;
static int level = LOG_INFO;
static const char *const names[] = { "debug", "info", "warn", "error" };

/*
 * Where lines go: stderr, or the log file.  A reopen puts the new file on
 * the same descriptor number with dup2, so a thread writing meanwhile
 * writes whole lines to one file or the other.
 */
static int out_fd = 2;
static char *out_path;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* A key's window (log_warn_every). */
struct window {
	char key[96];
	uint64_t start_ms;	/* its line was written then; 0: slot free */
	uint64_t repeats;	/* counted since */
	char last[512];		/* the last repeat's text */
};

static struct window windows[LOG_KEYS];
static pthread_mutex_t windows_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_open(const char *name)
{

	prog = name;
	setvbuf(stderr, NULL, _IOLBF, 0);
}

int
log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(int l)
{

	return l >= LOG_DEBUG && l <= LOG_ERROR ? names[l] : "?";
}

void
log_set_level(int l)
{

	if (l >= LOG_DEBUG && l <= LOG_ERROR)
		level = l;
}

int
log_on(void)
{

	return prog != NULL;
}

int
log_enabled(int l)
{

	return prog != NULL && l >= level;
}

/* Open ${path} to append to; a descriptor, or -1 with errno set. */
static int
open_log(const char *path)
{

	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0640);
}

int
log_set_file(const char *path)
{
	char *copy = NULL;
	int fd = 2;

	if (path != NULL && ((copy = strdup(path)) == NULL ||
	    (fd = open_log(path)) < 0)) {
		free(copy);
		return KITH_EIO;
	}
	pthread_mutex_lock(&out_lock);
	if (out_fd != 2)
		close(out_fd);
	out_fd = path != NULL ? fd : 2;
	free(out_path);
	out_path = copy;
	pthread_mutex_unlock(&out_lock);
	return 0;
}

int
log_reopen(void)
{
	int fd, rc = 0;

	pthread_mutex_lock(&out_lock);
	if (out_path != NULL) {
		if ((fd = open_log(out_path)) < 0)
			rc = KITH_EIO;
		else {
			/* Atomic: a concurrent write lands in one or the other. */
			if (dup2(fd, out_fd) < 0)
				rc = KITH_EIO;
			close(fd);
		}
	}
	pthread_mutex_unlock(&out_lock);
	return rc;
}

static void
vlog(int l, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char when[32], msg[1024], line[1200];
	int n;

	if (prog == NULL || l < level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s %s: %s\n", when,
	    ts.tv_nsec / 1000000, names[l], prog, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/*
	 * One write per line (O_APPEND for a file), so lines from threads
	 * never interleave.  A log that cannot be written is not news to
	 * anyone who could be told.
	 */
	while (write(out_fd, line, (size_t)n) < 0 && errno == EINTR)
		;
}

void
log_at(int l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(l, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARN, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, fmt, ap);
	va_end(ap);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Write ${w}'s count, if any, and free the slot; the lock is held. */
static void
window_close(struct window *w)
{

	if (w->repeats > 0)
		log_warn("%s (and %llu more like it in %d s)", w->last,
		    (unsigned long long)w->repeats, LOG_WINDOW_MS / 1000);
	w->start_ms = 0;
	w->repeats = 0;
}

void
log_warn_every(const char *key, const char *fmt, ...)
{
	struct window *w = NULL, *oldest = &windows[0];
	uint64_t now = mono_ms();
	va_list ap;
	size_t i;

	if (prog == NULL)
		return;
	pthread_mutex_lock(&windows_lock);
	for (i = 0; i < LOG_KEYS; i++) {
		if (windows[i].start_ms != 0 &&
		    strncmp(windows[i].key, key, sizeof(windows[i].key) - 1) == 0)
			w = &windows[i];
		if (windows[i].start_ms < oldest->start_ms)
			oldest = &windows[i];
	}
	if (w != NULL && now - w->start_ms < LOG_WINDOW_MS) {
		w->repeats++;
		va_start(ap, fmt);
		vsnprintf(w->last, sizeof(w->last), fmt, ap);
		va_end(ap);
		pthread_mutex_unlock(&windows_lock);
		return;
	}
	if (w == NULL)
		w = oldest;	/* a free slot, or the oldest window */
	window_close(w);
	snprintf(w->key, sizeof(w->key), "%s", key);
	w->start_ms = now;
	va_start(ap, fmt);
	vlog(LOG_WARN, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&windows_lock);
}

void
log_tick(void)
{
	uint64_t now = mono_ms();
	size_t i;

	pthread_mutex_lock(&windows_lock);
	for (i = 0; i < LOG_KEYS; i++)
		if (windows[i].start_ms != 0 &&
		    now - windows[i].start_ms >= LOG_WINDOW_MS)
			window_close(&windows[i]);
	pthread_mutex_unlock(&windows_lock);
}
