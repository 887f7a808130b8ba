#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/kit.h"

int kit_failures;
int kit_checks;

int kit_report(const char *suite)
{
	fprintf(stderr, "%s: %d checks, %d failed\n", suite, kit_checks,
		kit_failures);
	return kit_failures ? 1 : 0;
}

void kit_stderr_of(void (*fn)(void *), void *arg, char *buf, size_t n)
{
	FILE *f = tmpfile();
	size_t got;
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

int kit_fork_stubborn(void)
{
	int sync[2];
	pid_t pid;
	char c = 0;

	if (pipe(sync) == -1) {
		CHECK(!"pipe");
		return -1;
	}
	pid = fork();
	CHECK(pid != -1);
	if (pid == 0) {
		signal(SIGTERM, SIG_IGN);
		alarm(20);
		if (write(sync[1], "r", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	// SIGTERM is ignored once the child says so.
	if (pid != -1 && read(sync[0], &c, 1) != 1) {
		CHECK(!"the child's word");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(sync[0]);
	close(sync[1]);
	return pid;
}

int kit_in_child(int (*fn)(void))
{
	int status = 0;
	pid_t pid = fork();

	CHECK(pid != -1);
	if (pid == -1)
		return 0;
	if (pid == 0) {
		alarm(20);
		_exit(fn() ? 1 : 0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
