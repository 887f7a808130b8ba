#!/bin/bash
# The http plugin's own life cycle and figures (what 65-68 do not cover):
# routes added and removed by a graph change on a shared listener (the
# other route keeps serving), a body read until the backend closes, 503
# and 502 on routes without a usable backend, and the per-request figures
# in the status document and /metrics: requests, answers by status class,
# and the requests no route took; no access log unless asked for.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
. "$TOP/tests/helpers/http.sh"
need_cmd curl sha256sum

read -r port root_port api_port dead_port stats <<<"$(free_ports 5 | tr "\n" " ")"
backend root "127.0.0.1:$root_port"
backend api "127.0.0.1:$api_port"

root() { http_link root "127.0.0.1:$port" "127.0.0.1:$root_port"; }
api() { http_link api "127.0.0.1:$port/api" "127.0.0.1:$api_port"; }
graph "$(root)" "$(api)" \
	"$(http_link nobackend "127.0.0.1:$port/none" "")" \
	"$(http_link refused "127.0.0.1:$port/refused" "127.0.0.1:$dead_port")"
start_pvx --stats "127.0.0.1:$stats"
wait_for 20 port_open "$port"
U=http://127.0.0.1:$port
get() { curl -sS --max-time 20 "$@"; }
fig() { # FRONTEND JQ-PATH: a field of that frontend's http figures
	curl -sS --max-time 10 "http://127.0.0.1:$stats/status" |
		jq -r --arg f "$1" ".frontends[] | select(.name == \$f) | .http$2"
}

assert_eq "$(json_field "$(get "$U/x")" name)" root "backend of /x"
assert_eq "$(json_field "$(get "$U/api/x")" path)" /x "path /api/x reached the api backend as"
assert_eq "$(status_of "$U/none/x")" 503 "a route with no usable backend"
assert_eq "$(status_of "$U/refused")" 502 "a route whose only backend refuses"
# Our own answers to a valid request without a body keep the client's
# connection (as HAProxy's and nginx's do); after one with a body, whose
# bytes were not read, the connection is closed.
# conns [CURL_OPTION...] URL...: for each URL, whether curl opened a
# connection for it and the status (every body to /dev/null).
conns() {
	_args=()
	for _a in "$@"; do
		case $_a in http://*) _args+=(-o /dev/null "$_a") ;; *) _args+=("$_a") ;; esac
	done
	curl -sS --max-time 20 -w '%{num_connects} %{http_code} ' "${_args[@]}"
}
assert_eq "$(conns "$U/none/x" "$U/refused" "$U/x")" "1 503 0 502 0 200 " \
	"connections opened and statuses: 503, 502, then 200 on one connection"
assert_eq "$(conns --data-binary abc "$U/none/x" "$U/x")" "1 503 1 200 " \
	"after a 503 to a request with a body, a new connection"
assert_eq "$(fig nobackend '.responses["5xx"]')" 3 "5xx answers of the route without backend (the proxy's 503s)"
assert_eq "$(fig refused '.responses["5xx"]')" 2 "5xx answers of the refused route (the proxy's 502s)"
m=$(curl -sS --max-time 10 "http://127.0.0.1:$stats/metrics")
grep -q "^pvx_http_responses_total{frontend=\"refused\",.*code=\"5xx\"} 2\$" <<<"$m" ||
	fail "pvx_http_responses_total 5xx of refused: want 2, got: $(grep 'refused.*5xx' <<<"$m")"

# A body without a length, read until the backend closes: whole, and the
# client's connection is closed after it (its end is the body's end).
curl -sS --max-time 30 -D "$T/uc.hdr" "$U/api/until-close/$((1 << 20))" >"$T/uc.body"
assert_eq "$(sha256sum <"$T/uc.body" | cut -d' ' -f1)" \
	"$(tr -d '\r' <"$T/uc.hdr" | awk -F': ' 'tolower($1) == "x-sha256" {print $2}')" \
	"SHA-256 of a 1 MiB body read until close"

# The graph drops `/`: its requests get 404 from the proxy, /api serves on
# over the same listener; `/` back, it serves again.
graph "$(api)"
reload
assert_eq "$(status_of "$U/other")" 404 "/other once the / route is removed"
assert_eq "$(conns -I "$U/other" "$U/api/x")" "1 404 0 200 " \
	"HEAD: a 404 (no body: the next answer is read right), then /api/x on the same connection"
assert_eq "$(json_field "$(get "$U/api/still")" path)" /still "/api after / was removed"
graph "$(root)" "$(api)"
reload
assert_eq "$(json_field "$(get "$U/back")" name)" root "backend of /back once / is back"

# Figures: root's count started again when it came back (/back: a route
# removed and added again is a new frontend, as a tcp rule's is); api
# served /x, /until-close, /still and HEAD /x; /other (GET and HEAD) was
# nobody's.
assert_eq "$(fig root .requests)" 1 "requests counted for root since it came back"
assert_eq "$(fig root '.responses["2xx"]')" 1 "2xx answers of root"
assert_eq "$(fig api .requests)" 4 "requests counted for api"
# Each request counts as a session on the backend that served it (what
# leastconn compares), and none is left open once answered.
be() { # FIELD of api's backend
	curl -sS --max-time 10 "http://127.0.0.1:$stats/status" |
		jq -r ".frontends[] | select(.name == \"api\") | .backends[0].$1"
}
assert_eq "$(be sessions_total)" 4 "sessions counted on api's backend"
assert_eq "$(be sessions_now)" 0 "sessions open on api's backend once all were answered"
assert_eq "$(curl -sS --max-time 10 "http://127.0.0.1:$stats/status" | jq -r '.plugins.http.unrouted')" 2 \
	"requests no route took"
m=$(curl -sS --max-time 10 "http://127.0.0.1:$stats/metrics")
grep -q "^pvx_http_requests_total{frontend=\"api\",.*} 4\$" <<<"$m" ||
	fail "pvx_http_requests_total of api: want 4, got: $(grep pvx_http_requests_total <<<"$m")"

# No access log unless asked for (36 asks).
! grep -q "\[access\]" "$T/pvx.log" || fail "access-log lines without --access-log"
kill -0 "$PVX_PID" || fail "pv-xconnect died: $(tail "$T/pvx.log")"
echo "ok"
