#ifndef PV_XCONNECT_SESSION_T_H
#define PV_XCONNECT_SESSION_T_H

// Sessions: the type (session.c has the code).

#include <sys/socket.h>
#include <sys/time.h>

#include "frontend-t.h"
#include "tunnel-t.h"
#include "utils/list.h"

struct pvx_frontend;
struct pvx_backend;

enum pvx_session_state {
	PVX_SESSION_CONNECTING = 0,
	PVX_SESSION_ESTABLISHED,
};

// One accepted client and its backend connection.
struct pvx_session {
	unsigned magic;		 // PVX_SESSION_MAGIC (obj.h)
	struct pvx_frontend *fe; // reference held
	struct pvx_backend *be;	 // reference held; NULL between attempts
	enum pvx_session_state state;
	int cfd;		 // client until the tunnel is joined, then -1
	int attempts;		 // backends tried
	struct pvx_tried tried;	 // which (their connects failed)
	struct timeval deadline; // of the connect to the current backend
	struct sockaddr_storage peer;
	// The backend socket from its connect on, the connect's timer, then
	// the bytes both ways.
	struct pvx_tunnel tun;
	struct dl_list list; // in be->sessions
	struct dl_list all;  // in pvx.sessions
};

#endif
