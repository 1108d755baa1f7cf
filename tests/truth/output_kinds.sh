# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Item 6: -U FILE --force renames a temporary file only over a regular
# file. A character device or FIFO is written in place, a symbolic link is
# followed (its target replaced, the link kept), a directory, socket or
# block device is refused. Every path is made in the test's own directory.
. "$(dirname "$0")/../flash/lib.sh" "$1"

fresh_emu stm32f405
rand_file "$TMP/fw.bin" 4096
expect 0 -a 0 -s 0x08000000 -D "$TMP/fw.bin"
READ=(-a 0 -s 0x08000000:4096 --no-verify)
D="$TMP/kinds"
mkdir "$D"

# No temporary file may be left anywhere in the directory.
no_temp() {
	local left
	left=$(find "$D" -name '.*.??????' 2>/dev/null)
	[ -z "$left" ] || fail "$1: temporary files left: $left"
}

# A regular file: replaced with the data.
echo old >"$D/reg"
expect 0 "${READ[@]}" -U "$D/reg" --force
cmp -s "$D/reg" "$TMP/fw.bin" || fail "regular file: not replaced with the device's data"
no_temp regular

# A character device (as /dev/null: 1,3): still a character device after.
mknod "$D/null" c 1 3 || fail "mknod (the test runs as root)"
expect 0 "${READ[@]}" -U "$D/null" --force
[ -c "$D/null" ] || fail "character device: replaced by $(stat -c %F "$D/null")"
no_temp "character device"

# A FIFO: written in place, the reader gets the data.
mkfifo "$D/fifo"
timeout 20 cat "$D/fifo" >"$TMP/fifo.out" &
reader=$!
expect 0 "${READ[@]}" -U "$D/fifo" --force
wait "$reader"
[ -p "$D/fifo" ] || fail "FIFO: replaced by $(stat -c %F "$D/fifo")"
cmp -s "$TMP/fifo.out" "$TMP/fw.bin" || fail "FIFO: the reader did not get the device's data"
no_temp FIFO

# "-": standard output.
"$DFUKIT" "${READ[@]}" -U - --force >"$TMP/stdout.bin" 2>"$TMP/err" || fail "-U -: $(cat "$TMP/err")"
python3 -c 'import sys; sys.exit(open(sys.argv[2], "rb").read() not in open(sys.argv[1], "rb").read())' \
	"$TMP/stdout.bin" "$TMP/fw.bin" || fail "-U -: standard output lacks the data"

# A symbolic link (relative, through a second link): the file it names is
# replaced, both links stay links.
mkdir "$D/sub"
echo old >"$D/sub/target"
ln -s sub/target "$D/link1"
ln -s link1 "$D/link2"
expect 0 "${READ[@]}" -U "$D/link2" --force
[ -L "$D/link2" ] && [ -L "$D/link1" ] || fail "symlink: a link was replaced"
[ "$(readlink "$D/link2")" = link1 ] || fail "symlink: link2 changed"
[ -f "$D/sub/target" ] && [ ! -L "$D/sub/target" ] || fail "symlink: the target is not a regular file"
cmp -s "$D/sub/target" "$TMP/fw.bin" || fail "symlink: the target does not hold the data"
no_temp symlink
# A link to a character device: written in place through the link.
ln -s null "$D/nulllink"
expect 0 "${READ[@]}" -U "$D/nulllink" --force
[ -L "$D/nulllink" ] && [ -c "$D/null" ] || fail "link to a character device: something was replaced"
# A dangling link: its target is created.
ln -s sub/new "$D/dangling"
expect 0 "${READ[@]}" -U "$D/dangling" --force
[ -L "$D/dangling" ] || fail "dangling link: the link was replaced"
cmp -s "$D/sub/new" "$TMP/fw.bin" || fail "dangling link: the named file was not created with the data"
# Without --force a link is an existing path: refused, nothing changed.
echo keep >"$D/sub/kept"
ln -s sub/kept "$D/keeplink"
expect 73 "${READ[@]}" -U "$D/keeplink"
[ "$(cat "$D/sub/kept")" = keep ] || fail "a link without --force: its target changed"

# Refused, with or without --force, and left as they were.
mkdir "$D/dir"
expect 73 "${READ[@]}" -U "$D/dir" --force
grep_err 'is a directory'
[ -d "$D/dir" ] || fail "directory replaced"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$D/sock" ||
	fail "cannot make a socket"
expect 73 "${READ[@]}" -U "$D/sock" --force
grep_err 'is a socket'
[ -S "$D/sock" ] || fail "socket replaced"
mknod "$D/blk" b 7 250 || fail "mknod b"
expect 73 "${READ[@]}" -U "$D/blk" --force
grep_err 'is a block device'
[ -b "$D/blk" ] || fail "block device replaced"
no_temp refused

finish
