// The state parser: good states give the expected containers and graph,
// and every kind of bad input is refused with the exact line a user reads.
// States are written with ' for " to keep them readable here.

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parser/parser.h"
#include "state.h"
#include "graph.h"
#include "tests/unit/kit.h"
#include "tests/unit/kit_parse.h"

#define DEV_POOLS                                                              \
	"'network':{'pools':{'internal':{'type':'bridge','bridge':'pvbr0',"    \
	"'subnet':'10.0.4.0/24','gateway':'10.0.4.1','nat':false}}}"
#define RULE                                                                   \
	"{'name':'nginx-http','type':'tcp','external':'0.0.0.0:80',"           \
	"'provider':'nginx','service':'nginx-http'}"
#define DEV "{" DEV_POOLS ",'ingress':[" RULE "]}"
#define RUN_JSON                                                               \
	"{'#spec':'service-manifest-run@1','name':'nginx','type':'lxc',"       \
	"'exec':['/usr/sbin/nginx','-g','daemon off;'],"                       \
	"'network':{'mode':'pool','pool':'internal'}}"
#define SVC                                                                    \
	"{'#spec':'service-manifest-xconnect@1','services':[{'name':"          \
	"'nginx-http','type':'tcp','port':80}]}"

// A state file of device.json, nginx's two files and extra members
// (",'web/run.json':{...}"); a device starting with '[' is an ingress
// array beside the default pools.
static char *state_text(const char *dev, const char *run, const char *svc,
			const char *extra)
{
	char *raw, *out;
	int n;

	if (dev && dev[0] == '[')
		n = asprintf(&raw,
			     "{'device.json':{" DEV_POOLS ",'ingress':%s},"
			     "'nginx/run.json':%s,'nginx/services.json':%s%s}",
			     dev, run ? run : RUN_JSON, svc ? svc : SVC,
			     extra ? extra : "");
	else
		n = asprintf(&raw,
			     "{'#spec':'pantavisor-service-system@1',"
			     "'device.json':%s,'nginx/run.json':%s,"
			     "'nginx/services.json':%s%s}",
			     dev ? dev : DEV, run ? run : RUN_JSON,
			     svc ? svc : SVC, extra ? extra : "");
	if (n < 0)
		return NULL;
	out = kit_unq(raw);
	free(raw);
	return out;
}

static struct pv_state *parse(const char *text, struct pv_errors *errs)
{
	return pv_parser_parse_text("state.json", text, strlen(text), errs);
}

// Loads a state file of tests/data (PV_TEST_DATA overrides the place).
static struct pv_state *load_data(const char *rel, struct pv_errors *errs)
{
	const char *dir = getenv("PV_TEST_DATA");
	struct pv_state *s;
	char *path;

	if (asprintf(&path, "%s/%s", dir ? dir : "tests/data", rel) < 0)
		return NULL;
	s = pv_parser_load(path, errs);
	free(path);
	return s;
}

static char *read_data(const char *rel)
{
	const char *dir = getenv("PV_TEST_DATA");
	char *path, *buf = NULL;
	size_t n = 0;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir ? dir : "tests/data", rel) < 0)
		return NULL;
	f = fopen(path, "r");
	free(path);
	if (!f)
		return NULL;
	if (getdelim(&buf, &n, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	// The golden files end with the newline pvd prints.
	if (buf && *buf && buf[strlen(buf) - 1] == '\n')
		buf[strlen(buf) - 1] = '\0';
	return buf;
}

static void test_seed(void)
{
	struct pv_errors errs;
	struct pv_state *s;
	struct pv_platform *p;
	char *text = state_text(NULL, NULL, NULL, NULL), *graph;

	pv_errors_init(&errs);
	s = parse(text, &errs);
	CHECK(s != NULL);
	CHECK(errs.count == 0);
	if (!s)
		goto out;
	CHECK_STR(s->spec, "pantavisor-service-system@1");
	p = pv_state_find_platform(s, "nginx");
	CHECK(p != NULL);
	if (!p)
		goto out;
	CHECK_STR(p->exec[0], "/usr/sbin/nginx");
	CHECK_STR(p->exec[2], "daemon off;");
	CHECK(p->exec[3] == NULL);
	CHECK(p->network.mode == NET_MODE_POOL);
	CHECK(pv_platform_get_ipv4_address(p) == NULL);
	CHECK(pv_state_find_pool(s, "internal") != NULL);
	CHECK_STR(pv_state_find_pool(s, "internal")->bridge, "pvbr0");

	// Unleased: the backend is "" until pvd leases.
	graph = pv_state_get_xconnect_graph_json(s);
	CHECK(graph && strstr(graph, "\"socket\":\"\""));
	free(graph);

	CHECK(pv_state_lease_addresses(s, &errs) == 0);
	CHECK_STR(pv_platform_get_ipv4_address(p), "10.0.4.2");
	graph = pv_state_get_xconnect_graph_json(s);
	CHECK_STR(graph,
		  "[{\"type\":\"tcp\",\"name\":\"nginx-http\",\"consumer\":"
		  "\"EXTERNAL\",\"consumer_pid\":0,\"provider\":\"nginx\","
		  "\"provider_pid\":0,\"role\":\"EXTERNAL\",\"interface\":\"\","
		  "\"target\":\"0.0.0.0:80\",\"socket\":\"10.0.4.2:80\","
		  "\"ingress\":\"nginx-http\"}]");
	free(graph);

	// Live pids appear; a pid of 0 or less reads 0.
	p->pid = 4242;
	graph = pv_state_get_xconnect_graph_json(s);
	CHECK(graph && strstr(graph, "\"provider_pid\":4242"));
	free(graph);
	p->pid = -1;
	graph = pv_state_get_xconnect_graph_json(s);
	CHECK(graph && strstr(graph, "\"provider_pid\":0"));
	free(graph);
out:
	pv_state_free(s);
	pv_errors_clear(&errs);
	free(text);
}

// Loads a golden state, leases, and compares with its golden graph.
static void check_golden(const char *name)
{
	struct pv_errors errs;
	struct pv_state *s;
	char rel[128], *graph = NULL, *want;

	pv_errors_init(&errs);
	snprintf(rel, sizeof(rel), "states/%s", name);
	s = load_data(rel, &errs);
	CHECK(s != NULL);
	if (s)
		CHECK(pv_state_lease_addresses(s, &errs) == 0);
	if (errs.count)
		pv_errors_print(&errs, stderr);
	snprintf(rel, sizeof(rel), "graphs/%s", name);
	want = read_data(rel);
	CHECK(want != NULL);
	if (s)
		graph = pv_state_get_xconnect_graph_json(s);
	CHECK_STR(graph, want);
	free(graph);
	free(want);
	pv_state_free(s);
	pv_errors_clear(&errs);
}

static void test_golden(void)
{
	check_golden("seed.json");
	check_golden("full.json");
	check_golden("dir");
}

// full.json holds IPv6, host network, two providers, two rules to one
// service, a unix export and consumers: check those links one by one.
static void test_full(void)
{
	struct pv_errors errs;
	struct pv_platform *p;
	struct pv_state *s;
	char *g = NULL;

	pv_errors_init(&errs);
	s = load_data("states/full.json", &errs);
	CHECK(s != NULL);
	if (!s)
		goto out;
	CHECK(pv_state_lease_addresses(s, &errs) == 0);
	g = pv_state_get_xconnect_graph_json(s);
	CHECK(g != NULL);
	if (!g)
		goto out;
	// Multi-provider ingress: one link per backend, same "ingress".
	CHECK(strstr(g, "\"provider\":\"web1\",\"provider_pid\":0,\"role\":"
			"\"EXTERNAL\",\"interface\":\"\",\"target\":\"0.0.0.0:"
			"80\",\"socket\":\"10.0.4.2:80\",\"ingress\":\"web\""));
	// web2 has a static address; dynamic leases skip it.
	CHECK(strstr(g,
		     "\"provider\":\"web2\",\"provider_pid\":0,\"role\":"
		     "\"EXTERNAL\",\"interface\":\"\",\"target\":\"0.0.0.0:"
		     "80\",\"socket\":\"10.0.4.50:80\",\"ingress\":\"web\""));
	// The same service on 8080 stays its own link.
	CHECK(strstr(g, "\"target\":\"0.0.0.0:8080\",\"socket\":\"10.0.4.2:"
			"80\",\"ingress\":\"web-alt\"}"));
	CHECK(strstr(g, "\"socket\":\"[fd00::2]:443\",\"ingress\":\"v6web\""));
	CHECK(strstr(g, "\"socket\":\"127.0.0.1:8081\",\"ingress\":"
			"\"hostapp\""));
	CHECK(strstr(g, "\"socket\":\"/run/sockapp/raw.sock\",\"ingress\":"
			"\"sock\""));
	CHECK(strstr(g, "\"check\":{\"type\":\"http\",\"path\":\"/health\","
			"\"expect\":200}"));
	CHECK(strstr(g, "\"timeouts\":{\"connect_ms\":2000,\"idle_ms\":"
			"60000},\"maxconn\":100,\"proxy_protocol\":\"v1\","
			"\"allow\":[\"127.0.0.0/8\",\"10.0.0.0/8\"]"));
	// A consumer link: the container, its requirement's target.
	CHECK(strstr(g, "{\"type\":\"tcp\",\"name\":\"http\",\"consumer\":"
			"\"client\",\"consumer_pid\":0,\"provider\":\"web2\","
			"\"provider_pid\":0,\"role\":\"any\",\"interface\":"
			"\"lo\",\"target\":\"127.0.0.1:8080\",\"socket\":"
			"\"10.0.4.50:80\"}"));
	CHECK(strstr(g, "\"role\":\"any\""));

	p = pv_state_find_platform(s, "web2");
	CHECK(p && p->restart_policy == RESTART_ALWAYS);
	// Escapes are decoded: \u00e9 is UTF-8 é, \" a quote.
	CHECK(p && p->env && p->env[1] &&
	      !strcmp(p->env[1], "GREETING=caf\xc3\xa9 \"quoted\""));
	p = pv_state_find_platform(s, "web1");
	CHECK(p && p->exec && !strcmp(p->exec[0], "/bin/sh") &&
	      !strcmp(p->exec[1], "-c") &&
	      !strcmp(p->exec[2], "python3 -m http.server 80") && !p->exec[3]);
	// No "network": the host's, as upstream.
	p = pv_state_find_platform(s, "sockapp");
	CHECK(p && p->network.mode == NET_MODE_HOST);
	CHECK_STR(s->xconnect_stats, "127.0.0.1:9901");
out:
	free(g);
	pv_state_free(s);
	pv_errors_clear(&errs);
}

// Two containers exporting one name; a requirement names one of them.
static void test_same_service_two_providers(void)
{
	struct pv_errors errs;
	struct pv_state *s;
	char *text, *g = NULL;

	pv_errors_init(&errs);
	text = state_text(
		"[{'name':'a','type':'tcp','external':':80','provider':'nginx',"
		"'service':'nginx-http'},{'name':'b','type':'tcp','external':"
		"':81','provider':'web','service':'nginx-http'}]",
		NULL, NULL,
		",'web/run.json':{'name':'web','exec':'true','network':{'mode':"
		"'host'}},'web/services.json':[{'name':'nginx-http','type':"
		"'tcp','port':8080}]");
	s = parse(text, &errs);
	CHECK(s != NULL);
	if (s && !pv_state_lease_addresses(s, &errs))
		g = pv_state_get_xconnect_graph_json(s);
	CHECK(g && strstr(g, "\"provider\":\"nginx\"") &&
	      strstr(g, "\"socket\":\"10.0.4.2:80\",\"ingress\":\"a\""));
	CHECK(g && strstr(g, "\"provider\":\"web\"") &&
	      strstr(g, "\"socket\":\"127.0.0.1:8080\",\"ingress\":\"b\""));
	free(g);
	pv_state_free(s);
	pv_errors_clear(&errs);
	free(text);
}

// An http rule's limits go from device.json through the graph to
// pv-xconnect's link as written; a rule without them writes none (the
// engine's defaults); a tcp rule with one is refused with one line.
static void test_http_limits(void)
{
	struct pvx_graph pg;
	struct pv_errors errs;
	struct pv_state *s;
	struct pvx_link *l;
	char *text, *g = NULL;

	pv_errors_init(&errs);
	pvx_graph_init(&pg);
	text = state_text(
		"[{'name':'api','type':'http','external':':81','provider':"
		"'nginx','service':'nginx-http','timeouts':{'connect_ms':2000,"
		"'head_ms':500,'response_ms':7000},'max_head_bytes':4096,"
		"'max_headers':20},{'name':'site','type':'http','external':"
		"':82','provider':'nginx','service':'nginx-http'}]",
		NULL, NULL, NULL);
	s = parse(text, &errs);
	CHECK(s != NULL);
	if (s && !pv_state_lease_addresses(s, &errs))
		g = pv_state_get_xconnect_graph_json(s);
	CHECK(errs.count == 0);
	CHECK(g && strstr(g, "\"ingress\":\"api\",\"timeouts\":{\"connect_ms\":"
			     "2000,\"head_ms\":500,\"response_ms\":7000},"
			     "\"max_head_bytes\":4096,\"max_headers\":20}"));
	CHECK(g && strstr(g, "\"ingress\":\"site\"}"));
	// pv-xconnect reads the same graph into its links.
	CHECK(g && pvx_graph_parse(&pg, g, strlen(g), &errs) == 0);
	CHECK(errs.count == 0 && pg.count == 2);
	l = pg.count == 2 ? dl_list_first(&pg.links, struct pvx_link, list)
			  : NULL;
	CHECK(l && l->head_ms == 500 && l->response_ms == 7000 &&
	      l->max_head_bytes == 4096 && l->max_headers == 20 &&
	      l->connect_ms == 2000);
	l = l ? dl_list_entry(l->list.next, struct pvx_link, list) : NULL;
	CHECK(l && !l->head_ms && !l->response_ms && !l->max_head_bytes &&
	      !l->max_headers);
	pvx_graph_clear(&pg);
	free(g);
	pv_state_free(s);
	free(text);
	pv_errors_clear(&errs);

	// A tcp rule: one line, no range check beside it.
	text = state_text("[" RULE ",{'name':'x','type':'tcp','external':"
			  "':81','provider':'nginx','service':'nginx-http',"
			  "'max_head_bytes':5}]",
			  NULL, NULL, NULL);
	s = parse(text, &errs);
	CHECK(s == NULL && errs.count == 1);
	pv_state_free(s);
	free(text);
	pv_errors_clear(&errs);
}

// JSON null means absent, in every string field.
static void test_null_is_absent(void)
{
	struct pv_errors errs;
	struct pv_state *s;
	char *text;

	pv_errors_init(&errs);
	text = state_text("[{'name':'nginx-http','type':'tcp','external':':80',"
			  "'provider':'nginx','service':'nginx-http',"
			  "'balance':null,'check':null,'allow':null}]",
			  "{'name':'nginx','exec':['x'],'env':null,'root':null,"
			  "'network':{'mode':'pool','pool':'internal','ip':"
			  "null,'mac':null},'restart_policy':null}",
			  "{'services':[{'name':'nginx-http','type':'tcp',"
			  "'port':80,'socket':null}]}",
			  NULL);
	s = parse(text, &errs);
	CHECK(s != NULL);
	if (errs.count)
		pv_errors_print(&errs, stderr);
	if (s) {
		struct pv_ingress *in =
			dl_list_first(&s->ingress, struct pv_ingress, list);
		CHECK(in && !in->balance_set && !in->check.enabled &&
		      !in->allow);
	}
	pv_state_free(s);
	pv_errors_clear(&errs);
	free(text);
}

// A string with \u0000 cannot become a C string: refused, not cut.
static void test_nul_escape(void)
{
	struct pv_errors errs;
	struct pv_state *s;
	char *text;

	pv_errors_init(&errs);
	text = state_text(NULL, NULL,
			  "[{'name':'nginx-http','type':'tcp','port':80,"
			  "'socket':'/run/a\\u0000b'}]",
			  NULL);
	s = parse(text, &errs);
	CHECK(s == NULL);
	kit_expect_line(&errs,
			"nginx/services.json: [0].socket: contains a NUL "
			"character (\\u0000)",
			__func__);
	pv_state_free(s);
	pv_errors_clear(&errs);
	free(text);
}

struct bad_case {
	const char *dev; // NULL: default; '[': ingress array
	const char *run;
	const char *svc;
	const char *extra;
	const char *want; // one of the lines, ' for "
};

#define PORT_CASE(v, shown)                                                    \
	{                                                                      \
		NULL, NULL,                                                    \
			"[{'name':'nginx-http','type':'tcp','port':" v "}]",   \
			NULL,                                                  \
			"nginx/services.json: [0].port: " shown                \
			" is not a port (1..65535)"                            \
	}

#define ING(rules) "[" RULE "," rules "]"
#define WEB                                                                    \
	",'web/run.json':{'name':'web','exec':'true','network':{'mode':"       \
	"'pool','pool':'internal','ip':'10.0.4.2'}}"

static const struct bad_case bad_cases[] = {
	// Ports.
	{ NULL, NULL,
	  "{'services':[{'name':'nginx-http','type':'tcp','port':'80abc'}]}",
	  NULL,
	  "nginx/services.json: services[0].port: '80abc' is not a port "
	  "(1..65535)" },
	PORT_CASE("0", "0"),
	PORT_CASE("70000", "70000"),
	PORT_CASE("-1", "-1"),
	PORT_CASE("80.5", "80.5"),
	PORT_CASE("8e1", "8e1"),
	PORT_CASE("[80]", "[80]"),
	PORT_CASE("true", "true"),
	PORT_CASE("''", "''"),
	PORT_CASE("' 80'", "' 80'"),
	PORT_CASE("'+80'", "'+80'"),
	PORT_CASE("'65536'", "'65536'"),
	PORT_CASE("{}", "{}"),
	// Sockets: a container exports only paths inside itself.
	{ NULL, NULL,
	  "[{'name':'nginx-http','type':'tcp','socket':'127.0.0.1:22'}]", NULL,
	  "nginx/services.json: [0].socket: '127.0.0.1:22' is not an "
	  "absolute path: a container may only export a path inside itself "
	  "(use 'port' for its own TCP port)" },
	{ NULL, NULL, "[{'name':'nginx-http','type':'unix','socket':'run/x'}]",
	  NULL,
	  "nginx/services.json: [0].socket: 'run/x' is not an absolute path "
	  "(a socket path inside the container)" },
	{ NULL, NULL, "[{'name':'nginx-http','type':'tcp'}]", NULL,
	  "nginx/services.json: [0]: a tcp service needs 'port' or 'socket' "
	  "(how the proxy reaches it)" },
	{ NULL, NULL, "[{'name':'nginx-http','type':'unix','port':80}]", NULL,
	  "nginx/services.json: [0]: a unix service needs 'socket'" },
	{ NULL, NULL, "[{'name':'nginx-http','type':'carrier-pigeon'}]", NULL,
	  "nginx/services.json: [0].type: 'carrier-pigeon' is not a service "
	  "type (tcp, unix, http, rest, dbus, drm, wayland)" },
	{ NULL, NULL,
	  "[{'name':'nginx-http','type':'tcp','port':80},{'name':"
	  "'nginx-http','type':'tcp','port':81}]",
	  NULL,
	  "nginx/services.json: [1].name: 'nginx-http' is exported twice by "
	  "this container" },
	{ NULL, NULL, "[{'name':'','type':'tcp','port':80}]", NULL,
	  "nginx/services.json: [0].name: must not be empty" },
	{ NULL, NULL, "{'services':{'name':'x'}}", NULL,
	  "nginx/services.json: services: expected an array, got "
	  "{'name':'x'}" },
	// Ingress rules.
	{ "[{'name':'x','type':'udp','external':':81','provider':'nginx',"
	  "'service':'nginx-http'}]",
	  NULL, NULL, NULL,
	  "device.json: ingress[0].type: 'udp' is not an ingress type (tcp, "
	  "http)" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','balance':'random'}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].balance: 'random' is not a balance "
	  "algorithm (roundrobin, leastconn, first, source)" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'ghost',"
	      "'service':'nginx-http'}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].provider: 'ghost' is not a container of "
	  "this state" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':['nginx',"
	      "'ghost'],'service':'nginx-http'}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].provider[1]: 'ghost' is not a container of "
	  "this state" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':[],"
	      "'service':'nginx-http'}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].provider: expected a container name or a "
	  "non-empty array of them, got []" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'ssh'}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].service: 'ssh' is not exported by "
	  "container nginx (nginx/services.json)" },
	{ ING("{'name':'x','type':'tcp','external':'1.2.3:80','provider':"
	      "'nginx','service':'nginx-http'}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].external: '1.2.3:80' is not an address "
	  "(IP:PORT, [IPv6]:PORT or :PORT)" },
	{ ING("{'name':'x','type':'tcp','external':'0.0.0.0:80abc',"
	      "'provider':'nginx','service':'nginx-http'}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].external: '0.0.0.0:80abc' is not an "
	  "address (IP:PORT, [IPv6]:PORT or :PORT)" },
	{ ING("{'name':'x','type':'tcp','external':':80','provider':'nginx',"
	      "'service':'nginx-http'}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].external: ':80' conflicts with ingress[0] "
	  "nginx-http ('0.0.0.0:80'): both bind port 80" },
	{ "[{'name':'a','type':'tcp','external':'127.0.0.1:80','provider':"
	  "'nginx','service':'nginx-http'},{'name':'b','type':'tcp',"
	  "'external':'0.0.0.0:80','provider':'nginx','service':"
	  "'nginx-http'}]",
	  NULL, NULL, NULL,
	  "device.json: ingress[1].external: '0.0.0.0:80' conflicts with "
	  "ingress[0] a ('127.0.0.1:80'): both bind port 80" },
	{ ING("{'name':'x','type':'tcp','external':'[::]:80','provider':"
	      "'nginx','service':'nginx-http'}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].external: '[::]:80' conflicts with "
	  "ingress[0] nginx-http ('0.0.0.0:80'): both bind port 80" },
	{ ING("{'name':'nginx-http','type':'tcp','external':':81','provider':"
	      "'nginx','service':'nginx-http'}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].name: 'nginx-http' names two rules" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','ballance':'first'}"),
	  NULL, NULL, NULL, "device.json: ingress[1].ballance: unknown field" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','check':{'type':'udp'}}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].check.type: 'udp' is not a check type "
	  "(tcp, http)" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','check':{'type':'http','expect':99}}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].check.expect: 99 is not an integer in "
	  "100..599" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','check':{'type':'http','path':'a b'}}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].check.path: 'a b' is not a request path "
	  "(`/` then up to 1024 printable characters, no spaces)" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','proxy_protocol':'v3'}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].proxy_protocol: 'v3' is not a PROXY "
	  "protocol version (v1, v2)" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','allow':['10.0.0.0/33']}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].allow[0]: '10.0.0.0/33' is not a CIDR "
	  "(A.B.C.D/N or IPv6 prefix/N)" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','maxconn':0}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].maxconn: 0 is not an integer in "
	  "1..1000000" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','timeouts':{'connect_ms':'5s'}}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].timeouts.connect_ms: '5s' is not an "
	  "integer in 1..3600000" },
	// An http rule's limits: on a tcp rule, one line each.
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','max_head_bytes':4096}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].max_head_bytes: only for http rules" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','max_headers':10}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].max_headers: only for http rules" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','timeouts':{'head_ms':100}}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].timeouts.head_ms: only for http rules" },
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','timeouts':{'response_ms':100}}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].timeouts.response_ms: only for http rules" },
	// ... and out of range on an http rule.
	{ ING("{'name':'x','type':'http','external':':81','provider':'nginx',"
	      "'service':'nginx-http','timeouts':{'head_ms':0}}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].timeouts.head_ms: 0 is not an integer in "
	  "1..3600000" },
	{ ING("{'name':'x','type':'http','external':':81','provider':'nginx',"
	      "'service':'nginx-http','timeouts':{'response_ms':'60s'}}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].timeouts.response_ms: '60s' is not an "
	  "integer in 1..86400000" },
	{ ING("{'name':'x','type':'http','external':':81','provider':'nginx',"
	      "'service':'nginx-http','timeouts':{'response_ms':86400001}}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].timeouts.response_ms: 86400001 is not an "
	  "integer in 1..86400000" },
	{ ING("{'name':'x','type':'http','external':':81','provider':'nginx',"
	      "'service':'nginx-http','max_head_bytes':1048577}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].max_head_bytes: 1048577 is not an integer "
	  "in 256..1048576" },
	{ ING("{'name':'x','type':'http','external':':81','provider':'nginx',"
	      "'service':'nginx-http','max_head_bytes':255}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].max_head_bytes: 255 is not an integer "
	  "in 256..1048576" },
	{ ING("{'name':'x','type':'http','external':':81','provider':'nginx',"
	      "'service':'nginx-http','max_headers':0}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].max_headers: 0 is not an integer in "
	  "1..1000" },
	{ ING("{'name':'x','type':'http','external':':81','provider':'nginx',"
	      "'service':'nginx-http','max_headers':1001}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].max_headers: 1001 is not an integer in "
	  "1..1000" },
	{ ING("{'name':'x','type':'http','external':':81','provider':'nginx',"
	      "'service':'nginx-http','timeouts':{'header_ms':100}}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].timeouts.header_ms: unknown field" },
	// pv-xconnect's own bound: a state pvd accepts is one it serves.
	{ ING("{'name':'x','type':'tcp','external':':81','provider':'nginx',"
	      "'service':'nginx-http','timeouts':{'connect_ms':3600001}}"),
	  NULL, NULL, NULL,
	  "device.json: ingress[1].timeouts.connect_ms: 3600001 is not an "
	  "integer in 1..3600000" },
	{ "{" DEV_POOLS ",'ingress':[" RULE "],'xconnect':{'stats':"
	  "'0.0.0.0:80'}}",
	  NULL, NULL, NULL,
	  "device.json: xconnect.stats: '0.0.0.0:80' conflicts with "
	  "ingress[0] nginx-http ('0.0.0.0:80'): both bind port 80" },
	// pv-xconnect and a host-network container on one port.
	{ NULL, "{'name':'nginx','exec':['x'],'network':'host'}",
	  "[{'name':'nginx-http','type':'tcp','port':80}]", NULL,
	  "device.json: ingress[0].external: '0.0.0.0:80' conflicts with port "
	  "80 that container nginx exports on the host network" },
	// A backend nothing can reach.
	{ NULL, "{'name':'nginx','exec':['x'],'network':'none'}", NULL, NULL,
	  "device.json: ingress[0].provider: container nginx has no network "
	  "(network 'none'), so nothing outside it can reach its "
	  "port; give it a pool or mode 'host', or export a socket" },
	// Pools.
	{ "{'network':{'pools':{'internal':{'bridge':'pvbr0','subnet':"
	  "'10.0.4.0/33'}}}}",
	  NULL, NULL, NULL,
	  "device.json: network.pools.internal.subnet: '10.0.4.0/33' is not a "
	  "subnet (IPv4 or IPv6 CIDR, A.B.C.D/N)" },
	{ "{'network':{'pools':{'internal':{'bridge':'pvbr0','subnet':"
	  "'banana'}}}}",
	  NULL, NULL, NULL,
	  "device.json: network.pools.internal.subnet: 'banana' is not a "
	  "subnet (IPv4 or IPv6 CIDR, A.B.C.D/N)" },
	{ "{'network':{'pools':{'internal':{'bridge':'pvbr0','subnet':"
	  "'10.0.4.7/24'}}}}",
	  NULL, NULL, NULL,
	  "device.json: network.pools.internal.subnet: '10.0.4.7/24' has host "
	  "bits set (the network address must end in zeros)" },
	{ "{'network':{'pools':{'internal':{'bridge':'pvbr0','subnet':"
	  "'10.0.4.0/31'}}}}",
	  NULL, NULL, NULL,
	  "device.json: network.pools.internal.subnet: '10.0.4.0/31' prefix "
	  "length out of range for a pool (/8 to /30)" },
	{ "{'network':{'pools':{'internal':{'bridge':'pvbr0','subnet':"
	  "'10.0.4.0/24','gateway':'10.0.5.1'}}}}",
	  NULL, NULL, NULL,
	  "device.json: network.pools.internal.gateway: '10.0.5.1' is outside "
	  "the subnet" },
	{ "{'network':{'pools':{'internal':{'bridge':'pvbr0','subnet':"
	  "'10.0.4.0/24','gateway':'fd00::1'}}}}",
	  NULL, NULL, NULL,
	  "device.json: network.pools.internal.gateway: 'fd00::1' is not an "
	  "IPv4 address (the subnet is IPv4)" },
	{ "{'network':{'pools':{'internal':{'bridge':'a-much-too-long-name',"
	  "'subnet':'10.0.4.0/24'}}}}",
	  NULL, NULL, NULL,
	  "device.json: network.pools.internal.bridge: 'a-much-too-long-name' "
	  "is not an interface name (1..15 characters, no `/`, `:` or "
	  "spaces)" },
	{ "{'network':{'pools':{'internal':{'type':'macvlan','bridge':'b0',"
	  "'subnet':'10.0.4.0/24'}}}}",
	  NULL, NULL, NULL,
	  "device.json: network.pools.internal.type: 'macvlan' is not a pool "
	  "type (bridge)" },
	{ "{'network':{'pools':{'internal':{'bridge':'b0','subnet':"
	  "'10.0.0.0/16'},'other':{'bridge':'b1','subnet':'10.0.4.0/24'}}}}",
	  NULL, NULL, NULL,
	  "device.json: network.pools.other.subnet: '10.0.4.0/24' overlaps "
	  "pool internal (10.0.0.0/16)" },
	{ "{'network':{'pools':{'internal':{'bridge':'b0','subnet':"
	  "'10.0.4.0/24'},'other':{'bridge':'b0','subnet':'10.0.5.0/24'}}}}",
	  NULL, NULL, NULL,
	  "device.json: network.pools.other.bridge: 'b0' is already the "
	  "bridge of pool internal" },
	// Static addresses.
	{ NULL,
	  "{'name':'nginx','exec':['x'],'network':{'mode':'pool','pool':"
	  "'internal','ip':'10.0.5.3'}}",
	  NULL, NULL,
	  "nginx/run.json: network.ip: '10.0.5.3' is outside the subnet (pool "
	  "internal, 10.0.4.0/24, gateway 10.0.4.1)" },
	{ NULL,
	  "{'name':'nginx','exec':['x'],'network':{'mode':'pool','pool':"
	  "'internal','ip':'10.0.4.2'}}",
	  NULL, WEB,
	  "web/run.json: network.ip: '10.0.4.2' is already taken by nginx in "
	  "pool internal" },
	{ NULL,
	  "{'name':'nginx','exec':['x'],'network':{'mode':'pool','pool':"
	  "'internal','ip':'10.0.4.1'}}",
	  NULL, NULL,
	  "nginx/run.json: network.ip: '10.0.4.1' is the pool`s gateway (pool "
	  "internal, 10.0.4.0/24, gateway 10.0.4.1)" },
	{ NULL,
	  "{'name':'nginx','exec':['x'],'network':{'mode':'pool','pool':"
	  "'elsewhere'}}",
	  NULL, NULL,
	  "nginx/run.json: network.pool: 'elsewhere' is not a pool of "
	  "device.json network.pools" },
	{ NULL,
	  "{'name':'nginx','exec':['x'],'network':{'interfaces':[{'pool':"
	  "'internal','ipv4_address':'10.0.4.300'}]}}",
	  NULL, NULL,
	  "nginx/run.json: network.interfaces[0].ipv4_address: '10.0.4.300' "
	  "is not an IPv4 or IPv6 address" },
	{ NULL,
	  "{'name':'nginx','exec':['x'],'network':{'mode':'pool','pool':"
	  "'internal','mac':'01:00:5e:00:00:01'}}",
	  NULL, NULL,
	  "nginx/run.json: network.mac: '01:00:5e:00:00:01' is not a unicast "
	  "MAC address (xx:xx:xx:xx:xx:xx)" },
	{ NULL, "{'name':'nginx','exec':['x'],'network':{'mode':'bridge'}}",
	  NULL, NULL,
	  "nginx/run.json: network.mode: 'bridge' is not a network mode "
	  "(pool, host, none)" },
	// run.json.
	{ NULL, "{'name':'nginx','exec':42,'network':'host'}", NULL, NULL,
	  "nginx/run.json: exec: expected a non-empty array of strings or a "
	  "command string, got 42" },
	{ NULL, "{'name':'nginx','exec':{},'network':'host'}", NULL, NULL,
	  "nginx/run.json: exec: expected a non-empty array of strings or a "
	  "command string, got {}" },
	{ NULL, "{'name':'nginx','exec':[],'network':'host'}", NULL, NULL,
	  "nginx/run.json: exec: expected a non-empty array of strings or a "
	  "command string, got []" },
	{ NULL, "{'name':'nginx','exec':['/bin/x',1],'network':'host'}", NULL,
	  NULL, "nginx/run.json: exec[1]: expected a string, got 1" },
	{ NULL, "{'name':'nginx','network':'host'}", NULL, NULL,
	  "nginx/run.json: exec: missing: pvd runs containers on the host`s "
	  "root and needs 'exec' (an argv array, or a command string), or "
	  "'config' naming an lxc.container.conf with lxc.init.cmd" },
	{ NULL, "{'name':'web','exec':'x','network':'host'}", NULL, NULL,
	  "nginx/run.json: name: 'web' does not match the container`s name "
	  "'nginx'" },
	{ NULL, "{'name':'nginx','type':'docker','exec':'x','network':'host'}",
	  NULL, NULL,
	  "nginx/run.json: type: 'docker' is not a container type (lxc)" },
	{ NULL,
	  "{'name':'nginx','exec':'x','network':'host','restart_policy':"
	  "'sometimes'}",
	  NULL, NULL,
	  "nginx/run.json: restart_policy: 'sometimes' is not a restart "
	  "policy (container, system, no, on-failure, always)" },
	{ NULL, "{'name':'nginx','exec':'x','network':'host','env':{'A':1}}",
	  NULL, NULL, "nginx/run.json: env.A: expected a string, got 1" },
	{ NULL,
	  "{'name':'nginx','exec':'x','network':'host','services':{"
	  "'required':[{'name':'nginx-http','type':'tcp','target':"
	  "'localhost:80'}]}}",
	  NULL, NULL,
	  "nginx/run.json: services.required[0].target: 'localhost:80' is not "
	  "an address (IP:PORT, [IPv6]:PORT or :PORT)" },
	{ NULL,
	  "{'name':'nginx','exec':'x','network':'host','services':{"
	  "'required':[{'name':'db','type':'tcp','target':':5432'}]}}",
	  NULL, NULL,
	  "nginx/run.json: services.required[0].name: no container exports "
	  "'db'" },
	{ NULL,
	  "{'name':'nginx','exec':'x','network':'host','services':{"
	  "'required':[{'name':'nginx-http','type':'tcp','target':':8080',"
	  "'provider':'ghost'}]}}",
	  NULL, NULL,
	  "nginx/run.json: services.required[0].provider: 'ghost' is not a "
	  "container of this state" },
	// Files of the state.
	{ NULL, NULL, NULL, ",'ghost/services.json':[]",
	  "ghost/services.json: there is no ghost/run.json for this "
	  "container" },
	{ NULL, NULL, NULL, ",'bad name/run.json':{}",
	  "bad name/run.json: 'bad name' is not a container name (letters, "
	  "digits, `.`, `_`, `-`; up to 64)" },
	{ NULL, NULL, NULL, ",'nginx/run.json':{}",
	  "nginx/run.json: given twice" },
	{ NULL, "[]", NULL, NULL,
	  "nginx/run.json: expected an object, got []" },
};

static void test_bad_inputs(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		char *text = state_text(bc->dev, bc->run, bc->svc, bc->extra);
		struct pv_errors errs;
		struct pv_state *s;
		char where[64];

		pv_errors_init(&errs);
		s = parse(text, &errs);
		// pvd leases right after loading: its errors count too.
		if (s && pv_state_lease_addresses(s, &errs)) {
			pv_state_free(s);
			s = NULL;
		}
		snprintf(where, sizeof(where), "bad_cases[%zu]", i);
		kit_checks++;
		if (s) {
			kit_failures++;
			fprintf(stderr, "%s: state accepted\n", where);
		}
		kit_expect_line(&errs, bc->want, where);
		pv_state_free(s);
		pv_errors_clear(&errs);
		free(text);
	}
}

// Every error is reported, not only the first.
static void test_all_errors(void)
{
	struct pv_errors errs;
	struct pv_state *s;
	char *text;

	pv_errors_init(&errs);
	text = state_text("[{'name':'a','type':'udp','external':'1.2.3:80',"
			  "'provider':'ghost','service':'nginx-http',"
			  "'balance':'random'}]",
			  "{'name':'nginx','exec':42,'network':{'mode':'pool',"
			  "'pool':'internal','ip':'10.9.9.9'}}",
			  "[{'name':'nginx-http','type':'tcp','port':'80abc'},"
			  "{'name':'b','type':'tcp','socket':'127.0.0.1:22'}]",
			  NULL);
	s = parse(text, &errs);
	CHECK(s == NULL);
	CHECK(errs.count == 8);
	kit_expect_line(&errs,
			"nginx/run.json: exec: expected a non-empty array of "
			"strings or a command string, got 42",
			__func__);
	kit_expect_line(&errs,
			"nginx/services.json: [0].port: '80abc' is not a port "
			"(1..65535)",
			__func__);
	kit_expect_line(&errs,
			"device.json: ingress[0].provider: 'ghost' is not a "
			"container of this state",
			__func__);
	kit_expect_line(&errs,
			"nginx/run.json: network.ip: '10.9.9.9' is outside the "
			"subnet (pool internal, 10.0.4.0/24, gateway 10.0.4.1)",
			__func__);
	pv_state_free(s);
	pv_errors_clear(&errs);
	free(text);
}

// Syntax errors of the whole document: one line naming the file.
static void test_syntax(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "{\"device.json\": {\"network\": {", "truncated JSON" },
		{ "", "empty document" },
		{ "{\"a\": 1} {}", "trailing data" },
		{ "{\"a\": 1} x", "syntax error" },
		{ "{\"a\": tru}", "invalid literal" },
		{ "{\"a\" 1}", "syntax error" },
		{ "[1, 2", "truncated JSON" },
	};
	struct pv_errors errs;
	struct pv_state *s;
	char want[128], *deep;
	size_t i;
	int d;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pv_errors_init(&errs);
		s = parse(cases[i].text, &errs);
		CHECK(s == NULL);
		snprintf(want, sizeof(want), "state.json: invalid JSON (%s)",
			 cases[i].want);
		CHECK(errs.count == 1);
		CHECK_STR(errs.count ? errs.lines[0] : NULL, want);
		pv_state_free(s);
		pv_errors_clear(&errs);
	}

	// 100000 levels: refused by the depth limit, never a stack overflow.
	deep = malloc(200002);
	CHECK(deep != NULL);
	if (!deep)
		return;
	for (d = 0; d < 100000; d++)
		deep[d] = '[';
	for (d = 0; d < 100000; d++)
		deep[100000 + d] = ']';
	deep[200000] = '\0';
	pv_errors_init(&errs);
	s = parse(deep, &errs);
	CHECK(s == NULL);
	CHECK_STR(errs.count ? errs.lines[0] : NULL,
		  "state.json: invalid JSON (nesting too deep)");
	pv_errors_clear(&errs);
	free(deep);

	pv_errors_init(&errs);
	s = parse("[]", &errs);
	CHECK(s == NULL);
	CHECK_STR(errs.count ? errs.lines[0] : NULL,
		  "state.json: expected an object keyed by file names "
		  "(\"device.json\", \"NAME/run.json\", ...)");
	pv_errors_clear(&errs);

	pv_errors_init(&errs);
	s = parse("{\"#spec\":\"pantavisor-service-system@2\"}", &errs);
	CHECK(s == NULL);
	CHECK_STR(errs.count ? errs.lines[0] : NULL,
		  "state.json: #spec: \"pantavisor-service-system@2\" is not "
		  "supported (pantavisor-service-system@1)");
	pv_errors_clear(&errs);
}

// Keys that are not state files (configs of a trail) are ignored; an
// empty state is valid and gives an empty graph.
static void test_ignored_and_empty(void)
{
	struct pv_errors errs;
	struct pv_state *s;
	char *g;

	pv_errors_init(&errs);
	s = parse("{\"nginx/lxc.container.conf\":\"x\",\"bsp/run.txt\":1}",
		  &errs);
	CHECK(s != NULL);
	CHECK(errs.count == 0);
	g = s ? pv_state_get_xconnect_graph_json(s) : NULL;
	CHECK_STR(g, "[]");
	free(g);
	pv_state_free(s);
	pv_errors_clear(&errs);
}

static void write_file(const char *path, const char *text_q)
{
	char *text = kit_unq(text_q);
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(text);
}

// A state directory: KEY in errors is the path inside the directory;
// containers are taken in name order.
static void test_directory(void)
{
	char dir[] = "/tmp/pv-test-state.XXXXXX", path[256];
	struct pv_errors errs;
	struct pv_state *s;
	struct pv_platform *p;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/device.json", dir);
	write_file(path, DEV);
	snprintf(path, sizeof(path), "%s/nginx", dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/nginx/run.json", dir);
	write_file(path, RUN_JSON);
	snprintf(path, sizeof(path), "%s/nginx/services.json", dir);
	write_file(path, SVC);
	snprintf(path, sizeof(path), "%s/aaa", dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/aaa/run.json", dir);
	write_file(path,
		   "{'name':'aaa','exec':'x','network':{'mode':'pool','pool':"
		   "'internal'}}");
	snprintf(path, sizeof(path), "%s/empty", dir);
	CHECK(mkdir(path, 0755) == 0);

	pv_errors_init(&errs);
	s = pv_parser_load(dir, &errs);
	CHECK(s != NULL);
	if (s) {
		CHECK(pv_state_lease_addresses(s, &errs) == 0);
		p = pv_state_find_platform(s, "aaa");
		CHECK_STR(p ? pv_platform_get_ipv4_address(p) : NULL,
			  "10.0.4.2");
		p = pv_state_find_platform(s, "nginx");
		CHECK_STR(p ? pv_platform_get_ipv4_address(p) : NULL,
			  "10.0.4.3");
		CHECK(dl_list_len(&s->platforms) == 2);
	}
	pv_state_free(s);
	pv_errors_clear(&errs);

	// A bad file: the key is its path in the directory.
	snprintf(path, sizeof(path), "%s/nginx/services.json", dir);
	write_file(path, "{'services':[{'name':'nginx-http','type':'tcp',"
			 "'port':'80abc'}]}");
	snprintf(path, sizeof(path), "%s/aaa/run.json", dir);
	write_file(path, "{'name':'aaa','exec':");
	pv_errors_init(&errs);
	s = pv_parser_load(dir, &errs);
	CHECK(s == NULL);
	kit_expect_line(
		&errs,
		"nginx/services.json: services[0].port: '80abc' is not a "
		"port (1..65535)",
		__func__);
	kit_expect_line(&errs, "aaa/run.json: invalid JSON (truncated JSON)",
			__func__);
	pv_state_free(s);
	pv_errors_clear(&errs);

	// A directory with none of the state's files is refused.
	snprintf(path, sizeof(path), "%s/empty", dir);
	pv_errors_init(&errs);
	s = pv_parser_load(path, &errs);
	CHECK(s == NULL);
	CHECK(errs.count == 1 &&
	      strstr(errs.lines[0], "/empty: not a state directory (no "
				    "device.json, no NAME/run.json)"));
	pv_errors_clear(&errs);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);

	pv_errors_init(&errs);
	s = pv_parser_load("/nonexistent/state.json", &errs);
	CHECK(s == NULL);
	CHECK_STR(errs.count ? errs.lines[0] : NULL,
		  "/nonexistent/state.json: cannot open: No such file or "
		  "directory");
	pv_errors_clear(&errs);
}

// Huge arrays are refused up front: the checks between their entries
// are quadratic, and no real state comes near the limits.
static void test_limits(void)
{
	struct pv_errors errs;
	struct pv_state *s;
	size_t cap = 1100 * 16 + 64, len;
	char *rules = malloc(cap), *text;
	int i;

	CHECK(rules != NULL);
	if (!rules)
		return;
	len = snprintf(rules, cap, "[");
	for (i = 0; i < 1100; i++)
		len += snprintf(rules + len, cap - len, "%s{'name':'r%d'}",
				i ? "," : "", i);
	snprintf(rules + len, cap - len, "]");
	text = state_text(rules, NULL, NULL, NULL);
	pv_errors_init(&errs);
	s = text ? parse(text, &errs) : NULL;
	CHECK(s == NULL);
	CHECK(errs.count == 1);
	kit_expect_line(
		&errs,
		"device.json: ingress: 1100 entries, more than the 1024 "
		"allowed",
		__func__);
	pv_errors_clear(&errs);
	free(text);
	free(rules);
}

int main(void)
{
	RUN(test_seed);
	RUN(test_golden);
	RUN(test_full);
	RUN(test_same_service_two_providers);
	RUN(test_http_limits);
	RUN(test_null_is_absent);
	RUN(test_nul_escape);
	RUN(test_bad_inputs);
	RUN(test_all_errors);
	RUN(test_syntax);
	RUN(test_ignored_and_empty);
	RUN(test_directory);
	RUN(test_limits);
	return kit_report("test_parser");
}
