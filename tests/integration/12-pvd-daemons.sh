#!/bin/bash
# pvd supervises pv-xconnect: started with --ctrl SOCK, its stderr in
# run_dir/pv-xconnect.log, restarted (with back-off) when it dies, stopped
# and started through PUT /daemons/pv-xconnect, SIGKILLed when it ignores
# SIGTERM, a missing binary reported without taking pvd down. A stand-in
# program plays pv-xconnect, so this tests pvd alone. Last, the real
# pv-xconnect is started by pvd and proxies an ingress to a host-network
# container.
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd curl jq

SOCK=$T/pv-ctrl
echo '{"#spec":"pantavisor-service-system@1","device.json":{}}' >"$T/state.json"
cat >"$T/fake-xconnect" <<EOF
#!/bin/sh
echo "\$\$ \$*" >>"$T/runs"
echo "fake pv-xconnect \$\$ on stderr" >&2
[ -e "$T/ignore-term" ] && trap '' TERM
exec sleep 1000
EOF
chmod 755 "$T/fake-xconnect"

on_cleanup "pkill -f '$T/fake-xconnect'"
start_pvd "$T/pvd.log" "$T/state.json" "$T/run" --xconnect "$T/fake-xconnect"

d() { ctrl "$SOCK" /daemons | jq -r ".[] | select(.name==\"pv-xconnect\") | .$1"; }
put() { curl -sS --max-time 5 --unix-socket "$SOCK" -X PUT -d "{\"action\":\"$1\"}" http://localhost/daemons/pv-xconnect; }
pid_alive() { _p=$(d pid) && [ "$_p" -gt 0 ] && kill -0 "$_p"; }

wait_for 20 test -S "$SOCK"
wait_for 20 pid_alive
p1=$(d pid)
assert_eq "$(d respawn)" true "respawn after start"
assert_eq "$(d status)" running "status"
assert_eq "$(tail -1 "$T/runs")" "$p1 --ctrl $SOCK" "pv-xconnect command line"
wait_for 20 grep -q "fake pv-xconnect $p1 on stderr" "$T/run/pv-xconnect.log"
# It gets stdio and nothing else of pvd's (sockets, logs, pipes).
wait_for 20 grep -qx sleep /proc/$p1/comm
assert_eq "$(ls /proc/$p1/fd | sort -n | tr '\n' ' ')" "0 1 2 " "fds of pv-xconnect"
assert_eq "$(readlink /proc/$p1/fd/0)" /dev/null "stdin of pv-xconnect"

# Killed: back with a new pid, after the first back-off (200 ms).
kill -9 "$p1"
wait_for 20 sh -c "[ \"\$(curl -s --unix-socket $SOCK http://localhost/daemons | jq '.[0].pid')\" -gt 0 ] && [ \"\$(curl -s --unix-socket $SOCK http://localhost/daemons | jq '.[0].pid')\" != $p1 ]"
p2=$(d pid)
kill -0 "$p2" || fail "restarted pv-xconnect $p2 not alive"
assert_eq "$(d restarts)" 1 "restarts after a kill"
d last_exit | grep -q "killed by signal 9" || fail "last_exit: $(d last_exit)"

# Stopped on request: gone and not respawned. pvd decides when it reaps
# the program: once it logged the stop, a restart would be scheduled (and
# logged) already.
restarts=$(grep -c "pv-xconnect: restarting in" "$T/pvd.log")
out=$(put stop)
assert_eq "$(echo "$out" | jq -r .respawn)" false "PUT stop answer"
wait_for 20 gone "$p2"
wait_for 20 grep -q "pv-xconnect (pid $p2) stopped" "$T/pvd.log"
assert_eq "$(grep -c "pv-xconnect: restarting in" "$T/pvd.log")" "$restarts" "restarts scheduled after stop"
assert_eq "$(d pid)" 0 "pid after stop"
assert_eq "$(d status)" stopped "status after stop"
assert_eq "$(grep -c . "$T/runs")" 2 "runs after stop (no respawn)"

# Started again.
out=$(put start)
assert_eq "$(echo "$out" | jq -r .respawn)" true "PUT start answer"
p3=$(echo "$out" | jq -r .pid)
[ "$p3" -gt 0 ] && kill -0 "$p3" || fail "PUT start: pid $p3 not alive"
assert_eq "$(d pid)" "$p3" "pid after start"
# Starting what runs is a no-op.
assert_eq "$(put start | jq -r .pid)" "$p3" "second start"

# A program that ignores SIGTERM is killed after the grace period.
touch "$T/ignore-term"
put stop >/dev/null
put start >/dev/null
wait_for 20 pid_alive
p4=$(d pid)
# It runs sleep: past its trap, SIGTERM ignored.
wait_for 20 grep -qx sleep /proc/$p4/comm
t0=$(date +%s%N)
put stop >/dev/null
wait_for 20 gone "$p4"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -ge 1500 ] || fail "SIGTERM-ignoring program gone after $ms ms: SIGTERM was not what stopped it?"
d last_exit | grep -q "killed by signal 9" || fail "last_exit after forced stop: $(d last_exit)"
rm "$T/ignore-term"

# Clean shutdown takes pv-xconnect along.
put start >/dev/null
wait_for 20 pid_alive
p5=$(d pid)
kill -TERM $PID
wait_for 20 gone $PID
rc=0
wait $PID || rc=$?
assert_eq "$rc" 0 "pvd exit status"
kill -0 "$p5" 2>/dev/null && fail "pv-xconnect $p5 left running"

# A missing binary: reported, retried with back-off, pvd unharmed.
start_pvd "$T/pvd2.log" "$T/state.json" "$T/run" --xconnect "$T/no-such-xconnect"
wait_for 20 test -S "$SOCK"
wait_for 20 sh -c "curl -s --unix-socket $SOCK http://localhost/daemons | jq -e '.[0].error' | grep -q 'No such file'"
# Retried with a back-off that doubles: 200, 400, 800 ms.
wait_for 20 grep -q "pv-xconnect: restarting in 800 ms" "$T/pvd2.log"
assert_eq "$(grep -o "pv-xconnect: restarting in [0-9]* ms" "$T/pvd2.log" | awk '{ print $4 }' | head -3 | tr '\n' ' ')" \
	"200 400 800 " "back-off of a missing binary"
[ "$(d restarts)" -ge 3 ] || fail "missing binary: restarts $(d restarts)"
assert_eq "$(ctrl "$SOCK" /containers)" "[]" "pvd serving with a missing pv-xconnect"
kill -TERM $PID
rc=0
wait $PID || rc=$?
assert_eq "$rc" 0 "pvd exit status with a missing pv-xconnect"

# The real pv-xconnect, started by pvd, proxies an ingress to a
# host-network container.
[ -x "$PVX" ] || skip "no $PVX"
need_cmd lxc-checkconfig
BACK=$(free_port)
FRONT=$(free_port)
"$PYTHON" - "$T/state2.json" "$BACK" "$FRONT" <<'PY'
import json, sys
path, back, front = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
srv = ("import http.server as h, socketserver as s, os; os.makedirs('/tmp/w'); "
       "open('/tmp/w/id','w').write('via-xconnect'); os.chdir('/tmp/w'); "
       "s.TCPServer.allow_reuse_address = True; "
       f"s.TCPServer(('127.0.0.1', {back}), h.SimpleHTTPRequestHandler).serve_forever()")
json.dump({
    "#spec": "pantavisor-service-system@1",
    "device.json": {"ingress": [{"name": "web", "type": "tcp",
        "external": f"127.0.0.1:{front}", "provider": "web", "service": "web"}]},
    "web/run.json": {"name": "web", "type": "lxc",
        "exec": [sys.executable, "-c", srv], "network": {"mode": "host"}},
    "web/services.json": {"services": [{"name": "web", "type": "tcp", "port": back}]},
}, open(path, "w"))
PY
start_pvd "$T/pvd3.log" "$T/state2.json" "$T/run3" --xconnect "$PVX"
wait_for 30 pid_alive
wait_for 30 curl -sf --max-time 1 "http://127.0.0.1:$FRONT/id"
assert_eq "$(curl -sf --max-time 10 "http://127.0.0.1:$FRONT/id")" via-xconnect "ingress through pv-xconnect"
px=$(d pid)
kill -TERM $PID
rc=0
wait $PID || rc=$?
assert_eq "$rc" 0 "pvd exit status with the real pv-xconnect"
kill -0 "$px" 2>/dev/null && fail "pv-xconnect $px left running"
exit 0
