// The kernel data path (docs/datapath.md): loader and bookkeeping for the
// sk_skb program of xconnect/bpf/sockmap.bpf.c. Without BPF support in the
// build (`make BPF=0`) every entry point reports that.

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath_sockmap.h"
#include "log.h"

#define MODULE_NAME "sockmap"

#ifndef PVX_BPF

// Reports that this build has no kernel data path.
int pvx_sockmap_built(void)
{
	return 0;
}

// Reports that this build has no kernel data path.
int pvx_sockmap_probe(char *reason, size_t len)
{
	snprintf(reason, len, "built without BPF");
	return 0;
}

// Reports that this build has no kernel data path.
struct pvx_sockmap *pvx_sockmap_open(unsigned max_pairs, char *reason,
				     size_t len)
{
	(void)max_pairs;
	snprintf(reason, len, "built without BPF");
	errno = ENOSYS;
	return NULL;
}

// Nothing to free without BPF.
void pvx_sockmap_close(struct pvx_sockmap *sm)
{
	(void)sm;
}

// Fails: no kernel data path in this build.
int pvx_sockmap_add_pair(struct pvx_sockmap *sm, int fd_a, int fd_b,
			 uint64_t cookie)
{
	(void)sm, (void)fd_a, (void)fd_b, (void)cookie;
	errno = ENOSYS;
	return -1;
}

// Fails: no kernel data path in this build.
int pvx_sockmap_remove_pair(struct pvx_sockmap *sm, uint64_t cookie)
{
	(void)sm, (void)cookie;
	errno = ENOSYS;
	return -1;
}

// Nothing to set without BPF.
void pvx_sockmap_set_limit(struct pvx_sockmap *sm, uint32_t bytes)
{
	(void)sm, (void)bytes;
}

// Fails: no kernel data path in this build.
int pvx_sockmap_overflowed(struct pvx_sockmap *sm, uint64_t cookie, int from_a)
{
	(void)sm, (void)cookie, (void)from_a;
	errno = ENOSYS;
	return -1;
}

// Fails: no kernel data path in this build.
int pvx_sockmap_stop(struct pvx_sockmap *sm, uint64_t cookie)
{
	(void)sm, (void)cookie;
	errno = ENOSYS;
	return -1;
}

// Fails: no kernel data path in this build.
int pvx_sockmap_counters(struct pvx_sockmap *sm, uint64_t cookie,
			 uint64_t *a_to_b, uint64_t *b_to_a,
			 uint64_t *last_active_ns)
{
	(void)sm, (void)cookie, (void)a_to_b, (void)b_to_a;
	(void)last_active_ns;
	errno = ENOSYS;
	return -1;
}

// Fails: no kernel data path in this build.
int pvx_sockmap_inflight(struct pvx_sockmap *sm, uint64_t cookie, int from_a,
			 uint64_t *bytes)
{
	(void)sm, (void)cookie, (void)from_a, (void)bytes;
	errno = ENOSYS;
	return -1;
}

// Fails: no kernel data path in this build.
int pvx_sockmap_flushed(struct pvx_sockmap *sm, uint64_t cookie, int from_a)
{
	(void)sm, (void)cookie, (void)from_a;
	errno = ENOSYS;
	return -1;
}

#else

#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xconnect/bpf/sockmap_maps.h"
#include "sockmap.skel.h"

#define PAIR_BUCKETS 256

// A spliced session as user space knows it.
struct pair {
	uint64_t cookie;
	int fd[2];	   // a, b (not owned)
	uint64_t sock[2];  // their socket cookies
	int tcp[2];	   // 1: a TCP socket
	uint64_t base[2];  // TCP: bytes queued for sending before the splice
	int stopped;	   // 1: out of the verdict map (pvx_sockmap_stop)
	struct pair *next; // same bucket
};

struct pvx_sockmap {
	struct bpf_object *obj;
	struct bpf_program *prog; // pvx_verdict
	int socks_fd, targets_fd, links_fd, sessions_fd;
	int attached;
	uint32_t limit; // most bytes on the way to a TCP peer, per way
	struct pair *buckets[PAIR_BUCKETS]; // pair
};

// Reports that the BPF data path is built in.
int pvx_sockmap_built(void)
{
	return 1;
}

// libbpf's messages, at DEBUG: a failed probe is not an error.
static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	char line[512];
	size_t n;

	if (level == LIBBPF_DEBUG || !pv_log_enabled(DEBUG))
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	pv_log(DEBUG, "%s", line);
	return 0;
}

// The bucket of a session cookie.
static struct pair **bucket(struct pvx_sockmap *sm, uint64_t cookie)
{
	return &sm->buckets[(cookie ^ (cookie >> 17)) % PAIR_BUCKETS];
}

// The pair of cookie, NULL (errno ENOENT) when unknown.
static struct pair *pair_find(struct pvx_sockmap *sm, uint64_t cookie)
{
	struct pair *p;

	for (p = *bucket(sm, cookie); p; p = p->next)
		if (p->cookie == cookie)
			return p;
	errno = ENOENT;
	return NULL;
}

// Sets the size of the object's map name before load; 0 or -1.
static int size_map(struct bpf_object *obj, const char *name, unsigned n)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__set_max_entries(m, n) : -1;
}

// Loads the program and its maps sized for max_pairs, and attaches the
// verdict program to pvx_socks.
struct pvx_sockmap *pvx_sockmap_open(unsigned max_pairs, char *reason,
				     size_t len)
{
	struct pvx_sockmap *sm;
	const void *bytes;
	size_t size;
	int err;

	if (!max_pairs || max_pairs > (1u << 20)) {
		snprintf(reason, len, "max_pairs %u out of range", max_pairs);
		errno = EINVAL;
		return NULL;
	}
	libbpf_set_print(libbpf_log);
	sm = calloc(1, sizeof(*sm));
	if (!sm) {
		snprintf(reason, len, "out of memory");
		return NULL;
	}
	// The skeleton only for the object's bytes: opened through libbpf,
	// so the maps and the program are found by name.
	bytes = pvx_sockmap_bpf__elf_bytes(&size);
	sm->obj = bpf_object__open_mem(bytes, size, NULL);
	if (!sm->obj) {
		snprintf(reason, len, "cannot open the BPF object: %s",
			 strerror(errno));
		goto out_free;
	}
	if (size_map(sm->obj, "pvx_socks", 2 * max_pairs) ||
	    size_map(sm->obj, "pvx_targets", 2 * max_pairs) ||
	    size_map(sm->obj, "pvx_links", 2 * max_pairs) ||
	    size_map(sm->obj, "pvx_sessions", max_pairs)) {
		snprintf(reason, len, "cannot size the maps");
		goto out_close;
	}
	err = bpf_object__load(sm->obj);
	if (err) {
		errno = -err;
		snprintf(reason, len, "cannot load the BPF program: %s",
			 strerror(errno));
		goto out_close;
	}
	sm->prog = bpf_object__find_program_by_name(sm->obj, "pvx_verdict");
	sm->socks_fd = bpf_object__find_map_fd_by_name(sm->obj, "pvx_socks");
	sm->targets_fd =
		bpf_object__find_map_fd_by_name(sm->obj, "pvx_targets");
	sm->links_fd = bpf_object__find_map_fd_by_name(sm->obj, "pvx_links");
	sm->sessions_fd =
		bpf_object__find_map_fd_by_name(sm->obj, "pvx_sessions");
	if (!sm->prog || sm->socks_fd < 0 || sm->targets_fd < 0 ||
	    sm->links_fd < 0 || sm->sessions_fd < 0) {
		snprintf(reason, len, "the BPF object lacks a map or program");
		errno = ENOENT;
		goto out_close;
	}
	if (bpf_prog_attach(bpf_program__fd(sm->prog), sm->socks_fd,
			    BPF_SK_SKB_VERDICT, 0)) {
		snprintf(reason, len, "cannot attach the verdict program: %s",
			 strerror(errno));
		goto out_close;
	}
	sm->attached = 1;
	sm->limit = 0;
	return sm;

out_close:
	bpf_object__close(sm->obj);
out_free:
	free(sm);
	if (!errno)
		errno = EINVAL;
	return NULL;
}

// Forgets every pair, detaches and unloads. The maps go with their last
// reference; sockets still in them return to ordinary operation.
void pvx_sockmap_close(struct pvx_sockmap *sm)
{
	struct pair *p, *next;
	unsigned i;

	if (!sm)
		return;
	for (i = 0; i < PAIR_BUCKETS; i++) {
		for (p = sm->buckets[i]; p; p = next) {
			next = p->next;
			free(p);
		}
	}
	if (sm->attached)
		bpf_prog_detach2(bpf_program__fd(sm->prog), sm->socks_fd,
				 BPF_SK_SKB_VERDICT);
	bpf_object__close(sm->obj);
	free(sm);
}

// Integer socket option, -1 on failure.
static int sockopt_int(int fd, int level, int name)
{
	socklen_t n = sizeof(int);
	int v;

	if (getsockopt(fd, level, name, &v, &n) == -1)
		return -1;
	return v;
}

// The bytes a TCP socket has queued for sending since it was made (its
// write sequence relative to a constant): acknowledged plus still in the
// send queue, read until no ACK came in between. 0 and errno on failure.
static int tcp_written(int fd, uint64_t *out)
{
	struct tcp_info t1, t2;
	socklen_t n1, n2;
	int outq, i;

	for (i = 0; i < 16; i++) {
		n1 = sizeof(t1);
		n2 = sizeof(t2);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &t1, &n1) == -1 ||
		    ioctl(fd, SIOCOUTQ, &outq) == -1 ||
		    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &t2, &n2) == -1)
			return -1;
		if (n1 < offsetof(struct tcp_info, tcpi_bytes_acked) +
				 sizeof(t1.tcpi_bytes_acked)) {
			errno = EOPNOTSUPP;
			return -1;
		}
		if (t1.tcpi_bytes_acked == t2.tcpi_bytes_acked) {
			*out = t1.tcpi_bytes_acked + (uint64_t)outq;
			return 0;
		}
	}
	errno = EAGAIN;
	return -1;
}

// Reads fd's socket cookie and whether it is TCP; fails (EOPNOTSUPP) for
// anything but a stream socket of AF_INET, AF_INET6 or AF_UNIX.
static int sock_info(int fd, uint64_t *cookie, int *tcp)
{
	socklen_t n = sizeof(*cookie);
	int domain = sockopt_int(fd, SOL_SOCKET, SO_DOMAIN);

	if (sockopt_int(fd, SOL_SOCKET, SO_TYPE) != SOCK_STREAM ||
	    (domain != AF_INET && domain != AF_INET6 && domain != AF_UNIX)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	*tcp = domain != AF_UNIX;
	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &n);
}

// Makes the kernel look at what a TCP socket received before its verdict
// program was attached: setting SO_RCVLOWAT (to its own value) runs the
// socket's data-ready callback, which is now the verdict.
static void kick(int fd)
{
	int lowat = sockopt_int(fd, SOL_SOCKET, SO_RCVLOWAT);

	if (lowat > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
}

// Removes what add_pair inserted for p, in the reverse order; steps not
// reached fail with ENOENT, which is fine.
static void unsplice(struct pvx_sockmap *sm, const struct pair *p)
{
	int i;

	for (i = 0; i < 2; i++)
		bpf_map_delete_elem(sm->socks_fd, &p->sock[i]);
	for (i = 0; i < 2; i++)
		bpf_map_delete_elem(sm->links_fd, &p->sock[i]);
	for (i = 0; i < 2; i++)
		bpf_map_delete_elem(sm->targets_fd, &p->sock[i]);
	bpf_map_delete_elem(sm->sessions_fd, &p->cookie);
}

// Bytes waiting in fd's receive path, 0 when unknown.
static int inq(int fd)
{
	int n = 0;

	return ioctl(fd, SIOCINQ, &n) == -1 ? 0 : n;
}

// Inserts both sockets: as targets, then their links, then into the
// verdict map, so neither redirects before the other can be sent to.
int pvx_sockmap_add_pair(struct pvx_sockmap *sm, int fd_a, int fd_b,
			 uint64_t cookie)
{
	struct pvx_sm_session s = { 0 };
	struct pvx_sm_link l = { 0 };
	uint64_t moved[2];
	struct pair *p;
	int i, fd;

	if (pair_find(sm, cookie)) {
		errno = EEXIST;
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->cookie = cookie;
	p->fd[0] = fd_a;
	p->fd[1] = fd_b;
	for (i = 0; i < 2; i++) {
		if (sock_info(p->fd[i], &p->sock[i], &p->tcp[i]) == -1)
			goto out_free;
		if (p->tcp[i] && tcp_written(p->fd[i], &p->base[i]) == -1)
			goto out_free;
		s.sock[i] = p->sock[i];
	}
	if (bpf_map_update_elem(sm->sessions_fd, &cookie, &s, BPF_NOEXIST))
		goto out_unsplice;
	for (i = 0; i < 2; i++) {
		fd = p->fd[i];
		if (bpf_map_update_elem(sm->targets_fd, &p->sock[i], &fd,
					BPF_NOEXIST))
			goto out_unsplice;
	}
	for (i = 0; i < 2; i++) {
		l.peer = p->sock[!i];
		l.session = cookie;
		l.dir = (uint32_t)i;
		l.limit = sm->limit;
		if (bpf_map_update_elem(sm->links_fd, &p->sock[i], &l,
					BPF_NOEXIST))
			goto out_unsplice;
	}
	// A Unix socket's verdict takes one skb per arrival, the oldest:
	// bytes queued before it would lag behind forever. So a Unix
	// socket must be empty when it enters (see pvx_sockmap_add_pair).
	for (i = 0; i < 2; i++) {
		if (!p->tcp[i] && inq(p->fd[i]) > 0) {
			errno = EAGAIN;
			goto out_unsplice;
		}
	}
	for (i = 0; i < 2; i++) {
		fd = p->fd[i];
		if (bpf_map_update_elem(sm->socks_fd, &p->sock[i], &fd,
					BPF_NOEXIST))
			goto out_unsplice;
	}
	for (i = 0; i < 2; i++)
		if (p->tcp[i])
			kick(p->fd[i]);
	p->next = *bucket(sm, cookie);
	*bucket(sm, cookie) = p;
	for (i = 0; i < 2; i++) {
		if (p->tcp[i] || inq(p->fd[i]) == 0)
			continue;
		// Bytes came in while the socket entered: stop. If the
		// kernel moved nothing yet, the pair is undone (EAGAIN);
		// else it stays, stopped, for the caller to finish in user
		// space (EBUSY).
		pvx_sockmap_stop(sm, p->cookie);
		if (pvx_sockmap_counters(sm, cookie, &moved[0], &moved[1],
					 NULL) == 0 &&
		    !moved[0] && !moved[1]) {
			pvx_sockmap_remove_pair(sm, cookie);
			errno = EAGAIN;
		} else {
			errno = EBUSY;
		}
		return -1;
	}
	return 0;

out_unsplice:
	if (errno == E2BIG)
		errno = ENOSPC;
	i = errno;
	unsplice(sm, p);
	errno = i;
out_free:
	free(p);
	return -1;
}

// Takes the pair out of the maps: the verdict map first, so nothing more
// is redirected, then the rest.
int pvx_sockmap_remove_pair(struct pvx_sockmap *sm, uint64_t cookie)
{
	struct pair **pp, *p;

	for (pp = bucket(sm, cookie); *pp; pp = &(*pp)->next)
		if ((*pp)->cookie == cookie)
			break;
	p = *pp;
	if (!p) {
		errno = ENOENT;
		return -1;
	}
	*pp = p->next;
	unsplice(sm, p);
	free(p);
	return 0;
}

// Sets the limit for pairs added from now on.
void pvx_sockmap_set_limit(struct pvx_sockmap *sm, uint32_t bytes)
{
	sm->limit = bytes;
}

// Reads the overflow flag of the link of side from_a's socket.
int pvx_sockmap_overflowed(struct pvx_sockmap *sm, uint64_t cookie, int from_a)
{
	struct pair *p = pair_find(sm, cookie);
	struct pvx_sm_link l;

	if (!p ||
	    bpf_map_lookup_elem(sm->links_fd, &p->sock[from_a ? 0 : 1], &l))
		return -1;
	return (l.flags & PVX_SM_OVERFLOW) ? 1 : 0;
}

// Takes both sockets out of the verdict map only: nothing more is
// redirected, what the kernel took is still sent.
int pvx_sockmap_stop(struct pvx_sockmap *sm, uint64_t cookie)
{
	struct pair *p = pair_find(sm, cookie);
	int i;

	if (!p)
		return -1;
	for (i = 0; i < 2; i++)
		bpf_map_delete_elem(sm->socks_fd, &p->sock[i]);
	p->stopped = 1;
	return 0;
}

// Reads the session's counters from the program's map.
int pvx_sockmap_counters(struct pvx_sockmap *sm, uint64_t cookie,
			 uint64_t *a_to_b, uint64_t *b_to_a,
			 uint64_t *last_active_ns)
{
	struct pvx_sm_session s;

	if (bpf_map_lookup_elem(sm->sessions_fd, &cookie, &s))
		return -1;
	if (a_to_b)
		*a_to_b = s.bytes[0];
	if (b_to_a)
		*b_to_a = s.bytes[1];
	if (last_active_ns)
		*last_active_ns = s.last_active_ns;
	return 0;
}

// Bytes allocated to fd's receive side (SO_MEMINFO), -1 when unknown.
static long rmem(int fd)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t n = sizeof(mi);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &n) == -1)
		return -1;
	return mi[SK_MEMINFO_RMEM_ALLOC];
}

// See the header. A TCP source keeps each skb charged to its receive
// memory until the kernel has sent it on the peer, so an empty receive
// memory means all is through; a TCP destination tells how much it was
// given (tcp_written), which must match the program's count. Unix to
// Unix has neither: nothing left to read on the source, the peer
// writable and the count unchanged across a yield.
int pvx_sockmap_flushed(struct pvx_sockmap *sm, uint64_t cookie, int from_a)
{
	uint64_t moved[2], again[2], w;
	struct pollfd pfd;
	struct pair *p = pair_find(sm, cookie);
	int src = from_a ? 0 : 1, dst = !src, kept;

	if (!p ||
	    pvx_sockmap_counters(sm, cookie, &moved[0], &moved[1], NULL) == -1)
		return -1;
	// Once stopped or past the limit, what the source receives stays
	// there for user space: only the destination can tell.
	kept = p->stopped || pvx_sockmap_overflowed(sm, cookie, from_a) == 1;
	if (!kept && p->tcp[src] && rmem(p->fd[src]) != 0)
		return 0;
	if (!kept && !p->tcp[src] && inq(p->fd[src]) > 0)
		return 0;
	if (p->tcp[dst]) {
		if (tcp_written(p->fd[dst], &w) == -1)
			return -1;
		return w - p->base[dst] == moved[src];
	}
	if (p->tcp[src] && !kept)
		return 1;
	pfd.fd = p->fd[dst];
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT))
		return 0;
	usleep(1000);
	if (pvx_sockmap_counters(sm, cookie, &again[0], &again[1], NULL) == -1)
		return -1;
	return again[src] == moved[src] && (p->stopped || inq(p->fd[src]) == 0);
}

// The program's count less what the TCP destination was given.
int pvx_sockmap_inflight(struct pvx_sockmap *sm, uint64_t cookie, int from_a,
			 uint64_t *bytes)
{
	struct pair *p = pair_find(sm, cookie);
	int src = from_a ? 0 : 1, dst = !src;
	uint64_t moved[2], w;

	if (!p ||
	    pvx_sockmap_counters(sm, cookie, &moved[0], &moved[1], NULL) == -1)
		return -1;
	if (!p->tcp[dst]) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (tcp_written(p->fd[dst], &w) == -1)
		return -1;
	w -= p->base[dst];
	*bytes = moved[src] > w ? moved[src] - w : 0;
	return 0;
}

// A connected Unix stream pair, CLOEXEC, into sv; -1 on failure.
static int unix_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

// Loads the program, splices two socketpairs (client c0 <-> proxy p0,
// proxy p1 <-> server s1) and sends a few bytes from c0 to s1.
int pvx_sockmap_probe(char *reason, size_t len)
{
	static const char msg[] = "pv-xconnect sockmap probe";
	char buf[sizeof(msg)];
	int c[2] = { -1, -1 }, s[2] = { -1, -1 }, ok = 0;
	struct pvx_sockmap *sm;
	struct pollfd pfd;
	ssize_t n;

	sm = pvx_sockmap_open(4, reason, len);
	if (!sm)
		return 0;
	if (unix_pair(c) == -1 || unix_pair(s) == -1) {
		snprintf(reason, len, "socketpair: %s", strerror(errno));
		goto out;
	}
	if (pvx_sockmap_add_pair(sm, c[1], s[0], 1) == -1) {
		snprintf(reason, len, "cannot splice a socket pair: %s",
			 strerror(errno));
		goto out;
	}
	if (write(c[0], msg, sizeof(msg)) != (ssize_t)sizeof(msg)) {
		snprintf(reason, len, "probe write: %s", strerror(errno));
		goto out;
	}
	pfd.fd = s[1];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 1000) != 1) {
		snprintf(reason, len, "the kernel moved no byte in 1 s");
		goto out;
	}
	n = read(s[1], buf, sizeof(buf));
	if (n != (ssize_t)sizeof(msg) || memcmp(buf, msg, sizeof(msg))) {
		snprintf(reason, len, "the kernel moved the wrong bytes");
		goto out;
	}
	ok = 1;
	snprintf(reason, len, "works");
out:
	pvx_sockmap_close(sm);
	for (n = 0; n < 2; n++) {
		if (c[n] != -1)
			close(c[n]);
		if (s[n] != -1)
			close(s[n]);
	}
	return ok;
}

#endif
