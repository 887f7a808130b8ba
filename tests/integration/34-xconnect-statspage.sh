#!/bin/bash
# The stats page reads its requests with the project's HTTP/1.x parser
# (utils/http1.c): a request sent one byte at a time is still answered;
# a smuggling-style head (Content-Length with Transfer-Encoding, two
# Content-Lengths, a folded line, a space before the colon) is answered
# 400; a 20 KiB head 431; not HTTP/1.x 505; an absolute target 400; an
# unknown method 405, an unknown path 404; and the page still serves.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd curl

e=$(free_port)
port=$(free_port)
sp=$(free_port)
bg echo $PVXTOOL echo "127.0.0.1:$e"
wait_for 20 port_open "$e"
graph "$(ingress one "127.0.0.1:$port" "127.0.0.1:$e")"
start_pvx --stats "127.0.0.1:$sp"
wait_for 20 port_open "$sp"

"$PYTHON" - "$sp" <<'PY'
import socket, sys, time
port = int(sys.argv[1])

def ask(req, split=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if split:
        for i in range(len(req)):
            s.sendall(req[i:i + 1])
            # Each byte its own segment: wait until it left our send queue.
            time.sleep(0.002)
    else:
        # A head over the limit is answered (and closed) before the rest
        # of it is sent: the answer is read all the same.
        try:
            s.sendall(req)
        except (BrokenPipeError, ConnectionResetError):
            pass
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        out += b
    s.close()
    return out

def status(out):
    line = out.split(b"\r\n", 1)[0]
    assert line.startswith(b"HTTP/1.0 "), out[:200]
    return int(line.split()[1])

cases = [
    (b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n", 200),
    (b"GET /metrics HTTP/1.0\n\n", 200),
    (b"HEAD /stats?refresh=9 HTTP/1.1\r\nHost: x\r\n\r\n", 200),
    (b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    (b"POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
    (b"GET /status HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"GET /status HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
     b"Content-Length: 2\r\n\r\n", 400),
    (b"GET /status HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", 400),
    (b"GET /status HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    (b"GET /status HTTP/1.1\r\nHost: x\rX-B: 1\r\n\r\n", 400),
    (b"GET http://x/status HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /status HTTP/2.0\r\n\r\n", 505),
    (b"GET /status HTTP/1.1\r\nHost: x\r\n" +
     b"".join(b"X-Pad-%03d: %s\r\n" % (i, b"a" * 200) for i in range(100)) +
     b"\r\n", 431),
    (b"GET /status HTTP/1.1\r\nX: " + b"a" * 20480 + b"\r\n\r\n", 431),
]
for req, want in cases:
    got = status(ask(req))
    assert got == want, (req[:80], got, want)
# Split at every byte: the parser takes each piece as it comes.
out = ask(b"GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n", split=True)
assert status(out) == 200, out[:200]
assert b'"frontends"' in out, out[:400]
print("stats page: %d requests answered as expected, one split at every byte"
      % (len(cases) + 1))
PY
curl -sf "http://127.0.0.1:$sp/stats" | grep -qF "pv-xconnect statistics" ||
	fail "stats page no longer served"
pvx_alive
echo PASS
