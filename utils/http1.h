#ifndef PV_HTTP1_H
#define PV_HTTP1_H

#include <stddef.h>
#include <stdint.h>

/*
 * The one HTTP/1.0 and HTTP/1.1 parser of the project (RFC 9110, RFC
 * 9112): request heads, response heads and message body framing, strictly
 * and incrementally. Pure: no I/O, no allocation, no logging, libc only,
 * so that pvd (pv-ctrl), pv-xconnect, examples/app, the unit tests and the
 * fuzzer (tests/fuzz/fuzz_http1.c) all run the same code.
 *
 * Why our own and not Debian's libhttp-parser-dev 2.9.4: that library is
 * finished upstream (its authors archived it in favour of llhttp), so
 * smuggling fixes stop at 2.9.4; it is callback-driven and hands header
 * names and values over in pieces when input is split, which makes every
 * caller reassemble them (a copy per header) where we want iteration over
 * the caller's own buffer; it accepts obs-fold (folded header values)
 * and has a lenient mode, the opposite of what a proxy in front of other
 * parsers needs; and it would
 * be one more runtime library for the cross sysroots, the container
 * image and embedded targets, for about 700 lines we can fuzz ourselves.
 * docs/http1.md says what is accepted and refused.
 *
 * Input convention: the head parser is given the input from its first
 * byte not yet consumed (the caller either drains what was consumed, as
 * pv-ctrl does, or keeps the whole head in one buffer and passes
 * head + head_len, as a proxy does to iterate headers later). It consumes
 * complete lines only; a partial line is given again, with more bytes
 * after it, on the next call. Input may be split at any byte.
 */

// Results besides an HTTP status (>= 400) to answer with.
#define PV_HTTP1_MORE 0 // not finished: feed more input
#define PV_HTTP1_DONE 1 // the head (or the body) is complete

// Default limits (a head of 16 KiB, a start line of 8 KiB, 100 header
// lines), as HAProxy's and nginx's defaults are of that order.
#define PV_HTTP1_MAX_HEAD    16384
#define PV_HTTP1_MAX_LINE    8192
#define PV_HTTP1_MAX_HEADERS 100
// A chunk-size line (size and extensions): longer ones are refused.
#define PV_HTTP1_MAX_CHUNK_LINE 1024

struct pv_http1_limits {
	size_t max_head; // start line, header lines and the empty line
	size_t max_line; // the start line alone
	int max_headers; // header lines
};

// How the body of a message is delimited (RFC 9112 6.3).
enum pv_http1_framing {
	PV_HTTP1_BODY_NONE,    // no body (or Content-Length: 0)
	PV_HTTP1_BODY_LENGTH,  // content_length bytes
	PV_HTTP1_BODY_CHUNKED, // chunked transfer coding
	PV_HTTP1_BODY_CLOSE,   // a response read until the connection ends
};

// Forms of a request target (RFC 9112 3.2).
enum pv_http1_target_form {
	PV_HTTP1_ORIGIN,    // "/path?query"
	PV_HTTP1_ABSOLUTE,  // "http://host/path"
	PV_HTTP1_AUTHORITY, // "host:port" (CONNECT only)
	PV_HTTP1_ASTERISK,  // "*" (OPTIONS only)
};

// One message head being parsed. Offsets count from the first byte of
// the head (leading empty lines before a request line included).
struct pv_http1_head {
	struct pv_http1_limits lim;
	int response;	 // parsing a response head
	int to_head;	 // a response to HEAD: never a body
	size_t head_len; // bytes consumed so far; the whole head once done
	size_t scanned;	 // bytes of the current partial line without LF
	int started;	 // the start line has been parsed
	int nheaders;
	char error[96]; // why the last error status was returned

	// The start line.
	size_t start_off;	       // where the start line begins
	size_t method_off, method_len; // requests
	size_t target_off, target_len;
	enum pv_http1_target_form target_form;
	int status;		       // responses: 100..599
	size_t reason_off, reason_len; // responses: may be empty
	int minor;		       // HTTP/1.<minor>
	size_t fields_off;	       // the first header line

	// What the headers say, once DONE.
	enum pv_http1_framing framing;
	uint64_t content_length; // PV_HTTP1_BODY_LENGTH
	int keep_alive;		 // the connection may carry another message
	int expect_continue;	 // a 1.1 request with Expect: 100-continue
	int upgrade;	     // request: Upgrade offered; response: 101 given
	int interim;	     // a 1xx response other than 101: a final follows
	int has_host;	     // the request has a Host header
	int conn_close;	     // Connection lists "close"
	int conn_keep;	     // Connection lists "keep-alive"
	int conn_upgrade;    // Connection lists "upgrade"
	int has_length;	     // a Content-Length header was seen
	int has_te;	     // a Transfer-Encoding header was seen
	int te_chunked;	     // it lists "chunked"
	int te_chunked_last; // its codings end with "chunked"
	int te_other;	     // it lists codings other than chunked
	int has_upgrade_hdr; // an Upgrade header was seen
};

// One header line, pointing into the caller's head buffer.
struct pv_http1_field {
	const char *name;
	size_t name_len;
	const char *value; // without leading and trailing whitespace
	size_t value_len;
};

// Starts parsing a request head with lim (NULL: the defaults).
void pv_http1_request_init(struct pv_http1_head *h,
			   const struct pv_http1_limits *lim);

// Starts parsing a response head; to_head: the request was HEAD.
void pv_http1_response_init(struct pv_http1_head *h,
			    const struct pv_http1_limits *lim, int to_head);

// The reason phrase of an HTTP status code (RFC 9110's), "Unknown" for
// a code it does not list. Static storage.
const char *pv_http1_reason(int status);

// Consumes the complete lines at the start of buf (len bytes, the input
// from byte h->head_len of the head on), setting *used to the bytes
// consumed. A line ends with LF, optionally preceded by CR. Returns
// PV_HTTP1_MORE (call again with more input: the partial line again and
// what follows it), PV_HTTP1_DONE (the head is complete: h->head_len
// bytes; the body, if any, starts right after), or the status a server
// or proxy answers with, h->error saying why: 400 malformed or
// ambiguous, 417 an unknown expectation, 431 over the limits, 501 a
// transfer coding other than chunked, 505 not HTTP/1.0 or 1.1; for a
// response head every error is 502 (the backend is at fault). After an
// error the rest of the input cannot be trusted.
int pv_http1_parse(struct pv_http1_head *h, const char *buf, size_t len,
		   size_t *used);

// The header lines of a complete head, one per call: head is the first
// byte of the head, *pos 0 before the first call. Returns 1 with f
// filled, 0 after the last one. Copies nothing.
int pv_http1_field_next(const struct pv_http1_head *h, const char *head,
			size_t *pos, struct pv_http1_field *f);

// The value of the first header called name (any case) in a complete
// head, or NULL; *len its length.
const char *pv_http1_field_get(const struct pv_http1_head *h, const char *head,
			       const char *name, size_t *len);

// 1 if name (len bytes) is a hop-by-hop header a proxy must not forward
// (RFC 9110 7.6.1): Connection, Proxy-Connection, Keep-Alive, TE,
// Transfer-Encoding, Upgrade, or a name the head's Connection lists.
int pv_http1_hop_by_hop(const struct pv_http1_head *h, const char *head,
			const char *name, size_t len);

// 1 if the comma-separated list v (len bytes) holds token tok (any case).
int pv_http1_list_has(const char *v, size_t len, const char *tok);

// The state of one message body being read.
struct pv_http1_body {
	enum pv_http1_framing framing;
	int response;	    // errors are 502 rather than 400
	uint64_t remaining; // data bytes left: the length, or of this chunk
	int state;	    // the chunked decoder's (http1.c)
	uint64_t size;	    // the chunk size being read
	size_t line;	    // bytes of the chunk line or trailer so far
	size_t trailer;	    // trailer bytes so far
	int ntrailers;
	struct pv_http1_limits lim;
	char error[96];
};

// Starts reading the body the complete head h announces.
void pv_http1_body_init(struct pv_http1_body *b, const struct pv_http1_head *h);

// Reads body bytes from buf (len bytes, the input after what earlier
// calls consumed), setting *used to the bytes consumed (data and
// framing: a proxy forwards them as they are) and [*data_off,
// *data_off + *data_len) to the payload among them (one run per call;
// a decoder keeps those). Returns PV_HTTP1_MORE (not finished: call
// again with buf + *used when *used < len, else once more input came),
// PV_HTTP1_DONE (the body, trailers included, ended at buf + *used), or
// an error status (400; 502 for a response) with b->error: a bad chunk
// size (empty, not hex, 2^60 or more), a bare LF or CR in the framing, bad
// trailers.
int pv_http1_body_parse(struct pv_http1_body *b, const char *buf, size_t len,
			size_t *used, size_t *data_off, size_t *data_len);

// The input ended: PV_HTTP1_DONE if the body is complete (always for a
// read-until-close body), else 400 (502 for a response), a truncated body.
int pv_http1_body_eof(struct pv_http1_body *b);

#endif
