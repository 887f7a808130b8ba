#ifndef PV_CTRL_HTTP_H
#define PV_CTRL_HTTP_H

#include <stddef.h>

#include "utils/http1.h"

// The request head parser of pv-ctrl: pure (no sockets, no event loop),
// so that the server, the unit tests and the fuzzer run the same code.
// The parsing is utils/http1.c's; this adds pv-ctrl's limits and what it
// refuses beyond HTTP itself (chunked bodies, bodies over 1 MiB, targets
// that are not paths).

// Results of pv_ctrl_http_parse besides an HTTP error status (>= 400).
#define PV_CTRL_HTTP_MORE 0 // the head is not complete yet
#define PV_CTRL_HTTP_DONE 1 // the head is complete and acceptable

// What pv-ctrl keeps of one request head.
struct pv_ctrl_http_head {
	char method[16];	  // "GET", "PUT", ...; "" before the line
	char *target;		  // "/path?query" as sent; NULL before
	int minor;		  // HTTP/1.<minor>; -1 before the request line
	int keep_alive;		  // the connection stays open after the answer
	int chunked;		  // a Transfer-Encoding header was sent
	int expect_continue;	  // "Expect: 100-continue"
	long long content_length; // -1 when absent (0 once the head is done)
	int nheaders;		  // header lines so far
	size_t head_bytes;	  // bytes of the head consumed so far
	char error[96];		  // why the last error status was returned
	struct pv_http1_head parser;
};

// Starts a head, or forgets the previous one (frees its target).
void pv_ctrl_http_reset(struct pv_ctrl_http_head *h);

// Consumes the complete lines at the start of buf (len bytes: all the
// input not consumed yet, or at least the first PV_CTRL_MAX_HEAD + 1 -
// h->head_bytes of it) into h, setting *used to the bytes consumed.
// A line ends with LF, optionally preceded by CR. Returns
// PV_CTRL_HTTP_MORE (feed more input later), PV_CTRL_HTTP_DONE (the head
// is complete and its body, if any, is content_length bytes), or the
// HTTP status to refuse the request with, h->error saying why; after an
// error, the rest of the connection's input cannot be trusted.
int pv_ctrl_http_parse(struct pv_ctrl_http_head *h, const char *buf, size_t len,
		       size_t *used);

#endif
