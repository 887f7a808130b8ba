#ifndef PV_XCONNECT_FIGURES_H
#define PV_XCONNECT_FIGURES_H

// The figures (figures.c): one collector filling a snapshot, renderings
// that only print it (status.c: JSON and Prometheus; statspage.c: HTML).

#include <stddef.h>

#include "figures-t.h"

struct pvx;

// Fills f with every open frontend of x and its backends, the --threads
// workers' last published figures summed in (the live counters are not
// touched), and the plugins' status. Returns 0, or -1 (memory; f is empty
// then). pvx_figures_free undoes it either way.
int pvx_figures_collect(struct pvx *x, struct pvx_figures *f);

// Frees what pvx_figures_collect allocated. f is empty after.
void pvx_figures_free(struct pvx_figures *f);

// Adds a worker's figures for one frontend (be_key NULL) or one of its
// backends into f's entry with the same keys; none: nothing.
void pvx_figures_add(struct pvx_figures *f, const char *fe_key,
		     const char *be_key, const struct pvx_stats *st);

// 1 when the renderings show fe's http counters: an http rule's
// frontend, or one that counted http requests or answers (a worker's).
int pvx_figures_fe_http(const struct pvx_fig_frontend *fe);

// The name of an http status class as the renderings show it: "1xx" ..
// "5xx", "other".
const char *pvx_figures_http_class(enum pvx_http_class c);

// The renderings of a snapshot. Caller frees; NULL on allocation failure.
char *pvx_figures_json(const struct pvx_figures *f, size_t *len);
char *pvx_figures_metrics(const struct pvx_figures *f, size_t *len);
char *pvx_figures_html(const struct pvx_figures *f, int refresh_s, size_t *len);

#endif
