#!/bin/bash
# The benchmark's connection check on its own: 10,000 connections opened at
# once through pv-xconnect to the nginx backend, held idle, then one request
# sent on each and every answer checked. bench/run.sh runs the same check at
# the end of a full run.
#
#   bench/c10k.sh                        10,000 through pv-xconnect
#   BENCH_C10K_CONNS=2000 bench/c10k.sh  fewer
#   BENCH_C10K_PROXY=haproxy bench/c10k.sh   the check itself, on a reference
#                                        (haproxy, nginx-stream or socat) or
#                                        on pv-xconnect-splice
#
# Exit 0: all held and answered. 1: some were refused, dropped or unanswered.
# 77: could not be checked in full here (a tool is missing, the fd hard
# limit leaves room for fewer connections (the smaller check still runs), or
# pv-xconnect-splice with a pv-xconnect that has no --datapath).
set -eu

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

N=${BENCH_C10K_CONNS:-10000}
PROXY=${BENCH_C10K_PROXY:-pv-xconnect}
[[ "$N" =~ ^[1-9][0-9]{0,4}$ ]] || die "BENCH_C10K_CONNS must be 1..99999"
case $PROXY in
pv-xconnect | pv-xconnect-splice | haproxy | haproxy-splice | nginx-stream | socat) ;;
*) die "BENCH_C10K_PROXY: $PROXY is not one of pv-xconnect," \
	"pv-xconnect-splice, haproxy, haproxy-splice, nginx-stream, socat" ;;
esac
need_cmd nginx iperf3 taskset ss "$PYTHON"

raise_fd_limit 200000
limit=$MAXCONN
[ "$PROXY" = haproxy ] || [ "$PROXY" = haproxy-splice ] && limit=$HAPROXY_MAXCONN
n=$N capped=0
if [ "$n" -gt "$limit" ]; then
	blog "the fd hard limit ($FD_LIMIT) leaves room for $limit proxied" \
		"connections, not $N: checking $limit (raise it with ulimit -Hn" \
		"as root with CAP_SYS_RESOURCE for the full check)"
	n=$limit capped=1
fi

start_backends
start_target "$PROXY"
if [ -n "${DOWN[$PROXY]:-}" ]; then
	blog "$PROXY: ${DOWN[$PROXY]}"
	# A pv-xconnect without the feature the row needs: not checkable here.
	[ "${UNSUP[$PROXY]}" = 1 ] && exit 77
	exit 1
fi
blog "$PROXY: opening $n connections to 127.0.0.1:${FRONT_TCP[$PROXY]}"
start=$SECONDS
ok=1
hold_conns "${FRONT_TCP[$PROXY]}" "$n" "${MEMPID[$PROXY]}" 1 || ok=0
check_alive "$PROXY" "the check" || ok=0
echo "$PROXY: $HOLD_SUMMARY kib_per_conn=${HOLD_KIB_PER_CONN:-?}" \
	"seconds=$((SECONDS - start))"
if [ $ok = 0 ]; then
	echo "FAIL: $n connections through $PROXY:" \
		"${HOLD_REASON:-${DOWN[$PROXY]:-}}"
	exit 1
fi
if [ $capped = 1 ]; then
	echo "PARTIAL: $n of $N connections held and answered (fd limit)"
	exit 77
fi
echo "PASS: $n connections held at once through $PROXY and answered"
