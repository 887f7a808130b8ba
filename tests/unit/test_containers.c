// Containers when memory runs out: whatever asprintf fails,
// pv_containers_new gives back everything it took; a status text that
// cannot be copied is said in the log rather than dropped.
//
// containers.c is pvd's and not linked into the unit tests: it is compiled
// into this one, with asprintf, strdup and free replaced by counting
// versions.

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "platforms.h"
#include "state.h"
#include "supervisor.h"
#include "tests/unit/kit.h"

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

#undef strdup
#define asprintf  counting_asprintf
#define strdup(s) failing_strdup(s)
#define free	  counting_free
// The file under test, compiled in so that its static functions are in
// reach.
#include "containers.c" // NOLINT(bugprone-suspicious-include)
#undef free
#undef strdup
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

// What fn(arg) writes to stderr, into buf (NUL-terminated).
static void stderr_of(void (*fn)(void *), void *arg, char *buf, size_t n)
{
	FILE *f = tmpfile();
	size_t got = 0;
	int saved;

	buf[0] = '\0';
	CHECK(f != NULL);
	if (!f)
		return;
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(f), 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	got = fread(buf, 1, n - 1, f);
	buf[got] = '\0';
	fclose(f);
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

	strdup_fails = 1;
	stderr_of(fail_boom, &ct, out, sizeof(out));
	strdup_fails = 0;
	CHECK(p.error == NULL);
	CHECK(strstr(out, "container app: out of memory") != NULL);
	if (!strstr(out, "out of memory"))
		fprintf(stderr, "logged: %s", out);
	// With memory, the text is kept and nothing more is said.
	stderr_of(fail_boom, &ct, out, sizeof(out));
	CHECK_STR(p.error, "boom");
	CHECK(strstr(out, "out of memory") == NULL);
	free(p.error);
}

int main(void)
{
	RUN(test_new_oom);
	RUN(test_error_text_oom);
	return kit_report("test_containers");
}
