/* SPDX-License-Identifier: MIT */
/*
 * Pure: the built-in catalog. One row per daemon; the session and system
 * socket lists are in fd order, names as in libvirt's .socket units
 * (src/remote/libvirtd*.socket.in, src/logging, src/locking). Session mode
 * has no -ro socket: passing one makes the daemon fail with "Some activation
 * file descriptors are unclaimed".
 */
#include <string.h>

#include "catalog.h"

#define TIMEOUT "--timeout 120"

/* A modular driver daemon D: D-sock, D-sock-ro (system), D-admin-sock. */
#define DRIVER(d, role) {						\
	d, role, TIMEOUT,						\
	{ { d ".socket", d "-sock", 0600 },				\
	  { d "-admin.socket", d "-admin-sock", 0600 } },		\
	{ { d ".socket", d "-sock", 0600 },				\
	  { d "-ro.socket", d "-sock-ro", 0666 },			\
	  { d "-admin.socket", d "-admin-sock", 0600 } },		\
}

/* A driver that has no session mode (virtnwfilterd, virtlxcd need root). */
#define SYSTEM_DRIVER(d, role) {					\
	d, role, TIMEOUT, { { 0 } },					\
	{ { d ".socket", d "-sock", 0600 },				\
	  { d "-ro.socket", d "-sock-ro", 0666 },			\
	  { d "-admin.socket", d "-admin-sock", 0600 } },		\
}

/* virtlogd, virtlockd: no idle timeout, no read-only socket. */
#define HELPER(d) {							\
	d, CATALOG_HELPER, "",						\
	{ { d ".socket", d "-sock", 0600 },				\
	  { d "-admin.socket", d "-admin-sock", 0600 } },		\
	{ { d ".socket", d "-sock", 0600 },				\
	  { d "-admin.socket", d "-admin-sock", 0600 } },		\
}

static const struct catalog_entry catalog[] = {
	DRIVER("virtqemud", CATALOG_HYPERVISOR),
	DRIVER("virtnetworkd", CATALOG_DRIVER),
	DRIVER("virtstoraged", CATALOG_DRIVER),
	DRIVER("virtnodedevd", CATALOG_DRIVER),
	DRIVER("virtsecretd", CATALOG_DRIVER),
	DRIVER("virtinterfaced", CATALOG_DRIVER),
	SYSTEM_DRIVER("virtnwfilterd", CATALOG_DRIVER),
	/* Hypervisors other than QEMU; clients probe virt{qemu,vbox}d-sock
	 * (session) and virt{xen,qemu,lxc,vbox,bhyve,vz}d-sock (root) when
	 * no URI is given (src/remote/remote_sockets.c). */
	DRIVER("virtchd", CATALOG_OTHER_HYPERVISOR),
	DRIVER("virtvboxd", CATALOG_OTHER_HYPERVISOR),
	SYSTEM_DRIVER("virtlxcd", CATALOG_OTHER_HYPERVISOR),
	SYSTEM_DRIVER("virtxend", CATALOG_OTHER_HYPERVISOR),
	SYSTEM_DRIVER("virtvzd", CATALOG_OTHER_HYPERVISOR),
	HELPER("virtlogd"),
	HELPER("virtlockd"),
	{
		"virtproxyd", CATALOG_PROXY, TIMEOUT, { { 0 } },
		{ { "virtproxyd.socket", "libvirt-sock", 0600 },
		  { "virtproxyd-ro.socket", "libvirt-sock-ro", 0666 },
		  { "virtproxyd-admin.socket", "libvirt-admin-sock", 0600 } },
	},
	{
		"libvirtd", CATALOG_MONOLITHIC, TIMEOUT,
		{ { "libvirtd.socket", "libvirt-sock", 0600 },
		  { "libvirtd-admin.socket", "libvirt-admin-sock", 0600 } },
		{ { "libvirtd.socket", "libvirt-sock", 0600 },
		  { "libvirtd-ro.socket", "libvirt-sock-ro", 0666 },
		  { "libvirtd-admin.socket", "libvirt-admin-sock", 0600 } },
	},
};

const struct catalog_entry *
catalog_entries(size_t *ret_n)
{
	*ret_n = sizeof(catalog) / sizeof(catalog[0]);
	return catalog;
}

const struct catalog_entry *
catalog_find(const char *name)
{
	size_t n;
	const struct catalog_entry *e = catalog_entries(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return &e[i];
	return NULL;
}

size_t
catalog_nsockets(const struct catalog_socket *s)
{
	size_t n = 0;

	while (n < CATALOG_MAX_SOCKETS && s[n].name != NULL)
		n++;
	return n;
}

/* The hypervisor and driver daemons that make libvirtd unnecessary. */
bool
catalog_is_modular(const struct catalog_entry *e)
{
	return e->role == CATALOG_HYPERVISOR || e->role == CATALOG_DRIVER ||
	    e->role == CATALOG_OTHER_HYPERVISOR;
}
