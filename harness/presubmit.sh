#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make presubmit': what a patch series should pass before it is sent.
#   1. scripts/checkpatch.pl --strict on every commit of build/linux.  Its
#      "does MAINTAINERS need updating?" (FILE_PATH_CHANGES) fires for every
#      new file; instead, get_maintainer.pl must find a section other than
#      THE REST that already covers each file a patch adds.  Its CamelCase
#      check (CAMELCASE, --strict only) fires for every new enum member of
#      a mixed-case family, such as ext4's mount option tokens (Opt_*),
#      which no naming that keeps the file's convention avoids: skipped.
#   2. every patch built in order in build/kunit (bisectability): each step
#      is an incremental build; a warning in a file the patch touches fails
#   3. the suites with coverage, and the per-patch coverage table
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/series.sh"

[ -d "$TREE/.git" ] || die "no build/linux; run 'make' first (presubmit reuses its build)"
dirty=$(tree_dirty)
[ -z "$dirty" ] || die "build/linux has uncommitted changes; commit them first (presubmit checks commits):
$dirty"
rm -f "$PHASE_LOG"
cd "$TREE"
commits=$(git rev-list --reverse base..HEAD)
fail=0

# checkpatch's spdxcheck needs python3 with ply and git: Debian's python3
# has them (make deps), a python3 earlier on PATH may not.
checkpatch() {
	PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict \
		--ignore FILE_PATH_CHANGES,CAMELCASE \
		--no-summary --quiet -g "$1"
}
# maintained FILE: a MAINTAINERS section other than the catch-all covers FILE.
maintained() {
	./scripts/get_maintainer.pl --no-git --no-git-fallback --sections -f "$1" 2>/dev/null |
		grep -vE '^([A-Z]:|[[:space:]]|$)' | grep -qvx 'THE REST'
}
check_style() {
	local c out f n=0
	for c in $commits; do
		n=$((n + 1))
		out=$(checkpatch "$c" 2>&1) || true
		for f in $(git diff-tree --no-commit-id --name-only --diff-filter=A -r "$c"); do
			maintained "$f" || out+=$'\n'"no MAINTAINERS entry but THE REST covers $f"
		done
		if [ -n "$out" ]; then
			echo "FAIL $(printf '%04d' $n) $(git log -1 --format=%s "$c")"
			echo "$out" | sed 's/^/    /'
			fail=1
		else
			echo "ok   $(printf '%04d' $n) $(git log -1 --format=%s "$c")"
		fi
	done
	return $fail
}

# Build each commit with the configuration of the last kunit run.
head=$(git rev-parse HEAD)
branch=$(git symbolic-ref -q --short HEAD || true)
restore() { git checkout -q "${branch:-$head}" 2>/dev/null || true; }
build_each() {
	local c n=0 log touched
	[ -f "$KBUILD_DIR/.config" ] || die "no build/kunit/.config; run 'make' first"
	# olddefconfig drops the options an early patch does not know yet;
	# start every step from the full configuration again.
	cp "$KBUILD_DIR/.config" "$BUILD/presubmit.config"
	# The gcov scope of harness/kunit.sh at the head of the series, for
	# every step: otherwise a directory that a later patch changes would
	# be built without gcov, then again with it.
	local gcov
	# shellcheck disable=SC2046 # one word per directory
	gcov=$(gcov_only_in $(coverage_dirs))
	trap restore EXIT
	for c in $commits; do
		n=$((n + 1))
		git checkout -q "$c" || { restore; return 1; }
		cp "$BUILD/presubmit.config" "$KBUILD_DIR/.config"
		log=$BUILD/presubmit-build-$n.log
		if ! make -s ARCH=um O="$KBUILD_DIR" olddefconfig >"$log" 2>&1 ||
		   ! "$TOP/harness/progress.sh" --append "$KBUILD_DIR" "$log" \
			make -s ARCH=um O="$KBUILD_DIR" -j"$(nproc)" CC="$KCC" "$gcov"; then
			echo "FAIL $(printf '%04d' $n) does not build; see ${log#$TOP/}"
			tail -n 20 "$log" | sed 's/^/    /'
			restore
			return 1
		fi
		touched=$(git diff-tree --no-commit-id --name-only -r "$c" | sed 's/[.][^.]*$//' | sort -u)
		if grep -F -f <(echo "$touched") "$log" | grep -q 'warning:'; then
			echo "FAIL $(printf '%04d' $n) builds with warnings in files it touches:"
			grep -F -f <(echo "$touched") "$log" | grep 'warning:' | sed 's/^/    /'
			restore
			return 1
		fi
		echo "ok   $(printf '%04d' $n) builds"
	done
	restore
	trap - EXIT
}

setup_ccache
echo "---- checkpatch --strict ----"
phase checkpatch check_style || fail=1
echo "---- build each patch ----"
phase bisect build_each || fail=1
echo "---- suites ----"
"$TOP/harness/kunit.sh" >"$BUILD/presubmit-kunit.log" 2>&1 || fail=1
grep -E 'Testing complete|Failures:' "$BUILD/presubmit-kunit.log" || tail -n 20 "$BUILD/presubmit-kunit.log"
phase coverage "$TOP/harness/coverage.sh" || fail=1
"$TOP/harness/summary.sh"
[ $fail -eq 0 ] && echo "presubmit: passed" || echo "presubmit: FAILED"
exit $fail
