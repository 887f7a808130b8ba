#ifndef PV_XCONNECT_STATS_T_H
#define PV_XCONNECT_STATS_T_H

#include <stdint.h>

// Answers to http clients by status class: 1xx..5xx, then anything else.
enum pvx_http_class {
	PVX_HTTP_1XX = 0,
	PVX_HTTP_2XX,
	PVX_HTTP_3XX,
	PVX_HTTP_4XX,
	PVX_HTTP_5XX,
	PVX_HTTP_OTHER,
	PVX_HTTP_CLASSES,
};

// Per-request counters of an http frontend (zero on tcp ones).
struct pvx_http_stats {
	uint64_t requests;		      // routed to the frontend
	uint64_t responses[PVX_HTTP_CLASSES]; // answers sent, by class
};

// Counters shared by frontends and backends.
struct pvx_stats {
	uint64_t sessions_total;
	uint32_t sessions_now;
	uint64_t bytes_in;  // client to backend
	uint64_t bytes_out; // backend to client
	uint64_t connect_errors;
	uint64_t retries;
	uint64_t denied;	    // clients refused by the allow list
	struct pvx_http_stats http; // frontends of http rules only
};

#endif
