#!/bin/bash
# The headline benchmark: in one QEMU boot, the same jobs with dfukit and
# dfu-util 0.11 through Linux's vhci-hcd and libusb, on dfukit-emu.
# Prints: job, tool, control transfers (dfukit-emu --stats), wall time, and
# the dfukit / dfu-util ratios. Usage: bench/vs-dfu-util.sh [BUILD_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$HERE/../build}" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash "$HERE/../tests/vm/vm-test.sh" "$BUILD" "$HERE/../tests/vm/guest-bench.sh" >"$log" 2>&1 || {
	tail -30 "$log" >&2
	exit 1
}
grep '^@@BENCH ' "$log" | awk '
{ job=$2; tool=$3; ctl[job, tool]=$4; ms[job, tool]=$5; busy[job, tool]=$6; rc[job, tool]=$7
  if (!(job in seen)) { seen[job]=1; order[n++]=job } }
END {
  printf "| job | tool | control transfers | wall time (ms) | device busy (ms) | exit | ratio ctl | ratio time |\n"
  printf "|---|---|---:|---:|---:|---:|---:|---:|\n"
  for (i = 0; i < n; i++) {
    j = order[i]
    for (t = 0; t < 3; t++) {
      tool = t == 0 ? "dfu-util" : (t == 1 ? "dfukit" : "dfukit-verify")
      if (!((j, tool) in ctl)) continue
      rctl = rtime = "1.00"
      if (tool != "dfu-util" && ctl[j, "dfu-util"] > 0) {
        rctl = sprintf("%.2f", ctl[j, tool] / ctl[j, "dfu-util"])
        rtime = sprintf("%.2f", ms[j, tool] / ms[j, "dfu-util"])
      }
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", j, tool, ctl[j, tool], ms[j, tool], busy[j, tool], rc[j, tool], rctl, rtime
    }
  }
}'
