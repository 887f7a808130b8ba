// pantavisor-service-system@1: validates the files of a state (device.json,
// NAME/run.json, NAME/services.json) and builds a struct pv_state.
//
// Every problem becomes one line "KEY: FIELD: REASON" and validation goes
// on, so a user sees all errors of a state at once. Values are quoted as
// written in the JSON, so "80" (a string) and 80 (a number) read apart.

#define MODULE_NAME "parser"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parser/internal.h"
#include "parser/parser.h"
#include "utils/addr.h"
#include "utils/json.h"

#define SPEC_SYSTEM   "pantavisor-service-system@1"
#define SPEC_RUN      "service-manifest-run@1"
#define SPEC_SERVICES "service-manifest-xconnect@1"

// A socket path longer than this is refused (PATH_MAX); pv-xconnect
// reaches it through an fd, so sun_path's 108 bytes are no limit.
#define MAX_SOCKET_PATH 4096
// Field paths and value excerpts in messages.
#define FIELD_LEN 256
#define N_BUFS	  8

// An ingress bind address, kept to find two rules on one port.
struct bind {
	struct sockaddr_storage ss;
	char what[96]; // "ingress[0] nginx-http" or "xconnect.stats"
	char text[PV_ADDR_STRLEN];
};

struct ctx {
	struct pv_state *s;
	struct pv_errors *errs;
	const char *key; // the file being read
	const struct pv_json *doc;
	int oom;
	// device.json's pools: any declared one that failed validation
	// suppresses "unknown pool" errors that would only repeat it.
	int pools_bad;
	int device_seen;
	char **pool_names;
	int n_pool_names;
	// Field paths and excerpts for messages (fld, ex).
	char **arena;
	int narena;
};

// Keeps s (allocated) until the next arena_pop below its mark; a static
// stand-in when s is NULL (out of memory).
static const char *arena_keep(struct ctx *c, char *s)
{
	char **na;

	if (!s) {
		c->oom = 1;
		return "(out of memory)";
	}
	na = realloc(c->arena, (c->narena + 1) * sizeof(*na));
	if (!na) {
		free(s);
		c->oom = 1;
		return "(out of memory)";
	}
	c->arena = na;
	c->arena[c->narena++] = s;
	return s;
}

// Frees the strings kept since mark (a previous c->narena).
static void arena_pop(struct ctx *c, int mark)
{
	while (c->narena > mark)
		free(c->arena[--c->narena]);
}

// A field path built like printf, valid until the enclosing element's
// arena_pop, so paths can be built once and used in many messages.
static const char *fld(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *fld(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *b;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&b, fmt, ap);
	va_end(ap);
	return arena_keep(c, n < 0 ? NULL : b);
}

// The token's text as written, shortened, control characters replaced so
// that each error stays one line.
static const char *ex(struct ctx *c, int tok)
{
	char *b = malloc(64), *p;

	if (b) {
		pv_json_excerpt(c->doc, tok, b, 64);
		for (p = b; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	return arena_keep(c, b);
}

// Reports one problem of the current file: "KEY: FIELD: REASON" (no FIELD
// part when field is NULL).
static void err(struct ctx *c, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void err(struct ctx *c, const char *field, const char *fmt, ...)
{
	char *reason;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&reason, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->errs->failed = 1;
		return;
	}
	if (field)
		pv_errors_add(c->errs, "%s: %s: %s", c->key, field, reason);
	else
		pv_errors_add(c->errs, "%s: %s", c->key, reason);
	free(reason);
}

static void oom(struct ctx *c, const char *field)
{
	pv_log(ERROR, "%s: %s: out of memory", c->key, field);
	err(c, field, "out of memory");
	c->oom = 1;
}

// Decodes the string at tok; reports and returns NULL on \u0000 or when
// out of memory.
static char *decode(struct ctx *c, int tok, const char *field)
{
	const jsmntok_t *t = &c->doc->tok[tok];
	char *s = pv_json_strdup(c->doc, tok);

	if (s)
		return s;
	if (memmem(c->doc->js + t->start, t->end - t->start, "\\u0000", 6))
		err(c, field, "contains a NUL character (\\u0000)");
	else
		oom(c, field);
	return NULL;
}

#define OPTIONAL 0
#define REQUIRED 1
#define NONEMPTY 2

// Reads the string obj.key into *out (caller frees). Absent or null:
// *out = NULL, and "missing" is reported when REQUIRED. Returns -1 when
// something was reported.
static int get_str(struct ctx *c, int obj, const char *key, const char *field,
		   int flags, char **out)
{
	int tok = pv_json_get(c->doc, obj, key);

	*out = NULL;
	if (tok < 0) {
		if (!(flags & REQUIRED))
			return 0;
		err(c, field, "missing");
		return -1;
	}
	if (!pv_json_is_string(c->doc, tok)) {
		err(c, field, "expected a string, got %s", ex(c, tok));
		return -1;
	}
	*out = decode(c, tok, field);
	if (!*out)
		return -1;
	if ((flags & NONEMPTY) && !**out) {
		err(c, field, "must not be empty");
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

// Reads the integer obj.key in min..max into *out; absent leaves *out as
// it is. Returns -1 when something was reported.
static int get_int(struct ctx *c, int obj, const char *key, const char *field,
		   long long min, long long max, int *out)
{
	int tok = pv_json_get(c->doc, obj, key);
	long long v;

	if (tok < 0)
		return 0;
	if (pv_json_int(c->doc, tok, &v) || v < min || v > max) {
		err(c, field, "%s is not an integer in %lld..%lld", ex(c, tok),
		    min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int get_bool(struct ctx *c, int obj, const char *key, const char *field,
		    int *out)
{
	int tok = pv_json_get(c->doc, obj, key);

	if (tok < 0)
		return 0;
	if (pv_json_bool(c->doc, tok, out)) {
		err(c, field, "expected true or false, got %s", ex(c, tok));
		return -1;
	}
	return 0;
}

// A port: a JSON integer or a string of digits, 1..65535.
static int get_port(struct ctx *c, int tok, const char *field, int *port)
{
	long long v;
	char *s;
	int ret = -1;

	if (pv_json_is_string(c->doc, tok)) {
		s = pv_json_strdup(c->doc, tok);
		ret = s ? pv_port_parse(s, port) : -1;
		free(s);
	} else if (!pv_json_int(c->doc, tok, &v) && v >= 1 && v <= 65535) {
		*port = (int)v;
		ret = 0;
	}
	if (ret)
		err(c, field, "%s is not a port (1..65535)", ex(c, tok));
	return ret;
}

// Refuses keys of obj not in allowed (NULL-terminated): for the sections
// this project defines, a misspelt option must not pass silently.
static void only_keys(struct ctx *c, int obj, const char *base,
		      const char *const *allowed)
{
	const char *const *a;
	int k, n;

	for (k = pv_json_first(c->doc, obj), n = 0;
	     k >= 0 && n < pv_json_size(c->doc, obj);
	     k = pv_json_next(c->doc, k + 1), n++) {
		for (a = allowed; *a; a++)
			if (pv_json_eq(c->doc, k, *a))
				break;
		if (!*a)
			err(c, fld(c, "%s.%s", base, ex(c, k)),
			    "unknown field");
	}
}

// Checks an optional "#spec" against want.
static void check_spec(struct ctx *c, int obj, const char *want)
{
	char *spec;

	if (get_str(c, obj, "#spec", "#spec", OPTIONAL, &spec) || !spec)
		return;
	if (strcmp(spec, want))
		err(c, "#spec", "%s is not supported (%s)",
		    ex(c, pv_json_get(c->doc, obj, "#spec")), want);
	free(spec);
}

int pv_parser_valid_name(const char *name)
{
	const char *p;

	if (!name || !*name || *name == '.' || strlen(name) > 64)
		return 0;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		      *p == '-'))
			return 0;
	return 1;
}

// A Linux interface name (dev_valid_name): 1..15 bytes, not "." or "..",
// no '/', ':' or white space; we also keep to printable ASCII.
static int valid_ifname(const char *s)
{
	const char *p;

	if (!*s || strlen(s) > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (p = s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == ':')
			return 0;
	return 1;
}

// A unicast MAC address written xx:xx:xx:xx:xx:xx.
static int valid_mac(const char *s)
{
	unsigned int b[6];
	char tail;
	int i;

	if (strlen(s) != 17)
		return 0;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':'
			       : !((s[i] >= '0' && s[i] <= '9') ||
				   (s[i] >= 'a' && s[i] <= 'f') ||
				   (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6)
		return 0;
	return !(b[0] & 1);
}

// A host name: dot-separated labels of letters, digits and '-', not
// starting or ending with '-', at most 64 bytes (HOST_NAME_MAX).
static int valid_hostname(const char *s)
{
	size_t label = 0;
	const char *p;

	if (!*s || strlen(s) > 64)
		return 0;
	for (p = s; *p; p++) {
		if (*p == '.') {
			if (!label || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
		if (*p == '-' && !label)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label && p[-1] != '-';
}

static int valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

// Appends s to the NULL-terminated vector *v (taking s). -1 when out of
// memory (s is freed).
static int strv_push(char ***v, int *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv) {
		free(s);
		return -1;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

// Services reached over TCP: a requirement's target is an address and an
// export may give a port.
static int tcp_like(service_type_t t)
{
	return t == SVC_TYPE_TCP || t == SVC_TYPE_HTTP || t == SVC_TYPE_REST;
}

#define SERVICE_TYPES "tcp, unix, http, rest, dbus, drm, wayland"

// Reads "type" of a service export or requirement.
static int get_service_type(struct ctx *c, int obj, const char *base,
			    service_type_t *type)
{
	const char *field = fld(c, "%s.type", base);
	char *s;

	if (get_str(c, obj, "type", field, REQUIRED, &s))
		return -1;
	*type = pv_service_type_from_str(s);
	if (*type == SVC_TYPE_UNKNOWN)
		err(c, field, "%s is not a service type (" SERVICE_TYPES ")",
		    ex(c, pv_json_get(c->doc, obj, "type")));
	free(s);
	return *type == SVC_TYPE_UNKNOWN ? -1 : 0;
}

// An absolute path inside a container: refuses addresses with a reason
// that says why (a container cannot expose another host's port).
static int check_socket_path(struct ctx *c, int tok, const char *field,
			     const char *path)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (path[0] != '/') {
		if (!pv_addr_parse(path, &ss, &len))
			err(c, field,
			    "%s is not an absolute path: a container may only "
			    "export a path inside itself (use \"port\" for its "
			    "own TCP port)",
			    ex(c, tok));
		else
			err(c, field,
			    "%s is not an absolute path (a socket path inside "
			    "the container)",
			    ex(c, tok));
		return -1;
	}
	if (strlen(path) > MAX_SOCKET_PATH) {
		err(c, field, "%s is longer than %d bytes", ex(c, tok),
		    MAX_SOCKET_PATH);
		return -1;
	}
	return 0;
}

// ---- NAME/services.json ----

static void parse_export(struct ctx *c, struct pv_platform *p, int obj,
			 const char *base)
{
	const char *fname = fld(c, "%s.name", base);
	char *name = NULL, *socket = NULL;
	service_type_t type = SVC_TYPE_UNKNOWN;
	int tok, port = 0, bad = 0;

	if (!pv_json_is_object(c->doc, obj)) {
		err(c, base, "expected an object, got %s", ex(c, obj));
		return;
	}
	bad |= get_str(c, obj, "name", fname, REQUIRED | NONEMPTY, &name);
	if (name && pv_platform_find_export(p, name)) {
		err(c, fname, "%s is exported twice by this container",
		    ex(c, pv_json_get(c->doc, obj, "name")));
		bad = 1;
	}
	bad |= get_service_type(c, obj, base, &type);

	tok = pv_json_get(c->doc, obj, "port");
	if (tok >= 0)
		bad |= get_port(c, tok, fld(c, "%s.port", base), &port);
	tok = pv_json_get(c->doc, obj, "socket");
	if (tok >= 0) {
		const char *f = fld(c, "%s.socket", base);
		if (get_str(c, obj, "socket", f, REQUIRED | NONEMPTY, &socket))
			bad = 1;
		else if (check_socket_path(c, tok, f, socket))
			bad = 1;
	}
	if (!bad && type != SVC_TYPE_UNKNOWN) {
		if (tcp_like(type) && !port && !socket) {
			err(c, base,
			    "a %s service needs \"port\" or \"socket\" (how "
			    "the proxy reaches it)",
			    pv_service_type_to_str(type));
			bad = 1;
		} else if (!tcp_like(type) && !socket) {
			err(c, base, "a %s service needs \"socket\"",
			    pv_service_type_to_str(type));
			bad = 1;
		} else if (!tcp_like(type) && port) {
			err(c, fld(c, "%s.port", base),
			    "a %s service is reached by its socket; \"port\" "
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
		oom(c, base);
	free(name);
	free(socket);
}

// services.json: {"services": [...]} or, in the older form, a bare array.
static void parse_services(struct ctx *c, struct pv_platform *p, int root)
{
	int arr = root, el, i, mark;

	if (pv_json_is_object(c->doc, root)) {
		check_spec(c, root, SPEC_SERVICES);
		arr = pv_json_get(c->doc, root, "services");
		if (arr < 0)
			return;
		if (!pv_json_is_array(c->doc, arr)) {
			err(c, "services", "expected an array, got %s",
			    ex(c, arr));
			return;
		}
	} else if (!pv_json_is_array(c->doc, root)) {
		err(c, NULL,
		    "expected an object with \"services\" or an array, got %s",
		    ex(c, root));
		return;
	}
	for (el = pv_json_first(c->doc, arr), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, arr);
	     el = pv_json_next(c->doc, el), i++) {
		mark = c->narena;
		parse_export(
			c, p, el,
			fld(c, "%s[%d]", arr == root ? "" : "services", i));
		arena_pop(c, mark);
	}
}

// ---- NAME/run.json ----

static void parse_exec(struct ctx *c, struct pv_platform *p, int obj)
{
	int tok = pv_json_get(c->doc, obj, "exec"), el, i, n = 0;
	char **argv = NULL, *s;

	if (tok < 0) {
		err(c, "exec",
		    "missing (an argv array, or one string for /bin/sh -c)");
		return;
	}
	if (pv_json_is_string(c->doc, tok)) {
		s = decode(c, tok, "exec");
		if (!s)
			return;
		if (!*s) {
			err(c, "exec", "must not be empty");
			free(s);
			return;
		}
		if (strv_push(&argv, &n, strdup("/bin/sh")) ||
		    strv_push(&argv, &n, strdup("-c")) || !argv[0] ||
		    !argv[1] || strv_push(&argv, &n, s))
			goto out_oom;
		p->exec = argv;
		return;
	}
	if (!pv_json_is_array(c->doc, tok) || !pv_json_size(c->doc, tok)) {
		err(c, "exec",
		    "expected a non-empty array of strings or a command "
		    "string, got %s",
		    ex(c, tok));
		return;
	}
	for (el = pv_json_first(c->doc, tok), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, tok);
	     el = pv_json_next(c->doc, el), i++) {
		const char *f = fld(c, "exec[%d]", i);
		if (!pv_json_is_string(c->doc, el)) {
			err(c, f, "expected a string, got %s", ex(c, el));
			goto out_free;
		}
		s = decode(c, el, f);
		if (!s)
			goto out_free;
		if (i == 0 && !*s) {
			err(c, f, "the program must not be empty");
			free(s);
			goto out_free;
		}
		if (strv_push(&argv, &n, s))
			goto out_oom;
	}
	p->exec = argv;
	return;

out_oom:
	oom(c, "exec");
out_free:
	for (i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
}

static void parse_env(struct ctx *c, struct pv_platform *p, int obj)
{
	int tok = pv_json_get(c->doc, obj, "env"), k, i, n = 0, bad = 0;
	char **env = NULL, *key, *val, *kv;

	if (tok < 0)
		return;
	if (!pv_json_is_object(c->doc, tok)) {
		err(c, "env", "expected an object of strings, got %s",
		    ex(c, tok));
		return;
	}
	for (k = pv_json_first(c->doc, tok), i = 0;
	     k >= 0 && i < pv_json_size(c->doc, tok);
	     k = pv_json_next(c->doc, k + 1), i++) {
		const char *f = fld(c, "env.%s", ex(c, k));
		key = decode(c, k, f);
		if (!key) {
			bad = 1;
			continue;
		}
		if (!*key || strchr(key, '=')) {
			err(c, f, "is not a variable name (non-empty, no '=')");
			free(key);
			bad = 1;
			continue;
		}
		if (!pv_json_is_string(c->doc, k + 1)) {
			err(c, f, "expected a string, got %s", ex(c, k + 1));
			free(key);
			bad = 1;
			continue;
		}
		val = decode(c, k + 1, f);
		if (!val) {
			free(key);
			bad = 1;
			continue;
		}
		if (asprintf(&kv, "%s=%s", key, val) < 0)
			kv = NULL;
		free(key);
		free(val);
		if (!kv || strv_push(&env, &n, kv)) {
			oom(c, "env");
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

static void parse_restart(struct ctx *c, struct pv_platform *p, int obj)
{
	char *s;

	if (get_str(c, obj, "restart_policy", "restart_policy", OPTIONAL, &s) ||
	    !s)
		return;
	if (!strcmp(s, "no"))
		p->restart_policy = RESTART_NO;
	else if (!strcmp(s, "on-failure"))
		p->restart_policy = RESTART_ON_FAILURE;
	else if (!strcmp(s, "always"))
		p->restart_policy = RESTART_ALWAYS;
	else
		err(c, "restart_policy",
		    "%s is not a restart policy (no, on-failure, always)",
		    ex(c, pv_json_get(c->doc, obj, "restart_policy")));
	free(s);
}

// One pool interface: {pool, ip|ipv4_address|ipv6_address, mac|mac_address}
// as the mode form (base "network") or the interfaces form writes it.
static void parse_iface(struct ctx *c, struct pv_platform *p, int obj,
			const char *base, const char *ip_key,
			const char *mac_key)
{
	struct pv_platform_network_iface *i, *other;
	char *pool = NULL, *ip = NULL, *mac = NULL, *origin = NULL;
	const char *f_ip = fld(c, "%s.%s", base, ip_key);
	const char *f_mac = fld(c, "%s.%s", base, mac_key);
	const char *f_pool = fld(c, "%s.pool", base);
	int bad = 0;

	bad |= get_str(c, obj, "pool", f_pool, REQUIRED | NONEMPTY, &pool);
	if (pool) {
		dl_list_for_each (other, &p->network.interfaces,
				  struct pv_platform_network_iface, list) {
			if (strcmp(other->pool, pool))
				continue;
			err(c, f_pool,
			    "%s is already used by another interface of this "
			    "container",
			    ex(c, pv_json_get(c->doc, obj, "pool")));
			bad = 1;
			break;
		}
	}
	bad |= get_str(c, obj, ip_key, f_ip, OPTIONAL, &ip);
	if (ip && !valid_ip(ip)) {
		err(c, f_ip, "%s is not an IPv4 or IPv6 address",
		    ex(c, pv_json_get(c->doc, obj, ip_key)));
		bad = 1;
	}
	bad |= get_str(c, obj, mac_key, f_mac, OPTIONAL, &mac);
	if (mac && !valid_mac(mac)) {
		err(c, f_mac,
		    "%s is not a unicast MAC address (xx:xx:xx:xx:xx:xx)",
		    ex(c, pv_json_get(c->doc, obj, mac_key)));
		bad = 1;
	}
	if (!bad) {
		origin = strdup(f_ip);
		i = origin ? pv_platform_add_iface(p, pool, ip, mac) : NULL;
		if (!i) {
			free(origin);
			oom(c, base);
		} else {
			i->origin = origin;
		}
	}
	free(pool);
	free(ip);
	free(mac);
}

static void parse_interfaces(struct ctx *c, struct pv_platform *p, int arr)
{
	int el, i, v4, v6;

	if (!pv_json_is_array(c->doc, arr) || !pv_json_size(c->doc, arr)) {
		err(c, "network.interfaces",
		    "expected a non-empty array of interfaces, got %s",
		    ex(c, arr));
		return;
	}
	for (el = pv_json_first(c->doc, arr), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, arr);
	     el = pv_json_next(c->doc, el), i++) {
		const char *base = fld(c, "network.interfaces[%d]", i);
		if (!pv_json_is_object(c->doc, el)) {
			err(c, base, "expected an object, got %s", ex(c, el));
			continue;
		}
		v4 = pv_json_get(c->doc, el, "ipv4_address");
		v6 = pv_json_get(c->doc, el, "ipv6_address");
		if (v4 >= 0 && v6 >= 0) {
			err(c, base,
			    "give ipv4_address or ipv6_address, not both (one "
			    "interface is on one pool)");
			continue;
		}
		parse_iface(c, p, el, base,
			    v6 >= 0 ? "ipv6_address" : "ipv4_address",
			    "mac_address");
	}
}

static void parse_network(struct ctx *c, struct pv_platform *p, int obj)
{
	int net = pv_json_get(c->doc, obj, "network"), pool, ifs;
	char *mode = NULL, *host = NULL;

	p->network.mode = NET_MODE_NONE;
	if (net < 0)
		return;
	if (pv_json_is_string(c->doc, net)) {
		if (pv_json_eq(c->doc, net, "none"))
			return;
		if (pv_json_eq(c->doc, net, "host")) {
			p->network.mode = NET_MODE_HOST;
			return;
		}
		err(c, "network",
		    "%s is not a network (an object, \"host\" or \"none\")",
		    ex(c, net));
		return;
	}
	if (!pv_json_is_object(c->doc, net)) {
		err(c, "network", "expected an object, got %s", ex(c, net));
		return;
	}
	if (get_str(c, net, "mode", "network.mode", OPTIONAL, &mode))
		return;
	pool = pv_json_get(c->doc, net, "pool");
	ifs = pv_json_get(c->doc, net, "interfaces");
	if (!mode)
		p->network.mode =
			pool >= 0 || ifs >= 0 ? NET_MODE_POOL : NET_MODE_NONE;
	else if (!strcmp(mode, "pool"))
		p->network.mode = NET_MODE_POOL;
	else if (!strcmp(mode, "host"))
		p->network.mode = NET_MODE_HOST;
	else if (!strcmp(mode, "none"))
		p->network.mode = NET_MODE_NONE;
	else {
		err(c, "network.mode",
		    "%s is not a network mode (pool, host, none)",
		    ex(c, pv_json_get(c->doc, net, "mode")));
		goto out;
	}

	if (p->network.mode != NET_MODE_POOL) {
		if (pool >= 0 || ifs >= 0)
			err(c,
			    pool >= 0 ? "network.pool" : "network.interfaces",
			    "not allowed with mode \"%s\" (only with \"pool\")",
			    mode);
		goto out;
	}
	if (pool >= 0 && ifs >= 0)
		err(c, "network.interfaces",
		    "give \"pool\" or \"interfaces\", not both");
	else if (ifs >= 0)
		parse_interfaces(c, p, ifs);
	else if (pool >= 0)
		parse_iface(c, p, net, "network", "ip", "mac");
	else
		err(c, "network.pool", "missing (mode \"pool\" names a pool)");

	if (get_str(c, net, "hostname", "network.hostname", OPTIONAL, &host) ||
	    !host)
		goto out;
	if (!valid_hostname(host))
		err(c, "network.hostname",
		    "%s is not a host name (letters, digits, '-', '.'; up to "
		    "64)",
		    ex(c, pv_json_get(c->doc, net, "hostname")));
	else
		p->network.hostname = host, host = NULL;
out:
	free(host);
	free(mode);
}

static void parse_require(struct ctx *c, struct pv_platform *p, int obj,
			  int index)
{
	const char *base = fld(c, "services.required[%d]", index);
	char *name = NULL, *target = NULL, *provider = NULL, *iface = NULL,
	     *role = NULL;
	const char *f_target = fld(c, "%s.target", base);
	struct pv_platform_service_require *r;
	service_type_t type = SVC_TYPE_UNKNOWN;
	struct sockaddr_storage ss;
	socklen_t len;
	int bad = 0, tok;

	if (!pv_json_is_object(c->doc, obj)) {
		err(c, base, "expected an object, got %s", ex(c, obj));
		return;
	}
	bad |= get_str(c, obj, "name", fld(c, "%s.name", base),
		       REQUIRED | NONEMPTY, &name);
	bad |= get_service_type(c, obj, base, &type);
	bad |= get_str(c, obj, "target", f_target, REQUIRED | NONEMPTY,
		       &target);
	bad |= get_str(c, obj, "provider", fld(c, "%s.provider", base),
		       OPTIONAL | NONEMPTY, &provider);
	bad |= get_str(c, obj, "interface", fld(c, "%s.interface", base),
		       OPTIONAL, &iface);
	bad |= get_str(c, obj, "role", fld(c, "%s.role", base),
		       OPTIONAL | NONEMPTY, &role);
	tok = pv_json_get(c->doc, obj, "target");
	if (target && type != SVC_TYPE_UNKNOWN) {
		if (tcp_like(type) && pv_addr_parse(target, &ss, &len)) {
			err(c, f_target,
			    "%s is not an address (IP:PORT, [IPv6]:PORT or "
			    ":PORT)",
			    ex(c, tok));
			bad = 1;
		} else if (!tcp_like(type) &&
			   check_socket_path(c, tok, f_target, target)) {
			bad = 1;
		}
	}
	if (!bad) {
		r = pv_platform_add_service_require(p, type, name, provider,
						    target, iface, role);
		if (r)
			r->index = index;
		else
			oom(c, base);
	}
	free(name);
	free(target);
	free(provider);
	free(iface);
	free(role);
}

static void parse_requires(struct ctx *c, struct pv_platform *p, int obj)
{
	int svc = pv_json_get(c->doc, obj, "services"), req, el, i, mark;

	if (svc < 0)
		return;
	if (!pv_json_is_object(c->doc, svc)) {
		err(c, "services", "expected an object, got %s", ex(c, svc));
		return;
	}
	req = pv_json_get(c->doc, svc, "required");
	if (req < 0)
		return;
	if (!pv_json_is_array(c->doc, req)) {
		err(c, "services.required", "expected an array, got %s",
		    ex(c, req));
		return;
	}
	for (el = pv_json_first(c->doc, req), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, req);
	     el = pv_json_next(c->doc, el), i++) {
		mark = c->narena;
		parse_require(c, p, el, i);
		arena_pop(c, mark);
	}
}

static void parse_run(struct ctx *c, struct pv_platform *p, int obj)
{
	char *s;

	if (!pv_json_is_object(c->doc, obj)) {
		err(c, NULL, "expected an object, got %s", ex(c, obj));
		return;
	}
	check_spec(c, obj, SPEC_RUN);
	if (!get_str(c, obj, "name", "name", REQUIRED, &s) &&
	    strcmp(s, p->name))
		err(c, "name", "%s does not match the container's name \"%s\"",
		    ex(c, pv_json_get(c->doc, obj, "name")), p->name);
	free(s);

	if (!get_str(c, obj, "type", "type", OPTIONAL, &s) && s &&
	    strcmp(s, "lxc"))
		err(c, "type", "%s is not a container type (lxc)",
		    ex(c, pv_json_get(c->doc, obj, "type")));
	free(s);
	p->type = strdup("lxc");
	if (!p->type)
		oom(c, "type");

	parse_exec(c, p, obj);
	parse_env(c, p, obj);
	if (!get_str(c, obj, "root", "root", OPTIONAL | NONEMPTY, &s) && s) {
		if (s[0] != '/')
			err(c, "root", "%s is not an absolute path",
			    ex(c, pv_json_get(c->doc, obj, "root")));
		else
			p->root = s, s = NULL;
	}
	free(s);
	parse_restart(c, p, obj);
	parse_network(c, p, obj);
	parse_requires(c, p, obj);
}

// ---- device.json ----

static void add_pool_name(struct ctx *c, const char *name)
{
	char *d = strdup(name);

	if (!d || strv_push(&c->pool_names, &c->n_pool_names, d))
		oom(c, "network.pools");
}

static void parse_pool(struct ctx *c, int key, int obj)
{
	static const char *const keys[] = { "type",    "bridge", "subnet",
					    "gateway", "nat",	 NULL };
	const char *base = fld(c, "network.pools.%s", ex(c, key));
	char *name, *type = NULL, *bridge = NULL, *subnet = NULL, *gw = NULL;
	struct pv_ipam_pool *pool, *other;
	const char *reason, *colon;
	int bad = 0, nat = 0;

	name = decode(c, key, base);
	if (!name) {
		c->pools_bad = 1;
		return;
	}
	if (!pv_parser_valid_name(name)) {
		err(c, base,
		    "is not a pool name (letters, digits, '.', '_', '-'; up "
		    "to 64)");
		c->pools_bad = 1;
		goto out;
	}
	base = fld(c, "network.pools.%s", name);
	if (pv_state_find_pool(c->s, name)) {
		err(c, base, "pool defined twice");
		goto out;
	}
	add_pool_name(c, name);
	if (!pv_json_is_object(c->doc, obj)) {
		err(c, base, "expected an object, got %s", ex(c, obj));
		c->pools_bad = 1;
		goto out;
	}
	only_keys(c, obj, base, keys);
	bad |= get_str(c, obj, "type", fld(c, "%s.type", base), OPTIONAL,
		       &type);
	if (type && strcmp(type, "bridge")) {
		err(c, fld(c, "%s.type", base),
		    "%s is not a pool type (bridge)",
		    ex(c, pv_json_get(c->doc, obj, "type")));
		bad = 1;
	}
	bad |= get_str(c, obj, "bridge", fld(c, "%s.bridge", base), REQUIRED,
		       &bridge);
	if (bridge && !valid_ifname(bridge)) {
		err(c, fld(c, "%s.bridge", base),
		    "%s is not an interface name (1..15 characters, no '/', "
		    "':' or spaces)",
		    ex(c, pv_json_get(c->doc, obj, "bridge")));
		bad = 1;
	}
	bad |= get_str(c, obj, "subnet", fld(c, "%s.subnet", base), REQUIRED,
		       &subnet);
	bad |= get_str(c, obj, "gateway", fld(c, "%s.gateway", base), OPTIONAL,
		       &gw);
	bad |= get_bool(c, obj, "nat", fld(c, "%s.nat", base), &nat);
	if (subnet) {
		pool = pv_ipam_pool_new(name, bridge, subnet, gw, nat, &reason);
		if (!pool && !strcmp(reason, "out of memory")) {
			oom(c, base);
			bad = 1;
		} else if (!pool) {
			// reason is "FIELD: REASON" (ipam.h).
			colon = strchr(reason, ':');
			if (!strncmp(reason, "gateway", 7))
				err(c, fld(c, "%s.gateway", base), "\"%s\"%s",
				    gw ? gw : "(default)", colon + 1);
			else
				err(c, fld(c, "%s.subnet", base), "%s%s",
				    ex(c, pv_json_get(c->doc, obj, "subnet")),
				    colon + 1);
			bad = 1;
		} else if (bad) {
			pv_ipam_pool_free(pool);
		} else {
			dl_list_for_each (other, &c->s->pools,
					  struct pv_ipam_pool, list) {
				if (!strcmp(other->bridge, pool->bridge)) {
					err(c, fld(c, "%s.bridge", base),
					    "\"%s\" is already the bridge of "
					    "pool %s",
					    pool->bridge, other->name);
					bad = 1;
				}
				if (pv_ipam_overlaps(other, pool)) {
					err(c, fld(c, "%s.subnet", base),
					    "\"%s\" overlaps pool %s (%s)",
					    pool->subnet, other->name,
					    other->subnet);
					bad = 1;
				}
			}
			if (bad)
				pv_ipam_pool_free(pool);
			else
				dl_list_add_tail(&c->s->pools, &pool->list);
		}
	}
	if (bad)
		c->pools_bad = 1;
out:
	free(name);
	free(type);
	free(bridge);
	free(subnet);
	free(gw);
}

static void parse_pools(struct ctx *c, int dev)
{
	int net = pv_json_get(c->doc, dev, "network"), pools, k, i, mark;

	if (net < 0)
		return;
	if (!pv_json_is_object(c->doc, net)) {
		err(c, "network", "expected an object, got %s", ex(c, net));
		return;
	}
	pools = pv_json_get(c->doc, net, "pools");
	if (pools < 0)
		return;
	if (!pv_json_is_object(c->doc, pools)) {
		err(c, "network.pools", "expected an object, got %s",
		    ex(c, pools));
		c->pools_bad = 1;
		return;
	}
	for (k = pv_json_first(c->doc, pools), i = 0;
	     k >= 0 && i < pv_json_size(c->doc, pools);
	     k = pv_json_next(c->doc, k + 1), i++) {
		mark = c->narena;
		parse_pool(c, k, k + 1);
		arena_pop(c, mark);
	}
}

static int is_any(const struct sockaddr_storage *ss)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	return !memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, &any6,
		       sizeof(any6));
}

static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int same_ip(const struct sockaddr_storage *a,
		   const struct sockaddr_storage *b)
{
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr,
		       sizeof(struct in6_addr));
}

// Two listeners that the kernel would not both let bind: same port and
// the same address, or a wildcard of that family; "[::]" is dual-stack by
// default on Linux, so it also takes every IPv4 address.
static int binds_conflict(const struct sockaddr_storage *a,
			  const struct sockaddr_storage *b)
{
	if (port_of(a) != port_of(b))
		return 0;
	if (a->ss_family == b->ss_family)
		return is_any(a) || is_any(b) || same_ip(a, b);
	return (a->ss_family == AF_INET6 && is_any(a)) ||
	       (b->ss_family == AF_INET6 && is_any(b));
}

// Records a bind address and reports a conflict with an earlier one.
static void add_bind(struct ctx *c, struct bind **binds, int *n,
		     const char *field, const char *what, const char *text,
		     const struct sockaddr_storage *ss)
{
	struct bind *nb;
	int i;

	for (i = 0; i < *n; i++) {
		if (!binds_conflict(&(*binds)[i].ss, ss))
			continue;
		err(c, field,
		    "\"%s\" conflicts with %s (\"%s\"): both bind port %d",
		    text, (*binds)[i].what, (*binds)[i].text, port_of(ss));
		return;
	}
	nb = realloc(*binds, (*n + 1) * sizeof(**binds));
	if (!nb) {
		oom(c, field);
		return;
	}
	*binds = nb;
	nb[*n].ss = *ss;
	snprintf(nb[*n].what, sizeof(nb[*n].what), "%s", what);
	snprintf(nb[*n].text, sizeof(nb[*n].text), "%s", text);
	(*n)++;
}

// Why a backend exported as e by p cannot be reached, or NULL.
static const char *unreachable(struct pv_platform *p,
			       struct pv_platform_service_export *e)
{
	if (e->socket || p->network.mode != NET_MODE_NONE)
		return NULL;
	return "has no network (network absent or \"none\"), so nothing "
	       "outside it can reach its port; give it a pool or mode "
	       "\"host\", or export a socket";
}

// Checks one backend of an ingress rule: a known container exporting the
// rule's service in a way a tcp ingress can forward to.
static void check_backend(struct ctx *c, struct pv_ingress *in,
			  const char *base, const char *f_prov,
			  const char *provider)
{
	struct pv_platform_service_export *e;
	struct pv_platform *p;
	const char *why;

	p = pv_state_find_platform(c->s, provider);
	if (!p) {
		err(c, f_prov, "\"%s\" is not a container of this state",
		    provider);
		return;
	}
	if (!in->service)
		return;
	e = pv_platform_find_export(p, in->service);
	if (!e) {
		err(c, fld(c, "%s.service", base),
		    "\"%s\" is not exported by container %s (%s/services.json)",
		    in->service, provider, provider);
		return;
	}
	if (e->svc_type == SVC_TYPE_UNKNOWN)
		return;
	if (!tcp_like(e->svc_type) && e->svc_type != SVC_TYPE_UNIX) {
		err(c, fld(c, "%s.service", base),
		    "\"%s\" of container %s is a %s service; a tcp ingress "
		    "forwards to tcp, http, rest or unix services",
		    in->service, provider, pv_service_type_to_str(e->svc_type));
		return;
	}
	why = unreachable(p, e);
	if (why)
		err(c, f_prov, "container %s %s", provider, why);
}

static void parse_providers(struct ctx *c, struct pv_ingress *in, int rule,
			    const char *base)
{
	int tok = pv_json_get(c->doc, rule, "provider"), el, i, j, n = 0;
	const char *f = fld(c, "%s.provider", base);
	char *s;

	if (tok < 0) {
		err(c, f, "missing (a container name or an array of them)");
		return;
	}
	if (pv_json_is_string(c->doc, tok)) {
		if (get_str(c, rule, "provider", f, REQUIRED | NONEMPTY, &s))
			return;
		if (strv_push(&in->providers, &n, s)) {
			oom(c, f);
			return;
		}
		check_backend(c, in, base, f, s);
		return;
	}
	if (!pv_json_is_array(c->doc, tok) || !pv_json_size(c->doc, tok)) {
		err(c, f,
		    "expected a container name or a non-empty array of them, "
		    "got %s",
		    ex(c, tok));
		return;
	}
	for (el = pv_json_first(c->doc, tok), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, tok);
	     el = pv_json_next(c->doc, el), i++) {
		const char *fe = fld(c, "%s.provider[%d]", base, i);
		if (!pv_json_is_string(c->doc, el) ||
		    c->doc->tok[el].end == c->doc->tok[el].start) {
			err(c, fe, "expected a container name, got %s",
			    ex(c, el));
			continue;
		}
		s = decode(c, el, fe);
		if (!s)
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(in->providers[j], s))
				break;
		if (j < n) {
			err(c, fe, "\"%s\" is listed twice", s);
			free(s);
			continue;
		}
		if (strv_push(&in->providers, &n, s)) {
			oom(c, fe);
			return;
		}
		check_backend(c, in, base, fe, s);
	}
}

static void parse_check(struct ctx *c, struct pv_ingress *in, int rule,
			const char *base)
{
	static const char *const keys[] = { "type",	  "path",
					    "expect",	  "interval_ms",
					    "timeout_ms", "rise",
					    "fall",	  NULL };
	int tok = pv_json_get(c->doc, rule, "check"), t;
	const char *f = fld(c, "%s.check", base);
	struct pv_ingress_check *ck = &in->check;
	char *type = NULL, *path = NULL;
	const char *p;

	if (tok < 0)
		return;
	if (!pv_json_is_object(c->doc, tok)) {
		err(c, f, "expected an object, got %s", ex(c, tok));
		return;
	}
	only_keys(c, tok, f, keys);
	if (get_str(c, tok, "type", fld(c, "%s.type", f), REQUIRED, &type))
		return;
	ck->enabled = 1;
	if (!strcmp(type, "http")) {
		ck->http = 1;
	} else if (strcmp(type, "tcp")) {
		err(c, fld(c, "%s.type", f),
		    "%s is not a check type (tcp, http)",
		    ex(c, pv_json_get(c->doc, tok, "type")));
		goto out;
	}
	if (!ck->http) {
		if ((t = pv_json_get(c->doc, tok, "path")) >= 0 ||
		    (t = pv_json_get(c->doc, tok, "expect")) >= 0)
			err(c, fld(c, "%s.%s", f, ex(c, t - 1)),
			    "only for \"type\": \"http\" checks");
	} else {
		if (get_str(c, tok, "path", fld(c, "%s.path", f),
			    OPTIONAL | NONEMPTY, &path))
			goto out;
		// The path goes on an HTTP request line: no spaces or
		// control characters, and it must start with '/'.
		for (p = path; p && *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				break;
		if (path && (path[0] != '/' || *p || strlen(path) > 1024)) {
			err(c, fld(c, "%s.path", f),
			    "%s is not a request path ('/' then up to 1024 "
			    "printable characters, no spaces)",
			    ex(c, pv_json_get(c->doc, tok, "path")));
			goto out;
		}
		ck->path = path ? path : strdup("/health");
		path = NULL;
		if (!ck->path)
			oom(c, f);
		ck->expect = 200;
		get_int(c, tok, "expect", fld(c, "%s.expect", f), 100, 599,
			&ck->expect);
	}
	get_int(c, tok, "interval_ms", fld(c, "%s.interval_ms", f), 1, 3600000,
		&ck->interval_ms);
	get_int(c, tok, "timeout_ms", fld(c, "%s.timeout_ms", f), 1, 3600000,
		&ck->timeout_ms);
	get_int(c, tok, "rise", fld(c, "%s.rise", f), 1, 100, &ck->rise);
	get_int(c, tok, "fall", fld(c, "%s.fall", f), 1, 100, &ck->fall);
out:
	free(type);
	free(path);
}

static void parse_timeouts(struct ctx *c, struct pv_ingress *in, int rule,
			   const char *base)
{
	static const char *const keys[] = { "connect_ms", "idle_ms", NULL };
	int tok = pv_json_get(c->doc, rule, "timeouts");
	const char *f = fld(c, "%s.timeouts", base);

	if (tok < 0)
		return;
	if (!pv_json_is_object(c->doc, tok)) {
		err(c, f, "expected an object, got %s", ex(c, tok));
		return;
	}
	only_keys(c, tok, f, keys);
	get_int(c, tok, "connect_ms", fld(c, "%s.connect_ms", f), 1, 86400000,
		&in->connect_ms);
	get_int(c, tok, "idle_ms", fld(c, "%s.idle_ms", f), 1, 86400000,
		&in->idle_ms);
}

static void parse_allow(struct ctx *c, struct pv_ingress *in, int rule,
			const char *base)
{
	int tok = pv_json_get(c->doc, rule, "allow"), el, i, n = 0;
	const char *f = fld(c, "%s.allow", base);
	struct sockaddr_storage net;
	int prefix;
	char *s;

	if (tok < 0)
		return;
	if (!pv_json_is_array(c->doc, tok)) {
		err(c, f, "expected an array of CIDRs, got %s", ex(c, tok));
		return;
	}
	if (!pv_json_size(c->doc, tok)) {
		err(c, f,
		    "an empty list would refuse every client; leave \"allow\" "
		    "out to accept all");
		return;
	}
	for (el = pv_json_first(c->doc, tok), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, tok);
	     el = pv_json_next(c->doc, el), i++) {
		const char *fe = fld(c, "%s[%d]", f, i);
		if (!pv_json_is_string(c->doc, el)) {
			err(c, fe, "expected a CIDR string, got %s", ex(c, el));
			continue;
		}
		s = decode(c, el, fe);
		if (!s)
			continue;
		if (pv_cidr_parse(s, &net, &prefix)) {
			err(c, fe,
			    "%s is not a CIDR (A.B.C.D/N or IPv6 prefix/N)",
			    ex(c, el));
			free(s);
			continue;
		}
		if (strv_push(&in->allow, &n, s)) {
			oom(c, fe);
			return;
		}
	}
}

static void parse_rule(struct ctx *c, int rule, int index, struct bind **binds,
		       int *nbinds)
{
	static const char *const keys[] = {
		"name",	   "type",	     "external", "provider",
		"service", "balance",	     "check",	 "timeouts",
		"maxconn", "proxy_protocol", "allow",	 NULL,
	};
	const char *base = fld(c, "ingress[%d]", index), *f;
	struct sockaddr_storage ss;
	struct pv_ingress *in, *other;
	char *s = NULL, what[96];
	socklen_t len;
	int b;

	if (!pv_json_is_object(c->doc, rule)) {
		err(c, base, "expected an object, got %s", ex(c, rule));
		return;
	}
	in = calloc(1, sizeof(*in));
	if (!in) {
		oom(c, base);
		return;
	}
	dl_list_add_tail(&c->s->ingress, &in->list);
	only_keys(c, rule, base, keys);

	f = fld(c, "%s.name", base);
	if (!get_str(c, rule, "name", f, REQUIRED | NONEMPTY, &in->name)) {
		if (!pv_parser_valid_name(in->name))
			err(c, f,
			    "%s is not a rule name (letters, digits, '.', "
			    "'_', '-'; up to 64)",
			    ex(c, pv_json_get(c->doc, rule, "name")));
		dl_list_for_each (other, &c->s->ingress, struct pv_ingress,
				  list) {
			if (other != in && other->name &&
			    !strcmp(other->name, in->name)) {
				err(c, f, "%s names two rules",
				    ex(c, pv_json_get(c->doc, rule, "name")));
				break;
			}
		}
	}
	f = fld(c, "%s.type", base);
	if (!get_str(c, rule, "type", f, REQUIRED, &in->type) &&
	    strcmp(in->type, "tcp"))
		err(c, f, "%s is not an ingress type (tcp)",
		    ex(c, pv_json_get(c->doc, rule, "type")));

	f = fld(c, "%s.external", base);
	if (!get_str(c, rule, "external", f, REQUIRED, &in->external)) {
		if (pv_addr_parse(in->external, &ss, &len)) {
			err(c, f,
			    "%s is not an address (IP:PORT, [IPv6]:PORT or "
			    ":PORT)",
			    ex(c, pv_json_get(c->doc, rule, "external")));
		} else {
			snprintf(what, sizeof(what), "ingress[%d] %s", index,
				 in->name ? in->name : "");
			add_bind(c, binds, nbinds, f, what, in->external, &ss);
		}
	}
	get_str(c, rule, "service", fld(c, "%s.service", base),
		REQUIRED | NONEMPTY, &in->service);
	parse_providers(c, in, rule, base);

	f = fld(c, "%s.balance", base);
	if (!get_str(c, rule, "balance", f, OPTIONAL, &s) && s) {
		b = pv_balance_from_str(s);
		if (b < 0)
			err(c, f,
			    "%s is not a balance algorithm (roundrobin, "
			    "leastconn, first, source)",
			    ex(c, pv_json_get(c->doc, rule, "balance")));
		else
			in->balance = b, in->balance_set = 1;
	}
	free(s);
	parse_check(c, in, rule, base);
	parse_timeouts(c, in, rule, base);
	get_int(c, rule, "maxconn", fld(c, "%s.maxconn", base), 1, 1000000,
		&in->maxconn);
	f = fld(c, "%s.proxy_protocol", base);
	if (!get_str(c, rule, "proxy_protocol", f, OPTIONAL,
		     &in->proxy_protocol) &&
	    in->proxy_protocol && strcmp(in->proxy_protocol, "v1") &&
	    strcmp(in->proxy_protocol, "v2"))
		err(c, f, "%s is not a PROXY protocol version (v1, v2)",
		    ex(c, pv_json_get(c->doc, rule, "proxy_protocol")));
	parse_allow(c, in, rule, base);
}

static void parse_ingress(struct ctx *c, int dev, struct bind **binds,
			  int *nbinds)
{
	int arr = pv_json_get(c->doc, dev, "ingress"), el, i, mark;

	if (arr < 0)
		return;
	if (!pv_json_is_array(c->doc, arr)) {
		err(c, "ingress", "expected an array of rules, got %s",
		    ex(c, arr));
		return;
	}
	for (el = pv_json_first(c->doc, arr), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, arr);
	     el = pv_json_next(c->doc, el), i++) {
		mark = c->narena;
		parse_rule(c, el, i, binds, nbinds);
		arena_pop(c, mark);
	}
}

static void parse_xconnect(struct ctx *c, int dev, struct bind **binds,
			   int *nbinds)
{
	int tok = pv_json_get(c->doc, dev, "xconnect");
	struct sockaddr_storage ss;
	socklen_t len;

	if (tok < 0)
		return;
	if (!pv_json_is_object(c->doc, tok)) {
		err(c, "xconnect", "expected an object, got %s", ex(c, tok));
		return;
	}
	if (get_str(c, tok, "stats", "xconnect.stats", OPTIONAL,
		    &c->s->xconnect_stats) ||
	    !c->s->xconnect_stats)
		return;
	if (pv_addr_parse(c->s->xconnect_stats, &ss, &len))
		err(c, "xconnect.stats",
		    "%s is not an address (IP:PORT, [IPv6]:PORT or :PORT)",
		    ex(c, pv_json_get(c->doc, tok, "stats")));
	else
		add_bind(c, binds, nbinds, "xconnect.stats", "xconnect.stats",
			 c->s->xconnect_stats, &ss);
}

// device.json; runs after every container is known, so ingress rules are
// checked against the containers' exports here.
static void parse_device(struct ctx *c, int dev)
{
	struct bind *binds = NULL;
	int nbinds = 0;

	if (!pv_json_is_object(c->doc, dev)) {
		err(c, NULL, "expected an object, got %s", ex(c, dev));
		c->pools_bad = 1;
		return;
	}
	parse_pools(c, dev);
	parse_ingress(c, dev, &binds, &nbinds);
	parse_xconnect(c, dev, &binds, &nbinds);
	free(binds);
}

// ---- checks across files ----

// Checks each requirement of p against the containers' exports.
static void check_requires(struct ctx *c, struct pv_platform *p)
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
		base = fld(c, "services.required[%d]", r->index);
		found = NULL;
		found_e = NULL;
		if (r->provider) {
			found = pv_state_find_platform(c->s, r->provider);
			if (!found) {
				err(c, fld(c, "%s.provider", base),
				    "\"%s\" is not a container of this state",
				    r->provider);
				continue;
			}
			found_e = pv_platform_find_export(found, r->name);
			if (!found_e) {
				err(c, fld(c, "%s.name", base),
				    "\"%s\" is not exported by container %s",
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
					err(c, fld(c, "%s.name", base),
					    "\"%s\" is exported by %s and %s; "
					    "name one with \"provider\"",
					    r->name, found->name, q->name);
					break;
				}
				found = q;
				found_e = e;
			}
			if (!n)
				err(c, fld(c, "%s.name", base),
				    "no container exports \"%s\"", r->name);
			if (n != 1)
				continue;
		}
		if (found_e->svc_type == SVC_TYPE_UNKNOWN)
			continue;
		why = unreachable(found, found_e);
		if (why) {
			err(c, base, "container %s %s", found->name, why);
			continue;
		}
		if (!tcp_like(r->svc_type) && !found_e->socket)
			err(c, fld(c, "%s.type", base),
			    "a %s requirement needs a socket, but %s exports "
			    "\"%s\" with a port only",
			    pv_service_type_to_str(r->svc_type), found->name,
			    r->name);
		if (!tcp_like(r->svc_type) ||
		    pv_addr_parse(r->target, &a, &len))
			continue;
		// Two listeners on one address of the same namespace.
		dl_list_for_each (o, &p->requires,
				  struct pv_platform_service_require, list) {
			if (o == r)
				break;
			if (tcp_like(o->svc_type) &&
			    !pv_addr_parse(o->target, &b, &len) &&
			    binds_conflict(&a, &b)) {
				err(c, fld(c, "%s.target", base),
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
static void check_pool_names(struct ctx *c, struct pv_platform *p)
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
		err(c, fld(c, "%.*s.pool", (int)(dot - i->origin), i->origin),
		    "\"%s\" is not a pool of device.json network.pools",
		    i->pool);
	}
}

static void check_all(struct ctx *c)
{
	struct pv_platform *p;
	char key[96];
	int mark;

	dl_list_for_each (p, &c->s->platforms, struct pv_platform, list) {
		snprintf(key, sizeof(key), "%s/run.json", p->name);
		c->key = key;
		mark = c->narena;
		check_requires(c, p);
		if (c->pools_bad)
			check_pool_names(c, p);
		arena_pop(c, mark);
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
				 const char *spec, struct pv_errors *errs)
{
	struct ctx c = { .errs = errs };
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
			err(&c, NULL, "given twice");
			continue;
		}
		if (!pv_parser_valid_name(e->name)) {
			err(&c, NULL,
			    "\"%s\" is not a container name (letters, digits, "
			    "'.', '_', '-'; up to 64)",
			    e->name);
			continue;
		}
		if (++ncont > PV_PARSER_MAX_CONTAINERS) {
			err(&c, NULL, "more than %d containers",
			    PV_PARSER_MAX_CONTAINERS);
			break;
		}
		p = pv_platform_new(e->name);
		if (!p) {
			oom(&c, "name");
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
			err(&c, NULL, "given twice");
			continue;
		}
		p = pv_state_find_platform(c.s, e->name);
		if (!p) {
			err(&c, NULL,
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
			err(&c, NULL, "given twice");
			continue;
		}
		if (e->doc)
			parse_device(&c, e->tok);
		else
			c.pools_bad = 1;
	}
	c.doc = NULL;
	check_all(&c);

	for (i = 0; i < c.n_pool_names; i++)
		free(c.pool_names[i]);
	free(c.pool_names);
	arena_pop(&c, 0);
	free(c.arena);
	if (c.oom || errs->failed || errs->count != before) {
		pv_state_free(c.s);
		return NULL;
	}
	return c.s;
}

struct pv_state *pv_parser_parse_text(const char *origin, const char *text,
				      size_t len, struct pv_errors *errs)
{
	struct pv_parser_entry *entries = NULL, *ne;
	struct pv_state *s = NULL;
	const char *reason;
	struct pv_json doc;
	char *spec = NULL, **keys = NULL;
	int k, i, n = 0, nkeys = 0, before = errs->count;
	enum pv_entry_kind kind;
	size_t name_len;

	if (pv_json_parse(&doc, text, len, &reason)) {
		pv_errors_add(errs, "%s: invalid JSON (%s)", origin, reason);
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
		// Keys are owned by keys[] until the end; entries point in.
		if (strv_push(&keys, &nkeys, key))
			goto out_oom;
		if (name_len) {
			char *name = strndup(key, name_len);
			if (!name || strv_push(&keys, &nkeys, name))
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
	s = pv_parser_build(entries, n, spec, errs);
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
