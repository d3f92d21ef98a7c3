#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fail when a KUnit suite that the build compiled did not report: a suite
# whose object is in build/kunit but which is missing from the results (a
# crash before it ran, a filter, a broken kunit_test_suites()).
. "$(dirname "$0")/lib.sh"

results=$RESULTS
[ -s "$results" ] || die "no results from kunit.py (${RESULTS#$TOP/} is missing or empty)"

expected=$(
	cd "$TREE"
	for c in $(find fs/ext4 fs/iomap -name '*.c' 2>/dev/null); do
		[ -f "$KBUILD_DIR/${c%.c}.o" ] || continue
		awk '/struct kunit_suite [A-Za-z0-9_]+ = \{/ { s = 1 }
		     s && match($0, /\.name[ \t]*=[ \t]*"[^"]*"/) {
			n = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", n); sub(/"$/, "", n)
			print n; s = 0 }' "$c"
	done | sort -u)
ran=$(python3 -c '
import json, sys
def walk(g):
    for s in g.get("sub_groups", []):
        print(s["name"])
walk(json.load(open(sys.argv[1])))' "$results" | sort -u)
# With KUNIT_FILTER=<suite glob>[.<test glob>], only matching suites are due.
if [ -n "${KUNIT_FILTER:-}" ]; then
	glob=${KUNIT_FILTER%%.*}
	expected=$(for s in $expected; do if [[ $s == $glob ]]; then echo "$s"; fi; done)
fi
missing=$(comm -23 <(echo "$expected") <(echo "$ran"))
if [ -n "$missing" ]; then
	echo "error: these suites were built but did not report:" >&2
	echo "$missing" | sed 's/^/    /' >&2
	exit 1
fi
