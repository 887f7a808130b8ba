#!/bin/bash
# A provider's Unix socket path is resolved inside its root with openat2
# (RESOLVE_IN_ROOT), which answers EAGAIN whenever a rename or a mount
# anywhere raced a walk through "..". A hostile container controls both:
# the proxy retries a few times, then fails that connect as any other,
# and the event loop never spins on it.
#   1. openat2 always answering EAGAIN (a seccomp filter on pv-xconnect):
#      the client of that provider is closed, the failure is logged with
#      its reason, and another link answers at once: the loop is not stuck.
#   2. The real race: the provider's path walks ".." some 22000 times (38
#      symlinks), while two processes rename a directory of its root in a
#      tight loop (bounded in count and time). Every client of the
#      provider ends (served or closed), another link answers, all while
#      the renames still run.
# pv-test: serial
# (the renames bump the kernel's global rename seqcount: every scoped
# lookup on the machine with ".." in it races them, and they take a core)
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd nc unshare chroot mount
"$PYTHON" -c 'import ctypes; ctypes.CDLL(None).syscall' 2>/dev/null ||
	skip "needs python ctypes"

# The provider: its own root (chroot), an echo server on /run/app.sock,
# and a symlink that walks ".." 580 times to come back to /run.
R=$T/root
mkdir -p "$R/usr" "$R/run/x" "$R/tmp" "$R/proc" "$R/dev"
ln -s usr/bin "$R/bin"
ln -s usr/lib "$R/lib"
[ -e /lib64 ] && ln -s usr/lib64 "$R/lib64"
cp "$TOP/tests/helpers/pvxtool.py" "$R/pvxtool.py"
ln -s "/run$(printf '/../run%.0s' $(seq 580))" "$R/run/l"
unshare -m --propagation private sh -c \
	"mount --rbind /usr '$R/usr' && exec chroot '$R' python3 /pvxtool.py echo /run/app.sock --tag IN" \
	>"$T/root.log" 2>&1 &
root_pid=$!
on_cleanup "kill $root_pid"
wait_for 5 test -S "$R/run/app.sock"
sock="/run/$(printf 'l/%.0s' $(seq 38))app.sock"

eg=$(free_port)
p_in=$(free_port)
p_good=$(free_port)
bg good $PVXTOOL echo "127.0.0.1:$eg" --tag GOOD
wait_for 5 port_open "$eg"
graph "$(ingress racy "127.0.0.1:$p_in" "$sock" rootapp "$root_pid")" \
	"$(ingress good "127.0.0.1:$p_good" "127.0.0.1:$eg")"
tag() { $PVXTOOL tag "127.0.0.1:$1" 2>/dev/null || true; }

# --- 1. openat2 answers EAGAIN, always.
cat >"$T/eagain.py" <<'PY'
# Runs argv[1:] with openat2 (437 on every Linux ABI we build for)
# answering EAGAIN: a seccomp filter, inherited across execve.
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
def insn(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)
prog = (insn(0x20, 0, 0, 0) +                    # ld  seccomp_data.nr
        insn(0x15, 0, 1, 437) +                  # jeq openat2
        insn(0x06, 0, 0, 0x00050000 | 11) +      # ret ERRNO(EAGAIN)
        insn(0x06, 0, 0, 0x7fff0000))            # ret ALLOW
buf = ctypes.create_string_buffer(prog, len(prog))
class FProg(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fp = FProg(len(prog) // 8, ctypes.addressof(buf))
if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, ctypes.byref(fp), 0, 0):
    sys.exit("seccomp: %s" % os.strerror(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
PY
"$PYTHON" "$T/eagain.py" "$PVX" --graph "$T/graph.json" >"$T/pvx1.log" 2>&1 &
pid1=$!
# SIGTERM is handled by the event loop: a stuck loop needs SIGKILL.
on_cleanup "kill -9 $pid1"
wait_for 5 port_open "$p_in"
wait_for 5 port_open "$p_good"
assert_eq "$(tag "$p_in")" "" "client of the provider, openat2 EAGAIN"
assert_eq "$(tag "$p_good")" GOOD "the other link, after it"
grep -q "link racy: connect to rootapp:/run/l/.* failed: .*openat2" "$T/pvx1.log" ||
	fail "no connect failure logged for the racy link: $(tail -3 "$T/pvx1.log")"
assert_eq "$(tag "$p_in")" "" "client of the provider, again"
kill -0 "$pid1" 2>/dev/null || fail "pv-xconnect (seccomp) died"
kill "$pid1"
wait "$pid1" 2>/dev/null || true

# --- 2. The real race.
start_pvx
wait_for 5 port_open "$p_in"
wait_for 5 port_open "$p_good"
assert_eq "$(tag "$p_in")" IN "the provider's long path, before the renames"

cat >"$T/renames.py" <<'PY'
# Renames run/x to run/y and back until the stop file appears: at most
# 20 million renames or 60 s.
import os, sys, time
d, stop, started = sys.argv[1:]
end = time.monotonic() + 60
n = 0
open(started, "w").close()
while n < 20000000 and time.monotonic() < end and not os.path.exists(stop):
    for _ in range(1000):
        try:
            os.rename(d + "/x", d + "/y")
            os.rename(d + "/y", d + "/x")
        except FileNotFoundError:
            pass  # the other renamer moved it first
    n += 2000
print("renames", n)
PY
"$PYTHON" "$T/renames.py" "$R/run" "$T/stop" "$T/started1" >"$T/renames1.log" 2>&1 &
r1=$!
"$PYTHON" "$T/renames.py" "$R/run" "$T/stop" "$T/started2" >"$T/renames2.log" 2>&1 &
r2=$!
on_cleanup "touch $T/stop; kill $r1 $r2"
wait_for 5 test -e "$T/started1"
wait_for 5 test -e "$T/started2"

served=0 closed=0
for _ in $(seq 20); do
	case "$(tag "$p_in")" in
	IN) served=$((served + 1)) ;;
	"") closed=$((closed + 1)) ;;
	*) fail "unexpected answer on the racy link" ;;
	esac
done
assert_eq "$(tag "$p_good")" GOOD "the other link, during the renames"
kill -0 "$r1" 2>/dev/null && kill -0 "$r2" 2>/dev/null ||
	fail "the renames ended before the clients did: the loop waited for them"
races=$(grep -c "link racy: connect to .* failed: .*openat2" "$T/pvx.log" || true)
echo "during the renames: racy link served $served, closed $closed ($races logged as racing); the other link answered"
touch "$T/stop"
wait "$r1" "$r2" || fail "renamer: $(cat "$T"/renames*.log)"
cat "$T/renames1.log" "$T/renames2.log"

# After the renames, the provider is served again.
assert_eq "$(tag "$p_in")" IN "the provider's long path, after the renames"
pvx_alive
echo "PASS"
