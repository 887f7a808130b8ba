#!/bin/sh
# Unpacks the target's libraries (libevent, liblxc and what liblxc links
# against) from Debian's archive into a private sysroot for cross builds:
#
#   scripts/cross-sysroot.sh arm64 build/arm64/sysroot
#
# Why not `apt-get install lxc-dev:arm64`: lxc and lxc-dev are not
# Multi-Arch, so lxc-dev:arm64 pulls lxc:arm64, which replaces the host's lxc
# that pvd and the integration tests need. So the packages are only
# downloaded and unpacked (dpkg-deb -x), with apt run on a private state
# (its own package lists for ARCH, in a temporary directory): nothing is
# installed, the host's dpkg and apt configuration are not touched, and no
# `dpkg --add-architecture` is needed. Root is not needed either.
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
# when it links against liblxc.so.1, libevent.so and libnftables.so (NAT
# pools: libnftables1 links libnftnl, libmnl, libjansson, libxtables,
# libgmp), libbpf.so (the kernel data path: libelf, zlib, whose .pc
# files libbpf.pc names). lxc.pc names libseccomp,
# libselinux and libcap in Requires.private, which pkg-config reads even for
# --cflags, so their -dev packages (and libselinux's) come too.
PACKAGES="libevent-dev libevent-2.1-7 libevent-core-2.1-7 libevent-extra-2.1-7
libevent-pthreads-2.1-7 lxc-dev liblxc1 libseccomp2 libseccomp-dev libcap2
libcap-dev libselinux1 libselinux1-dev libsepol-dev libpcre2-8-0 libpcre2-dev
libapparmor1 libnftables-dev libnftables1 libnftnl11 libmnl0 libjansson4
libxtables12 libgmp10 libbpf-dev libbpf1 libelf-dev libelf1 zlib1g-dev zlib1g"
# Architecture-independent: jsmn is a header-only library. Taken into the
# sysroot too so that no header comes from the host's /usr/include.
ALL_PACKAGES="libjsmn-dev"

work=$(mktemp -d "${TMPDIR:-/tmp}/pv-sysroot.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
# As root, apt fetches as its unprivileged _apt user, which must be able to
# write there; as any other user it fetches as that user.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
	chown -R _apt "$work"
fi
# The host's sources (same mirror, same keys), ARCH as the only
# architecture, and nothing of the host's apt state.
apt_priv() {
	apt-get -q -o Dir::State::Lists="$work/lists" \
		-o Dir::Cache="$work/cache" -o Dir::State::status=/dev/null \
		-o APT::Architecture="$arch" -o APT::Architectures::="$arch" \
		-o Debug::NoLocking=1 "$@"
}

if ! apt_priv update >"$work/update.log" 2>&1; then
	# A mirror in sync may fail one index (a security update list); what
	# is missing shows up as a failed download below.
	echo "cross-sysroot: apt-get update for $arch reported errors:" >&2
	grep -E '^(E|W):' "$work/update.log" | head -5 >&2
fi
# shellcheck disable=SC2086
if ! (cd "$work/debs" && apt_priv download $PACKAGES $ALL_PACKAGES \
	>"$work/download.log" 2>&1); then
	echo "cross-sysroot: apt-get download failed for $arch:" >&2
	grep -E '^(E|W):' "$work/download.log" | head -5 >&2
	exit 1
fi

rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
for d in "$work"/debs/*.deb; do
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
