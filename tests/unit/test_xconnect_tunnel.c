// The data path over socketpair(): bytes both ways in order, half-close
// forwarded, tail bytes kept when a side closes, bounded buffering behind
// a reader that does not read, and the idle timeout.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/kit.h"
#include "tests/unit/kit_sock.h"
#include "xconnect.h"

static struct pvx x;
static int finished;

// The ends the test plays with: client app, backend app.
struct rig {
	struct pvx_tunnel t;
	int client, backend;
};

static void on_done(struct pvx_tunnel *t, void *arg)
{
	(void)arg;
	finished++;
	pvx_tunnel_fini(t);
}

// Two socket pairs joined by a tunnel in the middle.
static void rig_start(struct rig *r, int idle_ms)
{
	int c[2], b[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, c) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, b) == 0);
	kit_nonblock(c[0]);
	kit_nonblock(c[1]);
	kit_nonblock(b[0]);
	kit_nonblock(b[1]);
	r->client = c[0];
	r->backend = b[0];
	finished = 0;
	CHECK(pvx_tunnel_start(&r->t, &x, c[1], b[1], idle_ms, on_done, NULL) ==
	      0);
}

static void rig_stop(struct rig *r)
{
	if (!finished)
		pvx_tunnel_fini(&r->t);
	close(r->client);
	close(r->backend);
}

// Runs the loop for a moment.
static void pump(void)
{
	event_base_loop(x.base, EVLOOP_NONBLOCK);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

// The same over two loopback TCP pairs, without an idle timeout. Returns
// -1 (a failed check) when the pairs cannot be made.
static int rig_start_tcp(struct rig *r)
{
	int c[2], b[2];

	if (kit_tcp_pair(c) || kit_tcp_pair(b)) {
		CHECK(!"tcp_pair");
		return -1;
	}
	r->client = c[0];
	r->backend = b[0];
	finished = 0;
	CHECK(pvx_tunnel_start(&r->t, &x, c[1], b[1], 0, on_done, NULL) == 0);
	return 0;
}

// Moves len bytes of a pattern from one end to the other through the
// tunnel, writing chunk bytes at a time and reading as it goes; returns 1
// when all arrived intact.
static int stream_chunks(int from, int to, size_t len, unsigned seed,
			 size_t chunk)
{
	static char out[256 * 1024], in[256 * 1024];
	size_t sent = 0, got = 0, i;
	long long deadline = now_ms() + 10000;
	ssize_t n;

	while (got < len && now_ms() < deadline) {
		if (sent < len) {
			size_t k = len - sent < chunk ? len - sent : chunk;

			for (i = 0; i < k; i++)
				out[i] = (char)((sent + i) * seed >> 3);
			n = write(from, out, k);
			if (n > 0)
				sent += n;
		}
		pump();
		while ((n = read(to, in, sizeof(in))) > 0) {
			for (i = 0; i < (size_t)n; i++)
				if (in[i] != (char)((got + i) * seed >> 3))
					return 0;
			got += n;
		}
	}
	return got == len;
}

static int stream(int from, int to, size_t len, unsigned seed)
{
	return stream_chunks(from, to, len, seed, 8192);
}

// Reads until EOF (1), data (0) or timeout (-1).
static int wait_eof(int fd)
{
	long long deadline = now_ms() + 3000;
	char buf[256];
	ssize_t n;

	while (now_ms() < deadline) {
		pump();
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return 1;
		if (n > 0)
			return 0;
	}
	return -1;
}

static void test_both_ways_and_half_close(void)
{
	struct rig r;

	rig_start(&r, 0);
	CHECK(stream(r.client, r.backend, 3 << 20, 7));
	CHECK(stream(r.backend, r.client, 3 << 20, 13));
	// The client is done sending: the backend sees EOF...
	shutdown(r.client, SHUT_WR);
	CHECK(wait_eof(r.backend) == 1);
	CHECK(!finished);
	// ...and can still answer.
	CHECK(stream(r.backend, r.client, 1 << 20, 5));
	shutdown(r.backend, SHUT_WR);
	CHECK(wait_eof(r.client) == 1);
	CHECK(finished == 1);
	rig_stop(&r);
}

// A backend that stops reading: the tunnel holds at most one buffer per
// direction and stops reading the client, whose writes then block.
static void test_backpressure(void)
{
	char chunk[65536];
	size_t sent = 0, got = 0;
	long long deadline = now_ms() + 5000;
	ssize_t n;
	struct rig r;
	int blocked = 0, rounds = 0;

	memset(chunk, 'x', sizeof(chunk));
	rig_start(&r, 0);
	while (!blocked && now_ms() < deadline) {
		n = write(r.client, chunk, sizeof(chunk));
		if (n > 0) {
			sent += n;
			rounds = 0;
		} else if (++rounds > 50) {
			blocked = 1; // nothing taken for 50 rounds
		}
		pump();
		CHECK(r.t.up.len - r.t.up.off <= PVX_FLOW_BUF);
	}
	CHECK(blocked);
	// A Unix socket's write edges are watched from the first time it
	// is full.
	CHECK(r.t.b.lazy_out && r.t.b.out_on);
	// Bounded: the socket buffers plus one flow buffer, far from all.
	CHECK(sent < 64u << 20);
	// Reading at the backend drains everything, nothing lost.
	while (got < sent && now_ms() < deadline) {
		pump();
		while ((n = read(r.backend, chunk, sizeof(chunk))) > 0)
			got += n;
	}
	CHECK(got == sent);
	rig_stop(&r);
}

// The client writes and closes at once: every byte still reaches the
// backend, then EOF.
static void test_tail_bytes_on_close(void)
{
	char buf[65536];
	size_t got = 0;
	ssize_t n;
	struct rig r;
	long long deadline = now_ms() + 3000;
	int eof = 0;

	memset(buf, 'y', sizeof(buf));
	rig_start(&r, 0);
	// Fill the backend side so that the tunnel has to buffer.
	while (write(r.client, buf, sizeof(buf)) > 0)
		pump();
	close(r.client);
	r.client = -1;
	while (!eof && now_ms() < deadline) {
		pump();
		while ((n = read(r.backend, buf, sizeof(buf))) > 0)
			got += n;
		if (n == 0)
			eof = 1;
	}
	CHECK(eof);
	CHECK(got > 0);
	// The other way is still open: the backend's close ends the tunnel.
	close(r.backend);
	r.backend = -1;
	deadline = now_ms() + 3000;
	while (!finished && now_ms() < deadline)
		pump();
	CHECK(finished == 1);
	rig_stop(&r);
}

static void test_idle_timeout(void)
{
	struct rig r;
	long long start = now_ms(), took;

	rig_start(&r, 150);
	CHECK(stream(r.client, r.backend, 1000, 3));
	while (!finished && now_ms() - start < 3000)
		event_base_loop(x.base, EVLOOP_ONCE);
	took = now_ms() - start;
	CHECK(finished == 1);
	CHECK(took >= 140 && took < 1000);
	CHECK(r.t.idle_expired);
	// The tunnel closed its ends: both apps see EOF.
	CHECK(wait_eof(r.client) == 1);
	CHECK(wait_eof(r.backend) == 1);
	rig_stop(&r);
}

// Bulk over TCP: flows that fill their reads switch to splice(2), every
// byte still arrives in order both ways, half-close still works, and once
// the bytes have moved no pipe stays with the session.
static void test_splice_bulk(void)
{
	struct rig r;

	// Nothing below can run without both pairs.
	if (rig_start_tcp(&r))
		return;
	CHECK(stream_chunks(r.client, r.backend, 32 << 20, 7, 256 << 10));
	CHECK(stream_chunks(r.backend, r.client, 32 << 20, 11, 256 << 10));
	CHECK(r.t.up.bulk && r.t.down.bulk);
	CHECK(r.t.up.bytes == 32u << 20 && r.t.down.bytes == 32u << 20);
	// Drained: the pipes went back to the pool.
	CHECK(r.t.up.pipe_r == -1 && r.t.down.pipe_r == -1);
	CHECK(x.pipes_used == 0);
	// Small bytes after bulk still go through, in order.
	CHECK(stream(r.client, r.backend, 1000, 3));
	shutdown(r.client, SHUT_WR);
	CHECK(wait_eof(r.backend) == 1);
	CHECK(stream_chunks(r.backend, r.client, 4 << 20, 5, 256 << 10));
	shutdown(r.backend, SHUT_WR);
	CHECK(wait_eof(r.client) == 1);
	CHECK(finished == 1);
	rig_stop(&r);
	pvx_pipe_trim(&x);
	CHECK(x.npool == 0);
}

// Writes 256 KiB chunks to fd, running the loop between them, until the
// tunnel's flow f holds the writer back (50 refusals in a row) or the
// deadline; checks on the way that f never holds more than its bound.
// Returns the bytes written; *blocked says whether the writer was held.
static size_t fill_until_blocked(int fd, const struct pvx_flow *f,
				 long long deadline, int *blocked)
{
	static char chunk[256 * 1024];
	size_t sent = 0;
	int rounds = 0;
	ssize_t n;

	memset(chunk, 'z', sizeof(chunk));
	*blocked = 0;
	while (!*blocked && now_ms() < deadline) {
		n = write(fd, chunk, sizeof(chunk));
		if (n > 0) {
			sent += n;
			rounds = 0;
		} else if (++rounds > 50) {
			*blocked = 1;
		}
		pump();
		CHECK(f->piped <= PVX_PIPE_BYTES);
		CHECK(f->len - f->off <= PVX_FLOW_BUF);
	}
	return sent;
}

// Reads fd, running the loop, until want bytes came or the deadline.
// Returns the bytes read.
static size_t drain(int fd, size_t want, long long deadline)
{
	static char chunk[256 * 1024];
	size_t got = 0;
	ssize_t n;

	while (got < want && now_ms() < deadline) {
		pump();
		while ((n = read(fd, chunk, sizeof(chunk))) > 0)
			got += n;
	}
	return got;
}

// A spliced flow behind a reader that stops: at most one pipe's worth
// waits in the proxy, the writer is held back, nothing is lost.
static void test_splice_backpressure(void)
{
	long long deadline = now_ms() + 5000;
	int blocked;
	struct rig r;
	size_t sent;

	// Nothing below can run without both pairs.
	if (rig_start_tcp(&r))
		return;
	sent = fill_until_blocked(r.client, &r.t.up, deadline, &blocked);
	CHECK(blocked);
	CHECK(r.t.up.bulk);
	CHECK(sent < 64u << 20);
	CHECK(drain(r.backend, sent, deadline) == sent);
	// The other way: the client stops reading; it gets the rest once
	// it reads again.
	deadline = now_ms() + 5000;
	sent = fill_until_blocked(r.backend, &r.t.down, deadline, &blocked);
	CHECK(blocked);
	CHECK(r.t.down.bulk);
	CHECK(drain(r.client, sent, deadline) == sent);
	rig_stop(&r);
	CHECK(x.pipes_used == 0);
}

static int timer_fired;
static uint64_t moved_at_timer;

static void on_probe_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rig *r = arg;

	(void)fd;
	(void)what;
	timer_fired = 1;
	moved_at_timer = r->t.up.bytes;
}

// A flow that always has bytes to read and room to write yields every
// FLOW_ROUNDS reads; the loop's timers (and listeners) must get their
// turn between those rounds, not only once the flow runs dry. The
// buffers that make such a flow (32 MiB queued, room for all of it) need
// SO_SNDBUFFORCE: root.
static void test_yield_lets_timers_run(void)
{
	static char chunk[256 * 1024];
	const int big = 64 << 20;
	size_t queued = 0;
	struct timeval ms1 = { 0, 1000 };
	struct event probe;
	long long deadline;
	struct rig r;
	ssize_t n;

	rig_start(&r, 0);
	if (setsockopt(r.client, SOL_SOCKET, SO_SNDBUFFORCE, &big,
		       sizeof(big)) ||
	    setsockopt(r.t.b.fd, SOL_SOCKET, SO_SNDBUFFORCE, &big,
		       sizeof(big))) {
		const char *ci = getenv("CI");

		fprintf(stderr,
			"test_yield_lets_timers_run: SO_SNDBUFFORCE: "
			"%s (needs root)%s\n",
			strerror(errno),
			ci && !strcmp(ci, "true") ? "" : ", not run");
		CHECK(!ci || strcmp(ci, "true"));
		rig_stop(&r);
		return;
	}
	memset(chunk, 'y', sizeof(chunk));
	while (queued < 32u << 20 &&
	       (n = write(r.client, chunk, sizeof(chunk))) > 0)
		queued += n;
	CHECK(queued >= 32u << 20);
	// Copied rather than spliced: slow enough (tens of ms) that the
	// timer falls due while it runs.
	r.t.up.nosplice = 1;
	timer_fired = 0;
	evtimer_assign(&probe, x.base, on_probe_timer, &r);
	evtimer_add(&probe, &ms1);
	deadline = now_ms() + 5000;
	while (!timer_fired && now_ms() < deadline)
		event_base_loop(x.base, EVLOOP_ONCE);
	CHECK(timer_fired);
	// Due after 1 ms, while most of the 32 MiB still waited.
	CHECK(moved_at_timer < queued);
	evtimer_del(&probe);
	rig_stop(&r);
	pvx_pipe_trim(&x);
}

int main(void)
{
	if (pvx_init(&x)) {
		fprintf(stderr, "pvx_init failed\n");
		return 1;
	}
	RUN(test_both_ways_and_half_close);
	RUN(test_backpressure);
	RUN(test_tail_bytes_on_close);
	RUN(test_idle_timeout);
	RUN(test_splice_bulk);
	RUN(test_splice_backpressure);
	RUN(test_yield_lets_timers_run);
	pvx_fini(&x);
	return kit_report("test_xconnect_tunnel");
}
