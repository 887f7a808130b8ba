// libFuzzer target: the pv-ctrl request path as ctrl.c runs it on one
// connection: request heads parsed from the input as it arrives (in
// pieces of a size taken from the input's length), Content-Length bodies, the
// JSON bodies of the PUT endpoints, pipelined requests on a kept-alive
// connection. The outcome must not depend on how the input was split.
#define MODULE_NAME "fuzz-ctrl"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/ctrl.h"
#include "ctrl/ctrl_http.h"
#include "log.h"
#include "utils/json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// What one connection did: a digest of every request's outcome.
struct outcome {
	int requests;
	int last; // PV_CTRL_HTTP_MORE, or the last error status
	unsigned long hash;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pv_log_set_level(FATAL);
	return 0;
}

static void mix(struct outcome *o, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		o->hash = (o->hash ^ b[i]) * 1099511628211UL;
}

// What a complete head must look like once the parser accepted it.
static void check_head(const struct pv_ctrl_http_head *h)
{
	if (!h->method[0] || !h->target || h->target[0] != '/' ||
	    (h->minor != 0 && h->minor != 1) || h->content_length < 0 ||
	    h->content_length > PV_CTRL_MAX_BODY ||
	    h->head_bytes > PV_CTRL_MAX_HEAD || h->chunked)
		abort();
}

// Runs the connection's input, revealed piece bytes at a time.
static void run(const char *in, size_t len, size_t piece, struct outcome *o)
{
	struct pv_ctrl_http_head h = { 0 };
	size_t off = 0, avail = 0, n, used;
	struct pv_json doc;
	const char *reason;
	char *body;
	int r;

	memset(o, 0, sizeof(*o));
	pv_ctrl_http_reset(&h);
	while (off < len) {
		avail = avail + piece < len ? avail + piece : len;
		n = PV_CTRL_MAX_HEAD + 1 - h.head_bytes;
		if (n > avail - off)
			n = avail - off;
		r = pv_ctrl_http_parse(&h, in + off, n, &used);
		if (used > n)
			abort();
		off += used;
		if (r == PV_CTRL_HTTP_MORE) {
			if (avail == len)
				break; // EOF in the middle of a head
			continue;
		}
		o->last = r;
		if (r != PV_CTRL_HTTP_DONE) {
			// Refused: the connection ends with this answer.
			if (r < 400 || r > 599 || !h.error[0])
				abort();
			mix(o, &r, sizeof(r));
			break;
		}
		check_head(&h);
		if ((size_t)h.content_length > len - off)
			break; // EOF in the middle of a body
		// The body, NUL-terminated, as the endpoints get it; the PUT
		// endpoints parse JSON.
		body = malloc(h.content_length + 1);
		if (!body)
			break;
		memcpy(body, in + off, h.content_length);
		body[h.content_length] = '\0';
		off += h.content_length;
		if (pv_json_parse(&doc, body, h.content_length, &reason) == 0)
			pv_json_free(&doc);
		free(body);
		o->requests++;
		mix(o, h.method, strlen(h.method));
		mix(o, h.target, strlen(h.target));
		mix(o, &h.content_length, sizeof(h.content_length));
		mix(o, &h.keep_alive, sizeof(h.keep_alive));
		if (!h.keep_alive)
			break;
		pv_ctrl_http_reset(&h);
		if (avail < off)
			avail = off;
	}
	pv_ctrl_http_reset(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;
	size_t piece;
	char *in;

	// The piece size comes from the input's length, so that the seeds
	// are plain requests and the fuzzer still tries many splits.
	piece = 1 + size % 61;
	in = malloc(size ? size : 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	run(in, size, size + 1, &whole);
	run(in, size, piece, &pieces);
	if (whole.requests != pieces.requests || whole.last != pieces.last ||
	    whole.hash != pieces.hash) {
		fprintf(stderr,
			"fuzz-ctrl: %d requests (last %d) read whole, %d "
			"(last %d) in %zu-byte pieces\n",
			whole.requests, whole.last, pieces.requests,
			pieces.last, piece);
		abort();
	}
	free(in);
	return 0;
}
