#!/usr/bin/python3
# A small HTTP/1.1 backend for the http plugin's tests.
#   httpbackend.py PORT NAME
# GET/HEAD any path: JSON with this backend's name, the path it got and
# the forwarding headers; /missing...: 404; /dl/N: N bytes (a fixed
# pattern), Content-Length; /close/N: N bytes, no length, then close;
# GET with Upgrade: 101 then an echo of every byte; POST: the SHA-256 of
# the body (Content-Length or chunked).
import hashlib
import http.server
import json
import sys

NAME = sys.argv[2]
PATTERN = bytes(range(256)) * 256


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="text/plain", length=True):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def stream(self, n, length):
        self.send_response(200)
        if length:
            self.send_header("Content-Length", str(n))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        while n > 0:
            chunk = PATTERN[: min(n, len(PATTERN))]
            self.wfile.write(chunk)
            n -= len(chunk)

    def do_GET(self):
        if self.headers.get("Upgrade"):
            self.send_response(101)
            self.send_header("Upgrade", self.headers["Upgrade"])
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.flush()
            while True:
                data = self.connection.recv(65536)
                if not data:
                    break
                self.connection.sendall(data)
            self.close_connection = True
            return
        if self.path.startswith("/missing"):
            return self.send(404, b"not here\n")
        if self.path.startswith("/dl/"):
            return self.stream(int(self.path[4:]), True)
        if self.path.startswith("/close/"):
            return self.stream(int(self.path[7:]), False)
        info = {
            "backend": NAME,
            "path": self.path,
            "xff": self.headers.get("X-Forwarded-For"),
            "xfp": self.headers.get("X-Forwarded-Proto"),
            "xfh": self.headers.get("X-Forwarded-Host"),
            "host": self.headers.get("Host"),
            "connection": self.headers.get("Connection"),
            "hop": self.headers.get("X-Hop"),
        }
        self.send(200, (json.dumps(info) + "\n").encode(), "application/json")

    do_HEAD = do_GET

    def do_POST(self):
        h = hashlib.sha256()
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                while n:
                    d = self.rfile.read(min(n, 65536))
                    h.update(d)
                    n -= len(d)
                self.rfile.readline()
        else:
            n = int(self.headers.get("Content-Length", "0"))
            while n:
                d = self.rfile.read(min(n, 65536))
                h.update(d)
                n -= len(d)
        self.send(200, (h.hexdigest() + "\n").encode())


http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
