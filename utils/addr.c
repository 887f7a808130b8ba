#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utils/addr.h"

int pv_port_parse(const char *s, int *port)
{
	long v = 0;
	const char *p;

	if (!s || !*s || strlen(s) > 5)
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int pv_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon;
	size_t hlen;
	int port;

	if (!s)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		if (!close || close[1] != ':')
			return -1;
		hlen = close - s - 1;
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (pv_port_parse(close + 2, &port) ||
		    inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}

	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	colon = strrchr(s, ':');
	if (!colon || pv_port_parse(colon + 1, &port))
		return -1;
	hlen = colon - s;
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (hlen == 0)
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	*len = sizeof(*sin);
	return 0;
}

char *pv_addr_format(const struct sockaddr *sa, char *buf, size_t n)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, n, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, n, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, n, "(family %d)", sa->sa_family);
	}
	return buf;
}

int pv_cidr_parse(const char *s, struct sockaddr_storage *net, int *prefix)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash;
	size_t hlen;
	char *end;
	long bits;

	if (!s)
		return -1;
	slash = strchr(s, '/');
	if (!slash || !slash[1] || slash[1] < '0' || slash[1] > '9')
		return -1;
	hlen = slash - s;
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	bits = strtol(slash + 1, &end, 10);
	if (*end || strlen(slash + 1) > 3)
		return -1;
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)net)->sin_addr) ==
	    1) {
		if (bits < 0 || bits > 32)
			return -1;
		net->ss_family = AF_INET;
	} else if (inet_pton(AF_INET6, host,
			     &((struct sockaddr_in6 *)net)->sin6_addr) == 1) {
		if (bits < 0 || bits > 128)
			return -1;
		net->ss_family = AF_INET6;
	} else {
		return -1;
	}
	*prefix = (int)bits;
	return 0;
}

int pv_prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, bytes))
		return 0;
	if (!rest)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}
