/*
 * pv-ctrl's request head parser: the request line and header lines of
 * HTTP/1.0 and HTTP/1.1, strictly (RFC 9112), with the limits of
 * ctrl/ctrl.h. No I/O: ctrl.c feeds it the input it has, the fuzzer
 * (tests/fuzz/fuzz_ctrl.c) feeds it anything.
 */
#define MODULE_NAME "ctrl-http"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctrl/ctrl.h"
#include "ctrl/ctrl_http.h"

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
}

// 1 if s is a non-empty HTTP token (RFC 9110 tchar).
static int is_token(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = s[i];

		if (ch <= 32 || ch >= 127 || strchr("\"(),/:;<=>?@[\\]{}", ch))
			return 0;
	}
	return 1;
}

// Parses "METHOD SP /target SP HTTP/1.x" (NUL-terminated line). Returns
// 0 or an error status.
static int request_line(struct pv_ctrl_http_head *h, char *line)
{
	char *sp1 = strchr(line, ' '), *sp2, *t;

	if (!sp1 || !(sp2 = strchr(sp1 + 1, ' ')) || strchr(sp2 + 1, ' '))
		return refuse(h, 400, "malformed request line");
	if (strncmp(sp2 + 1, "HTTP/", 5))
		return refuse(h, 400,
			      "malformed request line: no HTTP version");
	if (!strcmp(sp2 + 1, "HTTP/1.1")) {
		h->minor = 1;
		h->keep_alive = 1;
	} else if (!strcmp(sp2 + 1, "HTTP/1.0")) {
		h->minor = 0;
	} else {
		return refuse(h, 505,
			      "only HTTP/1.0 and HTTP/1.1 are supported");
	}
	if (!is_token(line, sp1 - line) ||
	    (size_t)(sp1 - line) >= sizeof(h->method))
		return refuse(h, 400, "malformed request line: bad method");
	memcpy(h->method, line, sp1 - line);
	h->method[sp1 - line] = '\0';
	*sp2 = '\0';
	t = sp1 + 1;
	if (t[0] != '/')
		return refuse(h, 400, "request target must be a path");
	for (; *t; t++) {
		if ((unsigned char)*t <= 32 || (unsigned char)*t >= 127)
			return refuse(h, 400,
				      "request target has bad characters");
	}
	h->target = strdup(sp1 + 1);
	if (!h->target)
		return refuse(h, 500, "out of memory");
	return 0;
}

// 1 if the comma-separated header value v lists token tok.
static int has_token(const char *v, const char *tok)
{
	size_t n = strlen(tok);

	while (*v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		if (!strncasecmp(v, tok, n) &&
		    (!v[n] || v[n] == ',' || v[n] == ' ' || v[n] == '\t'))
			return 1;
		while (*v && *v != ',')
			v++;
	}
	return 0;
}

// Parses one header line (NUL-terminated) and keeps what pv-ctrl acts
// on. Returns 0 or an error status.
static int header_line(struct pv_ctrl_http_head *h, char *line)
{
	char *colon = strchr(line, ':'), *v, *end;
	long long n;

	if (line[0] == ' ' || line[0] == '\t')
		return refuse(h, 400, "obsolete header line folding");
	if (!colon || !is_token(line, colon - line))
		return refuse(h, 400, "malformed header line");
	if (++h->nheaders > PV_CTRL_MAX_HEADERS)
		return refuse(h, 413, "too many header lines");
	*colon = '\0';
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';

	if (!strcasecmp(line, "Content-Length")) {
		// At most 18 digits: no overflow, and far above any limit.
		if (!*v || strspn(v, "0123456789") != strlen(v) ||
		    strlen(v) > 18)
			return refuse(h, 400, "Content-Length is not a number");
		n = strtoll(v, NULL, 10);
		if (h->content_length >= 0 && h->content_length != n)
			return refuse(h, 400,
				      "conflicting Content-Length headers");
		h->content_length = n;
	} else if (!strcasecmp(line, "Transfer-Encoding")) {
		h->chunked = 1;
	} else if (!strcasecmp(line, "Connection")) {
		if (has_token(v, "close"))
			h->keep_alive = 0;
	} else if (!strcasecmp(line, "Expect")) {
		if (strcasecmp(v, "100-continue"))
			return refuse(h, 417, "unsupported Expect header");
		h->expect_continue = 1;
	}
	return 0;
}

// The head is complete: decide about the body. Returns
// PV_CTRL_HTTP_DONE or an error status.
static int head_done(struct pv_ctrl_http_head *h)
{
	if (h->chunked)
		return refuse(h, 501,
			      "Transfer-Encoding is not supported; "
			      "send Content-Length");
	if (h->content_length > PV_CTRL_MAX_BODY) {
		snprintf(h->error, sizeof(h->error),
			 "body larger than %d bytes", PV_CTRL_MAX_BODY);
		return 413;
	}
	if (h->content_length < 0)
		h->content_length = 0;
	return PV_CTRL_HTTP_DONE;
}

// One line without its end of line (len bytes, not NUL-terminated).
// Returns PV_CTRL_HTTP_MORE, PV_CTRL_HTTP_DONE or an error status.
static int one_line(struct pv_ctrl_http_head *h, const char *p, size_t len)
{
	char *line;
	int r;

	// A NUL would cut the line short for the string functions below,
	// a lone CR is read differently by different parsers (smuggling).
	if (memchr(p, '\0', len) || memchr(p, '\r', len))
		return refuse(h, 400, "NUL or bare CR in the request head");
	if (h->minor < 0 && !len)
		return PV_CTRL_HTTP_MORE; // RFC 9112 2.2: before a request
	if (!len)
		return head_done(h);
	line = strndup(p, len);
	if (!line)
		return refuse(h, 500, "out of memory");
	r = h->minor < 0 ? request_line(h, line) : header_line(h, line);
	free(line);
	return r ? r : PV_CTRL_HTTP_MORE;
}

int pv_ctrl_http_parse(struct pv_ctrl_http_head *h, const char *buf, size_t len,
		       size_t *used)
{
	size_t off = 0, n, eol;
	const char *nl;
	int r;

	*used = 0;
	for (;;) {
		nl = memchr(buf + off, '\n', len - off);
		if (!nl) {
			if (h->head_bytes + (len - off) > PV_CTRL_MAX_HEAD)
				return refuse(h, 413, "request head too large");
			return PV_CTRL_HTTP_MORE;
		}
		eol = nl - (buf + off);
		n = eol + 1;
		h->head_bytes += n;
		off += n;
		*used = off;
		if (h->head_bytes > PV_CTRL_MAX_HEAD)
			return refuse(h, 413, "request head too large");
		if (eol && buf[off - 2] == '\r')
			eol--;
		r = one_line(h, buf + off - n, eol);
		if (r != PV_CTRL_HTTP_MORE)
			return r;
	}
}
