#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the build and test dependencies that are missing, from the
# machine's own Debian archive (bookworm on Debian 12).
. "$(dirname "$0")/lib.sh"

# build-essential: gcc, make and libc6-dev for the UML kernel;
# python3-ply, python3-git: checkpatch.pl's SPDX check (spdxcheck.py).
# lib*-perl: the modules of trixie's lcov 2 (harness/lcov2.sh), from bookworm.
# qemu-system-x86: the x86_64 leg under qemu (harness/kunit-x86.sh).
pkgs="build-essential flex bison bc libelf-dev git perl python3 python3-ply python3-git
xz-utils lcov ccache e2fsprogs libcapture-tiny-perl libdatetime-perl libtimedate-perl
libdatetime-format-w3cdtf-perl qemu-system-x86"
# 'deps.sh bench': what 'make bench' needs on top (fio, gnuplot for the chart).
if [ "${1:-}" = bench ]; then
	pkgs+=" fio gnuplot-nox strace"
fi
missing=()
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

[ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})"
command -v apt-get >/dev/null || die "missing packages: ${missing[*]}, and no apt-get to install them"
mkdir -p "$BUILD"
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -qq update >"$BUILD/apt.log" 2>&1 || warn "apt-get update failed; trying with the lists already here"
apt-get -qq install -y --no-install-recommends "${missing[@]}" >>"$BUILD/apt.log" 2>&1 || {
	tail -n 20 "$BUILD/apt.log" >&2
	die "apt-get install ${missing[*]} failed (no network to the Debian archive?); see build/apt.log"
}
