// Sessions: an accepted client, the connect to a backend of its frontend
// (with the next backend tried when one fails, before any byte moved),
// then the tunnel. pvx_session_close is the only way a session ends.

#define MODULE_NAME "session"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "utils/addr.h"
#include "utils/timer.h"
#include "backend.h"
#include "datapath.h"
#include "defs.h"
#include "frontend.h"
#include "obj.h"
#include "proxy-t.h"
#include "proxyproto.h"
#include "session.h"
#include "tunnel.h"

// How soon a connect to a Unix backend with a full backlog is tried again.
#define UNIX_AGAIN_MS 5

static void try_connect(struct pvx_session *s);

// The client, for verbose logs.
static const char *peer_str(const struct pvx_session *s, char *buf, size_t n)
{
	if (s->peer.ss_family == AF_INET || s->peer.ss_family == AF_INET6)
		return pv_addr_format((const struct sockaddr *)&s->peer, buf,
				      n);
	snprintf(buf, n, "client");
	return buf;
}

// Leaves the backend the session was tried on or connected to.
static void detach(struct pvx_session *s)
{
	struct pvx_backend *b = s->be;

	if (!b)
		return;
	pvx_backend_session_del(b, &s->list);
	s->be = NULL;
	pvx_backend_unref(b);
}

static void attach(struct pvx_session *s, struct pvx_backend *b)
{
	pvx_backend_ref(b);
	s->be = b;
	pvx_backend_session_add(b, &s->list);
}

void pvx_session_close(struct pvx_session *s, const char *why)
{
	struct pvx_frontend *fe;
	char peer[PV_ADDR_STRLEN];
	uint64_t in, out;

	PVX_CHECK_OBJ_NOTNULL(s, PVX_SESSION_MAGIC);
	fe = s->fe;
	// The kernel path's share included: read before the tunnel ends.
	pvx_dp_tunnel_bytes(&s->tun, &in, &out);
	if (fe->x->verbose)
		pv_log(DEBUG, "link %s: %s: %s (%llu bytes in, %llu out)",
		       s->be ? s->be->label : fe->label,
		       peer_str(s, peer, sizeof(peer)), why,
		       (unsigned long long)in, (unsigned long long)out);
	if (s->cfd != -1)
		close(s->cfd);
	pvx_tunnel_fini(&s->tun);
	if (s->be)
		pvx_backend_count_bytes(s->be, in, out);
	pvx_frontend_session_end(fe, in, out);
	detach(s);
	dl_list_del(&s->all);
	fe->x->nsessions--;
	if (fe->x->maxconn && fe->x->nsessions + 1 >= fe->x->maxconn) {
		// It was at the global cap: every frontend may accept again.
		pvx_frontend_resume_all(fe->x);
	}
	// Said again only after a real relief, not at every session that
	// ends while clients queue.
	if (fe->x->nsessions <= fe->x->maxconn / 2)
		fe->x->cap_logged = 0;
	pvx_frontend_resume(fe);
	// Pipes kept for bulk flows are fds: none stays open without users.
	if (!fe->x->nsessions)
		pvx_pipe_trim(fe->x);
	s->magic = 0;
	free(s);
	pvx_frontend_unref(fe);
}

static void on_tunnel_done(struct pvx_tunnel *t, void *arg)
{
	struct pvx_session *s = arg;

	PVX_CHECK_OBJ_NOTNULL(s, PVX_SESSION_MAGIC);
	pvx_session_close(s, t->idle_expired ? "idle timeout" : "closed");
}

// Tells the backend who the client is, before any of the client's bytes:
// the PROXY protocol header. A new connection always has room for it.
static int send_proxy_header(struct pvx_session *s, int cfd, int bfd)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	char hdr[128];
	int n;

	if (getsockname(cfd, (struct sockaddr *)&local, &len) == -1)
		return -1;
	n = pvx_proxy_header(s->fe->proxy_protocol, (struct sockaddr *)&s->peer,
			     (struct sockaddr *)&local, hdr, sizeof(hdr));
	if (n < 0)
		return -1;
	return send(bfd, hdr, n, MSG_NOSIGNAL) == n ? 0 : -1;
}

// The connect succeeded: from now on the tunnel owns both sockets.
static void established(struct pvx_session *s)
{
	struct pvx_backend *b = s->be;
	char peer[PV_ADDR_STRLEN], to[PV_ADDR_STRLEN + 256];
	int cfd = s->cfd;

	s->state = PVX_SESSION_ESTABLISHED;
	pvx_backend_connected(b, 1);
	pvx_frontend_session_through(s->fe, b->label);
	if (s->fe->x->verbose)
		pv_log(DEBUG, "link %s: %s connected to %s", b->label,
		       peer_str(s, peer, sizeof(peer)),
		       pvx_backend_describe(b, to, sizeof(to)));
	if (s->fe->proxy_protocol && send_proxy_header(s, cfd, s->tun.b.fd)) {
		pvx_session_close(s, "cannot send the PROXY header");
		return;
	}
	// The tunnel may end (and free s) before this returns.
	s->cfd = -1;
	if (pvx_tunnel_join(&s->tun, cfd, b->idle_ms))
		pvx_session_close(s, "cannot start the tunnel");
}

// The attempt on s->be failed: log it, then try the next backend.
static void attempt_failed(struct pvx_session *s, int err, const char *reason)
{
	struct pvx_backend *b = s->be;
	char to[PV_ADDR_STRLEN + 256];

	evtimer_del(&s->tun.ev_timer);
	pvx_tunnel_drop_b(&s->tun);
	pv_log(WARN, "link %s: connect to %s failed: %s", b->label,
	       pvx_backend_describe(b, to, sizeof(to)),
	       reason ? reason : strerror(err));
	pvx_backend_count_connect_error(b);
	pvx_frontend_count_connect_error(s->fe);
	pvx_backend_connected(b, 0);
	pvx_frontend_tried_mark(s->fe, &s->tried, b);
	pvx_backend_ref(b);
	detach(s);
	try_connect(s);
	pvx_backend_unref(b);
}

// The session's deadline for the current backend has passed.
static int past_deadline(struct pvx_session *s)
{
	struct timeval now;

	pvx_now(&now);
	return !timercmp(&now, &s->deadline, <);
}

static void on_timer(evutil_socket_t fd, short what, void *arg);

// Runs the session's timer in ms: the connect's deadline, or the end of a
// pause before the connect is tried again. Without it a connect that
// never completes, or the pause, would hold the client for ever: when it
// cannot be armed the session ends (s is freed).
static void arm(struct pvx_session *s, int ms)
{
	evtimer_del(&s->tun.ev_timer);
	evtimer_assign(&s->tun.ev_timer, s->fe->x->base, on_timer, s);
	if (!pv_timer_arm(&s->tun.ev_timer, ms))
		return;
	pv_log(ERROR,
	       "link %s: cannot arm a session's connect timer, closing "
	       "the client",
	       s->be->label);
	pvx_session_close(s, "cannot arm its connect timer");
}

// Starts (or restarts, after EAGAIN) the connect to s->be.
static void connect_be(struct pvx_session *s)
{
	struct timeval now, left;
	const char *reason;
	int again, ms, fd, unix_done;

	fd = pvx_backend_connect(s->be, &again, &reason);
	if (fd != -1) {
		// A Unix socket connects at once or not at all (EAGAIN):
		// the bytes can move now. A TCP one is watched from now on
		// for the connection's whole life; its first edge says the
		// connect is over (on_connected).
		unix_done = s->be->tp->connects_at_once;
		if (pvx_tunnel_set_b(&s->tun, fd, !unix_done, unix_done)) {
			attempt_failed(s, errno, "cannot watch the socket");
			return;
		}
		if (unix_done) {
			established(s);
			return;
		}
		pvx_now(&now);
		timersub(&s->deadline, &now, &left);
		ms = left.tv_sec * 1000 + left.tv_usec / 1000;
		arm(s, ms > 0 ? ms : 1);
		return;
	}
	// With a reason, errno is left over from some earlier call.
	if (!again && !reason && (errno == EMFILE || errno == ENFILE) &&
	    !past_deadline(s)) {
		// Out of fds: this client waits (as those in the backlog do)
		// until some are free, or its connect timeout.
		pvx_frontend_backoff(s->fe, "connect");
		arm(s, PVX_ACCEPT_PAUSE_MS);
		return;
	}
	if (again && !past_deadline(s)) {
		arm(s, UNIX_AGAIN_MS);
		return;
	}
	attempt_failed(s, again ? ETIMEDOUT : errno, reason);
}

// The session's timer: the connect took too long, or a pause is over.
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_session *s = arg;

	PVX_CHECK_OBJ_NOTNULL(s, PVX_SESSION_MAGIC);
	(void)fd;
	(void)what;
	if (s->tun.b.fd != -1)
		attempt_failed(s, ETIMEDOUT, NULL);
	else
		connect_be(s);
}

// The backend socket's first edge: the connect is over, one way or the
// other. Only an edge that says "readable" (as an error does) needs the
// socket asked which; "writable" alone is a connection.
static void on_connected(struct pvx_tunnel *t, void *arg)
{
	struct pvx_session *s = arg;
	socklen_t len = sizeof(int);
	int err = 0;

	PVX_CHECK_OBJ_NOTNULL(s, PVX_SESSION_MAGIC);
	evtimer_del(&t->ev_timer);
	if ((t->b.readable || !t->b.writable) &&
	    getsockopt(t->b.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err) {
		attempt_failed(s, err, NULL);
		return;
	}
	established(s);
}

// Picks a backend (one the session has not tried) and connects to it;
// with none left, the client is closed at once.
static void try_connect(struct pvx_session *s)
{
	struct pvx_frontend *fe = s->fe;
	struct pvx_backend *b;
	struct timeval now, tv;
	unsigned int pool = pvx_frontend_pool_size(fe);

	if (s->attempts >= (int)(pool ? pool : 1)) {
		pvx_session_close(s, "no backend could be reached");
		return;
	}
	b = pvx_frontend_pick(fe, (struct sockaddr *)&s->peer, &s->tried);
	if (!b) {
		pvx_frontend_no_backend(fe);
		pvx_session_close(s, "no backend available");
		return;
	}
	if (s->attempts > 0) {
		pvx_backend_count_retry(b);
		pvx_frontend_count_retry(fe);
	}
	s->attempts++;
	attach(s, b);
	pvx_now(&now);
	tv.tv_sec = b->connect_ms / 1000;
	tv.tv_usec = (b->connect_ms % 1000) * 1000;
	timeradd(&now, &tv, &s->deadline);
	connect_be(s);
}

int pvx_session_start(struct pvx_frontend *fe, int cfd,
		      const struct sockaddr *peer, socklen_t peer_len)
{
	struct pvx_session *s;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	s = calloc(1, sizeof(*s));
	if (!s) {
		pv_log(ERROR, "link %s: session: %s", fe->label,
		       strerror(errno));
		close(cfd);
		return -1;
	}
	s->magic = PVX_SESSION_MAGIC;
	pvx_frontend_ref(fe);
	s->fe = fe;
	s->cfd = cfd;
	pvx_tunnel_init(&s->tun, fe->x, on_tunnel_done, on_connected, s);
	dl_list_init(&s->list);
	dl_list_add_tail(&fe->x->sessions, &s->all);
	fe->x->nsessions++;
	if (peer_len <= sizeof(s->peer))
		memcpy(&s->peer, peer, peer_len);
	pvx_frontend_session_begin(fe);
	// TCP_NODELAY: inherited from the listener.
	try_connect(s);
	return 0;
}
