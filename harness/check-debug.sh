#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make check-debug': every suite on a lockdep kernel and on a KASAN kernel
# (harness/lockdep.config, harness/kasan.config), each in its own build
# directory (build/kunit-lockdep, build/kunit-kasan) so that the normal build
# stays warm.  Fails on a failed or missing test, on an e2fsck fault, and on
# any lockdep, KASAN, WARN, BUG, hung-task or panic report in the kernel log,
# which it prints.  DEBUG_FLAVOURS="lockdep" runs one of them only;
# --no-times leaves the phase times to the caller ('make check').
. "$(dirname "$0")/lib.sh"

rc=0
for flavour in ${DEBUG_FLAVOURS:-lockdep kasan}; do
	export EXT4_KUNIT_FLAVOUR=$flavour
	log "debug kernel: $flavour (build/kunit-$flavour; output in build/kunit-$flavour.log)"
	"$TOP/harness/kunit.sh" >/dev/null || rc=1
	EXT4_KUNIT_FLAVOUR=$flavour "$TOP/harness/summary.sh" | sed -n '/^kunit:/p;/^e2fsck:/p;/^  [A-Z]*:/p'
	"$TOP/harness/kernel-reports.sh" "$BUILD/kunit-$flavour/test.log" || rc=1
done
[ "${1:-}" = --no-times ] || phase_report
exit $rc
