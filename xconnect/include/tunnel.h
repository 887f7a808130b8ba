#ifndef PV_XCONNECT_TUNNEL_H
#define PV_XCONNECT_TUNNEL_H

// The data path (plumbing.c): tunnels, pipes.

#include "tunnel-t.h"

// Sets t up without sockets; done and connected get arg.
void pvx_tunnel_init(struct pvx_tunnel *t, struct pvx *x, pvx_tunnel_cb done,
		     pvx_tunnel_cb connected, void *arg);

// Watches b, the backend socket (owned by t from now on, also on
// failure), for good; is_unix when it is an AF_UNIX one. With connecting,
// its first edge calls connected, which checks the connect and then joins
// or drops b. Returns 0 or -1.
int pvx_tunnel_set_b(struct pvx_tunnel *t, int b, int connecting, int is_unix);

// Unwatches and closes b (a failed connect), so another can be set.
void pvx_tunnel_drop_b(struct pvx_tunnel *t);

// Joins the client socket a (owned from now on) to the connected b:
// bytes start to move, a's first ones at once. done may run before this
// returns. Returns 0 or -1.
int pvx_tunnel_join(struct pvx_tunnel *t, int a, int idle_ms);

// init + set_b(b connected) + join, for two connected sockets (owned by
// the tunnel from now on, also on failure). Returns 0 or -1.
int pvx_tunnel_start(struct pvx_tunnel *t, struct pvx *x, int a, int b,
		     int idle_ms, pvx_tunnel_cb done, void *arg);

// Stops the tunnel and closes its sockets. Safe on a zeroed tunnel.
void pvx_tunnel_fini(struct pvx_tunnel *t);

// An empty pipe (non-blocking ends) from x's pool, or a new one while
// fewer than pipes_max are in use. Returns 0, or -1 (then copy instead).
int pvx_pipe_get(struct pvx *x, int *rfd, int *wfd);

// Gives a pipe back: kept for reuse when empty, else closed.
void pvx_pipe_put(struct pvx *x, int rfd, int wfd, int empty);

// Closes the pipes kept for reuse (no session left to use them).
void pvx_pipe_trim(struct pvx *x);

// Sets up x's data path (its epoll set in x->base). Returns 0 or -1.
int pvx_plumbing_init(struct pvx *x);

// Undoes pvx_plumbing_init, closes the pooled pipes. After the sessions.
void pvx_plumbing_fini(struct pvx *x);

#endif
