#!/bin/bash
# The benchmark: pv-xconnect (its default data path, and the epoll+splice
# path forced) against a direct connection, HAProxy (mode tcp, nbthread 1,
# with and without splice-auto), nginx's stream module (one worker) and socat
# (fork), and, for HTTP, pv-xconnect's http links against HAProxy mode http
# and nginx proxy_pass, in one run, with clients pinned to one core and
# proxies and backends to the other, with each proxy's CPU time per request
# and per GB. See bench/README.md for the columns.
#
#   bench/run.sh                   full run (about 10 minutes)
#   BENCH_SMOKE=1 bench/run.sh     about 1 s per figure, for CI; never judges
#                                  a number, only that every figure was taken
#
# Writes bench/out/results.md (the tables), results.tsv (medians), raw.tsv
# (every run) and chart.png. Traffic stays on 127.0.0.1.
set -eu

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SMOKE=${BENCH_SMOKE:-0}
if [ "$SMOKE" = 1 ]; then
	RUNS=${BENCH_RUNS:-1}
	DUR=${BENCH_DURATION:-1}
	MEM_CONNS=${BENCH_MEM_CONNS:-200}
	C10K_CONNS=${BENCH_C10K_CONNS:-1000}
	WARMUP=0
else
	RUNS=${BENCH_RUNS:-3}
	DUR=${BENCH_DURATION:-5}
	MEM_CONNS=${BENCH_MEM_CONNS:-5000}
	C10K_CONNS=${BENCH_C10K_CONNS:-10000}
	WARMUP=1
fi
WRK_CONNS=${BENCH_CONNS:-50}
C10K=${BENCH_C10K:-1}
OUT=${BENCH_OUT:-$BENCH/out}
TARGETS=${BENCH_TARGETS:-direct pv-xconnect pv-xconnect-splice haproxy haproxy-splice nginx-stream socat haproxy-http nginx-proxy}

# The figures in three groups, one table each: TCP proxying (TCP and Unix
# backends, bulk), HTTP reverse proxying, and the proxy's CPU time. The
# order of METRICS is that of results.tsv's columns (the chart reads the
# first fourteen by position).
M_TCP="ka_tcp close_tcp ka_unix close_unix bulk_up bulk_down p50 p99 mem"
M_HTTP="ka_http close_http p50_http p99_http mem_http"
M_CPU="cpu_ka_tcp cpu_close_tcp cpu_ka_unix cpu_close_unix cpu_bulk_up"
M_CPU+=" cpu_bulk_down cpu_ka_http cpu_close_http"
# The server core's busy time (every process on it, the backend's and the
# kernel's softirq work too), per request or GB: what the proxy costs where
# its own CPU time undercounts, e.g. a kernel data path whose forwarding is
# charged to the sender.
M_CORE="core_ka_tcp core_close_tcp core_ka_unix core_close_unix core_bulk_up"
M_CORE+=" core_bulk_down core_ka_http core_close_http"
METRICS="$M_TCP $M_HTTP $M_CPU $M_CORE"
# The figures a load run takes (the others derive from them or from the
# memory tests), in the order of a run.
LOADS="ka_tcp close_tcp ka_unix close_unix bulk_up bulk_down ka_http close_http"
declare -A HEAD=(
	[ka_tcp]="keep-alive TCP req/s" [close_tcp]="new-conn TCP req/s"
	[ka_unix]="keep-alive Unix req/s" [close_unix]="new-conn Unix req/s"
	[bulk_up]="bulk up Gbit/s" [bulk_down]="bulk down Gbit/s"
	[p50]="p50 ms" [p99]="p99 ms" [mem]="KiB per idle conn"
	[ka_http]="keep-alive HTTP req/s" [close_http]="new-conn HTTP req/s"
	[p50_http]="HTTP p50 ms" [p99_http]="HTTP p99 ms"
	[mem_http]="KiB per idle HTTP conn"
	[cpu_ka_tcp]="keep-alive TCP us/req" [cpu_close_tcp]="new-conn TCP us/req"
	[cpu_ka_unix]="keep-alive Unix us/req"
	[cpu_close_unix]="new-conn Unix us/req"
	[cpu_bulk_up]="bulk up ms/GB" [cpu_bulk_down]="bulk down ms/GB"
	[cpu_ka_http]="keep-alive HTTP us/req"
	[cpu_close_http]="new-conn HTTP us/req"
)
# printf format of each figure.
declare -A FMT=(
	[ka_tcp]="%.0f" [close_tcp]="%.0f" [ka_unix]="%.0f" [close_unix]="%.0f"
	[bulk_up]="%.2f" [bulk_down]="%.2f" [p50]="%.3f" [p99]="%.3f"
	[mem]="%.2f" [ka_http]="%.0f" [close_http]="%.0f" [p50_http]="%.3f"
	[p99_http]="%.3f" [mem_http]="%.2f"
)
for m in $M_CPU $M_CORE; do FMT[$m]="%.1f"; done
for m in $M_CORE; do HEAD[$m]=${HEAD[cpu_${m#core_}]}; done

declare -A VALS NOTE # key "target|metric": one value per run; why not

[[ "$RUNS" =~ ^[1-9][0-9]?$ ]] || die "BENCH_RUNS must be 1..99"
[[ "$DUR" =~ ^[1-9][0-9]?$ ]] || die "BENCH_DURATION must be 1..99 seconds"
[[ "$MEM_CONNS" =~ ^[1-9][0-9]{0,4}$ ]] || die "BENCH_MEM_CONNS must be 1..99999"
[[ "$C10K_CONNS" =~ ^[1-9][0-9]{0,4}$ ]] || die "BENCH_C10K_CONNS must be 1..99999"

need_cmd nginx wrk iperf3 taskset jq ss getconf "$PYTHON"
[ "$(nproc)" -ge 2 ] || blog "warning: one core only; clients and servers share it"

note() { NOTE["$1|$2"]="${NOTE["$1|$2"]:+${NOTE["$1|$2"]}; }$3"; }
# add_val NAME METRIC VALUE: one run's figure, also kept by run number so
# that ratios pair figures of the same run.
add_val() {
	VALS["$1|$2"]="${VALS["$1|$2"]:-} $3"
	BYRUN["$1|$2|$RUN"]=$3
}
declare -A BYRUN
RUN=1

# is_http_metric METRIC: a figure of the HTTP group (its CPU figures too).
is_http_metric() {
	case $1 in *http*) true ;; *) false ;; esac
}

# applies NAME METRIC: the figure exists for this proxy by design. An HTTP
# reverse proxy has only the HTTP figures; a TCP proxy only the others;
# pv-xconnect both; pv-xconnect-splice (the same program) only the TCP ones,
# which its data path moves. direct has no Unix path (wrk cannot dial a Unix
# socket, and any relay would be a proxy), and no memory or proxy CPU figure
# (no proxy; the server core's figures it has: the backend's cost alone).
applies() {
	local t=$1 m=$2
	if is_http_metric "$m"; then
		case $t in direct | pv-xconnect | haproxy-http | nginx-proxy) ;;
		*) return 1 ;;
		esac
	else
		is_http_proxy "$t" && return 1
	fi
	if [ "$t" = direct ]; then
		case $m in *_unix | mem | mem_http | cpu_*) return 1 ;; esac
	fi
	return 0
}

# ---- measurements ----------------------------------------------------------

# to_ms VALUE: wrk prints latencies as 636.00us, 1.20ms, 2.01s or 1.00m.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000
		else if (u == "m") n *= 60000
		printf "%.4f", n }'
}

# core_ticks: the server core's busy time so far (user, nice, system, irq,
# softirq, steal), in clock ticks.
core_ticks() {
	awk -v c="cpu$SERVER_CPU" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# cpu_start NAME: notes the CPU time of NAME's processes and of the server
# core before a load run.
cpu_start() {
	CPU0="" CPU1="" CORE1=""
	# shellcheck disable=SC2086 # one word per pid
	[ -n "${PIDS[$1]}" ] && CPU0=$(cpu_ticks ${PIDS[$1]})
	CORE0=$(core_ticks)
	return 0
}

# cpu_per NAME AMOUNT UNITS_PER_S: sets CPU1 to the CPU time NAME's
# processes used since cpu_start per AMOUNT, in units of which a second has
# UNITS_PER_S (1e6: microseconds per request; 1e3 with AMOUNT in GB:
# milliseconds per GB). Empty without cpu_start's figure or an AMOUNT.
cpu_per() {
	local cpu1
	CPU1="" CORE1=""
	[ -n "$2" ] || return 0
	CORE1=$(awk -v a="$CORE0" -v b="$(core_ticks)" -v hz="$CLK_TCK" -v n="$2" \
		-v u="$3" 'BEGIN { if (n > 0 && a != "") printf "%.4f", (b - a) / hz * u / n }')
	[ -n "$CPU0" ] || return 0
	# shellcheck disable=SC2086 # one word per pid
	cpu1=$(cpu_ticks ${PIDS[$1]})
	CPU1=$(awk -v a="$CPU0" -v b="$cpu1" -v hz="$CLK_TCK" -v n="$2" \
		-v u="$3" 'BEGIN { if (n > 0) printf "%.4f", (b - a) / hz * u / n }')
}

# run_wrk NAME METRIC PORT [wrk args]: one wrk run; records req/s, the
# proxy's CPU time per request, and the latency percentiles for the
# keep-alive TCP and HTTP runs.
run_wrk() {
	local t=$1 m=$2 port=$3 f=$W/wrk.out rps total errs non2xx
	shift 3
	cpu_start "$t"
	if ! timeout $((DUR + 20)) taskset -c "$CLIENT_CPU" wrk -t1 \
		-c"$WRK_CONNS" -d"${DUR}s" --latency "$@" \
		"http://127.0.0.1:$port/" >"$f" 2>&1; then
		note "$t" "$m" "wrk failed: $(tail -n 1 "$f")"
		return
	fi
	cpu_per "$t" "$(awk '/requests in/ { print $1 }' "$f")" 1e6
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
	total=$(awk '/requests in/ { print $1 }' "$f")
	errs=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$f")
	non2xx=$(awk '/Non-2xx/ { print $NF }' "$f")
	errs=${errs:-0} non2xx=${non2xx:-0}
	if [ -z "$rps" ] || [ "${total:-0}" -eq 0 ]; then
		note "$t" "$m" "no request completed"
		return
	fi
	# Error answers are cheap: counting them would flatter a broken path.
	if [ "$non2xx" -gt $((total / 100)) ]; then
		note "$t" "$m" "$non2xx of $total answers were not 2xx"
		return
	fi
	[ "$errs" -gt 0 ] && note "$t" "$m" "$errs socket errors in $total requests"
	add_val "$t" "$m" "$rps"
	[ -n "$CPU1" ] && add_val "$t" "cpu_$m" "$CPU1"
	[ -n "$CORE1" ] && add_val "$t" "core_$m" "$CORE1"
	case $m in
	ka_tcp)
		add_val "$t" p50 "$(to_ms "$(awk '$1 == "50%" { print $2 }' "$f")")"
		add_val "$t" p99 "$(to_ms "$(awk '$1 == "99%" { print $2 }' "$f")")"
		;;
	ka_http)
		add_val "$t" p50_http "$(to_ms "$(awk '$1 == "50%" { print $2 }' "$f")")"
		add_val "$t" p99_http "$(to_ms "$(awk '$1 == "99%" { print $2 }' "$f")")"
		;;
	esac
}

# run_iperf NAME METRIC PORT [-R]: one iperf3 run; records received Gbit/s
# and the proxy's CPU time per GB moved. The CPU time spans the whole run,
# the omitted first second too, so the GB are those of every interval the
# client reported (omitted ones included), not only the summary's.
run_iperf() {
	local t=$1 m=$2 port=$3 f=$W/iperf.json omit=0 bps err gb
	shift 3
	[ "$SMOKE" = 1 ] || omit=1
	cpu_start "$t"
	if ! timeout $((DUR + omit + 20)) taskset -c "$CLIENT_CPU" iperf3 \
		-c 127.0.0.1 -p "$port" -t "$DUR" -O "$omit" -J \
		--connect-timeout 3000 "$@" >"$f" 2>"$W/iperf.err"; then
		err=$(jq -r '.error // empty' "$f" 2>/dev/null || true)
		note "$t" "$m" "iperf3 failed: ${err:-$(tail -n 1 "$W/iperf.err")}"
		# A client that died mid-test can leave the server busy.
		sleep 1
		return
	fi
	gb=$(jq -r '[.intervals[].sum.bytes] | add // 0 | . / 1e9' "$f")
	cpu_per "$t" "$gb" 1e3
	bps=$(jq -r '.end.sum_received.bits_per_second // 0' "$f")
	add_val "$t" "$m" "$(awk -v b="$bps" 'BEGIN { printf "%.4f", b / 1e9 }')"
	[ -n "$CPU1" ] && add_val "$t" "cpu_$m" "$CPU1"
	[ -n "$CORE1" ] && add_val "$t" "core_$m" "$CORE1"
	return 0
}

# measure NAME METRIC: one run of one figure for one proxy (nothing where
# the figure does not apply, or the proxy lacks the listener for it).
measure() {
	local t=$1 m=$2 port
	applies "$t" "$m" || return 0
	case $m in
	*_tcp) port=${FRONT_TCP[$t]} ;;
	*_unix) port=${FRONT_UNIX[$t]} ;;
	*_http) port=${FRONT_HTTP[$t]} ;;
	bulk_*) port=${FRONT_IPERF[$t]} ;;
	esac
	[ -n "$port" ] || return 0
	check_alive "$t" "run $RUN, ${HEAD[$m]}" || return 0
	case $m in
	ka_*) run_wrk "$t" "$m" "$port" ;;
	close_*) run_wrk "$t" "$m" "$port" -H 'Connection: close' ;;
	bulk_up) run_iperf "$t" "$m" "$port" ;;
	bulk_down) run_iperf "$t" "$m" "$port" -R ;;
	esac
	check_alive "$t" "run $RUN, ${HEAD[$m]}" || true
}

# measure_mem NAME METRIC: KiB per idle proxied connection with MEM_CONNS
# held: TCP connections (mem), or HTTP keep-alive connections that each made
# one request first (mem_http).
measure_mem() {
	local t=$1 m=$2 port=${FRONT_TCP[$1]} http=0
	applies "$t" "$m" || return 0
	[ -n "${MEMPID[$t]}" ] || return 0
	if [ "$m" = mem_http ]; then
		port=${FRONT_HTTP[$t]} http=1
	fi
	[ -n "$port" ] || return 0
	check_alive "$t" "the memory test" || return 0
	if hold_conns "$port" "$MEM_CONNS" "${MEMPID[$t]}" 1 "$http"; then
		add_val "$t" "$m" "$HOLD_KIB_PER_CONN"
	else
		note "$t" "$m" "$HOLD_REASON"
		# The figure stands if the proxy held them all and some answer
		# was lost afterwards; the note says so.
		[ -n "$HOLD_KIB_PER_CONN" ] && add_val "$t" "$m" "$HOLD_KIB_PER_CONN"
	fi
	blog "$t: $MEM_CONNS idle $([ "$http" = 1 ] && echo 'HTTP ')connections:" \
		"${HOLD_KIB_PER_CONN:-n/a} KiB each ($HOLD_SUMMARY)"
	check_alive "$t" "the memory test" || true
}

# ---- results ---------------------------------------------------------------

# stats MODE VALUE...: one awk for the median ("median", nothing without
# values), the spread ("spread": (max - min) / median in percent, n/a under
# two values) or the median of ratios ("ratio": each VALUE is A/B, the
# median of A / B as %.2f, n/a without one). One process per table cell:
# the report has hundreds, on a machine that may be busy.
stats() {
	awk -v mode="$1" 'BEGIN {
		for (i = 2; i < ARGC; i++) {
			if (mode == "ratio") {
				split(ARGV[i], ab, "/")
				if (ab[2] + 0 <= 0)
					continue
				x = ab[1] / ab[2]
			} else
				x = ARGV[i] + 0
			# Insertion sort: a handful of runs.
			for (j = ++n; j > 1 && v[j - 1] > x; j--)
				v[j] = v[j - 1]
			v[j] = x
		}
		if (!n) {
			if (mode != "median")
				print "n/a"
			exit
		}
		m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		if (mode == "median")
			print m
		else if (mode == "ratio")
			printf "%.2f\n", m
		else if (n < 2 || m == 0)
			print "n/a"
		else
			printf "%.0f\n", 100 * (v[n] - v[1]) / m
		exit
	}' "$@"
}

# median NAME METRIC: the median of the runs, or nothing.
median() {
	# shellcheck disable=SC2086 # one word per run
	stats median ${VALS["$1|$2"]:-}
}

# spread NAME METRIC: (max - min) / median of the runs, in percent.
spread() {
	# shellcheck disable=SC2086 # one word per run
	stats spread ${VALS["$1|$2"]:-}
}

# The figure is n/a by design (see applies).
by_design_na() {
	! applies "$1" "$2"
}

# known_na NAME METRIC: the figure is missing because this pv-xconnect lacks
# the feature (no --datapath, no http links): said in the notes, and no
# failure of the smoke run, until the feature is merged.
known_na() {
	[ "${UNSUP[$1]:-0}" = 1 ] || return 1
	[ -n "${DOWN[$1]:-}" ] || is_http_metric "$2"
}

declare -A MED
collect() {
	local t m v
	for t in $TARGETS; do
		for m in $METRICS; do
			v=$(median "$t" "$m")
			# A proxy that died mid-run has no trustworthy figures.
			[ -n "${DOWN[$t]:-}" ] && v=""
			MED["$t|$m"]=${v:-n/a}
		done
	done
}

fmt() {
	local v=${MED["$1|$2"]}
	if [ "$v" = n/a ]; then
		echo n/a
	else
		# shellcheck disable=SC2059
		printf "${FMT[$2]}" "$v"
	fi
}

# ratio NAME METRIC REF: NAME's figure divided by REF's, as the median of
# the per-run ratios: within a run every proxy is measured back to back, so
# each ratio compares figures taken seconds apart, and a burst of other work
# on the machine moves both sides of it.
ratio() {
	local r list=""
	if [ "${MED["$1|$2"]}" = n/a ] || [ "${MED["$3|$2"]:-n/a}" = n/a ]; then
		echo n/a
		return
	fi
	for ((r = 1; r <= RUNS; r++)); do
		[ -n "${BYRUN["$1|$2|$r"]:-}" ] && [ -n "${BYRUN["$3|$2|$r"]:-}" ] &&
			list+=" ${BYRUN["$1|$2|$r"]}/${BYRUN["$3|$2|$r"]}"
	done
	# shellcheck disable=SC2086 # one word per run
	stats ratio $list
}

# table KIND METRIC...: KIND is "value", "spread", "direct" (ratio to
# direct) or "haproxy" (ratio to HAProxy: haproxy-http for the HTTP figures,
# haproxy, mode tcp, for the others). One row per
# proxy for which at least one of the METRICs applies.
table() {
	local kind=$1 t m line any ref
	shift
	line="| proxy |"
	for m in "$@"; do line+=" ${HEAD[$m]} |"; done
	echo "$line"
	line="| --- |"
	for m in "$@"; do line+=" ---: |"; done
	echo "$line"
	for t in $TARGETS; do
		any=0
		for m in "$@"; do applies "$t" "$m" && any=1; done
		[ $any = 1 ] || continue
		line="| $t |"
		for m in "$@"; do
			case $kind in
			value) line+=" $(fmt "$t" "$m") |" ;;
			spread) line+=" $(spread "$t" "$m") |" ;;
			haproxy)
				ref=haproxy
				is_http_metric "$m" && ref=haproxy-http
				line+=" $(ratio "$t" "$m" "$ref") |"
				;;
			*) line+=" $(ratio "$t" "$m" "$kind") |" ;;
			esac
		done
		echo "$line"
	done
}

# verdict RATIO OP LIMIT: met, not met or n/a.
verdict() {
	if [ "$1" = n/a ]; then
		echo "n/a"
	elif awk -v r="$1" -v l="$3" -v op="$2" 'BEGIN {
		exit !(op == ">=" ? r >= l : r <= l) }'; then
		echo "met"
	else
		echo "not met"
	fi
}

# target LABEL METRIC REF OP LIMIT: one line of the targets check
# (docs/benchmarks.md): the ratio and verdict of pv-xconnect and of
# pv-xconnect-splice.
target() {
	local line="| $1 | $4 $5 |" t r
	for t in pv-xconnect pv-xconnect-splice; do
		r=n/a
		if [[ " $TARGETS " == *" $t "* ]] && applies "$t" "$2"; then
			r=$(ratio "$t" "$2" "$3")
		fi
		line+=" $r | $(verdict "$r" "$4" "$5") |"
	done
	echo "$line"
}

# shellcheck disable=SC2086 # the metric lists: one word per metric
report() {
	local t m n
	echo "# pv-xconnect benchmark"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cores," \
		"$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)."
	if [ "$SMOKE" = 1 ]; then
		echo "**Smoke run** (BENCH_SMOKE=1): proves the harness works;" \
			"the figures mean nothing."
	fi
	echo "Clients on CPU $CLIENT_CPU, proxies and backends on CPU" \
		"$SERVER_CPU (taskset). Median of $RUNS run(s) of ${DUR} s;" \
		"wrk -t1 -c$WRK_CONNS; memory with $MEM_CONNS idle connections" \
		"(one run). Backend: nginx $(nginx -v 2>&1 | sed 's|.*/||')" \
		"(one worker, 100-byte body); iperf3 $(iperf3 -v | awk 'NR == 1 { print $2 }')."
	echo "Proxies: pv-xconnect $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')${BENCH_PVX_ARGS:+ $BENCH_PVX_ARGS}" \
		"(pv-xconnect-splice: --datapath splice);" \
		"$(haproxy -v 2>/dev/null | awk 'NR == 1 { print "HAProxy " $3 }')" \
		"(nbthread 1; haproxy-http: mode http, http-reuse safe); nginx" \
		"stream and nginx proxy_pass (1 worker, upstream keepalive 32); socat" \
		"$(socat -V 2>/dev/null | awk '/socat version/ { print $3; exit }') (fork)."
	# Other work on the machine skews every figure; say how busy it was.
	echo "Load average (1 min) at the start: $LOAD_START, at the end: $LOAD_END."
	echo
	echo "## Figures: TCP proxying"
	echo
	table value $M_TCP
	echo
	echo "## Figures: HTTP reverse proxying"
	echo
	table value $M_HTTP
	echo
	echo "## Proxy CPU time per request and per GB"
	echo
	echo "User + system time of the proxy's processes over each load run,"
	echo "divided by the requests wrk completed (us) or the GB iperf3 moved (ms)."
	echo
	table value $M_CPU
	echo
	echo "## Server core (CPU $SERVER_CPU) busy time per request and per GB"
	echo
	echo "All the work on the core of the proxies and backends over each load"
	echo "run (/proc/stat: the backend, the proxy, the kernel's softirq work;"
	echo "other work on the machine too), per request (us) or GB (ms)."
	echo
	table value $M_CORE
	echo
	echo "## Ratio to direct"
	echo
	table direct $M_TCP
	echo
	table direct $M_HTTP
	echo
	echo "## Ratio to HAProxy (nbthread 1)"
	echo
	echo "TCP figures against haproxy (mode tcp), HTTP figures against haproxy-http"
	echo "(mode http)."
	echo
	table haproxy $M_TCP
	echo
	table haproxy $M_HTTP
	echo
	table haproxy $M_CPU
	echo
	table haproxy $M_CORE
	echo
	echo "Higher is better for req/s and Gbit/s, lower for ms, KiB, us/req and ms/GB."
	echo
	if [ "$RUNS" -gt 1 ]; then
		echo "## Spread of the runs: (max - min) / median, %"
		echo
		echo "Large values mean the machine was not quiet: compare ratios"
		echo "only where the spread is well below the difference."
		echo
		table spread $M_TCP
		echo
		table spread $M_HTTP
		echo
		table spread $M_CPU
		echo
		table spread $M_CORE
		echo
	fi
	echo "## Targets (same run)"
	echo
	echo "| target | wanted | pv-xconnect | verdict | pv-xconnect-splice | verdict |"
	echo "| --- | --- | ---: | --- | ---: | --- |"
	target "${HEAD[ka_tcp]} vs HAProxy" ka_tcp haproxy ">=" 1.25
	target "${HEAD[close_tcp]} vs HAProxy" close_tcp haproxy ">=" 1.15
	target "${HEAD[ka_unix]} vs HAProxy" ka_unix haproxy ">=" 1.15
	target "${HEAD[close_unix]} vs HAProxy" close_unix haproxy ">=" 1.10
	target "p99 latency vs HAProxy" p99 haproxy "<=" 1.00
	target "${HEAD[bulk_up]} vs direct" bulk_up direct ">=" 0.90
	target "${HEAD[bulk_down]} vs direct" bulk_down direct ">=" 0.90
	target "CPU per keep-alive TCP request vs HAProxy" cpu_ka_tcp haproxy "<=" 0.60
	target "memory per idle conn vs HAProxy" mem haproxy "<=" 0.50
	target "${HEAD[ka_http]} vs HAProxy http" ka_http haproxy-http ">=" 1.10
	target "${HEAD[close_http]} vs HAProxy http" close_http haproxy-http ">=" 1.10
	target "HTTP p99 latency vs HAProxy http" p99_http haproxy-http "<=" 1.00
	target "memory per idle HTTP conn vs HAProxy http" mem_http haproxy-http "<=" 0.50
	echo "| $C10K_CONNS concurrent connections held | all answered | | $C10K_VERDICT | | |"
	echo
	echo "## Notes"
	echo
	n=0
	for t in $TARGETS; do
		if [ -n "${DOWN[$t]:-}" ]; then
			echo "- $t: n/a: ${DOWN[$t]}"
			n=$((n + 1))
		elif [ -n "${HTTP_NA[$t]:-}" ]; then
			echo "- $t, HTTP figures: n/a: ${HTTP_NA[$t]}"
			n=$((n + 1))
		fi
		for m in $METRICS; do
			if [ -n "${NOTE["$t|$m"]:-}" ]; then
				echo "- $t, ${HEAD[$m]}: ${NOTE["$t|$m"]}"
				n=$((n + 1))
			fi
		done
	done
	for t in $TARGETS; do
		if [ -n "${SHAPE[$t]:-}" ]; then
			echo "- $t at the start (idle): ${SHAPE[$t]}."
		fi
	done
	echo "- n/a by design: direct has no Unix figures (wrk cannot dial a Unix" \
		"socket, and any relay would be a proxy) and no memory or CPU figure" \
		"(no proxy; it has the server core's, the backend's cost alone); the HTTP reverse proxies (haproxy-http, nginx-proxy) have" \
		"only the HTTP figures, the TCP proxies only the TCP ones;" \
		"pv-xconnect-splice has the TCP figures (its data path moves them)."
	echo "- $C10K_CONNS-connection check: $C10K_DETAIL"
}

# The medians as a tab-separated file, then the chart.
write_outputs() {
	local t m line
	mkdir -p "$OUT"
	report >"$OUT/results.md"
	{
		line="proxy"
		for m in $METRICS; do line+="	$m"; done
		echo "$line"
		for t in $TARGETS; do
			line=$t
			for m in $METRICS; do line+="	${MED["$t|$m"]}"; done
			echo "$line"
		done
	} >"$OUT/results.tsv"
	{
		echo "proxy	metric	values"
		for t in $TARGETS; do
			for m in $METRICS; do
				echo "$t	$m	${VALS["$t|$m"]:- n/a}"
			done
		done
	} >"$OUT/raw.tsv"
	rm -f "$OUT/chart.png"
	if command -v gnuplot >/dev/null; then
		tail -n +2 "$OUT/results.tsv" >"$W/chart.dat"
		if ! gnuplot -e "datafile='$W/chart.dat'; outfile='$OUT/chart.png'" \
			-e "subtitle='$( [ "$SMOKE" = 1 ] && echo 'smoke run: figures mean nothing' || echo "median of $RUNS runs, ${DUR} s each")'" \
			"$BENCH/chart.gp" 2>"$W/gnuplot.log"; then
			blog "gnuplot failed: $(tail -n 1 "$W/gnuplot.log")"
			return 1
		fi
	else
		blog "gnuplot is not installed (apt-get install gnuplot-nox): no chart"
		[ "$SMOKE" = 1 ] && return 1
	fi
	return 0
}

# ---- the run ---------------------------------------------------------------

LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
awk -v l="$LOAD_START" 'BEGIN { exit !(l > 0.5) }' &&
	blog "warning: load average $LOAD_START: other work will skew the figures"
raise_fd_limit 200000
start_backends
for t in $TARGETS; do
	start_target "$t"
	if [ -n "${DOWN[$t]:-}" ]; then
		blog "$t: n/a: ${DOWN[$t]}"
	else
		blog "$t: listening on tcp :${FRONT_TCP[$t]:--} unix" \
			":${FRONT_UNIX[$t]:--} iperf3 :${FRONT_IPERF[$t]:--}" \
			"http :${FRONT_HTTP[$t]:--}"
		[ -n "${HTTP_NA[$t]:-}" ] && blog "$t: HTTP figures n/a: ${HTTP_NA[$t]}"
	fi
done
# What runs, as the kernel sees it: proves "one thread", "one worker".
sleep 0.5
declare -A SHAPE
for t in $TARGETS; do
	if [ -z "${PIDS[$t]}" ] || [ -n "${DOWN[$t]:-}" ]; then
		continue
	fi
	procs="${PIDS[$t]}"
	for p in ${PIDS[$t]}; do procs+=" $(descendants "$p")"; done
	np=0 nt=0
	for p in $procs; do
		th=$(awk '/^Threads:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
		np=$((np + 1)) nt=$((nt + ${th:-0}))
	done
	SHAPE[$t]="processes: $np, threads: $nt"
	# pv-xconnect logs the data path it chose once, at start.
	case $t in pv-xconnect*)
		dp=$(grep -i -m1 'data *path' "$W/$t.log" 2>/dev/null |
			sed 's/^.*\(INFO\|WARN\|NOTICE\): //' || true)
		[ -n "$dp" ] && SHAPE[$t]+="; log: \"$dp\""
		;;
	esac
done

# Memory first, while every proxy is fresh: its pools not yet grown by the
# load runs, so the growth measured is that of the idle sessions alone. The
# TCP holds all go before the HTTP ones; a proxy that has both (pv-xconnect)
# is started again between them, or the HTTP hold would live in the memory
# the TCP hold freed (0.08 KiB a connection, meaningless).
for t in $TARGETS; do
	measure_mem "$t" mem
done
for t in $TARGETS; do
	if applies "$t" mem && applies "$t" mem_http && [ -n "${FRONT_HTTP[$t]:-}" ] &&
		[ -z "${DOWN[$t]:-}" ]; then
		restart_target "$t"
		[ -n "${DOWN[$t]:-}" ] && blog "$t: n/a after its restart: ${DOWN[$t]}"
	fi
	measure_mem "$t" mem_http
done

if [ "$WARMUP" = 1 ]; then
	for t in $TARGETS; do
		check_alive "$t" warm-up || continue
		for port in ${FRONT_TCP[$t]} ${FRONT_HTTP[$t]}; do
			timeout 20 taskset -c "$CLIENT_CPU" wrk -t1 -c"$WRK_CONNS" \
				-d1s "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
		done
	done
fi

# Proxies interleaved inside each run, so a slow drift of the machine
# (thermal, another tenant) spreads over all of them instead of one.
# The order rotates from run to run: no proxy always follows the same one
# (a new-connection run leaves tens of thousands of TIME_WAIT sockets that
# make the next few seconds' connects dearer) or always goes first.
for RUN in $(seq "$RUNS"); do
	# shellcheck disable=SC2086 # one word per proxy
	set -- $TARGETS
	for _ in $(seq $(((RUN - 1) % $#))); do
		set -- "$@" "$1"
		shift
	done
	order="$*"
	for m in $LOADS; do
		for t in $order; do
			measure "$t" "$m"
		done
		blog "run $RUN/$RUNS: ${HEAD[$m]} done"
	done
done

# The connection check: C10K_CONNS held at once through pv-xconnect, then one
# request answered on each. Two fds a connection: a lower fd hard limit than
# that is reported, and the check runs with as many as fit.
C10K_VERDICT="not run" C10K_DETAIL="not run (BENCH_C10K=0)"
c10k_n=$C10K_CONNS c10k_cap=""
if [ "$c10k_n" -gt "$MAXCONN" ]; then
	c10k_n=$MAXCONN
	c10k_cap="the fd hard limit ($FD_LIMIT) allows only $MAXCONN proxied connections"
	c10k_cap+=" (2 fds each): raise it (ulimit -Hn, CAP_SYS_RESOURCE) for $C10K_CONNS"
fi
if [ "$C10K" != 1 ]; then
	:
elif [ -z "${FRONT_TCP[pv-xconnect]+set}" ]; then
	C10K_DETAIL="not run (pv-xconnect is not in BENCH_TARGETS)"
elif ! check_alive pv-xconnect "the connection check"; then
	C10K_VERDICT="n/a"
	C10K_DETAIL="pv-xconnect is down: ${DOWN[pv-xconnect]}"
elif hold_conns "${FRONT_TCP[pv-xconnect]}" "$c10k_n" "" 1 &&
	check_alive pv-xconnect "the connection check"; then
	C10K_VERDICT=met
	C10K_DETAIL="all held and answered ($HOLD_SUMMARY)"
	if [ -n "$c10k_cap" ]; then
		C10K_VERDICT="n/a"
		C10K_DETAIL="$c10k_n held and answered ($HOLD_SUMMARY), but $c10k_cap"
	fi
else
	C10K_VERDICT="not met"
	C10K_DETAIL="${HOLD_REASON:-pv-xconnect ${DOWN[pv-xconnect]:-}}"
fi
[ "$C10K" = 1 ] &&
	blog "$C10K_CONNS connections through pv-xconnect: $C10K_DETAIL"

LOAD_END=$(cut -d' ' -f1 /proc/loadavg)
stop_all
collect
rc=0
write_outputs || rc=1
cat "$OUT/results.md"
echo

# BENCH_UPDATE_README=1: the tables become bench/README.md's "Latest results"
# (everything after that heading), one heading level down. Never from a
# smoke run, whose figures mean nothing.
if [ "${BENCH_UPDATE_README:-0}" = 1 ] && [ "$SMOKE" != 1 ]; then
	readme=$BENCH/README.md
	{
		sed '/^## Latest results$/q' "$readme"
		echo
		echo "From \`make bench BENCH_UPDATE_README=1\`; the chart is"
		echo "written to bench/out/chart.png."
		echo
		tail -n +3 "$OUT/results.md" | sed 's/^## /### /'
	} >"$W/README.md"
	if grep -q '^## Latest results$' "$readme"; then
		cat "$W/README.md" >"$readme"
		blog "updated $readme"
	else
		blog "$readme has no '## Latest results' heading: not updated"
	fi
fi
blog "written: $OUT/results.md, results.tsv, raw.tsv$([ -e "$OUT/chart.png" ] && echo ', chart.png')"

# Smoke mode proves the harness: every figure that can exist must have been
# taken (BENCH_ALLOW_NA=1 accepts gaps, e.g. before pv-xconnect works).
if [ "$SMOKE" = 1 ] && [ "${BENCH_ALLOW_NA:-0}" != 1 ]; then
	for t in $TARGETS; do
		known=0
		for m in $METRICS; do
			if [ "${MED["$t|$m"]}" != n/a ] || by_design_na "$t" "$m"; then
				continue
			fi
			if known_na "$t" "$m"; then
				known=$((known + 1))
				continue
			fi
			blog "smoke: $t has no ${HEAD[$m]} figure"
			rc=1
		done
		[ $known = 0 ] || blog "smoke: $t: $known figures n/a, not a" \
			"failure: ${DOWN[$t]:-${HTTP_NA[$t]:-}}"
	done
	case $C10K_VERDICT in met | "not run") ;; *)
		blog "smoke: the $C10K_CONNS-connection check: $C10K_DETAIL"
		rc=1
		;;
	esac
fi
exit $rc
