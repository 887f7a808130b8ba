#ifndef PV_XCONNECT_HTTPSESSION_T_H
#define PV_XCONNECT_HTTPSESSION_T_H

// HTTP sessions and sites: the types (httpsession.c has the code).

#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/event_struct.h>

#include "accesslog.h"
#include "frontend-t.h"
#include "listener-t.h"
#include "transport.h"
#include "utils/http1.h"
#include "utils/list.h"

struct pvx;
struct pvx_backend;
struct pvx_tunnel;

// Each of a session's buffers (client input, backend input, the head
// being written) holds this much: the largest head read is half of it,
// so that a rewritten head (X-Forwarded-Host repeats Host) still fits.
#define PVX_HTTP_BUF	  (32 * 1024)
#define PVX_HTTP_MAX_HEAD (PVX_HTTP_BUF / 2)
// Free buffers kept for reuse per proxy context: no malloc per request.
#define PVX_HTTP_FREE_BUFS 256
// Idle backend connections kept per proxy context, and for how long.
#define PVX_HTTP_IDLE_CONNS   256
#define PVX_HTTP_IDLE_CONN_MS 4000
// Defaults of a rule's http timeouts.
#define PVX_HTTP_HEAD_MS_DEFAULT     10000
#define PVX_HTTP_RESPONSE_MS_DEFAULT 60000
// How long a client that is being closed may still send bytes (read and
// dropped, so that its last answer is not lost to a reset).
#define PVX_HTTP_LINGER_MS 1000

// Bytes waiting in a buffer: data[off..len).
struct pvx_hbuf {
	char *data; // NULL while not held (taken from the free list)
	uint32_t off, len;
};

// One rule on a site: requests whose path starts with prefix (on a segment
// boundary) go to the pool of fe.
struct pvx_http_route {
	char *prefix;
	size_t plen;
	char *link_key;		 // the link that added it (and owns it)
	struct pvx_frontend *fe; // reference held
	int head_ms, response_ms, idle_ms;
	struct pv_http1_limits lim;
	struct dl_list list; // in site->routes, longest prefix first
};

// A listening address (and network namespace) with its routes.
struct pvx_http_site {
	unsigned magic; // PVX_HTTP_SITE_MAGIC
	int refs;
	struct pvx *x;
	char *key;
	char *addr_str; // "0.0.0.0:80"
	char *lname, *lwhere;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int netns_pid;
	struct pvx_listener listener;
	struct pvx_bind bind;
	struct dl_list routes; // pvx_http_route
	// The limits before a request is routed: the largest of the routes'.
	struct pv_http1_limits lim;
	int head_ms, idle_ms;
	uint64_t unrouted; // requests answered 404
	unsigned closed : 1;
	struct dl_list list; // in ctx->sites
};

// A connection to a backend: used by one session at a time, kept idle
// between requests when the backend allows.
struct pvx_http_conn {
	int fd;
	struct event ev;	    // edge-triggered, read and write, for good
	struct event ev_idle;	    // while pooled
	struct pvx_backend *be;	    // reference held
	struct pvx_http_session *s; // the user, NULL while pooled
	struct pvx_http_ctx *ctx;
	unsigned readable : 1, writable : 1, connecting : 1, reused : 1;
	unsigned pooled : 1, ev_added : 1, hup : 1;
	struct dl_list idle; // in ctx->idle while pooled
};

enum pvx_http_state {
	PVX_HS_HEAD = 0, // reading a request head
	PVX_HS_CONNECT,	 // connecting to a backend
	PVX_HS_FORWARD,	 // request and answer moving
	PVX_HS_ERROR,	 // writing our own answer, then closing
	PVX_HS_LINGER,	 // answer written: dropping input until EOF
	PVX_HS_UPGRADE,	 // 101 given: flushing, then the tunnel
	PVX_HS_TUNNEL,	 // the data path has both sockets
};

// What one request needs parsed: held by a session from its request's
// first byte to its answer's end, so that an idle keep-alive client costs
// none of it (about 1 KiB).
struct pvx_http_txn {
	struct pv_http1_head h;	 // the request head
	struct pv_http1_head rh; // the answer head
	struct pv_http1_body rb; // the request body
	struct pv_http1_body sb; // the answer body
	struct pvx_tried tried;	 // backends tried for this request
	int attempts;
	int status;		  // the answer's, for the access log
	uint32_t ob_hs, ob_he;	  // the rewritten request head in ob
	uint32_t rq_ready;	  // body bytes at rq.off checked, not yet sent
	uint32_t rs_ready;	  // same from the backend
	int response_ms, idle_ms; // the route's
	uint64_t in, out;	  // bytes of this request each way
	// For the access log, when it is on: the request line as it came,
	// "" until its head is complete, and when that was.
	char request[PVX_ACCESS_LOG_REQUEST];
	struct timeval start;
};

// One client connection, and the request it is on.
struct pvx_http_session {
	unsigned magic; // PVX_HTTP_SESSION_MAGIC
	int cfd;
	struct pvx *x;
	struct pvx_http_ctx *ctx;
	struct pvx_http_site *site; // reference held
	struct event ev_c;
	struct event ev_timer;
	// The client: a site listens on IP:PORT, so no sockaddr_storage
	// (128 bytes) per idle client.
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} peer;
	enum pvx_http_state st;
	unsigned c_readable : 1, c_writable : 1, c_eof : 1, c_hup : 1;
	unsigned req_done : 1, resp_head : 1, resp_done : 1, resp_sent : 1;
	unsigned keep : 1, is_head : 1, retried : 1, ob_resp : 1;
	unsigned upgrade : 1, timer_on : 1, in_pump : 1, closing : 1;
	// The request's head was valid and routed (head_ok), and has left rq
	// (head_gone): our own answer to it may keep the connection.
	unsigned head_ok : 1, head_gone : 1;
	struct pvx_hbuf rq;	// from the client
	struct pvx_hbuf rs;	// from the backend
	struct pvx_hbuf ob;	// a head being written (request, then answer)
	struct pvx_http_txn *t; // NULL while no request is under way
	// The request being served.
	struct pvx_frontend *fe; // its route's pool (reference held)
	struct pvx_http_conn *bc;
	unsigned nreq;
	int deadline_status;	// answered when the timer fires (0: close)
	struct timeval last;	// last progress (loop time)
	struct pvx_tunnel *tun; // after an upgrade
	struct dl_list list;	// in ctx->sessions
};

// The http plugin's state per proxy context (x->http).
struct pvx_http_ctx {
	struct pvx *x;
	struct dl_list sites;	 // pvx_http_site
	struct dl_list sessions; // pvx_http_session
	struct dl_list idle;	 // pvx_http_conn, pooled, oldest first
	int nidle;
	char *free_bufs[PVX_HTTP_FREE_BUFS];
	int nfree;
	struct pvx_http_txn *free_txns[PVX_HTTP_FREE_BUFS];
	int nfree_txns;
	struct pvx_access_log alog; // --access-log
};

#endif
