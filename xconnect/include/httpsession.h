#ifndef PV_XCONNECT_HTTPSESSION_H
#define PV_XCONNECT_HTTPSESSION_H

// HTTP sessions (httpsession.c): an HTTP/1.x client connection on a site,
// each request routed by path prefix to a pool (a pool-only frontend),
// forwarded to one of its backends over a pooled or new connection, the
// answer streamed back.

#include <stddef.h>
#include <sys/socket.h>

#include "httpsession-t.h"

struct pvx;

// Sets up x->http. Returns 0, or -1 (memory).
int pvx_http_ctx_init(struct pvx *x);

// Closes every http session and pooled connection, frees x->http.
void pvx_http_ctx_fini(struct pvx *x);

// Takes an accepted client (owned from now on) of site. Returns 0, or -1
// (the client closed: out of memory).
int pvx_http_session_start(struct pvx_http_site *site, int cfd,
			   const struct sockaddr *peer, socklen_t peer_len);

// The one way an http session ends.
void pvx_http_session_close(struct pvx_http_session *s, const char *why);

// Closes the pooled connections of backends that are removed or down.
void pvx_http_conns_prune(struct pvx *x);

// Takes/drops a reference on a site; the last one frees it (its listener
// must be stopped and its routes gone by then).
void pvx_http_site_ref(struct pvx_http_site *site);
void pvx_http_site_unref(struct pvx_http_site *site);

// 1 when prefix (plen bytes) takes path (len bytes: the path and query of
// a request target): "/" takes all, "/api" takes "/api", "/api/x" and
// "/api?q", never "/apix".
int pvx_http_prefix_match(const char *prefix, size_t plen, const char *path,
			  size_t len);

// The route of site for a request to path (len bytes) with host (NULL:
// none; not used yet, room for Host routing): the longest matching
// prefix, or NULL.
struct pvx_http_route *pvx_http_route_find(struct pvx_http_site *site,
					   const char *host, size_t hlen,
					   const char *path, size_t len);

// The path and query of a request target (h complete, head its first
// byte): an absolute-form target's part after the authority ("/" when
// empty), the target itself otherwise. *len its length.
const char *pvx_http_target_path(const struct pv_http1_head *h,
				 const char *head, size_t *len);

// Writes the request head forwarded to a backend into out (n bytes): the
// request line with path (plen bytes, the stripped path) and HTTP/1.1,
// the headers without hop-by-hop ones (Transfer-Encoding kept: the body
// goes as it came) nor X-Forwarded-*, X-Forwarded-For with client
// appended (NULL: none), X-Forwarded-Proto: http, X-Forwarded-Host (the
// Host), Host (host_default when the request has none), and Connection:
// keep-alive (upgrade with the Upgrade header kept when upgrade).
// Returns the length, or -1 when it does not fit.
int pvx_http_build_request(const struct pv_http1_head *h, const char *head,
			   const char *path, size_t plen, const char *client,
			   const char *host_default, int upgrade, char *out,
			   size_t n);

// Writes the answer head sent to a client into out: HTTP/1.1, the
// backend's status, reason and headers without hop-by-hop ones
// (Transfer-Encoding kept), then Connection: close when !keep, or
// keep-alive to an HTTP/1.0 client (minor 0) when keep. Returns the
// length, or -1.
int pvx_http_build_response(const struct pv_http1_head *rh, const char *head,
			    int keep, int client_minor, char *out, size_t n);

#endif
