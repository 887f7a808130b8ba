#ifndef PV_XCONNECT_STATSPAGE_H
#define PV_XCONNECT_STATSPAGE_H

// The stats page (statspage.c).

#include <stddef.h>

struct pvx;

struct pvx_statspage;

// Serves the stats over HTTP on addr ("IP:PORT"): / and /stats (HTML),
// /metrics (Prometheus), /status (JSON). Returns NULL (logged) when addr
// cannot be bound.
struct pvx_statspage *pvx_statspage_new(struct pvx *x, const char *addr);

// Closes the listener and its clients. NULL-safe.
void pvx_statspage_free(struct pvx_statspage *sp);

#endif
