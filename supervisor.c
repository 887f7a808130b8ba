// Supervision of a host program (pv-xconnect): fork and exec with its
// output in a log file, restart with exponential back-off, stop on
// request with SIGTERM and then SIGKILL.
#define MODULE_NAME "supervisor"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "utils/text.h"
#include "utils/timer.h"
#include "supervisor.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 10000
// A program that ran this long is considered healthy again: its next
// crash restarts it after the minimal delay.
#define STABLE_MS 10000

// Frees a NULL-terminated argv and its strings. NULL-safe.
static void free_argv(char **argv)
{
	char **a;

	if (!argv)
		return;
	for (a = argv; *a; a++)
		free(*a);
	free(argv);
}

char *pv_wait_status_str(int status, char *buf, size_t n)
{
	if (WIFEXITED(status))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, n, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, n, "ended with wait status 0x%x", status);
	return buf;
}

int pv_child_setup(pid_t parent, int sig, int out_fd)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t all;
	int i, null;

	// pvd ignores SIGPIPE and catches TERM, INT and CHLD; none of that
	// is for the child. exec keeps ignored signals ignored, so reset.
	for (i = 1; i < NSIG; i++)
		if (i != SIGKILL && i != SIGSTOP)
			sigaction(i, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	// Its own session: a Ctrl-C on pvd's terminal reaches pvd alone,
	// which then stops its children in order.
	if (setsid() == -1)
		return -1;
	// A pvd killed without a chance to clean up takes its children
	// along rather than leaving them orphaned.
	if (prctl(PR_SET_PDEATHSIG, sig) == -1)
		return -1;
	if (getppid() != parent) {
		errno = ESRCH;
		return -1;
	}
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null == -1 || dup2(null, 0) == -1 || dup2(out_fd, 1) == -1 ||
	    dup2(out_fd, 2) == -1)
		return -1;
	// Whatever pvd inherited or opened, the program gets only its
	// stdio; fds that must live until exec are closed by it.
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		for (i = 3; i < 65536; i++)
			fcntl(i, F_SETFD, FD_CLOEXEC);
	return 0;
}

// The back-off delay is over: start the program again.
static void restart_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pv_supervised_start(arg);
}

// The program outlived its SIGTERM grace period.
static void kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pv_supervised *p = arg;

	(void)fd;
	(void)what;
	if (p->pid > 0) {
		pv_log(WARN, "%s (pid %d) ignored SIGTERM; sending SIGKILL",
		       p->name, p->pid);
		kill(p->pid, SIGKILL);
	}
}

struct pv_supervised *pv_supervised_new(struct event_base *base,
					const char *name,
					const char *const *argv,
					const char *log_path)
{
	struct pv_supervised *p;
	int n = 0, i;

	while (argv[n])
		n++;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto out_oom;
	p->base = base;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->name = strdup(name);
	p->log_path = strdup(log_path);
	p->argv = calloc(n + 1, sizeof(*p->argv));
	if (!p->name || !p->log_path || !p->argv)
		goto out_oom;
	for (i = 0; i < n; i++) {
		p->argv[i] = strdup(argv[i]);
		if (!p->argv[i])
			goto out_oom;
	}
	p->restart_timer = evtimer_new(base, restart_cb, p);
	p->kill_timer = evtimer_new(base, kill_cb, p);
	if (!p->restart_timer || !p->kill_timer)
		goto out_oom;
	return p;
out_oom:
	pv_log(ERROR, "%s: out of memory", name);
	pv_supervised_free(p);
	return NULL;
}

void pv_supervised_free(struct pv_supervised *p)
{
	if (!p)
		return;
	if (p->restart_timer)
		event_free(p->restart_timer);
	if (p->kill_timer)
		event_free(p->kill_timer);
	free_argv(p->argv);
	free(p->name);
	free(p->log_path);
	free(p->last_exit);
	free(p->error);
	free(p);
}

// Replaces *field, one of p's texts for its status, with a copy of text
// (pv_text_set: a copy that cannot be made is said in the log).
static void set_text(const struct pv_supervised *p, char **field,
		     const char *text)
{
	pv_text_set(field, text, p->name, "its status");
}

// Starts the program again after the current back-off, then doubles it.
// A back-off that cannot be timed is skipped: the program that ended is
// started again at once rather than never. A start that failed is not
// retried at once (it would fail again, and again): the program is then
// left stopped, its error saying why.
static void schedule_restart(struct pv_supervised *p, int after_start)
{
	char why[600];

	pv_log(INFO, "%s: restarting in %d ms", p->name, p->backoff_ms);
	if (pv_timer_arm(p->restart_timer, p->backoff_ms) == 0) {
		p->backoff_ms *= 2;
		if (p->backoff_ms > BACKOFF_MAX_MS)
			p->backoff_ms = BACKOFF_MAX_MS;
		return;
	}
	if (after_start) {
		pv_log(ERROR,
		       "%s: cannot arm the restart timer; not restarting it "
		       "(start it through pv-ctrl)",
		       p->name);
		p->respawn = 0;
		snprintf(why, sizeof(why),
			 "%s; not restarted: the restart timer could not be "
			 "armed",
			 p->error ? p->error : "start failed");
		set_text(p, &p->error, why);
		return;
	}
	pv_log(ERROR, "%s: cannot arm the restart timer; restarting it now",
	       p->name);
	pv_supervised_start(p);
}

// Child side of the start: never returns. Reports an exec failure's errno
// through err_fd (close-on-exec, so a successful exec closes it silently).
static void child_exec(struct pv_supervised *p, pid_t parent, int log_fd,
		       int err_fd)
{
	int e;

	if (pv_child_setup(parent, SIGTERM, log_fd) == 0)
		execvp(p->argv[0], p->argv);
	e = errno;
	if (write(err_fd, &e, sizeof(e)) == -1)
		_exit(127);
	_exit(127);
}

int pv_supervised_start(struct pv_supervised *p)
{
	char msg[512];
	int pipefd[2], log_fd, e;
	pid_t parent = getpid(), pid;
	ssize_t n;

	p->respawn = 1;
	evtimer_del(p->restart_timer);
	if (p->pid > 0)
		return 0;
	log_fd = open(p->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		      0640);
	if (log_fd == -1) {
		snprintf(msg, sizeof(msg), "cannot open log %s: %s",
			 p->log_path, strerror(errno));
		goto out_fail;
	}
	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		snprintf(msg, sizeof(msg), "pipe: %s", strerror(errno));
		close(log_fd);
		goto out_fail;
	}
	pid = fork();
	if (pid == -1) {
		snprintf(msg, sizeof(msg), "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		close(log_fd);
		goto out_fail;
	}
	if (pid == 0) {
		close(pipefd[0]);
		child_exec(p, parent, log_fd, pipefd[1]);
	}
	close(pipefd[1]);
	close(log_fd);
	// Blocks only until the child's exec: a successful exec closes the
	// pipe, a failed one writes its errno first.
	do {
		n = read(pipefd[0], &e, sizeof(e));
	} while (n == -1 && errno == EINTR);
	close(pipefd[0]);
	p->pid = pid;
	clock_gettime(CLOCK_MONOTONIC, &p->started);
	if (n == sizeof(e)) {
		// The child exits at once; its exit is reaped as usual and
		// schedules the retry.
		snprintf(msg, sizeof(msg), "cannot run %s: %s", p->argv[0],
			 strerror(e));
		pv_log(ERROR, "%s: %s", p->name, msg);
		set_text(p, &p->error, msg);
		return -1;
	}
	set_text(p, &p->error, NULL);
	pv_log(INFO, "%s started, pid %d", p->name, pid);
	return 0;
out_fail:
	pv_log(ERROR, "%s: %s", p->name, msg);
	set_text(p, &p->error, msg);
	schedule_restart(p, 1);
	return -1;
}

void pv_supervised_stop(struct pv_supervised *p, int grace_ms)
{
	p->respawn = 0;
	evtimer_del(p->restart_timer);
	if (p->pid <= 0 || p->stopping)
		return;
	pv_log(INFO, "stopping %s (pid %d)", p->name, p->pid);
	p->stopping = 1;
	if (kill(p->pid, SIGTERM) == -1)
		pv_log(WARN, "%s: SIGTERM: %s", p->name, strerror(errno));
	if (pv_timer_arm(p->kill_timer, grace_ms) == 0)
		return;
	// Without the timer nothing would ever send the SIGKILL.
	pv_log(ERROR, "%s: cannot arm the kill timer; sending SIGKILL now",
	       p->name);
	kill(p->pid, SIGKILL);
}

void pv_supervised_kill(struct pv_supervised *p)
{
	p->respawn = 0;
	evtimer_del(p->restart_timer);
	if (p->pid > 0)
		kill(p->pid, SIGKILL);
}

int pv_supervised_child_exited(struct pv_supervised *p, pid_t pid, int status)
{
	struct timespec now;
	char desc[96];
	long ran_ms;

	if (pid != p->pid)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ran_ms = (now.tv_sec - p->started.tv_sec) * 1000 +
		 (now.tv_nsec - p->started.tv_nsec) / 1000000;
	pv_wait_status_str(status, desc, sizeof(desc));
	set_text(p, &p->last_exit, desc);
	p->pid = 0;
	evtimer_del(p->kill_timer);
	if (p->stopping) {
		pv_log(INFO, "%s (pid %d) stopped: %s", p->name, pid, desc);
		p->stopping = 0;
	} else {
		pv_log(WARN, "%s (pid %d) %s after %ld ms", p->name, pid, desc,
		       ran_ms);
	}
	if (!p->respawn)
		return 1;
	if (ran_ms >= STABLE_MS)
		p->backoff_ms = BACKOFF_MIN_MS;
	p->restarts++;
	schedule_restart(p, 0);
	return 1;
}

void pv_supervised_ser(struct pv_supervised *p, struct pv_json_ser *js)
{
	const char *status;

	if (p->pid > 0)
		status = p->stopping ? "stopping" : "running";
	else
		status = p->respawn ? "restarting" : "stopped";
	pv_json_ser_object_begin(js);
	pv_json_ser_key(js, "name");
	pv_json_ser_string(js, p->name);
	pv_json_ser_key(js, "pid");
	pv_json_ser_int(js, p->pid);
	pv_json_ser_key(js, "respawn");
	pv_json_ser_bool(js, p->respawn);
	pv_json_ser_key(js, "status");
	pv_json_ser_string(js, status);
	pv_json_ser_key(js, "restarts");
	pv_json_ser_int(js, p->restarts);
	if (p->last_exit) {
		pv_json_ser_key(js, "last_exit");
		pv_json_ser_string(js, p->last_exit);
	}
	if (p->error) {
		pv_json_ser_key(js, "error");
		pv_json_ser_string(js, p->error);
	}
	pv_json_ser_object_end(js);
}
