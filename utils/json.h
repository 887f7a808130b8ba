#ifndef PV_JSON_H
#define PV_JSON_H

#include <stddef.h>

#ifndef JSMN_H
#define JSMN_HEADER
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>
#endif

// Deeper documents are refused: nothing we read nests this far, and a
// bound keeps every walker's cost predictable.
#define PV_JSON_MAX_DEPTH 32
// Larger documents are refused.
#define PV_JSON_MAX_SIZE (4 * 1024 * 1024)

// A parsed document: tokens index into our own NUL-terminated copy.
struct pv_json {
	char *js;
	size_t len;
	jsmntok_t *tok;
	int ntok;
};

// Parses text (len bytes, need not be NUL-terminated) as exactly one JSON
// value. Returns 0, or -1 with *reason set to a static description.
int pv_json_parse(struct pv_json *doc, const char *text, size_t len,
		  const char **reason);

// Frees what pv_json_parse allocated; safe on a zeroed struct.
void pv_json_free(struct pv_json *doc);

// Index of the token after the whole value at i (its next sibling).
int pv_json_next(const struct pv_json *doc, int i);

// Index of the value of key in the object at obj, or -1 when obj is not an
// object or has no such key. A key whose value is null counts as absent.
int pv_json_get(const struct pv_json *doc, int obj, const char *key);

// Index of the first element of the array or first key of the object at i,
// or -1 when empty. Step with pv_json_next (objects: key, value, key...).
int pv_json_first(const struct pv_json *doc, int i);

// Number of elements (arrays) or keys (objects) of the token at i.
int pv_json_size(const struct pv_json *doc, int i);

// 1 if the token at i is of that kind.
int pv_json_is_string(const struct pv_json *doc, int i);
int pv_json_is_object(const struct pv_json *doc, int i);
int pv_json_is_array(const struct pv_json *doc, int i);
int pv_json_is_null(const struct pv_json *doc, int i);

// 1 if the string token at i equals s exactly (raw compare, no escapes).
int pv_json_eq(const struct pv_json *doc, int i, const char *s);

// The decoded value of the string token at i (escapes resolved, \u to
// UTF-8), or NULL if i is not a string or holds "\u0000". Caller frees.
char *pv_json_strdup(const struct pv_json *doc, int i);

// Reads a JSON integer (no fraction, no exponent). Returns 0 or -1.
int pv_json_int(const struct pv_json *doc, int i, long long *out);

// Reads true or false. Returns 0 or -1.
int pv_json_bool(const struct pv_json *doc, int i, int *out);

// Copies the token's source text, shortened to fit, for error messages:
// strings keep their quotes so "80" and 80 read differently.
void pv_json_excerpt(const struct pv_json *doc, int i, char *buf, size_t n);

// A compact JSON writer into a growing buffer. Commas are placed for the
// caller. After an allocation failure every call is a no-op and
// pv_json_ser_finish returns NULL.
struct pv_json_ser {
	char *buf;
	size_t len;
	size_t cap;
	int failed;
};

// Starts an empty writer.
void pv_json_ser_init(struct pv_json_ser *s);
void pv_json_ser_object_begin(struct pv_json_ser *s);
void pv_json_ser_object_end(struct pv_json_ser *s);
void pv_json_ser_array_begin(struct pv_json_ser *s);
void pv_json_ser_array_end(struct pv_json_ser *s);
// Writes "key": ; the value call follows.
void pv_json_ser_key(struct pv_json_ser *s, const char *key);
// Writes a string value, escaped; NULL writes null.
void pv_json_ser_string(struct pv_json_ser *s, const char *value);
void pv_json_ser_int(struct pv_json_ser *s, long long value);
void pv_json_ser_bool(struct pv_json_ser *s, int value);
void pv_json_ser_null(struct pv_json_ser *s);
// Writes text that is already valid JSON as one value.
void pv_json_ser_raw(struct pv_json_ser *s, const char *json);
// Returns the NUL-terminated document (caller frees), or NULL after a
// failure; the writer is left empty either way.
char *pv_json_ser_finish(struct pv_json_ser *s, size_t *len);

// Writes value escaped as a JSON string body (no quotes) into buf.
// Returns the length it needed, like snprintf.
size_t pv_json_escape(char *buf, size_t n, const char *value);

#endif
