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
int	cmd_doctor(const char *ctl_path, bool system, bool json);

#endif
