#!/bin/bash
# The http plugin: two http links on one port ("/" and "/api") to two
# small backends: routing on segment boundaries, the prefix stripped (query
# kept), X-Forwarded-*, the backend's 404 passed through, 404 for no route,
# 503 with no usable backend, 502 when it refuses, keep-alive reuse (curl
# fetching two URLs), pipelined requests answered in order, 1 MiB uploads
# with Content-Length and chunked and an 8 MiB download with identical
# SHA-256, a body read until close, an upgrade echoed through the tunnel,
# and the parser's refusals (400, 431).
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd curl nc sha256sum

set -- $(free_ports 4)
port=$1 root_port=$2 api_port=$3 dead_port=$4
bg root "$PYTHON" "$TOP/tests/helpers/httpbackend.py" "$root_port" root
bg api "$PYTHON" "$TOP/tests/helpers/httpbackend.py" "$api_port" api
wait_for 20 port_open "$root_port"
wait_for 20 port_open "$api_port"

http_link() { # NAME TARGET SOCKET
	printf '{"type":"http","name":"%s","consumer":"EXTERNAL","consumer_pid":0,"provider":"_host_","provider_pid":0,"role":"EXTERNAL","interface":null,"target":"%s","socket":"%s","ingress":"%s"}' \
		"$1" "$2" "$3" "$1"
}
graph "$(http_link root "127.0.0.1:$port" "127.0.0.1:$root_port")" \
	"$(http_link api "127.0.0.1:$port/api" "127.0.0.1:$api_port")" \
	"$(http_link nobackend "127.0.0.1:$port/none" "")" \
	"$(http_link refused "127.0.0.1:$port/refused" "127.0.0.1:$dead_port")"
start_pvx
wait_for 20 grep -q "http site 127.0.0.1:$port: listening" "$T/pvx.log"
base=http://127.0.0.1:$port

# get PATH: "CODE BODY"
get() { curl -s -m 10 -o "$T/body" -w '%{http_code}' "$base$1" && echo " $(cat "$T/body")"; }
field() { "$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1].split(" ",1)[1])[sys.argv[2]])' "$1" "$2"; }

check_route() { # PATH BACKEND PATH_SEEN
	_r=$(get "$1")
	assert_eq "${_r%% *}" 200 "status of $1"
	assert_eq "$(field "$_r" backend)" "$2" "backend of $1"
	assert_eq "$(field "$_r" path)" "$3" "path the backend saw for $1"
}
check_route / root /
check_route /x/y?z=1 root /x/y?z=1
check_route /api api /
check_route /api/ api /
check_route /api/v1/x api /v1/x
check_route '/api?x=1' api '/?x=1'
check_route /apix root /apix
check_route /api/apix api /apix

r=$(get /api/h)
assert_eq "$(field "$r" xff)" 127.0.0.1 "X-Forwarded-For"
assert_eq "$(field "$r" xfp)" http "X-Forwarded-Proto"
assert_eq "$(field "$r" xfh)" "127.0.0.1:$port" "X-Forwarded-Host"
assert_eq "$(field "$r" host)" "127.0.0.1:$port" "Host passed through"
assert_eq "$(field "$r" connection)" keep-alive "Connection to the backend"
r=$(curl -s -m 10 -H 'X-Forwarded-For: 10.1.1.1' -H 'Connection: X-Hop' -H 'X-Hop: 1' "$base/api/h")
assert_eq "$(field "0 $r" xff)" "10.1.1.1, 127.0.0.1" "X-Forwarded-For appended"
assert_eq "$(field "0 $r" hop)" None "a header named by Connection is not forwarded"

r=$(get /missing)
assert_eq "${r%% *}" 404 "the backend's 404 passes through"
assert_eq "${r#* }" "not here" "the backend's 404 body"
r=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$base/none/x")
assert_eq "$r" 503 "no usable backend"
r=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$base/refused")
assert_eq "$r" 502 "the only backend refuses"
graph "$(http_link api "127.0.0.1:$port/api" "127.0.0.1:$api_port")"
reload
r=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$base/other")
assert_eq "$r" 404 "no route once / is removed"
r=$(get /api/still)
assert_eq "$(field "$r" path)" /still "/api still served"
graph "$(http_link root "127.0.0.1:$port" "127.0.0.1:$root_port")" \
	"$(http_link api "127.0.0.1:$port/api" "127.0.0.1:$api_port")"
reload

# Keep-alive: curl reuses its connection for a second URL.
curl -sv -m 10 "$base/a" "$base/api/b" >/dev/null 2>"$T/curl-v"
grep -q "Re-using existing connection" "$T/curl-v" ||
	fail "curl did not reuse its connection: $(cat "$T/curl-v")"

# Pipelined requests on one connection, answered in order.
"$PYTHON" - "$port" >"$T/pipe" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /api/p1 HTTP/1.1\r\nHost: a\r\n\r\n"
          b"GET /p2 HTTP/1.1\r\nHost: a\r\n\r\n"
          b"HEAD /api/p3 HTTP/1.1\r\nHost: a\r\n\r\n"
          b"GET /api/p4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
d = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    d += c
print(d.count(b"HTTP/1.1 200 OK"))
print(" ".join(l.split(b'"path": "')[1].split(b'"')[0].decode()
               for l in d.split(b"\n") if b'"path"' in l))
PY
assert_eq "$(sed -n 1p "$T/pipe")" 4 "pipelined answers"
assert_eq "$(sed -n 2p "$T/pipe")" "/p1 /p2 /p4" "pipelined answers in order"

# Uploads: Content-Length and chunked, 1 MiB each.
head -c 1048576 /dev/urandom >"$T/up"
want=$(sha256sum "$T/up" | cut -d' ' -f1)
got=$(curl -s -m 30 --data-binary @"$T/up" "$base/api/up")
assert_eq "$got" "$want" "SHA-256 of a 1 MiB Content-Length upload"
got=$(curl -s -m 30 -H 'Transfer-Encoding: chunked' --data-binary @"$T/up" "$base/up")
assert_eq "$got" "$want" "SHA-256 of a 1 MiB chunked upload"

# Downloads: 8 MiB with a length, 1 MiB read until the backend closes.
for what in dl/8388608 close/1048576; do
	n=${what#*/}
	want=$("$PYTHON" -c "import sys,hashlib; p=bytes(range(256))*256; n=$n; h=hashlib.sha256()
while n>0: c=p[:min(n,len(p))]; h.update(c); n-=len(c)
print(h.hexdigest())")
	got=$(curl -s -m 30 "$base/api/$what" | sha256sum | cut -d' ' -f1)
	assert_eq "$got" "$want" "SHA-256 of /api/$what"
done

# An upgrade: the 101, then bytes echoed through the tunnel.
"$PYTHON" - "$port" >"$T/upgrade" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /api/ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\n\r\n")
d = b""
while b"\r\n\r\n" not in d:
    d += s.recv(4096)
print(d.split(b"\r\n")[0].decode())
s.sendall(b"hello through the tunnel")
e = b""
while len(e) < 24:
    e += s.recv(4096)
print(e.decode())
PY
assert_eq "$(sed -n 1p "$T/upgrade")" "HTTP/1.1 101 Switching Protocols" "upgrade answered"
assert_eq "$(sed -n 2p "$T/upgrade")" "hello through the tunnel" "bytes echoed through the tunnel"

# The parser's refusals.
status_of() { "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
print(s.recv(200).split(b"\r\n")[0].decode())' "$port" "$1"; }
assert_eq "$(status_of 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc')" \
	"HTTP/1.1 400 Bad Request" "Content-Length and Transfer-Encoding"
assert_eq "$(status_of 'GET / HTTP/1.1\r\nHost: a\r\nX-Big: '"$(head -c 20000 /dev/zero | tr '\0' a)"'\r\n\r\n')" \
	"HTTP/1.1 431 Request Header Fields Too Large" "a 20 KB head"
assert_eq "$(status_of 'GET / HTTP/1.1\r\n\r\n')" "HTTP/1.1 400 Bad Request" "HTTP/1.1 without Host"

grep -q '"unrouted"' <<<"$(curl -s -m 10 "$base/api/h" >/dev/null; echo '"unrouted"')"
kill -0 "$PVX_PID" || fail "pv-xconnect died: $(tail "$T/pvx.log")"
echo "ok"
