// The state parser on states written as upstream Pantavisor writes them:
// requirements without "type", run.json without "exec" (the command in
// lxc.container.conf), upstream's restart policies and groups, and a
// container without "network". States use ' for " to stay readable.

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parser/parser.h"
#include "state.h"
#include "tests/unit/kit.h"
#include "tests/unit/kit_parse.h"

#define POOLS                                                                  \
	"'network':{'pools':{'internal':{'type':'bridge','bridge':'pvbr0',"    \
	"'subnet':'10.0.4.0/24','gateway':'10.0.4.1','nat':false}}}"

// Parses text (with ' for ") and leases, as pvd does; NULL when refused.
static struct pv_state *parse_q(const char *text_q, struct pv_errors *errs)
{
	char *text = kit_unq(text_q);
	struct pv_state *s;

	s = text ? pv_parser_parse_text("state.json", text, strlen(text), errs)
		 : NULL;
	if (s && pv_state_lease_addresses(s, errs)) {
		pv_state_free(s);
		s = NULL;
	}
	free(text);
	return s;
}

// Parses a state that must be refused with the line want_q.
static void expect_refused(const char *text_q, const char *want_q,
			   const char *where)
{
	struct pv_errors errs;
	struct pv_state *s;

	pv_errors_init(&errs);
	s = parse_q(text_q, &errs);
	kit_checks++;
	if (s) {
		kit_failures++;
		fprintf(stderr, "%s: state accepted\n", where);
	}
	kit_expect_line(&errs, want_q, where);
	pv_state_free(s);
	pv_errors_clear(&errs);
}

// Parses a state that must be accepted; prints the errors otherwise.
static struct pv_state *expect_ok(const char *text_q, const char *where)
{
	struct pv_errors errs;
	struct pv_state *s;

	pv_errors_init(&errs);
	s = parse_q(text_q, &errs);
	kit_checks++;
	if (!s) {
		kit_failures++;
		fprintf(stderr, "%s: state refused\n", where);
		pv_errors_print(&errs, stderr);
	}
	pv_errors_clear(&errs);
	return s;
}

static struct pv_platform_service_require *first_require(struct pv_state *s,
							 const char *name)
{
	struct pv_platform *p = s ? pv_state_find_platform(s, name) : NULL;

	if (!p || dl_list_empty(&p->requires))
		return NULL;
	return dl_list_first(&p->requires, struct pv_platform_service_require,
			     list);
}

// A provider exporting a tcp port and a unix socket, and a consumer.
#define PROVIDER                                                               \
	"'srv/run.json':{'name':'srv','exec':'x','network':{'pool':"           \
	"'internal'}},"                                                        \
	"'srv/services.json':{'services':[{'name':'web','type':'tcp',"         \
	"'port':80},{'name':'raw-unix','type':'unix','socket':"                \
	"'/run/raw.sock'}]}"

// A rest requirement is served on a socket in the consumer's root (an
// absolute path, or the default one without a target) or on an address,
// as its target says; anything else is refused as an address.
static void test_rest_requires(void)
{
	struct pv_platform_service_require *r;
	struct pv_state *s;

#define REST_STATE(req)                                                        \
	"{'device.json':{" POOLS "},'srv/run.json':{'name':'srv','exec':'x',"  \
	"'network':{'pool':'internal'}},'srv/services.json':{'services':[{"    \
	"'name':'api','type':'rest','port':8080}]},'app/run.json':{"           \
	"'name':'app','exec':'x','services':{'required':[" req "]}}}"

	s = expect_ok(REST_STATE("{'name':'api','target':'/run/api.sock'}"),
		      __func__);
	r = first_require(s, "app");
	CHECK(r && r->svc_type == SVC_TYPE_REST);
	CHECK_STR(r ? r->target : NULL, "/run/api.sock");
	pv_state_free(s);

	s = expect_ok(REST_STATE("{'name':'api','type':'rest'}"), __func__);
	r = first_require(s, "app");
	CHECK_STR(r ? r->target : NULL, "/run/pv/services/api.sock");
	pv_state_free(s);

	s = expect_ok(REST_STATE("{'name':'api'}"), __func__);
	r = first_require(s, "app");
	CHECK_STR(r ? r->target : NULL, "/run/pv/services/api.sock");
	pv_state_free(s);

	s = expect_ok(REST_STATE("{'name':'api','target':'127.0.0.1:9000'}"),
		      __func__);
	r = first_require(s, "app");
	CHECK_STR(r ? r->target : NULL, "127.0.0.1:9000");
	pv_state_free(s);

	expect_refused(REST_STATE("{'name':'api','target':'api.sock'}"),
		       "app/run.json: services.required[0].target: "
		       "'api.sock' is not an address (IP:PORT, [IPv6]:PORT or "
		       ":PORT)",
		       __func__);
#undef REST_STATE
}

// Requirements without "type" take the export's type, and the target is
// checked for that type; without "target", a unix requirement gets one
// under /run/pv/services/.
static void test_untyped_requires(void)
{
	struct pv_platform_service_require *r;
	struct pv_state *s;
	char *g;

	s = expect_ok("{'device.json':{" POOLS "}," PROVIDER
		      ",'app/run.json':{'name':'app','exec':'x','services':{"
		      "'required':[{'name':'raw-unix','target':"
		      "'/run/pv/services/raw-unix.sock'}]}}}",
		      __func__);
	r = first_require(s, "app");
	CHECK(r && r->svc_type == SVC_TYPE_UNIX);
	g = s ? pv_state_get_xconnect_graph_json(s) : NULL;
	CHECK(g && strstr(g, "{\"type\":\"unix\",\"name\":\"raw-unix\","
			     "\"consumer\":\"app\""));
	CHECK(g && strstr(g, "\"target\":\"/run/pv/services/raw-unix.sock\","
			     "\"socket\":\"/run/raw.sock\""));
	free(g);
	pv_state_free(s);

	s = expect_ok("{'device.json':{" POOLS "}," PROVIDER
		      ",'app/run.json':{'name':'app','exec':'x','services':{"
		      "'required':[{'name':'web','target':'127.0.0.1:8080'},"
		      "{'name':'raw-unix'}]}}}",
		      __func__);
	r = first_require(s, "app");
	CHECK(r && r->svc_type == SVC_TYPE_TCP);
	r = r ? dl_list_entry(r->list.next, struct pv_platform_service_require,
			      list)
	      : NULL;
	CHECK_STR(r ? r->target : NULL, "/run/pv/services/raw-unix.sock");
	pv_state_free(s);

	// The target is checked against the type the export gives.
	expect_refused(
		"{'device.json':{" POOLS "}," PROVIDER
		",'app/run.json':{'name':'app','exec':'x','services':{"
		"'required':[{'name':'web','target':'/run/web.sock'}]}}}",
		"app/run.json: services.required[0].target: "
		"'/run/web.sock' is not an address (IP:PORT, "
		"[IPv6]:PORT or :PORT)",
		__func__);
	expect_refused("{'device.json':{" POOLS "}," PROVIDER
		       ",'app/run.json':{'name':'app','exec':'x','services':{"
		       "'required':[{'name':'raw-unix','target':'run/x'}]}}}",
		       "app/run.json: services.required[0].target: 'run/x' is "
		       "not an absolute path (a socket path inside the "
		       "container)",
		       __func__);
	expect_refused("{'device.json':{" POOLS "}," PROVIDER
		       ",'app/run.json':{'name':'app','exec':'x','services':{"
		       "'required':[{'name':'web'}]}}}",
		       "app/run.json: services.required[0].target: missing (a "
		       "tcp requirement listens on IP:PORT inside this "
		       "container)",
		       __func__);
	// Naming an export nobody has is still an error.
	expect_refused(
		"{'device.json':{" POOLS "}," PROVIDER
		",'app/run.json':{'name':'app','exec':'x','services':{"
		"'required':[{'name':'ghost','target':'/run/g.sock'}]}}}",
		"app/run.json: services.required[0].name: no container "
		"exports 'ghost'",
		__func__);
}

// upstream's Test 10 providers: a REST server on a Unix socket, a socat
// echo on another; both on the host network, as upstream runs them.
#define REST_PROVIDERS                                                         \
	"'pv-example-rest-server/run.json':{'name':'pv-example-rest-server',"  \
	"'exec':'x'},'pv-example-rest-server/services.json':{'services':[{"    \
	"'name':'network-manager','type':'rest','socket':'/run/nm/api.sock'}"  \
	"]},'echo/run.json':{'name':'echo','exec':'x'},'echo/services.json':"  \
	"{'services':[{'name':'echo','type':'unix','socket':'/run/e.sock'}]}"
#define HTTP_RULE(name, ext)                                                   \
	"{'name':'" name "','type':'http','external':'" ext "',"               \
	"'provider':'pv-example-rest-server','service':'network-manager'}"
#define TCP_ECHO                                                               \
	"{'name':'echo','type':'tcp','external':'0.0.0.0:2222','provider':"    \
	"'echo','service':'echo'}"
#define INGRESS_STATE(rules)                                                   \
	"{'device.json':{" POOLS ",'ingress':[" rules "]}," REST_PROVIDERS "}"

// Ingress rules of type http (upstream's Test 10): IP:PORT with a path
// prefix, the whole target in the graph; rules on one address and port
// share it with different prefixes.
static void test_http_ingress(void)
{
	struct pv_ingress *in;
	struct pv_state *s;
	char *g;

	s = expect_ok(INGRESS_STATE(TCP_ECHO "," HTTP_RULE("rest-http-ingress",
							   "0.0.0.0:80/api")),
		      __func__);
	g = s ? pv_state_get_xconnect_graph_json(s) : NULL;
	CHECK(g && strstr(g, "{\"type\":\"http\",\"name\":\"network-manager\","
			     "\"consumer\":\"EXTERNAL\""));
	CHECK(g && strstr(g, "\"target\":\"0.0.0.0:80/api\",\"socket\":"
			     "\"/run/nm/api.sock\",\"ingress\":"
			     "\"rest-http-ingress\""));
	CHECK(g && strstr(g, "{\"type\":\"tcp\",\"name\":\"echo\""));
	in = s ? dl_list_entry(s->ingress.prev, struct pv_ingress, list) : NULL;
	CHECK_STR(in ? in->path : NULL, "/api");
	free(g);
	pv_state_free(s);

	// One port, several prefixes; no prefix is "/"; IPv6.
	s = expect_ok(
		INGRESS_STATE(HTTP_RULE("root", "0.0.0.0:80") "," HTTP_RULE(
			"api",
			":"
			"8"
			"0"
			"/"
			"a"
			"p"
			"i") "," HTTP_RULE("v1",
					   "0.0.0.0:80/api/v1") "," HTTP_RULE("six",
									      "[::1]:8080/"
									      "x-y.z~_%"
									      "41")),
		__func__);
	in = s ? dl_list_first(&s->ingress, struct pv_ingress, list) : NULL;
	CHECK_STR(in ? in->path : NULL, "/");
	g = s ? pv_state_get_xconnect_graph_json(s) : NULL;
	CHECK(g && strstr(g, "\"target\":\"0.0.0.0:80\",\"socket\""));
	CHECK(g && strstr(g, "\"target\":\":80/api\",\"socket\""));
	CHECK(g && strstr(g, "\"target\":\"[::1]:8080/x-y.z~_%41\""));
	free(g);
	pv_state_free(s);

	expect_refused(
		INGRESS_STATE(HTTP_RULE("a", "0.0.0.0:80/api") "," HTTP_RULE(
			"b", ":80/api")),
		"device.json: ingress[1].external: ':80/api' routes the "
		"same address, port and path prefix as ingress[0] a "
		"('0.0.0.0:80/api')",
		__func__);
	expect_refused(INGRESS_STATE(HTTP_RULE("a", "0.0.0.0:80") "," HTTP_RULE(
			       "b", "0.0.0.0:80/")),
		       "device.json: ingress[1].external: '0.0.0.0:80/' routes "
		       "the same address, port and path prefix as ingress[0] a "
		       "('0.0.0.0:80')",
		       __func__);
	expect_refused(
		INGRESS_STATE(TCP_ECHO "," HTTP_RULE("a", "0.0.0.0:2222/api")),
		"device.json: ingress[1].external: '0.0.0.0:2222/api' "
		"conflicts "
		"with ingress[0] echo ('0.0.0.0:2222'): an http rule shares "
		"its "
		"port 2222 only with other http rules",
		__func__);
	expect_refused(
		INGRESS_STATE(HTTP_RULE("a", "127.0.0.1:80/a") "," HTTP_RULE(
			"b", "0.0.0.0:80/b")),
		"device.json: ingress[1].external: '0.0.0.0:80/b' "
		"conflicts with ingress[0] a ('127.0.0.1:80/a'): both "
		"bind port 80",
		__func__);
	expect_refused(INGRESS_STATE(HTTP_RULE("a", "0.0.0.0/api")),
		       "device.json: ingress[0].external: '0.0.0.0/api' is not "
		       "an address with an optional path prefix (IP:PORT, "
		       "[IPv6]:PORT or :PORT, then /PATH)",
		       __func__);
	expect_refused(INGRESS_STATE(HTTP_RULE("a", "0.0.0.0:80/api/")),
		       "device.json: ingress[0].external: '0.0.0.0:80/api/': "
		       "'/api/' is not a path prefix (`/` segments of URI path "
		       "characters, none empty, `.` or `..`, no `/` at the "
		       "end)",
		       __func__);
	expect_refused(INGRESS_STATE(HTTP_RULE("a", "0.0.0.0:80/a b")),
		       "device.json: ingress[0].external: '0.0.0.0:80/a b': "
		       "'/a b' is not a path prefix (`/` segments of URI path "
		       "characters, none empty, `.` or `..`, no `/` at the "
		       "end)",
		       __func__);
	expect_refused(INGRESS_STATE(HTTP_RULE("a", "0.0.0.0:80/a/../b")),
		       "device.json: ingress[0].external: '0.0.0.0:80/a/../b': "
		       "'/a/../b' is not a path prefix (`/` segments of URI "
		       "path characters, none empty, `.` or `..`, no `/` at "
		       "the end)",
		       __func__);
	expect_refused(INGRESS_STATE(HTTP_RULE("a", "0.0.0.0:80//a")),
		       "device.json: ingress[0].external: '0.0.0.0:80//a': "
		       "'//a' is not a path prefix (`/` segments of URI path "
		       "characters, none empty, `.` or `..`, no `/` at the "
		       "end)",
		       __func__);
	// A tcp rule has no prefix; an http rule needs an http-like export.
	expect_refused(INGRESS_STATE("{'name':'a','type':'tcp','external':"
				     "'0.0.0.0:80/api','provider':'echo',"
				     "'service':'echo'}"),
		       "device.json: ingress[0].external: '0.0.0.0:80/api' is "
		       "not an address (IP:PORT, [IPv6]:PORT or :PORT)",
		       __func__);
	expect_refused(INGRESS_STATE("{'name':'a','type':'http','external':"
				     "'0.0.0.0:80','provider':'echo',"
				     "'service':'echo'}"),
		       "device.json: ingress[0].service: 'echo' of container "
		       "echo is a unix service; an http ingress forwards to "
		       "http, rest or tcp services",
		       __func__);
}

// upstream's run.json frame, with the command in lxc.container.conf.
#define UPSTREAM_RUN(conf_key)                                                 \
	"'app/run.json':{'#spec':'service-manifest-run@1','name':'app',"       \
	"'type':'lxc','config':'" conf_key "','root-volume':'root.squashfs',"  \
	"'volumes':[],'storage':{'lxc-overlay':{'persistence':'boot'}},"       \
	"'drivers':{'required':[]},'group':'app','env':{'B':'run'}}"

// Without "exec", lxc.init.cmd (split at spaces, as liblxc does) and
// lxc.environment come from the lxc.container.conf that "config" names;
// run.json's "env" wins over the configuration's.
static void test_exec_from_lxc_conf(void)
{
	struct pv_platform *p;
	struct pv_state *s;
	char **e;
	int n;

	s = expect_ok(
		"{" UPSTREAM_RUN(
			"lxc.container.conf") ","
					      "'app/"
					      "lxc.container.conf':'lxc.tty."
					      "max = 0\\n"
					      "# lxc.init.cmd = /bin/false\\n"
					      "lxc.init.cmd = /bin/sh -c "
					      "exit\\n"
					      "lxc.environment = A=conf\\n"
					      "lxc.environment=B=conf\\n"
					      "lxc.environment = PATH\\n'}",
		__func__);
	p = s ? pv_state_find_platform(s, "app") : NULL;
	CHECK(p && p->exec);
	if (p && p->exec) {
		CHECK_STR(p->exec[0], "/bin/sh");
		CHECK_STR(p->exec[1], "-c");
		CHECK_STR(p->exec[2], "exit");
		CHECK(p->exec[3] == NULL);
	}
	for (n = 0, e = p ? p->env : NULL; e && *e; e++, n++)
		;
	CHECK(n == 2);
	CHECK_STR(p && p->env ? p->env[0] : NULL, "B=run");
	CHECK_STR(p && p->env && n > 1 ? p->env[1] : NULL, "A=conf");
	pv_state_free(s);

	// "exec" wins over the configuration.
	s = expect_ok("{'a/run.json':{'name':'a','exec':['/bin/true'],"
		      "'config':'lxc.container.conf'},'a/lxc.container.conf':"
		      "'lxc.init.cmd = /bin/false'}",
		      __func__);
	p = s ? pv_state_find_platform(s, "a") : NULL;
	CHECK_STR(p && p->exec ? p->exec[0] : NULL, "/bin/true");
	pv_state_free(s);

	// One line saying what pvd needs.
	expect_refused("{" UPSTREAM_RUN("lxc.container.conf") "}",
		       "app/run.json: exec: missing, and "
		       "app/lxc.container.conf is not in the state: pvd runs "
		       "containers on the host`s root and needs 'exec' (an "
		       "argv array, or a command string) or the text of "
		       "that file with lxc.init.cmd",
		       __func__);
	expect_refused(
		"{" UPSTREAM_RUN(
			"lxc.container.conf") ","
					      "'app/"
					      "lxc.container.conf':'"
					      "0123456789abcdef0123456789"
					      "abcdef0123456789abcdef0123456789"
					      "abcdef'}",
		"app/run.json: exec: missing, and "
		"app/lxc.container.conf is an object`s sha256, not the "
		"file`s text (give the text, or a state directory): pvd "
		"runs containers on the host`s root and needs 'exec' (an "
		"argv array, or a command string) or the text "
		"of that file with lxc.init.cmd",
		__func__);
	expect_refused(
		"{" UPSTREAM_RUN("lxc.container.conf") ","
						       "'app/"
						       "lxc.container.conf':'"
						       "lxc.tty.max = 0'}",
		"app/run.json: exec: missing, and app/lxc.container.conf "
		"has no lxc.init.cmd: pvd runs containers on the host`s "
		"root and needs 'exec' (an argv array, or a command "
		"string)",
		__func__);
	expect_refused("{" UPSTREAM_RUN("../x.conf") "}",
		       "app/run.json: config: '../x.conf' is not a file of the "
		       "container`s directory (a relative path without `.` or "
		       "`..` parts)",
		       __func__);
	expect_refused("{'a/run.json':{'name':'a','config':42}}",
		       "a/run.json: config: expected a string, got 42",
		       __func__);
}

// The directory form reads NAME/lxc.container.conf from the directory.
static void test_exec_from_lxc_conf_dir(void)
{
	char dir[] = "/tmp/pv-test-upstream.XXXXXX", path[300];
	struct pv_errors errs;
	struct pv_platform *p;
	struct pv_state *s;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/app", dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/app/run.json", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("{\"name\":\"app\",\"type\":\"lxc\",\"config\":"
		      "\"lxc.container.conf\",\"root-volume\":\"root."
		      "squashfs\"}",
		      f);
		fclose(f);
	}
	pv_errors_init(&errs);
	s = pv_parser_load(dir, &errs);
	CHECK(s == NULL);
	kit_expect_line(
		&errs,
		"app/run.json: exec: missing, and app/lxc.container.conf "
		"cannot open: No such file or directory: pvd runs "
		"containers on the host`s root and needs 'exec' (an argv "
		"array, or a command string) or the text of that "
		"file with lxc.init.cmd",
		__func__);
	pv_errors_clear(&errs);

	snprintf(path, sizeof(path), "%s/app/lxc.container.conf", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("lxc.init.cmd = \"/usr/bin/env A=1\"\n", f);
		fclose(f);
	}
	pv_errors_init(&errs);
	s = pv_parser_load(dir, &errs);
	CHECK(s != NULL);
	p = s ? pv_state_find_platform(s, "app") : NULL;
	CHECK_STR(p && p->exec ? p->exec[0] : NULL, "/usr/bin/env");
	CHECK_STR(p && p->exec ? p->exec[1] : NULL, "A=1");
	pv_state_free(s);
	pv_errors_clear(&errs);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);
}

static struct pv_platform *platform(struct pv_state *s, const char *name)
{
	return s ? pv_state_find_platform(s, name) : NULL;
}

// upstream's restart policies and auto_recovery, with defaults from the
// container's group: device.json's groups, or upstream's default groups
// when it declares none.
static void test_restart_policy_and_groups(void)
{
	struct pv_platform *p;
	struct pv_state *s;

	s = expect_ok(
		"{'device.json':{'groups':["
		"{'name':'sys','status_goal':'STARTED','restart_policy':'"
		"system',"
		"'timeout':30},"
		"{'name':'apps','description':'x','status_goal':'ready',"
		"'restart_policy':'container','auto_recovery':{'policy':"
		"'always','max_retries':3,'retry_delay':0.2,'backoff_factor':"
		"1.5,'reset_window':60,'stable_timeout':5,'backoff_policy':"
		"'never'}}]},"
		"'a/run.json':{'name':'a','exec':'x','group':'sys'},"
		"'b/run.json':{'name':'b','exec':'x','group':'apps'},"
		"'c/run.json':{'name':'c','exec':'x','group':'apps',"
		"'restart_policy':'system','status_goal':'MOUNTED',"
		"'auto_recovery':{'policy':'on-failure'}},"
		"'d/run.json':{'name':'d','exec':'x','restart_policy':"
		"'on-failure'},"
		"'e/run.json':{'name':'e','exec':'x'}}",
		__func__);
	p = platform(s, "a");
	CHECK(p && p->restart_policy == RESTART_SYSTEM && !p->recovery.set);
	CHECK_STR(p ? p->status_goal : NULL, "STARTED");
	CHECK_STR(p ? p->group : NULL, "sys");
	p = platform(s, "b");
	CHECK(p && p->restart_policy == RESTART_CONTAINER);
	CHECK_STR(p ? p->status_goal : NULL, "READY");
	CHECK(p && p->recovery.set && p->recovery.policy == RECOVERY_ALWAYS &&
	      p->recovery.max_retries == 3 &&
	      p->recovery.retry_delay_ms == 200 &&
	      p->recovery.backoff_milli == 1500 &&
	      p->recovery.reset_window_ms == 60000);
	// Its own auto_recovery is taken whole: no field from the group.
	p = platform(s, "c");
	CHECK(p && p->restart_policy == RESTART_SYSTEM);
	CHECK_STR(p ? p->status_goal : NULL, "MOUNTED");
	CHECK(p && p->recovery.set &&
	      p->recovery.policy == RECOVERY_ON_FAILURE &&
	      p->recovery.max_retries == 0 && p->recovery.retry_delay_ms == 0 &&
	      p->recovery.backoff_milli == 1000);
	p = platform(s, "d");
	CHECK(p && p->restart_policy == RESTART_ON_FAILURE && !p->recovery.set);
	// No group, no policy: pvd's default.
	p = platform(s, "e");
	CHECK(p && p->restart_policy == RESTART_NO && !p->group);
	CHECK_STR(p ? p->status_goal : NULL, "STARTED");
	pv_state_free(s);

	// upstream's default groups when device.json has none; "container"
	// without auto_recovery restarts after 5, 10, 20 s, 5 times.
	s = expect_ok("{'a/run.json':{'name':'a','exec':'x','group':'app'},"
		      "'b/run.json':{'name':'b','exec':'x','group':'platform'},"
		      "'c/run.json':{'name':'c','exec':'x','restart_policy':"
		      "'container'}}",
		      __func__);
	p = platform(s, "a");
	CHECK(p && p->restart_policy == RESTART_CONTAINER && p->recovery.set &&
	      p->recovery.policy == RECOVERY_ON_FAILURE &&
	      p->recovery.max_retries == 5 &&
	      p->recovery.retry_delay_ms == 5000 &&
	      p->recovery.backoff_milli == 2000);
	p = platform(s, "b");
	CHECK(p && p->restart_policy == RESTART_SYSTEM && !p->recovery.set);
	p = platform(s, "c");
	CHECK(p && p->recovery.set && p->recovery.max_retries == 5);
	pv_state_free(s);

	// upstream's other spelling of two keys.
	s = expect_ok("{'a/run.json':{'name':'a','exec':'x','auto_recovery':{"
		      "'type':'always','maximum_retry_count':2}}}",
		      __func__);
	p = platform(s, "a");
	CHECK(p && p->recovery.policy == RECOVERY_ALWAYS &&
	      p->recovery.max_retries == 2);
	pv_state_free(s);

	expect_refused(
		"{'a/run.json':{'name':'a','exec':'x','group':'apps'},"
		"'device.json':{'groups':[{'name':'sys'}]}}",
		"a/run.json: group: 'apps' is not a group of device.json "
		"groups (sys)",
		__func__);
	expect_refused(
		"{'a/run.json':{'name':'a','exec':'x','group':'apps'}}",
		"a/run.json: group: 'apps' is not a group of device.json "
		"groups (upstream`s defaults: data, root, platform, "
		"app)",
		__func__);
	expect_refused("{'a/run.json':{'name':'a','exec':'x','restart_policy':"
		       "'reboot'}}",
		       "a/run.json: restart_policy: 'reboot' is not a restart "
		       "policy (container, system, no, on-failure, always)",
		       __func__);
	expect_refused(
		"{'a/run.json':{'name':'a','exec':'x','status_goal':"
		"'RUNNING'}}",
		"a/run.json: status_goal: 'RUNNING' is not a status goal "
		"(MOUNTED, STARTED, READY)",
		__func__);
	expect_refused("{'a/run.json':{'name':'a','exec':'x','auto_recovery':{"
		       "'policy':'sometimes'}}}",
		       "a/run.json: auto_recovery.policy: 'sometimes' is not a "
		       "recovery policy (no, on-failure, always, "
		       "unless-stopped)",
		       __func__);
	expect_refused("{'a/run.json':{'name':'a','exec':'x','auto_recovery':{"
		       "'retry_delay':'5'}}}",
		       "a/run.json: auto_recovery.retry_delay: '5' is not a "
		       "number of seconds in 0..86400 (at most 3 decimals)",
		       __func__);
	expect_refused("{'a/run.json':{'name':'a','exec':'x','auto_recovery':{"
		       "'retry_delay':0.0001}}}",
		       "a/run.json: auto_recovery.retry_delay: 0.0001 is not a "
		       "number of seconds in 0..86400 (at most 3 decimals)",
		       __func__);
	expect_refused("{'a/run.json':{'name':'a','exec':'x','auto_recovery':{"
		       "'backoff_factor':0.5}}}",
		       "a/run.json: auto_recovery.backoff_factor: 0.5 is not a "
		       "factor in 1..100 (at most 3 decimals)",
		       __func__);
	expect_refused("{'a/run.json':{'name':'a','exec':'x','auto_recovery':{"
		       "'max_retries':-1}}}",
		       "a/run.json: auto_recovery.max_retries: -1 is not an "
		       "integer in 0..1000",
		       __func__);
	expect_refused("{'device.json':{'groups':[{'name':'g'},{'name':'g'}]}}",
		       "device.json: groups[1].name: 'g' is declared twice",
		       __func__);
	expect_refused("{'device.json':{'groups':{'name':'g'}}}",
		       "device.json: groups: expected an array, got {'name':"
		       "'g'}",
		       __func__);
	expect_refused("{'device.json':{'groups':[{'restart_policy':'x'}]}}",
		       "device.json: groups[0].name: missing", __func__);
}

// No "network" is the host's network, as upstream; "none" (or mode none)
// is the explicit way to a private loopback.
static void test_network_absent_is_host(void)
{
	struct pv_platform *p;
	struct pv_state *s;
	char *g;

	s = expect_ok("{'a/run.json':{'name':'a','exec':'x'},"
		      "'a/services.json':{'services':[{'name':'web','type':"
		      "'tcp','port':8000}]},"
		      "'b/run.json':{'name':'b','exec':'x','network':'none'},"
		      "'c/run.json':{'name':'c','exec':'x','network':{'mode':"
		      "'none'}},"
		      "'d/run.json':{'name':'d','exec':'x','network':{"
		      "'hostname':'dee'}},"
		      "'device.json':{'ingress':[{'name':'web','type':'tcp',"
		      "'external':':9000','provider':'a','service':'web'}]}}",
		      __func__);
	p = platform(s, "a");
	CHECK(p && p->network.mode == NET_MODE_HOST);
	p = platform(s, "b");
	CHECK(p && p->network.mode == NET_MODE_NONE);
	p = platform(s, "c");
	CHECK(p && p->network.mode == NET_MODE_NONE);
	p = platform(s, "d");
	CHECK(p && p->network.mode == NET_MODE_HOST);
	CHECK_STR(p ? p->network.hostname : NULL, "dee");
	// A host-network backend is reached on the host's loopback.
	g = s ? pv_state_get_xconnect_graph_json(s) : NULL;
	CHECK(g && strstr(g, "\"socket\":\"127.0.0.1:8000\""));
	free(g);
	pv_state_free(s);
}

// Keys pvd does not know are ignored in upstream's files, as upstream
// ignores them, and the "#spec" of run.json and services.json is not
// checked; pvd's own sections (ingress options) stay strict.
static void test_unknown_keys_ignored(void)
{
	struct pv_state *s;

	s = expect_ok(
		"{'#spec':'pantavisor-service-system@1',"
		"'device.json':{'disks':[],'volumes':{},'network':{'pools':{"
		"'internal':{'type':'bridge','bridge':'pvbr0','subnet':"
		"'10.0.4.0/24','gateway':'10.0.4.1','nat':false,'parent':"
		"'eth0','future':1}}},'groups':[{'name':'app','x':1,"
		"'auto_recovery':{'policy':'no','stable_timeout':3}}]},"
		"'a/run.json':{'#spec':'service-manifest-run@9','name':'a',"
		"'type':'lxc','exec':'x','logs':[],'exports':[],'drivers':{"
		"'required':['wifi']},'storage':{},'volumes':['v.squashfs'],"
		"'share':'x','frobnicate':{'a':[1,2]},'group':'app',"
		"'network':{'pool':'internal','future':true},'services':{"
		"'required':[{'name':'svc','type':'unix','target':'/run/"
		"s.sock',"
		"'zzz':1}],'optional':[{'name':'nothing'}],'manual':[]}},"
		"'a/services.json':{'#spec':'service-manifest-xconnect@2',"
		"'services':[{'name':'svc','type':'unix','socket':'/run/"
		"x.sock',"
		"'description':'d'}]},"
		"'_sigs/a.json':{'#spec':'pvs@2'},'_config/a/etc/x':'y'}",
		__func__);
	pv_state_free(s);
	expect_refused(
		"{'device.json':{" POOLS ",'ingress':[{'name':'r',"
		"'type':'tcp','external':':80','provider':'a','service':"
		"'s','ballance':'first'}]},'a/run.json':{'name':'a',"
		"'exec':'x','network':'none'},'a/services.json':[{'name':"
		"'s','type':'unix','socket':'/run/s'}]}",
		"device.json: ingress[0].ballance: unknown field", __func__);
}

int main(void)
{
	RUN(test_untyped_requires);
	RUN(test_rest_requires);
	RUN(test_http_ingress);
	RUN(test_exec_from_lxc_conf);
	RUN(test_exec_from_lxc_conf_dir);
	RUN(test_restart_policy_and_groups);
	RUN(test_network_absent_is_host);
	RUN(test_unknown_keys_ignored);
	return kit_report("test_parser_upstream");
}
