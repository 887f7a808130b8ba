#ifndef PV_XCONNECT_WORKERS_H
#define PV_XCONNECT_WORKERS_H

// --threads (workers.c).

#include <stddef.h>

struct pvx;
struct pvx_figures;

// The maximum of --threads.
#define PVX_THREADS_MAX 64

struct pvx_workers;

// Starts nthreads - 1 worker threads beside x (the caller's loop, which
// stays the main one): each a proxy of its own with its share of x's
// session cap and pipes, listeners shared with SO_REUSEPORT (x's too
// from now on). Returns NULL on failure (logged; none left running).
struct pvx_workers *pvx_workers_start(struct pvx *x, int nthreads);

// Hands a graph document to every worker, which applies it in its loop.
void pvx_workers_graph(struct pvx_workers *ws, const char *text, size_t len);

// Stops the workers (their sessions closed as at exit) and frees them.
// NULL-safe.
void pvx_workers_stop(struct pvx_workers *ws);

// Sums the workers' last published figures into the snapshot f, each
// into the entry of the same frontend (or backend) key. NULL-safe (one
// thread: nothing to add).
void pvx_workers_figures(struct pvx_workers *ws, struct pvx_figures *f);

#endif
