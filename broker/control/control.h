/* SPDX-License-Identifier: MIT */
/*
 * Layer control (broker/control/): the control socket's server, above the
 * lifecycle whose state it reports and commands.
 *
 * The control socket virt-brokerctl talks to (ctlproto.h), in the
 * runtime dir, mode 0600, served by the broker's loop; callers must have
 * the broker's uid, or be root.
 */
#ifndef VB_CONTROL_H
#define VB_CONTROL_H

#include <ev.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "publish.h"
#include "strv.h"
#include "supervise.h"

struct ctl_conn;

struct control {
	int		 fd;		/* listening, -1: none */
	char		*path;
	dev_t		 dev;		/* what bind made at path: */
	ino_t		 ino;		/* close unlinks only that */
	LIST_HEAD(, ctl_conn) conns;	/* open connections, ours to free */
	unsigned	 nrefused;	/* of them, refused ones lingering */
	ev_io		 io;
	struct ev_loop	*loop;
	struct supervisor **sup;	/* the broker's (reload may replace) */
	const struct publish_dups *dups; /* or NULL; set after control_open */
	const unsigned long *retired;	/* duplicates retired, or NULL */
	/* SIGHUP's path: 0, or -EINVAL with the errors in ret_errors. */
	int		(*reload)(void *arg, struct strv *ret_errors);
	/* virt-brokerctl reexec: 0 (the exec follows the reply), or -errno
	 * with err saying why not; NULL: not offered. Set after open. */
	int		(*reexec)(void *arg, char *err, size_t size);
	void		*arg;
};

int	control_open(struct control *c, struct ev_loop *loop, const char *path,
	    struct supervisor **sup, int (*reload)(void *, struct strv *),
	    void *arg);
void	control_close(struct control *c);

#endif
