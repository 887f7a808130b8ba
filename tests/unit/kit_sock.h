#ifndef PV_TEST_KIT_SOCK_H
#define PV_TEST_KIT_SOCK_H

// Sockets for the data path's tests (tunnel, datapath).

// Sets O_NONBLOCK on fd.
void kit_nonblock(int fd);

// A connected pair of loopback TCP sockets, both non-blocking. Returns
// 0, or -1 when the pair cannot be made.
int kit_tcp_pair(int sv[2]);

#endif
