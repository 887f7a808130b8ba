// Frontends: one listening socket per ingress rule or consumer target,
// the pool of backends behind it, and the accept loop with its brakes
// (fd exhaustion, maxconn).

#define MODULE_NAME "frontend"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rootbind.h"
#include "utils/addr.h"
#include "utils/timer.h"
#include "xconnect.h"

// Accepts per readiness event: enough to drain a burst, few enough that
// one busy listener does not starve the sessions.
#define ACCEPT_BATCH 32

static void start_listening(struct pvx_frontend *fe);

// Arms the frontend's timer (bind retry or accept pause; what says which)
// ms from now. Returns 0, or -1 after saying so.
static int timer_in(struct pvx_frontend *fe, int ms, const char *what)
{
	if (!pv_timer_arm(&fe->ev_timer, ms))
		return 0;
	pv_log(ERROR, "link %s: cannot arm the timer of its %s", fe->label,
	       what);
	return -1;
}

// Stops accepting for a while; the timer resumes.
static void pause_accept(struct pvx_frontend *fe)
{
	if (!fe->paused)
		event_del(&fe->ev_accept);
	fe->paused = 1;
}

void pvx_frontend_resume(struct pvx_frontend *fe)
{
	if (!fe->listening || !fe->paused)
		return;
	if (fe->maxconn && fe->stats.sessions_now >= (uint32_t)fe->maxconn)
		return;
	if (fe->x->maxconn && fe->x->nsessions >= fe->x->maxconn)
		return;
	if (!event_add(&fe->ev_accept, NULL)) {
		fe->paused = 0;
		fe->watch_failed = 0;
		return;
	}
	// Paused it stays: a listener taken for accepting that nothing
	// watches would leave its clients in the backlog for good. Its timer
	// tries again, as after an accept pause; failing that, the next
	// session to end or the next graph does.
	if (!fe->watch_failed)
		pv_log(ERROR,
		       "link %s: cannot watch its listener, trying again "
		       "every %d ms",
		       fe->label, PVX_ACCEPT_PAUSE_MS);
	fe->watch_failed = 1;
	timer_in(fe, PVX_ACCEPT_PAUSE_MS, "listener watch retry");
}

void pvx_frontend_backoff(struct pvx_frontend *fe, const char *what)
{
	// Said once until a session gets through again.
	if (!fe->accept_failing)
		pv_log(WARN, "link %s: %s: %s, pausing accepts %d ms at a time",
		       fe->label, what, strerror(errno), PVX_ACCEPT_PAUSE_MS);
	fe->accept_failing = 1;
	pvx_now(&fe->backoff_last);
	if (!fe->listening)
		return;
	pause_accept(fe);
	// A pause that nothing would end is worse than none.
	if (timer_in(fe, PVX_ACCEPT_PAUSE_MS, "accept pause"))
		pvx_frontend_resume(fe);
}

int pvx_cidr_match(const struct pvx_cidr *allow, int n,
		   const struct sockaddr *addr)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0,    0,
						  0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *v4 = NULL, *v6 = NULL;
	const struct sockaddr_in6 *sin6;
	int i;

	if (addr->sa_family == AF_INET) {
		v4 = (const void *)&((const struct sockaddr_in *)addr)
			     ->sin_addr;
	} else if (addr->sa_family == AF_INET6) {
		sin6 = (const void *)addr;
		v6 = sin6->sin6_addr.s6_addr;
		// An IPv4 client on a dual-stack listener is still that
		// IPv4 client for an IPv4 rule.
		if (!memcmp(v6, mapped, sizeof(mapped)))
			v4 = v6 + 12;
	} else {
		return 0;
	}
	for (i = 0; i < n; i++) {
		const struct sockaddr *net =
			(const struct sockaddr *)&allow[i].net;

		if (net->sa_family == AF_INET && v4 &&
		    pv_prefix_equal(
			    v4,
			    (const void *)&((const struct sockaddr_in *)net)
				    ->sin_addr,
			    allow[i].prefix))
			return 1;
		if (net->sa_family == AF_INET6 && v6 &&
		    pv_prefix_equal(v6,
				    ((const struct sockaddr_in6 *)net)
					    ->sin6_addr.s6_addr,
				    allow[i].prefix))
			return 1;
	}
	return 0;
}

int pvx_frontend_set_allow(struct pvx_frontend *fe,
			   const struct pvx_cidr *allow, int n)
{
	struct pvx_cidr *copy = NULL;

	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -1;
		memcpy(copy, allow, n * sizeof(*copy));
	}
	free(fe->allow);
	fe->allow = copy;
	fe->nallow = n;
	return 0;
}

// The listener is readable: accepts a batch of clients, each handed to a
// new session, unless the allow list, maxconn or a lack of fds says no.
static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_frontend *fe = arg;
	// Zeroed for the static analyzer, which does not know that accept4
	// fills it in.
	struct sockaddr_storage peer = { 0 };
	socklen_t plen;
	int i, cfd;

	(void)what;
	// A session that fails at once drops its reference: keep fe alive
	// until the loop is done with it.
	pvx_frontend_ref(fe);
	for (i = 0; i < ACCEPT_BATCH && fe->listening; i++) {
		if (fe->maxconn &&
		    fe->stats.sessions_now >= (uint32_t)fe->maxconn) {
			// Further clients wait in the backlog, not dropped.
			pause_accept(fe);
			break;
		}
		if (fe->x->maxconn && fe->x->nsessions >= fe->x->maxconn) {
			// The global cap: the same, for every frontend.
			if (!fe->x->cap_logged)
				pv_log(WARN,
				       "%d sessions: at --maxconn, new clients "
				       "wait in the backlog",
				       fe->x->nsessions);
			fe->x->cap_logged = 1;
			pause_accept(fe);
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
			pvx_frontend_backoff(fe, "accept");
			break;
		}
		if (fe->nallow && !pvx_cidr_match(fe->allow, fe->nallow,
						  (struct sockaddr *)&peer)) {
			// Not on the rule's allow list: closed before a
			// byte is read or a backend dialled.
			fe->stats.denied++;
			if (fe->x->verbose) {
				char a[PV_ADDR_STRLEN];

				pv_log(DEBUG, "link %s: %s not allowed",
				       fe->label,
				       pv_addr_format((struct sockaddr *)&peer,
						      a, sizeof(a)));
			}
			close(cfd);
			continue;
		}
		pvx_session_start(fe, cfd, (struct sockaddr *)&peer, plen);
	}
	pvx_frontend_unref(fe);
}

void pvx_frontend_resume_all(struct pvx *x)
{
	struct pvx_frontend *fe;

	dl_list_for_each (fe, &x->frontends, struct pvx_frontend, list)
		pvx_frontend_resume(fe);
}

// Timer: retries a failed bind, or ends an accept pause.
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_frontend *fe = arg;

	(void)fd;
	(void)what;
	if (fe->closed)
		return;
	if (!fe->listening)
		start_listening(fe);
	else
		pvx_frontend_resume(fe);
}

// The listen step of a Unix listener: the socket at fe->target inside
// the consumer's root. Returns the fd, or -1 (said once until it works).
static int listen_unix(struct pvx_frontend *fe)
{
	struct pvx_rootsock *rs = calloc(1, sizeof(*rs));
	int fd = -1;

	if (!rs)
		snprintf(fe->listen_why, sizeof(fe->listen_why), "%s",
			 strerror(errno));
	else
		fd = pvx_rootbind_listen_pid(fe->netns_pid, fe->target, rs,
					     fe->listen_why,
					     sizeof(fe->listen_why));
	if (fd == -1) {
		free(rs);
		if (!fe->bind_failed)
			pv_log(ERROR,
			       "link %s: socket %s in the root of pid %d: %s, "
			       "retrying every %d ms",
			       fe->label, fe->target, fe->netns_pid,
			       fe->listen_why, PVX_BIND_RETRY_MS);
		return -1;
	}
	fe->rootsock = rs;
	fe->listen_why[0] = 0;
	return fd;
}

// Binds the listener; on failure logs once and retries on a timer.
static void start_listening(struct pvx_frontend *fe)
{
	const char *what = "";
	int fd;

	if (fe->listening || fe->closed || fe->netns_pid < 0)
		return;
	if (fe->unix_path)
		fd = listen_unix(fe);
	else
		fd = pvx_listen(fe->x, (struct sockaddr *)&fe->addr,
				fe->addr_len, fe->netns_pid, &what);
	if (fd == -1 && fe->unix_path) {
		fe->bind_failed = 1;
		timer_in(fe, PVX_BIND_RETRY_MS, "bind retry");
		return;
	}
	if (fd == -1) {
		if (!fe->bind_failed)
			pv_log(ERROR,
			       "link %s: listen on %s%s%.0d: %s: %s, retrying "
			       "every %d ms",
			       fe->label, fe->target,
			       fe->netns_pid ? " in netns of pid " : "",
			       fe->netns_pid, what, strerror(errno),
			       PVX_BIND_RETRY_MS);
		fe->bind_failed = 1;
		timer_in(fe, PVX_BIND_RETRY_MS, "bind retry");
		return;
	}
	fe->fd = fd;
	event_assign(&fe->ev_accept, fe->x->base, fd, EV_READ | EV_PERSIST,
		     on_accept, fe);
	fe->listening = 1;
	fe->paused = 1;
	pvx_frontend_resume(fe);
	if (fe->unix_path)
		pv_log(INFO, "link %s: listening on %s in the root of pid %d",
		       fe->label, fe->target, fe->netns_pid);
	else
		pv_log(INFO, "link %s: listening on %s%s%.0d", fe->label,
		       fe->target, fe->netns_pid ? " in netns of pid " : "",
		       fe->netns_pid);
	fe->bind_failed = 0;
}

// Closes the listening socket: the port is free from now on.
static void stop_listening(struct pvx_frontend *fe)
{
	evtimer_del(&fe->ev_timer);
	if (!fe->listening)
		return;
	event_del(&fe->ev_accept);
	close(fe->fd);
	fe->fd = -1;
	fe->listening = 0;
	fe->paused = 0;
	// The socket file goes with its listener (if it is still ours).
	pvx_rootbind_release(fe->rootsock);
	free(fe->rootsock);
	fe->rootsock = NULL;
	pv_log(INFO, "link %s: stopped listening on %s", fe->label, fe->target);
}

// pvx_frontend_get and pvx_frontend_get_unix (unix_path: target is a path).
static struct pvx_frontend *frontend_get(struct pvx *x, const char *key,
					 const char *label,
					 const char *consumer,
					 const char *target, int netns_pid,
					 int unix_path)
{
	struct pvx_frontend *fe;

	dl_list_for_each (fe, &x->frontends, struct pvx_frontend, list) {
		if (!fe->closed && !strcmp(fe->key, key)) {
			pvx_frontend_ref(fe);
			return fe;
		}
	}
	fe = calloc(1, sizeof(*fe));
	if (!fe) {
		pv_log(ERROR, "link %s: %s", label, strerror(errno));
		return NULL;
	}
	fe->refs = 1;
	fe->x = x;
	fe->fd = -1;
	fe->netns_pid = netns_pid;
	fe->unix_path = unix_path;
	dl_list_init(&fe->backends);
	fe->key = strdup(key);
	fe->label = strdup(label);
	fe->target = strdup(target);
	fe->consumer = consumer ? strdup(consumer) : NULL;
	if (!fe->key || !fe->label || !fe->target ||
	    (consumer && !fe->consumer) ||
	    (!unix_path && pv_addr_parse(target, &fe->addr, &fe->addr_len))) {
		pv_log(ERROR, "link %s: cannot set up a listener on %s", label,
		       target);
		free(fe->key);
		free(fe->label);
		free(fe->consumer);
		free(fe->target);
		free(fe);
		return NULL;
	}
	evtimer_assign(&fe->ev_timer, x->base, on_timer, fe);
	dl_list_add_tail(&x->frontends, &fe->list);
	start_listening(fe);
	return fe;
}

struct pvx_frontend *pvx_frontend_get(struct pvx *x, const char *key,
				      const char *label, const char *consumer,
				      const char *target, int netns_pid)
{
	return frontend_get(x, key, label, consumer, target, netns_pid, 0);
}

struct pvx_frontend *pvx_frontend_get_unix(struct pvx *x, const char *key,
					   const char *label,
					   const char *consumer,
					   const char *target, int pid)
{
	return frontend_get(x, key, label, consumer, target, pid, 1);
}

void pvx_frontend_ref(struct pvx_frontend *fe)
{
	fe->refs++;
}

void pvx_frontend_unref(struct pvx_frontend *fe)
{
	if (!fe || --fe->refs > 0)
		return;
	stop_listening(fe);
	dl_list_del(&fe->list);
	free(fe->key);
	free(fe->label);
	free(fe->consumer);
	free(fe->target);
	free(fe->allow);
	free(fe);
}

void pvx_frontend_check_empty(struct pvx_frontend *fe)
{
	if (!dl_list_empty(&fe->backends) || fe->closed)
		return;
	fe->closed = 1;
	stop_listening(fe);
}

// The n-th backend of the pool, counting from 0 and wrapping.
static struct pvx_backend *nth(struct pvx_frontend *fe, unsigned int n)
{
	struct pvx_backend *b;

	dl_list_for_each (b, &fe->backends, struct pvx_backend, list) {
		if (n-- == 0)
			return b;
	}
	return NULL;
}

// A hash of the client's address (not its port), for "source".
static unsigned int peer_hash(const struct sockaddr *peer)
{
	const unsigned char *p;
	unsigned int h = 2166136261u;
	size_t n, i;

	if (!peer)
		return 0;
	if (peer->sa_family == AF_INET) {
		p = (const void *)&((const struct sockaddr_in *)peer)->sin_addr;
		n = 4;
	} else if (peer->sa_family == AF_INET6) {
		p = (const void *)&((const struct sockaddr_in6 *)peer)
			    ->sin6_addr;
		n = 16;
	} else {
		return 0;
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

// 1 when b may take a new client in this pass: pass 0 passes over the
// backends whose last connect failed a moment ago, pass 1 (when pass 0
// found none) takes them too.
static int candidate(const struct pvx_backend *b,
		     const struct pvx_backend *skip, int pass)
{
	return b != skip && pvx_backend_usable(b) &&
	       (pass || !pvx_backend_suspect(b));
}

struct pvx_backend *pvx_frontend_pick(struct pvx_frontend *fe,
				      const struct sockaddr *peer,
				      const struct pvx_backend *skip)
{
	unsigned int count = dl_list_len(&fe->backends), start, i;
	struct pvx_backend *b, *best = NULL;
	int pass;

	if (!count)
		return NULL;
	switch (fe->balance) {
	case PVX_BALANCE_LEASTCONN:
		// Ties go round: the scan starts one further each time (as
		// HAProxy's leastconn, so short sessions use every backend).
		start = fe->rr++ % count;
		for (pass = 0; pass < 2 && !best; pass++) {
			for (i = 0; i < count; i++) {
				b = nth(fe, (start + i) % count);
				if (!b || !candidate(b, skip, pass))
					continue;
				if (!best || b->stats.sessions_now <
						     best->stats.sessions_now)
					best = b;
			}
		}
		return best;
	case PVX_BALANCE_FIRST:
		start = 0;
		break;
	case PVX_BALANCE_SOURCE:
		start = peer_hash(peer) % count;
		break;
	case PVX_BALANCE_ROUNDROBIN:
	default:
		start = fe->rr++ % count;
		break;
	}
	// From start on, the first backend that can take the client.
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < count; i++) {
			b = nth(fe, (start + i) % count);
			if (b && candidate(b, skip, pass))
				return b;
		}
	}
	return NULL;
}
