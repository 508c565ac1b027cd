/* SPDX-License-Identifier: MIT */
/*
 * Pure: allocation that cannot fail. Running out of memory in a small
 * supervisor is not recoverable in any useful way, so these abort (as
 * OpenBSD's xmalloc does) and callers stay free of ENOMEM paths.
 */
#ifndef VB_XALLOC_H
#define VB_XALLOC_H

#include <stddef.h>

#define XALLOC_PRINTF(a, b) __attribute__((format(printf, a, b)))

void	*xmalloc(size_t size);
void	*xcalloc(size_t nmemb, size_t size);
void	*xreallocarray(void *ptr, size_t nmemb, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
char	*xasprintf(const char *fmt, ...) XALLOC_PRINTF(1, 2);
void	*xgrow(void *ptr, size_t n, size_t size);

#endif
