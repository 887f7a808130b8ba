#ifndef PV_SUPERVISOR_H
#define PV_SUPERVISOR_H

#include <sys/types.h>
#include <time.h>

#include <event2/event.h>

#include "utils/json.h"

// A host program that pvd starts and keeps running (pv-xconnect): it is
// restarted with back-off when it dies, unless it was stopped on purpose.

struct pv_supervised {
	struct event_base *base;
	char *name;	// "pv-xconnect"
	char **argv;	// NULL-terminated; argv[0] is the program
	char *log_path; // its stdout and stderr
	pid_t pid;	// 0 when not running
	int respawn;	// restart it when it dies
	int stopping;	// a SIGTERM was sent; SIGKILL follows on a timer
	int restarts;
	int backoff_ms;		 // delay before the next restart
	struct timespec started; // CLOCK_MONOTONIC of the last start
	char *last_exit;	 // "exited with status 1", or NULL
	char *error;		 // why the last start failed, or NULL
	struct event *restart_timer;
	struct event *kill_timer;
};

// Creates the supervisor of argv (copied), logging to log_path. Nothing
// is started. Returns NULL after logging why.
struct pv_supervised *pv_supervised_new(struct event_base *base,
					const char *name,
					const char *const *argv,
					const char *log_path);

// Frees p. The process, if any, must have been reaped. NULL-safe.
void pv_supervised_free(struct pv_supervised *p);

// Turns respawning on and starts the program unless it is running. A
// failure to start is logged and retried after the back-off. Returns 0
// when the program runs, -1 otherwise.
int pv_supervised_start(struct pv_supervised *p);

// Turns respawning off and sends SIGTERM, then SIGKILL after grace_ms.
void pv_supervised_stop(struct pv_supervised *p, int grace_ms);

// Sends SIGKILL now, if the program runs.
void pv_supervised_kill(struct pv_supervised *p);

// Handles the exit of pid with wait status; returns 1 if pid was ours.
int pv_supervised_child_exited(struct pv_supervised *p, pid_t pid, int status);

// Writes {name, pid, respawn, status, restarts[, last_exit][, error]}.
void pv_supervised_ser(struct pv_supervised *p, struct pv_json_ser *js);

// Describes a wait status: "exited with status 1", "killed by signal 9".
// Writes into buf and returns it.
char *pv_wait_status_str(int status, char *buf, size_t n);

// In a child after fork(): default signal handling, an empty signal
// mask, its own session, SIGKILL (or sig) when pvd dies, and stdin from
// /dev/null, stdout and stderr to out_fd. Returns 0 or -1 (errno set).
int pv_child_setup(pid_t parent, int sig, int out_fd);

#endif
