#ifndef PV_XCONNECT_LISTENER_T_H
#define PV_XCONNECT_LISTENER_T_H

// A listening socket with its brakes: the type (listener.c has the code).

#include <sys/socket.h>

#include <event2/event_struct.h>

struct pvx_listener;

// What the owner of a listener (a frontend, the stats page) supplies.
// Only listen and accept are required.
struct pvx_listener_ops {
	// The listen step: a listening socket (non-blocking, CLOEXEC), or -1
	// with errno set and *what naming the step. Tried again every
	// retry_ms until it works.
	int (*listen)(struct pvx_listener *l, const char **what);
	// An accepted client (non-blocking, CLOEXEC), the callee's from now
	// on. The owner may stop (even free) the listener meanwhile only
	// between hold(l, 1) and hold(l, 0).
	void (*accept)(struct pvx_listener *l, int fd,
		       const struct sockaddr *peer, socklen_t len);
	// 1 when another client may be accepted now; 0 pauses accepting
	// until pvx_listener_resume finds room again. accepting: asked by
	// the accept loop (a client is waiting), else by a resume. NULL:
	// always.
	int (*room)(struct pvx_listener *l, int accepting);
	// Keeps the owner alive across one batch of accepts (take 1), lets
	// it go (take 0). NULL: the owner outlives its callbacks.
	void (*hold)(struct pvx_listener *l, int take);
	// accept failed for lack of fds or memory (errno says which): the
	// owner says so as it likes, then calls pvx_listener_backoff (or
	// not). NULL: the listener backs off, saying nothing.
	void (*accept_failed)(struct pvx_listener *l);
	// The listen step worked (after failures too). NULL: nothing said.
	void (*bound)(struct pvx_listener *l);
	// Closes fd, the socket listen returned, with whatever the listen
	// step made for it (a socket file). NULL: close(fd).
	void (*unlisten)(struct pvx_listener *l, int fd);
};

struct pvx_listener {
	const struct pvx_listener_ops *ops;
	void *owner;
	struct event_base *base;
	const char *name; // for log lines: "link web", "stats page on :8404"
	// What precedes the failed step in a bind failure's line ("listen
	// on 127.0.0.1:80: "), or "".
	const char *where;
	int batch;    // accepts per readiness event at most
	int retry_ms; // between listen attempts
	int pause_ms; // of an accept pause (fds or memory short)
	int fd;	      // -1 while not listening
	// Why the last listen step failed, when the step said more than a
	// step's name and errno (the owner's listen fills it; "" otherwise).
	char why[160];
	struct event ev_accept;
	struct event ev_timer;	   // listen retry, accept pause
	unsigned enabled : 1;	   // started and not stopped
	unsigned listening : 1;	   // fd open, ev_accept set up
	unsigned paused : 1;	   // ev_accept not added
	unsigned bind_failed : 1;  // last listen failed (said once)
	unsigned watch_failed : 1; // ev_accept could not be added (said)
	unsigned timer_failed : 1; // ev_timer could not be armed
};

#endif
