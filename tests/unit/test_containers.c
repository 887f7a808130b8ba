// Containers when memory or libevent lets them down: whatever asprintf
// fails, pv_containers_new gives back everything it took; a status text
// that cannot be copied is said in the log rather than dropped; a restart
// or stop timer that cannot be armed neither leaves a container down for
// good nor lets a stop wait for ever.
//
// containers.c is pvd's and not linked into the unit tests: it is compiled
// into this one, with asprintf and free replaced by counting versions;
// strdup and event_add fail on demand (kit_fail.h).

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "platforms.h"
#include "state.h"
#include "supervisor.h"
#include "tests/unit/kit.h"
#include "tests/unit/kit_fail.h"

// asprintf number fail_at (from 1) fails; the strings of the others are
// live until freed.
static int asprintf_calls, asprintf_fail_at;
static void *live[64];
static int nlive;

static int counting_asprintf(char **strp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int counting_asprintf(char **strp, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (++asprintf_calls == asprintf_fail_at) {
		// The contents of *strp are undefined after a failure.
		*strp = (char *)"not a pointer to free";
		errno = ENOMEM;
		return -1;
	}
	va_start(ap, fmt);
	n = vasprintf(strp, fmt, ap);
	va_end(ap);
	if (n >= 0 && nlive < (int)(sizeof(live) / sizeof(live[0])))
		live[nlive++] = *strp;
	return n;
}

static void counting_free(void *p)
{
	int i;

	for (i = 0; i < nlive; i++) {
		if (live[i] == p) {
			live[i] = live[--nlive];
			break;
		}
	}
	free(p);
}

#define asprintf counting_asprintf
#define free	 counting_free
// The file under test, compiled in so that its static functions are in
// reach.
#include "containers.c" // NOLINT(bugprone-suspicious-include)
#undef free
#undef asprintf

// supervisor.c's, which containers.c calls only once containers run.
char *pv_wait_status_str(int status, char *buf, size_t n)
{
	snprintf(buf, n, "status %d", status);
	return buf;
}

int pv_child_setup(pid_t parent, int sig, int out_fd)
{
	(void)parent;
	(void)sig;
	(void)out_fd;
	return -1;
}

static void test_new_oom(void)
{
	char dir[] = "/tmp/pv-containers-XXXXXX", cmd[64];
	struct pv_platform *p;
	struct pv_state *s;
	int i;

	CHECK(mkdtemp(dir) != NULL);
	s = pv_state_new();
	p = pv_platform_new("app");
	CHECK(s && p);
	if (!s || !p)
		return;
	dl_list_add_tail(&s->platforms, &p->list);
	// 1: the LXC path, 2: the container's log, 3: its LXC log, 4: its
	// start result; all fail before liblxc is called.
	for (i = 1; i <= 4; i++) {
		asprintf_calls = 0;
		asprintf_fail_at = i;
		nlive = 0;
		CHECK(pv_containers_new(NULL, s, dir) == NULL);
		CHECK(asprintf_calls == i);
		if (nlive)
			fprintf(stderr,
				"asprintf %d failing: %d string(s) "
				"leaked\n",
				i, nlive);
		CHECK(nlive == 0);
	}
	asprintf_fail_at = 0;
	pv_state_free(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static void fail_boom(void *arg)
{
	container_fail(arg, "boom");
}

static void test_error_text_oom(void)
{
	struct pv_platform p = { .name = "app" };
	struct pv_container ct = { .p = &p };
	char out[1024];

	kit_strdup_fails = 1;
	kit_stderr_of(fail_boom, &ct, out, sizeof(out));
	kit_strdup_fails = 0;
	CHECK(p.error == NULL);
	CHECK(strstr(out, "app: out of memory, \"boom\" not kept for "
			  "/containers") != NULL);
	if (!strstr(out, "out of memory"))
		fprintf(stderr, "logged: %s", out);
	// With memory, the text is kept and nothing more is said.
	kit_stderr_of(fail_boom, &ct, out, sizeof(out));
	CHECK_STR(p.error, "boom");
	CHECK(strstr(out, "out of memory") == NULL);
	free(p.error);
}

// One container, "app", on its own set, with the events pvd gives it; its
// start fails at once (a configuration error), before any fork.
struct fixture {
	struct event_base *base;
	struct pv_platform p;
	struct pv_container ct;
	struct pv_containers cs;
};

static int fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->base = event_base_new();
	f->p.name = (char *)"app";
	f->p.restart_policy = RESTART_ALWAYS;
	f->cs.base = f->base;
	f->cs.n = 1;
	f->cs.cts = &f->ct;
	f->ct.set = &f->cs;
	f->ct.p = &f->p;
	f->ct.pidfd = -1;
	f->ct.backoff_ms = BACKOFF_MIN_MS;
	f->ct.log_path = (char *)"/nonexistent/app.log";
	f->ct.lxc_log_path = (char *)"/nonexistent/app.lxc.log";
	f->ct.result_path = (char *)"/nonexistent/app.result";
	f->ct.cfg_error = (char *)"no such container (unit test)";
	if (f->base) {
		f->ct.restart_timer = evtimer_new(f->base, restart_cb, &f->ct);
		f->ct.stop_timer = evtimer_new(f->base, stop_timer_cb, &f->ct);
	}
	CHECK(f->ct.restart_timer && f->ct.stop_timer);
	return f->ct.restart_timer && f->ct.stop_timer ? 0 : -1;
}

static void fixture_fini(struct fixture *f)
{
	if (f->ct.restart_timer)
		event_free(f->ct.restart_timer);
	if (f->ct.stop_timer)
		event_free(f->ct.stop_timer);
	free(f->ct.last_exit);
	free(f->ct.last_log);
	free(f->p.error);
	if (f->base)
		event_base_free(f->base);
}

// Hands the exit (status 0) of arg's pretend monitor to it, a fixture.
static void monitor_exit(void *arg)
{
	struct fixture *f = arg;

	f->ct.monitor = 999999;
	CHECK(pv_containers_child_exited(&f->cs, 999999, 0) == 1);
}

// The container ended and its back-off cannot be timed: it is started
// again at once rather than never (here that start fails, as its
// configuration does).
static void test_restart_timer(void)
{
	struct fixture f;
	char out[2048];

	if (fixture_init(&f))
		goto out;
	kit_fail_reset();
	kit_event_fail_cb = restart_cb;
	kit_stderr_of(monitor_exit, &f, out, sizeof(out));
	CHECK(kit_event_failed == 1);
	kit_fail_reset();
	CHECK(strstr(out, "container app: cannot arm the restart timer; "
			  "restarting it now") != NULL);
	// Started: its start failed.
	CHECK(strstr(out, "container app: no such container") != NULL);
	CHECK(!f.ct.restart_pending);
	CHECK(f.ct.restarts == 1);
	CHECK(f.p.status == PLAT_FAILED);
	CHECK_STR(f.p.error, f.ct.cfg_error);
	if (!strstr(out, "restarting it now"))
		fprintf(stderr, "logged: %s", out);
out:
	fixture_fini(&f);
}

// A pv-ctrl stop whose kill timer cannot be armed: SIGKILL at once to a
// container (here its pretend monitor) that ignores SIGTERM, rather than
// never.
static void test_stop_timer(void)
{
	struct fixture f;
	int status = 0;
	pid_t pid;

	if (fixture_init(&f))
		goto out;
	pid = kit_fork_stubborn();
	if (pid == -1)
		goto out;
	f.ct.monitor = pid;
	kit_fail_reset();
	kit_event_fail_cb = stop_timer_cb;
	CHECK(pv_containers_control(&f.cs, "app", "stop") == 0);
	CHECK(kit_event_failed == 1);
	kit_fail_reset();
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	f.ct.monitor = 0;
out:
	fixture_fini(&f);
}

int main(void)
{
	RUN(test_new_oom);
	RUN(test_error_text_oom);
	RUN(test_restart_timer);
	RUN(test_stop_timer);
	return kit_report("test_containers");
}
