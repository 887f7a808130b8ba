// Resolving a provider's socket path inside its root: with openat2 and
// with the component walk used where openat2 is missing. Neither may ever
// reach a file outside the root.

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

int main(void)
{
	char cmd[128];

	setup();
	RUN(test_walk);
	RUN(test_resolve);
	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
	return kit_report("test_xconnect_root");
}
