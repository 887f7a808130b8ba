#ifndef PV_NETDEV_H
#define PV_NETDEV_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

// Host network devices through rtnetlink: pvd never runs ip(8) or any
// other command line built from state values.

// Returns 1 if a network interface of that name exists, 0 otherwise.
int pv_netdev_exists(const char *name);

// Looks for an address or a main-table route on the host that overlaps
// net/prefix (same family). Returns 1 and describes the first one found in
// desc ("10.0.4.1/24 on eth0"), 0 when none does, -1 on a netlink error.
int pv_netdev_subnet_in_use(const struct sockaddr_storage *net, int prefix,
			    char *desc, size_t n);

// Creates bridge name, gives it gw/prefix and sets it up. Returns 0, or -1
// after logging why; a half-created bridge is removed again.
int pv_netdev_bridge_create(const char *name, const struct sockaddr_storage *gw,
			    int prefix);

// Bridges created by pvd carry the alias "pvd/<pid of that pvd>".
#define PV_NETDEV_ALIAS_PREFIX "pvd/"

// For an existing bridge: the pid in its pvd alias (0 when it has none,
// -1 when name is not a bridge); *ports is set to its number of ports.
pid_t pv_netdev_bridge_owner(const char *name, int *ports);

// Deletes the interface called name. Returns 0, or -1 after logging why.
int pv_netdev_delete(const char *name);

#endif
