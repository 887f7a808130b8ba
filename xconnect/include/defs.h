#ifndef PV_XCONNECT_DEFS_H
#define PV_XCONNECT_DEFS_H

// pv-xconnect's tunables and the monotonic clock every deadline uses
// (no types, no calls: every layer may include it).

#include <sys/time.h>
#include <time.h>

// Connect timeout when the link sets none (timeouts.connect_ms).
#define PVX_CONNECT_MS_DEFAULT 5000
// Idle timeout when the link sets none (timeouts.idle_ms; 0 in a graph
// turns it off): a session in which nothing moved for this long is
// closed, so that clients that vanish without a FIN (a device unplugged,
// a NAT entry dropped) do not hold fds and buffers for ever. Ten minutes,
// as nginx's proxy_timeout: long enough for chatty protocols' keepalives.
#define PVX_IDLE_MS_DEFAULT 600000
// Sessions at most, over all frontends, when --maxconn is not given:
// each takes two fds, and some are kept for listeners, providers' pidfds
// and roots, health checks and pv-ctrl (as HAProxy derives its maxconn
// from ulimit -n).
#define PVX_FD_RESERVE 64
// The largest global session cap (--maxconn).
#define PVX_MAXCONN_MAX 100000000
// Sessions of a removed link get this long to finish before they are cut.
#define PVX_DRAIN_MS 5000
// How long an accept that failed for lack of fds pauses its listener.
#define PVX_ACCEPT_PAUSE_MS 250
// How often a listener that could not bind tries again.
#define PVX_BIND_RETRY_MS 1000
// A backend whose connect just failed is passed over by new clients for
// this long (while others are usable), until checks or a retry say more.
#define PVX_SUSPECT_MS 1000
// At most this many bytes wait in the proxy per direction of a session:
// one read's worth. Also the size of each read.
#define PVX_FLOW_BUF (64 * 1024)
// Edges handled per epoll_wait of the data path.
#define PVX_EPOLL_BATCH 256
// What a bulk flow's pipe holds at most: bytes in flight per direction
// of a spliced flow (page references, not copies).
#define PVX_PIPE_BYTES (256 * 1024)
// Empty pipes kept for reuse by bulk flows (per loop).
#define PVX_PIPE_POOL 16
// Pipes in use at most (bulk flows splicing at once); fewer with a low fd
// limit. Flows past it copy.
#define PVX_PIPES_MAX 4096

// Now on the monotonic clock, for sessions' and backends' deadlines: they
// must not move with the wall clock, which a board without an RTC sets
// by NTP long after boot. The coarse clock comes from the vDSO without a
// system call; its tick (1 to 4 ms) is finer than any timeout here.
static inline void pvx_now(struct timeval *tv)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

#endif
