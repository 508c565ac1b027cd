/* SPDX-License-Identifier: MIT */
/*
 * Pure: NOSAN marks a function that runs in spawn.c's clone(CLONE_VM)
 * child, so that ASan leaves it uninstrumented. That child runs on a stack
 * ASan does not know, in the broker's memory: instrumented code there
 * warns at every call of a noreturn function ("ASan is ignoring requested
 * __asan_handle_no_return") and poisons shadow memory the broker shares.
 * UBSan stays on: it says nothing unless the code is wrong.
 */
#ifndef VB_NOSAN_H
#define VB_NOSAN_H

#if defined(__has_attribute)
#if __has_attribute(no_sanitize_address)
#define NOSAN	__attribute__((no_sanitize_address))
#endif
#endif
#ifndef NOSAN
#define NOSAN
#endif

#endif
