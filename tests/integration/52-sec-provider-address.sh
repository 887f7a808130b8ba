#!/bin/bash
# Security: a container's own files (run.json, services.json) cannot point
# the proxy at any address but the container's leased one (or loopback for
# a host-network container). Through pvd --check: every attempt is refused
# with one line naming the file, field and reason, or has no effect on
# the graph; the graph's backend is always the lease. Needs neither root
# nor LXC. (01-check covers socket "127.0.0.1:22" among its bad states.)
set -eu
. "$(dirname "$0")/../lib.sh"
need_cmd jq

NET=10.201.52
# state NETWORK SERVICE: a pool container "app" exporting SERVICE as "svc",
# behind an ingress; another container "other" on the same pool.
state() {
	cat >"$T/state.json" <<EOF
{"#spec":"pantavisor-service-system@1",
 "device.json":{"network":{"pools":{"p":{"type":"bridge","bridge":"pvtbr52",
   "subnet":"$NET.0/24","gateway":"$NET.1","nat":false}}},
   "ingress":[{"name":"in","type":"tcp","external":"127.0.0.1:18052",
     "provider":"app","service":"svc"}]},
 "other/run.json":{"name":"other","type":"lxc","exec":["/bin/true"],
   "network":{"mode":"pool","pool":"p","ip":"$NET.7"}},
 "app/run.json":{"name":"app","type":"lxc","exec":["/bin/true"],"network":$1},
 "app/services.json":{"services":[$2]}}
EOF
}
POOL='{"mode":"pool","pool":"p"}'

# refused NETWORK SERVICE LINE: pvd --check exits 1 with exactly LINE.
refused() {
	state "$1" "$2"
	rc=0
	"$PVD" --check --state "$T/state.json" >"$T/out" 2>"$T/err" || rc=$?
	assert_eq "$rc" 1 "exit status for $2 $1"
	[ ! -s "$T/out" ] || fail "a graph was printed for $2"
	assert_eq "$(cat "$T/err")" "$3" "error for $2 $1"
}
# backend NETWORK SERVICE WANT: accepted, and the ingress's backend is WANT.
backend() {
	state "$1" "$2"
	"$PVD" --check --state "$T/state.json" >"$T/out" 2>"$T/err" ||
		fail "refused: $2 $1: $(cat "$T/err")"
	assert_eq "$(jq -r '.[] | select(.ingress=="in") | .socket' "$T/out")" "$3" \
		"backend for $2 $1"
	grep -q "10\.9\.9\.9\|:22\"" "$T/out" && fail "the graph names an address the container gave: $(cat "$T/out")"
	return 0
}

# The baseline: the lease and the exported port.
backend "$POOL" '{"name":"svc","type":"tcp","port":80}' "$NET.2:80"
# An address where a path or a port belongs.
refused "$POOL" '{"name":"svc","type":"tcp","socket":"10.9.9.9:22"}' \
	'app/services.json: services[0].socket: "10.9.9.9:22" is not an absolute path: a container may only export a path inside itself (use "port" for its own TCP port)'
refused "$POOL" '{"name":"svc","type":"tcp","socket":"[::1]:22"}' \
	'app/services.json: services[0].socket: "[::1]:22" is not an absolute path: a container may only export a path inside itself (use "port" for its own TCP port)'
refused "$POOL" '{"name":"svc","type":"tcp","port":"10.9.9.9:22"}' \
	'app/services.json: services[0].port: "10.9.9.9:22" is not a port (1..65535)'
refused "$POOL" '{"name":"svc","type":"tcp","port":"22@10.9.9.9"}' \
	'app/services.json: services[0].port: "22@10.9.9.9" is not a port (1..65535)'
refused "$POOL" '{"name":"svc","type":"tcp","port":-22}' \
	'app/services.json: services[0].port: -22 is not a port (1..65535)'
refused "$POOL" '{"name":"svc","type":"tcp","socket":"/run/a\u0000/../../x"}' \
	'app/services.json: services[0].socket: contains a NUL character (\u0000)'
# Keys that name addresses are not part of an export: no effect.
backend "$POOL" '{"name":"svc","type":"tcp","port":80,"address":"10.9.9.9","host":"10.9.9.9","ip":"10.9.9.9","target":"10.9.9.9:22"}' "$NET.2:80"
# A second "port" does not override the first one's meaning.
backend "$POOL" '{"name":"svc","type":"tcp","port":80,"port":"10.9.9.9:22"}' "$NET.2:80"
# A static address that is not a container's to take: the host's side of
# the bridge, the subnet's edges, another container's, outside the pool.
for bad in "$NET.1:is the pool's gateway" "$NET.0:is the subnet's network address" \
	"$NET.255:is the subnet's broadcast address" "127.0.0.1:is outside the subnet" \
	"10.9.9.9:is outside the subnet"; do
	ip=${bad%%:*} why=${bad#*:}
	refused "{\"mode\":\"pool\",\"pool\":\"p\",\"ip\":\"$ip\"}" '{"name":"svc","type":"tcp","port":80}' \
		"app/run.json: network.ip: \"$ip\" $why (pool p, $NET.0/24, gateway $NET.1)"
done
state "{\"mode\":\"pool\",\"pool\":\"p\",\"ip\":\"$NET.7\"}" '{"name":"svc","type":"tcp","port":80}'
rc=0
"$PVD" --check --state "$T/state.json" >"$T/out" 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "another container's address"
grep -q "^app/run.json: network.ip: \"$NET.7\" " "$T/err" || fail "another container's address: $(cat "$T/err")"
# The interfaces form is held to the same rules.
refused "{\"interfaces\":[{\"pool\":\"p\",\"ipv4_address\":\"$NET.1\"}]}" '{"name":"svc","type":"tcp","port":80}' \
	"app/run.json: network.interfaces[0].ipv4_address: \"$NET.1\" is the pool's gateway (pool p, $NET.0/24, gateway $NET.1)"
# A static address of its own is its backend.
backend "{\"mode\":\"pool\",\"pool\":\"p\",\"ip\":\"$NET.9\"}" '{"name":"svc","type":"tcp","port":8080}' "$NET.9:8080"
# Host network: loopback, whatever the export says.
backend '{"mode":"host"}' '{"name":"svc","type":"tcp","port":80,"address":"10.9.9.9"}' "127.0.0.1:80"
# No network (loopback only): nothing the host could reach, refused.
refused '"none"' '{"name":"svc","type":"tcp","port":80}' \
	'device.json: ingress[0].provider: container app has no network (network "none"), so nothing outside it can reach its port; give it a pool or mode "host", or export a socket'
echo "PASS"
