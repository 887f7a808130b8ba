// The proxy's figures as JSON for GET /xconnect-status and as Prometheus
// text for GET /metrics (pvd serves what pv-xconnect last reported):
// renderings of one snapshot (figures.h), which they only read.

#define MODULE_NAME "status"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "figures.h"
#include "status.h"
#include "text.h"
#include "utils/json.h"

static void ser_u64(struct pv_json_ser *js, const char *key, uint64_t v)
{
	pv_json_ser_key(js, key);
	pv_json_ser_int(js, (long long)v);
}

static void ser_str(struct pv_json_ser *js, const char *key, const char *v)
{
	pv_json_ser_key(js, key);
	pv_json_ser_string(js, v);
}

// The backend's check: its settings, state and last result; null
// without a check.
static void ser_check(struct pv_json_ser *js, const struct pvx_fig_check *c)
{
	pv_json_ser_key(js, "check");
	if (!c->enabled) {
		pv_json_ser_null(js);
		return;
	}
	pv_json_ser_object_begin(js);
	ser_str(js, "type", c->type);
	if (c->path) {
		ser_str(js, "path", c->path);
		ser_u64(js, "expect", c->expect);
	}
	ser_u64(js, "interval_ms", c->interval_ms);
	ser_u64(js, "timeout_ms", c->timeout_ms);
	ser_u64(js, "rise", c->rise);
	ser_u64(js, "fall", c->fall);
	ser_str(js, "state", c->state);
	ser_u64(js, "checks", c->checks);
	ser_u64(js, "failures", c->failures);
	ser_u64(js, "downs", c->downs);
	ser_u64(js, "last_change_s", c->last_change_s);
	pv_json_ser_object_end(js);
}

// The last check's result: {"ok", "detail", "duration_ms", "age_s"}, or
// null before the first one.
static void ser_last_check(struct pv_json_ser *js,
			   const struct pvx_fig_check *c)
{
	pv_json_ser_key(js, "last_check");
	if (!c->enabled || c->last_ok < 0) {
		pv_json_ser_null(js);
		return;
	}
	pv_json_ser_object_begin(js);
	pv_json_ser_key(js, "ok");
	pv_json_ser_bool(js, c->last_ok);
	ser_str(js, "detail", c->last);
	ser_u64(js, "duration_ms", c->last_ms);
	ser_u64(js, "age_s", c->last_age_s);
	pv_json_ser_object_end(js);
}

static void ser_backend(struct pv_json_ser *js, const struct pvx_fig_backend *b)
{
	pv_json_ser_object_begin(js);
	ser_str(js, "name", b->name);
	ser_str(js, "provider", b->provider);
	pv_json_ser_key(js, "provider_pid");
	pv_json_ser_int(js, b->provider_pid);
	ser_str(js, "socket", b->socket);
	ser_str(js, "health", b->down ? "down" : "up");
	ser_str(js, "reason", b->down);
	ser_u64(js, "sessions_now", b->stats.sessions_now);
	ser_u64(js, "sessions_total", b->stats.sessions_total);
	ser_u64(js, "bytes_in", b->stats.bytes_in);
	ser_u64(js, "bytes_out", b->stats.bytes_out);
	ser_u64(js, "connect_errors", b->stats.connect_errors);
	ser_u64(js, "retries", b->stats.retries);
	ser_check(js, &b->check);
	ser_last_check(js, &b->check);
	pv_json_ser_object_end(js);
}

// An http frontend's per-request figures: {"requests": N, "responses":
// {"1xx": N, ..., "5xx": N, "other": N}}.
static void ser_http(struct pv_json_ser *js, const struct pvx_http_stats *h)
{
	int i;

	pv_json_ser_key(js, "http");
	pv_json_ser_object_begin(js);
	ser_u64(js, "requests", h->requests);
	pv_json_ser_key(js, "responses");
	pv_json_ser_object_begin(js);
	for (i = 0; i < PVX_HTTP_CLASSES; i++)
		ser_u64(js, pvx_figures_http_class(i), h->responses[i]);
	pv_json_ser_object_end(js);
	pv_json_ser_object_end(js);
}

static void ser_frontend(struct pv_json_ser *js,
			 const struct pvx_fig_frontend *fe)
{
	unsigned int i;

	pv_json_ser_object_begin(js);
	ser_str(js, "name", fe->label);
	ser_str(js, "kind", fe->consumer ? "consumer" : "ingress");
	ser_str(js, "consumer", fe->consumer);
	ser_str(js, "target", fe->target);
	pv_json_ser_key(js, "netns_pid");
	pv_json_ser_int(js, fe->netns_pid);
	pv_json_ser_key(js, "listening");
	pv_json_ser_bool(js, fe->listening);
	ser_str(js, "health", fe->down ? "down" : "up");
	ser_str(js, "reason", fe->down);
	ser_str(js, "balance", fe->balance);
	pv_json_ser_key(js, "maxconn");
	pv_json_ser_int(js, fe->maxconn);
	ser_u64(js, "backends_up", fe->backends_up);
	ser_u64(js, "sessions_now", fe->stats.sessions_now);
	ser_u64(js, "sessions_total", fe->stats.sessions_total);
	ser_u64(js, "bytes_in", fe->stats.bytes_in);
	ser_u64(js, "bytes_out", fe->stats.bytes_out);
	ser_u64(js, "connect_errors", fe->stats.connect_errors);
	ser_u64(js, "retries", fe->stats.retries);
	ser_u64(js, "denied", fe->stats.denied);
	if (pvx_figures_fe_http(fe))
		ser_http(js, &fe->stats.http);
	pv_json_ser_key(js, "backends");
	pv_json_ser_array_begin(js);
	for (i = 0; i < fe->nbe; i++)
		ser_backend(js, &fe->be[i]);
	pv_json_ser_array_end(js);
	pv_json_ser_object_end(js);
}

char *pvx_figures_json(const struct pvx_figures *f, size_t *len)
{
	struct pv_json_ser js;
	unsigned int i;

	pv_json_ser_init(&js);
	pv_json_ser_object_begin(&js);
	pv_json_ser_key(&js, "frontends");
	pv_json_ser_array_begin(&js);
	for (i = 0; i < f->nfe; i++)
		ser_frontend(&js, &f->fe[i]);
	pv_json_ser_array_end(&js);
	if (f->dp_mode) {
		// Sessions of this loop (not of --threads' workers).
		pv_json_ser_key(&js, "datapath");
		pv_json_ser_object_begin(&js);
		ser_str(&js, "requested", f->dp_wanted);
		ser_str(&js, "mode", f->dp_mode);
		ser_str(&js, "reason", f->dp_why);
		ser_u64(&js, "kernel_sessions_now", f->dp_now);
		ser_u64(&js, "kernel_sessions_total", f->dp_total);
		ser_u64(&js, "kernel_refused", f->dp_refused);
		pv_json_ser_object_end(&js);
	}
	// What each plugin with a status hook says of itself.
	if (f->nplugins) {
		pv_json_ser_key(&js, "plugins");
		pv_json_ser_object_begin(&js);
		for (i = 0; i < f->nplugins; i++) {
			pv_json_ser_key(&js, f->plugins[i].type);
			pv_json_ser_raw(&js, f->plugins[i].json);
		}
		pv_json_ser_object_end(&js);
	}
	pv_json_ser_object_end(&js);
	return pv_json_ser_finish(&js, len);
}

char *pvx_status_json(struct pvx *x, size_t *len)
{
	struct pvx_figures f;
	char *out = NULL;

	if (!pvx_figures_collect(x, &f))
		out = pvx_figures_json(&f, len);
	pvx_figures_free(&f);
	return out;
}

#define put pvx_text_put

// A label value with \, " and newline escaped as the format wants.
static void put_label(struct pvx_text *t, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			put(t, "\\\\");
		else if (*v == '"')
			put(t, "\\\"");
		else if (*v == '\n')
			put(t, "\\n");
		else
			put(t, "%c", *v);
	}
}

// Which figure a family shows (of a frontend, or of a backend).
enum fig {
	F_UP,
	F_LISTENING,
	F_BACKENDS_UP,
	F_MAXCONN,
	F_SESSIONS_NOW,
	F_SESSIONS_TOTAL,
	F_BYTES_IN,
	F_BYTES_OUT,
	F_CONNECT_ERRORS,
	F_RETRIES,
	F_DENIED,
	F_CHECK_UP,
	F_CHECK_LAST_OK,
	F_CHECK_DURATION,
	F_CHECKS,
	F_CHECK_FAILURES,
	F_DOWNS,
	F_LAST_CHANGE,
};

// Which samples a backend family has: every backend, those with a check,
// those with a check result.
enum has { ALL, CHECK, RESULT };

// One metric family: each frontend (or each backend) gives a sample,
// unless has says it has none (a check figure without a check).
struct family {
	const char *name;
	const char *type;
	const char *help;
	int backend; // per backend, else per frontend
	enum fig fig;
	enum has has;
};

static const struct family families[] = {
	{ "pvx_frontend_up", "gauge",
	  "1 while the frontend listens and has a usable backend", 0, F_UP,
	  ALL },
	{ "pvx_frontend_listening", "gauge", "1 while the frontend listens", 0,
	  F_LISTENING, ALL },
	{ "pvx_frontend_backends_up", "gauge",
	  "Backends that take new sessions", 0, F_BACKENDS_UP, ALL },
	{ "pvx_frontend_maxconn", "gauge",
	  "Sessions allowed at once (0: unlimited)", 0, F_MAXCONN, ALL },
	{ "pvx_frontend_current_sessions", "gauge", "Sessions open now", 0,
	  F_SESSIONS_NOW, ALL },
	{ "pvx_frontend_sessions_total", "counter", "Sessions accepted", 0,
	  F_SESSIONS_TOTAL, ALL },
	{ "pvx_frontend_bytes_in_total", "counter",
	  "Bytes from clients to backends", 0, F_BYTES_IN, ALL },
	{ "pvx_frontend_bytes_out_total", "counter",
	  "Bytes from backends to clients", 0, F_BYTES_OUT, ALL },
	{ "pvx_frontend_connect_errors_total", "counter",
	  "Failed connects to backends", 0, F_CONNECT_ERRORS, ALL },
	{ "pvx_frontend_retries_total", "counter",
	  "Connects retried on another backend", 0, F_RETRIES, ALL },
	{ "pvx_frontend_denied_total", "counter",
	  "Clients refused by the allow list", 0, F_DENIED, ALL },
	{ "pvx_backend_up", "gauge", "1 while the backend takes sessions", 1,
	  F_UP, ALL },
	{ "pvx_backend_current_sessions", "gauge", "Sessions open now", 1,
	  F_SESSIONS_NOW, ALL },
	{ "pvx_backend_sessions_total", "counter", "Sessions sent here", 1,
	  F_SESSIONS_TOTAL, ALL },
	{ "pvx_backend_bytes_in_total", "counter",
	  "Bytes from clients to this backend", 1, F_BYTES_IN, ALL },
	{ "pvx_backend_bytes_out_total", "counter",
	  "Bytes from this backend to clients", 1, F_BYTES_OUT, ALL },
	{ "pvx_backend_connect_errors_total", "counter",
	  "Failed connects to this backend", 1, F_CONNECT_ERRORS, ALL },
	{ "pvx_backend_retries_total", "counter",
	  "Sessions sent here after another backend failed", 1, F_RETRIES,
	  ALL },
	{ "pvx_backend_check_up", "gauge",
	  "1 while the health checks pass (rise/fall applied)", 1, F_CHECK_UP,
	  CHECK },
	{ "pvx_backend_check_last_ok", "gauge",
	  "1 when the last health check passed", 1, F_CHECK_LAST_OK, RESULT },
	{ "pvx_backend_check_duration_seconds", "gauge",
	  "How long the last health check took", 1, F_CHECK_DURATION, RESULT },
	{ "pvx_backend_checks_total", "counter", "Health checks run", 1,
	  F_CHECKS, CHECK },
	{ "pvx_backend_check_failures_total", "counter", "Health checks failed",
	  1, F_CHECK_FAILURES, CHECK },
	{ "pvx_backend_downs_total", "counter",
	  "Times the health checks took the backend down", 1, F_DOWNS, CHECK },
	{ "pvx_backend_check_last_change_seconds", "gauge",
	  "Seconds since the checks last changed the backend's state", 1,
	  F_LAST_CHANGE, CHECK },
};

// A frontend's figure.
static double fe_value(const struct pvx_fig_frontend *fe, enum fig fig)
{
	switch (fig) {
	case F_UP:
		return !fe->down;
	case F_LISTENING:
		return fe->listening;
	case F_BACKENDS_UP:
		return fe->backends_up;
	case F_MAXCONN:
		return fe->maxconn;
	case F_SESSIONS_NOW:
		return fe->stats.sessions_now;
	case F_SESSIONS_TOTAL:
		return (double)fe->stats.sessions_total;
	case F_BYTES_IN:
		return (double)fe->stats.bytes_in;
	case F_BYTES_OUT:
		return (double)fe->stats.bytes_out;
	case F_CONNECT_ERRORS:
		return (double)fe->stats.connect_errors;
	case F_RETRIES:
		return (double)fe->stats.retries;
	case F_DENIED:
		return (double)fe->stats.denied;
	default:
		return 0;
	}
}

// A backend's figure.
static double be_value(const struct pvx_fig_backend *b, enum fig fig)
{
	const struct pvx_fig_check *c = &b->check;

	switch (fig) {
	case F_UP:
		return !b->down;
	case F_SESSIONS_NOW:
		return b->stats.sessions_now;
	case F_SESSIONS_TOTAL:
		return (double)b->stats.sessions_total;
	case F_BYTES_IN:
		return (double)b->stats.bytes_in;
	case F_BYTES_OUT:
		return (double)b->stats.bytes_out;
	case F_CONNECT_ERRORS:
		return (double)b->stats.connect_errors;
	case F_RETRIES:
		return (double)b->stats.retries;
	case F_CHECK_UP:
		return c->up;
	case F_CHECK_LAST_OK:
		return c->last_ok;
	case F_CHECK_DURATION:
		return c->last_ms / 1000.0;
	case F_CHECKS:
		return (double)c->checks;
	case F_CHECK_FAILURES:
		return (double)c->failures;
	case F_DOWNS:
		return (double)c->downs;
	case F_LAST_CHANGE:
		return c->last_change_s;
	default:
		return 0;
	}
}

// A sample's value: integers as such, others with enough digits.
static void put_value(struct pvx_text *t, double v)
{
	if (v == (double)(long long)v)
		put(t, " %lld\n", (long long)v);
	else
		put(t, " %.6f\n", v);
}

// The labels every sample of fe carries, up to the closing quote of the
// consumer's.
static void put_fe_labels(struct pvx_text *t, const char *name,
			  const struct pvx_fig_frontend *fe)
{
	put(t, "%s{frontend=\"", name);
	put_label(t, fe->label);
	put(t, "\",consumer=\"");
	put_label(t, fe->consumer ? fe->consumer : "");
}

// The http frontends' per-request families: requests, and answers by
// status class (a "code" label: "1xx" .. "5xx", "other").
static void put_http_families(struct pvx_text *t, const struct pvx_figures *f)
{
	static const char req[] = "pvx_http_requests_total";
	static const char resp[] = "pvx_http_responses_total";
	const struct pvx_fig_frontend *fe;
	unsigned int j;
	int c;

	put(t, "# HELP %s HTTP requests routed to the frontend\n", req);
	put(t, "# TYPE %s counter\n", req);
	for (j = 0; j < f->nfe; j++) {
		fe = &f->fe[j];
		if (!pvx_figures_fe_http(fe))
			continue;
		put_fe_labels(t, req, fe);
		put(t, "\",target=\"");
		put_label(t, fe->target);
		put(t, "\"}");
		put_value(t, (double)fe->stats.http.requests);
	}
	put(t, "# HELP %s HTTP answers sent to clients, by status class\n",
	    resp);
	put(t, "# TYPE %s counter\n", resp);
	for (j = 0; j < f->nfe; j++) {
		fe = &f->fe[j];
		if (!pvx_figures_fe_http(fe))
			continue;
		for (c = 0; c < PVX_HTTP_CLASSES; c++) {
			put_fe_labels(t, resp, fe);
			put(t, "\",target=\"");
			put_label(t, fe->target);
			put(t, "\",code=\"%s\"}", pvx_figures_http_class(c));
			put_value(t, (double)fe->stats.http.responses[c]);
		}
	}
}

char *pvx_figures_metrics(const struct pvx_figures *f, size_t *len)
{
	struct pvx_text t = { 0 };
	const struct pvx_fig_frontend *fe;
	const struct pvx_fig_backend *b;
	unsigned int j, k;
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		const struct family *fam = &families[i];

		put(&t, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help,
		    fam->name, fam->type);
		for (j = 0; j < f->nfe; j++) {
			fe = &f->fe[j];
			if (!fam->backend) {
				put_fe_labels(&t, fam->name, fe);
				put(&t, "\",target=\"");
				put_label(&t, fe->target);
				put(&t, "\"}");
				put_value(&t, fe_value(fe, fam->fig));
				continue;
			}
			for (k = 0; k < fe->nbe; k++) {
				b = &fe->be[k];
				if ((fam->has == CHECK && !b->check.enabled) ||
				    (fam->has == RESULT &&
				     (!b->check.enabled ||
				      b->check.last_ok < 0)))
					continue;
				put_fe_labels(&t, fam->name, fe);
				put(&t, "\",provider=\"");
				put_label(&t, b->provider);
				put(&t, "\",backend=\"");
				put_label(&t, b->socket);
				put(&t, "\"}");
				put_value(&t, be_value(b, fam->fig));
			}
		}
	}
	put_http_families(&t, f);
	return pvx_text_finish(&t, len);
}

char *pvx_status_metrics(struct pvx *x, size_t *len)
{
	struct pvx_figures f;
	char *out = NULL;

	if (!pvx_figures_collect(x, &f))
		out = pvx_figures_metrics(&f, len);
	pvx_figures_free(&f);
	return out;
}
