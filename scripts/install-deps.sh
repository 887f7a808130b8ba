#!/bin/sh
# Installs, from Debian's archive, what building pvd/pv-xconnect and running
# the example needs; with --test also everything `make check` uses, so that
# no test is skipped. Packages already present are skipped, so a prepared
# machine makes no network access. Debian 12, as root.
#
#   scripts/install-deps.sh            build and run the example
#   scripts/install-deps.sh --test     ... and run every test
#   scripts/install-deps.sh --list [--test]   print the list, install nothing
set -eu

# Build: compiler, libevent, jsmn, liblxc, libnftables (NAT pools), and
# for the kernel data path (docs/datapath.md; `make BPF=0` builds without)
# clang for -target bpf, bpftool for the skeleton and libbpf-dev. Run:
# LXC, the example's nginx, iproute2 for bridges and namespaces, curl/jq
# for pv-ctrl.
PACKAGES="build-essential pkg-config libevent-dev libjsmn-dev lxc-dev lxc
libnftables-dev clang bpftool libbpf-dev iproute2 nginx-light curl wget jq
netcat-openbsd socat procps"
# make check: Debian's Python for the test helpers (tests use
# /usr/bin/python3, never a python3 found first on PATH), HAProxy as a
# balancing peer, the Prometheus parser for /metrics, valgrind, nft (the
# NAT test lists the ruleset with it; pvd itself uses the library), and
# util-linux/coreutils tools named by the scripts.
TEST_PACKAGES="python3 python3-prometheus-client haproxy valgrind
util-linux binutils man-db nftables"

list=false test=false
for a in "$@"; do
	case $a in
	--test) test=true ;;
	--list) list=true ;;
	*) echo "install-deps: unknown option $a (use --test, --list)" >&2; exit 2 ;;
	esac
done
$test && PACKAGES="$PACKAGES $TEST_PACKAGES"
if $list; then
	# shellcheck disable=SC2086
	printf '%s\n' $PACKAGES
	exit 0
fi

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
