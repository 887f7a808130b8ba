#!/bin/bash
# Security: a container cannot make pv-xconnect connect to a host socket.
# Under pvd, a real LXC container exports Unix sockets whose paths (or a
# directory on them, or "..") lead to the host's pv-ctrl socket, which
# the container itself cannot see (it lives under the host's /tmp; the
# container's /tmp is private). Each is an ingress. The proxy resolves
# every path inside the container's root, so none of them reaches pv-ctrl:
# the clients are closed without an answer and pv-ctrl sees no request.
# The container's genuine socket, beside them, is served (the same
# resolution works).
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd curl jq nc lxc-checkconfig
[ -x "$PVX" ] || skip "no $PVX"

SOCK=$T/ctrl/pv-ctrl
P_OK=$(free_port) P_FILE=$(free_port) P_DIR=$(free_port)
P_REL=$(free_port) P_DOTS=$(free_port)

# The container: a real socket, and symlinks that point at the host's
# pv-ctrl socket by absolute path, through a directory, and relatively.
"$PYTHON" - "$T/state.json" "$SOCK" "$P_OK" "$P_FILE" "$P_DIR" \
	"$P_REL" "$P_DOTS" <<'PY'
import json, sys
path, sock, p_ok, p_file, p_dir, p_rel, p_dots = sys.argv[1:]
ctrl_dir = sock.rsplit("/", 1)[0]
prog = f"""
import os, socket
os.makedirs('/run/app', exist_ok=True)
os.symlink({sock!r}, '/run/app/file.sock')
os.symlink({ctrl_dir!r}, '/run/dirlink')
os.symlink('../../../../../../../..' + {sock!r}, '/run/app/rel.sock')
s = socket.socket(socket.AF_UNIX)
s.bind('/run/app/ok.sock')
s.listen(16)
open('/run/app/ready', 'w').close()
while True:
    c, _ = s.accept()
    c.sendall(b'OK-INSIDE\\n')
    c.close()
"""
exports = {"ok": "/run/app/ok.sock", "file": "/run/app/file.sock",
           "dir": "/run/dirlink/" + sock.rsplit("/", 1)[1],
           "rel": "/run/app/rel.sock", "dots": "/run/../../../.." + sock}
ports = {"ok": p_ok, "file": p_file, "dir": p_dir, "rel": p_rel,
         "dots": p_dots}
json.dump({
    "#spec": "pantavisor-service-system@1",
    "device.json": {"ingress": [
        {"name": f"in-{n}", "type": "tcp", "external": f"127.0.0.1:{ports[n]}",
         "provider": "evil", "service": n} for n in exports]},
    "evil/run.json": {"name": "evil", "type": "lxc", "network": "none",
                      "exec": [sys.executable, "-c", prog]},
    "evil/services.json": {"services": [
        {"name": n, "type": "unix", "socket": p} for n, p in exports.items()]},
}, open(path, "w"))
PY

start_pvd "$T/pvd.log" "$T/state.json" "$T/run" --verbose --xconnect "$PVX"
cpid() { ctrl "$SOCK" /containers | jq -r ".[] | select(.name==\"$1\") | .pid"; }
running() { [ "$(cpid "$1")" -gt 0 ] 2>/dev/null; }
wait_for 60 test -S "$SOCK"
wait_for 60 running evil
for p in $P_OK $P_FILE $P_DIR $P_REL $P_DOTS; do wait_for 60 port_open "$p"; done

# The genuine socket inside the container is served.
wait_for 30 sh -c "nc -w 2 127.0.0.1 $P_OK </dev/null | grep -q OK-INSIDE"
# The symlinks do lead to pv-ctrl when followed on the host: the attack
# would work against a proxy that resolves paths outside the root.
root=/proc/$(cpid evil)/root
[ -L "$root/run/app/file.sock" ] || fail "the container made no symlink"
printf 'GET /probe-%s HTTP/1.0\r\n\r\n' $$ | nc -U -w 2 "$root/run/app/file.sock" |
	head -1 | grep -q "^HTTP/1.0 404" ||
	fail "the symlink does not reach pv-ctrl through /proc/PID/root"
grep -q "GET /probe-$$ -> 404" "$T/pvd.log" || fail "pv-ctrl does not log requests"

# Through the proxy: nothing reaches pv-ctrl, for every kind of path.
for kind in file dir rel dots; do
	eval "port=\$P_$(echo $kind | tr a-z A-Z)"
	out=$(printf 'GET /attack-%s-%s HTTP/1.0\r\n\r\n' "$kind" $$ |
		nc -w 3 127.0.0.1 "$port" || true)
	[ -z "$out" ] || fail "$kind: the proxy answered: $(echo "$out" | head -1)"
	grep -q "attack-$kind-$$" "$T/pvd.log" && fail "$kind: the request reached pv-ctrl"
	# ENOENT for the paths resolved inside the root, ECONNREFUSED for a
	# final symlink (never followed: the link itself is not a socket).
	grep -q "link in-$kind: connect to .* failed" "$T/run/pv-xconnect.log" ||
		fail "$kind: no connect failure logged for in-$kind"
done
echo "4 symlink and .. paths to the host's pv-ctrl: refused; the genuine socket served"

# The proxy survived the attempts and still serves.
nc -w 2 127.0.0.1 "$P_OK" </dev/null | grep -q OK-INSIDE || fail "ok socket after the attacks"
echo "PASS"
