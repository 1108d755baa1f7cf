# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Plain DFU 1.1 profiles: run-time -> DETACH -> DFU mode, download, upload,
# -e, -n and -d across the detach, manifestation variants.
. "$(dirname "$0")/lib.sh" "$1"

dfu_ids=1209:df11

# runtime_ids: a fresh dfu11 listed in run-time mode; rt_ids ("vid:pid")
# and rt_devnum of its run-time interface; fw.bin made.
runtime_ids() {
	rand_file "$TMP/fw.bin" 10000
	fresh_emu dfu11
	expect 0 -l
	grep_out '^Found Runtime: '
	rt_ids=$(grep '^Found Runtime' "$TMP/out" | head -1 | sed -E 's/.*\[([0-9a-f:]+)\].*/\1/')
	rt_devnum=$(grep '^Found Runtime' "$TMP/out" | head -1 | sed -E 's/.* devnum=([0-9]+),.*/\1/')
	[ "$rt_ids" = 1209:df10 ] || fail "dfu11 run-time IDs are $rt_ids"
}

t_runtime_ids() {
	runtime_ids
}

# -e: detach only; afterwards the device comes back in DFU mode (-w: it
# may take a moment to re-enumerate).
t_detach_only() {
	runtime_ids
	expect 0 -e
	no_out '^Found'
	expect 0 -w --wait-timeout 10 -l -d ",$dfu_ids"
	grep_out '^Found DFU: \[1209:df11\]'
	no_out '^Found Runtime'
}

# Download through the detach, selected by -n (which survives the detach
# because dfukit follows the port path) and both ID pairs.
t_download_through_detach() {
	runtime_ids
	fresh_emu dfu11
	expect 0 -a 0 -n "$rt_devnum" -d "$rt_ids,$dfu_ids" -D "$TMP/fw.bin"
	grep_out 'File downloaded successfully'
	mem_check 0 "$TMP/fw.bin" 0
	# Read back (plain DFU upload runs until a short block).
	expect 0 -a 0 -d ",$dfu_ids" -U "$TMP/up.bin"
	head -c 10000 "$TMP/up.bin" | cmp -s - "$TMP/fw.bin" || fail "dfu11: read-back differs"
	# --json reports the verify from the download.
	expect 0 -a 0 -d ",$dfu_ids" -D "$TMP/fw.bin" --json
	grep_out '"result":"ok"'
}

# Only run-time IDs given: any DFU-mode IDs match after the detach.
t_runtime_ids_only() {
	runtime_ids
	fresh_emu dfu11
	expect 0 -a 0 -d "$rt_ids" -D "$TMP/fw.bin" --no-verify
}

# A wrong DFU-mode pair: the detached device is not accepted.
t_wrong_dfu_ids() {
	runtime_ids
	fresh_emu dfu11
	expect 74 -a 0 -d "$rt_ids,1234:5678" -D "$TMP/fw.bin" -E 2
}

# DFU suffix IDs must name the device (0xffff = any).
t_suffix_ids() {
	rand_file "$TMP/fw.bin" 10000
	fresh_emu dfu11
	cp "$TMP/fw.bin" "$TMP/sfx.bin"
	"$DFUKIT" suffix -a "$TMP/sfx.bin" -v 1234 -p 5678 >/dev/null 2>&1 || fail "dfukit suffix -a"
	expect 64 -a 0 -D "$TMP/sfx.bin"
	grep_err '1234:5678'
	cp "$TMP/fw.bin" "$TMP/sfx2.bin"
	"$DFUKIT" suffix -a "$TMP/sfx2.bin" >/dev/null 2>&1 || fail "dfukit suffix -a"
	expect 0 -a 0 -D "$TMP/sfx2.bin"
}

# variant PROFILE: the other plain DFU variants.
variant() {
	local p=$1
	rand_file "$TMP/fw.bin" 10000
	fresh_emu "$p"
	expect 0 -a 0 -D "$TMP/fw.bin"
	grep_out 'File downloaded successfully'
	mem_check 0 "$TMP/fw.bin" 0
	start_emu "$p"
	expect 0 -e
	expect 0 -w --wait-timeout 10 -a Flash -d ",$dfu_ids" -U "$TMP/up-$p.bin"
	head -c 10000 "$TMP/up-$p.bin" | cmp -s - "$TMP/fw.bin" || fail "$p: read-back differs"
}
t_will_detach() { variant dfu11-will-detach; }
t_wait_reset() { variant dfu11-wait-reset; }

# Two alt settings match a plain file: ambiguous, as in dfu-util (74).
t_ambiguous_alt() {
	rand_file "$TMP/fw.bin" 10000
	fresh_emu dfu11
	expect 74 -D "$TMP/fw.bin"
	grep_err 'choose one with -a'
}

# -w waits for a device: here it is present at once.
t_wait() {
	fresh_emu dfu11
	expect 0 -w -l
	grep_out '^Found '
	# -w with nothing matching gives up after --wait-timeout.
	expect 74 -w -l -d 1234:5678 --wait-timeout 1
}

run_scenarios "${@:2}"
