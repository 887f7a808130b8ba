// The pv-xconnect program: options, the event loop, where the graph comes
// from (pv-ctrl, polled; or a file, re-read on SIGHUP), and a clean exit.

#define MODULE_NAME "xconnect"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "utils/addr.h"
#include "utils/timer.h"
#include "datapath.h"
#include "defs.h"
#include "fetch.h"
#include "frontend-t.h"
#include "plugins.h"
#include "proxy.h"
#include "reconcile.h"
#include "session.h"
#include "statspage.h"
#include "status.h"
#include "tunnel.h"
#include "workers.h"

#define DEFAULT_CTRL	    "/run/pantavisor/pv/pv-ctrl"
#define DEFAULT_INTERVAL_MS 1000
// A fetch that takes longer than this is abandoned (the next poll retries).
#define FETCH_TIMEOUT_MS 5000

const struct pvx_plugin *const pvx_plugins[] = {
	&pvx_plugin_tcp,
	&pvx_plugin_unix,
	&pvx_plugin_rest,
	&pvx_plugin_http,
	NULL,
};

// The program's state beyond the proxy itself.
struct app {
	struct pvx x;
	const char *ctrl;
	const char *graph_file;
	const char *stats_addr; // --stats: the HTML stats page, or NULL
	int interval_ms;
	struct pvx_fetch *fetch;  // in progress, or NULL
	int fetch_failing;	  // the last fetch failed (said once)
	struct pvx_fetch *report; // status or metrics PUT in progress
	int report_failing;	  // the last report failed (said once)
	struct event *ev_poll;
	struct event *ev_term, *ev_int, *ev_hup;
};

// An event loop that can watch sockets edge-triggered (the data path
// registers each socket once and never changes its interest): epoll.
static struct event_base *new_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base = NULL;

	if (!cfg) {
		pv_log(ERROR, "cannot create the event loop: out of memory");
		return NULL;
	}
	event_config_require_features(cfg, EV_FEATURE_ET | EV_FEATURE_O1);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (!base)
		pv_log(ERROR, "cannot create the event loop (epoll needed)");
	return base;
}

// Pipes that bulk flows may hold at once: an eighth of the fd limit (two
// fds a pipe), so that splicing never takes the fds sessions need; past
// it flows copy.
static int pipes_budget(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return PVX_PIPES_MAX;
	if (rl.rlim_cur / 16 > PVX_PIPES_MAX)
		return PVX_PIPES_MAX;
	return (int)(rl.rlim_cur / 16);
}

int pvx_init(struct pvx *x)
{
	memset(x, 0, sizeof(*x));
	x->epfd = -1;
	x->drain_ms = PVX_DRAIN_MS;
	x->accept = pvx_session_start;
	x->cut = pvx_session_close;
	x->datapath = pvx_datapath_chosen(NULL);
	dl_list_init(&x->frontends);
	dl_list_init(&x->sessions);
	pvx_reconciler_init(&x->rec, pvx_plugins, x);
	x->scratch = malloc(PVX_FLOW_BUF);
	if (!x->scratch) {
		pv_log(ERROR, "scratch buffer: %s", strerror(errno));
		return -1;
	}
	x->base = new_base();
	if (!x->base)
		return -1;
	x->pipes_max = pipes_budget();
	if (pvx_plumbing_init(x))
		return -1;
	if (pvx_reconciler_start(&x->rec))
		return -1;
	// Writes to a vanished peer fail with EPIPE rather than kill us
	// (send has MSG_NOSIGNAL, splice has no such flag).
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void pvx_fini(struct pvx *x)
{
	struct pvx_session *s, *n;
	struct pvx_frontend *fe;

	if (x->base) {
		pvx_reconciler_clear(&x->rec);
		dl_list_for_each_safe (s, n, &x->sessions, struct pvx_session,
				       all) {
			pvx_session_close(s, "exiting");
		}
		dl_list_for_each (fe, &x->frontends, struct pvx_frontend,
				  list) {
			pv_log(ERROR, "link %s: still referenced at exit",
			       fe->label);
		}
		pvx_plumbing_fini(x);
		event_base_free(x->base);
		x->base = NULL;
	}
	free(x->scratch);
	x->scratch = NULL;
}

// Applies a graph document here and in every worker thread.
static void apply_graph(struct app *a, const char *text, size_t len)
{
	pvx_reconcile_text(&a->x.rec, text, len);
	pvx_workers_graph(a->x.workers, text, len);
}

// Reads the graph file and applies it; a file that cannot be read keeps
// the links in effect.
static void load_file(struct app *a)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	fd = open(a->graph_file, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		pv_log(ERROR, "graph %s: %s", a->graph_file, strerror(errno));
		return;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nb;

			if (cap > PV_JSON_MAX_SIZE) {
				pv_log(ERROR, "graph %s: larger than %d bytes",
				       a->graph_file, PV_JSON_MAX_SIZE);
				goto out;
			}
			nb = realloc(buf, cap ? cap * 2 : 65536);
			if (!nb) {
				pv_log(ERROR, "graph %s: %s", a->graph_file,
				       strerror(errno));
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pv_log(ERROR, "graph %s: %s", a->graph_file,
			       strerror(errno));
			goto out;
		}
		len += n;
	}
	pv_log(DEBUG, "graph %s: %zu bytes", a->graph_file, len);
	apply_graph(a, buf, len);
out:
	free(buf);
	close(fd);
}

// A report did not go through: said once until one does.
static void report_failed(struct app *a, const char *what, const char *why)
{
	if (!a->report_failing)
		pv_log(WARN, "%s to %s: %s", what, a->ctrl, why);
	a->report_failing = 1;
}

static void on_metrics_put(const char *body, size_t len, const char *reason,
			   void *arg)
{
	struct app *a = arg;

	(void)len;
	a->report = NULL;
	if (!body) {
		report_failed(a, "PUT /metrics", reason);
		return;
	}
	a->report_failing = 0;
}

static void on_status_put(const char *body, size_t len, const char *reason,
			  void *arg)
{
	struct app *a = arg;
	char *text;

	a->report = NULL;
	if (!body) {
		report_failed(a, "PUT /xconnect-status", reason);
		return;
	}
	text = pvx_status_metrics(&a->x, &len);
	if (!text) {
		report_failed(a, "metrics", "out of memory");
		return;
	}
	a->report = pvx_fetch_put(a->x.base, a->ctrl, "/metrics",
				  "text/plain; version=0.0.4", text, len,
				  FETCH_TIMEOUT_MS, on_metrics_put, a);
	if (!a->report)
		report_failed(a, "PUT /metrics", strerror(errno));
	free(text);
}

// Tells pvd our figures: PUT /xconnect-status, then PUT /metrics; pvd
// serves the last ones it got.
static void report(struct app *a)
{
	size_t len;
	char *json;

	if (a->report)
		return;
	json = pvx_status_json(&a->x, &len);
	if (!json) {
		report_failed(a, "status", "out of memory");
		return;
	}
	a->report = pvx_fetch_put(a->x.base, a->ctrl, "/xconnect-status",
				  "application/json", json, len,
				  FETCH_TIMEOUT_MS, on_status_put, a);
	if (!a->report)
		report_failed(a, "PUT /xconnect-status", strerror(errno));
	free(json);
}

static void on_fetched(const char *body, size_t len, const char *reason,
		       void *arg)
{
	struct app *a = arg;

	a->fetch = NULL;
	if (!body) {
		if (!a->fetch_failing)
			pv_log(WARN, "graph from %s: %s; retrying every %d ms",
			       a->ctrl, reason, a->interval_ms);
		a->fetch_failing = 1;
		return;
	}
	if (a->fetch_failing)
		pv_log(INFO, "graph from %s: fetched again", a->ctrl);
	a->fetch_failing = 0;
	apply_graph(a, body, len);
	report(a);
}

// Starts a fetch unless one is still running.
static void poll_ctrl(struct app *a)
{
	if (a->fetch)
		return;
	a->fetch = pvx_fetch_start(a->x.base, a->ctrl, "/xconnect-graph",
				   FETCH_TIMEOUT_MS, on_fetched, a);
	if (!a->fetch) {
		if (!a->fetch_failing)
			pv_log(WARN, "graph from %s: %s; retrying every %d ms",
			       a->ctrl, strerror(errno), a->interval_ms);
		a->fetch_failing = 1;
	}
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	poll_ctrl(arg);
}

static void on_hup(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;

	(void)fd;
	(void)what;
	pv_log(INFO, "SIGHUP: reloading the graph");
	if (a->graph_file)
		load_file(a);
	else
		poll_ctrl(a);
}

static void on_term(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;

	(void)what;
	pv_log(INFO, "signal %d: exiting", (int)fd);
	event_base_loopbreak(a->x.base);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pv-xconnect [--ctrl SOCK | --graph FILE] "
		   "[--interval MS] [--stats ADDR] [--maxconn N] "
		   "[--threads N] [--datapath auto|sockmap|splice] "
		   "[--access-log] [--verbose]\n"
		   "\n"
		   "  --ctrl SOCK     read the xconnect-graph from pv-ctrl "
		   "(default " DEFAULT_CTRL ")\n"
		   "  --graph FILE    read it from FILE instead (re-read on "
		   "SIGHUP)\n"
		   "  --interval MS   poll pv-ctrl every MS ms (default 1000)\n"
		   "  --stats ADDR    serve the stats page (HTML, /metrics, "
		   "/status) on ADDR\n"
		   "  --maxconn N     at most N sessions in all (default: "
		   "from ulimit -n,\n"
		   "                  (fds - 64) / 2); more clients wait in "
		   "the backlog\n"
		   "  --threads N     N event loops (1..64, default 1), "
		   "listeners shared\n"
		   "                  with SO_REUSEPORT: for more cores\n"
		   "  --datapath DP   how sessions move bytes: sockmap (in the "
		   "kernel, BPF),\n"
		   "                  splice (user space; default, or "
		   "$PVX_DATAPATH), auto\n"
		   "                  (sockmap for request/response sessions; "
		   "experimental)\n"
		   "  --access-log    one line per http request (at most "
		   "100 a second)\n"
		   "  --verbose       debug logging, one line per connection\n"
		   "  --help          this text\n");
}

// Exits 2 with one line naming the problem.
static void bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "pv-xconnect: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	exit(2);
}

// Strict decimal milliseconds in 1..3600000.
static int parse_ms(const char *s, int *out)
{
	long v = 0;
	const char *p;

	if (!*s || strlen(s) > 7)
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > 3600000)
		return -1;
	*out = (int)v;
	return 0;
}

// Strict decimal count in 1..max. Returns 0, or -1.
static int parse_count(const char *s, long max, int *out)
{
	long v = 0;
	const char *p;

	if (!*s || strlen(s) > 9)
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

// The global session cap when --maxconn is not given: what the fd limit
// allows at two fds a session, after a reserve for everything else.
static int default_maxconn(void)
{
	struct rlimit rl;
	rlim_t n;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return PVX_MAXCONN_MAX;
	n = rl.rlim_cur > PVX_FD_RESERVE * 2 ? rl.rlim_cur - PVX_FD_RESERVE
					     : rl.rlim_cur / 2;
	n /= 2;
	if (n < 1)
		n = 1;
	return n > PVX_MAXCONN_MAX ? PVX_MAXCONN_MAX : (int)n;
}

// Adds a signal event; returns it or NULL (logged).
static struct event *add_signal(struct app *a, int sig, event_callback_fn cb)
{
	struct event *ev = evsignal_new(a->x.base, sig, cb, a);

	if (!ev || evsignal_add(ev, NULL)) {
		pv_log(ERROR, "cannot watch signal %d", sig);
		event_free(ev);
		return NULL;
	}
	return ev;
}

int pvx_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ctrl", required_argument, NULL, 'c' },
		{ "graph", required_argument, NULL, 'g' },
		{ "interval", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "access-log", no_argument, NULL, 'a' },
		{ "stats", required_argument, NULL, 's' },
		{ "maxconn", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ "datapath", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	// splice by default: the kernel path still loses bytes when a session
	// leaves the maps under load (docs/datapath.md, "Known problems").
	enum pvx_datapath dp = PVX_DP_SPLICE;
	const char *dp_env = getenv("PVX_DATAPATH");
	int opt, rc = 1, maxconn = 0, threads = 1, dp_given = 0;
	int access_log = 0;
	struct app a;

	memset(&a, 0, sizeof(a));
	a.interval_ms = DEFAULT_INTERVAL_MS;
	pv_log_set_program("pv-xconnect");
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a.ctrl = optarg;
			break;
		case 'g':
			a.graph_file = optarg;
			break;
		case 'i':
			if (parse_ms(optarg, &a.interval_ms))
				bad_usage("--interval: \"%s\" is not a number "
					  "of milliseconds (1..3600000)",
					  optarg);
			break;
		case 'v':
			a.x.verbose = 1;
			break;
		case 'a':
			access_log = 1;
			break;
		case 'm':
			if (parse_count(optarg, PVX_MAXCONN_MAX, &maxconn))
				bad_usage("--maxconn: \"%s\" is not a number "
					  "of sessions (1..100000000)",
					  optarg);
			break;
		case 't':
			if (parse_count(optarg, PVX_THREADS_MAX, &threads))
				bad_usage("--threads: \"%s\" is not a number "
					  "of threads (1..64)",
					  optarg);
			break;
		case 'd':
			if (pvx_datapath_parse(optarg, &dp))
				bad_usage("--datapath: \"%s\" is not auto, "
					  "sockmap or splice",
					  optarg);
			dp_given = 1;
			break;
		case 's': {
			struct sockaddr_storage ss;
			socklen_t sl;

			if (pv_addr_parse(optarg, &ss, &sl))
				bad_usage("--stats: \"%s\" is not an address "
					  "(IP:PORT, [IPv6]:PORT or :PORT)",
					  optarg);
			a.stats_addr = optarg;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			bad_usage("%s needs an argument", argv[optind - 1]);
			break;
		default:
			bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument \"%s\"", argv[optind]);
	if (a.ctrl && a.graph_file)
		bad_usage("%s", "--ctrl and --graph exclude each other");
	if (!a.graph_file && !a.ctrl)
		a.ctrl = DEFAULT_CTRL;
	// The environment's default, for a whole test run on one path.
	if (!dp_given && dp_env && *dp_env && pvx_datapath_parse(dp_env, &dp))
		bad_usage("PVX_DATAPATH: \"%s\" is not auto, sockmap or "
			  "splice",
			  dp_env);

	if (a.x.verbose)
		pv_log_set_level(DEBUG);
	// Writes to a vanished peer fail with EPIPE rather than kill us.
	signal(SIGPIPE, SIG_IGN);
	// Before any loop: each takes the choice in pvx_init.
	if (pvx_datapath_choose(dp))
		return 1;
	opt = a.x.verbose;
	if (pvx_init(&a.x))
		goto out;
	a.x.verbose = opt;
	a.x.access_log = access_log;
	a.x.maxconn = maxconn ? maxconn : default_maxconn();
	pv_log(INFO, "at most %d sessions%s", a.x.maxconn,
	       maxconn ? "" : " (from the fd limit; --maxconn sets it)");
	a.ev_term = add_signal(&a, SIGTERM, on_term);
	a.ev_int = add_signal(&a, SIGINT, on_term);
	a.ev_hup = add_signal(&a, SIGHUP, on_hup);
	if (!a.ev_term || !a.ev_int || !a.ev_hup)
		goto out;
	if (a.stats_addr) {
		a.x.statspage = pvx_statspage_new(&a.x, a.stats_addr);
		if (!a.x.statspage)
			goto out;
	}
	if (threads > 1) {
		a.x.workers = pvx_workers_start(&a.x, threads);
		if (!a.x.workers)
			goto out;
	}

	if (a.graph_file) {
		pv_log(INFO, "graph from %s (SIGHUP re-reads it)",
		       a.graph_file);
		load_file(&a);
	} else {
		pv_log(INFO, "graph from %s every %d ms", a.ctrl,
		       a.interval_ms);
		a.ev_poll = event_new(a.x.base, -1, EV_PERSIST, on_poll, &a);
		if (!a.ev_poll || pv_timer_arm(a.ev_poll, a.interval_ms)) {
			pv_log(ERROR, "cannot start polling");
			goto out;
		}
		poll_ctrl(&a);
	}
	if (event_base_dispatch(a.x.base) == -1) {
		pv_log(ERROR, "event loop failed");
		goto out;
	}
	rc = 0;
out:
	pvx_fetch_cancel(a.fetch);
	pvx_fetch_cancel(a.report);
	if (a.ev_poll)
		event_free(a.ev_poll);
	if (a.ev_term)
		event_free(a.ev_term);
	if (a.ev_int)
		event_free(a.ev_int);
	if (a.ev_hup)
		event_free(a.ev_hup);
	pvx_workers_stop(a.x.workers);
	a.x.workers = NULL;
	pvx_statspage_free(a.x.statspage);
	a.x.statspage = NULL;
	pvx_fini(&a.x);
	return rc;
}
