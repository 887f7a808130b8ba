#!/usr/bin/python3
"""Raw HTTP clients for the http link scenarios.

  httpclient.py pipeline PORT METHOD:PATH...
      every request in one write on one connection (the last with
      Connection: close); reads until the proxy closes and prints one line
      per answer, in order: STATUS BODY-BYTES X-Backend-or-- PATH-the-backend-saw
      (a JSON body's "path", else -); leftover bytes after the last answer
      fail.
  httpclient.py upgrade PORT PATH
      Connection: Upgrade, Upgrade: echo; after the 101 sends 1 MiB in
      pieces, reads it all back, half-closes, expects EOF; prints
      "101 echoed N bytes, EOF after half-close".
  httpclient.py halfheads FAST SLOW
      half a request head to port FAST and to port SLOW at once; waits (at
      most 30 s) for FAST's answer and its close, then looks whether SLOW
      is still open and silent: prints "STATUS closed, other open" (or what
      happened instead). Orders two timeouts without timing either.
  httpclient.py raw PORT HEX-OR-@FILE
      sends the bytes, prints the first answer's status line and whether the
      proxy then closed: "STATUS closed" or "STATUS open".
"""

import hashlib
import json
import os
import socket
import sys
import time


def connect(port):
    return socket.create_connection(("127.0.0.1", int(port)), timeout=20)


def read_all(s, limit=30):
    out = b""
    end = time.time() + limit
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        out += d
    return out


def parse_one(buf, method):
    """Returns (status, headers, body, rest) or raises ValueError."""
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("no complete answer head in %r" % buf[:200])
    lines = head.split(b"\r\n")
    st = lines[0].split(b" ", 2)
    status = int(st[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        headers.setdefault(k.strip().lower().decode(), []).append(v.strip().decode())
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return status, headers, b"", rest
    te = ",".join(headers.get("transfer-encoding", [])).lower()
    if "chunked" in te:
        body = b""
        while True:
            line, _, rest = rest.partition(b"\r\n")
            n = int(line.split(b";")[0], 16)
            if n == 0:
                while True:
                    line, _, rest = rest.partition(b"\r\n")
                    if not line:
                        break
                break
            body += rest[:n]
            rest = rest[n + 2:]
        return status, headers, body, rest
    if "content-length" in headers:
        n = int(headers["content-length"][0])
        if len(rest) < n:
            raise ValueError("answer body cut: %d of %d bytes" % (len(rest), n))
        return status, headers, rest[:n], rest[n:]
    return status, headers, rest, b""


def pipeline(port, reqs):
    data = b""
    methods = []
    for i, r in enumerate(reqs):
        m, _, p = r.partition(":")
        methods.append(m)
        last = "Connection: close\r\n" if i == len(reqs) - 1 else ""
        data += ("%s %s HTTP/1.1\r\nHost: test.local\r\n%s\r\n" % (m, p, last)).encode()
    s = connect(port)
    s.sendall(data)
    buf = read_all(s)
    for m in methods:
        while True:
            status, headers, body, buf = parse_one(buf, m)
            if status >= 200:
                break
        path = "-"
        try:
            path = json.loads(body)["path"]
        except (ValueError, KeyError, TypeError):
            pass
        print(status, len(body), headers.get("x-backend", ["-"])[0], path)
    if buf:
        print("LEFTOVER %d bytes: %r" % (len(buf), buf[:100]))
        sys.exit(1)


def upgrade(port, path):
    s = connect(port)
    s.sendall(("GET %s HTTP/1.1\r\nHost: test.local\r\nConnection: Upgrade\r\n"
               "Upgrade: echo\r\n\r\n" % path).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            sys.exit("closed before a 101: %r" % buf)
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    if status != 101:
        sys.exit("answer %d, want 101: %r" % (status, head))
    payload = os.urandom(1 << 20)
    got = bytearray(rest)
    s.setblocking(True)
    for i in range(0, len(payload), 16384):
        s.sendall(payload[i:i + 16384])
        while len(got) < i + 16384 // 2:
            d = s.recv(65536)
            if not d:
                sys.exit("EOF after %d echoed bytes" % len(got))
            got += d
    s.shutdown(socket.SHUT_WR)
    eof = False
    end = time.time() + 20
    while time.time() < end:
        d = s.recv(65536)
        if not d:
            eof = True
            break
        got += d
    if hashlib.sha256(bytes(got)).digest() != hashlib.sha256(payload).digest():
        sys.exit("echo differs: %d bytes back of %d" % (len(got), len(payload)))
    if not eof:
        sys.exit("no EOF within 20 s after the half-close")
    print("101 echoed %d bytes, EOF after half-close" % len(got))


def raw(port, spec):
    data = open(spec[1:], "rb").read() if spec.startswith("@") else bytes.fromhex(spec)
    s = connect(port)
    s.sendall(data)
    buf = b""
    while b"\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    if not buf:
        print("000 closed")
        return
    st = buf.split(b"\r\n")[0].split(b" ")
    status = st[1].decode() if len(st) > 1 else "???"
    # The proxy closes after a refusal: EOF within 5 s (a hang guard).
    s.settimeout(5)
    state = "open"
    end = time.time() + 5
    try:
        while time.time() < end:
            d = s.recv(65536)
            if not d:
                state = "closed"
                break
    except socket.timeout:
        pass
    except OSError:
        state = "closed"
    print(status, state)


def halfheads(fast, slow):
    half = b"GET /half HTTP/1.1\r\nHost: test.local\r\nX-A:"
    s_slow = connect(slow)
    s_slow.sendall(half)
    s_fast = connect(fast)
    s_fast.sendall(half)
    s_fast.settimeout(30)
    buf = b""
    try:
        while True:
            d = s_fast.recv(4096)
            if not d:
                break
            buf += d
    except socket.timeout:
        print("no close within 30 s: %r" % buf[:100])
        return
    st = buf.split(b"\r\n")[0].split(b" ")
    status = st[1].decode() if len(st) > 1 else "000"
    s_slow.setblocking(False)
    try:
        d = s_slow.recv(4096)
        other = "answered %r" % d[:60] if d else "closed"
    except BlockingIOError:
        other = "open"
    except OSError as e:
        other = "error %s" % e
    print("%s closed, other %s" % (status, other))


def main():
    cmd = sys.argv[1]
    if cmd == "pipeline":
        pipeline(sys.argv[2], sys.argv[3:])
    elif cmd == "upgrade":
        upgrade(sys.argv[2], sys.argv[3])
    elif cmd == "halfheads":
        halfheads(sys.argv[2], sys.argv[3])
    elif cmd == "raw":
        raw(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
