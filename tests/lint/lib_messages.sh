#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# No command-line option in any library message: libdfukit says what is
# wrong, and the program that knows its own options adds the hint. Scans the
# string literals (not comments) of every C file under lib/ for option
# letters (" -t", "(-a", "-s ADDR") and long options ("--force") and fails
# naming file:line. Before that it checks itself: a copy of lib/ with a
# planted violation must fail, at the planted line.
# $1: the build directory (unused), $2 (optional): the directory to scan.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)

scan() { # $1: directory; prints file:line: literal, exits 1 on a finding
	python3 - "$1" <<'PY'
import os, re, sys

root = sys.argv[1]
# A dash that starts a word, then one letter that ends one: " -t", "(-a",
# "'-s'", "-s ADDR"; or a long option: "--force", "--usbip".
SHORT = re.compile(r"(?:^|[\s(\[',;/\"])-[A-Za-z](?=$|[\s)\]',.:;=/\"])")
LONG = re.compile(r"(?:^|[^A-Za-z0-9-])--[A-Za-z][A-Za-z0-9-]*")

def literals(text):
    """Yields (line, contents) of each string literal, skipping comments
    and character constants."""
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif c in "\"'":
            start, j, buf = line, i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j:j + 2])
                    j += 2
                    continue
                if text[j] == "\n":
                    line += 1
                buf.append(text[j])
                j += 1
            if c == '"':
                yield start, "".join(buf)
            i = j + 1
        else:
            i += 1

bad = 0
for dirpath, _, files in sorted(os.walk(root)):
    for name in sorted(files):
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.join(dirpath, name)
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for line, s in literals(text):
            if SHORT.search(s) or LONG.search(s):
                print("%s:%d: command-line option in a library message: \"%s\"" %
                      (os.path.relpath(path, root), line, s))
                bad += 1
sys.exit(1 if bad else 0)
PY
}

# Self-test: a planted violation in a copy is found, with its place.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp -r "$SRC/lib" "$TMP/lib"
cat >>"$TMP/lib/base/error.c" <<'C'
/* planted by tests/lint/lib_messages.sh */
static const char *planted(void) { return "wTransferSize is 0: give -t SIZE"; }
C
line=$(wc -l <"$TMP/lib/base/error.c")
for planted in '"or use --force"' '"choose one (-a)"'; do
	printf 'static const char *planted2(void) { return %s; }\n' "$planted" >"$TMP/lib/base/planted2.c"
	out=$(scan "$TMP/lib")
	if [ $? -eq 0 ]; then
		echo "FAIL: the self-test's planted violations were not found"
		exit 1
	fi
	grep -q "^base/error.c:$line: " <<<"$out" || { echo "FAIL: base/error.c:$line not named: $out"; exit 1; }
	grep -q "^base/planted2.c:1: " <<<"$out" || { echo "FAIL: $planted not found: $out"; exit 1; }
done
# Words with dashes inside are not options.
mkdir "$TMP/clean"
printf 'static const char *ok(void) { return "re-enumerated, non-DfuSe, 0x%%08x-0x%%08x, %%u-%%u, a -> b, x - y"; }\n' \
	>"$TMP/clean/ok.c"
cat >>"$TMP/clean/ok.c" <<'C'
/* give -t SIZE */ static const char c = '-'; // or --force
static const char d = '"'; /* " -t */
C
out=$(scan "$TMP/clean") || { echo "FAIL: false positive in the self-test: $out"; exit 1; }

scan "${2:-$SRC/lib}" || { echo "FAIL: library messages name command-line options (the tool adds such hints)"; exit 1; }
echo "lib_messages: ok"
