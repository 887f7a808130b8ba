#ifndef PV_XCONNECT_PROXYPROTO_H
#define PV_XCONNECT_PROXYPROTO_H

// The PROXY protocol header (proxyproto.c).

#include <stddef.h>
#include <sys/socket.h>

// Writes the PROXY protocol header (version 1 or 2) for a client at peer
// that reached us at local into buf. Returns its length, or -1 when the
// addresses are not IP ones.
int pvx_proxy_header(int version, const struct sockaddr *peer,
		     const struct sockaddr *local, char *buf, size_t n);

#endif
