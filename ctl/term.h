/* SPDX-License-Identifier: MIT */
/*
 * Edge: what virt-brokerctl prints is the broker's, the daemons' and
 * libvirt's text (units' output, log tails, admin clients' names), which
 * whoever runs a daemon controls. term_guard() puts a filter on stdout and
 * stderr that prints control characters escaped (\x1b for ESC; C1 controls
 * U+0080-U+009F as \u0080...), keeping only newline and tab, so that no
 * escape sequence reaches the terminal and no text forges a line.
 */
#ifndef VB_TERM_H
#define VB_TERM_H

#include <stddef.h>

void	term_guard(void);
size_t	term_escape(const char *in, size_t n, char *out, int *pending);

#endif
