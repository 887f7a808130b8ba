// The unix plugin: a consumer link of type "unix" (or "rest" with a path
// target) is a backend in the pool of a frontend that listens on a Unix
// socket at its target inside the consumer's root (rootbind.c), shared by
// every link of the same consumer, pid and target. The backend is the
// export as tcp links have it: a path inside the provider's root or an
// IP:PORT. Sessions, balancing, checks, limits and figures are the
// frontend's and backend's, as for tcp links.
//
// A "rest" link whose target is an address (IP:PORT) listens in the
// consumer's network namespace instead: the tcp plugin serves it.

#define MODULE_NAME "unix"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utils/addr.h"
#include "xconnect.h"

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

// The root the link listens in: the consumer's, -1 while it is not
// running.
static int link_pid(const struct pvx_link *l)
{
	return l->consumer_pid > 0 ? l->consumer_pid : -1;
}

// Which frontend a link belongs to. Caller frees; NULL on failure.
static char *frontend_key(const struct pvx_link *l)
{
	char *key;

	if (asprintf(&key, "unix\x1f%s\x1f%d\x1f%s", l->consumer, link_pid(l),
		     l->target) < 0)
		return NULL;
	return key;
}

// The pool-wide settings travel with every link of the consumer's
// target; the last link applied wins. No allow list or PROXY header: the
// clients have no address.
static void apply_frontend(struct pvx_frontend *fe, const struct pvx_link *l)
{
	fe->balance = l->balance;
	fe->maxconn = l->maxconn;
	fe->proxy_protocol = 0;
	pvx_frontend_resume(fe);
}

// A backend for l in the frontend its key names. NULL on failure.
static struct pvx_backend *attach(struct pvx *x, const struct pvx_link *l)
{
	struct pvx_frontend *fe;
	struct pvx_backend *b;
	char *key = frontend_key(l);

	if (!key) {
		pv_log(ERROR, "link %s: out of memory", l->label);
		return NULL;
	}
	fe = pvx_frontend_get_unix(x, key, l->label, l->consumer, l->target,
				   link_pid(l));
	free(key);
	if (!fe)
		return NULL;
	apply_frontend(fe, l);
	b = pvx_backend_new(fe, l);
	// The backend holds its own reference on fe now (or fe is unused).
	if (!b)
		pvx_frontend_check_empty(fe);
	pvx_frontend_unref(fe);
	return b;
}

static int unix_added(struct pvx *x, struct pvx_link *l)
{
	char to[PV_ADDR_STRLEN + 256];
	struct pvx_backend *b;

	if (as_tcp(l))
		return pvx_plugin_tcp.on_link_added(x, l);
	l->priv = NULL;
	if (is_worker(x))
		return 0;
	if (l->ingress) {
		// pvd writes unix links for consumers only. Taken as served
		// (with nothing to serve), so that it is said once, not at
		// every poll of the graph.
		pv_log(ERROR,
		       "link %s: a %s ingress rule on a path is not "
		       "supported, skipped",
		       l->label, l->type);
		return 0;
	}
	b = attach(x, l);
	if (!b)
		return -1;
	l->priv = b;
	pv_log(INFO, "link %s: added: %s -> %s (pid %d)%s", l->label, l->target,
	       pvx_backend_describe(b, to, sizeof(to)), l->provider_pid,
	       link_pid(l) < 0 ? ", waiting for the consumer to run" : "");
	return 0;
}

static void unix_updated(struct pvx *x, const struct pvx_link *old,
			 struct pvx_link *l)
{
	struct pvx_backend *b = l->priv, *nb;
	char *key;

	// The target is part of the link's key: a link never moves between
	// a path and an address without being removed and added again.
	if (as_tcp(l)) {
		pvx_plugin_tcp.on_link_updated(x, old, l);
		return;
	}
	if (!b)
		return;
	key = frontend_key(l);
	if (key && strcmp(key, b->fe->key)) {
		// The consumer restarted (or stopped): a new socket in its
		// new root; sessions on the old one run on until they end,
		// and its socket goes with its listener.
		nb = attach(x, l);
		if (nb) {
			pvx_backend_remove(b, 0);
			l->priv = nb;
			free(key);
			return;
		}
	}
	free(key);
	apply_frontend(b->fe, l);
	if (!pvx_backend_update(b, l))
		pv_log(INFO, "link %s: updated", l->label);
}

static void unix_removed(struct pvx *x, struct pvx_link *l)
{
	struct pvx_backend *b = l->priv;
	char to[PV_ADDR_STRLEN + 256];

	if (as_tcp(l)) {
		pvx_plugin_tcp.on_link_removed(x, l);
		return;
	}
	if (!b)
		return;
	pv_log(INFO, "link %s: removed (backend %s)", l->label,
	       pvx_backend_describe(b, to, sizeof(to)));
	pvx_backend_remove(b, 1);
	l->priv = NULL;
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
