#!/bin/bash
# Security: a provider that stopped or restarted is never replaced by a
# host path or by another process's root.
#  1. Under pvd, real LXC containers export Unix sockets; the host has its
#     own sockets at the same paths (decoys). A container killed for good
#     (restart_policy "no"): its ingress closes clients, the decoy is never
#     reached. A container that restarts ("always"): while it is down no
#     client reaches the decoy, then the new container serves, same path.
#  2. pid reuse, in a private pid namespace: the provider dies and another
#     process (its own mount namespace, a socket at the same path) gets
#     the very same pid while the graph still names it. pv-xconnect held a
#     pidfd on the first process: the backend stays down and the newcomer
#     gets no connection.
# (22-xconnect-unix covers pid 0 and a dying provider with --graph.)
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd curl jq nc unshare lxc-checkconfig
[ -x "$PVX" ] || skip "no $PVX"

SOCK=$T/ctrl/pv-ctrl
TOOL=$(for_containers "$TOP/tests/helpers/pvxtool.py")
S_STAY=/run/pvtest51-$$-stay.sock
S_AGAIN=/run/pvtest51-$$-again.sock
P_STAY=$(free_port) P_AGAIN=$(free_port)

# --- 1. under pvd
# The decoys: host sockets at the paths the containers export.
for s in $S_STAY $S_AGAIN; do
	bg "decoy-$(basename $s)" "$PYTHON" "$TOOL" echo "$s" --tag HOST
	on_cleanup "rm -f $s"
done
wait_for 20 test -S "$S_STAY"
wait_for 20 test -S "$S_AGAIN"

"$PYTHON" - "$T/state.json" "$TOOL" "$S_STAY" "$S_AGAIN" "$P_STAY" \
	"$P_AGAIN" <<'PY'
import json, sys
path, tool, s_stay, s_again, p_stay, p_again = sys.argv[1:]
def c(name, sock, tag, policy):
    return {f"{name}/run.json": {"name": name, "type": "lxc",
                "exec": [sys.executable, tool, "echo", sock, "--tag", tag],
                "restart_policy": policy},
            f"{name}/services.json": {"services": [
                {"name": name, "type": "unix", "socket": sock}]}}
state = {"#spec": "pantavisor-service-system@1",
         "device.json": {"ingress": [
             {"name": "in-stay", "type": "tcp", "external": f"127.0.0.1:{p_stay}",
              "provider": "stay", "service": "stay"},
             {"name": "in-again", "type": "tcp",
              "external": f"127.0.0.1:{p_again}",
              "provider": "again", "service": "again"}]}}
state.update(c("stay", s_stay, "STAY", "no"))
state.update(c("again", s_again, "AGAIN", "always"))
json.dump(state, open(path, "w"))
PY
start_pvd "$T/pvd.log" "$T/state.json" "$T/run" --xconnect "$PVX"
cpid() { ctrl "$SOCK" /containers | jq -r ".[] | select(.name==\"$1\") | .pid"; }
running() { [ "$(cpid "$1")" -gt 0 ] 2>/dev/null; }
tag() { "$PYTHON" "$TOOL" tag "127.0.0.1:$1" 2>/dev/null || true; }
tag_is() { [ "$(tag "$1")" = "$2" ]; }
wait_for 60 test -S "$SOCK"
wait_for 60 running stay
wait_for 60 running again
wait_for 60 tag_is "$P_STAY" STAY
wait_for 60 tag_is "$P_AGAIN" AGAIN

# A provider stopped for good: down, never the host's socket.
kill -9 "$(cpid stay)"
wait_for 30 sh -c "[ \"\$(curl -s --unix-socket $SOCK http://l/xconnect-graph | jq '.[] | select(.name==\"stay\") | .provider_pid')\" = 0 ]"
for i in $(seq 20); do
	got=$(tag "$P_STAY")
	[ -z "$got" ] || fail "stopped provider: a client got '$got'"
done
echo "stopped provider: 20 clients closed, none reached the host's $S_STAY"

# A provider that restarts: never the host's socket meanwhile, then the
# new container serves.
old=$(cpid again)
kill -9 "$old"
start=$(date +%s%N)
while :; do
	got=$(tag "$P_AGAIN")
	[ "$got" = HOST ] && fail "restarting provider: a client reached the host's socket"
	new=$(cpid again)
	[ "$got" = AGAIN ] && [ "$new" -gt 0 ] && [ "$new" != "$old" ] && break
	[ $(($(date +%s%N) - start)) -lt 60000000000 ] || fail "restarted provider not served within 60 s"
	sleep 0.05
done
echo "restarted provider: served again after $((($(date +%s%N) - start) / 1000000)) ms (pid $old -> $new), host socket never reached"
kill -TERM $PID
wait $PID || fail "pvd exit status $?"

# --- 2. pid reuse, in a private pid namespace (pids are ours to choose)
port=$(free_port)
mkdir -p "$T/mnt"
cat >"$T/reuse.sh" <<EOF
set -eu
exec 2>>"$T/reuse.log"
# A provider: its own mount namespace, a tmpfs on $T/mnt, its socket on it.
provider() {
	unshare -m sh -c "mount -t tmpfs pvt51 $T/mnt && exec $PYTHON $TOOL echo $T/mnt/app.sock --tag \$1" &
}
graph() {
	printf '[{"type":"tcp","name":"app","consumer":"EXTERNAL","consumer_pid":0,"provider":"app","provider_pid":%s,"role":"EXTERNAL","interface":null,"target":"127.0.0.1:$port","socket":"$T/mnt/app.sock","ingress":"app"}]\n' \$1 >$T/graph.json.tmp
	mv $T/graph.json.tmp $T/graph.json
}
tag() { $PYTHON $TOOL tag 127.0.0.1:$port 2>/dev/null || true; }
tag_is() { [ "\$(tag)" = "\$1" ]; }
# until_ok WHAT CMD...: polls CMD every 50 ms; after 20 s, fails saying WHAT.
until_ok() {
	what=\$1
	shift
	for i in \$(seq 400); do "\$@" && return 0; sleep 0.05; done
	echo "\$what" >&2; exit 1
}
provider FIRST
P=\$!
graph \$P
$PVX --graph $T/graph.json >$T/pvx2.log 2>&1 &
X=\$!
until_ok "no FIRST through the proxy" tag_is FIRST
kill -9 \$P
wait \$P || true
until_ok "the first provider's end not seen" grep -q "provider app (pid \$P) exited" $T/pvx2.log
# Another process gets pid P: ns_last_pid makes the next fork take it.
echo \$((P - 1)) >/proc/sys/kernel/ns_last_pid
provider REUSED
Q=\$!
[ "\$Q" = "\$P" ] || { echo "pid not reused: \$Q, not \$P" >&2; exit 3; }
until_ok "REUSED has no socket" test -S "/proc/\$Q/root$T/mnt/app.sock"
# The graph still says pid P (pvd has not caught up, or never will).
for i in \$(seq 20); do
	got=\$(tag)
	[ -z "\$got" ] || { echo "pid \$P reused: a client got '\$got'" >&2; exit 1; }
done
# Re-reading the same graph changes nothing. The reload is applied once
# pv-xconnect, having logged it, waits for events again.
kill -HUP \$X
until_ok "no reload line" grep -q SIGHUP $T/pvx2.log
waits() {
	case \$(cat /proc/\$X/wchan) in
	*epoll*) ;;
	0 | "") [ "\$(awk '{print \$3}' /proc/\$X/stat)" = S ] ;;
	*) false ;;
	esac
}
until_ok "the reload not applied" waits
[ -z "\$(tag)" ] || { echo "after SIGHUP, the reused pid is served" >&2; exit 1; }
echo "pid \$P reused by another process: 21 clients closed, none reached it"
EOF
rc=0
unshare --pid --fork --mount-proc bash "$T/reuse.sh" >"$T/reuse.out" 2>&1 || rc=$?
cat "$T/reuse.out"
[ $rc -eq 3 ] && skip "could not make the kernel reuse the pid: $(cat "$T/reuse.log")"
[ $rc -eq 0 ] || fail "pid reuse: $(cat "$T/reuse.log")"
echo "PASS"
