#ifndef PV_XCONNECT_H
#define PV_XCONNECT_H

// pv-xconnect: the service-mesh proxy. This umbrella header is for the
// program's main() and the unit tests only; each module includes the
// headers of the modules it calls (docs/architecture.md has the layers).
// The objects, from the outside in:
//
//   pvx_graph     the links parsed from one xconnect-graph document
//   pvx_link      one entry of the graph; owned by its graph, freed when
//                 the next graph replaces it: nothing long-lived points
//                 into it, plugins copy what they need
//   pvx_plugin    the code for one link type ("tcp"), called by reconcile
//   pvx_frontend  one listener (ingress name or consumer + target) and the
//                 pool of backends behind it; reference-counted
//   pvx_backend   one link's way to its provider (TCP address or Unix path
//                 inside the provider's root); reference-counted
//   pvx_session   one accepted client: connects to a backend, then moves
//                 bytes through a pvx_tunnel until both directions end
//
// Sessions hold a reference on their backend, backends on their
// frontend, so reconcile can drop links and listeners at any time.

#include "backend.h"
#include "balance.h"
#include "defs.h"
#include "fetch.h"
#include "figures.h"
#include "frontend.h"
#include "graph.h"
#include "health.h"
#include "obj.h"
#include "plugins.h"
#include "proxy.h"
#include "proxyproto.h"
#include "reconcile.h"
#include "session.h"
#include "sock.h"
#include "statspage.h"
#include "status.h"
#include "text.h"
#include "tunnel.h"
#include "workers.h"

#endif
