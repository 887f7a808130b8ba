// A growing text buffer for the renderings (JSON aside): Prometheus
// text, the HTML stats page, HTTP answers.

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "text.h"

void pvx_text_put(struct pvx_text *t, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *nb;
	int n;

	while (!t->failed) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL,
			      t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if (t->buf && t->len + n < t->cap) {
			t->len += n;
			return;
		}
		// Too short: grow and format again.
		cap = t->cap ? t->cap * 2 : 4096;
		while (cap < t->len + n + 1)
			cap *= 2;
		nb = realloc(t->buf, cap);
		if (!nb) {
			t->failed = 1;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
}

char *pvx_text_finish(struct pvx_text *t, size_t *len)
{
	if (t->failed || !t->buf) {
		free(t->buf);
		return NULL;
	}
	*len = t->len;
	return t->buf;
}
