#!/bin/bash
# Runs every tests/integration/NN-*.sh. Exit 77 is a skip, allowed only
# outside CI: under CI=true a missing prerequisite fails the run.
#
# A script holding the line `# pv-test: serial` runs alone: it uses what
# only one test may hold at a time (pvd and its bridge pvbr0, fixed ports,
# LXC containers, host-wide settings) or loads the machine. The others use
# only free ports and their own temporary directories; they run JOBS at a
# time (default 4: most of their time is spent waiting on sockets), before
# the serial ones.
#
#   tests/run-integration.sh [SCRIPT...]   those scripts only
#   ONLY=pattern     only the scripts whose names contain it
#   JOBS=1           everything one at a time, in order
#
# Serial scripts hold the machine-wide lock $PV_SERIAL_LOCK (default
# /tmp/pv-serial.lock) while they run, so that several checkouts on one
# machine can run their suites at once without sharing pvbr0 or a port.
#
# Each script's output goes to $BUILD/test-logs/NAME.log (BUILD defaults to
# build/); a failing script's log is printed whole.
set -u
cd "$(dirname "$0")/.." || exit 1
jobs=${JOBS:-4}
logs=${BUILD:-build}/test-logs
mkdir -p "$logs" || exit 1

# Scripts named on the command line, else all of them.
if [ $# -gt 0 ]; then
	scripts=("$@")
else
	scripts=(tests/integration/[0-9]*.sh)
fi
serial=() parallel=()
for t in "${scripts[@]}"; do
	[ -e "$t" ] || continue
	case "$t" in *"${ONLY:-}"*) ;; *) continue ;; esac
	if [ "$jobs" -gt 1 ] && ! grep -qx '# pv-test: serial' "$t"; then
		parallel+=("$t")
	else
		serial+=("$t")
	fi
done

pass=0 fail=0 skip=0
failed=""
t_start=$(date +%s)

# run_one SCRIPT [LOCK]: runs it with its output in its log, holding LOCK
# when given; prints nothing.
run_one() {
	local log
	log=$logs/$(basename "$1" .sh).log
	local start=$(date +%s)
	if [ -n "${2:-}" ]; then
		flock "$2" bash "$1" >"$log" 2>&1
	else
		bash "$1" >"$log" 2>&1
	fi
	local rc=$?
	echo "$rc $(($(date +%s) - start))" >"$log.rc"
}

# report SCRIPT: one line for the script just run, its log if it failed.
report() {
	local log rc took
	log=$logs/$(basename "$1" .sh).log
	read -r rc took <"$log.rc" || rc=1 took=0
	rm -f "$log.rc"
	if [ "$rc" -eq 0 ]; then
		echo "=== PASS $1 (${took}s)"
		pass=$((pass + 1))
	elif [ "$rc" -eq 77 ] && [ "${CI:-}" != true ]; then
		echo "=== SKIP $1: $(tail -n 1 "$log")"
		skip=$((skip + 1))
	else
		echo "=== FAIL $1 (exit $rc, ${took}s); its output:"
		sed 's/^/    /' "$log"
		fail=$((fail + 1))
		failed="$failed $1"
	fi
}

if [ ${#parallel[@]} -gt 0 ]; then
	echo "=== ${#parallel[@]} scripts, $jobs at a time"
	declare -A running=()
	for t in "${parallel[@]}"; do
		while [ ${#running[@]} -ge "$jobs" ]; do
			wait -n
			for p in "${!running[@]}"; do
				kill -0 "$p" 2>/dev/null && continue
				wait "$p"
				report "${running[$p]}"
				unset "running[$p]"
			done
		done
		run_one "$t" &
		running[$!]=$t
	done
	for p in "${!running[@]}"; do
		wait "$p"
		report "${running[$p]}"
	done
	unset running
fi

[ ${#serial[@]} -eq 0 ] || echo "=== ${#serial[@]} scripts, one at a time"
for t in "${serial[@]}"; do
	echo "=== $t"
	run_one "$t" "${PV_SERIAL_LOCK:-/tmp/pv-serial.lock}"
	report "$t"
done

echo "integration: $pass passed, $fail failed, $skip skipped" \
	"($(($(date +%s) - t_start)) s)"
[ $fail -eq 0 ] || {
	echo "failed:$failed"
	exit 1
}
