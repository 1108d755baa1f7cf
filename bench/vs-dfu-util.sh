#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) dfukit contributors
# The headline benchmark: in one QEMU boot, the same jobs with dfukit and
# dfu-util 0.11 through Linux's vhci-hcd and libusb, on dfukit-emu
# (tests/vm/guest-bench.sh). Prints a Markdown table: job, tool, control
# transfers (dfukit-emu --stats, enumeration excluded), wall time (median of
# 5), and the dfukit / dfu-util ratios; exits non-zero when a dfukit job
# fails or leaves wrong data. Usage: bench/vs-dfu-util.sh [BUILD_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$HERE/../build}" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash "$HERE/../tests/vm/vm-test.sh" "$BUILD" "$HERE/../tests/vm/guest-bench.sh" >"$log" 2>&1 || {
	tail -30 "$log" >&2
	exit 1
}
grep -q '^@@BENCH-END' "$log" || {
	tail -30 "$log" >&2
	echo "vs-dfu-util: the guest did not finish the benchmark" >&2
	exit 1
}
kver=$(cat "$BUILD/vm-cache/kver")
echo "$("$BUILD/dfukit" -V 2>/dev/null | head -1 | awk '{print $1, $2}') vs $(dfu-util -V 2>/dev/null | head -1)," \
	"Linux $kver vhci-hcd under QEMU/TCG (1 vCPU), dfukit-emu; $(date -u +%Y-%m-%d)"
echo
grep -E '^@@(BENCH|BASE) ' "$log" | awk '
$1 == "@@BASE" { base[$2] = $3; next }
{ job = $2; tool = $3; ctl[job, tool] = $4; ms[job, tool] = $5; busy[job, tool] = $6; rc[job, tool] = $7; ok[job, tool] = $8
  prof[job] = job ~ /^dfu11/ ? "dfu11" : "stm32f405"
  if (!(job in seen)) { seen[job] = 1; order[n++] = job } }
END {
  printf "| job | tool | control transfers | wall time (ms) | ratio transfers | ratio time | device busy (ms) | exit | data ok |\n"
  printf "|---|---|---:|---:|---:|---:|---:|---:|---|\n"
  bad = 0
  for (i = 0; i < n; i++) {
    j = order[i]; b = base[prof[j]] + 0
    for (t = 0; t < 3; t++) {
      tool = t == 0 ? "dfu-util" : (t == 1 ? "dfukit" : "dfukit-verify")
      if (!((j, tool) in ctl)) continue
      c = ctl[j, tool] - b; cu = ctl[j, "dfu-util"] - b
      rctl = rtime = "1.00"
      if (tool != "dfu-util" && (rc[j, "dfu-util"] != 0 || ok[j, "dfu-util"] != "yes")) {
        # The reference failed: there is nothing to compare with.
        rctl = rtime = "n/a"; refbad = 1
        if (rc[j, tool] != 0 || ok[j, tool] != "yes") bad++
      } else if (tool != "dfu-util") {
        rctl = cu > 0 ? sprintf("%.2f", c / cu) : "n/a"
        rtime = ms[j, "dfu-util"] > 0 ? sprintf("%.2f", ms[j, tool] / ms[j, "dfu-util"]) : "n/a"
        if (rc[j, tool] != 0 || ok[j, tool] != "yes") bad++
      }
      printf "| %s | %s | %d | %d | %s | %s | %s | %s | %s |\n", j, tool, c, ms[j, tool], rctl, rtime, busy[j, tool], rc[j, tool], ok[j, tool]
    }
  }
  printf "\nControl transfers exclude what the device costs with no tool (enumeration; for dfu11 also the detach into DFU mode, done before the timer starts):"
  for (p in base) printf " %s %d", p, base[p]
  if (refbad) printf ". n/a: dfu-util failed that job (its exit code is shown), so there is nothing to compare with"
  printf ". Wall time: median of 5 runs of the whole command. dfukit runs with --no-verify, as dfu-util does not verify; dfukit-verify is dfukit'"'"'s default (read back and compare).\n"
  exit bad != 0
}'
