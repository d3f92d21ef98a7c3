# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by bench.sh: the source tree of a bench kernel that carries
# patches for the benchmark only (bench-large-folios.patch,
# bench-uml-smp.patch), kept apart from build/linux.

# patched_tree TREE SRC PATCH...: make SRC a git worktree of TREE's
# repository at TREE's HEAD plus TREE's uncommitted changes to tracked
# files, with the PATCHes applied.  TREE's files are never changed.  When
# the same patches are applied already, SRC moves to the new revision with
# them in place, so that files neither changes keep their times and a build
# in SRC stays incremental.  SRC.applied.patch records what is applied.
patched_tree() {
	local tree=$1 src=$2 rev
	local want=$src.want.patch applied=$src.applied.patch
	shift 2

	cat "$@" >"$want" || return 1
	rev=$(git -C "$tree" stash create) || return 1
	[ -n "$rev" ] || rev=$(git -C "$tree" rev-parse HEAD) || return 1
	# A worktree of TREE's repository, not a stale directory.
	if [ "$(git -C "$src" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)" != \
	     "$(realpath "$tree/.git")" ]; then
		rm -rf "$src" "$applied"
		git -C "$tree" worktree prune &&
		git -C "$tree" worktree add -q --detach "$src" "$rev" || return 1
	fi
	# The same patches applied: carry them to the new revision (checkout
	# keeps changes to files the revision does not change).
	if cmp -s "$want" "$applied" &&
	   git -C "$src" checkout -q --detach "$rev" 2>/dev/null &&
	   git -C "$src" apply --reverse --check "$want" 2>/dev/null; then
		rm -f "$want"
		return 0
	fi
	# Not applied, other versions, or the revision changes their files.
	rm -f "$applied"
	git -C "$src" checkout -q -f --detach "$rev" &&
		git -C "$src" apply "$want" &&
		mv "$want" "$applied"
}
