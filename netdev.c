// Bridges and host address checks over rtnetlink. One short-lived
// NETLINK_ROUTE socket per operation: these run a handful of times at
// start and exit, so simplicity wins over keeping a socket around.
#define MODULE_NAME "netdev"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "utils/addr.h"
#include "netdev.h"

#define NL_BUFSIZE 32768
// Dumps of a host's addresses and routes are bounded: a host with more
// than this many messages is not one we manage.
#define NL_MAX_DUMP_MSGS 100000

// A request under construction: header, family header, attributes.
struct nl_req {
	union {
		struct nlmsghdr h;
		char buf[1024];
	};
};

static unsigned int nl_seq;

// Opens a NETLINK_ROUTE socket with a receive timeout so a kernel that
// never answers cannot hang pvd. Returns the fd or -1.
static int nl_open(void)
{
	struct timeval tv = { .tv_sec = 5 };
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd == -1) {
		pv_log(ERROR, "netlink socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		pv_log(WARN, "netlink SO_RCVTIMEO: %s", strerror(errno));
	return fd;
}

// Starts a message of type with flags and a zeroed family header of
// hdrlen bytes; returns a pointer to that family header.
static void *nl_init(struct nl_req *r, int type, int flags, size_t hdrlen)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(hdrlen);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | flags;
	r->h.nlmsg_seq = ++nl_seq;
	return NLMSG_DATA(&r->h);
}

// Appends attribute type with len bytes of data. Returns the attribute,
// or NULL when the request buffer is full (a programming error: our
// requests are small and fixed).
static struct rtattr *nl_attr(struct nl_req *r, int type, const void *data,
			      size_t len)
{
	size_t off = NLMSG_ALIGN(r->h.nlmsg_len);
	struct rtattr *a;

	if (off + RTA_SPACE(len) > sizeof(r->buf)) {
		pv_log(ERROR, "netlink request too large");
		return NULL;
	}
	a = (struct rtattr *)(r->buf + off);
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = off + RTA_SPACE(len);
	return a;
}

// Closes a nested attribute opened with nl_attr(r, type, NULL, 0).
static void nl_nest_end(struct nl_req *r, struct rtattr *nest)
{
	nest->rta_len = (char *)&r->buf[r->h.nlmsg_len] - (char *)nest;
}

// Sends r with NLM_F_ACK and waits for the kernel's answer. Returns 0, or
// the negative errno the kernel (or the socket) reported: -ENODATA when
// the socket ended without an answer.
static int nl_transact(int fd, struct nl_req *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h;
	ssize_t n;

	r->h.nlmsg_flags |= NLM_F_ACK;
	if (sendto(fd, r->buf, r->h.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) == -1)
		return -errno;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		// No answer will follow: reading again would answer 0 again,
		// at once, for ever.
		if (n == 0)
			return -ENODATA;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error;
			}
		}
	}
}

// Dumps with request r and calls cb on every message. Returns 0 or -1.
static int nl_dump(int fd, struct nl_req *r,
		   int (*cb)(struct nlmsghdr *h, void *arg), void *arg)
{
	static char buf[NL_BUFSIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nlmsghdr *h;
	int count = 0;
	ssize_t n;

	r->h.nlmsg_flags |= NLM_F_DUMP;
	if (sendto(fd, r->buf, r->h.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) == -1) {
		pv_log(ERROR, "netlink dump request: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			pv_log(ERROR, "netlink dump: %s", strerror(errno));
			return -1;
		}
		// The socket ended before NLMSG_DONE: the dump is cut short,
		// and what it would have said (a subnet in use) unknown.
		if (n == 0) {
			pv_log(ERROR, "netlink dump: the socket ended before "
				      "the dump did");
			return -1;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				pv_log(ERROR, "netlink dump: %s",
				       strerror(-e->error));
				return -1;
			}
			if (++count > NL_MAX_DUMP_MSGS) {
				pv_log(ERROR, "netlink dump: too many entries");
				return -1;
			}
			if (cb(h, arg) == -1)
				return -1;
		}
	}
}

int pv_netdev_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

// What the overlap search looks for and what it found.
struct overlap_ctx {
	int family;
	const unsigned char *net; // 4 or 16 bytes
	int prefix;
	char *desc;
	size_t n;
	int found;
};

// Two prefixes overlap when they agree on the shorter one's length.
static void check_overlap(struct overlap_ctx *c, const unsigned char *addr,
			  int plen, const char *what, int ifindex)
{
	char text[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE] = "?";
	int bits = plen < c->prefix ? plen : c->prefix;

	if (c->found || plen <= 0 || !pv_prefix_equal(addr, c->net, bits))
		return;
	c->found = 1;
	inet_ntop(c->family, addr, text, sizeof(text));
	if (ifindex > 0 && !if_indextoname(ifindex, ifname))
		strcpy(ifname, "?");
	snprintf(c->desc, c->n, "%s %s/%d on %s", what, text, plen, ifname);
}

// RTM_NEWADDR dump callback.
static int addr_cb(struct nlmsghdr *h, void *arg)
{
	struct overlap_ctx *c = arg;
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = IFA_PAYLOAD(h);
	unsigned char *addr = NULL;
	struct rtattr *a;

	if (h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != c->family)
		return 0;
	for (a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		// IFA_LOCAL is the interface's own address on
		// point-to-point links, IFA_ADDRESS the peer's.
		if (a->rta_type == IFA_LOCAL ||
		    (a->rta_type == IFA_ADDRESS && !addr))
			addr = RTA_DATA(a);
	}
	if (addr)
		check_overlap(c, addr, ifa->ifa_prefixlen, "address",
			      ifa->ifa_index);
	return 0;
}

// RTM_NEWROUTE dump callback: unicast routes of the main table.
static int route_cb(struct nlmsghdr *h, void *arg)
{
	struct overlap_ctx *c = arg;
	struct rtmsg *rt = NLMSG_DATA(h);
	int len = RTM_PAYLOAD(h), oif = 0;
	unsigned int table = rt->rtm_table;
	unsigned char *dst = NULL;
	struct rtattr *a;

	if (h->nlmsg_type != RTM_NEWROUTE || rt->rtm_family != c->family ||
	    rt->rtm_type != RTN_UNICAST || rt->rtm_dst_len == 0)
		return 0;
	for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_DST)
			dst = RTA_DATA(a);
		else if (a->rta_type == RTA_TABLE)
			table = *(uint32_t *)RTA_DATA(a);
		else if (a->rta_type == RTA_OIF)
			oif = *(int *)RTA_DATA(a);
	}
	if (dst && table == RT_TABLE_MAIN)
		check_overlap(c, dst, rt->rtm_dst_len, "route", oif);
	return 0;
}

// The raw address bytes of ss (IPv4 or IPv6), or NULL.
static const unsigned char *ss_bytes(const struct sockaddr_storage *ss,
				     size_t *len)
{
	if (ss->ss_family == AF_INET) {
		*len = 4;
		return (const unsigned char *)&((const struct sockaddr_in *)ss)
			->sin_addr;
	}
	if (ss->ss_family == AF_INET6) {
		*len = 16;
		return (const unsigned char *)&((const struct sockaddr_in6 *)ss)
			->sin6_addr;
	}
	return NULL;
}

int pv_netdev_subnet_in_use(const struct sockaddr_storage *net, int prefix,
			    char *desc, size_t n)
{
	struct overlap_ctx c = {
		.family = net->ss_family, .prefix = prefix, .desc = desc, .n = n
	};
	struct ifaddrmsg *ifa;
	struct rtmsg *rt;
	struct nl_req r;
	size_t len;
	int fd, ret = -1;

	c.net = ss_bytes(net, &len);
	if (!c.net) {
		pv_log(ERROR, "subnet check: unsupported address family");
		return -1;
	}
	fd = nl_open();
	if (fd == -1)
		return -1;
	ifa = nl_init(&r, RTM_GETADDR, 0, sizeof(*ifa));
	ifa->ifa_family = c.family;
	if (nl_dump(fd, &r, addr_cb, &c) == -1)
		goto out_close;
	if (!c.found) {
		rt = nl_init(&r, RTM_GETROUTE, 0, sizeof(*rt));
		rt->rtm_family = c.family;
		if (nl_dump(fd, &r, route_cb, &c) == -1)
			goto out_close;
	}
	ret = c.found;
out_close:
	close(fd);
	return ret;
}

// Sets the interface at ifindex up.
static int link_up(int fd, int ifindex)
{
	struct ifinfomsg *ifi;
	struct nl_req r;

	ifi = nl_init(&r, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return nl_transact(fd, &r);
}

// Adds gw/prefix to ifindex, with the broadcast address for IPv4.
static int addr_add(int fd, int ifindex, const struct sockaddr_storage *gw,
		    int prefix)
{
	const unsigned char *bytes;
	struct ifaddrmsg *ifa;
	struct nl_req r;
	size_t len;

	bytes = ss_bytes(gw, &len);
	if (!bytes)
		return -EAFNOSUPPORT;
	ifa = nl_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
	ifa->ifa_family = gw->ss_family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_index = ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	if (!nl_attr(&r, IFA_LOCAL, bytes, len) ||
	    !nl_attr(&r, IFA_ADDRESS, bytes, len))
		return -ENOBUFS;
	if (gw->ss_family == AF_INET && prefix < 31) {
		uint32_t a, mask = prefix ? htonl(~0u << (32 - prefix)) : 0;

		memcpy(&a, bytes, 4);
		a |= ~mask;
		if (!nl_attr(&r, IFA_BROADCAST, &a, 4))
			return -ENOBUFS;
	}
	return nl_transact(fd, &r);
}

int pv_netdev_bridge_create(const char *name, const struct sockaddr_storage *gw,
			    int prefix)
{
	struct rtattr *linkinfo;
	struct ifinfomsg *ifi;
	char alias[32];
	struct nl_req r;
	int fd, err, ifindex, ret = -1;

	if (strlen(name) >= IFNAMSIZ) {
		pv_log(ERROR, "bridge %s: name longer than %d characters", name,
		       IFNAMSIZ - 1);
		return -1;
	}
	fd = nl_open();
	if (fd == -1)
		return -1;
	ifi = nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (!nl_attr(&r, IFLA_IFNAME, name, strlen(name) + 1))
		goto out_close;
	linkinfo = nl_attr(&r, IFLA_LINKINFO, NULL, 0);
	if (!linkinfo || !nl_attr(&r, IFLA_INFO_KIND, "bridge", 7))
		goto out_close;
	nl_nest_end(&r, linkinfo);
	err = nl_transact(fd, &r);
	if (err) {
		pv_log(ERROR, "bridge %s: create: %s", name, strerror(-err));
		goto out_close;
	}
	ifindex = if_nametoindex(name);
	if (!ifindex) {
		pv_log(ERROR, "bridge %s: gone after creation: %s", name,
		       strerror(errno));
		goto out_close;
	}
	// The alias marks the bridge as ours, so a pvd that starts after
	// this one was killed can tell our leftover from a user's bridge.
	// The kernel ignores IFLA_IFALIAS on creation: set it afterwards.
	snprintf(alias, sizeof(alias), "%s%d", PV_NETDEV_ALIAS_PREFIX,
		 (int)getpid());
	ifi = nl_init(&r, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (!nl_attr(&r, IFLA_IFALIAS, alias, strlen(alias)))
		goto out_delete;
	err = nl_transact(fd, &r);
	if (err) {
		pv_log(ERROR, "bridge %s: set alias: %s", name, strerror(-err));
		goto out_delete;
	}
	err = addr_add(fd, ifindex, gw, prefix);
	if (err) {
		pv_log(ERROR, "bridge %s: add address: %s", name,
		       strerror(-err));
		goto out_delete;
	}
	err = link_up(fd, ifindex);
	if (err) {
		pv_log(ERROR, "bridge %s: set up: %s", name, strerror(-err));
		goto out_delete;
	}
	ret = 0;
	goto out_close;
out_delete:
	close(fd);
	pv_netdev_delete(name);
	return -1;
out_close:
	close(fd);
	return ret;
}

int pv_netdev_delete(const char *name)
{
	struct ifinfomsg *ifi;
	struct nl_req r;
	int fd, err;

	fd = nl_open();
	if (fd == -1)
		return -1;
	ifi = nl_init(&r, RTM_DELLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (!nl_attr(&r, IFLA_IFNAME, name, strlen(name) + 1)) {
		close(fd);
		return -1;
	}
	err = nl_transact(fd, &r);
	close(fd);
	if (err) {
		pv_log(ERROR, "%s: delete: %s", name, strerror(-err));
		return -1;
	}
	return 0;
}

pid_t pv_netdev_bridge_owner(const char *name, int *ports)
{
	char path[128], alias[64] = "";
	struct dirent *de;
	ssize_t n;
	DIR *dir;
	int fd;
	long pid;
	char *end;

	*ports = 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/brif", name);
	dir = opendir(path);
	if (!dir)
		return -1; // not a bridge
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			(*ports)++;
	closedir(dir);
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifalias", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	n = read(fd, alias, sizeof(alias) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	alias[n] = '\0';
	alias[strcspn(alias, "\n")] = '\0';
	if (strncmp(alias, PV_NETDEV_ALIAS_PREFIX,
		    strlen(PV_NETDEV_ALIAS_PREFIX)))
		return 0;
	errno = 0;
	pid = strtol(alias + strlen(PV_NETDEV_ALIAS_PREFIX), &end, 10);
	if (errno || *end || pid <= 0)
		return 0;
	return pid;
}
