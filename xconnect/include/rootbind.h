#ifndef PV_XCONNECT_ROOTBIND_H
#define PV_XCONNECT_ROOTBIND_H

// Listening Unix sockets created inside a container's root: the
// container controls that filesystem, so nothing on the way is trusted.
// Every directory of the path is opened (or created) one component at a
// time below the root, refusing symlinks and "..", and the socket is bound
// in the last one through its fd, never through a path string that the
// kernel would resolve against the host.

#include <stddef.h>
#include <sys/types.h>

// A socket made by pvx_rootbind_listen, for its removal.
struct pvx_rootsock {
	int dirfd;  // O_PATH on the socket's directory, -1 when none
	char *name; // the socket's name in it
	dev_t dev;  // the inode bind made there
	ino_t ino;
};

// Creates a listening Unix stream socket (non-blocking, CLOEXEC, mode
// 0666) at path, absolute, inside the root that rootfd (an O_PATH
// directory fd) is: missing directories are made (0755), a socket already
// there is replaced, anything else there is left alone. Returns the fd
// and fills rs (release it with pvx_rootbind_release), or -1 with why
// (n bytes) saying what was refused or failed, errno set.
int pvx_rootbind_listen(int rootfd, const char *path, struct pvx_rootsock *rs,
			char *why, size_t n);

// The same inside the root of pid's mount namespace (/proc/PID/root,
// opened once and only used as a directory fd).
int pvx_rootbind_listen_pid(int pid, const char *path, struct pvx_rootsock *rs,
			    char *why, size_t n);

// Removes the socket when the inode at its path is still the one bound
// (the container may have put something else there since), and lets go of
// its directory. rs is empty after; NULL-safe, safe on an empty one.
void pvx_rootbind_release(struct pvx_rootsock *rs);

#endif
