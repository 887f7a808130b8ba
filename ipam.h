#ifndef PV_IPAM_H
#define PV_IPAM_H

#include <sys/socket.h>

#include "utils/list.h"

// One lease: an address of a pool held by a container.
struct pv_ipam_lease {
	char *owner;	     // container name
	char *address;	     // text, no prefix
	struct dl_list list; // in pv_ipam_pool.leases
};

// An IPAM pool from device.json "network.pools".
struct pv_ipam_pool {
	char *name;
	char *type;    // "bridge"
	char *bridge;  // bridge device name
	char *subnet;  // as written, "10.0.4.0/24"
	char *gateway; // "10.0.4.1"
	int nat;
	int family;		     // AF_INET or AF_INET6
	int prefix;		     // prefix length
	struct sockaddr_storage net; // network address
	struct sockaddr_storage gw;  // gateway address
	struct dl_list leases;	     // pv_ipam_lease
	struct dl_list list;	     // in pv_state.pools
};

// Creates a pool after validating subnet and gateway (NULL gateway: the
// subnet's first host address). On failure returns NULL and points *reason
// at a static text "FIELD: REASON" where FIELD is "subnet" or "gateway"
// and REASON reads after the value ("is outside the subnet"), so callers
// can print `subnet: "10.0.4.0/33" is not a subnet ...`. gateway is stored
// in canonical form.
struct pv_ipam_pool *pv_ipam_pool_new(const char *name, const char *bridge,
				      const char *subnet, const char *gateway,
				      int nat, const char **reason);

// Frees a pool and its leases. NULL-safe.
void pv_ipam_pool_free(struct pv_ipam_pool *pool);

// Returns 1 if address (text) lies in the pool's subnet and is usable for
// a host (not the network, gateway or IPv4 broadcast address).
int pv_ipam_contains(struct pv_ipam_pool *pool, const char *address);

// Leases want (a static address) or, when want is NULL, the first free
// address after the gateway (wrapping to the subnet's start). Returns the
// lease's address text (owned by the pool, canonical form), or NULL with
// *reason set to text that reads after the address ("is outside the
// subnet", "is already taken", "pool exhausted"). An owner that already
// holds a lease gets the same address back.
const char *pv_ipam_lease(struct pv_ipam_pool *pool, const char *owner,
			  const char *want, const char **reason);

// Returns 1 if the subnets of a and b share any address.
int pv_ipam_overlaps(const struct pv_ipam_pool *a,
		     const struct pv_ipam_pool *b);

// Returns the owner of the lease on address, or NULL when it is free.
const char *pv_ipam_owner(struct pv_ipam_pool *pool, const char *address);

// Releases every lease held by owner.
void pv_ipam_release(struct pv_ipam_pool *pool, const char *owner);

#endif
