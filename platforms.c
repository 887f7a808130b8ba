// Containers of a state: what each runs, exports, requires and which pool
// interfaces it has. Pure data; pvd fills the runtime fields.

#define MODULE_NAME "platforms"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "platforms.h"

static const char *const service_type_names[] = {
	[SVC_TYPE_UNKNOWN] = "unknown", [SVC_TYPE_TCP] = "tcp",
	[SVC_TYPE_UNIX] = "unix",	[SVC_TYPE_HTTP] = "http",
	[SVC_TYPE_REST] = "rest",	[SVC_TYPE_DBUS] = "dbus",
	[SVC_TYPE_DRM] = "drm",		[SVC_TYPE_WAYLAND] = "wayland",
};

#define N_SERVICE_TYPES                                                        \
	(sizeof(service_type_names) / sizeof(service_type_names[0]))

// Maps a name to its type; exact, case-sensitive match as in the state.
service_type_t pv_service_type_from_str(const char *s)
{
	size_t i;

	if (!s)
		return SVC_TYPE_UNKNOWN;
	for (i = SVC_TYPE_UNKNOWN + 1; i < N_SERVICE_TYPES; i++)
		if (!strcmp(s, service_type_names[i]))
			return (service_type_t)i;
	return SVC_TYPE_UNKNOWN;
}

// The graph's spelling; "unknown" for anything out of range.
const char *pv_service_type_to_str(service_type_t t)
{
	if ((size_t)t >= N_SERVICE_TYPES)
		return service_type_names[SVC_TYPE_UNKNOWN];
	return service_type_names[t];
}

// Allocates an empty platform; every list initialized, pid 0 (stopped).
struct pv_platform *pv_platform_new(const char *name)
{
	struct pv_platform *p = calloc(1, sizeof(*p));

	if (!p) {
		pv_log(ERROR, "platform %s: out of memory", name);
		return NULL;
	}
	p->name = strdup(name);
	if (!p->name) {
		pv_log(ERROR, "platform %s: out of memory", name);
		free(p);
		return NULL;
	}
	dl_list_init(&p->network.interfaces);
	dl_list_init(&p->exports);
	dl_list_init(&p->requires);
	dl_list_init(&p->list);
	return p;
}

void pv_strv_free(char **v)
{
	char **p;

	if (!v)
		return;
	for (p = v; *p; p++)
		free(*p);
	free(v);
}

// Frees one list entry; the caller has unlinked it.
static void export_free(struct pv_platform_service_export *e)
{
	free(e->name);
	free(e->socket);
	free(e);
}

static void require_free(struct pv_platform_service_require *r)
{
	free(r->name);
	free(r->provider);
	free(r->target);
	free(r->interface);
	free(r->role);
	free(r);
}

static void iface_free(struct pv_platform_network_iface *i)
{
	free(i->name);
	free(i->pool);
	free(i->static_ip);
	free(i->mac);
	free(i->address);
	free(i->origin);
	free(i);
}

// Frees p and everything it owns; the caller has unlinked it from any list.
void pv_platform_free(struct pv_platform *p)
{
	struct pv_platform_service_export *e, *en;
	struct pv_platform_service_require *r, *rn;
	struct pv_platform_network_iface *i, *in;

	if (!p)
		return;
	dl_list_for_each_safe (e, en, &p->exports,
			       struct pv_platform_service_export, list) {
		dl_list_del(&e->list);
		export_free(e);
	}
	dl_list_for_each_safe (r, rn, &p->requires,
			       struct pv_platform_service_require, list) {
		dl_list_del(&r->list);
		require_free(r);
	}
	dl_list_for_each_safe (i, in, &p->network.interfaces,
			       struct pv_platform_network_iface, list) {
		dl_list_del(&i->list);
		iface_free(i);
	}
	free(p->group);
	pv_strv_free(p->roles);
	free(p->status_goal);
	free(p->network.hostname);
	free(p->name);
	free(p->type);
	pv_strv_free(p->exec);
	pv_strv_free(p->env);
	free(p->root);
	free(p->error);
	free(p);
}

// strdup that treats NULL as NULL; sets *failed on allocation failure.
static char *dup_opt(const char *s, int *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = 1;
	return d;
}

// Adds an export at the end of p's exports, keeping the state's order.
struct pv_platform_service_export *
pv_platform_add_service_export(struct pv_platform *p, service_type_t type,
			       const char *name, const char *socket, int port)
{
	struct pv_platform_service_export *e = calloc(1, sizeof(*e));
	int failed = 0;

	if (!e)
		goto out_oom;
	e->svc_type = type;
	e->port = port;
	e->name = dup_opt(name, &failed);
	e->socket = dup_opt(socket, &failed);
	if (failed || !e->name) {
		export_free(e);
		goto out_oom;
	}
	dl_list_add_tail(&p->exports, &e->list);
	return e;

out_oom:
	pv_log(ERROR, "platform %s: export %s: out of memory", p->name, name);
	return NULL;
}

// Adds a requirement at the end of p's requirements.
struct pv_platform_service_require *
pv_platform_add_service_require(struct pv_platform *p, service_type_t type,
				const char *name, const char *provider,
				const char *target, const char *interface,
				const char *role)
{
	struct pv_platform_service_require *r = calloc(1, sizeof(*r));
	int failed = 0;

	if (!r)
		goto out_oom;
	r->svc_type = type;
	r->name = dup_opt(name, &failed);
	r->provider = dup_opt(provider, &failed);
	r->target = dup_opt(target, &failed);
	r->interface = dup_opt(interface, &failed);
	// Upstream's default: a link serves any role.
	r->role = dup_opt(role ? role : "any", &failed);
	if (failed || !r->name) {
		require_free(r);
		goto out_oom;
	}
	dl_list_add_tail(&p->requires, &r->list);
	return r;

out_oom:
	pv_log(ERROR, "platform %s: requirement %s: out of memory", p->name,
	       name);
	return NULL;
}

struct pv_platform_service_export *
pv_platform_find_export(struct pv_platform *p, const char *name)
{
	struct pv_platform_service_export *e;

	dl_list_for_each (e, &p->exports, struct pv_platform_service_export,
			  list) {
		if (!strcmp(e->name, name))
			return e;
	}
	return NULL;
}

// Interfaces are named in the order they are added, as liblxc numbers its
// lxc.net.N entries: eth0 for the first.
struct pv_platform_network_iface *pv_platform_add_iface(struct pv_platform *p,
							const char *pool,
							const char *static_ip,
							const char *mac)
{
	struct pv_platform_network_iface *i = calloc(1, sizeof(*i));
	int failed = 0;

	if (!i)
		goto out_oom;
	if (asprintf(&i->name, "eth%u", dl_list_len(&p->network.interfaces)) <
	    0) {
		i->name = NULL;
		iface_free(i);
		goto out_oom;
	}
	i->pool = dup_opt(pool, &failed);
	i->static_ip = dup_opt(static_ip, &failed);
	i->mac = dup_opt(mac, &failed);
	if (failed || !i->pool) {
		iface_free(i);
		goto out_oom;
	}
	dl_list_add_tail(&p->network.interfaces, &i->list);
	return i;

out_oom:
	pv_log(ERROR, "platform %s: interface on %s: out of memory", p->name,
	       pool);
	return NULL;
}

// IPv4 text never holds a ':', IPv6 text always does.
const char *pv_platform_get_ipv4_address(struct pv_platform *p)
{
	struct pv_platform_network_iface *i;

	if (!p)
		return NULL;
	dl_list_for_each (i, &p->network.interfaces,
			  struct pv_platform_network_iface, list) {
		if (i->address && !strchr(i->address, ':'))
			return i->address;
	}
	return NULL;
}

const char *pv_platform_get_address(struct pv_platform *p)
{
	struct pv_platform_network_iface *i;

	if (!p)
		return NULL;
	dl_list_for_each (i, &p->network.interfaces,
			  struct pv_platform_network_iface, list) {
		if (i->address)
			return i->address;
	}
	return NULL;
}

const char *pv_platform_status_str(platform_status_t s)
{
	switch (s) {
	case PLAT_STOPPED:
		return "stopped";
	case PLAT_STARTING:
		return "starting";
	case PLAT_RUNNING:
		return "running";
	case PLAT_FAILED:
		return "failed";
	}
	return "unknown";
}

const char *pv_restart_policy_str(restart_policy_t r)
{
	static const char *const names[] = {
		[RESTART_NO] = "no",
		[RESTART_ON_FAILURE] = "on-failure",
		[RESTART_ALWAYS] = "always",
		[RESTART_CONTAINER] = "container",
		[RESTART_SYSTEM] = "system",
	};

	if ((unsigned)r >= sizeof(names) / sizeof(names[0]))
		return "no";
	return names[r];
}

const char *pv_recovery_policy_str(recovery_policy_t r)
{
	static const char *const names[] = {
		[RECOVERY_NO] = "no",
		[RECOVERY_ON_FAILURE] = "on-failure",
		[RECOVERY_ALWAYS] = "always",
		[RECOVERY_UNLESS_STOPPED] = "unless-stopped",
	};

	if ((unsigned)r >= sizeof(names) / sizeof(names[0]))
		return "no";
	return names[r];
}
