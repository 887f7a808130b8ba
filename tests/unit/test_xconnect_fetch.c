// The graph over pv-ctrl: HTTP answers parsed whole (Content-Length
// honoured, never the first read taken for all), against a server that
// sends a large answer in small pieces.

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/kit.h"
#include "xconnect.h"

static int body_of(const char *resp, const char **body, size_t *len)
{
	const char *reason = NULL;

	return pvx_http_body(resp, strlen(resp), body, len, &reason);
}

static void test_http_body(void)
{
	const char *body;
	size_t len;

	CHECK(body_of("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
		      "Content-Length: 2\r\n\r\n[]",
		      &body, &len) == 0);
	CHECK(len == 2 && !memcmp(body, "[]", 2));
	// No Content-Length: everything until EOF.
	CHECK(body_of("HTTP/1.1 200 OK\r\n\r\n[1,2]", &body, &len) == 0);
	CHECK(len == 5);
	// Header names are case-insensitive; bare \n line ends are taken.
	CHECK(body_of("HTTP/1.0 200 OK\ncontent-length:  3 \n\n[1]xx", &body,
		      &len) == 0);
	CHECK(len == 3 && !memcmp(body, "[1]", 3));
	// Short of its Content-Length: the answer was cut.
	CHECK(body_of("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n[]", &body,
		      &len) == -1);
	CHECK(body_of("HTTP/1.0 404 Not Found\r\n\r\n{}", &body, &len) == -1);
	CHECK(body_of("HTTP/1.0 2000 OK\r\n\r\n{}", &body, &len) == -1);
	CHECK(body_of("HTTP/1.0 200 OK\r\nContent-Length: 1x\r\n\r\n[]", &body,
		      &len) == -1);
	CHECK(body_of("HTTP/1.0 200 OK\r\nContent-Le", &body, &len) == -1);
	CHECK(body_of("garbage", &body, &len) == -1);
	CHECK(body_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		      "2\r\n[]\r\n0\r\n\r\n",
		      &body, &len) == -1);
	// Strict since utils/http1.c reads the answer: two different
	// Content-Lengths, Content-Length with Transfer-Encoding, a space
	// before the colon, a folded header line are all refused.
	CHECK(body_of("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n"
		      "Content-Length: 3\r\n\r\n[1]",
		      &body, &len) == -1);
	CHECK(body_of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		      "Transfer-Encoding: chunked\r\n\r\n[]",
		      &body, &len) == -1);
	CHECK(body_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n[]",
		      &body, &len) == -1);
	CHECK(body_of("HTTP/1.0 200 OK\r\nContent-Length : 2\r\n\r\n[]", &body,
		      &len) == -1);
	CHECK(body_of("HTTP/1.0 200 OK\r\nX-A: 1\r\n b\r\n\r\n[]", &body,
		      &len) == -1);
	CHECK(body_of("HTTP/2.0 200 OK\r\n\r\n[]", &body, &len) == -1);
	// Bytes after the Content-Length are not the body; an empty body is.
	CHECK(body_of("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\nxx", &body,
		      &len) == 0);
	CHECK(len == 0);
}

struct result {
	int called;
	char *body;
	size_t len;
	const char *reason;
};

static void on_fetched(const char *body, size_t len, const char *reason,
		       void *arg)
{
	struct result *r = arg;

	r->called++;
	r->reason = reason;
	if (body) {
		r->body = malloc(len);
		memcpy(r->body, body, len);
		r->len = len;
	}
}

// A server that answers one GET with an n-byte JSON array in pieces of
// `piece` bytes, pausing now and then, with or without Content-Length.
static pid_t serve(const char *path, size_t n, size_t piece, int with_cl)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *resp, hdr[128], req[512];
	size_t hl, total, off;
	int lfd, fd;
	pid_t pid;

	strcpy(sun.sun_path, path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) || listen(lfd, 4))
		return -1;
	pid = fork();
	if (pid) {
		close(lfd);
		return pid;
	}
	fd = accept(lfd, NULL, NULL);
	if (read(fd, req, sizeof(req)) <= 0)
		_exit(1);
	if (with_cl)
		hl = snprintf(hdr, sizeof(hdr),
			      "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n",
			      n);
	else
		hl = snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\n\r\n");
	total = hl + n;
	resp = malloc(total);
	memcpy(resp, hdr, hl);
	memset(resp + hl, ' ', n);
	resp[hl] = '[';
	resp[total - 1] = ']';
	for (off = 0; off < total;) {
		size_t k = total - off < piece ? total - off : piece;
		ssize_t w = write(fd, resp + off, k);

		if (w <= 0)
			break;
		off += w;
		if ((off / piece) % 64 == 0)
			usleep(1000);
	}
	free(resp);
	close(fd);
	_exit(off == total ? 0 : 1);
}

static void fetch_case(struct event_base *base, size_t n, size_t piece,
		       int with_cl)
{
	struct result r = { 0 };
	struct pvx_fetch *f;
	time_t start = time(NULL);
	char path[64];
	pid_t pid;
	int status;

	// Our own path: test binaries of other builds may run at once.
	snprintf(path, sizeof(path), "/tmp/pvx-fetch-%d.sock", (int)getpid());
	pid = serve(path, n, piece, with_cl);

	CHECK(pid > 0);
	f = pvx_fetch_start(base, path, "/xconnect-graph", 5000, on_fetched,
			    &r);
	CHECK(f != NULL);
	while (f && !r.called && time(NULL) - start < 10)
		event_base_loop(base, EVLOOP_ONCE);
	CHECK(r.called == 1);
	CHECK(r.reason == NULL);
	CHECK(r.len == n);
	CHECK(r.body && r.body[0] == '[' && r.body[n - 1] == ']');
	free(r.body);
	waitpid(pid, &status, 0);
	unlink(path);
}

static void test_fetch_in_pieces(void)
{
	struct event_base *base = event_base_new();
	struct result r = { 0 };

	// 3 MiB in 1000-byte writes, with and without Content-Length.
	fetch_case(base, 3 << 20, 1000, 1);
	fetch_case(base, 3 << 20, 1000, 0);
	fetch_case(base, 2, 1, 1);
	// Nobody listening: it cannot start; no callback.
	CHECK(pvx_fetch_start(base, "/tmp/pvx-nobody-here.sock", "/x", 1000,
			      on_fetched, &r) == NULL);
	CHECK(r.called == 0);
	event_base_free(base);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_http_body);
	RUN(test_fetch_in_pieces);
	return kit_report("test_xconnect_fetch");
}
