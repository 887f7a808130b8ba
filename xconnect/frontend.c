// Frontends: one listening socket per ingress rule or consumer target,
// the pool of backends behind it, and the accept loop with its brakes
// (fd exhaustion, maxconn).

#define MODULE_NAME "frontend"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "utils/addr.h"
#include "utils/timer.h"
#include "backend.h"
#include "balance.h"
#include "defs.h"
#include "frontend.h"
#include "graph.h"
#include "listener.h"
#include "obj.h"
#include "proxy-t.h"
#include "transport.h"

// The listener fe is served on: its own, or its site's when pool-only
// (NULL once it left the site).
static struct pvx_listener *fe_listener(const struct pvx_frontend *fe)
{
	return fe->pool_only ? fe->shared
			     : (struct pvx_listener *)&fe->listener;
}

void pvx_frontend_resume(struct pvx_frontend *fe)
{
	struct pvx_listener *l;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	l = fe_listener(fe);
	if (l)
		pvx_listener_resume(l);
}

void pvx_frontend_backoff(struct pvx_frontend *fe, const char *what)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	// Said once until a session gets through again.
	if (!fe->accept_failing)
		pv_log(WARN, "link %s: %s: %s, pausing accepts %d ms at a time",
		       fe->label, what, strerror(errno), fe->listener.pause_ms);
	fe->accept_failing = 1;
	pvx_now(&fe->backoff_last);
	pvx_listener_backoff(&fe->listener);
}

int pvx_frontend_set_allow(struct pvx_frontend *fe,
			   const struct pvx_cidr *allow, int n)
{
	struct pvx_cidr *copy = NULL;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -1;
		memcpy(copy, allow, n * sizeof(*copy));
	}
	free(fe->allow);
	fe->allow = copy;
	fe->nallow = n;
	return 0;
}

static struct pvx_frontend *listener_fe(struct pvx_listener *l)
{
	struct pvx_frontend *fe = l->owner;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	return fe;
}

// The listen step: the frontend's transport, in the consumer's
// namespace when it has one; a reason it gives goes to the listener's why
// (its failure's line, the status).
static int fe_listen(struct pvx_listener *l, const char **what)
{
	struct pvx_frontend *fe = listener_fe(l);

	fe->bind.priv = NULL;
	fe->bind.why = l->why;
	fe->bind.n = sizeof(l->why);
	return fe->tp->listen(fe->target, (struct sockaddr *)&fe->addr,
			      fe->addr_len, fe->netns_pid, fe->x->reuseport,
			      &fe->bind, what);
}

// The socket closes through the transport that made it (the Unix one
// removes its socket file).
static void fe_unlisten(struct pvx_listener *l, int fd)
{
	struct pvx_frontend *fe = listener_fe(l);

	if (fe->tp->unlisten)
		fe->tp->unlisten(fd, &fe->bind);
	else
		close(fd);
}

int pvx_frontend_global_room(struct pvx *x, int accepting)
{
	if (!x->maxconn || x->nsessions < x->maxconn)
		return 1;
	// The global cap: further clients wait in the backlog, for every
	// listener.
	if (accepting && !x->cap_logged)
		pv_log(WARN,
		       "%d sessions: at --maxconn, new clients wait in the "
		       "backlog",
		       x->nsessions);
	if (accepting)
		x->cap_logged = 1;
	return 0;
}

// Room for another client: under the frontend's maxconn and the global
// cap (--maxconn).
static int fe_room(struct pvx_listener *l, int accepting)
{
	struct pvx_frontend *fe = listener_fe(l);

	if (fe->maxconn && fe->stats.sessions_now >= (uint32_t)fe->maxconn)
		return 0;
	return pvx_frontend_global_room(fe->x, accepting);
}

// A session that fails at once drops its reference: fe stays alive until
// the accept loop is done with it.
static void fe_hold(struct pvx_listener *l, int take)
{
	struct pvx_frontend *fe = listener_fe(l);

	if (take)
		pvx_frontend_ref(fe);
	else
		pvx_frontend_unref(fe);
}

// An accepted client: refused by the allow list before a byte is read
// or a backend dialled, else handed to the sessions.
static void fe_accept(struct pvx_listener *l, int cfd,
		      const struct sockaddr *peer, socklen_t plen)
{
	struct pvx_frontend *fe = listener_fe(l);

	if (fe->nallow && !pvx_cidr_match(fe->allow, fe->nallow, peer)) {
		fe->stats.denied++;
		if (fe->x->verbose) {
			char a[PV_ADDR_STRLEN];

			pv_log(DEBUG, "link %s: %s not allowed", fe->label,
			       pv_addr_format(peer, a, sizeof(a)));
		}
		close(cfd);
		return;
	}
	fe->x->accept(fe, cfd, peer, plen);
}

static void fe_accept_failed(struct pvx_listener *l)
{
	pvx_frontend_backoff(listener_fe(l), "accept");
}

static void fe_bound(struct pvx_listener *l)
{
	struct pvx_frontend *fe = listener_fe(l);

	pv_log(INFO, "link %s: listening on %s%s%.0d", fe->label, fe->target,
	       fe->netns_pid ? fe->tp->pid_where : "", fe->netns_pid);
}

static const struct pvx_listener_ops fe_listener_ops = {
	.listen = fe_listen,
	.accept = fe_accept,
	.room = fe_room,
	.hold = fe_hold,
	.accept_failed = fe_accept_failed,
	.bound = fe_bound,
	.unlisten = fe_unlisten,
};

void pvx_frontend_resume_all(struct pvx *x)
{
	struct pvx_frontend *fe;

	dl_list_for_each (fe, &x->frontends, struct pvx_frontend, list)
		pvx_frontend_resume(fe);
}

// Listens unless the frontend is closed or its consumer not running.
static void start_listening(struct pvx_frontend *fe)
{
	if (fe->closed || fe->netns_pid < 0)
		return;
	pvx_listener_start(&fe->listener);
}

// Closes the listening socket: the port is free from now on.
static void stop_listening(struct pvx_frontend *fe)
{
	if (pvx_listener_stop(&fe->listener))
		pv_log(INFO, "link %s: stopped listening on %s", fe->label,
		       fe->target);
}

struct pvx_frontend *pvx_frontend_get(struct pvx *x, const char *key,
				      const char *label, const char *consumer,
				      const char *target, int netns_pid)
{
	return pvx_frontend_get_on(x, key, label, consumer, target, netns_pid,
				   &pvx_transport_tcp);
}

// Frees what pvx_frontend_get_on allocated (fe was never listening).
static void fe_free(struct pvx_frontend *fe)
{
	free(fe->key);
	free(fe->label);
	free(fe->consumer);
	free(fe->target);
	free(fe->lname);
	free(fe->lwhere);
	free(fe->allow);
	free(fe->pool.v);
	free(fe->pool.slots);
	fe->magic = 0;
	free(fe);
}

static struct pvx_frontend *fe_get(struct pvx *x, const char *key,
				   const char *label, const char *consumer,
				   const char *target, int netns_pid,
				   const struct pvx_transport *tp,
				   int pool_only)
{
	struct pvx_frontend *fe;

	dl_list_for_each (fe, &x->frontends, struct pvx_frontend, list) {
		if (!fe->closed && !strcmp(fe->key, key)) {
			pvx_frontend_ref(fe);
			return fe;
		}
	}
	fe = calloc(1, sizeof(*fe));
	if (!fe) {
		pv_log(ERROR, "link %s: %s", label, strerror(errno));
		return NULL;
	}
	fe->magic = PVX_FRONTEND_MAGIC;
	fe->refs = 1;
	fe->pool_only = pool_only;
	fe->x = x;
	fe->tp = tp;
	fe->netns_pid = netns_pid;
	fe->key = strdup(key);
	fe->label = strdup(label);
	fe->target = strdup(target);
	fe->consumer = consumer ? strdup(consumer) : NULL;
	if (asprintf(&fe->lname, "link %s", label) < 0)
		fe->lname = NULL;
	if (asprintf(&fe->lwhere, "%s %s%s%.0d: ", tp->listen_noun, target,
		     netns_pid ? tp->pid_where : "", netns_pid) < 0)
		fe->lwhere = NULL;
	if (!fe->key || !fe->label || !fe->target ||
	    (consumer && !fe->consumer) || !fe->lname || !fe->lwhere ||
	    (!pool_only &&
	     (!tp->listen || tp->parse(target, &fe->addr, &fe->addr_len)))) {
		pv_log(ERROR, "link %s: cannot set up a listener on %s", label,
		       target);
		fe_free(fe);
		return NULL;
	}
	pvx_listener_init(&fe->listener, x->base, &fe_listener_ops, fe,
			  fe->lname, fe->lwhere);
	dl_list_add_tail(&x->frontends, &fe->list);
	if (!pool_only)
		start_listening(fe);
	return fe;
}

struct pvx_frontend *pvx_frontend_get_on(struct pvx *x, const char *key,
					 const char *label,
					 const char *consumer,
					 const char *target, int netns_pid,
					 const struct pvx_transport *tp)
{
	return fe_get(x, key, label, consumer, target, netns_pid, tp, 0);
}

struct pvx_frontend *pvx_frontend_get_pool(struct pvx *x, const char *key,
					   const char *label,
					   const char *consumer,
					   const char *target, int netns_pid)
{
	return fe_get(x, key, label, consumer, target, netns_pid,
		      &pvx_transport_tcp, 1);
}

void pvx_frontend_ref(struct pvx_frontend *fe)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	fe->refs++;
}

void pvx_frontend_unref(struct pvx_frontend *fe)
{
	PVX_CHECK_OBJ_ORNULL(fe, PVX_FRONTEND_MAGIC);
	if (!fe || --fe->refs > 0)
		return;
	stop_listening(fe);
	dl_list_del(&fe->list);
	fe_free(fe);
}

void pvx_frontend_check_empty(struct pvx_frontend *fe)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	if (fe->pool.n || fe->closed)
		return;
	fe->closed = 1;
	stop_listening(fe);
}

int pvx_frontend_pool_add(struct pvx_frontend *fe, struct pvx_backend *b)
{
	struct pvx_pool *p = &fe->pool;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	if (p->n == p->cap) {
		unsigned int cap = p->cap ? p->cap * 2 : 4;
		struct pvx_backend **v =
			realloc(p->v, cap * sizeof(struct pvx_backend *));
		struct pvx_lb_slot *slots;

		if (!v)
			return -1;
		p->v = v;
		slots = realloc(p->slots, cap * sizeof(*slots));
		if (!slots)
			return -1;
		p->slots = slots;
		p->cap = cap;
	}
	p->v[p->n++] = b;
	p->gen++;
	return 0;
}

void pvx_frontend_pool_del(struct pvx_frontend *fe, const struct pvx_backend *b)
{
	struct pvx_pool *p = &fe->pool;
	unsigned int i;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	for (i = 0; i < p->n && p->v[i] != b; i++)
		;
	if (i == p->n)
		return;
	// The order stays: "first" and the roundrobin sequence follow it.
	memmove(&p->v[i], &p->v[i + 1],
		(p->n - i - 1) * sizeof(struct pvx_backend *));
	p->n--;
	p->gen++;
}

unsigned int pvx_frontend_pool_size(const struct pvx_frontend *fe)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	return fe->pool.n;
}

struct pvx_backend *pvx_frontend_pool_at(const struct pvx_frontend *fe,
					 unsigned int i)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	return i < fe->pool.n ? fe->pool.v[i] : NULL;
}

// 1 when tried says the backend at pool position i was tried.
static int was_tried(const struct pvx_frontend *fe,
		     const struct pvx_tried *tried, unsigned int i)
{
	if (!tried)
		return 0;
	if (fe->pool.v[i] == tried->last)
		return 1;
	return tried->gen == fe->pool.gen && i < 64 && (tried->bits >> i & 1);
}

void pvx_frontend_tried_mark(const struct pvx_frontend *fe,
			     struct pvx_tried *tried,
			     const struct pvx_backend *b)
{
	unsigned int i;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	// Positions of an older pool say nothing about this one.
	if (tried->gen != fe->pool.gen) {
		tried->bits = 0;
		tried->gen = fe->pool.gen;
	}
	tried->last = b;
	for (i = 0; i < fe->pool.n && i < 64; i++) {
		if (fe->pool.v[i] == b)
			tried->bits |= (uint64_t)1 << i;
	}
}

struct pvx_backend *pvx_frontend_pick(struct pvx_frontend *fe,
				      const struct sockaddr *peer,
				      const struct pvx_tried *tried)
{
	const struct pvx_balancer *lb;
	struct pvx_lb_ctx c;
	struct pvx_backend *b;
	unsigned int i;
	int k;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	if (!fe->pool.n)
		return NULL;
	lb = pvx_balancer_get(fe->balance);
	// One pass to describe the pool, one (or two) for the algorithm.
	for (i = 0; i < fe->pool.n; i++) {
		struct pvx_lb_slot *s = &fe->pool.slots[i];

		b = fe->pool.v[i];
		s->usable = pvx_backend_usable(b);
		s->suspect = s->usable && pvx_backend_suspect(b);
		s->tried = was_tried(fe, tried, i);
		s->load = pvx_backend_load(b);
	}
	c.slots = fe->pool.slots;
	c.n = fe->pool.n;
	c.cursor = &fe->rr;
	c.hash = fe->balance == PVX_BALANCE_SOURCE ? pvx_lb_peer_hash(peer) : 0;
	k = lb->pick(&c);
	return k < 0 ? NULL : fe->pool.v[k];
}

void pvx_frontend_configure(struct pvx_frontend *fe, const struct pvx_link *l)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	fe->balance = l->balance;
	fe->maxconn = l->maxconn;
	fe->proxy_protocol = 0;
	// The engine flags its frontends too; a link of type http says so
	// as well, so that the figures show the http counters from the start.
	if (l->type && !strcmp(l->type, "http"))
		fe->http = 1;
	// A Unix client has no address: no allow list (it would refuse
	// every client) and no PROXY header to send.
	if (!fe->tp->ip_peers) {
		pvx_frontend_set_allow(fe, NULL, 0);
		pvx_frontend_resume(fe);
		return;
	}
	if (pvx_frontend_set_allow(fe, l->allow, l->nallow))
		pv_log(ERROR, "link %s: allow list: out of memory, not changed",
		       l->label);
	if (l->proxy_protocol)
		fe->proxy_protocol = strcmp(l->proxy_protocol, "v2") ? 1 : 2;
	pvx_frontend_resume(fe);
}

void pvx_frontend_session_begin(struct pvx_frontend *fe)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	fe->stats.sessions_now++;
	fe->stats.sessions_total++;
}

void pvx_frontend_session_end(struct pvx_frontend *fe, uint64_t in,
			      uint64_t out)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	fe->stats.bytes_in += in;
	fe->stats.bytes_out += out;
	fe->stats.sessions_now--;
}

void pvx_frontend_count_connect_error(struct pvx_frontend *fe)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	fe->stats.connect_errors++;
}

void pvx_frontend_count_retry(struct pvx_frontend *fe)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	fe->stats.retries++;
}

void pvx_frontend_count_http_request(struct pvx_frontend *fe)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	fe->stats.http.requests++;
}

void pvx_frontend_count_http_response(struct pvx_frontend *fe, int status)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	if (status >= 100 && status <= 599)
		fe->stats.http.responses[status / 100 - 1]++;
	else
		fe->stats.http.responses[PVX_HTTP_OTHER]++;
}

// 1 when the frontend's last lack of fds is a second old: sessions that
// were under way when it struck do not count as recovery.
static int backoff_over(const struct pvx_frontend *fe)
{
	struct timeval now, since;

	pvx_now(&now);
	timersub(&now, &fe->backoff_last, &since);
	return since.tv_sec >= 1;
}

void pvx_frontend_session_through(struct pvx_frontend *fe, const char *label)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	fe->warned_down = 0;
	if (fe->accept_failing && backoff_over(fe)) {
		pv_log(INFO, "link %s: sessions get through again", label);
		fe->accept_failing = 0;
	}
}

void pvx_frontend_no_backend(struct pvx_frontend *fe)
{
	struct pvx_backend *b;
	char to[PV_ADDR_STRLEN + 256];

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	if (fe->warned_down)
		return;
	fe->warned_down = 1;
	b = fe->pool.n ? fe->pool.v[0] : NULL;
	if (!b || pvx_backend_usable(b)) {
		pv_log(WARN, "link %s: no usable backend, closing clients",
		       fe->label);
		return;
	}
	pv_log(WARN, "link %s: no usable backend (%s: %s), closing clients",
	       fe->label, pvx_backend_describe(b, to, sizeof(to)),
	       pvx_backend_down_reason(b));
}

void pvx_frontend_bytes(const struct pvx_frontend *fe, uint64_t *in,
			uint64_t *out)
{
	uint64_t bin, bout;
	unsigned int i;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	*in = fe->stats.bytes_in;
	*out = fe->stats.bytes_out;
	for (i = 0; i < fe->pool.n; i++) {
		pvx_backend_live_bytes(fe->pool.v[i], &bin, &bout);
		*in += bin;
		*out += bout;
	}
}

int pvx_frontend_backends_up(const struct pvx_frontend *fe)
{
	unsigned int i;
	int n = 0;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	for (i = 0; i < fe->pool.n; i++)
		n += pvx_backend_usable(fe->pool.v[i]);
	return n;
}

const char *pvx_frontend_down_reason(const struct pvx_frontend *fe)
{
	const struct pvx_listener *l;

	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	l = fe_listener(fe);
	if (!l)
		return "removed";
	if (!l->listening && l->why[0])
		return l->why;
	if (!l->listening)
		return fe->netns_pid < 0 ? "consumer not running"
					 : "not listening (bind failed)";
	if (!pvx_frontend_backends_up(fe))
		return "no usable backend";
	return NULL;
}

void pvx_frontend_figures(const struct pvx_frontend *fe,
			  struct pvx_fig_frontend *f)
{
	PVX_CHECK_OBJ_NOTNULL(fe, PVX_FRONTEND_MAGIC);
	f->key = fe->key;
	f->label = fe->label;
	f->consumer = fe->consumer;
	f->target = fe->target;
	f->netns_pid = fe->netns_pid;
	f->listening = fe_listener(fe) && fe_listener(fe)->listening;
	f->down = pvx_frontend_down_reason(fe);
	f->balance = pvx_balance_name(fe->balance);
	f->maxconn = fe->maxconn;
	f->backends_up = pvx_frontend_backends_up(fe);
	f->http = fe->http;
	f->stats = fe->stats;
	pvx_frontend_bytes(fe, &f->stats.bytes_in, &f->stats.bytes_out);
	f->be = NULL;
	f->nbe = 0;
}
