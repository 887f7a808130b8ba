#!/bin/sh
# Brings up the load-balancing example in the foreground: two instances of
# examples/app (app1, app2), each in its own container and listening on a
# Unix socket inside it, behind one ingress on port 9999 with roundrobin and
# an HTTP health check, and pv-xconnect's stats page on 127.0.0.1:8404.
# Builds first. Ctrl-C stops pvd, which removes what it created. As root.
#
# state.json runs the app as /usr/local/bin/pv-example-app (where an image
# would install it); this script runs a copy of the state that points at
# the tree's build/app instead, since the containers see the host's root.
set -eu
cd "$(dirname "$0")/../.."

die() {
	echo "balance example: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (pvd starts containers): sudo $0"
command -v lxc-checkconfig >/dev/null || die "LXC is missing: apt-get install lxc"
make -j"$(nproc)" >/dev/null
for port in 9999 8404; do
	if ss -Htln "sport = :$port" | grep -q .; then
		die "port $port is already in use on this host (ss -tlnp 'sport = :$port' shows by whom)"
	fi
done

# Containers have private /tmp and /run: a checkout there is out of sight.
case "$PWD/" in
/tmp/* | /run/* | /var/run/*)
	die "the containers cannot see $PWD/build/app (their /tmp and /run are private): run from a checkout elsewhere, or install the app as /usr/local/bin/pv-example-app and run pvd on examples/balance/state.json"
	;;
esac

# In /run (a tmpfs), rewritten at each run: pvd gets the signals itself.
state=/run/pv-balance-example.json
sed "s|/usr/local/bin/pv-example-app|$PWD/build/app|" \
	examples/balance/state.json >"$state"

cat <<MSG
balance example: starting pvd; in a second terminal try:
  for i in 1 2 3 4; do curl -s http://127.0.0.1:9999/; done   # app1, app2, app1, app2
  curl -s http://127.0.0.1:8404/stats | less                  # or open it in a browser
  kill -USR1 \$(curl -s --unix-socket /run/pantavisor/pv/pv-ctrl http://localhost/containers | jq '.[] | select(.name=="app1") | .pid')
      # app1's /health answers 500: out of rotation within 3 s (SIGUSR2: back)
  curl -s --unix-socket /run/pantavisor/pv/pv-ctrl http://localhost/metrics | grep pvx_backend_up
Ctrl-C stops it.
MSG
exec build/pvd --state "$state" "$@"
