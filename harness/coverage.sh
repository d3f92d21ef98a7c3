#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make coverage': turn the .gcda files of the last run into
#   build/coverage.info     lcov tracefile (baseline + run, so files that never
#                           ran count with 0%)
#   coverage/html/          genhtml report (open coverage/html/index.html)
#   a line summary for fs/ext4 and fs/iomap, and the per-patch table
# 'make coverage PATCH=<number|name>': the lines that patch adds that never ran.
#
# The installed lcov (1.16 on Debian 12) has no differential coverage, so
# lines are attributed to patches with 'git blame base..HEAD' in build/linux:
# a line belongs to the patch that last changed it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/series.sh"

need lcov lcov
need genhtml lcov
[ -d "$TREE/.git" ] || die "no build/linux; run 'make' first"
[ -d "$KBUILD_DIR" ] || die "no build/kunit; run 'make' first"
info=$BUILD/coverage.info
cd "$TREE"

# Resolve PATCH before the slow part, so a bad argument fails at once.
patches=$(git rev-list --reverse base..HEAD)
want=
if [ -n "${PATCH:-}" ]; then
	n=0
	for c in $patches; do
		n=$((n + 1))
		file=$(series_entries | sed -n "${n}p" | cut -f1)
		case "$PATCH" in
		"$n" | "$(printf '%04d' $n)" | "$file" | "${file%.patch}" | "$(git log -1 --format=%s "$c")")
			want=$c
			break
			;;
		esac
	done
	[ -n "$want" ] || die "PATCH=$PATCH matches no patch; use a number from 1 to $(echo "$patches" | wc -w),
  a patch file name or a subject (see patches/series)"
fi

if [ -z "$want" ] || [ ! -s "$info" ] || [ "$info" -ot "$BUILD/kunit.log" ]; then
	n_gcda=$(find "$KBUILD_DIR" -name '*.gcda' | wc -l)
	[ "$n_gcda" -gt 0 ] || die "no .gcda files under build/kunit: run the suites with coverage first
  ('make'; a kernel that panicked writes none)"
	# Directories to capture: fs/ext4, fs/iomap and every directory whose
	# sources the series touches.
	dirs=$( { echo fs/ext4; echo fs/iomap; git diff --name-only base HEAD -- '*.c' | xargs -r -n1 dirname; } | sort -u)
	capture=()
	for d in $dirs; do [ -d "$KBUILD_DIR/$d" ] && capture+=(-d "$KBUILD_DIR/$d"); done
	lcov -q -c -i "${capture[@]}" -o "$BUILD/coverage.base.info" 2>"$BUILD/lcov.log" >&2 ||
		die "lcov baseline capture failed; see build/lcov.log"
	lcov -q -c "${capture[@]}" -o "$BUILD/coverage.run.info" 2>>"$BUILD/lcov.log" >&2 ||
		die "lcov capture failed; see build/lcov.log"
	lcov -q -a "$BUILD/coverage.base.info" -a "$BUILD/coverage.run.info" -o "$info" 2>>"$BUILD/lcov.log" >&2
	rm -rf "$TOP/coverage/html"
	genhtml -q --legend -t "ext4 iomap KUnit ($(git describe --always HEAD))" \
		-o "$TOP/coverage/html" "$info" 2>>"$BUILD/lcov.log" >&2 ||
		die "genhtml failed; see build/lcov.log"
fi

# Line numbers per source: "path line count", path relative to the tree.
lines() {
	awk -v top="$TREE/" '
		/^SF:/ { f = substr($0, 4); sub("^" top, "", f) }
		/^DA:/ { split(substr($0, 4), a, ","); print f, a[1], a[2] }' "$info"
}

# blame_added: "commit path line" for each line the series adds.
blame_added() {
	local f
	for f in $(git diff --name-only base HEAD); do
		[ -f "$f" ] || continue
		git blame -s -l --abbrev=40 base..HEAD -- "$f" 2>/dev/null |
			awk -v f="$f" '!/^\^/ { n = $2; sub(/\).*/, "", n); print $1, f, n }'
	done
}

if [ -n "$want" ]; then
	echo "Lines added by $(git log -1 --format='%h %s' "$want") that never ran:"
	join -j1 <(blame_added | awk -v c="$want" '$1 == c { print $2 ":" $3 }' | sort) \
		<(lines | awk '$3 == 0 { print $1 ":" $2 }' | sort) |
		sort -t: -k1,1 -k2,2n | while IFS=: read -r f l; do
			printf '%s:%s: %s\n' "$f" "$l" "$(sed -n "${l}p" "$f")"
		done | { grep . || echo "  (none: every executable line it adds ran)"; }
	exit 0
fi

echo "---- line coverage ----"
for d in fs/ext4 fs/iomap; do
	lcov -q -e "$info" "$TREE/$d/*" -o "$BUILD/cov.$$.info" >/dev/null 2>&1 || continue
	lcov --summary "$BUILD/cov.$$.info" 2>&1 | awk -v d="$d" '/lines\.\.\.\.\.\.:/ { sub(/^ */, ""); print d ": " $0 }'
done
rm -f "$BUILD/cov.$$.info"

echo "---- per-patch coverage (executable lines each patch adds) ----"
printf '%-4s %-62s %6s %6s %7s\n' '#' 'patch' 'added' 'ran' 'cover'
join -j1 <(blame_added | awk '{ print $2 ":" $3, $1 }' | sort -k1,1) \
	<(lines | awk '{ print $1 ":" $2, $3 }' | sort -k1,1) >"$BUILD/perpatch.txt"
n=0
for c in $patches; do
	n=$((n + 1))
	read -r added ran < <(awk -v c="$c" '$2 == c { a++; if ($3 > 0) r++ } END { print a + 0, r + 0 }' "$BUILD/perpatch.txt")
	pct=-
	[ "$added" -gt 0 ] && pct=$(awk -v a="$added" -v r="$ran" 'BEGIN { printf "%.1f%%", 100 * r / a }')
	printf '%04d %-62.62s %6s %6s %7s\n' $n "$(git log -1 --format=%s "$c")" "$added" "$ran" "$pct"
done
echo "HTML report: coverage/html/index.html"
