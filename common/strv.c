/* SPDX-License-Identifier: MIT */
/* Pure: growable string vectors and argument splitting. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "xalloc.h"

void
strv_push(struct strv *sv, char *owned)
{
	sv->v = xreallocarray(sv->v, sv->n + 2, sizeof(*sv->v));
	sv->v[sv->n++] = owned;
	sv->v[sv->n] = NULL;
}

void
strv_add(struct strv *sv, const char *s)
{
	strv_push(sv, xstrdup(s));
}

void
strv_addf(struct strv *sv, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		s = xstrdup("");	/* xstrdup aborts if this fails too */
	strv_push(sv, s);
}

void
strv_copy(struct strv *dst, const struct strv *src)
{
	for (size_t i = 0; i < src->n; i++)
		strv_add(dst, src->v[i]);
}

void
strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/* Removes entry i (freed), keeping the order of the others. */
void
strv_remove_at(struct strv *sv, size_t i)
{
	if (i >= sv->n)
		return;
	free(sv->v[i]);
	memmove(&sv->v[i], &sv->v[i + 1], (sv->n - i) * sizeof(*sv->v));
	sv->n--;
}

/* An empty vector as an argv/envp: a static { NULL }. */
char *const *
strv_array(const struct strv *sv)
{
	static char *const empty[] = { NULL };

	return sv->v != NULL ? sv->v : empty;
}

char *
strv_join(const struct strv *sv, const char *sep)
{
	size_t len = 1, seplen = strlen(sep);
	char *s, *p;

	for (size_t i = 0; i < sv->n; i++)
		len += strlen(sv->v[i]) + seplen;
	p = s = xmalloc(len);
	*p = '\0';
	for (size_t i = 0; i < sv->n; i++) {
		if (i > 0) {
			memcpy(p, sep, seplen);
			p += seplen;
		}
		len = strlen(sv->v[i]);
		memcpy(p, sv->v[i], len);
		p += len;
	}
	*p = '\0';
	return s;
}

/*
 * Splits a command line into words on blanks. Double or single quotes group
 * blanks into one word; a backslash outside single quotes escapes the next
 * character. No variables, no globbing: this is not a shell.
 * Returns 0, or -EINVAL for an unterminated quote or a trailing backslash
 * (ret_args is then left untouched).
 */
int
strv_split_args(const char *s, struct strv *ret_args)
{
	struct strv out = { 0 };
	char *word = xmalloc(strlen(s) + 1);
	size_t len = 0;
	bool in_word = false;
	char quote = 0;

	for (const char *p = s; ; p++) {
		char c = *p;

		if (c == '\0') {
			if (quote != 0)
				goto fail;
			break;
		}
		if (quote != 0 && c == quote) {
			quote = 0;
			continue;
		}
		if (c == '\\' && quote != '\'') {
			if (p[1] == '\0')
				goto fail;
			word[len++] = *++p;
			in_word = true;
			continue;
		}
		if (quote == 0 && (c == '"' || c == '\'')) {
			quote = c;
			in_word = true;
			continue;
		}
		if (quote == 0 && (c == ' ' || c == '\t')) {
			if (in_word) {
				strv_push(&out, xstrndup(word, len));
				len = 0;
				in_word = false;
			}
			continue;
		}
		word[len++] = c;
		in_word = true;
	}
	if (in_word)
		strv_push(&out, xstrndup(word, len));
	free(word);
	strv_free(ret_args);
	*ret_args = out;
	return 0;
fail:
	free(word);
	strv_free(&out);
	return -EINVAL;
}

/* Is s one of sv's strings? */
bool
strv_contains(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}
