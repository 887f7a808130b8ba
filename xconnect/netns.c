// Namespaces: listening sockets created inside a consumer's network
// namespace (by a short-lived thread, so that no loop's thread ever
// leaves its own), and Unix socket paths resolved inside a provider's root
// without ever leaving it.

#define MODULE_NAME "netns"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sock.h"

// Backlog of every listener: the kernel caps it at somaxconn.
#define LISTEN_BACKLOG 4096

// Creates, binds and listens in the current network namespace; with
// reuseport, beside the listeners of the other --threads workers.
static int listen_here(const struct sockaddr *addr, socklen_t len,
		       int reuseport, const char **what)
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
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1) {
		*what = "SO_REUSEPORT";
		goto fail;
	}
	// Accepted sockets inherit it: no Nagle delay on top of the client's
	// own, without a setsockopt per connection.
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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

// A listen inside another network namespace, run by a thread of its own.
struct ns_listen {
	const struct sockaddr *addr;
	socklen_t len;
	int reuseport;
	int nsfd;	  // the namespace to enter
	int fd;		  // the result, or -1
	int err;	  // errno when fd is -1
	const char *what; // the step that failed
};

// The thread: enters the namespace, listens, ends. setns moves only the
// calling thread, so the thread that asked never leaves its namespace
// and nothing has to go back: a thread that failed to return would
// create every later socket of its loop inside the consumer's namespace.
static void *listen_in_netns(void *arg)
{
	struct ns_listen *nl = arg;

	if (setns(nl->nsfd, CLONE_NEWNET) == -1) {
		nl->err = errno;
		nl->what = "enter network namespace";
		return NULL;
	}
	// The socket belongs to the namespace it was created in.
	nl->fd = listen_here(nl->addr, nl->len, nl->reuseport, &nl->what);
	nl->err = errno;
	return NULL;
}

int pvx_listen(const struct sockaddr *addr, socklen_t len, int pid,
	       int reuseport, const char **what)
{
	struct ns_listen nl = {
		.addr = addr,
		.len = len,
		.reuseport = reuseport,
		.fd = -1,
	};
	sigset_t all, old;
	pthread_t t;
	char path[64];
	int rc;

	if (pid <= 0)
		return listen_here(addr, len, reuseport, what);

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	nl.nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nl.nsfd == -1) {
		*what = "open network namespace";
		return -1;
	}
	// Signals stay with the threads that handle them.
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&t, NULL, listen_in_netns, &nl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		close(nl.nsfd);
		*what = "start a thread to enter the network namespace";
		errno = rc;
		return -1;
	}
	pthread_join(t, NULL);
	close(nl.nsfd);
	if (nl.fd == -1) {
		*what = nl.what;
		errno = nl.err;
	}
	return nl.fd;
}

int pvx_root_open(int pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	// Following this magic link once is the point: it is the provider's
	// root as its mount namespace sees it.
	return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

// Kernels before 5.6 (and qemu-user 7.2) have no openat2: walk the path
// one component at a time with O_NOFOLLOW, keeping the directories opened
// so far so that ".." never climbs above rootfd. Without the kernel's help
// to resolve a symlink inside the root, any symlink on the way is refused
// (ELOOP): stricter than openat2, never looser.
#define WALK_MAX_DEPTH 64

// Declared here, not in xconnect.h: only pvx_root_resolve and its unit
// test call it.
int pvx_root_walk(int rootfd, const char *path);

int pvx_root_walk(int rootfd, const char *path)
{
	int dirs[WALK_MAX_DEPTH + 1];
	int depth = 0, fd = -1, err = 0;
	char *copy, *save, *name;
	struct stat st;

	copy = strdup(path);
	if (!copy)
		return -1;
	dirs[0] = rootfd;
	for (name = strtok_r(copy, "/", &save); name;
	     name = strtok_r(NULL, "/", &save)) {
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			if (depth > 0)
				close(dirs[depth--]);
			continue;
		}
		if (depth == WALK_MAX_DEPTH) {
			err = ENAMETOOLONG;
			break;
		}
		fd = openat(dirs[depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 || fstat(fd, &st) == -1) {
			err = errno;
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			err = ELOOP;
			break;
		}
		dirs[++depth] = fd;
		fd = -1;
	}
	if (fd != -1)
		close(fd);
	free(copy);
	// The last component opened is the result; every directory above it
	// is closed. Nothing opened (the root itself) is not a socket.
	fd = -1;
	if (!err && depth > 0)
		fd = dirs[depth--];
	else if (!err)
		err = EISDIR;
	while (depth > 0)
		close(dirs[depth--]);
	if (fd == -1)
		errno = err;
	return fd;
}

// openat2 answers EAGAIN when a rename or a mount anywhere raced a walk
// through "..": it cannot tell whether ".." left the root. A provider
// controls both (its own renames, a path of many ".."), so the retries are
// bounded: past them the connect fails, rather than the loop spinning.
#define RESOLVE_TRIES 8

int pvx_root_resolve(int rootfd, const char *path)
{
	// Cleared by whichever --threads worker finds openat2 missing first,
	// read by all of them.
	static atomic_int have_openat2 = 1;
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		// Absolute symlinks and ".." stay under rootfd, and
		// /proc/PID/fd-style links cannot jump out of it.
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int tries = 0;
	long fd;

	if (!atomic_load_explicit(&have_openat2, memory_order_relaxed))
		return pvx_root_walk(rootfd, path);
	do {
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	} while (fd == -1 && errno == EAGAIN && ++tries < RESOLVE_TRIES);
	if (fd == -1 && errno == ENOSYS) {
		// Said once, by the thread that cleared it.
		if (atomic_exchange(&have_openat2, 0))
			pv_log(WARN, "openat2 is not available (Linux < 5.6): "
				     "Unix backend paths with a symlink are "
				     "refused");
		return pvx_root_walk(rootfd, path);
	}
	return (int)fd;
}
