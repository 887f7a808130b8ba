#!/bin/sh
# Unpacks the target's libraries (libevent, liblxc and what liblxc links
# against) from Debian's archive into a private sysroot for cross builds:
#
#   scripts/cross-sysroot.sh arm64 build/arm64/sysroot
#
# Why not `apt-get install lxc-dev:arm64`: lxc and lxc-dev are not
# Multi-Arch, so lxc-dev:arm64 pulls lxc:arm64, which replaces the host's lxc
# that pvd and the integration tests need. The packages are therefore only
# downloaded (apt-get download) and unpacked (dpkg-deb -x); nothing is
# installed and the host is not touched. Needs `dpkg --add-architecture ARCH`
# and `apt-get update` once, as root; the rest works as any user.
set -eu

usage() {
	echo "usage: $0 DEBIAN-ARCH DIR   (e.g. arm64 build/arm64/sysroot)" >&2
	exit 2
}

[ $# -eq 2 ] || usage
arch=$1
dest=$2
case "$arch" in
arm64 | armhf | armel | i386 | riscv64 | ppc64el | s390x | mips64el) ;;
*) usage ;;
esac

# Headers and .pc files (-dev), and every library the linker must resolve
# when it links against liblxc.so.1 and libevent.so. lxc.pc names libseccomp,
# libselinux and libcap in Requires.private, which pkg-config reads even for
# --cflags, so their -dev packages (and libselinux's) come too.
PACKAGES="libevent-dev libevent-2.1-7 libevent-core-2.1-7 libevent-extra-2.1-7
libevent-pthreads-2.1-7 lxc-dev liblxc1 libseccomp2 libseccomp-dev libcap2
libcap-dev libselinux1 libselinux1-dev libsepol-dev libpcre2-8-0 libpcre2-dev
libapparmor1"
# Architecture-independent: jsmn is a header-only library. Taken into the
# sysroot too so that no header comes from the host's /usr/include.
ALL_PACKAGES="libjsmn-dev"

if ! dpkg --print-foreign-architectures | grep -qx "$arch" &&
	[ "$(dpkg --print-architecture)" != "$arch" ]; then
	echo "cross-sysroot: $arch is not a dpkg architecture here; as root run:" >&2
	echo "  dpkg --add-architecture $arch && apt-get update" >&2
	exit 1
fi

debs=$(mktemp -d "${TMPDIR:-/tmp}/pv-sysroot-debs.XXXXXX")
trap 'rm -rf "$debs"' EXIT INT TERM
# As root, apt downloads as its unprivileged _apt user, which needs the
# directory; as any other user it downloads as that user.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
	chown _apt "$debs"
fi

pkgs=""
for p in $PACKAGES; do
	pkgs="$pkgs $p:$arch"
done
pkgs="$pkgs $ALL_PACKAGES"
# shellcheck disable=SC2086
if ! (cd "$debs" && apt-get download -q $pkgs >/dev/null); then
	echo "cross-sysroot: apt-get download failed for$pkgs" >&2
	echo "  (is 'apt-get update' done since 'dpkg --add-architecture $arch'?)" >&2
	exit 1
fi

rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
for d in "$debs"/*.deb; do
	dpkg-deb -x "$d" "$dest.tmp"
done

# Some -dev packages link libfoo.so to an absolute /lib/... path; inside a
# sysroot that would point at the host, so make such links relative.
top=$(cd "$dest.tmp" && pwd)
find "$top" -type l | while read -r link; do
	target=$(readlink "$link")
	case "$target" in
	/*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" \
		"$top$target")" "$link" ;;
	esac
done

rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "cross-sysroot: $arch libraries unpacked into $dest"
