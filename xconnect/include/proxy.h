#ifndef PV_XCONNECT_PROXY_H
#define PV_XCONNECT_PROXY_H

// The proxy context and the program (xconnect.c).

#include "proxy-t.h"
#include "reconcile-t.h"

// Sets up x (event base, scratch buffer). Returns 0 or -1.
int pvx_init(struct pvx *x);

// Frees what pvx_init and the links created. NULL-safe members.
void pvx_fini(struct pvx *x);

// The program: parses argv, runs until SIGTERM. Returns the exit status.
int pvx_main(int argc, char **argv);

// The plugins built in, NULL-terminated.
extern const struct pvx_plugin *const pvx_plugins[];

#endif
