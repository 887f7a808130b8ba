#!/bin/sh
# Installs, from Debian's archive, what building pvd/pv-xconnect and running
# the example and the tests needs. Packages already present are skipped, so
# a prepared machine makes no network access. Debian 12, as root.
set -eu

PACKAGES="build-essential pkg-config libevent-dev libjsmn-dev lxc-dev lxc
iproute2 nginx-light curl wget jq netcat-openbsd socat python3 procps"
if [ "${1:-}" = --test ]; then
	PACKAGES="$PACKAGES clang-format valgrind"
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
