#ifndef PV_DAEMON_H
#define PV_DAEMON_H

#include "state.h"

struct pv_daemon_options {
	const char *ctrl_path; // pv-ctrl socket
	const char *run_dir; // container logs and runtime files
	const char *xconnect_path; // the pv-xconnect binary
	int no_xconnect; // do not start pv-xconnect (tests)
};

// Runs pvd on a validated state with leases allocated: creates bridges,
// starts containers, serves pv-ctrl and supervises pv-xconnect until
// SIGTERM or SIGINT, then removes what it created. Takes ownership of s.
// Returns the process exit status (0 after a clean shutdown).
int pv_daemon_run(struct pv_state *s, const struct pv_daemon_options *opts);

#endif
