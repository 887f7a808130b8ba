// The figures snapshot (figures.h): one collect fills every open
// frontend and its backends; the --threads workers' figures are summed
// into the snapshot exactly, by key, and never into the live counters;
// the renderings print the snapshot, the plugins' status included.

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tests/unit/kit.h"
#include "xconnect.h"

static struct pvx_stats stats(uint64_t base)
{
	struct pvx_stats st = {
		.sessions_total = base + 1,
		.sessions_now = (uint32_t)(base + 2),
		.bytes_in = base + 3,
		.bytes_out = base + 4,
		.connect_errors = base + 5,
		.retries = base + 6,
		.denied = base + 7,
	};

	return st;
}

static int stats_equal(const struct pvx_stats *a, const struct pvx_stats *b)
{
	return a->sessions_total == b->sessions_total &&
	       a->sessions_now == b->sessions_now &&
	       a->bytes_in == b->bytes_in && a->bytes_out == b->bytes_out &&
	       a->connect_errors == b->connect_errors &&
	       a->retries == b->retries && a->denied == b->denied;
}

static void test_snapshot(void)
{
	struct pvx_stats fe0 = stats(100), be0 = stats(10), be1 = stats(20);
	struct pvx_stats w = stats(1000), want;
	struct pvx_backend *b[2] = { NULL };
	struct pvx_link l = { 0 };
	struct pvx_figures f;
	struct pvx_frontend *fe;
	struct pvx x;
	char *json;
	size_t len;
	int i;

	CHECK(pvx_init(&x) == 0);
	fe = pvx_frontend_get(&x, "fk", "web", NULL, "127.0.0.1:1", -1);
	CHECK(fe != NULL);
	if (!fe)
		return;
	l.label = "web";
	l.provider = "_host_";
	l.idle_ms = -1;
	for (i = 0; i < 2; i++) {
		l.key = i ? "bk1" : "bk0";
		l.socket = i ? "127.0.0.1:10" : "127.0.0.1:9";
		b[i] = pvx_backend_new(fe, &l);
		CHECK(b[i] != NULL);
	}
	if (!b[0] || !b[1])
		return;
	// What this thread counted (set by hand: no traffic here).
	fe->stats = fe0;
	b[0]->stats = be0;
	b[1]->stats = be1;

	CHECK(pvx_figures_collect(&x, &f) == 0);
	CHECK(f.nfe == 1 && f.nbe == 2);
	CHECK(f.fe[0].nbe == 2 && f.fe[0].be == &f.be[0]);
	CHECK_STR(f.fe[0].label, "web");
	CHECK_STR(f.fe[0].balance, "roundrobin");
	CHECK(f.fe[0].backends_up == 2);
	CHECK(stats_equal(&f.fe[0].stats, &fe0));
	CHECK(stats_equal(&f.be[0].stats, &be0));
	CHECK(stats_equal(&f.be[1].stats, &be1));
	CHECK_STR(f.be[1].name, "127.0.0.1:10");
	CHECK(!f.be[0].check.enabled && f.be[0].check.last_ok == -1);

	// Two workers' figures: each summed exactly into its own entry;
	// figures of a frontend or backend this thread does not have are
	// left out.
	pvx_figures_add(&f, "fk", NULL, &w);
	pvx_figures_add(&f, "fk", NULL, &w);
	pvx_figures_add(&f, "fk", "bk1", &w);
	pvx_figures_add(&f, "fk", "nope", &w);
	pvx_figures_add(&f, "other", NULL, &w);
	want = fe0;
	want.sessions_total += 2 * w.sessions_total;
	want.sessions_now += 2 * w.sessions_now;
	want.bytes_in += 2 * w.bytes_in;
	want.bytes_out += 2 * w.bytes_out;
	want.connect_errors += 2 * w.connect_errors;
	want.retries += 2 * w.retries;
	want.denied += 2 * w.denied;
	CHECK(stats_equal(&f.fe[0].stats, &want));
	CHECK(stats_equal(&f.be[0].stats, &be0));
	want = be1;
	want.sessions_total += w.sessions_total;
	want.sessions_now += w.sessions_now;
	want.bytes_in += w.bytes_in;
	want.bytes_out += w.bytes_out;
	want.connect_errors += w.connect_errors;
	want.retries += w.retries;
	want.denied += w.denied;
	CHECK(stats_equal(&f.be[1].stats, &want));
	// The live counters are what they were.
	CHECK(stats_equal(&fe->stats, &fe0));
	CHECK(stats_equal(&b[1]->stats, &be1));

	// The renderings print the snapshot.
	json = pvx_figures_json(&f, &len);
	CHECK(json && strstr(json, "\"sessions_total\":2103"));
	CHECK(json && strstr(json, "\"sessions_total\":1022"));
	CHECK(json && strstr(json, "\"plugins\":{\"tcp\":{\"links\":0},"
				   "\"http\":{\"links\":0,\"unrouted\":0}}"));
	free(json);
	json = pvx_figures_metrics(&f, &len);
	CHECK(json && strstr(json, "pvx_frontend_sessions_total{frontend="
				   "\"web\",consumer=\"\",target="
				   "\"127.0.0.1:1\"} 2103\n"));
	free(json);
	json = pvx_figures_html(&f, 5, &len);
	CHECK(json && strstr(json, "2/2 backends up"));
	free(json);
	pvx_figures_free(&f);
	CHECK(f.nfe == 0 && f.fe == NULL);

	pvx_backend_remove(b[0], 0);
	pvx_backend_remove(b[1], 0);
	// A closed frontend is left out.
	CHECK(pvx_figures_collect(&x, &f) == 0);
	CHECK(f.nfe == 0 && f.nbe == 0);
	pvx_figures_free(&f);
	pvx_frontend_unref(fe);
	pvx_fini(&x);
}

int main(void)
{
	pv_log_set_level(FATAL);
	RUN(test_snapshot);
	return kit_report("test_xconnect_figures");
}
