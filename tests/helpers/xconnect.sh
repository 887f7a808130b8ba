# Shared by the integration tests; source after ../lib.sh.
#
#   ingress NAME TARGET SOCKET [PROVIDER [PID [EXTRA_JSON]]]   one link (JSON)
#   consumer_link NAME CONSUMER PID TARGET SOCKET [PROVIDER [PPID]]
#   graph LINK...                 writes $T/graph.json
#   start_pvx [ARGS...]           pv-xconnect --graph $T/graph.json, $PVX_PID
#   reload                        SIGHUP, then waits until it is applied
#   listening NAME                true once link NAME logged its listener
#   settled PID                   true when every thread of PID waits for
#                                 events: what it was doing is done
#   bg NAME CMD...                background helper, killed at cleanup
#   port_open PORT [HOST]         true when something accepts on it
#   gone PID                      true once PID has ended
#   terminate PID...              SIGTERM, SIGKILL if still there 20 s later
#   sessions_closed PID           PID holds no TCP socket but listeners

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
	wait_for 20 grep -q "graph from" "$T/pvx.log"
}

# Counts the reload lines so far, sends SIGHUP, waits for one more, then
# until the reload is applied: pv-xconnect logs that line and reconciles
# in the same callback, so once it waits for events again, it is done.
reload() {
	_n=$(grep -c "SIGHUP" "$T/pvx.log" || true)
	kill -HUP "$PVX_PID"
	wait_for 30 sh -c "[ \$(grep -c SIGHUP '$T/pvx.log') -gt $_n ]"
	wait_for 30 settled "$PVX_PID"
}

listening() { grep -q "link $1: listening on" "$T/pvx.log"; }

# settled PID: pv-xconnect's own threads (the main one, then the workers,
# named pvx-worker-N) sleep in epoll_wait (their wchan) or, where the
# kernel does not tell, sleep at all. The main thread first: it wakes the
# workers (a new graph) before it waits again. Threads of a runtime
# (qemu-user's, a sanitizer's) are not pv-xconnect's and are not looked at.
settled() {
	for _t in /proc/"$1"/task/"$1" /proc/"$1"/task/*; do
		[ "$_t" = /proc/"$1"/task/"$1" ] ||
			case $(cat "$_t/comm" 2>/dev/null) in
			pvx-worker-*) ;;
			*) continue ;;
			esac
		case $(cat "$_t/wchan" 2>/dev/null) in
		*epoll*) ;;
		0 | "") [ "$(awk '{print $3}' "$_t/stat" 2>/dev/null)" = S ] || return 1 ;;
		*) return 1 ;;
		esac
	done
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

gone() { ! kill -0 "$1" 2>/dev/null; }

# For cleanups: a daemon gets the time to stop cleanly (its containers,
# its bridge), and is killed only if it does not.
terminate() {
	kill "$@" 2>/dev/null || true
	_i=0
	for _p in "$@"; do
		while ! gone "$_p" && [ $_i -lt 400 ]; do
			sleep 0.05
			_i=$((_i + 1))
		done
	done
	kill -9 "$@" 2>/dev/null || true
}

# sessions_closed PID: PID holds no TCP socket but its listeners, as the
# kernel says (ss -p): every session it had is over.
sessions_closed() {
	! ss -Htanp | awk -v p="pid=$1," '$1 != "LISTEN" && index($0, p) { f = 1 }
		END { exit !f }'
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
