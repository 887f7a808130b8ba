#!/bin/bash
# pv-test: serial
# "nat": true on a pool: a container on that pool connects to a test host
# in a network namespace this test creates (a veth of its own, 10.201.63.0/24)
# and the test host sees the host's address (10.201.63.1); a container on
# a pool without NAT is seen with its pool address. IPv4 forwarding is
# turned on while pvd runs. After pvd exits no rule of pvd's remains, and
# a table left by a killed pvd is removed by the next one. Where nf_tables
# refuses the table, one line says so and the pool works without NAT.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd curl jq ip nft lxc-checkconfig

SOCK=$T/pv-ctrl
NS=pvt61h
BRN=pvtbr61n BRP=pvtbr61p
for b in $BRN $BRP pvt61a; do
	ip link show $b >/dev/null 2>&1 && skip "interface $b already exists"
done
for n in 10.201.61 10.201.62 10.201.63; do
	ip -4 addr | grep -q "inet $n\." && skip "subnet $n.0/24 in use"
done
ip netns list | grep -qw $NS && skip "network namespace $NS exists"
nft list tables | grep -q "pvd_" && skip "pvd tables already in nftables"
fwd_before=$(cat /proc/sys/net/ipv4/ip_forward)
# A killed pvd cannot turn forwarding off again: the test does.
on_cleanup "echo $fwd_before >/proc/sys/net/ipv4/ip_forward"

# The test host: its own namespace and veth, a server that answers each
# connection with the address it sees. Back to the plain pool's subnet
# through the host, so that an un-NATed container gets an answer.
ip netns add $NS
on_cleanup "ip netns del $NS"
ip link add pvt61a type veth peer name pvt61b
on_cleanup "ip link del pvt61a"
ip link set pvt61b netns $NS
ip addr add 10.201.63.1/24 dev pvt61a
ip link set pvt61a up
ip -n $NS addr add 10.201.63.2/24 dev pvt61b
ip -n $NS link set pvt61b up
ip -n $NS link set lo up
ip -n $NS route add 10.201.62.0/24 via 10.201.63.1
ip netns exec $NS "$PYTHON" -c '
import socketserver as s
class H(s.BaseRequestHandler):
    def handle(self):
        self.request.sendall(("seen " + self.client_address[0] + "\n").encode())
s.TCPServer.allow_reuse_address = True
s.TCPServer(("10.201.63.2", 8000), H).serve_forever()' &
srv=$!
on_cleanup "kill $srv"
wait_for 30 ip netns exec $NS sh -c "ss -Htln 'sport = :8000' | grep -q ."

# Each container asks the test host, once a second until it answers.
"$PYTHON" - "$T/state.json" <<'PY'
import json, sys
ask = ("import socket, time\n"
       "for i in range(60):\n"
       "    try:\n"
       "        c = socket.create_connection(('10.201.63.2', 8000), timeout=2)\n"
       "        print(c.makefile().readline().strip(), flush=True); break\n"
       "    except OSError as e:\n"
       "        print('retry', e, flush=True); time.sleep(1)\n"
       "time.sleep(1000)\n")
json.dump({
    "device.json": {"network": {"pools": {
        "natted": {"type": "bridge", "bridge": "pvtbr61n",
                   "subnet": "10.201.61.0/24", "gateway": "10.201.61.1",
                   "nat": True},
        "plain": {"type": "bridge", "bridge": "pvtbr61p",
                  "subnet": "10.201.62.0/24", "gateway": "10.201.62.1",
                  "nat": False}}}},
    "n/run.json": {"name": "n", "type": "lxc", "network": {"pool": "natted"},
                   "exec": [sys.executable, "-c", ask]},
    "p/run.json": {"name": "p", "type": "lxc", "network": {"pool": "plain"},
                   "exec": [sys.executable, "-c", ask]},
}, open(sys.argv[1], "w"))
PY

# The bridges go once every pvd is gone; so does the table of a pvd that
# was killed.
on_cleanup "ip link del $BRN; ip link del $BRP"
start_nat_pvd() { # LOG
	start_pvd "$1" "$T/state.json" "$T/run" --no-xconnect
	on_cleanup "nft delete table inet pvd_$PID"
	wait_for 30 test -S "$SOCK"
}
start_nat_pvd "$T/pvd.log"
wait_for 30 grep -q '^seen' "$T/run/n.log"
wait_for 30 grep -q '^seen' "$T/run/p.log"
assert_eq "$(grep '^seen' "$T/run/n.log")" "seen 10.201.63.1" "the NAT pool's container, as the test host sees it"
assert_eq "$(grep '^seen' "$T/run/p.log")" "seen 10.201.62.2" "the plain pool's container, as the test host sees it"
assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" 1 "IPv4 forwarding while pvd runs"
[ "$fwd_before" = 1 ] || grep -q "IPv4 forwarding turned on for NAT pools" "$T/pvd.log" ||
	fail "no line saying IPv4 forwarding was turned on"
nft list table inet pvd_$PID | grep -q 'ip saddr 10.201.61.0/24 oifname != "pvtbr61n" masquerade' ||
	fail "no masquerade rule for the NAT pool: $(nft list table inet pvd_$PID)"
nft list table inet pvd_$PID | grep -q '10.201.62' && fail "the plain pool is masqueraded"

kill -TERM $PID
wait $PID || fail "pvd exit status $?"
nft list ruleset | grep -q "pvd_" && fail "pvd's table left after exit: $(nft list ruleset)"
assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$fwd_before" "IPv4 forwarding after pvd exits"

# A killed pvd leaves its table; the next pvd removes it.
start_nat_pvd "$T/pvd2.log"
old=$PID
# Killed once its table exists (the socket comes before the table).
wait_for 30 grep -q "NAT: table inet pvd_$old" "$T/pvd2.log"
kill -9 $old
wait $old 2>/dev/null || true
nft list tables | grep -q "pvd_$old" || fail "a killed pvd left no table (cannot test the clean-up)"
start_nat_pvd "$T/pvd3.log"
# The socket comes first; the tables once the bridges are up.
wait_for 30 grep -q "pvd running" "$T/pvd3.log"
grep -q "removing nftables table inet pvd_$old left by pvd $old, which is gone" "$T/pvd3.log" ||
	fail "the stale table of pvd $old was not reported"
nft list tables | grep -q "pvd_$old" && fail "the stale table of pvd $old is still there"
kill -TERM $PID
wait $PID || fail "pvd exit status $?"
nft list ruleset | grep -q "pvd_" && fail "pvd's table left after exit"

# A host whose nf_tables refuses the table (as a kernel without it does):
# one line, and the pool works without NAT. libnftables' answer is
# played by a preloaded stand-in.
need_cmd cc
cat >"$T/nonft.c" <<'C'
#include <string.h>
struct nft_ctx;
int nft_run_cmd_from_buffer(struct nft_ctx *nft, const char *buf)
{
	(void)nft;
	return strncmp(buf, "list ", 5) ? -1 : 0;
}
const char *nft_ctx_get_error_buffer(struct nft_ctx *nft)
{
	(void)nft;
	return "Error: Could not process rule: Operation not supported\n";
}
C
cc -shared -fPIC -o "$T/nonft.so" "$T/nonft.c" || fail "cannot build the stand-in"
# A sanitizer build wants its runtime first among preloaded libraries.
asan=$(ldd "$PVD" | awk '/libasan/ { print $3 }')
LD_PRELOAD="${asan:+$asan }$T/nonft.so" start_pvd "$T/pvd4.log" "$T/state.json" "$T/run4" --no-xconnect
wait_for 30 grep -q "pvd running" "$T/pvd4.log"
assert_eq "$(grep -c "NAT unavailable" "$T/pvd4.log")" 1 "lines saying NAT is unavailable"
grep -q "NAT unavailable (nf_tables: Error: Could not process rule: Operation not supported); 1 NAT pool works without NAT" "$T/pvd4.log" ||
	fail "NAT line: $(grep NAT "$T/pvd4.log")"
wait_for 60 sh -c "curl -s --unix-socket $SOCK http://l/containers | jq -e '.[] | select(.name==\"n\") | .status == \"running\" and .ip == \"10.201.61.2\"'"
nft list tables | grep -q "pvd_" && fail "a table was made though nf_tables refused it"
kill -TERM $PID
wait $PID || fail "pvd exit status $? without nf_tables"
echo PASS
