#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the path of the baseline tracefile for the differential report,
# building it first if the cache has none for this base.
#
# The baseline is the base as it runs its own tests: the commits at the head
# of the series that leave fs/ alone (the UML coverage fix, KUnit's coverage
# config and docs) on top of the base, built with ext4's own kunitconfig and
# coverage_uml.config, exactly as Documentation/dev-tools/kunit/running_tips.rst
# says, and run.  genhtml then tells apart the lines of the base that
# upstream's tests covered and still cover (CBC), that the series' suites
# reach for the first time (GBC), that lost coverage (LBC), and so on.
#
# Building it takes as long as a cold kernel build, once per base, compiler
# and lcov: the tracefile is cached under $CACHE/coverage-baseline with its
# paths relative to the tree, and the sources and build are removed after.
. "$(dirname "$0")/lib.sh"

lcov2=$1
cd "$TREE"

# The last commit of the series' head that changes nothing under fs/.
commit=$(git rev-parse base)
for c in $(git rev-list --reverse base..HEAD); do
	[ -z "$(git diff-tree --no-commit-id --name-only -r "$c" -- fs)" ] || break
	commit=$c
done
key=$( { git rev-parse "$commit^{tree}"; gcc --version | head -n 1; "$lcov2/lcov" --version;
	sha1sum <"$0"; } | sha1sum | cut -c1-16)
cached=$CACHE/coverage-baseline/$key.info
if [ -s "$cached" ]; then
	echo "$cached"
	exit 0
fi

src=$BUILD/baseline/linux
out=$BUILD/baseline/kunit
log "building the coverage baseline once for this base ($(git log -1 --format='%h %s' "$commit")); log: build/baseline.log"
rm -rf "$BUILD/baseline"
git worktree prune
git worktree add -q --detach "$src" "$commit"
lcov=("$lcov2/lcov" --config-file "$lcov2/../../etc/lcovrc" -q --branch-coverage
	--ignore-errors inconsistent --parallel "${JOBS:-$(nproc)}")
# gcov only in the directories captured below (see gcov_only_in in lib.sh),
# and the same layout relative to CCACHE_BASEDIR as the suites' build
# (linux/ and kunit/ side by side): the other objects come from ccache.
make_opts=(--make_options "$(gcov_only_in fs/ext4 fs/iomap)")
if command -v ccache >/dev/null; then
	export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache} CCACHE_BASEDIR=$BUILD/baseline CCACHE_NOHASHDIR=1
	make_opts+=(--make_options "CC=ccache gcc")
fi
# --all: files whose code never ran count too.
(cd "$src" && "$TOP/harness/progress.sh" "$out" "$BUILD/baseline.log" \
	./tools/testing/kunit/kunit.py run --arch=um --build_dir="$out" \
	--jobs="${JOBS:-$(nproc)}" "${make_opts[@]}" \
	--kunitconfig=fs/ext4 --kunitconfig=tools/testing/kunit/configs/coverage_uml.config) &&
"${lcov[@]}" -c --all -d "$out/fs/ext4" -d "$out/fs/iomap" -o "$out/baseline.info" \
	>>"$BUILD/baseline.log" 2>&1 || {
	tail -n 30 "$BUILD/baseline.log" >&2
	die "the coverage baseline did not build or run; see build/baseline.log"
}
mkdir -p "$CACHE/coverage-baseline"
sed "s|^SF:$src/|SF:|" "$out/baseline.info" >"$cached.tmp"
mv "$cached.tmp" "$cached"
git worktree remove --force "$src"
rm -rf "$BUILD/baseline"
echo "$cached"
