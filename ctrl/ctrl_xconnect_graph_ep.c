// GET /xconnect-graph: the graph with live pids and current leases.
#define MODULE_NAME "ctrl-graph"

#include "ctrl/ctrl.h"
#include "daemon.h"

// Answers the graph as built right now from the state pvd keeps current.
void pv_ctrl_xconnect_graph_get(void *ctx, const struct pv_ctrl_request *req,
				struct pv_ctrl_response *resp)
{
	struct pv_daemon *d = ctx;

	(void)req;
	pv_ctrl_json(resp, 200, pv_state_get_xconnect_graph_json(d->state));
}
