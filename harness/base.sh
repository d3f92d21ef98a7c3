#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Produce the base kernel as a git repository in the cache and print its path.
#
#   base.sh                      the pinned Debian linux-source-7.3 package
#   KERNEL_SRC=<dir|tarball>     a 7.3 tree of the user's own instead
#   base.sh --fetch-only         only fetch and verify the .deb; print its path
#
# The Debian package is fetched with 'apt-get download' through a private apt
# configuration (own sources list, lists and archive directories under the
# cache), so the machine's apt state is never touched.  The archive host is
# taken from the machine's own Debian sources; DEBIAN_MIRROR overrides it.
. "$(dirname "$0")/lib.sh"

APT_DIR=$CACHE/apt

# cached_deb VERSION: the path of an already downloaded .deb of VERSION.
cached_deb() {
	local f
	for f in "$CACHE/dl/${BASE_PKG}"_*_all.deb; do
		[ -f "$f" ] && [ "$(dpkg-deb -f "$f" Version)" = "$1" ] && { echo "$f"; return 0; }
	done
	return 1
}

# Print the path of the verified .deb, downloading it if needed.
fetch_deb() {
	local dl=$CACHE/dl deb ver versions
	if deb=$(cached_deb "$BASE_VERSION"); then
		if [ "$BASE_VERSION" != "$PINNED_VERSION" ] ||
		   echo "$BASE_DEB_SHA256  $deb" | sha256sum -c --status; then
			echo "$deb"
			return
		fi
		warn "$deb does not match the pinned sha256; fetching it again"
		rm -f "$deb"
	fi
	need apt-get apt
	mkdir -p "$dl"
	log "fetching $BASE_PKG from $BASE_SUITE (private apt state in $APT_DIR)"
	apt_private_update "$BASE_SUITE" \
		"Fix the network or set DEBIAN_MIRROR=<archive URL>, or point KERNEL_SRC=<dir|tarball> at a 7.3 tree."
	ver=$BASE_VERSION
	versions=$(apt_private apt-cache madison "$BASE_PKG" | awk '{ print $3 }')
	if ! grep -qxF "$BASE_VERSION" <<<"$versions"; then
		ver=$(sort -V <<<"$versions" | tail -n 1)
		[ -n "$ver" ] || die "$BASE_PKG is not in $BASE_SUITE any more; use KERNEL_SRC=<dir|tarball>"
		warn "****************************************************************"
		warn "pinned $BASE_PKG $BASE_VERSION has left the archive;"
		warn "FALLING BACK to $BASE_PKG $ver, which is NOT the pinned base"
		warn "****************************************************************"
	fi
	if ! deb=$(cached_deb "$ver"); then
		(cd "$dl" && apt_private apt-get -qq download "$BASE_PKG=$ver") ||
			die "apt-get download $BASE_PKG=$ver failed"
		deb=$(cached_deb "$ver") || die "downloaded package $BASE_PKG $ver not found in $dl"
	fi
	if [ "$ver" = "$PINNED_VERSION" ]; then
		echo "$BASE_DEB_SHA256  $deb" | sha256sum -c --status ||
			die "$deb does not match the pinned sha256 $BASE_DEB_SHA256"
	fi
	echo "$deb"
}

# make_base_repo REPO SRCDIR DESCRIPTION: one commit holding SRCDIR.
make_base_repo() {
	local repo=$1 src=$2 desc=$3 tmp
	tmp=$repo.tmp
	rm -rf "$tmp"
	git init -q --bare "$tmp"
	# Debian's tarball ends its .gitignore with a packaging stanza ('/*'
	# then '!/debian/') that ignores every top-level path; upstream has
	# no such stanza.  Drop it so new files show up in 'git status'.
	if grep -qx '!/debian/' "$src/.gitignore" 2>/dev/null; then
		sed -i '/^# Debian packaging: ignore everything/,$d' "$src/.gitignore"
		sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$src/.gitignore"
		sed -i '${/^#$/d}' "$src/.gitignore"
	fi
	log "committing the base tree ($desc)"
	GIT_DIR=$tmp GIT_WORK_TREE=$src git add -f -A .
	GIT_DIR=$tmp GIT_WORK_TREE=$src \
	GIT_AUTHOR_NAME="base" GIT_AUTHOR_EMAIL="base@ext4-iomap-kunit.invalid" \
	GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" \
		git commit -q -m "base: $desc" \
		-m "The unmodified kernel source, except that Debian's packaging stanza
at the end of .gitignore (which ignores every top-level path) is dropped."
	GIT_DIR=$tmp git tag base
	GIT_DIR=$tmp git gc -q --prune=now 2>/dev/null || true
	mv "$tmp" "$repo"
}

check_73() {
	local mk=$1/Makefile
	[ -f "$mk" ] || die "$1 is not a kernel tree (no Makefile)"
	local v p
	v=$(awk '$1 == "VERSION" { print $3; exit }' "$mk")
	p=$(awk '$1 == "PATCHLEVEL" { print $3; exit }' "$mk")
	[ "$v.$p" = 7.3 ] || die "$1 is Linux $v.$p, the series needs a 7.3 tree"
}

base_from_deb() {
	local deb ver repo tmp
	# Committed already: the .deb was verified when it was.
	repo=$CACHE/base-$BASE_VERSION.git
	if [ -d "$repo" ]; then
		echo "$repo"
		return
	fi
	deb=$(fetch_deb)
	ver=$(dpkg-deb -f "$deb" Version)
	repo=$CACHE/base-$ver.git
	if [ -d "$repo" ]; then
		echo "$repo"
		return
	fi
	tmp=$(mktemp -d "$CACHE/unpack.XXXXXX")
	log "unpacking $(basename "$deb")"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ./usr/src/linux-source-7.3.tar.xz
	if [ "$ver" = "$PINNED_VERSION" ]; then
		echo "$BASE_TAR_SHA256  $tmp/usr/src/linux-source-7.3.tar.xz" | sha256sum -c --status ||
			die "inner tarball does not match the pinned sha256 $BASE_TAR_SHA256"
	fi
	tar -xf "$tmp/usr/src/linux-source-7.3.tar.xz" -C "$tmp"
	check_73 "$tmp/linux-source-7.3"
	make_base_repo "$repo" "$tmp/linux-source-7.3" "Debian $BASE_PKG $ver"
	rm -rf "$tmp"
	echo "$repo"
}

base_from_src() {
	local src key repo tmp top
	src=$(realpath "$KERNEL_SRC" 2>/dev/null) || die "KERNEL_SRC=$KERNEL_SRC does not exist"
	if [ -d "$src" ]; then
		# Any edit inside the tree must give a new base.
		key=$( { echo "$src"; find "$src" -path "$src/.git" -prune -o -type f \
			-printf '%T@ %s %P\n' | sort; } | sha1sum | cut -c1-12)
	else
		key=$(stat -c '%n %s %Y' "$src" | sha1sum | cut -c1-12)
	fi
	repo=$CACHE/base-src-$key.git
	if [ -d "$repo" ]; then
		echo "$repo"
		return
	fi
	tmp=$(mktemp -d "$CACHE/unpack.XXXXXX")
	if [ -d "$src" ]; then
		check_73 "$src"
		log "copying $src"
		# A git checkout: its files as they are in the work tree, edits
		# included, build outputs (ignored files) left out.
		if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
			(cd "$src" && git ls-files -z -c -o --exclude-standard |
				tar -c --null --ignore-failed-read -T - 2>/dev/null) | tar -x -C "$tmp"
		else
			tar -c -C "$src" --exclude=.git . | tar -x -C "$tmp"
		fi
		top=$tmp
	elif [ -f "$src" ]; then
		log "unpacking $src"
		tar -xf "$src" -C "$tmp" || die "KERNEL_SRC=$src is not a tarball tar can read"
		top=$(dirname "$(find "$tmp" -maxdepth 2 -name Makefile -path '*/Makefile' | head -n 1)")
		check_73 "$top"
	else
		die "KERNEL_SRC=$src is neither a directory nor a tarball"
	fi
	make_base_repo "$repo" "$top" "$src"
	rm -rf "$tmp"
	echo "$repo"
}

mkdir -p "$CACHE"
if [ "${1:-}" = --fetch-only ]; then
	fetch_deb
elif [ -n "${KERNEL_SRC:-}" ]; then
	base_from_src
else
	base_from_deb
fi
