/* SPDX-License-Identifier: MIT */
/* Edge: what /proc says about a process (Linux). */
#ifndef VB_PROC_H
#define VB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

bool	proc_comm(pid_t pid, char *buf, size_t size);
bool	proc_is(pid_t pid, const char *name);
bool	proc_running(pid_t pid);
double	proc_uptime(void);
double	proc_start(pid_t pid);
double	proc_age(pid_t pid);
pid_t	proc_read_pidfile(const char *path);
void	proc_describe_status(int wstatus, char *buf, size_t size);
ssize_t	proc_cmdline(pid_t pid, char *buf, size_t size);
bool	proc_has_arg(const char *cmdline, ssize_t len, const char *prefix);
pid_t	proc_ppid(pid_t pid);
void	proc_env(pid_t pid, const char *name, char *buf, size_t size);

#endif
