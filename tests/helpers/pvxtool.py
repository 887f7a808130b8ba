#!/usr/bin/env python3
"""Small servers and clients for the pv-xconnect integration tests.

Addresses are HOST:PORT, [V6]:PORT or an absolute Unix socket path.

  echo ADDR [--tag T]          echo server; with --tag, answers "T\\n" first
  stream ADDR --mb N [--skip-tag]  send N MiB, half-close, read the echo
                               back, compare SHA-256 both ways (exit 0 when
                               equal); --skip-tag drops the first line;
                               prints "connected" once connected
  hold ADDR [--seconds S | --until FILE] [--skip-tag]  one session echoing
                               a line every 100 ms for S seconds, or until
                               FILE exists; prints "connected" once the
                               first line came back, exits 0 when every
                               line did
  flood ADDR --mb N            server that sends N MiB to every client
  slow ADDR [--seconds S | --until FILE] [--count N]  N connections that
                               read nothing for S seconds, or until FILE
                               exists; prints "connected N" once they are
  blackhole ADDR               listener whose backlog is full: connects hang
  ctrl PATH --file F [--piece N]  fake pv-ctrl: answers each request with F
                               as an HTTP/1.0 response written in N-byte
                               pieces (re-read at each request); PUT bodies
                               are kept in --store DIR, one file a path
  proxyecho ADDR               echo server that first answers the PROXY
                               header it got, as one line
  tag ADDR [--timeout S]       connects and prints the first line received
                               (waits at most S seconds, default 5)
"""

import argparse
import hashlib
import os
import random
import select
import signal
import socket
import sys
import threading
import time


def parse_addr(s):
    if s.startswith("/") or s.startswith("./"):
        return socket.AF_UNIX, s
    if s.startswith("["):
        host, port = s[1:].split("]:")
        return socket.AF_INET6, (host, int(port))
    host, port = s.rsplit(":", 1)
    return socket.AF_INET, (host or "0.0.0.0", int(port))


def listen(addr, backlog=128):
    fam, a = parse_addr(addr)
    s = socket.socket(fam, socket.SOCK_STREAM)
    if fam == socket.AF_UNIX:
        try:
            os.unlink(a)
        except FileNotFoundError:
            pass
    else:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(a)
    if fam == socket.AF_UNIX:
        os.chmod(a, 0o666)
    s.listen(backlog)
    return s


def connect(addr, timeout=10):
    fam, a = parse_addr(addr)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(a)
    return s


def running(args, end):
    """True while a hold or slow client is to go on: until --until's file
    exists, else until the time end."""
    if args.until:
        return not os.path.exists(args.until)
    return time.monotonic() < end


def serve_forever(srv, handler):
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        c, _ = srv.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()


def cmd_echo(args):
    def handle(c):
        try:
            if args.tag:
                c.sendall((args.tag + "\n").encode())
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
            # Half-close forwarded: our EOF after theirs.
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            c.close()

    serve_forever(listen(args.addr), handle)


def cmd_stream(args):
    total = args.mb << 20
    s = connect(args.addr, timeout=60)
    print("connected", flush=True)
    rnd = random.Random(args.seed)
    sent_h = hashlib.sha256()
    recv_h = hashlib.sha256()
    got = [0]
    err = []

    def reader():
        try:
            if args.skip_tag:
                # The echo server's "--tag" line is not part of the echo.
                while s.recv(1) not in (b"\n", b""):
                    pass
            while True:
                d = s.recv(1 << 16)
                if not d:
                    return
                recv_h.update(d)
                got[0] += len(d)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=reader)
    t.start()
    chunk_len = 1 << 16
    block = rnd.randbytes(chunk_len * 4)
    off = 0
    sent = 0
    while sent < total:
        n = min(chunk_len, total - sent)
        piece = block[off:off + n]
        off = (off + 4099) % (chunk_len * 3)
        s.sendall(piece)
        sent_h.update(piece)
        sent += n
    s.shutdown(socket.SHUT_WR)
    t.join(120)
    s.close()
    a, b = sent_h.hexdigest(), recv_h.hexdigest()
    print("sent %d sha256 %s" % (sent, a))
    print("recv %d sha256 %s" % (got[0], b))
    if err or t.is_alive() or a != b or got[0] != sent:
        print("MISMATCH", err, file=sys.stderr)
        sys.exit(1)


def cmd_proxyecho(args):
    def handle(c):
        try:
            f = c.makefile("rb")
            first = f.read(12)
            if first == b"\r\n\r\n\x00\r\nQUIT\n":
                ver, fam, n = f.read(1)[0], f.read(1)[0], int.from_bytes(f.read(2), "big")
                a = f.read(n)
                if fam == 0x11:
                    src, dst = socket.inet_ntop(socket.AF_INET, a[0:4]), socket.inet_ntop(socket.AF_INET, a[4:8])
                    sp, dp = int.from_bytes(a[8:10], "big"), int.from_bytes(a[10:12], "big")
                else:
                    src, dst = socket.inet_ntop(socket.AF_INET6, a[0:16]), socket.inet_ntop(socket.AF_INET6, a[16:32])
                    sp, dp = int.from_bytes(a[32:34], "big"), int.from_bytes(a[34:36], "big")
                line = "v2 ver=%#x fam=%#x %s %s %d %d" % (ver, fam, src, dst, sp, dp)
            else:
                line = (first + f.readline()).decode().rstrip("\r\n")
            c.sendall((line + "\n").encode())
            while True:
                d = f.read1(65536)
                if not d:
                    break
                c.sendall(d)
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            c.close()

    serve_forever(listen(args.addr), handle)


def cmd_hold(args):
    s = connect(args.addr)
    f = s.makefile("rb")
    if args.skip_tag:
        print("hold: tag %s" % f.readline().decode().strip(), flush=True)
    end = time.monotonic() + args.seconds
    i = 0
    while i == 0 or running(args, end):
        line = ("line %d\n" % i).encode()
        s.sendall(line)
        back = f.readline()
        if back != line:
            print("hold: line %d came back as %r" % (i, back), file=sys.stderr)
            sys.exit(1)
        if i == 0:
            print("connected", flush=True)
        i += 1
        time.sleep(0.1)
    print("hold: %d lines echoed" % i)


def cmd_flood(args):
    chunk = b"z" * 65536

    def handle(c):
        try:
            for _ in range(args.mb * 16):
                c.sendall(chunk)
        except OSError:
            pass
        finally:
            c.close()

    serve_forever(listen(args.addr), handle)


def cmd_slow(args):
    held = []
    for _ in range(args.count):
        s = socket.socket(parse_addr(args.addr)[0], socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(parse_addr(args.addr)[1])
        held.append(s)
    print("connected %d" % len(held), flush=True)
    end = time.monotonic() + args.seconds
    while running(args, end):
        time.sleep(0.05)
    for s in held:
        s.close()


def cmd_blackhole(args):
    srv = listen(args.addr, backlog=0)
    fam, a = parse_addr(args.addr)
    held = []
    # Fill the accept queue: from now on SYNs are dropped. Backlog 0 holds
    # one connection: ready once one of these is established.
    for _ in range(4):
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(a)
        except BlockingIOError:
            pass
        held.append(c)
    if not select.select([], held, [], 30)[1]:
        sys.exit("blackhole: no connection got into the accept queue")
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        time.sleep(3600)


def cmd_ctrl(args):
    def handle(c):
        try:
            req = b""
            while b"\r\n\r\n" not in req:
                d = c.recv(4096)
                if not d:
                    return
                req += d
            head, _, rest = req.partition(b"\r\n\r\n")
            method, path = head.split(b" ")[:2]
            if method == b"PUT":
                # A report: kept in --store DIR under the path's name.
                n = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        n = int(v)
                while len(rest) < n:
                    d = c.recv(65536)
                    if not d:
                        return
                    rest += d
                if args.store:
                    name = path.decode().strip("/").replace("/", "_")
                    with open(os.path.join(args.store, name + ".tmp"), "wb") as fh:
                        fh.write(rest[:n])
                    os.rename(os.path.join(args.store, name + ".tmp"),
                              os.path.join(args.store, name))
                c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 15\r\n\r\n"
                          b"{\"stored\":true}")
                return
            with open(args.file, "rb") as fh:
                body = fh.read()
            resp = (b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body)) + body
            for i in range(0, len(resp), args.piece):
                c.sendall(resp[i:i + args.piece])
                if (i // args.piece) % 50 == 49:
                    time.sleep(0.002)
        except OSError:
            pass
        finally:
            c.close()

    serve_forever(listen(args.addr), handle)


def cmd_tag(args):
    s = connect(args.addr, timeout=args.timeout)
    print(s.makefile("rb").readline().decode().strip())


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("echo")
    a.add_argument("addr")
    a.add_argument("--tag")
    a = sub.add_parser("stream")
    a.add_argument("addr")
    a.add_argument("--mb", type=int, default=64)
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--skip-tag", action="store_true")
    a = sub.add_parser("proxyecho")
    a.add_argument("addr")
    a = sub.add_parser("hold")
    a.add_argument("addr")
    a.add_argument("--seconds", type=float, default=3)
    a.add_argument("--until")
    a.add_argument("--skip-tag", action="store_true")
    a = sub.add_parser("flood")
    a.add_argument("addr")
    a.add_argument("--mb", type=int, default=256)
    a = sub.add_parser("slow")
    a.add_argument("addr")
    a.add_argument("--seconds", type=float, default=5)
    a.add_argument("--until")
    a.add_argument("--count", type=int, default=1)
    a = sub.add_parser("blackhole")
    a.add_argument("addr")
    a = sub.add_parser("ctrl")
    a.add_argument("addr")
    a.add_argument("--file", required=True)
    a.add_argument("--piece", type=int, default=1000)
    a.add_argument("--store")
    a = sub.add_parser("tag")
    a.add_argument("addr")
    a.add_argument("--timeout", type=float, default=5)
    args = p.parse_args()
    globals()["cmd_" + args.cmd](args)


if __name__ == "__main__":
    main()
