#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Runs in the QEMU guest as /test.sh: devices of the zoo (emu/zoo/*.json,
# copied to /zoo with a plan made by tests/vm/zoo-plan.py) on vhci-hcd, each
# job done by dfukit and by dfu-util 0.11 on a fresh copy of the device, with
# the device's real timing (--timing real). Prints one line per job,
#   "@@ZOO DEVICE JOB TOOL rc=N mem=M after=A ms=T VERDICT"
# for tests/vm/zoo-table.sh's fidelity table, and exits non-zero when dfukit
# does not do what the plan says it must. dfu-util's results are recorded,
# not judged ("ref").
#
# A plan line: NAME PROTO START_ID DFU_ID ALT ADDR OFFSET SIZE EXPECT AFTER_LEAVE ...
#   PROTO dfu|dfuse; START_ID the VID:PID at power-on, DFU_ID in DFU mode;
#   ADDR the DfuSe address written ("-" for plain DFU), OFFSET its offset in
#   the memory file, SIZE the image size; EXPECT ok|fail: dfukit's download;
#   AFTER_LEAVE "gone" or the VID:PID the device comes back as after leave.
. /guest-lib.sh
modprobe vhci-hcd || {
	echo "vhci-hcd: cannot load"
	exit 2
}
fail=0
T=/tmp/z
mkdir -p $T

flunk() {
	echo "@@FAIL $*"
	fail=$((fail + 1))
}

# start NAME ID: the device from its description, its memory kept in $MEM
start() {
	rm -f $T/stats.json
	/bin/dfukit-emu --device "/zoo/$1.json" --memory "$MEM" --stats $T/stats.json --timing real \
		--attach-vhci </dev/null 2>>/tmp/emu.log &
	EMU_PID=$!
	wait_present "$2"
}

# image SIZE: an application (initial stack pointer in SRAM, which ROMs that
# check the vector table before leaving want), the rest random.
image() {
	{
		printf '\000\020\000\040'
		head -c $(($1 - 4)) /dev/urandom
	} >$T/fw.bin
}

# run DEVICE JOB TOOL EXPECT MEMCHECK AFTER -- command...
#   EXPECT ok|fail|any; MEMCHECK "image" (the region holds fw.bin), "same"
#   (the memory is untouched) or "-"; AFTER "gone", a VID:PID that must be
#   present after the command, or "-".
# (guest-lib.sh's functions use d, dev, bus and i: the names here differ.)
run() {
	zdev=$1 zjob=$2 tool=$3 expect=$4 memcheck=$5 post=$6
	shift 7
	t0=$(now_ms)
	# Bounded: a tool that never gives up on a device fails its job, not the run.
	timeout 120 "$@" >$T/out 2>&1 </dev/null
	rc=$?
	t1=$(now_ms)
	after=-
	case "$post" in
	-) ;;
	gone) if wait_gone "$DFU_ID" 50; then after=gone; else after=still-there; fi ;;
	*) if wait_present "$post" 50 2>/dev/null; then after=present; else after=missing; fi ;;
	esac
	emu_stop
	mem=-
	case "$memcheck" in
	image)
		mem_region "$MEM" "$OFFSET" "$SIZE" $T/region
		if cmp -s $T/region $T/fw.bin; then mem=match; else mem=differ; fi
		;;
	same) if cmp -s "$MEM" $T/pristine; then mem=same; else mem=changed; fi ;;
	esac
	verdict=ref
	if [ "$tool" = dfukit ]; then
		verdict=ok
		case "$expect:$rc" in ok:0 | fail:[1-9]* | any:*) ;; *) verdict=FAIL ;; esac
		[ "$expect" = ok ] && case "$mem" in differ | changed) verdict=FAIL ;; esac
		case "$after" in still-there | missing) verdict=FAIL ;; esac
	fi
	# The last line the tool printed, for the table (dfu-util's errors too).
	last=$(grep -v '^ *$' $T/out | tail -1 | tr -s ' \t' '  ' | cut -c1-100)
	echo "@@ZOO $zdev $zjob $tool rc=$rc mem=$mem after=$after ms=$((t1 - t0)) $verdict"
	echo "@@ZOOMSG $zdev $zjob $tool $last"
	if [ $verdict = FAIL ]; then
		flunk "$tool $zdev $zjob"
		sed 's/^/    | /' $T/out | tail -20
	fi
}

while read -r NAME PROTO START_ID DFU_ID ALT ADDR OFFSET SIZE EXPECT AFTER_LEAVE _; do
	case "$NAME" in '' | '#'*) continue ;; esac
	MEM=$T/mem-$NAME
	rm -f "$MEM"
	image "$SIZE"
	# -l: both tools list the same interfaces of the device as it powers on.
	if start "$NAME" "$START_ID"; then
		dfukit -l >$T/l-dfukit 2>&1 </dev/null
		rk=$?
		dfu-util -l >$T/l-dfu-util 2>&1 </dev/null
		ru=$?
		grep '^Found' $T/l-dfukit >$T/f-dfukit
		grep '^Found' $T/l-dfu-util >$T/f-dfu-util
		n=$(wc -l <$T/f-dfukit)
		if [ $rk = 0 ] && [ "$n" -gt 0 ] && cmp -s $T/f-dfukit $T/f-dfu-util; then
			echo "@@ZOO $NAME list both rc=$rk/$ru lines=$n same"
		else
			echo "@@ZOO $NAME list both rc=$rk/$ru lines=$n DIFFER"
			diff $T/f-dfukit $T/f-dfu-util
			flunk "list $NAME"
		fi
	else
		flunk "$NAME did not appear"
	fi
	emu_stop
	cp "$MEM" $T/pristine
	if [ "$PROTO" = dfuse ]; then
		down="-a $ALT -s $ADDR -D $T/fw.bin"
		up="-a $ALT -s $ADDR:$SIZE -U $T/up.bin"
		leave="-a $ALT -s $ADDR:leave"
	else
		down="-a $ALT -D $T/fw.bin"
		# A plain DFU upload reads the whole memory (the image is its start).
		up="-a $ALT -U $T/up.bin"
		leave="-a $ALT -D $T/fw.bin -R"
	fi
	upexpect=ok
	[ "$EXPECT" = ok ] || upexpect=any
	for tool in dfukit dfu-util; do
		rm -f "$MEM"
		cp $T/pristine "$MEM"
		if [ "$EXPECT" = ok ]; then memcheck=image; else memcheck=-; fi
		start "$NAME" "$START_ID" && run "$NAME" download $tool "$EXPECT" $memcheck - -- $tool $down
		rm -f $T/up.bin
		# The upload reads what the download left (the memory is kept).
		start "$NAME" "$START_ID" && run "$NAME" upload $tool $upexpect - - -- $tool $up
		if [ "$EXPECT" = ok ]; then
			if head -c "$SIZE" $T/up.bin | cmp -s - $T/fw.bin; then
				echo "@@ZOO $NAME upload-content $tool match"
			else
				echo "@@ZOO $NAME upload-content $tool differ"
				[ $tool = dfukit ] && flunk "$tool $NAME upload-content"
			fi
		fi
		# Leaving erases nothing: a device whose erases fail still leaves.
		start "$NAME" "$START_ID" && run "$NAME" leave $tool ok - "$AFTER_LEAVE" -- $tool $leave
	done
done </zoo/plan.txt

[ $fail = 0 ] || sed 's/^/    emu| /' /tmp/emu.log | tail -20
echo "@@FAILURES $fail"
[ $fail = 0 ]
