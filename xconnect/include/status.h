#ifndef PV_XCONNECT_STATUS_H
#define PV_XCONNECT_STATUS_H

// Figures (status.c): JSON and Prometheus renderings.

#include <stddef.h>
#include <time.h>

struct pvx;

// Every frontend and backend with its figures, as one JSON document
// (GET /xconnect-status). Caller frees; NULL on allocation failure.
char *pvx_status_json(struct pvx *x, size_t *len);

// The same figures in Prometheus text format (GET /metrics). Caller
// frees; NULL on allocation failure.
char *pvx_status_metrics(struct pvx *x, size_t *len);

// Whole seconds from t (CLOCK_REALTIME) to now, 0 if t is ahead.
int pvx_seconds_since(const struct timespec *t);

#endif
