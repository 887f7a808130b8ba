// pvx_session_start's contract: a session holds the client (0) even when
// no backend can take it and it is closed at once; the figures count it.

#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tests/unit/kit.h"
#include "xconnect.h"

static void test_no_backend(void)
{
	struct sockaddr_storage peer = { .ss_family = AF_UNIX };
	struct pvx_frontend *fe;
	struct pvx x;
	int sv[2];
	char c;

	CHECK(pvx_init(&x) == 0);
	// netns pid -1: the frontend never listens (no port taken).
	fe = pvx_frontend_get(&x, "k", "t", NULL, "127.0.0.1:1", -1);
	CHECK(fe != NULL);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	if (!fe)
		return;
	CHECK(pvx_session_start(fe, sv[0], (struct sockaddr *)&peer,
				sizeof(sa_family_t)) == 0);
	// Closed at once: the client reads EOF.
	CHECK(read(sv[1], &c, 1) == 0);
	CHECK(fe->stats.sessions_total == 1);
	CHECK(fe->stats.sessions_now == 0);
	CHECK(x.nsessions == 0);
	close(sv[1]);
	pvx_frontend_check_empty(fe);
	pvx_frontend_unref(fe);
	pvx_fini(&x);
}

int main(void)
{
	pv_log_set_level(FATAL); // "no usable backend" is the point
	RUN(test_no_backend);
	return kit_report("test_xconnect_session");
}
