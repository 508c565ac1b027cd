/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the control protocol (common/ctlproto.c), what the
 * broker parses from any client that reaches its socket. Any line must
 * give words or an error, never a crash, a leak or undefined behaviour,
 * and what parses must survive a round trip through escape and join.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_words(const struct strv *a, const struct strv *b)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			abort();
}

/* escape then unescape gives the text back, on one line, no spaces. */
static void
escape_round_trip(const char *text)
{
	char *e = ctlproto_escape(text), *back = NULL;

	if (strpbrk(e, " \t\n") != NULL || ctlproto_unescape(e, &back) < 0 ||
	    strcmp(back, text) != 0)
		abort();
	free(back);
	free(e);
}

/* A request the broker accepted reads back the same from its join. */
static void
request_round_trip(const char *line)
{
	struct strv args = { 0 }, again = { 0 };
	char *body, *req;

	if (ctlproto_parse_request(line, &args) < 0)
		return;
	if (args.n == 0 || args.v[args.n] != NULL)
		abort();
	body = ctlproto_join((const char *const *)args.v, args.n);
	req = xasprintf(CTLPROTO_VERSION " %s", body);
	if (strlen(req) < CTLPROTO_MAX_LINE) {
		if (ctlproto_parse_request(req, &again) < 0)
			abort();
		same_words(&args, &again);
	}
	strv_free(&again);
	free(req);
	free(body);
	strv_free(&args);
}

/* A reply line's words: join and split again, and look keys up. */
static void
split_round_trip(const char *line)
{
	struct strv w = { 0 }, again = { 0 };
	char *joined, key[16];

	if (ctlproto_split(line, &w) < 0)
		return;
	joined = ctlproto_join((const char *const *)w.v, w.n);
	if (ctlproto_split(joined, &again) < 0)
		abort();
	same_words(&w, &again);
	if (w.n > 0) {
		size_t klen = strcspn(w.v[0], "=");

		if (klen < sizeof(key)) {
			memcpy(key, w.v[0], klen);
			key[klen] = '\0';
			if (w.v[0][klen] == '=' && ctlproto_kv(&w, key) == NULL)
				abort();
		}
	}
	strv_free(&again);
	free(joined);
	strv_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line, *out = NULL;

	/* The broker hands over a C string: a NUL ends the line. */
	line = xmalloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	request_round_trip(line);
	split_round_trip(line);
	escape_round_trip(line);
	if (ctlproto_unescape(line, &out) == 0)
		free(out);
	free(line);
	return 0;
}
