#ifndef PV_XCONNECT_GRAPH_H
#define PV_XCONNECT_GRAPH_H

// Links and graphs (graph.c) and client networks (cidr.c).

#include <stddef.h>

#include "graph-t.h"
#include "utils/errors.h"

// 1 when addr (IPv4, IPv6, or IPv4-mapped IPv6) is inside one of the n
// networks of allow.
int pvx_cidr_match(const struct pvx_cidr *allow, int n,
		   const struct sockaddr *addr);

// Starts an empty graph.
void pvx_graph_init(struct pvx_graph *g);

// Frees every link of g (their priv is not touched); g is empty after.
void pvx_graph_clear(struct pvx_graph *g);

// Parses an xconnect-graph document into g (which must be empty). Bad
// links are skipped, each with one line in errs naming it, field and
// reason. Returns 0, or -1 when the document as a whole is unusable (not
// JSON, not an array): then g stays empty and errs says why.
int pvx_graph_parse(struct pvx_graph *g, const char *text, size_t len,
		    struct pv_errors *errs);

// The link of g with that key, or NULL.
struct pvx_link *pvx_graph_find(struct pvx_graph *g, const char *key);

// Frees a link. NULL-safe.
void pvx_link_free(struct pvx_link *l);

// The identity of a link: an ingress link by (ingress, provider), any
// other by (consumer, name, target). Caller frees; NULL on failure.
char *pvx_link_key(const struct pvx_link *l);

// 1 when two links with the same key carry the same configuration.
int pvx_link_equal(const struct pvx_link *a, const struct pvx_link *b);

// "roundrobin"... as the enum; -1 when unknown.
int pvx_balance_parse(const char *s);

// 1 when p is an http link's path prefix: "/", or '/' segments of URI
// path characters, none empty, "." or "..", no '/' at the end (as pvd's
// parser checks an http rule's "external").
int pvx_http_prefix_valid(const char *p);

// "roundrobin"... for the enum.
const char *pvx_balance_name(enum pvx_balance b);

#endif
