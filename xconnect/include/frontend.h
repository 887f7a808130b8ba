#ifndef PV_XCONNECT_FRONTEND_H
#define PV_XCONNECT_FRONTEND_H

// Frontends (frontend.c): listeners and their pools.

#include <stdint.h>
#include <sys/socket.h>

#include "figures-t.h"
#include "frontend-t.h"
#include "graph-t.h"

struct pvx;
struct pvx_backend;

// The frontend with this key, a new one (listening at once, or retrying)
// when there is none. Returns a new reference, or NULL.
struct pvx_frontend *pvx_frontend_get(struct pvx *x, const char *key,
				      const char *label, const char *consumer,
				      const char *target, int netns_pid);

// The same, listening through tp (pvx_frontend_get: TCP), which parses
// target and must have a listen step: the unix plugin passes the Unix
// transport (a socket made inside the consumer's root). The socket
// closes through tp's unlisten.
struct pvx_frontend *pvx_frontend_get_on(struct pvx *x, const char *key,
					 const char *label,
					 const char *consumer,
					 const char *target, int netns_pid,
					 const struct pvx_transport *tp);

// The frontend with this key, or a new pool-only one: a pool of
// backends with its balancing, health, limits and figures, and no
// listener (an http route, served on its site's listener, which the
// caller sets in fe->shared). Returns a new reference, or NULL.
struct pvx_frontend *pvx_frontend_get_pool(struct pvx *x, const char *key,
					   const char *label,
					   const char *consumer,
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

// 1 while x is under the global cap (--maxconn): a listener's room (a
// frontend's, an http site's). accepting: a client waits, and meeting the
// cap is said (once, until well below it again).
int pvx_frontend_global_room(struct pvx *x, int accepting);

// Applies the pool-wide settings a link carries (balance, maxconn, allow
// list, PROXY protocol): the last link applied wins, which is every link
// when pvd wrote the graph. Resumes accepting if the new maxconn allows.
void pvx_frontend_configure(struct pvx_frontend *fe, const struct pvx_link *l);

// Picks the backend for a new client with the frontend's algorithm,
// passing over those in tried (NULL: none). Returns a borrowed pointer, or
// NULL when none is usable.
struct pvx_backend *pvx_frontend_pick(struct pvx_frontend *fe,
				      const struct sockaddr *peer,
				      const struct pvx_tried *tried);

// Records in tried that b was tried (its connect failed).
void pvx_frontend_tried_mark(const struct pvx_frontend *fe,
			     struct pvx_tried *tried,
			     const struct pvx_backend *b);

// Each backend b of fe's pool, in order.
#define pvx_pool_for_each(b, fe)                                               \
	for (unsigned int pi_ = 0;                                             \
	     pi_ < (fe)->pool.n && ((b) = (fe)->pool.v[pi_], 1); pi_++)

// Puts b at the end of the pool. Returns 0, or -1 (memory).
int pvx_frontend_pool_add(struct pvx_frontend *fe, struct pvx_backend *b);

// Takes b out of the pool (no-op when it is not there).
void pvx_frontend_pool_del(struct pvx_frontend *fe,
			   const struct pvx_backend *b);

// The pool's size and its i-th backend (borrowed).
unsigned int pvx_frontend_pool_size(const struct pvx_frontend *fe);
struct pvx_backend *pvx_frontend_pool_at(const struct pvx_frontend *fe,
					 unsigned int i);

// A session begins (accepted) or ends, having moved in and out bytes.
void pvx_frontend_session_begin(struct pvx_frontend *fe);
void pvx_frontend_session_end(struct pvx_frontend *fe, uint64_t in,
			      uint64_t out);

// A session's connect failed (retried: it goes to another backend).
void pvx_frontend_count_connect_error(struct pvx_frontend *fe);
void pvx_frontend_count_retry(struct pvx_frontend *fe);

// A session got through to a backend: "no usable backend" may be said
// again, and a lack of fds is over once that has lasted a second.
void pvx_frontend_session_through(struct pvx_frontend *fe, const char *label);

// Says once, until a session gets through again, that clients are being
// turned away, and why.
void pvx_frontend_no_backend(struct pvx_frontend *fe);

// An HTTP request was routed to fe; an answer with status was sent to a
// client for fe (the proxy's own errors included).
void pvx_frontend_count_http_request(struct pvx_frontend *fe);
void pvx_frontend_count_http_response(struct pvx_frontend *fe, int status);

// Bytes in (client to backend) and out so far, sessions still open
// included.
void pvx_frontend_bytes(const struct pvx_frontend *fe, uint64_t *in,
			uint64_t *out);

// Fills f with fe's own figures (strings borrowed from fe); its backends
// are the collector's to add.
void pvx_frontend_figures(const struct pvx_frontend *fe,
			  struct pvx_fig_frontend *f);

// Backends of fe that take new sessions now.
int pvx_frontend_backends_up(const struct pvx_frontend *fe);

// Why fe serves nobody ("not listening (bind failed)", "no usable
// backend", or the listen step's own reason: "a regular file is there,
// left alone"), or NULL.
const char *pvx_frontend_down_reason(const struct pvx_frontend *fe);

#endif
