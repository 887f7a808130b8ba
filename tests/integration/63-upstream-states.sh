#!/bin/bash
# pv-test: serial
# States written as upstream Pantavisor writes them, in the directory
# form: run.json with config (an lxc.container.conf holding lxc.init.cmd),
# root-volume, volumes, storage, drivers, group, restart_policy
# "container", network without mode, requirements without type, and
# device.json with groups. Each runs end to end under pvd:
#  - direct ingress: a host-network container (no "network") serves an
#    echo service on :2222 and HTTP, GET /api answered 200;
#  - hybrid ingress: nginx on pool 10.0.4.0/24 behind an ingress on :80;
#    the graph's nginx-http socket is 10.0.4.2:80 and the page is served
#    on the host's port 80;
#  - unix mesh: pvd accepts the state and puts the unix link in the graph
#    (served end to end by 64-upstream-unix-mesh.sh).
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd nginx curl wget jq ip nc lxc-checkconfig
for port in 80 2222 8081; do
	ss -Htln "sport = :$port" | grep -q . && skip "port $port is in use on this host"
done
ip link show pvbr0 >/dev/null 2>&1 && skip "bridge pvbr0 already exists"
ip -4 addr | grep -q "inet 10\.0\.4\." && skip "subnet 10.0.4.0/24 in use"
[ -x "$PVX" ] || skip "no $PVX"
SOCK=$T/pv-ctrl

# upstream's frame for container NAME of group GROUP whose lxc.init.cmd
# is CMD; EXTRA is more JSON for run.json.
container() { # DIR NAME GROUP CMD [EXTRA]
	mkdir -p "$1/$2"
	cat >"$1/$2/run.json" <<JSON
{"#spec": "service-manifest-run@1", "name": "$2", "type": "lxc",
 "config": "lxc.container.conf", "root-volume": "root.squashfs",
 "volumes": [], "storage": {"docker--etc-nginx": {"persistence": "permanent"},
 "lxc-overlay": {"persistence": "boot"}}, "drivers": {"manual": []},
 "group": "$3", "restart_policy": "container"${5:+, $5}}
JSON
	printf 'lxc.tty.max = 0\nlxc.init.cmd = %s\nlxc.environment = PVTEST=%s\n' \
		"$4" "$2" >"$1/$2/lxc.container.conf"
}
groups='"groups": [
 {"name": "root", "status_goal": "STARTED", "restart_policy": "system", "timeout": 30},
 {"name": "platform", "status_goal": "STARTED", "restart_policy": "system", "timeout": 30},
 {"name": "app", "status_goal": "STARTED", "restart_policy": "container", "timeout": 30}]'
graph() { ctrl "$SOCK" /xconnect-graph; }
field() { ctrl "$SOCK" /containers | jq -r ".[] | select(.name==\"$1\") | .$2"; }
status_is() { [ "$(field "$1" status)" = "$2" ]; }
stop_pvd() {
	kill -TERM $PID
	rc=0
	wait $PID || rc=$?
	assert_eq "$rc" 0 "pvd exit status"
}

# ---- direct ingress
cat >"$V/direct.py" <<'PY'
import http.server as h, os, socketserver as s, threading
class Echo(s.BaseRequestHandler):
    def handle(self):
        while (b := self.request.recv(4096)):
            self.request.sendall(b)
class Api(h.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == "/api"
        body = ('{"ok": true, "from": "%s"}\n' % os.environ["PVTEST"]).encode()
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s.ThreadingTCPServer.allow_reuse_address = True
threading.Thread(target=s.ThreadingTCPServer(("0.0.0.0", 2222), Echo).serve_forever).start()
s.ThreadingTCPServer(("0.0.0.0", 8081), Api).serve_forever()
PY
D10=$T/direct
mkdir -p "$D10"
echo "{$groups}" >"$D10/device.json"
container "$D10" echo-direct app "$PYTHON $V/direct.py"
echo '{"#spec": "service-manifest-xconnect@1", "services": [
 {"name": "echo", "type": "tcp", "port": 2222},
 {"name": "api", "type": "http", "port": 8081}]}' >"$D10/echo-direct/services.json"

start_pvd "$T/pvd10.log" "$D10" "$T/run10" --xconnect "$PVX"
wait_for 30 test -S "$SOCK"
wait_for 60 status_is echo-direct running
assert_eq "$(field echo-direct network)" host "network of a container without one"
assert_eq "$(field echo-direct restart_policy)" container "restart_policy"
assert_eq "$(field echo-direct group)" app "group"
grep -q "root-volume is not mounted by pvd" "$T/pvd10.log" || fail "no root-volume warning"
assert_eq "$(grep -c "root-volume is not mounted" "$T/pvd10.log")" 1 "root-volume warnings"
wait_for 30 curl -sf --max-time 1 http://127.0.0.1:8081/api
code=$(curl -s -o "$T/api" -w '%{http_code}' --max-time 10 http://127.0.0.1:8081/api)
assert_eq "$code" 200 "GET /api"
assert_eq "$(jq -r .from "$T/api")" echo-direct "lxc.environment from the configuration"
got=$("$PYTHON" -c '
import socket
c = socket.create_connection(("127.0.0.1", 2222), timeout=30)
c.sendall(b"hello pantavisor\n"); print(c.recv(100).decode().strip())')
assert_eq "$got" "hello pantavisor" "echo on :2222"
stop_pvd

# ---- hybrid ingress: the nginx example in upstream's frame
cat >"$V/nginx-start.sh" <<'SH'
mkdir -p /run/nginx
printf '%s\n' 'worker_processes 1;' 'pid /run/nginx/nginx.pid;' 'error_log stderr;' \
	'events { worker_connections 64; }' 'http {' '  include /etc/nginx/mime.types;' \
	'  access_log off;' '  client_body_temp_path /tmp/nginx-body;' \
	'  proxy_temp_path /tmp/nginx-proxy;' '  fastcgi_temp_path /tmp/nginx-fastcgi;' \
	'  uwsgi_temp_path /tmp/nginx-uwsgi;' '  scgi_temp_path /tmp/nginx-scgi;' \
	'  server { listen 80; root /usr/share/nginx/html; index index.html; }' '}' \
	>/run/nginx/nginx.conf
exec /usr/sbin/nginx -e stderr -c /run/nginx/nginx.conf -g 'daemon off;'
SH
D11=$T/hybrid
mkdir -p "$D11"
cat >"$D11/device.json" <<JSON
{$groups,
 "network": {"pools": {"internal": {"type": "bridge", "bridge": "pvbr0",
   "subnet": "10.0.4.0/24", "gateway": "10.0.4.1", "nat": false}}},
 "ingress": [{"name": "nginx-http", "type": "tcp", "external": "0.0.0.0:80",
   "provider": "example-nginx-ingress", "service": "nginx-http"}]}
JSON
container "$D11" example-nginx-ingress app "/bin/sh $V/nginx-start.sh" \
	'"network": {"pool": "internal"}'
echo '{"#spec": "service-manifest-xconnect@1", "services": [
 {"name": "nginx-http", "type": "tcp", "port": 80}]}' >"$D11/example-nginx-ingress/services.json"

on_cleanup "ip link del pvbr0"
start_pvd "$T/pvd11.log" "$D11" "$T/run11" --xconnect "$PVX"
wait_for 30 test -S "$SOCK"
wait_for 60 status_is example-nginx-ingress running
nsock() { printf 'GET /xconnect-graph HTTP/1.0\r\n\r\n' | nc -U "$SOCK" | tail -1 |
	jq -r '.[] | select(.name=="nginx-http") | .socket'; }
assert_eq "$(nsock)" "10.0.4.2:80" "graph socket of nginx-http"
wait_for 60 sh -c "wget -q -T 2 -O - http://127.0.0.1:80/ | grep -q 'Welcome to nginx!'"
stop_pvd
ip link show pvbr0 >/dev/null 2>&1 && fail "bridge pvbr0 left behind"

# ---- the unix mesh, accepted and in the graph
D4=$T/mesh
mkdir -p "$D4"
echo "{$groups}" >"$D4/device.json"
container "$D4" raw-provider app "/bin/sleep 1000"
echo '{"#spec": "service-manifest-xconnect@1", "services": [
 {"name": "raw-unix", "type": "unix", "socket": "/run/pv/raw.sock"}]}' >"$D4/raw-provider/services.json"
container "$D4" raw-consumer app "/bin/sleep 1000" \
	'"services": {"required": [{"name": "raw-unix", "target": "/run/pv/services/raw-unix.sock"}]}'
"$PVD" --check --state "$D4" >"$T/graph4" 2>"$T/err4" || fail "the unix mesh's state refused: $(cat "$T/err4")"
assert_eq "$(jq -c '.[] | select(.name=="raw-unix") | {type, consumer, provider, target, socket}' "$T/graph4")" \
	'{"type":"unix","consumer":"raw-consumer","provider":"raw-provider","target":"/run/pv/services/raw-unix.sock","socket":"/run/pv/raw.sock"}' \
	"the unix link of the mesh"
echo PASS
