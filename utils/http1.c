/*
 * HTTP/1.x heads and body framing (utils/http1.h says what and why).
 * Every decision about where a message ends is taken here, once, so that
 * pv-ctrl, the proxy and the example app cannot disagree about it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "utils/http1.h"

// The chunked decoder's states (pv_http1_body.state).
enum {
	CH_SIZE0,	 // the first hex digit of a chunk size
	CH_SIZE,	 // more hex digits
	CH_WS,		 // whitespace after the size, before ';'
	CH_EXT,		 // a chunk extension, up to CR
	CH_LF,		 // the LF ending the chunk size line
	CH_DATA,	 // chunk data
	CH_DATA_CR,	 // the CR after the data
	CH_DATA_LF,	 // the LF after the data
	CH_TRAILER,	 // the start of a trailer line or of the empty line
	CH_TRAILER_NAME, // a trailer field name, up to ':'
	CH_TRAILER_VAL,	 // a trailer field value, up to CR
	CH_TRAILER_LF,	 // the LF ending a trailer line
	CH_END_LF,	 // the LF of the final empty line
	CH_DONE,	 // the body ended
	CH_FAILED,	 // an error was returned
};

// Records why the head is refused; returns the status for the caller:
// the given one for a request, 502 for a response (the backend erred).
static int refuse(struct pv_http1_head *h, int status, const char *msg)
{
	snprintf(h->error, sizeof(h->error), "%s", msg);
	return h->response ? 502 : status;
}

// 1 if c may appear in a token (RFC 9110 5.6.2 tchar).
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

// 1 if s (n bytes) is a non-empty token.
static int is_token(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

// 1 if c may appear in a field value or reason phrase: HT, SP, VCHAR,
// obs-text (RFC 9110 5.5).
static int is_vchar(unsigned char c)
{
	return c == '\t' || (c >= ' ' && c != 0x7f);
}

// 1 if s (n bytes) is name, in any case.
static int same(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && !strncasecmp(s, name, n);
}

// Fills the limits: lim, with its zero fields (or all, for NULL) taken
// from the defaults.
static void set_limits(struct pv_http1_limits *out,
		       const struct pv_http1_limits *lim)
{
	out->max_head =
		lim && lim->max_head ? lim->max_head : PV_HTTP1_MAX_HEAD;
	out->max_line =
		lim && lim->max_line ? lim->max_line : PV_HTTP1_MAX_LINE;
	out->max_headers = lim && lim->max_headers > 0 ? lim->max_headers
						       : PV_HTTP1_MAX_HEADERS;
}

void pv_http1_request_init(struct pv_http1_head *h,
			   const struct pv_http1_limits *lim)
{
	memset(h, 0, sizeof(*h));
	set_limits(&h->lim, lim);
	h->minor = -1;
}

void pv_http1_response_init(struct pv_http1_head *h,
			    const struct pv_http1_limits *lim, int to_head)
{
	pv_http1_request_init(h, lim);
	h->response = 1;
	h->to_head = to_head;
}

// Parses "HTTP/1.x" (n bytes). Returns 0 or an error status.
static int version(struct pv_http1_head *h, const char *v, size_t n)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9')
		return refuse(h, 400, "malformed HTTP version");
	if (v[5] != '1' || v[7] > '1')
		return refuse(h, 505,
			      "only HTTP/1.0 and HTTP/1.1 are supported");
	h->minor = v[7] - '0';
	return 0;
}

// 1 if t (n bytes) starts with a URI scheme and "://".
static int is_absolute(const char *t, size_t n)
{
	size_t i;

	if (!n ||
	    !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
		return 0;
	for (i = 1; i < n; i++) {
		unsigned char c = t[i];

		if (c == ':')
			return n - i > 2 && t[i + 1] == '/' && t[i + 2] == '/';
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 0;
}

// Parses "METHOD SP target SP HTTP/1.x" (len bytes at p, at offset at of
// the head). Returns 0 or an error status.
static int request_line(struct pv_http1_head *h, const char *p, size_t len,
			size_t at)
{
	const char *sp1, *sp2, *t, *end = p + len;
	size_t tlen, i;
	int r;

	sp1 = memchr(p, ' ', len);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', end - sp1 - 1) : NULL;
	if (!sp2 || memchr(sp2 + 1, ' ', end - sp2 - 1) || sp2 == sp1 + 1)
		return refuse(h, 400, "malformed request line");
	if (!is_token(p, sp1 - p))
		return refuse(h, 400, "malformed request line: bad method");
	r = version(h, sp2 + 1, end - sp2 - 1);
	if (r)
		return r;
	t = sp1 + 1;
	tlen = sp2 - t;
	for (i = 0; i < tlen; i++) {
		if ((unsigned char)t[i] <= 32 || (unsigned char)t[i] >= 127)
			return refuse(h, 400,
				      "request target has bad characters");
	}
	h->method_off = at;
	h->method_len = sp1 - p;
	h->target_off = at + (t - p);
	h->target_len = tlen;
	if (t[0] == '/')
		h->target_form = PV_HTTP1_ORIGIN;
	else if (tlen == 1 && t[0] == '*' && same(p, sp1 - p, "OPTIONS"))
		h->target_form = PV_HTTP1_ASTERISK;
	else if (is_absolute(t, tlen))
		h->target_form = PV_HTTP1_ABSOLUTE;
	else if (same(p, sp1 - p, "CONNECT"))
		h->target_form = PV_HTTP1_AUTHORITY;
	else
		return refuse(h, 400, "request target is not a path or a URI");
	return 0;
}

// Parses "HTTP/1.x SP 3DIGIT [SP reason]" (len bytes at p, at offset at
// of the head). Returns 0 or an error status (502).
static int status_line(struct pv_http1_head *h, const char *p, size_t len,
		       size_t at)
{
	size_t i;
	int r;

	if (len < 12 || p[8] != ' ' || (len > 12 && p[12] != ' '))
		return refuse(h, 502, "malformed status line");
	r = version(h, p, 8);
	if (r)
		return r;
	for (i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return refuse(h, 502, "malformed status code");
	h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (h->status < 100 || h->status > 599)
		return refuse(h, 502, "status code out of range");
	for (i = 13; i < len; i++)
		if (!is_vchar((unsigned char)p[i]))
			return refuse(h, 502, "bad character in reason phrase");
	h->reason_off = at + (len > 13 ? 13 : len);
	h->reason_len = len > 13 ? len - 13 : 0;
	return 0;
}

// The comma-separated elements of v (len bytes), without whitespace
// around them, one per call: *pos 0 first. Returns 1 with *e, *elen
// (elen may be 0: an empty element), 0 at the end.
static int next_element(const char *v, size_t len, size_t *pos, const char **e,
			size_t *elen)
{
	size_t p = *pos, s, t;

	if (p > len)
		return 0;
	s = p;
	while (p < len && v[p] != ',')
		p++;
	t = p;
	while (s < t && (v[s] == ' ' || v[s] == '\t'))
		s++;
	while (t > s && (v[t - 1] == ' ' || v[t - 1] == '\t'))
		t--;
	*e = v + s;
	*elen = t - s;
	*pos = p + 1;
	return 1;
}

// 1 if the list v (len bytes) holds tok (tlen bytes), in any case.
static int list_has(const char *v, size_t len, const char *tok, size_t tlen)
{
	size_t pos = 0, elen;
	const char *e;

	while (next_element(v, len, &pos, &e, &elen))
		if (elen == tlen && !strncasecmp(e, tok, tlen))
			return 1;
	return 0;
}

int pv_http1_list_has(const char *v, size_t len, const char *tok)
{
	return list_has(v, len, tok, strlen(tok));
}

// Content-Length: 1 to 18 digits (no overflow, far above any body we
// accept), or a list of equal ones ("42, 42", RFC 9110 8.6); equal
// values in several headers are accepted too, different ones refused.
static int content_length(struct pv_http1_head *h, const char *v, size_t len)
{
	size_t pos = 0, elen, i;
	const char *e;
	uint64_t n;

	while (next_element(v, len, &pos, &e, &elen)) {
		if (!elen || elen > 18)
			return refuse(h, 400, "Content-Length is not a number");
		for (i = 0, n = 0; i < elen; i++) {
			if (e[i] < '0' || e[i] > '9')
				return refuse(h, 400,
					      "Content-Length is not a number");
			n = n * 10 + (uint64_t)(e[i] - '0');
		}
		if (h->has_length && h->content_length != n)
			return refuse(h, 400,
				      "conflicting Content-Length headers");
		h->has_length = 1;
		h->content_length = n;
	}
	return 0;
}

// Transfer-Encoding: notes whether "chunked" is listed, once, and last.
static int transfer_encoding(struct pv_http1_head *h, const char *v, size_t len)
{
	size_t pos = 0, elen;
	const char *e;

	h->has_te = 1;
	while (next_element(v, len, &pos, &e, &elen)) {
		if (!elen)
			continue;
		if (same(e, elen, "chunked")) {
			if (h->te_chunked)
				return refuse(h, 400,
					      "chunked applied more than once");
			h->te_chunked = 1;
			h->te_chunked_last = 1;
		} else {
			h->te_chunked_last = 0;
			h->te_other = 1;
		}
	}
	return 0;
}

// One header line (len bytes at p, no end of line). Returns 0 or an
// error status.
static int header_line(struct pv_http1_head *h, const char *p, size_t len)
{
	const char *colon, *v, *end = p + len;
	size_t nlen, vlen, i;

	if (p[0] == ' ' || p[0] == '\t')
		return refuse(h, 400, "obsolete header line folding");
	colon = memchr(p, ':', len);
	if (!colon || !is_token(p, colon - p))
		return refuse(h, 400, "malformed header line");
	if (++h->nheaders > h->lim.max_headers)
		return refuse(h, 431, "too many header lines");
	nlen = colon - p;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	vlen = end - v;
	for (i = 0; i < vlen; i++)
		if (!is_vchar((unsigned char)v[i]))
			return refuse(h, 400, "bad character in header value");

	if (same(p, nlen, "Content-Length"))
		return content_length(h, v, vlen);
	if (same(p, nlen, "Transfer-Encoding"))
		return transfer_encoding(h, v, vlen);
	if (same(p, nlen, "Connection")) {
		h->conn_close |= list_has(v, vlen, "close", 5);
		h->conn_keep |= list_has(v, vlen, "keep-alive", 10);
		h->conn_upgrade |= list_has(v, vlen, "upgrade", 7);
	} else if (same(p, nlen, "Upgrade")) {
		h->has_upgrade_hdr = 1;
	} else if (h->response) {
		return 0;
	} else if (same(p, nlen, "Host")) {
		if (h->has_host)
			return refuse(h, 400, "more than one Host header");
		h->has_host = 1;
	} else if (same(p, nlen, "Expect") && h->minor == 1) {
		// RFC 9110 10.1.1: ignored from HTTP/1.0 clients.
		if (!same(v, vlen, "100-continue"))
			return refuse(h, 417, "unsupported Expect header");
		h->expect_continue = 1;
	}
	return 0;
}

// The empty line: decides how the body is framed (RFC 9112 6.3).
// Returns PV_HTTP1_DONE or an error status.
static int head_done(struct pv_http1_head *h)
{
	int minor1 = h->minor == 1;

	if (h->has_te && h->has_length)
		return refuse(h, 400,
			      "both Content-Length and Transfer-Encoding");
	h->keep_alive =
		minor1 ? !h->conn_close : h->conn_keep && !h->conn_close;
	if (!h->response) {
		if (h->has_te && !minor1)
			return refuse(
				h, 400,
				"Transfer-Encoding in an HTTP/1.0 request");
		if (h->has_te && !h->te_chunked_last)
			return refuse(h, 400,
				      "Transfer-Encoding does not end with "
				      "chunked");
		if (h->has_te && h->te_other)
			return refuse(h, 501,
				      "transfer codings other than chunked are "
				      "not supported");
		h->framing = h->has_te		 ? PV_HTTP1_BODY_CHUNKED
			     : h->content_length ? PV_HTTP1_BODY_LENGTH
						 : PV_HTTP1_BODY_NONE;
		h->upgrade = minor1 && h->has_upgrade_hdr && h->conn_upgrade;
		return PV_HTTP1_DONE;
	}
	h->interim = h->status < 200 && h->status != 101;
	h->upgrade = h->status == 101;
	if (h->to_head || h->status < 200 || h->status == 204 ||
	    h->status == 304)
		h->framing = PV_HTTP1_BODY_NONE;
	else if (h->has_te)
		h->framing = h->te_chunked_last ? PV_HTTP1_BODY_CHUNKED
						: PV_HTTP1_BODY_CLOSE;
	else if (h->has_length)
		h->framing = h->content_length ? PV_HTTP1_BODY_LENGTH
					       : PV_HTTP1_BODY_NONE;
	else
		h->framing = PV_HTTP1_BODY_CLOSE;
	if (h->framing == PV_HTTP1_BODY_CLOSE || h->upgrade ||
	    (h->has_te && !minor1))
		h->keep_alive = 0;
	return PV_HTTP1_DONE;
}

// One complete line (len bytes at p without its end of line, at offset
// at of the head, next the offset after it). Returns PV_HTTP1_MORE,
// PV_HTTP1_DONE or an error status.
static int one_line(struct pv_http1_head *h, const char *p, size_t len,
		    size_t at, size_t next)
{
	int r;

	// A NUL ends strings early in other parsers, a lone CR is read as
	// an end of line by some: either lets two parsers disagree.
	if (memchr(p, '\0', len) || memchr(p, '\r', len))
		return refuse(h, 400, "NUL or bare CR in the head");
	if (!h->started) {
		if (!len) {
			if (h->response)
				return refuse(h, 502,
					      "empty line before the status "
					      "line");
			// RFC 9112 2.2: empty lines before a request.
			return PV_HTTP1_MORE;
		}
		h->start_off = at;
		r = h->response ? status_line(h, p, len, at)
				: request_line(h, p, len, at);
		if (r)
			return r;
		h->started = 1;
		h->fields_off = next;
		return PV_HTTP1_MORE;
	}
	if (!len)
		return head_done(h);
	r = header_line(h, p, len);
	return r ? r : PV_HTTP1_MORE;
}

// The start line is longer than the limit.
static int too_long(struct pv_http1_head *h)
{
	return refuse(h, 414,
		      h->response ? "status line too long"
				  : "request line too long");
}

int pv_http1_parse(struct pv_http1_head *h, const char *buf, size_t len,
		   size_t *used)
{
	size_t off = 0, from, n, eol;
	const char *nl;
	int r, by_line;

	*used = 0;
	for (;;) {
		// Which limit a long line meets first, whether seen whole or
		// in part: the start line's (if shorter than what is left of
		// the head, its CR allowed) or the head's.
		by_line =
			!h->started &&
			h->lim.max_line + 2 < h->lim.max_head - h->head_len + 1;
		// The part of a partial line searched before has no LF.
		from = off == 0 && h->scanned <= len ? h->scanned : 0;
		nl = memchr(buf + off + from, '\n', len - off - from);
		if (!nl) {
			h->scanned = len - off;
			// The CR of a CRLF may be here already.
			if (by_line && len - off > h->lim.max_line + 1)
				return too_long(h);
			if (!by_line &&
			    h->head_len + (len - off) > h->lim.max_head)
				return refuse(h, 431, "head too large");
			return PV_HTTP1_MORE;
		}
		h->scanned = 0;
		eol = nl - (buf + off);
		n = eol + 1;
		if (eol && buf[off + eol - 1] == '\r')
			eol--;
		// Before anything else, as when the line is seen partially.
		if (by_line && eol > h->lim.max_line)
			return too_long(h);
		if (!by_line && h->head_len + n > h->lim.max_head)
			return refuse(h, 431, "head too large");
		r = one_line(h, buf + off, eol, h->head_len, h->head_len + n);
		h->head_len += n;
		off += n;
		*used = off;
		if (r != PV_HTTP1_MORE)
			return r;
	}
}

int pv_http1_field_next(const struct pv_http1_head *h, const char *head,
			size_t *pos, struct pv_http1_field *f)
{
	size_t p = *pos ? *pos : h->fields_off, end;
	const char *line, *nl, *colon, *v, *e;

	if (!h->started || p >= h->head_len)
		return 0;
	line = head + p;
	nl = memchr(line, '\n', h->head_len - p);
	if (!nl)
		return 0;
	end = nl - line;
	if (end && line[end - 1] == '\r')
		end--;
	colon = memchr(line, ':', end);
	if (!colon)
		return 0; // the empty line
	v = colon + 1;
	e = line + end;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	f->name = line;
	f->name_len = colon - line;
	f->value = v;
	f->value_len = e - v;
	*pos = p + (nl - line) + 1;
	return 1;
}

const char *pv_http1_field_get(const struct pv_http1_head *h, const char *head,
			       const char *name, size_t *len)
{
	struct pv_http1_field f;
	size_t pos = 0;

	while (pv_http1_field_next(h, head, &pos, &f)) {
		if (same(f.name, f.name_len, name)) {
			*len = f.value_len;
			return f.value;
		}
	}
	*len = 0;
	return NULL;
}

int pv_http1_hop_by_hop(const struct pv_http1_head *h, const char *head,
			const char *name, size_t len)
{
	static const char *const fixed[] = {
		"Connection", "Proxy-Connection",  "Keep-Alive",
		"TE",	      "Transfer-Encoding", "Upgrade",
	};
	struct pv_http1_field f;
	size_t i, pos = 0;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (same(name, len, fixed[i]))
			return 1;
	while (pv_http1_field_next(h, head, &pos, &f))
		if (same(f.name, f.name_len, "Connection") &&
		    list_has(f.value, f.value_len, name, len))
			return 1;
	return 0;
}

void pv_http1_body_init(struct pv_http1_body *b, const struct pv_http1_head *h)
{
	memset(b, 0, sizeof(*b));
	b->framing = h->framing;
	b->response = h->response;
	b->remaining =
		h->framing == PV_HTTP1_BODY_LENGTH ? h->content_length : 0;
	b->state = CH_SIZE0;
	b->lim = h->lim;
}

// Records why the body is refused; returns the status for the caller.
static int body_refuse(struct pv_http1_body *b, const char *msg)
{
	snprintf(b->error, sizeof(b->error), "%s", msg);
	b->state = CH_FAILED;
	return b->response ? 502 : 400;
}

// The value of hex digit c, or -1.
static int hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

// One byte c of chunked framing (not data). Returns PV_HTTP1_MORE,
// PV_HTTP1_DONE or an error status.
static int chunk_byte(struct pv_http1_body *b, unsigned char c)
{
	int d;

	if (b->state <= CH_LF && ++b->line > PV_HTTP1_MAX_CHUNK_LINE)
		return body_refuse(b, "chunk size line too long");
	if (b->state >= CH_TRAILER && b->state <= CH_END_LF &&
	    ++b->trailer > b->lim.max_head)
		return body_refuse(b, "trailers too large");
	switch (b->state) {
	case CH_SIZE0:
	case CH_SIZE:
		d = hex(c);
		if (d >= 0) {
			// 2^60 or more: no body is that large.
			if (b->size >> 56)
				return body_refuse(b, "chunk size too large");
			b->size = b->size * 16 + (uint64_t)d;
			b->state = CH_SIZE;
		} else if (b->state == CH_SIZE0) {
			return body_refuse(b, "empty or non-hex chunk size");
		} else if (c == ';') {
			b->state = CH_EXT;
		} else if (c == ' ' || c == '\t') {
			b->state = CH_WS;
		} else if (c == '\r') {
			b->state = CH_LF;
		} else {
			return body_refuse(b, "bad character in chunk size");
		}
		return PV_HTTP1_MORE;
	case CH_WS:
		if (c == ';')
			b->state = CH_EXT;
		else if (c != ' ' && c != '\t')
			return body_refuse(b, "bad character after chunk size");
		return PV_HTTP1_MORE;
	case CH_EXT:
		if (c == '\r')
			b->state = CH_LF;
		else if (!is_vchar(c))
			return body_refuse(b,
					   "bad character in chunk extension");
		return PV_HTTP1_MORE;
	case CH_LF:
		if (c != '\n')
			return body_refuse(b, "bare CR in chunk size line");
		b->line = 0;
		if (b->size) {
			b->remaining = b->size;
			b->state = CH_DATA;
		} else {
			b->state = CH_TRAILER;
		}
		b->size = 0;
		return PV_HTTP1_MORE;
	case CH_DATA_CR:
		if (c != '\r')
			return body_refuse(b,
					   "chunk data not followed by CRLF");
		b->state = CH_DATA_LF;
		return PV_HTTP1_MORE;
	case CH_DATA_LF:
		if (c != '\n')
			return body_refuse(b,
					   "chunk data not followed by CRLF");
		b->state = CH_SIZE0;
		return PV_HTTP1_MORE;
	case CH_TRAILER:
		if (c == '\r') {
			b->state = CH_END_LF;
		} else if (is_tchar(c)) {
			if (++b->ntrailers > b->lim.max_headers)
				return body_refuse(b, "too many trailer lines");
			b->state = CH_TRAILER_NAME;
		} else {
			return body_refuse(b, "malformed trailer line");
		}
		return PV_HTTP1_MORE;
	case CH_TRAILER_NAME:
		if (c == ':')
			b->state = CH_TRAILER_VAL;
		else if (!is_tchar(c))
			return body_refuse(b, "malformed trailer line");
		return PV_HTTP1_MORE;
	case CH_TRAILER_VAL:
		if (c == '\r')
			b->state = CH_TRAILER_LF;
		else if (!is_vchar(c))
			return body_refuse(b, "bad character in trailer value");
		return PV_HTTP1_MORE;
	case CH_TRAILER_LF:
		if (c != '\n')
			return body_refuse(b, "bare CR in trailer line");
		b->state = CH_TRAILER;
		return PV_HTTP1_MORE;
	case CH_END_LF:
		if (c != '\n')
			return body_refuse(b, "bare CR after trailers");
		b->state = CH_DONE;
		return PV_HTTP1_DONE;
	default:
		return body_refuse(b, "chunked decoder out of state");
	}
}

int pv_http1_body_parse(struct pv_http1_body *b, const char *buf, size_t len,
			size_t *used, size_t *data_off, size_t *data_len)
{
	size_t i, n;
	int r;

	*used = *data_off = *data_len = 0;
	switch (b->framing) {
	case PV_HTTP1_BODY_NONE:
		return PV_HTTP1_DONE;
	case PV_HTTP1_BODY_CLOSE:
		*used = *data_len = len;
		return PV_HTTP1_MORE;
	case PV_HTTP1_BODY_LENGTH:
		n = b->remaining < len ? (size_t)b->remaining : len;
		*used = *data_len = n;
		b->remaining -= n;
		return b->remaining ? PV_HTTP1_MORE : PV_HTTP1_DONE;
	case PV_HTTP1_BODY_CHUNKED:
		break;
	}
	if (b->state == CH_DONE)
		return PV_HTTP1_DONE;
	if (b->state == CH_FAILED)
		return b->response ? 502 : 400;
	for (i = 0; i < len; i++) {
		if (b->state == CH_DATA) {
			n = b->remaining < len - i ? (size_t)b->remaining
						   : len - i;
			b->remaining -= n;
			if (!b->remaining)
				b->state = CH_DATA_CR;
			*data_off = i;
			*data_len = n;
			*used = i + n;
			return PV_HTTP1_MORE;
		}
		r = chunk_byte(b, (unsigned char)buf[i]);
		if (r != PV_HTTP1_MORE) {
			*used = i + 1;
			return r;
		}
	}
	*used = len;
	return PV_HTTP1_MORE;
}

int pv_http1_body_eof(struct pv_http1_body *b)
{
	if (b->framing == PV_HTTP1_BODY_NONE ||
	    b->framing == PV_HTTP1_BODY_CLOSE ||
	    (b->framing == PV_HTTP1_BODY_LENGTH && !b->remaining) ||
	    (b->framing == PV_HTTP1_BODY_CHUNKED && b->state == CH_DONE))
		return PV_HTTP1_DONE;
	snprintf(b->error, sizeof(b->error), "body truncated");
	return b->response ? 502 : 400;
}

const char *pv_http1_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 417:
		return "Expectation Failed";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}
