/* SPDX-License-Identifier: MIT */
/*
 * The broker's start-up, before any socket: the command line, the config
 * file (root's alone for the system broker) and the plan made of it with
 * the environment. Also what a reload reads again (main.c).
 */
#ifndef VB_STARTUP_H
#define VB_STARTUP_H

#include <stdbool.h>

#include "config.h"
#include "plan.h"

struct options {
	const char		*file;		/* -f; NULL: the default */
	bool			 dry_run;	/* -n */
	bool			 verbose;	/* -v */
	bool			 syslog;	/* -s */
	int			 ready_fd;	/* --ready-fd, -1: none */
	bool			 daemon;	/* -d */
	const char		*pidfile;	/* --pidfile */
	bool			 mode_forced;
	enum broker_mode	 mode;
	bool			 boot;		/* --boot: a system broker's */
};

void		 startup_options(int argc, char **argv, struct options *o);
struct config	*startup_config(const struct options *o);
struct plan	*startup_plan(struct config *cfg, const struct options *o,
		    const char *what);

#endif
