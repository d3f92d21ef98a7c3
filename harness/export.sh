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
fmt=(-c core.abbrev=12 format-patch --stdout --zero-commit --no-signature --no-numbered --keep-subject
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
		git "${fmt[@]}" -1 "$c" | sed '/^---$/q' >"$out/$name"
	else
		git "${fmt[@]}" -1 "$c" -- . "${excl[@]}" >"$out/$name"
	fi
	echo "$name${added[*]:+ ${added[*]}}" >>"$out/series"
done
rm -rf "$out/names"

# Replace the repo's series with the exported one.
old_own=$(series_entries | cut -f2 | tr ' ' '\n' | sed '/^$/d')
mkdir -p "$PATCHES"
rm -f "$PATCHES"/*.patch
{
	echo "# One patch a line, in order: NNNN-subject.patch [files wholly ours it introduces]"
	echo "# Written by 'make export'; the files named live at their kernel paths in the repo."
	cat "$out/series"
} >"$SERIES"
cp "$out"/*.patch "$PATCHES/" 2>/dev/null || true
for f in $old_own; do
	is_own "$f" || { rm -f "$TOP/$f"; log "removed $f (no longer in the series)"; }
done
for f in "${own[@]}"; do
	mkdir -p "$TOP/$(dirname "$f")"
	git show "HEAD:$f" >"$TOP/$f"
	if [ "$(git ls-tree HEAD -- "$f" | cut -c1-6)" = 100755 ]; then chmod +x "$TOP/$f"; else chmod -x "$TOP/$f"; fi
done

# Round trip: the series as written must rebuild every commit exactly.
rebuilt=$(build_series "$TREE/.git")
mine=($(git rev-list --reverse base..HEAD))
theirs=($(git rev-list --reverse base.."$rebuilt"))
[ ${#mine[@]} = ${#theirs[@]} ] || die "round trip: ${#mine[@]} commits exported, ${#theirs[@]} rebuilt"
for i in "${!mine[@]}"; do
	a=${mine[$i]} b=${theirs[$i]}
	[ "$(git rev-parse "$a^{tree}")" = "$(git rev-parse "$b^{tree}")" ] ||
		die "round trip: patch $((i + 1)) rebuilds a different tree ($(git log -1 --format=%s "$a"))"
	[ "$(git log -1 --format=%B "$a" | git stripspace)" = "$(git log -1 --format=%B "$b" | git stripspace)" ] ||
		die "round trip: patch $((i + 1)) rebuilds a different message ($(git log -1 --format=%s "$a"))"
done
# Same trees: moving HEAD to the rebuilt commits touches no file.
git reset -q --soft "$rebuilt"
echo "$rebuilt" >"$TREE/.git/ext4-kunit-exported"
log "exported $n patches and ${#own[@]} files of ours; round trip verified"
