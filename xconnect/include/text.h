#ifndef PV_XCONNECT_TEXT_H
#define PV_XCONNECT_TEXT_H

// A growing text buffer (status.c).

#include <stddef.h>

// A growing text buffer; after a failed allocation every call is a no-op
// and pvx_text_finish gives NULL.
struct pvx_text {
	char *buf;
	size_t len, cap;
	int failed;
};

// Appends printf-style.
void pvx_text_put(struct pvx_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

// The text (caller frees) and its length, or NULL (failed or empty).
char *pvx_text_finish(struct pvx_text *t, size_t *len);

#endif
