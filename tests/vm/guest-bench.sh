#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# Runs in the QEMU guest (see bench/vs-dfu-util.sh): the same jobs with dfukit
# and dfu-util 0.11 through vhci-hcd, each on a fresh dfukit-emu, printing
#   "@@BENCH job tool control_transfers wall_ms busy_ms rc ok"
# control_transfers is the emulator's total for the run; bench/vs-dfu-util.sh
# subtracts what the same device costs with no tool at all (enumeration, and
# the detach into DFU mode for dfu11), measured first as "@@BASE profile N".
# wall_ms is the median of $REPS rounds (the tools alternate in each); ok
# says whether the device memory holds the image afterwards (or the
# read-out equals it).
. /guest-lib.sh
modprobe vhci-hcd || exit 2
REPS=5
T=/tmp/b
mkdir -p $T

# PROFILE VIDPID TIMING [DFU_VIDPID]: a fresh device (its memory a copy of
# $MEMSRC when set, else erased), in DFU mode when it starts in run-time
# mode (detached here, not in the timed part: dfu-util sleeps 5 s after a
# detach by default, which would say nothing about DFU).
MEMSRC=
device() {
	rm -f $T/mem $T/stats.json
	[ -n "$MEMSRC" ] && cp "$MEMSRC" $T/mem
	emu_start "$1" $T/mem $T/stats.json --timing "$3"
	wait_present "$2" || return 1
	if [ -n "$4" ]; then
		dfukit -e >/dev/null 2>&1
		wait_present "$4" || return 1
	fi
}
base() { # PROFILE VIDPID TIMING [DFU_VIDPID] -> @@BASE
	device "$@"
	emu_stop
	echo "@@BASE $1 $(stat_field $T/stats.json control_transfers)"
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# bench JOB TOOL PROFILE VIDPID TIMING DFU_VIDPID CHECK -- command...
#   CHECK: "mem OFFSET LEN FILE" or "file OUT LEN FILE"
check_args() { ck_kind=$1 ck_a=$2 ck_len=$3 ck_file=$4; }
# run JOB TOOL PROFILE VIDPID TIMING DFU_VIDPID CHECK -- command...: one timed
# run; its time is added to $T/times-JOB-TOOL, its other results kept.
#   CHECK: "mem OFFSET LEN FILE" or "file OUT LEN FILE"
run() {
	jobname=$1 tool=$2 prof=$3 vidpid=$4 timing=$5 dfuid=$6
	check_args $7
	shift 8
	device $prof $vidpid $timing $dfuid || echo "no device" >&2
	[ $ck_kind = file ] && rm -f "$ck_a"
	t0=$(now_ms)
	"$@" >$T/out 2>&1
	rc=$?
	t1=$(now_ms)
	emu_stop
	echo $((t1 - t0)) >>$T/times-$jobname-$tool
	case $ck_kind in
	mem) mem_region $T/mem "$ck_a" "$ck_len" $T/got ;;
	file) head -c "$ck_len" "$ck_a" >$T/got ;;
	esac
	head -c "$ck_len" "$ck_file" >$T/want
	ok=yes
	[ $rc = 0 ] && cmp -s $T/got $T/want || ok=no
	[ $rc = 0 ] || sed 's/^/    | /' $T/out | tail -3
	ctl=$(stat_field $T/stats.json control_transfers)
	echo "@@RUN $jobname $tool rc=$rc ms=$((t1 - t0)) ctl=$ctl ok=$ok"
	echo "$ctl $(stat_field $T/stats.json busy_ms) $rc $ok" >$T/last-$jobname-$tool
}
summary() { # JOB TOOL -> @@BENCH (transfers, busy, exit and check of the last run)
	set -- "$1" "$2" $(cat $T/last-$1-$2)
	echo "@@BENCH $1 $2 $3 $(median <$T/times-$1-$2) $4 $5 $6"
}
# bench JOB "TOOLS" PROFILE VIDPID TIMING DFU_VIDPID CHECK ARGS...: $REPS
# rounds, the tools alternating within each round; "cmd TOOL" gives the
# command line of a tool, ARGS follow it.
bench() {
	b_job=$1 b_tools=$2 b_prof=$3 b_id=$4 b_timing=$5 b_dfuid=$6 b_check=$7
	shift 7
	for r in $(seq $REPS); do
		for tool in $b_tools; do
			run $b_job $tool $b_prof $b_id $b_timing "$b_dfuid" "$b_check" -- $(cmd $tool) "$@"
		done
	done
	for tool in $b_tools; do summary $b_job $tool; done
}
cmd() {
	case $1 in
	dfukit) echo dfukit --no-verify ;; # dfu-util does not verify
	dfukit-verify) echo dfukit ;;      # dfukit's default: read back and compare
	*) echo "$1" ;;
	esac
}

# An application image (SRAM stack pointer first), 256 KiB.
{
	printf '\000\020\000\040'
	head -c 262140 /dev/urandom
} >$T/fw256.bin

base stm32f405 0483:df11 real
bench dfuse-download-256k "dfu-util dfukit dfukit-verify" stm32f405 0483:df11 real "" "mem 0 262144 $T/fw256.bin" \
	-a 0 -s 0x08000000 -D $T/fw256.bin

# The whole 1 MiB flash of a device whose memory holds a known image.
device stm32f405 0483:df11 fast
emu_stop
head -c 1048576 /dev/urandom >$T/flash1m.bin
cp $T/mem $T/mem-1m
dd if=$T/flash1m.bin of=$T/mem-1m conv=notrunc 2>/dev/null
MEMSRC=$T/mem-1m
bench readout-1m "dfu-util dfukit" stm32f405 0483:df11 fast "" "file $T/up.bin 1048576 $T/flash1m.bin" \
	-a 0 -s 0x08000000:1048576 -U $T/up.bin
MEMSRC=

# Plain DFU 1.1: 256 KiB, or the whole flash of alt 0 when it is smaller
# (a fresh device uploads its whole memory).
device dfu11 1209:df10 real 1209:df11
dfukit -a 0 -U $T/whole.bin >/dev/null 2>&1
emu_stop
size=$(wc -c <$T/whole.bin)
[ "$size" -gt 262144 ] && size=262144
echo "@@DFU11-SIZE $size"
head -c $size $T/fw256.bin >$T/fw-dfu11.bin
base dfu11 1209:df10 real 1209:df11
bench dfu11-download-$((size / 1024))k "dfu-util dfukit" dfu11 1209:df10 real 1209:df11 "mem 0 $size $T/fw-dfu11.bin" \
	-a 0 -D $T/fw-dfu11.bin
echo "@@BENCH-END"
