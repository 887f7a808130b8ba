#!/bin/sh
# Runs each unit test binary given; under VALGRIND=1 through valgrind with
# leak checking (tests/valgrind.supp: libbpf's bpf() calls). Fails if any
# test fails.
set -u
failed=0
for t in "$@"; do
	if [ "${VALGRIND:-0}" = 1 ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--suppressions="$(dirname "$0")/valgrind.supp" \
			--errors-for-leak-kinds=definite,indirect "$t"
	else
		"$t"
	fi
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL $t (exit $rc)"
		failed=1
	fi
done
exit $failed
