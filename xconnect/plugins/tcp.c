// The tcp plugin: a link of type "tcp" is a backend in the pool of the
// frontend that listens on its target (shared by every link of the same
// ingress rule, or of the same consumer and target). Its link hooks are
// also the unix plugin's, with the Unix transport (plugins.h).

#define MODULE_NAME "tcp"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utils/addr.h"
#include "backend.h"
#include "frontend.h"
#include "graph-t.h"
#include "utils/json.h"
#include "plugins.h"
#include "proxy-t.h"
#include "transport.h"

// The network namespace the link listens in: ours for ingress rules, the
// consumer's for the others, none (-1) while the consumer is not running.
static int link_netns(const struct pvx_link *l)
{
	if (l->ingress)
		return 0;
	return l->consumer_pid > 0 ? l->consumer_pid : -1;
}

char *pvx_plugin_link_key(const struct pvx_link *l,
			  const struct pvx_transport *tp)
{
	char *key;

	if (asprintf(&key, "%s\x1f%s\x1f%s\x1f%d\x1f%s", tp->name,
		     l->ingress ? "ingress" : "consumer",
		     l->ingress ? l->ingress : (l->consumer ? l->consumer : ""),
		     link_netns(l), l->target) < 0)
		return NULL;
	return key;
}

// A backend for l in the frontend its key names. NULL on failure.
static struct pvx_backend *attach(struct pvx *x, const struct pvx_link *l,
				  const struct pvx_transport *tp)
{
	struct pvx_frontend *fe;
	struct pvx_backend *b;
	char *key = pvx_plugin_link_key(l, tp);

	if (!key) {
		pv_log(ERROR, "link %s: out of memory", l->label);
		return NULL;
	}
	fe = pvx_frontend_get_on(x, key, l->label,
				 l->ingress ? NULL : l->consumer, l->target,
				 link_netns(l), tp);
	free(key);
	if (!fe)
		return NULL;
	pvx_frontend_configure(fe, l);
	b = pvx_backend_new(fe, l);
	// The backend holds its own reference on fe now (or fe is unused).
	if (!b)
		pvx_frontend_check_empty(fe);
	pvx_frontend_unref(fe);
	return b;
}

int pvx_plugin_link_added(struct pvx *x, struct pvx_link *l,
			  const struct pvx_transport *tp)
{
	char to[PV_ADDR_STRLEN + 256];
	struct pvx_backend *b = attach(x, l, tp);

	if (!b)
		return -1;
	l->priv = b;
	pv_log(INFO, "link %s: added: %s -> %s (pid %d)%s", l->label, l->target,
	       pvx_backend_describe(b, to, sizeof(to)), l->provider_pid,
	       link_netns(l) < 0 ? ", waiting for the consumer to run" : "");
	return 0;
}

void pvx_plugin_link_updated(struct pvx *x, struct pvx_link *l,
			     const struct pvx_transport *tp)
{
	struct pvx_backend *b = l->priv, *nb;
	char *key = pvx_plugin_link_key(l, tp);

	if (key && strcmp(key, b->fe->key)) {
		// Another listener (target, or the consumer restarted): a new
		// backend there; sessions on the old one run on until they
		// end, and the old listener closes with its last link (a
		// Unix one removing its socket file). Whether the new one
		// listens yet is said by the listener.
		nb = attach(x, l, tp);
		if (nb) {
			pv_log(INFO,
			       "link %s: moved to the listener on %s%s%.0d",
			       l->label, l->target,
			       link_netns(l) > 0 ? tp->pid_where : "",
			       link_netns(l) > 0 ? link_netns(l) : 0);
			pvx_backend_remove(b, 0);
			l->priv = nb;
			free(key);
			return;
		}
	}
	free(key);
	pvx_frontend_configure(b->fe, l);
	if (!pvx_backend_update(b, l))
		pv_log(INFO, "link %s: updated", l->label);
}

void pvx_plugin_link_removed(struct pvx_link *l)
{
	struct pvx_backend *b = l->priv;
	char to[PV_ADDR_STRLEN + 256];

	pv_log(INFO, "link %s: removed (backend %s)", l->label,
	       pvx_backend_describe(b, to, sizeof(to)));
	pvx_backend_remove(b, 1);
	l->priv = NULL;
}

static int tcp_added(struct pvx *x, struct pvx_link *l)
{
	return pvx_plugin_link_added(x, l, &pvx_transport_tcp);
}

static void tcp_updated(struct pvx *x, const struct pvx_link *old,
			struct pvx_link *l)
{
	(void)old;
	pvx_plugin_link_updated(x, l, &pvx_transport_tcp);
}

static void tcp_removed(struct pvx *x, struct pvx_link *l)
{
	(void)x;
	pvx_plugin_link_removed(l);
}

// {"links": N}: the tcp links this proxy serves.
static void tcp_status(struct pvx *x, struct pv_json_ser *js)
{
	const struct pvx_link *l;
	long long n = 0;

	dl_list_for_each (l, &x->rec.current.links, struct pvx_link, list) {
		if (l->served && !strcmp(l->type, pvx_plugin_tcp.type))
			n++;
	}
	pv_json_ser_object_begin(js);
	pv_json_ser_key(js, "links");
	pv_json_ser_int(js, n);
	pv_json_ser_object_end(js);
}

const struct pvx_plugin pvx_plugin_tcp = {
	.type = "tcp",
	.status = tcp_status,
	.on_link_added = tcp_added,
	.on_link_updated = tcp_updated,
	.on_link_removed = tcp_removed,
};
