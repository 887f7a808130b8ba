#!/bin/bash
# pvd runs real LXC containers: two on an IPAM pool (10.201.11.0/24 on
# bridge pvtbr11) and one on the host network, each serving HTTP with
# python3. Checks /containers (live pids, leased addresses, reachable from
# the host), the container's view (env, read-only host root, private
# /tmp), /xconnect-graph (live pids, "IP:port" sockets), a killed container
# restarted with its address kept, a broken container reported without
# harming the others, and a clean shutdown that leaves nothing behind.
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd curl jq nc ip

BR=pvtbr11
NET=10.201.11
SOCK=$T/ctrl/pv-ctrl
HPORT=$(free_port)
ip link show $BR >/dev/null 2>&1 && skip "bridge $BR already exists"
ip -4 addr | grep -q "inet $NET\." && skip "subnet $NET.0/24 in use"

# Each web container serves /tmp/www, whose file "id" holds its MARK
# variable. socketserver rather than http.server: the latter resolves the
# host name at start, which waits for DNS timeouts in an isolated network.
"$PYTHON" - "$T/state.json" "$BR" "$NET" "$HPORT" "$$" <<'PY'
import json, sys
path, br, net, hport, tag = sys.argv[1:]
def serve(port, bind=""):
    srv = ("import http.server as h, socketserver as s; "
           "s.TCPServer.allow_reuse_address = True; "
           f"s.TCPServer(('{bind}', {port}), h.SimpleHTTPRequestHandler).serve_forever()")
    return ["/bin/sh", "-c",
            "mkdir -p /tmp/www && echo $MARK > /tmp/www/id && cd /tmp/www && "
            "if touch /usr/.pvd-ro-probe 2>/dev/null; then echo ROOT-IS-WRITABLE; "
            f"else echo ROOT-IS-READONLY; fi && exec {sys.executable} -c \"$0\"", srv]
pool = {"mode": "pool", "pool": "test"}
state = {
    "#spec": "pantavisor-service-system@1",
    "device.json": {
        "network": {"pools": {"test": {"type": "bridge", "bridge": br,
            "subnet": f"{net}.0/24", "gateway": f"{net}.1", "nat": False}}},
        "ingress": [
            {"name": "in-a", "type": "tcp", "external": "127.0.0.1:1",
             "provider": "web-a", "service": "http-a"},
            {"name": "in-h", "type": "tcp", "external": "127.0.0.1:2",
             "provider": "webhost", "service": "http-h"}]},
    "web-a/run.json": {"name": "web-a", "type": "lxc", "exec": serve(8000),
        "env": {"MARK": f"web-a-{tag}"}, "network": pool,
        "restart_policy": "on-failure"},
    "web-a/services.json": {"services": [
        {"name": "http-a", "type": "tcp", "port": 8000}]},
    "web-b/run.json": {"name": "web-b", "type": "lxc", "exec": serve(8001),
        "env": {"MARK": f"web-b-{tag}"}, "network": pool},
    "nosuch/run.json": {"name": "nosuch", "type": "lxc",
        "exec": ["/nonexistent/pvd-test-program"]},
    "fails/run.json": {"name": "fails", "type": "lxc",
        "exec": "echo about to fail; exit 3", "restart_policy": "no"},
    "webhost/run.json": {"name": "webhost", "type": "lxc",
        "exec": serve(hport, "127.0.0.1"),
        "env": {"MARK": f"webhost-{tag}"}, "network": {"mode": "host"}},
    "webhost/services.json": {"services": [
        {"name": "http-h", "type": "tcp", "port": int(hport)}]},
}
json.dump(state, open(path, "w"), indent=1)
PY

on_cleanup "ip link del $BR"
start_pvd "$T/pvd.log" "$T/state.json" "$T/run" --no-xconnect
VETH=$(printf 'pvv%05x_' $((PID & 0xfffff)))

containers() { ctrl "$SOCK" /containers; }
field() { containers | jq -r ".[] | select(.name==\"$1\") | .$2"; }
status_is() { [ "$(field "$1" status)" = "$2" ]; }

wait_for 30 test -S "$SOCK"
for c in web-a web-b webhost; do wait_for 30 status_is $c running; done
wait_for 30 status_is nosuch failed
wait_for 30 status_is fails failed

# Addresses as leased, in container order; pids alive.
assert_eq "$(field web-a ip)" "$NET.2" "web-a address"
assert_eq "$(field web-b ip)" "$NET.3" "web-b address"
assert_eq "$(field web-a pool)" "test" "web-a pool"
assert_eq "$(field webhost ip)" "null" "host-network container address"
for c in web-a web-b webhost; do
	pid=$(field $c pid)
	[ "$pid" -gt 1 ] && kill -0 "$pid" || fail "$c: pid $pid not alive"
done
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "pv-ctrl socket mode $(stat -c %a "$SOCK"), want 600"

# Reachable from the host; each answers with its own env ($MARK).
wait_for 30 curl -sf --max-time 1 http://$NET.2:8000/id
assert_eq "$(curl -sf --max-time 10 http://$NET.2:8000/id)" "web-a-$$" "web-a via $NET.2"
wait_for 30 curl -sf --max-time 1 http://$NET.3:8001/id
assert_eq "$(curl -sf --max-time 10 http://$NET.3:8001/id)" "web-b-$$" "web-b via $NET.3"
wait_for 30 curl -sf --max-time 1 http://127.0.0.1:$HPORT/id
assert_eq "$(curl -sf --max-time 10 http://127.0.0.1:$HPORT/id)" "webhost-$$" "host-network container"

# The host root is read-only inside, /tmp is private.
grep -q ROOT-IS-READONLY "$T/run/web-a.log" || fail "web-a could write to the host root"
[ -e /usr/.pvd-ro-probe ] && fail "a container wrote /usr/.pvd-ro-probe on the host"
[ -e /tmp/www/id ] && grep -q -- "-$$" /tmp/www/id && fail "container /tmp is the host's"

# A container that cannot run is reported, with its log line, and the
# others are unaffected.
field nosuch error | grep -q "/nonexistent/pvd-test-program: No such file" ||
	fail "nosuch: error '$(field nosuch error)' does not name the program"
# Under AddressSanitizer, liblxc reports every non-zero exit of a
# container's init as 1 (also in a tiny liblxc program built with
# -fsanitize=address, so not pvd's doing); the plain build must pass 3.
want=3
nm "$PVD" 2>/dev/null | grep -q __asan_init && want=1
assert_eq "$(field fails error)" "exited with status $want" "fails: error"
assert_eq "$(field fails log)" "about to fail" "fails: last log line"
assert_eq "$(field fails pid)" 0 "fails: pid"

# The graph, read as the design does: HTTP/1.0 with nc, last line, jq.
graph() { printf 'GET /xconnect-graph HTTP/1.0\r\n\r\n' | nc -U "$SOCK" | tail -1; }
link() { graph | jq -r ".[] | select(.name==\"$1\") | .$2"; }
assert_eq "$(link http-a socket)" "$NET.2:8000" "graph socket of http-a"
assert_eq "$(link http-a provider_pid)" "$(field web-a pid)" "graph pid of web-a"
assert_eq "$(link http-h socket)" "127.0.0.1:$HPORT" "graph socket of the host-network service"
assert_eq "$(link http-h provider_pid)" "$(field webhost pid)" "graph pid of webhost"

# Kill web-a: restarted (on-failure), same address, new pid everywhere.
old=$(field web-a pid)
kill -9 "$old"
wait_for 30 sh -c "[ \"\$(curl -sS --max-time 2 --unix-socket $SOCK http://localhost/containers | jq -r '.[] | select(.name==\"web-a\") | .pid')\" -gt 0 ] && [ \"\$(curl -sS --max-time 2 --unix-socket $SOCK http://localhost/containers | jq -r '.[] | select(.name==\"web-a\") | .pid')\" != $old ]"
wait_for 30 status_is web-a running
new=$(field web-a pid)
kill -0 "$new" || fail "restarted web-a pid $new not alive"
assert_eq "$(field web-a ip)" "$NET.2" "web-a address after restart"
assert_eq "$(field web-a restarts)" 1 "web-a restarts"
field web-a last_exit | grep -q "killed by signal 9" ||
	fail "web-a last_exit '$(field web-a last_exit)', want killed by signal 9"
[ "$(field web-a error)" = null ] || fail "web-a still shows an error after its restart"
assert_eq "$(link http-a provider_pid)" "$new" "graph pid after restart"
wait_for 30 curl -sf --max-time 1 http://$NET.2:8000/id
assert_eq "$(curl -sf --max-time 10 http://$NET.2:8000/id)" "web-a-$$" "web-a after restart"
# web-b was not touched.
assert_eq "$(curl -sf --max-time 10 http://$NET.3:8001/id)" "web-b-$$" "web-b after web-a restart"

# Clean shutdown: exit 0, nothing left.
ip -o link show | grep -q "$VETH" || fail "no veth named $VETH* while running"
# Every process pvd started: monitors, container inits, their programs.
procs="$(pgrep -P $PID | tr '\n' ' ')"
for c in web-a web-b webhost; do
	procs="$procs $(field $c pid) $(pgrep -P "$(field $c pid)" | tr '\n' ' ')"
done
kill -TERM $PID
wait_for 30 gone $PID
rc=0
wait $PID || rc=$?
assert_eq "$rc" 0 "pvd exit status after SIGTERM"
ip link show $BR >/dev/null 2>&1 && fail "bridge $BR left behind"
ip -o link show | grep -q "$VETH" && fail "veth $VETH* left behind"
[ -e "$SOCK" ] && fail "pv-ctrl socket left behind"
for p in $procs; do
	kill -0 "$p" 2>/dev/null && fail "process $p ($(cat /proc/$p/cmdline | tr '\0' ' ')) left running"
done
grep -q "stopped cleanly" "$T/pvd.log" || fail "no clean stop in the log"
exit 0
