/* SPDX-License-Identifier: MIT */
/*
 * Pure: the control protocol between virt-brokerctl and the broker.
 *
 * Request, one line:  "VB1 COMMAND [ARG...]\n"
 * Reply, lines:       "KIND key=value ...\n" ... then "OK\n" or
 *                     "ERR message\n"
 * Words are separated by one space; a word's bytes outside [!-~] and
 * '%' itself are %XX-escaped, so any value fits on one line.
 */
#ifndef VB_CTLPROTO_H
#define VB_CTLPROTO_H

#include <stddef.h>

#include "strv.h"

#define CTLPROTO_VERSION	"VB1"
#define CTLPROTO_MAX_LINE	4096	/* a request, with its newline */
#define CTLPROTO_SOCKET		"virt-broker-ctl-sock"

char	*ctlproto_escape(const char *s);
int	 ctlproto_unescape(const char *s, char **ret);
int	 ctlproto_split(const char *line, struct strv *ret_words);
char	*ctlproto_join(const char *const *words, size_t n);
int	 ctlproto_parse_request(const char *line, struct strv *ret_args);
const char *ctlproto_kv(const struct strv *words, const char *key);

#endif
