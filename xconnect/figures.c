// The figures collector: one walk over the proxy's frontends and their
// pools per report, each object filling its own entry of the snapshot
// (frontend.c, backend.c, health.c), then the --threads workers' figures
// summed in, then what the plugins say of themselves.

#define MODULE_NAME "figures"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "backend.h"
#include "datapath.h"
#include "figures.h"
#include "frontend.h"
#include "proxy-t.h"
#include "reconcile.h"
#include "workers.h"

// Adds src's figures into dst.
static void stats_add(struct pvx_stats *dst, const struct pvx_stats *src)
{
	int i;

	dst->sessions_total += src->sessions_total;
	dst->sessions_now += src->sessions_now;
	dst->bytes_in += src->bytes_in;
	dst->bytes_out += src->bytes_out;
	dst->connect_errors += src->connect_errors;
	dst->retries += src->retries;
	dst->denied += src->denied;
	dst->http.requests += src->http.requests;
	for (i = 0; i < PVX_HTTP_CLASSES; i++)
		dst->http.responses[i] += src->http.responses[i];
}

int pvx_figures_fe_http(const struct pvx_fig_frontend *fe)
{
	int i;

	if (fe->http || fe->stats.http.requests)
		return 1;
	for (i = 0; i < PVX_HTTP_CLASSES; i++)
		if (fe->stats.http.responses[i])
			return 1;
	return 0;
}

const char *pvx_figures_http_class(enum pvx_http_class c)
{
	static const char *const names[PVX_HTTP_CLASSES] = {
		[PVX_HTTP_1XX] = "1xx", [PVX_HTTP_2XX] = "2xx",
		[PVX_HTTP_3XX] = "3xx", [PVX_HTTP_4XX] = "4xx",
		[PVX_HTTP_5XX] = "5xx", [PVX_HTTP_OTHER] = "other",
	};

	return (unsigned)c < PVX_HTTP_CLASSES ? names[c] : "other";
}

void pvx_figures_add(struct pvx_figures *f, const char *fe_key,
		     const char *be_key, const struct pvx_stats *st)
{
	struct pvx_fig_frontend *fe;
	unsigned int i, j;

	for (i = 0; i < f->nfe; i++) {
		fe = &f->fe[i];
		if (strcmp(fe->key, fe_key))
			continue;
		if (!be_key) {
			stats_add(&fe->stats, st);
			return;
		}
		for (j = 0; j < fe->nbe; j++) {
			if (!strcmp(fe->be[j].key, be_key)) {
				stats_add(&fe->be[j].stats, st);
				return;
			}
		}
		return;
	}
}

// The status of each plugin that has a status hook, into f.
static int plugins_status(struct pvx *x, struct pvx_figures *f)
{
	const struct pvx_plugin *const *p;
	unsigned int n = 0;

	for (p = x->rec.plugins; p && *p; p++)
		n += (*p)->status != NULL;
	if (!n)
		return 0;
	f->plugins = calloc(n, sizeof(*f->plugins));
	if (!f->plugins)
		return -1;
	for (p = x->rec.plugins; p && *p; p++) {
		if (!(*p)->status)
			continue;
		f->plugins[f->nplugins].type = (*p)->type;
		f->plugins[f->nplugins].json = pvx_plugin_status(*p, x);
		if (!f->plugins[f->nplugins].json)
			return -1;
		f->nplugins++;
	}
	return 0;
}

int pvx_figures_collect(struct pvx *x, struct pvx_figures *f)
{
	struct pvx_frontend *fe;
	struct pvx_backend *b;
	struct pvx_fig_frontend *ff;
	unsigned int nfe = 0, nbe = 0;

	memset(f, 0, sizeof(*f));
	dl_list_for_each (fe, &x->frontends, struct pvx_frontend, list) {
		if (fe->closed)
			continue;
		nfe++;
		nbe += pvx_frontend_pool_size(fe);
	}
	// One allocation each, at least one element (calloc(0) may be NULL).
	f->fe = calloc(nfe ? nfe : 1, sizeof(*f->fe));
	f->be = calloc(nbe ? nbe : 1, sizeof(*f->be));
	if (!f->fe || !f->be)
		goto fail;
	dl_list_for_each (fe, &x->frontends, struct pvx_frontend, list) {
		if (fe->closed)
			continue;
		ff = &f->fe[f->nfe++];
		pvx_frontend_figures(fe, ff);
		ff->be = &f->be[f->nbe];
		pvx_pool_for_each(b, fe)
		{
			pvx_backend_figures(b, &f->be[f->nbe++]);
			ff->nbe++;
		}
	}
	pvx_workers_figures(x->workers, f);
	f->dp_wanted = pvx_datapath_name(pvx_datapath_wanted());
	f->dp_mode = pvx_datapath_name(pvx_datapath_chosen(&f->dp_why));
	f->dp_now = x->sm_now;
	f->dp_total = x->sm_total;
	f->dp_refused = x->sm_refused;
	if (plugins_status(x, f))
		goto fail;
	return 0;
fail:
	pv_log(ERROR, "figures: out of memory");
	pvx_figures_free(f);
	return -1;
}

void pvx_figures_free(struct pvx_figures *f)
{
	unsigned int i;

	for (i = 0; i < f->nplugins; i++)
		free(f->plugins[i].json);
	free(f->plugins);
	free(f->fe);
	free(f->be);
	memset(f, 0, sizeof(*f));
}
