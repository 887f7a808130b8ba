// The HTTP/1.x parser (utils/http1.c): request and response heads, body
// framing, what is refused with which status, the limits, and that every
// message split at any byte gives what it gives whole.

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/kit.h"
#include "utils/http1.h"

// What one message gave: head, headers, body, where it ended.
struct result {
	int head_r, body_r;
	size_t head_len, end;
	char method[32], target[128], reason[64];
	int status, minor, keep_alive, expect_continue, upgrade, interim;
	enum pv_http1_framing framing;
	uint64_t content_length;
	char fields[1024]; // "name=value;" for each header line
	char body[1024];
	size_t body_len;
};

// Copies n bytes of s into dst (size dsize), NUL-terminated, cut short.
static void put(char *dst, size_t dsize, const char *s, size_t n)
{
	size_t used = strlen(dst);

	if (used + n >= dsize)
		n = dsize - used - 1;
	memcpy(dst + used, s, n);
	dst[used + n] = '\0';
}

// How much input is there after avail bytes: with cut, the first piece
// is cut bytes and the second the rest; with cut 0, byte by byte.
static size_t grow(size_t avail, size_t len, size_t cut)
{
	if (!cut)
		return avail + 1 < len ? avail + 1 : len;
	return avail < cut && cut < len ? cut : len;
}

// Runs message in (len bytes) through the head and body parsers as a
// proxy does (the whole input kept in one buffer, revealed as grow()
// says), recording what it gave in o.
static void drive(const char *in, size_t len, int response, int to_head,
		  size_t cut, struct result *o)
{
	struct pv_http1_head h;
	struct pv_http1_body b;
	struct pv_http1_field f;
	size_t off = 0, avail, used, d, dl, pos = 0;
	int r;

	memset(o, 0, sizeof(*o));
	if (response)
		pv_http1_response_init(&h, NULL, to_head);
	else
		pv_http1_request_init(&h, NULL);
	avail = grow(0, len, cut);
	for (;;) {
		r = pv_http1_parse(&h, in + off, avail - off, &used);
		CHECK(used <= avail - off);
		off += used;
		if (r != PV_HTTP1_MORE || avail == len)
			break;
		avail = grow(avail, len, cut);
	}
	o->head_r = r;
	if (r != PV_HTTP1_DONE)
		return;
	CHECK(off == h.head_len);
	o->head_len = h.head_len;
	put(o->method, sizeof(o->method), in + h.method_off, h.method_len);
	put(o->target, sizeof(o->target), in + h.target_off, h.target_len);
	put(o->reason, sizeof(o->reason), in + h.reason_off, h.reason_len);
	o->status = h.status;
	o->minor = h.minor;
	o->keep_alive = h.keep_alive;
	o->expect_continue = h.expect_continue;
	o->upgrade = h.upgrade;
	o->interim = h.interim;
	o->framing = h.framing;
	o->content_length = h.content_length;
	while (pv_http1_field_next(&h, in, &pos, &f)) {
		put(o->fields, sizeof(o->fields), f.name, f.name_len);
		put(o->fields, sizeof(o->fields), "=", 1);
		put(o->fields, sizeof(o->fields), f.value, f.value_len);
		put(o->fields, sizeof(o->fields), ";", 1);
	}
	pv_http1_body_init(&b, &h);
	for (;;) {
		r = PV_HTTP1_MORE;
		while (off < avail && r == PV_HTTP1_MORE) {
			r = pv_http1_body_parse(&b, in + off, avail - off,
						&used, &d, &dl);
			CHECK(d + dl <= used && used <= avail - off);
			CHECK(r != PV_HTTP1_MORE || used > 0);
			if (r == PV_HTTP1_MORE && !used)
				return;
			put(o->body, sizeof(o->body), in + off + d, dl);
			o->body_len += dl;
			off += used;
		}
		if (r != PV_HTTP1_MORE)
			break;
		if (avail == len) {
			r = pv_http1_body_eof(&b);
			break;
		}
		avail = grow(avail, len, cut);
	}
	o->body_r = r;
	o->end = off;
}

// 1 if two results are the same.
static int same_result(const struct result *a, const struct result *b)
{
	return a->head_r == b->head_r && a->body_r == b->body_r &&
	       a->head_len == b->head_len && a->end == b->end &&
	       !strcmp(a->method, b->method) && !strcmp(a->target, b->target) &&
	       !strcmp(a->reason, b->reason) && a->status == b->status &&
	       a->minor == b->minor && a->keep_alive == b->keep_alive &&
	       a->expect_continue == b->expect_continue &&
	       a->upgrade == b->upgrade && a->interim == b->interim &&
	       a->framing == b->framing &&
	       a->content_length == b->content_length &&
	       !strcmp(a->fields, b->fields) && a->body_len == b->body_len &&
	       !strcmp(a->body, b->body);
}

// Parses request s whole.
static void req(const char *s, struct result *o)
{
	drive(s, strlen(s), 0, 0, strlen(s), o);
}

// Parses response s whole.
static void resp(const char *s, int to_head, struct result *o)
{
	drive(s, strlen(s), 1, to_head, strlen(s), o);
}

static void test_requests(void)
{
	struct result o;

	req("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
	    "helloNEXT",
	    &o);
	CHECK(o.head_r == PV_HTTP1_DONE && o.body_r == PV_HTTP1_DONE);
	CHECK_STR(o.method, "GET");
	CHECK_STR(o.target, "/a?b=1");
	CHECK_STR(o.fields, "Host=x;Content-Length=5;");
	CHECK_STR(o.body, "hello");
	CHECK(o.minor == 1 && o.keep_alive && o.content_length == 5);
	CHECK(o.framing == PV_HTTP1_BODY_LENGTH);
	CHECK(o.end == strlen("GET /a?b=1 HTTP/1.1\r\nHost: x\r\n"
			      "Content-Length: 5\r\n\r\nhello"));

	// Keep-alive: 1.1 by default, 1.0 only when asked; close wins.
	req("GET / HTTP/1.0\r\n\r\n", &o);
	CHECK(o.head_r == PV_HTTP1_DONE && !o.keep_alive && o.minor == 0);
	CHECK(o.framing == PV_HTTP1_BODY_NONE);
	req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &o);
	CHECK(o.head_r == PV_HTTP1_DONE && o.keep_alive);
	req("GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", &o);
	CHECK(o.head_r == PV_HTTP1_DONE && !o.keep_alive);
	req("GET / HTTP/1.1\r\nConnection: x-other\r\n\r\n", &o);
	CHECK(o.head_r == PV_HTTP1_DONE && o.keep_alive);

	// Expect: 100-continue in 1.1; ignored from 1.0.
	req("PUT /x HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: "
	    "2\r\n\r\nab",
	    &o);
	CHECK(o.head_r == PV_HTTP1_DONE && o.expect_continue);
	req("PUT /x HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", &o);
	CHECK(o.head_r == PV_HTTP1_DONE && !o.expect_continue);
	req("PUT /x HTTP/1.0\r\nExpect: other\r\n\r\n", &o);
	CHECK(o.head_r == PV_HTTP1_DONE);

	// Upgrade: the header and the Connection option, in 1.1.
	req("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n",
	    &o);
	CHECK(o.head_r == PV_HTTP1_DONE && o.upgrade);
	req("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", &o);
	CHECK(o.head_r == PV_HTTP1_DONE && !o.upgrade);
	req("GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: ws\r\n\r\n",
	    &o);
	CHECK(o.head_r == PV_HTTP1_DONE && !o.upgrade);

	// Empty lines before the request line, LF alone, values trimmed,
	// obs-text allowed in values, equal Content-Lengths.
	req("\r\n\nPOST /p HTTP/1.1\nA:  b c \t\nB:\nC: \xe9t\xe9\n"
	    "Content-Length: 2\ncontent-length: 2, 2\n\nhi",
	    &o);
	CHECK(o.head_r == PV_HTTP1_DONE && o.body_r == PV_HTTP1_DONE);
	CHECK_STR(o.fields, "A=b c;B=;C=\xe9t\xe9;Content-Length=2;"
			    "content-length=2, 2;");
	CHECK_STR(o.body, "hi");

	// Chunked, with extensions, upper-case hex and trailers.
	req("POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5;name=\"v\" ;x\r\nhello\r\nA\r\n 012345678\r\n0\r\n"
	    "X-Sum: 1\r\nX-Other:2\r\n\r\nNEXT",
	    &o);
	CHECK(o.head_r == PV_HTTP1_DONE && o.body_r == PV_HTTP1_DONE);
	CHECK(o.framing == PV_HTTP1_BODY_CHUNKED);
	CHECK_STR(o.body, "hello 012345678");
	CHECK(o.body_len == 15);
	req("POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n",
	    &o);
	CHECK(o.body_r == PV_HTTP1_DONE && o.body_len == 0);
	req("POST /up HTTP/1.1\r\nTransfer-Encoding: ,Chunked\r\n\r\n0\r\n\r\n",
	    &o);
	CHECK(o.body_r == PV_HTTP1_DONE);

	// Target forms.
	req("OPTIONS * HTTP/1.1\r\n\r\n", &o);
	CHECK(o.head_r == PV_HTTP1_DONE);
	req("GET http://h.example/p HTTP/1.1\r\n\r\n", &o);
	CHECK(o.head_r == PV_HTTP1_DONE);
	req("CONNECT h.example:443 HTTP/1.1\r\n\r\n", &o);
	CHECK(o.head_r == PV_HTTP1_DONE);
}

static void test_responses(void)
{
	struct result o;

	resp("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc", 0, &o);
	CHECK(o.head_r == PV_HTTP1_DONE && o.body_r == PV_HTTP1_DONE);
	CHECK(o.status == 404 && o.keep_alive && o.content_length == 3);
	CHECK_STR(o.reason, "Not Found");
	CHECK_STR(o.body, "abc");

	resp("HTTP/1.1 200\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	     "3\r\nabc\r\n0\r\n\r\n",
	     0, &o);
	CHECK(o.head_r == PV_HTTP1_DONE && o.body_r == PV_HTTP1_DONE);
	CHECK(o.framing == PV_HTTP1_BODY_CHUNKED);
	CHECK_STR(o.reason, "");
	CHECK_STR(o.body, "abc");

	// Read until close: no length, or a coding that is not chunked.
	resp("HTTP/1.1 200 OK\r\n\r\nuntil close", 0, &o);
	CHECK(o.framing == PV_HTTP1_BODY_CLOSE && !o.keep_alive);
	CHECK(o.body_r == PV_HTTP1_DONE);
	CHECK_STR(o.body, "until close");
	resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", 0, &o);
	CHECK(o.framing == PV_HTTP1_BODY_CLOSE && !o.keep_alive);
	resp("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, &o);
	CHECK(o.framing == PV_HTTP1_BODY_LENGTH && !o.keep_alive);
	resp("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	     "Content-Length: 2\r\n\r\nok",
	     0, &o);
	CHECK(o.keep_alive);

	// No body: HEAD, 1xx, 204, 304, whatever the headers say.
	resp("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 1, &o);
	CHECK(o.framing == PV_HTTP1_BODY_NONE && o.body_r == PV_HTTP1_DONE);
	CHECK(o.keep_alive && o.end == o.head_len);
	resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 0, &o);
	CHECK(o.framing == PV_HTTP1_BODY_NONE && o.keep_alive);
	resp("HTTP/1.1 204 No Content\r\n\r\nNEXT", 0, &o);
	CHECK(o.framing == PV_HTTP1_BODY_NONE && o.end == o.head_len);
	resp("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0, &o);
	CHECK(o.framing == PV_HTTP1_BODY_NONE && o.interim && !o.upgrade);
	resp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	     "Connection: Upgrade\r\n\r\n",
	     0, &o);
	CHECK(o.upgrade && !o.interim && !o.keep_alive);
	CHECK(o.framing == PV_HTTP1_BODY_NONE);
}

// expect_req REQ STATUS: REQ is refused with STATUS and a reason.
static void expect_req(const char *s, size_t len, int status)
{
	struct pv_http1_head h;
	size_t used;
	int r;

	pv_http1_request_init(&h, NULL);
	r = pv_http1_parse(&h, s, len, &used);
	CHECK(r == status);
	if (r != status)
		fprintf(stderr, "  %d, not %d, for %.60s\n", r, status, s);
	CHECK(r < 400 || h.error[0] != '\0');
}

#define REQ(s, status) expect_req(s, sizeof(s) - 1, status)

// The same for a response head.
static void expect_resp(const char *s, int status)
{
	struct pv_http1_head h;
	size_t used;
	int r;

	pv_http1_response_init(&h, NULL, 0);
	r = pv_http1_parse(&h, s, strlen(s), &used);
	CHECK(r == status);
	if (r != status)
		fprintf(stderr, "  %d, not %d, for %.60s\n", r, status, s);
}

static void test_smuggling(void)
{
	// Both framings, in either order.
	REQ("POST / HTTP/1.1\r\nContent-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    400);
	REQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 3\r\n\r\n",
	    400);
	// Different lengths; lengths that are not plain numbers.
	REQ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    400);
	REQ("POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nContent-Length: 1,\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n",
	    400);
	// Transfer-Encoding other than exactly one chunked, last.
	REQ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	    400);
	REQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    400);
	REQ("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", 400);
	REQ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	REQ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
	// Folding, whitespace before the colon, bad names.
	REQ("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\nX@Y: 1\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\n: 1\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400);
	// NUL, bare CR and other controls anywhere in the head.
	REQ("GET /a\0b HTTP/1.1\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\nA\0: b\r\n\r\n", 400);
	REQ("GET /a\rb HTTP/1.1\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\nA: b\r\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\n\r\r\n", 400);
	REQ("GET / HTTP/1.1\r\nA: \x01\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\nA: \x7f\r\n\r\n", 400);
	// Request lines.
	REQ("GE(T / HTTP/1.1\r\n\r\n", 400);
	REQ("GET\x01 / HTTP/1.1\r\n\r\n", 400);
	REQ("GET  / HTTP/1.1\r\n\r\n", 400);
	REQ("GET / HTTP/1.1 \r\n\r\n", 400);
	REQ(" GET / HTTP/1.1\r\n\r\n", 400);
	REQ("GET /\x80 HTTP/1.1\r\n\r\n", 400);
	REQ("GET x HTTP/1.1\r\n\r\n", 400);
	REQ("GET * HTTP/1.1\r\n\r\n", 400);
	REQ("GET / http/1.1\r\n\r\n", 400);
	REQ("GET / HTTP/1.1x\r\n\r\n", 400);
	REQ("GET / HTTP/1\r\n\r\n", 400);
	REQ("GET / HTTP/2.0\r\n\r\n", 505);
	REQ("GET / HTTP/1.2\r\n\r\n", 505);
	REQ("GET / HTTP/0.9\r\n\r\n", 505);
	REQ("GARBAGE\r\n\r\n", 400);
	// Two Hosts; an expectation we do not know.
	REQ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
	REQ("GET / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417);

	// Responses: every fault of the backend is 502.
	expect_resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n",
		    502);
	expect_resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		    "Content-Length: 2\r\n\r\n",
		    502);
	expect_resp("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", 502);
	expect_resp("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", 502);
	expect_resp("HTTP/1.1 20 OK\r\n\r\n", 502);
	expect_resp("HTTP/1.1 600 Odd\r\n\r\n", 502);
	expect_resp("HTTP/1.1 099 Odd\r\n\r\n", 502);
	expect_resp("HTTP/1.1 200OK\r\n\r\n", 502);
	expect_resp("HTTP/2 200 OK\r\n\r\n", 502);
	expect_resp("HTTP/2.0 200 OK\r\n\r\n", 502);
	expect_resp("\r\nHTTP/1.1 200 OK\r\n\r\n", 502);
	expect_resp("HTTP/1.1 200 O\x01K\r\n\r\n", 502);
	expect_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, "
		    "chunked\r\n\r\n",
		    502);
}

// Parses request s whole with lim; returns the result.
static int parse_with(const struct pv_http1_limits *lim, const char *s)
{
	struct pv_http1_head h;
	size_t used;

	pv_http1_request_init(&h, lim);
	return pv_http1_parse(&h, s, strlen(s), &used);
}

static void test_limits(void)
{
	static char big[PV_HTTP1_MAX_HEAD + 64];
	struct pv_http1_limits lim = { .max_head = 64,
				       .max_line = 24,
				       .max_headers = 2 };
	struct pv_http1_head h;
	size_t used, off;
	int i;

	// Defaults: 100 header lines pass, 101 do not.
	off = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (i = 0; i < PV_HTTP1_MAX_HEADERS; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off,
					"H%d: v\r\n", i);
	snprintf(big + off, sizeof(big) - off, "\r\n");
	expect_req(big, strlen(big), PV_HTTP1_DONE);
	snprintf(big + off, sizeof(big) - off, "X: y\r\n\r\n");
	expect_req(big, strlen(big), 431);
	// A head over 16 KiB, with and without its end of line in sight;
	// a request line over 8 KiB, the same.
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET / HTTP/1.1\r\nA: ", 19);
	expect_req(big, strlen(big), 431);
	memcpy(big + sizeof(big) - 5, "\r\n\r\n", 4);
	expect_req(big, strlen(big), 431);
	memcpy(big, "GET /aaaaaaaaaaaaaaaaaa", 19);
	expect_req(big, strlen(big), 414);
	memset(big, 'a', PV_HTTP1_MAX_LINE + 10);
	memcpy(big, "GET /", 5);
	strcpy(big + PV_HTTP1_MAX_LINE + 10, " HTTP/1.1\r\n\r\n");
	expect_req(big, strlen(big), 414);
	big[PV_HTTP1_MAX_LINE + 10] = '\0';
	expect_req(big, strlen(big), 414);

	// Limits of our own; a start line at the limit with or without
	// its CR, and one byte over it.
	CHECK(parse_with(&lim, "GET /0123456789 HTTP/1.1\r\n\r\n") ==
	      PV_HTTP1_DONE);
	CHECK(parse_with(&lim, "GET /0123456789 HTTP/1.1\n\n") ==
	      PV_HTTP1_DONE);
	CHECK(parse_with(&lim, "GET /01234567890 HTTP/1.1\r\n\r\n") == 414);
	CHECK(parse_with(&lim, "GET /01234567890 HTTP/1.1\n\n") == 414);
	CHECK(parse_with(&lim, "GET /01234567890 HTTP/1.1\r") == 414);
	CHECK(parse_with(&lim, "GET /0123456789 HTTP/1.1\r") == PV_HTTP1_MORE);
	CHECK(parse_with(&lim, "GET /0123456789012345 HTTP/1.1\r\n\r\n") ==
	      414);
	CHECK(parse_with(&lim, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n") ==
	      PV_HTTP1_DONE);
	CHECK(parse_with(&lim, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n"
			       "\r\n") == 431);
	CHECK(parse_with(&lim, "GET / HTTP/1.1\r\nA: 0123456789012345678901234"
			       "5678901234567890123456789\r\n\r\n") == 431);
	pv_http1_response_init(&h, &lim, 0);
	CHECK(pv_http1_parse(&h, "HTTP/1.1 200 A very long reason\r\n\r\n",
			     strlen("HTTP/1.1 200 A very long reason\r\n\r\n"),
			     &used) == 502);
}

// Parses the complete head s; returns it for field lookups.
static void head_of(struct pv_http1_head *h, const char *s)
{
	size_t used;

	pv_http1_request_init(h, NULL);
	CHECK(pv_http1_parse(h, s, strlen(s), &used) == PV_HTTP1_DONE);
}

static void test_fields(void)
{
	static const char s[] =
		"GET / HTTP/1.1\r\nHost: h\r\n"
		"Connection: close, X-Foo\r\nX-Foo: 1\r\n"
		"Keep-Alive: 5\r\nTE: trailers\r\nX-Bar:  2 \r\n"
		"connection: x-baz\r\n\r\n";
	struct pv_http1_head h;
	const char *v;
	size_t len;

	head_of(&h, s);
	v = pv_http1_field_get(&h, s, "x-bar", &len);
	CHECK(v && len == 1 && *v == '2');
	v = pv_http1_field_get(&h, s, "HOST", &len);
	CHECK(v && len == 1 && *v == 'h');
	CHECK(!pv_http1_field_get(&h, s, "X-Ba", &len) && len == 0);
	CHECK(pv_http1_hop_by_hop(&h, s, "X-Foo", 5));
	CHECK(pv_http1_hop_by_hop(&h, s, "x-foo", 5));
	CHECK(pv_http1_hop_by_hop(&h, s, "X-Baz", 5));
	CHECK(pv_http1_hop_by_hop(&h, s, "Keep-Alive", 10));
	CHECK(pv_http1_hop_by_hop(&h, s, "te", 2));
	CHECK(pv_http1_hop_by_hop(&h, s, "Connection", 10));
	CHECK(pv_http1_hop_by_hop(&h, s, "Transfer-Encoding", 17));
	CHECK(pv_http1_hop_by_hop(&h, s, "Upgrade", 7));
	CHECK(pv_http1_hop_by_hop(&h, s, "Proxy-Connection", 16));
	CHECK(!pv_http1_hop_by_hop(&h, s, "X-Bar", 5));
	CHECK(!pv_http1_hop_by_hop(&h, s, "Host", 4));
	CHECK(!pv_http1_hop_by_hop(&h, s, "X-Fo", 4));
	CHECK(!pv_http1_hop_by_hop(&h, s, "Trailer", 7));
	CHECK(pv_http1_list_has("a, b ,c", 7, "B"));
	CHECK(!pv_http1_list_has("a, bc", 5, "b"));
}

// Feeds the body bytes s after head (a request head, or a response head
// when response) whole; returns the body parser's last result.
static int body(const char *head, int response, const char *s, size_t len)
{
	struct pv_http1_head h;
	struct pv_http1_body b;
	size_t used, off = 0, d, dl;
	int r = PV_HTTP1_MORE;

	if (response)
		pv_http1_response_init(&h, NULL, 0);
	else
		pv_http1_request_init(&h, NULL);
	CHECK(pv_http1_parse(&h, head, strlen(head), &used) == PV_HTTP1_DONE);
	pv_http1_body_init(&b, &h);
	while (off < len && r == PV_HTTP1_MORE) {
		r = pv_http1_body_parse(&b, s + off, len - off, &used, &d, &dl);
		off += used;
	}
	if (r >= 400)
		CHECK(b.error[0] != '\0');
	return r;
}

#define CHUNKED_REQ	"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
#define CHUNKED_RESP	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
#define CHUNKS(s, want) CHECK(body(CHUNKED_REQ, 0, s, sizeof(s) - 1) == (want))

static void test_chunks(void)
{
	static char ext[PV_HTTP1_MAX_CHUNK_LINE + 16];
	struct pv_http1_head h;
	struct pv_http1_body b;
	size_t used;

	CHUNKS("5\r\nhello\r\n0\r\n\r\n", PV_HTTP1_DONE);
	CHUNKS("fffffffffffffff\r\n", PV_HTTP1_MORE); // 2^60 - 1
	CHUNKS("1000000000000000\r\n", 400);	      // 2^60
	CHUNKS("ffffffffffffffffff\r\n", 400);
	CHUNKS("\r\n", 400);
	CHUNKS(";ext\r\n", 400);
	CHUNKS("g\r\n", 400);
	CHUNKS("-1\r\n", 400);
	CHUNKS("0x5\r\n", 400);
	CHUNKS(" 5\r\nhello\r\n", 400);
	CHUNKS("5 \r\nhello\r\n", 400);
	CHUNKS("5 ;a\r\nhello\r\n0\r\n\r\n", PV_HTTP1_DONE);
	CHUNKS("5\nhello\r\n", 400);
	CHUNKS("5\r\rhello\r\n", 400);
	CHUNKS("5;a\nhello\r\n", 400);
	CHUNKS("5;a\0\r\nhello\r\n", 400);
	CHUNKS("5\r\nhelloX\r\n", 400);
	CHUNKS("5\r\nhello\n0\r\n\r\n", 400);
	CHUNKS("5\r\nhello\r\r", 400);
	CHUNKS("0\r\n\n", 400);
	CHUNKS("0\r\n\rX", 400);
	CHUNKS("0\r\n x: 1\r\n\r\n", 400);
	CHUNKS("0\r\nBad Name: 1\r\n\r\n", 400);
	CHUNKS("0\r\nA: 1\n\r\n", 400);
	CHUNKS("0\r\nA: \x01\r\n\r\n", 400);
	CHUNKS("0\r\nA: 1\r\nB:\r\n\r\n", PV_HTTP1_DONE);
	CHECK(body(CHUNKED_RESP, 1, "z\r\n", 3) == 502);

	memset(ext, 'e', sizeof(ext));
	ext[0] = '1';
	ext[1] = ';';
	CHECK(body(CHUNKED_REQ, 0, ext, sizeof(ext)) == 400);

	// The end of the input before the end of the body.
	pv_http1_request_init(&h, NULL);
	pv_http1_parse(&h, CHUNKED_REQ, strlen(CHUNKED_REQ), &used);
	pv_http1_body_init(&b, &h);
	CHECK(pv_http1_body_eof(&b) == 400);
	pv_http1_response_init(&h, NULL, 0);
	pv_http1_parse(&h, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", 38,
		       &used);
	pv_http1_body_init(&b, &h);
	CHECK(pv_http1_body_eof(&b) == 502);
	CHECK(b.error[0] != '\0');
}

// Every message, whole, byte by byte and cut in two at every byte, gives
// the same result.
// The reason phrases the project's servers answer with, from one table.
static void test_reasons(void)
{
	CHECK_STR(pv_http1_reason(200), "OK");
	CHECK_STR(pv_http1_reason(413), "Content Too Large");
	CHECK_STR(pv_http1_reason(431), "Request Header Fields Too Large");
	CHECK_STR(pv_http1_reason(502), "Bad Gateway");
	CHECK_STR(pv_http1_reason(599), "Unknown");
}

static void test_splits(void)
{
	static const struct {
		const char *s;
		int response, to_head;
	} msgs[] = {
		{ "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
		  "helloGET",
		  0, 0 },
		{ "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		  "chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
		  "X-Trailer: t\r\n\r\nNEXT",
		  0, 0 },
		{ "\r\nGET / HTTP/1.0\nConnection: keep-alive\n\n", 0, 0 },
		{ "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
		  "Upgrade: websocket\r\nExpect: 100-continue\r\n\r\n",
		  0, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP", 1, 0 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "A\r\n0123456789\r\n0\r\n\r\n",
		  1, 0 },
		{ "HTTP/1.0 200 OK\r\nServer: s\r\n\r\nuntil close", 1, 0 },
		{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 1,
		  0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 1, 1 },
		{ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n"
		  "tunnel",
		  1, 0 },
		// Refused ones too: the same status wherever the cut is.
		{ "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 0, 0 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "5\r\nhelloX",
		  0, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab", 1, 0 },
	};
	struct result whole, piece;
	size_t i, cut, len, bad;

	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		len = strlen(msgs[i].s);
		drive(msgs[i].s, len, msgs[i].response, msgs[i].to_head, len,
		      &whole);
		CHECK(i >= 10 || whole.head_r == PV_HTTP1_DONE);
		CHECK(i >= 10 || whole.body_r == PV_HTTP1_DONE);
		CHECK(i < 10 || whole.head_r >= 400 || whole.body_r >= 400);
		drive(msgs[i].s, len, msgs[i].response, msgs[i].to_head, 0,
		      &piece);
		CHECK(same_result(&whole, &piece));
		for (bad = 0, cut = 1; cut < len; cut++) {
			drive(msgs[i].s, len, msgs[i].response, msgs[i].to_head,
			      cut, &piece);
			bad += !same_result(&whole, &piece);
		}
		CHECK(bad == 0);
		if (bad)
			fprintf(stderr, "  message %zu: %zu cuts differ\n", i,
				bad);
	}
}

int main(void)
{
	RUN(test_requests);
	RUN(test_responses);
	RUN(test_smuggling);
	RUN(test_limits);
	RUN(test_fields);
	RUN(test_chunks);
	RUN(test_splits);
	RUN(test_reasons);
	return kit_report("test_http1");
}
