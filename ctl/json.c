/* SPDX-License-Identifier: MIT */
/* Edge: JSON strings on stdout, for virt-brokerctl --json. */
#include <stdio.h>

#include "json.h"

/* Every control character escaped: C0, DEL and C1 (U+0080-U+009F). */
void
json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			printf("\\u%04x", *++p);
		else
			putchar(*p);
	}
	putchar('"');
}
