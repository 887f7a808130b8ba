#ifndef PV_XCONNECT_BACKEND_H
#define PV_XCONNECT_BACKEND_H

// Backends (backend.c): one link's way to its provider.

#include <stddef.h>
#include <stdint.h>

#include "backend-t.h"
#include "figures-t.h"
#include "graph-t.h"
#include "utils/list.h"

struct pvx_frontend;

// A backend for link in fe's pool. Returns a new backend (one reference,
// held by the caller: the link), or NULL.
struct pvx_backend *pvx_backend_new(struct pvx_frontend *fe,
				    const struct pvx_link *link);

// Applies a changed link to b in place. Returns 1 when anything changed.
int pvx_backend_update(struct pvx_backend *b, const struct pvx_link *link);

// The link of b is gone (or moved elsewhere): b leaves the pool and the
// link's reference is dropped. With drain, its sessions get the grace
// period and are then cut; without, they run on until they end.
void pvx_backend_remove(struct pvx_backend *b, int drain);

// Takes/drops a reference; the last one frees. unref is NULL-safe.
void pvx_backend_ref(struct pvx_backend *b);
void pvx_backend_unref(struct pvx_backend *b);

// 1 when b can be tried for a new session.
int pvx_backend_usable(const struct pvx_backend *b);

// A session's connect to b ended: ok 1 connected, 0 failed.
void pvx_backend_connected(struct pvx_backend *b, int ok);

// 1 when b's last connect failed less than PVX_SUSPECT_MS ago: new
// clients (and retries) go to the other backends first.
int pvx_backend_suspect(const struct pvx_backend *b);

// Why b cannot be tried ("no address yet", "provider not running",
// "check failed: HTTP 500"), or NULL when it can.
const char *pvx_backend_down_reason(const struct pvx_backend *b);

// 1 when b has somewhere to connect to (its health aside): an address,
// and a running provider for a container's backend.
int pvx_backend_reachable(const struct pvx_backend *b);

// Starts a non-blocking connect to b. Returns the socket (connect in
// progress or done), or -1 with errno set, or *reason (static) when errno
// does not say it. *again is set to 1 for a Unix backlog that is full
// (try again shortly).
int pvx_backend_connect(struct pvx_backend *b, int *again, const char **reason);

// Describes b's address for logs into buf ("10.0.4.2:80",
// "app1:/run/app.sock"). Returns buf.
const char *pvx_backend_describe(const struct pvx_backend *b, char *buf,
				 size_t n);

// Bytes in (client to backend) and out so far, sessions still open
// included.
void pvx_backend_bytes(const struct pvx_backend *b, uint64_t *in,
		       uint64_t *out);

// Bytes of the sessions open now only.
void pvx_backend_live_bytes(const struct pvx_backend *b, uint64_t *in,
			    uint64_t *out);

// Sessions on b now (what leastconn compares).
uint32_t pvx_backend_load(const struct pvx_backend *b);

// A session starts on b (node: its link in b's list of sessions), or
// leaves it (its connect failed, or it ended).
void pvx_backend_session_add(struct pvx_backend *b, struct dl_list *node);
void pvx_backend_session_del(struct pvx_backend *b, struct dl_list *node);

// An http request holds a connection to b (connecting included), or lets
// it go: counted as a session now and in all (what leastconn compares and
// the figures show), without a place in b's list of tcp sessions.
void pvx_backend_request_begin(struct pvx_backend *b);
void pvx_backend_request_end(struct pvx_backend *b);

// Counts what a session on b did: its bytes (when it ends), a failed
// connect, a connect retried here after another backend failed.
void pvx_backend_count_bytes(struct pvx_backend *b, uint64_t in, uint64_t out);
void pvx_backend_count_connect_error(struct pvx_backend *b);
void pvx_backend_count_retry(struct pvx_backend *b);

// Fills f with b's figures (strings borrowed from b).
void pvx_backend_figures(const struct pvx_backend *b,
			 struct pvx_fig_backend *f);

// The backend's name in figures: its provider, or its address for a
// host backend.
const char *pvx_backend_name(const struct pvx_backend *b);

#endif
