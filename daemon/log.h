/* Logging for kcpvpnd: one line per event, a short lowercase message then key=value pairs.
 * stderr while in the foreground (-f) or before start-up finishes, syslog otherwise. */
#ifndef DAEMON_LOG_H
#define DAEMON_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_NOTICE, LOG_LEVEL_INFO,
		 LOG_LEVEL_DEBUG };

/* Starts logging as `ident`, to stderr or to syslog, showing messages up to `level`. */
void log_init(const char *ident, bool to_stderr, enum log_level level);
void log_set_level(enum log_level level);
/* Parses error|warning|notice|info|debug; -1 for anything else. */
int log_level_parse(const char *name);

/* log_warn adds ": strerror(errno)"; the x variants don't. fatal and fatalx exit(1). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
