#ifndef PV_XCONNECT_H
#define PV_XCONNECT_H

// pv-xconnect: the service-mesh proxy. The objects, from the outside in:
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

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "utils/errors.h"
#include "utils/json.h"
#include "utils/list.h"

// Connect timeout when the link sets none (timeouts.connect_ms).
#define PVX_CONNECT_MS_DEFAULT 5000
// Idle timeout when the link sets none (timeouts.idle_ms; 0 in a graph
// turns it off): a session in which nothing moved for this long is
// closed, so that clients that vanish without a FIN (a device unplugged,
// a NAT entry dropped) do not hold fds and buffers for ever. Ten minutes,
// as nginx's proxy_timeout: long enough for chatty protocols' keepalives.
#define PVX_IDLE_MS_DEFAULT 600000
// Sessions at most, over all frontends, when --maxconn is not given:
// each takes two fds, and some are kept for listeners, providers' pidfds
// and roots, health checks and pv-ctrl (as HAProxy derives its maxconn
// from ulimit -n).
#define PVX_FD_RESERVE 64
// The largest global session cap (--maxconn).
#define PVX_MAXCONN_MAX 100000000
// Sessions of a removed link get this long to finish before they are cut.
#define PVX_DRAIN_MS 5000
// How long an accept that failed for lack of fds pauses its listener.
#define PVX_ACCEPT_PAUSE_MS 250
// How often a listener that could not bind tries again.
#define PVX_BIND_RETRY_MS 1000
// A backend whose connect just failed is passed over by new clients for
// this long (while others are usable), until checks or a retry say more.
#define PVX_SUSPECT_MS 1000
// At most this many bytes wait in the proxy per direction of a session:
// one read's worth. Also the size of each read.
#define PVX_FLOW_BUF (64 * 1024)
// Edges handled per epoll_wait of the data path.
#define PVX_EPOLL_BATCH 256
// What a bulk flow's pipe holds at most: bytes in flight per direction
// of a spliced flow (page references, not copies).
#define PVX_PIPE_BYTES (256 * 1024)
// Empty pipes kept for reuse by bulk flows (per loop).
#define PVX_PIPE_POOL 16
// Pipes in use at most (bulk flows splicing at once); fewer with a low fd
// limit. Flows past it copy.
#define PVX_PIPES_MAX 4096

// ---- links and graphs (graph.c) ----

enum pvx_check_type {
	PVX_CHECK_NONE = 0,
	PVX_CHECK_TCP,
	PVX_CHECK_HTTP,
};

// An ingress rule's active health check, as the graph gives it.
struct pvx_check {
	enum pvx_check_type type;
	char *path;				 // HTTP path, NULL: "/health"
	int expect;				 // HTTP status, 0: 200
	int interval_ms, timeout_ms, rise, fall; // 0: defaults
};

// A client network allowed in: an IPv4 or IPv6 prefix.
struct pvx_cidr {
	struct sockaddr_storage net;
	int prefix;
};

// 1 when addr (IPv4, IPv6, or IPv4-mapped IPv6) is inside one of the n
// networks of allow.
int pvx_cidr_match(const struct pvx_cidr *allow, int n,
		   const struct sockaddr *addr);

enum pvx_balance {
	PVX_BALANCE_ROUNDROBIN = 0,
	PVX_BALANCE_LEASTCONN,
	PVX_BALANCE_FIRST,
	PVX_BALANCE_SOURCE,
};

// One entry of the xconnect-graph. Absent strings are NULL, except those
// every link has (type, name, provider, target), and socket ("" when
// absent).
struct pvx_link {
	char *key;   // identity across graphs, see pvx_link_key
	char *label; // for logs: the ingress name, else the service name
	char *type;
	char *name;
	char *consumer;
	char *provider;
	char *role;
	char *interface;
	char *target;
	char *socket;
	char *ingress;
	int consumer_pid; // <= 0: not running
	int provider_pid;
	enum pvx_balance balance;
	char *proxy_protocol;
	int connect_ms; // 0: default
	int idle_ms;	// -1: PVX_IDLE_MS_DEFAULT; 0: no idle timeout
	int maxconn;	// 0: unlimited
	struct pvx_check check;
	struct pvx_cidr *allow; // clients allowed in; NULL: all
	int nallow;
	void *priv;	     // the plugin's object, carried across updates
	int served;	     // reconcile: 1 set up by its plugin, 0 not (yet)
	int unserved_logged; // reconcile: "no plugin" said once
	struct dl_list list; // in pvx_graph.links
};

// The links of one graph document, in document order.
struct pvx_graph {
	struct dl_list links; // pvx_link
	int count;
};

// Starts an empty graph.
void pvx_graph_init(struct pvx_graph *g);

// Frees every link of g (their priv is not touched); g is empty after.
void pvx_graph_clear(struct pvx_graph *g);

// Parses an xconnect-graph document into g (which must be empty). Bad
// links are skipped, each with one line in errs naming it, field and
// reason. Returns 0, or -1 when the document as a whole is unusable (not
// JSON, not an array): then g stays empty and errs says why.
int pvx_graph_parse(struct pvx_graph *g, const char *text, size_t len,
		    struct pv_errors *errs);

// The link of g with that key, or NULL.
struct pvx_link *pvx_graph_find(struct pvx_graph *g, const char *key);

// Frees a link. NULL-safe.
void pvx_link_free(struct pvx_link *l);

// The identity of a link: an ingress link by (ingress, provider), any
// other by (consumer, name, target). Caller frees; NULL on failure.
char *pvx_link_key(const struct pvx_link *l);

// 1 when two links with the same key carry the same configuration.
int pvx_link_equal(const struct pvx_link *a, const struct pvx_link *b);

// "roundrobin"... as the enum; -1 when unknown.
int pvx_balance_parse(const char *s);

// ---- plugins and reconcile (reconcile.c) ----

struct pvx;

// The code for one link type. Hooks other than the three link hooks are
// optional (NULL). A plugin keeps its per-link object in link->priv; the
// link itself is freed by reconcile after the call, so the plugin copies
// whatever it needs beyond the call.
struct pvx_plugin {
	const char *type; // the links' "type"
	// Called once at start and at exit.
	int (*init)(struct pvx *x);
	void (*fini)(struct pvx *x);
	// A new link: set up its listener/backend. Returns 0, or -1 when the
	// link could not be set up at all (it is tried again next graph).
	int (*on_link_added)(struct pvx *x, struct pvx_link *link);
	// The link with the same key changed: link->priv holds old->priv on
	// entry; apply the difference in place, without cutting established
	// sessions.
	void (*on_link_updated)(struct pvx *x, const struct pvx_link *old,
				struct pvx_link *link);
	// The link is gone: close its listener now, drain its sessions.
	void (*on_link_removed)(struct pvx *x, struct pvx_link *link);
	// Writes the plugin's status (one JSON value) into js.
	void (*status)(struct pvx *x, struct pv_json_ser *js);
};

// The links in effect and the plugins that serve them.
struct pvx_reconciler {
	struct pvx_graph current;
	const struct pvx_plugin *const *plugins; // NULL-terminated
	struct pvx *x;				 // passed to the hooks
	char *last_errors; // the previous parse's error lines, to log once
};

// Starts with no links.
void pvx_reconciler_init(struct pvx_reconciler *r,
			 const struct pvx_plugin *const *plugins,
			 struct pvx *x);

// Applies next: links whose key is new are added, those gone removed,
// those whose configuration changed updated. Removals run first so that
// a listener moved between links can bind again. Takes the links of next
// (left empty). Returns the number of changes.
int pvx_reconcile(struct pvx_reconciler *r, struct pvx_graph *next);

// Removes every link (at exit).
void pvx_reconciler_clear(struct pvx_reconciler *r);

// Parses a graph document and reconciles it; bad links are logged once
// (not at every poll while they stay the same). A document that does not
// parse leaves the links in effect as they are. Returns 0 or -1.
int pvx_reconcile_text(struct pvx_reconciler *r, const char *text, size_t len);

// ---- the graph over pv-ctrl (fetch.c) ----

// Finds the body of a complete HTTP/1.x response in buf: status 200,
// Content-Length honoured when present (the body must be complete), else
// everything after the headers. Returns 0, or -1 with *reason set.
int pvx_http_body(const char *buf, size_t len, const char **body,
		  size_t *body_len, const char **reason);

struct pvx_fetch;

// Called once with the body (NULL and a reason on failure); the fetch is
// freed after the call returns.
typedef void (*pvx_fetch_cb)(const char *body, size_t len, const char *reason,
			     void *arg);

// GETs path from the HTTP server on the Unix socket sock, reading the
// whole answer until EOF, within timeout_ms. Returns NULL when it could
// not start (cb is then not called).
struct pvx_fetch *pvx_fetch_start(struct event_base *base, const char *sock,
				  const char *path, int timeout_ms,
				  pvx_fetch_cb cb, void *arg);

// PUTs body (len bytes of content_type) to path on the same kind of
// server; cb gets the answer's body (NULL and a reason unless status 200).
struct pvx_fetch *pvx_fetch_put(struct event_base *base, const char *sock,
				const char *path, const char *content_type,
				const char *body, size_t len, int timeout_ms,
				pvx_fetch_cb cb, void *arg);

// Abandons a fetch in progress (cb is not called). NULL-safe.
void pvx_fetch_cancel(struct pvx_fetch *f);

// ---- the proxy context (xconnect.c) ----

struct pvx {
	struct event_base *base;
	int verbose;
	int drain_ms;
	int maxconn;	// sessions at most, all frontends together; 0: no cap
	int nsessions;	// sessions now (connecting or established)
	int cap_logged; // "at --maxconn" said, until well below it again
	struct pvx_reconciler rec;
	struct dl_list frontends; // pvx_frontend, with or without listener
	struct dl_list sessions;  // pvx_session, every one (at exit: closed)
	char *scratch;		  // PVX_FLOW_BUF bytes for reads
	int pipes_max;		  // pipes in use at most (0: never splice)
	int pipes_used;		  // pipes held by flows (the pool aside)
	int npool;		  // empty pipes kept for reuse: pool[0..npool)
	int pool[PVX_PIPE_POOL][2];
	int epfd;			 // the data path's sockets (plumbing.c)
	struct event ev_epoll;		 // epfd has edges
	struct dl_list again;		 // pvx_tunnel, yielded, to run again
	struct event ev_again;		 // a zero timer: runs them next round
	int again_failed;		 // ev_again could not be armed (said)
	struct epoll_event *batch;	 // the edges being handled, or NULL
	int batch_n, batch_i;		 // their count, the one being handled
	struct pvx_statspage *statspage; // the HTML stats page, or NULL
	int reuseport;		     // listeners share their ports (--threads)
	struct pvx_workers *workers; // --threads: the others (main's only)
};

// Sets up x (event base, scratch buffer). Returns 0 or -1.
int pvx_init(struct pvx *x);

// Frees what pvx_init and the links created. NULL-safe members.
void pvx_fini(struct pvx *x);

// The program: parses argv, runs until SIGTERM. Returns the exit status.
int pvx_main(int argc, char **argv);

// The plugins built in, NULL-terminated.
extern const struct pvx_plugin *const pvx_plugins[];

// ---- network namespaces and sockets (netns.c) ----

// A listening TCP socket on addr (SO_REUSEADDR, non-blocking, CLOEXEC),
// created inside the network namespace of pid when pid > 0 (by a thread
// of its own: the caller's never changes namespace), else in ours.
// Returns the fd, or -1 with errno set and *what naming the step.
int pvx_listen(struct pvx *x, const struct sockaddr *addr, socklen_t len,
	       int pid, const char **what);

// An O_PATH fd on the root of pid's mount namespace, or -1 (errno set).
int pvx_root_open(int pid);

// Opens path (absolute) under the root fd without leaving it: symlinks
// resolve inside it, magic links are refused. Returns an O_PATH fd, or -1
// with errno set: EAGAIN when renames or mounts raced every one of a few
// tries (the path may be fine a moment later).
int pvx_root_resolve(int rootfd, const char *path);

// ---- active health checks (health.c) ----

// What a rule's "check" leaves out (HAProxy's defaults for inter, rise,
// fall; timeout as HAProxy's "timeout check" is commonly set).
#define PVX_CHECK_INTERVAL_MS 2000
#define PVX_CHECK_TIMEOUT_MS  1000
#define PVX_CHECK_RISE	      2
#define PVX_CHECK_FALL	      3
#define PVX_CHECK_PATH	      "/health"
#define PVX_CHECK_EXPECT      200

// One backend's active health check and what it found. Without a check
// configured the backend counts as healthy.
struct pvx_health {
	struct pvx_check conf;	 // defaults filled in; path owned
	unsigned enabled : 1;	 // conf.type != PVX_CHECK_NONE
	unsigned up : 1;	 // by the checks (1 until fall failures)
	unsigned running : 1;	 // a check is in progress
	unsigned sent : 1;	 // the HTTP request went out
	unsigned stalled : 1;	 // ev_next could not be armed (said)
	int streak;		 // results in a row against the state
	int fd;			 // the check's connection, -1
	struct event ev_io;	 // its progress, with the check's deadline
	struct event ev_next;	 // the next check
	struct timespec started; // CLOCK_MONOTONIC
	char rbuf[128];		 // the start of the answer
	size_t rlen;
	int last_ok;		    // -1 before the first result
	int last_ms;		    // duration of the last check
	char last[96];		    // its result: "HTTP 200", "timeout"
	struct timespec last_at;    // when it ended (CLOCK_REALTIME)
	struct timespec changed_at; // last up/down change (CLOCK_REALTIME)
	uint64_t checks, failures, downs;
	char why[128]; // while down: "check failed: HTTP 500"
};

struct pvx_backend;

// Sets up b's health (no check, healthy). Call once before the others.
void pvx_health_init(struct pvx_backend *b);

// Applies a rule's check to b: starts, restarts (when the check changed)
// or stops the checks; keeps the state found so far when only timings
// change. Returns 0, or -1 (memory; the previous check stays).
int pvx_health_configure(struct pvx_backend *b, const struct pvx_check *c);

// Checks b soon (its address or provider changed).
void pvx_health_kick(struct pvx_backend *b);

// A session's connect to b failed: checks b now rather than at the next
// interval (at most every 100 ms), so the checks catch a dead backend
// sooner when traffic finds it first.
void pvx_health_connect_failed(struct pvx_backend *b);

// b's provider exited: whatever runs next under its name has to pass
// rise checks before it gets sessions, as a backend coming back would.
void pvx_health_provider_gone(struct pvx_backend *b);

// Stops the checks for good (link removed, backend freed).
void pvx_health_fini(struct pvx_backend *b);

// Why the checks keep b out of rotation, or NULL when they do not.
const char *pvx_health_down_reason(const struct pvx_backend *b);

// The check's state as HAProxy shows it: "UP", "DOWN", "UP 1/3" (going
// down), "DOWN 1/2" (going up), "no check". Into buf; returns buf.
const char *pvx_health_state(const struct pvx_backend *b, char *buf, size_t n);

// The check type's name ("tcp", "http") or NULL without a check.
const char *pvx_health_type(const struct pvx_backend *b);

// ---- frontends, backends (frontend.c, backend.c) ----

// Counters shared by frontends and backends.
struct pvx_stats {
	uint64_t sessions_total;
	uint32_t sessions_now;
	uint64_t bytes_in;  // client to backend
	uint64_t bytes_out; // backend to client
	uint64_t connect_errors;
	uint64_t retries;
	uint64_t denied; // clients refused by the allow list
};

struct pvx_rootsock;

// A listener and its pool of backends. Links with the same frontend key
// (ingress name or consumer, consumer pid and target) share it.
struct pvx_frontend {
	int refs;
	struct pvx *x;
	char *key;
	char *label;	// for logs
	char *consumer; // the consumer's name, NULL for an ingress rule
	char *target;	// as written in the graph
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int netns_pid; // 0: ours
	int fd;	       // -1 while not listening
	struct event ev_accept;
	struct event ev_timer;	     // bind retry, accept pause
	unsigned listening : 1;	     // fd open, ev_accept set up
	unsigned paused : 1;	     // ev_accept removed (EMFILE, maxconn)
	unsigned bind_failed : 1;    // last bind failed (logged once)
	unsigned closed : 1;	     // no links left; waits for its references
	unsigned accept_failing : 1; // accept ran out of fds (said once)
	unsigned warned_down : 1;    // "no usable backend" said
	unsigned watch_failed : 1;   // ev_accept could not be added (said)
	// A Unix listener (consumer links of type unix): target is a path
	// inside the root of netns_pid's mount namespace (rootbind.c); the
	// socket made there while listening; why the last listen failed.
	unsigned unix_path : 1;
	struct pvx_rootsock *rootsock;
	char listen_why[160];
	struct timeval backoff_last; // last pvx_frontend_backoff
	enum pvx_balance balance;
	int maxconn;		// 0: unlimited
	int proxy_protocol;	// 0: none, 1 or 2: PROXY header version
	struct pvx_cidr *allow; // clients allowed in; NULL: all
	int nallow;
	unsigned rr; // roundrobin position
	struct pvx_stats stats;
	struct dl_list backends; // pvx_backend, in the pool
	struct dl_list list;	 // in pvx.frontends
};

enum pvx_backend_kind {
	PVX_BACKEND_NONE = 0, // no address yet: down
	PVX_BACKEND_TCP,
	PVX_BACKEND_UNIX,
};

// One link's backend: how to reach its provider.
struct pvx_backend {
	int refs;
	struct pvx_frontend *fe; // reference held
	char *label;		 // the link's label, for logs
	char *key;		 // the link's key: the backend's identity
	char *provider;
	char *socket; // as written in the graph
	int provider_pid;
	int host; // provider "_host_": the address is a host one
	enum pvx_backend_kind kind;
	struct sockaddr_storage addr; // TCP
	socklen_t addr_len;
	// A Unix backend inside a container holds its provider: a pidfd
	// (watched: the process exiting takes the backend down, its root
	// with it, whatever the graph still says) and an O_PATH fd on the
	// root it had. Reopened when the graph gives a new pid.
	int pid_fd;  // -1 when not held
	int root_fd; // -1 when not held
	struct event ev_pid;
	unsigned provider_gone : 1; // the pid we held has exited
	int connect_ms;
	int idle_ms;
	unsigned in_pool : 1; // in fe->backends
	unsigned removed : 1; // link gone: sessions draining
	struct event ev_drain;
	unsigned drain_armed : 1;
	unsigned connect_failed : 1; // the last session's connect failed
	struct timeval failed_at;    // when (loop time)
	struct pvx_stats stats;
	struct pvx_health health;
	struct dl_list sessions; // pvx_session
	struct dl_list list;	 // in fe->backends
};

// The frontend with this key, a new one (listening at once, or retrying)
// when there is none. Returns a new reference, or NULL.
struct pvx_frontend *pvx_frontend_get(struct pvx *x, const char *key,
				      const char *label, const char *consumer,
				      const char *target, int netns_pid);

// The same for a Unix listener at target, a path inside the root of
// pid's mount namespace (-1: not running yet).
struct pvx_frontend *pvx_frontend_get_unix(struct pvx *x, const char *key,
					   const char *label,
					   const char *consumer,
					   const char *target, int pid);

// Takes a reference.
void pvx_frontend_ref(struct pvx_frontend *fe);

// Drops a reference; the last one frees. NULL-safe.
void pvx_frontend_unref(struct pvx_frontend *fe);

// Closes the listener when the pool is empty (the port is free at once);
// the struct lives on while sessions reference it.
void pvx_frontend_check_empty(struct pvx_frontend *fe);

// A call (named by what; errno says why) failed for lack of fds or
// memory: stops accepting for PVX_ACCEPT_PAUSE_MS, so that waiting
// clients stay in the backlog rather than the loop spinning on the error.
// Logged once until a session gets through again.
void pvx_frontend_backoff(struct pvx_frontend *fe, const char *what);

// Replaces the frontend's allow list with a copy of allow (n 0: all
// clients). Returns 0, or -1 (memory; the old list stays).
int pvx_frontend_set_allow(struct pvx_frontend *fe,
			   const struct pvx_cidr *allow, int n);

// Resumes accepting (after maxconn relief); no-op when not paused by it.
void pvx_frontend_resume(struct pvx_frontend *fe);

// Resumes every frontend that the global session cap (pvx.maxconn) had
// paused, now that a session ended.
void pvx_frontend_resume_all(struct pvx *x);

// Picks the backend for a new client; skip is one that just failed (or
// NULL). Returns a borrowed pointer, or NULL when none is usable.
struct pvx_backend *pvx_frontend_pick(struct pvx_frontend *fe,
				      const struct sockaddr *peer,
				      const struct pvx_backend *skip);

// A backend for link in fe's pool. Returns a new backend (one reference,
// held by the caller: the link), or NULL.
struct pvx_backend *pvx_backend_new(struct pvx_frontend *fe,
				    const struct pvx_link *link);

// Applies a changed link to b in place. Returns 1 when anything changed.
int pvx_backend_update(struct pvx_backend *b, const struct pvx_link *link);

// The link of b is gone (or moved elsewhere): b leaves the pool and the
// link's reference is dropped. With drain, its sessions get the grace
// period and are then cut; without, they run on until they end.
void pvx_backend_remove(struct pvx_backend *b, int drain);

// Takes/drops a reference; the last one frees. unref is NULL-safe.
void pvx_backend_ref(struct pvx_backend *b);
void pvx_backend_unref(struct pvx_backend *b);

// 1 when b can be tried for a new session.
int pvx_backend_usable(const struct pvx_backend *b);

// A session's connect to b ended: ok 1 connected, 0 failed.
void pvx_backend_connected(struct pvx_backend *b, int ok);

// 1 when b's last connect failed less than PVX_SUSPECT_MS ago: new
// clients (and retries) go to the other backends first.
int pvx_backend_suspect(const struct pvx_backend *b);

// Why b cannot be tried ("no address yet", "provider not running",
// "check failed: HTTP 500"), or NULL when it can.
const char *pvx_backend_down_reason(const struct pvx_backend *b);

// 1 when b has somewhere to connect to (its health aside): an address,
// and a running provider for a container's backend.
int pvx_backend_reachable(const struct pvx_backend *b);

// Starts a non-blocking connect to b. Returns the socket (connect in
// progress or done), or -1 with errno set, or *reason (static) when errno
// does not say it. *again is set to 1 for a Unix backlog that is full
// (try again shortly).
int pvx_backend_connect(struct pvx_backend *b, int *again, const char **reason);

// Describes b's address for logs into buf ("10.0.4.2:80",
// "app1:/run/app.sock"). Returns buf.
const char *pvx_backend_describe(const struct pvx_backend *b, char *buf,
				 size_t n);

// Now on the monotonic clock, for sessions' and backends' deadlines: they
// must not move with the wall clock, which a board without an RTC sets
// by NTP long after boot. The coarse clock comes from the vDSO without a
// system call; its tick (1 to 4 ms) is finer than any timeout here.
static inline void pvx_now(struct timeval *tv)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

// ---- the data path (plumbing.c) ----

// One socket of a tunnel and what its edges said. Registered once, edge-
// triggered, for reading, writing and the peer's FIN, for the whole life
// of the connection; a flag stays set until a call answers EAGAIN.
struct pvx_end {
	int fd;		       // -1: none
	unsigned is_b : 1;     // which end of its tunnel
	unsigned readable : 1; // bytes (or EOF) may be there
	unsigned writable : 1; // room may be there
	unsigned rdhup : 1;    // the peer's FIN has arrived
	// A Unix socket signals room after every message its peer reads:
	// its write edges are watched only from the first time it is full
	// (lazy_out; out_on from then).
	unsigned lazy_out : 1;
	unsigned out_on : 1;
};

// One direction of a tunnel: bytes read from one end are written to the
// other. Bytes the peer did not take at once wait in buf (copied, at
// most PVX_FLOW_BUF) or in a pipe (spliced, at most PVX_PIPE_BYTES), and
// while they do the source is not read: backpressure. A flow holds a pipe only
// while bytes wait in it.
struct pvx_flow {
	char *buf;	       // NULL while nothing copied waits
	uint32_t off, len;     // waiting copied bytes: buf[off..len)
	int pipe_r, pipe_w;    // -1: no pipe held
	uint32_t piped;	       // bytes waiting in the pipe
	unsigned bulk : 1;     // a read filled the buffer: splice from now on
	unsigned nosplice : 1; // splice refused: copy for good
	unsigned eof : 1;      // the source has ended (EOF or error)
	unsigned failed : 1;   // the destination failed
	unsigned done : 1;     // finished: shutdown sent, or failed
	uint64_t bytes;
};

struct pvx_tunnel;
typedef void (*pvx_tunnel_cb)(struct pvx_tunnel *t, void *arg);

// Two sockets joined both ways, with half-close: an EOF on one side
// becomes shutdown(SHUT_WR) on the other once its waiting bytes are
// written. When both directions are done (or the idle timeout fires) the
// done callback runs; it must call pvx_tunnel_fini.
struct pvx_tunnel {
	struct pvx *x;
	struct pvx_end a;     // the client
	struct pvx_end b;     // the backend
	struct pvx_flow up;   // a -> b
	struct pvx_flow down; // b -> a
	// The owner's timer until the tunnel is joined (a session's connect
	// timeout), the idle timer after.
	struct event ev_timer;
	int idle_ms;	     // 0: none
	struct timeval last; // last activity (cached loop time)
	pvx_tunnel_cb done;
	pvx_tunnel_cb connected; // b's first edge while it connects
	void *arg;
	struct dl_list again; // in pvx.again while queued
	unsigned queued : 1;  // yielded: runs again next round
	unsigned inited : 1;
	unsigned connecting : 1;   // b's connect in progress
	unsigned started : 1;	   // joined: bytes move
	unsigned finished : 1;	   // done called
	unsigned idle_expired : 1; // ended by the idle timeout
};

// Sets t up without sockets; done and connected get arg.
void pvx_tunnel_init(struct pvx_tunnel *t, struct pvx *x, pvx_tunnel_cb done,
		     pvx_tunnel_cb connected, void *arg);

// Watches b, the backend socket (owned by t from now on, also on
// failure), for good; is_unix when it is an AF_UNIX one. With connecting,
// its first edge calls connected, which checks the connect and then joins
// or drops b. Returns 0 or -1.
int pvx_tunnel_set_b(struct pvx_tunnel *t, int b, int connecting, int is_unix);

// Unwatches and closes b (a failed connect), so another can be set.
void pvx_tunnel_drop_b(struct pvx_tunnel *t);

// Joins the client socket a (owned from now on) to the connected b:
// bytes start to move, a's first ones at once. done may run before this
// returns. Returns 0 or -1.
int pvx_tunnel_join(struct pvx_tunnel *t, int a, int idle_ms);

// init + set_b(b connected) + join, for two connected sockets (owned by
// the tunnel from now on, also on failure). Returns 0 or -1.
int pvx_tunnel_start(struct pvx_tunnel *t, struct pvx *x, int a, int b,
		     int idle_ms, pvx_tunnel_cb done, void *arg);

// Stops the tunnel and closes its sockets. Safe on a zeroed tunnel.
void pvx_tunnel_fini(struct pvx_tunnel *t);

// An empty pipe (non-blocking ends) from x's pool, or a new one while
// fewer than pipes_max are in use. Returns 0, or -1 (then copy instead).
int pvx_pipe_get(struct pvx *x, int *rfd, int *wfd);

// Gives a pipe back: kept for reuse when empty, else closed.
void pvx_pipe_put(struct pvx *x, int rfd, int wfd, int empty);

// Closes the pipes kept for reuse (no session left to use them).
void pvx_pipe_trim(struct pvx *x);

// Sets up x's data path (its epoll set in x->base). Returns 0 or -1.
int pvx_plumbing_init(struct pvx *x);

// Undoes pvx_plumbing_init, closes the pooled pipes. After the sessions.
void pvx_plumbing_fini(struct pvx *x);

// ---- sessions (session.c) ----

enum pvx_session_state {
	PVX_SESSION_CONNECTING = 0,
	PVX_SESSION_ESTABLISHED,
};

// One accepted client and its backend connection.
struct pvx_session {
	struct pvx_frontend *fe; // reference held
	struct pvx_backend *be;	 // reference held; NULL between attempts
	enum pvx_session_state state;
	int cfd;		 // client until the tunnel is joined, then -1
	int attempts;		 // backends tried
	struct timeval deadline; // of the connect to the current backend
	struct sockaddr_storage peer;
	// The backend socket from its connect on, the connect's timer, then
	// the bytes both ways.
	struct pvx_tunnel tun;
	struct dl_list list; // in be->sessions
	struct dl_list all;  // in pvx.sessions
};

// Takes an accepted client socket (owned from now on) and proxies it to
// a backend of fe. Returns 0 once a session holds the client, also when
// that session has ended already (no usable backend: the client is closed
// at once, counted and said); -1 when no session could be made (out of
// memory), the client closed.
int pvx_session_start(struct pvx_frontend *fe, int cfd,
		      const struct sockaddr *peer, socklen_t peer_len);

// The one way a session ends: logs (when verbose) and frees everything.
void pvx_session_close(struct pvx_session *s, const char *why);

// ---- the PROXY protocol (proxyproto.c) ----

// Writes the PROXY protocol header (version 1 or 2) for a client at peer
// that reached us at local into buf. Returns its length, or -1 when the
// addresses are not IP ones.
int pvx_proxy_header(int version, const struct sockaddr *peer,
		     const struct sockaddr *local, char *buf, size_t n);

// ---- figures (status.c) ----

// Every frontend and backend with its figures, as one JSON document
// (GET /xconnect-status). Caller frees; NULL on allocation failure.
char *pvx_status_json(struct pvx *x, size_t *len);

// The same figures in Prometheus text format (GET /metrics). Caller
// frees; NULL on allocation failure.
char *pvx_status_metrics(struct pvx *x, size_t *len);

// Bytes in (client to backend) and out so far, sessions still open
// included.
void pvx_backend_bytes(const struct pvx_backend *b, uint64_t *in,
		       uint64_t *out);
void pvx_frontend_bytes(const struct pvx_frontend *fe, uint64_t *in,
			uint64_t *out);

// The backend's name in figures: its provider, or its address for a
// host backend.
const char *pvx_backend_name(const struct pvx_backend *b);

// "roundrobin"... for the enum.
const char *pvx_balance_name(enum pvx_balance b);

// Backends of fe that take new sessions now.
int pvx_frontend_backends_up(const struct pvx_frontend *fe);

// Why fe serves nobody ("not listening (bind failed)", "no usable
// backend"), or NULL.
const char *pvx_frontend_down_reason(const struct pvx_frontend *fe);

// Whole seconds from t (CLOCK_REALTIME) to now, 0 if t is ahead.
int pvx_seconds_since(const struct timespec *t);

// A growing text buffer; after a failed allocation every call is a no-op
// and pvx_text_finish gives NULL.
struct pvx_text {
	char *buf;
	size_t len, cap;
	int failed;
};

// Appends printf-style.
void pvx_text_put(struct pvx_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

// The text (caller frees) and its length, or NULL (failed or empty).
char *pvx_text_finish(struct pvx_text *t, size_t *len);

// ---- --threads (workers.c) ----

// The maximum of --threads.
#define PVX_THREADS_MAX 64

struct pvx_workers;

// Starts nthreads - 1 worker threads beside x (the caller's loop, which
// stays the main one): each a proxy of its own with its share of x's
// session cap and pipes, listeners shared with SO_REUSEPORT (x's too
// from now on). Returns NULL on failure (logged; none left running).
struct pvx_workers *pvx_workers_start(struct pvx *x, int nthreads);

// Hands a graph document to every worker, which applies it in its loop.
void pvx_workers_graph(struct pvx_workers *ws, const char *text, size_t len);

// Stops the workers (their sessions closed as at exit) and frees them.
// NULL-safe.
void pvx_workers_stop(struct pvx_workers *ws);

// With workers (x->workers): adds their last published figures into x's
// frontends and backends, so that a report covers the whole proxy;
// pvx_figures_end takes them out again. Call both around the report,
// without running the loop between. No-ops with one thread.
void pvx_figures_begin(struct pvx *x);
void pvx_figures_end(struct pvx *x);

// ---- the stats page (statspage.c) ----

struct pvx_statspage;

// Every frontend and backend as an HTML page like HAProxy's stats page,
// reloading itself every refresh_s seconds. Caller frees; NULL on
// allocation failure.
char *pvx_status_html(struct pvx *x, int refresh_s, size_t *len);

// Serves the stats over HTTP on addr ("IP:PORT"): / and /stats (HTML),
// /metrics (Prometheus), /status (JSON). Returns NULL (logged) when addr
// cannot be bound.
struct pvx_statspage *pvx_statspage_new(struct pvx *x, const char *addr);

// Closes the listener and its clients. NULL-safe.
void pvx_statspage_free(struct pvx_statspage *sp);

// ---- the tcp plugin (plugins/tcp.c) ----

extern const struct pvx_plugin pvx_plugin_tcp;

// ---- the unix plugin (plugins/unix.c) ----

// Consumer links of type "unix" and "rest" with a path target: a Unix
// socket in the consumer's root, forwarded to the export.
extern const struct pvx_plugin pvx_plugin_unix;
extern const struct pvx_plugin pvx_plugin_rest;

#endif
