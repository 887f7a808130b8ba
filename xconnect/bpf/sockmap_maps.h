// The map values shared by the sk_skb program (sockmap.bpf.c) and its
// loader (xconnect/datapath_sockmap.c). Fixed-width uapi types only: the
// layout is the same for the BPF target and every host architecture.
#ifndef PV_SOCKMAP_MAPS_H
#define PV_SOCKMAP_MAPS_H

#include <linux/types.h>

// A link's flags.
#define PVX_SM_SEQ_SET	1u // seq_base holds the peer's write sequence
#define PVX_SM_OVERFLOW 2u // past the limit: this way is user space's

// One socket's link: where its bytes go and what they count toward.
struct pvx_sm_link {
	__u64 peer;	// the peer's socket cookie, its key in pvx_socks
	__u64 session;	// the session's cookie, its key in pvx_sessions
	__u32 dir;	// 0: this socket is side a (counts a_to_b), 1: side b
	__u32 flags;	// PVX_SM_*
	__u32 limit;	// most bytes on the way to a TCP peer, 0: no limit
	__u32 seq_base; // the peer's write sequence at the first redirect
	__u32 since;	// bytes redirected since then (mod 2^32)
	__u32 pad;
};

// One session's figures, written by the program.
struct pvx_sm_session {
	__u64 bytes[2];	       // [0] a to b, [1] b to a: redirected bytes
	__u64 last_active_ns;  // CLOCK_MONOTONIC of the last redirect
	__u64 redirect_failed; // packets kept back (peer out of the map)
	__u64 passed[2];       // bytes left to user space past the limit
	__u64 sock[2];	       // socket cookies of a and b (for user space)
};

#endif
