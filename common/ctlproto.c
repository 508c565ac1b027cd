/* SPDX-License-Identifier: MIT */
/* Pure: the control protocol (see ctlproto.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"
#include "xalloc.h"

static bool
plain(unsigned char c)
{
	return c > ' ' && c <= '~' && c != '%';
}

char *
ctlproto_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(s) * 3 + 1), *p = out;

	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (plain(*c)) {
			*p++ = (char)*c;
		} else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		}
	}
	*p = '\0';
	return out;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Returns 0, or -EINVAL for a bad %XX or a %00 (no NUL in a word). */
int
ctlproto_unescape(const char *s, char **ret)
{
	char *out = xmalloc(strlen(s) + 1), *p = out;

	for (; *s; s++) {
		int hi, lo;

		if (*s != '%') {
			*p++ = *s;
			continue;
		}
		hi = hexval(s[1]);
		lo = hi < 0 ? -1 : hexval(s[2]);
		if (lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return -EINVAL;
		}
		*p++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*p = '\0';
	*ret = out;
	return 0;
}

/* Splits a line (without its newline) on spaces and unescapes the words. */
int
ctlproto_split(const char *line, struct strv *ret_words)
{
	struct strv w = { 0 };
	const char *p = line;

	while (*p != '\0') {
		size_t len = strcspn(p, " ");
		char *raw = xstrndup(p, len), *word;
		int r = ctlproto_unescape(raw, &word);

		free(raw);
		if (r < 0 || len == 0) {
			if (r == 0)
				free(word);
			strv_free(&w);
			return -EINVAL;
		}
		strv_push(&w, word);
		p += len;
		if (*p == ' ')
			p++;
	}
	strv_free(ret_words);
	*ret_words = w;
	return 0;
}

/* Escapes and joins words with single spaces (free it). */
char *
ctlproto_join(const char *const *words, size_t n)
{
	struct strv esc = { 0 };
	char *s;

	for (size_t i = 0; i < n; i++)
		strv_push(&esc, ctlproto_escape(words[i]));
	s = strv_join(&esc, " ");
	strv_free(&esc);
	return s;
}

/*
 * A request line: version first, then the command and its arguments in
 * ret_args. -EPROTO for another version, -EINVAL for a malformed line,
 * -E2BIG for an overlong one.
 */
int
ctlproto_parse_request(const char *line, struct strv *ret_args)
{
	struct strv w = { 0 };
	int r;

	if (strlen(line) >= CTLPROTO_MAX_LINE)
		return -E2BIG;
	r = ctlproto_split(line, &w);
	if (r < 0)
		return r;
	if (w.n < 2 || strcmp(w.v[0], CTLPROTO_VERSION) != 0) {
		r = w.n > 0 && strncmp(w.v[0], "VB", 2) == 0 &&
		    strcmp(w.v[0], CTLPROTO_VERSION) != 0 ? -EPROTO : -EINVAL;
		strv_free(&w);
		return r;
	}
	strv_free(ret_args);
	free(w.v[0]);
	memmove(w.v, w.v + 1, w.n * sizeof(*w.v));	/* keeps the NULL */
	w.n--;
	*ret_args = w;
	return 0;
}

/* The value of key=value among words (from ctlproto_split), or NULL. */
const char *
ctlproto_kv(const struct strv *words, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < words->n; i++)
		if (strncmp(words->v[i], key, klen) == 0 &&
		    words->v[i][klen] == '=')
			return words->v[i] + klen + 1;
	return NULL;
}
