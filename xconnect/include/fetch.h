#ifndef PV_XCONNECT_FETCH_H
#define PV_XCONNECT_FETCH_H

// The graph over pv-ctrl (fetch.c): a small HTTP/1.x client on a Unix
// socket. Knows nothing of the proxy.

#include <stddef.h>

#include <event2/event.h>

// Finds the body of a complete HTTP/1.x response in buf (read with the
// strict parser of utils/http1.c; a chunked answer is refused): status 200,
// Content-Length honoured when present (the body must be complete), else
// everything after the headers. Returns 0, or -1 with *reason set.
int pvx_http_body(const char *buf, size_t len, const char **body,
		  size_t *body_len, const char **reason);

struct pvx_fetch;

// Called once with the body (NULL and a reason on failure); the fetch is
// freed after the call returns.
typedef void (*pvx_fetch_cb)(const char *body, size_t len, const char *reason,
			     void *arg);

// GETs path from the HTTP server on the Unix socket sock, reading the
// whole answer until EOF, within timeout_ms. Returns NULL when it could
// not start (cb is then not called).
struct pvx_fetch *pvx_fetch_start(struct event_base *base, const char *sock,
				  const char *path, int timeout_ms,
				  pvx_fetch_cb cb, void *arg);

// PUTs body (len bytes of content_type) to path on the same kind of
// server; cb gets the answer's body (NULL and a reason unless status 200).
struct pvx_fetch *pvx_fetch_put(struct event_base *base, const char *sock,
				const char *path, const char *content_type,
				const char *body, size_t len, int timeout_ms,
				pvx_fetch_cb cb, void *arg);

// Abandons a fetch in progress (cb is not called). NULL-safe.
void pvx_fetch_cancel(struct pvx_fetch *f);

#endif
