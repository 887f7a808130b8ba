// The proxy's figures, per frontend (listener) and per backend: as JSON
// for GET /xconnect-status and as Prometheus text for GET /metrics (pvd
// serves what pv-xconnect last reported).

#define MODULE_NAME "status"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utils/addr.h"
#include "xconnect.h"

static const char *const balance_names[] = {
	[PVX_BALANCE_ROUNDROBIN] = "roundrobin",
	[PVX_BALANCE_LEASTCONN] = "leastconn",
	[PVX_BALANCE_FIRST] = "first",
	[PVX_BALANCE_SOURCE] = "source",
};

void pvx_backend_bytes(const struct pvx_backend *b, uint64_t *in, uint64_t *out)
{
	const struct pvx_session *s;

	*in = b->stats.bytes_in;
	*out = b->stats.bytes_out;
	dl_list_for_each (s, &b->sessions, struct pvx_session, list) {
		*in += s->tun.up.bytes;
		*out += s->tun.down.bytes;
	}
}

void pvx_frontend_bytes(const struct pvx_frontend *fe, uint64_t *in,
			uint64_t *out)
{
	const struct pvx_backend *b;
	const struct pvx_session *s;

	*in = fe->stats.bytes_in;
	*out = fe->stats.bytes_out;
	dl_list_for_each (b, &fe->backends, struct pvx_backend, list) {
		dl_list_for_each (s, &b->sessions, struct pvx_session, list) {
			*in += s->tun.up.bytes;
			*out += s->tun.down.bytes;
		}
	}
}

const char *pvx_balance_name(enum pvx_balance b)
{
	return b < sizeof(balance_names) / sizeof(balance_names[0])
		       ? balance_names[b]
		       : "?";
}

const char *pvx_backend_name(const struct pvx_backend *b)
{
	// A host backend has no container to be named after.
	return strcmp(b->provider, "_host_") ? b->provider : b->socket;
}

int pvx_frontend_backends_up(const struct pvx_frontend *fe)
{
	const struct pvx_backend *b;
	int n = 0;

	dl_list_for_each (b, &fe->backends, struct pvx_backend, list) {
		if (pvx_backend_usable(b))
			n++;
	}
	return n;
}

const char *pvx_frontend_down_reason(const struct pvx_frontend *fe)
{
	if (!fe->listening && fe->unix_path && fe->listen_why[0])
		return fe->listen_why;
	if (!fe->listening)
		return fe->netns_pid < 0 ? "consumer not running"
					 : "not listening (bind failed)";
	if (!pvx_frontend_backends_up(fe))
		return "no usable backend";
	return NULL;
}

int pvx_seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > t->tv_sec ? (int)(now.tv_sec - t->tv_sec) : 0;
}

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
static void ser_check(struct pv_json_ser *js, const struct pvx_backend *b)
{
	const struct pvx_health *h = &b->health;
	char state[32];

	pv_json_ser_key(js, "check");
	if (!h->enabled) {
		pv_json_ser_null(js);
		return;
	}
	pv_json_ser_object_begin(js);
	ser_str(js, "type", pvx_health_type(b));
	if (h->conf.type == PVX_CHECK_HTTP) {
		ser_str(js, "path", h->conf.path);
		ser_u64(js, "expect", h->conf.expect);
	}
	ser_u64(js, "interval_ms", h->conf.interval_ms);
	ser_u64(js, "timeout_ms", h->conf.timeout_ms);
	ser_u64(js, "rise", h->conf.rise);
	ser_u64(js, "fall", h->conf.fall);
	ser_str(js, "state", pvx_health_state(b, state, sizeof(state)));
	ser_u64(js, "checks", h->checks);
	ser_u64(js, "failures", h->failures);
	ser_u64(js, "downs", h->downs);
	ser_u64(js, "last_change_s", pvx_seconds_since(&h->changed_at));
	pv_json_ser_object_end(js);
}

// The last check's result: {"ok", "detail", "duration_ms", "age_s"}, or
// null before the first one.
static void ser_last_check(struct pv_json_ser *js, const struct pvx_backend *b)
{
	const struct pvx_health *h = &b->health;

	pv_json_ser_key(js, "last_check");
	if (!h->enabled || h->last_ok < 0) {
		pv_json_ser_null(js);
		return;
	}
	pv_json_ser_object_begin(js);
	pv_json_ser_key(js, "ok");
	pv_json_ser_bool(js, h->last_ok);
	ser_str(js, "detail", h->last);
	ser_u64(js, "duration_ms", h->last_ms);
	ser_u64(js, "age_s", pvx_seconds_since(&h->last_at));
	pv_json_ser_object_end(js);
}

static void ser_backend(struct pv_json_ser *js, const struct pvx_backend *b)
{
	const char *down = pvx_backend_down_reason(b);
	uint64_t in, out;

	pvx_backend_bytes(b, &in, &out);
	pv_json_ser_object_begin(js);
	ser_str(js, "name", pvx_backend_name(b));
	ser_str(js, "provider", b->provider);
	pv_json_ser_key(js, "provider_pid");
	pv_json_ser_int(js, b->provider_pid);
	ser_str(js, "socket", b->socket);
	ser_str(js, "health", down ? "down" : "up");
	ser_str(js, "reason", down);
	ser_u64(js, "sessions_now", b->stats.sessions_now);
	ser_u64(js, "sessions_total", b->stats.sessions_total);
	ser_u64(js, "bytes_in", in);
	ser_u64(js, "bytes_out", out);
	ser_u64(js, "connect_errors", b->stats.connect_errors);
	ser_u64(js, "retries", b->stats.retries);
	ser_check(js, b);
	ser_last_check(js, b);
	pv_json_ser_object_end(js);
}

char *pvx_status_json(struct pvx *x, size_t *len)
{
	struct pv_json_ser js;
	struct pvx_frontend *fe;
	struct pvx_backend *b;
	const char *down;
	uint64_t in, out;

	pv_json_ser_init(&js);
	pv_json_ser_object_begin(&js);
	pv_json_ser_key(&js, "frontends");
	pv_json_ser_array_begin(&js);
	dl_list_for_each (fe, &x->frontends, struct pvx_frontend, list) {
		if (fe->closed)
			continue;
		pvx_frontend_bytes(fe, &in, &out);
		down = pvx_frontend_down_reason(fe);
		pv_json_ser_object_begin(&js);
		ser_str(&js, "name", fe->label);
		ser_str(&js, "kind", fe->consumer ? "consumer" : "ingress");
		ser_str(&js, "consumer", fe->consumer);
		ser_str(&js, "target", fe->target);
		pv_json_ser_key(&js, "netns_pid");
		pv_json_ser_int(&js, fe->netns_pid);
		pv_json_ser_key(&js, "listening");
		pv_json_ser_bool(&js, fe->listening);
		ser_str(&js, "health", down ? "down" : "up");
		ser_str(&js, "reason", down);
		ser_str(&js, "balance", pvx_balance_name(fe->balance));
		pv_json_ser_key(&js, "maxconn");
		pv_json_ser_int(&js, fe->maxconn);
		ser_u64(&js, "backends_up", pvx_frontend_backends_up(fe));
		ser_u64(&js, "sessions_now", fe->stats.sessions_now);
		ser_u64(&js, "sessions_total", fe->stats.sessions_total);
		ser_u64(&js, "bytes_in", in);
		ser_u64(&js, "bytes_out", out);
		ser_u64(&js, "connect_errors", fe->stats.connect_errors);
		ser_u64(&js, "retries", fe->stats.retries);
		ser_u64(&js, "denied", fe->stats.denied);
		pv_json_ser_key(&js, "backends");
		pv_json_ser_array_begin(&js);
		dl_list_for_each (b, &fe->backends, struct pvx_backend, list) {
			ser_backend(&js, b);
		}
		pv_json_ser_array_end(&js);
		pv_json_ser_object_end(&js);
	}
	pv_json_ser_array_end(&js);
	pv_json_ser_object_end(&js);
	return pv_json_ser_finish(&js, len);
}

void pvx_text_put(struct pvx_text *t, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *nb;
	int n;

	while (!t->failed) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL,
			      t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if (t->buf && t->len + n < t->cap) {
			t->len += n;
			return;
		}
		// Too short: grow and format again.
		cap = t->cap ? t->cap * 2 : 4096;
		while (cap < t->len + n + 1)
			cap *= 2;
		nb = realloc(t->buf, cap);
		if (!nb) {
			t->failed = 1;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
}

char *pvx_text_finish(struct pvx_text *t, size_t *len)
{
	if (t->failed || !t->buf) {
		free(t->buf);
		return NULL;
	}
	*len = t->len;
	return t->buf;
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

// One metric family: each frontend (or each backend) gives a sample,
// unless has() says it has none (a check figure without a check).
struct family {
	const char *name;
	const char *type;
	const char *help;
	int backend; // per backend, else per frontend
	double (*value)(const struct pvx_frontend *fe,
			const struct pvx_backend *b);
	int (*has)(const struct pvx_backend *b);
};

// Frontend figures.
static double fe_up(const struct pvx_frontend *fe, const struct pvx_backend *b)
{
	(void)b;
	return !pvx_frontend_down_reason(fe);
}

static double fe_listening(const struct pvx_frontend *fe,
			   const struct pvx_backend *b)
{
	(void)b;
	return fe->listening;
}

static double fe_backends_up(const struct pvx_frontend *fe,
			     const struct pvx_backend *b)
{
	(void)b;
	return pvx_frontend_backends_up(fe);
}

static double fe_maxconn(const struct pvx_frontend *fe,
			 const struct pvx_backend *b)
{
	(void)b;
	return fe->maxconn;
}

static double fe_sessions_now(const struct pvx_frontend *fe,
			      const struct pvx_backend *b)
{
	(void)b;
	return fe->stats.sessions_now;
}

static double fe_sessions_total(const struct pvx_frontend *fe,
				const struct pvx_backend *b)
{
	(void)b;
	return fe->stats.sessions_total;
}

static double fe_bytes_in(const struct pvx_frontend *fe,
			  const struct pvx_backend *b)
{
	uint64_t in, out;

	(void)b;
	pvx_frontend_bytes(fe, &in, &out);
	return in;
}

static double fe_bytes_out(const struct pvx_frontend *fe,
			   const struct pvx_backend *b)
{
	uint64_t in, out;

	(void)b;
	pvx_frontend_bytes(fe, &in, &out);
	return out;
}

static double fe_connect_errors(const struct pvx_frontend *fe,
				const struct pvx_backend *b)
{
	(void)b;
	return fe->stats.connect_errors;
}

static double fe_retries(const struct pvx_frontend *fe,
			 const struct pvx_backend *b)
{
	(void)b;
	return fe->stats.retries;
}

static double fe_denied(const struct pvx_frontend *fe,
			const struct pvx_backend *b)
{
	(void)b;
	return fe->stats.denied;
}

// Backend figures.
static double be_up(const struct pvx_frontend *fe, const struct pvx_backend *b)
{
	(void)fe;
	return pvx_backend_usable(b);
}

static double be_sessions_now(const struct pvx_frontend *fe,
			      const struct pvx_backend *b)
{
	(void)fe;
	return b->stats.sessions_now;
}

static double be_sessions_total(const struct pvx_frontend *fe,
				const struct pvx_backend *b)
{
	(void)fe;
	return b->stats.sessions_total;
}

static double be_bytes_in(const struct pvx_frontend *fe,
			  const struct pvx_backend *b)
{
	uint64_t in, out;

	(void)fe;
	pvx_backend_bytes(b, &in, &out);
	return in;
}

static double be_bytes_out(const struct pvx_frontend *fe,
			   const struct pvx_backend *b)
{
	uint64_t in, out;

	(void)fe;
	pvx_backend_bytes(b, &in, &out);
	return out;
}

static double be_connect_errors(const struct pvx_frontend *fe,
				const struct pvx_backend *b)
{
	(void)fe;
	return b->stats.connect_errors;
}

static double be_retries(const struct pvx_frontend *fe,
			 const struct pvx_backend *b)
{
	(void)fe;
	return b->stats.retries;
}

// Check figures, for backends with a check.
static int has_check(const struct pvx_backend *b)
{
	return b->health.enabled;
}

static int has_result(const struct pvx_backend *b)
{
	return b->health.enabled && b->health.last_ok >= 0;
}

static double be_check_up(const struct pvx_frontend *fe,
			  const struct pvx_backend *b)
{
	(void)fe;
	return b->health.up;
}

static double be_check_last_ok(const struct pvx_frontend *fe,
			       const struct pvx_backend *b)
{
	(void)fe;
	return b->health.last_ok;
}

static double be_check_duration(const struct pvx_frontend *fe,
				const struct pvx_backend *b)
{
	(void)fe;
	return b->health.last_ms / 1000.0;
}

static double be_checks(const struct pvx_frontend *fe,
			const struct pvx_backend *b)
{
	(void)fe;
	return b->health.checks;
}

static double be_check_failures(const struct pvx_frontend *fe,
				const struct pvx_backend *b)
{
	(void)fe;
	return b->health.failures;
}

static double be_downs(const struct pvx_frontend *fe,
		       const struct pvx_backend *b)
{
	(void)fe;
	return b->health.downs;
}

static double be_last_change(const struct pvx_frontend *fe,
			     const struct pvx_backend *b)
{
	(void)fe;
	return pvx_seconds_since(&b->health.changed_at);
}

static const struct family families[] = {
	{ "pvx_frontend_up", "gauge",
	  "1 while the frontend listens and has a usable backend", 0, fe_up,
	  NULL },
	{ "pvx_frontend_listening", "gauge", "1 while the frontend listens", 0,
	  fe_listening, NULL },
	{ "pvx_frontend_backends_up", "gauge",
	  "Backends that take new sessions", 0, fe_backends_up, NULL },
	{ "pvx_frontend_maxconn", "gauge",
	  "Sessions allowed at once (0: unlimited)", 0, fe_maxconn, NULL },
	{ "pvx_frontend_current_sessions", "gauge", "Sessions open now", 0,
	  fe_sessions_now, NULL },
	{ "pvx_frontend_sessions_total", "counter", "Sessions accepted", 0,
	  fe_sessions_total, NULL },
	{ "pvx_frontend_bytes_in_total", "counter",
	  "Bytes from clients to backends", 0, fe_bytes_in, NULL },
	{ "pvx_frontend_bytes_out_total", "counter",
	  "Bytes from backends to clients", 0, fe_bytes_out, NULL },
	{ "pvx_frontend_connect_errors_total", "counter",
	  "Failed connects to backends", 0, fe_connect_errors, NULL },
	{ "pvx_frontend_retries_total", "counter",
	  "Connects retried on another backend", 0, fe_retries, NULL },
	{ "pvx_frontend_denied_total", "counter",
	  "Clients refused by the allow list", 0, fe_denied, NULL },
	{ "pvx_backend_up", "gauge", "1 while the backend takes sessions", 1,
	  be_up, NULL },
	{ "pvx_backend_current_sessions", "gauge", "Sessions open now", 1,
	  be_sessions_now, NULL },
	{ "pvx_backend_sessions_total", "counter", "Sessions sent here", 1,
	  be_sessions_total, NULL },
	{ "pvx_backend_bytes_in_total", "counter",
	  "Bytes from clients to this backend", 1, be_bytes_in, NULL },
	{ "pvx_backend_bytes_out_total", "counter",
	  "Bytes from this backend to clients", 1, be_bytes_out, NULL },
	{ "pvx_backend_connect_errors_total", "counter",
	  "Failed connects to this backend", 1, be_connect_errors, NULL },
	{ "pvx_backend_retries_total", "counter",
	  "Sessions sent here after another backend failed", 1, be_retries,
	  NULL },
	{ "pvx_backend_check_up", "gauge",
	  "1 while the health checks pass (rise/fall applied)", 1, be_check_up,
	  has_check },
	{ "pvx_backend_check_last_ok", "gauge",
	  "1 when the last health check passed", 1, be_check_last_ok,
	  has_result },
	{ "pvx_backend_check_duration_seconds", "gauge",
	  "How long the last health check took", 1, be_check_duration,
	  has_result },
	{ "pvx_backend_checks_total", "counter", "Health checks run", 1,
	  be_checks, has_check },
	{ "pvx_backend_check_failures_total", "counter", "Health checks failed",
	  1, be_check_failures, has_check },
	{ "pvx_backend_downs_total", "counter",
	  "Times the health checks took the backend down", 1, be_downs,
	  has_check },
	{ "pvx_backend_check_last_change_seconds", "gauge",
	  "Seconds since the checks last changed the backend's state", 1,
	  be_last_change, has_check },
};

// A sample's value: integers as such, others with enough digits.
static void put_value(struct pvx_text *t, double v)
{
	if (v == (double)(long long)v)
		put(t, " %lld\n", (long long)v);
	else
		put(t, " %.6f\n", v);
}

char *pvx_status_metrics(struct pvx *x, size_t *len)
{
	struct pvx_text t = { 0 };
	struct pvx_frontend *fe;
	struct pvx_backend *b;
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		const struct family *f = &families[i];

		put(&t, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
		    f->name, f->type);
		dl_list_for_each (fe, &x->frontends, struct pvx_frontend,
				  list) {
			if (fe->closed)
				continue;
			if (!f->backend) {
				put(&t, "%s{frontend=\"", f->name);
				put_label(&t, fe->label);
				put(&t, "\",consumer=\"");
				put_label(&t, fe->consumer ? fe->consumer : "");
				put(&t, "\",target=\"");
				put_label(&t, fe->target);
				put(&t, "\"}");
				put_value(&t, f->value(fe, NULL));
				continue;
			}
			dl_list_for_each (b, &fe->backends, struct pvx_backend,
					  list) {
				if (f->has && !f->has(b))
					continue;
				put(&t, "%s{frontend=\"", f->name);
				put_label(&t, fe->label);
				put(&t, "\",consumer=\"");
				put_label(&t, fe->consumer ? fe->consumer : "");
				put(&t, "\",provider=\"");
				put_label(&t, b->provider);
				put(&t, "\",backend=\"");
				put_label(&t, b->socket);
				put(&t, "\"}");
				put_value(&t, f->value(fe, b));
			}
		}
	}
	return pvx_text_finish(&t, len);
}
