#ifndef PV_CTRL_H
#define PV_CTRL_H

#include <stddef.h>

#include <event2/event.h>

// pv-ctrl: the HTTP API of pvd on a Unix socket. ctrl.c is the server and
// the router; each endpoint lives in ctrl/ctrl_<endpoint>_ep.c.

// Hard limits of one request; beyond them the answer is 413 (or 408 for
// the time), with a JSON error body.
#define PV_CTRL_MAX_HEAD    8192	  // request line and headers, bytes
#define PV_CTRL_MAX_HEADERS 64		  // header lines
#define PV_CTRL_MAX_BODY    (1024 * 1024) // body bytes
#define PV_CTRL_REQUEST_MS  5000	  // whole request, first byte to last
#define PV_CTRL_IDLE_MS	    30000 // keep-alive connection between requests
#define PV_CTRL_WRITE_MS    10000 // a client that stops reading its answer
#define PV_CTRL_MAX_CONNS   2048  // concurrent connections

// One parsed request, valid during the handler call.
struct pv_ctrl_request {
	const char *method; // "GET", "PUT", ...
	const char *path;   // "/daemons/pv-xconnect", without the query
	const char *query;  // after '?', or NULL
	const char *body;   // NUL-terminated; "" when there is none
	size_t body_len;
};

// What a handler answers. body is malloc'd (the server frees it); NULL
// means an empty body. content_type NULL means application/json.
struct pv_ctrl_response {
	int status;
	char *body;
	const char *content_type;
};

// An endpoint: ctx is the pointer given to pv_ctrl_new.
typedef void (*pv_ctrl_handler_fn)(void *ctx, const struct pv_ctrl_request *req,
				   struct pv_ctrl_response *resp);

struct pv_ctrl_endpoint {
	const char *method;
	const char *path; // exact match; ending in '/': that and one segment
	pv_ctrl_handler_fn handler;
};

// The endpoints, one file each.
void pv_ctrl_xconnect_graph_get(void *ctx, const struct pv_ctrl_request *req,
				struct pv_ctrl_response *resp);
void pv_ctrl_containers_get(void *ctx, const struct pv_ctrl_request *req,
			    struct pv_ctrl_response *resp);
void pv_ctrl_container_get(void *ctx, const struct pv_ctrl_request *req,
			   struct pv_ctrl_response *resp);
void pv_ctrl_container_put(void *ctx, const struct pv_ctrl_request *req,
			   struct pv_ctrl_response *resp);
void pv_ctrl_daemons_get(void *ctx, const struct pv_ctrl_request *req,
			 struct pv_ctrl_response *resp);
void pv_ctrl_daemons_put(void *ctx, const struct pv_ctrl_request *req,
			 struct pv_ctrl_response *resp);
void pv_ctrl_xconnect_status_get(void *ctx, const struct pv_ctrl_request *req,
				 struct pv_ctrl_response *resp);
void pv_ctrl_xconnect_status_put(void *ctx, const struct pv_ctrl_request *req,
				 struct pv_ctrl_response *resp);
void pv_ctrl_metrics_get(void *ctx, const struct pv_ctrl_request *req,
			 struct pv_ctrl_response *resp);
void pv_ctrl_metrics_put(void *ctx, const struct pv_ctrl_request *req,
			 struct pv_ctrl_response *resp);

// Sets resp to status with body {"error":"<formatted message>"}.
void pv_ctrl_error(struct pv_ctrl_response *resp, int status, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

// Sets resp to status with body json (taken over; NULL means the
// allocation failed and becomes a 500).
void pv_ctrl_json(struct pv_ctrl_response *resp, int status, char *json);

struct pv_ctrl;

// Binds the pv-ctrl socket at path (creating its parent directories,
// mode 0600) and serves the endpoints on base, passing ctx to handlers.
// Refuses, with a clear message, when another server answers on path.
// Returns NULL after logging why.
struct pv_ctrl *pv_ctrl_new(struct event_base *base, const char *path,
			    void *ctx);

// Closes every connection and the listener and removes the socket file
// if it is still the one we created. NULL-safe.
void pv_ctrl_free(struct pv_ctrl *ctrl);

#endif
