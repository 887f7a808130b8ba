// Ports, socket addresses and CIDRs of utils/addr.c.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "tests/unit/kit.h"
#include "utils/addr.h"

static void test_ports(void)
{
	static const char *const bad[] = {
		"",    "0",	"65536", "70000", "-1",	    "+80", " 80",
		"80 ", "80abc", "8e1",	 "0x50",  "999999", "1.5",
	};
	size_t i;
	int port;

	CHECK(pv_port_parse("1", &port) == 0 && port == 1);
	CHECK(pv_port_parse("80", &port) == 0 && port == 80);
	CHECK(pv_port_parse("65535", &port) == 0 && port == 65535);
	CHECK(pv_port_parse("00080", &port) == 0 && port == 80);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		port = -7;
		CHECK(pv_port_parse(bad[i], &port) == -1);
		CHECK(port == -7);
	}
	CHECK(pv_port_parse(NULL, &port) == -1);
}

// Parses s and formats it back.
static const char *round_trip(const char *s, char *buf, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (pv_addr_parse(s, &ss, &len))
		return NULL;
	return pv_addr_format((struct sockaddr *)&ss, buf, n);
}

static void test_addresses(void)
{
	static const char *const bad[] = {
		"1.2.3:80",
		"1.2.3.4",
		"1.2.3.4:",
		"1.2.3.4:0",
		"1.2.3.4:65536",
		"::1:80",
		"[::1]",
		"[::1]80",
		"[::1]:",
		"[]:80",
		"[1.2.3.4]:80",
		"localhost:80",
		"",
		":",
		"1.2.3.4:80:80",
		"[::1]:80x",
		"/run/sock",
		"256.1.1.1:80",
	};
	char buf[PV_ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;

	CHECK_STR(round_trip("10.0.4.2:80", buf, sizeof(buf)), "10.0.4.2:80");
	CHECK_STR(round_trip(":80", buf, sizeof(buf)), "0.0.0.0:80");
	CHECK_STR(round_trip("[::1]:8443", buf, sizeof(buf)), "[::1]:8443");
	CHECK_STR(round_trip("[fd00:0::2]:80", buf, sizeof(buf)),
		  "[fd00::2]:80");
	CHECK(pv_addr_parse("[::]:80", &ss, &len) == 0 &&
	      ss.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6));
	CHECK(pv_addr_parse("127.0.0.1:1", &ss, &len) == 0 &&
	      ss.ss_family == AF_INET && len == sizeof(struct sockaddr_in) &&
	      ntohs(((struct sockaddr_in *)&ss)->sin_port) == 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = pv_addr_parse(bad[i], &ss, &len);
		CHECK(ret == -1);
		if (ret != -1)
			fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
	}
	CHECK(pv_addr_parse(NULL, &ss, &len) == -1);
}

static void test_cidr(void)
{
	static const char *const bad[] = {
		"10.0.0.0",    "10.0.0.0/",   "10.0.0.0/33", "/24",
		"10.0.0/24",   "10.0.0.0/2a", "fd00::/129",  "10.0.0.0/-1",
		"10.0.0.0/ 8", "x/8",
	};
	struct sockaddr_storage net;
	size_t i;
	int prefix;

	CHECK(pv_cidr_parse("10.0.4.0/24", &net, &prefix) == 0 &&
	      prefix == 24 && net.ss_family == AF_INET);
	CHECK(pv_cidr_parse("0.0.0.0/0", &net, &prefix) == 0 && prefix == 0);
	CHECK(pv_cidr_parse("fd00::/64", &net, &prefix) == 0 && prefix == 64 &&
	      net.ss_family == AF_INET6);
	CHECK(pv_cidr_parse("::1/128", &net, &prefix) == 0 && prefix == 128);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = pv_cidr_parse(bad[i], &net, &prefix);
		CHECK(ret == -1);
		if (ret != -1)
			fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
	}
}

int main(void)
{
	RUN(test_ports);
	RUN(test_addresses);
	RUN(test_cidr);
	return kit_report("test_addr");
}
