/* SPDX-License-Identifier: MIT */
/*
 * virt-brokerctl doctor: what keeps libvirt's clients from the one daemon
 * on this host, each finding with the command that fixes it here. It reads
 * (the broker's answer, /proc, the runtime dirs, PATH, /dev/kvm) and never
 * changes anything or starts a daemon; it needs no broker (it says so when
 * none answers). The findings are gathered by the checks (doctor.c) and
 * printed apart (doctor_out.c), as text or JSON.
 */
#ifndef VB_DOCTOR_H
#define VB_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

enum doctor_level { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL };

struct doctor_finding {
	const char		*check;	/* broker, daemons, runtime-dir, ... */
	enum doctor_level	 level;
	char			*what;	/* one line: what was found */
	char			*fix;	/* NULL for ok: the command or line */
};

struct doctor {
	struct doctor_finding	*v;
	size_t			 n;
};

void	doctor_add(struct doctor *d, const char *check, enum doctor_level lv,
	    char *what, char *fix);
void	doctor_free(struct doctor *d);
int	doctor_exit_status(const struct doctor *d);
void	doctor_print_text(const struct doctor *d);
void	doctor_print_json(const struct doctor *d);

void	doctor_init_services(struct doctor *d, const char *root);
/* What a guest needs to start (doctor_guests.c). */
void	doctor_guests(struct doctor *d, bool system);

struct strv;
/*
 * Does a flatpak app with these --filesystem entries (metadata, then
 * overrides; "!tok" takes one back) see path? home and xdg (NULL: unset)
 * are the host's HOME and XDG_RUNTIME_DIR.
 */
bool	doctor_flatpak_sees(const struct strv *fs, const char *home,
	    const char *xdg, const char *path);
/* Session: each flatpak libvirt client, and whether it sees R, the
 * broker's runtime dir, where the links in XDG_RUNTIME_DIR point. */
void	doctor_flatpak(struct doctor *d, const char *r);
int	cmd_doctor(const char *ctl_path, bool system, bool json);

#endif
