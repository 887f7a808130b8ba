#ifndef PV_XCONNECT_HEALTH_T_H
#define PV_XCONNECT_HEALTH_T_H

// Active health checks: the types.

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event_struct.h>

#include "graph-t.h"

// What a rule's "check" leaves out (HAProxy's defaults for inter, rise,
// fall; timeout as HAProxy's "timeout check" is commonly set).
#define PVX_CHECK_INTERVAL_MS 2000
#define PVX_CHECK_TIMEOUT_MS  1000
#define PVX_CHECK_RISE	      2
#define PVX_CHECK_FALL	      3
#define PVX_CHECK_PATH	      "/health"
#define PVX_CHECK_EXPECT      200

// One backend's active health check and what it found. Without a check
// configured the backend counts as healthy.
struct pvx_health {
	struct pvx_check conf;	 // defaults filled in; path owned
	unsigned enabled : 1;	 // conf.type != PVX_CHECK_NONE
	unsigned up : 1;	 // by the checks (1 until fall failures)
	unsigned running : 1;	 // a check is in progress
	unsigned sent : 1;	 // the HTTP request went out
	unsigned stalled : 1;	 // ev_next could not be armed (said)
	int streak;		 // results in a row against the state
	int fd;			 // the check's connection, -1
	struct event ev_io;	 // its progress, with the check's deadline
	struct event ev_next;	 // the next check
	struct timespec started; // CLOCK_MONOTONIC
	char rbuf[128];		 // the start of the answer
	size_t rlen;
	int last_ok;		    // -1 before the first result
	int last_ms;		    // duration of the last check
	char last[96];		    // its result: "HTTP 200", "timeout"
	struct timespec last_at;    // when it ended (CLOCK_REALTIME)
	struct timespec changed_at; // last up/down change (CLOCK_REALTIME)
	uint64_t checks, failures, downs;
	char why[128]; // while down: "check failed: HTTP 500"
};

#endif
