#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkimage.sh CONF GEOMETRY OUT: make the KUnit fixture's ext4 image for
# GEOMETRY with the host's mke2fs and write it xz-compressed to OUT.
#
# The images are 8 MiB, larger for blocks above the page size (the sizes in
# images.c), and made with a fixed UUID, hash seed and time, so the same
# mke2fs gives the same bytes.
set -eu

conf=$1
geometry=$2
out=$3

size=8M
case $geometry in
1k)		opts="-b 1024" ;;
2k)		opts="-b 2048" ;;
4k)		opts="-b 4096" ;;
bigalloc16k)	opts="-b 4096 -O bigalloc -C 16384" ;;
# mke2fs leaves the journal out of a filesystem of fewer than 2048 blocks,
# and jbd2 wants 1024 blocks at least: 16 MiB and 64 MiB of journal here.
16k)		opts="-b 16384"; size=40M ;;
64k)		opts="-b 65536"; size=136M ;;
*)		echo "mkimage.sh: unknown geometry '$geometry'" >&2; exit 1 ;;
esac

for tool in mke2fs dumpe2fs xz; do
	command -v $tool >/dev/null 2>&1 || {
		echo "mkimage.sh: '$tool' not found: install e2fsprogs and xz-utils" >&2
		exit 1
	}
done

ext_opts=root_owner=0:0,nodiscard,lazy_itable_init=0,lazy_journal_init=0
ext_opts=$ext_opts,hash_seed=3f0d7c52-9e1b-4a6e-8d44-2b7c9a1e5f30

img=$out.tmp
rm -f "$img"
: >"$img"
# shellcheck disable=SC2086
MKE2FS_CONFIG=$conf E2FSPROGS_FAKE_TIME=1767225600 \
	mke2fs -q -F -t ext4 $opts -L "$geometry" \
	-U 8c1e2a6b-4f55-4d0c-9a8e-6b3f0e5d7a21 \
	-E "$ext_opts" \
	"$img" $size 2>"$img.err" || { cat "$img.err" >&2; exit 1; }
# Every geometry must have a journal: the suites test journalled ext4.
dumpe2fs -h "$img" 2>/dev/null | grep -q '^Filesystem features:.* has_journal' || {
	cat "$img.err" >&2
	echo "mkimage.sh: the $geometry image came out without a journal" >&2
	exit 1
}
rm -f "$img.err"
xz --check=crc32 -T1 -c "$img" >"$out"
rm -f "$img"
