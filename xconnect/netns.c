// Namespaces: listening sockets created inside a consumer's network
// namespace, and Unix socket paths resolved inside a provider's root
// without ever leaving it.

#define MODULE_NAME "netns"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "xconnect.h"

// Backlog of every listener: the kernel caps it at somaxconn.
#define LISTEN_BACKLOG 4096

// Creates, binds and listens in the current network namespace.
static int listen_here(const struct sockaddr *addr, socklen_t len,
		       const char **what)
{
	int fd, one = 1;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd == -1) {
		*what = "socket";
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1) {
		*what = "SO_REUSEADDR";
		goto fail;
	}
	if (bind(fd, addr, len) == -1) {
		*what = "bind";
		goto fail;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		*what = "listen";
		goto fail;
	}
	return fd;
fail:
	one = errno;
	close(fd);
	errno = one;
	return -1;
}

int pvx_listen(struct pvx *x, const struct sockaddr *addr, socklen_t len,
	       int pid, const char **what)
{
	char path[64];
	int nsfd, fd, err;

	if (pid <= 0)
		return listen_here(addr, len, what);

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd == -1) {
		*what = "open network namespace";
		return -1;
	}
	if (setns(nsfd, CLONE_NEWNET) == -1) {
		err = errno;
		close(nsfd);
		*what = "enter network namespace";
		errno = err;
		return -1;
	}
	close(nsfd);
	// The socket belongs to the namespace it was created in, and stays
	// there after we leave.
	fd = listen_here(addr, len, what);
	err = errno;
	if (setns(x->netns_fd, CLONE_NEWNET) == -1) {
		// Every later socket would land in the container: no way on.
		pv_log(FATAL, "cannot return to our network namespace: %s",
		       strerror(errno));
		exit(1);
	}
	errno = err;
	return fd;
}

int pvx_root_open(int pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	// Following this magic link once is the point: it is the provider's
	// root as its mount namespace sees it.
	return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int pvx_root_resolve(int rootfd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		// Absolute symlinks and ".." stay under rootfd, and
		// /proc/PID/fd-style links cannot jump out of it.
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	do {
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	} while (fd == -1 && errno == EAGAIN);
	return (int)fd;
}
