#!/bin/bash
# Faults under pvd, with a real LXC container on a pool (10.201.57.0/24 on
# bridge pvtbr57) behind an ingress:
#  - pv-xconnect killed with SIGKILL: pvd restarts it and the ingress
#    listens and serves again (how long after is printed);
#  - the container killed: pvd restarts it (restart_policy "always") with
#    the same address, the graph gets its new pid, and the ingress serves
#    again (the proxy never dials anything else meanwhile).
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd curl jq ip lxc-checkconfig
[ -x "$PVX" ] || skip "no $PVX"

BR=pvtbr57
NET=10.201.57
SOCK=$T/ctrl/pv-ctrl
P=$(free_port)
ip link show $BR >/dev/null 2>&1 && skip "bridge $BR already exists"
ip -4 addr | grep -q "inet $NET\." && skip "subnet $NET.0/24 in use"

"$PYTHON" - "$T/state.json" "$BR" "$NET" "$P" <<'PY'
import json, sys
path, br, net, port = sys.argv[1:]
# Answers every request with its own pid (in its pid namespace it is
# small, so add the start time to tell restarts apart).
srv = ("import http.server as h, socketserver as s, os, time\n"
       "tag = '%d-%d' % (os.getpid(), time.time_ns())\n"
       "class H(h.BaseHTTPRequestHandler):\n"
       "    def do_GET(self):\n"
       "        b = tag.encode()\n"
       "        self.send_response(200); self.send_header('Content-Length', str(len(b)))\n"
       "        self.end_headers(); self.wfile.write(b)\n"
       "    def log_message(self, *a): pass\n"
       "s.TCPServer.allow_reuse_address = True\n"
       "s.TCPServer(('', 8000), H).serve_forever()\n")
json.dump({
    "#spec": "pantavisor-service-system@1",
    "device.json": {
        "network": {"pools": {"p": {"type": "bridge", "bridge": br,
            "subnet": f"{net}.0/24", "gateway": f"{net}.1", "nat": False}}},
        "ingress": [{"name": "web", "type": "tcp",
                     "external": f"127.0.0.1:{port}", "provider": "web",
                     "service": "web"}]},
    "web/run.json": {"name": "web", "type": "lxc",
        "exec": [sys.executable, "-c", srv],
        "network": {"mode": "pool", "pool": "p"}, "restart_policy": "always"},
    "web/services.json": {"services": [{"name": "web", "type": "tcp", "port": 8000}]},
}, open(path, "w"))
PY
on_cleanup "ip link del $BR"
start_pvd "$T/pvd.log" "$T/state.json" "$T/run" --xconnect "$PVX"
field() { ctrl "$SOCK" /containers | jq -r ".[] | select(.name==\"$1\") | .$2"; }
pvx_pid() { ctrl "$SOCK" /daemons | jq -r '.[] | select(.name=="pv-xconnect") | .pid'; }
get() { curl -sf --max-time 10 "http://127.0.0.1:$P/"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_for 60 test -S "$SOCK"
wait_for 60 get
assert_eq "$(field web ip)" "$NET.2" "web's address"
tag1=$(get)

# --- pv-xconnect killed: restarted by pvd, listening and serving again.
# (Its port closes with it, but the new one may bind again before anyone
# looks: the new pid is what shows the restart.)
old=$(pvx_pid)
[ "$old" -gt 0 ] || fail "no pv-xconnect"
t0=$(now_ms)
kill -9 "$old"
restarted() { _p=$(pvx_pid) && [ "$_p" -gt 0 ] && [ "$_p" != "$old" ]; }
wait_for 60 restarted
wait_for 60 get
took=$(($(now_ms) - t0))
new=$(pvx_pid)
[ "$new" -gt 0 ] && [ "$new" != "$old" ] || fail "pv-xconnect pid $old -> $new"
grep -q "pv-xconnect (pid $old) killed by signal 9" "$T/pvd.log" ||
	fail "the kill of pv-xconnect not logged by pvd"
echo "pv-xconnect SIGKILLed: ingress served again after $took ms (pid $old -> $new)"
assert_eq "$(get)" "$tag1" "the same container behind the ingress"

# --- the container killed: restarted, same address, the ingress works.
cpid=$(field web pid)
t0=$(now_ms)
kill -9 "$cpid"
c_restarted() { [ "$(field web pid)" -gt 0 ] 2>/dev/null && [ "$(field web pid)" != "$cpid" ]; }
wait_for 60 c_restarted
new_tag() { _t=$(get) && [ "$_t" != "$tag1" ]; }
wait_for 60 new_tag
tag2=$(get)
took=$(($(now_ms) - t0))
assert_eq "$(field web ip)" "$NET.2" "address after the restart"
graph_pid=$(curl -s --unix-socket "$SOCK" http://l/xconnect-graph | jq -r '.[] | select(.ingress=="web") | .provider_pid')
assert_eq "$graph_pid" "$(field web pid)" "graph pid after the restart"
assert_eq "$(curl -s --unix-socket "$SOCK" http://l/xconnect-graph | jq -r '.[] | select(.ingress=="web") | .socket')" \
	"$NET.2:8000" "graph socket after the restart"
echo "container killed: restarted with $NET.2, ingress serving it again after $took ms"
for i in $(seq 20); do [ "$(get)" = "$tag2" ] || fail "request $i after the restart"; done
kill -TERM $PID
wait $PID || fail "pvd exit status $?"
echo "PASS"
