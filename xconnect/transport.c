// The TCP and Unix transports (transport.h): plain socket calls, with
// the namespace and root helpers of netns.c and the Unix listeners of
// rootbind.c.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "utils/addr.h"
#include "rootbind.h"
#include "sock.h"
#include "transport.h"

static int tcp_parse(const char *target, struct sockaddr_storage *addr,
		     socklen_t *len)
{
	return pv_addr_parse(target, addr, len);
}

static int tcp_listen(const char *target, const struct sockaddr *addr,
		      socklen_t len, int pid, int reuseport, struct pvx_bind *b,
		      const char **what)
{
	(void)target;
	b->priv = NULL;
	return pvx_listen(addr, len, pid, reuseport, what);
}

static int tcp_connect(const struct pvx_dest *d, int *again,
		       const char **reason)
{
	int fd, one = 1, err;

	*again = 0;
	*reason = NULL;
	fd = socket(d->addr.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	// Requests and answers go out as they come: no Nagle delay on top
	// of the client's own.
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&d->addr, d->addr_len) == 0 ||
	    errno == EINPROGRESS)
		return fd;
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

// Connects fd to a Unix socket that pathfd (O_PATH) designates: through
// /proc/self/fd the path fits sun_path whatever its real length.
static int connect_pathfd(int fd, int pathfd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(sun.sun_path, sizeof(sun.sun_path), "/proc/self/fd/%d",
		 pathfd);
	return connect(fd, (struct sockaddr *)&sun, sizeof(sun));
}

// Starts the connect of fd to d's path.
static int connect_path(const struct pvx_dest *d, int fd, const char **reason)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(d->path);
	int pathfd, rc, err;

	if (d->rootfd == -1 && len < sizeof(sun.sun_path)) {
		memcpy(sun.sun_path, d->path, len + 1);
		return connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	}
	if (d->rootfd == -1) {
		pathfd = open(d->path, O_PATH | O_CLOEXEC);
	} else {
		pathfd = pvx_root_resolve(d->rootfd, d->path);
		// Not a full backlog (the EAGAIN of connect): this connect
		// fails, as it would on a path that does not resolve.
		if (pathfd == -1 && errno == EAGAIN)
			*reason = "its path kept changing under the walk "
				  "(openat2: EAGAIN)";
	}
	if (pathfd == -1)
		return -1;
	rc = connect_pathfd(fd, pathfd);
	err = errno;
	close(pathfd);
	errno = err;
	return rc;
}

// An absolute path that fits sun_path (never truncated).
static int unix_parse(const char *target, struct sockaddr_storage *addr,
		      socklen_t *len)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)addr;
	size_t n = strlen(target);

	if (target[0] != '/' || n >= sizeof(sun->sun_path))
		return -1;
	memset(addr, 0, sizeof(*addr));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, target, n + 1);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

static int unix_connect(const struct pvx_dest *d, int *again,
			const char **reason)
{
	int fd, err;

	*again = 0;
	*reason = NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect_path(d, fd, reason) == 0 || errno == EINPROGRESS)
		return fd;
	err = errno;
	close(fd);
	// A Unix listener with a full backlog says EAGAIN: not a failure of
	// the backend, only a moment to wait.
	if (err == EAGAIN && !*reason)
		*again = 1;
	errno = err;
	return -1;
}

// The socket at target inside the root of pid (addr, the same path, is
// not needed: rootbind walks target itself); b->priv its pvx_rootsock.
static int unix_listen(const char *target, const struct sockaddr *addr,
		       socklen_t len, int pid, int reuseport,
		       struct pvx_bind *b, const char **what)
{
	struct pvx_rootsock *rs = calloc(1, sizeof(*rs));
	int fd, err;

	(void)addr;
	(void)len;
	// One socket per path: --threads workers do not share it.
	(void)reuseport;
	b->priv = NULL;
	*what = "calloc";
	if (!rs)
		return -1;
	*what = "rootbind";
	fd = pvx_rootbind_listen_pid(pid, target, rs, b->why, b->n);
	if (fd == -1) {
		err = errno;
		free(rs);
		errno = err;
		return -1;
	}
	b->priv = rs;
	return fd;
}

// Closes the listener, then removes its socket file if the inode there
// is still the one bound (the consumer may have replaced it).
static void unix_unlisten(int fd, struct pvx_bind *b)
{
	close(fd);
	pvx_rootbind_release(b->priv);
	free(b->priv);
	b->priv = NULL;
}

const struct pvx_transport pvx_transport_tcp = {
	.name = "tcp",
	.listen_noun = "listen on",
	.pid_where = " in netns of pid ",
	.ip_peers = 1,
	.parse = tcp_parse,
	.listen = tcp_listen,
	.connect = tcp_connect,
};

const struct pvx_transport pvx_transport_unix = {
	.name = "unix",
	.listen_noun = "socket",
	.pid_where = " in the root of pid ",
	.parse = unix_parse,
	.connects_at_once = 1,
	.listen = unix_listen,
	.unlisten = unix_unlisten,
	.connect = unix_connect,
};
