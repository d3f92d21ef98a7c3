#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The x86_64 leg: build build/linux for x86_64 (build/kunit-x86_64) and run
# every suite under qemu with TCG, then the same checks as on UML: missing
# suites, e2fsck of every filesystem left behind, and any kernel report
# (WARN, BUG, hung task, panic) fails the run.
#
# qemu is started here rather than by 'kunit.py run --arch=x86_64', which
# puts '-accel kvm' first: where /dev/kvm cannot boot an ordinary kernel
# (a PVM host, for one) the guest hangs at boot.  With '-accel tcg' the leg
# never touches KVM and needs no privileges; kunit.py parses the console.
export EXT4_KUNIT_ARCH=x86_64
unset EXT4_KUNIT_FLAVOUR
. "$(dirname "$0")/lib.sh"

need python3 python3
need flex flex
need bison bison
need bc bc
# EXT4_KUNIT_QEMU: another qemu-system-x86_64 binary (the self-test names a
# missing one).
qemu=${EXT4_KUNIT_QEMU:-qemu-system-x86_64}
need "$qemu" qemu-system-x86
[ -d "$TREE/.git" ] || die "no build/linux; run 'make tree' first"
cd "$TREE"
rm -f "$RESULTS" "$KUNIT_LOG" "$FSCK_LOG"
mkdir -p "$KBUILD_DIR"

# .kunitconfig without its UML-only lines and without the options that
# harness/x86_64.config sets otherwise, then harness/x86_64.config.
kconf=$BUILD/x86_64.kunitconfig
grep -vE "^($(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=.*/\1/p' "$TOP/harness/x86_64.config" |
	paste -sd'|')|CONFIG_BLK_DEV_UBD)=" "$TOP/.kunitconfig" >"$kconf"
args=(--arch=x86_64 --build_dir="$KBUILD_DIR" --kunitconfig="$kconf"
      --kunitconfig="$TOP/harness/x86_64.config")
setup_ccache
make_opts=(--make_options "CC=$KCC")
jobs=${JOBS:-$(nproc)}

phase build-x86_64 "$TOP/harness/progress.sh" "$KBUILD_DIR" "$BUILD_LOG" \
	./tools/testing/kunit/kunit.py build "${args[@]}" --jobs="$jobs" "${make_opts[@]}" || {
	tail -n 40 "$BUILD_LOG" >&2
	die "the x86_64 kernel did not build; full log: ${BUILD_LOG#$TOP/}"
}

dump=$("$TOP/harness/fsck.sh" prepare)
log=$KBUILD_DIR/test.log
cmdline="console=ttyS0 panic=-1 kunit_shutdown=reboot ext4_test.dump_dev=vda"
[ -z "${KUNIT_FILTER:-}" ] || cmdline+=" kunit.filter_glob=$KUNIT_FILTER"
[ -z "${KERNEL_ARGS:-}" ] || cmdline+=" $KERNEL_ARGS"
run() {
	# -no-reboot: the kernel's reboot at the end (kunit_shutdown=reboot,
	# or panic=-1 after a panic) ends qemu; timeout ends a hang.
	timeout --foreground -k 10 "${KUNIT_TIMEOUT:-1800}" \
		"$qemu" -nodefaults -nographic -no-reboot \
		-accel tcg -cpu max -smp 1 -m 3072 -bios qboot.rom \
		-kernel "$KBUILD_DIR/arch/x86/boot/bzImage" -append "$cmdline" \
		-drive "file=$dump,format=raw,if=virtio,cache=unsafe" \
		-serial stdio </dev/null >"$log" 2>&1
	local rc=$?
	[ $rc != 124 ] || echo "error: qemu was stopped after ${KUNIT_TIMEOUT:-1800} s (KUNIT_TIMEOUT)" >&2
	# kunit.py parse says what the log holds: results, a crash, nothing.
	./tools/testing/kunit/kunit.py parse --json="$RESULTS" "$log" || rc=1
	return $rc
}
rc=0
phase run-x86_64 run 2>&1 | tee "$KUNIT_LOG" || rc=$?

"$TOP/harness/check-suites.sh" || rc=1
phase fsck-x86_64 "$TOP/harness/fsck.sh" check >"$FSCK_LOG" 2>&1 || { cat "$FSCK_LOG"; rc=1; }
# Any WARN, BUG, hung task or panic in the kernel log fails the leg.
"$TOP/harness/kernel-reports.sh" "$log" || rc=1
exit $rc
