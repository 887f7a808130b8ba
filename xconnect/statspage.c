// The stats page, pv-xconnect's counterpart of HAProxy's ":8404/stats":
// a tiny HTTP/1.0 server on the address device.json's "xconnect.stats"
// names (pv-xconnect --stats ADDR), off by default. It answers
//   GET /  or  /stats   an HTML table per frontend, reloading itself
//   GET /metrics        the Prometheus text that pv-ctrl's /metrics serves
//   GET /status         the JSON that pv-ctrl's /xconnect-status serves
// straight from the proxy's own figures. Each client gets one answer and
// is closed; clients are few, bounded and timed out, so a stuck browser
// costs nothing to the proxy.

#define MODULE_NAME "statspage"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "utils/addr.h"
#include "utils/http1.h"
#include "utils/timer.h"
#include "defs.h"
#include "listener.h"
#include "figures.h"
#include "proxy-t.h"
#include "sock.h"
#include "statspage.h"
#include "status.h"
#include "text.h"

// Clients served at once; more wait in the listen backlog.
#define MAX_CLIENTS 16
// The request head, at most (a longer one is answered 431).
#define REQ_MAX 4096
// A client has this long to send its request and take the answer.
#define CLIENT_TIMEOUT_MS 5000
// The HTML page reloads itself this often unless ?refresh=N says.
#define REFRESH_S 5

struct pvx_statspage {
	struct pvx *x;
	char *addr_str;
	char *name; // "stats page on ADDR", for the listener's lines
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct pvx_listener listener;
	int nclients;
	struct dl_list clients; // sp_client
};

// One browser (or curl): its request, then the answer being written.
struct sp_client {
	struct pvx_statspage *sp;
	int fd;
	struct event ev;
	char req[REQ_MAX];
	size_t rlen;
	struct pv_http1_head head; // the request in req, utils/http1.c
	char *out;		   // header and body
	size_t olen, ooff;
	struct dl_list list; // in sp->clients
};

static void on_client(evutil_socket_t fd, short what, void *arg);

// ---- the HTML page ----

// s with &, <, >, " escaped for HTML text and attributes.
static void put_html(struct pvx_text *t, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			pvx_text_put(t, "&amp;");
			break;
		case '<':
			pvx_text_put(t, "&lt;");
			break;
		case '>':
			pvx_text_put(t, "&gt;");
			break;
		case '"':
			pvx_text_put(t, "&quot;");
			break;
		default:
			pvx_text_put(t, "%c", *s);
		}
	}
}

// A duration in the page's short form: "42s", "7m12s", "3h05m", "2d04h".
static void put_age(struct pvx_text *t, int s)
{
	if (s < 60)
		pvx_text_put(t, "%ds", s);
	else if (s < 3600)
		pvx_text_put(t, "%dm%02ds", s / 60, s % 60);
	else if (s < 86400)
		pvx_text_put(t, "%dh%02dm", s / 3600, s / 60 % 60);
	else
		pvx_text_put(t, "%dd%02dh", s / 86400, s / 3600 % 24);
}

static const char style[] =
	"body{font-family:sans-serif;font-size:13px;margin:1em}"
	"h1{font-size:18px}table{border-collapse:collapse;margin:1em 0}"
	"caption{text-align:left;font-weight:bold;padding:4px;"
	"background:#20377f;color:#fff}"
	"th{background:#b0b0d0;padding:2px 6px;text-align:left}"
	"td{padding:2px 6px;border-bottom:1px solid #ccc;"
	"font-family:monospace}"
	"td.n{text-align:right}"
	"tr.fe td{background:#e0e0f0;font-weight:bold}"
	"tr.http td{background:#eef}"
	"tr.up td{background:#c0f0c0}tr.down td{background:#ffb0b0}"
	"tr.going td{background:#ffe080}tr.nocheck td{background:#e8f8e8}";

// The table's header row.
static void put_head(struct pvx_text *t)
{
	static const char *const cols[] = {
		"Name",	    "Address", "Status", "Reason",   "Last check",
		"Chk ms",   "Cur",     "Total",	 "Bytes in", "Bytes out",
		"Conn err", "Retries", "Downs",	 "Changed",
	};
	size_t i;

	pvx_text_put(t, "<tr>");
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		pvx_text_put(t, "<th>%s</th>", cols[i]);
	pvx_text_put(t, "</tr>\n");
}

// One backend's row, coloured like HAProxy's: green up, red down, yellow
// while the checks are moving it.
static void put_backend(struct pvx_text *t, const struct pvx_fig_backend *b)
{
	const struct pvx_fig_check *c = &b->check;
	const char *down = b->down;
	const char *cls;

	if (down)
		cls = "down";
	else if (c->enabled && c->going)
		cls = "going";
	else if (c->enabled)
		cls = "up";
	else
		cls = "nocheck";
	pvx_text_put(t, "<tr class=\"%s\"><td>", cls);
	put_html(t, b->name);
	pvx_text_put(t, "</td><td>");
	put_html(t, b->socket);
	pvx_text_put(t, "</td><td>%s", down ? "DOWN" : "UP");
	if (c->enabled && strcmp(c->state, down ? "DOWN" : "UP")) {
		pvx_text_put(t, " (check ");
		put_html(t, c->state);
		pvx_text_put(t, ")");
	}
	pvx_text_put(t, "</td><td>");
	put_html(t, down ? down : "");
	pvx_text_put(t, "</td><td>");
	if (c->enabled && c->last_ok >= 0) {
		pvx_text_put(t, "%s %s ", c->last_ok ? "OK" : "FAIL", c->type);
		put_html(t, c->last);
		pvx_text_put(t, "</td><td class=\"n\">%d", c->last_ms);
	} else {
		pvx_text_put(t, "%s</td><td class=\"n\">",
			     c->enabled ? "pending" : "no check");
	}
	pvx_text_put(t,
		     "</td><td class=\"n\">%u</td><td class=\"n\">%llu</td>"
		     "<td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
		     "<td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
		     "<td class=\"n\">%llu</td><td>",
		     b->stats.sessions_now,
		     (unsigned long long)b->stats.sessions_total,
		     (unsigned long long)b->stats.bytes_in,
		     (unsigned long long)b->stats.bytes_out,
		     (unsigned long long)b->stats.connect_errors,
		     (unsigned long long)b->stats.retries,
		     (unsigned long long)c->downs);
	if (c->enabled)
		put_age(t, c->last_change_s);
	pvx_text_put(t, "</td></tr>\n");
}

// An http frontend's per-request figures, one row under its own: the
// requests routed to it and the answers sent by status class.
static void put_http(struct pvx_text *t, const struct pvx_fig_frontend *fe)
{
	const struct pvx_http_stats *h = &fe->stats.http;
	int c;

	pvx_text_put(t,
		     "<tr class=\"http\"><td>HTTP</td><td colspan=\"13\">"
		     "requests %llu; answers",
		     (unsigned long long)h->requests);
	for (c = 0; c < PVX_HTTP_CLASSES; c++)
		pvx_text_put(t, "%s %s %llu", c ? "," : "",
			     pvx_figures_http_class(c),
			     (unsigned long long)h->responses[c]);
	pvx_text_put(t, "</td></tr>\n");
}

// One frontend: its table, a row for itself, a row per backend.
static void put_frontend(struct pvx_text *t, const struct pvx_fig_frontend *fe)
{
	const char *down = fe->down;
	unsigned int i;

	pvx_text_put(t, "<table>\n<caption>");
	put_html(t, fe->label);
	if (fe->consumer) {
		pvx_text_put(t, " (consumer ");
		put_html(t, fe->consumer);
		pvx_text_put(t, ")");
	}
	pvx_text_put(t, " &mdash; %s", fe->balance);
	if (fe->maxconn)
		pvx_text_put(t, ", maxconn %d", fe->maxconn);
	pvx_text_put(t, "</caption>\n");
	put_head(t);
	pvx_text_put(t, "<tr class=\"fe\"><td>Frontend</td><td>");
	put_html(t, fe->target);
	pvx_text_put(t, "</td><td>%s</td><td>", down ? "DOWN" : "UP");
	put_html(t, down ? down : "");
	pvx_text_put(t,
		     "</td><td>%d/%u backends up</td><td></td>"
		     "<td class=\"n\">%u</td><td class=\"n\">%llu</td>"
		     "<td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
		     "<td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
		     "<td></td><td></td></tr>\n",
		     fe->backends_up, fe->nbe, fe->stats.sessions_now,
		     (unsigned long long)fe->stats.sessions_total,
		     (unsigned long long)fe->stats.bytes_in,
		     (unsigned long long)fe->stats.bytes_out,
		     (unsigned long long)fe->stats.connect_errors,
		     (unsigned long long)fe->stats.retries);
	if (pvx_figures_fe_http(fe))
		put_http(t, fe);
	for (i = 0; i < fe->nbe; i++)
		put_backend(t, &fe->be[i]);
	pvx_text_put(t, "</table>\n");
}

char *pvx_figures_html(const struct pvx_figures *f, int refresh_s, size_t *len)
{
	struct pvx_text t = { 0 };
	unsigned int i;

	pvx_text_put(&t,
		     "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
		     "<meta http-equiv=\"refresh\" content=\"%d\">"
		     "<title>pv-xconnect statistics</title><style>%s</style>"
		     "</head><body>\n<h1>pv-xconnect statistics</h1>\n"
		     "<p>pid %d; this page reloads every %d s; also as "
		     "<a href=\"/metrics\">Prometheus metrics</a> and "
		     "<a href=\"/status\">JSON</a>.</p>\n",
		     refresh_s, style, (int)getpid(), refresh_s);
	if (f->dp_mode) {
		pvx_text_put(&t, "<p>Data path: ");
		put_html(&t, f->dp_mode);
		if (*f->dp_why) {
			pvx_text_put(&t, " (sockmap: ");
			put_html(&t, f->dp_why);
			pvx_text_put(&t, ")");
		}
		pvx_text_put(&t,
			     "; sessions in the kernel path: %llu now, %llu "
			     "in all.</p>\n",
			     (unsigned long long)f->dp_now,
			     (unsigned long long)f->dp_total);
	}
	for (i = 0; i < f->nfe; i++)
		put_frontend(&t, &f->fe[i]);
	if (!f->nfe)
		pvx_text_put(&t, "<p>No frontends.</p>\n");
	pvx_text_put(&t, "</body></html>\n");
	return pvx_text_finish(&t, len);
}

char *pvx_status_html(struct pvx *x, int refresh_s, size_t *len)
{
	struct pvx_figures f;
	char *out = NULL;

	if (!pvx_figures_collect(x, &f))
		out = pvx_figures_html(&f, refresh_s, len);
	pvx_figures_free(&f);
	return out;
}

// ---- the server ----

static void client_free(struct sp_client *c)
{
	struct pvx_statspage *sp = c->sp;

	event_del(&c->ev);
	close(c->fd);
	free(c->out);
	dl_list_del(&c->list);
	free(c);
	sp->nclients--;
	pvx_listener_resume(&sp->listener);
}

// Sets the answer: status line, headers, body (taken over; may be NULL
// with a short text instead).
static void answer(struct sp_client *c, int status, const char *type,
		   char *body, size_t len, int head)
{
	struct pvx_text t = { 0 };

	pvx_text_put(&t,
		     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\n"
		     "Content-Length: %zu\r\nCache-Control: no-cache\r\n"
		     "Connection: close\r\n\r\n",
		     status, pv_http1_reason(status), type, len);
	if (!head && len)
		pvx_text_put(&t, "%.*s", (int)len, body);
	free(body);
	c->out = pvx_text_finish(&t, &c->olen);
	c->ooff = 0;
}

// A short text answer (errors).
static void answer_text(struct sp_client *c, int status, const char *msg)
{
	char *body = strdup(msg);

	answer(c, status, "text/plain; charset=utf-8", body,
	       body ? strlen(body) : 0, 0);
}

// The ?refresh=N of a query, within 1..3600, else the default.
static int refresh_of(const char *query)
{
	const char *p = query ? strstr(query, "refresh=") : NULL;
	long v = 0;

	if (!p)
		return REFRESH_S;
	for (p += 8; *p >= '0' && *p <= '9' && v <= 3600; p++)
		v = v * 10 + (*p - '0');
	return v >= 1 && v <= 3600 ? (int)v : REFRESH_S;
}

// Answers the complete request head in c->req (c->head says where its
// parts are).
static void handle(struct sp_client *c)
{
	const struct pv_http1_head *h = &c->head;
	struct pvx *x = c->sp->x;
	char method[8], target[256];
	char *query, *body;
	size_t len = 0;
	int head;

	// Only "/path?query": an absolute or authority form is no request
	// for this page; longer methods and targets are none of ours.
	if (h->target_form != PV_HTTP1_ORIGIN ||
	    h->method_len >= sizeof(method) ||
	    h->target_len >= sizeof(target)) {
		answer_text(c, 400, "bad request\n");
		return;
	}
	memcpy(method, c->req + h->method_off, h->method_len);
	method[h->method_len] = '\0';
	memcpy(target, c->req + h->target_off, h->target_len);
	target[h->target_len] = '\0';
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		answer_text(c, 405, "only GET and HEAD\n");
		return;
	}
	query = strchr(target, '?');
	if (query)
		*query++ = '\0';
	if (!strcmp(target, "/") || !strcmp(target, "/stats")) {
		body = pvx_status_html(x, refresh_of(query), &len);
		if (body)
			answer(c, 200, "text/html; charset=utf-8", body, len,
			       head);
	} else if (!strcmp(target, "/metrics")) {
		body = pvx_status_metrics(x, &len);
		if (body)
			answer(c, 200,
			       "text/plain; version=0.0.4; charset=utf-8", body,
			       len, head);
	} else if (!strcmp(target, "/status")) {
		body = pvx_status_json(x, &len);
		if (body)
			answer(c, 200, "application/json", body, len, head);
	} else {
		answer_text(c, 404,
			    "not found: try /stats, /metrics, /status\n");
		return;
	}
	if (!body)
		answer_text(c, 500, "out of memory\n");
}

// Reads the request until its head is complete (the project's HTTP/1.x
// parser, utils/http1.c, however the head is split), then answers; what
// the parser refuses is answered with its status and reason.
static void client_read(struct sp_client *c)
{
	ssize_t n = recv(c->fd, c->req + c->rlen, REQ_MAX - c->rlen, 0);
	char msg[128];
	size_t used;
	int r;

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->rlen += n;
	r = pv_http1_parse(&c->head, c->req + c->head.head_len,
			   c->rlen - c->head.head_len, &used);
	if (r == PV_HTTP1_DONE) {
		handle(c);
	} else if (r != PV_HTTP1_MORE) {
		snprintf(msg, sizeof(msg), "bad request: %s\n", c->head.error);
		answer_text(c, r, msg);
	} else if (c->rlen == REQ_MAX) {
		answer_text(c, 431, "request head too large\n");
	} else {
		return;
	}
	if (!c->out) {
		client_free(c);
		return;
	}
	// From now on the client is written to, until the answer is out.
	event_del(&c->ev);
	event_assign(&c->ev, c->sp->x->base, c->fd, EV_WRITE | EV_PERSIST,
		     on_client, c);
	// Unwatched, the client would never be answered nor let go.
	if (pv_timer_arm(&c->ev, CLIENT_TIMEOUT_MS)) {
		pv_log(ERROR, "stats page on %s: cannot watch a client",
		       c->sp->addr_str);
		client_free(c);
	}
}

// Writes what is left of the answer; closes when it is all out.
static void client_write(struct sp_client *c)
{
	ssize_t n =
		send(c->fd, c->out + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->ooff += n;
	if (c->ooff == c->olen)
		client_free(c);
}

static void on_client(evutil_socket_t fd, short what, void *arg)
{
	struct sp_client *c = arg;

	(void)fd;
	if (what & EV_TIMEOUT)
		client_free(c);
	else if (c->out)
		client_write(c);
	else
		client_read(c);
}

// The listen step: the stats address, in our network namespace.
static int sp_listen(struct pvx_listener *l, const char **what)
{
	struct pvx_statspage *sp = l->owner;

	return pvx_listen((struct sockaddr *)&sp->addr, sp->addr_len, 0,
			  sp->x->reuseport, what);
}

// Room for another client: at most MAX_CLIENTS at once, the others wait
// in the backlog.
static int sp_room(struct pvx_listener *l, int accepting)
{
	struct pvx_statspage *sp = l->owner;

	(void)accepting;
	return sp->nclients < MAX_CLIENTS;
}

static void sp_accept(struct pvx_listener *l, int cfd,
		      const struct sockaddr *peer, socklen_t plen)
{
	struct pvx_statspage *sp = l->owner;
	struct sp_client *c;

	(void)peer;
	(void)plen;
	c = calloc(1, sizeof(*c));
	if (!c) {
		pv_log(ERROR, "stats %s: %s", sp->addr_str, strerror(errno));
		close(cfd);
		return;
	}
	c->sp = sp;
	c->fd = cfd;
	pv_http1_request_init(&c->head,
			      &(struct pv_http1_limits){ .max_head = REQ_MAX });
	event_assign(&c->ev, sp->x->base, cfd, EV_READ | EV_PERSIST, on_client,
		     c);
	if (pv_timer_arm(&c->ev, CLIENT_TIMEOUT_MS)) {
		// Unwatched, it would be held and never answered.
		pv_log(ERROR, "stats page on %s: cannot watch a client",
		       sp->addr_str);
		close(cfd);
		free(c);
		return;
	}
	dl_list_add_tail(&sp->clients, &c->list);
	sp->nclients++;
	// Full: the listener rests until a client leaves.
	if (sp->nclients >= MAX_CLIENTS)
		pvx_listener_pause(l);
}

// Out of fds or memory: the client stays in the backlog and the listener
// rests a moment, rather than the loop spinning on the same error.
static void sp_accept_failed(struct pvx_listener *l)
{
	struct pvx_statspage *sp = l->owner;

	pv_log(DEBUG, "stats %s: accept: %s", sp->addr_str, strerror(errno));
	pvx_listener_backoff(l);
}

static void sp_bound(struct pvx_listener *l)
{
	struct pvx_statspage *sp = l->owner;

	pv_log(INFO, "stats page on http://%s/stats", sp->addr_str);
}

static const struct pvx_listener_ops sp_listener_ops = {
	.listen = sp_listen,
	.accept = sp_accept,
	.room = sp_room,
	.accept_failed = sp_accept_failed,
	.bound = sp_bound,
};

struct pvx_statspage *pvx_statspage_new(struct pvx *x, const char *addr)
{
	struct pvx_statspage *sp = calloc(1, sizeof(*sp));

	if (!sp) {
		pv_log(ERROR, "stats page: %s", strerror(errno));
		return NULL;
	}
	sp->x = x;
	dl_list_init(&sp->clients);
	sp->addr_str = strdup(addr);
	if (asprintf(&sp->name, "stats page on %s", addr) < 0)
		sp->name = NULL;
	if (!sp->addr_str || !sp->name) {
		pv_log(ERROR, "stats page: %s", strerror(errno));
		free(sp->addr_str);
		free(sp->name);
		free(sp);
		return NULL;
	}
	if (pv_addr_parse(addr, &sp->addr, &sp->addr_len)) {
		pv_log(ERROR,
		       "stats page: \"%s\" is not an address (IP:PORT, "
		       "[IPv6]:PORT or :PORT)",
		       addr);
		free(sp->addr_str);
		free(sp->name);
		free(sp);
		return NULL;
	}
	pvx_listener_init(&sp->listener, x->base, &sp_listener_ops, sp,
			  sp->name, "");
	// Every client waiting is taken while there is room.
	sp->listener.batch = MAX_CLIENTS;
	pvx_listener_start(&sp->listener);
	return sp;
}

void pvx_statspage_free(struct pvx_statspage *sp)
{
	struct sp_client *c, *n;

	if (!sp)
		return;
	// No listener left for the clients' ends to resume.
	pvx_listener_stop(&sp->listener);
	dl_list_for_each_safe (c, n, &sp->clients, struct sp_client, list) {
		client_free(c);
	}
	free(sp->addr_str);
	free(sp->name);
	free(sp);
}
