#ifndef PV_XCONNECT_TRANSPORT_H
#define PV_XCONNECT_TRANSPORT_H

// Transports (transport.c): how a socket of one family listens and
// connects, as HAProxy's struct protocol (.listen, .connect) with one
// implementation per family. Frontends listen and backends connect
// through one; nothing here knows of frontends, backends or the proxy.
//
// A plugin with a listener of its own kind (a Unix socket it creates
// itself, bound safely) supplies a transport whose listen does that and
// hands it to pvx_frontend_get_on (frontend.h).

#include <sys/socket.h>

// Where a connect goes: an address, or a Unix socket path, reached
// inside the root rootfd (an O_PATH fd, -1: the host's root).
struct pvx_dest {
	struct sockaddr_storage addr; // TCP
	socklen_t addr_len;
	const char *path; // Unix
	int rootfd;
};

struct pvx_transport {
	const char *name; // "tcp", "unix"
	// 1 when a connect completes (or fails) at once, never in progress:
	// the session can join its tunnel without waiting for an edge.
	unsigned connects_at_once : 1;
	// Parses a listener's target as the graph wrote it into addr.
	// Returns 0, or -1 when it is not an address of this transport.
	int (*parse)(const char *target, struct sockaddr_storage *addr,
		     socklen_t *len);
	// A listening socket (non-blocking, CLOEXEC) on addr, target as the
	// graph wrote it; inside the network namespace of pid when pid > 0;
	// with reuseport, shared with the other --threads workers. Returns
	// the fd, or -1 with errno set and *what naming the step. NULL: this
	// transport does not listen.
	int (*listen)(const char *target, const struct sockaddr *addr,
		      socklen_t len, int pid, int reuseport, const char **what);
	// Starts a non-blocking connect to d. Returns the socket (connect in
	// progress or done), or -1 with errno set, or *reason (static) when
	// errno does not say it; *again 1: try again shortly (a Unix
	// listener's full backlog).
	int (*connect)(const struct pvx_dest *d, int *again,
		       const char **reason);
};

// TCP over IPv4 or IPv6: listens (also in a consumer's network
// namespace), connects with TCP_NODELAY.
extern const struct pvx_transport pvx_transport_tcp;

// Unix stream sockets: connects to a path, resolved inside a provider's
// root without leaving it. Does not listen (listen is NULL): a plugin
// that does brings its own listen step (binding safely is its business).
extern const struct pvx_transport pvx_transport_unix;

#endif
