#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The one translation unit that holds jsmn's implementation; the same
// options as utils/json.h so that jsmntok_t agrees.
#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

#include "utils/json.h"

static int valid_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p == end || *p < '0' || *p > '9')
		return 0;
	if (*p == '0')
		p++;
	else
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	if (p < end && *p == '.') {
		p++;
		if (p == end || *p < '0' || *p > '9')
			return 0;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || *p < '0' || *p > '9')
			return 0;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	return p == end;
}

static int valid_primitive(const struct pv_json *doc, int i)
{
	const char *p = doc->js + doc->tok[i].start;
	size_t n = doc->tok[i].end - doc->tok[i].start;

	if ((n == 4 && !memcmp(p, "true", 4)) ||
	    (n == 5 && !memcmp(p, "false", 5)) ||
	    (n == 4 && !memcmp(p, "null", 4)))
		return 1;
	return valid_number(p, p + n);
}

// jsmn is permissive in places; check what it leaves to us: keys are
// strings followed by a value, primitives are literals or numbers, nesting
// is bounded, and the value covers the whole input.
// Where the token's text starts and ends: a string token covers only
// what is between its quotes.
static size_t raw_start(const struct pv_json *doc, int i)
{
	return doc->tok[i].start - (doc->tok[i].type == JSMN_STRING);
}

static size_t raw_end(const struct pv_json *doc, int i)
{
	return doc->tok[i].end + (doc->tok[i].type == JSMN_STRING);
}

// 1 when js[from..to) is whitespace around exactly one sep (or only
// whitespace when sep is 0).
static int gap_ok(const struct pv_json *doc, size_t from, size_t to, char sep)
{
	int seen = 0;

	for (; from < to; from++) {
		char c = doc->js[from];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c != sep || seen++)
			return 0;
	}
	return seen == (sep != 0);
}

// jsmn leaves commas unchecked ("[1 2]", "[1,]", "[,1]" parse): each
// container's children must be separated by exactly one comma (and each
// key from its value by one colon), with none before the first or after
// the last.
static int separators_ok(const struct pv_json *doc, int i)
{
	const jsmntok_t *t = &doc->tok[i];
	size_t prev = t->start + 1;
	int el = i + 1, n;

	for (n = 0; n < t->size; n++) {
		if (el >= doc->ntok ||
		    !gap_ok(doc, prev, raw_start(doc, el), n ? ',' : 0))
			return 0;
		if (t->type == JSMN_OBJECT) {
			if (el + 1 >= doc->ntok ||
			    !gap_ok(doc, raw_end(doc, el),
				    raw_start(doc, el + 1), ':'))
				return 0;
			el++;
		}
		prev = raw_end(doc, el);
		el = pv_json_next(doc, el);
	}
	return gap_ok(doc, prev, t->end - 1, 0);
}

static const char *validate(struct pv_json *doc)
{
	const char *reason = NULL;
	int *depth;
	int i;
	size_t k;

	// Tokens come parents first, so one pass gives every depth.
	depth = calloc(doc->ntok, sizeof(*depth));
	if (!depth)
		return "out of memory";
	for (i = 0; i < doc->ntok && !reason; i++) {
		jsmntok_t *t = &doc->tok[i];
		int p = t->parent;

		if (p >= 0)
			depth[i] = depth[p] + (doc->tok[p].type != JSMN_STRING);
		if (depth[i] > PV_JSON_MAX_DEPTH)
			reason = "nesting too deep";
		else if (t->type == JSMN_PRIMITIVE && !valid_primitive(doc, i))
			reason = "invalid literal";
		else if (t->type == JSMN_OBJECT && t->size > 0) {
			int key = i + 1, n;
			for (n = 0; n < t->size && !reason; n++) {
				if (key >= doc->ntok ||
				    doc->tok[key].type != JSMN_STRING ||
				    doc->tok[key].size != 1)
					reason = "object key without value";
				else
					key = pv_json_next(doc, key + 1);
			}
		}
		if (!reason &&
		    (t->type == JSMN_OBJECT || t->type == JSMN_ARRAY) &&
		    !separators_ok(doc, i))
			reason = "misplaced comma or colon";
	}
	free(depth);
	if (reason)
		return reason;
	if (pv_json_next(doc, 0) != doc->ntok)
		return "trailing data";
	if (!gap_ok(doc, 0, raw_start(doc, 0), 0))
		return "leading data";
	// A string token ends before its closing quote.
	k = doc->tok[0].end + (doc->tok[0].type == JSMN_STRING);
	for (; k < doc->len; k++) {
		char c = doc->js[k];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return "trailing data";
	}
	return NULL;
}

// 1 if text nests containers deeper than PV_JSON_MAX_DEPTH allows, in one
// linear pass. It must run before jsmn: jsmn finds the container a closing
// bracket ends by walking back over every container already closed, so a
// document of n nested brackets costs it n^2 steps. With depth bounded here,
// that walk is bounded too. The lexing follows jsmn's strict mode (a quote
// opens a string only where a value starts; a primitive runs to the next
// delimiter, quotes and brackets included), so that what this pass counts
// are the brackets jsmn sees.
static int nests_too_deep(const char *text, size_t len)
{
	enum { STRUCTURE, STRING, PRIMITIVE } state = STRUCTURE;
	// A container at depth PV_JSON_MAX_DEPTH may exist (empty); its
	// elements may not, and validate() tells the two apart.
	const int max_open = PV_JSON_MAX_DEPTH + 1;
	int open = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = text[i];

		if (state == STRING) {
			if (c == '\\')
				i++;
			else if (c == '"')
				state = STRUCTURE;
			continue;
		}
		if (state == PRIMITIVE) {
			if (c != ':' && c != '\t' && c != '\r' && c != '\n' &&
			    c != ' ' && c != ',' && c != ']' && c != '}')
				continue;
			state = STRUCTURE;
		}
		switch (c) {
		case '"':
			state = STRING;
			break;
		case '[':
		case '{':
			if (++open > max_open)
				return 1;
			break;
		case ']':
		case '}':
			open -= open > 0;
			break;
		case ':':
		case ',':
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			break;
		default:
			state = PRIMITIVE;
		}
	}
	return 0;
}

int pv_json_parse(struct pv_json *doc, const char *text, size_t len,
		  const char **reason)
{
	jsmn_parser parser;
	int n;

	memset(doc, 0, sizeof(*doc));
	if (len > PV_JSON_MAX_SIZE) {
		*reason = "document too large";
		return -1;
	}
	if (memchr(text, '\0', len)) {
		*reason = "NUL byte in document";
		return -1;
	}
	if (nests_too_deep(text, len)) {
		*reason = "nesting too deep";
		return -1;
	}
	doc->js = malloc(len + 1);
	if (!doc->js) {
		*reason = "out of memory";
		return -1;
	}
	memcpy(doc->js, text, len);
	doc->js[len] = '\0';
	doc->len = len;

	jsmn_init(&parser);
	n = jsmn_parse(&parser, doc->js, len, NULL, 0);
	if (n == JSMN_ERROR_PART || n == 0) {
		*reason = n ? "truncated JSON" : "empty document";
		goto out_free;
	}
	if (n < 0) {
		*reason = "invalid JSON";
		goto out_free;
	}
	doc->tok = calloc(n, sizeof(*doc->tok));
	if (!doc->tok) {
		*reason = "out of memory";
		goto out_free;
	}
	jsmn_init(&parser);
	doc->ntok = jsmn_parse(&parser, doc->js, len, doc->tok, n);
	if (doc->ntok != n) {
		// Counting mode does not notice unclosed containers; the
		// second pass does.
		*reason = doc->ntok == JSMN_ERROR_PART ? "truncated JSON"
						       : "invalid JSON";
		goto out_free;
	}
	*reason = validate(doc);
	if (*reason)
		goto out_free;
	return 0;

out_free:
	pv_json_free(doc);
	return -1;
}

void pv_json_free(struct pv_json *doc)
{
	free(doc->js);
	free(doc->tok);
	memset(doc, 0, sizeof(*doc));
}

int pv_json_next(const struct pv_json *doc, int i)
{
	int end = doc->tok[i].end;

	// Tokens are in document order, so a value's subtree is every
	// following token that starts before the value ends.
	for (i++; i < doc->ntok && doc->tok[i].start < end; i++)
		;
	return i;
}

int pv_json_first(const struct pv_json *doc, int i)
{
	if (i < 0 || i >= doc->ntok || doc->tok[i].size == 0)
		return -1;
	if (doc->tok[i].type != JSMN_OBJECT && doc->tok[i].type != JSMN_ARRAY)
		return -1;
	return i + 1;
}

int pv_json_size(const struct pv_json *doc, int i)
{
	if (i < 0 || i >= doc->ntok)
		return 0;
	if (doc->tok[i].type != JSMN_OBJECT && doc->tok[i].type != JSMN_ARRAY)
		return 0;
	return doc->tok[i].size;
}

static int is_type(const struct pv_json *doc, int i, jsmntype_t type)
{
	return i >= 0 && i < doc->ntok && doc->tok[i].type == type;
}

int pv_json_is_string(const struct pv_json *doc, int i)
{
	return is_type(doc, i, JSMN_STRING);
}

int pv_json_is_object(const struct pv_json *doc, int i)
{
	return is_type(doc, i, JSMN_OBJECT);
}

int pv_json_is_array(const struct pv_json *doc, int i)
{
	return is_type(doc, i, JSMN_ARRAY);
}

int pv_json_is_null(const struct pv_json *doc, int i)
{
	return is_type(doc, i, JSMN_PRIMITIVE) &&
	       doc->js[doc->tok[i].start] == 'n';
}

int pv_json_eq(const struct pv_json *doc, int i, const char *s)
{
	size_t n = strlen(s);

	return is_type(doc, i, JSMN_STRING) &&
	       (size_t)(doc->tok[i].end - doc->tok[i].start) == n &&
	       !memcmp(doc->js + doc->tok[i].start, s, n);
}

int pv_json_get(const struct pv_json *doc, int obj, const char *key)
{
	int k, n;

	if (!pv_json_is_object(doc, obj))
		return -1;
	k = obj + 1;
	for (n = 0; n < doc->tok[obj].size; n++) {
		if (pv_json_eq(doc, k, key)) {
			if (pv_json_is_null(doc, k + 1))
				return -1;
			return k + 1;
		}
		k = pv_json_next(doc, k + 1);
	}
	return -1;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		*o++ = cp;
	} else if (cp < 0x800) {
		*o++ = 0xc0 | (cp >> 6);
		*o++ = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		*o++ = 0xe0 | (cp >> 12);
		*o++ = 0x80 | ((cp >> 6) & 0x3f);
		*o++ = 0x80 | (cp & 0x3f);
	} else {
		*o++ = 0xf0 | (cp >> 18);
		*o++ = 0x80 | ((cp >> 12) & 0x3f);
		*o++ = 0x80 | ((cp >> 6) & 0x3f);
		*o++ = 0x80 | (cp & 0x3f);
	}
	return o;
}

char *pv_json_strdup(const struct pv_json *doc, int i)
{
	const char *p, *end;
	char *out, *o;

	if (!pv_json_is_string(doc, i))
		return NULL;
	p = doc->js + doc->tok[i].start;
	end = doc->js + doc->tok[i].end;
	// Decoding never grows the text: \uXXXX (6 bytes) gives at most 4.
	out = malloc(end - p + 1);
	if (!out)
		return NULL;
	for (o = out; p < end; p++) {
		unsigned cp, lo;
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case '"':
		case '\\':
		case '/':
			*o++ = *p;
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			// jsmn checked four hex digits follow.
			if (hex4(p + 1, &cp))
				goto out_free;
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && end - p > 6 &&
			    p[1] == '\\' && p[2] == 'u' && !hex4(p + 3, &lo) &&
			    lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd;
			}
			// A NUL inside a C string would silently cut it.
			if (cp == 0)
				goto out_free;
			o = put_utf8(o, cp);
			break;
		default:
			goto out_free;
		}
	}
	*o = '\0';
	return out;

out_free:
	free(out);
	return NULL;
}

int pv_json_int(const struct pv_json *doc, int i, long long *out)
{
	const char *p;
	char *end;
	long long v;

	if (!is_type(doc, i, JSMN_PRIMITIVE))
		return -1;
	p = doc->js + doc->tok[i].start;
	if (*p != '-' && (*p < '0' || *p > '9'))
		return -1;
	errno = 0;
	v = strtoll(p, &end, 10);
	if (errno || end != doc->js + doc->tok[i].end)
		return -1;
	*out = v;
	return 0;
}

int pv_json_bool(const struct pv_json *doc, int i, int *out)
{
	if (!is_type(doc, i, JSMN_PRIMITIVE))
		return -1;
	if (doc->js[doc->tok[i].start] == 't')
		*out = 1;
	else if (doc->js[doc->tok[i].start] == 'f')
		*out = 0;
	else
		return -1;
	return 0;
}

void pv_json_excerpt(const struct pv_json *doc, int i, char *buf, size_t n)
{
	const jsmntok_t *t;
	int len, quote;

	if (n == 0)
		return;
	if (i < 0 || i >= doc->ntok) {
		snprintf(buf, n, "(none)");
		return;
	}
	t = &doc->tok[i];
	quote = t->type == JSMN_STRING;
	len = t->end - t->start;
	if (len > 40) {
		snprintf(buf, n, "%s%.37s...", quote ? "\"" : "",
			 doc->js + t->start);
		return;
	}
	snprintf(buf, n, quote ? "\"%.*s\"" : "%.*s", len, doc->js + t->start);
}

void pv_json_ser_init(struct pv_json_ser *s)
{
	memset(s, 0, sizeof(*s));
}

static void put(struct pv_json_ser *s, const char *p, size_t n)
{
	if (s->failed)
		return;
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 256;
		char *buf;
		while (s->len + n + 1 > cap)
			cap *= 2;
		buf = realloc(s->buf, cap);
		if (!buf) {
			s->failed = 1;
			return;
		}
		s->buf = buf;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

// A value or key needs a comma unless it opens a container or follows a key.
static void sep(struct pv_json_ser *s)
{
	char last;

	if (!s->len || s->failed)
		return;
	last = s->buf[s->len - 1];
	if (last != '{' && last != '[' && last != ':')
		put(s, ",", 1);
}

void pv_json_ser_object_begin(struct pv_json_ser *s)
{
	sep(s);
	put(s, "{", 1);
}

void pv_json_ser_object_end(struct pv_json_ser *s)
{
	put(s, "}", 1);
}

void pv_json_ser_array_begin(struct pv_json_ser *s)
{
	sep(s);
	put(s, "[", 1);
}

void pv_json_ser_array_end(struct pv_json_ser *s)
{
	put(s, "]", 1);
}

size_t pv_json_escape(char *buf, size_t n, const char *value)
{
	size_t need = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)value; *p; p++) {
		char esc[8];
		size_t k;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = *p;
			k = 2;
		} else if (*p < 0x20) {
			k = snprintf(esc, sizeof(esc), "\\u%04x", *p);
		} else {
			esc[0] = *p;
			k = 1;
		}
		if (need + k < n)
			memcpy(buf + need, esc, k);
		need += k;
	}
	if (n)
		buf[need < n ? need : n - 1] = '\0';
	return need;
}

static void put_string(struct pv_json_ser *s, const char *value)
{
	char small[256];
	size_t need = pv_json_escape(small, sizeof(small), value);

	put(s, "\"", 1);
	if (need < sizeof(small)) {
		put(s, small, need);
	} else {
		char *big = malloc(need + 1);
		if (!big) {
			s->failed = 1;
			return;
		}
		pv_json_escape(big, need + 1, value);
		put(s, big, need);
		free(big);
	}
	put(s, "\"", 1);
}

void pv_json_ser_key(struct pv_json_ser *s, const char *key)
{
	sep(s);
	put_string(s, key);
	put(s, ":", 1);
}

void pv_json_ser_string(struct pv_json_ser *s, const char *value)
{
	if (!value) {
		pv_json_ser_null(s);
		return;
	}
	sep(s);
	put_string(s, value);
}

void pv_json_ser_int(struct pv_json_ser *s, long long value)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", value);

	sep(s);
	put(s, num, n);
}

void pv_json_ser_bool(struct pv_json_ser *s, int value)
{
	sep(s);
	if (value)
		put(s, "true", 4);
	else
		put(s, "false", 5);
}

void pv_json_ser_null(struct pv_json_ser *s)
{
	sep(s);
	put(s, "null", 4);
}

void pv_json_ser_raw(struct pv_json_ser *s, const char *json)
{
	sep(s);
	put(s, json, strlen(json));
}

char *pv_json_ser_finish(struct pv_json_ser *s, size_t *len)
{
	char *out = s->buf;

	if (s->failed) {
		free(s->buf);
		out = NULL;
	} else if (!out) {
		out = strdup("");
	}
	if (len)
		*len = out ? s->len : 0;
	pv_json_ser_init(s);
	return out;
}
