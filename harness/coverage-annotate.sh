#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# genhtml --annotate-script: for each line of a source file of build/linux,
# print "commit|owner|date|source", the owner being the patch of the series
# that last changed the line ("NNNN subject"), "base" for a line of the base
# and "uncommitted" for an edit not committed yet.  genhtml's owner table is
# then the per-patch table.
#
#   coverage-annotate.sh OWNERS SOURCE
#
# OWNERS holds "sha<TAB>owner<TAB>date" per patch and one "base" line
# (written by coverage.sh).  The work tree is blamed, not HEAD, so that the
# lines match the sources that were compiled.
set -euo pipefail
owners=$1 src=$2
cd "$(dirname "$src")"
git blame --line-porcelain base.. -- "$(basename "$src")" |
	awk -F'\t' -v owners="$owners" '
	BEGIN {
		while ((getline l < owners) > 0) {
			split(l, f, "\t")
			owner[f[1]] = f[2]
			date[f[1]] = f[3]
		}
	}
	# A header: "sha line-in-commit line-in-file [lines in group]".
	/^[0-9a-f]+ [0-9]+ [0-9]+/ { sha = substr($0, 1, index($0, " ") - 1); next }
	/^\t/ {
		if (sha in owner)
			print sha "|" owner[sha] "|" date[sha] "|" substr($0, 2)
		else if (sha ~ /^0+$/)
			print "uncommitted|uncommitted|" date["base"] "|" substr($0, 2)
		else
			print "base|base|" date["base"] "|" substr($0, 2)
	}'
