/*
 * pv-ctrl: a small, strict HTTP/1.0 and HTTP/1.1 server on a Unix socket.
 *
 * Why not libevent's evhttp: the contract wants a JSON body
 * {"error":"..."} on every error, and a 408 for a client that is too slow.
 * evhttp in libevent 2.1 answers its own parser errors and its size limits
 * (400, 413) with a fixed HTML body that the application cannot replace
 * (evhttp_set_errorcb only arrived in 2.2), and on a read timeout it just
 * closes the connection without any answer. Working around that would mean
 * patching libevent. The subset of HTTP that pv-ctrl needs is small:
 * a request line, header lines, a Content-Length body, keep-alive. So this
 * file parses exactly that, line by line from a bufferevent, with hard
 * limits on the head (bytes and lines), on the body and on the time a
 * request may take, and refuses anything else (chunked bodies, obsolete
 * line folding, bare CR, NUL bytes, duplicate Content-Length) with a JSON
 * error, as the RFC 9112 recommends for a server that does not implement
 * a feature. Every connection is its own bufferevent on one event loop, so
 * a slow or broken client only ever costs its own buffers and a timer.
 */
#define MODULE_NAME "ctrl"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "ctrl/ctrl.h"
#include "ctrl/ctrl_http.h"
#include "log.h"
#include "utils/http1.h"
#include "utils/timer.h"
#include "utils/json.h"
#include "utils/list.h"

// After a response that ends the connection, we stop writing and keep
// reading (and discarding) for a moment, so that a client still sending
// its oversized request reads our answer instead of a reset.
#define LINGER_MS	 2000
#define LINGER_MAX_BYTES (4 * 1024 * 1024)
// Output above this stops reading further pipelined requests until the
// client has read what we already answered.
#define OUTPUT_HIGH (256 * 1024)
// Accept is retried after this long when the process is out of fds.
#define ACCEPT_RETRY_MS 100

static const struct pv_ctrl_endpoint endpoints[] = {
	{ "GET", "/xconnect-graph", pv_ctrl_xconnect_graph_get },
	{ "GET", "/containers", pv_ctrl_containers_get },
	{ "GET", "/containers/", pv_ctrl_container_get },
	{ "PUT", "/containers/", pv_ctrl_container_put },
	{ "GET", "/daemons", pv_ctrl_daemons_get },
	{ "PUT", "/daemons/pv-xconnect", pv_ctrl_daemons_put },
	{ "GET", "/xconnect-status", pv_ctrl_xconnect_status_get },
	{ "PUT", "/xconnect-status", pv_ctrl_xconnect_status_put },
	{ "GET", "/metrics", pv_ctrl_metrics_get },
	{ "PUT", "/metrics", pv_ctrl_metrics_put },
};

struct pv_ctrl {
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *accept_retry;
	char *path;
	dev_t dev; // of the socket we bound, to unlink only our own
	ino_t ino;
	void *ctx;
	int nconns;
	struct dl_list conns; // ctrl_conn
};

enum conn_state {
	CONN_HEAD,   // reading the request line and headers
	CONN_BODY,   // reading Content-Length bytes
	CONN_PAUSED, // keep-alive, waiting for the client to read answers
	CONN_LINGER, // answered and closing: discard input until EOF
};

struct ctrl_conn {
	struct pv_ctrl *ctrl;
	struct bufferevent *bev;
	struct event *timer; // request deadline, idle or linger timeout
	enum conn_state state;
	int started; // bytes of the current request have arrived
	int served;  // requests answered on this connection
	int shut;    // our write side is shut down (lingering)
	size_t lingered;
	struct pv_ctrl_http_head head; // the current request
	struct dl_list list;	       // in pv_ctrl.conns
};

void pv_ctrl_error(struct pv_ctrl_response *resp, int status, const char *fmt,
		   ...)
{
	struct pv_json_ser js;
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	pv_json_ser_init(&js);
	pv_json_ser_object_begin(&js);
	pv_json_ser_key(&js, "error");
	pv_json_ser_string(&js, n < 0 ? "out of memory" : msg);
	pv_json_ser_object_end(&js);
	free(msg);
	free(resp->body);
	resp->status = status;
	resp->content_type = NULL;
	resp->body = pv_json_ser_finish(&js, NULL);
}

void pv_ctrl_json(struct pv_ctrl_response *resp, int status, char *json)
{
	free(resp->body);
	resp->body = NULL;
	if (!json) {
		pv_ctrl_error(resp, 500, "out of memory");
		return;
	}
	resp->status = status;
	resp->content_type = NULL;
	resp->body = json;
}

// Ends a connection: the one teardown path, from any state.
static void conn_free(struct ctrl_conn *c)
{
	if (!c)
		return;
	dl_list_del(&c->list);
	c->ctrl->nconns--;
	if (c->timer)
		event_free(c->timer);
	bufferevent_free(c->bev);
	pv_ctrl_http_reset(&c->head);
	free(c);
}

// Arms the connection's single timer for ms milliseconds. A connection
// without its deadline could hold its buffers for ever: it is closed
// (freed) instead, and -1 returned; 0 otherwise.
static int conn_arm(struct ctrl_conn *c, int ms)
{
	if (pv_timer_arm(c->timer, ms) == 0)
		return 0;
	pv_log(ERROR,
	       "pv-ctrl %s: a client connection's deadline cannot be armed; "
	       "closing it",
	       c->ctrl->path);
	conn_free(c);
	return -1;
}

// Forgets the current request; the next one starts from scratch.
static void conn_reset_request(struct ctrl_conn *c)
{
	c->state = CONN_HEAD;
	c->started = 0;
	pv_ctrl_http_reset(&c->head);
}

// Queues one complete response. Content-Length is always sent; JSON
// bodies end with a newline so `nc ... | tail -1` yields the body. With
// close set, the connection lingers and ends once the answer is out.
static void conn_send(struct ctrl_conn *c, int status, const char *ctype,
		      const char *body, const char *extra, int close)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len = body ? strlen(body) : 0;
	int json = !ctype, nl = len && json && body[len - 1] != '\n';

	evbuffer_add_printf(out,
			    "HTTP/1.%d %d %s\r\n"
			    "Content-Type: %s\r\n"
			    "Content-Length: %zu\r\n"
			    "Cache-Control: no-store\r\n"
			    "%s"
			    "Connection: %s\r\n\r\n",
			    c->head.minor == 0 ? 0 : 1, status,
			    pv_http1_reason(status),
			    json ? "application/json" : ctype, len + nl,
			    extra ? extra : "", close ? "close" : "keep-alive");
	if (len)
		evbuffer_add(out, body, len);
	if (nl)
		evbuffer_add(out, "\n", 1);
	c->served++;
	if (close) {
		c->state = CONN_LINGER;
		event_del(c->timer);
	}
}

// Answers with {"error": msg} and closes: used for requests we cannot
// parse, so nothing after them on the connection can be trusted.
static void conn_fail(struct ctrl_conn *c, int status, const char *msg)
{
	struct pv_ctrl_response resp = { 0 };

	pv_log(DEBUG, "request refused: %d %s", status, msg);
	pv_ctrl_error(&resp, status, "%s", msg);
	conn_send(c, status, NULL,
		  resp.body ? resp.body : "{\"error\":\"out of memory\"}", NULL,
		  1);
	free(resp.body);
}

// 1 if path is the endpoint's: the same, or for an endpoint ending in '/'
// ("/containers/") that prefix and one more non-empty segment.
static int path_matches(const char *ep, const char *path)
{
	size_t n = strlen(ep);

	if (!n || ep[n - 1] != '/')
		return !strcmp(ep, path);
	return !strncmp(ep, path, n) && path[n] && !strchr(path + n, '/');
}

// Finds the endpoint for the request and runs it.
static void conn_dispatch(struct ctrl_conn *c, const char *body, size_t len)
{
	struct pv_ctrl_response resp = { .status = 500 };
	struct pv_ctrl_request req = { .method = c->head.method,
				       .body = body,
				       .body_len = len };
	const struct pv_ctrl_endpoint *ep = NULL;
	char allow[128] = "", extra[160] = "";
	char *q;
	size_t i;

	q = strchr(c->head.target, '?');
	if (q) {
		*q = '\0';
		req.query = q + 1;
	}
	req.path = c->head.target;
	for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		if (!path_matches(endpoints[i].path, req.path))
			continue;
		if (!strcmp(endpoints[i].method, req.method))
			ep = &endpoints[i];
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow),
			 "%s%s", allow[0] ? ", " : "", endpoints[i].method);
	}
	if (ep) {
		ep->handler(c->ctrl->ctx, &req, &resp);
		if (!resp.body && resp.status >= 400)
			pv_ctrl_error(&resp, resp.status, "%s",
				      pv_http1_reason(resp.status));
	} else if (allow[0]) {
		pv_ctrl_error(&resp, 405, "method %s not allowed on %s",
			      req.method, req.path);
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
	} else {
		pv_ctrl_error(&resp, 404, "no such endpoint: %s", req.path);
	}
	pv_log(DEBUG, "%s %s -> %d", req.method, req.path, resp.status);
	conn_send(c, resp.status, resp.content_type, resp.body,
		  extra[0] ? extra : NULL, !c->head.keep_alive);
	free(resp.body);
}

// Parses the request head from the input. Returns 1 when it is complete,
// 0 when more input is needed, -1 after answering.
static int read_head(struct ctrl_conn *c, struct evbuffer *in)
{
	size_t avail = evbuffer_get_length(in), used = 0, n;
	unsigned char *p;
	int r;

	// The parser needs at most what may still belong to the head, plus
	// one byte to see that it is too long.
	n = PV_CTRL_MAX_HEAD + 1 - c->head.head_bytes;
	if (n > avail)
		n = avail;
	p = evbuffer_pullup(in, n);
	if (!p) {
		conn_fail(c, 500, "out of memory");
		return -1;
	}
	r = pv_ctrl_http_parse(&c->head, (const char *)p, n, &used);
	evbuffer_drain(in, used);
	if (r == PV_CTRL_HTTP_MORE)
		return 0;
	if (r != PV_CTRL_HTTP_DONE) {
		conn_fail(c, r, c->head.error);
		return -1;
	}
	c->state = CONN_BODY;
	if (c->head.expect_continue && c->head.minor == 1 &&
	    c->head.content_length > 0 && evbuffer_get_length(in) == 0)
		evbuffer_add_printf(bufferevent_get_output(c->bev),
				    "HTTP/1.1 100 Continue\r\n\r\n");
	return 1;
}

// Parses and answers as many requests as the input holds.
static void conn_process(struct ctrl_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len;
	char *body;
	int r;

	for (;;) {
		switch (c->state) {
		case CONN_LINGER:
			len = evbuffer_get_length(in);
			c->lingered += len;
			evbuffer_drain(in, len);
			if (c->lingered > LINGER_MAX_BYTES)
				conn_free(c);
			return;
		case CONN_PAUSED:
			return;
		case CONN_HEAD:
			if (!evbuffer_get_length(in))
				return;
			if (!c->started) {
				c->started = 1;
				if (conn_arm(c, PV_CTRL_REQUEST_MS))
					return;
			}
			r = read_head(c, in);
			if (r == 0)
				return;
			break;
		case CONN_BODY:
			if (evbuffer_get_length(in) <
			    (size_t)c->head.content_length)
				return;
			len = c->head.content_length;
			body = malloc(len + 1);
			if (!body) {
				pv_log(ERROR, "request body: %s",
				       strerror(errno));
				conn_fail(c, 500, "out of memory");
				break;
			}
			evbuffer_remove(in, body, len);
			body[len] = '\0';
			conn_dispatch(c, body, len);
			free(body);
			if (c->state == CONN_LINGER)
				break;
			conn_reset_request(c);
			if (conn_arm(c, PV_CTRL_IDLE_MS))
				return;
			if (evbuffer_get_length(bufferevent_get_output(
				    c->bev)) > OUTPUT_HIGH) {
				c->state = CONN_PAUSED;
				return;
			}
			break;
		}
	}
}

// New input: parse and answer what is complete.
static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_process(arg);
}

// The output drained: resume a paused client or finish a closing one.
static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctrl_conn *c = arg;

	if (c->state == CONN_PAUSED) {
		c->state = CONN_HEAD;
		conn_process(c);
		return;
	}
	if (c->state == CONN_LINGER && !c->shut) {
		// Everything is out: tell the client we are done, then wait
		// briefly for its EOF so unread input does not reset the
		// connection under our answer.
		shutdown(bufferevent_getfd(bev), SHUT_WR);
		c->shut = 1;
		(void)conn_arm(c, LINGER_MS); // freed when it fails
	}
}

// EOF, error or write timeout on a connection.
static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctrl_conn *c = arg;

	if ((what & BEV_EVENT_EOF) && !c->shut &&
	    evbuffer_get_length(bufferevent_get_output(bev))) {
		// The client half-closed after its request (nc -N): still
		// deliver the answer, then close.
		c->state = CONN_LINGER;
		event_del(c->timer);
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_ERROR)
		pv_log(DEBUG, "client connection: %s", strerror(errno));
	conn_free(c);
}

// The connection's deadline passed: 408 for a request in progress, a
// silent close otherwise.
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctrl_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_LINGER ||
	    (c->state == CONN_HEAD && !c->started && c->served)) {
		// Lingering done, or an idle keep-alive connection: close
		// without a word, as HTTP allows.
		conn_free(c);
		return;
	}
	if (c->state == CONN_PAUSED) {
		// The client does not read what it asked for.
		conn_free(c);
		return;
	}
	conn_fail(c, 408, "request not received in time");
}

// A new client: a bufferevent, the request deadline, and a cap on the
// number of clients (503 beyond it).
static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int socklen, void *arg)
{
	static const char busy[] =
		"HTTP/1.1 503 Service Unavailable\r\n"
		"Content-Type: application/json\r\nContent-Length: 29\r\n"
		"Connection: close\r\n\r\n{\"error\":\"too many clients\"}\n";
	struct timeval wtv = { .tv_sec = PV_CTRL_WRITE_MS / 1000 };
	struct pv_ctrl *ctrl = arg;
	struct ctrl_conn *c;

	(void)l;
	(void)sa;
	(void)socklen;
	if (ctrl->nconns >= PV_CTRL_MAX_CONNS) {
		if (send(fd, busy, sizeof(busy) - 1,
			 MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
			pv_log(DEBUG, "busy answer: %s", strerror(errno));
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		pv_log(ERROR, "client connection: %s", strerror(errno));
		close(fd);
		return;
	}
	c->ctrl = ctrl;
	c->bev = bufferevent_socket_new(ctrl->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		pv_log(ERROR, "client connection: bufferevent failed");
		close(fd);
		free(c);
		return;
	}
	c->timer = evtimer_new(ctrl->base, conn_timer_cb, c);
	dl_list_add_tail(&ctrl->conns, &c->list);
	ctrl->nconns++;
	if (!c->timer) {
		pv_log(ERROR, "client connection: timer failed");
		conn_free(c);
		return;
	}
	conn_reset_request(c);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
			  c);
	bufferevent_set_timeouts(c->bev, NULL, &wtv);
	// Input is bounded by the parser's limits, but never buffer more
	// than one maximal request ahead of it.
	bufferevent_setwatermark(c->bev, EV_READ, 0,
				 PV_CTRL_MAX_HEAD + PV_CTRL_MAX_BODY);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	(void)conn_arm(c, PV_CTRL_REQUEST_MS); // freed when it fails
}

// Accepts again after an fd shortage.
static void accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pv_ctrl *ctrl = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(ctrl->listener);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct pv_ctrl *ctrl = arg;
	int err = EVUTIL_SOCKET_ERROR();

	// Out of fds or memory: the pending connection stays in the
	// backlog and the socket stays readable, so retrying at once would
	// spin. Pause accepting instead.
	pv_log(WARN, "accept on %s: %s; pausing %d ms", ctrl->path,
	       strerror(err), ACCEPT_RETRY_MS);
	evconnlistener_disable(l);
	if (pv_timer_arm(ctrl->accept_retry, ACCEPT_RETRY_MS) == 0)
		return;
	// Paused with nothing to resume it, pv-ctrl would be deaf for good:
	// a busy accept loop is the lesser harm.
	pv_log(ERROR,
	       "accept on %s: cannot arm the retry timer; accepting "
	       "again now",
	       ctrl->path);
	evconnlistener_enable(l);
}

// mkdir -p of path's parent directory. Returns 0 or -1.
static int make_parents(const char *path)
{
	char *dir = strdup(path), *p;
	int ret = 0;

	if (!dir) {
		pv_log(ERROR, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			pv_log(ERROR, "cannot create %s: %s", dir,
			       strerror(errno));
			ret = -1;
			break;
		}
		*p = '/';
	}
	free(dir);
	return ret;
}

// Decides what to do with an existing file at the socket path: another
// live server refuses our start, a stale socket is removed. Returns 0
// when the path is free, -1 after logging why not.
static int claim_path(const struct sockaddr_un *sun, socklen_t len)
{
	const char *path = sun->sun_path;
	struct stat st;
	int fd, ret = -1;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0
				       : (pv_log(ERROR, "pv-ctrl %s: %s", path,
						 strerror(errno)),
					  -1);
	if (!S_ISSOCK(st.st_mode)) {
		pv_log(ERROR,
		       "pv-ctrl %s exists and is not a socket; refusing "
		       "to replace it",
		       path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		pv_log(ERROR, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sun, len) == 0) {
		pv_log(ERROR,
		       "another pvd is already serving pv-ctrl on %s; "
		       "stop it first or use --ctrl",
		       path);
	} else if (errno == ECONNREFUSED) {
		pv_log(INFO, "removing stale pv-ctrl socket %s", path);
		if (unlink(path) == -1 && errno != ENOENT)
			pv_log(ERROR, "cannot remove %s: %s", path,
			       strerror(errno));
		else
			ret = 0;
	} else {
		pv_log(ERROR,
		       "pv-ctrl %s: cannot tell whether it is in use: %s", path,
		       strerror(errno));
	}
	close(fd);
	return ret;
}

struct pv_ctrl *pv_ctrl_new(struct event_base *base, const char *path,
			    void *ctx)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len = offsetof(struct sockaddr_un, sun_path);
	struct pv_ctrl *ctrl;
	struct stat st;
	mode_t old;
	int fd, r;

	if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		pv_log(ERROR,
		       "pv-ctrl %s: must be an absolute path shorter than "
		       "%zu bytes",
		       path, sizeof(sun.sun_path));
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	len += strlen(path) + 1;
	if (make_parents(path) == -1 || claim_path(&sun, len) == -1)
		return NULL;

	ctrl = calloc(1, sizeof(*ctrl));
	if (!ctrl) {
		pv_log(ERROR, "pv-ctrl: %s", strerror(errno));
		return NULL;
	}
	dl_list_init(&ctrl->conns);
	ctrl->base = base;
	ctrl->ctx = ctx;
	ctrl->path = strdup(path);
	if (!ctrl->path) {
		pv_log(ERROR, "pv-ctrl: %s", strerror(errno));
		goto out_free;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		pv_log(ERROR, "pv-ctrl socket: %s", strerror(errno));
		goto out_free;
	}
	// The socket is created 0600 from the start: no window in which
	// another user could connect.
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, len);
	umask(old);
	if (r == -1) {
		pv_log(ERROR, "pv-ctrl bind %s: %s", ctrl->path,
		       strerror(errno));
		close(fd);
		goto out_free;
	}
	if (chmod(ctrl->path, 0600) == -1 || stat(ctrl->path, &st) == -1 ||
	    listen(fd, 511) == -1) {
		pv_log(ERROR, "pv-ctrl %s: %s", ctrl->path, strerror(errno));
		close(fd);
		unlink(ctrl->path);
		goto out_free;
	}
	ctrl->dev = st.st_dev;
	ctrl->ino = st.st_ino;
	ctrl->listener = evconnlistener_new(
		base, accept_cb, ctrl,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!ctrl->listener) {
		pv_log(ERROR, "pv-ctrl %s: listener failed", ctrl->path);
		close(fd);
		unlink(ctrl->path);
		goto out_free;
	}
	evconnlistener_set_error_cb(ctrl->listener, accept_error_cb);
	ctrl->accept_retry = evtimer_new(base, accept_retry_cb, ctrl);
	if (!ctrl->accept_retry) {
		pv_log(ERROR, "pv-ctrl: timer failed");
		pv_ctrl_free(ctrl);
		return NULL;
	}
	pv_log(INFO, "pv-ctrl listening on %s", path);
	return ctrl;
out_free:
	free(ctrl->path);
	free(ctrl);
	return NULL;
}

void pv_ctrl_free(struct pv_ctrl *ctrl)
{
	struct ctrl_conn *c, *n;
	struct stat st;

	if (!ctrl)
		return;
	dl_list_for_each_safe (c, n, &ctrl->conns, struct ctrl_conn, list)
		conn_free(c);
	if (ctrl->listener)
		evconnlistener_free(ctrl->listener);
	if (ctrl->accept_retry)
		event_free(ctrl->accept_retry);
	// Only remove the socket if it is still ours: a successor may have
	// replaced it.
	if (ctrl->path && lstat(ctrl->path, &st) == 0 &&
	    st.st_dev == ctrl->dev && st.st_ino == ctrl->ino &&
	    unlink(ctrl->path) == -1)
		pv_log(WARN, "cannot remove %s: %s", ctrl->path,
		       strerror(errno));
	free(ctrl->path);
	free(ctrl);
}
