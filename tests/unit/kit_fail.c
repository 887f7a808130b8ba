// Failure injection for the unit tests (kit_fail.h).

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/kit_fail.h"

int kit_event_pass_first, kit_event_fail_next, kit_event_failed;
const struct event *kit_event_fail_ev;
event_callback_fn kit_event_fail_cb;
int kit_strdup_fails;

static int (*real_event_add)(struct event *, const struct timeval *);

// Before main, while there is one thread: nothing writes the pointer
// once a test runs threads.
__attribute__((constructor)) static void kit_fail_init(void)
{
	*(void **)&real_event_add = dlsym(RTLD_NEXT, "event_add");
}

void kit_fail_reset(void)
{
	kit_event_pass_first = 0;
	kit_event_fail_next = 0;
	kit_event_fail_ev = NULL;
	kit_event_fail_cb = NULL;
	kit_event_failed = 0;
	kit_strdup_fails = 0;
}

// 1 when this add of ev is to fail (and counts it).
static int event_add_fails(const struct event *ev)
{
	if (kit_event_fail_next > 0 && kit_event_pass_first > 0) {
		kit_event_pass_first--;
		return 0;
	}
	if (kit_event_fail_next > 0)
		kit_event_fail_next--;
	else if (!(kit_event_fail_ev && ev == kit_event_fail_ev) &&
		 !(kit_event_fail_cb &&
		   event_get_callback(ev) == kit_event_fail_cb))
		return 0;
	kit_event_failed++;
	return 1;
}

// libevent's event_add, unless this call is to fail: then -1, ev left
// as it was.
int event_add(struct event *ev, const struct timeval *tv)
{
	if (event_add_fails(ev))
		return -1;
	return real_event_add(ev, tv);
}

// libc's strdup, unless kit_strdup_fails: then NULL, errno ENOMEM.
// Caller frees.
char *strdup(const char *s)
{
	size_t n;
	char *d;

	if (kit_strdup_fails) {
		errno = ENOMEM;
		return NULL;
	}
	n = strlen(s) + 1;
	d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}
