#ifndef PV_TIMER_H
#define PV_TIMER_H

#include <event2/event.h>

// Adds ev (a timer, or an fd event with a deadline) to fire ms
// milliseconds from now; ms below 0 counts as 0. Returns 0, or -1 when
// libevent could not add it (out of memory for its timer heap, or the
// backend refused the fd): ev is then left as it was, and the caller
// decides what is to happen without it.
int pv_timer_arm(struct event *ev, long long ms);

#endif
