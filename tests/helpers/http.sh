# For the http link scenarios (65-68); source after ../lib.sh and
# xconnect.sh.
#
#   http_link NAME TARGET SOCKET [EXTRA_JSON [PROVIDER [PID]]]   one link (JSON)
#   start_http_proxy PORT...   the proxy under test on the graph in
#                              $T/graph.json, waits until PORT... accept;
#                              its pid in PROXY_PID
#   backend NAME LISTEN [ARGS...]   tests/helpers/httpbackend.py in the
#                              background, log $T/NAME.req, raw $T/NAME.raw
#   status_of URL [CURL_ARGS...]    the status code curl got
#   pvx_only WHAT              true unless the proxy is the reference one
#
# The proxy under test is PVX_HTTP_PROXY: pv-xconnect (default) or haproxy
# (HAProxy 2.6 in mode http, configured from the same graph by
# graph2haproxy.py: the reference the scenarios are proven against).

PVX_HTTP_PROXY=${PVX_HTTP_PROXY:-pv-xconnect}
case "$PVX_HTTP_PROXY" in
pv-xconnect | haproxy) ;;
*) fail "PVX_HTTP_PROXY: '$PVX_HTTP_PROXY' is not pv-xconnect or haproxy" ;;
esac

http_link() {
	_extra=${4:-}
	printf '{"type":"http","name":"%s","consumer":"EXTERNAL","consumer_pid":0,"provider":"%s","provider_pid":%s,"role":"EXTERNAL","interface":null,"target":"%s","socket":"%s","ingress":"%s"%s}' \
		"$1" "${5:-_host_}" "${6:-0}" "$2" "$3" "$1" "${_extra:+,$_extra}"
}

start_http_proxy() {
	case "$PVX_HTTP_PROXY" in
	haproxy)
		need_cmd haproxy
		"$PYTHON" "$TOP/tests/helpers/graph2haproxy.py" "$T/graph.json" >"$T/haproxy.cfg" ||
			fail "graph2haproxy.py could not convert $T/graph.json"
		haproxy -c -q -f "$T/haproxy.cfg" >"$T/haproxy-check.log" 2>&1 ||
			fail "haproxy refused its configuration: $(cat "$T/haproxy-check.log")"
		haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
		PROXY_PID=$!
		on_cleanup "kill $PROXY_PID"
		;;
	pv-xconnect)
		start_pvx
		PROXY_PID=$PVX_PID
		;;
	esac
	for _p in "$@"; do
		_i=0
		while ! port_open "$_p"; do
			_i=$((_i + 1))
			kill -0 "$PROXY_PID" 2>/dev/null ||
				fail "$PVX_HTTP_PROXY ended before listening on 127.0.0.1:$_p"
			[ $_i -lt 200 ] ||
				fail "$PVX_HTTP_PROXY does not listen on the http link's 127.0.0.1:$_p after 10 s (is there an http engine?)"
			sleep 0.05
		done
	done
	echo "proxy under test: $PVX_HTTP_PROXY (pid $PROXY_PID)"
}

# pvx_only WHAT: true for pv-xconnect; for the reference proxy, which cannot
# be configured to do what the spec says there, says so and is false.
pvx_only() {
	[ "$PVX_HTTP_PROXY" = pv-xconnect ] && return 0
	echo "not checked against $PVX_HTTP_PROXY (pv-xconnect only): $*"
	return 1
}

proxy_alive() {
	kill -0 "$PROXY_PID" 2>/dev/null || fail "$PVX_HTTP_PROXY died"
}

backend() {
	_name=$1 _listen=$2
	shift 2
	"$PYTHON" "$TOP/tests/helpers/httpbackend.py" "$_listen" --name "$_name" \
		--log "$T/$_name.req" --raw "$T/$_name.raw" "$@" >"$T/$_name.log" 2>&1 &
	on_cleanup "kill $!"
	case "$_listen" in
	/*) wait_for 20 test -S "$_listen" ;;
	*) wait_for 20 grep -q listening "$T/$_name.log" ;;
	esac
}

status_of() {
	_url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@" "$_url" || true
}

# json_field JSON FIELD: a top-level field of a backend's JSON answer.
json_field() {
	printf '%s' "$1" | "$PYTHON" -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(v if not isinstance(v,(list,dict)) else json.dumps(v))' "$2" 2>/dev/null ||
		echo "(no field $2 in: $1)"
}

# header_of JSON NAME: every value of header NAME the backend saw, joined
# with ", " (as RFC 9110 5.3 combines them); empty when none.
header_of() {
	printf '%s' "$1" | "$PYTHON" -c '
import json, sys
h = json.load(sys.stdin)["headers"]
print(", ".join(v for k, v in h if k.lower() == sys.argv[1].lower()))' "$2" 2>/dev/null ||
		echo "(no headers in: $1)"
}
