#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the build and test dependencies that are missing, from the
# machine's own Debian archive (bookworm on Debian 12).
. "$(dirname "$0")/lib.sh"

# command:package pairs; a package is installed when its command is missing.
deps="gcc:gcc make:make git:git python3:python3 perl:perl flex:flex bison:bison bc:bc
xz:xz-utils lcov:lcov genhtml:lcov ccache:ccache mke2fs:e2fsprogs e2fsck:e2fsprogs
dpkg-deb:dpkg apt-get:apt"
missing=()
for d in $deps; do
	command -v "${d%%:*}" >/dev/null 2>&1 || missing+=("${d#*:}")
done
# Headers the UML build needs that no command stands for.
dpkg-query -W -f='${Status}' libelf-dev 2>/dev/null | grep -q 'ok installed' || missing+=(libelf-dev)
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
[ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})"
command -v apt-get >/dev/null || die "missing packages: ${missing[*]}, and no apt-get to install them"
mkdir -p "$BUILD"
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -qq update >/dev/null 2>&1 || warn "apt-get update failed; trying with the lists already here"
apt-get -qq install -y --no-install-recommends "${missing[@]}" >"$BUILD/apt.log" 2>&1 || {
	tail -n 20 "$BUILD/apt.log" >&2
	die "apt-get install ${missing[*]} failed (no network to the Debian archive?); see build/apt.log"
}
