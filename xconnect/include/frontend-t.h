#ifndef PV_XCONNECT_FRONTEND_T_H
#define PV_XCONNECT_FRONTEND_T_H

// Frontends: the type (frontend.c has the code).

#include <sys/socket.h>
#include <sys/time.h>

#include <event2/event_struct.h>

#include <stdint.h>

#include "graph-t.h"
#include "listener-t.h"
#include "stats-t.h"
#include "transport.h"
#include "utils/list.h"

struct pvx_backend;
struct pvx_lb_slot;

// A frontend's backends as an array, in the order their links came: what
// the balancer picks from (balance.h), one slot per backend.
struct pvx_pool {
	struct pvx_backend **v;
	struct pvx_lb_slot *slots; // filled at each pick
	unsigned int n, cap;
	unsigned int gen; // changes whenever a backend joins or leaves
};

// The backends one session tried, for the redispatch: their positions in
// the pool (the first 64), valid while the pool's generation is gen, and
// the last one that failed whatever its position. Zeroed: none tried.
struct pvx_tried {
	uint64_t bits;
	unsigned int gen;
	const struct pvx_backend *last;
};

// A listener and its pool of backends. Links with the same frontend key
// (ingress name or consumer, consumer pid and target) share it.
struct pvx_frontend {
	unsigned magic; // PVX_FRONTEND_MAGIC (obj.h)
	int refs;
	struct pvx *x;
	char *key;
	char *label;	// for logs
	char *consumer; // the consumer's name, NULL for an ingress rule
	char *target;	// as written in the graph
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int netns_pid;			// 0: ours
	const struct pvx_transport *tp; // how it listens
	struct pvx_listener listener;	// the socket, its retry and pauses
	struct pvx_bind bind;		// what tp's listen made with it
	char *lname, *lwhere;		// the listener's log prefixes
	// A pool-only frontend (pvx_frontend_get_pool: an http route) has no
	// listener of its own: shared is the one it is served on (an http
	// site's), NULL once it left it.
	struct pvx_listener *shared;
	unsigned pool_only : 1;
	unsigned closed : 1;	     // no links left; waits for its references
	unsigned accept_failing : 1; // accept ran out of fds (said once)
	unsigned warned_down : 1;    // "no usable backend" said
	unsigned http : 1; // an http rule's: its figures show http counters
	struct timeval backoff_last; // last pvx_frontend_backoff
	enum pvx_balance balance;
	int maxconn;		// 0: unlimited
	int proxy_protocol;	// 0: none, 1 or 2: PROXY header version
	struct pvx_cidr *allow; // clients allowed in; NULL: all
	int nallow;
	unsigned rr; // roundrobin position
	struct pvx_stats stats;
	struct pvx_pool pool; // pvx_backend, borrowed (each holds fe)
	struct dl_list list;  // in pvx.frontends
};

#endif
