#!/bin/bash
# pvd refuses a wrong setup early, with one clear line, before creating
# anything: a bad state, not root, LXC missing, a pool whose bridge name or
# subnet is already in use on the host. And it recovers from its own
# crash: a pvd killed with SIGKILL takes its containers along, and the
# next pvd replaces the bridge and the socket it left. SIGINT (Ctrl-C)
# stops cleanly like SIGTERM.
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd curl jq ip unshare runuser

BR=pvtbr13
NET=10.201.13
SOCK=$T/pv-ctrl
for dev in $BR pvtdum13 pvtdum13b; do
	ip link show $dev >/dev/null 2>&1 && skip "$dev already exists"
done
ip -4 addr | grep -q "inet 10\.201\.1[34]\." && skip "10.201.13-14.0/24 in use"

state() { # FILE BRIDGE SUBNET-PREFIX EXEC
	cat >"$1" <<EOF
{ "#spec": "pantavisor-service-system@1",
  "device.json": { "network": { "pools": {
    "p": { "type": "bridge", "bridge": "$2", "subnet": "$3.0/24", "gateway": "$3.1" } } } },
  "pvt13c/run.json": { "name": "pvt13c", "type": "lxc", "exec": $4,
    "network": { "mode": "pool", "pool": "p" } } }
EOF
}
SLEEPER='["/bin/sleep", "1000"]'
state "$T/good.json" $BR $NET "$SLEEPER"

# run_pvd STATE: runs pvd to completion (it must refuse), output in $T/out.
run_pvd() {
	rc=0
	timeout 60 "$PVD" --state "$1" --ctrl "$SOCK" --run-dir "$T/run" \
		--no-xconnect >"$T/out" 2>&1 || rc=$?
	[ $rc -ne 0 ] || fail "pvd started on $1: $(cat "$T/out")"
	[ $rc -ne 124 ] || fail "pvd did not refuse (still running after 60 s): $(cat "$T/out")"
}
nothing_created() { # WHAT
	[ -e "$SOCK" ] && fail "$1: socket created"
	ip link show $BR >/dev/null 2>&1 && fail "$1: bridge $BR created"
	return 0
}

# A bad state: every error, nothing created.
state "$T/bad.json" $BR $NET '["/bin/sleep"], "restart_policy": "sometimes"'
run_pvd "$T/bad.json"
grep -q "restart_policy" "$T/out" || fail "bad state: error does not name the field: $(cat "$T/out")"
nothing_created "bad state"

# Not root. nobody runs a copy in $T: the checkout may sit in a directory
# only root can enter (mktemp -d makes them 0700).
cp "$PVD" "$T/pvd-copy"
chmod 755 "$T/pvd-copy"
rc=0
runuser -u nobody -- "$T/pvd-copy" --state "$T/good.json" --ctrl "$T/nobody.sock" \
	--run-dir "$T/run-nobody" --no-xconnect >"$T/out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "pvd ran as nobody"
grep -q "must run as root" "$T/out" || fail "not root: unclear message: $(cat "$T/out")"
# ... while --check needs no root.
runuser -u nobody -- "$T/pvd-copy" --check --state "$T/good.json" >/dev/null ||
	fail "--check refused as nobody"

# LXC missing: hide its init in a private mount namespace.
rc=0
unshare -m sh -c 'for d in /usr/sbin /sbin; do [ -L $d ] || mount -t tmpfs none $d; done
	exec "$@"' sh "$PVD" --state "$T/good.json" --ctrl "$SOCK" --run-dir "$T/run" \
	--no-xconnect >"$T/out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "pvd ran without LXC"
grep -q "LXC is missing" "$T/out" || fail "no LXC: unclear message: $(cat "$T/out")"
nothing_created "no LXC"

# The bridge name is taken by someone else's interface.
ip link add $BR type veth peer name pvtdum13c
on_cleanup "ip link del $BR"
run_pvd "$T/good.json"
grep -q "pool p: a network interface named $BR already exists" "$T/out" ||
	fail "bridge taken: unclear message: $(cat "$T/out")"
[ -e "$SOCK" ] && fail "bridge taken: socket left"
ip -d link show $BR | grep -q veth || fail "the existing $BR was touched"
ip link del $BR

# The subnet is in use on another interface.
ip link add pvtdum13 type veth peer name pvtdum13p
on_cleanup "ip link del pvtdum13"
ip addr add $NET.77/24 dev pvtdum13
run_pvd "$T/good.json"
grep -q "pool p: subnet $NET.0/24 is already in use on this host (address $NET.77/24 on pvtdum13)" "$T/out" ||
	fail "subnet in use: unclear message: $(cat "$T/out")"
nothing_created "subnet in use"
# A wider route covering the pool counts too.
ip addr flush dev pvtdum13
ip link set pvtdum13 up
ip route add 10.201.12.0/22 dev pvtdum13
run_pvd "$T/good.json"
grep -q "subnet $NET.0/24 is already in use on this host (route 10.201.12.0/22 on pvtdum13)" "$T/out" ||
	fail "route overlap: unclear message: $(cat "$T/out")"
nothing_created "route overlap"
ip link del pvtdum13

# Two pools, the second one's bridge taken: the first is not created.
ip link add pvtdum13b type veth peer name pvtdum13d
on_cleanup "ip link del pvtdum13b"
cat >"$T/two.json" <<EOF
{ "#spec": "pantavisor-service-system@1",
  "device.json": { "network": { "pools": {
    "a": { "type": "bridge", "bridge": "$BR", "subnet": "$NET.0/24", "gateway": "$NET.1" },
    "b": { "type": "bridge", "bridge": "pvtdum13b", "subnet": "10.201.14.0/24", "gateway": "10.201.14.1" } } } } }
EOF
run_pvd "$T/two.json"
grep -q "pool b: a network interface named pvtdum13b already exists" "$T/out" ||
	fail "second pool: unclear message: $(cat "$T/out")"
nothing_created "second pool taken"
ip link del pvtdum13b

# Crash recovery: a pvd killed with SIGKILL takes its container along...
start_pvd "$T/pvd1.log" "$T/good.json" "$T/run" --no-xconnect
c_running() { [ "$(ctrl "$SOCK" /containers | jq -r '.[0].status')" = running ]; }
wait_for 30 c_running
cpid=$(ctrl "$SOCK" /containers | jq -r '.[0].pid')
kill -9 $PID
wait $PID 2>/dev/null || true # bash reports "Killed": expected
wait_for 20 gone "$cpid"
# ... and the next pvd replaces its leftover bridge and socket.
ip link show $BR >/dev/null || fail "expected the killed pvd's bridge to remain"
start_pvd "$T/pvd2.log" "$T/good.json" "$T/run" --no-xconnect
wait_for 30 c_running
grep -q "removing bridge $BR (.*) left by pvd" "$T/pvd2.log" || fail "stale bridge not reported"
grep -q "removing stale pv-ctrl socket" "$T/pvd2.log" || fail "stale socket not reported"
assert_eq "$(ctrl "$SOCK" /containers | jq -r '.[0].ip')" "$NET.2" "address after recovery"

# A live pvd's bridge is never taken over, even with another socket.
rc=0
timeout 60 "$PVD" --state "$T/good.json" --ctrl "$T/other.sock" --run-dir "$T/run-o" \
	--no-xconnect >"$T/out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "a second pvd took over a live pvd's bridge"
grep -q "a network interface named $BR already exists" "$T/out" || fail "unclear: $(cat "$T/out")"
c_running || fail "the first pvd's container suffered from the second pvd"

# SIGINT stops cleanly, like Ctrl-C in a terminal.
cpid=$(ctrl "$SOCK" /containers | jq -r '.[0].pid')
kill -INT $PID
rc=0
wait $PID || rc=$?
assert_eq "$rc" 0 "exit status after SIGINT"
kill -0 "$cpid" 2>/dev/null && fail "container left running after SIGINT"
ip link show $BR >/dev/null 2>&1 && fail "bridge left after SIGINT"
[ -e "$SOCK" ] && fail "socket left after SIGINT"
# The cgroups liblxc made, even those of the killed pvd's container.
left=$(find /sys/fs/cgroup -maxdepth 6 -type d -name 'lxc.*.pvt13c*' 2>/dev/null | head -3)
[ -z "$left" ] || fail "cgroups left behind: $left"
exit 0
