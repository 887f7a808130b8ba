// Graph parsing and link identity: what pv-xconnect accepts from pvd, what
// it refuses (one line naming the link and field), and the keying traps of
// the original design.

#include <stdlib.h>
#include <string.h>

#include "tests/unit/kit.h"
#include "utils/addr.h"
#include "xconnect.h"

// Parses text into g; returns the parse status, errors joined in errbuf.
static int parse(struct pvx_graph *g, const char *text, char *errbuf, size_t n)
{
	struct pv_errors errs;
	int rc, i;

	pvx_graph_init(g);
	pv_errors_init(&errs);
	rc = pvx_graph_parse(g, text, strlen(text), &errs);
	errbuf[0] = '\0';
	for (i = 0; i < errs.count; i++) {
		strncat(errbuf, errs.lines[i], n - strlen(errbuf) - 2);
		strcat(errbuf, "\n");
	}
	pv_errors_clear(&errs);
	return rc;
}

static struct pvx_link *nth(struct pvx_graph *g, int n)
{
	struct pvx_link *l;

	dl_list_for_each (l, &g->links, struct pvx_link, list) {
		if (n-- == 0)
			return l;
	}
	return NULL;
}

static void test_full_link(void)
{
	const char *text =
		"[{\"type\":\"tcp\",\"name\":\"nginx-http\",\"consumer\":"
		"\"EXTERNAL\",\"consumer_pid\":0,\"provider\":\"nginx\","
		"\"provider_pid\":4242,\"role\":\"EXTERNAL\",\"interface\":"
		"null,"
		"\"target\":\"0.0.0.0:80\",\"socket\":\"10.0.4.2:80\","
		"\"ingress\":\"web\",\"balance\":\"leastconn\",\"timeouts\":{"
		"\"connect_ms\":1500,\"idle_ms\":30000},\"maxconn\":100,"
		"\"check\":{\"type\":\"http\",\"path\":\"/health\","
		"\"expect\":200,\"interval_ms\":500,\"rise\":2,\"fall\":3}}]";
	struct pvx_graph g;
	struct pvx_link *l;
	char errs[1024];

	CHECK(parse(&g, text, errs, sizeof(errs)) == 0);
	CHECK_STR(errs, "");
	CHECK(g.count == 1);
	l = nth(&g, 0);
	CHECK(l != NULL);
	if (!l)
		return;
	CHECK_STR(l->label, "web");
	CHECK_STR(l->name, "nginx-http");
	CHECK_STR(l->socket, "10.0.4.2:80");
	CHECK_STR(l->target, "0.0.0.0:80");
	CHECK(l->interface == NULL);
	CHECK(l->provider_pid == 4242);
	CHECK(l->balance == PVX_BALANCE_LEASTCONN);
	CHECK(l->connect_ms == 1500);
	CHECK(l->idle_ms == 30000);
	CHECK(l->maxconn == 100);
	CHECK(l->check.type == PVX_CHECK_HTTP);
	CHECK_STR(l->check.path, "/health");
	CHECK(l->check.interval_ms == 500 && l->check.rise == 2 &&
	      l->check.fall == 3);
	pvx_graph_clear(&g);
}

#define HTTP_LINK(extra)                                                       \
	"[{\"type\":\"http\",\"name\":\"api\",\"consumer\":\"EXTERNAL\","      \
	"\"provider\":\"app\",\"target\":\"0.0.0.0:8080\",\"socket\":"         \
	"\"/run/api.sock\",\"ingress\":\"api\"" extra "}]"

// The one link of a one-link graph text, parsed into g (no errors).
static struct pvx_link *only_link(struct pvx_graph *g, const char *text)
{
	char errs[1024];

	CHECK(parse(g, text, errs, sizeof(errs)) == 0);
	CHECK_STR(errs, "");
	CHECK(g->count == 1);
	return nth(g, 0);
}

// An http link's limits: read when present, 0 (the engine's default)
// when absent, and a change of any of them is an update.
static void test_http_limits(void)
{
	static const char *const changed[] = {
		HTTP_LINK(",\"timeouts\":{\"head_ms\":501,\"response_ms\":"
			  "7000},\"max_head_bytes\":4096,\"max_headers\":20"),
		HTTP_LINK(",\"timeouts\":{\"head_ms\":500,\"response_ms\":"
			  "7001},\"max_head_bytes\":4096,\"max_headers\":20"),
		HTTP_LINK(",\"timeouts\":{\"head_ms\":500,\"response_ms\":"
			  "7000},\"max_head_bytes\":4097,\"max_headers\":20"),
		HTTP_LINK(",\"timeouts\":{\"head_ms\":500,\"response_ms\":"
			  "7000},\"max_head_bytes\":4096,\"max_headers\":21"),
		HTTP_LINK(""),
	};
	const char *text = HTTP_LINK(
		",\"timeouts\":{\"head_ms\":500,\"response_ms\":7000},"
		"\"max_head_bytes\":4096,\"max_headers\":20");
	struct pvx_graph g, g2;
	struct pvx_link *l, *l2;
	size_t i;

	l = only_link(&g, text);
	CHECK(l != NULL);
	if (!l)
		return;
	CHECK(l->head_ms == 500);
	CHECK(l->response_ms == 7000);
	CHECK(l->max_head_bytes == 4096);
	CHECK(l->max_headers == 20);
	// The limits leave the tcp ones alone.
	CHECK(l->connect_ms == 0 && l->idle_ms == -1);
	// The same text is the same link.
	l2 = only_link(&g2, text);
	CHECK(l2 && pvx_link_equal(l, l2));
	pvx_graph_clear(&g2);
	for (i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
		l2 = only_link(&g2, changed[i]);
		CHECK(l2 && !pvx_link_equal(l, l2) && !pvx_link_equal(l2, l));
		// Still one identity: an update in place, not a new link.
		CHECK(l2 && !strcmp(l->key, l2->key));
		if (i == sizeof(changed) / sizeof(changed[0]) - 1)
			CHECK(l2 && !l2->head_ms && !l2->response_ms &&
			      !l2->max_head_bytes && !l2->max_headers);
		pvx_graph_clear(&g2);
	}
	pvx_graph_clear(&g);
	// The bounds themselves are accepted.
	l = only_link(&g, HTTP_LINK(",\"timeouts\":{\"head_ms\":1,"
				    "\"response_ms\":86400000},"
				    "\"max_head_bytes\":256,"
				    "\"max_headers\":1000"));
	CHECK(l && l->head_ms == 1 && l->response_ms == 86400000 &&
	      l->max_head_bytes == 256 && l->max_headers == 1000);
	pvx_graph_clear(&g);
}

// The trap: links keyed by (consumer, name) collapsed two ingress rules to
// one service, and two providers of one service, into one link.
static void test_keys_do_not_collapse(void)
{
	const char *text =
		"[{\"type\":\"tcp\",\"name\":\"web\",\"consumer\":\"EXTERNAL\","
		"\"provider\":\"nginx\",\"target\":\":80\",\"socket\":"
		"\"10.0.4.2:80\",\"ingress\":\"http\"},"
		"{\"type\":\"tcp\",\"name\":\"web\",\"consumer\":\"EXTERNAL\","
		"\"provider\":\"nginx\",\"target\":\":8080\",\"socket\":"
		"\"10.0.4.2:80\",\"ingress\":\"http-alt\"},"
		"{\"type\":\"tcp\",\"name\":\"app\",\"consumer\":\"EXTERNAL\","
		"\"provider\":\"app1\",\"target\":\":9999\",\"socket\":"
		"\"/run/a.sock\",\"ingress\":\"lb\"},"
		"{\"type\":\"tcp\",\"name\":\"app\",\"consumer\":\"EXTERNAL\","
		"\"provider\":\"app2\",\"target\":\":9999\",\"socket\":"
		"\"/run/a.sock\",\"ingress\":\"lb\"},"
		"{\"type\":\"tcp\",\"name\":\"db\",\"consumer\":\"web\","
		"\"consumer_pid\":7,\"provider\":\"pg\",\"target\":"
		"\"127.0.0.1:5432\",\"socket\":\"10.0.4.3:5432\"},"
		"{\"type\":\"tcp\",\"name\":\"db\",\"consumer\":\"web\","
		"\"consumer_pid\":7,\"provider\":\"pg\",\"target\":"
		"\"127.0.0.1:5433\",\"socket\":\"10.0.4.3:5432\"}]";
	struct pvx_graph g;
	char errs[1024];
	int i, j;

	CHECK(parse(&g, text, errs, sizeof(errs)) == 0);
	CHECK_STR(errs, "");
	CHECK(g.count == 6);
	for (i = 0; i < g.count; i++)
		for (j = i + 1; j < g.count; j++)
			CHECK(strcmp(nth(&g, i)->key, nth(&g, j)->key) != 0);
	pvx_graph_clear(&g);
}

// A field that does not fit skips that link only, with a line naming it.
static void test_bad_links_skipped(void)
{
	static const struct {
		const char *link;
		const char *error;
	} cases[] = {
		{ "{\"type\":\"tcp\",\"name\":\"a\",\"provider\":\"p\","
		  "\"target\":\":80\",\"socket\":\"10.0.0.1:80abc\","
		  "\"ingress\":\"a\"}",
		  "graph: link[1] (a): socket: \"10.0.0.1:80abc\" is neither" },
		{ "{\"type\":\"tcp\",\"name\":\"b\",\"provider\":\"p\","
		  "\"target\":\"localhost:80\",\"ingress\":\"b\"}",
		  "graph: link[1] (b): target: \"localhost:80\" is not an "
		  "address" },
		{ "{\"type\":\"tcp\",\"name\":\"c\",\"provider\":\"p\","
		  "\"target\":\":80\",\"provider_pid\":\"12\","
		  "\"ingress\":\"c\"}",
		  "graph: link[1] (c): provider_pid: \"12\" is not an "
		  "integer" },
		{ "{\"type\":7,\"name\":\"d\",\"provider\":\"p\","
		  "\"target\":\":80\",\"ingress\":\"d\"}",
		  "graph: link[1] (d): type: 7 is not a string" },
		{ "{\"type\":\"tcp\",\"provider\":\"p\",\"target\":\":80\"}",
		  "graph: link[1]: name: missing" },
		{ "{\"type\":\"tcp\",\"name\":\"e\",\"provider\":\"p\","
		  "\"target\":\"127.0.0.1:1\"}",
		  "graph: link[1] (e): consumer: missing" },
		{ "{\"type\":\"tcp\",\"name\":\"f\",\"provider\":\"p\","
		  "\"target\":\":80\",\"ingress\":\"f\",\"balance\":"
		  "\"random\"}",
		  "graph: link[1] (f): balance: \"random\" is not" },
		{ "{\"type\":\"tcp\",\"name\":\"g\",\"provider\":\"p\","
		  "\"target\":\":80\",\"ingress\":\"g\",\"timeouts\":{"
		  "\"connect_ms\":-5}}",
		  "graph: link[1] (g): connect_ms: -5 is not an integer" },
		{ "{\"type\":\"http\",\"name\":\"i\",\"provider\":\"p\","
		  "\"target\":\":80\",\"ingress\":\"i\",\"timeouts\":{"
		  "\"head_ms\":0}}",
		  "graph: link[1] (i): head_ms: 0 is not an integer in "
		  "1..3600000" },
		{ "{\"type\":\"http\",\"name\":\"j\",\"provider\":\"p\","
		  "\"target\":\":80\",\"ingress\":\"j\",\"timeouts\":{"
		  "\"response_ms\":86400001}}",
		  "graph: link[1] (j): response_ms: 86400001 is not an integer "
		  "in 1..86400000" },
		{ "{\"type\":\"http\",\"name\":\"k\",\"provider\":\"p\","
		  "\"target\":\":80\",\"ingress\":\"k\","
		  "\"max_head_bytes\":1048577}",
		  "graph: link[1] (k): max_head_bytes: 1048577 is not an "
		  "integer in 256..1048576" },
		{ "{\"type\":\"http\",\"name\":\"l\",\"provider\":\"p\","
		  "\"target\":\":80\",\"ingress\":\"l\","
		  "\"max_headers\":\"100\"}",
		  "graph: link[1] (l): max_headers: \"100\" is not an integer "
		  "in 1..1000" },
		{ "[1,2]", "graph: link[1]: link: not an object" },
		{ "{\"type\":\"tcp\",\"name\":\"h\",\"provider\":\"p\","
		  "\"target\":\":80\",\"socket\":\"/ok\",\"ingress\":\"good\"}",
		  "graph: link[1] (good): provider: duplicate" },
	};
	const char *good = "{\"type\":\"tcp\",\"name\":\"ok\",\"provider\":"
			   "\"p\",\"target\":\":80\",\"socket\":\"/ok\","
			   "\"ingress\":\"good\"}";
	char text[2048], errs[1024];
	struct pvx_graph g;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[%s,%s]", good, cases[i].link);
		CHECK(parse(&g, text, errs, sizeof(errs)) == 0);
		// The good link stays; the bad one is named.
		CHECK(g.count == 1);
		CHECK(g.count >= 1 && !strcmp(nth(&g, 0)->label, "good"));
		if (strncmp(errs, cases[i].error, strlen(cases[i].error)))
			CHECK_STR(errs, cases[i].error);
		pvx_graph_clear(&g);
	}
}

// Host backends (provider "_host_") of one rule are told apart by their
// address; the same address twice is still a duplicate.
static void test_host_backends(void)
{
	const char *fmt = "{\"type\":\"tcp\",\"name\":\"w\",\"provider\":"
			  "\"_host_\",\"target\":\":80\",\"socket\":\"%s\","
			  "\"ingress\":\"w\"}";
	char a[256], b[256], c[256], text[1024], errs[512];
	struct pvx_graph g;

	snprintf(a, sizeof(a), fmt, "/run/a.sock");
	snprintf(b, sizeof(b), fmt, "127.0.0.1:8000");
	snprintf(c, sizeof(c), fmt, "/run/a.sock");
	snprintf(text, sizeof(text), "[%s,%s,%s]", a, b, c);
	CHECK(parse(&g, text, errs, sizeof(errs)) == 0);
	CHECK(g.count == 2);
	CHECK(!strncmp(errs, "graph: link[2] (w): provider: duplicate", 39));
	pvx_graph_clear(&g);
}

// A check path goes on the check's request line as it is.
static void test_check_path(void)
{
	const char *fmt = "[{\"type\":\"tcp\",\"name\":\"w\",\"provider\":"
			  "\"p\",\"target\":\":80\",\"ingress\":\"w\","
			  "\"check\":{\"type\":\"http\",\"path\":\"%s\"}}]";
	static const char *const bad_paths[] = { "health", "/a b",
						 "/h\\r\\nX-Evil: 1" };
	char text[512], errs[512];
	struct pvx_graph g;
	size_t i;

	snprintf(text, sizeof(text), fmt, "/healthz?full=1");
	CHECK(parse(&g, text, errs, sizeof(errs)) == 0);
	CHECK(g.count == 1);
	CHECK(g.count && !strcmp(nth(&g, 0)->check.path, "/healthz?full=1"));
	pvx_graph_clear(&g);
	for (i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		snprintf(text, sizeof(text), fmt, bad_paths[i]);
		CHECK(parse(&g, text, errs, sizeof(errs)) == 0);
		CHECK(g.count == 0);
		CHECK(strstr(errs, "check.path:") != NULL);
		CHECK(strchr(errs, '\r') == NULL);
		pvx_graph_clear(&g);
	}
}

static void test_bad_documents(void)
{
	static const char *const docs[] = {
		"",
		"not json",
		"{\"type\":\"tcp\"}",
		"[{\"a\":1}",
		"\"[]\"",
		"[{\"type\":\"tcp\",}]",
		"[{\"a\":1} {\"b\":2}]",
	};
	struct pvx_graph g;
	char errs[512];
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		CHECK(parse(&g, docs[i], errs, sizeof(errs)) == -1);
		CHECK(g.count == 0);
		CHECK(!strncmp(errs, "graph: ", 7));
	}
	CHECK(parse(&g, "[]", errs, sizeof(errs)) == 0);
	CHECK(g.count == 0);
}

// null means absent; socket absent means "not known yet".
static void test_nulls(void)
{
	struct pvx_graph g;
	char errs[512];
	struct pvx_link *l;

	CHECK(parse(&g,
		    "[{\"type\":\"tcp\",\"name\":\"n\",\"provider\":\"p\","
		    "\"target\":\"[::1]:8080\",\"socket\":null,\"ingress\":"
		    "\"n\",\"role\":null,\"balance\":null}]",
		    errs, sizeof(errs)) == 0);
	CHECK_STR(errs, "");
	l = nth(&g, 0);
	CHECK(l && !strcmp(l->socket, "") && l->role == NULL &&
	      l->balance == PVX_BALANCE_ROUNDROBIN);
	pvx_graph_clear(&g);
}

// Client networks: IPv4 and IPv6 prefixes, IPv4-mapped clients, odd
// prefix lengths; a bad entry skips the link.
static void test_allow(void)
{
	struct pvx_graph g;
	struct pvx_link *l;
	struct sockaddr_storage a;
	socklen_t len;
	char errs[512];

	CHECK(parse(&g,
		    "[{\"type\":\"tcp\",\"name\":\"n\",\"provider\":\"p\","
		    "\"target\":\":80\",\"ingress\":\"n\",\"allow\":["
		    "\"10.0.4.0/24\",\"192.168.0.0/13\",\"fd00::/8\"]}]",
		    errs, sizeof(errs)) == 0);
	CHECK_STR(errs, "");
	l = nth(&g, 0);
	CHECK(l && l->nallow == 3);
	if (!l || l->nallow != 3)
		return;
#define MATCH(s)                                                               \
	(pv_addr_parse(s, &a, &len) == 0 &&                                    \
	 pvx_cidr_match(l->allow, l->nallow, (struct sockaddr *)&a))
	CHECK(MATCH("10.0.4.9:1"));
	CHECK(!MATCH("10.0.5.9:1"));
	CHECK(MATCH("192.175.255.255:1"));
	CHECK(!MATCH("192.176.0.0:1"));
	CHECK(MATCH("[fd12::1]:1"));
	CHECK(!MATCH("[fe80::1]:1"));
	CHECK(MATCH("[::ffff:10.0.4.200]:1"));
	CHECK(!MATCH("[::ffff:10.0.6.1]:1"));
#undef MATCH
	pvx_graph_clear(&g);

	CHECK(parse(&g,
		    "[{\"type\":\"tcp\",\"name\":\"n\",\"provider\":\"p\","
		    "\"target\":\":80\",\"ingress\":\"n\",\"allow\":["
		    "\"10.0.4.0/24\",\"10.0.0.1\"]}]",
		    errs, sizeof(errs)) == 0);
	CHECK(g.count == 0);
	CHECK(strstr(errs, "allow[1]: \"10.0.0.1\" is not a CIDR") != NULL);
	pvx_graph_clear(&g);
	CHECK(parse(&g,
		    "[{\"type\":\"tcp\",\"name\":\"n\",\"provider\":\"p\","
		    "\"target\":\":80\",\"ingress\":\"n\",\"allow\":[]}]",
		    errs, sizeof(errs)) == 0);
	CHECK(g.count == 0);
}

// http links: IP:PORT[/PREFIX], the whole target kept, split for the
// plugin; a bad address or prefix skips the link with one line.
static void test_http_targets(void)
{
	static const struct {
		const char *target, *addr, *prefix, *error;
	} cases[] = {
		{ "0.0.0.0:80/api", "0.0.0.0:80", "/api", NULL },
		{ "0.0.0.0:80", "0.0.0.0:80", "/", NULL },
		{ ":8080/a/b-c_d", ":8080", "/a/b-c_d", NULL },
		{ "[::1]:80/v1", "[::1]:80", "/v1", NULL },
		{ "0.0.0.0:80/", "0.0.0.0:80", "/", NULL },
		{ "0.0.0.0:80/api/", NULL, NULL, "is not a path prefix" },
		{ "0.0.0.0:80//x", NULL, NULL, "is not a path prefix" },
		{ "0.0.0.0:80/a/../b", NULL, NULL, "is not a path prefix" },
		{ "0.0.0.0:80/a b", NULL, NULL, "is not a path prefix" },
		{ "0.0.0.0:80/a?b", NULL, NULL, "is not a path prefix" },
		{ "localhost:80/api", NULL, NULL, "is not an address" },
		{ "/api", NULL, NULL, "is not an address" },
	};
	char text[1024], errs[1024];
	struct pvx_graph g;
	struct pvx_link *l;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "[{\"type\":\"http\",\"name\":\"h\",\"provider\":"
			 "\"p\",\"target\":\"%s\",\"ingress\":\"h\"}]",
			 cases[i].target);
		CHECK(parse(&g, text, errs, sizeof(errs)) == 0);
		l = nth(&g, 0);
		if (cases[i].error) {
			if (g.count)
				CHECK_STR(cases[i].target, "(refused)");
			CHECK(g.count == 0);
			CHECK(strstr(errs, "graph: link[0] (h): target: ") ==
			      errs);
			CHECK(strstr(errs, cases[i].error) != NULL);
		} else if (l) {
			CHECK(!errs[0]);
			CHECK_STR(l->target, cases[i].target);
			CHECK_STR(l->http_addr, cases[i].addr);
			CHECK_STR(l->http_prefix, cases[i].prefix);
		} else {
			CHECK_STR(errs, "(a link)");
		}
		pvx_graph_clear(&g);
	}
	// Other types have no split.
	CHECK(parse(&g,
		    "[{\"type\":\"tcp\",\"name\":\"t\",\"provider\":\"p\","
		    "\"target\":\":80\",\"ingress\":\"t\"}]",
		    errs, sizeof(errs)) == 0);
	CHECK(g.count == 1 && !nth(&g, 0)->http_prefix);
	pvx_graph_clear(&g);
}

int main(void)
{
	RUN(test_http_targets);
	RUN(test_allow);
	RUN(test_full_link);
	RUN(test_http_limits);
	RUN(test_keys_do_not_collapse);
	RUN(test_bad_links_skipped);
	RUN(test_host_backends);
	RUN(test_check_path);
	RUN(test_bad_documents);
	RUN(test_nulls);
	return kit_report("test_xconnect_graph");
}
