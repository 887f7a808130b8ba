# Shared by tests/integration/2*-xconnect-*.sh; source after ../lib.sh.
#
#   ingress NAME TARGET SOCKET [PROVIDER [PID [EXTRA_JSON]]]   one link (JSON)
#   consumer_link NAME CONSUMER PID TARGET SOCKET [PROVIDER [PPID]]
#   graph LINK...                 writes $T/graph.json
#   start_pvx [ARGS...]           pv-xconnect --graph $T/graph.json, $PVX_PID
#   reload                        SIGHUP, then waits for the reload line
#   bg NAME CMD...                background helper, killed at cleanup
#   port_open PORT [HOST]         1 when something accepts on it

PVXTOOL="$PYTHON $TOP/tests/helpers/pvxtool.py"

ingress() {
	_extra=${6:-}
	printf '{"type":"tcp","name":"%s","consumer":"EXTERNAL","consumer_pid":0,"provider":"%s","provider_pid":%s,"role":"EXTERNAL","interface":null,"target":"%s","socket":"%s","ingress":"%s"%s}' \
		"$1" "${4:-_host_}" "${5:-0}" "$2" "$3" "$1" "${_extra:+,$_extra}"
}

consumer_link() {
	printf '{"type":"tcp","name":"%s","consumer":"%s","consumer_pid":%s,"provider":"%s","provider_pid":%s,"role":"client","interface":null,"target":"%s","socket":"%s"}' \
		"$1" "$2" "$3" "${6:-_host_}" "${7:-0}" "$4" "$5"
}

graph() {
	_g="["
	_sep=""
	for _l in "$@"; do
		_g="$_g$_sep$_l"
		_sep=","
	done
	printf '%s]\n' "$_g" >"$T/graph.json.tmp"
	mv "$T/graph.json.tmp" "$T/graph.json"
}

start_pvx() {
	"$PVX" --graph "$T/graph.json" "$@" >"$T/pvx.log" 2>&1 &
	PVX_PID=$!
	on_cleanup "kill $PVX_PID"
	wait_for 5 grep -q "graph from" "$T/pvx.log"
}

# Counts the reload lines so far, sends SIGHUP, waits for one more.
reload() {
	_n=$(grep -c "SIGHUP" "$T/pvx.log" || true)
	kill -HUP "$PVX_PID"
	wait_for 5 sh -c "[ \$(grep -c SIGHUP '$T/pvx.log') -gt $_n ]"
	sleep 0.1
}

bg() {
	_name=$1
	shift
	"$@" >"$T/$_name.log" 2>&1 &
	on_cleanup "kill $!"
}

port_open() {
	nc -z -w 1 "${2:-127.0.0.1}" "$1" 2>/dev/null
}

pvx_alive() {
	kill -0 "$PVX_PID" 2>/dev/null || fail "pv-xconnect died"
}

rss_kb() {
	awk '/^VmRSS:/ {print $2}' /proc/"$1"/status
}

# fds_are PID N: true when PID has exactly N open fds (for wait_for).
fds_are() {
	[ "$(fd_count "$1")" -eq "$2" ]
}
