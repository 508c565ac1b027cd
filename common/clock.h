/* SPDX-License-Identifier: MIT */
/* Edge: the monotonic clock, in milliseconds. */
#ifndef VB_CLOCK_H
#define VB_CLOCK_H

#include <stdint.h>

uint64_t	clock_mono_ms(void);

#endif
