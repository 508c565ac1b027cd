/* SPDX-License-Identifier: MIT */
/*
 * Pure: a map from strings to indexes (open addressing, linear probing),
 * so that looking a unit up by name or a socket by path costs the same
 * with 10 000 units as with 10. Keys are not copied: each must outlive
 * its entry (a unit's name, a socket's path, owned by the same object as
 * the index refers to).
 */
#ifndef VB_STRMAP_H
#define VB_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_slot;

struct strmap {
	struct strmap_slot	*slots;
	size_t			 cap;	/* 0 or a power of two */
	size_t			 n;
};

/* Adds key -> val unless key is there: then *ret_old is its value, false. */
bool	strmap_add(struct strmap *m, const char *key, size_t val,
	    size_t *ret_old);
bool	strmap_get(const struct strmap *m, const char *key, size_t *ret_val);
void	strmap_set(struct strmap *m, const char *key, size_t val);
bool	strmap_del(struct strmap *m, const char *key);
void	strmap_clear(struct strmap *m);

#endif
