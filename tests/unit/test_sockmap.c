// The kernel data path (xconnect/datapath_sockmap.c): a client, a proxy
// holding two sockets (a toward the client, b toward the server) spliced
// in the kernel, and a server, over TCP (IPv4 and IPv6) and Unix stream
// sockets. Needs root and a kernel with sockmap; skipped without (never
// under CI=true), and under qemu-user, which cannot run bpf().

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/kit.h"
#include "datapath_sockmap.h"

// How long a test waits for an event that should come at once: a hang
// guard only, never a measurement.
#define HANG_MS 10000

static struct pvx_sockmap *sm;

// The four sockets of one spliced session.
struct rig {
	int cl; // client
	int pa; // proxy, side a (toward the client)
	int pb; // proxy, side b (toward the server)
	int sv; // server
};

// Byte i of a stream seeded with seed: a pattern no shift repeats soon.
static unsigned char pat(uint64_t i, unsigned seed)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed;

	return (unsigned char)(x >> 29);
}

// Makes fd non-blocking.
static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// A connected TCP pair over loopback (family AF_INET or AF_INET6):
// *c the connecting end, *s the accepted one. 0 or -1.
static int tcp_pair(int family, int *c, int *s)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t n = sizeof(ss);
	int l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (l == -1)
		return -1;
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr =
			htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&ss,
		 family == AF_INET ? sizeof(struct sockaddr_in)
				   : sizeof(struct sockaddr_in6)) == -1 ||
	    listen(l, 1) == -1 || getsockname(l, (struct sockaddr *)&ss, &n))
		goto fail;
	*c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*c == -1)
		goto fail;
	if (connect(*c, (struct sockaddr *)&ss, n) == -1) {
		close(*c);
		goto fail;
	}
	*s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	if (*s == -1) {
		close(*c);
		return -1;
	}
	return 0;
fail:
	close(l);
	return -1;
}

// A session's sockets: kind 't' TCP/IPv4 both sides, '6' TCP/IPv6 toward
// the client and IPv4 toward the server, 'u' Unix both sides, 'm' Unix
// toward the client and TCP toward the server. All non-blocking.
static int rig_make(struct rig *r, char kind)
{
	int sv[2], ok;

	memset(r, -1, sizeof(*r));
	if (kind == 'u' || kind == 'm') {
		ok = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ==
		     0;
		r->cl = sv[0];
		r->pa = sv[1];
	} else {
		ok = tcp_pair(kind == '6' ? AF_INET6 : AF_INET, &r->cl,
			      &r->pa) == 0;
	}
	if (kind == 'u')
		ok = ok && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				      sv) == 0;
	else
		ok = ok && tcp_pair(AF_INET, &sv[0], &sv[1]) == 0;
	if (!ok)
		return -1;
	r->pb = sv[0];
	r->sv = sv[1];
	nonblock(r->cl);
	nonblock(r->pa);
	nonblock(r->pb);
	nonblock(r->sv);
	return 0;
}

// Closes the four sockets.
static void rig_close(struct rig *r)
{
	close(r->cl);
	close(r->pa);
	close(r->pb);
	close(r->sv);
}

// One direction of a transfer: what is sent and what arrived.
struct flow {
	int from, to;
	uint64_t total, sent, got;
	unsigned seed;
	int bad;       // 1: a byte arrived wrong
	int eof;       // 1: the reader saw end of stream
	int shut;      // 1: shut the writer's side once all is sent
	uint64_t step; // at most this much per flow_write (0: no limit)
};

// Writes what fits of f's stream.
static void flow_write(struct flow *f)
{
	uint64_t stop = f->step ? f->sent + f->step : f->total;
	unsigned char buf[65536];
	size_t n, i;
	ssize_t w;

	if (stop > f->total)
		stop = f->total;
	while (f->sent < stop) {
		n = f->total - f->sent < sizeof(buf) ? f->total - f->sent
						     : sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = pat(f->sent + i, f->seed);
		w = send(f->from, buf, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		f->sent += (uint64_t)w;
	}
	if (f->shut == 1) {
		shutdown(f->from, SHUT_WR);
		f->shut = 2;
	}
}

// Reads what arrived of f's stream, checking each byte.
static void flow_read(struct flow *f)
{
	unsigned char buf[65536];
	ssize_t n, i;

	for (;;) {
		n = read(f->to, buf, sizeof(buf));
		if (n == 0)
			f->eof = 1;
		if (n <= 0)
			return;
		for (i = 0; i < n; i++)
			if (buf[i] != pat(f->got + (uint64_t)i, f->seed))
				f->bad = 1;
		f->got += (uint64_t)n;
	}
}

// A user-space relay, as the proxy runs once a pair left the kernel:
// from src to dst, shutting dst's write side at src's end of stream.
struct relay {
	int src, dst;
	unsigned char buf[65536];
	size_t len, off;
	int eof;
	uint64_t gate; // a stopped pair: write only once a to b is flushed
};

// Moves what it can through r.
static void relay_run(struct relay *r)
{
	ssize_t n;

	if (r->gate) {
		if (pvx_sockmap_flushed(sm, r->gate, 1) != 1)
			return;
		r->gate = 0;
	}
	for (;;) {
		if (r->off < r->len) {
			n = send(r->dst, r->buf + r->off, r->len - r->off,
				 MSG_NOSIGNAL);
			if (n <= 0)
				return;
			r->off += (size_t)n;
			continue;
		}
		if (r->eof)
			return;
		n = read(r->src, r->buf, sizeof(r->buf));
		if (n == 0) {
			r->eof = 1;
			shutdown(r->dst, SHUT_WR);
		}
		if (n <= 0)
			return;
		r->len = (size_t)n;
		r->off = 0;
	}
}

// Runs the flows (and the relay r, if any) until each flow has delivered
// its total (and, when want_eof, its end of stream), or nothing happens
// for HANG_MS. reading 0 stalls the readers. 0 when done, -1 on a hang.
static int pump(struct flow *f, int nf, int want_eof, int reading,
		struct relay *r)
{
	struct pollfd p[6];
	int i, done;

	for (;;) {
		done = 1;
		if (r)
			relay_run(r);
		for (i = 0; i < nf; i++) {
			flow_write(&f[i]);
			if (reading)
				flow_read(&f[i]);
			if (f[i].got < f[i].total || (want_eof && !f[i].eof))
				done = 0;
		}
		if (done)
			return 0;
		for (i = 0; i < nf; i++) {
			p[2 * i].fd = f[i].sent < f[i].total ? f[i].from : -1;
			p[2 * i].events = POLLOUT;
			p[2 * i + 1].fd = reading && !f[i].eof ? f[i].to : -1;
			p[2 * i + 1].events = POLLIN;
		}
		p[2 * nf].fd = r && !r->eof && r->off == r->len ? r->src : -1;
		p[2 * nf].events = POLLIN;
		p[2 * nf + 1].fd = r && r->off < r->len ? r->dst : -1;
		p[2 * nf + 1].events = POLLOUT;
		if (poll(p, (nfds_t)nf * 2 + 2, HANG_MS) <= 0)
			return -1;
	}
}

// Whether fd has anything to read right now.
static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

// Waits until fd reports end of stream (POLLRDHUP); 0 or -1 on a hang.
static int wait_rdhup(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return poll(&p, 1, HANG_MS) == 1 && (p.revents & POLLRDHUP) ? 0 : -1;
}

// Waits until the kernel has handed all it took from one side to the
// other; 0 or -1 on a hang.
static int wait_flushed(uint64_t cookie, int from_a)
{
	struct timespec ts = { 0, 1000000 };
	int i, r;

	for (i = 0; i < HANG_MS; i++) {
		r = pvx_sockmap_flushed(sm, cookie, from_a);
		if (r)
			return r == 1 ? 0 : -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

// Several MiB both ways at once, byte-exact and counted exactly, without
// the proxy's sockets ever becoming readable; then the client half-closes,
// the proxy learns it, waits for the kernel to flush and shuts down b's
// write side: the server reads every byte and then end of stream; the
// other way still works, and closes the same way. A Unix a leaves the
// maps when the client shuts down, so there the proxy stops the pair and
// relays the rest of the other way itself.
static void test_bulk_and_half_close(char kind, uint64_t cookie)
{
	struct flow f[2] = { 0 };
	uint64_t ab = 0, ba = 0, last = 0;
	struct relay rel = { 0 };
	int a_unix = kind == 'u' || kind == 'm';
	struct timespec now;
	struct rig r;

	if (rig_make(&r, kind) == -1) {
		CHECK(!"rig");
		return;
	}
	CHECK(pvx_sockmap_add_pair(sm, r.pa, r.pb, cookie) == 0);
	f[0] = (struct flow){
		.from = r.cl, .to = r.sv, .seed = 1, .total = 8u << 20
	};
	f[1] = (struct flow){
		.from = r.sv, .to = r.cl, .seed = 2, .total = (5u << 20) + 12345
	};
	CHECK(pump(f, 2, 0, 1, NULL) == 0);
	CHECK(!f[0].bad && !f[1].bad);
	CHECK(f[0].got == f[0].total && f[1].got == f[1].total);
	CHECK(!readable(r.pa) && !readable(r.pb));
	CHECK(pvx_sockmap_counters(sm, cookie, &ab, &ba, &last) == 0);
	CHECK(ab == f[0].total);
	CHECK(ba == f[1].total);
	clock_gettime(CLOCK_MONOTONIC, &now);
	CHECK(last > 0 && last <= (uint64_t)now.tv_sec * 1000000000u +
					  (uint64_t)now.tv_nsec);

	// Half-close, client to server: a tail, then FIN.
	f[0].total += 777777;
	f[0].shut = 1;
	CHECK(pump(f, 1, 0, 1, NULL) == 0);
	CHECK(wait_rdhup(r.pa) == 0);
	CHECK(wait_flushed(cookie, 1) == 0);
	if (a_unix) {
		// The client's shutdown took a out of the maps (the kernel
		// unhashes a Unix socket whose peer shuts down): the rest
		// of b to a is the proxy's, read from b in order.
		CHECK(pvx_sockmap_stop(sm, cookie) == 0);
		rel.src = r.pb;
		rel.dst = r.pa;
	}
	CHECK(shutdown(r.pb, SHUT_WR) == 0);
	CHECK(pump(f, 1, 1, 1, NULL) == 0);
	CHECK(!f[0].bad && f[0].got == f[0].total && f[0].eof);
	// The other way still works while half-closed, then closes too.
	f[1].total += 333333;
	f[1].shut = 1;
	if (a_unix) {
		CHECK(pump(&f[1], 1, 1, 1, &rel) == 0);
	} else {
		CHECK(pump(&f[1], 1, 0, 1, NULL) == 0);
		CHECK(wait_rdhup(r.pb) == 0);
		CHECK(wait_flushed(cookie, 0) == 0);
		CHECK(shutdown(r.pa, SHUT_WR) == 0);
		CHECK(pump(&f[1], 1, 1, 1, NULL) == 0);
	}
	CHECK(!f[1].bad && f[1].got == f[1].total && f[1].eof);
	// Counted: everything the kernel moved (for a Unix a, b to a only
	// up to the client's shutdown; the relay moved the rest).
	CHECK(pvx_sockmap_counters(sm, cookie, &ab, &ba, NULL) == 0);
	CHECK(ab == f[0].total);
	CHECK(a_unix ? ba <= f[1].total : ba == f[1].total);
	CHECK(pvx_sockmap_remove_pair(sm, cookie) == 0);
	CHECK(pvx_sockmap_counters(sm, cookie, &ab, &ba, NULL) == -1);
	CHECK(pvx_sockmap_remove_pair(sm, cookie) == -1 && errno == ENOENT);
	rig_close(&r);
}

static void test_tcp(void)
{
	test_bulk_and_half_close('t', 101);
}

static void test_tcp6(void)
{
	test_bulk_and_half_close('6', 102);
}

static void test_unix(void)
{
	test_bulk_and_half_close('u', 103);
}

static void test_unix_to_tcp(void)
{
	test_bulk_and_half_close('m', 104);
}

// Writes n bytes of the pattern seeded seed into fd, all at once
// (it fits the socket buffers). 0 or -1.
static int put(int fd, size_t n, unsigned seed)
{
	unsigned char buf[4096];
	size_t i;

	if (n > sizeof(buf))
		return -1;
	for (i = 0; i < n; i++)
		buf[i] = pat(i, seed);
	return send(fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

// A reader that stops. Through a Unix sender the kernel holds what the
// socket buffers hold (the bytes stay charged to the sender). From a TCP
// sender it takes what comes and holds it on the way, charged to no
// socket: the program's limit (the default, 4 MiB) bounds that, after
// which the way is left to user space: a is readable, its TCP window
// closes, and once the server reads again every byte arrives in order
// (the rest relayed by the proxy once the kernel has flushed). With
// user_mark (and no kernel limit), the proxy watches
// pvx_sockmap_inflight() itself and stops the pair past 4 MiB instead:
// checked between writes of 256 KiB here, so that bound is tight too.
static void test_stalled_reader(char kind, uint64_t cookie, int user_mark)
{
	const uint64_t mark = 4u << 20;
	struct relay rel = { .src = -1 };
	uint64_t ab = 0, inflight = 0, peak = 0;
	struct flow f = { 0 };
	int i, stopped = 0, over;
	struct pollfd p;
	struct rig r;

	if (rig_make(&r, kind) == -1) {
		CHECK(!"rig");
		return;
	}
	pvx_sockmap_set_limit(sm, user_mark ? 0 : PVX_SOCKMAP_LIMIT);
	CHECK(pvx_sockmap_add_pair(sm, r.pa, r.pb, cookie) == 0);
	pvx_sockmap_set_limit(sm, 0);
	f = (struct flow){ .from = r.cl,
			   .to = r.sv,
			   .seed = 3,
			   .total = 512u << 20,
			   .step = 256u << 10 };
	// Write until the path takes nothing for 500 ms (a quiet period
	// to call it full, not a measurement), at most 512 MiB.
	for (i = 0; i < 1000000 && f.sent < f.total; i++) {
		flow_write(&f);
		if (kind != 'u' && !stopped &&
		    pvx_sockmap_inflight(sm, cookie, 1, &inflight) == 0) {
			peak = inflight > peak ? inflight : peak;
			if (user_mark && inflight > mark) {
				CHECK(pvx_sockmap_stop(sm, cookie) == 0);
				stopped = 1;
			}
		}
		p.fd = r.cl;
		p.events = POLLOUT;
		if (poll(&p, 1, 500) == 0)
			break;
	}
	over = pvx_sockmap_overflowed(sm, cookie, 1);
	fprintf(stderr,
		"test_sockmap: stalled reader (%c%s): %llu KiB taken, "
		"%llu KiB most seen on the way%s\n",
		kind, user_mark ? ", user-space mark" : "",
		(unsigned long long)(f.sent >> 10),
		(unsigned long long)(peak >> 10),
		over == 1 ? ", then left to user space" : "");
	CHECK(f.sent < (64u << 20));
	CHECK(peak <= mark + (1u << 20));
	CHECK(stopped == (kind == 't' && user_mark));
	CHECK(over == (kind == 't' && !user_mark));
	CHECK(!readable(r.pb));
	CHECK(readable(r.pa) == (over == 1 || stopped));
	f.total = f.sent;
	f.step = 0;
	if (stopped || over == 1) {
		rel.src = r.pa;
		rel.dst = r.pb;
		rel.gate = cookie;
	}
	CHECK(pump(&f, 1, 0, 1, rel.src != -1 ? &rel : NULL) == 0);
	CHECK(!f.bad && f.got == f.sent);
	CHECK(pvx_sockmap_counters(sm, cookie, &ab, NULL, NULL) == 0);
	CHECK(rel.src != -1 ? ab < f.sent : ab == f.sent);
	CHECK(pvx_sockmap_remove_pair(sm, cookie) == 0);
	rig_close(&r);
}

// Bytes queued before the splice: TCP ones are moved by the kernel, in
// order before what follows; a Unix socket that holds bytes is refused
// (EAGAIN, nothing lost) until the proxy has drained it.
static void test_queued_before(char kind, uint64_t cookie)
{
	struct flow f[2] = { 0 };
	unsigned char buf[4096];
	struct relay rel = { 0 };
	uint64_t ab = 0, ba = 0;
	struct rig r;
	ssize_t n;

	if (rig_make(&r, kind) == -1) {
		CHECK(!"rig");
		return;
	}
	f[0] = (struct flow){
		.from = r.cl, .to = r.sv, .seed = 4, .total = 3000
	};
	f[1] = (struct flow){
		.from = r.sv, .to = r.cl, .seed = 5, .total = 2000
	};
	CHECK(put(r.cl, 1000, 4) == 0 && put(r.sv, 700, 5) == 0);
	f[0].sent = 1000;
	f[1].sent = 700;
	if (kind == 'u') {
		// Wait until the bytes are there, then see them refused.
		CHECK(pump(f, 0, 0, 0, NULL) == 0);
		CHECK(readable(r.pa) && readable(r.pb));
		CHECK(pvx_sockmap_add_pair(sm, r.pa, r.pb, cookie) == -1 &&
		      errno == EAGAIN);
		CHECK(pvx_sockmap_counters(sm, cookie, NULL, NULL, NULL) == -1);
		// The proxy drains what it holds, then splices.
		rel.src = r.pa;
		rel.dst = r.pb;
		relay_run(&rel);
		rel.src = r.pb;
		rel.dst = r.pa;
		rel.len = rel.off = 0;
		relay_run(&rel);
		n = read(r.pa, buf, sizeof(buf));
		CHECK(n == -1 && errno == EAGAIN);
	} else {
		// Make sure the bytes have reached a and b before the splice.
		struct pollfd p[2] = { { .fd = r.pa, .events = POLLIN },
				       { .fd = r.pb, .events = POLLIN } };

		CHECK(poll(&p[0], 1, HANG_MS) == 1 &&
		      poll(&p[1], 1, HANG_MS) == 1);
	}
	CHECK(pvx_sockmap_add_pair(sm, r.pa, r.pb, cookie) == 0);
	CHECK(pump(f, 2, 0, 1, NULL) == 0);
	CHECK(!f[0].bad && !f[1].bad);
	CHECK(f[0].got == 3000 && f[1].got == 2000);
	CHECK(pvx_sockmap_counters(sm, cookie, &ab, &ba, NULL) == 0);
	CHECK(ab == (kind == 'u' ? 2000 : 3000));
	CHECK(ba == (kind == 'u' ? 1300 : 2000));
	CHECK(pvx_sockmap_remove_pair(sm, cookie) == 0);
	rig_close(&r);
}

// After remove_pair the four sockets are ordinary again: the proxy reads
// what the client sends and writes what the client reads.
static void test_remove_returns(char kind, uint64_t cookie)
{
	struct flow f[2] = { 0 };
	char buf[16];
	struct pollfd p;
	struct rig r;

	if (rig_make(&r, kind) == -1) {
		CHECK(!"rig");
		return;
	}
	CHECK(pvx_sockmap_add_pair(sm, r.pa, r.pb, cookie) == 0);
	f[0] = (struct flow){
		.from = r.cl, .to = r.sv, .seed = 6, .total = 100000
	};
	f[1] = (struct flow){
		.from = r.sv, .to = r.cl, .seed = 7, .total = 100000
	};
	CHECK(pump(f, 2, 0, 1, NULL) == 0);
	CHECK(wait_flushed(cookie, 1) == 0 && wait_flushed(cookie, 0) == 0);
	CHECK(pvx_sockmap_remove_pair(sm, cookie) == 0);
	CHECK(send(r.cl, "ping", 4, 0) == 4);
	p = (struct pollfd){ .fd = r.pa, .events = POLLIN };
	CHECK(poll(&p, 1, HANG_MS) == 1);
	CHECK(read(r.pa, buf, sizeof(buf)) == 4 && !memcmp(buf, "ping", 4));
	CHECK(send(r.pa, "pong", 4, 0) == 4);
	p = (struct pollfd){ .fd = r.cl, .events = POLLIN };
	CHECK(poll(&p, 1, HANG_MS) == 1);
	CHECK(read(r.cl, buf, sizeof(buf)) == 4 && !memcmp(buf, "pong", 4));
	CHECK(send(r.sv, "back", 4, 0) == 4);
	p = (struct pollfd){ .fd = r.pb, .events = POLLIN };
	CHECK(poll(&p, 1, HANG_MS) == 1);
	CHECK(read(r.pb, buf, sizeof(buf)) == 4 && !memcmp(buf, "back", 4));
	CHECK(!readable(r.sv) && !readable(r.cl));
	rig_close(&r);
}

// What add_pair refuses: a cookie in use, a datagram socket.
static void test_refusals(void)
{
	struct rig r;
	int u;

	if (rig_make(&r, 't') == -1) {
		CHECK(!"rig");
		return;
	}
	CHECK(pvx_sockmap_add_pair(sm, r.pa, r.pb, 300) == 0);
	CHECK(pvx_sockmap_add_pair(sm, r.cl, r.sv, 300) == -1 &&
	      errno == EEXIST);
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(pvx_sockmap_add_pair(sm, u, r.sv, 301) == -1 &&
	      errno == EOPNOTSUPP);
	CHECK(pvx_sockmap_counters(sm, 301, NULL, NULL, NULL) == -1);
	CHECK(pvx_sockmap_remove_pair(sm, 300) == 0);
	CHECK(pvx_sockmap_remove_pair(sm, 300) == -1 && errno == ENOENT);
	close(u);
	rig_close(&r);
}

static void test_stalled(void)
{
	test_stalled_reader('t', 201, 0);
	test_stalled_reader('t', 204, 1);
	test_stalled_reader('u', 202, 0);
	test_stalled_reader('m', 203, 0);
}

static void test_queued(void)
{
	test_queued_before('t', 211);
	test_queued_before('6', 212);
	test_queued_before('u', 213);
}

static void test_remove(void)
{
	test_remove_returns('t', 221);
	test_remove_returns('u', 222);
}

int main(void)
{
	char why[256];
	const char *env = getenv("CI");
	int ci = env && !strcmp(env, "true");

	if (getenv("PV_UNDER_QEMU")) {
		fprintf(stderr, "test_sockmap: skipped under qemu-user\n");
		return 77;
	}
	if (!pvx_sockmap_probe(why, sizeof(why))) {
		fprintf(stderr, "test_sockmap: kernel data path: %s\n", why);
		if (!pvx_sockmap_built() || (!ci && geteuid() != 0))
			return 77;
		return ci ? 1 : 77;
	}
	sm = pvx_sockmap_open(64, why, sizeof(why));
	if (!sm) {
		fprintf(stderr, "test_sockmap: open: %s\n", why);
		return 1;
	}
	RUN(test_tcp);
	RUN(test_tcp6);
	RUN(test_unix);
	RUN(test_unix_to_tcp);
	RUN(test_stalled);
	RUN(test_queued);
	RUN(test_remove);
	RUN(test_refusals);
	pvx_sockmap_close(sm);
	return kit_report("test_sockmap");
}
