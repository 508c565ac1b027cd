/* SPDX-License-Identifier: MIT */
/*
 * Edge: virt-brokerctl doctor's init-services check (doctor.h): the
 * distribution's own libvirt services still enabled in an init system, which
 * start daemons of their own at boot and race the system broker for
 * /run/libvirt, as initsvc_scan() finds them (under root, "/" but in
 * tests), each with the command that disables it there.
 */
#include <stddef.h>

#include "doctor.h"
#include "initsvc.h"
#include "xalloc.h"

static void
add_found(const struct initsvc_found *f, void *arg)
{
	struct doctor *d = arg;
	char *what;

	if (f->kind == INITSVC_SYSV)
		what = xasprintf("sysvinit starts %s at boot (%s): it races "
		    "the broker for /run/libvirt", f->daemon, f->path);
	else
		what = xasprintf("%s starts %s (%s): it races the broker for "
		    "/run/libvirt", initsvc_kind_name(f->kind), f->entry,
		    f->path);
	doctor_add(d, "init", DOCTOR_FAIL, what,
	    initsvc_disable_cmd(f->kind, f->daemon, f->level));
}

void
doctor_init_services(struct doctor *d, const char *root)
{
	if (initsvc_scan(root, add_found, d) == 0)
		doctor_add(d, "init", DOCTOR_OK, xstrdup("no libvirt service "
		    "of the distribution is enabled in sysvinit, OpenRC, runit, "
		    "s6 or systemd"), NULL);
}
