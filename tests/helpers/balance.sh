# Shared by tests/integration/4*-balance-*.sh; source after ../lib.sh
# (and xconnect.sh for the graph helpers).
#
#   start_app NAME SOCK       build/app as instance NAME on Unix socket SOCK
#   start_app_tcp NAME PORT   the same on TCP 127.0.0.1:PORT (all addresses)
#   app_pid NAME              its pid
#   hit N URL                 N requests in a row; prints "NAME COUNT" per
#                             instance that answered and "FAILED COUNT"
#   hit_for MS URL            the same for MS ms
#   count NAME OUT            COUNT of NAME in hit's output (0 if absent)
#   now_ms                    wall clock in ms
#   ms_until START MAX CMD... polls CMD every 20 ms; prints the ms from
#                             START (now_ms) to its success, fails the test
#                             after MAX ms
#   status SP                 pv-xconnect's JSON from its stats page
#   be SP SOCK FIELD          a backend's field (jq path) in status SP

APP=$BUILD/app
[ -x "$APP" ] || fail "$APP missing: run make"

start_app() {
	USE_UNIX_SOCKET=true SOCKET_PATH=$2 INSTANCE_NAME=$1 "$APP" \
		>>"$T/$1.log" 2>&1 &
	echo $! >"$T/$1.pid"
	on_cleanup "kill $! 2>/dev/null"
	wait_for 20 test -S "$2"
}

start_app_tcp() {
	APP_PORT=$2 INSTANCE_NAME=$1 "$APP" >>"$T/$1.log" 2>&1 &
	echo $! >"$T/$1.pid"
	on_cleanup "kill $! 2>/dev/null"
	wait_for 20 port_open "$2"
}

app_pid() { cat "$T/$1.pid"; }

# Counts hit's raw lines ("Hello from NAME" or FAILED).
tally() {
	awk '$1 == "Hello" { c[$3]++; next }
		{ f++ }
		END { for (k in c) print k, c[k]; print "FAILED", f + 0 }'
}

hit() {
	_n=0
	while [ $_n -lt "$1" ]; do
		curl -sf --max-time 5 "$2" || echo FAILED
		_n=$((_n + 1))
	done | tally
}

# hit_for MS URL: requests in a row for MS ms (at most 1000 of them).
hit_for() {
	_end=$(($(now_ms) + $1)) _n=0
	while [ "$(now_ms)" -lt $_end ] && [ $_n -lt 1000 ]; do
		curl -sf --max-time 5 "$2" || echo FAILED
		_n=$((_n + 1))
	done | tally
}

count() {
	echo "$2" | awk -v n="$1" '$1 == n { print $2; found = 1 }
		END { if (!found) print 0 }'
}

now_ms() { date +%s%3N; }

ms_until() {
	_start=$1 _max=$2
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		if [ $(($(now_ms) - _start)) -gt "$_max" ]; then
			fail "not within $_max ms: $*"
		fi
		sleep 0.02
	done
	echo $(($(now_ms) - _start))
}

status() { curl -s --max-time 2 "http://127.0.0.1:$1/status"; }

be() {
	status "$1" | jq -r --arg s "$2" \
		".frontends[].backends[] | select(.socket == \$s) | $3"
}

# be_is SP SOCK HEALTH: true when the backend's health is HEALTH.
be_is() { [ "$(be "$1" "$2" .health)" = "$3" ]; }
