#!/usr/bin/env bash
# `make install DESTDIR=... PREFIX=/usr` lays out exactly what an image needs
# (two programs, two man pages, the example state), with the right modes,
# binaries that run from there and carry no path of the build tree, man
# pages that document the options the programs take; `make uninstall`
# removes exactly that.
set -eu
user_build=${BUILD:-}
. "$(dirname "$0")/../lib.sh"
need_cmd make readelf man

DEST=$T/root
mk() {
	make -s -C "$TOP" ${user_build:+BUILD=$user_build} PREFIX=/usr \
		DESTDIR="$DEST" "$@" >"$T/make.log" 2>&1 ||
		fail "make $* failed: $(tail -5 "$T/make.log")"
}

mk install

# The exact list of files and their modes.
want=$(
	{
		echo "755 usr/bin/pvd"
		echo "755 usr/bin/pv-xconnect"
		echo "644 usr/share/man/man8/pvd.8"
		echo "644 usr/share/man/man8/pv-xconnect.8"
		(cd "$TOP" && find examples/ingress-nginx -type f) |
			sed 's|^|644 usr/share/doc/pv-xconnect/|'
	} | LC_ALL=C sort
)
got=$(cd "$DEST" && find . -type f -printf '%m %P\n' -o -type l -printf 'link %P\n' |
	LC_ALL=C sort)
[ "$got" = "$want" ] || fail "installed files differ:
$(diff <(echo "$want") <(echo "$got") | sed -n 's/^[<>]/  &/p')
  (< wanted, > installed)"
grep -q 'state.json$' <<<"$want" || fail "no example state installed"
bad_dirs=$(cd "$DEST" && find . -type d ! -perm 755 -printf '%m %P\n')
[ -z "$bad_dirs" ] || fail "directories not 0755: $bad_dirs"

for b in pvd pv-xconnect; do
	bin=$DEST/usr/bin/$b
	# No path of the build tree (debug info, __FILE__) in what ships.
	if grep -a -q -F "$TOP" "$bin"; then
		fail "$b contains the build path $TOP"
	fi
	if readelf -d "$bin" | grep -qE 'RPATH|RUNPATH'; then
		fail "$b has an RPATH/RUNPATH: $(readelf -d "$bin" | grep -E 'R(UN)?PATH')"
	fi
	"$bin" --help >"$T/$b.help" 2>&1 || fail "installed $b --help failed: $(head -3 "$T/$b.help")"

	# The man page's OPTIONS section and --help name the same options.
	man=$DEST/usr/share/man/man8/$b.8
	man_opts=$(sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man" | sed 's/\\-/-/g' |
		grep -oE -- '--[a-z][a-z-]*' | LC_ALL=C sort -u)
	help_opts=$(grep -oE -- '--[a-z][a-z-]*' "$T/$b.help" | LC_ALL=C sort -u)
	help_opts=$(printf '%s\n--help\n' "$help_opts" | LC_ALL=C sort -u)
	[ "$man_opts" = "$help_opts" ] || fail "$b.8 and $b --help disagree on options:
$(diff <(echo "$man_opts") <(echo "$help_opts") | sed -n 's/^[<>]/  &/p')
  (< man page only, > --help only)"
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l -Tutf8 "$man" 2>&1 >/dev/null)
	[ -z "$warn" ] || fail "$b.8 renders with warnings: $warn"
done

# Uninstall removes exactly what install put there: files of others in the
# same directories stay.
echo keep >"$DEST/usr/bin/other"
echo keep >"$DEST/usr/share/man/man8/other.8"
mk uninstall
left=$(cd "$DEST" && find . -type f -printf '%P\n' | LC_ALL=C sort)
assert_eq "$left" "$(printf 'usr/bin/other\nusr/share/man/man8/other.8')" \
	"files left after make uninstall"
[ ! -e "$DEST/usr/share/doc/pv-xconnect" ] ||
	fail "make uninstall left usr/share/doc/pv-xconnect"

echo "install: $(echo "$want" | wc -l) files, modes, no build paths, man pages match --help; uninstall clean"
