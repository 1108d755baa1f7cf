#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Every option the programs' --help lists (and every file command's) is in
# the man page and in the bash and zsh completion, so that neither falls
# behind the code. $1: the build directory.
set -u
BUILD=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
bad=0
# Long options of a help text ("--name"), one a line.
longopts() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }
check() { # PROGRAM-LABEL HELP-TEXT FILE...
	local what=$1 help=$2 opt f
	shift 2
	for opt in $(printf '%s\n' "$help" | longopts); do
		for f in "$@"; do
			# scdoc source writes *--name*; completions write the bare word.
			grep -q -- "$opt\b" "$f" || { echo "$what: $opt missing from ${f#"$SRC"/}"; bad=1; }
		done
	done
}
check dfukit "$("$BUILD/dfukit" --help 2>&1)" "$SRC/doc/man/dfukit.1.scd" \
	"$SRC/data/completion/bash/dfukit" "$SRC/data/completion/zsh/_dfukit"
for cmd in suffix prefix pack info unpack capture; do
	check "dfukit $cmd" "$("$BUILD/dfukit" "$cmd" --help 2>&1)" "$SRC/doc/man/dfukit.1.scd" \
		"$SRC/data/completion/bash/dfukit" "$SRC/data/completion/zsh/_dfukit"
done
check dfukit-emu "$("$BUILD/dfukit-emu" --help 2>&1 | sed '/^Fault SPEC/,$d')" "$SRC/doc/man/dfukit-emu.1.scd" \
	"$SRC/data/completion/bash/dfukit-emu" "$SRC/data/completion/zsh/_dfukit-emu"
# Every profile is described in the man page.
for p in $("$BUILD/dfukit-emu" --list-profiles | awk '{print $1}'); do
	grep -q -- "^\*$p\*" "$SRC/doc/man/dfukit-emu.1.scd" || { echo "dfukit-emu: profile $p missing from the man page"; bad=1; }
done
# Every exit status the help texts name is explained.
for code in $("$BUILD/dfukit" --help 2>&1 | sed -n '/^Exit status/,$p' | grep -o '\b[0-9][0-9]\b' | sort -u); do
	grep -q "^\*$code\*" "$SRC/doc/man/dfukit.1.scd" || { echo "dfukit: exit status $code missing from the man page"; bad=1; }
done
[ $bad = 0 ] && echo "docs: every option, profile and exit status documented and completed"
exit $bad
