#!/bin/sh
# Runs in the QEMU guest (see bench/vs-dfu-util.sh): the same jobs with dfukit
# and dfu-util 0.11 through vhci-hcd, each on a fresh dfukit-emu, printing
# "@@BENCH job tool control_transfers wall_ms busy_ms rc" lines.
. /guest-lib.sh
modprobe vhci-hcd || exit 2
T=/tmp/b
mkdir -p $T
head -c 262144 /dev/urandom >$T/fw256.bin
bench() { # JOB TOOL PROFILE VIDPID TIMING -- command...
	jobname=$1 tool=$2 prof=$3 vidpid=$4 timing=$5
	shift 6
	rm -f $T/stats.json
	[ -f $T/mem-$prof ] || rm -f $T/mem-$prof
	emu_start "$prof" $T/mem-$prof $T/stats.json --timing "$timing"
	wait_present "$vidpid" || return 1
	t0=$(now_ms)
	"$@" >$T/out 2>&1
	rc=$?
	t1=$(now_ms)
	emu_stop
	[ $rc = 0 ] || sed 's/^/    | /' $T/out | tail -5
	echo "@@BENCH $jobname $tool $(stat_field $T/stats.json control_transfers) $((t1 - t0)) $(stat_field $T/stats.json busy_ms) $rc"
}
for tool in dfu-util dfukit dfukit-verify; do
	cmd=$tool; extra=
	case $tool in dfukit) extra=--no-verify ;; dfukit-verify) cmd=dfukit ;; esac
	rm -f $T/mem-stm32f405
	bench dfuse-download-256k $tool stm32f405 0483:df11 real -- $cmd $extra -a 0 -s 0x08000000 -D $T/fw256.bin
done
for tool in dfu-util dfukit; do
	# The flash now holds the 256 KiB image; read 1 MiB back.
	rm -f $T/up.bin
	bench readout-1m $tool stm32f405 0483:df11 fast -- $tool -a 0 -s 0x08000000:1048576 -U $T/up.bin
done
for tool in dfu-util dfukit; do
	extra=
	[ $tool = dfukit ] && extra=--no-verify
	rm -f $T/mem-dfu11
	bench dfu11-download-256k $tool dfu11 1209:df10 real -- $tool $extra -a 0 -D $T/fw256.bin
done
echo "@@BENCH-END"
