// Backends: one link's way to its provider, a TCP address or a Unix
// socket path reached inside the provider's root, and the connect that
// starts each session.

#define MODULE_NAME "backend"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "utils/addr.h"
#include "utils/timer.h"
#include "backend.h"
#include "datapath.h"
#include "defs.h"
#include "frontend.h"
#include "health.h"
#include "obj.h"
#include "proxy-t.h"
#include "session-t.h"
#include "sock.h"
#include "transport.h"

#define HOST_PROVIDER "_host_"

// Sets the transport and address from b->socket (already validated by
// the graph parser): a path is a Unix socket, anything else an IP one.
static void set_address(struct pvx_backend *b)
{
	b->tp = NULL;
	if (!b->socket[0])
		return;
	if (b->socket[0] == '/') {
		b->tp = &pvx_transport_unix;
		return;
	}
	if (!pv_addr_parse(b->socket, &b->addr, &b->addr_len))
		b->tp = &pvx_transport_tcp;
}

// Lets go of the provider's process and root.
static void provider_close(struct pvx_backend *b)
{
	if (b->pid_fd != -1) {
		event_del(&b->ev_pid);
		close(b->pid_fd);
	}
	if (b->root_fd != -1)
		close(b->root_fd);
	b->pid_fd = -1;
	b->root_fd = -1;
}

// The provider exited: its root (with the mounts that held its sockets)
// is no place to connect to any more, whatever the graph still says.
static void on_provider_exit(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_backend *b = arg;

	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	(void)fd;
	(void)what;
	pv_log(INFO, "link %s: provider %s (pid %d) exited, backend down",
	       b->label, b->provider, b->provider_pid);
	provider_close(b);
	b->provider_gone = 1;
	pvx_health_provider_gone(b);
}

// Holds the provider's process and root. Returns 0, or -1 with errno set
// (ESRCH: it is not running).
static int provider_open(struct pvx_backend *b)
{
	struct pollfd pfd;
	int err;

	b->pid_fd = (int)syscall(SYS_pidfd_open, b->provider_pid, 0);
	if (b->pid_fd == -1 && errno != ENOSYS)
		return -1;
	b->root_fd = pvx_root_open(b->provider_pid);
	if (b->root_fd == -1)
		goto fail;
	if (b->pid_fd == -1) {
		// Before Linux 5.3 (or under valgrind): the root alone, and
		// the provider's exit known only from the graph.
		return 0;
	}
	// The pid may have been reused between the two opens: the root is
	// our provider's only if the process the pidfd names still runs.
	pfd.fd = b->pid_fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 0) {
		errno = ESRCH;
		goto fail;
	}
	event_assign(&b->ev_pid, b->fe->x->base, b->pid_fd, EV_READ,
		     on_provider_exit, b);
	if (event_add(&b->ev_pid, NULL))
		goto fail;
	return 0;
fail:
	err = errno;
	if (b->root_fd != -1)
		close(b->root_fd);
	if (b->pid_fd != -1)
		close(b->pid_fd);
	b->pid_fd = b->root_fd = -1;
	errno = err;
	return -1;
}

const char *pvx_backend_describe(const struct pvx_backend *b, char *buf,
				 size_t n)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	if (!b->tp)
		snprintf(buf, n, "%s:(no address yet)", b->provider);
	else if (b->tp == &pvx_transport_unix && !b->host)
		snprintf(buf, n, "%s:%s", b->provider, b->socket);
	else
		snprintf(buf, n, "%s", b->socket);
	return buf;
}

// Copies the link's backend fields into b. Returns 0 or -1 (memory).
static int apply_link(struct pvx_backend *b, const struct pvx_link *link)
{
	char *provider = strdup(link->provider);
	char *socket = strdup(link->socket);

	if (!provider || !socket) {
		free(provider);
		free(socket);
		return -1;
	}
	free(b->provider);
	free(b->socket);
	b->provider = provider;
	b->socket = socket;
	b->host = !strcmp(provider, HOST_PROVIDER);
	if (b->provider_pid != link->provider_pid) {
		if (b->provider_pid > 0)
			pvx_health_provider_gone(b);
		provider_close(b);
		b->provider_gone = 0;
	}
	b->provider_pid = link->provider_pid;
	b->connect_ms = link->connect_ms > 0 ? link->connect_ms
					     : PVX_CONNECT_MS_DEFAULT;
	b->idle_ms = link->idle_ms < 0 ? PVX_IDLE_MS_DEFAULT : link->idle_ms;
	set_address(b);
	// Held from now on, so that the provider's exit is seen when it
	// happens rather than at the next client.
	if (b->tp == &pvx_transport_unix && !b->host && b->provider_pid > 0 &&
	    b->root_fd == -1 && !b->provider_gone && provider_open(b)) {
		if (errno == ESRCH)
			b->provider_gone = 1;
		else
			pv_log(WARN, "link %s: provider %s (pid %d): %s",
			       b->label, b->provider, b->provider_pid,
			       strerror(errno));
	}
	return 0;
}

// Frees what a backend owns and the backend itself, the magic cleared
// first; the caller has already let go of its frontend and pool place.
static void backend_free(struct pvx_backend *b)
{
	pvx_health_fini(b);
	provider_close(b);
	free(b->label);
	free(b->key);
	free(b->provider);
	free(b->socket);
	b->magic = 0;
	free(b);
}

struct pvx_backend *pvx_backend_new(struct pvx_frontend *fe,
				    const struct pvx_link *link)
{
	struct pvx_backend *b;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	b = calloc(1, sizeof(*b));
	if (!b) {
		pv_log(ERROR, "link %s: %s", link->label, strerror(errno));
		return NULL;
	}
	b->magic = PVX_BACKEND_MAGIC;
	b->refs = 1;
	b->root_fd = -1;
	b->pid_fd = -1;
	b->fe = fe;
	dl_list_init(&b->sessions);
	pvx_health_init(b);
	b->label = strdup(link->label);
	b->key = strdup(link->key);
	if (!b->label || !b->key || apply_link(b, link) ||
	    pvx_health_configure(b, &link->check) ||
	    pvx_frontend_pool_add(fe, b))
		goto out_free;
	pvx_frontend_ref(fe);
	b->in_pool = 1;
	return b;

out_free:
	pv_log(ERROR, "link %s: out of memory", link->label);
	backend_free(b);
	return NULL;
}

int pvx_backend_update(struct pvx_backend *b, const struct pvx_link *link)
{
	char was[PV_ADDR_STRLEN + 256], now[PV_ADDR_STRLEN + 256];
	int changed;

	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	changed = strcmp(b->socket, link->socket) ||
		  strcmp(b->provider, link->provider) ||
		  b->provider_pid != link->provider_pid;
	pvx_backend_describe(b, was, sizeof(was));
	if (apply_link(b, link)) {
		pv_log(ERROR, "link %s: out of memory, update lost", b->label);
		return 0;
	}
	if (pvx_health_configure(b, &link->check))
		pv_log(ERROR, "link %s: out of memory, check not changed",
		       b->label);
	if (changed) {
		pv_log(INFO, "link %s: backend %s (pid %d), was %s", b->label,
		       pvx_backend_describe(b, now, sizeof(now)),
		       b->provider_pid, was);
		// A new address or process: find out now, not at the next
		// interval, whether it serves.
		pvx_health_kick(b);
	}
	return changed;
}

void pvx_backend_ref(struct pvx_backend *b)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	b->refs++;
}

void pvx_backend_unref(struct pvx_backend *b)
{
	struct pvx_frontend *fe;

	PVX_CHECK_OBJ_ORNULL(b, PVX_BACKEND_MAGIC);
	if (!b || --b->refs > 0)
		return;
	if (b->in_pool)
		pvx_frontend_pool_del(b->fe, b);
	if (b->drain_armed)
		event_del(&b->ev_drain);
	fe = b->fe;
	backend_free(b);
	pvx_frontend_unref(fe);
}

// The grace period of a removed link is over: cut what is left.
static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_backend *b = arg;
	struct pvx_session *s, *n;
	int count = 0;

	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	(void)fd;
	(void)what;
	b->drain_armed = 0;
	pvx_backend_ref(b);
	dl_list_for_each_safe (s, n, &b->sessions, struct pvx_session, list) {
		b->fe->x->cut(s, "link removed, grace period over");
		count++;
	}
	if (count)
		pv_log(INFO,
		       "link %s: closed %d session(s) left after the "
		       "grace period",
		       b->label, count);
	pvx_backend_unref(b);
}

void pvx_backend_remove(struct pvx_backend *b, int drain)
{
	struct pvx_frontend *fe;
	unsigned int n;

	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	fe = b->fe;
	n = dl_list_len(&b->sessions);
	if (b->in_pool) {
		pvx_frontend_pool_del(fe, b);
		b->in_pool = 0;
	}
	b->removed = 1;
	pvx_health_fini(b);
	if (n && drain && fe->x->drain_ms <= 0) {
		// No grace period: the sessions end here and now.
		on_drain(-1, 0, b);
	} else if (n && drain) {
		evtimer_assign(&b->ev_drain, fe->x->base, on_drain, b);
		if (pv_timer_arm(&b->ev_drain, fe->x->drain_ms) == 0) {
			b->drain_armed = 1;
			pv_log(INFO,
			       "link %s: %u session(s) draining for %d ms",
			       b->label, n, fe->x->drain_ms);
		} else {
			// No grace period to count: cut them as promised,
			// only sooner.
			pv_log(ERROR,
			       "link %s: cannot arm the drain timer, "
			       "cutting %u session(s) now",
			       b->label, n);
			on_drain(-1, 0, b);
		}
	}
	pvx_frontend_check_empty(fe);
	// Still alive: the caller's (the link's) reference is the one we
	// drop here, on_drain took and dropped its own. The analyzer cannot
	// know that refs was above 0.
	// NOLINTNEXTLINE(clang-analyzer-unix.Malloc)
	pvx_backend_unref(b);
}

// Why b cannot be reached at all (as opposed to found unhealthy), or
// NULL: the health checks themselves connect whenever this says NULL.
static const char *unreachable_reason(const struct pvx_backend *b)
{
	if (b->removed)
		return "link removed";
	if (!b->tp)
		return "no address yet";
	if (b->host)
		return NULL;
	// A container that is not running serves nothing: a path inside it
	// is not the same path on the host, and its address may be leased
	// again to another container.
	if (b->provider_pid <= 0)
		return "provider not running";
	if (b->tp == &pvx_transport_unix && b->provider_gone)
		return "provider exited";
	return NULL;
}

int pvx_backend_reachable(const struct pvx_backend *b)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	return !unreachable_reason(b);
}

const char *pvx_backend_down_reason(const struct pvx_backend *b)
{
	const char *why;

	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	why = unreachable_reason(b);
	return why ? why : pvx_health_down_reason(b);
}

void pvx_backend_connected(struct pvx_backend *b, int ok)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	// Checks whose timer could not be armed try again with the traffic.
	if (b->health.stalled)
		pvx_health_kick(b);
	b->connect_failed = !ok;
	if (ok)
		return;
	pvx_now(&b->failed_at);
	pvx_health_connect_failed(b);
}

int pvx_backend_suspect(const struct pvx_backend *b)
{
	struct timeval now, since;

	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	if (!b->connect_failed)
		return 0;
	pvx_now(&now);
	timersub(&now, &b->failed_at, &since);
	return since.tv_sec * 1000 + since.tv_usec / 1000 < PVX_SUSPECT_MS;
}

int pvx_backend_usable(const struct pvx_backend *b)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	return !pvx_backend_down_reason(b);
}

int pvx_backend_connect(struct pvx_backend *b, int *again, const char **reason)
{
	struct pvx_dest d = { .rootfd = -1 };

	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	*again = 0;
	*reason = unreachable_reason(b);
	if (*reason)
		return -1;
	if (b->tp == &pvx_transport_unix) {
		d.path = b->socket;
		if (!b->host && b->root_fd == -1 && provider_open(b)) {
			if (errno == ESRCH) {
				b->provider_gone = 1;
				*reason = "provider exited";
			}
			return -1;
		}
		if (!b->host)
			d.rootfd = b->root_fd;
	} else {
		d.addr = b->addr;
		d.addr_len = b->addr_len;
	}
	return b->tp->connect(&d, again, reason);
}

void pvx_backend_bytes(const struct pvx_backend *b, uint64_t *in, uint64_t *out)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	pvx_backend_live_bytes(b, in, out);
	*in += b->stats.bytes_in;
	*out += b->stats.bytes_out;
}

void pvx_backend_live_bytes(const struct pvx_backend *b, uint64_t *in,
			    uint64_t *out)
{
	const struct pvx_session *s;
	uint64_t up, down;

	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	*in = *out = 0;
	dl_list_for_each (s, &b->sessions, struct pvx_session, list) {
		pvx_dp_tunnel_bytes(&s->tun, &up, &down);
		*in += up;
		*out += down;
	}
}

const char *pvx_backend_name(const struct pvx_backend *b)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	// A host backend has no container to be named after.
	return strcmp(b->provider, "_host_") ? b->provider : b->socket;
}

uint32_t pvx_backend_load(const struct pvx_backend *b)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	return b->stats.sessions_now;
}

void pvx_backend_session_add(struct pvx_backend *b, struct dl_list *node)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	dl_list_add_tail(&b->sessions, node);
	b->stats.sessions_now++;
	b->stats.sessions_total++;
}

void pvx_backend_request_begin(struct pvx_backend *b)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	b->stats.sessions_now++;
	b->stats.sessions_total++;
}

void pvx_backend_request_end(struct pvx_backend *b)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	b->stats.sessions_now--;
}

void pvx_backend_session_del(struct pvx_backend *b, struct dl_list *node)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	dl_list_del(node);
	b->stats.sessions_now--;
}

void pvx_backend_count_bytes(struct pvx_backend *b, uint64_t in, uint64_t out)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	b->stats.bytes_in += in;
	b->stats.bytes_out += out;
}

void pvx_backend_count_connect_error(struct pvx_backend *b)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	b->stats.connect_errors++;
}

void pvx_backend_count_retry(struct pvx_backend *b)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	b->stats.retries++;
}

void pvx_backend_figures(const struct pvx_backend *b, struct pvx_fig_backend *f)
{
	PVX_CHECK_OBJ_NOTNULL(b, PVX_BACKEND_MAGIC);
	f->key = b->key;
	f->name = pvx_backend_name(b);
	f->provider = b->provider;
	f->socket = b->socket;
	f->provider_pid = b->provider_pid;
	f->down = pvx_backend_down_reason(b);
	f->stats = b->stats;
	pvx_backend_bytes(b, &f->stats.bytes_in, &f->stats.bytes_out);
	pvx_health_figures(b, &f->check);
}
