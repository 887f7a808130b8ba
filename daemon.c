// Placeholder until the daemon lands: refuses to run.
#define MODULE_NAME "daemon"

#include "daemon.h"
#include "log.h"

int pv_daemon_run(struct pv_state *s, const struct pv_daemon_options *opts)
{
	(void)opts;
	pv_log(ERROR, "the daemon is not built yet");
	pv_state_free(s);
	return 1;
}
