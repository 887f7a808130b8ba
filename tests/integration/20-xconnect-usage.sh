#!/bin/bash
# pv-xconnect's command line, and a graph with bad entries: bad usage exits
# 2 with one line; bad links are named once and skipped while the good one
# serves; a document that is not JSON keeps the links in effect.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nc

# --- usage
"$PVX" --help | grep -q -- "--graph FILE" || fail "--help does not describe --graph"
for args in "--bogus" "--interval" "--interval 10x" "--interval 0" \
	"--ctrl /x --graph /y" "extra-arg"; do
	set +e
	# shellcheck disable=SC2086
	"$PVX" $args >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	assert_eq "$rc" 2 "exit status of pv-xconnect $args"
	assert_eq "$(wc -l <"$T/err")" 1 "lines of error for '$args'"
	assert_eq "$(wc -c <"$T/out")" 0 "stdout for '$args'"
done

# --- a graph with one good link among bad ones
echo_port=$(free_port)
port=$(free_port)
bad1=$(free_port)
bad2=$(free_port)
bg echo $PVXTOOL echo "127.0.0.1:$echo_port"
wait_for 20 port_open "$echo_port"
graph "$(ingress good "127.0.0.1:$port" "127.0.0.1:$echo_port")" \
	"$(ingress badsock "127.0.0.1:$bad1" "10.0.4.2:80abc")" \
	"$(ingress badtarget "localhost:$bad2" "127.0.0.1:$echo_port")" \
	'{"type":"tcp","name":"nopid","provider":"p","provider_pid":"12","target":"127.0.0.1:1","ingress":"nopid"}' \
	'"not an object"'
start_pvx --interval 100
wait_for 20 port_open "$port"
assert_eq "$(echo hello | nc -N -w 30 127.0.0.1 "$port")" hello "echo through the good link"
grep -q 'link\[1\] (badsock): socket: "10.0.4.2:80abc"' "$T/pvx.log" || fail "bad socket not named"
grep -q 'link\[2\] (badtarget): target: "localhost:' "$T/pvx.log" || fail "bad target not named"
grep -q 'link\[3\] (nopid): provider_pid: "12" is not an integer' "$T/pvx.log" || fail "bad pid not named"
grep -q 'link\[4\]: link: not an object' "$T/pvx.log" || fail "non-object not named"
port_open "$bad1" && fail "a bad link listens"

# Reloading the same graph does not repeat the errors.
reload
reload
assert_eq "$(grep -c 'badsock' "$T/pvx.log")" 1 "lines about badsock after reloads"

# Not JSON: the error is logged, the good link keeps serving.
echo '[{"type": "tcp", ' >"$T/graph.json"
reload
grep -q "graph: not valid JSON" "$T/pvx.log" || fail "broken document not reported"
assert_eq "$(echo again | nc -N -w 30 127.0.0.1 "$port")" again "echo after a broken document"
pvx_alive

# SIGTERM: listeners closed, exit 0.
kill -TERM "$PVX_PID"
set +e
wait "$PVX_PID"
rc=$?
set -e
assert_eq "$rc" 0 "exit status on SIGTERM"
port_open "$port" && fail "port still open after exit"
echo "PASS"
