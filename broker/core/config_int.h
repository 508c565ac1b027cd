/* SPDX-License-Identifier: MIT */
/*
 * Pure: what config.c, config_values.c and config_keys.c share, private to
 * them: the parse context and the value spellings and checks.
 */
#ifndef VB_CONFIG_INT_H
#define VB_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

struct cfg_ctx {
	struct config	*cfg;
	FILE		*fp;
	int		 line;		/* of the text last handed to inih */
	int		 bad_line;	/* reader reported an error for it */
	int		 broker_line;	/* of this parse's [broker]; 0: none */
	size_t		 first_unit;	/* cfg->units[i >= this]: this parse's */
};

/* config_values.c: spellings and checks of one value, no context. */
extern const char *const cfg_broker_mode_names[BROKER_MODE_MAX];
extern const char *const cfg_start_policy_names[START_POLICY_MAX];
extern const char *const cfg_restart_policy_names[RESTART_POLICY_MAX];
extern const char *const cfg_daemon_log_names[DAEMON_LOG_MAX];
extern const char *const cfg_on_shutdown_names[ON_SHUTDOWN_MAX];

int	 cfg_lookup_name(const char *const *names, int n, const char *value);
int	 cfg_parse_uint(const char *s, unsigned min, unsigned max, int base,
	    unsigned *ret);
int	 cfg_parse_bool(const char *s, bool *ret);
bool	 cfg_sock_path_is_valid(const char *path);
bool	 cfg_search_path_is_valid(const char *value);

/* config_keys.c: one key = value of a section, errors to ctx->cfg. */
void	 cfg_broker_key(struct cfg_ctx *ctx, const char *key,
	    const char *value);
void	 cfg_unit_key(struct cfg_ctx *ctx, struct unit_conf *u,
	    const char *key, const char *value);

#endif
