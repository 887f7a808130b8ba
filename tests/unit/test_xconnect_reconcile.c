// Reconcile: the plugin calls that successive graphs produce, with a fake
// plugin that records them.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tests/unit/kit.h"
#include "xconnect.h"

static char calls[4096];
static int fail_adds;
static int objects; // per-link objects alive

static void record(const char *what, const struct pvx_link *l)
{
	char line[256];

	snprintf(line, sizeof(line), "%s %s %s %s;", what, l->label,
		 l->provider, l->socket);
	strncat(calls, line, sizeof(calls) - strlen(calls) - 1);
}

static int fake_added(struct pvx *x, struct pvx_link *l)
{
	(void)x;
	if (fail_adds) {
		record("fail", l);
		return -1;
	}
	record("add", l);
	l->priv = malloc(1);
	objects++;
	return 0;
}

static void fake_updated(struct pvx *x, const struct pvx_link *old,
			 struct pvx_link *l)
{
	(void)x;
	// The plugin's object travels from the old link to the new one.
	CHECK(l->priv != NULL);
	CHECK(old->priv == l->priv);
	record("update", l);
}

static void fake_removed(struct pvx *x, struct pvx_link *l)
{
	(void)x;
	CHECK(l->priv != NULL);
	free(l->priv);
	objects--;
	record("remove", l);
}

static const struct pvx_plugin fake = {
	.type = "tcp",
	.on_link_added = fake_added,
	.on_link_updated = fake_updated,
	.on_link_removed = fake_removed,
};
static const struct pvx_plugin *const plugins[] = { &fake, NULL };

// One ingress link as JSON.
static void link_json(char *buf, size_t n, const char *ingress,
		      const char *provider, const char *socket, int pid)
{
	snprintf(buf, n,
		 "{\"type\":\"tcp\",\"name\":\"svc\",\"consumer\":"
		 "\"EXTERNAL\",\"consumer_pid\":0,\"provider\":\"%s\","
		 "\"provider_pid\":%d,\"target\":\":80\",\"socket\":\"%s\","
		 "\"ingress\":\"%s\"}",
		 provider, pid, socket, ingress);
}

// Applies the document and returns the calls it made.
static const char *apply(struct pvx_reconciler *r, const char *doc)
{
	calls[0] = '\0';
	pvx_reconcile_text(r, doc, strlen(doc));
	return calls;
}

static void test_add_update_remove(void)
{
	struct pvx_reconciler r;
	char a[512], b[512], doc[1200];

	pvx_reconciler_init(&r, plugins, NULL);
	link_json(a, sizeof(a), "web", "nginx", "", 0);
	snprintf(doc, sizeof(doc), "[%s]", a);
	CHECK_STR(apply(&r, doc), "add web nginx ;");
	// The same graph again: nothing to do.
	CHECK_STR(apply(&r, doc), "");
	// The lease appears later: an update in place, not add/remove.
	link_json(a, sizeof(a), "web", "nginx", "10.0.4.2:80", 0);
	snprintf(doc, sizeof(doc), "[%s]", a);
	CHECK_STR(apply(&r, doc), "update web nginx 10.0.4.2:80;");
	// The provider restarts: new pid, update.
	link_json(a, sizeof(a), "web", "nginx", "10.0.4.2:80", 99);
	snprintf(doc, sizeof(doc), "[%s]", a);
	CHECK_STR(apply(&r, doc), "update web nginx 10.0.4.2:80;");
	// A second provider behind the same rule is a second link.
	link_json(b, sizeof(b), "web", "nginx2", "10.0.4.3:80", 0);
	snprintf(doc, sizeof(doc), "[%s,%s]", a, b);
	CHECK_STR(apply(&r, doc), "add web nginx2 10.0.4.3:80;");
	// The first is dropped from the graph.
	snprintf(doc, sizeof(doc), "[%s]", b);
	CHECK_STR(apply(&r, doc), "remove web nginx 10.0.4.2:80;");
	// A broken document keeps what is in effect.
	CHECK_STR(apply(&r, "[{\"type\":"), "");
	CHECK(r.current.count == 1);
	// A link that turns bad is treated as gone.
	link_json(b, sizeof(b), "web", "nginx2", "10.0.4.3:0", 0);
	snprintf(doc, sizeof(doc), "[%s]", b);
	CHECK_STR(apply(&r, doc), "remove web nginx2 10.0.4.3:80;");
	CHECK(objects == 0);
	pvx_reconciler_clear(&r);
}

static void test_failed_add_retried(void)
{
	struct pvx_reconciler r;
	char a[512], doc[600];

	pvx_reconciler_init(&r, plugins, NULL);
	link_json(a, sizeof(a), "web", "nginx", "", 0);
	snprintf(doc, sizeof(doc), "[%s]", a);
	fail_adds = 1;
	CHECK_STR(apply(&r, doc), "fail web nginx ;");
	fail_adds = 0;
	CHECK_STR(apply(&r, doc), "add web nginx ;");
	CHECK_STR(apply(&r, doc), "");
	pvx_reconciler_clear(&r);
	CHECK(objects == 0);
}

// A type without a plugin is skipped (never handed to another plugin);
// when its type changes to a served one, it is added.
static void test_unknown_type(void)
{
	struct pvx_reconciler r;
	const char *dbus = "[{\"type\":\"dbus\",\"name\":\"bus\",\"consumer\":"
			   "\"app\",\"provider\":\"p\",\"target\":"
			   "\"127.0.0.1:1\",\"socket\":\"/run/bus\"}]";
	const char *tcp = "[{\"type\":\"tcp\",\"name\":\"bus\",\"consumer\":"
			  "\"app\",\"provider\":\"p\",\"target\":"
			  "\"127.0.0.1:1\",\"socket\":\"/run/bus\"}]";

	pvx_reconciler_init(&r, plugins, NULL);
	CHECK_STR(apply(&r, dbus), "");
	CHECK(r.current.count == 1);
	CHECK_STR(apply(&r, tcp), "add bus p /run/bus;");
	CHECK_STR(apply(&r, dbus), "remove bus p /run/bus;");
	pvx_reconciler_clear(&r);
	CHECK(objects == 0);
}

static void test_clear_removes_all(void)
{
	struct pvx_reconciler r;
	char a[512], b[512], doc[1200];

	pvx_reconciler_init(&r, plugins, NULL);
	link_json(a, sizeof(a), "one", "p1", "/run/a", 1);
	link_json(b, sizeof(b), "two", "p2", "/run/b", 2);
	snprintf(doc, sizeof(doc), "[%s,%s]", a, b);
	CHECK_STR(apply(&r, doc), "add one p1 /run/a;add two p2 /run/b;");
	calls[0] = '\0';
	pvx_reconciler_clear(&r);
	CHECK_STR(calls, "remove one p1 /run/a;remove two p2 /run/b;");
	CHECK(objects == 0);
}

int main(void)
{
	// The documents here are broken on purpose: their error lines would
	// only look like failures in the test output.
	pv_log_set_level(FATAL);
	RUN(test_add_update_remove);
	RUN(test_failed_add_retried);
	RUN(test_unknown_type);
	RUN(test_clear_removes_all);
	return kit_report("test_xconnect_reconcile");
}
