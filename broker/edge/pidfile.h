/* SPDX-License-Identifier: MIT */
/* Edge: the broker's locked pidfile: one broker per runtime directory. */
#ifndef VB_PIDFILE_H
#define VB_PIDFILE_H

#include <sys/types.h>

struct pidfile {
	char	*path;
	int	 fd;
};

int	pidfile_acquire(const char *path, struct pidfile *ret_pf,
	    pid_t *reterr_holder);
void	pidfile_release(struct pidfile *pf);

#endif
