// Resolving a provider's socket path inside its root: with openat2 and
// with the component walk used where openat2 is missing. Neither may ever
// reach a file outside the root.

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/kit.h"
#include "xconnect.h"

int pvx_root_walk(int rootfd, const char *path);

static char top[64];
static char outside[128];
static int rootfd = -1;

static void mk(const char *rel, int dir)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/root/%s", top, rel);
	if (dir) {
		CHECK(mkdir(p, 0755) == 0);
		return;
	}
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	CHECK(fd != -1);
	close(fd);
}

static void ln(const char *target, const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/root/%s", top, rel);
	CHECK(symlink(target, p) == 0);
}

static void setup(void)
{
	char p[256];

	snprintf(top, sizeof(top), "/tmp/pvx-root-XXXXXX");
	CHECK(mkdtemp(top) != NULL);
	snprintf(p, sizeof(p), "%s/root", top);
	CHECK(mkdir(p, 0755) == 0);
	snprintf(outside, sizeof(outside), "%s/secret", top);
	close(open(outside, O_CREAT | O_WRONLY, 0644));
	mk("run", 1);
	mk("run/app", 1);
	mk("run/app/sock", 0);
	ln("/run/app", "run/link");
	ln(outside, "run/escape");
	ln("../../secret", "run/up");
	rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(rootfd != -1);
}

// 1 if fd names the file at path (relative to top).
static int same(int fd, const char *rel)
{
	struct stat a, b;
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	return fd != -1 && fstat(fd, &a) == 0 && stat(p, &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static void test_walk(void)
{
	int fd;

	fd = pvx_root_walk(rootfd, "/run/app/sock");
	CHECK(same(fd, "root/run/app/sock"));
	close(fd);
	// ".." stops at the root: this is /run/app/sock, not ../sock.
	fd = pvx_root_walk(rootfd, "/../../run/./app/../app/sock");
	CHECK(same(fd, "root/run/app/sock"));
	close(fd);
	// Symlinks are refused outright, wherever they point.
	errno = 0;
	CHECK(pvx_root_walk(rootfd, "/run/link/sock") == -1 && errno == ELOOP);
	errno = 0;
	CHECK(pvx_root_walk(rootfd, "/run/escape") == -1 && errno == ELOOP);
	errno = 0;
	CHECK(pvx_root_walk(rootfd, "/run/up") == -1 && errno == ELOOP);
	errno = 0;
	CHECK(pvx_root_walk(rootfd, "/run/missing") == -1 && errno == ENOENT);
	CHECK(pvx_root_walk(rootfd, "/") == -1);
}

static int have_openat2(void)
{
	return !(syscall(SYS_openat2, -1, "", NULL, 0) == -1 &&
		 errno == ENOSYS);
}

static void test_resolve(void)
{
	int fd, err;

	fd = pvx_root_resolve(rootfd, "/run/app/sock");
	CHECK(same(fd, "root/run/app/sock"));
	close(fd);
	// An absolute symlink inside the root resolves inside it (where
	// openat2 exists; the fallback walk refuses every symlink).
	fd = pvx_root_resolve(rootfd, "/run/link/sock");
	err = errno;
	if (have_openat2())
		CHECK(same(fd, "root/run/app/sock"));
	else
		CHECK(fd == -1 && err == ELOOP);
	if (fd != -1)
		close(fd);
	// Links that point outside never reach the outside file.
	fd = pvx_root_resolve(rootfd, "/run/escape");
	CHECK(!same(fd, "secret"));
	if (fd != -1)
		close(fd);
	fd = pvx_root_resolve(rootfd, "/run/up");
	CHECK(!same(fd, "secret"));
	if (fd != -1)
		close(fd);
}

// Makes every openat2 of this process answer EAGAIN, as it does while
// renames or mounts race each walk. Returns 0 or -1.
static int openat2_always_eagain(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAGAIN),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

// openat2 racing for ever: the resolution gives up with EAGAIN rather
// than retry without end. In a child, which the filter stays with; a
// child that spins is killed by its alarm (exit status 77: no seccomp
// here, as under qemu-user).
static void test_resolve_racing(void)
{
	int status = 0, fd;
	pid_t pid;

	if (!have_openat2())
		return;
	pid = fork();
	CHECK(pid != -1);
	if (pid == 0) {
		alarm(20);
		if (openat2_always_eagain())
			_exit(77);
		errno = 0;
		fd = pvx_root_resolve(rootfd, "/run/app/sock");
		_exit(fd == -1 && errno == EAGAIN ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(!WIFSIGNALED(status));
	CHECK(WIFEXITED(status) &&
	      (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 77));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		fprintf(stderr, "note: no seccomp, EAGAIN bound not tested\n");
}

int main(void)
{
	char cmd[128];

	setup();
	RUN(test_walk);
	RUN(test_resolve);
	RUN(test_resolve_racing);
	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
	return kit_report("test_xconnect_root");
}
