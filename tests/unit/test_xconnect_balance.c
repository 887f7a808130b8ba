// The balancing table (balance.h) over arrays of slots: each algorithm's
// distribution, unusable and suspect slots, tried ones (redispatch); then
// the same through a frontend's pool of real backends, tried marks
// surviving (or not) a change of the pool.

#include <netinet/in.h>
#include <string.h>

#include "log.h"
#include "tests/unit/kit.h"
#include "xconnect.h"

#define N 4

static struct pvx_lb_slot slots[N];
static unsigned int cursor;

static void reset(void)
{
	int i;

	memset(slots, 0, sizeof(slots));
	for (i = 0; i < N; i++)
		slots[i].usable = 1;
	cursor = 0;
}

// One pick with algorithm b and hash h over slots[0..n).
static int pick(enum pvx_balance b, unsigned int n, unsigned int h)
{
	struct pvx_lb_ctx c = { slots, n, &cursor, h };

	return pvx_balancer_get(b)->pick(&c);
}

static void test_names(void)
{
	int b;

	for (b = PVX_BALANCE_ROUNDROBIN; b <= PVX_BALANCE_SOURCE; b++)
		CHECK_STR(pvx_balancer_get(b)->name, pvx_balance_name(b));
	// Out of range: roundrobin rather than a crash.
	CHECK_STR(pvx_balancer_get((enum pvx_balance)99)->name, "roundrobin");
}

static void test_roundrobin(void)
{
	int count[N] = { 0 }, i, k;

	reset();
	for (i = 0; i < 400; i++) {
		k = pick(PVX_BALANCE_ROUNDROBIN, N, 0);
		CHECK(k == i % N);
		if (k >= 0)
			count[k]++;
	}
	for (i = 0; i < N; i++)
		CHECK(count[i] == 100);
	// One down: the others share its turns; it never gets one.
	reset();
	memset(count, 0, sizeof(count));
	slots[2].usable = 0;
	for (i = 0; i < 400; i++) {
		k = pick(PVX_BALANCE_ROUNDROBIN, N, 0);
		CHECK(k >= 0 && k != 2);
		if (k >= 0)
			count[k]++;
	}
	CHECK(count[0] == 100 && count[1] == 100 && count[3] == 200);
	// None usable; an empty pool.
	reset();
	for (i = 0; i < N; i++)
		slots[i].usable = 0;
	CHECK(pick(PVX_BALANCE_ROUNDROBIN, N, 0) == -1);
	CHECK(pick(PVX_BALANCE_ROUNDROBIN, 0, 0) == -1);
}

static void test_leastconn(void)
{
	int count[N] = { 0 }, i, k;

	// Sessions that stay: every pick goes to the least loaded, so that
	// they spread evenly.
	reset();
	for (i = 0; i < 400; i++) {
		k = pick(PVX_BALANCE_LEASTCONN, N, 0);
		CHECK(k >= 0);
		if (k < 0)
			continue;
		count[k]++;
		slots[k].load++;
	}
	for (i = 0; i < N; i++)
		CHECK(count[i] == 100);
	// The least loaded wins; ties go round.
	reset();
	slots[0].load = 3;
	slots[1].load = 1;
	slots[2].load = 2;
	slots[3].load = 1;
	CHECK(pick(PVX_BALANCE_LEASTCONN, N, 0) == 1); // scan from 0
	CHECK(pick(PVX_BALANCE_LEASTCONN, N, 0) == 1); // from 1
	CHECK(pick(PVX_BALANCE_LEASTCONN, N, 0) == 3); // from 2
	CHECK(pick(PVX_BALANCE_LEASTCONN, N, 0) == 3); // from 3
	CHECK(pick(PVX_BALANCE_LEASTCONN, N, 0) == 1); // from 0 again
}

static void test_first_and_source(void)
{
	int i, k, seen[N] = { 0 };

	reset();
	for (i = 0; i < 10; i++)
		CHECK(pick(PVX_BALANCE_FIRST, N, 0) == 0);
	slots[0].usable = 0;
	CHECK(pick(PVX_BALANCE_FIRST, N, 0) == 1);
	// source: the hash names the slot; a down one passes the client to
	// the next.
	reset();
	for (i = 0; i < 10; i++)
		CHECK(pick(PVX_BALANCE_SOURCE, N, 7) == 3);
	for (i = 0; i < 40; i++) {
		k = pick(PVX_BALANCE_SOURCE, N, (unsigned int)i);
		CHECK(k == i % N);
		if (k >= 0)
			seen[k]++;
	}
	CHECK(seen[0] == 10 && seen[1] == 10 && seen[2] == 10 && seen[3] == 10);
	slots[3].usable = 0;
	CHECK(pick(PVX_BALANCE_SOURCE, N, 7) == 0);
	CHECK(cursor == 0); // neither moves the roundrobin position
}

// Suspects (a connect failed a moment ago) are passed over while others
// can take the client, and taken when only they are left; tried slots
// never, whatever the algorithm.
static void test_suspect_and_tried(void)
{
	enum pvx_balance b;
	int i;

	for (b = PVX_BALANCE_ROUNDROBIN; b <= PVX_BALANCE_SOURCE; b++) {
		reset();
		slots[0].suspect = slots[1].suspect = 1;
		for (i = 0; i < 8; i++) {
			int k = pick(b, N, (unsigned int)i);

			CHECK(k == 2 || k == 3);
		}
		slots[2].tried = slots[3].tried = 1;
		for (i = 0; i < 8; i++) {
			int k = pick(b, N, (unsigned int)i);

			CHECK(k == 0 || k == 1);
		}
		slots[0].tried = slots[1].tried = 1;
		CHECK(pick(b, N, 0) == -1);
	}
}

static void test_peer_hash(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, c = a;

	a.sin_addr.s_addr = htonl(0x0a000001);
	c.sin_addr.s_addr = htonl(0x0a000001);
	a.sin_port = htons(1000);
	c.sin_port = htons(2000);
	// The port does not count: one client's connections stay together.
	CHECK(pvx_lb_peer_hash((struct sockaddr *)&a) ==
	      pvx_lb_peer_hash((struct sockaddr *)&c));
	c.sin_addr.s_addr = htonl(0x0a000002);
	CHECK(pvx_lb_peer_hash((struct sockaddr *)&a) !=
	      pvx_lb_peer_hash((struct sockaddr *)&c));
	CHECK(pvx_lb_peer_hash(NULL) == 0);
}

// A frontend's pool of real (host) backends: a pick goes through the
// table; tried marks keep a failed backend out of the session's next
// pick, also after the pool changed (the last one failed still counts).
static void test_frontend_pool(void)
{
	static const char *const socks[] = { "127.0.0.1:9", "127.0.0.1:10",
					     "127.0.0.1:11" };
	struct pvx_backend *b[3] = { NULL }, *p, *extra;
	struct pvx_link l = { 0 };
	struct pvx_tried tried = { 0 };
	struct pvx_frontend *fe;
	struct pvx x;
	int i;

	CHECK(pvx_init(&x) == 0);
	fe = pvx_frontend_get(&x, "k", "t", NULL, "127.0.0.1:1", -1);
	CHECK(fe != NULL);
	if (!fe)
		return;
	l.label = "t";
	l.provider = "_host_";
	l.idle_ms = -1;
	for (i = 0; i < 3; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", i);
		l.key = key;
		l.socket = (char *)socks[i];
		b[i] = pvx_backend_new(fe, &l);
		CHECK(b[i] != NULL);
	}
	CHECK(pvx_frontend_pool_size(fe) == 3);
	for (i = 0; i < 3; i++)
		CHECK(pvx_frontend_pool_at(fe, i) == b[i]);
	// roundrobin: 0, 1, 2, 0...
	for (i = 0; i < 6; i++)
		CHECK(pvx_frontend_pick(fe, NULL, NULL) == b[i % 3]);
	// b[0] and b[1] tried: only b[2] is left, then nobody.
	pvx_frontend_tried_mark(fe, &tried, b[0]);
	pvx_frontend_tried_mark(fe, &tried, b[1]);
	for (i = 0; i < 3; i++)
		CHECK(pvx_frontend_pick(fe, NULL, &tried) == b[2]);
	pvx_frontend_tried_mark(fe, &tried, b[2]);
	CHECK(pvx_frontend_pick(fe, NULL, &tried) == NULL);
	// The pool changes (a backend joins): positions no longer hold, the
	// last failed one (b[2]) is still passed over.
	l.key = "k3";
	l.socket = "127.0.0.1:12";
	extra = pvx_backend_new(fe, &l);
	CHECK(extra != NULL);
	for (i = 0; i < 8; i++) {
		p = pvx_frontend_pick(fe, NULL, &tried);
		CHECK(p != NULL && p != b[2]);
	}
	// A backend leaves: the order of the others stays.
	pvx_backend_remove(b[1], 0);
	CHECK(pvx_frontend_pool_size(fe) == 3);
	CHECK(pvx_frontend_pool_at(fe, 0) == b[0]);
	CHECK(pvx_frontend_pool_at(fe, 1) == b[2]);
	CHECK(pvx_frontend_pool_at(fe, 2) == extra);
	pvx_backend_remove(b[0], 0);
	pvx_backend_remove(b[2], 0);
	pvx_backend_remove(extra, 0);
	CHECK(pvx_frontend_pool_size(fe) == 0);
	pvx_frontend_unref(fe);
	pvx_fini(&x);
}

int main(void)
{
	pv_log_set_level(FATAL);
	RUN(test_names);
	RUN(test_roundrobin);
	RUN(test_leastconn);
	RUN(test_first_and_source);
	RUN(test_suspect_and_tried);
	RUN(test_peer_hash);
	RUN(test_frontend_pool);
	return kit_report("test_xconnect_balance");
}
