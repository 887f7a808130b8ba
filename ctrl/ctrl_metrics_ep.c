// GET /metrics: pv-xconnect's figures in Prometheus text format, as last
// reported by pv-xconnect with PUT.
#define MODULE_NAME "ctrl-metrics"

#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "daemon.h"

#define PROMETHEUS_TYPE "text/plain; version=0.0.4; charset=utf-8"

// Answers the last report, or 503 before the first one.
void pv_ctrl_metrics_get(void *ctx, const struct pv_ctrl_request *req,
			 struct pv_ctrl_response *resp)
{
	struct pv_daemon *d = ctx;

	(void)req;
	if (!d->xconnect_metrics) {
		pv_ctrl_error(resp, 503,
			      "pv-xconnect has not reported its metrics yet");
		return;
	}
	resp->body = strdup(d->xconnect_metrics);
	if (!resp->body) {
		pv_ctrl_error(resp, 500, "out of memory");
		return;
	}
	resp->status = 200;
	resp->content_type = PROMETHEUS_TYPE;
}

// Stores a report: text without NUL bytes.
void pv_ctrl_metrics_put(void *ctx, const struct pv_ctrl_request *req,
			 struct pv_ctrl_response *resp)
{
	struct pv_daemon *d = ctx;
	char *copy;

	if (strlen(req->body) != req->body_len) {
		pv_ctrl_error(resp, 400, "body: NUL byte in metrics text");
		return;
	}
	copy = strdup(req->body);
	if (!copy) {
		pv_ctrl_error(resp, 500, "out of memory");
		return;
	}
	free(d->xconnect_metrics);
	d->xconnect_metrics = copy;
	pv_ctrl_json(resp, 200, strdup("{\"stored\":true}"));
}
