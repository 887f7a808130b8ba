#include "tests/unit/kit.h"

int kit_failures;
int kit_checks;

int kit_report(const char *suite)
{
	fprintf(stderr, "%s: %d checks, %d failed\n", suite, kit_checks,
		kit_failures);
	return kit_failures ? 1 : 0;
}
