#!/bin/bash
# pv-test: serial
# GET /containers with upstream's fields (group, status_goal,
# restart_policy, uptime_secs, auto_recovery with current_retries, roles,
# provides, consumes) beside pvd's (ip, pool, log_file); PUT
# /containers/NAME {"action": "stop" | "start" | "restart"} as upstream,
# with what /containers and the graph show after each; 403 for a system
# container, 404 for an unknown one, 400 for a bad action.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd curl jq lxc-checkconfig

SOCK=$T/pv-ctrl
P=$(free_port)
"$PYTHON" - "$T/state.json" "$P" <<'PY'
import json, sys
path, port = sys.argv[1:]
srv = ("import http.server as h, socketserver as s, os, time\n"
       "tag = '%d-%d' % (os.getpid(), time.time_ns())\n"
       "class H(h.BaseHTTPRequestHandler):\n"
       "    def do_GET(self):\n"
       "        b = tag.encode()\n"
       "        self.send_response(200); self.send_header('Content-Length', str(len(b)))\n"
       "        self.end_headers(); self.wfile.write(b)\n"
       "    def log_message(self, *a): pass\n"
       "s.TCPServer.allow_reuse_address = True\n"
       f"s.TCPServer(('127.0.0.1', {port}), H).serve_forever()\n")
json.dump({
    "#spec": "pantavisor-service-system@1",
    "web/run.json": {"#spec": "service-manifest-run@1", "name": "web",
        "type": "lxc", "exec": [sys.executable, "-c", srv],
        "group": "app", "roles": ["mgmt"],
        "auto_recovery": {"policy": "always", "max_retries": 3,
                          "retry_delay": 0.2, "backoff_factor": 1.5}},
    "web/services.json": {"#spec": "service-manifest-xconnect@1",
        "services": [{"name": "web", "type": "tcp", "port": int(port)}]},
    "appdef/run.json": {"name": "appdef", "type": "lxc", "group": "app",
        "exec": ["/bin/sleep", "1000"],
        "services": {"required": [{"name": "web", "target": "127.0.0.1:1"}]}},
    "sys/run.json": {"name": "sys", "type": "lxc", "group": "platform",
        "exec": ["/bin/sleep", "1000"]},
}, open(path, "w"))
PY
start_pvd "$T/pvd.log" "$T/state.json" "$T/run" --no-xconnect
c() { ctrl "$SOCK" /containers | jq -c ".[] | select(.name==\"$1\")"; }
field() { ctrl "$SOCK" /containers | jq -r ".[] | select(.name==\"$1\") | .$2"; }
status_is() { [ "$(field "$1" status)" = "$2" ]; }
link_pid() { ctrl "$SOCK" /xconnect-graph | jq -r '.[] | select(.consumer=="appdef") | .provider_pid'; }
put() { # NAME BODY -> "STATUS BODY"
	curl -sS --max-time 5 --unix-socket "$SOCK" -X PUT -o "$T/body" \
		-w '%{http_code}' "http://localhost/containers/$1" -d "$2"
	echo " $(cat "$T/body")"
}
get() { curl -sf --max-time 10 "http://127.0.0.1:$P/"; }
wait_for 30 test -S "$SOCK"
for n in web appdef sys; do wait_for 30 status_is $n running; done
wait_for 30 get

# upstream's fields, and pvd's.
assert_eq "$(c web | jq -c '{group, status_goal, restart_policy, roles, auto_recovery}')" \
	'{"group":"app","status_goal":"STARTED","restart_policy":"container","roles":["mgmt"],"auto_recovery":{"policy":"always","max_retries":3,"retry_delay":0.2,"backoff_factor":1.5,"reset_window":0,"current_retries":0}}' \
	"web's upstream fields"
assert_eq "$(c web | jq -c .provides)" "[{\"name\":\"web\",\"type\":\"tcp\",\"port\":$P}]" "web provides"
assert_eq "$(c appdef | jq -c .consumes)" '[{"name":"web","type":"tcp","requirement":"required","role":"any","target":"127.0.0.1:1"}]' "appdef consumes"
# upstream's app group: on-failure, 5, 10, 20 s..., at most 5 times.
assert_eq "$(c appdef | jq -c .auto_recovery)" '{"policy":"on-failure","max_retries":5,"retry_delay":5,"backoff_factor":2,"reset_window":0,"current_retries":0}' "appdef inherits the app group's auto_recovery"
assert_eq "$(c sys | jq -c '{group, restart_policy, auto_recovery, roles}')" '{"group":"platform","restart_policy":"system","auto_recovery":null,"roles":[]}' "sys's fields"
assert_eq "$(c web | jq -c '{ip, pool, network}')" '{"ip":null,"pool":null,"network":"host"}' "web's network fields"
[ "$(field web log_file)" = "$T/run/web.log" ] || fail "web log_file $(field web log_file)"
[ "$(field web uptime_secs)" -ge 0 ] || fail "uptime_secs $(field web uptime_secs)"
assert_eq "$(ctrl "$SOCK" /containers/web | jq -r .name)" web "GET /containers/web"

# A crash: auto_recovery restarts it, current_retries counts it.
old=$(field web pid)
kill -9 "$old"
wait_for 30 sh -c "[ \"\$(curl -s --unix-socket $SOCK http://l/containers/web | jq -r .auto_recovery.current_retries)\" = 1 ]"
wait_for 30 status_is web running
wait_for 30 get

# stop: stopped, pid 0, the graph's provider pid 0, not restarted.
r=$(put web '{"action":"stop"}')
assert_eq "${r%% *}" 200 "PUT stop: $r"
wait_for 30 status_is web stopped
assert_eq "$(field web pid)" 0 "pid after stop"
assert_eq "$(link_pid)" 0 "graph provider_pid after stop"
get >/dev/null && fail "web still serves after stop"
grep -q "container web stopped (pv-ctrl)" "$T/pvd.log" || fail "no stop line"
grep -c "container web: restarting" "$T/pvd.log" | grep -qx 1 || fail "web restarted after the stop"

# start: running with a new pid, in the graph, serving.
r=$(put web '{"action":"start"}')
assert_eq "${r%% *}" 200 "PUT start: $r"
wait_for 30 status_is web running
p1=$(field web pid)
[ "$p1" -gt 0 ] || fail "pid after start: $p1"
assert_eq "$(link_pid)" "$p1" "graph provider_pid after start"
assert_eq "$(field web auto_recovery.current_retries)" 0 "current_retries after start"
wait_for 30 get
t1=$(get)

# restart: another pid, the graph follows, a new process serves.
r=$(put web '{"action":"restart"}')
assert_eq "${r%% *}" 200 "PUT restart: $r"
wait_for 30 sh -c "[ \"\$(curl -s --unix-socket $SOCK http://l/containers/web | jq -r .pid)\" -gt 0 ] && [ \"\$(curl -s --unix-socket $SOCK http://l/containers/web | jq -r .pid)\" != $p1 ]"
wait_for 30 status_is web running
p2=$(field web pid)
assert_eq "$(link_pid)" "$p2" "graph provider_pid after restart"
wait_for 30 sh -c "t=\$(curl -sf --max-time 2 http://127.0.0.1:$P/) && [ \"\$t\" != '$t1' ]"

# Refusals.
r=$(put sys '{"action":"stop"}')
assert_eq "${r%% *}" 403 "PUT stop of a system container: $r"
echo "${r#* }" | jq -e '.error | test("restart_policy system")' >/dev/null || fail "403 body: $r"
assert_eq "$(field sys status)" running "sys after the refused stop"
r=$(put ghost '{"action":"stop"}')
assert_eq "${r%% *}" 404 "PUT to an unknown container: $r"
r=$(put web '{"action":"reboot"}')
assert_eq "${r%% *}" 400 "PUT with a bad action: $r"
r=$(put web 'nope')
assert_eq "${r%% *}" 400 "PUT with a bad body: $r"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://l/containers/ghost)
assert_eq "$code" 404 "GET of an unknown container"

kill -TERM $PID
wait $PID || fail "pvd exit status $?"
echo PASS
