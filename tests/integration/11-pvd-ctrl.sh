#!/bin/bash
# pv-ctrl as an HTTP server: the answers of the contract with curl and nc,
# keep-alive and pipelining, and every kind of bad request (unknown path,
# wrong method, malformed, oversized head and body, too slow) answered
# with the right status and a JSON error body, while other clients are
# still served meanwhile. Also: socket mode 0600, a second pvd refused, a
# stale socket replaced, a non-socket file never replaced.
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd curl jq nc

SOCK=$T/a/b/pv-ctrl
echo '{"#spec":"pantavisor-service-system@1","device.json":{}}' >"$T/state.json"

# A stale socket (bound, nobody listening) is replaced.
mkdir -p "$(dirname "$SOCK")"
"$PYTHON" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
[ -S "$SOCK" ] || fail "could not create the stale socket"
start_pvd "$T/pvd.log" "$T/state.json" "$T/run" --no-xconnect
wait_for 20 sh -c "curl -sf --max-time 1 --unix-socket $SOCK http://localhost/containers"
grep -q "removing stale pv-ctrl socket" "$T/pvd.log" || fail "stale socket not reported"
assert_eq "$(stat -c %a "$SOCK")" 600 "socket mode"

# The contract's two clients.
assert_eq "$(ctrl "$SOCK" /containers)" "[]" "GET /containers"
resp=$(printf 'GET /xconnect-graph HTTP/1.0\r\n\r\n' | nc -U "$SOCK")
assert_eq "$(echo "$resp" | tail -1 | jq -c .)" "[]" "graph over nc | tail -1 | jq"
echo "$resp" | head -1 | grep -q "^HTTP/1.0 200 OK" || fail "status line: $(echo "$resp" | head -1)"
echo "$resp" | grep -qi "^Content-Length: 3" || fail "no Content-Length on the HTTP/1.0 answer"
echo "$resp" | grep -qi "^Connection: close" || fail "no Connection: close on the HTTP/1.0 answer"
assert_eq "$(ctrl "$SOCK" /daemons | jq -r '.[0].name')" pv-xconnect "daemons list"

# One request; prints "STATUS BODY" (body's last line).
req() { # METHOD PATH [curl args]
	_m=$1 _p=$2
	shift 2
	curl -sS --max-time 10 --unix-socket "$SOCK" -X "$_m" -o "$T/body" \
		-w '%{http_code}' "http://localhost$_p" "$@"
	echo " $(tail -1 "$T/body")"
}
# expect STATUS: the last req answered STATUS with a JSON "error".
expect() { # STATUS OUTPUT WHAT
	[ "${2%% *}" = "$1" ] || fail "$3: got '$2', want status $1"
	echo "${2#* }" | jq -e '.error | type == "string"' >/dev/null ||
		fail "$3: body is not a JSON error: ${2#* }"
}

expect 404 "$(req GET /nope)" "unknown path"
expect 404 "$(req GET /containers/x)" "unknown sub-path"
expect 405 "$(req POST /containers)" "POST /containers"
expect 405 "$(req DELETE /xconnect-graph)" "DELETE /xconnect-graph"
curl -sS --unix-socket "$SOCK" -X POST -D - -o /dev/null http://localhost/containers |
	grep -qi '^Allow: GET' || fail "405 without Allow: GET"
expect 400 "$(req PUT /daemons/pv-xconnect -d '{"action":')" "truncated JSON"
expect 400 "$(req PUT /daemons/pv-xconnect -d '{"action":"reboot"}')" "unknown action"
expect 400 "$(req PUT /daemons/pv-xconnect -d '[]')" "no action"
expect 501 "$(req PUT /xconnect-status -H 'Transfer-Encoding: chunked' -d '{}')" "chunked body"
expect 503 "$(req GET /xconnect-status)" "status before any report"
expect 503 "$(req GET /metrics)" "metrics before any report"

# Oversized head (8 KiB) and body (1 MiB): 413 that curl can read.
big=$(head -c 9000 /dev/zero | tr '\0' a)
expect 413 "$(req GET /containers -H "X-Big: $big")" "9000-byte header"
for i in $(seq 70); do echo "-H X-H$i:1"; done >"$T/many"
# shellcheck disable=SC2046
expect 413 "$(req GET /containers $(cat "$T/many"))" "70 header lines"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$T/bigbody"
expect 413 "$(req PUT /xconnect-status --data-binary @"$T/bigbody")" "1 MiB + 1 body"
# Just under the limit is fine.
printf '{"pad":"%s"}' "$(head -c 100000 /dev/zero | tr '\0' x)" >"$T/okbody"
out=$(req PUT /xconnect-status --data-binary @"$T/okbody")
assert_eq "${out%% *}" 200 "100 kB status report"
assert_eq "$(ctrl "$SOCK" /xconnect-status | jq -r '.pad | length')" 100000 "status report read back"

# Raw protocol errors, with nc.
raw() { printf "$1" | nc -U "$SOCK"; }
raw_expect() { # STATUS REQUEST WHAT
	_r=$(raw "$2")
	echo "$_r" | head -1 | grep -q "^HTTP/1.[01] $1 " || fail "$3: got '$(echo "$_r" | head -1)'"
	echo "$_r" | tail -1 | jq -e '.error' >/dev/null || fail "$3: no JSON error body"
}
raw_expect 400 'GARBAGE\r\n\r\n' "garbage request line"
raw_expect 400 'GET  /containers HTTP/1.1\r\n\r\n' "double space"
raw_expect 400 'GET containers HTTP/1.1\r\n\r\n' "target not a path"
raw_expect 505 'GET /containers HTTP/2.0\r\n\r\n' "HTTP/2.0"
raw_expect 400 'GET /containers HTTP/1.1\r\nNoColon\r\n\r\n' "header without colon"
raw_expect 400 'GET /containers HTTP/1.1\r\nX: a\r\n folded\r\n\r\n' "folded header"
raw_expect 400 'GET /containers HTTP/1.1\r\nContent-Length: 1x\r\n\r\n' "bad Content-Length"
raw_expect 400 'GET /containers HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab' "two Content-Lengths"
raw_expect 400 'GET /cont\rainers HTTP/1.1\r\n\r\n' "bare CR"

# Keep-alive: curl reuses one connection for two requests.
curl -sS -v --unix-socket "$SOCK" http://localhost/containers http://localhost/daemons \
	-o /dev/null -o /dev/null 2>"$T/curl-v"
grep -qi "re-using existing connection" "$T/curl-v" || fail "HTTP/1.1 connection not kept alive"
# Pipelining: two requests in one write, two answers in order.
out=$(raw 'GET /containers HTTP/1.1\r\n\r\nGET /daemons HTTP/1.1\r\nConnection: close\r\n\r\n')
assert_eq "$(echo "$out" | grep -c '^HTTP/1.1 200 OK')" 2 "pipelined answers"
assert_eq "$(echo "$out" | tail -1 | jq -r '.[0].name')" pv-xconnect "second pipelined answer"

# Slow and idle clients never block others: 1000 connections that send a
# partial request, one that trickles, then a normal client is served while
# they wait (how long it took is printed; the socket timeouts are hang
# guards); the slow ones get 408 with a JSON body after the 5 s limit, not
# before.
"$PYTHON" - "$SOCK" <<'PY'
import json, resource, socket, sys, time
path = sys.argv[1]
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    return s
idle = []
for i in range(1000):
    s = conn()
    s.sendall(b"GET /containers HTTP/1.1\r\nX-Slow: ")
    idle.append(s)
silent = conn()   # sends nothing at all
t0 = time.monotonic()
c = conn()
c.sendall(b"GET /containers HTTP/1.0\r\n\r\n")
c.settimeout(60)
data = b""
while True:
    d = c.recv(65536)
    if not d:
        break
    data += d
took = time.monotonic() - t0
assert data.startswith(b"HTTP/1.0 200"), data[:40]
# Trickle one byte a second: still cut off at the request deadline.
t = conn()
t.settimeout(10)
start = time.monotonic()
answer = b""
for b in b"GET /containers HTTP/1.1\r\nX-Trickle: yes\r\n":
    try:
        t.sendall(bytes([b]))
    except OSError:
        break
    try:
        t.settimeout(0.5)
        answer += t.recv(4096)
        if answer:
            break
    except socket.timeout:
        pass
t.settimeout(60)
while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
    d = t.recv(4096)
    if not d:
        break
    answer += d
waited = time.monotonic() - start
assert answer.startswith(b"HTTP/1.1 408 "), answer[:60]
assert waited >= 4.0, f"trickling client cut after {waited:.1f}s, before the 5 s limit"
json.loads(answer.split(b"\r\n\r\n", 1)[1])
for s in idle[:3] + [silent]:
    s.settimeout(60)
    r = s.recv(4096)
    assert r.startswith(b"HTTP/1.1 408 "), r[:60]
    assert b'"error"' in r
for s in idle:
    s.close()
print(f"normal client served in {took*1000:.0f} ms with 1001 slow clients; "
      f"trickler cut after {waited:.1f}s")
PY

# A client that connects and vanishes does not hurt.
for _ in $(seq 20); do printf 'GET /contain' | nc -U -q0 "$SOCK" >/dev/null 2>&1 || true; done
assert_eq "$(ctrl "$SOCK" /containers)" "[]" "GET /containers after broken clients"

# A second pvd on the same socket is refused; the first keeps serving.
rc=0
"$PVD" --state "$T/state.json" --ctrl "$SOCK" --run-dir "$T/run2" --no-xconnect \
	>"$T/second.log" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "second pvd on the same socket started"
grep -q "another pvd is already serving pv-ctrl on $SOCK" "$T/second.log" ||
	fail "second pvd: unclear refusal: $(cat "$T/second.log")"
assert_eq "$(ctrl "$SOCK" /containers)" "[]" "first pvd after the second was refused"

# Clean exit with a client still connected: pvd does not wait for it (it
# would answer 408 at the request limit first), the client sees the end.
"$PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print("connected", flush=True)
s.settimeout(60)
print("got %r" % s.recv(4096)[:40], flush=True)
time.sleep(60)' "$SOCK" >"$T/idler.log" 2>&1 &
idler=$!
on_cleanup "kill $idler"
wait_for 20 grep -q connected "$T/idler.log"
kill -TERM $PID
wait_for 20 gone $PID
rc=0
wait $PID || rc=$?
assert_eq "$rc" 0 "exit status"
[ -e "$SOCK" ] && fail "socket left behind"
wait_for 20 grep -q "^got" "$T/idler.log"
grep -q "408" "$T/idler.log" && fail "pvd waited for the idle client's request limit: $(cat "$T/idler.log")"

# A file that is not a socket is never replaced.
echo keep >"$SOCK"
rc=0
"$PVD" --state "$T/state.json" --ctrl "$SOCK" --run-dir "$T/run" --no-xconnect \
	>"$T/third.log" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "pvd replaced a regular file at the socket path"
grep -q "exists and is not a socket" "$T/third.log" || fail "unclear refusal: $(cat "$T/third.log")"
assert_eq "$(cat "$SOCK")" keep "regular file content"
exit 0
