// Listening Unix sockets inside a consumer's root (see rootbind.h).
//
// How the bind reaches the directory: a short-lived thread that did
// unshare(CLONE_FS) gets a current directory and umask of its own; it
// fchdir()s to the directory fd found by the walk and binds the bare
// name, with umask 0111 so that the socket is created 0666 at once. The
// alternatives are worse: a path through /proc/PID/root is resolved by
// the kernel again at bind time (a symlink planted meanwhile would be
// followed, against the host's root for absolute ones); binding
// "/proc/self/fd/N/name" is sound for the bind itself but leaves the mode
// to a later chmod by path, which follows a symlink the consumer swaps in
// between (a chmod 0666 of any host file). The thread never leaves our
// namespaces; only its cwd and umask differ, and die with it.

#define MODULE_NAME "rootbind"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "rootbind.h"
#include "sock.h"

// Backlog of the listener: the kernel caps it at somaxconn.
#define LISTEN_BACKLOG 4096
// Directories a path may have at most.
#define MAX_DEPTH 64

// Fills why, keeps errno.
static void say(char *why, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t n, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	errno = err;
}

// What a non-directory, non-socket file is, for the reason.
static const char *file_kind(mode_t m)
{
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symlink";
	if (S_ISFIFO(m))
		return "a fifo";
	return "a device or other special file";
}

// Opens (creating it when missing) the directory name under dirfd,
// without following a symlink: an O_PATH fd, or -1 with why set.
static int open_dir(int dirfd, const char *name, const char *upto, char *why,
		    size_t n)
{
	struct stat st;
	int fd, tries;

	// Two rounds at most: missing, made, opened. Gone again in between
	// (the consumer removing what we made) is a failure, not a loop.
	for (tries = 0; tries < 2; tries++) {
		// O_PATH|O_NOFOLLOW opens a symlink itself, which fstat
		// then shows: no link is ever followed, magic ones neither.
		fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd != -1)
			break;
		if (errno != ENOENT) {
			say(why, n, "%s: %s", upto, strerror(errno));
			return -1;
		}
		// mkdirat does not follow a (dangling) symlink either: it
		// says EEXIST, and the next open finds the symlink.
		if (mkdirat(dirfd, name, 0755) == -1 && errno != EEXIST) {
			say(why, n, "cannot create directory %s: %s", upto,
			    strerror(errno));
			return -1;
		}
	}
	if (fd == -1) {
		errno = ENOENT;
		say(why, n, "directory %s vanished while being created", upto);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		say(why, n, "%s: %s", upto, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		close(fd);
		errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
		say(why, n, "%s is %s, not followed", upto,
		    file_kind(st.st_mode));
		return -1;
	}
	return fd;
}

// The bind, run by a thread of its own (see the head comment).
struct bind_job {
	int dirfd;
	const char *name;
	int fd;
	int err;
	const char *what;
};

static void *bind_in_dir(void *arg)
{
	struct bind_job *j = arg;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	// From here on this thread's cwd and umask are its own.
	if (unshare(CLONE_FS) == -1) {
		j->err = errno;
		j->what = "unshare(CLONE_FS)";
		return NULL;
	}
	if (fchdir(j->dirfd) == -1) {
		j->err = errno;
		j->what = "fchdir";
		return NULL;
	}
	umask(0111);
	// The name fits: the whole path does, checked by the caller.
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", j->name);
	// bind creates the name and never follows a symlink there (an
	// existing name is EADDRINUSE).
	if (bind(j->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		j->err = errno;
		j->what = "bind";
		return NULL;
	}
	j->err = 0;
	return NULL;
}

// Binds fd to name in dirfd. Returns 0, or -1 with errno set, *what
// naming the step.
static int bind_at(int fd, int dirfd, const char *name, const char **what)
{
	struct bind_job j = {
		.dirfd = dirfd,
		.name = name,
		.fd = fd,
		.err = EINVAL,
		.what = "bind",
	};
	sigset_t all, old;
	pthread_t t;
	int rc;

	// Signals stay with the threads that handle them.
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&t, NULL, bind_in_dir, &j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		*what = "start a thread to bind";
		errno = rc;
		return -1;
	}
	pthread_join(t, NULL);
	if (j.err) {
		*what = j.what;
		errno = j.err;
		return -1;
	}
	return 0;
}

// Splits path into its directories (names[0..*ndirs)) and last name, in
// copy (which the names point into). Returns 0, or -1 with why set.
static int split(char *copy, char **names, int *ndirs, char **last, char *why,
		 size_t n)
{
	char *save, *c;
	int count = 0;

	for (c = strtok_r(copy, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			errno = EINVAL;
			say(why, n, "the path has a \"..\" component");
			return -1;
		}
		if (count == MAX_DEPTH + 1) {
			errno = ENAMETOOLONG;
			say(why, n, "more than %d directories", MAX_DEPTH);
			return -1;
		}
		names[count++] = c;
	}
	if (!count) {
		errno = EINVAL;
		say(why, n, "the path names no file");
		return -1;
	}
	*last = names[--count];
	*ndirs = count;
	return 0;
}

int pvx_rootbind_listen(int rootfd, const char *path, struct pvx_rootsock *rs,
			char *why, size_t n)
{
	char *names[MAX_DEPTH + 1], *copy, *upto = NULL, *name = NULL;
	int ndirs = 0, i, dirfd = rootfd, fd = -1, err;
	const char *what = "";
	struct stat st;
	size_t len;

	rs->dirfd = -1;
	rs->name = NULL;
	why[0] = 0;
	len = strlen(path);
	if (path[0] != '/') {
		errno = EINVAL;
		say(why, n, "not an absolute path");
		return -1;
	}
	// A client inside connects by this path: it has to fit sun_path
	// with its terminating NUL, as every Unix socket path does.
	if (len >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		errno = ENAMETOOLONG;
		say(why, n,
		    "the path is %zu bytes, a Unix socket's at most %zu", len,
		    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -1;
	}
	copy = strdup(path);
	upto = calloc(1, len + 1);
	if (!copy || !upto) {
		say(why, n, "out of memory");
		goto fail;
	}
	if (split(copy, names, &ndirs, &name, why, n))
		goto fail;
	for (i = 0; i < ndirs; i++) {
		int next;

		// "/run/pv" so far, for the reasons.
		strcat(upto, "/");
		strcat(upto, names[i]);
		next = open_dir(dirfd, names[i], upto, why, n);
		if (next == -1)
			goto fail;
		if (dirfd != rootfd)
			close(dirfd);
		dirfd = next;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			say(why, n, "%s is there, left alone",
			    file_kind(st.st_mode));
			goto fail;
		}
		// A socket: stale, from an earlier run of ours or of the
		// consumer's; ours replaces it.
		if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT) {
			say(why, n, "cannot remove the old socket: %s",
			    strerror(errno));
			goto fail;
		}
	} else if (errno != ENOENT) {
		say(why, n, "%s", strerror(errno));
		goto fail;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		say(why, n, "socket: %s", strerror(errno));
		goto fail;
	}
	if (bind_at(fd, dirfd, name, &what)) {
		if (errno == EADDRINUSE)
			say(why, n,
			    "something appeared at the path meanwhile, "
			    "left alone");
		else
			say(why, n, "%s: %s", what, strerror(errno));
		goto fail;
	}
	// What bind made, to remove it later only if it is still there.
	// (Swapped in the instant between the two, the inode we would
	// remove is one the consumer made in its own directory.)
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		say(why, n, "the new socket: %s", strerror(errno));
		goto fail;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		say(why, n, "listen: %s", strerror(errno));
		if (S_ISSOCK(st.st_mode))
			unlinkat(dirfd, name, 0);
		goto fail;
	}
	rs->name = strdup(name);
	if (!rs->name) {
		say(why, n, "out of memory");
		unlinkat(dirfd, name, 0);
		goto fail;
	}
	if (dirfd == rootfd) {
		// The root itself: a directory fd of our own for later.
		dirfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
		if (dirfd == -1) {
			say(why, n, "dup: %s", strerror(errno));
			unlinkat(rootfd, name, 0);
			free(rs->name);
			rs->name = NULL;
			dirfd = rootfd;
			goto fail;
		}
	}
	rs->dirfd = dirfd;
	rs->dev = st.st_dev;
	rs->ino = st.st_ino;
	free(copy);
	free(upto);
	return fd;
fail:
	err = errno ? errno : EINVAL;
	if (fd != -1)
		close(fd);
	if (dirfd != rootfd)
		close(dirfd);
	free(copy);
	free(upto);
	errno = err;
	return -1;
}

int pvx_rootbind_listen_pid(int pid, const char *path, struct pvx_rootsock *rs,
			    char *why, size_t n)
{
	int rootfd, fd, err;

	rs->dirfd = -1;
	rs->name = NULL;
	rootfd = pvx_root_open(pid);
	if (rootfd == -1) {
		say(why, n, "the root of pid %d: %s", pid, strerror(errno));
		return -1;
	}
	fd = pvx_rootbind_listen(rootfd, path, rs, why, n);
	err = errno;
	close(rootfd);
	errno = err;
	return fd;
}

void pvx_rootbind_release(struct pvx_rootsock *rs)
{
	struct stat st;

	if (!rs)
		return;
	if (rs->dirfd != -1 && rs->name &&
	    fstatat(rs->dirfd, rs->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_dev == rs->dev &&
	    st.st_ino == rs->ino && unlinkat(rs->dirfd, rs->name, 0) == -1)
		pv_log(WARN, "cannot remove socket %s: %s", rs->name,
		       strerror(errno));
	if (rs->dirfd != -1)
		close(rs->dirfd);
	free(rs->name);
	rs->dirfd = -1;
	rs->name = NULL;
}
