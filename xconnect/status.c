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

// Bytes moved by sessions still open: the counters proper are added to
// when a session ends.
static void live_bytes(const struct pvx_backend *b, uint64_t *in, uint64_t *out)
{
	const struct pvx_session *s;

	*in = b->stats.bytes_in;
	*out = b->stats.bytes_out;
	dl_list_for_each (s, &b->sessions, struct pvx_session, list) {
		*in += s->tun.up.bytes;
		*out += s->tun.down.bytes;
	}
}

// The same for a frontend: its closed sessions plus its backends' live
// ones.
static void fe_live_bytes(const struct pvx_frontend *fe, uint64_t *in,
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

static void ser_u64(struct pv_json_ser *js, const char *key, uint64_t v)
{
	pv_json_ser_key(js, key);
	pv_json_ser_int(js, (long long)v);
}

static void ser_backend(struct pv_json_ser *js, const struct pvx_backend *b)
{
	const char *down = pvx_backend_down_reason(b);
	uint64_t in, out;

	live_bytes(b, &in, &out);
	pv_json_ser_object_begin(js);
	pv_json_ser_key(js, "provider");
	pv_json_ser_string(js, b->provider);
	pv_json_ser_key(js, "provider_pid");
	pv_json_ser_int(js, b->provider_pid);
	pv_json_ser_key(js, "socket");
	pv_json_ser_string(js, b->socket);
	pv_json_ser_key(js, "health");
	pv_json_ser_string(js, down ? "down" : "up");
	pv_json_ser_key(js, "reason");
	pv_json_ser_string(js, down);
	ser_u64(js, "sessions_now", b->stats.sessions_now);
	ser_u64(js, "sessions_total", b->stats.sessions_total);
	ser_u64(js, "bytes_in", in);
	ser_u64(js, "bytes_out", out);
	ser_u64(js, "connect_errors", b->stats.connect_errors);
	ser_u64(js, "retries", b->stats.retries);
	pv_json_ser_key(js, "last_check");
	pv_json_ser_null(js);
	pv_json_ser_object_end(js);
}

char *pvx_status_json(struct pvx *x, size_t *len)
{
	struct pv_json_ser js;
	struct pvx_frontend *fe;
	struct pvx_backend *b;
	uint64_t in, out;

	pv_json_ser_init(&js);
	pv_json_ser_object_begin(&js);
	pv_json_ser_key(&js, "frontends");
	pv_json_ser_array_begin(&js);
	dl_list_for_each (fe, &x->frontends, struct pvx_frontend, list) {
		if (fe->closed)
			continue;
		fe_live_bytes(fe, &in, &out);
		pv_json_ser_object_begin(&js);
		pv_json_ser_key(&js, "name");
		pv_json_ser_string(&js, fe->label);
		pv_json_ser_key(&js, "kind");
		pv_json_ser_string(&js, fe->consumer ? "consumer" : "ingress");
		pv_json_ser_key(&js, "consumer");
		pv_json_ser_string(&js, fe->consumer);
		pv_json_ser_key(&js, "target");
		pv_json_ser_string(&js, fe->target);
		pv_json_ser_key(&js, "netns_pid");
		pv_json_ser_int(&js, fe->netns_pid);
		pv_json_ser_key(&js, "listening");
		pv_json_ser_bool(&js, fe->listening);
		pv_json_ser_key(&js, "balance");
		pv_json_ser_string(&js, balance_names[fe->balance]);
		pv_json_ser_key(&js, "maxconn");
		pv_json_ser_int(&js, fe->maxconn);
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

// A growing text buffer; after a failed allocation every call is a no-op.
struct text {
	char *buf;
	size_t len, cap;
	int failed;
};

static void put(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
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

// A label value with \, " and newline escaped as the format wants.
static void put_label(struct text *t, const char *v)
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

// One metric family: each frontend (or each backend) gives a sample.
struct family {
	const char *name;
	const char *type;
	const char *help;
	int backend; // per backend, else per frontend
	uint64_t (*value)(const struct pvx_frontend *fe,
			  const struct pvx_backend *b);
};

static uint64_t fe_sessions_now(const struct pvx_frontend *fe,
				const struct pvx_backend *b)
{
	(void)b;
	return fe->stats.sessions_now;
}

static uint64_t fe_sessions_total(const struct pvx_frontend *fe,
				  const struct pvx_backend *b)
{
	(void)b;
	return fe->stats.sessions_total;
}

static uint64_t fe_bytes_in(const struct pvx_frontend *fe,
			    const struct pvx_backend *b)
{
	uint64_t in, out;

	(void)b;
	fe_live_bytes(fe, &in, &out);
	return in;
}

static uint64_t fe_bytes_out(const struct pvx_frontend *fe,
			     const struct pvx_backend *b)
{
	uint64_t in, out;

	(void)b;
	fe_live_bytes(fe, &in, &out);
	return out;
}

static uint64_t fe_connect_errors(const struct pvx_frontend *fe,
				  const struct pvx_backend *b)
{
	(void)b;
	return fe->stats.connect_errors;
}

static uint64_t fe_denied(const struct pvx_frontend *fe,
			  const struct pvx_backend *b)
{
	(void)b;
	return fe->stats.denied;
}

static uint64_t fe_listening(const struct pvx_frontend *fe,
			     const struct pvx_backend *b)
{
	(void)b;
	return fe->listening;
}

static uint64_t be_up(const struct pvx_frontend *fe,
		      const struct pvx_backend *b)
{
	(void)fe;
	return pvx_backend_usable(b);
}

static uint64_t be_sessions_now(const struct pvx_frontend *fe,
				const struct pvx_backend *b)
{
	(void)fe;
	return b->stats.sessions_now;
}

static uint64_t be_sessions_total(const struct pvx_frontend *fe,
				  const struct pvx_backend *b)
{
	(void)fe;
	return b->stats.sessions_total;
}

static uint64_t be_bytes_in(const struct pvx_frontend *fe,
			    const struct pvx_backend *b)
{
	uint64_t in, out;

	(void)fe;
	live_bytes(b, &in, &out);
	return in;
}

static uint64_t be_bytes_out(const struct pvx_frontend *fe,
			     const struct pvx_backend *b)
{
	uint64_t in, out;

	(void)fe;
	live_bytes(b, &in, &out);
	return out;
}

static uint64_t be_connect_errors(const struct pvx_frontend *fe,
				  const struct pvx_backend *b)
{
	(void)fe;
	return b->stats.connect_errors;
}

static uint64_t be_retries(const struct pvx_frontend *fe,
			   const struct pvx_backend *b)
{
	(void)fe;
	return b->stats.retries;
}

static const struct family families[] = {
	{ "pvx_frontend_up", "gauge", "1 while the frontend listens", 0,
	  fe_listening },
	{ "pvx_frontend_current_sessions", "gauge", "Sessions open now", 0,
	  fe_sessions_now },
	{ "pvx_frontend_sessions_total", "counter", "Sessions accepted", 0,
	  fe_sessions_total },
	{ "pvx_frontend_bytes_in_total", "counter",
	  "Bytes from clients to backends", 0, fe_bytes_in },
	{ "pvx_frontend_bytes_out_total", "counter",
	  "Bytes from backends to clients", 0, fe_bytes_out },
	{ "pvx_frontend_connect_errors_total", "counter",
	  "Failed connects to backends", 0, fe_connect_errors },
	{ "pvx_frontend_denied_total", "counter",
	  "Clients refused by the allow list", 0, fe_denied },
	{ "pvx_backend_up", "gauge", "1 while the backend takes sessions", 1,
	  be_up },
	{ "pvx_backend_current_sessions", "gauge", "Sessions open now", 1,
	  be_sessions_now },
	{ "pvx_backend_sessions_total", "counter", "Sessions sent here", 1,
	  be_sessions_total },
	{ "pvx_backend_bytes_in_total", "counter",
	  "Bytes from clients to this backend", 1, be_bytes_in },
	{ "pvx_backend_bytes_out_total", "counter",
	  "Bytes from this backend to clients", 1, be_bytes_out },
	{ "pvx_backend_connect_errors_total", "counter",
	  "Failed connects to this backend", 1, be_connect_errors },
	{ "pvx_backend_retries_total", "counter",
	  "Sessions sent here after another backend failed", 1, be_retries },
};

char *pvx_status_metrics(struct pvx *x, size_t *len)
{
	struct text t = { 0 };
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
				put(&t, "\"} %llu\n",
				    (unsigned long long)f->value(fe, NULL));
				continue;
			}
			dl_list_for_each (b, &fe->backends, struct pvx_backend,
					  list) {
				put(&t, "%s{frontend=\"", f->name);
				put_label(&t, fe->label);
				put(&t, "\",consumer=\"");
				put_label(&t, fe->consumer ? fe->consumer : "");
				put(&t, "\",provider=\"");
				put_label(&t, b->provider);
				put(&t, "\",backend=\"");
				put_label(&t, b->socket);
				put(&t, "\"} %llu\n",
				    (unsigned long long)f->value(fe, b));
			}
		}
	}
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}
