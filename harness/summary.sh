#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print the KTAP summary of the last run, the on-disk check and phase times.
. "$(dirname "$0")/lib.sh"

echo "---- KTAP summary ----"
if [ -s "$RESULTS" ]; then
	python3 - "$RESULTS" <<'PY'
import json, sys
counts = {}
def walk(g, path):
    for t in g.get("test_cases", []):
        counts[t["status"]] = counts.get(t["status"], 0) + 1
        if t["status"] != "PASS":
            print("  %s: %s" % (t["status"], ".".join(path + [t["name"]])))
    for s in g.get("sub_groups", []):
        walk(s, path + [s["name"]])
walk(json.load(open(sys.argv[1])), [])
p = counts.pop("PASS", 0)
s = counts.pop("SKIP", 0)
f = sum(counts.values())
print("kunit: %d passed, %d failed, %d skipped" % (p, f, s))
PY
	{ grep -E '^\[[0-9:]+\] (Testing complete|Elapsed time)' "$KUNIT_LOG" 2>/dev/null || true; } |
		sed 's/^\[[0-9:]*\] //'
else
	echo "kunit: no results (the run did not happen or crashed early)"
fi
if [ -s "$FSCK_LOG" ]; then
	echo "---- on-disk check ----"
	tail -n 1 "$FSCK_LOG"
fi
phase_report
