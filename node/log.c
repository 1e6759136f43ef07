#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const char *prog;

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
log_on(void)
{

	return prog != NULL;
}

static void
vlog(const char *level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char when[32], line[1024];

	if (prog == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line, so lines from threads never interleave. */
	fprintf(stderr, "%s.%03ldZ %s %s: %s\n", when, ts.tv_nsec / 1000000,
	    level, prog, line);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warn", fmt, ap);
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
	vlog("warn", fmt, ap);
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
