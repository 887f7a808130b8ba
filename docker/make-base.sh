#!/bin/sh
# Builds a base image for the appengine image from Debian's archive, for
# machines that reach Debian's mirror but no container registry: a
# minimal Debian 12 made by debootstrap with the runtime packages already
# in it (docker/install-runtime.sh --list), imported into docker. Done
# once: an image of that name is reused.
#
#   docker/make-base.sh [NAME]      default pvd-appengine-base:bookworm
#
# As root (debootstrap). DEBIAN_MIRROR overrides the mirror.
set -eu
cd "$(dirname "$0")/.."

NAME=${1:-pvd-appengine-base:bookworm}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

die() {
	echo "make-base: $*" >&2
	exit 1
}

command -v docker >/dev/null 2>&1 || die "no docker client on PATH"
# Reused while it holds every runtime package; made again when the list
# grew (pvd gained a library).
if docker image inspect "$NAME" >/dev/null 2>&1; then
	# shellcheck disable=SC2046
	if docker run --rm --network none --entrypoint dpkg-query "$NAME" \
		-W $(docker/install-runtime.sh --list) >/dev/null 2>&1; then
		echo "make-base: $NAME exists; reusing it"
		exit 0
	fi
	echo "make-base: $NAME lacks runtime packages; making it again"
	docker rmi "$NAME" >/dev/null
fi
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap)"
if ! command -v debootstrap >/dev/null 2>&1; then
	echo "make-base: installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends debootstrap >/dev/null ||
		die "debootstrap is missing and apt-get cannot install it"
fi

dir=$(mktemp -d /var/tmp/pvd-base.XXXXXX)
# debootstrap unmounts what it mounted in the target; should anything be
# left mounted, the directory stays rather than be deleted through it.
cleanup() {
	if grep -q " $dir/" /proc/self/mountinfo; then
		echo "make-base: mounts left under $dir; not removing it" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pkgs=$(docker/install-runtime.sh --list | paste -sd, -)
echo "make-base: debootstrap $SUITE with $pkgs (a few minutes)"
debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$dir/root" \
	"$MIRROR" >"$dir/debootstrap.log" 2>&1 || {
	tail -n 20 "$dir/debootstrap.log" >&2
	die "debootstrap failed (log above)"
}
# What is the host's, not the image's: docker provides these at run time.
: >"$dir/root/etc/resolv.conf"
echo localhost >"$dir/root/etc/hostname"
rm -rf "$dir/root/var/cache/apt/archives/"*.deb \
	"$dir/root/var/lib/apt/lists/"* "$dir/root/var/log/"*.log
tar --numeric-owner -C "$dir/root" -c . | docker import \
	-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	- "$NAME" >/dev/null
echo "make-base: imported $NAME ($(du -sh "$dir/root" | cut -f1))"
