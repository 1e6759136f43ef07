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

#endif
