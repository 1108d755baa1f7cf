#!/bin/sh
# Runs in the QEMU guest as /test.sh: for each profile of dfukit-emu, the same
# jobs with dfukit (libusb transport, through vhci-hcd and the kernel's USB
# stack) and with dfu-util 0.11, each on a fresh virtual device. Prints one
# "@@JOB" line per job and exits non-zero when a dfukit job does not do what
# it must (dfu-util's results are recorded as the reference, not judged),
# or when the two tools' -l lines differ.
. /guest-lib.sh
modprobe vhci-hcd || { echo "vhci-hcd: cannot load"; exit 2; }
fail=0
T=/tmp/t
mkdir -p $T
head -c 32768 /dev/urandom >$T/fw.bin
head -c 40000 /dev/urandom >$T/fw-odd.bin

# job TOOL PROFILE JOB EXPECT MEMCHECK -- command...
#   EXPECT: ok | fail; MEMCHECK: "OFFSET LEN FILE" compared with the memory file, or "-"
job() {
	tool=$1 prof=$2 name=$3 expect=$4 memcheck=$5
	shift 6
	t0=$(now_ms)
	"$@" >$T/out 2>&1
	rc=$?
	t1=$(now_ms)
	emu_stop
	mem=-
	if [ "$memcheck" != - ]; then
		set -- $memcheck
		dd if=$MEM of=$T/region bs=1024 skip=$(($1 / 1024)) count=$(($2 / 1024)) 2>/dev/null
		head -c "$2" "$3" >$T/want
		if cmp -s $T/region $T/want; then mem=match; else mem=differ; fi
	fi
	ctl=$(stat_field $STATS control_transfers)
	verdict=ok
	if [ "$tool" = dfukit ]; then
		case "$expect:$rc:$mem" in
		ok:0:match | ok:0:- | fail:[1-9]*:- | fail:[1-9]*:match) ;;
		*) verdict=FAIL; fail=$((fail + 1)); sed 's/^/    | /' $T/out ;;
		esac
	fi
	echo "@@JOB $tool $prof $name rc=$rc expect=$expect mem=$mem ctl=${ctl:-?} ms=$((t1 - t0)) $verdict"
}
fresh() { # PROFILE: a new device with erased memory
	MEM=$T/mem-$1
	STATS=$T/stats.json
	rm -f "$MEM" "$STATS"
	emu_start "$1" "$MEM" "$STATS"
}
again() { # PROFILE: the same memory as the last job
	STATS=$T/stats.json
	rm -f "$STATS"
	emu_start "$1" "$MEM" "$STATS"
}

for prof in stm32f405 stm32f103-flash-loader stm32l476 stm32h743; do
	addr=0x08000000
	[ $prof = stm32f103-flash-loader ] && addr=0x08003000
	off=$((addr - 0x08000000))
	for tool in dfukit dfu-util; do
		fresh $prof
		wait_present 0483:df11 || fail=$((fail + 1))
		$tool -l 2>/dev/null | grep '^Found' >$T/list-$tool-$prof
		emu_stop
		echo "@@JOB $tool $prof list rc=0 lines=$(wc -l <$T/list-$tool-$prof)"

		fresh $prof; wait_present 0483:df11
		job $tool $prof download-raw ok "$off 32768 $T/fw.bin" -- $tool -a 0 -s $addr -D $T/fw.bin
		again $prof; wait_present 0483:df11
		job $tool $prof upload ok - -- $tool -a 0 -s $addr:32768 -U $T/up-$tool-$prof.bin
		if [ $tool = dfukit ]; then
			cmp -s $T/up-$tool-$prof.bin $T/fw.bin || { echo "@@JOB $tool $prof upload-content differ FAIL"; fail=$((fail + 1)); }
		fi
		/bin/dfukit pack -b $addr:$T/fw-odd.bin $T/fw-$prof.dfu >/dev/null
		fresh $prof; wait_present 0483:df11
		job $tool $prof download-dfu ok "$off 39936 $T/fw-odd.bin" -- $tool -a 0 -D $T/fw-$prof.dfu
		fresh $prof; wait_present 0483:df11
		job $tool $prof leave ok - -- $tool -a 0 -s $addr:leave
		cp $T/fw-$prof.dfu $T/bad.dfu
		printf 'XXXX' | dd of=$T/bad.dfu bs=1 seek=300 conv=notrunc 2>/dev/null
		fresh $prof; wait_present 0483:df11
		job $tool $prof bad-file fail - -- $tool -a 0 -D $T/bad.dfu
		if [ $prof = stm32f103-flash-loader ]; then
			fresh $prof; wait_present 0483:df11
			job $tool $prof read-only fail - -- $tool -a 0 -s 0x08000000 -D $T/fw.bin
		fi
	done
	if cmp -s $T/list-dfukit-$prof $T/list-dfu-util-$prof; then
		echo "@@LIST $prof same"
	else
		echo "@@LIST $prof DIFFER FAIL"
		diff $T/list-dfukit-$prof $T/list-dfu-util-$prof
		fail=$((fail + 1))
	fi
done

for tool in dfukit dfu-util; do
	prof=dfu11
	fresh $prof; wait_present 1209:df10
	$tool -l 2>/dev/null | grep '^Found' >$T/list-$tool-$prof
	emu_stop
	echo "@@JOB $tool $prof list rc=0 lines=$(wc -l <$T/list-$tool-$prof)"
	fresh $prof; wait_present 1209:df10
	job $tool $prof detach ok - -- $tool -e
	fresh $prof; wait_present 1209:df10
	job $tool $prof download ok "0 32768 $T/fw.bin" -- $tool -a 0 -D $T/fw.bin
	again $prof; wait_present 1209:df10
	job $tool $prof upload ok - -- $tool -a 0 -U $T/up-$tool-dfu11.bin
	if [ $tool = dfukit ]; then
		head -c 32768 $T/up-$tool-dfu11.bin | cmp -s - $T/fw.bin || { echo "@@JOB $tool $prof upload-content differ FAIL"; fail=$((fail + 1)); }
	fi
done
if cmp -s $T/list-dfukit-dfu11 $T/list-dfu-util-dfu11; then
	echo "@@LIST dfu11 same"
else
	echo "@@LIST dfu11 DIFFER FAIL"
	diff $T/list-dfukit-dfu11 $T/list-dfu-util-dfu11
	fail=$((fail + 1))
fi
echo "@@FAILURES $fail"
[ $fail = 0 ]
