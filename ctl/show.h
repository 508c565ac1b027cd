/* SPDX-License-Identifier: MIT */
/*
 * Edge: what libvirt's admin API and state directory said about a daemon
 * (admin.h, guests.h), printed for virt-brokerctl status: text lines
 * indented under the unit, or JSON members.
 */
#ifndef VB_SHOW_H
#define VB_SHOW_H

#include <stddef.h>

#include "admin.h"
#include "guests.h"

void	fmt_time(const char *epoch, char *buf, size_t size);
void	show_admin_text(const struct adm_result *r);
void	show_admin_json(const struct adm_result *r);
void	show_guests_text(const char *dir, int err, const struct guest *g,
	    size_t n);
void	show_guests_json(const char *dir, int err, const struct guest *g,
	    size_t n);

#endif
