// The magic-number check's failure path (obj.h).

#define MODULE_NAME "obj"

#include <stdlib.h>

#include "log.h"
#include "obj.h"

void pvx_obj_fail(const char *what, unsigned magic, const char *want,
		  const char *file, int line, const char *func)
{
	pv_log(FATAL, "%s:%d: %s: %s is %s (magic %#x, want %s): aborting",
	       file, line, func, what,
	       magic ? "not a live object" : "NULL or freed", magic, want);
	abort();
}
