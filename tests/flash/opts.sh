# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Output modes and the remaining options: progress bar on a terminal,
# JSON warnings, -v, -e on a DFU-mode device, -S across a detach, bounded
# deadlines against a device that takes too long, --all.
. "$(dirname "$0")/lib.sh" "$1"

# fw: $TMP/fw.bin, 40000 random bytes.
fw() { rand_file "$TMP/fw.bin" 40000; }

# On a terminal (script(1) gives one) the bar is redrawn in place.
t_tty_progress() {
	fw
	fresh_emu stm32f405
	script -qec "$DFUKIT -a 0 -s 0x08000000 -D $TMP/fw.bin" /dev/null >"$TMP/tty.txt" 2>&1 ||
		fail "download on a terminal failed: $(tail -3 "$TMP/tty.txt")"
	grep -q $'\rdownload  \\[=' "$TMP/tty.txt" || fail "no progress bar on a terminal"
	grep -q $'\rverify    \\[=' "$TMP/tty.txt" || fail "no verify bar on a terminal"
	grep -q '100%' "$TMP/tty.txt" || fail "the bar never reached 100%"
	mem_check 0x08000000 "$TMP/fw.bin"
}

# --json: warnings (a partly covered page) are events, no bar, no banner.
t_json_warnings() {
	fw
	fresh_emu stm32f405
	expect 0 --json -a 0 -s 0x08000000 -D "$TMP/fw.bin"
	grep_out '^\{"event":"warning","message":"[^"]*0x08008000[^"]*"\}$'
	[ -s "$TMP/err" ] && fail "--json wrote to stderr: $(head -c 200 "$TMP/err")"
	grep -v '^{.*}$' "$TMP/out" && fail "--json printed a non-JSON line"
}

# -v shows the DFU attributes and per-25% lines (of what was written first).
t_verbose() {
	fw
	fresh_emu stm32f405
	expect 0 -a 0 -s 0x08000000 -D "$TMP/fw.bin"
	expect 0 -v -a 0 -s 0x08000000:4096 -U "$TMP/v.bin"
	grep_out 'wTransferSize 2048'
	grep_out '^  0x08020000-0x080fffff 7 page\(s\) of 131072 bytes rew$'
	head -c 4096 "$TMP/fw.bin" | cmp -s - "$TMP/v.bin" || fail "-v upload content"
}

# -e on a device already in DFU mode sends DETACH and succeeds.
t_detach_in_dfu_mode() {
	fresh_emu stm32f405
	expect 0 -a 0 -e
	stop_emu
	[ "$(stat_value DETACH)" = 1 ] || fail "-e on a DFU-mode device sent $(stat_value DETACH) DETACH requests"
}

# -S RUNTIME,DFU survives the detach; a wrong DFU serial is not accepted.
t_serial_across_detach() {
	fw
	fresh_emu dfu11
	expect 0 -a 0 -S EMU-DFU11-0001,EMU-DFU11-0001 -D "$TMP/fw.bin"
	mem_check 0 "$TMP/fw.bin" 0
}
t_serial_wrong_dfu() {
	fw
	fresh_emu dfu11
	expect 74 -a 0 -S EMU-DFU11-0001,OTHER -E 2 -D "$TMP/fw.bin"
}
t_serial_no_match() {
	fresh_emu dfu11
	expect 0 -l -S NOPE
	no_out '^Found'
}

# -R after a plain DFU download.
t_reset_plain_dfu() {
	fw
	fresh_emu dfu11
	expect 0 -a 0 -D "$TMP/fw.bin" -R
	grep_out 'reset'
}

# Deadlines: a device that stays busy for ever makes dfukit give up after
# --timeout with an I/O error (dfu-util would poll for ever).
t_busy_deadline() {
	fw
	fresh_emu stm32f405 --fault busy@dnblock=1
	t0=$(date +%s)
	run -a 0 -s 0x08000000 -D "$TMP/fw.bin" --timeout 1500
	t1=$(date +%s)
	[ "$RC" = 74 ] || fail "busy device with --timeout 1500: exit $RC, expected 74: $(cat "$TMP/err")"
	[ $((t1 - t0)) -le 10 ] || fail "busy device: gave up only after $((t1 - t0)) s"
	grep_err 'dfuDNBUSY'
}

# --poll-cap bounds each sleep: with real timing and a 1 ms cap the job
# still completes (the device NAKs early polls).
t_poll_cap() {
	fw
	fresh_emu stm32l476 --timing real
	expect 0 -a 0 -s 0x08000000 -D "$TMP/fw.bin" --poll-cap 1
	mem_check 0x08000000 "$TMP/fw.bin"
}

# --all with one matching device behaves as without.
t_all() {
	fw
	fresh_emu stm32f405
	expect 0 --all -a 0 -s 0x08040000 -D "$TMP/fw.bin"
	mem_check 0x08040000 "$TMP/fw.bin"
}

run_scenarios "${@:2}"
