// Reconcile: turns each new graph into plugin calls (added, updated,
// removed) against the links in effect, keyed by what identifies a link.

#define MODULE_NAME "reconcile"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "graph.h"
#include "utils/json.h"
#include "reconcile.h"

void pvx_reconciler_init(struct pvx_reconciler *r,
			 const struct pvx_plugin *const *plugins, struct pvx *x)
{
	pvx_graph_init(&r->current);
	r->plugins = plugins;
	r->x = x;
	r->last_errors = NULL;
	r->started = 0;
}

int pvx_reconciler_start(struct pvx_reconciler *r)
{
	const struct pvx_plugin *const *p;

	for (p = r->plugins; p && *p; p++) {
		if ((*p)->init && (*p)->init(r->x)) {
			pv_log(ERROR, "plugin %s: could not start", (*p)->type);
			// The ones started already are stopped again.
			while (p-- != r->plugins)
				if ((*p)->fini)
					(*p)->fini(r->x);
			return -1;
		}
	}
	r->started = 1;
	return 0;
}

char *pvx_plugin_status(const struct pvx_plugin *p, struct pvx *x)
{
	struct pv_json_ser js;
	size_t len;

	pv_json_ser_init(&js);
	p->status(x, &js);
	return pv_json_ser_finish(&js, &len);
}

// The plugin for a link type, or NULL.
static const struct pvx_plugin *plugin_for(struct pvx_reconciler *r,
					   const char *type)
{
	const struct pvx_plugin *const *p;

	for (p = r->plugins; p && *p; p++)
		if (!strcmp((*p)->type, type))
			return *p;
	return NULL;
}

// Hands a new link to its plugin; link->served says whether it took it.
static void add_link(struct pvx_reconciler *r, struct pvx_link *l)
{
	const struct pvx_plugin *p = plugin_for(r, l->type);

	l->served = 0;
	l->priv = NULL;
	if (!p) {
		// Said once per link, not at every poll of the same graph.
		if (!l->unserved_logged)
			pv_log(WARN,
			       "link %s: type \"%s\" is not supported, "
			       "skipped",
			       l->label, l->type);
		l->unserved_logged = 1;
		return;
	}
	if (p->on_link_added(r->x, l)) {
		pv_log(ERROR, "link %s: could not be set up, will retry",
		       l->label);
		l->priv = NULL;
		return;
	}
	l->served = 1;
}

// Takes a served link away from its plugin.
static void remove_link(struct pvx_reconciler *r, struct pvx_link *l)
{
	const struct pvx_plugin *p = plugin_for(r, l->type);

	if (l->served && p)
		p->on_link_removed(r->x, l);
	l->served = 0;
	l->priv = NULL;
}

int pvx_reconcile(struct pvx_reconciler *r, struct pvx_graph *next)
{
	struct pvx_link *old, *nl, *n;
	const struct pvx_plugin *p;
	int changes = 0;

	// Removals first: a listener freed here may be bound again by an
	// addition below (a rule renamed, a port moved between links).
	dl_list_for_each_safe (old, n, &r->current.links, struct pvx_link,
			       list) {
		nl = pvx_graph_find(next, old->key);
		if (nl && !strcmp(nl->type, old->type))
			continue;
		remove_link(r, old);
		dl_list_del(&old->list);
		r->current.count--;
		pvx_link_free(old);
		changes++;
	}

	dl_list_for_each (nl, &next->links, struct pvx_link, list) {
		old = pvx_graph_find(&r->current, nl->key);
		if (!old) {
			add_link(r, nl);
			changes++;
			continue;
		}
		nl->unserved_logged = old->unserved_logged;
		if (!old->served) {
			// Not set up last time (no plugin, or it failed).
			if (plugin_for(r, nl->type)) {
				add_link(r, nl);
				changes++;
			}
		} else {
			nl->priv = old->priv;
			nl->served = 1;
			if (!pvx_link_equal(old, nl)) {
				p = plugin_for(r, nl->type);
				p->on_link_updated(r->x, old, nl);
				changes++;
			}
		}
		dl_list_del(&old->list);
		r->current.count--;
		pvx_link_free(old);
	}

	// Every old link was either removed or replaced: next is in effect.
	pvx_graph_clear(&r->current);
	dl_list_for_each_safe (nl, n, &next->links, struct pvx_link, list) {
		dl_list_del(&nl->list);
		dl_list_add_tail(&r->current.links, &nl->list);
		r->current.count++;
	}
	next->count = 0;
	return changes;
}

void pvx_reconciler_clear(struct pvx_reconciler *r)
{
	struct pvx_graph empty;

	const struct pvx_plugin *const *p;

	pvx_graph_init(&empty);
	pvx_reconcile(r, &empty);
	free(r->last_errors);
	r->last_errors = NULL;
	// The links are gone: each plugin lets go of what it holds itself.
	for (p = r->plugins; r->started && p && *p; p++)
		if ((*p)->fini)
			(*p)->fini(r->x);
	r->started = 0;
}

// Logs the lines of errs that the previous document did not have, each
// followed by suffix, so a bad link is named once, not at every poll;
// remembers errs.
static void log_new_errors(struct pvx_reconciler *r, struct pv_errors *errs,
			   const char *suffix)
{
	size_t len = 1;
	char *all, *p;
	int i;

	for (i = 0; i < errs->count; i++)
		len += strlen(errs->lines[i]) + 1;
	all = malloc(len);
	if (!all) {
		// Without memory to remember them, saying them again is better
		// than not at all.
		for (i = 0; i < errs->count; i++)
			pv_log(ERROR, "%s%s", errs->lines[i], suffix);
		return;
	}
	p = all;
	for (i = 0; i < errs->count; i++) {
		size_t n = strlen(errs->lines[i]);

		if (!r->last_errors || !strstr(r->last_errors, errs->lines[i]))
			pv_log(ERROR, "%s%s", errs->lines[i], suffix);
		memcpy(p, errs->lines[i], n);
		p[n] = '\n';
		p += n + 1;
	}
	*p = '\0';
	free(r->last_errors);
	r->last_errors = all;
}

int pvx_reconcile_text(struct pvx_reconciler *r, const char *text, size_t len)
{
	struct pvx_graph next;
	struct pv_errors errs;
	int rc;

	pvx_graph_init(&next);
	pv_errors_init(&errs);
	rc = pvx_graph_parse(&next, text, len, &errs);
	log_new_errors(r, &errs,
		       rc ? " (keeping the links in effect)"
			  : " (link skipped)");
	pv_errors_clear(&errs);
	if (rc) {
		// Keep serving what we have: a broken answer is no reason to
		// drop every listener.
		pvx_graph_clear(&next);
		return -1;
	}
	pvx_reconcile(r, &next);
	return 0;
}
