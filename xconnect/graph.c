// The xconnect-graph: parsing a document into links, with every link
// checked field by field so that one bad entry is skipped (and named)
// while the others keep working.

#define MODULE_NAME "graph"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utils/addr.h"
#include "utils/link_limits.h"
#include "graph.h"
#include "utils/json.h"

// Where in the document a link is, for error lines.
struct where {
	struct pv_errors *errs;
	int index;
	const char *label; // the link's name once known
};

static void bad(struct where *w, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

// Adds one error line: "graph: link[3] (nginx-http): target: reason".
static void bad(struct where *w, const char *field, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (w->label)
		pv_errors_add(w->errs, "graph: link[%d] (%s): %s: %s", w->index,
			      w->label, field, reason);
	else
		pv_errors_add(w->errs, "graph: link[%d]: %s: %s", w->index,
			      field, reason);
}

void pvx_graph_init(struct pvx_graph *g)
{
	dl_list_init(&g->links);
	g->count = 0;
}

void pvx_link_free(struct pvx_link *l)
{
	if (!l)
		return;
	free(l->key);
	free(l->label);
	free(l->type);
	free(l->name);
	free(l->consumer);
	free(l->provider);
	free(l->role);
	free(l->interface);
	free(l->target);
	free(l->http_addr);
	free(l->http_prefix);
	free(l->socket);
	free(l->ingress);
	free(l->proxy_protocol);
	free(l->check.path);
	free(l->allow);
	free(l);
}

void pvx_graph_clear(struct pvx_graph *g)
{
	struct pvx_link *l, *n;

	dl_list_for_each_safe (l, n, &g->links, struct pvx_link, list) {
		dl_list_del(&l->list);
		pvx_link_free(l);
	}
	g->count = 0;
}

struct pvx_link *pvx_graph_find(struct pvx_graph *g, const char *key)
{
	struct pvx_link *l;

	dl_list_for_each (l, &g->links, struct pvx_link, list) {
		if (!strcmp(l->key, key))
			return l;
	}
	return NULL;
}

static const char *const balance_names[] = {
	[PVX_BALANCE_ROUNDROBIN] = "roundrobin",
	[PVX_BALANCE_LEASTCONN] = "leastconn",
	[PVX_BALANCE_FIRST] = "first",
	[PVX_BALANCE_SOURCE] = "source",
};

int pvx_balance_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(balance_names) / sizeof(balance_names[0]); i++)
		if (!strcmp(s, balance_names[i]))
			return (int)i;
	return -1;
}

// Appends s to the key with a separator that cannot occur in names.
static int key_put(char **key, size_t *len, const char *s)
{
	size_t n = strlen(s);
	char *k = realloc(*key, *len + n + 2);

	if (!k)
		return -1;
	memcpy(k + *len, s, n);
	k[*len + n] = '\x1f';
	k[*len + n + 1] = '\0';
	*len += n + 1;
	*key = k;
	return 0;
}

char *pvx_link_key(const struct pvx_link *l)
{
	char *key = NULL;
	size_t len = 0;
	int rc;

	// An ingress rule can front several providers (one link each) and two
	// rules can front the same service: the rule and the provider together
	// name the link. Other links belong to a consumer, which may require
	// the same service twice on different targets.
	// Host backends ("_host_", in --graph files) are told apart by
	// their address, so one rule can front several of them.
	if (l->ingress)
		rc = key_put(&key, &len, "ingress") ||
		     key_put(&key, &len, l->ingress) ||
		     key_put(&key, &len, l->provider) ||
		     (!strcmp(l->provider, "_host_") && l->socket &&
		      key_put(&key, &len, l->socket));
	else
		rc = key_put(&key, &len, "link") ||
		     key_put(&key, &len, l->consumer ? l->consumer : "") ||
		     key_put(&key, &len, l->name) ||
		     key_put(&key, &len, l->target);
	if (rc) {
		free(key);
		return NULL;
	}
	return key;
}

// strcmp that treats two NULLs as equal.
static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

int pvx_link_equal(const struct pvx_link *a, const struct pvx_link *b)
{
	return str_eq(a->type, b->type) && str_eq(a->name, b->name) &&
	       str_eq(a->consumer, b->consumer) &&
	       str_eq(a->provider, b->provider) && str_eq(a->role, b->role) &&
	       str_eq(a->interface, b->interface) &&
	       str_eq(a->target, b->target) && str_eq(a->socket, b->socket) &&
	       str_eq(a->ingress, b->ingress) &&
	       a->consumer_pid == b->consumer_pid &&
	       a->provider_pid == b->provider_pid && a->balance == b->balance &&
	       str_eq(a->proxy_protocol, b->proxy_protocol) &&
	       a->connect_ms == b->connect_ms && a->idle_ms == b->idle_ms &&
	       a->maxconn == b->maxconn && a->head_ms == b->head_ms &&
	       a->response_ms == b->response_ms &&
	       a->max_head_bytes == b->max_head_bytes &&
	       a->max_headers == b->max_headers &&
	       a->check.type == b->check.type &&
	       str_eq(a->check.path, b->check.path) &&
	       a->check.expect == b->check.expect &&
	       a->check.interval_ms == b->check.interval_ms &&
	       a->check.timeout_ms == b->check.timeout_ms &&
	       a->check.rise == b->check.rise &&
	       a->check.fall == b->check.fall && a->nallow == b->nallow &&
	       (!a->nallow ||
		!memcmp(a->allow, b->allow, a->nallow * sizeof(*a->allow)));
}

// Reads the string at key of obj into *out (NULL when absent or null).
// Returns 0, or -1 after logging a wrong type or an allocation failure.
static int get_str(const struct pv_json *doc, int obj, const char *key,
		   int required, char **out, struct where *w)
{
	char ex[48];
	int i = pv_json_get(doc, obj, key);

	*out = NULL;
	if (i < 0) {
		if (!required)
			return 0;
		bad(w, key, "missing");
		return -1;
	}
	if (!pv_json_is_string(doc, i)) {
		pv_json_excerpt(doc, i, ex, sizeof(ex));
		bad(w, key, "%s is not a string", ex);
		return -1;
	}
	*out = pv_json_strdup(doc, i);
	if (!*out) {
		bad(w, key, "not a valid string (or out of memory)");
		return -1;
	}
	return 0;
}

// Reads an integer in [min, max] at key of obj; absent leaves *out as is.
static int get_int(const struct pv_json *doc, int obj, const char *key,
		   long long min, long long max, int *out, struct where *w)
{
	char ex[48];
	long long v;
	int i = pv_json_get(doc, obj, key);

	if (i < 0)
		return 0;
	if (pv_json_int(doc, i, &v) || v < min || v > max) {
		pv_json_excerpt(doc, i, ex, sizeof(ex));
		bad(w, key, "%s is not an integer in %lld..%lld", ex, min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

// The "timeouts" object: connect_ms, idle_ms; for http links head_ms and
// response_ms.
static int parse_timeouts(const struct pv_json *doc, int obj,
			  struct pvx_link *l, struct where *w)
{
	int t = pv_json_get(doc, obj, "timeouts");

	if (t < 0)
		return 0;
	if (!pv_json_is_object(doc, t)) {
		bad(w, "timeouts", "not an object");
		return -1;
	}
	if (get_int(doc, t, "connect_ms", 1, PV_LINK_CONNECT_MS_MAX,
		    &l->connect_ms, w) ||
	    get_int(doc, t, "idle_ms", 0, PV_LINK_IDLE_MS_MAX, &l->idle_ms,
		    w) ||
	    get_int(doc, t, "head_ms", 1, PV_LINK_HEAD_MS_MAX, &l->head_ms,
		    w) ||
	    get_int(doc, t, "response_ms", 1, PV_LINK_RESPONSE_MS_MAX,
		    &l->response_ms, w))
		return -1;
	return 0;
}

// 1 when p can go on an HTTP request line as it is: it starts with '/',
// and has no spaces or control characters (no header injection).
static int request_path(const char *p)
{
	size_t n = strlen(p), i;

	if (p[0] != '/' || n > 1024)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f)
			return 0;
	return 1;
}

// The "check" object: {"type":"tcp"} or {"type":"http", "path", ...}.
static int parse_check(const struct pv_json *doc, int obj, struct pvx_link *l,
		       struct where *w)
{
	int c = pv_json_get(doc, obj, "check");
	char *type = NULL;
	int rc = -1;

	if (c < 0)
		return 0;
	if (!pv_json_is_object(doc, c)) {
		bad(w, "check", "not an object");
		return -1;
	}
	if (get_str(doc, c, "type", 1, &type, w))
		return -1;
	if (!strcmp(type, "tcp")) {
		l->check.type = PVX_CHECK_TCP;
	} else if (!strcmp(type, "http")) {
		l->check.type = PVX_CHECK_HTTP;
	} else {
		bad(w, "check.type", "\"%s\" is not tcp or http", type);
		goto out;
	}
	if (get_str(doc, c, "path", 0, &l->check.path, w) ||
	    get_int(doc, c, "expect", 100, 599, &l->check.expect, w) ||
	    get_int(doc, c, "interval_ms", 1, PV_LINK_CHECK_MS_MAX,
		    &l->check.interval_ms, w) ||
	    get_int(doc, c, "timeout_ms", 1, PV_LINK_CHECK_MS_MAX,
		    &l->check.timeout_ms, w) ||
	    get_int(doc, c, "rise", 1, 1000, &l->check.rise, w) ||
	    get_int(doc, c, "fall", 1, 1000, &l->check.fall, w))
		goto out;
	if (l->check.path && !request_path(l->check.path)) {
		char shown[64];
		size_t i;

		// The error is one line: control characters are shown as '?'.
		for (i = 0; l->check.path[i] && i < sizeof(shown) - 1; i++)
			shown[i] = (unsigned char)l->check.path[i] < ' ' ||
						   l->check.path[i] == 0x7f
					   ? '?'
					   : l->check.path[i];
		shown[i] = '\0';
		bad(w, "check.path",
		    "\"%s\" is not a request path ('/' then up to 1024 "
		    "printable characters, no spaces)",
		    shown);
		goto out;
	}
	rc = 0;
out:
	free(type);
	return rc;
}

// The "allow" array: client networks as CIDR strings.
static int parse_allow(const struct pv_json *doc, int obj, struct pvx_link *l,
		       struct where *w)
{
	int a = pv_json_get(doc, obj, "allow"), el, n;
	char ex[64], field[32];
	char *s;

	if (a < 0)
		return 0;
	n = pv_json_size(doc, a);
	if (!pv_json_is_array(doc, a) || n == 0) {
		bad(w, "allow", "not a non-empty array of CIDRs");
		return -1;
	}
	l->allow = calloc(n, sizeof(*l->allow));
	if (!l->allow) {
		bad(w, "allow", "out of memory");
		return -1;
	}
	for (el = pv_json_first(doc, a); l->nallow < n;
	     el = pv_json_next(doc, el)) {
		snprintf(field, sizeof(field), "allow[%d]", l->nallow);
		s = pv_json_strdup(doc, el);
		if (!s || pv_cidr_parse(s, &l->allow[l->nallow].net,
					&l->allow[l->nallow].prefix)) {
			pv_json_excerpt(doc, el, ex, sizeof(ex));
			bad(w, field, "%s is not a CIDR (A.B.C.D/N or IPv6/N)",
			    ex);
			free(s);
			return -1;
		}
		free(s);
		l->nallow++;
	}
	return 0;
}

// Checks that socket names something a backend can be: empty (not known
// yet), an absolute path, or an IP address and port.
static int check_socket(struct pvx_link *l, struct where *w)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!l->socket[0] || l->socket[0] == '/')
		return 0;
	if (pv_addr_parse(l->socket, &ss, &len)) {
		bad(w, "socket",
		    "\"%s\" is neither an absolute path nor IP:PORT or "
		    "[IPv6]:PORT",
		    l->socket);
		return -1;
	}
	return 0;
}

int pvx_http_prefix_valid(const char *p)
{
	const char *seg, *end;
	size_t n;

	if (p[0] != '/' || strlen(p) > 1024)
		return 0;
	if (!p[1])
		return 1;
	for (seg = p + 1;; seg = end + 1) {
		end = strchrnul(seg, '/');
		n = end - seg;
		if (!n || (n == 1 && seg[0] == '.') ||
		    (n == 2 && !strncmp(seg, "..", 2)) ||
		    strspn(seg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
				"UVWXYZ0123456789-._~!$&'()*+,;=:@%") < n)
			return 0;
		if (!*end)
			return 1;
	}
}

// An http link's target: IP:PORT with an optional path prefix (none:
// "/"), as pvd's parser checks an http rule's "external".
static int parse_http_target(struct pvx_link *l, struct where *w)
{
	struct sockaddr_storage ss;
	const char *slash = strchr(l->target, '/');
	size_t alen = slash ? (size_t)(slash - l->target) : strlen(l->target);
	socklen_t len;

	l->http_addr = strndup(l->target, alen);
	l->http_prefix = strdup(slash ? slash : "/");
	if (!l->http_addr || !l->http_prefix) {
		bad(w, "target", "out of memory");
		return -1;
	}
	if (pv_addr_parse(l->http_addr, &ss, &len)) {
		bad(w, "target",
		    "\"%s\" is not an address with an optional path prefix "
		    "(IP:PORT[/PREFIX], [IPv6]:PORT[/PREFIX] or "
		    ":PORT[/PREFIX])",
		    l->target);
		return -1;
	}
	if (!pvx_http_prefix_valid(l->http_prefix)) {
		bad(w, "target",
		    "\"%s\" is not a path prefix ('/' segments of URI path "
		    "characters, none empty, '.' or '..', no '/' at the end)",
		    l->http_prefix);
		return -1;
	}
	return 0;
}

// Parses the link object at obj. Returns the link or NULL (logged).
static struct pvx_link *parse_link(const struct pv_json *doc, int obj,
				   struct where *w)
{
	struct sockaddr_storage ss;
	struct pvx_link *l;
	socklen_t len;
	char *balance = NULL;
	int b;

	if (!pv_json_is_object(doc, obj)) {
		bad(w, "link", "not an object");
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		bad(w, "link", "out of memory");
		return NULL;
	}
	dl_list_init(&l->list);
	l->idle_ms = -1; // absent: the default, not "none"
	if (get_str(doc, obj, "name", 1, &l->name, w))
		goto fail;
	w->label = l->name;
	if (get_str(doc, obj, "ingress", 0, &l->ingress, w))
		goto fail;
	if (l->ingress)
		w->label = l->ingress;
	if (get_str(doc, obj, "type", 1, &l->type, w) ||
	    get_str(doc, obj, "provider", 1, &l->provider, w) ||
	    get_str(doc, obj, "target", 1, &l->target, w) ||
	    get_str(doc, obj, "consumer", !l->ingress, &l->consumer, w) ||
	    get_str(doc, obj, "role", 0, &l->role, w) ||
	    get_str(doc, obj, "interface", 0, &l->interface, w) ||
	    get_str(doc, obj, "socket", 0, &l->socket, w) ||
	    get_str(doc, obj, "proxy_protocol", 0, &l->proxy_protocol, w) ||
	    get_str(doc, obj, "balance", 0, &balance, w))
		goto fail;
	// A pid beyond int is not a pid; negative ones mean "not running".
	if (get_int(doc, obj, "consumer_pid", -2147483647LL, 2147483647LL,
		    &l->consumer_pid, w) ||
	    get_int(doc, obj, "provider_pid", -2147483647LL, 2147483647LL,
		    &l->provider_pid, w) ||
	    get_int(doc, obj, "maxconn", 0, 1000000000, &l->maxconn, w) ||
	    get_int(doc, obj, "max_head_bytes", PV_LINK_MAX_HEAD_BYTES_MIN,
		    PV_LINK_MAX_HEAD_BYTES_MAX, &l->max_head_bytes, w) ||
	    get_int(doc, obj, "max_headers", 1, PV_LINK_MAX_HEADERS_MAX,
		    &l->max_headers, w) ||
	    parse_timeouts(doc, obj, l, w) || parse_check(doc, obj, l, w) ||
	    parse_allow(doc, obj, l, w))
		goto fail;
	if (!l->socket) {
		l->socket = strdup("");
		if (!l->socket) {
			bad(w, "socket", "out of memory");
			goto fail;
		}
	}
	if (!l->name[0] || !l->provider[0]) {
		bad(w, l->name[0] ? "provider" : "name", "empty");
		goto fail;
	}
	// Links of other types (pvd's "unix" consumer links) may name a
	// path; they are served only by a plugin of their type.
	if (!strcmp(l->type, "http")) {
		if (parse_http_target(l, w))
			goto fail;
	} else if (!(strcmp(l->type, "tcp") && l->target[0] == '/') &&
		   pv_addr_parse(l->target, &ss, &len)) {
		bad(w, "target",
		    "\"%s\" is not an address (IP:PORT, [IPv6]:PORT or :PORT)",
		    l->target);
		goto fail;
	}
	if (check_socket(l, w))
		goto fail;
	if (balance) {
		b = pvx_balance_parse(balance);
		if (b < 0) {
			bad(w, "balance",
			    "\"%s\" is not roundrobin, leastconn, first or "
			    "source",
			    balance);
			goto fail;
		}
		l->balance = (enum pvx_balance)b;
	}
	if (l->proxy_protocol && strcmp(l->proxy_protocol, "v1") &&
	    strcmp(l->proxy_protocol, "v2")) {
		bad(w, "proxy_protocol", "\"%s\" is not v1 or v2",
		    l->proxy_protocol);
		goto fail;
	}
	l->label = strdup(w->label);
	l->key = pvx_link_key(l);
	if (!l->label || !l->key) {
		bad(w, "link", "out of memory");
		goto fail;
	}
	free(balance);
	return l;
fail:
	free(balance);
	pvx_link_free(l);
	return NULL;
}

int pvx_graph_parse(struct pvx_graph *g, const char *text, size_t len,
		    struct pv_errors *errs)
{
	struct pv_json doc = { 0 };
	struct where w = { .errs = errs };
	const char *reason;
	struct pvx_link *l;
	int i;

	if (pv_json_parse(&doc, text, len, &reason)) {
		pv_errors_add(errs, "graph: not valid JSON: %s", reason);
		return -1;
	}
	if (!pv_json_is_array(&doc, 0)) {
		pv_errors_add(errs, "graph: not a JSON array of links");
		pv_json_free(&doc);
		return -1;
	}
	for (i = pv_json_first(&doc, 0); i >= 0 && i < doc.ntok;
	     i = pv_json_next(&doc, i), w.index++) {
		w.label = NULL;
		l = parse_link(&doc, i, &w);
		if (!l)
			continue;
		// Two entries with one identity cannot both be served; the
		// first one wins, predictably.
		if (pvx_graph_find(g, l->key)) {
			w.label = l->label;
			bad(&w, l->ingress ? "provider" : "target",
			    "duplicate of an earlier link (%s %s)",
			    l->ingress ? "ingress" : "consumer",
			    l->ingress ? l->ingress
				       : (l->consumer ? l->consumer : ""));
			pvx_link_free(l);
			continue;
		}
		dl_list_add_tail(&g->links, &l->list);
		g->count++;
	}
	pv_json_free(&doc);
	return 0;
}

const char *pvx_balance_name(enum pvx_balance b)
{
	return b < sizeof(balance_names) / sizeof(balance_names[0])
		       ? balance_names[b]
		       : "?";
}
