/* SPDX-License-Identifier: MIT */
/*
 * Pure: string -> index map (strmap.h). Linear probing in a table kept at
 * most half full; deletion shifts the following run back (no tombstones),
 * so lookups stay short however many adds and deletes a reload makes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "xalloc.h"

struct strmap_slot {
	const char	*key;	/* NULL: free */
	size_t		 val;
	size_t		 hash;
};

/* FNV-1a: simple, and good enough for names and paths. */
static size_t
hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 32));
}

/* The slot holding key, or the free slot where it would go. */
static struct strmap_slot *
find(const struct strmap *m, const char *key, size_t h)
{
	size_t mask = m->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];

		if (s->key == NULL ||
		    (s->hash == h && strcmp(s->key, key) == 0))
			return s;
	}
}

static void
grow(struct strmap *m)
{
	struct strmap old = *m;

	m->cap = old.cap == 0 ? 16 : old.cap * 2;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key != NULL)
			*find(m, old.slots[i].key, old.slots[i].hash) =
			    old.slots[i];
	free(old.slots);
}

bool
strmap_add(struct strmap *m, const char *key, size_t val, size_t *ret_old)
{
	struct strmap_slot *s;
	size_t h = hash_str(key);

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	s = find(m, key, h);
	if (s->key != NULL) {
		if (ret_old != NULL)
			*ret_old = s->val;
		return false;
	}
	s->key = key;
	s->val = val;
	s->hash = h;
	m->n++;
	return true;
}

void
strmap_set(struct strmap *m, const char *key, size_t val)
{
	struct strmap_slot *s;
	size_t h = hash_str(key);

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	s = find(m, key, h);
	if (s->key == NULL)
		m->n++;
	s->key = key;		/* the newest owner's string */
	s->val = val;
	s->hash = h;
}

bool
strmap_get(const struct strmap *m, const char *key, size_t *ret_val)
{
	const struct strmap_slot *s;

	if (m->n == 0)
		return false;
	s = find(m, key, hash_str(key));
	if (s->key == NULL)
		return false;
	*ret_val = s->val;
	return true;
}

bool
strmap_del(struct strmap *m, const char *key)
{
	size_t mask = m->cap - 1, i, j;
	struct strmap_slot *s;

	if (m->n == 0)
		return false;
	s = find(m, key, hash_str(key));
	if (s->key == NULL)
		return false;
	i = (size_t)(s - m->slots);
	/*
	 * Backward shift: move up each later entry of the run whose home
	 * slot is not between the hole and itself (cyclically).
	 */
	for (j = (i + 1) & mask; m->slots[j].key != NULL; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = NULL;
	m->n--;
	return true;
}

void
strmap_clear(struct strmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = 0;
	m->n = 0;
}
