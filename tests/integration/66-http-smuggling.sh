#!/bin/bash
# Http links (docs/http.md): what a proxy refuses and answers itself. Request
# smuggling (both Content-Length and Transfer-Encoding, several different
# Content-Length, bad chunk sizes, obs-fold, a Transfer-Encoding other than
# one final chunked, NUL or bare CR in the head, space before the colon, a
# request line with two spaces) is refused with 400 (501 for an unknown
# coding, as docs/http1.md documents), the connection closed, and the
# backend sees nothing of the smuggled request (its raw input is kept). Then
# 431 for a 20 KiB header, 408 for half a head (head_ms 1000), 502 for a
# backend that closes before answering, answers garbage or refuses the
# connection, 504 for one that never answers (response_ms 1000), 503 with no
# backend up; the per-rule max_head_bytes and max_headers.
#
# PVX_HTTP_PROXY=pv-xconnect (default) or haproxy: the proxy under test.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
. "$TOP/tests/helpers/http.sh"
need_cmd curl
CLIENT="$PYTHON $TOP/tests/helpers/httpclient.py"

read -r bport P PDOWN dead PREF refused PSMALL <<<"$(free_ports 7 | tr "\n" " ")"
backend app "127.0.0.1:$bport"
T1000='"timeouts":{"head_ms":1000,"response_ms":1000}'
CHK='"check":{"type":"tcp","interval_ms":200,"timeout_ms":200,"rise":1,"fall":1}'
graph "$(http_link app "127.0.0.1:$P" "127.0.0.1:$bport" "$T1000")" \
	"$(http_link down "127.0.0.1:$PDOWN" "127.0.0.1:$dead" "$CHK")" \
	"$(http_link refused "127.0.0.1:$PREF" "127.0.0.1:$refused")" \
	"$(http_link small "127.0.0.1:$PSMALL" "127.0.0.1:$bport" '"max_head_bytes":4096,"max_headers":10,"timeouts":{"head_ms":30000}')"
start_http_proxy "$P" "$PDOWN" "$PREF" "$PSMALL"
U=http://127.0.0.1:$P
assert_eq "$(status_of "$U/ok")" 200 "a plain request before the refusals"

# refused WANT NAME BYTES: sends BYTES (printf %b) in one write; the answer
# must be WANT and the connection closed after it; nothing marked SMUGGLED
# may reach the backend. Every case runs; the failures are listed at the
# end. The backend's raw input is cut after each case, so a leak is
# blamed on the case that made it.
n=0
bad=""
refused() {
	n=$((n + 1))
	printf '%b' "$3" >"$T/case$n.req"
	got=$($CLIENT raw "$P" @"$T/case$n.req" 2>&1) || got="client error: $got"
	if [ "$got" != "$1 closed" ]; then
		bad="$bad
  $2: got '$got', want '$1 closed'"
	elif grep -aq SMUGGLED "$T/app.raw" 2>/dev/null; then
		bad="$bad
  $2: the backend saw the smuggled request: $(grep -a SMUGGLED "$T/app.raw" | head -3)"
	else
		echo "refused $1, closed: $2"
	fi
	: >"$T/app.raw"
}
H='Host: test.local\r\n'
NEXT='GET /SMUGGLED HTTP/1.1\r\nHost: test.local\r\n\r\n'
refused 400 "two different Content-Length" \
	"POST /SMUGGLED-cl2 HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!$NEXT"
refused 400 "Content-Length: 1, 2" \
	"POST /SMUGGLED-cl12 HTTP/1.1\r\n${H}Content-Length: 1, 2\r\n\r\nab$NEXT"
refused 400 "Content-Length: -1" \
	"POST /SMUGGLED-clneg HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n$NEXT"
# A bad chunk size comes after the head, which a streaming proxy may have
# forwarded already: what follows it must not reach the backend.
refused 400 "chunk size zz" \
	"POST /chunk-zz HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n$NEXT\r\n0\r\n\r\n"
refused 400 "empty chunk size" \
	"POST /chunk-empty HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n\r\n$NEXT\r\n0\r\n\r\n"
refused 400 "chunk size fffffffffffffffff (overflow)" \
	"POST /chunk-overflow HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n$NEXT\r\n0\r\n\r\n"
refused 400 "bare CR in a header value" \
	"GET /SMUGGLED-cr HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n"
refused 400 "space before the colon" \
	"POST /SMUGGLED-sp HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc"
refused 400 "two Host headers" \
	"GET /SMUGGLED-2host HTTP/1.1\r\n${H}Host: other.local\r\n\r\n"
refused 400 "Transfer-Encoding: chunked, gzip" \
	"POST /SMUGGLED-te-cg HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"
refused 400 "Transfer-Encoding: gzip" \
	"POST /SMUGGLED-te-g HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n"
refused 400 "Transfer-Encoding: chunked twice" \
	"POST /SMUGGLED-te-cc HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n0\r\n\r\n"
# HAProxy 2.6 takes these (it answers the backend's 200; for gzip, chunked
# 422): it drops a Content-Length beside a Transfer-Encoding (RFC 9112 6.3
# lets it), unfolds obs-fold (RFC 9112 5.2 lets a proxy), passes a NUL in a
# value, takes several spaces in the request line, Transfer-Encoding from
# HTTP/1.0 and an HTTP/1.1 request without Host. docs/contract.md ("HTTP links"),
# docs/http1.md and RFC 9112 3.2 refuse them, and no HAProxy setting does:
# pv-xconnect only.
if pvx_only "CL with TE, obs-fold, NUL, two spaces, TE from HTTP/1.0, gzip, chunked, no Host (9 cases)"; then
	refused 400 "Content-Length and Transfer-Encoding" \
		"POST /SMUGGLED-cl-te HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$NEXT"
	refused 400 "Transfer-Encoding and Content-Length" \
		"POST /SMUGGLED-te-cl HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n$NEXT"
	refused 400 "obs-fold (a header line starting with a space)" \
		"GET /SMUGGLED-fold HTTP/1.1\r\n${H}X-A: a\r\n X-B: b\r\n\r\n"
	refused 400 "obs-fold (a header line starting with a tab)" \
		"GET /SMUGGLED-foldtab HTTP/1.1\r\n${H}X-A: a\r\n\tTransfer-Encoding: chunked\r\n\r\n"
	refused 400 "NUL in a header value" \
		"GET /SMUGGLED-nul HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n"
	refused 400 "request line with two spaces" \
		"GET  /SMUGGLED-2sp HTTP/1.1\r\n${H}\r\n"
	refused 400 "Transfer-Encoding in an HTTP/1.0 request" \
		"POST /SMUGGLED-te10 HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	refused 400 "HTTP/1.1 without Host (RFC 9112 3.2)" \
		"GET /SMUGGLED-nohost HTTP/1.1\r\nX-A: a\r\n\r\n"
	refused 501 "Transfer-Encoding: gzip, chunked (an unknown coding)" \
		"POST /SMUGGLED-te-gc HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
fi
[ -z "$bad" ] || fail "refusals that failed:$bad"
assert_eq "$(status_of "$U/ok")" 200 "a plain request after $n refusals"
grep -aq "GET /ok HTTP/1.1" "$T/app.raw" || fail "the backend's raw log misses the plain request"

# Limits and timeouts.
big=$("$PYTHON" -c 'print("a" * 20480)')
# HAProxy refuses it too, but with a 400 (its buffer is full): the status
# is pv-xconnect only, the refusal is not.
code=$(status_of "$U/SMUGGLED-big" -H "X-Big: $big")
if pvx_only "431 (HAProxy answers 400) for a 20 KiB header"; then
	assert_eq "$code" 431 "a 20 KiB header"
else
	assert_eq "$code" 400 "a 20 KiB header (HAProxy's answer)"
fi
grep -aq SMUGGLED "$T/app.raw" && fail "the backend saw the request with a 20 KiB header"
# 150 header lines, over the default count limit (docs/http1.md: 100;
# HAProxy's 101, answered 400).
hdrs=()
for i in $(seq 1 150); do hdrs+=(-H "X-H$i: $i"); done
code=$(status_of "$U/SMUGGLED-many" "${hdrs[@]}")
if pvx_only "431 (HAProxy answers 400) for 150 header lines"; then
	assert_eq "$code" 431 "150 header lines"
	# The per-rule limits: max_head_bytes 4096, max_headers 10.
	S=http://127.0.0.1:$PSMALL
	assert_eq "$(status_of "$S/ok" -H 'X-A: 1' -H 'X-B: 2')" 200 "a small head under max_head_bytes 4096, max_headers 10"
	assert_eq "$(status_of "$S/SMUGGLED-6k" -H "X-Big: ${big:0:6144}")" 431 "a 6 KiB head against max_head_bytes 4096"
	assert_eq "$(status_of "$S/SMUGGLED-12" "${hdrs[@]:0:24}")" 431 "12 header lines against max_headers 10"
else
	assert_eq "$code" 400 "150 header lines (HAProxy's answer)"
fi
grep -aq SMUGGLED "$T/app.raw" && fail "the backend saw a request over a head limit"
# Half a head to the head_ms 1000 rule and to the head_ms 30000 one at
# once: the first gets its 408 and is closed while the other still waits
# (an order, not a time: the rule's own head_ms counts, not a default).
assert_eq "$($CLIENT halfheads "$P" "$PSMALL" 2>&1)" "408 closed, other open" \
	"half a head, then nothing (head_ms 1000; the other rule's 30000)"
assert_eq "$(status_of "$U/close")" 502 "a backend that closes before answering"
grep -aq "GET /close HTTP/1.1" "$T/app.raw" || fail "the backend never got /close"
assert_eq "$(status_of "$U/garbage")" 502 "a backend that answers a head that is not HTTP"
assert_eq "$(status_of "$U/hang")" 504 "a backend that never answers (response_ms 1000)"
# The only backend of `down` refuses connections; its check marks it down.
down_503() { [ "$(status_of "http://127.0.0.1:$PDOWN/")" = 503 ]; }
wait_for 10 down_503
assert_eq "$(status_of "http://127.0.0.1:$PDOWN/")" 503 "no backend up"
body=$(curl -s --max-time 10 "http://127.0.0.1:$PDOWN/")
[ -n "$body" ] || fail "the 503 has no body, want a short one"
# A backend that refuses the connection, no check: 502 after the retry
# (HAProxy answers 503 for a failed connect).
code=$(status_of "http://127.0.0.1:$PREF/")
if pvx_only "502 (HAProxy answers 503) for a refused connect"; then
	assert_eq "$code" 502 "a backend that refuses the connection"
else
	assert_eq "$code" 503 "a backend that refuses the connection (HAProxy's answer)"
fi
echo "431 (20 KiB header, 150 headers), 408 (half a head), 502 (backend closed, bad head, refused), 504 (no answer), 503 (none up)"

assert_eq "$(status_of "$U/ok")" 200 "a plain request at the end"
proxy_alive
echo "PASS ($PVX_HTTP_PROXY)"
