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
assert_eq "$(fig nobackend '.responses["5xx"]')" 1 "5xx answers of the route without backend (the proxy's 503)"
assert_eq "$(fig refused '.responses["5xx"]')" 1 "5xx answers of the refused route (the proxy's 502)"
m=$(curl -sS --max-time 10 "http://127.0.0.1:$stats/metrics")
grep -q "^pvx_http_responses_total{frontend=\"refused\",.*code=\"5xx\"} 1\$" <<<"$m" ||
	fail "pvx_http_responses_total 5xx of refused: want 1, got: $(grep 'refused.*5xx' <<<"$m")"

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
assert_eq "$(json_field "$(get "$U/api/still")" path)" /still "/api after / was removed"
graph "$(root)" "$(api)"
reload
assert_eq "$(json_field "$(get "$U/back")" name)" root "backend of /back once / is back"

# Figures: root's count started again when it came back (/back: a route
# removed and added again is a new frontend, as a tcp rule's is); api
# served /x, /until-close and /still; /other was nobody's.
assert_eq "$(fig root .requests)" 1 "requests counted for root since it came back"
assert_eq "$(fig root '.responses["2xx"]')" 1 "2xx answers of root"
assert_eq "$(fig api .requests)" 3 "requests counted for api"
# Each request counts as a session on the backend that served it (what
# leastconn compares), and none is left open once answered.
be() { # FIELD of api's backend
	curl -sS --max-time 10 "http://127.0.0.1:$stats/status" |
		jq -r ".frontends[] | select(.name == \"api\") | .backends[0].$1"
}
assert_eq "$(be sessions_total)" 3 "sessions counted on api's backend"
assert_eq "$(be sessions_now)" 0 "sessions open on api's backend once all were answered"
assert_eq "$(curl -sS --max-time 10 "http://127.0.0.1:$stats/status" | jq -r '.plugins.http.unrouted')" 1 \
	"requests no route took"
m=$(curl -sS --max-time 10 "http://127.0.0.1:$stats/metrics")
grep -q "^pvx_http_requests_total{frontend=\"api\",.*} 3\$" <<<"$m" ||
	fail "pvx_http_requests_total of api: want 3, got: $(grep pvx_http_requests_total <<<"$m")"

# No access log unless asked for (36 asks).
! grep -q "\[access\]" "$T/pvx.log" || fail "access-log lines without --access-log"
kill -0 "$PVX_PID" || fail "pv-xconnect died: $(tail "$T/pvx.log")"
echo "ok"
