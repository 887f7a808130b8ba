#ifndef PV_STATE_H
#define PV_STATE_H

#include <stddef.h>

#include "platforms.h"
#include "ipam.h"
#include "utils/errors.h"
#include "utils/list.h"

typedef enum {
	BALANCE_ROUNDROBIN = 0,
	BALANCE_LEASTCONN,
	BALANCE_FIRST,
	BALANCE_SOURCE,
} balance_t;

// "roundrobin", ...; -1 when the name is unknown.
int pv_balance_from_str(const char *s);
const char *pv_balance_to_str(balance_t b);

// An active health check of an ingress's backends.
struct pv_ingress_check {
	int enabled;
	int http;	 // 0: connect only; 1: HTTP request
	char *path;	 // "/health"
	int expect;	 // 200
	int interval_ms; // 0: the proxy's default
	int timeout_ms;
	int rise;
	int fall;
};

// One rule of device.json "ingress".
struct pv_ingress {
	char *name;
	char *type;	  // "tcp" or "http"
	char *external;	  // as written: "0.0.0.0:80", "0.0.0.0:80/api"
	char *path;	  // http: the path prefix ("/" when none); else NULL
	char **providers; // NULL-terminated container names, one backend each
	char *service;
	balance_t balance;
	int balance_set; // balance was written in the state
	struct pv_ingress_check check;
	int connect_ms;	      // 0: not set
	int idle_ms;	      // 0: not set
	int head_ms;	      // http only; 0: not set
	int response_ms;      // http only; 0: not set
	int max_head_bytes;   // http only; 0: not set
	int max_headers;      // http only; 0: not set
	int maxconn;	      // 0: not set
	char *proxy_protocol; // "v1", "v2" or NULL
	char **allow;	      // NULL-terminated client CIDRs, or NULL
	struct dl_list list;  // in pv_state.ingress
};

// One group of device.json "groups" (or of upstream's default groups):
// defaults for the containers that name it.
struct pv_group {
	char *name;
	char *status_goal; // "MOUNTED", "STARTED" or "READY"
	restart_policy_t restart_policy;
	struct pv_platform_recovery recovery; // .set 0: none
	int timeout;			      // seconds; reported only
	struct dl_list list;		      // in pv_state.groups
};

// A whole state: pools, containers in state order, ingress rules.
struct pv_state {
	char *spec;		  // "pantavisor-service-system@1"
	char *xconnect_stats;	  // device.json "xconnect.stats" bind address
	struct dl_list pools;	  // pv_ipam_pool
	struct dl_list platforms; // pv_platform, in container order
	struct dl_list ingress;	  // pv_ingress
	struct dl_list groups;	  // pv_group, as device.json declares them
};

// Allocates an empty state. NULL on failure.
struct pv_state *pv_state_new(void);

// Frees a state and everything it owns. NULL-safe.
void pv_state_free(struct pv_state *s);

// Returns the container or pool of that name, or NULL.
struct pv_platform *pv_state_find_platform(struct pv_state *s,
					   const char *name);
struct pv_ipam_pool *pv_state_find_pool(struct pv_state *s, const char *name);

// Returns the group of that name, or NULL.
struct pv_group *pv_state_find_group(struct pv_state *s, const char *name);

// Frees a group. NULL-safe.
void pv_group_free(struct pv_group *g);

// Frees an ingress rule. NULL-safe.
void pv_ingress_free(struct pv_ingress *in);

// Leases an address for every pool interface of every container, in
// container order (static addresses first, so a static address later in
// the order is never handed out before its owner asks). Each failure is
// added to errs as one line. Returns 0 when all were leased, -1 otherwise.
int pv_state_lease_addresses(struct pv_state *s, struct pv_errors *errs);

// Releases every lease of every container (the interfaces' address
// fields become NULL).
void pv_state_release_addresses(struct pv_state *s);

// Writes how the proxy reaches export e of p into buf: e's socket path,
// else for a port "IP:PORT" ("[IPv6]:PORT") from p's lease,
// "127.0.0.1:PORT" on the host network, "" while unleased or unreachable.
// Returns 0, or -1 when buf is too small.
int pv_state_backend_socket(struct pv_platform *p,
			    struct pv_platform_service_export *e, char *buf,
			    size_t n);

// The xconnect-graph of the state as compact JSON on one line, with the
// current pids and leases. Caller frees; NULL on allocation failure.
// Ingress links come first (rule order, then provider order), then the
// consumer links of services.required (container order).
char *pv_state_get_xconnect_graph_json(struct pv_state *s);

#endif
