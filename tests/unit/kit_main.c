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
