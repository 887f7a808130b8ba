#!/bin/bash
# Faults under load, through pv-xconnect:
#  1. 1,000 slow clients on an ingress (each dribbles a request header to
#     nginx behind it, a line every half second): other clients are still
#     served, every one of 50 requests correctly, while the slow ones hold.
#     The slowest of them is printed, not held to a bound.
#  2. The graph changed under load: while 50 clients use one link (40
#     streams of 8 MiB in waves of 10, SHA-256 both ways, and 10 sessions
#     echoing a line every 100 ms until the changes are over), other links
#     are added, removed and updated 30 times.
#     No session of the unchanged link is dropped, no byte lost; each
#     added link serves, each removed one stops listening.
# (11-pvd-ctrl: 1,000 slow clients on pv-ctrl; 27-xconnect-emfile: fds
# exhausted; 26-xconnect-slow-reader: clients that do not read.)
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nginx curl nc ss
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
	# The slow clients' headers take as long as the check does.
	client_header_timeout 600s;
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
wait_for 20 port_open "$np"
pw=$(free_port)
graph "$(ingress web "127.0.0.1:$pw" "127.0.0.1:$np")"
start_pvx
wait_for 20 port_open "$pw"

# Dribbles until the file argv[3] exists, then checks its connections are
# still up (a header line more goes through) and closes them.
cat >"$T/slowloris.py" <<'PY'
import os, socket, sys, time
port, n, stop = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
print("connected %d" % len(socks), flush=True)
i = 0
while not os.path.exists(stop):
    for s in socks:
        s.sendall(b"X-Slow-%d: y\r\n" % i)
    i += 1
    time.sleep(0.5)
for s in socks:
    s.sendall(b"X-Last: y\r\n")
    s.close()
print("done after %d lines each" % i, flush=True)
PY
"$PYTHON" "$T/slowloris.py" "$pw" 1000 "$T/slow.stop" >"$T/slow.log" 2>&1 &
slow=$!
on_cleanup "kill $slow"
wait_for 60 grep -q "connected 1000" "$T/slow.log"
# Each is through the proxy, at nginx.
wait_for 60 sh -c "[ \$(ss -tnH state established '( dport = :$np )' | wc -l) -ge 1000 ]"
max=0
for i in $(seq 50); do
	us=$(curl -sS --max-time 60 -o "$T/body" -w '%{time_total}' "http://127.0.0.1:$pw/" |
		awk '{printf "%d", $1 * 1000000}')
	assert_eq "$(cat "$T/body")" fast "request $i among 1,000 slow clients"
	[ "$us" -gt "$max" ] && max=$us
done
gone "$slow" && fail "the slow clients ended before the check did: $(cat "$T/slow.log")"
touch "$T/slow.stop"
wait "$slow" || fail "slow clients: $(cat "$T/slow.log")"
echo "1,000 slow clients held: 50 other requests served, slowest in $((max / 1000)) ms; $(tail -1 "$T/slow.log")"
pvx_alive
kill "$PVX_PID"
wait "$PVX_PID" 2>/dev/null || true

# --- 2. the graph changed under load
ep=$(free_port)
bg echo $PVXTOOL echo "127.0.0.1:$ep"
wait_for 20 port_open "$ep"
# Two ports for the steady and the varied link, 30 for the added ones.
set -- $(free_ports 32)
ps=$1 pv=$2
shift 2
steady=$(ingress steady "127.0.0.1:$ps" "127.0.0.1:$ep")
varied() { ingress varied "127.0.0.1:$pv" "127.0.0.1:$ep" _host_ 0 "\"maxconn\":$1"; }
graph "$steady" "$(varied 10)"
start_pvx
wait_for 20 listening steady
# The echo sessions last until the graph changes are over.
for i in $(seq 10); do
	$PVXTOOL hold "127.0.0.1:$ps" --until "$T/hold.stop" >"$T/hold$i.log" 2>&1 &
	eval "h$i=\$!"
done
# stream I: one 8 MiB stream, in the background as $sI.
stream() {
	$PVXTOOL stream "127.0.0.1:$ps" --mb 8 --seed "$1" >"$T/stream$1.log" 2>&1 &
	eval "s$1=\$!"
	on_cleanup "kill \$s$1"
}
on_cleanup "kill $(for i in $(seq 10); do eval "printf '%s ' \$h$i"; done)"
for i in $(seq 10); do wait_for 60 grep -q connected "$T/hold$i.log"; done
prev=""
t0=$(date +%s)
for i in $(seq 30); do
	# A new link each round, the previous round's gone, "varied" updated.
	port=$1
	shift
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
	listening "extra$i" || fail "added link extra$i not listening after the reload"
	assert_eq "$(echo "ping $i" | nc -N -w 30 127.0.0.1 "$port")" "ping $i" "echo through the added link extra$i"
	if [ -n "$prev" ]; then
		grep -q "link extra$((i - 1)): stopped listening" "$T/pvx.log" ||
			fail "removed link extra$((i - 1)): no line that it stopped listening"
		port_open "$prev" && fail "removed link extra$((i - 1)) still listens"
	fi
	prev=$port
done
churn=$(($(date +%s) - t0))
for i in $(seq 10); do
	eval "p=\$h$i"
	gone "$p" && fail "echo session $i ended before the graph changes did: $(cat "$T/hold$i.log")"
done
touch "$T/hold.stop"
for i in $(seq 40); do
	eval "p=\${s$i:-}"
	[ -n "$p" ] || fail "stream $i never started"
	wait "$p" || fail "stream $i broke under graph changes: $(cat "$T/stream$i.log")"
done
for i in $(seq 10); do
	eval "p=\$h$i"
	wait "$p" || fail "session $i broke under graph changes: $(cat "$T/hold$i.log")"
done
echo "30 graph changes in $churn s (a link added and one removed each, another updated), each added link served, each removed one closed; streams in waves of 10: 40 x 8 MiB identical both ways; 10 echo sessions unbroken throughout"
pvx_alive
echo "PASS"
