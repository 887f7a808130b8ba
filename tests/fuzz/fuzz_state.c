// libFuzzer target: the state parser (pantavisor-service-system@1), as
// `pvd --check` runs it: parse, lease the addresses, build the graph. A
// state that pvd accepts must give a graph that is valid JSON and that
// pv-xconnect accepts whole (no link skipped as bad): pvd and pv-xconnect
// must agree about every graph pvd can produce.
#define MODULE_NAME "fuzz-state"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parser/parser.h"
#include "state.h"
#include "utils/errors.h"
#include "utils/json.h"
#include "xconnect.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Logs would only slow the fuzzer down; findings are crashes and aborts.
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pv_log_set_level(FATAL);
	return 0;
}

// Stops the run with the reason on stderr (libFuzzer saves the input).
static void finding(const char *what, const char *graph,
		    const struct pv_errors *errs)
{
	fprintf(stderr, "fuzz-state: %s\ngraph: %s\n", what,
		graph ? graph : "(none)");
	if (errs)
		pv_errors_print(errs, stderr);
	abort();
}

// The graph pvd would serve must be one that pv-xconnect takes whole.
static void check_graph(const char *graph)
{
	struct pv_json doc = { 0 };
	struct pvx_graph g;
	struct pv_errors errs;
	const char *reason;

	if (pv_json_parse(&doc, graph, strlen(graph), &reason) == -1)
		finding("the graph is not valid JSON", graph, NULL);
	pv_json_free(&doc);
	if (strchr(graph, '\n'))
		finding("the graph is not on one line", graph, NULL);
	pv_errors_init(&errs);
	pvx_graph_init(&g);
	if (pvx_graph_parse(&g, graph, strlen(graph), &errs) == -1 ||
	    errs.count)
		finding("pv-xconnect refuses the graph pvd made", graph, &errs);
	pvx_graph_clear(&g);
	pv_errors_clear(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_errors errs;
	struct pv_state *s;
	char *text, *graph;

	// A NUL-terminated copy: any read past the input is then an ASan
	// report, not luck.
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	pv_errors_init(&errs);
	s = pv_parser_parse_system1(text, size, &errs);
	if (s && errs.count)
		finding("a state with errors was accepted", NULL, &errs);
	if (!s && !errs.count && !errs.failed)
		finding("a state was refused without a reason", NULL, NULL);
	if (s && pv_state_lease_addresses(s, &errs) == 0) {
		graph = pv_state_get_xconnect_graph_json(s);
		if (graph)
			check_graph(graph);
		free(graph);
		pv_state_release_addresses(s);
	}
	pv_state_free(s);
	pv_errors_clear(&errs);
	free(text);
	return 0;
}
