// rtnetlink requests and dumps: a socket that ends (recv answers 0)
// before the kernel's answer is an error, not a reason to read again for
// ever, nor (for a dump) a complete answer.
//
// netdev.c is pvd's and not linked into the unit tests: it is compiled
// into this one, which reaches its static functions.

#include <netinet/in.h>

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

// The request on a socket that has ended: -ENODATA, at once. Returns 0
// when so (in a child: kit_in_child cuts a loop that never ends).
static int transact_eof(void)
{
	struct nl_req r;
	int fd, peer = -1;

	fd = ended_socket(&peer);
	if (fd == -1)
		return 2;
	nl_init(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	return nl_transact(fd, &r) == -ENODATA ? 0 : 1;
}

static void test_transact_eof(void)
{
	kit_in_child(transact_eof);
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
// (no address in use). Returns 0 when so (in a child, as above).
static int dump_eof(void)
{
	struct nl_req r;
	int fd, peer = -1;

	pv_log_set_level(FATAL); // the failure is the point
	fd = ended_socket(&peer);
	if (fd == -1)
		return 2;
	nl_init(&r, RTM_GETADDR, 0, sizeof(struct ifaddrmsg));
	return nl_dump(fd, &r, count_msg, NULL) == -1 && dump_msgs == 0 ? 0 : 1;
}

static void test_dump_eof(void)
{
	kit_in_child(dump_eof);
}

int main(void)
{
	RUN(test_transact_eof);
	RUN(test_dump_eof);
	return kit_report("test_netdev");
}
