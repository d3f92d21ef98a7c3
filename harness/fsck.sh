#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fsck.sh prepare: make the sparse dump file that UML sees as ubd0 (qemu as
#                  the virtio disk vda) and print its path (in /dev/shm, so
#                  it stays in memory)
# fsck.sh check:   e2fsck -fn every filesystem the fixture copied to it
#
# The fixture (fs/ext4/tests/fixture.c) copies each test's final filesystem
# into the dump disk from 8 MiB slot N on (a filesystem larger than 8 MiB
# takes the slots that follow) and logs "ext4-kunit: e2fsck slot N: <test>".
. "$(dirname "$0")/lib.sh"

SLOT_MIB=8
# x86_64 adds filesystems of 40 and 136 MiB: 5 and 17 slots each.
if [ "$KUNIT_ARCH" = um ]; then
	SLOTS=${EXT4_KUNIT_DUMP_SLOTS:-1024}
else
	SLOTS=${EXT4_KUNIT_DUMP_SLOTS:-8192}
fi
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=$BUILD
DUMP=$shm/ext4-kunit-dump.$(echo "$TOP" | sha1sum | cut -c1-8)$RUN_SUFFIX.img

case ${1:-} in
prepare)
	rm -f "$DUMP"
	truncate -s $((SLOTS * SLOT_MIB))M "$DUMP"
	echo "$DUMP"
	;;
check)
	need e2fsck e2fsprogs
	log=$KBUILD_DIR/test.log
	[ -s "$log" ] || die "no kernel log at ${log#$TOP/}"
	pass=0
	fail=0
	dir=$(mktemp -d)
	trap 'rm -rf "$dir" "$DUMP"' EXIT
	sed -n 's/.*ext4-kunit: e2fsck slot \([0-9]*\): \(.*\)$/\1 \2/p' "$log" >"$dir/slots"
	# e2fsck reads each slot in place (the offset= option of e2fsprogs'
	# unix I/O manager), as many at a time as there are CPUs.
	cut -d' ' -f1 "$dir/slots" | xargs -r -P "$(nproc)" -I{} bash -c \
		'e2fsck -fn "$1?offset=$(($2 * $3 * 1048576))" >"$4/$2.out" 2>&1; echo $? >"$4/$2.rc"' \
		_ "$DUMP" {} "$SLOT_MIB" "$dir"
	while read -r slot label; do
		if [ "$(cat "$dir/$slot.rc" 2>/dev/null)" = 0 ]; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "e2fsck -fn failed for slot $slot ($label):"
			sed 's/^/    /' "$dir/$slot.out" 2>/dev/null
		fi
	done <"$dir/slots"
	if grep -q 'ext4-kunit: dump failed' "$log"; then
		grep 'ext4-kunit: dump failed' "$log"
		fail=$((fail + $(grep -c 'ext4-kunit: dump failed' "$log")))
	fi
	if [ $((pass + fail)) -eq 0 ] && grep -q 'ext4_buffered_io' "$log"; then
		echo "no filesystem was copied out for checking (is ubd0 given to the kernel?)"
		fail=1
	fi
	echo "e2fsck: $pass passed, $fail failed"
	[ $fail -eq 0 ]
	;;
*)
	die "usage: fsck.sh prepare|check"
	;;
esac
