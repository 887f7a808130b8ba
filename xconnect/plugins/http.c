// The http plugin: links of type "http" (ingress rules and consumer
// links, target IP:PORT[/PREFIX]) are HTTP/1.1 reverse proxying. Every
// link on one address and port (and network namespace: ours for ingress
// rules, the consumer's for consumer links) shares a site: one listener
// and a route table, prefix -> route. A route is one rule (an ingress
// name, or a consumer and target): a pool-only frontend (frontend.h)
// whose backends are the rule's links, so balancing, checks, maxconn,
// allow lists and figures are those of tcp links. The sessions are
// httpsession.c's.
//
// Under --threads the workers skip these links: the main thread alone
// listens on and serves an http site (as unix links).

#define MODULE_NAME "http"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "utils/addr.h"
#include "backend.h"
#include "frontend.h"
#include "graph-t.h"
#include "httpsession.h"
#include "listener.h"
#include "obj.h"
#include "plugins.h"
#include "proxy-t.h"
#include "transport.h"
#include "utils/json.h"

// What a link of this plugin holds (link->priv).
struct http_link {
	struct pvx_backend *b;	    // reference held (the link's)
	struct pvx_http_site *site; // reference held
	char *key;		    // the route's frontend key
};

static int is_worker(const struct pvx *x)
{
	return x->reuseport && !x->workers;
}

static int link_netns(const struct pvx_link *l)
{
	if (l->ingress)
		return 0;
	return l->consumer_pid > 0 ? l->consumer_pid : -1;
}

static struct pvx_http_site *listener_site(struct pvx_listener *l)
{
	struct pvx_http_site *site = l->owner;

	PVX_CHECK_OBJ_NOTNULL(site, PVX_HTTP_SITE_MAGIC);
	return site;
}

static int site_listen(struct pvx_listener *l, const char **what)
{
	struct pvx_http_site *site = listener_site(l);

	site->bind.priv = NULL;
	site->bind.why = l->why;
	site->bind.n = sizeof(l->why);
	return pvx_transport_tcp.listen(
		site->addr_str, (struct sockaddr *)&site->addr, site->addr_len,
		site->netns_pid, site->x->reuseport, &site->bind, what);
}

static void site_accept(struct pvx_listener *l, int fd,
			const struct sockaddr *peer, socklen_t len)
{
	pvx_http_session_start(listener_site(l), fd, peer, len);
}

// The global cap (--maxconn) only: a route's maxconn counts requests.
static int site_room(struct pvx_listener *l, int accepting)
{
	return pvx_frontend_global_room(listener_site(l)->x, accepting);
}

static void site_hold(struct pvx_listener *l, int take)
{
	struct pvx_http_site *site = listener_site(l);

	if (take)
		pvx_http_site_ref(site);
	else
		pvx_http_site_unref(site);
}

static void site_bound(struct pvx_listener *l)
{
	struct pvx_http_site *site = listener_site(l);

	pv_log(INFO, "http site %s: listening%s%.0d", site->addr_str,
	       site->netns_pid ? " in netns of pid " : "", site->netns_pid);
}

static const struct pvx_listener_ops site_ops = {
	.listen = site_listen,
	.accept = site_accept,
	.room = site_room,
	.hold = site_hold,
	.bound = site_bound,
};

// The site of l's address and namespace, made (and listening) when there
// is none. Returns a new reference, or NULL.
static struct pvx_http_site *site_get(struct pvx *x, const struct pvx_link *l)
{
	struct pvx_http_ctx *ctx = x->http;
	struct pvx_http_site *site;
	char *key;

	if (asprintf(&key, "%d\x1f%s", link_netns(l), l->http_addr) < 0)
		return NULL;
	dl_list_for_each (site, &ctx->sites, struct pvx_http_site, list) {
		if (!site->closed && !strcmp(site->key, key)) {
			free(key);
			pvx_http_site_ref(site);
			return site;
		}
	}
	site = calloc(1, sizeof(*site));
	if (!site) {
		free(key);
		return NULL;
	}
	site->magic = PVX_HTTP_SITE_MAGIC;
	site->refs = 1;
	site->x = x;
	site->key = key;
	site->netns_pid = link_netns(l);
	dl_list_init(&site->routes);
	site->addr_str = strdup(l->http_addr);
	if (asprintf(&site->lname, "http site %s", l->http_addr) < 0)
		site->lname = NULL;
	if (asprintf(&site->lwhere, "listen on %s: ", l->http_addr) < 0)
		site->lwhere = NULL;
	dl_list_add_tail(&ctx->sites, &site->list);
	if (!site->addr_str || !site->lname || !site->lwhere ||
	    pvx_transport_tcp.parse(l->http_addr, &site->addr,
				    &site->addr_len)) {
		pvx_http_site_unref(site);
		return NULL;
	}
	site->lim.max_head = PV_HTTP1_MAX_HEAD;
	site->head_ms = PVX_HTTP_HEAD_MS_DEFAULT;
	site->idle_ms = PVX_IDLE_MS_DEFAULT;
	pvx_listener_init(&site->listener, x->base, &site_ops, site,
			  site->lname, site->lwhere);
	if (site->netns_pid >= 0)
		pvx_listener_start(&site->listener);
	return site;
}

// The limits and timeouts before routing: the largest of the routes'.
static void site_limits(struct pvx_http_site *site)
{
	struct pvx_http_route *r;

	memset(&site->lim, 0, sizeof(site->lim));
	site->head_ms = 0;
	site->idle_ms = 0;
	dl_list_for_each (r, &site->routes, struct pvx_http_route, list) {
		if (r->lim.max_head > site->lim.max_head)
			site->lim.max_head = r->lim.max_head;
		if (r->lim.max_headers > site->lim.max_headers)
			site->lim.max_headers = r->lim.max_headers;
		if (r->head_ms > site->head_ms)
			site->head_ms = r->head_ms;
		if (r->idle_ms > site->idle_ms)
			site->idle_ms = r->idle_ms;
	}
	if (!site->lim.max_head)
		site->lim.max_head = PV_HTTP1_MAX_HEAD;
	if (!site->head_ms)
		site->head_ms = PVX_HTTP_HEAD_MS_DEFAULT;
}

// A route's settings from its link (0: the defaults).
static void route_configure(struct pvx_http_route *r, const struct pvx_link *l)
{
	r->head_ms = l->head_ms > 0 ? l->head_ms : PVX_HTTP_HEAD_MS_DEFAULT;
	r->response_ms = l->response_ms > 0 ? l->response_ms
					    : PVX_HTTP_RESPONSE_MS_DEFAULT;
	r->idle_ms = l->idle_ms < 0 ? PVX_IDLE_MS_DEFAULT : l->idle_ms;
	r->lim.max_head = l->max_head_bytes > 0 ? (size_t)l->max_head_bytes
						: PV_HTTP1_MAX_HEAD;
	if (r->lim.max_head > PVX_HTTP_MAX_HEAD)
		r->lim.max_head = PVX_HTTP_MAX_HEAD;
	r->lim.max_headers =
		l->max_headers > 0 ? l->max_headers : PV_HTTP1_MAX_HEADERS;
}

static struct pvx_http_route *route_by_fe(struct pvx_http_site *site,
					  const struct pvx_frontend *fe)
{
	struct pvx_http_route *r;

	dl_list_for_each (r, &site->routes, struct pvx_http_route, list) {
		if (r->fe == fe)
			return r;
	}
	return NULL;
}

// Puts fe's route on site (longest prefix first; of two equal prefixes
// the first stays in front: it serves, the other waits behind it).
static int route_add(struct pvx_http_site *site, struct pvx_frontend *fe,
		     const struct pvx_link *l)
{
	struct pvx_http_route *r = route_by_fe(site, fe), *o;

	if (r) {
		route_configure(r, l);
		site_limits(site);
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	r->prefix = strdup(l->http_prefix);
	if (!r->prefix) {
		free(r);
		return -1;
	}
	r->plen = strlen(r->prefix);
	route_configure(r, l);
	pvx_frontend_ref(fe);
	r->fe = fe;
	fe->shared = &site->listener;
	dl_list_for_each (o, &site->routes, struct pvx_http_route, list) {
		if (o->plen == r->plen && !strcmp(o->prefix, r->prefix))
			pv_log(ERROR,
			       "link %s: http %s%s: prefix already served by "
			       "link %s, not served while that one is there",
			       l->label, site->addr_str, r->prefix,
			       o->fe->label);
		if (o->plen < r->plen)
			break;
	}
	// Before o (the first shorter one), or at the end.
	dl_list_add_tail(&o->list, &r->list);
	site_limits(site);
	return 0;
}

static void route_del(struct pvx_http_site *site, struct pvx_frontend *fe)
{
	struct pvx_http_route *r = route_by_fe(site, fe);

	if (!r)
		return;
	dl_list_del(&r->list);
	site_limits(site);
	fe->shared = NULL;
	pvx_frontend_unref(fe);
	free(r->prefix);
	free(r);
}

// The site's last route is gone: the port is free at once; sessions
// still on it get 404 for further requests.
static void site_drop(struct pvx_http_site *site)
{
	if (dl_list_empty(&site->routes) && !site->closed) {
		site->closed = 1;
		if (pvx_listener_stop(&site->listener))
			pv_log(INFO, "http site %s: stopped listening",
			       site->addr_str);
	}
	pvx_http_site_unref(site);
}

static char *route_key(const struct pvx_link *l)
{
	char *key;

	if (asprintf(&key, "http\x1f%s\x1f%s\x1f%d\x1f%s",
		     l->ingress ? "ingress" : "consumer",
		     l->ingress ? l->ingress : (l->consumer ? l->consumer : ""),
		     link_netns(l), l->target) < 0)
		return NULL;
	return key;
}

// Undoes what http_added made for hl.
static void http_link_free(struct http_link *hl, int drain)
{
	struct pvx_frontend *fe;
	struct pvx *x = NULL;

	if (!hl)
		return;
	if (hl->b) {
		fe = hl->b->fe;
		pvx_frontend_ref(fe);
		pvx_backend_remove(hl->b, drain);
		if (!pvx_frontend_pool_size(fe))
			route_del(hl->site, fe);
		pvx_frontend_unref(fe);
	}
	if (hl->site) {
		x = hl->site->x;
		site_drop(hl->site);
	}
	free(hl->key);
	free(hl);
	if (x)
		pvx_http_conns_prune(x);
}

static int http_added(struct pvx *x, struct pvx_link *l)
{
	char to[PV_ADDR_STRLEN + 256];
	struct pvx_frontend *fe;
	struct http_link *hl;

	l->priv = NULL;
	if (is_worker(x))
		return 0;
	hl = calloc(1, sizeof(*hl));
	if (!hl)
		goto oom;
	hl->key = route_key(l);
	hl->site = hl->key ? site_get(x, l) : NULL;
	if (!hl->site) {
		pv_log(ERROR, "link %s: cannot set up a listener on %s",
		       l->label, l->target);
		http_link_free(hl, 0);
		return -1;
	}
	fe = pvx_frontend_get_pool(x, hl->key, l->label,
				   l->ingress ? NULL : l->consumer, l->target,
				   link_netns(l));
	if (!fe) {
		http_link_free(hl, 0);
		return -1;
	}
	if (route_add(hl->site, fe, l)) {
		pvx_frontend_check_empty(fe);
		pvx_frontend_unref(fe);
		http_link_free(hl, 0);
		goto oom;
	}
	pvx_frontend_configure(fe, l);
	hl->b = pvx_backend_new(fe, l);
	if (!hl->b) {
		route_del(hl->site, fe);
		pvx_frontend_check_empty(fe);
		pvx_frontend_unref(fe);
		http_link_free(hl, 0);
		return -1;
	}
	pvx_frontend_unref(fe);
	l->priv = hl;
	pv_log(INFO, "link %s: added: http %s -> %s (pid %d)%s", l->label,
	       l->target, pvx_backend_describe(hl->b, to, sizeof(to)),
	       l->provider_pid,
	       link_netns(l) < 0 ? ", waiting for the consumer to run" : "");
	return 0;
oom:
	pv_log(ERROR, "link %s: out of memory", l->label);
	return -1;
}

static void http_updated(struct pvx *x, const struct pvx_link *old,
			 struct pvx_link *l)
{
	struct http_link *hl = l->priv;
	struct pvx_http_route *r;
	char *key;

	(void)old;
	if (!hl)
		return;
	key = route_key(l);
	if (!key || strcmp(key, hl->key) ||
	    strcmp(old->http_addr, l->http_addr)) {
		// Another site or route (the consumer restarted): made anew;
		// requests in flight on the old one finish.
		free(key);
		l->priv = NULL;
		http_link_free(hl, 0);
		if (http_added(x, l))
			pv_log(ERROR, "link %s: not served after its update",
			       l->label);
		return;
	}
	free(key);
	pvx_frontend_configure(hl->b->fe, l);
	r = route_by_fe(hl->site, hl->b->fe);
	if (r) {
		route_configure(r, l);
		site_limits(hl->site);
	}
	if (!pvx_backend_update(hl->b, l))
		pv_log(INFO, "link %s: updated", l->label);
	pvx_http_conns_prune(x);
}

static void http_removed(struct pvx *x, struct pvx_link *l)
{
	(void)x;
	if (l->priv)
		pv_log(INFO, "link %s: removed (http %s)", l->label, l->target);
	http_link_free(l->priv, 1);
	l->priv = NULL;
}

static int http_init(struct pvx *x)
{
	if (pvx_http_ctx_init(x)) {
		pv_log(ERROR, "http: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void http_fini(struct pvx *x)
{
	pvx_http_ctx_fini(x);
}

// {"links": N, "unrouted": N}: the http links served, and the requests
// that matched no route (answered 404).
static void http_status(struct pvx *x, struct pv_json_ser *js)
{
	const struct pvx_http_site *site;
	const struct pvx_link *l;
	long long n = 0, unrouted = 0;

	dl_list_for_each (l, &x->rec.current.links, struct pvx_link, list) {
		if (l->served && l->priv && !strcmp(l->type, "http"))
			n++;
	}
	if (x->http)
		dl_list_for_each (site, &x->http->sites, struct pvx_http_site,
				  list)
			unrouted += site->unrouted;
	pv_json_ser_object_begin(js);
	pv_json_ser_key(js, "links");
	pv_json_ser_int(js, n);
	pv_json_ser_key(js, "unrouted");
	pv_json_ser_int(js, unrouted);
	pv_json_ser_object_end(js);
}

const struct pvx_plugin pvx_plugin_http = {
	.type = "http",
	.init = http_init,
	.fini = http_fini,
	.status = http_status,
	.on_link_added = http_added,
	.on_link_updated = http_updated,
	.on_link_removed = http_removed,
};
