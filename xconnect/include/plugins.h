#ifndef PV_XCONNECT_PLUGINS_H
#define PV_XCONNECT_PLUGINS_H

// The plugins built in (plugins/*.c).

#include "reconcile-t.h"

// The tcp plugin (plugins/tcp.c).
extern const struct pvx_plugin pvx_plugin_tcp;

#endif
