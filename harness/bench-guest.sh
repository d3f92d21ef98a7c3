#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# init of the 'make bench' guest: a UML kernel whose root is the host's /
# through hostfs.  It formats the ramdisk with the host's mke2fs, runs fio
# (and harness/bench-dontcache.py) for every case on a plain mount and on a
# buffered_iomap mount, writes fio's JSON to $BENCH_OUT and powers off.
#
# Settings come from the kernel command line, which the kernel hands to init
# as environment variables: BENCH_OUT, BENCH_REPS, BENCH_SIZES (block sizes
# of the I/O), BENCH_FILE_MB, BENCH_RUNTIME (seconds at most per job),
# BENCH_GEOMETRIES, BENCH_CASES, BENCH_PATHS (the lists comma-separated),
# BENCH_CPUS (the CPUs the guest must have), BENCH_WRITEBACK (after or
# during: when a write job's writeback runs).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C
BENCH_SIZES=${BENCH_SIZES//,/ }
BENCH_GEOMETRIES=${BENCH_GEOMETRIES//,/ }
BENCH_CASES=${BENCH_CASES:-write,dontcache,hole,cached,ondisk}
BENCH_CASES=" ${BENCH_CASES//,/ } "
BENCH_PATHS=${BENCH_PATHS:-bh,iomap}
BENCH_PATHS=${BENCH_PATHS//,/ }
HARNESS=$(dirname "$0")

poweroff() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 60
}
fail() {
	echo "bench-guest: error: $*"
	echo "$*" >"$BENCH_OUT/FAILED"
	poweroff
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Everything the guest writes besides $BENCH_OUT stays in the guest.
mount -t tmpfs tmpfs /tmp
mkdir -p /tmp/mnt /tmp/ceiling
MNT=/tmp/mnt
[ -d "$BENCH_OUT" ] || fail "BENCH_OUT=$BENCH_OUT is not a directory"
[ "$(nproc)" = "${BENCH_CPUS:-1}" ] ||
	fail "the guest has $(nproc) CPUs, not the $BENCH_CPUS asked for (ncpus= on UML's command line)"
[ -b /dev/ram0 ] || fail "no /dev/ram0 (BLK_DEV_RAM missing from the guest kernel?)"
rm -f "$BENCH_OUT/FAILED" "$BENCH_OUT/DONE"

size=${BENCH_FILE_MB}M
runtime=${BENCH_RUNTIME}

# One geometry's mke2fs options, as the KUnit fixture's images use them.
mkfs_opts() {
	case $1 in
	4k) echo "-b 4096" ;;
	1k) echo "-b 1024" ;;
	bigalloc) echo "-b 4096 -O bigalloc -C 65536" ;;
	*) fail "unknown geometry $1" ;;
	esac
}

# The page cache and the device are settled between jobs, so that one job's
# writeback does not run during the next one.
settle() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# fio NAME RW BS FILE EXTRA...: one psync job, JSON to $BENCH_OUT/raw.
fio_job() {
	local name=$1 rw=$2 bs=$3 file=$4
	shift 4
	fio --name="$name" --filename="$file" --rw="$rw" --bs="$bs" \
		--size="$size" --runtime="$runtime" --ioengine=psync \
		--fallocate=none --output-format=json \
		--output="$BENCH_OUT/raw/$name.json" "$@" >/dev/null 2>"$BENCH_OUT/raw/$name.err" ||
		fail "fio $name failed: $(cat "$BENCH_OUT/raw/$name.err")"
}

# Whether BENCH_CASES has case $1.
want() {
	[[ $BENCH_CASES == *" $1 "* ]]
}

# Context switches and mballoc requests so far, as "CTXT REQS".
counts() {
	awk '/^ctxt/ { c = $2 } /reqs:/ { r = $2 } END { print c, r }' \
		/proc/stat /proc/fs/ext4/ram0/mb_stats
}
# The kernel's counters around a write job, to $BENCH_OUT/raw/$1.counters:
# mballoc's allocation requests (mb_stats is turned on at mount), context
# switches, the pages written back during the job (nr_written), the
# milliseconds of the sync after the job (the writeback the job left), and
# the extents the file ended with once written back; in the first
# repetition also $1.folios.
counters_start() {
	folios "$1"
	read -r ctxt0 reqs0 <<<"$(counts)"
	written0=$(written)
}
# Pages written back so far.
written() {
	awk '$1 == "nr_written" { print $2 }' /proc/vmstat
}
# In the first repetition, how the page cache holds file data before and
# after the job (bench-folios.py): pages, or large folios.  Before the
# counters are read, so that its own work is not counted.
folios() {
	[[ $1 == r1-* ]] || return 0
	/usr/bin/python3 "$HARNESS/bench-folios.py" >>"$BENCH_OUT/raw/$1.folios" ||
		fail "bench-folios.py $1 failed"
}
counters_end() {
	local name=$1 f=$2 ctxt reqs wrote t0 t1

	wrote=$(($(written) - written0))
	# Microseconds, without a process for the clock.
	t0=${EPOCHREALTIME/./}
	sync
	t1=${EPOCHREALTIME/./}
	read -r ctxt reqs <<<"$(counts)"
	{
		echo "allocations $((reqs - reqs0))"
		echo "ctxt $((ctxt - ctxt0))"
		echo "during_mib $((wrote * $(getconf PAGESIZE) >> 20))"
		echo "sync_ms $(((t1 - t0) / 1000))"
		echo "extents $(filefrag "$f" | awk '{ print $2 }')"
	} >"$BENCH_OUT/raw/$name.counters"
	folios "$name"
}

# The cases of one filesystem: $1 prefix of the job names, $2 directory,
# $3 "all" or "write" (write case only).
run_cases() {
	local pre=$1 dir=$2 which=$3 bs f=$2/f
	for bs in $BENCH_SIZES; do
		want write || break
		counters_start "$pre-write-$bs"
		fio_job "$pre-write-$bs" write "$bs" "$f"
		counters_end "$pre-write-$bs" "$f"
		rm -f "$f"
		settle
	done
	[ "$which" = all ] || return 0
	for bs in $BENCH_SIZES; do
		want dontcache || break
		/usr/bin/python3 "$HARNESS/bench-dontcache.py" "$f" "$bs" "$size" "$runtime" \
			>"$BENCH_OUT/raw/$pre-dontcache-$bs.json" ||
			fail "bench-dontcache.py $pre $bs failed"
		rm -f "$f"
		settle
	done
	for bs in $BENCH_SIZES; do
		want hole || break
		truncate -s "$size" "$f"
		fio_job "$pre-hole-$bs" read "$bs" "$f"
		rm -f "$f"
		settle
	done
	want cached || want ondisk || return 0
	# One file for the two read cases, written once and clean.
	dd if=/dev/urandom of="$f" bs=1M count="$BENCH_FILE_MB" status=none
	sync
	for bs in $BENCH_SIZES; do
		want cached || break
		cat "$f" >/dev/null
		fio_job "$pre-cached-$bs" read "$bs" "$f" --invalidate=0
	done
	for bs in $BENCH_SIZES; do
		want ondisk || break
		settle
		fio_job "$pre-ondisk-$bs" read "$bs" "$f" --invalidate=1
	done
	rm -f "$f"
	settle
}

# run_fs REP GEOMETRY PATH WHICH: a fresh filesystem on the ramdisk.
run_fs() {
	local rep=$1 geo=$2 path=$3 which=$4 opts=
	[ "$path" = iomap ] && opts=buffered_iomap
	# shellcheck disable=SC2046
	mke2fs -q -F -t ext4 $(mkfs_opts "$geo") /dev/ram0 >/dev/null 2>&1 ||
		fail "mke2fs ($geo) failed"
	mount -t ext4 ${opts:+-o "$opts"} /dev/ram0 "$MNT" || fail "mount -o '$opts' failed"
	if [ "$path" = iomap ] && ! grep -q 'buffered_iomap' /proc/mounts; then
		fail "the buffered_iomap mount does not show the option in /proc/mounts"
	fi
	echo 1 >/sys/fs/ext4/ram0/mb_stats || fail "cannot turn on mb_stats"
	run_cases "r$rep-$geo-$path" "$MNT" "$which"
	umount "$MNT" || fail "umount failed"
}

mkdir -p "$BENCH_OUT/raw"
# What the uncached write really asks for: fio 3.33's uncached=1 against
# bench-dontcache.py, as strace shows their pwritev2() flags (0x80 is
# RWF_DONTCACHE in 7.3, 0x40 RWF_ATOMIC).
check_flags() {
	mke2fs -q -F -t ext4 /dev/ram0 >/dev/null 2>&1 && mount -t ext4 /dev/ram0 "$MNT" || fail "mke2fs/mount for the flags check failed"
	{
		echo "fio --ioengine=pvsync2 --uncached=1:"
		strace -f -e trace=pwritev2 -e signal=none fio --name=flags --filename="$MNT/f" \
			--rw=write --bs=4k --size=8k --ioengine=pvsync2 --uncached=1 \
			--fallocate=none 2>&1 >/dev/null | grep -m 2 pwritev2
		echo "bench-dontcache.py:"
		strace -e trace=pwritev2 /usr/bin/python3 "$HARNESS/bench-dontcache.py" "$MNT/g" 4k 8k 1 \
			2>&1 >/dev/null | grep -m 2 pwritev2
	} >"$BENCH_OUT/flags.txt"
	umount "$MNT"
}
# UML's memory is a file on the host, whose pages the host clears when the
# guest first touches them: the first jobs of a run were up to three times
# slower than the rest, and the path that went first paid for both.  Touch
# the ramdisk's pages and then the free memory once, before any job, so that
# no timed job pays for it (mke2fs's discard gives the ramdisk's pages back
# to the free memory, touched).
warm_up() {
	local free_mb

	# /sys/block/ram0/size counts 512-byte sectors.
	dd if=/dev/zero of=/dev/ram0 bs=1M count=$(($(cat /sys/block/ram0/size) / 2048)) \
		oflag=direct status=none 2>/tmp/warm.err ||
		fail "warm-up: cannot write the ramdisk: $(cat /tmp/warm.err)"
	free_mb=$(awk '/^MemFree:/ { print int($2 / 1024) - 256 }' /proc/meminfo)
	mkdir -p /tmp/warm
	mount -t tmpfs -o size="${free_mb}M" tmpfs /tmp/warm || fail "warm-up: no tmpfs"
	dd if=/dev/zero of=/tmp/warm/f bs=1M count="$free_mb" status=none 2>/dev/null
	umount /tmp/warm
}
# Writeback after the job: a write job dirties at most the file, and the
# background and hard thresholds at twice and four times it keep the
# flusher and balance_dirty_pages() out of it, as the seed's 150 GB VM's
# default thresholds (10 and 20 % of memory) do.  The ramdisk has room for
# three times the file, so ext4 does not start writeback for lack of space.
dirty_limits() {
	[ "$BENCH_WRITEBACK" = after ] || return 0
	echo $((BENCH_FILE_MB * 2 << 20)) >/proc/sys/vm/dirty_background_bytes &&
		echo $((BENCH_FILE_MB * 4 << 20)) >/proc/sys/vm/dirty_bytes ||
		fail "cannot set the dirty thresholds"
}
warm_up
dirty_limits
check_flags
{
	echo "kernel $(uname -r)"
	echo "fio $(fio --version)"
	echo "cpus $(nproc)"
	echo "writeback ${BENCH_WRITEBACK:-during}"
	grep -H . /proc/sys/vm/dirty_background_bytes /proc/sys/vm/dirty_bytes
	grep MemTotal /proc/meminfo
	echo "geometries $BENCH_GEOMETRIES"
} >"$BENCH_OUT/guest-info.txt"
for rep in $(seq 1 "$BENCH_REPS"); do
	# Alternate which path goes first, so that a drift over the run (the
	# host's other load, the guest's memory) does not favour one path.
	paths=$BENCH_PATHS
	[ $((rep % 2)) = 0 ] && paths=$(printf '%s\n' $BENCH_PATHS | tac | xargs)
	for geo in $BENCH_GEOMETRIES; do
		which=all
		[ "$geo" = 4k ] || which=write
		for path in $paths; do
			echo "bench-guest: rep $rep/$BENCH_REPS $geo $path"
			run_fs "$rep" "$geo" "$path" "$which"
		done
	done
	# The reference: the same write and cached-read jobs on tmpfs, a page
	# cache filesystem with no blocks to map.
	mount -t tmpfs -o size=$((BENCH_FILE_MB * 2))M tmpfs /tmp/ceiling
	for bs in $BENCH_SIZES; do
		want write || want dontcache || break
		fio_job "r$rep-tmpfs-write-$bs" write "$bs" /tmp/ceiling/f
		rm -f /tmp/ceiling/f
	done
	for bs in $BENCH_SIZES; do
		want hole || want cached || want ondisk || break
		[ -f /tmp/ceiling/f ] ||
			dd if=/dev/urandom of=/tmp/ceiling/f bs=1M count="$BENCH_FILE_MB" status=none
		fio_job "r$rep-tmpfs-cached-$bs" read "$bs" /tmp/ceiling/f --invalidate=0
	done
	umount /tmp/ceiling
done
touch "$BENCH_OUT/DONE"
poweroff
