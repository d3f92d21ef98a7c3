#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the bin directory of lcov 2, fetching it first if the cache has none.
#
# Debian 12's lcov is 1.16, without differential coverage.  trixie's lcov
# 2.3.1 is architecture-independent perl that runs on Debian 12's perl, so
# its .deb is fetched through a private apt configuration (as the base is),
# unpacked under the cache with 'dpkg -x' and never installed: nothing from
# trixie reaches the system.  Its perl dependencies come from bookworm
# ('make deps').  Exits non-zero, saying why, when lcov 2 cannot be had.
. "$(dirname "$0")/lib.sh"

LCOV2_VERSION=2.3.1-1
LCOV2_SHA256=b89bfb28e8a6dee12b25ca63d269733909eaebb6b737958d4fb8b47b23ea4926
LCOV2_SUITE=trixie
APT_DIR=$CACHE/apt-$LCOV2_SUITE
dest=$CACHE/lcov-$LCOV2_VERSION

# The perl modules lcov 2 loads that are not part of perl itself (it takes
# JSON::PP from perl; bookworm's faster JSON::XS would upgrade perl).
check_perl() {
	local m missing=()
	for m in Capture::Tiny DateTime Date::Parse; do
		perl -M"$m" -e 1 2>/dev/null || missing+=("$m")
	done
	[ ${#missing[@]} -eq 0 ] ||
		die "lcov 2 needs the perl modules ${missing[*]}; run 'make deps'
  (or: apt-get install libcapture-tiny-perl libdatetime-perl libtimedate-perl)"
}

fetch() {
	local deb tmp f
	deb=$CACHE/dl/lcov_${LCOV2_VERSION}_all.deb
	if ! echo "$LCOV2_SHA256  $deb" | sha256sum -c --status 2>/dev/null; then
		need apt-get apt
		mkdir -p "$CACHE/dl"
		log "fetching lcov $LCOV2_VERSION from $LCOV2_SUITE (private apt state in $APT_DIR)"
		apt_private_update "$LCOV2_SUITE" \
			"Fix the network or set DEBIAN_MIRROR=<archive URL>; 'make coverage' falls back to lcov 1.16 meanwhile."
		rm -f "$deb"
		(cd "$CACHE/dl" && apt_private apt-get -qq download "lcov=$LCOV2_VERSION") >&2 ||
			die "apt-get download lcov=$LCOV2_VERSION from $LCOV2_SUITE failed (has it left the archive?)"
		echo "$LCOV2_SHA256  $deb" | sha256sum -c --status ||
			die "$deb does not match the pinned sha256 $LCOV2_SHA256"
	fi
	tmp=$(mktemp -d "$CACHE/lcov.XXXXXX")
	dpkg-deb -x "$deb" "$tmp"
	# The scripts find their library and each other at fixed paths
	# (/usr/lib/lcov, tool_dir=/usr/bin); point those at the unpacked tree
	# so that no part of lcov 1.16 is mixed in.  (Callers also pass
	# --config-file: by default lcov 2 would read 1.16's /etc/lcovrc.)
	for f in "$tmp"/usr/bin/*; do
		head -n 1 "$f" | grep -q perl || continue
		sed -i "s|^use lib \"/usr/lib/lcov\";|use lib \"$dest/usr/lib/lcov\";|" "$f"
	done
	! grep -l '^use lib "/usr/lib/lcov"' "$tmp"/usr/bin/* >&2 ||
		die "lcov $LCOV2_VERSION: the scripts above still load /usr/lib/lcov (layout changed?)"
	sed -i "s|^our \$tool_dir  = \"/usr/bin\";|our \$tool_dir  = \"$dest/usr/bin\";|" \
		"$tmp/usr/lib/lcov/lcovutil.pm"
	grep -q "^our \$tool_dir  = \"$dest/usr/bin\";" "$tmp/usr/lib/lcov/lcovutil.pm" ||
		die "lcov $LCOV2_VERSION: could not point tool_dir at $dest/usr/bin (layout changed?)"
	rm -rf "$dest"
	mv "$tmp" "$dest"
}

check_perl
[ -x "$dest/usr/bin/genhtml" ] || fetch
"$dest/usr/bin/lcov" --version >/dev/null 2>&1 ||
	die "$dest/usr/bin/lcov does not run; remove $dest to fetch it again"
echo "$dest/usr/bin"
