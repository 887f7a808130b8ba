// The graph from pv-ctrl: an HTTP/1.0 GET over a Unix socket, read on
// the event loop until the server closes, however many pieces the answer
// comes in, then checked against its Content-Length.

#define MODULE_NAME "fetch"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event_struct.h>

#include "log.h"
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

// Finds the end of the header block: returns the offset of the body.
static size_t header_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

// The value of header name in the block hdr..end, or NULL; *vlen set.
static const char *header_value(const char *hdr, const char *end,
				const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *line = hdr, *eol, *v;

	while (line < end) {
		eol = memchr(line, '\n', end - line);
		if (!eol)
			eol = end;
		if ((size_t)(eol - line) > nlen && line[nlen] == ':' &&
		    !strncasecmp(line, name, nlen)) {
			v = line + nlen + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen = eol - v;
			while (*vlen &&
			       (v[*vlen - 1] == '\r' || v[*vlen - 1] == ' ' ||
				v[*vlen - 1] == '\t'))
				(*vlen)--;
			return v;
		}
		line = eol + 1;
	}
	return NULL;
}

int pvx_http_body(const char *buf, size_t len, const char **body,
		  size_t *body_len, const char **reason)
{
	size_t hlen, vlen, i;
	unsigned long long cl = 0;
	const char *v;

	if (len < 12 || memcmp(buf, "HTTP/1.", 7) || buf[8] != ' ') {
		*reason = "not an HTTP/1.x response";
		return -1;
	}
	hlen = header_end(buf, len);
	if (!hlen) {
		*reason = "response ends inside its headers";
		return -1;
	}
	if (memcmp(buf + 9, "200", 3) ||
	    (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')) {
		*reason = "HTTP status is not 200";
		return -1;
	}
	v = header_value(buf, buf + hlen, "Transfer-Encoding", &vlen);
	if (v && !(vlen == 8 && !strncasecmp(v, "identity", 8))) {
		*reason = "transfer encoding not supported (HTTP/1.0 expected)";
		return -1;
	}
	*body = buf + hlen;
	*body_len = len - hlen;
	v = header_value(buf, buf + hlen, "Content-Length", &vlen);
	if (!v)
		return 0;
	if (vlen == 0 || vlen > 15) {
		*reason = "bad Content-Length";
		return -1;
	}
	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9') {
			*reason = "bad Content-Length";
			return -1;
		}
		cl = cl * 10 + (v[i] - '0');
	}
	if (cl > *body_len) {
		*reason = "response shorter than its Content-Length";
		return -1;
	}
	*body_len = cl;
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
