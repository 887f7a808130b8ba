// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// pv-xconnect's kernel data path: an sk_skb verdict program attached to a
// SOCKHASH holding both sockets of each spliced session. What one socket
// receives is redirected to the other's send path, so the bytes never
// cross user space. Built with clang -target bpf from uapi headers only
// (no vmlinux.h, no CO-RE relocation): the object is the same for every
// architecture and loads on kernels without BTF. docs/datapath.md.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sockmap_maps.h"

// Two SOCKHASHes of the same sockets, keyed by socket cookie (SO_COOKIE),
// sized by the loader (bpf_map__set_max_entries) before load.
// pvx_targets has no program: a socket in it only can be redirected to.
// pvx_socks runs pvx_verdict on what its sockets receive. A pair enters
// pvx_targets first, so when either socket starts to redirect the other
// is already a target: no byte meets a missing peer.
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u32);
} pvx_targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u32);
} pvx_socks SEC(".maps");

// Per socket: its peer and its session (socket cookie -> link).
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct pvx_sm_link);
} pvx_links SEC(".maps");

// Per session: byte counters and last activity (session cookie -> counters).
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u64);
	__type(value, struct pvx_sm_session);
} pvx_sessions SEC(".maps");

// The two kernel fields the Unix case reads, relocated by libbpf against
// the running kernel's BTF (CO-RE), so no vmlinux.h is needed.
typedef struct {
	__s64 counter;
} pvx_atomic64_t;

struct sock_common {
	pvx_atomic64_t skc_cookie;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

struct unix_sock {
	struct sock *peer;
} __attribute__((preserve_access_index));

struct tcp_sock {
	__u32 write_seq;
} __attribute__((preserve_access_index));

// Whether redirecting len more bytes to the peer would put more than the
// link's limit on the way: redirected bytes wait for a TCP peer charged
// to no socket, so nothing else bounds them. The way is measured against
// the peer's write sequence (bytes it has been given to send).
static __always_inline int over_limit(struct pvx_sm_link *l, __u64 peer,
				      __u32 len)
{
	struct bpf_sock *psk;
	struct tcp_sock *tp;
	int over = 0;
	__u32 seq;

	if (!l->limit)
		return 0;
	psk = bpf_map_lookup_elem(&pvx_targets, &peer);
	if (!psk)
		return 0;
	tp = bpf_skc_to_tcp_sock(psk);
	if (tp) {
		seq = tp->write_seq;
		if (!(l->flags & PVX_SM_SEQ_SET)) {
			l->seq_base = seq;
			l->since = 0;
			l->flags |= PVX_SM_SEQ_SET;
		}
		if (l->since - (seq - l->seq_base) + len > l->limit)
			over = 1;
	}
	bpf_sk_release(psk);
	return over;
}

// The cookie of the socket whose receive path runs this verdict. A TCP
// skb belongs to the receiving socket; a Unix one is charged to its
// sender, whose peer is the receiver (SO_COOKIE set its sk_cookie).
static __always_inline __u64 receiver_cookie(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct unix_sock *u;
	struct sock *peer;

	if (!sk)
		return 0;
	if (sk->family != 1) // AF_UNIX
		return bpf_get_socket_cookie(skb);
	u = bpf_skc_to_unix_sock(sk);
	if (!u)
		return 0;
	peer = u->peer;
	if (!peer)
		return 0;
	return (__u64)peer->__sk_common.skc_cookie.counter;
}

// Redirects what a mapped socket received to its peer's send path and
// counts it. A socket without a link, or whose peer has left the map,
// keeps its bytes (SK_PASS: they wait in its own receive path for user
// space), so nothing is dropped here.
SEC("sk_skb")
int pvx_verdict(struct __sk_buff *skb)
{
	struct pvx_sm_session *s;
	struct pvx_sm_link *l;
	__u64 me, peer, session;
	__u32 dir, len = skb->len;

	me = receiver_cookie(skb);
	l = bpf_map_lookup_elem(&pvx_links, &me);
	if (!l)
		return SK_PASS;
	peer = l->peer;
	session = l->session;
	dir = l->dir & 1;
	s = bpf_map_lookup_elem(&pvx_sessions, &session);
	// Past the limit this way passes to user space for good: the bytes
	// wait in this socket, charged to it (its TCP window closes), in
	// order, and wake the proxy, which relays them.
	if ((l->flags & PVX_SM_OVERFLOW) || over_limit(l, peer, len)) {
		l->flags |= PVX_SM_OVERFLOW;
		if (s)
			__sync_fetch_and_add(&s->passed[dir], len);
		return SK_PASS;
	}
	if (bpf_sk_redirect_hash(skb, &pvx_targets, &peer, 0) != SK_PASS) {
		if (s)
			__sync_fetch_and_add(&s->redirect_failed, 1);
		return SK_PASS;
	}
	l->since += len;
	if (s) {
		__sync_fetch_and_add(&s->bytes[dir], len);
		s->last_active_ns = bpf_ktime_get_ns();
	}
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
