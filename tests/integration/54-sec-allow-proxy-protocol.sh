#!/bin/bash
# The allow list and the PROXY protocol, seen by a real backend: nginx
# with "listen ... proxy_protocol" (it refuses a connection without a
# valid header) answers each request with $proxy_protocol_addr and
# $proxy_protocol_port. Clients come from 127.0.0.5 (allowed) and
# 127.0.0.6 (not), and from ::1: nginx must see exactly the client's
# address and port, over v1 and v2, IPv4 and IPv6; a client outside the
# allow list is closed before any connection to nginx.
# (21-xconnect-tcp checks both headers byte for byte with a Python backend.)
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nginx curl nc

np=$(free_port)
mkdir -p "$T/nginx-tmp"
cat >"$T/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events { worker_connections 256; }
http {
	log_format pp '\$proxy_protocol_addr \$proxy_protocol_port \$remote_addr \$request_uri';
	access_log $T/access.log pp;
	client_body_temp_path $T/nginx-tmp;
	proxy_temp_path $T/nginx-tmp;
	fastcgi_temp_path $T/nginx-tmp;
	uwsgi_temp_path $T/nginx-tmp;
	scgi_temp_path $T/nginx-tmp;
	server {
		listen 127.0.0.1:$np proxy_protocol;
		location / { return 200 "\$proxy_protocol_addr \$proxy_protocol_port"; }
	}
}
EOF
nginx -c "$T/nginx.conf" -e "$T/nginx-error.log" >"$T/nginx.log" 2>&1 &
on_cleanup "kill $!"
wait_for 20 port_open "$np"
# nginx really wants the header: without one it closes the connection.
if curl -s --max-time 3 "http://127.0.0.1:$np/direct" >/dev/null; then
	fail "nginx answered without a PROXY header"
fi

p1=$(free_port) p2=$(free_port) p6=$(free_port)
allow='"allow":["127.0.0.5/32","::1/128"]'
graph "$(ingress v1 "127.0.0.1:$p1" "127.0.0.1:$np" _host_ 0 "\"proxy_protocol\":\"v1\",$allow")" \
	"$(ingress v2 "127.0.0.1:$p2" "127.0.0.1:$np" _host_ 0 "\"proxy_protocol\":\"v2\",$allow")" \
	"$(ingress v6 "[::1]:$p6" "127.0.0.1:$np" _host_ 0 "\"proxy_protocol\":\"v2\",$allow")"
start_pvx
wait_for 20 port_open "$p1"
wait_for 20 port_open "$p2"
wait_for 20 sh -c "nc -z -w 1 ::1 $p6"

# get URL [curl args]: prints "BODY|LOCAL_IP LOCAL_PORT" (the client's
# own address, as curl saw it).
get() {
	curl -sS --max-time 5 -w '|%{local_ip} %{local_port}' "$@"
}
for v in v1 v2; do
	eval "p=\$p${v#v}"
	out=$(get --interface 127.0.0.5 "http://127.0.0.1:$p/$v")
	body=${out%%|*} me=${out#*|}
	assert_eq "$body" "$me" "$v: the client nginx saw"
	echo "$v: nginx saw the client $body"
done
out=$(get -g "http://[::1]:$p6/v6")
assert_eq "${out%%|*}" "${out#*|}" "v2 over IPv6: the client nginx saw"
echo "v2, IPv6 client: nginx saw ${out%%|*}"
# nginx writes its log line once the answer is out: waited for.
wait_for 30 grep -q "^127.0.0.5 [0-9]* 127.0.0.1 /v1$" "$T/access.log"
wait_for 30 grep -q "^::1 [0-9]* 127.0.0.1 /v6$" "$T/access.log"

# A client outside the allow list: closed, nginx never contacted.
conns() { grep -c "" "$T/access.log"; }
before=$(conns)
for v in 1 2; do
	eval "p=\$p$v"
	rc=0
	curl -s --max-time 5 --interface 127.0.0.6 "http://127.0.0.1:$p/denied" >"$T/denied.out" || rc=$?
	[ $rc -ne 0 ] && [ ! -s "$T/denied.out" ] || fail "127.0.0.6 was served: $(cat "$T/denied.out")"
done
# Allowed again right after: the denials did not upset the listener. Once
# nginx logged this request, it has logged whatever came before it.
out=$(get --interface 127.0.0.5 "http://127.0.0.1:$p2/again")
assert_eq "${out%%|*}" "${out#*|}" "allowed client after denials"
wait_for 30 grep -q " /again$" "$T/access.log"
assert_eq "$(conns)" "$((before + 1))" "requests nginx logged, denied clients' and the next one"
grep -q "denied" "$T/access.log" && fail "a denied client reached nginx"
# nginx logs a connection that closes without a request as nothing, but
# one with a broken header as an error: none of those either.
grep -q "broken header" "$T/nginx-error.log" &&
	[ "$(grep -c "broken header" "$T/nginx-error.log")" -gt 1 ] &&
	fail "nginx saw connections without a valid header: $(grep "broken header" "$T/nginx-error.log")"
pvx_alive
echo "PASS"
