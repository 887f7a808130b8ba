// GET /daemons and PUT /daemons/pv-xconnect: the programs pvd supervises.
#define MODULE_NAME "ctrl-daemons"

#include "ctrl/ctrl.h"
#include "daemon.h"
#include "log.h"
#include "supervisor.h"
#include "utils/json.h"

#define XCONNECT_GRACE_MS 2000

// Answers [{name, pid, respawn, status, restarts}].
void pv_ctrl_daemons_get(void *ctx, const struct pv_ctrl_request *req,
			 struct pv_ctrl_response *resp)
{
	struct pv_daemon *d = ctx;
	struct pv_json_ser js;

	(void)req;
	pv_json_ser_init(&js);
	pv_json_ser_array_begin(&js);
	pv_supervised_ser(d->xconnect, &js);
	pv_json_ser_array_end(&js);
	pv_ctrl_json(resp, 200, pv_json_ser_finish(&js, NULL));
}

// Takes {"action":"stop"} (stop, no respawn) or {"action":"start"} (start
// and respawn again); answers the daemon's object as it is now.
void pv_ctrl_daemons_put(void *ctx, const struct pv_ctrl_request *req,
			 struct pv_ctrl_response *resp)
{
	struct pv_daemon *d = ctx;
	struct pv_json doc = { 0 };
	struct pv_json_ser js;
	const char *reason;
	int action;

	if (d->shutting_down) {
		pv_ctrl_error(resp, 503, "pvd is shutting down");
		return;
	}
	if (pv_json_parse(&doc, req->body, req->body_len, &reason) == -1) {
		pv_ctrl_error(resp, 400, "body: not JSON: %s", reason);
		return;
	}
	action = pv_json_get(&doc, 0, "action");
	if (action < 0 || !pv_json_is_string(&doc, action)) {
		pv_ctrl_error(resp, 400,
			      "body: action: missing; want \"start\" or "
			      "\"stop\"");
		goto out;
	}
	if (pv_json_eq(&doc, action, "stop")) {
		pv_log(INFO, "pv-ctrl: stop pv-xconnect");
		pv_supervised_stop(d->xconnect, XCONNECT_GRACE_MS);
	} else if (pv_json_eq(&doc, action, "start")) {
		pv_log(INFO, "pv-ctrl: start pv-xconnect");
		pv_supervised_start(d->xconnect);
	} else {
		pv_ctrl_error(resp, 400,
			      "body: action: want \"start\" or \"stop\"");
		goto out;
	}
	pv_json_ser_init(&js);
	pv_supervised_ser(d->xconnect, &js);
	pv_ctrl_json(resp, 200, pv_json_ser_finish(&js, NULL));
out:
	pv_json_free(&doc);
}
