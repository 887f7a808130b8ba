#ifndef PV_XCONNECT_LISTENER_H
#define PV_XCONNECT_LISTENER_H

// Listeners (listener.c), shared by the frontends and the stats page: the
// listen step retried every retry_ms while it fails (said once), accepts
// in batches, a pause when the owner has no room (maxconn) and another
// when accept runs out of fds or memory (EMFILE), so that waiting clients
// stay in the backlog rather than the loop spinning on the error.

#include "listener-t.h"

// Sets l up, not listening. name and where are borrowed (the owner
// keeps them); batch, retry_ms and pause_ms may be changed before start.
void pvx_listener_init(struct pvx_listener *l, struct event_base *base,
		       const struct pvx_listener_ops *ops, void *owner,
		       const char *name, const char *where);

// Listens now, or retries on a timer (the failure said once).
void pvx_listener_start(struct pvx_listener *l);

// Closes the socket and stops the timer: the port is free at once.
// Returns 1 when it was listening. May be started again.
int pvx_listener_stop(struct pvx_listener *l);

// Stops accepting until pvx_listener_resume (or the pause's end).
void pvx_listener_pause(struct pvx_listener *l);

// Accepts again if paused and the owner has room. When the socket cannot
// be watched, says so once and tries again every pause_ms.
void pvx_listener_resume(struct pvx_listener *l);

// Pauses accepting for pause_ms (fds or memory short); a pause that
// cannot be timed is no pause (accepting resumes at once).
void pvx_listener_backoff(struct pvx_listener *l);

#endif
