// The data path's choice and a tunnel on the kernel path: --datapath
// parsing; with sockmap forced, a TCP tunnel's bytes are moved by the
// kernel, counted exactly in the tunnel's figures, and half-closed both
// ways with no tail byte lost; a session stopped past the watch mark
// toward an echo backend that reads only once its echo is out is
// released way by way and comes back exact; a session with a Unix
// socket stays on splice; auto enters a request/response session and
// leaves a bulk one on splice. Where the kernel path does not work
// (make BPF=0, qemu-user, no CAP_BPF) only the refusal is checked.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/kit.h"
#include "tests/unit/kit_sock.h"
#include "xconnect.h"
#include "datapath.h"
#include "datapath_sockmap.h"

static struct pvx x;
static int finished;

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

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void pump(void)
{
	event_base_loop(x.base, EVLOOP_NONBLOCK);
}

// A tunnel between a TCP client and a TCP backend, or a Unix one.
static int rig_start_kind(struct rig *r, int unix_backend)
{
	int c[2], b[2];

	if (kit_tcp_pair(c) ||
	    (unix_backend ? socketpair(AF_UNIX, SOCK_STREAM, 0, b)
			  : kit_tcp_pair(b))) {
		CHECK(!"socket pair");
		return -1;
	}
	if (unix_backend) {
		kit_nonblock(b[0]);
		kit_nonblock(b[1]);
	}
	r->client = c[0];
	r->backend = b[0];
	finished = 0;
	CHECK(pvx_tunnel_start(&r->t, &x, c[1], b[1], 0, on_done, NULL) == 0);
	return 0;
}

static int rig_start(struct rig *r)
{
	return rig_start_kind(r, 0);
}

static void rig_stop(struct rig *r)
{
	if (!finished)
		pvx_tunnel_fini(&r->t);
	close(r->client);
	close(r->backend);
}

// len bytes of a pattern from one end to the other, read as they come;
// 1 when all arrived intact.
static size_t chunk = 8192; // bytes written at a time

static int stream(int from, int to, size_t len, unsigned seed)
{
	static char out[256 * 1024], in[65536];
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

static void test_parse(void)
{
	enum pvx_datapath dp = PVX_DP_SPLICE;

	CHECK(pvx_datapath_parse("auto", &dp) == 0 && dp == PVX_DP_AUTO);
	CHECK(pvx_datapath_parse("sockmap", &dp) == 0 && dp == PVX_DP_SOCKMAP);
	CHECK(pvx_datapath_parse("splice", &dp) == 0 && dp == PVX_DP_SPLICE);
	CHECK(pvx_datapath_parse("", &dp) == -1);
	CHECK(pvx_datapath_parse("Sockmap", &dp) == -1);
	CHECK_STR(pvx_datapath_name(PVX_DP_AUTO), "auto");
	CHECK_STR(pvx_datapath_name(PVX_DP_SOCKMAP), "sockmap");
	CHECK_STR(pvx_datapath_name(PVX_DP_SPLICE), "splice");
}

// Forced: in the kernel from the join; exact counts; half-close both ways.
static void test_sockmap_tunnel(void)
{
	uint64_t up = 0, down = 0;
	struct rig r;

	x.datapath = PVX_DP_SOCKMAP;
	if (rig_start(&r))
		return;
	CHECK(r.t.kernel == 1);
	CHECK(stream(r.client, r.backend, 3 << 20, 7));
	CHECK(stream(r.backend, r.client, (2 << 20) + 777, 13));
	CHECK(r.t.kernel == 1);
	pvx_dp_tunnel_bytes(&r.t, &up, &down);
	CHECK(up == 3 << 20);
	CHECK(down == (2 << 20) + 777);
	// User space moved none of it.
	CHECK(r.t.up.bytes == 0 && r.t.down.bytes == 0);
	shutdown(r.client, SHUT_WR);
	CHECK(wait_eof(r.backend) == 1);
	CHECK(!finished);
	CHECK(stream(r.backend, r.client, 123457, 5));
	pvx_dp_tunnel_bytes(&r.t, &up, &down);
	CHECK(down == (2 << 20) + 777 + 123457);
	shutdown(r.backend, SHUT_WR);
	CHECK(wait_eof(r.client) == 1);
	CHECK(finished == 1);
	CHECK(x.sm_now == 0);
	rig_stop(&r);
}

// Forced, an echo backend that reads only once it has written back all
// it read (an echo server blocked in send does), with small buffers
// toward it: the backend reads nothing at first, the kernel takes more
// than the watch mark toward it and the pair stops. That way then
// flushes only as the backend reads, which it does only while it can
// write its echo, i.e. while user space relays the way back: each way is
// released on its own (both at once would wait for ever), and every byte
// comes back in order.
static void test_echo_stop(void)
{
	static char out[65536], in[65536], echo[16384];
	size_t len = 24 << 20, sent = 0, got = 0, elen = 0, eoff = 0, i, k;
	long long deadline = now_ms() + 5000;
	int bad = 0, small = 65536;
	struct rig r;
	ssize_t n;

	x.datapath = PVX_DP_SOCKMAP;
	if (rig_start(&r))
		return;
	CHECK(r.t.kernel == 1);
	setsockopt(r.t.b.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	setsockopt(r.backend, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(r.backend, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	while (got < len && !bad && now_ms() < deadline) {
		// The backend starts once the pair has stopped.
		if (!r.t.up.kernel_leaving && r.t.kernel)
			deadline = now_ms() + 10000;
		if (sent < len) {
			k = len - sent < sizeof(out) ? len - sent : sizeof(out);
			for (i = 0; i < k; i++)
				out[i] = (char)((sent + i) * 11 >> 3);
			n = write(r.client, out, k);
			if (n > 0)
				sent += n;
		}
		pump();
		if (r.t.kernel && !r.t.up.kernel_leaving)
			continue;
		if (eoff < elen) {
			n = write(r.backend, echo + eoff, elen - eoff);
			if (n > 0)
				eoff += n;
		}
		if (eoff == elen) {
			n = read(r.backend, echo, sizeof(echo));
			elen = n > 0 ? (size_t)n : 0;
			eoff = 0;
		}
		while ((n = read(r.client, in, sizeof(in))) > 0) {
			for (i = 0; i < (size_t)n; i++)
				if (in[i] != (char)((got + i) * 11 >> 3))
					bad = 1;
			got += n;
		}
	}
	CHECK(!bad);
	CHECK(got == len);
	// It left the kernel (the mark), and user space moved the rest.
	CHECK(r.t.kernel == 0 && r.t.kernel_done == 1);
	CHECK(r.t.up.bytes == len && r.t.down.bytes == len);
	rig_stop(&r);
	x.datapath = PVX_DP_SPLICE;
}

// Forced, a Unix backend: the session stays on splice (a way toward a
// Unix socket cannot be told flushed), refused once, its bytes exact.
static void test_unix_stays(void)
{
	uint64_t refused = x.sm_refused;
	struct rig r;

	x.datapath = PVX_DP_SOCKMAP;
	if (rig_start_kind(&r, 1))
		return;
	CHECK(r.t.sm_cookie == 0 && r.t.kernel == 0);
	CHECK(x.sm_refused == refused + 1);
	CHECK(stream(r.client, r.backend, 1 << 20, 3));
	CHECK(stream(r.backend, r.client, 1 << 20, 5));
	CHECK(r.t.sm_cookie == 0);
	CHECK(r.t.up.bytes == 1 << 20 && r.t.down.bytes == 1 << 20);
	rig_stop(&r);
	x.datapath = PVX_DP_SPLICE;
}

// Auto: small exchanges enter the kernel after PVX_DP_AUTO_READS reads;
// a bulk session (a read that fills the buffer) stays on splice.
static void test_auto(void)
{
	struct rig r;
	int i;

	x.datapath = PVX_DP_AUTO;
	if (rig_start(&r))
		return;
	CHECK(r.t.sm_cookie == 0);
	for (i = 0; i < PVX_DP_AUTO_READS; i++) {
		CHECK(stream(r.client, r.backend, 100, 3 + i));
		CHECK(stream(r.backend, r.client, 200, 9 + i));
	}
	CHECK(r.t.kernel == 1);
	CHECK(stream(r.client, r.backend, 1 << 20, 11));
	rig_stop(&r);

	if (rig_start(&r))
		return;
	// Written 256 KiB at a time: reads fill the proxy's buffer.
	chunk = 256 * 1024;
	CHECK(stream(r.client, r.backend, 8 << 20, 17));
	chunk = 8192;
	for (i = 0; i < 2 * PVX_DP_AUTO_READS; i++)
		CHECK(stream(r.backend, r.client, 100, 5 + i));
	CHECK(r.t.sm_cookie == 0 && r.t.kernel == 0);
	rig_stop(&r);
	x.datapath = PVX_DP_SPLICE;
}

int main(void)
{
	char why[200];
	int works = pvx_sockmap_probe(why, sizeof(why));

	RUN(test_parse);
	if (!works) {
		// Forced where it cannot work: refused at start.
		CHECK(pvx_datapath_choose(PVX_DP_SOCKMAP) == -1);
		CHECK(pvx_datapath_choose(PVX_DP_AUTO) == 0);
		CHECK(pvx_datapath_chosen(NULL) == PVX_DP_SPLICE);
		fprintf(stderr, "test_xconnect_datapath: kernel path: %s\n",
			why);
		return kit_report("test_xconnect_datapath");
	}
	CHECK(pvx_datapath_choose(PVX_DP_SOCKMAP) == 0);
	if (pvx_init(&x)) {
		fprintf(stderr, "pvx_init failed\n");
		return 1;
	}
	CHECK(x.sm != NULL);
	RUN(test_sockmap_tunnel);
	RUN(test_echo_stop);
	RUN(test_unix_stays);
	RUN(test_auto);
	pvx_fini(&x);
	return kit_report("test_xconnect_datapath");
}
