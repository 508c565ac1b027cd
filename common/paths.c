/* SPDX-License-Identifier: MIT */
/*
 * Pure: libvirt's runtime directory R, resolved as libvirt 9.0 does it
 * (src/util/virutil.c virGetUserRuntimeDirectory, which is glib's
 * g_get_user_runtime_dir() + "/libvirt"): $XDG_RUNTIME_DIR/libvirt, else
 * glib's fallback, the user cache dir: $XDG_CACHE_HOME/libvirt, else
 * ~/.cache/libvirt. Empty variables count as unset, as in glib.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "xalloc.h"

static int
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

int
paths_session_runtime_dir(const char *xdg_runtime_dir,
    const char *xdg_cache_home, const char *home, char **ret_dir)
{
	if (nonempty(xdg_runtime_dir))
		*ret_dir = paths_join(xdg_runtime_dir, PATHS_LIBVIRT_SUBDIR);
	else if (nonempty(xdg_cache_home))
		*ret_dir = paths_join(xdg_cache_home, PATHS_LIBVIRT_SUBDIR);
	else if (nonempty(home))
		*ret_dir = paths_join(home, ".cache/" PATHS_LIBVIRT_SUBDIR);
	else
		return -ENOENT;
	return 0;
}

/* $XDG_CONFIG_HOME/virt-broker/virt-broker.conf, else ~/.config/... */
int
paths_session_config_file(const char *xdg_config_home, const char *home,
    char **ret_file)
{
	if (nonempty(xdg_config_home))
		*ret_file = paths_join(xdg_config_home,
		    "virt-broker/virt-broker.conf");
	else if (nonempty(home))
		*ret_file = paths_join(home,
		    ".config/virt-broker/virt-broker.conf");
	else
		return -ENOENT;
	return 0;
}

/*
 * dir + "/" + path with dir's trailing slashes folded ("/" + "x" is "/x",
 * as glib's g_build_filename gives), or a copy of path when it is absolute.
 */
char *
paths_join(const char *dir, const char *path)
{
	size_t len = strlen(dir);

	if (path[0] == '/')
		return xstrdup(path);
	while (len > 0 && dir[len - 1] == '/')
		len--;
	if (len == 0 && dir[0] == '/')
		return xasprintf("/%s", path);
	return xasprintf("%.*s/%s", (int)len, dir, path);
}

/* The directory part of an absolute path: "/a/b" -> "/a", "/a" -> "/". */
char *
paths_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/*
 * 1 if path is absolute with no empty, "." or ".." component and no trailing
 * slash, else 0. The broker only creates and removes such paths.
 */
int
paths_is_clean_absolute(const char *path)
{
	const char *p = path;

	if (p[0] != '/' || p[1] == '\0')
		return path[0] == '/' && path[1] == '\0';
	while (*p == '/') {
		const char *c = ++p;
		size_t len = strcspn(c, "/");

		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		p = c + len;
	}
	return 1;
}
