#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# progress.sh [--append] BUILD_DIR LOG CMD...: run CMD (a kernel build into
# BUILD_DIR) with its output in LOG (appended with --append) and exit with its
# status.  While it runs, show on stderr how many objects (*.o) it has written
# so far against the number the last build of BUILD_DIR left there (kept in
# BUILD_DIR/.objects, and under the cache for a fresh clone).  On a terminal
# the line updates every 2 s; otherwise (CI, a log) a plain line every 20 s.
# A build that ends within 20 s prints nothing: a warm build stays quiet.
# PROGRESS_QUIET, PROGRESS_TICK and PROGRESS_EVERY (seconds: 20, 2, 20)
# change those times.
. "$(dirname "$0")/lib.sh"

append=
if [ "${1:-}" = --append ]; then
	append=1
	shift
fi
[ $# -ge 3 ] || die "usage: progress.sh [--append] BUILD_DIR LOG CMD..."
dir=$1 log=$2
shift 2
quiet=${PROGRESS_QUIET:-20} tick=${PROGRESS_TICK:-2} every=${PROGRESS_EVERY:-20}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
name=${dir#"$TOP"/}
# A fresh clone has no BUILD_DIR/.objects yet: the last count of the build
# directory of the same name in any clone is close enough.
remembered=
case $dir in "$BUILD"/*) remembered=$CACHE/progress/$(echo "${dir#"$BUILD"/}" | tr / _).objects ;; esac
total=$(cat "$dir/.objects" 2>/dev/null || cat "$remembered" 2>/dev/null || echo 0)
[[ $total =~ ^[0-9]+$ ]] || total=0
stamp=$dir/.progress-start
touch "$stamp"
start=$SECONDS

# status: "NAME: N/TOTAL objects (P%), M:SS" (no total when none is known).
status() {
	local n t=$((SECONDS - start)) pct
	# The build removes and renames files while find walks the tree.
	n=$( { find "$dir" -name '*.o' -newer "$stamp" 2>/dev/null || true; } | wc -l)
	if [ "$total" -gt 0 ] && [ "$n" -le "$total" ]; then
		pct=$((n * 100 / total))
		[ $pct -le 99 ] || pct=99
		printf '%s: %d/%d objects (%d%%), %d:%02d' "$name" "$n" "$total" "$pct" $((t / 60)) $((t % 60))
	else
		printf '%s: %d objects, %d:%02d' "$name" "$n" $((t / 60)) $((t % 60))
	fi
}

tty=
[ -t 2 ] && tty=1
monitor() {
	local last=$start sl=
	trap '[ -z "$sl" ] || kill "$sl" 2>/dev/null; exit 0' TERM
	while :; do
		sleep "$tick" &
		sl=$!
		wait "$sl" || true
		sl=
		[ $((SECONDS - start)) -ge "$quiet" ] || continue
		if [ -n "$tty" ]; then
			printf '\r\033[K  %s' "$(status)" >&2
		elif [ $((SECONDS - last)) -ge "$every" ]; then
			last=$SECONDS
			printf '  %s\n' "$(status)" >&2
		fi
	done
}
monitor &
mon=$!

rc=0
if [ -n "$append" ]; then
	"$@" >>"$log" 2>&1 || rc=$?
else
	"$@" >"$log" 2>&1 || rc=$?
fi
kill "$mon" 2>/dev/null || true
wait "$mon" 2>/dev/null || true

if [ $((SECONDS - start)) -ge "$quiet" ]; then
	line=$(status)
	[ $rc = 0 ] || line+=" (failed)"
	if [ -n "$tty" ]; then
		printf '\r\033[K  %s\n' "$line" >&2
	else
		printf '  %s\n' "$line" >&2
	fi
fi
if [ $rc = 0 ]; then
	n=$(find "$dir" -name '*.o' | wc -l)
	echo "$n" >"$dir/.objects"
	[ -z "$remembered" ] || { mkdir -p "${remembered%/*}" && echo "$n" >"$remembered"; } || true
fi
rm -f "$stamp"
exit $rc
