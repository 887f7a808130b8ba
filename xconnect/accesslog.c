// The http plugin's access log (--access-log): one line per request,
// rate-limited, on the process's log like every other line.

#define MODULE_NAME "access"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "accesslog.h"

// Appends s[0..n) to out at *at, escaped, leaving room for the rest of
// the line; returns 0, or -1 when it had to stop short.
static int put_escaped(char *out, size_t *at, size_t room, const char *s,
		       size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int plain = c > 0x20 && c < 0x7f && c != '"' && c != '\\';

		if (*at + (plain ? 1 : 4) > room)
			return -1;
		if (plain) {
			out[(*at)++] = (char)c;
		} else {
			out[(*at)++] = '\\';
			out[(*at)++] = 'x';
			out[(*at)++] = hex[c >> 4];
			out[(*at)++] = hex[c & 15];
		}
	}
	return 0;
}

void pvx_access_log_request(char *out, const char *method, size_t method_len,
			    const char *target, size_t target_len, int minor)
{
	// Room kept for " HTTP/1.x" (9), "..." (3) and the NUL.
	const size_t room = PVX_ACCESS_LOG_REQUEST - 13;
	size_t at = 0;
	int cut;

	cut = put_escaped(out, &at, room, method, method_len);
	if (!cut && at < room) {
		out[at++] = ' ';
		cut = put_escaped(out, &at, room, target, target_len);
	}
	if (cut)
		for (int i = 0; i < 3; i++)
			out[at++] = '.';
	snprintf(out + at, PVX_ACCESS_LOG_REQUEST - at, " HTTP/1.%d",
		 minor == 0 ? 0 : 1);
}

void pvx_access_log_line(struct pvx_access_log *al, const char *link,
			 const char *client, const char *request, int status,
			 uint64_t in, uint64_t out, long ms)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (now.tv_sec != al->sec) {
		al->sec = now.tv_sec;
		al->lines = 0;
	}
	if (al->lines >= PVX_ACCESS_LOG_PER_SEC) {
		al->dropped++;
		return;
	}
	al->lines++;
	if (al->dropped) {
		pv_log(INFO,
		       "%u request(s) not logged (more than %d lines a second)",
		       al->dropped, PVX_ACCESS_LOG_PER_SEC);
		al->dropped = 0;
	}
	pv_log(INFO, "%s %s \"%s\" %d %llu %llu %ldms", link, client, request,
	       status, (unsigned long long)in, (unsigned long long)out, ms);
}
