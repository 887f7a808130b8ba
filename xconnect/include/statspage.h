#ifndef PV_XCONNECT_STATSPAGE_H
#define PV_XCONNECT_STATSPAGE_H

// The stats page (statspage.c).

#include <stddef.h>

struct pvx;

struct pvx_statspage;

// Every frontend and backend as an HTML page like HAProxy's stats page,
// reloading itself every refresh_s seconds. Caller frees; NULL on
// allocation failure.
char *pvx_status_html(struct pvx *x, int refresh_s, size_t *len);

// Serves the stats over HTTP on addr ("IP:PORT"): / and /stats (HTML),
// /metrics (Prometheus), /status (JSON). Returns NULL (logged) when addr
// cannot be bound.
struct pvx_statspage *pvx_statspage_new(struct pvx *x, const char *addr);

// Closes the listener and its clients. NULL-safe.
void pvx_statspage_free(struct pvx_statspage *sp);

#endif
