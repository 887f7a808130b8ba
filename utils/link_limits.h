#ifndef PV_LINK_LIMITS_H
#define PV_LINK_LIMITS_H

// Bounds of a link's time settings, in milliseconds. pvd's state parser
// refuses values beyond them and pv-xconnect's graph reader skips a link
// that has one: sharing them keeps every state `pvd --check` accepts a
// graph pv-xconnect serves.
#define PV_LINK_CONNECT_MS_MAX 3600000	// timeouts.connect_ms: an hour
#define PV_LINK_IDLE_MS_MAX    86400000 // timeouts.idle_ms: a day
#define PV_LINK_CHECK_MS_MAX   3600000	// check.interval_ms, check.timeout_ms

#endif
