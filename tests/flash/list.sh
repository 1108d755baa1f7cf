# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# -l: dfu-util's line format and order, every profile, and every selector
# (-d -p -n -c -i -a -S) over USB/IP.
. "$(dirname "$0")/lib.sh" "$1"

LINE_RE='^Found (DFU|Runtime): \[[0-9a-f]{4}:[0-9a-f]{4}\] ver=[0-9a-f]{4}, devnum=[0-9]+, cfg=[0-9]+, intf=[0-9]+, path="[^"]*", alt=[0-9]+, name="[^"]*", serial="[^"]*"$'

# count_found: number of Found lines in the last output.
count_found() { grep -c '^Found ' "$TMP/out"; }
field() { grep '^Found ' "$TMP/out" | head -1 | sed -E "s/.*[ ,]$1=\"?([^\",]*)\"?.*/\1/"; }

# Every profile: dfu-util's line format, no control characters.
t_line_format() {
	local p
	for p in stm32f405 stm32f405-protected stm32f103-flash-loader stm32l476 stm32h743 dfu11 dfu11-will-detach dfu11-wait-reset; do
		fresh_emu "$p"
		expect 0 -l
		[ "$(count_found)" -ge 1 ] || fail "$p: -l found nothing"
		grep '^Found ' "$TMP/out" | grep -Evq "$LINE_RE" && fail "$p: a -l line is not in dfu-util's format: $(grep '^Found ' "$TMP/out" | grep -Ev "$LINE_RE" | head -1)"
		# Device strings are printed without control characters.
		LC_ALL=C grep -q $'[\x01-\x1f\x7f]' "$TMP/out" && fail "$p: control characters in -l output"
	done
}

# dfu11 comes up in run-time mode.
t_runtime_mode() {
	fresh_emu dfu11
	expect 0 -l
	grep_out '^Found Runtime: '
}

# list_f405: a fresh stm32f405 listed; path, devnum, serial, name0 and
# name1 from its lines.
list_f405() {
	fresh_emu stm32f405
	expect 0 -l
	grep '^Found' "$TMP/out" >"$TMP/all.txt"
	path=$(grep 'alt=0,' "$TMP/all.txt" | sed -E 's/.* path="([^"]*)".*/\1/')
	devnum=$(grep 'alt=0,' "$TMP/all.txt" | sed -E 's/.* devnum=([0-9]+),.*/\1/')
	serial=$(grep 'alt=0,' "$TMP/all.txt" | sed -E 's/.* serial="([^"]*)".*/\1/')
	name0=$(grep 'alt=0,' "$TMP/all.txt" | sed -E 's/.* name="([^"]*)".*/\1/')
	name1=$(grep 'alt=1,' "$TMP/all.txt" | sed -E 's/.* name="([^"]*)".*/\1/')
}

# stm32f405: four alt settings, printed last first as dfu-util does.
t_alt_order() {
	list_f405
	grep_out '^Found DFU: \[0483:df11\] ver=[0-9a-f]{4}, devnum=[0-9]+, cfg=1, intf=0, path="[^"]+", alt=0, name="@Internal Flash  */0x08000000/04\*016Kg,01\*064Kg,07\*128Kg", serial="[^"]*"$'
	alts=$(grep '^Found ' "$TMP/out" | sed -E 's/.* alt=([0-9]+),.*/\1/' | tr '\n' ' ')
	[ "$alts" = "3 2 1 0 " ] || fail "alt order is \"$alts\", expected \"3 2 1 0 \""
}

# sel EXPECTED ARGS...: -l with ARGS lists EXPECTED interfaces.
sel() {
	local want=$1
	shift
	expect 0 -l "$@"
	[ "$(count_found)" = "$want" ] || fail "-l $*: $(count_found) lines, expected $want"
}

t_select_device_id() {
	list_f405
	sel 4 -d 0483:df11
	sel 4 -d 483:DF11
	sel 4 -d '*:df11'
	sel 4 -d ,0483:df11
	# Only run-time IDs given: dfu-util lets any DFU-mode device match.
	sel 4 -d 1234:5678
	sel 0 -d ,1234:5678
	sel 0 -d ,0483:df12
	sel 4 -d 1234:5678,0483:df11
	sel 0 -d '*:*,-'
}

t_select_path_devnum() {
	list_f405
	sel 4 -p "$path"
	sel 0 -p 9-9.9
	sel 4 -n "$devnum"
	sel 0 -n $((devnum + 1))
}

t_select_config_intf() {
	list_f405
	sel 4 -c 1
	sel 4 -c 0
	sel 0 -c 2
	sel 4 -i 0
	sel 0 -i 1
}

t_select_alt() {
	list_f405
	sel 1 -a 0
	sel 1 -a 1
	sel 0 -a 9
	sel 1 -a "$name0"
	sel 1 -a "$name1"
	sel 0 -a "@No Such Memory"
	expect 0 -l -a "$name1"
	grep_out ' alt=1, '
}

t_select_serial_all() {
	list_f405
	sel 4 -S "$serial"
	sel 0 -S "not-$serial"
	sel 1 -a 0 -d 0483:df11 -S "$serial" -p "$path" -n "$devnum" -c 1 -i 0
}

# --json -l: one device event per interface and a result.
t_json() {
	fresh_emu stm32f405
	expect 0 --json -l
	[ "$(grep -c '^{"event":"device"' "$TMP/out")" = 4 ] || fail "--json -l: expected 4 device events"
	grep_out '^\{"result":"ok","exit":0,"operation":"list"\}$'
	grep -v '^{.*}$' "$TMP/out" && fail "--json -l printed a non-JSON line"
}

# The banner goes to stdout on every run but -h, as dfu-util's does.
t_banner() {
	fresh_emu stm32f405
	expect 0 -l
	grep_out '^dfukit [0-9]'
}

run_scenarios "${@:2}"
