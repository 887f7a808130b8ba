// The unix plugin: a consumer link of type "unix" (or "rest" with a path
// target) is a backend in the pool of a frontend that listens on a Unix
// socket at its target inside the consumer's root, shared by every link
// of the same consumer, pid and target. The frontend listens through the
// Unix transport (transport.h: the socket made by rootbind.c, removed
// when the listener closes); the link hooks are the tcp plugin's
// (plugins.h), so sessions, balancing, checks, limits, figures and the
// listener's retry are those of tcp links. No allow list or PROXY header:
// the clients have no address.
//
// A "rest" link whose target is an address (IP:PORT) listens in the
// consumer's network namespace instead: the tcp plugin serves it.

#define MODULE_NAME "unix"

#include <string.h>
#include <sys/un.h>

#include "log.h"
#include "graph-t.h"
#include "plugins.h"
#include "proxy-t.h"
#include "transport.h"

// 1 when the link is served as a tcp one (an address as target).
static int as_tcp(const struct pvx_link *l)
{
	return l->target[0] != '/';
}

// A --threads worker (reuseport set by workers.c, no workers of its own):
// a path has one socket, which the main thread makes and serves; a worker
// binding it too would replace the main thread's ("a socket is there").
static int is_worker(const struct pvx *x)
{
	return x->reuseport && !x->workers;
}

static int unix_added(struct pvx *x, struct pvx_link *l)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	if (as_tcp(l))
		return pvx_plugin_tcp.on_link_added(x, l);
	l->priv = NULL;
	if (is_worker(x))
		return 0;
	// Taken as served (with nothing to serve) in both cases below, so
	// that it is said once, not at every poll of the graph.
	if (l->ingress) {
		// pvd writes unix links for consumers only.
		pv_log(ERROR,
		       "link %s: a %s ingress rule on a path is not "
		       "supported, skipped",
		       l->label, l->type);
		return 0;
	}
	if (strlen(l->target) > max) {
		// A client inside connects by this path: it has to fit.
		pv_log(ERROR,
		       "link %s: socket %s: the path is %zu bytes, a Unix "
		       "socket's at most %zu, skipped",
		       l->label, l->target, strlen(l->target), max);
		return 0;
	}
	return pvx_plugin_link_added(x, l, &pvx_transport_unix);
}

static void unix_updated(struct pvx *x, const struct pvx_link *old,
			 struct pvx_link *l)
{
	// The target is part of the link's key: a link never moves between
	// a path and an address without being removed and added again.
	if (as_tcp(l)) {
		pvx_plugin_tcp.on_link_updated(x, old, l);
		return;
	}
	// A skipped link (worker, ingress, path too long).
	if (!l->priv)
		return;
	// The consumer restarted: a new socket in its new root; the old
	// one goes with its listener.
	pvx_plugin_link_updated(x, l, &pvx_transport_unix);
}

static void unix_removed(struct pvx *x, struct pvx_link *l)
{
	if (as_tcp(l)) {
		pvx_plugin_tcp.on_link_removed(x, l);
		return;
	}
	if (l->priv)
		pvx_plugin_link_removed(l);
}

const struct pvx_plugin pvx_plugin_unix = {
	.type = "unix",
	.on_link_added = unix_added,
	.on_link_updated = unix_updated,
	.on_link_removed = unix_removed,
};

const struct pvx_plugin pvx_plugin_rest = {
	.type = "rest",
	.on_link_added = unix_added,
	.on_link_updated = unix_updated,
	.on_link_removed = unix_removed,
};
