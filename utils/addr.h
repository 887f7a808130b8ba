#ifndef PV_ADDR_H
#define PV_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

// Longest "[IPv6]:PORT" text plus NUL.
#define PV_ADDR_STRLEN 64

// Parses a port: decimal digits only, 1..65535. Returns 0 or -1.
int pv_port_parse(const char *s, int *port);

// Parses "IPv4:PORT", "[IPv6]:PORT" or ":PORT" (IPv4 any address, as
// HAProxy's "bind :PORT"). Returns 0 and fills ss/len, or -1.
int pv_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len);

// Formats an IPv4/IPv6 socket address as "IP:PORT" or "[IP]:PORT".
// Returns buf.
char *pv_addr_format(const struct sockaddr *sa, char *buf, size_t n);

// Parses "A.B.C.D/N" (or an IPv6 prefix); returns 0 or -1.
int pv_cidr_parse(const char *s, struct sockaddr_storage *net, int *prefix);

// 1 if the first bits bits of the addresses a and b (network order bytes)
// are equal: a in the prefix b/bits.
int pv_prefix_equal(const unsigned char *a, const unsigned char *b, int bits);

#endif
