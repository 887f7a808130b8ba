#ifndef PV_XCONNECT_RECONCILE_H
#define PV_XCONNECT_RECONCILE_H

// Reconcile (reconcile.c): each new graph as plugin calls.

#include <stddef.h>

#include "reconcile-t.h"

// Starts with no links.
void pvx_reconciler_init(struct pvx_reconciler *r,
			 const struct pvx_plugin *const *plugins,
			 struct pvx *x);

// Runs every plugin's init hook. Returns 0, or -1 when one failed (those
// that had started are finished again).
int pvx_reconciler_start(struct pvx_reconciler *r);

// Applies next: links whose key is new are added, those gone removed,
// those whose configuration changed updated. Removals run first so that
// a listener moved between links can bind again. Takes the links of next
// (left empty). Returns the number of changes.
int pvx_reconcile(struct pvx_reconciler *r, struct pvx_graph *next);

// Removes every link, then runs the plugins' fini hooks (at exit).
void pvx_reconciler_clear(struct pvx_reconciler *r);

// Parses a graph document and reconciles it; bad links are logged once
// (not at every poll while they stay the same). A document that does not
// parse leaves the links in effect as they are. Returns 0 or -1.
int pvx_reconcile_text(struct pvx_reconciler *r, const char *text, size_t len);

// What p's status hook writes (p->status must be set), as a JSON text.
// Caller frees; NULL on allocation failure.
char *pvx_plugin_status(const struct pvx_plugin *p, struct pvx *x);

#endif
