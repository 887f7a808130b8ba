// The magic-number checks (obj.h): an entry point handed a freed, zeroed,
// scribbled or NULL frontend, backend or session aborts at once, saying
// which object and where, instead of running on through freed memory.
// Each case runs in a child process; the parent asserts SIGABRT and the
// message. A real use after free is tried only without ASan or TSan
// (which report it first, as they should).

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "tests/unit/kit.h"
#include "xconnect.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UAF_SEEN_BY_SANITIZER 1
#endif

// Runs fn(arg) in a child with its stderr into a pipe; checks that the
// child aborted and that what it said contains want.
static void expect_abort(void (*fn)(void *), void *arg, const char *want)
{
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	int p[2], status = 0;
	pid_t pid;

	CHECK(pipe(p) == 0);
	pid = fork();
	CHECK(pid != -1);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		fn(arg);
		_exit(0); // not reached when the check fires
	}
	close(p[1]);
	while (len < sizeof(buf) - 1 &&
	       (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(p[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(strstr(buf, want) != NULL);
	if (!strstr(buf, want))
		fprintf(stderr, "  child said: %s\n", buf);
}

static void backend_ref(void *arg)
{
	pvx_backend_ref(arg);
}

static void backend_connected(void *arg)
{
	pvx_backend_connected(arg, 1);
}

static void frontend_ref(void *arg)
{
	pvx_frontend_ref(arg);
}

static void session_close(void *arg)
{
	pvx_session_close(arg, "test");
}

// A zeroed object (freed memory handed out again, cleared) and a
// scribbled one (a wild pointer) are both refused.
static void test_zeroed_and_scribbled(void)
{
	struct pvx_backend *b = calloc(1, sizeof(*b));
	struct pvx_frontend *fe = malloc(sizeof(*fe));
	struct pvx_session *s = calloc(1, sizeof(*s));

	CHECK(b && fe && s);
	if (!b || !fe || !s)
		goto out;
	memset(fe, 0xa5, sizeof(*fe));
	expect_abort(backend_ref, b,
		     "pvx_backend_ref: b is NULL or freed (magic 0, want "
		     "PVX_BACKEND_MAGIC)");
	expect_abort(frontend_ref, fe,
		     "pvx_frontend_ref: fe is not a live object (magic "
		     "0xa5a5a5a5, want PVX_FRONTEND_MAGIC)");
	expect_abort(session_close, s,
		     "pvx_session_close: s is NULL or freed (magic 0, want "
		     "PVX_SESSION_MAGIC)");
	// A backend the session does not hold (NULL) where one is due.
	expect_abort(backend_connected, NULL,
		     "pvx_backend_connected: b is NULL or freed");
out:
	free(b);
	free(fe);
	free(s);
}

#ifndef UAF_SEEN_BY_SANITIZER
// In the child: a real frontend, freed by its last unref, then used.
static void use_after_free(void *arg)
{
	struct pvx_frontend *fe;
	struct pvx x;

	(void)arg;
	if (pvx_init(&x))
		_exit(1);
	// netns pid -1: it never listens (no port taken).
	fe = pvx_frontend_get(&x, "k", "t", NULL, "127.0.0.1:1", -1);
	if (!fe)
		_exit(1);
	pvx_frontend_check_empty(fe);
	pvx_frontend_unref(fe);
	// NOLINTNEXTLINE(clang-analyzer-unix.Malloc): the point of the test
	pvx_frontend_ref(fe);
}

static void test_use_after_free(void)
{
	expect_abort(use_after_free, NULL, "pvx_frontend_ref: fe is");
}
#endif

int main(void)
{
	pv_log_set_level(FATAL);
	RUN(test_zeroed_and_scribbled);
#ifndef UAF_SEEN_BY_SANITIZER
	RUN(test_use_after_free);
#endif
	return kit_report("test_xconnect_obj");
}
