#ifndef PV_XCONNECT_SESSION_H
#define PV_XCONNECT_SESSION_H

// Sessions (session.c).

#include <sys/socket.h>

#include "session-t.h"

// Takes an accepted client socket (owned from now on) and proxies it to
// a backend of fe. Returns 0 once a session holds the client, also when
// that session has ended already (no usable backend: the client is closed
// at once, counted and said); -1 when no session could be made (out of
// memory), the client closed.
int pvx_session_start(struct pvx_frontend *fe, int cfd,
		      const struct sockaddr *peer, socklen_t peer_len);

// The one way a session ends: logs (when verbose) and frees everything.
void pvx_session_close(struct pvx_session *s, const char *why);

#endif
