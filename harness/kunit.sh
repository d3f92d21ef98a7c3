#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build build/linux for ARCH=um and run the suites with kunit.py.  Exits
# non-zero when a test fails or crashes, or when a suite the tree defines did
# not report.  COVERAGE=0 builds without gcov (in build/kunit-nocov).
. "$(dirname "$0")/lib.sh"

need python3 python3
need flex flex
need bison bison
need bc bc
[ -d "$TREE/.git" ] || die "no build/linux; run 'make tree' first"
cd "$TREE"
# A summary must never show an earlier run's results.
rm -f "$RESULTS" "$KUNIT_LOG" "$FSCK_LOG"

args=(--arch=um --build_dir="$KBUILD_DIR" --kunitconfig="$TOP/.kunitconfig")
if [ -n "$FLAVOUR" ]; then
	[ -f "$TOP/harness/$FLAVOUR.config" ] || die "no harness/$FLAVOUR.config for EXT4_KUNIT_FLAVOUR=$FLAVOUR"
	args+=(--kunitconfig="$TOP/harness/$FLAVOUR.config")
fi
make_opts=()
if [ -z "$FLAVOUR" ] && [ "${COVERAGE:-1}" != 0 ]; then
	args+=(--kunitconfig=tools/testing/kunit/configs/coverage_uml.config)
	# gcov only where coverage reads, so that ccache serves the rest.
	# shellcheck disable=SC2046 # one word per directory
	make_opts=(--make_options "$(gcov_only_in $(coverage_dirs))")
fi
setup_ccache
make_opts+=(--make_options "CC=$KCC")
jobs=${JOBS:-$(nproc)}

phase build$RUN_SUFFIX "$TOP/harness/progress.sh" "$KBUILD_DIR" "$BUILD_LOG" \
	./tools/testing/kunit/kunit.py build "${args[@]}" --jobs="$jobs" "${make_opts[@]}" || {
	tail -n 40 "$BUILD_LOG" >&2
	die "the kernel did not build; full log: ${BUILD_LOG#$TOP/}"
}

# Counters from an earlier run would add up with this one's.
find "$KBUILD_DIR" -name '*.gcda' -delete
dump=$("$TOP/harness/fsck.sh" prepare)
rc=0
phase run$RUN_SUFFIX ./tools/testing/kunit/kunit.py exec --build_dir="$KBUILD_DIR" \
	--timeout="${KUNIT_TIMEOUT:-600}" --json="$RESULTS" \
	--kernel_args "ubd0=$dump" ${KERNEL_ARGS:+--kernel_args "$KERNEL_ARGS"} \
	${KUNIT_FILTER:+"$KUNIT_FILTER"} 2>&1 | tee "$KUNIT_LOG" || rc=$?

# A suite that never reported (a missing config, a crash before it started)
# is a failure too: every suite the build compiled must be in the results.
"$TOP/harness/check-suites.sh" || rc=1
# Every filesystem the fixture left behind must pass e2fsck -fn.
phase fsck$RUN_SUFFIX "$TOP/harness/fsck.sh" check >"$FSCK_LOG" 2>&1 || { cat "$FSCK_LOG"; rc=1; }
exit $rc
