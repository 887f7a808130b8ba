// libFuzzer target: the HTTP/1.x parser (utils/http1.c) on one
// connection's input, requests or responses, as a proxy reads them: heads
// parsed as they arrive, headers iterated and classified, bodies framed
// (Content-Length, chunked, until close), pipelined messages while the
// connection is kept alive, interim 1xx answers before the final one.
//
// The input's first three bytes choose the run: byte 0 its kind (bit 0
// responses, bit 1 answers to HEAD, bit 2 small limits), bytes 1-2 where
// the input is cut in two. Everything is run three times: whole, cut in
// two at that byte, and in pieces of 1 to 16 bytes; the outcome must not
// depend on how the input was split, and must obey the parser's contract
// (utils/http1.h) whatever the input.

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utils/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// What one connection did.
struct outcome {
	int messages;
	int last; // the last head or body result
	unsigned long hash;
};

static void mix(struct outcome *o, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		o->hash = (o->hash ^ b[i]) * 1099511628211UL;
}

static void mix_int(struct outcome *o, long long v)
{
	mix(o, &v, sizeof(v));
}

// How the input is revealed: mode 0 whole, 1 cut in two at cut, 2 in
// pieces of piece bytes. Returns the bytes available after avail.
static size_t grow(size_t avail, size_t len, int mode, size_t cut, size_t piece)
{
	if (mode == 0)
		return len;
	if (mode == 1)
		return avail < cut && cut < len ? cut : len;
	return avail + piece < len ? avail + piece : len;
}

// 1 if the head of a message refused with status r is refused rightly.
static int valid_error(const struct pv_http1_head *h, int r)
{
	if (!h->error[0])
		return 0;
	if (h->response)
		return r == 502;
	return r == 400 || r == 414 || r == 417 || r == 431 || r == 501 ||
	       r == 505;
}

// Checks a complete head against the contract; mixes what it says.
static void check_head(const struct pv_http1_head *h, const char *head,
		       struct outcome *o)
{
	struct pv_http1_field f;
	size_t pos = 0, i;
	int n = 0;

	if (!h->started || h->head_len > h->lim.max_head ||
	    (h->minor != 0 && h->minor != 1) || h->fields_off > h->head_len)
		abort();
	if (h->response) {
		if (h->status < 100 || h->status > 599 ||
		    h->reason_off + h->reason_len > h->head_len)
			abort();
		if ((h->to_head || h->status < 200 || h->status == 204 ||
		     h->status == 304) &&
		    h->framing != PV_HTTP1_BODY_NONE)
			abort();
		mix(o, head + h->reason_off, h->reason_len);
	} else {
		if (!h->method_len || !h->target_len ||
		    h->target_off + h->target_len > h->head_len ||
		    h->framing == PV_HTTP1_BODY_CLOSE)
			abort();
		mix(o, head + h->method_off, h->method_len);
		mix(o, head + h->target_off, h->target_len);
	}
	if (h->framing == PV_HTTP1_BODY_LENGTH && !h->content_length)
		abort();
	if (h->has_length && h->has_te)
		abort();
	while (pv_http1_field_next(h, head, &pos, &f)) {
		if (!f.name_len || f.name + f.name_len > head + h->head_len ||
		    f.value + f.value_len > head + h->head_len)
			abort();
		for (i = 0; i < f.name_len; i++)
			if (f.name[i] <= ' ' || f.name[i] == ':')
				abort();
		if (memchr(f.value, '\r', f.value_len) ||
		    memchr(f.value, '\n', f.value_len) ||
		    memchr(f.value, '\0', f.value_len))
			abort();
		mix(o, f.name, f.name_len);
		mix(o, f.value, f.value_len);
		mix_int(o, pv_http1_hop_by_hop(h, head, f.name, f.name_len));
		n++;
	}
	if (n != h->nheaders)
		abort();
	mix_int(o, h->status);
	mix_int(o, h->minor);
	mix_int(o, h->framing);
	mix_int(o, (long long)h->content_length);
	mix_int(o, h->keep_alive);
	mix_int(o, h->expect_continue);
	mix_int(o, h->upgrade);
	mix_int(o, h->interim);
}

// Runs the connection's input (len bytes) revealed as mode says.
static void run(const char *in, size_t len, int flags, int mode, size_t cut,
		size_t piece, struct outcome *o)
{
	static const struct pv_http1_limits small = { 256, 128, 8 };
	const struct pv_http1_limits *lim = flags & 4 ? &small : NULL;
	struct pv_http1_head h;
	struct pv_http1_body b;
	size_t off = 0, start, avail, used, d, dl;
	uint64_t data;
	int r;

	memset(o, 0, sizeof(*o));
	avail = grow(0, len, mode, cut, piece);
	while (off < len) {
		if (flags & 1)
			pv_http1_response_init(&h, lim, flags & 2);
		else
			pv_http1_request_init(&h, lim);
		start = off;
		for (;;) {
			r = pv_http1_parse(&h, in + off, avail - off, &used);
			if (used > avail - off ||
			    h.head_len != off + used - start)
				abort();
			off += used;
			if (r != PV_HTTP1_MORE || avail == len)
				break;
			avail = grow(avail, len, mode, cut, piece);
		}
		o->last = r;
		mix_int(o, r);
		if (r == PV_HTTP1_MORE)
			return; // the input ended inside a head
		if (r != PV_HTTP1_DONE) {
			if (!valid_error(&h, r))
				abort();
			return;
		}
		check_head(&h, in + start, o);
		o->messages++;
		pv_http1_body_init(&b, &h);
		data = 0;
		for (;;) {
			r = PV_HTTP1_MORE;
			while (off < avail && r == PV_HTTP1_MORE) {
				r = pv_http1_body_parse(&b, in + off,
							avail - off, &used, &d,
							&dl);
				if (used > avail - off || d + dl > used ||
				    (r == PV_HTTP1_MORE && !used))
					abort();
				mix(o, in + off + d, dl);
				data += dl;
				off += used;
			}
			if (r != PV_HTTP1_MORE)
				break;
			if (avail == len) {
				r = pv_http1_body_eof(&b);
				break;
			}
			avail = grow(avail, len, mode, cut, piece);
		}
		o->last = r;
		mix_int(o, r);
		if (r != PV_HTTP1_DONE) {
			if ((r != 400 && r != 502) || !b.error[0] ||
			    (r == 502) != h.response)
				abort();
			return;
		}
		if (h.framing == PV_HTTP1_BODY_LENGTH &&
		    data != h.content_length)
			abort();
		mix_int(o, (long long)data);
		if (h.upgrade || (!h.keep_alive && !h.interim))
			return; // a tunnel follows, or the connection ends
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, two, pieces;
	size_t len, cut, piece;
	char *in;
	int flags;

	if (size < 3)
		return 0;
	flags = data[0];
	len = size - 3;
	cut = len ? ((size_t)data[1] << 8 | data[2]) % len : 0;
	piece = 1 + (data[0] >> 3) % 16;
	// A copy exactly as long as the input: ASan sees any read past it.
	in = malloc(len ? len : 1);
	if (!in)
		return 0;
	memcpy(in, data + 3, len);
	run(in, len, flags, 0, cut, piece, &whole);
	run(in, len, flags, 1, cut, piece, &two);
	run(in, len, flags, 2, cut, piece, &pieces);
	if (whole.messages != two.messages || whole.last != two.last ||
	    whole.hash != two.hash || whole.messages != pieces.messages ||
	    whole.last != pieces.last || whole.hash != pieces.hash) {
		fprintf(stderr,
			"fuzz-http1: whole %d messages (last %d), cut at %zu "
			"%d (last %d), %zu-byte pieces %d (last %d)\n",
			whole.messages, whole.last, cut, two.messages, two.last,
			piece, pieces.messages, pieces.last);
		abort();
	}
	free(in);
	return 0;
}
