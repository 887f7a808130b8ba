// Limits that are on without being asked for: a link without "timeouts"
// gets the default connect and idle timeouts; "idle_ms": 0 in a graph is
// the only way to turn the idle timeout off.

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tests/unit/kit.h"
#include "xconnect.h"

#define LINK(extra)                                                            \
	"[{\"type\":\"tcp\",\"name\":\"s\",\"consumer\":\"EXTERNAL\","         \
	"\"provider\":\"_host_\",\"target\":\"127.0.0.1:1\","                  \
	"\"socket\":\"127.0.0.1:9\",\"ingress\":\"in\"" extra "}]"

// The backend a one-link graph gives: its connect and idle timeouts.
static void timeouts(const char *graph, int *connect_ms, int *idle_ms)
{
	struct pvx_frontend *fe;
	struct pvx_backend *b;
	struct pv_errors errs;
	struct pvx_graph g;
	struct pvx_link *l;
	struct pvx x;

	*connect_ms = *idle_ms = -2;
	pv_errors_init(&errs);
	pvx_graph_init(&g);
	CHECK(pvx_graph_parse(&g, graph, strlen(graph), &errs) == 0);
	CHECK(errs.count == 0);
	CHECK(g.count == 1);
	CHECK(pvx_init(&x) == 0);
	l = dl_list_first(&g.links, struct pvx_link, list);
	fe = l ? pvx_frontend_get(&x, "in", "in", NULL, l->target, 0) : NULL;
	b = fe ? pvx_backend_new(fe, l) : NULL;
	CHECK(b != NULL);
	if (b) {
		*connect_ms = b->connect_ms;
		*idle_ms = b->idle_ms;
		pvx_backend_remove(b, 0);
	}
	pvx_frontend_unref(fe);
	pvx_fini(&x);
	pvx_graph_clear(&g);
	pv_errors_clear(&errs);
}

static void test_defaults(void)
{
	int c, i;

	timeouts(LINK(""), &c, &i);
	CHECK(c == PVX_CONNECT_MS_DEFAULT);
	CHECK(i == PVX_IDLE_MS_DEFAULT);
	CHECK(PVX_CONNECT_MS_DEFAULT > 0 && PVX_CONNECT_MS_DEFAULT <= 30000);
	CHECK(PVX_IDLE_MS_DEFAULT > 0 && PVX_IDLE_MS_DEFAULT <= 3600000);
	// Only connect_ms given: idle keeps its default.
	timeouts(LINK(",\"timeouts\":{\"connect_ms\":700}"), &c, &i);
	CHECK(c == 700);
	CHECK(i == PVX_IDLE_MS_DEFAULT);
	timeouts(LINK(",\"timeouts\":{\"idle_ms\":1234}"), &c, &i);
	CHECK(c == PVX_CONNECT_MS_DEFAULT);
	CHECK(i == 1234);
	// Explicitly off.
	timeouts(LINK(",\"timeouts\":{\"idle_ms\":0}"), &c, &i);
	CHECK(i == 0);
}

// A link whose idle timeout is the default and one with it off are two
// configurations: going from one to the other is an update.
static void test_equal(void)
{
	const char *a = LINK(""), *b = LINK(",\"timeouts\":{\"idle_ms\":0}");
	struct pv_errors errs;
	struct pvx_graph ga, gb;
	struct pvx_link *la, *lb;

	pv_errors_init(&errs);
	pvx_graph_init(&ga);
	pvx_graph_init(&gb);
	CHECK(pvx_graph_parse(&ga, a, strlen(a), &errs) == 0);
	CHECK(pvx_graph_parse(&gb, b, strlen(b), &errs) == 0);
	la = dl_list_first(&ga.links, struct pvx_link, list);
	lb = dl_list_first(&gb.links, struct pvx_link, list);
	CHECK(la && lb && !strcmp(la->key, lb->key));
	CHECK(la && lb && !pvx_link_equal(la, lb));
	CHECK(la && pvx_link_equal(la, la));
	pvx_graph_clear(&ga);
	pvx_graph_clear(&gb);
	pv_errors_clear(&errs);
}

int main(void)
{
	pv_log_set_level(FATAL); // a failed bind of port 1 is fine
	RUN(test_defaults);
	RUN(test_equal);
	return kit_report("test_xconnect_limits");
}
