#ifndef PV_TEST_KIT_FAIL_H
#define PV_TEST_KIT_FAIL_H

// Failures on demand, for the tests of what code does when libevent or
// memory lets it down. kit_fail.c defines event_add and strdup in every
// unit test: the executable's definitions come first, so the code under
// test (and the libraries) call these, which fail as set here and
// otherwise do what libevent's and libc's do.

#include <event2/event.h>

// event_add: after kit_event_pass_first calls, the next
// kit_event_fail_next calls fail; so does every call for
// kit_event_fail_ev, and for any event whose callback is
// kit_event_fail_cb, while set. kit_event_failed counts the failures.
extern int kit_event_pass_first;
extern int kit_event_fail_next;
extern const struct event *kit_event_fail_ev;
extern event_callback_fn kit_event_fail_cb;
extern int kit_event_failed;

// strdup fails (NULL, errno ENOMEM) while set.
extern int kit_strdup_fails;

// Sets every control above back to "never fail" and the count to 0.
void kit_fail_reset(void);

#endif
