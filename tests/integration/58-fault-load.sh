#!/bin/bash
# Faults under load, through pv-xconnect:
#  1. 1,000 slow clients on an ingress (each dribbles a request header to
#     nginx behind it, a line every half second): other clients are still
#     served, each within a second.
#  2. The graph changed under load: while 50 clients use one link (40
#     streams of 8 MiB in waves of 10, SHA-256 both ways, and 10 sessions
#     echoing a line every 100 ms throughout), other links are added,
#     removed and updated 30 times.
#     No session of the unchanged link is dropped, no byte lost; each
#     added link serves, each removed one stops listening.
# (11-pvd-ctrl: 1,000 slow clients on pv-ctrl; 27-xconnect-emfile: fds
# exhausted; 26-xconnect-slow-reader: clients that do not read.)
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nginx curl python3 nc
# 1,000 sessions take 2,000 fds in pv-xconnect and 1,000 in nginx.
ulimit -n 8192 2>/dev/null || skip "cannot raise the fd limit to 8192"

# --- 1. 1,000 slow clients
np=$(free_port)
mkdir -p "$T/nginx-tmp" "$T/www"
echo fast >"$T/www/index.html"
cat >"$T/nginx.conf" <<EOF
daemon off;
worker_processes 1;
worker_rlimit_nofile 4096;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $T/nginx-tmp;
	proxy_temp_path $T/nginx-tmp;
	fastcgi_temp_path $T/nginx-tmp;
	uwsgi_temp_path $T/nginx-tmp;
	scgi_temp_path $T/nginx-tmp;
	server { listen 127.0.0.1:$np backlog=4096; root $T/www; }
}
EOF
chmod -R a+rX "$T"
nginx -c "$T/nginx.conf" -e "$T/nginx-error.log" >"$T/nginx.log" 2>&1 &
on_cleanup "kill $!"
wait_for 5 port_open "$np"
pw=$(free_port)
graph "$(ingress web "127.0.0.1:$pw" "127.0.0.1:$np")"
start_pvx
wait_for 5 port_open "$pw"

cat >"$T/slowloris.py" <<'PY'
import socket, sys, time
port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
print("connected %d" % len(socks), flush=True)
end = time.time() + seconds
i = 0
while time.time() < end:
    for s in socks:
        s.sendall(b"X-Slow-%d: y\r\n" % i)
    i += 1
    time.sleep(0.5)
for s in socks:
    s.close()
print("done", flush=True)
PY
python3 "$T/slowloris.py" "$pw" 1000 8 >"$T/slow.log" 2>&1 &
slow=$!
on_cleanup "kill $slow"
wait_for 20 grep -q "connected 1000" "$T/slow.log"
wait_for 10 sh -c "[ \$(ss -tnH state established '( dport = :$np )' | wc -l) -ge 1000 ]"
max=0
for i in $(seq 50); do
	ms=$(curl -sS --max-time 5 -o "$T/body" -w '%{time_total}' "http://127.0.0.1:$pw/" |
		awk '{printf "%d", $1 * 1000000}')
	assert_eq "$(cat "$T/body")" fast "request $i among 1,000 slow clients"
	[ "$ms" -gt "$max" ] && max=$ms
done
kill -0 "$slow" 2>/dev/null || fail "the slow clients ended before the check did: $(cat "$T/slow.log")"
echo "1,000 slow clients held: 50 other requests served, slowest in $max us"
[ "$max" -lt 1000000 ] || fail "a request took $max us among the slow clients"
wait "$slow" || fail "slow clients: $(cat "$T/slow.log")"
pvx_alive
kill "$PVX_PID"
wait "$PVX_PID" 2>/dev/null || true

# --- 2. the graph changed under load
ep=$(free_port)
bg echo $PVXTOOL echo "127.0.0.1:$ep"
wait_for 5 port_open "$ep"
ps=$(free_port) pv=$(free_port)
steady=$(ingress steady "127.0.0.1:$ps" "127.0.0.1:$ep")
varied() { ingress varied "127.0.0.1:$pv" "127.0.0.1:$ep" _host_ 0 "\"maxconn\":$1"; }
graph "$steady" "$(varied 10)"
start_pvx
wait_for 5 port_open "$ps"
for i in $(seq 10); do
	$PVXTOOL hold "127.0.0.1:$ps" --seconds 25 >"$T/hold$i.log" 2>&1 &
	eval "h$i=\$!"
done
# stream I: one 8 MiB stream, in the background as $sI.
stream() {
	$PVXTOOL stream "127.0.0.1:$ps" --mb 8 --seed "$1" >"$T/stream$1.log" 2>&1 &
	eval "s$1=\$!"
	on_cleanup "kill \$s$1"
}
on_cleanup "kill $(for i in $(seq 10); do eval "printf '%s ' \$h$i"; done)"
prev=""
served=0
t0=$(date +%s)
for i in $(seq 30); do
	# A new link each round, the previous round's gone, "varied" updated.
	port=$(free_port)
	graph "$steady" "$(varied $((10 + i)))" \
		"$(ingress "extra$i" "127.0.0.1:$port" "127.0.0.1:$ep")"
	reload
	# The streams come in waves of 10, so that every one of them runs
	# while links change.
	case $i in 1 | 8 | 15 | 22)
		w=$(((i - 1) / 7))
		for j in $(seq $((w * 10 + 1)) $((w * 10 + 10))); do stream "$j"; done
		;;
	esac
	if [ $((i % 8)) -eq 0 ]; then
		echo ping | nc -N -w 2 127.0.0.1 "$port" | grep -q ping ||
			fail "added link extra$i does not serve"
		served=$((served + 1))
	fi
	[ -z "$prev" ] || ! port_open "$prev" || fail "removed link extra$((i - 1)) still listens"
	prev=$port
	sleep 0.1
done
churn=$(($(date +%s) - t0))
[ "$churn" -lt 24 ] || fail "the graph changes took $churn s, longer than the echo sessions"
for i in $(seq 10); do
	eval "kill -0 \$h$i" || fail "echo session $i ended before the graph changes did: $(cat "$T/hold$i.log")"
done
for i in $(seq 40); do
	eval "p=\${s$i:-}"
	[ -n "$p" ] || fail "stream $i never started"
	wait "$p" || fail "stream $i broke under graph changes: $(cat "$T/stream$i.log")"
done
for i in $(seq 10); do
	eval "p=\$h$i"
	wait "$p" || fail "session $i broke under graph changes: $(cat "$T/hold$i.log")"
done
echo "30 graph changes in $churn s (a link added and one removed each, another updated), streams in waves of 10: 40 x 8 MiB identical both ways, 10 echo sessions unbroken; $served added links checked"
pvx_alive
echo "PASS"
