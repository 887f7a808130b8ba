// The JSON reader and writer of utils/json.c.

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/unit/kit.h"
#include "utils/json.h"

static int parse(struct pv_json *doc, const char *text, const char **reason)
{
	return pv_json_parse(doc, text, strlen(text), reason);
}

static void test_valid_and_invalid(void)
{
	static const struct {
		const char *text, *reason; // NULL reason: valid
	} cases[] = {
		{ "{}", NULL },
		{ "[]", NULL },
		{ " {\"a\": [1, -2.5e3, true, false, null, \"x\"]} \n", NULL },
		{ "\"just a string\"", NULL },
		{ "", "empty document" },
		{ "   ", "empty document" },
		{ "{", "truncated JSON" },
		{ "{\"a\":", "truncated JSON" },
		{ "[1, 2", "truncated JSON" },
		{ "\"abc", "truncated JSON" },
		{ "{\"a\" 1}", "invalid JSON" },
		{ "{\"a\": tru}", "invalid literal" },
		{ "{\"a\": 01}", "invalid literal" },
		{ "{\"a\": 1.}", "invalid literal" },
		{ "{\"a\": -}", "invalid literal" },
		{ "{\"a\": 1} {}", "trailing data" },
		{ "{\"a\": 1} x", "invalid JSON" },
		{ "{\"a\": \"\\x\"}", "invalid JSON" },
	};
	struct pv_json doc;
	const char *reason;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reason = NULL;
		ret = parse(&doc, cases[i].text, &reason);
		if (cases[i].reason) {
			CHECK(ret == -1);
			CHECK_STR(reason, cases[i].reason);
		} else {
			CHECK(ret == 0);
			if (ret)
				fprintf(stderr, "  %s: %s\n", cases[i].text,
					reason);
		}
		pv_json_free(&doc);
	}

	// A NUL byte inside the text is refused, not read as the end.
	ret = pv_json_parse(&doc, "{\"a\":\"b\0c\"}", 11, &reason);
	CHECK(ret == -1);
	CHECK_STR(reason, "NUL byte in document");
	pv_json_free(&doc);
}

static void test_depth(void)
{
	char text[2 * (PV_JSON_MAX_DEPTH + 2) + 1];
	struct pv_json doc;
	const char *reason;
	int d, n;

	// At the limit: fine; one deeper: refused.
	for (n = PV_JSON_MAX_DEPTH + 1; n <= PV_JSON_MAX_DEPTH + 2; n++) {
		for (d = 0; d < n; d++) {
			text[d] = '[';
			text[n + d] = ']';
		}
		text[2 * n] = '\0';
		reason = NULL;
		if (n == PV_JSON_MAX_DEPTH + 1) {
			CHECK(parse(&doc, text, &reason) == 0);
		} else {
			CHECK(parse(&doc, text, &reason) == -1);
			CHECK_STR(reason, "nesting too deep");
		}
		pv_json_free(&doc);
	}
}

// CPU seconds pv_json_parse takes over text, best of three (the machine may
// be busy; the least disturbed run is the one that measures the parser).
static double parse_seconds(const char *text, size_t len, int *rc)
{
	double best = -1;
	int run;

	for (run = 0; run < 3; run++) {
		struct timespec a, b;
		struct pv_json doc;
		const char *reason;
		double t;

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
		*rc = pv_json_parse(&doc, text, len, &reason);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		pv_json_free(&doc);
		t = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

// Any input is parsed or refused in time linear in its size: 1 MiB of
// nested brackets (jsmn alone takes minutes: it walks back over the closed
// containers at every closing bracket) costs no more than 1 MiB of a flat
// array. A ratio of two runs on the same machine, not a wall-clock bound.
static void test_depth_linear(void)
{
	const size_t len = 1024 * 1024;
	char *nested = malloc(len + 1), *flat = malloc(len + 1);
	double t_nested, t_flat;
	int rc_nested, rc_flat;
	size_t i;

	CHECK(nested && flat);
	if (!nested || !flat)
		goto out;
	for (i = 0; i < len / 2; i++) {
		nested[i] = '[';
		nested[len / 2 + i] = ']';
	}
	nested[len] = '\0';
	// [0,0,...,0   ]: as many tokens as 1 MiB holds.
	memset(flat, ' ', len);
	flat[0] = '[';
	for (i = 1; i + 3 < len; i += 2) {
		flat[i] = '0';
		flat[i + 1] = ',';
	}
	flat[i] = '0';
	flat[len - 1] = ']';
	flat[len] = '\0';

	t_flat = parse_seconds(flat, len, &rc_flat);
	t_nested = parse_seconds(nested, len, &rc_nested);
	CHECK(rc_flat == 0);
	CHECK(rc_nested == -1);
	if (t_nested > 2 * t_flat + 0.01) {
		fprintf(stderr,
			"1 MiB nested: %.4f s of CPU, 1 MiB flat: %.4f s\n",
			t_nested, t_flat);
		CHECK(!"deep nesting costs more than a flat document");
	}
out:
	free(nested);
	free(flat);
}

// Brackets inside strings are no nesting; a quote inside a primitive
// opens no string (jsmn reads `1"` as one primitive, then the brackets).
static void test_depth_lexing(void)
{
	char text[512];
	struct pv_json doc;
	const char *reason = NULL;
	int d, n = 0;

	n += snprintf(text + n, sizeof(text) - n, "[\"");
	for (d = 0; d < 2 * PV_JSON_MAX_DEPTH; d++)
		text[n++] = '[';
	snprintf(text + n, sizeof(text) - n, "\\\"{\"]");
	CHECK(parse(&doc, text, &reason) == 0);
	pv_json_free(&doc);

	n = snprintf(text, sizeof(text), "[1\", ");
	for (d = 0; d < 2 * PV_JSON_MAX_DEPTH; d++)
		text[n++] = '[';
	for (d = 0; d < 2 * PV_JSON_MAX_DEPTH; d++)
		text[n++] = ']';
	text[n++] = ']';
	text[n] = '\0';
	CHECK(parse(&doc, text, &reason) == -1);
	CHECK_STR(reason, "nesting too deep");
	pv_json_free(&doc);
}

static void test_get(void)
{
	const char *text = "{\"a\": {\"x\": 1, \"y\": [1, {\"z\": 2}]},"
			   " \"b\": null, \"c\": \"s\", \"d\": 42,"
			   " \"e\": true, \"f\": [], \"g\": -7}";
	struct pv_json doc;
	const char *reason;
	long long v = 0;
	int a, y, el, b = -1, n;
	char *s;

	CHECK(parse(&doc, text, &reason) == 0);
	// Every key is found, whatever precedes it.
	a = pv_json_get(&doc, 0, "a");
	CHECK(pv_json_is_object(&doc, a));
	CHECK(pv_json_get(&doc, 0, "b") == -1); // null is absent
	CHECK(pv_json_is_null(&doc, pv_json_get(&doc, 0, "c") - 2));
	s = pv_json_strdup(&doc, pv_json_get(&doc, 0, "c"));
	CHECK_STR(s, "s");
	free(s);
	CHECK(pv_json_int(&doc, pv_json_get(&doc, 0, "d"), &v) == 0 && v == 42);
	CHECK(pv_json_bool(&doc, pv_json_get(&doc, 0, "e"), &b) == 0 && b == 1);
	CHECK(pv_json_is_array(&doc, pv_json_get(&doc, 0, "f")));
	CHECK(pv_json_first(&doc, pv_json_get(&doc, 0, "f")) == -1);
	CHECK(pv_json_int(&doc, pv_json_get(&doc, 0, "g"), &v) == 0 && v == -7);
	CHECK(pv_json_get(&doc, 0, "missing") == -1);
	CHECK(pv_json_get(&doc, a, "y") > a);
	CHECK(pv_json_int(&doc, pv_json_get(&doc, a, "x"), &v) == 0 && v == 1);
	// Wrong types are refused.
	CHECK(pv_json_int(&doc, pv_json_get(&doc, 0, "c"), &v) == -1);
	CHECK(pv_json_bool(&doc, pv_json_get(&doc, 0, "d"), &b) == -1);
	CHECK(pv_json_strdup(&doc, pv_json_get(&doc, 0, "d")) == NULL);
	CHECK(pv_json_size(&doc, 0) == 7);

	// Walking an array steps over whole values.
	y = pv_json_get(&doc, a, "y");
	n = 0;
	for (el = pv_json_first(&doc, y); el >= 0 && n < pv_json_size(&doc, y);
	     el = pv_json_next(&doc, el))
		n++;
	CHECK(n == 2);
	pv_json_free(&doc);

	CHECK(parse(&doc,
		    "{\"n\": 80.5, \"m\": 1e3, \"big\": 99999999999999999999}",
		    &reason) == 0);
	CHECK(pv_json_int(&doc, pv_json_get(&doc, 0, "n"), &v) == -1);
	CHECK(pv_json_int(&doc, pv_json_get(&doc, 0, "m"), &v) == -1);
	CHECK(pv_json_int(&doc, pv_json_get(&doc, 0, "big"), &v) == -1);
	pv_json_free(&doc);
}

static void test_escapes(void)
{
	const char *text = "[\"a\\\"b\\\\c\\/d\\n\\t\", \"caf\\u00e9\","
			   " \"\\ud83d\\ude00\", \"\\u0000\", \"\\ud800x\"]";
	struct pv_json doc;
	const char *reason;
	char *s, buf[64];
	int el;

	CHECK(parse(&doc, text, &reason) == 0);
	el = pv_json_first(&doc, 0);
	s = pv_json_strdup(&doc, el);
	CHECK_STR(s, "a\"b\\c/d\n\t");
	free(s);
	el = pv_json_next(&doc, el);
	s = pv_json_strdup(&doc, el);
	CHECK_STR(s, "caf\xc3\xa9");
	free(s);
	el = pv_json_next(&doc, el);
	s = pv_json_strdup(&doc, el);
	CHECK_STR(s, "\xf0\x9f\x98\x80"); // a surrogate pair: U+1F600
	free(s);
	el = pv_json_next(&doc, el);
	CHECK(pv_json_strdup(&doc, el) == NULL); // \u0000 would cut it
	el = pv_json_next(&doc, el);
	s = pv_json_strdup(&doc, el);
	CHECK_STR(s, "\xef\xbf\xbdx"); // a lone surrogate: U+FFFD
	free(s);
	// pv_json_eq compares the raw text.
	CHECK(!pv_json_eq(&doc, pv_json_first(&doc, 0), "a\"b"));
	pv_json_excerpt(&doc, pv_json_first(&doc, 0), buf, sizeof(buf));
	CHECK_STR(buf, "\"a\\\"b\\\\c\\/d\\n\\t\"");
	pv_json_free(&doc);

	CHECK(parse(&doc, "[\"0123456789012345678901234567890123456789X\"]",
		    &reason) == 0);
	pv_json_excerpt(&doc, 1, buf, sizeof(buf));
	CHECK_STR(buf, "\"0123456789012345678901234567890123456...");
	pv_json_free(&doc);
}

static void test_writer(void)
{
	struct pv_json_ser w;
	struct pv_json doc;
	const char *reason;
	char *out, *s;
	size_t len;

	pv_json_ser_init(&w);
	pv_json_ser_array_begin(&w);
	pv_json_ser_object_begin(&w);
	pv_json_ser_key(&w, "s");
	pv_json_ser_string(&w, "q\"b\\\n\x01");
	pv_json_ser_key(&w, "n");
	pv_json_ser_int(&w, -5);
	pv_json_ser_key(&w, "t");
	pv_json_ser_bool(&w, 1);
	pv_json_ser_key(&w, "z");
	pv_json_ser_string(&w, NULL);
	pv_json_ser_key(&w, "a");
	pv_json_ser_array_begin(&w);
	pv_json_ser_array_end(&w);
	pv_json_ser_object_end(&w);
	pv_json_ser_raw(&w, "{}");
	pv_json_ser_array_end(&w);
	out = pv_json_ser_finish(&w, &len);
	CHECK_STR(out, "[{\"s\":\"q\\\"b\\\\\\u000a\\u0001\",\"n\":-5,\"t\":"
		       "true,\"z\":null,\"a\":[]},{}]");
	CHECK(out && len == strlen(out));
	// What we write, we read back the same.
	CHECK(out && parse(&doc, out, &reason) == 0);
	s = out ? pv_json_strdup(&doc, pv_json_get(&doc, 1, "s")) : NULL;
	CHECK_STR(s, "q\"b\\\n\x01");
	free(s);
	pv_json_free(&doc);
	free(out);

	// A long string goes through the large-buffer path.
	{
		char big[1000];
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		big[10] = '"';
		pv_json_ser_init(&w);
		pv_json_ser_string(&w, big);
		out = pv_json_ser_finish(&w, &len);
		CHECK(out && len == sizeof(big) - 1 + 3);
		free(out);
	}
	pv_json_ser_init(&w);
	out = pv_json_ser_finish(&w, NULL);
	CHECK_STR(out, "");
	free(out);
}

int main(void)
{
	RUN(test_valid_and_invalid);
	RUN(test_depth);
	RUN(test_depth_linear);
	RUN(test_depth_lexing);
	RUN(test_get);
	RUN(test_escapes);
	RUN(test_writer);
	return kit_report("test_json");
}
