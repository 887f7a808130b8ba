#!/bin/bash
# pvd --check: prints the graph (exit 0), every error (exit 1), or one line
# on bad usage (exit 2). Starts nothing; needs neither root nor LXC.
set -eu
. "$(dirname "$0")/../lib.sh"
need_cmd jq

cd "$TOP"
DATA=tests/data
[ -x "$PVD" ] || fail "$PVD is not built"

# check STATE: runs pvd --check, leaves stdout/stderr in $T and the status
# in $rc.
check() {
	set +e
	"$PVD" --check --state "$1" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
}

# seed.json, the design's own example state: nginx in a container on pool
# 10.0.4.0/24, its port 80 the host's ingress (nginx-http on 10.0.4.2:80).
check "$DATA/states/seed.json"
assert_eq "$rc" 0 "seed.json: exit status"
[ -s "$T/err" ] && fail "seed.json: unexpected stderr: $(cat "$T/err")"
assert_eq "$(wc -l <"$T/out")" 1 "seed.json: graph lines"
assert_eq "$(jq -r '.[] | select(.name=="nginx-http") | .socket' "$T/out")" \
	"10.0.4.2:80" "seed.json: nginx-http socket"
assert_eq "$(jq -r '.[0] | [.consumer, .role, .target, .ingress,
	.consumer_pid, .provider_pid] | join(" ")' "$T/out")" \
	"EXTERNAL EXTERNAL 0.0.0.0:80 nginx-http 0 0" "seed.json: ingress link"
# Every link has every field of a graph link.
assert_eq "$(jq '[.[] | has("type", "name", "consumer", "consumer_pid",
	"provider", "provider_pid", "role", "interface", "target", "socket")]
	| all' "$T/out")" true "seed.json: fields"

# Golden graphs: a state file and a state directory.
for s in seed.json full.json dir; do
	check "$DATA/states/$s"
	assert_eq "$rc" 0 "$s: exit status"
	cmp -s "$T/out" "$DATA/graphs/$s" ||
		fail "$s: graph differs: $(diff "$DATA/graphs/$s" "$T/out")"
done

# full.json: the traps of the original design stay fixed.
check "$DATA/states/full.json"
assert_eq "$(jq '[.[] | select(.ingress=="web")] | length' "$T/out")" 2 \
	"two providers of one rule give two links"
assert_eq "$(jq -r '[.[] | select(.name=="http" and .provider=="web1")
	| .target] | sort | join(",")' "$T/out")" "0.0.0.0:80,0.0.0.0:8080" \
	"one service behind ports 80 and 8080 stays two links"
assert_eq "$(jq -r '.[] | select(.ingress=="v6web") | .socket' "$T/out")" \
	"[fd00::2]:443" "IPv6 backend"
assert_eq "$(jq -r '.[] | select(.ingress=="hostapp") | .socket' "$T/out")" \
	"127.0.0.1:8081" "host-network backend"
assert_eq "$(jq -r '.[] | select(.consumer=="client" and .name=="http")
	| [.role, .target, .socket] | join(" ")' "$T/out")" \
	"any 127.0.0.1:8080 10.0.4.50:80" "consumer link"

# upstream's Test 10 state: a tcp rule to a Unix echo, an http rule with a
# path prefix to a REST server's socket; the graph keeps the whole target.
check "$DATA/states/upstream-test10.json"
assert_eq "$rc" 0 "upstream-test10.json: exit status"
assert_eq "$(jq -r '.[] | select(.ingress=="rest-http-ingress")
	| [.type, .target, .socket, .provider] | join(" ")' "$T/out")" \
	"http 0.0.0.0:80/api /run/nm/api.sock pv-example-rest-server" \
	"upstream-test10.json: http ingress link"
assert_eq "$(jq -r '.[] | select(.ingress=="echo-tcp") | .target' "$T/out")" \
	"0.0.0.0:2222" "upstream-test10.json: tcp ingress link"

# Bad states: exit 1, nothing on stdout, exactly the expected lines.
n=0
for f in "$DATA"/bad/*.json; do
	check "$f"
	assert_eq "$rc" 1 "$f: exit status"
	[ -s "$T/out" ] && fail "$f: printed a graph"
	cmp -s "$T/err" "${f%.json}.err" ||
		fail "$f: errors differ: $(diff "${f%.json}.err" "$T/err")"
	n=$((n + 1))
done
[ $n -ge 8 ] || fail "only $n bad states found"

# A bad state directory names each file by its path inside it.
mkdir -p "$T/state/web"
cp "$DATA/states/dir/device.json" "$T/state/"
printf '{"name": "web", "exec": 42}' >"$T/state/web/run.json"
printf '{"services": [{"name": "x", "type": "tcp", "port": "80abc"}]}' \
	>"$T/state/web/services.json"
check "$T/state"
assert_eq "$rc" 1 "bad directory: exit status"
grep -qxF 'web/run.json: exec: expected a non-empty array of strings or a command string, got 42' "$T/err" ||
	fail "bad directory: exec line missing: $(cat "$T/err")"
grep -qxF 'web/services.json: services[0].port: "80abc" is not a port (1..65535)' "$T/err" ||
	fail "bad directory: port line missing: $(cat "$T/err")"

check /nonexistent/state.json
assert_eq "$rc" 1 "missing state: exit status"
assert_eq "$(cat "$T/err")" \
	"/nonexistent/state.json: cannot open: No such file or directory" \
	"missing state: message"

# Bad usage: one line on stderr, exit 2.
for args in "" "--check" "--state" "--bogus --state x" "--check --state x extra"; do
	set +e
	# shellcheck disable=SC2086
	"$PVD" $args >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	assert_eq "$rc" 2 "usage '$args': exit status"
	[ "$(grep -c . "$T/err")" -ge 1 ] || fail "usage '$args': no message"
	[ -s "$T/out" ] && fail "usage '$args': printed to stdout"
done
"$PVD" --help >"$T/out"
grep -q -- '--state' "$T/out" || fail "--help does not mention --state"

echo "01-check: ok"
