#!/usr/bin/env python3
"""Opens N TCP connections to HOST:PORT, holds them idle, then checks them.

Used by bench/run.sh (memory per idle connection) and bench/c10k.sh (10,000
concurrent connections). The sequence:

  1. connect COUNT sockets, at most --inflight connects pending at a time so
     a proxy's accept backlog never overflows (a dropped SYN would cost a 1 s
     retransmit and skew the timing);
  2. with --request-first (an HTTP reverse proxy, whose per-connection state
     exists once a request went through), send one HTTP/1.1 request on every
     connection and read every answer, keeping the connections open (16
     requests in flight at a time);
  3. write "connected N" (with --request-first: "connected N primed M", M the
     answers read) to --ready-file, then wait (idle) until --go-file exists
     or --hold seconds have passed;
  4. count connections the far side closed while they were idle ("dropped");
  5. with --verify, send one HTTP/1.1 request on every connection at once and
     read every answer (status 200 and Content-Length bytes of body);
  6. print one summary line and exit 0 if every connection was held and (with
     --verify, --request-first) answered, 1 otherwise, 2 on bad usage.

Every wait is bounded by --timeout (the whole run) so a stuck proxy cannot
hang the benchmark. Loopback only: the host must be a loopback address.
"""

import argparse
import errno
import ipaddress
import os
import resource
import select
import socket
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
# --request-first: requests in flight at once.
PRIME_BATCH = 16


def log(msg):
    print("holdconns: " + msg, file=sys.stderr, flush=True)


def raise_nofile(need):
    """Raises the soft fd limit to the hard one; fails if that is not enough."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        log(f"fd limit {hard} is below the {need} needed: raise it (ulimit -Hn) as root")
        return False
    if soft == resource.RLIM_INFINITY or soft >= need:
        return True
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return True


def connect_all(host, port, count, inflight, deadline):
    """Returns the list of connected sockets and the number of failures."""
    done = []
    failed = 0
    pending = {}
    poller = select.poll()
    started = 0
    last_err = None
    while len(done) + failed < count:
        if time.monotonic() > deadline:
            log(f"timed out connecting: {len(done)} of {count} connected")
            break
        while started < count and len(pending) < inflight:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex((host, port))
            started += 1
            if err not in (0, errno.EINPROGRESS):
                last_err = os.strerror(err)
                failed += 1
                s.close()
                continue
            pending[s.fileno()] = s
            poller.register(s, select.POLLOUT)
        for fd, _ in poller.poll(100):
            s = pending.pop(fd)
            poller.unregister(fd)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                last_err = os.strerror(err)
                failed += 1
                s.close()
            else:
                done.append(s)
    for s in pending.values():
        s.close()
    if failed:
        log(f"{failed} connects failed, last: {last_err}")
    return done, failed


def count_dropped(socks):
    """Counts sockets that are readable (EOF, reset or unexpected data)."""
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN | select.POLLRDHUP)
    return len(poller.poll(0))


def verify(socks, deadline):
    """Sends one request on each socket; returns how many got a full 200."""
    bufs = {}
    poller = select.poll()
    for s in socks:
        try:
            s.send(REQUEST)
        except OSError:
            continue
        bufs[s.fileno()] = [s, b""]
        poller.register(s, select.POLLIN)
    ok = 0
    while bufs and time.monotonic() < deadline:
        for fd, _ in poller.poll(200):
            entry = bufs[fd]
            try:
                data = entry[0].recv(65536)
            except OSError:
                data = b""
            if not data:
                poller.unregister(fd)
                del bufs[fd]
                continue
            entry[1] += data
            head, sep, body = entry[1].partition(b"\r\n\r\n")
            if not sep:
                continue
            length = None
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length is None or len(body) < length:
                continue
            if head.startswith(b"HTTP/1.1 200"):
                ok += 1
            poller.unregister(fd)
            del bufs[fd]
    return ok


def wait_for_go(go_file, hold, deadline):
    end = min(time.monotonic() + hold, deadline)
    while time.monotonic() < end:
        if go_file and os.path.exists(go_file):
            return
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--inflight", type=int, default=128)
    ap.add_argument("--hold", type=float, default=5.0,
                    help="seconds to hold when no --go-file appears")
    ap.add_argument("--ready-file")
    ap.add_argument("--go-file")
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--request-first", action="store_true",
                    help="one request and its answer on every connection "
                    "before holding it idle")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()

    if not 1 <= args.port <= 65535 or not 1 <= args.count <= 200000:
        log("--port must be 1..65535 and --count 1..200000")
        return 2
    if not ipaddress.ip_address(args.host).is_loopback:
        log(f"{args.host} is not a loopback address")
        return 2
    if not raise_nofile(args.count + 64):
        return 2

    deadline = time.monotonic() + args.timeout
    t0 = time.monotonic()
    socks, failed = connect_all(args.host, args.port, args.count,
                                args.inflight, deadline)
    t_conn = time.monotonic() - t0
    primed = None
    if args.request_first:
        # A few at a time: the memory measured is that of idle sessions,
        # not of the buffers a proxy's pools keep from a burst of requests.
        primed = sum(verify(socks[i:i + PRIME_BATCH], deadline)
                     for i in range(0, len(socks), PRIME_BATCH))
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            line = f"connected {len(socks)}"
            if primed is not None:
                line += f" primed {primed}"
            f.write(line + "\n")
        os.rename(args.ready_file + ".tmp", args.ready_file)
    wait_for_go(args.go_file, args.hold, deadline)
    dropped = count_dropped(socks)
    answered = verify(socks, deadline) if args.verify else None
    for s in socks:
        s.close()

    summary = (f"count={args.count} connected={len(socks)} failed={failed} "
               f"dropped={dropped} connect_s={t_conn:.2f}")
    if primed is not None:
        summary += f" primed={primed}"
    if answered is not None:
        summary += f" answered={answered}"
    print(summary, flush=True)
    good = len(socks) == args.count and dropped == 0
    if primed is not None:
        good = good and primed == args.count
    if answered is not None:
        good = good and answered == args.count
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
