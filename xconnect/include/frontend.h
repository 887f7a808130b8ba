#ifndef PV_XCONNECT_FRONTEND_H
#define PV_XCONNECT_FRONTEND_H

// Frontends (frontend.c): listeners and their pools.

#include <stdint.h>
#include <sys/socket.h>

#include "frontend-t.h"
#include "graph-t.h"

struct pvx;
struct pvx_backend;

// The frontend with this key, a new one (listening at once, or retrying)
// when there is none. Returns a new reference, or NULL.
struct pvx_frontend *pvx_frontend_get(struct pvx *x, const char *key,
				      const char *label, const char *consumer,
				      const char *target, int netns_pid);

// Takes a reference.
void pvx_frontend_ref(struct pvx_frontend *fe);

// Drops a reference; the last one frees. NULL-safe.
void pvx_frontend_unref(struct pvx_frontend *fe);

// Closes the listener when the pool is empty (the port is free at once);
// the struct lives on while sessions reference it.
void pvx_frontend_check_empty(struct pvx_frontend *fe);

// A call (named by what; errno says why) failed for lack of fds or
// memory: stops accepting for PVX_ACCEPT_PAUSE_MS, so that waiting
// clients stay in the backlog rather than the loop spinning on the error.
// Logged once until a session gets through again.
void pvx_frontend_backoff(struct pvx_frontend *fe, const char *what);

// Replaces the frontend's allow list with a copy of allow (n 0: all
// clients). Returns 0, or -1 (memory; the old list stays).
int pvx_frontend_set_allow(struct pvx_frontend *fe,
			   const struct pvx_cidr *allow, int n);

// Resumes accepting (after maxconn relief); no-op when not paused by it.
void pvx_frontend_resume(struct pvx_frontend *fe);

// Resumes every frontend that the global session cap (pvx.maxconn) had
// paused, now that a session ended.
void pvx_frontend_resume_all(struct pvx *x);

// Picks the backend for a new client; skip is one that just failed (or
// NULL). Returns a borrowed pointer, or NULL when none is usable.
struct pvx_backend *pvx_frontend_pick(struct pvx_frontend *fe,
				      const struct sockaddr *peer,
				      const struct pvx_backend *skip);

// Bytes in (client to backend) and out so far, sessions still open
// included.
void pvx_frontend_bytes(const struct pvx_frontend *fe, uint64_t *in,
			uint64_t *out);

// Backends of fe that take new sessions now.
int pvx_frontend_backends_up(const struct pvx_frontend *fe);

// Why fe serves nobody ("not listening (bind failed)", "no usable
// backend"), or NULL.
const char *pvx_frontend_down_reason(const struct pvx_frontend *fe);

#endif
