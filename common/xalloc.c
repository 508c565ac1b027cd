/* SPDX-License-Identifier: MIT */
/* Pure: allocation that aborts on exhaustion (see xalloc.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static void *
xalloc_check(void *p)
{
	if (p == NULL) {
		fputs("virt-broker: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *
xmalloc(size_t size)
{
	return xalloc_check(malloc(size == 0 ? 1 : size));
}

void *
xcalloc(size_t nmemb, size_t size)
{
	return xalloc_check(calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size));
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > ((size_t)-1) / size)
		return xalloc_check(NULL);
	return xalloc_check(realloc(ptr, nmemb * size == 0 ? 1 : nmemb * size));
}

char *
xstrdup(const char *s)
{
	return xalloc_check(strdup(s));
}

char *
xstrndup(const char *s, size_t n)
{
	return xalloc_check(strndup(s, n));
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		s = NULL;
	return xalloc_check(s);
}

/*
 * Room for element n of an array appended to one element at a time:
 * doubles its size whenever n reaches a power of two (from 8), so that n
 * appends copy O(n) elements in all, never O(n^2).
 */
void *
xgrow(void *ptr, size_t n, size_t size)
{
	if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
		return ptr;
	return xreallocarray(ptr, n < 8 ? 8 : n * 2, size);
}
