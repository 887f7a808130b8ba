// GET /containers: each container's status, pid and address, with
// upstream's fields (group, status_goal, restart_policy, uptime_secs,
// auto_recovery, roles, provides, consumes). GET and PUT
// /containers/NAME: one container, and upstream's start, stop and restart.
#define MODULE_NAME "ctrl-containers"

#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "ctrl/ctrl.h"
#include "daemon.h"
#include "log.h"
#include "utils/json.h"

#define CONTAINERS_PREFIX "/containers/"

// Answers [{name, status, pid, ip, pool, ...}], with error and the last
// log line for a container that failed.
void pv_ctrl_containers_get(void *ctx, const struct pv_ctrl_request *req,
			    struct pv_ctrl_response *resp)
{
	struct pv_daemon *d = ctx;
	struct pv_json_ser js;

	(void)req;
	pv_json_ser_init(&js);
	pv_containers_ser(d->containers, &js);
	pv_ctrl_json(resp, 200, pv_json_ser_finish(&js, NULL));
}

// Answers the object of the container the path names, 404 if none.
static void answer_one(struct pv_daemon *d, const char *name, int status,
		       struct pv_ctrl_response *resp)
{
	struct pv_json_ser js;

	pv_json_ser_init(&js);
	if (pv_containers_ser_one(d->containers, name, &js) == -1) {
		free(pv_json_ser_finish(&js, NULL));
		pv_ctrl_error(resp, 404, "no container named %s", name);
		return;
	}
	pv_ctrl_json(resp, status, pv_json_ser_finish(&js, NULL));
}

void pv_ctrl_container_get(void *ctx, const struct pv_ctrl_request *req,
			   struct pv_ctrl_response *resp)
{
	answer_one(ctx, req->path + strlen(CONTAINERS_PREFIX), 200, resp);
}

// Takes {"action": "start" | "stop" | "restart"}, as upstream; a
// container whose restart_policy is "system" is refused with 403, as
// upstream protects them (they go down only with the device). Answers
// the container's object as it is now ("stopping" while a stop is under
// way).
void pv_ctrl_container_put(void *ctx, const struct pv_ctrl_request *req,
			   struct pv_ctrl_response *resp)
{
	static const char *const actions[] = { "start", "stop", "restart" };
	const char *name = req->path + strlen(CONTAINERS_PREFIX), *reason;
	struct pv_daemon *d = ctx;
	struct pv_json doc = { 0 };
	struct pv_platform *p;
	size_t i;
	int tok;

	if (d->shutting_down) {
		pv_ctrl_error(resp, 503, "pvd is shutting down");
		return;
	}
	p = pv_containers_platform(d->containers, name);
	if (!p) {
		pv_ctrl_error(resp, 404, "no container named %s", name);
		return;
	}
	if (pv_json_parse(&doc, req->body, req->body_len, &reason) == -1) {
		pv_ctrl_error(resp, 400, "body: not JSON: %s", reason);
		return;
	}
	tok = pv_json_get(&doc, 0, "action");
	for (i = 0; tok >= 0 && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (pv_json_eq(&doc, tok, actions[i]))
			break;
	if (tok < 0 || i == sizeof(actions) / sizeof(actions[0])) {
		pv_ctrl_error(resp, 400,
			      "body: action: want \"start\", \"stop\" or "
			      "\"restart\"");
		goto out;
	}
	if (p->restart_policy == RESTART_SYSTEM) {
		pv_ctrl_error(resp, 403,
			      "container %s has restart_policy system: it is "
			      "not controlled through pv-ctrl",
			      name);
		goto out;
	}
	if (pv_containers_control(d->containers, name, actions[i]) == -1) {
		pv_ctrl_error(resp, 503,
			      "container %s cannot be controlled now", name);
		goto out;
	}
	answer_one(d, name, 200, resp);
out:
	pv_json_free(&doc);
}
