/* SPDX-License-Identifier: MIT */
/* Edge: JSON strings on stdout, for virt-brokerctl --json. */
#ifndef VB_JSON_H
#define VB_JSON_H

void	json_string(const char *s);

#endif
