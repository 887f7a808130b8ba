#!/bin/sh
# What the appengine image runs besides pvd and pv-xconnect, from Debian's
# archive: liblxc with LXC's runtime files (init.lxc, hooks), libevent,
# libbpf (pv-xconnect's kernel data path),
# nginx for the example, and the tools the acceptance check runs inside
# the container (busybox for its sh, netcat-openbsd for nc -U, wget,
# iproute2 for ip). Packages already present are skipped, so on a base
# that holds them all nothing is fetched.
#
#   install-runtime.sh           install what is missing (in the image build)
#   install-runtime.sh --list    print the list, one a line (for debootstrap)
set -eu

PACKAGES="liblxc1 liblxc-common libevent-2.1-7 libnftables1 libbpf1 nginx-light
netcat-openbsd busybox wget iproute2"

case ${1:-} in
--list)
	# shellcheck disable=SC2086
	printf '%s\n' $PACKAGES
	exit 0
	;;
"") ;;
*)
	echo "install-runtime: unknown option $1 (use --list)" >&2
	exit 2
	;;
esac

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-runtime: every package is in the base; nothing to fetch"
	exit 0
fi
echo "install-runtime: installing$missing"
# No service may start from a package's scripts (nginx's would).
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	policy=/usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
apt-get clean
rm -rf /var/lib/apt/lists/* $policy
