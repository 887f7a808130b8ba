// pvd's shutdown when its timer cannot be armed: the escalation it would
// time comes at once (SIGKILL now, then leaving), rather than a shutdown
// that waits for ever on a child that ignores SIGTERM.
//
// daemon.c is pvd's and not linked into the unit tests: it is compiled
// into this one, with the modules it drives replaced by stubs that count
// what they are asked; event_add fails on demand (kit_fail.h).

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/kit.h"
#include "tests/unit/kit_fail.h"
// The file under test, compiled in so that its static functions are in
// reach.
#include "daemon.c" // NOLINT(bugprone-suspicious-include)

// What the stubs were asked, and how many containers they say run.
static int stops, kills, xc_stops, xc_kills, alive;

void pv_containers_stop_all(struct pv_containers *cs)
{
	(void)cs;
	stops++;
}

void pv_containers_kill_all(struct pv_containers *cs)
{
	(void)cs;
	kills++;
}

int pv_containers_alive(struct pv_containers *cs)
{
	(void)cs;
	return alive;
}

void pv_supervised_stop(struct pv_supervised *p, int grace_ms)
{
	(void)p;
	(void)grace_ms;
	xc_stops++;
}

void pv_supervised_kill(struct pv_supervised *p)
{
	(void)p;
	xc_kills++;
}

// Not reached by these tests: pv_daemon_run's.
int pv_containers_check_host(void)
{
	return -1;
}

struct pv_containers *pv_containers_new(struct event_base *base,
					struct pv_state *s, const char *run_dir)
{
	(void)base;
	(void)s;
	(void)run_dir;
	return NULL;
}

void pv_containers_free(struct pv_containers *cs)
{
	(void)cs;
}

int pv_containers_start_all(struct pv_containers *cs)
{
	(void)cs;
	return 0;
}

int pv_containers_child_exited(struct pv_containers *cs, pid_t pid, int status)
{
	(void)cs;
	(void)pid;
	(void)status;
	return 0;
}

struct pv_supervised *pv_supervised_new(struct event_base *base,
					const char *name,
					const char *const *argv,
					const char *log_path)
{
	(void)base;
	(void)name;
	(void)argv;
	(void)log_path;
	return NULL;
}

void pv_supervised_free(struct pv_supervised *p)
{
	(void)p;
}

int pv_supervised_start(struct pv_supervised *p)
{
	(void)p;
	return -1;
}

int pv_supervised_child_exited(struct pv_supervised *p, pid_t pid, int status)
{
	(void)p;
	(void)pid;
	(void)status;
	return 0;
}

struct pv_ctrl *pv_ctrl_new(struct event_base *base, const char *path,
			    void *ctx)
{
	(void)base;
	(void)path;
	(void)ctx;
	return NULL;
}

void pv_ctrl_free(struct pv_ctrl *ctrl)
{
	(void)ctrl;
}

struct pv_nat *pv_nat_new(struct pv_state *s, int (*alive_fn)(pid_t))
{
	(void)s;
	(void)alive_fn;
	return NULL;
}

void pv_nat_free(struct pv_nat *n)
{
	(void)n;
}

int pv_netdev_exists(const char *name)
{
	(void)name;
	return 0;
}

int pv_netdev_subnet_in_use(const struct sockaddr_storage *net, int prefix,
			    char *desc, size_t n)
{
	(void)net;
	(void)prefix;
	(void)desc;
	(void)n;
	return -1;
}

int pv_netdev_bridge_create(const char *name, const struct sockaddr_storage *gw,
			    int prefix)
{
	(void)name;
	(void)gw;
	(void)prefix;
	return -1;
}

pid_t pv_netdev_bridge_owner(const char *name, int *ports)
{
	(void)name;
	*ports = 0;
	return 0;
}

int pv_netdev_delete(const char *name)
{
	(void)name;
	return -1;
}

// A daemon in its loop with one container and pv-xconnect running (as
// the stubs tell it).
struct fixture {
	struct pv_daemon d;
	struct pv_supervised xconnect;
	char containers; // stands for the opaque set
};

static int fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	stops = kills = xc_stops = xc_kills = 0;
	alive = 1;
	f->xconnect.pid = 1; // never signalled: the stubs stand in
	f->d.xconnect = &f->xconnect;
	f->d.containers = (struct pv_containers *)&f->containers;
	f->d.base = event_base_new();
	f->d.shutdown_timer =
		f->d.base ? evtimer_new(f->d.base, shutdown_timer_cb, &f->d)
			  : NULL;
	CHECK(f->d.shutdown_timer != NULL);
	return f->d.shutdown_timer ? 0 : -1;
}

static void fixture_fini(struct fixture *f)
{
	if (f->d.shutdown_timer)
		event_free(f->d.shutdown_timer);
	if (f->d.base)
		event_base_free(f->d.base);
}

// No timer at all: SIGTERM, then SIGKILL at once, then leaving (exit 1)
// with a child still there, all in the call.
static void test_no_timer(void)
{
	struct fixture f;

	if (fixture_init(&f))
		goto out;
	kit_fail_reset();
	kit_event_fail_cb = shutdown_timer_cb;
	shutdown_begin(&f.d, SIGTERM);
	CHECK(kit_event_failed == 2);
	kit_fail_reset();
	CHECK(stops == 1 && xc_stops == 1);
	CHECK(kills == 1 && xc_kills == 1);
	CHECK(f.d.exit_code == 1);
	CHECK(event_base_got_break(f.d.base));
out:
	fixture_fini(&f);
}

// The grace is timed, the wait after SIGKILL cannot be: leaving once the
// grace is over, rather than never.
static void test_no_timer_after_kill(void)
{
	struct fixture f;

	if (fixture_init(&f))
		goto out;
	kit_fail_reset();
	shutdown_begin(&f.d, SIGTERM);
	CHECK(kills == 0 && !event_base_got_break(f.d.base));
	kit_event_fail_cb = shutdown_timer_cb;
	event_active(f.d.shutdown_timer, EV_TIMEOUT, 0); // the grace is over
	event_base_loop(f.d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	CHECK(kit_event_failed == 1);
	kit_fail_reset();
	CHECK(kills == 1 && xc_kills == 1);
	CHECK(f.d.exit_code == 1);
	CHECK(event_base_got_break(f.d.base));
out:
	fixture_fini(&f);
}

// Nothing left to wait for after SIGKILL: the shutdown ends as usual,
// not as a failure.
static void test_no_timer_none_left(void)
{
	struct fixture f;

	if (fixture_init(&f))
		goto out;
	kit_fail_reset();
	shutdown_begin(&f.d, SIGTERM);
	alive = 0;
	f.xconnect.pid = 0;
	kit_event_fail_cb = shutdown_timer_cb;
	shutdown_timer_cb(-1, 0, &f.d);
	CHECK(kit_event_failed == 1);
	kit_fail_reset();
	CHECK(f.d.exit_code == 0);
out:
	fixture_fini(&f);
}

int main(void)
{
	pv_log_set_level(FATAL); // the failures are the point
	RUN(test_no_timer);
	RUN(test_no_timer_after_kill);
	RUN(test_no_timer_none_left);
	return kit_report("test_daemon");
}
