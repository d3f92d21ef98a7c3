#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print the KTAP summary of the last run, the on-disk check and phase times
# (--brief: no phase times).  EXT4_KUNIT_ARCH=x86_64: the x86_64 leg's, with
# the tests of each configuration (geometry and path).
. "$(dirname "$0")/lib.sh"

echo "---- KTAP summary$([ "$KUNIT_ARCH" = um ] || echo " ($KUNIT_ARCH)") ----"
if [ -s "$RESULTS" ]; then
	python3 - "$RESULTS" "$KUNIT_ARCH" <<'PY'
import json, re, sys
counts = {}
configs = {}
def walk(g, path):
    for t in g.get("test_cases", []):
        counts[t["status"]] = counts.get(t["status"], 0) + 1
        if re.fullmatch(r"[0-9a-z]+-(bh|iomap)", t["name"]):
            c = configs.setdefault(t["name"], {})
            c[t["status"]] = c.get(t["status"], 0) + 1
        if t["status"] != "PASS":
            print("  %s: %s" % (t["status"], ".".join(path + [t["name"]])))
    for s in g.get("sub_groups", []):
        walk(s, path + [s["name"]])
walk(json.load(open(sys.argv[1])), [])
p = counts.pop("PASS", 0)
s = counts.pop("SKIP", 0)
f = sum(counts.values())
print("kunit: %d passed, %d failed, %d skipped" % (p, f, s))
if sys.argv[2] != "um" and configs:
    print("per configuration: " + ", ".join(
        "%s %d/%d" % (n, c.get("PASS", 0), sum(c.values()))
        for n, c in sorted(configs.items(),
                           key=lambda i: (int(re.match(r"\D*(\d+)", i[0]).group(1)), i[0]))))
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
[ "${1:-}" = --brief ] || phase_report
