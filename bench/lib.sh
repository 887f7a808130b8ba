# Shared by bench/run.sh and bench/c10k.sh; source it after `set -eu`.
#
# Gives: a work dir $W removed at exit, process tracking (every process we
# start is killed at exit, with its children, by pid), config templating, the
# backends (nginx with a 100-byte answer on TCP and on a Unix socket, iperf3),
# the proxies under test, and the idle-connection hold used for the memory
# figure and for the 10,000-connection check.
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

# The backends. Sets HTTP_PORT, HTTP_SOCK, IPERF_PORT, BACKEND_PID, IPERF_PID.
start_backends() {
	local ports body
	ports=$(free_ports 2)
	HTTP_PORT=$(echo "$ports" | sed -n 1p)
	IPERF_PORT=$(echo "$ports" | sed -n 2p)
	HTTP_SOCK=$W/backend.sock
	# 99 characters and a newline: the 100-byte body.
	body="$(printf '%099d' 0 | tr 0 x)\\n"
	mkdir -p "$W/backend/tmp"
	render "$BENCH/conf/backend-nginx.conf" "$W/backend/nginx.conf" \
		"DIR=$W/backend" "HTTP_PORT=$HTTP_PORT" \
		"HTTP_SOCK=$HTTP_SOCK" "BODY=$body" "FD_LIMIT=$FD_LIMIT" \
		"WORKER_CONNS=$WORKER_CONNS"
	start_bg "$W/backend.log" nginx -p "$W/backend" -e "$W/backend.log" \
		-c "$W/backend/nginx.conf"
	BACKEND_PID=$STARTED_PID
	wait_until 5 tcp_listening "$HTTP_PORT" ||
		die "backend nginx did not listen on 127.0.0.1:$HTTP_PORT"
	wait_until 5 test -S "$HTTP_SOCK" ||
		die "backend nginx did not create $HTTP_SOCK"
	start_bg "$W/iperf3.log" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" \
		--idle-timeout 30 --rcv-timeout 10000
	IPERF_PID=$STARTED_PID
	wait_until 5 tcp_listening "$IPERF_PORT" ||
		die "iperf3 server did not listen on 127.0.0.1:$IPERF_PORT"
	blog "backends: nginx 127.0.0.1:$HTTP_PORT and $HTTP_SOCK," \
		"iperf3 127.0.0.1:$IPERF_PORT"
}

# start_pvx FRONT_TCP FRONT_UNIX FRONT_IPERF: pv-xconnect from a --graph file
# with the three links. Sets PVX_PID; false with NA_REASON when it fails.
start_pvx() {
	NA_REASON=""
	if [ ! -x "$PVX" ]; then
		NA_REASON="$PVX is not built"
		return 1
	fi
	render "$BENCH/conf/xconnect-graph.json" "$W/xconnect-graph.json" \
		"FRONT_TCP=$1" "FRONT_UNIX=$2" "FRONT_IPERF=$3" \
		"HTTP_PORT=$HTTP_PORT" "HTTP_SOCK=$HTTP_SOCK" \
		"IPERF_PORT=$IPERF_PORT"
	# shellcheck disable=SC2086 # BENCH_PVX_ARGS is a list of arguments
	start_bg "$W/pv-xconnect.log" "$PVX" --graph "$W/xconnect-graph.json" \
		${BENCH_PVX_ARGS:-}
	PVX_PID=$STARTED_PID
	if wait_until 5 all_listening "$PVX_PID" "$1" "$2" "$3"; then
		return 0
	fi
	if alive "$PVX_PID"; then
		NA_REASON="pv-xconnect did not listen on all of :$1 :$2 :$3 in 5 s"
	else
		NA_REASON="pv-xconnect exited: $(tail -n 1 "$W/pv-xconnect.log")"
	fi
	kill_tree "$PVX_PID" KILL
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

# hold_conns PORT COUNT MEMPID VERIFY: opens COUNT idle connections to PORT,
# waits until the backend holds them (so the proxy dialled every one), then
# measures MEMPID's tree (skipped when MEMPID is empty). Sets HOLD_SUMMARY
# (holdconns.py's line), HOLD_KIB_PER_CONN, HOLD_REASON on failure; false if
# any connection failed, dropped or (with VERIFY=1) went unanswered.
hold_conns() {
	local port=$1 count=$2 mempid=$3 verify=$4 before=0 after base hold_pid
	local rc=0 timeout=$((30 + count / 100)) flag=()
	HOLD_SUMMARY="" HOLD_KIB_PER_CONN="" HOLD_REASON=""
	base=$(backend_conns)
	[ -n "$mempid" ] && before=$(mem_kib "$mempid")
	rm -f "$W/hold.ready" "$W/hold.go"
	[ "$verify" = 1 ] && flag=(--verify)
	taskset -c "$CLIENT_CPU" "$PYTHON" "$BENCH/holdconns.py" \
		--port "$port" --count "$count" --hold "$timeout" \
		--ready-file "$W/hold.ready" --go-file "$W/hold.go" \
		--timeout $((timeout * 2)) "${flag[@]}" \
		>"$W/hold.out" 2>"$W/hold.log" &
	hold_pid=$!
	if ! wait_until "$timeout" test -e "$W/hold.ready"; then
		HOLD_REASON="client did not finish connecting in ${timeout} s"
	elif ! wait_until "$timeout" backend_has $((base + count)); then
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
	# Let the proxy tear the sessions down before the next measurement.
	wait_until 30 backend_below $((base + 1)) ||
		blog "backend still holds $(backend_conns) connections"
	[ -z "$HOLD_REASON" ]
}

backend_has() { [ "$(backend_conns)" -ge "$1" ]; }
backend_below() { [ "$(backend_conns)" -lt "$1" ]; }

# ---- the proxies under test ------------------------------------------------

# Per proxy name: its three listening ports, its pids, the root of the
# process tree whose memory counts, and why it is down (empty while up).
declare -A FRONT_TCP FRONT_UNIX FRONT_IPERF PIDS MEMPID DOWN

# start_target NAME: starts one proxy with its three listeners (HTTP to the
# TCP backend, HTTP to the Unix backend, iperf3), or marks it DOWN with why.
start_target() {
	local t=$1 ports a b c
	PIDS[$t]="" MEMPID[$t]=""
	if [ "$t" = direct ]; then
		FRONT_TCP[$t]=$HTTP_PORT FRONT_UNIX[$t]="" FRONT_IPERF[$t]=$IPERF_PORT
		PIDS[$t]="" MEMPID[$t]=""
		return
	fi
	ports=$(free_ports 3)
	a=$(echo "$ports" | sed -n 1p)
	b=$(echo "$ports" | sed -n 2p)
	c=$(echo "$ports" | sed -n 3p)
	FRONT_TCP[$t]=$a FRONT_UNIX[$t]=$b FRONT_IPERF[$t]=$c
	local fill=("DIR=$W/$t" "FRONT_TCP=$a" "FRONT_UNIX=$b" "FRONT_IPERF=$c"
		"HTTP_PORT=$HTTP_PORT" "HTTP_SOCK=$HTTP_SOCK" "IPERF_PORT=$IPERF_PORT"
		"FD_LIMIT=$FD_LIMIT" "WORKER_CONNS=$WORKER_CONNS"
		"MAXCONN=$HAPROXY_MAXCONN")
	mkdir -p "$W/$t"
	case $t in
	pv-xconnect)
		if ! start_pvx "$a" "$b" "$c"; then
			DOWN[$t]=$NA_REASON
			return
		fi
		PIDS[$t]=$PVX_PID MEMPID[$t]=$PVX_PID
		return
		;;
	haproxy | haproxy-splice)
		command -v haproxy >/dev/null || {
			DOWN[$t]="haproxy is not installed"
			return
		}
		local splice=""
		[ "$t" = haproxy-splice ] && splice="option splice-auto"
		render "$BENCH/conf/haproxy.cfg" "$W/$t/haproxy.cfg" \
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
	esac
	# shellcheck disable=SC2086
	if ! wait_until 5 all_listening ${PIDS[$t]%% *} "$a" "$b" "$c"; then
		DOWN[$t]="did not listen on :$a :$b :$c in 5 s"
		DOWN[$t]+=" ($(tail -n 1 "$W/$t.log" 2>/dev/null || true))"
	fi
}

# check_alive NAME WHAT: marks NAME down if one of its processes exited.
check_alive() {
	local t=$1
	[ -z "${DOWN[$t]:-}" ] || return 1
	# shellcheck disable=SC2086
	if [ -n "${PIDS[$t]}" ] && ! alive ${PIDS[$t]}; then
		DOWN[$t]="exited during $2"
		[ "$t" = pv-xconnect ] &&
			DOWN[$t]+=": $(tail -n 1 "$W/pv-xconnect.log" 2>/dev/null)"
		return 1
	fi
}
