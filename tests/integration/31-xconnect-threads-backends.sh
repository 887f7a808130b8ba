#!/bin/bash
# --threads 2, one ingress rule with two host backends (tagged echo
# servers): every client's answer says which backend served it, and the
# JSON status, the Prometheus metrics and the stats page give each backend
# exactly the sessions it served, whichever thread accepted them. (Worker
# figures were once matched to backends by label, the ingress name, which
# every backend of a rule shares: a worker's sessions all landed on the
# first backend.)
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nc curl jq
"$PYTHON" -c 'import prometheus_client' 2>/dev/null ||
	skip "needs python3-prometheus-client"

N=400
ea=$(free_port)
eb=$(free_port)
port=$(free_port)
SP=$(free_port)
bg echoA $PVXTOOL echo "127.0.0.1:$ea" --tag A
bg echoB $PVXTOOL echo "127.0.0.1:$eb" --tag B
wait_for 5 port_open "$ea"
wait_for 5 port_open "$eb"
graph "$(ingress one "127.0.0.1:$port" "127.0.0.1:$ea")" \
	"$(ingress one "127.0.0.1:$port" "127.0.0.1:$eb")"
start_pvx --threads 2 --stats "127.0.0.1:$SP"
wait_for 5 port_open "$SP"
# Both threads listen before the first client, so that both serve some.
wait_for 5 sh -c "[ \$(ss -Hltn '( sport = :$port )' | wc -l) -eq 2 ]"

# N clients, one after the other, each reading its backend's tag. Bounded:
# 5 s per client at most, 120 s for all of them.
"$PYTHON" - "$port" "$N" >"$T/tags.txt" <<'PY' || fail "clients: $(tail -3 "$T/tags.txt")"
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
end = time.monotonic() + 120
for i in range(n):
    if time.monotonic() > end:
        sys.exit("client %d: out of time" % i)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    print(s.makefile("rb").readline().decode().strip())
    s.close()
PY
na=$(grep -cx A "$T/tags.txt" || true)
nb=$(grep -cx B "$T/tags.txt" || true)
echo "served: A $na, B $nb"
assert_eq "$((na + nb))" "$N" "clients answered by a backend"
[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] || fail "one backend served nobody"

# The workers publish their figures every 500 ms: wait until the frontend
# counts every client and none is open any more.
status() { curl -s --max-time 5 "http://127.0.0.1:$SP/status"; }
fe_is() {
	[ "$(status | jq -c '.frontends[] | select(.name == "one") |
		[.sessions_total, .sessions_now]')" = "[$N,0]" ]
}
wait_for 10 fe_is || fail "frontend: $(status | jq -c '.frontends[0]')"

# JSON status.
be_total() {
	status | jq --arg s "$1" '.frontends[] | select(.name == "one") |
		.backends[] | select(.socket == $s) | .sessions_total'
}
assert_eq "$(be_total "127.0.0.1:$ea")" "$na" "status: backend A sessions"
assert_eq "$(be_total "127.0.0.1:$eb")" "$nb" "status: backend B sessions"

# Prometheus metrics, through a real parser.
curl -s --max-time 5 "http://127.0.0.1:$SP/metrics" >"$T/metrics.txt"
"$PYTHON" - "$T/metrics.txt" "127.0.0.1:$ea" "$na" "127.0.0.1:$eb" "$nb" <<'PY' || fail "metrics"
import sys
from prometheus_client.parser import text_string_to_metric_families
got = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        if s.name == "pvx_backend_sessions_total":
            got[s.labels["backend"]] = int(s.value)
want = {sys.argv[2]: int(sys.argv[3]), sys.argv[4]: int(sys.argv[5])}
if got != want:
    sys.exit("pvx_backend_sessions_total: got %s, want %s" % (got, want))
PY

# The stats page: the "Total" column of each backend's row.
curl -s --max-time 5 "http://127.0.0.1:$SP/stats" >"$T/stats.html"
"$PYTHON" - "$T/stats.html" "127.0.0.1:$ea" "$na" "127.0.0.1:$eb" "$nb" <<'PY' || fail "stats page"
import sys
from html.parser import HTMLParser
class Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.row, self.cell = [], None, None
    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
p = Rows()
p.feed(open(sys.argv[1]).read())
head = next(r for r in p.rows if r and r[0] == "Name")
addr, total = head.index("Address"), head.index("Total")
got = {r[addr]: int(r[total]) for r in p.rows
       if len(r) == len(head) and r[0] != "Frontend" and r[0] != "Name"}
want = {sys.argv[2]: int(sys.argv[3]), sys.argv[4]: int(sys.argv[5])}
if got != want:
    sys.exit("stats page totals: got %s, want %s" % (got, want))
PY
pvx_alive
echo "PASS"
