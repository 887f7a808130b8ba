#ifndef PVX_ACCESSLOG_H
#define PVX_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

// At most this many access-log lines a second per event loop: a flood of
// requests must not turn into a flood of log writes (on a board, flash).
#define PVX_ACCESS_LOG_PER_SEC 100

// The request as the log shows it: "METHOD TARGET HTTP/1.x", at most this
// long (a longer target is cut, with "..." at its end).
#define PVX_ACCESS_LOG_REQUEST 160

// One http proxy context's access log (its rate), used with --access-log.
struct pvx_access_log {
	time_t sec;	  // the second being counted (monotonic)
	unsigned lines;	  // lines said in it
	unsigned dropped; // lines over the rate since the last one said
};

// Writes "METHOD TARGET HTTP/1.<minor>" into out (PVX_ACCESS_LOG_REQUEST
// bytes), bytes outside printable ASCII and '"' and '\' escaped as \xHH:
// a request cannot forge a log line.
void pvx_access_log_request(char *out, const char *method, size_t method_len,
			    const char *target, size_t target_len, int minor);

// One line for a request answered: the link, the client's address, the
// request (from pvx_access_log_request), the status, the bytes each way
// and the time from its head to its answer's end. Past the rate, counted
// and said with the next line that goes out.
void pvx_access_log_line(struct pvx_access_log *al, const char *link,
			 const char *client, const char *request, int status,
			 uint64_t in, uint64_t out, long ms);

#endif
