#ifndef PV_XCONNECT_TUNNEL_T_H
#define PV_XCONNECT_TUNNEL_T_H

// The data path: the types (plumbing.c has the code).

#include <stdint.h>
#include <sys/time.h>

#include <event2/event_struct.h>

#include "utils/list.h"

struct pvx;

// One socket of a tunnel and what its edges said. Registered once, edge-
// triggered, for reading, writing and the peer's FIN, for the whole life
// of the connection; a flag stays set until a call answers EAGAIN.
struct pvx_end {
	int fd;		       // -1: none
	unsigned is_b : 1;     // which end of its tunnel
	unsigned readable : 1; // bytes (or EOF) may be there
	unsigned writable : 1; // room may be there
	unsigned rdhup : 1;    // the peer's FIN has arrived
	// A Unix socket signals room after every message its peer reads:
	// its write edges are watched only from the first time it is full
	// (lazy_out; out_on from then).
	unsigned lazy_out : 1;
	unsigned out_on : 1;
};

// One direction of a tunnel: bytes read from one end are written to the
// other. Bytes the peer did not take at once wait in buf (copied, at
// most PVX_FLOW_BUF) or in a pipe (spliced, at most PVX_PIPE_BYTES), and
// while they do the source is not read: backpressure. A flow holds a pipe only
// while bytes wait in it.
struct pvx_flow {
	char *buf;	       // NULL while nothing copied waits
	uint32_t off, len;     // waiting copied bytes: buf[off..len)
	int pipe_r, pipe_w;    // -1: no pipe held
	uint32_t piped;	       // bytes waiting in the pipe
	unsigned bulk : 1;     // a read filled the buffer: splice from now on
	unsigned nosplice : 1; // splice refused: copy for good
	unsigned eof : 1;      // the source has ended (EOF or error)
	unsigned failed : 1;   // the destination failed
	unsigned done : 1;     // finished: shutdown sent, or failed
	unsigned kernel : 1;   // the kernel path moves it: user space waits
	unsigned kernel_leaving : 1; // to user space once the kernel flushed
	unsigned kernel_folded : 1;  // the kernel's count is in bytes
	unsigned kernel_eof : 1;     // EOF: shut the peer once flushed
	uint64_t bytes; // moved in user space (datapath.h adds the rest)
};

struct pvx_tunnel;
typedef void (*pvx_tunnel_cb)(struct pvx_tunnel *t, void *arg);

// Two sockets joined both ways, with half-close: an EOF on one side
// becomes shutdown(SHUT_WR) on the other once its waiting bytes are
// written. When both directions are done (or the idle timeout fires) the
// done callback runs; it must call pvx_tunnel_fini.
struct pvx_tunnel {
	struct pvx *x;
	struct pvx_end a;     // the client
	struct pvx_end b;     // the backend
	struct pvx_flow up;   // a -> b
	struct pvx_flow down; // b -> a
	// The owner's timer until the tunnel is joined (a session's connect
	// timeout), the idle timer after.
	struct event ev_timer;
	int idle_ms;	     // 0: none
	struct timeval last; // last activity (cached loop time)
	pvx_tunnel_cb done;
	pvx_tunnel_cb connected; // b's first edge while it connects
	void *arg;
	struct dl_list again; // in pvx.again while queued
	unsigned queued : 1;  // yielded: runs again next round
	unsigned inited : 1;
	unsigned connecting : 1;   // b's connect in progress
	unsigned started : 1;	   // joined: bytes move
	unsigned finished : 1;	   // done called
	unsigned idle_expired : 1; // ended by the idle timeout
	// The kernel data path (datapath.c): the pair in x->sm.
	uint64_t sm_cookie;	   // 0: never in the maps
	struct event ev_kernel;	   // flush polls, the watch of a Unix end
	int kernel_ms;		   // the next poll's delay
	uint64_t kernel_seen;	   // bytes the kernel moved at the last watch
	uint16_t small_reads;	   // auto: reads shorter than the buffer
	uint8_t enter_tries;	   // refusals of a Unix socket not empty
	unsigned kernel : 1;	   // in the maps, a way still the kernel's
	unsigned kernel_done : 1;  // never (again) into the maps
	unsigned kernel_ev : 1;	   // ev_kernel assigned
	unsigned kernel_watch : 1; // TCP to Unix: watch the Unix end
};

#endif
