// pantavisor-service-system@1: validates the files of a state (device.json,
// NAME/run.json, NAME/services.json) and builds a struct pv_state.
//
// Every problem becomes one line "KEY: FIELD: REASON" and validation goes
// on, so a user sees all errors of a state at once. Values are quoted as
// written in the JSON, so "80" (a string) and 80 (a number) read apart.

#define MODULE_NAME "parser"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parser/internal.h"
#include "parser/parser.h"
#include "utils/addr.h"
#include "utils/json.h"

// ---- NAME/services.json ----

// One service export of services.json (base names it, "services[0]").
static void parse_export(struct pv_parser_ctx *c, struct pv_platform *p,
			 int obj, const char *base)
{
	const char *fname = pv_parser_fld(c, "%s.name", base);
	char *name = NULL, *socket = NULL;
	service_type_t type = SVC_TYPE_UNKNOWN;
	int tok, port = 0, bad = 0;

	if (!pv_json_is_object(c->doc, obj)) {
		pv_parser_err(c, base, "expected an object, got %s",
			      pv_parser_ex(c, obj));
		return;
	}
	bad |= pv_parser_get_str(c, obj, "name", fname, REQUIRED | NONEMPTY,
				 &name);
	if (name && pv_platform_find_export(p, name)) {
		pv_parser_err(
			c, fname, "%s is exported twice by this container",
			pv_parser_ex(c, pv_json_get(c->doc, obj, "name")));
		bad = 1;
	}
	bad |= pv_parser_get_service_type(c, obj, base, &type);

	tok = pv_json_get(c->doc, obj, "port");
	if (tok >= 0)
		bad |= pv_parser_get_port(
			c, tok, pv_parser_fld(c, "%s.port", base), &port);
	tok = pv_json_get(c->doc, obj, "socket");
	if (tok >= 0) {
		const char *f = pv_parser_fld(c, "%s.socket", base);
		if (pv_parser_get_str(c, obj, "socket", f, REQUIRED | NONEMPTY,
				      &socket) ||
		    pv_parser_check_socket_path(c, tok, f, socket))
			bad = 1;
	}
	if (!bad && type != SVC_TYPE_UNKNOWN) {
		if (pv_parser_tcp_like(type) && !port && !socket) {
			pv_parser_err(c, base,
				      "a %s service needs \"port\" or "
				      "\"socket\" (how "
				      "the proxy reaches it)",
				      pv_service_type_to_str(type));
			bad = 1;
		} else if (!pv_parser_tcp_like(type) && !socket) {
			pv_parser_err(c, base, "a %s service needs \"socket\"",
				      pv_service_type_to_str(type));
			bad = 1;
		} else if (!pv_parser_tcp_like(type) && port) {
			pv_parser_err(c, pv_parser_fld(c, "%s.port", base),
				      "a %s service is reached by its socket; "
				      "\"port\" "
				      "is for tcp, http and rest",
				      pv_service_type_to_str(type));
			bad = 1;
		}
	}
	// A broken export is still recorded, typed unknown, so that rules
	// naming it do not add "not exported" to the error it already has.
	if (name && !pv_platform_find_export(p, name) &&
	    !pv_platform_add_service_export(p, bad ? SVC_TYPE_UNKNOWN : type,
					    name, socket, port))
		pv_parser_oom(c, base);
	free(name);
	free(socket);
}

// services.json: {"services": [...]} or, in the older form, a bare array.
static void parse_services(struct pv_parser_ctx *c, struct pv_platform *p,
			   int root)
{
	int arr = root, el, i, mark;

	if (pv_json_is_object(c->doc, root)) {
		// "#spec" is not checked: upstream reads services.json
		// whatever it says (its docs show @1 and @2).
		arr = pv_json_get(c->doc, root, "services");
		if (arr < 0)
			return;
		if (!pv_json_is_array(c->doc, arr)) {
			pv_parser_err(c, "services",
				      "expected an array, got %s",
				      pv_parser_ex(c, arr));
			return;
		}
	} else if (!pv_json_is_array(c->doc, root)) {
		pv_parser_err(c, NULL,
			      "expected an object with \"services\" or an "
			      "array, got %s",
			      pv_parser_ex(c, root));
		return;
	}
	if (pv_parser_too_many(c, arr, arr == root ? NULL : "services", 1024))
		return;
	for (el = pv_json_first(c->doc, arr), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, arr);
	     el = pv_json_next(c->doc, el), i++) {
		mark = c->narena;
		parse_export(c, p, el,
			     pv_parser_fld(c, "%s[%d]",
					   arr == root ? "" : "services", i));
		pv_parser_arena_pop(c, mark);
	}
}

// ---- NAME/run.json ----

// run.json "exec": an argv array, or one string run by /bin/sh -c.
static void parse_exec(struct pv_parser_ctx *c, struct pv_platform *p, int obj)
{
	int tok = pv_json_get(c->doc, obj, "exec"), el, i, n = 0;
	char **argv = NULL, *s;

	// Absent: the command may be in lxc.container.conf, which is read
	// after "env" (parse_run).
	if (tok < 0)
		return;
	if (pv_json_is_string(c->doc, tok)) {
		s = pv_parser_decode(c, tok, "exec");
		if (!s)
			return;
		if (!*s) {
			pv_parser_err(c, "exec", "must not be empty");
			free(s);
			return;
		}
		if (pv_parser_strv_push(&argv, &n, strdup("/bin/sh")) ||
		    pv_parser_strv_push(&argv, &n, strdup("-c")) || !argv[0] ||
		    !argv[1] || pv_parser_strv_push(&argv, &n, s))
			goto out_oom;
		p->exec = argv;
		return;
	}
	if (!pv_parser_want_list(c, tok, "exec",
				 "a non-empty array of strings or a command "
				 "string",
				 4096))
		return;
	for (el = pv_json_first(c->doc, tok), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, tok);
	     el = pv_json_next(c->doc, el), i++) {
		const char *f = pv_parser_fld(c, "exec[%d]", i);
		if (!pv_json_is_string(c->doc, el)) {
			pv_parser_err(c, f, "expected a string, got %s",
				      pv_parser_ex(c, el));
			goto out_free;
		}
		s = pv_parser_decode(c, el, f);
		if (!s)
			goto out_free;
		if (i == 0 && !*s) {
			pv_parser_err(c, f, "the program must not be empty");
			free(s);
			goto out_free;
		}
		if (pv_parser_strv_push(&argv, &n, s))
			goto out_oom;
	}
	p->exec = argv;
	return;

out_oom:
	pv_parser_oom(c, "exec");
out_free:
	for (i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
}

// run.json "env": an object of strings, kept as "KEY=VALUE".
static void parse_env(struct pv_parser_ctx *c, struct pv_platform *p, int obj)
{
	int tok = pv_json_get(c->doc, obj, "env"), k, i, n = 0, bad = 0;
	char **env = NULL, *key, *val, *kv;

	if (tok < 0)
		return;
	if (!pv_json_is_object(c->doc, tok)) {
		pv_parser_err(c, "env", "expected an object of strings, got %s",
			      pv_parser_ex(c, tok));
		return;
	}
	if (pv_parser_too_many(c, tok, "env", 4096))
		return;
	for (k = pv_json_first(c->doc, tok), i = 0;
	     k >= 0 && i < pv_json_size(c->doc, tok);
	     k = pv_json_next(c->doc, k + 1), i++) {
		const char *f = pv_parser_fld(c, "env.%s", pv_parser_key(c, k));
		key = pv_parser_decode(c, k, f);
		if (!key) {
			bad = 1;
			continue;
		}
		if (!*key || strchr(key, '=')) {
			pv_parser_err(
				c, f,
				"is not a variable name (non-empty, no '=')");
			free(key);
			bad = 1;
			continue;
		}
		if (!pv_json_is_string(c->doc, k + 1)) {
			pv_parser_err(c, f, "expected a string, got %s",
				      pv_parser_ex(c, k + 1));
			free(key);
			bad = 1;
			continue;
		}
		val = pv_parser_decode(c, k + 1, f);
		if (!val) {
			free(key);
			bad = 1;
			continue;
		}
		if (asprintf(&kv, "%s=%s", key, val) < 0)
			kv = NULL;
		free(key);
		free(val);
		if (!kv || pv_parser_strv_push(&env, &n, kv)) {
			pv_parser_oom(c, "env");
			bad = 1;
			break;
		}
	}
	if (bad) {
		for (i = 0; i < n; i++)
			free(env[i]);
		free(env);
		return;
	}
	p->env = env;
}

// One pool interface: {pool, ip|ipv4_address|ipv6_address, mac|mac_address}
// as the mode form (base "network") or the interfaces form writes it.
static void parse_iface(struct pv_parser_ctx *c, struct pv_platform *p, int obj,
			const char *base, const char *ip_key,
			const char *mac_key)
{
	struct pv_platform_network_iface *i, *other;
	char *pool = NULL, *ip = NULL, *mac = NULL, *origin = NULL;
	const char *f_ip = pv_parser_fld(c, "%s.%s", base, ip_key);
	const char *f_mac = pv_parser_fld(c, "%s.%s", base, mac_key);
	const char *f_pool = pv_parser_fld(c, "%s.pool", base);
	int bad = 0;

	bad |= pv_parser_get_str(c, obj, "pool", f_pool, REQUIRED | NONEMPTY,
				 &pool);
	if (pool) {
		dl_list_for_each (other, &p->network.interfaces,
				  struct pv_platform_network_iface, list) {
			if (strcmp(other->pool, pool))
				continue;
			pv_parser_err(c, f_pool,
				      "%s is already used by another interface "
				      "of this "
				      "container",
				      pv_parser_ex(c, pv_json_get(c->doc, obj,
								  "pool")));
			bad = 1;
			break;
		}
	}
	bad |= pv_parser_get_str(c, obj, ip_key, f_ip, OPTIONAL, &ip);
	if (ip && !pv_parser_valid_ip(ip)) {
		pv_parser_err(
			c, f_ip, "%s is not an IPv4 or IPv6 address",
			pv_parser_ex(c, pv_json_get(c->doc, obj, ip_key)));
		bad = 1;
	}
	bad |= pv_parser_get_str(c, obj, mac_key, f_mac, OPTIONAL, &mac);
	if (mac && !pv_parser_valid_mac(mac)) {
		pv_parser_err(
			c, f_mac,
			"%s is not a unicast MAC address (xx:xx:xx:xx:xx:xx)",
			pv_parser_ex(c, pv_json_get(c->doc, obj, mac_key)));
		bad = 1;
	}
	if (!bad) {
		origin = strdup(f_ip);
		i = origin ? pv_platform_add_iface(p, pool, ip, mac) : NULL;
		if (!i) {
			free(origin);
			pv_parser_oom(c, base);
		} else {
			i->origin = origin;
		}
	}
	free(pool);
	free(ip);
	free(mac);
}

// network.interfaces: [{pool, ipv4_address|ipv6_address, mac_address}].
static void parse_interfaces(struct pv_parser_ctx *c, struct pv_platform *p,
			     int arr)
{
	int el, i, v4, v6;

	if (!pv_parser_want_list(c, arr, "network.interfaces",
				 "a non-empty array of interfaces", 16))
		return;
	for (el = pv_json_first(c->doc, arr), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, arr);
	     el = pv_json_next(c->doc, el), i++) {
		const char *base =
			pv_parser_fld(c, "network.interfaces[%d]", i);
		if (!pv_json_is_object(c->doc, el)) {
			pv_parser_err(c, base, "expected an object, got %s",
				      pv_parser_ex(c, el));
			continue;
		}
		v4 = pv_json_get(c->doc, el, "ipv4_address");
		v6 = pv_json_get(c->doc, el, "ipv6_address");
		if (v4 >= 0 && v6 >= 0) {
			pv_parser_err(c, base,
				      "give ipv4_address or ipv6_address, not "
				      "both (one "
				      "interface is on one pool)");
			continue;
		}
		parse_iface(c, p, el, base,
			    v6 >= 0 ? "ipv6_address" : "ipv4_address",
			    "mac_address");
	}
}

// network.hostname, for any mode (the container has its own UTS
// namespace even on the host network).
static void parse_hostname(struct pv_parser_ctx *c, struct pv_platform *p,
			   int net)
{
	char *host;

	if (pv_parser_get_str(c, net, "hostname", "network.hostname", OPTIONAL,
			      &host) ||
	    !host)
		return;
	if (!pv_parser_valid_hostname(host)) {
		pv_parser_err(
			c, "network.hostname",
			"%s is not a host name (letters, digits, '-', '.'; up "
			"to 64)",
			pv_parser_ex(c, pv_json_get(c->doc, net, "hostname")));
		free(host);
		return;
	}
	p->network.hostname = host;
}

// run.json "network": "none" or {"mode": "none"} (a private loopback
// only), absent or "host" (the host's network: upstream's LXC template
// keeps the host's network namespace when run.json has no network), or a
// pool given by "pool" or "interfaces".
static void parse_network(struct pv_parser_ctx *c, struct pv_platform *p,
			  int obj)
{
	int net = pv_json_get(c->doc, obj, "network"), pool, ifs;
	char *mode = NULL;

	p->network.mode = NET_MODE_HOST;
	if (net < 0)
		return;
	if (pv_json_is_string(c->doc, net)) {
		if (pv_json_eq(c->doc, net, "none")) {
			p->network.mode = NET_MODE_NONE;
			return;
		}
		if (pv_json_eq(c->doc, net, "host")) {
			p->network.mode = NET_MODE_HOST;
			return;
		}
		pv_parser_err(
			c, "network",
			"%s is not a network (an object, \"host\" or \"none\")",
			pv_parser_ex(c, net));
		return;
	}
	if (!pv_json_is_object(c->doc, net)) {
		pv_parser_err(c, "network", "expected an object, got %s",
			      pv_parser_ex(c, net));
		return;
	}
	if (pv_parser_get_str(c, net, "mode", "network.mode", OPTIONAL, &mode))
		return;
	pool = pv_json_get(c->doc, net, "pool");
	ifs = pv_json_get(c->doc, net, "interfaces");
	if (!mode)
		p->network.mode =
			pool >= 0 || ifs >= 0 ? NET_MODE_POOL : NET_MODE_HOST;
	else if (!strcmp(mode, "pool"))
		p->network.mode = NET_MODE_POOL;
	else if (!strcmp(mode, "host"))
		p->network.mode = NET_MODE_HOST;
	else if (!strcmp(mode, "none"))
		p->network.mode = NET_MODE_NONE;
	else {
		pv_parser_err(
			c, "network.mode",
			"%s is not a network mode (pool, host, none)",
			pv_parser_ex(c, pv_json_get(c->doc, net, "mode")));
		goto out;
	}

	parse_hostname(c, p, net);
	if (p->network.mode != NET_MODE_POOL) {
		if (pool >= 0 || ifs >= 0)
			pv_parser_err(c,
				      pool >= 0 ? "network.pool"
						: "network.interfaces",
				      "not allowed with mode \"%s\" (only with "
				      "\"pool\")",
				      mode);
		goto out;
	}
	if (pool >= 0 && ifs >= 0)
		pv_parser_err(c, "network.interfaces",
			      "give \"pool\" or \"interfaces\", not both");
	else if (ifs >= 0)
		parse_interfaces(c, p, ifs);
	else if (pool >= 0)
		parse_iface(c, p, net, "network", "ip", "mac");
	else
		pv_parser_err(c, "network.pool",
			      "missing (mode \"pool\" names a pool)");

out:
	free(mode);
}

// Where a requirement without "target" is served: upstream's directory
// for injected sockets.
#define DEFAULT_TARGET_DIR "/run/pv/services/"

// Whether a requirement of this type with this target (NULL: none) is
// served on IP:PORT inside the consumer's network namespace, rather than
// on a Unix socket in its root. A rest requirement is served either way,
// as upstream serves it on a socket: an absolute path, or no target at
// all, is a socket.
static int listens_on_address(service_type_t type, const char *target)
{
	if (type == SVC_TYPE_REST)
		return target && target[0] != '/';
	return pv_parser_tcp_like(type);
}

// Checks a requirement's target for its type (shown is the value as the
// messages quote it). Returns -1 when something was reported.
static int check_target(struct pv_parser_ctx *c, service_type_t type,
			const char *field, const char *shown,
			const char *target)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!listens_on_address(type, target))
		return pv_parser_check_socket_text(c, shown, field, target);
	if (!pv_addr_parse(target, &ss, &len))
		return 0;
	pv_parser_err(c, field,
		      "%s is not an address (IP:PORT, [IPv6]:PORT or :PORT)",
		      shown);
	return -1;
}

// A requirement without "target": a socket under DEFAULT_TARGET_DIR for
// types reached by a path; a tcp-like one must say where to listen.
// Returns the target (caller frees), or NULL after reporting.
static char *default_target(struct pv_parser_ctx *c, service_type_t type,
			    const char *name, const char *field)
{
	char *t;

	if (listens_on_address(type, NULL)) {
		pv_parser_err(c, field,
			      "missing (a %s requirement listens on IP:PORT "
			      "inside this container)",
			      pv_service_type_to_str(type));
		return NULL;
	}
	if (asprintf(&t, DEFAULT_TARGET_DIR "%s.sock", name) < 0) {
		pv_parser_oom(c, field);
		return NULL;
	}
	return t;
}

// One entry of services.required; checked against the providers later
// (check_requires), once every container is known. Without "type" (as
// upstream writes them) the type, and so the check of "target", come from
// the export it names.
static void parse_require(struct pv_parser_ctx *c, struct pv_platform *p,
			  int obj, int index)
{
	const char *base = pv_parser_fld(c, "services.required[%d]", index);
	char *name = NULL, *target = NULL, *provider = NULL, *iface = NULL,
	     *role = NULL;
	const char *f_target = pv_parser_fld(c, "%s.target", base);
	struct pv_platform_service_require *r;
	service_type_t type = SVC_TYPE_UNKNOWN;
	int bad = 0, typed;

	if (!pv_json_is_object(c->doc, obj)) {
		pv_parser_err(c, base, "expected an object, got %s",
			      pv_parser_ex(c, obj));
		return;
	}
	bad |= pv_parser_get_str(c, obj, "name",
				 pv_parser_fld(c, "%s.name", base),
				 REQUIRED | NONEMPTY, &name);
	typed = pv_json_get(c->doc, obj, "type") >= 0;
	if (typed)
		bad |= pv_parser_get_service_type(c, obj, base, &type);
	bad |= pv_parser_get_str(c, obj, "target", f_target,
				 OPTIONAL | NONEMPTY, &target);
	bad |= pv_parser_get_str(c, obj, "provider",
				 pv_parser_fld(c, "%s.provider", base),
				 OPTIONAL | NONEMPTY, &provider);
	bad |= pv_parser_get_str(c, obj, "interface",
				 pv_parser_fld(c, "%s.interface", base),
				 OPTIONAL, &iface);
	bad |= pv_parser_get_str(c, obj, "role",
				 pv_parser_fld(c, "%s.role", base),
				 OPTIONAL | NONEMPTY, &role);
	if (typed && type != SVC_TYPE_UNKNOWN && !bad) {
		if (target)
			bad |= check_target(
				c, type, f_target,
				pv_parser_ex(
					c, pv_json_get(c->doc, obj, "target")),
				target);
		else if (name &&
			 !(target = default_target(c, type, name, f_target)))
			bad = 1;
	}
	if (!bad) {
		r = pv_platform_add_service_require(p, type, name, provider,
						    target, iface, role);
		if (r) {
			r->index = index;
			r->type_from_export = !typed;
		} else {
			pv_parser_oom(c, base);
		}
	}
	free(name);
	free(target);
	free(provider);
	free(iface);
	free(role);
}

// run.json "services": {"required": [...]}.
static void parse_requires(struct pv_parser_ctx *c, struct pv_platform *p,
			   int obj)
{
	int svc = pv_json_get(c->doc, obj, "services"), req, el, i, mark;

	if (svc < 0)
		return;
	if (!pv_json_is_object(c->doc, svc)) {
		pv_parser_err(c, "services", "expected an object, got %s",
			      pv_parser_ex(c, svc));
		return;
	}
	req = pv_json_get(c->doc, svc, "required");
	if (req < 0)
		return;
	if (!pv_json_is_array(c->doc, req)) {
		pv_parser_err(c, "services.required",
			      "expected an array, got %s",
			      pv_parser_ex(c, req));
		return;
	}
	if (pv_parser_too_many(c, req, "services.required", 1024))
		return;
	for (el = pv_json_first(c->doc, req), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, req);
	     el = pv_json_next(c->doc, el), i++) {
		mark = c->narena;
		parse_require(c, p, el, i);
		pv_parser_arena_pop(c, mark);
	}
}

// run.json "roles": upstream's capability roles (mgmt, nobody), an array
// of names; pvd reports them in /containers and grants nothing by them.
static void parse_roles(struct pv_parser_ctx *c, struct pv_platform *p, int obj)
{
	int tok = pv_json_get(c->doc, obj, "roles"), el, i, n = 0;
	char *s;

	if (tok < 0)
		return;
	if (!pv_json_is_array(c->doc, tok)) {
		pv_parser_err(c, "roles",
			      "expected an array of role names, got %s",
			      pv_parser_ex(c, tok));
		return;
	}
	if (pv_parser_too_many(c, tok, "roles", 64))
		return;
	for (el = pv_json_first(c->doc, tok), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, tok);
	     el = pv_json_next(c->doc, el), i++) {
		const char *f = pv_parser_fld(c, "roles[%d]", i);

		if (!pv_json_is_string(c->doc, el) ||
		    c->doc->tok[el].end == c->doc->tok[el].start) {
			pv_parser_err(c, f, "expected a role name, got %s",
				      pv_parser_ex(c, el));
			continue;
		}
		s = pv_parser_decode(c, el, f);
		if (s && pv_parser_strv_push(&p->roles, &n, s))
			pv_parser_oom(c, f);
	}
}

// NAME/run.json into p (already named after the key).
static void parse_run(struct pv_parser_ctx *c, struct pv_platform *p, int obj)
{
	char *s;

	if (!pv_json_is_object(c->doc, obj)) {
		pv_parser_err(c, NULL, "expected an object, got %s",
			      pv_parser_ex(c, obj));
		return;
	}
	// Neither "#spec" nor keys pvd does not know are checked: upstream
	// ignores them, and an upstream run.json holds many (volumes,
	// storage, drivers, logs, ...).
	if (!pv_parser_get_str(c, obj, "name", "name", REQUIRED, &s) &&
	    strcmp(s, p->name))
		pv_parser_err(c, "name",
			      "%s does not match the container's name \"%s\"",
			      pv_parser_ex(c, pv_json_get(c->doc, obj, "name")),
			      p->name);
	free(s);

	if (!pv_parser_get_str(c, obj, "type", "type", OPTIONAL, &s) && s &&
	    strcmp(s, "lxc"))
		pv_parser_err(
			c, "type", "%s is not a container type (lxc)",
			pv_parser_ex(c, pv_json_get(c->doc, obj, "type")));
	free(s);
	p->type = strdup("lxc");
	if (!p->type)
		pv_parser_oom(c, "type");

	parse_exec(c, p, obj);
	parse_env(c, p, obj);
	if (pv_json_get(c->doc, obj, "exec") < 0)
		pv_parser_lxc_exec(c, p, obj);
	// pvd does not mount images; the warning comes once per state
	// (pv_parser_build), not once per container.
	if (pv_json_get(c->doc, obj, "root-volume") >= 0 && !c->n_root_volume++)
		c->root_volume_key = strdup(c->key);
	if (!pv_parser_get_str(c, obj, "root", "root", OPTIONAL | NONEMPTY,
			       &s) &&
	    s) {
		if (s[0] != '/')
			pv_parser_err(c, "root", "%s is not an absolute path",
				      pv_parser_ex(c, pv_json_get(c->doc, obj,
								  "root")));
		else
			p->root = s, s = NULL;
	}
	free(s);
	p->restart_policy_set =
		pv_parser_get_restart_policy(c, obj, "restart_policy",
					     &p->restart_policy) == 1;
	pv_parser_get_recovery(c, obj, "", &p->recovery);
	pv_parser_get_status_goal(c, obj, "status_goal", &p->status_goal);
	if (!pv_parser_get_str(c, obj, "group", "group", OPTIONAL | NONEMPTY,
			       &s))
		p->group = s;
	parse_network(c, p, obj);
	parse_requires(c, p, obj);
	parse_roles(c, p, obj);
}

// ---- checks across files ----

// A requirement written without "type" takes the type of export e, as
// upstream master does; its target is checked (or defaulted) for that
// type now. Returns 0 when something was reported.
static int resolve_type(struct pv_parser_ctx *c,
			struct pv_platform_service_require *r,
			struct pv_platform_service_export *e, const char *base)
{
	const char *f_target = pv_parser_fld(c, "%s.target", base);

	r->svc_type = e->svc_type;
	if (!r->target) {
		r->target = default_target(c, r->svc_type, r->name, f_target);
		return r->target != NULL;
	}
	return !check_target(c, r->svc_type, f_target,
			     pv_parser_quote(c, r->target), r->target);
}

// Checks each requirement of p against the containers' exports.
static void check_requires(struct pv_parser_ctx *c, struct pv_platform *p)
{
	struct pv_platform_service_require *r, *o;
	struct pv_platform_service_export *e, *found_e;
	struct pv_platform *q, *found;
	struct sockaddr_storage a, b;
	const char *base, *why;
	socklen_t len;
	int n;

	dl_list_for_each (r, &p->requires, struct pv_platform_service_require,
			  list) {
		base = pv_parser_fld(c, "services.required[%d]", r->index);
		found = NULL;
		found_e = NULL;
		if (r->provider) {
			found = pv_state_find_platform(c->s, r->provider);
			if (!found) {
				pv_parser_err(
					c,
					pv_parser_fld(c, "%s.provider", base),
					"\"%s\" is not a container of this "
					"state",
					r->provider);
				continue;
			}
			found_e = pv_platform_find_export(found, r->name);
			if (!found_e) {
				pv_parser_err(c,
					      pv_parser_fld(c, "%s.name", base),
					      "\"%s\" is not exported by "
					      "container %s",
					      r->name, r->provider);
				continue;
			}
		} else {
			n = 0;
			dl_list_for_each (q, &c->s->platforms,
					  struct pv_platform, list) {
				e = pv_platform_find_export(q, r->name);
				if (!e)
					continue;
				if (n++) {
					pv_parser_err(
						c,
						pv_parser_fld(c, "%s.name",
							      base),
						"\"%s\" is exported by %s and "
						"%s; "
						"name one with \"provider\"",
						r->name, found->name, q->name);
					break;
				}
				found = q;
				found_e = e;
			}
			if (!n)
				pv_parser_err(
					c, pv_parser_fld(c, "%s.name", base),
					"no container exports \"%s\"", r->name);
			if (n != 1)
				continue;
		}
		if (found_e->svc_type == SVC_TYPE_UNKNOWN)
			continue;
		if (r->type_from_export && !resolve_type(c, r, found_e, base))
			continue;
		why = pv_parser_unreachable(found, found_e);
		if (why) {
			pv_parser_err(c, base, "container %s %s", found->name,
				      why);
			continue;
		}
		if (!pv_parser_tcp_like(r->svc_type) && !found_e->socket)
			pv_parser_err(c, pv_parser_fld(c, "%s.type", base),
				      "a %s requirement needs a socket, but %s "
				      "exports "
				      "\"%s\" with a port only",
				      pv_service_type_to_str(r->svc_type),
				      found->name, r->name);
		if (!listens_on_address(r->svc_type, r->target) ||
		    pv_addr_parse(r->target, &a, &len))
			continue;
		// Two listeners on one address of the same namespace.
		dl_list_for_each (o, &p->requires,
				  struct pv_platform_service_require, list) {
			if (o == r)
				break;
			if (listens_on_address(o->svc_type, o->target) &&
			    !pv_addr_parse(o->target, &b, &len) &&
			    pv_parser_binds_conflict(&a, &b)) {
				pv_parser_err(
					c, pv_parser_fld(c, "%s.target", base),
					"\"%s\" conflicts with "
					"services.required[%d] (\"%s\")",
					r->target, o->index, o->target);
				break;
			}
		}
	}
}

// Pool references when device.json's pools had errors: the leasing dry
// run is skipped (its errors would repeat those), but a pool that was
// never declared is still reported.
static void check_pool_names(struct pv_parser_ctx *c, struct pv_platform *p)
{
	struct pv_platform_network_iface *i;
	char *const *n;
	const char *dot;

	dl_list_for_each (i, &p->network.interfaces,
			  struct pv_platform_network_iface, list) {
		for (n = c->pool_names; n && *n; n++)
			if (!strcmp(*n, i->pool))
				break;
		if (n && *n)
			continue;
		dot = strrchr(i->origin, '.');
		pv_parser_err(
			c,
			pv_parser_fld(c, "%.*s.pool", (int)(dot - i->origin),
				      i->origin),
			"\"%s\" is not a pool of device.json network.pools",
			i->pool);
	}
}

// Checks across files, once every file is read: requirements against
// exports, pool names, and a dry run of the IPAM leases.
static void check_all(struct pv_parser_ctx *c)
{
	struct pv_platform *p;
	char key[96];
	int mark;

	dl_list_for_each (p, &c->s->platforms, struct pv_platform, list) {
		snprintf(key, sizeof(key), "%s/run.json", p->name);
		c->key = key;
		mark = c->narena;
		pv_parser_resolve_group(c, p);
		check_requires(c, p);
		if (c->pools_bad)
			check_pool_names(c, p);
		pv_parser_arena_pop(c, mark);
	}
	// A dry run of the leases finds static addresses outside their
	// subnet or taken twice, and pools too small, with all the rest.
	if (!c->pools_bad) {
		pv_state_lease_addresses(c->s, c->errs);
		pv_state_release_addresses(c->s);
	}
}

// ---- entry points ----

int pv_parser_classify_key(const char *key, enum pv_entry_kind *kind,
			   size_t *name_len)
{
	static const char run[] = "/run.json", svc[] = "/services.json";
	size_t n = strlen(key);

	if (!strcmp(key, "device.json")) {
		*kind = PV_ENTRY_DEVICE;
		*name_len = 0;
		return 0;
	}
	if (n > sizeof(run) - 1 && !strcmp(key + n - (sizeof(run) - 1), run)) {
		*kind = PV_ENTRY_RUN;
		*name_len = n - (sizeof(run) - 1);
		return 0;
	}
	if (n > sizeof(svc) - 1 && !strcmp(key + n - (sizeof(svc) - 1), svc)) {
		*kind = PV_ENTRY_SERVICES;
		*name_len = n - (sizeof(svc) - 1);
		return 0;
	}
	return -1;
}

// 1 if an entry before i has the same key (a file given twice).
static int seen_before(const struct pv_parser_entry *entries, int i)
{
	int j;

	for (j = 0; j < i; j++)
		if (!strcmp(entries[j].key, entries[i].key))
			return 1;
	return 0;
}

struct pv_state *pv_parser_build(const struct pv_parser_entry *entries, int n,
				 const char *spec,
				 const struct pv_parser_files *files,
				 struct pv_errors *errs)
{
	struct pv_parser_ctx c = { .errs = errs, .files = files };
	int before = errs->count, i, ncont = 0;
	const struct pv_parser_entry *e;
	struct pv_platform *p;

	c.s = pv_state_new();
	if (!c.s) {
		pv_errors_add(errs, "state: out of memory");
		return NULL;
	}
	if (spec) {
		c.s->spec = strdup(spec);
		if (!c.s->spec)
			c.oom = 1;
	}

	// Containers first, in state order, so that services.json,
	// requirements and ingress rules can name any of them.
	for (i = 0; i < n; i++) {
		e = &entries[i];
		if (e->kind != PV_ENTRY_RUN)
			continue;
		c.key = e->key;
		c.doc = e->doc;
		if (seen_before(entries, i)) {
			pv_parser_err(&c, NULL, "given twice");
			continue;
		}
		if (!pv_parser_valid_name(e->name)) {
			pv_parser_err(&c, NULL,
				      "\"%s\" is not a container name "
				      "(letters, digits, "
				      "'.', '_', '-'; up to 64)",
				      e->name);
			continue;
		}
		if (++ncont > PV_PARSER_MAX_CONTAINERS) {
			pv_parser_err(&c, NULL, "more than %d containers",
				      PV_PARSER_MAX_CONTAINERS);
			break;
		}
		p = pv_platform_new(e->name);
		if (!p) {
			pv_parser_oom(&c, "name");
			break;
		}
		dl_list_add_tail(&c.s->platforms, &p->list);
		if (e->doc)
			parse_run(&c, p, e->tok);
	}
	for (i = 0; i < n; i++) {
		e = &entries[i];
		if (e->kind != PV_ENTRY_SERVICES)
			continue;
		c.key = e->key;
		c.doc = e->doc;
		if (seen_before(entries, i)) {
			pv_parser_err(&c, NULL, "given twice");
			continue;
		}
		p = pv_state_find_platform(c.s, e->name);
		if (!p) {
			pv_parser_err(
				&c, NULL,
				"there is no %s/run.json for this container",
				e->name);
			continue;
		}
		if (e->doc)
			parse_services(&c, p, e->tok);
	}
	for (i = 0; i < n; i++) {
		e = &entries[i];
		if (e->kind != PV_ENTRY_DEVICE)
			continue;
		c.key = e->key;
		c.doc = e->doc;
		if (c.device_seen++) {
			pv_parser_err(&c, NULL, "given twice");
			continue;
		}
		if (e->doc)
			pv_parser_device(&c, e->tok);
		else
			c.pools_bad = 1;
	}
	c.doc = NULL;
	check_all(&c);

	if (c.n_root_volume && !c.oom && errs->count == before)
		pv_log(WARN,
		       "%s: root-volume is not mounted by pvd: containers run "
		       "on the host's root, read-only, or on their \"root\" "
		       "directory (%d container%s with a root-volume)",
		       c.root_volume_key ? c.root_volume_key : "run.json",
		       c.n_root_volume, c.n_root_volume > 1 ? "s" : "");
	free(c.root_volume_key);
	for (i = 0; i < c.n_pool_names; i++)
		free(c.pool_names[i]);
	free(c.pool_names);
	pv_parser_arena_pop(&c, 0);
	free(c.arena);
	if (c.oom || errs->failed || errs->count != before) {
		pv_state_free(c.s);
		return NULL;
	}
	return c.s;
}

// 1 for 64 hex digits: a state file holds the sha256 of an object (an
// image, a configuration) where a directory holds its content.
static int is_sha256(const struct pv_json *doc, int tok)
{
	const jsmntok_t *t = &doc->tok[tok];
	int i;

	if (t->end - t->start != 64)
		return 0;
	for (i = t->start; i < t->end; i++)
		if (!strchr("0123456789abcdef", doc->js[i]))
			return 0;
	return 1;
}

// The state file's reader of other files: key's string value, unless it
// is an object's sha256 (then the text is not in the state).
static int read_json_file(void *arg, const char *key, char **text, char *why,
			  size_t n)
{
	const struct pv_json *doc = arg;
	int tok = pv_json_get(doc, 0, key);

	if (tok < 0) {
		snprintf(why, n, "is not in the state");
		return -1;
	}
	if (!pv_json_is_string(doc, tok)) {
		snprintf(why, n, "is not a string (the file's text)");
		return -1;
	}
	if (is_sha256(doc, tok)) {
		snprintf(why, n,
			 "is an object's sha256, not the file's text (give "
			 "the text, or a state directory)");
		return -1;
	}
	*text = pv_json_strdup(doc, tok);
	if (!*text) {
		snprintf(why, n, "holds \\u0000 or memory ran out");
		return -1;
	}
	return 0;
}

struct pv_state *pv_parser_parse_text(const char *origin, const char *text,
				      size_t len, struct pv_errors *errs)
{
	struct pv_parser_files files = { .read = read_json_file };
	struct pv_parser_entry *entries = NULL, *ne;
	struct pv_state *s = NULL;
	const char *reason;
	struct pv_json doc;
	char *spec = NULL, **keys = NULL;
	int k, i, n = 0, nkeys = 0, before = errs->count;
	enum pv_entry_kind kind;
	size_t name_len;

	if (pv_json_parse(&doc, text, len, &reason)) {
		pv_errors_add(errs, "%s: invalid JSON (%s)", origin,
			      pv_parser_json_reason(reason));
		return NULL;
	}
	if (!pv_json_is_object(&doc, 0)) {
		pv_errors_add(errs,
			      "%s: expected an object keyed by file names "
			      "(\"device.json\", \"NAME/run.json\", ...)",
			      origin);
		goto out;
	}
	for (k = pv_json_first(&doc, 0), i = 0;
	     k >= 0 && i < pv_json_size(&doc, 0);
	     k = pv_json_next(&doc, k + 1), i++) {
		char *key = pv_json_strdup(&doc, k);

		if (!key) {
			pv_errors_add(
				errs,
				"%s: a key contains \\u0000 or memory ran "
				"out",
				origin);
			continue;
		}
		if (!strcmp(key, "#spec")) {
			if (pv_json_eq(&doc, k + 1, SPEC_SYSTEM)) {
				free(spec);
				spec = strdup(SPEC_SYSTEM);
			} else {
				char buf[64];
				pv_json_excerpt(&doc, k + 1, buf, sizeof(buf));
				pv_errors_add(errs,
					      "%s: #spec: %s is not supported "
					      "(" SPEC_SYSTEM ")",
					      origin, buf);
			}
			free(key);
			continue;
		}
		if (pv_parser_classify_key(key, &kind, &name_len)) {
			// Other files of a trail (configs, images) are not
			// ours to read.
			pv_log(DEBUG, "%s: ignoring key %s", origin, key);
			free(key);
			continue;
		}
		if (n >= 2 * PV_PARSER_MAX_CONTAINERS + 1) {
			pv_errors_add(errs,
				      "%s: more than %d containers' files",
				      origin, PV_PARSER_MAX_CONTAINERS);
			free(key);
			break;
		}
		// Keys are owned by keys[] until the end; entries point in.
		if (pv_parser_strv_push(&keys, &nkeys, key))
			goto out_oom;
		if (name_len) {
			char *name = strndup(key, name_len);
			if (!name || pv_parser_strv_push(&keys, &nkeys, name))
				goto out_oom;
		}
		ne = realloc(entries, (n + 1) * sizeof(*entries));
		if (!ne)
			goto out_oom;
		entries = ne;
		entries[n].kind = kind;
		entries[n].key = keys[nkeys - (name_len ? 2 : 1)];
		entries[n].name = name_len ? keys[nkeys - 1] : NULL;
		entries[n].doc = &doc;
		entries[n].tok = k + 1;
		n++;
	}
	files.arg = &doc;
	s = pv_parser_build(entries, n, spec, &files, errs);
	// A bad "#spec" or key was reported before the build.
	if (s && errs->count != before) {
		pv_state_free(s);
		s = NULL;
	}
	goto out;

out_oom:
	pv_errors_add(errs, "%s: out of memory", origin);
out:
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	free(entries);
	free(spec);
	pv_json_free(&doc);
	return s;
}

struct pv_state *pv_parser_parse_system1(const char *text, size_t len,
					 struct pv_errors *errs)
{
	return pv_parser_parse_text("state", text, len, errs);
}
