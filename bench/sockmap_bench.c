// One proxied TCP connection over loopback, three ways: direct (no
// proxy), a user-space splice loop (what pv-xconnect does today), and the
// kernel data path (xconnect/datapath_sockmap.c). Bulk: the client sends
// for SECONDS, the server counts. Ping-pong: 100-byte request, 100-byte
// answer, round trips for SECONDS. Prints one line: throughput or round
// trips per second, the proxy process's CPU and the whole machine's CPU
// (the kernel path's work runs in softirq and kworker context, charged to
// no process), per GB or per round trip. Needs root for sockmap.
//
//   build/bench/sockmap-bench MODE TEST [SECONDS]
//   MODE: direct | splice | sockmap      TEST: bulk | pingpong

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "datapath_sockmap.h"

#define MSG 100

static double seconds = 3;
static int pingpong;

// Now, CLOCK_MONOTONIC, in seconds.
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// The machine's busy CPU time so far, in seconds (/proc/stat).
static double busy(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return 0;
	// user nice system (idle iowait) irq softirq steal
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
	       (double)sysconf(_SC_CLK_TCK);
}

// A listening TCP socket on 127.0.0.1, its port in *port.
static int listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t n = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l == -1 || bind(l, (struct sockaddr *)&a, n) == -1 ||
	    listen(l, 4) == -1 || getsockname(l, (struct sockaddr *)&a, &n)) {
		perror("listen");
		exit(1);
	}
	*port = ntohs(a.sin_port);
	return l;
}

// A connection to 127.0.0.1:port.
static int dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (fd == -1 || connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

// Reads exactly n bytes; 0, or -1 at EOF or error.
static int read_full(int fd, char *buf, size_t n)
{
	ssize_t r;

	while (n) {
		r = read(fd, buf, n);
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

// The server: counts what arrives (bulk) or answers each request.
static void server(int l)
{
	char buf[65536];
	int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC), one = 1;

	if (fd == -1)
		exit(1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (pingpong) {
		while (read_full(fd, buf, MSG) == 0)
			if (write(fd, buf, MSG) != MSG)
				break;
	} else {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	}
	shutdown(fd, SHUT_WR);
	exit(0);
}

// The client: sends for `seconds`, then half-closes and waits for EOF.
// Writes the count (bytes, or round trips) to out.
static void client(int port, int out)
{
	static char buf[65536];
	int fd = dial(port), i;
	double end = now() + seconds;
	uint64_t count = 0;
	ssize_t w;

	memset(buf, 'x', sizeof(buf));
	for (;;) {
		for (i = 0; i < 64; i++) {
			if (pingpong) {
				if (write(fd, buf, MSG) != MSG ||
				    read_full(fd, buf, MSG))
					exit(1);
				count++;
			} else {
				w = write(fd, buf, sizeof(buf));
				if (w <= 0)
					exit(1);
				count += (uint64_t)w;
			}
		}
		if (now() >= end)
			break;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (write(out, &count, sizeof(count)) != sizeof(count))
		exit(1);
	exit(0);
}

struct dir {
	int from, to;
};

// One direction of the splice proxy: socket, pipe, socket, until EOF.
static void *splice_dir(void *arg)
{
	struct dir *d = arg;
	ssize_t n, m;
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return NULL;
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	for (;;) {
		n = splice(d->from, NULL, p[1], NULL, 1 << 20, SPLICE_F_MOVE);
		if (n <= 0)
			break;
		while (n > 0) {
			m = splice(p[0], NULL, d->to, NULL, (size_t)n,
				   SPLICE_F_MOVE);
			if (m <= 0)
				goto out;
			n -= m;
		}
	}
out:
	shutdown(d->to, SHUT_WR);
	close(p[0]);
	close(p[1]);
	return NULL;
}

// Waits for EOF on fd, then for the kernel to flush, then half-closes
// the other side.
static void sockmap_half_close(struct pvx_sockmap *sm, int fd, int other,
			       int from_a)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	int i;

	while (poll(&p, 1, -1) == 1 && !(p.revents & (POLLRDHUP | POLLHUP)))
		;
	for (i = 0; i < 100000; i++) {
		if (pvx_sockmap_flushed(sm, 1, from_a) != 0)
			break;
		usleep(100);
	}
	shutdown(other, SHUT_WR);
}

// The proxy: accepts the client, connects the server, moves bytes.
static void proxy(int l, int port, const char *mode)
{
	int a = accept4(l, NULL, NULL, SOCK_CLOEXEC), b = dial(port), one = 1;
	struct dir ab = { a, b }, ba = { b, a };
	struct pvx_sockmap *sm;
	pthread_t t1, t2;
	char why[256];

	setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!strcmp(mode, "splice")) {
		pthread_create(&t1, NULL, splice_dir, &ab);
		pthread_create(&t2, NULL, splice_dir, &ba);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		exit(0);
	}
	sm = pvx_sockmap_open(4, why, sizeof(why));
	if (!sm || pvx_sockmap_add_pair(sm, a, b, 1) == -1) {
		fprintf(stderr, "sockmap: %s\n", sm ? strerror(errno) : why);
		exit(1);
	}
	sockmap_half_close(sm, a, b, 1);
	sockmap_half_close(sm, b, a, 0);
	pvx_sockmap_close(sm);
	exit(0);
}

int main(int argc, char **argv)
{
	int ls, lp, sport, pport, out[2], st;
	pid_t s, p = -1, c;
	double t0, t1, b0, b1, cpu, pcpu = 0;
	struct rusage ru;
	uint64_t count = 0;
	const char *mode;

	if (argc < 3 ||
	    (strcmp(argv[1], "direct") && strcmp(argv[1], "splice") &&
	     strcmp(argv[1], "sockmap"))) {
		fprintf(stderr,
			"usage: %s direct|splice|sockmap bulk|pingpong "
			"[SECONDS]\n",
			argv[0]);
		return 2;
	}
	mode = argv[1];
	pingpong = !strcmp(argv[2], "pingpong");
	if (argc > 3)
		seconds = atof(argv[3]);
	signal(SIGPIPE, SIG_IGN);
	ls = listener(&sport);
	lp = listener(&pport);
	if (pipe(out) == -1)
		return 1;
	s = fork();
	if (s == 0)
		server(ls);
	if (strcmp(mode, "direct")) {
		p = fork();
		if (p == 0)
			proxy(lp, sport, mode);
	}
	t0 = now();
	b0 = busy();
	c = fork();
	if (c == 0)
		client(strcmp(mode, "direct") ? pport : sport, out[1]);
	if (read(out[0], &count, sizeof(count)) != sizeof(count))
		count = 0;
	t1 = now();
	b1 = busy();
	waitpid(c, &st, 0);
	if (p > 0 && wait4(p, &st, 0, &ru) == p)
		pcpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	waitpid(s, &st, 0);
	cpu = b1 - b0;
	if (pingpong)
		printf("%-8s pingpong %9.0f round trips/s  proxy %6.2f us/rt  "
		       "machine %6.2f us/rt\n",
		       mode, (double)count / (t1 - t0),
		       count ? pcpu * 1e6 / (double)count : 0,
		       count ? cpu * 1e6 / (double)count : 0);
	else
		printf("%-8s bulk     %9.2f Gbit/s       proxy %6.2f s/GB   "
		       "machine %6.2f s/GB\n",
		       mode, (double)count * 8 / 1e9 / (t1 - t0),
		       count ? pcpu * 1e9 / (double)count : 0,
		       count ? cpu * 1e9 / (double)count : 0);
	return count ? 0 : 1;
}
