#include <stdlib.h>
#include <string.h>

#include "tests/unit/kit.h"
#include "tests/unit/kit_parse.h"

char *kit_unq(const char *s)
{
	char *d = strdup(s), *p;

	for (p = d; p && *p; p++)
		if (*p == '\'')
			*p = '"';
		else if (*p == '`')
			*p = '\'';
	return d;
}

void kit_expect_line(const struct pv_errors *errs, const char *want_q,
		     const char *where)
{
	char *want = kit_unq(want_q);
	int i, found = 0;

	for (i = 0; want && i < errs->count; i++)
		found |= !strcmp(errs->lines[i], want);
	kit_checks++;
	if (!found) {
		kit_failures++;
		fprintf(stderr, "%s: missing error line\n  want: %s\n", where,
			want ? want : "(out of memory)");
		for (i = 0; i < errs->count; i++)
			fprintf(stderr, "  got:  %s\n", errs->lines[i]);
	}
	free(want);
}
