/* SPDX-License-Identifier: MIT */
/*
 * Edge: the broker's own messages, to stderr or syslog.
 * log_warn() appends ": " and the errno text; every function keeps errno.
 */
#ifndef VB_LOG_H
#define VB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdnoreturn.h>

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_MAX
};

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void	log_init(const char *ident, enum log_level level, bool to_syslog);
void	log_set_level(enum log_level level);
bool	log_enabled(enum log_level level);
void	vlog(enum log_level level, const char *fmt, va_list ap) LOG_PRINTF(2, 0);
void	log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_syslog_as(const char *ident, enum log_level level,
	    const char *line);
noreturn void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
noreturn void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif
