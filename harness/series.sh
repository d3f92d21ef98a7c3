# SPDX-License-Identifier: GPL-2.0
# Series helpers shared by tree.sh, export.sh and selftest.sh.  Sourced.
#
# patches/series lists the patches in order, one a line:
#
#   NNNN-subject.patch [file ...]
#
# The files after a patch name are wholly ours (a KUnit suite, a new source, a
# kunit config): the patch introduces them, but their text lives at their
# kernel path in this repo instead of inside the patch.  A later patch that
# changes such a file carries an ordinary diff for it, so the repo copy is the
# file's final state and the state at introduction is recovered by reversing
# the later diffs.

# series_entries: print "patch<TAB>own files" for each series line.
series_entries() {
	[ -f "$SERIES" ] || return 0
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$SERIES" |
		awk '{ f = ""; for (i = 2; i <= NF; i++) f = f (i > 2 ? " " : "") $i; print $1 "\t" f }'
}

# own_initial FILE N: print FILE as patch number N introduced it.
own_initial() {
	local file=$1 n=$2 tmp i p
	local -a later=()
	[ -f "$TOP/$file" ] || die "$file is listed in patches/series but missing from the repo"
	i=0
	while IFS=$'\t' read -r p _; do
		i=$((i + 1))
		[ $i -gt "$n" ] && grep -q "^diff --git a/$file b/" "$PATCHES/$p" && later=("$p" "${later[@]}")
	done < <(series_entries)
	if [ ${#later[@]} -eq 0 ]; then
		cat "$TOP/$file"
		return
	fi
	tmp=$(mktemp -d)
	mkdir -p "$tmp/$(dirname "$file")"
	cp "$TOP/$file" "$tmp/$file"
	for p in "${later[@]}"; do
		(cd "$tmp" && env -u GIT_DIR -u GIT_INDEX_FILE -u GIT_WORK_TREE \
			git apply -R --include="$file" "$PATCHES/$p") ||
			die "cannot reverse $p on $file: the repo copy and the series disagree"
	done
	cat "$tmp/$file"
	rm -rf "$tmp"
}

# build_series GIT_DIR: commit the series on top of tag 'base' in GIT_DIR with
# plumbing only (no work tree is touched) and print the last commit id.
# Identity and dates come from the patches, so the ids are reproducible.
build_series() {
	local gd=$1 parent idx tmp n=0 p own f mode blob tree
	parent=$(git --git-dir="$gd" rev-parse --verify -q 'base^{commit}') ||
		die "$gd has no 'base' tag"
	tmp=$(mktemp -d)
	idx=$tmp/index
	GIT_DIR=$gd GIT_INDEX_FILE=$idx git read-tree "$parent" || die "git read-tree failed in $gd"
	while IFS=$'\t' read -r p own; do
		n=$((n + 1))
		[ -f "$PATCHES/$p" ] || die "patches/series names $p, which is missing"
		git mailinfo -b "$tmp/msg" "$tmp/diff" <"$PATCHES/$p" >"$tmp/info" ||
			die "$p is not a mail-format patch"
		if grep -q '^diff --git ' "$tmp/diff"; then
			GIT_DIR=$gd GIT_INDEX_FILE=$idx git apply --cached "$tmp/diff" 2>"$tmp/err" ||
				die "$p does not apply: $(cat "$tmp/err")"
		fi
		for f in $own; do
			mode=100644
			[ -x "$TOP/$f" ] && mode=100755
			own_initial "$f" "$n" >"$tmp/own" || die "cannot rebuild $f for $p"
			blob=$(GIT_DIR=$gd git hash-object -w "$tmp/own")
			GIT_DIR=$gd GIT_INDEX_FILE=$idx git update-index --add --cacheinfo "$mode,$blob,$f" ||
				die "cannot add $f for $p"
		done
		tree=$(GIT_DIR=$gd GIT_INDEX_FILE=$idx git write-tree) || die "git write-tree failed for $p"
		{
			sed -n 's/^Subject: //p' "$tmp/info"
			if [ -s "$tmp/msg" ]; then
				echo
				cat "$tmp/msg"
			fi
		} | git stripspace >"$tmp/message"
		parent=$(
			GIT_AUTHOR_NAME=$(sed -n 's/^Author: //p' "$tmp/info") \
			GIT_AUTHOR_EMAIL=$(sed -n 's/^Email: //p' "$tmp/info") \
			GIT_AUTHOR_DATE=$(sed -n 's/^Date: //p' "$tmp/info") \
			GIT_COMMITTER_DATE=$(sed -n 's/^Date: //p' "$tmp/info") \
			GIT_DIR=$gd git commit-tree --no-gpg-sign "$tree" -p "$parent" -F "$tmp/message") ||
			die "git commit-tree failed for $p"
	done < <(series_entries)
	rm -rf "$tmp"
	echo "$parent"
}

# The commit a kernel tree was last materialized at or exported from; any
# other HEAD there is work the repo does not have.
stamp_of() { cat "$1/.git/ext4-kunit-exported" 2>/dev/null || true; }
set_stamp() { echo "$2" >"$1/.git/ext4-kunit-exported"; }

# tree_dirty: list uncommitted changes in the kernel tree (empty when clean).
tree_dirty() {
	git -C "$TREE" status --porcelain 2>/dev/null | head -n 20
}

# tree_unexported: say why build/linux holds work the repo does not have.
tree_unexported() {
	local head stamp dirty
	[ -d "$TREE/.git" ] || return 0
	head=$(git -C "$TREE" rev-parse -q --verify HEAD 2>/dev/null || true)
	stamp=$(stamp_of "$TREE")
	dirty=$(tree_dirty)
	if [ -n "$dirty" ]; then
		echo "uncommitted changes:"
		echo "$dirty" | sed 's/^/    /'
	fi
	if [ -n "$head" ] && [ "$head" != "$stamp" ]; then
		echo "commits not exported (HEAD is ${head:0:12}, last materialized/exported ${stamp:0:12}):"
		if git -C "$TREE" merge-base --is-ancestor "${stamp:-base}" HEAD 2>/dev/null; then
			git -C "$TREE" log --oneline "${stamp:-base}..HEAD" | head -n 10 | sed 's/^/    /'
		else
			echo "    (history rewritten since then; 'git log base..HEAD' shows the series)"
		fi
	fi
}
