// pv-ctrl when libevent cannot arm a timer: a connection whose deadline
// cannot be armed is closed rather than held for ever, and an accept
// pause that cannot be timed ends at once rather than leave pv-ctrl deaf.
//
// ctrl/ctrl.c is pvd's and not linked into the unit tests: it is compiled
// into this one (its endpoints are stubs); event_add fails on demand
// (kit_fail.h).

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "tests/unit/kit.h"
#include "tests/unit/kit_fail.h"
// The file under test, compiled in so that its static functions are in
// reach.
#include "ctrl/ctrl.c" // NOLINT(bugprone-suspicious-include)

// Every endpoint answers {} (none is what is tested).
static void stub(void *ctx, const struct pv_ctrl_request *req,
		 struct pv_ctrl_response *resp)
{
	(void)ctx;
	(void)req;
	pv_ctrl_json(resp, 200, strdup("{}"));
}

#define STUB(name)                                                             \
	void name(void *ctx, const struct pv_ctrl_request *req,                \
		  struct pv_ctrl_response *resp)                               \
	{                                                                      \
		stub(ctx, req, resp);                                          \
	}
STUB(pv_ctrl_xconnect_graph_get)
STUB(pv_ctrl_containers_get)
STUB(pv_ctrl_container_get)
STUB(pv_ctrl_container_put)
STUB(pv_ctrl_daemons_get)
STUB(pv_ctrl_daemons_put)
STUB(pv_ctrl_xconnect_status_get)
STUB(pv_ctrl_xconnect_status_put)
STUB(pv_ctrl_metrics_get)
STUB(pv_ctrl_metrics_put)

static struct event_base *base;
static struct pv_ctrl *ctrl;
static char path[64];

// Runs the loop until cond holds: at most 400 rounds of 5 ms (2 s; hang
// guard only).
#define RUN_UNTIL(cond)                                                        \
	do {                                                                   \
		struct timeval tv_ = { 0, 5000 };                              \
		int i_;                                                        \
		for (i_ = 0; !(cond) && i_ < 400; i_++) {                      \
			event_base_loopexit(base, &tv_);                       \
			event_base_dispatch(base);                             \
		}                                                              \
	} while (0)

// A client of pv-ctrl, non-blocking; -1 (a failed check) if it cannot
// connect.
static int client(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int c;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c == -1 || connect(c, (struct sockaddr *)&sun, sizeof(sun))) {
		CHECK(!"client");
		if (c != -1)
			close(c);
		return -1;
	}
	fcntl(c, F_SETFL, O_NONBLOCK);
	return c;
}

// 1 once c reads EOF; what it read before is discarded into *got.
static int eof(int c, size_t *got)
{
	char buf[4096];
	ssize_t n = read(c, buf, sizeof(buf));

	if (n > 0)
		*got += n;
	return n == 0;
}

// Runs the loop until c (-1: a failed check) reads EOF, then closes it.
// 1 when it did without an answer before it, and pv-ctrl holds no
// connection any more; the failures of event_add counted are reset.
static int closed_unanswered(int c)
{
	size_t got = 0;
	int closed = 0;

	RUN_UNTIL(c == -1 || (closed = eof(c, &got)));
	CHECK(kit_event_failed == 1);
	kit_fail_reset();
	if (c != -1)
		close(c);
	return closed && got == 0 && ctrl->nconns == 0;
}

// The deadline of a new connection cannot be armed: it is closed at
// once.
static void test_deadline_at_accept(void)
{
	kit_fail_reset();
	kit_event_fail_cb = conn_timer_cb;
	CHECK(closed_unanswered(client()));
}

// The deadline of a request that begins cannot be armed: the connection
// is closed without an answer rather than wait for the rest for ever.
static void test_deadline_at_request(void)
{
	static const char req[] = "GET /daemons HTTP/1.1\r\nHost: x\r\n\r\n";
	size_t got = 0;
	int c;

	kit_fail_reset();
	c = client();
	RUN_UNTIL(ctrl->nconns == 1);
	CHECK(ctrl->nconns == 1);
	kit_event_fail_cb = conn_timer_cb;
	CHECK(c != -1 &&
	      write(c, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1);
	CHECK(closed_unanswered(c));
	// With its timer, the same request is answered.
	c = client();
	CHECK(c != -1 &&
	      write(c, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1);
	RUN_UNTIL(c == -1 || eof(c, &got) || got > 0);
	CHECK(got > 0);
	if (c != -1)
		close(c);
	RUN_UNTIL(ctrl->nconns == 0);
}

// Accepting paused (out of fds) and the retry cannot be timed: it
// accepts again at once, and the next client is served.
static void test_accept_retry(void)
{
	int c;

	kit_fail_reset();
	kit_event_fail_cb = accept_retry_cb;
	errno = EMFILE;
	accept_error_cb(ctrl->listener, ctrl);
	CHECK(kit_event_failed == 1);
	kit_fail_reset();
	c = client();
	RUN_UNTIL(ctrl->nconns == 1);
	CHECK(ctrl->nconns == 1);
	if (c != -1)
		close(c);
	RUN_UNTIL(ctrl->nconns == 0);
}

int main(void)
{
	pv_log_set_level(FATAL); // the failures are the point
	snprintf(path, sizeof(path), "/tmp/pv-test-ctrl-%d.sock",
		 (int)getpid());
	base = event_base_new();
	ctrl = base ? pv_ctrl_new(base, path, NULL) : NULL;
	CHECK(ctrl != NULL);
	if (ctrl) {
		RUN(test_deadline_at_accept);
		RUN(test_deadline_at_request);
		RUN(test_accept_retry);
	}
	pv_ctrl_free(ctrl);
	if (base)
		event_base_free(base);
	return kit_report("test_ctrl");
}
