// The data path shared by the plugins: two sockets joined both ways.
//
// Each direction (a flow) reads into the loop's scratch buffer and writes
// straight on; only what the peer does not take at once is kept, in a
// buffer allocated for that moment, and while it waits the source is not
// read (backpressure: at most PVX_FLOW_BUF per direction). An idle
// session holds no buffer at all. EOF is forwarded as shutdown(SHUT_WR)
// once the waiting bytes are out.

#define MODULE_NAME "plumbing"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "xconnect.h"

// The tunnel a flow belongs to.
static struct pvx_tunnel *tunnel_of(struct pvx_flow *f, int down)
{
	if (down)
		return (struct pvx_tunnel *)((char *)f -
					     offsetof(struct pvx_tunnel, down));
	return (struct pvx_tunnel *)((char *)f -
				     offsetof(struct pvx_tunnel, up));
}

// Calls done once both directions are over. Must be the caller's last
// use of t: done frees it.
static void check_finished(struct pvx_tunnel *t)
{
	if (t->finished || !t->up.done || !t->down.done)
		return;
	t->finished = 1;
	t->done(t, t->arg);
}

// Notes activity for the idle timer (the loop's cached time: no syscall).
static void touch(struct pvx_tunnel *t)
{
	if (t->idle_ms)
		event_base_gettimeofday_cached(t->x->base, &t->last);
}

// The direction is over: its source said EOF and everything read has
// been written. Tell the peer.
static void flow_shut(struct pvx_tunnel *t, struct pvx_flow *f)
{
	// ENOTCONN when the peer is already gone: nothing to tell it.
	shutdown(f->to, SHUT_WR);
	f->done = 1;
	check_finished(t);
}

// The source ended (EOF, or an error that ends it just as well).
static void flow_eof(struct pvx_tunnel *t, struct pvx_flow *f)
{
	f->eof = 1;
	event_del(&f->ev_read);
	if (!f->buf)
		flow_shut(t, f);
}

// The destination failed: what waits for it can never be delivered.
static void flow_fail(struct pvx_tunnel *t, struct pvx_flow *f)
{
	event_del(&f->ev_read);
	event_del(&f->ev_write);
	free(f->buf);
	f->buf = NULL;
	f->eof = 1;
	f->done = 1;
	check_finished(t);
}

// The source of a flow is readable: one read, then straight on to the
// peer; what the peer does not take waits in the flow's buffer.
static void on_read(evutil_socket_t fd, short what, void *arg, int down)
{
	struct pvx_flow *f = arg;
	struct pvx_tunnel *t = tunnel_of(f, down);
	char *scratch = t->x->scratch;
	ssize_t n, w;

	(void)what;
	n = read(fd, scratch, PVX_FLOW_BUF);
	if (n == 0) {
		flow_eof(t, f);
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		// A reset ends this direction like an EOF: what was read
		// before it still goes out.
		flow_eof(t, f);
		return;
	}
	f->bytes += n;
	touch(t);
	w = send(f->to, scratch, n, MSG_NOSIGNAL);
	if (w == n)
		return;
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			flow_fail(t, f);
			return;
		}
		w = 0;
	}
	f->buf = malloc(n - w);
	if (!f->buf) {
		pv_log(ERROR, "session buffer: %s", strerror(errno));
		flow_fail(t, f);
		return;
	}
	memcpy(f->buf, scratch + w, n - w);
	f->off = 0;
	f->len = n - w;
	// Backpressure: the source is not read again before the peer has
	// taken all of this.
	event_del(&f->ev_read);
	event_add(&f->ev_write, NULL);
}

// libevent callbacks: which flow of the tunnel is known from which is
// called.
static void on_read_up(evutil_socket_t fd, short what, void *arg)
{
	on_read(fd, what, arg, 0);
}

static void on_read_down(evutil_socket_t fd, short what, void *arg)
{
	on_read(fd, what, arg, 1);
}

// The destination of a flow is writable again: sends what waits; once
// all is out, reads again (or passes the EOF on).
static void on_write(evutil_socket_t fd, short what, void *arg, int down)
{
	struct pvx_flow *f = arg;
	struct pvx_tunnel *t = tunnel_of(f, down);
	ssize_t w;

	(void)what;
	w = send(fd, f->buf + f->off, f->len - f->off, MSG_NOSIGNAL);
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR)
			flow_fail(t, f);
		return;
	}
	touch(t);
	f->off += w;
	if (f->off < f->len)
		return;
	free(f->buf);
	f->buf = NULL;
	event_del(&f->ev_write);
	if (f->eof)
		flow_shut(t, f);
	else
		event_add(&f->ev_read, NULL);
}

static void on_write_up(evutil_socket_t fd, short what, void *arg)
{
	on_write(fd, what, arg, 0);
}

static void on_write_down(evutil_socket_t fd, short what, void *arg)
{
	on_write(fd, what, arg, 1);
}

// Idle timer: ends the tunnel when nothing moved for idle_ms.
static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_tunnel *t = arg;
	struct timeval now, since, left;
	long long ms;

	(void)fd;
	(void)what;
	event_base_gettimeofday_cached(t->x->base, &now);
	timersub(&now, &t->last, &since);
	ms = since.tv_sec * 1000LL + since.tv_usec / 1000;
	if (ms < t->idle_ms) {
		// Activity since the timer was set: wait for the rest only,
		// rather than re-arming the timer at every read.
		ms = t->idle_ms - ms;
		left.tv_sec = ms / 1000;
		left.tv_usec = (ms % 1000) * 1000;
		evtimer_add(&t->ev_idle, &left);
		return;
	}
	t->idle_expired = 1;
	t->up.done = t->down.done = 1;
	check_finished(t);
}

int pvx_tunnel_start(struct pvx_tunnel *t, struct pvx *x, int a, int b,
		     int idle_ms, pvx_tunnel_done_cb done, void *arg)
{
	struct timeval tv = { idle_ms / 1000, (idle_ms % 1000) * 1000 };

	memset(t, 0, sizeof(*t));
	t->x = x;
	t->done = done;
	t->arg = arg;
	t->idle_ms = idle_ms;
	t->up.from = t->down.to = a;
	t->up.to = t->down.from = b;
	event_assign(&t->up.ev_read, x->base, a, EV_READ | EV_PERSIST,
		     on_read_up, &t->up);
	event_assign(&t->up.ev_write, x->base, b, EV_WRITE | EV_PERSIST,
		     on_write_up, &t->up);
	event_assign(&t->down.ev_read, x->base, b, EV_READ | EV_PERSIST,
		     on_read_down, &t->down);
	event_assign(&t->down.ev_write, x->base, a, EV_WRITE | EV_PERSIST,
		     on_write_down, &t->down);
	evtimer_assign(&t->ev_idle, x->base, on_idle, t);
	t->started = 1;
	touch(t);
	if (event_add(&t->up.ev_read, NULL) ||
	    event_add(&t->down.ev_read, NULL) ||
	    (idle_ms && evtimer_add(&t->ev_idle, &tv))) {
		pv_log(ERROR, "session: cannot watch its sockets");
		return -1;
	}
	return 0;
}

void pvx_tunnel_fini(struct pvx_tunnel *t)
{
	if (!t->started)
		return;
	event_del(&t->up.ev_read);
	event_del(&t->up.ev_write);
	event_del(&t->down.ev_read);
	event_del(&t->down.ev_write);
	event_del(&t->ev_idle);
	free(t->up.buf);
	free(t->down.buf);
	t->up.buf = t->down.buf = NULL;
	close(t->up.from);
	close(t->down.from);
	t->started = 0;
}
