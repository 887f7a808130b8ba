#!/bin/bash
# HTTP consumer links: a consumer container's requirement of type http
# with a target IP:PORT/PATH is served inside the consumer's network
# namespace (not on the host's), two of them on one port share a site
# there, each with its own route and backend; the site follows the
# consumer when it restarts with a new namespace.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
. "$TOP/tests/helpers/http.sh"
need_root
need_cmd curl unshare nsenter ss ip

read -r api_port web_port <<<"$(free_ports 2 | tr "\n" " ")"
backend api "127.0.0.1:$api_port"
backend web "127.0.0.1:$web_port"

# A "container": a process in a network namespace of its own, loopback up.
start_consumer() {
	unshare -n sh -c 'ip link set lo up && exec sleep 600' &
	consumer=$!
	on_cleanup "kill $consumer"
	wait_for 20 sh -c "nsenter -t $consumer -n ip -o addr show lo | grep -q 127.0.0.1"
}
in_consumer() { nsenter -t "$consumer" -n "$@"; }
# http_consumer NAME PID TARGET SOCKET: a consumer link of type http.
http_consumer() {
	printf '{"type":"http","name":"%s","consumer":"client","consumer_pid":%s,"provider":"_host_","provider_pid":0,"role":"client","interface":null,"target":"%s","socket":"%s"}' \
		"$1" "$2" "$3" "$4"
}
links() {
	graph "$(http_consumer api "$1" "127.0.0.1:8080/api" "127.0.0.1:$api_port")" \
		"$(http_consumer web "$1" "127.0.0.1:8080" "127.0.0.1:$web_port")"
}
get() { in_consumer curl -sS --max-time 10 "$@"; }

start_consumer
first=$consumer
links "$consumer"
start_pvx
wait_for 20 in_consumer sh -c "ss -Htln 'sport = :8080' | grep -q 127.0.0.1:8080"
assert_eq "$(json_field "$(get http://127.0.0.1:8080/api/v1/x?q=1)" name)" api "backend of /api/v1/x inside the consumer"
assert_eq "$(json_field "$(get http://127.0.0.1:8080/api/v1/x?q=1)" path)" "/v1/x?q=1" "path the api backend got"
assert_eq "$(json_field "$(get http://127.0.0.1:8080/other)" name)" web "backend of /other inside the consumer"
# The client the backend sees forwarded is the consumer's own loopback.
assert_eq "$(header_of "$(get http://127.0.0.1:8080/other)" X-Forwarded-For)" 127.0.0.1 "X-Forwarded-For of a consumer's request"
# The host's loopback has no such listener from us.
if ss -Htlnp "sport = :8080" | grep -q "pv-xconnect"; then
	fail "pv-xconnect listens on the host's port 8080 for a consumer link"
fi

# The consumer restarts with a new namespace: the site moves with it.
links 0
reload
kill "$first"
start_consumer
links "$consumer"
reload
wait_for 20 in_consumer sh -c "ss -Htln 'sport = :8080' | grep -q 127.0.0.1:8080"
assert_eq "$(json_field "$(get http://127.0.0.1:8080/api/again)" path)" /again "the api route after the consumer restarted"
assert_eq "$(json_field "$(get http://127.0.0.1:8080/)" name)" web "the / route after the consumer restarted"

kill -0 "$PVX_PID" || fail "pv-xconnect died: $(tail "$T/pvx.log")"
echo "ok"
