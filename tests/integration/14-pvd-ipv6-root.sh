#!/bin/bash
# An IPv6 pool (fd00:201:14::/64 on pvtbr14): the container gets the
# leased address and a default route, the host reaches it, the graph says
# "[fd00:201:14::2]:8000". A container with a root of its own (run.json
# "root"): its writes land in that directory, not on the host, and its
# /tmp is still private. "network": "none": loopback only; "network"
# absent: the host's network, as upstream.
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd curl jq ip ldd nc

BR=pvtbr14
SOCK=$T/pv-ctrl
ip link show $BR >/dev/null 2>&1 && skip "bridge $BR already exists"
ip -6 addr | grep -q "fd00:201:14:" && skip "fd00:201:14::/64 in use"

# A minimal root: dash, sleep and the libraries they need.
ROOT=$T/root
make_min_root "$ROOT"

"$PYTHON" - "$T/state.json" "$BR" "$ROOT" <<'PY'
import json, sys
path, br, root = sys.argv[1:]
srv = ("import http.server as h, socketserver as s, socket, os; "
       "os.makedirs('/tmp/w'); open('/tmp/w/id','w').write('v6'); os.chdir('/tmp/w'); "
       "s.TCPServer.address_family = socket.AF_INET6; s.TCPServer.allow_reuse_address = True; "
       "s.TCPServer(('::', 8000), h.SimpleHTTPRequestHandler).serve_forever()")
lo = ("import socket, urllib.request; "
      "names = sorted(n for _, n in socket.if_nameindex()); print('ifaces', ' '.join(names), flush=True); "
      "import time; time.sleep(1000)")
json.dump({
    "#spec": "pantavisor-service-system@1",
    "device.json": {
        "network": {"pools": {"v6": {"type": "bridge", "bridge": br,
            "subnet": "fd00:201:14::/64", "gateway": "fd00:201:14::1"}}},
        "ingress": [{"name": "in6", "type": "tcp", "external": "[::1]:1",
                     "provider": "v6", "service": "web6"}]},
    "v6/run.json": {"name": "v6", "type": "lxc",
        "exec": [sys.executable, "-c", srv],
        "network": {"mode": "pool", "pool": "v6"}},
    "v6/services.json": {"services": [{"name": "web6", "type": "tcp", "port": 8000}]},
    "own/run.json": {"name": "own", "type": "lxc", "root": root,
        "exec": ["/bin/sh", "-c",
                 "echo written-inside > /etc/pvd-own-root && echo tmp > /tmp/t && "
                 "echo own-root-ok; exec sleep 1000"]},
    "lo/run.json": {"name": "lo", "type": "lxc", "network": "none",
        "exec": [sys.executable, "-c", lo]},
    "hostnet/run.json": {"name": "hostnet", "type": "lxc",
        "exec": [sys.executable, "-c", lo]},
}, open(path, "w"))
PY

on_cleanup "ip link del $BR"
start_pvd "$T/pvd.log" "$T/state.json" "$T/run" --no-xconnect
field() { ctrl "$SOCK" /containers | jq -r ".[] | select(.name==\"$1\") | .$2"; }
running() { [ "$(field "$1" status)" = running ]; }
wait_for 30 test -S "$SOCK"
for c in v6 own lo; do wait_for 30 running $c; done

assert_eq "$(field v6 ip)" "fd00:201:14::2" "IPv6 lease"
graph=$(printf 'GET /xconnect-graph HTTP/1.0\r\n\r\n' | nc -U "$SOCK" | tail -1)
assert_eq "$(echo "$graph" | jq -r '.[] | select(.name=="web6") | .socket')" \
	"[fd00:201:14::2]:8000" "graph socket of an IPv6 backend"
# DAD on the fresh addresses can take a moment.
wait_for 30 curl -sf -g --max-time 1 "http://[fd00:201:14::2]:8000/id"
assert_eq "$(curl -sf -g --max-time 10 "http://[fd00:201:14::2]:8000/id")" v6 "IPv6 container from the host"
ip -6 addr show dev $BR | grep -q "fd00:201:14::1/64" || fail "bridge lacks the IPv6 gateway"

# Own root: writable, and the write lands in that directory.
wait_for 30 grep -q own-root-ok "$T/run/own.log"
assert_eq "$(cat "$ROOT/etc/pvd-own-root")" written-inside "write in the container's own root"
[ -e "$ROOT/tmp/t" ] && fail "the container's /tmp is its root's directory, not private"

# "none": loopback only.
wait_for 30 grep -q '^ifaces' "$T/run/lo.log"
assert_eq "$(grep '^ifaces' "$T/run/lo.log")" "ifaces lo" "interfaces with network none"
# No network section: the host's interfaces, the pool's bridge among them.
wait_for 30 grep -q '^ifaces' "$T/run/hostnet.log"
grep '^ifaces' "$T/run/hostnet.log" | grep -qw "$BR" ||
	fail "no network section: $(grep '^ifaces' "$T/run/hostnet.log"), want the host's (with $BR)"
assert_eq "$(ctrl "$SOCK" /containers | jq -r '.[] | select(.name=="hostnet") | .network')" host "network of hostnet"

kill -TERM $PID
rc=0
wait $PID || rc=$?
assert_eq "$rc" 0 "exit status"
ip link show $BR >/dev/null 2>&1 && fail "bridge $BR left behind"
exit 0
