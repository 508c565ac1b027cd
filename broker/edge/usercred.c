/* SPDX-License-Identifier: MIT */
/* Edge: users and groups for users' session brokers (usercred.h). */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "usercred.h"
#include "xalloc.h"

int
usercred_group_members(const char *group, struct strv *ret_names, void *arg)
{
	struct group *g;
	struct passwd *pw;
	gid_t gid;

	(void)arg;
	errno = 0;
	if ((g = getgrnam(group)) == NULL)
		return errno != 0 ? -errno : -ENOENT;
	gid = g->gr_gid;
	for (size_t i = 0; g->gr_mem[i] != NULL; i++)
		if (!strv_contains(ret_names, g->gr_mem[i]))
			strv_add(ret_names, g->gr_mem[i]);
	setpwent();
	while ((pw = getpwent()) != NULL)
		if (pw->pw_gid == gid && !strv_contains(ret_names, pw->pw_name))
			strv_add(ret_names, pw->pw_name);
	endpwent();
	return 0;
}

int
usercred_lookup(const char *name, struct usercred *ret)
{
	struct passwd *pw;
	int n = USERCRED_MAX_GROUPS;

	memset(ret, 0, sizeof(*ret));
	errno = 0;
	if ((pw = getpwnam(name)) == NULL)
		return errno != 0 ? -errno : -ENOENT;
	if (pw->pw_uid == 0)
		return -EPERM;		/* root is the system broker */
	ret->uid = pw->pw_uid;
	ret->gid = pw->pw_gid;
	ret->name = xstrdup(pw->pw_name);
	ret->home = xstrdup(pw->pw_dir != NULL && pw->pw_dir[0] == '/' ?
	    pw->pw_dir : "/");
	ret->shell = xstrdup(pw->pw_shell != NULL && pw->pw_shell[0] == '/' ?
	    pw->pw_shell : "/bin/sh");
	if (getgrouplist(pw->pw_name, pw->pw_gid, ret->groups, &n) < 0)
		n = USERCRED_MAX_GROUPS;	/* the first ones */
	ret->ngroups = (size_t)n;
	return 0;
}

void
usercred_clear(struct usercred *c)
{
	free(c->name);
	free(c->home);
	free(c->shell);
	memset(c, 0, sizeof(*c));
}

char *
usercred_self_exe(void)
{
	static const char deleted[] = " (deleted)";
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	size_t len;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	len = (size_t)n;
	if (len > sizeof(deleted) - 1 &&
	    strcmp(buf + len - (sizeof(deleted) - 1), deleted) == 0)
		buf[len - (sizeof(deleted) - 1)] = '\0';
	return buf[0] == '/' ? xstrdup(buf) : NULL;
}
