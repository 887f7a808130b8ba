// The graph from pv-ctrl: an HTTP/1.0 GET over a Unix socket, read on
// the event loop until the server closes, however many pieces the answer
// comes in, then checked against its Content-Length.

#define MODULE_NAME "fetch"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event_struct.h>

#include "log.h"
#include "utils/http1.h"
#include "utils/json.h"
#include "utils/timer.h"
#include "fetch.h"

// The largest answer we take: the biggest JSON document plus headers.
#define FETCH_MAX (PV_JSON_MAX_SIZE + 64 * 1024)

struct pvx_fetch {
	int fd;
	struct event ev_io;
	struct event ev_timeout;
	char *req;
	size_t req_len, req_off;
	char *buf;
	size_t len, cap;
	pvx_fetch_cb cb;
	void *arg;
	char reason[160];
};

int pvx_http_body(const char *buf, size_t len, const char **body,
		  size_t *body_len, const char **reason)
{
	struct pv_http1_head h;
	struct pv_http1_body b;
	size_t used, d = 0, dl = 0;
	int r;

	// The project's one HTTP/1.x parser (utils/http1.c), as strict as
	// pv-ctrl's own request reader.
	pv_http1_response_init(&h, NULL, 0);
	r = pv_http1_parse(&h, buf, len, &used);
	if (r != PV_HTTP1_DONE) {
		*reason = r == PV_HTTP1_MORE
				  ? "response ends inside its headers"
				  : "not an HTTP/1.x response";
		return -1;
	}
	if (h.status != 200) {
		*reason = "HTTP status is not 200";
		return -1;
	}
	// pv-ctrl answers HTTP/1.0 with a Content-Length (or none, up to its
	// close). A transfer coding is refused: chunked would need a copy to
	// decode, any other leaves the body coded.
	if (h.has_te) {
		*reason = "transfer encoding not supported (HTTP/1.0 expected)";
		return -1;
	}
	pv_http1_body_init(&b, &h);
	r = pv_http1_body_parse(&b, buf + h.head_len, len - h.head_len, &used,
				&d, &dl);
	// The answer is whole (read until EOF): a body still short of its
	// Content-Length was cut.
	if (r != PV_HTTP1_DONE && pv_http1_body_eof(&b) != PV_HTTP1_DONE) {
		*reason = "response shorter than its Content-Length";
		return -1;
	}
	*body = buf + h.head_len + d;
	*body_len = dl;
	return 0;
}

// Frees the fetch and its socket.
static void fetch_free(struct pvx_fetch *f)
{
	if (f->fd != -1) {
		event_del(&f->ev_io);
		close(f->fd);
	}
	event_del(&f->ev_timeout);
	free(f->req);
	free(f->buf);
	free(f);
}

void pvx_fetch_cancel(struct pvx_fetch *f)
{
	if (f)
		fetch_free(f);
}

// Ends the fetch: the callback sees the body or the reason, then the
// fetch is freed.
static void finish(struct pvx_fetch *f, const char *reason)
{
	const char *body = NULL, *why = reason;
	size_t blen = 0;

	if (!reason && pvx_http_body(f->buf, f->len, &body, &blen, &why))
		body = NULL;
	if (!body)
		f->cb(NULL, 0, why, f->arg);
	else
		f->cb(body, blen, NULL, f->arg);
	fetch_free(f);
}

// Reads what the server sent; EOF completes the answer.
static int fetch_read(struct pvx_fetch *f)
{
	ssize_t n;
	char *nb;

	for (;;) {
		if (f->cap - f->len < 4096) {
			if (f->cap >= FETCH_MAX) {
				finish(f, "answer too large");
				return -1;
			}
			nb = realloc(f->buf, f->cap ? f->cap * 2 : 16384);
			if (!nb) {
				finish(f, "out of memory");
				return -1;
			}
			f->buf = nb;
			f->cap = f->cap ? f->cap * 2 : 16384;
		}
		n = read(f->fd, f->buf + f->len, f->cap - f->len - 1);
		if (n > 0) {
			f->len += n;
			continue;
		}
		if (n == 0) {
			f->buf[f->len] = '\0';
			finish(f, NULL);
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		snprintf(f->reason, sizeof(f->reason), "read: %s",
			 strerror(errno));
		finish(f, f->reason);
		return -1;
	}
}

// The socket is ready: first the request goes out (it may take several
// writes), then the answer is read.
static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_fetch *f = arg;
	ssize_t n;

	(void)what;
	if (f->req_off < f->req_len) {
		n = send(fd, f->req + f->req_off, f->req_len - f->req_off,
			 MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			snprintf(f->reason, sizeof(f->reason), "send: %s",
				 strerror(errno));
			finish(f, f->reason);
			return;
		}
		if (n > 0)
			f->req_off += n;
		if (f->req_off < f->req_len)
			return;
		// The whole request is out: now wait for the answer.
		event_del(&f->ev_io);
		event_assign(&f->ev_io, event_get_base(&f->ev_io), fd,
			     EV_READ | EV_PERSIST, on_io, f);
		// Unwatched, the answer would only ever be a timeout.
		if (event_add(&f->ev_io, NULL))
			finish(f, "cannot wait for the answer");
		return;
	}
	fetch_read(f);
}

// The whole exchange took too long.
static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg, "timed out");
}

// Sends req (taken over: freed with the fetch) to the server on the Unix
// socket sock and reads the answer until EOF, within timeout_ms.
static struct pvx_fetch *fetch_new(struct event_base *base, const char *sock,
				   char *req, size_t req_len, int timeout_ms,
				   pvx_fetch_cb cb, void *arg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pvx_fetch *f;
	int err;

	if (strlen(sock) >= sizeof(sun.sun_path)) {
		free(req);
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	f = calloc(1, sizeof(*f));
	if (!f) {
		free(req);
		return NULL;
	}
	f->cb = cb;
	f->arg = arg;
	f->fd = -1;
	f->req = req;
	f->req_len = req_len;
	evtimer_assign(&f->ev_timeout, base, on_timeout, f);
	f->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd == -1)
		goto fail;
	// A Unix connect completes at once or fails at once (EAGAIN when the
	// server's backlog is full: the next poll tries again).
	if (connect(f->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		err = errno;
		close(f->fd);
		f->fd = -1;
		errno = err;
		goto fail;
	}
	event_assign(&f->ev_io, base, f->fd, EV_WRITE | EV_PERSIST, on_io, f);
	if (event_add(&f->ev_io, NULL) ||
	    pv_timer_arm(&f->ev_timeout, timeout_ms))
		goto fail;
	return f;
fail:
	// The caller logs: at most once per failure streak, not every poll.
	err = errno;
	fetch_free(f);
	errno = err;
	return NULL;
}

struct pvx_fetch *pvx_fetch_start(struct event_base *base, const char *sock,
				  const char *path, int timeout_ms,
				  pvx_fetch_cb cb, void *arg)
{
	char *req;
	int n;

	n = asprintf(&req, "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
	if (n < 0)
		return NULL;
	return fetch_new(base, sock, req, n, timeout_ms, cb, arg);
}

struct pvx_fetch *pvx_fetch_put(struct event_base *base, const char *sock,
				const char *path, const char *content_type,
				const char *body, size_t len, int timeout_ms,
				pvx_fetch_cb cb, void *arg)
{
	char head[512];
	char *req;
	int n;

	n = snprintf(head, sizeof(head),
		     "PUT %s HTTP/1.0\r\nHost: localhost\r\n"
		     "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
		     path, content_type, len);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		errno = EINVAL;
		return NULL;
	}
	req = malloc(n + len);
	if (!req)
		return NULL;
	memcpy(req, head, n);
	memcpy(req + n, body, len);
	return fetch_new(base, sock, req, n + len, timeout_ms, cb, arg);
}
