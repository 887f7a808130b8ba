#ifndef PV_XCONNECT_BACKEND_T_H
#define PV_XCONNECT_BACKEND_T_H

// Backends: the type (backend.c has the code).

#include <sys/socket.h>
#include <sys/time.h>

#include <event2/event_struct.h>

#include "health-t.h"
#include "transport.h"
#include "stats-t.h"
#include "utils/list.h"

// One link's backend: how to reach its provider.
struct pvx_backend {
	unsigned magic; // PVX_BACKEND_MAGIC (obj.h)
	int refs;
	struct pvx_frontend *fe; // reference held
	char *label;		 // the link's label, for logs
	char *key;		 // the link's key: the backend's identity
	char *provider;
	char *socket; // as written in the graph
	int provider_pid;
	int host; // provider "_host_": the address is a host one
	const struct pvx_transport *tp; // by the address; NULL: none yet
	struct sockaddr_storage addr;	// TCP
	socklen_t addr_len;
	// A Unix backend inside a container holds its provider: a pidfd
	// (watched: the process exiting takes the backend down, its root
	// with it, whatever the graph still says) and an O_PATH fd on the
	// root it had. Reopened when the graph gives a new pid.
	int pid_fd;  // -1 when not held
	int root_fd; // -1 when not held
	struct event ev_pid;
	unsigned provider_gone : 1; // the pid we held has exited
	int connect_ms;
	int idle_ms;
	unsigned in_pool : 1; // in fe->pool
	unsigned removed : 1; // link gone: sessions draining
	struct event ev_drain;
	unsigned drain_armed : 1;
	unsigned connect_failed : 1; // the last session's connect failed
	struct timeval failed_at;    // when (loop time)
	struct pvx_stats stats;
	struct pvx_health health;
	struct dl_list sessions; // pvx_session
};

#endif
