#!/bin/bash
# No shell: nothing runs a command line built from state values.
#  - The source: the only exec in pvd and pv-xconnect is supervisor.c's
#    execvp of an argv array, and liblxc's start with the container's
#    argv; no system(), popen() or posix_spawn; "/bin/sh" appears only
#    where run.json's documented string form of "exec" becomes
#    ["/bin/sh", "-c", STRING] (the state's author asks for a shell there,
#    and gets exactly that one argument).
#  - Under pvd: a container's argv and env full of shell syntax reach the
#    program verbatim; pv-xconnect gets a --ctrl path with spaces, quotes
#    and $(...) as one argument and uses it.
#  - A device.json value that ends up on pv-xconnect's command line
#    (xconnect.stats) is checked as an address first.
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"

# --- the source
cd "$TOP"
src=$(git ls-files '*.c' | grep -v '^tests/\|^examples/')
[ -n "$src" ] || fail "no sources found"
calls=$(grep -nE '\b(system|popen|execl|execlp|execle|execv|execve|execvp|execvpe|fexecve|posix_spawnp?)[[:space:]]*\(' $src |
	grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)
assert_eq "$(echo "$calls" | sed 's/:.*//' | sort -u)" "supervisor.c" "files that exec"
echo "$calls" | grep -q 'execvp(p->argv\[0\], p->argv)' || fail "supervisor.c's exec: $calls"
assert_eq "$(echo "$calls" | wc -l)" 1 "exec call sites"
assert_eq "$(grep -l '/bin/sh' $src | tr '\n' ' ')" "parser/parser_system1.c " "files naming /bin/sh"
assert_eq "$(grep -c -- '->start(' containers.c)" 1 "liblxc start calls"
grep -q -- '->start(c, 1, ct->p->exec)' containers.c || fail "containers are not started with their argv"
cd - >/dev/null
echo "source: one execvp of an argv array, one liblxc start with the container's argv, no shell"

need_root
need_cmd curl jq lxc-checkconfig
[ -x "$PVX" ] || skip "no $PVX"

# --- under pvd
# A pv-ctrl path that a shell would split, expand and run.
CDIR="$T/c tl;\$(touch $T/INJECTED)'\"\`id\`"
SOCK="$CDIR/pv-ctrl"
"$PYTHON" - "$T/state.json" "$T" <<'PY'
import json, sys
path, t = sys.argv[1:]
args = ["a;b", "$(touch %s/INJECTED)" % t, "`touch %s/INJECTED`" % t,
        "x|y", "> %s/INJECTED" % t, "'\"\\", "$HOME", "*", "two\nlines",
        "&& true", "-e"]
json.dump({
    "#spec": "pantavisor-service-system@1",
    "device.json": {},
    "argv/run.json": {"name": "argv", "type": "lxc", "restart_policy": "no",
        "exec": ["/usr/bin/printf", "[%s]\\n"] + args},
    "env/run.json": {"name": "env", "type": "lxc", "restart_policy": "no",
        "exec": ["/usr/bin/printenv", "EVIL"],
        "env": {"EVIL": "$(touch %s/INJECTED); `id` | x > y" % t}},
}, open(path, "w"))
json.dump(args, open(t + "/args.json", "w"))
PY
mkdir -p "$CDIR"
start_pvd "$T/pvd.log" "$T/state.json" "$T/run" --xconnect "$PVX"
wait_for 60 test -S "$SOCK"
status() { curl -s --max-time 2 --unix-socket "$SOCK" http://l/containers | jq -r ".[] | select(.name==\"$1\") | .status"; }
done_ok() { [ "$(status "$1")" != running ] && [ "$(status "$1")" != starting ] && [ -s "$T/run/$1.log" ]; }
wait_for 60 done_ok argv
wait_for 60 done_ok env

# printf printed each argument, bracketed, exactly as given.
want=$("$PYTHON" -c 'import json,sys; [print("[%s]" % a) for a in json.load(open(sys.argv[1]))]' "$T/args.json")
assert_eq "$(cat "$T/run/argv.log")" "$want" "the container's argv"
assert_eq "$(cat "$T/run/env.log")" "\$(touch $T/INJECTED); \`id\` | x > y" "the container's env"
[ ! -e "$T/INJECTED" ] || fail "a shell ran something from the state"
echo "container: 11 arguments and an env value with shell syntax arrived verbatim"

# pv-xconnect: the ctrl path as one argument, and it works with it.
pvx=$(curl -s --max-time 2 --unix-socket "$SOCK" http://l/daemons | jq -r '.[] | select(.name=="pv-xconnect") | .pid')
[ "$pvx" -gt 0 ] || fail "pv-xconnect not running"
"$PYTHON" - "$pvx" "$SOCK" <<'PY' || fail "pv-xconnect's command line: $(tr '\0' ' ' </proc/$pvx/cmdline)"
import sys
argv = open("/proc/%s/cmdline" % sys.argv[1], "rb").read().split(b"\0")[:-1]
i = argv.index(b"--ctrl")
sys.exit(0 if argv[i + 1] == sys.argv[2].encode() else 1)
PY
reported() { curl -sf --max-time 2 --unix-socket "$SOCK" http://l/xconnect-status | jq -e . >/dev/null; }
wait_for 30 reported
[ ! -e "$T/INJECTED" ] || fail "a shell ran something from the ctrl path"
echo "pv-xconnect: --ctrl '$SOCK' passed as one argument, graph fetched and status reported"
kill -TERM $PID
wait $PID || fail "pvd exit status $?"

# --- a state value bound for pv-xconnect's command line
cat >"$T/bad.json" <<'EOF'
{"#spec":"pantavisor-service-system@1",
 "device.json":{"xconnect":{"stats":"127.0.0.1:8404; reboot"}}}
EOF
rc=0
"$PVD" --check --state "$T/bad.json" >"$T/out" 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "pvd --check with a stats address carrying a command"
grep -q '^device.json: xconnect.stats: ' "$T/err" || fail "no error naming xconnect.stats: $(cat "$T/err")"
echo "PASS"
