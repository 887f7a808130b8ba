# Shared helpers for tests/integration/*.sh. Source it after `set -eu`.
#
#   . "$(dirname "$0")/../lib.sh"
#   need_root; need_cmd nginx
#   on_cleanup 'kill $pid'          # runs at exit, last registered first
#   wait_for 5 test -S "$T/sock"    # polls until true or fails the test

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
PVD=$BUILD/pvd
PVX=$BUILD/pv-xconnect
# Debian's interpreter, never the first python3 on PATH: a pyenv shim there
# may take 0.4 s to start and not see Debian's python3-* packages.
PYTHON=${PYTHON:-/usr/bin/python3}
T=$(mktemp -d /tmp/pvtest.XXXXXX)
chmod 755 "$T"
# Containers get private /tmp and /run: a file a container must run or read
# goes to $V, a directory on the host's root that they do see.
V=$(mktemp -d /var/tmp/pvtest.XXXXXX)
chmod 755 "$V"
_cleanups=""
_failed=1

# Skips (77) outside CI, fails under CI=true.
skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL (prerequisite missing under CI): $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }
need_cmd() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "needs $c"; done; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

on_cleanup() { _cleanups="$*; $_cleanups"; }

_run_cleanup() {
	rc=$?
	trap - EXIT INT TERM
	if [ $rc -ne 0 ]; then
		# Dump every log the test wrote, so a CI failure explains itself.
		for f in $(find "$T" -name '*.log' 2>/dev/null); do
			echo "----- $f (last 40 lines)" >&2
			tail -n 40 "$f" >&2
		done
	fi
	eval "$_cleanups" >/dev/null 2>&1 || true
	rm -rf "$T" "$V"
	exit $rc
}
trap _run_cleanup EXIT
trap 'exit 130' INT TERM
need_cmd "$PYTHON"

# for_containers FILE: copies FILE where containers see it (the checkout
# may be under /tmp, which they do not) and prints the copy's path.
for_containers() {
	cp -p "$1" "$V/" || fail "cannot copy $1 to $V"
	echo "$V/$(basename "$1")"
}

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds.
wait_for() {
	_limit=$(($1 * 20))
	shift
	_i=0
	while ! "$@" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -ge $_limit ] && fail "timed out waiting for: $*"
		sleep 0.05
	done
}

# assert_eq GOT WANT WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

# ctrl SOCK PATH [curl args...]: GET from pv-ctrl, body on stdout.
ctrl() {
	_sock=$1 _path=$2
	shift 2
	curl -sS --max-time 5 --unix-socket "$_sock" "http://localhost$_path" "$@"
}

# free_ports N: N ports free now, picked below the range the kernel hands
# out to outgoing connections, so that none of them is taken by a client
# before the test listens on it (where that range leaves room), and none
# handed out before in this test (recorded in $T/.ports-given: two calls
# in a row, before anything listens, would otherwise risk the same port).
free_ports() {
	"$PYTHON" -c '
import os, random, socket, sys
n = int(sys.argv[1])
given_file = sys.argv[2]
given = set()
if given_file and os.path.exists(given_file):
    given = {int(l) for l in open(given_file) if l.strip()}
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
ports = list(range(10000, low)) if low - 10000 > 100 * n else []
random.shuffle(ports)
held = []
for p in ports:
    if len(held) == n:
        break
    if p in given:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    held.append(s)
while len(held) < n:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
out = [str(s.getsockname()[1]) for s in held]
if given_file:
    with open(given_file, "a") as f:
        f.write("".join(p + "\n" for p in out))
print("\n".join(out))' "$1" "${T:+$T/.ports-given}"
}

# free_port: one such port.
free_port() { free_ports 1; }

# Counts the open fds of a pid.
fd_count() { ls /proc/"$1"/fd | wc -l; }

# start_pvd LOG STATE RUN_DIR [pvd args...]: runs pvd in the background on
# the state file STATE with pv-ctrl on $SOCK, its output in LOG; its pid
# in PID, terminated at cleanup (terminate, tests/helpers/xconnect.sh).
# What must go after pvd is gone (a bridge to delete) is registered with
# on_cleanup before this call.
start_pvd() {
	_log=$1 _state=$2 _run=$3
	shift 3
	"$PVD" --state "$_state" --ctrl "$SOCK" --run-dir "$_run" "$@" \
		>"$_log" 2>&1 &
	PID=$!
	on_cleanup "terminate $PID"
}

# make_min_root DIR: a minimal container root in DIR: /bin/sh (dash),
# /bin/sleep, the libraries they need, and empty /etc /proc /sys /dev.
make_min_root() {
	local l
	mkdir -p "$1/bin" "$1/etc" "$1/proc" "$1/sys" "$1/dev"
	cp /bin/dash "$1/bin/sh"
	cp /bin/sleep "$1/bin/sleep"
	for l in $(ldd /bin/dash /bin/sleep | grep -v ':$' | grep -o '/[^ ]*' | sort -u); do
		mkdir -p "$1$(dirname "$l")"
		cp "$l" "$1$l"
	done
}
