#ifndef PV_XCONNECT_PROXY_T_H
#define PV_XCONNECT_PROXY_T_H

// The proxy context: the type (xconnect.c sets it up).

#include <sys/epoll.h>
#include <sys/socket.h>

#include <event2/event_struct.h>

#include "defs.h"
#include "reconcile-t.h"
#include "utils/list.h"

struct pvx_frontend;
struct pvx_http_ctx;
struct pvx_session;
struct pvx_statspage;
struct pvx_workers;

struct pvx {
	struct event_base *base;
	int verbose;
	int access_log; // --access-log: a line per http request (main loop)
	int drain_ms;
	int maxconn;	// sessions at most, all frontends together; 0: no cap
	int nsessions;	// sessions now (connecting or established)
	int cap_logged; // "at --maxconn" said, until well below it again
	struct pvx_reconciler rec;
	struct dl_list frontends; // pvx_frontend, with or without listener
	struct dl_list sessions;  // pvx_session, every one (at exit: closed)
	char *scratch;		  // PVX_FLOW_BUF bytes for reads
	int pipes_max;		  // pipes in use at most (0: never splice)
	int pipes_used;		  // pipes held by flows (the pool aside)
	int npool;		  // empty pipes kept for reuse: pool[0..npool)
	int pool[PVX_PIPE_POOL][2];
	int epfd;			 // the data path's sockets (plumbing.c)
	struct event ev_epoll;		 // epfd has edges
	struct dl_list again;		 // pvx_tunnel, yielded, to run again
	struct event ev_again;		 // a zero timer: runs them next round
	int again_failed;		 // ev_again could not be armed (said)
	struct epoll_event *batch;	 // the edges being handled, or NULL
	int batch_n, batch_i;		 // their count, the one being handled
	struct pvx_statspage *statspage; // the HTML stats page, or NULL
	int reuseport; // listeners share their ports (--threads)
	// The data path (datapath.h): this loop's choice and kernel path.
	int datapath;		// enum pvx_datapath
	struct pvx_sockmap *sm; // opened at the first session to enter
	int sm_failed;		// could not be opened (said once)
	int sm_full_said;	// "maps full" said (until the next open)
	uint64_t sm_next;	// the last pair cookie given
	uint64_t sm_now;	// sessions in the maps now
	uint64_t sm_total;	// sessions that entered the maps
	uint64_t sm_refused;	// sessions the maps refused (limits, errors)
	struct pvx_workers *workers; // --threads: the others (main's only)
	struct pvx_http_ctx *http;   // the http plugin's (httpsession.h)
	// How frontends hand an accepted client up, and how a backend whose
	// grace period is over cuts its sessions: the sessions layer's
	// pvx_session_start and pvx_session_close, set by pvx_init, so that
	// frontends and backends call nothing above them.
	int (*accept)(struct pvx_frontend *fe, int cfd,
		      const struct sockaddr *peer, socklen_t peer_len);
	void (*cut)(struct pvx_session *s, const char *why);
};

#endif
