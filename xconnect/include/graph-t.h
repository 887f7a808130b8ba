#ifndef PV_XCONNECT_GRAPH_T_H
#define PV_XCONNECT_GRAPH_T_H

// Links and graphs: the types (graph.c has the code, graph.h the calls).

#include <sys/socket.h>

#include "utils/list.h"

enum pvx_check_type {
	PVX_CHECK_NONE = 0,
	PVX_CHECK_TCP,
	PVX_CHECK_HTTP,
};

// An ingress rule's active health check, as the graph gives it.
struct pvx_check {
	enum pvx_check_type type;
	char *path;				 // HTTP path, NULL: "/health"
	int expect;				 // HTTP status, 0: 200
	int interval_ms, timeout_ms, rise, fall; // 0: defaults
};

// A client network allowed in: an IPv4 or IPv6 prefix.
struct pvx_cidr {
	struct sockaddr_storage net;
	int prefix;
};

enum pvx_balance {
	PVX_BALANCE_ROUNDROBIN = 0,
	PVX_BALANCE_LEASTCONN,
	PVX_BALANCE_FIRST,
	PVX_BALANCE_SOURCE,
};

// One entry of the xconnect-graph. Absent strings are NULL, except those
// every link has (type, name, provider, target), and socket ("" when
// absent). An http link's limits, 0 when absent (the engine's default):
// head_ms (the client's request head, 408 past it), response_ms (the
// backend's response head, 504), max_head_bytes (431), max_headers.
struct pvx_link {
	char *key;   // identity across graphs, see pvx_link_key
	char *label; // for logs: the ingress name, else the service name
	char *type;
	char *name;
	char *consumer;
	char *provider;
	char *role;
	char *interface;
	char *target;
	// An http link's target split: the address it listens on and its
	// path prefix ("/" when the target has none); NULL for other types.
	char *http_addr;
	char *http_prefix;
	char *socket;
	char *ingress;
	int consumer_pid; // <= 0: not running
	int provider_pid;
	enum pvx_balance balance;
	char *proxy_protocol;
	int connect_ms; // 0: default
	int idle_ms;	// -1: PVX_IDLE_MS_DEFAULT; 0: no idle timeout
	int maxconn;	// 0: unlimited
	int head_ms;
	int response_ms;
	int max_head_bytes;
	int max_headers;
	struct pvx_check check;
	struct pvx_cidr *allow; // clients allowed in; NULL: all
	int nallow;
	void *priv;	     // the plugin's object, carried across updates
	int served;	     // reconcile: 1 set up by its plugin, 0 not (yet)
	int unserved_logged; // reconcile: "no plugin" said once
	struct dl_list list; // in pvx_graph.links
};

// The links of one graph document, in document order.
struct pvx_graph {
	struct dl_list links; // pvx_link
	int count;
};

#endif
