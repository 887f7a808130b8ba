// The supervisor when memory or libevent lets it down: an exit
// description that cannot be copied for the status is said in the log
// rather than dropped; a restart or kill timer that cannot be armed
// neither leaves the program dead for good nor lets a stop wait for ever.
//
// supervisor.c is pvd's and not linked into the unit tests: it is
// compiled into this one; strdup and event_add fail on demand
// (kit_fail.h).

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/kit.h"
#include "tests/unit/kit_fail.h"
// The file under test, compiled in so that its static functions are in
// reach.
#include "supervisor.c" // NOLINT(bugprone-suspicious-include)

static struct event_base *base;

// A supervisor of /bin/true, logging to log_path; NULL (a failed check)
// if it cannot be made.
static struct pv_supervised *supervised(const char *log_path)
{
	const char *argv[] = { "/bin/true", NULL };
	struct pv_supervised *p;

	p = pv_supervised_new(base, "prog", argv, log_path);
	CHECK(p != NULL);
	return p;
}

// Hands an exit with status 1 of a pretend process to arg, a
// pv_supervised.
static void pretend_exit(void *arg)
{
	struct pv_supervised *p = arg;

	p->pid = 999999;
	CHECK(pv_supervised_child_exited(p, 999999, 1 << 8) == 1);
}

// Starts arg, a pv_supervised.
static void start(void *arg)
{
	pv_supervised_start(arg);
}

static void test_last_exit_oom(void)
{
	struct pv_supervised *p = supervised("/dev/null");
	char out[1024];

	if (!p)
		return;
	kit_strdup_fails = 1;
	kit_stderr_of(pretend_exit, p, out, sizeof(out));
	kit_strdup_fails = 0;
	CHECK(p->last_exit == NULL);
	CHECK(strstr(out, "prog: out of memory") != NULL);
	if (!strstr(out, "out of memory"))
		fprintf(stderr, "logged: %s", out);
	// With memory, the text is kept and nothing more is said.
	kit_stderr_of(pretend_exit, p, out, sizeof(out));
	CHECK_STR(p->last_exit, "exited with status 1");
	CHECK(strstr(out, "out of memory") == NULL);
	// The restart it scheduled is not run.
	pv_supervised_stop(p, 0);
	pv_supervised_free(p);
}

// The program ended and its back-off cannot be timed: it is started
// again at once rather than never.
static void test_restart_timer(void)
{
	struct pv_supervised *p = supervised("/dev/null");
	char out[1024];
	int status;

	if (!p)
		return;
	p->respawn = 1;
	kit_fail_reset();
	kit_event_fail_cb = restart_cb;
	kit_stderr_of(pretend_exit, p, out, sizeof(out));
	CHECK(kit_event_failed == 1);
	kit_fail_reset();
	CHECK(strstr(out, "prog: cannot arm the restart timer; restarting it "
			  "now") != NULL);
	CHECK(p->pid > 0);
	CHECK(p->respawn == 1);
	CHECK(p->restarts == 1);
	// Reaped, as pvd's SIGCHLD handler would.
	if (p->pid > 0 && waitpid(p->pid, &status, 0) == p->pid)
		p->pid = 0;
	pv_supervised_free(p);
}

// A start failed and its retry cannot be timed: not retried at once (it
// would fail again at once, for ever), but left stopped, saying why.
static void test_restart_timer_after_start(void)
{
	struct pv_supervised *p = supervised("/nonexistent/prog.log");
	char out[1024];

	if (!p)
		return;
	kit_fail_reset();
	kit_event_fail_cb = restart_cb;
	kit_stderr_of(start, p, out, sizeof(out));
	CHECK(kit_event_failed == 1);
	kit_fail_reset();
	CHECK(strstr(out, "prog: cannot arm the restart timer; not "
			  "restarting it") != NULL);
	CHECK(p->pid == 0);
	CHECK(p->respawn == 0);
	// Why the start failed, and why it is not retried.
	CHECK(p->error && strstr(p->error, "cannot open log"));
	CHECK(p->error && strstr(p->error, "restart timer"));
	pv_supervised_free(p);
}

// A stop whose kill timer cannot be armed: SIGKILL at once to a program
// that ignores SIGTERM, rather than never.
static void test_kill_timer(void)
{
	struct pv_supervised *p = supervised("/dev/null");
	int status = 0;
	pid_t pid;

	if (!p)
		return;
	pid = kit_fork_stubborn();
	if (pid == -1)
		goto out;
	p->pid = pid;
	kit_fail_reset();
	kit_event_fail_cb = kill_cb;
	pv_supervised_stop(p, 60000);
	CHECK(kit_event_failed == 1);
	kit_fail_reset();
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	p->pid = 0;
out:
	pv_supervised_free(p);
}

int main(void)
{
	base = event_base_new();
	if (!base) {
		fprintf(stderr, "event_base_new failed\n");
		return 1;
	}
	RUN(test_last_exit_oom);
	RUN(test_restart_timer);
	RUN(test_restart_timer_after_start);
	RUN(test_kill_timer);
	event_base_free(base);
	return kit_report("test_supervisor");
}
