/* SPDX-License-Identifier: MIT */
/*
 * Edge: libvirt's per-boot autostart markers in a runtime dir that outlives
 * the boot. libvirt starts autostart guests, networks and pools only when
 * the driver's state dir lacks an "autostarted" file (src/driver.c
 * virDriverShouldAutostart), which it creates at first start and relies on
 * a tmpfs to forget at reboot. R = ~/.cache/libvirt is not a tmpfs, so the
 * broker records the kernel's boot id in R and, in a new boot, removes
 * those markers (and nothing else) before any daemon of R starts.
 */
#ifndef VB_BOOTMARK_H
#define VB_BOOTMARK_H

#include <stdbool.h>

#define BOOTMARK_FILE	"virt-broker.boot-id"
#define BOOTMARK_MARKER	"autostarted"

/*
 * Call with R locked, before the first daemon starts. same_boot: a daemon
 * of R already runs (adopted), so this cannot be a new boot.
 */
void	bootmark_check(const char *runtime_dir, bool same_boot);

#endif
