#ifndef PV_XCONNECT_STATS_T_H
#define PV_XCONNECT_STATS_T_H

#include <stdint.h>

// Counters shared by frontends and backends.
struct pvx_stats {
	uint64_t sessions_total;
	uint32_t sessions_now;
	uint64_t bytes_in;  // client to backend
	uint64_t bytes_out; // backend to client
	uint64_t connect_errors;
	uint64_t retries;
	uint64_t denied; // clients refused by the allow list
};

#endif
