#ifndef PV_PLATFORMS_H
#define PV_PLATFORMS_H

#include <sys/types.h>

#include "utils/list.h"

// The service types a services.json may name.
typedef enum {
	SVC_TYPE_UNKNOWN = 0,
	SVC_TYPE_TCP,
	SVC_TYPE_UNIX,
	SVC_TYPE_HTTP,
	SVC_TYPE_REST,
	SVC_TYPE_DBUS,
	SVC_TYPE_DRM,
	SVC_TYPE_WAYLAND,
} service_type_t;

// Maps "tcp", "unix", ... to its type; SVC_TYPE_UNKNOWN otherwise.
service_type_t pv_service_type_from_str(const char *s);

// The graph's spelling of a type ("tcp", ...).
const char *pv_service_type_to_str(service_type_t t);

// One entry of services.json "services": what the container offers.
struct pv_platform_service_export {
	service_type_t svc_type;
	char *name;
	char *socket;	     // absolute path inside the container, or NULL
	int port;	     // 1..65535, 0 when not given
	struct dl_list list; // in pv_platform.exports
};

// One entry of run.json "services.required": what the container consumes.
struct pv_platform_service_require {
	service_type_t svc_type;
	char *name;	 // the provider's service name
	char *provider;	 // the providing container, or NULL to match by name
	char *target;	 // where the consumer reaches it ("127.0.0.1:8080")
	char *interface; // optional, copied to the graph
	char *role;	 // the graph's role, "client" unless the state says
	int index;	 // position in services.required, for error messages
	int type_from_export; // no "type" given: svc_type is the export's
	struct dl_list list;  // in pv_platform.requires
};

typedef enum {
	NET_MODE_NONE = 0, // loopback only
	NET_MODE_HOST,	   // shares the host's network namespace
	NET_MODE_POOL,	   // veth on an IPAM pool bridge
} network_mode_t;

// A network interface on an IPAM pool.
struct pv_platform_network_iface {
	char *name;	     // "eth0", "eth1", ...
	char *pool;	     // pool name
	char *static_ip;     // requested address, or NULL to lease
	char *mac;	     // requested MAC, or NULL
	char *address;	     // leased address without prefix, or NULL
	char *origin;	     // where the state names it ("network"), for errors
	struct dl_list list; // in pv_platform_network.interfaces
};

struct pv_platform_network {
	network_mode_t mode;
	char *hostname;		   // or NULL
	struct dl_list interfaces; // pv_platform_network_iface
};

typedef enum {
	RESTART_NO = 0,
	RESTART_ON_FAILURE,
	RESTART_ALWAYS,
	RESTART_CONTAINER, // upstream's: auto_recovery restarts it
	RESTART_SYSTEM,	   // upstream's: its failure is the device's; pvd stops
} restart_policy_t;

// "no", "on-failure", "always", "container", "system".
const char *pv_restart_policy_str(restart_policy_t r);

typedef enum {
	RECOVERY_NO = 0,
	RECOVERY_ON_FAILURE,
	RECOVERY_ALWAYS,
	RECOVERY_UNLESS_STOPPED,
} recovery_policy_t;

// "no", "on-failure", "always", "unless-stopped".
const char *pv_recovery_policy_str(recovery_policy_t r);

// upstream's auto_recovery: restarts after retry_delay, each next one
// backoff_factor times later, at most max_retries in a row.
struct pv_platform_recovery {
	int set; // given (run.json or group); 0: pvd's own back-off
	recovery_policy_t policy;
	int max_retries;     // 0: unlimited
	int retry_delay_ms;  // before the first restart
	int backoff_milli;   // backoff_factor x 1000 (2.0 -> 2000)
	int reset_window_ms; // a run this long resets the count; 0: never
};

typedef enum {
	PLAT_STOPPED = 0,
	PLAT_STARTING,
	PLAT_RUNNING,
	PLAT_FAILED,
} platform_status_t;

// A container of the state (run.json plus services.json).
struct pv_platform {
	char *name;
	char *type;  // "lxc"
	char **exec; // NULL-terminated argv
	char **env;  // NULL-terminated "KEY=VALUE" list
	char *root;  // root directory, or NULL for the host's root read-only
	restart_policy_t restart_policy;
	int restart_policy_set;		      // written in run.json
	struct pv_platform_recovery recovery; // own, the group's or default
	char *group;			      // device.json group, or NULL
	char *status_goal;		      // "STARTED" (upstream's spelling)
	char **roles; // upstream's roles, NULL-terminated, or NULL
	struct pv_platform_network network;
	struct dl_list exports;	 // pv_platform_service_export
	struct dl_list requires; // pv_platform_service_require

	// Runtime, filled by pvd; pid <= 0 means not running.
	pid_t pid;
	platform_status_t status;
	char *error; // last start failure, or NULL

	struct dl_list list; // in pv_state.platforms
};

// Allocates an empty platform named name (copied). NULL on failure.
struct pv_platform *pv_platform_new(const char *name);

// Frees a platform and everything it owns. NULL-safe.
void pv_platform_free(struct pv_platform *p);

// Adds an export; strings are copied, socket may be NULL, port 0 if none.
struct pv_platform_service_export *
pv_platform_add_service_export(struct pv_platform *p, service_type_t type,
			       const char *name, const char *socket, int port);

// Adds a requirement; strings are copied, provider and interface may be
// NULL, role NULL means "client". NULL on allocation failure.
struct pv_platform_service_require *
pv_platform_add_service_require(struct pv_platform *p, service_type_t type,
				const char *name, const char *provider,
				const char *target, const char *interface,
				const char *role);

// Returns the export named name, or NULL.
struct pv_platform_service_export *
pv_platform_find_export(struct pv_platform *p, const char *name);

// Adds a pool interface named "ethN" (N counting from 0); strings are
// copied, static_ip and mac may be NULL. NULL on allocation failure.
struct pv_platform_network_iface *pv_platform_add_iface(struct pv_platform *p,
							const char *pool,
							const char *static_ip,
							const char *mac);

// Returns the container's first leased IPv4 address ("10.0.4.2", no
// prefix), or NULL while none is leased.
const char *pv_platform_get_ipv4_address(struct pv_platform *p);

// Returns the first leased address, IPv4 or IPv6, or NULL.
const char *pv_platform_get_address(struct pv_platform *p);

// Frees a NULL-terminated vector of strings (exec, env, ...). NULL-safe.
void pv_strv_free(char **v);

// "stopped", "starting", "running", "failed".
const char *pv_platform_status_str(platform_status_t s);

#endif
