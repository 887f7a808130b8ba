#ifndef PV_XCONNECT_FIGURES_T_H
#define PV_XCONNECT_FIGURES_T_H

// The figures snapshot: every open frontend and its backends as one
// report shows them, filled once per report by the modules that own the
// objects (figures.c orchestrates) and only read by the renderings (JSON,
// Prometheus, HTML), as HAProxy's stats.c fills the fields its HTML,
// JSON and Prometheus outputs print. Strings are borrowed from the live
// objects: a snapshot is valid until the event loop runs again.

#include <stdint.h>

#include "stats-t.h"

// A backend's health check, as shown.
struct pvx_fig_check {
	unsigned enabled : 1; // a check is configured (else the rest is 0)
	unsigned up : 1;      // by the checks (rise/fall applied)
	unsigned going : 1;   // results against the state in a row
	const char *type;     // "tcp", "http"
	const char *path;     // http only
	int expect;	      // http only
	int interval_ms, timeout_ms, rise, fall;
	char state[32]; // "UP", "DOWN 1/2"...
	uint64_t checks, failures, downs;
	int last_change_s; // since the last up/down change
	int last_ok;	   // -1 before the first result
	const char *last;  // its detail ("HTTP 200", "timeout")
	int last_ms;	   // its duration
	int last_age_s;	   // since it ended
};

// One backend.
struct pvx_fig_backend {
	const char *key; // its identity, the same in every worker
	const char *name;
	const char *provider;
	const char *socket;
	int provider_pid;
	const char *down;	// why it takes no session, or NULL
	struct pvx_stats stats; // bytes of open sessions included
	struct pvx_fig_check check;
};

// One frontend and its backends.
struct pvx_fig_frontend {
	const char *key; // its identity, the same in every worker
	const char *label;
	const char *consumer; // NULL for an ingress rule
	const char *target;
	int netns_pid;
	unsigned listening : 1;
	unsigned http : 1; // an http rule's (its stats.http shown)
	const char *down;  // why it serves nobody, or NULL
	const char *balance;
	int maxconn;
	int backends_up;
	struct pvx_stats stats; // bytes of open sessions included
	struct pvx_fig_backend *be;
	unsigned int nbe;
};

// What a plugin's status hook wrote (one JSON value).
struct pvx_fig_plugin {
	const char *type;
	char *json; // owned
};

// The whole proxy.
struct pvx_figures {
	struct pvx_fig_frontend *fe;
	unsigned int nfe;
	struct pvx_fig_backend *be; // every frontend's, one array
	unsigned int nbe;
	struct pvx_fig_plugin *plugins;
	unsigned int nplugins;
	// The data path (datapath.h); dp_mode NULL: not shown.
	const char *dp_wanted; // what --datapath asked for
	const char *dp_mode;   // what sessions use: sockmap, auto, splice
	const char *dp_why;    // why not the kernel path ("" when it is)
	uint64_t dp_now, dp_total, dp_refused; // sessions in the kernel
};

#endif
