#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Runs in the QEMU guest as /test.sh: for each profile of dfukit-emu, the same
# jobs with dfukit (libusb transport, through vhci-hcd and the kernel's USB
# stack) and with dfu-util 0.11, each on a fresh virtual device. Prints one
# "@@JOB" line per job (exit code, device memory check, the emulator's
# --stats) and exits non-zero when a dfukit job does not do what it must, or
# when the two tools' -l lines differ for the same device. dfu-util's results
# are recorded as the reference ("ref" instead of a verdict), not judged.
. /guest-lib.sh
modprobe vhci-hcd || {
	echo "vhci-hcd: cannot load"
	exit 2
}
fail=0
T=/tmp/t
mkdir -p $T
# An application image: its vector table starts with an initial stack
# pointer in SRAM (0x20001000), which a ROM bootloader checks before it jumps
# to it on leave; the rest is random.
{
	printf '\000\020\000\040'
	head -c 32764 /dev/urandom
} >$T/fw.bin
# Not a multiple of any page or transfer size: the tail block is short.
head -c 40000 /dev/urandom >$T/fw-odd.bin

flunk() { # WHAT: one dfukit failure
	echo "@@FAIL $*"
	fail=$((fail + 1))
}

# fresh PROFILE VID:PID: a new device with erased memory
fresh() {
	MEM=$T/mem-$1
	STATS=$T/stats-$1.json
	rm -f "$MEM" "$STATS"
	emu_start "$1" "$MEM" "$STATS"
	wait_present "$2"
}
# again PROFILE VID:PID: the same memory as the last job
again() {
	STATS=$T/stats-$1.json
	rm -f "$STATS"
	emu_start "$1" "$MEM" "$STATS"
	wait_present "$2"
}

# job UP TOOL PROFILE NAME EXPECT MEMCHECK POST -- command...
#   UP       0 when the device appeared (the status of fresh/again)
#   EXPECT   ok | fail (non-zero exit)
#   MEMCHECK "OFFSET LEN FILE": LEN bytes of the memory file at OFFSET equal FILE's
#            first LEN bytes; "same": the memory is what a fresh device has; "-"
#   POST     checked before the device is stopped: "gone VID:PID" (it left the
#            bus), "present VID:PID" (it re-enumerated as that), or "-"
job() {
	up=$1 tool=$2 prof=$3 name=$4 expect=$5 memcheck=$6 post=$7
	shift 8
	t0=$(now_ms)
	rc=-
	if [ "$up" = 0 ]; then
		"$@" >$T/out 2>&1
		rc=$?
	else
		echo "the device did not appear" >$T/out
	fi
	t1=$(now_ms)
	after=-
	case "$post" in
	gone\ *) if wait_gone "${post#gone }" 50; then after=gone; else after=still-there; fi ;;
	present\ *) if wait_present "${post#present }" 50 2>/dev/null; then after=present; else after=missing; fi ;;
	esac
	emu_stop
	mem=-
	case "$memcheck" in
	-) ;;
	same) if cmp -s "$MEM" $T/pristine-$prof; then mem=same; else mem=changed; fi ;;
	*)
		set -- $memcheck
		mem_region "$MEM" "$1" "$2" $T/region
		head -c "$2" "$3" >$T/want
		if cmp -s $T/region $T/want; then mem=match; else mem=differ; fi
		;;
	esac
	ctl=$(stat_field "$STATS" control_transfers)
	verdict=ref
	if [ "$tool" = dfukit ]; then
		verdict=ok
		case "$expect:$rc" in ok:0 | fail:[1-9]*) ;; *) verdict=FAIL ;; esac
		case "$mem" in differ | changed) verdict=FAIL ;; esac
		case "$after" in still-there | missing) verdict=FAIL ;; esac
	fi
	echo "@@JOB $tool $prof $name rc=$rc expect=$expect mem=$mem after=$after ctl=${ctl:-?} ms=$((t1 - t0)) $verdict"
	echo "@@STATS $tool $prof $name $(cat "$STATS" 2>/dev/null)"
	if [ $verdict = FAIL ]; then
		flunk "$tool $prof $name"
		sed 's/^/    | /' $T/out | tail -25
	elif [ "$expect:$rc" != ok:0 ] && [ "$rc" = 0 -o "$expect" = ok ]; then
		# The reference did not do what was expected: keep its words.
		sed 's/^/    | /' $T/out | tail -8
	fi
}

# list PROFILE VID:PID LABEL: both tools list the same enumeration of the
# device; their "Found" lines must be equal.
list() {
	dfukit -l >$T/list-dfukit 2>&1
	rk=$?
	dfu-util -l >$T/list-dfu-util 2>&1
	ru=$?
	grep '^Found' $T/list-dfukit >$T/found-dfukit
	grep '^Found' $T/list-dfu-util >$T/found-dfu-util
	n=$(wc -l <$T/found-dfukit)
	if [ $rk = 0 ] && [ "$n" -gt 0 ] && cmp -s $T/found-dfukit $T/found-dfu-util; then
		echo "@@LIST $1 $3 same lines=$n rc=$rk/$ru"
	else
		echo "@@LIST $1 $3 DIFFER lines=$n rc=$rk/$ru FAIL"
		diff $T/found-dfukit $T/found-dfu-util
		flunk "list $1 $3"
	fi
}

for prof in stm32f405 stm32f103-flash-loader stm32l476 stm32h743; do
	addr=0x08000000
	leave_post="gone 0483:df11"
	if [ $prof = stm32f103-flash-loader ]; then
		# The loader's own first 12 KiB are read-only.
		addr=0x08003000
		leave_post="present 0483:5740"
	fi
	off=$((addr - 0x08000000))
	fresh $prof 0483:df11 || flunk "$prof did not appear"
	list $prof 0483:df11 dfu-mode
	emu_stop
	cp $T/mem-$prof $T/pristine-$prof
	dfukit pack -b $addr:$T/fw-odd.bin $T/fw-$prof.dfu >/dev/null || flunk "dfukit pack $prof"
	cp $T/fw-$prof.dfu $T/bad-$prof.dfu
	# Inside the image: the suffix CRC no longer matches.
	printf 'XXXX' | dd of=$T/bad-$prof.dfu bs=1 seek=300 conv=notrunc 2>/dev/null
	for tool in dfukit dfu-util; do
		fresh $prof 0483:df11
		job $? $tool $prof download-raw ok "$off 32768 $T/fw.bin" - -- $tool -a 0 -s $addr -D $T/fw.bin
		again $prof 0483:df11
		rm -f $T/up.bin
		job $? $tool $prof upload ok "$off 32768 $T/fw.bin" - -- $tool -a 0 -s $addr:32768 -U $T/up.bin
		if cmp -s $T/up.bin $T/fw.bin; then
			echo "@@JOB $tool $prof upload-content match"
		else
			echo "@@JOB $tool $prof upload-content differ"
			[ $tool = dfukit ] && flunk "$tool $prof upload-content"
		fi
		# The memory now holds an application: leave starts it.
		again $prof 0483:df11
		job $? $tool $prof leave ok "$off 32768 $T/fw.bin" "$leave_post" -- $tool -a 0 -s $addr:leave
		fresh $prof 0483:df11
		job $? $tool $prof download-dfu ok "$off 40000 $T/fw-odd.bin" - -- $tool -a 0 -D $T/fw-$prof.dfu
		fresh $prof 0483:df11
		job $? $tool $prof bad-file fail same - -- $tool -a 0 -D $T/bad-$prof.dfu
		if [ $prof = stm32f103-flash-loader ]; then
			fresh $prof 0483:df11
			job $? $tool $prof read-only fail same - -- $tool -a 0 -s 0x08000000 -D $T/fw.bin
		fi
	done
done

# Plain DFU 1.1, starting in run-time mode (1209:df10 -> 1209:df11).
prof=dfu11
# A raw image with a DFU suffix (any device): dfukit pack makes DfuSe files,
# which a plain DFU device does not take. Named .bin, not .dfu: dfukit
# reads any *.dfu as DfuSe (lib/firmware.c), dfu-util does not.
cp $T/fw.bin $T/fw-dfu11.bin
dfukit suffix -a $T/fw-dfu11.bin >/dev/null || flunk "dfukit suffix"
cp $T/fw-dfu11.bin $T/bad-dfu11.bin
printf 'XXXX' | dd of=$T/bad-dfu11.bin bs=1 seek=300 conv=notrunc 2>/dev/null
fresh $prof 1209:df10 || flunk "$prof did not appear"
list $prof 1209:df10 runtime
emu_stop
cp $T/mem-$prof $T/pristine-$prof
for tool in dfukit dfu-util; do
	fresh $prof 1209:df10
	job $? $tool $prof detach ok same "present 1209:df11" -- $tool -e
	if [ $tool = dfukit ]; then
		# The same device, now in DFU mode: list it with both tools.
		again $prof 1209:df10
		dfukit -e >/dev/null 2>&1
		if wait_present 1209:df11 50; then list $prof 1209:df11 dfu-mode; else flunk "$prof no DFU mode after -e"; fi
		emu_stop
	fi
	fresh $prof 1209:df10
	job $? $tool $prof download-raw ok "0 32768 $T/fw.bin" - -- $tool -a 0 -D $T/fw.bin
	again $prof 1209:df10
	rm -f $T/up.bin
	job $? $tool $prof upload ok "0 32768 $T/fw.bin" - -- $tool -a 0 -U $T/up.bin
	# An upload returns what the last download of this run wrote, or the
	# whole memory: the first 32 KiB must be the image.
	if head -c 32768 $T/up.bin | cmp -s - $T/fw.bin; then
		echo "@@JOB $tool $prof upload-content match"
	else
		echo "@@JOB $tool $prof upload-content differ"
		[ $tool = dfukit ] && flunk "$tool $prof upload-content"
	fi
	fresh $prof 1209:df10
	job $? $tool $prof download-suffixed ok "0 32768 $T/fw.bin" - -- $tool -a 0 -D $T/fw-dfu11.bin
	fresh $prof 1209:df10
	job $? $tool $prof bad-file fail same - -- $tool -a 0 -D $T/bad-dfu11.bin
done
# Several devices on vhci-hcd (one emulator, --count 3, a memory file each):
# dfukit --all flashes them all at once through libusb, one thread and one
# libusb context each, every device found again by its port path.
mkdir -p $T/many
rm -f $T/many/*
/bin/dfukit-emu --profile stm32f405 --count 3 --memory $T/many --attach-vhci 2>>/tmp/emu.log &
EMU_PID=$!
i=0
while [ "$(count_present 0483:df11)" -lt 3 ] && [ $i -lt 150 ]; do
	sleep 0.1
	i=$((i + 1))
done
n=$(count_present 0483:df11)
if [ "$n" -lt 3 ]; then
	flunk "all-3: $n of 3 devices appeared"
else
	dfukit --all -a 0 -s 0x08000000 -D $T/fw.bin >$T/all.out 2>&1
	rc=$?
	echo "@@ALL dfukit --all on 3 devices: exit $rc, $(grep '^Summary' $T/all.out)"
	[ $rc = 0 ] && grep -q '^Summary: 3 passed, 0 failed' $T/all.out || {
		tail -5 $T/all.out
		flunk "all-3: dfukit --all"
	}
fi
emu_stop
k=0
for f in $T/many/*.mem; do
	head -c 32768 "$f" | cmp -s - $T/fw.bin || flunk "all-3: $f does not hold the image"
	k=$((k + 1))
done
[ $k = 3 ] || flunk "all-3: $k memory files, expected 3"

[ $fail = 0 ] || sed 's/^/    emu| /' /tmp/emu.log | tail -20
echo "@@FAILURES $fail"
[ $fail = 0 ]
