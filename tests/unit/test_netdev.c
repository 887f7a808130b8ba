// rtnetlink requests and dumps: a socket that ends (recv answers 0)
// before the kernel's answer is an error, not a reason to read again for
// ever, nor (for a dump) a complete answer.
//
// netdev.c is pvd's and not linked into the unit tests: it is compiled
// into this one, which reaches its static functions.

#include <netinet/in.h>
#include <signal.h>
#include <sys/wait.h>

// The file under test, compiled in so that its static functions are in
// reach.
#include "netdev.c" // NOLINT(bugprone-suspicious-include)
#include "tests/unit/kit.h"

// A TCP connection on loopback whose read side is shut: its recv answers
// 0 at once, and sendto ignores the netlink address. *peer is the other
// end (to be closed). Returns the fd or -1.
static int ended_socket(int *peer)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l, fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l == -1 || bind(l, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    listen(l, 1) == -1 ||
	    getsockname(l, (struct sockaddr *)&a, &len) == -1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1)
		return -1;
	*peer = accept(l, NULL, NULL);
	close(l);
	if (*peer == -1 || shutdown(fd, SHUT_RD) == -1)
		return -1;
	return fd;
}

// In a child, so that a loop that never ends is cut by its alarm.
static void test_transact_eof(void)
{
	struct nl_req r;
	int status = 0, fd, peer = -1, err;
	pid_t pid;

	pid = fork();
	CHECK(pid != -1);
	if (pid == 0) {
		alarm(20);
		fd = ended_socket(&peer);
		if (fd == -1)
			_exit(2);
		nl_init(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
		err = nl_transact(fd, &r);
		_exit(err == -ENODATA ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int dump_msgs;

static int count_msg(struct nlmsghdr *h, void *arg)
{
	(void)h;
	(void)arg;
	dump_msgs++;
	return 0;
}

// A dump cut short by the socket's end is a failure, not an empty list
// (no address in use): in a child, as above.
static void test_dump_eof(void)
{
	struct nl_req r;
	int status = 0, fd, peer = -1, ret;
	pid_t pid;

	pid = fork();
	CHECK(pid != -1);
	if (pid == 0) {
		alarm(20);
		pv_log_set_level(FATAL); // the failure is the point
		fd = ended_socket(&peer);
		if (fd == -1)
			_exit(2);
		nl_init(&r, RTM_GETADDR, 0, sizeof(struct ifaddrmsg));
		ret = nl_dump(fd, &r, count_msg, NULL);
		_exit(ret == -1 && dump_msgs == 0 ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	RUN(test_transact_eof);
	RUN(test_dump_eof);
	return kit_report("test_netdev");
}
