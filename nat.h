#ifndef PV_NAT_H
#define PV_NAT_H

#include <sys/types.h>

#include "state.h"

// Masquerading for pools with "nat": true, through libnftables (never by
// running nft). Each pvd has a table of its own, "inet pvd_<pid>", so that
// a killed pvd's leftover table is recognised by its name and removed,
// as its bridges are by their alias.

#define PV_NAT_TABLE_PREFIX "pvd_"

struct pv_nat;

// Removes the tables of pvds that are gone (alive says whether a pid is
// a live pvd), then, when s has NAT pools, creates our table: what a NAT
// pool's subnet sends out through any interface but its bridge leaves
// with the host's address. Turns IPv4 (and for IPv6 pools IPv6)
// forwarding on if it is off, saying so in one line. Returns NULL when
// there is nothing to do or NAT cannot be had (one line says why; the
// pools work without NAT).
struct pv_nat *pv_nat_new(struct pv_state *s, int (*alive)(pid_t));

// Deletes our table and puts forwarding back as it was. NULL-safe.
void pv_nat_free(struct pv_nat *n);

#endif
