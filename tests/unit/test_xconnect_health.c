// Active health checks against a fake backend on a Unix socket, run on
// the real event loop: the request sent, each kind of answer (200, 500,
// garbage, silence, a bare close, no socket at all), rise and fall, the
// tcp check, reconfiguration; and the figures (JSON, metrics, HTML).

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "tests/unit/kit.h"
#include "xconnect.h"

enum mode { OK, S500, GARBAGE, SHORT_OK, SILENT, CLOSE };

static struct pvx x;
static enum mode mode;
static char last_req[512];
static int held[64], nheld; // connections kept open (SILENT)
static int lfd = -1;
static struct event ev_listen;
static char path[108];

// A connection of the fake backend: answers once the request is in.
static void on_conn(evutil_socket_t fd, short what, void *arg)
{
	static const char *const answers[] = {
		[OK] = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
		[S500] = "HTTP/1.1 500 Internal Server Error\r\n\r\n",
		[GARBAGE] = "hello there\r\n",
		[SHORT_OK] = "HTTP/1.1 200\r\n\r\n",
		[CLOSE] = "",
	};
	struct event *ev = arg;
	ssize_t n;

	(void)what;
	n = read(fd, last_req, sizeof(last_req) - 1);
	last_req[n > 0 ? n : 0] = '\0';
	// CLOSE: the request is read, then the connection closed unanswered.
	// A check that gave up already has closed its end: EPIPE is fine.
	if (mode != CLOSE &&
	    write(fd, answers[mode], strlen(answers[mode])) < 0 &&
	    errno != EPIPE)
		perror("write");
	event_free(ev);
	close(fd);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct event *ev;
	int c;

	(void)what;
	(void)arg;
	c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c == -1)
		return;
	if (mode == SILENT) {
		if (nheld < 64)
			held[nheld++] = c;
		else
			close(c);
	} else {
		ev = event_new(x.base, c, EV_READ, on_conn, event_self_cbarg());
		event_add(ev, NULL);
	}
}

static void server_start(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(path, sizeof(path), "/tmp/pvx-health-%d.sock", (int)getpid());
	unlink(path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(lfd != -1);
	CHECK(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	CHECK(listen(lfd, 16) == 0);
	event_assign(&ev_listen, x.base, lfd, EV_READ | EV_PERSIST, on_accept,
		     NULL);
	event_add(&ev_listen, NULL);
}

static void server_stop(void)
{
	if (lfd == -1)
		return;
	event_del(&ev_listen);
	close(lfd);
	lfd = -1;
	unlink(path);
}

// Runs the loop for ms.
static void run(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(x.base, &tv);
	event_base_dispatch(x.base);
}

// Runs the loop until cond holds, for at most 2 s (a loaded machine, or
// valgrind, is slow; the checks' own timings are tested by the values).
#define RUN_UNTIL(cond)                                                        \
	do {                                                                   \
		int i_;                                                        \
		for (i_ = 0; !(cond) && i_ < 400; i_++)                        \
			run(5);                                                \
	} while (0)

// The last check said exactly this.
static int last_is(const char *s);

static struct pvx_frontend *fe;
static struct pvx_backend *be;

// A backend on the fake server's socket with an http check on /hc,
// every 20 ms, timeout 100 ms, rise 2, fall 2.
static void setup(void)
{
	struct pvx_link l = { 0 };

	l.key = "t<1>";
	l.label = "t<1>";
	l.provider = "_host_";
	l.socket = path;
	l.check.type = PVX_CHECK_HTTP;
	l.check.path = "/hc";
	l.check.interval_ms = 20;
	l.check.timeout_ms = 100;
	l.check.rise = 2;
	l.check.fall = 2;
	// netns pid -1: the frontend never listens (no port taken).
	fe = pvx_frontend_get(&x, "k", "t<1>", NULL, "127.0.0.1:1", -1);
	CHECK(fe != NULL);
	be = pvx_backend_new(fe, &l);
	CHECK(be != NULL);
	pvx_frontend_unref(fe);
}

static int last_is(const char *s)
{
	return !strcmp(be->health.last, s);
}

static void reconfigure(enum pvx_check_type type, int expect)
{
	struct pvx_check c = { 0 };

	c.type = type;
	c.path = "/hc";
	c.expect = expect;
	c.interval_ms = 20;
	c.timeout_ms = 100;
	c.rise = 2;
	c.fall = 2;
	CHECK(pvx_health_configure(be, &c) == 0);
}

static void test_http_ok(void)
{
	mode = OK;
	RUN_UNTIL(be->health.checks >= 2);
	CHECK(pvx_backend_usable(be));
	CHECK(be->health.last_ok == 1);
	CHECK_STR(be->health.last, "HTTP 200");
	CHECK(!strncmp(last_req, "GET /hc HTTP/1.0\r\n", 18));
	CHECK(strstr(last_req, "\r\n\r\n") != NULL);
	CHECK(be->health.checks >= 2);
	CHECK(be->health.failures == 0);
}

static void test_http_500_then_back(void)
{
	char state[32];

	mode = S500;
	RUN_UNTIL(!pvx_backend_usable(be));
	CHECK(!pvx_backend_usable(be));
	CHECK_STR(pvx_backend_down_reason(be),
		  "check failed: HTTP 500, expected 200");
	CHECK(be->health.downs == 1);
	CHECK_STR(pvx_health_state(be, state, sizeof(state)), "DOWN");
	// rise 2: one pass is not enough...
	mode = OK;
	RUN_UNTIL(be->health.last_ok == 1);
	CHECK(!pvx_backend_usable(be));
	CHECK_STR(pvx_health_state(be, state, sizeof(state)), "DOWN 1/2");
	// ...two are.
	RUN_UNTIL(pvx_backend_usable(be));
	CHECK(pvx_backend_usable(be));
	CHECK(be->health.downs == 1);
}

static void test_bad_answers(void)
{
	mode = GARBAGE;
	RUN_UNTIL(!pvx_backend_usable(be));
	CHECK_STR(be->health.last, "not an HTTP answer");
	CHECK(!pvx_backend_usable(be));

	mode = SHORT_OK; // "HTTP/1.1 200" without a reason phrase
	RUN_UNTIL(pvx_backend_usable(be));
	CHECK_STR(be->health.last, "HTTP 200");
	CHECK(pvx_backend_usable(be));

	mode = CLOSE;
	RUN_UNTIL(!pvx_backend_usable(be));
	CHECK_STR(be->health.last, "closed without an answer");
	CHECK(!pvx_backend_usable(be));
}

static void test_timeout(void)
{
	int i;

	mode = OK;
	RUN_UNTIL(pvx_backend_usable(be));
	CHECK(pvx_backend_usable(be));
	mode = SILENT;
	RUN_UNTIL(!pvx_backend_usable(be));
	CHECK_STR(be->health.last, "answer timeout after 100 ms");
	CHECK(be->health.last_ms >= 100 && be->health.last_ms < 500);
	CHECK(!pvx_backend_usable(be));
	for (i = 0; i < nheld; i++)
		close(held[i]);
	nheld = 0;
}

static void test_no_socket(void)
{
	server_stop();
	RUN_UNTIL(last_is("connect: No such file or directory"));
	CHECK_STR(be->health.last, "connect: No such file or directory");
	CHECK(!pvx_backend_usable(be));
	server_start();
	mode = OK;
	RUN_UNTIL(pvx_backend_usable(be));
	CHECK(pvx_backend_usable(be));
}

static void test_tcp_and_expect(void)
{
	// A tcp check only connects: garbage passes.
	reconfigure(PVX_CHECK_TCP, 0);
	mode = GARBAGE;
	RUN_UNTIL(last_is("connected"));
	CHECK_STR(be->health.last, "connected");
	CHECK(pvx_backend_usable(be));
	CHECK_STR(pvx_health_type(be), "tcp");
	// expect 500: a 500 passes, a 200 fails.
	reconfigure(PVX_CHECK_HTTP, 500);
	mode = S500;
	RUN_UNTIL(last_is("HTTP 500"));
	CHECK_STR(be->health.last, "HTTP 500");
	CHECK(pvx_backend_usable(be));
	mode = OK;
	RUN_UNTIL(!pvx_backend_usable(be));
	CHECK_STR(be->health.last, "HTTP 200, expected 500");
	CHECK(!pvx_backend_usable(be));
	// No check: healthy whatever the server says.
	reconfigure(PVX_CHECK_NONE, 0);
	CHECK(pvx_backend_usable(be));
	CHECK(pvx_health_type(be) == NULL);
	reconfigure(PVX_CHECK_HTTP, 0);
	mode = OK;
	RUN_UNTIL(last_is("HTTP 200"));
	CHECK(pvx_backend_usable(be));
}

static void test_figures(void)
{
	size_t len;
	char *json = pvx_status_json(&x, &len);
	char *metrics = pvx_status_metrics(&x, &len);
	char *html = pvx_status_html(&x, 7, &len);

	CHECK(json && strstr(json, "\"check\":{\"type\":\"http\",\"path\":"
				   "\"/hc\",\"expect\":200,"));
	CHECK(json && strstr(json, "\"last_check\":{\"ok\":true,\"detail\":"
				   "\"HTTP 200\""));
	CHECK(json && strstr(json, "\"health\":\"up\",\"reason\":null"));
	CHECK(metrics && strstr(metrics, "pvx_backend_check_up{frontend="
					 "\"t<1>\""));
	CHECK(metrics && strstr(metrics, "# TYPE pvx_backend_downs_total "
					 "counter\n"));
	CHECK(html && strstr(html, "<meta http-equiv=\"refresh\" "
				   "content=\"7\">"));
	CHECK(html && strstr(html, "<caption>t&lt;1&gt; &mdash; roundrobin"));
	CHECK(html && strstr(html, "OK http HTTP 200"));
	free(json);
	free(metrics);
	free(html);
}

int main(void)
{
	// As in pv-xconnect: a peer gone mid-write is an error, not a death.
	signal(SIGPIPE, SIG_IGN);
	// Every up and down is logged; the checks below say what matters.
	pv_log_set_level(FATAL);
	if (pvx_init(&x))
		return 1;
	server_start();
	setup();
	RUN(test_http_ok);
	RUN(test_http_500_then_back);
	RUN(test_bad_answers);
	RUN(test_timeout);
	RUN(test_no_socket);
	RUN(test_tcp_and_expect);
	RUN(test_figures);
	pvx_backend_remove(be, 0);
	server_stop();
	pvx_fini(&x);
	return kit_report("test_xconnect_health");
}
