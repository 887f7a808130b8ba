// IPAM: pool validation, leases in order from the gateway up, static
// addresses, IPv6, release and exhaustion.

#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "tests/unit/kit.h"

static struct pv_ipam_pool *pool(const char *subnet, const char *gw)
{
	const char *reason = NULL;
	struct pv_ipam_pool *p;

	p = pv_ipam_pool_new("internal", "pvbr0", subnet, gw, 0, &reason);
	if (!p)
		fprintf(stderr, "pool %s: %s\n", subnet, reason);
	return p;
}

static void test_pool_validation(void)
{
	static const struct {
		const char *subnet, *gw, *reason;
	} bad[] = {
		{ "10.0.4.0/33", "10.0.4.1",
		  "subnet: is not a subnet (IPv4 or IPv6 CIDR, A.B.C.D/N)" },
		{ "10.0.4.0", "10.0.4.1",
		  "subnet: is not a subnet (IPv4 or IPv6 CIDR, A.B.C.D/N)" },
		{ "10.0.4.0/", NULL,
		  "subnet: is not a subnet (IPv4 or IPv6 CIDR, A.B.C.D/N)" },
		{ "10.0.4.0/24x", NULL,
		  "subnet: is not a subnet (IPv4 or IPv6 CIDR, A.B.C.D/N)" },
		{ "10.0.4.0/-1", NULL,
		  "subnet: is not a subnet (IPv4 or IPv6 CIDR, A.B.C.D/N)" },
		{ "10.0.4.0/31", NULL,
		  "subnet: prefix length out of range for a pool (/8 to /30)" },
		{ "10.0.0.0/7", NULL,
		  "subnet: prefix length out of range for a pool (/8 to /30)" },
		{ "fd00::/127", NULL,
		  "subnet: prefix length out of range for a pool (/16 to "
		  "/126)" },
		{ "10.0.4.1/24", NULL,
		  "subnet: has host bits set (the network address must end in "
		  "zeros)" },
		{ "10.0.4.0/24", "10.0.5.1", "gateway: is outside the subnet" },
		{ "10.0.4.0/24", "10.0.4.0",
		  "gateway: is the subnet's network address" },
		{ "10.0.4.0/24", "10.0.4.255",
		  "gateway: is the subnet's broadcast address" },
		{ "10.0.4.0/24", "fd00::1",
		  "gateway: is not an IPv4 address (the subnet is IPv4)" },
		{ "10.0.4.0/24", "10.0.4.1 ",
		  "gateway: is not an IPv4 address (the subnet is IPv4)" },
		{ "fd00::/64", "10.0.4.1",
		  "gateway: is not an IPv6 address (the subnet is IPv6)" },
		{ "fd00::/64", "fd01::1", "gateway: is outside the subnet" },
	};
	struct pv_ipam_pool *p;
	const char *reason;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reason = NULL;
		p = pv_ipam_pool_new("x", "br", bad[i].subnet, bad[i].gw, 0,
				     &reason);
		CHECK(p == NULL);
		CHECK_STR(reason, bad[i].reason);
		pv_ipam_pool_free(p);
	}

	// No gateway given: the first host address.
	p = pool("10.0.4.0/24", NULL);
	CHECK_STR(p ? p->gateway : NULL, "10.0.4.1");
	CHECK(p && p->family == AF_INET && p->prefix == 24);
	pv_ipam_pool_free(p);
	// The gateway is kept in canonical form.
	p = pool("fd00:0::/64", "fd00:0:0::1");
	CHECK_STR(p ? p->gateway : NULL, "fd00::1");
	CHECK(p && p->family == AF_INET6 && p->prefix == 64);
	pv_ipam_pool_free(p);
	pv_ipam_pool_free(NULL);
}

static void test_lease_order(void)
{
	struct pv_ipam_pool *p = pool("10.0.4.0/24", "10.0.4.1");
	const char *reason;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_STR(pv_ipam_lease(p, "a", NULL, &reason), "10.0.4.2");
	CHECK_STR(pv_ipam_lease(p, "b", NULL, &reason), "10.0.4.3");
	// The same owner gets its address back.
	CHECK_STR(pv_ipam_lease(p, "a", NULL, &reason), "10.0.4.2");
	// Static: taken ones are skipped by later dynamic leases.
	CHECK_STR(pv_ipam_lease(p, "c", "10.0.4.4", &reason), "10.0.4.4");
	CHECK_STR(pv_ipam_lease(p, "d", NULL, &reason), "10.0.4.5");
	CHECK_STR(pv_ipam_owner(p, "10.0.4.4"), "c");
	CHECK(pv_ipam_owner(p, "10.0.4.9") == NULL);

	CHECK(pv_ipam_lease(p, "e", "10.0.4.4", &reason) == NULL);
	CHECK_STR(reason, "is already taken");
	CHECK(pv_ipam_lease(p, "e", "10.0.5.4", &reason) == NULL);
	CHECK_STR(reason, "is outside the subnet");
	CHECK(pv_ipam_lease(p, "e", "10.0.4.1", &reason) == NULL);
	CHECK_STR(reason, "is the pool's gateway");
	CHECK(pv_ipam_lease(p, "e", "10.0.4.255", &reason) == NULL);
	CHECK_STR(reason, "is the subnet's broadcast address");
	CHECK(pv_ipam_lease(p, "e", "10.0.4.0", &reason) == NULL);
	CHECK_STR(reason, "is the subnet's network address");
	CHECK(pv_ipam_lease(p, "e", "fd00::2", &reason) == NULL);
	CHECK_STR(reason, "is not an IPv4 address (the pool is IPv4)");
	CHECK(pv_ipam_lease(p, "a", "10.0.4.77", &reason) == NULL);
	CHECK_STR(reason, "differs from the address the container holds");

	CHECK(pv_ipam_contains(p, "10.0.4.200"));
	CHECK(!pv_ipam_contains(p, "10.0.4.1"));
	CHECK(!pv_ipam_contains(p, "10.0.3.200"));
	CHECK(!pv_ipam_contains(p, "nonsense"));

	// Release frees the address for the next lease.
	pv_ipam_release(p, "b");
	CHECK(pv_ipam_owner(p, "10.0.4.3") == NULL);
	CHECK_STR(pv_ipam_lease(p, "f", NULL, &reason), "10.0.4.3");
	pv_ipam_release(p, "nobody");
	pv_ipam_pool_free(p);
}

// The gateway need not be the first address: leases go up from it and
// wrap to the start of the subnet.
static void test_wrap(void)
{
	struct pv_ipam_pool *p = pool("192.168.7.0/29", "192.168.7.5");
	const char *reason;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_STR(pv_ipam_lease(p, "a", NULL, &reason), "192.168.7.6");
	CHECK_STR(pv_ipam_lease(p, "b", NULL, &reason), "192.168.7.1");
	CHECK_STR(pv_ipam_lease(p, "c", NULL, &reason), "192.168.7.2");
	CHECK_STR(pv_ipam_lease(p, "d", NULL, &reason), "192.168.7.3");
	CHECK_STR(pv_ipam_lease(p, "e", NULL, &reason), "192.168.7.4");
	// .0 network, .5 gateway, .7 broadcast: six hosts, all taken.
	CHECK(pv_ipam_lease(p, "f", NULL, &reason) == NULL);
	CHECK_STR(reason, "pool exhausted");
	pv_ipam_pool_free(p);
}

static void test_exhaustion(void)
{
	struct pv_ipam_pool *p = pool("10.0.4.0/30", "10.0.4.1");
	const char *reason;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_STR(pv_ipam_lease(p, "a", NULL, &reason), "10.0.4.2");
	CHECK(pv_ipam_lease(p, "b", NULL, &reason) == NULL);
	CHECK_STR(reason, "pool exhausted");
	pv_ipam_release(p, "a");
	CHECK_STR(pv_ipam_lease(p, "b", NULL, &reason), "10.0.4.2");
	pv_ipam_pool_free(p);
}

static void test_ipv6(void)
{
	struct pv_ipam_pool *p = pool("fd00::/64", "fd00::1");
	const char *reason;
	char owner[16];
	int i;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_STR(pv_ipam_lease(p, "a", NULL, &reason), "fd00::2");
	CHECK_STR(pv_ipam_lease(p, "b", "fd00::0:3", &reason), "fd00::3");
	CHECK_STR(pv_ipam_lease(p, "c", NULL, &reason), "fd00::4");
	CHECK(pv_ipam_lease(p, "d", "fd00::3", &reason) == NULL);
	CHECK_STR(reason, "is already taken");
	CHECK(pv_ipam_lease(p, "d", "fd01::3", &reason) == NULL);
	CHECK_STR(reason, "is outside the subnet");
	// Carries across bytes: ::ff then ::100.
	for (i = 0; i < 300; i++) {
		snprintf(owner, sizeof(owner), "n%d", i);
		CHECK(pv_ipam_lease(p, owner, NULL, &reason) != NULL);
	}
	CHECK_STR(pv_ipam_owner(p, "fd00::100"), "n251");
	CHECK(pv_ipam_contains(p, "fd00::ffff:ffff:ffff:ffff"));
	pv_ipam_pool_free(p);

	// A small IPv6 pool fills up too (no broadcast in IPv6).
	p = pool("fd00::/126", "fd00::1");
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_STR(pv_ipam_lease(p, "a", NULL, &reason), "fd00::2");
	CHECK_STR(pv_ipam_lease(p, "b", NULL, &reason), "fd00::3");
	CHECK(pv_ipam_lease(p, "c", NULL, &reason) == NULL);
	CHECK_STR(reason, "pool exhausted");
	pv_ipam_pool_free(p);
}

static void test_overlaps(void)
{
	struct pv_ipam_pool *a = pool("10.0.0.0/16", NULL);
	struct pv_ipam_pool *b = pool("10.0.4.0/24", NULL);
	struct pv_ipam_pool *c = pool("10.1.0.0/24", NULL);
	struct pv_ipam_pool *d = pool("fd00::/64", NULL);

	CHECK(a && b && c && d);
	if (a && b && c && d) {
		CHECK(pv_ipam_overlaps(a, b));
		CHECK(pv_ipam_overlaps(b, a));
		CHECK(!pv_ipam_overlaps(a, c));
		CHECK(!pv_ipam_overlaps(a, d));
	}
	pv_ipam_pool_free(a);
	pv_ipam_pool_free(b);
	pv_ipam_pool_free(c);
	pv_ipam_pool_free(d);
}

int main(void)
{
	RUN(test_pool_validation);
	RUN(test_lease_order);
	RUN(test_wrap);
	RUN(test_exhaustion);
	RUN(test_ipv6);
	RUN(test_overlaps);
	return kit_report("test_ipam");
}
