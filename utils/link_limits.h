#ifndef PV_LINK_LIMITS_H
#define PV_LINK_LIMITS_H

// Bounds of a link's settings (times in milliseconds). pvd's state parser
// refuses values beyond them and pv-xconnect's graph reader skips a link
// that has one: sharing them keeps every state `pvd --check` accepts a
// graph pv-xconnect serves.
#define PV_LINK_CONNECT_MS_MAX 3600000	// timeouts.connect_ms: an hour
#define PV_LINK_IDLE_MS_MAX    86400000 // timeouts.idle_ms: a day
#define PV_LINK_CHECK_MS_MAX   3600000	// check.interval_ms, check.timeout_ms

// An http rule's limits (absent: the default; pvd writes only those set).
#define PV_LINK_HEAD_MS_MAX	       3600000	// timeouts.head_ms: an hour
#define PV_LINK_HEAD_MS_DEFAULT	       10000	// then 408
#define PV_LINK_RESPONSE_MS_MAX	       86400000 // timeouts.response_ms: a day
#define PV_LINK_RESPONSE_MS_DEFAULT    60000	// then 504
#define PV_LINK_MAX_HEAD_BYTES_MIN     256	// max_head_bytes
#define PV_LINK_MAX_HEAD_BYTES_MAX     1048576	// 1 MiB
#define PV_LINK_MAX_HEAD_BYTES_DEFAULT 16384	// PV_HTTP1_MAX_HEAD; then 431
#define PV_LINK_MAX_HEADERS_MAX	       1000	// max_headers, from 1
#define PV_LINK_MAX_HEADERS_DEFAULT    100 // PV_HTTP1_MAX_HEADERS; then 431

#endif
