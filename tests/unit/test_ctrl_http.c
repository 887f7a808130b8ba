// pv-ctrl's request head parser (ctrl/ctrl_http.c): what it accepts, what
// it refuses with which status, its limits, and that input arriving in
// pieces gives the same result as input arriving whole.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "ctrl/ctrl_http.h"
#include "tests/unit/kit.h"

// Parses the whole of s at once; h is left for the caller to inspect and
// reset.
static int parse(struct pv_ctrl_http_head *h, const char *s, size_t *used)
{
	pv_ctrl_http_reset(h);
	return pv_ctrl_http_parse(h, s, strlen(s), used);
}

// Feeds s one more byte at a time, as a slow client would send it.
static int parse_bytewise(struct pv_ctrl_http_head *h, const char *s)
{
	size_t len = strlen(s), off = 0, avail, used;
	int r = PV_CTRL_HTTP_MORE;

	pv_ctrl_http_reset(h);
	for (avail = 1; avail <= len && r == PV_CTRL_HTTP_MORE; avail++) {
		r = pv_ctrl_http_parse(h, s + off, avail - off, &used);
		off += used;
	}
	return r;
}

static void test_accepted(void)
{
	struct pv_ctrl_http_head h = { 0 };
	size_t used;
	const char *req = "GET /containers?x=1 HTTP/1.0\r\n\r\nNEXT";

	CHECK(parse(&h, req, &used) == PV_CTRL_HTTP_DONE);
	CHECK(used == strlen(req) - 4); // the next request is left alone
	CHECK_STR(h.method, "GET");
	CHECK_STR(h.target, "/containers?x=1");
	CHECK(h.minor == 0 && !h.keep_alive && h.content_length == 0);

	CHECK(parse(&h,
		    "\r\n\nPUT /metrics HTTP/1.1\nContent-Length:  12 \n"
		    "content-length: 12\nExpect: 100-continue\n\n",
		    &used) == PV_CTRL_HTTP_DONE);
	CHECK_STR(h.method, "PUT");
	CHECK(h.minor == 1 && h.keep_alive && h.expect_continue);
	CHECK(h.content_length == 12);

	CHECK(parse(&h,
		    "GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n",
		    &used) == PV_CTRL_HTTP_DONE);
	CHECK(!h.keep_alive);
	pv_ctrl_http_reset(&h);
}

// expect REQ STATUS: REQ is refused with STATUS and a reason.
static void expect(const char *req, int status)
{
	struct pv_ctrl_http_head h = { 0 };
	size_t used;
	int r = parse(&h, req, &used);

	CHECK(r == status);
	if (r != status)
		fprintf(stderr, "  %d for %.40s\n", r, req);
	CHECK(h.error[0] != '\0');
	pv_ctrl_http_reset(&h);
}

static void test_refused(void)
{
	char big[PV_CTRL_MAX_HEAD + 64], *p;
	int i;

	expect("GARBAGE\r\n\r\n", 400);
	expect("GET  /x HTTP/1.1\r\n\r\n", 400);
	expect("GET x HTTP/1.1\r\n\r\n", 400);
	expect("GET /x HTTP/2.0\r\n\r\n", 505);
	expect("GET /x FTP/1.0\r\n\r\n", 400);
	expect("G\"T /x HTTP/1.1\r\n\r\n", 400);
	expect("VERYLONGMETHODNAME /x HTTP/1.1\r\n\r\n", 400);
	expect("GET /a\x7f HTTP/1.1\r\n\r\n", 400);
	expect("GET /x HTTP/1.1\r\nNoColon\r\n\r\n", 400);
	expect("GET /x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400);
	expect("GET /x HTTP/1.1\r\nBad Name: b\r\n\r\n", 400);
	expect("GET /cont\rainers HTTP/1.1\r\n\r\n", 400);
	expect("GET /x HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400);
	expect("GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	expect("GET /x HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n",
	       400);
	expect("GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: "
	       "2\r\n\r\n",
	       400);
	expect("PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501);
	expect("PUT /x HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417);
	expect("PUT /x HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n", 413);

	// 65 header lines; then a head of more than 8 KiB, with and
	// without its end of line in sight.
	p = big + sprintf(big, "GET /x HTTP/1.1\r\n");
	for (i = 0; i <= PV_CTRL_MAX_HEADERS; i++)
		p += sprintf(p, "H%d: v\r\n", i);
	sprintf(p, "\r\n");
	expect(big, 413);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET /", 5);
	expect(big, 413);
}

// A NUL inside the head: refused, not read as the end of a line.
static void test_nul(void)
{
	static const char req[] = "GET /a\0b HTTP/1.1\r\n\r\n";
	struct pv_ctrl_http_head h = { 0 };
	size_t used;

	pv_ctrl_http_reset(&h);
	CHECK(pv_ctrl_http_parse(&h, req, sizeof(req) - 1, &used) == 400);
	pv_ctrl_http_reset(&h);
}

// Partial input: nothing decided, complete lines consumed, the rest
// waits; byte by byte gives what whole input gives.
static void test_pieces(void)
{
	static const char *reqs[] = {
		"GET /daemons HTTP/1.1\r\nHost: x\r\n\r\n",
		"PUT /daemons/pv-xconnect HTTP/1.0\nContent-Length: 17\n\n",
		"GET /x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
		"GET /x HTTP/3.0\r\n\r\n",
	};
	struct pv_ctrl_http_head a = { 0 }, b = { 0 };
	size_t used, i;

	CHECK(parse(&a, "GET /x HTTP/1.1\r\nHost: x\r\nAcc", &used) ==
	      PV_CTRL_HTTP_MORE);
	CHECK(used == strlen("GET /x HTTP/1.1\r\nHost: x\r\n"));
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		CHECK(parse(&a, reqs[i], &used) == parse_bytewise(&b, reqs[i]));
		CHECK(a.content_length == b.content_length);
		CHECK(!strcmp(a.method, b.method));
	}
	pv_ctrl_http_reset(&a);
	pv_ctrl_http_reset(&b);
}

int main(void)
{
	RUN(test_accepted);
	RUN(test_refused);
	RUN(test_nul);
	RUN(test_pieces);
	return kit_report("test_ctrl_http");
}
