#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make coverage': turn the .gcda files of the last run into
#   build/coverage.info     lcov tracefile with line, branch and function data
#                           (files whose code never ran count too)
#   coverage/html/          genhtml's differential report of the series
#                           against the base, with an owner (patch) table
#   a line summary for fs/ext4 and fs/iomap, the per-patch table of lines and
#   branches, and the new functions that never ran
# 'make coverage PATCH=<number|name>': the lines that patch adds that never ran.
#
# lcov 2 (harness/lcov2.sh) does the attribution: 'git diff base' is the
# diff file, so every line the series adds is new code (GNC when it ran, UNC
# when it did not), and harness/coverage-annotate.sh names the patch that
# last changed each line as its owner.  genhtml's owner bins, saved by
# harness/coverage-owners.sh, are the per-patch table.  Without lcov 2 the
# report falls back to lcov 1.16: HTML and the line summary only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/series.sh"
export LC_ALL=C

[ -d "$TREE/.git" ] || die "no build/linux; run 'make' first"
[ -d "$KBUILD_DIR" ] || die "no build/kunit; run 'make' first"
info=$BUILD/coverage.info
cov=$BUILD/coverage
owners=$cov/owners.map
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
			want=$(printf '%04d' $n)
			break
			;;
		esac
	done
	[ -n "$want" ] || die "PATCH=$PATCH matches no patch; use a number from 1 to $(echo "$patches" | wc -w),
  a patch file name or a subject (see patches/series)"
fi

lcov2=
if lcov2=$("$TOP/harness/lcov2.sh" 2>"$BUILD/lcov2.log"); then
	lcov_cmd=("$lcov2/lcov" --config-file "$lcov2/../../etc/lcovrc")
	genhtml_cmd=("$lcov2/genhtml" --config-file "$lcov2/../../etc/lcovrc")
	# gcc gives a line of an inlined function a count from the copies that
	# ran, while the out-of-line copy's function and branch records stay
	# at zero or unevaluated; lcov 2 calls that inconsistent and stops.
	# gcc also gives lines past the end of a header to what it inlined
	# from headers that header includes (mm/slab.h, trace event headers,
	# reached since patch 9 puts mm/ under coverage); lcov 2 calls that a
	# range error.  Those lines are not in the file: genhtml drops them.
	opts=(--branch-coverage --ignore-errors inconsistent,range
	      --parallel "${JOBS:-$(nproc)}")
else
	cat "$BUILD/lcov2.log" >&2
	warn "lcov 2 is not available (above): falling back to lcov 1.16, with no
  differential report and no per-patch table.  Fix the cause above and run
  'make coverage' again."
	[ -z "$want" ] || die "PATCH=$PATCH needs lcov 2"
	need lcov lcov
	need genhtml lcov
	lcov_cmd=(lcov)
	genhtml_cmd=(genhtml)
	opts=()
fi

capture() {
	local n_gcda d capture=()
	n_gcda=$(find "$KBUILD_DIR" -name '*.gcda' | wc -l)
	[ "$n_gcda" -gt 0 ] || die "no .gcda files under build/kunit: run the suites with coverage first
  ('make'; a kernel that panicked writes none)"
	# Directories to capture: the ones harness/kunit.sh builds with gcov
	# (lcov 2 refuses to see a file twice: none is inside another).
	for d in $(coverage_dirs); do [ -d "$KBUILD_DIR/$d" ] && capture+=(-d "$KBUILD_DIR/$d"); done
	if [ -n "$lcov2" ]; then
		# --all: files whose code never ran count too.
		"${lcov_cmd[@]}" -q "${opts[@]}" -c --all "${capture[@]}" -o "$info" \
			2>"$BUILD/lcov.log" >&2 || die "lcov capture failed; see build/lcov.log"
		drop_foreign "${lcov_cmd[@]}" -q "${opts[@]}"
		return
	fi
	# lcov 1.16 has no --all: add a capture of the .gcno files (all zero).
	lcov -q -c -i "${capture[@]}" -o "$BUILD/coverage.zero.info" 2>"$BUILD/lcov.log" >&2 &&
		lcov -q -c "${capture[@]}" -o "$BUILD/coverage.run.info" 2>>"$BUILD/lcov.log" >&2 &&
		lcov -q -a "$BUILD/coverage.zero.info" -a "$BUILD/coverage.run.info" -o "$info" \
			2>>"$BUILD/lcov.log" >&2 || die "lcov capture failed; see build/lcov.log"
	drop_foreign lcov -q
}

# Keep the sources of build/linux only.  A captured arch/um directory brings
# generated files of the build directory (not in git, so nothing to blame)
# and UML's asm headers, where gcc records lines of the generic headers it
# inlines past the end of the file (genhtml: "contains only 328 lines but
# coverage data refers to line 2059").
drop_foreign() {
	"$@" --remove "$info" "$KBUILD_DIR/*" "$TREE/arch/um/include/*" -o "$info.tmp" \
		2>>"$BUILD/lcov.log" >&2 || die "lcov --remove failed; see build/lcov.log"
	mv "$info.tmp" "$info"
}

report() {
	local title baseline diffopts=()
	title="ext4 iomap KUnit ($(git describe --always --dirty))"
	rm -rf "$TOP/coverage/html"
	if [ -n "$lcov2" ]; then
		baseline=$("$TOP/harness/coverage-baseline.sh" "$lcov2")
		sed "s|^SF:\([^/]\)|SF:$TREE/\1|" "$baseline" >"$cov/baseline.info"
		# Paths in the diff must be the tracefile's SF: paths.
		git diff --no-renames --src-prefix="$TREE/" --dst-prefix="$TREE/" base >"$cov/series.diff"
		diffopts=(--baseline-file "$cov/baseline.info" --diff-file "$cov/series.diff"
			--baseline-title "base, upstream's ext4 tests"
			--annotate-script "$TOP/harness/coverage-annotate.sh,$owners"
			--show-owners all
			--criteria-script "$TOP/harness/coverage-owners.sh,$cov/owners.json"
			--rc criteria_callback_levels=top --rc criteria_callback_data=owner)
	fi
	"${genhtml_cmd[@]}" -q "${opts[@]}" "${diffopts[@]}" --legend -t "$title" \
		-o "$TOP/coverage/html" "$info" >>"$BUILD/lcov.log" 2>&1 ||
		die "genhtml failed; see build/lcov.log"
}

# owner_map: "sha<TAB>NNNN subject<TAB>date" per patch, then the base.  '|'
# and ';' separate fields of an annotation, so subjects lose them.
owner_map() {
	git log --reverse --format='%H%x09%aI%x09%s' base..HEAD |
		awk -F'\t' '{ s = $3; gsub(/[|;]/, "/", s); printf "%s\t%04d %s\t%s\n", $1, NR, s, $2 }'
	printf 'base\tbase\t%s\n' "$(git log -1 --format=%aI base)"
}

# owned FILE...: "path:line owner-number" for each line the series owns,
# sorted.
owned() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		"$TOP/harness/coverage-annotate.sh" "$owners" "$TREE/$f" >"$cov/annotate.txt"
		awk -F'|' -v f="$f" '$2 != "base" { print f ":" NR, substr($2, 1, index($2 " ", " ") - 1) }' \
			"$cov/annotate.txt"
	done | sort
}

# Line counts per source: "path:line count", path relative to the tree.
lines() {
	awk -v top="$TREE/" '
		/^SF:/ { f = substr($0, 4); sub("^" top, "", f) }
		/^DA:/ { split(substr($0, 4), a, ","); print f ":" a[1], a[2] }' "$info"
}

# The commits may have changed since the last report (an amend, a rebase):
# name the owners afresh every time.
mkdir -p "$cov"
[ -z "$lcov2" ] || owner_map >"$owners"
if [ -z "$want" ] || [ ! -s "$info" ] || [ "$info" -ot "$KUNIT_LOG" ]; then
	capture
	report
fi

if [ -n "$want" ]; then
	echo "Lines added by $want $(awk -F'\t' -v n="$want" 'index($2, n " ") == 1 { print substr($2, 6) }' "$owners") that never ran:"
	# shellcheck disable=SC2046 # one word per path
	owned $(git diff --name-only base) >"$cov/owned.txt"
	lines | awk '$2 == 0 { print $1 }' | sort >"$cov/unrun.txt"
	join <(awk -v n="$want" '$2 == n { print $1 }' "$cov/owned.txt") "$cov/unrun.txt" |
		sort -t: -k1,1 -k2,2n | while IFS=: read -r f l; do
			printf '%s:%s: %s\n' "$f" "$l" "$(sed -n "${l}p" "$f")"
		done | { grep . || echo "  (none: every executable line it adds ran)"; }
	exit 0
fi

echo "---- coverage of fs/ext4 and fs/iomap ----"
for d in fs/ext4 fs/iomap; do
	"${lcov_cmd[@]}" -q "${opts[@]}" -e "$info" "$TREE/$d/*" -o "$BUILD/cov.$$.info" >/dev/null 2>&1 || continue
	"${lcov_cmd[@]}" "${opts[@]}" --summary "$BUILD/cov.$$.info" 2>&1 |
		awk -v d="$d" '/^ *(lines|functions|branches)\.+:/ { sub(/^ */, ""); print d ": " $0 }'
done
rm -f "$BUILD/cov.$$.info"
if [ -z "$lcov2" ]; then
	echo "HTML report: coverage/html/index.html (lcov 1.16: no per-patch table)"
	exit 0
fi

echo "---- differential categories (series against the base), then per patch ----"
python3 - "$cov/owners.json" "$owners" <<'PY'
import json
import sys

top = json.load(open(sys.argv[1]))
# genhtml's categories of lines that exist and are code now, and of those
# the ones that ran (EUB/ECB are no longer code, DUB/DCB deleted).
code = ("UNC", "LBC", "UIC", "UBC", "GBC", "GIC", "GNC", "CBC")
covered = ("GBC", "GIC", "GNC", "CBC")


def bins(kind):
    # Owner bins are the dict values; the other keys are the totals.
    return {k: v for k, v in top.get(kind, {}).items() if isinstance(v, dict)}


def cell(b):
    if not b:
        return ["0", "0", "-"]
    found = b.get("found", sum(b.get(k, 0) for k in code))
    hit = b.get("hit", sum(b.get(k, 0) for k in covered))
    return [str(found), str(hit), "%.1f%%" % (100.0 * hit / found) if found else "-"]


order = ("UNC", "LBC", "UIC", "UBC", "GBC", "GIC", "GNC", "CBC", "EUB", "ECB", "DUB", "DCB")
for kind, label in (("line", "lines"), ("branch", "branches"), ("function", "functions")):
    t = top.get(kind, {})
    print("%-10s %s" % (label + ":", "  ".join("%s %d" % (k, t.get(k, 0)) for k in order)))
print()
lines, branches = bins("line"), bins("branch")
owners = [l.split("\t")[1] for l in open(sys.argv[2]).read().splitlines()]
owners += sorted(set(lines) - set(owners))  # "uncommitted", if any
# genhtml's owner of the lines it makes up for data past a file's end (the
# range errors it is told to ignore): not a patch.
owners = [o for o in owners if o != "s.n.thetic"]
print("%-4s %-50s %6s %6s %7s %8s %6s %7s" %
      ("#", "patch", "lines", "ran", "cover", "branches", "taken", "cover"))
for o in owners:
    if o == "base":
        continue
    num, _, subject = o.partition(" ")
    print("%-4s %-50.50s %6s %6s %7s %8s %6s %7s" %
          tuple([num, subject] + cell(lines.get(o)) + cell(branches.get(o))))
PY

echo "---- new functions that never ran ----"
# "path:first-line name" of each function with a zero count.
awk -v top="$TREE/" '
	/^SF:/ { f = substr($0, 4); sub("^" top, "", f); delete start }
	/^FNL:/ { split(substr($0, 5), a, ","); start[a[1]] = a[2] }
	/^FNA:/ { split(substr($0, 5), a, ","); if (a[2] == 0) print f ":" start[a[1]], a[3] }' "$info" |
	sort -u >"$cov/unrun-functions.txt"
# shellcheck disable=SC2046 # one word per path
owned $(cut -d: -f1 "$cov/unrun-functions.txt" | sort -u) >"$cov/owned.txt"
join "$cov/owned.txt" "$cov/unrun-functions.txt" |
	sort -k2,2 -k1,1 | awk '{ print $2, $3, "(" $1 ")" }' | { grep . || echo "  (none)"; }
echo "HTML report: coverage/html/index.html (per-patch owner table at the top of each page)"
