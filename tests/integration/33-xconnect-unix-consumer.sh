#!/bin/bash
# Consumer links of type unix, without containers: the consumer is a
# process in a mount namespace of its own with a tmpfs on /run. The proxy
# makes the socket at the link's target inside that root (mode 0666,
# directories created), forwards to the provider's socket, refuses
# targets whose way goes through a symlink or ends on a file that is not
# a socket, follows the consumer when it restarts, keeps the socket while
# the provider is down, and removes it with the link. rest links: a path
# target as unix, an address target as tcp (in the consumer's netns).
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd unshare nsenter curl jq

unix_link() {
	printf '{"type":"unix","name":"%s","consumer":"%s","consumer_pid":%s,"provider":"%s","provider_pid":%s,"role":"any","interface":"unix","target":"%s","socket":"%s"}' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7"
}

# The provider: an echo server on a socket in its root (ours, /).
start_provider() {
	rm -f "$T/backend.sock"
	$PVXTOOL echo "$T/backend.sock" --tag PROVIDER >"$T/provider.log" 2>&1 &
	provider=$!
	on_cleanup "kill $provider 2>/dev/null"
	wait_for 20 test -S "$T/backend.sock"
}

# A "container": a mount namespace with /run a tmpfs of its own.
start_consumer() {
	unshare -m --propagation private sh -c \
		'mount -t tmpfs tmpfs /run && exec sleep 600' &
	consumer=$!
	on_cleanup "kill $consumer 2>/dev/null"
	wait_for 20 sh -c "[ \"\$(cat /proc/$consumer/comm)\" = sleep ]"
}
croot() { echo "/proc/$consumer/root$1"; }
in_consumer() { nsenter -t "$consumer" -m "$@"; }
target=/run/pv/services/raw-unix.sock

start_provider
start_consumer
first=$consumer
link() { unix_link raw-unix app "$consumer" nginx "$provider" "$1" "$T/backend.sock"; }
stats=$(free_port)
graph "$(link $target)"
start_pvx --stats "127.0.0.1:$stats"
wait_for 20 grep -q "link raw-unix: listening on $target in the root of pid $consumer" "$T/pvx.log"
test -S "$(croot $target)" || fail "no socket in the consumer's root"
[ ! -e $target ] || fail "the socket appeared on the host"
assert_eq "$(stat -c %a "$(croot $target)")" 666 "socket mode"
assert_eq "$(stat -c %a "$(croot /run/pv/services)")" 755 "directory mode"
assert_eq "$(in_consumer $PVXTOOL tag $target)" PROVIDER "tag seen inside the consumer"
in_consumer $PVXTOOL stream $target --mb 4 --skip-tag >"$T/s.out" 2>&1 ||
	fail "stream from inside the consumer: $(cat "$T/s.out")"
# The figures count the link's sessions and bytes.
status() { curl -s "http://127.0.0.1:$stats/status"; }
fe='.frontends[] | select(.name == "raw-unix")'
assert_eq "$(status | jq -r "$fe | .kind + \" \" + .target + \" \" + .health")" \
	"consumer $target up" "status of the frontend"
[ "$(status | jq "$fe | .sessions_total")" -ge 2 ] || fail "sessions: $(status)"
[ "$(status | jq "$fe | .bytes_in")" -ge 4194304 ] || fail "bytes: $(status)"
metrics=$(curl -s "http://127.0.0.1:$stats/metrics")
echo "$metrics" | grep -q "pvx_frontend_sessions_total{frontend=\"raw-unix\",consumer=\"app\",target=\"$target\"} [2-9]" ||
	fail "metrics: $(curl -s "http://127.0.0.1:$stats/metrics" | grep raw-unix)"
page=$(curl -s "http://127.0.0.1:$stats/")
echo "$page" | grep -q "$target" || fail "stats page"

# Hostile consumers: what it planted is left alone, nothing appears
# outside its root, the link says why, once.
mkdir "$T/hostdir"
printf 'keep' >"$(croot /run/file.sock)"
ln -s "$T/hostdir" "$(croot /run/tohost)"
ln -s /proc/self/cwd "$(croot /run/procself)"
ln -s loopb "$(croot /run/loopa)"
ln -s loopa "$(croot /run/loopb)"
mkdir "$(croot /run/adir.sock)"
ln -s "$T/hostdir/x.sock" "$(croot /run/link.sock)"
graph "$(link $target)" \
	"$(unix_link file app "$consumer" nginx "$provider" /run/file.sock "$T/backend.sock")" \
	"$(unix_link tohost app "$consumer" nginx "$provider" /run/tohost/x.sock "$T/backend.sock")" \
	"$(unix_link procself app "$consumer" nginx "$provider" /run/procself/x.sock "$T/backend.sock")" \
	"$(unix_link loop app "$consumer" nginx "$provider" /run/loopa/x.sock "$T/backend.sock")" \
	"$(unix_link adir app "$consumer" nginx "$provider" /run/adir.sock "$T/backend.sock")" \
	"$(unix_link link app "$consumer" nginx "$provider" /run/link.sock "$T/backend.sock")" \
	"$(unix_link dotdot app "$consumer" nginx "$provider" /run/../../x.sock "$T/backend.sock")"
reload
said() { wait_for 20 grep -q "link $1: socket $2 in the root of pid $consumer: $3, retrying" "$T/pvx.log"; }
said file /run/file.sock "a regular file is there, left alone"
said tohost /run/tohost/x.sock "/run/tohost is a symlink, not followed"
said procself /run/procself/x.sock "/run/procself is a symlink, not followed"
said loop /run/loopa/x.sock "/run/loopa is a symlink, not followed"
said adir /run/adir.sock "a directory is there, left alone"
said link /run/link.sock "a symlink is there, left alone"
said dotdot /run/../../x.sock 'the path has a ".." component'
assert_eq "$(cat "$(croot /run/file.sock)")" keep "the regular file"
assert_eq "$(ls -A "$T/hostdir" | wc -l)" 0 "files in the host directory"
[ ! -e /x.sock ] || fail "a socket at the host's /x.sock"
[ -L "$(croot /run/link.sock)" ] || fail "the symlink at the target was replaced"
assert_eq "$(status | jq -r '.frontends[] | select(.name == "file") | .reason')" \
	"a regular file is there, left alone" "reason in the status"
# Once each, not at every retry (one a second): over two of them.
sleep 2.2
assert_eq "$(grep -c "link file: socket /run/file.sock" "$T/pvx.log")" 1 "lines about the refused target"
# The good link is unaffected.
assert_eq "$(in_consumer $PVXTOOL tag $target)" PROVIDER "tag beside the refused links"
# The consumer removes its file: the retry makes the socket.
rm "$(croot /run/file.sock)"
wait_for 20 test -S "$(croot /run/file.sock)"
assert_eq "$(in_consumer $PVXTOOL tag /run/file.sock)" PROVIDER "tag once the file is gone"

# The provider stops: the consumer's sessions end at once, new clients
# are closed at once, the socket stays; it comes back with a new pid.
graph "$(link $target)"
reload
in_consumer $PVXTOOL hold $target --seconds 60 --skip-tag >"$T/hold.out" 2>&1 &
hold=$!
on_cleanup "kill $hold 2>/dev/null"
wait_for 20 grep -q connected "$T/hold.out"
kill "$provider"
wait_for 20 gone "$hold"
if wait "$hold"; then fail "the held session survived its provider"; fi
wait_for 20 grep -q "provider nginx (pid $provider) exited" "$T/pvx.log"
assert_eq "$(in_consumer $PVXTOOL tag $target --timeout 10 2>/dev/null || true)" "" "tag while the provider is down"
test -S "$(croot $target)" || fail "the socket went with the provider"
start_provider
graph "$(link $target)"
reload
wait_for 20 sh -c "[ \"\$(nsenter -t $consumer -m $PVXTOOL tag $target 2>/dev/null)\" = PROVIDER ]"

# The consumer restarts: the socket is made again in its new root.
kill "$first"
wait_for 20 gone "$first"
start_consumer
graph "$(link $target)"
reload
wait_for 20 grep -q "link raw-unix: listening on $target in the root of pid $consumer" "$T/pvx.log"
test -S "$(croot $target)" || fail "no socket in the new root"
assert_eq "$(in_consumer $PVXTOOL tag $target)" PROVIDER "tag after the consumer restarted"

# rest links: a path target is a socket as for unix, an address target
# a listener in the consumer's network namespace (here the host's), as
# for tcp.
rest_port=$(free_port)
rest_link() {
	printf '{"type":"rest","name":"%s","consumer":"app","consumer_pid":%s,"provider":"nginx","provider_pid":%s,"role":"any","interface":"rest","target":"%s","socket":"%s"}' \
		"$1" "$consumer" "$provider" "$2" "$T/backend.sock"
}
graph "$(link $target)" "$(rest_link api-path /run/api/rest.sock)" \
	"$(rest_link api-port "127.0.0.1:$rest_port")"
reload
wait_for 20 test -S "$(croot /run/api/rest.sock)"
assert_eq "$(in_consumer $PVXTOOL tag /run/api/rest.sock)" PROVIDER "rest link on a path"
wait_for 20 grep -q "link api-port: listening on 127.0.0.1:$rest_port in netns of pid $consumer" "$T/pvx.log"
assert_eq "$($PVXTOOL tag "127.0.0.1:$rest_port")" PROVIDER "rest link on an address"

# The link goes: so does its socket (the directories stay).
graph
reload
wait_for 20 sh -c "[ ! -e $(croot $target) ]"
wait_for 20 sh -c "[ ! -e $(croot /run/api/rest.sock) ]"
test -d "$(croot /run/pv/services)" || fail "the directory went too"
pvx_alive

# With --threads, the main thread alone makes and serves the socket.
kill "$PVX_PID"
wait_for 20 gone "$PVX_PID"
graph "$(link $target)"
start_pvx --threads 2
wait_for 20 grep -q "link raw-unix: listening on $target" "$T/pvx.log"
for i in 1 2 3 4; do
	assert_eq "$(in_consumer $PVXTOOL tag $target)" PROVIDER "tag $i with --threads"
done
if grep -q "is there, left alone" "$T/pvx.log"; then fail "threads fought over the socket"; fi
pvx_alive
echo "PASS"
