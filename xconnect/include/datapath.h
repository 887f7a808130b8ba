#ifndef PV_XCONNECT_DATAPATH_H
#define PV_XCONNECT_DATAPATH_H

// The data path's choice and the kernel path's glue (datapath.c): which
// path sessions take (--datapath, PVX_DATAPATH), and moving a tunnel's
// two sockets into the BPF sockmap (datapath_sockmap.h) and back.
// plumbing.c calls the pvx_dp_tunnel_* hooks; nothing else does.

#include <stddef.h>
#include <stdint.h>

#include "tunnel-t.h"

struct pvx;

// What --datapath asks for.
enum pvx_datapath {
	PVX_DP_AUTO = 0, // the kernel path for request/response sessions
	PVX_DP_SOCKMAP,	 // every session in the kernel from its join
	PVX_DP_SPLICE,	 // user space only (epoll, copy, splice)
};

// Small reads (shorter than PVX_FLOW_BUF) a session makes, with none
// that filled the buffer, before auto moves it to the kernel path.
#define PVX_DP_AUTO_READS 4
// Sessions in one loop's maps at most; past it sessions stay in user
// space.
#define PVX_DP_PAIRS 8192

// Parses "auto", "sockmap" or "splice". Returns 0, or -1.
int pvx_datapath_parse(const char *s, enum pvx_datapath *out);

// The name of a choice ("auto", "sockmap", "splice").
const char *pvx_datapath_name(enum pvx_datapath dp);

// Decides the process's data path at start: for sockmap and auto, probes
// the kernel path. Logs the choice once. Returns 0; -1 when sockmap was
// asked for and does not work (logged: the caller exits). Every pvx_init
// from then on uses the choice; without a call, splice.
int pvx_datapath_choose(enum pvx_datapath want);

// The process's choice and, when the kernel path is not used, why
// (a static string; "" when it is).
enum pvx_datapath pvx_datapath_chosen(const char **why);

// What --datapath (or PVX_DATAPATH) asked for.
enum pvx_datapath pvx_datapath_wanted(void);

// Opens the loop's kernel path when the choice uses it (loading takes a
// while: not at the first session). A failure is said; sessions then
// stay in user space.
void pvx_dp_init(struct pvx *x);

// Frees the loop's kernel path (after its sessions). NULL-safe members.
void pvx_dp_fini(struct pvx *x);

// A tunnel's bytes each way, the kernel's share included.
void pvx_dp_tunnel_bytes(const struct pvx_tunnel *t, uint64_t *up,
			 uint64_t *down);

// The tunnel ran (at_join: is about to run first) and may now enter the
// kernel path: both ways idle, nothing waiting, the policy agrees.
// Returns 1 when a way is user space's again at once (the tunnel should
// run again). Never frees t.
int pvx_dp_tunnel_maybe_enter(struct pvx_tunnel *t, int at_join);

// An edge on one of a tunnel's sockets while it is in the kernel path:
// a way whose source holds something for user space (an EOF, bytes
// passed to it) leaves the kernel, and is user space's once the kernel
// has flushed it. Returns 1 when a way is user space's (the tunnel
// should run). Never frees t.
int pvx_dp_tunnel_edge(struct pvx_tunnel *t);

// The idle timer's view: the kernel's last move, when later than
// t->last, is copied there.
void pvx_dp_tunnel_activity(struct pvx_tunnel *t);

// Takes the tunnel's sockets out of the maps (before they are closed).
void pvx_dp_tunnel_fini(struct pvx_tunnel *t);

// Calls plumbing's tunnel run (set by plumbing.c; datapath.c is below
// no one but calls back into the tunnel when a way is released).
void pvx_tunnel_run(struct pvx_tunnel *t);

#endif
