#ifndef PV_TEST_KIT_H
#define PV_TEST_KIT_H

// A tiny assertion kit in the spirit of jsmn's test/test.h: each failed
// check prints where and what, and the test's exit status counts failures.

#include <stddef.h>
#include <stdio.h>
#include <string.h>

extern int kit_failures;
extern int kit_checks;

#define CHECK(cond)                                                            \
	do {                                                                   \
		kit_checks++;                                                  \
		if (!(cond)) {                                                 \
			kit_failures++;                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECK_STR(got, want)                                                   \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		kit_checks++;                                                  \
		if (!g_ || !w_ || strcmp(g_, w_)) {                            \
			kit_failures++;                                        \
			fprintf(stderr, "%s:%d: %s\n  got:  %s\n  want: %s\n", \
				__FILE__, __LINE__, #got, g_ ? g_ : "(null)",  \
				w_ ? w_ : "(null)");                           \
		}                                                              \
	} while (0)

// Runs one test function, naming it on failure.
#define RUN(fn)                                                                \
	do {                                                                   \
		int before_ = kit_failures;                                    \
		fn();                                                          \
		if (kit_failures != before_)                                   \
			fprintf(stderr, "FAIL %s\n", #fn);                     \
	} while (0)

// Prints the summary; returns the exit status for main().
int kit_report(const char *suite);

// Forks a child that ignores SIGTERM (as a program that will not stop),
// and returns once it does: its pid, or -1 (a failed check). It ends by
// itself after 20 s at the latest (SIGALRM); the caller reaps it.
int kit_fork_stubborn(void);

// Runs fn in a child cut by SIGALRM after 20 s, for code that may loop
// for ever: 1 when the child exited with status 0, otherwise 0 (a failed
// check).
int kit_in_child(int (*fn)(void));

// Runs fn(arg) with stderr going to a temporary file, and gives what it
// wrote in buf (NUL-terminated, at most n - 1 bytes; "" if the file
// could not be made, which counts as a failed check).
void kit_stderr_of(void (*fn)(void *), void *arg, char *buf, size_t n);

#endif
