/* SPDX-License-Identifier: MIT */
/*
 * Edge: one request to the broker's control socket (ctlproto.h) and its
 * reply, for virt-brokerctl's commands: the broker's peer noted (trust.h),
 * a deadline on connect and on each read (--timeout), a cap on the reply's
 * size, and unit names checked before any command uses them.
 */
#ifndef VB_REQUEST_H
#define VB_REQUEST_H

#include <stddef.h>

#include "strv.h"

#define REPLY_MAX	(1024 * 1024)	/* a broker's reply, at most */

struct reply {
	struct strv	 lines;		/* without the final OK/ERR */
	char		*error;		/* ERR's message, or NULL */
};

extern long	 request_timeout;	/* seconds; 10 unless --timeout */

void		 die(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2), __noreturn__));
void		 request(const char *path, const char *const *args,
		    size_t n, struct reply *ret);
void		 reply_free(struct reply *r);
size_t		 lines_of(const struct reply *r, const char *kind,
		    const char *unit, struct strv *out, size_t max);
const char	*kv(const struct strv *w, const char *key);

#endif
