// SPDX-License-Identifier: Apache-2.0
/* packet.c - small helpers on the types of packet.h (address formatting). */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

#include "packet.h"

char *pano_addr_str(const struct pano_addr *a, char *buf, unsigned size)
{
	if (!size)
		return buf;
	if (a->family == 4) {
		if (!inet_ntop(AF_INET, a->a, buf, size))
			buf[0] = '\0';
	} else if (a->family == 6) {
		if (!inet_ntop(AF_INET6, a->a, buf, size))
			buf[0] = '\0';
	} else {
		snprintf(buf, size, "?");
	}
	return buf;
}
