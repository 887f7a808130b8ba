#ifndef PV_XCONNECT_RECONCILE_T_H
#define PV_XCONNECT_RECONCILE_T_H

// Plugins and the reconciler: the types.

#include "graph-t.h"
#include "utils/json.h"

struct pvx;

// The code for one link type. Hooks other than the three link hooks are
// optional (NULL). A plugin keeps its per-link object in link->priv; the
// link itself is freed by reconcile after the call, so the plugin copies
// whatever it needs beyond the call.
struct pvx_plugin {
	const char *type; // the links' "type"
	// Called once per proxy context (each --threads worker has its own)
	// when it starts (pvx_reconciler_start; -1 stops the program) and at
	// exit, after the plugin's links were removed (pvx_reconciler_clear).
	int (*init)(struct pvx *x);
	void (*fini)(struct pvx *x);
	// A new link: set up its listener/backend. Returns 0, or -1 when the
	// link could not be set up at all (it is tried again next graph).
	int (*on_link_added)(struct pvx *x, struct pvx_link *link);
	// The link with the same key changed: link->priv holds old->priv on
	// entry; apply the difference in place, without cutting established
	// sessions.
	void (*on_link_updated)(struct pvx *x, const struct pvx_link *old,
				struct pvx_link *link);
	// The link is gone: close its listener now, drain its sessions.
	void (*on_link_removed)(struct pvx *x, struct pvx_link *link);
	// Writes the plugin's status (one JSON value) into js: the value of
	// its type's key in the "plugins" object of /xconnect-status.
	void (*status)(struct pvx *x, struct pv_json_ser *js);
};

// The links in effect and the plugins that serve them.
struct pvx_reconciler {
	struct pvx_graph current;
	const struct pvx_plugin *const *plugins; // NULL-terminated
	struct pvx *x;				 // passed to the hooks
	char *last_errors; // the previous parse's error lines, to log once
	int started;	   // the plugins' init hooks ran (fini is due)
};

#endif
