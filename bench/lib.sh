# Shared by bench/run.sh and bench/c10k.sh; source it after `set -eu`.
#
# Gives: a work dir $W removed at exit, process tracking (every process we
# start is killed at exit, with its children, by pid), config templating, the
# backends (nginx with a 100-byte answer on TCP and on a Unix socket, iperf3),
# the proxies under test (TCP proxies and HTTP reverse proxies), the CPU time
# of a proxy's processes, and the idle-connection hold used for the memory
# figures and for the 10,000-connection check.
#
# Knobs (environment): BENCH_CLIENT_CPU (0) and BENCH_SERVER_CPU (1) for the
# pinning, BENCH_KEEP=1 keeps $W, PVX names the pv-xconnect binary,
# BENCH_PVX_ARGS adds arguments to it (e.g. "--threads 2").

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH/.." && pwd)
BUILD=${BUILD:-$TOP/build}
PVX=${PVX:-$BUILD/pv-xconnect}
CLIENT_CPU=${BENCH_CLIENT_CPU:-0}
SERVER_CPU=${BENCH_SERVER_CPU:-1}
STREAM_MODULE=${BENCH_STREAM_MODULE:-/usr/lib/nginx/modules/ngx_stream_module.so}
PYTHON=${PYTHON:-python3}

blog() { echo "bench: $*" >&2; }
die() {
	blog "error: $*"
	exit 1
}

# Like tests/lib.sh: a missing prerequisite skips (77), but fails under CI.
bench_skip() {
	if [ "${CI:-}" = true ]; then
		blog "FAIL (prerequisite missing under CI): $*"
		exit 1
	fi
	blog "SKIP: $*"
	exit 77
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || bench_skip "needs $c"
	done
}

W=$(mktemp -d /tmp/pvbench.XXXXXX)
chmod 755 "$W"
_started_pids=""

# Prints PID's descendants, children before grandchildren, from one ps call
# (socat forks one child per connection: thousands of them).
descendants() {
	ps -eo pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			n = split(kids[root], q, " ")
			for (i = 1; i <= n; i++) {
				print q[i]
				m = split(kids[q[i]], more, " ")
				for (j = 1; j <= m; j++)
					q[++n] = more[j]
			}
		}'
}

# kill_tree PID SIGNAL: signals PID and everything below it.
kill_tree() {
	local kids
	kids=$(descendants "$1")
	# shellcheck disable=SC2086 # one word per pid
	kill -"$2" "$1" $kids 2>/dev/null || true
}

# Stops every process we started (last first): TERM, then KILL after 3 s.
stop_all() {
	local p i
	for p in $_started_pids; do
		kill_tree "$p" TERM
	done
	for i in $(seq 60); do
		# shellcheck disable=SC2086 # one word per pid
		any_alive $_started_pids || break
		sleep 0.05
	done
	for p in $_started_pids; do
		kill_tree "$p" KILL
	done
	_started_pids=""
}

_bench_exit() {
	local rc=$?
	trap - EXIT INT TERM
	stop_all
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		# The logs explain a failed run; show their tails.
		for f in "$W"/*.log; do
			[ -s "$f" ] || continue
			echo "----- $f (last 20 lines)" >&2
			tail -n 20 "$f" >&2
		done
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		blog "kept $W"
	else
		rm -rf "$W"
	fi
	exit $rc
}
trap _bench_exit EXIT
trap 'exit 130' INT TERM

# alive PID...: true when every PID still runs.
alive() {
	local p
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null || return 1
	done
}

# wait_until SECONDS CMD...: polls CMD every 50 ms; false on timeout.
wait_until() {
	local i limit=$(($1 * 20))
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# any_alive PID...: true when at least one PID still runs.
any_alive() {
	local p
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null && return 0
	done
	return 1
}

# tcp_listening PORT: something listens on 127.0.0.1:PORT. Asked of the
# kernel rather than by connecting: a probe connection would reach iperf3
# through the proxies and spoil its next test.
tcp_listening() {
	ss -Hltn "( sport = :$1 )" | grep -q LISTEN
}

# free_ports N: N distinct free loopback ports, one a line (all bound at once,
# so they differ).
free_ports() {
	"$PYTHON" -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])' "$1"
}

# render TEMPLATE OUT NAME=VALUE...: replaces each @NAME@; fails on any left.
render() {
	local tmpl=$1 out=$2 kv args=()
	shift 2
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${args[@]}" "$tmpl" >"$out"
	if grep -q '@[A-Z_]*@' "$out"; then
		die "$out: unfilled field $(grep -o '@[A-Z_]*@' "$out" | head -1)"
	fi
}

# start_bg LOG CMD...: starts CMD pinned to the server core, output to LOG;
# the pid is in STARTED_PID and is stopped at exit.
start_bg() {
	local logf=$1
	shift
	taskset -c "$SERVER_CPU" "$@" >"$logf" 2>&1 </dev/null &
	STARTED_PID=$!
	_started_pids="$STARTED_PID $_started_pids"
}

# Raises the fd limits for this shell and its children as far as allowed
# (above the hard limit needs CAP_SYS_RESOURCE, which some containers drop).
# Sets FD_LIMIT, WORKER_CONNS (connections, one fd each, for nginx),
# MAXCONN: the proxied connections (two fds each) a proxy can hold within it,
# and HAPROXY_MAXCONN, the same for HAProxy.
raise_fd_limit() {
	local want=${1:-200000}
	if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$want" ]; then
		ulimit -Hn "$want" 2>/dev/null ||
			blog "fd hard limit stays at $(ulimit -Hn): cannot raise it to $want"
	fi
	ulimit -Sn "$(ulimit -Hn)"
	FD_LIMIT=$(ulimit -Sn)
	[ "$FD_LIMIT" = unlimited ] && FD_LIMIT=1048576
	[ "$FD_LIMIT" -gt 200000 ] && FD_LIMIT=200000
	WORKER_CONNS=$((FD_LIMIT - 100))
	# Headroom for listeners, logs and the event loop's own fds: at the
	# very limit a proxy stops accepting, which is not what we measure.
	MAXCONN=$(((FD_LIMIT - 300) / 2))
	# HAProxy also reserves two fds per pipe for splicing, maxconn/4 pipes.
	HAPROXY_MAXCONN=$(((FD_LIMIT - 300) * 2 / 5))
	return 0
}

# The backends. Sets HTTP_PORT, HTTP_SOCK, HTTP_POOL_PORT (the same nginx
# server on the port the HTTP proxies dial), IPERF_PORT, BACKEND_PID,
# IPERF_PID.
start_backends() {
	local ports body
	ports=$(free_ports 3)
	HTTP_PORT=$(echo "$ports" | sed -n 1p)
	IPERF_PORT=$(echo "$ports" | sed -n 2p)
	HTTP_POOL_PORT=$(echo "$ports" | sed -n 3p)
	HTTP_SOCK=$W/backend.sock
	# 99 characters and a newline: the 100-byte body.
	body="$(printf '%099d' 0 | tr 0 x)\\n"
	mkdir -p "$W/backend/tmp"
	render "$BENCH/conf/backend-nginx.conf" "$W/backend/nginx.conf" \
		"DIR=$W/backend" "HTTP_PORT=$HTTP_PORT" \
		"HTTP_POOL_PORT=$HTTP_POOL_PORT" \
		"HTTP_SOCK=$HTTP_SOCK" "BODY=$body" "FD_LIMIT=$FD_LIMIT" \
		"WORKER_CONNS=$WORKER_CONNS"
	start_bg "$W/backend.log" nginx -p "$W/backend" -e "$W/backend.log" \
		-c "$W/backend/nginx.conf"
	BACKEND_PID=$STARTED_PID
	wait_until 5 all_listening "$BACKEND_PID" "$HTTP_PORT" "$HTTP_POOL_PORT" ||
		die "backend nginx did not listen on 127.0.0.1:$HTTP_PORT and :$HTTP_POOL_PORT"
	wait_until 5 test -S "$HTTP_SOCK" ||
		die "backend nginx did not create $HTTP_SOCK"
	start_bg "$W/iperf3.log" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" \
		--idle-timeout 30 --rcv-timeout 10000
	IPERF_PID=$STARTED_PID
	wait_until 5 tcp_listening "$IPERF_PORT" ||
		die "iperf3 server did not listen on 127.0.0.1:$IPERF_PORT"
	blog "backends: nginx 127.0.0.1:$HTTP_PORT, $HTTP_SOCK and" \
		"127.0.0.1:$HTTP_POOL_PORT (HTTP proxies), iperf3 127.0.0.1:$IPERF_PORT"
}

# pvx_has_datapath: the pv-xconnect binary knows --datapath (the data path
# switch, auto|sockmap|splice).
pvx_has_datapath() {
	"$PVX" --help 2>&1 | grep -q -- --datapath
}

# start_pvx NAME FRONT_TCP FRONT_UNIX FRONT_IPERF FRONT_HTTP [ARG...]:
# pv-xconnect from a --graph file with the three tcp links and, when
# FRONT_HTTP is not empty, an http link to the backend's HTTP_POOL_PORT; ARGs
# go to pv-xconnect before BENCH_PVX_ARGS. Waits for the three tcp
# listeners. Sets PVX_PID; false with NA_REASON when it fails. The http
# listener is not waited for here: pvx_http_listening says whether it came.
start_pvx() {
	local t=$1 a=$2 b=$3 c=$4 h=$5 graph=$W/$1/xconnect-graph.json
	shift 5
	NA_REASON=""
	if [ ! -x "$PVX" ]; then
		NA_REASON="$PVX is not built"
		return 1
	fi
	render "$BENCH/conf/xconnect-graph.json" "$graph.in" \
		"FRONT_TCP=$a" "FRONT_UNIX=$b" "FRONT_IPERF=$c" \
		"FRONT_HTTP=${h:-0}" "HTTP_PORT=$HTTP_PORT" \
		"HTTP_POOL_PORT=$HTTP_POOL_PORT" "HTTP_SOCK=$HTTP_SOCK" \
		"IPERF_PORT=$IPERF_PORT"
	if [ -n "$h" ]; then
		mv "$graph.in" "$graph"
	else
		jq 'map(select(.type != "http"))' "$graph.in" >"$graph"
	fi
	# shellcheck disable=SC2086 # BENCH_PVX_ARGS is a list of arguments
	start_bg "$W/$t.log" "$PVX" --graph "$graph" "$@" ${BENCH_PVX_ARGS:-}
	PVX_PID=$STARTED_PID
	if wait_until 5 all_listening "$PVX_PID" "$a" "$b" "$c"; then
		return 0
	fi
	if alive "$PVX_PID"; then
		NA_REASON="$t did not listen on all of :$a :$b :$c in 5 s"
	else
		NA_REASON="$t exited: $(tail -n 1 "$W/$t.log")"
	fi
	kill_tree "$PVX_PID" KILL
	return 1
}

# pvx_http_listening NAME PORT: waits (3 s) for pv-xconnect's http listener.
# False with NA_REASON and, when this pv-xconnect does not serve http links
# at all (the http plugin is not in it yet), UNSUPPORTED=1.
pvx_http_listening() {
	local log=$W/$1.log
	NA_REASON="" UNSUPPORTED=0
	wait_until 3 tcp_listening "$2" && return 0
	if grep -q 'type "http" is not supported' "$log"; then
		NA_REASON="this pv-xconnect does not serve http links yet"
		NA_REASON+=" ($(grep -m1 'type "http" is not supported' "$log" |
			sed 's/^.*WARN: //'))"
		UNSUPPORTED=1
	else
		NA_REASON="no http listener on :$2 in 3 s"
		NA_REASON+=" ($(tail -n 1 "$log" 2>/dev/null || true))"
	fi
	return 1
}

# all_listening PID PORT...: PID runs and every PORT accepts.
all_listening() {
	local pid=$1 p
	shift
	alive "$pid" || return 1
	for p in "$@"; do
		tcp_listening "$p" || return 1
	done
}

# Established connections the backend nginx holds on its TCP port: how far a
# proxy has got in dialling the connections its clients opened.
backend_conns() {
	ss -Htn state established "( sport = :$HTTP_PORT )" | wc -l
}

# mem_kib PID: the anonymous memory (heap, stacks, buffers) of PID and all
# its descendants, in KiB: Pss_Anon + Pss_Shmem from smaps_rollup, where a
# page shared by k processes counts 1/k in each. That is the plain private
# memory for one process and a fair sum for a master/worker or fork-per-
# connection proxy (summed RSS would count socat's libraries once per
# child). File pages (libraries) are left out: their Pss share moves
# whenever another process maps the same library, which is noise here.
# Kernels before 5.10 lack Pss_Anon: then the whole Pss is used.
mem_kib() {
	local pids
	pids="$1 $(descendants "$1")"
	# One awk for all: a fork-per-connection proxy has thousands. A
	# process that exited meanwhile is skipped (getline fails on its file).
	# shellcheck disable=SC2046,SC2086 # one word per pid
	awk 'BEGIN {
		for (i = 1; i < ARGC; i++) {
			while ((getline line < ARGV[i]) > 0) {
				split(line, f)
				if (f[1] == "Pss_Anon:" || f[1] == "Pss_Shmem:")
					anon += f[2]
				if (f[1] == "Pss_Anon:")
					has_anon = 1
				if (f[1] == "Pss:")
					pss += f[2]
			}
			close(ARGV[i])
		}
		print has_anon ? anon : pss
	}' $(printf '/proc/%s/smaps_rollup ' $pids)
}

# hold_conns PORT COUNT MEMPID VERIFY [HTTP]: opens COUNT idle connections to
# PORT, waits until the backend holds them (so the proxy dialled every one),
# then measures MEMPID's tree (skipped when MEMPID is empty). With HTTP=1 (an
# HTTP reverse proxy, which pools its backend connections) every connection
# first makes one request and reads its answer, so that the proxy holds its
# per-connection HTTP state, and the wait is for those answers instead of the
# backend's connections. Sets HOLD_SUMMARY (holdconns.py's line),
# HOLD_KIB_PER_CONN, HOLD_REASON on failure; false if any connection failed,
# dropped or (with VERIFY=1) went unanswered.
hold_conns() {
	local port=$1 count=$2 mempid=$3 verify=$4 http=${5:-0} before=0 after
	local base hold_pid rc=0 timeout=$((30 + count / 100)) flag=()
	HOLD_SUMMARY="" HOLD_KIB_PER_CONN="" HOLD_REASON=""
	base=$(backend_conns)
	[ -n "$mempid" ] && before=$(mem_kib "$mempid")
	rm -f "$W/hold.ready" "$W/hold.go"
	[ "$verify" = 1 ] && flag=(--verify)
	[ "$http" = 1 ] && flag+=(--request-first)
	taskset -c "$CLIENT_CPU" "$PYTHON" "$BENCH/holdconns.py" \
		--port "$port" --count "$count" --hold "$timeout" \
		--ready-file "$W/hold.ready" --go-file "$W/hold.go" \
		--timeout $((timeout * 2)) "${flag[@]}" \
		>"$W/hold.out" 2>"$W/hold.log" &
	hold_pid=$!
	if ! wait_until "$timeout" test -e "$W/hold.ready"; then
		HOLD_REASON="client did not finish connecting in ${timeout} s"
	elif [ "$http" = 1 ] && ! grep -qx "connected $count primed $count" \
		"$W/hold.ready"; then
		HOLD_REASON="$(cat "$W/hold.ready") of $count"
	elif [ "$http" != 1 ] && ! wait_until "$timeout" backend_has $((base + count)); then
		HOLD_REASON="backend holds $(($(backend_conns) - base)) of $count"
		HOLD_REASON+=" connections after ${timeout} s"
	elif [ -n "$mempid" ]; then
		# Let lazily allocated per-session state settle before measuring.
		sleep 1
		after=$(mem_kib "$mempid")
		HOLD_KIB_PER_CONN=$(awk -v a="$after" -v b="$before" -v n="$count" \
			'BEGIN { printf "%.2f", (a - b) / n }')
	fi
	touch "$W/hold.go"
	wait "$hold_pid" || rc=$?
	HOLD_SUMMARY=$(cat "$W/hold.out")
	if [ $rc -ne 0 ] && [ -z "$HOLD_REASON" ]; then
		HOLD_REASON="${HOLD_SUMMARY:-$(tail -n 1 "$W/hold.log")}"
	fi
	# Let the proxy tear the sessions down before the next measurement
	# (HTTP proxies dial HTTP_POOL_PORT, which backend_conns leaves out).
	[ "$http" = 1 ] || wait_until 30 backend_below $((base + 1)) ||
		blog "backend still holds $(backend_conns) connections"
	[ -z "$HOLD_REASON" ]
}

backend_has() { [ "$(backend_conns)" -ge "$1" ]; }
backend_below() { [ "$(backend_conns)" -lt "$1" ]; }

CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID...: the CPU time (user + system, clock ticks) used so far by
# each PID and all its descendants, summed. Children that exited and were
# reaped count through their parent's cutime and cstime (socat forks one per
# connection), so a delta over a run counts every process that worked in it.
cpu_ticks() {
	local p pids=""
	for p in "$@"; do pids+=" $p $(descendants "$p")"; done
	# shellcheck disable=SC2046,SC2086 # one word per pid
	awk 'BEGIN {
		for (i = 1; i < ARGC; i++) {
			if ((getline line < ARGV[i]) <= 0)
				continue
			close(ARGV[i])
			# Fields after the command name, which may hold spaces:
			# utime stime cutime cstime are the 12th to 15th.
			sub(/^.*\) /, "", line)
			split(line, f, " ")
			t += f[12] + f[13] + f[14] + f[15]
		}
		print t + 0
	}' $(printf '/proc/%s/stat ' $pids)
}

# ---- the proxies under test ------------------------------------------------

# Per proxy name: its listening ports (FRONT_HTTP: the HTTP reverse proxy's
# listener to HTTP_POOL_PORT; each is empty where the proxy has no such
# listener), its pids, the root of the process tree whose memory counts, why
# it is down (empty while up), why its HTTP listener is missing (HTTP_NA),
# and UNSUP (1: down or without HTTP because the pv-xconnect binary lacks the
# feature, not because something failed).
declare -A FRONT_TCP FRONT_UNIX FRONT_IPERF FRONT_HTTP PIDS MEMPID DOWN HTTP_NA UNSUP

# is_http_proxy NAME: the proxy is an HTTP reverse proxy only (no TCP rows).
is_http_proxy() {
	case $1 in haproxy-http | nginx-proxy) true ;; *) false ;; esac
}

# start_target NAME: starts one proxy with its listeners (a TCP proxy: HTTP
# to the TCP backend, HTTP to the Unix backend, iperf3; an HTTP reverse
# proxy: one HTTP listener; pv-xconnect both), or marks it DOWN with why.
start_target() {
	local t=$1 ports a="" b="" c="" h="" listen
	PIDS[$t]="" MEMPID[$t]="" UNSUP[$t]=0
	if [ "$t" = direct ]; then
		FRONT_TCP[$t]=$HTTP_PORT FRONT_UNIX[$t]="" FRONT_IPERF[$t]=$IPERF_PORT
		FRONT_HTTP[$t]=$HTTP_POOL_PORT
		return
	fi
	ports=$(free_ports 4)
	if ! is_http_proxy "$t"; then
		a=$(echo "$ports" | sed -n 1p)
		b=$(echo "$ports" | sed -n 2p)
		c=$(echo "$ports" | sed -n 3p)
	fi
	case $t in
	pv-xconnect | haproxy-http | nginx-proxy) h=$(echo "$ports" | sed -n 4p) ;;
	esac
	FRONT_TCP[$t]=$a FRONT_UNIX[$t]=$b FRONT_IPERF[$t]=$c FRONT_HTTP[$t]=$h
	# shellcheck disable=SC2086,SC2116 # the ports this proxy has, one word each
	listen=$(echo $a $b $c $h)
	local fill=("DIR=$W/$t" "FRONT_TCP=$a" "FRONT_UNIX=$b" "FRONT_IPERF=$c"
		"FRONT_HTTP=$h" "HTTP_POOL_PORT=$HTTP_POOL_PORT"
		"HTTP_PORT=$HTTP_PORT" "HTTP_SOCK=$HTTP_SOCK" "IPERF_PORT=$IPERF_PORT"
		"FD_LIMIT=$FD_LIMIT" "WORKER_CONNS=$WORKER_CONNS"
		"MAXCONN=$HAPROXY_MAXCONN")
	mkdir -p "$W/$t"
	case $t in
	pv-xconnect | pv-xconnect-splice)
		local args=()
		if [ "$t" = pv-xconnect-splice ]; then
			if [ -x "$PVX" ] && ! pvx_has_datapath; then
				DOWN[$t]="$PVX has no --datapath option (the data path"
				DOWN[$t]+=" switch is not in this build)"
				UNSUP[$t]=1
				return
			fi
			args=(--datapath splice)
		fi
		if ! start_pvx "$t" "$a" "$b" "$c" "$h" "${args[@]}"; then
			DOWN[$t]=$NA_REASON
			return
		fi
		PIDS[$t]=$PVX_PID MEMPID[$t]=$PVX_PID
		if [ -n "$h" ] && ! pvx_http_listening "$t" "$h"; then
			HTTP_NA[$t]=$NA_REASON UNSUP[$t]=$UNSUPPORTED
			FRONT_HTTP[$t]=""
		fi
		return
		;;
	haproxy | haproxy-splice | haproxy-http)
		command -v haproxy >/dev/null || {
			DOWN[$t]="haproxy is not installed"
			return
		}
		local splice="" conf=haproxy.cfg
		[ "$t" = haproxy-splice ] && splice="option splice-auto"
		[ "$t" = haproxy-http ] && conf=haproxy-http.cfg
		render "$BENCH/conf/$conf" "$W/$t/haproxy.cfg" \
			"${fill[@]}" "SPLICE=$splice"
		start_bg "$W/$t.log" haproxy -db -f "$W/$t/haproxy.cfg"
		PIDS[$t]=$STARTED_PID MEMPID[$t]=$STARTED_PID
		;;
	nginx-stream)
		if [ ! -e "$STREAM_MODULE" ]; then
			DOWN[$t]="$STREAM_MODULE missing (apt-get install libnginx-mod-stream)"
			return
		fi
		render "$BENCH/conf/nginx-stream.conf" "$W/$t/nginx.conf" \
			"${fill[@]}" "STREAM_MODULE=$STREAM_MODULE"
		start_bg "$W/$t.log" nginx -p "$W/$t" -e "$W/$t.log" \
			-c "$W/$t/nginx.conf"
		PIDS[$t]=$STARTED_PID MEMPID[$t]=$STARTED_PID
		;;
	nginx-proxy)
		mkdir -p "$W/$t/tmp"
		render "$BENCH/conf/nginx-proxy.conf" "$W/$t/nginx.conf" "${fill[@]}"
		start_bg "$W/$t.log" nginx -p "$W/$t" -e "$W/$t.log" \
			-c "$W/$t/nginx.conf"
		PIDS[$t]=$STARTED_PID MEMPID[$t]=$STARTED_PID
		;;
	socat)
		command -v socat >/dev/null || {
			DOWN[$t]="socat is not installed"
			return
		}
		local l="bind=127.0.0.1,reuseaddr,fork,backlog=4096"
		start_bg "$W/socat-tcp.log" socat "TCP4-LISTEN:$a,$l" \
			"TCP4:127.0.0.1:$HTTP_PORT"
		PIDS[$t]=$STARTED_PID MEMPID[$t]=$STARTED_PID
		start_bg "$W/socat-unix.log" socat "TCP4-LISTEN:$b,$l" \
			"UNIX-CONNECT:$HTTP_SOCK"
		PIDS[$t]+=" $STARTED_PID"
		start_bg "$W/socat-iperf.log" socat "TCP4-LISTEN:$c,$l" \
			"TCP4:127.0.0.1:$IPERF_PORT"
		PIDS[$t]+=" $STARTED_PID"
		;;
	*)
		DOWN[$t]="unknown proxy (BENCH_TARGETS)"
		return
		;;
	esac
	# shellcheck disable=SC2086
	if ! wait_until 5 all_listening ${PIDS[$t]%% *} $listen; then
		DOWN[$t]="did not listen on :${listen// / :} in 5 s"
		DOWN[$t]+=" ($(tail -n 1 "$W/$t.log" 2>/dev/null || true))"
	fi
}

# restart_target NAME: stops NAME's processes and starts it again, on new
# ports: a fresh process, whose heap no earlier hold has grown.
restart_target() {
	local t=$1 p i
	for p in ${PIDS[$t]}; do
		kill_tree "$p" TERM
	done
	for i in $(seq 60); do
		# shellcheck disable=SC2086 # one word per pid
		any_alive ${PIDS[$t]} || break
		sleep 0.05
	done
	for p in ${PIDS[$t]}; do
		kill_tree "$p" KILL
	done
	start_target "$t"
}

# check_alive NAME WHAT: marks NAME down if one of its processes exited.
check_alive() {
	local t=$1
	[ -z "${DOWN[$t]:-}" ] || return 1
	# shellcheck disable=SC2086
	if [ -n "${PIDS[$t]}" ] && ! alive ${PIDS[$t]}; then
		DOWN[$t]="exited during $2"
		case $t in pv-xconnect*)
			DOWN[$t]+=": $(tail -n 1 "$W/$t.log" 2>/dev/null)"
			;;
		esac
		return 1
	fi
}
