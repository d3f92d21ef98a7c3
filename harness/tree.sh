#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Materialize build/linux: the base commit, then one commit per series patch.
#
#   tree.sh            'make tree': bring build/linux to the repo's series;
#                      refuses when build/linux holds edits not exported
#                      (FORCE=1 throws them away)
#   tree.sh --ensure   'make': as above, but when build/linux holds edits and
#                      the repo's series has not changed since they were
#                      started, keep them and build them as they are
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/series.sh"

mode=strict
[ "${1:-}" = --ensure ] && mode=ensure
need git git

base_repo=$("$TOP/harness/base.sh")
base_id=$(git --git-dir="$base_repo" rev-parse 'base^{commit}')

if [ ! -d "$TREE/.git" ]; then
	log "cloning the base into ${TREE#$TOP/}"
	rm -rf "$TREE.tmp"
	mkdir -p "$BUILD"
	git clone -q --local --no-checkout "$base_repo" "$TREE.tmp"
	expected=$(build_series "$TREE.tmp/.git")
	git -C "$TREE.tmp" checkout -q -B series "$expected"
	set_stamp "$TREE.tmp" "$expected"
	mv "$TREE.tmp" "$TREE"
	log "build/linux: $(git -C "$TREE" rev-list --count base..HEAD) series commits on the base"
	exit 0
fi

if [ "$(git -C "$TREE" rev-parse -q --verify 'base^{commit}' || true)" != "$base_id" ]; then
	log "the base changed: fetching it into ${TREE#$TOP/}"
	git -C "$TREE" fetch -q --no-tags "$base_repo" "+refs/tags/base:refs/tags/base"
fi

expected=$(build_series "$TREE/.git")
head=$(git -C "$TREE" rev-parse -q --verify HEAD || true)
stamp=$(stamp_of "$TREE")
unexported=$(tree_unexported)

if [ "$head" = "$expected" ] && [ -z "$unexported" ]; then
	log "build/linux is up to date with patches/series"
	exit 0
fi

if [ -n "$unexported" ] && [ -z "${FORCE:-}" ]; then
	if [ $mode = ensure ] && [ "$stamp" = "$expected" ]; then
		log "building build/linux as it is; it holds work not yet exported:"
		echo "$unexported" | sed 's/^/    /' >&2
		exit 0
	fi
	if [ "$stamp" != "$expected" ]; then
		why="patches/series changed since build/linux was materialized, and build/linux"
	else
		why="build/linux"
	fi
	die "$why holds edits that are not exported:
$unexported
Run 'make export' to keep them in the repo, or 'make tree FORCE=1' to throw them away."
fi

[ -n "$unexported" ] && warn "FORCE=1: throwing away the edits in build/linux:
$unexported"
log "updating build/linux to the repo's series"
git -C "$TREE" checkout -q -f -B series "$expected"
git -C "$TREE" clean -q -f -d
set_stamp "$TREE" "$expected"
