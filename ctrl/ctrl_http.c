/*
 * pv-ctrl's request heads: utils/http1.c parses them (HTTP/1.0 and
 * HTTP/1.1, strictly, RFC 9112) with the limits of ctrl/ctrl.h; this
 * keeps what the server acts on and refuses what pv-ctrl does not serve.
 * No I/O: ctrl.c feeds it the input it has, the fuzzer
 * (tests/fuzz/fuzz_ctrl.c) feeds it anything.
 */
#define MODULE_NAME "ctrl-http"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "ctrl/ctrl_http.h"

static const struct pv_http1_limits ctrl_limits = {
	.max_head = PV_CTRL_MAX_HEAD,
	// The whole head may be one line: a long target is "head too
	// large" (413), as for any other part of the head.
	.max_line = PV_CTRL_MAX_HEAD,
	.max_headers = PV_CTRL_MAX_HEADERS,
};

// Records why the request is refused; returns its status for the caller.
static int refuse(struct pv_ctrl_http_head *h, int status, const char *msg)
{
	snprintf(h->error, sizeof(h->error), "%s", msg);
	return status;
}

void pv_ctrl_http_reset(struct pv_ctrl_http_head *h)
{
	free(h->target);
	memset(h, 0, sizeof(*h));
	h->minor = -1;
	h->content_length = -1;
	pv_http1_request_init(&h->parser, &ctrl_limits);
}

// The request line was parsed from line (the input of this call, which
// starts at offset base of the head): keeps its method and target.
// Returns 0 or an error status.
static int keep_request_line(struct pv_ctrl_http_head *h, const char *buf,
			     size_t base)
{
	const struct pv_http1_head *p = &h->parser;

	if (p->method_len >= sizeof(h->method))
		return refuse(h, 400, "malformed request line: bad method");
	memcpy(h->method, buf + (p->method_off - base), p->method_len);
	h->method[p->method_len] = '\0';
	if (p->target_form != PV_HTTP1_ORIGIN)
		return refuse(h, 400, "request target must be a path");
	h->target = strndup(buf + (p->target_off - base), p->target_len);
	if (!h->target)
		return refuse(h, 500, "out of memory");
	return 0;
}

// The head is complete: decide about the body. Returns
// PV_CTRL_HTTP_DONE or an error status.
static int head_done(struct pv_ctrl_http_head *h)
{
	const struct pv_http1_head *p = &h->parser;

	h->keep_alive = p->keep_alive;
	h->expect_continue = p->expect_continue;
	h->chunked = p->framing == PV_HTTP1_BODY_CHUNKED;
	if (h->chunked)
		return refuse(h, 501,
			      "Transfer-Encoding is not supported; "
			      "send Content-Length");
	if (p->framing == PV_HTTP1_BODY_LENGTH &&
	    p->content_length > PV_CTRL_MAX_BODY) {
		snprintf(h->error, sizeof(h->error),
			 "body larger than %d bytes", PV_CTRL_MAX_BODY);
		return 413;
	}
	h->content_length = p->framing == PV_HTTP1_BODY_LENGTH
				    ? (long long)p->content_length
				    : 0;
	return PV_CTRL_HTTP_DONE;
}

int pv_ctrl_http_parse(struct pv_ctrl_http_head *h, const char *buf, size_t len,
		       size_t *used)
{
	struct pv_http1_head *p = &h->parser;
	size_t base = p->head_len;
	int had_line = p->started, r;

	r = pv_http1_parse(p, buf, len, used);
	h->head_bytes = p->head_len;
	h->nheaders = p->nheaders;
	if (p->minor >= 0)
		h->minor = p->minor;
	// The request line came in this call: keep it before anything
	// later in the same input is judged, as if it had come alone.
	if (!had_line && p->started) {
		int e = keep_request_line(h, buf, base);

		if (e)
			return e;
	}
	if (r >= 400) {
		snprintf(h->error, sizeof(h->error), "%s", p->error);
		// pv-ctrl answers 413 for every limit (docs/pv-ctrl.md).
		return r == 431 || r == 414 ? 413 : r;
	}
	return r == PV_HTTP1_DONE ? head_done(h) : PV_CTRL_HTTP_MORE;
}
