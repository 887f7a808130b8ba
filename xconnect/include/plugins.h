#ifndef PV_XCONNECT_PLUGINS_H
#define PV_XCONNECT_PLUGINS_H

// The plugins built in (plugins/*.c).

#include "reconcile-t.h"

struct pvx;
struct pvx_link;
struct pvx_transport;

// The tcp plugin (plugins/tcp.c).
extern const struct pvx_plugin pvx_plugin_tcp;

// The unix plugin (plugins/unix.c): consumer links of type "unix", and
// "rest" ones with a path as target, listen on a Unix socket made inside
// the consumer's root; "rest" ones on an address are the tcp plugin's.
extern const struct pvx_plugin pvx_plugin_unix;
extern const struct pvx_plugin pvx_plugin_rest;

// The http plugin (plugins/http.c): HTTP/1.1 reverse proxying, links of
// one address and port sharing a site routed by path prefix.
extern const struct pvx_plugin pvx_plugin_http;

// The link hooks of the tcp plugin, shared with the unix plugin: a link
// is a backend in the pool of the frontend that listens on its target
// through tp, shared by every link of the same ingress rule, or of the
// same consumer (and pid) and target.

// Which frontend l belongs to through tp. Caller frees; NULL on failure.
char *pvx_plugin_link_key(const struct pvx_link *l,
			  const struct pvx_transport *tp);

// A new link: its backend (l->priv) in its frontend, made when there is
// none. Returns 0, or -1 (said).
int pvx_plugin_link_added(struct pvx *x, struct pvx_link *l,
			  const struct pvx_transport *tp);

// l changed (l->priv set): moves it to another frontend when its key
// changed (the consumer restarted), else applies the difference in place.
void pvx_plugin_link_updated(struct pvx *x, struct pvx_link *l,
			     const struct pvx_transport *tp);

// l is gone: its backend leaves the pool and its sessions drain.
void pvx_plugin_link_removed(struct pvx_link *l);

#endif
