// The listener shared by frontends and the stats page (listener.h), on
// the real event loop with a fake owner: the listen step retried until
// it works, accepts in batches, a pause while the owner has no room, and
// the pause when accept runs out of fds (EMFILE) instead of a spin.

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "tests/unit/kit.h"
#include "listener.h"
#include "sock.h"

static struct event_base *base;
static struct sockaddr_in addr = { .sin_family = AF_INET };
static int fail_listens, listens, accepted, failures, bounds, room = 1;

static int fake_listen(struct pvx_listener *l, const char **what)
{
	(void)l;
	listens++;
	if (fail_listens > 0) {
		fail_listens--;
		*what = "bind";
		errno = EADDRINUSE;
		return -1;
	}
	return pvx_listen((struct sockaddr *)&addr, sizeof(addr), 0, 0, what);
}

static void fake_accept(struct pvx_listener *l, int fd,
			const struct sockaddr *peer, socklen_t len)
{
	(void)l;
	(void)peer;
	(void)len;
	accepted++;
	close(fd);
}

static int fake_room(struct pvx_listener *l, int accepting)
{
	(void)l;
	(void)accepting;
	return room;
}

static void fake_failed(struct pvx_listener *l)
{
	failures++;
	pvx_listener_backoff(l);
}

static void fake_bound(struct pvx_listener *l)
{
	(void)l;
	bounds++;
}

static const struct pvx_listener_ops ops = {
	.listen = fake_listen,
	.accept = fake_accept,
	.room = fake_room,
	.accept_failed = fake_failed,
	.bound = fake_bound,
};

static void run(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

// Runs the loop until cond holds, for at most 4 s.
#define RUN_UNTIL(cond)                                                        \
	do {                                                                   \
		int i_;                                                        \
		for (i_ = 0; !(cond) && i_ < 800; i_++)                        \
			run(5);                                                \
	} while (0)

// A free port on loopback.
static void pick_port(void)
{
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	CHECK(fd != -1 && bind(fd, (struct sockaddr *)&addr, len) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
	close(fd);
}

// A client connected to the listener (accepted or in its backlog).
static int client(void)
{
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(c != -1 &&
	      connect(c, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	return c;
}

static void test_bind_retry_and_room(void)
{
	struct pvx_listener l;
	int c[3], i;

	pick_port();
	listens = accepted = bounds = 0;
	fail_listens = 3;
	pvx_listener_init(&l, base, &ops, NULL, "test", "listen on x: ");
	l.retry_ms = 10;
	pvx_listener_start(&l);
	CHECK(!l.listening && l.bind_failed && listens == 1);
	RUN_UNTIL(l.listening);
	CHECK(l.listening && !l.bind_failed && !l.paused);
	CHECK(listens == 4 && bounds == 1);
	// Batches: three clients waiting, taken in one readiness event.
	for (i = 0; i < 3; i++)
		c[i] = client();
	RUN_UNTIL(accepted == 3);
	CHECK(accepted == 3);
	for (i = 0; i < 3; i++)
		close(c[i]);
	// No room: the next client waits in the backlog, the listener
	// pauses; room again and a resume take it.
	room = 0;
	c[0] = client();
	RUN_UNTIL(l.paused);
	CHECK(l.paused && accepted == 3);
	run(20);
	CHECK(accepted == 3);
	room = 1;
	pvx_listener_resume(&l);
	CHECK(!l.paused);
	RUN_UNTIL(accepted == 4);
	CHECK(accepted == 4);
	close(c[0]);
	CHECK(pvx_listener_stop(&l) == 1);
	CHECK(!l.listening && l.fd == -1);
	CHECK(pvx_listener_stop(&l) == 0);
	// Stopped: no retry runs any more.
	fail_listens = 1;
	listens = 0;
	pvx_listener_start(&l);
	CHECK(listens == 1 && !l.listening);
	pvx_listener_stop(&l);
	run(30);
	CHECK(listens == 1);
}

// accept fails with EMFILE: one failure, a pause (not a spin), then the
// client is taken once fds are free again.
static void test_emfile_pause(void)
{
	struct rlimit old, low;
	struct pvx_listener l;
	int fds[256], n = 0, c, fd;

	pick_port();
	accepted = failures = 0;
	pvx_listener_init(&l, base, &ops, NULL, "test", "");
	l.pause_ms = 20;
	pvx_listener_start(&l);
	CHECK(l.listening);
	c = client();
	// Every fd taken: the waiting client cannot be accepted.
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low = old;
	low.rlim_cur = 64;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	while (n < 256 && (fd = dup(0)) != -1)
		fds[n++] = fd;
	CHECK(errno == EMFILE);
	RUN_UNTIL(failures > 0);
	CHECK(failures == 1 && l.paused && accepted == 0);
	// Paused: no retry before the pause ends (with the fds still short,
	// each end of a pause fails once more, at most).
	run(10);
	CHECK(failures <= 2);
	while (n > 0)
		close(fds[--n]);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
	RUN_UNTIL(accepted == 1);
	CHECK(accepted == 1 && !l.paused);
	close(c);
	pvx_listener_stop(&l);
}

static int unlistens;

// Fails once with a reason of its own, then listens.
static int why_listen(struct pvx_listener *l, const char **what)
{
	listens++;
	if (fail_listens > 0) {
		fail_listens--;
		*what = "rootbind";
		errno = EEXIST;
		snprintf(l->why, sizeof(l->why), "a regular file is there");
		return -1;
	}
	return pvx_listen((struct sockaddr *)&addr, sizeof(addr), 0, 0, what);
}

static void count_unlisten(struct pvx_listener *l, int fd)
{
	(void)l;
	unlistens++;
	close(fd);
}

static const struct pvx_listener_ops why_ops = {
	.listen = why_listen,
	.accept = fake_accept,
	.unlisten = count_unlisten,
};

// A listen step's own reason stays in why while it fails, is cleared when
// it works; the owner's unlisten closes the socket, once per listen.
static void test_why_and_unlisten(void)
{
	struct pvx_listener l;

	pick_port();
	listens = unlistens = 0;
	fail_listens = 1;
	pvx_listener_init(&l, base, &why_ops, NULL, "test", "socket x: ");
	l.retry_ms = 10;
	pvx_listener_start(&l);
	CHECK(!l.listening && !strcmp(l.why, "a regular file is there"));
	RUN_UNTIL(l.listening);
	CHECK(l.listening && !l.why[0] && listens == 2);
	CHECK(pvx_listener_stop(&l) == 1 && unlistens == 1);
	CHECK(pvx_listener_stop(&l) == 0 && unlistens == 1);
}

int main(void)
{
	pv_log_set_level(FATAL);
	base = event_base_new();
	CHECK(base != NULL);
	if (!base)
		return kit_report("test_xconnect_listener");
	RUN(test_bind_retry_and_room);
	RUN(test_emfile_pause);
	RUN(test_why_and_unlisten);
	event_base_free(base);
	return kit_report("test_xconnect_listener");
}
