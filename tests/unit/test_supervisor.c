// The supervisor when memory runs out: an exit description that cannot
// be copied for the status is said in the log rather than dropped.
//
// supervisor.c is pvd's and not linked into the unit tests: it is
// compiled into this one, with strdup replaced by one that can fail.

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/kit.h"

// strdup fails while strdup_fails is set.
static int strdup_fails;

static char *failing_strdup(const char *s)
{
	if (strdup_fails) {
		errno = ENOMEM;
		return NULL;
	}
	return strdup(s);
}

#undef strdup
#define strdup(s) failing_strdup(s)
// The file under test, compiled in so that its static functions are in
// reach.
#include "supervisor.c" // NOLINT(bugprone-suspicious-include)
#undef strdup

// What pv_supervised_child_exited writes to stderr for an exit of p's
// (pretend) process with status 1, into buf.
static void exit_logged(struct pv_supervised *p, char *buf, size_t n)
{
	FILE *f = tmpfile();
	size_t got;
	int saved;

	buf[0] = '\0';
	CHECK(f != NULL);
	if (!f)
		return;
	p->pid = 999999;
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(f), 2);
	CHECK(pv_supervised_child_exited(p, 999999, 1 << 8) == 1);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	got = fread(buf, 1, n - 1, f);
	buf[got] = '\0';
	fclose(f);
}

static void test_last_exit_oom(void)
{
	const char *argv[] = { "/bin/true", NULL };
	struct event_base *base = event_base_new();
	struct pv_supervised *p;
	char out[1024];

	CHECK(base != NULL);
	p = base ? pv_supervised_new(base, "prog", argv, "/dev/null") : NULL;
	CHECK(p != NULL);
	if (!p)
		goto out;
	strdup_fails = 1;
	exit_logged(p, out, sizeof(out));
	strdup_fails = 0;
	CHECK(p->last_exit == NULL);
	CHECK(strstr(out, "prog: out of memory") != NULL);
	if (!strstr(out, "out of memory"))
		fprintf(stderr, "logged: %s", out);
	// With memory, the text is kept and nothing more is said.
	exit_logged(p, out, sizeof(out));
	CHECK_STR(p->last_exit, "exited with status 1");
	CHECK(strstr(out, "out of memory") == NULL);
	pv_supervised_free(p);
out:
	if (base)
		event_base_free(base);
}

int main(void)
{
	RUN(test_last_exit_oom);
	return kit_report("test_supervisor");
}
