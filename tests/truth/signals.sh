# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Item 5: SIGINT/SIGTERM during a job. The emu answers every control
# transfer 20 ms late from the third data block on (slow fault), so the
# signal lands mid-transfer. dfukit must stop at the next transfer, leave
# the device in dfuIDLE, say what the memory holds, remove its temporary
# output file and exit 130 (SIGINT) or 143 (SIGTERM).
. "$(dirname "$0")/../flash/lib.sh" "$1"

rand_file "$TMP/fw.bin" 200000
mkdir "$TMP/d"

# signal_job SIG ARGS...: runs dfukit ARGS in the background, sends SIG
# once it is under way, waits; status in $RC.
signal_job() {
	local sig=$1
	shift
	"$DFUKIT" "$@" >"$TMP/out" 2>"$TMP/err" &
	local pid=$!
	# Under way: the progress shows the slow phase started.
	wait_line "$TMP/err" '^(download|upload): ' || true
	sleep 0.3
	kill "-$sig" "$pid"
	wait "$pid"
	RC=$?
}

# after_cancel WHAT: the device answers a new job without CLRSTATUS (it
# was left in dfuIDLE, not dfuERROR) and the message says so.
after_cancel() {
	no_err 'did not return to dfuIDLE'
	local before after
	before=$(stat_value CLRSTATUS)
	[ -n "$before" ] || fail "$1: no CLRSTATUS count in the emu's stats"
	run -a 0 -s 0x08000000:16 -U "$TMP/d/probe.bin"
	[ "$RC" = 0 ] || fail "$1: the device does not answer after the cancel: $(cat "$TMP/err")"
	rm -f "$TMP/d/probe.bin"
	sleep 0.2
	after=$(stat_value CLRSTATUS)
	[ "$before" = "$after" ] || fail "$1: the device needed CLRSTATUS after the cancel ($before -> $after)"
}

no_temp() {
	local left
	left=$(find "$TMP/d" -name '.*' -type f)
	[ -z "$left" ] || fail "$1: temporary files left: $left"
}

for sig in INT TERM; do
	code=130
	[ "$sig" = TERM ] && code=143

	# Mid-download.
	fresh_emu stm32f405 --fault slow=20@dnblock=2
	signal_job "$sig" -a 0 -s 0x08000000 -D "$TMP/fw.bin"
	[ "$RC" = "$code" ] || fail "SIG$sig mid-download: exit $RC, expected $code: $(tail -n2 "$TMP/err")"
	grep_err "interrupted by SIG$sig: cancelled while (writing|erasing)"
	grep_err 'written|erased'
	no_out 'File downloaded successfully'
	after_cancel "SIG$sig mid-download"

	# Mid-upload into a new file: no file, no temporary file.
	fresh_emu stm32f405 --fault slow=20@upblock=2
	signal_job "$sig" -a 0 -s 0x08000000:200000 -U "$TMP/d/up.bin"
	[ "$RC" = "$code" ] || fail "SIG$sig mid-upload: exit $RC, expected $code: $(tail -n2 "$TMP/err")"
	grep_err "interrupted by SIG$sig: .*cancelled after"
	[ -e "$TMP/d/up.bin" ] && fail "SIG$sig mid-upload: a partial up.bin exists"
	no_temp "SIG$sig mid-upload"
	# Replacing an existing file: it stays as it was.
	echo keep >"$TMP/d/old.bin"
	signal_job "$sig" -a 0 -s 0x08000000:200000 -U "$TMP/d/old.bin" --force
	[ "$RC" = "$code" ] || fail "SIG$sig mid-upload (--force): exit $RC"
	[ "$(cat "$TMP/d/old.bin")" = keep ] || fail "SIG$sig mid-upload: the existing file changed"
	no_temp "SIG$sig mid-upload --force"
	after_cancel "SIG$sig mid-upload"
done

# A second signal exits at once (the first one's cleanup is cut short).
fresh_emu stm32f405 --fault slow=300@dnblock=2
"$DFUKIT" -a 0 -s 0x08000000 -D "$TMP/fw.bin" >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_line "$TMP/err" '^download: ' || true
kill -INT "$pid"
sleep 0.05
kill -INT "$pid"
wait "$pid"
RC=$?
[ "$RC" = 130 ] || fail "second SIGINT: exit $RC"
grep_err 'interrupted again'

finish
