// The access log's request line: escaped so that a request cannot forge
// a log line, cut to its bound with "...", never past it.

#include <string.h>

#include "tests/unit/kit.h"
#include "accesslog.h"

static void line(char *out, const char *method, const char *target, int minor)
{
	pvx_access_log_request(out, method, strlen(method), target,
			       strlen(target), minor);
}

static void test_plain(void)
{
	char out[PVX_ACCESS_LOG_REQUEST];

	line(out, "GET", "/api/v1?q=1", 1);
	CHECK_STR(out, "GET /api/v1?q=1 HTTP/1.1");
	line(out, "POST", "/", 0);
	CHECK_STR(out, "POST / HTTP/1.0");
}

static void test_escaped(void)
{
	char out[PVX_ACCESS_LOG_REQUEST];

	// A quote, a backslash, a newline, a space, a byte past ASCII.
	line(out, "GET", "/a\"b\\c\nd e\xff", 1);
	CHECK_STR(out, "GET /a\\x22b\\x5cc\\x0ad\\x20e\\xff HTTP/1.1");
}

static void test_cut(void)
{
	char out[PVX_ACCESS_LOG_REQUEST + 8], target[400];
	size_t n;

	memset(target, 'a', sizeof(target) - 1);
	target[0] = '/';
	target[sizeof(target) - 1] = '\0';
	memset(out, 'X', sizeof(out));
	line(out, "GET", target, 1);
	n = strlen(out);
	CHECK(n < PVX_ACCESS_LOG_REQUEST);
	CHECK(n > PVX_ACCESS_LOG_REQUEST - 20);
	CHECK(!strcmp(out + n - strlen("... HTTP/1.1"), "... HTTP/1.1"));
	CHECK(!strncmp(out, "GET /aaa", 8));
	// Nothing written past the bound.
	CHECK(out[PVX_ACCESS_LOG_REQUEST] == 'X');
	// Escapes are never cut in half.
	memset(target, '"', sizeof(target) - 1);
	line(out, "GET", target, 1);
	n = strlen(out) - strlen("... HTTP/1.1");
	CHECK((n - 4) % 4 == 0);
	CHECK(!strncmp(out + n - 4, "\\x22", 4));
}

int main(void)
{
	RUN(test_plain);
	RUN(test_escaped);
	RUN(test_cut);
	return kit_report("test_xconnect_accesslog");
}
