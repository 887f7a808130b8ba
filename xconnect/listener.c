// Listeners: one listening socket, its retry and pause timer, and the
// accept loop (listener.h).

#define MODULE_NAME "listener"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "utils/timer.h"
#include "defs.h"
#include "listener.h"

// Accepts per readiness event unless the owner says: enough to drain a
// burst, few enough that one busy listener does not starve the sessions.
#define DEFAULT_BATCH 32

static void on_timer(evutil_socket_t fd, short what, void *arg);

void pvx_listener_init(struct pvx_listener *l, struct event_base *base,
		       const struct pvx_listener_ops *ops, void *owner,
		       const char *name, const char *where)
{
	memset(l, 0, sizeof(*l));
	l->ops = ops;
	l->owner = owner;
	l->base = base;
	l->name = name;
	l->where = where ? where : "";
	l->batch = DEFAULT_BATCH;
	l->retry_ms = PVX_BIND_RETRY_MS;
	l->pause_ms = PVX_ACCEPT_PAUSE_MS;
	l->fd = -1;
	evtimer_assign(&l->ev_timer, base, on_timer, l);
}

// Arms the timer ms from now. Returns 0, or -1 after saying so.
static int timer_in(struct pvx_listener *l, int ms, const char *what)
{
	if (!pv_timer_arm(&l->ev_timer, ms))
		return 0;
	pv_log(ERROR, "%s: cannot arm the timer of its %s", l->name, what);
	return -1;
}

void pvx_listener_pause(struct pvx_listener *l)
{
	if (l->listening && !l->paused)
		event_del(&l->ev_accept);
	l->paused = 1;
}

void pvx_listener_resume(struct pvx_listener *l)
{
	if (!l->listening || !l->paused)
		return;
	if (l->ops->room && !l->ops->room(l, 0))
		return;
	if (!event_add(&l->ev_accept, NULL)) {
		l->paused = 0;
		l->watch_failed = 0;
		return;
	}
	// Paused it stays: a listener taken for accepting that nothing
	// watches would leave its clients in the backlog for good. The timer
	// tries again, as after an accept pause; failing that, the owner's
	// next resume does.
	if (!l->watch_failed)
		pv_log(ERROR,
		       "%s: cannot watch its listener, trying again every %d "
		       "ms",
		       l->name, l->pause_ms);
	l->watch_failed = 1;
	timer_in(l, l->pause_ms, "listener watch retry");
}

void pvx_listener_backoff(struct pvx_listener *l)
{
	if (!l->listening)
		return;
	pvx_listener_pause(l);
	// A pause that nothing would end is worse than none.
	if (timer_in(l, l->pause_ms, "accept pause"))
		pvx_listener_resume(l);
}

// The socket is readable: accepts a batch of clients, each handed to the
// owner, until the backlog is empty, the owner has no room, or accept
// runs out of fds.
static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_listener *l = arg;
	// Zeroed for the static analyzer, which does not know that accept4
	// fills it in.
	struct sockaddr_storage peer = { 0 };
	socklen_t plen;
	int i, cfd;

	(void)what;
	if (l->ops->hold)
		l->ops->hold(l, 1);
	for (i = 0; i < l->batch && l->listening; i++) {
		if (l->ops->room && !l->ops->room(l, 1)) {
			// Further clients wait in the backlog, not dropped.
			pvx_listener_pause(l);
			break;
		}
		plen = sizeof(peer);
		cfd = accept4(fd, (struct sockaddr *)&peer, &plen,
			      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN)
				break;
			// EMFILE, ENFILE, ENOBUFS...: the client stays in
			// the backlog; trying again at once would spin on
			// the same error.
			if (l->ops->accept_failed)
				l->ops->accept_failed(l);
			else
				pvx_listener_backoff(l);
			break;
		}
		l->ops->accept(l, cfd, (struct sockaddr *)&peer, plen);
	}
	if (l->ops->hold)
		l->ops->hold(l, 0);
}

void pvx_listener_start(struct pvx_listener *l)
{
	const char *what = "";
	int fd;

	l->enabled = 1;
	if (l->listening)
		return;
	l->why[0] = 0;
	fd = l->ops->listen(l, &what);
	if (fd == -1 && l->why[0]) {
		if (!l->bind_failed)
			pv_log(ERROR, "%s: %s%s, retrying every %d ms", l->name,
			       l->where, l->why, l->retry_ms);
	} else if (fd == -1 && !l->bind_failed) {
		pv_log(ERROR, "%s: %s%s: %s, retrying every %d ms", l->name,
		       l->where, what, strerror(errno), l->retry_ms);
	}
	if (fd == -1) {
		l->bind_failed = 1;
		timer_in(l, l->retry_ms, "bind retry");
		return;
	}
	l->fd = fd;
	event_assign(&l->ev_accept, l->base, fd, EV_READ | EV_PERSIST,
		     on_accept, l);
	l->listening = 1;
	l->paused = 1;
	l->bind_failed = 0;
	pvx_listener_resume(l);
	if (l->ops->bound)
		l->ops->bound(l);
}

int pvx_listener_stop(struct pvx_listener *l)
{
	l->enabled = 0;
	evtimer_del(&l->ev_timer);
	if (!l->listening)
		return 0;
	if (!l->paused)
		event_del(&l->ev_accept);
	if (l->ops->unlisten)
		l->ops->unlisten(l, l->fd);
	else
		close(l->fd);
	l->fd = -1;
	l->listening = 0;
	l->paused = 0;
	return 1;
}

// Timer: retries a failed listen, or ends an accept pause.
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_listener *l = arg;

	(void)fd;
	(void)what;
	if (!l->enabled)
		return;
	if (!l->listening)
		pvx_listener_start(l);
	else
		pvx_listener_resume(l);
}
