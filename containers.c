// Containers with liblxc: configuration, start through a monitor child,
// exit detection, restart policy with back-off, stop.
#define MODULE_NAME "containers"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "containers.h"
#include "log.h"
#include "utils/text.h"
#include "utils/timer.h"
#include "supervisor.h"

#define START_TIMEOUT_MS 15000
#define START_POLL_MS	 20
#define BACKOFF_MIN_MS	 500
#define BACKOFF_MAX_MS	 30000
#define STABLE_MS	 10000
// A container stopped through pv-ctrl gets this long after SIGTERM.
#define STOP_GRACE_MS 5000
// The longest auto_recovery delay, however far the back-off grows.
#define RECOVERY_MAX_MS (3600 * 1000)
#define DEFAULT_PATH                                                           \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
// Longest log line quoted in /containers.
#define LOG_LINE_MAX 300

// What the monitor reports before it exits.
struct start_result {
	int ok;	       // liblxc's start() returned true
	int error_num; // then: the wait status of the container's init
};

// One lxc.* configuration item.
struct cfg_item {
	char *key;
	char *value;
};

struct pv_container {
	struct pv_containers *set;
	struct pv_platform *p;
	int index;
	struct lxc_container *lxc; // for state and init pidfd queries
	struct cfg_item *cfg;
	int ncfg;
	char *cfg_error;    // the configuration is unusable: why
	char *log_path;	    // the program's stdout and stderr
	char *lxc_log_path; // liblxc's own messages
	pid_t monitor;	    // our child running the container, or 0
	char *result_path;  // where the monitor writes its start_result
	int pidfd;	    // of the container's init, or -1
	int killed;	    // SIGKILL already sent once
	int timed_out;	    // killed because it did not come up in time
	int restart_pending;
	int restarts;
	int backoff_ms;
	int retries;	    // auto_recovery restarts in a row (current_retries)
	int stop_requested; // pv-ctrl asked it to stop: no recovery
	int restart_requested;	  // ... and to start again once it ended
	struct event *stop_timer; // SIGKILL after a pv-ctrl stop's grace
	struct timespec started;
	pid_t waiter; // our child waiting for the container to run, or 0
	struct event *waiter_ev; // its answer
	char *last_exit;
	char *last_log;
	struct event *restart_timer;
};

struct pv_containers {
	struct event_base *base;
	struct pv_state *state;
	char *run_dir;
	char *lxcpath;
	int stopping;
	int n;
	struct pv_container *cts;
};

// pidfd_open(2); glibc of older targets has no wrapper.
static int pidfd_open_(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

// pidfd_send_signal(2): signals exactly the process the pidfd names.
static int pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int pv_containers_check_host(void)
{
	static const char *const ns[] = { "mnt", "pid", "net", "uts", "ipc" };
	static const char *const inits[] = { "/usr/sbin/init.lxc.static",
					     "/usr/sbin/init.lxc",
					     "/sbin/init.lxc.static",
					     "/sbin/init.lxc" };
	char path[64];
	size_t i;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		if (access(path, F_OK) == -1) {
			pv_log(ERROR,
			       "this kernel has no %s namespaces (%s: %s); "
			       "containers cannot run",
			       ns[i], path, strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < sizeof(inits) / sizeof(inits[0]); i++)
		if (access(inits[i], X_OK) == 0)
			break;
	if (i == sizeof(inits) / sizeof(inits[0])) {
		pv_log(ERROR, "LXC is missing (no init.lxc in /usr/sbin or "
			      "/sbin): install it, e.g. apt-get install lxc");
		return -1;
	}
	pv_log(DEBUG, "liblxc %s, init %s", lxc_get_version(), inits[i]);
	return 0;
}

// Replaces *field, one of ct's texts for /containers, with a copy of text
// (pv_text_set: a copy that cannot be made is said in the log).
static void set_text(const struct pv_container *ct, char **field,
		     const char *text)
{
	pv_text_set(field, text, ct->p->name, "/containers");
}

// Appends a configuration item. Returns 0 or -1 (out of memory).
static int cfg_add(struct pv_container *ct, const char *key, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));
static int cfg_add(struct pv_container *ct, const char *key, const char *fmt,
		   ...)
{
	struct cfg_item *items;
	char *value;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	items = realloc(ct->cfg, (ct->ncfg + 1) * sizeof(*items));
	if (!items) {
		free(value);
		return -1;
	}
	ct->cfg = items;
	items[ct->ncfg].key = strdup(key);
	items[ct->ncfg].value = value;
	if (!items[ct->ncfg].key) {
		free(value);
		return -1;
	}
	ct->ncfg++;
	return 0;
}

// "A.B.C.D/P A.B.C.255": lxc's notation for address, prefix, broadcast.
static int ipv4_with_broadcast(const char *addr, int prefix, char *buf,
			       size_t n)
{
	char bcast[INET_ADDRSTRLEN];
	struct in_addr a;
	uint32_t mask;

	if (inet_pton(AF_INET, addr, &a) != 1)
		return -1;
	mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
	a.s_addr |= ~mask;
	inet_ntop(AF_INET, &a, bcast, sizeof(bcast));
	snprintf(buf, n, "%s/%d %s", addr, prefix, bcast);
	return 0;
}

// The network part of the configuration. Returns 0, or -1 with err set.
static int cfg_network(struct pv_container *ct, char *err, size_t errn)
{
	struct pv_platform *p = ct->p;
	struct pv_platform_network_iface *iface;
	struct pv_ipam_pool *pool;
	int i = 0, gw4 = 0, gw6 = 0, r = 0;
	char key[64], val[96];

	if (p->network.mode == NET_MODE_HOST)
		return cfg_add(ct, "lxc.net.0.type", "none");
	if (p->network.mode != NET_MODE_POOL ||
	    dl_list_empty(&p->network.interfaces))
		return cfg_add(ct, "lxc.net.0.type", "empty") |
		       cfg_add(ct, "lxc.net.0.flags", "up");

	dl_list_for_each (iface, &p->network.interfaces,
			  struct pv_platform_network_iface, list) {
		pool = pv_state_find_pool(ct->set->state, iface->pool);
		if (!pool || !iface->address) {
			snprintf(err, errn, "interface on pool %s: %s",
				 iface->pool,
				 pool ? "no address leased" : "no such pool");
			return -1;
		}
#define NETKEY(k) (snprintf(key, sizeof(key), "lxc.net.%d." k, i), key)
		r |= cfg_add(ct, NETKEY("type"), "veth");
		r |= cfg_add(ct, NETKEY("link"), "%s", pool->bridge);
		r |= cfg_add(ct, NETKEY("flags"), "up");
		r |= cfg_add(ct, NETKEY("name"), "%s",
			     iface->name ? iface->name : "eth0");
		// Host-side names that say whose they are: pvv, pvd's pid,
		// the container's index and the interface's.
		r |= cfg_add(ct, NETKEY("veth.pair"), "pvv%05x_%d_%d",
			     (unsigned)getpid() & 0xfffff, ct->index, i);
		if (iface->mac)
			r |= cfg_add(ct, NETKEY("hwaddr"), "%s", iface->mac);
		if (pool->family == AF_INET) {
			if (ipv4_with_broadcast(iface->address, pool->prefix,
						val, sizeof(val)) == -1) {
				snprintf(err, errn, "bad leased address %s",
					 iface->address);
				return -1;
			}
			r |= cfg_add(ct, NETKEY("ipv4.address"), "%s", val);
			if (!gw4++)
				r |= cfg_add(ct, NETKEY("ipv4.gateway"), "%s",
					     pool->gateway);
		} else {
			r |= cfg_add(ct, NETKEY("ipv6.address"), "%s/%d",
				     iface->address, pool->prefix);
			if (!gw6++)
				r |= cfg_add(ct, NETKEY("ipv6.gateway"), "%s",
					     pool->gateway);
		}
#undef NETKEY
		i++;
	}
	return r;
}

// Builds the container's whole LXC configuration. Returns 0, or -1 with
// err set to why the container cannot run.
static int cfg_build(struct pv_container *ct, char *err, size_t errn)
{
	struct pv_platform *p = ct->p;
	const char *root = p->root ? p->root : "/";
	char varrun[4096];
	struct stat st;
	char **e;
	int r = 0;

	if (!p->exec || !p->exec[0]) {
		snprintf(err, errn, "run.json: exec is empty");
		return -1;
	}
	if (stat(root, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errn, "root %s is not a directory", root);
		return -1;
	}
	// LXC's init fails an exec silently; with the host's root we can
	// say why at once.
	if (!p->root && p->exec[0][0] == '/' &&
	    access(p->exec[0], X_OK) == -1) {
		snprintf(err, errn, "exec: %s: %s", p->exec[0],
			 strerror(errno));
		return -1;
	}
	r |= cfg_add(ct, "lxc.uts.name", "%s",
		     p->network.hostname ? p->network.hostname : p->name);
	r |= cfg_add(ct, "lxc.rootfs.path", "dir:%s", root);
	// lxc applies "ro" to the whole recursive bind of the root, so the
	// host's root and the mounts below it are all read-only.
	if (!p->root)
		r |= cfg_add(ct, "lxc.rootfs.options", "ro");
	// No tty on an embedded device or under CI: no console, no ptys.
	r |= cfg_add(ct, "lxc.console.path", "none");
	r |= cfg_add(ct, "lxc.tty.max", "0");
	r |= cfg_add(ct, "lxc.pty.max", "0");
	// With the host's root, /dev comes with the (read-only) bind; a
	// root of its own gets a minimal /dev from lxc.
	r |= cfg_add(ct, "lxc.autodev", "%d", p->root ? 1 : 0);
	r |= cfg_add(ct, "lxc.apparmor.profile", "unconfined");
	r |= cfg_add(ct, "lxc.cap.drop",
		     "mac_admin mac_override sys_module sys_rawio sys_time");
	// A /proc of the container's own pid namespace, sysfs read-only.
	r |= cfg_add(ct, "lxc.mount.auto", "proc:mixed sys:ro");
	// Private /run and /tmp (and /var/run where it is not a symlink
	// into /run): the only places a program may write.
	r |= cfg_add(ct, "lxc.mount.entry",
		     "tmpfs run tmpfs rw,nosuid,nodev,mode=755%s 0 0",
		     p->root ? ",create=dir" : "");
	r |= cfg_add(ct, "lxc.mount.entry",
		     "tmpfs tmp tmpfs rw,nosuid,nodev,mode=1777%s 0 0",
		     p->root ? ",create=dir" : "");
	snprintf(varrun, sizeof(varrun), "%s/var/run",
		 strcmp(root, "/") ? root : "");
	if (lstat(varrun, &st) == 0 && S_ISDIR(st.st_mode))
		r |= cfg_add(
			ct, "lxc.mount.entry",
			"tmpfs var/run tmpfs rw,nosuid,nodev,mode=755 0 0");
	r |= cfg_add(ct, "lxc.mount.entry",
		     "tmpfs dev/shm tmpfs rw,nosuid,nodev,mode=1777,create=dir "
		     "0 0");
	// LXC starts init with an empty environment; programs named without
	// a path need a PATH unless run.json sets one.
	for (e = p->env; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			break;
	if (!e || !*e)
		r |= cfg_add(ct, "lxc.environment", "PATH=%s", DEFAULT_PATH);
	for (e = p->env; e && *e; e++)
		r |= cfg_add(ct, "lxc.environment", "%s", *e);
	r |= cfg_add(ct, "lxc.log.file", "%s", ct->lxc_log_path);
	r |= cfg_add(ct, "lxc.log.level", "WARN");
	if (r) {
		snprintf(err, errn, "out of memory");
		return -1;
	}
	if (cfg_network(ct, err, errn) == -1)
		return -1;
	return 0;
}

// Applies the configuration to a fresh handle. Returns 0, or -1 with
// err naming the item liblxc refused.
static int cfg_apply(struct pv_container *ct, struct lxc_container *c,
		     char *err, size_t errn)
{
	int i;

	c->clear_config(c);
	for (i = 0; i < ct->ncfg; i++) {
		if (!c->set_config_item(c, ct->cfg[i].key, ct->cfg[i].value)) {
			snprintf(err, errn, "LXC refused %s = %s",
				 ct->cfg[i].key, ct->cfg[i].value);
			return -1;
		}
	}
	return 0;
}

// The last non-empty line of the file's last 4 KiB that contains want
// (or any line when want is NULL), shortened to LOG_LINE_MAX. Caller
// frees; NULL when there is none.
static char *log_last_line(const char *path, const char *want)
{
	char buf[4097], *line, *end, *start;
	off_t size;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	size = lseek(fd, 0, SEEK_END);
	if (size > 4096)
		lseek(fd, size - 4096, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	end = buf + n;
	while (end > buf) {
		while (end > buf && (end[-1] == '\n' || end[-1] == '\r'))
			*--end = '\0';
		start = end;
		while (start > buf && start[-1] != '\n')
			start--;
		if (start < end && (!want || strstr(start, want))) {
			if (want)
				start = strstr(start, want);
			if (strlen(start) > LOG_LINE_MAX)
				start[LOG_LINE_MAX] = '\0';
			line = strdup(start);
			return line;
		}
		end = start;
	}
	return NULL;
}

// Removes the empty cgroups that liblxc made for container name and left
// behind because its monitor was killed (a clean stop removes them).
// Only empty cgroups can be removed, so a running container's never are.
// liblxc creates them under pvd's own cgroup, in every hierarchy, named
// lxc.monitor.NAME and lxc.payload.NAME, with -1, -2, ... on collisions.
static void remove_stale_cgroups(const char *name)
{
	static const char *const kinds[] = { "lxc.payload", "lxc.monitor" };
	char line[1024], mnt[512], fstype[32], rel[8][512], path[2048];
	int nrel = 0, i, k, n;
	size_t j;
	FILE *f;

	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return;
	while (nrel < 8 && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		c = c ? strchr(c + 1, ':') : NULL;
		if (!c)
			continue;
		c[strcspn(c, "\n")] = '\0';
		for (i = 0; i < nrel && strcmp(rel[i], c + 1); i++)
			;
		if (i == nrel && strlen(c + 1) < sizeof(rel[0]))
			strcpy(rel[nrel++], strcmp(c + 1, "/") ? c + 1 : "");
	}
	fclose(f);
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep, " - %31s", fstype) != 1 ||
		    (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2")) ||
		    sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1)
			continue;
		for (i = 0; i < nrel; i++)
			for (j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++)
				for (k = 0; k < 10; k++) {
					n = snprintf(path, sizeof(path),
						     "%s%s/%s.%s", mnt, rel[i],
						     kinds[j], name);
					if (k && n > 0 && n < (int)sizeof(path))
						snprintf(path + n,
							 sizeof(path) - n,
							 "-%d", k);
					if (rmdir(path) == 0)
						pv_log(DEBUG,
						       "removed stale cgroup "
						       "%s",
						       path);
				}
	}
	fclose(f);
}

// In the monitor child: runs the container in the foreground and reports
// how it went in the result file (liblxc closes inherited fds in the
// calling process, so a pipe would not survive). Never returns.
static void monitor_main(struct pv_container *ct, pid_t parent, int log_fd)
{
	struct start_result res = { 0 };
	struct lxc_container *c;
	char err[256];
	int fd;

	if (pv_child_setup(parent, SIGKILL, log_fd) == -1)
		_exit(126);
	// pvd's sockets (pv-ctrl, its clients) must not live on in the
	// monitor: a client would wait forever for our EOF.
	if (close_range(3, ~0U, 0) == -1) {
		for (fd = 3; fd < 65536; fd++)
			close(fd);
	}
	snprintf(err, sizeof(err), "pvd:%s", ct->p->name);
	prctl(PR_SET_NAME, err);
	c = lxc_container_new(ct->p->name, ct->set->lxcpath);
	if (!c) {
		dprintf(2, "pvd: cannot create the LXC handle of %s\n",
			ct->p->name);
		_exit(126);
	}
	if (cfg_apply(ct, c, err, sizeof(err)) == -1) {
		dprintf(2, "pvd: %s\n", err);
		_exit(126);
	}
	c->want_daemonize(c, false);
	c->want_close_all_fds(c, true);
	// useinit: LXC's small init is pid 1. It reaps orphans and forwards
	// SIGTERM to the program, which as pid 1 itself would ignore it.
	res.ok = c->start(c, 1, ct->p->exec);
	res.error_num = c->error_num;
	fd = open(ct->result_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0600);
	if (fd == -1 || write(fd, &res, sizeof(res)) != sizeof(res))
		_exit(125);
	_exit(0);
}

static void container_start(struct pv_container *ct);

// The back-off delay is over: start the container again.
static void restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pv_container *ct = arg;

	(void)fd;
	(void)what;
	ct->restart_pending = 0;
	container_start(ct);
}

// Reads the init's pid from /proc/self/fdinfo of its pidfd.
static pid_t pidfd_pid(int pidfd)
{
	char path[64], line[128];
	pid_t pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid:\t%d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

// Kills the monitor of a container that did not come up in time; its
// exit is then handled as a failed start.
static void start_timed_out(struct pv_container *ct)
{
	if (ct->monitor <= 0)
		return;
	pv_log(ERROR, "container %s: not running after %d ms; killing it",
	       ct->p->name, START_TIMEOUT_MS);
	ct->timed_out = 1;
	kill(ct->monitor, SIGKILL);
}

// Sends fd over the socket sock with SCM_RIGHTS. Returns 0 or -1.
static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 'R';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

// Receives one fd sent by send_fd. Returns it, or -1.
static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

// In the waiter child: asks liblxc until the container runs, then sends
// a pidfd of its init over sock. liblxc's queries block on the monitor's
// command socket with no timeout, so they run here and not in pvd's
// event loop, which kills us if we take too long. Never returns.
static void waiter_main(struct pv_container *ct, pid_t parent, int sock)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	struct timespec pause = { .tv_nsec = START_POLL_MS * 1000000L };
	const char *state;
	int i, pidfd;
	pid_t pid;

	for (i = 1; i < NSIG; i++)
		if (i != SIGKILL && i != SIGSTOP)
			sigaction(i, &sa, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent ||
	    dup2(sock, 3) == -1)
		_exit(1);
	if (close_range(4, ~0U, 0) == -1)
		for (i = 4; i < 65536; i++)
			close(i);
	for (i = 0; i < START_TIMEOUT_MS / START_POLL_MS; i++) {
		state = ct->lxc->state(ct->lxc);
		if (state && !strcmp(state, "RUNNING")) {
			pidfd = ct->lxc->init_pidfd(ct->lxc);
			if (pidfd < 0) {
				pid = ct->lxc->init_pid(ct->lxc);
				pidfd = pid > 0 ? pidfd_open_(pid) : -1;
			}
			if (pidfd >= 0)
				_exit(send_fd(3, pidfd) == 0 ? 0 : 1);
		}
		nanosleep(&pause, NULL);
	}
	_exit(1);
}

// The container runs: hold a pidfd of its init, so that signals go to
// that process and never to a recycled pid.
static void container_running(struct pv_container *ct, int pidfd)
{
	const char *addr = pv_platform_get_address(ct->p);

	ct->pidfd = pidfd;
	ct->p->pid = pidfd_pid(pidfd);
	ct->p->status = PLAT_RUNNING;
	set_text(ct, &ct->p->error, NULL);
	clock_gettime(CLOCK_MONOTONIC, &ct->started);
	pv_log(INFO, "container %s running, pid %d%s%s", ct->p->name,
	       ct->p->pid, addr ? ", address " : "", addr ? addr : "");
	if (ct->set->stopping || ct->stop_requested)
		pidfd_signal(ct->pidfd, SIGTERM);
}

// The waiter answered, hung up or took too long.
static void waiter_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pv_container *ct = arg;
	int pidfd = -1;

	if (what & EV_READ)
		pidfd = recv_fd(fd);
	event_free(ct->waiter_ev);
	ct->waiter_ev = NULL;
	close(fd);
	if (ct->waiter > 0 && pidfd < 0)
		kill(ct->waiter, SIGKILL);
	if (pidfd >= 0 && ct->monitor > 0) {
		container_running(ct, pidfd);
		return;
	}
	if (pidfd >= 0)
		close(pidfd);
	// No init: the monitor's exit explains why, or it is stuck.
	start_timed_out(ct);
}

// Forks the waiter of ct's start. Returns 0 or -1.
static int start_waiter(struct pv_container *ct)
{
	pid_t parent = getpid(), pid;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		pv_log(ERROR, "container %s: socketpair: %s", ct->p->name,
		       strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		pv_log(ERROR, "container %s: fork: %s", ct->p->name,
		       strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0)
		waiter_main(ct, parent, sv[1]);
	close(sv[1]);
	ct->waiter = pid;
	ct->waiter_ev = event_new(ct->set->base, sv[0], EV_READ, waiter_cb, ct);
	if (!ct->waiter_ev ||
	    pv_timer_arm(ct->waiter_ev, START_TIMEOUT_MS + 2000) == -1) {
		pv_log(ERROR, "container %s: cannot watch its start",
		       ct->p->name);
		if (ct->waiter_ev)
			event_free(ct->waiter_ev);
		ct->waiter_ev = NULL;
		close(sv[0]);
		kill(pid, SIGKILL);
		return -1;
	}
	return 0;
}

// Marks the container failed for good with reason.
static void container_fail(struct pv_container *ct, const char *reason)
{
	pv_log(ERROR, "container %s: %s", ct->p->name, reason);
	ct->p->status = PLAT_FAILED;
	ct->p->pid = 0;
	set_text(ct, &ct->p->error, reason);
}

// Forks the monitor of ct. Failures are recorded on the platform.
static void container_start(struct pv_container *ct)
{
	pid_t parent = getpid(), pid;
	char msg[256];
	int log_fd;

	if (ct->cfg_error) {
		container_fail(ct, ct->cfg_error);
		return;
	}
	log_fd = open(ct->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		      0640);
	if (log_fd == -1) {
		snprintf(msg, sizeof(msg), "cannot open log %s: %s",
			 ct->log_path, strerror(errno));
		container_fail(ct, msg);
		return;
	}
	if (unlink(ct->result_path) == -1 && errno != ENOENT)
		pv_log(WARN, "container %s: %s: %s", ct->p->name,
		       ct->result_path, strerror(errno));
	pid = fork();
	if (pid == -1) {
		snprintf(msg, sizeof(msg), "fork: %s", strerror(errno));
		close(log_fd);
		container_fail(ct, msg);
		return;
	}
	if (pid == 0)
		monitor_main(ct, parent, log_fd);
	close(log_fd);
	ct->monitor = pid;
	ct->killed = 0;
	ct->timed_out = 0;
	ct->p->status = PLAT_STARTING;
	ct->p->pid = 0;
	pv_log(INFO, "container %s: starting (monitor pid %d)", ct->p->name,
	       pid);
	if (start_waiter(ct) == -1)
		start_timed_out(ct);
}

// SIGKILL to the container's init, or to its monitor while the init is
// not known yet.
static void kill_now(struct pv_container *ct)
{
	if (ct->monitor <= 0)
		return;
	if (ct->pidfd >= 0)
		pidfd_signal(ct->pidfd, SIGKILL);
	else
		kill(ct->monitor, SIGKILL);
}

// A container stopped through pv-ctrl outlived its grace: SIGKILL.
static void stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pv_container *ct = arg;

	(void)fd;
	(void)what;
	if (ct->monitor <= 0)
		return;
	pv_log(WARN,
	       "container %s: still running %d ms after SIGTERM; "
	       "sending SIGKILL",
	       ct->p->name, STOP_GRACE_MS);
	kill_now(ct);
}

struct pv_containers *pv_containers_new(struct event_base *base,
					struct pv_state *s, const char *run_dir)
{
	struct pv_containers *cs;
	struct pv_container *ct;
	struct pv_platform *p;
	char err[512], dir[4096];
	int i = 0;

	cs = calloc(1, sizeof(*cs));
	if (!cs)
		goto out_oom;
	cs->base = base;
	cs->state = s;
	cs->n = dl_list_len(&s->platforms);
	cs->run_dir = strdup(run_dir);
	if (asprintf(&cs->lxcpath, "%s/lxc", run_dir) < 0)
		cs->lxcpath = NULL;
	cs->cts = calloc(cs->n ? cs->n : 1, sizeof(*cs->cts));
	if (!cs->run_dir || !cs->lxcpath || !cs->cts)
		goto out_oom;
	if (mkdir(cs->lxcpath, 0700) == -1 && errno != EEXIST) {
		pv_log(ERROR, "cannot create %s: %s", cs->lxcpath,
		       strerror(errno));
		goto out_free;
	}
	dl_list_for_each (p, &s->platforms, struct pv_platform, list) {
		ct = &cs->cts[i];
		ct->set = cs;
		ct->p = p;
		ct->index = i++;
		ct->pidfd = -1;
		ct->backoff_ms = BACKOFF_MIN_MS;
		if (!strcmp(p->name, ".") || !strcmp(p->name, "..") ||
		    strchr(p->name, '/')) {
			pv_log(ERROR,
			       "container name '%s' cannot be a file "
			       "name",
			       p->name);
			goto out_free;
		}
		// One at a time: a failed asprintf leaves its pointer
		// undefined, and the one before it is freed with the set.
		if (asprintf(&ct->log_path, "%s/%s.log", run_dir, p->name) <
		    0) {
			ct->log_path = NULL;
			goto out_oom;
		}
		if (asprintf(&ct->lxc_log_path, "%s/%s.lxc.log", run_dir,
			     p->name) < 0) {
			ct->lxc_log_path = NULL;
			goto out_oom;
		}
		if (asprintf(&ct->result_path, "%s/%s/start-result",
			     cs->lxcpath, p->name) < 0) {
			ct->result_path = NULL;
			goto out_oom;
		}
		snprintf(dir, sizeof(dir), "%s/%s", cs->lxcpath, p->name);
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			pv_log(ERROR, "cannot create %s: %s", dir,
			       strerror(errno));
			goto out_free;
		}
		ct->lxc = lxc_container_new(p->name, cs->lxcpath);
		ct->restart_timer = evtimer_new(base, restart_cb, ct);
		ct->stop_timer = evtimer_new(base, stop_timer_cb, ct);
		if (!ct->lxc || !ct->restart_timer || !ct->stop_timer)
			goto out_oom;
		remove_stale_cgroups(p->name);
		if (cfg_build(ct, err, sizeof(err)) == -1 ||
		    cfg_apply(ct, ct->lxc, err, sizeof(err)) == -1) {
			// Reported in /containers; the others still run.
			ct->cfg_error = strdup(err);
			if (!ct->cfg_error)
				goto out_oom;
		}
	}
	return cs;
out_oom:
	pv_log(ERROR, "containers: out of memory");
out_free:
	pv_containers_free(cs);
	return NULL;
}

void pv_containers_free(struct pv_containers *cs)
{
	struct pv_container *ct;
	int i, j;

	if (!cs)
		return;
	for (i = 0; cs->cts && i < cs->n; i++) {
		ct = &cs->cts[i];
		if (ct->lxc)
			lxc_container_put(ct->lxc);
		if (ct->waiter_ev) {
			close(event_get_fd(ct->waiter_ev));
			event_free(ct->waiter_ev);
		}
		if (ct->waiter > 0)
			kill(ct->waiter, SIGKILL);
		if (ct->restart_timer)
			event_free(ct->restart_timer);
		if (ct->stop_timer)
			event_free(ct->stop_timer);
		if (ct->pidfd >= 0)
			close(ct->pidfd);
		if (ct->result_path) {
			// The LXC directory holds nothing worth keeping.
			unlink(ct->result_path);
			*strrchr(ct->result_path, '/') = '\0';
			rmdir(ct->result_path);
		}
		free(ct->result_path);
		for (j = 0; j < ct->ncfg; j++) {
			free(ct->cfg[j].key);
			free(ct->cfg[j].value);
		}
		free(ct->cfg);
		free(ct->cfg_error);
		free(ct->log_path);
		free(ct->lxc_log_path);
		free(ct->last_exit);
		free(ct->last_log);
	}
	free(cs->cts);
	if (cs->lxcpath)
		rmdir(cs->lxcpath);
	free(cs->run_dir);
	free(cs->lxcpath);
	free(cs);
}

int pv_containers_start_all(struct pv_containers *cs)
{
	struct pv_container *ct;
	int i, ret = 0;

	for (i = 0; i < cs->n; i++) {
		ct = &cs->cts[i];
		container_start(ct);
		// A system container that cannot even start is as fatal as
		// one that ends.
		if (ct->p->status == PLAT_FAILED &&
		    ct->p->restart_policy == RESTART_SYSTEM) {
			pv_log(ERROR,
			       "container %s (restart_policy system) cannot "
			       "start: the device cannot run without it",
			       ct->p->name);
			ret = PV_CONTAINERS_FATAL;
		}
	}
	return ret;
}

// Describes how the monitor ended; sets *failed for the restart policy.
static void describe_exit(struct pv_container *ct, int status, char *buf,
			  size_t n, int *failed)
{
	struct start_result res;
	char ws[96], *lxc_err;
	ssize_t r = -1;
	int fd;

	fd = open(ct->result_path, O_RDONLY | O_CLOEXEC);
	if (fd != -1) {
		r = read(fd, &res, sizeof(res));
		close(fd);
		unlink(ct->result_path);
	}
	*failed = 1;
	if (r != sizeof(res)) {
		pv_wait_status_str(status, ws, sizeof(ws));
		snprintf(buf, n, "%s%s",
			 ct->timed_out ? "start timed out: monitor "
				       : "lxc monitor ",
			 ws);
	} else if (!res.ok) {
		lxc_err = log_last_line(ct->lxc_log_path, "ERROR");
		snprintf(buf, n, "failed to start%s%s", lxc_err ? ": " : "",
			 lxc_err ? lxc_err : "");
		free(lxc_err);
	} else if (WIFSTOPPED(res.error_num)) {
		// liblxc folds waitid()'s "killed by signal" into the shape
		// of a stop status, (sig << 8) | 0x7f; no init is ever
		// reported stopped, so read it as the signal it is.
		snprintf(buf, n, "killed by signal %d (%s)",
			 WSTOPSIG(res.error_num),
			 strsignal(WSTOPSIG(res.error_num)));
	} else {
		pv_wait_status_str(res.error_num, buf, n);
		*failed = !(WIFEXITED(res.error_num) &&
			    WEXITSTATUS(res.error_num) == 0);
	}
}

// pvd's own policies (no, on-failure, always): restart with a back-off
// from BACKOFF_MIN_MS doubling to BACKOFF_MAX_MS, reset by a stable run.
// Returns 1 with *delay_ms to restart, 0 not to.
static int plan_backoff(struct pv_container *ct, int failed, long ran_ms,
			int *delay_ms)
{
	restart_policy_t r = ct->p->restart_policy;

	if (r != RESTART_ALWAYS && !(r == RESTART_ON_FAILURE && failed))
		return 0;
	if (ran_ms >= STABLE_MS)
		ct->backoff_ms = BACKOFF_MIN_MS;
	*delay_ms = ct->backoff_ms;
	ct->backoff_ms *= 2;
	if (ct->backoff_ms > BACKOFF_MAX_MS)
		ct->backoff_ms = BACKOFF_MAX_MS;
	return 1;
}

// upstream's auto_recovery: retry_delay, then each delay backoff_factor
// times the last, at most max_retries restarts in a row; a run of
// reset_window starts the count again. Returns 1 with *delay_ms to
// restart, 0 not to (policy, exit status, or retries used up).
static int plan_recovery(struct pv_container *ct, int failed, long ran_ms,
			 int *delay_ms)
{
	const struct pv_platform_recovery *r = &ct->p->recovery;
	long long d = r->retry_delay_ms;
	int i;

	if (r->reset_window_ms && ran_ms >= r->reset_window_ms)
		ct->retries = 0;
	if (r->policy == RECOVERY_NO ||
	    (r->policy == RECOVERY_ON_FAILURE && !failed))
		return 0;
	if (r->max_retries && ct->retries >= r->max_retries) {
		pv_log(ERROR,
		       "container %s: auto_recovery gave up after %d "
		       "restarts",
		       ct->p->name, ct->retries);
		return 0;
	}
	for (i = 0; i < ct->retries && d < RECOVERY_MAX_MS; i++)
		d = d * r->backoff_milli / 1000;
	*delay_ms = d < RECOVERY_MAX_MS ? (int)d : RECOVERY_MAX_MS;
	ct->retries++;
	return 1;
}

int pv_containers_child_exited(struct pv_containers *cs, pid_t pid, int status)
{
	struct pv_container *ct = NULL;
	struct timespec now;
	char desc[512];
	int i, failed, restart, delay_ms = 0;
	long ran_ms = 0;

	for (i = 0; i < cs->n && !ct; i++) {
		if (cs->cts[i].waiter == pid) {
			cs->cts[i].waiter = 0;
			return 1;
		}
		if (cs->cts[i].monitor == pid)
			ct = &cs->cts[i];
	}
	if (!ct)
		return 0;

	// A waiter still asking about this start has nothing left to learn.
	if (ct->waiter_ev) {
		close(event_get_fd(ct->waiter_ev));
		event_free(ct->waiter_ev);
		ct->waiter_ev = NULL;
		if (ct->waiter > 0)
			kill(ct->waiter, SIGKILL);
	}
	describe_exit(ct, status, desc, sizeof(desc), &failed);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		remove_stale_cgroups(ct->p->name);
	if (ct->pidfd >= 0) {
		close(ct->pidfd);
		ct->pidfd = -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ran_ms = (now.tv_sec - ct->started.tv_sec) * 1000 +
			 (now.tv_nsec - ct->started.tv_nsec) / 1000000;
	}
	ct->monitor = 0;
	ct->p->pid = 0;
	set_text(ct, &ct->last_exit, desc);
	free(ct->last_log);
	ct->last_log = log_last_line(ct->log_path, NULL);
	if (!ct->last_log)
		ct->last_log = log_last_line(ct->lxc_log_path, NULL);

	if (cs->stopping) {
		pv_log(INFO, "container %s stopped: %s", ct->p->name, desc);
		ct->p->status = PLAT_STOPPED;
		return 1;
	}
	if (ct->stop_requested) {
		// Asked for through pv-ctrl: neither a failure nor a case for
		// auto_recovery.
		evtimer_del(ct->stop_timer);
		ct->stop_requested = 0;
		ct->p->status = PLAT_STOPPED;
		set_text(ct, &ct->p->error, NULL);
		pv_log(INFO, "container %s stopped (pv-ctrl): %s", ct->p->name,
		       desc);
		if (ct->restart_requested) {
			ct->restart_requested = 0;
			ct->retries = 0;
			container_start(ct);
		}
		return 1;
	}
	pv_log(failed ? WARN : INFO, "container %s %s%s%s", ct->p->name, desc,
	       ct->last_log ? "; last log line: " : "",
	       ct->last_log ? ct->last_log : "");
	set_text(ct, &ct->p->error, failed ? desc : NULL);
	restart = ct->p->recovery.set
			  ? plan_recovery(ct, failed, ran_ms, &delay_ms)
			  : plan_backoff(ct, failed, ran_ms, &delay_ms);
	if (!restart) {
		ct->p->status = failed ? PLAT_FAILED : PLAT_STOPPED;
		// upstream reboots the device when a system container
		// ends; pvd's equivalent is to stop everything.
		if (ct->p->restart_policy == RESTART_SYSTEM) {
			ct->p->status = PLAT_FAILED;
			pv_log(ERROR,
			       "container %s (restart_policy system) %s: the "
			       "device cannot run without it",
			       ct->p->name, desc);
			return PV_CONTAINERS_FATAL;
		}
		return 1;
	}
	pv_log(INFO, "container %s: restarting in %d ms%s (lease kept)",
	       ct->p->name, delay_ms,
	       ct->p->recovery.set ? " (auto_recovery)" : "");
	ct->restarts++;
	ct->p->status = PLAT_STARTING;
	if (pv_timer_arm(ct->restart_timer, delay_ms) == -1) {
		// Started again at once rather than never.
		pv_log(ERROR,
		       "container %s: cannot arm the restart timer; restarting "
		       "it now",
		       ct->p->name);
		container_start(ct);
		return 1;
	}
	ct->restart_pending = 1;
	return 1;
}

void pv_containers_stop_all(struct pv_containers *cs)
{
	struct pv_container *ct;
	int i;

	cs->stopping = 1;
	for (i = 0; i < cs->n; i++) {
		ct = &cs->cts[i];
		evtimer_del(ct->stop_timer);
		if (ct->restart_pending) {
			evtimer_del(ct->restart_timer);
			ct->restart_pending = 0;
			ct->p->status = PLAT_STOPPED;
		}
		if (ct->monitor <= 0)
			continue;
		pv_log(INFO, "stopping container %s", ct->p->name);
		if (ct->pidfd >= 0) {
			if (pidfd_signal(ct->pidfd, SIGTERM) == -1 &&
			    errno != ESRCH)
				pv_log(WARN, "container %s: SIGTERM: %s",
				       ct->p->name, strerror(errno));
		}
		// Still starting: SIGTERM follows once init is known.
	}
}

void pv_containers_kill_all(struct pv_containers *cs)
{
	struct pv_container *ct;
	int i;

	for (i = 0; i < cs->n; i++) {
		ct = &cs->cts[i];
		if (ct->monitor <= 0)
			continue;
		pv_log(WARN, "container %s: still running; sending SIGKILL",
		       ct->p->name);
		if (ct->pidfd >= 0 && !ct->killed)
			pidfd_signal(ct->pidfd, SIGKILL);
		else
			kill(ct->monitor, SIGKILL);
		ct->killed = 1;
	}
}

int pv_containers_alive(struct pv_containers *cs)
{
	int i, n = 0;

	for (i = 0; i < cs->n; i++)
		n += cs->cts[i].monitor > 0;
	return n;
}

// Writes thousandths (a delay in ms as seconds, a factor x1000) as a JSON
// number: 5000 -> 5, 1500 -> 1.5, 250 -> 0.25.
static void ser_milli(struct pv_json_ser *js, int v)
{
	char buf[32];
	int n;

	if (v % 1000 == 0) {
		pv_json_ser_int(js, v / 1000);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%d.%03d", v / 1000, v % 1000);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	pv_json_ser_raw(js, buf);
}

// The status pv-ctrl shows: the platform's, or what pvd is doing to it.
static const char *status_of(struct pv_container *ct)
{
	if (ct->restart_pending)
		return "restarting";
	if (ct->stop_requested && ct->monitor > 0)
		return "stopping";
	return pv_platform_status_str(ct->p->status);
}

// upstream's auto_recovery object, with the restarts made in a row.
static void ser_recovery(struct pv_container *ct, struct pv_json_ser *js)
{
	const struct pv_platform_recovery *r = &ct->p->recovery;

	if (!r->set) {
		pv_json_ser_null(js);
		return;
	}
	pv_json_ser_object_begin(js);
	pv_json_ser_key(js, "policy");
	pv_json_ser_string(js, pv_recovery_policy_str(r->policy));
	pv_json_ser_key(js, "max_retries");
	pv_json_ser_int(js, r->max_retries);
	pv_json_ser_key(js, "retry_delay");
	ser_milli(js, r->retry_delay_ms);
	pv_json_ser_key(js, "backoff_factor");
	ser_milli(js, r->backoff_milli);
	pv_json_ser_key(js, "reset_window");
	ser_milli(js, r->reset_window_ms);
	pv_json_ser_key(js, "current_retries");
	pv_json_ser_int(js, ct->retries);
	pv_json_ser_object_end(js);
}

// What the container exports and requires, as upstream lists them.
static void ser_services(struct pv_platform *p, struct pv_json_ser *js)
{
	struct pv_platform_service_require *r;
	struct pv_platform_service_export *e;

	pv_json_ser_key(js, "provides");
	pv_json_ser_array_begin(js);
	dl_list_for_each (e, &p->exports, struct pv_platform_service_export,
			  list) {
		pv_json_ser_object_begin(js);
		pv_json_ser_key(js, "name");
		pv_json_ser_string(js, e->name);
		pv_json_ser_key(js, "type");
		pv_json_ser_string(js, pv_service_type_to_str(e->svc_type));
		if (e->socket) {
			pv_json_ser_key(js, "socket");
			pv_json_ser_string(js, e->socket);
		}
		if (e->port) {
			pv_json_ser_key(js, "port");
			pv_json_ser_int(js, e->port);
		}
		pv_json_ser_object_end(js);
	}
	pv_json_ser_array_end(js);
	pv_json_ser_key(js, "consumes");
	pv_json_ser_array_begin(js);
	dl_list_for_each (r, &p->requires, struct pv_platform_service_require,
			  list) {
		pv_json_ser_object_begin(js);
		pv_json_ser_key(js, "name");
		pv_json_ser_string(js, r->name);
		pv_json_ser_key(js, "type");
		pv_json_ser_string(js, pv_service_type_to_str(r->svc_type));
		pv_json_ser_key(js, "requirement");
		pv_json_ser_string(js, "required");
		pv_json_ser_key(js, "role");
		pv_json_ser_string(js, r->role);
		pv_json_ser_key(js, "target");
		pv_json_ser_string(js, r->target);
		pv_json_ser_object_end(js);
	}
	pv_json_ser_array_end(js);
}

// One container's object of /containers.
static void ser_one(struct pv_container *ct, struct pv_json_ser *js)
{
	struct pv_platform_network_iface *iface;
	static const char *const modes[] = { "none", "host", "pool" };
	struct pv_platform *p = ct->p;
	struct timespec now;
	char **role;
	long up = 0;

	iface = dl_list_first(&p->network.interfaces,
			      struct pv_platform_network_iface, list);
	if (p->status == PLAT_RUNNING && p->pid > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		up = now.tv_sec - ct->started.tv_sec -
		     (now.tv_nsec < ct->started.tv_nsec);
	}
	pv_json_ser_object_begin(js);
	pv_json_ser_key(js, "name");
	pv_json_ser_string(js, p->name);
	pv_json_ser_key(js, "status");
	pv_json_ser_string(js, status_of(ct));
	pv_json_ser_key(js, "pid");
	pv_json_ser_int(js, p->pid);
	pv_json_ser_key(js, "ip");
	pv_json_ser_string(js, p->network.mode == NET_MODE_POOL
				       ? pv_platform_get_address(p)
				       : NULL);
	pv_json_ser_key(js, "pool");
	pv_json_ser_string(js, p->network.mode == NET_MODE_POOL && iface
				       ? iface->pool
				       : NULL);
	pv_json_ser_key(js, "network");
	pv_json_ser_string(js, modes[p->network.mode % 3]);
	pv_json_ser_key(js, "group");
	pv_json_ser_string(js, p->group);
	pv_json_ser_key(js, "status_goal");
	pv_json_ser_string(js, p->status_goal ? p->status_goal : "STARTED");
	pv_json_ser_key(js, "restart_policy");
	pv_json_ser_string(js, pv_restart_policy_str(p->restart_policy));
	pv_json_ser_key(js, "uptime_secs");
	pv_json_ser_int(js, up);
	pv_json_ser_key(js, "auto_recovery");
	ser_recovery(ct, js);
	pv_json_ser_key(js, "roles");
	pv_json_ser_array_begin(js);
	for (role = p->roles; role && *role; role++)
		pv_json_ser_string(js, *role);
	pv_json_ser_array_end(js);
	ser_services(p, js);
	pv_json_ser_key(js, "restarts");
	pv_json_ser_int(js, ct->restarts);
	pv_json_ser_key(js, "log_file");
	pv_json_ser_string(js, ct->log_path);
	if (ct->last_exit) {
		pv_json_ser_key(js, "last_exit");
		pv_json_ser_string(js, ct->last_exit);
	}
	if (p->error) {
		pv_json_ser_key(js, "error");
		pv_json_ser_string(js, p->error);
		pv_json_ser_key(js, "log");
		pv_json_ser_string(js, ct->last_log);
	}
	pv_json_ser_object_end(js);
}

void pv_containers_ser(struct pv_containers *cs, struct pv_json_ser *js)
{
	int i;

	pv_json_ser_array_begin(js);
	for (i = 0; i < cs->n; i++)
		ser_one(&cs->cts[i], js);
	pv_json_ser_array_end(js);
}

// The container called name, or NULL.
static struct pv_container *find(struct pv_containers *cs, const char *name)
{
	int i;

	for (i = 0; i < cs->n; i++)
		if (!strcmp(cs->cts[i].p->name, name))
			return &cs->cts[i];
	return NULL;
}

int pv_containers_ser_one(struct pv_containers *cs, const char *name,
			  struct pv_json_ser *js)
{
	struct pv_container *ct = find(cs, name);

	if (!ct)
		return -1;
	ser_one(ct, js);
	return 0;
}

struct pv_platform *pv_containers_platform(struct pv_containers *cs,
					   const char *name)
{
	struct pv_container *ct = find(cs, name);

	return ct ? ct->p : NULL;
}

// Asks a running (or starting) container to end: SIGTERM now or once its
// init is known, SIGKILL after STOP_GRACE_MS. Without that timer nothing
// would ever send the SIGKILL: then it is sent now.
static void request_stop(struct pv_container *ct)
{
	ct->stop_requested = 1;
	if (pv_timer_arm(ct->stop_timer, STOP_GRACE_MS) == -1) {
		pv_log(ERROR,
		       "container %s: cannot arm the stop timer; sending "
		       "SIGKILL now",
		       ct->p->name);
		kill_now(ct);
		return;
	}
	if (ct->pidfd >= 0 && pidfd_signal(ct->pidfd, SIGTERM) == -1 &&
	    errno != ESRCH)
		pv_log(WARN, "container %s: SIGTERM: %s", ct->p->name,
		       strerror(errno));
}

int pv_containers_control(struct pv_containers *cs, const char *name,
			  const char *action)
{
	struct pv_container *ct = find(cs, name);
	int running;

	if (!ct || cs->stopping)
		return -1;
	running = ct->monitor > 0;
	pv_log(INFO, "pv-ctrl: %s container %s", action, name);
	if (!strcmp(action, "stop") || !strcmp(action, "restart")) {
		// A pending auto_recovery restart is called off.
		if (ct->restart_pending) {
			evtimer_del(ct->restart_timer);
			ct->restart_pending = 0;
			ct->p->status = PLAT_STOPPED;
		}
		ct->restart_requested = !strcmp(action, "restart");
		if (running) {
			request_stop(ct);
			return 0;
		}
		if (!ct->restart_requested)
			return 0;
		ct->restart_requested = 0;
	}
	// start, or restart of a container that is not running.
	if (running) {
		// A stop still under way is called off only by restart.
		return 0;
	}
	ct->retries = 0;
	container_start(ct);
	return 0;
}
