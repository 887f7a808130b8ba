#!/bin/bash
# Unix socket backends: on the host (also with a path longer than
# sun_path), inside another mount namespace reached through provider_pid,
# never the host's path when the provider is not running, and never
# through a symlink or ".." that leaves the provider's root.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd nc unshare chroot mount

# 1. A host socket, and one whose path does not fit in sun_path (108).
long="$T/$(printf 'd%.0s' $(seq 60))/$(printf 'e%.0s' $(seq 60))"
mkdir -p "$long"
bg host $PVXTOOL echo "$T/host.sock" --tag HOST
# Python cannot bind a path that long either: bind in the directory.
(cd "$long" && exec $PVXTOOL echo ./app.sock --tag LONG) >"$T/long.log" 2>&1 &
on_cleanup "kill $!"
wait_for 20 test -S "$T/host.sock"
wait_for 20 test -S "$long/app.sock"
[ ${#long} -gt 120 ] || fail "long path is only ${#long} bytes"

# 2. A provider in its own mount namespace: its socket lives on a tmpfs
# that the host does not see. The host has another socket at the same path.
mkdir -p "$T/ns"
unshare -m --propagation private sh -c \
	"mount -t tmpfs pvxtest '$T/ns' && exec $PVXTOOL echo '$T/ns/app.sock' --tag NS" \
	>"$T/ns.log" 2>&1 &
ns_pid=$!
on_cleanup "kill $ns_pid"
wait_for 20 test -S "/proc/$ns_pid/root$T/ns/app.sock"
bg decoy $PVXTOOL echo "$T/ns/app.sock" --tag HOST-DECOY
wait_for 20 test -S "$T/ns/app.sock"

# 3. A provider with its own root (chroot), a symlink and ".." that point
# out of it at a host socket.
R=$T/root
mkdir -p "$R/usr" "$R/run" "$R/tmp" "$R/proc" "$R/dev"
ln -s usr/bin "$R/bin"
ln -s usr/lib "$R/lib"
[ -e /lib64 ] && ln -s usr/lib64 "$R/lib64"
cp "$TOP/tests/helpers/pvxtool.py" "$R/pvxtool.py"
escape=/tmp/pvx-escape-$$
mkdir -p "$escape"
on_cleanup "rm -rf $escape"
bg escape $PVXTOOL echo "$escape/app.sock" --tag ESCAPED
ln -s "$escape" "$R/run/evil"
unshare -m --propagation private sh -c \
	"mount --rbind /usr '$R/usr' && exec chroot '$R' $PYTHON /pvxtool.py echo /run/app.sock --tag ROOT" \
	>"$T/root.log" 2>&1 &
root_pid=$!
on_cleanup "kill $root_pid"
wait_for 20 test -S "$R/run/app.sock"
wait_for 20 test -S "$escape/app.sock"

p_host=$(free_port)
p_long=$(free_port)
p_ns=$(free_port)
p_root=$(free_port)
p_evil=$(free_port)
p_dotdot=$(free_port)
graph "$(ingress host "127.0.0.1:$p_host" "$T/host.sock")" \
	"$(ingress long "127.0.0.1:$p_long" "$long/app.sock")" \
	"$(ingress ns "127.0.0.1:$p_ns" "$T/ns/app.sock" app 0)" \
	"$(ingress root "127.0.0.1:$p_root" /run/app.sock rootapp "$root_pid")" \
	"$(ingress evil "127.0.0.1:$p_evil" /run/evil/app.sock rootapp "$root_pid")" \
	"$(ingress dotdot "127.0.0.1:$p_dotdot" "/../../..$escape/app.sock" rootapp "$root_pid")"
start_pvx
for p in $p_host $p_long $p_ns $p_root $p_evil $p_dotdot; do
	wait_for 20 port_open "$p"
done

tag() { $PVXTOOL tag "127.0.0.1:$1" 2>/dev/null || true; }
assert_eq "$(tag "$p_host")" HOST "host socket"
assert_eq "$(tag "$p_long")" LONG "socket path of ${#long} bytes"
$PVXTOOL stream "127.0.0.1:$p_host" --mb 16 --skip-tag >"$T/s1.out" 2>&1 || fail "stream over Unix: $(cat "$T/s1.out")"

# Provider not running (pid 0): down, the host's socket at that path is
# never used.
assert_eq "$(tag "$p_ns")" "" "provider with pid 0"
grep -q "link ns: no usable backend (app:$T/ns/app.sock: provider not running)" "$T/pvx.log" ||
	fail "down provider not logged"

# The provider runs: reached inside its mount namespace.
graph "$(ingress host "127.0.0.1:$p_host" "$T/host.sock")" \
	"$(ingress long "127.0.0.1:$p_long" "$long/app.sock")" \
	"$(ingress ns "127.0.0.1:$p_ns" "$T/ns/app.sock" app "$ns_pid")" \
	"$(ingress root "127.0.0.1:$p_root" /run/app.sock rootapp "$root_pid")" \
	"$(ingress evil "127.0.0.1:$p_evil" /run/evil/app.sock rootapp "$root_pid")" \
	"$(ingress dotdot "127.0.0.1:$p_dotdot" "/../../..$escape/app.sock" rootapp "$root_pid")"
reload
assert_eq "$(tag "$p_ns")" NS "provider in its mount namespace"
$PVXTOOL stream "127.0.0.1:$p_ns" --mb 16 --skip-tag >"$T/s2.out" 2>&1 || fail "stream into the namespace: $(cat "$T/s2.out")"

# Inside a chroot: the socket is found under its root; a symlink or ".."
# that leads out of it is not followed to the host.
assert_eq "$(tag "$p_root")" ROOT "provider with its own root"
assert_eq "$(tag "$p_evil")" "" "symlink out of the provider's root"
assert_eq "$(tag "$p_dotdot")" "" "dot-dot out of the provider's root"
grep -q "link evil: connect to rootapp:/run/evil/app.sock failed: No such file or directory" "$T/pvx.log" ||
	fail "escaping symlink not refused as expected"
grep -q "ESCAPED" "$T"/*.log && fail "the host socket was reached"

# The provider dies: its namespace is gone, clients are closed.
kill "$ns_pid"
wait "$ns_pid" 2>/dev/null || true
wait_for 20 grep -q "link ns: provider app (pid $ns_pid) exited, backend down" "$T/pvx.log"
# Its mounts went with it: the host's socket under the same path is not
# what the backend means.
assert_eq "$(tag "$p_ns")" "" "provider that died"
pvx_alive
echo "PASS"
