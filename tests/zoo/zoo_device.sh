# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# One device of the zoo (emu/zoo/NAME.json) through USB/IP, as a user would
# flash it: -l, download with verify, upload, leave; then a check for each
# of its quirks (the tool copes and says what happened) and the checks
# tests/zoo/expect.tsv lists for it. What to expect comes from the
# description itself (tests/vm/zoo-plan.py), not from a list kept here.
# Usage: zoo_device.sh BUILD_DIR DESCRIPTION.json
. "$(dirname "$0")/../flash/lib.sh" "$1"
DESC=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2034 # LIES: in the plan line, not used here
read -r NAME PROTO START_ID DFU_ID ALT ADDR OFFSET SIZE EXPECT AFTER UPLOAD QUIRKS NALTS FULL LIES TOLERANT BASE \
	RDP_OFFSET REFUSED _ < <(python3 "$HERE/../vm/zoo-plan.py" "$DESC") ||
	{ echo "zoo-plan.py cannot read $DESC" >&2; exit 1; }

# The region alt 0's test image goes to, in the memory file.
region_is() { # FILE [OFFSET]
	cmp -s -i "${2:-$OFFSET}:0" -n "$(stat -c %s "$1")" "$MEM" "$1" || fail "$NAME: device memory at offset ${2:-$OFFSET} differs from $(basename "$1")"
}
down_args() { # FILE [ADDR]
	if [ "$PROTO" = dfuse ]; then echo "-a $ALT -s ${2:-$ADDR} -D $1"; else echo "-a $ALT -D $1"; fi
}
ms_now() { date +%s%3N; }

app_file "$TMP/fw.bin" "$SIZE"

# -l: one line per alt setting in DFU mode (one run-time line otherwise), with the IDs.
fresh_emu "$DESC"
cp "$MEM" "$TMP/pristine"
expect 0 -l
grep -c '^Found' "$TMP/out" >"$TMP/n" || true
if [ "$START_ID" = "$DFU_ID" ]; then want=$NALTS; else want=1; fi
[ "$(cat "$TMP/n")" = "$want" ] || fail "$NAME: -l printed $(cat "$TMP/n") Found lines, the device has $want: $(cat "$TMP/out")"
grep '^Found' "$TMP/out" | grep -v "\[$START_ID\]" && fail "$NAME: -l shows other IDs than $START_ID"

# download with verify
# shellcheck disable=SC2046
if [ "$EXPECT" = ok ]; then
	expect 0 $(down_args "$TMP/fw.bin")
	grep_out 'File downloaded successfully'
	if [ "$UPLOAD" = yes ] && [ "$TOLERANT" = yes ]; then
		grep_out 'Download done: [0-9]+ bytes, verified'
	elif [ "$UPLOAD" = yes ]; then
		# plain DFU that resets after manifestation: nothing to read back, and it says so
		grep_err 'warning: not verified: the device resets after manifestation'
	fi
	region_is "$TMP/fw.bin"
else
	run $(down_args "$TMP/fw.bin")
	[ "$RC" != 0 ] || fail "$NAME: the download must fail, it exited 0"
	[ -s "$TMP/err" ] || fail "$NAME: a failed download without a message"
	cmp -s "$MEM" "$TMP/pristine" || fail "$NAME: a failed download changed the memory"
fi

# upload: what the download left, or a clear refusal
rm -f "$TMP/up.bin"
if [ "$PROTO" = dfuse ]; then up="-a $ALT -s $ADDR:$SIZE -U $TMP/up.bin"; else up="-a $ALT -U $TMP/up.bin"; fi
start_emu "$DESC"
# shellcheck disable=SC2086
if [ "$UPLOAD" = yes ]; then
	expect 0 $up
	if [ "$EXPECT" = ok ]; then
		head -c "$SIZE" "$TMP/up.bin" | cmp -s - "$TMP/fw.bin" || fail "$NAME: the upload differs from the image"
	fi
else
	run $up
	[ "$RC" != 0 ] || fail "$NAME: an upload from a device that cannot upload exited 0"
	grep -Eiq 'upload' "$TMP/err" || fail "$NAME: the refused upload is not explained: $(head -c 300 "$TMP/err")"
fi

# leave: the device goes, or comes back as the description says
start_emu "$DESC"
# shellcheck disable=SC2086
if [ "$PROTO" = dfuse ]; then expect 0 -a $ALT -s "$ADDR:leave" -v; else expect 0 $(down_args "$TMP/fw.bin") -R; fi
run -l
if [ "$AFTER" = gone ]; then
	grep -q '^Found' "$TMP/out" && fail "$NAME: still listed after leave: $(cat "$TMP/out")"
else
	grep -q "^Found.*\[$AFTER\]" "$TMP/out" || fail "$NAME: $AFTER not listed after leave: $(cat "$TMP/out")"
fi

# ---- quirks ----
# A wedged loader (0 ms forever) is given up on in seconds, counted polls.
quirk_zero_poll_wedge() {
	fresh_emu "$DESC" --timing real
	local t0 t1
	t0=$(ms_now)
	run $(down_args "$TMP/fw.bin")
	t1=$(ms_now)
	[ "$RC" != 0 ] || fail "$NAME: a wedged device was reported flashed"
	grep_err 'wedged'
	[ $((t1 - t0)) -lt 10000 ] || fail "$NAME: giving up took $((t1 - t0)) ms"
	stop_emu
	[ "$(stat_value GETSTATUS)" -le 200 ] || fail "$NAME: $(stat_value GETSTATUS) GETSTATUS requests to a wedged device"
	cmp -s "$MEM" "$TMP/pristine" || fail "$NAME: the wedged device's memory changed"
}
# STM32H7 rev V: an erase past the first MiB ends only with CLRSTATUS.
quirk_busy_until_clrstatus() {
	fresh_emu "$DESC" --timing real
	local far
	far=$(printf '0x%08x' $((ADDR + 0x100000)))
	app_file "$TMP/far.bin" 4096
	expect 0 $(down_args "$TMP/far.bin" "$far") -v
	grep_err 'clearing its status'
	grep_out 'verified'
	region_is "$TMP/far.bin" $((OFFSET + 0x100000))
}
# Erases inside the DNLOAD transfer: seconds in one request, past 5 s.
quirk_erase_in_transfer() {
	fresh_emu "$DESC" --timing real
	app_file "$TMP/small.bin" 4096
	expect 0 $(down_args "$TMP/small.bin")
	region_is "$TMP/small.bin" 0
	stop_emu
	[ "$(stat_value busy_ms)" -ge 5000 ] || fail "$NAME: the in-transfer erase took $(stat_value busy_ms) ms, the check wants one longer than 5 s"
}
# The last status after leave never comes: the tool says why that is fine.
quirk_leave_no_status() {
	start_emu "$DESC"
	expect 0 -a "$ALT" -s "$ADDR:leave" -v
	grep_err 'no status after the leave request'
}
# Busy answers of the real chip (late replies, dfuDNBUSY again, a stalled
# early poll): a download with the real timing goes through.
quirk_busy_timing() {
	fresh_emu "$DESC" --timing real
	app_file "$TMP/small.bin" 2048
	expect 0 $(down_args "$TMP/small.bin")
	grep_out 'File downloaded successfully'
	region_is "$TMP/small.bin"
}
quirk_busy_naks() { quirk_busy_timing; }
quirk_busy_answers_dnbusy() { quirk_busy_timing; }
quirk_busy_stalls_first_poll() { quirk_busy_timing; }
# Programming over old data only ANDs bits: a second image must be erased first.
quirk_write_unerased_ands() {
	[ "$EXPECT" = ok ] || return 0
	start_emu "$DESC"
	app_file "$TMP/fw2.bin" "$SIZE"
	expect 0 $(down_args "$TMP/fw2.bin")
	region_is "$TMP/fw2.bin"
}
# A leave to an address without a vector table: the ROM stays; not "left".
quirk_leave_checks_vector() {
	fresh_emu "$DESC"
	head -c "$SIZE" /dev/zero >"$TMP/novec.bin"
	run -a "$ALT" -s "$ADDR:leave" -D "$TMP/novec.bin"
	[ "$RC" != 0 ] || fail "$NAME: a leave into no application was reported as done"
}

# ---- checks named in expect.tsv ----
check_full_over_old() {
	fresh_emu "$DESC"
	app_file "$TMP/full.bin" "$FULL"
	expect 0 $(down_args "$TMP/full.bin" "$BASE")
	grep_out 'Download done: [0-9]+ bytes, verified'
	region_is "$TMP/full.bin" 0
}
# A region the map advertises writable that the device refuses (its own
# loader, protected pages): the tool fails and nothing there changes.
check_refused_region() {
	local addr=${REFUSED%:*} off=${REFUSED#*:}
	[ "$REFUSED" != - ] || { fail "$NAME: no refused region in alt 0's memory"; return; }
	fresh_emu "$DESC"
	app_file "$TMP/ref.bin" 4096
	run -a "$ALT" -s "$addr" -D "$TMP/ref.bin"
	[ "$RC" != 0 ] || fail "$NAME: a write to the refused region at $addr exited 0"
	[ -s "$TMP/err" ] || fail "$NAME: the refused write has no message"
	cmp -s -i "$off:$off" -n 4096 "$MEM" "$TMP/pristine" || fail "$NAME: the refused region at $addr changed"
}

check_read_protected() {
	fresh_emu "$DESC"
	# RDP level 1: any value but 0xAA in the read-protection byte
	[ "$RDP_OFFSET" != - ] || { fail "$NAME: the description has no read_protection"; return; }
	stop_emu
	printf '\273' | dd of="$MEM" bs=1 seek="$RDP_OFFSET" conv=notrunc status=none
	start_emu "$DESC"
	run -a "$ALT" -s "$ADDR:$SIZE" -U "$TMP/prot.bin"
	[ "$RC" != 0 ] || fail "$NAME: an upload from a read-protected device exited 0"
	grep_err 'read.protect'
	grep_err ':unprotect:force'
	grep_err 'mass-erasing the whole flash'
}

for q in ${QUIRKS//,/ }; do
	[ "$q" = - ] && continue
	f=quirk_${q//-/_}
	if declare -F "$f" >/dev/null; then
		"$f"
	fi
done
while IFS=$'\t' read -r dev check; do
	[ "$dev" = "$NAME" ] && "check_${check//-/_}"
done < <(grep -v '^#' "$HERE/expect.tsv")

finish
