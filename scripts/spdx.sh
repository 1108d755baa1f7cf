#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Puts the licence header (SPDX identifier and copyright line) at the top of
# every source, header, script, CMake and build file that git knows of (tracked,
# or new and not ignored), in the comment syntax of its type and after a
# shebang or a zsh "#compdef" line, which must stay first. Idempotent.
# Usage: scripts/spdx.sh          add the header where it is missing
#        scripts/spdx.sh --check  list the files without it, exit 1 if any
set -euo pipefail
cd "$(dirname "$0")/.."
SPDX="SPDX-License-Identifier: MIT"
COPY="Copyright (c) dfukit contributors"

check=0
case "${1:-}" in
--check) check=1 ;;
"") ;;
*) echo "usage: $0 [--check]" >&2; exit 64 ;;
esac

# Prints the comment style of a file: c, hash, or nothing (not ours to mark:
# documentation, test data, files whose format has no comments).
style() {
	local f=$1
	case "$f" in
	tests/fuzz/corpus/* | tests/fuzz/regress/*) return ;;
	debian/changelog | debian/copyright | debian/source/* | debian/*.symbols) return ;;
	LICENSE | *.md | *.scd) return ;;
	*.c | *.h) echo c ;;
	*.sh | *.py | *.cmake | *.cmake.in | *.pc.in | CMakeLists.txt | *.rules) echo hash ;;
	debian/rules | debian/control | debian/*.install | debian/*.links | debian/*.dirs | \
		debian/*.docs | debian/*.manpages | debian/*lintian-overrides | debian/*.udev | \
		debian/*.bash-completion | debian/*.maintscript | debian/not-installed) echo hash ;;
	data/completion/*) echo hash ;;
	*)
		# Any other text file is a script when it starts with a shebang.
		if [ "$(head -c 2 "$f")" = "#!" ]; then echo hash; fi
		;;
	esac
}

# True when the header is in the first lines of the file.
has_header() {
	local top
	top=$(head -n 5 "$1")
	[[ "$top" == *"$SPDX"* && "$top" == *"$COPY"* ]]
}

missing=0
while IFS= read -r -d '' f; do
	[ -f "$f" ] && [ ! -L "$f" ] || continue
	s=$(style "$f")
	[ -n "$s" ] || continue
	has_header "$f" && continue
	if [ $check = 1 ]; then
		echo "$f"
		missing=1
		continue
	fi
	if [ "$s" = c ]; then
		hdr="/* $SPDX */"$'\n'"/* $COPY */"
	else
		hdr="# $SPDX"$'\n'"# $COPY"
	fi
	first=$(head -n 1 "$f")
	tmp=$(mktemp "$f.spdx.XXXXXX")
	case "$first" in
	'#!'* | '#compdef'*) { printf '%s\n%s\n' "$first" "$hdr"; tail -n +2 "$f"; } >"$tmp" ;;
	*) { printf '%s\n' "$hdr"; cat "$f"; } >"$tmp" ;;
	esac
	chmod --reference="$f" "$tmp"
	mv "$tmp" "$f"
	echo "spdx: $f"
done < <(git ls-files -z --cached --others --exclude-standard)

if [ $check = 1 ] && [ $missing = 1 ]; then
	echo "spdx: the files above lack the lines '$SPDX' and '$COPY'; run scripts/spdx.sh" >&2
	exit 1
fi
exit 0
