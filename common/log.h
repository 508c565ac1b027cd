/* SPDX-License-Identifier: MIT */
/*
 * Edge: the broker's own messages, to stderr or syslog.
 * log_warn() appends ": " and the errno text; every function keeps errno.
 * The last warnings are also kept in memory (log_recent).
 */
#ifndef VB_LOG_H
#define VB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdnoreturn.h>
#include <time.h>

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
/*
 * The last LOG_RECENT warnings and errors, kept for `virt-brokerctl
 * status` and doctor (the broker's stderr or syslog is often out of
 * reach): i from 0, the oldest, to log_recent_count() - 1.
 */
#define LOG_RECENT	8
#define LOG_RECENT_LEN	240
unsigned	 log_recent_count(void);
const char	*log_recent(unsigned i, time_t *ret_when);
void		 log_recent_clear(void);
noreturn void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
noreturn void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif
