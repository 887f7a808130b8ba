#ifndef PV_XCONNECT_TRANSPORT_H
#define PV_XCONNECT_TRANSPORT_H

// Transports (transport.c): how a socket of one family listens and
// connects, as HAProxy's struct protocol (.listen, .connect) with one
// implementation per family. Frontends listen and backends connect
// through one; nothing here knows of frontends, backends or the proxy.
//
// A frontend listens through the transport pvx_frontend_get_on (frontend.h)
// was given: TCP for the tcp plugin, Unix (a socket made inside a
// consumer's root by rootbind.c) for the unix plugin.

#include <stddef.h>
#include <sys/socket.h>

// Where a connect goes: an address, or a Unix socket path, reached
// inside the root rootfd (an O_PATH fd, -1: the host's root).
struct pvx_dest {
	struct sockaddr_storage addr; // TCP
	socklen_t addr_len;
	const char *path; // Unix
	int rootfd;
};

// What a listen step leaves besides its fd. The caller sets why (n
// bytes, "" on entry) and keeps the struct while the socket is open.
struct pvx_bind {
	// The transport's record of what it made for the socket (a socket
	// file), handed to its unlisten; NULL: nothing.
	void *priv;
	// A failure's whole reason when a step's name and errno would not
	// say it ("a regular file is there, left alone"); "" otherwise.
	char *why;
	size_t n;
};

struct pvx_transport {
	const char *name; // "tcp", "unix"
	// How log lines name a listener: "listen on" (TCP) or "socket" before
	// its target in a failure's line, and what follows the target when
	// it is in a namespace of pid (" in netns of pid ").
	const char *listen_noun;
	const char *pid_where;
	// 1 when accepted clients have IP addresses: a link's allow list and
	// PROXY header apply (a Unix client has neither).
	unsigned ip_peers : 1;
	// 1 when a connect completes (or fails) at once, never in progress:
	// the session can join its tunnel without waiting for an edge.
	unsigned connects_at_once : 1;
	// Parses a listener's target as the graph wrote it into addr.
	// Returns 0, or -1 when it is not an address of this transport.
	int (*parse)(const char *target, struct sockaddr_storage *addr,
		     socklen_t *len);
	// A listening socket (non-blocking, CLOEXEC) on addr, target as the
	// graph wrote it; inside the namespace of pid when pid > 0 (TCP: the
	// network namespace; Unix: the root of the mount namespace); with
	// reuseport, shared with the other --threads workers (TCP). Returns
	// the fd with b->priv set, or -1 with errno set, *what naming the
	// step, and b->why when that does not say it all. NULL: this
	// transport does not listen.
	int (*listen)(const char *target, const struct sockaddr *addr,
		      socklen_t len, int pid, int reuseport, struct pvx_bind *b,
		      const char **what);
	// Closes fd, a socket listen returned, and lets go of what listen
	// made with it (b->priv, then NULL): the Unix transport removes its
	// socket file if it is still the one it bound. NULL: close(fd).
	void (*unlisten)(int fd, struct pvx_bind *b);
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
// root without leaving it; listens at a path made inside the root of
// pid's mount namespace without following its symlinks (rootbind.h),
// mode 0666, removed again by unlisten. No reuseport: one socket per path.
extern const struct pvx_transport pvx_transport_unix;

#endif
