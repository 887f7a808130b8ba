#!/bin/bash
# A real nginx behind pv-xconnect, on a loopback port and on a Unix socket,
# alone and mixed in one ingress: pages, a 32 MiB download with its
# SHA-256, parallel clients, and a short bounded wrk run without errors.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nginx curl sha256sum nc

nport=$(free_port)
mkdir -p "$T/www" "$T/nginx-tmp"
echo "hello from nginx" >"$T/www/index.html"
head -c $((32 << 20)) /dev/urandom >"$T/www/big.bin"
cat >"$T/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/nginx-tmp;
	proxy_temp_path $T/nginx-tmp;
	fastcgi_temp_path $T/nginx-tmp;
	uwsgi_temp_path $T/nginx-tmp;
	scgi_temp_path $T/nginx-tmp;
	server {
		listen 127.0.0.1:$nport;
		listen unix:$T/nginx.sock;
		root $T/www;
		location = /who { return 200 "\$server_addr\$server_port\n"; }
	}
}
EOF
chmod -R a+rX "$T"
nginx -c "$T/nginx.conf" -e "$T/nginx-error.log" >"$T/nginx.log" 2>&1 &
on_cleanup "kill $!"
wait_for 20 port_open "$nport"
wait_for 20 test -S "$T/nginx.sock"

p_tcp=$(free_port)
p_unix=$(free_port)
p_mix=$(free_port)
graph "$(ingress nginx-tcp "127.0.0.1:$p_tcp" "127.0.0.1:$nport" nginx $$)" \
	"$(ingress nginx-unix "127.0.0.1:$p_unix" "$T/nginx.sock")" \
	"$(ingress mix "127.0.0.1:$p_mix" "127.0.0.1:$nport" nginx $$)" \
	"$(ingress mix "127.0.0.1:$p_mix" "$T/nginx.sock")"
start_pvx
for p in $p_tcp $p_unix $p_mix; do wait_for 20 port_open "$p"; done

get() { curl -sS --max-time 10 "http://127.0.0.1:$1$2"; }
assert_eq "$(get "$p_tcp" /)" "hello from nginx" "page over the TCP backend"
assert_eq "$(get "$p_unix" /)" "hello from nginx" "page over the Unix backend"
want=$(sha256sum <"$T/www/big.bin" | cut -d' ' -f1)
for p in $p_tcp $p_unix; do
	got=$(get "$p" /big.bin | sha256sum | cut -d' ' -f1)
	assert_eq "$got" "$want" "SHA-256 of 32 MiB through port $p"
done

# TCP and Unix backends mixed in one ingress, taking turns.
whos=""
for i in 1 2 3 4; do whos="$whos $(get "$p_mix" /who)"; done
tcp_n=$(echo "$whos" | tr ' ' '\n' | grep -c "127.0.0.1$nport" || true)
assert_eq "$tcp_n" 2 "answers from the TCP backend among 4 ($whos)"

# 200 requests from 8 parallel clients: every one a 200.
seq 200 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
	"http://127.0.0.1:$p_mix/" >"$T/codes"
assert_eq "$(grep -c '^200$' "$T/codes")" 200 "successful requests of 200"

# Keep-alive load for 2 seconds (bounded), no socket errors, no non-2xx.
if command -v wrk >/dev/null 2>&1; then
	wrk -t 1 -c 20 -d 2s "http://127.0.0.1:$p_tcp/" >"$T/wrk.out" 2>&1 || fail "wrk: $(cat "$T/wrk.out")"
	grep -q "Socket errors" "$T/wrk.out" && fail "wrk socket errors: $(cat "$T/wrk.out")"
	grep -q "Non-2xx" "$T/wrk.out" && fail "wrk non-2xx answers: $(cat "$T/wrk.out")"
	echo "wrk through pv-xconnect: $(grep Requests/sec "$T/wrk.out")"
else
	echo "note: wrk not installed, no keep-alive load run"
fi
pvx_alive
echo "PASS"
