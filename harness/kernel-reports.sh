#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-reports.sh LOG: print every report the kernel made in LOG (lockdep,
# KASAN, WARN, BUG, a hung task, a panic), each with the lines that follow
# it, and exit non-zero if there was one.
. "$(dirname "$0")/lib.sh"

log=$1
[ -s "$log" ] || die "no kernel log at ${log#$TOP/}"
# The first line of each kind of report the debug options produce.
pat='(WARNING:|BUG:|INFO: task .* blocked for more than|INFO: possible|Kernel panic|UBSAN:|DEBUG_LOCKS_WARN_ON|KASAN:)'
n=$(grep -cE "$pat" "$log" || true)
[ "$n" -gt 0 ] || exit 0
echo "${log#$TOP/}: $n kernel report line(s):"
grep -nE -A 40 "$pat" "$log" | head -n 400
exit 1
