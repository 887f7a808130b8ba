// Listening inside another network namespace: the socket is the other
// namespace's, the calling thread never leaves its own (so nothing can
// fail on the way back), and sockets created after are ours. Needs root
// (setns); skipped without.

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/kit.h"
#include "xconnect.h"

// The inode of the network namespace at path, 0 when unknown.
static ino_t ns_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

// The inode of the network namespace socket fd belongs to, 0 when unknown.
static ino_t sock_ns_ino(int fd)
{
	struct stat st;
	int nsfd = ioctl(fd, SIOCGSKNS);
	ino_t ino = 0;

	if (nsfd == -1)
		return 0;
	if (fstat(nsfd, &st) == 0)
		ino = st.st_ino;
	close(nsfd);
	return ino;
}

// A child in a network namespace of its own, until *hold is closed.
static pid_t netns_child(int *hold)
{
	int ready[2], wait_end[2];
	pid_t pid;
	char c;

	if (pipe(ready) == -1 || pipe(wait_end) == -1)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(wait_end[1]);
		if (unshare(CLONE_NEWNET) == -1)
			_exit(1);
		c = 1;
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		// Until the parent closes its end (or dies).
		while (read(wait_end[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(wait_end[0]);
	if (pid == -1 || read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		close(wait_end[1]);
		return -1;
	}
	close(ready[0]);
	*hold = wait_end[1];
	return pid;
}

// Replaces every fd of ours on our own network namespace with /dev/null:
// whatever the proxy kept to come back with cannot bring it back. A
// listen that had to return there would find no way.
static void spoil_own_netns_fds(void)
{
	char want[64], got[64], p[300];
	struct dirent *e;
	ssize_t n;
	DIR *d;
	int null;

	n = readlink("/proc/thread-self/ns/net", want, sizeof(want) - 1);
	if (n <= 0)
		return;
	want[n] = '\0';
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	d = opendir("/proc/self/fd");
	CHECK(null != -1 && d != NULL);
	while (d && (e = readdir(d))) {
		snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
		n = readlink(p, got, sizeof(got) - 1);
		if (n <= 0)
			continue;
		got[n] = '\0';
		if (!strcmp(got, want) && atoi(e->d_name) != dirfd(d))
			dup2(null, atoi(e->d_name));
	}
	if (d)
		closedir(d);
	if (null != -1)
		close(null);
}

static void test_listen_in_netns(void)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	ino_t ours, theirs;
	const char *what = "";
	char path[64];
	struct pvx x;
	int hold = -1, fd, later, status;
	pid_t pid;

	ours = ns_ino("/proc/thread-self/ns/net");
	CHECK(ours != 0);
	pid = netns_child(&hold);
	CHECK(pid > 0);
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	theirs = ns_ino(path);
	CHECK(theirs != 0 && theirs != ours);
	CHECK(pvx_init(&x) == 0);
	spoil_own_netns_fds();

	// Any address: the new namespace's loopback is down.
	fd = pvx_listen((struct sockaddr *)&any, sizeof(any), pid, x.reuseport,
			&what);
	CHECK(fd != -1);
	CHECK(sock_ns_ino(fd) == theirs);
	CHECK(ns_ino("/proc/thread-self/ns/net") == ours);
	later = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(later != -1 && sock_ns_ino(later) == ours);
	if (fd != -1)
		close(fd);
	if (later != -1)
		close(later);

	// A namespace that cannot be opened: the step is named.
	close(hold);
	CHECK(waitpid(pid, &status, 0) == pid);
	errno = 0;
	fd = pvx_listen((struct sockaddr *)&any, sizeof(any), pid, x.reuseport,
			&what);
	CHECK(fd == -1 && errno == ENOENT);
	CHECK_STR(what, "open network namespace");
	CHECK(ns_ino("/proc/thread-self/ns/net") == ours);
	pvx_fini(&x);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_xconnect_netns: skipped (needs root)\n");
		return 0;
	}
	// qemu-user passes no SIOCGSKNS through, so a socket's namespace
	// cannot be told there; the native run checks it.
	if (getenv("PV_UNDER_QEMU")) {
		fprintf(stderr, "test_xconnect_netns: skipped under qemu-user "
				"(no SIOCGSKNS)\n");
		return 77;
	}
	RUN(test_listen_in_netns);
	return kit_report("test_xconnect_netns");
}
