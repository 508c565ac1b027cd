/* SPDX-License-Identifier: MIT */
/* Edge: JSON strings on stdout, for virt-brokerctl --json. */
#include <stdio.h>

#include "json.h"

void
json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}
