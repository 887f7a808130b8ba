#!/bin/bash
# Http links (docs/http.md): one proxy port, real nginx as a pool of two
# servers behind `/` (roundrobin) and a Python app on a Unix socket behind
# `/api`. Routing and prefix strip, nginx's own 404 passed through,
# keep-alive reuse on both sides, 8 MiB uploads (Content-Length, chunked,
# Expect: 100-continue) and an 8 MiB download with SHA-256 identical, HEAD
# and 204/304 without bodies, pipelined answers in order, an upgrade echo
# with a half-close, X-Forwarded-*, hop-by-hop headers dropped.
#
# PVX_HTTP_PROXY=pv-xconnect (default) or haproxy: the proxy under test.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
. "$TOP/tests/helpers/http.sh"
need_cmd nginx curl sha256sum
CLIENT="$PYTHON $TOP/tests/helpers/httpclient.py"

read -r n1 n2 P <<<"$(free_ports 3 | tr "\n" " ")"
mkdir -p "$T/www" "$T/nginx-tmp"
echo "hello from nginx" >"$T/www/index.html"
head -c $((8 << 20)) /dev/urandom >"$T/www/big.bin"
cat >"$T/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events { worker_connections 1024; }
http {
	log_format conns '\$server_port \$connection \$connection_requests "\$request"';
	access_log $T/nginx-access.log conns;
	client_body_temp_path $T/nginx-tmp;
	proxy_temp_path $T/nginx-tmp;
	fastcgi_temp_path $T/nginx-tmp;
	uwsgi_temp_path $T/nginx-tmp;
	scgi_temp_path $T/nginx-tmp;
	keepalive_requests 1000;
	server {
		listen 127.0.0.1:$n1;
		listen 127.0.0.1:$n2;
		root $T/www;
		location = /who { return 200 "\$server_port\n"; }
	}
}
EOF
chmod -R a+rX "$T"
nginx -c "$T/nginx.conf" -e "$T/nginx-error.log" >"$T/nginx.log" 2>&1 &
on_cleanup "kill $!"
wait_for 20 port_open "$n1"
wait_for 20 port_open "$n2"
backend app "$T/app.sock"

# Both nginx servers are _host_ backends of rule web, told apart by their
# address (a link is the rule and its provider, and a _host_ one's socket).
graph "$(http_link web "127.0.0.1:$P" "127.0.0.1:$n1" '"balance":"roundrobin"')" \
	"$(http_link web "127.0.0.1:$P" "127.0.0.1:$n2" '"balance":"roundrobin"')" \
	"$(http_link api "127.0.0.1:$P/api" "$T/app.sock")"
start_http_proxy "$P"
U=http://127.0.0.1:$P
get() { curl -sS --max-time 20 "$@"; }

# Routing: longest prefix on a segment boundary, the prefix stripped, the
# query kept.
assert_eq "$(get "$U/")" "hello from nginx" "GET / (nginx's page)"
for case in "/api/x /x" "/api/v1/x /v1/x" "/api?q=1 /?q=1" "/api /" "/api/ /" "/api/x?a=b&c=d /x?a=b&c=d"; do
	set -- $case
	got=$(get "$U$1")
	assert_eq "$(json_field "$got" path)" "$2" "path the app saw for $1"
done
echo "routing: /api/x -> /x, /api?q=1 -> /?q=1, /api -> /"
# /apix is not under /api: it goes to `/`, nginx, whose own 404 (status
# and body) reaches the client.
code=$(curl -s -o "$T/apix.body" -w '%{http_code}' --max-time 20 "$U/apix")
assert_eq "$code" 404 "status of /apix (nginx's 404)"
grep -q "<center>nginx/" "$T/apix.body" ||
	fail "body of /apix: want nginx's 404 page, got: $(head -c 300 "$T/apix.body")"
grep -q '"GET /apix HTTP/1.1"' "$T/nginx-access.log" ||
	fail "nginx never saw /apix: $(tail -5 "$T/nginx-access.log")"
echo "404 passthrough: /apix -> nginx's own 404"

# Roundrobin over the two nginx servers.
whos=""
for i in 1 2 3 4; do whos="$whos $(get "$U/who")"; done
for n in $n1 $n2; do
	case "$whos" in *"$n"*) ;; *) fail "roundrobin: server $n never answered in 4 requests ($whos)" ;; esac
done
echo "roundrobin: both nginx servers answered ($whos)"

# Keep-alive: curl reuses its client connection, and 20 requests on it
# reach nginx over fewer TCP connections than requests.
urls=""
for i in $(seq 1 20); do urls="$urls $U/index.html?ka=$i"; done
# shellcheck disable=SC2086
curl -sv --max-time 30 $urls >/dev/null 2>"$T/curl-ka.err" || fail "keep-alive curl: $(tail "$T/curl-ka.err")"
reused=$(grep -ci "Re-using existing connection" "$T/curl-ka.err" || true)
[ "$reused" -ge 19 ] || fail "client keep-alive: want 19 'Re-using existing connection' in curl -v, got $reused"
wait_for 10 sh -c "[ \$(grep -c '?ka=' '$T/nginx-access.log') -ge 20 ]"
conns=$(grep '?ka=' "$T/nginx-access.log" | awk '{print $1 "/" $2}' | sort -u | wc -l)
[ "$conns" -lt 20 ] || fail "backend keep-alive: 20 requests reached nginx over $conns connections, want fewer: $(grep '?ka=' "$T/nginx-access.log")"
echo "keep-alive: curl reused its connection 19 times; nginx saw 20 requests on $conns connection(s)"

# 8 MiB uploads to the app, hashed there: Content-Length with Expect:
# 100-continue (curl waits for the 100), and chunked.
want=$(sha256sum <"$T/www/big.bin" | cut -d' ' -f1)
got=$(curl -sS -v --max-time 60 -H 'Expect: 100-continue' --data-binary @"$T/www/big.bin" "$U/api/upload" 2>"$T/curl-100.err") ||
	fail "Content-Length upload: $(tail "$T/curl-100.err")"
assert_eq "$(json_field "$got" sha256)" "$want" "SHA-256 of the 8 MiB Content-Length upload, at the app"
assert_eq "$(json_field "$got" bytes)" $((8 << 20)) "bytes of the Content-Length upload at the app"
grep -q "^< HTTP/1.1 100 Continue" "$T/curl-100.err" ||
	fail "Expect: 100-continue: curl got no '100 Continue': $(grep '^[<>]' "$T/curl-100.err" | head)"
got=$(curl -sS --max-time 60 -T - -H 'Transfer-Encoding: chunked' "$U/api/chunked" <"$T/www/big.bin") ||
	fail "chunked upload failed"
assert_eq "$(json_field "$got" sha256)" "$want" "SHA-256 of the 8 MiB chunked upload, at the app"
assert_eq "$(json_field "$got" method)" PUT "method of the chunked upload"
got=$(get "$U/big.bin" | sha256sum | cut -d' ' -f1)
assert_eq "$got" "$want" "SHA-256 of the 8 MiB download from nginx"
# A chunked answer of 8 MiB from the app, its SHA-256 in a header.
curl -sS --max-time 60 -D "$T/chunked.hdr" "$U/api/chunked/$((8 << 20))" >"$T/chunked.body" ||
	fail "chunked download failed"
assert_eq "$(sha256sum <"$T/chunked.body" | cut -d' ' -f1)" \
	"$(tr -d '\r' <"$T/chunked.hdr" | awk -F': ' 'tolower($1) == "x-sha256" {print $2}')" \
	"SHA-256 of the 8 MiB chunked download against the app's X-Sha256"
assert_eq "$(stat -c %s "$T/chunked.body")" $((8 << 20)) "bytes of the chunked download"
echo "8 MiB: Content-Length upload (100-continue), chunked upload, download, chunked download: SHA-256 ${want:0:16}... identical"

# HEAD, 204 and 304 carry no body, and pipelined requests are answered in
# order: every answer is framed by its own head, nothing left over.
$CLIENT pipeline "$P" HEAD:/ GET:/api/status/204 GET:/api/first HEAD:/api/head \
	GET:/api/status/304 GET:/who GET:/api/last >"$T/pipe.out" 2>&1 ||
	fail "pipelined requests: $(cat "$T/pipe.out")"
assert_eq "$(awk '{printf "%s%s ", $1, ($1 == 200 || $1 == 204 || $1 == 304) && $2 == 0 ? "/empty" : ""}' "$T/pipe.out")" \
	"200/empty 204/empty 200 200/empty 304/empty 200 200 " "statuses of 7 pipelined answers (HEAD, 204, 304 without a body)"
assert_eq "$(awk '{print $4}' "$T/pipe.out" | tr '\n' ' ')" "- - /first - - - /last " "paths of the pipelined answers, in order"
echo "pipelining: 7 answers in order; HEAD, 204, 304 without bodies"

# HTTP/1.0 clients: answered, then closed (curl -0 says HTTP/1.0).
got=$(curl -sS -0 --max-time 20 "$U/api/ten")
assert_eq "$(json_field "$got" path)" /ten "path the app saw for an HTTP/1.0 request"
assert_eq "$(curl -sS -0 --max-time 20 "$U/")" "hello from nginx" "nginx's page to an HTTP/1.0 client"
# What the app answers 1.1 clients chunked reaches a 1.0 client as a body
# it can read: the backend was asked in HTTP/1.0, so no chunk framing.
curl -sS -0 --max-time 60 -D "$T/c10.hdr" "$U/api/chunked/$((1 << 20))" >"$T/c10.body" ||
	fail "HTTP/1.0 download of a chunked answer failed"
assert_eq "$(sha256sum <"$T/c10.body" | cut -d' ' -f1)" \
	"$(tr -d '\r' <"$T/c10.hdr" | awk -F': ' 'tolower($1) == "x-sha256" {print $2}')" \
	"SHA-256 of a 1 MiB answer to an HTTP/1.0 client (no chunk framing in it)"
grep -qi '^transfer-encoding' "$T/c10.hdr" && fail "an HTTP/1.0 client got Transfer-Encoding: $(cat "$T/c10.hdr")"

# An upgrade: 101, then a 1 MiB echo through the tunnel, half-close.
out=$($CLIENT upgrade "$P" /api/ws 2>&1) || fail "upgrade echo: $out"
echo "upgrade: $out"

# X-Forwarded-For appended to the client's, -Proto, -Host; Host passed.
got=$(get -H 'Host: example.test:8080' -H 'X-Forwarded-For: 10.9.9.9' "$U/api/h")
assert_eq "$(header_of "$got" X-Forwarded-For)" "10.9.9.9, 127.0.0.1" "X-Forwarded-For at the app"
assert_eq "$(header_of "$got" X-Forwarded-Proto)" http "X-Forwarded-Proto at the app"
assert_eq "$(header_of "$got" X-Forwarded-Host)" example.test:8080 "X-Forwarded-Host at the app"
assert_eq "$(header_of "$got" Host)" example.test:8080 "Host at the app"

# Hop-by-hop: what Connection lists, and Keep-Alive, stay on the client's
# hop; an end-to-end header goes through. (HAProxy 2.6 forwards the headers
# Connection names: pv-xconnect only.)
got=$(get -H 'Connection: keep-alive, X-Hop' -H 'X-Hop: secret' -H 'Keep-Alive: timeout=5' \
	-H 'X-End: kept' "$U/api/hop")
assert_eq "$(header_of "$got" X-End)" kept "X-End (end to end) at the app"
if pvx_only "hop-by-hop headers named in Connection dropped"; then
	assert_eq "$(header_of "$got" X-Hop)" "" "X-Hop (listed in Connection) at the app"
	assert_eq "$(header_of "$got" Keep-Alive)" "" "Keep-Alive at the app"
fi
echo "headers: X-Forwarded-For/-Proto/-Host set, hop-by-hop dropped"

proxy_alive
echo "PASS ($PVX_HTTP_PROXY)"
