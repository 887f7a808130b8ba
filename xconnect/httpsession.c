// HTTP sessions: one client connection on a site, its requests read with
// the shared parser (utils/http1.c), routed by path prefix to a route's
// pool (a pool-only frontend: balancing, health, maxconn, figures as tcp
// links), forwarded over a pooled or new backend connection with the head
// rewritten, bodies streamed both ways with their framing as it came,
// answers in order. pvx_http_session_close is the only way one ends.
//
// Sockets are watched with libevent events, edge-triggered and persistent
// (EV_ET | EV_PERSIST), registered once per fd for reading and writing:
// no epoll_ctl per state change, and one pump (run) that moves whatever
// can move whenever any edge comes, as the tunnel's data path does. A
// read shorter than the room asked for drained the socket (epoll(7)), so
// the next read waits for the next edge rather than costing a recv that
// says EAGAIN; unless the peer's FIN came too (EV_CLOSED, EPOLLRDHUP):
// its end is read only by reading on. The
// plumbing's own epoll set is for byte tunnels only; an upgraded session
// is handed to it (pvx_tunnel_start).
//
// Memory: a session holds buffers (PVX_HTTP_BUF each) only while bytes
// wait in them; an idle keep-alive client holds none. Buffers come from
// a free list per proxy context (no malloc per request once warm).

#define MODULE_NAME "http"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "utils/addr.h"
#include "utils/http1.h"
#include "utils/timer.h"
#include "backend.h"
#include "defs.h"
#include "frontend.h"
#include "graph.h"
#include "httpsession.h"
#include "listener.h"
#include "obj.h"
#include "proxy-t.h"
#include "proxyproto.h"
#include "tunnel.h"

static void run(struct pvx_http_session *s);
static void conn_free(struct pvx_http_conn *c);

// ---- buffers ----

static int buf_get(struct pvx_http_ctx *ctx, struct pvx_hbuf *b)
{
	if (b->data)
		return 0;
	b->off = b->len = 0;
	if (ctx->nfree) {
		b->data = ctx->free_bufs[--ctx->nfree];
		return 0;
	}
	b->data = malloc(PVX_HTTP_BUF);
	return b->data ? 0 : -1;
}

static void buf_put(struct pvx_http_ctx *ctx, struct pvx_hbuf *b)
{
	if (!b->data)
		return;
	if (ctx->nfree < PVX_HTTP_FREE_BUFS)
		ctx->free_bufs[ctx->nfree++] = b->data;
	else
		free(b->data);
	b->data = NULL;
	b->off = b->len = 0;
}

// Gives the buffer back when nothing waits in it.
static void buf_release_empty(struct pvx_http_ctx *ctx, struct pvx_hbuf *b)
{
	if (b->data && b->off == b->len)
		buf_put(ctx, b);
}

// Moves waiting bytes to the front when the room at the end is short.
static void buf_compact(struct pvx_hbuf *b)
{
	if (b->off == b->len) {
		b->off = b->len = 0;
		return;
	}
	if (b->off && PVX_HTTP_BUF - b->len < PVX_HTTP_BUF / 2) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
}

// Reads into b's free room. Returns bytes read, 0 at EOF, -1 with errno
// (EAGAIN: nothing now). A short read when no FIN was seen (hup) means
// the socket is drained: *drained says so, the caller's readable flag
// drops until the socket's next edge.
static ssize_t buf_read(int fd, struct pvx_hbuf *b, int hup, int *drained)
{
	size_t room = PVX_HTTP_BUF - b->len;
	ssize_t n;

	do
		n = recv(fd, b->data + b->len, room, 0);
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		b->len += n;
		*drained = (size_t)n < room && !hup;
	}
	return n;
}

// ---- requests ----

// The parser state for s's next request, from the free list when one is
// there. Returns 0, or -1 (out of memory).
static int txn_get(struct pvx_http_session *s)
{
	struct pvx_http_ctx *ctx = s->ctx;

	if (s->t)
		return 0;
	if (ctx->nfree_txns)
		s->t = ctx->free_txns[--ctx->nfree_txns];
	else
		s->t = malloc(sizeof(*s->t));
	if (!s->t)
		return -1;
	s->t->in = s->t->out = 0;
	s->t->request[0] = '\0';
	pv_http1_request_init(&s->t->h, &s->site->lim);
	return 0;
}

// s is between requests (or ends): its parser state goes back.
static void txn_put(struct pvx_http_session *s)
{
	struct pvx_http_ctx *ctx = s->ctx;

	if (!s->t)
		return;
	if (ctx->nfree_txns < PVX_HTTP_FREE_BUFS)
		ctx->free_txns[ctx->nfree_txns++] = s->t;
	else
		free(s->t);
	s->t = NULL;
}

// ---- routes ----

int pvx_http_prefix_match(const char *prefix, size_t plen, const char *path,
			  size_t len)
{
	if (plen == 1 && prefix[0] == '/')
		return 1;
	if (len < plen || memcmp(path, prefix, plen))
		return 0;
	return len == plen || path[plen] == '/' || path[plen] == '?';
}

struct pvx_http_route *pvx_http_route_find(struct pvx_http_site *site,
					   const char *host, size_t hlen,
					   const char *path, size_t len)
{
	struct pvx_http_route *r;

	(void)host;
	(void)hlen;
	dl_list_for_each (r, &site->routes, struct pvx_http_route, list) {
		if (pvx_http_prefix_match(r->prefix, r->plen, path, len))
			return r;
	}
	return NULL;
}

const char *pvx_http_target_path(const struct pv_http1_head *h,
				 const char *head, size_t *len)
{
	const char *t = head + h->target_off, *p, *end = t + h->target_len;

	if (h->target_form != PV_HTTP1_ABSOLUTE) {
		*len = h->target_len;
		return t;
	}
	p = memchr(t, ':', h->target_len);
	p = p && end - p > 3 ? p + 3 : t;
	while (p < end && *p != '/' && *p != '?')
		p++;
	if (p == end) {
		*len = 1;
		return "/";
	}
	*len = end - p;
	return p;
}

// ---- head rewriting ----

struct out {
	char *p;
	size_t len, n;
	int over;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->over || o->n - o->len < n) {
		o->over = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static int name_is(const struct pv_http1_field *f, const char *name)
{
	return f->name_len == strlen(name) &&
	       !strncasecmp(f->name, name, f->name_len);
}

// Copies the header lines a proxy forwards (none hop-by-hop but the
// Transfer-Encoding, which stays with the body's framing) except those
// named in skip.
static void copy_fields(struct out *o, const struct pv_http1_head *h,
			const char *head, const char *const *skip, int upgrade)
{
	struct pv_http1_field f;
	size_t pos = 0;
	int i, drop;

	while (pv_http1_field_next(h, head, &pos, &f)) {
		drop = !name_is(&f, "transfer-encoding") &&
		       pv_http1_hop_by_hop(h, head, f.name, f.name_len) &&
		       !(upgrade && name_is(&f, "upgrade"));
		for (i = 0; skip && skip[i] && !drop; i++)
			drop = name_is(&f, skip[i]);
		if (drop)
			continue;
		put(o, f.name, f.name_len);
		put(o, ": ", 2);
		put(o, f.value, f.value_len);
		put(o, "\r\n", 2);
	}
}

int pvx_http_build_request(const struct pv_http1_head *h, const char *head,
			   const char *path, size_t plen, const char *client,
			   const char *host_default, int upgrade, char *outp,
			   size_t n)
{
	static const char *const skip[] = { "x-forwarded-for",
					    "x-forwarded-proto",
					    "x-forwarded-host", NULL };
	struct out o = { .p = outp, .n = n };
	struct pv_http1_field f;
	const char *host;
	size_t pos = 0, hlen = 0;
	int nxff = 0;

	put(&o, head + h->method_off, h->method_len);
	put(&o, " ", 1);
	put(&o, path, plen);
	// The client's version: a backend answers an HTTP/1.0 request
	// without chunked coding (RFC 9112 6.1), which that client could
	// not read; Connection: keep-alive below still asks to persist.
	puts_(&o, h->minor ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
	copy_fields(&o, h, head, skip, upgrade);
	host = pv_http1_field_get(h, head, "host", &hlen);
	if (!host && host_default) {
		puts_(&o, "Host: ");
		puts_(&o, host_default);
		puts_(&o, "\r\n");
	}
	// The chain of proxies so far, then this client.
	while (pv_http1_field_next(h, head, &pos, &f)) {
		if (!name_is(&f, "x-forwarded-for") || !f.value_len)
			continue;
		puts_(&o, nxff++ ? ", " : "X-Forwarded-For: ");
		put(&o, f.value, f.value_len);
	}
	if (client) {
		puts_(&o, nxff++ ? ", " : "X-Forwarded-For: ");
		puts_(&o, client);
	}
	if (nxff)
		puts_(&o, "\r\n");
	puts_(&o, "X-Forwarded-Proto: http\r\n");
	if (host) {
		puts_(&o, "X-Forwarded-Host: ");
		put(&o, host, hlen);
		puts_(&o, "\r\n");
	}
	puts_(&o, upgrade ? "Connection: upgrade\r\n\r\n"
			  : "Connection: keep-alive\r\n\r\n");
	return o.over ? -1 : (int)o.len;
}

int pvx_http_build_response(const struct pv_http1_head *rh, const char *head,
			    int keep, int client_minor, char *outp, size_t n)
{
	struct out o = { .p = outp, .n = n };
	char status[8];

	snprintf(status, sizeof(status), "%03d ", rh->status);
	puts_(&o, "HTTP/1.1 ");
	puts_(&o, status);
	put(&o, head + rh->reason_off, rh->reason_len);
	puts_(&o, "\r\n");
	copy_fields(&o, rh, head, NULL, 0);
	if (!keep)
		puts_(&o, "Connection: close\r\n");
	else if (!client_minor)
		puts_(&o, "Connection: keep-alive\r\n");
	puts_(&o, "\r\n");
	return o.over ? -1 : (int)o.len;
}

// ---- timers ----

static void on_timer(evutil_socket_t fd, short what, void *arg);

// The session's wait ends in ms (<= 0: none); past it, status is
// answered (0: the client is closed).
static void deadline_in(struct pvx_http_session *s, int ms, int status)
{
	if (s->timer_on) {
		evtimer_del(&s->ev_timer);
		s->timer_on = 0;
	}
	if (ms <= 0)
		return;
	pvx_now(&s->last);
	s->deadline_status = status;
	if (pv_timer_arm(&s->ev_timer, ms) == 0)
		s->timer_on = 1;
}

// ---- backend connections ----

static void on_conn(evutil_socket_t fd, short what, void *arg);

// Leaves the idle list.
static void conn_unpool(struct pvx_http_conn *c)
{
	if (!c->pooled)
		return;
	dl_list_del(&c->idle);
	evtimer_del(&c->ev_idle);
	c->ctx->nidle--;
	c->pooled = 0;
}

// c serves s's request from now on: a request on its backend.
static void conn_bind(struct pvx_http_conn *c, struct pvx_http_session *s)
{
	c->s = s;
	pvx_backend_request_begin(c->be);
}

// c's request is over (the connection pooled or closed).
static void conn_unbind(struct pvx_http_conn *c)
{
	if (!c->s)
		return;
	c->s = NULL;
	pvx_backend_request_end(c->be);
}

static void conn_free(struct pvx_http_conn *c)
{
	if (!c)
		return;
	conn_unbind(c);
	conn_unpool(c);
	if (c->ev_added)
		event_del(&c->ev);
	if (c->fd != -1)
		close(c->fd);
	pvx_backend_unref(c->be);
	free(c);
}

static void on_idle_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_free(arg);
}

// Keeps c for the next request to its backend (or closes it when the
// pool is full or the backend cannot take requests now).
static void conn_pool(struct pvx_http_conn *c)
{
	struct pvx_http_ctx *ctx = c->ctx;

	conn_unbind(c);
	if (!pvx_backend_usable(c->be) || c->be->removed) {
		conn_free(c);
		return;
	}
	if (ctx->nidle >= PVX_HTTP_IDLE_CONNS)
		conn_free(
			dl_list_first(&ctx->idle, struct pvx_http_conn, idle));
	evtimer_assign(&c->ev_idle, ctx->x->base, on_idle_timer, c);
	if (pv_timer_arm(&c->ev_idle, PVX_HTTP_IDLE_CONN_MS)) {
		conn_free(c);
		return;
	}
	dl_list_add_tail(&ctx->idle, &c->idle);
	ctx->nidle++;
	c->pooled = 1;
}

// A pooled connection to b (the newest), or NULL.
static struct pvx_http_conn *conn_take(struct pvx_http_ctx *ctx,
				       struct pvx_backend *b)
{
	struct pvx_http_conn *c, *n;

	dl_list_for_each_safe (c, n, &ctx->idle, struct pvx_http_conn, idle) {
		if (c->be != b)
			continue;
		conn_unpool(c);
		c->reused = 1;
		return c;
	}
	return NULL;
}

// Drops the pooled connections of every backend that cannot take
// requests any more (removed or down).
static void conns_prune(struct pvx_http_ctx *ctx)
{
	struct pvx_http_conn *c, *n;

	dl_list_for_each_safe (c, n, &ctx->idle, struct pvx_http_conn, idle) {
		if (c->be->removed || !pvx_backend_usable(c->be))
			conn_free(c);
	}
}

// A new connection to b (connect in progress or done). NULL with errno
// or *reason; *again: try again shortly.
static struct pvx_http_conn *conn_new(struct pvx_http_ctx *ctx,
				      struct pvx_backend *b, int *again,
				      const char **reason)
{
	struct pvx_http_conn *c;
	int fd;

	*reason = NULL;
	*again = 0;
	fd = pvx_backend_connect(b, again, reason);
	if (fd == -1)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->ctx = ctx;
	c->be = b;
	pvx_backend_ref(b);
	dl_list_init(&c->idle);
	c->connecting = !b->tp->connects_at_once;
	c->writable = !c->connecting;
	event_assign(&c->ev, ctx->x->base, fd,
		     EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST,
		     on_conn, c);
	if (event_add(&c->ev, NULL)) {
		*reason = "cannot watch the socket";
		conn_free(c);
		return NULL;
	}
	c->ev_added = 1;
	return c;
}

// ---- the session ----

static const char *client_ip(const struct pvx_http_session *s, char *buf,
			     size_t n)
{
	if (s->peer.sa.sa_family != AF_INET && s->peer.sa.sa_family != AF_INET6)
		return NULL;
	if (!pv_addr_format(&s->peer.sa, buf, n))
		return NULL;
	// pv_addr_format writes IP:PORT ([IPv6]:PORT): keep the address.
	{
		char *colon = strrchr(buf, ':');

		if (colon)
			*colon = '\0';
		if (buf[0] == '[') {
			memmove(buf, buf + 1, strlen(buf));
			buf[strlen(buf) - 1] = '\0';
		}
	}
	return buf;
}

// The access log's line for the request under way (nothing when it is
// off): its bytes and time so far.
static void log_request(struct pvx_http_session *s, int status)
{
	char client[PV_ADDR_STRLEN];
	struct timeval now, took;
	long ms = 0;

	if (!s->x->access_log || !s->t)
		return;
	if (s->t->request[0]) {
		pvx_now(&now);
		timersub(&now, &s->t->start, &took);
		ms = took.tv_sec * 1000 + took.tv_usec / 1000;
	}
	pvx_access_log_line(&s->ctx->alog,
			    s->fe ? s->fe->label : s->site->addr_str,
			    client_ip(s, client, sizeof(client)) ?: "-",
			    s->t->request[0] ? s->t->request : "-", status,
			    s->t->in, s->t->out, ms);
}

// The request is over (answered, or the session ends): the route's
// counts and the backend connection (kept with the session for the next
// request when reusable, else closed).
static void request_end(struct pvx_http_session *s, int conn_ok)
{
	struct pvx_http_conn *c = s->bc;
	uint64_t in = s->t ? s->t->in : 0, out = s->t ? s->t->out : 0;

	if (s->t)
		s->t->in = s->t->out = 0;
	if (c) {
		s->bc = NULL;
		pvx_backend_count_bytes(c->be, in, out);
		if (conn_ok)
			conn_pool(c);
		else
			conn_free(c);
	}
	if (s->fe) {
		pvx_frontend_session_end(s->fe, in, out);
		pvx_frontend_unref(s->fe);
		s->fe = NULL;
	}
}

void pvx_http_session_close(struct pvx_http_session *s, const char *why)
{
	struct pvx *x;
	char peer[PV_ADDR_STRLEN];

	PVX_CHECK_OBJ_NOTNULL(s, PVX_HTTP_SESSION_MAGIC);
	x = s->x;
	if (x->verbose)
		pv_log(DEBUG, "http %s: %s: %s after %u request(s)",
		       s->site->addr_str,
		       client_ip(s, peer, sizeof(peer)) ?: "client", why,
		       s->nreq);
	request_end(s, 0);
	if (s->timer_on)
		evtimer_del(&s->ev_timer);
	if (s->cfd != -1) {
		event_del(&s->ev_c);
		close(s->cfd);
	}
	if (s->tun) {
		pvx_tunnel_fini(s->tun);
		free(s->tun);
	}
	buf_put(s->ctx, &s->rq);
	buf_put(s->ctx, &s->rs);
	buf_put(s->ctx, &s->ob);
	txn_put(s);
	dl_list_del(&s->list);
	x->nsessions--;
	if (x->maxconn && x->nsessions + 1 >= x->maxconn)
		pvx_frontend_resume_all(x);
	if (x->nsessions <= x->maxconn / 2)
		x->cap_logged = 0;
	pvx_listener_resume(&s->site->listener);
	pvx_http_site_unref(s->site);
	s->magic = 0;
	free(s);
}

static void next_request(struct pvx_http_session *s);

// Whether the client's connection may carry another request after our
// own answer with this status, as HAProxy and nginx keep it: the request
// was valid, routed, without a body (so the stream is at the next
// request) and asked for keep-alive, and the status says nothing about
// the connection (no route, not allowed, no backend, backend timeout).
static int keeps_after(const struct pvx_http_session *s, int status)
{
	if (!s->t || !s->head_ok || s->resp_sent || s->closing ||
	    s->site->closed || !s->t->h.keep_alive ||
	    s->t->h.framing != PV_HTTP1_BODY_NONE)
		return 0;
	return status == 403 || status == 404 || status == 502 ||
	       status == 503 || status == 504;
}

// Our own answer (an error). Only before any byte of the backend's answer
// went to the client; else the client is just closed. Then the next
// request (keeps_after) or the close.
static void answer(struct pvx_http_session *s, int status, const char *why)
{
	const char *reason = pv_http1_reason(status);
	int n;

	if (s->x->verbose || status >= 500)
		pv_log(status >= 500 ? WARN : DEBUG, "http %s: %d %s: %s",
		       s->fe ? s->fe->label : s->site->addr_str, status, reason,
		       why);
	if (s->fe)
		pvx_frontend_count_http_response(s->fe, status);
	// Mid-answer, the client got the backend's status and a cut answer.
	log_request(s, s->resp_sent && s->t ? s->t->status : status);
	if (s->resp_sent) {
		s->closing = 1;
		return;
	}
	s->keep = keeps_after(s, status);
	request_end(s, 0);
	buf_put(s->ctx, &s->rs);
	if (buf_get(s->ctx, &s->ob)) {
		s->closing = 1;
		return;
	}
	if (s->keep && !s->head_gone) {
		s->rq.off += s->t->h.head_len;
		s->head_gone = 1;
	}
	// An answer to HEAD has no body, its length all the same.
	n = snprintf(s->ob.data, PVX_HTTP_BUF,
		     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		     "Content-Length: %zu\r\nConnection: %s\r\n\r\n%s%s",
		     status, reason, strlen(reason) + 1,
		     s->keep ? "keep-alive" : "close",
		     s->keep && s->is_head ? "" : reason,
		     s->keep && s->is_head ? "" : "\n");
	s->ob.off = 0;
	s->ob.len = n;
	s->ob_resp = 1;
	s->st = PVX_HS_ERROR;
	deadline_in(s, PVX_HTTP_LINGER_MS * 5, 0);
}

// Writes ob, then the body bytes ready in b, to fd. Returns 0 (all or
// what fit), -1 on a write error.
static int send_out(struct pvx_http_session *s, int fd, struct pvx_hbuf *ob,
		    struct pvx_hbuf *b, uint32_t *ready, uint64_t *count,
		    unsigned *writable)
{
	struct iovec iov[2];
	int n = 0;
	ssize_t w;
	size_t hl;

	while (*writable) {
		n = 0;
		hl = ob && ob->data ? ob->len - ob->off : 0;
		if (hl) {
			iov[n].iov_base = ob->data + ob->off;
			iov[n++].iov_len = hl;
		}
		if (b && *ready) {
			iov[n].iov_base = b->data + b->off;
			iov[n++].iov_len = *ready;
		}
		if (!n)
			return 0;
		do
			w = writev(fd, iov, n);
		while (w == -1 && errno == EINTR);
		if (w == -1) {
			if (errno == EAGAIN) {
				*writable = 0;
				return 0;
			}
			return -1;
		}
		pvx_now(&s->last);
		if ((size_t)w >= hl) {
			if (hl)
				ob->off = ob->len;
			w -= hl;
			if (!b)
				continue;
			b->off += w;
			*ready -= w;
			*count += w;
			// Keep the bytes of a next message at the start.
			if (b->off == b->len)
				b->off = b->len = 0;
		} else {
			ob->off += w;
		}
	}
	return 0;
}

// send(2) with MSG_NOSIGNAL semantics through writev: SIGPIPE is ignored
// process-wide (pvx_init).

static void start_request(struct pvx_http_session *s);
static void try_backend(struct pvx_http_session *s);
static int build_request(struct pvx_http_session *s);

// The request head is complete: checks, route, then a backend.
static void start_request(struct pvx_http_session *s)
{
	struct pvx_http_route *r;
	const char *head = s->rq.data + s->rq.off, *path, *host;
	size_t plen, hlen = 0;

	s->nreq++;
	s->req_done = s->resp_head = s->resp_done = s->resp_sent = 0;
	s->retried = s->upgrade = 0;
	s->t->attempts = 0;
	s->t->status = 0;
	memset(&s->t->tried, 0, sizeof(s->t->tried));
	if (s->x->access_log) {
		pvx_access_log_request(s->t->request, head + s->t->h.method_off,
				       s->t->h.method_len,
				       head + s->t->h.target_off,
				       s->t->h.target_len, s->t->h.minor);
		pvx_now(&s->t->start);
	}
	s->is_head = s->t->h.method_len == 4 &&
		     !memcmp(head + s->t->h.method_off, "HEAD", 4);
	if (s->t->h.minor == 1 && !s->t->h.has_host) {
		answer(s, 400, "HTTP/1.1 request without Host");
		return;
	}
	if (s->t->h.target_form == PV_HTTP1_AUTHORITY) {
		answer(s, 501, "CONNECT is not supported");
		return;
	}
	s->head_ok = 1;
	path = s->t->h.target_form == PV_HTTP1_ASTERISK
		       ? "/"
		       : pvx_http_target_path(&s->t->h, head, &plen);
	if (s->t->h.target_form == PV_HTTP1_ASTERISK)
		plen = 1;
	host = pv_http1_field_get(&s->t->h, head, "host", &hlen);
	r = pvx_http_route_find(s->site, host, hlen, path, plen);
	if (!r) {
		s->site->unrouted++;
		answer(s, 404, "no route");
		return;
	}
	pvx_frontend_ref(r->fe);
	s->fe = r->fe;
	pvx_frontend_count_http_request(s->fe);
	if (s->fe->nallow &&
	    !pvx_cidr_match(s->fe->allow, s->fe->nallow, &s->peer.sa)) {
		s->fe->stats.denied++;
		answer(s, 403, "client not allowed");
		return;
	}
	if (s->fe->maxconn &&
	    s->fe->stats.sessions_now >= (uint32_t)s->fe->maxconn) {
		pvx_frontend_unref(s->fe);
		s->fe = NULL;
		s->t->status = 503;
		pvx_frontend_count_http_response(r->fe, 503);
		answer(s, 503, "maxconn reached");
		return;
	}
	pvx_frontend_session_begin(s->fe);
	s->t->response_ms = r->response_ms;
	s->t->idle_ms = r->idle_ms;
	s->upgrade = s->t->h.upgrade;
	pv_http1_body_init(&s->t->rb, &s->t->h);
	s->t->rq_ready = 0;
	// The stripped target, kept in ob's future place: built per attempt
	// (a new connection may need a PROXY header first).
	if (r->plen > 1 && s->t->h.target_form != PV_HTTP1_ASTERISK) {
		s->t->h.target_off = (path - head) + r->plen;
		s->t->h.target_len = plen - r->plen;
	} else {
		s->t->h.target_off = path - head;
		s->t->h.target_len = plen;
	}
	s->t->h.target_form = PV_HTTP1_ORIGIN;
	if (build_request(s)) {
		answer(s, 431, "the rewritten head does not fit");
		return;
	}
	s->rq.off += s->t->h.head_len;
	s->head_gone = 1;
	try_backend(s);
}

// Room kept before the rewritten head in ob for a PROXY header.
#define PROXY_ROOM 128

// Builds the rewritten head in ob, after PROXY_ROOM (ob_hs..ob_he), kept
// there until the answer starts (a retry sends it again).
static int build_request(struct pvx_http_session *s)
{
	const char *head = s->rq.data + s->rq.off;
	const char *t = head + s->t->h.target_off;
	size_t tl = s->t->h.target_len;
	char ip[PV_ADDR_STRLEN], *tmp = NULL;
	int n;

	if (buf_get(s->ctx, &s->ob))
		return -1;
	// An empty path, or one that starts with the query, gets its "/".
	if (!tl || t[0] == '?') {
		tmp = malloc(tl + 1);
		if (!tmp)
			return -1;
		tmp[0] = '/';
		memcpy(tmp + 1, t, tl);
		t = tmp;
		tl++;
	}
	n = pvx_http_build_request(
		&s->t->h, head, t, tl, client_ip(s, ip, sizeof(ip)),
		s->site->addr_str, s->upgrade, s->ob.data + PROXY_ROOM,
		PVX_HTTP_BUF - PROXY_ROOM);
	free(tmp);
	if (n < 0)
		return -1;
	s->t->ob_hs = PROXY_ROOM;
	s->t->ob_he = PROXY_ROOM + n;
	s->ob.off = s->ob.len = s->t->ob_he;
	s->ob_resp = 0;
	return 0;
}

// The connection to the backend is up (or reused): send the request.
static void conn_ready(struct pvx_http_session *s)
{
	pvx_backend_connected(s->bc->be, 1);
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	char hdr[PROXY_ROOM];
	int n;

	pvx_frontend_session_through(s->fe, s->bc->be->label);
	s->ob.off = s->t->ob_hs;
	s->ob.len = s->t->ob_he;
	s->ob_resp = 0;
	// A new connection tells who the client is first, when asked.
	if (s->fe->proxy_protocol && !s->bc->reused &&
	    getsockname(s->cfd, (struct sockaddr *)&local, &llen) == 0) {
		n = pvx_proxy_header(s->fe->proxy_protocol, &s->peer.sa,
				     (struct sockaddr *)&local, hdr,
				     sizeof(hdr));
		if (n > 0) {
			s->ob.off -= n;
			memcpy(s->ob.data + s->ob.off, hdr, n);
		}
	}
	pv_http1_response_init(&s->t->rh, NULL, s->is_head);
	buf_release_empty(s->ctx, &s->rs);
	s->st = PVX_HS_FORWARD;
	deadline_in(s, s->t->response_ms, 504);
	run(s);
}

// The attempt on s->bc failed (connect refused, timed out): another
// backend, as tcp sessions do.
static void attempt_failed(struct pvx_http_session *s, int err,
			   const char *reason)
{
	struct pvx_http_conn *c = s->bc;
	struct pvx_backend *b = c->be;
	char to[PV_ADDR_STRLEN + 256];

	pv_log(WARN, "link %s: connect to %s failed: %s", b->label,
	       pvx_backend_describe(b, to, sizeof(to)),
	       reason ? reason : strerror(err));
	pvx_backend_count_connect_error(b);
	pvx_frontend_count_connect_error(s->fe);
	pvx_backend_connected(b, 0);
	pvx_frontend_tried_mark(s->fe, &s->t->tried, b);
	s->bc = NULL;
	conn_free(c);
	try_backend(s);
}

// Picks a backend not tried yet and a connection to it.
static void try_backend(struct pvx_http_session *s)
{
	unsigned int pool = pvx_frontend_pool_size(s->fe);
	struct pvx_backend *b;
	const char *reason;
	int again;

	if (s->t->attempts >= (int)(pool ? pool : 1)) {
		answer(s, 502, "no backend could be reached");
		return;
	}
	b = pvx_frontend_pick(s->fe, &s->peer.sa, &s->t->tried);
	if (!b) {
		pvx_frontend_no_backend(s->fe);
		answer(s, s->t->attempts ? 502 : 503, "no usable backend");
		return;
	}
	if (s->t->attempts > 0) {
		pvx_backend_count_retry(b);
		pvx_frontend_count_retry(s->fe);
	}
	s->t->attempts++;
	s->bc = conn_take(s->ctx, b);
	if (!s->bc) {
		s->bc = conn_new(s->ctx, b, &again, &reason);
		if (!s->bc) {
			struct pvx_http_conn dummy = { .be = b, .fd = -1 };

			// Counted and logged as a failed attempt.
			pvx_backend_ref(b);
			s->bc = calloc(1, sizeof(*s->bc));
			if (!s->bc) {
				pvx_backend_unref(b);
				answer(s, 502, "out of memory");
				return;
			}
			*s->bc = dummy;
			dl_list_init(&s->bc->idle);
			attempt_failed(s, again ? EAGAIN : errno, reason);
			return;
		}
	}
	conn_bind(s->bc, s);
	if (s->bc->connecting) {
		s->st = PVX_HS_CONNECT;
		deadline_in(s, b->connect_ms, -1);
		return;
	}
	conn_ready(s);
}

// The answer is complete and written: the next request, or the close.
static void answer_done(struct pvx_http_session *s)
{
	int conn_ok = s->t->rh.keep_alive && s->req_done &&
		      s->rs.off == s->rs.len && !s->closing;

	log_request(s, s->t->status);
	request_end(s, conn_ok);
	next_request(s);
}

// The request is over, its answer written: the next one, or the close.
static void next_request(struct pvx_http_session *s)
{
	s->head_ok = s->head_gone = 0;
	buf_put(s->ctx, &s->rs);
	buf_release_empty(s->ctx, &s->ob);
	if (!s->keep) {
		shutdown(s->cfd, SHUT_WR);
		s->st = PVX_HS_LINGER;
		deadline_in(s, PVX_HTTP_LINGER_MS, 0);
		return;
	}
	s->st = PVX_HS_HEAD;
	buf_release_empty(s->ctx, &s->rq);
	// A pipelined request already waits: parsed with the same state;
	// else an idle client holds none.
	if (s->rq.data) {
		s->t->request[0] = '\0';
		pv_http1_request_init(&s->t->h, &s->site->lim);
	} else
		txn_put(s);
	deadline_in(s, s->rq.data ? s->site->head_ms : s->site->idle_ms,
		    s->rq.data ? 408 : 0);
}

// Reads and parses a request head. Returns 1 when something moved.
static int step_head(struct pvx_http_session *s)
{
	size_t used;
	ssize_t n;
	int drained = 0;
	int rc, was_empty;

	if (s->rq.data && s->rq.off) {
		memmove(s->rq.data, s->rq.data + s->rq.off,
			s->rq.len - s->rq.off);
		s->rq.len -= s->rq.off;
		s->rq.off = 0;
	}
	for (;;) {
		if (s->rq.data && s->rq.len && txn_get(s)) {
			pvx_http_session_close(s, "out of memory");
			return -1;
		}
		if (s->rq.data && s->rq.len > s->t->h.head_len) {
			rc = pv_http1_parse(
				&s->t->h, s->rq.data + s->t->h.head_len,
				s->rq.len - s->t->h.head_len, &used);
			if (rc == PV_HTTP1_DONE) {
				s->rq.off = 0;
				start_request(s);
				return 1;
			}
			if (rc != PV_HTTP1_MORE) {
				answer(s, rc, s->t->h.error);
				return 1;
			}
		}
		if (!s->c_readable)
			return 0;
		was_empty = !s->rq.data;
		if (buf_get(s->ctx, &s->rq)) {
			pvx_http_session_close(s, "out of memory");
			return -1;
		}
		if (s->rq.len == PVX_HTTP_BUF) {
			answer(s, 431, "head too large");
			return 1;
		}
		n = buf_read(s->cfd, &s->rq, s->c_hup, &drained);
		if (n > 0 && drained)
			s->c_readable = 0;
		if (n == -1 && errno == EAGAIN) {
			s->c_readable = 0;
			if (was_empty)
				buf_put(s->ctx, &s->rq);
			return 0;
		}
		if (n <= 0) {
			pvx_http_session_close(s, n ? strerror(errno)
						    : "client closed");
			return -1;
		}
		if (was_empty)
			deadline_in(s, s->site->head_ms, 408);
	}
}

// The answer's head is complete in rs: interim ones go as they are, a 101
// starts the tunnel, a final one goes rewritten.
static int answer_head(struct pvx_http_session *s)
{
	const char *head = s->rs.data + s->rs.off;
	int n;

	if (s->t->rh.head_len > PVX_HTTP_BUF) {
		answer(s, 502, "the answer's head is too large");
		return -1;
	}
	if (s->t->rh.interim || (s->t->rh.status == 101 && s->upgrade)) {
		memcpy(s->ob.data, head, s->t->rh.head_len);
		s->ob.off = 0;
		s->ob.len = s->t->rh.head_len;
		s->ob_resp = 1;
		s->rs.off += s->t->rh.head_len;
		s->resp_sent = 1;
		if (s->t->rh.status == 101) {
			s->t->status = 101;
			pvx_frontend_count_http_response(s->fe, 101);
			log_request(s, 101);
			s->st = PVX_HS_UPGRADE;
			deadline_in(s, 0, 0);
			return 0;
		}
		pv_http1_response_init(&s->t->rh, NULL, s->is_head);
		return 0;
	}
	if (s->t->rh.status == 101) {
		answer(s, 502, "101 to a request that offered no upgrade");
		return -1;
	}
	s->keep = s->t->h.keep_alive && s->req_done &&
		  s->t->rh.framing != PV_HTTP1_BODY_CLOSE && !s->site->closed &&
		  !s->closing;
	n = pvx_http_build_response(&s->t->rh, head, s->keep, s->t->h.minor,
				    s->ob.data, PVX_HTTP_BUF);
	if (n < 0) {
		answer(s, 502, "the answer's head does not fit");
		return -1;
	}
	s->ob.off = 0;
	s->ob.len = n;
	s->ob_resp = 1;
	s->rs.off += s->t->rh.head_len;
	s->resp_head = 1;
	s->resp_sent = 1;
	s->t->status = s->t->rh.status;
	pvx_frontend_count_http_response(s->fe, s->t->status);
	pv_http1_body_init(&s->t->sb, &s->t->rh);
	s->t->rs_ready = 0;
	if (s->t->sb.framing == PV_HTTP1_BODY_NONE)
		s->resp_done = 1;
	deadline_in(s, s->t->idle_ms, 0);
	return 0;
}

// Checks body bytes of b from its off + *ready on. Returns 0, 1 when the
// body ended, or an error status.
static int check_body(struct pv_http1_body *pb, struct pvx_hbuf *b,
		      uint32_t *ready)
{
	size_t used, doff, dlen;
	uint32_t at;
	int rc;

	if (pb->framing == PV_HTTP1_BODY_NONE)
		return 1;
	for (;;) {
		at = b->off + *ready;
		if (at >= b->len)
			return 0;
		rc = pv_http1_body_parse(pb, b->data + at, b->len - at, &used,
					 &doff, &dlen);
		*ready += used;
		if (rc == PV_HTTP1_DONE)
			return 1;
		if (rc != PV_HTTP1_MORE)
			return rc;
		if (!used)
			return 0;
	}
}

// The reused connection failed before any byte of the answer: once on a
// new connection when the request can be sent again (no body).
static int retry_fresh(struct pvx_http_session *s)
{
	struct pvx_backend *b = s->bc->be;
	struct pvx_http_conn *c;
	const char *reason;
	int again;

	if (!s->bc->reused || s->retried || s->rs.len ||
	    s->t->h.framing != PV_HTTP1_BODY_NONE)
		return 0;
	s->retried = 1;
	conn_free(s->bc);
	s->bc = NULL;
	c = conn_new(s->ctx, b, &again, &reason);
	if (!c) {
		answer(s, 502, "reconnect failed");
		return 1;
	}
	s->bc = c;
	conn_bind(c, s);
	if (c->connecting) {
		s->st = PVX_HS_CONNECT;
		deadline_in(s, b->connect_ms, -1);
		return 1;
	}
	conn_ready(s);
	return 1;
}

// The backend failed or closed (err 0: EOF). Returns 1, or -1 when s is
// gone.
static int backend_gone(struct pvx_http_session *s, int err)
{
	if (!s->resp_sent && retry_fresh(s))
		return 1;
	if (!s->resp_head && !s->resp_sent) {
		answer(s, 502,
		       err ? strerror(err)
			   : "the backend closed before answering");
		return 1;
	}
	if (s->resp_head && !s->resp_done &&
	    pv_http1_body_eof(&s->t->sb) == PV_HTTP1_DONE) {
		// Read until close: complete now.
		s->resp_done = 1;
		s->closing = 1;
		return 1;
	}
	// A truncated answer: the client must not take it as whole.
	pvx_http_session_close(s, "the backend closed mid-answer");
	return -1;
}

// Request and answer moving. Returns 1 when something moved, 0 when all
// waits for edges, -1 when s is gone.
static int step_forward(struct pvx_http_session *s)
{
	struct pvx_http_conn *c = s->bc;
	unsigned w;
	uint64_t dummy = 0;
	uint32_t zero = 0;
	int moved = 0, rc;
	ssize_t n;
	int drained = 0;

	// Client to backend: the head, then checked body bytes.
	if (c->writable) {
		uint64_t before = s->t->in + s->ob.off;

		w = c->writable;
		if (send_out(s, c->fd, s->ob_resp ? NULL : &s->ob, &s->rq,
			     &s->t->rq_ready, &s->t->in, &w))
			return backend_gone(s, errno);
		c->writable = w;
		// Room made in rq: the client may be read again.
		if (s->t->in + s->ob.off != before)
			moved = 1;
	}
	if (!s->req_done) {
		uint32_t before = s->t->rq_ready;

		rc = check_body(&s->t->rb, &s->rq, &s->t->rq_ready);
		if (s->t->rq_ready != before)
			moved = 1;
		if (rc == 1) {
			s->req_done = 1;
			moved = 1;
		} else if (rc > 1) {
			answer(s, rc, s->t->rb.error);
			return 1;
		} else if (s->c_readable &&
			   (buf_compact(&s->rq), s->rq.len < PVX_HTTP_BUF)) {
			n = buf_read(s->cfd, &s->rq, s->c_hup, &drained);
			if (n > 0) {
				moved = 1;
				if (drained)
					s->c_readable = 0;
			} else if (n == -1 && errno == EAGAIN) {
				s->c_readable = 0;
			} else {
				pvx_http_session_close(
					s, "client closed mid-request");
				return -1;
			}
		} else if (!s->c_readable && s->rq.off == s->rq.len) {
			buf_compact(&s->rq);
		}
	}
	// Backend to client.
	if (s->rs.data)
		buf_compact(&s->rs);
	if (c->readable && s->rs.len < PVX_HTTP_BUF && !s->resp_done) {
		if (buf_get(s->ctx, &s->rs)) {
			pvx_http_session_close(s, "out of memory");
			return -1;
		}
		n = buf_read(c->fd, &s->rs, c->hup, &drained);
		if (n > 0) {
			moved = 1;
			if (drained)
				c->readable = 0;
		} else if (n == -1 && errno == EAGAIN) {
			c->readable = 0;
		} else {
			return backend_gone(s, n ? errno : 0);
		}
	}
	if (!s->resp_head && s->rs.data && s->rs.len > s->rs.off &&
	    s->ob.off == s->ob.len) {
		size_t used;

		rc = pv_http1_parse(
			&s->t->rh, s->rs.data + s->rs.off + s->t->rh.head_len,
			s->rs.len - s->rs.off - s->t->rh.head_len, &used);
		if (rc == PV_HTTP1_DONE) {
			if (answer_head(s))
				return 1;
			moved = 1;
		} else if (rc != PV_HTTP1_MORE) {
			answer(s, 502, s->t->rh.error);
			return 1;
		} else if (s->rs.len == PVX_HTTP_BUF) {
			answer(s, 502, "the answer's head is too large");
			return 1;
		}
	}
	if (s->resp_head && !s->resp_done) {
		rc = check_body(&s->t->sb, &s->rs, &s->t->rs_ready);
		if (rc == 1)
			s->resp_done = 1;
		else if (rc > 1) {
			s->keep = 0;
			pvx_http_session_close(s, s->t->sb.error);
			return -1;
		}
	}
	if (s->ob_resp && s->c_writable) {
		uint64_t before = s->t->out + s->ob.off;

		w = s->c_writable;
		if (send_out(s, s->cfd, &s->ob, &s->rs,
			     s->resp_head ? &s->t->rs_ready : &zero,
			     s->resp_head ? &s->t->out : &dummy, &w)) {
			pvx_http_session_close(s, strerror(errno));
			return -1;
		}
		s->c_writable = w;
		// Room made in rs: the backend may be read again.
		if (s->t->out + s->ob.off != before)
			moved = 1;
	}
	if (s->st == PVX_HS_UPGRADE)
		return 1;
	if (s->resp_done && s->ob.off == s->ob.len && !s->t->rs_ready &&
	    (s->req_done || !s->keep)) {
		if (!s->req_done)
			s->keep = 0;
		answer_done(s);
		return 1;
	}
	return moved;
}

static void on_tunnel_done(struct pvx_tunnel *t, void *arg)
{
	struct pvx_http_session *s = arg;

	PVX_CHECK_OBJ_NOTNULL(s, PVX_HTTP_SESSION_MAGIC);
	pvx_http_session_close(s, t->idle_expired ? "idle timeout"
						  : "tunnel closed");
}

// After a 101: what waits goes first, then both sockets to the data path.
static int step_upgrade(struct pvx_http_session *s)
{
	struct pvx_http_conn *c = s->bc;
	uint32_t ready;
	unsigned w;
	int cfd, bfd;

	ready = s->rs.data ? s->rs.len - s->rs.off : 0;
	w = s->c_writable;
	if (send_out(s, s->cfd, &s->ob, &s->rs, &ready, &s->t->out, &w)) {
		pvx_http_session_close(s, strerror(errno));
		return -1;
	}
	s->c_writable = w;
	ready = s->rq.data ? s->rq.len - s->rq.off : 0;
	w = c->writable;
	if (send_out(s, c->fd, NULL, &s->rq, &ready, &s->t->in, &w)) {
		pvx_http_session_close(s, strerror(errno));
		return -1;
	}
	c->writable = w;
	if ((s->ob.data && s->ob.off != s->ob.len) ||
	    (s->rs.data && s->rs.off != s->rs.len) ||
	    (s->rq.data && s->rq.off != s->rq.len))
		return 0;
	s->tun = calloc(1, sizeof(*s->tun));
	if (!s->tun) {
		pvx_http_session_close(s, "out of memory");
		return -1;
	}
	event_del(&s->ev_c);
	event_del(&c->ev);
	c->ev_added = 0;
	cfd = s->cfd;
	bfd = c->fd;
	s->cfd = -1;
	c->fd = -1;
	buf_put(s->ctx, &s->rq);
	buf_put(s->ctx, &s->rs);
	buf_put(s->ctx, &s->ob);
	s->st = PVX_HS_TUNNEL;
	if (pvx_tunnel_start(s->tun, s->x, cfd, bfd, s->t->idle_ms,
			     on_tunnel_done, s))
		pvx_http_session_close(s, "cannot start the tunnel");
	return -1;
}

// Moves whatever can move until all waits for an edge. s may be freed.
static void run(struct pvx_http_session *s)
{
	char sink[4096];
	unsigned w;
	uint32_t zero = 0;
	uint64_t dummy = 0;
	ssize_t n;
	int rc;

	if (s->in_pump)
		return;
	s->in_pump = 1;
	for (;;) {
		switch (s->st) {
		case PVX_HS_HEAD:
			rc = step_head(s);
			break;
		case PVX_HS_CONNECT:
			rc = 0;
			break;
		case PVX_HS_FORWARD:
			rc = step_forward(s);
			if (rc >= 0 && s->closing && s->st == PVX_HS_FORWARD &&
			    s->ob.off == s->ob.len && !s->t->rs_ready) {
				pvx_http_session_close(s, "closed");
				rc = -1;
			}
			break;
		case PVX_HS_ERROR:
			w = s->c_writable;
			if (send_out(s, s->cfd, &s->ob, NULL, &zero, &dummy,
				     &w)) {
				pvx_http_session_close(s, strerror(errno));
				rc = -1;
				break;
			}
			s->c_writable = w;
			rc = 0;
			if (s->ob.off == s->ob.len) {
				s->ob_resp = 0;
				next_request(s);
				rc = 1;
			}
			break;
		case PVX_HS_LINGER:
			rc = 0;
			while (s->c_readable) {
				n = recv(s->cfd, sink, sizeof(sink), 0);
				if (n == -1 && errno == EAGAIN) {
					s->c_readable = 0;
				} else if (n <= 0) {
					pvx_http_session_close(s, "done");
					rc = -1;
					break;
				}
			}
			break;
		case PVX_HS_UPGRADE:
			rc = step_upgrade(s);
			break;
		default:
			rc = 0;
			break;
		}
		if (rc < 0)
			return;
		if (!rc)
			break;
	}
	s->in_pump = 0;
}

static void on_client(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_http_session *s = arg;

	PVX_CHECK_OBJ_NOTNULL(s, PVX_HTTP_SESSION_MAGIC);
	(void)fd;
	if (what & EV_CLOSED)
		s->c_hup = 1;
	if (what & (EV_READ | EV_CLOSED))
		s->c_readable = 1;
	if (what & EV_WRITE)
		s->c_writable = 1;
	run(s);
}

static void on_conn(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_http_conn *c = arg;
	struct pvx_http_session *s = c->s;
	socklen_t len = sizeof(int);
	int err = 0;

	if (what & EV_CLOSED)
		c->hup = 1;
	if (what & (EV_READ | EV_CLOSED))
		c->readable = 1;
	if (what & EV_WRITE)
		c->writable = 1;
	if (!s) {
		// Pooled: the backend closed it (or sent what nobody asked);
		// room to write (the last request's bytes acknowledged) is no
		// news.
		if (what & (EV_READ | EV_CLOSED))
			conn_free(c);
		return;
	}
	PVX_CHECK_OBJ_NOTNULL(s, PVX_HTTP_SESSION_MAGIC);
	if (c->connecting) {
		c->connecting = 0;
		if ((c->readable || !c->writable) &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err) {
			attempt_failed(s, err, NULL);
			run(s);
			return;
		}
		conn_ready(s);
		return;
	}
	run(s);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pvx_http_session *s = arg;
	struct timeval now, left;

	PVX_CHECK_OBJ_NOTNULL(s, PVX_HTTP_SESSION_MAGIC);
	(void)fd;
	(void)what;
	s->timer_on = 0;
	pvx_now(&now);
	// In a body, the wait is for a pause of idle_ms, not a total.
	if (s->st == PVX_HS_FORWARD && s->resp_head) {
		timersub(&now, &s->last, &left);
		if (left.tv_sec * 1000 + left.tv_usec / 1000 < s->t->idle_ms) {
			int ms = s->t->idle_ms - (int)(left.tv_sec * 1000 +
						       left.tv_usec / 1000);

			if (pv_timer_arm(&s->ev_timer, ms) == 0)
				s->timer_on = 1;
			return;
		}
		pvx_http_session_close(s, "idle timeout");
		return;
	}
	if (s->st == PVX_HS_CONNECT) {
		attempt_failed(s, ETIMEDOUT, NULL);
		run(s);
		return;
	}
	if (s->deadline_status > 0 && s->st != PVX_HS_ERROR &&
	    s->st != PVX_HS_LINGER) {
		answer(s, s->deadline_status,
		       s->deadline_status == 408 ? "head not complete in time"
						 : "no answer in time");
		run(s);
		return;
	}
	pvx_http_session_close(s, "timeout");
}

int pvx_http_session_start(struct pvx_http_site *site, int cfd,
			   const struct sockaddr *peer, socklen_t peer_len)
{
	struct pvx *x = site->x;
	struct pvx_http_ctx *ctx = x->http;
	struct pvx_http_session *s;

	PVX_CHECK_OBJ_NOTNULL(site, PVX_HTTP_SITE_MAGIC);
	s = calloc(1, sizeof(*s));
	if (!s) {
		pv_log(ERROR, "http %s: session: %s", site->addr_str,
		       strerror(errno));
		close(cfd);
		return -1;
	}
	s->magic = PVX_HTTP_SESSION_MAGIC;
	s->x = x;
	s->ctx = ctx;
	s->site = site;
	pvx_http_site_ref(site);
	s->cfd = cfd;
	if (peer_len <= sizeof(s->peer))
		memcpy(&s->peer, peer, peer_len);
	dl_list_add_tail(&ctx->sessions, &s->list);
	x->nsessions++;
	evtimer_assign(&s->ev_timer, x->base, on_timer, s);
	s->st = PVX_HS_HEAD;
	event_assign(&s->ev_c, x->base, cfd,
		     EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST,
		     on_client, s);
	if (event_add(&s->ev_c, NULL)) {
		s->cfd = -1;
		close(cfd);
		pvx_http_session_close(s, "cannot watch the client");
		return 0;
	}
	deadline_in(s, site->head_ms, 0);
	// Edge-triggered: bytes that came before the watch give an edge.
	return 0;
}

void pvx_http_site_ref(struct pvx_http_site *site)
{
	PVX_CHECK_OBJ_NOTNULL(site, PVX_HTTP_SITE_MAGIC);
	site->refs++;
}

void pvx_http_site_unref(struct pvx_http_site *site)
{
	PVX_CHECK_OBJ_ORNULL(site, PVX_HTTP_SITE_MAGIC);
	if (!site || --site->refs > 0)
		return;
	pvx_listener_stop(&site->listener);
	dl_list_del(&site->list);
	free(site->key);
	free(site->addr_str);
	free(site->lname);
	free(site->lwhere);
	site->magic = 0;
	free(site);
}

int pvx_http_ctx_init(struct pvx *x)
{
	struct pvx_http_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -1;
	ctx->x = x;
	dl_list_init(&ctx->sites);
	dl_list_init(&ctx->sessions);
	dl_list_init(&ctx->idle);
	x->http = ctx;
	return 0;
}

void pvx_http_ctx_fini(struct pvx *x)
{
	struct pvx_http_ctx *ctx = x->http;
	struct pvx_http_session *s, *n;
	struct pvx_http_conn *c, *cn;

	if (!ctx)
		return;
	dl_list_for_each_safe (s, n, &ctx->sessions, struct pvx_http_session,
			       list)
		pvx_http_session_close(s, "exiting");
	dl_list_for_each_safe (c, cn, &ctx->idle, struct pvx_http_conn, idle)
		conn_free(c);
	while (ctx->nfree)
		free(ctx->free_bufs[--ctx->nfree]);
	while (ctx->nfree_txns)
		free(ctx->free_txns[--ctx->nfree_txns]);
	free(ctx);
	x->http = NULL;
}

void pvx_http_conns_prune(struct pvx *x)
{
	if (x->http)
		conns_prune(x->http);
}
