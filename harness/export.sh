#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make export': write the commits of build/linux (base..HEAD) back into the
# repo: patches/NNNN-*.patch, patches/series, and the files wholly ours at
# their kernel paths.  Then rebuild the series from what was written and check
# that every commit's tree and message come back the same (the round trip).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/series.sh"

[ -d "$TREE/.git" ] || die "no build/linux to export from; run 'make tree' first"
cd "$TREE"
dirty=$(tree_dirty)
[ -z "$dirty" ] || die "build/linux has uncommitted changes:
$(echo "$dirty" | sed 's/^/    /')
A patch is a commit: commit them first ('git commit', or 'git commit --fixup=<patch>'
then 'git rebase -i --autosquash base'), then run 'make export' again."
[ -z "$(git rev-list --merges base..HEAD)" ] || die "base..HEAD has merges; the series must be linear"

# Files wholly ours: present at HEAD, absent from the base.
mapfile -t own < <(git diff --name-only --diff-filter=A base HEAD)
is_own() {
	local f
	for f in "${own[@]}"; do [ "$f" = "$1" ] && return 0; done
	return 1
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
: >"$out/series"
n=0
fmt=(-c core.abbrev=12 -c format.signOff=false format-patch --stdout --zero-commit --no-signature --no-numbered --keep-subject
     --no-renames --diff-algorithm=histogram)
for c in $(git rev-list --reverse base..HEAD); do
	n=$((n + 1))
	name=$(git format-patch -1 --start-number $n --suffix=.patch -o "$out/names" "$c")
	name=$(basename "$name")
	added=()
	excl=()
	while read -r f; do
		is_own "$f" || continue
		added+=("$f")
		excl+=(":(exclude)$f")
	done < <(git diff-tree --no-commit-id --name-only --diff-filter=A -r "$c")
	if git diff-tree --quiet "$c^" "$c" -- . "${excl[@]}"; then
		# The commit only adds files of ours: keep the header, no diff.
		git "${fmt[@]}" -1 "$c" | sed -n '1,/^---$/p' >"$out/$name"
	else
		git "${fmt[@]}" -1 "$c" -- . "${excl[@]}" >"$out/$name"
	fi
	echo "$name${added[*]:+ ${added[*]}}" >>"$out/series"
done
rm -rf "$out/names"

# Stage the export: the series file, the patches and the files of ours,
# laid out as in the repo.
stage=$out/stage
mkdir -p "$stage/patches"
{
	echo "# One patch a line, in order: NNNN-subject.patch [files wholly ours it introduces]"
	echo "# Written by 'make export'; the files named live at their kernel paths in the repo."
	cat "$out/series"
} >"$stage/patches/series"
cp "$out"/*.patch "$stage/patches/" 2>/dev/null || true
for f in "${own[@]}"; do
	mkdir -p "$stage/$(dirname "$f")"
	git show "HEAD:$f" >"$stage/$f"
	[ "$(git ls-tree HEAD -- "$f" | cut -c1-6)" = 100755 ] && chmod +x "$stage/$f"
done

# Round trip before anything in the repo changes: the staged series must
# rebuild every commit with the same tree and message.
rebuilt=$(TOP=$stage PATCHES=$stage/patches SERIES=$stage/patches/series build_series "$TREE/.git")
mine=($(git rev-list --reverse base..HEAD))
theirs=($(git rev-list --reverse base.."$rebuilt"))
[ ${#mine[@]} = ${#theirs[@]} ] || die "round trip: ${#mine[@]} commits exported, ${#theirs[@]} rebuilt"
for i in "${!mine[@]}"; do
	a=${mine[$i]} b=${theirs[$i]}
	subject=$(git log -1 --format=%s "$a")
	[ "$(git rev-parse "$a^{tree}")" = "$(git rev-parse "$b^{tree}")" ] ||
		die "round trip: patch $((i + 1)) ($subject) rebuilds a different tree; nothing was
  written to the repo.  A file of ours whose mode changed after it was added, or one that was
  deleted and added again, cannot be kept at its kernel path: squash such changes into the
  patch that adds the file."
	[ "$(git log -1 --format=%B "$a" | git stripspace)" = "$(git log -1 --format=%B "$b" | git stripspace)" ] ||
		die "round trip: patch $((i + 1)) ($subject) rebuilds a different message; nothing
  was written to the repo.  Give it a one-line subject, a blank line, then the body, with no
  '---' or 'diff --git' line in the body (git format-patch and git am cannot carry those)."
done

# Replace the repo's series with the verified one.
old_own=$(series_entries | cut -f2 | tr ' ' '\n' | sed '/^$/d')
for f in $old_own; do
	is_own "$f" || { rm -f "$TOP/$f"; log "removed $f (no longer in the series)"; }
done
mkdir -p "$PATCHES"
rm -f "$PATCHES"/*.patch
cp -a "$stage/patches/." "$PATCHES/"
for f in "${own[@]}"; do
	mkdir -p "$TOP/$(dirname "$f")"
	cp -p "$stage/$f" "$TOP/$f"
	[ -x "$stage/$f" ] || chmod -x "$TOP/$f"
done

# Same trees: moving HEAD to the rebuilt commits touches no file.
git reset -q --soft "$rebuilt"
set_stamp "$TREE" "$rebuilt"
log "exported $n patches and ${#own[@]} files of ours; round trip verified"
