# SPDX-License-Identifier: GPL-2.0
# Shared settings and helpers for the harness scripts.  Sourced, not run.

set -euo pipefail
# Let failures inside $(...) stop the script too.
shopt -s inherit_errexit

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${EXT4_KUNIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ext4-iomap-kunit}
BUILD=${EXT4_KUNIT_BUILD:-$TOP/build}
TREE=$BUILD/linux
# EXT4_KUNIT_FLAVOUR=<name>: a debug kernel (harness/<name>.config on top of
# .kunitconfig, no gcov) with its own build directory and logs, so that the
# normal build stays warm ('make check-debug').
FLAVOUR=${EXT4_KUNIT_FLAVOUR:-}
RUN_SUFFIX=${FLAVOUR:+-$FLAVOUR}
# COVERAGE=0 builds without gcov in build/kunit-nocov, for the same reason.
[ -n "$FLAVOUR" ] || [ "${COVERAGE:-1}" != 0 ] || RUN_SUFFIX=-nocov
# EXT4_KUNIT_ARCH=x86_64: the x86_64 leg under qemu (harness/kunit-x86.sh),
# with its own build directory, results and logs; the scripts that read
# them (check-suites, fsck, summary) follow it.
KUNIT_ARCH=${EXT4_KUNIT_ARCH:-um}
[ "$KUNIT_ARCH" = um ] || RUN_SUFFIX=-$KUNIT_ARCH
KBUILD_DIR=$BUILD/kunit$RUN_SUFFIX
RESULTS=$BUILD/results$RUN_SUFFIX.json
KUNIT_LOG=$BUILD/kunit$RUN_SUFFIX.log
FSCK_LOG=$BUILD/fsck$RUN_SUFFIX.log
BUILD_LOG=$BUILD/build$RUN_SUFFIX.log
PATCHES=$TOP/patches
SERIES=$PATCHES/series

# The pinned base: Debian's linux-source-7.3 from trixie-backports.
BASE_PKG=linux-source-7.3
PINNED_VERSION=7.3.4-1~bpo13+1
# EXT4_KUNIT_BASE_VERSION asks for another version (no sha256 pin then).
BASE_VERSION=${EXT4_KUNIT_BASE_VERSION:-$PINNED_VERSION}
BASE_DEB_SHA256=703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3
BASE_TAR_SHA256=76df1affb19f24926949369be1d74b60071c963c598ce8780bddd4bbf0fc3bc4
BASE_SUITE=trixie-backports

# Commits made by the harness get a fixed identity and the author date as
# committer date, so that materializing the same series twice gives the same
# commit ids.
export GIT_COMMITTER_NAME="ext4-iomap-kunit series"
export GIT_COMMITTER_EMAIL="series@ext4-iomap-kunit.invalid"

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# need TOOL PACKAGE: fail with a fix-it message when a tool is missing.
need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' is not installed; run 'make deps' (or: apt-get install $2) and try again"
}

# Time a phase and remember it for the summary printed by phase_report.
PHASE_LOG=${PHASE_LOG:-$BUILD/phases.log}
phase() {
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s.%N)
	"$@" || rc=$?
	mkdir -p "$(dirname "$PHASE_LOG")"
	printf '%-12s %7.1f s%s\n' "$name" "$(echo "$(date +%s.%N) - $t0" | bc)" \
		"$([ $rc = 0 ] || echo "  (failed, exit $rc)")" >>"$PHASE_LOG"
	return $rc
}
phase_report() {
	[ -s "$PHASE_LOG" ] || return 0
	echo "---- time per phase ----"
	cat "$PHASE_LOG"
}

# coverage_dirs: the directories coverage reads, relative to the tree, one a
# line: fs/ext4, fs/iomap and every directory whose C sources build/linux
# changes against the base, less those inside another one.
coverage_dirs() {
	{ echo fs/ext4; echo fs/iomap; git -C "$TREE" diff --name-only base -- '*.c' | xargs -r -n1 dirname; } |
		sort -u | awk '{ for (k in kept) if (index($0, k "/") == 1) next; kept[$0]; print }'
}

# gcov_only_in DIR...: a make argument that keeps UML's gcov flags to the
# objects of DIR and below.  gcc records the working directory in a .gcno
# and the absolute .gcda path in a profiled object, so ccache (rightly)
# never reuses a profiled object in another clone; profiling only what
# coverage reads lets every other object come from ccache.  kbuild filters
# ccflags-remove-y out of each directory's flags, and make expands this
# value in each directory, where $(obj) is the directory.  A command-line
# value replaces the Makefiles' own: in 7.3 only kernel/trace and lib set one,
# and only with FUNCTION_TRACER, which UML does not have.
gcov_only_in() {
	local d pats=
	for d; do pats+="$d $d/% "; done
	printf '%s' "ccflags-remove-y=\$(if \$(filter ${pats% },\$(obj)),,-fprofile-arcs -ftest-coverage)"
}

# setup_ccache [BASEDIR]: set KCC to the compiler to build kernels with:
# "ccache gcc", with the cache under $CACHE, or plain gcc (with a warning)
# when ccache is missing.  The tree's and the build directory's paths are
# part of every compile command; with both under CCACHE_BASEDIR (default
# $BUILD), ccache hashes them relative to the compiler's directory, so that
# clones of the repo share results.
setup_ccache() {
	KCC=gcc
	if ! command -v ccache >/dev/null; then
		warn "ccache not found: builds will not be cached (make deps installs it)"
		return 0
	fi
	export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
	export CCACHE_BASEDIR=${1:-$BUILD} CCACHE_NOHASHDIR=1
	KCC="ccache gcc"
}

# The Debian archive to fetch from: DEBIAN_MIRROR, else the machine's own.
debian_mirror() {
	local m=${DEBIAN_MIRROR:-}
	if [ -z "$m" ]; then
		m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
			awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' |
			grep -E '/debian/?$' | head -n 1 || true)
	fi
	if [ -z "$m" ]; then
		m=$(grep -hE '^deb[[:space:]]' /etc/apt/sources.list 2>/dev/null |
			awk '{ print $2 }' | grep -E '/debian/?$' | head -n 1 || true)
	fi
	[ -n "$m" ] || die "no Debian archive found in /etc/apt/sources.list*; set DEBIAN_MIRROR=<archive URL>"
	echo "$m"
}

# apt_private CMD ARGS...: apt-get or apt-cache with its own sources list,
# lists and archives under $APT_DIR, so the machine's apt state is never
# touched.
apt_private() {
	local cmd=$1
	shift
	"$cmd" -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$APT_DIR/sources.list.d" \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
		-o Dir::State="$APT_DIR" -o Dir::State::Lists="$APT_DIR/lists" \
		-o Dir::State::status=/dev/null -o Dir::Cache="$APT_DIR" \
		-o Dir::Cache::archives="$APT_DIR/archives" \
		-o APT::Sandbox::User=root -o Debug::NoLocking=1 "$@"
}


# apt_private_update SUITE HINT: point $APT_DIR at SUITE of the Debian archive
# and update its lists; on failure, show apt's messages and HINT, and stop.
apt_private_update() {
	local suite=$1 hint=$2 uri
	uri=$(debian_mirror)
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/archives/partial" "$APT_DIR/sources.list.d"
	rm -f "$APT_DIR"/sources.list.d/*.sources
	cat >"$APT_DIR/sources.list.d/$suite.sources" <<-SRC
		Types: deb
		URIs: $uri
		Suites: $suite
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	SRC
	if ! apt_private apt-get -qq update >"$APT_DIR/update.log" 2>&1 ||
	   grep -qE '^(W|E): Failed to fetch' "$APT_DIR/update.log"; then
		sed 's/^/  /' "$APT_DIR/update.log" >&2
		die "cannot reach the Debian archive for $suite (no network, or a wrong mirror?).
  $hint"
	fi
}
