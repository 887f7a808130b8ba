#ifndef PV_XCONNECT_SOCK_H
#define PV_XCONNECT_SOCK_H

// Sockets and namespaces (netns.c): listeners inside a network
// namespace, paths resolved inside a provider's root.

#include <sys/socket.h>

// A listening TCP socket on addr (SO_REUSEADDR, non-blocking, CLOEXEC),
// created inside the network namespace of pid when pid > 0 (by a thread
// of its own: the caller's never changes namespace), else in ours; with
// reuseport, SO_REUSEPORT too (the --threads workers share it).
// Returns the fd, or -1 with errno set and *what naming the step.
int pvx_listen(const struct sockaddr *addr, socklen_t len, int pid,
	       int reuseport, const char **what);

// An O_PATH fd on the root of pid's mount namespace, or -1 (errno set).
int pvx_root_open(int pid);

// Opens path (absolute) under the root fd without leaving it: symlinks
// resolve inside it, magic links are refused. Returns an O_PATH fd, or -1
// with errno set: EAGAIN when renames or mounts raced every one of a few
// tries (the path may be fine a moment later).
int pvx_root_resolve(int rootfd, const char *path);

#endif
