// Upstream's orchestration keys: restart_policy (upstream's "container"
// and "system" beside pvd's no, on-failure, always), status_goal,
// auto_recovery, and device.json "groups", whose defaults apply to the
// containers that name them.

#define MODULE_NAME "parser"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "parser/internal.h"
#include "utils/json.h"

#define POLICIES "container, system, no, on-failure, always"
#define GOALS	 "MOUNTED, STARTED, READY"
// Longest retry_delay or reset_window, seconds: a day.
#define MAX_SECONDS 86400

// upstream's default groups, used when device.json declares none: data,
// root and platform are system containers; app containers restart on
// failure after 5, 10, 20, ... s, at most 5 times (upstream's app group).
static const struct {
	const char *name, *goal;
	restart_policy_t policy;
	int recovers;
} default_groups[] = {
	{ "data", "MOUNTED", RESTART_SYSTEM, 0 },
	{ "root", "STARTED", RESTART_SYSTEM, 0 },
	{ "platform", "STARTED", RESTART_SYSTEM, 0 },
	{ "app", "STARTED", RESTART_CONTAINER, 1 },
};

static const struct pv_platform_recovery default_recovery = {
	.set = 1,
	.policy = RECOVERY_ON_FAILURE,
	.max_retries = 5,
	.retry_delay_ms = 5000,
	.backoff_milli = 2000,
	.reset_window_ms = 0,
};

// A JSON number of at most 3 decimals in 0..max, as thousandths: seconds
// as milliseconds, a factor as 1/1000s. Returns -1 if reported.
static int get_milli(struct pv_parser_ctx *c, int obj, const char *key,
		     const char *field, const char *what, long long min,
		     long long max, int *out)
{
	int tok = pv_json_get(c->doc, obj, key), i, end, frac = 0, scale;
	const char *js = c->doc->js;
	long long v = 0;

	if (tok < 0)
		return 0;
	i = c->doc->tok[tok].start;
	end = c->doc->tok[tok].end;
	if (pv_json_is_string(c->doc, tok) || i == end || js[i] < '0' ||
	    js[i] > '9')
		goto bad;
	for (; i < end && js[i] >= '0' && js[i] <= '9' && v <= max; i++)
		v = v * 10 + (js[i] - '0');
	if (i < end && js[i] == '.') {
		for (i++, scale = 100;
		     i < end && scale && js[i] >= '0' && js[i] <= '9';
		     i++, scale /= 10)
			frac += (js[i] - '0') * scale;
		if (scale == 100)
			goto bad;
	}
	if (i != end || v * 1000 + frac < min * 1000 || v > max ||
	    (v == max && frac))
		goto bad;
	*out = (int)(v * 1000 + frac);
	return 0;
bad:
	pv_parser_err(c, field,
		      "%s is not %s in %lld..%lld (at most 3 decimals)",
		      pv_parser_ex(c, tok), what, min, max);
	return -1;
}

int pv_parser_get_restart_policy(struct pv_parser_ctx *c, int obj,
				 const char *field, restart_policy_t *out)
{
	static const char *const names[] = {
		[RESTART_NO] = "no",
		[RESTART_ON_FAILURE] = "on-failure",
		[RESTART_ALWAYS] = "always",
		[RESTART_CONTAINER] = "container",
		[RESTART_SYSTEM] = "system",
	};
	size_t i;
	char *s;

	if (pv_parser_get_str(c, obj, "restart_policy", field, OPTIONAL, &s))
		return -1;
	if (!s)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			break;
	free(s);
	if (i == sizeof(names) / sizeof(names[0])) {
		pv_parser_err(c, field,
			      "%s is not a restart policy (" POLICIES ")",
			      pv_parser_ex(c, pv_json_get(c->doc, obj,
							  "restart_policy")));
		return -1;
	}
	*out = (restart_policy_t)i;
	return 1;
}

int pv_parser_get_status_goal(struct pv_parser_ctx *c, int obj,
			      const char *field, char **out)
{
	static const char *const goals[] = { "MOUNTED", "STARTED", "READY" };
	size_t i;
	char *s;

	*out = NULL;
	if (pv_parser_get_str(c, obj, "status_goal", field, OPTIONAL, &s) || !s)
		return s ? -1 : 0;
	// upstream writes them in capitals, its docs also in lower case.
	for (i = 0; i < sizeof(goals) / sizeof(goals[0]); i++)
		if (!strcasecmp(s, goals[i]))
			break;
	free(s);
	if (i == sizeof(goals) / sizeof(goals[0])) {
		pv_parser_err(c, field, "%s is not a status goal (" GOALS ")",
			      pv_parser_ex(c, pv_json_get(c->doc, obj,
							  "status_goal")));
		return -1;
	}
	*out = strdup(goals[i]);
	if (!*out) {
		pv_parser_oom(c, field);
		return -1;
	}
	return 0;
}

void pv_parser_get_recovery(struct pv_parser_ctx *c, int obj, const char *base,
			    struct pv_platform_recovery *out)
{
	static const char *const policies[] = {
		[RECOVERY_NO] = "no",
		[RECOVERY_ON_FAILURE] = "on-failure",
		[RECOVERY_ALWAYS] = "always",
		[RECOVERY_UNLESS_STOPPED] = "unless-stopped",
	};
	struct pv_platform_recovery r = { .set = 1, .backoff_milli = 1000 };
	int tok = pv_json_get(c->doc, obj, "auto_recovery"), bad = 0, t;
	const char *f =
		pv_parser_fld(c, "%s%sauto_recovery", base, *base ? "." : "");
	const char *key;
	size_t i;
	char *s;

	if (tok < 0)
		return;
	if (!pv_json_is_object(c->doc, tok)) {
		pv_parser_err(c, f, "expected an object, got %s",
			      pv_parser_ex(c, tok));
		return;
	}
	// PLATFORM.md upstream spells two keys "type" and
	// "maximum_retry_count"; its parser and reference read these.
	key = pv_json_get(c->doc, tok, "policy") >= 0 ? "policy" : "type";
	if (pv_parser_get_str(c, tok, key, pv_parser_fld(c, "%s.%s", f, key),
			      OPTIONAL, &s)) {
		bad = 1;
	} else if (s) {
		for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
			if (!strcmp(s, policies[i]))
				break;
		if (i == sizeof(policies) / sizeof(policies[0])) {
			pv_parser_err(
				c, pv_parser_fld(c, "%s.%s", f, key),
				"%s is not a recovery policy (no, on-failure, "
				"always, unless-stopped)",
				pv_parser_ex(c, pv_json_get(c->doc, tok, key)));
			bad = 1;
		} else {
			r.policy = (recovery_policy_t)i;
		}
		free(s);
	}
	t = pv_json_get(c->doc, tok, "max_retries") >= 0;
	key = t ? "max_retries" : "maximum_retry_count";
	bad |= pv_parser_get_int(c, tok, key, pv_parser_fld(c, "%s.%s", f, key),
				 0, 1000, &r.max_retries);
	bad |= get_milli(
		c, tok, "retry_delay", pv_parser_fld(c, "%s.retry_delay", f),
		"a number of seconds", 0, MAX_SECONDS, &r.retry_delay_ms);
	bad |= get_milli(c, tok, "backoff_factor",
			 pv_parser_fld(c, "%s.backoff_factor", f), "a factor",
			 1, 100, &r.backoff_milli);
	bad |= get_milli(
		c, tok, "reset_window", pv_parser_fld(c, "%s.reset_window", f),
		"a number of seconds", 0, MAX_SECONDS, &r.reset_window_ms);
	if (!bad)
		*out = r;
}

// One group of device.json "groups" (base names it, "groups[0]").
static void parse_group(struct pv_parser_ctx *c, int obj, const char *base)
{
	const char *f_name = pv_parser_fld(c, "%s.name", base);
	struct pv_group *g;
	int bad = 0;

	if (!pv_json_is_object(c->doc, obj)) {
		pv_parser_err(c, base, "expected an object, got %s",
			      pv_parser_ex(c, obj));
		return;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		pv_parser_oom(c, base);
		return;
	}
	g->restart_policy = RESTART_CONTAINER;
	g->timeout = 30;
	bad |= pv_parser_get_str(c, obj, "name", f_name, REQUIRED | NONEMPTY,
				 &g->name);
	if (g->name && pv_state_find_group(c->s, g->name)) {
		pv_parser_err(
			c, f_name, "%s is declared twice",
			pv_parser_ex(c, pv_json_get(c->doc, obj, "name")));
		bad = 1;
	}
	bad |= pv_parser_get_status_goal(
		c, obj, pv_parser_fld(c, "%s.status_goal", base),
		&g->status_goal);
	bad |= pv_parser_get_restart_policy(
		       c, obj, pv_parser_fld(c, "%s.restart_policy", base),
		       &g->restart_policy) < 0;
	bad |= pv_parser_get_int(c, obj, "timeout",
				 pv_parser_fld(c, "%s.timeout", base), 0,
				 MAX_SECONDS, &g->timeout);
	pv_parser_get_recovery(c, obj, base, &g->recovery);
	if (!g->status_goal && !(g->status_goal = strdup("STARTED"))) {
		pv_parser_oom(c, base);
		bad = 1;
	}
	if (bad || !g->name) {
		pv_group_free(g);
		c->groups_bad = 1;
		return;
	}
	dl_list_add_tail(&c->s->groups, &g->list);
}

void pv_parser_groups(struct pv_parser_ctx *c, int dev)
{
	int tok = pv_json_get(c->doc, dev, "groups"), el, i, mark;

	if (tok < 0)
		return;
	c->groups_declared = 1;
	if (!pv_json_is_array(c->doc, tok)) {
		pv_parser_err(c, "groups", "expected an array, got %s",
			      pv_parser_ex(c, tok));
		c->groups_bad = 1;
		return;
	}
	if (pv_parser_too_many(c, tok, "groups", 256)) {
		c->groups_bad = 1;
		return;
	}
	for (el = pv_json_first(c->doc, tok), i = 0;
	     el >= 0 && i < pv_json_size(c->doc, tok);
	     el = pv_json_next(c->doc, el), i++) {
		mark = c->narena;
		parse_group(c, el, pv_parser_fld(c, "groups[%d]", i));
		pv_parser_arena_pop(c, mark);
	}
}

// Adds upstream's default groups, for states whose device.json declares
// none. Returns -1 when out of memory.
static int add_default_groups(struct pv_parser_ctx *c)
{
	struct pv_group *g;
	size_t i;

	for (i = 0; i < sizeof(default_groups) / sizeof(default_groups[0]);
	     i++) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return -1;
		g->name = strdup(default_groups[i].name);
		g->status_goal = strdup(default_groups[i].goal);
		g->restart_policy = default_groups[i].policy;
		g->timeout = 30;
		if (default_groups[i].recovers)
			g->recovery = default_recovery;
		if (!g->name || !g->status_goal) {
			pv_group_free(g);
			return -1;
		}
		dl_list_add_tail(&c->s->groups, &g->list);
	}
	return 0;
}

// The names of the groups, for "is not a group" messages.
static const char *group_names(struct pv_parser_ctx *c)
{
	char buf[256] = "";
	struct pv_group *g;
	size_t n = 0;

	dl_list_for_each (g, &c->s->groups, struct pv_group, list) {
		if (n + strlen(g->name) + 8 >= sizeof(buf)) {
			snprintf(buf + n, sizeof(buf) - n, ", ...");
			break;
		}
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? ", " : "",
			      g->name);
	}
	return pv_parser_arena_keep(c, strdup(buf));
}

void pv_parser_resolve_group(struct pv_parser_ctx *c, struct pv_platform *p)
{
	struct pv_group *g = NULL;

	if (!c->groups_declared && dl_list_empty(&c->s->groups) &&
	    add_default_groups(c)) {
		pv_parser_oom(c, "group");
		return;
	}
	if (p->group) {
		g = pv_state_find_group(c->s, p->group);
		if (!g && !c->groups_bad) {
			pv_parser_err(c, "group",
				      "\"%s\" is not a group of device.json "
				      "groups (%s%s)",
				      p->group,
				      c->groups_declared
					      ? ""
					      : "upstream's defaults: ",
				      group_names(c));
			return;
		}
	}
	// Nothing said: pvd's own default "no" (upstream would put the
	// container in its "platform" group, a system one; see
	// docs/upstream-states.md).
	if (!p->restart_policy_set)
		p->restart_policy = g ? g->restart_policy : RESTART_NO;
	if (!p->status_goal)
		p->status_goal = strdup(g ? g->status_goal : "STARTED");
	if (!p->status_goal)
		pv_parser_oom(c, "status_goal");
	// auto_recovery is inherited whole, never merged field by field.
	if (!p->recovery.set && g && g->recovery.set)
		p->recovery = g->recovery;
	if (!p->recovery.set && p->restart_policy == RESTART_CONTAINER)
		p->recovery = default_recovery;
}
