# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Injected device faults (dfukit-emu --fault): dfukit exits non-zero with a
# message naming the operation, the address and the device status, never
# reports a success the device did not confirm, and never hangs.
. "$(dirname "$0")/lib.sh" "$1"

# job_fault CODE FAULT...: a 64 KiB DfuSe download at 0x08000000 with the
# faults given exits CODE (bounded by `timeout`), JSON result an error.
job_fault() {
	rand_file "$TMP/fw.bin" 65536
	local code=$1
	shift
	local args=()
	for f in "$@"; do args+=(--fault "$f"); done
	fresh_emu stm32f405 "${args[@]}"
	"$DFUKIT" -a 0 -s 0x08000000 -D "$TMP/fw.bin" --timeout 3000 --usb-timeout 1000 --poll-cap 500 \
		>"$TMP/out" 2>"$TMP/err" &
	local pid=$!
	local i
	for i in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		fail "fault $*: dfukit still running after 30 s"
	fi
	wait "$pid"
	RC=$?
	[ "$RC" = "$code" ] || fail "fault $*: exit $RC, expected $code; stderr: $(head -c 300 "$TMP/err")"
	no_out 'File downloaded successfully'
	# One error line, prefixed.
	[ "$(grep '^dfukit: ' "$TMP/err" | grep -vc '^dfukit: warning: ')" = 1 ] || fail "fault $*: expected one error line: $(cat "$TMP/err")"
}

t_errwrite() {
	job_fault 76 status=errWRITE@dnblock=5
	grep_err 'errWRITE'
	grep_err '0x0800[0-9a-fA-F]{4}'
}
t_errerase() {
	job_fault 76 status=errERASE@addr=0x08004000
	grep_err 'errERASE'
	grep_err '0x08004000'
}
t_errprog() {
	job_fault 76 status=errPROG@addr=0x0800C000
	grep_err 'errPROG'
}
t_stall() { job_fault 76 stall@dnblock=3; }
t_disconnect() { job_fault 74 disconnect@dnblock=7; }
t_busy() { job_fault 74 busy@dnblock=2; }
t_timeout() { job_fault 74 timeout@dnblock=4; }
# A fault during the read-back is a failure of the job too.
t_verify_errverify() { job_fault 76 status=errVERIFY@upblock=2; }
t_verify_short() { job_fault 76 short@upblock=1; }

# upload_fault FAULT: upload faults leave no file behind.
upload_fault() {
	local f=$1
	fresh_emu stm32f405 --fault "$f"
	rm -f "$TMP/up.bin"
	run -a 0 -s 0x08000000:16384 -U "$TMP/up.bin" --timeout 3000 --usb-timeout 1000
	[ "$RC" != 0 ] || fail "upload with $f succeeded"
	[ -e "$TMP/up.bin" ] && fail "upload with $f left $TMP/up.bin"
	ls "$TMP" | grep -q '^up\.bin.' && fail "upload with $f left a temporary file"
}
t_upload_short() { upload_fault short@upblock=2; }
t_upload_errtarget() { upload_fault status=errTARGET@upblock=1; }
t_upload_disconnect() { upload_fault disconnect@upblock=3; }

# JSON: the result says error with the exit status.
t_json_error() {
	rand_file "$TMP/fw.bin" 65536
	fresh_emu stm32f405 --fault status=errWRITE@dnblock=1
	run --json -a 0 -s 0x08000000 -D "$TMP/fw.bin"
	[ "$RC" = 76 ] || fail "--json with errWRITE: exit $RC"
	grep_out '^\{"result":"error","exit":76,"operation":"download","code":"[A-Z]+","message":"[^"]*errWRITE[^"]*","device":\{.*\}\}$'
}

# Plain DFU (dfu11, through the detach): a status error on the last data
# block, a disconnect, a stalled upload.
t_dfu11_status_last_block() {
	rand_file "$TMP/p.bin" 10000
	fresh_emu dfu11 --fault status=errVERIFY@dnblock=9
	expect 76 -a 0 -D "$TMP/p.bin"
	grep_err 'block 9.*errVERIFY'
	no_out 'File downloaded successfully'
}
t_dfu11_disconnect() {
	rand_file "$TMP/p.bin" 10000
	fresh_emu dfu11 --fault disconnect@dnblock=5
	expect 74 -a 0 -D "$TMP/p.bin"
	grep_err 'block 5'
}
t_dfu11_upload_stall() {
	fresh_emu dfu11 --fault stall@upblock=1
	expect 0 -e
	rm -f "$TMP/pu.bin"
	expect 76 -w --wait-timeout 10 -a 0 -d ,1209:df11 -U "$TMP/pu.bin"
	[ -e "$TMP/pu.bin" ] && fail "a stalled plain upload left $TMP/pu.bin"
}

# Hostile descriptors: listed sanitised or refused, never a crash.
t_hostile_descriptors() {
	local d
	rand_file "$TMP/fw.bin" 65536
	for d in str-long str-badlen str-odd memmap-garbage memmap-overflow memmap-empty xfer0 xfer65535 \
		func-badlen func-missing total-long total-short blen0 dev-badlen; do
		fresh_emu stm32f405 --fault "desc=$d"
		run -l
		[ "$RC" -lt 128 ] || fail "desc=$d: -l crashed ($RC)"
		case $RC in 0 | 65 | 74 | 76) ;; *) fail "desc=$d: -l exit $RC" ;; esac
		LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TMP/out" && fail "desc=$d: control characters printed"
		run -a 0 -s 0x08000000 -D "$TMP/fw.bin" --timeout 3000 --usb-timeout 1000
		[ "$RC" -lt 128 ] || fail "desc=$d: -D crashed ($RC)"
	done
}
# Specific outcomes.
t_desc_xfer0() {
	rand_file "$TMP/fw.bin" 65536
	fresh_emu stm32f405 --fault desc=xfer0
	expect 64 -a 0 -s 0x08000000 -D "$TMP/fw.bin"
	grep_err 'give -t'
}
t_desc_memmap_garbage() {
	rand_file "$TMP/fw.bin" 65536
	fresh_emu stm32f405 --fault desc=memmap-garbage
	run -a 0 -s 0x08000000 -D "$TMP/fw.bin"
	[ "$RC" = 65 ] || fail "memmap-garbage: exit $RC, expected 65"
	mem_erased 0x08000000 65536
}

run_scenarios "${@:2}"
