#ifndef LOG_H
#define LOG_H

/*
 * The daemon's log: one line per event, "TIME LEVEL PROG: message", with
 * the time in UTC to the millisecond, on stderr or appended to a file
 * (log_set_file).  Lines below the level (log_set_level) are not written.
 * Off until log_open.
 */

/* Levels, lowest first. */
enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/**
 * log_open(name):
 * Start logging, naming the program ${name} on each line.
 */
void log_open(const char *name);

/**
 * log_level_parse(s):
 * Return the level ${s} names ("debug", "info", "warn" or "error"), or
 * -1 if none.
 */
int log_level_parse(const char *s);

/**
 * log_level_name(level):
 * Return ${level}'s name, static.
 */
const char *log_level_name(int level);

/**
 * log_set_level(level):
 * Write only lines of ${level} and above from now on (LOG_INFO at first).
 */
void log_set_level(int level);

/**
 * log_enabled(level):
 * Return 1 if logging is on and a line of ${level} would be written.
 */
int log_enabled(int level);

/**
 * log_set_file(path):
 * Append lines to the file ${path} (created 0640 if missing) from now on,
 * or to stderr if ${path} is NULL.  The path is kept: log_reopen opens it
 * again.  Return 0, or KITH_EIO (errno set) if it cannot be opened; the
 * log then goes where it went before.
 */
int log_set_file(const char *path);

/**
 * log_reopen():
 * Open the log file again by its path, so a file that logrotate moved
 * away is left to it and a new one begins; nothing if the log goes to
 * stderr.  Lines written meanwhile by other threads go to one file or the
 * other, never lost.  Return as log_set_file.
 */
int log_reopen(void);

/**
 * log_on():
 * Return 1 if logging is on.
 */
int log_on(void);

/**
 * log_at(level, fmt, ...):
 * Log one line at ${level} (printf-style); nothing if logging is off or
 * ${level} is below the level set.
 */
void log_at(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * log_debug(fmt, ...):
 * Log one line at level "debug": what happens every few seconds when all
 * is well (an empty sync session, say).
 */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

/**
 * log_error(fmt, ...):
 * Log one line at level "error".
 */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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
