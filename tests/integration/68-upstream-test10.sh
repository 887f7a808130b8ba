#!/bin/bash
# pv-test: serial
# Upstream's Test 10, direct ingress (tests/data/states/upstream-test10.json)
# under pvd with real LXC containers: a tcp rule on :2222 to a socat echo
# on a Unix export (/run/echo.sock) and an http rule on :80/api to a Python
# REST server on a Unix socket (/run/nm/api.sock) in another container.
#   echo 'HELLO WORLD' | nc -w 2 localhost 2222       echoes
#   curl http://localhost/api                         200, the backend's JSON, path /
#   curl http://localhost/api/x                       the backend saw /x
#   curl 'http://localhost/api?q=1'                   the backend saw /?q=1
#   curl http://localhost/apix, /other                404 (no rule; not the backend)
# The state is upstream's as it is but for the REST server's script, which
# lives where containers see it ($V, their /run and /tmp are their own) and
# is run by Debian's /usr/bin/python3.
#
# PVX_HTTP_PROXY=haproxy proved the http assertions against HAProxy 2.6
# before pv-xconnect served http links: it serves the graph's http link on
# :80 (to the REST server's socket seen through /proc/PID/root) in place
# of pv-xconnect, which must not hold :80 then (it does now: the switch
# only works with a pv-xconnect that skips http links).
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
. "$TOP/tests/helpers/http.sh"
need_root
need_cmd socat curl jq nc lxc-checkconfig
[ -x "$PVX" ] || skip "no $PVX"
for port in 80 2222; do
	if ss -Htln "sport = :$port" | grep -q .; then
		fail "port $port is taken on this host ($(ss -Htlnp "sport = :$port" | head -1)): Test 10 needs it"
	fi
done
SOCK=$T/pv-ctrl

cat >"$V/rest.py" <<'PY'
import http.server, json, os, socketserver
os.makedirs("/run/nm", exist_ok=True)
try:
    os.unlink("/run/nm/api.sock")
except FileNotFoundError:
    pass
class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = json.dumps({"service": "network-manager", "ok": True,
                           "path": self.path}).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def address_string(self):
        return "unix"
    def log_message(self, *a):
        pass
class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
srv = Server("/run/nm/api.sock", Api)
os.chmod("/run/nm/api.sock", 0o666)
srv.serve_forever()
PY
chmod 644 "$V/rest.py"
jq --arg exec "/usr/bin/python3 $V/rest.py" \
	'."pv-example-rest-server/run.json".exec = $exec' \
	"$TOP/tests/data/states/upstream-test10.json" >"$T/state.json"
"$PVD" --check --state "$T/state.json" >"$T/check.log" 2>&1 ||
	fail "pvd --check refuses the state: $(cat "$T/check.log")"

start_pvd "$T/pvd.log" "$T/state.json" "$T/run" --xconnect "$PVX"
XLOG=$T/run/pv-xconnect.log
field() { ctrl "$SOCK" /containers | jq -r ".[] | select(.name==\"$1\") | .$2"; }
running() { [ "$(field "$1" status)" = running ]; }
wait_for 30 test -S "$SOCK"
for c in pv-example-unix-echo pv-example-rest-server; do wait_for 60 running "$c"; done

# The graph keeps the whole target, as upstream's.
assert_eq "$(ctrl "$SOCK" /xconnect-graph | jq -r '.[] | select(.ingress=="rest-http-ingress") | "\(.type) \(.target) \(.socket)"')" \
	"http 0.0.0.0:80/api /run/nm/api.sock" "the http link in the graph"

# The tcp rule: socat's echo through :2222.
echoed() { [ "$(echo 'HELLO WORLD' | nc -w 2 localhost 2222 2>/dev/null)" = "HELLO WORLD" ]; }
wait_for 30 echoed
echo "tcp :2222 -> /run/echo.sock: HELLO WORLD echoed"

# The http rule.
rp=$(field pv-example-rest-server pid)
wait_for 30 test -S "/proc/$rp/root/run/nm/api.sock"
# The REST server itself, asked on its socket: what follows is the proxy's.
got=$(curl -sS --max-time 5 --unix-socket "/proc/$rp/root/run/nm/api.sock" http://localhost/direct || true)
assert_eq "$(echo "$got" | jq -r .path 2>/dev/null)" /direct "the REST server asked directly on its socket"
if [ "$PVX_HTTP_PROXY" = haproxy ]; then
	ctrl "$SOCK" /xconnect-graph | jq --arg r "/proc/$rp/root" \
		'[.[] | select(.type=="http") | .socket = $r + .socket]' >"$T/graph.json"
	start_http_proxy 80
fi
api_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://localhost/api)" = 200 ]; }
i=0
while ! api_up; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "curl http://localhost/api: want 200 within 10 s, got '$(curl -s -w ' %{http_code}' --max-time 5 http://localhost/api || true)'; pv-xconnect's log: $(tail -5 "$XLOG")"
	sleep 0.05
done
got=$(curl -sS --max-time 10 http://localhost/api)
assert_eq "$(echo "$got" | jq -r .service)" network-manager "the backend's JSON for /api"
for case in "/api /" "/api/ /" "/api/x /x" "/api?q=1 /?q=1" "/api/v1/x?a=b /v1/x?a=b"; do
	set -- $case
	got=$(curl -sS --max-time 10 "http://localhost$1")
	assert_eq "$(echo "$got" | jq -r .path)" "$2" "path the REST server saw for $1"
done
for p in /apix /other /; do
	code=$(curl -s -o "$T/nf.body" -w '%{http_code}' --max-time 10 "http://localhost$p" || true)
	assert_eq "$code" 404 "status for $p (no rule)"
	grep -q network-manager "$T/nf.body" && fail "$p reached the REST server: $(cat "$T/nf.body")"
done
echo "http :80/api -> /run/nm/api.sock: /api 200 (path /), /api/x -> /x, /apix and /other 404"

# Both still there, and pvd stops cleanly.
echoed || fail "the echo stopped answering"
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
assert_eq "$rc" 0 "pvd exit status"
echo "PASS"
