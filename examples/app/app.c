// A small HTTP app to put behind pv-xconnect, like the "Mr. Robot" web
// instances of the HAProxy-over-Unix-sockets setup this project also runs
// (docs/balancing.md): it listens on a Unix socket or a TCP port, answers GET /
// with its instance name and GET /health with 200 (or 500 while switched to
// failing, for tests). One process, one poll loop, no threads.
//
// Environment:
//   USE_UNIX_SOCKET=true  listen on SOCKET_PATH (mode 0666; its directory
//                         is created; the socket is removed on SIGTERM)
//   SOCKET_PATH           e.g. /var/run/mr_robot/mr_robot1.sock
//   APP_PORT              TCP port otherwise (default 8080, all addresses)
//   INSTANCE_NAME         the name GET / answers with (default: hostname)
//
// Requests (HTTP/1.0 and 1.1, one request per connection, parsed by the
// project's HTTP/1.x parser, utils/http1.c: what it refuses is answered
// with its status):
//   GET /              200 "Hello from NAME\n", header X-Instance: NAME
//   GET /health        200 "OK\n", or 500 "FAILING\n" while failing
//   POST /health/fail  switch to failing;  POST /health/ok  back to 200
// Signals: SIGUSR1 switches to failing, SIGUSR2 back; SIGTERM and SIGINT
// exit 0 after removing the socket.

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "utils/http1.h"

#define MAX_CLIENTS 1000
#define REQ_MAX	    8192
#define RESP_MAX    1024
// A client that sends no complete request in this long is dropped; long
// enough for tests that hold idle connections open.
#define CLIENT_TIMEOUT_S 300

struct client {
	int fd;
	time_t since;
	size_t rlen;
	char req[REQ_MAX];
	struct pv_http1_head head; // the request in req
	size_t woff, wlen;	   // the answer, once there is one
	char resp[RESP_MAX];
};

// The whole head must fit in one client's buffer.
static const struct pv_http1_limits app_limits = { .max_head = REQ_MAX };

static volatile sig_atomic_t got_term, got_usr1, got_usr2;
static int failing;
static char instance[256];

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// One line on stderr, prefixed with the instance's name.
static void logf_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "app %s: ", instance);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else
		got_term = 1;
}

// 1 for "true", "1", "yes" (any case).
static int env_true(const char *name)
{
	const char *v = getenv(name);

	return v && (!strcasecmp(v, "true") || !strcmp(v, "1") ||
		     !strcasecmp(v, "yes"));
}

// Creates the directories above path (mode 0755) that do not exist.
static int mkdir_parents(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	if (strlen(path) >= sizeof(dir))
		return -1;
	strcpy(dir, path);
	for (p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

// Listens on the Unix socket path; a stale socket left by a killed
// instance is replaced, any other file is not. Returns the fd or -1.
static int listen_unix(const char *path, ino_t *ino)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		logf_("SOCKET_PATH \"%s\": not an absolute path of at most "
		      "%zu bytes",
		      path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (mkdir_parents(path) == -1) {
		logf_("cannot create the directory of %s: %s", path,
		      strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			logf_("%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		logf_("socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 128) == -1) {
		logf_("listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	// Whoever connects (the proxy, from another container's view of
	// users) may, as that setup's "chmod 0666" of the socket allows.
	if (chmod(path, 0666) == -1)
		logf_("chmod %s: %s (continuing)", path, strerror(errno));
	if (stat(path, &st) == 0)
		*ino = st.st_ino;
	logf_("listening on unix:%s", path);
	return fd;
}

// Listens on TCP port (decimal 1..65535) on every address, IPv6 and IPv4.
static int listen_tcp(const char *port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char *end;
	long p;
	int fd, one = 1, v6 = 1;

	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || !*port || *end || p < 1 || p > 65535) {
		logf_("APP_PORT \"%s\" is not a port (1..65535)", port);
		return -1;
	}
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		// No IPv6 in this network namespace: IPv4 alone.
		v6 = 0;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
	}
	if (fd == -1) {
		logf_("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin6.sin6_port = htons((uint16_t)p);
	sin.sin_port = htons((uint16_t)p);
	if ((v6 ? bind(fd, (struct sockaddr *)&sin6, sizeof(sin6))
		: bind(fd, (struct sockaddr *)&sin, sizeof(sin))) == -1 ||
	    listen(fd, 128) == -1) {
		logf_("listen on port %ld: %s", p, strerror(errno));
		close(fd);
		return -1;
	}
	logf_("listening on port %ld", p);
	return fd;
}

// Fills c's answer.
static void respond(struct client *c, int status, const char *reason,
		    const char *body, int head)
{
	int n;

	n = snprintf(c->resp, sizeof(c->resp),
		     "HTTP/1.0 %d %s\r\n"
		     "Content-Type: text/plain\r\n"
		     "Content-Length: %zu\r\n"
		     "X-Instance: %s\r\n"
		     "Connection: close\r\n\r\n%s",
		     status, reason, strlen(body), instance, head ? "" : body);
	c->wlen = n < 0				 ? 0
		  : (size_t)n >= sizeof(c->resp) ? sizeof(c->resp) - 1
						 : (size_t)n;
	c->woff = 0;
}

// Answers the complete request head in c->req.
static void handle(struct client *c)
{
	const struct pv_http1_head *h = &c->head;
	char method[16], target[512], body[300];
	char *q;
	int head;

	if (h->target_form != PV_HTTP1_ORIGIN ||
	    h->method_len >= sizeof(method) ||
	    h->target_len >= sizeof(target)) {
		respond(c, 400, "Bad Request", "bad request\n", 0);
		return;
	}
	memcpy(method, c->req + h->method_off, h->method_len);
	method[h->method_len] = '\0';
	memcpy(target, c->req + h->target_off, h->target_len);
	target[h->target_len] = '\0';
	q = strchr(target, '?');
	if (q)
		*q = '\0';
	head = !strcmp(method, "HEAD");
	if (!strcmp(target, "/health/fail") || !strcmp(target, "/health/ok")) {
		if (strcmp(method, "POST")) {
			respond(c, 405, "Method Not Allowed", "use POST\n", 0);
			return;
		}
		failing = !strcmp(target, "/health/fail");
		logf_("health switched to %s by request",
		      failing ? "failing" : "ok");
		respond(c, 200, "OK", failing ? "FAILING\n" : "OK\n", 0);
		return;
	}
	if (strcmp(method, "GET") && !head) {
		respond(c, 405, "Method Not Allowed", "use GET\n", 0);
		return;
	}
	if (!strcmp(target, "/health")) {
		if (failing)
			respond(c, 500, "Internal Server Error", "FAILING\n",
				head);
		else
			respond(c, 200, "OK", "OK\n", head);
		return;
	}
	if (!strcmp(target, "/")) {
		snprintf(body, sizeof(body), "Hello from %s\n", instance);
		respond(c, 200, "OK", body, head);
		return;
	}
	respond(c, 404, "Not Found", "not found\n", head);
}

static void client_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
}

// The client is readable: reads until the end of the headers.
static void on_read(struct client *c)
{
	ssize_t n;
	size_t used;
	int r;

	n = read(c->fd, c->req + c->rlen, sizeof(c->req) - c->rlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->rlen += n;
	r = pv_http1_parse(&c->head, c->req + c->head.head_len,
			   c->rlen - c->head.head_len, &used);
	if (r == PV_HTTP1_DONE)
		handle(c);
	else if (r != PV_HTTP1_MORE)
		respond(c, r, pv_http1_reason(r), "bad request\n", 0);
	else if (c->rlen == sizeof(c->req))
		respond(c, 431, pv_http1_reason(431), "request too large\n", 0);
}

// The client is writable: writes the answer, then closes.
static void on_write(struct client *c)
{
	ssize_t n =
		send(c->fd, c->resp + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->woff += n;
	if (c->woff == c->wlen) {
		// The request is answered: no more to read, and a lingering
		// close would only hold the fd.
		shutdown(c->fd, SHUT_WR);
		client_close(c);
	}
}

// Takes the clients waiting on lfd, as many as there is room for.
static void on_accept(int lfd, struct client **clients, int *n)
{
	struct client *c;
	int fd;

	while (*n < MAX_CLIENTS) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;
		c = malloc(sizeof(*c));
		if (!c) {
			logf_("out of memory, client dropped");
			close(fd);
			return;
		}
		c->fd = fd;
		c->rlen = c->wlen = c->woff = 0;
		pv_http1_request_init(&c->head, &app_limits);
		c->since = time(NULL);
		clients[(*n)++] = c;
	}
}

int main(void)
{
	static struct client *clients[MAX_CLIENTS];
	static struct pollfd pfd[MAX_CLIENTS + 1];
	const char *path = getenv("SOCKET_PATH");
	const char *port = getenv("APP_PORT");
	const char *name = getenv("INSTANCE_NAME");
	int use_unix = env_true("USE_UNIX_SOCKET");
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, empty;
	ino_t ino = 0;
	int lfd, n = 0, i, j, rc = 0;
	time_t now;

	if (name && *name)
		snprintf(instance, sizeof(instance), "%s", name);
	else if (gethostname(instance, sizeof(instance) - 1) == -1)
		snprintf(instance, sizeof(instance), "app-%d", (int)getpid());

	// The signals arrive only inside ppoll: no race between the flag
	// check and the wait.
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (use_unix && (!path || !*path)) {
		logf_("USE_UNIX_SOCKET is set but SOCKET_PATH is not");
		return 2;
	}
	lfd = use_unix ? listen_unix(path, &ino)
		       : listen_tcp(port && *port ? port : "8080");
	if (lfd == -1)
		return 1;

	while (!got_term) {
		struct timespec tick = { 1, 0 };

		pfd[0].fd = lfd;
		pfd[0].events = n < MAX_CLIENTS ? POLLIN : 0;
		for (i = 0; i < n; i++) {
			pfd[i + 1].fd = clients[i]->fd;
			pfd[i + 1].events = clients[i]->wlen ? POLLOUT : POLLIN;
		}
		if (ppoll(pfd, n + 1, &tick, &empty) == -1 && errno != EINTR) {
			logf_("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (got_usr1 || got_usr2) {
			failing = got_usr1 && !got_usr2;
			got_usr1 = got_usr2 = 0;
			logf_("health switched to %s by signal",
			      failing ? "failing" : "ok");
		}
		now = time(NULL);
		for (i = 0; i < n; i++) {
			struct client *c = clients[i];
			short re = pfd[i + 1].revents;

			if (re & (POLLIN | POLLHUP | POLLERR) && !c->wlen)
				on_read(c);
			if (c->fd != -1 && c->wlen &&
			    (re & (POLLOUT | POLLERR)))
				on_write(c);
			if (c->fd != -1 && !c->wlen &&
			    now - c->since > CLIENT_TIMEOUT_S)
				client_close(c);
		}
		// Drop the closed clients; the rest keep their order.
		for (i = j = 0; i < n; i++) {
			if (clients[i]->fd == -1)
				free(clients[i]);
			else
				clients[j++] = clients[i];
		}
		n = j;
		if (pfd[0].revents & POLLIN)
			on_accept(lfd, clients, &n);
	}
	for (i = 0; i < n; i++) {
		close(clients[i]->fd);
		free(clients[i]);
	}
	close(lfd);
	if (use_unix) {
		struct stat st;

		// Only our own socket: a newer instance may have replaced it.
		if (stat(path, &st) == 0 && st.st_ino == ino)
			unlink(path);
	}
	logf_("exiting");
	return rc;
}
