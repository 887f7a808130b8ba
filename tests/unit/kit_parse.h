#ifndef PV_TEST_KIT_PARSE_H
#define PV_TEST_KIT_PARSE_H

// For the parser's tests, whose states and expected lines are written
// with ' for " (and ` for ') to stay readable.

#include "utils/errors.h"

// Turns ' into " and ` into '. Caller frees; NULL when out of memory.
char *kit_unq(const char *s);

// Checks that errs holds the line want_q (with ' for "), printing all
// lines, with where, when it does not.
void kit_expect_line(const struct pv_errors *errs, const char *want_q,
		     const char *where);

#endif
