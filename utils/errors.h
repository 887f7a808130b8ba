#ifndef PV_ERRORS_H
#define PV_ERRORS_H

#include <stdio.h>

// A list of error lines gathered while validating, so that every error of
// a state is reported, not only the first.
struct pv_errors {
	char **lines;
	int count;
	int failed; // an allocation failed; count may be short
};

// Starts an empty list.
void pv_errors_init(struct pv_errors *errs);

// Appends one formatted line ("nginx/services.json: services[0].port: ...").
void pv_errors_add(struct pv_errors *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

// Writes each line, newline-terminated, to f.
void pv_errors_print(const struct pv_errors *errs, FILE *f);

// Frees the lines; the list is empty afterwards.
void pv_errors_clear(struct pv_errors *errs);

#endif
