// pv-xconnect's kernel data path: both sockets of a session in a BPF
// SOCKHASH, an sk_skb verdict program moving what one receives to the
// other's send path, per-session counters kept by the program
// (docs/datapath.md). Not yet used by sessions: a module of its own,
// probed and tested apart. Built to a stub with `make BPF=0`.
#ifndef PV_DATAPATH_SOCKMAP_H
#define PV_DATAPATH_SOCKMAP_H

#include <stddef.h>
#include <stdint.h>

// One loaded program with its maps; pairs of sockets are added to it.
// Not locked: one per thread, or the caller serializes the calls.
struct pvx_sockmap;

// Whether this build carries the kernel data path (0 after `make BPF=0`).
int pvx_sockmap_built(void);

// Checks that the kernel data path works here: loads the program, splices
// two Unix socketpairs and moves a few bytes through them (the Unix case
// needs the most of the kernel: BTF and Linux 5.16). Returns 1 when it works;
// 0 otherwise, with one line saying why in reason (len bytes).
int pvx_sockmap_probe(char *reason, size_t len);

// Loads and attaches the program with room for max_pairs sessions.
// Returns NULL with the reason in reason (len bytes) when it cannot.
struct pvx_sockmap *pvx_sockmap_open(unsigned max_pairs, char *reason,
				     size_t len);

// Detaches the program and frees everything; sockets still in the maps
// return to ordinary operation (what the kernel had not yet sent is lost).
// NULL-safe.
void pvx_sockmap_close(struct pvx_sockmap *sm);

// Splices two connected stream sockets (TCP or Unix, any mix): from now
// on what fd_a receives is sent on fd_b and back, counted under cookie.
// The caller keeps the sockets open and neither reads nor writes them
// while they are spliced. Bytes a TCP socket holds when it enters are
// moved by the kernel, in order. A Unix socket must be empty (the kernel
// would let queued bytes lag): the caller drains it first. Returns 0, or
// -1 with errno: EEXIST cookie in use; ENOSPC maps full; EOPNOTSUPP not a
// stream socket of TCP or Unix; EAGAIN a Unix socket holds bytes, nothing
// was spliced (drain and retry, or stay in user space); EBUSY bytes
// reached a Unix socket as it entered and the kernel had begun to move
// others: the pair is registered but stopped (pvx_sockmap_stop), the
// caller moves the rest in user space and removes the pair at the end.
int pvx_sockmap_add_pair(struct pvx_sockmap *sm, int fd_a, int fd_b,
			 uint64_t cookie);

// Returns the pair's sockets to ordinary user-space operation and forgets
// its counters. Bytes the kernel took but had not yet sent on the peer are
// lost: wait for pvx_sockmap_flushed() both ways first when that matters.
// Returns 0, or -1 with errno ENOENT for an unknown cookie.
int pvx_sockmap_remove_pair(struct pvx_sockmap *sm, uint64_t cookie);

// A limit for pvx_sockmap_set_limit() that bounds a stalled reader.
#define PVX_SOCKMAP_LIMIT (4u << 20)

// Bytes the kernel may hold on the way toward a TCP socket, per pair and
// way, for pairs added from now on (0, the default: no limit). Those bytes
// are charged to no socket: past the limit the program leaves that way to
// user space for good (bytes then wait in the receiving socket, which
// wakes the caller as readable; its TCP window closes as for any socket),
// see pvx_sockmap_overflowed(). A fast bulk transfer can go past 4 MiB as
// well, not only a stalled reader (docs/datapath.md).
void pvx_sockmap_set_limit(struct pvx_sockmap *sm, uint32_t bytes);

// Whether the way from side a (from_a 1) or b (0) went past the limit:
// the socket is readable, and the caller, once pvx_sockmap_flushed() says
// so for that way, relays it in user space with its usual backpressure.
// Returns 1, 0, or -1 with errno.
int pvx_sockmap_overflowed(struct pvx_sockmap *sm, uint64_t cookie, int from_a);

// Stops the kernel from moving more of the pair's bytes: from now on what
// either socket receives waits in it for user space, while what the
// kernel already took is still sent (pvx_sockmap_flushed() tells when).
// The counters stay. For a Unix socket, which leaves the maps when it is
// shut down (the kernel unhashes it), the way to half-close: stop, wait
// for both flushed, remove the pair, shutdown(), then move the rest in
// user space. Returns 0, or -1 with errno ENOENT.
int pvx_sockmap_stop(struct pvx_sockmap *sm, uint64_t cookie);

// The bytes the kernel moved from a to b and from b to a, and the
// CLOCK_MONOTONIC time (ns) of the last move (0: none yet). Any pointer
// may be NULL. Returns 0, or -1 with errno ENOENT.
int pvx_sockmap_counters(struct pvx_sockmap *sm, uint64_t cookie,
			 uint64_t *a_to_b, uint64_t *b_to_a,
			 uint64_t *last_active_ns);

// Whether every byte the kernel took from side a (from_a 1) or b (0) has
// reached the other socket's send queue: after EOF on that side, the
// moment to shut down the other's write side. Exact when the receiving
// socket is TCP, or the sending one while the pair is not stopped; for
// Unix to Unix, a best guess: nothing left to take, the receiver
// writable, no new byte over a millisecond (docs/datapath.md). Returns 1,
// 0 (not yet), or -1 with errno.
int pvx_sockmap_flushed(struct pvx_sockmap *sm, uint64_t cookie, int from_a);

// The bytes the kernel took from side a (from_a 1) or b (0) and holds on
// the way, not yet in the other socket's send queue. This memory is not
// charged to any socket: with a TCP destination whose reader stalls it
// grows without bound (docs/datapath.md), so the caller watches it and
// stops the pair past a high watermark. TCP destinations only (else -1,
// EOPNOTSUPP). Returns 0 with *bytes, or -1 with errno.
int pvx_sockmap_inflight(struct pvx_sockmap *sm, uint64_t cookie, int from_a,
			 uint64_t *bytes);

#endif
