# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# DfuSe on stm32f405: every -s modifier, every input format, verify,
# skip-unchanged, transfer size, -U rules, JSON events.
. "$(dirname "$0")/lib.sh" "$1"

# Raw binary at an address, verified by default (the F405 can upload).
t_json_download() {
	fresh_emu stm32f405
	rand_file "$TMP/a.bin" 70000
	expect 0 -a 0 -s 0x08000000 -D "$TMP/a.bin" --json
	grep_out '^\{"event":"progress","phase":"erase",'
	grep_out '^\{"event":"progress","phase":"download",'
	grep_out '^\{"event":"progress","phase":"verify",'
	grep_out '^\{"result":"ok","exit":0,"operation":"download","bytes":70000,"verified":true,"device":\{"vid":"0483","pid":"df11","mode":"dfu","path":"[^"]+","alt":0,"serial":"3276346C3034"\}\}$'
	grep -v '^{.*}$' "$TMP/out" && fail "--json printed a non-JSON line"
	mem_check 0x08000000 "$TMP/a.bin"
}

# --no-verify: no verify phase, reported as unverified.
t_no_verify() {
	fresh_emu stm32f405
	app_file "$TMP/b.bin" 5000
	expect 0 -a 0 -s 0x08020000 -D "$TMP/b.bin" --no-verify --json
	no_out '"phase":"verify"'
	grep_out '"verified":false'
	mem_check 0x08020000 "$TMP/b.bin"
}

# Plain text progress when stderr is not a terminal: lines, no \r.
t_text_progress() {
	fresh_emu stm32f405
	rand_file "$TMP/c.bin" 3000
	expect 0 -a 0 -s 0x08040000 -D "$TMP/c.bin"
	grep_err '^download: '
	grep -q $'\r' "$TMP/err" && fail "progress wrote carriage returns to a non-terminal"
	grep_out 'File downloaded successfully'
}

# Transfer size override.
t_transfer_size() {
	fresh_emu stm32f405
	rand_file "$TMP/t.bin" 9000
	expect 0 -a 0 -t 1024 -s 0x08060000 -D "$TMP/t.bin"
	grep_err 'transfer size'
	mem_check 0x08060000 "$TMP/t.bin"
}

# Intel HEX, S-record and ELF inputs carry their own addresses.
t_addressed_formats() {
	fresh_emu stm32f405
	python3 - "$TMP" <<'PY'
import sys, os, struct
tmp = sys.argv[1]
data = os.urandom(3000)
open(tmp + "/h.bin", "wb").write(data)
base = 0x08080000
# Intel HEX with 04 extended linear address records.
lines = []
def rec(t, addr, payload):
    b = bytes([len(payload), addr >> 8, addr & 0xff, t]) + payload
    return ":" + b.hex().upper() + "%02X" % ((-sum(b)) & 0xff)
lines.append(rec(4, 0, struct.pack(">H", base >> 16)))
for off in range(0, len(data), 16):
    lines.append(rec(0, (base + off) & 0xffff, data[off:off + 16]))
lines.append(rec(1, 0, b""))
open(tmp + "/h.hex", "w").write("\n".join(lines) + "\n")
# S-record (S3, 32-bit addresses) at base + 0x4000.
sbase = base + 0x4000
open(tmp + "/s.bin", "wb").write(data)
out = ["S0070000484452001A"]
for off in range(0, len(data), 32):
    chunk = data[off:off + 32]
    b = bytes([len(chunk) + 5]) + struct.pack(">I", sbase + off) + chunk
    out.append("S3" + b.hex().upper() + "%02X" % (~sum(b) & 0xff))
b = bytes([5]) + struct.pack(">I", sbase)
out.append("S7" + b.hex().upper() + "%02X" % (~sum(b) & 0xff))
open(tmp + "/s.srec", "w").write("\n".join(out) + "\n")
# ELF32 little-endian, one PT_LOAD at base + 0x8000 (paddr), hand-built.
ebase = base + 0x8000
ehdr_size, phdr_size = 52, 32
off = ehdr_size + phdr_size
ehdr = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
ehdr += struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, ebase, ehdr_size, 0, 0x5000000, ehdr_size, phdr_size, 1, 40, 0, 0)
phdr = struct.pack("<IIIIIIII", 1, off, ebase, ebase, len(data), len(data), 5, 4)
open(tmp + "/e.elf", "wb").write(ehdr + phdr + data)
PY
	expect 0 -a 0 -D "$TMP/h.hex"
	mem_check 0x08080000 "$TMP/h.bin"
	expect 0 -a 0 -D "$TMP/s.srec"
	mem_check 0x08084000 "$TMP/s.bin"
	expect 0 -a 0 -D "$TMP/e.elf"
	mem_check 0x08088000 "$TMP/h.bin"
}

# A raw binary without -s on a DfuSe device has no address: refused, and
# nothing is written.
t_raw_needs_address() {
	fresh_emu stm32f405
	rand_file "$TMP/c.bin" 3000
	expect 64 -a 0 -D "$TMP/c.bin"
}

# A .dfu file is never sent raw, even with -s ADDR.
t_dfu_file_not_raw() {
	fresh_emu stm32f405
	rand_file "$TMP/c.bin" 3000
	"$DFUKIT" pack -b "0x080A0000:$TMP/c.bin" "$TMP/c.dfu" >/dev/null || fail "dfukit pack"
	expect 0 -a 0 -D "$TMP/c.dfu"
	mem_check 0x080A0000 "$TMP/c.bin"
}

# make_two_targets: $TMP/m.dfu with two targets (flash alt 0, OTP alt 2).
# In the memory file the OTP follows the 1 MiB flash and the 16 option bytes.
OTP_BASE=$((0x1FFF7800 - 0x100000 - 16))
make_two_targets() {
	rand_file "$TMP/c.bin" 3000
	rand_file "$TMP/otp.bin" 32
	"$DFUKIT" pack -b "0x08000000@0:$TMP/c.bin" -b "0x1FFF7800@2:$TMP/otp.bin" "$TMP/m.dfu" >/dev/null || fail "pack"
}

# A .dfu with two targets: each goes to its alt; with -a 0 the OTP target
# is skipped with a warning.
t_dfu_two_targets_alt0() {
	fresh_emu stm32f405
	make_two_targets
	expect 0 -a 0 -D "$TMP/m.dfu"
	grep_err 'skipping target 1.*alt setting 2'
	mem_check 0x08000000 "$TMP/c.bin"
	mem_erased 0x1FFF7800 32 "$OTP_BASE"
}

# All targets: the OTP target is refused without force, and the whole file
# is checked first, so the flash target before it is not written either.
t_dfu_otp_target_needs_force() {
	fresh_emu stm32f405
	make_two_targets
	expect 64 -D "$TMP/m.dfu"
	grep_err 'target 1 .alt 2., nothing written.*one-time programmable'
	mem_erased 0x08000000 4096
	mem_erased 0x1FFF7800 32 "$OTP_BASE"
	expect 0 -s :force -D "$TMP/m.dfu"
	mem_check 0x08000000 "$TMP/c.bin"
	mem_check 0x1FFF7800 "$TMP/otp.bin" "$OTP_BASE"
}

# A .dfu whose only target is for an alt not selected: nothing to do.
t_dfu_target_other_alt() {
	fresh_emu stm32f405
	rand_file "$TMP/c.bin" 3000
	"$DFUKIT" pack -b "0x080A0000:$TMP/c.bin" "$TMP/c.dfu" >/dev/null || fail "dfukit pack"
	expect 64 -a 1 -D "$TMP/c.dfu"
	grep_err 'no target'
}

# --skip-unchanged: the same image again erases and writes nothing.
t_skip_unchanged() {
	fresh_emu stm32f405
	rand_file "$TMP/a.bin" 70000
	expect 0 -a 0 -s 0x08000000 -D "$TMP/a.bin"
	stop_emu
	start_emu stm32f405
	expect 0 -a 0 -s 0x08000000 -D "$TMP/a.bin" --skip-unchanged
	stop_emu
	[ "$(stat_value erased_pages)" = 0 ] || fail "--skip-unchanged erased $(stat_value erased_pages) pages"
	# One byte changed in the second 16 KiB page: only that page is redone.
	cp "$TMP/a.bin" "$TMP/a2.bin"
	python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[20000] ^= 0xff; open(sys.argv[1], "wb").write(b)' "$TMP/a2.bin"
	start_emu stm32f405
	expect 0 -a 0 -s 0x08000000 -D "$TMP/a2.bin" --skip-unchanged
	stop_emu
	[ "$(stat_value erased_pages)" = 1 ] || fail "--skip-unchanged, one page changed: erased $(stat_value erased_pages) pages"
	mem_check 0x08000000 "$TMP/a2.bin"
}

# --skip-unchanged on a blank device: pages that read as erased are written
# without erasing them (the read-back checks they took); without a
# read-back they are erased all the same. The plan says what it skipped.
t_skip_unchanged_erased() {
	fresh_emu stm32f405
	rand_file "$TMP/a.bin" 65536
	expect 0 -v -a 0 -s 0x08000000 -D "$TMP/a.bin" --skip-unchanged
	grep_err 'skip-unchanged: 0 of 4 pages unchanged, not erased or written; 4 already erased, written without erasing; 0 erased and written'
	grep_out 'verified'
	stop_emu
	[ "$(stat_value erased_pages)" = 0 ] || fail "erased $(stat_value erased_pages) blank pages"
	mem_check 0x08000000 "$TMP/a.bin"
	fresh_emu stm32f405
	expect 0 -a 0 -s 0x08000000 -D "$TMP/a.bin" --skip-unchanged --no-verify
	stop_emu
	[ "$(stat_value erased_pages)" = 4 ] || fail "--no-verify: erased $(stat_value erased_pages) pages, expected 4"
	mem_check 0x08000000 "$TMP/a.bin"
}

# --skip-unchanged on a device that cannot upload: a warning, every page
# written (it used to be refused).
t_skip_unchanged_no_upload() {
	fresh_emu dfu11-dnload-only
	rand_file "$TMP/a.bin" 5000
	expect 0 -a 0 -D "$TMP/a.bin" --skip-unchanged
	grep_err 'warning: a plain DFU device has no pages to compare or skip: the whole image is written'
	mem_check 0 "$TMP/a.bin" 0
}

# Option bytes: the STM32 ROM resets once they are written, so the last
# status never comes; dfukit waits for the device to come back and reads
# them back through a new handle (without a read-back: a warning).
t_option_bytes_reset() {
	fresh_emu stm32f405
	# Alt 1 follows the 1 MiB flash in the memory file: one user option
	# bit (nRST_STDBY) flipped, read protection left off.
	python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); o = bytearray(d[0x100000:0x100010]); o[0] ^= 0x80; open(sys.argv[2], "wb").write(o)' "$MEM" "$TMP/opt.bin"
	expect 0 -a 1 -s 0x1FFFC000 -D "$TMP/opt.bin"
	grep_out '^Download done: 16 bytes, verified$'
	mem_check 0x1FFFC000 "$TMP/opt.bin" 0x1FEFC000
	expect 0 -a 1 -s 0x1FFFC000 -D "$TMP/opt.bin" --no-verify
	grep_err 'warning: the device resets after an option-byte write: not verified'
	no_out 'verified'
}

# -U: existing files are kept unless --force; a length and no length.
t_upload() {
	fresh_emu stm32f405
	rand_file "$TMP/a.bin" 70000
	expect 0 -a 0 -s 0x08000000 -D "$TMP/a.bin"
	echo keep >"$TMP/up.bin"
	expect 73 -a 0 -s 0x08000000:1024 -U "$TMP/up.bin"
	[ "$(cat "$TMP/up.bin")" = keep ] || fail "-U without --force overwrote a file"
	expect 0 -a 0 -s 0x08000000:1024 -U "$TMP/up.bin" --force
	head -c 1024 "$TMP/a.bin" | cmp -s - "$TMP/up.bin" || fail "-U --force content"
	expect 0 -a 0 -s 0x08000000:0x10 -U "$TMP/up16.bin"
	[ "$(stat -c %s "$TMP/up16.bin")" = 16 ] || fail "-s ADDR:0x10 read $(stat -c %s "$TMP/up16.bin") bytes"
	expect 0 -a 0 -s 0x08000000:4096 -U "$TMP/upz.bin" -Z 100
	grep_err '100'
}

# Writes outside the memory map are refused without force, nothing written.
t_outside_map() {
	fresh_emu stm32f405
	rand_file "$TMP/c.bin" 3000
	expect 64 -a 0 -s 0x30000000 -D "$TMP/c.bin"
	grep_err '0x30000000'
}

# mass-erase (needs force): the whole flash (written first) reads back as 0xFF.
t_mass_erase() {
	fresh_emu stm32f405
	rand_file "$TMP/a.bin" 70000
	expect 0 -a 0 -s 0x08000000 -D "$TMP/a.bin"
	expect 0 -a 0 -s :mass-erase:force
	mem_erased 0x08000000 $((1024 * 1024))
}

# mass-erase before a download (an image with a vector table), then leave:
# what was written elsewhere is gone.
t_mass_erase_download_leave() {
	fresh_emu stm32f405
	app_file "$TMP/b.bin" 5000
	rand_file "$TMP/c.bin" 3000
	expect 0 -a 0 -s 0x08020000 -D "$TMP/c.bin"
	expect 0 -a 0 -s 0x08000000:mass-erase:force:leave -D "$TMP/b.bin"
	mem_check 0x08000000 "$TMP/b.bin"
	mem_erased 0x08020000 65536
}

# Command mode: leave alone (0x08000000 holds an image with a vector table).
t_leave() {
	fresh_emu stm32f405
	app_file "$TMP/app.bin" 5000
	expect 0 -a 0 -s 0x08000000 -D "$TMP/app.bin"
	expect 0 -a 0 -s 0x08000000:leave
}

# unprotect (needs force): the device erases and resets; success.
t_unprotect() {
	fresh_emu stm32f405
	expect 0 -a 0 -s :unprotect:force
}

# -R after a download.
t_reset_after_download() {
	fresh_emu stm32f405
	rand_file "$TMP/c.bin" 3000
	expect 0 -a 0 -s 0x08010000 -D "$TMP/c.bin" -R
	mem_check 0x08010000 "$TMP/c.bin"
}

# Verify mismatch: the F405 OTP (alt 2) cannot be erased, so a second
# write ANDs into the first; the read-back differs and the error names the
# first differing address.
t_otp_verify_mismatch() {
	fresh_emu stm32f405
	printf '\x00\x00\x00\x00\xf0\xf0\xf0\xf0' >"$TMP/otp1.bin"
	printf '\x00\x00\x00\x00\x0f\x0f\x0f\x0f' >"$TMP/otp2.bin"
	# The OTP is one-time programmable: refused without force, memory untouched.
	expect 64 -a 2 -s 0x1FFF7800 -D "$TMP/otp1.bin"
	grep_err 'one-time programmable'
	mem_erased 0x1FFF7800 8 "$((0x1FFF7800 - 0x100000 - 16))"
	expect 0 -a 2 -s 0x1FFF7800:force -D "$TMP/otp1.bin"
	expect 74 -a 2 -s 0x1FFF7800:force -D "$TMP/otp2.bin"
	grep_err '[Vv]erif.*0x1FFF7804'
	no_out 'File downloaded successfully'
	run --json -a 2 -s 0x1FFF7800:force -D "$TMP/otp2.bin"
	grep_out '^\{"result":"error","exit":74,"operation":"download","code":"VERIFY",'
	# Without verify only the device's status counts.
	expect 0 -a 2 -s 0x1FFF7800:force -D "$TMP/otp2.bin" --no-verify
}

# Several alt settings match and the input is not a .dfu: ambiguous (74).
t_ambiguous_alt() {
	fresh_emu stm32f405
	rand_file "$TMP/c.bin" 3000
	expect 74 -s 0x08000000 -D "$TMP/c.bin"
	grep_err '-a'
}

run_scenarios "${@:2}"
