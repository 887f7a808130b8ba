// IPAM: address pools of device.json and the leases containers hold in
// them. IPv4 and IPv6 alike: addresses are handled as big-endian byte
// strings (4 or 16 bytes) so one set of helpers serves both families.

#define MODULE_NAME "ipam"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "log.h"
#include "utils/addr.h"

// Pools smaller than this leave no address for a container once the
// network, gateway (and IPv4 broadcast) addresses are set aside; larger
// ones (a /7) are certainly a typo.
#define V4_MIN_PREFIX 8
#define V4_MAX_PREFIX 30
#define V6_MIN_PREFIX 16
#define V6_MAX_PREFIX 126

// An address of a pool's family as bytes; only the first len are used.
struct ip {
	uint8_t b[16];
	int len;
};

// Address length in bytes of a family.
static int ip_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

// Parses text of the pool's family; 0 or -1.
static int ip_from_text(int family, const char *s, struct ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->len = ip_len(family);
	return inet_pton(family, s, ip->b) == 1 ? 0 : -1;
}

// The address of a sockaddr_in or sockaddr_in6 as bytes.
static void ip_from_ss(const struct sockaddr_storage *ss, struct ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (ss->ss_family == AF_INET) {
		ip->len = 4;
		memcpy(ip->b, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else {
		ip->len = 16;
		memcpy(ip->b, &((const struct sockaddr_in6 *)ss)->sin6_addr,
		       16);
	}
}

// Canonical text (inet_ntop), so two spellings of one address compare
// equal as strings.
static void ip_to_text(int family, const struct ip *ip, char *buf, size_t n)
{
	if (!inet_ntop(family, ip->b, buf, n) && n)
		buf[0] = '\0';
}

// 1 if a and b are the same address.
static int ip_eq(const struct ip *a, const struct ip *b)
{
	return a->len == b->len && !memcmp(a->b, b->b, a->len);
}

// 1 if the first prefix bits of a and b agree.
static int same_prefix(const struct ip *a, const struct ip *b, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;
	uint8_t mask;

	if (memcmp(a->b, b->b, full))
		return 0;
	if (!rest)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a->b[full] & mask) == (b->b[full] & mask);
}

// 1 if every host bit (after prefix) equals bit (0 or 1).
static int host_bits_all(const struct ip *ip, int prefix, int bit)
{
	int i;

	for (i = prefix; i < ip->len * 8; i++) {
		int v = (ip->b[i / 8] >> (7 - i % 8)) & 1;
		if (v != bit)
			return 0;
	}
	return 1;
}

// Adds one, big-endian; wraps silently at the top (the caller's subnet
// check notices).
static void ip_inc(struct ip *ip)
{
	int i;

	for (i = ip->len - 1; i >= 0; i--)
		if (++ip->b[i] != 0)
			break;
}

struct pv_ipam_pool *pv_ipam_pool_new(const char *name, const char *bridge,
				      const char *subnet, const char *gateway,
				      int nat, const char **reason)
{
	struct pv_ipam_pool *pool;
	struct ip net, gw;
	char text[INET6_ADDRSTRLEN];

	pool = calloc(1, sizeof(*pool));
	if (!pool) {
		*reason = "out of memory";
		return NULL;
	}
	dl_list_init(&pool->leases);
	dl_list_init(&pool->list);
	pool->nat = nat;

	if (!subnet || pv_cidr_parse(subnet, &pool->net, &pool->prefix)) {
		*reason = "subnet: is not a subnet (IPv4 or IPv6 CIDR, "
			  "A.B.C.D/N)";
		goto out_free;
	}
	pool->family = pool->net.ss_family;
	ip_from_ss(&pool->net, &net);
	if (pool->family == AF_INET &&
	    (pool->prefix < V4_MIN_PREFIX || pool->prefix > V4_MAX_PREFIX)) {
		*reason = "subnet: prefix length out of range for a pool "
			  "(/8 to /30)";
		goto out_free;
	}
	if (pool->family == AF_INET6 &&
	    (pool->prefix < V6_MIN_PREFIX || pool->prefix > V6_MAX_PREFIX)) {
		*reason = "subnet: prefix length out of range for a pool "
			  "(/16 to /126)";
		goto out_free;
	}
	if (!host_bits_all(&net, pool->prefix, 0)) {
		*reason = "subnet: has host bits set (the network address "
			  "must end in zeros)";
		goto out_free;
	}

	if (gateway) {
		if (ip_from_text(pool->family, gateway, &gw)) {
			*reason = pool->family == AF_INET
					  ? "gateway: is not an IPv4 address "
					    "(the "
					    "subnet is IPv4)"
					  : "gateway: is not an IPv6 address "
					    "(the "
					    "subnet is IPv6)";
			goto out_free;
		}
	} else {
		// The customary choice: the first host address.
		gw = net;
		ip_inc(&gw);
	}
	if (!same_prefix(&gw, &net, pool->prefix)) {
		*reason = "gateway: is outside the subnet";
		goto out_free;
	}
	if (host_bits_all(&gw, pool->prefix, 0)) {
		*reason = "gateway: is the subnet's network address";
		goto out_free;
	}
	if (pool->family == AF_INET && host_bits_all(&gw, pool->prefix, 1)) {
		*reason = "gateway: is the subnet's broadcast address";
		goto out_free;
	}
	pool->gw.ss_family = pool->family;
	if (pool->family == AF_INET)
		memcpy(&((struct sockaddr_in *)&pool->gw)->sin_addr, gw.b, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&pool->gw)->sin6_addr, gw.b,
		       16);

	ip_to_text(pool->family, &gw, text, sizeof(text));
	pool->name = strdup(name);
	pool->type = strdup("bridge");
	pool->bridge = strdup(bridge ? bridge : "");
	pool->subnet = strdup(subnet);
	pool->gateway = strdup(text);
	if (!pool->name || !pool->type || !pool->bridge || !pool->subnet ||
	    !pool->gateway) {
		*reason = "out of memory";
		goto out_free;
	}
	*reason = NULL;
	return pool;

out_free:
	pv_ipam_pool_free(pool);
	return NULL;
}

// Frees one lease; the caller has unlinked it.
static void lease_free(struct pv_ipam_lease *l)
{
	free(l->owner);
	free(l->address);
	free(l);
}

void pv_ipam_pool_free(struct pv_ipam_pool *pool)
{
	struct pv_ipam_lease *l, *n;

	if (!pool)
		return;
	dl_list_for_each_safe (l, n, &pool->leases, struct pv_ipam_lease,
			       list) {
		dl_list_del(&l->list);
		lease_free(l);
	}
	free(pool->name);
	free(pool->type);
	free(pool->bridge);
	free(pool->subnet);
	free(pool->gateway);
	free(pool);
}

// Why ip cannot be a host of pool, or NULL when it can.
static const char *host_problem(struct pv_ipam_pool *pool, const struct ip *ip)
{
	struct ip net, gw;

	ip_from_ss(&pool->net, &net);
	ip_from_ss(&pool->gw, &gw);
	if (!same_prefix(ip, &net, pool->prefix))
		return "is outside the subnet";
	if (host_bits_all(ip, pool->prefix, 0))
		return "is the subnet's network address";
	if (pool->family == AF_INET && host_bits_all(ip, pool->prefix, 1))
		return "is the subnet's broadcast address";
	if (ip_eq(ip, &gw))
		return "is the pool's gateway";
	return NULL;
}

int pv_ipam_contains(struct pv_ipam_pool *pool, const char *address)
{
	struct ip ip;

	if (!pool || !address || ip_from_text(pool->family, address, &ip))
		return 0;
	return host_problem(pool, &ip) == NULL;
}

// The lease owner holds, or NULL.
static struct pv_ipam_lease *find_by_owner(struct pv_ipam_pool *pool,
					   const char *owner)
{
	struct pv_ipam_lease *l;

	dl_list_for_each (l, &pool->leases, struct pv_ipam_lease, list) {
		if (!strcmp(l->owner, owner))
			return l;
	}
	return NULL;
}

// The lease on text (canonical form), or NULL.
static struct pv_ipam_lease *find_by_address(struct pv_ipam_pool *pool,
					     const char *text)
{
	struct pv_ipam_lease *l;

	dl_list_for_each (l, &pool->leases, struct pv_ipam_lease, list) {
		if (!strcmp(l->address, text))
			return l;
	}
	return NULL;
}

const char *pv_ipam_owner(struct pv_ipam_pool *pool, const char *address)
{
	struct pv_ipam_lease *l;
	char text[INET6_ADDRSTRLEN];
	struct ip ip;

	if (!pool || !address || ip_from_text(pool->family, address, &ip))
		return NULL;
	ip_to_text(pool->family, &ip, text, sizeof(text));
	l = find_by_address(pool, text);
	return l ? l->owner : NULL;
}

// Adds a lease of text (canonical) for owner; the address text or NULL.
static const char *add_lease(struct pv_ipam_pool *pool, const char *owner,
			     const char *text, const char **reason)
{
	struct pv_ipam_lease *l = calloc(1, sizeof(*l));

	if (!l)
		goto out_oom;
	l->owner = strdup(owner);
	l->address = strdup(text);
	if (!l->owner || !l->address) {
		lease_free(l);
		goto out_oom;
	}
	dl_list_add_tail(&pool->leases, &l->list);
	pv_log(DEBUG, "pool %s: leased %s to %s", pool->name, l->address,
	       owner);
	return l->address;

out_oom:
	pv_log(ERROR, "pool %s: lease for %s: out of memory", pool->name,
	       owner);
	*reason = "out of memory";
	return NULL;
}

// The first free host address after the gateway, wrapping to the start of
// the subnet. Each step passes the network address, the broadcast address,
// a taken address or finds a free one, so the scan ends within
// leases + 3 steps even in a /64; the bound is checked anyway.
static int first_free(struct pv_ipam_pool *pool, char *text, size_t n)
{
	unsigned int steps, max = dl_list_len(&pool->leases) + 4;
	struct ip net, gw, cand;

	ip_from_ss(&pool->net, &net);
	ip_from_ss(&pool->gw, &gw);
	cand = gw;
	for (steps = 0; steps < max; steps++) {
		ip_inc(&cand);
		if (!same_prefix(&cand, &net, pool->prefix)) {
			cand = net;
			ip_inc(&cand);
		}
		if (ip_eq(&cand, &gw))
			return -1;
		if (host_problem(pool, &cand))
			continue;
		ip_to_text(pool->family, &cand, text, n);
		if (!find_by_address(pool, text))
			return 0;
	}
	return -1;
}

const char *pv_ipam_lease(struct pv_ipam_pool *pool, const char *owner,
			  const char *want, const char **reason)
{
	struct pv_ipam_lease *held = find_by_owner(pool, owner), *other;
	char text[INET6_ADDRSTRLEN];
	struct ip ip;

	*reason = NULL;
	if (!want) {
		if (held)
			return held->address;
		if (first_free(pool, text, sizeof(text))) {
			*reason = "pool exhausted";
			return NULL;
		}
		return add_lease(pool, owner, text, reason);
	}

	if (ip_from_text(pool->family, want, &ip)) {
		*reason = pool->family == AF_INET
				  ? "is not an IPv4 address (the pool is IPv4)"
				  : "is not an IPv6 address (the pool is IPv6)";
		return NULL;
	}
	*reason = host_problem(pool, &ip);
	if (*reason)
		return NULL;
	ip_to_text(pool->family, &ip, text, sizeof(text));
	if (held) {
		if (!strcmp(held->address, text))
			return held->address;
		*reason = "differs from the address the container holds";
		return NULL;
	}
	other = find_by_address(pool, text);
	if (other) {
		*reason = "is already taken";
		return NULL;
	}
	return add_lease(pool, owner, text, reason);
}

void pv_ipam_release(struct pv_ipam_pool *pool, const char *owner)
{
	struct pv_ipam_lease *l, *n;

	if (!pool || !owner)
		return;
	dl_list_for_each_safe (l, n, &pool->leases, struct pv_ipam_lease,
			       list) {
		if (strcmp(l->owner, owner))
			continue;
		pv_log(DEBUG, "pool %s: released %s from %s", pool->name,
		       l->address, owner);
		dl_list_del(&l->list);
		lease_free(l);
	}
}

int pv_ipam_overlaps(const struct pv_ipam_pool *a, const struct pv_ipam_pool *b)
{
	struct ip na, nb;

	if (a->family != b->family)
		return 0;
	ip_from_ss(&a->net, &na);
	ip_from_ss(&b->net, &nb);
	return same_prefix(&na, &nb,
			   a->prefix < b->prefix ? a->prefix : b->prefix);
}
