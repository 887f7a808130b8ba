#!/usr/bin/python3
"""An HTTP/1.1 backend for the http link tests (65, 66, 67, 68).

    httpbackend.py LISTEN [--log FILE] [--raw FILE] [--name NAME]

LISTEN is 127.0.0.1:PORT or a Unix socket path. One thread per connection,
persistent connections, its own strict-enough parser (the point is to see
what the proxy sends, not to be lenient). Answers, by path (the path the
backend sees, after the proxy stripped its prefix):

  /close      closes the connection without answering (a 502 for the proxy)
  /garbage    answers a head that is not HTTP, then closes (a 502)
  /hang       holds the connection, answers nothing for up to 60 s (504)
  /chunked/N  answers N pseudo-random bytes, chunked (64 KiB chunks), their
              SHA-256 in a trailer-free header X-Sha256 sent first
  /status/N   answers status N with no body (204, 304) or a short one
  /until-close/N  answers N pseudo-random bytes without a length, then
              closes (a body read until close), their SHA-256 in X-Sha256
  /upgrade    (or any request with Connection: upgrade and Upgrade: echo)
              answers 101 and then echoes every byte until EOF, then
              half-closes its side
  anything    a JSON object: name, method, path, headers (a list of
  else        [name, value] as received), body bytes and the body's SHA-256;
              HEAD gets the same headers and no body

Expect: 100-continue is answered with a 100 before the body is read.
Every request's line and headers go to --log as one JSON line (flushed), and
every byte received goes to --raw: a test can prove that the backend saw
nothing of a request the proxy refused.
"""

import hashlib
import json
import os
import socket
import sys
import threading
import time

args = sys.argv[1:]
if not args:
    sys.exit(__doc__)
listen = args[0]
opts = dict(zip(args[1::2], args[2::2]))
NAME = opts.get("--name", "backend")
LOG = open(opts["--log"], "a", buffering=1) if "--log" in opts else None
RAW = open(opts["--raw"], "ab", buffering=0) if "--raw" in opts else None
lock = threading.Lock()
conn_seq = [0]


class Closed(Exception):
    pass


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        if RAW:
            with lock:
                RAW.write(data)
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise Closed()
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n, h):
        while n > 0:
            if not self.buf:
                self.fill()
            take = self.buf[:n]
            self.buf = self.buf[len(take):]
            h.update(take)
            n -= len(take)


def answer(c, status, headers, body, head_only=False):
    reason = {200: "OK", 101: "Switching Protocols", 204: "No Content",
              304: "Not Modified", 400: "Bad Request", 404: "Not Found"}
    out = "HTTP/1.1 %d %s\r\n" % (status, reason.get(status, "Status"))
    for k, v in headers:
        out += "%s: %s\r\n" % (k, v)
    if status not in (204, 304) and status >= 200:
        out += "Content-Length: %d\r\n" % len(body)
    out += "\r\n"
    data = out.encode()
    if not head_only and status not in (204, 304):
        data += body
    c.sock.sendall(data)


def stream_bytes(n):
    """n deterministic bytes, in pieces of at most 64 KiB."""
    i = 0
    while n > 0:
        block = b"".join(hashlib.sha256(b"%d.%d" % (i, j)).digest() for j in range(2048))
        i += 1
        yield block[:n]
        n -= len(block[:n])


def until_close(c, n):
    h = hashlib.sha256()
    for b in stream_bytes(n):
        h.update(b)
    c.sock.sendall(("HTTP/1.1 200 OK\r\nConnection: close\r\nX-Backend: %s\r\n"
                    "X-Sha256: %s\r\n\r\n" % (NAME, h.hexdigest())).encode())
    for b in stream_bytes(n):
        c.sock.sendall(b)


def chunked(c, n, head_only):
    h = hashlib.sha256()
    for b in stream_bytes(n):
        h.update(b)
    c.sock.sendall(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Backend: %s\r\n"
                    "X-Sha256: %s\r\n\r\n" % (NAME, h.hexdigest())).encode())
    if head_only:
        return
    for b in stream_bytes(n):
        c.sock.sendall(b"%x\r\n" % len(b) + b + b"\r\n")
    c.sock.sendall(b"0\r\n\r\n")


def serve(sock):
    with lock:
        conn_seq[0] += 1
        cid = conn_seq[0]
    c = Conn(sock)
    nreq = 0
    try:
        while True:
            line = c.line()
            if not line:
                continue
            parts = line.decode("latin-1").split(" ")
            if len(parts) != 3:
                answer(c, 400, [], b"bad request line\n")
                return
            method, path, version = parts
            headers = []
            while True:
                h = c.line()
                if not h:
                    break
                k, _, v = h.decode("latin-1").partition(":")
                headers.append([k, v.strip()])
            nreq += 1
            low = {}
            for k, v in headers:
                low.setdefault(k.lower(), []).append(v)
            if LOG:
                LOG.write(json.dumps({"conn": cid, "req": nreq, "method": method,
                                      "path": path, "version": version,
                                      "headers": headers}) + "\n")
            conn_tokens = ",".join(low.get("connection", [])).lower()
            if path == "/close" or path.startswith("/close?"):
                return
            if path == "/garbage":
                c.sock.sendall(b"HTTP/1.1 2x0 Broken\r\nno colon here\r\n\r\n")
                return
            if path == "/hang" or path.startswith("/hang?"):
                c.sock.settimeout(60)
                try:
                    while c.sock.recv(4096):
                        pass
                except OSError:
                    pass
                return
            if "upgrade" in conn_tokens and "echo" in ",".join(low.get("upgrade", [])).lower():
                c.sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                               b"Connection: Upgrade\r\nUpgrade: echo\r\n\r\n")
                if c.buf:
                    c.sock.sendall(c.buf)
                while True:
                    data = c.sock.recv(65536)
                    if not data:
                        break
                    c.sock.sendall(data)
                c.sock.shutdown(socket.SHUT_WR)
                return
            if "100-continue" in ",".join(low.get("expect", [])).lower():
                c.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            h = hashlib.sha256()
            size = 0
            te = ",".join(low.get("transfer-encoding", [])).lower()
            if "chunked" in te:
                while True:
                    n = int(c.line().split(b";")[0], 16)
                    if n == 0:
                        while c.line():
                            pass
                        break
                    c.exact(n, h)
                    size += n
                    if c.line() != b"":
                        return
            elif "content-length" in low:
                size = int(low["content-length"][0])
                c.exact(size, h)
            if path.startswith("/until-close/"):
                until_close(c, int(path[13:]))
                return
            if path.startswith("/chunked/") and version == "HTTP/1.0":
                # As a server must: no chunked coding to HTTP/1.0.
                until_close(c, int(path[9:]))
                return
            if path.startswith("/chunked/"):
                chunked(c, int(path[9:]), method == "HEAD")
            elif path.startswith("/status/"):
                status = int(path[8:11])
                answer(c, status, [["X-Backend", NAME]], b"status %d\n" % status,
                       method == "HEAD")
            else:
                body = json.dumps({"name": NAME, "method": method, "path": path,
                                   "version": version, "headers": headers,
                                   "bytes": size, "sha256": h.hexdigest(),
                                   "conn": cid, "req": nreq}).encode() + b"\n"
                answer(c, 200, [["Content-Type", "application/json"],
                                ["X-Backend", NAME]], body, method == "HEAD")
            if "close" in conn_tokens or (version == "HTTP/1.0" and "keep-alive" not in conn_tokens):
                return
    except (Closed, OSError, ValueError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    if listen.startswith("/"):
        try:
            os.unlink(listen)
        except FileNotFoundError:
            pass
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(listen)
        os.chmod(listen, 0o777)
    else:
        host, _, port = listen.rpartition(":")
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((host, int(port)))
    srv.listen(1024)
    print("listening on", listen, flush=True)
    while True:
        s, _ = srv.accept()
        threading.Thread(target=serve, args=(s,), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        time.sleep(0)
