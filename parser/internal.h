#ifndef PV_PARSER_INTERNAL_H
#define PV_PARSER_INTERNAL_H

// Shared by the parser's files: the state file and the state directory
// both become a list of entries (one per file) that parser_system1.c turns
// into a state.

#include "state.h"
#include "utils/errors.h"
#include "utils/json.h"

#include <sys/socket.h>

// The largest state file and the largest file of a state directory.
#define PV_PARSER_MAX_FILE PV_JSON_MAX_SIZE
// The most containers a state may hold; far more than a device runs, and
// it bounds the cross checks, which compare containers pairwise.
#define PV_PARSER_MAX_CONTAINERS 1024

enum pv_entry_kind {
	PV_ENTRY_DEVICE,
	PV_ENTRY_RUN,
	PV_ENTRY_SERVICES,
};

// One file of the state: device.json, NAME/run.json or NAME/services.json.
struct pv_parser_entry {
	enum pv_entry_kind kind;
	const char *key;	   // "nginx/run.json", as errors name it
	const char *name;	   // "nginx"; NULL for device.json
	const struct pv_json *doc; // NULL: unreadable, already reported
	int tok;		   // the file's value in doc
};

#define SPEC_SYSTEM "pantavisor-service-system@1"

// A socket path longer than this is refused (PATH_MAX); pv-xconnect
// reaches it through an fd, so sun_path's 108 bytes are no limit.
#define MAX_SOCKET_PATH 4096

#define SERVICE_TYPES "tcp, unix, http, rest, dbus, drm, wayland"

// How the build reads the other files of a state (a container's
// lxc.container.conf): from the state file's string values or from the
// state directory. read returns 0 with *text (caller frees), or -1 with
// why (n bytes) saying what is wrong, worded to follow the key
// ("is not in the state").
struct pv_parser_files {
	int (*read)(void *arg, const char *key, char **text, char *why,
		    size_t n);
	void *arg;
};

// What the parser knows while it reads one state.
struct pv_parser_ctx {
	struct pv_state *s;
	struct pv_errors *errs;
	const char *key; // the file being read, as errors name it
	const struct pv_json *doc;
	int oom;
	// device.json's pools: any declared one that failed validation
	// suppresses "unknown pool" errors that would only repeat it.
	int pools_bad;
	int device_seen;
	char **pool_names; // every pool device.json declares
	int n_pool_names;
	const struct pv_parser_files *files; // NULL: no other files
	int groups_declared;		     // device.json has "groups"
	int groups_bad;			     // ... and one of them had an error
	// Containers with a root-volume pvd will not mount: one warning.
	char *root_volume_key;
	int n_root_volume;
	// Field paths and excerpts for messages (pv_parser_fld, _ex).
	char **arena;
	int narena;
};

// Keeps s (allocated) until the arena is popped below it; returns s, or
// a static stand-in (and sets c->oom) when s is NULL.
const char *pv_parser_arena_keep(struct pv_parser_ctx *c, char *s);

// Frees the strings kept since mark (an earlier c->narena).
void pv_parser_arena_pop(struct pv_parser_ctx *c, int mark);

// A field path built like printf, valid until the enclosing element's
// pv_parser_arena_pop, so it can be built once and used in many messages.
const char *pv_parser_fld(struct pv_parser_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

// The token's text as written (strings keep their quotes), shortened, with
// control characters replaced so that each error stays one line.
const char *pv_parser_ex(struct pv_parser_ctx *c, int tok);

// A key's text as written, without quotes, shortened, control characters
// replaced: for field paths ("env.LANG").
const char *pv_parser_key(struct pv_parser_ctx *c, int tok);

// s as pv_parser_ex would show the string token holding it: quoted,
// shortened, one line; for checks made after the document is closed.
const char *pv_parser_quote(struct pv_parser_ctx *c, const char *s);

// The reason pv_json_parse gave, worded for "KEY: invalid JSON (REASON)".
const char *pv_parser_json_reason(const char *reason);

// Reports one problem of the current file: "KEY: FIELD: REASON" (no FIELD
// part when field is NULL).
void pv_parser_err(struct pv_parser_ctx *c, const char *field, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

// Reports and logs an allocation failure; the state will be refused.
void pv_parser_oom(struct pv_parser_ctx *c, const char *field);

// The decoded string at tok (caller frees); reports and returns NULL on
// \u0000 or when out of memory.
char *pv_parser_decode(struct pv_parser_ctx *c, int tok, const char *field);

#define OPTIONAL 0
#define REQUIRED 1
#define NONEMPTY 2

// Reads the string obj.key into *out (caller frees). Absent or null:
// *out = NULL, and "missing" is reported when REQUIRED. Returns -1 when
// something was reported.
int pv_parser_get_str(struct pv_parser_ctx *c, int obj, const char *key,
		      const char *field, int flags, char **out);

// Reads the integer obj.key in min..max into *out; absent leaves *out as
// it is. Returns -1 when something was reported.
int pv_parser_get_int(struct pv_parser_ctx *c, int obj, const char *key,
		      const char *field, long long min, long long max,
		      int *out);

// Reads true/false obj.key into *out; absent leaves it. -1 if reported.
int pv_parser_get_bool(struct pv_parser_ctx *c, int obj, const char *key,
		       const char *field, int *out);

// A port at tok: a JSON integer or a string of digits, 1..65535. -1 if
// reported.
int pv_parser_get_port(struct pv_parser_ctx *c, int tok, const char *field,
		       int *port);

// Reports each key of obj not in allowed (NULL-terminated): in sections
// this project defines, a misspelt option must not pass silently.
void pv_parser_only_keys(struct pv_parser_ctx *c, int obj, const char *base,
			 const char *const *allowed);

// Reads a service's "type" (base names the service). -1 if reported.
int pv_parser_get_service_type(struct pv_parser_ctx *c, int obj,
			       const char *base, service_type_t *type);

// Checks that path (the string at tok) is an absolute path inside a
// container; refuses addresses with a reason saying why. -1 if reported.
int pv_parser_check_socket_path(struct pv_parser_ctx *c, int tok,
				const char *field, const char *path);

// The same for a path already decoded, shown (as pv_parser_quote gives
// it) in messages; for checks made after the document is closed.
int pv_parser_check_socket_text(struct pv_parser_ctx *c, const char *shown,
				const char *field, const char *path);

// 1 for a Linux interface name, a unicast MAC "xx:xx:xx:xx:xx:xx", a host
// name, an IPv4 or IPv6 address.
int pv_parser_valid_ifname(const char *s);
int pv_parser_valid_mac(const char *s);
int pv_parser_valid_hostname(const char *s);
int pv_parser_valid_ip(const char *s);

// Appends s to the NULL-terminated vector *v of *n strings, taking s.
// Returns -1 when out of memory (s is freed).
int pv_parser_strv_push(char ***v, int *n, char *s);

// 1 for services reached over TCP (tcp, http, rest): a requirement's
// target is an address and an export may give a port.
int pv_parser_tcp_like(service_type_t t);

// Why export e of p cannot be reached from outside p, or NULL.
const char *pv_parser_unreachable(struct pv_platform *p,
				  struct pv_platform_service_export *e);

// 1 if listeners on a and b could not both bind (same port and address,
// or a wildcard covering the other).
int pv_parser_binds_conflict(const struct sockaddr_storage *a,
			     const struct sockaddr_storage *b);

// Reads device.json at dev into c->s (pools, ingress, xconnect).
void pv_parser_device(struct pv_parser_ctx *c, int dev);

// Reports an array or object at tok with more than limit entries (the
// checks between entries are quadratic; real states are far smaller).
// Returns 1 if reported.
int pv_parser_too_many(struct pv_parser_ctx *c, int tok, const char *field,
		       int limit);

// 1 when tok is an array of 1 to limit entries; otherwise reports field
// ("expected EXPECTED, got ...", or too many) and returns 0.
int pv_parser_want_list(struct pv_parser_ctx *c, int tok, const char *field,
			const char *expected, int limit);

// Classifies a state key: 0 with *kind set and *name_len the length of
// NAME (0 for device.json), or -1 for a key the state does not read.
int pv_parser_classify_key(const char *key, enum pv_entry_kind *kind,
			   size_t *name_len);

// 1 if name may name a container (and a NAME/ directory): letters,
// digits, '.', '_', '-', not starting with '.', at most 64 characters.
int pv_parser_valid_name(const char *name);

// Builds a state from entries in container order, reading other files
// of the state through files (may be NULL). Every problem is added to
// errs; returns NULL if there was any.
struct pv_state *pv_parser_build(const struct pv_parser_entry *entries, int n,
				 const char *spec,
				 const struct pv_parser_files *files,
				 struct pv_errors *errs);

// Reads obj's "restart_policy" (field names it) into *out. Returns 1 when
// it was given, 0 when absent, -1 when something was reported.
int pv_parser_get_restart_policy(struct pv_parser_ctx *c, int obj,
				 const char *field, restart_policy_t *out);

// Reads obj's "status_goal" (MOUNTED, STARTED, READY, any case) into
// *out, upstream's capitals (caller frees; NULL when absent). -1 if
// reported.
int pv_parser_get_status_goal(struct pv_parser_ctx *c, int obj,
			      const char *field, char **out);

// Reads obj's "auto_recovery" (base is obj's field path, "" for a file)
// into *out; absent or wrong leaves *out as it is (errors reported).
void pv_parser_get_recovery(struct pv_parser_ctx *c, int obj, const char *base,
			    struct pv_platform_recovery *out);

// device.json "groups" into c->s->groups.
void pv_parser_groups(struct pv_parser_ctx *c, int dev);

// Once device.json is read: p's group (device.json's, else upstream's
// defaults), and the restart policy, status goal and auto_recovery that
// p takes from it where run.json says nothing.
void pv_parser_resolve_group(struct pv_parser_ctx *c, struct pv_platform *p);

// run.json without "exec": the command (and environment) of the
// lxc.container.conf that "config" names, read through c->files; one
// error saying what pvd needs otherwise. obj is the run.json object.
void pv_parser_lxc_exec(struct pv_parser_ctx *c, struct pv_platform *p,
			int obj);

// Splits an lxc.container.conf's text: the words of its lxc.init.cmd into
// *argv (NULL when there is none) and its lxc.environment "KEY=VALUE"
// items into *env (NULL-terminated vectors, caller frees). Returns 0, or
// -1 when out of memory.
int pv_parser_lxc_conf(const char *text, char ***argv, char ***env);

#endif
