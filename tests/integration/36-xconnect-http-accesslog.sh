#!/bin/bash
# The http plugin's access log (--access-log): one line per request with
# the link, the client, the request line as it came (escaped), the status,
# the body bytes each way and the time; a request the proxy answers itself
# (404, 400) has its line too; a flood is cut to 100 lines a second and
# what was not logged is counted in a line of its own.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
. "$TOP/tests/helpers/http.sh"
need_cmd curl nc

read -r port api_port <<<"$(free_ports 2 | tr "\n" " ")"
backend api "127.0.0.1:$api_port"
graph "$(http_link api "127.0.0.1:$port/api" "127.0.0.1:$api_port")"
start_pvx --access-log
wait_for 20 port_open "$port"
U=http://127.0.0.1:$port
L=$T/pvx.log

# lines PATTERN: how many access-log lines match the extended regex.
lines() { grep -cE "\[access\] INFO: $1\$" "$L" || true; }

curl -sS --max-time 10 -o /dev/null "$U/api/x?q=1"
curl -sS --max-time 10 -o /dev/null --data-binary 12345 "$U/api/post"
curl -sS --max-time 10 -o /dev/null "$U/api/a%22b\"c"
curl -sS --max-time 10 -o /dev/null "$U/nowhere"
printf 'NOT HTTP\r\n\r\n' | nc -w 5 127.0.0.1 "$port" >/dev/null || true
wait_for 10 grep -q ' 400 ' "$L"
ms='[0-9]+ms'
assert_eq "$(lines "api 127\.0\.0\.1 \"GET /api/x\?q=1 HTTP/1\.1\" 200 0 [1-9][0-9]* $ms")" 1 \
	"the line of a GET (link, client, request as it came, status, body bytes, time)"
assert_eq "$(lines "api 127\.0\.0\.1 \"POST /api/post HTTP/1\.1\" 200 5 [1-9][0-9]* $ms")" 1 \
	"the line of a POST with a 5-byte body"
assert_eq "$(lines "api 127\.0\.0\.1 \"GET /api/a%22b\\\\x22c HTTP/1\.1\" 200 0 [0-9]+ $ms")" 1 \
	"a quote in the target, escaped (a request cannot forge a log line)"
assert_eq "$(lines "127\.0\.0\.1:$port 127\.0\.0\.1 \"GET /nowhere HTTP/1\.1\" 404 0 0 $ms")" 1 \
	"the line of a request no route takes (the site, 404)"
assert_eq "$(lines "127\.0\.0\.1:$port 127\.0\.0\.1 \"-\" 400 0 0 $ms")" 1 \
	"the line of a malformed request (no request line to show)"

# A flood on one keep-alive connection: at most 100 lines in any second of
# the limiter; every request is either logged or counted as not logged.
n=1000
t0=$(date +%s%N)
curl -sS --max-time 60 -o /dev/null "$U/api/flood/[1-$n]"
t1=$(date +%s%N)
sleep 1.1
curl -sS --max-time 10 -o /dev/null "$U/api/after"
wait_for 10 grep -q '"GET /api/after ' "$L"
logged=$(lines "api 127\.0\.0\.1 \"GET /api/flood/[0-9]+ HTTP/1\.1\" 200 .*")
dropped=$(sed -nE 's/.*\[access\] INFO: ([0-9]+) request\(s\) not logged \(more than 100 lines a second\)$/\1/p' "$L" |
	awk '{ s += $1 } END { print s + 0 }')
assert_eq "$((logged + dropped))" "$n" "flood requests logged ($logged) plus those counted as not logged ($dropped)"
secs=$(((t1 - t0 + 999999999) / 1000000000))
[ "$logged" -le $((100 * (secs + 1))) ] ||
	fail "$logged lines for a flood of $n requests in $secs s: more than 100 a second"
echo "flood of $n requests in $(((t1 - t0) / 1000000)) ms: $logged lines, $dropped counted as not logged"

kill -0 "$PVX_PID" || fail "pv-xconnect died: $(tail "$L")"
echo "ok"
