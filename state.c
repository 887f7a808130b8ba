// The state: pools, containers and ingress rules, the IPAM leases they
// need, and the xconnect-graph that pv-xconnect reads.

#define MODULE_NAME "state"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state.h"
#include "utils/addr.h"
#include "utils/json.h"

static const char *const balance_names[] = {
	[BALANCE_ROUNDROBIN] = "roundrobin",
	[BALANCE_LEASTCONN] = "leastconn",
	[BALANCE_FIRST] = "first",
	[BALANCE_SOURCE] = "source",
};

#define N_BALANCE (int)(sizeof(balance_names) / sizeof(balance_names[0]))

int pv_balance_from_str(const char *s)
{
	int i;

	for (i = 0; s && i < N_BALANCE; i++)
		if (!strcmp(s, balance_names[i]))
			return i;
	return -1;
}

const char *pv_balance_to_str(balance_t b)
{
	if ((int)b < 0 || (int)b >= N_BALANCE)
		return balance_names[BALANCE_ROUNDROBIN];
	return balance_names[b];
}

struct pv_state *pv_state_new(void)
{
	struct pv_state *s = calloc(1, sizeof(*s));

	if (!s) {
		pv_log(ERROR, "state: out of memory");
		return NULL;
	}
	dl_list_init(&s->pools);
	dl_list_init(&s->platforms);
	dl_list_init(&s->ingress);
	dl_list_init(&s->groups);
	return s;
}

void pv_ingress_free(struct pv_ingress *in)
{
	if (!in)
		return;
	free(in->name);
	free(in->type);
	free(in->external);
	free(in->path);
	pv_strv_free(in->providers);
	free(in->service);
	free(in->check.path);
	free(in->proxy_protocol);
	pv_strv_free(in->allow);
	free(in);
}

void pv_group_free(struct pv_group *g)
{
	if (!g)
		return;
	free(g->name);
	free(g->status_goal);
	free(g);
}

struct pv_group *pv_state_find_group(struct pv_state *s, const char *name)
{
	struct pv_group *g;

	if (!s || !name)
		return NULL;
	dl_list_for_each (g, &s->groups, struct pv_group, list) {
		if (!strcmp(g->name, name))
			return g;
	}
	return NULL;
}

void pv_state_free(struct pv_state *s)
{
	struct pv_group *g, *gn;
	struct pv_ipam_pool *pool, *pn;
	struct pv_platform *p, *n;
	struct pv_ingress *in, *inn;

	if (!s)
		return;
	dl_list_for_each_safe (in, inn, &s->ingress, struct pv_ingress, list) {
		dl_list_del(&in->list);
		pv_ingress_free(in);
	}
	dl_list_for_each_safe (p, n, &s->platforms, struct pv_platform, list) {
		dl_list_del(&p->list);
		pv_platform_free(p);
	}
	dl_list_for_each_safe (g, gn, &s->groups, struct pv_group, list) {
		dl_list_del(&g->list);
		pv_group_free(g);
	}
	dl_list_for_each_safe (pool, pn, &s->pools, struct pv_ipam_pool, list) {
		dl_list_del(&pool->list);
		pv_ipam_pool_free(pool);
	}
	free(s->spec);
	free(s->xconnect_stats);
	free(s);
}

struct pv_platform *pv_state_find_platform(struct pv_state *s, const char *name)
{
	struct pv_platform *p;

	if (!s || !name)
		return NULL;
	dl_list_for_each (p, &s->platforms, struct pv_platform, list) {
		if (!strcmp(p->name, name))
			return p;
	}
	return NULL;
}

struct pv_ipam_pool *pv_state_find_pool(struct pv_state *s, const char *name)
{
	struct pv_ipam_pool *pool;

	if (!s || !name)
		return NULL;
	dl_list_for_each (pool, &s->pools, struct pv_ipam_pool, list) {
		if (!strcmp(pool->name, name))
			return pool;
	}
	return NULL;
}

// Length of origin up to its last '.', so "network.interfaces[0].ip" names
// its object "network.interfaces[0]"; the whole length if there is none.
static int origin_object_len(const char *origin)
{
	const char *dot = strrchr(origin, '.');

	return dot ? (int)(dot - origin) : (int)strlen(origin);
}

// Leases one interface (static or not, per want_static); errors name the
// container's run.json and the interface's fields.
static int lease_iface(struct pv_state *s, struct pv_platform *p,
		       struct pv_platform_network_iface *i,
		       struct pv_errors *errs)
{
	const char *origin = i->origin ? i->origin : "network.ip";
	int olen = origin_object_len(origin);
	struct pv_ipam_pool *pool = pv_state_find_pool(s, i->pool);
	const char *addr, *reason, *owner;

	if (!pool) {
		pv_errors_add(errs,
			      "%s/run.json: %.*s.pool: \"%s\" is not a pool of "
			      "device.json network.pools",
			      p->name, olen, origin, i->pool);
		return -1;
	}
	if (i->static_ip) {
		owner = pv_ipam_owner(pool, i->static_ip);
		addr = pv_ipam_lease(pool, p->name, i->static_ip, &reason);
		if (!addr && owner && strcmp(owner, p->name)) {
			pv_errors_add(errs,
				      "%s/run.json: %s: \"%s\" is already "
				      "taken by %s in pool %s",
				      p->name, origin, i->static_ip, owner,
				      pool->name);
			return -1;
		}
		if (!addr) {
			pv_errors_add(errs,
				      "%s/run.json: %s: \"%s\" %s (pool %s, "
				      "%s, gateway %s)",
				      p->name, origin, i->static_ip, reason,
				      pool->name, pool->subnet, pool->gateway);
			return -1;
		}
	} else {
		addr = pv_ipam_lease(pool, p->name, NULL, &reason);
		if (!addr) {
			pv_errors_add(errs,
				      "%s/run.json: %.*s.pool: no address "
				      "left for %s: pool %s (%s) %s",
				      p->name, olen, origin, p->name,
				      pool->name, pool->subnet, reason);
			return -1;
		}
	}
	free(i->address);
	i->address = strdup(addr);
	if (!i->address) {
		pv_errors_add(errs, "%s/run.json: %s: out of memory", p->name,
			      origin);
		return -1;
	}
	return 0;
}

int pv_state_lease_addresses(struct pv_state *s, struct pv_errors *errs)
{
	struct pv_platform_network_iface *i;
	struct pv_platform *p;
	int pass, ret = 0;

	// Pass 0 takes the static addresses, pass 1 leases the rest, so a
	// dynamic lease never takes an address a later container asks for.
	for (pass = 0; pass < 2; pass++) {
		dl_list_for_each (p, &s->platforms, struct pv_platform, list) {
			if (p->network.mode != NET_MODE_POOL)
				continue;
			dl_list_for_each (i, &p->network.interfaces,
					  struct pv_platform_network_iface,
					  list) {
				if (!!i->static_ip != !pass)
					continue;
				if (lease_iface(s, p, i, errs))
					ret = -1;
			}
		}
	}
	return ret;
}

void pv_state_release_addresses(struct pv_state *s)
{
	struct pv_platform_network_iface *i;
	struct pv_ipam_pool *pool;
	struct pv_platform *p;

	dl_list_for_each (p, &s->platforms, struct pv_platform, list) {
		dl_list_for_each (i, &p->network.interfaces,
				  struct pv_platform_network_iface, list) {
			free(i->address);
			i->address = NULL;
		}
		dl_list_for_each (pool, &s->pools, struct pv_ipam_pool, list)
			pv_ipam_release(pool, p->name);
	}
}

int pv_state_backend_socket(struct pv_platform *p,
			    struct pv_platform_service_export *e, char *buf,
			    size_t n)
{
	const char *ip;

	if (e->socket)
		return snprintf(buf, n, "%s", e->socket) < (int)n ? 0 : -1;
	buf[0] = '\0';
	if (e->port <= 0)
		return 0;
	switch (p->network.mode) {
	case NET_MODE_HOST:
		snprintf(buf, n, "127.0.0.1:%d", e->port);
		break;
	case NET_MODE_POOL:
		ip = pv_platform_get_address(p);
		if (!ip)
			break;
		if (strchr(ip, ':'))
			snprintf(buf, n, "[%s]:%d", ip, e->port);
		else
			snprintf(buf, n, "%s:%d", ip, e->port);
		break;
	case NET_MODE_NONE:
		// Nothing outside the container can reach its loopback; the
		// parser refuses such a backend, and "" reads as "down".
		break;
	}
	return 0;
}

// The graph's pid: 0 for "not running" (no platform, or pid <= 0).
static int pid_of(struct pv_platform *p)
{
	return p && p->pid > 0 ? (int)p->pid : 0;
}

// Writes the fields every link has; the caller closes the object after
// any extra fields.
static void link_begin(struct pv_json_ser *js, const char *type,
		       const char *name, const char *consumer, int consumer_pid,
		       const char *provider, int provider_pid, const char *role,
		       const char *interface, const char *target,
		       const char *socket)
{
	pv_json_ser_object_begin(js);
	pv_json_ser_key(js, "type");
	pv_json_ser_string(js, type);
	pv_json_ser_key(js, "name");
	pv_json_ser_string(js, name);
	pv_json_ser_key(js, "consumer");
	pv_json_ser_string(js, consumer);
	pv_json_ser_key(js, "consumer_pid");
	pv_json_ser_int(js, consumer_pid);
	pv_json_ser_key(js, "provider");
	pv_json_ser_string(js, provider);
	pv_json_ser_key(js, "provider_pid");
	pv_json_ser_int(js, provider_pid);
	pv_json_ser_key(js, "role");
	pv_json_ser_string(js, role);
	pv_json_ser_key(js, "interface");
	pv_json_ser_string(js, interface ? interface : "");
	pv_json_ser_key(js, "target");
	pv_json_ser_string(js, target ? target : "");
	pv_json_ser_key(js, "socket");
	pv_json_ser_string(js, socket ? socket : "");
}

// Writes key: v only when v is set (> 0); 0 means "the proxy's default".
static void int_field(struct pv_json_ser *js, const char *key, int v)
{
	if (v <= 0)
		return;
	pv_json_ser_key(js, key);
	pv_json_ser_int(js, v);
}

// The rule's own fields, written on each of its links so that every link
// carries all pv-xconnect needs to build the shared frontend.
static void ingress_fields(struct pv_json_ser *js, struct pv_ingress *in)
{
	char **a;

	pv_json_ser_key(js, "ingress");
	pv_json_ser_string(js, in->name);
	if (in->balance_set) {
		pv_json_ser_key(js, "balance");
		pv_json_ser_string(js, pv_balance_to_str(in->balance));
	}
	if (in->check.enabled) {
		pv_json_ser_key(js, "check");
		pv_json_ser_object_begin(js);
		pv_json_ser_key(js, "type");
		pv_json_ser_string(js, in->check.http ? "http" : "tcp");
		if (in->check.http) {
			pv_json_ser_key(js, "path");
			pv_json_ser_string(js, in->check.path ? in->check.path
							      : "/health");
			pv_json_ser_key(js, "expect");
			pv_json_ser_int(js, in->check.expect ? in->check.expect
							     : 200);
		}
		int_field(js, "interval_ms", in->check.interval_ms);
		int_field(js, "timeout_ms", in->check.timeout_ms);
		int_field(js, "rise", in->check.rise);
		int_field(js, "fall", in->check.fall);
		pv_json_ser_object_end(js);
	}
	if (in->connect_ms > 0 || in->idle_ms > 0 || in->head_ms > 0 ||
	    in->response_ms > 0) {
		pv_json_ser_key(js, "timeouts");
		pv_json_ser_object_begin(js);
		int_field(js, "connect_ms", in->connect_ms);
		int_field(js, "idle_ms", in->idle_ms);
		int_field(js, "head_ms", in->head_ms);
		int_field(js, "response_ms", in->response_ms);
		pv_json_ser_object_end(js);
	}
	int_field(js, "maxconn", in->maxconn);
	int_field(js, "max_head_bytes", in->max_head_bytes);
	int_field(js, "max_headers", in->max_headers);
	if (in->proxy_protocol) {
		pv_json_ser_key(js, "proxy_protocol");
		pv_json_ser_string(js, in->proxy_protocol);
	}
	if (in->allow) {
		pv_json_ser_key(js, "allow");
		pv_json_ser_array_begin(js);
		for (a = in->allow; *a; a++)
			pv_json_ser_string(js, *a);
		pv_json_ser_array_end(js);
	}
}

// One link per backend of each rule, in rule order then provider order.
static void ingress_links(struct pv_state *s, struct pv_json_ser *js)
{
	char sock[PV_ADDR_STRLEN + 4096];
	struct pv_platform_service_export *e;
	struct pv_platform *p;
	struct pv_ingress *in;
	char **prov;

	dl_list_for_each (in, &s->ingress, struct pv_ingress, list) {
		for (prov = in->providers; prov && *prov; prov++) {
			p = pv_state_find_platform(s, *prov);
			e = p ? pv_platform_find_export(p, in->service) : NULL;
			sock[0] = '\0';
			if (e &&
			    pv_state_backend_socket(p, e, sock, sizeof(sock)))
				sock[0] = '\0';
			link_begin(js, in->type ? in->type : "tcp", in->service,
				   "EXTERNAL", 0, *prov, pid_of(p), "EXTERNAL",
				   "", in->external, sock);
			ingress_fields(js, in);
			pv_json_ser_object_end(js);
		}
	}
}

// The provider of r: the named one, else the first container exporting
// r's name (the parser refuses ambiguous ones).
static struct pv_platform *
find_provider(struct pv_state *s, struct pv_platform_service_require *r,
	      struct pv_platform_service_export **export)
{
	struct pv_platform *p;

	*export = NULL;
	if (r->provider) {
		p = pv_state_find_platform(s, r->provider);
		if (p)
			*export = pv_platform_find_export(p, r->name);
		return p;
	}
	dl_list_for_each (p, &s->platforms, struct pv_platform, list) {
		*export = pv_platform_find_export(p, r->name);
		if (*export)
			return p;
	}
	return NULL;
}

// One link per requirement, in container order.
static void consumer_links(struct pv_state *s, struct pv_json_ser *js)
{
	char sock[PV_ADDR_STRLEN + 4096];
	struct pv_platform_service_require *r;
	struct pv_platform_service_export *e;
	struct pv_platform *c, *p;

	dl_list_for_each (c, &s->platforms, struct pv_platform, list) {
		// c is a list entry, never NULL: the analyzer takes the
		// container_of arithmetic of find_provider's loop for a
		// possible NULL.
		// NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
		dl_list_for_each (r, &c->requires,
				  struct pv_platform_service_require, list) {
			p = find_provider(s, r, &e);
			if (!p || !e) {
				pv_log(WARN,
				       "container %s: no provider of %s; "
				       "link left out",
				       c->name, r->name);
				continue;
			}
			if (pv_state_backend_socket(p, e, sock, sizeof(sock)))
				sock[0] = '\0';
			// interface defaults to the export's type, as
			// upstream's plugins are looked up by it.
			link_begin(
				js, pv_service_type_to_str(r->svc_type),
				r->name, c->name, pid_of(c), p->name, pid_of(p),
				r->role ? r->role : "any",
				r->interface ? r->interface : pv_service_type_to_str(e->svc_type),
				r->target, sock);
			pv_json_ser_object_end(js);
		}
	}
}

char *pv_state_get_xconnect_graph_json(struct pv_state *s)
{
	struct pv_json_ser js;
	char *out;

	pv_json_ser_init(&js);
	pv_json_ser_array_begin(&js);
	ingress_links(s, &js);
	consumer_links(s, &js);
	pv_json_ser_array_end(&js);
	out = pv_json_ser_finish(&js, NULL);
	if (!out)
		pv_log(ERROR, "xconnect-graph: out of memory");
	return out;
}
