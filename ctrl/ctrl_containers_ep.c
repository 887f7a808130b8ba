// GET /containers: each container's status, pid and address.
#define MODULE_NAME "ctrl-containers"

#include "containers.h"
#include "ctrl/ctrl.h"
#include "daemon.h"

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
