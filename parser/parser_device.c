// device.json: IPAM pools, ingress rules and the xconnect section. Runs
// after every container is known, so ingress rules are checked against
// the containers' exports here.

#define MODULE_NAME "parser"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parser/internal.h"
#include "utils/addr.h"
#include "utils/json.h"
#include "utils/link_limits.h"

// An ingress bind address, kept to find two rules on one port.
struct bind {
	struct sockaddr_storage ss;
	char what[96];	// "ingress[0] nginx-http" or "xconnect.stats"
	char field[64]; // "ingress[0].external"
	char text[PV_ADDR_STRLEN];
	const char *prefix; // an http rule's path prefix, else NULL
};

// Remembers a declared pool name, valid or not (see check_pool_names).
static void add_pool_name(struct pv_parser_ctx *c, const char *name)
{
	char *d = strdup(name);

	if (!d || pv_parser_strv_push(&c->pool_names, &c->n_pool_names, d))
		pv_parser_oom(c, "network.pools");
}

// One pool of network.pools (key is its name token, obj its value):
// validated, then added to the state unless anything is wrong with it.
static void parse_pool(struct pv_parser_ctx *c, int key, int obj)
{
	const char *base =
		pv_parser_fld(c, "network.pools.%s", pv_parser_key(c, key));
	char *name, *type = NULL, *bridge = NULL, *subnet = NULL, *gw = NULL;
	struct pv_ipam_pool *pool, *other;
	const char *reason, *colon;
	int bad = 0, nat = 0;

	name = pv_parser_decode(c, key, base);
	if (!name) {
		c->pools_bad = 1;
		return;
	}
	if (!pv_parser_valid_name(name)) {
		pv_parser_err(c, base,
			      "is not a pool name (letters, digits, '.', '_', "
			      "'-'; up "
			      "to 64)");
		c->pools_bad = 1;
		goto out;
	}
	base = pv_parser_fld(c, "network.pools.%s", name);
	if (pv_state_find_pool(c->s, name)) {
		pv_parser_err(c, base, "pool defined twice");
		goto out;
	}
	add_pool_name(c, name);
	if (!pv_json_is_object(c->doc, obj)) {
		pv_parser_err(c, base, "expected an object, got %s",
			      pv_parser_ex(c, obj));
		c->pools_bad = 1;
		goto out;
	}
	// A pool is upstream's: keys pvd does not use ("parent" of a
	// macvlan pool, ...) are ignored, as upstream ignores what it does
	// not know.
	bad |= pv_parser_get_str(c, obj, "type",
				 pv_parser_fld(c, "%s.type", base), OPTIONAL,
				 &type);
	if (type && strcmp(type, "bridge")) {
		pv_parser_err(
			c, pv_parser_fld(c, "%s.type", base),
			"%s is not a pool type (bridge)",
			pv_parser_ex(c, pv_json_get(c->doc, obj, "type")));
		bad = 1;
	}
	bad |= pv_parser_get_str(c, obj, "bridge",
				 pv_parser_fld(c, "%s.bridge", base), REQUIRED,
				 &bridge);
	if (bridge && !pv_parser_valid_ifname(bridge)) {
		pv_parser_err(
			c, pv_parser_fld(c, "%s.bridge", base),
			"%s is not an interface name (1..15 characters, no "
			"'/', "
			"':' or spaces)",
			pv_parser_ex(c, pv_json_get(c->doc, obj, "bridge")));
		bad = 1;
	}
	bad |= pv_parser_get_str(c, obj, "subnet",
				 pv_parser_fld(c, "%s.subnet", base), REQUIRED,
				 &subnet);
	bad |= pv_parser_get_str(c, obj, "gateway",
				 pv_parser_fld(c, "%s.gateway", base), OPTIONAL,
				 &gw);
	bad |= pv_parser_get_bool(c, obj, "nat",
				  pv_parser_fld(c, "%s.nat", base), &nat);
	if (subnet) {
		pool = pv_ipam_pool_new(name, bridge, subnet, gw, nat, &reason);
		if (!pool && !strcmp(reason, "out of memory")) {
			pv_parser_oom(c, base);
			bad = 1;
		} else if (!pool) {
			// reason is "FIELD: REASON" (ipam.h).
			colon = strchr(reason, ':');
			if (!strncmp(reason, "gateway", 7))
				pv_parser_err(
					c, pv_parser_fld(c, "%s.gateway", base),
					"\"%s\"%s", gw ? gw : "(default)",
					colon + 1);
			else
				pv_parser_err(
					c, pv_parser_fld(c, "%s.subnet", base),
					"%s%s",
					pv_parser_ex(c, pv_json_get(c->doc, obj,
								    "subnet")),
					colon + 1);
			bad = 1;
		} else if (bad) {
			pv_ipam_pool_free(pool);
		} else {
			dl_list_for_each (other, &c->s->pools,
					  struct pv_ipam_pool, list) {
				if (!strcmp(other->bridge, pool->bridge)) {
					pv_parser_err(
						c,
						pv_parser_fld(c, "%s.bridge",
							      base),
						"\"%s\" is already the bridge "
						"of "
						"pool %s",
						pool->bridge, other->name);
					bad = 1;
				}
				if (pv_ipam_overlaps(other, pool)) {
					pv_parser_err(
						c,
						pv_parser_fld(c, "%s.subnet",
							      base),
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

// device.json network.pools: an object of pools keyed by name.
static void parse_pools(struct pv_parser_ctx *c, int dev)
{
	int net = pv_json_get(c->doc, dev, "network"), pools, k, i, mark;

	if (net < 0)
		return;
	if (!pv_json_is_object(c->doc, net)) {
		pv_parser_err(c, "network", "expected an object, got %s",
			      pv_parser_ex(c, net));
		return;
	}
	pools = pv_json_get(c->doc, net, "pools");
	if (pools < 0)
		return;
	if (!pv_json_is_object(c->doc, pools)) {
		pv_parser_err(c, "network.pools", "expected an object, got %s",
			      pv_parser_ex(c, pools));
		c->pools_bad = 1;
		return;
	}
	if (pv_parser_too_many(c, pools, "network.pools", 256))
		return;
	for (k = pv_json_first(c->doc, pools), i = 0;
	     k >= 0 && i < pv_json_size(c->doc, pools);
	     k = pv_json_next(c->doc, k + 1), i++) {
		mark = c->narena;
		parse_pool(c, k, k + 1);
		pv_parser_arena_pop(c, mark);
	}
}

// 1 for 0.0.0.0 or ::.
static int is_any(const struct sockaddr_storage *ss)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	return !memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, &any6,
		       sizeof(any6));
}

// The port of an IPv4 or IPv6 socket address, host order.
static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

// 1 if a and b (of one family) hold the same address.
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
int pv_parser_binds_conflict(const struct sockaddr_storage *a,
			     const struct sockaddr_storage *b)
{
	if (port_of(a) != port_of(b))
		return 0;
	if (a->ss_family == b->ss_family)
		return is_any(a) || is_any(b) || same_ip(a, b);
	return (a->ss_family == AF_INET6 && is_any(a)) ||
	       (b->ss_family == AF_INET6 && is_any(b));
}

// 1 if a and b are the same address and port (one listener).
static int same_addr(const struct sockaddr_storage *a,
		     const struct sockaddr_storage *b)
{
	return a->ss_family == b->ss_family && port_of(a) == port_of(b) &&
	       same_ip(a, b);
}

// Records a bind address (with prefix, an http rule's path prefix) and
// reports a conflict with an earlier one. http rules on one address and
// port share its listener, each with its own prefix.
static void add_bind(struct pv_parser_ctx *c, struct bind **binds, int *n,
		     const char *field, const char *what, const char *text,
		     const struct sockaddr_storage *ss, const char *prefix)
{
	struct bind *nb, *o;
	int i;

	for (i = 0; i < *n; i++) {
		o = &(*binds)[i];
		if (!pv_parser_binds_conflict(&o->ss, ss))
			continue;
		if (prefix && o->prefix && same_addr(&o->ss, ss)) {
			if (strcmp(prefix, o->prefix))
				continue;
			pv_parser_err(c, field,
				      "\"%s\" routes the same address, port "
				      "and path prefix as %s (\"%s\")",
				      text, o->what, o->text);
			return;
		}
		if (!prefix != !o->prefix && same_addr(&o->ss, ss))
			pv_parser_err(c, field,
				      "\"%s\" conflicts with %s (\"%s\"): an "
				      "http rule shares its port %d only with "
				      "other http rules",
				      text, o->what, o->text, port_of(ss));
		else
			pv_parser_err(c, field,
				      "\"%s\" conflicts with %s (\"%s\"): both "
				      "bind port %d",
				      text, o->what, o->text, port_of(ss));
		return;
	}
	nb = realloc(*binds, (*n + 1) * sizeof(**binds));
	if (!nb) {
		pv_parser_oom(c, field);
		return;
	}
	*binds = nb;
	nb[*n].ss = *ss;
	snprintf(nb[*n].what, sizeof(nb[*n].what), "%s", what);
	snprintf(nb[*n].field, sizeof(nb[*n].field), "%s", field);
	snprintf(nb[*n].text, sizeof(nb[*n].text), "%s", text);
	nb[*n].prefix = prefix;
	(*n)++;
}

// Checks one backend of an ingress rule: a known container exporting the
// rule's service in a way a tcp (or http) ingress can forward to.
static void check_backend(struct pv_parser_ctx *c, struct pv_ingress *in,
			  const char *base, const char *f_prov,
			  const char *provider)
{
	struct pv_platform_service_export *e;
	struct pv_platform *p;
	const char *why;

	p = pv_state_find_platform(c->s, provider);
	if (!p) {
		pv_parser_err(c, f_prov,
			      "\"%s\" is not a container of this state",
			      provider);
		return;
	}
	if (!in->service)
		return;
	e = pv_platform_find_export(p, in->service);
	if (!e) {
		pv_parser_err(c, pv_parser_fld(c, "%s.service", base),
			      "\"%s\" is not exported by container %s "
			      "(%s/services.json)",
			      in->service, provider, provider);
		return;
	}
	if (e->svc_type == SVC_TYPE_UNKNOWN)
		return;
	if (in->path && !pv_parser_tcp_like(e->svc_type)) {
		pv_parser_err(c, pv_parser_fld(c, "%s.service", base),
			      "\"%s\" of container %s is a %s service; an http "
			      "ingress forwards to http, rest or tcp services",
			      in->service, provider,
			      pv_service_type_to_str(e->svc_type));
		return;
	}
	if (!pv_parser_tcp_like(e->svc_type) && e->svc_type != SVC_TYPE_UNIX) {
		pv_parser_err(
			c, pv_parser_fld(c, "%s.service", base),
			"\"%s\" of container %s is a %s service; a tcp ingress "
			"forwards to tcp, http, rest or unix services",
			in->service, provider,
			pv_service_type_to_str(e->svc_type));
		return;
	}
	why = pv_parser_unreachable(p, e);
	if (why)
		pv_parser_err(c, f_prov, "container %s %s", provider, why);
}

// A rule's "provider": one container name or a non-empty array of
// distinct names, each checked as a backend.
static void parse_providers(struct pv_parser_ctx *c, struct pv_ingress *in,
			    int rule, const char *base)
{
	int tok = pv_json_get(c->doc, rule, "provider"), el, i, j, n = 0;
	const char *f = pv_parser_fld(c, "%s.provider", base);
	char *s;

	if (tok < 0) {
		pv_parser_err(c, f,
			      "missing (a container name or an array of them)");
		return;
	}
	if (pv_json_is_string(c->doc, tok)) {
		if (pv_parser_get_str(c, rule, "provider", f,
				      REQUIRED | NONEMPTY, &s))
			return;
		if (pv_parser_strv_push(&in->providers, &n, s)) {
			pv_parser_oom(c, f);
			return;
		}
		check_backend(c, in, base, f, s);
		return;
	}
	if (!pv_parser_want_list(
		    c, tok, f, "a container name or a non-empty array of them",
		    256))
		return;
	for (el = pv_json_first(c->doc, tok), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, tok);
	     el = pv_json_next(c->doc, el), i++) {
		const char *fe = pv_parser_fld(c, "%s.provider[%d]", base, i);
		if (!pv_json_is_string(c->doc, el) ||
		    c->doc->tok[el].end == c->doc->tok[el].start) {
			pv_parser_err(c, fe,
				      "expected a container name, got %s",
				      pv_parser_ex(c, el));
			continue;
		}
		s = pv_parser_decode(c, el, fe);
		if (!s)
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(in->providers[j], s))
				break;
		if (j < n) {
			pv_parser_err(c, fe, "\"%s\" is listed twice", s);
			free(s);
			continue;
		}
		if (pv_parser_strv_push(&in->providers, &n, s)) {
			pv_parser_oom(c, fe);
			return;
		}
		check_backend(c, in, base, fe, s);
	}
}

// A rule's optional "check"; an http check defaults to GET /health
// expecting 200. Every problem is reported, not only the first.
static void parse_check(struct pv_parser_ctx *c, struct pv_ingress *in,
			int rule, const char *base)
{
	static const char *const keys[] = { "type",	  "path",
					    "expect",	  "interval_ms",
					    "timeout_ms", "rise",
					    "fall",	  NULL };
	int tok = pv_json_get(c->doc, rule, "check"), t;
	const char *f = pv_parser_fld(c, "%s.check", base);
	struct pv_ingress_check *ck = &in->check;
	char *type = NULL, *path = NULL;
	const char *p;

	if (tok < 0)
		return;
	if (!pv_json_is_object(c->doc, tok)) {
		pv_parser_err(c, f, "expected an object, got %s",
			      pv_parser_ex(c, tok));
		return;
	}
	pv_parser_only_keys(c, tok, f, keys);
	if (pv_parser_get_str(c, tok, "type", pv_parser_fld(c, "%s.type", f),
			      REQUIRED, &type))
		return;
	ck->enabled = 1;
	ck->http = !strcmp(type, "http");
	if (!ck->http && strcmp(type, "tcp"))
		pv_parser_err(
			c, pv_parser_fld(c, "%s.type", f),
			"%s is not a check type (tcp, http)",
			pv_parser_ex(c, pv_json_get(c->doc, tok, "type")));
	if (!ck->http) {
		if ((t = pv_json_get(c->doc, tok, "path")) >= 0 ||
		    (t = pv_json_get(c->doc, tok, "expect")) >= 0)
			pv_parser_err(c,
				      pv_parser_fld(c, "%s.%s", f,
						    pv_parser_key(c, t - 1)),
				      "only for \"type\": \"http\" checks");
	} else if (!pv_parser_get_str(c, tok, "path",
				      pv_parser_fld(c, "%s.path", f),
				      OPTIONAL | NONEMPTY, &path)) {
		// The path goes on an HTTP request line: no spaces or
		// control characters, and it must start with '/'.
		for (p = path; p && *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				break;
		if (path && (path[0] != '/' || *p || strlen(path) > 1024))
			pv_parser_err(
				c, pv_parser_fld(c, "%s.path", f),
				"%s is not a request path ('/' then up to 1024 "
				"printable characters, no spaces)",
				pv_parser_ex(c,
					     pv_json_get(c->doc, tok, "path")));
		ck->path = path ? path : strdup("/health");
		path = NULL;
		if (!ck->path)
			pv_parser_oom(c, f);
	}
	if (ck->http) {
		ck->expect = 200;
		pv_parser_get_int(c, tok, "expect",
				  pv_parser_fld(c, "%s.expect", f), 100, 599,
				  &ck->expect);
	}
	pv_parser_get_int(c, tok, "interval_ms",
			  pv_parser_fld(c, "%s.interval_ms", f), 1,
			  PV_LINK_CHECK_MS_MAX, &ck->interval_ms);
	pv_parser_get_int(c, tok, "timeout_ms",
			  pv_parser_fld(c, "%s.timeout_ms", f), 1,
			  PV_LINK_CHECK_MS_MAX, &ck->timeout_ms);
	pv_parser_get_int(c, tok, "rise", pv_parser_fld(c, "%s.rise", f), 1,
			  100, &ck->rise);
	pv_parser_get_int(c, tok, "fall", pv_parser_fld(c, "%s.fall", f), 1,
			  100, &ck->fall);
	free(type);
	free(path);
}

// An http rule's setting at key of obj, in min..max, into *out; on a
// rule of another type one error line (on a rule whose type is itself
// wrong, only the range is checked).
static void get_http_int(struct pv_parser_ctx *c, const struct pv_ingress *in,
			 int obj, const char *key, const char *field,
			 long long min, long long max, int *out)
{
	if (pv_json_get(c->doc, obj, key) < 0)
		return;
	if (in->type && !strcmp(in->type, "tcp")) {
		pv_parser_err(c, field, "only for http rules");
		return;
	}
	pv_parser_get_int(c, obj, key, field, min, max, out);
}

// A rule's optional "timeouts": connect_ms and idle_ms; for an http rule
// also head_ms and response_ms.
static void parse_timeouts(struct pv_parser_ctx *c, struct pv_ingress *in,
			   int rule, const char *base)
{
	static const char *const keys[] = { "connect_ms", "idle_ms", "head_ms",
					    "response_ms", NULL };
	int tok = pv_json_get(c->doc, rule, "timeouts");
	const char *f = pv_parser_fld(c, "%s.timeouts", base);

	if (tok < 0)
		return;
	if (!pv_json_is_object(c->doc, tok)) {
		pv_parser_err(c, f, "expected an object, got %s",
			      pv_parser_ex(c, tok));
		return;
	}
	pv_parser_only_keys(c, tok, f, keys);
	pv_parser_get_int(c, tok, "connect_ms",
			  pv_parser_fld(c, "%s.connect_ms", f), 1,
			  PV_LINK_CONNECT_MS_MAX, &in->connect_ms);
	pv_parser_get_int(c, tok, "idle_ms", pv_parser_fld(c, "%s.idle_ms", f),
			  1, PV_LINK_IDLE_MS_MAX, &in->idle_ms);
	get_http_int(c, in, tok, "head_ms", pv_parser_fld(c, "%s.head_ms", f),
		     1, PV_LINK_HEAD_MS_MAX, &in->head_ms);
	get_http_int(c, in, tok, "response_ms",
		     pv_parser_fld(c, "%s.response_ms", f), 1,
		     PV_LINK_RESPONSE_MS_MAX, &in->response_ms);
}

// An http rule's optional head limits: max_head_bytes, max_headers.
static void parse_http_limits(struct pv_parser_ctx *c, struct pv_ingress *in,
			      int rule, const char *base)
{
	get_http_int(c, in, rule, "max_head_bytes",
		     pv_parser_fld(c, "%s.max_head_bytes", base),
		     PV_LINK_MAX_HEAD_BYTES_MIN, PV_LINK_MAX_HEAD_BYTES_MAX,
		     &in->max_head_bytes);
	get_http_int(c, in, rule, "max_headers",
		     pv_parser_fld(c, "%s.max_headers", base), 1,
		     PV_LINK_MAX_HEADERS_MAX, &in->max_headers);
}

// A rule's optional "allow": a non-empty array of client CIDRs.
static void parse_allow(struct pv_parser_ctx *c, struct pv_ingress *in,
			int rule, const char *base)
{
	int tok = pv_json_get(c->doc, rule, "allow"), el, i, n = 0;
	const char *f = pv_parser_fld(c, "%s.allow", base);
	struct sockaddr_storage net;
	int prefix;
	char *s;

	if (tok < 0)
		return;
	if (!pv_json_is_array(c->doc, tok)) {
		pv_parser_err(c, f, "expected an array of CIDRs, got %s",
			      pv_parser_ex(c, tok));
		return;
	}
	if (!pv_json_size(c->doc, tok)) {
		pv_parser_err(c, f,
			      "an empty list would refuse every client; leave "
			      "\"allow\" "
			      "out to accept all");
		return;
	}
	if (pv_parser_too_many(c, tok, f, 1024))
		return;
	for (el = pv_json_first(c->doc, tok), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, tok);
	     el = pv_json_next(c->doc, el), i++) {
		const char *fe = pv_parser_fld(c, "%s[%d]", f, i);
		if (!pv_json_is_string(c->doc, el)) {
			pv_parser_err(c, fe, "expected a CIDR string, got %s",
				      pv_parser_ex(c, el));
			continue;
		}
		s = pv_parser_decode(c, el, fe);
		if (!s)
			continue;
		if (pv_cidr_parse(s, &net, &prefix)) {
			pv_parser_err(
				c, fe,
				"%s is not a CIDR (A.B.C.D/N or IPv6 prefix/N)",
				pv_parser_ex(c, el));
			free(s);
			continue;
		}
		if (pv_parser_strv_push(&in->allow, &n, s)) {
			pv_parser_oom(c, fe);
			return;
		}
	}
}

// 1 if p is a path prefix an http rule routes on: '/' alone, or '/'
// segments of URI path characters (RFC 3986 pchar), none empty, "." or
// "..", no '/' at the end; at most 1024 bytes.
static int valid_prefix(const char *p)
{
	const char *seg;

	if (p[0] != '/' || strlen(p) > 1024)
		return 0;
	if (!p[1])
		return 1;
	for (seg = p + 1;; seg++) {
		const char *end = strchrnul(seg, '/');
		size_t n = end - seg;

		if (!n || (n == 1 && seg[0] == '.') ||
		    (n == 2 && !strncmp(seg, "..", 2)) ||
		    strspn(seg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
				"UVWXYZ"
				"0123456789-._~!$&'()*+,;=:@%") < n)
			return 0;
		if (!*end)
			return 1;
		seg = end;
	}
}

// A rule's "external": IP:PORT, and for an http rule an optional path
// prefix after it (IP:PORT/PATH; none means "/"). The address is
// recorded in binds.
static void parse_external(struct pv_parser_ctx *c, struct pv_ingress *in,
			   int rule, int index, const char *f,
			   struct bind **binds, int *nbinds)
{
	int http = in->type && !strcmp(in->type, "http");
	const char *slash = http ? strchr(in->external, '/') : NULL;
	struct sockaddr_storage ss;
	char *addr, what[96];
	socklen_t len;
	int bad;

	addr = slash ? strndup(in->external, slash - in->external)
		     : strdup(in->external);
	if (http)
		in->path = strdup(slash ? slash : "/");
	if (!addr || (http && !in->path)) {
		free(addr);
		pv_parser_oom(c, f);
		return;
	}
	bad = pv_addr_parse(addr, &ss, &len);
	free(addr);
	if (bad) {
		pv_parser_err(
			c, f,
			http ? "%s is not an address with an optional "
			       "path prefix (IP:PORT, [IPv6]:PORT or "
			       ":PORT, then /PATH)"
			     : "%s is not an address (IP:PORT, "
			       "[IPv6]:PORT or :PORT)",
			pv_parser_ex(c, pv_json_get(c->doc, rule, "external")));
		return;
	}
	if (http && !valid_prefix(in->path)) {
		pv_parser_err(
			c, f,
			"%s: \"%s\" is not a path prefix ('/' segments "
			"of URI path characters, none empty, '.' or "
			"'..', no '/' at the end)",
			pv_parser_ex(c, pv_json_get(c->doc, rule, "external")),
			in->path);
		return;
	}
	snprintf(what, sizeof(what), "ingress[%d] %s", index,
		 in->name ? in->name : "");
	add_bind(c, binds, nbinds, f, what, in->external, &ss, in->path);
}

// One ingress rule (ingress[index]); its bind address is recorded in
// binds to find two rules on one port.
static void parse_rule(struct pv_parser_ctx *c, int rule, int index,
		       struct bind **binds, int *nbinds)
{
	static const char *const keys[] = {
		"name",		  "type",     "external",
		"provider",	  "service",  "balance",
		"check",	  "timeouts", "maxconn",
		"proxy_protocol", "allow",    "max_head_bytes",
		"max_headers",	  NULL,
	};
	const char *base = pv_parser_fld(c, "ingress[%d]", index), *f;
	struct pv_ingress *in, *other;
	char *s = NULL;
	int b;

	if (!pv_json_is_object(c->doc, rule)) {
		pv_parser_err(c, base, "expected an object, got %s",
			      pv_parser_ex(c, rule));
		return;
	}
	in = calloc(1, sizeof(*in));
	if (!in) {
		pv_parser_oom(c, base);
		return;
	}
	dl_list_add_tail(&c->s->ingress, &in->list);
	pv_parser_only_keys(c, rule, base, keys);

	f = pv_parser_fld(c, "%s.name", base);
	if (!pv_parser_get_str(c, rule, "name", f, REQUIRED | NONEMPTY,
			       &in->name)) {
		if (!pv_parser_valid_name(in->name))
			pv_parser_err(
				c, f,
				"%s is not a rule name (letters, digits, '.', "
				"'_', '-'; up to 64)",
				pv_parser_ex(
					c, pv_json_get(c->doc, rule, "name")));
		dl_list_for_each (other, &c->s->ingress, struct pv_ingress,
				  list) {
			if (other != in && other->name &&
			    !strcmp(other->name, in->name)) {
				pv_parser_err(
					c, f, "%s names two rules",
					pv_parser_ex(c,
						     pv_json_get(c->doc, rule,
								 "name")));
				break;
			}
		}
	}
	f = pv_parser_fld(c, "%s.type", base);
	if (!pv_parser_get_str(c, rule, "type", f, REQUIRED, &in->type) &&
	    strcmp(in->type, "tcp") && strcmp(in->type, "http"))
		pv_parser_err(
			c, f, "%s is not an ingress type (tcp, http)",
			pv_parser_ex(c, pv_json_get(c->doc, rule, "type")));

	f = pv_parser_fld(c, "%s.external", base);
	if (!pv_parser_get_str(c, rule, "external", f, REQUIRED, &in->external))
		parse_external(c, in, rule, index, f, binds, nbinds);
	pv_parser_get_str(c, rule, "service",
			  pv_parser_fld(c, "%s.service", base),
			  REQUIRED | NONEMPTY, &in->service);
	parse_providers(c, in, rule, base);

	f = pv_parser_fld(c, "%s.balance", base);
	if (!pv_parser_get_str(c, rule, "balance", f, OPTIONAL, &s) && s) {
		b = pv_balance_from_str(s);
		if (b < 0)
			pv_parser_err(
				c, f,
				"%s is not a balance algorithm (roundrobin, "
				"leastconn, first, source)",
				pv_parser_ex(c, pv_json_get(c->doc, rule,
							    "balance")));
		else
			in->balance = b, in->balance_set = 1;
	}
	free(s);
	parse_check(c, in, rule, base);
	parse_timeouts(c, in, rule, base);
	parse_http_limits(c, in, rule, base);
	pv_parser_get_int(c, rule, "maxconn",
			  pv_parser_fld(c, "%s.maxconn", base), 1, 1000000,
			  &in->maxconn);
	f = pv_parser_fld(c, "%s.proxy_protocol", base);
	if (!pv_parser_get_str(c, rule, "proxy_protocol", f, OPTIONAL,
			       &in->proxy_protocol) &&
	    in->proxy_protocol && strcmp(in->proxy_protocol, "v1") &&
	    strcmp(in->proxy_protocol, "v2"))
		pv_parser_err(c, f,
			      "%s is not a PROXY protocol version (v1, v2)",
			      pv_parser_ex(c, pv_json_get(c->doc, rule,
							  "proxy_protocol")));
	parse_allow(c, in, rule, base);
}

// device.json "ingress": an array of rules.
static void parse_ingress(struct pv_parser_ctx *c, int dev, struct bind **binds,
			  int *nbinds)
{
	int arr = pv_json_get(c->doc, dev, "ingress"), el, i, mark;

	if (arr < 0)
		return;
	if (!pv_json_is_array(c->doc, arr)) {
		pv_parser_err(c, "ingress",
			      "expected an array of rules, got %s",
			      pv_parser_ex(c, arr));
		return;
	}
	if (pv_parser_too_many(c, arr, "ingress", 1024))
		return;
	for (el = pv_json_first(c->doc, arr), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, arr);
	     el = pv_json_next(c->doc, el), i++) {
		mark = c->narena;
		parse_rule(c, el, i, binds, nbinds);
		pv_parser_arena_pop(c, mark);
	}
}

// device.json "xconnect": {"stats": "IP:PORT"}, a bind address too.
static void parse_xconnect(struct pv_parser_ctx *c, int dev,
			   struct bind **binds, int *nbinds)
{
	int tok = pv_json_get(c->doc, dev, "xconnect");
	struct sockaddr_storage ss;
	socklen_t len;

	if (tok < 0)
		return;
	if (!pv_json_is_object(c->doc, tok)) {
		pv_parser_err(c, "xconnect", "expected an object, got %s",
			      pv_parser_ex(c, tok));
		return;
	}
	if (pv_parser_get_str(c, tok, "stats", "xconnect.stats", OPTIONAL,
			      &c->s->xconnect_stats) ||
	    !c->s->xconnect_stats)
		return;
	if (pv_addr_parse(c->s->xconnect_stats, &ss, &len))
		pv_parser_err(
			c, "xconnect.stats",
			"%s is not an address (IP:PORT, [IPv6]:PORT or :PORT)",
			pv_parser_ex(c, pv_json_get(c->doc, tok, "stats")));
	else
		add_bind(c, binds, nbinds, "xconnect.stats", "xconnect.stats",
			 c->s->xconnect_stats, &ss, NULL);
}

// device.json; runs after every container is known, so ingress rules are
// checked against the containers' exports here.
// A container on the host network binds its exported ports in the host's
// namespace, where pv-xconnect binds the ingress addresses: the second to
// start would fail. The container's bind address is not known, so any
// ingress on the same port conflicts.
static void check_host_ports(struct pv_parser_ctx *c, struct bind *binds,
			     int nbinds)
{
	struct pv_platform_service_export *e;
	struct pv_platform *p;
	int i;

	dl_list_for_each (p, &c->s->platforms, struct pv_platform, list) {
		if (p->network.mode != NET_MODE_HOST)
			continue;
		dl_list_for_each (e, &p->exports,
				  struct pv_platform_service_export, list) {
			if (e->socket || e->port <= 0)
				continue;
			for (i = 0; i < nbinds; i++)
				if (port_of(&binds[i].ss) == e->port)
					pv_parser_err(
						c, binds[i].field,
						"\"%s\" conflicts with port %d "
						"that container %s exports on "
						"the host network",
						binds[i].text, e->port,
						p->name);
		}
	}
}

void pv_parser_device(struct pv_parser_ctx *c, int dev)
{
	struct bind *binds = NULL;
	int nbinds = 0;

	if (!pv_json_is_object(c->doc, dev)) {
		pv_parser_err(c, NULL, "expected an object, got %s",
			      pv_parser_ex(c, dev));
		c->pools_bad = 1;
		return;
	}
	parse_pools(c, dev);
	pv_parser_groups(c, dev);
	parse_ingress(c, dev, &binds, &nbinds);
	parse_xconnect(c, dev, &binds, &nbinds);
	check_host_ports(c, binds, nbinds);
	free(binds);
}
