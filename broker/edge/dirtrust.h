/* SPDX-License-Identifier: MIT */
/*
 * Edge: is a socket's directory one that only we (or root) can change?
 * Then the path we just bound is ours: nobody else can have replaced it
 * between bind() and our next look at it, and sock.c can skip asking the
 * kernel (sock_diag) which socket the path names.
 */
#ifndef VB_DIRTRUST_H
#define VB_DIRTRUST_H

#include <stdbool.h>

bool	dirtrust_parent_of(const char *path);

#endif
