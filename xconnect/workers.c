// --threads N: N - 1 worker threads beside the main loop, for boards with
// more cores.
//
// Each worker is a whole proxy of its own: its own event loop and struct
// pvx (frontends, backends, sessions, health checks, epoll set, pipes),
// so the data path shares nothing and takes no lock. Every worker binds
// the same listeners with SO_REUSEPORT and the kernel spreads the clients
// over them. The main thread stays the only one that talks to the world:
// it reads the graph (pv-ctrl or file), applies it, and hands the same
// document to each worker, which applies it in its own loop; it serves the
// figures, adding in what each worker published last (every
// PUBLISH_MS) to the snapshot of each report (never to its own live
// counters), so that pv-ctrl and the stats page see one proxy. Health
// checks run in every worker (as HAProxy's processes each ran theirs with
// nbproc): a check's traffic is multiplied by N, each worker's view of a
// backend is its own.

#define MODULE_NAME "workers"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "utils/timer.h"
#include "backend.h"
#include "figures.h"
#include "frontend.h"
#include "proxy.h"
#include "reconcile.h"
#include "workers.h"

// How often a worker publishes its figures for the main thread.
#define PUBLISH_MS 500

// One published figure: a frontend's (be_key NULL) or a backend's. Both
// are named by their identity (keys the graph gives every worker alike),
// never by a label: the backends of one ingress rule share theirs.
struct fig {
	char *fe_key;
	char *be_key;
	struct pvx_stats stats;
};

struct worker {
	int id;
	pthread_t thread;
	unsigned inited : 1;  // x set up (to be finished)
	unsigned running : 1; // thread started (to be joined)
	struct pvx x;
	int efd;		 // eventfd: the inbox has something
	struct event ev_inbox;	 // efd readable
	struct event ev_publish; // PUBLISH_MS timer
	unsigned events_set : 1; // ev_inbox and ev_publish added
	pthread_mutex_t lock;	 // guards what follows
	char *graph;		 // a document to apply, or NULL
	size_t graph_len;
	int stop;	  // leave the loop
	struct fig *figs; // last published
	int nfigs;
};

struct pvx_workers {
	int n; // workers beside the main thread
	struct worker *w;
};

static void figs_free(struct fig *figs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(figs[i].fe_key);
		free(figs[i].be_key);
	}
	free(figs);
}

// Appends one figure; returns -1 when out of memory.
static int fig_push(struct fig **figs, int *n, int *cap, const char *fe_key,
		    const char *be_key, const struct pvx_stats *st)
{
	struct fig *f;

	if (*n == *cap) {
		int ncap = *cap ? *cap * 2 : 16;

		f = realloc(*figs, ncap * sizeof(*f));
		if (!f)
			return -1;
		*figs = f;
		*cap = ncap;
	}
	f = &(*figs)[*n];
	f->fe_key = strdup(fe_key);
	f->be_key = be_key ? strdup(be_key) : NULL;
	f->stats = *st;
	if (!f->fe_key || (be_key && !f->be_key)) {
		free(f->fe_key);
		free(f->be_key);
		return -1;
	}
	(*n)++;
	return 0;
}

// Worker timer: publishes the worker's figures, live sessions' bytes
// included, for the main thread's reports.
static void on_publish(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct pvx_frontend *fe;
	struct pvx_backend *b;
	struct pvx_stats st;
	struct fig *figs = NULL, *old;
	int n = 0, cap = 0, nold;

	(void)fd;
	(void)what;
	dl_list_for_each (fe, &w->x.frontends, struct pvx_frontend, list) {
		if (fe->closed)
			continue;
		st = fe->stats;
		pvx_frontend_bytes(fe, &st.bytes_in, &st.bytes_out);
		if (fig_push(&figs, &n, &cap, fe->key, NULL, &st))
			goto nomem;
		pvx_pool_for_each(b, fe)
		{
			st = b->stats;
			pvx_backend_bytes(b, &st.bytes_in, &st.bytes_out);
			if (fig_push(&figs, &n, &cap, fe->key, b->key, &st))
				goto nomem;
		}
	}
	pthread_mutex_lock(&w->lock);
	old = w->figs;
	nold = w->nfigs;
	w->figs = figs;
	w->nfigs = n;
	pthread_mutex_unlock(&w->lock);
	figs_free(old, nold);
	return;
nomem:
	// The last figures stay; the next round tries again.
	figs_free(figs, n);
}

// Worker: the main thread left something in the inbox (a graph, or the
// order to stop).
static void on_inbox(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	eventfd_t v;
	char *graph;
	size_t len;
	int stop;

	(void)what;
	eventfd_read(fd, &v);
	pthread_mutex_lock(&w->lock);
	graph = w->graph;
	len = w->graph_len;
	w->graph = NULL;
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	if (graph) {
		pvx_reconcile_text(&w->x.rec, graph, len);
		free(graph);
	}
	if (stop)
		event_base_loopbreak(w->x.base);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];

	// Named so that ps, top and the tests tell workers from the main
	// thread and from threads a runtime adds (TSan's, qemu-user's).
	snprintf(name, sizeof(name), "pvx-worker-%d", w->id);
	pthread_setname_np(pthread_self(), name);
	if (event_base_dispatch(w->x.base) == -1)
		pv_log(ERROR, "worker %d: event loop failed", w->id);
	// Sessions end, listeners close, in this thread, as they would
	// at the exit of a single-threaded pv-xconnect.
	event_del(&w->ev_inbox);
	event_del(&w->ev_publish);
	w->events_set = 0;
	pvx_fini(&w->x);
	return NULL;
}

// Sets up worker id like main (main's share of the session cap and of
// the pipes is already its own).
static int worker_init(struct worker *w, int id, const struct pvx *main)
{
	w->id = id;
	w->efd = -1;
	pthread_mutex_init(&w->lock, NULL);
	w->inited = 1;
	if (pvx_init(&w->x))
		return -1;
	w->x.verbose = main->verbose;
	w->x.drain_ms = main->drain_ms;
	w->x.reuseport = 1;
	w->x.maxconn = main->maxconn;
	w->x.pipes_max = main->pipes_max;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd == -1) {
		pv_log(ERROR, "worker %d: eventfd: %s", id, strerror(errno));
		return -1;
	}
	event_assign(&w->ev_inbox, w->x.base, w->efd, EV_READ | EV_PERSIST,
		     on_inbox, w);
	event_assign(&w->ev_publish, w->x.base, -1, EV_PERSIST, on_publish, w);
	if (event_add(&w->ev_inbox, NULL) ||
	    pv_timer_arm(&w->ev_publish, PUBLISH_MS)) {
		pv_log(ERROR, "worker %d: cannot set up its loop", id);
		return -1;
	}
	w->events_set = 1;
	return 0;
}

// Wakes the worker to look at its inbox.
static void worker_wake(struct worker *w)
{
	if (eventfd_write(w->efd, 1) == -1)
		pv_log(ERROR, "worker %d: cannot wake it: %s", w->id,
		       strerror(errno));
}

struct pvx_workers *pvx_workers_start(struct pvx *x, int nthreads)
{
	struct pvx_workers *ws;
	sigset_t all, old;
	int i, rc;

	ws = calloc(1, sizeof(*ws));
	if (!ws)
		goto nomem;
	ws->n = nthreads - 1;
	ws->w = calloc(ws->n, sizeof(*ws->w));
	if (!ws->w)
		goto nomem;
	// Each worker takes its share of the session cap and of the pipes.
	x->reuseport = 1;
	x->maxconn =
		x->maxconn > 0 ? (x->maxconn + nthreads - 1) / nthreads : 0;
	x->pipes_max /= nthreads;
	for (i = 0; i < ws->n; i++) {
		if (worker_init(&ws->w[i], i + 1, x))
			goto fail;
	}
	// Signals are the main thread's: workers block them all.
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < ws->n; i++) {
		rc = pthread_create(&ws->w[i].thread, NULL, worker_main,
				    &ws->w[i]);
		if (rc) {
			pv_log(ERROR, "worker %d: %s", i + 1, strerror(rc));
			break;
		}
		ws->w[i].running = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (i < ws->n)
		goto fail;
	pv_log(INFO, "%d threads, listeners shared with SO_REUSEPORT",
	       nthreads);
	return ws;
nomem:
	pv_log(ERROR, "workers: %s", strerror(errno));
fail:
	pvx_workers_stop(ws);
	return NULL;
}

void pvx_workers_graph(struct pvx_workers *ws, const char *text, size_t len)
{
	struct worker *w;
	char *copy;
	int i;

	if (!ws)
		return;
	for (i = 0; i < ws->n; i++) {
		w = &ws->w[i];
		copy = malloc(len + 1);
		if (!copy) {
			pv_log(ERROR, "worker %d: graph: %s", w->id,
			       strerror(errno));
			continue;
		}
		memcpy(copy, text, len);
		copy[len] = '\0';
		pthread_mutex_lock(&w->lock);
		// A document not yet applied is replaced by the newer one.
		free(w->graph);
		w->graph = copy;
		w->graph_len = len;
		pthread_mutex_unlock(&w->lock);
		worker_wake(w);
	}
}

void pvx_workers_stop(struct pvx_workers *ws)
{
	struct worker *w;
	int i;

	if (!ws)
		return;
	for (i = 0; ws->w && i < ws->n; i++) {
		w = &ws->w[i];
		if (!w->running)
			continue;
		pthread_mutex_lock(&w->lock);
		w->stop = 1;
		pthread_mutex_unlock(&w->lock);
		worker_wake(w);
		pthread_join(w->thread, NULL);
	}
	for (i = 0; ws->w && i < ws->n; i++) {
		w = &ws->w[i];
		if (w->events_set) {
			event_del(&w->ev_inbox);
			event_del(&w->ev_publish);
		}
		if (w->inited && !w->running)
			pvx_fini(&w->x);
		if (w->efd != -1)
			close(w->efd);
		free(w->graph);
		figs_free(w->figs, w->nfigs);
		pthread_mutex_destroy(&w->lock);
	}
	free(ws->w);
	free(ws);
}

void pvx_workers_figures(struct pvx_workers *ws, struct pvx_figures *f)
{
	struct worker *w;
	int i, j;

	if (!ws)
		return;
	for (i = 0; i < ws->n; i++) {
		w = &ws->w[i];
		pthread_mutex_lock(&w->lock);
		for (j = 0; j < w->nfigs; j++)
			pvx_figures_add(f, w->figs[j].fe_key, w->figs[j].be_key,
					&w->figs[j].stats);
		pthread_mutex_unlock(&w->lock);
	}
}
