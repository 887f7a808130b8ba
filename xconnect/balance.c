// Balancing algorithms over an array of slots (balance.h). Every pick
// makes at most two passes: the first passes over backends whose last
// connect failed a moment ago (suspect), the second, only when the first
// found none, takes them too.

#include <netinet/in.h>
#include <stddef.h>

#include "balance.h"

// 1 when slot s may take the session in this pass.
static int candidate(const struct pvx_lb_slot *s, int pass)
{
	return s->usable && !s->tried && (pass || !s->suspect);
}

// From start on (wrapping), the first candidate; -1 when none.
static int first_from(const struct pvx_lb_ctx *c, unsigned int start)
{
	unsigned int i, j;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0, j = start; i < c->n;
		     i++, j = j + 1 == c->n ? 0 : j + 1)
			if (candidate(&c->slots[j], pass))
				return (int)j;
	}
	return -1;
}

static int pick_roundrobin(const struct pvx_lb_ctx *c)
{
	if (!c->n)
		return -1;
	return first_from(c, (*c->cursor)++ % c->n);
}

static int pick_first(const struct pvx_lb_ctx *c)
{
	return c->n ? first_from(c, 0) : -1;
}

static int pick_source(const struct pvx_lb_ctx *c)
{
	return c->n ? first_from(c, c->hash % c->n) : -1;
}

// The candidate with the fewest sessions; ties go round: the scan starts
// one further each time (as HAProxy's leastconn, so that short sessions
// use every backend).
static int pick_leastconn(const struct pvx_lb_ctx *c)
{
	unsigned int start, i, j;
	int pass, best = -1;

	if (!c->n)
		return -1;
	start = (*c->cursor)++ % c->n;
	for (pass = 0; pass < 2 && best < 0; pass++) {
		for (i = 0, j = start; i < c->n;
		     i++, j = j + 1 == c->n ? 0 : j + 1) {
			if (!candidate(&c->slots[j], pass))
				continue;
			if (best < 0 || c->slots[j].load < c->slots[best].load)
				best = (int)j;
		}
	}
	return best;
}

static const struct pvx_balancer balancers[] = {
	[PVX_BALANCE_ROUNDROBIN] = { "roundrobin", pick_roundrobin },
	[PVX_BALANCE_LEASTCONN] = { "leastconn", pick_leastconn },
	[PVX_BALANCE_FIRST] = { "first", pick_first },
	[PVX_BALANCE_SOURCE] = { "source", pick_source },
};

const struct pvx_balancer *pvx_balancer_get(enum pvx_balance b)
{
	if ((unsigned int)b >= sizeof(balancers) / sizeof(balancers[0]))
		return &balancers[PVX_BALANCE_ROUNDROBIN];
	return &balancers[b];
}

unsigned int pvx_lb_peer_hash(const struct sockaddr *peer)
{
	const unsigned char *p;
	unsigned int h = 2166136261u;
	size_t n, i;

	if (!peer)
		return 0;
	if (peer->sa_family == AF_INET) {
		p = (const void *)&((const struct sockaddr_in *)peer)->sin_addr;
		n = 4;
	} else if (peer->sa_family == AF_INET6) {
		p = (const void *)&((const struct sockaddr_in6 *)peer)
			    ->sin6_addr;
		n = 16;
	} else {
		return 0;
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}
