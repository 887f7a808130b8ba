#include <stdarg.h>
#include <stdlib.h>

#include "utils/errors.h"

void pv_errors_init(struct pv_errors *errs)
{
	errs->lines = NULL;
	errs->count = 0;
	errs->failed = 0;
}

void pv_errors_add(struct pv_errors *errs, const char *fmt, ...)
{
	char **lines;
	char *line;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0) {
		errs->failed = 1;
		return;
	}
	lines = realloc(errs->lines, (errs->count + 1) * sizeof(*lines));
	if (!lines) {
		free(line);
		errs->failed = 1;
		return;
	}
	lines[errs->count++] = line;
	errs->lines = lines;
}

void pv_errors_print(const struct pv_errors *errs, FILE *f)
{
	int i;

	for (i = 0; i < errs->count; i++)
		fprintf(f, "%s\n", errs->lines[i]);
	if (errs->failed)
		fprintf(f, "(further errors lost: out of memory)\n");
}

void pv_errors_clear(struct pv_errors *errs)
{
	int i;

	for (i = 0; i < errs->count; i++)
		free(errs->lines[i]);
	free(errs->lines);
	pv_errors_init(errs);
}
