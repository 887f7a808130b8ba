// The data path's choice and the kernel path's glue (docs/datapath.md).
//
// At start the process picks its data path once (pvx_datapath_choose):
// splice (epoll, copy, splice: plumbing.c), sockmap (every session's two
// sockets in the BPF sockmap from its join) or auto (a session enters
// once it looks like request/response: PVX_DP_AUTO_READS small reads and
// none that filled the buffer; bulk stays on splice, where it measured
// faster). Each loop (--threads: each worker) opens its own maps at its
// first session to enter.
//
// Only a tunnel between two TCP sockets enters: a way toward a Unix
// socket cannot be told flushed (pvx_dp_tunnel_maybe_enter), so a
// session with one stays on splice. A tunnel enters when both ways are
// idle: nothing waits in user space, no EOF seen, so the kernel takes
// the stream exactly where user space left it. While it is in, its bytes
// wake nobody; the program counts them (the figures add its counters)
// and stamps the last move (the idle timer reads it). An EOF is finished
// in the kernel: once the kernel has flushed that way, the peer's write
// side is shut down. Anything else user space must see (bytes readable,
// an error) stops the pair; once the kernel has flushed a way, user
// space relays it (each way on its own: an echo peer may drain one only
// as the other moves), copying (the sockets stay in the maps, stopped,
// until the tunnel ends: taken out while bytes arrive, a TCP socket may
// lose its place in the stream). Such a session never enters again.
//
// Memory: the program's limit stays off (a TCP socket that the program
// passed bytes to and that is then stopped loses track of its sequence
// on Linux 6.18). A watch timer bounds what the kernel holds instead:
// past PVX_SOCKMAP_LIMIT on the way to a TCP socket, or a Unix socket fed
// by a TCP one that is not writable, the pair stops (docs/datapath.md).

#define MODULE_NAME "datapath"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "utils/timer.h"
#include "datapath.h"
#include "datapath_sockmap.h"
#include "defs.h"
#include "proxy-t.h"

// Refusals of a Unix socket that holds bytes (EAGAIN) before a session
// stops trying to enter.
#define ENTER_TRIES 8
// Flush polls: the first after 1 ms, then twice as long, at most this.
#define FLUSH_POLL_MAX_MS 100
// The watch of a Unix end fed by a TCP one: this often while bytes move,
// backing off to WATCH_MAX_MS while they do not.
#define WATCH_MIN_MS 50
#define WATCH_MAX_MS 400

static enum pvx_datapath wanted = PVX_DP_SPLICE;
static enum pvx_datapath chosen = PVX_DP_SPLICE;
static char chosen_why[256] = "not probed";

int pvx_datapath_parse(const char *s, enum pvx_datapath *out)
{
	if (!strcmp(s, "auto"))
		*out = PVX_DP_AUTO;
	else if (!strcmp(s, "sockmap"))
		*out = PVX_DP_SOCKMAP;
	else if (!strcmp(s, "splice"))
		*out = PVX_DP_SPLICE;
	else
		return -1;
	return 0;
}

const char *pvx_datapath_name(enum pvx_datapath dp)
{
	switch (dp) {
	case PVX_DP_AUTO:
		return "auto";
	case PVX_DP_SOCKMAP:
		return "sockmap";
	default:
		return "splice";
	}
}

int pvx_datapath_choose(enum pvx_datapath want)
{
	char why[200];

	wanted = want;
	if (want == PVX_DP_SPLICE) {
		chosen = PVX_DP_SPLICE;
		snprintf(chosen_why, sizeof(chosen_why), "not requested");
		pv_log(INFO, "data path: splice (sockmap: not requested)");
		return 0;
	}
	if (pvx_sockmap_probe(why, sizeof(why))) {
		chosen = want;
		chosen_why[0] = '\0';
		if (want == PVX_DP_SOCKMAP)
			pv_log(INFO, "data path: sockmap");
		else
			pv_log(INFO, "data path: auto (sockmap for "
				     "request/response sessions, splice for "
				     "bulk)");
		return 0;
	}
	snprintf(chosen_why, sizeof(chosen_why), "%s", why);
	if (want == PVX_DP_SOCKMAP) {
		pv_log(ERROR,
		       "data path: sockmap requested, but it does not "
		       "work here: %s",
		       why);
		return -1;
	}
	chosen = PVX_DP_SPLICE;
	pv_log(INFO, "data path: splice (sockmap: %s)", why);
	return 0;
}

enum pvx_datapath pvx_datapath_chosen(const char **why)
{
	if (why)
		*why = chosen_why;
	return chosen;
}

enum pvx_datapath pvx_datapath_wanted(void)
{
	return wanted;
}

void pvx_dp_fini(struct pvx *x)
{
	pvx_sockmap_close(x->sm);
	x->sm = NULL;
}

// The loop's maps, opened with the loop; NULL when they cannot be (said
// once: the sessions stay in user space).
static struct pvx_sockmap *loop_maps(struct pvx *x)
{
	unsigned pairs = PVX_DP_PAIRS;
	char why[200];

	if (x->sm || x->sm_failed)
		return x->sm;
	x->sm = pvx_sockmap_open(pairs, why, sizeof(why));
	if (!x->sm) {
		x->sm_failed = 1;
		pv_log(ERROR,
		       "data path: cannot open the kernel path, sessions "
		       "stay in user space: %s",
		       why);
		return NULL;
	}
	// No limit in the kernel: past it the program passes bytes to the
	// source socket, and a TCP socket that then leaves the verdict map
	// loses track of its sequence (Linux 6.18 warns "TCP recvmsg seq #
	// bug" and the stream stalls). The watch timer bounds it instead.
	pvx_sockmap_set_limit(x->sm, 0);
	return x->sm;
}

void pvx_dp_init(struct pvx *x)
{
	if (x->datapath != PVX_DP_SPLICE)
		loop_maps(x);
}

// 1 when fd is an AF_UNIX socket.
static int is_unix(int fd)
{
	socklen_t len = sizeof(int);
	int domain = 0;

	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
	return domain == AF_UNIX;
}

// What poll says of fd now (0 on failure).
static short poll_now(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, 0) != 1)
		return 0;
	return p.revents;
}

void pvx_dp_tunnel_bytes(const struct pvx_tunnel *t, uint64_t *up,
			 uint64_t *down)
{
	uint64_t k[2] = { 0, 0 };

	if (t->sm_cookie && t->x->sm &&
	    (!t->up.kernel_folded || !t->down.kernel_folded))
		pvx_sockmap_counters(t->x->sm, t->sm_cookie, &k[0], &k[1],
				     NULL);
	*up = t->up.bytes + (t->up.kernel_folded ? 0 : k[0]);
	*down = t->down.bytes + (t->down.kernel_folded ? 0 : k[1]);
}

// A way with nothing waiting in user space and its source not ended.
static int flow_idle(const struct pvx_flow *f)
{
	return !f->buf && !f->piped && !f->eof && !f->done;
}

static void on_kernel(evutil_socket_t fd, short what, void *arg);
static int eof_check(struct pvx_tunnel *t);

// Runs ev_kernel in ms. Returns 0, or -1 (said).
static int kernel_arm(struct pvx_tunnel *t, int ms)
{
	if (!t->kernel_ev) {
		evtimer_assign(&t->ev_kernel, t->x->base, on_kernel, t);
		t->kernel_ev = 1;
	}
	if (!pv_timer_arm(&t->ev_kernel, ms))
		return 0;
	pv_log(ERROR, "session: cannot arm its data path timer");
	return -1;
}

// Whether the kernel has handed on all it took of a way, or never will
// (its destination is gone: what waits is lost with it).
static int way_flushed(struct pvx_tunnel *t, int from_a)
{
	int rc = pvx_sockmap_flushed(t->x->sm, t->sm_cookie, from_a);
	int to = from_a ? t->b.fd : t->a.fd;

	if (rc == 1)
		return 1;
	if (rc == -1 && errno == EAGAIN)
		return 0; // the socket's figures moved while read: later
	if (rc == -1) {
		if (t->x->verbose)
			pv_log(DEBUG,
			       "session: cannot tell the kernel path's "
			       "flush: %s",
			       strerror(errno));
		return 1;
	}
	return (poll_now(to, POLLOUT) & (POLLERR | POLLHUP)) != 0;
}

// The way is user space's from now on: the kernel's count goes into the
// flow (it moves no more of it), its source is read, its destination
// written (an answer of EAGAIN corrects the guess).
static void way_give(struct pvx_tunnel *t, struct pvx_flow *f, int from_a)
{
	uint64_t k[2];

	if (pvx_sockmap_counters(t->x->sm, t->sm_cookie, &k[0], &k[1], NULL) ==
	    0)
		f->bytes += k[from_a ? 0 : 1];
	f->kernel_folded = 1;
	f->kernel = f->kernel_leaving = 0;
	if (from_a)
		t->a.readable = t->b.writable = 1;
	else
		t->b.readable = t->a.writable = 1;
}

// Whether the kernel's counts are what they were at the last poll (and
// there was one): a verdict already running when the pair stopped, or
// on a TCP source's last skb, counts its skb just after the socket
// stops showing it, so "flushed" is believed only at a second look.
static int counts_stable(struct pvx_tunnel *t)
{
	uint64_t k[2] = { 0, 0 };
	int stable;

	pvx_sockmap_counters(t->x->sm, t->sm_cookie, &k[0], &k[1], NULL);
	stable = t->kernel_seen == k[0] + k[1] + 1 && t->kernel_ms;
	t->kernel_seen = k[0] + k[1] + 1;
	return stable;
}

// Gives each leaving way to user space once the kernel has flushed it;
// polls again later for the others. Each way on its own: a way toward a
// peer that is itself blocked writing to us (an echo server whose reply
// fills our stopped socket) flushes only once user space relays the
// other way, so waiting for both would hold both for ever.
// Returns 1 when a way is user space's (the tunnel should run).
static int release(struct pvx_tunnel *t)
{
	struct pvx *x = t->x;
	struct pvx_flow *f;
	int stable, i;

	if (!t->up.kernel_leaving && !t->down.kernel_leaving)
		return 0;
	stable = counts_stable(t);
	for (i = 0; i < 2; i++) {
		f = i ? &t->down : &t->up;
		if (f->kernel_leaving && stable && way_flushed(t, !i)) {
			way_give(t, f, !i);
		}
	}
	if (t->up.kernel_leaving || t->down.kernel_leaving) {
		t->kernel_ms = t->kernel_ms ? t->kernel_ms * 2 : 1;
		if (t->kernel_ms > FLUSH_POLL_MAX_MS)
			t->kernel_ms = FLUSH_POLL_MAX_MS;
		if (!kernel_arm(t, t->kernel_ms))
			return !t->up.kernel || !t->down.kernel;
		// No timer: given unflushed rather than never (the
		// kernel's rest may be lost; the session goes on).
		for (i = 0; i < 2; i++) {
			f = i ? &t->down : &t->up;
			if (f->kernel_leaving)
				way_give(t, f, !i);
		}
	}
	// The pair stays in the maps, stopped, until the tunnel ends: a
	// TCP socket taken out of them while bytes wait in it may lose its
	// place in the stream (Linux 6.18); read through the maps' hooks
	// its bytes come in order. Copied, not spliced (way_leave).
	t->kernel_done = 1;
	if (t->kernel_ev)
		evtimer_del(&t->ev_kernel);
	if (t->kernel) {
		t->kernel = 0;
		x->sm_now--;
	}
	if (x->verbose)
		pv_log(DEBUG, "session: left the kernel path");
	return 1;
}

// The way from a (from_a) or b leaves the kernel: once flushed, user
// space relays it. A socket still in the maps may hold bytes splice
// cannot see (passed to it by the program): that way copies.
static void way_leave(struct pvx_tunnel *t, int from_a)
{
	struct pvx_flow *f = from_a ? &t->up : &t->down;

	if (!f->kernel || f->kernel_leaving)
		return;
	f->kernel_leaving = 1;
	f->bulk = 0;
	f->nosplice = 1;
	t->kernel_ms = 0;
	if (t->x->verbose)
		pv_log(DEBUG, "session: the way from %s leaves the kernel path",
		       from_a ? "the client" : "the backend");
}

// Stops the kernel for both ways (a way whose reader is behind, where no
// limit holds what the kernel takes). May free t.
static void stop_all(struct pvx_tunnel *t)
{
	pvx_sockmap_stop(t->x->sm, t->sm_cookie);
	way_leave(t, 1);
	way_leave(t, 0);
	if (release(t))
		pvx_tunnel_run(t);
}

// Whether the way from a (from_a) or b holds too much on the way: more
// than PVX_SOCKMAP_LIMIT taken and not yet in its TCP destination's send
// queue (only TCP to TCP enters, so the count is always there).
static int way_over(struct pvx_tunnel *t, int from_a)
{
	uint64_t inflight = 0;

	return pvx_sockmap_inflight(t->x->sm, t->sm_cookie, from_a,
				    &inflight) == 0 &&
	       inflight > PVX_SOCKMAP_LIMIT;
}

// While in the kernel and bytes move: a way past its mark stops the
// kernel for the session (bytes the kernel takes toward a stalled reader
// are charged to no socket). Looks every WATCH_MIN_MS while bytes move,
// less often while they do not. May free t.
static void watch(struct pvx_tunnel *t)
{
	uint64_t k[2] = { 0, 0 }, seen;

	pvx_sockmap_counters(t->x->sm, t->sm_cookie, &k[0], &k[1], NULL);
	seen = k[0] + k[1];
	if (seen != t->kernel_seen) {
		t->kernel_seen = seen;
		if (way_over(t, 1) || way_over(t, 0)) {
			if (t->x->verbose)
				pv_log(DEBUG, "session: past the kernel "
					      "path's mark");
			stop_all(t);
			return;
		}
		t->kernel_ms = WATCH_MIN_MS;
	} else {
		t->kernel_ms *= 2;
		if (t->kernel_ms > WATCH_MAX_MS)
			t->kernel_ms = WATCH_MAX_MS;
	}
	if (kernel_arm(t, t->kernel_ms))
		stop_all(t);
}

static void on_kernel(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_tunnel *t = arg;

	(void)fd;
	(void)what;
	if (t->up.kernel_leaving || t->down.kernel_leaving) {
		if (release(t))
			pvx_tunnel_run(t);
		return;
	}
	if ((t->up.kernel_eof && !t->up.done) ||
	    (t->down.kernel_eof && !t->down.done)) {
		if (eof_check(t))
			pvx_tunnel_run(t);
		return;
	}
	if (t->kernel && t->kernel_watch)
		watch(t);
}

// The pair could not enter: why, for the figures and the log.
static void refused(struct pvx_tunnel *t, int err)
{
	struct pvx *x = t->x;

	t->kernel_done = 1;
	x->sm_refused++;
	if (err == ENOSPC) {
		if (!x->sm_full_said)
			pv_log(WARN,
			       "data path: the kernel path's maps are full; "
			       "more sessions stay in user space");
		x->sm_full_said = 1;
		return;
	}
	if (x->verbose)
		pv_log(DEBUG, "session: stays in user space: %s",
		       strerror(err));
}

int pvx_dp_tunnel_maybe_enter(struct pvx_tunnel *t, int at_join)
{
	struct pvx *x = t->x;
	struct pvx_sockmap *sm;
	uint64_t cookie;

	if (x->datapath == PVX_DP_SPLICE || t->kernel_done || t->sm_cookie ||
	    !t->started || t->finished)
		return 0;
	if (x->datapath == PVX_DP_AUTO &&
	    (at_join || t->up.bulk || t->down.bulk ||
	     t->small_reads < PVX_DP_AUTO_READS))
		return 0;
	if (!flow_idle(&t->up) || !flow_idle(&t->down) || t->a.rdhup ||
	    t->b.rdhup)
		return 0;
	// Only TCP to TCP: a way toward a Unix socket cannot be told
	// flushed exactly (a redirected skb waits in the destination's
	// psock queue charged to no socket, and a Unix socket has no write
	// sequence to compare the program's count with), so an EOF or a
	// stop on such a session could end or reorder its stream.
	if (is_unix(t->a.fd) || is_unix(t->b.fd)) {
		refused(t, EPROTONOSUPPORT);
		return 0;
	}
	sm = loop_maps(x);
	if (!sm) {
		t->kernel_done = 1;
		return 0;
	}
	cookie = ++x->sm_next;
	if (pvx_sockmap_add_pair(sm, t->a.fd, t->b.fd, cookie) == -1) {
		if (errno == EAGAIN) {
			// A Unix socket holds bytes: user space moves them,
			// the next idle moment tries again.
			if (++t->enter_tries >= ENTER_TRIES)
				refused(t, EAGAIN);
			return 0;
		}
		if (errno != EBUSY) {
			refused(t, errno);
			return 0;
		}
		// Registered but stopped: the kernel began, user space
		// finishes once it has flushed.
		t->sm_cookie = cookie;
		t->kernel_done = 1;
		t->kernel = 1;
		t->up.kernel = t->down.kernel = 1;
		x->sm_now++;
		x->sm_total++;
		way_leave(t, 1);
		way_leave(t, 0);
		return release(t);
	}
	t->sm_cookie = cookie;
	t->kernel = 1;
	t->up.kernel = t->down.kernel = 1;
	x->sm_now++;
	x->sm_total++;
	if (x->verbose)
		pv_log(DEBUG, "session: enters the kernel path");
	// Unwatched, a stalled reader could make the kernel hold what the
	// other side sends (said by kernel_arm).
	t->kernel_watch = 1;
	t->kernel_ms = WATCH_MIN_MS;
	if (kernel_arm(t, t->kernel_ms))
		t->kernel_watch = 0;
	return 0;
}

// EOF on a way's source while the kernel moves it: once the kernel has
// flushed that way, the destination's write side is shut down, in the
// kernel path still (a TCP socket stays in the maps after it; the other
// way goes on). Returns 1 when a way ended (the tunnel should run: it
// may be over); polls again later for those not flushed yet.
static int eof_check(struct pvx_tunnel *t)
{
	struct pvx_flow *f;
	int i, ended = 0, waiting = 0, stable;

	// An EOF is visible before the verdict of the data ahead of it has
	// run: one look can see "all sent" with a skb in between.
	stable = counts_stable(t);
	for (i = 0; i < 2; i++) {
		f = i ? &t->down : &t->up;
		if (!f->kernel_eof || f->done || f->kernel_leaving)
			continue;
		if (!stable || !way_flushed(t, !i)) {
			waiting = 1;
			continue;
		}
		f->eof = f->done = 1;
		// ENOTCONN when the peer is already gone: nothing to tell.
		shutdown(i ? t->a.fd : t->b.fd, SHUT_WR);
		ended = 1;
	}
	if (waiting) {
		t->kernel_ms = t->kernel_ms ? t->kernel_ms * 2 : 1;
		if (t->kernel_ms > FLUSH_POLL_MAX_MS)
			t->kernel_ms = FLUSH_POLL_MAX_MS;
		if (kernel_arm(t, t->kernel_ms)) {
			// No timer: the rest in user space, flushed or not.
			pvx_sockmap_stop(t->x->sm, t->sm_cookie);
			way_leave(t, 1);
			way_leave(t, 0);
			return release(t) || ended;
		}
	} else if (ended && t->kernel && t->kernel_watch) {
		// The other way goes on in the kernel: watched again.
		t->kernel_ms = WATCH_MIN_MS;
		if (kernel_arm(t, t->kernel_ms))
			t->kernel_watch = 0;
	}
	return ended;
}

int pvx_dp_tunnel_edge(struct pvx_tunnel *t)
{
	short want = POLLIN | POLLRDHUP | POLLERR | POLLHUP, ev;
	struct pvx_flow *f;
	int i, stop = 0, eof = 0;

	if (!t->kernel)
		return 1;
	if (t->up.kernel_leaving || t->down.kernel_leaving)
		return release(t);
	// Edges may be stale (bytes that came as the pair entered, which
	// the kernel moved): what a source holds now says. An EOF is the
	// kernel's to finish; bytes, an error, a hang-up are user space's.
	for (i = 0; i < 2; i++) {
		f = i ? &t->down : &t->up;
		if (!f->kernel || f->done || f->kernel_eof)
			continue;
		ev = poll_now(i ? t->b.fd : t->a.fd, POLLIN | POLLRDHUP) & want;
		if (ev & POLLRDHUP) {
			f->kernel_eof = 1;
			eof = 1;
		} else if (ev) {
			stop = 1;
		}
	}
	if (stop) {
		pvx_sockmap_stop(t->x->sm, t->sm_cookie);
		way_leave(t, 1);
		way_leave(t, 0);
		return release(t);
	}
	if (eof)
		t->kernel_ms = 0;
	return eof_check(t);
}

void pvx_dp_tunnel_activity(struct pvx_tunnel *t)
{
	uint64_t ns = 0;
	struct timeval tv;

	if (!t->sm_cookie || !t->kernel || !t->x->sm ||
	    pvx_sockmap_counters(t->x->sm, t->sm_cookie, NULL, NULL, &ns) ||
	    !ns)
		return;
	tv.tv_sec = (time_t)(ns / 1000000000u);
	tv.tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
	if (timercmp(&tv, &t->last, >))
		t->last = tv;
}

void pvx_dp_tunnel_fini(struct pvx_tunnel *t)
{
	struct pvx *x = t->x;

	if (t->kernel_ev) {
		evtimer_del(&t->ev_kernel);
		t->kernel_ev = 0;
	}
	if (!t->sm_cookie)
		return;
	if (t->kernel)
		x->sm_now--;
	t->kernel = 0;
	if (x->sm)
		pvx_sockmap_remove_pair(x->sm, t->sm_cookie);
	t->sm_cookie = 0;
	t->kernel_done = 1;
}
