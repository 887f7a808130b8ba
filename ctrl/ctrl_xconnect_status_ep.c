// GET /xconnect-status: pv-xconnect's per-ingress and per-backend figures.
// pv-xconnect owns the figures; it reports them with PUT and pvd serves
// the latest report as it is.
#define MODULE_NAME "ctrl-status"

#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "daemon.h"
#include "utils/json.h"

// Answers the last report, or 503 before the first one.
void pv_ctrl_xconnect_status_get(void *ctx, const struct pv_ctrl_request *req,
				 struct pv_ctrl_response *resp)
{
	struct pv_daemon *d = ctx;

	(void)req;
	if (!d->xconnect_status) {
		pv_ctrl_error(resp, 503,
			      "pv-xconnect has not reported its status yet");
		return;
	}
	pv_ctrl_json(resp, 200, strdup(d->xconnect_status));
}

// Stores a report: any valid JSON document.
void pv_ctrl_xconnect_status_put(void *ctx, const struct pv_ctrl_request *req,
				 struct pv_ctrl_response *resp)
{
	struct pv_daemon *d = ctx;
	struct pv_json doc = { 0 };
	const char *reason;
	char *copy;

	if (pv_json_parse(&doc, req->body, req->body_len, &reason) == -1) {
		pv_ctrl_error(resp, 400, "body: not JSON: %s", reason);
		return;
	}
	pv_json_free(&doc);
	copy = strdup(req->body);
	if (!copy) {
		pv_ctrl_error(resp, 500, "out of memory");
		return;
	}
	free(d->xconnect_status);
	d->xconnect_status = copy;
	pv_ctrl_json(resp, 200, strdup("{\"stored\":true}"));
}
