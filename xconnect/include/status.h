#ifndef PV_XCONNECT_STATUS_H
#define PV_XCONNECT_STATUS_H

// Figures as reports want them (status.c, statspage.c): collected and
// rendered in one call, the --threads workers' figures included.

#include <stddef.h>

struct pvx;

// Every frontend and backend with its figures, as one JSON document
// (GET /xconnect-status). Caller frees; NULL on allocation failure.
char *pvx_status_json(struct pvx *x, size_t *len);

// The same figures in Prometheus text format (GET /metrics). Caller
// frees; NULL on allocation failure.
char *pvx_status_metrics(struct pvx *x, size_t *len);

// The same figures as the HTML stats page, reloading itself every
// refresh_s seconds. Caller frees; NULL on allocation failure.
char *pvx_status_html(struct pvx *x, int refresh_s, size_t *len);

#endif
