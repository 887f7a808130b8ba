// The http plugin's pure parts: prefix matching on segment boundaries,
// the path of a target, the request and answer heads rewritten.

#include <stdlib.h>
#include <string.h>

#include "tests/unit/kit.h"
#include "utils/http1.h"
#include "httpsession.h"

static int match(const char *prefix, const char *path)
{
	return pvx_http_prefix_match(prefix, strlen(prefix), path,
				     strlen(path));
}

static void test_prefix_match(void)
{
	CHECK(match("/", "/"));
	CHECK(match("/", "/anything?q"));
	CHECK(match("/api", "/api"));
	CHECK(match("/api", "/api/"));
	CHECK(match("/api", "/api/x"));
	CHECK(match("/api", "/api?x=1"));
	CHECK(!match("/api", "/apix"));
	CHECK(!match("/api", "/ap"));
	CHECK(!match("/api", "/"));
	CHECK(!match("/api", "/API"));
	CHECK(match("/a/b", "/a/b/c"));
	CHECK(!match("/a/b", "/a/bc"));
	CHECK(!match("/a/b", "/a"));
}

// Parses a request head (whole, DONE expected) into h.
static int parse_req(struct pv_http1_head *h, const char *text)
{
	size_t used;

	pv_http1_request_init(h, NULL);
	return pv_http1_parse(h, text, strlen(text), &used);
}

static void test_target_path(void)
{
	static const struct {
		const char *req, *path;
	} cases[] = {
		{ "GET /api/x?q=1 HTTP/1.1\r\nHost: a\r\n\r\n", "/api/x?q=1" },
		{ "GET http://h:80/api/x HTTP/1.1\r\nHost: a\r\n\r\n",
		  "/api/x" },
		{ "GET http://h HTTP/1.1\r\nHost: a\r\n\r\n", "/" },
		{ "GET http://h?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", "?x=1" },
	};
	struct pv_http1_head h;
	const char *p;
	size_t i, n;
	char got[64];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(parse_req(&h, cases[i].req) == PV_HTTP1_DONE);
		p = pvx_http_target_path(&h, cases[i].req, &n);
		snprintf(got, sizeof(got), "%.*s", (int)n, p);
		CHECK_STR(got, cases[i].path);
	}
}

static void test_build_request(void)
{
	const char *req = "POST /api/v1 HTTP/1.1\r\n"
			  "Host: example.org\r\n"
			  "Connection: keep-alive, X-Secret\r\n"
			  "Keep-Alive: timeout=5\r\n"
			  "X-Secret: 1\r\n"
			  "TE: trailers\r\n"
			  "Proxy-Connection: keep-alive\r\n"
			  "X-Forwarded-For: 10.0.0.1\r\n"
			  "X-Forwarded-Proto: https\r\n"
			  "X-Forwarded-Host: evil\r\n"
			  "Transfer-Encoding: chunked\r\n"
			  "Accept: */*\r\n\r\n";
	const char *want = "POST /v1 HTTP/1.1\r\n"
			   "Host: example.org\r\n"
			   "Transfer-Encoding: chunked\r\n"
			   "Accept: */*\r\n"
			   "X-Forwarded-For: 10.0.0.1, 192.0.2.7\r\n"
			   "X-Forwarded-Proto: http\r\n"
			   "X-Forwarded-Host: example.org\r\n"
			   "Connection: keep-alive\r\n\r\n";
	struct pv_http1_head h;
	char out[1024];
	int n;

	CHECK(parse_req(&h, req) == PV_HTTP1_DONE);
	n = pvx_http_build_request(&h, req, "/v1", 3, "192.0.2.7", "x:1", 0,
				   out, sizeof(out));
	CHECK(n > 0);
	if (n > 0) {
		out[n] = '\0';
		CHECK_STR(out, want);
	}
	// Too small a buffer: refused, not truncated.
	CHECK(pvx_http_build_request(&h, req, "/v1", 3, "192.0.2.7", "x:1", 0,
				     out, 40) == -1);

	// HTTP/1.0 without Host: one is added; a Unix client: no XFF; the
	// backend is asked in the client's version (no chunked answer).
	req = "GET / HTTP/1.0\r\nUpgrade: websocket\r\n"
	      "Connection: Upgrade\r\n\r\n";
	CHECK(parse_req(&h, req) == PV_HTTP1_DONE);
	n = pvx_http_build_request(&h, req, "/", 1, NULL, "10.0.0.2:80", 1, out,
				   sizeof(out));
	CHECK(n > 0);
	if (n > 0) {
		out[n] = '\0';
		CHECK_STR(out, "GET / HTTP/1.0\r\nUpgrade: websocket\r\n"
			       "Host: 10.0.0.2:80\r\n"
			       "X-Forwarded-Proto: http\r\n"
			       "Connection: upgrade\r\n\r\n");
	}
}

static void test_build_response(void)
{
	const char *rsp = "HTTP/1.0 404 Not Found\r\n"
			  "Content-Length: 3\r\n"
			  "Connection: keep-alive\r\n"
			  "Keep-Alive: timeout=5\r\n"
			  "X-App: 1\r\n\r\n";
	struct pv_http1_head h;
	char out[512];
	size_t used;
	int n;

	pv_http1_response_init(&h, NULL, 0);
	CHECK(pv_http1_parse(&h, rsp, strlen(rsp), &used) == PV_HTTP1_DONE);
	n = pvx_http_build_response(&h, rsp, 1, 1, out, sizeof(out));
	CHECK(n > 0);
	if (n > 0) {
		out[n] = '\0';
		CHECK_STR(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n"
			       "X-App: 1\r\n\r\n");
	}
	n = pvx_http_build_response(&h, rsp, 1, 0, out, sizeof(out));
	CHECK(n > 0 && strstr(out, "Connection: keep-alive\r\n\r\n"));
	n = pvx_http_build_response(&h, rsp, 0, 1, out, sizeof(out));
	CHECK(n > 0 && strstr(out, "Connection: close\r\n\r\n"));
}

int main(void)
{
	RUN(test_prefix_match);
	RUN(test_target_path);
	RUN(test_build_request);
	RUN(test_build_response);
	return kit_report("test_xconnect_http");
}
