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

// An http frontend's per-request counters: counted by class through the
// owner functions, summed over workers exactly, shown in the JSON, the
// Prometheus text and the stats page; a tcp frontend shows none of them.
static void test_http(void)
{
	static const int statuses[] = { 100, 101, 200, 204, 299, 301, 404, 431,
					500, 502, 504, 599, 0,	 99,  600, -1 };
	struct pvx_frontend *web, *raw;
	struct pvx_stats w = { 0 };
	struct pvx_figures f;
	struct pvx_link l = { 0 };
	const struct pvx_http_stats *h;
	struct pvx x;
	char *out, *p;
	size_t len, i;

	CHECK(pvx_init(&x) == 0);
	web = pvx_frontend_get(&x, "hk", "api", NULL, "127.0.0.1:3", -1);
	raw = pvx_frontend_get(&x, "tk", "raw", NULL, "127.0.0.1:2", -1);
	CHECK(web && raw);
	if (!web || !raw)
		return;
	// A link of type http flags its frontend; a tcp one does not.
	l.type = "http";
	pvx_frontend_configure(web, &l);
	l.type = "tcp";
	pvx_frontend_configure(raw, &l);
	CHECK(web->http && !raw->http);

	for (i = 0; i < 7; i++)
		pvx_frontend_count_http_request(web);
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		pvx_frontend_count_http_response(web, statuses[i]);
	h = &web->stats.http;
	CHECK(h->requests == 7);
	CHECK(h->responses[PVX_HTTP_1XX] == 2);
	CHECK(h->responses[PVX_HTTP_2XX] == 3);
	CHECK(h->responses[PVX_HTTP_3XX] == 1);
	CHECK(h->responses[PVX_HTTP_4XX] == 2);
	CHECK(h->responses[PVX_HTTP_5XX] == 4);
	CHECK(h->responses[PVX_HTTP_OTHER] == 4);
	CHECK(raw->stats.http.requests == 0);

	CHECK(pvx_figures_collect(&x, &f) == 0);
	CHECK(f.nfe == 2);
	if (f.nfe != 2)
		goto out;
	CHECK(f.fe[0].http && !f.fe[1].http);
	CHECK(pvx_figures_fe_http(&f.fe[0]) && !pvx_figures_fe_http(&f.fe[1]));
	// Two workers: each one's counts added exactly, this thread's live
	// counters untouched.
	w.http.requests = 1000;
	w.http.responses[PVX_HTTP_2XX] = 900;
	w.http.responses[PVX_HTTP_5XX] = 100;
	pvx_figures_add(&f, "hk", NULL, &w);
	w.http.requests = 5;
	w.http.responses[PVX_HTTP_2XX] = 0;
	w.http.responses[PVX_HTTP_5XX] = 0;
	w.http.responses[PVX_HTTP_4XX] = 5;
	pvx_figures_add(&f, "hk", NULL, &w);
	h = &f.fe[0].stats.http;
	CHECK(h->requests == 1012);
	CHECK(h->responses[PVX_HTTP_1XX] == 2);
	CHECK(h->responses[PVX_HTTP_2XX] == 903);
	CHECK(h->responses[PVX_HTTP_3XX] == 1);
	CHECK(h->responses[PVX_HTTP_4XX] == 7);
	CHECK(h->responses[PVX_HTTP_5XX] == 104);
	CHECK(h->responses[PVX_HTTP_OTHER] == 4);
	CHECK(web->stats.http.requests == 7);

	out = pvx_figures_json(&f, &len);
	CHECK(out && strstr(out, "\"http\":{\"requests\":1012,\"responses\":"
				 "{\"1xx\":2,\"2xx\":903,\"3xx\":1,"
				 "\"4xx\":7,\"5xx\":104,\"other\":4}}"));
	// Only the http frontend has the object (the plugins' object has
	// an "http" key of its own: the plugin's status).
	p = out ? strstr(out, "\"http\":{\"requests\"") : NULL;
	CHECK(p && !strstr(p + 1, "\"http\":{\"requests\""));
	free(out);
	out = pvx_figures_metrics(&f, &len);
	CHECK(out && strstr(out, "# TYPE pvx_http_requests_total counter\n"));
	CHECK(out && strstr(out, "# TYPE pvx_http_responses_total counter\n"));
	CHECK(out && strstr(out, "\npvx_http_requests_total{frontend=\"api\","
				 "consumer=\"\",target=\"127.0.0.1:3\"}"
				 " 1012\n"));
	CHECK(out && strstr(out, "\npvx_http_responses_total{frontend=\"api\","
				 "consumer=\"\",target=\"127.0.0.1:3\","
				 "code=\"2xx\"} 903\n"));
	CHECK(out && strstr(out, "code=\"5xx\"} 104\n"));
	CHECK(out && strstr(out, "code=\"other\"} 4\n"));
	CHECK(out && !strstr(out, "pvx_http_requests_total{frontend=\"raw\""));
	CHECK(out && !strstr(out, "pvx_http_responses_total{frontend=\"raw\""));
	free(out);
	out = pvx_figures_html(&f, 5, &len);
	CHECK(out && strstr(out, "requests 1012; answers 1xx 2, 2xx 903, "
				 "3xx 1, 4xx 7, 5xx 104, other 4"));
	p = out ? strstr(out, "<tr class=\"http\">") : NULL;
	CHECK(p && !strstr(p + 1, "<tr class=\"http\">"));
	free(out);
	pvx_figures_free(&f);

	// A frontend with no flag shows the counters once it has some (a
	// worker's frontend that served http); zeros without any.
	raw->stats.http.responses[PVX_HTTP_4XX] = 1;
	CHECK(pvx_figures_collect(&x, &f) == 0);
	CHECK(f.nfe == 2 && pvx_figures_fe_http(&f.fe[1]));
	pvx_figures_free(&f);
	web->stats.http = (struct pvx_http_stats){ 0 };
	CHECK(pvx_figures_collect(&x, &f) == 0);
	out = f.nfe == 2 ? pvx_figures_json(&f, &len) : NULL;
	CHECK(out && strstr(out, "\"http\":{\"requests\":0,\"responses\":"
				 "{\"1xx\":0,\"2xx\":0,\"3xx\":0,"
				 "\"4xx\":0,\"5xx\":0,\"other\":0}}"));
	free(out);
out:
	pvx_figures_free(&f);
	pvx_frontend_check_empty(web);
	pvx_frontend_check_empty(raw);
	pvx_frontend_unref(web);
	pvx_frontend_unref(raw);
	pvx_fini(&x);
}

int main(void)
{
	pv_log_set_level(FATAL);
	RUN(test_snapshot);
	RUN(test_http);
	return kit_report("test_xconnect_figures");
}
