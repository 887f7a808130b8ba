// The PROXY protocol (HAProxy's proxy-protocol.txt), versions 1 and 2:
// the header that tells a backend the client's address.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxyproto.h"

// Version 2 starts with this signature, then version/command, family,
// and the length of the addresses that follow.
static const unsigned char v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					  0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

// "PROXY TCP4 src dst sport dport\r\n".
static int header_v1(const struct sockaddr *peer, const struct sockaddr *local,
		     char *buf, size_t n)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	unsigned sport, dport;
	int len;

	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)peer;
		const struct sockaddr_in *l = (const void *)local;

		inet_ntop(AF_INET, &p->sin_addr, src, sizeof(src));
		inet_ntop(AF_INET, &l->sin_addr, dst, sizeof(dst));
		sport = ntohs(p->sin_port);
		dport = ntohs(l->sin_port);
	} else {
		const struct sockaddr_in6 *p = (const void *)peer;
		const struct sockaddr_in6 *l = (const void *)local;

		inet_ntop(AF_INET6, &p->sin6_addr, src, sizeof(src));
		inet_ntop(AF_INET6, &l->sin6_addr, dst, sizeof(dst));
		sport = ntohs(p->sin6_port);
		dport = ntohs(l->sin6_port);
	}
	len = snprintf(buf, n, "PROXY %s %s %s %u %u\r\n",
		       peer->sa_family == AF_INET ? "TCP4" : "TCP6", src, dst,
		       sport, dport);
	return len > 0 && (size_t)len < n ? len : -1;
}

// Signature, version/command, family, length, then the raw addresses and
// ports in network order.
static int header_v2(const struct sockaddr *peer, const struct sockaddr *local,
		     char *buf, size_t n)
{
	unsigned char *p = (unsigned char *)buf;
	size_t alen = peer->sa_family == AF_INET ? 12 : 36;

	if (n < 16 + alen)
		return -1;
	memcpy(p, v2_sig, sizeof(v2_sig));
	p[12] = 0x21;					  // version 2, PROXY
	p[13] = peer->sa_family == AF_INET ? 0x11 : 0x21; // TCP over IPv4/6
	p[14] = (unsigned char)(alen >> 8);
	p[15] = (unsigned char)alen;
	p += 16;
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)peer;
		const struct sockaddr_in *d = (const void *)local;

		memcpy(p, &s->sin_addr, 4);
		memcpy(p + 4, &d->sin_addr, 4);
		memcpy(p + 8, &s->sin_port, 2);
		memcpy(p + 10, &d->sin_port, 2);
	} else {
		const struct sockaddr_in6 *s = (const void *)peer;
		const struct sockaddr_in6 *d = (const void *)local;

		memcpy(p, &s->sin6_addr, 16);
		memcpy(p + 16, &d->sin6_addr, 16);
		memcpy(p + 32, &s->sin6_port, 2);
		memcpy(p + 34, &d->sin6_port, 2);
	}
	return (int)(16 + alen);
}

int pvx_proxy_header(int version, const struct sockaddr *peer,
		     const struct sockaddr *local, char *buf, size_t n)
{
	if ((peer->sa_family != AF_INET && peer->sa_family != AF_INET6) ||
	    peer->sa_family != local->sa_family)
		return -1;
	if (version == 2)
		return header_v2(peer, local, buf, n);
	return header_v1(peer, local, buf, n);
}
