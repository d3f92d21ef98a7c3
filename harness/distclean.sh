#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# 'make distclean': remove build/ and coverage/, unless build/linux holds work
# that 'make export' has not written back (FORCE=1 removes it anyway).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/series.sh"

unexported=$(tree_unexported)
if [ -n "$unexported" ] && [ -z "${FORCE:-}" ]; then
	die "build/linux holds edits that are not exported:
$unexported
Run 'make export' first, or 'make distclean FORCE=1' to throw them away."
fi
rm -rf "$BUILD" "$TOP/coverage"
echo "removed build/ and coverage/ (caches in ${CACHE/#$HOME/\~} are kept)"
