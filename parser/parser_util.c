// Helpers shared by the parser's files: messages that name the file, the
// field and the value, typed field readers that report what is wrong, and
// validators for names and addresses.

#define MODULE_NAME "parser"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parser/internal.h"
#include "utils/addr.h"
#include "utils/json.h"

// Keeps s (allocated) until the next arena_pop below its mark; a static
// stand-in when s is NULL (out of memory).
const char *pv_parser_arena_keep(struct pv_parser_ctx *c, char *s)
{
	char **na;

	if (!s) {
		c->oom = 1;
		return "(out of memory)";
	}
	na = realloc(c->arena, (c->narena + 1) * sizeof(*na));
	if (!na) {
		free(s);
		c->oom = 1;
		return "(out of memory)";
	}
	c->arena = na;
	c->arena[c->narena++] = s;
	return s;
}

// Frees the strings kept since mark (a previous c->narena).
void pv_parser_arena_pop(struct pv_parser_ctx *c, int mark)
{
	while (c->narena > mark)
		free(c->arena[--c->narena]);
}

// A field path built like printf, valid until the enclosing element's
// arena_pop, so paths can be built once and used in many messages.
const char *pv_parser_fld(struct pv_parser_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *b;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&b, fmt, ap);
	va_end(ap);
	return pv_parser_arena_keep(c, n < 0 ? NULL : b);
}

// The token's text as written, shortened, control characters replaced so
// that each error stays one line.
const char *pv_parser_ex(struct pv_parser_ctx *c, int tok)
{
	char *b = malloc(64), *p;

	if (b) {
		pv_json_excerpt(c->doc, tok, b, 64);
		for (p = b; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	return pv_parser_arena_keep(c, b);
}

const char *pv_parser_key(struct pv_parser_ctx *c, int tok)
{
	const jsmntok_t *t = &c->doc->tok[tok];
	int len = t->end - t->start;
	char *b, *p;

	if (asprintf(&b, "%.*s%s", len > 40 ? 37 : len, c->doc->js + t->start,
		     len > 40 ? "..." : "") < 0)
		b = NULL;
	for (p = b; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return pv_parser_arena_keep(c, b);
}

// s quoted as JSON shows it, shortened as pv_parser_ex shortens, control
// characters replaced: for values checked once the document is gone.
const char *pv_parser_quote(struct pv_parser_ctx *c, const char *s)
{
	size_t len = strlen(s);
	char *b, *p;

	if (asprintf(&b, "\"%.*s%s", len > 40 ? 37 : (int)len, s,
		     len > 40 ? "..." : "\"") < 0)
		b = NULL;
	for (p = b; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return pv_parser_arena_keep(c, b);
}

const char *pv_parser_json_reason(const char *reason)
{
	// jsmn says only "invalid"; "invalid JSON (invalid JSON)" would
	// read badly.
	return strcmp(reason, "invalid JSON") ? reason : "syntax error";
}

// Reports one problem of the current file: "KEY: FIELD: REASON" (no FIELD
// part when field is NULL).
void pv_parser_err(struct pv_parser_ctx *c, const char *field, const char *fmt,
		   ...)
{
	char *reason;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&reason, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->errs->failed = 1;
		return;
	}
	if (field)
		pv_errors_add(c->errs, "%s: %s: %s", c->key, field, reason);
	else
		pv_errors_add(c->errs, "%s: %s", c->key, reason);
	free(reason);
}

void pv_parser_oom(struct pv_parser_ctx *c, const char *field)
{
	pv_log(ERROR, "%s: %s: out of memory", c->key, field);
	pv_parser_err(c, field, "out of memory");
	c->oom = 1;
}

// Decodes the string at tok; reports and returns NULL on \u0000 or when
// out of memory.
char *pv_parser_decode(struct pv_parser_ctx *c, int tok, const char *field)
{
	const jsmntok_t *t = &c->doc->tok[tok];
	char *s = pv_json_strdup(c->doc, tok);

	if (s)
		return s;
	if (memmem(c->doc->js + t->start, t->end - t->start, "\\u0000", 6))
		pv_parser_err(c, field, "contains a NUL character (\\u0000)");
	else
		pv_parser_oom(c, field);
	return NULL;
}

// Reads the string obj.key into *out (caller frees). Absent or null:
// *out = NULL, and "missing" is reported when REQUIRED. Returns -1 when
// something was reported.
int pv_parser_get_str(struct pv_parser_ctx *c, int obj, const char *key,
		      const char *field, int flags, char **out)
{
	int tok = pv_json_get(c->doc, obj, key);

	*out = NULL;
	if (tok < 0) {
		if (!(flags & REQUIRED))
			return 0;
		pv_parser_err(c, field, "missing");
		return -1;
	}
	if (!pv_json_is_string(c->doc, tok)) {
		pv_parser_err(c, field, "expected a string, got %s",
			      pv_parser_ex(c, tok));
		return -1;
	}
	*out = pv_parser_decode(c, tok, field);
	if (!*out)
		return -1;
	if ((flags & NONEMPTY) && !**out) {
		pv_parser_err(c, field, "must not be empty");
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

// Reads the integer obj.key in min..max into *out; absent leaves *out as
// it is. Returns -1 when something was reported.
int pv_parser_get_int(struct pv_parser_ctx *c, int obj, const char *key,
		      const char *field, long long min, long long max, int *out)
{
	int tok = pv_json_get(c->doc, obj, key);
	long long v;

	if (tok < 0)
		return 0;
	if (pv_json_int(c->doc, tok, &v) || v < min || v > max) {
		pv_parser_err(c, field, "%s is not an integer in %lld..%lld",
			      pv_parser_ex(c, tok), min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int pv_parser_get_bool(struct pv_parser_ctx *c, int obj, const char *key,
		       const char *field, int *out)
{
	int tok = pv_json_get(c->doc, obj, key);

	if (tok < 0)
		return 0;
	if (pv_json_bool(c->doc, tok, out)) {
		pv_parser_err(c, field, "expected true or false, got %s",
			      pv_parser_ex(c, tok));
		return -1;
	}
	return 0;
}

// A port: a JSON integer or a string of digits, 1..65535.
int pv_parser_get_port(struct pv_parser_ctx *c, int tok, const char *field,
		       int *port)
{
	long long v;
	char *s;
	int ret = -1;

	if (pv_json_is_string(c->doc, tok)) {
		s = pv_json_strdup(c->doc, tok);
		ret = s ? pv_port_parse(s, port) : -1;
		free(s);
	} else if (!pv_json_int(c->doc, tok, &v) && v >= 1 && v <= 65535) {
		*port = (int)v;
		ret = 0;
	}
	if (ret)
		pv_parser_err(c, field, "%s is not a port (1..65535)",
			      pv_parser_ex(c, tok));
	return ret;
}

// Refuses keys of obj not in allowed (NULL-terminated): for the sections
// this project defines, a misspelt option must not pass silently.
void pv_parser_only_keys(struct pv_parser_ctx *c, int obj, const char *base,
			 const char *const *allowed)
{
	const char *const *a;
	int k, n;

	for (k = pv_json_first(c->doc, obj), n = 0;
	     k >= 0 && n < pv_json_size(c->doc, obj);
	     k = pv_json_next(c->doc, k + 1), n++) {
		for (a = allowed; *a; a++)
			if (pv_json_eq(c->doc, k, *a))
				break;
		if (!*a)
			pv_parser_err(c,
				      pv_parser_fld(c, "%s.%s", base,
						    pv_parser_key(c, k)),
				      "unknown field");
	}
}

int pv_parser_valid_name(const char *name)
{
	const char *p;

	if (!name || !*name || *name == '.' || strlen(name) > 64)
		return 0;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		      *p == '-'))
			return 0;
	return 1;
}

// A Linux interface name (dev_valid_name): 1..15 bytes, not "." or "..",
// no '/', ':' or white space; we also keep to printable ASCII.
int pv_parser_valid_ifname(const char *s)
{
	const char *p;

	if (!*s || strlen(s) > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (p = s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == ':')
			return 0;
	return 1;
}

// A unicast MAC address written xx:xx:xx:xx:xx:xx.
int pv_parser_valid_mac(const char *s)
{
	unsigned int b[6];
	char tail;
	int i;

	if (strlen(s) != 17)
		return 0;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':'
			       : !((s[i] >= '0' && s[i] <= '9') ||
				   (s[i] >= 'a' && s[i] <= 'f') ||
				   (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6)
		return 0;
	return !(b[0] & 1);
}

// A host name: dot-separated labels of letters, digits and '-', not
// starting or ending with '-', at most 64 bytes (HOST_NAME_MAX).
int pv_parser_valid_hostname(const char *s)
{
	size_t label = 0;
	const char *p;

	if (!*s || strlen(s) > 64)
		return 0;
	for (p = s; *p; p++) {
		if (*p == '.') {
			if (!label || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
		if (*p == '-' && !label)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label && p[-1] != '-';
}

int pv_parser_valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

// Appends s to the NULL-terminated vector *v (taking s). -1 when out of
// memory (s is freed).
int pv_parser_strv_push(char ***v, int *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv) {
		free(s);
		return -1;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

// Services reached over TCP: a requirement's target is an address and an
// export may give a port.
int pv_parser_tcp_like(service_type_t t)
{
	return t == SVC_TYPE_TCP || t == SVC_TYPE_HTTP || t == SVC_TYPE_REST;
}

// Reads "type" of a service export or requirement.
int pv_parser_get_service_type(struct pv_parser_ctx *c, int obj,
			       const char *base, service_type_t *type)
{
	const char *field = pv_parser_fld(c, "%s.type", base);
	char *s;

	if (pv_parser_get_str(c, obj, "type", field, REQUIRED, &s))
		return -1;
	*type = pv_service_type_from_str(s);
	if (*type == SVC_TYPE_UNKNOWN)
		pv_parser_err(
			c, field,
			"%s is not a service type (" SERVICE_TYPES ")",
			pv_parser_ex(c, pv_json_get(c->doc, obj, "type")));
	free(s);
	return *type == SVC_TYPE_UNKNOWN ? -1 : 0;
}

// An absolute path inside a container: refuses addresses with a reason
// that says why (a container cannot expose another host's port).
int pv_parser_check_socket_path(struct pv_parser_ctx *c, int tok,
				const char *field, const char *path)
{
	return pv_parser_check_socket_text(c, pv_parser_ex(c, tok), field,
					   path);
}

int pv_parser_check_socket_text(struct pv_parser_ctx *c, const char *shown,
				const char *field, const char *path)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (path[0] != '/') {
		if (!pv_addr_parse(path, &ss, &len))
			pv_parser_err(c, field,
				      "%s is not an absolute path: a container "
				      "may only "
				      "export a path inside itself (use "
				      "\"port\" for its "
				      "own TCP port)",
				      shown);
		else
			pv_parser_err(c, field,
				      "%s is not an absolute path (a socket "
				      "path inside "
				      "the container)",
				      shown);
		return -1;
	}
	if (strlen(path) > MAX_SOCKET_PATH) {
		pv_parser_err(c, field, "%s is longer than %d bytes", shown,
			      MAX_SOCKET_PATH);
		return -1;
	}
	return 0;
}

// Why a backend exported as e by p cannot be reached, or NULL.
const char *pv_parser_unreachable(struct pv_platform *p,
				  struct pv_platform_service_export *e)
{
	if (e->socket || p->network.mode != NET_MODE_NONE)
		return NULL;
	return "has no network (network \"none\"), so nothing "
	       "outside it can reach its port; give it a pool or mode "
	       "\"host\", or export a socket";
}

int pv_parser_too_many(struct pv_parser_ctx *c, int tok, const char *field,
		       int limit)
{
	if (pv_json_size(c->doc, tok) <= limit)
		return 0;
	pv_parser_err(c, field, "%d entries, more than the %d allowed",
		      pv_json_size(c->doc, tok), limit);
	return 1;
}

int pv_parser_want_list(struct pv_parser_ctx *c, int tok, const char *field,
			const char *expected, int limit)
{
	if (!pv_json_is_array(c->doc, tok) || !pv_json_size(c->doc, tok)) {
		pv_parser_err(c, field, "expected %s, got %s", expected,
			      pv_parser_ex(c, tok));
		return 0;
	}
	return !pv_parser_too_many(c, tok, field, limit);
}
