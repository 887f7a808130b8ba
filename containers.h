#ifndef PV_CONTAINERS_H
#define PV_CONTAINERS_H

#include <sys/types.h>

#include <event2/event.h>

#include "state.h"
#include "utils/json.h"

// The containers of a state, run with liblxc. Each container has a
// monitor: a child of pvd that calls liblxc's start without daemonizing,
// so the container's init is the monitor's child, its stdout and stderr
// are the monitor's (the container's log file), and the monitor's exit
// (SIGCHLD to pvd) is the container's exit. pvd keeps pv_platform.pid and
// .status current from these.

struct pv_containers;

// A container with restart_policy "system" failed and will not be
// restarted: pvd must stop everything (upstream reboots the device).
#define PV_CONTAINERS_FATAL 2

// Checks that this host can run containers: namespaces and LXC's init.
// Returns 0, or -1 after logging one clear line.
int pv_containers_check_host(void);

// Prepares the containers of s (not owned) with logs and LXC files under
// run_dir. Returns NULL after logging why.
struct pv_containers *pv_containers_new(struct event_base *base,
					struct pv_state *s,
					const char *run_dir);

// Frees the set. Every monitor must have been reaped. NULL-safe.
void pv_containers_free(struct pv_containers *cs);

// Starts every container, in state order. A container that fails is
// recorded (status failed, error) and does not stop the others. Returns
// PV_CONTAINERS_FATAL when one that failed has restart_policy "system",
// else 0.
int pv_containers_start_all(struct pv_containers *cs);

// Handles the exit of pid with wait status; returns 0 if pid was none of
// our monitors, 1 if it was, PV_CONTAINERS_FATAL if it was and the state
// can no longer run.
int pv_containers_child_exited(struct pv_containers *cs, pid_t pid, int status);

// Stops every container for good: no more restarts, SIGTERM to each init
// (which forwards it to the program).
void pv_containers_stop_all(struct pv_containers *cs);

// SIGKILL to every container still running.
void pv_containers_kill_all(struct pv_containers *cs);

// Number of monitors still alive.
int pv_containers_alive(struct pv_containers *cs);

// Writes the /containers array.
void pv_containers_ser(struct pv_containers *cs, struct pv_json_ser *js);

// Writes the object of container name; -1 when there is none.
int pv_containers_ser_one(struct pv_containers *cs, const char *name,
			  struct pv_json_ser *js);

// The platform of container name, or NULL.
struct pv_platform *pv_containers_platform(struct pv_containers *cs,
					   const char *name);

// pv-ctrl's PUT /containers/NAME: "start" (a stopped or failed container,
// its auto_recovery count reset), "stop" (SIGTERM, SIGKILL after a grace;
// not restarted, not a failure) or "restart" (stop, then start at once).
// Running containers are not started twice. Returns 0, or -1 when there
// is no such container or pvd is stopping.
int pv_containers_control(struct pv_containers *cs, const char *name,
			  const char *action);

#endif
