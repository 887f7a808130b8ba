// The map values shared by the sk_skb program (sockmap.bpf.c) and its
// loader (xconnect/datapath_sockmap.c). Fixed-width uapi types only: the
// layout is the same for the BPF target and every host architecture.
#ifndef PV_SOCKMAP_MAPS_H
#define PV_SOCKMAP_MAPS_H

#include <linux/types.h>

// One socket's link: where its bytes go and what they count toward.
struct pvx_sm_link {
	__u64 peer;    // the peer's socket cookie, its key in pvx_socks
	__u64 session; // the session's cookie, its key in pvx_sessions
	__u32 dir;     // 0: this socket is side a (counts a_to_b), 1: side b
	__u32 pad;
};

// One session's figures, written by the program.
struct pvx_sm_session {
	__u64 bytes[2];	       // [0] a to b, [1] b to a: redirected bytes
	__u64 last_active_ns;  // CLOCK_MONOTONIC of the last redirect
	__u64 redirect_failed; // packets kept back (peer out of the map)
	__u64 sock[2];	       // socket cookies of a and b (for user space)
};

#endif
