/* SPDX-License-Identifier: MIT */
/*
 * Pure: one sd_notify(3) datagram as libvirt's daemons send it. 9.0 sends
 * READY=1 once; 11.x (Type=notify-reload) also RELOADING=1 with
 * MONOTONIC_USEC= on SIGHUP, then READY=1 again; STOPPING=1 at shutdown,
 * then EXTEND_TIMEOUT_USEC= every few seconds while guests are saved, and
 * STATUS= lines. One datagram may carry several lines.
 */
#ifndef VB_NOTIFY_MSG_H
#define VB_NOTIFY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOTIFY_STATUS_MAX	128	/* bytes kept of STATUS=, with NUL */

struct notify_msg {
	bool		 ready;		/* READY=1 */
	bool		 reloading;	/* RELOADING=1 */
	bool		 stopping;	/* STOPPING=1 */
	bool		 has_extend;
	uint64_t	 extend_usec;	/* EXTEND_TIMEOUT_USEC= */
	bool		 has_status;
	char		 status[NOTIFY_STATUS_MAX];	/* STATUS=, printable */
};

void	notify_msg_parse(const char *buf, size_t len, struct notify_msg *m);
bool	notify_msg_empty(const struct notify_msg *m);

#endif
