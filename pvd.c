// pvd: the host side of Pantavisor's ingress slice. Parses arguments,
// loads and validates the state, then either prints the xconnect-graph
// (--check) or runs the daemon.

#define MODULE_NAME "pvd"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "parser/parser.h"
#include "state.h"

#define DEFAULT_CTRL	"/run/pantavisor/pv/pv-ctrl"
#define DEFAULT_RUN_DIR "/run/pantavisor/pvd"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pvd --state PATH [--check] [--ctrl SOCK] [--run-dir "
		"DIR]\n"
		"           [--xconnect PATH] [--no-xconnect] [--verbose]\n"
		"\n"
		"  --state PATH     state file or state directory\n"
		"  --check          validate, print the xconnect-graph, start "
		"nothing\n"
		"  --ctrl SOCK      pv-ctrl socket (default " DEFAULT_CTRL ")\n"
		"  --run-dir DIR    container logs (default " DEFAULT_RUN_DIR
		")\n"
		"  --xconnect PATH  pv-xconnect binary (default: beside pvd, "
		"else PATH)\n"
		"  --no-xconnect    do not start pv-xconnect\n"
		"  --verbose        debug logging\n");
}

// pv-xconnect beside our own binary, else the bare name for execvp's PATH
// search. Caller frees.
static char *find_xconnect(void)
{
	char self[PATH_MAX], *slash, *path;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash && asprintf(&path, "%.*s/pv-xconnect",
				      (int)(slash - self), self) > 0) {
			if (access(path, X_OK) == 0)
				return path;
			free(path);
		}
	}
	return strdup("pv-xconnect");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'c' },
		{ "ctrl", required_argument, NULL, 'C' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "xconnect", required_argument, NULL, 'x' },
		{ "no-xconnect", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_daemon_options opts = {
		.ctrl_path = DEFAULT_CTRL,
		.run_dir = DEFAULT_RUN_DIR,
	};
	const char *state_path = NULL;
	char *xconnect = NULL;
	struct pv_errors errs;
	struct pv_state *s;
	int check = 0, opt, ret;

	pv_log_set_program("pvd");
	// One line of our own on bad usage, not getopt's plus ours.
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			state_path = optarg;
			break;
		case 'c':
			check = 1;
			break;
		case 'C':
			opts.ctrl_path = optarg;
			break;
		case 'r':
			opts.run_dir = optarg;
			break;
		case 'x':
			opts.xconnect_path = optarg;
			break;
		case 'n':
			opts.no_xconnect = 1;
			break;
		case 'v':
			pv_log_set_level(DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr,
				"pvd: option %s needs an argument; try 'pvd "
				"--help'\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr,
				"pvd: unknown option %s; try 'pvd --help'\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"pvd: unexpected argument '%s'; try 'pvd --help'\n",
			argv[optind]);
		return 2;
	}
	if (!state_path) {
		fprintf(stderr,
			"pvd: --state PATH is required; try 'pvd --help'\n");
		return 2;
	}

	pv_errors_init(&errs);
	s = pv_parser_load(state_path, &errs);
	if (s && pv_state_lease_addresses(s, &errs) == -1) {
		pv_state_free(s);
		s = NULL;
	}
	if (!s) {
		pv_errors_print(&errs, stderr);
		pv_errors_clear(&errs);
		return 1;
	}
	pv_errors_clear(&errs);

	if (check) {
		char *graph = pv_state_get_xconnect_graph_json(s);
		ret = graph ? 0 : 1;
		if (graph)
			printf("%s\n", graph);
		else
			fprintf(stderr, "pvd: out of memory\n");
		free(graph);
		pv_state_free(s);
		return ret;
	}

	if (!opts.xconnect_path) {
		xconnect = find_xconnect();
		opts.xconnect_path = xconnect;
	}
	ret = pv_daemon_run(s, &opts);
	free(xconnect);
	return ret;
}
