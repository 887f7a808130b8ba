// Active health checks: each backend of a rule with a "check" is probed
// every interval_ms, over the same connect path as its sessions (TCP, or
// the Unix socket inside the provider's root). A "tcp" check passes when
// the connect succeeds, an "http" check when the answer's status line
// carries the expected status. fall failures in a row take the backend
// out of rotation, rise successes bring it back. Everything runs on the
// event loop: a check never blocks it.

#define MODULE_NAME "health"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "utils/addr.h"
#include "utils/timer.h"
#include "backend.h"
#include "defs.h"
#include "frontend-t.h"
#include "health.h"
#include "transport.h"
#include "proxy-t.h"

// How soon a connect refused for a full Unix backlog is tried again,
// within the check's timeout.
#define AGAIN_MS 5
// A failed session brings the next check forward, at most this often.
#define HINT_MS 100

static void on_next(evutil_socket_t fd, short what, void *arg);
static void on_io(evutil_socket_t fd, short what, void *arg);

// Milliseconds from a to b (CLOCK_MONOTONIC).
static int ms_between(const struct timespec *a, const struct timespec *b)
{
	return (int)((b->tv_sec - a->tv_sec) * 1000 +
		     (b->tv_nsec - a->tv_nsec) / 1000000);
}

static int ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ms_between(t, &now);
}

// The backend, for log lines: "app1:/run/app.sock".
static const char *who(const struct pvx_backend *b, char *buf, size_t n)
{
	return pvx_backend_describe(b, buf, n);
}

void pvx_health_init(struct pvx_backend *b)
{
	struct pvx_health *h = &b->health;

	memset(h, 0, sizeof(*h));
	h->fd = -1;
	h->up = 1;
	h->last_ok = -1;
	clock_gettime(CLOCK_REALTIME, &h->changed_at);
	evtimer_assign(&h->ev_next, b->fe->x->base, on_next, b);
}

// Ends the check in progress, if any, without a result.
static void abort_check(struct pvx_health *h)
{
	if (!h->running)
		return;
	// A connect that failed at once never set ev_io up.
	if (event_initialized(&h->ev_io))
		event_del(&h->ev_io);
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	h->running = 0;
}

// Schedules the next check ms from now. A schedule that cannot be armed
// would stop the checks, and freeze the backend's state, without a word:
// it is said once, and the next session to the backend (or a change of
// its link) schedules again (pvx_health_kick).
static void next_in(struct pvx_backend *b, int ms)
{
	struct pvx_health *h = &b->health;
	char to[PV_ADDR_STRLEN + 256];

	if (!pv_timer_arm(&h->ev_next, ms)) {
		h->stalled = 0;
		return;
	}
	if (!h->stalled)
		pv_log(ERROR,
		       "link %s: backend %s: cannot arm its next check; "
		       "checks wait for its next session",
		       b->label, who(b, to, sizeof(to)));
	h->stalled = 1;
}

// Applies one result to the state: rise passes in a row bring the backend
// up, fall failures in a row take it down; each change is logged once.
static void result(struct pvx_backend *b, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void result(struct pvx_backend *b, int ok, const char *fmt, ...)
{
	struct pvx_health *h = &b->health;
	char to[PV_ADDR_STRLEN + 256];
	struct timespec now;
	va_list ap;
	int next;

	va_start(ap, fmt);
	vsnprintf(h->last, sizeof(h->last), fmt, ap);
	va_end(ap);
	h->last_ms = ms_since(&h->started);
	h->last_ok = ok;
	h->checks++;
	clock_gettime(CLOCK_REALTIME, &h->last_at);
	abort_check(h);
	if (!ok) {
		h->failures++;
		if (!h->up) {
			// Still down: the reason follows the latest failure.
			snprintf(h->why, sizeof(h->why), "check failed: %s",
				 h->last);
			h->streak = 0;
		} else if (++h->streak >= h->conf.fall) {
			h->up = 0;
			h->streak = 0;
			h->downs++;
			h->changed_at = h->last_at;
			snprintf(h->why, sizeof(h->why), "check failed: %s",
				 h->last);
			pv_log(WARN,
			       "link %s: backend %s is DOWN: %d check(s) "
			       "failed, last: %s",
			       b->label, who(b, to, sizeof(to)), h->conf.fall,
			       h->last);
		}
	} else if (h->up) {
		h->streak = 0;
	} else if (++h->streak >= h->conf.rise) {
		h->up = 1;
		h->streak = 0;
		h->why[0] = '\0';
		h->changed_at = h->last_at;
		pv_log(INFO,
		       "link %s: backend %s is UP: %d check(s) passed, "
		       "last: %s (%d ms)",
		       b->label, who(b, to, sizeof(to)), h->conf.rise, h->last,
		       h->last_ms);
	}
	// Checks start interval_ms apart, so that a failure is seen within
	// interval_ms * fall whatever each check took.
	clock_gettime(CLOCK_MONOTONIC, &now);
	next = h->conf.interval_ms - ms_between(&h->started, &now);
	next_in(b, next);
}

// Waits for the check's socket (what: EV_READ or EV_WRITE), at most until
// its deadline; with fd -1, only for the pause before a new connect.
static void wait_io(struct pvx_backend *b, int fd, short what, int ms)
{
	struct pvx_health *h = &b->health;
	char to[PV_ADDR_STRLEN + 256];
	struct timespec now;
	long long left;

	// In microseconds: the deadline must not come early by rounding.
	clock_gettime(CLOCK_MONOTONIC, &now);
	left = h->conf.timeout_ms * 1000LL -
	       ((now.tv_sec - h->started.tv_sec) * 1000000LL +
		(now.tv_nsec - h->started.tv_nsec) / 1000);
	if (ms > 0 && ms * 1000LL < left)
		left = ms * 1000LL;
	if (left < 1000)
		left = 1000;
	event_assign(&h->ev_io, b->fe->x->base, fd, what, on_io, b);
	// Rounded up to the millisecond, for the same reason.
	if (!pv_timer_arm(&h->ev_io, (left + 999) / 1000))
		return;
	// Unwatched, this check would stay in progress for ever and no other
	// would start: it ends without a result (the backend did nothing
	// wrong), and the next one is scheduled.
	pv_log(ERROR,
	       "link %s: backend %s: cannot wait for its check, next one in "
	       "%d ms",
	       b->label, who(b, to, sizeof(to)), h->conf.interval_ms);
	abort_check(h);
	next_in(b, h->conf.interval_ms);
}

// Starts (or, after a full backlog, restarts) the check's connect.
static void start_connect(struct pvx_backend *b)
{
	struct pvx_health *h = &b->health;
	const char *reason = NULL;
	int again;

	h->fd = pvx_backend_connect(b, &again, &reason);
	if (h->fd != -1) {
		wait_io(b, h->fd, EV_WRITE, 0);
		return;
	}
	if (again && ms_since(&h->started) < h->conf.timeout_ms) {
		// A full backlog says "busy", not "dead": try again shortly.
		wait_io(b, -1, 0, AGAIN_MS);
		return;
	}
	result(b, 0, "connect: %s",
	       again ? "backlog full" : (reason ? reason : strerror(errno)));
}

// Sends the HTTP check's request; a new connection has room for it.
static void send_request(struct pvx_backend *b)
{
	struct pvx_health *h = &b->health;
	char req[1536]; // the graph allows paths of up to 1024 bytes
	int n;
	ssize_t w;

	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.0\r\n"
		     "Host: %s\r\n"
		     "User-Agent: pv-xconnect-check\r\n"
		     "Connection: close\r\n\r\n",
		     h->conf.path,
		     // What a client of the address would send; a socket
		     // path is no host name.
		     b->tp == &pvx_transport_tcp ? b->socket : "localhost");
	if (n < 0 || (size_t)n >= sizeof(req)) {
		result(b, 0, "request: path too long");
		return;
	}
	w = send(h->fd, req, n, MSG_NOSIGNAL);
	if (w != n) {
		result(b, 0, "send: %s",
		       w < 0 ? strerror(errno) : "short write");
		return;
	}
	h->sent = 1;
	h->rlen = 0;
	wait_io(b, h->fd, EV_READ, 0);
}

// Reads the HTTP status code from "HTTP/1.x NNN ...". Returns it or -1.
static int status_code(const char *line, size_t len)
{
	int code = 0, i;

	if (len < 12 || memcmp(line, "HTTP/1.", 7) || line[8] != ' ')
		return -1;
	for (i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
		code = code * 10 + (line[i] - '0');
	}
	if (len > 12 && line[12] != ' ' && line[12] != '\r' && line[12] != '\n')
		return -1;
	return code;
}

// Reads the answer until its status line is complete, then judges it.
static void read_answer(struct pvx_backend *b)
{
	struct pvx_health *h = &b->health;
	size_t room = sizeof(h->rbuf) - h->rlen;
	char *eol;
	ssize_t r;
	int code;

	r = recv(h->fd, h->rbuf + h->rlen, room, 0);
	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR) {
			wait_io(b, h->fd, EV_READ, 0);
			return;
		}
		result(b, 0, "recv: %s", strerror(errno));
		return;
	}
	h->rlen += r;
	eol = memchr(h->rbuf, '\n', h->rlen);
	if (!eol && r > 0 && h->rlen < sizeof(h->rbuf)) {
		wait_io(b, h->fd, EV_READ, 0);
		return;
	}
	if (!eol && !h->rlen) {
		result(b, 0, "closed without an answer");
		return;
	}
	code = status_code(h->rbuf, eol ? (size_t)(eol - h->rbuf) : h->rlen);
	if (code < 0)
		result(b, 0, "not an HTTP answer");
	else if (code == h->conf.expect)
		result(b, 1, "HTTP %d", code);
	else
		result(b, 0, "HTTP %d, expected %d", code, h->conf.expect);
}

// Progress of the check in flight: connect done, answer readable, or
// the deadline (or the pause after a full backlog) reached.
static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_backend *b = arg;
	struct pvx_health *h = &b->health;
	socklen_t len = sizeof(int);
	int err = 0;

	if (fd == -1) {
		start_connect(b);
		return;
	}
	if ((what & EV_TIMEOUT) && ms_since(&h->started) < h->conf.timeout_ms) {
		// The loop's timers count from its cached time, which can be
		// a little behind: not a timeout yet, wait for the rest.
		wait_io(b, fd, h->sent ? EV_READ : EV_WRITE, 0);
		return;
	}
	if (what & EV_TIMEOUT) {
		result(b, 0, "%s timeout after %d ms",
		       h->sent ? "answer" : "connect", h->conf.timeout_ms);
		return;
	}
	if (h->sent) {
		read_answer(b);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err) {
		result(b, 0, "connect: %s", strerror(err));
		return;
	}
	if (h->conf.type == PVX_CHECK_TCP)
		result(b, 1, "connected");
	else
		send_request(b);
}

// Time for the next check. A backend down for a reason of its own (no
// address yet, provider not running) is not probed: there is nothing to
// reach, and the checks take up again when it comes back.
static void on_next(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_backend *b = arg;
	struct pvx_health *h = &b->health;

	(void)fd;
	(void)what;
	if (!h->enabled || h->running || b->removed)
		return;
	if (!pvx_backend_reachable(b)) {
		next_in(b, h->conf.interval_ms);
		return;
	}
	h->running = 1;
	h->sent = 0;
	h->rlen = 0;
	clock_gettime(CLOCK_MONOTONIC, &h->started);
	start_connect(b);
}

// 1 when a and b check the same thing the same way (timings aside).
static int same_probe(const struct pvx_check *a, const struct pvx_check *b)
{
	return a->type == b->type && a->expect == b->expect &&
	       !strcmp(a->path ? a->path : "", b->path ? b->path : "");
}

int pvx_health_configure(struct pvx_backend *b, const struct pvx_check *c)
{
	struct pvx_health *h = &b->health;
	struct pvx_check conf = *c;
	int was = h->enabled;

	if (c->type == PVX_CHECK_NONE) {
		if (was)
			pv_log(INFO, "link %s: health checks off", b->label);
		abort_check(h);
		evtimer_del(&h->ev_next);
		free(h->conf.path);
		memset(&h->conf, 0, sizeof(h->conf));
		h->enabled = 0;
		h->up = 1;
		h->streak = 0;
		h->why[0] = '\0';
		return 0;
	}
	conf.path = strdup(c->path ? c->path : PVX_CHECK_PATH);
	if (!conf.path) {
		pv_log(ERROR, "link %s: check: %s", b->label, strerror(errno));
		return -1;
	}
	if (!conf.expect)
		conf.expect = PVX_CHECK_EXPECT;
	if (!conf.interval_ms)
		conf.interval_ms = PVX_CHECK_INTERVAL_MS;
	if (!conf.timeout_ms)
		conf.timeout_ms = PVX_CHECK_TIMEOUT_MS;
	if (!conf.rise)
		conf.rise = PVX_CHECK_RISE;
	if (!conf.fall)
		conf.fall = PVX_CHECK_FALL;
	if (was && same_probe(&h->conf, &conf) &&
	    h->conf.interval_ms == conf.interval_ms &&
	    h->conf.timeout_ms == conf.timeout_ms &&
	    h->conf.rise == conf.rise && h->conf.fall == conf.fall) {
		free(conf.path);
		return 0;
	}
	if (was && !same_probe(&h->conf, &conf)) {
		// Another probe: what the old one found says nothing about
		// the new one. Start over from healthy, as at first.
		h->up = 1;
		h->streak = 0;
		h->why[0] = '\0';
		h->last_ok = -1;
		h->last[0] = '\0';
	}
	abort_check(h);
	evtimer_del(&h->ev_next);
	free(h->conf.path);
	h->conf = conf;
	h->enabled = 1;
	next_in(b, 0);
	return 0;
}

void pvx_health_kick(struct pvx_backend *b)
{
	struct pvx_health *h = &b->health;

	if (!h->enabled || h->running)
		return;
	evtimer_del(&h->ev_next);
	next_in(b, 0);
}

void pvx_health_connect_failed(struct pvx_backend *b)
{
	struct pvx_health *h = &b->health;

	// HAProxy's "observe layer4" in spirit: a session's failure is a
	// hint, not a verdict; the check that follows decides. Not more
	// often than every HINT_MS, however many sessions fail.
	if (!h->enabled || h->running || !h->up ||
	    (h->checks && ms_since(&h->started) < HINT_MS))
		return;
	evtimer_del(&h->ev_next);
	next_in(b, 0);
}

void pvx_health_provider_gone(struct pvx_backend *b)
{
	struct pvx_health *h = &b->health;
	char to[PV_ADDR_STRLEN + 256];

	// A check in flight ends on its own (the process is gone) and
	// keeps the schedule going.
	if (!h->enabled || !h->up)
		return;
	h->up = 0;
	h->streak = 0;
	h->downs++;
	clock_gettime(CLOCK_REALTIME, &h->changed_at);
	snprintf(h->why, sizeof(h->why),
		 "provider restarted, waiting for %d passed check(s)",
		 h->conf.rise);
	pv_log(INFO,
	       "link %s: backend %s is DOWN until %d check(s) pass: its "
	       "provider is gone",
	       b->label, who(b, to, sizeof(to)), h->conf.rise);
}

void pvx_health_fini(struct pvx_backend *b)
{
	struct pvx_health *h = &b->health;

	abort_check(h);
	evtimer_del(&h->ev_next);
	free(h->conf.path);
	h->conf.path = NULL;
	h->enabled = 0;
}

const char *pvx_health_down_reason(const struct pvx_backend *b)
{
	const struct pvx_health *h = &b->health;

	if (!h->enabled || h->up)
		return NULL;
	return h->why[0] ? h->why : "check failed";
}

const char *pvx_health_state(const struct pvx_backend *b, char *buf, size_t n)
{
	const struct pvx_health *h = &b->health;

	if (!h->enabled)
		snprintf(buf, n, "no check");
	else if (h->streak)
		snprintf(buf, n, "%s %d/%d", h->up ? "UP" : "DOWN", h->streak,
			 h->up ? h->conf.fall : h->conf.rise);
	else
		snprintf(buf, n, "%s", h->up ? "UP" : "DOWN");
	return buf;
}

const char *pvx_health_type(const struct pvx_backend *b)
{
	if (!b->health.enabled)
		return NULL;
	return b->health.conf.type == PVX_CHECK_HTTP ? "http" : "tcp";
}

void pvx_health_figures(const struct pvx_backend *b, struct pvx_fig_check *c)
{
	const struct pvx_health *h = &b->health;

	memset(c, 0, sizeof(*c));
	c->last_ok = -1;
	if (!h->enabled)
		return;
	c->enabled = 1;
	c->up = h->up;
	c->going = h->streak != 0;
	c->type = pvx_health_type(b);
	if (h->conf.type == PVX_CHECK_HTTP) {
		c->path = h->conf.path;
		c->expect = h->conf.expect;
	}
	c->interval_ms = h->conf.interval_ms;
	c->timeout_ms = h->conf.timeout_ms;
	c->rise = h->conf.rise;
	c->fall = h->conf.fall;
	pvx_health_state(b, c->state, sizeof(c->state));
	c->checks = h->checks;
	c->failures = h->failures;
	c->downs = h->downs;
	c->last_change_s = pvx_seconds_since(&h->changed_at);
	c->last_ok = h->last_ok;
	c->last = h->last;
	c->last_ms = h->last_ms;
	c->last_age_s = h->last_ok < 0 ? 0 : pvx_seconds_since(&h->last_at);
}

int pvx_seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > t->tv_sec ? (int)(now.tv_sec - t->tv_sec) : 0;
}
