#!/bin/bash
# pv-test: serial
# Upstream's Test 4, the unix mesh, served end to end under pvd with real
# LXC containers: a provider with socat listening on /run/example/raw.sock
# (export raw-unix, type unix), a consumer requiring raw-unix at
# /run/pv/services/raw-unix.sock without a type. pv-xconnect makes that
# socket inside the consumer's mount namespace and the consumer's socat
# gets its echo back. Then:
#  - a hostile consumer (a root of its own, prepared before it starts)
#    whose targets go through a symlink to a host directory, a symlink to
#    /proc/self/cwd, a loop of symlinks, or end on a regular file: nothing
#    is made, nothing appears on the host, each link says why;
#  - the provider stopped (pv-ctrl): the consumer's session ends at once,
#    new clients are closed at once, the socket stays; started again, it
#    serves again;
#  - the consumer restarted: the socket is made in its new root.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd socat curl jq nc nsenter ldd lxc-checkconfig
[ -x "$PVX" ] || skip "no $PVX"
SOCK=$T/pv-ctrl
TARGET=/run/pv/services/raw-unix.sock

# The hostile consumer's root: sh and sleep, and what it planted.
ROOT=$V/evilroot
make_min_root "$ROOT"
mkdir -p "$ROOT/srv"
HOSTDIR=$V/hostdir
mkdir "$HOSTDIR"
ln -s "$HOSTDIR" "$ROOT/srv/tohost"
ln -s /proc/self/cwd "$ROOT/srv/procself"
ln -s loopb "$ROOT/srv/loopa"
ln -s loopa "$ROOT/srv/loopb"
printf keep >"$ROOT/srv/file.sock"

# The consumer's own client: socat in a loop (bounded), the last echo
# kept in its /tmp.
loop="i=0; while [ \$i -lt 600 ]; do
 echo hello-mesh | socat -t 2 - UNIX-CONNECT:$TARGET >/tmp/last 2>/dev/null &&
 mv /tmp/last /tmp/echo; i=\$((i + 1)); sleep 0.5; done; exec sleep 1000"
"$PYTHON" - "$T/state.json" "$ROOT" "$TARGET" "$loop" <<'PY'
import json, sys
path, root, target, loop = sys.argv[1:]
json.dump({
    "#spec": "pantavisor-service-system@1",
    "raw-provider/run.json": {"name": "raw-provider", "type": "lxc",
        "group": "app", "exec": ["/bin/sh", "-c",
        "mkdir -p /run/example && exec socat "
        "UNIX-LISTEN:/run/example/raw.sock,fork,mode=666 EXEC:/bin/cat"]},
    "raw-provider/services.json": {"#spec": "service-manifest-xconnect@1",
        "services": [{"name": "raw-unix", "type": "unix",
                      "socket": "/run/example/raw.sock"}]},
    "raw-consumer/run.json": {"name": "raw-consumer", "type": "lxc",
        "group": "app", "exec": ["/bin/sh", "-c", loop],
        "services": {"required": [{"name": "raw-unix", "target": target}]}},
    "evil/run.json": {"name": "evil", "type": "lxc", "group": "app",
        "root": root, "exec": ["/bin/sleep", "1000"],
        "services": {"required": [
            {"name": "raw-unix", "target": t} for t in
            ["/srv/tohost/x.sock", "/srv/procself/x.sock",
             "/srv/loopa/x.sock", "/srv/file.sock"]]}},
}, open(path, "w"))
PY

"$PVD" --state "$T/state.json" --ctrl "$SOCK" --run-dir "$T/run" \
	--xconnect "$PVX" >"$T/pvd.log" 2>&1 &
PID=$!
on_cleanup "terminate $PID"
XLOG=$T/run/pv-xconnect.log
field() { ctrl "$SOCK" /containers | jq -r ".[] | select(.name==\"$1\") | .$2"; }
running() { [ "$(field "$1" status)" = running ]; }
put() { # NAME ACTION
	curl -sS --max-time 5 --unix-socket "$SOCK" -X PUT -o /dev/null \
		-w '%{http_code}' "http://localhost/containers/$1" \
		-d "{\"action\":\"$2\"}"
}
# echo_from PID: what the consumer gets back for one line, by socat
# inside its mount namespace.
echo_from() {
	echo "hello-$1" | nsenter -t "$1" -m socat -t 2 - "UNIX-CONNECT:$TARGET" 2>/dev/null || true
}
wait_for 30 test -S "$SOCK"
for c in raw-provider raw-consumer evil; do wait_for 60 running $c; done

# The graph: the requirement without a type took the export's.
assert_eq "$(ctrl "$SOCK" /xconnect-graph | jq -c '.[] | select(.consumer=="raw-consumer") | {type, provider, target, socket, role, interface}')" \
	"{\"type\":\"unix\",\"provider\":\"raw-provider\",\"target\":\"$TARGET\",\"socket\":\"/run/example/raw.sock\",\"role\":\"any\",\"interface\":\"unix\"}" \
	"the unix link in the graph"
cp=$(field raw-consumer pid)
wait_for 30 test -S "/proc/$cp/root$TARGET"
[ ! -e "$TARGET" ] || fail "the socket appeared on the host"
assert_eq "$(stat -c %a "/proc/$cp/root$TARGET")" 666 "socket mode"
wait_for 30 sh -c "[ \"\$(echo hi | nsenter -t $cp -m socat -t 2 - UNIX-CONNECT:$TARGET 2>/dev/null)\" = hi ]"
assert_eq "$(echo_from "$cp")" "hello-$cp" "echo through the mesh"
# The consumer's own loop got its echo.
wait_for 30 grep -qx hello-mesh "/proc/$cp/root/tmp/echo"
echo "unix mesh: echo inside the consumer through $TARGET"

# The hostile consumer: refused, each once, and nothing on the host.
ep=$(field evil pid)
said() { wait_for 30 grep -q "link raw-unix: socket $1 in the root of pid $ep: $2, retrying" "$XLOG"; }
said /srv/tohost/x.sock "/srv/tohost is a symlink, not followed"
said /srv/procself/x.sock "/srv/procself is a symlink, not followed"
said /srv/loopa/x.sock "/srv/loopa is a symlink, not followed"
said /srv/file.sock "a regular file is there, left alone"
assert_eq "$(ls -A "$HOSTDIR" | wc -l)" 0 "files in the host directory"
assert_eq "$(cat "$ROOT/srv/file.sock")" keep "the consumer's regular file"
for l in tohost procself loopa loopb; do
	[ -L "$ROOT/srv/$l" ] || fail "/srv/$l was replaced"
done
echo "hostile targets: refused, nothing made outside the root"

# The provider stops: the consumer's session ends at once (the provider's
# end went with it), the socket stays, new clients are closed at once.
# The container's /tmp is its own, where this checkout may live: the
# helper is read from stdin, opened here, not by its path in there.
nsenter -t "$cp" -m "$PYTHON" - hold "$TARGET" --seconds 120 \
	<"$TOP/tests/helpers/pvxtool.py" >"$T/hold.out" 2>&1 &
hold=$!
on_cleanup "kill $hold 2>/dev/null"
wait_for 30 grep -q connected "$T/hold.out"
assert_eq "$(put raw-provider stop)" 200 "PUT stop raw-provider"
wait_for 30 gone "$hold"
if wait "$hold"; then fail "the session outlived its provider"; fi
wait_for 30 sh -c "[ \"\$(curl -s --unix-socket $SOCK http://l/xconnect-graph | jq '.[] | select(.consumer==\"raw-consumer\") | .provider_pid')\" = 0 ]"
test -S "/proc/$cp/root$TARGET" || fail "the socket went with the provider"
assert_eq "$(echo_from "$cp")" "" "echo while the provider is down"
assert_eq "$(put raw-provider start)" 200 "PUT start raw-provider"
wait_for 60 running raw-provider
wait_for 30 sh -c "[ \"\$(echo hi | nsenter -t $cp -m socat -t 2 - UNIX-CONNECT:$TARGET 2>/dev/null)\" = hi ]"
echo "provider stopped and started: sessions closed, socket kept, served again"

# The consumer restarts: a new root, the socket made there.
assert_eq "$(put raw-consumer restart)" 200 "PUT restart raw-consumer"
wait_for 60 sh -c "[ \"\$(curl -s --unix-socket $SOCK http://l/containers | jq -r '.[] | select(.name==\"raw-consumer\") | .pid')\" -gt 0 ] && [ \"\$(curl -s --unix-socket $SOCK http://l/containers | jq -r '.[] | select(.name==\"raw-consumer\") | .pid')\" != $cp ]"
cp2=$(field raw-consumer pid)
wait_for 30 test -S "/proc/$cp2/root$TARGET"
wait_for 30 sh -c "[ \"\$(echo hi | nsenter -t $cp2 -m socat -t 2 - UNIX-CONNECT:$TARGET 2>/dev/null)\" = hi ]"
grep -q "link raw-unix: listening on $TARGET in the root of pid $cp2" "$XLOG" ||
	fail "no listening line for the new consumer"
echo "consumer restarted: socket made in its new root"

# The figures count the link's sessions (pv-xconnect reports them to
# pvd now and then) and show why the hostile links are down.
sessions() { ctrl "$SOCK" /xconnect-status | jq "[.frontends[] | select(.consumer==\"raw-consumer\") | .sessions_total] | add"; }
has_sessions() { [ "$(sessions)" -ge 1 ] 2>/dev/null; }
wait_for 30 has_sessions
assert_eq "$(ctrl "$SOCK" /xconnect-status | jq -r '.frontends[] | select(.target=="/srv/file.sock") | .reason')" \
	"a regular file is there, left alone" "the refused link's reason in the status"
metrics=$(ctrl "$SOCK" /metrics)
echo "$metrics" | grep -q "pvx_frontend_sessions_total{frontend=\"raw-unix\",consumer=\"raw-consumer\",target=\"$TARGET\"}" ||
	fail "metrics lack the unix link"
echo "PASS"
