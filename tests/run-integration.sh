#!/bin/sh
# Runs every tests/integration/NN-*.sh in order. Exit 77 is a skip, allowed
# only outside CI: under CI=true a missing prerequisite fails the run.
# ONLY=pattern runs the scripts whose names contain it.
set -u
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0 skip=0
failed=""
for t in tests/integration/[0-9]*.sh; do
	[ -e "$t" ] || continue
	case "$t" in *"${ONLY:-}"*) ;; *) continue ;; esac
	echo "=== $t"
	start=$(date +%s)
	bash "$t"
	rc=$?
	took=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		echo "=== PASS $t (${took}s)"
		pass=$((pass + 1))
	elif [ $rc -eq 77 ] && [ "${CI:-}" != true ]; then
		echo "=== SKIP $t"
		skip=$((skip + 1))
	else
		echo "=== FAIL $t (exit $rc, ${took}s)"
		fail=$((fail + 1))
		failed="$failed $t"
	fi
done
echo "integration: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] || { echo "failed:$failed"; exit 1; }
