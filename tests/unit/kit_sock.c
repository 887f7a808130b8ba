// Sockets for the data path's tests (kit_sock.h).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/kit_sock.h"

void kit_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int kit_tcp_pair(int sv[2])
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int l;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l == -1 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(l, 1) || getsockname(l, (struct sockaddr *)&sin, &len)) {
		if (l != -1)
			close(l);
		return -1;
	}
	sv[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (sv[0] == -1 || connect(sv[0], (struct sockaddr *)&sin, len)) {
		close(l);
		return -1;
	}
	sv[1] = accept(l, NULL, NULL);
	close(l);
	if (sv[1] == -1)
		return -1;
	kit_nonblock(sv[0]);
	kit_nonblock(sv[1]);
	return 0;
}
