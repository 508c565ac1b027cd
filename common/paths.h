/* SPDX-License-Identifier: MIT */
/*
 * Pure: libvirt's runtime directory and the paths derived from it, resolved
 * from environment values the caller passes in (no getenv here).
 */
#ifndef VB_PATHS_H
#define VB_PATHS_H

#define PATHS_SYSTEM_RUNTIME_DIR	"/run/libvirt"
#define PATHS_LIBVIRT_SUBDIR		"libvirt"

int	 paths_session_runtime_dir(const char *xdg_runtime_dir,
	    const char *xdg_cache_home, const char *home, char **ret_dir);
int	 paths_session_config_file(const char *xdg_config_home,
	    const char *home, char **ret_file);
char	*paths_join(const char *dir, const char *path);
char	*paths_dirname(const char *path);
int	 paths_is_clean_absolute(const char *path);

#endif
