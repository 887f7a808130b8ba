#!/usr/bin/python3
"""Slow clients for the http link tests: COUNT connections that dribble a
request head that never ends, one byte each every INTERVAL seconds, in one
process (selectors).

    slowloris.py PORT COUNT [--interval S] [--max S] [--stop FILE] [--ready FILE]

Connects all COUNT first (blocking connects, 10 s each at most), then
touches --ready FILE and prints "connected N". Dribbles until --max seconds
(default 5) have passed or --stop FILE exists, reading whatever the proxy
answers. Then closes what is left and prints one line:

    connected N open M closed-by-proxy K answers STATUS:COUNT,...

open: still connected when the dribble ended; closed-by-proxy: the proxy
closed them (after an answer or not); answers: the statuses of the answers
the proxy sent (a 408 for a head too slow).
"""

import os
import selectors
import socket
import sys
import time

port = int(sys.argv[1])
count = int(sys.argv[2])
opts = dict(zip(sys.argv[3::2], sys.argv[4::2]))
interval = float(opts.get("--interval", "0.2"))
max_s = float(opts.get("--max", "5"))
stop = opts.get("--stop")
ready = opts.get("--ready")

HEAD = b"GET /slow HTTP/1.1\r\nHost: test.local\r\nX-Slow: "
sel = selectors.DefaultSelector()
conns = {}
failed = 0
for i in range(count):
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        failed += 1
        s.close()
        continue
    s.setblocking(False)
    conns[s] = {"sent": 0, "buf": b""}
    sel.register(s, selectors.EVENT_READ)
connected = len(conns)
print("connected %d (failed %d)" % (connected, failed), flush=True)
if ready:
    open(ready, "w").close()

answers = {}
closed_by_proxy = 0


def drop(s, by_proxy):
    global closed_by_proxy
    st = conns.pop(s)
    if by_proxy:
        closed_by_proxy += 1
    line = st["buf"].split(b"\r\n", 1)[0].split(b" ")
    if len(line) > 1 and line[0].startswith(b"HTTP/"):
        code = line[1].decode(errors="replace")
        answers[code] = answers.get(code, 0) + 1
    sel.unregister(s)
    s.close()


start = time.time()
next_tick = start
while conns and time.time() - start < max_s:
    if stop and os.path.exists(stop):
        break
    now = time.time()
    if now >= next_tick:
        for s, st in list(conns.items()):
            i = st["sent"]
            b = HEAD[i:i + 1] if i < len(HEAD) else b"a"
            try:
                s.send(b)
                st["sent"] += 1
            except BlockingIOError:
                pass
            except OSError:
                drop(s, True)
        next_tick += interval
    timeout = max(0.0, min(next_tick - time.time(), 0.2))
    for key, _ in sel.select(timeout):
        s = key.fileobj
        if s not in conns:
            continue
        try:
            d = s.recv(4096)
        except BlockingIOError:
            continue
        except OSError:
            d = b""
        if d:
            conns[s]["buf"] += d
        else:
            drop(s, True)
left = len(conns)
for s in list(conns):
    drop(s, False)
print("connected %d open %d closed-by-proxy %d answers %s" % (
    connected, left, closed_by_proxy,
    ",".join("%s:%d" % kv for kv in sorted(answers.items())) or "-"), flush=True)
