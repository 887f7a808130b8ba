// The state built through the API (as pvd holds it): leases and the
// xconnect-graph follow every change, and each link has every field.

#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "tests/unit/kit.h"
#include "utils/json.h"

static struct pv_ipam_pool *add_pool(struct pv_state *s, const char *name,
				     const char *subnet, const char *gw)
{
	const char *reason;
	struct pv_ipam_pool *p;

	p = pv_ipam_pool_new(name, "pvbr0", subnet, gw, 0, &reason);
	CHECK(p != NULL);
	if (p)
		dl_list_add_tail(&s->pools, &p->list);
	return p;
}

static struct pv_platform *add_platform(struct pv_state *s, const char *name,
					network_mode_t mode, const char *pool,
					const char *ip)
{
	struct pv_platform *p = pv_platform_new(name);

	CHECK(p != NULL);
	if (!p)
		return NULL;
	p->network.mode = mode;
	if (pool)
		CHECK(pv_platform_add_iface(p, pool, ip, NULL) != NULL);
	dl_list_add_tail(&s->platforms, &p->list);
	return p;
}

static struct pv_ingress *add_rule(struct pv_state *s, const char *name,
				   const char *external, const char *provider,
				   const char *service)
{
	struct pv_ingress *in = calloc(1, sizeof(*in));

	CHECK(in != NULL);
	if (!in)
		return NULL;
	in->name = strdup(name);
	in->type = strdup("tcp");
	in->external = strdup(external);
	in->service = strdup(service);
	in->providers = calloc(2, sizeof(char *));
	if (in->providers)
		in->providers[0] = strdup(provider);
	dl_list_add_tail(&s->ingress, &in->list);
	return in;
}

// The "socket" of the link whose ingress is rule (or consumer is rule),
// copied into buf; NULL when there is no such link.
static const char *socket_of(struct pv_state *s, const char *rule, char *buf,
			     size_t n)
{
	char *g = pv_state_get_xconnect_graph_json(s);
	const char *reason, *ret = NULL;
	struct pv_json doc;
	int el, i;

	if (!g || pv_json_parse(&doc, g, strlen(g), &reason)) {
		free(g);
		return NULL;
	}
	for (el = pv_json_first(&doc, 0), i = 0;
	     el >= 0 && i < pv_json_size(&doc, 0);
	     el = pv_json_next(&doc, el), i++) {
		int k = pv_json_get(&doc, el, "ingress");
		if (k < 0)
			k = pv_json_get(&doc, el, "consumer");
		if (!pv_json_eq(&doc, k, rule))
			continue;
		char *v = pv_json_strdup(&doc, pv_json_get(&doc, el, "socket"));
		snprintf(buf, n, "%s", v ? v : "(null)");
		free(v);
		ret = buf;
	}
	pv_json_free(&doc);
	free(g);
	return ret;
}

static void test_sockets_follow_leases(void)
{
	struct pv_state *s = pv_state_new();
	struct pv_platform_service_export *e;
	struct pv_platform *web, *host, *v6, *lo, *sock;
	struct pv_errors errs;
	char buf[128];

	CHECK(s != NULL);
	if (!s)
		return;
	pv_errors_init(&errs);
	add_pool(s, "internal", "10.0.4.0/24", "10.0.4.1");
	add_pool(s, "v6", "fd00::/64", "fd00::1");
	web = add_platform(s, "web", NET_MODE_POOL, "internal", NULL);
	host = add_platform(s, "host", NET_MODE_HOST, NULL, NULL);
	v6 = add_platform(s, "v6", NET_MODE_POOL, "v6", NULL);
	lo = add_platform(s, "lo", NET_MODE_NONE, NULL, NULL);
	sock = add_platform(s, "sock", NET_MODE_POOL, "internal", NULL);
	if (!web || !host || !v6 || !lo || !sock)
		goto out;
	e = pv_platform_add_service_export(web, SVC_TYPE_TCP, "http", NULL, 80);
	pv_platform_add_service_export(host, SVC_TYPE_TCP, "http", NULL, 8080);
	pv_platform_add_service_export(v6, SVC_TYPE_TCP, "http", NULL, 80);
	pv_platform_add_service_export(lo, SVC_TYPE_TCP, "http", NULL, 80);
	// A socket wins over a port: the proxy reaches the path.
	pv_platform_add_service_export(sock, SVC_TYPE_TCP, "http",
				       "/run/http.sock", 80);
	add_rule(s, "r-web", ":80", "web", "http");
	add_rule(s, "r-host", ":81", "host", "http");
	add_rule(s, "r-v6", ":82", "v6", "http");
	add_rule(s, "r-lo", ":83", "lo", "http");
	add_rule(s, "r-sock", ":84", "sock", "http");

	// Not leased yet: "" until the address exists.
	CHECK_STR(socket_of(s, "r-web", buf, sizeof(buf)), "");
	CHECK_STR(socket_of(s, "r-v6", buf, sizeof(buf)), "");
	CHECK_STR(socket_of(s, "r-host", buf, sizeof(buf)), "127.0.0.1:8080");
	CHECK_STR(socket_of(s, "r-lo", buf, sizeof(buf)), "");
	CHECK_STR(socket_of(s, "r-sock", buf, sizeof(buf)), "/run/http.sock");

	CHECK(pv_state_lease_addresses(s, &errs) == 0);
	CHECK_STR(socket_of(s, "r-web", buf, sizeof(buf)), "10.0.4.2:80");
	CHECK_STR(socket_of(s, "r-v6", buf, sizeof(buf)), "[fd00::2]:80");
	CHECK(pv_platform_get_ipv4_address(v6) == NULL);
	CHECK_STR(pv_platform_get_address(v6), "fd00::2");
	CHECK_STR(pv_platform_get_ipv4_address(sock), "10.0.4.3");

	// The graph is built from the current values, never cached: a new
	// port or a new lease shows at once.
	e->port = 8000;
	CHECK_STR(socket_of(s, "r-web", buf, sizeof(buf)), "10.0.4.2:8000");
	pv_state_release_addresses(s);
	CHECK_STR(socket_of(s, "r-web", buf, sizeof(buf)), "");
	CHECK(pv_platform_get_address(web) == NULL);
	// Leasing again in the same order gives the same addresses.
	CHECK(pv_state_lease_addresses(s, &errs) == 0);
	CHECK_STR(socket_of(s, "r-web", buf, sizeof(buf)), "10.0.4.2:8000");
	CHECK(errs.count == 0);
out:
	pv_errors_clear(&errs);
	pv_state_free(s);
}

static void test_static_first(void)
{
	struct pv_state *s = pv_state_new();
	struct pv_platform *a, *b;
	struct pv_errors errs;

	CHECK(s != NULL);
	if (!s)
		return;
	pv_errors_init(&errs);
	add_pool(s, "internal", "10.0.4.0/24", "10.0.4.1");
	a = add_platform(s, "a", NET_MODE_POOL, "internal", NULL);
	b = add_platform(s, "b", NET_MODE_POOL, "internal", "10.0.4.2");
	CHECK(pv_state_lease_addresses(s, &errs) == 0);
	CHECK_STR(pv_platform_get_ipv4_address(a), "10.0.4.3");
	CHECK_STR(pv_platform_get_ipv4_address(b), "10.0.4.2");
	// Leasing twice is harmless: each keeps its address.
	CHECK(pv_state_lease_addresses(s, &errs) == 0);
	CHECK_STR(pv_platform_get_ipv4_address(a), "10.0.4.3");
	pv_errors_clear(&errs);
	pv_state_free(s);
}

static void test_lease_errors(void)
{
	struct pv_state *s = pv_state_new();
	struct pv_errors errs;

	CHECK(s != NULL);
	if (!s)
		return;
	pv_errors_init(&errs);
	add_pool(s, "tiny", "10.0.4.0/30", "10.0.4.1");
	add_platform(s, "a", NET_MODE_POOL, "tiny", NULL);
	add_platform(s, "b", NET_MODE_POOL, "tiny", NULL);
	add_platform(s, "c", NET_MODE_POOL, "nowhere", NULL);
	CHECK(pv_state_lease_addresses(s, &errs) == -1);
	CHECK(errs.count == 2);
	CHECK_STR(errs.count > 0 ? errs.lines[0] : NULL,
		  "b/run.json: network.pool: no address left for b: pool tiny "
		  "(10.0.4.0/30) pool exhausted");
	CHECK_STR(errs.count > 1 ? errs.lines[1] : NULL,
		  "c/run.json: network.pool: \"nowhere\" is not a pool of "
		  "device.json network.pools");
	pv_errors_clear(&errs);
	pv_state_free(s);
}

// Each link is one compact line of JSON with every field of the graph format
// (docs/graph.md).
static void test_link_fields(void)
{
	static const char *const fields[] = {
		"type",		"name", "consumer",  "consumer_pid", "provider",
		"provider_pid", "role", "interface", "target",	     "socket",
	};
	struct pv_state *s = pv_state_new();
	struct pv_platform *web, *cli;
	struct pv_json doc;
	const char *reason;
	struct pv_errors errs;
	char *g = NULL;
	size_t f;
	int el, n = 0;

	CHECK(s != NULL);
	if (!s)
		return;
	pv_errors_init(&errs);
	add_pool(s, "internal", "10.0.4.0/24", "10.0.4.1");
	web = add_platform(s, "web", NET_MODE_POOL, "internal", NULL);
	cli = add_platform(s, "cli", NET_MODE_POOL, "internal", NULL);
	if (!web || !cli)
		goto out;
	pv_platform_add_service_export(web, SVC_TYPE_HTTP, "http", NULL, 80);
	pv_platform_add_service_require(cli, SVC_TYPE_TCP, "http", NULL,
					"127.0.0.1:8080", NULL, NULL);
	add_rule(s, "web \"quoted\"", ":80", "web", "http");
	CHECK(pv_state_lease_addresses(s, &errs) == 0);
	web->pid = 100;
	cli->pid = 200;
	g = pv_state_get_xconnect_graph_json(s);
	CHECK(g && !strchr(g, '\n'));
	CHECK(g && pv_json_parse(&doc, g, strlen(g), &reason) == 0);
	if (!g || !doc.tok)
		goto out;
	for (el = pv_json_first(&doc, 0); el >= 0 && n < pv_json_size(&doc, 0);
	     el = pv_json_next(&doc, el), n++)
		for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			CHECK(pv_json_get(&doc, el, fields[f]) >= 0);
	CHECK(n == 2);
	pv_json_free(&doc);
	CHECK(strstr(g, "\"ingress\":\"web \\\"quoted\\\"\""));
	CHECK(strstr(g, "{\"type\":\"tcp\",\"name\":\"http\",\"consumer\":"
			"\"cli\",\"consumer_pid\":200,\"provider\":\"web\","
			"\"provider_pid\":100,\"role\":\"any\","
			"\"interface\":\"http\",\"target\":\"127.0.0.1:8080\","
			"\"socket\":\"10.0.4.2:80\"}"));
out:
	free(g);
	pv_errors_clear(&errs);
	pv_state_free(s);
}

static void test_names(void)
{
	CHECK(pv_balance_from_str("roundrobin") == BALANCE_ROUNDROBIN);
	CHECK(pv_balance_from_str("leastconn") == BALANCE_LEASTCONN);
	CHECK(pv_balance_from_str("first") == BALANCE_FIRST);
	CHECK(pv_balance_from_str("source") == BALANCE_SOURCE);
	CHECK(pv_balance_from_str("Roundrobin") == -1);
	CHECK(pv_balance_from_str(NULL) == -1);
	CHECK_STR(pv_balance_to_str(BALANCE_SOURCE), "source");
	CHECK(pv_service_type_from_str("tcp") == SVC_TYPE_TCP);
	CHECK(pv_service_type_from_str("wayland") == SVC_TYPE_WAYLAND);
	CHECK(pv_service_type_from_str("unknown") == SVC_TYPE_UNKNOWN);
	CHECK(pv_service_type_from_str("TCP") == SVC_TYPE_UNKNOWN);
	CHECK_STR(pv_service_type_to_str(SVC_TYPE_UNIX), "unix");
	CHECK_STR(pv_platform_status_str(PLAT_RUNNING), "running");
	CHECK_STR(pv_platform_status_str(PLAT_FAILED), "failed");
	CHECK_STR(pv_platform_status_str(PLAT_STOPPED), "stopped");
	CHECK_STR(pv_platform_status_str(PLAT_STARTING), "starting");
}

static void test_empty(void)
{
	struct pv_state *s = pv_state_new();
	char *g = s ? pv_state_get_xconnect_graph_json(s) : NULL;

	CHECK_STR(g, "[]");
	CHECK(pv_state_find_platform(s, "x") == NULL);
	CHECK(pv_state_find_pool(s, "x") == NULL);
	free(g);
	pv_state_free(s);
	pv_state_free(NULL);
	pv_platform_free(NULL);
	pv_ingress_free(NULL);
}

int main(void)
{
	RUN(test_sockets_follow_leases);
	RUN(test_static_first);
	RUN(test_lease_errors);
	RUN(test_link_fields);
	RUN(test_names);
	RUN(test_empty);
	return kit_report("test_state");
}
