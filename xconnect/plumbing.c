// The data path shared by the plugins: two sockets joined both ways.
//
// Each socket (an end) is registered once, edge-triggered, for reading,
// writing and the peer's FIN, in an epoll set of the data path's own
// (itself watched by the libevent loop), and stays so for the whole
// connection: moving bytes never changes the interest, and close() alone
// takes it out of the set (one epoll_ctl per socket in all). What the
// edges said is kept in flags until a call answers EAGAIN. A read shorter
// than asked means the socket is drained, and with the peer's FIN already
// seen it means EOF without asking again.
//
// Each direction (a flow) reads small transfers into the loop's scratch
// buffer and writes them straight on; only what the peer does not take at
// once is kept, in a buffer allocated for that moment. A read that fills
// the scratch buffer marks the flow as bulk: from then on it moves with
// splice(2), socket to pipe to socket, without copying through user space.
// Pipes come from a per-loop pool when bytes flow and go back to it as soon
// as they are empty, so an idle session holds neither buffer nor pipe.
// While bytes wait for the peer (at most PVX_FLOW_BUF in a buffer, or
// PVX_PIPE_BYTES in a pipe) the source is not read: backpressure. EOF is
// forwarded as shutdown(SHUT_WR) once the waiting bytes are out.

#define MODULE_NAME "plumbing"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "utils/timer.h"
#include "defs.h"
#include "datapath.h"
#include "proxy-t.h"
#include "tunnel.h"

// Reads (or splices) per flow and readiness event: a busy flow yields to
// the others after this many and is queued again.
#define FLOW_ROUNDS 16

static void run_again(struct pvx_tunnel *t);
static void flow_fail(struct pvx_tunnel *t, struct pvx_flow *f);

// What one read step (copy_in, splice_in) tells flow_run.
enum step {
	STEP_MORE, // go on
	STEP_WAIT, // nothing to do until the next edge
};

// The tunnel an end belongs to.
static struct pvx_tunnel *tunnel_of_end(struct pvx_end *e, int is_b)
{
	if (is_b)
		return (struct pvx_tunnel *)((char *)e -
					     offsetof(struct pvx_tunnel, b));
	return (struct pvx_tunnel *)((char *)e -
				     offsetof(struct pvx_tunnel, a));
}

int pvx_pipe_get(struct pvx *x, int *rfd, int *wfd)
{
	int p[2];

	if (x->npool > 0) {
		x->npool--;
		*rfd = x->pool[x->npool][0];
		*wfd = x->pool[x->npool][1];
		x->pipes_used++;
		return 0;
	}
	if (x->pipes_used >= x->pipes_max)
		return -1;
	// Out of fds or memory: the flow copies instead, nothing to say.
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	// Fewer, larger splices for bulk; without it (a user past its
	// pipe-user-pages limit) the default 64 KiB does, only slower.
	fcntl(p[1], F_SETPIPE_SZ, PVX_PIPE_BYTES);
	*rfd = p[0];
	*wfd = p[1];
	x->pipes_used++;
	return 0;
}

void pvx_pipe_put(struct pvx *x, int rfd, int wfd, int empty)
{
	x->pipes_used--;
	if (empty && x->npool < PVX_PIPE_POOL) {
		x->pool[x->npool][0] = rfd;
		x->pool[x->npool][1] = wfd;
		x->npool++;
		return;
	}
	// Bytes still in it belong to a session that is gone.
	close(rfd);
	close(wfd);
}

void pvx_pipe_trim(struct pvx *x)
{
	while (x->npool > 0) {
		x->npool--;
		close(x->pool[x->npool][0]);
		close(x->pool[x->npool][1]);
	}
}

// Notes activity for the idle timer (the coarse clock: no syscall).
static void touch(struct pvx_tunnel *t)
{
	if (t->idle_ms)
		pvx_now(&t->last);
}

// e took less than it was given: it is full until its next write edge.
// A lazy end starts watching its write edges now, and keeps them: a
// session that filled its peer once is likely bulk, where one epoll_ctl
// for good beats two per wait.
static void end_full(struct pvx_tunnel *t, struct pvx_end *e)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.ptr = e,
	};

	e->writable = 0;
	if (!e->lazy_out || e->out_on)
		return;
	// The edge comes at once if room is there already.
	if (epoll_ctl(t->x->epfd, EPOLL_CTL_MOD, e->fd, &ev) == -1) {
		// Without write edges the session would wait forever: it
		// ends instead.
		pv_log(ERROR, "session: cannot watch its socket: %s",
		       strerror(errno));
		flow_fail(t, &t->up);
		flow_fail(t, &t->down);
		return;
	}
	e->out_on = 1;
}

// Gives the flow's pipe back (to the pool when empty).
static void flow_unpipe(struct pvx_tunnel *t, struct pvx_flow *f)
{
	if (f->pipe_r == -1)
		return;
	pvx_pipe_put(t->x, f->pipe_r, f->pipe_w, f->piped == 0);
	f->pipe_r = f->pipe_w = -1;
	f->piped = 0;
}

// Drops whatever waits in the flow.
static void flow_discard(struct pvx_tunnel *t, struct pvx_flow *f)
{
	free(f->buf);
	f->buf = NULL;
	f->off = f->len = 0;
	flow_unpipe(t, f);
}

// The destination failed: what waits for it can never be delivered, and
// the source is not read any more.
static void flow_fail(struct pvx_tunnel *t, struct pvx_flow *f)
{
	flow_discard(t, f);
	f->eof = 1;
	f->failed = 1;
	f->done = 1;
}

// The direction is over: its source ended and everything read has been
// written. Tells the peer, unless the socket is about to be closed anyway
// with nothing unread (the other direction read its EOF): then close()
// sends the same FIN, one syscall less.
static void flow_shut(struct pvx_flow *f, struct pvx_flow *other, int to)
{
	f->done = 1;
	if (other->done && other->eof && !other->failed)
		return;
	// ENOTCONN when the peer is already gone: nothing to tell it.
	shutdown(to, SHUT_WR);
}

// Writes what waits in f to `to`. Returns 1 when all is out, 0 when the
// peer takes no more for now, -1 when it failed.
static int flow_flush(struct pvx_tunnel *t, struct pvx_flow *f,
		      struct pvx_end *to)
{
	ssize_t w;

	do {
		if (f->piped)
			w = splice(f->pipe_r, NULL, to->fd, NULL, f->piped,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		else
			w = send(to->fd, f->buf + f->off, f->len - f->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (w < 0 && errno == EINTR);
	if (w < 0) {
		if (errno == EAGAIN) {
			end_full(t, to);
			return 0;
		}
		return -1;
	}
	touch(t);
	if (f->piped) {
		f->piped -= w;
		if (f->piped) {
			// A short write: the socket buffer is full, an edge
			// comes when it has room.
			end_full(t, to);
			return 0;
		}
		flow_unpipe(t, f);
		return 1;
	}
	f->off += w;
	if (f->off < f->len) {
		end_full(t, to);
		return 0;
	}
	free(f->buf);
	f->buf = NULL;
	f->off = f->len = 0;
	return 1;
}

// A read or splice from `from` ended the source: EOF, or an error that
// ends it just as well (what was read before still goes out).
static enum step source_ended(struct pvx_flow *f, struct pvx_end *from)
{
	f->eof = 1;
	from->readable = 0;
	return STEP_MORE;
}

// One splice from `from` into the flow's pipe (taken from the pool).
// Falls back to copying when no pipe can be had.
static enum step splice_in(struct pvx_tunnel *t, struct pvx_flow *f,
			   struct pvx_end *from)
{
	ssize_t n;

	if (f->pipe_r == -1 && pvx_pipe_get(t->x, &f->pipe_r, &f->pipe_w)) {
		// None to be had now (fds, pipes_max): this read copies.
		f->pipe_r = f->pipe_w = -1;
		f->bulk = 0;
		return STEP_MORE;
	}
	n = splice(from->fd, NULL, f->pipe_w, NULL, PVX_PIPE_BYTES,
		   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0) {
		f->piped = n;
		f->bytes += n;
		touch(t);
		return STEP_MORE;
	}
	// The pipe is empty here: back to the pool while nothing flows.
	flow_unpipe(t, f);
	if (n == 0)
		return source_ended(f, from);
	if (errno == EAGAIN) {
		from->readable = 0;
		return STEP_WAIT;
	}
	if (errno == EINTR)
		return STEP_MORE;
	if (errno == EINVAL || errno == ENOSYS) {
		// A socket that cannot splice: this flow copies for good.
		f->bulk = 0;
		f->nosplice = 1;
		return STEP_MORE;
	}
	return source_ended(f, from);
}

// One read from `from` into the scratch buffer, written straight on to
// `to`; what `to` does not take waits in a buffer of the flow's own.
static enum step copy_in(struct pvx_tunnel *t, struct pvx_flow *f,
			 struct pvx_end *from, struct pvx_end *to)
{
	char *scratch = t->x->scratch;
	ssize_t n, w = 0;

	n = read(from->fd, scratch, PVX_FLOW_BUF);
	if (n == 0)
		return source_ended(f, from);
	if (n < 0) {
		if (errno == EAGAIN) {
			from->readable = 0;
			return STEP_WAIT;
		}
		if (errno == EINTR)
			return STEP_MORE;
		return source_ended(f, from);
	}
	f->bytes += n;
	touch(t);
	if (n < PVX_FLOW_BUF) {
		// Drained; and when the peer's FIN was already there, the
		// next read could only say EOF.
		from->readable = 0;
		if (from->rdhup)
			f->eof = 1;
		if (t->small_reads < UINT16_MAX)
			t->small_reads++;
	} else if (!f->nosplice) {
		f->bulk = 1;
	}
	if (to->writable) {
		do
			w = send(to->fd, scratch, n,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		while (w < 0 && errno == EINTR);
		if (w == n)
			return STEP_MORE;
		if (w < 0) {
			if (errno != EAGAIN) {
				flow_fail(t, f);
				return STEP_WAIT;
			}
			w = 0;
		}
		// Short or refused: the socket is full, an edge comes when
		// it has room.
		end_full(t, to);
	}
	f->buf = malloc(n - w);
	if (!f->buf) {
		pv_log(ERROR, "session buffer: %s", strerror(errno));
		flow_fail(t, f);
		return STEP_WAIT;
	}
	memcpy(f->buf, scratch + w, n - w);
	f->off = 0;
	f->len = n - w;
	return STEP_MORE;
}

// Moves what it can of one direction: flushes what waits, passes an EOF
// on, reads more while the source has some and the peer takes it.
static void flow_run(struct pvx_tunnel *t, struct pvx_flow *f,
		     struct pvx_flow *other, struct pvx_end *from,
		     struct pvx_end *to)
{
	enum step s;
	int rounds = 0, rc;

	while (!f->done && !f->kernel) {
		if (f->piped || f->buf) {
			if (!to->writable)
				return;
			rc = flow_flush(t, f, to);
			if (rc < 0)
				flow_fail(t, f);
			if (rc <= 0)
				return;
		}
		if (f->eof) {
			flow_shut(f, other, to->fd);
			return;
		}
		if (!from->readable || !to->writable)
			return;
		if (++rounds > FLOW_ROUNDS) {
			// Fair to the other sessions: the rest next time round.
			run_again(t);
			return;
		}
		s = f->bulk ? splice_in(t, f, from) : copy_in(t, f, from, to);
		if (s == STEP_WAIT)
			return;
	}
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

// Runs both directions, then ends the tunnel when they are over.
static void tunnel_run(struct pvx_tunnel *t)
{
	flow_run(t, &t->up, &t->down, &t->a, &t->b);
	flow_run(t, &t->down, &t->up, &t->b, &t->a);
	// Both ways idle now: the kernel path may take the session.
	if (pvx_dp_tunnel_maybe_enter(t, 0)) {
		flow_run(t, &t->up, &t->down, &t->a, &t->b);
		flow_run(t, &t->down, &t->up, &t->b, &t->a);
	}
	check_finished(t);
}

void pvx_tunnel_run(struct pvx_tunnel *t)
{
	tunnel_run(t);
}

// An edge on one end: notes what it says, then moves bytes (or, while b
// connects, tells the owner).
static void on_end(struct pvx_end *e, uint32_t events)
{
	struct pvx_tunnel *t = tunnel_of_end(e, e->is_b);

	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		e->readable = 1;
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		e->writable = 1;
	if (events & EPOLLRDHUP)
		e->rdhup = e->readable = 1;
	if (e->is_b && t->connecting) {
		t->connecting = 0;
		t->connected(t, t->arg);
		return;
	}
	if (!t->started)
		return;
	// In the kernel path the bytes are not ours: only what a socket
	// holds for user space (an EOF, bytes passed to it) matters.
	if (!t->kernel) {
		tunnel_run(t);
		return;
	}
	// One way is user space's already, the other still flushing in the
	// kernel: that way runs on every edge (room on its destination
	// included).
	if (!t->up.kernel || !t->down.kernel) {
		pvx_dp_tunnel_edge(t);
		tunnel_run(t);
		return;
	}
	// Room on a socket the kernel writes to is the kernel's business.
	if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) &&
	    pvx_dp_tunnel_edge(t))
		tunnel_run(t);
}

// Runs the tunnels that yielded. A zero timer rather than an activated
// event: libevent runs an event activated from a callback in the same
// pass, so a tunnel that kept yielding would keep the loop from its
// listeners and timers; a timer that is due waits for the loop's next
// poll.
static void on_again(evutil_socket_t fd, short what, void *arg)
{
	struct pvx *x = arg;
	struct pvx_tunnel *t;
	struct dl_list again;

	(void)fd;
	(void)what;
	// Those that yield again now wait for the next round, not this one.
	dl_list_init(&again);
	if (!dl_list_empty(&x->again)) {
		again = x->again;
		again.next->prev = &again;
		again.prev->next = &again;
		dl_list_init(&x->again);
	}
	while (!dl_list_empty(&again)) {
		t = dl_list_first(&again, struct pvx_tunnel, again);
		dl_list_del(&t->again);
		t->queued = 0;
		tunnel_run(t);
	}
}

// The data path's epoll set has edges: runs a batch of them. An end
// closed meanwhile has its edges in the batch cleared (end_close), so
// none reaches freed memory.
static void on_epoll(evutil_socket_t fd, short what, void *arg)
{
	struct pvx *x = arg;
	struct epoll_event evs[PVX_EPOLL_BATCH];
	int n, i;

	(void)fd;
	(void)what;
	n = epoll_wait(x->epfd, evs, PVX_EPOLL_BATCH, 0);
	if (n == -1) {
		if (errno != EINTR)
			pv_log(ERROR, "epoll_wait: %s", strerror(errno));
		return;
	}
	x->batch = evs;
	x->batch_n = n;
	for (i = 0; i < n; i++) {
		x->batch_i = i;
		if (evs[i].data.ptr)
			on_end(evs[i].data.ptr, evs[i].events);
	}
	x->batch = NULL;
	x->batch_n = 0;
}

// Queues t to run again at the next round of the loop.
static void run_again(struct pvx_tunnel *t)
{
	struct pvx *x = t->x;

	if (t->queued)
		return;
	t->queued = 1;
	dl_list_add_tail(&x->again, &t->again);
	if (evtimer_pending(&x->ev_again, NULL) ||
	    !pv_timer_arm(&x->ev_again, 0))
		return;
	// The tunnels that yielded have no edge left to wake them: rather
	// than stall, they run again in this pass of the loop (less fair to
	// the others, see on_again).
	if (!x->again_failed)
		pv_log(ERROR, "cannot arm the timer of yielded sessions; they "
			      "run without yielding to the loop");
	x->again_failed = 1;
	event_active(&x->ev_again, EV_TIMEOUT, 1);
}

int pvx_plumbing_init(struct pvx *x)
{
	dl_list_init(&x->again);
	evtimer_assign(&x->ev_again, x->base, on_again, x);
	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (x->epfd == -1) {
		pv_log(ERROR, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	event_assign(&x->ev_epoll, x->base, x->epfd, EV_READ | EV_PERSIST,
		     on_epoll, x);
	if (event_add(&x->ev_epoll, NULL)) {
		pv_log(ERROR, "cannot watch the data path's epoll set");
		close(x->epfd);
		x->epfd = -1;
		return -1;
	}
	pvx_dp_init(x);
	return 0;
}

void pvx_plumbing_fini(struct pvx *x)
{
	pvx_dp_fini(x);
	pvx_pipe_trim(x);
	evtimer_del(&x->ev_again);
	if (x->epfd == -1)
		return;
	event_del(&x->ev_epoll);
	close(x->epfd);
	x->epfd = -1;
}

// Idle timer: ends the tunnel when nothing moved for idle_ms.
static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_tunnel *t = arg;
	struct timeval now, since;
	long long ms;

	(void)fd;
	(void)what;
	pvx_dp_tunnel_activity(t);
	pvx_now(&now);
	timersub(&now, &t->last, &since);
	ms = since.tv_sec * 1000LL + since.tv_usec / 1000;
	if (ms < t->idle_ms) {
		// Activity since the timer was set: wait for the rest only,
		// rather than re-arming the timer at every read.
		if (!pv_timer_arm(&t->ev_timer, t->idle_ms - ms))
			return;
		// Unarmed, an idle session would never be reaped.
		pv_log(ERROR, "session: cannot arm its idle timer again, "
			      "ending it");
	}
	t->idle_expired = 1;
	t->up.done = t->down.done = 1;
	check_finished(t);
}

// Registers an end's socket for good: edge-triggered reads, writes and
// the peer's FIN.
static int end_watch(struct pvx_tunnel *t, struct pvx_end *e, int fd, int is_b)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | EPOLLET |
			  (e->lazy_out ? 0 : EPOLLOUT),
		.data.ptr = e,
	};

	e->fd = fd;
	e->is_b = is_b;
	if (epoll_ctl(t->x->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		pv_log(ERROR, "session: cannot watch its socket: %s",
		       strerror(errno));
		return -1;
	}
	return 0;
}

// Closes an end; close() takes it out of the epoll set (the fd is never
// duplicated), and edges already fetched for it are dropped.
static void end_close(struct pvx_tunnel *t, struct pvx_end *e)
{
	struct pvx *x = t->x;
	int i;

	if (e->fd != -1)
		close(e->fd);
	for (i = x->batch_i + 1; i < x->batch_n; i++)
		if (x->batch[i].data.ptr == e)
			x->batch[i].data.ptr = NULL;
	memset(e, 0, sizeof(*e));
	e->fd = -1;
}

void pvx_tunnel_init(struct pvx_tunnel *t, struct pvx *x, pvx_tunnel_cb done,
		     pvx_tunnel_cb connected, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->x = x;
	t->done = done;
	t->connected = connected;
	t->arg = arg;
	t->a.fd = t->b.fd = -1;
	t->up.pipe_r = t->up.pipe_w = -1;
	t->down.pipe_r = t->down.pipe_w = -1;
	// Assigned from the start, so that it can always be deleted; the
	// owner may use it for its own ends until join.
	evtimer_assign(&t->ev_timer, x->base, on_idle, t);
	t->inited = 1;
}

int pvx_tunnel_set_b(struct pvx_tunnel *t, int b, int connecting, int is_unix)
{
	// A connect in progress is told by a write edge: watched then.
	t->b.lazy_out = is_unix && !connecting;
	t->connecting = connecting;
	t->b.writable = !connecting;
	if (end_watch(t, &t->b, b, 1)) {
		// The fd is ours now: closed like the others.
		t->connecting = 0;
		return -1;
	}
	return 0;
}

void pvx_tunnel_drop_b(struct pvx_tunnel *t)
{
	end_close(t, &t->b);
	t->connecting = 0;
}

int pvx_tunnel_join(struct pvx_tunnel *t, int a, int idle_ms)
{
	t->idle_ms = idle_ms;
	t->connecting = 0;
	// b is connected; a's first bytes are likely there already (a client
	// speaks as soon as it is connected): try them now, not after the
	// next round of the loop.
	t->b.writable = 1;
	t->a.readable = t->a.writable = 1;
	if (end_watch(t, &t->a, a, 0))
		return -1;
	evtimer_del(&t->ev_timer);
	evtimer_assign(&t->ev_timer, t->x->base, on_idle, t);
	t->started = 1;
	touch(t);
	if (idle_ms && pv_timer_arm(&t->ev_timer, idle_ms)) {
		pv_log(ERROR, "session: cannot arm its idle timer");
		return -1;
	}
	// --datapath sockmap: in the kernel from the start (a TCP client's
	// first bytes, already there, are moved by the kernel too).
	pvx_dp_tunnel_maybe_enter(t, 1);
	tunnel_run(t);
	return 0;
}

// 1 when fd is an AF_UNIX socket.
static int is_unix(int fd)
{
	socklen_t len = sizeof(int);
	int domain = 0;

	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
	return domain == AF_UNIX;
}

int pvx_tunnel_start(struct pvx_tunnel *t, struct pvx *x, int a, int b,
		     int idle_ms, pvx_tunnel_cb done, void *arg)
{
	pvx_tunnel_init(t, x, done, NULL, arg);
	if (pvx_tunnel_set_b(t, b, 0, is_unix(b))) {
		close(a);
		return -1;
	}
	t->a.lazy_out = is_unix(a);
	return pvx_tunnel_join(t, a, idle_ms);
}

void pvx_tunnel_fini(struct pvx_tunnel *t)
{
	if (!t->inited)
		return;
	evtimer_del(&t->ev_timer);
	// Out of the maps before the sockets close.
	pvx_dp_tunnel_fini(t);
	flow_discard(t, &t->up);
	flow_discard(t, &t->down);
	if (t->queued) {
		dl_list_del(&t->again);
		t->queued = 0;
	}
	end_close(t, &t->a);
	end_close(t, &t->b);
	t->started = 0;
	t->inited = 0;
}
