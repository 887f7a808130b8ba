#ifndef PV_XCONNECT_HEALTH_H
#define PV_XCONNECT_HEALTH_H

// Active health checks (health.c).

#include <stddef.h>

#include <time.h>

#include "figures-t.h"
#include "health-t.h"

struct pvx_backend;

// Sets up b's health (no check, healthy). Call once before the others.
void pvx_health_init(struct pvx_backend *b);

// Applies a rule's check to b: starts, restarts (when the check changed)
// or stops the checks; keeps the state found so far when only timings
// change. Returns 0, or -1 (memory; the previous check stays).
int pvx_health_configure(struct pvx_backend *b, const struct pvx_check *c);

// Checks b soon (its address or provider changed).
void pvx_health_kick(struct pvx_backend *b);

// A session's connect to b failed: checks b now rather than at the next
// interval (at most every 100 ms), so the checks catch a dead backend
// sooner when traffic finds it first.
void pvx_health_connect_failed(struct pvx_backend *b);

// b's provider exited: whatever runs next under its name has to pass
// rise checks before it gets sessions, as a backend coming back would.
void pvx_health_provider_gone(struct pvx_backend *b);

// Stops the checks for good (link removed, backend freed).
void pvx_health_fini(struct pvx_backend *b);

// Why the checks keep b out of rotation, or NULL when they do not.
const char *pvx_health_down_reason(const struct pvx_backend *b);

// The check's state as HAProxy shows it: "UP", "DOWN", "UP 1/3" (going
// down), "DOWN 1/2" (going up), "no check". Into buf; returns buf.
const char *pvx_health_state(const struct pvx_backend *b, char *buf, size_t n);

// Fills c with b's check as the figures show it.
void pvx_health_figures(const struct pvx_backend *b, struct pvx_fig_check *c);

// Whole seconds from t (CLOCK_REALTIME) to now, 0 if t is ahead.
int pvx_seconds_since(const struct timespec *t);

// The check type's name ("tcp", "http") or NULL without a check.
const char *pvx_health_type(const struct pvx_backend *b);

#endif
