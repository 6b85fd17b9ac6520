// SPDX-License-Identifier: Apache-2.0
/*
 * weak_defaults.c - TEMPORARY stand-ins for the DNS module while analyzer/dns.c is being
 * written, so that pano-analyzer links. The real definitions override these; this file goes
 * away as soon as dns.c lands.
 */
#include <string.h>

#include "dns.h"

__attribute__((weak)) void dns_config_default(struct dns_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ports[0] = 53;
	cfg->ports[1] = 5353;
	cfg->ports[2] = 5355;
	cfg->nports = 3;
	cfg->timeout_ns = 5000000000ull;
	cfg->max_open = 100000;
}

__attribute__((weak)) int dns_init(const struct dns_config *cfg)
{
	(void)cfg;
	return 0;
}
