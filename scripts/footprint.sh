#!/usr/bin/env bash
# Measures what pvd and pv-xconnect cost on a board and prints a markdown
# table (for the README):
#   - the stripped size of each binary, for the host (x86_64) and, when
#     their cross compilers are installed, arm64 and armhf (built with
#     `make ARCH=...`, the sysroot made on first use);
#   - pv-xconnect's resident memory (VmRSS) idle, and while it carries N
#     idle proxied connections (default 1,000) from loopback clients to a
#     loopback backend, with a --graph file whose provider is "_host_".
#
#   scripts/footprint.sh [-n CONNS] [--no-cross] [--no-rss]
#
# BUILD (default build) is the host build directory; cross builds go to
# BUILD/ARCH. Traffic stays on 127.0.0.1; everything started is stopped at
# exit. Needs python3 and ss (iproute2) for the RSS part.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
CONNS=1000
CROSS=1
RSS=1
while [ $# -gt 0 ]; do
	case "$1" in
	-n)
		[ $# -ge 2 ] || { echo "footprint: -n needs a number" >&2; exit 2; }
		CONNS=$2
		shift
		;;
	--no-cross) CROSS=0 ;;
	--no-rss) RSS=0 ;;
	-h | --help)
		sed -n '2,16s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "footprint: unknown argument '$1' (see --help)" >&2
		exit 2
		;;
	esac
	shift
done
case "$CONNS" in
'' | *[!0-9]*) echo "footprint: -n: '$CONNS' is not a number" >&2; exit 2 ;;
esac
if [ "$CONNS" -lt 1 ] || [ "$CONNS" -gt 8000 ]; then
	echo "footprint: -n: $CONNS is outside 1..8000" >&2
	exit 2
fi

TMP=$(mktemp -d /tmp/pv-footprint.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "footprint: $*" >&2; }

# Size in KiB with one decimal.
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# Code and data loaded from the file (text + data, as `size` counts them),
# in bytes: unlike the file size, free of the padding that aligns segments
# to the target's largest page size (64 KiB on aarch64).
loaded_size() {
	local sizeprog=$1 bin=$2
	[ -x "$bin" ] || return 0
	"$sizeprog" "$bin" 2>/dev/null | awk 'NR == 2 { print $1 + $2 }'
}

# Stripped size of one binary in bytes, or nothing when it is missing.
stripped_size() {
	local strip=$1 bin=$2
	[ -x "$bin" ] || return 0
	"$strip" -o "$TMP/stripped" "$bin" 2>/dev/null || return 0
	stat -c %s "$TMP/stripped"
}

# ---- sizes ----------------------------------------------------------------
# arch, make arguments, strip program
archs=("$(uname -m)")
makeargs=("BUILD=$BUILD")
strips=(strip)
sizeprogs=(size)
dirs=("$BUILD")
if [ $CROSS = 1 ]; then
	for a in arm64:aarch64-linux-gnu armhf:arm-linux-gnueabihf; do
		arch=${a%%:*} triplet=${a#*:}
		if ! command -v "$triplet-gcc" >/dev/null 2>&1; then
			log "$arch: no $triplet-gcc, skipped (apt-get install gcc-$triplet)"
			continue
		fi
		archs+=("$arch")
		makeargs+=("ARCH=$arch BUILD=$BUILD/$arch")
		strips+=("$triplet-strip")
		sizeprogs+=("$triplet-size")
		dirs+=("$BUILD/$arch")
	done
fi

declare -A size loaded
for i in "${!archs[@]}"; do
	arch=${archs[$i]}
	# shellcheck disable=SC2086
	if [ "$i" -gt 0 ] &&
		! make -s -C "$TOP" ${makeargs[$i]} sysroot >"$TMP/make.log" 2>&1; then
		log "$arch: no sysroot: $(tail -1 "$TMP/make.log")"
	fi
	# shellcheck disable=SC2086
	if ! make -s -C "$TOP" -j"$(nproc)" ${makeargs[$i]} all \
		>"$TMP/make.log" 2>&1; then
		log "$arch: build failed, sizes of what was built: $(grep -m1 -iE 'error' "$TMP/make.log" || tail -1 "$TMP/make.log")"
	fi
	for b in pvd pv-xconnect; do
		size[$arch,$b]=$(stripped_size "${strips[$i]}" "${dirs[$i]}/$b")
		loaded[$arch,$b]=$(loaded_size "${sizeprogs[$i]}" "${dirs[$i]}/$b")
	done
done

echo "| stripped file (code + data) | $(IFS='|'; echo "${archs[*]}" | sed 's/|/ | /g') |"
echo "| --- |$(for _ in "${archs[@]}"; do printf ' --- |'; done)"
for b in pvd pv-xconnect; do
	row="| \`$b\` |"
	for arch in "${archs[@]}"; do
		s=${size[$arch,$b]}
		if [ -z "$s" ]; then
			row="$row n/a |"
		else
			row="$row $(kib "$s") ($(kib "${loaded[$arch,$b]:-0}")) |"
		fi
	done
	echo "$row"
done
over=""
for arch in "${archs[@]}"; do
	s=${size[$arch,pv-xconnect]}
	[ -n "$s" ] && [ "$s" -ge 204800 ] && over="$over $arch"
done
[ -z "$over" ] || log "pv-xconnect is over the 200 KiB target on:$over"

[ $RSS = 1 ] || exit 0

# ---- RSS ------------------------------------------------------------------
PVX=$BUILD/pv-xconnect
echo
if [ ! -x "$PVX" ]; then
	log "no $PVX: RSS not measured"
	echo "| \`pv-xconnect\` RSS ($(uname -m)) | n/a (not built) |"
	exit 1
fi
for c in python3 ss; do
	command -v $c >/dev/null 2>&1 || { log "needs $c for the RSS part"; exit 1; }
done
# Each proxied connection is two fds in pv-xconnect and one in each helper.
need=$((2 * CONNS + 64))
if [ "$(ulimit -n)" -lt "$need" ]; then
	ulimit -n "$need" 2>/dev/null || {
		log "cannot raise the fd limit to $need (ulimit -n is $(ulimit -n)); try a smaller -n"
		exit 1
	}
fi

# The backend accepts and holds connections, writing how many it holds to
# a file; the client opens N connections through the proxy and holds them,
# and checks that bytes pass through the first one. Both stop by
# themselves after 120 s at most.
cat >"$TMP/helper.py" <<'EOF'
import os, selectors, socket, sys, time

mode, port, n, status = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
deadline = time.monotonic() + 120

def report(text):
    with open(status + ".tmp", "w") as f:
        f.write(text)
    os.replace(status + ".tmp", status)

if mode == "backend":
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(4096)
    held = []
    sel = selectors.DefaultSelector()  # epoll: fds past 1024
    sel.register(ls, selectors.EVENT_READ)
    report("0")
    while time.monotonic() < deadline:
        for key, _ in sel.select(0.2):
            s = key.fileobj
            if s is ls:
                c, _ = ls.accept()
                held.append(c)
                sel.register(c, selectors.EVENT_READ)
                report(str(len(held)))
            else:
                data = s.recv(64)
                if data:
                    s.sendall(data)  # echo, for the client's check
                else:
                    sel.unregister(s)
else:
    held = []
    for i in range(n):
        if time.monotonic() > deadline:
            break
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        held.append(c)
    c = held[0]
    c.sendall(b"ping")
    ok = c.recv(4) == b"ping"
    report("%d %s" % (len(held), "echo-ok" if ok else "echo-failed"))
    time.sleep(max(0, deadline - time.monotonic()))
EOF

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_until SECONDS CMD...: polls every 100 ms.
wait_until() {
	local n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
anon_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }
listening() { ss -Hltn "sport = :$1" | grep -q .; }
status_is() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }

bport=$(free_port)
pport=$(free_port)
python3 "$TMP/helper.py" backend "$bport" "$CONNS" "$TMP/backend" &
pids="$! $pids"
wait_until 5 listening "$bport" || { log "backend did not start"; exit 1; }

cat >"$TMP/graph.json" <<EOF
[{"type":"tcp","name":"footprint","ingress":"footprint","consumer":"EXTERNAL",
  "consumer_pid":0,"role":"EXTERNAL","provider":"_host_","provider_pid":0,
  "interface":null,"target":"127.0.0.1:$pport","socket":"127.0.0.1:$bport"}]
EOF
"$PVX" --graph "$TMP/graph.json" 2>"$TMP/pvx.log" &
pvx=$!
pids="$pvx $pids"
if ! wait_until 5 listening "$pport"; then
	log "pv-xconnect does not listen on 127.0.0.1:$pport: $(tail -3 "$TMP/pvx.log")"
	echo "| \`pv-xconnect\` RSS ($(uname -m)) | n/a (did not listen) |"
	exit 1
fi
sleep 0.5
idle=$(rss_kib $pvx)
idle_anon=$(anon_kib $pvx)

python3 "$TMP/helper.py" client "$pport" "$CONNS" "$TMP/client" &
pids="$! $pids"
if ! wait_until 60 status_is "$TMP/backend" "$CONNS" ||
	! wait_until 10 test -s "$TMP/client"; then
	log "only $(cat "$TMP/backend" 2>/dev/null || echo 0) of $CONNS connections reached the backend: $(tail -3 "$TMP/pvx.log")"
	exit 1
fi
read -r held echo <"$TMP/client" || true
[ "$echo" = echo-ok ] || { log "bytes did not pass through the proxy"; exit 1; }
sleep 0.5
busy=$(rss_kib $pvx)
busy_anon=$(anon_kib $pvx)
fds=$(ls /proc/$pvx/fd | wc -l)

echo "| \`pv-xconnect\` ($(uname -m)) | VmRSS | of it private (RssAnon) |"
echo "| --- | --- | --- |"
echo "| idle, one listener | $(mib "$idle") | $(mib "$idle_anon") |"
printf '| %s idle proxied connections (%s fds) | %s | %s |\n' \
	"$(echo "$held" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')" "$fds" \
	"$(mib "$busy")" "$(mib "$busy_anon")"
awk -v i="$idle" -v b="$busy" -v n="$held" \
	'BEGIN { printf "| per connection | %.1f KiB | |\n", (b - i) / n }'
[ "$idle" -lt 3072 ] || log "pv-xconnect idles over the 3 MiB target"
