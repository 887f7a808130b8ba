#ifndef PV_XCONNECT_BALANCE_H
#define PV_XCONNECT_BALANCE_H

// Balancing (balance.c): a table of algorithms, each picking one slot of
// an array that describes a frontend's pool as the pick sees it (as
// HAProxy's lbprm callbacks and nginx's peer.get with its tried[] bitmap).
// An algorithm knows nothing of backends: a pick is one pass (two when
// every candidate is suspect) over n slots, O(n).

#include <stdint.h>
#include <sys/socket.h>

#include "graph-t.h"

// One backend of the pool, for one pick.
struct pvx_lb_slot {
	uint32_t load;	      // sessions now (leastconn)
	unsigned usable : 1;  // may take a session at all
	unsigned suspect : 1; // its last connect failed a moment ago
	unsigned tried : 1;   // this session tried it already (redispatch)
};

// What a pick works on: the slots, the pool's own position (roundrobin,
// leastconn's tie-breaking; advanced by the pick) and the client's
// address hash (source).
struct pvx_lb_ctx {
	const struct pvx_lb_slot *slots;
	unsigned int n;
	unsigned int *cursor;
	unsigned int hash;
};

// One algorithm. pick returns the chosen slot's index, or -1 when no slot
// may take the session: slots not usable or tried never; suspect ones
// only when no other candidate is left.
struct pvx_balancer {
	const char *name; // as in the graph's "balance"
	int (*pick)(const struct pvx_lb_ctx *c);
};

// The algorithm for b (roundrobin for a value out of range).
const struct pvx_balancer *pvx_balancer_get(enum pvx_balance b);

// A hash of the client's address (not its port), for "source"; 0 for a
// client that has no IP address (Unix sockets) or none given.
unsigned int pvx_lb_peer_hash(const struct sockaddr *peer);

#endif
