// pvd's run: host checks, pool bridges, pv-ctrl, containers and
// pv-xconnect on one libevent loop; signals (TERM, INT, CHLD) are loop
// events, so every state change happens in one place, in order.
#define MODULE_NAME "daemon"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers.h"
#include "ctrl/ctrl.h"
#include "daemon.h"
#include "log.h"
#include "utils/timer.h"
#include "nat.h"
#include "netdev.h"
#include "supervisor.h"

// SIGTERM to children, then SIGKILL after this, then give up after as
// much again.
#define SHUTDOWN_GRACE_MS 3000
#define XCONNECT_GRACE_MS 2000

// mkdir -p with mode for the directories it creates. Returns 0 or -1.
static int mkdir_p(const char *path, mode_t mode)
{
	char *dir = strdup(path), *p;
	int ret = 0;

	if (!dir) {
		pv_log(ERROR, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, mode) == -1 && errno != EEXIST) {
			pv_log(ERROR, "cannot create %s: %s", dir,
			       strerror(errno));
			ret = -1;
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	free(dir);
	return ret;
}

// Many pv-ctrl clients at once need many fds; the default soft limit of
// 1024 is far below what the kernel allows us.
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		pv_log(WARN, "cannot raise the fd limit: %s", strerror(errno));
}

// 1 if pid is a live pvd process.
static int pvd_alive(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strcmp(comm, "pvd\n");
}

// A bridge left by a pvd that was killed (its alias names a pid that is
// no pvd any more) is removed so that this pvd can start. Its ports can
// only be the veths of that pvd's dead containers, which the kernel is
// still tearing down. Returns 0 when the name is free now, -1 otherwise.
static int remove_stale_bridge(struct pv_ipam_pool *pool)
{
	int ports;
	pid_t owner = pv_netdev_bridge_owner(pool->bridge, &ports);

	if (owner <= 0 || owner == getpid() || pvd_alive(owner))
		return -1;
	pv_log(WARN,
	       "pool %s: removing bridge %s (%d ports) left by pvd %d, which "
	       "is gone",
	       pool->name, pool->bridge, ports, (int)owner);
	return pv_netdev_delete(pool->bridge);
}

// Refuses pools whose bridge or subnet is already taken on this host,
// before anything is created. Returns 0 or -1.
static int check_pools(struct pv_state *s)
{
	struct pv_ipam_pool *pool;
	char desc[160];
	int ret = 0, r;

	dl_list_for_each (pool, &s->pools, struct pv_ipam_pool, list) {
		if (pv_netdev_exists(pool->bridge) &&
		    remove_stale_bridge(pool) == -1) {
			pv_log(ERROR,
			       "pool %s: a network interface named %s already "
			       "exists on this host; choose another bridge "
			       "name or remove it",
			       pool->name, pool->bridge);
			ret = -1;
			continue;
		}
		r = pv_netdev_subnet_in_use(&pool->net, pool->prefix, desc,
					    sizeof(desc));
		if (r == -1)
			return -1;
		if (r == 1) {
			pv_log(ERROR,
			       "pool %s: subnet %s is already in use on this "
			       "host (%s); choose another subnet",
			       pool->name, pool->subnet, desc);
			ret = -1;
		}
	}
	return ret;
}

// Removes the bridges we created.
static void remove_bridges(struct pv_daemon *d)
{
	struct pv_daemon_bridge *b, *n;

	dl_list_for_each_safe (b, n, &d->bridges, struct pv_daemon_bridge,
			       list) {
		if (pv_netdev_delete(b->name) == 0)
			pv_log(INFO, "bridge %s removed", b->name);
		dl_list_del(&b->list);
		free(b->name);
		free(b);
	}
}

// Creates one bridge per pool. Returns 0, or -1 after removing those
// already created.
static int create_bridges(struct pv_daemon *d)
{
	struct pv_daemon_bridge *b;
	struct pv_ipam_pool *pool;

	dl_list_for_each (pool, &d->state->pools, struct pv_ipam_pool, list) {
		if (pv_netdev_bridge_create(pool->bridge, &pool->gw,
					    pool->prefix) == -1)
			goto out_remove;
		b = calloc(1, sizeof(*b));
		if (b)
			b->name = strdup(pool->bridge);
		if (!b || !b->name) {
			pv_log(ERROR, "out of memory");
			free(b);
			pv_netdev_delete(pool->bridge);
			goto out_remove;
		}
		dl_list_add_tail(&d->bridges, &b->list);
		pv_log(INFO, "pool %s: bridge %s up with %s/%d", pool->name,
		       pool->bridge, pool->gateway, pool->prefix);
	}
	return 0;
out_remove:
	remove_bridges(d);
	return -1;
}

// Number of processes pvd started that are still running.
static int children_alive(struct pv_daemon *d)
{
	return (d->containers ? pv_containers_alive(d->containers) : 0) +
	       (d->xconnect && d->xconnect->pid > 0);
}

// Ends the loop once nothing we started is left.
static void check_shutdown_done(struct pv_daemon *d)
{
	if (d->shutting_down && !children_alive(d))
		event_base_loopbreak(d->base);
}

static void shutdown_timer_cb(evutil_socket_t fd, short what, void *arg);

// Arms the shutdown's next stage for SHUTDOWN_GRACE_MS from now. Without
// the timer the shutdown could wait for ever: that stage then comes now,
// SIGKILL at once, and then leaving without waiting for what is left.
static void arm_shutdown_timer(struct pv_daemon *d)
{
	int alive;

	if (pv_timer_arm(d->shutdown_timer, SHUTDOWN_GRACE_MS) == 0)
		return;
	if (d->shutdown_stage == 0) {
		pv_log(ERROR, "shutdown: cannot arm its timer; sending SIGKILL "
			      "now");
		shutdown_timer_cb(-1, 0, d);
		return;
	}
	alive = children_alive(d);
	if (!alive)
		return;
	pv_log(ERROR,
	       "shutdown: cannot arm its timer; leaving now, %d processes "
	       "not seen to exit after SIGKILL",
	       alive);
	d->exit_code = 1;
	event_base_loopbreak(d->base);
}

// Escalates a shutdown that takes too long: SIGKILL, then give up.
static void shutdown_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pv_daemon *d = arg;

	(void)fd;
	(void)what;
	if (d->shutdown_stage == 0) {
		d->shutdown_stage = 1;
		if (d->containers)
			pv_containers_kill_all(d->containers);
		if (d->xconnect)
			pv_supervised_kill(d->xconnect);
		arm_shutdown_timer(d);
		return;
	}
	pv_log(ERROR, "%d processes did not exit after SIGKILL; leaving",
	       children_alive(d));
	d->exit_code = 1;
	event_base_loopbreak(d->base);
}

// Starts the shutdown on the first signal (0: pvd's own decision); a
// second signal skips the grace period.
static void shutdown_begin(struct pv_daemon *d, int sig)
{
	if (d->shutting_down) {
		if (d->shutdown_stage == 0) {
			pv_log(INFO, "%s again: killing what is left",
			       strsignal(sig));
			event_del(d->shutdown_timer);
			shutdown_timer_cb(-1, 0, d);
		}
		return;
	}
	if (sig)
		pv_log(INFO, "%s: stopping containers and pv-xconnect",
		       strsignal(sig));
	d->shutting_down = 1;
	if (d->containers)
		pv_containers_stop_all(d->containers);
	if (d->xconnect)
		pv_supervised_stop(d->xconnect, XCONNECT_GRACE_MS);
	arm_shutdown_timer(d);
	check_shutdown_done(d);
}

// A container with restart_policy "system" failed: what upstream answers
// with a reboot, pvd answers by stopping everything and exiting 1.
static void system_failed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pv_daemon *d = arg;

	(void)fd;
	(void)what;
	if (d->shutting_down)
		return;
	pv_log(ERROR, "a system container failed: stopping everything (exit "
		      "status 1)");
	d->failed = 1;
	shutdown_begin(d, 0);
}

// SIGTERM or SIGINT.
static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	shutdown_begin(arg, sig);
}

// Reaps every exited child and hands it to its owner.
static void sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct pv_daemon *d = arg;
	int status, r;
	pid_t pid;

	(void)sig;
	(void)what;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		r = d->containers ? pv_containers_child_exited(d->containers,
							       pid, status)
				  : 0;
		if (r == PV_CONTAINERS_FATAL)
			system_failed_cb(-1, 0, d);
		if (r)
			continue;
		if (d->xconnect &&
		    pv_supervised_child_exited(d->xconnect, pid, status))
			continue;
		pv_log(DEBUG, "reaped unknown child %d", pid);
	}
	check_shutdown_done(d);
}

// Sets up the signal events before any child exists, so no exit is
// missed.
static int setup_signals(struct pv_daemon *d)
{
	d->sig_term = evsignal_new(d->base, SIGTERM, signal_cb, d);
	d->sig_int = evsignal_new(d->base, SIGINT, signal_cb, d);
	d->sig_chld = evsignal_new(d->base, SIGCHLD, sigchld_cb, d);
	d->shutdown_timer = evtimer_new(d->base, shutdown_timer_cb, d);
	if (!d->sig_term || !d->sig_int || !d->sig_chld || !d->shutdown_timer ||
	    evsignal_add(d->sig_term, NULL) == -1 ||
	    evsignal_add(d->sig_int, NULL) == -1 ||
	    evsignal_add(d->sig_chld, NULL) == -1) {
		pv_log(ERROR, "cannot set up signal handling");
		return -1;
	}
	return 0;
}

// Frees the signal events and the shutdown timer.
static void free_events(struct pv_daemon *d)
{
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_chld)
		event_free(d->sig_chld);
	if (d->shutdown_timer)
		event_free(d->shutdown_timer);
}

int pv_daemon_run(struct pv_state *s, const struct pv_daemon_options *opts)
{
	struct pv_daemon d = { .state = s, .opts = opts, .exit_code = 1 };
	// device.json's "xconnect.stats" turns on pv-xconnect's stats page.
	const char *argv[] = {
		opts->xconnect_path, "--ctrl",
		opts->ctrl_path,     s->xconnect_stats ? "--stats" : NULL,
		s->xconnect_stats,   NULL
	};
	char *log_path = NULL;
	int fatal;

	dl_list_init(&d.bridges);
	if (geteuid() != 0) {
		pv_log(ERROR, "pvd must run as root: it creates bridges and "
			      "containers (pvd --check needs no root)");
		goto out_state;
	}
	if (!dl_list_empty(&s->platforms) && pv_containers_check_host() == -1)
		goto out_state;
	// A client that hangs up mid-answer must not kill pvd.
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (mkdir_p(opts->run_dir, 0755) == -1)
		goto out_state;
	d.base = event_base_new();
	if (!d.base) {
		pv_log(ERROR, "cannot create the event loop");
		goto out_state;
	}
	if (setup_signals(&d) == -1)
		goto out_base;
	// The socket first: a second pvd on the same socket is refused
	// before it looks at (and complains about) our bridges.
	d.ctrl = pv_ctrl_new(d.base, opts->ctrl_path, &d);
	if (!d.ctrl)
		goto out_base;
	if (check_pools(s) == -1 || create_bridges(&d) == -1)
		goto out_ctrl;
	d.nat = pv_nat_new(s, pvd_alive);
	if (asprintf(&log_path, "%s/pv-xconnect.log", opts->run_dir) < 0) {
		pv_log(ERROR, "out of memory");
		goto out_bridges;
	}
	d.xconnect = pv_supervised_new(d.base, "pv-xconnect", argv, log_path);
	if (!d.xconnect)
		goto out_children;
	d.containers = pv_containers_new(d.base, s, opts->run_dir);
	if (!d.containers)
		goto out_children;

	fatal = pv_containers_start_all(d.containers) == PV_CONTAINERS_FATAL;
	if (!opts->no_xconnect)
		pv_supervised_start(d.xconnect);
	// From inside the loop, where the shutdown can complete.
	if (fatal && event_base_once(d.base, -1, EV_TIMEOUT, system_failed_cb,
				     &d, &(struct timeval){ 0 }) == -1) {
		pv_log(ERROR, "cannot schedule the shutdown");
		goto out_children;
	}
	pv_log(INFO, "pvd running: %d containers, %d pools, pv-ctrl on %s",
	       dl_list_len(&s->platforms), dl_list_len(&s->pools),
	       opts->ctrl_path);

	event_base_dispatch(d.base);
	if (d.shutting_down && !children_alive(&d))
		d.exit_code = d.failed ? 1 : 0;
out_children:
	pv_containers_free(d.containers);
	pv_supervised_free(d.xconnect);
	free(log_path);
out_bridges:
	pv_nat_free(d.nat);
	remove_bridges(&d);
out_ctrl:
	pv_ctrl_free(d.ctrl);
	free(d.xconnect_status);
	free(d.xconnect_metrics);
out_base:
	free_events(&d);
	event_base_free(d.base);
out_state:
	pv_state_free(s);
	if (d.exit_code == 0)
		pv_log(INFO, "pvd stopped cleanly");
	return d.exit_code;
}
