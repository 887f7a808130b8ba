// Client networks: the allow lists of ingress rules.

#include <netinet/in.h>
#include <string.h>

#include "graph.h"
#include "utils/addr.h"

int pvx_cidr_match(const struct pvx_cidr *allow, int n,
		   const struct sockaddr *addr)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0,    0,
						  0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *v4 = NULL, *v6 = NULL;
	const struct sockaddr_in6 *sin6;
	int i;

	if (addr->sa_family == AF_INET) {
		v4 = (const void *)&((const struct sockaddr_in *)addr)
			     ->sin_addr;
	} else if (addr->sa_family == AF_INET6) {
		sin6 = (const void *)addr;
		v6 = sin6->sin6_addr.s6_addr;
		// An IPv4 client on a dual-stack listener is still that
		// IPv4 client for an IPv4 rule.
		if (!memcmp(v6, mapped, sizeof(mapped)))
			v4 = v6 + 12;
	} else {
		return 0;
	}
	for (i = 0; i < n; i++) {
		const struct sockaddr *net =
			(const struct sockaddr *)&allow[i].net;

		if (net->sa_family == AF_INET && v4 &&
		    pv_prefix_equal(
			    v4,
			    (const void *)&((const struct sockaddr_in *)net)
				    ->sin_addr,
			    allow[i].prefix))
			return 1;
		if (net->sa_family == AF_INET6 && v6 &&
		    pv_prefix_equal(v6,
				    ((const struct sockaddr_in6 *)net)
					    ->sin6_addr.s6_addr,
				    allow[i].prefix))
			return 1;
	}
	return 0;
}
