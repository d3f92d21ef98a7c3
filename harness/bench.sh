#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: buffer_head against iomap buffered I/O, side by side, with fio
# inside UML.
#
# Builds build/linux for ARCH=um in build/bench/kernel (no KUnit, no gcov),
# boots it with the host's / as its root (hostfs) and harness/bench-guest.sh
# as init, which formats a ramdisk with the host's mke2fs and runs Debian's
# fio on a plain and on a buffered_iomap mount.  Then prints the tables
# (harness/bench-report.py) and draws build/bench/bench.png with gnuplot.
#
# BENCH_REPS (5), BENCH_SIZES ("1k 4k 64k 1m"), BENCH_FILE_MB (1024),
# BENCH_RUNTIME (seconds per job at most, 1), BENCH_GEOMETRIES
# ("4k 1k bigalloc"; 1k and bigalloc run the write case only), BENCH_CASES
# ("write dontcache hole cached ondisk"), BENCH_PATHS ("bh iomap"),
# BENCH_PERF=1 to sample the guest with the host's perf (each job's CPU by
# where it went, in the report; the top symbols in build/bench/perf.txt),
# BENCH_LARGE_FOLIOS=1 to run a kernel whose page cache has large folios
# without THP (bench-large-folios.patch on a copy of the tree, see below),
# BENCH_CPUS=2 to give the guest two virtual CPUs (bench-smp.config and
# bench-uml-smp.patch), and BENCH_WRITEBACK ("after": dirty thresholds above
# the file, so that a write job's writeback runs at the sync after it, as in
# the seed's 150 GB VM; "during": the kernel's thresholds for the guest's
# memory, so that writeback starts during the job).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchtree.sh"

REPS=${BENCH_REPS:-5}
SIZES=${BENCH_SIZES:-1k 4k 64k 1m}
FILE_MB=${BENCH_FILE_MB:-1024}
RUNTIME=${BENCH_RUNTIME:-1}
GEOMETRIES=${BENCH_GEOMETRIES:-4k 1k bigalloc}
CASES=${BENCH_CASES:-write dontcache hole cached ondisk}
PATHS=${BENCH_PATHS:-bh iomap}
PERF=${BENCH_PERF:-0}
LARGE_FOLIOS=${BENCH_LARGE_FOLIOS:-0}
CPUS=${BENCH_CPUS:-1}
WRITEBACK=${BENCH_WRITEBACK:-after}
BENCH=$BUILD/bench
KDIR=$BENCH/kernel
SRC=$TREE
RUN=$BENCH/run
PHASE_LOG=$BENCH/phases.log

[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPS=$REPS: give a number of repetitions (1 or more)"
[[ $FILE_MB =~ ^[1-9][0-9]*$ ]] || die "BENCH_FILE_MB=$FILE_MB: give the file size in MiB"
[[ $RUNTIME =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNTIME=$RUNTIME: give whole seconds"
for bs in $SIZES; do
	[[ $bs =~ ^[0-9]+[km]?$ ]] || die "BENCH_SIZES: '$bs' is not a block size like 4k or 1m"
done
for g in $GEOMETRIES; do
	case $g in 4k | 1k | bigalloc) ;; *) die "BENCH_GEOMETRIES: '$g' is not one of 4k 1k bigalloc" ;; esac
done
for c in $CASES; do
	case $c in write | dontcache | hole | cached | ondisk) ;;
	*) die "BENCH_CASES: '$c' is not one of write dontcache hole cached ondisk" ;;
	esac
done
for p in $PATHS; do
	case $p in bh | iomap) ;; *) die "BENCH_PATHS: '$p' is not one of bh iomap" ;; esac
done
case $PERF in 0 | 1) ;; *) die "BENCH_PERF=$PERF: give 1 to sample the guest with perf, or 0" ;; esac
case $LARGE_FOLIOS in 0 | 1) ;;
*) die "BENCH_LARGE_FOLIOS=$LARGE_FOLIOS: give 1 for a kernel with large folios without THP, or 0" ;;
esac
case $CPUS in 1 | 2) ;;
*) die "BENCH_CPUS=$CPUS: give 1 or 2 (the guest's virtual CPUs; the host has $(nproc))" ;;
esac
case $WRITEBACK in after | during) ;;
*) die "BENCH_WRITEBACK=$WRITEBACK: give 'after' (writeback at the sync after each write job, as in the seed's VM) or 'during' (the kernel's dirty thresholds)" ;;
esac
# The guest's memory holds the ramdisk, twice the file for the page cache,
# and room for the rest.  The ramdisk has twice the file, or three times
# with writeback after the job: ext4 starts writeback itself once free
# space falls below twice the dirty data (ext4_nonda_switch()), and it must
# not do so during the job.
rd_mul=2
[ "$WRITEBACK" = after ] && rd_mul=3
rd_kib=$((FILE_MB * rd_mul * 1024))
mem_mb=$((FILE_MB * (rd_mul + 2) + 1024))
shm_mb=$(df -m --output=avail /dev/shm | awk 'NR == 2 { print $1 }')
[ "$mem_mb" -le "$shm_mb" ] ||
	die "BENCH_FILE_MB=$FILE_MB needs $mem_mb MiB of guest memory in /dev/shm, which has $shm_mb MiB free: give a smaller BENCH_FILE_MB or BENCH_WRITEBACK=during"
[ "$PERF" = 0 ] || need perf linux-perf
need fio fio
need gnuplot gnuplot-nox
need mke2fs e2fsprogs
need bc bc
need taskset util-linux
[ -x /usr/bin/python3 ] || die "/usr/bin/python3 is missing; run 'make deps'"
[ -d "$TREE/.git" ] || die "no build/linux; run 'make tree' first"

mkdir -p "$BENCH"
rm -f "$PHASE_LOG"

# The configuration fragments of the bench kernel (bench-smp.config added
# below for two CPUs).
frags=("$TOP/harness/bench.config")
build() {
	local cc

	setup_ccache
	cc=$KCC
	# The configuration is made again only when a fragment changed.
	if ! cat "${frags[@]}" | cmp -s - "$KDIR/bench.config" 2>/dev/null; then
		mkdir -p "$KDIR"
		make -C "$SRC" -s ARCH=um O="$KDIR" x86_64_defconfig &&
		"$SRC/scripts/kconfig/merge_config.sh" -m -O "$KDIR" "$KDIR/.config" \
			"${frags[@]}" >/dev/null &&
		make -C "$SRC" -s ARCH=um O="$KDIR" olddefconfig || return 1
		# merge_config.sh warns but goes on when an option did not stick.
		local opt
		for opt in $(grep -hE '^CONFIG_[A-Z0-9_]+=[0-9y]+$' "${frags[@]}"); do
			grep -qx "$opt" "$KDIR/.config" || { echo "${frags[*]##*/}: $opt did not stick"; return 1; }
		done
		cat "${frags[@]}" >"$KDIR/bench.config"
	fi
	"$TOP/harness/progress.sh" --append "$KDIR" "$BENCH/build.log" \
		make -C "$SRC" -s ARCH=um O="$KDIR" -j"${JOBS:-$(nproc)}" CC="$cc" linux
}
# Kernels with patches for the benchmark only, never in the series:
# - BENCH_LARGE_FOLIOS=1, harness/bench-large-folios.patch: UML has no THP,
#   and without THP 7.3 gives no mapping large folios;
# - BENCH_CPUS=2, harness/bench-uml-smp.patch: UML's SMP masks IPIs with a
#   host sigprocmask() at every interrupts-off and -on; the patch masks them
#   as UML masks SIGIO and SIGALRM, with a flag (README 'Two CPUs').
# Such a kernel is built from a git worktree of build/linux at its HEAD plus
# its uncommitted changes to tracked files, with the patches applied, in its
# own source and build directories: build/linux's files are never changed.
# The patches stay applied across runs while they and the files they change
# stay the same, so a later build is incremental.
bench_patches=()
tree_name=
if [ "$LARGE_FOLIOS" = 1 ]; then
	bench_patches+=("$TOP/harness/bench-large-folios.patch")
	tree_name=large-folios
fi
# UML runs more than one CPU only with its seccomp userspace: the kernel
# refuses ncpus=2 under ptrace.  One CPU runs with it too: each system call
# of the guest's processes is a futex wake-up of UML's kernel thread and
# back rather than a ptrace stop (55 against 101 ms per GiB of the host's
# time for 64k writes, README 'Pinned to one host CPU').
uml_args=(seccomp=on)
# A one-CPU guest never runs its kernel and a process at the same time, so
# one host CPU is all it can use.  Pinned there, every switch between UML's
# kernel thread and a guest process stays on that CPU; unpinned, the host
# woke the other, idle CPU at each one (about 30 us per system call here, a
# virtual machine whose idle CPUs sleep in the hypervisor), and 64k writes
# ran at a quarter of the speed.  The last CPU this process may run on: the
# first takes more of the host's interrupts.
allowed=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
pin_cpu=${allowed##*[,-]}
pin=(taskset -c "$pin_cpu")
if [ "$CPUS" = 2 ]; then
	pin=()
	frags+=("$TOP/harness/bench-smp.config")
	bench_patches+=("$TOP/harness/bench-uml-smp.patch")
	tree_name=${tree_name:+$tree_name-}smp
	uml_args=(seccomp=on ncpus=2)
fi
[ ${#pin[@]} = 0 ] || "${pin[@]}" true ||
	die "cannot pin the guest to host CPU $pin_cpu with taskset (the CPUs this shell may use: $allowed)"
if [ -n "$tree_name" ]; then
	SRC=$(realpath -m "$BENCH/src-$tree_name")
	KDIR=$BENCH/kernel-$tree_name
	log "tree with ${bench_patches[*]#$TOP/}: ${SRC#$TOP/}"
	patched_tree "$TREE" "$SRC" "${bench_patches[@]}" >"$BENCH/tree.log" 2>&1 || {
		cat "$BENCH/tree.log" >&2
		die "could not set up the tree ${SRC#$TOP/} (git's messages above; a rebase in progress in build/linux stops 'git stash create')"
	}
fi
log "building the bench kernel in ${KDIR#$TOP/} (log: ${BENCH#$TOP/}/build.log)"
phase bench-build build >"$BENCH/build.log" 2>&1 || {
	tail -n 30 "$BENCH/build.log" >&2
	die "the bench kernel did not build; full log: ${BENCH#$TOP/}/build.log"
}

rm -rf "$RUN"
mkdir -p "$RUN"
# What the report's heading says about the run.
{
	[ "$LARGE_FOLIOS" = 0 ] ||
		echo "Kernel: large folios without THP (harness/bench-large-folios.patch, not in the series)"
	if [ "$CPUS" = 1 ]; then
		echo "Guest: 1 CPU, pinned to host CPU $pin_cpu (UML's seccomp userspace)"
	else
		echo "Guest: 2 CPUs, not pinned (UML SMP, seccomp userspace, harness/bench-uml-smp.patch)"
	fi
	if [ "$WRITEBACK" = after ]; then
		echo "Writeback: after each write job, at its sync (dirty thresholds above the file, as in the seed's 150 GB VM)"
	else
		echo "Writeback: during the write jobs (the kernel's dirty thresholds for ${mem_mb} MiB)"
	fi
} >"$RUN/settings.txt"
log "running fio in the guest: $REPS repetitions of ${SIZES// /, } on ${GEOMETRIES// /, } (log: ${BENCH#$TOP/}/guest.log)"
# Each job runs for at most RUNTIME seconds; give the whole run four times
# what the jobs may take, so a guest that hangs is stopped.
njobs=$(( REPS * $(wc -w <<<"$SIZES") * ($(wc -w <<<"$CASES") * 2 + 2 + 2 * ($(wc -w <<<"$GEOMETRIES") - 1)) ))
limit=$((njobs * (RUNTIME + 2) * 4 + 120))
guest() {
	local perf=()

	# The guest is a host process: perf samples UML's kernel (symbols from
	# $KDIR/linux) and fio alike.  The guest's clock is the host's, so
	# with perf's on the wall clock too, bench-cpu.py finds each job's
	# samples by the window fio gives it.
	[ "$PERF" = 0 ] || perf=(perf record -q -e cpu-clock -k realtime -F 999 -g -o "$BENCH/perf.data" --)
	# Lists go as comma-separated words: the kernel splits its command
	# line at spaces.  UML puts the guest's memory in a file under
	# TMPDIR: /dev/shm keeps it in the host's memory.
	TMPDIR=/dev/shm timeout --foreground -k 10 "$limit" "${perf[@]}" "${pin[@]}" "$KDIR/linux" \
		mem="${mem_mb}M" "${uml_args[@]}" root=/dev/root rootfstype=hostfs rootflags=/ rw \
		init="$TOP/harness/bench-guest.sh" brd.rd_nr=1 brd.rd_size="$rd_kib" \
		con=null con0=null,fd:1 \
		BENCH_OUT="$RUN" BENCH_REPS="$REPS" BENCH_SIZES="${SIZES// /,}" \
		BENCH_FILE_MB="$FILE_MB" BENCH_RUNTIME="$RUNTIME" \
		BENCH_GEOMETRIES="${GEOMETRIES// /,}" BENCH_CASES="${CASES// /,}" \
		BENCH_PATHS="${PATHS// /,}" BENCH_CPUS="$CPUS" BENCH_WRITEBACK="$WRITEBACK" </dev/null
}
phase bench-run guest >"$BENCH/guest.log" 2>&1 || true
if [ -f "$RUN/FAILED" ]; then
	grep 'bench-guest' "$BENCH/guest.log" | tail -n 5 >&2
	die "the guest failed: $(cat "$RUN/FAILED")"
fi
[ -f "$RUN/DONE" ] || {
	tail -n 30 "$BENCH/guest.log" >&2
	die "the guest stopped before it was done (crash, or over the ${limit}s limit); see ${BENCH#$TOP/}/guest.log"
}

phase bench-report /usr/bin/python3 "$TOP/harness/bench-report.py" "$RUN" | tee "$BENCH/report.txt"
if [ "$PERF" = 1 ]; then
	# Each job's samples, by where the guest spent them (bench-cpu.py).
	perf script -i "$BENCH/perf.data" -F comm,time,period,ip,sym,dso 2>/dev/null |
		phase bench-cpu /usr/bin/python3 "$TOP/harness/bench-cpu.py" "$KDIR" "$RUN" |
		tee -a "$BENCH/report.txt" || die "bench-cpu.py could not split the perf samples by job"
	perf report -q -i "$BENCH/perf.data" --no-children -g none --sort dso,symbol --stdio \
		2>/dev/null | grep -v '^$' | awk 'NR <= 60' >"$BENCH/perf.txt"
	log "perf profile (top 60 symbols of the whole run): ${BENCH#$TOP/}/perf.txt; perf report -i ${BENCH#$TOP/}/perf.data for more"
fi
rm -f "$BENCH/bench.png"
if grep -qv '^#' "$RUN/ratios.dat"; then
	gnuplot -e "run='$RUN'; out='$BENCH/bench.png'; reps=$REPS" "$TOP/harness/bench.gp" 2>"$BENCH/gnuplot.log" ||
		{ cat "$BENCH/gnuplot.log" >&2; die "gnuplot failed"; }
	log "table: ${BENCH#$TOP/}/report.txt, chart: ${BENCH#$TOP/}/bench.png, fio JSON: ${RUN#$TOP/}/raw"
else
	log "table: ${BENCH#$TOP/}/report.txt, fio JSON: ${RUN#$TOP/}/raw (no chart: the ratios need both paths)"
fi
phase_report
