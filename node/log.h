#ifndef LOG_H
#define LOG_H

/*
 * The daemon's log: one line per event on stderr, "TIME LEVEL message",
 * with the time in UTC to the millisecond.  Off until log_open.
 */

/**
 * log_open(name):
 * Start logging, naming the program ${name} on each line.
 */
void log_open(const char *name);

/**
 * log_on():
 * Return 1 if logging is on.
 */
int log_on(void);

/**
 * log_info(fmt, ...):
 * Log one line at level "info" (printf-style); nothing if logging is off.
 */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * log_warn(fmt, ...):
 * Log one line at level "warn".
 */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A key's window: repeats within it are counted, not written. */
#define LOG_WINDOW_MS	60000
#define LOG_KEYS	128	/* keys counted at once; the oldest goes first */

/**
 * log_warn_every(key, fmt, ...):
 * As log_warn, but at most one line a minute for each ${key} (a peer and
 * a reason, say): a repeat within LOG_WINDOW_MS of the key's last line
 * written is only counted, and the count is written, with the last
 * repeat's text, when the window closes (by log_tick, or the key's next
 * line).  So no fault that repeats can fill a disk with log lines.
 */
void log_warn_every(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * log_tick():
 * Write the counts of windows that have closed; call it now and then
 * (kithd does, each turn of its loop).
 */
void log_tick(void);

#endif
