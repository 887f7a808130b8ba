// When libevent cannot add an event (no memory for its timer heap, an fd
// the backend refuses), nothing may stop for good without a word: the
// listener is not left deaf while taken for accepting, a session does not
// lose its connect deadline, the health checks do not stop, yielded
// tunnels do not stall, an idle session is still reaped, a removed link's
// sessions are still cut; the stats page neither goes deaf nor holds its
// clients unanswered; a fetch does not wait for an answer it cannot see.
//
// event_add fails on demand (kit_fail.h).

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tests/unit/kit.h"
#include "tests/unit/kit_fail.h"
#include "xconnect.h"

static struct pvx x;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

// Runs the loop until cond holds: at most 400 rounds of 5 ms (2 s; the
// proxy's own timings are not what is tested).
#define RUN_UNTIL(cond)                                                        \
	do {                                                                   \
		struct timeval tv_ = { 0, 5000 };                              \
		int i_;                                                        \
		for (i_ = 0; !(cond) && i_ < 400; i_++) {                      \
			event_base_loopexit(x.base, &tv_);                     \
			event_base_dispatch(x.base);                           \
		}                                                              \
	} while (0)

// 1 when b's first session is established.
static int first_established(struct pvx_backend *b)
{
	struct pvx_session *se;

	if (dl_list_empty(&b->sessions))
		return 0;
	se = dl_list_first(&b->sessions, struct pvx_session, list);
	return se && se->state == PVX_SESSION_ESTABLISHED;
}

// A loopback TCP listener that never accepts; its port in *port.
static int listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd;

	*port = 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) == -1) {
		CHECK(!"listener");
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

// A backend of fe on 127.0.0.1:port, with a tcp check every 20 ms when
// check is set.
static struct pvx_backend *backend(struct pvx_frontend *fe, int port, int check)
{
	struct pvx_link l = { 0 };
	char sock[32];

	snprintf(sock, sizeof(sock), "127.0.0.1:%d", port);
	l.key = "k";
	l.label = "t";
	l.provider = "_host_";
	l.socket = sock;
	l.connect_ms = 5000;
	l.idle_ms = -1;
	if (check) {
		l.check.type = PVX_CHECK_TCP;
		l.check.interval_ms = 20;
		l.check.timeout_ms = 200;
	}
	return pvx_backend_new(fe, &l);
}

static int nonblock(int fd)
{
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// A frontend that never listens (netns pid -1: no port taken) with one
// backend, a listener of the test's that never accepts.
struct link_fixture {
	int l, port;
	struct pvx_frontend *fe;
	struct pvx_backend *b;
};

// Sets f up for the frontend called name, its backend with a tcp check
// when check is set; the first fail_adds event_add calls of the
// backend's creation fail (kit_event_failed counts from 0). Returns 0,
// or -1 (a failed check) without a backend; link_fini in both cases.
static int link_init(struct link_fixture *f, const char *name, int check,
		     int fail_adds)
{
	f->l = listener(&f->port);
	f->fe = pvx_frontend_get(&x, name, "t", NULL, "127.0.0.1:1", -1);
	kit_fail_reset();
	kit_event_fail_next = fail_adds;
	f->b = f->fe ? backend(f->fe, f->port, check) : NULL;
	kit_event_fail_next = 0;
	CHECK(f->b != NULL);
	return f->b ? 0 : -1;
}

// Undoes link_init; the backend is the test's to remove.
static void link_fini(struct link_fixture *f)
{
	if (f->l != -1)
		close(f->l);
	if (f->fe)
		pvx_frontend_check_empty(f->fe);
	pvx_frontend_unref(f->fe);
}

// The listener's watch cannot be added: it stays paused, and its timer
// tries again, so that the client waiting in the backlog is taken.
static void test_listener_watch(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct pvx_frontend *fe;
	char target[32];
	int port, l, c;

	// A free port: bound, then let go for the frontend to take.
	l = listener(&port);
	close(l);
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	kit_event_failed = 0;
	kit_event_fail_next = 1;
	fe = pvx_frontend_get(&x, "fe", "t", NULL, target, 0);
	kit_event_fail_next = 0;
	CHECK(fe != NULL);
	if (!fe)
		return;
	CHECK(fe->listener.listening);
	CHECK(kit_event_failed == 1);
	// Not taken for accepting while nothing watches it.
	CHECK(fe->listener.paused);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(c != -1 && connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
	// No backend: the client is taken and closed at once, counted.
	RUN_UNTIL(fe->stats.sessions_total == 1);
	CHECK(fe->stats.sessions_total == 1);
	CHECK(!fe->listener.paused);
	close(c);
	pvx_frontend_check_empty(fe);
	pvx_frontend_unref(fe);
}

// The connect's deadline cannot be armed: the session ends at once
// rather than wait for a connect that may never complete.
static void test_connect_deadline(void)
{
	struct sockaddr_storage peer = { .ss_family = AF_UNIX };
	struct link_fixture f;
	int sv[2] = { -1, -1 };
	char c;

	if (link_init(&f, "fe2", 0, 0))
		goto out;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	nonblock(sv[1]);
	kit_event_fail_next = 1;
	pvx_session_start(f.fe, sv[0], (struct sockaddr *)&peer,
			  sizeof(sa_family_t));
	kit_event_fail_next = 0;
	CHECK(kit_event_failed == 1);
	// Closed now: the client reads EOF, no session is left.
	CHECK(read(sv[1], &c, 1) == 0);
	CHECK(x.nsessions == 0);
	CHECK(f.b->stats.sessions_now == 0);
	close(sv[1]);
	pvx_backend_remove(f.b, 0);
out:
	link_fini(&f);
}

// The first check cannot be scheduled: the next session to the backend
// schedules it again, and the checks run.
static void test_check_schedule(void)
{
	struct link_fixture f;
	struct pvx_backend *b;

	// The one add that fails: the schedule of the first check.
	if (link_init(&f, "fe3", 1, 1))
		goto out;
	b = f.b;
	CHECK(kit_event_failed == 1);
	RUN_UNTIL(b->health.checks > 0);
	CHECK(b->health.checks == 0);
	// A session got through to the backend.
	pvx_backend_connected(b, 1);
	RUN_UNTIL(b->health.checks >= 2);
	CHECK(b->health.checks >= 2);
	CHECK(b->health.last_ok == 1);
	pvx_backend_remove(b, 0);
out:
	link_fini(&f);
}

// A check's wait for its socket cannot be added: that check ends without
// a result and the next ones run, rather than one in progress for ever.
static void test_check_wait(void)
{
	struct link_fixture f;
	struct pvx_backend *b;

	if (link_init(&f, "fe4", 1, 0))
		goto out;
	b = f.b;
	kit_event_fail_ev = &b->health.ev_io;
	RUN_UNTIL(kit_event_failed >= 2);
	kit_event_fail_ev = NULL;
	CHECK(kit_event_failed >= 2);
	CHECK(b->health.checks == 0);
	// Once it can wait again, the checks complete.
	RUN_UNTIL(b->health.checks >= 2);
	CHECK(b->health.checks >= 2);
	CHECK(b->health.last_ok == 1);
	pvx_backend_remove(b, 0);
out:
	link_fini(&f);
}

static int finished;

static void on_done(struct pvx_tunnel *t, void *arg)
{
	(void)arg;
	finished++;
	pvx_tunnel_fini(t);
}

// A tunnel between two socket pairs: *client and *backend are the outer
// ends, the test's.
static int tunnel(struct pvx_tunnel *t, int idle_ms, int *client, int *backend)
{
	int c[2] = { -1, -1 }, b[2] = { -1, -1 };

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b))
		return -1;
	nonblock(c[0]);
	nonblock(c[1]);
	nonblock(b[0]);
	nonblock(b[1]);
	*client = c[0];
	*backend = b[0];
	finished = 0;
	return pvx_tunnel_start(t, &x, c[1], b[1], idle_ms, on_done, NULL);
}

// The timer that runs yielded tunnels cannot be armed, ever: a flow that
// always has bytes to read (32 MiB queued, room for all of it) still
// moves them all. The buffers need SO_SNDBUFFORCE: root.
static void test_yield(void)
{
	static char chunk[256 * 1024];
	const int big = 64 << 20;
	struct pvx_tunnel t;
	size_t queued = 0;
	int client = -1, back = -1;
	ssize_t n;

	if (tunnel(&t, 0, &client, &back)) {
		CHECK(!"tunnel");
		return;
	}
	if (setsockopt(client, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) ||
	    setsockopt(t.b.fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big))) {
		const char *ci = getenv("CI");

		fprintf(stderr,
			"test_yield: SO_SNDBUFFORCE: %s (needs root)%s\n",
			strerror(errno),
			ci && !strcmp(ci, "true") ? "" : ", not run");
		CHECK(!ci || strcmp(ci, "true"));
		goto out;
	}
	memset(chunk, 'y', sizeof(chunk));
	while (queued < 32u << 20 &&
	       (n = write(client, chunk, sizeof(chunk))) > 0)
		queued += n;
	CHECK(queued >= 32u << 20);
	t.up.nosplice = 1;
	kit_event_failed = 0;
	kit_event_fail_ev = &x.ev_again;
	RUN_UNTIL(t.up.bytes == queued);
	kit_event_fail_ev = NULL;
	CHECK(kit_event_failed > 0);
	CHECK(t.up.bytes == queued);
out:
	if (!finished)
		pvx_tunnel_fini(&t);
	close(client);
	close(back);
	pvx_pipe_trim(&x);
}

// The idle timer cannot be armed again after some activity: the tunnel
// ends rather than live on unreaped.
static void test_idle_rearm(void)
{
	struct pvx_tunnel t;
	int client = -1, back = -1;
	long long end;
	char c;

	CHECK(tunnel(&t, 100, &client, &back) == 0);
	// Activity in the timer's first half: it has to be armed again.
	end = now_ms() + 50;
	RUN_UNTIL(now_ms() >= end);
	CHECK(write(client, "x", 1) == 1);
	RUN_UNTIL(read(back, &c, 1) == 1);
	kit_event_failed = 0;
	kit_event_fail_ev = &t.ev_timer;
	RUN_UNTIL(finished);
	kit_event_fail_ev = NULL;
	CHECK(kit_event_failed >= 1);
	CHECK(finished == 1);
	if (!finished)
		pvx_tunnel_fini(&t);
	close(client);
	close(back);
}

// A removed link's drain timer cannot be armed: its sessions are cut
// now rather than never.
static void test_drain(void)
{
	struct sockaddr_storage peer = { .ss_family = AF_UNIX };
	struct link_fixture f;
	struct pvx_backend *b;
	int sv[2] = { -1, -1 };
	ssize_t n = -1;
	char c;

	if (link_init(&f, "fe5", 0, 0))
		goto out;
	b = f.b;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	// Both non-blocking: the proxy's end as accept4 would give it.
	nonblock(sv[0]);
	nonblock(sv[1]);
	pvx_session_start(f.fe, sv[0], (struct sockaddr *)&peer,
			  sizeof(sa_family_t));
	// Connected (in the listener's backlog): the tunnel is up.
	RUN_UNTIL(b->stats.sessions_total == 1 && b->connect_failed == 0 &&
		  first_established(b));
	CHECK(x.nsessions == 1);
	x.drain_ms = 60000;
	kit_event_failed = 0;
	kit_event_fail_next = 1;
	pvx_backend_remove(b, 1);
	kit_event_fail_next = 0;
	CHECK(kit_event_failed == 1);
	RUN_UNTIL((n = read(sv[1], &c, 1)) == 0);
	CHECK(n == 0);
	CHECK(x.nsessions == 0);
	close(sv[1]);
out:
	link_fini(&f);
}

// Connects to the stats page on port and sends a request; the socket, or
// -1.
static int stats_client(int port)
{
	static const char req[] = "GET /status HTTP/1.0\r\n\r\n";
	struct sockaddr_in a = { .sin_family = AF_INET };
	int c;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c == -1 || connect(c, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    write(c, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		CHECK(!"stats client");
		if (c != -1)
			close(c);
		return -1;
	}
	nonblock(c);
	return c;
}

// Reads what c has into buf (NUL-terminated, appended at *got); returns
// 1 at EOF.
static int read_some(int c, char *buf, size_t n, size_t *got)
{
	ssize_t r = read(c, buf + *got, n - 1 - *got);

	if (r > 0)
		*got += r;
	buf[*got] = '\0';
	return r == 0;
}

// The stats page: its listener's watch, then a client's watch (reading,
// then writing) cannot be added. The page is not left deaf, the clients
// are let go rather than held unanswered.
static void test_stats_page(void)
{
	struct pvx_statspage *sp;
	char addr[32], buf[4096];
	size_t got = 0;
	int port, l, c, pass, eof = 0;

	l = listener(&port);
	close(l);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	kit_event_failed = 0;
	kit_event_fail_next = 1;
	sp = pvx_statspage_new(&x, addr);
	kit_event_fail_next = 0;
	CHECK(sp != NULL);
	if (!sp)
		return;
	CHECK(kit_event_failed == 1);
	// Answered once the watch is added again.
	c = stats_client(port);
	RUN_UNTIL(c == -1 || (eof = read_some(c, buf, sizeof(buf), &got)));
	CHECK(eof && !strncmp(buf, "HTTP/1.0 200", 12));
	if (c != -1)
		close(c);
	// The client's watch for its request (pass none), then for writing
	// the answer (pass the first): let go, EOF without an answer.
	for (pass = 0; pass < 2; pass++) {
		kit_event_failed = 0;
		kit_event_pass_first = pass;
		kit_event_fail_next = 1;
		c = stats_client(port);
		got = eof = 0;
		RUN_UNTIL(c == -1 ||
			  (eof = read_some(c, buf, sizeof(buf), &got)));
		kit_event_fail_next = kit_event_pass_first = 0;
		CHECK(kit_event_failed == 1);
		CHECK(eof && got == 0);
		if (c != -1)
			close(c);
	}
	pvx_statspage_free(sp);
}

static int fetch_done;
static char fetch_reason[128];

static void on_fetched(const char *body, size_t len, const char *reason,
		       void *arg)
{
	(void)body;
	(void)len;
	(void)arg;
	fetch_done = 1;
	snprintf(fetch_reason, sizeof(fetch_reason), "%s",
		 reason ? reason : "");
}

// A fetch cannot watch for its answer: it ends now, saying why, rather
// than at its timeout (a minute here).
static void test_fetch(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pvx_fetch *f;
	int l;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/pvx-timers-%d.sock",
		 (int)getpid());
	unlink(sun.sun_path);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(l != -1 && bind(l, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	      listen(l, 4) == 0);
	fetch_done = 0;
	f = pvx_fetch_start(x.base, sun.sun_path, "/x", 60000, on_fetched,
			    NULL);
	CHECK(f != NULL);
	// The next add is the wait for the answer, once the request is out.
	kit_event_failed = 0;
	kit_event_fail_next = 1;
	RUN_UNTIL(fetch_done);
	kit_event_fail_next = 0;
	CHECK(kit_event_failed == 1);
	CHECK(fetch_done);
	CHECK_STR(fetch_reason, "cannot wait for the answer");
	if (!fetch_done)
		pvx_fetch_cancel(f);
	close(l);
	unlink(sun.sun_path);
}

int main(void)
{
	pv_log_set_level(FATAL); // the failures are the point
	if (pvx_init(&x)) {
		fprintf(stderr, "pvx_init failed\n");
		return 1;
	}
	RUN(test_listener_watch);
	RUN(test_connect_deadline);
	RUN(test_check_schedule);
	RUN(test_check_wait);
	RUN(test_yield);
	RUN(test_idle_rearm);
	RUN(test_drain);
	RUN(test_stats_page);
	RUN(test_fetch);
	pvx_fini(&x);
	return kit_report("test_xconnect_timers");
}
