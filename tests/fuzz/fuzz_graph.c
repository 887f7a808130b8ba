// libFuzzer target: pv-xconnect's side of the graph: the HTTP answer of
// pv-ctrl (pvx_http_body) and the xconnect-graph parser (pvx_graph_parse)
// with what reconcile does with each link (key, comparison).
#define MODULE_NAME "fuzz-graph"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utils/errors.h"
#include "xconnect.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pv_log_set_level(FATAL);
	return 0;
}

// Parses text as a graph and checks what reconcile relies on: every link
// kept has the fields every link has, a key, and equals itself; keys are
// found again.
static void parse_graph(const char *text, size_t len)
{
	struct pv_errors errs;
	struct pvx_graph g;
	struct pvx_link *l;
	char *key;
	int n = 0;

	pv_errors_init(&errs);
	pvx_graph_init(&g);
	if (pvx_graph_parse(&g, text, len, &errs) == -1) {
		if (g.count || (!errs.count && !errs.failed))
			abort(); // refused: empty, with a reason
	}
	dl_list_for_each (l, &g.links, struct pvx_link, list) {
		if (!l->type || !l->name || !l->provider || !l->target ||
		    !l->socket || !l->key || !l->label)
			abort();
		if (!pvx_link_equal(l, l))
			abort();
		key = pvx_link_key(l);
		if (key && (strcmp(key, l->key) || !pvx_graph_find(&g, key)))
			abort();
		free(key);
		n++;
	}
	if (n != g.count)
		abort();
	pvx_graph_clear(&g);
	pv_errors_clear(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body, *reason;
	size_t body_len;
	char *text;

	text = malloc(size ? size : 1);
	if (!text)
		return 0;
	// A copy of exactly the input: neither parser may rely on a NUL
	// after it (ASan reports any read past it).
	memcpy(text, data, size);
	if (size >= 5 && !memcmp(text, "HTTP/", 5)) {
		// A whole pv-ctrl answer, as fetch.c reads it.
		if (pvx_http_body(text, size, &body, &body_len, &reason) == 0) {
			if (body < text || body + body_len > text + size)
				abort();
			parse_graph(body, body_len);
		}
	} else {
		parse_graph(text, size);
	}
	free(text);
	return 0;
}
