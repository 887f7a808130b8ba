#!/bin/bash
# A consumer container reaching a service on its own loopback: the proxy
# listens on 127.0.0.1:8080 inside the consumer's network namespace (the
# host's loopback does not get that port), follows the consumer when it
# restarts with a new pid, and waits while it is not running.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd nc ip unshare nsenter ss

echo_port=$(free_port)
bg echo $PVXTOOL echo "127.0.0.1:$echo_port" --tag PROVIDER
wait_for 20 port_open "$echo_port"

# A "container": a process in a network namespace of its own, loopback up.
start_consumer() {
	unshare -n sh -c 'ip link set lo up && exec sleep 600' &
	consumer=$!
	on_cleanup "kill $consumer"
	wait_for 20 nsenter -t "$consumer" -n ip -o addr show lo
	wait_for 20 sh -c "nsenter -t $consumer -n ip -o addr show lo | grep -q 127.0.0.1"
}
in_consumer() { nsenter -t "$consumer" -n "$@"; }
target_port=8080
# Another test's port 8080 on the host must not matter: ours is elsewhere.

start_consumer
first=$consumer
graph "$(consumer_link db app "$consumer" "127.0.0.1:$target_port" "127.0.0.1:$echo_port")"
start_pvx
wait_for 20 grep -q "link db: listening on 127.0.0.1:$target_port in netns of pid $consumer" "$T/pvx.log"
assert_eq "$(in_consumer $PVXTOOL tag "127.0.0.1:$target_port")" PROVIDER "tag seen inside the consumer"
in_consumer $PVXTOOL stream "127.0.0.1:$target_port" --mb 8 --skip-tag >"$T/s.out" 2>&1 ||
	fail "stream from inside the consumer: $(cat "$T/s.out")"
# The listener is in the consumer's namespace, not on the host's loopback.
if ss -Htln "sport = :$target_port" | grep -q "127.0.0.1:$target_port"; then
	echo "note: something else listens on the host's 127.0.0.1:$target_port"
fi
in_consumer ss -Htln "sport = :$target_port" | grep -q "127.0.0.1:$target_port" ||
	fail "no listener inside the consumer's namespace"

# The consumer stops (pid 0): nothing to listen in; it comes back with a
# new pid and a new namespace: the listener follows.
graph "$(consumer_link db app 0 "127.0.0.1:$target_port" "127.0.0.1:$echo_port")"
reload
kill "$first"
start_consumer
graph "$(consumer_link db app "$consumer" "127.0.0.1:$target_port" "127.0.0.1:$echo_port")"
reload
wait_for 20 grep -q "link db: listening on 127.0.0.1:$target_port in netns of pid $consumer" "$T/pvx.log"
assert_eq "$(in_consumer $PVXTOOL tag "127.0.0.1:$target_port")" PROVIDER "tag after the consumer restarted"

# A pid that is not running: the listen fails, is said once, and retried.
graph "$(consumer_link db app 999999999 "127.0.0.1:$target_port" "127.0.0.1:$echo_port")"
reload
wait_for 20 grep -q "link db: listen on 127.0.0.1:$target_port in netns of pid 999999999: open network namespace: No such file or directory, retrying" "$T/pvx.log"
# Not said again at the retries (one a second, PVX_BIND_RETRY_MS): a
# negative check, over two of them.
sleep 2.2
assert_eq "$(grep -c "pid 999999999: open network namespace" "$T/pvx.log")" 1 "lines about the failing listen"
# Our own namespace is intact: a host link still binds on the host.
host_port=$(free_port)
graph "$(ingress hostside "127.0.0.1:$host_port" "127.0.0.1:$echo_port")"
reload
wait_for 20 port_open "$host_port"
assert_eq "$($PVXTOOL tag "127.0.0.1:$host_port")" PROVIDER "host link after netns work"
pvx_alive
echo "PASS"
