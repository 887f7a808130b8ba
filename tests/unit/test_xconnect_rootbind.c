// Unix sockets made inside a consumer's root (rootbind.c), on a temp
// directory standing in for the root: directories made, stale sockets
// replaced, anything else left alone with a reason, and no symlink, "..",
// or magic link ever leading the bind (or a mkdir) outside the root.

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rootbind.h"
#include "transport.h"
#include "tests/unit/kit.h"

static char top[64];
static char outside[128];
static int rootfd = -1;

// top/root/rel as a host path, into p.
static const char *in_root(char *p, size_t n, const char *rel)
{
	snprintf(p, n, "%s/root/%s", top, rel);
	return p;
}

static void mk(const char *rel, int dir)
{
	char p[256];
	int fd;

	in_root(p, sizeof(p), rel);
	if (dir) {
		CHECK(mkdir(p, 0755) == 0);
		return;
	}
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	CHECK(fd != -1);
	if (fd != -1) {
		CHECK(write(fd, "keep", 4) == 4);
		close(fd);
	}
}

static void ln(const char *target, const char *rel)
{
	char p[256];

	CHECK(symlink(target, in_root(p, sizeof(p), rel)) == 0);
}

// The file type at top/root/rel (lstat), 0 when there is none.
static mode_t type_at(const char *rel)
{
	struct stat st;
	char p[256];

	if (lstat(in_root(p, sizeof(p), rel), &st))
		return 0;
	return st.st_mode & S_IFMT;
}

// Entries in the directory standing in for the host's.
static int outside_entries(void)
{
	char cmd[256];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", outside);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	pclose(f);
	return n;
}

// A socket bound at a host path and closed: what a crashed run leaves.
static void stale_socket(const char *rel)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	CHECK(fd != -1);
	in_root(sun.sun_path, sizeof(sun.sun_path), rel);
	CHECK(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	close(fd);
}

// 1 when a client connects to the host path of rel.
static int connects(const char *rel)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), ok;

	in_root(sun.sun_path, sizeof(sun.sun_path), rel);
	ok = fd != -1 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	if (fd != -1)
		close(fd);
	return ok;
}

static void setup(void)
{
	char p[256];

	snprintf(top, sizeof(top), "/tmp/pvx-rootbind-XXXXXX");
	CHECK(mkdtemp(top) != NULL);
	snprintf(p, sizeof(p), "%s/root", top);
	CHECK(mkdir(p, 0755) == 0);
	snprintf(outside, sizeof(outside), "%s/host", top);
	CHECK(mkdir(outside, 0755) == 0);
	rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(rootfd != -1);
}

static void teardown(void)
{
	char cmd[128];

	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	CHECK(system(cmd) == 0);
}

// Listens at path, expecting a refusal whose reason contains want.
static void refused(const char *path, const char *want)
{
	struct pvx_rootsock rs;
	char why[160];
	int fd;

	fd = pvx_rootbind_listen(rootfd, path, &rs, why, sizeof(why));
	CHECK(fd == -1);
	CHECK(rs.dirfd == -1 && rs.name == NULL);
	if (!strstr(why, want))
		fprintf(stderr, "%s: reason \"%s\", wanted \"%s\"\n", path, why,
			want);
	CHECK(strstr(why, want) != NULL);
	if (fd != -1)
		close(fd);
}

static void test_create_with_directories(void)
{
	struct pvx_rootsock rs;
	char why[160], p[256];
	struct stat st;
	int fd;

	fd = pvx_rootbind_listen(rootfd, "/run/pv/services/raw.sock", &rs, why,
				 sizeof(why));
	CHECK(fd != -1);
	CHECK_STR(why, "");
	CHECK(type_at("run/pv/services") == S_IFDIR);
	CHECK(lstat(in_root(p, sizeof(p), "run/pv/services/raw.sock"), &st) ==
	      0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK((st.st_mode & 07777) == 0666);
	CHECK(st.st_ino == rs.ino && st.st_dev == rs.dev);
	CHECK_STR(rs.name, "raw.sock");
	CHECK(connects("run/pv/services/raw.sock"));
	// The caller's umask is untouched by the bind's.
	{
		mode_t old = umask(022);

		CHECK(old == umask(old));
	}
	pvx_rootbind_release(&rs);
	CHECK(rs.dirfd == -1 && rs.name == NULL);
	CHECK(type_at("run/pv/services/raw.sock") == 0);
	CHECK(type_at("run/pv/services") == S_IFDIR);
	close(fd);
	// Again, directories already there; "." and "//" are harmless.
	fd = pvx_rootbind_listen(rootfd, "/run/./pv//services/raw.sock", &rs,
				 why, sizeof(why));
	CHECK(fd != -1);
	CHECK(type_at("run/pv/services/raw.sock") == S_IFSOCK);
	pvx_rootbind_release(&rs);
	close(fd);
	// At the top of the root.
	fd = pvx_rootbind_listen(rootfd, "/top.sock", &rs, why, sizeof(why));
	CHECK(fd != -1);
	CHECK(type_at("top.sock") == S_IFSOCK);
	pvx_rootbind_release(&rs);
	CHECK(type_at("top.sock") == 0);
	close(fd);
}

static void test_stale_socket_replaced(void)
{
	struct pvx_rootsock rs;
	char why[160];
	struct stat before;
	char p[256];
	int fd;

	mk("stale", 1);
	stale_socket("stale/s.sock");
	CHECK(lstat(in_root(p, sizeof(p), "stale/s.sock"), &before) == 0);
	CHECK(!connects("stale/s.sock"));
	fd = pvx_rootbind_listen(rootfd, "/stale/s.sock", &rs, why,
				 sizeof(why));
	CHECK(fd != -1);
	// A live socket now (inode numbers may be reused: not compared).
	CHECK(connects("stale/s.sock"));
	CHECK(before.st_nlink == 1);
	pvx_rootbind_release(&rs);
	close(fd);
}

static void test_not_ours_left_at_release(void)
{
	struct pvx_rootsock rs;
	char why[160], p[256];
	int fd;

	mk("swap", 1);
	fd = pvx_rootbind_listen(rootfd, "/swap/s.sock", &rs, why, sizeof(why));
	CHECK(fd != -1);
	// The consumer puts a socket of its own there meanwhile.
	CHECK(unlink(in_root(p, sizeof(p), "swap/s.sock")) == 0);
	stale_socket("swap/s.sock");
	pvx_rootbind_release(&rs);
	CHECK(type_at("swap/s.sock") == S_IFSOCK);
	close(fd);
	// And a regular file in place of ours.
	fd = pvx_rootbind_listen(rootfd, "/swap/s.sock", &rs, why, sizeof(why));
	CHECK(fd != -1);
	CHECK(unlink(in_root(p, sizeof(p), "swap/s.sock")) == 0);
	mk("swap/s.sock", 0);
	pvx_rootbind_release(&rs);
	CHECK(type_at("swap/s.sock") == S_IFREG);
	close(fd);
}

static void test_other_files_left_alone(void)
{
	char p[256];
	struct stat st;

	mk("files", 1);
	mk("files/reg", 0);
	refused("/files/reg", "a regular file is there, left alone");
	CHECK(lstat(in_root(p, sizeof(p), "files/reg"), &st) == 0);
	CHECK(S_ISREG(st.st_mode) && st.st_size == 4);
	mk("files/dir", 1);
	refused("/files/dir", "a directory is there, left alone");
	CHECK(type_at("files/dir") == S_IFDIR);
	// A symlink at the name is not followed, not replaced.
	ln(outside, "files/link");
	refused("/files/link", "a symlink is there, left alone");
	CHECK(type_at("files/link") == S_IFLNK);
	ln("/nowhere.sock", "files/dangling");
	refused("/files/dangling", "a symlink is there, left alone");
	CHECK(type_at("nowhere.sock") == 0);
	// A regular file where a directory should be.
	refused("/files/reg/x.sock", "/files/reg is a regular file");
	CHECK(outside_entries() == 0);
}

static void test_symlinked_directories(void)
{
	mk("sym", 1);
	// The target's directory a symlink to a host directory: nothing may
	// appear there (absolute or relative, the link is refused).
	ln(outside, "sym/host");
	refused("/sym/host/x.sock", "/sym/host is a symlink, not followed");
	refused("/sym/host/sub/x.sock", "/sym/host is a symlink");
	ln("../../host", "sym/up");
	refused("/sym/up/x.sock", "/sym/up is a symlink");
	// A link to /proc/self/...: the host's /proc (ours) is never
	// reached, and the root's own is not followed either.
	ln("/proc/self/cwd", "sym/proc");
	refused("/sym/proc/x.sock", "/sym/proc is a symlink");
	mk("proc", 1);
	ln("/proc/self", "proc/self");
	refused("/proc/self/cwd/x.sock", "/proc/self is a symlink");
	// A loop of symlinks.
	ln("b", "sym/a");
	ln("a", "sym/b");
	refused("/sym/a/x.sock", "/sym/a is a symlink");
	// A dangling link where a directory is missing: not made through it.
	ln("/made-through-link", "sym/dangling");
	refused("/sym/dangling/x.sock", "/sym/dangling is a symlink");
	CHECK(type_at("made-through-link") == 0);
	CHECK(outside_entries() == 0);
}

static void test_bad_paths(void)
{
	char longp[200];

	refused("/run/../x.sock", "\"..\"");
	refused("/../host/x.sock", "\"..\"");
	refused("/run/pv/..", "\"..\"");
	refused("run/x.sock", "not an absolute path");
	refused("/", "names no file");
	refused("//.", "names no file");
	// 108 bytes: one more than sun_path holds with its NUL.
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[108] = 0;
	refused(longp, "the path is 108 bytes, a Unix socket's at most 107");
	CHECK(type_at("x.sock") == 0);
	CHECK(outside_entries() == 0);
}

static void test_longest_path(void)
{
	struct pvx_rootsock rs;
	char path[108], why[160];
	int fd;

	// 107 bytes, in a directory: fits, as it does for a client.
	memset(path, 'b', sizeof(path));
	memcpy(path, "/long/", 6);
	path[107] = 0;
	fd = pvx_rootbind_listen(rootfd, path, &rs, why, sizeof(why));
	CHECK(fd != -1);
	CHECK(type_at(path + 1) == S_IFSOCK);
	pvx_rootbind_release(&rs);
	CHECK(type_at(path + 1) == 0);
	if (fd != -1)
		close(fd);
}

static void test_by_pid(void)
{
	struct pvx_rootsock rs;
	char path[160], why[160];
	int fd;

	// Our own root is /: the path is the host's.
	snprintf(path, sizeof(path), "%s/root/bypid/s.sock", top);
	fd = pvx_rootbind_listen_pid(getpid(), path, &rs, why, sizeof(why));
	CHECK(fd != -1);
	CHECK(type_at("bypid/s.sock") == S_IFSOCK);
	pvx_rootbind_release(&rs);
	if (fd != -1)
		close(fd);
	fd = pvx_rootbind_listen_pid(999999999, "/x.sock", &rs, why,
				     sizeof(why));
	CHECK(fd == -1);
	CHECK(strstr(why, "the root of pid 999999999") != NULL);
	pvx_rootbind_release(NULL);
}

// The Unix transport's listen and unlisten, as a frontend calls them:
// the socket made through rootbind, its reason in b.why, the file removed
// at unlisten only while it is the one bound.
static void test_transport_unix(void)
{
	const struct pvx_transport *tp = &pvx_transport_unix;
	struct sockaddr_storage addr;
	char path[160], why[160];
	const char *what = "";
	struct pvx_bind b = { .why = why, .n = sizeof(why) };
	socklen_t len;
	int fd;

	CHECK(tp->listen && tp->unlisten && !tp->ip_peers);
	snprintf(path, sizeof(path), "%s/root/tp/s.sock", top);
	CHECK(tp->parse(path, &addr, &len) == 0);
	why[0] = 0;
	fd = tp->listen(path, (struct sockaddr *)&addr, len, getpid(), 1, &b,
			&what);
	CHECK(fd != -1 && b.priv != NULL && !why[0]);
	CHECK(type_at("tp/s.sock") == S_IFSOCK);
	if (fd != -1)
		tp->unlisten(fd, &b);
	CHECK(b.priv == NULL && type_at("tp/s.sock") == 0);
	// The consumer replaced the socket: its file stays.
	fd = tp->listen(path, (struct sockaddr *)&addr, len, getpid(), 0, &b,
			&what);
	CHECK(fd != -1);
	CHECK(unlink(path) == 0);
	mk("tp/s.sock", 0);
	if (fd != -1)
		tp->unlisten(fd, &b);
	CHECK(type_at("tp/s.sock") == S_IFREG);
	// Refused: the reason is in why, nothing to release.
	fd = tp->listen(path, (struct sockaddr *)&addr, len, getpid(), 0, &b,
			&what);
	CHECK(fd == -1 && b.priv == NULL);
	CHECK(!strcmp(why, "a regular file is there, left alone"));
}

int main(void)
{
	setup();
	RUN(test_create_with_directories);
	RUN(test_stale_socket_replaced);
	RUN(test_not_ours_left_at_release);
	RUN(test_other_files_left_alone);
	RUN(test_symlinked_directories);
	RUN(test_bad_paths);
	RUN(test_longest_path);
	RUN(test_by_pid);
	RUN(test_transport_unix);
	teardown();
	return kit_report("test_xconnect_rootbind");
}
