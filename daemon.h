#ifndef PV_DAEMON_H
#define PV_DAEMON_H

#include <event2/event.h>

#include "state.h"
#include "utils/list.h"

struct pv_daemon_options {
	const char *ctrl_path;	   // pv-ctrl socket
	const char *run_dir;	   // container logs and runtime files
	const char *xconnect_path; // the pv-xconnect binary
	int no_xconnect;	   // do not start pv-xconnect (tests)
};

struct pv_containers;
struct pv_supervised;
struct pv_ctrl;
struct pv_nat;

// A running pvd; the pv-ctrl endpoints read and act on it.
struct pv_daemon {
	struct event_base *base;
	struct pv_state *state;
	const struct pv_daemon_options *opts;
	struct pv_containers *containers;
	struct pv_supervised *xconnect;
	struct pv_ctrl *ctrl;
	struct pv_nat *nat;	// masquerading of NAT pools, or NULL
	struct dl_list bridges; // pv_daemon_bridge, created by us
	// Reports pushed by pv-xconnect (PUT /xconnect-status, /metrics),
	// served as they are; NULL until the first one.
	char *xconnect_status;
	char *xconnect_metrics;
	int shutting_down;
	int shutdown_stage; // 0 TERM sent, 1 KILL sent, 2 giving up
	int exit_code;
	int failed; // a system container failed: exit 1 after the shutdown
	struct event *sig_term;
	struct event *sig_int;
	struct event *sig_chld;
	struct event *shutdown_timer;
};

// A bridge pvd created and removes on exit.
struct pv_daemon_bridge {
	char *name;
	struct dl_list list; // in pv_daemon.bridges
};

// Runs pvd on a validated state with leases allocated: creates bridges,
// starts containers, serves pv-ctrl and supervises pv-xconnect until
// SIGTERM or SIGINT, then removes what it created. Takes ownership of s.
// Returns the process exit status (0 after a clean shutdown).
int pv_daemon_run(struct pv_state *s, const struct pv_daemon_options *opts);

#endif
