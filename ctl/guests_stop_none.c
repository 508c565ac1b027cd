/* SPDX-License-Identifier: MIT */
/* guests_stop.h without libvirt: says so, and does nothing. */
#include <stdio.h>

#include "guests_stop.h"

int
guests_stop(const struct guests_stop_opts *o)
{
	(void)o;
	fputs("guests: virt-brokerctl was built without libvirt: the "
	    "guests are neither saved nor shut down\n", stderr);
	return 1;
}

int
guests_restore(const char *record)
{
	fprintf(stderr, "guests: virt-brokerctl was built without libvirt: "
	    "%s is left as it is\n", record);
	return 1;
}
