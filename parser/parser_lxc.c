// Upstream's run.json has no "exec": the container's command is the
// lxc.init.cmd of its lxc.container.conf ("config"), run inside its
// root-volume. pvd runs containers on the host's root, so it takes that
// command (and lxc.environment) from the configuration when the state
// holds the file's text, and says what it needs when it does not.

#define MODULE_NAME "parser"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parser/internal.h"
#include "utils/json.h"

// The longest configuration read, and the longest "config" path.
#define MAX_CONF_PATH 255

// Splits s at spaces and tabs into *v (as liblxc splits lxc.init.cmd:
// no quoting, no escapes). Returns 0 or -1 (out of memory).
static int split_words(const char *s, char ***v)
{
	const char *w;
	char *d;
	int n = 0;

	pv_strv_free(*v);
	*v = NULL;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		for (w = s; *s && *s != ' ' && *s != '\t'; s++)
			;
		d = strndup(w, s - w);
		if (!d || pv_parser_strv_push(v, &n, d))
			return -1;
	}
	return 0;
}

// Trims leading and trailing white space of s in place; returns the start.
static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int pv_parser_lxc_conf(const char *text, char ***argv, char ***env)
{
	char *copy = strdup(text), *line, *next, *eq, *key, *val;
	size_t len;
	int nenv = 0, ret = -1;

	*argv = NULL;
	*env = NULL;
	if (!copy)
		return -1;
	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line = trim(line);
		if (!*line || *line == '#' || !(eq = strchr(line, '=')))
			continue;
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		// liblxc drops one pair of quotes around a whole value.
		len = strlen(val);
		if (len > 1 && (*val == '"' || *val == '\'') &&
		    val[len - 1] == *val) {
			val[len - 1] = '\0';
			val++;
		}
		if (!strcmp(key, "lxc.init.cmd") ||
		    !strcmp(key, "lxc.init_cmd")) {
			if (split_words(val, argv))
				goto out;
		} else if (!strcmp(key, "lxc.environment")) {
			// An empty value clears the list, as in liblxc; a bare
			// KEY would pass on the host's value, which is pvd's
			// environment and not the device's: left out.
			if (!*val) {
				pv_strv_free(*env);
				*env = NULL;
				nenv = 0;
			} else if (strchr(val, '=') && *val != '=') {
				char *d = strdup(val);

				if (!d || pv_parser_strv_push(env, &nenv, d))
					goto out;
			}
		}
	}
	// An empty lxc.init.cmd is no command.
	if (*argv && !(*argv)[0]) {
		free(*argv);
		*argv = NULL;
	}
	ret = 0;
out:
	if (ret) {
		pv_strv_free(*argv);
		pv_strv_free(*env);
		*argv = *env = NULL;
	}
	free(copy);
	return ret;
}

// 1 for a relative path of plain components (no "", ".", "..", no
// control characters): "config" names a file of the container's own
// directory in the state.
static int valid_conf_path(const char *s)
{
	const char *c;
	size_t n;

	if (!*s || *s == '/' || strlen(s) > MAX_CONF_PATH)
		return 0;
	for (c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return 0;
	for (c = s; *c; c += n + (c[n] == '/')) {
		n = strcspn(c, "/");
		if (!n || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
	}
	return 1;
}

// 1 if env (KEY=VALUE items) sets the variable of kv.
static int env_has(char **env, const char *kv)
{
	size_t n = strcspn(kv, "=");

	for (; env && *env; env++)
		if (!strncmp(*env, kv, n) && (*env)[n] == '=')
			return 1;
	return 0;
}

// Adds the configuration's variables that run.json's "env" does not set
// (run.json, the more specific, wins). Returns 0 or -1 (out of memory).
static int merge_env(struct pv_platform *p, char **conf_env)
{
	char **e, *d;
	int n = 0;

	while (p->env && p->env[n])
		n++;
	for (e = conf_env; e && *e; e++) {
		if (env_has(p->env, *e))
			continue;
		d = strdup(*e);
		if (!d || pv_parser_strv_push(&p->env, &n, d))
			return -1;
	}
	return 0;
}

#define NEEDS                                                                  \
	"pvd runs containers on the host's root and needs \"exec\" (an argv "  \
	"array, or a command string)"

void pv_parser_lxc_exec(struct pv_parser_ctx *c, struct pv_platform *p, int obj)
{
	char *conf = NULL, *key = NULL, *text = NULL, **argv = NULL,
	     **env = NULL, why[160];

	if (pv_parser_get_str(c, obj, "config", "config", OPTIONAL, &conf))
		return;
	if (!conf) {
		pv_parser_err(c, "exec",
			      "missing: " NEEDS
			      ", or \"config\" naming an lxc.container.conf "
			      "with lxc.init.cmd");
		return;
	}
	if (!valid_conf_path(conf)) {
		pv_parser_err(
			c, "config",
			"%s is not a file of the container's directory "
			"(a relative path without '.' or '..' parts)",
			pv_parser_ex(c, pv_json_get(c->doc, obj, "config")));
		goto out;
	}
	if (asprintf(&key, "%s/%s", p->name, conf) < 0) {
		key = NULL;
		pv_parser_oom(c, "config");
		goto out;
	}
	if (!c->files ||
	    c->files->read(c->files->arg, key, &text, why, sizeof(why))) {
		if (!c->files)
			snprintf(why, sizeof(why), "is not in the state");
		pv_parser_err(c, "exec",
			      "missing, and %s %s: " NEEDS
			      " or the text of that file with lxc.init.cmd",
			      key, why);
		goto out;
	}
	if (pv_parser_lxc_conf(text, &argv, &env)) {
		pv_parser_oom(c, "config");
		goto out;
	}
	if (!argv) {
		pv_parser_err(c, "exec",
			      "missing, and %s has no lxc.init.cmd: " NEEDS,
			      key);
		goto out;
	}
	if (merge_env(p, env)) {
		pv_parser_oom(c, "config");
		goto out;
	}
	pv_log(DEBUG, "%s/run.json: exec from %s: %s", p->name, key, argv[0]);
	p->exec = argv;
	argv = NULL;
out:
	pv_strv_free(argv);
	pv_strv_free(env);
	free(text);
	free(key);
	free(conf);
}
