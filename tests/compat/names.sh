# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# dfukit invoked as dfu-util, dfu-suffix, dfu-prefix and dfuse-pack: the
# same options, exit codes and scraped stdout lines as Debian's dfu-util 0.11
# package, and -V saying it is dfukit.
. "$(dirname "$0")/lib.sh" "$1"
head -c 1000 /dev/urandom >"$TMP/plain.bin"

# ---- -V: dfukit's compatibility mode, with dfukit's version ----
t_version() {
	ver=$("$BUILD/dfukit" -V | head -1 | sed -E 's/^dfukit ([0-9.]+).*/\1/')
	for n in dfu-util dfu-suffix dfu-prefix; do
		"$BIN/$n" -V >"$TMP/out" 2>"$TMP/err"
		[ $? = 0 ] || fail "$n -V exited non-zero"
		head -1 "$TMP/out" | grep -Eq "^$n( \(dfu-util\))? 0\.11 \(dfukit $ver compatibility mode\)$" ||
			fail "$n -V first line: $(head -1 "$TMP/out")"
		grep -q "^This is dfukit $ver" "$TMP/out" || fail "$n -V does not say it is dfukit"
		grep -Eq '^libdfukit [0-9.]+, libusb [0-9]+\.[0-9]+\.[0-9]+' "$TMP/out" || fail "$n -V: no libusb version"
	done
	# dfukit's own -V: version, git describe when built from git, libusb.
	run -V
	"$BUILD/dfukit" -V >"$TMP/out"
	grep -Eq '^dfukit [0-9]+\.[0-9]+\.[0-9]+' "$TMP/out" || fail "dfukit -V: $(head -1 "$TMP/out")"
	grep -Eq '^libdfukit [0-9.]+, libusb [0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' "$TMP/out" || fail "dfukit -V: no libusb version"
	if git -C "$(dirname "$0")" rev-parse --git-dir >/dev/null 2>&1; then
		grep -Eq '^dfukit [0-9.]+ \(git [^)]+\)$' "$TMP/out" || fail "dfukit -V: no git describe in a git checkout: $(head -1 "$TMP/out")"
	fi
}

# ---- exit codes that need no device: ours against Debian's dfu-util ----
# same_rc NAME ARGS...: $BIN/NAME and /usr/bin/NAME exit alike.
same_rc() {
	local n=$1 theirs ours
	shift
	(cd "$TMP" && /usr/bin/$n "$@" >/dev/null 2>&1)
	theirs=$?
	(cd "$TMP" && "$BIN/$n" "$@" >/dev/null 2>&1)
	ours=$?
	[ "$theirs" = "$ours" ] || fail "$n $*: exit $ours, dfu-util's $n exits $theirs"
}

t_exit_codes() {
	same_rc dfu-util -h
	same_rc dfu-util -V
	same_rc dfu-util                 # nothing to do: 64
	same_rc dfu-util -x              # unknown option: 64
	same_rc dfu-util -l stray        # unexpected argument: 64
	same_rc dfu-util -a 0 -D "$TMP/no-such-file.bin"   # 66
	same_rc dfu-suffix -V
	same_rc dfu-suffix -h
	same_rc dfu-suffix -q            # unknown option
	same_rc dfu-suffix -c "$TMP/no-such-file.bin"
	same_rc dfu-suffix -c "$TMP/plain.bin"   # no suffix: 65
	same_rc dfu-prefix -V
	same_rc dfu-prefix -c "$TMP/plain.bin"
	same_rc dfuse-pack "$TMP/no-such-file.dfu"     # unreadable: 1
	same_rc dfuse-pack --no-such-option            # optparse: 2
	same_rc dfuse-pack                             # nothing to do: 1
}

# ---- no device: 74 and dfu-util's words ----
t_no_device() {
	fresh_emu stm32f405
	expect 74 -d 1234:5678,1234:5679 -a 0 -s 0x08000000 -D "$TMP/plain.bin"
	grep_err '^dfu-util: No DFU capable USB device available$'
	# Usage: 64, as dfu-util.
	expect 64 -a 0 -D "$TMP/plain.bin" -U "$TMP/x.bin"
	expect 64
}

# ---- -l: dfu-util's banner position and line format ----
LINE_RE='^Found (DFU|Runtime): \[[0-9a-f]{4}:[0-9a-f]{4}\] ver=[0-9a-f]{4}, devnum=[0-9]+, cfg=[0-9]+, intf=[0-9]+, path="[^"]*", alt=[0-9]+, name="[^"]*", serial="[^"]*"$'
t_list() {
	fresh_emu stm32f405
	expect 0 -l
	[ "$(grep -c '^Found DFU: ' "$TMP/out")" = 4 ] || fail "dfu-util -l: expected 4 Found lines"
	grep '^Found ' "$TMP/out" | grep -Evq "$LINE_RE" && fail "dfu-util -l: a line is not in dfu-util's format"
	head -1 "$TMP/out" | grep -Eq '^dfu-util 0\.11 ' || fail "dfu-util -l: the banner is not first"
	grep_out '^Found DFU: \[0483:df11\] ver=2200, devnum=[0-9]+, cfg=1, intf=0, path="[^"]+", alt=0, name="@Internal Flash  /0x08000000/04\*016Kg,01\*064Kg,07\*128Kg", serial="[^"]+"$'
	# The same lines as dfukit's own -l.
	grep '^Found' "$TMP/out" >"$TMP/compat.lst"
	"$BUILD/dfukit" -l | grep '^Found' >"$TMP/own.lst"
	cmp -s "$TMP/compat.lst" "$TMP/own.lst" || fail "dfu-util -l and dfukit -l list differently"
}

# ---- DfuSe raw download: progress lines, Download done., File downloaded successfully ----
t_dfuse_download() {
	fresh_emu stm32f405
	rand_file "$TMP/fw.bin" 40000
	expect 0 -a 0 -s 0x08000000 -D "$TMP/fw.bin"
	progress_lines_ok
	grep_out '^Erase    done\.$'
	grep_out '^Download done\.$'
	grep_out '^File downloaded successfully$'
	no_out '^Done!$'   # dfu-util prints "Done!" only after plain DFU downloads
	mem_check 0x08000000 "$TMP/fw.bin"
	# Stdout is not a terminal here: dfu-util's bars go there anyway (\r lines).
	grep -q $'\r' "$TMP/out" || fail "no \\r progress lines on stdout"
}

# ---- plain DFU download through the detach: state line and Done! ----
t_plain_dfu_download() {
	rand_file "$TMP/fw.bin" 40000
	fresh_emu dfu11
	expect 0 -d 1209:df10 -a 0 -D "$TMP/fw.bin"
	progress_lines_ok
	grep_out '^Download done\.$'
	out_seq 'DFU state(2) = dfuIDLE, status(0) = No error condition is present\nDone!\n'
	mem_check 0 "$TMP/fw.bin" 0
}

# ---- dfuse-pack name: a .dfu that Debian's dfuse-pack and dfu-suffix -c accept ----
t_dfuse_pack_name() {
	head -c 4096 /dev/urandom >"$TMP/a.bin"
	head -c 1001 /dev/urandom >"$TMP/b.bin"
	(cd "$TMP" && "$BIN/dfuse-pack" -b 0x08000000:a.bin -b 0x08004000:b.bin -D 0x0483:0xdf11 ours.dfu >/dev/null) ||
		fail "dfuse-pack (dfukit) -b failed"
	/usr/bin/dfuse-pack "$TMP/ours.dfu" >"$TMP/check.txt" 2>&1 || fail "Debian's dfuse-pack check failed"
	grep -q ERROR "$TMP/check.txt" && fail "Debian's dfuse-pack reports: $(grep ERROR "$TMP/check.txt")"
	grep -q "address: 0x08004000, size: 1001" "$TMP/check.txt" || fail "Debian's dfuse-pack does not see element 0x08004000"
	/usr/bin/dfu-suffix -c "$TMP/ours.dfu" >/dev/null 2>&1 || fail "Debian's dfu-suffix -c rejects the dfuse-pack (dfukit) file"
	# The same elements as Debian's dfuse-pack puts in from the same input (the
	# bytes differ: dfukit leaves the target unnamed, bcdDevice 0xFFFF, and
	# DFUImageSize without the suffix: `dfukit pack` choices; both tools read both).
	(cd "$TMP" && /usr/bin/dfuse-pack -b 0x08000000:a.bin -b 0x08004000:b.bin -D 0x0483:0xdf11 theirs.dfu >/dev/null)
	/usr/bin/dfuse-pack "$TMP/theirs.dfu" | grep -E '^ +[0-9]+, address' >"$TMP/el-theirs.txt"
	grep -E '^ +[0-9]+, address' "$TMP/check.txt" >"$TMP/el-ours.txt"
	cmp -s "$TMP/el-ours.txt" "$TMP/el-theirs.txt" || fail "dfuse-pack (dfukit) elements differ from Debian's dfuse-pack's"
	# Check mode and dump mode on Debian's file.
	(cd "$TMP" && "$BIN/dfuse-pack" theirs.dfu >/dev/null 2>&1) || fail "dfuse-pack (dfukit) check mode rejects Debian's file"
	(cd "$TMP" && "$BIN/dfuse-pack" -d theirs.dfu >/dev/null 2>&1) || fail "dfuse-pack (dfukit) -d failed"
	cmp -s "$TMP/theirs.dfu.target0.image1.bin" "$TMP/b.bin" || fail "dfuse-pack -d: target0.image1 is not b.bin"
	# A corrupted file fails the check (exit 1).
	cp "$TMP/ours.dfu" "$TMP/bad.dfu"
	printf 'XXXX' | dd of="$TMP/bad.dfu" bs=1 seek=300 conv=notrunc 2>/dev/null
	(cd "$TMP" && "$BIN/dfuse-pack" bad.dfu >/dev/null 2>&1)
	[ $? = 1 ] || fail "dfuse-pack (dfukit) check of a corrupted file did not exit 1"
	# And the device takes it through dfu-util's name.
	fresh_emu stm32f405
	expect 0 -a 0 -D "$TMP/ours.dfu"
	grep_out '^File downloaded successfully$'
	mem_check 0x08004000 "$TMP/b.bin"
}

# ---- dfu-suffix and dfu-prefix names: the same bytes as Debian's ----
t_suffix_prefix_names() {
	cp "$TMP/plain.bin" "$TMP/s-ours.bin"
	cp "$TMP/plain.bin" "$TMP/s-theirs.bin"
	"$BIN/dfu-suffix" -v 0483 -p df11 -d 0200 -a "$TMP/s-ours.bin" >/dev/null 2>&1 || fail "dfu-suffix (dfukit) -a failed"
	/usr/bin/dfu-suffix -v 0483 -p df11 -d 0200 -a "$TMP/s-theirs.bin" >/dev/null 2>&1
	cmp -s "$TMP/s-ours.bin" "$TMP/s-theirs.bin" || fail "dfu-suffix -a: different bytes from Debian's"
	/usr/bin/dfu-suffix -c "$TMP/s-ours.bin" >/dev/null 2>&1 || fail "Debian's dfu-suffix -c rejects ours"
	same_rc dfu-suffix -a "$TMP/s-ours.bin"   # a suffix already: refused alike
	cp "$TMP/plain.bin" "$TMP/p-ours.bin"
	cp "$TMP/plain.bin" "$TMP/p-theirs.bin"
	"$BIN/dfu-prefix" -L -a "$TMP/p-ours.bin" >/dev/null 2>&1 || fail "dfu-prefix (dfukit) -L -a failed"
	/usr/bin/dfu-prefix -L -a "$TMP/p-theirs.bin" >/dev/null 2>&1
	cmp -s "$TMP/p-ours.bin" "$TMP/p-theirs.bin" || fail "dfu-prefix -L -a: different bytes from Debian's"
}

run_scenarios "${@:2}"
