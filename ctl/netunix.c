/* SPDX-License-Identifier: MIT */
/* Edge: connections on Unix socket paths, from /proc/net/unix (netunix.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netunix.h"
#include "xalloc.h"

/* Is the text from p to end exactly one of paths? */
static bool
is_one_of(const char *p, const char *end, const struct strv *paths)
{
	size_t len = (size_t)(end - p);

	for (size_t i = 0; i < paths->n; i++)
		if (strlen(paths->v[i]) == len &&
		    memcmp(p, paths->v[i], len) == 0)
			return true;
	return false;
}

/*
 * Pure: counts the lines of a /proc/net/unix text whose socket is
 * connected or connecting and bound at one of paths. A line is
 * "Num: RefCount Protocol Flags Type St Inode Path"; the path is the rest
 * of the line after the seventh field, spaces and all.
 */
size_t
netunix_count_text(const char *text, const struct strv *paths)
{
	size_t n = 0;

	for (const char *l = text; l != NULL && *l != '\0'; ) {
		const char *nl = strchr(l, '\n'), *p = l, *st = NULL;
		const char *end = nl != NULL ? nl : l + strlen(l);

		for (int f = 0; f < 7 && p < end; f++) {
			while (p < end && *p == ' ')
				p++;
			if (f == 5)
				st = p;
			while (p < end && *p != ' ')
				p++;
		}
		if (st != NULL && p < end && *p == ' ' &&
		    (strncmp(st, "02 ", 3) == 0 ||
		    strncmp(st, "03 ", 3) == 0) &&
		    is_one_of(p + 1, end, paths))
			n++;
		l = nl != NULL ? nl + 1 : NULL;
	}
	return n;
}

/* The count from the table file, or -errno. */
long
netunix_count(const char *table, const struct strv *paths)
{
	FILE *fp = fopen(table, "re");
	char *text = NULL;
	size_t len = 0, cap = 0, got;
	long n;

	if (fp == NULL)
		return -errno;
	do {
		if (len + 4096 + 1 > cap) {
			cap = (len + 4096 + 1) * 2;
			text = xreallocarray(text, cap, 1);
		}
		got = fread(text + len, 1, 4096, fp);
		len += got;
	} while (got > 0);
	if (ferror(fp)) {
		fclose(fp);
		free(text);
		return -EIO;
	}
	fclose(fp);
	text[len] = '\0';
	n = (long)netunix_count_text(text, paths);
	free(text);
	return n;
}
