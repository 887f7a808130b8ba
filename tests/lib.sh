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
	_drop_port_claims 2>/dev/null || true
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
# before the test listens on it (where that range leaves room). A port free
# now may still be handed to a test running beside this one before either
# listens: each port given is claimed machine-wide first, a file named after
# it in $PV_PORT_CLAIMS created exclusively and holding this test's pid, and
# a claim whose test is gone is stale. The claims are dropped at cleanup.
PV_PORT_CLAIMS=${PV_PORT_CLAIMS:-/tmp/pv-port-claims}
free_ports() {
	mkdir -p "$PV_PORT_CLAIMS"
	"$PYTHON" -c '
import os, random, socket, sys
n, claims, owner, given_file = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]

def claim(p):
    """True when this test now holds port p: created, or taken over stale."""
    path = os.path.join(claims, str(p))
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                holder = int(open(path).read() or 0)
                os.kill(holder, 0)
                return False
            except ProcessLookupError:
                os.unlink(path)  # its test is gone
                continue
            except (OSError, ValueError):
                return False  # being written, or removed meanwhile
        os.write(fd, str(owner).encode())
        os.close(fd)
        return True
    return False

def unclaim(p):
    os.unlink(os.path.join(claims, str(p)))

low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
ports = list(range(10000, low)) if low - 10000 > 100 * n else []
random.shuffle(ports)
held = []
for p in ports:
    if len(held) == n:
        break
    if not claim(p):
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        unclaim(p)
        continue
    held.append(s)
while len(held) < n:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    if not claim(s.getsockname()[1]):
        s.close()
        continue
    held.append(s)
out = [str(s.getsockname()[1]) for s in held]
with open(given_file, "a") as f:
    f.write("".join(p + "\n" for p in out))
print("\n".join(out))' "$1" "$PV_PORT_CLAIMS" "$$" "$T/.ports-given"
}

# _drop_port_claims: gives back the ports this test claimed.
_drop_port_claims() {
	[ -s "$T/.ports-given" ] || return 0
	(cd "$PV_PORT_CLAIMS" && xargs rm -f <"$T/.ports-given")
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
