#!/bin/sh
# Brings up the ingress example in the foreground (nginx in a container on
# an IPAM pool, reachable on the host's ports 80 and 8080): installs what is
# missing, builds, and runs pvd on examples/ingress-nginx/state.json. Ctrl-C
# stops it and removes everything it created. As root on Debian 12.
set -eu
cd "$(dirname "$0")/.."

die() {
	echo "run-example: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (pvd creates bridges and containers): sudo $0"
scripts/install-deps.sh
command -v lxc-checkconfig >/dev/null || die "LXC is missing: apt-get install lxc"
make -j"$(nproc)" >/dev/null

for port in 80 8080; do
	if ss -Htln "sport = :$port" | grep -q .; then
		die "port $port is already in use on this host (ss -tlnp 'sport = :$port' shows by whom); stop that service first"
	fi
done

cat <<MSG
run-example: starting pvd; in a second terminal try:
  curl -s http://127.0.0.1/ | head -5            # Welcome to nginx! (TCP backend 10.0.4.2:80)
  curl -s http://127.0.0.1:8080/ | head -5       # the same page over nginx's Unix socket
  printf 'GET /xconnect-graph HTTP/1.0\r\n\r\n' | nc -U /run/pantavisor/pv/pv-ctrl | tail -1 | jq
Ctrl-C stops it.
MSG
exec build/pvd --state examples/ingress-nginx/state.json "$@"
