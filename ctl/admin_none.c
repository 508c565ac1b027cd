/* SPDX-License-Identifier: MIT */
/*
 * Edge: admin.h for a virt-brokerctl built without libvirt-admin: every
 * query fails with ADM_NOT_BUILT, so status and debug say so.
 */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "xalloc.h"

bool
adm_built(void)
{
	return false;
}

void
adm_query(const struct adm_target *t, size_t n, struct adm_result *ret)
{
	(void)t;
	for (size_t i = 0; i < n; i++) {
		memset(&ret[i], 0, sizeof(ret[i]));
		ret[i].error = xstrdup(ADM_NOT_BUILT);
	}
}

int
adm_logging(const struct adm_target *t, const char *filters,
    const char *outputs, char **ret_filters, char **ret_outputs,
    char **reterr)
{
	(void)t;
	(void)filters;
	(void)outputs;
	(void)ret_filters;
	(void)ret_outputs;
	*reterr = xstrdup(ADM_NOT_BUILT);
	return -1;
}

void
adm_result_free(struct adm_result *r)
{
	strv_free(&r->lines);
	free(r->error);
	r->error = NULL;
}
