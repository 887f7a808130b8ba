// Timers in milliseconds, the unit of every timeout in this tree, armed in
// one place so that a failure to arm one is always reported to the caller.

#include "utils/timer.h"

int pv_timer_arm(struct event *ev, long long ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return event_add(ev, &tv) == -1 ? -1 : 0;
}
