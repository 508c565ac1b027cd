/* SPDX-License-Identifier: MIT */
/* Pure: a growable, NULL-terminated vector of owned strings (argv, envp). */
#ifndef VB_STRV_H
#define VB_STRV_H

#include <stdbool.h>
#include <stddef.h>

struct strv {
	char	**v;		/* NULL-terminated once anything was added */
	size_t	  n;
};

void	 strv_push(struct strv *sv, char *owned);
void	 strv_add(struct strv *sv, const char *s);
void	 strv_addf(struct strv *sv, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 strv_copy(struct strv *dst, const struct strv *src);
void	 strv_free(struct strv *sv);
void	 strv_remove_at(struct strv *sv, size_t i);
bool	 strv_contains(const struct strv *sv, const char *s);
int	 strv_split_args(const char *s, struct strv *ret_args);
char	*strv_join(const struct strv *sv, const char *sep);
char	*const *strv_array(const struct strv *sv);

#endif
