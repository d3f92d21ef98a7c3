#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-tests of the harness, run by 'make check' and 'make selftest':
#   - export round trip: materialize, export, edit, refuse, export, rematerialize
#   - a bad argument, a missing tool and an unreachable archive each fail
#     with a message that says what is wrong
# They work on a scratch copy of the repo and a sparse scratch kernel tree,
# never on build/linux.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/series.sh"
# make exports these; the self-tests set their own.
unset KERNEL_SRC FORCE PATCH KUNIT_FILTER

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; [ -z "${2:-}" ] || echo "$2" | sed 's/^/#   /'; }

# expect_fail NAME PATTERN CMD...: CMD must exit non-zero and say PATTERN.
expect_fail() {
	local name=$1 pat=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -ne 0 ] && grep -qE "$pat" <<<"$out"; then
		ok "$name"
	else
		not_ok "$name (exit $rc, wanted non-zero and /$pat/)" "$out"
	fi
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ext4-kunit-selftest.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
repo=$scratch/repo
sbuild=$scratch/build

# A copy of the project as it is now, committed or not.
mkdir -p "$repo"
(cd "$TOP" && git ls-files -co --exclude-standard -z | tar -c --null -T -) | tar -x -C "$repo"
H=$repo/harness

# A sparse kernel tree at the base: only top-level files and fs/ext4/tests
# are written, so it is quick to make.
base_repo=$("$TOP/harness/base.sh")
T=$sbuild/linux
sparse_tree() {
	rm -rf "$T"
	git clone -q --local --no-checkout "$base_repo" "$T"
	git -C "$T" sparse-checkout set fs/ext4/tests
	git -C "$T" checkout -q -B series base
	set_stamp "$T" "$(git -C "$T" rev-parse base)"
}
sparse_tree
export EXT4_KUNIT_BUILD=$sbuild PHASE_LOG=$scratch/phases.log

# 1. Materialize, then export with no edit: the repo must not change.
if "$H/tree.sh" >"$scratch/out" 2>&1 &&
   [ "$(git -C "$T" rev-list --count base..HEAD)" = "$(grep -c '^[0-9]' "$repo/patches/series")" ]; then
	ok "tree: one commit per series patch"
else
	not_ok "tree: one commit per series patch" "$(cat "$scratch/out")"
fi
"$H/export.sh" >"$scratch/out" 2>&1 || not_ok "export right after tree" "$(cat "$scratch/out")"
if diff -r -q "$TOP/patches" "$repo/patches" >"$scratch/diff"; then
	ok "export after tree reproduces patches/ byte for byte"
else
	not_ok "export after tree reproduces patches/ byte for byte" "$(cat "$scratch/diff")"
fi

# 2. Edits: a patch adding a file of ours and touching an upstream file, then
#    a patch changing both again (the repo keeps the file's final text, and
#    the first patch must still rebuild its first version).
new=fs/ext4/tests/selftest-scratch.c
printf '// SPDX-License-Identifier: GPL-2.0\n/* v1 */\n' >"$T/$new"
echo "selftest line 1" >>"$T/README"
git -C "$T" add -f "$new" README
git -C "$T" commit -q -m "selftest: add a file" -m "First edit."
sed -i 's/v1/v2/' "$T/$new"
echo "selftest line 2" >>"$T/README"
git -C "$T" commit -q -a -m "selftest: change it" -m "Second edit."
edited=$(git -C "$T" rev-parse HEAD^{tree})
first=$(git -C "$T" rev-parse HEAD~1^{tree})

expect_fail "tree refuses to throw away unexported commits" "not exported" "$H/tree.sh"
echo "uncommitted" >>"$T/README"
expect_fail "export refuses uncommitted edits" "uncommitted changes" "$H/export.sh"
git -C "$T" checkout -q -- README

if "$H/export.sh" >"$scratch/out" 2>&1 &&
   grep -q "selftest-add-a-file.patch $new\$" "$repo/patches/series" &&
   grep -q '^/\* v2 \*/$' "$repo/$new"; then
	ok "export writes the new patches and the file at its kernel path"
else
	not_ok "export writes the new patches and the file at its kernel path" \
		"$(cat "$scratch/out" "$repo/patches/series")"
fi
# A commit whose message format-patch cannot carry: export must refuse and
# leave the repo as it was.
cp -a "$repo/patches" "$scratch/patches.before"
echo "selftest line 3" >>"$T/README"
git -C "$T" commit -q -a -m "selftest: bad message" -m "body" -m "---" -m "more body"
expect_fail "export refuses a message that does not survive format-patch" \
	"rebuilds a different message; nothing" "$H/export.sh"
if diff -r -q "$scratch/patches.before" "$repo/patches" >"$scratch/diff"; then
	ok "a refused export leaves patches/ untouched"
else
	not_ok "a refused export leaves patches/ untouched" "$(cat "$scratch/diff")"
fi
git -C "$T" reset -q --hard HEAD~1

# Rematerialize from scratch: same trees, first version of the file intact.
sparse_tree
if "$H/tree.sh" >"$scratch/out" 2>&1 &&
   [ "$(git -C "$T" rev-parse HEAD^{tree})" = "$edited" ] &&
   [ "$(git -C "$T" rev-parse HEAD~1^{tree})" = "$first" ]; then
	ok "rematerialized tree equals the edited one, patch by patch"
else
	not_ok "rematerialized tree equals the edited one, patch by patch" "$(cat "$scratch/out")"
fi
expect_fail "tree is a no-op right after an export" "up to date" sh -c "'$H/tree.sh' && false"

# 3. Clear errors.
mkdir -p "$sbuild/kunit"
expect_fail "coverage: bad PATCH argument" "PATCH=nosuchpatch matches no patch" \
	env PATCH=nosuchpatch "$H/coverage.sh"
expect_fail "base: bad KERNEL_SRC argument" "KERNEL_SRC=.* does not exist" \
	env KERNEL_SRC=/nonexistent/linux "$H/base.sh"
mkdir -p "$scratch/bin"
for f in /usr/local/bin/* /usr/bin/* /bin/*; do
	case ${f##*/} in lcov | genhtml) ;; *) ln -sf "$f" "$scratch/bin/" ;; esac
done
# lcov 2 out of reach (no cache, no archive): say why and fall back to
# lcov 1.16, which then goes on as far as this scratch build allows.
nolcov2=(env EXT4_KUNIT_CACHE="$scratch/cache" DEBIAN_MIRROR=http://127.0.0.1:9/debian)
rc=0
out=$("${nolcov2[@]}" "$H/coverage.sh" 2>&1) || rc=$?
if [ $rc -ne 0 ] && grep -q "cannot reach the Debian archive for trixie" <<<"$out" &&
   grep -q "falling back to lcov 1[.]16" <<<"$out" && grep -q "no .gcda files under build/kunit" <<<"$out"; then
	ok "coverage: no lcov 2 says why and falls back to lcov 1.16"
else
	not_ok "coverage: no lcov 2 says why and falls back to lcov 1.16 (exit $rc)" "$out"
fi
expect_fail "coverage: PATCH= needs lcov 2 and says so" "PATCH=1 needs lcov 2" \
	env PATCH=1 "${nolcov2[@]}" "$H/coverage.sh"
# ... and without lcov 1.16 either, tell how to install it.
expect_fail "coverage: missing lcov says how to install it" "'lcov' is not installed; run 'make deps'" \
	env PATH="$scratch/bin" "${nolcov2[@]}" "$H/coverage.sh"
expect_fail "base: unreachable archive" "cannot reach the Debian archive" \
	env EXT4_KUNIT_CACHE="$scratch/cache" DEBIAN_MIRROR=http://127.0.0.1:9/debian "$H/base.sh"

# 4. A pinned version that left the archive: the newest 7.3.x, loudly.  The
#    .deb already downloaded is reused, so only the package lists are fetched.
mkdir -p "$scratch/cache/dl"
ln "$CACHE"/dl/*.deb "$scratch/cache/dl/" 2>/dev/null || cp "$CACHE"/dl/*.deb "$scratch/cache/dl/" 2>/dev/null || true
if out=$(EXT4_KUNIT_CACHE="$scratch/cache" EXT4_KUNIT_BASE_VERSION=7.3.4-0~gone \
	 "$H/base.sh" --fetch-only 2>&1) &&
   grep -q 'FALLING BACK to linux-source-7.3 7[.]3[.]' <<<"$out" &&
   [ -f "$(tail -n 1 <<<"$out")" ]; then
	ok "base: a vanished pin falls back to the newest 7.3.x with a warning"
else
	not_ok "base: a vanished pin falls back to the newest 7.3.x with a warning" "$out"
fi
rm -rf "$scratch/cache"

# 5. The on-disk check: a filesystem e2fsck finds fault with fails the run.
mkdir -p "$sbuild/kunit"
dump=$("$H/fsck.sh" prepare)
img=$scratch/img
sh "$repo/fs/ext4/tests/mkimage.sh" "$repo/fs/ext4/tests/mke2fs.conf" 4k "$img.xz"
xz -dc "$img.xz" >"$img"
dd if="$img" of="$dump" bs=1M seek=0 conv=notrunc status=none
debugfs -w -R "sif <2> links_count 9" "$img" >/dev/null 2>&1
dd if="$img" of="$dump" bs=1M seek=8 conv=notrunc status=none
printf '%s\n' "ext4-kunit: e2fsck slot 0: good: 4k" "ext4-kunit: e2fsck slot 1: bad: 4k" \
	>"$sbuild/kunit/test.log"
expect_fail "fsck: a corrupt filesystem fails the on-disk check" \
	"e2fsck: 1 passed, 1 failed" "$H/fsck.sh" check

# 6. check-debug: a kernel report in the log fails the run and is printed;
#    a clean log passes.
printf '%s\n' "[    1.000000] KTAP version 1" "[    2.000000] ok 1 ext4_buffered_io" >"$scratch/clean.log"
if "$H/kernel-reports.sh" "$scratch/clean.log" >"$scratch/out" 2>&1; then
	ok "check-debug: a log without kernel reports passes"
else
	not_ok "check-debug: a log without kernel reports passes" "$(cat "$scratch/out")"
fi
printf '%s\n' "[    3.000000] ======================================================" \
	"[    3.000000] WARNING: possible circular locking dependency detected" \
	"[    3.000000] kworker/u2:1/42 is trying to acquire lock:" >>"$scratch/clean.log"
expect_fail "check-debug: a lockdep report fails and is printed" "trying to acquire lock" \
	"$H/kernel-reports.sh" "$scratch/clean.log"
printf '%s\n' "[    4.000000] BUG: KASAN: slab-use-after-free in ext4_iomap_finish_ioend+0x1c/0x80" \
	>"$scratch/kasan.log"
expect_fail "check-debug: a KASAN report fails and is printed" "slab-use-after-free in ext4_iomap" \
	"$H/kernel-reports.sh" "$scratch/kasan.log"

# 7. The x86_64 leg without qemu says how to install it, before building.
expect_fail "x86_64: a missing qemu names make deps" "run 'make deps'.*qemu-system-x86" \
	env EXT4_KUNIT_QEMU=qemu-system-x86_64-missing "$H/kunit-x86.sh"

# 8. Build progress: a quick build prints nothing and remembers its objects;
#    a longer one counts the objects it writes against that number, in plain
#    lines off a terminal, and keeps the build's exit status.
pb=$scratch/progress
out=$("$H/progress.sh" "$pb" "$pb.log" sh -c 'touch "$0/a.o" "$0/b.o"; echo built' "$pb" 2>&1) && rc=0 || rc=$?
if [ $rc = 0 ] && [ -z "$out" ] && [ "$(cat "$pb/.objects")" = 2 ] && [ "$(cat "$pb.log")" = built ]; then
	ok "progress: a quick build is quiet and its output goes to the log"
else
	not_ok "progress: a quick build is quiet and its output goes to the log (exit $rc)" "$out"
fi
out=$(PROGRESS_QUIET=0 PROGRESS_TICK=1 PROGRESS_EVERY=1 "$H/progress.sh" --append "$pb" "$pb.log" \
	sh -c 'sleep 2.5; touch "$0/c.o"; sleep 1.5; echo again; exit 3' "$pb" 2>&1) && rc=0 || rc=$?
if [ $rc = 3 ] && grep -q '^  .*progress: 0/2 objects (0%), 0:0[0-9]$' <<<"$out" &&
   tail -n 1 <<<"$out" | grep -q '^  .*progress: 1/2 objects (50%), 0:0[0-9] (failed)$' &&
   [ "$(cat "$pb/.objects")" = 2 ] && [ "$(tail -n 1 "$pb.log")" = again ]; then
	ok "progress: a longer build shows objects against the last count, keeps its status"
else
	not_ok "progress: a longer build shows objects against the last count, keeps its status (exit $rc)" \
		"$out"
fi

# 9. The bench refuses bad settings before building anything, and its report
#    prints the kernel counters of the write jobs, per GiB written, and how
#    the page cache held the file.
expect_fail "bench: a bad case is refused" "BENCH_CASES: 'writes' is not one of" \
	env BENCH_CASES=writes "$H/bench.sh"
expect_fail "bench: a bad path is refused" "BENCH_PATHS: 'buffer_head' is not one of bh iomap" \
	env BENCH_PATHS=buffer_head "$H/bench.sh"
expect_fail "bench: a bad perf setting is refused" "BENCH_PERF=yes: give 1" \
	env BENCH_PERF=yes "$H/bench.sh"
expect_fail "bench: a bad large-folio setting is refused" "BENCH_LARGE_FOLIOS=on: give 1" \
	env BENCH_LARGE_FOLIOS=on "$H/bench.sh"
expect_fail "bench: a bad number of CPUs is refused" "BENCH_CPUS=4: give 1 or 2" \
	env BENCH_CPUS=4 "$H/bench.sh"
expect_fail "bench: a bad writeback setting is refused" "BENCH_WRITEBACK=later: give 'after'" \
	env BENCH_WRITEBACK=later "$H/bench.sh"
expect_fail "bench: a file too large for /dev/shm is refused" "needs 5243904 MiB of guest memory in /dev/shm" \
	env BENCH_FILE_MB=1048576 "$H/bench.sh"
br=$scratch/bench-run
mkdir -p "$br/raw"
for p in bh iomap; do
	# 512 MiB in 0.5 s (bh) or 0.4 s (iomap), with 100 or 50 allocations.
	# The sync after it: 150 or 120 ms.
	ms=500 allocs=100 sync=150
	[ $p = iomap ] && ms=400 allocs=50 sync=120
	echo "{\"jobs\":[{\"usr_cpu\":1,\"sys_cpu\":9,\"write\":{\"io_bytes\":536870912,\"runtime\":$ms},\"read\":{\"io_bytes\":0}}]}" \
		>"$br/raw/r1-4k-$p-write-1m.json"
	printf 'allocations %s\nctxt 300\nduring_mib 0\nsync_ms %s\nextents 2\n' $allocs $sync \
		>"$br/raw/r1-4k-$p-write-1m.counters"
done
# The page cache before and after: 1000 file pages, none (bh) or 980 of
# them (iomap) in large folios, the largest 1 MiB.
printf '300 0 0\n1300 0 0\n' >"$br/raw/r1-4k-bh-write-1m.folios"
printf '300 10 64\n1300 990 1024\n' >"$br/raw/r1-4k-iomap-write-1m.folios"
out=$(/usr/bin/python3 "$H/bench-report.py" "$br" 2>&1) && rc=0 || rc=$?
if [ $rc = 0 ] && grep -qE '^1m +\| +1024 \(1024-1024\) +1280 \(1280-1280\) +1\.25 ' <<<"$out" &&
   grep -qE '^4k +1m +\| +200 / 100 \| +600 / 600 \| +0 / 0 \| +300 / 240 \| +4 / 4 $' <<<"$out" &&
   grep -qE '^4k +1m +\| +0% \| +98% <= 1024k $' <<<"$out"; then
	ok "bench: the report gives MiB/s, the ratio, the counters per GiB and the folios"
else
	not_ok "bench: the report gives MiB/s, the ratio, the counters per GiB and the folios (exit $rc)" "$out"
fi

# 10. bench-cpu.py puts each perf sample in its job's window and its group:
#     a kernel whose objects define one function each (built with gcc and
#     ar as the kernel's thin archives are), two jobs of 1 GiB, samples of
#     1 ms: bh has 2 in ext4, 1 in the page cache (the xarray under
#     generic_perform_write), 1 in the copy, all in fio's system calls, 1
#     in the ramdisk outside them, 1 in fio and 1 in the host; iomap has 1
#     in iomap, 1 in the copy and 1 in fio.  Samples before, between and
#     at the end of the windows (which end before fio's timestamp) count
#     nowhere.  Writers: (4 + 1) / (2 + 1) = 1.67.
bk=$scratch/bench-kernel
objs="fs/ext4/inode.o:ext4_da_map_blocks fs/iomap/buffered-io.o:iomap_write_iter
mm/filemap.o:generic_perform_write lib/iov_iter.o:copy_folio_from_iter_atomic
arch/x86/lib/memcpy_64.o:memcpy_orig arch/um/kernel/skas/syscall.o:handle_syscall
drivers/block/brd.o:brd_submit_bio lib/xarray.o:xas_load"
for o in $objs; do
	mkdir -p "$bk/$(dirname "${o%%:*}")"
	echo "void ${o#*:}(void) {}" | gcc -x c -c -o "$bk/${o%%:*}" -
done
(cd "$bk" && ar rcsT built-in.a $(for o in $objs; do echo "${o%%:*}"; done | grep -v xarray) &&
	ar rcsT lib/lib.a lib/xarray.o && touch linux)
mkdir -p "$br/cpu/raw"
for p in bh:1000000 iomap:1002000; do
	echo "{\"timestamp_ms\":${p#*:},\"jobs\":[{\"job_runtime\":1000,\"write\":{\"io_bytes\":1073741824},\"read\":{\"io_bytes\":0}}]}" \
		>"$br/cpu/raw/r1-4k-${p%%:*}-write-1m.json"
done
k="($bk/linux)"
sample() { # TIME COMM FRAME...
	local t=$1 comm=$2
	shift 2
	printf '%s %s:    1000000 \n' "$comm" "$t"
	printf '\t%s\n' "$@"
	echo
}
{
	sample 998.5 linux "1 ext4_da_map_blocks $k" "2 handle_syscall $k"
	sample 999.1 linux "1 ext4_da_map_blocks $k" "2 generic_perform_write $k" "3 handle_syscall $k"
	sample 999.2 linux "1 ext4_da_map_blocks $k" "3 handle_syscall $k"
	sample 999.3 linux "1 xas_load $k" "2 generic_perform_write $k" "3 handle_syscall $k"
	sample 999.4 linux "1 memcpy_orig $k" "2 copy_folio_from_iter_atomic $k" "3 handle_syscall $k"
	sample 999.5 linux "1 memcpy_orig $k" "2 brd_submit_bio $k"
	sample 999.6 uml-userspace "7f00 main (/memfd:uml-userspace (deleted))"
	sample 999.7 linux "ffffffff81000000 clear_page_erms ([kernel.kallsyms])"
	sample 1000.0 linux "1 ext4_da_map_blocks $k" "3 handle_syscall $k"
	sample 1000.5 linux "1 ext4_da_map_blocks $k" "3 handle_syscall $k"
	sample 1001.1 linux "1 iomap_write_iter $k" "3 handle_syscall $k"
	sample 1001.2 linux "1 memcpy_orig $k" "2 copy_folio_from_iter_atomic $k" "3 handle_syscall $k"
	sample 1001.3 uml-userspace "7f00 main (/memfd:uml-userspace (deleted))"
} >"$scratch/perf-script.txt"
out=$(/usr/bin/python3 "$H/bench-cpu.py" "$bk" "$br/cpu" <"$scratch/perf-script.txt" 2>&1) && rc=0 || rc=$?
if [ $rc = 0 ] &&
   grep -qE '^4k-bh-write-1m +\| +2 +0 +0 +1 +1 +0 +0 +0 +4 \| +1 +1 +1 +7$' <<<"$out" &&
   grep -qE '^4k-iomap-write-1m +\| +0 +1 +0 +0 +1 +0 +0 +0 +2 \| +0 +1 +0 +3$' <<<"$out" &&
   grep -qE '^ +4k +write +1m +5 / 3 ms = 1\.67$' <<<"$out"; then
	ok "bench: bench-cpu.py puts each sample in its job and group"
else
	not_ok "bench: bench-cpu.py puts each sample in its job and group (exit $rc)" "$out"
fi

# The source tree of a bench kernel with patches (benchtree.sh): a worktree
# of a small repository, with its uncommitted change and the patches; the
# same patches again leave the patched file alone (an incremental build),
# other patches are put in place of them, and the repository's files are
# never changed.
if (
	. "$H/benchtree.sh"
	r=$scratch/bt-repo src=$scratch/bt-src
	git init -q "$r" && printf 'a\n' >"$r/a" && printf 'b\n' >"$r/b" &&
		git -C "$r" add a b && git -C "$r" -c user.name=t -c user.email=t@t commit -qm a || exit 1
	# Patches that change a, and b, made against the committed files.
	printf 'a patched\n' >"$r/a" && git -C "$r" diff >"$scratch/pa.patch" && git -C "$r" checkout -q a
	printf 'b patched\n' >"$r/b" && git -C "$r" diff >"$scratch/pb.patch" && git -C "$r" checkout -q b
	printf 'a\nuncommitted\n' >"$r/a"
	# check WHAT A B: the worktree's a and b hold A and B.
	check() {
		[ "$(cat "$src/a")" = "$2" ] && [ "$(cat "$src/b")" = "$3" ] ||
			{ echo "$1: a='$(cat "$src/a")' b='$(cat "$src/b")', expected a='$2' b='$3'"; exit 1; }
	}
	# The uncommitted change to a is carried; pb applies to b.
	patched_tree "$r" "$src" "$scratch/pb.patch" >/dev/null 2>&1 || { echo "first set-up failed"; exit 1; }
	check "first set-up" "$(printf 'a\nuncommitted')" "b patched"
	touch -d '2001-01-01' "$src/b"
	patched_tree "$r" "$src" "$scratch/pb.patch" >/dev/null 2>&1 || { echo "second set-up failed"; exit 1; }
	check "the same patch again" "$(printf 'a\nuncommitted')" "b patched"
	[ "$(stat -c %Y "$src/b")" = "$(date -d 2001-01-01 +%s)" ] || { echo "the same patch was applied again"; exit 1; }
	# Without the uncommitted change, and with two patches: pa needs the
	# committed a.
	git -C "$r" checkout -q a
	patched_tree "$r" "$src" "$scratch/pa.patch" "$scratch/pb.patch" >/dev/null 2>&1 ||
		{ echo "set-up with two patches failed"; exit 1; }
	check "two patches" "a patched" "b patched"
	[ "$(cat "$r/a")" = a ] && [ "$(cat "$r/b")" = b ] || { echo "the repository's files changed"; exit 1; }
	# A directory that is not a worktree is replaced.
	git -C "$r" worktree remove --force "$src" && mkdir -p "$src" && echo stale >"$src/a"
	patched_tree "$r" "$src" "$scratch/pb.patch" >/dev/null 2>&1 || { echo "set-up over a stale directory failed"; exit 1; }
	check "over a stale directory" a "b patched"
) >"$scratch/bt.out" 2>&1; then
	ok "bench: a patched kernel tree is a worktree with the patches, set up once"
else
	not_ok "bench: a patched kernel tree is a worktree with the patches, set up once" "$(cat "$scratch/bt.out")"
fi

echo "selftest: $pass passed, $fail failed"
[ $fail -eq 0 ]
