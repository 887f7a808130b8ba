// The PROXY protocol header, byte for byte, for both versions and both
// address families.

#include <string.h>

#include "tests/unit/kit.h"
#include "utils/addr.h"
#include "xconnect.h"

static int header(int version, const char *peer, const char *local, char *buf,
		  size_t n)
{
	struct sockaddr_storage p, l;
	socklen_t len;

	if (pv_addr_parse(peer, &p, &len) || pv_addr_parse(local, &l, &len))
		return -2;
	return pvx_proxy_header(version, (struct sockaddr *)&p,
				(struct sockaddr *)&l, buf, n);
}

static void test_v1(void)
{
	char buf[128];
	int n;

	n = header(1, "192.0.2.7:51000", "10.0.0.1:80", buf, sizeof(buf));
	CHECK(n == (int)strlen("PROXY TCP4 192.0.2.7 10.0.0.1 51000 80\r\n"));
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, "PROXY TCP4 192.0.2.7 10.0.0.1 51000 80\r\n");
	n = header(1, "[2001:db8::7]:4000", "[::1]:443", buf, sizeof(buf));
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, "PROXY TCP6 2001:db8::7 ::1 4000 443\r\n");
	// Too small a buffer is refused, never truncated.
	CHECK(header(1, "192.0.2.7:51000", "10.0.0.1:80", buf, 20) == -1);
	// Mixed families cannot be said.
	CHECK(header(1, "192.0.2.7:1", "[::1]:2", buf, sizeof(buf)) == -1);
}

static void test_v2(void)
{
	static const unsigned char want4[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c, 192,  0,	2,    7,
		10,   0,    0,	  1,	0xc7, 0x38, 0x00, 0x50,
	};
	char buf[128] = { 0 };
	int n;

	n = header(2, "192.0.2.7:51000", "10.0.0.1:80", buf, sizeof(buf));
	CHECK(n == (int)sizeof(want4));
	CHECK(n == (int)sizeof(want4) && !memcmp(buf, want4, sizeof(want4)));
	n = header(2, "[2001:db8::7]:4000", "[::1]:443", buf, sizeof(buf));
	CHECK(n == 16 + 36);
	CHECK((unsigned char)buf[13] == 0x21 && buf[15] == 36);
	CHECK(header(2, "[2001:db8::7]:4000", "[::1]:443", buf, 40) == -1);
}

int main(void)
{
	RUN(test_v1);
	RUN(test_v2);
	return kit_report("test_xconnect_proxyproto");
}
